/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The evaluator: a compiled condition (rule_compile.h) against one event
 * (extract.h), with Falco's semantics:
 *
 *   - a check on an unavailable field is false, whatever the operator
 *     (so `not proc.pname in (...)` is true when the parent is unknown);
 *   - a list value (bare proc.aname: every ancestor) satisfies an operator
 *     when any of its items does;
 *   - fd.ip, fd.net, fd.port and fd.proto stand for either end of the
 *     connection: `=` and `in` hold when one end matches, `!=` when
 *     neither does;
 *   - addresses compare with networks by CIDR containment; numbers as
 *     signed or unsigned per the field's type; strings byte-wise (icontains
 *     and iglob ignore ASCII case).
 *
 * Nothing on this path compares field names: checks switch on field ids,
 * `in` looks up hash sets, globs and regexes were compiled with the rule.
 */
#ifndef SHRIKE_EVAL_H
#define SHRIKE_EVAL_H

#include <stdbool.h>

#include "extract.h"
#include "rule_compile.h"

/* Falco's rule_matching: stop at the first matching rule, or report all. */
enum shk_rule_matching {
	SHK_MATCH_FIRST,
	SHK_MATCH_ALL,
};

bool shk_eval_check(const struct shk_check *c, struct shk_evalctx *ctx);
bool shk_eval_filter(const struct shk_fnode *n, struct shk_evalctx *ctx);

/* Called for each matching rule; a negative return stops the evaluation
 * and is returned by shk_eval_event(). */
typedef int (*shk_match_fn)(const struct shk_rule *rule, struct shk_evalctx *ctx, void *data);

/*
 * Evaluate the rules indexed for ctx->ev's event type, in load order (as
 * Falco), calling cb (may be NULL) for each match. Starts a new event on
 * ctx (shk_evalctx_begin()); the callback may extract fields and format
 * output from the same context. Returns the number of matches, or the
 * callback's negative return.
 */
int shk_eval_event(const struct shk_ruleset *rs, struct shk_evalctx *ctx,
		   enum shk_rule_matching matching, shk_match_fn cb, void *data);

#endif /* SHRIKE_EVAL_H */
