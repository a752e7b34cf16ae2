/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP receiver for the alert-storm benchmark (bench/storm.sh): listens on
 * 127.0.0.1, accepts keep-alive connections, reads each request (headers
 * and a Content-Length body), answers 200 with an empty body and counts.
 *
 *   sink [-p PORT] [-d DELAY_MS]
 *
 * -p: the port (default 0: an ephemeral one). -d: wait DELAY_MS before
 * answering each request, a slow receiver. The whole receiver waits, as one
 * that handles one request at a time would; shrike's http output uses one
 * connection anyway.
 *
 * Prints "sink: listening on 127.0.0.1:PORT" once it accepts connections,
 * and on SIGTERM or SIGINT one line:
 *   sink: requests=N alerts=N body_bytes=N bytes=N connections=N bad=N
 * alerts counts the "rule": keys in the bodies (the alerts received, however
 * many a request carries); bad counts requests answered 400 (no
 * Content-Length, chunked, oversize headers).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 64
#define HDR_MAX 16384

struct conn {
	int fd;
	char hdr[HDR_MAX]; /* the request head being read */
	size_t hlen;
	uint64_t body_left; /* body bytes still to read; 0: reading a head */
	int in_body;
	size_t matched; /* bytes of the alert key matched so far */
};

static struct {
	uint64_t requests, alerts, body_bytes, bytes, connections, bad;
} cnt;

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sink: error: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static long parse_num(const char *opt, const char *s, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > max)
		die("%s: '%s' is not a number in [0, %ld]", opt, s, max);
	return v;
}

static void conn_close(struct conn *c)
{
	close(c->fd);
	c->fd = -1;
}

static int send_all(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t w = send(fd, s, len, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		s += w;
		len -= (size_t)w;
	}
	return 0;
}

static void delay(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	if (ms > 0)
		nanosleep(&ts, NULL);
}

/* Count the "rule": keys in the bodies, byte by byte (KMP), so that a key
 * cut in two by the reads is still counted once. */
static const char alert_key[] = "\"rule\":";
#define KEY_LEN (sizeof(alert_key) - 1)
static size_t key_fail[KEY_LEN + 1];

static void key_init(void)
{
	size_t k = 0;

	key_fail[0] = key_fail[1] = 0;
	for (size_t i = 1; i < KEY_LEN; i++) {
		while (k && alert_key[i] != alert_key[k])
			k = key_fail[k];
		if (alert_key[i] == alert_key[k])
			k++;
		key_fail[i + 1] = k;
	}
}

static void count_alerts(struct conn *c, const char *p, size_t n)
{
	size_t m = c->matched;

	for (size_t i = 0; i < n; i++) {
		while (m && p[i] != alert_key[m])
			m = key_fail[m];
		if (p[i] == alert_key[m])
			m++;
		if (m == KEY_LEN) {
			cnt.alerts++;
			m = key_fail[m];
		}
	}
	c->matched = m;
}

static void answer(struct conn *c, long delay_ms, int ok)
{
	static const char r200[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	static const char r400[] =
		"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

	cnt.requests++;
	if (!ok) {
		cnt.bad++;
		send_all(c->fd, r400, sizeof(r400) - 1);
		conn_close(c);
		return;
	}
	delay(delay_ms);
	if (send_all(c->fd, r200, sizeof(r200) - 1))
		conn_close(c);
}

/* A complete head is in c->hdr[0..end): find its Content-Length. */
static int parse_head(struct conn *c, size_t end, uint64_t *ret_len)
{
	char *line = c->hdr, *stop_at = c->hdr + end;
	int have_len = 0;

	while (line < stop_at) {
		char *eol = memchr(line, '\n', (size_t)(stop_at - line));

		if (!eol)
			break;
		*eol = '\0';
		if (!strncasecmp(line, "Content-Length:", 15)) {
			*ret_len = strtoull(line + 15, NULL, 10);
			have_len = 1;
		} else if (!strncasecmp(line, "Transfer-Encoding:", 18)) {
			return -1; /* chunked bodies: not supported here */
		}
		line = eol + 1;
	}
	return have_len ? 0 : -1;
}

/* Feed bytes read from the connection; answers every complete request. */
static void conn_feed(struct conn *c, const char *p, size_t n, long delay_ms)
{
	while (n && c->fd >= 0) {
		if (c->in_body) {
			size_t take = n < c->body_left ? n : (size_t)c->body_left;

			count_alerts(c, p, take);
			cnt.body_bytes += take;
			c->body_left -= take;
			p += take, n -= take;
			if (!c->body_left) {
				c->in_body = 0;
				answer(c, delay_ms, 1);
			}
			continue;
		}
		/* a head: copy up to its end */
		while (n && c->hlen < HDR_MAX) {
			c->hdr[c->hlen++] = *p++;
			n--;
			if (c->hlen >= 4 && !memcmp(c->hdr + c->hlen - 4, "\r\n\r\n", 4))
				break;
		}
		if (c->hlen >= 4 && !memcmp(c->hdr + c->hlen - 4, "\r\n\r\n", 4)) {
			uint64_t len = 0;
			size_t end = c->hlen;

			c->hlen = 0;
			if (parse_head(c, end, &len)) {
				answer(c, delay_ms, 0);
				return;
			}
			c->matched = 0;
			if (len) {
				c->in_body = 1;
				c->body_left = len;
			} else {
				answer(c, delay_ms, 1);
			}
		} else if (c->hlen == HDR_MAX) {
			answer(c, delay_ms, 0);
			return;
		}
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct pollfd pfd[MAX_CONNS + 1];
	static struct conn conns[MAX_CONNS];
	struct sigaction act = { .sa_handler = on_signal };
	sigset_t block, empty;
	socklen_t slen = sizeof(sa);
	long port = 0, delay_ms = 0;
	int opt, lfd, one = 1;
	char buf[65536];

	while ((opt = getopt(argc, argv, "p:d:h")) != -1) {
		switch (opt) {
		case 'p':
			port = parse_num("-p", optarg, 65535);
			break;
		case 'd':
			delay_ms = parse_num("-d", optarg, 60000);
			break;
		case 'h':
			printf("usage: sink [-p PORT] [-d DELAY_MS]\n");
			return 0;
		default:
			fprintf(stderr, "usage: sink [-p PORT] [-d DELAY_MS]\n");
			return 2;
		}
	}
	if (optind != argc)
		die("unexpected argument '%s'", argv[optind]);
	key_init();

	/* SIGTERM/SIGINT only get through inside ppoll (or cut a delay short) */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigemptyset(&empty);
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	sigprocmask(SIG_BLOCK, &block, NULL);

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 64))
		die("bind/listen 127.0.0.1:%ld: %s", port, strerror(errno));
	if (getsockname(lfd, (struct sockaddr *)&sa, &slen))
		die("getsockname: %s", strerror(errno));
	printf("sink: listening on 127.0.0.1:%u\n", ntohs(sa.sin_port));
	fflush(stdout);

	for (int i = 0; i < MAX_CONNS; i++)
		conns[i].fd = -1;
	while (!stop) {
		int np = 0, r;

		pfd[np++] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (int i = 0; i < MAX_CONNS; i++)
			pfd[np++] = (struct pollfd){ .fd = conns[i].fd, .events = POLLIN };
		r = ppoll(pfd, (nfds_t)np, NULL, &empty);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die("ppoll: %s", strerror(errno));
		}
		if (pfd[0].revents & POLLIN) {
			int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			int slot = -1;

			for (int i = 0; fd >= 0 && i < MAX_CONNS && slot < 0; i++)
				if (conns[i].fd < 0)
					slot = i;
			if (fd >= 0 && slot < 0) {
				close(fd); /* full: the client reconnects */
			} else if (fd >= 0) {
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
				memset(&conns[slot], 0, sizeof(conns[slot]));
				conns[slot].fd = fd;
				cnt.connections++;
			}
		}
		for (int i = 0; i < MAX_CONNS; i++) {
			struct conn *c = &conns[i];
			ssize_t n;

			if (c->fd < 0 || !(pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = recv(c->fd, buf, sizeof(buf), 0);
			if (n <= 0) {
				if (n < 0 && errno == EINTR)
					continue;
				conn_close(c);
				continue;
			}
			cnt.bytes += (uint64_t)n;
			conn_feed(c, buf, (size_t)n, delay_ms);
		}
	}
	printf("sink: requests=%llu alerts=%llu body_bytes=%llu bytes=%llu connections=%llu "
	       "bad=%llu\n",
	       (unsigned long long)cnt.requests, (unsigned long long)cnt.alerts,
	       (unsigned long long)cnt.body_bytes, (unsigned long long)cnt.bytes,
	       (unsigned long long)cnt.connections, (unsigned long long)cnt.bad);
	return 0;
}
