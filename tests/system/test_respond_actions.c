/* SPDX-License-Identifier: Apache-2.0 */
/*
 * System tier: the kill and freeze primitives (respond/kill.c, freeze.c)
 * and their safety rails against real processes and real cgroups. Needs
 * root; exits 77 (skipped) otherwise.
 *
 * "Containers" are cgroup v2 directories with runtime-style names under a
 * test-owned parent (<v2>/shrike-test-<pid>), running helpers from
 * tests/helpers under `unshare --pid --fork --mount-proc`. Each test's
 * teardown kills what it started and removes every cgroup it made, on
 * failure paths too.
 *
 * Actions pointed at PID 1 or our ancestors use signal 0: if a rail were
 * broken the test fails without harming the host.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "cgroup.h"
#include "freeze.h"
#include "kill.h"
#include "safety.h"
#include "testlib.h"

#define MAX_KIDS 16
/* snprintf into an array, failing the test on truncation. */
#define PATHF(buf, ...) \
	assert_true(snprintf(buf, sizeof(buf), __VA_ARGS__) < (int)sizeof(buf))

static struct {
	struct shk_cgroup_mounts m;
	struct shk_safety *s;
	const char *helpers;
	char *tmp;
	char base[SHK_CGROUP_PATH_MAX];  /* test-owned cgroup parent */
	char origin[SHK_CGROUP_PATH_MAX]; /* our own v2 cgroup, absolute */
	char marker[64];
	char counter[PATH_MAX];
	volatile uint64_t *ctr;
	pid_t kids[MAX_KIDS];
	int nkids;
	struct shk_frozen frozen; /* a quarantine to undo, if any */
	uint64_t tick_ns;
} T;

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void add_kid(pid_t p)
{
	if (p > 0 && T.nkids < MAX_KIDS)
		T.kids[T.nkids++] = p;
}

/* Processes whose argv carries the marker (zombies have no argv). With
 * kill_them, SIGKILL them: the teardown's sweep. */
static int marker_procs(bool kill_them)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char path[300], buf[4096];
		ssize_t len;
		int fd, pid = atoi(de->d_name);

		if (pid <= 0)
			continue;
		PATHF(path, "/proc/%d/cmdline", pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		for (ssize_t i = 0; i < len; i++)
			if (!buf[i])
				buf[i] = ' ';
		buf[len] = '\0';
		if (!strstr(buf, T.marker))
			continue;
		n++;
		if (kill_them)
			kill(pid, SIGKILL);
	}
	closedir(d);
	return n;
}

/* We are a child subreaper: orphans of our helpers end up here. */
static void reap_all(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* SIGKILL every child of ours (orphans included) and reap them; repeat
 * while killing a parent hands us its children. */
static void kill_children(void)
{
	for (int round = 0; round < 50; round++) {
		struct shk_pidstat st;
		struct dirent *de;
		DIR *d = opendir("/proc");
		int n = 0;

		while (d && (de = readdir(d))) {
			int pid = atoi(de->d_name);

			if (pid > 0 && !shk_pidstat_read(NULL, pid, &st) &&
			    st.ppid == getpid() && st.state != 'Z') {
				kill(pid, SIGKILL);
				n++;
			}
		}
		if (d)
			closedir(d);
		nap_ms(n ? 20 : 0);
		reap_all();
		if (!n)
			break;
	}
}

static int rm_cb(const char *path, const struct stat *sb, int type,
		 struct FTW *ftw)
{
	if (type == FTW_DP)
		rmdir(path);
	return 0;
}

/* Kill everything in a cgroup tree and remove it, bottom-up. */
static void cg_destroy(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return;
	shk_cgroup_write(fd, "cgroup.freeze", "0");
	shk_cgroup_write(fd, "cgroup.kill", "1");
	shk_cgroup_wait_event(fd, "populated", 0, 2000);
	close(fd);
	reap_all();
	nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* mkdir -p for a path below T.base. */
static void cg_mkdirs(const char *path)
{
	char buf[SHK_CGROUP_PATH_MAX];

	PATHF(buf, "%s", path);
	for (char *p = buf + strlen(T.base) + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(buf, 0755);
		*p = '/';
	}
	assert_true(mkdir(buf, 0755) == 0 || errno == EEXIST);
}

/* Fork; the child joins cgroup (NULL: stays) and execs argv. */
static pid_t spawn_in(const char *cgroup, char *const argv[])
{
	pid_t p = fork();

	if (p == 0) {
		if (cgroup) {
			char procs[SHK_CGROUP_PATH_MAX + 16];

			PATHF(procs, "%s/cgroup.procs", cgroup);
			if (test_write_file(procs, "0"))
				_exit(126);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	add_kid(p);
	return p;
}

static pid_t spawn_spinner(const char *cgroup, bool in_ns)
{
	char spinner[PATH_MAX];

	PATHF(spinner, "%s/spinner", T.helpers);
	if (in_ns) {
		char *argv[] = { "/usr/bin/unshare", "--pid", "--fork",
				 "--mount-proc", spinner, T.counter, NULL };

		return spawn_in(cgroup, argv);
	}
	char *argv[] = { spinner, T.counter, NULL };

	return spawn_in(cgroup, argv);
}

static uint64_t counter(void)
{
	return __atomic_load_n(T.ctr, __ATOMIC_RELAXED);
}

/* Wait up to ms for the counter to move past from. */
static bool counter_moves(uint64_t from, int ms)
{
	for (int i = 0; i < ms / 10; i++) {
		if (counter() != from)
			return true;
		nap_ms(10);
	}
	return counter() != from;
}

static bool alive(pid_t p)
{
	return waitpid(p, NULL, WNOHANG) == 0 && kill(p, 0) == 0;
}

static void runtime_cgroup(char *out, size_t size, const char *kind)
{
	/* The layout kubelet with the systemd driver and containerd make. */
	int n = snprintf(out, size,
			 "%s/kubepods.slice/kubepods-besteffort.slice/"
			 "kubepods-besteffort-pod7c1e0f5a_%04x_4b1d_9e2f_0a1b2c3d4e5f.slice/"
			 "%s-%08x9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c.scope",
			 T.base, (unsigned)getpid() & 0xffff, kind, (unsigned)getpid());

	assert_true(n > 0 && (size_t)n < size);
}

static int group_setup(void **state)
{
	char rel[SHK_CGROUP_PATH_MAX];

	test_require_root("respond actions");
	T.helpers = test_env("SHRIKE_TEST_HELPERS");
	if (shk_cgroup_mounts_discover(NULL, &T.m) || !T.m.v2[0]) {
		fprintf(stderr, "SKIP: no cgroup v2 mount\n");
		exit(TEST_SKIP);
	}
	T.s = shk_safety_new(&T.m, NULL);
	if (!T.s)
		return -1;
	T.tick_ns = 1000000000ull / (uint64_t)sysconf(_SC_CLK_TCK);
	if (shk_cgroup_of_pid(NULL, getpid(), NULL, rel, sizeof(rel)) < 0 ||
	    shk_cgroup_join(T.m.v2, rel, T.origin, sizeof(T.origin)) < 0)
		return -1;
	PATHF(T.base, "%s/shrike-test-%d", T.m.v2, getpid());
	if (mkdir(T.base, 0755) && errno != EEXIST)
		return -1;
	/* Orphans of the helpers come to us, not to PID 1: we reap them. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	T.tmp = test_tmpdir();
	PATHF(T.counter, "%s/counter", T.tmp);
	return 0;
}

static int group_teardown(void **state)
{
	char q[SHK_CGROUP_PATH_MAX + 32];

	cg_destroy(T.base);
	/* shrike made this one; gone when nothing else uses it. */
	PATHF(q, "%s/%s", T.m.v2, SHK_QUARANTINE_DIR);
	rmdir(q);
	if (T.m.freezer[0]) {
		PATHF(q, "%s/%s", T.m.freezer, SHK_QUARANTINE_DIR);
		rmdir(q);
	}
	if (T.tmp) {
		unlink(T.counter);
		rmdir(T.tmp);
		free(T.tmp);
	}
	shk_safety_free(T.s);
	return 0;
}

static int setup(void **state)
{
	int fd;

	T.nkids = 0;
	memset(&T.frozen, 0, sizeof(T.frozen));
	PATHF(T.marker, "shrike-marker-%d-%ld", getpid(),
		 (long)random());
	fd = open(T.counter, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, 4096) < 0)
		return -1;
	T.ctr = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return T.ctr == MAP_FAILED ? -1 : 0;
}

/*
 * Quarantines shrike made for our kids (<pid>-<start>, tree-<pid>-<start>)
 * in the hierarchy at mount: thawed first (a v1-frozen task does not die
 * of SIGKILL until thawed), removed once everybody is dead.
 */
static void quarantine_sweep(const char *mount, bool destroy)
{
	char path[SHK_CGROUP_PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (!mount[0])
		return;
	PATHF(path, "%s/%s", mount, SHK_QUARANTINE_DIR);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		char sub[SHK_CGROUP_PATH_MAX + 300];
		const char *n = de->d_name;
		int pid;

		if (!strncmp(n, "tree-", 5))
			n += 5;
		pid = atoi(n);
		for (int i = 0; i < T.nkids; i++) {
			if (pid != T.kids[i])
				continue;
			PATHF(sub, "%s/%s", path, de->d_name);
			shk_thaw_cgroup(sub, 1000);
			if (destroy)
				cg_destroy(sub);
		}
	}
	if (d)
		closedir(d);
}

static int teardown(void **state)
{
	char path[SHK_CGROUP_PATH_MAX];
	DIR *d;
	struct dirent *de;

	/* Back home first, in case a test moved us. */
	PATHF(path, "%s/cgroup.procs", T.origin);
	test_write_file(path, "0");
	if (T.frozen.cgroup[0])
		shk_thaw_cgroup(T.frozen.cgroup, 1000);
	quarantine_sweep(T.m.v2, false);
	quarantine_sweep(T.m.freezer, false);
	/* Only kids still ours: a reaped pid may name a stranger by now. */
	for (int i = 0; i < T.nkids; i++)
		if (waitpid(T.kids[i], NULL, WNOHANG) == 0)
			kill(T.kids[i], SIGKILL);
	for (int i = 0; i < 50 && marker_procs(true) > 0; i++)
		nap_ms(20);
	kill_children();
	if (T.frozen.cgroup[0])
		cg_destroy(T.frozen.cgroup);
	quarantine_sweep(T.m.v2, true);
	quarantine_sweep(T.m.freezer, true);
	/* Whatever a test left under our own cgroup parent. */
	d = opendir(T.base);
	while (d && (de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		PATHF(path, "%s/%s", T.base, de->d_name);
		cg_destroy(path);
	}
	if (d)
		closedir(d);
	if (T.ctr && T.ctr != MAP_FAILED)
		munmap((void *)T.ctr, 4096);
	T.ctr = NULL;
	return 0;
}

/* (a) kill process_tree: nothing with the marker survives. */
static void kill_tree_case(const struct shk_cgroup_mounts *m)
{
	char forker[PATH_MAX], qpath[SHK_CGROUP_PATH_MAX + 128];
	char *argv[] = { forker, T.marker, NULL };
	struct shk_pidref ref;
	struct stat st;
	int n = 0, status;
	pid_t root;

	PATHF(forker, "%s/forker", T.helpers);
	root = spawn_in(NULL, argv);
	assert_true(root > 0);
	/* root + 3 children + 6 grandchildren + 3 sleepers, plus churn. */
	for (int i = 0; i < 300 && n < 13; i++) {
		nap_ms(10);
		n = marker_procs(false);
	}
	assert_true(n >= 13);
	assert_int_equal(shk_pidref_now(root, &ref), 0);

	n = shk_kill_tree(T.s, m, &ref, SIGKILL, 2000);
	assert_true(n >= 13);

	assert_int_equal(waitpid(root, &status, 0), root);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	for (int i = 0; i < 100 && marker_procs(false) > 0; i++) {
		reap_all();
		nap_ms(10);
	}
	assert_int_equal(marker_procs(false), 0);
	/* Nothing comes back later either (an escaped forker would). */
	nap_ms(200);
	reap_all();
	assert_int_equal(marker_procs(false), 0);
	/* The tree's quarantine cgroup was removed. */
	if (m) {
		PATHF(qpath, "%s/%s/tree-%d-%llu", m->v2[0] ? m->v2 : m->freezer,
		      SHK_QUARANTINE_DIR, root, (unsigned long long)ref.start);
		assert_int_equal(stat(qpath, &st), -1);
	}
}

static void test_kill_tree(void **state)
{
	kill_tree_case(&T.m);
}

/* (a') no cgroups at all: SIGSTOP the tree top-down, then kill. */
static void test_kill_tree_no_cgroups(void **state)
{
	kill_tree_case(NULL);
}

/* (a'') only the v1 freezer: the quarantine lives in that hierarchy. */
static void test_kill_tree_v1(void **state)
{
	struct shk_cgroup_mounts v1 = T.m;

	if (!v1.freezer[0])
		skip();
	v1.v2[0] = '\0';
	kill_tree_case(&v1);
}

/* (b) freeze container: a busy loop in a pid namespace stops and restarts. */
static void test_freeze_container(void **state)
{
	char cg[SHK_CGROUP_PATH_MAX], ev[512];
	uint64_t c1, c2;
	int fd;

	runtime_cgroup(cg, sizeof(cg), "cri-containerd");
	cg_mkdirs(cg);
	spawn_spinner(cg, true);
	assert_true(counter_moves(0, 3000));

	assert_int_equal(shk_freeze_cgroup(T.s, cg, 1000), 0);
	assert_int_equal(shk_cgroup_frozen(cg), 1);
	fd = shk_cgroup_open(cg);
	assert_true(fd >= 0);
	assert_true(shk_cgroup_read(fd, "cgroup.events", ev, sizeof(ev)) > 0);
	close(fd);
	assert_non_null(strstr(ev, "frozen 1"));
	assert_non_null(strstr(ev, "populated 1"));
	c1 = counter();
	nap_ms(300);
	c2 = counter();
	assert_true(c1 == c2);

	assert_int_equal(shk_thaw_cgroup(cg, 1000), 0);
	assert_int_equal(shk_cgroup_frozen(cg), 0);
	assert_true(counter_moves(c2, 1000));
}

/* (c) freeze a lone process: moved into a quarantine cgroup, then back. */
static void test_freeze_process(void **state)
{
	char rel[SHK_CGROUP_PATH_MAX], want[SHK_CGROUP_PATH_MAX + 32];
	struct shk_pidref ref;
	struct stat st;
	uint64_t c1, c2;
	pid_t p;

	p = spawn_spinner(NULL, false);
	assert_true(counter_moves(0, 3000));
	assert_int_equal(shk_pidref_now(p, &ref), 0);

	assert_int_equal(shk_freeze_process(T.s, &T.m, &ref, 1000, &T.frozen), 0);
	PATHF(want, "%s/%s/%d-%llu", T.m.v2, SHK_QUARANTINE_DIR,
		 p, (unsigned long long)ref.start);
	assert_string_equal(T.frozen.cgroup, want);
	assert_string_equal(T.frozen.origin, T.origin);
	assert_int_equal(T.frozen.pid, p);
	assert_false(T.frozen.v1);
	/* The kernel agrees on where it is and that it is frozen. */
	assert_true(shk_cgroup_of_pid(NULL, p, NULL, rel, sizeof(rel)) > 0);
	assert_string_equal(rel, want + strlen(T.m.v2));
	assert_int_equal(shk_cgroup_frozen(T.frozen.cgroup), 1);
	c1 = counter();
	nap_ms(300);
	c2 = counter();
	assert_true(c1 == c2);
	assert_true(alive(p));

	assert_int_equal(shk_release_process(&T.m, &T.frozen, 1000), 0);
	assert_true(counter_moves(c2, 1000));
	assert_true(shk_cgroup_of_pid(NULL, p, NULL, rel, sizeof(rel)) > 0);
	assert_string_equal(rel, T.origin[strlen(T.m.v2)] ? T.origin + strlen(T.m.v2) : "/");
	assert_int_equal(stat(want, &st), -1);
	T.frozen.cgroup[0] = '\0';
}

/* (c') the v1 freezer fallback: quarantine in the freezer hierarchy. */
static void test_freeze_process_v1(void **state)
{
	struct shk_cgroup_mounts v1 = T.m;
	struct shk_safety *s1;
	char rel[SHK_CGROUP_PATH_MAX];
	struct shk_pidref ref;
	uint64_t c1, c2;
	pid_t p;

	if (!v1.freezer[0])
		skip();
	v1.v2[0] = '\0';
	s1 = shk_safety_new(&v1, NULL);
	assert_non_null(s1);
	p = spawn_spinner(NULL, false);
	assert_true(counter_moves(0, 3000));
	assert_int_equal(shk_pidref_now(p, &ref), 0);
	assert_int_equal(shk_freeze_process(s1, &v1, &ref, 1000, &T.frozen), 0);
	shk_safety_free(s1);
	assert_true(T.frozen.v1);
	assert_int_equal(strncmp(T.frozen.cgroup, v1.freezer, strlen(v1.freezer)), 0);
	assert_true(shk_cgroup_of_pid(NULL, p, "freezer", rel, sizeof(rel)) > 0);
	assert_string_equal(rel, T.frozen.cgroup + strlen(v1.freezer));
	assert_int_equal(shk_cgroup_frozen(T.frozen.cgroup), 1);
	c1 = counter();
	nap_ms(300);
	c2 = counter();
	assert_true(c1 == c2);
	assert_int_equal(shk_release_process(&v1, &T.frozen, 1000), 0);
	assert_true(counter_moves(c2, 1000));
	T.frozen.cgroup[0] = '\0';
}

static int count_cb(int pid, void *ctx)
{
	(*(int *)ctx)++;
	return 0;
}

/* (d) kill container: cgroup.kill empties it, every member dies. */
static void test_kill_container(void **state)
{
	char cg[SHK_CGROUP_PATH_MAX], ev[512];
	int fd, members = 0, n, status;
	pid_t p;
	uint64_t c;

	runtime_cgroup(cg, sizeof(cg), "docker");
	cg_mkdirs(cg);
	p = spawn_spinner(cg, true);
	assert_true(counter_moves(0, 3000));
	fd = shk_cgroup_open(cg);
	assert_true(fd >= 0);
	assert_int_equal(shk_cgroup_for_each_proc(fd, count_cb, &members), 0);
	assert_int_equal(members, 2); /* unshare and the spinner (ns pid 1) */

	n = shk_kill_cgroup(T.s, &T.m, cg, SIGKILL, 2000);
	assert_int_equal(n, members);
	assert_true(shk_cgroup_read(fd, "cgroup.events", ev, sizeof(ev)) > 0);
	close(fd);
	assert_non_null(strstr(ev, "populated 0"));
	assert_int_equal(waitpid(p, &status, 0), p);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	c = counter();
	nap_ms(100);
	assert_true(counter() == c);
}

/* (d') without cgroup.kill's fast path (a non-fatal signal): freeze,
 * signal each member through a pidfd, thaw. */
static void test_kill_container_sigterm(void **state)
{
	char cg[SHK_CGROUP_PATH_MAX];
	int n, status;
	pid_t p;

	runtime_cgroup(cg, sizeof(cg), "crio");
	cg_mkdirs(cg);
	p = spawn_spinner(cg, false);
	assert_true(counter_moves(0, 3000));
	n = shk_kill_cgroup(T.s, &T.m, cg, SIGTERM, 2000);
	assert_int_equal(n, 1);
	assert_int_equal(waitpid(p, &status, 0), p);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
	/* It was thawed: it is not left frozen for the next tenant. */
	assert_int_equal(shk_cgroup_frozen(cg), 0);
}

static pid_t spawn_pause(const char *comm)
{
	pid_t p = fork();

	if (p == 0) {
		if (comm)
			prctl(PR_SET_NAME, comm);
		for (;;)
			pause();
	}
	add_kid(p);
	return p;
}

/* (e) a reference with the wrong start time never reaches the process. */
static void test_pidfd_stale(void **state)
{
	struct shk_pidref ref, bad, ns;
	struct shk_frozen fz;
	int status;
	pid_t p;

	p = spawn_pause(NULL);
	assert_true(p > 0);
	assert_int_equal(shk_pidref_now(p, &ref), 0);

	bad = ref;
	bad.start = ref.start + 1;
	assert_int_equal(shk_kill_process(T.s, &bad, SIGKILL), -ESTALE);
	assert_int_equal(shk_kill_tree(T.s, &T.m, &bad, SIGKILL, 1000), -ESTALE);
	assert_int_equal(shk_freeze_process(T.s, &T.m, &bad, 1000, &fz), -ESTALE);
	bad = (struct shk_pidref){ p, SHK_START_BOOTTIME_NS,
				   (ref.start + 3) * T.tick_ns };
	assert_int_equal(shk_kill_process(T.s, &bad, SIGKILL), -ESTALE);
	bad = (struct shk_pidref){ p, SHK_START_NONE, 0 };
	assert_int_equal(shk_kill_process(T.s, &bad, SIGKILL), -EINVAL);
	nap_ms(50);
	assert_true(alive(p));

	/* The sensors' exact boottime ns, anywhere within the tick. */
	ns = (struct shk_pidref){ p, SHK_START_BOOTTIME_NS,
				  ref.start * T.tick_ns + T.tick_ns - 1 };
	assert_int_equal(shk_kill_process(T.s, &ns, SIGKILL), 1);
	assert_int_equal(waitpid(p, &status, 0), p);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* Reaped: the same reference now finds nobody. */
	assert_int_equal(shk_kill_process(T.s, &ref, SIGKILL), -ESRCH);
}

static void assert_unharmed(int pid, const struct shk_pidref *before)
{
	struct shk_pidstat st;

	assert_int_equal(shk_pidstat_read(NULL, pid, &st), 0);
	assert_true(shk_pidref_matches(before, st.start_ticks));
	assert_true(st.state != 'T' && st.state != 't' && st.state != 'Z');
}

/* (f) PID 1, ourselves, our ancestors, kernel threads, protected names. */
static void test_safety_refusals(void **state)
{
	char why[SHK_SAFETY_REASON_MAX], self_cg[SHK_CGROUP_PATH_MAX + 16];
	struct shk_pidref r1, r2, rself, rparent, rprot, rtree;
	int status = -1;
	pid_t guarded, prot, tree;

	assert_int_equal(shk_pidref_now(1, &r1), 0);
	assert_int_equal(shk_pidref_now(2, &r2), 0);
	assert_int_equal(shk_pidref_now(getpid(), &rself), 0);
	assert_int_equal(shk_pidref_now(getppid(), &rparent), 0);

	/* Signal 0: a broken rail fails the test, not the host. */
	assert_int_equal(shk_kill_process(T.s, &r1, 0), -EPERM);
	assert_int_equal(shk_kill_process(T.s, &rself, 0), -EPERM);
	assert_int_equal(shk_kill_process(T.s, &rparent, 0), -EPERM);
	assert_int_equal(shk_kill_process(T.s, &r2, SIGKILL), -EPERM);
	assert_int_equal(shk_safety_check(T.s, 2, why, sizeof(why)), -EPERM);
	assert_string_equal(why, "a kernel thread");
	assert_unharmed(1, &r1);
	assert_unharmed(2, &r2);
	assert_unharmed(getppid(), &rparent);

	/* The root cgroup: neither frozen nor killed. */
	assert_int_equal(shk_freeze_cgroup(T.s, T.m.v2, 1000), -EPERM);
	assert_int_equal(shk_kill_cgroup(T.s, &T.m, T.m.v2, 0, 1000), -EPERM);
	assert_int_equal(shk_safety_check_cgroup(T.s, T.m.v2, why, sizeof(why)),
			 -EPERM);
	assert_string_equal(why, "the root cgroup");

	/* A protected name, and a tree with one inside: refused whole. */
	prot = spawn_pause("kubelet");
	nap_ms(20); /* let prctl happen */
	assert_int_equal(shk_pidref_now(prot, &rprot), 0);
	assert_int_equal(shk_kill_process(T.s, &rprot, SIGKILL), -EPERM);
	assert_true(alive(prot));
	tree = fork();
	if (tree == 0) {
		if (fork() == 0) {
			prctl(PR_SET_NAME, "containerd");
			for (;;)
				pause();
		}
		for (;;)
			pause();
	}
	add_kid(tree);
	nap_ms(50);
	assert_int_equal(shk_pidref_now(tree, &rtree), 0);
	assert_int_equal(shk_kill_tree(T.s, &T.m, &rtree, SIGKILL, 1000), -EPERM);
	assert_true(alive(tree));

	/*
	 * Our own cgroup. A child plays shrike: it moves into a cgroup of
	 * its own and asks to freeze it. If the rail failed it would freeze
	 * itself, so we watch with a timeout and thaw it then.
	 */
	PATHF(self_cg, "%s/self", T.base);
	cg_mkdirs(self_cg);
	guarded = fork();
	if (guarded == 0) {
		char procs[SHK_CGROUP_PATH_MAX + 32];
		int r1c, r2c, r3c;

		PATHF(procs, "%s/cgroup.procs", self_cg);
		if (test_write_file(procs, "0"))
			_exit(3);
		r1c = shk_freeze_cgroup(T.s, self_cg, 200);
		r2c = shk_freeze_cgroup(T.s, T.base, 200); /* an ancestor */
		r3c = shk_safety_check_cgroup(T.s, self_cg, NULL, 0);
		_exit(r1c == -EPERM && r2c == -EPERM && r3c == -EPERM ? 0 : 1);
	}
	add_kid(guarded);
	for (int i = 0; i < 300 && waitpid(guarded, &status, WNOHANG) == 0; i++)
		nap_ms(10);
	if (shk_cgroup_frozen(self_cg) == 1)
		shk_thaw_cgroup(self_cg, 1000);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	/*
	 * The same rail through the cached chain (T.s was made by this
	 * process, so it lists the members of the cgroup asked about):
	 * we live two levels below it, and only there.
	 */
	{
		char nest[SHK_CGROUP_PATH_MAX + 16], inner[SHK_CGROUP_PATH_MAX + 32];
		char rel[SHK_CGROUP_PATH_MAX], home[SHK_CGROUP_PATH_MAX + 16];
		char procs[SHK_CGROUP_PATH_MAX + 48], me[16];
		int r_in, r_out;

		assert_true(shk_cgroup_of_pid(NULL, getpid(), NULL, rel, sizeof(rel)) > 0);
		assert_true(shk_cgroup_join(T.m.v2, rel, home, sizeof(home)) > 0);
		PATHF(nest, "%s/nest", T.base);
		PATHF(inner, "%s/nest/inner", T.base);
		cg_mkdirs(inner);
		snprintf(me, sizeof(me), "%d", getpid());
		PATHF(procs, "%s/cgroup.procs", inner);
		assert_int_equal(test_write_file(procs, me), 0);
		r_in = shk_safety_check_cgroup(T.s, nest, why, sizeof(why));
		PATHF(procs, "%s/cgroup.procs", home);
		assert_int_equal(test_write_file(procs, me), 0); /* back home */
		r_out = shk_safety_check_cgroup(T.s, nest, NULL, 0);
		rmdir(inner);
		rmdir(nest);
		assert_int_equal(r_in, -EPERM);
		assert_string_equal(why, "the cgroup holds shrike itself");
		assert_int_equal(r_out, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_kill_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_tree_no_cgroups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_tree_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_freeze_process_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_freeze_container, setup, teardown),
		cmocka_unit_test_setup_teardown(test_freeze_process, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_container, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_container_sigterm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pidfd_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_safety_refusals, setup, teardown),
	};

	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
