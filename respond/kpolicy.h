/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kernel policy compiler: rules with `deny` in their actions, lowered to
 * the data the BPF side evaluates (bpf/shrike_abi.h, "kernel policy").
 *
 * For each deny rule the condition (macros inlined, exceptions folded in)
 * is put in disjunctive normal form. Each clause must name the operation
 * through evt.type (exec, open, connect, ptrace, module load, bpf, mount,
 * setuid, symlink/link) and constrain only fields the kernel sees at that
 * point; literals about the outcome (evt.dir, evt.res, evt.rawres,
 * evt.failed, fd.num, fd.typechar) are taken at the value a successful call
 * would give, since the decision is made before the call completes. The
 * clauses are then lowered to per-field bitmaps keyed by value.
 *
 * A rule that does not fit gets a reason and falls back to a userspace kill
 * (an error under --strict). Compiling needs no privileges: `shrike
 * validate` and `shrike rules list` use it to show where each deny runs.
 *
 * Rules whose action is `kill: process` (and no deny) are compiled the
 * same way, with clauses marked kill: where they fit, the kernel kills the
 * offending task at the event, in every backend, and reports the verdict;
 * where they do not, the kill stays in userspace as written, with no
 * warning (status NONE, the reason kept).
 */
#ifndef SHRIKE_KPOLICY_H
#define SHRIKE_KPOLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "plan.h"
#include "rule_compile.h"
#include "shrike_abi.h"

#define SHK_KP_RULE_MAX_CLAUSES 64  /* DNF clauses of one rule */
#define SHK_KP_CLAUSE_MAX_LITS 32   /* literals of one clause */
#define SHK_KP_RANGE_MAX 4096       /* values a numeric range may expand to */

enum shk_kp_status {
	SHK_KPS_NONE = 0, /* no deny action */
	SHK_KPS_KERNEL,   /* compiled to the kernel */
	SHK_KPS_FALLBACK, /* deny carried out as a userspace kill: process */
};

struct shk_kp_rule {
	enum shk_kp_status status; /* of the deny, else of a kill: process */
	bool kill;        /* KERNEL: the rule's kill: process, not a deny */
	uint32_t kid;     /* kernel rule number (1-based) when KERNEL */
	uint32_t classes; /* bit per enum shk_kp_class */
	uint32_t nclauses;
	char reason[200]; /* why FALLBACK */
};

struct shk_kp_sentry {
	struct shk_kp_skey key; /* slot left 0: the loader sets it */
	struct shk_kp_bits bits;
};

struct shk_kp_nentry {
	struct shk_kp_nkey key;
	struct shk_kp_bits bits;
};

struct shk_kp_aentry {
	struct shk_kp_akey key;
	struct shk_kp_bits bits;
};

/* A denied binary a copy of which the kernel may stop (SHK_KV_HELD). */
struct shk_kp_image {
	uint64_t id;  /* shk_exe_head_id of the file at load */
	uint32_t kid; /* the kernel rule */
	char *path;   /* compared in full with the stopped process's image */
};

struct shk_kpolicy {
	struct shk_kp_rule *rules; /* indexed by shk_rule.id */
	uint32_t nrules;
	uint32_t *kid_rule;	   /* kernel rule number - 1 -> shk_rule.id */
	uint32_t nkernel, nfallback;
	uint32_t nkill; /* of nkernel, the kill: process rules */
	/* the image: conf.gen and host_mntns are set by the loader */
	struct shk_kp_conf conf;
	struct shk_kp_bits base[SHK_KP_NCLASS][SHK_KF_NFIELDS + 1];
	struct shk_kp_clause clause[SHK_KP_NCLASS][SHK_KP_MAX_CLAUSES];
	struct shk_kp_sentry *str;
	uint32_t nstr, capstr;
	struct shk_kp_nentry *num;
	uint32_t nnum, capnum;
	struct shk_kp_aentry *addr;
	uint32_t naddr, capaddr;
	/* argument patterns (proc.args / proc.cmdline contains), scanned at
	 * exec; conf.nneedles of them */
	struct shk_kp_needle needles[SHK_KP_NEEDLES];
	/* by shk_rule.id: the rule has argument patterns, which the kernel
	 * scans in the first SHK_KP_ARGS_SCAN bytes only, so the engine checks
	 * it as well */
	uint8_t *recheck;
	struct shk_kp_image *images; /* copies by content: push_content_twins */
	uint32_t nimages;
};

/*
 * Compile the deny rules of rs. For each, the planned deny action of plan
 * is updated (deny_fallback) and a diagnostic goes to dg: a warning for a
 * fallback, or an error when strict. Returns the policy, or NULL with errno
 * (ENOMEM); with strict and a fallback, *ret_strict_failed is set.
 */
struct shk_kpolicy *shk_kpolicy_compile(const struct shk_ruleset *rs, struct shk_plan *plan,
					bool strict, struct shk_diags *dg, bool *ret_strict_failed);
void shk_kpolicy_free(struct shk_kpolicy *kp);

const struct shk_kp_rule *shk_kpolicy_rule(const struct shk_kpolicy *kp, uint32_t rule_id);
/* The shk_rule.id of a kernel rule number, or -1. */
int64_t shk_kpolicy_rule_of(const struct shk_kpolicy *kp, uint32_t kid);

/* The identity by content of the regular file at path, or of the open
 * file fd when path is NULL (shk_exe_head_id): 0, or -errno. */
int shk_kpolicy_image_id(const char *path, uint64_t *ret_id, int fd);
/*
 * Whether the image open at fd (a held process's /proc/PID/exe) is, byte
 * for byte, one of the binaries kernel rule kid (0: any rule) denies: 1
 * (with the file in *ret_path), 0, or -errno when it could not be read.
 */
int shk_kpolicy_same_image(const struct shk_kpolicy *kp, uint32_t kid, int fd,
			   const char **ret_path);

const char *shk_kp_class_name(unsigned cls);
const char *shk_kp_field_name(unsigned field);
/* The syscall names a class covers, NULL-terminated. */
const char *const *shk_kp_class_syscalls(unsigned cls);

#endif /* SHRIKE_KPOLICY_H */
