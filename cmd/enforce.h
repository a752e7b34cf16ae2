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
	/* after a reload: verdicts of the previous generation still in the
	 * ring buffer map to the new rule set by rule name */
	uint16_t prev_gen;
	int64_t *prev_rule; /* previous kernel rule number - 1 -> shk_rule id, -1 */
	uint32_t nprev;
	enum shk_enforcer_mode mode;
	uint64_t verdicts;   /* records that carried a verdict */
	uint64_t stale;      /* verdicts of another policy generation */
	uint64_t unmatched;  /* verdicts whose rule the engine did not match */
	/* execs the kernel held as possible copies of a denied binary
	 * (SHK_KV_HELD, SHK_KV_WOULD_HOLD): the same bytes, so killed (or
	 * reported "would"); other bytes, so let go; or unreadable, so let
	 * go with a warning */
	uint64_t held_same, held_other, held_failed;
	struct shk_kverdict held_kv; /* the verdict a held exec became */
};

/* Compile rs's deny rules and settle each deny action of plan (kernel or
 * fallback); diagnostics go to stderr. -EINVAL when strict refuses a
 * fallback, -ENOMEM. */
int enforce_compile(struct enforce *en, const struct shk_ruleset *rs, struct shk_plan *plan,
		    bool strict);

/* Before the sensors load: should they carry the LSM hooks? Probes
 * BPF-LSM unless --enforcer signal; with --enforcer lsm and LSM refused,
 * one error line and -ENOTSUP. */
int enforce_probe(struct enforce *en, bool *ret_lsm);

/* Probe the backend (one line on stderr says which and why) and install
 * the compiled policy. 0 or -errno after an error message. */
int enforce_start(struct enforce *en, struct shk_sensor *s);

void enforce_free(struct enforce *en);

/* A reload: compile for rs and plan without touching the running policy;
 * diagnostics to stderr. */
int enforce_prepare(const struct shk_ruleset *rs, struct shk_plan *plan, bool strict,
		    struct shk_kpolicy **ret_kp);
/* Switch the kernel to kp (the running policy stays in force until the new
 * one is complete). old_rs is the rule set of the running policy, new_rs
 * kp's. On success en owns kp; on failure the caller still does. */
int enforce_switch(struct enforce *en, struct shk_kpolicy *kp, const struct shk_ruleset *old_rs,
		   const struct shk_ruleset *new_rs);

/* The verdict an event carries: the shk_rule id it is about (or -1), with
 * *ret_kv set. */
int64_t enforce_verdict(struct enforce *en, const struct shk_event *ev,
			const struct shk_kverdict **ret_kv);

/* "lsm", "signal", or "none" (no deny rule compiled to the kernel). */
const char *enforce_backend(const struct enforce *en);

void enforce_status_json(const struct enforce *en, struct jw *w);

#endif
