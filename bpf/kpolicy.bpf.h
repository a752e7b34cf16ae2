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
	char argbuf[SHK_KP_ARGS_SCAN + SHK_KP_NEEDLE_MAX];
	struct shk_kp_needle nd[SHK_KP_NEEDLES];
	struct shk_kp_bits acc;
	struct shk_kp_bits any; /* proc.aname: OR over the ancestors */
	__u32 slot;
	__u32 v_rule;
	__u32 v_enforce;
	__u32 v_gen;
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
		struct shk_kp_nkey nk = {};

		nk.slot = slot;
		nk.cls = cls;
		nk.field = fi;
		nk.v = f->n[(fi - SHK_KF_NSTR) & 31];
		b = bpf_map_lookup_elem(&kp_num, &nk);
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
	if (fields & (1ull << SHK_KF_UID))
		kp_put_num(f, SHK_KF_UID, BPF_CORE_READ(task, cred, euid.val));
	if (fields & (1ull << SHK_KF_CONTAINER)) {
		__u32 zero = 0, *slot = bpf_map_lookup_elem(&kp_active, &zero), s = slot ? *slot & 1 : 0;
		struct shk_kp_conf *conf = bpf_map_lookup_elem(&kp_conf, &s);
		__u32 mnt = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);

		kp_put_num(f, SHK_KF_CONTAINER, conf && mnt != conf->host_mntns);
	}
}

/* ---- argument patterns (proc.args contains) ------------------------ */

#define KP_ARG_FIELDS (((1ull << SHK_KP_NEEDLES) - 1) << SHK_KF_ARG0)

struct kp_scan {
	__u32 len;   /* argv bytes in argbuf */
	__u32 args;  /* where argv[1] starts */
	__u32 n;     /* patterns */
	__u32 found; /* bit per pattern */
};

/* Does pattern j occur at pos? A NUL between arguments reads as the space
 * proc.args has there. */
static __always_inline bool kp_at(struct kp_facts *f, __u32 j, __u32 pos)
{
	struct shk_kp_needle *nd = &f->nd[j & (SHK_KP_NEEDLES - 1)];

	/* loops, not unrolled: the callback's stack counts against the
	 * 512 bytes of the whole call chain */
	for (__u32 k = 0; k < SHK_KP_NEEDLE_MAX; k++) {
		__u32 idx = pos + k;
		char c;

		if (k >= nd->len)
			return true;
		barrier_var(idx);
		if (idx >= SHK_KP_ARGS_SCAN + SHK_KP_NEEDLE_MAX)
			return false;
		c = f->argbuf[idx];
		if ((c ? c : ' ') != nd->s[k])
			return false;
	}
	return true;
}

static long kp_scan_step(__u32 pos, void *data)
{
	struct kp_scan *sc = data;
	struct kp_facts *f = kp_facts_get();
	char c;

	if (!f || pos >= sc->len)
		return 1;
	c = f->argbuf[pos & (SHK_KP_ARGS_SCAN - 1)];
	for (__u32 j = 0; j < SHK_KP_NEEDLES; j++) {
		if (j >= sc->n)
			break;
		if (sc->found & (1u << j) || f->nd[j].s[0] != (c ? c : ' ') ||
		    (!f->nd[j].cmdline && pos < sc->args) || pos + f->nd[j].len > sc->len)
			continue;
		if (kp_at(f, j, pos))
			sc->found |= 1u << j;
	}
	return 0;
}

/* Scan the first SHK_KP_ARGS_SCAN bytes of argv (NUL separated, at kernel
 * address args) for the active policy's patterns; sets the ARG facts. */
__noinline int shk_kp_args(__u64 args, __u32 len)
{
	struct kp_facts *f = kp_facts_get();
	struct kp_scan sc = {};
	struct shk_kp_conf *conf;
	__u32 slot;

	if (!f)
		return 0;
	slot = f->slot & 1;
	conf = bpf_map_lookup_elem(&kp_conf, &slot);
	if (!conf)
		return 0;
	sc.n = conf->nneedles < SHK_KP_NEEDLES ? conf->nneedles : SHK_KP_NEEDLES;
	for (__u32 j = 0; j < SHK_KP_NEEDLES; j++) {
		__u32 k = slot * SHK_KP_NEEDLES + j;
		struct shk_kp_needle *nd = bpf_map_lookup_elem(&kp_needles, &k);

		if (j >= sc.n || !nd)
			break;
		f->nd[j] = *nd;
	}
	sc.len = len < SHK_KP_ARGS_SCAN ? len : SHK_KP_ARGS_SCAN;
	__builtin_memset(f->argbuf, 0, sizeof(f->argbuf));
	if (!args || bpf_probe_read_kernel(f->argbuf, sc.len & (SHK_KP_ARGS_SCAN - 1), (const void *)args))
		sc.len = 0;
	/* proc.args starts after argv[0] */
	sc.args = sc.len;
	for (__u32 i = 0; i < SHK_KP_ARGS_SCAN; i++) {
		if (i >= sc.len)
			break;
		if (!f->argbuf[i]) {
			sc.args = i + 1;
			break;
		}
	}
	bpf_loop(SHK_KP_ARGS_SCAN, kp_scan_step, &sc, 0);
	for (__u32 j = 0; j < SHK_KP_NEEDLES; j++)
		kp_put_num(f, SHK_KF_ARG0 + j, !!(sc.found & (1u << j)));
	return 0;
}

#endif /* SHRIKE_KPOLICY_BPF_H */
