/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Durable quarantine: `shrike run` quarantines (freezes and isolates) a
 * runtime-named container cgroup; shrike is then killed with SIGKILL. The
 * container must still be frozen and isolated, `shrike quarantine list`
 * must show it, and `shrike quarantine release` must thaw it and remove
 * its isolation. Needs root.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <cmocka.h>

#include "runlib.h"
#include "cgroup.h"
#include "testlib.h"

static char *dir;
static char cg[4400], parent[4200], victim[1100], statedir[1100], policy[1100];

static int frozen(void)
{
	char path[4500], *s;
	int v = -1;

	snprintf(path, sizeof(path), "%s/cgroup.events", cg);
	s = test_read_file(path, NULL);
	if (s && strstr(s, "frozen "))
		v = strstr(s, "frozen 1") ? 1 : 0;
	free(s);
	return v;
}

/* BPF programs attached to the container's cgroup for egress. */
static int attached(void)
{
	__u32 ids[16], cnt = 16, flags = 0;
	int fd = open(cg, O_RDONLY | O_DIRECTORY), err;

	if (fd < 0)
		return -1;
	err = bpf_prog_query(fd, BPF_CGROUP_INET_EGRESS, 0, &flags, ids, &cnt);
	close(fd);
	return err ? -1 : (int)cnt;
}

static int run_cmd(char *out, size_t outsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int run_cmd(char *out, size_t outsz, const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	FILE *p;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	n = fread(out, 1, outsz - 1, p);
	out[n] = '\0';
	return pclose(p);
}

static int setup(void **state)
{
	struct shk_cgroup_mounts m;
	char id[65], cmd[2200];
	const char *cg2 = m.v2;

	dir = test_tmpdir();
	if (shk_cgroup_mounts_discover(SHK_CGROUP_MOUNTINFO, &m) < 0 || !m.v2[0])
		return -1;
	for (int i = 0; i < 64; i++)
		id[i] = "0123456789abcdef"[(unsigned)(rand() ^ getpid() ^ i * 7) % 16];
	id[64] = '\0';
	snprintf(parent, sizeof(parent), "%s/shk-qtest-%d.slice", cg2, (int)getpid());
	snprintf(cg, sizeof(cg), "%s/docker-%s.scope", parent, id);
	snprintf(victim, sizeof(victim), "%s/shk-q-victim", dir);
	snprintf(statedir, sizeof(statedir), "%s/state", dir);
	snprintf(policy, sizeof(policy), "%s/policy.yaml", dir);
	snprintf(cmd, sizeof(cmd), "cp /bin/sleep %s", victim);
	if (mkdir(parent, 0755) || mkdir(cg, 0755) || system(cmd))
		return -1;
	return test_write_file(policy,
			       "- rule: Q victim\n  desc: t\n"
			       "  condition: evt.type = execve and evt.dir = < and proc.name = shk-q-victim\n"
			       "  output: quarantined %proc.pid\n  priority: CRITICAL\n"
			       "  actions: [{quarantine: container}]\n  mode: enforce\n");
}

static int teardown(void **state)
{
	char path[4500];

	snprintf(path, sizeof(path), "%s/cgroup.freeze", cg);
	test_write_file(path, "0");
	snprintf(path, sizeof(path), "%s/cgroup.kill", cg);
	test_write_file(path, "1");
	usleep(100 * 1000);
	rmdir(cg);
	rmdir(parent);
	return 0;
}

static void test_survives_sigkill_and_releases(void **state)
{
	const char *args[] = { "--state-dir", statedir, "--policy", policy, NULL };
	struct shrike_run run;
	char out[8192];
	struct stat st;
	pid_t v;
	int status;

	shrike_run_start(&run, dir, args);
	v = fork();
	if (v == 0) {
		char procs[4500], pid[32];

		snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);
		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		if (test_write_file(procs, pid))
			_exit(90);
		execl(victim, "shk-q-victim", "60", (char *)NULL);
		_exit(91);
	}
	/* quarantine = freeze, then isolate, then record: wait for the alert
	 * that reports all of it done, not just for the freeze */
	for (int i = 0; i < 300; i++) {
		char *a = test_read_file(run.out_path, NULL);
		bool done = a && strstr(a, "\"outcome\":\"done\"");

		free(a);
		if (done)
			break;
		usleep(10 * 1000);
	}
	/* the agent dies without any chance to clean up */
	kill(run.pid, SIGKILL);
	waitpid(run.pid, &status, 0);
	close(run.errfd);
	usleep(200 * 1000);

	assert_int_equal(frozen(), 1);
	assert_true(attached() > 0);
	/* the state is private and lists the quarantine */
	assert_int_equal(stat(statedir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(run_cmd(out, sizeof(out), "%s quarantine list --json --state-dir %s",
				 test_env("SHRIKE_BIN"), statedir), 0);
	assert_non_null(strstr(out, cg));
	assert_non_null(strstr(out, "\"kind\":\"quarantine\""));
	assert_non_null(strstr(out, "\"frozen\":true"));

	assert_int_equal(run_cmd(out, sizeof(out), "%s quarantine release --all --state-dir %s",
				 test_env("SHRIKE_BIN"), statedir), 0);
	assert_non_null(strstr(out, "released 1"));
	assert_int_equal(frozen(), 0);
	assert_int_equal(attached(), 0);
	assert_int_equal(run_cmd(out, sizeof(out), "%s quarantine list --state-dir %s",
				 test_env("SHRIKE_BIN"), statedir), 0);
	assert_non_null(strstr(out, "no quarantines in force"));

	kill(v, SIGKILL);
	waitpid(v, NULL, 0);
	shrike_run_free(&run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_survives_sigkill_and_releases, setup, teardown),
	};

	test_require_root("the system tier (freezes and isolates cgroups)");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
