/* SPDX-License-Identifier: Apache-2.0 */
/* The outputs' core: per-sink bounded queues, workers, retries, stats. */
#include "outputs.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "outputs_impl.h"

#define MAX_SINKS 32

struct shk_sinks {
	/* read-held by every use, write-held by shk_sinks_swap() */
	pthread_rwlock_t lk;
	struct sink *v[MAX_SINKS];
	uint32_t n;
	bool need_json, need_text;
	int least_severe; /* the highest min_priority of all sinks */
};

#define RD_LOCK(s) pthread_rwlock_rdlock((pthread_rwlock_t *)&(s)->lk)
#define UNLOCK(s) pthread_rwlock_unlock((pthread_rwlock_t *)&(s)->lk)

static const char *const kind_names[] = {
	[SHK_SINK_STDOUT] = "stdout", [SHK_SINK_FILE] = "file",	  [SHK_SINK_SYSLOG] = "syslog",
	[SHK_SINK_PROGRAM] = "program", [SHK_SINK_HTTP] = "http", [SHK_SINK_SLACK] = "slack",
};

const char *shk_sink_kind_name(enum shk_sink_kind k)
{
	return (unsigned)k < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[k] : "?";
}

int shk_sink_kind_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++)
		if (!strcmp(s, kind_names[i]))
			return (int)i;
	return -EINVAL;
}

int shk_syslog_facility_parse(const char *s)
{
	static const struct {
		const char *name;
		int v;
	} f[] = {
		{ "kern", LOG_KERN },	  { "user", LOG_USER },	    { "mail", LOG_MAIL },
		{ "daemon", LOG_DAEMON }, { "auth", LOG_AUTH },	    { "syslog", LOG_SYSLOG },
		{ "authpriv", LOG_AUTHPRIV }, { "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
		{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 },
		{ "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
	};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (!strcasecmp(s, f[i].name))
			return f[i].v;
	return -EINVAL;
}

const char *shk_sink_health_name(enum shk_sink_health h)
{
	return h == SHK_SINK_FAILING ? "failing" : h == SHK_SINK_SLOW ? "slow" : "ok";
}

void shk_sink_opts_init(struct shk_sink_opts *o, enum shk_sink_kind kind)
{
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	o->min_priority = 7; /* SHK_PRIO_DEBUG: everything */
	o->queue_len = SHK_SINK_QUEUE;
	o->retries = 3;
	o->backoff_ms = 200;
	o->backoff_max_ms = 5000;
	o->slow_ms = 1000;
	o->drain_ms = 2000;
	o->fd = 1;
	o->keep_alive = true;
	o->http_keep_alive = true;
	o->socket = "/dev/log";
	o->facility = LOG_USER;
	o->timeout_ms = 5000;
	o->connect_timeout_ms = 2000;
}

uint64_t shk_sink_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

const char *shk_sink_line(const struct sink *k, const struct shk_alert_blob *a)
{
	return k->o.json ? a->json : a->text;
}

int shk_sink_write_all(struct sink *k, int fd, const char *buf, size_t len, uint32_t timeout_ms)
{
	uint64_t end = shk_sink_now_ns() + (uint64_t)timeout_ms * 1000000ull;

	while (len) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		/* at most PIPE_BUF after POLLOUT: a pipe cannot block us then */
		size_t chunk = len < 4096 ? len : 4096;
		ssize_t w;
		int r;

		if (atomic_load(&k->aborting))
			return -ECANCELED;
		if (shk_sink_now_ns() >= end)
			return -ETIMEDOUT;
		r = poll(&p, 1, 100);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0)
			continue;
		if (p.revents & (POLLERR | POLLNVAL))
			return -EPIPE;
		w = write(fd, buf, chunk);
		if (w < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* ---- the alert blob ------------------------------------------------------ */

static struct shk_alert_blob *blob_new(const struct shk_alert_msg *m)
{
	const char *src[5] = { m->rule, m->output, m->text, m->json, m->response };
	size_t len[5], total = 0;
	struct shk_alert_blob *a;
	const char **dst[5];
	char *p;

	for (int i = 0; i < 5; i++) {
		len[i] = src[i] ? strlen(src[i]) : 0;
		total += len[i] + 1;
	}
	a = malloc(sizeof(*a) + total);
	if (!a)
		return NULL;
	atomic_init(&a->refs, 1);
	a->priority = m->priority;
	dst[0] = &a->rule, dst[1] = &a->output, dst[2] = &a->text, dst[3] = &a->json,
	dst[4] = &a->response;
	p = a->data;
	for (int i = 0; i < 5; i++) {
		memcpy(p, src[i] ? src[i] : "", len[i]);
		p[len[i]] = '\0';
		*dst[i] = p;
		p += len[i] + 1;
	}
	return a;
}

static void blob_put(struct shk_alert_blob *a)
{
	if (a && atomic_fetch_sub(&a->refs, 1) == 1)
		free(a);
}

/* ---- one sink's worker --------------------------------------------------- */

static void set_error(struct sink *k, const char *err)
{
	pthread_mutex_lock(&k->mu);
	snprintf(k->last_error, sizeof(k->last_error), "%s", err);
	pthread_mutex_unlock(&k->mu);
}

/* Sleep for the backoff, or less when told to stop and the drain time runs
 * out. Called and returns with k->mu held. Returns false when aborting. */
static bool backoff_wait(struct sink *k, uint32_t ms)
{
	uint64_t until = shk_sink_now_ns() + (uint64_t)ms * 1000000ull;

	for (;;) {
		uint64_t now = shk_sink_now_ns();
		struct timespec ts;

		if (k->stop && now >= k->deadline_ns)
			return false;
		if (now >= until)
			return true;
		if (k->stop && k->deadline_ns < until)
			until = k->deadline_ns;
		ts.tv_sec = (time_t)(until / 1000000000ull);
		ts.tv_nsec = (long)(until % 1000000000ull);
		pthread_cond_timedwait(&k->cv, &k->mu, &ts);
	}
}

static void deliver(struct sink *k, const struct shk_alert_blob *a)
{
	uint32_t backoff = k->o.backoff_ms;
	char err[160];

	for (uint32_t attempt = 0;; attempt++) {
		uint64_t t0 = shk_sink_now_ns(), us;
		int r;

		err[0] = '\0';
		atomic_store(&k->busy_since_ns, t0);
		r = k->ops->send(k, a, err, sizeof(err));
		atomic_store(&k->busy_since_ns, 0);
		us = (shk_sink_now_ns() - t0) / 1000;
		atomic_store(&k->last_latency_us, us);
		if (us > atomic_load(&k->max_latency_us))
			atomic_store(&k->max_latency_us, us);
		if (!r) {
			atomic_fetch_add(&k->sent, 1);
			atomic_store(&k->failing, false);
			return;
		}
		atomic_store(&k->failing, true);
		set_error(k, err[0] ? err : strerror(-r));
		if (r == -EPERM || attempt >= k->o.retries || atomic_load(&k->aborting))
			break;
		atomic_fetch_add(&k->retries, 1);
		pthread_mutex_lock(&k->mu);
		if (!backoff_wait(k, backoff)) {
			pthread_mutex_unlock(&k->mu);
			break;
		}
		pthread_mutex_unlock(&k->mu);
		backoff = backoff * 2 > k->o.backoff_max_ms ? k->o.backoff_max_ms : backoff * 2;
	}
	atomic_fetch_add(&k->failed, 1);
}

static struct shk_alert_blob *pop(struct sink *k)
{
	struct shk_alert_blob *a = k->q[k->head];

	k->head = (k->head + 1) % k->cap;
	k->n--;
	return a;
}

/* Called with k->mu held: past the drain time, what is left is dropped. */
static bool drain_expired(struct sink *k)
{
	if (!k->stop || shk_sink_now_ns() < k->deadline_ns)
		return false;
	atomic_store(&k->aborting, true);
	atomic_fetch_add(&k->dropped, k->n);
	while (k->n)
		blob_put(pop(k));
	return true;
}

static void *worker(void *arg)
{
	struct sink *k = arg;

	pthread_mutex_lock(&k->mu);
	for (;;) {
		struct shk_alert_blob *a;

		while (!k->n && !k->stop && !k->reopen)
			pthread_cond_wait(&k->cv, &k->mu);
		if (k->reopen) {
			k->reopen = false;
			pthread_mutex_unlock(&k->mu);
			if (k->ops->reopen)
				k->ops->reopen(k);
			atomic_fetch_add(&k->reopens, 1);
			pthread_mutex_lock(&k->mu);
			continue;
		}
		if (!k->n || drain_expired(k))
			break;
		a = pop(k);
		pthread_mutex_unlock(&k->mu);
		deliver(k, a);
		blob_put(a);
		pthread_mutex_lock(&k->mu);
		if (!k->n && k->ops->flush) {
			pthread_mutex_unlock(&k->mu);
			k->ops->flush(k);
			pthread_mutex_lock(&k->mu);
		}
	}
	pthread_mutex_unlock(&k->mu);
	if (k->ops->flush)
		k->ops->flush(k);
	return NULL;
}

/* ---- the set of sinks ---------------------------------------------------- */

static const struct sink_ops *ops_of(enum shk_sink_kind kind)
{
	switch (kind) {
	case SHK_SINK_STDOUT:
		return &shk_sink_stdout_ops;
	case SHK_SINK_FILE:
		return &shk_sink_file_ops;
	case SHK_SINK_SYSLOG:
		return &shk_sink_syslog_ops;
	case SHK_SINK_PROGRAM:
		return &shk_sink_program_ops;
	case SHK_SINK_HTTP:
		return &shk_sink_http_ops;
	case SHK_SINK_SLACK:
		return &shk_sink_slack_ops;
	}
	return NULL;
}

struct shk_sinks *shk_sinks_new(void)
{
	struct shk_sinks *s = calloc(1, sizeof(struct shk_sinks));

	if (s)
		pthread_rwlock_init(&s->lk, NULL);
	return s;
}

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

bool shk_sink_opts_equal(const struct shk_sink_opts *a, const struct shk_sink_opts *b)
{
	const char *na = a->name ? a->name : shk_sink_kind_name(a->kind);
	const char *nb = b->name ? b->name : shk_sink_kind_name(b->kind);

	if (a->kind != b->kind || !str_eq(na, nb) || a->min_priority != b->min_priority ||
	    a->queue_len != b->queue_len || a->retries != b->retries ||
	    a->backoff_ms != b->backoff_ms || a->backoff_max_ms != b->backoff_max_ms ||
	    a->slow_ms != b->slow_ms || a->drain_ms != b->drain_ms || a->json != b->json ||
	    a->fd != b->fd || !str_eq(a->path, b->path) || a->keep_alive != b->keep_alive ||
	    !str_eq(a->socket, b->socket) || a->facility != b->facility ||
	    !str_eq(a->program, b->program) || !str_eq(a->url, b->url) ||
	    a->nheaders != b->nheaders || !str_eq(a->ca_cert, b->ca_cert) ||
	    !str_eq(a->client_cert, b->client_cert) || !str_eq(a->client_key, b->client_key) ||
	    a->insecure != b->insecure || a->http_keep_alive != b->http_keep_alive ||
	    a->gzip != b->gzip || a->timeout_ms != b->timeout_ms ||
	    a->connect_timeout_ms != b->connect_timeout_ms)
		return false;
	for (uint32_t i = 0; i < a->nheaders && i < SHK_SINK_MAX_HEADERS; i++)
		if (!str_eq(a->headers[i], b->headers[i]))
			return false;
	return true;
}

void shk_sinks_swap(struct shk_sinks *s, struct shk_sinks *other)
{
	struct sink *v[MAX_SINKS];
	uint32_t n;
	bool j, t;
	int l;

	pthread_rwlock_wrlock(&s->lk);
	memcpy(v, s->v, sizeof(v));
	n = s->n, j = s->need_json, t = s->need_text, l = s->least_severe;
	memcpy(s->v, other->v, sizeof(v));
	s->n = other->n, s->need_json = other->need_json, s->need_text = other->need_text;
	s->least_severe = other->least_severe;
	memcpy(other->v, v, sizeof(v));
	other->n = n, other->need_json = j, other->need_text = t, other->least_severe = l;
	pthread_rwlock_unlock(&s->lk);
}

static void opts_free(struct shk_sink_opts *o)
{
	free((char *)o->name);
	free((char *)o->path);
	free((char *)o->socket);
	free((char *)o->program);
	free((char *)o->url);
	free((char *)o->ca_cert);
	free((char *)o->client_cert);
	free((char *)o->client_key);
	for (uint32_t i = 0; i < o->nheaders; i++)
		free((char *)o->headers[i]);
}

static int dup_str(const char **s)
{
	if (*s && !(*s = strdup(*s)))
		return -ENOMEM;
	return 0;
}

static int opts_copy(struct shk_sink_opts *dst, const struct shk_sink_opts *src)
{
	int err = 0;

	*dst = *src;
	if (!dst->name)
		dst->name = shk_sink_kind_name(src->kind);
	err |= dup_str(&dst->name);
	err |= dup_str(&dst->path);
	err |= dup_str(&dst->socket);
	err |= dup_str(&dst->program);
	err |= dup_str(&dst->url);
	err |= dup_str(&dst->ca_cert);
	err |= dup_str(&dst->client_cert);
	err |= dup_str(&dst->client_key);
	for (uint32_t i = 0; i < dst->nheaders; i++)
		err |= dup_str(&dst->headers[i]);
	if (!dst->queue_len)
		dst->queue_len = SHK_SINK_QUEUE;
	return err ? -ENOMEM : 0;
}

static void sink_free(struct sink *k)
{
	if (!k)
		return;
	if (k->ops && k->ops->close)
		k->ops->close(k);
	while (k->q && k->n)
		blob_put(pop(k));
	pthread_cond_destroy(&k->cv);
	pthread_mutex_destroy(&k->mu);
	opts_free(&k->o);
	free(k->q);
	free(k);
}

static int sink_start(struct sink *k)
{
	sigset_t all, old;
	int err;

	/* signals belong to the event loop's signalfd, never to a worker */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&k->thr, NULL, worker, k);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return -err;
	k->started = true;
	return 0;
}

int shk_sinks_add(struct shk_sinks *s, const struct shk_sink_opts *o, char *err, size_t errsz)
{
	pthread_condattr_t ca;
	struct sink *k;
	int r;

	if (s->n == MAX_SINKS) {
		snprintf(err, errsz, "at most %d outputs", MAX_SINKS);
		return -ENOSPC;
	}
	if (!ops_of(o->kind)) {
		snprintf(err, errsz, "unknown output kind %d", (int)o->kind);
		return -EINVAL;
	}
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	pthread_mutex_init(&k->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&k->cv, &ca);
	pthread_condattr_destroy(&ca);
	k->ops = ops_of(o->kind);
	if (opts_copy(&k->o, o) || !(k->q = calloc(k->o.queue_len, sizeof(*k->q)))) {
		snprintf(err, errsz, "out of memory");
		sink_free(k);
		return -ENOMEM;
	}
	k->cap = k->o.queue_len;
	err[0] = '\0';
	if (k->ops->open && (r = k->ops->open(k, err, errsz)) < 0) {
		sink_free(k);
		return r;
	}
	if ((r = sink_start(k)) < 0) {
		snprintf(err, errsz, "cannot start its thread: %s", strerror(-r));
		sink_free(k);
		return r;
	}
	if (k->o.json || k->o.kind == SHK_SINK_FILE || k->o.kind == SHK_SINK_HTTP)
		s->need_json = true;
	else
		s->need_text = true;
	if (!s->n || k->o.min_priority > s->least_severe)
		s->least_severe = k->o.min_priority;
	s->v[s->n++] = k;
	return 0;
}

void shk_sinks_stop_async(struct shk_sinks *s)
{
	if (!s)
		return;
	/* stop all first, so the drains run side by side */
	for (uint32_t i = 0; i < s->n; i++) {
		struct sink *k = s->v[i];

		pthread_mutex_lock(&k->mu);
		if (!k->stop) {
			k->stop = true;
			k->deadline_ns = shk_sink_now_ns() + (uint64_t)k->o.drain_ms * 1000000ull;
		}
		pthread_cond_broadcast(&k->cv);
		pthread_mutex_unlock(&k->mu);
	}
}

bool shk_sinks_stopped(struct shk_sinks *s)
{
	bool all = true;

	for (uint32_t i = 0; s && i < s->n; i++) {
		struct sink *k = s->v[i];

		/* a send in flight past the drain time is cancelled: the
		 * sinks poll `aborting` */
		if (k->started && pthread_tryjoin_np(k->thr, NULL) == EBUSY) {
			if (shk_sink_now_ns() >= k->deadline_ns)
				atomic_store(&k->aborting, true);
			all = false;
			continue;
		}
		k->started = false;
	}
	return all;
}

void shk_sinks_stop(struct shk_sinks *s)
{
	if (!s)
		return;
	shk_sinks_stop_async(s);
	while (!shk_sinks_stopped(s))
		usleep(10000);
}

void shk_sinks_free(struct shk_sinks *s)
{
	if (!s)
		return;
	shk_sinks_stop(s);
	for (uint32_t i = 0; i < s->n; i++)
		sink_free(s->v[i]);
	pthread_rwlock_destroy(&s->lk);
	free(s);
}

uint32_t shk_sinks_count(const struct shk_sinks *s)
{
	uint32_t n;

	if (!s)
		return 0;
	RD_LOCK(s);
	n = s->n;
	UNLOCK(s);
	return n;
}

static bool need_form(const struct shk_sinks *s, bool json)
{
	bool b;

	if (!s)
		return false;
	RD_LOCK(s);
	b = json ? s->need_json : s->need_text;
	UNLOCK(s);
	return b;
}

bool shk_sinks_need_json(const struct shk_sinks *s)
{
	return need_form(s, true);
}

bool shk_sinks_need_text(const struct shk_sinks *s)
{
	return need_form(s, false);
}

static bool push(struct sink *k, struct shk_alert_blob *a)
{
	bool ok;

	pthread_mutex_lock(&k->mu);
	ok = !k->stop && k->n < k->cap;
	if (ok) {
		atomic_fetch_add(&a->refs, 1);
		k->q[(k->head + k->n) % k->cap] = a;
		k->n++;
		pthread_cond_signal(&k->cv);
	}
	pthread_mutex_unlock(&k->mu);
	atomic_fetch_add(ok ? &k->enqueued : &k->dropped, 1);
	return ok;
}

uint32_t shk_sinks_send(struct shk_sinks *s, const struct shk_alert_msg *m)
{
	struct shk_alert_blob *a;
	uint32_t dropped = 0;

	if (!s)
		return 0;
	RD_LOCK(s);
	if (!s->n || m->priority > s->least_severe) {
		UNLOCK(s);
		return 0;
	}
	a = blob_new(m);
	for (uint32_t i = 0; i < s->n; i++) {
		struct sink *k = s->v[i];

		if (m->priority > k->o.min_priority)
			continue;
		if (!a) {
			atomic_fetch_add(&k->dropped, 1); /* out of memory: still counted */
			dropped++;
		} else if (!push(k, a)) {
			dropped++;
		}
	}
	UNLOCK(s);
	blob_put(a);
	return dropped;
}

void shk_sinks_reopen(struct shk_sinks *s)
{
	if (!s)
		return;
	RD_LOCK(s);
	for (uint32_t i = 0; i < s->n; i++) {
		struct sink *k = s->v[i];

		pthread_mutex_lock(&k->mu);
		k->reopen = true;
		pthread_cond_signal(&k->cv);
		pthread_mutex_unlock(&k->mu);
	}
	UNLOCK(s);
}

static enum shk_sink_health health(struct sink *k, uint32_t depth)
{
	uint64_t busy = atomic_load(&k->busy_since_ns);
	uint64_t slow_ns = (uint64_t)k->o.slow_ms * 1000000ull;

	if (atomic_load(&k->failing))
		return SHK_SINK_FAILING;
	if ((uint64_t)depth * 2 > k->cap || (busy && shk_sink_now_ns() - busy > slow_ns) ||
	    atomic_load(&k->last_latency_us) * 1000 > slow_ns)
		return SHK_SINK_SLOW;
	return SHK_SINK_OK;
}

int shk_sinks_stats(struct shk_sinks *s, uint32_t i, struct shk_sink_stats *ret)
{
	struct sink *k;

	if (!s)
		return -ENOENT;
	RD_LOCK(s);
	if (i >= s->n) {
		UNLOCK(s);
		return -ENOENT;
	}
	k = s->v[i];
	memset(ret, 0, sizeof(*ret));
	ret->name = k->o.name;
	ret->kind = shk_sink_kind_name(k->o.kind);
	pthread_mutex_lock(&k->mu);
	ret->depth = k->n;
	snprintf(ret->last_error, sizeof(ret->last_error), "%s", k->last_error);
	pthread_mutex_unlock(&k->mu);
	ret->capacity = k->cap;
	ret->enqueued = atomic_load(&k->enqueued);
	ret->sent = atomic_load(&k->sent);
	ret->dropped = atomic_load(&k->dropped);
	ret->failed = atomic_load(&k->failed);
	ret->retries = atomic_load(&k->retries);
	ret->restarts = atomic_load(&k->restarts);
	ret->reopens = atomic_load(&k->reopens);
	ret->last_latency_us = atomic_load(&k->last_latency_us);
	ret->max_latency_us = atomic_load(&k->max_latency_us);
	ret->health = health(k, ret->depth);
	UNLOCK(s);
	return 0;
}
