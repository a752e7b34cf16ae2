/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Evaluation plans: the last compile stage. For each event type some rule
 * is indexed for, the rules' conditions are specialised to that type and
 * laid out for the evaluator (eval.c):
 *
 *   - evt.type checks become constants (the type is known), and and/or/not
 *     nodes are folded around them: `open_read` is three field checks for
 *     openat, and a rule's execve branch is gone; a rule that folds to
 *     false is left out, one that folds to true has no conjuncts;
 *   - equal subconditions are one node (hash-consing): a macro body is
 *     shared already (rule_compile.h), and so become the `fd.typechar = f`
 *     of open_read and open_write, or an exception written in two rules;
 *   - the nodes of the type are numbered, in the order a walk first meets
 *     them, in one array; each rule is the list of its top-level conjuncts
 *     (nested ands flattened), and conjuncts and or kids are ordered cheap
 *     first (put_kids() in rule_plan.c says how).
 *
 * The evaluator keeps two bits per node for the event (decided, value), so
 * a node is decided at most once per event, whichever rules share it, and
 * a rule that fails on a conjunct another rule decided costs a bit test.
 * Rules, conjuncts and nodes are small arrays walked in order: no rule
 * struct, root node or hashed memo slot is touched for a rule that fails
 * on a decided conjunct. Conditions have no side effects, so order and
 * sharing do not change any rule's value.
 */
#ifndef SHRIKE_RULE_PLAN_H
#define SHRIKE_RULE_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "rule_compile.h"

/* Nodes per event type, at most: the evaluator's bits live on its stack.
 * A type with more is evaluated from the condition DAGs. */
#define SHK_PLAN_MAX_NODES 8192

struct shk_plan_node {
	uint8_t kind; /* enum shk_fnode_kind */
	uint32_t n;   /* and/or/not: kids are kids[first .. first + n) */
	union {
		uint32_t first;
		const struct shk_check *check; /* SHK_FN_CHECK */
	};
};

struct shk_plan_rule {
	uint32_t id;	/* in the ruleset */
	uint32_t first; /* conjuncts: kids[first .. first + n), all must hold */
	uint32_t n;	/* 0: the rule holds for every event of the type */
};

struct shk_plan {
	uint32_t nrules, nnodes, nkids;
	const struct shk_plan_rule *rules; /* load order */
	const struct shk_plan_node *nodes;
	const uint16_t *kids; /* node indices */
};

struct shk_plans;

/* Build the plans of every event type rs indexes (shk_ruleset_rules_for()).
 * Returns NULL with errno ENOMEM. */
struct shk_plans *shk_plans_build(const struct shk_ruleset *rs);
void shk_plans_free(struct shk_plans *p);
/* The plan for evtype, or NULL: evaluate rs's index the long way. */
const struct shk_plan *shk_plans_get(const struct shk_plans *p, unsigned evtype);

/*
 * Checks that cost many times what the others do: arguments rendered as
 * text (flag names, user names) and regexes. An and/or tries them last,
 * so that a cheap kid usually decides first.
 */
static inline bool shk_check_costly(const struct shk_check *c)
{
	return c->rhs == SHK_RHS_REGEX || c->lhs.id == SHK_FIELD_EVT_ARG ||
	       c->lhs.id == SHK_FIELD_EVT_ARGS || c->lhs.id == SHK_FIELD_EVT_INFO;
}

/*
 * The value of an evt.type check (rhs SHK_RHS_EVTYPES) for an event of
 * evtype. procexit is no syscall: its syscall.type is <NA>, and every
 * check on it is false.
 */
static inline bool shk_check_evtype(const struct shk_check *c, bool is_exit, unsigned evtype)
{
	bool has;

	if (c->lhs.id == SHK_FIELD_SYSCALL_TYPE && is_exit)
		return false;
	has = shk_evtset_has(c->evtypes, evtype);
	return c->op == SHK_OP_NE ? !has : has;
}

#endif /* SHRIKE_RULE_PLAN_H */
