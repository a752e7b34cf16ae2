/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Field extraction (see extract.h). One switch on the field id; each case
 * says where the value comes from and, where shrike's data differs from
 * Falco's event stream, which choice was made.
 */
#include "extract.h"

#include <arpa/inet.h>
#include <fnmatch.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "container.h"
#include "containers.h"
#include "k8s_labels.h"
#include "pathutil.h"
#include "proctable.h"
#include "render.h"
#include "syscalls.h"
#include "users.h"

/* ---- per-syscall metadata ---------------------------------------------- */

#define M_CLIENT (1u << 0) /* the fd's local end is the client (connect) */
#define M_SERVER (1u << 1) /* the fd's local end is the server (bind, listen, accept) */
#define M_CHMOD (1u << 2)  /* "mode" is a permission set: S_* names */

/* Falco's names for what the string slots of a record hold, per syscall:
 * ev->path, ev->path2, SHK_SYS_EXTRA and the socket tuple. */
struct sys_names {
	const char *sys;
	const char *path1, *path2, *extra, *tuple;
	uint8_t flags;
};

static const struct sys_names sys_names[] = {
	{ .sys = "open", .path1 = "name" },
	{ .sys = "openat", .path1 = "name" },
	{ .sys = "openat2", .path1 = "name" },
	{ .sys = "creat", .path1 = "name" },
	{ .sys = "execve", .path1 = "filename" },
	{ .sys = "execveat", .path1 = "pathname" },
	{ .sys = "connect", .tuple = "tuple", .flags = M_CLIENT },
	{ .sys = "bind", .tuple = "addr", .flags = M_SERVER },
	{ .sys = "listen", .flags = M_SERVER },
	{ .sys = "accept", .tuple = "tuple", .flags = M_SERVER },
	{ .sys = "accept4", .tuple = "tuple", .flags = M_SERVER },
	{ .sys = "sendto", .tuple = "tuple" },
	{ .sys = "recvfrom", .tuple = "tuple" },
	{ .sys = "symlink", .path1 = "target", .path2 = "linkpath" },
	{ .sys = "symlinkat", .path1 = "target", .path2 = "linkpath" },
	{ .sys = "link", .path1 = "oldpath", .path2 = "newpath" },
	{ .sys = "linkat", .path1 = "oldpath", .path2 = "newpath" },
	{ .sys = "unlink", .path1 = "path" },
	{ .sys = "unlinkat", .path1 = "name" },
	{ .sys = "rename", .path1 = "oldpath", .path2 = "newpath" },
	{ .sys = "renameat", .path1 = "oldpath", .path2 = "newpath" },
	{ .sys = "renameat2", .path1 = "oldpath", .path2 = "newpath" },
	{ .sys = "mkdir", .path1 = "path" },
	{ .sys = "mkdirat", .path1 = "path" },
	{ .sys = "rmdir", .path1 = "path" },
	{ .sys = "chmod", .path1 = "filename", .flags = M_CHMOD },
	{ .sys = "fchmod", .flags = M_CHMOD },
	{ .sys = "fchmodat", .path1 = "filename", .flags = M_CHMOD },
	{ .sys = "chdir", .path1 = "path" },
	{ .sys = "umount2", .path1 = "name" },
	{ .sys = "mount", .path1 = "dev", .path2 = "dir", .extra = "type" },
	{ .sys = "memfd_create", .extra = "name" },
	{ .sys = "init_module", .extra = "uargs" },
	{ .sys = "finit_module", .extra = "uargs" },
	{ .sys = "prctl", .extra = "arg2_str" },
};

struct sys_meta {
	const struct shk_sys_desc *d;
	const struct sys_names *x;
};

static struct sys_meta meta[SHK_SYSCALL_MAX];
static char evt_names[SHK_EVTYPE_MAX][32];
static char typechars[SHK_FD_TYPE_MAX][2];
static unsigned evt_execve = SHK_EVTYPE_MAX, evt_clone = SHK_EVTYPE_MAX;
static pthread_once_t meta_once = PTHREAD_ONCE_INIT;

/* A pure function of the architecture: built once, never freed. */
static void meta_init(void)
{
	const struct shk_sys_desc *d;
	size_t n;
	int nr;

	d = shk_syscalls(&n);
	for (size_t i = 0; i < n; i++) {
		nr = shk_syscall_nr(d[i].name);
		if (nr >= 0 && nr < SHK_SYSCALL_MAX)
			meta[nr].d = &d[i];
	}
	for (size_t i = 0; i < sizeof(sys_names) / sizeof(sys_names[0]); i++) {
		nr = shk_syscall_nr(sys_names[i].sys);
		if (nr >= 0 && nr < SHK_SYSCALL_MAX)
			meta[nr].x = &sys_names[i];
	}
	for (unsigned id = 0; id < SHK_EVTYPE_MAX; id++)
		if (shk_evtype_name(id, evt_names[id], sizeof(evt_names[id])) < 0)
			evt_names[id][0] = '\0';
	for (unsigned t = 0; t < SHK_FD_TYPE_MAX; t++)
		typechars[t][0] = shk_fd_typechar(t);
	nr = shk_evtype_resolve("execve");
	if (nr >= 0)
		evt_execve = (unsigned)nr;
	nr = shk_evtype_resolve("clone");
	if (nr >= 0)
		evt_clone = (unsigned)nr;
}

static const struct sys_meta *meta_of(const struct shk_event *ev)
{
	static const struct sys_meta none;

	pthread_once(&meta_once, meta_init);
	if (ev->type != SHK_EV_SYSCALL || ev->sys->nr >= SHK_SYSCALL_MAX)
		return &none;
	return &meta[ev->sys->nr];
}

/* Exec is Falco's execve exit event, exit its procexit, and a fork record
 * is the child's view of clone (Falco reports clone's exit in both). */
/* What extraction relies on: the header, the record and, but for exit,
 * the task. Decoded events always have them; hand-made ones may not. */
static bool ev_usable(const struct shk_event *ev)
{
	return ev && ev->hdr && ev->exec && (ev->type == SHK_EV_EXIT || ev->task);
}

unsigned shk_event_evtype(const struct shk_event *ev)
{
	pthread_once(&meta_once, meta_init);
	if (!ev_usable(ev))
		return SHK_EVTYPE_MAX;
	switch (ev->type) {
	case SHK_EV_EXEC:
		return evt_execve;
	case SHK_EV_EXIT:
		return SHK_EVT_PROCEXIT;
	case SHK_EV_FORK:
		return evt_clone;
	case SHK_EV_SYSCALL:
		return ev->sys->nr < SHK_SYSCALL_MAX ? ev->sys->nr : SHK_EVTYPE_MAX;
	default:
		return SHK_EVTYPE_MAX;
	}
}

/* ---- context ------------------------------------------------------------ */

enum { ROLE_NONE, ROLE_CLIENT, ROLE_SERVER };

/* The fd an event is about, as Falco picks it. */
struct fdview {
	bool any;    /* the event names an fd or, without one, a path */
	bool nullfd; /* no fd: a failed open or a path syscall */
	const struct shk_fd *fd;
	bool has_num;
	int64_t num;
	unsigned type;	      /* enum shk_fd_type */
	struct shk_strv path; /* absolute file path, or the unix socket path */
	struct shk_strv raw;  /* the path as passed */
	int role;	      /* of the local end */
};

/*
 * Names are cached here across events, by mount namespace (which fixes the
 * root directory and so the passwd file) and id: asking the users module
 * costs syscalls (it identifies the root directory each time), and exec
 * rules name user.name on every exec. Answers live NAME_TTL_NS of event
 * time, so an edited /etc/passwd shows within that. A failed lookup is
 * only cached for the host root: in a container it may mean that the
 * process exited before its root could be opened, which says nothing
 * about its siblings.
 */
#define NAME_CACHE 128
#define NAME_TTL_NS (2ull * 1000000000ull)

struct name_ent {
	uint64_t key; /* 0: empty */
	uint64_t ts;
	bool ok;
	char name[SHK_USERS_NAME_MAX + 1];
};

struct name_cache {
	const struct shk_users *users; /* the entries answer for this one */
	struct name_ent e[NAME_CACHE];
};

#define KMEMO 16
#define KMEMO_KEY 48 /* longer arguments are not memoised */

struct shk_evalctx_priv {
	uint32_t epoch;
	uint64_t num; /* events begun */
	bool usable;  /* the event has what extraction reads */
	unsigned evtype;
	bool proc_done, parent_done, fd_done, ctr_done;
	const struct shk_proc *proc;
	const struct shk_container *ctr;
	struct shk_container ctr_own; /* without a cache: identity only */
	const struct shk_proc *parent;
	struct fdview fd;
	struct name_cache names;
	size_t used;
	/* the epoch next to the value: a memo hit reads one cache line */
	struct memo {
		uint32_t epoch;
		struct shk_value v;
	} memo[SHK_FIELD__COUNT];
	/* Fields with an argument, the first KMEMO of the event: the rule
	 * files test evt.arg.name, proc.aname[2], ... in rule after rule,
	 * and rendering or walking for them is the expensive part. */
	uint32_t nkmemo;
	struct kmemo {
		uint32_t id;
		int32_t index;
		uint32_t key_len;
		char key[KMEMO_KEY]; /* a copy: the check may not outlive the event */
		struct shk_value v;
	} kmemo[KMEMO];
	char scratch[SHK_EVAL_SCRATCH];
};

static struct name_cache *name_cache(struct shk_evalctx *ctx)
{
	return &ctx->priv->names;
}

int shk_evalctx_init(struct shk_evalctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->priv = calloc(1, sizeof(*ctx->priv));
	if (!ctx->priv)
		return -ENOMEM;
	ctx->priv->epoch = 1;
	pthread_once(&meta_once, meta_init);
	return 0;
}

void shk_evalctx_fini(struct shk_evalctx *ctx)
{
	if (!ctx)
		return;
	free(ctx->priv);
	ctx->priv = NULL;
}

void shk_evalctx_begin(struct shk_evalctx *ctx, const struct shk_event *ev)
{
	struct shk_evalctx_priv *p = ctx->priv;

	ctx->ev = ev;
	/* A new epoch invalidates every memoised value without touching
	 * the memo table. */
	if (++p->epoch == 0) {
		for (size_t i = 0; i < SHK_FIELD__COUNT; i++)
			p->memo[i].epoch = 0;
		p->epoch = 1;
	}
	p->nkmemo = 0;
	p->proc_done = p->parent_done = p->fd_done = p->ctr_done = false;
	p->proc = p->parent = NULL;
	p->ctr = NULL;
	p->used = 0;
	p->num++;
	p->usable = ev_usable(ev);
	p->evtype = shk_event_evtype(ev);
}

unsigned shk_evalctx_evtype(const struct shk_evalctx *ctx)
{
	return ctx->priv->evtype;
}

/* ---- values ------------------------------------------------------------- */

static bool na(struct shk_value *v)
{
	v->type = SHK_V_NA;
	return false;
}

/* s must be NUL-terminated at len. */
static bool vstr(struct shk_value *v, const char *s, size_t len)
{
	if (!s)
		return na(v);
	v->type = SHK_V_STR;
	v->str.s = s;
	v->str.len = len;
	return true;
}

static bool vcstr(struct shk_value *v, const char *s)
{
	return vstr(v, s, s ? strlen(s) : 0);
}

static bool vview(struct shk_value *v, struct shk_strv s)
{
	return vstr(v, s.p, s.len);
}

static bool vi64(struct shk_value *v, int64_t i)
{
	v->type = SHK_V_I64;
	v->i = i;
	return true;
}

static bool vu64(struct shk_value *v, uint64_t u)
{
	v->type = SHK_V_U64;
	v->u = u;
	return true;
}

static bool vbool(struct shk_value *v, bool b)
{
	v->type = SHK_V_BOOL;
	v->b = b;
	return true;
}

static void *scratch(struct shk_evalctx *ctx, size_t n)
{
	struct shk_evalctx_priv *p = ctx->priv;
	size_t at = (p->used + 7) & ~(size_t)7;

	if (n > sizeof(p->scratch) || at > sizeof(p->scratch) - n) {
		ctx->scratch_overflows++;
		return NULL;
	}
	p->used = at + n;
	return p->scratch + at;
}

/* A copy of s[0..len) in scratch, NUL-terminated. */
static bool vcopy(struct shk_evalctx *ctx, struct shk_value *v, const char *s, size_t len)
{
	char *d = scratch(ctx, len + 1);

	if (!d)
		return na(v);
	memcpy(d, s, len);
	d[len] = '\0';
	return vstr(v, d, len);
}

static bool vfmt(struct shk_evalctx *ctx, struct shk_value *v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool vfmt(struct shk_evalctx *ctx, struct shk_value *v, const char *fmt, ...)
{
	char b[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b, sizeof(b), fmt, ap);
	va_end(ap);
	if (n < 0)
		return na(v);
	return vcopy(ctx, v, b, (size_t)n < sizeof(b) ? (size_t)n : sizeof(b) - 1);
}

/* A growing string in scratch: start, append, finish. The scratch space
 * after p->used is free until the next allocation. */
struct sb {
	char *s;
	size_t len, cap;
};

static bool sb_start(struct shk_evalctx *ctx, struct sb *b, size_t cap)
{
	b->s = scratch(ctx, cap + 1);
	b->len = 0;
	b->cap = cap;
	return b->s != NULL;
}

static void sb_put(struct sb *b, const char *s, size_t n)
{
	if (n > b->cap - b->len)
		n = b->cap - b->len;
	memcpy(b->s + b->len, s, n);
	b->len += n;
}

static bool sb_done(struct sb *b, struct shk_value *v)
{
	b->s[b->len] = '\0';
	return vstr(v, b->s, b->len);
}

/* Items of a NUL-separated buffer (argv, environ); a missing final NUL
 * (a truncated buffer) ends the last item at the end of the buffer. */
static const char *item_next(const char **p, const char *end, size_t *n)
{
	const char *s = *p, *z;

	if (!s || s >= end)
		return NULL;
	z = memchr(s, '\0', (size_t)(end - s));
	*n = z ? (size_t)(z - s) : (size_t)(end - s);
	*p = z ? z + 1 : end;
	return s;
}

/* ---- the event's process ---------------------------------------------- */

/* The task fields, from the record, or the table for records without a
 * task (exit). */
struct taskv {
	uint32_t ppid, vpid, vtid;
	uint32_t uid, gid, euid, egid, loginuid, tty, mntns;
	uint64_t cap_eff, cap_prm, cap_inh, start_ns;
	uint32_t sid;
};

static const struct shk_proc *self_proc(struct shk_evalctx *ctx)
{
	struct shk_evalctx_priv *p = ctx->priv;
	uint32_t pid = ctx->ev->hdr->pid;

	if (!p->proc_done) {
		p->proc_done = true;
		if (ctx->procs && pid > 0 && pid <= INT32_MAX)
			p->proc = shk_proctable_get(ctx->procs, (int)pid);
	}
	return p->proc;
}

/* The process whose image the event's process runs: itself, or for a fork
 * seen before the table learnt the child, the parent. */
static const struct shk_proc *image_proc(struct shk_evalctx *ctx)
{
	const struct shk_proc *p = self_proc(ctx);
	uint32_t ppid;

	if (p || ctx->ev->type != SHK_EV_FORK || !ctx->procs)
		return p;
	ppid = ctx->ev->fork->parent_pid;
	return ppid > 0 && ppid <= INT32_MAX ? shk_proctable_get(ctx->procs, (int)ppid) : NULL;
}

static bool self_task(struct shk_evalctx *ctx, struct taskv *t)
{
	const struct shk_task *k = ctx->ev->task;
	const struct shk_proc *p;

	if (k) {
		*t = (struct taskv){ k->ppid, k->vpid, k->vtid, k->uid, k->gid, k->euid, k->egid,
				     k->loginuid, k->tty, k->mntns, k->cap_eff, k->cap_prm,
				     k->cap_inh, k->start_ns, k->sid };
		return true;
	}
	p = self_proc(ctx);
	if (!p)
		return false;
	*t = (struct taskv){ (uint32_t)p->ppid, (uint32_t)p->vpid, (uint32_t)p->vpid, p->uid,
			     p->gid, p->euid, p->egid, p->loginuid, p->tty, p->mntns, p->cap_eff,
			     p->cap_prm, p->cap_inh, p->start_ns, p->sid };
	return true;
}

static const struct shk_proc *parent_proc(struct shk_evalctx *ctx)
{
	struct shk_evalctx_priv *p = ctx->priv;
	const struct shk_proc *self;

	if (p->parent_done)
		return p->parent;
	p->parent_done = true;
	if (!ctx->procs)
		return NULL;
	self = self_proc(ctx);
	if (self) {
		p->parent = shk_proctable_parent(ctx->procs, self);
	} else if (ctx->ev->task) {
		uint32_t ppid = ctx->ev->task->ppid;

		if (ppid > 0 && ppid <= INT32_MAX && ppid != ctx->ev->hdr->pid)
			p->parent = shk_proctable_get(ctx->procs, (int)ppid);
	}
	return p->parent;
}

/* n >= 1: 1 is the parent. NULL past the known chain. */
static const struct shk_proc *ancestor(struct shk_evalctx *ctx, int n)
{
	const struct shk_proc *self = self_proc(ctx), *par;

	if (!ctx->procs || n < 1 || n > SHK_ANCESTOR_MAX)
		return NULL;
	if (self)
		return shk_proctable_ancestor(ctx->procs, self, n);
	par = parent_proc(ctx);
	if (!par || n == 1)
		return par;
	return shk_proctable_ancestor(ctx->procs, par, n - 1);
}

static struct shk_strv pview(const struct shk_proc_str *s)
{
	return (struct shk_strv){ s->p, s->p ? s->len : 0 };
}

static struct shk_strv self_exepath(struct shk_evalctx *ctx)
{
	const struct shk_proc *p;

	if (ctx->ev->type == SHK_EV_EXEC)
		return ctx->ev->str[SHK_EXEC_EXE];
	p = image_proc(ctx);
	return p ? pview(&p->exe) : (struct shk_strv){ 0 };
}

static struct shk_strv self_argv(struct shk_evalctx *ctx)
{
	const struct shk_proc *p;

	if (ctx->ev->type == SHK_EV_EXEC)
		return ctx->ev->str[SHK_EXEC_ARGS];
	p = image_proc(ctx);
	return p ? pview(&p->args) : (struct shk_strv){ 0 };
}

static struct shk_strv self_env(struct shk_evalctx *ctx)
{
	const struct shk_proc *p;

	if (ctx->ev->type == SHK_EV_EXEC)
		return ctx->ev->str[SHK_EXEC_ENV];
	p = image_proc(ctx);
	return p ? pview(&p->env) : (struct shk_strv){ 0 };
}

static struct shk_strv self_cwd(struct shk_evalctx *ctx)
{
	const struct shk_proc *p;

	if (ctx->ev->type == SHK_EV_EXEC && ctx->ev->str[SHK_EXEC_CWD].p)
		return ctx->ev->str[SHK_EXEC_CWD];
	p = image_proc(ctx);
	return p ? pview(&p->cwd) : (struct shk_strv){ 0 };
}

/* Executable properties: from the exec record, else the table. */
struct exev {
	uint32_t flags;
	uint64_t ino, ctime_ns, mtime_ns;
	const uint8_t *std_type;
};

static bool self_exe(struct shk_evalctx *ctx, struct exev *x)
{
	const struct shk_proc *p;

	if (ctx->ev->type == SHK_EV_EXEC) {
		const struct shk_exec *e = ctx->ev->exec;

		*x = (struct exev){ e->exe_flags, e->exe_ino, e->exe_ctime_ns, e->exe_mtime_ns,
				    e->std_type };
		return true;
	}
	p = image_proc(ctx);
	if (!p)
		return false;
	*x = (struct exev){ p->exe_flags, p->exe_ino, p->exe_ctime_ns, p->exe_mtime_ns,
			    p->std_type };
	return true;
}

/* A comm from a fixed array that the kernel does not promise to end. */
static bool vcomm(struct shk_evalctx *ctx, struct shk_value *v, const char *comm)
{
	size_t n = strnlen(comm, SHK_COMM_LEN);

	return n < SHK_COMM_LEN ? vstr(v, comm, n) : vcopy(ctx, v, comm, n);
}

static bool self_comm(struct shk_evalctx *ctx, struct shk_value *v)
{
	const struct shk_proc *p;

	if (ctx->ev->task)
		return vcomm(ctx, v, ctx->ev->task->comm);
	if (ctx->ev->type == SHK_EV_EXIT)
		return vcomm(ctx, v, ctx->ev->exit->comm);
	p = self_proc(ctx);
	return p ? vcomm(ctx, v, p->comm) : na(v);
}

/* argv[0] of an argv buffer (Falco's proc.exe). */
static bool argv0(struct shk_value *v, struct shk_strv argv)
{
	const char *it = argv.p;
	size_t n;
	const char *s = item_next(&it, argv.p + argv.len, &n);

	/* items end with a NUL inside the buffer, or at its end, which the
	 * decoder and the table also terminate */
	return s ? vstr(v, s, n) : na(v);
}

/*
 * Falco's command lines: proc.args is the arguments after argv[0] joined
 * with spaces; proc.cmdline is the name, then each argument after a space;
 * proc.exeline is argv[0], a space and proc.args.
 */
static bool join_args(struct shk_evalctx *ctx, struct shk_value *v, const char *head,
		      size_t headlen, bool space_after_head, struct shk_strv argv)
{
	const char *it = argv.p, *end = argv.p ? argv.p + argv.len : NULL, *s;
	struct sb b;
	size_t n;
	bool first = true;

	if (!sb_start(ctx, &b, headlen + 1 + argv.len))
		return na(v);
	if (head)
		sb_put(&b, head, headlen);
	if (head && space_after_head)
		sb_put(&b, " ", 1);
	item_next(&it, end, &n); /* argv[0] */
	while ((s = item_next(&it, end, &n))) {
		if (!first || (head && !space_after_head))
			sb_put(&b, " ", 1);
		sb_put(&b, s, n);
		first = false;
	}
	return sb_done(&b, v);
}

/* For another process of the table. */
static bool proc_cmdline(struct shk_evalctx *ctx, struct shk_value *v, const struct shk_proc *p)
{
	size_t n = strnlen(p->comm, SHK_COMM_LEN);

	if (!p->args.p)
		return na(v);
	return join_args(ctx, v, p->comm, n, false, pview(&p->args));
}

static bool self_cmdline(struct shk_evalctx *ctx, struct shk_value *v)
{
	struct shk_value c;

	/* without the arguments there is no command line: <NA>, not a bare
	 * name that exclusion lists could mistake for one */
	if (!self_argv(ctx).p || !self_comm(ctx, &c))
		return na(v);
	return join_args(ctx, v, c.str.s, c.str.len, false, self_argv(ctx));
}

static bool env_join(struct shk_evalctx *ctx, struct shk_value *v, struct shk_strv env)
{
	const char *it = env.p, *end = env.p ? env.p + env.len : NULL, *s;
	struct sb b;
	size_t n;

	if (!env.p)
		return na(v);
	if (!sb_start(ctx, &b, env.len))
		return na(v);
	while ((s = item_next(&it, end, &n))) {
		if (b.len)
			sb_put(&b, " ", 1);
		sb_put(&b, s, n);
	}
	return sb_done(&b, v);
}

/* proc.env[NAME]: the value, or "" when unset (as Falco). */
static bool env_get(struct shk_value *v, struct shk_strv env, const char *key, size_t klen)
{
	const char *it = env.p, *end = env.p ? env.p + env.len : NULL, *s;
	size_t n;

	if (!env.p)
		return na(v);
	while ((s = item_next(&it, end, &n)))
		if (n > klen && s[klen] == '=' && !memcmp(s, key, klen))
			return vstr(v, s + klen + 1, n - klen - 1);
	return vstr(v, "", 0);
}

/* ---- users -------------------------------------------------------------- */

/* A name in the process's own /etc/passwd or /etc/group: in its root
 * directory under procfs, or the host's for processes in our mount
 * namespace (which may have exited already). */
static bool id_name(struct shk_evalctx *ctx, struct shk_value *v, bool group, uint32_t id,
		    uint32_t mntns)
{
	struct name_cache *nc = name_cache(ctx);
	uint64_t key = ((uint64_t)mntns << 33 | (uint64_t)group << 32 | id) + 1;
	uint64_t now = ctx->ev->hdr->ts_ns;
	char root[PATH_MAX], name[256] = "";
	struct name_ent *e;
	bool host;
	const char *r;
	int err;

	if (!ctx->users)
		return na(v);
	if (nc->users != ctx->users) {
		memset(nc, 0, sizeof(*nc));
		nc->users = ctx->users;
	}
	e = &nc->e[(key * 0x9e3779b97f4a7c15ull) >> 57 & (NAME_CACHE - 1)];
	if (e->key == key && (now > e->ts ? now - e->ts : e->ts - now) < NAME_TTL_NS)
		return e->ok ? vstr(v, e->name, strlen(e->name)) : na(v);
	host = ctx->host_mntns && mntns == ctx->host_mntns;
	if (host) {
		r = ctx->host_root ? ctx->host_root : "/";
	} else {
		snprintf(root, sizeof(root), "%s/%u/root", ctx->proc_root ? ctx->proc_root : "/proc",
			 ctx->ev->hdr->pid);
		r = root;
	}
	err = group ? shk_users_gid_name(ctx->users, r, id, name, sizeof(name))
		    : shk_users_uid_name(ctx->users, r, id, name, sizeof(name));
	if ((!err || host) && strlen(name) <= SHK_USERS_NAME_MAX) {
		e->key = key;
		e->ts = now;
		e->ok = !err;
		if (!err)
			memcpy(e->name, name, strlen(name) + 1);
	}
	if (err)
		return na(v);
	return vcopy(ctx, v, name, strlen(name));
}

/* ---- fd ----------------------------------------------------------------- */

static bool is_ip(unsigned type)
{
	return type == SHK_FD_IPV4 || type == SHK_FD_IPV6;
}

static bool is_filelike(unsigned type)
{
	return type == SHK_FD_FILE || type == SHK_FD_CHAR || type == SHK_FD_BLOCK ||
	       type == SHK_FD_MEMFD;
}

/*
 * Which end is the client. Falco remembers who connected and who accepted;
 * shrike has no fd table, so connect marks the local end as the client and
 * bind/listen/accept as the server. For other socket calls (send, recv,
 * dup, ...) the end with the lower port is taken for the server, and an
 * unconnected socket is a server.
 */
static int fd_role(const struct sys_meta *m, const struct shk_fd *fd)
{
	if (m->x && (m->x->flags & M_CLIENT))
		return ROLE_CLIENT;
	if (m->x && (m->x->flags & M_SERVER))
		return ROLE_SERVER;
	if (!fd->rport || fd->lport <= fd->rport)
		return ROLE_SERVER;
	return ROLE_CLIENT;
}

/*
 * The fd an event is about, as Falco chooses it: the result for calls that
 * create one (open, socket, accept, memfd_create), the fd argument for the
 * others (connect, bind, send*, dup, fchmod, ...). A failed open still has
 * a name and is a file (fd.num -1), as in Falco. Path syscalls without an
 * fd (unlink, rename, mkdir, symlink, ...) get the path as fd.name too, a
 * shrike extension; their fd.num and fd.type stay <NA>.
 */
static const struct fdview *fdv(struct shk_evalctx *ctx)
{
	struct shk_evalctx_priv *p = ctx->priv;
	struct fdview *v = &p->fd;
	const struct shk_event *ev = ctx->ev;
	const struct shk_syscall *s;
	const struct sys_meta *m;

	if (p->fd_done)
		return v;
	p->fd_done = true;
	memset(v, 0, sizeof(*v));
	if (ev->type != SHK_EV_SYSCALL)
		return v;
	s = ev->sys;
	m = meta_of(ev);
	switch (s->kind) {
	case SHK_K_OPEN:
	case SHK_K_OPENAT:
	case SHK_K_OPENAT2:
	case SHK_K_CREAT:
		v->any = true;
		v->has_num = true;
		v->path = ev->path;
		v->raw = ev->str[SHK_SYS_RAW];
		if (s->ret >= 0) {
			v->fd = &s->fd[SHK_FD_RES];
			v->num = s->ret;
			v->type = v->fd->type != SHK_FD_NONE ? v->fd->type : SHK_FD_FILE;
		} else {
			v->nullfd = true;
			v->num = -1;
			v->type = SHK_FD_FILE;
		}
		return v;
	case SHK_K_SOCKET:
	case SHK_K_ACCEPT:
	case SHK_K_MEMFD:
		if (s->ret < 0)
			return v;
		v->any = true;
		v->fd = &s->fd[SHK_FD_RES];
		v->has_num = true;
		v->num = s->ret;
		v->type = v->fd->type;
		if (s->kind == SHK_K_MEMFD && v->type == SHK_FD_NONE)
			v->type = SHK_FD_MEMFD;
		break;
	case SHK_K_SOCKADDR:
	case SHK_K_SENDTO:
	case SHK_K_FD:
	case SHK_K_DUP:
	case SHK_K_FINIT_MODULE:
		v->fd = &s->fd[SHK_FD_ARG];
		if (s->kind == SHK_K_DUP && v->fd->type == SHK_FD_NONE && s->ret >= 0)
			v->fd = &s->fd[SHK_FD_RES];
		v->any = true;
		v->has_num = true;
		v->num = v->fd->fd >= 0 ? v->fd->fd : (int32_t)s->args[0];
		v->type = v->fd->type;
		v->path = ev->path.p ? ev->path : ev->str[SHK_SYS_PATH];
		v->raw = v->path;
		break;
	case SHK_K_PATH:
	case SHK_K_PATHAT:
	case SHK_K_PATH2:
	case SHK_K_PATH2AT:
	case SHK_K_CHDIR:
		v->any = v->nullfd = true;
		v->path = ev->path;
		v->raw = ev->str[SHK_SYS_RAW];
		return v;
	case SHK_K_SYMLINK:
	case SHK_K_SYMLINKAT:
		/* the file created is the link; the target is only text */
		v->any = v->nullfd = true;
		v->path = ev->path2;
		v->raw = ev->str[SHK_SYS_RAW2];
		return v;
	default:
		return v;
	}
	if (v->type == SHK_FD_UNIX) {
		v->path = ev->str[SHK_SYS_EXTRA];
		v->raw = v->path;
	}
	if (is_ip(v->type))
		v->role = fd_role(m, v->fd);
	return v;
}

static const uint8_t *fd_addr(const struct fdview *f, bool server)
{
	bool remote = f->role == ROLE_CLIENT ? server : !server;

	return remote ? f->fd->raddr : f->fd->laddr;
}

static uint16_t fd_port(const struct fdview *f, bool server)
{
	bool remote = f->role == ROLE_CLIENT ? server : !server;

	return remote ? f->fd->rport : f->fd->lport;
}

static bool vip(struct shk_value *v, const struct fdview *f, const uint8_t *addr)
{
	v->type = SHK_V_IP;
	v->family = f->type == SHK_FD_IPV6 ? 6 : 4;
	memset(v->ip, 0, sizeof(v->ip));
	memcpy(v->ip, addr, v->family == 6 ? 16 : 4);
	return true;
}

static bool ip_text(struct shk_evalctx *ctx, struct shk_value *v, const struct fdview *f,
		    const uint8_t *addr)
{
	char b[INET6_ADDRSTRLEN];

	if (!inet_ntop(f->type == SHK_FD_IPV6 ? AF_INET6 : AF_INET, addr, b, sizeof(b)))
		return na(v);
	return vcopy(ctx, v, b, strlen(b));
}

static bool fd_name(struct shk_evalctx *ctx, struct shk_value *v)
{
	const struct fdview *f = fdv(ctx);
	char l[64], r[64];

	if (!f->any)
		return na(v);
	if (is_ip(f->type) && f->fd) {
		/* client -> server, as Falco names connections */
		bool lc = f->role == ROLE_CLIENT;

		shk_render_endpoint(f->fd, !lc, l, sizeof(l));
		shk_render_endpoint(f->fd, lc, r, sizeof(r));
		return vfmt(ctx, v, "%s->%s", l, r);
	}
	if (f->path.p)
		return vview(v, f->path);
	if (f->type == SHK_FD_MEMFD && ctx->ev->str[SHK_SYS_EXTRA].p)
		return vfmt(ctx, v, "memfd:%s", ctx->ev->str[SHK_SYS_EXTRA].p);
	return na(v);
}

static bool fd_directory(struct shk_evalctx *ctx, struct shk_value *v)
{
	const struct fdview *f = fdv(ctx);
	char b[SHK_PATH_MAX];
	int n;

	if (!f->any || !f->path.p || !(f->nullfd || is_filelike(f->type) || f->type == SHK_FD_DIR))
		return na(v);
	if (f->type == SHK_FD_DIR && !f->nullfd)
		return vview(v, f->path);
	n = shk_path_dirname(f->path.p, b, sizeof(b));
	return n < 0 ? na(v) : vcopy(ctx, v, b, (size_t)n);
}

/* Falco has no file name without an fd (failed opens, path syscalls). */
static bool fd_filename(struct shk_evalctx *ctx, struct shk_value *v)
{
	const struct fdview *f = fdv(ctx);

	if (!f->any || f->nullfd || !f->path.p || !is_filelike(f->type))
		return na(v);
	return vcstr(v, shk_path_basename(f->path.p));
}

static bool fd_l4proto(struct shk_value *v, const struct fdview *f)
{
	if (!f->fd || !is_ip(f->type))
		return na(v);
	switch (f->fd->protocol) {
	case IPPROTO_TCP:
		return vcstr(v, "tcp");
	case IPPROTO_UDP:
		return vcstr(v, "udp");
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return vcstr(v, "icmp");
	case IPPROTO_RAW:
		return vcstr(v, "raw");
	}
	switch (f->fd->sock_type & 0xf) {
	case SOCK_STREAM:
		return vcstr(v, "tcp");
	case SOCK_DGRAM:
		return vcstr(v, "udp");
	case SOCK_RAW:
		return vcstr(v, "raw");
	}
	return na(v);
}

/* fd.sip, fd.cport, ...: which end, and address or port or text. */
enum fd_part { P_IP, P_PORT, P_NAME };

static bool fd_end(struct shk_evalctx *ctx, struct shk_value *v, int end, enum fd_part part)
{
	const struct fdview *f = fdv(ctx);
	const uint8_t *addr;
	uint16_t port;

	if (!f->fd || !is_ip(f->type))
		return na(v);
	/* end: 0 client, 1 server, 2 local, 3 remote */
	if (end <= 1) {
		addr = fd_addr(f, end == 1);
		port = fd_port(f, end == 1);
	} else {
		addr = end == 2 ? f->fd->laddr : f->fd->raddr;
		port = end == 2 ? f->fd->lport : f->fd->rport;
	}
	switch (part) {
	case P_IP:
		return vip(v, f, addr);
	case P_PORT:
		return vu64(v, port);
	case P_NAME:
		/* never DNS: a lookup per event could block the agent on the
		 * network; the address is what shrike knows */
		return ip_text(ctx, v, f, addr);
	}
	return na(v);
}

/* ---- rendered arguments ------------------------------------------------- */

struct flag_name {
	uint64_t bit;
	const char *name;
};

static void flags_to(char *out, size_t outsz, uint64_t v, const struct flag_name *t, size_t n)
{
	size_t len = 0;
	int w;

	out[0] = '\0';
	for (size_t i = 0; i < n && len < outsz; i++) {
		if ((v & t[i].bit) != t[i].bit)
			continue;
		w = snprintf(out + len, outsz - len, "%s%s", len ? "|" : "", t[i].name);
		len += w > 0 ? (size_t)w : 0;
		v &= ~t[i].bit;
	}
	if (v && len < outsz)
		snprintf(out + len, outsz - len, "%s0x%" PRIx64, len ? "|" : "", v);
	else if (!len)
		snprintf(out, outsz, "0");
}

/* chmod modes as Falco renders them, for `evt.arg.mode contains S_ISUID` */
static void render_perm(uint64_t mode, char *out, size_t outsz)
{
	static const struct flag_name t[] = {
		{ 01, "S_IXOTH" },   { 02, "S_IWOTH" },	  { 04, "S_IROTH" },   { 010, "S_IXGRP" },
		{ 020, "S_IWGRP" },  { 040, "S_IRGRP" },  { 0100, "S_IXUSR" }, { 0200, "S_IWUSR" },
		{ 0400, "S_IRUSR" }, { 01000, "S_ISVTX" }, { 02000, "S_ISGID" }, { 04000, "S_ISUID" },
	};

	flags_to(out, outsz, mode & 07777, t, sizeof(t) / sizeof(t[0]));
}

static void render_exe_flags(uint32_t f, char *out, size_t outsz)
{
	/* Falco's execve "flags" names */
	static const struct flag_name t[] = {
		{ SHK_EXE_WRITABLE, "EXE_WRITABLE" },
		{ SHK_EXE_UPPER_LAYER, "EXE_UPPER_LAYER" },
		{ SHK_EXE_MEMFD, "EXE_FROM_MEMFD" },
		{ SHK_EXE_LOWER_LAYER, "EXE_LOWER_LAYER" },
	};

	flags_to(out, outsz, f, t, sizeof(t) / sizeof(t[0]));
}

static void render_at_flags(uint64_t f, char *out, size_t outsz)
{
	static const struct flag_name t[] = {
		{ 0x100, "AT_SYMLINK_NOFOLLOW" }, { 0x200, "AT_REMOVEDIR" },
		{ 0x400, "AT_SYMLINK_FOLLOW" },	  { 0x1000, "AT_EMPTY_PATH" },
	};

	flags_to(out, outsz, f, t, sizeof(t) / sizeof(t[0]));
}

static void render_memfd_flags(uint64_t f, char *out, size_t outsz)
{
	static const struct flag_name t[] = {
		{ 1, "MFD_CLOEXEC" }, { 2, "MFD_ALLOW_SEALING" }, { 4, "MFD_HUGETLB" },
		{ 8, "MFD_NOEXEC_SEAL" }, { 16, "MFD_EXEC" },
	};

	flags_to(out, outsz, f, t, sizeof(t) / sizeof(t[0]));
}

static void render_mount_flags(uint64_t f, char *out, size_t outsz)
{
	static const struct flag_name t[] = {
		{ 1, "RDONLY" },	  { 2, "NOSUID" },	  { 4, "NODEV" },
		{ 8, "NOEXEC" },	  { 16, "SYNCHRONOUS" },  { 32, "REMOUNT" },
		{ 64, "MANDLOCK" },	  { 128, "DIRSYNC" },	  { 1024, "NOATIME" },
		{ 2048, "NODIRATIME" },	  { 4096, "BIND" },	  { 8192, "MOVE" },
		{ 16384, "REC" },	  { 32768, "SILENT" },	  { 1u << 18, "PRIVATE" },
		{ 1u << 19, "SLAVE" },
		{ 1u << 20, "SHARED" },
	};

	flags_to(out, outsz, f, t, sizeof(t) / sizeof(t[0]));
}

/* One syscall argument: raw as a number, else rendered as Falco shows it
 * (for uids and gids the name, which is what evt.arg.uid=nobody needs). */
static bool arg_value(struct shk_evalctx *ctx, struct shk_value *v, const struct sys_meta *m,
		      const struct shk_sys_arg *a, bool raw)
{
	uint64_t x = ctx->ev->sys->args[a->idx];
	struct taskv t;
	char b[256];

	if (raw) {
		switch (a->fmt) {
		case SHK_A_INT:
		case SHK_A_FD:
		case SHK_A_PID:
			return vi64(v, (int32_t)x);
		case SHK_A_UID:
		case SHK_A_GID:
			return vu64(v, (uint32_t)x);
		default:
			return vu64(v, x);
		}
	}
	switch (a->fmt) {
	case SHK_A_INT:
	case SHK_A_FD:
	case SHK_A_PID:
		return vfmt(ctx, v, "%" PRId32, (int32_t)x);
	case SHK_A_UINT:
		return vfmt(ctx, v, "%" PRIu64, x);
	case SHK_A_UID:
	case SHK_A_GID:
		if ((uint32_t)x != UINT32_MAX && self_task(ctx, &t) &&
		    id_name(ctx, v, a->fmt == SHK_A_GID, (uint32_t)x, t.mntns))
			return true;
		return vfmt(ctx, v, "%" PRId32, (int32_t)x);
	case SHK_A_OPEN_FLAGS:
		shk_render_open_flags(x, b, sizeof(b));
		break;
	case SHK_A_MODE:
		if (m->x && (m->x->flags & M_CHMOD))
			render_perm(x, b, sizeof(b));
		else
			shk_render_mode(x, b, sizeof(b));
		break;
	case SHK_A_SIGNAL:
		shk_render_signal(x, b, sizeof(b));
		break;
	case SHK_A_PTRACE_REQ:
		shk_render_ptrace_req(x, b, sizeof(b));
		break;
	case SHK_A_DOMAIN:
		shk_render_domain(x, b, sizeof(b));
		break;
	case SHK_A_SOCKTYPE:
		shk_render_socktype(x, b, sizeof(b));
		break;
	case SHK_A_CLONE_FLAGS:
		shk_render_clone_flags(x, b, sizeof(b));
		break;
	case SHK_A_PRCTL_OPT:
		shk_render_prctl_opt(x, b, sizeof(b));
		break;
	case SHK_A_BPF_CMD:
		shk_render_bpf_cmd(x, b, sizeof(b));
		break;
	case SHK_A_AT_FLAGS:
		render_at_flags(x, b, sizeof(b));
		break;
	case SHK_A_MEMFD_FLAGS:
		render_memfd_flags(x, b, sizeof(b));
		break;
	case SHK_A_MOUNT_FLAGS:
		render_mount_flags(x, b, sizeof(b));
		break;
	default:
		snprintf(b, sizeof(b), "0x%" PRIx64, x);
		break;
	}
	return vcopy(ctx, v, b, strlen(b));
}

static bool key_is(const char *key, size_t klen, const char *name)
{
	return name && strlen(name) == klen && !memcmp(key, name, klen);
}

static bool creates_fd(uint32_t kind)
{
	return kind == SHK_K_OPEN || kind == SHK_K_OPENAT || kind == SHK_K_OPENAT2 ||
	       kind == SHK_K_CREAT || kind == SHK_K_SOCKET || kind == SHK_K_ACCEPT ||
	       kind == SHK_K_MEMFD;
}

/* The return value: errno names for "res", numbers for fds. */
static bool res_value(struct shk_evalctx *ctx, struct shk_value *v, int64_t ret, bool raw,
		      bool errno_name)
{
	char b[64];

	if (raw)
		return vi64(v, ret);
	if (ret < 0 && errno_name) {
		shk_render_errno(ret, b, sizeof(b));
		return vcopy(ctx, v, b, strlen(b));
	}
	return vfmt(ctx, v, "%" PRId64, ret);
}

static bool tuple_value(struct shk_evalctx *ctx, struct shk_value *v)
{
	const struct fdview *f = fdv(ctx);

	if (!f->fd || !(is_ip(f->type) || f->type == SHK_FD_UNIX))
		return na(v);
	return fd_name(ctx, v);
}

/* The argument names of a syscall record, in the order evt.arg[N] and
 * evt.args use: the result, the numeric arguments, then the strings. This
 * is shrike's order, close to but not always Falco's parameter order. */
static size_t sys_arg_names(const struct shk_event *ev, const struct sys_meta *m,
			    const char **names, size_t max)
{
	size_t n = 0;

	names[n++] = creates_fd(ev->sys->kind) ? "fd" : "res";
	for (int i = 0; m->d && i < SHK_SYS_MAX_ARGS && m->d->args[i].name && n < max; i++)
		names[n++] = m->d->args[i].name;
	if (m->x) {
		const char *s[] = { m->x->tuple, m->x->path1, m->x->path2, m->x->extra };

		for (size_t i = 0; i < 4 && n < max; i++)
			if (s[i])
				names[n++] = s[i];
	}
	return n;
}

static const char *const exec_arg_names[] = {
	"res", "exe", "args", "tid", "pid", "ptid", "cwd", "comm", "tty", "loginuid", "flags",
	"uid", "gid", "trusted_exepath", "filename",
};

static bool exec_arg(struct shk_evalctx *ctx, struct shk_value *v, const char *key, size_t klen,
		     bool raw)
{
	const struct shk_event *ev = ctx->ev;
	const struct shk_exec *e = ev->exec;
	char b[128];

	if (key_is(key, klen, "res"))
		return raw ? vi64(v, 0) : vcstr(v, "0");
	if (key_is(key, klen, "exe"))
		return argv0(v, ev->str[SHK_EXEC_ARGS]);
	if (key_is(key, klen, "args"))
		return join_args(ctx, v, NULL, 0, false, ev->str[SHK_EXEC_ARGS]);
	if (key_is(key, klen, "cwd"))
		return vview(v, ev->str[SHK_EXEC_CWD]);
	if (key_is(key, klen, "env"))
		return env_join(ctx, v, ev->str[SHK_EXEC_ENV]);
	if (key_is(key, klen, "trusted_exepath"))
		return vview(v, ev->str[SHK_EXEC_EXE]);
	if (key_is(key, klen, "filename"))
		return vview(v, ev->str[SHK_EXEC_FILENAME]);
	if (key_is(key, klen, "comm"))
		return vcomm(ctx, v, e->task.comm);
	if (key_is(key, klen, "flags")) {
		if (raw)
			return vu64(v, e->exe_flags);
		render_exe_flags(e->exe_flags, b, sizeof(b));
		return vcopy(ctx, v, b, strlen(b));
	}
	{
		int64_t x;

		if (key_is(key, klen, "tid"))
			x = ev->hdr->tid;
		else if (key_is(key, klen, "pid"))
			x = ev->hdr->pid;
		else if (key_is(key, klen, "ptid"))
			x = e->task.ppid;
		else if (key_is(key, klen, "tty"))
			x = e->task.tty;
		else if (key_is(key, klen, "loginuid"))
			x = (int32_t)e->task.loginuid;
		else if (key_is(key, klen, "uid"))
			x = e->task.euid;
		else if (key_is(key, klen, "gid"))
			x = e->task.egid;
		else
			return na(v);
		return raw ? vi64(v, x) : vfmt(ctx, v, "%" PRId64, x);
	}
}

static bool sys_arg(struct shk_evalctx *ctx, struct shk_value *v, const char *key, size_t klen,
		    bool raw)
{
	const struct shk_event *ev = ctx->ev;
	const struct shk_syscall *s = ev->sys;
	const struct sys_meta *m = meta_of(ev);

	if (key_is(key, klen, "res") || key_is(key, klen, "res_or_fd") ||
	    (key_is(key, klen, "fd") && creates_fd(s->kind)))
		return res_value(ctx, v, s->ret, raw, key_is(key, klen, "res"));
	for (int i = 0; m->d && i < SHK_SYS_MAX_ARGS && m->d->args[i].name; i++)
		if (key_is(key, klen, m->d->args[i].name))
			return arg_value(ctx, v, m, &m->d->args[i], raw);
	if (!m->x)
		return na(v);
	if (key_is(key, klen, m->x->path1))
		return vview(v, raw ? ev->str[SHK_SYS_RAW] : ev->path);
	if (key_is(key, klen, m->x->path2))
		return vview(v, raw ? ev->str[SHK_SYS_RAW2] : ev->path2);
	if (key_is(key, klen, m->x->extra))
		return vview(v, ev->str[SHK_SYS_EXTRA]);
	if (key_is(key, klen, m->x->tuple))
		return tuple_value(ctx, v);
	return na(v);
}

static bool other_arg(struct shk_evalctx *ctx, struct shk_value *v, const char *key, size_t klen,
		      bool raw)
{
	const struct shk_event *ev = ctx->ev;

	if (ev->type == SHK_EV_FORK) {
		if (key_is(key, klen, "res"))
			return raw ? vi64(v, 0) : vcstr(v, "0");
		if (key_is(key, klen, "pid") || key_is(key, klen, "tid"))
			return raw ? vi64(v, ev->hdr->pid) : vfmt(ctx, v, "%u", ev->hdr->pid);
		if (key_is(key, klen, "ptid"))
			return raw ? vi64(v, ev->fork->parent_pid)
				   : vfmt(ctx, v, "%u", ev->fork->parent_pid);
		return na(v);
	}
	if (ev->type == SHK_EV_EXIT && key_is(key, klen, "status"))
		return raw ? vi64(v, ev->exit->exit_code) : vfmt(ctx, v, "%d", ev->exit->exit_code);
	return na(v);
}

static bool arg_by_name(struct shk_evalctx *ctx, struct shk_value *v, const char *key,
			size_t klen, bool raw)
{
	switch (ctx->ev->type) {
	case SHK_EV_SYSCALL:
		return sys_arg(ctx, v, key, klen, raw);
	case SHK_EV_EXEC:
		return exec_arg(ctx, v, key, klen, raw);
	default:
		return other_arg(ctx, v, key, klen, raw);
	}
}

static size_t arg_names(struct shk_evalctx *ctx, const char **names, size_t max)
{
	const struct shk_event *ev = ctx->ev;
	size_t n = 0;

	switch (ev->type) {
	case SHK_EV_SYSCALL:
		return sys_arg_names(ev, meta_of(ev), names, max);
	case SHK_EV_EXEC:
		for (; n < max && n < sizeof(exec_arg_names) / sizeof(exec_arg_names[0]); n++)
			names[n] = exec_arg_names[n];
		return n;
	case SHK_EV_FORK:
		names[n++] = "res";
		names[n++] = "pid";
		names[n++] = "ptid";
		return n;
	case SHK_EV_EXIT:
		names[n++] = "status";
		return n;
	default:
		return 0;
	}
}

static bool evt_arg(struct shk_evalctx *ctx, const struct shk_fieldref *ref, struct shk_value *v,
		    bool raw)
{
	const char *names[24];
	size_t n;

	if (ref->key)
		return arg_by_name(ctx, v, ref->key, ref->key_len, raw);
	n = arg_names(ctx, names, sizeof(names) / sizeof(names[0]));
	if (ref->index < 0 || (size_t)ref->index >= n)
		return na(v);
	return arg_by_name(ctx, v, names[ref->index], strlen(names[ref->index]), raw);
}

/* evt.args: "name=value" for every argument, space separated. */
static bool evt_args(struct shk_evalctx *ctx, struct shk_value *v)
{
	const char *names[24];
	size_t n = arg_names(ctx, names, sizeof(names) / sizeof(names[0]));
	char line[4096];
	size_t len = 0;

	line[0] = '\0';
	for (size_t i = 0; i < n && len < sizeof(line); i++) {
		struct shk_value a;
		char b[1024];
		int w;

		arg_by_name(ctx, &a, names[i], strlen(names[i]), false);
		shk_value_format(&a, b, sizeof(b));
		w = snprintf(line + len, sizeof(line) - len, "%s%s=%s", len ? " " : "", names[i], b);
		len += w > 0 ? (size_t)w : 0;
	}
	if (len >= sizeof(line))
		len = sizeof(line) - 1;
	return vcopy(ctx, v, line, len);
}

/* ---- evt.* -------------------------------------------------------------- */

static bool evt_name(struct shk_evalctx *ctx, struct shk_value *v, bool syscall_only)
{
	unsigned t = ctx->priv->evtype;

	if (syscall_only && ctx->ev->type == SHK_EV_EXIT)
		return na(v);
	if (t < SHK_EVTYPE_MAX && evt_names[t][0])
		return vcstr(v, evt_names[t]);
	if (ctx->ev->type == SHK_EV_SYSCALL)
		return vfmt(ctx, v, "syscall_%u", ctx->ev->sys->nr);
	return na(v);
}

static bool evt_time(struct shk_evalctx *ctx, struct shk_value *v, enum shk_field_id id)
{
	int64_t real = (int64_t)ctx->ev->hdr->ts_ns + ctx->boot_to_real_ns;
	time_t sec = (time_t)(real / 1000000000);
	long ns = (long)(real % 1000000000);
	struct tm tm;

	/* UTC: alerts are compared across hosts; Falco's local time differs
	 * only where the host is not on UTC */
	if (!gmtime_r(&sec, &tm))
		return na(v);
	switch (id) {
	case SHK_FIELD_EVT_TIME:
		return vfmt(ctx, v, "%02d:%02d:%02d.%09ld", tm.tm_hour, tm.tm_min, tm.tm_sec, ns);
	case SHK_FIELD_EVT_TIME_S:
		return vfmt(ctx, v, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
	case SHK_FIELD_EVT_TIME_ISO8601:
		return vfmt(ctx, v, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
			    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ns);
	default:
		return vfmt(ctx, v, "%04d-%02d-%02d %02d:%02d:%02d.%09ld", tm.tm_year + 1900,
			    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ns);
	}
}

static bool is_open_kind(uint32_t kind)
{
	return kind == SHK_K_OPEN || kind == SHK_K_OPENAT || kind == SHK_K_OPENAT2 ||
	       kind == SHK_K_CREAT;
}

/* evt.is_open_*: from the open flags and mode, false for other events.
 * is_open_create is O_CREAT (Falco asks the kernel whether the file was
 * really created; shrike's record does not say). */
static bool evt_is_open(struct shk_evalctx *ctx, struct shk_value *v, enum shk_field_id id)
{
	const struct shk_syscall *s;
	uint64_t flags, mode;

	if (ctx->ev->type != SHK_EV_SYSCALL || !is_open_kind(ctx->ev->sys->kind))
		return vbool(v, false);
	s = ctx->ev->sys;
	switch (s->kind) {
	case SHK_K_CREAT:
		flags = O_WRONLY | O_CREAT | O_TRUNC;
		mode = s->args[1];
		break;
	case SHK_K_OPEN:
		flags = s->args[1];
		mode = s->args[2];
		break;
	default: /* openat, openat2 (the sensor puts how.flags/mode there) */
		flags = s->args[2];
		mode = s->args[3];
		break;
	}
	switch (id) {
	case SHK_FIELD_EVT_IS_OPEN_READ:
		/* as Falco: anything but write-only reads (O_PATH too) */
		return vbool(v, (flags & O_ACCMODE) != O_WRONLY);
	case SHK_FIELD_EVT_IS_OPEN_WRITE:
		return vbool(v, (flags & O_ACCMODE) == O_WRONLY || (flags & O_ACCMODE) == O_RDWR);
	case SHK_FIELD_EVT_IS_OPEN_EXEC:
		return vbool(v, (flags & (O_CREAT | (O_TMPFILE & ~O_DIRECTORY))) && (mode & 0111));
	default:
		return vbool(v, (flags & O_CREAT) != 0);
	}
}

/* ---- the switch --------------------------------------------------------- */

static bool caps_value(struct shk_evalctx *ctx, struct shk_value *v, uint64_t caps)
{
	char b[1024];

	shk_render_caps(caps, b, sizeof(b));
	for (char *c = b; *c; c++)
		if (*c == '|')
			*c = ' '; /* Falco separates capability names with spaces */
	return vcopy(ctx, v, b, strlen(b));
}

static bool std_type(struct shk_evalctx *ctx, struct shk_value *v, int fd)
{
	struct exev x;

	if (!self_exe(ctx, &x) || !x.std_type[fd] || x.std_type[fd] >= SHK_FD_TYPE_MAX)
		return na(v);
	return vcstr(v, shk_fd_type_name(x.std_type[fd]));
}

static uint64_t to_real(const struct shk_evalctx *ctx, uint64_t boot_ns)
{
	return (uint64_t)((int64_t)boot_ns + ctx->boot_to_real_ns);
}

/* Every ancestor's name, parent first: bare proc.aname matches any. */
static bool ancestor_names(struct shk_evalctx *ctx, struct shk_value *v)
{
	struct shk_strv *items = scratch(ctx, SHK_ANCESTOR_MAX * sizeof(*items));
	const struct shk_proc *a;
	uint32_t n = 0;

	if (!items)
		return na(v);
	for (int i = 1; i <= SHK_ANCESTOR_MAX && (a = ancestor(ctx, i)); i++) {
		struct shk_value c;

		if (!vcomm(ctx, &c, a->comm))
			break;
		items[n].p = c.str.s;
		items[n++].len = c.str.len;
	}
	if (!n)
		return na(v);
	v->type = SHK_V_LIST;
	v->n = n;
	v->list = items;
	return true;
}

/* proc.aname[N] and friends: N = 0 is the process itself. */
static bool ancestor_field(struct shk_evalctx *ctx, struct shk_value *v, enum shk_field_id id,
			   int n)
{
	const struct shk_proc *a;

	if (n == 0) {
		switch (id) {
		case SHK_FIELD_PROC_ANAME:
			return self_comm(ctx, v);
		case SHK_FIELD_PROC_AEXEPATH:
			return vview(v, self_exepath(ctx));
		case SHK_FIELD_PROC_AEXE:
			return argv0(v, self_argv(ctx));
		case SHK_FIELD_PROC_ACMDLINE:
			return self_cmdline(ctx, v);
		default:
			return vi64(v, ctx->ev->hdr->pid);
		}
	}
	a = ancestor(ctx, n);
	if (!a)
		return na(v);
	switch (id) {
	case SHK_FIELD_PROC_ANAME:
		return vcomm(ctx, v, a->comm);
	case SHK_FIELD_PROC_AEXEPATH:
		return vview(v, pview(&a->exe));
	case SHK_FIELD_PROC_AEXE:
		return argv0(v, pview(&a->args));
	case SHK_FIELD_PROC_ACMDLINE:
		return proc_cmdline(ctx, v, a);
	default:
		return vi64(v, a->tgid);
	}
}

/* Falco: the pid of the eldest ancestor (or self) whose name ends in "sh". */
static bool login_shell(struct shk_evalctx *ctx, struct shk_value *v)
{
	struct shk_value c;
	int64_t pid = -1;
	const struct shk_proc *a;

	if (self_comm(ctx, &c) && c.str.len >= 2 && !memcmp(c.str.s + c.str.len - 2, "sh", 2))
		pid = ctx->ev->hdr->pid;
	for (int i = 1; i <= SHK_ANCESTOR_MAX && (a = ancestor(ctx, i)); i++) {
		size_t n = strnlen(a->comm, SHK_COMM_LEN);

		if (n >= 2 && !memcmp(a->comm + n - 2, "sh", 2))
			pid = a->tgid;
	}
	return pid < 0 ? na(v) : vi64(v, pid);
}

static bool fs_path(struct shk_evalctx *ctx, struct shk_value *v, enum shk_field_id id)
{
	const struct shk_event *ev = ctx->ev;
	bool two;

	if (ev->type != SHK_EV_SYSCALL)
		return na(v);
	switch (ev->sys->kind) {
	case SHK_K_SYMLINK:
	case SHK_K_SYMLINKAT:
	case SHK_K_PATH2:
	case SHK_K_PATH2AT:
	case SHK_K_MOUNT:
		two = true;
		break;
	case SHK_K_OPEN:
	case SHK_K_OPENAT:
	case SHK_K_OPENAT2:
	case SHK_K_CREAT:
	case SHK_K_PATH:
	case SHK_K_PATHAT:
	case SHK_K_CHDIR:
	case SHK_K_EXECVE:
	case SHK_K_EXECVEAT:
		two = false;
		break;
	default:
		return na(v);
	}
	switch (id) {
	case SHK_FIELD_FS_PATH_NAME:
		return two ? na(v) : vview(v, ev->path);
	case SHK_FIELD_FS_PATH_NAMERAW:
		return two ? na(v) : vview(v, ev->str[SHK_SYS_RAW]);
	case SHK_FIELD_FS_PATH_SOURCE:
		return two ? vview(v, ev->path) : na(v);
	case SHK_FIELD_FS_PATH_SOURCERAW:
		return two ? vview(v, ev->str[SHK_SYS_RAW]) : na(v);
	case SHK_FIELD_FS_PATH_TARGET:
		return two ? vview(v, ev->path2) : na(v);
	default:
		return two ? vview(v, ev->str[SHK_SYS_RAW2]) : na(v);
	}
}

/* ---- containers and pods ------------------------------------------------ */

static struct shk_containers *containers_of(const struct shk_evalctx *ctx)
{
	if (ctx->containers)
		return ctx->containers;
	return ctx->procs ? shk_proctable_containers(ctx->procs) : NULL;
}

/*
 * The event's container, by cgroup id. Only an exec record's cgroup path
 * is taken as the path of the event's cgroup: the table's path may be
 * from before the process moved (cgroup.procs), while its id follows
 * every event. For a cgroup not seen yet, the cache reads the process's
 * /proc/<pid>/cgroup instead. Without a cache (tools, tests), the path is
 * parsed per event and there is no metadata. Whatever cannot be told is
 * the host, as in Falco.
 */
static const struct shk_container *self_container(struct shk_evalctx *ctx)
{
	struct shk_evalctx_priv *p = ctx->priv;
	const struct shk_event *ev = ctx->ev;
	const struct shk_strv *cg = &ev->str[SHK_EXEC_CGROUP];
	struct shk_containers *cache = containers_of(ctx);
	const struct shk_proc *pr;
	const char *path = NULL;
	uint64_t cgid;

	if (p->ctr_done)
		return p->ctr;
	p->ctr_done = true;
	pr = self_proc(ctx);
	cgid = ev->task ? ev->task->cgroup_id : pr ? pr->cgroup_id : 0;
	if (ev->type == SHK_EV_EXEC && cg->p && cg->len)
		path = cg->p;
	/* the table's path, when it is known to name this same cgroup (the
	 * process may be gone: /proc/<pid>/cgroup then cannot tell) */
	if (!path && pr && pr->cgroup.p && pr->cgroup_path_id && pr->cgroup_path_id == cgid)
		path = pr->cgroup.p;
	if (cache && cgid)
		p->ctr = shk_containers_get(cache, cgid, path, (int)ev->hdr->pid, ev->hdr->ts_ns);
	if (!p->ctr) {
		if (!path && pr && pr->cgroup.p)
			path = pr->cgroup.p;
		shk_cgroup_ident_parse(path, &p->ctr_own.ident);
		p->ctr_own.meta = NULL;
		p->ctr = &p->ctr_own;
	}
	return p->ctr;
}

/* The mounts a container.mount* argument selects: [N] by index, [glob] by
 * source path (container.mount.source: by destination). */
static const struct shk_ctr_mount *mount_arg(const struct shk_ctr_meta *m,
					     const struct shk_fieldref *ref)
{
	char pat[PATH_MAX];

	if (ref->index >= 0)
		return (uint32_t)ref->index < m->nmounts ? &m->mounts[ref->index] : NULL;
	if (!ref->key || ref->key_len >= sizeof(pat))
		return NULL;
	memcpy(pat, ref->key, ref->key_len);
	pat[ref->key_len] = '\0';
	for (uint32_t i = 0; i < m->nmounts; i++) {
		const char *s = ref->id == SHK_FIELD_CONTAINER_MOUNT_SOURCE ? m->mounts[i].dest
									   : m->mounts[i].source;

		if (s && !fnmatch(pat, s, 0))
			return &m->mounts[i];
	}
	return NULL;
}

static const char *nz(const char *s)
{
	return s ? s : "";
}

/* Falco's "source:dest:mode:rdwr:propagation". */
static void mount_put(struct sb *b, const struct shk_ctr_mount *mt)
{
	const char *parts[] = { nz(mt->source), ":", nz(mt->dest), ":", nz(mt->mode), ":",
				mt->rw ? "true" : "false", ":", nz(mt->propagation) };

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		sb_put(b, parts[i], strlen(parts[i]));
}

static bool mount_field(struct shk_evalctx *ctx, const struct shk_fieldref *ref,
			const struct shk_ctr_meta *m, struct shk_value *v)
{
	const struct shk_ctr_mount *mt;
	struct sb b;

	if (ref->id == SHK_FIELD_CONTAINER_MOUNTS) {
		if (!sb_start(ctx, &b, 64 * 1024))
			return na(v);
		for (uint32_t i = 0; i < m->nmounts; i++) {
			if (i)
				sb_put(&b, ",", 1);
			mount_put(&b, &m->mounts[i]);
		}
		return sb_done(&b, v);
	}
	mt = mount_arg(m, ref);
	if (!mt)
		return na(v);
	switch (ref->id) {
	case SHK_FIELD_CONTAINER_MOUNT:
		if (!sb_start(ctx, &b, 3 * PATH_MAX))
			return na(v);
		mount_put(&b, mt);
		return sb_done(&b, v);
	case SHK_FIELD_CONTAINER_MOUNT_SOURCE:
		return mt->source ? vcopy(ctx, v, mt->source, strlen(mt->source)) : na(v);
	case SHK_FIELD_CONTAINER_MOUNT_DEST:
		return mt->dest ? vcopy(ctx, v, mt->dest, strlen(mt->dest)) : na(v);
	case SHK_FIELD_CONTAINER_MOUNT_MODE:
		return vcopy(ctx, v, nz(mt->mode), strlen(nz(mt->mode)));
	case SHK_FIELD_CONTAINER_MOUNT_RDWR:
		return vcstr(v, mt->rw ? "true" : "false");
	default: /* propagation */
		return vcopy(ctx, v, nz(mt->propagation), strlen(nz(mt->propagation)));
	}
}

/* A metadata string, copied: the cache may drop the entry before the
 * alert that shows it is written. */
static bool vmeta(struct shk_evalctx *ctx, struct shk_value *v, const char *s)
{
	return s ? vcopy(ctx, v, s, strlen(s)) : na(v);
}

/* k8s.pod.labels ("key:value" items) and k8s.pod.label[key], copied
 * from the label cache while it holds its lock. */
struct labelv {
	struct shk_evalctx *ctx;
	const struct shk_fieldref *ref;
	struct shk_value *v;
	struct shk_strv *items;
	uint32_t n;
	bool found;
};

static void label_visit(void *arg, const char *k, size_t klen, const char *val, size_t vlen)
{
	struct labelv *l = arg;
	char *d;

	if (l->ref->id == SHK_FIELD_K8S_POD_LABEL) {
		if (!l->found && klen == l->ref->key_len && !memcmp(k, l->ref->key, klen))
			l->found = vcopy(l->ctx, l->v, val, vlen);
		return;
	}
	if (!l->items || l->n >= SHK_PODLABELS_MAX || !(d = scratch(l->ctx, klen + vlen + 2)))
		return;
	memcpy(d, k, klen);
	d[klen] = ':';
	memcpy(d + klen + 1, val, vlen);
	d[klen + vlen + 1] = '\0';
	l->items[l->n].p = d;
	l->items[l->n++].len = klen + vlen + 1;
}

/* Never waits for the API: labels not fetched yet are <NA> now, and the
 * cache asks for them so that a later event has them. */
static bool pod_labels(struct shk_evalctx *ctx, const struct shk_fieldref *ref,
		       const char *uid, const struct shk_ctr_meta *m, struct shk_value *v)
{
	struct labelv l = { .ctx = ctx, .ref = ref, .v = v };
	struct timespec ts;

	if (!ctx->podlabels || !m->pod_ns || !m->pod_name)
		return na(v);
	if (ref->id == SHK_FIELD_K8S_POD_LABELS &&
	    !(l.items = scratch(ctx, SHK_PODLABELS_MAX * sizeof(*l.items))))
		return na(v);
	/* the fetcher stamps answers with CLOCK_BOOTTIME too */
	clock_gettime(CLOCK_BOOTTIME, &ts);
	if (shk_podlabels_lookup(ctx->podlabels, uid, m->pod_ns, m->pod_name,
				 (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec,
				 label_visit, &l) < 0)
		return na(v);
	if (ref->id == SHK_FIELD_K8S_POD_LABEL)
		return l.found ? true : na(v);
	v->type = SHK_V_LIST;
	v->n = l.n;
	v->list = l.items;
	return true;
}

static bool container_field(struct shk_evalctx *ctx, const struct shk_fieldref *ref,
			    struct shk_value *v)
{
	const struct shk_container *k = self_container(ctx);
	const struct shk_cgroup_ident *id = &k->ident;
	const struct shk_ctr_meta *m = k->meta;
	bool host = id->runtime == SHK_CTR_HOST;
	uint64_t now;

	/* Falco's values outside containers: "host" for the ids and the
	 * name, <NA> for the rest */
	if (host)
		return ref->id == SHK_FIELD_CONTAINER_ID || ref->id == SHK_FIELD_CONTAINER_FULL_ID ||
		       ref->id == SHK_FIELD_CONTAINER_NAME
			       ? vcstr(v, "host")
			       : na(v);
	switch (ref->id) {
	case SHK_FIELD_CONTAINER_ID:
		return vcopy(ctx, v, id->short_id, strlen(id->short_id));
	case SHK_FIELD_CONTAINER_FULL_ID:
		return vcopy(ctx, v, id->id, strlen(id->id));
	case SHK_FIELD_CONTAINER_TYPE:
		return vcstr(v, shk_ctr_runtime_name(m ? m->type : id->runtime));
	case SHK_FIELD_K8S_POD_UID:
	case SHK_FIELD_K8S_POD_ID: /* Falco's older name for the uid */
		if (m && m->pod_uid)
			return vmeta(ctx, v, m->pod_uid);
		return id->pod_uid[0] ? vcopy(ctx, v, id->pod_uid, strlen(id->pod_uid)) : na(v);
	default:
		break;
	}
	if (!m)
		return na(v);
	switch (ref->id) {
	case SHK_FIELD_CONTAINER_NAME:
		return vmeta(ctx, v, m->name);
	case SHK_FIELD_CONTAINER_IMAGE:
		return vmeta(ctx, v, m->image);
	case SHK_FIELD_CONTAINER_IMAGE_REPOSITORY:
		return vmeta(ctx, v, m->image_repo);
	case SHK_FIELD_CONTAINER_IMAGE_TAG:
		return vmeta(ctx, v, m->image_tag);
	case SHK_FIELD_CONTAINER_IMAGE_DIGEST:
		return vmeta(ctx, v, m->image_digest);
	case SHK_FIELD_CONTAINER_IMAGE_ID:
		return vmeta(ctx, v, m->image_id);
	case SHK_FIELD_CONTAINER_IP:
		return vmeta(ctx, v, m->ip);
	case SHK_FIELD_CONTAINER_PRIVILEGED:
		return m->privileged_known ? vbool(v, m->privileged) : na(v);
	case SHK_FIELD_CONTAINER_START_TS:
		return m->start_ts > 0 ? vu64(v, (uint64_t)m->start_ts) : na(v);
	case SHK_FIELD_CONTAINER_DURATION:
		now = to_real(ctx, ctx->ev->hdr->ts_ns);
		return m->start_ts > 0 && now >= (uint64_t)m->start_ts
			       ? vu64(v, now - (uint64_t)m->start_ts)
			       : na(v);
	case SHK_FIELD_K8S_POD_NAME:
		return vmeta(ctx, v, m->pod_name);
	case SHK_FIELD_K8S_NS_NAME:
		return vmeta(ctx, v, m->pod_ns);
	case SHK_FIELD_K8S_POD_FULL_SANDBOX_ID:
		return vmeta(ctx, v, m->sandbox_id);
	case SHK_FIELD_K8S_POD_SANDBOX_ID:
		/* 12 characters, as container.id */
		return m->sandbox_id ? vcopy(ctx, v, m->sandbox_id,
					     strnlen(m->sandbox_id, SHK_CTR_SHORT_LEN))
				     : na(v);
	case SHK_FIELD_K8S_POD_LABEL:
	case SHK_FIELD_K8S_POD_LABELS:
		return pod_labels(ctx, ref, m->pod_uid ? m->pod_uid : id->pod_uid, m, v);
	default:
		return mount_field(ctx, ref, m, v);
	}
}

static bool extract_raw(struct shk_evalctx *ctx, const struct shk_fieldref *ref,
			struct shk_value *v)
{
	const struct shk_event *ev = ctx->ev;
	const struct fdview *f;
	const struct shk_proc *p;
	struct taskv t;
	struct exev x;
	struct shk_value c;

	switch (ref->id) {
	/* evt */
	case SHK_FIELD_EVT_TYPE:
		return evt_name(ctx, v, false);
	case SHK_FIELD_SYSCALL_TYPE:
		return evt_name(ctx, v, true);
	case SHK_FIELD_EVT_DIR:
		/* records with the entry-time task stand for Falco's enter
		 * event: that is the view `evt.dir = >` rules expect */
		return vcstr(v, ev->hdr->flags & SHK_F_ENTER_CTX ? ">" : "<");
	case SHK_FIELD_EVT_RES:
		if (ev->type == SHK_EV_SYSCALL) {
			char b[64];

			shk_render_res(ev->sys->ret, b, sizeof(b));
			return vcopy(ctx, v, b, strlen(b));
		}
		return ev->type == SHK_EV_EXIT ? na(v) : vcstr(v, "SUCCESS");
	case SHK_FIELD_EVT_RAWRES:
		if (ev->type == SHK_EV_SYSCALL)
			return vi64(v, ev->sys->ret);
		return ev->type == SHK_EV_EXIT ? na(v) : vi64(v, 0);
	case SHK_FIELD_EVT_FAILED:
		return vbool(v, ev->type == SHK_EV_SYSCALL && ev->sys->ret < 0);
	case SHK_FIELD_EVT_CPU:
		return vu64(v, ev->hdr->cpu);
	case SHK_FIELD_EVT_NUM:
		/* never 0: the rule files' never_true macro is evt.num=0 */
		return vu64(v, ctx->evt_num ? ctx->evt_num : ctx->priv->num);
	case SHK_FIELD_EVT_HOSTNAME:
		return vcstr(v, ctx->hostname);
	case SHK_FIELD_EVT_SOURCE:
		return vcstr(v, "syscall");
	case SHK_FIELD_EVT_IS_ASYNC:
		return vbool(v, false);
	case SHK_FIELD_EVT_TIME:
	case SHK_FIELD_EVT_TIME_S:
	case SHK_FIELD_EVT_TIME_ISO8601:
	case SHK_FIELD_EVT_DATETIME:
		return evt_time(ctx, v, ref->id);
	case SHK_FIELD_EVT_RAWTIME:
		return vu64(v, to_real(ctx, ev->hdr->ts_ns));
	case SHK_FIELD_EVT_ARG:
		return evt_arg(ctx, ref, v, false);
	case SHK_FIELD_EVT_RAWARG:
		return evt_arg(ctx, ref, v, true);
	case SHK_FIELD_EVT_ARGS:
	case SHK_FIELD_EVT_INFO:
		return evt_args(ctx, v);
	case SHK_FIELD_EVT_IS_OPEN_READ:
	case SHK_FIELD_EVT_IS_OPEN_WRITE:
	case SHK_FIELD_EVT_IS_OPEN_EXEC:
	case SHK_FIELD_EVT_IS_OPEN_CREATE:
		return evt_is_open(ctx, v, ref->id);

	/* proc */
	case SHK_FIELD_PROC_NAME:
		return self_comm(ctx, v);
	case SHK_FIELD_PROC_EXE:
		return argv0(v, self_argv(ctx));
	case SHK_FIELD_PROC_EXEPATH:
		return vview(v, self_exepath(ctx));
	case SHK_FIELD_PROC_ARGS:
		return self_argv(ctx).p ? join_args(ctx, v, NULL, 0, false, self_argv(ctx)) : na(v);
	case SHK_FIELD_PROC_CMDLINE:
		return self_cmdline(ctx, v);
	case SHK_FIELD_PROC_EXELINE:
		if (!argv0(&c, self_argv(ctx)))
			return na(v);
		return join_args(ctx, v, c.str.s, c.str.len, true, self_argv(ctx));
	case SHK_FIELD_PROC_CMDNARGS:
	case SHK_FIELD_PROC_CMDLENARGS: {
		struct shk_strv a = self_argv(ctx);
		const char *it = a.p, *end = a.p ? a.p + a.len : NULL;
		uint64_t nargs = 0, len = 0;
		size_t n;

		if (!a.p)
			return na(v);
		item_next(&it, end, &n);
		while (item_next(&it, end, &n)) {
			nargs++;
			len += n;
		}
		return vu64(v, ref->id == SHK_FIELD_PROC_CMDNARGS ? nargs : len);
	}
	case SHK_FIELD_PROC_CWD:
		return vview(v, self_cwd(ctx));
	case SHK_FIELD_PROC_ENV:
		if (ref->key)
			return env_get(v, self_env(ctx), ref->key, ref->key_len);
		return env_join(ctx, v, self_env(ctx));
	case SHK_FIELD_PROC_PID:
		return vi64(v, ev->hdr->pid);
	case SHK_FIELD_PROC_PPID:
		if (ev->type == SHK_EV_FORK)
			return vi64(v, ev->task->ppid);
		return self_task(ctx, &t) ? vi64(v, t.ppid) : na(v);
	case SHK_FIELD_PROC_VPID:
		return self_task(ctx, &t) && t.vpid ? vi64(v, t.vpid) : na(v);
	case SHK_FIELD_THREAD_TID:
		return vi64(v, ev->hdr->tid);
	case SHK_FIELD_THREAD_VTID:
		return self_task(ctx, &t) && t.vtid ? vi64(v, t.vtid) : na(v);
	case SHK_FIELD_THREAD_ISMAIN:
		return vbool(v, ev->hdr->tid == ev->hdr->pid);
	case SHK_FIELD_PROC_TTY:
		return self_task(ctx, &t) ? vi64(v, t.tty) : na(v);
	case SHK_FIELD_PROC_SID:
		return self_task(ctx, &t) && t.sid ? vi64(v, t.sid) : na(v);
	case SHK_FIELD_PROC_SNAME:
	case SHK_FIELD_PROC_SID_EXE:
	case SHK_FIELD_PROC_SID_EXEPATH:
		/* the session leader, from the process table by its pid */
		if (!self_task(ctx, &t) || !t.sid || !ctx->procs ||
		    !(p = shk_proctable_get(ctx->procs, (int)t.sid)))
			return na(v);
		if (ref->id == SHK_FIELD_PROC_SNAME)
			return vcomm(ctx, v, p->comm);
		if (ref->id == SHK_FIELD_PROC_SID_EXE)
			return argv0(v, pview(&p->args));
		return vview(v, pview(&p->exe));
	case SHK_FIELD_PROC_PID_TS:
		return self_task(ctx, &t) && t.start_ns ? vu64(v, to_real(ctx, t.start_ns)) : na(v);
	case SHK_FIELD_PROC_DURATION:
		if (!self_task(ctx, &t) || !t.start_ns || t.start_ns > ev->hdr->ts_ns)
			return na(v);
		return vu64(v, ev->hdr->ts_ns - t.start_ns);
	case SHK_FIELD_PROC_PNAME:
		p = parent_proc(ctx);
		return p ? vcomm(ctx, v, p->comm) : na(v);
	case SHK_FIELD_PROC_PCMDLINE:
		p = parent_proc(ctx);
		return p ? proc_cmdline(ctx, v, p) : na(v);
	case SHK_FIELD_PROC_PEXE:
		p = parent_proc(ctx);
		return p ? argv0(v, pview(&p->args)) : na(v);
	case SHK_FIELD_PROC_PEXEPATH:
		p = parent_proc(ctx);
		return p ? vview(v, pview(&p->exe)) : na(v);
	case SHK_FIELD_PROC_PVPID:
		p = parent_proc(ctx);
		return p && p->vpid ? vi64(v, p->vpid) : na(v);
	case SHK_FIELD_PROC_PPID_TS:
		p = parent_proc(ctx);
		return p && p->start_ns ? vu64(v, to_real(ctx, p->start_ns)) : na(v);
	case SHK_FIELD_PROC_PPID_DURATION:
		p = parent_proc(ctx);
		if (!p || !p->start_ns || p->start_ns > ev->hdr->ts_ns)
			return na(v);
		return vu64(v, ev->hdr->ts_ns - p->start_ns);
	case SHK_FIELD_PROC_ANAME:
		if (ref->index < 0)
			return ancestor_names(ctx, v);
		/* fallthrough */
	case SHK_FIELD_PROC_AEXEPATH:
	case SHK_FIELD_PROC_AEXE:
	case SHK_FIELD_PROC_ACMDLINE:
	case SHK_FIELD_PROC_APID:
		/* without an index these name the parent */
		return ancestor_field(ctx, v, ref->id, ref->index < 0 ? 1 : ref->index);
	case SHK_FIELD_PROC_LOGINSHELLID:
		return login_shell(ctx, v);
	case SHK_FIELD_PROC_IS_EXE_FROM_MEMFD:
		return self_exe(ctx, &x) ? vbool(v, x.flags & SHK_EXE_MEMFD) : na(v);
	case SHK_FIELD_PROC_IS_EXE_UPPER_LAYER:
		return self_exe(ctx, &x) ? vbool(v, x.flags & SHK_EXE_UPPER_LAYER) : na(v);
	case SHK_FIELD_PROC_IS_EXE_LOWER_LAYER:
		return self_exe(ctx, &x) ? vbool(v, x.flags & SHK_EXE_LOWER_LAYER) : na(v);
	case SHK_FIELD_PROC_IS_EXE_WRITABLE:
		return self_exe(ctx, &x) ? vbool(v, x.flags & SHK_EXE_WRITABLE) : na(v);
	case SHK_FIELD_PROC_EXE_INO:
		return self_exe(ctx, &x) && x.ino ? vu64(v, x.ino) : na(v);
	case SHK_FIELD_PROC_EXE_INO_CTIME:
		return self_exe(ctx, &x) && x.ctime_ns ? vu64(v, x.ctime_ns) : na(v);
	case SHK_FIELD_PROC_EXE_INO_MTIME:
		return self_exe(ctx, &x) && x.mtime_ns ? vu64(v, x.mtime_ns) : na(v);
	case SHK_FIELD_PROC_EXE_INO_CTIME_DURATION_PROC_START: {
		uint64_t start;

		if (!self_exe(ctx, &x) || !x.ctime_ns || !self_task(ctx, &t) || !t.start_ns)
			return na(v);
		start = to_real(ctx, t.start_ns);
		return start >= x.ctime_ns ? vu64(v, start - x.ctime_ns) : na(v);
	}
	case SHK_FIELD_PROC_STDIN_TYPE:
		return std_type(ctx, v, 0);
	case SHK_FIELD_PROC_STDOUT_TYPE:
		return std_type(ctx, v, 1);
	case SHK_FIELD_PROC_STDERR_TYPE:
		return std_type(ctx, v, 2);
	case SHK_FIELD_PROC_IS_CONTAINER_HEALTHCHECK:
	case SHK_FIELD_PROC_IS_CONTAINER_LIVENESS_PROBE:
	case SHK_FIELD_PROC_IS_CONTAINER_READINESS_PROBE:
		return vbool(v, false); /* host processes are no probes */
	case SHK_FIELD_THREAD_CAP_EFFECTIVE:
		return self_task(ctx, &t) ? caps_value(ctx, v, t.cap_eff) : na(v);
	case SHK_FIELD_THREAD_CAP_PERMITTED:
		return self_task(ctx, &t) ? caps_value(ctx, v, t.cap_prm) : na(v);
	case SHK_FIELD_THREAD_CAP_INHERITABLE:
		return self_task(ctx, &t) ? caps_value(ctx, v, t.cap_inh) : na(v);

	/* user, group: the effective ids, as Falco's drivers report them */
	case SHK_FIELD_USER_UID:
		return self_task(ctx, &t) ? vu64(v, t.euid) : na(v);
	case SHK_FIELD_USER_NAME:
		return self_task(ctx, &t) ? id_name(ctx, v, false, t.euid, t.mntns) : na(v);
	case SHK_FIELD_USER_LOGINUID:
		return self_task(ctx, &t) ? vi64(v, (int32_t)t.loginuid) : na(v);
	case SHK_FIELD_USER_LOGINNAME:
		if (!self_task(ctx, &t) || t.loginuid == UINT32_MAX)
			return na(v);
		return id_name(ctx, v, false, t.loginuid, t.mntns);
	case SHK_FIELD_GROUP_GID:
		return self_task(ctx, &t) ? vu64(v, t.egid) : na(v);
	case SHK_FIELD_GROUP_NAME:
		return self_task(ctx, &t) ? id_name(ctx, v, true, t.egid, t.mntns) : na(v);

	/* fd */
	case SHK_FIELD_FD_NAME:
		return fd_name(ctx, v);
	case SHK_FIELD_FD_CONTAINERNAME:
		if (!fd_name(ctx, &c))
			return na(v);
		return vfmt(ctx, v, "%s:%s", self_container(ctx)->ident.short_id, c.str.s);
	case SHK_FIELD_FD_NAMERAW:
		f = fdv(ctx);
		if (f->raw.p)
			return vview(v, f->raw);
		return fd_name(ctx, v);
	case SHK_FIELD_FD_DIRECTORY:
		return fd_directory(ctx, v);
	case SHK_FIELD_FD_CONTAINERDIRECTORY:
		if (!fd_directory(ctx, &c))
			return na(v);
		return vfmt(ctx, v, "%s:%s", self_container(ctx)->ident.short_id, c.str.s);
	case SHK_FIELD_FD_FILENAME:
		return fd_filename(ctx, v);
	case SHK_FIELD_FD_NUM:
		f = fdv(ctx);
		return f->has_num ? vi64(v, f->num) : na(v);
	case SHK_FIELD_FD_TYPE:
		f = fdv(ctx);
		if (!f->any || f->type == SHK_FD_NONE)
			return na(v);
		return vcstr(v, shk_fd_type_name(f->type));
	case SHK_FIELD_FD_TYPECHAR:
		f = fdv(ctx);
		if (!f->any || f->type == SHK_FD_NONE)
			return na(v);
		return vstr(v, typechars[f->type], 1);
	case SHK_FIELD_FD_TYPES:
		if (ref->index < 0 || ref->index > 2 || !std_type(ctx, &c, ref->index))
			return na(v);
		{
			struct shk_strv *items = scratch(ctx, sizeof(*items));

			if (!items)
				return na(v);
			items->p = c.str.s;
			items->len = c.str.len;
			v->type = SHK_V_LIST;
			v->n = 1;
			v->list = items;
			return true;
		}
	case SHK_FIELD_FD_INO:
		f = fdv(ctx);
		return f->fd && f->type != SHK_FD_NONE ? vu64(v, f->fd->ino) : na(v);
	case SHK_FIELD_FD_DEV:
		f = fdv(ctx);
		return f->fd && f->type != SHK_FD_NONE ? vu64(v, f->fd->dev) : na(v);
	case SHK_FIELD_FD_DEV_MAJOR:
		f = fdv(ctx);
		return f->fd && f->type != SHK_FD_NONE ? vu64(v, f->fd->dev >> 20) : na(v);
	case SHK_FIELD_FD_DEV_MINOR:
		f = fdv(ctx);
		return f->fd && f->type != SHK_FD_NONE ? vu64(v, f->fd->dev & 0xfffff) : na(v);
	case SHK_FIELD_FD_SOCKFAMILY:
		f = fdv(ctx);
		if (is_ip(f->type))
			return vcstr(v, "ip");
		return f->type == SHK_FD_UNIX ? vcstr(v, "unix") : na(v);
	case SHK_FIELD_FD_L4PROTO:
		return fd_l4proto(v, fdv(ctx));
	case SHK_FIELD_FD_CONNECTED:
		f = fdv(ctx);
		return f->fd && is_ip(f->type) ? vbool(v, f->fd->rport != 0) : na(v);
	case SHK_FIELD_FD_IS_SERVER:
		f = fdv(ctx);
		return f->fd && is_ip(f->type) ? vbool(v, f->role == ROLE_SERVER) : na(v);
	case SHK_FIELD_FD_CIP:
	case SHK_FIELD_FD_CNET:
		return fd_end(ctx, v, 0, P_IP);
	case SHK_FIELD_FD_SIP:
	case SHK_FIELD_FD_SNET:
	case SHK_FIELD_FD_IP:  /* either end: evaluated as a pair in eval.c */
	case SHK_FIELD_FD_NET: /* extracted alone, it is the server's */
		return fd_end(ctx, v, 1, P_IP);
	case SHK_FIELD_FD_LIP:
	case SHK_FIELD_FD_LNET:
		return fd_end(ctx, v, 2, P_IP);
	case SHK_FIELD_FD_RIP:
	case SHK_FIELD_FD_RNET:
		return fd_end(ctx, v, 3, P_IP);
	case SHK_FIELD_FD_CPORT:
		return fd_end(ctx, v, 0, P_PORT);
	case SHK_FIELD_FD_SPORT:
	case SHK_FIELD_FD_PORT:
		return fd_end(ctx, v, 1, P_PORT);
	case SHK_FIELD_FD_LPORT:
		return fd_end(ctx, v, 2, P_PORT);
	case SHK_FIELD_FD_RPORT:
		return fd_end(ctx, v, 3, P_PORT);
	case SHK_FIELD_FD_CIP_NAME:
		return fd_end(ctx, v, 0, P_NAME);
	case SHK_FIELD_FD_SIP_NAME:
		return fd_end(ctx, v, 1, P_NAME);
	case SHK_FIELD_FD_LIP_NAME:
		return fd_end(ctx, v, 2, P_NAME);
	case SHK_FIELD_FD_RIP_NAME:
		return fd_end(ctx, v, 3, P_NAME);

	case SHK_FIELD_FS_PATH_NAME:
	case SHK_FIELD_FS_PATH_NAMERAW:
	case SHK_FIELD_FS_PATH_SOURCE:
	case SHK_FIELD_FS_PATH_SOURCERAW:
	case SHK_FIELD_FS_PATH_TARGET:
	case SHK_FIELD_FS_PATH_TARGETRAW:
		return fs_path(ctx, v, ref->id);

	case SHK_FIELD_CONTAINER_DURATION:
	case SHK_FIELD_CONTAINER_FULL_ID:
	case SHK_FIELD_CONTAINER_ID:
	case SHK_FIELD_CONTAINER_IMAGE:
	case SHK_FIELD_CONTAINER_IMAGE_DIGEST:
	case SHK_FIELD_CONTAINER_IMAGE_ID:
	case SHK_FIELD_CONTAINER_IMAGE_REPOSITORY:
	case SHK_FIELD_CONTAINER_IMAGE_TAG:
	case SHK_FIELD_CONTAINER_IP:
	case SHK_FIELD_CONTAINER_MOUNT:
	case SHK_FIELD_CONTAINER_MOUNT_DEST:
	case SHK_FIELD_CONTAINER_MOUNT_MODE:
	case SHK_FIELD_CONTAINER_MOUNT_PROPAGATION:
	case SHK_FIELD_CONTAINER_MOUNT_RDWR:
	case SHK_FIELD_CONTAINER_MOUNT_SOURCE:
	case SHK_FIELD_CONTAINER_MOUNTS:
	case SHK_FIELD_CONTAINER_NAME:
	case SHK_FIELD_CONTAINER_PRIVILEGED:
	case SHK_FIELD_CONTAINER_START_TS:
	case SHK_FIELD_CONTAINER_TYPE:
	case SHK_FIELD_K8S_NS_NAME:
	case SHK_FIELD_K8S_POD_FULL_SANDBOX_ID:
	case SHK_FIELD_K8S_POD_ID:
	case SHK_FIELD_K8S_POD_LABEL:
	case SHK_FIELD_K8S_POD_LABELS:
	case SHK_FIELD_K8S_POD_NAME:
	case SHK_FIELD_K8S_POD_SANDBOX_ID:
	case SHK_FIELD_K8S_POD_UID:
		return container_field(ctx, ref, v);

	default:
		/* the rest (vm sizes, process groups, session ids, service
		 * names, k8s, container details, ...) is data shrike does not
		 * collect: <NA>, so comparisons are false as in Falco */
		return na(v);
	}
}

/* ---- transformers ------------------------------------------------------- */

static bool as_string(struct shk_evalctx *ctx, struct shk_value *v)
{
	char b[128];
	size_t n;

	if (v->type == SHK_V_STR || v->type == SHK_V_LIST)
		return true;
	n = shk_value_format(v, b, sizeof(b));
	return vcopy(ctx, v, b, n < sizeof(b) ? n : sizeof(b) - 1);
}

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

static bool b64_decode(struct shk_evalctx *ctx, struct shk_value *v, const char *s, size_t len)
{
	char *d = scratch(ctx, len / 4 * 3 + 4);
	uint32_t acc = 0;
	size_t o = 0;
	int bits = 0;

	if (!d)
		return na(v);
	for (size_t i = 0; i < len; i++) {
		int x;

		if (s[i] == '=')
			break;
		x = b64val((unsigned char)s[i]);
		if (x < 0)
			return na(v);
		acc = acc << 6 | (uint32_t)x;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			d[o++] = (char)(acc >> bits);
		}
	}
	d[o] = '\0';
	return vstr(v, d, o);
}

static bool xform_str(struct shk_evalctx *ctx, enum shk_xform xf, const char *s, size_t len,
		      struct shk_value *out)
{
	char *d;

	switch (xf) {
	case SHK_XF_TOLOWER:
	case SHK_XF_TOUPPER:
		d = scratch(ctx, len + 1);
		if (!d)
			return na(out);
		for (size_t i = 0; i < len; i++)
			d[i] = (char)(xf == SHK_XF_TOLOWER ? tolower((unsigned char)s[i])
							   : toupper((unsigned char)s[i]));
		d[len] = '\0';
		return vstr(out, d, len);
	case SHK_XF_BASENAME: {
		const char *slash = memrchr(s, '/', len);

		return slash ? vstr(out, slash + 1, len - (size_t)(slash + 1 - s)) : vstr(out, s, len);
	}
	case SHK_XF_B64:
		return b64_decode(ctx, out, s, len);
	default:
		return vstr(out, s, len);
	}
}

static bool apply_xform(struct shk_evalctx *ctx, enum shk_xform xf, struct shk_value *v)
{
	if (v->type == SHK_V_NA)
		return false;
	if (xf == SHK_XF_VAL)
		return true;
	if (!as_string(ctx, v))
		return false;
	if (xf == SHK_XF_LEN)
		return vu64(v, v->type == SHK_V_LIST ? v->n : v->str.len);
	if (v->type == SHK_V_LIST) {
		struct shk_strv *items = scratch(ctx, v->n * sizeof(*items));

		if (!items)
			return na(v);
		for (uint32_t i = 0; i < v->n; i++) {
			struct shk_value one;

			if (!xform_str(ctx, xf, v->list[i].p, v->list[i].len, &one))
				return na(v);
			items[i].p = one.str.s;
			items[i].len = one.str.len;
		}
		v->list = items;
		return true;
	}
	return xform_str(ctx, xf, v->str.s, v->str.len, v);
}

/* ---- entry points ------------------------------------------------------- */

/* A field with an argument, memoised by id and argument (its text: a
 * check compiled for another ruleset may ask within the same event). */
static void keyed(struct shk_evalctx *ctx, const struct shk_fieldref *ref, struct shk_value *out)
{
	struct shk_evalctx_priv *p = ctx->priv;
	uint32_t klen = ref->key ? ref->key_len : 0;
	struct kmemo *k;

	if (klen > KMEMO_KEY) {
		extract_raw(ctx, ref, out);
		return;
	}
	for (uint32_t i = 0; i < p->nkmemo; i++) {
		k = &p->kmemo[i];
		if (k->id == ref->id && k->index == ref->index && k->key_len == klen &&
		    !memcmp(k->key, ref->key ? ref->key : "", klen)) {
			*out = k->v;
			return;
		}
	}
	extract_raw(ctx, ref, out);
	if (p->nkmemo < KMEMO) {
		k = &p->kmemo[p->nkmemo++];
		k->id = ref->id;
		k->index = ref->index;
		k->key_len = klen;
		memcpy(k->key, ref->key ? ref->key : "", klen);
		k->v = *out;
	}
}

bool shk_extract(struct shk_evalctx *ctx, const struct shk_fieldref *ref, struct shk_value *out)
{
	struct shk_evalctx_priv *p = ctx->priv;
	unsigned id = ref->id;
	struct memo *m;

	if (!p->usable || id >= SHK_FIELD__COUNT)
		return na(out);
	if (ref->index >= 0 || ref->key) {
		keyed(ctx, ref, out);
	} else {
		m = &p->memo[id];
		if (m->epoch == p->epoch) {
			*out = m->v;
		} else {
			extract_raw(ctx, ref, out);
			m->v = *out;
			m->epoch = p->epoch;
		}
	}
	if (!ref->nxform)
		return out->type != SHK_V_NA;
	for (uint8_t i = 0; i < ref->nxform && i < SHK_MAX_XFORMS; i++)
		if (!apply_xform(ctx, ref->xform[i], out))
			return na(out);
	return out->type != SHK_V_NA;
}

bool shk_extract_id(struct shk_evalctx *ctx, enum shk_field_id id, struct shk_value *out)
{
	const struct shk_field *f = shk_field_by_id(id);
	struct shk_fieldref ref = { .id = id, .index = -1, .type = f ? f->type : SHK_FT_STRING };

	return shk_extract(ctx, &ref, out);
}

static bool namechar(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.';
}

int shk_fieldref_parse(const char *name, size_t len, struct shk_fieldref *ret)
{
	const struct shk_field *f;
	const char *darg;
	size_t tok = 0, n, dlen;

	while (tok < len && namechar(name[tok]))
		tok++;
	n = tok;
	for (;;) {
		f = n ? shk_field_resolve(name, n, &darg, &dlen) : NULL;
		if (f)
			break;
		while (n > 0 && name[n - 1] != '.')
			n--;
		if (n == 0)
			return -ENOENT;
		n--; /* and the '.' */
	}
	memset(ret, 0, sizeof(*ret));
	ret->id = f->id;
	ret->type = f->type;
	ret->index = -1;
	if (darg) {
		ret->key = darg;
		ret->key_len = (uint32_t)dlen;
	} else if (n < len && name[n] == '[' && (f->flags & (SHK_FF_ARG_INDEX | SHK_FF_ARG_KEY))) {
		const char *arg = name + n + 1;
		const char *close = memchr(arg, ']', len - n - 1);
		size_t alen;
		bool digits;

		if (close) {
			alen = (size_t)(close - arg);
			digits = alen > 0 && alen < 10;
			for (size_t i = 0; i < alen && digits; i++)
				digits = isdigit((unsigned char)arg[i]);
			if (digits && (f->flags & SHK_FF_ARG_INDEX)) {
				ret->index = (int32_t)strtol(arg, NULL, 10);
				n = (size_t)(close - name) + 1;
			} else if (f->flags & SHK_FF_ARG_KEY) {
				ret->key = arg;
				ret->key_len = (uint32_t)alen;
				n = (size_t)(close - name) + 1;
			}
		}
	}
	if ((f->flags & SHK_FF_ARG_REQUIRED) && ret->index < 0 && !ret->key)
		return -EINVAL;
	return (int)n;
}

size_t shk_value_format(const struct shk_value *v, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN];
	size_t len = 0;
	int n;

	switch (v->type) {
	case SHK_V_STR:
		n = snprintf(buf, size, "%s", v->str.s);
		return n > 0 ? (size_t)n : 0;
	case SHK_V_I64:
		n = snprintf(buf, size, "%" PRId64, v->i);
		return n > 0 ? (size_t)n : 0;
	case SHK_V_U64:
		n = snprintf(buf, size, "%" PRIu64, v->u);
		return n > 0 ? (size_t)n : 0;
	case SHK_V_BOOL:
		n = snprintf(buf, size, "%s", v->b ? "true" : "false");
		return n > 0 ? (size_t)n : 0;
	case SHK_V_IP:
		if (!inet_ntop(v->family == 6 ? AF_INET6 : AF_INET, v->ip, ip, sizeof(ip)))
			ip[0] = '\0';
		n = snprintf(buf, size, "%s", ip);
		return n > 0 ? (size_t)n : 0;
	case SHK_V_LIST:
		n = snprintf(buf, size, "(");
		len = n > 0 ? (size_t)n : 0;
		for (uint32_t i = 0; i < v->n; i++) {
			n = snprintf(len < size ? buf + len : NULL, len < size ? size - len : 0,
				     "%s%.*s", i ? "," : "", (int)v->list[i].len, v->list[i].p);
			len += n > 0 ? (size_t)n : 0;
		}
		n = snprintf(len < size ? buf + len : NULL, len < size ? size - len : 0, ")");
		return len + (n > 0 ? (size_t)n : 0);
	default:
		n = snprintf(buf, size, "<NA>");
		return n > 0 ? (size_t)n : 0;
	}
}
