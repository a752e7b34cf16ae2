/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Drop alerts: when the kernel loses records (ring buffer full, oversize),
 * `shrike run` raises an internal alert through the outputs, shaped like
 * Falco's "Falco internal: syscall event drop" (source "internal", the
 * counts as strings in output_fields), so a loss is never visible only in
 * a log line.
 *
 * Rate limit as Falco's default (one alert per 30 s, a burst of one): the
 * first loss alerts at once, later ones wait for the interval, and what
 * they lost is carried into the next alert, so the alerts' n_drops add up
 * to the kernel's counter.
 */
#ifndef SHRIKE_DROPS_H
#define SHRIKE_DROPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jsonw.h"

#define DROPS_RULE "shrike internal: events dropped"
#define DROPS_INTERVAL_NS (30ull * 1000000000ull)

/* The sensors' cumulative counters. */
struct drops_counts {
	uint64_t emitted;  /* records written to the ring buffer */
	uint64_t drops;    /* ring buffer full */
	uint64_t oversize; /* too big for a record */
};

struct drops_watch {
	struct drops_counts base; /* at the last alert (or the start) */
	uint64_t base_ns;	  /* when base was taken */
	uint64_t last_alert_ns;	  /* 0: no alert yet */
	uint64_t interval_ns;
	uint64_t alerts; /* alerts raised */
	uint64_t held;	 /* checks that saw a loss but waited for the interval */
};

struct drops_report {
	struct drops_counts delta; /* since the previous alert */
	struct drops_counts total; /* since start */
	uint64_t span_ns;	   /* what delta covers */
};

void drops_watch_init(struct drops_watch *w, const struct drops_counts *now, uint64_t now_ns,
		      uint64_t interval_ns);
/* Feed the counters (monotonic now_ns). True when an alert is due, with
 * ret filled; the counts then start again from now. */
bool drops_watch_check(struct drops_watch *w, const struct drops_counts *now, uint64_t now_ns,
		       struct drops_report *ret);

/* The alert line ("shrike internal: events dropped. ..."). */
void drops_alert_text(const struct drops_report *r, char *buf, size_t size);
/* An alert's "time" (Falco's: ISO 8601 UTC with nanoseconds) of epoch_ns,
 * for shrike's own alerts. */
void internal_alert_time(uint64_t epoch_ns, char *buf, size_t size);
/* The alert in Falco's JSON schema (plus an empty "response"); epoch_ns
 * is its time. Returns 0 or -ENOMEM. */
int drops_alert_json(struct jw *w, const struct drops_report *r, const char *hostname,
		     uint64_t epoch_ns);

#endif
