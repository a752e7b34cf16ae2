/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A policy reload while shrike runs (`shrike reload`, SIGHUP): deny rules are added
 * and removed without a restart, a rule kept across the reload is never
 * off (a child keeps exec'ing the kept binary during the reload, and not
 * one of those execs may run), and a broken policy keeps the running one.
 * The config file and the policy files are watched: a change reloads by
 * itself, outputs included; a broken config keeps the running one.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "runlib.h"
#include "testlib.h"

#define MAX_PATH 512

static struct {
	const char *dir;
	char policy[MAX_PATH], ctl[MAX_PATH], a[MAX_PATH], b[MAX_PATH];
	struct shrike_run run;
} T;

static const char rule_fmt[] = "- rule: Deny %s\n"
			       "  desc: t\n"
			       "  condition: evt.type in (execve, execveat) and proc.exepath = %s\n"
			       "  output: denied (exe=%%proc.exepath)\n"
			       "  priority: CRITICAL\n"
			       "  actions: [deny]\n"
			       "  mode: enforce\n";

static void write_policy(bool a, bool b, const char *extra)
{
	FILE *f = fopen(T.policy, "w");

	assert_non_null(f);
	if (a)
		fprintf(f, rule_fmt, "A", T.a);
	if (b)
		fprintf(f, rule_fmt, "B", T.b);
	if (!a && !b) /* a policy file needs something */
		fputs("- list: shk_test_empty\n  items: []\n", f);
	if (extra)
		fputs(extra, f);
	assert_int_equal(fclose(f), 0);
}

/* A copy of the marker helper with a trailer of its own (its path): a
 * copy of a denied binary is denied by content, so A and B must differ. */
static void copy_bin(const char *to)
{
	char cmd[4 * MAX_PATH];
	const char *h = getenv("SHRIKE_TEST_HELPERS");

	snprintf(cmd, sizeof(cmd), "cp '%s/marker' '%s' && echo '%s' >>'%s'", h ? h : ".", to, to, to);
	assert_int_equal(system(cmd), 0);
}

/* Run bin once; true when it ran (its marker exists). */
static bool runs(const char *bin)
{
	char m[MAX_PATH + 8];
	pid_t p;
	int st;

	snprintf(m, sizeof(m), "%s.ran", bin);
	unlink(m);
	p = fork();
	if (p == 0) {
		execl(bin, bin, m, (char *)NULL);
		_exit(127);
	}
	waitpid(p, &st, 0);
	return access(m, F_OK) == 0;
}

/* `shrike reload`: its exit status, its answer in out. */
static int reload(char *out, size_t size)
{
	char cmd[2 * MAX_PATH];
	FILE *p;
	size_t n;

	snprintf(cmd, sizeof(cmd), "'%s' reload --control '%s' 2>&1", getenv("SHRIKE_BIN"), T.ctl);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, size - 1, p);
	out[n] = '\0';
	return WEXITSTATUS(pclose(p));
}

static int setup(void **state)
{
	const char *args[] = { "--policy", T.policy, "--control", T.ctl, NULL };

	T.dir = test_tmpdir();
	snprintf(T.policy, sizeof(T.policy), "%s/policy.yaml", T.dir);
	snprintf(T.ctl, sizeof(T.ctl), "%s/control.sock", T.dir);
	snprintf(T.a, sizeof(T.a), "%s/bin-a", T.dir);
	snprintf(T.b, sizeof(T.b), "%s/bin-b", T.dir);
	copy_bin(T.a);
	copy_bin(T.b);
	write_policy(true, false, NULL);
	shrike_run_start(&T.run, T.dir, args);
	return 0;
}

static int teardown(void **state)
{
	char cmd[MAX_PATH + 16];

	shrike_run_free(&T.run);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", T.dir);
	if (system(cmd))
		fprintf(stderr, "cleanup failed: %s\n", cmd);
	return 0;
}

static void test_reload_adds_removes_and_never_lapses(void **state)
{
	char out[1024], marker[MAX_PATH + 8];
	int pipefd[2], escaped = 0, tries = 0;
	pid_t hammer;

	assert_false(runs(T.a));
	assert_true(runs(T.b));

	/* add B, keep A; A is exec'd in a loop all through the reload */
	snprintf(marker, sizeof(marker), "%s.ran", T.a);
	unlink(marker);
	assert_int_equal(pipe(pipefd), 0);
	hammer = fork();
	if (hammer == 0) {
		int n = 0, got = 0;

		close(pipefd[0]);
		for (;;) {
			pid_t p = fork();

			if (p == 0) {
				execl(T.a, T.a, marker, (char *)NULL);
				_exit(127);
			}
			waitpid(p, NULL, 0);
			n++;
			if (access(marker, F_OK) == 0) {
				got++;
				unlink(marker);
			}
			if (access(T.ctl, F_OK) != 0 || n >= 100000)
				break;
			{
				char stop[MAX_PATH];

				snprintf(stop, sizeof(stop), "%s/stop", T.dir);
				if (access(stop, F_OK) == 0)
					break;
			}
		}
		if (write(pipefd[1], &got, sizeof(got)) != sizeof(got) ||
		    write(pipefd[1], &n, sizeof(n)) != sizeof(n))
			_exit(1);
		_exit(0);
	}
	close(pipefd[1]);
	usleep(100000);
	write_policy(true, true, NULL);
	assert_int_equal(reload(out, sizeof(out)), 0);
	assert_non_null(strstr(out, "reloaded"));
	usleep(100000);
	{
		char stop[MAX_PATH];
		int fd;

		snprintf(stop, sizeof(stop), "%s/stop", T.dir);
		fd = open(stop, O_CREAT | O_WRONLY, 0600);
		close(fd);
	}
	assert_int_equal(read(pipefd[0], &escaped, sizeof(escaped)), sizeof(escaped));
	assert_int_equal(read(pipefd[0], &tries, sizeof(tries)), sizeof(tries));
	waitpid(hammer, NULL, 0);
	close(pipefd[0]);
	fprintf(stderr, "A exec'd %d times across the reload, %d ran\n", tries, escaped);
	assert_true(tries > 0);
	assert_int_equal(escaped, 0);
	assert_false(runs(T.a));
	assert_false(runs(T.b));

	/* remove A */
	write_policy(false, true, NULL);
	assert_int_equal(reload(out, sizeof(out)), 0);
	assert_true(runs(T.a));
	assert_false(runs(T.b));

	/* a broken policy: refused, the running one stays */
	write_policy(false, false, "- rule: [unterminated\n");
	assert_int_equal(reload(out, sizeof(out)), 1);
	assert_non_null(strstr(out, "the running policies stay"));
	assert_false(runs(T.b));
	assert_true(runs(T.a));

	/* SIGHUP reloads too (systemd's ExecReload) */
	write_policy(true, false, NULL);
	assert_int_equal(kill(T.run.pid, SIGHUP), 0);
	for (int i = 0; i < 100 && runs(T.a); i++)
		usleep(20000);
	assert_false(runs(T.a));
	assert_true(runs(T.b));

	shrike_run_stop(&T.run);
	assert_non_null(shrike_run_find(&T.run, "Deny A", NULL, NULL));
	assert_non_null(shrike_run_find(&T.run, "Deny B", NULL, NULL));
}

/* ---- the config file and inotify ------------------------------------ */

static char errbuf[65536];
static size_t errlen;

/* Wait up to ms for shrike's stderr to contain needle (from the start). */
static bool stderr_has(const char *needle, int ms)
{
	for (int t = 0; t <= ms; t += 20) {
		ssize_t n;

		while (errlen < sizeof(errbuf) - 1 &&
		       (n = read(T.run.errfd, errbuf + errlen, sizeof(errbuf) - 1 - errlen)) > 0)
			errlen += (size_t)n;
		errbuf[errlen] = '\0';
		if (strstr(errbuf, needle))
			return true;
		usleep(20000);
	}
	fprintf(stderr, "shrike's stderr so far:\n%s\n", errbuf);
	return false;
}

static int count_in(const char *path, const char *needle)
{
	char line[8192];
	int n = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

/* Write path by a rename over it, as editors and config managers do. */
static void replace_file(const char *path, const char *text)
{
	char tmp[MAX_PATH + 8];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(tmp, path), 0);
}

static void write_config(const char *cfg, const char *out, const char *extra)
{
	char text[4 * MAX_PATH];

	snprintf(text, sizeof(text),
		 "policies: [%s]\n"
		 "harden: true\n"
		 "metrics: {enabled: false}\n"
		 "outputs:\n"
		 "  - {type: file, path: %s}\n"
		 "%s",
		 T.policy, out, extra ? extra : "");
	replace_file(cfg, text);
}

static const char audit_fmt[] = "- rule: Saw %s\n"
				"  desc: t\n"
				"  condition: evt.type in (execve, execveat) and evt.dir = < and "
				"proc.exepath = %s\n"
				"  output: saw it (exe=%%proc.exepath)\n"
				"  priority: WARNING\n";

static void test_config_and_files_reload_by_themselves(void **state)
{
	char cfg[MAX_PATH], out1[MAX_PATH], out2[MAX_PATH], text[2 * MAX_PATH];
	const char *args[] = { "--config", cfg, "--control", T.ctl, NULL };

	T.dir = test_tmpdir();
	snprintf(T.policy, sizeof(T.policy), "%s/policy.yaml", T.dir);
	snprintf(T.ctl, sizeof(T.ctl), "%s/control.sock", T.dir);
	snprintf(T.a, sizeof(T.a), "%s/bin-a", T.dir);
	snprintf(cfg, sizeof(cfg), "%s/shrike.yaml", T.dir);
	snprintf(out1, sizeof(out1), "%s/out1.jsonl", T.dir);
	snprintf(out2, sizeof(out2), "%s/out2.jsonl", T.dir);
	copy_bin(T.a);
	snprintf(text, sizeof(text), audit_fmt, "A", T.a);
	replace_file(T.policy, text);
	write_config(cfg, out1, NULL);
	errlen = 0;
	shrike_run_start(&T.run, T.dir, args);

	assert_true(runs(T.a));
	for (int i = 0; i < 100 && !count_in(out1, "\"Saw A\""); i++)
		usleep(20000);
	assert_int_equal(count_in(out1, "\"Saw A\""), 1);

	/* the outputs change: no signal, no command, the file is watched */
	write_config(cfg, out2, NULL);
	assert_true(stderr_has("shrike: reloaded", 5000));
	assert_true(stderr_has("replace the previous ones", 100));
	assert_true(runs(T.a));
	for (int i = 0; i < 100 && !count_in(out2, "\"Saw A\""); i++)
		usleep(20000);
	assert_int_equal(count_in(out2, "\"Saw A\""), 1);
	assert_int_equal(count_in(out1, "\"Saw A\""), 1); /* the old output is done */
	/* and says what it did once drained */
	assert_true(stderr_has("replaced by a reload: 1 sent, 0 dropped, 0 failed", 3000));

	/* a bad config: refused with its location, everything stays */
	errlen = 0;
	write_config(cfg, out1, "ringbuf_mb: lots\n");
	assert_true(stderr_has("shrike.yaml:6:13: error: ringbuf_mb", 5000));
	assert_true(stderr_has("the running config and policies stay", 100));
	assert_true(runs(T.a));
	for (int i = 0; i < 100 && count_in(out2, "\"Saw A\"") < 2; i++)
		usleep(20000);
	assert_int_equal(count_in(out2, "\"Saw A\""), 2);
	assert_int_equal(count_in(out1, "\"Saw A\""), 1);

	/* a key read only at start: applied later, and said so */
	errlen = 0;
	write_config(cfg, out2, "ringbuf_mb: 16\n");
	assert_true(stderr_has("'ringbuf_mb' changed: it takes effect at the next restart", 5000));
	assert_true(stderr_has("shrike: reloaded", 1000));

	/* the policy file itself, rewritten in place */
	errlen = 0;
	{
		FILE *f = fopen(T.policy, "w");

		assert_non_null(f);
		fprintf(f, audit_fmt, "A again", T.a);
		assert_int_equal(fclose(f), 0);
	}
	assert_true(stderr_has("shrike: reloaded", 5000));
	assert_true(runs(T.a));
	for (int i = 0; i < 100 && !count_in(out2, "\"Saw A again\""); i++)
		usleep(20000);
	assert_int_equal(count_in(out2, "\"Saw A again\""), 1);
	shrike_run_stop(&T.run);
}

static int teardown2(void **state)
{
	return teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reload_adds_removes_and_never_lapses, setup,
						teardown),
		cmocka_unit_test_teardown(test_config_and_files_reload_by_themselves, teardown2),
	};

	test_require_root("the system tier (loads BPF sensors and deny programs)");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
