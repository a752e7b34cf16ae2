/* SPDX-License-Identifier: Apache-2.0 */
/* Formatting of decoded events for `shrike trace`: one line of text or one
 * JSON object per event. */
#ifndef SHRIKE_TRACE_PRINT_H
#define SHRIKE_TRACE_PRINT_H

#include <stdbool.h>
#include <stdint.h>
#include "event.h"
#include "jsonw.h"

/* What the process table adds to an event (fields may be NULL). */
struct trace_proc {
	const char *exe;   /* the process's current image */
	const char *pname; /* parent's comm */
	const char *user;  /* user name, resolved in the process's own root */
};

struct trace_fmt {
	int64_t boot_to_real_ns; /* add to CLOCK_BOOTTIME to get wall time */
	const char *const *env_names; /* env vars to show; NULL-terminated */
	bool env_all;
};

/* Name of the event for filters and output: "exec", "fork", "exit" or the
 * syscall's name. */
const char *trace_event_name(const struct shk_event *ev);

void trace_print_json(struct jw *w, const struct trace_fmt *fmt, const struct shk_event *ev,
		      const struct trace_proc *proc);
void trace_print_text(struct jw *w, const struct trace_fmt *fmt, const struct shk_event *ev,
		      const struct trace_proc *proc);

#endif
