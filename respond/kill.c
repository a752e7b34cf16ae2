/* SPDX-License-Identifier: Apache-2.0 */
#include "kill.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include "freeze.h"
#include "procfs.h"
#include "safety.h"

/* Passes of "move what is still outside, look again" before giving up on
 * a tree that will not stop growing. Each moved process stops on arrival,
 * so real trees settle in two or three. */
#define TREE_MAX_PASSES 64
#define DEFAULT_KILL_TIMEOUT_MS 1000
#define PROC_STAT_MAX 2048

static int stat_with(struct shk_proc_info *info, const char *proc_root,
		     int pid, struct shk_pidstat *ret)
{
	char path[300], buf[PROC_STAT_MAX];
	ssize_t n, len = 0;
	int fd, err;

	if (pid <= 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/%d/stat", proc_root ? proc_root : "/proc", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	while (len < (ssize_t)sizeof(buf) - 1) {
		n = read(fd, buf + len, sizeof(buf) - 1 - (size_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err == -ENOENT ? -ESRCH : err;
	buf[len] = '\0';
	err = shk_procfs_parse_stat(buf, (size_t)len, info);
	if (err)
		return err;
	memset(ret, 0, sizeof(*ret));
	ret->pid = info->tgid;
	ret->ppid = info->ppid;
	ret->state = info->state;
	ret->flags = info->flags;
	ret->start_ticks = info->start_ticks;
	snprintf(ret->comm, sizeof(ret->comm), "%s", info->comm);
	return 0;
}

int shk_pidstat_read(const char *proc_root, int pid, struct shk_pidstat *ret)
{
	struct shk_proc_info *info;
	int err;

	if (!ret)
		return -EINVAL;
	/* About 20 KiB: not for the stack. */
	info = malloc(sizeof(*info));
	if (!info)
		return -ENOMEM;
	err = stat_with(info, proc_root, pid, ret);
	free(info);
	return err;
}

int shk_pidref_now(int pid, struct shk_pidref *ret)
{
	struct shk_pidstat st;
	int err;

	if (!ret)
		return -EINVAL;
	err = shk_pidstat_read(NULL, pid, &st);
	if (err)
		return err;
	ret->pid = pid;
	ret->unit = SHK_START_TICKS;
	ret->start = st.start_ticks;
	return 0;
}

bool shk_pidref_matches(const struct shk_pidref *ref, uint64_t start_ticks)
{
	long hz;

	if (!ref)
		return false;
	switch (ref->unit) {
	case SHK_START_TICKS:
		return ref->start == start_ticks;
	case SHK_START_BOOTTIME_NS:
		/* procfs shows start_boottime / (NSEC_PER_SEC / USER_HZ),
		 * rounded down; do the same to the sensor's exact value. */
		hz = sysconf(_SC_CLK_TCK);
		if (hz <= 0 || hz > 1000000000L)
			return false;
		return ref->start / (1000000000ull / (uint64_t)hz) == start_ticks;
	default:
		return false;
	}
}

bool shk_pidfd_alive(int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	int n;

	do
		n = poll(&p, 1, 0);
	while (n < 0 && errno == EINTR);
	/* A pidfd polls readable once the process has exited (zombie or
	 * reaped). A poll error means we cannot tell: not alive. */
	return n == 0;
}

int shk_pidref_open(const struct shk_pidref *ref)
{
	struct shk_pidstat st;
	int fd, err;

	if (!ref || ref->pid <= 0)
		return -EINVAL;
	/* Fail closed: a bare pid may already name someone else. */
	if (ref->unit != SHK_START_TICKS && ref->unit != SHK_START_BOOTTIME_NS)
		return -EINVAL;
	/* The pidfd first: from here on the process it names cannot be
	 * swapped under us, whatever happens to the number. */
	fd = pidfd_open(ref->pid, 0);
	if (fd < 0)
		return -errno;
	err = shk_pidstat_read(NULL, ref->pid, &st);
	if (!err && !shk_pidref_matches(ref, st.start_ticks))
		err = -ESTALE;
	if (!err && (st.state == 'Z' || st.state == 'X'))
		err = -ESRCH;
	/* Still alive after the read: the stat was the pidfd's process. */
	if (!err && !shk_pidfd_alive(fd))
		err = -ESRCH;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

int shk_kill_pidfd(int pidfd, int sig)
{
	if (pidfd < 0)
		return -EBADF;
	if (pidfd_send_signal(pidfd, sig, NULL, 0) < 0)
		return -errno;
	return 0;
}

int shk_kill_process(const struct shk_safety *s, const struct shk_pidref *ref,
		     int sig)
{
	int fd, err;

	if (!s || !ref)
		return -EINVAL;
	fd = shk_pidref_open(ref);
	if (fd < 0)
		return fd;
	err = shk_safety_check(s, ref->pid, NULL, 0);
	if (!err && !shk_pidfd_alive(fd))
		err = -ESRCH;
	if (!err)
		err = shk_kill_pidfd(fd, sig);
	close(fd);
	return err ? err : 1;
}

/* ---- process trees ---------------------------------------------------- */

struct pent {
	int pid, ppid;
	uint64_t start;
};

struct ptab {
	struct pent *v;
	size_t n, cap;
	struct shk_proc_info *scratch;
	int err;
};

static int ptab_add(int pid, void *ctx)
{
	struct ptab *t = ctx;
	struct shk_pidstat st;

	if (stat_with(t->scratch, NULL, pid, &st))
		return 0; /* gone meanwhile */
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 512;
		struct pent *nv = realloc(t->v, nc * sizeof(*nv));

		if (!nv) {
			t->err = -ENOMEM;
			return 1;
		}
		t->v = nv;
		t->cap = nc;
	}
	t->v[t->n++] = (struct pent){ pid, st.ppid, st.start_ticks };
	return 0;
}

static int by_ppid(const void *a, const void *b)
{
	const struct pent *x = a, *y = b;

	return (x->ppid > y->ppid) - (x->ppid < y->ppid);
}

static int by_pid(const void *a, const void *b)
{
	const struct pent *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

/*
 * The tree under root as /proc shows it now, root first, parents before
 * children, into *ret (malloc'd, *ret_n entries). -ESRCH when the root is
 * not there any more with its start time.
 */
static int scan_tree(struct shk_proc_info *scratch, const struct pent *root,
		     struct pent **ret, size_t *ret_n)
{
	struct ptab t = { .scratch = scratch };
	struct pent *out = NULL;
	size_t n = 0, head = 0;
	bool found = false;
	int err;

	err = shk_procfs_for_each_pid(NULL, ptab_add, &t);
	if (!err)
		err = t.err;
	if (err)
		goto fail;
	for (size_t i = 0; i < t.n; i++)
		if (t.v[i].pid == root->pid && t.v[i].start == root->start)
			found = true;
	if (!found) {
		err = -ESRCH;
		goto fail;
	}
	qsort(t.v, t.n, sizeof(*t.v), by_ppid);
	out = malloc((t.n + 1) * sizeof(*out));
	if (!out) {
		err = -ENOMEM;
		goto fail;
	}
	out[n++] = *root;
	/* Breadth-first over children found by binary search on ppid. */
	while (head < n) {
		struct pent key = { .ppid = out[head++].pid };
		struct pent *hit = bsearch(&key, t.v, t.n, sizeof(*t.v), by_ppid);

		if (!hit)
			continue;
		while (hit > t.v && hit[-1].ppid == key.ppid)
			hit--;
		for (; hit < t.v + t.n && hit->ppid == key.ppid; hit++)
			if (n < t.n + 1 && hit->pid != root->pid)
				out[n++] = *hit;
	}
	free(t.v);
	*ret = out;
	*ret_n = n;
	return 0;
fail:
	free(t.v);
	free(out);
	return err;
}

/* A pid set read from cgroup.procs, sorted for lookups. */
struct pidset {
	int *v;
	size_t n, cap;
};

static int pidset_add(int pid, void *ctx)
{
	struct pidset *s = ctx;

	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 256;
		int *nv = realloc(s->v, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		s->v = nv;
		s->cap = nc;
	}
	s->v[s->n++] = pid;
	return 0;
}

static int int_cmp(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static bool pidset_has(const struct pidset *s, int pid)
{
	return s->n && bsearch(&pid, s->v, s->n, sizeof(int), int_cmp);
}

static int pidset_load(struct pidset *s, int dfd)
{
	int err;

	s->n = 0;
	err = shk_cgroup_for_each_proc(dfd, pidset_add, s);
	if (!err)
		qsort(s->v, s->n, sizeof(int), int_cmp);
	return err;
}

/* Where a kill of cgroup members happens: the hierarchy and the cgroup. */
struct cgtarget {
	const char *ctrl;  /* NULL: v2 */
	const char *mount; /* the hierarchy's mount */
	int sig;
	unsigned int count;
	int err;
};

/*
 * Signal pid, a member of the cgroup whose relative path is rel, through a
 * pidfd; the pidfd is taken first and membership checked after, so a pid
 * recycled between reading cgroup.procs and here is left alone.
 */
static int signal_member(struct cgtarget *t, const char *rel, int pid)
{
	char cg[SHK_CGROUP_PATH_MAX];
	int fd, err;

	fd = pidfd_open(pid, 0);
	if (fd < 0)
		return -errno;
	err = shk_cgroup_of_pid(NULL, pid, t->ctrl, cg, sizeof(cg));
	if (err >= 0)
		err = strcmp(cg, rel) ? -ESTALE : 0;
	if (!err && !shk_pidfd_alive(fd))
		err = -ESRCH;
	if (!err)
		err = shk_kill_pidfd(fd, t->sig);
	close(fd);
	return err;
}

struct member_walk {
	struct cgtarget *t;
	const char *rel;
};

static int member_cb(int pid, void *ctx)
{
	struct member_walk *w = ctx;

	if (!signal_member(w->t, w->rel, pid))
		w->t->count++;
	return 0;
}

static int members_dir_cb(int dfd, const char *path, void *ctx)
{
	struct cgtarget *t = ctx;
	char rel[SHK_CGROUP_PATH_MAX];
	struct member_walk w = { .t = t, .rel = rel };
	int err;

	err = shk_cgroup_relative(t->mount, path, rel, sizeof(rel));
	if (err < 0)
		return err;
	err = shk_cgroup_for_each_proc(dfd, member_cb, &w);
	if (err && !t->err)
		t->err = err;
	return 0;
}

static int count_cb(int pid, void *ctx)
{
	(*(unsigned int *)ctx)++;
	return 0;
}

static int count_dir_cb(int dfd, const char *path, void *ctx)
{
	shk_cgroup_for_each_proc(dfd, count_cb, ctx);
	return 0;
}

/* Wait (bounded) until the cgroup at dfd holds no process. v2 has an
 * event for that; v1 only lets us look. */
static int wait_empty(int dfd, int ver, int timeout_ms)
{
	int64_t deadline = shk_cgroup_now_ms() + timeout_ms;
	unsigned int n;
	useconds_t nap = 1000;

	if (ver == 2)
		return shk_cgroup_wait_event(dfd, "populated", 0, timeout_ms);
	for (;;) {
		n = 0;
		shk_cgroup_for_each_proc(dfd, count_cb, &n);
		if (!n)
			return 0;
		if (shk_cgroup_now_ms() >= deadline)
			return -ETIMEDOUT;
		usleep(nap);
		nap = nap < 16000 ? nap * 2 : nap;
	}
}

/* Signal everything in the cgroup at path and below; the count goes to
 * t->count. The cgroup is expected frozen, so nobody forks meanwhile. */
static int signal_subtree(struct cgtarget *t, const char *path)
{
	int err = shk_cgroup_for_each_subtree(path, members_dir_cb, t);

	return err ? err : t->err;
}

/*
 * Move one tree member into the quarantine at qfd. Returns 1 when it was
 * moved, 0 when it was gone or not the same process, -errno when the move
 * failed. Guards against pid reuse: pidfd first, start time compared, and
 * alive after the move (else the pid we wrote may have named a stranger,
 * who is sent back to the hierarchy root rather than killed).
 */
static int move_member(int qfd, int rootfd, const struct pent *p)
{
	struct shk_pidref ref = { p->pid, SHK_START_TICKS, p->start };
	int fd, err;

	fd = shk_pidref_open(&ref);
	if (fd < 0)
		return 0;
	err = shk_cgroup_attach(qfd, p->pid);
	if (err == -ESRCH)
		err = 0;
	else if (!err && !shk_pidfd_alive(fd)) {
		if (rootfd >= 0)
			shk_cgroup_attach(rootfd, p->pid);
		err = 0;
	} else if (!err) {
		err = 1;
	}
	close(fd);
	return err;
}

struct tree_ctx {
	const struct shk_safety *s;
	const struct shk_cgroup_mounts *m;
	struct pent root;
	int sig, timeout_ms;
	struct shk_proc_info *scratch;
};

static int check_tree(const struct tree_ctx *c, const struct pent *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int err = shk_safety_check(c->s, v[i].pid, NULL, 0);

		/* A member that exited meanwhile is no danger; any other
		 * doubt refuses the whole tree (fail closed). */
		if (err && err != -ESRCH)
			return err;
	}
	return 0;
}

/* Signal each listed process through a verified pidfd. */
static unsigned int signal_list(const struct pent *v, size_t n, int sig)
{
	unsigned int count = 0;

	for (size_t i = 0; i < n; i++) {
		struct shk_pidref ref = { v[i].pid, SHK_START_TICKS, v[i].start };
		int fd = shk_pidref_open(&ref);

		if (fd < 0)
			continue;
		if (!shk_kill_pidfd(fd, sig))
			count++;
		close(fd);
	}
	return count;
}

static int tree_by_cgroup(struct tree_ctx *c)
{
	bool v2 = c->m->v2[0];
	const char *mount = v2 ? c->m->v2 : c->m->freezer;
	char qroot[SHK_CGROUP_PATH_MAX], qpath[SHK_CGROUP_PATH_MAX], name[64];
	struct pidset inq = { 0 };
	struct pent *tree = NULL, *stray = NULL;
	size_t n = 0, nstray = 0;
	struct cgtarget t = { .ctrl = v2 ? NULL : "freezer", .mount = mount,
			      .sig = c->sig };
	int qfd = -1, rootfd = -1, err, ret;

	err = scan_tree(c->scratch, &c->root, &tree, &n);
	if (!err)
		err = check_tree(c, tree, n);
	if (err)
		goto out;
	snprintf(name, sizeof(name), "tree-%d-%llu", c->root.pid,
		 (unsigned long long)c->root.start);
	err = shk_cgroup_mkdir(mount, SHK_QUARANTINE_DIR, qroot, sizeof(qroot));
	if (!err)
		err = shk_cgroup_mkdir(qroot, name, qpath, sizeof(qpath));
	if (err)
		goto out;
	qfd = shk_cgroup_open(qpath);
	if (qfd < 0) {
		err = qfd;
		goto out_rmdir;
	}
	rootfd = shk_cgroup_open(mount);
	/* v2: freeze the empty cgroup first; each process then stops the
	 * moment it is moved in and cannot fork another one. */
	if (v2) {
		err = shk_cgroup_write(qfd, "cgroup.freeze", "1");
		if (err)
			goto out_rmdir;
	}
	for (int pass = 0; pass < TREE_MAX_PASSES; pass++) {
		int moved = 0;

		if (pass) {
			free(tree);
			tree = NULL;
			err = scan_tree(c->scratch, &c->root, &tree, &n);
			if (err == -ESRCH)
				/* The root died; whatever moved is in the
				 * quarantine, whatever did not has lost
				 * its link to the tree. */
				break;
			if (err)
				goto out_thaw;
		}
		err = pidset_load(&inq, qfd);
		if (err)
			goto out_thaw;
		nstray = 0;
		for (size_t i = 0; i < n; i++) {
			if (pidset_has(&inq, tree[i].pid))
				continue;
			ret = move_member(qfd, rootfd, &tree[i]);
			if (ret > 0) {
				moved++;
			} else if (ret < 0) {
				/* It could not be moved (a kernel refusal
				 * such as a threaded cgroup): remember it
				 * and signal it directly afterwards. */
				struct pent *ns = realloc(stray, (nstray + 1) * sizeof(*ns));

				if (!ns) {
					err = -ENOMEM;
					goto out_thaw;
				}
				stray = ns;
				stray[nstray++] = tree[i];
			}
		}
		if (!moved)
			break;
	}
	/* Wait for frozen. A timeout is not fatal: SIGKILL reaches frozen
	 * and freezing tasks alike, and we thaw right after anyway. */
	shk_freeze_fd(qfd, true, c->timeout_ms);
	err = signal_subtree(&t, qpath);
	t.count += signal_list(stray, nstray, c->sig);
out_thaw:
	shk_freeze_fd(qfd, false, c->timeout_ms);
	if (!err && c->sig == SIGKILL)
		wait_empty(qfd, v2 ? 2 : 1, c->timeout_ms);
out_rmdir:
	/* Left in place when something survived (a non-fatal signal, or
	 * a task stuck in the kernel): it is ours and holds only the tree. */
	rmdir(qpath);
out:
	if (qfd >= 0)
		close(qfd);
	if (rootfd >= 0)
		close(rootfd);
	free(inq.v);
	free(tree);
	free(stray);
	return err ? err : (int)t.count;
}

/* No cgroup hierarchy: SIGSTOP top-down until nothing new appears (a
 * stopped process cannot fork), then signal all, then SIGCONT so that a
 * non-fatal signal is acted upon. */
static int tree_by_stopping(struct tree_ctx *c)
{
	struct pent *tree = NULL, *seen = NULL;
	size_t n = 0, nseen = 0;
	unsigned int count;
	int err;

	err = scan_tree(c->scratch, &c->root, &tree, &n);
	if (!err)
		err = check_tree(c, tree, n);
	if (err)
		goto out;
	for (int pass = 0; pass < TREE_MAX_PASSES; pass++) {
		size_t added = 0;

		if (pass) {
			free(tree);
			tree = NULL;
			if (scan_tree(c->scratch, &c->root, &tree, &n))
				break;
		}
		for (size_t i = 0; i < n; i++) {
			bool known = false;
			struct pent *ns;

			for (size_t j = 0; j < nseen && !known; j++)
				known = seen[j].pid == tree[i].pid &&
					seen[j].start == tree[i].start;
			if (known)
				continue;
			ns = realloc(seen, (nseen + 1) * sizeof(*ns));
			if (!ns) {
				err = -ENOMEM;
				goto out;
			}
			seen = ns;
			seen[nseen++] = tree[i];
			signal_list(&tree[i], 1, SIGSTOP);
			added++;
		}
		if (!added)
			break;
	}
	qsort(seen, nseen, sizeof(*seen), by_pid);
	count = signal_list(seen, nseen, c->sig);
	if (c->sig != SIGKILL)
		signal_list(seen, nseen, SIGCONT);
	err = (int)count;
out:
	free(tree);
	free(seen);
	return err;
}

int shk_kill_tree(const struct shk_safety *s,
		  const struct shk_cgroup_mounts *mounts,
		  const struct shk_pidref *root, int sig, int timeout_ms)
{
	struct tree_ctx c = { .s = s, .m = mounts, .sig = sig };
	struct shk_pidstat st;
	int fd, err;

	if (!s || !root)
		return -EINVAL;
	c.timeout_ms = timeout_ms > 0 ? timeout_ms : DEFAULT_KILL_TIMEOUT_MS;
	/* The pidfd pins the root while we look at the tree; from its stat
	 * we get the start in ticks, the unit /proc scans compare in. */
	fd = shk_pidref_open(root);
	if (fd < 0)
		return fd;
	c.scratch = malloc(sizeof(*c.scratch));
	if (!c.scratch) {
		close(fd);
		return -ENOMEM;
	}
	err = stat_with(c.scratch, NULL, root->pid, &st);
	if (!err && !shk_pidfd_alive(fd))
		err = -ESRCH;
	if (!err) {
		c.root = (struct pent){ root->pid, st.ppid, st.start_ticks };
		if (mounts && (mounts->v2[0] || mounts->freezer[0]))
			err = tree_by_cgroup(&c);
		else
			err = tree_by_stopping(&c);
	}
	free(c.scratch);
	close(fd);
	return err;
}

int shk_kill_cgroup(const struct shk_safety *s,
		    const struct shk_cgroup_mounts *mounts, const char *path,
		    int sig, int timeout_ms)
{
	struct cgtarget t = { .sig = sig };
	unsigned int before = 0;
	bool was_frozen = false, froze = false;
	int dfd, ver, err;

	if (!s || !mounts || !path)
		return -EINVAL;
	if (timeout_ms <= 0)
		timeout_ms = DEFAULT_KILL_TIMEOUT_MS;
	err = shk_safety_check_cgroup(s, path, NULL, 0);
	if (err)
		return err;
	dfd = shk_cgroup_open(path);
	if (dfd < 0)
		return dfd;
	ver = shk_cgroup_version(dfd);
	t.ctrl = ver == 2 ? NULL : "freezer";
	t.mount = ver == 2 ? mounts->v2 : mounts->freezer;
	if (!t.mount[0]) {
		err = -ENOENT;
		goto out;
	}
	if (ver == 2 && sig == SIGKILL &&
	    !faccessat(dfd, "cgroup.kill", W_OK, AT_SYMLINK_NOFOLLOW)) {
		/* cgroup.kill is atomic against forks: the kernel marks the
		 * whole subtree dying at once. The count is who was there
		 * just before. */
		shk_cgroup_for_each_subtree(path, count_dir_cb, &before);
		err = shk_cgroup_write(dfd, "cgroup.kill", "1");
		if (!err) {
			wait_empty(dfd, ver, timeout_ms);
			err = (int)before;
		}
		goto out;
	}
	/* No cgroup.kill: freeze so nobody forks while we go through the
	 * members. A freeze that times out is not fatal (fail towards
	 * acting): we still signal everyone we can see. */
	was_frozen = shk_cgroup_frozen(path) == 1;
	if (!was_frozen)
		froze = shk_freeze_fd(dfd, true, timeout_ms) != -ENOENT;
	err = signal_subtree(&t, path);
	/* v1 tasks only die once thawed; and a cgroup frozen by someone
	 * else stays frozen unless the signal was fatal anyway. */
	if (froze || sig == SIGKILL)
		shk_freeze_fd(dfd, false, timeout_ms);
	if (!err && sig == SIGKILL)
		wait_empty(dfd, ver, timeout_ms);
	if (!err)
		err = (int)t.count;
out:
	close(dfd);
	return err;
}
