// SPDX-License-Identifier: Apache-2.0
/*
 * Recursive-descent parser for Falco conditions. The accepted language is
 * the one libsinsp's filter parser accepts, so upstream rule files parse
 * unchanged:
 *
 *   Expr         ::= OrExpr
 *   OrExpr       ::= AndExpr ( 'or' ( Blank AndExpr | '(' Expr ')' ) )*
 *   AndExpr      ::= NotExpr ( 'and' ( Blank NotExpr | '(' Expr ')' ) )*
 *   NotExpr      ::= ( 'not' ( Blank | &'(' ) )* Check
 *   Check        ::= '(' Expr ')'
 *                  | Field Condition
 *                  | Transformer Condition
 *                  | Identifier                        (macro reference)
 *   Transformer  ::= XformName '(' Blank? ( Transformer | Field ) Blank? ')'
 *   XformName    ::= 'tolower' | 'toupper' | 'b64' | 'basename' | 'len'
 *   RhsField     ::= 'val(' Blank? Field Blank? ')' | Transformer
 *   Condition    ::= 'exists'
 *                  | NumOp ( NumValue | RhsField )
 *                  | StrOp ( StrValue | RhsField )
 *                  | ListOp ( ListValue | RhsField )
 *   ListValue    ::= '(' Blank? ( StrValue ( Blank? ',' Blank? StrValue )* )?
 *                    Blank? ')'
 *                  | Identifier                        (named list)
 *   Field        ::= FieldName ( '[' ( QuotedStr | FieldArgBareStr ) ']' )?
 *   NumValue     ::= HexNumber | Number
 *   StrValue     ::= QuotedStr | BareStr
 *   NumOp        ::= '<=' | '<' | '>=' | '>'
 *   StrOp        ::= '==' | '=' | '!=' | 'glob' | 'iglob' | 'contains'
 *                  | 'icontains' | 'bcontains' | 'startswith'
 *                  | 'bstartswith' | 'endswith' | 'regex'
 *   ListOp       ::= 'in' | 'intersects' | 'pmatch'
 *
 * Tokens (see rule_lexer.c):
 *   Identifier      ::= [a-zA-Z][a-zA-Z0-9_]*
 *   FieldName       ::= Identifier ( '.' Identifier )+
 *   FieldArgBareStr ::= [^][\"'[:space:]]+
 *   HexNumber       ::= 0[xX][0-9a-fA-F]+
 *   Number          ::= [+-]?[0-9]+\.?[0-9]*([eE][+-][0-9]+)?
 *   QuotedStr       ::= "..." | '...'   (backslash escapes, Falco's set)
 *   BareStr         ::= [^()\"'[:space:]=,]+
 *   Blank           ::= [ \t\b\r\n]+
 *
 * Word operators other than exists/in/intersects/pmatch must be followed by
 * a blank, as in Falco. and/or/not are lowercase keywords.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rule_parser.h"

struct parser {
	struct shk_lexer lx;
	struct shk_parse_error *err;
	int depth;
	bool failed;
	bool nomem;
};

/* ---- AST helpers ------------------------------------------------------ */

struct shk_ast *shk_ast_new(enum shk_ast_kind kind, struct shk_pos pos)
{
	struct shk_ast *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->kind = kind;
	a->pos = pos;
	return a;
}

int shk_ast_add_kid(struct shk_ast *parent, struct shk_ast *kid)
{
	struct shk_ast **v;
	uint32_t n = parent->kids.n;

	/* grow by doubling: capacity is implied by n (next power of two) */
	if ((n & (n - 1)) == 0) {
		size_t cap = n ? (size_t)n * 2 : 2;

		v = realloc(parent->kids.v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		parent->kids.v = v;
	}
	parent->kids.v[parent->kids.n++] = kid;
	return 0;
}

static char *dup_bytes(const char *s, size_t len)
{
	char *d = malloc(len + 1);

	if (!d)
		return NULL;
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

struct shk_ast *shk_ast_new_value(const char *s, size_t len, bool quoted,
				  struct shk_pos pos)
{
	struct shk_ast *a = shk_ast_new(SHK_AST_VALUE, pos);

	if (!a)
		return NULL;
	a->value.s = dup_bytes(s, len);
	if (!a->value.s) {
		free(a);
		return NULL;
	}
	a->value.len = len;
	a->value.quoted = quoted;
	a->span = len;
	return a;
}

struct shk_ast *shk_ast_new_field(const char *name, size_t len,
				  struct shk_pos pos)
{
	struct shk_ast *a = shk_ast_new(SHK_AST_FIELD, pos);

	if (!a)
		return NULL;
	a->field.name = dup_bytes(name, len);
	if (!a->field.name) {
		free(a);
		return NULL;
	}
	a->field.name_len = len;
	a->span = len;
	return a;
}

void shk_ast_free(struct shk_ast *a)
{
	if (!a)
		return;
	switch (a->kind) {
	case SHK_AST_AND:
	case SHK_AST_OR:
	case SHK_AST_LIST:
		for (uint32_t i = 0; i < a->kids.n; i++)
			shk_ast_free(a->kids.v[i]);
		free(a->kids.v);
		break;
	case SHK_AST_NOT:
		shk_ast_free(a->kid);
		break;
	case SHK_AST_CHECK:
		shk_ast_free(a->check.lhs);
		shk_ast_free(a->check.rhs);
		break;
	case SHK_AST_FIELD:
		free(a->field.name);
		free(a->field.arg);
		break;
	case SHK_AST_XFORM:
		shk_ast_free(a->xform.arg);
		break;
	case SHK_AST_MACRO:
	case SHK_AST_VALUE:
		free(a->value.s);
		break;
	}
	free(a);
}

/* ---- errors ----------------------------------------------------------- */

/* Length of the "word" at off, for quoting the offending text. */
static size_t word_at(const struct shk_lexer *lx, uint32_t off)
{
	size_t n = 0;

	while (off + n < lx->len && n < 40) {
		char c = lx->s[off + n];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\b')
			break;
		n++;
		if (c == '(' || c == ')' || c == ',')
			break;
	}
	return n;
}

static void __attribute__((format(printf, 3, 4)))
fail(struct parser *p, struct shk_pos pos, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return;
	p->failed = true;
	if (!p->err)
		return;
	p->err->pos = pos;
	p->err->text = p->lx.s + pos.off;
	p->err->text_len = word_at(&p->lx, pos.off);
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
}

static void fail_tok(struct parser *p, const struct shk_token *t,
		     const char *what)
{
	if (t->kind == SHK_TOK_EOF)
		fail(p, t->pos, "%s, found end of condition", what);
	else if (t->kind == SHK_TOK_ERROR && t->msg && what != t->msg &&
		 strcmp(t->msg, what))
		fail(p, t->pos, "%s (%s)", what, t->msg);
	else
		fail(p, t->pos, "%s", what);
}

static int next(struct parser *p, enum shk_lex_mode mode, struct shk_token *t)
{
	if (shk_lex_next(&p->lx, mode, t) < 0) {
		p->nomem = true;
		p->failed = true;
		return -ENOMEM;
	}
	return 0;
}

static enum shk_tok_kind peek_kind(struct parser *p, enum shk_lex_mode mode)
{
	struct shk_token t;
	enum shk_tok_kind k;

	if (shk_lex_peek(&p->lx, mode, &t) < 0) {
		p->nomem = true;
		p->failed = true;
		return SHK_TOK_ERROR;
	}
	k = t.kind;
	shk_token_fini(&t);
	return k;
}

static struct shk_ast *oom(struct parser *p)
{
	p->nomem = true;
	p->failed = true;
	return NULL;
}

/* ---- grammar ---------------------------------------------------------- */

static struct shk_ast *parse_or(struct parser *p);

static bool enter(struct parser *p)
{
	if (++p->depth > SHK_PARSE_MAX_DEPTH) {
		fail(p, p->lx.pos, "condition nested too deeply (more than %d levels)",
		     SHK_PARSE_MAX_DEPTH);
		return false;
	}
	return true;
}

/* After a '(' at open: Expr ')' */
static struct shk_ast *parse_embedded(struct parser *p, struct shk_pos open)
{
	struct shk_ast *e;
	struct shk_token t;

	shk_lex_blank(&p->lx);
	e = parse_or(p);
	if (!e)
		return NULL;
	shk_lex_blank(&p->lx);
	if (next(p, SHK_LEX_PUNCT, &t) < 0)
		goto err;
	if (t.kind != SHK_TOK_RPAREN) {
		if (t.kind == SHK_TOK_EOF)
			fail(p, open, "unbalanced parenthesis: '(' is never closed");
		else
			fail(p, t.pos, "expected a ')' token");
		goto err;
	}
	return e;
err:
	shk_ast_free(e);
	return NULL;
}

static struct shk_ast *parse_field_rest(struct parser *p,
					const struct shk_token *name)
{
	struct shk_ast *f = shk_ast_new_field(name->start, name->len, name->pos);
	struct shk_token t;

	if (!f)
		return oom(p);
	if (p->lx.pos.off >= p->lx.len || p->lx.s[p->lx.pos.off] != '[')
		return f;
	if (next(p, SHK_LEX_PUNCT, &t) < 0 || next(p, SHK_LEX_FIELD_ARG, &t) < 0)
		goto err;
	if (t.kind == SHK_TOK_STRING) {
		f->field.arg = t.str;
		f->field.arg_len = t.str_len;
		f->field.arg_quoted = true;
	} else if (t.kind == SHK_TOK_BARE) {
		f->field.arg = dup_bytes(t.start, t.len);
		if (!f->field.arg) {
			oom(p);
			goto err;
		}
		f->field.arg_len = t.len;
	} else {
		fail_tok(p, &t, "expected a valid field argument: a quoted string or a bare string");
		goto err;
	}
	f->field.arg_pos = t.pos;
	if (next(p, SHK_LEX_PUNCT, &t) < 0)
		goto err;
	if (t.kind != SHK_TOK_RBRACKET) {
		fail_tok(p, &t, "expected a ']' token");
		goto err;
	}
	f->span = p->lx.pos.off - f->pos.off;
	return f;
err:
	shk_ast_free(f);
	return NULL;
}

/* After "xform(": ( Transformer | Field ) ')' */
static struct shk_ast *parse_xform_rest(struct parser *p, enum shk_xform xf,
					struct shk_pos pos)
{
	struct shk_ast *x, *arg = NULL;
	struct shk_token t;

	if (!enter(p))
		return NULL;
	x = shk_ast_new(SHK_AST_XFORM, pos);
	if (!x) {
		p->depth--;
		return oom(p);
	}
	x->xform.xf = xf;
	shk_lex_blank(&p->lx);
	if (next(p, SHK_LEX_EXPR, &t) < 0)
		goto err;
	if (t.kind == SHK_TOK_FIELD) {
		arg = parse_field_rest(p, &t);
	} else if (t.kind == SHK_TOK_TRANSFORMER && xf != SHK_XF_VAL &&
		   t.xform != SHK_XF_VAL) {
		arg = parse_xform_rest(p, t.xform, t.pos);
	} else {
		fail_tok(p, &t, xf == SHK_XF_VAL ?
				 "expected a field within 'val' transformer" :
				 "expected a field or a nested valid transformer: 'tolower', 'toupper', 'b64', 'basename', 'len'");
		goto err;
	}
	if (!arg)
		goto err;
	x->xform.arg = arg;
	shk_lex_blank(&p->lx);
	if (next(p, SHK_LEX_PUNCT, &t) < 0)
		goto err;
	if (t.kind != SHK_TOK_RPAREN) {
		fail_tok(p, &t, "expected a ')' token closing the transformer");
		goto err;
	}
	x->span = p->lx.pos.off - pos.off;
	p->depth--;
	return x;
err:
	p->depth--;
	shk_ast_free(x);
	return NULL;
}

static struct shk_ast *parse_list_items(struct parser *p, struct shk_pos pos)
{
	struct shk_ast *l = shk_ast_new(SHK_AST_LIST, pos);
	struct shk_token t;
	bool first = true;

	if (!l)
		return oom(p);
	for (;;) {
		struct shk_ast *v;

		shk_lex_blank(&p->lx);
		if (next(p, SHK_LEX_ITEM, &t) < 0)
			goto err;
		if (first && t.kind == SHK_TOK_RPAREN)
			break; /* () */
		if (t.kind == SHK_TOK_STRING) {
			v = shk_ast_new(SHK_AST_VALUE, t.pos);
			if (!v) {
				shk_token_fini(&t);
				oom(p);
				goto err;
			}
			v->value.s = t.str;
			v->value.len = t.str_len;
			v->value.quoted = true;
			v->span = t.len;
		} else if (t.kind == SHK_TOK_BARE) {
			v = shk_ast_new_value(t.start, t.len, false, t.pos);
			if (!v) {
				oom(p);
				goto err;
			}
		} else {
			fail_tok(p, &t, t.kind == SHK_TOK_EOF ?
					 "unbalanced parenthesis: list is never closed" :
					 "expected a string value");
			goto err;
		}
		if (shk_ast_add_kid(l, v) < 0) {
			shk_ast_free(v);
			oom(p);
			goto err;
		}
		first = false;
		shk_lex_blank(&p->lx);
		if (next(p, SHK_LEX_ITEM, &t) < 0)
			goto err;
		shk_token_fini(&t);
		if (t.kind == SHK_TOK_RPAREN)
			break;
		if (t.kind != SHK_TOK_COMMA) {
			fail_tok(p, &t, t.kind == SHK_TOK_EOF ?
					 "unbalanced parenthesis: list is never closed" :
					 "expected ',' or ')' in list");
			goto err;
		}
	}
	l->span = p->lx.pos.off - pos.off;
	return l;
err:
	shk_ast_free(l);
	return NULL;
}

static struct shk_ast *parse_rhs(struct parser *p, enum shk_op op)
{
	struct shk_token t;
	enum shk_lex_mode mode;
	struct shk_ast *v;

	shk_lex_blank(&p->lx);
	if (op == SHK_OP_LT || op == SHK_OP_LE || op == SHK_OP_GT || op == SHK_OP_GE)
		mode = SHK_LEX_NUMBER;
	else if (shk_op_is_list(op))
		mode = SHK_LEX_LIST;
	else
		mode = SHK_LEX_VALUE;
	if (next(p, mode, &t) < 0)
		return NULL;
	switch (t.kind) {
	case SHK_TOK_TRANSFORMER:
		return parse_xform_rest(p, t.xform, t.pos);
	case SHK_TOK_LPAREN:
		return parse_list_items(p, t.pos);
	case SHK_TOK_STRING:
		v = shk_ast_new(SHK_AST_VALUE, t.pos);
		if (!v) {
			shk_token_fini(&t);
			return oom(p);
		}
		v->value.s = t.str;
		v->value.len = t.str_len;
		v->value.quoted = true;
		v->span = t.len;
		return v;
	case SHK_TOK_BARE:
	case SHK_TOK_IDENT:
	case SHK_TOK_NUMBER:
		v = shk_ast_new_value(t.start, t.len, false, t.pos);
		if (!v)
			return oom(p);
		v->value.number = t.kind == SHK_TOK_NUMBER;
		return v;
	default:
		break;
	}
	if (mode == SHK_LEX_NUMBER)
		fail_tok(p, &t, "expected a number value or a field with a valid transformer");
	else if (mode == SHK_LEX_LIST)
		fail_tok(p, &t, "expected a list, an identifier, or a field with a valid transformer");
	else
		fail_tok(p, &t, t.kind == SHK_TOK_ERROR && t.msg ? t.msg :
				 "expected a string value or a field with a valid transformer");
	return NULL;
}

static struct shk_ast *parse_condition(struct parser *p, struct shk_ast *lhs,
				       struct shk_pos pos)
{
	struct shk_ast *c;
	struct shk_token t;

	shk_lex_blank(&p->lx);
	if (next(p, SHK_LEX_OPERATOR, &t) < 0)
		goto err;
	if (t.kind != SHK_TOK_OP) {
		fail_tok(p, &t, "expected a valid check operator: one of '=', '==', '!=', '<', '<=', '>', '>=', 'contains', 'icontains', 'bcontains', 'startswith', 'bstartswith', 'endswith', 'glob', 'iglob', 'regex', 'in', 'intersects', 'pmatch', 'exists'");
		goto err;
	}
	c = shk_ast_new(SHK_AST_CHECK, pos);
	if (!c) {
		oom(p);
		goto err;
	}
	c->check.lhs = lhs;
	c->check.op = t.op;
	c->check.op_pos = t.pos;
	if (t.op != SHK_OP_EXISTS) {
		c->check.rhs = parse_rhs(p, t.op);
		if (!c->check.rhs) {
			shk_ast_free(c);
			return NULL;
		}
	}
	c->span = p->lx.pos.off - pos.off;
	return c;
err:
	shk_ast_free(lhs);
	return NULL;
}

static struct shk_ast *parse_check(struct parser *p)
{
	struct shk_token t;
	struct shk_ast *lhs, *m;

	shk_lex_blank(&p->lx);
	if (next(p, SHK_LEX_EXPR, &t) < 0)
		return NULL;
	switch (t.kind) {
	case SHK_TOK_LPAREN:
		return parse_embedded(p, t.pos);
	case SHK_TOK_FIELD:
		lhs = parse_field_rest(p, &t);
		return lhs ? parse_condition(p, lhs, t.pos) : NULL;
	case SHK_TOK_TRANSFORMER:
		if (t.xform == SHK_XF_VAL)
			break;
		lhs = parse_xform_rest(p, t.xform, t.pos);
		return lhs ? parse_condition(p, lhs, t.pos) : NULL;
	case SHK_TOK_IDENT:
		m = shk_ast_new_value(t.start, t.len, false, t.pos);
		if (!m)
			return oom(p);
		m->kind = SHK_AST_MACRO;
		return m;
	case SHK_TOK_RPAREN:
		fail(p, t.pos, "unbalanced parenthesis: unexpected ')'");
		return NULL;
	default:
		break;
	}
	fail_tok(p, &t, "expected a '(' token, a field check, or an identifier");
	return NULL;
}

static struct shk_ast *parse_not(struct parser *p)
{
	struct shk_pos pos;
	struct shk_ast *e, *n;
	bool neg = false;
	struct shk_token t;

	shk_lex_blank(&p->lx);
	pos = p->lx.pos;
	while (peek_kind(p, SHK_LEX_EXPR) == SHK_TOK_NOT) {
		if (next(p, SHK_LEX_EXPR, &t) < 0)
			return NULL;
		neg = !neg;
		shk_lex_blank(&p->lx);
	}
	if (p->failed)
		return NULL;
	e = parse_check(p);
	if (!e || !neg)
		return e;
	n = shk_ast_new(SHK_AST_NOT, pos);
	if (!n) {
		shk_ast_free(e);
		return oom(p);
	}
	n->kid = e;
	n->span = p->lx.pos.off - pos.off;
	return n;
}

/* AndExpr and OrExpr share one shape: Sub ( kw ( Blank Sub | '(' Expr ')' ) )* */
static struct shk_ast *parse_chain(struct parser *p, bool is_or)
{
	enum shk_tok_kind kw = is_or ? SHK_TOK_OR : SHK_TOK_AND;
	struct shk_ast *first, *node = NULL, *kid;
	struct shk_pos pos;
	struct shk_token t;

	shk_lex_blank(&p->lx);
	pos = p->lx.pos;
	first = is_or ? parse_chain(p, false) : parse_not(p);
	if (!first)
		return NULL;
	shk_lex_blank(&p->lx);
	while (peek_kind(p, SHK_LEX_EXPR) == kw) {
		if (next(p, SHK_LEX_EXPR, &t) < 0)
			goto err;
		if (!shk_lex_blank(&p->lx)) {
			struct shk_token lp;

			if (next(p, SHK_LEX_PUNCT, &lp) < 0)
				goto err;
			if (lp.kind != SHK_TOK_LPAREN) {
				fail(p, t.pos, "expected blank or '(' after '%s'",
				     is_or ? "or" : "and");
				goto err;
			}
			if (!enter(p))
				goto err;
			kid = parse_embedded(p, lp.pos);
			p->depth--;
		} else {
			kid = is_or ? parse_chain(p, false) : parse_not(p);
		}
		if (!kid)
			goto err;
		if (!node) {
			node = shk_ast_new(is_or ? SHK_AST_OR : SHK_AST_AND, pos);
			if (!node || shk_ast_add_kid(node, first) < 0) {
				shk_ast_free(kid);
				oom(p);
				goto err;
			}
			first = NULL;
		}
		if (shk_ast_add_kid(node, kid) < 0) {
			shk_ast_free(kid);
			oom(p);
			goto err;
		}
		shk_lex_blank(&p->lx);
	}
	if (p->failed)
		goto err;
	if (!node)
		return first;
	node->span = p->lx.pos.off - pos.off;
	return node;
err:
	shk_ast_free(first);
	shk_ast_free(node);
	return NULL;
}

static struct shk_ast *parse_or(struct parser *p)
{
	struct shk_ast *e;

	if (!enter(p))
		return NULL;
	e = parse_chain(p, true);
	p->depth--;
	return e;
}

struct shk_ast *shk_parse_condition(const char *text, size_t len,
				    struct shk_parse_error *err)
{
	struct parser p = { .err = err };
	struct shk_ast *a;
	size_t i;

	if (err)
		memset(err, 0, sizeof(*err));
	shk_lex_init(&p.lx, text, len);
	for (i = 0; i < len; i++)
		if (!strchr(" \t\b\r\n", text[i]) || !text[i])
			break;
	if (i == len) {
		fail(&p, p.lx.pos, "empty condition");
		errno = EINVAL;
		return NULL;
	}
	a = parse_or(&p);
	if (a) {
		shk_lex_blank(&p.lx);
		if (!shk_lex_at_end(&p.lx)) {
			if (p.lx.s[p.lx.pos.off] == ')')
				fail(&p, p.lx.pos, "unbalanced parenthesis: unexpected ')'");
			else
				fail(&p, p.lx.pos, "unexpected token '%.*s', expecting 'or', 'and'",
				     (int)word_at(&p.lx, p.lx.pos.off),
				     p.lx.s + p.lx.pos.off);
			shk_ast_free(a);
			a = NULL;
		}
	}
	if (!a)
		errno = p.nomem ? ENOMEM : EINVAL;
	return a;
}

/* ---- rendering -------------------------------------------------------- */

struct sbuf {
	char *buf;
	size_t size, len;
};

static void __attribute__((format(printf, 2, 3)))
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	size_t room = b->len < b->size ? b->size - b->len : 0;

	va_start(ap, fmt);
	n = vsnprintf(room ? b->buf + b->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len += n;
}

static void sb_value(struct sbuf *b, const char *s, size_t len, bool quoted)
{
	if (!quoted) {
		sb_printf(b, "%.*s", (int)len, s);
		return;
	}
	sb_printf(b, "\"");
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\')
			sb_printf(b, "\\%c", s[i]);
		else
			sb_printf(b, "%c", s[i]);
	}
	sb_printf(b, "\"");
}

static void format_node(struct sbuf *b, const struct shk_ast *a)
{
	switch (a->kind) {
	case SHK_AST_AND:
	case SHK_AST_OR:
		sb_printf(b, "(%s", a->kind == SHK_AST_AND ? "and" : "or");
		for (uint32_t i = 0; i < a->kids.n; i++) {
			sb_printf(b, " ");
			format_node(b, a->kids.v[i]);
		}
		sb_printf(b, ")");
		break;
	case SHK_AST_NOT:
		sb_printf(b, "(not ");
		format_node(b, a->kid);
		sb_printf(b, ")");
		break;
	case SHK_AST_CHECK:
		sb_printf(b, "(%s ", shk_op_name(a->check.op));
		format_node(b, a->check.lhs);
		if (a->check.rhs) {
			sb_printf(b, " ");
			format_node(b, a->check.rhs);
		}
		sb_printf(b, ")");
		break;
	case SHK_AST_MACRO:
		sb_printf(b, "%s", a->value.s);
		break;
	case SHK_AST_FIELD:
		sb_printf(b, "%s", a->field.name);
		if (a->field.arg) {
			sb_printf(b, "[");
			sb_value(b, a->field.arg, a->field.arg_len, a->field.arg_quoted);
			sb_printf(b, "]");
		}
		break;
	case SHK_AST_XFORM:
		sb_printf(b, "%s(", shk_xform_name(a->xform.xf));
		format_node(b, a->xform.arg);
		sb_printf(b, ")");
		break;
	case SHK_AST_VALUE:
		sb_value(b, a->value.s, a->value.len, a->value.quoted);
		break;
	case SHK_AST_LIST:
		sb_printf(b, "(");
		for (uint32_t i = 0; i < a->kids.n; i++) {
			if (i)
				sb_printf(b, " ");
			format_node(b, a->kids.v[i]);
		}
		sb_printf(b, ")");
		break;
	}
}

int shk_ast_format(const struct shk_ast *a, char *buf, size_t size)
{
	struct sbuf b = { .buf = buf, .size = size };

	if (size)
		buf[0] = '\0';
	if (a)
		format_node(&b, a);
	return (int)b.len;
}
