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

#include "testlib.h"

#define MAX_ALERTS 4096

static struct {
	char *dir;
	char out_path[1024], linkpath[1024], logfile[1024], shmexe[1024], shredfile[1024];
	pid_t shrike;
	int notify_fd;
	char notify_msg[64];
	cJSON *alerts[MAX_ALERTS];
	int nalerts;
	char summary[512];
} T;

static void die(const char *what)
{
	fprintf(stderr, "test setup: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int start_shrike(const char *rules)
{
	int errpipe[2];
	char line[1024];
	FILE *err;
	const char *bin = test_env("SHRIKE_BIN");

	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(T.out_path, sizeof(T.out_path), "%s/alerts.jsonl", T.dir);
	/* systemd's readiness socket, as a service manager would set it */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify", T.dir);
	T.notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (T.notify_fd < 0 || bind(T.notify_fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("notify socket");
	setenv("NOTIFY_SOCKET", sa.sun_path, 1);
	if (pipe(errpipe))
		die("pipe");
	T.shrike = fork();
	if (T.shrike == 0) {
		int out = open(T.out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(out, 1);
		dup2(errpipe[1], 2);
		close(errpipe[0]);
		execl(bin, bin, "run", "--json", "--policy", rules, (char *)NULL);
		_exit(127);
	}
	close(errpipe[1]);
	err = fdopen(errpipe[0], "r");
	while (fgets(line, sizeof(line), err)) {
		fputs(line, stderr);
		if (strstr(line, "ready")) {
			struct pollfd p = { .fd = T.notify_fd, .events = POLLIN };
			ssize_t n;

			if (poll(&p, 1, 2000) == 1 &&
			    (n = recv(T.notify_fd, T.notify_msg, sizeof(T.notify_msg) - 1, 0)) > 0)
				T.notify_msg[n] = '\0';
			unsetenv("NOTIFY_SOCKET");
			fcntl(errpipe[0], F_SETFL, O_NONBLOCK);
			return errpipe[0];
		}
	}
	fprintf(stderr, "shrike run exited before it was ready\n");
	exit(1);
}

static void stop_shrike(int errfd)
{
	char buf[8192];
	ssize_t n;
	int status;

	usleep(300 * 1000);
	kill(T.shrike, SIGINT);
	waitpid(T.shrike, &status, 0);
	fcntl(errfd, F_SETFL, 0);
	while ((n = read(errfd, buf, sizeof(buf) - 1)) > 0) {
		char *s;

		buf[n] = '\0';
		fputs(buf, stderr);
		if ((s = strstr(buf, "shrike: stopped")))
			snprintf(T.summary, sizeof(T.summary), "%s", s);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "shrike run failed (status %d)\n", status);
		exit(1);
	}
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

static void do_memfd_exec(void)
{
	pid_t p = fork();

	if (p == 0) {
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

static void load_alerts(void)
{
	FILE *f = fopen(T.out_path, "r");
	char *line = NULL;
	size_t cap = 0;

	if (!f)
		die("open alerts");
	while (getline(&line, &cap, f) > 0 && T.nalerts < MAX_ALERTS) {
		cJSON *j = cJSON_Parse(line);

		if (!j) {
			fprintf(stderr, "invalid JSON alert: %s\n", line);
			exit(1);
		}
		T.alerts[T.nalerts++] = j;
	}
	free(line);
	fclose(f);
}

static int group_setup(void **state)
{
	const char *rules_dir = test_env("SHRIKE_FALCO_RULES");
	char rules[1024], cmd[2200];
	int errfd;

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

	errfd = start_shrike(rules);

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

	stop_shrike(errfd);
	unlink(T.shmexe);
	load_alerts();
	fprintf(stderr, "collected %d alerts\n", T.nalerts);
	*state = NULL;
	return 0;
}

static int group_teardown(void **state)
{
	for (int i = 0; i < T.nalerts; i++)
		cJSON_Delete(T.alerts[i]);
	return 0;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The first alert of `rule` whose output_fields[field] contains `needle`. */
static const cJSON *find_alert(const char *rule, const char *field, const char *needle)
{
	for (int i = 0; i < T.nalerts; i++) {
		const cJSON *a = T.alerts[i], *of = cJSON_GetObjectItemCaseSensitive(a, "output_fields");
		const char *v;

		if (strcmp(jstr(a, "rule") ?: "", rule))
			continue;
		if (!field)
			return a;
		v = jstr(of, field);
		if (v && strstr(v, needle))
			return a;
	}
	fprintf(stderr, "no '%s' alert with %s ~ '%s'; alerts seen:\n", rule, field ?: "-",
		needle ?: "-");
	for (int i = 0; i < T.nalerts; i++)
		fprintf(stderr, "  %s: %s\n", jstr(T.alerts[i], "rule"), jstr(T.alerts[i], "output"));
	return NULL;
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
	/* proc.sname: the session leader's name, from the process table */
	const cJSON *a = find_alert("Fileless execution via memfd_create", NULL, NULL);
	char path[64], *comm;

	assert_non_null(a);
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)getsid(0));
	comm = test_read_file(path, NULL);
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
	assert_non_null(strstr(T.summary, "drops=0 "));
	assert_non_null(strstr(T.summary, "malformed=0 "));
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
