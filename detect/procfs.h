/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading one process from a procfs tree.
 *
 * Used to seed the process table at start-up, before any event has been
 * seen. The procfs root is a parameter so tests can point it at fixture
 * directories; production passes "/proc" (or NULL for the same).
 *
 * Everything read is treated as untrusted: every read is bounded by the
 * buffers below, and malformed optional pieces are skipped, not trusted.
 */
#ifndef SHRIKE_PROCFS_H
#define SHRIKE_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "shrike_abi.h"

#define SHK_PROCFS_ROOT "/proc"
#define SHK_LOGINUID_UNSET 4294967295u /* (uid_t)-1, as the kernel prints it */
#define SHK_ID_UNKNOWN 4294967295u     /* a uid/gid that could not be read */
#define SHK_PF_KTHREAD 0x00200000u     /* task->flags: kernel thread */

/* Which optional pieces were found (struct shk_proc_info.have). */
#define SHK_PROCFS_HAVE_STATUS (1u << 0)  /* uids, gids, caps, NSpid */
#define SHK_PROCFS_HAVE_EXE (1u << 1)
#define SHK_PROCFS_HAVE_EXE_STAT (1u << 2) /* exe_ino, exe_dev, times */
#define SHK_PROCFS_HAVE_CWD (1u << 3)
#define SHK_PROCFS_HAVE_CMDLINE (1u << 4)
#define SHK_PROCFS_HAVE_ENVIRON (1u << 5)
#define SHK_PROCFS_HAVE_CGROUP (1u << 6)  /* a cgroup v2 ("0::") line */
#define SHK_PROCFS_HAVE_LOGINUID (1u << 7)
#define SHK_PROCFS_HAVE_NS (1u << 8)      /* at least one ns inode */
#define SHK_PROCFS_HAVE_CAPS (1u << 9)

/* Bytes were cut at a bound (struct shk_proc_info.truncated). */
#define SHK_PROCFS_TRUNC_ARGS (1u << 0)
#define SHK_PROCFS_TRUNC_ENV (1u << 1)

/*
 * One process as procfs shows it. The struct owns no heap memory: strings
 * are fixed arrays, always NUL-terminated, empty when absent. It is about
 * 20 KiB, so callers should not put it on a small stack. Ids that could not
 * be read are SHK_ID_UNKNOWN.
 */
struct shk_proc_info {
	int tgid;
	int ppid;
	int vpid;  /* last NSpid: the pid in its own namespace; else tgid */
	char state; /* stat field 3: R, S, D, Z, ... */
	bool is_kthread;
	bool exe_deleted; /* the exe link ended in " (deleted)" */
	uint32_t have;      /* SHK_PROCFS_HAVE_* */
	uint32_t truncated; /* SHK_PROCFS_TRUNC_* */
	uint32_t tty_nr;    /* stat field 7, kernel encoding; 0 when none */
	int sid;            /* stat field 6: session id (0 for kernel threads) */
	uint32_t flags;     /* stat field 9 (PF_*) */
	uint64_t start_ticks; /* stat field 22: clock ticks after boot */
	uint64_t start_ns;    /* the same in ns: tick granularity only */
	uint32_t uid, gid, euid, egid;
	uint32_t loginuid; /* SHK_LOGINUID_UNSET when unset or unreadable */
	uint64_t cap_inh, cap_prm, cap_eff;
	uint32_t pidns, mntns, netns; /* 0 when unreadable */
	uint8_t std_type[3]; /* enum shk_fd_type of fds 0, 1, 2 */
	/* From stat(2) of the exe link target; dev in the kernel's encoding
	 * (major << 20 | minor), as struct shk_exec carries it. */
	uint64_t exe_ino;
	uint32_t exe_dev;
	uint64_t exe_ctime_ns, exe_mtime_ns;
	char comm[SHK_COMM_LEN]; /* cut to what task->comm holds */
	char exe[SHK_PATH_MAX];  /* the raw link, " (deleted)" included */
	char cwd[SHK_PATH_MAX];
	char cgroup[SHK_PATH_MAX]; /* the v2 path, from the v2 root */
	/* NUL-separated, NUL-terminated at *_len; a final NUL of the file
	 * is not counted, so "a\0b" has length 3 like an exec record. */
	char args[SHK_ARGS_MAX];
	size_t args_len;
	char env[SHK_ENV_MAX];
	size_t env_len;
};

/*
 * Read <proc_root>/<pid> into *ret (proc_root NULL means "/proc").
 * All files are opened relative to one handle on the pid directory, so they
 * describe one process even if the pid is reused meanwhile.
 *
 * Returns 0, -EINVAL for bad arguments or an unparseable stat, -ENOENT (or
 * -ESRCH, -EACCES ...) when the process or its stat cannot be read. *ret is
 * written only on success. Missing optional pieces are not errors; see
 * ret->have.
 */
int shk_procfs_read(const char *proc_root, int pid, struct shk_proc_info *ret);

/*
 * Call cb for each numeric entry of proc_root (a pid). cb returns 0 to go
 * on; any other value stops the walk and is returned. Returns 0 after the
 * last entry, or -errno when proc_root cannot be read.
 */
int shk_procfs_for_each_pid(const char *proc_root,
			    int (*cb)(int pid, void *ctx), void *ctx);

/* Parse one stat line (exposed for tests and fuzzing). Fills tgid, ppid,
 * comm, state, tty_nr, flags, start_ticks and is_kthread. Returns 0 or
 * -EINVAL. */
int shk_procfs_parse_stat(const char *buf, size_t len,
			  struct shk_proc_info *info);

/* Classify the target of a /proc/PID/fd/N link ("pipe:[12]",
 * "anon_inode:[eventfd]", "/dev/null", ...) without touching the file.
 * Absolute paths map to SHK_FD_FILE; callers that can stat refine it. */
enum shk_fd_type shk_procfs_fd_type(const char *link);

#endif /* SHRIKE_PROCFS_H */
