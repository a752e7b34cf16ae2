/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The response plan: for every compiled rule, the actions to take on a
 * match and the mode of each, resolved once at load time from the rule's
 * own `actions`/`mode`, the `- response:` items that match it, the file's
 * `- policy:` defaults and the command line (DESIGN.md section 2).
 *
 * Mode precedence, highest first: --dry-run (audit everywhere), the rule's
 * mode, the response's mode, the `policy` of the file that declared the
 * action, the configured default; audit when none says otherwise.
 */
#ifndef SHRIKE_PLAN_H
#define SHRIKE_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "rule_compile.h"
#include "rule_loader.h"

enum shk_act {
	SHK_ACT_DENY,
	SHK_ACT_KILL,
	SHK_ACT_FREEZE,
	SHK_ACT_ISOLATE,
	SHK_ACT_QUARANTINE,
	SHK_ACT_EXEC,
	SHK_ACT__COUNT
};

enum shk_scope {
	SHK_SCOPE_NONE, /* deny, exec */
	SHK_SCOPE_PROCESS,
	SHK_SCOPE_PROCESS_TREE,
	SHK_SCOPE_CONTAINER,
	SHK_SCOPE_POD,
	SHK_SCOPE__COUNT
};

struct shk_planned {
	enum shk_act act;
	enum shk_scope scope;
	enum shk_mode mode;     /* resolved: SHK_MODE_AUDIT or SHK_MODE_ENFORCE */
	const char *cmd;        /* exec: the command */
	const char **allow;     /* isolate: CIDRs still reachable */
	uint32_t nallow;
	const char *from;       /* "rule" or the response's name */
	bool deny_fallback;     /* deny carried out as kill: process */
	/* deny, kill: process: compiled to the kernel policy, which acts at
	 * the event and reports a verdict (respond/kpolicy.h) */
	bool in_kernel;
	struct shk_loc loc;     /* where the action was written */
};

struct shk_rule_plan {
	struct shk_planned *v;
	uint32_t n;
};

struct shk_plan_opts {
	bool dry_run;              /* --dry-run: every action is audit */
	bool strict;               /* a deny that cannot be kernel-enforced is an error */
	enum shk_mode default_mode; /* from the config; UNSET: audit */
};

struct shk_plan {
	struct shk_rule_plan *rules; /* indexed by shk_rule.id */
	uint32_t nrules;
	/* protect lists from every `policy` item: values per field */
	const struct shk_protect **protect;
	uint32_t nprotect;
	uint32_t nactions, nenforce;
	/* from `rate_limit: {per_rule: N, global: M}` in a policy item (the
	 * last one loaded wins); 0: the executor's defaults */
	uint32_t rate_per_rule; /* actions per rule per minute */
	uint32_t rate_global;   /* actions per second before the breaker trips */
};

/*
 * Build the plan for rs. Errors and warnings (with their file:line:col) go
 * to diags. Returns the plan, or NULL with errno (ENOMEM); a plan is also
 * returned when diags holds errors, and the caller must not run it.
 */
struct shk_plan *shk_plan_build(const struct shk_ruleset *rs, const struct shk_plan_opts *opts,
				struct shk_diags *diags);
void shk_plan_free(struct shk_plan *p);
const struct shk_rule_plan *shk_plan_for(const struct shk_plan *p, uint32_t rule_id);

const char *shk_act_name(enum shk_act a);
const char *shk_scope_name(enum shk_scope s);

#endif
