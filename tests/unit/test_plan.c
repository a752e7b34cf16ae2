/* SPDX-License-Identifier: Apache-2.0 */
/* Response planner: actions, scopes, response matching, mode precedence
 * and every validation error with its location. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "plan.h"
#include "rule_compile.h"
#include "rule_loader.h"

struct built {
	struct shk_ruleset *rs;
	struct shk_plan *plan;
	struct shk_diags diags;
};

/* Load named buffers in order, compile, plan. */
static void build(struct built *b, const struct shk_plan_opts *o, const char *name1,
		  const char *yaml1, const char *name2, const char *yaml2)
{
	struct shk_loader *ld = shk_loader_new();

	assert_non_null(ld);
	shk_loader_load_buffer(ld, name1, yaml1, strlen(yaml1));
	if (name2)
		shk_loader_load_buffer(ld, name2, yaml2, strlen(yaml2));
	b->rs = shk_ruleset_compile(ld);
	assert_non_null(b->rs);
	assert_int_equal(shk_ruleset_diags(b->rs)->nerrors, 0);
	shk_diags_init(&b->diags);
	b->plan = shk_plan_build(b->rs, o, &b->diags);
	assert_non_null(b->plan);
}

static void unbuild(struct built *b)
{
	shk_plan_free(b->plan);
	shk_ruleset_free(b->rs);
	shk_diags_clear(&b->diags);
}

static const struct shk_rule_plan *plan_of(struct built *b, const char *rule)
{
	const struct shk_rule *r = shk_ruleset_find(b->rs, rule);

	assert_non_null(r);
	return shk_plan_for(b->plan, r->id);
}

/* The first diagnostic of level, formatted, or "" */
static const char *diag(struct built *b, enum shk_diag_level level)
{
	static char buf[1024];

	buf[0] = '\0';
	for (size_t i = 0; i < b->diags.n; i++)
		if (b->diags.v[i].level == level) {
			shk_diag_format(&b->diags.v[i], buf, sizeof(buf));
			break;
		}
	return buf;
}

#define RULE(name, extra)                                                                \
	"- rule: " name "\n  desc: d\n  condition: evt.type = execve and proc.name = x\n" \
	"  output: o\n  priority: CRITICAL\n  tags: [container, shell]\n" extra

static const struct shk_plan_opts defaults = { 0 };

static void test_actions_and_scopes(void **state)
{
	struct built b;

	build(&b, &defaults, "p.yaml",
	      RULE("R", "  actions: [kill, {kill: process_tree}, {freeze: container},\n"
			"            {isolate: {scope: pod, allow: [10.0.0.5/32]}}, {quarantine: pod},\n"
			"            {exec: \"/usr/bin/logger hi\"}]\n"),
	      NULL, NULL);
	const struct shk_rule_plan *p = plan_of(&b, "R");

	assert_int_equal(b.diags.nerrors, 0);
	assert_int_equal(p->n, 6);
	assert_int_equal(p->v[0].act, SHK_ACT_KILL);
	assert_int_equal(p->v[0].scope, SHK_SCOPE_PROCESS);
	assert_int_equal(p->v[1].scope, SHK_SCOPE_PROCESS_TREE);
	assert_int_equal(p->v[2].act, SHK_ACT_FREEZE);
	assert_int_equal(p->v[2].scope, SHK_SCOPE_CONTAINER);
	assert_int_equal(p->v[3].act, SHK_ACT_ISOLATE);
	assert_int_equal(p->v[3].scope, SHK_SCOPE_POD);
	assert_int_equal(p->v[3].nallow, 1);
	assert_string_equal(p->v[3].allow[0], "10.0.0.5/32");
	assert_int_equal(p->v[4].act, SHK_ACT_QUARANTINE);
	assert_string_equal(p->v[5].cmd, "/usr/bin/logger hi");
	for (uint32_t i = 0; i < p->n; i++) {
		assert_int_equal(p->v[i].mode, SHK_MODE_AUDIT); /* nothing said enforce */
		assert_string_equal(p->v[i].from, "rule");
	}
	unbuild(&b);
}

static void test_mode_precedence(void **state)
{
	struct built b;
	struct shk_plan_opts o = { .default_mode = SHK_MODE_ENFORCE };
	static const char pol[] =
		"- policy: defaults\n  mode: audit\n"
		RULE("RuleMode", "  actions: [kill]\n  mode: enforce\n")
		RULE("FileMode", "  actions: [kill]\n")
		"- response: q\n  match: {rule: RuleMode}\n  actions: [{freeze: container}]\n  mode: audit\n"
		"- response: q2\n  match: {rule: FileMode}\n  actions: [{freeze: container}]\n  mode: enforce\n";
	static const char cfg[] = RULE("ConfigMode", "  actions: [kill]\n");

	build(&b, &o, "a.yaml", pol, "b.yaml", cfg);
	assert_int_equal(b.diags.nerrors, 0);
	/* the rule's mode wins over the response's and the file's */
	assert_int_equal(plan_of(&b, "RuleMode")->v[0].mode, SHK_MODE_ENFORCE);
	assert_int_equal(plan_of(&b, "RuleMode")->v[1].mode, SHK_MODE_ENFORCE);
	/* no rule mode: the file policy for the rule's own action ... */
	assert_int_equal(plan_of(&b, "FileMode")->v[0].mode, SHK_MODE_AUDIT);
	/* ... and the response's mode for the response's action */
	assert_int_equal(plan_of(&b, "FileMode")->v[1].mode, SHK_MODE_ENFORCE);
	assert_string_equal(plan_of(&b, "FileMode")->v[1].from, "q2");
	/* another file without policy: the configured default */
	assert_int_equal(plan_of(&b, "ConfigMode")->v[0].mode, SHK_MODE_ENFORCE);
	unbuild(&b);

	/* --dry-run forces audit everywhere */
	o.dry_run = true;
	build(&b, &o, "a.yaml", pol, "b.yaml", cfg);
	for (uint32_t r = 0; r < b.rs->nrules; r++)
		for (uint32_t i = 0; i < b.plan->rules[r].n; i++)
			assert_int_equal(b.plan->rules[r].v[i].mode, SHK_MODE_AUDIT);
	assert_int_equal(b.plan->nenforce, 0);
	unbuild(&b);
}

static void test_response_matching(void **state)
{
	struct built b;
	static const char yaml[] =
		RULE("Shell in container", "")
		"- rule: Low\n  desc: d\n  condition: evt.type = execve\n  output: o\n"
		"  priority: NOTICE\n  tags: [container]\n"
		"- response: by glob\n  match: {rule: \"Shell*\"}\n  actions: [{exec: a}]\n"
		"- response: by tags\n  match: {tags: [container, shell]}\n  actions: [{exec: b}]\n"
		"- response: by priority\n  match: {priority: ERROR}\n  actions: [{exec: c}]\n"
		"- response: no match\n  match: {tags: [container, absent]}\n  actions: [{exec: d}]\n";

	build(&b, &defaults, "r.yaml", yaml, NULL, NULL);
	const struct shk_rule_plan *hi = plan_of(&b, "Shell in container"), *lo = plan_of(&b, "Low");

	assert_int_equal(b.diags.nerrors, 0);
	assert_int_equal(hi->n, 3);
	assert_string_equal(hi->v[0].cmd, "a");
	assert_string_equal(hi->v[1].cmd, "b");
	assert_string_equal(hi->v[2].cmd, "c"); /* CRITICAL is at least ERROR */
	assert_int_equal(lo->n, 0);		 /* NOTICE is below ERROR; tags incomplete */
	unbuild(&b);
}

static void expect_error(const char *yaml, bool strict, const char *msg, const char *where)
{
	struct built b;
	struct shk_plan_opts o = { .strict = strict };

	build(&b, &o, "bad.yaml", yaml, NULL, NULL);
	assert_true(b.diags.nerrors >= 1);
	if (!strstr(diag(&b, SHK_DIAG_ERROR), msg) || !strstr(diag(&b, SHK_DIAG_ERROR), where))
		fail_msg("got '%s', want '%s' at '%s'", diag(&b, SHK_DIAG_ERROR), msg, where);
	unbuild(&b);
}

static void test_errors_are_located(void **state)
{
	expect_error(RULE("R", "  actions: [explode]\n"), false, "unknown action 'explode'",
		     "bad.yaml:7:");
	expect_error(RULE("R", "  actions: [{freeze: process_tree}]\n"), false,
		     "invalid scope 'process_tree' for freeze", "bad.yaml:7:");
	expect_error(RULE("R", "  actions: [{quarantine: process}]\n"), false,
		     "invalid scope 'process' for quarantine", "bad.yaml:7:");
	expect_error(RULE("R", "  actions: [freeze]\n"), false, "freeze needs a scope", "bad.yaml:7:");
	expect_error(RULE("R", "  actions: [{exec: \"\"}]\n"), false, "exec needs a command",
		     "bad.yaml:7:");
	expect_error(RULE("R", "  actions: [{deny: process}]\n"), false, "deny takes no argument",
		     "bad.yaml:7:");
	expect_error(RULE("R", "") "- response: everything\n  match: {}\n  actions: [kill]\n", false,
		     "empty match", "bad.yaml:7:");
	expect_error(RULE("R", "  actions: [{isolate: {scope: container, allow: 10.0.0.1}}]\n"),
		     false, "allow: a list of CIDRs", "bad.yaml:7:");
}

static void test_deny_planned_as_fallback(void **state)
{
	/* the planner leaves the kernel/fallback decision (and its
	 * diagnostics) to the kernel policy compiler: see test_kpolicy.c */
	struct built b;
	struct shk_plan_opts strict = { .strict = true };

	build(&b, &strict, "d.yaml", RULE("R", "  actions: [deny]\n"), NULL, NULL);
	assert_int_equal(b.diags.nerrors, 0);
	assert_int_equal(b.diags.nwarnings, 0);
	assert_int_equal(plan_of(&b, "R")->v[0].act, SHK_ACT_DENY);
	assert_true(plan_of(&b, "R")->v[0].deny_fallback);
	unbuild(&b);
}

static void test_rate_limits(void **state)
{
	struct built b;

	build(&b, &defaults, "p.yaml",
	      "- policy: defaults\n  rate_limit: {per_rule: 600, global: 20}\n" RULE("R", ""), NULL,
	      NULL);
	assert_int_equal(b.diags.nerrors, 0);
	assert_int_equal(b.plan->rate_per_rule, 600);
	assert_int_equal(b.plan->rate_global, 20);
	unbuild(&b);
	build(&b, &defaults, "p.yaml",
	      "- policy: defaults\n  rate_limit: {per_rule: lots, burst: 3}\n" RULE("R", ""), NULL,
	      NULL);
	assert_int_equal(b.diags.nerrors, 2);
	assert_non_null(strstr(diag(&b, SHK_DIAG_ERROR), "p.yaml:2:"));
	assert_int_equal(b.plan->rate_per_rule, 0);
	unbuild(&b);
}

static void test_protect_lists_collected(void **state)
{
	struct built b;

	build(&b, &defaults, "p.yaml",
	      "- policy: defaults\n  protect: {proc.name: [kubelet, sshd]}\n" RULE("R", ""), NULL,
	      NULL);
	assert_int_equal(b.plan->nprotect, 1);
	assert_string_equal(b.plan->protect[0]->field, "proc.name");
	assert_int_equal(b.plan->protect[0]->nvalues, 2);
	assert_string_equal(b.plan->protect[0]->values[1], "sshd");
	unbuild(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_actions_and_scopes),
		cmocka_unit_test(test_mode_precedence),
		cmocka_unit_test(test_response_matching),
		cmocka_unit_test(test_errors_are_located),
		cmocka_unit_test(test_deny_planned_as_fallback),
		cmocka_unit_test(test_protect_lists_collected),
		cmocka_unit_test(test_rate_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
