/* SPDX-License-Identifier: Apache-2.0 */
/*
 * shrike event ABI: the one contract between the BPF sensors and userspace.
 *
 * Both sides include this file. The BPF side gets the __u* types from
 * vmlinux.h, userspace from <linux/types.h>. Every struct has fixed-width
 * members, explicit padding and a size assert; message type numbers are
 * explicit and never reused.
 *
 * Records are variable length: a fixed part followed by string data. A string
 * is described by a struct shk_str {off, len} whose offset is relative to the
 * start of the record. Userspace must treat every offset and length as
 * hostile and validate it against the record size (detect/decode.c does).
 */
#ifndef SHRIKE_ABI_H
#define SHRIKE_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define SHK_ABI_VERSION 4 /* 2: shk_task.sid; 3: kernel verdicts; 4: held execs */

#define SHK_COMM_LEN 16
/* Bounds on what the kernel side copies. Powers of two: BPF masks with them. */
#define SHK_PATH_MAX 4096  /* one path, including the NUL */
#define SHK_ARGS_MAX 4096  /* argv bytes (NUL separated) */
#define SHK_ENV_MAX 4096   /* environment bytes (NUL separated) */
#define SHK_NAME_MAX 256   /* one path component / short string */
#define SHK_EVENT_MAX 32768 /* a record never exceeds this */
#define SHK_PATH_DEPTH 48  /* path components walked; deeper paths are truncated */
#define SHK_CGROUP_DEPTH 16

/* Message types. Never renumber, never reuse. */
enum shk_event_type {
	SHK_EV_EXEC = 1,    /* sched_process_exec: a new program image */
	SHK_EV_FORK = 2,    /* sched_process_fork: a new process or thread */
	SHK_EV_EXIT = 3,    /* sched_process_exit, once per thread group */
	SHK_EV_SYSCALL = 4, /* a syscall of interest, at exit */
	/* 5: reserved for kernel verdicts (deny/kill) */
	SHK_EV_MAX
};

/* Header flags. */
#define SHK_F_TRUNCATED (1u << 0) /* a string or path was cut at its bound */
#define SHK_F_ENTER_CTX (1u << 1) /* task context captured at syscall entry */
#define SHK_F_VERDICT (1u << 2)   /* the record carries a kernel policy verdict */

struct shk_hdr {
	__u16 type;    /* enum shk_event_type */
	__u16 abi;     /* SHK_ABI_VERSION */
	__u32 size;    /* total record size, header included */
	__u64 ts_ns;   /* CLOCK_BOOTTIME, ns */
	__u32 pid;     /* tgid, as userspace calls it */
	__u32 tid;
	__u32 cpu;
	__u32 flags;   /* SHK_F_* */
};
_Static_assert(sizeof(struct shk_hdr) == 32, "shk_hdr size");

/* The task a record is about, resolved in the kernel at the event. */
struct shk_task {
	__u32 ppid;      /* tgid of the real parent */
	__u32 vpid;      /* tgid as seen in the task's own pid namespace */
	__u32 vtid;
	__u32 uid, gid, euid, egid;
	__u32 loginuid;  /* (uid_t)-1 when unset */
	__u32 sessionid;
	__u32 tty;       /* tty_nr as in /proc/PID/stat, 0 when none */
	__u32 pidns;     /* namespace inode numbers */
	__u32 mntns;
	__u32 netns;
	__u32 sid;       /* session id: the session leader's tgid (host pid ns) */
	__u64 cgroup_id; /* cgroup v2 (default hierarchy) id == cgroupfs inode */
	__u64 cap_eff, cap_prm, cap_inh;
	__u64 start_ns;  /* group leader start time (boottime ns): pid reuse check */
	char comm[SHK_COMM_LEN];
};
_Static_assert(sizeof(struct shk_task) == 112, "shk_task size");

struct shk_str {
	__u16 off; /* from the start of the record; 0 when absent */
	__u16 len; /* bytes, without the terminating NUL */
};
_Static_assert(sizeof(struct shk_str) == 4, "shk_str size");

/* File descriptor types, resolved from the inode at the event. */
enum shk_fd_type {
	SHK_FD_NONE = 0, /* not resolved (no such fd, or not asked for) */
	SHK_FD_FILE = 1,
	SHK_FD_DIR = 2,
	SHK_FD_IPV4 = 3,
	SHK_FD_IPV6 = 4,
	SHK_FD_UNIX = 5,
	SHK_FD_PIPE = 6,
	SHK_FD_EVENT = 7,
	SHK_FD_SIGNALFD = 8,
	SHK_FD_EVENTPOLL = 9,
	SHK_FD_INOTIFY = 10,
	SHK_FD_TIMERFD = 11,
	SHK_FD_NETLINK = 12,
	SHK_FD_BPF = 13,
	SHK_FD_USERFAULTFD = 14,
	SHK_FD_IO_URING = 15,
	SHK_FD_MEMFD = 16,
	SHK_FD_SOCK_OTHER = 17, /* a socket of another family */
	SHK_FD_ANON_OTHER = 18, /* another anon inode */
	SHK_FD_CHAR = 19,       /* character device */
	SHK_FD_BLOCK = 20,
	SHK_FD_TYPE_MAX
};

/* The state of one fd at the event. Ports are host order; addresses are
 * network order (IPv4 in the first 4 bytes). "local"/"remote" follow the
 * socket, not the connection direction. */
struct shk_fd {
	__s32 fd;        /* -1 when absent */
	__u8 type;       /* enum shk_fd_type */
	__u8 sock_type;  /* SOCK_STREAM, SOCK_DGRAM, ... */
	__u16 family;    /* AF_* */
	__u16 protocol;  /* IPPROTO_* */
	__u16 lport;
	__u16 rport;
	__u16 _pad0;
	__u32 flags;     /* file f_flags (O_*) */
	__u32 dev;       /* st_dev, kernel encoding (major << 20 | minor) */
	__u64 ino;
	__u8 laddr[16];
	__u8 raddr[16];
};
_Static_assert(sizeof(struct shk_fd) == 64, "shk_fd size");

/* Executable properties (SHK_EV_EXEC.exe_flags). */
#define SHK_EXE_MEMFD (1u << 0)       /* image is a memfd (fileless) */
#define SHK_EXE_UPPER_LAYER (1u << 1) /* on an overlayfs upper layer */
#define SHK_EXE_WRITABLE (1u << 2)    /* writable by the executing euid */
#define SHK_EXE_LOWER_LAYER (1u << 3) /* on an overlayfs lower layer */

/*
 * A kernel policy verdict (section "kernel policy" below), carried by the
 * record of the operation it is about: the exec record (signal backend), or
 * the syscall record of the denied call (lsm and cgroup denials, which make
 * the call fail with EPERM). Set only when hdr.flags has SHK_F_VERDICT.
 */
enum shk_kv_action {
	SHK_KV_NONE = 0,
	SHK_KV_DENIED = 1, /* the call failed with EPERM */
	SHK_KV_KILLED = 2, /* SIGKILL sent in the kernel: the task never returns */
	SHK_KV_WOULD = 3,  /* audit mode: matched, nothing done */
	/* An exec whose image has the size and first bytes of a denied
	 * binary (a copy of it, by content: SHK_KF_EXE_HEAD): the kernel
	 * cannot read the rest, so userspace compares the whole image and
	 * decides. HELD: SIGSTOP sent, before the first instruction; userspace
	 * kills it or lets it continue. WOULD_HOLD: the same in audit mode,
	 * nothing done. */
	SHK_KV_HELD = 4,
	SHK_KV_WOULD_HOLD = 5,
};

enum shk_kv_backend {
	SHK_KB_NONE = 0,
	SHK_KB_SIGNAL = 1, /* tracepoints + bpf_send_signal */
	SHK_KB_LSM = 2,    /* BPF-LSM hooks */
	SHK_KB_CGROUP = 3, /* cgroup connect/sendmsg programs */
};

struct shk_kverdict {
	__u32 rule;    /* kernel rule number, 1-based (0: none) */
	__u16 gen;     /* policy generation the number belongs to */
	__u8 action;   /* enum shk_kv_action */
	__u8 backend;  /* enum shk_kv_backend */
};
_Static_assert(sizeof(struct shk_kverdict) == 8, "shk_kverdict size");

enum shk_exec_str {
	SHK_EXEC_EXE = 0,  /* resolved absolute path of the image */
	SHK_EXEC_FILENAME, /* the filename execve was given (bprm->filename) */
	SHK_EXEC_ARGS,     /* argv, NUL separated, bounded */
	SHK_EXEC_ENV,      /* environment, NUL separated, bounded */
	SHK_EXEC_CWD,      /* working directory */
	SHK_EXEC_CGROUP,   /* cgroup v2 path, from the v2 root */
	SHK_EXEC_INTERP,   /* bprm->interp: the script for #! images */
	SHK_EXEC_NSTR
};

struct shk_exec {
	struct shk_hdr hdr;
	struct shk_task task;
	__u64 exe_ino;
	__u32 exe_dev;
	__u32 exe_mode;
	__u64 exe_ctime_ns;
	__u64 exe_mtime_ns;
	__u32 exe_flags; /* SHK_EXE_* */
	__u32 old_tid;   /* tid that called execve (differs for a thread) */
	__u32 argc;      /* argc as the kernel counted it */
	__u8 std_type[3]; /* enum shk_fd_type of fds 0, 1, 2 */
	__u8 _pad0;
	struct shk_str str[SHK_EXEC_NSTR];
	__u32 _pad1;
	struct shk_kverdict kv;
};
_Static_assert(sizeof(struct shk_exec) == 232, "shk_exec size");

#define SHK_FORK_THREAD (1u << 0) /* a new thread, not a new process */

struct shk_fork {
	struct shk_hdr hdr; /* pid/tid: the child */
	struct shk_task task; /* the child */
	__u32 parent_pid;
	__u32 parent_tid;
	__u32 flags; /* SHK_FORK_* */
	__u32 _pad0;
};
_Static_assert(sizeof(struct shk_fork) == 160, "shk_fork size");

struct shk_exit {
	struct shk_hdr hdr;
	__s32 exit_code; /* as wait(2) encodes it */
	__u32 _pad0;
	char comm[SHK_COMM_LEN];
};
_Static_assert(sizeof(struct shk_exit) == 56, "shk_exit size");

/* String slots of a syscall record; which are set depends on the syscall
 * (detect/decode.c documents the mapping). */
enum shk_sys_str {
	SHK_SYS_PATH = 0, /* kernel-resolved absolute path (from the fd or file) */
	SHK_SYS_RAW,      /* the path argument as passed */
	SHK_SYS_BASE,     /* directory a relative RAW is relative to (dirfd/cwd) */
	SHK_SYS_RAW2,     /* second path argument (link/rename target) */
	SHK_SYS_BASE2,    /* directory a relative RAW2 is relative to */
	SHK_SYS_EXTRA,    /* syscall specific: fstype, memfd name, unix path, ... */
	SHK_SYS_NSTR
};

/* fd slots of a syscall record. */
enum shk_sys_fd {
	SHK_FD_ARG = 0, /* the fd argument (connect, dup oldfd, fchmod, ...) */
	SHK_FD_RES = 1, /* the fd the syscall returned or created */
	SHK_SYS_NFD
};

struct shk_syscall {
	struct shk_hdr hdr;
	struct shk_task task;
	__s64 ret;
	__u64 args[6];   /* raw syscall arguments */
	__u32 nr;        /* native syscall number */
	__u32 kind;      /* enum shk_sys_kind: the argument layout */
	struct shk_fd fd[SHK_SYS_NFD];
	struct shk_str str[SHK_SYS_NSTR];
	struct shk_kverdict kv;
};
_Static_assert(sizeof(struct shk_syscall) == 368, "shk_syscall size");

/*
 * Argument layouts. Userspace maps syscall names to numbers with libseccomp
 * and tells the kernel side, through the interest map, which layout each
 * number has; the BPF side never hard-codes syscall numbers.
 */
enum shk_sys_kind {
	SHK_K_NONE = 0,
	SHK_K_PLAIN,      /* integer arguments only */
	SHK_K_OPEN,       /* open(path, flags, mode) */
	SHK_K_OPENAT,     /* openat(dirfd, path, flags, mode) */
	SHK_K_OPENAT2,    /* openat2(dirfd, path, how, size) */
	SHK_K_CREAT,      /* creat(path, mode) */
	SHK_K_EXECVE,     /* execve(path, argv, envp): failures only */
	SHK_K_EXECVEAT,   /* execveat(dirfd, path, argv, envp, flags) */
	SHK_K_SOCKADDR,   /* connect/bind(fd, addr, len) */
	SHK_K_ACCEPT,     /* accept/accept4(fd, addr, len[, flags]) */
	SHK_K_SOCKET,     /* socket(domain, type, proto) */
	SHK_K_FD,         /* (fd, ...): listen, sendmsg, recvmsg, fchmod, ... */
	SHK_K_SENDTO,     /* sendto/recvfrom(fd, buf, len, flags, addr, alen) */
	SHK_K_DUP,        /* dup/dup2/dup3(oldfd[, newfd[, flags]]) */
	SHK_K_PATH,       /* (path, ...): mkdir, rmdir, unlink, chmod, umount2 */
	SHK_K_PATHAT,     /* (dirfd, path, ...): mkdirat, unlinkat, fchmodat */
	SHK_K_CHDIR,      /* chdir(path): PATH is the new cwd */
	SHK_K_SYMLINK,    /* symlink(target, linkpath) */
	SHK_K_SYMLINKAT,  /* symlinkat(target, newdirfd, linkpath) */
	SHK_K_PATH2,      /* link/rename(old, new) */
	SHK_K_PATH2AT,    /* linkat/renameat/renameat2(odfd, old, ndfd, new) */
	SHK_K_FINIT_MODULE, /* finit_module(fd, params, flags) */
	SHK_K_INIT_MODULE,  /* init_module(image, len, params) */
	SHK_K_MEMFD,      /* memfd_create(name, flags) */
	SHK_K_MOUNT,      /* mount(source, target, fstype, flags, data) */
	SHK_K_PRCTL,      /* prctl(option, arg2, ...) */
	SHK_K_MAX
};

/* Interest map value (array indexed by syscall number). */
#define SHK_INTEREST_EXIT (1u << 0)  /* emit at sys_exit */
#define SHK_INTEREST_ENTER (1u << 1) /* report the task as it was at entry */
#define SHK_INTEREST_URGENT (1u << 2) /* wake the consumer at once (an enforce
				       * action may depend on this record) */
#define SHK_INTEREST_KP_ENTER (1u << 3) /* check kp_class at entry (signal backend) */
#define SHK_INTEREST_KP_EXIT (1u << 4)  /* check kp_class at exit, on success */
#define SHK_INTEREST_KP_STASH (1u << 5) /* attach a verdict left in kp_stash */
#define SHK_SYSCALL_MAX 512

struct shk_interest {
	__u8 flags;    /* SHK_INTEREST_* */
	__u8 kind;     /* enum shk_sys_kind */
	__u8 kp_class; /* enum shk_kp_class, with SHK_INTEREST_KP_* */
	__u8 _pad0;
};
_Static_assert(sizeof(struct shk_interest) == 4, "shk_interest size");

/* Per-CPU counters (array map "counters", one slot per CPU). */
struct shk_counters {
	__u64 emitted;    /* records written to the ring buffer */
	__u64 drops;      /* ring buffer full: record lost */
	__u64 oversize;   /* record bigger than SHK_EVENT_MAX: dropped */
	__u64 truncated;  /* record emitted with a string cut at its bound */
	__u64 enter_miss; /* enter context wanted at exit but not found */
	__u64 compat;     /* 32-bit (ia32) syscalls, not decoded */
	__u64 kp_missed;  /* a kernel verdict could not be enforced or reported */
	__u64 kp_verdicts; /* kernel policy matches (deny, kill or would) */
};
_Static_assert(sizeof(struct shk_counters) == 64, "shk_counters size");

/* Load-time configuration (const volatile in the BPF object). */
struct shk_config {
	__u32 self_pid; /* shrike's own tgid: never reported */
	__u32 _pad0;
};

/* ---------------------------------------------------------------------- */
/*
 * Kernel policy: the `deny` rules compiled to data (DESIGN.md section 3).
 *
 * Each rule becomes clauses (a DNF); each clause belongs to one operation
 * class and is a conjunction of constraints on kernel-visible fields. For a
 * class, the clauses are numbered 0..n-1 and every table answers "which
 * clauses does this value satisfy" as a bitmap: a clause that does not
 * constrain a field is set in all of that field's bitmaps. A BPF program
 * fills the facts of the operation, looks each constrained field up once
 * (string fields in an LPM trie, numbers in a hash, addresses in an LPM
 * trie; a miss takes the field's "no match" bitmap), and ANDs the bitmaps:
 * a bit left set is a matching clause. The cost depends on the number of
 * fields in use, not on the number of rules, and adding a rule adds no code.
 *
 * String entries are exact ("value\0": the NUL is part of the prefix) or
 * prefixes ("/etc/"): the trie's longest match decides every constraint of
 * a clause on that field (the compiler evaluates each clause at each entry).
 *
 * Two slots hold two policies: userspace fills the inactive one, then flips
 * kp_active, so a reload never leaves a window without rules.
 */
enum shk_kp_class {
	SHK_KP_EXEC = 0,
	SHK_KP_OPEN,
	SHK_KP_CONNECT,
	SHK_KP_PTRACE,
	SHK_KP_MODULE,
	SHK_KP_BPF,
	SHK_KP_MOUNT,
	SHK_KP_SETUID,
	SHK_KP_LINK,
	SHK_KP_NCLASS
};

enum shk_kp_field {
	/* strings (LPM on bytes) */
	SHK_KF_PROC_NAME = 0, /* comm after exec */
	SHK_KF_PNAME,         /* parent's comm */
	SHK_KF_ANAME2,        /* grandparent's comm (proc.aname[2]) */
	SHK_KF_ANAME3,
	SHK_KF_ANAME4,
	SHK_KF_ANAME_ANY,     /* any of the four ancestors (proc.aname) */
	SHK_KF_EXEPATH,       /* resolved path of the image */
	SHK_KF_FD_NAME,       /* resolved path of the opened file */
	SHK_KF_FD_DIR,
	SHK_KF_FD_FILENAME,
	SHK_KF_NSTR,
	/* numbers (hash on (field, value)) */
	SHK_KF_UID = SHK_KF_NSTR, /* effective uid */
	SHK_KF_CONTAINER,     /* 0 on the host, 1 in a container */
	SHK_KF_STDIN_TYPE,    /* enum shk_fd_type of fd 0 */
	SHK_KF_STDOUT_TYPE,
	SHK_KF_STDERR_TYPE,
	SHK_KF_EXE_MEMFD,     /* 0/1 */
	SHK_KF_EXE_UPPER,     /* 0/1 */
	SHK_KF_OPEN_READ,     /* 0/1 */
	SHK_KF_OPEN_WRITE,    /* 0/1 */
	SHK_KF_RPORT,         /* remote port (connect) */
	SHK_KF_EXE_INO,       /* the image's inode: hard links, renames */
	SHK_KF_EXE_DEV,       /* and its device (kernel encoding) */
	SHK_KF_EXE_HEAD,      /* the image's size and first bytes (shk_exe_head_id) */
	SHK_KF_ARG0,          /* 0/1: the arguments contain pattern 0 (exec) */
	SHK_KF_ARG_LAST = SHK_KF_ARG0 + 15, /* ... pattern 15 */
	SHK_KF_NNUM_END,
	/* addresses (LPM, IPv4 mapped into IPv6) */
	SHK_KF_RADDR = SHK_KF_NNUM_END,
	SHK_KF_NFIELDS
};

/*
 * The identity of an image that the kernel can compute at exec: its size
 * and its first SHK_EXE_HEAD_BYTES bytes (linux_binprm.buf, zero-padded
 * past the end of a short file), hashed (FNV-1a over 64-bit words). Equal
 * identities are only a candidate: userspace compares the whole files.
 * Never 0, which stands for "not computed".
 */
#define SHK_EXE_HEAD_BYTES 256
#define SHK_EXE_HEAD_WORDS (SHK_EXE_HEAD_BYTES / 8)

static inline __u64 shk_exe_head_id(const __u64 *w, __u64 size)
{
	__u64 h = 0xcbf29ce484222325ull;

	for (int i = 0; i < SHK_EXE_HEAD_WORDS; i++) {
		h ^= w[i];
		h *= 0x100000001b3ull;
	}
	h ^= size;
	h *= 0x100000001b3ull;
	return h ? h : 1;
}

#define SHK_KP_WORDS 16 /* clause bitmap words: 1024 clauses per class */
#define SHK_KP_NEEDLES 16     /* argument patterns (proc.args contains) */
#define SHK_KP_NEEDLE_MAX 32  /* bytes of one pattern */
#define SHK_KP_ARGS_SCAN 512  /* argv bytes the kernel scans for them */

/* kp_needles value (array: slot * SHK_KP_NEEDLES + i). */
struct shk_kp_needle {
	__u8 len;      /* 0: unused */
	__u8 cmdline;  /* scan from argv[0] (proc.cmdline), not argv[1] */
	__u8 _pad[6];
	char s[SHK_KP_NEEDLE_MAX];
};
_Static_assert(sizeof(struct shk_kp_needle) == 40, "shk_kp_needle size");
#define SHK_KP_MAX_CLAUSES (SHK_KP_WORDS * 64)
#define SHK_KP_STR_HDR 3 /* slot, class, field */
#define SHK_KP_STR_DATA 256 /* LPM data bytes (the kernel's limit) */
#define SHK_KP_STR_MAX (SHK_KP_STR_DATA - SHK_KP_STR_HDR) /* incl. the NUL */
#define SHK_KP_BASE_ALL SHK_KF_NFIELDS /* kp_base field index: clauses in use */

struct shk_kp_bits {
	__u64 w[SHK_KP_WORDS];
};

struct shk_kp_skey {
	__u32 prefixlen; /* bits, from slot on */
	__u8 slot;
	__u8 cls;
	__u8 field;
	char s[SHK_KP_STR_MAX];
};
_Static_assert(sizeof(struct shk_kp_skey) == 4 + SHK_KP_STR_DATA, "shk_kp_skey size");

struct shk_kp_nkey {
	__u8 slot;
	__u8 cls;
	__u8 field;
	__u8 _pad[5];
	__u64 v;
};
_Static_assert(sizeof(struct shk_kp_nkey) == 16, "shk_kp_nkey size");

struct shk_kp_akey {
	__u32 prefixlen; /* bits, from slot on: 32 + the network's bits */
	__u8 slot;
	__u8 cls;
	__u8 field;
	__u8 _pad;
	__u8 addr[16];   /* IPv6, or ::ffff:a.b.c.d */
};
_Static_assert(sizeof(struct shk_kp_akey) == 24, "shk_kp_akey size");

struct shk_kp_clause {
	__u32 rule;    /* kernel rule number, 1-based */
	__u8 enforce;  /* 0: audit (report "would"), 1: enforce */
	__u8 kill;     /* a kill: process rule: SIGKILL in every backend */
	__u8 confirm;  /* a match on content (SHK_KF_EXE_HEAD): SHK_KV_HELD */
	__u8 _pad;
};

struct shk_kp_class_conf {
	__u64 fields;   /* bit per enum shk_kp_field some clause constrains */
	__u32 nclauses; /* 0: nothing to check for this class */
	__u32 nwords;   /* bitmap words in use */
};

struct shk_kp_conf {
	struct shk_kp_class_conf cls[SHK_KP_NCLASS];
	__u32 gen;        /* policy generation (shk_kverdict.gen) */
	__u32 host_mntns; /* the host's mount namespace: SHK_KF_CONTAINER */
	__u32 nneedles;   /* argument patterns in kp_needles */
	__u32 _pad;
};

/*
 * A numeric field's values, when its clauses name at most SHK_KP_NVALS of
 * them (most: a uid, a boolean, a port or two): kp_nvals at (slot *
 * SHK_KP_NCLASS + cls) * SHK_KF_NFIELDS + field, their bitmaps in kp_nbits
 * at that index * SHK_KP_NVALS + i. Array lookups and a few compares
 * instead of a hash lookup on every open. n = SHK_KP_NV_MANY: use kp_num.
 */
#define SHK_KP_NVALS 4
#define SHK_KP_NV_MANY 0xff
struct shk_kp_nvals {
	__u32 n;
	__u32 _pad;
	__u64 v[SHK_KP_NVALS];
};
_Static_assert(sizeof(struct shk_kp_nvals) == 40, "shk_kp_nvals size");
#define SHK_KP_NVALS_ENTRIES (2 * SHK_KP_NCLASS * SHK_KF_NFIELDS)

/* Map sizes: kp_str, kp_num and kp_addr entries (both slots together). */
#define SHK_KP_STR_ENTRIES 16384
#define SHK_KP_NUM_ENTRIES 65536
#define SHK_KP_ADDR_ENTRIES 4096
#define SHK_KP_BASE_ENTRIES (2 * SHK_KP_NCLASS * (SHK_KF_NFIELDS + 1))
#define SHK_KP_CLAUSE_ENTRIES (2 * SHK_KP_NCLASS * SHK_KP_MAX_CLAUSES)

#endif /* SHRIKE_ABI_H */
