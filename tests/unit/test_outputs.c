// SPDX-License-Identifier: Apache-2.0
/*
 * Outputs against real receivers started by the test: a file being rotated,
 * a program that dies, a syslog datagram socket, and a loopback HTTP server
 * thread (127.0.0.1, ephemeral port) that can answer 500s or stall.
 */
#include <errno.h>
#include <pthread.h>
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
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <zlib.h>

#include "outputs.h"
#include "rule_loader.h"
#include "testlib.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Poll a condition for up to 5 s. */
#define WAIT_FOR(cond)                                               \
	do {                                                         \
		uint64_t end_ = now_ms() + 5000;                     \
		while (!(cond) && now_ms() < end_)                   \
			usleep(2000);                                \
		assert_true(cond);                                   \
	} while (0)

static struct shk_sink_stats st;

static struct shk_sink_stats *stats(struct shk_sinks *s, uint32_t i)
{
	assert_int_equal(shk_sinks_stats(s, i, &st), 0);
	return &st;
}

static void msg_n(struct shk_alert_msg *m, char *json, size_t jsz, char *text, size_t tsz, int n,
		  int prio)
{
	snprintf(json, jsz, "{\"n\":%d,\"output\":\"alert %d\",\"rule\":\"r%d\"}", n, n, n);
	snprintf(text, tsz, "12:00:00.0: Warning alert %d | response: kill:process=done", n);
	*m = (struct shk_alert_msg){
		.priority = prio, .rule = "Test rule", .output = "12:00:00.0: Warning alert",
		.text = text, .json = json, .response = "kill:process=done",
	};
}

static uint32_t send_n(struct shk_sinks *s, int n, int prio)
{
	struct shk_alert_msg m;
	char json[256], text[256];

	msg_n(&m, json, sizeof(json), text, sizeof(text), n, prio);
	return shk_sinks_send(s, &m);
}

static struct shk_sinks *one_sink(const struct shk_sink_opts *o)
{
	struct shk_sinks *s = shk_sinks_new();
	char err[256];

	assert_non_null(s);
	if (shk_sinks_add(s, o, err, sizeof(err)))
		fail_msg("shk_sinks_add: %s", err);
	return s;
}

static int count_lines(const char *path)
{
	char *b = test_read_file(path, NULL);
	int n = 0;

	for (char *p = b; p && *p; p++)
		n += *p == '\n';
	free(b);
	return n;
}

/* ---- file ---------------------------------------------------------------- */

static void test_file_lines_and_reopen(void **state)
{
	char *dir = test_tmpdir(), path[512], rotated[512];
	struct shk_sink_opts o;
	struct shk_sinks *s;
	struct stat sb;
	char *b;

	snprintf(path, sizeof(path), "%s/alerts.jsonl", dir);
	snprintf(rotated, sizeof(rotated), "%s/alerts.jsonl.1", dir);
	shk_sink_opts_init(&o, SHK_SINK_FILE);
	o.path = path;
	s = one_sink(&o);
	for (int i = 1; i <= 3; i++)
		assert_int_equal(send_n(s, i, SHK_PRIO_WARNING), 0);
	WAIT_FOR(stats(s, 0)->sent == 3);
	b = test_read_file(path, NULL);
	assert_non_null(b);
	assert_string_equal(b, "{\"n\":1,\"output\":\"alert 1\",\"rule\":\"r1\"}\n"
			       "{\"n\":2,\"output\":\"alert 2\",\"rule\":\"r2\"}\n"
			       "{\"n\":3,\"output\":\"alert 3\",\"rule\":\"r3\"}\n");
	free(b);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);

	/* logrotate: rename, then SIGUSR1 makes the daemon reopen */
	assert_int_equal(rename(path, rotated), 0);
	shk_sinks_reopen(s);
	WAIT_FOR(stats(s, 0)->reopens == 1);
	send_n(s, 4, SHK_PRIO_WARNING);
	WAIT_FOR(stats(s, 0)->sent == 4);
	assert_int_equal(count_lines(rotated), 3);
	b = test_read_file(path, NULL);
	assert_non_null(b);
	assert_string_equal(b, "{\"n\":4,\"output\":\"alert 4\",\"rule\":\"r4\"}\n");
	free(b);

	/* rotated without a signal: the path now names another file */
	assert_int_equal(rename(path, rotated), 0);
	send_n(s, 5, SHK_PRIO_WARNING);
	WAIT_FOR(stats(s, 0)->sent == 5);
	assert_int_equal(count_lines(path), 1);
	assert_int_equal(count_lines(rotated), 1);
	assert_int_equal(stats(s, 0)->reopens, 2);
	assert_int_equal(stats(s, 0)->dropped + stats(s, 0)->failed, 0);
	shk_sinks_free(s);
	free(dir);
}

static void test_file_unwritable_is_an_error(void **state)
{
	struct shk_sinks *s = shk_sinks_new();
	struct shk_sink_opts o;
	char err[256];

	shk_sink_opts_init(&o, SHK_SINK_FILE);
	o.path = "/nonexistent-dir/alerts.jsonl";
	assert_int_equal(shk_sinks_add(s, &o, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent-dir/alerts.jsonl"));
	assert_int_equal(shk_sinks_count(s), 0);
	shk_sinks_free(s);
}

/* ---- priority filter ----------------------------------------------------- */

static void test_min_priority(void **state)
{
	char *dir = test_tmpdir(), path[512];
	struct shk_sink_opts o;
	struct shk_sinks *s;

	snprintf(path, sizeof(path), "%s/p.jsonl", dir);
	shk_sink_opts_init(&o, SHK_SINK_FILE);
	o.path = path;
	o.min_priority = SHK_PRIO_ERROR;
	s = one_sink(&o);
	send_n(s, 1, SHK_PRIO_WARNING); /* less severe: skipped */
	send_n(s, 2, SHK_PRIO_CRITICAL);
	send_n(s, 3, SHK_PRIO_ERROR);
	WAIT_FOR(stats(s, 0)->sent == 2);
	assert_int_equal(stats(s, 0)->enqueued, 2);
	shk_sinks_free(s);
	assert_int_equal(count_lines(path), 2);
	free(dir);
}

/* ---- program ------------------------------------------------------------- */

static void test_program_restarted(void **state)
{
	char *dir = test_tmpdir(), out[512], cmd[1024];
	struct shk_sink_opts o;
	struct shk_sinks *s;
	char *b;

	snprintf(out, sizeof(out), "%s/prog.out", dir);
	/* reads one alert and exits: each further alert needs a restart */
	snprintf(cmd, sizeof(cmd), "read -r line; echo \"got $line\" >> '%s'", out);
	shk_sink_opts_init(&o, SHK_SINK_PROGRAM);
	o.program = cmd;
	o.backoff_ms = 10;
	s = one_sink(&o);
	send_n(s, 1, SHK_PRIO_WARNING);
	WAIT_FOR(count_lines(out) == 1);
	usleep(200000); /* let the shell exit after its echo */
	send_n(s, 2, SHK_PRIO_WARNING);
	WAIT_FOR(count_lines(out) == 2);
	assert_true(stats(s, 0)->restarts >= 1);
	assert_int_equal(stats(s, 0)->sent, 2);
	b = test_read_file(out, NULL);
	assert_non_null(strstr(b, "got 12:00:00.0: Warning alert 1 | response"));
	assert_non_null(strstr(b, "got 12:00:00.0: Warning alert 2 | response"));
	free(b);
	shk_sinks_free(s);
	free(dir);
}

/* ---- syslog -------------------------------------------------------------- */

static void test_syslog_datagram(void **state)
{
	char *dir = test_tmpdir(), buf[1024];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct shk_sink_opts o;
	struct shk_sinks *s;
	ssize_t n;
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/log.sock", dir);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	shk_sink_opts_init(&o, SHK_SINK_SYSLOG);
	o.socket = sa.sun_path;
	o.facility = LOG_LOCAL3;
	s = one_sink(&o);
	send_n(s, 7, SHK_PRIO_CRITICAL);
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	/* local3 (19) * 8 + crit (2) */
	assert_int_equal(strncmp(buf, "<154>", 5), 0);
	assert_non_null(strstr(buf, " shrike["));
	assert_non_null(strstr(buf, "]: 12:00:00.0: Warning alert 7 | response: kill:process=done"));
	shk_sinks_free(s);
	close(fd);
	unlink(sa.sun_path);
	free(dir);
}

/* ---- a loopback HTTP server ---------------------------------------------- */

#define SRV_MAX 64

struct srv {
	int lfd, port;
	pthread_t thr;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int status[8]; /* answers to the first requests; then 200 */
	bool stall;    /* hold every answer until cleared */
	bool stop;
	int nreq;
	char head[SRV_MAX][2048];
	char *body[SRV_MAX];
	size_t blen[SRV_MAX];
};

static int srv_read(int fd, char *buf, size_t len, struct srv *v)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 100) <= 0) {
			bool stop;

			pthread_mutex_lock(&v->mu);
			stop = v->stop;
			pthread_mutex_unlock(&v->mu);
			if (stop)
				return -1;
			continue;
		}
		n = read(fd, buf + got, len - got);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

/* One request: headers byte by byte up to the blank line, then the body. */
static int srv_request(struct srv *v, int fd)
{
	char head[2048], *cl;
	size_t hl = 0, blen = 0;
	char *body;
	int idx, status;

	while (hl < sizeof(head) - 1) {
		if (srv_read(fd, head + hl, 1, v))
			return -1;
		hl++;
		if (hl >= 4 && !memcmp(head + hl - 4, "\r\n\r\n", 4))
			break;
	}
	head[hl] = '\0';
	cl = strcasestr(head, "Content-Length:");
	if (cl)
		blen = strtoul(cl + 15, NULL, 10);
	body = calloc(1, blen + 1);
	if (!body || srv_read(fd, body, blen, v)) {
		free(body);
		return -1;
	}
	pthread_mutex_lock(&v->mu);
	idx = v->nreq < SRV_MAX ? v->nreq : SRV_MAX - 1;
	snprintf(v->head[idx], sizeof(v->head[idx]), "%s", head);
	free(v->body[idx]);
	v->body[idx] = body;
	v->blen[idx] = blen;
	status = v->nreq < 8 && v->status[v->nreq] ? v->status[v->nreq] : 200;
	v->nreq++;
	pthread_cond_broadcast(&v->cv);
	while (v->stall && !v->stop)
		pthread_cond_wait(&v->cv, &v->mu);
	pthread_mutex_unlock(&v->mu);
	dprintf(fd, "HTTP/1.1 %d X\r\nContent-Length: 2\r\n\r\nok", status);
	return 0;
}

static void *srv_main(void *arg)
{
	struct srv *v = arg;

	for (;;) {
		struct pollfd p = { .fd = v->lfd, .events = POLLIN };
		bool stop;
		int fd;

		pthread_mutex_lock(&v->mu);
		stop = v->stop;
		pthread_mutex_unlock(&v->mu);
		if (stop)
			return NULL;
		if (poll(&p, 1, 50) <= 0)
			continue;
		fd = accept(v->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		while (!srv_request(v, fd))
			; /* keep-alive: the next request on the same connection */
		close(fd);
	}
}

static void srv_start(struct srv *v)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);

	memset(v, 0, sizeof(*v));
	pthread_mutex_init(&v->mu, NULL);
	pthread_cond_init(&v->cv, NULL);
	v->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(v->lfd >= 0);
	assert_int_equal(bind(v->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(v->lfd, 16), 0);
	assert_int_equal(getsockname(v->lfd, (struct sockaddr *)&sa, &sl), 0);
	v->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&v->thr, NULL, srv_main, v), 0);
}

static void srv_set_stall(struct srv *v, bool stall)
{
	pthread_mutex_lock(&v->mu);
	v->stall = stall;
	pthread_cond_broadcast(&v->cv);
	pthread_mutex_unlock(&v->mu);
}

static int srv_nreq(struct srv *v)
{
	int n;

	pthread_mutex_lock(&v->mu);
	n = v->nreq;
	pthread_mutex_unlock(&v->mu);
	return n;
}

static void srv_stop(struct srv *v)
{
	pthread_mutex_lock(&v->mu);
	v->stop = true;
	pthread_cond_broadcast(&v->cv);
	pthread_mutex_unlock(&v->mu);
	pthread_join(v->thr, NULL);
	close(v->lfd);
	for (int i = 0; i < SRV_MAX; i++)
		free(v->body[i]);
}

static void http_opts(struct shk_sink_opts *o, struct srv *v, char *url, size_t usz)
{
	snprintf(url, usz, "http://127.0.0.1:%d/alerts", v->port);
	shk_sink_opts_init(o, SHK_SINK_HTTP);
	o->url = url;
	o->backoff_ms = 10;
}

static void test_http_body_and_headers(void **state)
{
	struct shk_sink_opts o;
	struct shk_sinks *s;
	struct srv v;
	char url[128];

	srv_start(&v);
	http_opts(&o, &v, url, sizeof(url));
	o.headers[o.nheaders++] = "Authorization: Bearer s3cret";
	o.headers[o.nheaders++] = "X-Cluster: prod-1";
	s = one_sink(&o);
	send_n(s, 1, SHK_PRIO_WARNING);
	send_n(s, 2, SHK_PRIO_WARNING);
	WAIT_FOR(stats(s, 0)->sent == 2);
	assert_int_equal(srv_nreq(&v), 2);
	assert_string_equal(v.body[0], "{\"n\":1,\"output\":\"alert 1\",\"rule\":\"r1\"}");
	assert_string_equal(v.body[1], "{\"n\":2,\"output\":\"alert 2\",\"rule\":\"r2\"}");
	assert_int_equal(strncmp(v.head[0], "POST /alerts HTTP/1.1\r\n", 23), 0);
	assert_non_null(strstr(v.head[0], "\r\nContent-Type: application/json\r\n"));
	assert_non_null(strstr(v.head[0], "\r\nAuthorization: Bearer s3cret\r\n"));
	assert_non_null(strstr(v.head[0], "\r\nX-Cluster: prod-1\r\n"));
	assert_non_null(strstr(v.head[0], "\r\nUser-Agent: shrike/"));
	assert_null(strstr(v.head[0], "Content-Encoding"));
	assert_int_equal(stats(s, 0)->health, SHK_SINK_OK);
	shk_sinks_free(s);
	srv_stop(&v);
}

static void test_http_retry_after_500(void **state)
{
	struct shk_sink_opts o;
	struct shk_sinks *s;
	struct srv v;
	char url[128];

	srv_start(&v);
	v.status[0] = 500;
	v.status[1] = 503;
	http_opts(&o, &v, url, sizeof(url));
	s = one_sink(&o);
	send_n(s, 5, SHK_PRIO_WARNING);
	WAIT_FOR(stats(s, 0)->sent == 1);
	assert_int_equal(srv_nreq(&v), 3);
	assert_int_equal(stats(s, 0)->retries, 2);
	assert_int_equal(stats(s, 0)->failed, 0);
	for (int i = 0; i < 3; i++)
		assert_string_equal(v.body[i], "{\"n\":5,\"output\":\"alert 5\",\"rule\":\"r5\"}");
	shk_sinks_free(s);
	srv_stop(&v);
}

static void test_http_gives_up_and_reports_failing(void **state)
{
	struct shk_sink_opts o;
	struct shk_sinks *s;
	struct srv v;
	char url[128];

	srv_start(&v);
	for (int i = 0; i < 8; i++)
		v.status[i] = 500;
	http_opts(&o, &v, url, sizeof(url));
	o.retries = 2;
	s = one_sink(&o);
	send_n(s, 1, SHK_PRIO_WARNING);
	WAIT_FOR(stats(s, 0)->failed == 1);
	assert_int_equal(srv_nreq(&v), 3);
	assert_int_equal(stats(s, 0)->sent, 0);
	assert_int_equal(stats(s, 0)->health, SHK_SINK_FAILING);
	assert_non_null(strstr(stats(s, 0)->last_error, "HTTP 500"));
	shk_sinks_free(s);
	srv_stop(&v);
}

static void test_http_gzip(void **state)
{
	char out[512];
	uLongf olen = sizeof(out) - 1;
	struct shk_sink_opts o;
	struct shk_sinks *s;
	z_stream z = { 0 };
	struct srv v;
	char url[128];

	srv_start(&v);
	http_opts(&o, &v, url, sizeof(url));
	o.gzip = true;
	s = one_sink(&o);
	send_n(s, 9, SHK_PRIO_WARNING);
	WAIT_FOR(stats(s, 0)->sent == 1);
	WAIT_FOR(srv_nreq(&v) == 1); /* and the server's writes are seen */
	assert_non_null(strstr(v.head[0], "\r\nContent-Encoding: gzip\r\n"));
	assert_int_equal((unsigned char)v.body[0][0], 0x1f); /* gzip magic */
	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (unsigned char *)v.body[0];
	z.avail_in = (uInt)v.blen[0];
	z.next_out = (unsigned char *)out;
	z.avail_out = (uInt)olen;
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	out[z.total_out] = '\0';
	inflateEnd(&z);
	assert_string_equal(out, "{\"n\":9,\"output\":\"alert 9\",\"rule\":\"r9\"}");
	shk_sinks_free(s);
	srv_stop(&v);
}

/*
 * A stalled receiver: the HTTP queue fills and the overflow is counted as
 * dropped, enqueueing stays fast, and a file sink next to it gets every
 * alert at once.
 */
static void test_http_stalled_drops_and_never_blocks(void **state)
{
	char *dir = test_tmpdir(), path[512], url[128], err[256];
	struct shk_sinks *s = shk_sinks_new();
	struct shk_sink_opts o, f;
	uint64_t t0, worst = 0;
	struct srv v;

	srv_start(&v);
	srv_set_stall(&v, true);
	http_opts(&o, &v, url, sizeof(url));
	o.queue_len = 4;
	o.retries = 0;
	o.slow_ms = 50;
	o.timeout_ms = 10000;
	o.drain_ms = 500;
	assert_int_equal(shk_sinks_add(s, &o, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/side.jsonl", dir);
	shk_sink_opts_init(&f, SHK_SINK_FILE);
	f.path = path;
	assert_int_equal(shk_sinks_add(s, &f, err, sizeof(err)), 0);

	send_n(s, 0, SHK_PRIO_WARNING);
	WAIT_FOR(srv_nreq(&v) == 1); /* in flight, held by the server */
	for (int i = 1; i <= 20; i++) {
		uint64_t t = now_ms();

		send_n(s, i, SHK_PRIO_WARNING);
		t = now_ms() - t;
		worst = t > worst ? t : worst;
	}
	assert_true(worst < 20); /* a pointer push, not a network round trip */
	assert_int_equal(stats(s, 0)->enqueued, 5);
	assert_int_equal(stats(s, 0)->dropped, 16);
	assert_int_equal(stats(s, 0)->depth, 4);
	WAIT_FOR(stats(s, 0)->health == SHK_SINK_SLOW);
	/* the other sink is not held up */
	WAIT_FOR(stats(s, 1)->sent == 21);
	assert_int_equal(count_lines(path), 21);
	assert_int_equal(stats(s, 1)->dropped, 0);

	srv_set_stall(&v, false);
	WAIT_FOR(stats(s, 0)->sent == 5);
	assert_int_equal(srv_nreq(&v), 5);
	assert_int_equal(stats(s, 0)->dropped, 16);
	assert_int_equal(stats(s, 0)->failed, 0);

	/* stalled again at shutdown: the drain time bounds the stop */
	srv_set_stall(&v, true);
	send_n(s, 30, SHK_PRIO_WARNING);
	send_n(s, 31, SHK_PRIO_WARNING);
	WAIT_FOR(srv_nreq(&v) == 6);
	t0 = now_ms();
	shk_sinks_free(s);
	assert_true(now_ms() - t0 < 3000);
	srv_set_stall(&v, false);
	srv_stop(&v);
	free(dir);
}

static void test_slack_message(void **state)
{
	struct shk_sink_opts o;
	struct shk_sinks *s;
	struct srv v;
	char url[128];
	cJSON *j, *fields;

	srv_start(&v);
	http_opts(&o, &v, url, sizeof(url));
	o.kind = SHK_SINK_SLACK;
	s = one_sink(&o);
	send_n(s, 3, SHK_PRIO_CRITICAL);
	WAIT_FOR(stats(s, 0)->sent == 1);
	WAIT_FOR(srv_nreq(&v) == 1);
	j = cJSON_Parse(v.body[0]);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "text")->valuestring, "12:00:00.0: Warning alert");
	fields = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "attachments"), 0),
				     "fields");
	assert_int_equal(cJSON_GetArraySize(fields), 3);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(fields, 0), "value")->valuestring,
			    "Test rule");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(fields, 1), "value")->valuestring,
			    "CRITICAL");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(fields, 2), "value")->valuestring,
			    "kill:process=done");
	cJSON_Delete(j);
	shk_sinks_free(s);
	srv_stop(&v);
}

static void test_kind_and_facility_names(void **state)
{
	assert_int_equal(shk_sink_kind_parse("http"), SHK_SINK_HTTP);
	assert_int_equal(shk_sink_kind_parse("slack"), SHK_SINK_SLACK);
	assert_int_equal(shk_sink_kind_parse("carrier-pigeon"), -EINVAL);
	assert_int_equal(shk_syslog_facility_parse("local7"), LOG_LOCAL7);
	assert_int_equal(shk_syslog_facility_parse("daemon"), LOG_DAEMON);
	assert_int_equal(shk_syslog_facility_parse("nope"), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_lines_and_reopen),
		cmocka_unit_test(test_file_unwritable_is_an_error),
		cmocka_unit_test(test_min_priority),
		cmocka_unit_test(test_program_restarted),
		cmocka_unit_test(test_syslog_datagram),
		cmocka_unit_test(test_http_body_and_headers),
		cmocka_unit_test(test_http_retry_after_500),
		cmocka_unit_test(test_http_gives_up_and_reports_failing),
		cmocka_unit_test(test_http_gzip),
		cmocka_unit_test(test_http_stalled_drops_and_never_blocks),
		cmocka_unit_test(test_slack_message),
		cmocka_unit_test(test_kind_and_facility_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
