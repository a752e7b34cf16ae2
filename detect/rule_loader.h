/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rules file loader: reads Falco rules files (plus shrike's policy keys)
 * into definitions, in file order, applying Falco's append/override/replace
 * semantics. Nothing is compiled here; rule_compile.h turns a loader into a
 * ruleset.
 *
 * Every definition keeps where it came from. YAML is read with libyaml's
 * event API and kept as a small node tree with line/column marks and byte
 * offsets, so that conditions can be mapped back into the file
 * (shk_text_locate()).
 *
 * Strings in definitions point into the loader's YAML trees, which live as
 * long as the loader. Errors and warnings go to the loader's diagnostics.
 */
#ifndef SHRIKE_RULE_LOADER_H
#define SHRIKE_RULE_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rule_lexer.h"

/* The Falco rules-engine version whose rule syntax shrike implements:
 * files that require a newer one may use features shrike lacks. */
#define SHK_ENGINE_VERSION "0.57.0"

/* Bounds for hostile input. */
#define SHK_YAML_MAX_DEPTH 64
#define SHK_RULES_FILE_MAX (64u << 20)

enum shk_ynode_kind {
	SHK_Y_SCALAR,
	SHK_Y_SEQ,
	SHK_Y_MAP,
};

enum shk_yscalar_style {
	SHK_YS_PLAIN,
	SHK_YS_SQUOTED,
	SHK_YS_DQUOTED,
	SHK_YS_LITERAL, /* | */
	SHK_YS_FOLDED,	/* > */
};

struct shk_srcfile;

struct shk_ynode {
	enum shk_ynode_kind kind;
	enum shk_yscalar_style style;
	uint32_t n;		/* kids; for maps 2 per pair: key, value */
	struct shk_ynode *kids;
	const char *str;	/* scalars: the value, NUL-terminated */
	uint32_t len;
	uint32_t line, col;	/* 1-based start mark */
	uint32_t start, end;	/* byte offsets of the node's source text */
	const struct shk_srcfile *file;
};

/* One loaded file (or buffer): its bytes, line table and YAML documents. */
struct shk_srcfile {
	char *name;
	char *buf;
	size_t len;
	uint32_t *lines; /* byte offset where each line starts */
	uint32_t nlines;
	struct shk_ynode *docs;
	uint32_t ndocs;
};

/* Scalar helpers. */
bool shk_ynode_is_null(const struct shk_ynode *n);
/* The value for key in a map, or NULL. */
const struct shk_ynode *shk_ynode_get(const struct shk_ynode *map,
				      const char *key);
struct shk_loc shk_ynode_loc(const struct shk_ynode *n);

/*
 * A text assembled from one or more YAML scalars (a condition plus the
 * conditions appended to it). Segments map text offsets to their scalar;
 * bytes outside every segment are glue (" " between appended parts, or
 * generated text) and map to the nearest segment.
 */
struct shk_text_seg {
	uint32_t off, len;
	const struct shk_ynode *node; /* its value starts at text[off] */
};

struct shk_text {
	char *s; /* NUL-terminated */
	uint32_t len;
	struct shk_text_seg *segs;
	uint32_t nsegs;
};

/* Append bytes; node is the scalar they are the value of (NULL: glue). */
int shk_text_append(struct shk_text *t, const char *s, size_t len,
		    const struct shk_ynode *node);
int shk_text_append_text(struct shk_text *t, const struct shk_text *src);
void shk_text_fini(struct shk_text *t);
/* Where in the file text offset off is. Plain, quoted (escapes: best
 * effort), literal and folded scalars are handled. */
struct shk_loc shk_text_locate(const struct shk_text *t, uint32_t off);

enum shk_priority {
	SHK_PRIO_EMERGENCY,
	SHK_PRIO_ALERT,
	SHK_PRIO_CRITICAL,
	SHK_PRIO_ERROR,
	SHK_PRIO_WARNING,
	SHK_PRIO_NOTICE,
	SHK_PRIO_INFORMATIONAL,
	SHK_PRIO_DEBUG,
};

/* Case-insensitive, INFO accepted. Returns the priority or -EINVAL. */
int shk_priority_parse(const char *s);
const char *shk_priority_name(enum shk_priority p);

enum shk_mode {
	SHK_MODE_UNSET,
	SHK_MODE_AUDIT,
	SHK_MODE_ENFORCE,
};

const char *shk_mode_name(enum shk_mode m);

/* One response action as written: `deny`, `{kill: process_tree}`,
 * `{exec: "cmd"}`. Not interpreted here. */
struct shk_action {
	const char *name;
	const char *arg;	       /* scalar argument, or NULL */
	const struct shk_ynode *value; /* the argument node (any shape), or NULL */
	struct shk_loc loc;
};

struct shk_exception_def {
	const char *name;
	struct shk_loc loc;
	const struct shk_ynode *fields; /* scalar or sequence */
	const struct shk_ynode *comps;	/* NULL: Falco's defaults */
	const struct shk_ynode **values; /* each: one value entry */
	uint32_t nvalues;
};

struct shk_list_def {
	const char *name;
	struct shk_loc loc;
	const struct shk_ynode **items; /* scalars */
	uint32_t nitems;
	uint32_t index, visibility; /* Falco's definition order semantics */
	uint32_t id;		    /* position in the loader's array */
};

struct shk_macro_def {
	const char *name;
	struct shk_loc loc;
	struct shk_text cond;
	uint32_t index, visibility;
	uint32_t id; /* position in the loader's array */
};

struct shk_rule_def {
	const char *name;
	struct shk_loc loc;
	struct shk_text cond, output, desc;
	enum shk_priority priority;
	const char **tags;
	uint32_t ntags;
	bool enabled;
	bool warn_evttypes;
	bool skip_if_unknown_filter;
	const char *source;
	bool known_source; /* syscall: compiled; others are skipped */
	struct shk_exception_def *exceptions;
	uint32_t nexceptions;
	/* shrike */
	struct shk_action *actions;
	uint32_t nactions;
	enum shk_mode mode;
	uint32_t index, visibility;
};

/* - response: binds actions to other rules. */
struct shk_response_def {
	const char *name;
	struct shk_loc loc;
	const char *match_rule;	  /* NULL: any */
	const char **match_tags;  /* all must be present */
	uint32_t nmatch_tags;
	bool has_match_priority;
	enum shk_priority match_priority; /* rules at least this severe */
	struct shk_action *actions;
	uint32_t nactions;
	enum shk_mode mode;
	const struct shk_ynode *node; /* the whole item */
};

/* protect: {field: [values]} */
struct shk_protect {
	const char *field;
	const char **values;
	uint32_t nvalues;
	struct shk_loc loc;
};

/* - policy: per-file defaults. Keys other than mode/protect (rate limits,
 * ...) are kept in node for the response engine. */
struct shk_policy_def {
	const char *name;
	struct shk_loc loc;
	enum shk_mode mode;
	struct shk_protect *protect;
	uint32_t nprotect;
	const struct shk_ynode *node;
};

struct shk_plugin_req {
	const char *name;
	const char *version;
	struct shk_loc loc;
};

struct shk_name_index;

struct shk_loader {
	struct shk_srcfile **files;
	uint32_t nfiles;
	struct shk_list_def **lists;
	uint32_t nlists;
	struct shk_macro_def **macros;
	uint32_t nmacros;
	struct shk_rule_def **rules;
	uint32_t nrules;
	struct shk_response_def **responses;
	uint32_t nresponses;
	struct shk_policy_def **policies;
	uint32_t npolicies;
	struct shk_plugin_req *plugins;
	uint32_t nplugins;
	const char *required_engine_version; /* the highest seen, or NULL */
	struct shk_diags diags;
	/* private */
	uint32_t seq;
	struct shk_name_index *list_idx, *macro_idx, *rule_idx;
	uint32_t caps[6];
};

struct shk_loader *shk_loader_new(void);
void shk_loader_free(struct shk_loader *ld);

/* Load one file / one in-memory buffer (name is used in diagnostics).
 * Returns 0 (possibly with warnings), -EINVAL when errors were reported
 * to ld->diags, -ENOMEM. A file that cannot be read is reported as a
 * diagnostic too, and its -errno returned. */
int shk_loader_load_file(struct shk_loader *ld, const char *path);
int shk_loader_load_buffer(struct shk_loader *ld, const char *name,
			   const char *buf, size_t len);

/* Only parse a YAML buffer into ld->files, with its line/column marks,
 * without reading it as rules (the config file is YAML too). *ret is the
 * file; its trees live as long as ld. Syntax errors go to ld->diags. */
int shk_loader_parse_buffer(struct shk_loader *ld, const char *name,
			    const char *buf, size_t len,
			    const struct shk_srcfile **ret);

struct shk_list_def *shk_loader_find_list(const struct shk_loader *ld,
					  const char *name, size_t len);
struct shk_macro_def *shk_loader_find_macro(const struct shk_loader *ld,
					    const char *name, size_t len);
struct shk_rule_def *shk_loader_find_rule(const struct shk_loader *ld,
					  const char *name, size_t len);

#endif /* SHRIKE_RULE_LOADER_H */
