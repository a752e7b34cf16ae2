/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Lexer for the Falco condition language, plus the source positions and
 * diagnostics that every stage of the rule front end (lexer, parser, loader,
 * compiler) shares. They live here because the lexer is the first stage and
 * everything after it includes this header.
 *
 * Falco's grammar is lexed by context: after '=' a bare value may contain
 * '<', ':' or '[' that would be operators or brackets elsewhere. So the
 * parser asks for a token of a given class (shk_lex_next(mode)) instead of
 * consuming a context-free token stream.
 */
#ifndef SHRIKE_RULE_LEXER_H
#define SHRIKE_RULE_LEXER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A position inside one text: byte offset (0-based), line and column
 * (1-based, columns count bytes). */
struct shk_pos {
	uint32_t off;
	uint32_t line;
	uint32_t col;
};

/* A position inside a rules file, as printed in diagnostics. */
struct shk_loc {
	const char *file; /* NULL when unknown */
	uint32_t line;    /* 1-based; 0 when unknown */
	uint32_t col;     /* 1-based, in characters as libyaml counts them */
};

enum shk_diag_level {
	SHK_DIAG_ERROR,
	SHK_DIAG_WARNING,
	SHK_DIAG_NOTICE,
};

struct shk_diag {
	enum shk_diag_level level;
	char *file;
	uint32_t line, col;
	char *msg;
	char *text; /* the offending source text, or NULL */
};

/* Bounded, so hostile input cannot grow memory through diagnostics alone;
 * the counters keep counting past the bound. */
#define SHK_DIAGS_MAX 1000

struct shk_diags {
	struct shk_diag *v;
	size_t n, cap;
	size_t nerrors, nwarnings, nnotices;
	size_t ndropped;
};

void shk_diags_init(struct shk_diags *d);
/* Frees every diagnostic; the struct can be reused. NULL is fine. */
void shk_diags_clear(struct shk_diags *d);
/* Record one diagnostic. text/text_len may be NULL/0. Returns 0 or -ENOMEM
 * (the counters are updated either way). */
int shk_diags_add(struct shk_diags *d, enum shk_diag_level level,
		  const struct shk_loc *loc, const char *text, size_t text_len,
		  const char *fmt, ...) __attribute__((format(printf, 6, 7)));
int shk_diags_vadd(struct shk_diags *d, enum shk_diag_level level,
		   const struct shk_loc *loc, const char *text, size_t text_len,
		   const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));
/* "file:line:col: error: msg" into buf (snprintf semantics). */
int shk_diag_format(const struct shk_diag *d, char *buf, size_t size);
/* The first diagnostic whose formatted form contains needle, or NULL.
 * Meant for tests and tools. */
const struct shk_diag *shk_diags_find(const struct shk_diags *d,
				      const char *needle);
const char *shk_diag_level_name(enum shk_diag_level level);

/* Comparison operators, in the order Falco lists them. */
enum shk_op {
	SHK_OP_EQ,	  /* = and == */
	SHK_OP_NE,	  /* != */
	SHK_OP_LT,	  /* < */
	SHK_OP_LE,	  /* <= */
	SHK_OP_GT,	  /* > */
	SHK_OP_GE,	  /* >= */
	SHK_OP_CONTAINS,
	SHK_OP_ICONTAINS,
	SHK_OP_BCONTAINS,
	SHK_OP_STARTSWITH,
	SHK_OP_BSTARTSWITH,
	SHK_OP_ENDSWITH,
	SHK_OP_GLOB,
	SHK_OP_IGLOB,
	SHK_OP_REGEX,
	SHK_OP_IN,
	SHK_OP_INTERSECTS,
	SHK_OP_PMATCH,
	SHK_OP_EXISTS, /* unary */
	SHK_OP__COUNT,
};

const char *shk_op_name(enum shk_op op);
/* Parse an operator written as in a condition ("=", "in", ...). Returns
 * the operator or -EINVAL. Used for exception comps. */
int shk_op_from_name(const char *s, size_t len);
bool shk_op_is_list(enum shk_op op); /* in, intersects, pmatch */

/* Field transformers; VAL marks a field reference on the right-hand side. */
enum shk_xform {
	SHK_XF_TOLOWER,
	SHK_XF_TOUPPER,
	SHK_XF_B64,
	SHK_XF_BASENAME,
	SHK_XF_LEN,
	SHK_XF_VAL,
	SHK_XF__COUNT,
};

const char *shk_xform_name(enum shk_xform xf);

enum shk_tok_kind {
	SHK_TOK_EOF,
	SHK_TOK_ERROR,	     /* tok.msg says why */
	SHK_TOK_LPAREN,	     /* ( */
	SHK_TOK_RPAREN,	     /* ) */
	SHK_TOK_COMMA,	     /* , */
	SHK_TOK_LBRACKET,    /* [ */
	SHK_TOK_RBRACKET,    /* ] */
	SHK_TOK_AND,	     /* and */
	SHK_TOK_OR,	     /* or */
	SHK_TOK_NOT,	     /* not, followed by a blank or '(' (not consumed) */
	SHK_TOK_IDENT,	     /* macro or list name */
	SHK_TOK_FIELD,	     /* dotted field name */
	SHK_TOK_TRANSFORMER, /* tolower( toupper( b64( basename( len( val( */
	SHK_TOK_OP,	     /* a comparison operator */
	SHK_TOK_STRING,	     /* quoted string; tok.str holds it unescaped */
	SHK_TOK_BARE,	     /* bare string value */
	SHK_TOK_NUMBER,	     /* decimal or hex number */
};

/* What the parser expects next: each mode is one of Falco's lexing
 * contexts. */
enum shk_lex_mode {
	SHK_LEX_EXPR,	   /* ( ) and or not field transformer identifier */
	SHK_LEX_OPERATOR,  /* a comparison operator */
	SHK_LEX_VALUE,	   /* transformer, quoted string or bare string */
	SHK_LEX_NUMBER,	   /* transformer or number */
	SHK_LEX_LIST,	   /* ( transformer identifier */
	SHK_LEX_ITEM,	   /* list item: quoted or bare string, ) , */
	SHK_LEX_FIELD_ARG, /* inside [ ]: quoted or bare argument, ] */
	SHK_LEX_PUNCT,	   /* only ( ) , [ ] */
};

struct shk_token {
	enum shk_tok_kind kind;
	struct shk_pos pos;  /* first byte of the token */
	const char *start;   /* raw token text in the input */
	size_t len;	     /* raw length */
	union {
		enum shk_op op;	      /* SHK_TOK_OP */
		enum shk_xform xform; /* SHK_TOK_TRANSFORMER */
	};
	char *str;	     /* SHK_TOK_STRING: unescaped, malloc'd, NUL-terminated;
			      * the caller owns it (free or keep) */
	size_t str_len;
	const char *msg;     /* SHK_TOK_ERROR: static message */
};

struct shk_lexer {
	const char *s;
	size_t len;
	struct shk_pos pos; /* current position */
};

void shk_lex_init(struct shk_lexer *lx, const char *s, size_t len);
/* Skip blanks (space, tab, \b, \r, \n). Returns true if any was skipped. */
bool shk_lex_blank(struct shk_lexer *lx);
/* Lex one token of the given class at the cursor (no blank skipping).
 * On SHK_TOK_ERROR the cursor does not move. Returns 0, or -ENOMEM. */
int shk_lex_next(struct shk_lexer *lx, enum shk_lex_mode mode,
		 struct shk_token *tok);
/* Like shk_lex_next but leaves the cursor where it was. */
int shk_lex_peek(struct shk_lexer *lx, enum shk_lex_mode mode,
		 struct shk_token *tok);
void shk_token_fini(struct shk_token *tok);
bool shk_lex_at_end(const struct shk_lexer *lx);

#endif /* SHRIKE_RULE_LEXER_H */
