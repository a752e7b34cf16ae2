/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parser for the Falco condition language: text in, AST out. The grammar
 * (EBNF) is at the top of rule_parser.c. Every node carries the position of
 * its first byte in the parsed text; the loader maps text offsets back into
 * the YAML file (shk_text_locate()).
 */
#ifndef SHRIKE_RULE_PARSER_H
#define SHRIKE_RULE_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rule_lexer.h"

/* Parentheses / transformer nesting allowed in one condition. Bounds the
 * parser's (and every AST walker's) recursion on hostile input. */
#define SHK_PARSE_MAX_DEPTH 128

enum shk_ast_kind {
	SHK_AST_AND,   /* kids: 2 or more operands */
	SHK_AST_OR,    /* kids: 2 or more operands */
	SHK_AST_NOT,   /* kid */
	SHK_AST_CHECK, /* check: lhs op [rhs] */
	SHK_AST_MACRO, /* value: a bare identifier (macro reference) */
	SHK_AST_FIELD, /* field: name [arg] */
	SHK_AST_XFORM, /* xform: transformer(arg), or val(field) */
	SHK_AST_VALUE, /* value: a string (quoted or bare) or number */
	SHK_AST_LIST,  /* kids: SHK_AST_VALUE items */
};

struct shk_ast {
	enum shk_ast_kind kind;
	struct shk_pos pos; /* first byte of the node in the text */
	uint32_t span;	    /* bytes of source text the node's token covers */
	union {
		struct {
			struct shk_ast **v;
			uint32_t n;
		} kids;
		struct shk_ast *kid;
		struct {
			struct shk_ast *lhs; /* SHK_AST_FIELD or SHK_AST_XFORM */
			struct shk_ast *rhs; /* NULL for exists */
			enum shk_op op;
			struct shk_pos op_pos;
		} check;
		struct {
			char *name;
			char *arg; /* NULL when there is no [arg] */
			uint32_t name_len, arg_len;
			bool arg_quoted;
			struct shk_pos arg_pos;
		} field;
		struct {
			enum shk_xform xf;
			struct shk_ast *arg; /* SHK_AST_FIELD or SHK_AST_XFORM */
		} xform;
		struct {
			char *s; /* NUL-terminated (may hold NULs if quoted) */
			uint32_t len;
			bool quoted; /* written in quotes: never a list name */
			bool number; /* lexed as a number (after <, <=, >, >=) */
		} value;
	};
};

struct shk_parse_error {
	struct shk_pos pos;    /* where in the text */
	char msg[192];
	const char *text;      /* the offending token in the input */
	size_t text_len;
};

/* Parse a whole condition. Returns the AST, or NULL with errno set:
 * EINVAL (syntax error, described in *err, which may be NULL), ENOMEM. */
struct shk_ast *shk_parse_condition(const char *text, size_t len,
				    struct shk_parse_error *err);

void shk_ast_free(struct shk_ast *ast);

/* Helpers for code that builds ASTs itself (rule exceptions). Constructors
 * return NULL on ENOMEM. shk_ast_add_kid() appends to an AND, OR or LIST
 * node and takes ownership of kid only on success (0 or -ENOMEM). */
struct shk_ast *shk_ast_new(enum shk_ast_kind kind, struct shk_pos pos);
int shk_ast_add_kid(struct shk_ast *parent, struct shk_ast *kid);
struct shk_ast *shk_ast_new_value(const char *s, size_t len, bool quoted,
				  struct shk_pos pos);
struct shk_ast *shk_ast_new_field(const char *name, size_t len,
				  struct shk_pos pos);

/* A compact S-expression rendering, e.g.
 *   (and (= proc.name "bash") (in fd.name (a "b c")) (not spawned_process))
 * Quoted values are printed in double quotes, bare ones as-is. snprintf
 * semantics: returns the length the full rendering needs. */
int shk_ast_format(const struct shk_ast *ast, char *buf, size_t size);

#endif /* SHRIKE_RULE_PARSER_H */
