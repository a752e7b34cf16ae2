/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `shrike run`'s kernel enforcement: compile the deny rules, pick the
 * backend, install the policy, and read verdicts back from the records.
 */
#ifndef SHRIKE_CMD_ENFORCE_H
#define SHRIKE_CMD_ENFORCE_H

#include <stdbool.h>
#include <stdint.h>

#include "enforcer.h"
#include "jsonw.h"
#include "kpolicy.h"

struct enforce {
	struct shk_kpolicy *kp;
	struct shk_enforcer *e;
	enum shk_enforcer_mode mode;
	uint64_t verdicts;   /* records that carried a verdict */
	uint64_t stale;      /* verdicts of another policy generation */
	uint64_t unmatched;  /* verdicts whose rule the engine did not match */
};

/* Compile rs's deny rules and settle each deny action of plan (kernel or
 * fallback); diagnostics go to stderr. -EINVAL when strict refuses a
 * fallback, -ENOMEM. */
int enforce_compile(struct enforce *en, const struct shk_ruleset *rs, struct shk_plan *plan,
		    bool strict);

/* Probe the backend (one line on stderr says which and why) and install
 * the compiled policy. 0 or -errno after an error message. */
int enforce_start(struct enforce *en, struct shk_sensor *s);

void enforce_free(struct enforce *en);

/* The verdict an event carries: the shk_rule id it is about (or -1), with
 * *ret_kv set. */
int64_t enforce_verdict(struct enforce *en, const struct shk_event *ev,
			const struct shk_kverdict **ret_kv);

/* "lsm", "signal", or "none" (no deny rule compiled to the kernel). */
const char *enforce_backend(const struct enforce *en);

void enforce_status_json(const struct enforce *en, struct jw *w);

#endif
