/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every example in examples/ loads, compiles and plans without an error,
 * beside the rules it is written for, and binds the actions its README
 * describes. Example 4/3/5 need the upstream Falco rules (skipped without).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "kpolicy.h"
#include "plan.h"
#include "rule_compile.h"
#include "rule_loader.h"
#include "testlib.h"

struct ex {
	struct shk_ruleset *rs;
	struct shk_plan *plan;
};

static void load(struct ex *e, const char *base, const char *example)
{
	const char *src = test_env("SHRIKE_SOURCE");
	struct shk_loader *ld = shk_loader_new();
	struct shk_plan_opts o = { 0 };
	struct shk_diags dg;
	char path[1024];

	assert_non_null(ld);
	assert_int_equal(shk_loader_load_file(ld, base), 0);
	snprintf(path, sizeof(path), "%s/examples/%s/policy.yaml", src, example);
	assert_int_equal(shk_loader_load_file(ld, path), 0);
	e->rs = shk_ruleset_compile(ld);
	assert_non_null(e->rs);
	assert_int_equal(shk_ruleset_diags(e->rs)->nerrors, 0);
	shk_diags_init(&dg);
	e->plan = shk_plan_build(e->rs, &o, &dg);
	assert_non_null(e->plan);
	assert_int_equal(dg.nerrors, 0);
	shk_diags_clear(&dg);
}

static void unload(struct ex *e)
{
	shk_plan_free(e->plan);
	shk_ruleset_free(e->rs);
}

static const struct shk_planned *first_action(struct ex *e, const char *rule)
{
	const struct shk_rule *r = shk_ruleset_find(e->rs, rule);
	const struct shk_rule_plan *p;

	assert_non_null(r);
	p = shk_plan_for(e->plan, r->id);
	assert_true(p && p->n > 0);
	return &p->v[0];
}

static const char *ours(void)
{
	static char path[1024];

	snprintf(path, sizeof(path), "%s/rules/shrike_rules.yaml", test_env("SHRIKE_SOURCE"));
	return path;
}

static const char *upstream(void)
{
	static char path[1024];

	snprintf(path, sizeof(path), "%s/falco_rules.yaml", test_env("SHRIKE_FALCO_RULES"));
	if (access(path, R_OK))
		skip();
	return path;
}

static void test_01_reverse_shells(void **state)
{
	struct ex e;
	const struct shk_planned *a;

	load(&e, ours(), "01-block-reverse-shells");
	a = first_action(&e, "Reverse shell");
	assert_int_equal(a->act, SHK_ACT_KILL);
	assert_int_equal(a->scope, SHK_SCOPE_PROCESS_TREE);
	assert_int_equal(a->mode, SHK_MODE_ENFORCE);
	assert_int_equal(first_action(&e, "Netcat or socat with command execution")->act, SHK_ACT_KILL);
	unload(&e);
}

static void test_02_miners(void **state)
{
	struct ex e;

	load(&e, ours(), "02-block-miners");
	assert_int_equal(first_action(&e, "Crypto miner started")->mode, SHK_MODE_ENFORCE);
	assert_int_equal(first_action(&e, "Mining pool protocol in arguments")->scope,
			 SHK_SCOPE_PROCESS_TREE);
	assert_int_equal(first_action(&e, "Connection to a mining pool port")->mode, SHK_MODE_AUDIT);
	unload(&e);
}

static void test_03_quarantine_pods(void **state)
{
	struct ex e;
	const struct shk_planned *a;

	load(&e, upstream(), "03-quarantine-pods");
	/* a CRITICAL upstream rule tagged container */
	a = first_action(&e, "Fileless execution via memfd_create");
	assert_int_equal(a->act, SHK_ACT_QUARANTINE);
	assert_int_equal(a->scope, SHK_SCOPE_POD);
	assert_int_equal(a->mode, SHK_MODE_ENFORCE);
	assert_int_equal(e.plan->rate_per_rule, 10);
	unload(&e);
}

static void test_04_dry_run_upstream(void **state)
{
	struct ex e;
	uint32_t bound = 0;

	load(&e, upstream(), "04-dry-run-upstream");
	for (uint32_t i = 0; i < e.rs->nrules; i++) {
		const struct shk_rule_plan *p = shk_plan_for(e.plan, i);

		/* every rule at WARNING or above has the kill, none below */
		assert_int_equal(p->n > 0, e.rs->rules[i].priority <= SHK_PRIO_WARNING);
		bound += p->n > 0;
	}
	assert_true(bound > 10);
	unload(&e);
}

static void test_05_own_rule(void **state)
{
	struct ex e;
	const struct shk_rule *r;
	const struct shk_rule_plan *p;

	load(&e, upstream(), "05-own-rule-with-exceptions");
	r = shk_ruleset_find(e.rs, "Web server spawned a shell");
	assert_non_null(r);
	p = shk_plan_for(e.plan, r->id);
	assert_int_equal(p->n, 2);
	assert_int_equal(p->v[0].act, SHK_ACT_KILL);
	assert_int_equal(p->v[1].act, SHK_ACT_EXEC);
	/* the override replaced the upstream macro's body */
	assert_non_null(strstr(shk_loader_find_macro(e.rs->loader, "user_known_read_sensitive_files_activities",
						     strlen("user_known_read_sensitive_files_activities"))
				       ->cond.s,
			       "backup-agent"));
	unload(&e);
}

static void test_06_deny_in_the_kernel(void **state)
{
	static const char *const kernel[] = { "Exec from a world-writable directory",
					      "Shadow file read by non-root", "Mining pool port",
					      "Stratum URL in arguments" };
	struct shk_diags dg;
	struct shk_kpolicy *kp;
	struct ex e;
	const struct shk_rule *r;
	const struct shk_kp_rule *k;

	load(&e, ours(), "06-deny-in-the-kernel");
	shk_diags_init(&dg);
	kp = shk_kpolicy_compile(e.rs, e.plan, false, &dg, NULL);
	assert_non_null(kp);
	for (size_t i = 0; i < sizeof(kernel) / sizeof(kernel[0]); i++) {
		r = shk_ruleset_find(e.rs, kernel[i]);
		assert_non_null(r);
		k = shk_kpolicy_rule(kp, r->id);
		if (k->status != SHK_KPS_KERNEL)
			fail_msg("%s: %s", kernel[i], k->reason);
		/* audit first: the file's default */
		assert_int_equal(first_action(&e, kernel[i])->mode, SHK_MODE_AUDIT);
	}
	/* the one the README shows falling back, with its reason */
	r = shk_ruleset_find(e.rs, "Web server starts a shell");
	assert_non_null(r);
	k = shk_kpolicy_rule(kp, r->id);
	assert_int_equal(k->status, SHK_KPS_FALLBACK);
	assert_non_null(strstr(k->reason, "proc.pcmdline"));
	assert_int_equal(dg.nwarnings, 1);
	shk_diags_clear(&dg);
	shk_kpolicy_free(kp);
	unload(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_01_reverse_shells), cmocka_unit_test(test_02_miners),
		cmocka_unit_test(test_03_quarantine_pods), cmocka_unit_test(test_04_dry_run_upstream),
		cmocka_unit_test(test_05_own_rule),	    cmocka_unit_test(test_06_deny_in_the_kernel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
