/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The seccomp filter `shrike run` installs on itself after start-up.
 *
 * What is allowed is what the running daemon does: the event loop (epoll,
 * signalfd, timerfd, the ring buffer's mmap'd pages), the process table and
 * container metadata (/proc and runtime state files: openat, getdents64,
 * readlinkat, getxattr), the executor (pidfd kills, cgroup.freeze/kill and
 * cgroup.procs writes, mkdir/rmdir of quarantine cgroups, libnl netlink
 * sockets in the target's network namespace, BPF map and link operations
 * for isolate), the outputs (libcurl and OpenSSL sockets, syslog's datagram
 * socket, file rotation), the metrics listener (libmicrohttpd: accept,
 * poll/epoll, eventfd), the control socket (SO_PEERCRED), the state files
 * (rename, fsync, flock), hot reload (inotify) and a Kubernetes API client
 * (TCP + TLS, like the http output).
 *
 * Everything else fails with EPERM, and a short list of syscalls that only
 * an attacker would make kills the process.
 *
 * Why EPERM and not a kill for the rest: shrike must keep alerting and
 * enforcing. A syscall a library starts to use after an upgrade (glibc,
 * libcurl, OpenSSL) then fails with an error its caller already handles
 * (an output retries, an action reports "failed") instead of taking the
 * agent down. A trap with a counting SIGSYS handler was considered and
 * rejected: every worker thread blocks all signals (outputs, executor,
 * metrics), and the kernel turns a trap in a thread that blocks SIGSYS
 * into a fatal signal for the whole process. The filter is installed with
 * SECCOMP_FILTER_FLAG_LOG, so the kernel's audit log records every refusal
 * and kill.
 *
 * Why the kill list kills: ptrace, process_vm_*, module loading, kexec,
 * reboot, raw I/O ports, swap, pivot_root and open_by_handle_at have no
 * use in shrike or in any library it links; a thread making one is running
 * an attacker's code, and a dead agent (restarted by its supervisor) is
 * safer than a hijacked root process. 32-bit and x32 syscalls kill too
 * (shrike is a native x86_64 binary).
 *
 * The risky entries, and why they stay:
 * - bpf: isolate with an allow-list loads its cgroup programs on demand
 *   (BPF_PROG_LOAD, BPF_LINK_CREATE, pinning), releases adopt pinned links,
 *   kernel deny tables are map updates. It is the most powerful call left;
 *   the commands cannot be narrowed without breaking on-demand isolation.
 * - execve/execveat, clone/fork/vfork: the `exec:` action (executor.c,
 *   a double fork then /bin/sh) and the `program` output (posix_spawn)
 *   start commands, and a hot reload may add either at any time, so exec
 *   cannot be decided once at start-up. Those commands inherit this filter
 *   (seccomp survives fork and execve, and no_new_privs is set): they
 *   cannot load modules, ptrace, mount, reboot or change namespaces
 *   either. A command that needs more must hand the work to a service.
 * - clone is allowed only without namespace flags; clone3 (whose flags
 *   live in memory the filter cannot read) fails with ENOSYS, so glibc
 *   falls back to clone.
 * - setns only into a network namespace (netns.c opens its netlink socket
 *   in the target's netns from a short-lived thread).
 * - socket only for AF_UNIX (control, syslog), AF_INET/AF_INET6 (http,
 *   slack, metrics, Kubernetes) and AF_NETLINK (libnl); no packet sockets.
 * - prctl only for thread names, the parent-death signal, no_new_privs,
 *   dumpable and the capability bounding set (reading it, dropping from it).
 * - prlimit64 only on shrike itself (pid 0): getrlimit/setrlimit.
 * - kill/tgkill/pidfd_send_signal: the kill action (safety rails decide
 *   whom; the kernel cannot).
 * - mkdir/rmdir/rename/unlink/chmod: quarantine cgroups, state files,
 *   the control socket, file outputs' rotation.
 * Not allowed, on purpose: mount and the new mount API, unshare, memfd_create
 * (fileless exec), perf_event_open (the sensors are attached before), chown,
 * link/symlink, io_uring, userfaultfd, keyctl, setuid and friends.
 */
#include "harden.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/capability.h>
#include <seccomp.h>
#include <sys/syscall.h>

/* Allowed whatever their arguments. */
static const char *const allow_any[] = {
	/* memory, threads, time, signals */
	"brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "msync",
	"futex", "set_robust_list", "rseq", "set_tid_address", "arch_prctl",
	"sched_yield", "sched_getaffinity", "getcpu", "getrandom",
	/* the real-time guard (realtime.h) moves its threads between
	 * SCHED_FIFO and SCHED_OTHER */
	"sched_setscheduler", "sched_getscheduler", "sched_getparam",
	"clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep", "gettimeofday", "time",
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigtimedwait", "rt_sigpending",
	"rt_sigsuspend", "sigaltstack", "restart_syscall", "pause", "alarm", "getitimer",
	"setitimer", "exit", "exit_group",
	/* identity and limits (read-only) */
	"getpid", "gettid", "getppid", "getuid", "geteuid", "getgid", "getegid", "getgroups",
	"getresuid", "getresgid", "getpgrp", "getpgid", "getsid", "setsid", "setpgid", "capget",
	"uname", "sysinfo", "getrusage", "times", "umask",
	/* processes: the exec action, the program output, kill actions */
	"fork", "vfork", "execve", "execveat", "wait4", "waitid",
	"kill", "tgkill", "tkill", "pidfd_open", "pidfd_send_signal",
	/* the event loop */
	"epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2",
	"poll", "ppoll", "select", "pselect6", "eventfd", "eventfd2", "signalfd", "signalfd4",
	"timerfd_create", "timerfd_settime", "timerfd_gettime",
	"inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch",
	/* files: /proc, cgroupfs, bpffs, state, outputs, container metadata */
	"read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev",
	"preadv2", "pwritev2", "lseek", "close", "close_range", "open", "openat", "openat2",
	"fstat", "stat", "lstat", "newfstatat", "statx", "statfs", "fstatfs", "access",
	"faccessat", "faccessat2", "readlink", "readlinkat", "getdents", "getdents64", "fcntl",
	"flock", "fsync", "fdatasync", "ftruncate", "rename", "renameat", "renameat2", "unlink",
	"unlinkat", "mkdir", "mkdirat", "rmdir", "chmod", "fchmod", "fchmodat", "getcwd", "chdir",
	"fchdir", "dup", "dup2", "dup3", "pipe", "pipe2", "ioctl", "getxattr", "lgetxattr",
	"fgetxattr", "fadvise64", "copy_file_range", "sendfile",
	/* sockets (socket() itself is checked below) */
	"socketpair", "connect", "bind", "listen", "accept", "accept4", "getsockname",
	"getpeername", "getsockopt", "setsockopt", "sendto", "recvfrom", "sendmsg", "recvmsg",
	"sendmmsg", "recvmmsg", "shutdown",
	/* BPF maps and links (see above) */
	"bpf",
	NULL,
};

/* Only an attacker calls these: the process dies. */
static const char *const kill_any[] = {
	"ptrace", "process_vm_readv", "process_vm_writev", "kexec_load", "kexec_file_load",
	"init_module", "finit_module", "delete_module", "reboot", "iopl", "ioperm", "swapon",
	"swapoff", "pivot_root", "open_by_handle_at",
	NULL,
};

#define NS_FLAGS                                                                       \
	(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | \
	 CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWTIME)

static const int socket_families[] = { AF_UNIX, AF_INET, AF_INET6, AF_NETLINK };

static const int prctl_options[] = {
	PR_SET_NAME, PR_GET_NAME, PR_SET_PDEATHSIG, PR_GET_PDEATHSIG, PR_SET_NO_NEW_PRIVS,
	PR_GET_NO_NEW_PRIVS, PR_GET_DUMPABLE, PR_SET_DUMPABLE, PR_CAPBSET_READ, PR_CAPBSET_DROP,
};

/* Add one rule for a syscall by name; a name this architecture does not
 * have is skipped. Counts what was added. */
static int add(scmp_filter_ctx ctx, uint32_t action, const char *name, uint32_t *count,
	       unsigned nargs, const struct scmp_arg_cmp *args)
{
	int nr = seccomp_syscall_resolve_name(name);
	int err;

	if (nr == __NR_SCMP_ERROR)
		return 0;
	err = seccomp_rule_add_array(ctx, action, nr, nargs, args);
	if (err)
		return err;
	(*count)++;
	return 0;
}

static int build(scmp_filter_ctx ctx, struct harden_info *info)
{
	struct scmp_arg_cmp a;
	uint32_t dummy = 0;
	int err = 0;

	for (const char *const *s = allow_any; !err && *s; s++)
		err = add(ctx, SCMP_ACT_ALLOW, *s, &info->allowed, 0, NULL);
	for (const char *const *s = kill_any; !err && *s; s++)
		err = add(ctx, SCMP_ACT_KILL_PROCESS, *s, &info->killed, 0, NULL);
	a = SCMP_A0(SCMP_CMP_MASKED_EQ, NS_FLAGS, 0);
	if (!err)
		err = add(ctx, SCMP_ACT_ALLOW, "clone", &info->allowed, 1, &a);
	if (!err)
		err = add(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", &dummy, 0, NULL);
	a = SCMP_A1(SCMP_CMP_EQ, CLONE_NEWNET);
	if (!err)
		err = add(ctx, SCMP_ACT_ALLOW, "setns", &info->allowed, 1, &a);
	a = SCMP_A0(SCMP_CMP_EQ, 0);
	if (!err)
		err = add(ctx, SCMP_ACT_ALLOW, "prlimit64", &info->allowed, 1, &a);
	for (size_t i = 0; !err && i < sizeof(socket_families) / sizeof(socket_families[0]); i++) {
		a = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)socket_families[i]);
		err = add(ctx, SCMP_ACT_ALLOW, "socket", i ? &dummy : &info->allowed, 1, &a);
	}
	for (size_t i = 0; !err && i < sizeof(prctl_options) / sizeof(prctl_options[0]); i++) {
		a = SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)prctl_options[i]);
		err = add(ctx, SCMP_ACT_ALLOW, "prctl", i ? &dummy : &info->allowed, 1, &a);
	}
	return err;
}

int harden_apply(struct harden_info *ret_info)
{
	struct harden_info info = { 0 };
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	int err;

	if (!ctx)
		return -ENOMEM;
	/* every thread (outputs, executor, metrics) at once, or none */
	err = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (!err)
		err = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	/* refusals and kills go to the audit log; a kernel without the
	 * flag still gets the filter */
	if (!err)
		seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
	if (!err)
		err = build(ctx, &info);
	if (!err)
		err = seccomp_load(ctx);
	seccomp_release(ctx);
	if (err)
		return err < 0 ? err : -EINVAL;
	if (ret_info)
		*ret_info = info;
	return 0;
}

/*
 * Capabilities kept: loading and running the BPF sensors, deny programs
 * and isolation (BPF, PERFMON, SYS_ADMIN, NET_ADMIN, SYS_RESOURCE and
 * IPC_LOCK for locked memory, MAC_ADMIN for BPF-LSM on kernels that ask
 * for it, SYSLOG for kernel symbol addresses), every process's /proc and
 * namespaces (SYS_PTRACE, DAC_READ_SEARCH), cgroup and state files owned
 * by others (DAC_OVERRIDE, FOWNER), kill actions (KILL) and a metrics port
 * below 1024 (NET_BIND_SERVICE). Everything else goes, SETPCAP last.
 */
static const int caps_keep[] = {
	CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_KILL, CAP_NET_ADMIN,
	CAP_NET_BIND_SERVICE, CAP_IPC_LOCK, CAP_SYS_PTRACE, CAP_SYS_ADMIN, CAP_SYS_RESOURCE,
	CAP_MAC_ADMIN, CAP_SYSLOG, CAP_PERFMON, CAP_BPF,
};

static int cap_last(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int last = CAP_LAST_CAP;

	if (f) {
		if (fscanf(f, "%d", &last) != 1 || last < 0 || last > 63)
			last = CAP_LAST_CAP;
		fclose(f);
	}
	return last;
}

int harden_drop_caps(uint64_t also_keep, uint32_t *ret_dropped)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	uint64_t keep = also_keep, had;
	uint32_t n = 0;
	int last = cap_last();

	for (size_t i = 0; i < sizeof(caps_keep) / sizeof(caps_keep[0]); i++)
		keep |= 1ull << caps_keep[i];
	if (syscall(SYS_capget, &h, d))
		return -errno;
	had = d[0].permitted | (uint64_t)d[1].permitted << 32;
	/* nothing to inherit through exec; an old kernel has no ambient set */
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	for (int c = 0; c <= last; c++) {
		if (keep & (1ull << c) || c == CAP_SETPCAP || prctl(PR_CAPBSET_READ, c, 0, 0, 0) != 1)
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0)) {
			if (errno != EPERM)
				return -errno;
			break; /* no CAP_SETPCAP: the bounding set stays */
		}
	}
	if (prctl(PR_CAPBSET_READ, CAP_SETPCAP, 0, 0, 0) == 1)
		prctl(PR_CAPBSET_DROP, CAP_SETPCAP, 0, 0, 0);
	for (int w = 0; w < 2; w++) {
		uint32_t k = (uint32_t)(keep >> (32 * w));

		d[w].effective &= k;
		d[w].permitted &= k;
		d[w].inheritable &= k;
	}
	if (syscall(SYS_capset, &h, d))
		return -errno;
	for (int c = 0; c <= last; c++)
		n += (had >> c & 1) && !(keep >> c & 1);
	if (ret_dropped)
		*ret_dropped = n;
	return 0;
}

int harden_mode(int pid)
{
	char path[64], line[256];
	int mode = -ENOENT;
	FILE *f;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/status", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Seccomp:", 8)) {
			mode = atoi(line + 8);
			break;
		}
	fclose(f);
	return mode;
}
