/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel policy evaluator (bpf/shrike_abi.h, "kernel policy"), shared
 * by the signal backend (sensor.bpf.c), the cgroup socket programs
 * (enforce.bpf.c) and the LSM hooks (lsm/). The maps are created by the
 * first object loaded and reused by the others.
 *
 * A caller asks kp_fields(cls) which facts the active policy needs, writes
 * those into the per-CPU kp_facts, and calls shk_kp_eval(cls). On a match
 * the verdict is in kp_facts: rule number, enforce or audit, generation.
 */
#ifndef SHRIKE_KPOLICY_BPF_H
#define SHRIKE_KPOLICY_BPF_H

#include "shrike_abi.h"

struct kp_facts {
	struct shk_kp_skey s[SHK_KF_NSTR];
	struct shk_kp_akey a;
	__u64 n[32]; /* SHK_KF_NNUM_END - SHK_KF_NSTR of them, indexed & 31 */
	/* argument patterns: the argv bytes scanned (NUL-padded) and the
	 * patterns, copied once per exec */
	union {
		char argbuf[SHK_KP_ARGS_SCAN + SHK_KP_NEEDLE_MAX];
		__u64 argw[(SHK_KP_ARGS_SCAN + SHK_KP_NEEDLE_MAX) / 8];
	};
	struct kp_pattern {
		__u64 w[SHK_KP_NEEDLE_MAX / 8]; /* the bytes, as words */
		__u64 m[SHK_KP_NEEDLE_MAX / 8]; /* which bytes count */
		__u32 len;
		__u32 start; /* 0 (cmdline) or where argv[1] begins */
	} pat[SHK_KP_NEEDLES];
	/* the scan's state lives here, in map memory, which the verifier
	 * does not track: branches on it do not multiply its states */
	__u32 found; /* bit per pattern */
	__u32 scan_len;
	__u32 npat;
	__u32 argv1;
	__u32 open_ok; /* sys_exit: the open's cheap check passed */
	__u32 _pad3;
	struct shk_kp_bits acc;
	struct shk_kp_bits any; /* proc.aname: OR over the ancestors */
	__u32 slot;
	__u32 v_rule;
	__u32 v_enforce;
	__u32 v_gen;
	__u32 v_kill; /* the rule kills (kill: process), whatever the backend */
	__u32 v_confirm; /* a content match: stop, userspace decides */
	__u32 _pad4;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kp_facts);
} kp_facts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} kp_active SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct shk_kp_conf);
} kp_conf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * SHK_KP_NEEDLES);
	__type(key, __u32);
	__type(value, struct shk_kp_needle);
} kp_needles SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SHK_KP_BASE_ENTRIES);
	__type(key, __u32);
	__type(value, struct shk_kp_bits);
} kp_base SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SHK_KP_CLAUSE_ENTRIES);
	__type(key, __u32);
	__type(value, struct shk_kp_clause);
} kp_clause SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SHK_KP_STR_ENTRIES);
	__type(key, struct shk_kp_skey);
	__type(value, struct shk_kp_bits);
} kp_str SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SHK_KP_NUM_ENTRIES);
	__type(key, struct shk_kp_nkey);
	__type(value, struct shk_kp_bits);
} kp_num SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SHK_KP_NVALS_ENTRIES);
	__type(key, __u32);
	__type(value, struct shk_kp_nvals);
} kp_nvals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SHK_KP_NVALS_ENTRIES * SHK_KP_NVALS);
	__type(key, __u32);
	__type(value, struct shk_kp_bits);
} kp_nbits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SHK_KP_ADDR_ENTRIES);
	__type(key, struct shk_kp_akey);
	__type(value, struct shk_kp_bits);
} kp_addr SEC(".maps");

/* Processes the kernel policy never touches: PID 1, shrike and its
 * ancestors (filled by userspace; DESIGN.md section 4). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32); /* tgid */
	__type(value, __u8);
} kp_protect SEC(".maps");

/* The name each process had when it exec'd (tgid -> comm): the kernel
 * policy's proc.name/pname/aname, which prctl(PR_SET_NAME) cannot change.
 * Set at exec by the sensor, dropped at exit. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, char[SHK_COMM_LEN]);
} kp_comm SEC(".maps");

/* Verdicts of programs that make a call fail (cgroup, lsm) or kill at
 * entry, for the sys_exit record of that call. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32); /* tid */
	__type(value, struct shk_kverdict);
} kp_stash SEC(".maps");

static __always_inline struct kp_facts *kp_facts_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&kp_facts, &zero);
}

/* conf->cls[cls], bounds-checked where the verifier sees it. */
static __always_inline struct shk_kp_class_conf *kp_cls_conf(struct shk_kp_conf *conf, __u32 cls)
{
	barrier_var(cls);
	if (cls >= SHK_KP_NCLASS)
		return NULL;
	return &conf->cls[cls];
}

/* The fields the active policy constrains for cls (0: nothing to check);
 * remembers the slot in the facts for shk_kp_eval(). */
static __always_inline __u64 kp_fields(struct kp_facts *f, __u32 cls)
{
	__u32 zero = 0, *slot = bpf_map_lookup_elem(&kp_active, &zero), s;
	struct shk_kp_class_conf *cc;
	struct shk_kp_conf *conf;

	if (!slot || cls >= SHK_KP_NCLASS)
		return 0;
	s = *slot & 1;
	conf = bpf_map_lookup_elem(&kp_conf, &s);
	cc = conf ? kp_cls_conf(conf, cls) : NULL;
	if (!cc || !cc->nclauses)
		return 0;
	f->slot = s;
	return cc->fields;
}

static __always_inline struct shk_kp_bits *kp_base_of(__u32 slot, __u32 cls, __u32 field)
{
	__u32 k = (slot * SHK_KP_NCLASS + cls) * (SHK_KF_NFIELDS + 1) + field;

	return bpf_map_lookup_elem(&kp_base, &k);
}

static __always_inline struct shk_kp_bits *kp_str_lookup(struct kp_facts *f, __u64 i, __u32 cls,
							  __u32 field)
{
	struct shk_kp_skey *k;

	barrier_var(i);
	if (i >= SHK_KF_NSTR)
		return NULL;
	barrier_var(i); /* the register checked is the one indexed */
	k = &f->s[i];
	k->prefixlen = 8 * SHK_KP_STR_DATA;
	k->slot = f->slot;
	k->cls = cls;
	k->field = field;
	return bpf_map_lookup_elem(&kp_str, k);
}

/* Lowest set bit, for a non-zero word (de Bruijn). */
static const __u8 kp_debruijn[64] = {
	0,  1,	48, 2,	57, 49, 28, 3,	61, 58, 50, 42, 38, 29, 17, 4,	62, 55, 59, 36, 53, 51,
	43, 22, 45, 39, 33, 30, 24, 18, 12, 5,	63, 47, 56, 27, 60, 41, 37, 16, 54, 35, 52, 21,
	44, 32, 23, 11, 46, 26, 40, 15, 34, 20, 31, 10, 25, 14, 19, 9,	13, 8,	7,  6,
};

static __always_inline __u32 kp_lowbit(__u64 w)
{
	return kp_debruijn[(((w & -w) * 0x03f79d71b4cb0a89ull) >> 58) & 63];
}

/* a &= b over the whole bitmap (unused words are zero in the "all"
 * bitmap, so they stay zero): straight-line code, no branch */
static __always_inline void kp_and(struct shk_kp_bits *a, const struct shk_kp_bits *b)
{
#pragma unroll
	for (int w = 0; w < SHK_KP_WORDS; w++)
		a->w[w] &= b->w[w];
}

/* One field: look its fact up, AND the bitmap in. A global function: the
 * verifier checks it once, and the loop that calls it stays small. */
__noinline int shk_kp_field(__u32 cls, __u32 fi)
{
	struct kp_facts *f = kp_facts_get();
	struct shk_kp_bits *b = NULL, *miss;
	__u32 slot;

	if (!f || fi >= SHK_KF_NFIELDS || cls >= SHK_KP_NCLASS)
		return -1;
	slot = f->slot & 1;
	miss = kp_base_of(slot, cls, fi);
	if (!miss)
		return -1;
	if (fi == SHK_KF_ANAME_ANY) {
		__builtin_memset(&f->any, 0, sizeof(f->any));
#pragma unroll
		for (__u32 a = SHK_KF_PNAME; a <= SHK_KF_ANAME4; a++) {
			b = kp_str_lookup(f, a, cls, SHK_KF_ANAME_ANY);
			if (!b)
				b = miss;
#pragma unroll
			for (int w = 0; w < SHK_KP_WORDS; w++)
				f->any.w[w] |= b->w[w];
		}
		kp_and(&f->acc, &f->any);
		return 0;
	}
	if (fi < SHK_KF_NSTR) {
		b = kp_str_lookup(f, fi, cls, fi);
	} else if (fi < SHK_KF_NNUM_END) {
		__u32 vk = (slot * SHK_KP_NCLASS + cls) * SHK_KF_NFIELDS + fi;
		struct shk_kp_nvals *nv = bpf_map_lookup_elem(&kp_nvals, &vk);
		__u64 v = f->n[(fi - SHK_KF_NSTR) & 31];

		if (nv && nv->n != SHK_KP_NV_MANY) {
			/* a few values: compare, then an array lookup */
#pragma unroll
			for (__u32 i = 0; i < SHK_KP_NVALS; i++) {
				if (i < nv->n && nv->v[i] == v) {
					__u32 bk = vk * SHK_KP_NVALS + i;

					b = bpf_map_lookup_elem(&kp_nbits, &bk);
					break;
				}
			}
		} else {
			struct shk_kp_nkey nk = {};

			nk.slot = slot;
			nk.cls = cls;
			nk.field = fi;
			nk.v = v;
			b = bpf_map_lookup_elem(&kp_num, &nk);
		}
	} else {
		f->a.prefixlen = 32 + 128;
		f->a.slot = slot;
		f->a.cls = cls;
		f->a.field = fi;
		b = bpf_map_lookup_elem(&kp_addr, &f->a);
	}
	kp_and(&f->acc, b ? b : miss);
	return 0;
}

/*
 * Evaluation in steps, so that a caller can rule a policy out on cheap
 * facts (numbers) before it computes costly ones (paths):
 * shk_kp_eval_start(cls), then shk_kp_eval_fields(cls, some fields) as
 * often as needed (0: no clause can match any more), then
 * shk_kp_eval_pick(cls). shk_kp_eval() does the three at once. Global
 * functions: each is verified once, whatever calls it.
 */
__noinline int shk_kp_eval_start(__u32 cls)
{
	struct kp_facts *f = kp_facts_get();
	struct shk_kp_bits *all;
	__u32 slot;

	if (!f || cls >= SHK_KP_NCLASS)
		return 0;
	slot = f->slot & 1;
	all = kp_base_of(slot, cls, SHK_KP_BASE_ALL);
	if (!all)
		return 0;
	f->acc = *all;
	return 1;
}

__noinline int shk_kp_eval_fields(__u32 cls, __u64 fields)
{
	struct kp_facts *f = kp_facts_get();
	__u64 any = 0;

	if (!f || cls >= SHK_KP_NCLASS)
		return 0;
	/* one call per field in use, lowest first */
	for (int i = 0; i < SHK_KF_NFIELDS && fields; i++) {
		__u32 fi = kp_lowbit(fields);

		fields &= fields - 1;
		if (shk_kp_field(cls, fi))
			return 0;
	}
#pragma unroll
	for (int w = 0; w < SHK_KP_WORDS; w++)
		any |= f->acc.w[w];
	return any != 0;
}

__noinline int shk_kp_eval_pick(__u32 cls)
{
	struct kp_facts *f = kp_facts_get();
	struct shk_kp_clause *cl;
	struct shk_kp_conf *conf;
	__u32 slot, k;

	if (!f || cls >= SHK_KP_NCLASS)
		return 0;
	/* only now, on a possible match: never PID 1, shrike, its
	 * ancestors or a kernel thread */
	k = bpf_get_current_pid_tgid() >> 32;
	if (bpf_map_lookup_elem(&kp_protect, &k))
		return 0;
	if (BPF_CORE_READ(bpf_get_current_task_btf(), flags) & 0x00200000) /* PF_KTHREAD */
		return 0;
	slot = f->slot & 1;
	conf = bpf_map_lookup_elem(&kp_conf, &slot);
	if (!conf)
		return 0;
#pragma unroll
	for (__u32 w = 0; w < SHK_KP_WORDS; w++) {
		__u64 x = f->acc.w[w];

		if (!x)
			continue;
		k = (slot * SHK_KP_NCLASS + cls) * SHK_KP_MAX_CLAUSES + w * 64 + kp_lowbit(x);
		cl = bpf_map_lookup_elem(&kp_clause, &k);
		if (!cl)
			return 0;
		f->v_rule = cl->rule;
		f->v_enforce = cl->enforce;
		f->v_kill = cl->kill;
		f->v_confirm = cl->confirm;
		f->v_gen = conf->gen;
		return 1;
	}
	return 0;
}

/* Evaluate the facts against the active policy for cls, given the fields
 * it needs (kp_fields()): 1 on a match, with the verdict in the facts.
 * Inline: the verifier limits the combined stack of a call chain (512
 * bytes on 6.1), and the chains from the exec and exit programs are deep. */
static __always_inline int shk_kp_eval(__u32 cls, __u64 fields)
{
	return shk_kp_eval_start(cls) && shk_kp_eval_fields(cls, fields) && shk_kp_eval_pick(cls);
}

/* The string fields (the costly facts: names, paths). */
#define KP_STR_FIELDS ((1ull << SHK_KF_NSTR) - 1)

/* Copy a kernel string into a string fact. */
static __always_inline void kp_put_str(struct kp_facts *f, __u64 i, const void *src)
{
	barrier_var(i);
	if (i >= SHK_KF_NSTR)
		return;
	barrier_var(i);
	if (bpf_probe_read_kernel_str(f->s[i].s, SHK_KP_STR_MAX, src) < 0)
		f->s[i].s[0] = '\0';
}

static __always_inline void kp_put_num(struct kp_facts *f, __u32 field, __u64 v)
{
	if (field >= SHK_KF_NSTR && field < SHK_KF_NNUM_END)
		f->n[(field - SHK_KF_NSTR) & 31] = v;
}

#define KP_PROC_STRS                                                                        \
	((1ull << SHK_KF_PROC_NAME) | (1ull << SHK_KF_PNAME) | (1ull << SHK_KF_ANAME2) |      \
	 (1ull << SHK_KF_ANAME3) | (1ull << SHK_KF_ANAME4) | (1ull << SHK_KF_ANAME_ANY))

/* A task's name as of its exec (kp_comm), else its current comm. */
static __always_inline void kp_put_name(struct kp_facts *f, __u64 i, struct task_struct *t)
{
	__u32 tgid = BPF_CORE_READ(t, tgid);
	char *c = bpf_map_lookup_elem(&kp_comm, &tgid);

	kp_put_str(f, i, c ? (const void *)c : __builtin_preserve_access_index(&t->comm));
}

/* The process facts of a task: names up to the fourth ancestor, euid, and
 * host or container (a mount namespace other than the host's). */
#ifndef RD /* the sensor defines direct loads where the kernel allows them */
#define FCAST(p, type) ((type *)(p))
#define RD(p, field) BPF_CORE_READ(p, field)
#endif

static __always_inline void kp_put_proc(struct kp_facts *f, __u64 fields, struct task_struct *task)
{
	struct task_struct *p = task;

	if (fields & (1ull << SHK_KF_PROC_NAME))
		kp_put_name(f, SHK_KF_PROC_NAME, task);
	if (fields & KP_PROC_STRS & ~(1ull << SHK_KF_PROC_NAME)) {
		for (__u32 i = SHK_KF_PNAME; i <= SHK_KF_ANAME4; i++) {
			p = BPF_CORE_READ(p, real_parent);
			if (!p) {
				f->s[i].s[0] = '\0';
				continue;
			}
			kp_put_name(f, i, p);
		}
	}
	if (fields & (1ull << SHK_KF_UID)) {
		const struct cred *cred = RD(FCAST(task, struct task_struct), cred);

		kp_put_num(f, SHK_KF_UID, cred ? RD(cred, euid.val) : 0);
	}
	if (fields & (1ull << SHK_KF_CONTAINER)) {
		__u32 zero = 0, *slot = bpf_map_lookup_elem(&kp_active, &zero), s = slot ? *slot & 1 : 0;
		struct shk_kp_conf *conf = bpf_map_lookup_elem(&kp_conf, &s);
		struct nsproxy *ns = RD(FCAST(task, struct task_struct), nsproxy);
		struct mnt_namespace *mns = ns ? RD(ns, mnt_ns) : NULL;
		__u32 mnt = mns ? RD(mns, ns.inum) : 0;

		kp_put_num(f, SHK_KF_CONTAINER, conf && mnt != conf->host_mntns);
	}
}

/* ---- argument patterns (proc.args contains) ------------------------ */

#define KP_ARG_FIELDS (((1ull << SHK_KP_NEEDLES) - 1) << SHK_KF_ARG0)


#define KP_ARGBUF (SHK_KP_ARGS_SCAN + SHK_KP_NEEDLE_MAX)

/* The 8 argv bytes at p + 8k, from aligned words (clang would load an
 * unaligned word byte by byte): branchless, p < SHK_KP_ARGS_SCAN. */
static __always_inline __u64 kp_word_at(struct kp_facts *f, __u32 p, __u32 k)
{
	__u32 i = ((p >> 3) + k) & 63, o = (p & 7) * 8;

	return (f->argw[i] >> o) | ((f->argw[i + 1] << (63 - o)) << 1);
}

/* Zero bytes of a word, exactly: 0x80 in each zero byte, 0 elsewhere. */
static __always_inline __u64 kp_zero_bytes(__u64 x)
{
	const __u64 m = 0x7f7f7f7f7f7f7f7full;

	return ~(((x & m) + m) | x | m);
}

/* One position of argv against every pattern: a cheap first-byte test,
 * then the pattern as four masked word compares (no per-byte loop, so the
 * verifier's work stays small). */
static long kp_scan_step(__u32 pos, void *data)
{
	struct kp_facts *f = kp_facts_get();
	__u32 p = pos & (SHK_KP_ARGS_SCAN - 1);

	if (!f || pos >= f->scan_len)
		return 1;
	for (__u32 j = 0; j < SHK_KP_NEEDLES; j++) {
		struct kp_pattern *pt;

		if (j >= f->npat)
			break;
		pt = &f->pat[j];
		if ((__u8)f->argbuf[p] != (__u8)pt->w[0] || p < pt->start || p + pt->len > f->scan_len)
			continue;
		if (((kp_word_at(f, p, 0) ^ pt->w[0]) & pt->m[0]) |
		    ((kp_word_at(f, p, 1) ^ pt->w[1]) & pt->m[1]) |
		    ((kp_word_at(f, p, 2) ^ pt->w[2]) & pt->m[2]) |
		    ((kp_word_at(f, p, 3) ^ pt->w[3]) & pt->m[3]))
			continue;
		f->found |= 1u << j;
	}
	return 0;
}

/* Scan the first SHK_KP_ARGS_SCAN bytes of argv (NUL separated, at kernel
 * address args) for the active policy's patterns; sets the ARG facts. The
 * NULs between arguments read as the spaces proc.args has there. */
__noinline int shk_kp_args(__u64 args, __u32 len)
{
	struct kp_facts *f = kp_facts_get();
	struct shk_kp_conf *conf;
	__u32 slot, n = 0;

	if (!f)
		return 0;
	slot = f->slot & 1;
	conf = bpf_map_lookup_elem(&kp_conf, &slot);
	if (!conf)
		return 0;
	f->scan_len = len < SHK_KP_ARGS_SCAN ? len : SHK_KP_ARGS_SCAN;
	__builtin_memset(f->argbuf, 0, sizeof(f->argbuf));
	if (!args ||
	    bpf_probe_read_kernel(f->argbuf, f->scan_len & (SHK_KP_ARGS_SCAN - 1), (const void *)args))
		f->scan_len = 0;
	/* where argv[1] begins: after the first NUL; then NULs to spaces */
	f->argv1 = f->scan_len;
#pragma nounroll
	for (__u32 w = 0; w < KP_ARGBUF / 8; w++) {
		__u64 x = f->argw[w], z = kp_zero_bytes(x);

		if (z && f->argv1 == f->scan_len && w * 8 < f->scan_len)
			f->argv1 = w * 8 + (kp_lowbit(z) >> 3) + 1;
		f->argw[w] = x | (z >> 2);
	}
	f->npat = conf->nneedles < SHK_KP_NEEDLES ? conf->nneedles : SHK_KP_NEEDLES;
	for (__u32 j = 0; j < SHK_KP_NEEDLES; j++) {
		__u32 k = slot * SHK_KP_NEEDLES + j, l;
		struct shk_kp_needle *nd = bpf_map_lookup_elem(&kp_needles, &k);
		struct kp_pattern *pt = &f->pat[j];

		if (j >= f->npat || !nd)
			break;
		l = nd->len < SHK_KP_NEEDLE_MAX ? nd->len : SHK_KP_NEEDLE_MAX;
		pt->len = l;
		pt->start = nd->cmdline ? 0 : f->argv1;
		for (__u32 w = 0; w < SHK_KP_NEEDLE_MAX / 8; w++) {
			__u32 b = l > w * 8 ? l - w * 8 : 0;

			__builtin_memcpy(&pt->w[w], &nd->s[w * 8], 8);
			pt->m[w] = b >= 8 ? ~0ull : b ? (1ull << (b * 8)) - 1 : 0;
		}
	}
	f->found = 0;
	bpf_loop(SHK_KP_ARGS_SCAN, kp_scan_step, &n, 0);
	for (__u32 j = 0; j < SHK_KP_NEEDLES; j++)
		kp_put_num(f, SHK_KF_ARG0 + j, !!(f->found & (1u << j)));
	return 0;
}

#endif /* SHRIKE_KPOLICY_BPF_H */
