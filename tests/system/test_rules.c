/* SPDX-License-Identifier: Apache-2.0 */
/*
 * System tier for the rule engine: `shrike run --json` with the upstream
 * stable Falco rules, unchanged, against real actions; each must raise the
 * right rule with fields that identify this test's own action. Needs root
 * (exit 77 otherwise) and ../shared/falco-rules (exit 77 when absent).
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
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "runlib.h"
#include "testlib.h"

static struct {
	char *dir;
	char linkpath[1024], logfile[1024], shmexe[1024], shredfile[1024];
	int notify_fd;
	char notify_msg[64];
	struct shrike_run run;
} T;

static void die(const char *what)
{
	fprintf(stderr, "test setup: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* systemd's readiness socket, as a service manager would set it */
static void notify_socket(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify", T.dir);
	T.notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (T.notify_fd < 0 || bind(T.notify_fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("notify socket");
	setenv("NOTIFY_SOCKET", sa.sun_path, 1);
}

static void notify_receive(void)
{
	struct pollfd p = { .fd = T.notify_fd, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, 2000) == 1 &&
	    (n = recv(T.notify_fd, T.notify_msg, sizeof(T.notify_msg) - 1, 0)) > 0)
		T.notify_msg[n] = '\0';
	unsetenv("NOTIFY_SOCKET");
}

static void run_sh(const char *cmd)
{
	pid_t p = fork();

	if (p == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	waitpid(p, NULL, 0);
}

static void memfd_exec_child(void)
{
	int fd = memfd_create("shk-fileless", MFD_CLOEXEC), src = open("/bin/true", O_RDONLY);
	char buf[65536], *argv[] = { "fileless", NULL }, *envp[] = { NULL };
	ssize_t n;

	if (fd < 0 || src < 0)
		_exit(90);
	while ((n = read(src, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t)n) != n)
			_exit(91);
	fexecve(fd, argv, envp);
	_exit(92);
}

static void do_memfd_exec(void)
{
	pid_t p = fork(), q;

	if (p == 0) {
		/* a fresh session led by this child (which keeps our comm), so
		 * proc.sname does not depend on how the test was started: under
		 * CI the caller's session leader may be gone or in another pidns */
		if (setsid() < 0)
			_exit(93);
		q = fork();
		if (q == 0)
			memfd_exec_child();
		waitpid(q, NULL, 0);
		_exit(q < 0 ? 94 : 0);
	}
	waitpid(p, NULL, 0);
}

static void do_ptrace_attach(void)
{
	pid_t target = fork(), tracer;

	if (target == 0) {
		pause();
		_exit(0);
	}
	tracer = fork();
	if (tracer == 0) {
		if (ptrace(PTRACE_ATTACH, target, NULL, NULL))
			_exit(93);
		waitpid(target, NULL, 0);
		ptrace(PTRACE_DETACH, target, NULL, NULL);
		_exit(0);
	}
	waitpid(tracer, NULL, 0);
	kill(target, SIGKILL);
	waitpid(target, NULL, 0);
}

static void do_truncate_log(void)
{
	pid_t p = fork();

	if (p == 0) {
		int fd = open(T.logfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		_exit(fd < 0 ? 94 : 0);
	}
	waitpid(p, NULL, 0);
}

static int group_setup(void **state)
{
	const char *rules_dir = test_env("SHRIKE_FALCO_RULES");
	char rules[1024], cmd[2200];
	const char *args[] = { "--policy", rules, NULL };

	snprintf(rules, sizeof(rules), "%s/falco_rules.yaml", rules_dir);
	if (access(rules, R_OK)) {
		fprintf(stderr, "SKIP: %s not found (the upstream rules are not beside this checkout)\n", rules);
		exit(TEST_SKIP);
	}
	T.dir = test_tmpdir();
	snprintf(T.linkpath, sizeof(T.linkpath), "%s/etc-link", T.dir);
	snprintf(T.logfile, sizeof(T.logfile), "%s/syslog", T.dir);
	snprintf(T.shredfile, sizeof(T.shredfile), "%s/to-shred", T.dir);
	snprintf(T.shmexe, sizeof(T.shmexe), "/dev/shm/shk-true-%d", (int)getpid());
	test_write_file(T.shredfile, "secret data\n");
	snprintf(cmd, sizeof(cmd), "cp /bin/true %s && chmod 755 %s", T.shmexe, T.shmexe);
	run_sh(cmd);

	notify_socket();
	shrike_run_start(&T.run, T.dir, args);
	notify_receive();

	run_sh("cat /etc/shadow > /dev/null");
	snprintf(cmd, sizeof(cmd), "ln -s /etc %s", T.linkpath);
	run_sh(cmd);
	do_memfd_exec();
	run_sh("find / -maxdepth 1 -name id_rsa > /dev/null 2>&1");
	do_ptrace_attach();
	do_truncate_log();
	snprintf(cmd, sizeof(cmd), "shred -u %s", T.shredfile);
	run_sh(cmd);
	snprintf(cmd, sizeof(cmd), "%s shm-exec-marker", T.shmexe);
	run_sh(cmd);

	shrike_run_stop(&T.run);
	unlink(T.shmexe);
	*state = NULL;
	return 0;
}

static int group_teardown(void **state)
{
	shrike_run_free(&T.run);
	return 0;
}

#define jstr shrike_json_str

static const cJSON *find_alert(const char *rule, const char *field, const char *needle)
{
	return shrike_run_find(&T.run, rule, field, needle);
}

static void check_schema(const cJSON *a)
{
	static const char *const keys[] = { "hostname", "output", "output_fields", "priority",
					    "rule", "source", "tags", "time" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_non_null(cJSON_GetObjectItemCaseSensitive(a, keys[i]));
	assert_string_equal(jstr(a, "source"), "syscall");
	assert_true(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(a, "tags")));
}

static void test_read_sensitive_file(void **state)
{
	const cJSON *a = find_alert("Read sensitive file untrusted", "fd.name", "/etc/shadow");

	assert_non_null(a);
	check_schema(a);
	assert_string_equal(jstr(a, "priority"), "Warning");
	assert_string_equal(jstr(cJSON_GetObjectItem(a, "output_fields"), "proc.name"), "cat");
}

static void test_symlink_over_sensitive(void **state)
{
	const cJSON *a = find_alert("Create Symlink Over Sensitive Files", "evt.arg.linkpath", T.linkpath);

	assert_non_null(a);
	assert_string_equal(jstr(cJSON_GetObjectItem(a, "output_fields"), "evt.arg.target"), "/etc");
}

static void test_session_leader_name(void **state)
{
	/* proc.sname: the session leader's name, from the process table; the
	 * trigger runs in a session led by a forked copy of this test */
	const cJSON *a = find_alert("Fileless execution via memfd_create", NULL, NULL);
	char *comm;

	assert_non_null(a);
	comm = test_read_file("/proc/self/comm", NULL);
	assert_non_null(comm);
	comm[strcspn(comm, "\n")] = '\0';
	assert_string_equal(jstr(cJSON_GetObjectItem(a, "output_fields"), "proc.sname"), comm);
	free(comm);
}

static void test_fileless_memfd(void **state)
{
	/* proc.cmdline is comm ("memfd:shk-filel") plus argv[1..], as in Falco:
	 * the exe path names the memfd */
	assert_non_null(find_alert("Fileless execution via memfd_create", "proc.exepath",
				   "memfd:shk-fileless"));
}

static void test_search_private_keys(void **state)
{
	assert_non_null(find_alert("Search Private Keys or Passwords", "proc.cmdline", "id_rsa"));
}

static void test_ptrace_attach(void **state)
{
	assert_non_null(find_alert("PTRACE attached to process", NULL, NULL));
}

static void test_clear_log(void **state)
{
	assert_non_null(find_alert("Clear Log Activities", "fd.name", T.logfile));
}

static void test_shred(void **state)
{
	assert_non_null(find_alert("Remove Bulk Data from Disk", "proc.cmdline", "shred"));
}

static void test_exec_from_dev_shm(void **state)
{
	assert_non_null(find_alert("Execution from /dev/shm", "proc.cmdline", "shm-exec-marker"));
}

static void test_ready_notification(void **state)
{
	assert_string_equal(T.notify_msg, "READY=1");
}

static void test_no_drops(void **state)
{
	assert_non_null(strstr(T.run.summary, "drops=0 "));
	assert_non_null(strstr(T.run.summary, "malformed=0 "));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_sensitive_file), cmocka_unit_test(test_symlink_over_sensitive),
		cmocka_unit_test(test_fileless_memfd),	    cmocka_unit_test(test_session_leader_name),	    cmocka_unit_test(test_search_private_keys),
		cmocka_unit_test(test_ptrace_attach),	    cmocka_unit_test(test_clear_log),
		cmocka_unit_test(test_shred),		    cmocka_unit_test(test_exec_from_dev_shm),
		cmocka_unit_test(test_ready_notification), cmocka_unit_test(test_no_drops),
	};

	test_require_root("the system tier (loads BPF sensors)");
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
