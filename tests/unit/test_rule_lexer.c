// SPDX-License-Identifier: Apache-2.0
/* Lexer for Falco conditions: token classes, quoting, positions. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rule_lexer.h"

static struct shk_token lex1(const char *s, enum shk_lex_mode mode)
{
	struct shk_lexer lx;
	struct shk_token t;

	shk_lex_init(&lx, s, strlen(s));
	assert_int_equal(shk_lex_next(&lx, mode, &t), 0);
	return t;
}

static void expect_tok(const char *s, enum shk_lex_mode mode,
		       enum shk_tok_kind kind, size_t len)
{
	struct shk_token t = lex1(s, mode);

	assert_int_equal(t.kind, kind);
	assert_int_equal(t.len, len);
	shk_token_fini(&t);
}

static void test_expr_tokens(void **state)
{
	struct shk_token t;

	expect_tok("proc.name=x", SHK_LEX_EXPR, SHK_TOK_FIELD, 9);
	expect_tok("evt.arg.flags contains", SHK_LEX_EXPR, SHK_TOK_FIELD, 13);
	expect_tok("proc.aname[2]", SHK_LEX_EXPR, SHK_TOK_FIELD, 10);
	expect_tok("spawned_process and", SHK_LEX_EXPR, SHK_TOK_IDENT, 15);
	expect_tok("and x", SHK_LEX_EXPR, SHK_TOK_AND, 3);
	expect_tok("or(x)", SHK_LEX_EXPR, SHK_TOK_OR, 2);
	expect_tok("not x", SHK_LEX_EXPR, SHK_TOK_NOT, 3);
	expect_tok("not(x)", SHK_LEX_EXPR, SHK_TOK_NOT, 3);
	/* a macro whose name starts with a keyword */
	expect_tok("nothing", SHK_LEX_EXPR, SHK_TOK_IDENT, 7);
	expect_tok("order", SHK_LEX_EXPR, SHK_TOK_IDENT, 5);
	/* "proc." is not a field name: the identifier stops at the dot */
	expect_tok("proc. x", SHK_LEX_EXPR, SHK_TOK_IDENT, 4);
	expect_tok("(", SHK_LEX_EXPR, SHK_TOK_LPAREN, 1);
	expect_tok(")", SHK_LEX_EXPR, SHK_TOK_RPAREN, 1);
	expect_tok("", SHK_LEX_EXPR, SHK_TOK_EOF, 0);
	expect_tok("=x", SHK_LEX_EXPR, SHK_TOK_ERROR, 1);

	t = lex1("tolower(proc.name)", SHK_LEX_EXPR);
	assert_int_equal(t.kind, SHK_TOK_TRANSFORMER);
	assert_int_equal(t.xform, SHK_XF_TOLOWER);
	assert_int_equal(t.len, 8);
	t = lex1("basename(fd.name)", SHK_LEX_EXPR);
	assert_int_equal(t.xform, SHK_XF_BASENAME);
	t = lex1("len(proc.args)", SHK_LEX_EXPR);
	assert_int_equal(t.xform, SHK_XF_LEN);
	t = lex1("b64(x.y)", SHK_LEX_EXPR);
	assert_int_equal(t.xform, SHK_XF_B64);
	t = lex1("val(proc.pname)", SHK_LEX_VALUE);
	assert_int_equal(t.kind, SHK_TOK_TRANSFORMER);
	assert_int_equal(t.xform, SHK_XF_VAL);
	/* without the parenthesis it is a plain identifier */
	expect_tok("tolower (x)", SHK_LEX_EXPR, SHK_TOK_IDENT, 7);
}

static void test_operators(void **state)
{
	static const struct {
		const char *s;
		enum shk_op op;
		size_t len;
	} ops[] = {
		{ "= x", SHK_OP_EQ, 1 },	  { "==x", SHK_OP_EQ, 2 },
		{ "!=x", SHK_OP_NE, 2 },	  { "<1", SHK_OP_LT, 1 },
		{ "<=1", SHK_OP_LE, 2 },	  { ">1", SHK_OP_GT, 1 },
		{ ">= 1", SHK_OP_GE, 2 },	  { "contains x", SHK_OP_CONTAINS, 8 },
		{ "icontains x", SHK_OP_ICONTAINS, 9 },
		{ "bcontains 00", SHK_OP_BCONTAINS, 9 },
		{ "startswith x", SHK_OP_STARTSWITH, 10 },
		{ "bstartswith 00", SHK_OP_BSTARTSWITH, 11 },
		{ "endswith x", SHK_OP_ENDSWITH, 8 },
		{ "glob x", SHK_OP_GLOB, 4 },	  { "iglob x", SHK_OP_IGLOB, 5 },
		{ "regex x", SHK_OP_REGEX, 5 },	  { "in (a)", SHK_OP_IN, 2 },
		{ "in(a)", SHK_OP_IN, 2 },	  { "intersects (a)", SHK_OP_INTERSECTS, 10 },
		{ "pmatch (a)", SHK_OP_PMATCH, 6 }, { "exists", SHK_OP_EXISTS, 6 },
		{ "exists)", SHK_OP_EXISTS, 6 },
	};

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		struct shk_token t = lex1(ops[i].s, SHK_LEX_OPERATOR);

		assert_int_equal(t.kind, SHK_TOK_OP);
		assert_int_equal(t.op, ops[i].op);
		assert_int_equal(t.len, ops[i].len);
	}
	/* word operators need a blank after them, as in Falco */
	expect_tok("contains\"x\"", SHK_LEX_OPERATOR, SHK_TOK_ERROR, 1);
	expect_tok("inx", SHK_LEX_OPERATOR, SHK_TOK_ERROR, 1);
	expect_tok("like x", SHK_LEX_OPERATOR, SHK_TOK_ERROR, 1);

	assert_int_equal(shk_op_from_name("==", 2), SHK_OP_EQ);
	assert_int_equal(shk_op_from_name("pmatch", 6), SHK_OP_PMATCH);
	assert_int_equal(shk_op_from_name("like", 4), -EINVAL);
	assert_string_equal(shk_op_name(SHK_OP_BSTARTSWITH), "bstartswith");
	assert_true(shk_op_is_list(SHK_OP_INTERSECTS));
	assert_false(shk_op_is_list(SHK_OP_EQ));
}

static void test_values(void **state)
{
	struct shk_token t;

	/* Falco's BareStr: anything but ()"' blanks = and , */
	expect_tok("runc:[0:PARENT], x", SHK_LEX_ITEM, SHK_TOK_BARE, 15);
	expect_tok("/usr/bin/* and", SHK_LEX_VALUE, SHK_TOK_BARE, 10);
	expect_tok("a<b>c!d)", SHK_LEX_VALUE, SHK_TOK_BARE, 7);
	expect_tok("127.0.0.0/8)", SHK_LEX_VALUE, SHK_TOK_BARE, 11);
	expect_tok("-x.y", SHK_LEX_VALUE, SHK_TOK_BARE, 4);
	expect_tok(",", SHK_LEX_ITEM, SHK_TOK_COMMA, 1);
	expect_tok(")", SHK_LEX_ITEM, SHK_TOK_RPAREN, 1);
	expect_tok("=", SHK_LEX_VALUE, SHK_TOK_ERROR, 1);

	t = lex1("\"a \\\"b\\\\c\\n\" x", SHK_LEX_VALUE);
	assert_int_equal(t.kind, SHK_TOK_STRING);
	assert_int_equal(t.len, 12);
	assert_string_equal(t.str, "a \"b\\c\n");
	shk_token_fini(&t);
	t = lex1("'it\\'s (here)'", SHK_LEX_ITEM);
	assert_int_equal(t.kind, SHK_TOK_STRING);
	assert_string_equal(t.str, "it's (here)");
	shk_token_fini(&t);
	t = lex1("'a\\/b\\tc'", SHK_LEX_VALUE);
	assert_string_equal(t.str, "a/b\tc");
	shk_token_fini(&t);
	/* Falco: "\ " yields a backslash */
	t = lex1("'a\\ b'", SHK_LEX_VALUE);
	assert_string_equal(t.str, "a\\b");
	shk_token_fini(&t);
	t = lex1("\"\"", SHK_LEX_VALUE);
	assert_int_equal(t.kind, SHK_TOK_STRING);
	assert_int_equal(t.str_len, 0);
	shk_token_fini(&t);

	t = lex1("'a\\\"b'", SHK_LEX_VALUE);
	assert_int_equal(t.kind, SHK_TOK_ERROR);
	assert_string_equal(t.msg, "invalid \\\" escape in '-quoted string");
	t = lex1("\"\\q\"", SHK_LEX_VALUE);
	assert_int_equal(t.kind, SHK_TOK_ERROR);
	assert_string_equal(t.msg, "unsupported string escape sequence");
	t = lex1("\"abc", SHK_LEX_VALUE);
	assert_int_equal(t.kind, SHK_TOK_ERROR);
	assert_string_equal(t.msg, "unterminated quoted string");

	expect_tok("0x1F)", SHK_LEX_NUMBER, SHK_TOK_NUMBER, 4);
	expect_tok("-12 ", SHK_LEX_NUMBER, SHK_TOK_NUMBER, 3);
	expect_tok("+1.5e+3", SHK_LEX_NUMBER, SHK_TOK_NUMBER, 7);
	expect_tok("abc", SHK_LEX_NUMBER, SHK_TOK_ERROR, 1);

	expect_tok("/proc*]", SHK_LEX_FIELD_ARG, SHK_TOK_BARE, 6);
	expect_tok("]", SHK_LEX_FIELD_ARG, SHK_TOK_RBRACKET, 1);
	expect_tok("'a b']", SHK_LEX_FIELD_ARG, SHK_TOK_STRING, 5);
	expect_tok("(a)", SHK_LEX_LIST, SHK_TOK_LPAREN, 1);
	expect_tok("shell_binaries", SHK_LEX_LIST, SHK_TOK_IDENT, 14);
}

static void test_positions(void **state)
{
	const char *s = "a and\n  \tproc.name =\r\n 'x\ny' or b";
	struct shk_lexer lx;
	struct shk_token t;
	enum shk_lex_mode modes[] = { SHK_LEX_EXPR, SHK_LEX_EXPR, SHK_LEX_EXPR,
				      SHK_LEX_OPERATOR, SHK_LEX_VALUE, SHK_LEX_EXPR,
				      SHK_LEX_EXPR };
	struct {
		uint32_t off, line, col;
	} want[] = { { 0, 1, 1 },   { 2, 1, 3 },   { 9, 2, 4 }, { 19, 2, 14 },
		     { 23, 3, 2 }, { 29, 4, 4 }, { 32, 4, 7 } };

	shk_lex_init(&lx, s, strlen(s));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		shk_lex_blank(&lx);
		assert_int_equal(shk_lex_next(&lx, modes[i], &t), 0);
		assert_int_not_equal(t.kind, SHK_TOK_ERROR);
		assert_int_equal(t.pos.off, want[i].off);
		assert_int_equal(t.pos.line, want[i].line);
		assert_int_equal(t.pos.col, want[i].col);
		shk_token_fini(&t);
	}
	assert_true(shk_lex_at_end(&lx));
	/* peek does not move */
	shk_lex_init(&lx, s, strlen(s));
	assert_int_equal(shk_lex_peek(&lx, SHK_LEX_EXPR, &t), 0);
	assert_int_equal(lx.pos.off, 0);
}

static void test_diags(void **state)
{
	struct shk_diags d;
	struct shk_loc l = { .file = "r.yaml", .line = 12, .col = 17 };
	char buf[256];

	shk_diags_init(&d);
	assert_int_equal(shk_diags_add(&d, SHK_DIAG_ERROR, &l, "proc.nmae", 9,
				       "unknown field '%s'", "proc.nmae"), 0);
	assert_int_equal(shk_diags_add(&d, SHK_DIAG_WARNING, NULL, NULL, 0, "w"), 0);
	assert_int_equal(d.n, 2);
	assert_int_equal(d.nerrors, 1);
	assert_int_equal(d.nwarnings, 1);
	shk_diag_format(&d.v[0], buf, sizeof(buf));
	assert_string_equal(buf, "r.yaml:12:17: error: unknown field 'proc.nmae'");
	assert_string_equal(d.v[0].text, "proc.nmae");
	shk_diag_format(&d.v[1], buf, sizeof(buf));
	assert_string_equal(buf, "<input>: warning: w");
	assert_ptr_equal(shk_diags_find(&d, "unknown field"), &d.v[0]);
	assert_null(shk_diags_find(&d, "nothing"));
	/* bounded */
	for (int i = 0; i < SHK_DIAGS_MAX + 10; i++)
		shk_diags_add(&d, SHK_DIAG_NOTICE, &l, NULL, 0, "n%d", i);
	assert_int_equal(d.n, SHK_DIAGS_MAX);
	assert_int_equal(d.nnotices, SHK_DIAGS_MAX + 10);
	assert_int_equal(d.ndropped, 12);
	shk_diags_clear(&d);
	assert_int_equal(d.n, 0);
	shk_diags_clear(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expr_tokens),
		cmocka_unit_test(test_operators),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_positions),
		cmocka_unit_test(test_diags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
