/* SPDX-License-Identifier: Apache-2.0 */
#include "k8s_labels.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

struct ent {
	bool used, known, inflight;
	char uid[SHK_POD_UIDKEY_MAX + 1];
	char ns[SHK_POD_NS_MAX + 1];
	char name[SHK_POD_NAME_MAX + 1];
	uint64_t fetched_ns, retry_at_ns, used_ns;
	char *kv; /* "key\0value\0" * n */
	size_t len;
	uint32_t n;
	int32_t next; /* hash chain */
};

struct shk_podlabels {
	struct shk_podlabels_opts o;
	pthread_mutex_t mu;
	struct ent *v;
	int32_t *heads;
	size_t nbuckets, size;
	struct shk_podlabels_stats st;
};

struct shk_podlabels *shk_podlabels_new(const struct shk_podlabels_opts *o)
{
	struct shk_podlabels *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->o = *o;
	if (!c->o.capacity)
		c->o.capacity = 4096;
	if (!c->o.ttl_ns)
		c->o.ttl_ns = 300ull * 1000000000ull;
	if (!c->o.retry_ns)
		c->o.retry_ns = 10ull * 1000000000ull;
	c->nbuckets = c->o.capacity * 2;
	c->v = calloc(c->o.capacity, sizeof(*c->v));
	c->heads = malloc(c->nbuckets * sizeof(*c->heads));
	if (!c->v || !c->heads) {
		shk_podlabels_free(c);
		errno = ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < c->nbuckets; i++)
		c->heads[i] = -1;
	c->st.capacity = c->o.capacity;
	pthread_mutex_init(&c->mu, NULL);
	return c;
}

void shk_podlabels_free(struct shk_podlabels *c)
{
	if (!c)
		return;
	for (size_t i = 0; c->v && i < c->o.capacity; i++)
		free(c->v[i].kv);
	if (c->v && c->heads)
		pthread_mutex_destroy(&c->mu);
	free(c->v);
	free(c->heads);
	free(c);
}

static size_t bucket(const struct shk_podlabels *c, const char *uid)
{
	return shk_hash_bytes(uid, strlen(uid)) % c->nbuckets;
}

static struct ent *find(struct shk_podlabels *c, const char *uid)
{
	for (int32_t i = c->heads[bucket(c, uid)]; i >= 0; i = c->v[i].next)
		if (!strcmp(c->v[i].uid, uid))
			return &c->v[i];
	return NULL;
}

static void unlink_ent(struct shk_podlabels *c, struct ent *e)
{
	int32_t *p = &c->heads[bucket(c, e->uid)];
	int32_t idx = (int32_t)(e - c->v);

	while (*p >= 0 && *p != idx)
		p = &c->v[*p].next;
	if (*p == idx)
		*p = e->next;
	free(e->kv);
	memset(e, 0, sizeof(*e));
	c->size--;
}

/* A free slot, or the least recently used one emptied. The linear scan
 * happens only for a new pod in a full cache. */
static struct ent *slot(struct shk_podlabels *c)
{
	struct ent *lru = NULL;

	for (size_t i = 0; i < c->o.capacity; i++) {
		if (!c->v[i].used)
			return &c->v[i];
		if (!lru || c->v[i].used_ns < lru->used_ns)
			lru = &c->v[i];
	}
	unlink_ent(c, lru);
	c->st.evictions++;
	return lru;
}

static bool fits(const char *s, size_t max)
{
	return s && *s && strnlen(s, max + 1) <= max;
}

static void request(struct shk_podlabels *c, struct ent *e, uint64_t now_ns)
{
	c->st.requests++;
	/* with the lock held: the fetcher only queues, and never calls back
	 * into the cache while holding its own queue lock */
	if (c->o.fetch && !c->o.fetch(c->o.fetch_ctx, e->uid, e->ns, e->name)) {
		e->inflight = true;
		return;
	}
	c->st.refused++;
	e->retry_at_ns = now_ns + c->o.retry_ns;
}

int shk_podlabels_lookup(struct shk_podlabels *c, const char *uid, const char *ns,
			 const char *name, uint64_t now_ns, shk_podlabels_visit_fn visit,
			 void *arg)
{
	struct ent *e;
	int ret;

	if (!fits(uid, SHK_POD_UIDKEY_MAX) || !fits(ns, SHK_POD_NS_MAX) ||
	    !fits(name, SHK_POD_NAME_MAX))
		return -EINVAL;
	pthread_mutex_lock(&c->mu);
	e = find(c, uid);
	if (!e) {
		size_t b = bucket(c, uid);

		e = slot(c);
		e->used = true;
		strcpy(e->uid, uid);
		strcpy(e->ns, ns);
		strcpy(e->name, name);
		e->next = c->heads[b];
		c->heads[b] = (int32_t)(e - c->v);
		c->size++;
	}
	e->used_ns = now_ns;
	if (e->known) {
		const char *p = e->kv;

		for (uint32_t i = 0; i < e->n; i++) {
			size_t kl = strlen(p), vl = strlen(p + kl + 1);

			visit(arg, p, kl, p + kl + 1, vl);
			p += kl + vl + 2;
		}
		ret = (int)e->n;
		c->st.hits++;
		/* stale: served while a refresh is on its way */
		if (now_ns - e->fetched_ns >= c->o.ttl_ns && !e->inflight && now_ns >= e->retry_at_ns)
			request(c, e, now_ns);
	} else {
		ret = -EAGAIN;
		c->st.misses++;
		if (!e->inflight && now_ns >= e->retry_at_ns)
			request(c, e, now_ns);
	}
	pthread_mutex_unlock(&c->mu);
	return ret;
}

/* kv holds exactly n NUL-terminated key/value pairs. */
static bool kv_valid(const char *kv, size_t len, uint32_t n)
{
	size_t at = 0;

	for (uint32_t i = 0; i < 2 * n; i++) {
		const char *z = at < len ? memchr(kv + at, '\0', len - at) : NULL;

		if (!z)
			return false;
		at = (size_t)(z - kv) + 1;
	}
	return at == len;
}

int shk_podlabels_store(struct shk_podlabels *c, const char *uid, const char *kv, size_t len,
			uint32_t n, uint64_t now_ns)
{
	struct ent *e;
	char *copy;

	if (n > SHK_PODLABELS_MAX || len > SHK_PODLABELS_BYTES || (len && !kv) ||
	    !kv_valid(kv, len, n))
		return -E2BIG;
	copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	if (len)
		memcpy(copy, kv, len);
	pthread_mutex_lock(&c->mu);
	e = find(c, uid);
	if (!e) {
		pthread_mutex_unlock(&c->mu);
		free(copy);
		return -ENOENT;
	}
	free(e->kv);
	e->kv = copy;
	e->len = len;
	e->n = n;
	e->known = true;
	e->inflight = false;
	e->fetched_ns = now_ns;
	c->st.stored++;
	pthread_mutex_unlock(&c->mu);
	return 0;
}

int shk_podlabels_fail(struct shk_podlabels *c, const char *uid, uint64_t now_ns)
{
	struct ent *e;

	pthread_mutex_lock(&c->mu);
	e = find(c, uid);
	if (e) {
		/* labels known before stay served (stale beats <NA>) */
		e->inflight = false;
		e->retry_at_ns = now_ns + c->o.retry_ns;
		c->st.failed++;
	}
	pthread_mutex_unlock(&c->mu);
	return e ? 0 : -ENOENT;
}

void shk_podlabels_stats(struct shk_podlabels *c, struct shk_podlabels_stats *ret)
{
	pthread_mutex_lock(&c->mu);
	*ret = c->st;
	ret->size = c->size;
	pthread_mutex_unlock(&c->mu);
}
