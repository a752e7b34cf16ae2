/* SPDX-License-Identifier: Apache-2.0 */
#include "safety.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kill.h"

#define PF_KTHREAD_FLAG 0x00200000u
#define KTHREADD_PID 2

struct protect {
	char *pattern;
	unsigned int flags;
};

struct guarded {
	int pid;
	uint64_t start; /* start_ticks, to tell a reused pid */
};

struct shk_safety {
	struct shk_cgroup_mounts mounts;
	bool have_mounts;
	char proc_root[256];
	struct protect *prot;
	size_t nprot, cap;
	/* shrike and its ancestors, nearest first, read once at creation
	 * by the process anc_for (0: not cached, walk every time) */
	struct guarded anc[SHK_SAFETY_MAX_ANCESTORS];
	int nanc, anc_for;
};

static void cache_ancestors(struct shk_safety *s);

static const struct protect default_protect[] = {
	{ "systemd", 0 },
	{ "kubelet", 0 },
	{ "containerd", 0 },
	{ "containerd-shim*", 0 },
	{ "dockerd", 0 },
	{ "crio", 0 },
	{ "sshd", SHK_PROTECT_PARENT_INIT },
};

void shk_safety_protect_clear(struct shk_safety *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nprot; i++)
		free(s->prot[i].pattern);
	s->nprot = 0;
}

int shk_safety_protect(struct shk_safety *s, const char *pattern,
		       unsigned int flags)
{
	char *p;

	if (!s || !pattern || !*pattern || (flags & ~SHK_PROTECT_PARENT_INIT))
		return -EINVAL;
	if (s->nprot == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 16;
		struct protect *n = realloc(s->prot, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		s->prot = n;
		s->cap = ncap;
	}
	p = strdup(pattern);
	if (!p)
		return -ENOMEM;
	s->prot[s->nprot].pattern = p;
	s->prot[s->nprot].flags = flags;
	s->nprot++;
	return 0;
}

struct shk_safety *shk_safety_new(const struct shk_cgroup_mounts *mounts,
				  const char *proc_root)
{
	struct shk_safety *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (!proc_root)
		proc_root = "/proc";
	if (strlen(proc_root) >= sizeof(s->proc_root)) {
		free(s);
		errno = ENAMETOOLONG;
		return NULL;
	}
	strcpy(s->proc_root, proc_root);
	if (mounts) {
		s->mounts = *mounts;
		s->have_mounts = true;
	}
	for (size_t i = 0; i < sizeof(default_protect) / sizeof(default_protect[0]); i++) {
		int err = shk_safety_protect(s, default_protect[i].pattern,
					     default_protect[i].flags);

		if (err) {
			shk_safety_free(s);
			errno = -err;
			return NULL;
		}
	}
	cache_ancestors(s);
	return s;
}

void shk_safety_free(struct shk_safety *s)
{
	if (!s)
		return;
	shk_safety_protect_clear(s);
	free(s->prot);
	free(s);
}

static bool name_matches(const char *pattern, const char *name)
{
	return name && *name && fnmatch(pattern, name, 0) == 0;
}

bool shk_safety_is_protected(const struct shk_safety *s, const char *comm,
			     const char *exe, int ppid,
			     const char **ret_pattern)
{
	const char *base = NULL;

	if (!s)
		return false;
	if (exe && *exe) {
		base = strrchr(exe, '/');
		base = base ? base + 1 : exe;
	}
	for (size_t i = 0; i < s->nprot; i++) {
		const struct protect *p = &s->prot[i];

		if ((p->flags & SHK_PROTECT_PARENT_INIT) && ppid != 1)
			continue;
		/* comm alone can be set by anyone (prctl), exe alone misses
		 * a renamed copy; matching either errs towards protecting,
		 * which is the safe side for a "never act" list. */
		if (name_matches(p->pattern, comm) || name_matches(p->pattern, base)) {
			if (ret_pattern)
				*ret_pattern = p->pattern;
			return true;
		}
	}
	return false;
}

__attribute__((format(printf, 3, 4)))
static int refuse(char *reason, size_t size, const char *fmt, ...)
{
	va_list ap;


	if (reason && size) {
		va_start(ap, fmt);
		vsnprintf(reason, size, fmt, ap);
		va_end(ap);
	}
	return -EPERM;
}

/* Read the exe link's basename-able path; "" when there is none (kernel
 * threads) or it cannot be read. */
static void read_exe(const char *proc_root, int pid, char *buf, size_t size)
{
	char link[300];
	ssize_t n;

	buf[0] = '\0';
	snprintf(link, sizeof(link), "%s/%d/exe", proc_root, pid);
	n = readlink(link, buf, size - 1);
	if (n <= 0)
		return;
	buf[n] = '\0';
	/* " (deleted)" is procfs decoration, not part of the name. */
	if ((size_t)n > 10 && !strcmp(buf + n - 10, " (deleted)"))
		buf[n - 10] = '\0';
}

/* Read the chain of shrike and its ancestors into s->anc; on any error
 * the cache stays off and every check walks the chain itself. */
static void cache_ancestors(struct shk_safety *s)
{
	int pid = getpid(), n = 0;

	s->anc_for = 0;
	while (n < SHK_SAFETY_MAX_ANCESTORS && pid > 1) {
		struct shk_pidstat st;

		if (shk_pidstat_read(s->proc_root, pid, &st))
			return;
		s->anc[n].pid = pid;
		s->anc[n].start = st.start_ticks;
		n++;
		pid = st.ppid;
	}
	s->nanc = n;
	s->anc_for = getpid();
}

/*
 * Call cb for PID 1, then shrike itself and each ancestor, nearest first.
 * start is the pid's start time when it comes from the cache (0 when the
 * chain was just read). The cache cannot miss an ancestor: the chain only
 * loses members while we live, because an orphan is adopted by the nearest
 * living subreaper among its ancestors or by its namespace's init, both
 * already in the chain. An entry may be a dead ancestor whose pid was
 * reused; pid checks tell it by its start time, cgroup checks protect it
 * anyway (the safe side).
 */
static int for_each_guarded(const struct shk_safety *s,
			    int (*cb)(int pid, uint64_t start, const char *what, void *ctx),
			    void *ctx)
{
	int pid = getpid(), ret;

	ret = cb(1, 0, "pid 1", ctx);
	if (ret)
		return ret;
	if (s->anc_for && s->anc_for == pid) {
		for (int i = 0; i < s->nanc; i++) {
			ret = cb(s->anc[i].pid, i ? s->anc[i].start : 0,
				 i ? "an ancestor of shrike" : "shrike itself", ctx);
			if (ret)
				return ret;
		}
		return 0;
	}
	for (int i = 0; i < SHK_SAFETY_MAX_ANCESTORS && pid > 1; i++) {
		struct shk_pidstat st;
		int err;

		ret = cb(pid, 0, i ? "an ancestor of shrike" : "shrike itself", ctx);
		if (ret)
			return ret;
		err = shk_pidstat_read(s->proc_root, pid, &st);
		if (err)
			/* Fail closed: an ancestor we cannot see is one we
			 * cannot rule out. */
			return i ? err : -EIO;
		pid = st.ppid;
	}
	return 0;
}

struct pid_guard {
	int target;
	const char *what;
	const char *proc_root;
};

static int pid_guard_cb(int pid, uint64_t start, const char *what, void *ctx)
{
	struct pid_guard *g = ctx;
	struct shk_pidstat st;

	if (pid != g->target)
		return 0;
	/* a cached ancestor: still the same process, or its pid reused? */
	if (start && !shk_pidstat_read(g->proc_root, pid, &st) && st.start_ticks != start)
		return 0;
	g->what = what;
	return 1;
}

int shk_safety_check(const struct shk_safety *s, int pid, char *reason,
		     size_t size)
{
	struct pid_guard g = { .target = pid, .proc_root = s ? s->proc_root : NULL };
	struct shk_pidstat st;
	const char *pat = NULL;
	char path[300], exe[4096];
	struct stat sb;
	int err;

	if (reason && size)
		reason[0] = '\0';
	if (!s || pid <= 0)
		return -EINVAL;
	if (pid == 1)
		return refuse(reason, size, "%s", "pid 1");
	err = for_each_guarded(s, pid_guard_cb, &g);
	if (err < 0)
		return err;
	if (err == 1)
		return refuse(reason, size, "%s", g.what);
	/* One of our own threads, named by its tid. */
	snprintf(path, sizeof(path), "%s/self/task/%d", s->proc_root, pid);
	if (stat(path, &sb) == 0)
		return refuse(reason, size, "%s", "a thread of shrike");
	err = shk_pidstat_read(s->proc_root, pid, &st);
	if (err)
		return err;
	if ((st.flags & PF_KTHREAD_FLAG) || pid == KTHREADD_PID ||
	    st.ppid == KTHREADD_PID)
		return refuse(reason, size, "%s", "a kernel thread");
	read_exe(s->proc_root, pid, exe, sizeof(exe));
	if (shk_safety_is_protected(s, st.comm, exe, st.ppid, &pat))
		return refuse(reason, size, "protected (%s)", pat);
	return 0;
}

struct cg_guard {
	const struct shk_safety *s;
	const char *ctrl; /* NULL: v2 */
	const char *rel;  /* the target, relative to its hierarchy */
	const char *what;
};

/* Is cg at or below top (both relative, normalised)? */
static bool cg_within(const char *cg, const char *top)
{
	size_t n = strlen(top);

	if (!strcmp(top, "/"))
		return true;
	return !strncmp(cg, top, n) && (cg[n] == '\0' || cg[n] == '/');
}

static int cg_guard_cb(int pid, uint64_t start, const char *what, void *ctx)
{
	(void)start; /* a reused pid is protected too: the safe side */
	struct cg_guard *g = ctx;
	char cg[SHK_CGROUP_PATH_MAX];
	int n = shk_cgroup_of_pid(g->s->proc_root, pid, g->ctrl, cg, sizeof(cg));

	if (n == -ENOENT && pid != 1 && pid != getpid())
		return 0; /* an ancestor that exited meanwhile */
	if (n < 0) {
		/* Fail closed: outside our view (-EXDEV) or unreadable, it
		 * could be anywhere, the target included. */
		g->what = what;
		return 1;
	}
	if (!cg_within(cg, g->rel))
		return 0;
	g->what = what;
	return 1;
}

#define SUBTREE_MAX 64 /* cgroups scanned before falling back to the walk */

static bool is_guarded_pid(const struct shk_safety *s, int pid, const char **what)
{
	if (pid == 1) {
		*what = "pid 1";
		return true;
	}
	for (int i = 0; i < s->nanc; i++) {
		if (s->anc[i].pid == pid) {
			*what = i ? "an ancestor of shrike" : "shrike itself";
			return true;
		}
	}
	return false;
}

/* Does any cgroup.procs at or below path list a guarded pid? 1 yes, 0 no,
 * negative: cannot tell (too many cgroups, unreadable), walk instead. */
static int subtree_holds(const struct shk_safety *s, const char *path, const char **what)
{
	char *stack[SUBTREE_MAX];
	int top = 0, seen = 0, ret = 0;

	stack[top++] = strdup(path);
	if (!stack[0])
		return -ENOMEM;
	while (top > 0 && ret == 0) {
		char *dir = stack[--top], file[SHK_CGROUP_PATH_MAX + 16];
		struct dirent *de;
		FILE *f;
		DIR *d;
		int pid;

		if (++seen > SUBTREE_MAX) {
			ret = -E2BIG;
		} else if (snprintf(file, sizeof(file), "%s/cgroup.procs", dir) >= (int)sizeof(file) ||
			   !(f = fopen(file, "re"))) {
			ret = -EIO;
		} else {
			while (ret == 0 && fscanf(f, "%d", &pid) == 1)
				if (is_guarded_pid(s, pid, what))
					ret = 1;
			if (ferror(f))
				ret = ret ? ret : -EIO;
			fclose(f);
		}
		d = ret == 0 ? opendir(dir) : NULL;
		if (ret == 0 && !d)
			ret = -EIO;
		while (d && ret == 0 && (de = readdir(d))) {
			char *sub;

			if (de->d_type != DT_DIR || de->d_name[0] == '.')
				continue;
			if (top == SUBTREE_MAX ||
			    asprintf(&sub, "%s/%s", dir, de->d_name) < 0) {
				ret = -E2BIG;
				break;
			}
			stack[top++] = sub;
		}
		if (d)
			closedir(d);
		free(dir);
	}
	while (top > 0)
		free(stack[--top]);
	return ret;
}

int shk_safety_check_cgroup(const struct shk_safety *s, const char *path,
			    char *reason, size_t size)
{
	char rel[SHK_CGROUP_PATH_MAX];
	struct cg_guard g = { .s = s };
	int n = -EXDEV, err;

	if (reason && size)
		reason[0] = '\0';
	if (!s || !path)
		return -EINVAL;
	if (s->have_mounts && s->mounts.v2[0])
		n = shk_cgroup_relative(s->mounts.v2, path, rel, sizeof(rel));
	if (n < 0 && s->have_mounts && s->mounts.freezer[0]) {
		n = shk_cgroup_relative(s->mounts.freezer, path, rel, sizeof(rel));
		g.ctrl = "freezer";
	}
	if (n < 0)
		return refuse(reason, size, "%s", "not a cgroup under a known mount");
	if (!strcmp(rel, "/"))
		return refuse(reason, size, "%s", "the root cgroup");
	/* With the chain cached, list the target's members (a handful of
	 * reads) rather than read where every guarded process lives; the
	 * two agree, as any guarded pid inside is listed there. */
	if (s->anc_for && s->anc_for == getpid()) {
		const char *what = NULL;

		err = subtree_holds(s, path, &what);
		if (err == 1)
			return refuse(reason, size, "the cgroup holds %s", what);
		if (err == 0)
			return 0;
	}
	g.rel = rel;
	err = for_each_guarded(s, cg_guard_cb, &g);
	if (err < 0)
		return err;
	if (err == 1)
		return refuse(reason, size, "the cgroup holds %s", g.what);
	return 0;
}

/* ---- rate limiting ---------------------------------------------------- */

/* Tokens are kept in units of 1e-9 token, so that elapsed_ns * rate is an
 * exact refill: no remainder is ever rounded away, and a slow rate still
 * refills under frequent calls. */
#define NANO 1000000000ull

void shk_bucket_init(struct shk_bucket *b, uint32_t rate, uint32_t burst,
		     uint64_t now_ns)
{
	if (!b)
		return;
	memset(b, 0, sizeof(*b));
	b->rate = rate;
	b->burst = burst;
	b->nano = (uint64_t)burst * NANO;
	b->last_ns = now_ns;
}

bool shk_bucket_take(struct shk_bucket *b, uint64_t now_ns)
{
	uint64_t cap;

	if (!b)
		return false;
	cap = (uint64_t)b->burst * NANO;
	if (now_ns > b->last_ns) {
		unsigned __int128 add = (unsigned __int128)(now_ns - b->last_ns) * b->rate;

		b->nano = add >= cap - b->nano ? cap : b->nano + (uint64_t)add;
	}
	/* A clock that steps back does not refill, and does not move last
	 * back either (that would refill the same time twice). */
	if (now_ns > b->last_ns)
		b->last_ns = now_ns;
	if (b->nano < NANO) {
		b->denied++;
		return false;
	}
	b->nano -= NANO;
	return true;
}

void shk_breaker_init(struct shk_breaker *b, uint32_t limit,
		      uint64_t window_ns, uint64_t cooldown_ns,
		      uint64_t now_ns)
{
	if (!b)
		return;
	memset(b, 0, sizeof(*b));
	b->limit = limit;
	b->window_ns = window_ns ? window_ns : NANO;
	b->cooldown_ns = cooldown_ns;
	b->win_start = now_ns;
}

static void breaker_roll(struct shk_breaker *b, uint64_t now_ns)
{
	uint64_t n;

	if (now_ns < b->win_start + b->window_ns)
		return;
	n = (now_ns - b->win_start) / b->window_ns;
	b->prev = n == 1 ? b->cur : 0;
	b->cur = 0;
	b->win_start += n * b->window_ns;
}

bool shk_breaker_tripped(struct shk_breaker *b, uint64_t now_ns)
{
	if (!b)
		return true;
	if (b->tripped && now_ns >= b->tripped_at + b->cooldown_ns)
		shk_breaker_reset(b, now_ns);
	return b->tripped;
}

bool shk_breaker_allow(struct shk_breaker *b, uint64_t now_ns)
{
	uint64_t into, est;

	/* Fail closed: no breaker, no action. */
	if (!b)
		return false;
	if (shk_breaker_tripped(b, now_ns)) {
		b->denied++;
		return false;
	}
	if (now_ns < b->win_start)
		now_ns = b->win_start; /* a clock stepping back */
	breaker_roll(b, now_ns);
	into = now_ns - b->win_start;
	est = (uint64_t)((unsigned __int128)b->prev * (b->window_ns - into) /
			 b->window_ns) + b->cur + 1;
	if (est > b->limit) {
		/* Tripping refuses this action too: a flood of actions is
		 * more likely a bad rule than an attack worth answering by
		 * killing half the host. */
		b->tripped = true;
		b->tripped_at = now_ns;
		b->trips++;
		b->denied++;
		return false;
	}
	b->cur++;
	return true;
}

void shk_breaker_reset(struct shk_breaker *b, uint64_t now_ns)
{
	if (!b)
		return;
	b->tripped = false;
	b->cur = b->prev = 0;
	b->win_start = now_ns;
}

uint64_t shk_safety_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NANO + (uint64_t)ts.tv_nsec;
}
