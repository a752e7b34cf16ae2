/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Self-hardening: once `shrike run` is up (sensors attached, outputs,
 * listeners and the control socket open), a libseccomp filter on every
 * thread allows only the syscalls the daemon needs from then on. The list
 * and the reasoning for each risky entry are in harden.c. Before that,
 * while shrike has one thread, it drops the capabilities it never uses.
 */
#ifndef SHRIKE_HARDEN_H
#define SHRIKE_HARDEN_H

#include <stdint.h>

struct harden_info {
	uint32_t allowed; /* syscalls allowed (some with argument checks) */
	uint32_t killed;  /* attack-only syscalls that kill the process */
};

/* Install the filter on every thread of the process (TSYNC); threads and
 * children created later inherit it. Returns 0 (ret_info filled) or a
 * negative errno; nothing is installed on failure. Does not log. */
int harden_apply(struct harden_info *ret_info);

/* Drop, from every capability set of the process and from its bounding
 * set (so commands it starts cannot regain them), the capabilities shrike
 * never uses: module loading, raw I/O, reboot, the clock, setuid/setgid,
 * mknod, chroot, audit, ... It must run while the process has one thread
 * (capabilities are per thread). The bounding set is left alone without
 * CAP_SETPCAP. Returns 0 (ret_dropped: how many) or a negative errno. */
int harden_drop_caps(uint64_t also_keep, uint32_t *ret_dropped);

/* The Seccomp: mode of a process from /proc/PID/status (0 none, 1 strict,
 * 2 filter; pid 0: this process), or a negative errno. */
int harden_mode(int pid);

#endif
