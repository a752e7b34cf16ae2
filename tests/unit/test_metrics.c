// SPDX-License-Identifier: Apache-2.0
/*
 * The metrics listener on 127.0.0.1 (ephemeral port), scraped with a plain
 * socket client: /healthz follows readiness, /metrics moves with the
 * counters and the outputs' stats. The exposition itself, rendered
 * directly: kernel losses per CPU and the action latency histograms, and
 * that the whole text stays valid Prometheus text.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "executor.h"
#include "metrics.h"
#include "testlib.h"

/* GET path; returns the status code, the body in body. */
static int get(int port, const char *path, char *body, size_t size)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char *buf = calloc(1, 1 << 20), *sep;
	size_t len = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0), code = -1;
	ssize_t n;

	assert_non_null(buf);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	dprintf(fd, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
	while ((n = read(fd, buf + len, (1 << 20) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	sscanf(buf, "HTTP/1.%*d %d", &code);
	sep = strstr(buf, "\r\n\r\n");
	snprintf(body, size, "%s", sep ? sep + 4 : "");
	free(buf);
	return code;
}

/* The value of the sample line that starts with `series ` (name{labels}). */
static long long sample(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, series, n) && p[n] == ' ')
			return strtoll(p + n + 1, NULL, 10);
	return -1;
}

/* The value of a sample as a double (for _sum), -1 when absent. */
static double sample_f(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, series, n) && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

/* The whole exposition, rendered without the listener; free() it. */
static char *render(const struct shk_metrics_src *src)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	shk_metrics_render(src, f);
	assert_int_equal(fclose(f), 0);
	return text;
}

static bool has_suffix(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && !strncmp(s + len - n, suffix, n);
}

/*
 * Valid text format 0.0.4, as far as shrike uses it: every family has one
 * HELP line followed by one TYPE line, declared once; its samples follow
 * it, before the next family (a histogram's are NAME_bucket, NAME_sum and
 * NAME_count); every sample is `name[{labels}] value`, and no series
 * appears twice.
 */
static void assert_exposition(const char *text)
{
	enum { MAXF = 128, MAXS = 8192 };
	char *fams[MAXF], *series[MAXS], cur[128] = "", type[16] = "";
	int nf = 0, ns = 0;
	bool want_type = false;

	for (const char *p = text; *p;) {
		const char *eol = strchr(p, '\n');
		size_t len;

		if (!eol)
			fail_msg("last line not terminated: '%s'", p);
		len = (size_t)(eol - p);
		if (!strncmp(p, "# HELP ", 7)) {
			assert_false(want_type);
			assert_int_equal(sscanf(p, "# HELP %127s", cur), 1);
			for (int i = 0; i < nf; i++)
				if (!strcmp(fams[i], cur))
					fail_msg("family %s declared twice", cur);
			assert_true(nf < MAXF);
			fams[nf++] = strdup(cur);
			want_type = true;
		} else if (!strncmp(p, "# TYPE ", 7)) {
			char name[128];

			assert_true(want_type);
			assert_int_equal(sscanf(p, "# TYPE %127s %15s", name, type), 2);
			assert_string_equal(name, cur);
			if (strcmp(type, "counter") && strcmp(type, "gauge") &&
			    strcmp(type, "histogram"))
				fail_msg("%s: unexpected type %s", name, type);
			want_type = false;
		} else {
			size_t nlen = strcspn(p, "{ ");
			const char *v = p + nlen;
			char *end;

			assert_false(want_type);
			if (!cur[0])
				fail_msg("sample before any family: %.*s", (int)len, p);
			if (!strcmp(type, "histogram")) {
				size_t base = has_suffix(p, nlen, "_bucket") ? nlen - 7 :
					      has_suffix(p, nlen, "_count")  ? nlen - 6 :
					      has_suffix(p, nlen, "_sum")    ? nlen - 4 :
									       0;

				if (base != strlen(cur) || strncmp(p, cur, base))
					fail_msg("%.*s: not a sample of histogram %s", (int)len, p,
						 cur);
			} else if (nlen != strlen(cur) || strncmp(p, cur, nlen)) {
				fail_msg("%.*s: not a sample of %s", (int)len, p, cur);
			}
			if (*v == '{') {
				v = memchr(v, '}', (size_t)(eol - v));
				if (!v)
					fail_msg("unclosed labels: %.*s", (int)len, p);
				v++;
			}
			if (*v != ' ')
				fail_msg("no value: %.*s", (int)len, p);
			strtod(v + 1, &end);
			if (end == v + 1 || end != eol)
				fail_msg("bad value: %.*s", (int)len, p);
			for (int i = 0; i < ns; i++)
				if (!strncmp(series[i], p, (size_t)(v - p)) && !series[i][v - p])
					fail_msg("series twice: %.*s", (int)len, p);
			assert_true(ns < MAXS);
			series[ns++] = strndup(p, (size_t)(v - p));
		}
		p = eol + 1;
	}
	assert_false(want_type);
	for (int i = 0; i < nf; i++)
		free(fams[i]);
	for (int i = 0; i < ns; i++)
		free(series[i]);
}

static long long dropped_cpu(const char *text, const char *reason, const char *cpu)
{
	char series[128];

	snprintf(series, sizeof(series),
		 "shrike_kernel_dropped_per_cpu_total{reason=\"%s\",cpu=\"%s\"}", reason, cpu);
	return sample(text, series);
}

static void test_drops_per_cpu(void **state)
{
	struct shk_run_metrics *m = shk_run_metrics_new(0);
	struct shk_metrics_src src = { .m = m };
	struct shk_counters per[3] = { { .drops = 5, .oversize = 1 },
				       { .drops = 0, .oversize = 2, .truncated = 9 },
				       { .drops = 11, .emitted = 100 } };
	const unsigned big = SHK_METRICS_CPUS + 3;
	struct shk_counters *many = calloc(big, sizeof(*many));
	long long sum = 0;
	char *text, cpu[16];

	assert_non_null(m);
	assert_non_null(many);
	/* nothing published yet: the family, no samples */
	text = render(&src);
	assert_exposition(text);
	assert_non_null(strstr(text, "# TYPE shrike_kernel_dropped_per_cpu_total counter\n"));
	assert_null(strstr(text, "shrike_kernel_dropped_per_cpu_total{"));
	free(text);

	atomic_store(&m->drops, 16);
	atomic_store(&m->oversize, 3);
	shk_run_metrics_publish_cpu(m, per, 3);
	text = render(&src);
	assert_exposition(text);
	assert_int_equal(dropped_cpu(text, "ringbuf_full", "0"), 5);
	assert_int_equal(dropped_cpu(text, "ringbuf_full", "1"), 0);
	assert_int_equal(dropped_cpu(text, "ringbuf_full", "2"), 11);
	assert_int_equal(dropped_cpu(text, "oversize", "0"), 1);
	assert_int_equal(dropped_cpu(text, "oversize", "1"), 2);
	assert_int_equal(dropped_cpu(text, "oversize", "2"), 0);
	assert_int_equal(dropped_cpu(text, "ringbuf_full", "3"), -1);
	assert_int_equal(dropped_cpu(text, "ringbuf_full", "other"), -1);
	/* the totals are as they were, with no cpu label in their family */
	assert_int_equal(sample(text, "shrike_kernel_dropped_total{reason=\"ringbuf_full\"}"), 16);
	assert_int_equal(sample(text, "shrike_kernel_dropped_total{reason=\"oversize\"}"), 3);
	assert_null(strstr(text, "shrike_kernel_dropped_total{reason=\"ringbuf_full\",cpu="));
	free(text);

	/* a new snapshot replaces the old one */
	per[1].drops = 4;
	shk_run_metrics_publish_cpu(m, per, 3);
	text = render(&src);
	assert_int_equal(dropped_cpu(text, "ringbuf_full", "1"), 4);
	assert_int_equal(dropped_cpu(text, "ringbuf_full", "2"), 11);
	free(text);

	/* more CPUs than numbered slots: the rest add up in cpu="other" */
	for (unsigned i = 0; i < big; i++) {
		many[i].drops = 1;
		many[i].oversize = i >= SHK_METRICS_CPUS ? 2 : 0;
	}
	shk_run_metrics_publish_cpu(m, many, big);
	text = render(&src);
	assert_exposition(text);
	snprintf(cpu, sizeof(cpu), "%d", SHK_METRICS_CPUS - 1);
	assert_int_equal(dropped_cpu(text, "ringbuf_full", "0"), 1);
	assert_int_equal(dropped_cpu(text, "ringbuf_full", cpu), 1);
	snprintf(cpu, sizeof(cpu), "%d", SHK_METRICS_CPUS);
	assert_int_equal(dropped_cpu(text, "ringbuf_full", cpu), -1);
	assert_int_equal(dropped_cpu(text, "ringbuf_full", "other"), 3);
	assert_int_equal(dropped_cpu(text, "oversize", "other"), 6);
	for (unsigned i = 0; i < SHK_METRICS_CPUS; i++) {
		snprintf(cpu, sizeof(cpu), "%u", i);
		sum += dropped_cpu(text, "ringbuf_full", cpu);
	}
	assert_int_equal(sum + dropped_cpu(text, "ringbuf_full", "other"), big);
	free(text);

	free(many);
	shk_run_metrics_free(m);
}

static void observe(struct shk_run_metrics *m, enum shk_act act, enum shk_mode mode,
		    enum shk_outcome_kind kind, uint64_t us)
{
	struct shk_planned p = { .act = act, .mode = mode };
	struct shk_outcome o = { .action = &p, .kind = kind, .latency_us = us };

	shk_run_metrics_observe_action(m, &o);
}

/* The buckets a Prometheus server expects, in order (le inclusive). */
static const char *const les[] = { "0.0001", "0.00025", "0.0005", "0.001", "0.0025",
				   "0.005",  "0.01",    "0.025",  "0.05",  "0.1",
				   "0.25",   "0.5",     "1",      "+Inf" };

/* Check the histogram of one action and mode against the observations. */
static __attribute__((noinline)) void assert_histogram(const char *text, const char *labels, const uint64_t *obs, size_t n)
{
	char series[192];
	ptrdiff_t prev_at = 0;
	long long prev = 0, count;
	uint64_t sum_us = 0;
	double diff;

	for (size_t i = 0; i < sizeof(les) / sizeof(les[0]); i++) {
		bool inf = !strcmp(les[i], "+Inf");
		uint64_t bound = inf ? UINT64_MAX : (uint64_t)(strtod(les[i], NULL) * 1e6 + 0.5);
		long long want = 0, got;
		const char *line;

		for (size_t k = 0; k < n; k++)
			want += obs[k] <= bound;
		snprintf(series, sizeof(series),
			 "shrike_action_latency_seconds_bucket{%s,le=\"%s\"}", labels, les[i]);
		got = sample(text, series);
		if (got != want)
			fail_msg("%s: %lld, want %lld", series, got, want);
		/* cumulative: never decreasing, and in increasing le order */
		assert_true(got >= prev);
		prev = got;
		line = strstr(text, series);
		assert_non_null(line);
		assert_true(line - text > prev_at);
		prev_at = line - text;
	}
	snprintf(series, sizeof(series), "shrike_action_latency_seconds_count{%s}", labels);
	count = sample(text, series);
	assert_int_equal(count, n);
	assert_int_equal(count, prev); /* +Inf */
	for (size_t k = 0; k < n; k++)
		sum_us += obs[k];
	snprintf(series, sizeof(series), "shrike_action_latency_seconds_sum{%s}", labels);
	diff = sample_f(text, series) - (double)sum_us / 1e6;
	assert_true(diff < 1e-9 && diff > -1e-9);
}

static void test_action_latency(void **state)
{
	struct shk_run_metrics *m = shk_run_metrics_new(0);
	struct shk_metrics_src src = { .m = m };
	/* on a bound (100 us, 250 us, 1 s) and just past it, +Inf only,
	 * and 0 (decided at once) */
	const uint64_t kill_enforce[] = { 100, 101, 250, 999, 1000000, 1000001, 0, 5000 };
	const uint64_t kill_audit[] = { 2500 };
	char *text;

	assert_non_null(m);
	text = render(&src);
	assert_exposition(text);
	assert_non_null(strstr(text, "# HELP shrike_action_latency_seconds "));
	assert_non_null(strstr(text, "# TYPE shrike_action_latency_seconds histogram\n"));
	assert_null(strstr(text, "shrike_action_latency_seconds_bucket{"));
	free(text);

	for (size_t i = 0; i < 6; i++)
		observe(m, SHK_ACT_KILL, SHK_MODE_ENFORCE, SHK_OUT_DONE, kill_enforce[i]);
	observe(m, SHK_ACT_KILL, SHK_MODE_ENFORCE, SHK_OUT_FAILED, kill_enforce[6]);
	observe(m, SHK_ACT_KILL, SHK_MODE_ENFORCE, SHK_OUT_FAILED, kill_enforce[7]);
	observe(m, SHK_ACT_KILL, SHK_MODE_AUDIT, SHK_OUT_WOULD, kill_audit[0]);
	/* refused: nothing was attempted, so not observed */
	observe(m, SHK_ACT_KILL, SHK_MODE_ENFORCE, SHK_OUT_REFUSED, 300);
	observe(m, SHK_ACT_EXEC, SHK_MODE_ENFORCE, SHK_OUT_REFUSED, 300);

	text = render(&src);
	assert_exposition(text);
	assert_histogram(text, "action=\"kill\",mode=\"enforce\"", kill_enforce, 8);
	assert_histogram(text, "action=\"kill\",mode=\"audit\"", kill_audit, 1);
	/* the boundaries by hand too: le is inclusive */
	assert_int_equal(sample(text, "shrike_action_latency_seconds_bucket{action=\"kill\","
				      "mode=\"enforce\",le=\"0.0001\"}"), 2);
	assert_int_equal(sample(text, "shrike_action_latency_seconds_bucket{action=\"kill\","
				      "mode=\"enforce\",le=\"0.00025\"}"), 4);
	assert_int_equal(sample(text, "shrike_action_latency_seconds_bucket{action=\"kill\","
				      "mode=\"enforce\",le=\"1\"}"), 7);
	assert_int_equal(sample(text, "shrike_action_latency_seconds_bucket{action=\"kill\","
				      "mode=\"enforce\",le=\"+Inf\"}"), 8);
	assert_non_null(strstr(text, "shrike_action_latency_seconds_sum{action=\"kill\","
				     "mode=\"enforce\"} 2.006451\n"));
	assert_non_null(strstr(text, "shrike_action_latency_seconds_sum{action=\"kill\","
				     "mode=\"audit\"} 0.002500\n"));
	/* nothing observed, no series */
	assert_int_equal(sample(text, "shrike_action_latency_seconds_count{action=\"exec\","
				      "mode=\"enforce\"}"), -1);
	assert_int_equal(sample(text, "shrike_action_latency_seconds_count{action=\"freeze\","
				      "mode=\"audit\"}"), -1);
	free(text);
	shk_run_metrics_free(m);
}

static void test_scrape(void **state)
{
	struct shk_run_metrics *m = shk_run_metrics_new(0);
	struct shk_sinks *sinks = shk_sinks_new();
	struct shk_metrics_src src = { .m = m, .sinks = sinks };
	struct shk_metrics_server *s;
	struct shk_sink_opts o;
	struct shk_alert_msg a = { .priority = 4, .rule = "r", .output = "x", .text = "x",
				   .json = "{}" };
	char *dir = test_tmpdir(), path[512], err[256], *body = malloc(1 << 20);
	int port;

	assert_non_null(m);
	snprintf(path, sizeof(path), "%s/alerts.jsonl", dir);
	shk_sink_opts_init(&o, SHK_SINK_FILE);
	o.path = path;
	o.name = "audit-log";
	assert_int_equal(shk_sinks_add(sinks, &o, err, sizeof(err)), 0);
	s = shk_metrics_start("127.0.0.1:0", &src, err, sizeof(err));
	if (!s)
		fail_msg("%s", err);
	port = shk_metrics_port(s);
	assert_true(port > 0);

	/* not ready yet: probes must fail */
	assert_int_equal(get(port, "/healthz", body, 1 << 20), 503);
	assert_non_null(strstr(body, "\"ready\":false"));
	atomic_store(&m->ready, true);
	assert_int_equal(get(port, "/healthz", body, 1 << 20), 200);
	assert_non_null(strstr(body, "\"healthy\":true"));

	assert_int_equal(get(port, "/metrics", body, 1 << 20), 200);
	assert_int_equal(sample(body, "shrike_alerts_total"), 0);
	assert_int_equal(sample(body, "shrike_output_sent_total{output=\"audit-log\",type=\"file\"}"), 0);
	assert_non_null(strstr(body, "# TYPE shrike_alerts_total counter\n"));
	assert_true(sample(body, "process_resident_memory_bytes") > 0);

	/* counters move */
	shk_ctr_inc(&m->alerts);
	shk_ctr_inc(&m->alerts);
	shk_ctr_inc(&m->actions[SHK_ACT_KILL][1][0]);
	atomic_store(&m->drops, 7);
	atomic_store(&m->malformed, 3);
	atomic_store(&m->procs, 42);
	assert_int_equal(shk_sinks_send(sinks, &a), 0);
	for (int i = 0; i < 500; i++) {
		get(port, "/metrics", body, 1 << 20);
		if (sample(body, "shrike_output_sent_total{output=\"audit-log\",type=\"file\"}") == 1)
			break;
		usleep(10000);
	}
	assert_int_equal(sample(body, "shrike_alerts_total"), 2);
	assert_int_equal(sample(body, "shrike_output_sent_total{output=\"audit-log\",type=\"file\"}"), 1);
	assert_int_equal(sample(body, "shrike_output_dropped_total{output=\"audit-log\",type=\"file\"}"), 0);
	assert_int_equal(sample(body, "shrike_actions_total{action=\"kill\",outcome=\"would\",mode=\"audit\"}"), 1);
	assert_int_equal(sample(body, "shrike_kernel_dropped_total{reason=\"ringbuf_full\"}"), 7);
	assert_int_equal(sample(body, "shrike_decoder_errors_total"), 3);
	assert_int_equal(sample(body, "shrike_process_table_size"), 42);
	assert_exposition(body);

	atomic_store(&m->stopping, true);
	assert_int_equal(get(port, "/healthz", body, 1 << 20), 503);
	assert_int_equal(get(port, "/nope", body, 1 << 20), 404);

	shk_metrics_stop(s);
	shk_sinks_free(sinks);
	shk_run_metrics_free(m);
	free(body);
	free(dir);
}

static void test_bad_address(void **state)
{
	struct shk_run_metrics *m = shk_run_metrics_new(0);
	struct shk_metrics_src src = { .m = m };
	char err[256];

	assert_null(shk_metrics_start("nowhere", &src, err, sizeof(err)));
	assert_non_null(strstr(err, "'nowhere' is not IPV4:PORT"));
	shk_run_metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scrape),
		cmocka_unit_test(test_drops_per_cpu),
		cmocka_unit_test(test_action_latency),
		cmocka_unit_test(test_bad_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
