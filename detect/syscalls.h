/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The syscalls shrike understands: their argument layout (enum shk_sys_kind)
 * and argument names and formats. Numbers come from libseccomp for the
 * native architecture; nothing here hard-codes a syscall number.
 */
#ifndef SHRIKE_SYSCALLS_H
#define SHRIKE_SYSCALLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "shrike_abi.h"

enum shk_arg_fmt {
	SHK_A_NONE = 0,
	SHK_A_INT,
	SHK_A_UINT,
	SHK_A_HEX,
	SHK_A_FD,
	SHK_A_OPEN_FLAGS,
	SHK_A_MODE,
	SHK_A_UID,
	SHK_A_GID,
	SHK_A_PID,
	SHK_A_SIGNAL,
	SHK_A_PTRACE_REQ,
	SHK_A_DOMAIN,
	SHK_A_SOCKTYPE,
	SHK_A_CLONE_FLAGS,
	SHK_A_PRCTL_OPT,
	SHK_A_BPF_CMD,
	SHK_A_AT_FLAGS,
	SHK_A_MOUNT_FLAGS,
	SHK_A_MEMFD_FLAGS,
};

struct shk_sys_arg {
	const char *name; /* Falco's parameter name, e.g. "flags" */
	uint8_t idx;      /* index into shk_syscall.args */
	uint8_t fmt;      /* enum shk_arg_fmt */
};

#define SHK_SYS_MAX_ARGS 6

struct shk_sys_desc {
	const char *name;
	uint8_t kind;     /* enum shk_sys_kind */
	uint8_t interest; /* SHK_INTEREST_* */
	struct shk_sys_arg args[SHK_SYS_MAX_ARGS];
};

/* Every syscall the sensors can capture, in a stable order. */
const struct shk_sys_desc *shk_syscalls(size_t *ret_count);
/* By name (NULL if shrike does not capture it). */
const struct shk_sys_desc *shk_syscall_by_name(const char *name);
/* By native number; NULL if unknown or not captured. The mapping is built
 * with libseccomp on first use. */
const struct shk_sys_desc *shk_syscall_by_nr(int nr);
/* Native number of a syscall name, or -ENOENT (libseccomp). */
int shk_syscall_nr(const char *name);

#endif
