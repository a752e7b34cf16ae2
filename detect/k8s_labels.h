/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pod labels for k8s.pod.labels and k8s.pod.label[key]: a cache by pod uid
 * that the event path reads and a fetcher (respond/k8s.h, the Kubernetes
 * API client on its own thread) fills.
 *
 * The event path never waits for the API server. A lookup answers from
 * the cache or not at all: on a miss it asks the fetcher (a callback that
 * only queues, and may refuse when its queue is full) and the field is
 * <NA> for this event; a later event of the pod gets the labels.
 *
 * - An answer is kept label_ttl_ns; an expired one is still served while
 *   a refresh is asked for, so a slow API never turns known labels back
 *   into <NA>.
 * - A failed fetch (API down, 403, 404, garbage) is not cached as "no
 *   labels": the pod is asked for again after retry_ns, and until then
 *   its labels are <NA>.
 * - Bounded: at most capacity pods; when full, the least recently used
 *   goes (counted).
 * - Labels from the API are hostile input: at most SHK_PODLABELS_MAX
 *   labels and SHK_PODLABELS_BYTES bytes per pod are kept (the fetcher
 *   enforces it through shk_podlabels_store(), which refuses more).
 *
 * Thread-safe (one mutex): the event loop looks up, the fetcher stores.
 */
#ifndef SHRIKE_K8S_LABELS_H
#define SHRIKE_K8S_LABELS_H

#include <stddef.h>
#include <stdint.h>

#define SHK_PODLABELS_MAX 128	      /* labels per pod */
#define SHK_PODLABELS_BYTES (16 * 1024) /* "key\0value\0" bytes per pod */
#define SHK_POD_NS_MAX 63	      /* a DNS label */
#define SHK_POD_NAME_MAX 253	      /* a DNS subdomain */
#define SHK_POD_UIDKEY_MAX 64

/* Ask for pod (ns, name) with this uid to be fetched. Called with no lock
 * held; must not block. 0 when queued, else a negative errno (-EAGAIN:
 * queue full; the pod is asked for again after retry_ns). */
typedef int (*shk_podlabels_fetch_fn)(void *ctx, const char *uid, const char *ns,
				      const char *name);
/* One label, for lookups; k and v are NUL-terminated. */
typedef void (*shk_podlabels_visit_fn)(void *arg, const char *k, size_t klen, const char *v,
				       size_t vlen);

struct shk_podlabels_opts {
	size_t capacity;	/* pods; 0: 4096 */
	uint64_t ttl_ns;	/* 0: 300 s */
	uint64_t retry_ns;	/* after a failure or a refused request; 0: 10 s */
	shk_podlabels_fetch_fn fetch;
	void *fetch_ctx;
};

struct shk_podlabels_stats {
	size_t size, capacity;
	uint64_t hits, misses;	/* lookups answered / not answered */
	uint64_t requests;	/* fetches asked for */
	uint64_t refused;	/* fetches the fetcher could not queue */
	uint64_t stored, failed;/* answers stored, failures noted */
	uint64_t evictions;
};

struct shk_podlabels;

/* NULL with errno (ENOMEM). */
struct shk_podlabels *shk_podlabels_new(const struct shk_podlabels_opts *o);
void shk_podlabels_free(struct shk_podlabels *c);

/*
 * The event path. Calls visit for each label of the pod (under the lock:
 * visit must only copy) and returns how many, or -EAGAIN when they are not
 * known (yet): a fetch is asked for as needed. -EINVAL when uid, ns or name
 * is empty or too long (nothing to ask the API about). now_ns is any
 * monotonic clock, the same for every call.
 */
int shk_podlabels_lookup(struct shk_podlabels *c, const char *uid, const char *ns,
			 const char *name, uint64_t now_ns, shk_podlabels_visit_fn visit,
			 void *arg);

/* The fetcher: the labels of uid as "key\0value\0..." (n pairs, len bytes),
 * or a failure. -E2BIG when over the limits (nothing stored), -ENOENT when
 * the pod is no longer cached (dropped meanwhile: nothing to do). */
int shk_podlabels_store(struct shk_podlabels *c, const char *uid, const char *kv, size_t len,
			uint32_t n, uint64_t now_ns);
int shk_podlabels_fail(struct shk_podlabels *c, const char *uid, uint64_t now_ns);

void shk_podlabels_stats(struct shk_podlabels *c, struct shk_podlabels_stats *ret);

#endif
