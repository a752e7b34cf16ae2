/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rule compiler: loaded definitions in, a compiled ruleset out.
 *
 * Lists are expanded (nested), macros resolved (shared, not copied: a
 * compiled condition is a DAG), exceptions turned into `and not (...)` as
 * Falco does, field names resolved to ids, values parsed to the field's type,
 * `in` lists turned into hash sets, globs and regexes compiled, and each
 * rule's event types computed so rules can be indexed by event type.
 *
 * Event types are syscall numbers of the native architecture (resolved with
 * libseccomp) below SHK_SYSCALL_MAX, plus Falco's non-syscall events
 * (procexit, container, ...) above it.
 */
#ifndef SHRIKE_RULE_COMPILE_H
#define SHRIKE_RULE_COMPILE_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fields.h"
#include "rule_loader.h"
#include "shrike_abi.h"

/* Falco's non-syscall event types. */
enum shk_pseudo_evtype {
	SHK_EVT_PROCEXIT = SHK_SYSCALL_MAX,
	SHK_EVT_CONTAINER,
	SHK_EVT_SWITCH,
	SHK_EVT_SIGNALDELIVER,
	SHK_EVT_PAGE_FAULT,
	SHK_EVT_PROCINFO,
	SHK_EVT_CPU_HOTPLUG,
	SHK_EVT_DROP,
	SHK_EVT_NOTIFICATION,
	SHK_EVT_INFRA,
	SHK_EVT_ASYNCEVENT,
	SHK_EVT_PLUGINEVENT,
	SHK_EVT_K8S,
	SHK_EVT_MESOS,
	SHK_EVT_TRACER,
	SHK_EVT__END,
};

#define SHK_EVTYPE_MAX (SHK_SYSCALL_MAX + 64)

struct shk_evtset {
	uint64_t w[SHK_EVTYPE_MAX / 64];
};

static inline bool shk_evtset_has(const struct shk_evtset *s, unsigned t)
{
	return t < SHK_EVTYPE_MAX && (s->w[t / 64] >> (t % 64) & 1);
}

/* An event type name to its id; -ENOSYS for a syscall that exists, but
 * not on this architecture (it never happens here); -ENOENT if unknown. */
int shk_evtype_resolve(const char *name);
/* The name of an event type id into buf; -ENOENT if none. */
int shk_evtype_name(unsigned id, char *buf, size_t size);

/* Bounds for hostile input, after macro expansion. */
#define SHK_MACRO_MAX_DEPTH 64
#define SHK_COND_MAX_NODES 200000
#define SHK_COND_MAX_DEPTH 512
#define SHK_MAX_XFORMS 8

struct shk_ipnet {
	uint8_t family; /* 4 or 6 */
	uint8_t prefix; /* bits */
	uint8_t addr[16];
};

/* Does net contain addr (4 or 16 bytes, per family)? */
bool shk_ipnet_contains(const struct shk_ipnet *net, int family,
			const uint8_t *addr);

/* A string set (open addressing). */
struct shk_strset {
	struct shk_strset_slot {
		const char *s; /* NULL: empty slot */
		uint32_t len, hash;
	} *slots;
	uint32_t cap, n;
};

bool shk_strset_has(const struct shk_strset *set, const char *s, size_t len);

/* A field as a check reads it: id, argument, transformers. */
struct shk_fieldref {
	enum shk_field_id id;
	int32_t index;		   /* [N], or -1 */
	const char *key;	   /* [name] or .name, or NULL */
	uint32_t key_len;
	uint8_t nxform;
	uint8_t xform[SHK_MAX_XFORMS]; /* enum shk_xform, innermost first */
	enum shk_ftype type;	   /* the type after the transformers */
};

enum shk_rhs_kind {
	SHK_RHS_NONE,	 /* exists */
	SHK_RHS_VALUE,	 /* one value: text, num, b, net as the type says */
	SHK_RHS_STRSET,	 /* in/intersects over strings */
	SHK_RHS_NUMSET,	 /* in/intersects over numbers (and bools) */
	SHK_RHS_NETSET,	 /* in over addresses/networks */
	SHK_RHS_PATHS,	 /* pmatch */
	SHK_RHS_REGEX,	 /* glob, iglob (translated) and regex */
	SHK_RHS_FIELD,	 /* val(field) or a transformer on the right */
	SHK_RHS_EVTYPES, /* evt.type = / != / in */
};

struct shk_check {
	struct shk_fieldref lhs;
	enum shk_op op;
	enum shk_rhs_kind rhs;
	/* SHK_RHS_VALUE: the value as text (bcontains/bstartswith: the
	 * decoded bytes), and as a number where it parses as one. */
	const char *text;
	uint32_t text_len;
	bool has_num;
	int64_t num;	/* as signed */
	uint64_t unum;	/* as unsigned */
	bool b;
	struct shk_ipnet net;
	union {
		struct shk_strset *strset;
		struct {
			uint64_t *v; /* sorted; signed order for signed types */
			uint32_t n;
		} nums;
		struct {
			struct shk_ipnet *v;
			uint32_t n;
		} nets;
		struct {
			const char **v; /* sorted, without trailing '/' */
			uint32_t *len;
			uint32_t n;
		} paths;
		regex_t *re;
		struct shk_fieldref field;
		struct shk_evtset *evtypes;
	};
	struct shk_loc loc; /* where the check is written */
};

/* pmatch: is s equal to or below one of the paths? */
bool shk_check_pmatch(const struct shk_check *c, const char *s, size_t len);

enum shk_fnode_kind {
	SHK_FN_AND,
	SHK_FN_OR,
	SHK_FN_NOT, /* kids[0] */
	SHK_FN_CHECK,
};

/* A compiled condition node. Macro bodies are shared between rules. */
struct shk_fnode {
	enum shk_fnode_kind kind;
	uint32_t n;
	union {
		struct shk_fnode **kids;
		struct shk_check *check;
	};
};

struct shk_rule {
	uint32_t id; /* index in the ruleset */
	const char *name;
	const char *desc;
	const char *output; /* raw format string */
	const char *source;
	enum shk_priority priority;
	const char *const *tags;
	uint32_t ntags;
	bool enabled;
	struct shk_loc loc;
	struct shk_evtset evtypes;
	bool all_evtypes; /* no evt.type constraint: evaluated for every event */
	const struct shk_fnode *filter;
	uint32_t nnodes; /* condition size after macro expansion */
	const struct shk_action *actions;
	uint32_t nactions;
	enum shk_mode mode;
	const struct shk_rule_def *def;
};

struct shk_arena;
struct shk_plans;

struct shk_ruleset {
	struct shk_rule *rules; /* the rules that compiled, in load order */
	uint32_t nrules;
	uint32_t nfailed;  /* rules with errors (not in rules[]) */
	uint32_t nskipped; /* other sources, or skip-if-unknown-filter */
	struct shk_evtset interest; /* event types some enabled rule needs */
	struct shk_loader *loader;  /* owned: definitions, policies, diags */
	/* private */
	uint32_t *evt_off; /* SHK_EVTYPE_MAX + 1 offsets into evt_rules */
	uint32_t *evt_rules;
	struct shk_plans *plans; /* per event type, for the evaluator (rule_plan.h) */
	struct shk_arena *arena;
};

/*
 * Compile everything ld holds. The ruleset takes ownership of ld (also on
 * failure). Errors and warnings are appended to ld->diags
 * (shk_ruleset_diags()); rules with errors are left out and counted in
 * nfailed. Returns NULL with errno only on ENOMEM/EINVAL (ld NULL).
 */
struct shk_ruleset *shk_ruleset_compile(struct shk_loader *ld);
void shk_ruleset_free(struct shk_ruleset *rs);

struct shk_diags *shk_ruleset_diags(struct shk_ruleset *rs);
const struct shk_rule *shk_ruleset_find(const struct shk_ruleset *rs,
					const char *name);
/* Ids of the enabled rules to evaluate for an event type (those that name
 * it, then those without an evt.type constraint), in load order. */
const uint32_t *shk_ruleset_rules_for(const struct shk_ruleset *rs,
				      unsigned evtype, uint32_t *ret_n);

/* Render a compiled condition (for tests and `shrike rules`), like
 * shk_ast_format(): snprintf semantics. */
int shk_fnode_format(const struct shk_fnode *n, char *buf, size_t size);

#endif /* SHRIKE_RULE_COMPILE_H */
