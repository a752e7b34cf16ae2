// SPDX-License-Identifier: Apache-2.0
/*
 * The metrics listener on 127.0.0.1 (ephemeral port), scraped with a plain
 * socket client: /healthz follows readiness, /metrics moves with the
 * counters and the outputs' stats.
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
		cmocka_unit_test(test_bad_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
