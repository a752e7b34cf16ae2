/* SPDX-License-Identifier: Apache-2.0 */
#include "drops.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "output.h"

void drops_watch_init(struct drops_watch *w, const struct drops_counts *now, uint64_t now_ns,
		      uint64_t interval_ns)
{
	*w = (struct drops_watch){ .base = *now, .base_ns = now_ns, .interval_ns = interval_ns };
}

/* A counter that went backwards (the sensors were reloaded) restarts from
 * zero: its new value is all new. */
static uint64_t delta(uint64_t now, uint64_t base)
{
	return now >= base ? now - base : now;
}

bool drops_watch_check(struct drops_watch *w, const struct drops_counts *now, uint64_t now_ns,
		       struct drops_report *ret)
{
	struct drops_counts d = {
		.emitted = delta(now->emitted, w->base.emitted),
		.drops = delta(now->drops, w->base.drops),
		.oversize = delta(now->oversize, w->base.oversize),
	};

	if (!d.drops && !d.oversize) {
		/* nothing lost (nor held back): the next span starts here */
		w->base = *now;
		w->base_ns = now_ns;
		return false;
	}
	if (w->last_alert_ns && now_ns - w->last_alert_ns < w->interval_ns) {
		w->held++;
		return false;
	}
	ret->delta = d;
	ret->total = *now;
	ret->span_ns = now_ns - w->base_ns;
	w->base = *now;
	w->base_ns = now_ns;
	w->last_alert_ns = now_ns ? now_ns : 1;
	w->alerts++;
	return true;
}

void drops_alert_text(const struct drops_report *r, char *buf, size_t size)
{
	uint64_t ms = r->span_ns / 1000000;

	snprintf(buf, size,
		 DROPS_RULE ". %" PRIu64 " events dropped in the last %" PRIu64 ".%03" PRIu64
		 " s (ring buffer full %" PRIu64 ", oversize %" PRIu64 "; %" PRIu64
		 " since start); rules may have missed them: raise ringbuf_mb or capture less",
		 r->delta.drops + r->delta.oversize, ms / 1000, ms % 1000, r->delta.drops,
		 r->delta.oversize, r->total.drops + r->total.oversize);
}

static void kcount(struct jw *w, const char *k, uint64_t v)
{
	char s[24];

	/* strings, as Falco's output_fields carry them */
	snprintf(s, sizeof(s), "%" PRIu64, v);
	jw_kstr(w, k, s);
}

void internal_alert_time(uint64_t epoch_ns, char *buf, size_t size)
{
	time_t sec = (time_t)(epoch_ns / 1000000000ull);
	struct tm tm;

	gmtime_r(&sec, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%09" PRIu64 "Z", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (uint64_t)(epoch_ns % 1000000000ull));
}

int drops_alert_json(struct jw *w, const struct drops_report *r, const char *hostname,
		     uint64_t epoch_ns)
{
	char text[512], ts[64];

	drops_alert_text(r, text, sizeof(text));
	internal_alert_time(epoch_ns, ts, sizeof(ts));
	jw_obj_begin(w);
	jw_kstr(w, "hostname", hostname ? hostname : "");
	jw_kstr(w, "output", text);
	jw_key(w, "output_fields");
	jw_obj_begin(w);
	/* Falco's names: n_evts counts the lost records too */
	kcount(w, "n_evts", r->delta.emitted + r->delta.drops + r->delta.oversize);
	kcount(w, "n_drops", r->delta.drops + r->delta.oversize);
	kcount(w, "n_drops_buffer_total", r->delta.drops);
	/* shrike's own */
	kcount(w, "n_drops_oversize", r->delta.oversize);
	kcount(w, "n_drops_total", r->total.drops + r->total.oversize);
	kcount(w, "interval_ms", r->span_ns / 1000000);
	kcount(w, "ebpf_enabled", 1);
	jw_obj_end(w);
	/* Falco says Debug; a blinded agent is what an attacker flooding it
	 * wants (CVE-2019-8339), so it passes every usual priority filter */
	jw_kstr(w, "priority", shk_priority_alert_name(SHK_PRIO_CRITICAL));
	jw_kstr(w, "rule", DROPS_RULE);
	jw_kstr(w, "source", "internal");
	jw_key(w, "tags");
	jw_arr_begin(w);
	jw_str(w, "shrike_internal");
	jw_arr_end(w);
	jw_kstr(w, "time", ts);
	jw_key(w, "response");
	jw_arr_begin(w);
	jw_arr_end(w);
	jw_obj_end(w);
	return w->oom ? -ENOMEM : 0;
}
