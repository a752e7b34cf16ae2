/* SPDX-License-Identifier: GPL-2.0 OR Apache-2.0 */
/*
 * The lsm backend (DESIGN.md section 3): BPF-LSM hooks that make an
 * operation fail with EPERM when the kernel policy (bpf/kpolicy.bpf.h)
 * denies it. Included at the end of bpf/sensor.bpf.c, so the hooks share
 * its path walks, per-CPU scratch and maps; loaded only when asked
 * (detect/sensor.c: shk_sensor_opts.lsm), and inert until the enforcer
 * sets shk_kp_lsm.
 *
 * Each hook first respects an earlier denial (`if (ret) return ret;`),
 * then returns at once when the policy has nothing for its class. A
 * match is reported through kp_stash (tid -> verdict) to the exit record
 * of the syscall in progress: SHK_KV_DENIED with -EPERM in enforce mode,
 * SHK_KV_WOULD with 0 in audit mode.
 *
 * Connects are left to the cgroup connect4/6 and sendmsg4/6 programs
 * (bpf/enforce.bpf.c), in both backends: they already fail the call with
 * EPERM, and they also see UDP sends with an address, which the
 * socket_connect hook does not.
 *
 * The programs are non-sleepable ("lsm/", not "lsm.s/"): kp_str and
 * kp_addr are LPM tries, which sleepable programs may not use. The work
 * is done in global functions taking scalars (verified once each, see
 * rec_attach() and as_scalar()); the SEC() programs stay thin.
 */
#ifndef SHRIKE_LSM_HOOKS_BPF_H
#define SHRIKE_LSM_HOOKS_BPF_H

#define EPERM 1
#define FMODE_EXEC 0x20
#define PTRACE_MODE_ATTACH 0x02
#define EXEC_NAME_SCAN 256 /* a basename is at most NAME_MAX bytes */

/* Does the active policy check cls at all? Two array lookups: the cost of
 * a hook when no policy uses its class. */
static __always_inline bool kp_class_on(__u32 cls)
{
	__u32 zero = 0, *slot = bpf_map_lookup_elem(&kp_active, &zero), s;
	struct shk_kp_conf *conf;
	struct shk_kp_class_conf *cc;

	if (!slot)
		return false;
	s = *slot & 1;
	conf = bpf_map_lookup_elem(&kp_conf, &s);
	cc = conf ? kp_cls_conf(conf, cls) : NULL;
	return cc && cc->nclauses;
}

/*
 * A match was found (verdict in the facts): stash it for the exit record
 * of the syscall in progress and return what the hook returns. Only a
 * syscall whose interest has SHK_INTEREST_KP_STASH consumes the stash at
 * its exit; a hook reached from any other path (io_uring, /proc/PID/mem,
 * process_vm_readv, ...) would leave a stale verdict for the next call of
 * the thread, so that verdict is counted as missed instead: the operation
 * is still refused.
 */
static __always_inline int lsm_verdict(struct kp_facts *f)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	struct shk_kverdict v = {};
	struct shk_interest *in;
	__u32 tid = task->pid, nr;

	v.rule = f->v_rule;
	v.gen = f->v_gen;
	v.action = !f->v_enforce ? SHK_KV_WOULD : f->v_kill ? SHK_KV_KILLED : SHK_KV_DENIED;
	v.backend = SHK_KB_LSM;
	/* a kill: process rule: the call fails and the caller dies before
	 * it returns to user space */
	if (f->v_enforce && f->v_kill)
		bpf_send_signal(SIGKILL);
	COUNT(kp_verdicts);
	nr = regs ? (__u32)regs->orig_ax : (__u32)-1;
	in = nr < SHK_SYSCALL_MAX ? bpf_map_lookup_elem(&interest, &nr) : NULL;
	if (!in || !(in->flags & SHK_INTEREST_KP_STASH) ||
	    bpf_map_update_elem(&kp_stash, &tid, &v, BPF_ANY))
		COUNT(kp_missed);
	return f->v_enforce ? -EPERM : 0;
}

/* Classes decided on the process alone: ptrace, module, bpf, mount,
 * setuid, link. */
__noinline int shk_lsm_proc(__u32 cls)
{
	struct kp_facts *f = kp_facts_get();
	__u64 fields;

	if (!f)
		return 0;
	fields = kp_fields(f, cls);
	if (!fields)
		return 0;
	kp_put_proc(f, fields, bpf_get_current_task_btf());
	if (!shk_kp_eval(cls, fields))
		return 0;
	return lsm_verdict(f);
}

/* file_open: the file's resolved path is walked into the scratch, laid
 * out as a syscall record, so the signal backend's fact code reads it. */
__noinline int shk_lsm_open(__u64 file)
{
	struct kp_facts *f = kp_facts_get();
	struct rec r;

	if (!f || !file || rec_attach(&r, __builtin_offsetof(struct shk_syscall, str)))
		return 0;
	r.s->pos = sizeof(struct shk_syscall);
	r.s->flags = 0;
	rec_slot(&r, SHK_SYS_PATH)->len = 0;
	shk_put_path(file + bpf_core_field_offset(struct file, f_path), r.str_at, SHK_SYS_PATH);
	if (!shk_kp_open_match(as_scalar(bpf_get_current_task_btf()), file))
		return 0;
	return lsm_verdict(f);
}

/*
 * proc.name of an exec: the basename of bprm->filename, truncated as the
 * kernel will set comm (TASK_COMM_LEN). The filename was put in the
 * scratch's SHK_EXEC_FILENAME slot; scan it back to its last '/'.
 */
static __always_inline void exec_name(struct rec *r, struct kp_facts *f)
{
	struct shk_str *s = rec_slot(r, SHK_EXEC_FILENAME);
	__u32 off = s->off, len = s->len, start = off, i;

	if (!len) {
		f->s[SHK_KF_PROC_NAME].s[0] = '\0';
		return;
	}
	for (i = 0; i < EXEC_NAME_SCAN && i < len; i++) {
		if (r->buf[(off + len - 1 - i) & EV_MASK] == '/') {
			start = off + len - i;
			break;
		}
	}
	if (i == EXEC_NAME_SCAN || i == len)
		start = off + len - i;
	if (bpf_probe_read_kernel_str(f->s[SHK_KF_PROC_NAME].s, SHK_COMM_LEN,
				      &r->buf[start & EV_MASK]) < 0)
		f->s[SHK_KF_PROC_NAME].s[0] = '\0';
}

/*
 * bprm_check_security: the image is open, nothing of the old one is torn
 * down yet. The facts are the ones the signal backend takes after the
 * exec: name (from the filename), exe path, ancestors, stdio types, exe
 * origin. Called again for the interpreter of a #! script (bprm->file is
 * then the interpreter), so a rule on either path applies.
 */
__noinline int shk_lsm_exec(__u64 bprm_addr)
{
	struct linux_binprm *bprm = (struct linux_binprm *)bprm_addr;
	struct task_struct *task = bpf_get_current_task_btf();
	struct kp_facts *f = kp_facts_get();
	struct file *file;
	__u64 fields;
	struct rec r;

	if (!f || !bprm || rec_attach(&r, __builtin_offsetof(struct shk_exec, str)))
		return 0;
	fields = kp_fields(f, SHK_KP_EXEC);
	if (!fields)
		return 0;
	file = BPF_CORE_READ(bprm, file);
	r.s->pos = sizeof(struct shk_exec);
	r.s->flags = 0;
	rec_slot(&r, SHK_EXEC_EXE)->len = 0;
	rec_slot(&r, SHK_EXEC_FILENAME)->len = 0;
	kp_put_proc(f, fields, task);
	/* the image's identity: a hard link is the same inode under another
	 * name (the compiler turns exact exe paths into inodes too) */
	kp_put_num(f, SHK_KF_EXE_INO, BPF_CORE_READ(file, f_inode, i_ino));
	kp_put_num(f, SHK_KF_EXE_DEV, BPF_CORE_READ(file, f_inode, i_sb, s_dev));
	/* a copy by content is the exec tracepoint's to stop, for userspace
	 * to confirm: never a denial here on the first bytes alone */
	kp_put_num(f, SHK_KF_EXE_HEAD, 0);
	if (fields & (1ull << SHK_KF_EXEPATH)) {
		shk_put_path(as_scalar(file) + bpf_core_field_offset(struct file, f_path), r.str_at,
			     SHK_EXEC_EXE);
		kp_put_str(f, SHK_KF_EXEPATH, (const void *)rec_str_addr(&r, SHK_EXEC_EXE));
	}
	if (fields & (1ull << SHK_KF_PROC_NAME)) {
		put_str(&r, SHK_EXEC_FILENAME, BPF_CORE_READ(bprm, filename), SHK_PATH_MAX, false);
		exec_name(&r, f);
	}
	if (fields & ((1ull << SHK_KF_STDIN_TYPE) | (1ull << SHK_KF_STDOUT_TYPE) |
		      (1ull << SHK_KF_STDERR_TYPE))) {
		kp_put_num(f, SHK_KF_STDIN_TYPE, fd_type_of(task, 0));
		kp_put_num(f, SHK_KF_STDOUT_TYPE, fd_type_of(task, 1));
		kp_put_num(f, SHK_KF_STDERR_TYPE, fd_type_of(task, 2));
	}
	if (fields & ((1ull << SHK_KF_EXE_MEMFD) | (1ull << SHK_KF_EXE_UPPER))) {
		__u32 xf = exe_flags(file, task->cred);

		kp_put_num(f, SHK_KF_EXE_MEMFD, !!(xf & SHK_EXE_MEMFD));
		kp_put_num(f, SHK_KF_EXE_UPPER, !!(xf & SHK_EXE_UPPER_LAYER));
	}
	if (!shk_kp_eval(SHK_KP_EXEC, fields))
		return 0;
	return lsm_verdict(f);
}

/* The SEC() programs: respect an earlier denial, leave at once when the
 * lsm backend is off or the policy has nothing for the class. */
#define LSM_GATE(cls)                                                      \
	do {                                                               \
		if (ret)                                                   \
			return ret;                                        \
		if (!shk_kp_lsm || !kp_class_on(cls))                      \
			return 0;                                          \
	} while (0)

SEC("lsm/bprm_check_security")
int BPF_PROG(shk_lsm_bprm_check, struct linux_binprm *bprm, int ret)
{
	LSM_GATE(SHK_KP_EXEC);
	return shk_lsm_exec(as_scalar(bprm));
}

SEC("lsm/file_open")
int BPF_PROG(shk_lsm_file_open, struct file *file, int ret)
{
	LSM_GATE(SHK_KP_OPEN);
	/* the open of an image being executed is the exec class's */
	if (file->f_mode & FMODE_EXEC)
		return 0;
	return shk_lsm_open(as_scalar(file));
}

/* PTRACE_ATTACH/SEIZE, and what is as strong: /proc/PID/mem,
 * process_vm_readv/writev. Read-mode checks (ps reading /proc) are not
 * the ptrace class. */
SEC("lsm/ptrace_access_check")
int BPF_PROG(shk_lsm_ptrace, struct task_struct *child, unsigned int mode, int ret)
{
	LSM_GATE(SHK_KP_PTRACE);
	if (!(mode & PTRACE_MODE_ATTACH))
		return 0;
	return shk_lsm_proc(SHK_KP_PTRACE);
}

SEC("lsm/ptrace_traceme")
int BPF_PROG(shk_lsm_traceme, struct task_struct *parent, int ret)
{
	LSM_GATE(SHK_KP_PTRACE);
	return shk_lsm_proc(SHK_KP_PTRACE);
}

/* finit_module reads the module file; init_module hands its bytes */
SEC("lsm/kernel_read_file")
int BPF_PROG(shk_lsm_read_file, struct file *file, enum kernel_read_file_id id, bool contents,
	     int ret)
{
	LSM_GATE(SHK_KP_MODULE);
	if (id != bpf_core_enum_value(enum kernel_read_file_id, READING_MODULE))
		return 0;
	return shk_lsm_proc(SHK_KP_MODULE);
}

SEC("lsm/kernel_load_data")
int BPF_PROG(shk_lsm_load_data, enum kernel_load_data_id id, bool contents, int ret)
{
	LSM_GATE(SHK_KP_MODULE);
	if (id != bpf_core_enum_value(enum kernel_load_data_id, LOADING_MODULE))
		return 0;
	return shk_lsm_proc(SHK_KP_MODULE);
}

/*
 * bpf(2). The hook gained a fourth argument (bool kernel) in v6.16 and the
 * return value of the previous program follows the arguments, so there is
 * one program per arity; userspace loads the one that fits the kernel's
 * BTF (detect/sensor.c).
 */
SEC("lsm/bpf")
int BPF_PROG(shk_lsm_bpf, int cmd, union bpf_attr *attr, unsigned int size, int ret)
{
	LSM_GATE(SHK_KP_BPF);
	return shk_lsm_proc(SHK_KP_BPF);
}

SEC("lsm/bpf")
int BPF_PROG(shk_lsm_bpf_kernel, int cmd, union bpf_attr *attr, unsigned int size, bool kernel,
	     int ret)
{
	LSM_GATE(SHK_KP_BPF);
	return shk_lsm_proc(SHK_KP_BPF);
}

SEC("lsm/sb_mount")
int BPF_PROG(shk_lsm_mount, const char *dev_name, const struct path *path, const char *type,
	     unsigned long flags, void *data, int ret)
{
	LSM_GATE(SHK_KP_MOUNT);
	return shk_lsm_proc(SHK_KP_MOUNT);
}

SEC("lsm/task_fix_setuid")
int BPF_PROG(shk_lsm_setuid, struct cred *new, const struct cred *old, int flags, int ret)
{
	LSM_GATE(SHK_KP_SETUID);
	return shk_lsm_proc(SHK_KP_SETUID);
}

SEC("lsm/task_fix_setgid")
int BPF_PROG(shk_lsm_setgid, struct cred *new, const struct cred *old, int flags, int ret)
{
	LSM_GATE(SHK_KP_SETUID);
	return shk_lsm_proc(SHK_KP_SETUID);
}

/* The path hooks exist only with CONFIG_SECURITY_PATH: loaded where the
 * kernel has them. */
SEC("lsm/path_symlink")
int BPF_PROG(shk_lsm_symlink, const struct path *dir, struct dentry *dentry, const char *old_name,
	     int ret)
{
	LSM_GATE(SHK_KP_LINK);
	return shk_lsm_proc(SHK_KP_LINK);
}

SEC("lsm/path_link")
int BPF_PROG(shk_lsm_link, struct dentry *old_dentry, const struct path *new_dir,
	     struct dentry *new_dentry, int ret)
{
	LSM_GATE(SHK_KP_LINK);
	return shk_lsm_proc(SHK_KP_LINK);
}

#endif /* SHRIKE_LSM_HOOKS_BPF_H */
