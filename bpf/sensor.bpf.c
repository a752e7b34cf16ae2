// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/*
 * shrike sensors: process lifecycle (sched_process_exec/fork/exit) and one
 * syscall dispatcher (sys_enter/sys_exit) filtered by a per-syscall interest
 * map. Everything a rule needs is resolved here, at the event: absolute
 * paths, fd types and socket tuples, exe properties, cgroup, namespaces.
 *
 * Records are assembled in a per-CPU scratch area and copied to the ring
 * buffer in one bpf_ringbuf_output(); the layout is bpf/shrike_abi.h.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "core_fixes.bpf.h"
#include "shrike_abi.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 shk_self_pid = 0;
/*
 * Wake the consumer each time the unread bytes cross a multiple of this
 * (0: on every record). Each wakeup is an irq_work and a context switch; batching them
 * was the largest single cost in the benchmark. The consumer also drains on
 * a short timer, which bounds the latency of a quiet trickle of records.
 */
const volatile __u32 shk_wakeup_bytes = 0;

/*
 * Fast reads. Walking kernel structures with bpf_probe_read_kernel() costs
 * a helper call each (about 30 ns here, 20 or so per open). Kernels with
 * the bpf_rdonly_cast() kfunc (6.2+) let a plain pointer become an
 * untrusted BTF pointer whose fields are then read by direct, fault-safe
 * loads. Userspace sets shk_fast_reads when kernel BTF has the kfunc; when
 * it is false the verifier drops the fast branches as dead code, so older
 * kernels never see the (weak, unresolved) kfunc call.
 */
const volatile bool shk_fast_reads = false;

/* Set by userspace at run time (not const: policies can change): exec,
 * fork and exit records wake the consumer at once, because an enforce
 * action may hang on them. Syscalls use SHK_INTEREST_URGENT instead. */
__u32 shk_urgent_proc = 0;
/* Set by the enforcer when the lsm backend runs (lsm/hooks.bpf.h): the
 * hooks check the kernel policy and the signal checks below stand down.
 * Zero (signal backend) until then, so hooks loaded but not chosen are
 * inert. */
__u32 shk_kp_lsm = 0;
extern void *bpf_rdonly_cast(const void *obj__ign, __u32 btf_id__k) __ksym __weak;

/* p as an untrusted BTF pointer of `type` in fast mode, unchanged otherwise */
#define FCAST(p, type)                                                              \
	(shk_fast_reads ? (type *)bpf_rdonly_cast((const void *)(p),                 \
						  bpf_core_type_id_kernel(type)) :   \
			  (type *)(p))
/* one field of *p: a direct load in fast mode, a helper read otherwise */
#define RD(p, field) (shk_fast_reads ? (p)->field : BPF_CORE_READ(p, field))
/*
 * The current task, for reading its fields. In fast mode an untrusted
 * pointer: loads through it read the same memory, but the verifier (v6.2+)
 * checks each load from a trusted pointer against the kernel's lists of
 * trusted fields with up to four linear searches of the kernel's BTF by
 * name, which made that most of the time it took to load the sensors.
 * Helpers that need the task itself (task storage, pt_regs) take
 * bpf_get_current_task_btf().
 */
#define CUR_TASK() FCAST(bpf_get_current_task_btf(), struct task_struct)

#define AT_FDCWD -100
#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define AF_NETLINK 16
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define S_IFLNK 0120000
#define S_IFREG 0100000
#define S_IFBLK 0060000
#define S_IFDIR 0040000
#define S_IFCHR 0020000
#define S_IFIFO 0010000
#define TS_COMPAT 0x0002
#define PR_SET_NAME 15
#define O_WRONLY 01
#define O_CREAT 0100
#define O_TRUNC 01000

#define TMPFS_MAGIC 0x01021994
#define HUGETLBFS_MAGIC 0x958458f6
#define OVERLAYFS_SUPER_MAGIC 0x794c7630
#define ANON_INODE_FS_MAGIC 0x09041934
#define PIPEFS_MAGIC 0x50495045
#define SOCKFS_MAGIC 0x534F434B

/* Scratch layout: the record, with room past SHK_EVENT_MAX so that a masked
 * offset plus one bounded copy always stays inside the map value (that is
 * what lets the verifier accept variable-offset writes). */
#define EV_MASK (SHK_EVENT_MAX - 1)
#define SCRATCH_SIZE (SHK_EVENT_MAX + SHK_PATH_MAX + SHK_NAME_MAX)
#define DEPTH_SLOTS 64 /* >= SHK_PATH_DEPTH, power of two */

struct scratch {
	__u8 ev[SCRATCH_SIZE];
	__u64 comp[DEPTH_SLOTS]; /* path components collected leaf-first */
	/*
	 * The write cursor and counts live here, not on the stack: the
	 * verifier does not track map values, so every load is an unbounded
	 * scalar that is then masked. Kept in registers, each branch would
	 * leave a different precise range and states would never merge (the
	 * exec program went past 1M instructions that way).
	 */
	__u32 pos;
	__u32 flags;
	__u32 n;
	__u32 unwoken; /* bytes written since this CPU last woke the consumer */
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* userspace may resize before load */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SHK_SYSCALL_MAX);
	__type(key, __u32);
	__type(value, struct shk_interest);
} interest SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct shk_counters);
} counters SEC(".maps");

/* Per-CPU scratch. Too big for a per-CPU array value (32 KiB limit), so an
 * array indexed by CPU; userspace sets max_entries to the CPU count. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

/*
 * The task context, cached per task. Most of it never changes (pid
 * namespace, vpid, start time) and the rest changes only when one of a few
 * kernel pointers changes: cred (setuid, capset, exec of a setuid binary),
 * css_set (cgroup migration), nsproxy (setns, unshare), real_parent
 * (reparenting), signal->tty and the session pid (setsid). Comparing those pointers costs a few
 * loads; recomputing everything cost about 1 us per event.
 */
struct task_cache {
	struct shk_task t;
	__u64 cred, css, nsproxy, parent, tty, sid;
	__u32 valid;
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_cache);
} task_ctx SEC(".maps");

/* Task context captured at sys_enter for syscalls that change it (setuid
 * family): the record reports who made the call, not who they became. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32); /* tid */
	__type(value, struct shk_task);
} enter_ctx SEC(".maps");

#include "kpolicy.bpf.h"

/* ---------------------------------------------------------------------- */

struct rec {
	bool urgent;  /* wake the consumer now */
	__u8 *buf;    /* scratch.ev */
	__u64 *comp;  /* scratch.comp */
	struct scratch *s; /* s->pos: bytes used; s->flags: SHK_F_* */
	__u32 str_at; /* offset of the record's struct shk_str array */
	struct task_struct *task;
};

static __always_inline struct shk_counters *counters_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&counters, &zero);
}

#define COUNT(field)                                                           \
	do {                                                                   \
		struct shk_counters *__c = counters_get();                     \
		if (__c)                                                       \
			__c->field++;                                          \
	} while (0)

static __always_inline int rec_begin(struct rec *r, __u32 fixed, __u32 str_at)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct scratch *s = bpf_map_lookup_elem(&scratch, &cpu);

	if (!s)
		return -1;
	r->buf = s->ev;
	r->comp = s->comp;
	r->s = s;
	s->pos = fixed;
	s->flags = 0;
	r->str_at = str_at;
	r->urgent = false;
	r->task = CUR_TASK();
	__builtin_memset(s->ev, 0, fixed & 1023); /* fixed parts are < 1 KiB */
	return 0;
}

static __always_inline struct shk_str *rec_slot(struct rec *r, int slot)
{
	return (struct shk_str *)&r->buf[(r->str_at + slot * sizeof(struct shk_str)) & 1023];
}

/* Close a string that was written at [start, r->s->pos) and add its NUL. */
static __always_inline void rec_close_str(struct rec *r, int slot, __u32 start)
{
	struct shk_str *s = rec_slot(r, slot);

	s->off = start;
	s->len = r->s->pos - start;
	r->buf[r->s->pos & EV_MASK] = 0;
	r->s->pos++;
}

static __always_inline int rec_room(struct rec *r, __u32 need)
{
	return r->s->pos + need + 1 < SHK_EVENT_MAX;
}

/* Append a NUL-terminated string; max is a constant <= SHK_PATH_MAX. */
static __always_inline void put_str(struct rec *r, int slot, const void *p, __u32 max, bool user)
{
	__u32 start = r->s->pos;
	long n;

	if (!p || !rec_room(r, max))
		return;
	if (user)
		n = bpf_probe_read_user_str(&r->buf[start & EV_MASK], max, p);
	else
		n = bpf_probe_read_kernel_str(&r->buf[start & EV_MASK], max, p);
	if (n <= 0)
		return;
	if (n == max)
		r->s->flags |= SHK_F_TRUNCATED;
	r->s->pos = start + n - 1;
	rec_close_str(r, slot, start);
}

/* Append len raw bytes (argv, environ); max is a constant power of two. */
static __always_inline void put_bytes_user(struct rec *r, int slot, const void *p, __u64 len, __u32 max)
{
	__u32 start = r->s->pos;

	if (!p || !rec_room(r, max))
		return;
	if (len > max - 1) {
		len = max - 1;
		r->s->flags |= SHK_F_TRUNCATED;
	}
	if (bpf_probe_read_user(&r->buf[start & EV_MASK], len & (max - 1), p))
		return;
	r->s->pos = start + (len & (max - 1));
	rec_close_str(r, slot, start);
}

/*
 * Append the names collected in r->comp[0 .. r->s->n) root first, as
 * "/a/b/c", and close the string that began at `start`. Zero slots (mount
 * crossings) are skipped. Shared by dentry and kernfs walks.
 */
static __always_inline void put_components(struct rec *r, int slot, __u32 start)
{
	__u32 i;

	for (i = 0; i < DEPTH_SLOTS; i++) {
		__u64 nm;
		long k;

		if (i >= r->s->n)
			break;
		nm = r->comp[(r->s->n - 1 - i) & (DEPTH_SLOTS - 1)];
		if (!nm)
			continue;
		if (r->s->pos - start > SHK_PATH_MAX - SHK_NAME_MAX - 2) {
			r->s->flags |= SHK_F_TRUNCATED;
			break;
		}
		r->buf[r->s->pos & EV_MASK] = '/';
		r->s->pos++;
		k = bpf_probe_read_kernel_str(&r->buf[r->s->pos & EV_MASK], SHK_NAME_MAX,
					      (const void *)nm);
		if (k > 1)
			r->s->pos += k - 1;
	}
	rec_close_str(r, slot, start);
}

/*
 * Absolute path of a struct path, relative to the task's root (so a
 * container's process sees its own paths). Walks dentries leaf to root,
 * crossing mounts, collecting name pointers; then appends them root first.
 * Bounded by SHK_PATH_DEPTH components and SHK_PATH_MAX bytes.
 */
static __always_inline void put_path_impl(struct rec *r, int slot, const struct path *p)
{
	struct task_struct *task = CUR_TASK();
	struct dentry *root_d = task->fs->root.dentry;
	struct vfsmount *root_m = task->fs->root.mnt;
	const struct path *path = FCAST(p, const struct path);
	struct dentry *d = RD(path, dentry);
	struct vfsmount *vm = RD(path, mnt);
	__u64 mnt_off = bpf_core_field_offset(struct mount, mnt);
	struct mount *mnt = FCAST((void *)vm - mnt_off, struct mount);
	struct dentry *mnt_root;
	__u32 start = r->s->pos, i;

	r->s->n = 0;
	if (!d || !vm || !rec_room(r, SHK_PATH_MAX))
		return;
	/*
	 * Pass 1 stores one slot per iteration (0 for a mount crossing) so
	 * that only the loop index is live: tracking a separate component
	 * count would multiply the verifier's states.
	 */
	mnt_root = RD(vm, mnt_root);
	for (i = 0; i < DEPTH_SLOTS; i++) {
		struct dentry *parent;
		const unsigned char *name;

		r->comp[i & (DEPTH_SLOTS - 1)] = 0;
		if (d == root_d && vm == root_m)
			break;
		if (shk_fast_reads) {
			struct dentry *fd_ = FCAST(d, struct dentry);

			parent = fd_->d_parent;
			name = fd_->d_name.name;
		} else if (shk_dentry_up(d, &parent, &name)) {
			break;
		}
		if (d == mnt_root || d == parent) {
			struct mount *mp = RD(mnt, mnt_parent);

			if (d != mnt_root || mp == mnt || !mp)
				break; /* global root, or a pseudo/detached fs */
			d = RD(mnt, mnt_mountpoint);
			mnt = FCAST(mp, struct mount);
			vm = FCAST((void *)mp + mnt_off, struct vfsmount);
			mnt_root = RD(vm, mnt_root);
			continue;
		}
		r->comp[i & (DEPTH_SLOTS - 1)] = (__u64)name;
		r->s->n = i + 1;
		d = parent;
	}
	if (i == DEPTH_SLOTS)
		r->s->flags |= SHK_F_TRUNCATED;
	if (r->s->n == 0) {
		/* The root itself, or a file of a pseudo filesystem (memfd,
		 * pipe): "/" followed by its own name, if it has one. */
		const unsigned char *nm = BPF_CORE_READ(d, d_name.name);

		r->buf[r->s->pos & EV_MASK] = '/';
		r->s->pos++;
		if (d != root_d && nm) {
			long k = bpf_probe_read_kernel_str(&r->buf[r->s->pos & EV_MASK],
							   SHK_NAME_MAX, nm);
			if (k > 1 && r->buf[r->s->pos & EV_MASK] != '/')
				r->s->pos += k - 1;
		}
		rec_close_str(r, slot, start);
		return;
	}
	put_components(r, slot, start);
}

/* cgroup v2 path of a task, from the default hierarchy's root. */
static __always_inline void put_cgroup_impl(struct rec *r, int slot, struct task_struct *task)
{
	struct kernfs_node *kn = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn);
	__u32 start = r->s->pos, i;

	if (!kn || !rec_room(r, SHK_PATH_MAX))
		return;
	for (i = 0; i < SHK_CGROUP_DEPTH; i++) {
		struct kernfs_node *parent = shk_kernfs_parent(kn);

		if (!parent)
			break; /* the hierarchy's root: not named */
		r->comp[i & (DEPTH_SLOTS - 1)] = (__u64)BPF_CORE_READ(kn, name);
		kn = parent;
	}
	r->s->n = i;
	if (i == 0) {
		/* the root cgroup itself */
		r->buf[r->s->pos & EV_MASK] = '/';
		r->s->pos++;
		rec_close_str(r, slot, start);
		return;
	}
	put_components(r, slot, start);
}

/*
 * The walks are global functions: the verifier checks a global function
 * once, with unknown arguments, instead of once per call site. With a dozen
 * call sites each carrying a 64-step loop, that was most of the time it
 * took to load the sensors (sys_exit alone took 0.46 s). Everything they
 * write goes through the per-CPU scratch, which they look up themselves;
 * the record's string table offset (str_at) and slot come as scalars.
 */
static __always_inline int rec_attach(struct rec *r, __u32 str_at)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct scratch *s = bpf_map_lookup_elem(&scratch, &cpu);

	if (!s)
		return -1;
	r->buf = s->ev;
	r->comp = s->comp;
	r->s = s;
	r->str_at = str_at & 1023;
	r->task = CUR_TASK();
	return 0;
}

__noinline int shk_put_path(__u64 path, __u32 str_at, __u32 slot)
{
	struct rec r;

	if (!path || rec_attach(&r, str_at))
		return 0;
	put_path_impl(&r, slot & 7, (const struct path *)path);
	return 0;
}

__noinline int shk_put_cgroup(__u64 task, __u32 str_at, __u32 slot)
{
	struct rec r;

	if (!task || rec_attach(&r, str_at))
		return 0;
	put_cgroup_impl(&r, slot & 7, (struct task_struct *)task);
	return 0;
}

/* A global function takes scalars only, and the verifier keeps a BTF
 * pointer typed whatever C casts say: a trip through map memory, which
 * the verifier does not follow, gives the address as a plain number (a
 * store and a load: no helper call). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} ptrbox SEC(".maps");

static __always_inline __u64 as_scalar(const void *p)
{
	__u32 zero = 0;
	volatile __u64 *box = bpf_map_lookup_elem(&ptrbox, &zero);

	if (!box)
		return 0;
	*box = (__u64)p;
	return *box;
}

static __always_inline void put_path(struct rec *r, int slot, const struct path *path)
{
	shk_put_path(as_scalar(path), r->str_at, slot);
}

static __always_inline void put_cgroup_path(struct rec *r, int slot, struct task_struct *task)
{
	shk_put_cgroup(as_scalar(task), r->str_at, slot);
}

/* ---------------------------------------------------------------------- */

static __always_inline __u32 pid_nr_ns_level(struct pid *pid, __u32 *ret_ns_inum)
{
	__u64 numbers = bpf_core_field_offset(struct pid, numbers);
	__u64 usz = bpf_core_type_size(struct upid);
	struct upid u = {};
	__u32 level;

	if (!pid)
		return 0;
	level = BPF_CORE_READ(pid, level);
	if (bpf_probe_read_kernel(&u, sizeof(u), (void *)pid + numbers + (level & 31) * usz))
		return 0;
	if (ret_ns_inum)
		*ret_ns_inum = BPF_CORE_READ(u.ns, ns.inum);
	return u.nr;
}

static __always_inline __u32 task_tty_nr(struct task_struct *task)
{
	struct tty_struct *tty = task->signal->tty;
	__u32 major, minor;

	if (!tty)
		return 0;
	major = BPF_CORE_READ(tty, driver, major);
	minor = BPF_CORE_READ(tty, driver, minor_start) + BPF_CORE_READ(tty, index);
	/* new_encode_dev(), as /proc/PID/stat prints tty_nr */
	return (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12);
}

/* The session leader's pid in the initial pid namespace (the process
 * table's key). signal->pids[] is indexed by PIDTYPE_*. */
static __always_inline __u32 task_sid(struct task_struct *task)
{
	struct pid *sp = task->signal->pids[PIDTYPE_SID];

	return sp ? BPF_CORE_READ(sp, numbers[0].nr) : 0;
}

static __always_inline void fill_creds(struct shk_task *t, const struct cred *cred)
{
	t->uid = cred->uid.val;
	t->gid = cred->gid.val;
	t->euid = cred->euid.val;
	t->egid = cred->egid.val;
	t->cap_eff = shk_read_caps(&cred->cap_effective);
	t->cap_prm = shk_read_caps(&cred->cap_permitted);
	t->cap_inh = shk_read_caps(&cred->cap_inheritable);
}

static __always_inline void fill_task(struct shk_task *t, struct task_struct *task)
{
	struct task_struct *leader = task->group_leader;
	const struct cred *cred = task->cred;
	struct nsproxy *ns = task->nsproxy;

	t->ppid = task->real_parent->tgid;
	t->vtid = pid_nr_ns_level(task->thread_pid, NULL);
	t->vpid = pid_nr_ns_level(leader->thread_pid, &t->pidns);
	fill_creds(t, cred);
	if (bpf_core_field_exists(struct task_struct___audit, loginuid)) {
		t->loginuid = BPF_CORE_READ((struct task_struct___audit *)task, loginuid.val);
		t->sessionid = BPF_CORE_READ((struct task_struct___audit *)task, sessionid);
	} else {
		t->loginuid = (__u32)-1;
		t->sessionid = (__u32)-1;
	}
	t->tty = task_tty_nr(task);
	t->sid = task_sid(task);
	if (ns) {
		t->mntns = ns->mnt_ns->ns.inum;
		t->netns = ns->net_ns->ns.inum;
	}
	t->cgroup_id = task->cgroups->dfl_cgrp->kn->id;
	t->start_ns = leader->start_boottime;
	bpf_probe_read_kernel_str(t->comm, sizeof(t->comm), task->comm);
}

/*
 * fill_task() for the current task through the per-task cache. Falls back
 * to a full fill when storage is unavailable (e.g. re-entered on this CPU).
 * loginuid and sessionid are re-read every time: they change by a write
 * to /proc/self/loginuid, which moves no pointer.
 */
static __always_inline void fill_task_current(struct shk_task *t, struct task_struct *task)
{
	struct task_cache *c = bpf_task_storage_get(&task_ctx, bpf_get_current_task_btf(), 0,
						    BPF_LOCAL_STORAGE_GET_F_CREATE);
	const struct cred *cred = task->cred;
	struct nsproxy *ns = task->nsproxy;

	if (!c) {
		fill_task(t, task);
		return;
	}
	if (!c->valid) {
		fill_task(&c->t, task);
		c->cred = (__u64)cred;
		c->css = (__u64)task->cgroups;
		c->nsproxy = (__u64)ns;
		c->parent = (__u64)task->real_parent;
		c->tty = (__u64)task->signal->tty;
		c->sid = (__u64)task->signal->pids[PIDTYPE_SID];
		c->valid = 1;
	} else {
		if ((__u64)cred != c->cred) {
			fill_creds(&c->t, cred);
			c->cred = (__u64)cred;
		}
		if ((__u64)task->cgroups != c->css) {
			c->t.cgroup_id = task->cgroups->dfl_cgrp->kn->id;
			c->css = (__u64)task->cgroups;
		}
		if ((__u64)ns != c->nsproxy) {
			if (ns) {
				c->t.mntns = ns->mnt_ns->ns.inum;
				c->t.netns = ns->net_ns->ns.inum;
			}
			c->nsproxy = (__u64)ns;
		}
		if ((__u64)task->real_parent != c->parent) {
			c->t.ppid = task->real_parent->tgid;
			c->parent = (__u64)task->real_parent;
		}
		if ((__u64)task->signal->tty != c->tty) {
			c->t.tty = task_tty_nr(task);
			c->tty = (__u64)task->signal->tty;
		}
		if ((__u64)task->signal->pids[PIDTYPE_SID] != c->sid) { /* setsid() */
			c->t.sid = task_sid(task);
			c->sid = (__u64)task->signal->pids[PIDTYPE_SID];
		}
		if (bpf_core_field_exists(struct task_struct___audit, loginuid)) {
			/* direct loads: task is a BTF pointer, no helper call */
			struct task_struct___audit *a = (void *)task;

			c->t.loginuid = a->loginuid.val;
			c->t.sessionid = a->sessionid;
		}
	}
	*t = c->t;
	/* two direct loads (task is a trusted BTF pointer), no helper */
	__builtin_memcpy(t->comm, task->comm, sizeof(t->comm));
}

static __always_inline void fill_hdr(struct rec *r, __u16 type, __u32 tgid, __u32 tid)
{
	struct shk_hdr *h = (struct shk_hdr *)r->buf;

	h->type = type;
	h->abi = SHK_ABI_VERSION;
	h->ts_ns = bpf_ktime_get_boot_ns();
	h->pid = tgid;
	h->tid = tid;
	h->cpu = bpf_get_smp_processor_id();
}

/* 0, or -1 when the record was lost (counted) */
static __always_inline int rec_submit(struct rec *r)
{
	struct shk_hdr *h = (struct shk_hdr *)r->buf;
	/* 64-bit on purpose: with a u32, clang checks a zero-extended copy
	 * and passes the unchecked register to bpf_ringbuf_output() */
	__u64 size = r->s->pos;

	h->flags |= r->s->flags;
	barrier_var(size);
	if (size > SHK_EVENT_MAX) {
		COUNT(oversize);
		return -1;
	}
	h->size = size;
	__u64 wake = 0;

	/*
	 * Wake the consumer once this CPU has written shk_wakeup_bytes since
	 * its last wakeup (userspace gives each CPU its share of the ring),
	 * not on every record: a wakeup is an irq_work, a self-IPI (a VM
	 * exit under virtualisation) and a context switch. Counted in the
	 * CPU's scratch: no helper call to read the ring's positions.
	 */
	if (shk_wakeup_bytes) {
		r->s->unwoken += size + 8; /* + the ring's record header */
		if (r->urgent || r->s->unwoken >= shk_wakeup_bytes) {
			wake = BPF_RB_FORCE_WAKEUP;
			r->s->unwoken = 0;
		} else {
			wake = BPF_RB_NO_WAKEUP;
		}
	}
	if (bpf_ringbuf_output(&events, r->buf, size, wake)) {
		COUNT(drops);
		return -1;
	}
	struct shk_counters *c = counters_get();
	if (c) {
		c->emitted++;
		if (r->s->flags & SHK_F_TRUNCATED)
			c->truncated++;
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* fds */

static __always_inline struct file *fd_file(struct task_struct *task, int fd)
{
	struct fdtable *fdt = task->files->fdt;
	struct file **arr;
	struct file *f = NULL;

	if (fd < 0 || (__u32)fd >= fdt->max_fds)
		return NULL;
	arr = fdt->fd;
	if (shk_fast_reads && bpf_core_field_offset(struct kiocb, ki_filp) == 0) {
		/* arr[fd] as a direct load, without a helper call: the slot
		 * viewed as a struct kiocb, whose first member is a struct
		 * file pointer (the array itself reads as a number) */
		struct kiocb *slot = bpf_rdonly_cast((void *)((__u64)arr + (__u64)(__u32)fd * 8),
						     bpf_core_type_id_kernel(struct kiocb));

		return slot->ki_filp;
	}
	bpf_probe_read_kernel(&f, sizeof(f), &arr[fd]);
	return f;
}

/* The first eight bytes of a name as one little-endian word: names compare
 * as a single integer, with no loop for the verifier to walk. */
#define W8(a, b, c, d, e, f, g, h)                                             \
	((__u64)(a) | (__u64)(b) << 8 | (__u64)(c) << 16 | (__u64)(d) << 24 |  \
	 (__u64)(e) << 32 | (__u64)(f) << 40 | (__u64)(g) << 48 | (__u64)(h) << 56)
#define MASK_BYTES(n) ((n) >= 8 ? ~0ull : (1ull << ((n) * 8)) - 1)
#define W_MEMFD W8('m', 'e', 'm', 'f', 'd', ':', 0, 0)

static __always_inline __u64 dentry_word(struct file *f)
{
	__u64 w = 0;

	bpf_probe_read_kernel_str(&w, sizeof(w), BPF_CORE_READ(f, f_path.dentry, d_name.name));
	return w;
}

static __always_inline bool is_memfd_name(__u64 w)
{
	return (w & MASK_BYTES(6)) == W_MEMFD;
}

static __always_inline __u8 anon_type(struct file *f)
{
	__u64 w = dentry_word(f);

	/* read_str leaves a NUL after short names: "inotify" is exact */
	switch (w) {
	case W8('[', 'e', 'v', 'e', 'n', 't', 'f', 'd'):
		return SHK_FD_EVENT;
	case W8('[', 's', 'i', 'g', 'n', 'a', 'l', 'f'):
		return SHK_FD_SIGNALFD;
	case W8('[', 'e', 'v', 'e', 'n', 't', 'p', 'o'):
		return SHK_FD_EVENTPOLL;
	case W8('i', 'n', 'o', 't', 'i', 'f', 'y', 0):
		return SHK_FD_INOTIFY;
	case W8('[', 't', 'i', 'm', 'e', 'r', 'f', 'd'):
		return SHK_FD_TIMERFD;
	case W8('[', 'u', 's', 'e', 'r', 'f', 'a', 'u'):
		return SHK_FD_USERFAULTFD;
	case W8('[', 'i', 'o', '_', 'u', 'r', 'i', 'n'):
		return SHK_FD_IO_URING;
	}
	if ((w & MASK_BYTES(3)) == W8('b', 'p', 'f', 0, 0, 0, 0, 0))
		return SHK_FD_BPF; /* bpf-map, bpf-prog, bpf_link, ... */
	return SHK_FD_ANON_OTHER;
}

/* Type and identity of an open file; socket tuple for inet sockets. */
static __always_inline void fill_fd(struct shk_fd *o, struct file *file, int fd, bool tuple)
{
	struct file *f = FCAST(file, struct file);
	struct inode *ino = RD(f, f_inode);
	struct super_block *sb = RD(ino, i_sb);
	__u32 mode = RD(ino, i_mode);
	unsigned long magic = RD(sb, s_magic);

	o->fd = fd;
	o->flags = RD(f, f_flags);
	o->ino = RD(ino, i_ino);
	o->dev = RD(sb, s_dev);

	switch (mode & S_IFMT) {
	case S_IFSOCK: {
		/* private_data is a void *: cast it back to a socket */
		struct socket *sock = FCAST(RD(f, private_data), struct socket);
		struct sock *sk = RD(sock, sk);
		__u16 fam = RD(sk, __sk_common.skc_family);

		o->family = fam;
		o->sock_type = RD(sk, sk_type);
		o->protocol = RD(sk, sk_protocol);
		if (fam == AF_INET) {
			o->type = SHK_FD_IPV4;
		} else if (fam == AF_INET6) {
			o->type = SHK_FD_IPV6;
		} else if (fam == AF_UNIX) {
			o->type = SHK_FD_UNIX;
			return;
		} else {
			o->type = fam == AF_NETLINK ? SHK_FD_NETLINK : SHK_FD_SOCK_OTHER;
			return;
		}
		if (!tuple)
			return;
		o->lport = RD(sk, __sk_common.skc_num);
		o->rport = __builtin_bswap16(RD(sk, __sk_common.skc_dport));
		if (fam == AF_INET) {
			__u32 a = RD(sk, __sk_common.skc_rcv_saddr);
			__u32 b = RD(sk, __sk_common.skc_daddr);

			__builtin_memcpy(o->laddr, &a, 4);
			__builtin_memcpy(o->raddr, &b, 4);
		} else {
			BPF_CORE_READ_INTO(&o->laddr, sk, __sk_common.skc_v6_rcv_saddr);
			BPF_CORE_READ_INTO(&o->raddr, sk, __sk_common.skc_v6_daddr);
		}
		return;
	}
	case S_IFIFO:
		o->type = SHK_FD_PIPE;
		return;
	case S_IFDIR:
		o->type = SHK_FD_DIR;
		return;
	case S_IFCHR:
		o->type = SHK_FD_CHAR;
		return;
	case S_IFBLK:
		o->type = SHK_FD_BLOCK;
		return;
	}
	if (magic == ANON_INODE_FS_MAGIC) {
		o->type = anon_type(f);
	} else if (magic == PIPEFS_MAGIC) {
		o->type = SHK_FD_PIPE;
	} else if (magic == TMPFS_MAGIC || magic == HUGETLBFS_MAGIC) {
		o->type = is_memfd_name(dentry_word(f)) ? SHK_FD_MEMFD : SHK_FD_FILE;
	} else {
		o->type = SHK_FD_FILE;
	}
}

static __noinline __u8 fd_type_of(struct task_struct *task, int fd)
{
	struct shk_fd o = {};
	struct file *f = fd_file(task, fd);

	if (!f)
		return SHK_FD_NONE;
	fill_fd(&o, f, fd, false);
	return o.type;
}

/* Unix socket path: the bound name, else the peer's. */
static __always_inline void put_unix_path(struct rec *r, int slot, struct file *f)
{
	struct socket *sock = BPF_CORE_READ(f, private_data);
	struct unix_sock *us = (struct unix_sock *)BPF_CORE_READ(sock, sk);
	struct unix_address *a = BPF_CORE_READ(us, addr);

	if (!a) {
		struct unix_sock *peer = (struct unix_sock *)BPF_CORE_READ(us, peer);

		if (peer)
			a = BPF_CORE_READ(peer, addr);
	}
	if (!a)
		return;
	/* name[0].sun_path; abstract names start with a NUL and read as "" */
	put_str(r, slot, (void *)a + bpf_core_field_offset(struct unix_address, name) +
				 bpf_core_field_offset(struct sockaddr_un, sun_path),
		108, false);
}

/* Record fd slot `which` from the current task's fd table. */
static __always_inline struct file *rec_fd(struct rec *r, struct shk_fd *o, int fd, bool tuple)
{
	struct file *f = fd_file(r->task, fd);

	o->fd = fd;
	if (f)
		fill_fd(o, f, fd, tuple);
	return f;
}

/* When the socket tuple is empty (a failed connect resets it, unconnected
 * UDP has none), take the remote end from the user's sockaddr. */
static __always_inline void sockaddr_remote(struct shk_fd *o, const void *uaddr)
{
	struct sockaddr_in6 sa = {};

	if (!uaddr || bpf_probe_read_user(&sa, sizeof(sa), uaddr))
		return;
	if (sa.sin6_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&sa;

		__builtin_memcpy(o->raddr, &in->sin_addr, 4);
		o->rport = __builtin_bswap16(in->sin_port);
	} else if (sa.sin6_family == AF_INET6) {
		__builtin_memcpy(o->raddr, &sa.sin6_addr, 16);
		o->rport = __builtin_bswap16(sa.sin6_port);
	}
}

static __always_inline bool tuple_empty(const struct shk_fd *o)
{
	return o->rport == 0;
}

/* Base directory for a relative path argument: dirfd's path or the cwd. */
static __always_inline void put_base(struct rec *r, int slot, int dirfd, __u32 raw_slot)
{
	struct shk_str *raw = rec_slot(r, raw_slot);
	struct file *f;

	if (!raw->len || r->buf[raw->off & EV_MASK] == '/')
		return; /* absent or absolute: no base needed */
	if (dirfd == AT_FDCWD) {
		struct path *pwd = &r->task->fs->pwd;

		put_path(r, slot, pwd);
		return;
	}
	f = fd_file(r->task, dirfd);
	if (f)
		put_path(r, slot, &f->f_path);
}

/* A path argument, plus its base when relative. */
static __always_inline void put_patharg(struct rec *r, int raw_slot, int base_slot, int dirfd, const void *up)
{
	put_str(r, raw_slot, up, SHK_PATH_MAX, true);
	put_base(r, base_slot, dirfd, raw_slot);
}

/* ---------------------------------------------------------------------- */
/* process lifecycle */

static __always_inline __u32 exe_flags(struct file *f, const struct cred *cred)
{
	struct inode *ino = BPF_CORE_READ(f, f_inode);
	unsigned long magic = BPF_CORE_READ(ino, i_sb, s_magic);
	__u32 mode = BPF_CORE_READ(ino, i_mode);
	__u32 euid = BPF_CORE_READ(cred, euid.val), egid = BPF_CORE_READ(cred, egid.val);
	__u32 flags = 0;

	if ((magic == TMPFS_MAGIC || magic == HUGETLBFS_MAGIC) && is_memfd_name(dentry_word(f)))
		flags |= SHK_EXE_MEMFD;
	if (magic == OVERLAYFS_SUPER_MAGIC && bpf_core_type_exists(struct ovl_inode___shk)) {
		struct ovl_inode___shk *oi = (void *)ino - bpf_core_field_offset(struct ovl_inode___shk, vfs_inode);

		if (BPF_CORE_READ(oi, __upperdentry))
			flags |= SHK_EXE_UPPER_LAYER;
		else
			flags |= SHK_EXE_LOWER_LAYER;
	}
	if (euid == 0 || (mode & 02) ||
	    (BPF_CORE_READ(ino, i_uid.val) == euid && (mode & 0200)) ||
	    (BPF_CORE_READ(ino, i_gid.val) == egid && (mode & 020)))
		flags |= SHK_EXE_WRITABLE;
	return flags;
}

struct inode___ts_split { /* v6.11+: i_mtime_sec / i_mtime_nsec */
	time64_t i_mtime_sec;
	time64_t i_ctime_sec;
	u32 i_mtime_nsec;
	u32 i_ctime_nsec;
} __attribute__((preserve_access_index));

struct inode___ts_priv { /* v6.6-v6.10: __i_ctime (and __i_mtime from v6.7) */
	struct timespec64 __i_ctime;
	struct timespec64 __i_mtime;
	struct timespec64 i_mtime;
} __attribute__((preserve_access_index));

struct inode___ts_old { /* before v6.6: i_ctime, i_mtime */
	struct timespec64 i_ctime;
	struct timespec64 i_mtime;
} __attribute__((preserve_access_index));

#define TS_NS(ts) ((__u64)(ts).tv_sec * 1000000000ull + (ts).tv_nsec)

/* Inode timestamps moved three times; see the flavours above. */
static __always_inline void inode_times(struct inode *ino, __u64 *ctime, __u64 *mtime)
{
	if (bpf_core_field_exists(struct inode___ts_split, i_ctime_sec)) {
		struct inode___ts_split *i = (void *)ino;

		*ctime = BPF_CORE_READ(i, i_ctime_sec) * 1000000000ull + BPF_CORE_READ(i, i_ctime_nsec);
		*mtime = BPF_CORE_READ(i, i_mtime_sec) * 1000000000ull + BPF_CORE_READ(i, i_mtime_nsec);
	} else if (bpf_core_field_exists(struct inode___ts_priv, __i_ctime)) {
		struct inode___ts_priv *i = (void *)ino;
		struct timespec64 c = BPF_CORE_READ(i, __i_ctime), m;

		if (bpf_core_field_exists(struct inode___ts_priv, __i_mtime))
			m = BPF_CORE_READ(i, __i_mtime);
		else
			m = BPF_CORE_READ(i, i_mtime);
		*ctime = TS_NS(c);
		*mtime = TS_NS(m);
	} else {
		struct inode___ts_old *i = (void *)ino;
		struct timespec64 c = BPF_CORE_READ(i, i_ctime), m = BPF_CORE_READ(i, i_mtime);

		*ctime = TS_NS(c);
		*mtime = TS_NS(m);
	}
}

/* ---------------------------------------------------------------------- */
/* kernel policy, signal backend (kpolicy.bpf.h) */

#define SIGKILL 9
#define SIGSTOP 19
#define SIGCONT 18
#define FMODE_READ 0x1
#define FMODE_WRITE 0x2

/* A match was found: report it in the record being built (rec_attach). */
static __always_inline void kp_verdict(struct rec *r, __u32 kv_off, __u8 backend)
{
	struct kp_facts *f = kp_facts_get();
	struct shk_kverdict *kv = (struct shk_kverdict *)&r->buf[kv_off & 1023];

	if (!f)
		return;
	kv->rule = f->v_rule;
	kv->gen = f->v_gen;
	if (f->v_confirm) /* a copy by content, maybe: userspace decides */
		kv->action = f->v_enforce ? SHK_KV_HELD : SHK_KV_WOULD_HOLD;
	else
		kv->action = f->v_enforce ? SHK_KV_KILLED : SHK_KV_WOULD;
	kv->backend = backend;
	r->s->flags |= SHK_F_VERDICT;
	COUNT(kp_verdicts);
}

/* The address of a string the record holds, or 0. */
static __always_inline __u64 rec_str_addr(struct rec *r, int slot)
{
	struct shk_str *s = rec_slot(r, slot);

	return s->len ? as_scalar(&r->buf[s->off & EV_MASK]) : 0;
}

/* exec: the new image is in place but has not run an instruction; a
 * SIGKILL now kills it before it does. */
/* The name at exec, for the kernel policy (kp_comm); only kept while some
 * policy is loaded. */
static __always_inline void kp_remember_name(struct task_struct *task)
{
	__u32 zero = 0, *slot = bpf_map_lookup_elem(&kp_active, &zero), s, tgid;
	struct shk_kp_conf *conf;
	char comm[SHK_COMM_LEN] = {};

	if (!slot)
		return;
	s = *slot & 1;
	conf = bpf_map_lookup_elem(&kp_conf, &s);
	if (!conf || !conf->gen)
		return;
	tgid = BPF_CORE_READ(task, tgid);
	bpf_probe_read_kernel_str(comm, sizeof(comm), __builtin_preserve_access_index(&task->comm));
	bpf_map_update_elem(&kp_comm, &tgid, comm, BPF_ANY);
}

/* The image's identity by content (shk_exe_head_id), from the first bytes
 * the kernel read of it; 0 when it cannot be read. */
static __always_inline __u64 kp_exe_head(struct rec *r, struct linux_binprm *bprm)
{
	struct file *file = BPF_CORE_READ(bprm, file);
	__u64 size;

	if (!file || bpf_probe_read_kernel(r->comp, SHK_EXE_HEAD_BYTES,
					   __builtin_preserve_access_index(&bprm->buf)))
		return 0;
	size = BPF_CORE_READ(file, f_inode, i_size);
	return shk_exe_head_id(r->comp, size);
}

__noinline int shk_kp_exec(__u64 task, __u32 exe_flags, __u32 std, __u64 bprm)
{
	struct kp_facts *f = kp_facts_get();
	__u64 fields;
	struct rec r;

	if (!f || !task || rec_attach(&r, __builtin_offsetof(struct shk_exec, str)))
		return 0;
	kp_remember_name((struct task_struct *)task);
	fields = kp_fields(f, SHK_KP_EXEC);
	if (!fields)
		return 0;
	/* the lsm backend decided at bprm_check_security, except for the
	 * argument patterns, which only the new image's memory holds, and
	 * copies by content, which userspace must confirm: their clauses are
	 * checked here, the others could not match at bprm_check_security
	 * without failing the exec */
	if (shk_kp_lsm && !(fields & (KP_ARG_FIELDS | (1ull << SHK_KF_EXE_HEAD))))
		return 0;
	if (fields & (1ull << SHK_KF_EXE_HEAD))
		kp_put_num(f, SHK_KF_EXE_HEAD,
			   bprm ? kp_exe_head(&r, (struct linux_binprm *)bprm) : 0);
	if (fields & KP_ARG_FIELDS)
		shk_kp_args(rec_str_addr(&r, SHK_EXEC_ARGS), rec_slot(&r, SHK_EXEC_ARGS)->len);
	kp_put_proc(f, fields, (struct task_struct *)task);
	{
		struct shk_exec *e = (struct shk_exec *)r.buf;

		kp_put_num(f, SHK_KF_EXE_INO, e->exe_ino);
		kp_put_num(f, SHK_KF_EXE_DEV, e->exe_dev);
	}
	if (fields & (1ull << SHK_KF_EXEPATH))
		kp_put_str(f, SHK_KF_EXEPATH, (const void *)rec_str_addr(&r, SHK_EXEC_EXE));
	kp_put_num(f, SHK_KF_STDIN_TYPE, std & 0xff);
	kp_put_num(f, SHK_KF_STDOUT_TYPE, (std >> 8) & 0xff);
	kp_put_num(f, SHK_KF_STDERR_TYPE, (std >> 16) & 0xff);
	kp_put_num(f, SHK_KF_EXE_MEMFD, !!(exe_flags & SHK_EXE_MEMFD));
	kp_put_num(f, SHK_KF_EXE_UPPER, !!(exe_flags & SHK_EXE_UPPER_LAYER));
	if (!shk_kp_eval(SHK_KP_EXEC, fields))
		return 0;
	/* a copy by content, maybe, is stopped before its first instruction
	 * while userspace compares the whole image */
	if (f->v_enforce)
		bpf_send_signal(f->v_confirm ? SIGSTOP : SIGKILL);
	kp_verdict(&r, __builtin_offsetof(struct shk_exec, kv), SHK_KB_SIGNAL);
	return 1;
}

/*
 * The open facts of a file whose resolved path is in the record being
 * built (rec_attach, SHK_SYS_PATH), evaluated: 1 on a match, with the
 * verdict in kp_facts. Shared by the signal backend (at open's exit) and
 * the lsm backend (file_open).
 */
__noinline int shk_kp_open_match(__u64 task, __u64 file)
{
	struct kp_facts *f = kp_facts_get();
	struct file *fp = (struct file *)file;
	__u32 leaf, dir, path_len;
	__u64 fields, path;
	struct rec r;

	if (!f || !task || !file || rec_attach(&r, __builtin_offsetof(struct shk_syscall, str)))
		return 0;
	fields = kp_fields(f, SHK_KP_OPEN);
	if (!fields)
		return 0;
	path = rec_str_addr(&r, SHK_SYS_PATH);
	path_len = rec_slot(&r, SHK_SYS_PATH)->len;
	kp_put_proc(f, fields, (struct task_struct *)task);
	if (fields & ((1ull << SHK_KF_FD_NAME) | (1ull << SHK_KF_FD_DIR)))
		kp_put_str(f, SHK_KF_FD_NAME, (const void *)path);
	if (fields & ((1ull << SHK_KF_FD_FILENAME) | (1ull << SHK_KF_FD_DIR))) {
		leaf = BPF_CORE_READ(fp, f_path.dentry, d_name.len);
		kp_put_str(f, SHK_KF_FD_FILENAME, BPF_CORE_READ(fp, f_path.dentry, d_name.name));
		/* the directory: the path up to its last '/', or "/" */
		kp_put_str(f, SHK_KF_FD_DIR, (const void *)path);
		dir = path_len > leaf + 1 ? path_len - leaf - 1 : 1;
		if (dir < SHK_KP_STR_MAX)
			f->s[SHK_KF_FD_DIR].s[dir & 255] = '\0';
	}
	{
		__u32 mode = BPF_CORE_READ(fp, f_mode);

		kp_put_num(f, SHK_KF_OPEN_READ, !!(mode & FMODE_READ));
		kp_put_num(f, SHK_KF_OPEN_WRITE, !!(mode & FMODE_WRITE));
	}
	return shk_kp_eval(SHK_KP_OPEN, fields);
}

static __always_inline void kp_open_note(bool ok)
{
	struct kp_facts *f = kp_facts_get();

	if (f)
		f->open_ok = ok;
}

static __always_inline bool kp_open_noted(void)
{
	struct kp_facts *f = kp_facts_get();

	return f && f->open_ok;
}

/*
 * Whether the task's own numbers (euid, container) rule out every open
 * clause, whatever the file: then an open costs this. The answer depends
 * on those two values and the policy alone, so it is remembered per CPU
 * by value (never by a cred or nsproxy pointer, which the slab may hand
 * to another task with another uid).
 */
struct kp_none_ent {
	__u64 key;  /* policy slot and generation, 0: empty */
	__u32 euid;
	__u32 cont; /* 0 host, 1 container */
	__u64 none;
};

#define KP_NONE_SLOTS 64

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KP_NONE_SLOTS);
	__type(key, __u32);
	__type(value, struct kp_none_ent);
} kp_none SEC(".maps");

static __always_inline int kp_open_task_none(struct kp_facts *f, __u64 fields, struct task_struct *task)
{
	const __u64 proc_num = (1ull << SHK_KF_UID) | (1ull << SHK_KF_CONTAINER);
	struct shk_kp_conf *conf;
	struct kp_none_ent *c;
	struct nsproxy *ns;
	__u32 slot = f->slot & 1, i, euid, cont, mnt = 0;
	__u64 key;
	int none;

	if (!(fields & proc_num))
		return 0;
	conf = bpf_map_lookup_elem(&kp_conf, &slot);
	if (!conf)
		return 0;
	key = (__u64)slot << 32 | conf->gen | 1ull << 33;
	euid = task->cred->euid.val;
	ns = task->nsproxy;
	if (ns)
		mnt = ns->mnt_ns->ns.inum;
	cont = mnt != conf->host_mntns; /* as kp_put_proc() */
	i = (euid ^ euid >> 6 ^ cont << 5) & (KP_NONE_SLOTS - 1);
	c = bpf_map_lookup_elem(&kp_none, &i);
	if (!c)
		return 0;
	if (c->key == key && c->euid == euid && c->cont == cont)
		return c->none;
	kp_put_num(f, SHK_KF_UID, euid);
	kp_put_num(f, SHK_KF_CONTAINER, cont);
	none = !(shk_kp_eval_start(SHK_KP_OPEN) &&
		 shk_kp_eval_fields(SHK_KP_OPEN, fields & proc_num));
	c->key = key;
	c->euid = euid;
	c->cont = cont;
	c->none = none;
	return none;
}

/* The cheap half of the open check, before any path is walked: the
 * numbers (uid, container, open mode). 0: no open clause can match, and
 * the path need not be resolved for the policy. */
__noinline int shk_kp_open_pre(__u32 fd)
{
	struct kp_facts *f = kp_facts_get();
	struct task_struct *task;
	struct file *file;
	__u64 fields;
	__u32 mode;

	if (shk_kp_lsm || !f)
		return 0;
	fields = kp_fields(f, SHK_KP_OPEN);
	if (!fields)
		return 0;
	task = CUR_TASK();
	if (kp_open_task_none(f, fields, task))
		return 0;
	file = fd_file(task, (int)fd);
	if (!file)
		return 0;
	kp_put_proc(f, fields & ~KP_STR_FIELDS, task);
	mode = RD(FCAST(file, struct file), f_mode);
	kp_put_num(f, SHK_KF_OPEN_READ, !!(mode & FMODE_READ));
	kp_put_num(f, SHK_KF_OPEN_WRITE, !!(mode & FMODE_WRITE));
	return shk_kp_eval_start(SHK_KP_OPEN) &&
	       shk_kp_eval_fields(SHK_KP_OPEN, fields & ~KP_STR_FIELDS);
}

/* open, at exit on success: the path is the kernel's, resolved from the
 * new file (symlinks, "..", relative and dirfd paths are all resolved);
 * the task is killed before the call returns to it, so it never reads a
 * byte. (The lsm backend refuses the open itself.) */
__noinline int shk_kp_open(__u64 task, __u64 file)
{
	struct kp_facts *f;
	struct rec r;

	if (shk_kp_lsm || !shk_kp_open_match(task, file))
		return 0;
	f = kp_facts_get();
	if (!f || rec_attach(&r, __builtin_offsetof(struct shk_syscall, str)))
		return 0;
	if (f->v_enforce)
		bpf_send_signal(SIGKILL);
	kp_verdict(&r, __builtin_offsetof(struct shk_syscall, kv), SHK_KB_SIGNAL);
	return 1;
}

/* A verdict left by an earlier program for this call (entry check, cgroup
 * or lsm hook), moved into the record being built, at kv_off: the exit
 * record of the call, or the exec record of an exec the lsm backend let
 * through in audit mode. */
__noinline int shk_kp_unstash(__u32 tid, __u32 kv_off)
{
	struct shk_kverdict *v = bpf_map_lookup_elem(&kp_stash, &tid);
	struct rec r;

	if (!v || rec_attach(&r, 0))
		return 0;
	/* a kill decided where no signal can be sent (a socket program):
	 * now, before the call returns (a second SIGKILL is harmless) */
	if (v->action == SHK_KV_KILLED)
		bpf_send_signal(SIGKILL);
	*(struct shk_kverdict *)&r.buf[kv_off & 1023] = *v;
	r.s->flags |= SHK_F_VERDICT;
	bpf_map_delete_elem(&kp_stash, &tid);
	return 1;
}

/* ptrace, module load, bpf(), mount, setuid family, links: at entry. The
 * verdict waits in kp_stash for the call's exit record. */
__noinline int shk_kp_entry(__u64 task, __u32 cls, __u32 tid)
{
	struct kp_facts *f = kp_facts_get();
	struct shk_kverdict v = {};
	__u64 fields;

	if (shk_kp_lsm || !f || !task)
		return 0;
	fields = kp_fields(f, cls);
	if (!fields)
		return 0;
	kp_put_proc(f, fields, (struct task_struct *)task);
	if (!shk_kp_eval(cls, fields))
		return 0;
	if (f->v_enforce)
		bpf_send_signal(SIGKILL);
	v.rule = f->v_rule;
	v.gen = f->v_gen;
	v.action = f->v_enforce ? SHK_KV_KILLED : SHK_KV_WOULD;
	v.backend = SHK_KB_SIGNAL;
	if (bpf_map_update_elem(&kp_stash, &tid, &v, BPF_ANY))
		COUNT(kp_missed);
	return 1;
}

/*
 * The exec, sys_enter and sys_exit programs come in two variants: with the
 * kernel policy (shrike run) and plain (shrike trace, which enforces
 * nothing). The plain ones leave out the policy's code, which would
 * otherwise triple the exit program's verification time; userspace loads
 * one variant of each (shk_sensor_opts.kp).
 */
static __always_inline int exec_impl(struct task_struct *ttask, pid_t old_pid,
				     struct linux_binprm *tbprm, const bool kp)
{
	/* read through untrusted aliases: see CUR_TASK() */
	struct task_struct *task = FCAST(ttask, struct task_struct);
	struct linux_binprm *bprm = FCAST(tbprm, struct linux_binprm);
	struct shk_exec *e;
	struct file *f;
	struct mm_struct *mm;
	struct rec r;
	__u32 tgid = task->tgid;

	if (tgid == shk_self_pid)
		return 0;
	if (rec_begin(&r, sizeof(*e), __builtin_offsetof(struct shk_exec, str)))
		return 0;
	r.urgent = shk_urgent_proc;
	e = (struct shk_exec *)r.buf;
	fill_hdr(&r, SHK_EV_EXEC, tgid, task->pid);
	fill_task(&e->task, task);
	e->old_tid = old_pid;
	e->argc = bprm->argc;

	f = bprm->file;
	if (f) {
		struct inode *ino = f->f_inode;

		e->exe_ino = ino->i_ino;
		e->exe_dev = ino->i_sb->s_dev;
		e->exe_mode = ino->i_mode;
		inode_times(ino, &e->exe_ctime_ns, &e->exe_mtime_ns);
		e->exe_flags = exe_flags(f, task->cred);
		put_path(&r, SHK_EXEC_EXE, &f->f_path);
	}
	put_str(&r, SHK_EXEC_FILENAME, bprm->filename, SHK_PATH_MAX, false);
	if (bprm->interp != bprm->filename)
		put_str(&r, SHK_EXEC_INTERP, bprm->interp, SHK_PATH_MAX, false);

	mm = task->mm;
	if (mm) {
		unsigned long a0 = mm->arg_start, a1 = mm->arg_end;
		unsigned long e0 = mm->env_start, e1 = mm->env_end;

		if (a1 > a0)
			put_bytes_user(&r, SHK_EXEC_ARGS, (void *)a0, a1 - a0, SHK_ARGS_MAX);
		if (e1 > e0)
			put_bytes_user(&r, SHK_EXEC_ENV, (void *)e0, e1 - e0, SHK_ENV_MAX);
	}
	put_path(&r, SHK_EXEC_CWD, &task->fs->pwd);
	put_cgroup_path(&r, SHK_EXEC_CGROUP, task);
	for (int i = 0; i < 3; i++)
		e->std_type[i] = fd_type_of(task, i);
	if (kp && shk_kp_exec(as_scalar(task), e->exe_flags,
			      e->std_type[0] | e->std_type[1] << 8 | e->std_type[2] << 16,
			      as_scalar(tbprm)))
		r.urgent = true;
	/* an exec the lsm hook let through in audit mode: its "would" waits
	 * under the tid that called execve */
	if (kp && shk_kp_lsm && shk_kp_unstash(old_pid, __builtin_offsetof(struct shk_exec, kv)))
		r.urgent = true;
	if (rec_submit(&r) && kp && e->kv.action == SHK_KV_HELD) {
		/* nobody will hear of the stopped process: let it go (SIGCONT
		 * discards the pending SIGSTOP), counted as a missed verdict */
		bpf_send_signal(SIGCONT);
		COUNT(kp_missed);
	}
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(shk_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	return exec_impl(task, old_pid, bprm, true);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(shk_exec_plain, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	return exec_impl(task, old_pid, bprm, false);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(shk_fork, struct task_struct *tparent, struct task_struct *tchild)
{
	struct task_struct *parent = FCAST(tparent, struct task_struct);
	struct task_struct *child = FCAST(tchild, struct task_struct);
	struct shk_fork *e;
	struct rec r;

	/* Threads share the process's state: only new processes matter. */
	if (child->pid != child->tgid || parent->tgid == shk_self_pid)
		return 0;
	if (rec_begin(&r, sizeof(*e), 0))
		return 0;
	r.urgent = shk_urgent_proc;
	e = (struct shk_fork *)r.buf;
	fill_hdr(&r, SHK_EV_FORK, child->tgid, child->pid);
	fill_task(&e->task, child);
	e->parent_pid = parent->tgid;
	e->parent_tid = parent->pid;
	rec_submit(&r);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(shk_exit, struct task_struct *ttask)
{
	struct task_struct *task = FCAST(ttask, struct task_struct);
	struct shk_exit *e;
	struct rec r;

	/* do_exit() decrements signal->live before this tracepoint: zero means
	 * the last thread of the group is leaving. (The group_dead argument
	 * only exists on newer kernels.) */
	if (task->signal->live.counter != 0 || task->tgid == shk_self_pid)
		return 0;
	if (rec_begin(&r, sizeof(*e), 0))
		return 0;
	e = (struct shk_exit *)r.buf;
	fill_hdr(&r, SHK_EV_EXIT, task->tgid, task->pid);
	e->exit_code = task->exit_code;
	{
		__u32 tgid = task->tgid;

		bpf_map_delete_elem(&kp_comm, &tgid);
	}
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), task->comm);
	rec_submit(&r);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* syscalls */

static __always_inline struct shk_interest *interest_of(long nr)
{
	__u32 key = nr;

	if (nr < 0 || nr >= SHK_SYSCALL_MAX)
		return NULL;
	return bpf_map_lookup_elem(&interest, &key);
}

static __always_inline bool is_compat(struct task_struct *task)
{
	return task->thread_info.status & TS_COMPAT;
}

static __always_inline int sys_enter_impl(struct pt_regs *regs, long id, const bool kp)
{
	struct shk_interest *in = interest_of(id);
	struct task_struct *task;
	struct shk_task t = {};
	__u32 tid;

	if (!in || !(in->flags & (SHK_INTEREST_ENTER | SHK_INTEREST_KP_ENTER)))
		return 0;
	task = CUR_TASK();
	if (task->tgid == shk_self_pid || is_compat(task))
		return 0;
	tid = task->pid;
	if (kp && in->flags & SHK_INTEREST_KP_ENTER && shk_kp_entry(as_scalar(task), in->kp_class, tid))
		COUNT(kp_verdicts);
	if (!(in->flags & SHK_INTEREST_ENTER))
		return 0;
	fill_task(&t, task);
	bpf_map_update_elem(&enter_ctx, &tid, &t, BPF_ANY);
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(shk_sys_enter, struct pt_regs *regs, long id)
{
	return sys_enter_impl(regs, id, true);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(shk_sys_enter_plain, struct pt_regs *regs, long id)
{
	return sys_enter_impl(regs, id, false);
}

/*
 * The same, from one syscall's own tracepoint (syscalls:sys_enter_NAME).
 * Userspace attaches it to each syscall that needs entry work, so the
 * others never run a program at entry (detect/sensor.c, enter_sync). Only
 * the number is read: every such event has it, whatever its arguments.
 */
SEC("tracepoint")
int shk_sys_enter_tp(struct syscall_trace_enter *ctx)
{
	return sys_enter_impl(NULL, ctx->nr, true);
}

SEC("tracepoint")
int shk_sys_enter_tp_plain(struct syscall_trace_enter *ctx)
{
	return sys_enter_impl(NULL, ctx->nr, false);
}

static __always_inline void sys_args(struct pt_regs *regs, __u64 *a)
{
	a[0] = regs->di;
	a[1] = regs->si;
	a[2] = regs->dx;
	a[3] = regs->r10;
	a[4] = regs->r8;
	a[5] = regs->r9;
}

/* Per-kind argument capture. Each case states which slots it fills; the
 * decoder (detect/decode.c) reads them back by the same kind. Returns false
 * when the record must not be emitted. */
static __always_inline bool sys_capture(struct rec *r, struct shk_syscall *e, __u32 kind)
{
	__u64 *a = e->args;
	long ret = e->ret;
	struct shk_fd *fa = &e->fd[SHK_FD_ARG], *fr = &e->fd[SHK_FD_RES];
	struct file *f;

	switch (kind) {
	case SHK_K_OPEN:
	case SHK_K_CREAT:
		put_str(r, SHK_SYS_RAW, (void *)a[0], SHK_PATH_MAX, true);
		goto open_result_cwd;
	case SHK_K_OPENAT2: {
		/* args[2..3] become how->flags and how->mode: the pointer
		 * itself means nothing to userspace. */
		struct open_how how = {};

		bpf_probe_read_user(&how, sizeof(how), (void *)a[2]);
		a[2] = how.flags;
		a[3] = how.mode;
	}
		/* fallthrough */
	case SHK_K_OPENAT:
		put_str(r, SHK_SYS_RAW, (void *)a[1], SHK_PATH_MAX, true);
		if (ret >= 0)
			goto open_result;
		put_base(r, SHK_SYS_BASE, (int)a[0], SHK_SYS_RAW);
		return true;
	open_result_cwd:
		if (ret < 0) {
			put_base(r, SHK_SYS_BASE, AT_FDCWD, SHK_SYS_RAW);
			return true;
		}
	open_result:
		f = rec_fd(r, fr, (int)ret, false);
		if (f)
			put_path(r, SHK_SYS_PATH, &f->f_path);
		return true;
	case SHK_K_EXECVE:
		if (ret == 0)
			return false; /* success is reported by SHK_EV_EXEC */
		put_patharg(r, SHK_SYS_RAW, SHK_SYS_BASE, AT_FDCWD, (void *)a[0]);
		return true;
	case SHK_K_EXECVEAT:
		if (ret == 0)
			return false;
		put_patharg(r, SHK_SYS_RAW, SHK_SYS_BASE, (int)a[0], (void *)a[1]);
		return true;
	case SHK_K_SOCKADDR:
		f = rec_fd(r, fa, (int)a[0], true);
		if (fa->type == SHK_FD_UNIX) {
			put_unix_path(r, SHK_SYS_EXTRA, f);
			if (!rec_slot(r, SHK_SYS_EXTRA)->len)
				put_str(r, SHK_SYS_EXTRA, (void *)a[1] + 2, 108, true);
		} else if (tuple_empty(fa)) {
			sockaddr_remote(fa, (void *)a[1]);
		}
		return true;
	case SHK_K_SENDTO:
		f = rec_fd(r, fa, (int)a[0], true);
		if (fa->type == SHK_FD_UNIX)
			put_unix_path(r, SHK_SYS_EXTRA, f);
		else if (tuple_empty(fa))
			sockaddr_remote(fa, (void *)a[4]);
		return true;
	case SHK_K_ACCEPT:
		rec_fd(r, fa, (int)a[0], true);
		if (ret >= 0) {
			f = rec_fd(r, fr, (int)ret, true);
			if (f && fr->type == SHK_FD_UNIX)
				put_unix_path(r, SHK_SYS_EXTRA, f);
		}
		return true;
	case SHK_K_SOCKET:
		if (ret >= 0)
			rec_fd(r, fr, (int)ret, true);
		return true;
	case SHK_K_FD:
		f = rec_fd(r, fa, (int)a[0], true);
		if (!f)
			return true;
		if (fa->type == SHK_FD_UNIX)
			put_unix_path(r, SHK_SYS_EXTRA, f);
		else if (fa->type == SHK_FD_FILE || fa->type == SHK_FD_DIR ||
			 fa->type == SHK_FD_MEMFD || fa->type == SHK_FD_CHAR ||
			 fa->type == SHK_FD_BLOCK)
			put_path(r, SHK_SYS_PATH, &f->f_path);
		return true;
	case SHK_K_DUP:
		f = rec_fd(r, fa, (int)a[0], true);
		if (ret >= 0)
			rec_fd(r, fr, (int)ret, true);
		if (f && fa->type == SHK_FD_UNIX)
			put_unix_path(r, SHK_SYS_EXTRA, f);
		else if (f && (fa->type == SHK_FD_FILE || fa->type == SHK_FD_DIR))
			put_path(r, SHK_SYS_PATH, &f->f_path);
		return true;
	case SHK_K_PATH:
		put_patharg(r, SHK_SYS_RAW, SHK_SYS_BASE, AT_FDCWD, (void *)a[0]);
		return true;
	case SHK_K_PATHAT:
		put_patharg(r, SHK_SYS_RAW, SHK_SYS_BASE, (int)a[0], (void *)a[1]);
		return true;
	case SHK_K_CHDIR:
		put_str(r, SHK_SYS_RAW, (void *)a[0], SHK_PATH_MAX, true);
		if (ret == 0)
			put_path(r, SHK_SYS_PATH, &r->task->fs->pwd);
		else
			put_base(r, SHK_SYS_BASE, AT_FDCWD, SHK_SYS_RAW);
		return true;
	case SHK_K_SYMLINK:
		/* the target is stored verbatim, never resolved */
		put_str(r, SHK_SYS_RAW, (void *)a[0], SHK_PATH_MAX, true);
		put_patharg(r, SHK_SYS_RAW2, SHK_SYS_BASE2, AT_FDCWD, (void *)a[1]);
		return true;
	case SHK_K_SYMLINKAT:
		put_str(r, SHK_SYS_RAW, (void *)a[0], SHK_PATH_MAX, true);
		put_patharg(r, SHK_SYS_RAW2, SHK_SYS_BASE2, (int)a[1], (void *)a[2]);
		return true;
	case SHK_K_PATH2:
		put_patharg(r, SHK_SYS_RAW, SHK_SYS_BASE, AT_FDCWD, (void *)a[0]);
		put_patharg(r, SHK_SYS_RAW2, SHK_SYS_BASE2, AT_FDCWD, (void *)a[1]);
		return true;
	case SHK_K_PATH2AT:
		put_patharg(r, SHK_SYS_RAW, SHK_SYS_BASE, (int)a[0], (void *)a[1]);
		put_patharg(r, SHK_SYS_RAW2, SHK_SYS_BASE2, (int)a[2], (void *)a[3]);
		return true;
	case SHK_K_FINIT_MODULE:
		f = rec_fd(r, fa, (int)a[0], false);
		if (f)
			put_path(r, SHK_SYS_PATH, &f->f_path);
		put_str(r, SHK_SYS_EXTRA, (void *)a[1], SHK_NAME_MAX, true);
		return true;
	case SHK_K_INIT_MODULE:
		put_str(r, SHK_SYS_EXTRA, (void *)a[2], SHK_NAME_MAX, true);
		return true;
	case SHK_K_MEMFD:
		put_str(r, SHK_SYS_EXTRA, (void *)a[0], SHK_NAME_MAX, true);
		if (ret >= 0)
			rec_fd(r, fr, (int)ret, false);
		return true;
	case SHK_K_MOUNT:
		put_str(r, SHK_SYS_RAW, (void *)a[0], SHK_PATH_MAX, true);
		put_patharg(r, SHK_SYS_RAW2, SHK_SYS_BASE2, AT_FDCWD, (void *)a[1]);
		put_str(r, SHK_SYS_EXTRA, (void *)a[2], SHK_NAME_MAX, true);
		return true;
	case SHK_K_PRCTL:
		if (a[0] == PR_SET_NAME)
			put_str(r, SHK_SYS_EXTRA, (void *)a[1], SHK_COMM_LEN, true);
		return true;
	}
	return true;
}

/*
 * An open only the kernel policy wants (no rule asked for its records) and
 * whose cheap check passed: its path is resolved and decided on first
 * (shk_kp_open_path(), then shk_kp_open()); the rest of the record (task
 * context, arguments, the raw path from user memory) is built only for a
 * verdict, which is rare (shk_kp_open_report()). Two global functions
 * called one after the other, not nested: the 6.1 verifier bounds the
 * stack of a call chain to 512 bytes.
 */
__noinline int shk_kp_open_path(__u64 ret)
{
	struct shk_syscall *e;
	struct file *f;
	struct rec r;

	if (rec_begin(&r, sizeof(*e), __builtin_offsetof(struct shk_syscall, str)))
		return 0;
	e = (struct shk_syscall *)r.buf;
	e->fd[0].fd = -1;
	f = rec_fd(&r, &e->fd[SHK_FD_RES], (int)ret, false);
	if (!f)
		return 0;
	put_path(&r, SHK_SYS_PATH, &f->f_path);
	return 1;
}

/* The record begun by shk_kp_open_path(), with a verdict: complete it. */
__noinline int shk_kp_open_report(__u32 nr, __u64 ret, __u32 kind)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	struct shk_syscall *e;
	struct rec r;

	if (!regs || rec_attach(&r, __builtin_offsetof(struct shk_syscall, str)))
		return 0;
	e = (struct shk_syscall *)r.buf;
	fill_hdr(&r, SHK_EV_SYSCALL, task->tgid, task->pid);
	fill_task_current(&e->task, task);
	e->ret = (long)ret;
	e->nr = nr;
	e->kind = kind;
	sys_args(regs, e->args);
	put_str(&r, SHK_SYS_RAW,
		(void *)(kind == SHK_K_OPENAT || kind == SHK_K_OPENAT2 ? e->args[1] : e->args[0]),
		SHK_PATH_MAX, true);
	if (kind == SHK_K_OPENAT2) {
		/* as sys_capture(): the flags and mode, not the pointer */
		__u64 how[2] = {};

		bpf_probe_read_user(how, sizeof(how), (void *)e->args[2]);
		e->args[2] = how[0];
		e->args[3] = how[1];
	}
	r.urgent = true; /* a verdict: report it now */
	rec_submit(&r);
	return 1;
}

static __always_inline int sys_exit_impl(struct pt_regs *regs, long nr, long ret, const bool kp)
{
	struct shk_interest *in = interest_of(nr);
	struct task_struct *task;
	struct shk_syscall *e;
	struct rec r;
	__u32 kind, flags;

	if (!in)
		return 0;
	flags = in->flags;
	if (!(flags & (SHK_INTEREST_EXIT | SHK_INTEREST_KP_EXIT | SHK_INTEREST_KP_ENTER |
		       SHK_INTEREST_KP_STASH)))
		return 0;
	task = CUR_TASK();
	if (task->tgid == shk_self_pid)
		return 0;
	/* Captured only for the kernel policy: a record is worth sending
	 * only with a verdict. A failed open is not checked, and without a
	 * verdict waiting in the stash there is nothing to report. */
	/* the decision is kept in the per-CPU facts, not in a variable: a
	 * flag carried through the whole program would double what the
	 * verifier has to walk */
	if (kp)
		kp_open_note(flags & SHK_INTEREST_KP_EXIT && ret >= 0 &&
			     shk_kp_open_pre((__u32)ret));
	if (!(flags & SHK_INTEREST_EXIT) && (!kp || !kp_open_noted())) {
		__u32 tid = task->pid;

		/* only programs of a KP_ENTER or KP_STASH syscall leave
		 * verdicts (an open's cheap check failing is the common case:
		 * no hash lookup for it) */
		if (!(flags & (SHK_INTEREST_KP_ENTER | SHK_INTEREST_KP_STASH)) ||
		    !bpf_map_lookup_elem(&kp_stash, &tid))
			return 0;
	} else if (kp && !(flags & (SHK_INTEREST_EXIT | SHK_INTEREST_KP_STASH |
					SHK_INTEREST_KP_ENTER))) {
		/* an open wanted by the kernel policy alone (KP_EXIT is the
		 * open class's, and its cheap check passed) */
		if (shk_kp_open_path((__u64)ret) &&
		    shk_kp_open(as_scalar(task), as_scalar(fd_file(task, (int)ret))))
			shk_kp_open_report((__u32)nr, (__u64)ret, in->kind);
		return 0;
	}
	kind = in->kind;
	if (rec_begin(&r, sizeof(*e), __builtin_offsetof(struct shk_syscall, str)))
		return 0;
	r.urgent = in->flags & SHK_INTEREST_URGENT;
	e = (struct shk_syscall *)r.buf;
	fill_hdr(&r, SHK_EV_SYSCALL, task->tgid, task->pid);
	if (in->flags & SHK_INTEREST_ENTER) {
		__u32 tid = task->pid;
		struct shk_task *t = bpf_map_lookup_elem(&enter_ctx, &tid);

		if (t) {
			e->task = *t;
			bpf_map_delete_elem(&enter_ctx, &tid);
			r.s->flags |= SHK_F_ENTER_CTX;
		} else {
			COUNT(enter_miss);
			fill_task_current(&e->task, task);
		}
	} else {
		fill_task_current(&e->task, task);
	}
	e->ret = ret;
	e->nr = nr;
	e->kind = kind;
	if (!regs) /* a syscall's own tracepoint: the task's saved registers */
		regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	if (!regs)
		return 0;
	sys_args(regs, e->args);
	e->fd[0].fd = -1;
	e->fd[1].fd = -1;
	if (!sys_capture(&r, e, kind))
		return 0;
	if (kp && flags & SHK_INTEREST_KP_EXIT && ret >= 0 && kp_open_noted() &&
	    shk_kp_open(as_scalar(task), as_scalar(fd_file(task, (int)ret))))
		r.urgent = true;
	if (kp && flags & (SHK_INTEREST_KP_ENTER | SHK_INTEREST_KP_STASH) &&
	    shk_kp_unstash(task->pid, __builtin_offsetof(struct shk_syscall, kv)))
		r.urgent = true;
	if (!(flags & SHK_INTEREST_EXIT) && !r.urgent)
		return 0; /* no rule wants it, no verdict to carry */
	rec_submit(&r);
	return 0;
}

/* ia32 numbers differ from the native table: not decoded, but counted so
 * the gap is visible. Only the dispatcher sees them at all. */
static __always_inline bool compat_counted(void)
{
	if (!is_compat(bpf_get_current_task_btf()))
		return false;
	COUNT(compat);
	return true;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(shk_sys_exit, struct pt_regs *regs, long ret)
{
	if (compat_counted())
		return 0;
	return sys_exit_impl(regs, regs->orig_ax, ret, true);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(shk_sys_exit_plain, struct pt_regs *regs, long ret)
{
	if (compat_counted())
		return 0;
	return sys_exit_impl(regs, regs->orig_ax, ret, false);
}

/*
 * The same, from one syscall's own tracepoint (syscalls:sys_exit_NAME), so
 * that syscalls nobody asked about (read, write, close...) run no program
 * at all. The arguments are in the task's saved user registers, which the
 * dispatcher is handed directly (read only once a record is built).
 */
SEC("tracepoint")
int shk_sys_exit_tp(struct syscall_trace_exit *ctx)
{
	return sys_exit_impl(NULL, ctx->nr, ctx->ret, true);
}

SEC("tracepoint")
int shk_sys_exit_tp_plain(struct syscall_trace_exit *ctx)
{
	return sys_exit_impl(NULL, ctx->nr, ctx->ret, false);
}

/* ---------------------------------------------------------------------- */
/* kernel policy, lsm backend: the hooks share the walks and maps above */

#include "hooks.bpf.h"
