/* SPDX-License-Identifier: Apache-2.0 */
/*
 * System tier: run the real sensors (`shrike trace --json`), make real
 * processes, files, sockets and cgroups, and assert what the kernel
 * reported. Needs root; exits 77 (skipped) otherwise.
 *
 * All actions run while one trace is live; each scenario forks a child so
 * its events can be told apart by pid. The cmocka tests then check them.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "cgroup.h"
#include "testlib.h"

#define MAX_EVENTS 200000

static struct {
	char *dir;
	char out_path[1024];
	pid_t shrike;
	cJSON *ev[MAX_EVENTS];
	int nev;
	/* scenario children */
	pid_t p_exec, p_relopen, p_dirfd, p_connect, p_listener, p_dup2, p_memfd, p_cgroup,
		p_setuid, p_paths, p_ptrace, p_ptrace_target, p_pidns, p_prctl, p_exit;
	int port;
	char cgroup_rel[256];
	unsigned long long cgroup_ino;
	char stopped_line[512];
} T;

/* ------------------------------------------------------------------ */

static void die(const char *what)
{
	fprintf(stderr, "test setup: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int start_shrike(void)
{
	int errpipe[2];
	char line[512];
	FILE *err;
	const char *bin = test_env("SHRIKE_BIN");

	snprintf(T.out_path, sizeof(T.out_path), "%s/trace.jsonl", T.dir);
	if (pipe(errpipe))
		die("pipe");
	T.shrike = fork();
	if (T.shrike == 0) {
		int out = open(T.out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(out, 1);
		dup2(errpipe[1], 2);
		close(errpipe[0]);
		execl(bin, bin, "trace", "--json", "--env", "SHK_MARK", (char *)NULL);
		_exit(127);
	}
	close(errpipe[1]);
	err = fdopen(errpipe[0], "r");
	while (fgets(line, sizeof(line), err)) {
		fputs(line, stderr);
		if (strstr(line, "shrike: ready")) {
			/* keep the pipe open: shrike prints its summary there */
			fcntl(errpipe[0], F_SETFL, O_NONBLOCK);
			return errpipe[0];
		}
	}
	fprintf(stderr, "shrike trace exited before it was ready\n");
	exit(1);
}

static void stop_shrike(int errfd)
{
	int status;
	char buf[4096];
	ssize_t n;

	usleep(300 * 1000); /* let the last records reach userspace */
	kill(T.shrike, SIGINT);
	waitpid(T.shrike, &status, 0);
	fcntl(errfd, F_SETFL, 0);
	while ((n = read(errfd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		fputs(buf, stderr);
		char *s = strstr(buf, "shrike: stopped");
		if (s)
			snprintf(T.stopped_line, sizeof(T.stopped_line), "%s", s);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "shrike trace failed (status %d)\n", status);
		exit(1);
	}
}

static void load_events(void)
{
	FILE *f = fopen(T.out_path, "r");
	char *line = NULL;
	size_t cap = 0;

	if (!f)
		die("open trace output");
	while (getline(&line, &cap, f) > 0 && T.nev < MAX_EVENTS) {
		cJSON *j = cJSON_Parse(line);

		if (!j) {
			fprintf(stderr, "invalid JSON line from shrike trace: %s\n", line);
			exit(1);
		}
		T.ev[T.nev++] = j;
	}
	free(line);
	fclose(f);
}

static pid_t run_child(void (*fn)(void))
{
	pid_t p = fork();

	if (p < 0)
		die("fork");
	if (p == 0) {
		fn();
		_exit(0);
	}
	return p;
}

static int wait_child(pid_t p)
{
	int st;

	waitpid(p, &st, 0);
	return st;
}

/* ------------------------------------------------------------------ */
/* scenarios: each runs in its own child */

static void do_exec(void)
{
	char *argv[] = { "true", "first-arg", "second arg", NULL };
	char *envp[] = { "SHK_MARK=exec-test", "PATH=/usr/bin", NULL };

	execve("/bin/true", argv, envp);
	_exit(99);
}

static void do_relopen(void)
{
	char sub[512];
	int fd;

	snprintf(sub, sizeof(sub), "%s/sub", T.dir);
	if (chdir(sub))
		_exit(98);
	/* relative, with a ".." to normalise */
	fd = open("../sub/rel-target", O_RDONLY);
	if (fd < 0)
		_exit(97);
	close(fd);
	/* a relative open that fails: resolved from the cwd in the kernel */
	open("missing-rel", O_RDONLY);
}

static void do_dirfd(void)
{
	int d = open(T.dir, O_RDONLY | O_DIRECTORY);
	int fd;

	if (d < 0)
		_exit(98);
	fd = openat(d, "sub/rel-target", O_RDONLY);
	if (fd < 0)
		_exit(97);
	close(fd);
	openat(d, "sub/missing-dirfd", O_RDONLY);
	fd = openat(d, "created-dirfd", O_WRONLY | O_CREAT | O_TRUNC, 0640);
	close(fd);
}

static int listen_socket(int *ret_port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0);

	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 16) ||
	    getsockname(s, (struct sockaddr *)&a, &len))
		die("listener");
	*ret_port = ntohs(a.sin_port);
	return s;
}

static int connect_port(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int s = socket(AF_INET, SOCK_STREAM, 0);

	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)))
		_exit(96);
	return s;
}

static void do_connect(void)
{
	close(connect_port(T.port));
}

static void do_dup2(void)
{
	int s = connect_port(T.port);

	if (dup2(s, 1) != 1)
		_exit(95);
	execl("/bin/true", "true", "dup2-test", (char *)NULL);
	_exit(94);
}

static void do_memfd(void)
{
	int fd = memfd_create("shktest", MFD_CLOEXEC);
	int src = open("/bin/true", O_RDONLY);
	char buf[65536];
	ssize_t n;
	char *argv[] = { "memfd-true", NULL };
	char *envp[] = { NULL };

	if (fd < 0 || src < 0)
		_exit(93);
	while ((n = read(src, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t)n) != n)
			_exit(92);
	fexecve(fd, argv, envp);
	_exit(91);
}

static char cgroup_procs[4500];

static void do_cgroup(void)
{
	char pid[32];

	snprintf(pid, sizeof(pid), "%d", getpid());
	if (test_write_file(cgroup_procs, pid))
		_exit(90);
	execl("/bin/true", "true", "cgroup-test", (char *)NULL);
	_exit(89);
}

static void do_setuid(void)
{
	if (setuid(65534))
		_exit(88);
}

static void do_paths(void)
{
	char sub[512];

	snprintf(sub, sizeof(sub), "%s/sub", T.dir);
	if (chdir(sub))
		_exit(87);
	symlink("/etc", "link-to-etc");
	mkdir("newdir", 0700);
	rename("newdir", "renamed-dir");
	rmdir("renamed-dir");
	unlink("link-to-etc");
	chmod("rel-target", 0600);
}

static void do_ptrace_target(void)
{
	pause();
}

static void do_ptrace(void)
{
	if (ptrace(PTRACE_ATTACH, T.p_ptrace_target, NULL, NULL))
		_exit(86);
	waitpid(T.p_ptrace_target, NULL, 0);
	ptrace(PTRACE_DETACH, T.p_ptrace_target, NULL, NULL);
}

static void do_pidns(void)
{
	pid_t p;

	if (unshare(CLONE_NEWPID))
		_exit(85);
	p = fork();
	if (p == 0) {
		execl("/bin/true", "true", "pidns-test", (char *)NULL);
		_exit(84);
	}
	waitpid(p, NULL, 0);
}

static void do_prctl(void)
{
	prctl(PR_SET_NAME, "renamed-comm", 0, 0, 0);
}

static void do_exit(void)
{
	_exit(7);
}

static int group_setup(void **state)
{
	struct shk_cgroup_mounts mounts;
	char path[512], cgdir[4400];
	const char *cg2;
	int errfd, lsock;
	struct stat st;
	pid_t acceptor;

	T.dir = test_tmpdir();
	snprintf(path, sizeof(path), "%s/sub", T.dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/sub/rel-target", T.dir);
	test_write_file(path, "x");

	if (shk_cgroup_mounts_discover(SHK_CGROUP_MOUNTINFO, &mounts) < 0 || !mounts.v2[0])
		die("no cgroup2 mount in /proc/self/mountinfo");
	cg2 = mounts.v2;
	snprintf(T.cgroup_rel, sizeof(T.cgroup_rel), "/shrike-test-%d", (int)getpid());
	snprintf(cgdir, sizeof(cgdir), "%s%s", cg2, T.cgroup_rel);
	if (mkdir(cgdir, 0755) && errno != EEXIST)
		die("mkdir cgroup");
	if (stat(cgdir, &st))
		die("stat cgroup");
	T.cgroup_ino = (unsigned long long)st.st_ino;
	snprintf(cgroup_procs, sizeof(cgroup_procs), "%s/cgroup.procs", cgdir);

	lsock = listen_socket(&T.port);
	acceptor = fork();
	if (acceptor == 0) {
		for (;;) {
			int c = accept(lsock, NULL, NULL);
			if (c >= 0)
				close(c);
		}
	}
	T.p_listener = acceptor;

	errfd = start_shrike();

	wait_child(T.p_exec = run_child(do_exec));
	wait_child(T.p_relopen = run_child(do_relopen));
	wait_child(T.p_dirfd = run_child(do_dirfd));
	wait_child(T.p_connect = run_child(do_connect));
	wait_child(T.p_dup2 = run_child(do_dup2));
	wait_child(T.p_memfd = run_child(do_memfd));
	wait_child(T.p_cgroup = run_child(do_cgroup));
	wait_child(T.p_setuid = run_child(do_setuid));
	wait_child(T.p_paths = run_child(do_paths));
	T.p_ptrace_target = run_child(do_ptrace_target);
	wait_child(T.p_ptrace = run_child(do_ptrace));
	kill(T.p_ptrace_target, SIGKILL);
	wait_child(T.p_ptrace_target);
	wait_child(T.p_pidns = run_child(do_pidns));
	wait_child(T.p_prctl = run_child(do_prctl));
	wait_child(T.p_exit = run_child(do_exit));

	stop_shrike(errfd);
	kill(acceptor, SIGKILL);
	wait_child(acceptor);
	rmdir(cgdir);
	load_events();
	fprintf(stderr, "collected %d events\n", T.nev);
	*state = NULL;
	return 0;
}

static int group_teardown(void **state)
{
	for (int i = 0; i < T.nev; i++)
		cJSON_Delete(T.ev[i]);
	return 0;
}

/* ------------------------------------------------------------------ */
/* event lookup */

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double jnum(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static const cJSON *jobj(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* The n-th (0-based) event named `name` from tgid `pid` whose `key`
 * contains `needle` (key/needle optional). */
static const cJSON *find(pid_t pid, const char *name, const char *key, const char *needle)
{
	for (int i = 0; i < T.nev; i++) {
		const cJSON *e = T.ev[i];
		const char *v;

		if ((pid_t)jnum(e, "pid") != pid || strcmp(jstr(e, "event") ?: "", name))
			continue;
		if (key) {
			v = jstr(e, key);
			if (!v || !strstr(v, needle))
				continue;
		}
		return e;
	}
	return NULL;
}

static void dump(const cJSON *e)
{
	char *s = e ? cJSON_PrintUnformatted(e) : NULL;

	fprintf(stderr, "  event: %s\n", s ? s : "(none)");
	free(s);
}

#define EXPECT_EVENT(var, ...)                                                        \
	const cJSON *var = find(__VA_ARGS__);                                         \
	if (!var)                                                                     \
		fail_msg("no matching event: find(%s)", #__VA_ARGS__);

/* ------------------------------------------------------------------ */

static void test_exec_with_args(void **state)
{
	EXPECT_EVENT(e, T.p_exec, "exec", NULL, NULL);
	const cJSON *args = jobj(e, "args"), *task = jobj(e, "task"), *env = jobj(e, "env");

	dump(e);
	assert_string_equal(jstr(e, "exe"), "/usr/bin/true");
	assert_string_equal(jstr(e, "filename"), "/bin/true");
	assert_int_equal(cJSON_GetArraySize(args), 3);
	assert_string_equal(cJSON_GetArrayItem(args, 0)->valuestring, "true");
	assert_string_equal(cJSON_GetArrayItem(args, 1)->valuestring, "first-arg");
	assert_string_equal(cJSON_GetArrayItem(args, 2)->valuestring, "second arg");
	assert_int_equal((int)jnum(e, "argc"), 3);
	assert_string_equal(jstr(env, "SHK_MARK"), "exec-test");
	assert_int_equal((pid_t)jnum(task, "ppid"), getpid());
	assert_int_equal((int)jnum(task, "uid"), 0);
	assert_int_equal((int)jnum(task, "euid"), 0);
	assert_true(jnum(task, "cgroup_id") > 0);
	assert_true(jnum(task, "mntns") > 0);
	assert_true(jnum(task, "pidns") > 0);
	assert_true(jnum(task, "start_ns") > 0);
	assert_int_equal((pid_t)jnum(task, "vpid"), T.p_exec); /* host pid namespace */
	assert_int_equal((pid_t)jnum(task, "sid"), getsid(0));
	/* root's effective set contains at least CAP_SYS_ADMIN (bit 21) */
	assert_true(strtoull(jstr(task, "cap_eff"), NULL, 16) & (1ull << 21));
	assert_non_null(jstr(e, "cwd"));
	assert_non_null(jstr(e, "cgroup"));
	assert_false(cJSON_IsTrue(jobj(e, "exe_memfd")));
	assert_true(jnum(e, "exe_ino") > 0);
	/* a successful execve is the exec event; no empty syscall record */
	assert_null(find(T.p_exec, "execve", NULL, NULL));
	/* from the process table (seeded from /proc) and /etc/passwd */
	assert_string_equal(jstr(e, "user"), "root");
	assert_string_equal(jstr(e, "pname"), "system_test_tra");
}

static void test_fork_and_exit(void **state)
{
	EXPECT_EVENT(f, T.p_exit, "fork", NULL, NULL);
	EXPECT_EVENT(x, T.p_exit, "exit", NULL, NULL);

	assert_int_equal((pid_t)jnum(f, "parent_pid"), getpid());
	assert_int_equal((int)jnum(x, "exit_code"), 7 << 8); /* wait(2) encoding */
}

static void test_relative_open_from_cwd(void **state)
{
	char want[600];

	snprintf(want, sizeof(want), "%s/sub/rel-target", T.dir);
	EXPECT_EVENT(e, T.p_relopen, "openat", "raw", "../sub/rel-target");
	dump(e);
	assert_string_equal(jstr(e, "path"), want);
	assert_string_equal(jstr(jobj(e, "fd_res"), "type"), "file");
	assert_true(jnum(e, "ret") >= 0);

	snprintf(want, sizeof(want), "%s/sub/missing-rel", T.dir);
	EXPECT_EVENT(m, T.p_relopen, "openat", "raw", "missing-rel");
	dump(m);
	assert_string_equal(jstr(m, "res"), "ENOENT");
	assert_string_equal(jstr(m, "path"), want);
}

static void test_openat_dirfd(void **state)
{
	char want[600];

	snprintf(want, sizeof(want), "%s/sub/rel-target", T.dir);
	EXPECT_EVENT(e, T.p_dirfd, "openat", "raw", "sub/rel-target");
	dump(e);
	assert_string_equal(jstr(e, "path"), want);

	snprintf(want, sizeof(want), "%s/sub/missing-dirfd", T.dir);
	EXPECT_EVENT(m, T.p_dirfd, "openat", "raw", "sub/missing-dirfd");
	assert_string_equal(jstr(m, "path"), want);
	assert_string_equal(jstr(m, "base"), T.dir);
	assert_string_equal(jstr(m, "res"), "ENOENT");

	EXPECT_EVENT(c, T.p_dirfd, "openat", "raw", "created-dirfd");
	assert_non_null(strstr(jstr(jobj(c, "args"), "flags"), "O_CREAT"));
	assert_non_null(strstr(jstr(jobj(c, "args"), "flags"), "O_TRUNC"));
	assert_string_equal(jstr(jobj(c, "args"), "mode"), "0640");
}

static void test_tcp_connect(void **state)
{
	char remote[64];

	snprintf(remote, sizeof(remote), "127.0.0.1:%d", T.port);
	EXPECT_EVENT(e, T.p_connect, "connect", NULL, NULL);
	const cJSON *fd = jobj(e, "fd_arg");

	dump(e);
	assert_non_null(fd);
	assert_string_equal(jstr(fd, "type"), "ipv4");
	assert_string_equal(jstr(fd, "typechar"), "4");
	assert_string_equal(jstr(fd, "remote"), remote);
	assert_int_equal((int)jnum(fd, "rport"), T.port);
	assert_true(jnum(fd, "lport") > 0);
	assert_string_equal(jstr(fd, "domain"), "AF_INET");
	assert_int_equal((int)jnum(e, "ret"), 0);

	EXPECT_EVENT(s, T.p_connect, "socket", NULL, NULL);
	assert_string_equal(jstr(jobj(s, "args"), "domain"), "AF_INET");
	assert_string_equal(jstr(jobj(s, "fd_res"), "type"), "ipv4");

	/* the acceptor's side: accept() returns the peer tuple */
	EXPECT_EVENT(a, T.p_listener, "accept", NULL, NULL);
	assert_int_equal((int)jnum(jobj(a, "fd_res"), "lport"), T.port);
}

static void test_dup2_socket_onto_stdout(void **state)
{
	EXPECT_EVENT(d, T.p_dup2, "dup2", NULL, NULL);
	const cJSON *res = jobj(d, "fd_res");

	dump(d);
	assert_int_equal((int)jnum(res, "num"), 1);
	assert_string_equal(jstr(res, "type"), "ipv4");
	assert_string_equal(jstr(jobj(d, "fd_arg"), "type"), "ipv4");

	EXPECT_EVENT(e, T.p_dup2, "exec", NULL, NULL);
	dump(e);
	assert_string_equal(jstr(e, "stdout"), "ipv4");
	assert_string_not_equal(jstr(e, "stdin"), "ipv4");
}

static void test_exec_from_memfd(void **state)
{
	EXPECT_EVENT(m, T.p_memfd, "memfd_create", NULL, NULL);
	assert_string_equal(jstr(m, "extra"), "shktest");
	assert_string_equal(jstr(jobj(m, "fd_res"), "type"), "memfd");

	EXPECT_EVENT(e, T.p_memfd, "exec", NULL, NULL);
	dump(e);
	assert_true(cJSON_IsTrue(jobj(e, "exe_memfd")));
	assert_non_null(strstr(jstr(e, "exe"), "memfd:shktest"));
}

static void test_fresh_cgroup(void **state)
{
	EXPECT_EVENT(e, T.p_cgroup, "exec", NULL, NULL);
	dump(e);
	assert_string_equal(jstr(e, "cgroup"), T.cgroup_rel);
	assert_true((unsigned long long)jnum(jobj(e, "task"), "cgroup_id") == T.cgroup_ino);
}

static void test_setuid_reports_caller(void **state)
{
	EXPECT_EVENT(e, T.p_setuid, "setuid", NULL, NULL);
	dump(e);
	assert_string_equal(jstr(jobj(e, "args"), "uid"), "65534");
	/* captured at entry: the task is still root when it asks */
	assert_int_equal((int)jnum(jobj(e, "task"), "uid"), 0);
	assert_int_equal((int)jnum(e, "ret"), 0);
}

static void test_path_syscalls(void **state)
{
	char want[600];

	snprintf(want, sizeof(want), "%s/sub/link-to-etc", T.dir);
	EXPECT_EVENT(s, T.p_paths, "symlink", NULL, NULL);
	dump(s);
	assert_string_equal(jstr(s, "raw"), "/etc"); /* target, verbatim */
	assert_string_equal(jstr(s, "path2"), want);

	snprintf(want, sizeof(want), "%s/sub/newdir", T.dir);
	EXPECT_EVENT(m, T.p_paths, "mkdir", NULL, NULL);
	assert_string_equal(jstr(m, "path"), want);
	assert_string_equal(jstr(jobj(m, "args"), "mode"), "0700");

	EXPECT_EVENT(r, T.p_paths, "rename", NULL, NULL);
	assert_string_equal(jstr(r, "path"), want);
	snprintf(want, sizeof(want), "%s/sub/renamed-dir", T.dir);
	assert_string_equal(jstr(r, "path2"), want);

	EXPECT_EVENT(d, T.p_paths, "rmdir", NULL, NULL);
	assert_string_equal(jstr(d, "path"), want);
	EXPECT_EVENT(u, T.p_paths, "unlink", NULL, NULL);
	snprintf(want, sizeof(want), "%s/sub/link-to-etc", T.dir);
	assert_string_equal(jstr(u, "path"), want);
	EXPECT_EVENT(c, T.p_paths, "chmod", NULL, NULL);
	assert_string_equal(jstr(jobj(c, "args"), "mode"), "0600");
}

static void test_ptrace_attach(void **state)
{
	char pid[16];

	snprintf(pid, sizeof(pid), "%d", T.p_ptrace_target);
	EXPECT_EVENT(e, T.p_ptrace, "ptrace", NULL, NULL);
	dump(e);
	assert_string_equal(jstr(jobj(e, "args"), "request"), "PTRACE_ATTACH");
	assert_string_equal(jstr(jobj(e, "args"), "pid"), pid);
}

static void test_pid_namespace(void **state)
{
	EXPECT_EVENT(u, T.p_pidns, "unshare", NULL, NULL);
	assert_non_null(strstr(jstr(jobj(u, "args"), "flags"), "CLONE_NEWPID"));
	/* the grandchild is pid 1 of the new namespace */
	for (int i = 0; i < T.nev; i++) {
		const cJSON *e = T.ev[i], *task = jobj(e, "task");

		if (strcmp(jstr(e, "event") ?: "", "exec") || !task ||
		    (pid_t)jnum(task, "ppid") != T.p_pidns)
			continue;
		dump(e);
		assert_int_equal((int)jnum(task, "vpid"), 1);
		assert_true((pid_t)jnum(e, "pid") != 1);
		return;
	}
	fail_msg("no exec from the new pid namespace");
}

static void test_prctl_set_name(void **state)
{
	EXPECT_EVENT(e, T.p_prctl, "prctl", NULL, NULL);
	assert_string_equal(jstr(jobj(e, "args"), "option"), "PR_SET_NAME");
	assert_string_equal(jstr(e, "extra"), "renamed-comm");
}

static void test_nothing_dropped(void **state)
{
	unsigned long long drops = 99, malformed = 99;
	const char *d = strstr(T.stopped_line, "drops="), *m = strstr(T.stopped_line, "malformed=");

	assert_non_null(d);
	assert_non_null(m);
	sscanf(d, "drops=%llu", &drops);
	sscanf(m, "malformed=%llu", &malformed);
	assert_int_equal(drops, 0);
	assert_int_equal(malformed, 0);
}

/* Syscalls go through per-syscall tracepoints, which never see 32-bit
 * (int 0x80) syscalls: by default they are said to be unwatched, never
 * reported as zero. */
static void test_compat_unwatched_by_default(void **state)
{
	assert_non_null(strstr(T.stopped_line, "compat_skipped=unwatched"));
}

/* With --compat, a 64-bit process hiding behind int 0x80 is counted. */
static void test_compat_counted(void **state)
{
	const char *bin = test_env("SHRIKE_BIN");
	char int80[1024], line[512], buf[4096] = "";
	unsigned long long n = 0;
	int errpipe[2], status;
	size_t len = 0;
	ssize_t k;
	pid_t pid, helper;
	FILE *err;
	bool ready = false;

	snprintf(int80, sizeof(int80), "%s/int80", test_env("SHRIKE_TEST_HELPERS"));
	helper = fork();
	if (helper == 0) {
		execl(int80, int80, "1", (char *)NULL);
		_exit(127);
	}
	waitpid(helper, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 2)
		skip(); /* no ia32 emulation in this kernel: nothing to count */
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	assert_int_equal(pipe(errpipe), 0);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(errpipe[1], 2);
		close(errpipe[0]);
		execl(bin, bin, "trace", "--compat", "--event", "exec", (char *)NULL);
		_exit(127);
	}
	close(errpipe[1]);
	err = fdopen(errpipe[0], "r");
	while (!ready && fgets(line, sizeof(line), err))
		ready = strstr(line, "shrike: ready") != NULL;
	assert_true(ready);
	helper = fork();
	if (helper == 0) {
		execl(int80, int80, "1000", (char *)NULL);
		_exit(127);
	}
	waitpid(helper, &status, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	kill(pid, SIGINT);
	waitpid(pid, &status, 0);
	while (len < sizeof(buf) - 1 && (k = fread(buf + len, 1, sizeof(buf) - 1 - len, err)) > 0)
		len += (size_t)k;
	buf[len] = '\0';
	fclose(err);
	const char *c = strstr(buf, "compat_skipped=");

	if (!c)
		fail_msg("no summary from shrike trace --compat: %s", buf);
	sscanf(c, "compat_skipped=%llu", &n);
	if (n < 1000)
		fail_msg("compat_skipped=%llu after 1000 int 0x80 syscalls", n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_with_args),
		cmocka_unit_test(test_fork_and_exit),
		cmocka_unit_test(test_relative_open_from_cwd),
		cmocka_unit_test(test_openat_dirfd),
		cmocka_unit_test(test_tcp_connect),
		cmocka_unit_test(test_dup2_socket_onto_stdout),
		cmocka_unit_test(test_exec_from_memfd),
		cmocka_unit_test(test_fresh_cgroup),
		cmocka_unit_test(test_setuid_reports_caller),
		cmocka_unit_test(test_path_syscalls),
		cmocka_unit_test(test_ptrace_attach),
		cmocka_unit_test(test_pid_namespace),
		cmocka_unit_test(test_prctl_set_name),
		cmocka_unit_test(test_nothing_dropped),
		cmocka_unit_test(test_compat_unwatched_by_default),
		cmocka_unit_test(test_compat_counted),
	};

	test_require_root("the system tier (loads BPF sensors)");
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
