/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel deny (issue 5) with the backend this machine has (signal: SIGKILL
 * from tracepoints, EPERM for connects from cgroup programs). For each
 * kind of predicate, a denied case and an allowed neighbour; then the
 * evasions; then a dry run, which must block nothing and report "would".
 *
 * Everything runs once, with one `shrike run`, in the group setup; the
 * tests assert on what was recorded.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "runlib.h"
#include "testlib.h"

#define MAX_PATH 512

struct outcome {
	int status;     /* wait status */
	bool ran;       /* the marker file exists */
	char out[256];  /* its stdout */
	int err;        /* errno of a syscall the test made itself */
};

static struct {
	const char *dir;
	char policy[MAX_PATH];
	char deny_bin[MAX_PATH], ok_bin[MAX_PATH], audit_bin[MAX_PATH], ctr_bin[MAX_PATH];
	char named_bin[MAX_PATH], kill_bin[MAX_PATH], ukill_bin[MAX_PATH], helper[MAX_PATH];
	char secret[MAX_PATH], public[MAX_PATH], secret2[MAX_PATH], script[MAX_PATH];
	char uidsecret[MAX_PATH];
	int port_deny, port_ok, port_kill, listen_fd;
	struct outcome exec_deny, exec_ok, symlink, hardlink, dotdot, relative, audit, copy, near_copy;
	struct outcome ctr_host, ctr_inside, open_deny, open_ok, open_dirfd, open_rel, prctl_open;
	struct outcome script_run, memfd, connect_deny, connect_ok, argv_deny, argv_ok;
	struct outcome dry_exec, dry_open, dry_connect;
	struct outcome kill_exec, ukill_exec, kill_connect;
	struct outcome uid_root, uid_dropped;
	struct shrike_run run, dry;
} T;

static const char policy_text[] =
	"- macro: shk_test_spawn\n"
	"  condition: (evt.type in (execve, execveat) and evt.dir=<)\n"
	"- macro: shk_test_open_read\n"
	"  condition: (evt.type in (open, openat, openat2) and evt.is_open_read=true and "
	"fd.typechar='f' and fd.num>=0)\n"
	"- rule: Deny exec of a binary\n"
	"  desc: t\n"
	"  condition: shk_test_spawn and proc.exepath = %s\n"
	"  output: denied exec (exe=%%proc.exepath)\n"
	"  priority: CRITICAL\n"
	"  actions: [deny]\n"
	"  mode: enforce\n"
	"- rule: Audit exec of a binary\n"
	"  desc: t\n"
	"  condition: shk_test_spawn and proc.exepath = %s\n"
	"  output: audited exec (exe=%%proc.exepath)\n"
	"  priority: CRITICAL\n"
	"  actions: [deny]\n"
	"  mode: audit\n"
	"- rule: Deny exec in a container\n"
	"  desc: t\n"
	"  condition: shk_test_spawn and proc.exepath = %s and container.id != host\n"
	"  output: denied exec in a container (exe=%%proc.exepath)\n"
	"  priority: CRITICAL\n"
	"  actions: [deny]\n"
	"  mode: enforce\n"
	"- rule: Deny fileless exec\n"
	"  desc: t\n"
	"  condition: shk_test_spawn and proc.is_exe_from_memfd = true and proc.pname = %s\n"
	"  output: denied fileless exec (exe=%%proc.exepath)\n"
	"  priority: CRITICAL\n"
	"  actions: [deny]\n"
	"  mode: enforce\n"
	"- rule: Deny reading a secret\n"
	"  desc: t\n"
	"  condition: shk_test_open_read and fd.name in (%s, %s)\n"
	"  output: denied read (file=%%fd.name)\n"
	"  priority: CRITICAL\n"
	"  actions: [deny]\n"
	"  mode: enforce\n"
	"- rule: Deny a named process reading\n"
	"  desc: t\n"
	"  condition: shk_test_open_read and proc.name = shk-named and fd.name = %s\n"
	"  output: denied read by name (file=%%fd.name)\n"
	"  priority: CRITICAL\n"
	"  actions: [deny]\n"
	"  mode: enforce\n"
	"- rule: Deny a pattern in the arguments\n"
	"  desc: t\n"
	"  condition: shk_test_spawn and proc.exepath = %s and proc.args contains \"--shk-evil\"\n"
	"  output: denied arguments (cmdline=%%proc.cmdline)\n"
	"  priority: CRITICAL\n"
	"  actions: [deny]\n"
	"  mode: enforce\n"
	"- rule: Deny a connect\n"
	"  desc: t\n"
	/* more ports than the kernel's few-values table holds: the hash path */
	"  condition: evt.type = connect and fd.rport in (%d, 1, 2, 3, 4, 5) and "
	"fd.rip = 127.0.0.1\n"
	"  output: denied connect (to=%%fd.name)\n"
	"  priority: CRITICAL\n"
	"  actions: [deny]\n"
	"  mode: enforce\n"
	/* kill: process where the kernel can decide: done there, at the
	 * event, in every backend; where it cannot (proc.vpid): userspace */
	"- rule: Kill exec of a binary\n"
	"  desc: t\n"
	"  condition: shk_test_spawn and proc.exepath = %s\n"
	"  output: killed exec (exe=%%proc.exepath)\n"
	"  priority: CRITICAL\n"
	"  actions: [kill]\n"
	"  mode: enforce\n"
	"- rule: Kill exec from userspace\n"
	"  desc: t\n"
	"  condition: shk_test_spawn and proc.exepath = %s and proc.vpid > 0\n"
	"  output: killed exec later (exe=%%proc.exepath)\n"
	"  priority: CRITICAL\n"
	"  actions: [kill]\n"
	"  mode: enforce\n"
	"- rule: Kill a connect\n"
	"  desc: t\n"
	"  condition: evt.type = connect and fd.rport = %d and fd.rip = 127.0.0.1\n"
	"  output: killed connect (to=%%fd.name)\n"
	"  priority: CRITICAL\n"
	"  actions: [kill]\n"
	"  mode: enforce\n"
	/* the kernel remembers which uids no open clause can match: a
	 * process that was root and then is not must be checked again */
	"- rule: Deny a non-root read\n"
	"  desc: t\n"
	"  condition: shk_test_open_read and fd.name = %s and not user.uid = 0\n"
	"  output: denied non-root read (file=%%fd.name uid=%%user.uid)\n"
	"  priority: CRITICAL\n"
	"  actions: [deny]\n"
	"  mode: enforce\n";

static void path_in(char *out, const char *rel)
{
	snprintf(out, MAX_PATH, "%s/%s", T.dir, rel);
}

static void copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, mode);
	ssize_t n;

	if (in < 0 || out < 0)
		fail_msg("copy %s -> %s: %s", from, to, strerror(errno));
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			fail_msg("write %s", to);
	close(in);
	close(out);
	chmod(to, mode);
}

/* A copy of the marker helper with bytes of its own past the ELF image
 * (tag), so that no two test binaries are copies of each other: a copy
 * of a denied binary is denied by its content. */
static void copy_variant(const char *from, const char *to, const char *tag)
{
	FILE *f;

	copy_file(from, to, 0755);
	f = fopen(to, "a");
	if (!f || fprintf(f, "\nshk-variant:%s\n", tag) < 0 || fclose(f))
		fail_msg("append %s", to);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f))
		fail_msg("write %s", path);
	chmod(path, mode);
}

/* Run argv (in cwd when not NULL), stdout captured; the marker is the
 * program's first argument when it is a marker run (argv[1]). */
static void run_prog(struct outcome *o, const char *cwd, const char *marker, char *const argv[])
{
	int p[2];
	pid_t pid;
	ssize_t n, len = 0;

	if (marker)
		unlink(marker);
	if (pipe(p))
		fail_msg("pipe");
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		if (cwd && chdir(cwd))
			_exit(120);
		execv(argv[0], argv);
		_exit(121);
	}
	close(p[1]);
	while (len < (ssize_t)sizeof(o->out) - 1 &&
	       (n = read(p[0], o->out + len, sizeof(o->out) - 1 - (size_t)len)) > 0)
		len += n;
	o->out[len] = '\0';
	close(p[0]);
	waitpid(pid, &o->status, 0);
	o->ran = marker && access(marker, F_OK) == 0;
}

/* A forked child of this test does one thing; its status is recorded. */
static void in_child(struct outcome *o, void (*fn)(void))
{
	pid_t pid = fork();

	if (pid == 0) {
		fn();
		_exit(0);
	}
	waitpid(pid, &o->status, 0);
}

static void open_with_dirfd(void)
{
	int d = open(T.dir, O_RDONLY | O_DIRECTORY), fd;
	char b[8];

	fd = openat(d, "secret", O_RDONLY);
	if (fd >= 0 && read(fd, b, sizeof(b)) > 0)
		_exit(10); /* it read the secret */
	_exit(11);
}

static void open_relative(void)
{
	char b[8];
	int fd;

	if (chdir(T.dir))
		_exit(12);
	fd = open("./sub/../secret", O_RDONLY);
	if (fd >= 0 && read(fd, b, sizeof(b)) > 0)
		_exit(10);
	_exit(11);
}

static void exec_memfd(void)
{
	int fd = (int)syscall(SYS_memfd_create, "shk-deny-test", 0), src = open(T.ok_bin, O_RDONLY);
	char buf[65536], marker[MAX_PATH], *argv[] = { "fileless", marker, NULL }, *envp[] = { NULL };
	ssize_t n;

	path_in(marker, "m-memfd");
	if (fd < 0 || src < 0)
		_exit(90);
	while ((n = read(src, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t)n) != n)
			_exit(91);
	syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
	_exit(92);
}

/* Read the uid secret n times: 10 when every read got its bytes. */
static int read_uidsecret(int n)
{
	char b[8];

	for (int i = 0; i < n; i++) {
		int fd = open(T.uidsecret, O_RDONLY);

		if (fd < 0 || read(fd, b, sizeof(b)) <= 0)
			return 11;
		close(fd);
	}
	return 10;
}

static void open_uid_root(void)
{
	_exit(read_uidsecret(20));
}

/* Root's reads are allowed (and remembered as such); then the same
 * process becomes nobody, twice over (new creds each time), and reads. */
static void open_uid_dropped(void)
{
	if (read_uidsecret(20) != 10)
		_exit(12);
	if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 0) ||
	    setresuid(65534, 65534, 65534))
		_exit(13);
	_exit(read_uidsecret(1) == 10 ? 14 : 15); /* 14: it read the secret */
}

static int connect_direct(int port);

/* From a child: this test started shrike, so it is one of shrike's
 * ancestors, which the kernel policy never touches. */
static int connect_to(int port)
{
	int p[2], err = -1;
	pid_t pid;

	if (pipe(p))
		fail_msg("pipe");
	pid = fork();
	if (pid == 0) {
		err = connect_direct(port);
		if (write(p[1], &err, sizeof(err)) != sizeof(err))
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &err, sizeof(err)) != sizeof(err))
		err = -1;
	close(p[0]);
	waitpid(pid, NULL, 0);
	return err;
}

static int connect_direct(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), err = 0;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)))
		err = errno;
	close(fd);
	return err;
}

static void connect_kill_port(void)
{
	connect_direct(T.port_kill);
	_exit(0); /* reached only if the kernel let it live */
}

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || getsockname(fd, (struct sockaddr *)&a, &len))
		fail_msg("bind");
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static int listen_on(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 8) ||
	    getsockname(fd, (struct sockaddr *)&a, &len))
		fail_msg("listen");
	*port = ntohs(a.sin_port);
	return fd;
}

static void prepare(void)
{
	char *helper = T.helper, sub[MAX_PATH], text[sizeof(policy_text) + 13 * MAX_PATH];
	const char *helpers = getenv("SHRIKE_TEST_HELPERS");
	char comm[32] = "";
	FILE *f;

	T.dir = test_tmpdir();
	snprintf(helper, sizeof(T.helper), "%s/marker", helpers ? helpers : ".");
	for (const char *d = "deny\0audit\0ctr\0sub\0kill\0ukill\0"; *d; d += strlen(d) + 1) {
		path_in(sub, d);
		mkdir(sub, 0755);
	}
	path_in(T.deny_bin, "deny/marker");
	path_in(T.ok_bin, "deny/marker-ok"); /* same directory, another file */
	path_in(T.audit_bin, "audit/marker");
	path_in(T.ctr_bin, "ctr/marker");
	path_in(T.named_bin, "shk-named");
	path_in(T.kill_bin, "kill/marker");
	path_in(T.ukill_bin, "ukill/sleep");
	copy_variant(helper, T.kill_bin, "kill");
	copy_file("/bin/sleep", T.ukill_bin, 0755);
	copy_variant(helper, T.deny_bin, "deny");
	copy_variant(helper, T.ok_bin, "ok");
	copy_variant(helper, T.audit_bin, "audit");
	copy_variant(helper, T.ctr_bin, "ctr");
	copy_variant(helper, T.named_bin, "named");
	path_in(T.secret, "secret");
	path_in(T.public, "public");
	path_in(T.secret2, "secret2");
	path_in(T.script, "evil.sh");
	path_in(T.uidsecret, "uidsecret");
	write_file(T.uidsecret, "secret\n", 0644);
	chmod(T.dir, 0711); /* nobody reaches the uid secret (open_uid_dropped) */
	write_file(T.secret, "secret\n", 0644);
	write_file(T.public, "public\n", 0644);
	write_file(T.secret2, "secret\n", 0644);
	snprintf(text, sizeof(text), "#!/bin/sh\ntouch %s/m-script\n", T.dir);
	write_file(T.script, text, 0755);
	T.listen_fd = listen_on(&T.port_ok);
	T.port_deny = free_port();
	do
		T.port_kill = free_port();
	while (T.port_kill == T.port_deny);
	f = fopen("/proc/self/comm", "r");
	if (!f || !fgets(comm, sizeof(comm), f))
		fail_msg("comm");
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	path_in(T.policy, "policy.yaml");
	snprintf(text, sizeof(text), policy_text, T.deny_bin, T.audit_bin, T.ctr_bin, comm, T.secret,
		 T.script, T.secret2, T.ok_bin, T.port_deny, T.kill_bin, T.ukill_bin, T.port_kill, T.uidsecret);
	write_file(T.policy, text, 0644);
}

static void act(void)
{
	char m[MAX_PATH], sym[MAX_PATH], hard[MAX_PATH], dotdot[MAX_PATH], deny_dir[MAX_PATH];
	char copy[MAX_PATH];

	path_in(m, "m-exec");
	run_prog(&T.exec_deny, NULL, m, (char *[]){ T.deny_bin, m, NULL });
	path_in(m, "m-ok");
	run_prog(&T.exec_ok, NULL, m, (char *[]){ T.ok_bin, m, NULL });
	path_in(sym, "link");
	path_in(hard, "hard");
	unlink(sym);
	unlink(hard);
	if (symlink(T.deny_bin, sym) || link(T.deny_bin, hard))
		fail_msg("links: %s", strerror(errno));
	path_in(m, "m-symlink");
	run_prog(&T.symlink, NULL, m, (char *[]){ sym, m, NULL });
	path_in(m, "m-hardlink");
	run_prog(&T.hardlink, NULL, m, (char *[]){ hard, m, NULL });
	snprintf(dotdot, sizeof(dotdot), "%s/sub/../deny/marker", T.dir);
	/* a copy of the denied binary: another path, another inode, the
	 * same bytes; and one of its size and first bytes that differs at
	 * its end, which the kernel holds and shrike lets go */
	path_in(copy, "copy-of-marker");
	copy_file(T.deny_bin, copy, 0755);
	path_in(m, "m-copy");
	run_prog(&T.copy, NULL, m, (char *[]){ copy, m, NULL });
	path_in(copy, "near-copy");
	copy_variant(T.helper, copy, "denz");
	path_in(m, "m-near-copy");
	run_prog(&T.near_copy, NULL, m, (char *[]){ copy, m, NULL });
	path_in(m, "m-dotdot");
	run_prog(&T.dotdot, NULL, m, (char *[]){ dotdot, m, NULL });
	path_in(deny_dir, "deny");
	path_in(m, "m-relative");
	run_prog(&T.relative, deny_dir, m, (char *[]){ "./marker", m, NULL });
	path_in(m, "m-audit");
	run_prog(&T.audit, NULL, m, (char *[]){ T.audit_bin, m, NULL });
	path_in(m, "m-ctr-host");
	run_prog(&T.ctr_host, NULL, m, (char *[]){ T.ctr_bin, m, NULL });
	path_in(m, "m-ctr-inside");
	run_prog(&T.ctr_inside, NULL, m, (char *[]){ "/usr/bin/unshare", "-m", T.ctr_bin, m, NULL });
	T.ctr_inside.ran = access(m, F_OK) == 0;
	path_in(m, "m-open");
	run_prog(&T.open_deny, NULL, m, (char *[]){ T.ok_bin, m, "open", T.secret, NULL });
	path_in(m, "m-open-ok");
	run_prog(&T.open_ok, NULL, m, (char *[]){ T.ok_bin, m, "open", T.public, NULL });
	in_child(&T.open_dirfd, open_with_dirfd);
	in_child(&T.open_rel, open_relative);
	path_in(m, "m-named");
	run_prog(&T.prctl_open, NULL, m,
		 (char *[]){ T.named_bin, m, "rename", "innocent", "open", T.secret2, NULL });
	path_in(m, "m-script");
	run_prog(&T.script_run, NULL, m, (char *[]){ "/bin/bash", T.script, NULL });
	path_in(m, "m-memfd");
	unlink(m);
	in_child(&T.memfd, exec_memfd);
	T.memfd.ran = access(m, F_OK) == 0;
	T.connect_deny.err = connect_to(T.port_deny);
	T.connect_ok.err = connect_to(T.port_ok);
	/* the same binary, another argv */
	path_in(m, "m-argv");
	run_prog(&T.argv_deny, NULL, m, (char *[]){ T.ok_bin, m, "rename", "--shk-evil", NULL });
	path_in(m, "m-argv-ok");
	run_prog(&T.argv_ok, NULL, m, (char *[]){ T.ok_bin, m, "rename", "--shk-good", NULL });
	path_in(m, "m-kill");
	run_prog(&T.kill_exec, NULL, m, (char *[]){ T.kill_bin, m, NULL });
	/* sleeps long enough for the executor to find it alive */
	run_prog(&T.ukill_exec, NULL, NULL, (char *[]){ T.ukill_bin, "10", NULL });
	in_child(&T.kill_connect, connect_kill_port);
	in_child(&T.uid_root, open_uid_root);
	in_child(&T.uid_dropped, open_uid_dropped);
}

static int group_setup(void **state)
{
	const char *args[] = { "--policy", T.policy, NULL };

	prepare();
	shrike_run_start(&T.run, T.dir, args);
	act();
	shrike_run_stop(&T.run);
	return 0;
}

static bool killed(const struct outcome *o)
{
	return WIFSIGNALED(o->status) && WTERMSIG(o->status) == SIGKILL;
}

static bool exited0(const struct outcome *o)
{
	return WIFEXITED(o->status) && WEXITSTATUS(o->status) == 0;
}

static void expect_alert(const char *rule, const char *field, const char *needle, const char *outcome)
{
	const cJSON *a = shrike_run_find(&T.run, rule, field, needle), *r0;

	assert_non_null(a);
	r0 = shrike_response0(a);
	assert_non_null(r0);
	assert_string_equal(shrike_json_str(r0, "action"), "deny");
	assert_string_equal(shrike_json_str(r0, "outcome"), outcome);
}

static void test_exec_denied_before_first_instruction(void **state)
{
	assert_true(killed(&T.exec_deny));
	assert_false(T.exec_deny.ran); /* the marker is the program's first act */
	expect_alert("Deny exec of a binary", "proc.exepath", T.deny_bin, "done");
}

static void test_exec_neighbour_runs(void **state)
{
	assert_true(exited0(&T.exec_ok));
	assert_true(T.exec_ok.ran);
}

static void test_exec_evasions(void **state)
{
	assert_true(killed(&T.symlink));
	assert_false(T.symlink.ran);
	assert_true(killed(&T.hardlink)); /* another path, the same inode */
	assert_false(T.hardlink.ran);
	assert_true(killed(&T.copy)); /* another path and inode, the same bytes */
	assert_false(T.copy.ran);
	expect_alert("Deny exec of a binary", "proc.exepath", "copy-of-marker", "done");
	/* held for its size and first bytes, let go for the rest */
	assert_true(exited0(&T.near_copy));
	assert_true(T.near_copy.ran);
	assert_true(killed(&T.dotdot));
	assert_false(T.dotdot.ran);
	assert_true(killed(&T.relative));
	assert_false(T.relative.ran);
	assert_true(killed(&T.memfd)); /* execveat(AT_EMPTY_PATH) on a memfd */
	assert_false(T.memfd.ran);
	expect_alert("Deny fileless exec", NULL, NULL, "done");
}

static void test_host_vs_container(void **state)
{
	assert_true(exited0(&T.ctr_host));
	assert_true(T.ctr_host.ran);
	assert_true(killed(&T.ctr_inside)); /* a mount namespace of its own */
	assert_false(T.ctr_inside.ran);
}

static void test_open_denied_reads_nothing(void **state)
{
	assert_true(killed(&T.open_deny));
	assert_true(T.open_deny.ran);
	assert_null(strstr(T.open_deny.out, "read")); /* not one byte */
	assert_true(exited0(&T.open_ok));
	assert_non_null(strstr(T.open_ok.out, "read 7"));
	expect_alert("Deny reading a secret", "fd.name", T.secret, "done");
}

static void test_open_evasions(void **state)
{
	assert_true(killed(&T.open_dirfd)); /* openat with a dirfd */
	assert_true(killed(&T.open_rel));   /* relative, through .. */
	assert_true(killed(&T.prctl_open)); /* renamed itself after exec */
	assert_null(strstr(T.prctl_open.out, "read"));
	/* `bash script.sh`: the interpreter dies opening the script */
	assert_true(killed(&T.script_run));
	assert_false(T.script_run.ran);
}

static void test_open_by_uid(void **state)
{
	const cJSON *a;

	assert_true(WIFEXITED(T.uid_root.status) && WEXITSTATUS(T.uid_root.status) == 10);
	assert_true(killed(&T.uid_dropped)); /* no longer root: checked again */
	expect_alert("Deny a non-root read", NULL, NULL, "done");
	a = shrike_run_find(&T.run, "Deny a non-root read", NULL, NULL);
	assert_non_null(strstr(shrike_json_str(a, "output"), "uid=65534"));
}

static void test_argv_pattern(void **state)
{
	assert_true(killed(&T.argv_deny));
	assert_false(T.argv_deny.ran);
	assert_true(exited0(&T.argv_ok));
	assert_true(T.argv_ok.ran);
	expect_alert("Deny a pattern in the arguments", "proc.cmdline", "--shk-evil", "done");
}

static void test_connect_eperm(void **state)
{
	assert_int_equal(T.connect_deny.err, EPERM);
	assert_int_equal(T.connect_ok.err, 0); /* another port */
	expect_alert("Deny a connect", NULL, NULL, "done");
}

/* The kill response of a rule the kernel can decide */
static const cJSON *kill_alert(const char *rule, const char *field, const char *needle)
{
	const cJSON *a = shrike_run_find(&T.run, rule, field, needle), *r0;

	assert_non_null(a);
	r0 = shrike_response0(a);
	assert_non_null(r0);
	assert_string_equal(shrike_json_str(r0, "action"), "kill");
	assert_string_equal(shrike_json_str(r0, "outcome"), "done");
	return r0;
}

static void test_kill_in_kernel_before_first_instruction(void **state)
{
	const cJSON *r0;

	assert_true(killed(&T.kill_exec));
	/* a userspace kill comes after the alert: the marker, the program's
	 * first act, would be there by then */
	assert_false(T.kill_exec.ran);
	r0 = kill_alert("Kill exec of a binary", "proc.exepath", T.kill_bin);
	assert_non_null(strstr(shrike_json_str(r0, "target"), "(kernel: "));
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(r0, "latency_us")->valuedouble, 0);
}

static void test_kill_in_userspace_where_kernel_cannot(void **state)
{
	const cJSON *r0;

	assert_true(killed(&T.ukill_exec));
	r0 = kill_alert("Kill exec from userspace", "proc.exepath", T.ukill_bin);
	assert_null(strstr(shrike_json_str(r0, "target"), "kernel"));
	assert_true(cJSON_GetObjectItemCaseSensitive(r0, "latency_us")->valuedouble > 0);
}

/* A socket program cannot signal: the connect fails there, and its exit
 * kills the caller before the call returns. */
static void test_kill_connect(void **state)
{
	const cJSON *r0;
	char port[16];

	assert_true(killed(&T.kill_connect));
	snprintf(port, sizeof(port), ":%d", T.port_kill);
	r0 = kill_alert("Kill a connect", "fd.name", port);
	assert_non_null(strstr(shrike_json_str(r0, "target"), "(kernel: cgroup)"));
}

static void test_audit_reports_would(void **state)
{
	assert_true(exited0(&T.audit));
	assert_true(T.audit.ran);
	expect_alert("Audit exec of a binary", "proc.exepath", T.audit_bin, "would");
}

static void test_dry_run_blocks_nothing(void **state)
{
	const char *args[] = { "--policy", T.policy, "--dry-run", NULL };
	char m[MAX_PATH], dir[MAX_PATH];
	const cJSON *a;

	snprintf(dir, sizeof(dir), "%s/dry", T.dir);
	mkdir(dir, 0755);
	shrike_run_start(&T.dry, dir, args);
	path_in(m, "m-dry");
	run_prog(&T.dry_exec, NULL, m, (char *[]){ T.deny_bin, m, NULL });
	path_in(m, "m-dry-open");
	run_prog(&T.dry_open, NULL, m, (char *[]){ T.ok_bin, m, "open", T.secret, NULL });
	T.dry_connect.err = connect_to(T.port_deny);
	shrike_run_stop(&T.dry);
	assert_true(exited0(&T.dry_exec));
	assert_true(T.dry_exec.ran);
	assert_true(exited0(&T.dry_open));
	assert_non_null(strstr(T.dry_open.out, "read 7"));
	assert_int_equal(T.dry_connect.err, ECONNREFUSED); /* nobody listens: not EPERM */
	a = shrike_run_find(&T.dry, "Deny exec of a binary", "proc.exepath", T.deny_bin);
	assert_non_null(a);
	assert_string_equal(shrike_json_str(shrike_response0(a), "outcome"), "would");
	a = shrike_run_find(&T.dry, "Deny reading a secret", "fd.name", T.secret);
	assert_non_null(a);
	assert_string_equal(shrike_json_str(shrike_response0(a), "outcome"), "would");
	shrike_run_free(&T.dry);
}

static int group_teardown(void **state)
{
	char cmd[MAX_PATH + 16];

	shrike_run_free(&T.run);
	if (T.listen_fd > 0)
		close(T.listen_fd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", T.dir);
	if (system(cmd))
		fprintf(stderr, "cleanup: %s failed\n", cmd);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_denied_before_first_instruction),
		cmocka_unit_test(test_exec_neighbour_runs),
		cmocka_unit_test(test_exec_evasions),
		cmocka_unit_test(test_host_vs_container),
		cmocka_unit_test(test_open_denied_reads_nothing),
		cmocka_unit_test(test_open_evasions),
		cmocka_unit_test(test_open_by_uid),
		cmocka_unit_test(test_argv_pattern),
		cmocka_unit_test(test_connect_eperm),
		cmocka_unit_test(test_kill_in_kernel_before_first_instruction),
		cmocka_unit_test(test_kill_in_userspace_where_kernel_cannot),
		cmocka_unit_test(test_kill_connect),
		cmocka_unit_test(test_audit_reports_would),
		cmocka_unit_test(test_dry_run_blocks_nothing),
	};

	test_require_root("the system tier (loads BPF sensors and deny programs)");
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
