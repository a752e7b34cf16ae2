/* SPDX-License-Identifier: Apache-2.0 */
#include "syscalls.h"

#include <errno.h>
#include <pthread.h>
#include <seccomp.h>
#include <string.h>

#define A(n, i, f) { n, i, SHK_A_##f }
#define X SHK_INTEREST_EXIT
#define XE (SHK_INTEREST_EXIT | SHK_INTEREST_ENTER)

/* Argument names follow Falco's event table so that evt.arg.<name> means
 * the same thing in both. */
static const struct shk_sys_desc descs[] = {
	/* the path itself is in the record's RAW/BASE slots */
	{ "execve", SHK_K_EXECVE, X, { { 0 } } },
	{ "execveat", SHK_K_EXECVEAT, X, { A("dirfd", 0, FD), A("flags", 4, AT_FLAGS) } },
	{ "open", SHK_K_OPEN, X, { A("flags", 1, OPEN_FLAGS), A("mode", 2, MODE) } },
	{ "openat", SHK_K_OPENAT, X, { A("dirfd", 0, FD), A("flags", 2, OPEN_FLAGS), A("mode", 3, MODE) } },
	{ "openat2", SHK_K_OPENAT2, X, { A("dirfd", 0, FD), A("flags", 2, OPEN_FLAGS), A("mode", 3, MODE) } },
	{ "creat", SHK_K_CREAT, X, { A("mode", 1, MODE) } },
	{ "connect", SHK_K_SOCKADDR, X, { A("fd", 0, FD) } },
	{ "accept", SHK_K_ACCEPT, X, { A("fd", 0, FD) } },
	{ "accept4", SHK_K_ACCEPT, X, { A("fd", 0, FD), A("flags", 3, HEX) } },
	{ "bind", SHK_K_SOCKADDR, X, { A("fd", 0, FD) } },
	{ "listen", SHK_K_FD, X, { A("fd", 0, FD), A("backlog", 1, INT) } },
	{ "socket", SHK_K_SOCKET, X, { A("domain", 0, DOMAIN), A("type", 1, SOCKTYPE), A("proto", 2, INT) } },
	{ "sendto", SHK_K_SENDTO, X, { A("fd", 0, FD), A("size", 2, UINT) } },
	{ "sendmsg", SHK_K_FD, X, { A("fd", 0, FD), A("flags", 2, HEX) } },
	{ "recvfrom", SHK_K_SENDTO, X, { A("fd", 0, FD), A("size", 2, UINT) } },
	{ "recvmsg", SHK_K_FD, X, { A("fd", 0, FD), A("flags", 2, HEX) } },
	{ "dup", SHK_K_DUP, X, { A("fd", 0, FD) } },
	{ "dup2", SHK_K_DUP, X, { A("oldfd", 0, FD), A("newfd", 1, FD) } },
	{ "dup3", SHK_K_DUP, X, { A("oldfd", 0, FD), A("newfd", 1, FD), A("flags", 2, OPEN_FLAGS) } },
	{ "symlink", SHK_K_SYMLINK, X, { { 0 } } },
	{ "symlinkat", SHK_K_SYMLINKAT, X, { A("linkdirfd", 1, FD) } },
	{ "link", SHK_K_PATH2, X, { { 0 } } },
	{ "linkat", SHK_K_PATH2AT, X, { A("olddir", 0, FD), A("newdir", 2, FD), A("flags", 4, AT_FLAGS) } },
	{ "unlink", SHK_K_PATH, X, { { 0 } } },
	{ "unlinkat", SHK_K_PATHAT, X, { A("dirfd", 0, FD), A("flags", 2, AT_FLAGS) } },
	{ "rename", SHK_K_PATH2, X, { { 0 } } },
	{ "renameat", SHK_K_PATH2AT, X, { A("olddirfd", 0, FD), A("newdirfd", 2, FD) } },
	{ "renameat2", SHK_K_PATH2AT, X, { A("olddirfd", 0, FD), A("newdirfd", 2, FD), A("flags", 4, HEX) } },
	{ "mkdir", SHK_K_PATH, X, { A("mode", 1, MODE) } },
	{ "mkdirat", SHK_K_PATHAT, X, { A("dirfd", 0, FD), A("mode", 2, MODE) } },
	{ "rmdir", SHK_K_PATH, X, { { 0 } } },
	{ "chmod", SHK_K_PATH, X, { A("mode", 1, MODE) } },
	{ "fchmod", SHK_K_FD, X, { A("fd", 0, FD), A("mode", 1, MODE) } },
	{ "fchmodat", SHK_K_PATHAT, X, { A("dirfd", 0, FD), A("mode", 2, MODE) } },
	{ "setuid", SHK_K_PLAIN, XE, { A("uid", 0, UID) } },
	{ "setgid", SHK_K_PLAIN, XE, { A("gid", 0, GID) } },
	{ "setresuid", SHK_K_PLAIN, XE, { A("ruid", 0, UID), A("euid", 1, UID), A("suid", 2, UID) } },
	{ "setresgid", SHK_K_PLAIN, XE, { A("rgid", 0, GID), A("egid", 1, GID), A("sgid", 2, GID) } },
	{ "ptrace", SHK_K_PLAIN, X, { A("request", 0, PTRACE_REQ), A("pid", 1, PID), A("addr", 2, HEX) } },
	{ "init_module", SHK_K_INIT_MODULE, X, { A("length", 1, UINT) } },
	{ "finit_module", SHK_K_FINIT_MODULE, X, { A("fd", 0, FD), A("flags", 2, HEX) } },
	{ "bpf", SHK_K_PLAIN, X, { A("cmd", 0, BPF_CMD) } },
	{ "memfd_create", SHK_K_MEMFD, X, { A("flags", 1, MEMFD_FLAGS) } },
	{ "mount", SHK_K_MOUNT, X, { A("flags", 3, MOUNT_FLAGS) } },
	{ "umount2", SHK_K_PATH, X, { A("flags", 1, HEX) } },
	{ "unshare", SHK_K_PLAIN, X, { A("flags", 0, CLONE_FLAGS) } },
	{ "setns", SHK_K_FD, X, { A("fd", 0, FD), A("nstype", 1, CLONE_FLAGS) } },
	{ "userfaultfd", SHK_K_PLAIN, X, { A("flags", 0, OPEN_FLAGS) } },
	{ "prctl", SHK_K_PRCTL, X, { A("option", 0, PRCTL_OPT), A("arg2", 1, HEX) } },
	{ "chdir", SHK_K_CHDIR, X, { { 0 } } },
	{ "fchdir", SHK_K_FD, X, { A("fd", 0, FD) } },
	{ "kill", SHK_K_PLAIN, X, { A("pid", 0, PID), A("sig", 1, SIGNAL) } },
	{ "tgkill", SHK_K_PLAIN, X, { A("pid", 0, PID), A("tid", 1, PID), A("sig", 2, SIGNAL) } },
};

#define NDESCS (sizeof(descs) / sizeof(descs[0]))

/* Built once: the mapping is a pure function of the architecture. */
static int16_t by_nr[SHK_SYSCALL_MAX];
static pthread_once_t by_nr_once = PTHREAD_ONCE_INIT;

static void by_nr_init(void)
{
	for (size_t i = 0; i < SHK_SYSCALL_MAX; i++)
		by_nr[i] = -1;
	for (size_t i = 0; i < NDESCS; i++) {
		int nr = seccomp_syscall_resolve_name(descs[i].name);

		if (nr >= 0 && nr < SHK_SYSCALL_MAX)
			by_nr[nr] = (int16_t)i;
	}
}

const struct shk_sys_desc *shk_syscalls(size_t *ret_count)
{
	*ret_count = NDESCS;
	return descs;
}

const struct shk_sys_desc *shk_syscall_by_name(const char *name)
{
	for (size_t i = 0; i < NDESCS; i++)
		if (!strcmp(descs[i].name, name))
			return &descs[i];
	return NULL;
}

const struct shk_sys_desc *shk_syscall_by_nr(int nr)
{
	pthread_once(&by_nr_once, by_nr_init);
	if (nr < 0 || nr >= SHK_SYSCALL_MAX || by_nr[nr] < 0)
		return NULL;
	return &descs[by_nr[nr]];
}

int shk_syscall_nr(const char *name)
{
	int nr = seccomp_syscall_resolve_name(name);

	return nr == __NR_SCMP_ERROR || nr < 0 ? -ENOENT : nr;
}
