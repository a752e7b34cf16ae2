// SPDX-License-Identifier: Apache-2.0
/*
 * Lexer for the Falco condition language and the diagnostics list shared by
 * the rule front end. Token classes follow libsinsp's filter parser so that
 * upstream rule files lex the same way (bare values may contain '/', ':',
 * '*', '[', ']', '<' ...).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rule_lexer.h"

/* ---- diagnostics ------------------------------------------------------ */

void shk_diags_init(struct shk_diags *d)
{
	memset(d, 0, sizeof(*d));
}

void shk_diags_clear(struct shk_diags *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
		free(d->v[i].text);
	}
	free(d->v);
	shk_diags_init(d);
}

const char *shk_diag_level_name(enum shk_diag_level level)
{
	switch (level) {
	case SHK_DIAG_ERROR:
		return "error";
	case SHK_DIAG_WARNING:
		return "warning";
	case SHK_DIAG_NOTICE:
		return "notice";
	}
	return "?";
}

int shk_diags_vadd(struct shk_diags *d, enum shk_diag_level level,
		   const struct shk_loc *loc, const char *text, size_t text_len,
		   const char *fmt, va_list ap)
{
	struct shk_diag *g;
	char *msg;

	switch (level) {
	case SHK_DIAG_ERROR:
		d->nerrors++;
		break;
	case SHK_DIAG_WARNING:
		d->nwarnings++;
		break;
	case SHK_DIAG_NOTICE:
		d->nnotices++;
		break;
	}
	if (d->n >= SHK_DIAGS_MAX) {
		d->ndropped++;
		return 0;
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct shk_diag *v = realloc(d->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		d->v = v;
		d->cap = cap;
	}
	if (vasprintf(&msg, fmt, ap) < 0)
		return -ENOMEM;
	g = &d->v[d->n];
	memset(g, 0, sizeof(*g));
	g->level = level;
	g->msg = msg;
	if (loc && loc->file) {
		g->file = strdup(loc->file);
		if (!g->file)
			goto nomem;
	}
	if (loc) {
		g->line = loc->line;
		g->col = loc->col;
	}
	if (text) {
		g->text = strndup(text, text_len);
		if (!g->text)
			goto nomem;
	}
	d->n++;
	return 0;
nomem:
	free(g->file);
	free(g->msg);
	return -ENOMEM;
}

int shk_diags_add(struct shk_diags *d, enum shk_diag_level level,
		  const struct shk_loc *loc, const char *text, size_t text_len,
		  const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = shk_diags_vadd(d, level, loc, text, text_len, fmt, ap);
	va_end(ap);
	return r;
}

int shk_diag_format(const struct shk_diag *g, char *buf, size_t size)
{
	const char *file = g->file ? g->file : "<input>";

	if (g->line)
		return snprintf(buf, size, "%s:%u:%u: %s: %s", file, g->line,
				g->col, shk_diag_level_name(g->level), g->msg);
	return snprintf(buf, size, "%s: %s: %s", file,
			shk_diag_level_name(g->level), g->msg);
}

const struct shk_diag *shk_diags_find(const struct shk_diags *d,
				      const char *needle)
{
	char buf[1024];

	for (size_t i = 0; i < d->n; i++) {
		shk_diag_format(&d->v[i], buf, sizeof(buf));
		if (strstr(buf, needle))
			return &d->v[i];
	}
	return NULL;
}

/* ---- operators and transformers -------------------------------------- */

static const char *const op_names[SHK_OP__COUNT] = {
	[SHK_OP_EQ] = "=",
	[SHK_OP_NE] = "!=",
	[SHK_OP_LT] = "<",
	[SHK_OP_LE] = "<=",
	[SHK_OP_GT] = ">",
	[SHK_OP_GE] = ">=",
	[SHK_OP_CONTAINS] = "contains",
	[SHK_OP_ICONTAINS] = "icontains",
	[SHK_OP_BCONTAINS] = "bcontains",
	[SHK_OP_STARTSWITH] = "startswith",
	[SHK_OP_BSTARTSWITH] = "bstartswith",
	[SHK_OP_ENDSWITH] = "endswith",
	[SHK_OP_GLOB] = "glob",
	[SHK_OP_IGLOB] = "iglob",
	[SHK_OP_REGEX] = "regex",
	[SHK_OP_IN] = "in",
	[SHK_OP_INTERSECTS] = "intersects",
	[SHK_OP_PMATCH] = "pmatch",
	[SHK_OP_EXISTS] = "exists",
};

const char *shk_op_name(enum shk_op op)
{
	return (unsigned)op < SHK_OP__COUNT ? op_names[op] : "?";
}

int shk_op_from_name(const char *s, size_t len)
{
	if (len == 2 && !memcmp(s, "==", 2))
		return SHK_OP_EQ;
	for (int i = 0; i < SHK_OP__COUNT; i++)
		if (strlen(op_names[i]) == len && !memcmp(op_names[i], s, len))
			return i;
	return -EINVAL;
}

bool shk_op_is_list(enum shk_op op)
{
	return op == SHK_OP_IN || op == SHK_OP_INTERSECTS || op == SHK_OP_PMATCH;
}

static const char *const xform_names[SHK_XF__COUNT] = {
	[SHK_XF_TOLOWER] = "tolower",
	[SHK_XF_TOUPPER] = "toupper",
	[SHK_XF_B64] = "b64",
	[SHK_XF_BASENAME] = "basename",
	[SHK_XF_LEN] = "len",
	[SHK_XF_VAL] = "val",
};

const char *shk_xform_name(enum shk_xform xf)
{
	return (unsigned)xf < SHK_XF__COUNT ? xform_names[xf] : "?";
}

/* ---- lexer ------------------------------------------------------------ */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\b' || c == '\r' || c == '\n';
}

/* POSIX [:space:] as used by Falco's bare-string classes. */
static bool is_space(char c)
{
	return is_blank(c) || c == '\v' || c == '\f';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_ident_char(char c)
{
	return is_alpha(c) || is_digit(c) || c == '_';
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

void shk_lex_init(struct shk_lexer *lx, const char *s, size_t len)
{
	lx->s = s;
	lx->len = len;
	lx->pos.off = 0;
	lx->pos.line = 1;
	lx->pos.col = 1;
}

bool shk_lex_at_end(const struct shk_lexer *lx)
{
	return lx->pos.off >= lx->len;
}

static char peekc(const struct shk_lexer *lx, size_t ahead)
{
	size_t i = lx->pos.off + ahead;

	return i < lx->len ? lx->s[i] : '\0';
}

static void advance(struct shk_lexer *lx, size_t n)
{
	while (n-- && lx->pos.off < lx->len) {
		char c = lx->s[lx->pos.off++];

		/* \r\n is one line break */
		if (c == '\n' || (c == '\r' && peekc(lx, 0) != '\n')) {
			lx->pos.line++;
			lx->pos.col = 1;
		} else {
			lx->pos.col++;
		}
	}
}

bool shk_lex_blank(struct shk_lexer *lx)
{
	bool found = false;

	while (lx->pos.off < lx->len && is_blank(lx->s[lx->pos.off])) {
		advance(lx, 1);
		found = true;
	}
	return found;
}

void shk_token_fini(struct shk_token *tok)
{
	if (!tok)
		return;
	free(tok->str);
	tok->str = NULL;
}

static void tok_set(struct shk_lexer *lx, struct shk_token *tok,
		    enum shk_tok_kind kind, size_t len)
{
	tok->kind = kind;
	tok->pos = lx->pos;
	tok->start = lx->s + lx->pos.off;
	tok->len = len;
	advance(lx, len);
}

static void tok_error(struct shk_lexer *lx, struct shk_token *tok,
		      const char *msg)
{
	tok->kind = SHK_TOK_ERROR;
	tok->pos = lx->pos;
	tok->start = lx->s + lx->pos.off;
	tok->len = lx->pos.off < lx->len ? 1 : 0;
	tok->msg = msg;
}

/* Length of a word [A-Za-z][A-Za-z0-9_]* at the cursor (0 if none). */
static size_t word_len(const struct shk_lexer *lx, size_t at)
{
	size_t i = at;

	if (!is_alpha(peekc(lx, i)))
		return 0;
	while (is_ident_char(peekc(lx, i)))
		i++;
	return i - at;
}

static bool word_is(const struct shk_lexer *lx, size_t len, const char *w)
{
	return strlen(w) == len && !memcmp(lx->s + lx->pos.off, w, len);
}

/* A transformer is its name immediately followed by '('. */
static int lex_transformer(struct shk_lexer *lx, struct shk_token *tok)
{
	size_t n = word_len(lx, 0);

	if (!n || peekc(lx, n) != '(')
		return 0;
	for (int i = 0; i < SHK_XF__COUNT; i++) {
		if (word_is(lx, n, xform_names[i])) {
			tok_set(lx, tok, SHK_TOK_TRANSFORMER, n + 1);
			tok->xform = i;
			return 1;
		}
	}
	return 0;
}

/* Falco's unescaping of quoted strings (libsinsp escaping.cpp semantics:
 * "\ " yields a backslash, \' and \" only inside matching quotes). */
static int unescape(const char *s, size_t len, char delim, char **ret,
		    size_t *ret_len, const char **err)
{
	char *out = malloc(len + 1);
	size_t o = 0;

	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c != '\\') {
			out[o++] = c;
			continue;
		}
		if (++i >= len) {
			*err = "unterminated escape sequence";
			goto bad;
		}
		switch (s[i]) {
		case 'b':
			out[o++] = '\b';
			break;
		case 'f':
			out[o++] = '\f';
			break;
		case 'n':
			out[o++] = '\n';
			break;
		case 'r':
			out[o++] = '\r';
			break;
		case 't':
			out[o++] = '\t';
			break;
		case ' ':
		case '\\':
			out[o++] = '\\';
			break;
		case '/':
			out[o++] = '/';
			break;
		case '"':
		case '\'':
			if (s[i] != delim) {
				*err = s[i] == '"' ?
					"invalid \\\" escape in '-quoted string" :
					"invalid \\' escape in \"-quoted string";
				goto bad;
			}
			out[o++] = s[i];
			break;
		default:
			*err = "unsupported string escape sequence";
			goto bad;
		}
	}
	out[o] = '\0';
	*ret = out;
	*ret_len = o;
	return 0;
bad:
	free(out);
	return -EINVAL;
}

static int lex_quoted(struct shk_lexer *lx, struct shk_token *tok)
{
	char delim = peekc(lx, 0);
	size_t i = 1;
	const char *err = NULL;
	int r;

	if (delim != '"' && delim != '\'')
		return 0;
	for (;;) {
		char c;

		if (lx->pos.off + i >= lx->len) {
			tok_error(lx, tok, "unterminated quoted string");
			return 1;
		}
		c = lx->s[lx->pos.off + i];
		if (c == '\\') {
			i += 2;
			continue;
		}
		if (c == delim)
			break;
		i++;
	}
	r = unescape(lx->s + lx->pos.off + 1, i - 1, delim, &tok->str,
		     &tok->str_len, &err);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		tok_error(lx, tok, err);
		return 1;
	}
	tok_set(lx, tok, SHK_TOK_STRING, i + 1);
	return 1;
}

/* Falco's BareStr: [^()"'[:space:]=,]+ */
static size_t bare_len(const struct shk_lexer *lx)
{
	size_t i = 0;

	for (;; i++) {
		char c = peekc(lx, i);

		if (lx->pos.off + i >= lx->len || is_space(c) || c == '(' ||
		    c == ')' || c == '"' || c == '\'' || c == '=' || c == ',')
			break;
	}
	return i;
}

/* Falco's FieldArgBareStr: [^][\"'[:space:]]+ */
static size_t field_arg_len(const struct shk_lexer *lx)
{
	size_t i = 0;

	for (;; i++) {
		char c = peekc(lx, i);

		if (lx->pos.off + i >= lx->len || is_space(c) || c == '[' ||
		    c == ']' || c == '"' || c == '\'')
			break;
	}
	return i;
}

/* HexNumber 0[xX][0-9a-fA-F]+ or Number [+-]?[0-9]+\.?[0-9]*([eE][+-][0-9]+)? */
static size_t number_len(const struct shk_lexer *lx)
{
	size_t i = 0;

	if (peekc(lx, 0) == '0' && (peekc(lx, 1) == 'x' || peekc(lx, 1) == 'X') &&
	    is_hex(peekc(lx, 2))) {
		i = 2;
		while (is_hex(peekc(lx, i)))
			i++;
		return i;
	}
	if (peekc(lx, i) == '+' || peekc(lx, i) == '-')
		i++;
	if (!is_digit(peekc(lx, i)))
		return 0;
	while (is_digit(peekc(lx, i)))
		i++;
	if (peekc(lx, i) == '.')
		i++;
	while (is_digit(peekc(lx, i)))
		i++;
	if ((peekc(lx, i) == 'e' || peekc(lx, i) == 'E') &&
	    (peekc(lx, i + 1) == '+' || peekc(lx, i + 1) == '-') &&
	    is_digit(peekc(lx, i + 2))) {
		i += 2;
		while (is_digit(peekc(lx, i)))
			i++;
	}
	return i;
}

static bool lex_punct(struct shk_lexer *lx, struct shk_token *tok)
{
	switch (peekc(lx, 0)) {
	case '(':
		tok_set(lx, tok, SHK_TOK_LPAREN, 1);
		return true;
	case ')':
		tok_set(lx, tok, SHK_TOK_RPAREN, 1);
		return true;
	case ',':
		tok_set(lx, tok, SHK_TOK_COMMA, 1);
		return true;
	case '[':
		tok_set(lx, tok, SHK_TOK_LBRACKET, 1);
		return true;
	case ']':
		tok_set(lx, tok, SHK_TOK_RBRACKET, 1);
		return true;
	}
	return false;
}

static void lex_expr(struct shk_lexer *lx, struct shk_token *tok)
{
	size_t n, i;
	char c = peekc(lx, 0);

	if (c == '(' || c == ')') {
		lex_punct(lx, tok);
		return;
	}
	n = word_len(lx, 0);
	if (!n) {
		tok_error(lx, tok, "expected a '(' token, a field check, or an identifier");
		return;
	}
	/* FieldName: Identifier ('.' Identifier)+ */
	i = n;
	while (peekc(lx, i) == '.' && is_alpha(peekc(lx, i + 1)))
		i += 1 + word_len(lx, i + 1);
	if (i > n) {
		tok_set(lx, tok, SHK_TOK_FIELD, i);
		return;
	}
	if (word_is(lx, n, "and")) {
		tok_set(lx, tok, SHK_TOK_AND, n);
		return;
	}
	if (word_is(lx, n, "or")) {
		tok_set(lx, tok, SHK_TOK_OR, n);
		return;
	}
	if (word_is(lx, n, "not") && (is_space(peekc(lx, n)) || peekc(lx, n) == '(')) {
		tok_set(lx, tok, SHK_TOK_NOT, n);
		return;
	}
	if (lex_transformer(lx, tok))
		return;
	tok_set(lx, tok, SHK_TOK_IDENT, n);
}

static const struct {
	const char *s;
	enum shk_op op;
	bool word;
} op_table[] = {
	/* longest first where one is a prefix of another */
	{ "<=", SHK_OP_LE, false },
	{ "<", SHK_OP_LT, false },
	{ ">=", SHK_OP_GE, false },
	{ ">", SHK_OP_GT, false },
	{ "==", SHK_OP_EQ, false },
	{ "=", SHK_OP_EQ, false },
	{ "!=", SHK_OP_NE, false },
	{ "exists", SHK_OP_EXISTS, true },
	{ "glob", SHK_OP_GLOB, true },
	{ "iglob", SHK_OP_IGLOB, true },
	{ "contains", SHK_OP_CONTAINS, true },
	{ "icontains", SHK_OP_ICONTAINS, true },
	{ "bcontains", SHK_OP_BCONTAINS, true },
	{ "startswith", SHK_OP_STARTSWITH, true },
	{ "bstartswith", SHK_OP_BSTARTSWITH, true },
	{ "endswith", SHK_OP_ENDSWITH, true },
	{ "regex", SHK_OP_REGEX, true },
	{ "intersects", SHK_OP_INTERSECTS, true },
	{ "in", SHK_OP_IN, true },
	{ "pmatch", SHK_OP_PMATCH, true },
};

static void lex_operator(struct shk_lexer *lx, struct shk_token *tok)
{
	size_t n = word_len(lx, 0);

	for (size_t i = 0; i < sizeof(op_table) / sizeof(op_table[0]); i++) {
		size_t l = strlen(op_table[i].s);

		if (op_table[i].word ? !word_is(lx, n, op_table[i].s) :
				       (lx->pos.off + l > lx->len ||
					memcmp(lx->s + lx->pos.off, op_table[i].s, l)))
			continue;
		/* Falco wants a blank after word operators that take a
		 * string (the list operators may be followed by '('). */
		if (op_table[i].word && op_table[i].op != SHK_OP_EXISTS &&
		    !shk_op_is_list(op_table[i].op) && !is_space(peekc(lx, l)))
			continue;
		tok_set(lx, tok, SHK_TOK_OP, l);
		tok->op = op_table[i].op;
		return;
	}
	tok_error(lx, tok, "expected a valid check operator");
}

int shk_lex_next(struct shk_lexer *lx, enum shk_lex_mode mode,
		 struct shk_token *tok)
{
	size_t n;
	int r;

	memset(tok, 0, sizeof(*tok));
	if (shk_lex_at_end(lx)) {
		tok->kind = SHK_TOK_EOF;
		tok->pos = lx->pos;
		tok->start = lx->s + lx->len;
		return 0;
	}
	switch (mode) {
	case SHK_LEX_EXPR:
		lex_expr(lx, tok);
		return 0;
	case SHK_LEX_OPERATOR:
		lex_operator(lx, tok);
		return 0;
	case SHK_LEX_VALUE:
		if (lex_transformer(lx, tok))
			return 0;
		r = lex_quoted(lx, tok);
		if (r)
			return r < 0 ? r : 0;
		n = bare_len(lx);
		if (n)
			tok_set(lx, tok, SHK_TOK_BARE, n);
		else
			tok_error(lx, tok, "expected a string value");
		return 0;
	case SHK_LEX_NUMBER:
		if (lex_transformer(lx, tok))
			return 0;
		n = number_len(lx);
		if (n)
			tok_set(lx, tok, SHK_TOK_NUMBER, n);
		else
			tok_error(lx, tok, "expected a number value");
		return 0;
	case SHK_LEX_LIST:
		if (peekc(lx, 0) == '(') {
			lex_punct(lx, tok);
			return 0;
		}
		if (lex_transformer(lx, tok))
			return 0;
		n = word_len(lx, 0);
		if (n)
			tok_set(lx, tok, SHK_TOK_IDENT, n);
		else
			tok_error(lx, tok, "expected a list, an identifier, or a field with a valid transformer");
		return 0;
	case SHK_LEX_ITEM:
		if (peekc(lx, 0) == ')' || peekc(lx, 0) == ',') {
			lex_punct(lx, tok);
			return 0;
		}
		r = lex_quoted(lx, tok);
		if (r)
			return r < 0 ? r : 0;
		n = bare_len(lx);
		if (n)
			tok_set(lx, tok, SHK_TOK_BARE, n);
		else
			tok_error(lx, tok, "expected a string value");
		return 0;
	case SHK_LEX_FIELD_ARG:
		if (peekc(lx, 0) == ']') {
			lex_punct(lx, tok);
			return 0;
		}
		r = lex_quoted(lx, tok);
		if (r)
			return r < 0 ? r : 0;
		n = field_arg_len(lx);
		if (n)
			tok_set(lx, tok, SHK_TOK_BARE, n);
		else
			tok_error(lx, tok, "expected a valid field argument: a quoted string or a bare string");
		return 0;
	case SHK_LEX_PUNCT:
		if (!lex_punct(lx, tok))
			tok_error(lx, tok, "unexpected character");
		return 0;
	}
	tok_error(lx, tok, "bad lexer mode");
	return 0;
}

int shk_lex_peek(struct shk_lexer *lx, enum shk_lex_mode mode,
		 struct shk_token *tok)
{
	struct shk_pos save = lx->pos;
	int r = shk_lex_next(lx, mode, tok);

	lx->pos = save;
	return r;
}
