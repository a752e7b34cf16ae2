/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The decoded, validated view of one kernel record (see bpf/shrike_abi.h).
 *
 * shk_decode() fills a struct shk_event from raw ring-buffer bytes. After a
 * successful decode every string view is in bounds and NUL-terminated, and
 * every fixed-size part is present, so consumers never check sizes again.
 * Views point into the record (or into the event's own storage for joined
 * paths): they live as long as the record and the event.
 */
#ifndef SHRIKE_EVENT_H
#define SHRIKE_EVENT_H

#include <stddef.h>
#include <stdint.h>
#include "shrike_abi.h"

/* Enough string slots for every record type. */
#define SHK_EV_NSTR 7
_Static_assert((int)SHK_EV_NSTR >= (int)SHK_EXEC_NSTR && (int)SHK_EV_NSTR >= (int)SHK_SYS_NSTR,
	       "SHK_EV_NSTR too small");

struct shk_strv {
	const char *p; /* NUL-terminated; NULL when absent */
	size_t len;    /* bytes, without the NUL (may contain NULs: argv, env) */
};

struct shk_event {
	enum shk_event_type type;
	const struct shk_hdr *hdr;
	const struct shk_task *task; /* NULL for SHK_EV_EXIT */
	union {
		const struct shk_exec *exec;
		const struct shk_fork *fork;
		const struct shk_exit *exit;
		const struct shk_syscall *sys;
	};
	/* String slots: enum shk_exec_str for exec, enum shk_sys_str for
	 * syscalls. */
	struct shk_strv str[SHK_EV_NSTR];
	/* Syscalls only: the absolute, lexically normalised form of the first
	 * and second path arguments (RAW joined to BASE when relative). Equal
	 * to SHK_SYS_PATH when the kernel resolved one. */
	struct shk_strv path;
	struct shk_strv path2;
	char path_buf[2 * SHK_PATH_MAX + 2];
	char path2_buf[2 * SHK_PATH_MAX + 2];
};

#endif /* SHRIKE_EVENT_H */
