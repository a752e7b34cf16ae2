/* SPDX-License-Identifier: Apache-2.0 */
#include "fakeapi.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static void header(const char *head, const char *name, char *dst, size_t size)
{
	size_t n = strlen(name);

	dst[0] = '\0';
	for (const char *p = head; p && *p; p = strstr(p, "\r\n") ? strstr(p, "\r\n") + 2 : NULL) {
		if (!strncasecmp(p, name, n) && p[n] == ':') {
			const char *v = p + n + 1, *e = strstr(v, "\r\n");

			while (*v == ' ')
				v++;
			snprintf(dst, size, "%.*s", (int)(e ? e - v : (long)strlen(v)), v);
			return;
		}
	}
}

/* One accepted connection: plain, or a TLS session over fd. */
struct conn {
	int fd;
	const struct fakeapi_tls_ops *tls;
	void *sess; /* NULL: plain */
	bool verified;
	char cn[128];
};

/* Some bytes, waiting at most 2 s for them; <= 0 at EOF, on an error or
 * when the wait ends. */
static ssize_t conn_read(struct conn *c, char *buf, size_t n)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };

	/* TLS may hold decrypted bytes that the socket no longer shows */
	if (!(c->sess && c->tls->pending(c->sess)) && poll(&p, 1, 2000) <= 0)
		return -1;
	return c->sess ? c->tls->read(c->sess, buf, n) : read(c->fd, buf, n);
}

static int conn_write(struct conn *c, const char *buf, size_t n)
{
	while (n) {
		ssize_t w = c->sess ? c->tls->write(c->sess, buf, n) : write(c->fd, buf, n);

		if (w <= 0)
			return -EIO;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

static void serve_one(struct fakeapi *f, struct conn *c)
{
	char buf[32768], *end = NULL, clen[32], out[16384];
	struct fakeapi_route rt = { .status = 404 };
	struct fakeapi_req r = { 0 };
	size_t len = 0, want;
	ssize_t n;

	/* the head, then Content-Length bytes of body */
	while (len < sizeof(buf) - 1 && !(end = strstr(buf, "\r\n\r\n"))) {
		if ((n = conn_read(c, buf + len, sizeof(buf) - 1 - len)) <= 0)
			return;
		len += (size_t)n;
		buf[len] = '\0';
	}
	if (!end)
		return;
	*end = '\0';
	header(strchr(buf, '\n') + 1, "Content-Length", clen, sizeof(clen));
	want = (size_t)(end + 4 - buf) + strtoul(clen, NULL, 10);
	while (len < want && len < sizeof(buf) - 1) {
		if ((n = conn_read(c, buf + len, sizeof(buf) - 1 - len)) <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	sscanf(buf, "%15s %511s", r.method, r.path);
	header(strchr(buf, '\n') + 1, "Authorization", r.auth, sizeof(r.auth));
	header(strchr(buf, '\n') + 1, "Content-Type", r.ctype, sizeof(r.ctype));
	snprintf(r.body, sizeof(r.body), "%s", end + 4);
	r.tls = c->sess != NULL;
	r.client_verified = c->verified;
	snprintf(r.client_cn, sizeof(r.client_cn), "%s", c->cn);

	pthread_mutex_lock(&f->mu);
	if (f->nreqs < FAKEAPI_MAX_REQS)
		f->reqs[f->nreqs++] = r;
	for (int i = 0; i < f->nroutes; i++)
		if (!strcmp(f->routes[i].method, r.method) && !strcmp(f->routes[i].path, r.path))
			rt = f->routes[i];
	pthread_mutex_unlock(&f->mu);
	if (!rt.method[0])
		snprintf(rt.body, sizeof(rt.body),
			 "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
			 "\"message\":\"pods \\\"x\\\" not found\",\"reason\":\"NotFound\",\"code\":404}");
	if (rt.delay_ms) {
		struct timespec ts = { rt.delay_ms / 1000, (long)(rt.delay_ms % 1000) * 1000000 };

		nanosleep(&ts, NULL);
	}
	n = snprintf(out, sizeof(out),
		     "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
		     "Connection: close\r\n\r\n%s",
		     rt.status, strlen(rt.body), rt.body);
	if (n > 0)
		conn_write(c, out, (size_t)n);
}

/* Handshake (TLS), serve, close. A failed handshake is counted: a test
 * tells "refused" from "never connected" by it. */
static void serve_conn(struct fakeapi *f, int fd)
{
	/* bounds a handshake or a read that stops half way */
	struct timeval tv = { .tv_sec = 2 };
	struct conn c = { .fd = fd, .tls = f->tls };
	bool refused = false;

	if (f->tls) {
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		c.sess = f->tls->accept(f->tls_ctx, fd, &c.verified, c.cn, sizeof(c.cn));
		refused = !c.sess;
	}
	pthread_mutex_lock(&f->mu);
	f->nconns++;
	f->nrefused += refused;
	pthread_mutex_unlock(&f->mu);
	if (!refused)
		serve_one(f, &c);
	if (c.sess)
		f->tls->close(c.sess);
}

static void *run(void *arg)
{
	struct fakeapi *f = arg;
	sigset_t pipe_set;

	/* a client that hangs up fails the answer's write with EPIPE, not
	 * the test with SIGPIPE; blocked in this thread only */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);
	for (;;) {
		struct pollfd p = { .fd = f->lfd, .events = POLLIN };
		bool stop;
		int c;

		pthread_mutex_lock(&f->mu);
		stop = f->stop;
		pthread_mutex_unlock(&f->mu);
		if (stop)
			return NULL;
		if (poll(&p, 1, 50) <= 0)
			continue;
		c = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		serve_conn(f, c);
		close(c);
	}
}

int fakeapi_start_with(struct fakeapi *f, const struct fakeapi_tls_ops *ops, void *ctx)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int e;

	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->mu, NULL);
	f->tls = ops;
	f->tls_ctx = ctx;
	f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (f->lfd < 0 || bind(f->lfd, (struct sockaddr *)&a, sizeof(a)) || listen(f->lfd, 16) ||
	    getsockname(f->lfd, (struct sockaddr *)&a, &al)) {
		e = -errno;
		goto fail;
	}
	f->port = ntohs(a.sin_port);
	e = -pthread_create(&f->thread, NULL, run, f);
	if (!e)
		return 0;
fail:
	if (f->lfd >= 0)
		close(f->lfd);
	if (ops)
		ops->free(ctx);
	pthread_mutex_destroy(&f->mu);
	return e;
}

int fakeapi_start(struct fakeapi *f)
{
	return fakeapi_start_with(f, NULL, NULL);
}

void fakeapi_stop(struct fakeapi *f)
{
	pthread_mutex_lock(&f->mu);
	f->stop = true;
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->thread, NULL);
	close(f->lfd);
	if (f->tls)
		f->tls->free(f->tls_ctx);
	pthread_mutex_destroy(&f->mu);
}

void fakeapi_route(struct fakeapi *f, const char *method, const char *path, int status,
		   const char *body, int delay_ms)
{
	struct fakeapi_route *r = NULL;

	pthread_mutex_lock(&f->mu);
	for (int i = 0; i < f->nroutes && !r; i++)
		if (!strcmp(f->routes[i].method, method) && !strcmp(f->routes[i].path, path))
			r = &f->routes[i];
	if (!r && f->nroutes < FAKEAPI_MAX_ROUTES)
		r = &f->routes[f->nroutes++];
	if (r) {
		snprintf(r->method, sizeof(r->method), "%s", method);
		snprintf(r->path, sizeof(r->path), "%s", path);
		snprintf(r->body, sizeof(r->body), "%s", body);
		r->status = status;
		r->delay_ms = delay_ms;
	}
	pthread_mutex_unlock(&f->mu);
}

/* A counter, read under the lock. */
static int counter(struct fakeapi *f, const int *n)
{
	int v;

	pthread_mutex_lock(&f->mu);
	v = *n;
	pthread_mutex_unlock(&f->mu);
	return v;
}

static int wait_counter(struct fakeapi *f, const int *n, int want, int ms)
{
	int got;

	for (int i = 0; (got = counter(f, n)) < want && i < ms / 5; i++)
		usleep(5000);
	return got;
}

int fakeapi_count(struct fakeapi *f)
{
	return counter(f, &f->nreqs);
}

bool fakeapi_get(struct fakeapi *f, int i, struct fakeapi_req *ret)
{
	bool ok;

	pthread_mutex_lock(&f->mu);
	ok = i >= 0 && i < f->nreqs;
	if (ok)
		*ret = f->reqs[i];
	pthread_mutex_unlock(&f->mu);
	return ok;
}

int fakeapi_wait(struct fakeapi *f, int n, int ms)
{
	return wait_counter(f, &f->nreqs, n, ms);
}

int fakeapi_conns(struct fakeapi *f)
{
	return counter(f, &f->nconns);
}

int fakeapi_wait_conns(struct fakeapi *f, int n, int ms)
{
	return wait_counter(f, &f->nconns, n, ms);
}

int fakeapi_refused(struct fakeapi *f)
{
	return counter(f, &f->nrefused);
}

int fakeapi_wait_refused(struct fakeapi *f, int n, int ms)
{
	return wait_counter(f, &f->nrefused, n, ms);
}
