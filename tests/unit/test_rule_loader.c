// SPDX-License-Identifier: Apache-2.0
/* Rules file loader: definitions, append/override, policy keys, errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rule_loader.h"
#include "testlib.h"

static char *data_path(const char *name)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s/rules/%s", test_env("SHRIKE_TEST_DATA"), name);
	return buf;
}

static struct shk_loader *load_str(const char *yaml, int want)
{
	struct shk_loader *ld = shk_loader_new();

	assert_non_null(ld);
	assert_int_equal(shk_loader_load_buffer(ld, "t.yaml", yaml, strlen(yaml)), want);
	return ld;
}

/* The diagnostic whose formatted text starts with want must exist. */
static void expect_diag(const struct shk_loader *ld, const char *want)
{
	char buf[1024];

	for (size_t i = 0; i < ld->diags.n; i++) {
		shk_diag_format(&ld->diags.v[i], buf, sizeof(buf));
		if (!strncmp(buf, want, strlen(want)))
			return;
	}
	for (size_t i = 0; i < ld->diags.n; i++) {
		shk_diag_format(&ld->diags.v[i], buf, sizeof(buf));
		print_message("  have: %s\n", buf);
	}
	fail_msg("missing diagnostic: %s", want);
}

static void expect_one_error(const char *yaml, const char *want)
{
	struct shk_loader *ld = load_str(yaml, -EINVAL);

	expect_diag(ld, want);
	assert_int_equal(ld->diags.nerrors, 1);
	shk_loader_free(ld);
}

static void test_base(void **state)
{
	struct shk_loader *ld = shk_loader_new();
	const struct shk_rule_def *r;
	const struct shk_response_def *resp;
	const struct shk_policy_def *pol;

	assert_int_equal(shk_loader_load_file(ld, data_path("base.yaml")), 0);
	assert_int_equal(ld->diags.nerrors, 0);
	assert_int_equal(ld->diags.nwarnings, 0);
	assert_int_equal(ld->nlists, 2);
	assert_int_equal(ld->nmacros, 2);
	assert_int_equal(ld->nrules, 2);
	assert_string_equal(ld->required_engine_version, "0.50.0");
	assert_int_equal(ld->nplugins, 1);
	assert_string_equal(ld->plugins[0].name, "container");

	assert_int_equal(shk_loader_find_list(ld, "all_shells", 10)->nitems, 3);
	assert_string_equal(shk_loader_find_list(ld, "all_shells", 10)->items[2]->str,
			    "runc:[0:PARENT]");
	r = shk_loader_find_rule(ld, "Shell in container", 18);
	assert_non_null(r);
	assert_int_equal(r->loc.line, 20);
	assert_int_equal(r->loc.col, 3);
	assert_string_equal(r->cond.s, "spawned_process and container and proc.name in (all_shells)\n");
	assert_string_equal(r->output.s, "Shell (user=%user.name cmd=%proc.cmdline)");
	assert_string_equal(r->desc.s, "A shell started in a container");
	assert_int_equal(r->priority, SHK_PRIO_WARNING);
	assert_true(r->enabled);
	assert_true(r->known_source);
	assert_string_equal(r->source, "syscall");
	/* tags are a set, sorted as Falco's std::set */
	assert_int_equal(r->ntags, 3);
	assert_string_equal(r->tags[0], "container");
	assert_string_equal(r->tags[1], "mitre_execution");
	assert_string_equal(r->tags[2], "shell");
	/* shrike keys, kept uninterpreted */
	assert_int_equal(r->nactions, 3);
	assert_string_equal(r->actions[0].name, "deny");
	assert_null(r->actions[0].arg);
	assert_string_equal(r->actions[1].name, "kill");
	assert_string_equal(r->actions[1].arg, "process_tree");
	assert_string_equal(r->actions[2].name, "exec");
	assert_string_equal(r->actions[2].arg, "logger shrike");
	assert_int_equal(r->actions[1].loc.line, 28);
	assert_int_equal(r->actions[1].loc.col, 19);
	assert_int_equal(r->mode, SHK_MODE_ENFORCE);
	assert_int_equal(r->nexceptions, 2);
	assert_string_equal(r->exceptions[0].name, "proc_names");
	assert_int_equal(r->exceptions[0].nvalues, 2);
	assert_null(r->exceptions[0].comps);
	assert_int_equal(r->exceptions[1].fields->n, 2);
	assert_int_equal(r->exceptions[1].comps->n, 2);

	r = shk_loader_find_rule(ld, "Write below etc", 15);
	assert_false(r->enabled);
	assert_int_equal(r->priority, SHK_PRIO_ERROR);

	assert_int_equal(ld->nresponses, 1);
	resp = ld->responses[0];
	assert_string_equal(resp->name, "Quarantine on critical");
	assert_string_equal(resp->match_rule, "Shell in container");
	assert_true(resp->has_match_priority);
	assert_int_equal(resp->match_priority, SHK_PRIO_CRITICAL);
	assert_int_equal(resp->nmatch_tags, 1);
	assert_string_equal(resp->match_tags[0], "container");
	assert_int_equal(resp->nactions, 1);
	assert_string_equal(resp->actions[0].name, "quarantine");
	assert_string_equal(resp->actions[0].arg, "pod");
	assert_int_equal(resp->mode, SHK_MODE_AUDIT);
	assert_int_equal(resp->loc.line, 47);

	assert_int_equal(ld->npolicies, 1);
	pol = ld->policies[0];
	assert_string_equal(pol->name, "defaults");
	assert_int_equal(pol->mode, SHK_MODE_AUDIT);
	assert_int_equal(pol->nprotect, 2);
	assert_string_equal(pol->protect[0].field, "proc.name");
	assert_int_equal(pol->protect[0].nvalues, 2);
	assert_string_equal(pol->protect[0].values[1], "containerd");
	assert_string_equal(pol->protect[1].values[0], "host");
	assert_non_null(shk_ynode_get(shk_ynode_get(pol->node, "rate_limit"), "actions_per_minute"));
	assert_int_equal(pol->loc.line, 52);
	shk_loader_free(ld);
}

static void test_append_override(void **state)
{
	struct shk_loader *ld = shk_loader_new();
	const struct shk_rule_def *r;
	const struct shk_macro_def *m, *c;
	const struct shk_list_def *l;

	assert_int_equal(shk_loader_load_file(ld, data_path("base.yaml")), 0);
	assert_int_equal(shk_loader_load_file(ld, data_path("override.yaml")), 0);
	assert_int_equal(ld->diags.nerrors, 0);
	/* append: true is deprecated in Falco: two warnings */
	assert_int_equal(ld->diags.nwarnings, 2);
	expect_diag(ld, "");
	l = shk_loader_find_list(ld, "shell_binaries", 14);
	assert_int_equal(l->nitems, 4);
	assert_string_equal(l->items[3]->str, "ksh");
	c = shk_loader_find_macro(ld, "container", 9);
	assert_string_equal(c->cond.s, "(container.id != host) and container.privileged=true");
	assert_int_equal(c->cond.nsegs, 2);
	/* a later definition replaces an earlier one, keeping its place */
	m = shk_loader_find_macro(ld, "spawned_process", 15);
	assert_string_equal(m->cond.s, "evt.type = execve");
	assert_true(m->index < c->index);
	assert_true(m->visibility > c->visibility);
	assert_int_equal(ld->nmacros, 2);

	r = shk_loader_find_rule(ld, "Shell in container", 18);
	assert_string_equal(r->cond.s, "spawned_process and container and proc.name in (all_shells)\n"
				       " and not proc.pname=tmux");
	assert_string_equal(r->output.s, "(extra=%proc.pname)");
	assert_int_equal(r->priority, SHK_PRIO_CRITICAL);
	assert_int_equal(r->ntags, 4);
	assert_string_equal(r->tags[1], "extra");
	assert_string_equal(r->desc.s, "A shell started in a container");
	assert_int_equal(r->exceptions[0].nvalues, 3);
	assert_string_equal(r->exceptions[0].values[2]->str, "containerd");
	/* untouched keys survive an override */
	assert_int_equal(r->nactions, 3);
	r = shk_loader_find_rule(ld, "Write below etc", 15);
	assert_true(r->enabled);
	assert_int_equal(ld->nrules, 2);
	shk_loader_free(ld);
}

static void test_error_file(void **state)
{
	struct shk_loader *ld = shk_loader_new();
	char path[4096];

	snprintf(path, sizeof(path), "%s", data_path("errors.yaml"));
	assert_int_equal(shk_loader_load_file(ld, path), -EINVAL);
	assert_int_equal(ld->diags.nerrors, 3);
	assert_int_equal(ld->diags.nwarnings, 3);
	/* diagnostics name the file as given */
	assert_non_null(strstr(ld->diags.v[0].file, "errors.yaml"));
	assert_non_null(shk_diags_find(&ld->diags, "errors.yaml:5:13: error: rule 'Bad priority': invalid priority 'SEVERE'"));
	assert_string_equal(shk_diags_find(&ld->diags, "invalid priority")->text, "SEVERE");
	assert_non_null(shk_diags_find(&ld->diags, "errors.yaml:7:3: error: rule 'No condition': missing required key 'condition'"));
	assert_non_null(shk_diags_find(&ld->diags, "errors.yaml:12:3: warning: unknown top level item 'bogus' ignored"));
	assert_non_null(shk_diags_find(&ld->diags, "errors.yaml:15:17: warning: list 'shells': duplicate item 'a'"));
	assert_non_null(shk_diags_find(&ld->diags, "errors.yaml:17:10: error: macro 'm1': 'append' to a macro that is not defined"));
	assert_non_null(shk_diags_find(&ld->diags, "errors.yaml:19:11: warning: macro 'm1': 'append' key is deprecated"));
	/* the good items still loaded */
	assert_int_equal(ld->nlists, 1);
	shk_loader_free(ld);
}

static void test_yaml_errors(void **state)
{
	expect_one_error("- rule: x\n  desc: [a, b\n- list: y\n",
			 "t.yaml:3:7: error: YAML syntax error: did not find expected ',' or ']'");
	expect_one_error("- list: a\n  items: [a]\n - list: b\n",
			 "t.yaml:3:2: error: YAML syntax error:");
	expect_one_error("key: value\n", "t.yaml:1:1: error: rules content is not a YAML sequence of items");
	expect_one_error("- list: &a x\n  items: *a\n", "t.yaml:2:10: error: YAML aliases are not supported");
	expect_one_error("- [a, b]\n", "t.yaml:1:3: error: unexpected element type");
	expect_one_error("- list: a\n  items: [a]\n- \xff\n", "t.yaml:3:3: error: YAML syntax error: invalid leading UTF-8 octet");
	{
		char deep[400] = "- ";

		for (int i = 0; i < 70; i++)
			strcat(deep, "[");
		expect_one_error(deep, "t.yaml:1:");
	}
	/* empty documents and null items are fine */
	shk_loader_free(load_str("", 0));
	shk_loader_free(load_str("---\n...\n---\n- \n- list: a\n  items: []\n", 0));
}

static void test_item_errors(void **state)
{
	/* rules */
	expect_one_error("- rule: r\n  desc: d\n  condition: a\n  output: o\n",
			 "t.yaml:1:3: error: rule 'r': missing required key 'priority'");
	expect_one_error("- rule: r\n  desc: d\n  condition: \"\"\n  output: o\n  priority: INFO\n",
			 "t.yaml:3:14: error: rule 'r': value of 'condition' must be non-empty");
	expect_one_error("- rule: r\n  desc: d\n  condition:\n  output: o\n  priority: INFO\n",
			 "t.yaml:3:13: error: rule 'r': mapping for key 'condition' is empty");
	expect_one_error("- rule: r\n  desc: d\n  condition: [a]\n  output: o\n  priority: INFO\n",
			 "t.yaml:3:14: error: rule 'r': value of 'condition' is not a scalar");
	expect_one_error("- rule: r\n  condition: and x\n  append: true\n",
			 "t.yaml:1:9: error: rule 'r': 'append' to a rule that is not defined");
	expect_one_error("- rule: r\n  condition: and x\n  override:\n    condition: append\n",
			 "t.yaml:1:9: error: rule 'r': 'override' of a rule that is not defined");
	expect_one_error("- rule: r\n  enabled: false\n",
			 "t.yaml:1:9: error: rule 'r': has 'enabled' key but no rule by that name already exists");
	expect_one_error("- rule: r\n  priority: INFO\n  override:\n    priority: append\n",
			 "t.yaml:4:5: error: rule 'r': key 'priority' cannot be appended to, use 'replace' instead");
	expect_one_error("- rule: r\n  condition: x\n  override:\n    condition: merge\n",
			 "t.yaml:4:16: error: rule 'r': invalid override operation for key 'condition': 'merge'");
	expect_one_error("- rule: r\n  condition: x\n  override:\n    output: replace\n",
			 "t.yaml:4:5: error: rule 'r': an replace override for 'output' was specified but 'output' is not defined");
	expect_one_error("- rule: r\n  condition: x\n  desc: y\n  override:\n    condition: append\n",
			 "t.yaml:3:3: error: rule 'r': unexpected key 'desc': no corresponding entry under 'override' is defined");
	expect_one_error("- rule: r\n  desc: d\n  condition: c\n  output: o\n  priority: INFO\n  enabled: maybe\n",
			 "t.yaml:6:12: error: rule 'r': 'enabled' must be true or false, not 'maybe'");
	expect_one_error("- rule: r\n  desc: d\n  condition: c\n  output: o\n  priority: INFO\n  mode: block\n",
			 "t.yaml:6:9: error: rule 'r': invalid mode 'block' (expected enforce or audit)");
	expect_one_error("- rule: r\n  desc: d\n  condition: c\n  output: o\n  priority: INFO\n  actions: [{kill: a, freeze: b}]\n",
			 "t.yaml:6:13: error: rule 'r': an action must be a name or a single-key map");
	expect_one_error("- rule: r\n  desc: d\n  condition: c\n  output: o\n  priority: INFO\n  tags: x\n",
			 "t.yaml:6:9: error: rule 'r': value of 'tags' is not a sequence");
	/* exceptions */
	expect_one_error("- rule: r\n  desc: d\n  condition: c\n  output: o\n  priority: INFO\n"
			 "  exceptions:\n    - name: e\n      fields: [proc.name, fd.name]\n      comps: [=]\n      values: []\n",
			 "t.yaml:9:14: error: rule 'r': exception 'e': fields and comps lists must have equal length");
	expect_one_error("- rule: r\n  desc: d\n  condition: c\n  output: o\n  priority: INFO\n"
			 "  exceptions:\n    - name: e\n      fields: [proc.name]\n      comps: [like]\n      values: []\n",
			 "t.yaml:9:15: error: rule 'r': exception 'e': 'like' is not a supported comparison operator");
	expect_one_error("- rule: r\n  desc: d\n  condition: c\n  output: o\n  priority: INFO\n"
			 "  exceptions:\n    - name: e\n      fields: [proc.nmae]\n      values: []\n",
			 "t.yaml:8:16: error: rule 'r': exception 'e': 'proc.nmae' is not a supported filter field");
	expect_one_error("- rule: r\n  desc: d\n  condition: c\n  output: o\n  priority: INFO\n"
			 "  exceptions:\n    - name: e\n      fields: proc.name\n      comps: =\n      values: [a]\n",
			 "t.yaml:9:14: error: rule 'r': exception 'e': when fields is a single value, comps must be one of (in, pmatch, intersects)");
	expect_one_error("- rule: r\n  desc: d\n  condition: c\n  output: o\n  priority: INFO\n"
			 "  exceptions:\n    - name: e\n      fields: [proc.name, fd.name]\n      values: [[a]]\n",
			 "t.yaml:9:16: error: rule 'r': exception 'e': fields and values lists must have equal length");
	expect_one_error("- rule: r\n  desc: d\n  condition: c\n  output: o\n  priority: INFO\n"
			 "  exceptions:\n    - name: e\n      values: [a]\n",
			 "t.yaml:7:7: error: rule 'r': exception 'e': missing required key 'fields'");
	expect_one_error("- rule: r\n  desc: d\n  condition: c\n  output: o\n  priority: INFO\n"
			 "  exceptions:\n    - name: e\n      fields: proc.name\n    - name: e\n      fields: fd.name\n",
			 "t.yaml:9:13: error: rule 'r': exception names in the same object must be unique ('e')");
	/* lists and macros */
	expect_one_error("- list: a b\n  items: [x]\n", "t.yaml:1:9: error: list 'a b': invalid list name");
	expect_one_error("- list: a\n", "t.yaml:1:3: error: list 'a': missing required key 'items'");
	expect_one_error("- list: a\n  items: x\n", "t.yaml:2:10: error: list 'a': value of 'items' is not a sequence");
	expect_one_error("- list: a\n  items: [[x]]\n", "t.yaml:2:11: error: list 'a': list items must be scalars");
	expect_one_error("- list: a\n  items: [x]\n  append: true\n", "t.yaml:1:9: error: list 'a': 'append' to a list that is not defined");
	expect_one_error("- macro: my-macro\n  condition: x\n", "t.yaml:1:10: error: macro 'my-macro': invalid macro name");
	expect_one_error("- macro: m\n", "t.yaml:1:3: error: macro 'm': missing required key 'condition'");
	expect_one_error("- macro: m\n  condition: x\n  append: true\n  override:\n    condition: append\n",
			 "t.yaml:1:3: error: macro 'm': keys 'override' and 'append: true' cannot be used together");
	/* versions and plugins */
	expect_one_error("- required_engine_version: 0.99.0\n",
			 "t.yaml:1:28: error: rules require engine version 0.99.0, but shrike implements engine version " SHK_ENGINE_VERSION);
	expect_one_error("- required_engine_version: x.y\n", "t.yaml:1:28: error: unable to parse engine version 'x.y'");
	expect_one_error("- required_plugin_versions:\n    - name: k8saudit\n      version: 0.1.0\n",
			 "t.yaml:2:13: error: rules require plugin 'k8saudit' (version 0.1.0), which shrike does not provide");
	expect_one_error("- required_plugin_versions:\n    - name: container\n      version: abc\n",
			 "t.yaml:3:16: error: invalid required version 'abc' for plugin 'container'");
	/* responses and policies */
	expect_one_error("- response: r\n  actions: [deny]\n", "t.yaml:1:3: error: response 'r': missing required key 'match'");
	expect_one_error("- response: r\n  match: {priority: HIGH}\n  actions: [deny]\n",
			 "t.yaml:2:21: error: response 'r': invalid priority 'HIGH'");
	expect_one_error("- policy: p\n  protect: {proc.nmae: [x]}\n", "t.yaml:2:13: error: policy 'p': unknown field 'proc.nmae' in 'protect'");
}

static void test_warnings_and_sources(void **state)
{
	struct shk_loader *ld;

	ld = load_str("- rule: r\n  desc: d\n  condition: c\n  output: o\n  priority: INFO\n  colour: red\n", 0);
	expect_diag(ld, "t.yaml:6:3: warning: rule 'r': unknown key 'colour' ignored");
	assert_int_equal(ld->diags.nwarnings, 1);
	shk_loader_free(ld);

	/* other sources load but are skipped, with a notice */
	ld = load_str("- rule: r\n  desc: d\n  condition: ka.verb=create\n  output: o\n  priority: INFO\n  source: k8s_audit\n", 0);
	expect_diag(ld, "t.yaml:6:11: notice: rule 'r': source 'k8s_audit' is not supported by shrike");
	assert_int_equal(ld->diags.nnotices, 1);
	assert_false(ld->rules[0]->known_source);
	shk_loader_free(ld);

	ld = load_str("- rule: r\n  desc: d\n  condition: c\n  output: o\n  priority: INFO\n"
		      "- rule: r\n  desc: d\n  condition: c\n  output: o\n  priority: INFO\n  source: aws_cloudtrail\n",
		      -EINVAL);
	expect_diag(ld, "t.yaml:6:9: error: rule 'r': rule has been re-defined with a different source");
	shk_loader_free(ld);

	/* a later rule definition replaces the earlier one in place */
	ld = load_str("- rule: a\n  desc: d\n  condition: c1\n  output: o\n  priority: INFO\n"
		      "- rule: b\n  desc: d\n  condition: c\n  output: o\n  priority: INFO\n"
		      "- rule: a\n  desc: d2\n  condition: c2\n  output: o\n  priority: debug\n", 0);
	assert_int_equal(ld->nrules, 2);
	assert_string_equal(ld->rules[0]->cond.s, "c2");
	assert_string_equal(ld->rules[0]->desc.s, "d2");
	assert_int_equal(ld->rules[0]->priority, SHK_PRIO_DEBUG);
	assert_int_equal(ld->rules[0]->loc.line, 11);
	shk_loader_free(ld);

	/* missing file */
	ld = shk_loader_new();
	assert_int_equal(shk_loader_load_file(ld, "/nonexistent/x.yaml"), -ENOENT);
	expect_diag(ld, "/nonexistent/x.yaml: error: cannot read rules file");
	shk_loader_free(ld);
}

static void test_priorities(void **state)
{
	assert_int_equal(shk_priority_parse("emergency"), SHK_PRIO_EMERGENCY);
	assert_int_equal(shk_priority_parse("Alert"), SHK_PRIO_ALERT);
	assert_int_equal(shk_priority_parse("CRITICAL"), SHK_PRIO_CRITICAL);
	assert_int_equal(shk_priority_parse("error"), SHK_PRIO_ERROR);
	assert_int_equal(shk_priority_parse("Warning"), SHK_PRIO_WARNING);
	assert_int_equal(shk_priority_parse("notice"), SHK_PRIO_NOTICE);
	assert_int_equal(shk_priority_parse("informational"), SHK_PRIO_INFORMATIONAL);
	assert_int_equal(shk_priority_parse("INFO"), SHK_PRIO_INFORMATIONAL);
	assert_int_equal(shk_priority_parse("debug"), SHK_PRIO_DEBUG);
	assert_int_equal(shk_priority_parse("high"), -EINVAL);
	assert_string_equal(shk_priority_name(SHK_PRIO_NOTICE), "NOTICE");
}

/* Offsets inside a condition map back into the file for every style. */
static void expect_locate(const char *yaml, const char *token, uint32_t line,
			  uint32_t col)
{
	struct shk_loader *ld = load_str(yaml, 0);
	const struct shk_macro_def *m = ld->macros[0];
	const char *p = strstr(m->cond.s, token);
	struct shk_loc l;

	assert_non_null(p);
	l = shk_text_locate(&m->cond, p - m->cond.s);
	if (l.line != line || l.col != col)
		fail_msg("'%s' in %s: got %u:%u, want %u:%u", token, yaml, l.line,
			 l.col, line, col);
	assert_string_equal(l.file, "t.yaml");
	shk_loader_free(ld);
}

static void test_locate(void **state)
{
	expect_locate("- macro: m\n  condition: a and proc.x = 1\n", "proc.x", 2, 20);
	expect_locate("- macro: m\n  condition: a and\n    b or\n      proc.x = 1\n", "proc.x", 4, 7);
	expect_locate("- macro: m\n  condition: 'a and ''q'' and proc.x = 1'\n", "proc.x", 2, 31);
	expect_locate("- macro: m\n  condition: \"a and \\\"q\\\" and\n    proc.x = 1\"\n", "proc.x", 3, 5);
	expect_locate("- macro: m\n  condition: |\n    a and\n      b and\n    proc.x = 1\n", "proc.x", 5, 5);
	expect_locate("- macro: m\n  condition: |-  # comment\n    a\n      and proc.x = 1\n", "proc.x", 4, 11);
	expect_locate("- macro: m\n  condition: >\n    a and\n    b and\n\n    proc.x = 1\n", "proc.x", 6, 5);
	expect_locate("- macro: m\n  condition: >\n    a and\n    b and\n\n    proc.x = 1\n", "b and", 4, 5);
	expect_locate("- macro: m\r\n  condition: >\r\n    a and\r\n    proc.x = 1\r\n", "proc.x", 4, 5);
	/* columns count characters, as libyaml's marks do */
	expect_locate("- macro: m\n  condition: n = 'é' and proc.x = 1\n", "proc.x", 2, 26);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base),
		cmocka_unit_test(test_append_override),
		cmocka_unit_test(test_error_file),
		cmocka_unit_test(test_yaml_errors),
		cmocka_unit_test(test_item_errors),
		cmocka_unit_test(test_warnings_and_sources),
		cmocka_unit_test(test_priorities),
		cmocka_unit_test(test_locate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
