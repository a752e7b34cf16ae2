// SPDX-License-Identifier: Apache-2.0
/* Parser for Falco conditions: AST shapes, positions, errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rule_parser.h"

static void expect_ast(const char *cond, const char *want)
{
	struct shk_parse_error err;
	struct shk_ast *a = shk_parse_condition(cond, strlen(cond), &err);
	char buf[1024];

	if (!a)
		fail_msg("'%s': %u:%u: %s", cond, err.pos.line, err.pos.col, err.msg);
	shk_ast_format(a, buf, sizeof(buf));
	if (strcmp(buf, want))
		fail_msg("'%s'\n got  %s\n want %s", cond, buf, want);
	shk_ast_free(a);
}

static void expect_err(const char *cond, uint32_t line, uint32_t col,
		       const char *msg)
{
	struct shk_parse_error err;
	struct shk_ast *a = shk_parse_condition(cond, strlen(cond), &err);

	if (a) {
		shk_ast_free(a);
		fail_msg("'%s' parsed", cond);
	}
	assert_int_equal(errno, EINVAL);
	if (err.pos.line != line || err.pos.col != col || !strstr(err.msg, msg))
		fail_msg("'%s': got %u:%u '%s', want %u:%u '%s'", cond, err.pos.line,
			 err.pos.col, err.msg, line, col, msg);
}

static void test_boolean(void **state)
{
	expect_ast("a", "a");
	expect_ast("a and b and c", "(and a b c)");
	expect_ast("a or b and c", "(or a (and b c))");
	expect_ast("(a or b) and c", "(and (or a b) c)");
	expect_ast("not a", "(not a)");
	expect_ast("not not a", "a");
	expect_ast("not (a or b)", "(not (or a b))");
	expect_ast("not(a)", "(not a)");
	expect_ast("a and(b)", "(and a b)");
	expect_ast("a or(b)", "(or a b)");
	expect_ast("a and not b or not c", "(or (and a (not b)) (not c))");
	expect_ast("  \n(\n a\n)\n ", "a");
	expect_ast("((((a))))", "a");
	/* keywords are lowercase only, as in Falco */
	expect_err("a AND b", 1, 3, "unexpected token 'AND'");
}

static void test_operators(void **state)
{
	expect_ast("proc.name = bash", "(= proc.name bash)");
	expect_ast("proc.name==bash", "(= proc.name bash)");
	expect_ast("proc.name != 'ba sh'", "(!= proc.name \"ba sh\")");
	expect_ast("fd.sport < 1024", "(< fd.sport 1024)");
	expect_ast("fd.sport<=0x400", "(<= fd.sport 0x400)");
	expect_ast("evt.rawres > -1", "(> evt.rawres -1)");
	expect_ast("evt.rawres >= 0", "(>= evt.rawres 0)");
	expect_ast("fd.name contains /etc", "(contains fd.name /etc)");
	expect_ast("fd.name icontains ETC", "(icontains fd.name ETC)");
	expect_ast("evt.buffer bcontains cafebabe", "(bcontains evt.buffer cafebabe)");
	expect_ast("fd.name startswith /etc/", "(startswith fd.name /etc/)");
	expect_ast("evt.buffer bstartswith 7f454c46", "(bstartswith evt.buffer 7f454c46)");
	expect_ast("fd.name endswith .so", "(endswith fd.name .so)");
	expect_ast("fd.name glob '/home/*/.ssh/*'", "(glob fd.name \"/home/*/.ssh/*\")");
	expect_ast("fd.name glob /proc/*/environ", "(glob fd.name /proc/*/environ)");
	expect_ast("fd.name iglob *.PEM", "(iglob fd.name *.PEM)");
	expect_ast("proc.cmdline regex '^curl .*\\\\|'", "(regex proc.cmdline \"^curl .*\\\\|\")");
	expect_ast("proc.name in (a, 'b c', \"d\", runc:[0:PARENT])",
		   "(in proc.name (a \"b c\" \"d\" runc:[0:PARENT]))");
	expect_ast("proc.name in ()", "(in proc.name ())");
	expect_ast("proc.name in(a,b)", "(in proc.name (a b))");
	expect_ast("proc.name in shell_binaries", "(in proc.name shell_binaries)");
	expect_ast("proc.args intersects (\"-V\", \"-l\")", "(intersects proc.args (\"-V\" \"-l\"))");
	expect_ast("fd.name pmatch (known_dirs)", "(pmatch fd.name (known_dirs))");
	expect_ast("proc.pname exists", "(exists proc.pname)");
	expect_ast("not proc.pname exists or x", "(or (not (exists proc.pname)) x)");
	expect_ast("fd.typechar='f'", "(= fd.typechar \"f\")");
	expect_ast("fd.net != \"127.0.0.0/8\"", "(!= fd.net \"127.0.0.0/8\")");
	expect_ast("evt.type=open and evt.dir=<", "(and (= evt.type open) (= evt.dir <))");
	expect_ast("proc.name = 'multi\nline'", "(= proc.name \"multi\nline\")");
}

static void test_fields_and_transformers(void **state)
{
	expect_ast("proc.aname[2] = sshd", "(= proc.aname[2] sshd)");
	expect_ast("proc.aexepath[2] endswith /sh", "(endswith proc.aexepath[2] /sh)");
	expect_ast("container.mount.dest[/proc*] in (\"<NA>\",\"N/A\")",
		   "(in container.mount.dest[/proc*] (\"<NA>\" \"N/A\"))");
	expect_ast("k8s.pod.label['app name'] = x", "(= k8s.pod.label[\"app name\"] x)");
	expect_ast("evt.arg.flags contains O_TRUNC", "(contains evt.arg.flags O_TRUNC)");
	expect_ast("evt.arg[0] = 1", "(= evt.arg[0] 1)");
	expect_ast("tolower(proc.name) = bash", "(= tolower(proc.name) bash)");
	expect_ast("toupper( proc.name ) = BASH", "(= toupper(proc.name) BASH)");
	expect_ast("b64(evt.arg.data) contains x", "(contains b64(evt.arg.data) x)");
	expect_ast("basename(proc.exepath) = sh", "(= basename(proc.exepath) sh)");
	expect_ast("len(proc.args) > 100", "(> len(proc.args) 100)");
	expect_ast("tolower(basename(fd.name)) = x", "(= tolower(basename(fd.name)) x)");
	expect_ast("proc.name = val(proc.pname)", "(= proc.name val(proc.pname))");
	expect_ast("proc.pid > val(proc.ppid)", "(> proc.pid val(proc.ppid))");
	expect_ast("fd.name = tolower(proc.name)", "(= fd.name tolower(proc.name))");
	expect_ast("proc.name in val(proc.pname)", "(in proc.name val(proc.pname))");
}

static void test_positions(void **state)
{
	const char *s = "a and\n   proc.aname[2] in (x,\n 'y')";
	struct shk_ast *a = shk_parse_condition(s, strlen(s), NULL), *c, *l;

	assert_non_null(a);
	assert_int_equal(a->kind, SHK_AST_AND);
	assert_int_equal(a->pos.off, 0);
	c = a->kids.v[1];
	assert_int_equal(c->kind, SHK_AST_CHECK);
	assert_int_equal(c->pos.line, 2);
	assert_int_equal(c->pos.col, 4);
	assert_int_equal(c->pos.off, 9);
	assert_int_equal(c->check.lhs->kind, SHK_AST_FIELD);
	assert_string_equal(c->check.lhs->field.name, "proc.aname");
	assert_string_equal(c->check.lhs->field.arg, "2");
	assert_int_equal(c->check.lhs->field.arg_pos.col, 15);
	assert_int_equal(c->check.op, SHK_OP_IN);
	assert_int_equal(c->check.op_pos.col, 18);
	l = c->check.rhs;
	assert_int_equal(l->kind, SHK_AST_LIST);
	assert_int_equal(l->pos.col, 21);
	assert_int_equal(l->kids.n, 2);
	assert_int_equal(l->kids.v[1]->pos.line, 3);
	assert_int_equal(l->kids.v[1]->pos.col, 2);
	assert_true(l->kids.v[1]->value.quoted);
	assert_false(l->kids.v[0]->value.quoted);
	shk_ast_free(a);
}

static void test_errors(void **state)
{
	expect_err("", 1, 1, "empty condition");
	expect_err(" \n\t", 1, 1, "empty condition");
	expect_err("(a and b", 1, 1, "unbalanced parenthesis: '(' is never closed");
	expect_err("a and b)", 1, 8, "unbalanced parenthesis: unexpected ')'");
	expect_err("proc.name in (a, b", 1, 19, "list is never closed");
	expect_err("proc.name in (a, )", 1, 18, "expected a string value");
	expect_err("proc.name", 1, 10, "expected a valid check operator");
	expect_err("proc.name like x", 1, 11, "expected a valid check operator");
	expect_err("proc.name =", 1, 12, "expected a string value");
	expect_err("fd.sport > abc", 1, 12, "expected a number value");
	expect_err("proc.name in x.y", 1, 15, "unexpected token '.y'");
	expect_err("proc.name in 9", 1, 14, "expected a list, an identifier");
	expect_err("a and", 1, 3, "expected blank or '(' after 'and'");
	expect_err("a and ", 1, 7, "expected a '(' token, a field check, or an identifier");
	expect_err("a andb", 1, 3, "unexpected token 'andb'");
	expect_err("a b", 1, 3, "unexpected token 'b'");
	expect_err("proc.aname[2 = x", 1, 13, "expected a ']' token");
	expect_err("proc.aname[] = x", 1, 12, "expected a valid field argument");
	expect_err("tolower(x) = y", 1, 9, "expected a field or a nested valid transformer");
	expect_err("tolower(proc.name = y", 1, 19, "expected a ')' token closing the transformer");
	expect_err("proc.name = val(tolower(proc.name))", 1, 17, "expected a field within 'val'");
	expect_err("val(proc.name) = x", 1, 1, "expected a '(' token");
	expect_err("proc.name = \"abc", 1, 13, "unterminated quoted string");
	expect_err("proc.name = \"a\\qb\"", 1, 13, "unsupported string escape sequence");
	expect_err("a and\n  (b or\n   c", 2, 3, "'(' is never closed");
	expect_err("a\n  or\n  = x", 3, 3, "expected a '(' token");
}

static void test_depth(void **state)
{
	char buf[4096];
	int n = SHK_PARSE_MAX_DEPTH + 5;
	struct shk_parse_error err;
	struct shk_ast *a;

	/* within the bound */
	memset(buf, '(', 50);
	buf[50] = 'a';
	memset(buf + 51, ')', 50);
	a = shk_parse_condition(buf, 101, &err);
	assert_non_null(a);
	shk_ast_free(a);
	/* beyond: an error, not a crash */
	memset(buf, '(', n);
	buf[n] = 'a';
	memset(buf + n + 1, ')', n);
	a = shk_parse_condition(buf, 2 * n + 1, &err);
	assert_null(a);
	assert_non_null(strstr(err.msg, "nested too deeply"));
	/* transformers nest too */
	buf[0] = '\0';
	for (int i = 0; i < n; i++)
		strcat(buf, "tolower(");
	strcat(buf, "proc.name");
	for (int i = 0; i < n; i++)
		strcat(buf, ")");
	strcat(buf, " = x");
	a = shk_parse_condition(buf, strlen(buf), &err);
	assert_null(a);
	assert_non_null(strstr(err.msg, "nested too deeply"));
	/* long flat chains are not nesting */
	buf[0] = '\0';
	for (int i = 0; i < 300; i++)
		strcat(buf, i ? " and not m" : "m");
	a = shk_parse_condition(buf, strlen(buf), &err);
	assert_non_null(a);
	assert_int_equal(a->kids.n, 300);
	shk_ast_free(a);
}

static void test_format_truncates(void **state)
{
	struct shk_ast *a = shk_parse_condition("proc.name in (a, b)", 19, NULL);
	char small[8];

	assert_int_equal(shk_ast_format(a, small, sizeof(small)), 20);
	assert_string_equal(small, "(in pro");
	shk_ast_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boolean),
		cmocka_unit_test(test_operators),
		cmocka_unit_test(test_fields_and_transformers),
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_format_truncates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
