/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Operating `shrike run`: the seccomp filter is on (Seccomp: 2) and alerts
 * still flow under it, unneeded capabilities are gone, harden: false leaves
 * both alone; log_level filters shrike's own messages; SIGUSR1 reopens a file
 * output that logrotate moved; /metrics and /healthz, scraped with a plain
 * socket while rules match, move with the events; a burst into a 1 MiB
 * ring buffer that loses records raises the "events dropped" alert through
 * the outputs. Needs root.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "runlib.h"
#include "testlib.h"

#define DROPS_RULE "shrike internal: events dropped"

static char *dir;
static char policy[1024], marker[1024], ctl[1024], state_dir[1024];

static const char policy_text[] =
	"- rule: Ops marker\n"
	"  desc: the test's marker binary ran\n"
	"  condition: evt.type = execve and evt.dir = < and proc.name = shk-ops-mark\n"
	"  output: ops marker ran (pid=%proc.pid)\n"
	"  priority: WARNING\n"
	"  tags: [test]\n"
	"  actions: [kill]\n" /* audit: timed as a would-be action */
	"  mode: audit\n"
	"- rule: Ops open\n"
	"  desc: captures openat; never matches\n"
	"  condition: evt.type in (open, openat) and fd.name = /nonexistent/shk-ops\n"
	"  output: never (%fd.name)\n"
	"  priority: DEBUG\n";

static int setup(void **state)
{
	char cmd[2200];

	dir = test_tmpdir();
	snprintf(policy, sizeof(policy), "%s/policy.yaml", dir);
	snprintf(marker, sizeof(marker), "%s/shk-ops-mark", dir);
	snprintf(ctl, sizeof(ctl), "%s/control.sock", dir);
	snprintf(state_dir, sizeof(state_dir), "%s/state", dir);
	snprintf(cmd, sizeof(cmd), "cp /bin/true %s", marker);
	if (test_write_file(policy, policy_text) || system(cmd))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char cmd[1100];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", dir);
	free(dir);
	return 0;
}

static void run_marker(void)
{
	pid_t p = fork();

	if (p == 0) {
		execl(marker, marker, (char *)NULL);
		_exit(127);
	}
	waitpid(p, NULL, 0);
}

/* shrike run with the test's policy, control socket and state; extra
 * arguments (NULL-terminated) after them. */
static void start(struct shrike_run *run, const char *const *extra)
{
	const char *args[40] = { "--policy", policy, "--control", ctl, "--state-dir", state_dir };
	int n = 6;

	while (extra && *extra && n < 38)
		args[n++] = *extra++;
	args[n] = NULL;
	shrike_run_start(run, dir, args);
}

static int count_lines(const char *path)
{
	size_t len = 0;
	char *s = test_read_file(path, &len);
	int n = 0;

	for (size_t i = 0; s && i < len; i++)
		n += s[i] == '\n';
	free(s);
	return s ? n : -1;
}

/* Wait up to ms for path to hold at least n lines. */
static bool wait_lines(const char *path, int n, int ms)
{
	for (int t = 0; t < ms; t += 50) {
		if (count_lines(path) >= n)
			return true;
		usleep(50 * 1000);
	}
	return false;
}

/* ------------------------------------------------------------ seccomp */

/* Bit c of a capability line ("CapBnd") of a /proc status text. */
static int cap_bit(const char *status, const char *set, int c)
{
	char key[16];
	const char *p;

	snprintf(key, sizeof(key), "\n%s:", set);
	p = strstr(status, key);
	assert_non_null(p);
	return (int)(strtoull(p + strlen(key), NULL, 16) >> c & 1);
}

static void test_seccomp_filter_is_on(void **state)
{
	const char *no_metrics[] = { "-o", "metrics.enabled=false", NULL };
	const char *no_harden[] = { "-o", "metrics.enabled=false", "-o", "harden=false", NULL };
	struct shrike_run run;
	char path[64], *status, *self = test_read_file("/proc/self/status", NULL);

	assert_non_null(self);
	start(&run, no_metrics);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)run.pid);
	status = test_read_file(path, NULL);
	assert_non_null(status);
	assert_non_null(strstr(status, "\nSeccomp:\t2\n"));
	/* module loading is gone for good, BPF stays */
	assert_int_equal(cap_bit(status, "CapBnd", 16 /* CAP_SYS_MODULE */), 0);
	assert_int_equal(cap_bit(status, "CapEff", 16), 0);
	assert_int_equal(cap_bit(status, "CapEff", 39 /* CAP_BPF */), cap_bit(self, "CapEff", 39));
	free(status);
	/* and it still does its job under the filter */
	run_marker();
	shrike_run_stop(&run);
	assert_non_null(shrike_run_find(&run, "Ops marker", NULL, NULL));
	shrike_run_free(&run);

	start(&run, no_harden);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)run.pid);
	status = test_read_file(path, NULL);
	assert_non_null(status);
	assert_non_null(strstr(status, "\nSeccomp:\t0\n"));
	assert_int_equal(cap_bit(status, "CapBnd", 16), cap_bit(self, "CapBnd", 16));
	free(status);
	free(self);
	shrike_run_stop(&run);
	shrike_run_free(&run);
}

/* ------------------------------------------------------------ realtime */

/* Threads of pid at SCHED_FIFO, and the main thread's policy. */
static int fifo_threads(pid_t pid, int *main_policy)
{
	char path[64];
	DIR *d;
	struct dirent *e;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	assert_non_null(d);
	while ((e = readdir(d))) {
		int tid = atoi(e->d_name), pol;

		if (tid <= 0)
			continue;
		pol = sched_getscheduler(tid) & ~SCHED_RESET_ON_FORK;
		n += pol == SCHED_FIFO;
		if (tid == pid)
			*main_policy = pol;
	}
	closedir(d);
	return n;
}

/* The event loop and the action worker run at SCHED_FIFO (the default
 * realtime_priority: 1), under the seccomp filter; nothing else does, and
 * realtime_priority: 0 leaves them all at normal scheduling. */
static void test_realtime_threads(void **state)
{
	const char *dflt[] = { "-o", "metrics.enabled=false", NULL };
	const char *off[] = { "-o", "metrics.enabled=false", "-o", "realtime_priority=0", NULL };
	struct shrike_run run;
	int main_policy = -1;

	(void)state;
	start(&run, dflt);
	assert_int_equal(fifo_threads(run.pid, &main_policy), 2);
	assert_int_equal(main_policy, SCHED_FIFO);
	/* what it starts runs at normal priority (SCHED_RESET_ON_FORK) */
	run_marker();
	shrike_run_stop(&run);
	assert_non_null(shrike_run_find(&run, "Ops marker", NULL, NULL));
	shrike_run_free(&run);

	start(&run, off);
	assert_int_equal(fifo_threads(run.pid, &main_policy), 0);
	assert_int_equal(main_policy, SCHED_OTHER);
	shrike_run_stop(&run);
	shrike_run_free(&run);
}

/* ------------------------------------------------------------ SIGUSR1 */

static void test_sigusr1_reopens_file_outputs(void **state)
{
	char cfg[1100], cfg_text[1400], log[1100], rotated[1200];
	const char *extra[] = { "--config", cfg, "-o", "metrics.enabled=false", NULL };
	struct shrike_run run;
	struct stat st;
	char *s;
	bool back = false;

	snprintf(cfg, sizeof(cfg), "%s/shrike.yaml", dir);
	snprintf(log, sizeof(log), "%s/alerts.log", dir);
	snprintf(rotated, sizeof(rotated), "%s.1", log);
	snprintf(cfg_text, sizeof(cfg_text),
		 "outputs:\n  - {type: file, path: %s, keep_alive: true}\n", log);
	assert_int_equal(test_write_file(cfg, cfg_text), 0);
	start(&run, extra);
	run_marker();
	assert_true(wait_lines(log, 1, 3000));
	/* logrotate: move the file, then signal */
	assert_int_equal(rename(log, rotated), 0);
	assert_int_equal(kill(run.pid, SIGUSR1), 0);
	/* the new file appears at once, before any alert is written to it */
	for (int t = 0; t < 3000 && !back; t += 50) {
		back = !stat(log, &st);
		if (!back)
			usleep(50 * 1000);
	}
	assert_true(back);
	assert_int_equal(st.st_size, 0);
	run_marker();
	assert_true(wait_lines(log, 1, 3000));
	shrike_run_stop(&run);
	shrike_run_free(&run);
	assert_int_equal(count_lines(rotated), 1);
	assert_int_equal(count_lines(log), 1);
	s = test_read_file(log, NULL);
	assert_non_null(s);
	assert_non_null(strstr(s, "\"rule\":\"Ops marker\""));
	free(s);
}

/* ------------------------------------------------------------ metrics */

static int free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* GET path over a plain socket; the HTTP status, the body in out. */
static int http_get(int port, const char *path, char *out, size_t outsz)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char req[256];
	size_t len = 0;
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), code = -1;
	char *body;

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while (len + 1 < outsz && (n = read(fd, out + len, outsz - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(fd);
	if (sscanf(out, "HTTP/1.%*d %d", &code) != 1)
		return -1;
	body = strstr(out, "\r\n\r\n");
	if (body)
		memmove(out, body + 4, strlen(body + 4) + 1);
	return code;
}

/* The value of the sample whose line starts with name (labels included). */
static double sample(const char *text, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, name, len) && p[len] == ' ')
			return strtod(p + len + 1, NULL);
	return -1;
}

static void test_metrics_scraped_while_running(void **state)
{
	static char before[1 << 17], after[1 << 17];
	char addr[64];
	const char *extra[] = { "-o", addr, NULL };
	struct shrike_run run;
	int port = free_port(), code;
	double a0, e0, a1, e1, m1;

	snprintf(addr, sizeof(addr), "metrics.address=127.0.0.1:%d", port);
	start(&run, extra);
	code = http_get(port, "/healthz", before, sizeof(before));
	assert_int_equal(code, 200);
	assert_non_null(strstr(before, "\"ready\":true"));
	assert_int_equal(http_get(port, "/metrics", before, sizeof(before)), 200);
	a0 = sample(before, "shrike_alerts_total");
	e0 = sample(before, "shrike_events_total{type=\"execve\"}");
	assert_true(a0 >= 0);
	assert_int_equal(sample(before, "shrike_seccomp_filter"), 1);
	assert_int_equal(sample(before, "shrike_ready"), 1);
	for (int i = 0; i < 3; i++)
		run_marker();
	usleep(1200 * 1000); /* drained, and the per-second snapshot taken */
	assert_int_equal(http_get(port, "/metrics", after, sizeof(after)), 200);
	a1 = sample(after, "shrike_alerts_total");
	e1 = sample(after, "shrike_events_total{type=\"execve\"}");
	m1 = sample(after, "shrike_rule_matches_total{rule=\"Ops marker\",priority=\"WARNING\"}");
	shrike_run_stop(&run);
	fprintf(stderr, "alerts %.0f -> %.0f, execve %.0f -> %.0f, marker matches %.0f\n", a0, a1,
		e0, e1, m1);
	assert_true(a1 >= a0 + 3);
	assert_true(e1 >= (e0 < 0 ? 0 : e0) + 3);
	assert_int_equal(m1, 3);
	assert_true(sample(after, "shrike_events_received_total") >
		    sample(before, "shrike_events_received_total"));
	/* kernel losses per CPU are published (none here), and the three
	 * would-be kills are in the latency histogram */
	assert_int_equal(sample(after, "shrike_kernel_dropped_per_cpu_total{reason=\"ringbuf_full\","
				       "cpu=\"0\"}"), 0);
	assert_int_equal(sample(after, "shrike_action_latency_seconds_count{action=\"kill\","
				       "mode=\"audit\"}"), 3);
	assert_int_equal(sample(after, "shrike_action_latency_seconds_bucket{action=\"kill\","
				       "mode=\"audit\",le=\"+Inf\"}"), 3);
	assert_int_equal(shrike_run_find(&run, "Ops marker", NULL, NULL) != NULL, 1);
	shrike_run_free(&run);
}

/* ------------------------------------------------------------ log_level */

/* shrike run with extra arguments, stderr kept: up to ready, then SIGINT;
 * what it printed (malloc'd). */
static char *run_stderr(const char *const *extra)
{
	const char *argv[40] = { test_env("SHRIKE_BIN"), "run", "--policy", policy, "--control", ctl,
				 "--state-dir", state_dir, "-o", "metrics.enabled=false" };
	char path[1100];
	char *s = NULL;
	int n = 10, status;
	pid_t p;

	while (extra && *extra && n < 38)
		argv[n++] = *extra++;
	argv[n] = NULL;
	snprintf(path, sizeof(path), "%s/stderr.txt", dir);
	unlink(path); /* the previous run's "ready" is not this one's */
	p = fork();
	assert_true(p >= 0);
	if (p == 0) {
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		dup2(null, 1);
		dup2(fd, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	for (int t = 0; t < 30000; t += 50) {
		free(s);
		s = test_read_file(path, NULL);
		if (s && strstr(s, "ready"))
			break;
		usleep(50 * 1000);
	}
	kill(p, SIGINT);
	assert_int_equal(waitpid(p, &status, 0), p);
	free(s);
	s = test_read_file(path, NULL);
	assert_non_null(s);
	fprintf(stderr, "%s(exit status %#x)\n", s, status);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return s;
}

static void test_log_level(void **state)
{
	const char *debug[] = { "-o", "log_level=debug", NULL };
	const char *info[] = { "--no-harden", NULL };
	const char *error[] = { "-o", "log_level=error", "--no-harden", NULL };
	char *s;

	s = run_stderr(debug);
	assert_non_null(strstr(s, "shrike: debug: seccomp filter installed"));
	assert_non_null(strstr(s, "shrike: debug: event loop and action worker at SCHED_FIFO priority 1"));
	free(s);
	/* the default, info: informational lines, no debug */
	s = run_stderr(info);
	assert_non_null(strstr(s, "shrike: not hardened: no seccomp filter (--no-harden)"));
	assert_null(strstr(s, "debug:"));
	free(s);
	/* error: only errors, but the ready and summary lines stay */
	s = run_stderr(error);
	assert_null(strstr(s, "shrike: not hardened"));
	assert_null(strstr(s, "warning:"));
	assert_non_null(strstr(s, "shrike: ready ("));
	assert_non_null(strstr(s, "shrike: stopped: events="));
	free(s);
}

/* ------------------------------------------------------------ drops */

static unsigned long long summary_count(const char *summary, const char *key)
{
	const char *p = strstr(summary, key);

	return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

static void test_drops_raise_an_alert(void **state)
{
	const char *extra[] = { "--ringbuf-mb", "1", "-o", "metrics.enabled=false", NULL };
	const char *helpers = test_env("SHRIKE_TEST_HELPERS");
	char cmd[2400], target[1024];
	unsigned long long drops, reported = 0;
	struct shrike_run run;
	int nalerts = 0;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	/* a long path: bigger records fill the buffer sooner */
	snprintf(target, sizeof(target), "%s/%0200d", dir, 0);
	assert_int_equal(test_write_file(target, ""), 0);
	snprintf(cmd, sizeof(cmd), "%s/openloop %ld 3000 %s >/dev/null", helpers,
		 cpus < 2 ? 2 : cpus * 2, target);
	start(&run, extra);
	assert_int_equal(system(cmd), 0);
	sleep(2); /* the once-a-second check */
	shrike_run_stop(&run);
	drops = summary_count(run.summary, " drops=") + summary_count(run.summary, " oversize=");
	if (!drops) {
		shrike_run_free(&run);
		fprintf(stderr, "skipped: the consumer kept up with a 1 MiB ring buffer (%s): no "
				"drops to alert on\n", run.summary);
		skip();
	}
	for (int i = 0; i < run.nalerts; i++) {
		const cJSON *a = run.alerts[i], *of;

		if (strcmp(shrike_json_str(a, "rule") ?: "", DROPS_RULE))
			continue;
		nalerts++;
		assert_string_equal(shrike_json_str(a, "source"), "internal");
		assert_string_equal(shrike_json_str(a, "priority"), "Critical");
		of = cJSON_GetObjectItemCaseSensitive(a, "output_fields");
		assert_non_null(shrike_json_str(of, "n_drops"));
		assert_non_null(shrike_json_str(of, "n_evts"));
		reported += strtoull(shrike_json_str(of, "n_drops"), NULL, 10);
	}
	fprintf(stderr, "kernel drops %llu, %d drop alert(s) reporting %llu\n", drops, nalerts,
		reported);
	/* one alert (the next waits 30 s), covering what was lost until then */
	assert_int_equal(nalerts, 1);
	assert_true(reported > 0 && reported <= drops);
	shrike_run_free(&run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seccomp_filter_is_on),
		cmocka_unit_test(test_realtime_threads),
		cmocka_unit_test(test_sigusr1_reopens_file_outputs),
		cmocka_unit_test(test_metrics_scraped_while_running),
		cmocka_unit_test(test_log_level),
		cmocka_unit_test(test_drops_raise_an_alert),
	};

	test_require_root("the system tier (loads BPF sensors)");
	return cmocka_run_group_tests(tests, setup, teardown);
}
