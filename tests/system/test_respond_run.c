/* SPDX-License-Identifier: Apache-2.0 */
/*
 * System tier for the response path through `shrike run`: a policy rule
 * with kill: process_tree in enforce mode ends a forking tree for real;
 * the same policy with --dry-run leaves it running and reports "would"; a
 * process the policy protects is refused and unharmed. Needs root.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "runlib.h"
#include "testlib.h"

static char *dir;
static char policy[1024], forker[1024], protected_bin[1024], exec_bin[1024], exec_out[1024];

static const char policy_text[] =
	"- policy: defaults\n"
	"  protect: {proc.name: [shk-protected]}\n"
	"- rule: Forker started\n"
	"  desc: the test's process tree\n"
	"  condition: evt.type = execve and evt.dir = < and proc.name = forker\n"
	"  output: forker started (pid=%proc.pid cmdline=%proc.cmdline)\n"
	"  priority: CRITICAL\n"
	"  tags: [test]\n"
	"  actions: [{kill: process_tree}]\n"
	"  mode: enforce\n"
	"- rule: Protected started\n"
	"  desc: a process the policy protects\n"
	"  condition: evt.type = execve and evt.dir = < and proc.name = shk-protected\n"
	"  output: protected started (pid=%proc.pid)\n"
	"  priority: CRITICAL\n"
	"  tags: [test]\n"
	"  actions: [kill]\n"
	"  mode: enforce\n";

/* appended with the output path: the command runs with a clean
 * environment (SHRIKE_* and PATH only), not the agent's */
static const char exec_rule[] =
	"- rule: Exec marker started\n"
	"  desc: runs a command with the alert\n"
	"  condition: evt.type = execve and evt.dir = < and proc.name = shk-exec-mark\n"
	"  output: exec marker (pid=%%proc.pid)\n"
	"  priority: WARNING\n"
	"  tags: [test]\n"
	"  actions: [{exec: \"(cat; echo; env | grep ^SHRIKE_) > %s\"}]\n"
	"  mode: enforce\n";

/* Processes whose argv holds marker. */
static int count_marked(const char *marker)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d))) {
		char path[300], buf[4096];
		FILE *f;
		size_t len;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
		if (!(f = fopen(path, "r")))
			continue;
		len = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		for (size_t i = 0; i < len; i++)
			if (!buf[i])
				buf[i] = ' ';
		buf[len] = '\0';
		n += strstr(buf, marker) != NULL;
	}
	if (d)
		closedir(d);
	return n;
}

static pid_t spawn(const char *bin, const char *arg)
{
	pid_t p = fork();

	if (p == 0) {
		execl(bin, bin, arg, (char *)NULL);
		_exit(127);
	}
	return p;
}

static void kill_marked(const char *marker)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "pkill -KILL -f '%s' 2>/dev/null", marker);
	if (system(cmd) < 0)
		perror("pkill");
}

static int setup(void **state)
{
	const char *helpers = test_env("SHRIKE_TEST_HELPERS");
	char cmd[2200];

	dir = test_tmpdir();
	snprintf(policy, sizeof(policy), "%s/policy.yaml", dir);
	snprintf(forker, sizeof(forker), "%s/forker", helpers);
	snprintf(protected_bin, sizeof(protected_bin), "%s/shk-protected", dir);
	snprintf(exec_bin, sizeof(exec_bin), "%s/shk-exec-mark", dir);
	snprintf(exec_out, sizeof(exec_out), "%s/exec-out.txt", dir);
	snprintf(cmd, sizeof(cmd), "cp /bin/sleep %s && cp /bin/true %s", protected_bin, exec_bin);
	{
		char text[sizeof(policy_text) + sizeof(exec_rule) + 1200];
		int n = snprintf(text, sizeof(text), "%s", policy_text);

		snprintf(text + n, sizeof(text) - (size_t)n, exec_rule, exec_out);
		if (test_write_file(policy, text) || system(cmd))
			return -1;
	}
	return 0;
}

static void test_enforce_kills_the_tree(void **state)
{
	const char *args[] = { "--policy", policy, NULL };
	char marker[64];
	struct shrike_run run;
	const cJSON *a, *r;
	pid_t root;

	snprintf(marker, sizeof(marker), "shk-kill-%d", (int)getpid());
	shrike_run_start(&run, dir, args);
	root = spawn(forker, marker);
	usleep(600 * 1000);
	waitpid(root, NULL, WNOHANG);
	shrike_run_stop(&run);

	a = shrike_run_find(&run, "Forker started", "proc.cmdline", marker);
	assert_non_null(a);
	r = shrike_response0(a);
	assert_non_null(r);
	assert_string_equal(shrike_json_str(r, "action"), "kill");
	assert_string_equal(shrike_json_str(r, "scope"), "process_tree");
	assert_string_equal(shrike_json_str(r, "mode"), "enforce");
	assert_string_equal(shrike_json_str(r, "outcome"), "done");
	/* nothing of the tree escaped */
	waitpid(root, NULL, 0);
	assert_int_equal(count_marked(marker), 0);
	shrike_run_free(&run);
}

static void test_dry_run_touches_nothing(void **state)
{
	const char *args[] = { "--dry-run", "--policy", policy, NULL };
	char marker[64];
	struct shrike_run run;
	const cJSON *a, *r;
	pid_t root;
	int alive;

	snprintf(marker, sizeof(marker), "shk-dry-%d", (int)getpid());
	shrike_run_start(&run, dir, args);
	root = spawn(forker, marker);
	usleep(600 * 1000);
	shrike_run_stop(&run);
	alive = count_marked(marker);
	kill_marked(marker);
	waitpid(root, NULL, 0);

	a = shrike_run_find(&run, "Forker started", "proc.cmdline", marker);
	assert_non_null(a);
	r = shrike_response0(a);
	assert_non_null(r);
	assert_string_equal(shrike_json_str(r, "mode"), "audit");
	assert_string_equal(shrike_json_str(r, "outcome"), "would");
	assert_true(alive > 1); /* the whole tree was still running */
	shrike_run_free(&run);
}

static void test_protected_process_is_refused(void **state)
{
	const char *args[] = { "--policy", policy, NULL };
	struct shrike_run run;
	const cJSON *a, *r;
	pid_t p;
	int alive;

	shrike_run_start(&run, dir, args);
	p = spawn(protected_bin, "30");
	usleep(500 * 1000);
	shrike_run_stop(&run);
	alive = kill(p, 0) == 0;
	kill(p, SIGKILL);
	waitpid(p, NULL, 0);

	a = shrike_run_find(&run, "Protected started", NULL, NULL);
	assert_non_null(a);
	r = shrike_response0(a);
	assert_non_null(r);
	assert_string_equal(shrike_json_str(r, "outcome"), "refused");
	assert_non_null(strstr(shrike_json_str(r, "error") ?: "", "protect"));
	assert_true(alive);
	shrike_run_free(&run);
}

static void test_exec_gets_alert_and_env(void **state)
{
	const char *args[] = { "--policy", policy, NULL };
	struct shrike_run run;
	const cJSON *a, *r;
	char *got = NULL, pidenv[64];
	pid_t p;

	shrike_run_start(&run, dir, args);
	p = spawn(exec_bin, "x");
	waitpid(p, NULL, 0);
	/* the shell creates the file before it writes it: wait for the
	 * last thing written (the environment), bounded */
	for (int i = 0; i < 100; i++) {
		free(got);
		got = test_read_file(exec_out, NULL);
		if (got && strstr(got, "SHRIKE_PID="))
			break;
		usleep(20 * 1000);
	}
	shrike_run_stop(&run);

	a = shrike_run_find(&run, "Exec marker started", NULL, NULL);
	assert_non_null(a);
	r = shrike_response0(a);
	assert_non_null(r);
	assert_string_equal(shrike_json_str(r, "action"), "exec");
	assert_string_equal(shrike_json_str(r, "outcome"), "done");
	assert_non_null(got);
	/* stdin: the alert in Falco's schema; environment: who and what */
	assert_non_null(strstr(got, "\"rule\":\"Exec marker started\""));
	assert_non_null(strstr(got, "SHRIKE_RULE=Exec marker started"));
	assert_non_null(strstr(got, "SHRIKE_PRIORITY=WARNING"));
	snprintf(pidenv, sizeof(pidenv), "SHRIKE_PID=%d", (int)p);
	assert_non_null(strstr(got, pidenv));
	free(got);
	shrike_run_free(&run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enforce_kills_the_tree),
		cmocka_unit_test(test_dry_run_touches_nothing),
		cmocka_unit_test(test_protected_process_is_refused),
		cmocka_unit_test(test_exec_gets_alert_and_env),
	};

	test_require_root("the system tier (loads BPF sensors, kills processes)");
	return cmocka_run_group_tests(tests, setup, NULL);
}
