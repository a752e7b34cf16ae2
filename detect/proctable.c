/* SPDX-License-Identifier: Apache-2.0 */
#include "syscalls.h"
#include "proctable.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"

#define NIL UINT32_MAX
#define DELETED_SUFFIX " (deleted)"
/* Keeps slot numbers and the doubled bucket count within 32 bits. */
#define CAPACITY_MAX (UINT32_MAX / 4)

/*
 * Entries live in a fixed array of slots and never move, so pointers handed
 * out stay valid until the entry itself goes. An open-addressing index
 * (linear probing, at most half full) maps a tgid to its slot. Used slots
 * are chained in update order (head: least recently updated) for eviction;
 * released slots are chained through next.
 */
struct slot {
	struct shk_proc p;
	uint32_t prev, next;
	bool used;
};

struct shk_proctable {
	struct slot *slots;
	uint32_t *index; /* slot number or NIL */
	size_t capacity, size;
	uint32_t mask, shift;
	uint32_t lru_head, lru_tail, free_head;
	/* Slots from here on were never used. Handing them out in order
	 * leaves the pages of a large, mostly empty table untouched. */
	uint32_t fresh;
	uint64_t tick_ns; /* procfs start-time granularity */
	uint64_t evictions, misses, stale;
	struct shk_containers *containers; /* borrowed */
};

static uint32_t hash_tgid(const struct shk_proctable *pt, int tgid)
{
	/* Fibonacci hashing: pids are dense, multiplication spreads them. */
	return ((uint32_t)tgid * 0x9e3779b1u) >> pt->shift;
}

/* The bucket holding tgid, or the empty bucket where it would go. */
static uint32_t find_bucket(const struct shk_proctable *pt, int tgid,
			    bool *ret_found)
{
	uint32_t b = hash_tgid(pt, tgid);

	while (pt->index[b] != NIL) {
		if (pt->slots[pt->index[b]].p.tgid == tgid) {
			*ret_found = true;
			return b;
		}
		b = (b + 1) & pt->mask;
	}
	*ret_found = false;
	return b;
}

static struct slot *find_slot(const struct shk_proctable *pt, int tgid)
{
	bool found;
	uint32_t b = find_bucket(pt, tgid, &found);

	return found ? &pt->slots[pt->index[b]] : NULL;
}

/* Empty bucket b and shift later members of its probe run back, so
 * lookups never need tombstones. */
static void index_remove(struct shk_proctable *pt, uint32_t b)
{
	uint32_t j = b;

	pt->index[b] = NIL;
	for (;;) {
		uint32_t k;

		j = (j + 1) & pt->mask;
		if (pt->index[j] == NIL)
			return;
		k = hash_tgid(pt, pt->slots[pt->index[j]].p.tgid);
		/* Leave j alone if its home k lies cyclically in (b, j]. */
		if (b <= j ? (b < k && k <= j) : (b < k || k <= j))
			continue;
		pt->index[b] = pt->index[j];
		pt->index[j] = NIL;
		b = j;
	}
}

static void lru_unlink(struct shk_proctable *pt, uint32_t i)
{
	struct slot *s = &pt->slots[i];

	if (s->prev != NIL)
		pt->slots[s->prev].next = s->next;
	else
		pt->lru_head = s->next;
	if (s->next != NIL)
		pt->slots[s->next].prev = s->prev;
	else
		pt->lru_tail = s->prev;
	s->prev = s->next = NIL;
}

static void lru_push_tail(struct shk_proctable *pt, uint32_t i)
{
	struct slot *s = &pt->slots[i];

	s->prev = pt->lru_tail;
	s->next = NIL;
	if (pt->lru_tail != NIL)
		pt->slots[pt->lru_tail].next = i;
	else
		pt->lru_head = i;
	pt->lru_tail = i;
}

static uint32_t slot_no(const struct shk_proctable *pt, const struct slot *s)
{
	return (uint32_t)(s - pt->slots);
}

static void touch(struct shk_proctable *pt, struct slot *s)
{
	uint32_t i = slot_no(pt, s);

	lru_unlink(pt, i);
	lru_push_tail(pt, i);
}

static void str_free(struct shk_proc_str *s)
{
	free(s->p);
	s->p = NULL;
	s->len = 0;
}

static void proc_free_strings(struct shk_proc *p)
{
	str_free(&p->exe);
	str_free(&p->args);
	str_free(&p->env);
	str_free(&p->cwd);
	str_free(&p->cgroup);
}

/* Copy len bytes (which may hold NULs) plus a terminating NUL. A NULL
 * source gives an absent string. */
static int str_set(struct shk_proc_str *dst, const char *src, size_t len)
{
	char *p = NULL;

	if (src) {
		p = malloc(len + 1);
		if (!p)
			return -ENOMEM;
		memcpy(p, src, len);
		p[len] = '\0';
	}
	free(dst->p);
	dst->p = p;
	dst->len = src ? len : 0;
	return 0;
}

static int str_set_strv(struct shk_proc_str *dst, const struct shk_strv *v)
{
	return str_set(dst, v->p, v->len);
}

static int str_copy(struct shk_proc_str *dst, const struct shk_proc_str *src)
{
	return str_set(dst, src->p, src->len);
}

/* A deep copy; on failure dst holds no strings. */
static int proc_dup(struct shk_proc *dst, const struct shk_proc *src)
{
	*dst = *src;
	dst->exe = dst->args = dst->env = dst->cwd = dst->cgroup =
		(struct shk_proc_str){ 0 };
	if (str_copy(&dst->exe, &src->exe) || str_copy(&dst->args, &src->args) ||
	    str_copy(&dst->env, &src->env) || str_copy(&dst->cwd, &src->cwd) ||
	    str_copy(&dst->cgroup, &src->cgroup)) {
		proc_free_strings(dst);
		return -ENOMEM;
	}
	return 0;
}

static void proc_init(struct shk_proc *p, int tgid)
{
	memset(p, 0, sizeof(*p));
	p->tgid = tgid;
	p->vpid = tgid;
	p->uid = p->gid = p->euid = p->egid = SHK_ID_UNKNOWN;
	p->loginuid = SHK_LOGINUID_UNSET;
	p->source = SHK_PROC_SRC_TASK;
}

/* Drop the entry in slot s: strings freed, slot back on the free list. */
static void slot_release(struct shk_proctable *pt, struct slot *s)
{
	uint32_t i = slot_no(pt, s);
	bool found;
	uint32_t b = find_bucket(pt, s->p.tgid, &found);

	if (found)
		index_remove(pt, b);
	lru_unlink(pt, i);
	proc_free_strings(&s->p);
	s->used = false;
	s->next = pt->free_head;
	pt->free_head = i;
	pt->size--;
}

/*
 * Move *np (strings included) into the table, replacing an entry with the
 * same tgid or evicting the least recently updated one when full. Cannot
 * fail: slots are preallocated. *np is left without strings.
 */
static struct slot *install(struct shk_proctable *pt, struct shk_proc *np)
{
	struct slot *s = find_slot(pt, np->tgid);
	uint32_t b, i;
	bool found;

	if (s) {
		proc_free_strings(&s->p);
		goto fill;
	}
	if (pt->free_head == NIL && pt->fresh == pt->capacity) {
		slot_release(pt, &pt->slots[pt->lru_head]);
		pt->evictions++;
	}
	if (pt->free_head != NIL) {
		i = pt->free_head;
		pt->free_head = pt->slots[i].next;
	} else {
		i = pt->fresh++;
	}
	s = &pt->slots[i];
	s->used = true;
	lru_push_tail(pt, i);
	b = find_bucket(pt, np->tgid, &found);
	pt->index[b] = i;
	pt->size++;
fill:
	s->p = *np;
	np->exe = np->args = np->env = np->cwd = np->cgroup =
		(struct shk_proc_str){ 0 };
	touch(pt, s);
	return s;
}

struct shk_proctable *shk_proctable_new(size_t capacity)
{
	struct shk_proctable *pt;
	size_t nbuckets = 2;
	uint32_t bits = 1;
	long hz;

	if (capacity == 0 || capacity > CAPACITY_MAX) {
		errno = EINVAL;
		return NULL;
	}
	while (nbuckets < 2 * capacity) {
		nbuckets <<= 1;
		bits++;
	}
	pt = calloc(1, sizeof(*pt));
	if (!pt)
		return NULL;
	pt->slots = calloc(capacity, sizeof(*pt->slots));
	pt->index = malloc(nbuckets * sizeof(*pt->index));
	if (!pt->slots || !pt->index) {
		shk_proctable_free(pt);
		errno = ENOMEM;
		return NULL;
	}
	memset(pt->index, 0xff, nbuckets * sizeof(*pt->index)); /* NIL */
	pt->capacity = capacity;
	pt->mask = (uint32_t)(nbuckets - 1);
	pt->shift = 32 - bits;
	pt->lru_head = pt->lru_tail = NIL;
	pt->free_head = NIL;
	hz = sysconf(_SC_CLK_TCK);
	pt->tick_ns = hz > 0 && hz <= 1000000000L ? 1000000000ull / (uint64_t)hz
						  : 10000000ull;
	return pt;
}

void shk_proctable_free(struct shk_proctable *pt)
{
	if (!pt)
		return;
	if (pt->slots) {
		for (size_t i = 0; i < pt->fresh; i++) {
			if (pt->slots[i].used)
				proc_free_strings(&pt->slots[i].p);
		}
	}
	free(pt->slots);
	free(pt->index);
	free(pt);
}

/*
 * Is start_ns (exact, from an event) the start of the process p describes?
 * procfs only gives clock ticks, so a seeded entry matches anything within
 * a tick: a pid is not reused that fast.
 */
static bool same_start(const struct shk_proctable *pt, const struct shk_proc *p,
		       uint64_t start_ns)
{
	uint64_t d;

	if (!start_ns || !p->start_ns)
		return true; /* unknown: nothing to tell them apart */
	if (!p->start_coarse)
		return p->start_ns == start_ns;
	d = start_ns > p->start_ns ? start_ns - p->start_ns : p->start_ns - start_ns;
	return d <= pt->tick_ns;
}

/* Set the kernel's view of the task: it is authoritative over whatever
 * procfs or an earlier event said. */
static void refresh_task(const struct shk_proctable *pt, struct shk_proc *p,
			 const struct shk_event *ev, bool creds, bool comm)
{
	const struct shk_task *t = ev->task;

	p->ppid = (int)t->ppid;
	if (t->vpid)
		p->vpid = (int)t->vpid;
	p->loginuid = t->loginuid;
	p->tty = t->tty;
	p->sid = t->sid;
	p->pidns = t->pidns;
	p->mntns = t->mntns;
	p->netns = t->netns;
	p->cgroup_id = t->cgroup_id;
	if (creds) {
		p->uid = t->uid;
		p->gid = t->gid;
		p->euid = t->euid;
		p->egid = t->egid;
		p->cap_eff = t->cap_eff;
		p->cap_prm = t->cap_prm;
		p->cap_inh = t->cap_inh;
	}
	if (t->start_ns && same_start(pt, p, t->start_ns)) {
		p->start_ns = t->start_ns;
		p->start_coarse = false;
	}
	if (comm) {
		memcpy(p->comm, t->comm, sizeof(p->comm));
		p->comm[sizeof(p->comm) - 1] = '\0';
	}
}

/*
 * The entry an event is about. A missing one counts as a miss; one whose
 * start differs from the event's belongs to an earlier process with the
 * same pid, and is dropped.
 */
static struct slot *lookup_for_event(struct shk_proctable *pt, int tgid,
				     const struct shk_task *t)
{
	struct slot *s = find_slot(pt, tgid);

	if (!s) {
		pt->misses++;
		return NULL;
	}
	if (t && !same_start(pt, &s->p, t->start_ns)) {
		slot_release(pt, s);
		pt->stale++;
		return NULL;
	}
	return s;
}

/* prctl(PR_SET_NAME) renames one thread; the group's name is the
 * leader's, so other threads' events must not overwrite it. */
static bool from_leader(const struct shk_event *ev)
{
	return ev->hdr->tid == ev->hdr->pid;
}

static int apply_fork(struct shk_proctable *pt, const struct shk_event *ev,
		      int tgid)
{
	const struct shk_fork *f = ev->fork;
	struct shk_proc np;
	struct slot *s;
	int err;

	if (f->flags & SHK_FORK_THREAD) {
		/* A new thread: same process, nothing to create. */
		s = lookup_for_event(pt, tgid, ev->task);
		if (s) {
			refresh_task(pt, &s->p, ev, true, false);
			touch(pt, s);
		}
		return 0;
	}

	s = f->parent_pid <= INT32_MAX ? find_slot(pt, (int)f->parent_pid) : NULL;
	if (s) {
		err = proc_dup(&np, &s->p);
		if (err)
			return err;
		np.source = SHK_PROC_SRC_FORK;
		/* The child runs the parent's image until it execs. */
		touch(pt, s);
	} else {
		pt->misses++;
		proc_init(&np, tgid);
	}
	np.tgid = tgid;
	np.vpid = tgid;
	/* Not the parent's start: refresh_task() then takes the child's. */
	np.start_ns = 0;
	np.start_coarse = false;
	refresh_task(pt, &np, ev, true, true);

	s = find_slot(pt, tgid);
	if (s && !same_start(pt, &s->p, np.start_ns))
		pt->stale++;
	install(pt, &np);
	return 0;
}

static int apply_exec(struct shk_proctable *pt, const struct shk_event *ev,
		      int tgid)
{
	const struct shk_exec *x = ev->exec;
	const struct slot *s = lookup_for_event(pt, tgid, ev->task);
	const struct shk_strv *cwd = &ev->str[SHK_EXEC_CWD];
	const struct shk_strv *cg = &ev->str[SHK_EXEC_CGROUP];
	struct shk_proc np;
	int err;

	if (s) {
		np = s->p;
		np.exe = np.args = np.env = np.cwd = np.cgroup =
			(struct shk_proc_str){ 0 };
	} else {
		proc_init(&np, tgid);
	}
	/* The image strings describe the new program, absent or not; cwd
	 * and cgroup survive exec, so keep what we knew if the record
	 * lacks them. */
	err = str_set_strv(&np.exe, &ev->str[SHK_EXEC_EXE]);
	if (!err)
		err = str_set_strv(&np.args, &ev->str[SHK_EXEC_ARGS]);
	if (!err)
		err = str_set_strv(&np.env, &ev->str[SHK_EXEC_ENV]);
	if (!err)
		err = cwd->p ? str_set_strv(&np.cwd, cwd)
			     : s ? str_copy(&np.cwd, &s->p.cwd) : 0;
	if (!err)
		err = cg->p ? str_set_strv(&np.cgroup, cg)
			    : s ? str_copy(&np.cgroup, &s->p.cgroup) : 0;
	if (cg->p)
		np.cgroup_path_id = ev->task->cgroup_id;
	if (err) {
		proc_free_strings(&np);
		return err;
	}

	refresh_task(pt, &np, ev, true, true);
	np.exe_flags = x->exe_flags;
	np.exe_deleted = false;
	np.exe_ino = x->exe_ino;
	np.exe_dev = x->exe_dev;
	np.exe_ctime_ns = x->exe_ctime_ns;
	np.exe_mtime_ns = x->exe_mtime_ns;
	memcpy(np.std_type, x->std_type, sizeof(np.std_type));
	np.exec_ts = ev->hdr->ts_ns;
	np.is_kthread = false; /* kernel threads do not exec */
	np.source = SHK_PROC_SRC_EXEC;
	install(pt, &np);
	return 0;
}

static int apply_exit(struct shk_proctable *pt, int tgid)
{
	struct slot *s = find_slot(pt, tgid);

	if (!s) {
		pt->misses++;
		return 0;
	}
	slot_release(pt, s);
	return 0;
}

/* fchdir shares its argument layout (SHK_K_FD) with listen, sendmsg, ...;
 * its number, from libseccomp, tells it apart. Resolved once. */
static bool is_fchdir(uint32_t nr)
{
	static int fchdir_nr = -2;

	if (fchdir_nr == -2)
		fchdir_nr = shk_syscall_nr("fchdir");
	return fchdir_nr >= 0 && nr == (uint32_t)fchdir_nr;
}

static int apply_syscall(struct shk_proctable *pt, const struct shk_event *ev,
			 int tgid)
{
	const struct shk_syscall *sc = ev->sys;
	/* Credential-changing syscalls (setuid family) report the task as
	 * it was at entry: its old credentials must not overwrite the new. */
	bool creds = !(ev->hdr->flags & SHK_F_ENTER_CTX);
	struct slot *s = lookup_for_event(pt, tgid, ev->task);
	struct shk_proc np;

	if (!s) {
		/* Unknown (exec'd before we started and not seeded): keep
		 * what the kernel told us, so children and ancestry work. */
		proc_init(&np, tgid);
		refresh_task(pt, &np, ev, creds, true);
		s = install(pt, &np);
	} else {
		refresh_task(pt, &s->p, ev, creds, from_leader(ev));
		touch(pt, s);
	}

	if (sc->kind == SHK_K_DUP && sc->ret >= 0 && sc->ret <= 2) {
		/* Both slots name the same open file after a dup. */
		uint8_t type = sc->fd[SHK_FD_RES].type;

		if (type == SHK_FD_NONE)
			type = sc->fd[SHK_FD_ARG].type;
		if (type < SHK_FD_TYPE_MAX)
			s->p.std_type[sc->ret] = type;
	} else if ((sc->kind == SHK_K_CHDIR || is_fchdir(sc->nr)) && sc->ret == 0) {
		const struct shk_strv *path = ev->path.p ? &ev->path
							 : &ev->str[SHK_SYS_PATH];

		if (path->p && path->p[0] == '/')
			return str_set_strv(&s->p.cwd, path);
	}
	return 0;
}

int shk_proctable_apply(struct shk_proctable *pt, const struct shk_event *ev)
{
	int tgid;

	if (!pt || !ev || !ev->hdr)
		return -EINVAL;
	if (ev->hdr->pid == 0 || ev->hdr->pid > INT32_MAX)
		return -EINVAL;
	tgid = (int)ev->hdr->pid;

	switch (ev->type) {
	case SHK_EV_FORK:
		if (!ev->fork || !ev->task)
			return -EINVAL;
		return apply_fork(pt, ev, tgid);
	case SHK_EV_EXEC:
		if (!ev->exec || !ev->task)
			return -EINVAL;
		return apply_exec(pt, ev, tgid);
	case SHK_EV_EXIT:
		return apply_exit(pt, tgid);
	case SHK_EV_SYSCALL:
		if (!ev->sys || !ev->task)
			return -EINVAL;
		return apply_syscall(pt, ev, tgid);
	default:
		return 0; /* nothing about process state */
	}
}

const struct shk_proc *shk_proctable_get(struct shk_proctable *pt, int tgid)
{
	const struct slot *s = pt ? find_slot(pt, tgid) : NULL;

	return s ? &s->p : NULL;
}

const struct shk_proc *shk_proctable_parent(struct shk_proctable *pt,
					    const struct shk_proc *p)
{
	const struct shk_proc *par;
	uint64_t slack;

	if (!pt || !p || p->ppid <= 0 || p->ppid == p->tgid)
		return NULL;
	par = shk_proctable_get(pt, p->ppid);
	if (!par || !par->start_ns || !p->start_ns)
		return par;
	slack = par->start_coarse || p->start_coarse ? pt->tick_ns : 0;
	if (par->start_ns > p->start_ns + slack)
		return NULL;
	return par;
}

const struct shk_proc *shk_proctable_ancestor(struct shk_proctable *pt,
					      const struct shk_proc *p, int n)
{
	const struct shk_proc *a = p;

	if (!pt || !p || n < 0 || (size_t)n > pt->size)
		return NULL;
	for (int i = 0; i < n && a; i++) {
		a = shk_proctable_parent(pt, a);
		if (a == p)
			return NULL; /* a cycle through p */
	}
	return a;
}

static bool exe_is_memfd(const char *exe)
{
	return !strncmp(exe, "/memfd:", 7);
}

static int proc_from_info(struct shk_proc *np, const struct shk_proc_info *in)
{
	size_t exe_len = strlen(in->exe);
	int err = 0;

	proc_init(np, in->tgid);
	np->ppid = in->ppid;
	np->vpid = in->vpid;
	memcpy(np->comm, in->comm, sizeof(np->comm));
	np->is_kthread = in->is_kthread;
	np->exe_deleted = in->exe_deleted;
	if (in->exe_deleted)
		exe_len -= strlen(DELETED_SUFFIX);
	if (in->have & SHK_PROCFS_HAVE_EXE) {
		err = str_set(&np->exe, in->exe, exe_len);
		if (exe_is_memfd(in->exe))
			np->exe_flags |= SHK_EXE_MEMFD;
	}
	if (!err && (in->have & SHK_PROCFS_HAVE_CMDLINE))
		err = str_set(&np->args, in->args, in->args_len);
	if (!err && (in->have & SHK_PROCFS_HAVE_ENVIRON))
		err = str_set(&np->env, in->env, in->env_len);
	if (!err && (in->have & SHK_PROCFS_HAVE_CWD))
		err = str_set(&np->cwd, in->cwd, strlen(in->cwd));
	if (!err && (in->have & SHK_PROCFS_HAVE_CGROUP))
		err = str_set(&np->cgroup, in->cgroup, strlen(in->cgroup));
	if (err) {
		proc_free_strings(np);
		return err;
	}
	if (in->have & SHK_PROCFS_HAVE_EXE_STAT) {
		np->exe_ino = in->exe_ino;
		np->exe_dev = in->exe_dev;
		np->exe_ctime_ns = in->exe_ctime_ns;
		np->exe_mtime_ns = in->exe_mtime_ns;
	}
	np->uid = in->uid;
	np->gid = in->gid;
	np->euid = in->euid;
	np->egid = in->egid;
	np->loginuid = in->loginuid;
	np->tty = in->tty_nr;
	np->sid = in->sid > 0 ? (uint32_t)in->sid : 0;
	np->cap_inh = in->cap_inh;
	np->cap_prm = in->cap_prm;
	np->cap_eff = in->cap_eff;
	np->pidns = in->pidns;
	np->mntns = in->mntns;
	np->netns = in->netns;
	memcpy(np->std_type, in->std_type, sizeof(np->std_type));
	np->start_ns = in->start_ns;
	np->start_coarse = true;
	np->source = SHK_PROC_SRC_PROCFS;
	return 0;
}

struct seed_ctx {
	struct shk_proctable *pt;
	const char *root;
	struct shk_proc_info *info;
	int added;
};

static int seed_one(int pid, void *data)
{
	struct seed_ctx *ctx = data;
	struct shk_proc seeded = { 0 }, np;
	const struct slot *s;
	int err;

	err = shk_procfs_read(ctx->root, pid, ctx->info);
	if (err == -ENOMEM)
		return err;
	if (err)
		return 0; /* exited meanwhile, or unreadable: skip it */
	/* Events already told us about this very process: they are newer
	 * than what procfs shows. */
	s = find_slot(ctx->pt, ctx->info->tgid);
	seeded.start_ns = ctx->info->start_ns;
	seeded.start_coarse = true;
	if (s && s->p.source != SHK_PROC_SRC_PROCFS &&
	    same_start(ctx->pt, &seeded, s->p.start_ns))
		return 0;
	err = proc_from_info(&np, ctx->info);
	if (err)
		return err;
	install(ctx->pt, &np);
	ctx->added++;
	return 0;
}

int shk_proctable_seed(struct shk_proctable *pt, const char *proc_root)
{
	struct seed_ctx ctx = { .pt = pt, .root = proc_root };
	int err;

	if (!pt)
		return -EINVAL;
	ctx.info = malloc(sizeof(*ctx.info));
	if (!ctx.info)
		return -ENOMEM;
	err = shk_procfs_for_each_pid(proc_root, seed_one, &ctx);
	free(ctx.info);
	return err < 0 ? err : ctx.added;
}

void shk_proctable_stats(const struct shk_proctable *pt,
			 struct shk_proctable_stats *ret)
{
	if (!pt || !ret)
		return;
	ret->size = pt->size;
	ret->capacity = pt->capacity;
	ret->evictions = pt->evictions;
	ret->misses = pt->misses;
	ret->stale = pt->stale;
}

void shk_proctable_set_containers(struct shk_proctable *pt, struct shk_containers *c)
{
	pt->containers = c;
}

struct shk_containers *shk_proctable_containers(const struct shk_proctable *pt)
{
	return pt->containers;
}
