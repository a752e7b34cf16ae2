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

struct shk_counters;
struct shk_executor;
struct shk_outcome;

typedef atomic_uint_fast64_t shk_ctr;

/*
 * Kernel losses per CPU: the CPUs past SHK_METRICS_CPUS are summed in one
 * more slot (rendered cpu="other"), so that no loss is left out of the
 * per-CPU series.
 */
#define SHK_METRICS_CPUS 1024
enum shk_lost_reason { SHK_LOST_RINGBUF, SHK_LOST_OVERSIZE, SHK_LOST__COUNT };

/* Finite action latency buckets (their bounds are in metrics.c); one
 * more holds what is past the last bound (+Inf). */
#define SHK_LATENCY_BUCKETS 13

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
	/* per CPU, published by the event loop thread */
	shk_ctr cpu_lost[SHK_LOST__COUNT][SHK_METRICS_CPUS + 1];
	atomic_uint ncpus; /* CPUs published; 0: none yet */
	/* action latency histograms, written by the executor's done callback:
	 * per bucket, not cumulative (the last one is +Inf), and the sum */
	shk_ctr latency[SHK_ACT__COUNT][2][SHK_LATENCY_BUCKETS + 1]; /* action, audit/enforce */
	shk_ctr latency_sum_us[SHK_ACT__COUNT][2];
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

/* The event loop's snapshot of the kernel counters of ncpus CPUs (per[i]
 * is CPU i, as shk_sensor_stats_cpu() returns them). */
void shk_run_metrics_publish_cpu(struct shk_run_metrics *m, const struct shk_counters *per,
				 unsigned ncpus);

/*
 * One finished action into the latency histogram of its action and mode
 * (the done callback's thread). Done and failed outcomes count, and
 * "would" ones (audit mode: the time until the action would have been
 * taken); refusals (safety, rate limit, circuit breaker) do not, since
 * nothing was attempted.
 */
void shk_run_metrics_observe_action(struct shk_run_metrics *m, const struct shk_outcome *o);

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
