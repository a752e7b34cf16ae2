/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prometheus metrics and health for `shrike run`, over HTTP (libmicrohttpd,
 * its own thread; default 127.0.0.1:8765):
 *   /metrics  the Prometheus text format
 *   /healthz  200 when ready and healthy, else 503 (for k8s probes)
 *
 * The listener never touches the event loop's data: the daemon keeps its
 * counters in struct shk_run_metrics, all atomics. Each counter has one
 * writing thread, so the hot path pays a relaxed store, not a lock; sensor
 * figures are published as a snapshot by the event loop thread.
 */
#ifndef SHRIKE_METRICS_H
#define SHRIKE_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "outputs.h"
#include "plan.h"
#include "rule_compile.h"

struct shk_executor;

typedef atomic_uint_fast64_t shk_ctr;

struct shk_run_metrics {
	shk_ctr events[SHK_EVTYPE_MAX]; /* by event type */
	shk_ctr alerts, below_priority, action_queue_full;
	shk_ctr *matches;		/* by rule id: rules_n entries */
	uint32_t rules_n;
	shk_ctr actions[SHK_ACT__COUNT][4][2]; /* action, outcome, audit/enforce */
	/* the sensors' figures, published by the event loop thread */
	shk_ctr received, drops, oversize, truncated, malformed, compat, kp_verdicts, kp_missed;
	shk_ctr procs; /* process-table size */
	shk_ctr drop_alerts; /* "events dropped" alerts raised (drops.h) */
	atomic_bool ready, stopping;
	atomic_bool hardened; /* the seccomp filter is installed (harden.h) */
};

/* Counters for nrules rules; NULL with errno ENOMEM. */
struct shk_run_metrics *shk_run_metrics_new(uint32_t nrules);
void shk_run_metrics_free(struct shk_run_metrics *m);

/* Single-writer increment: a relaxed load and store. */
static inline void shk_ctr_inc(shk_ctr *c)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

/* What a scrape reads; every pointer but m may be NULL. */
struct shk_metrics_src {
	struct shk_run_metrics *m;
	const struct shk_ruleset *rs; /* rule names and priorities */
	struct shk_sinks *sinks;      /* thread-safe stats */
	struct shk_executor *exec;    /* thread-safe stats */
	const char *state_dir;	      /* quarantines in force; NULL: none */
};

/* The Prometheus text exposition into f. */
void shk_metrics_render(const struct shk_metrics_src *src, FILE *f);
/* Ready (sensors attached, rules loaded) and not stopping. */
bool shk_metrics_healthy(const struct shk_metrics_src *src);

struct shk_metrics_server;

/* Listen on addr ("127.0.0.1:8765"; IPv4 or localhost). src must outlive
 * the server. NULL with errno set and a message in err. */
struct shk_metrics_server *shk_metrics_start(const char *addr, const struct shk_metrics_src *src,
					     char *err, size_t errsz);
/* The port it listens on (useful with port 0). */
int shk_metrics_port(const struct shk_metrics_server *s);
void shk_metrics_stop(struct shk_metrics_server *s);

#endif
