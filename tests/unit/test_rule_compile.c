// SPDX-License-Identifier: Apache-2.0
/* Rule compiler: expansion, exceptions, typing, event types, errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <cmocka.h>

#include "rule_compile.h"
#include "testlib.h"

#define RULE(name, cond) \
	"- rule: " name "\n  desc: d\n  output: o\n  priority: INFO\n  condition: " cond "\n"

static struct shk_ruleset *compile_str(const char *yaml)
{
	struct shk_loader *ld = shk_loader_new();
	struct shk_ruleset *rs;

	assert_non_null(ld);
	shk_loader_load_buffer(ld, "t.yaml", yaml, strlen(yaml));
	rs = shk_ruleset_compile(ld);
	assert_non_null(rs);
	return rs;
}

static void dump(struct shk_ruleset *rs)
{
	char buf[1024];
	struct shk_diags *d = shk_ruleset_diags(rs);

	for (size_t i = 0; i < d->n; i++) {
		shk_diag_format(&d->v[i], buf, sizeof(buf));
		print_message("  have: %s\n", buf);
	}
}

static void expect_diag(struct shk_ruleset *rs, const char *want)
{
	char buf[1024];
	struct shk_diags *d = shk_ruleset_diags(rs);

	for (size_t i = 0; i < d->n; i++) {
		shk_diag_format(&d->v[i], buf, sizeof(buf));
		if (!strncmp(buf, want, strlen(want)))
			return;
	}
	dump(rs);
	fail_msg("missing diagnostic: %s", want);
}

/* One rule that must fail with exactly this first error. */
static void expect_error(const char *yaml, const char *want)
{
	struct shk_ruleset *rs = compile_str(yaml);

	expect_diag(rs, want);
	if (shk_ruleset_diags(rs)->nerrors != 1) {
		dump(rs);
		fail_msg("expected exactly one error for: %s", want);
	}
	assert_int_equal(rs->nfailed, 1);
	assert_int_equal(rs->nrules, 0);
	shk_ruleset_free(rs);
}

static void expect_filter(const char *yaml, const char *want)
{
	struct shk_ruleset *rs = compile_str(yaml);
	char buf[2048];

	if (rs->nrules != 1 || shk_ruleset_diags(rs)->nerrors) {
		dump(rs);
		fail_msg("did not compile: %s", yaml);
	}
	shk_fnode_format(rs->rules[0].filter, buf, sizeof(buf));
	if (strcmp(buf, want))
		fail_msg("got  %s\nwant %s", buf, want);
	shk_ruleset_free(rs);
}

static void test_lists_and_macros(void **state)
{
	struct shk_ruleset *rs;
	const struct shk_check *k;
	const struct shk_rule *r;

	rs = compile_str("- list: a\n  items: [x, y]\n"
			 "- list: b\n  items: [a, z, '\"q r\"']\n"
			 "- macro: inner\n  condition: proc.name in (b, w)\n"
			 "- macro: outer\n  condition: inner and not proc.pname in (a)\n"
			 RULE("r", "outer and evt.type = open"));
	assert_int_equal(rs->nrules, 1);
	assert_int_equal(shk_ruleset_diags(rs)->nerrors, 0);
	assert_int_equal(shk_ruleset_diags(rs)->nwarnings, 0);
	r = &rs->rules[0];
	assert_int_equal(r->filter->kind, SHK_FN_AND);
	k = r->filter->kids[0]->kids[0]->check;
	assert_int_equal(k->lhs.id, SHK_FIELD_PROC_NAME);
	assert_int_equal(k->rhs, SHK_RHS_STRSET);
	assert_int_equal(k->strset->n, 5);
	assert_true(shk_strset_has(k->strset, "x", 1));
	assert_true(shk_strset_has(k->strset, "z", 1));
	assert_true(shk_strset_has(k->strset, "w", 1));
	assert_true(shk_strset_has(k->strset, "q r", 3));
	assert_false(shk_strset_has(k->strset, "b", 1));
	assert_false(shk_strset_has(k->strset, "\"q r\"", 5));
	assert_int_equal(r->nnodes, 6);
	assert_true(shk_evtset_has(&r->evtypes, SYS_open));
	assert_false(shk_evtset_has(&r->evtypes, SYS_openat));
	assert_false(r->all_evtypes);
	shk_ruleset_free(rs);

	/* macros are shared, not copied */
	rs = compile_str("- macro: m\n  condition: proc.name = x\n"
			 RULE("r1", "evt.type = open and m") RULE("r2", "evt.type = open and not m"));
	assert_int_equal(rs->nrules, 2);
	assert_ptr_equal(rs->rules[0].filter->kids[1], rs->rules[1].filter->kids[1]->kids[0]);
	shk_ruleset_free(rs);

	/* a list defined after the list naming it is not expanded (Falco) */
	expect_filter("- list: a\n  items: [b, x]\n- list: b\n  items: [y]\n"
		      RULE("r", "evt.type = open and proc.name in (a)"),
		      "(and (= evt.type {open}) (in proc.name {2 strings}))");
	expect_filter("- list: e\n  items: []\n" RULE("r", "evt.type = open and proc.name in (e)"),
		      "(and (= evt.type {open}) (in proc.name {0 strings}))");
	expect_filter("- list: p\n  items: [22, 80]\n" RULE("r", "evt.type = open and fd.sport in (p, 443)"),
		      "(and (= evt.type {open}) (in fd.sport {3 numbers}))");
	expect_filter("- list: n\n  items: ['\"10.0.0.0/8\"', 192.168.0.0/16]\n"
		      RULE("r", "evt.type = connect and fd.snet in (n)"),
		      "(and (= evt.type {connect}) (in fd.snet {2 networks}))");
}

static void test_operators_and_values(void **state)
{
	struct shk_ruleset *rs;
	const struct shk_check *k;
	uint8_t a4[4] = { 10, 1, 2, 3 }, b4[4] = { 11, 0, 0, 1 };

	expect_filter(RULE("r", "evt.type=open and fd.typechar='f' and fd.num>=0 and evt.rawres < -1"),
		      "(and (= evt.type {open}) (= fd.typechar \"f\") (>= fd.num \"0\") (< evt.rawres \"-1\"))");
	expect_filter(RULE("r", "evt.type=open and fd.name glob '/home/*/.ssh/*' and proc.cmdline regex 'a|b'"),
		      "(and (= evt.type {open}) (glob fd.name \"/home/*/.ssh/*\") (regex proc.cmdline \"a|b\"))");
	expect_filter(RULE("r", "evt.type=open and fd.directory pmatch (/etc/, /usr/lib)"),
		      "(and (= evt.type {open}) (pmatch fd.directory {2 paths}))");
	expect_filter(RULE("r", "evt.type=open and tolower(basename(proc.exepath)) = val(proc.name)"),
		      "(and (= evt.type {open}) (= tolower(basename(proc.exepath)) proc.name))");
	expect_filter(RULE("r", "evt.type=open and len(proc.args) > 100 and proc.aname[2] = sshd"),
		      "(and (= evt.type {open}) (> len(proc.args) \"100\") (= proc.aname[2] \"sshd\"))");
	expect_filter(RULE("r", "evt.type=open and evt.arg.flags contains O_TRUNC and evt.arg[0] = 3 and container.mount.dest[/proc*] exists"),
		      "(and (= evt.type {open}) (contains evt.arg[flags] \"O_TRUNC\") (= evt.arg[0] \"3\") (exists container.mount.dest[/proc*]))");
	expect_filter(RULE("r", "evt.type=open and proc.args intersects (\"-V\", \"-l\") and proc.pname exists"),
		      "(and (= evt.type {open}) (intersects proc.args {2 strings}) (exists proc.pname))");

	rs = compile_str(RULE("r", "evt.type=connect and fd.net != \"10.0.0.0/8\" and fd.sip = 10.1.2.3 "
				   "and fd.name_changed = true and fd.sport = 0x50 and evt.buffer bcontains cafebabe "
				   "and fd.name iglob '*.PEM' and fd.name pmatch (/etc)"));
	assert_int_equal(rs->nrules, 1);
	k = rs->rules[0].filter->kids[1]->check;
	assert_int_equal(k->net.family, 4);
	assert_int_equal(k->net.prefix, 8);
	assert_true(shk_ipnet_contains(&k->net, 4, a4));
	assert_false(shk_ipnet_contains(&k->net, 4, b4));
	assert_false(shk_ipnet_contains(&k->net, 6, a4));
	k = rs->rules[0].filter->kids[2]->check;
	assert_int_equal(k->net.prefix, 32);
	k = rs->rules[0].filter->kids[3]->check;
	assert_true(k->b);
	k = rs->rules[0].filter->kids[4]->check;
	assert_int_equal(k->unum, 80);
	k = rs->rules[0].filter->kids[5]->check;
	assert_int_equal(k->text_len, 4);
	assert_memory_equal(k->text, "\xca\xfe\xba\xbe", 4);
	k = rs->rules[0].filter->kids[6]->check;
	assert_int_equal(k->rhs, SHK_RHS_REGEX);
	assert_int_equal(regexec(k->re, "/a/Key.pem", 0, NULL, 0), 0);
	assert_int_not_equal(regexec(k->re, "/a/Key.pem.bak", 0, NULL, 0), 0);
	k = rs->rules[0].filter->kids[7]->check;
	assert_true(shk_check_pmatch(k, "/etc", 4));
	assert_true(shk_check_pmatch(k, "/etc/passwd", 11));
	assert_false(shk_check_pmatch(k, "/etcx", 5));
	shk_ruleset_free(rs);

	/* globs are anchored, * crosses '/', brackets work */
	rs = compile_str(RULE("r", "evt.type=open and fd.name glob '/home/*/.ssh/[!.]*'"));
	k = rs->rules[0].filter->kids[1]->check;
	assert_int_equal(regexec(k->re, "/home/a/b/.ssh/id", 0, NULL, 0), 0);
	assert_int_not_equal(regexec(k->re, "/home/a/.ssh/.x", 0, NULL, 0), 0);
	assert_int_not_equal(regexec(k->re, "x/home/a/.ssh/id", 0, NULL, 0), 0);
	shk_ruleset_free(rs);
}

static void test_exceptions(void **state)
{
	struct shk_ruleset *rs;
	char buf[2048];

	expect_filter("- rule: r\n  desc: d\n  output: o\n  priority: INFO\n  condition: evt.type = open\n"
		      "  exceptions:\n"
		      "    - name: one\n      fields: proc.pname\n      values: [sshd, \"cron d\"]\n"
		      "    - name: two\n      fields: [proc.pname, proc.cmdline]\n      comps: [=, startswith]\n"
		      "      values:\n        - [systemd, \"bash -c\"]\n        - [init, x]\n"
		      "    - name: three\n      fields: [proc.name, fd.name]\n      comps: [in, pmatch]\n"
		      "      values:\n        - [[a, b], [/etc]]\n"
		      "    - name: empty\n      fields: proc.name\n",
		      "(and (= evt.type {open}) (not (in proc.pname {2 strings}))"
		      " (not (or (and (= proc.pname \"systemd\") (startswith proc.cmdline \"bash -c\"))"
		      " (and (= proc.pname \"init\") (startswith proc.cmdline \"x\"))))"
		      " (not (and (in proc.name {2 strings}) (pmatch fd.name {1 paths}))))");
	/* list names inside exception values expand, as Falco's text does */
	expect_filter("- list: l\n  items: [a, b, c]\n"
		      "- rule: r\n  desc: d\n  output: o\n  priority: INFO\n  condition: evt.type = open\n"
		      "  exceptions:\n    - name: e\n      fields: [proc.name]\n      comps: [in]\n      values: [[l]]\n",
		      "(and (= evt.type {open}) (not (in proc.name {3 strings})))");

	/* base + override: appended values, appended condition */
	{
		struct shk_loader *ld = shk_loader_new();
		char p1[4096], p2[4096];
		const struct shk_rule *r;

		snprintf(p1, sizeof(p1), "%s/rules/base.yaml", test_env("SHRIKE_TEST_DATA"));
		snprintf(p2, sizeof(p2), "%s/rules/override.yaml", test_env("SHRIKE_TEST_DATA"));
		assert_int_equal(shk_loader_load_file(ld, p1), 0);
		assert_int_equal(shk_loader_load_file(ld, p2), 0);
		rs = shk_ruleset_compile(ld);
		assert_int_equal(shk_ruleset_diags(rs)->nerrors, 0);
		assert_int_equal(rs->nrules, 2);
		r = shk_ruleset_find(rs, "Shell in container");
		assert_non_null(r);
		shk_fnode_format(r->filter, buf, sizeof(buf));
		assert_string_equal(buf,
			"(and (and (= evt.type {execve}) (and (!= container.id \"host\") (= container.privileged \"true\"))"
			" (in proc.name {6 strings}) (not (= proc.pname \"tmux\")))"
			" (not (in proc.pname {3 strings}))"
			" (not (and (= proc.pname \"systemd\") (startswith proc.cmdline \"bash -c\"))))");
		assert_int_equal(r->priority, SHK_PRIO_CRITICAL);
		assert_int_equal(r->nactions, 3);
		assert_int_equal(r->mode, SHK_MODE_ENFORCE);
		assert_true(shk_evtset_has(&r->evtypes, SYS_execve));
		assert_false(shk_evtset_has(&r->evtypes, SYS_execveat));
		assert_true(shk_ruleset_find(rs, "Write below etc")->enabled);
		assert_int_equal(rs->loader->nresponses, 1);
		shk_ruleset_free(rs);
	}
}

static void test_evtypes(void **state)
{
	struct shk_ruleset *rs;
	const struct shk_rule *r;
	const uint32_t *ids;
	uint32_t n;
	char name[64];

	assert_int_equal(shk_evtype_resolve("openat"), SYS_openat);
	assert_int_equal(shk_evtype_resolve("procexit"), SHK_EVT_PROCEXIT);
	assert_int_equal(shk_evtype_resolve("umount"), SYS_umount2);
	assert_int_equal(shk_evtype_resolve("socketcall"), -ENOSYS);
	assert_int_equal(shk_evtype_resolve("nosuchcall"), -ENOENT);
	assert_int_equal(shk_evtype_name(SYS_connect, name, sizeof(name)), 0);
	assert_string_equal(name, "connect");
	assert_int_equal(shk_evtype_name(SHK_EVT_CONTAINER, name, sizeof(name)), 0);
	assert_string_equal(name, "container");

	rs = compile_str(RULE("typed", "(evt.type in (open, openat) or evt.type = procexit) and proc.name = x")
			 RULE("negated", "not evt.type = open and not (evt.type in (open, connect) and proc.name = x)")
			 RULE("ne", "evt.type != open")
			 RULE("any", "proc.name = x")
			 "- rule: quiet\n  desc: d\n  output: o\n  priority: INFO\n  condition: proc.name = y\n  warn_evttypes: false\n"
			 RULE("disabled", "evt.type = open and proc.name = x") "  enabled: false\n");
	assert_int_equal(rs->nrules, 6);
	r = shk_ruleset_find(rs, "typed");
	assert_true(shk_evtset_has(&r->evtypes, SYS_open));
	assert_true(shk_evtset_has(&r->evtypes, SYS_openat));
	assert_true(shk_evtset_has(&r->evtypes, SHK_EVT_PROCEXIT));
	assert_false(shk_evtset_has(&r->evtypes, SYS_connect));
	/* not (A and B): may be true for any type, minus what the first not removes */
	r = shk_ruleset_find(rs, "negated");
	assert_false(shk_evtset_has(&r->evtypes, SYS_open));
	assert_true(shk_evtset_has(&r->evtypes, SYS_connect));
	assert_true(shk_evtset_has(&r->evtypes, SYS_execve));
	r = shk_ruleset_find(rs, "ne");
	assert_false(shk_evtset_has(&r->evtypes, SYS_open));
	assert_false(r->all_evtypes);
	r = shk_ruleset_find(rs, "any");
	assert_true(r->all_evtypes);
	expect_diag(rs, "t.yaml:16:3: warning: rule 'any' matches too many evt.type values; it is evaluated for every event");
	expect_diag(rs, "t.yaml:11:3: warning: rule 'ne' matches too many evt.type values; it is evaluated for more than 100 event types");
	expect_diag(rs, "t.yaml:6:3: warning: rule 'negated' matches too many evt.type values");
	assert_int_equal(shk_ruleset_diags(rs)->nwarnings, 3);
	assert_false(shk_ruleset_find(rs, "disabled")->enabled);

	/* the index: typed rules first, then catch-alls; disabled rules out */
	ids = shk_ruleset_rules_for(rs, SYS_open, &n);
	assert_int_equal(n, 3);
	assert_string_equal(rs->rules[ids[0]].name, "typed");
	assert_string_equal(rs->rules[ids[1]].name, "any");
	assert_string_equal(rs->rules[ids[2]].name, "quiet");
	ids = shk_ruleset_rules_for(rs, SYS_connect, &n);
	assert_int_equal(n, 4);
	assert_string_equal(rs->rules[ids[0]].name, "negated");
	assert_true(shk_evtset_has(&rs->interest, SYS_open));
	shk_ruleset_free(rs);

	/* unknown names warn (as Falco) and match nothing */
	rs = compile_str(RULE("r", "evt.type in (open, bogus) and proc.name = x"));
	assert_int_equal(rs->nrules, 1);
	expect_diag(rs, "t.yaml:5:33: warning: unknown event type 'bogus'");
	shk_ruleset_free(rs);
}

static void test_errors(void **state)
{
	expect_error(RULE("r", "evt.type = open and proc.nmae = bash"),
		     "t.yaml:5:34: error: unknown field 'proc.nmae'");
	expect_error("- rule: r\n  desc: d\n  output: o\n  priority: INFO\n  condition: >\n    evt.type = open\n    and proc.nmae = bash\n",
		     "t.yaml:7:9: error: unknown field 'proc.nmae'");
	expect_error("- rule: r\n  desc: d\n  output: o\n  priority: INFO\n  condition: |\n    evt.type = open and\n      (proc.name = a or\n       fd.nmae = b)\n",
		     "t.yaml:8:8: error: unknown field 'fd.nmae'");
	expect_error("- rule: r\n  desc: d\n  output: o\n  priority: INFO\n  condition: \"evt.type = open and \\\n    user.nmae = root\"\n",
		     "t.yaml:6:5: error: unknown field 'user.nmae'");
	expect_error(RULE("r", "evt.type = open and proc.name < 5"),
		     "t.yaml:5:44: error: operator '<' cannot be used with field 'proc.name' (string)");
	expect_error(RULE("r", "evt.type = open and fd.sport = http"),
		     "t.yaml:5:45: error: invalid numeric value 'http' for field 'fd.sport' (port)");
	expect_error(RULE("r", "evt.type = open and fd.sport = 70000"),
		     "t.yaml:5:45: error: out of range value '70000' for field 'fd.sport' (port)");
	expect_error(RULE("r", "evt.type = open and fd.net = 10.0.0.0/33"),
		     "t.yaml:5:43: error: invalid CIDR '10.0.0.0/33' for field 'fd.net'");
	expect_error(RULE("r", "evt.type = open and fd.snet in (10.0.0.0/8, nonsense)"),
		     "t.yaml:5:58: error: invalid CIDR 'nonsense' for field 'fd.snet'");
	expect_error(RULE("r", "evt.type = open and fd.sip = 1.2.3"),
		     "t.yaml:5:43: error: invalid IP address '1.2.3' for field 'fd.sip'");
	expect_error(RULE("r", "evt.type = open and fd.connected = yes"),
		     "t.yaml:5:49: error: invalid bool value 'yes' for field 'fd.connected'");
	expect_error(RULE("r", "evt.type = open and proc.cmdline regex 'a(b'"),
		     "t.yaml:5:53: error: invalid regex 'a(b'");
	expect_error(RULE("r", "evt.type = open and evt.buffer bcontains xyz"),
		     "t.yaml:5:55: error: 'bcontains' needs a hex string value, not 'xyz'");
	expect_error(RULE("r", "evt.type = open and proc.name exists x"),
		     "t.yaml:5:51: error: unexpected token 'x', expecting 'or', 'and'");
	expect_error(RULE("r", "evt.type = open and (proc.name = a or proc.name = b"),
		     "t.yaml:5:34: error: unbalanced parenthesis: '(' is never closed");
	expect_error(RULE("r", "evt.type = open and proc.name = a)"),
		     "t.yaml:5:47: error: unbalanced parenthesis: unexpected ')'");
	expect_error(RULE("r", "'   '"), "t.yaml:5:15: error: empty condition");
	expect_error(RULE("r", "evt.type = open and not_a_macro"),
		     "t.yaml:5:34: error: undefined macro 'not_a_macro'");
	expect_error(RULE("r", "evt.type = open and proc.name in not_a_list"),
		     "t.yaml:5:47: error: undefined list 'not_a_list'");
	expect_error(RULE("r", "evt.type = open and proc.name[1] = x"),
		     "t.yaml:5:44: error: field 'proc.name' does not take an argument");
	expect_error(RULE("r", "evt.type = open and proc.aname[x] = x"),
		     "t.yaml:5:45: error: field 'proc.aname' takes a numeric index, not 'x'");
	expect_error(RULE("r", "evt.type = open and evt.arg = x"),
		     "t.yaml:5:34: error: field 'evt.arg' requires an argument");
	expect_error(RULE("r", "evt.type = open and len(fd.connected) > 1"),
		     "t.yaml:5:34: error: transformer 'len' cannot be applied to field 'fd.connected' (bool)");
	expect_error(RULE("r", "evt.type = open and proc.pid = val(proc.name)"),
		     "t.yaml:5:45: error: cannot compare field 'proc.pid' (int64) with field 'proc.name' (string)");
	expect_error(RULE("r", "evt.type = open and fd.name glob val(proc.name)"),
		     "t.yaml:5:47: error: operator 'glob' needs a literal value, not a field");
	expect_error(RULE("r", "evt.type = open and fd.sport contains 8"),
		     "t.yaml:5:43: error: operator 'contains' cannot be used with field 'fd.sport' (port)");
	/* errors inside macros point into the macro */
	expect_error("- macro: m\n  condition: proc.name = a and\n    fd.nmae = b\n" RULE("r", "evt.type = open and m"),
		     "t.yaml:3:5: error: unknown field 'fd.nmae'");
	/* errors inside exceptions point at the exception */
	expect_error("- rule: r\n  desc: d\n  output: o\n  priority: INFO\n  condition: evt.type = open\n"
		     "  exceptions:\n    - name: e\n      fields: [fd.sport]\n      values: [[http]]\n",
		     "t.yaml:9:17: error: invalid numeric value 'http' for field 'fd.sport' (port)");
}

static void test_macro_errors(void **state)
{
	struct shk_ruleset *rs;

	rs = compile_str("- macro: a\n  condition: b and proc.name = x\n"
			 "- macro: b\n  condition: proc.pid = 1 or a\n"
			 "- macro: self\n  condition: self\n"
			 RULE("r", "evt.type = open and a"));
	expect_diag(rs, "t.yaml:4:30: error: recursive macro 'a' (a -> b -> a)");
	expect_diag(rs, "t.yaml:6:14: error: recursive macro 'self' (self -> self)");
	assert_int_equal(shk_ruleset_diags(rs)->nerrors, 2);
	assert_int_equal(rs->nfailed, 1);
	shk_ruleset_free(rs);

	/* undefined references in unused macros are errors too (Falco) */
	rs = compile_str("- macro: m\n  condition: proc.name = x or nope\n");
	expect_diag(rs, "t.yaml:2:31: error: undefined macro 'nope'");
	shk_ruleset_free(rs);
	/* parse errors in macros */
	rs = compile_str("- macro: m\n  condition: proc.name = \n");
	expect_diag(rs, "t.yaml:2:25: error: expected a string value or a field with a valid transformer, found end of condition");
	shk_ruleset_free(rs);

	/* deep macro chains are bounded */
	{
		char *y = malloc(200 * 64), *p = y;

		for (int i = 0; i < 100; i++)
			p += sprintf(p, "- macro: m%d\n  condition: m%d\n", i, i + 1);
		sprintf(p, "- macro: m100\n  condition: proc.name = x\n" RULE("r", "evt.type = open and m0"));
		rs = compile_str(y);
		expect_diag(rs, "t.yaml:");
		assert_non_null(shk_diags_find(shk_ruleset_diags(rs), "macros nested deeper than 64 levels"));
		assert_int_equal(rs->nrules, 0);
		shk_ruleset_free(rs);
		free(y);
	}
	/* exponential expansion is caught, not walked */
	{
		char *y = malloc(100 * 128), *p = y;

		p += sprintf(p, "- macro: m0\n  condition: proc.name = x\n");
		for (int i = 1; i < 40; i++)
			p += sprintf(p, "- macro: m%d\n  condition: m%d and m%d\n", i, i - 1, i - 1);
		sprintf(p, RULE("r", "evt.type = open and m39"));
		rs = compile_str(y);
		assert_non_null(shk_diags_find(shk_ruleset_diags(rs), "condition too large after macro expansion"));
		assert_int_equal(rs->nrules, 0);
		shk_ruleset_free(rs);
		free(y);
	}
}

static void test_warnings(void **state)
{
	struct shk_ruleset *rs;

	rs = compile_str("- list: unused_l\n  items: [a]\n- macro: unused_m\n  condition: proc.name = a\n"
			 RULE("r", "evt.type = open and proc.name = x"));
	expect_diag(rs, "t.yaml:1:9: warning: list 'unused_l' not referred to by any other rule/macro/list");
	expect_diag(rs, "t.yaml:3:10: warning: macro 'unused_m' not referred to by any other rule/macro");
	assert_int_equal(shk_ruleset_diags(rs)->nwarnings, 2);
	shk_ruleset_free(rs);

	/* skip-if-unknown-filter: a warning, and the rule is skipped */
	rs = compile_str(RULE("r", "evt.type = open and some.new_field = 1") "  skip-if-unknown-filter: true\n"
			 RULE("k", "evt.type = open"));
	expect_diag(rs, "t.yaml:5:34: warning: unknown field 'some.new_field': rule skipped");
	assert_int_equal(shk_ruleset_diags(rs)->nerrors, 0);
	assert_int_equal(rs->nrules, 1);
	assert_int_equal(rs->nskipped, 1);
	shk_ruleset_free(rs);

	/* other sources are not compiled */
	rs = compile_str(RULE("k8s", "ka.verb = create") "  source: k8s_audit\n");
	assert_int_equal(rs->nrules, 0);
	assert_int_equal(rs->nskipped, 1);
	assert_int_equal(shk_ruleset_diags(rs)->nerrors, 0);
	shk_ruleset_free(rs);
}

static void test_fields(void **state)
{
	size_t n;
	const struct shk_field *f = shk_fields(&n), *g;
	const char *arg;
	size_t alen;

	assert_true(n > 150);
	/* the table is sorted (binary search depends on it) and ids match */
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(f[i].id, i);
		if (i)
			assert_true(strcmp(f[i - 1].name, f[i].name) < 0);
		assert_ptr_equal(shk_field_lookup(f[i].name, strlen(f[i].name)), &f[i]);
		assert_non_null(f[i].desc);
	}
	assert_null(shk_field_lookup("proc.nmae", 9));
	assert_null(shk_field_lookup("proc.name", 8));
	g = shk_field_resolve("evt.arg.flags", 13, &arg, &alen);
	assert_int_equal(g->id, SHK_FIELD_EVT_ARG);
	assert_int_equal(alen, 5);
	assert_memory_equal(arg, "flags", 5);
	g = shk_field_resolve("fd.sip.name", 11, &arg, &alen);
	assert_int_equal(g->id, SHK_FIELD_FD_SIP_NAME);
	assert_null(arg);
	assert_null(shk_field_resolve("proc.name.x", 11, &arg, &alen));
	assert_int_equal(shk_field_by_id(SHK_FIELD_FD_SPORT)->type, SHK_FT_PORT);
	assert_int_equal(shk_field_by_id(SHK_FIELD_FD_SNET)->type, SHK_FT_IPNET);
	assert_true(shk_field_by_id(SHK_FIELD_PROC_ANAME)->flags & SHK_FF_ARG_INDEX);
	assert_string_equal(shk_ftype_name(SHK_FT_RELTIME), "reltime");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lists_and_macros),
		cmocka_unit_test(test_operators_and_values),
		cmocka_unit_test(test_exceptions),
		cmocka_unit_test(test_evtypes),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_macro_errors),
		cmocka_unit_test(test_warnings),
		cmocka_unit_test(test_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
