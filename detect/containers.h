/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The container cache: identity (container.h) and metadata (ctrmeta.h)
 * per cgroup, keyed by the cgroup v2 id every event carries.
 *
 * - A cgroup is identified once, from its path, on its first event; host
 *   cgroups are cached too, so most events cost one hash lookup.
 * - A container's metadata is read from the runtime's state files on its
 *   first event. A miss (no file yet, or a half-written one) is retried on
 *   a later event once a backoff has passed: it doubles from retry_min to
 *   retry_max and stays there. A miss is never made permanent (Falco's
 *   container plugin caches nulls forever under load): a container whose
 *   state shows up late gets its metadata as soon as the backoff allows.
 * - The cache is bounded: when full, the least recently used entry goes
 *   (counted).
 * - Entries leave when their cgroup does. The owner calls
 *   shk_containers_sweep() on a timer (the session: every 10 s): it checks
 *   each cached cgroup still exists under the v2 mount with the same id
 *   (inode), and drops the rest. A caller that learns of a removal earlier
 *   calls shk_containers_forget().
 *
 * Not thread-safe: one owner (the event loop) uses it. Pointers returned
 * stay valid until the next call that takes a non-const cache.
 */
#ifndef SHRIKE_CONTAINERS_H
#define SHRIKE_CONTAINERS_H

#include <stddef.h>
#include <stdint.h>

#include "container.h"
#include "ctrmeta.h"

struct shk_container {
	struct shk_cgroup_ident ident;
	const struct shk_ctr_meta *meta; /* NULL: not known (yet, or host) */
};

struct shk_containers_opts {
	struct shk_ctr_roots roots;
	size_t capacity;       /* entries; 0: 4096 */
	uint64_t retry_min_ns; /* 0: 250 ms */
	uint64_t retry_max_ns; /* 0: 30 s */
	const char *cgroup_root; /* the cgroup v2 mount; NULL: sweep drops nothing */
	const char *proc_root;	 /* for a pid's cgroup when no path is given; NULL: /proc */
};

struct shk_containers_stats {
	size_t size, capacity;
	uint64_t hits;	       /* answered from the cache */
	uint64_t lookups;      /* cgroups identified from a path */
	uint64_t loads;	       /* metadata read successfully */
	uint64_t misses;       /* metadata attempts that found no state file */
	uint64_t parse_errors; /* metadata attempts that found a bad state file */
	uint64_t retries;      /* metadata attempts after the first */
	uint64_t evictions;    /* live entries dropped to make room */
	uint64_t gone;	       /* entries dropped because their cgroup went away */
};

/* NULL with errno set (ENOMEM, EINVAL) on failure. */
struct shk_containers *shk_containers_new(const struct shk_containers_opts *o);
void shk_containers_free(struct shk_containers *c);

/*
 * The container (or host) of cgroup cgid at time now_ns (any monotonic
 * clock; the events' timestamps). path is the cgroup's v2 path when the
 * caller knows it; otherwise /proc/<pid>/cgroup is read once for an
 * unknown cgroup (pid <= 0: not). Returns NULL when the cgroup cannot be
 * identified (unknown id and no path).
 */
const struct shk_container *shk_containers_get(struct shk_containers *c, uint64_t cgid,
					       const char *path, int pid, uint64_t now_ns);

/* The cgroup cgid is gone. */
void shk_containers_forget(struct shk_containers *c, uint64_t cgid);
/* Drop the entries whose cgroup no longer exists; returns how many. */
size_t shk_containers_sweep(struct shk_containers *c);

void shk_containers_stats(const struct shk_containers *c, struct shk_containers_stats *ret);

#endif /* SHRIKE_CONTAINERS_H */
