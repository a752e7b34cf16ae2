/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Killing: one process, a process tree, or a cgroup.
 *
 * A process is named by a reference, pid plus start time, never by a bare
 * pid: a pid is recycled once its process is reaped, and a signal sent by
 * number after that would hit a stranger. We open a pidfd as early as
 * possible, check that the process behind it started when the reference
 * says, and signal through the pidfd from then on.
 *
 * Every action that picks its targets takes a struct shk_safety and
 * refuses (-EPERM) what it refuses. Counts returned are of processes a
 * signal was delivered to.
 */
#ifndef SHRIKE_RESPOND_KILL_H
#define SHRIKE_RESPOND_KILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgroup.h"

struct shk_safety;

/* The unit of struct shk_pidref.start. */
enum shk_start_unit {
	SHK_START_NONE = 0,   /* unknown: refused, we never act on a bare pid */
	SHK_START_TICKS,      /* /proc/PID/stat field 22, clock ticks */
	SHK_START_BOOTTIME_NS /* struct shk_task.start_ns (CLOCK_BOOTTIME) */
};

/* A process as of one moment: pid and when its thread group started. */
struct shk_pidref {
	int pid;
	enum shk_start_unit unit;
	uint64_t start;
};

/* The few /proc/PID/stat facts the actions and safety checks use. */
struct shk_pidstat {
	int pid;
	int ppid;
	char state;
	uint32_t flags; /* PF_* */
	uint64_t start_ticks;
	char comm[16];
};

/* Read <proc_root>/<pid>/stat (proc_root NULL: "/proc"). 0 or -errno. */
int shk_pidstat_read(const char *proc_root, int pid, struct shk_pidstat *ret);

/* A reference to pid as it is now (start in ticks). 0 or -errno. */
int shk_pidref_now(int pid, struct shk_pidref *ret);

/* Does the start time st (ticks, as procfs has it) match ref? Boottime ns
 * are compared at tick granularity, which is all procfs keeps. */
bool shk_pidref_matches(const struct shk_pidref *ref, uint64_t start_ticks);

/*
 * Open a pidfd on the process ref names, verified: the pidfd is taken
 * first, then /proc/PID/stat is compared with ref, then the pidfd is
 * checked to be still alive (so the stat we read was its own).
 *
 * Returns the pidfd (O_CLOEXEC), -ESTALE when pid now names another
 * process, -ESRCH when it is gone (or a zombie), -EINVAL for a reference
 * without a start time, -errno.
 */
int shk_pidref_open(const struct shk_pidref *ref);

/* Is the process behind pidfd still running (not exited, not a zombie)? */
bool shk_pidfd_alive(int pidfd);

/* pidfd_send_signal(). 0 or -errno. */
int shk_kill_pidfd(int pidfd, int sig);

/*
 * Signal the process ref names after the safety check. Returns 1 (one
 * process signalled), -EPERM when refused, or the errors of
 * shk_pidref_open().
 */
int shk_kill_process(const struct shk_safety *s, const struct shk_pidref *ref,
		     int sig);

/*
 * Signal the process ref names and all its descendants, so that none can
 * escape by forking meanwhile. With a cgroup hierarchy (v2, or the v1
 * freezer), the tree is moved into a quarantine cgroup that is frozen
 * first, so each process stops as it arrives; then every member is
 * signalled, the cgroup thawed, and removed once empty. Without one, the
 * tree is SIGSTOPped top-down until no new process appears, then signalled.
 *
 * The root and the descendants present at the start are safety-checked
 * before anything is touched; one refusal refuses the whole action.
 * Known limit: a process that double-forked and whose parent died before
 * we looked has been reparented and is no longer a descendant; a cgroup
 * scope (shk_kill_cgroup) does not have that gap.
 *
 * Returns the number of processes signalled, -EPERM, -ESTALE, -ESRCH, or
 * -errno. mounts may be NULL (no cgroups).
 */
int shk_kill_tree(const struct shk_safety *s,
		  const struct shk_cgroup_mounts *mounts,
		  const struct shk_pidref *root, int sig, int timeout_ms);

/*
 * Signal every process in the cgroup at path and below. For SIGKILL on a
 * v2 cgroup with cgroup.kill, that one write does it atomically; otherwise
 * the cgroup is frozen, each member signalled through a pidfd, and thawed.
 * Waits (bounded by timeout_ms, <= 0: 1000 ms) for a killed cgroup to
 * empty. Returns the number of processes signalled, -EPERM, -errno.
 */
int shk_kill_cgroup(const struct shk_safety *s,
		    const struct shk_cgroup_mounts *mounts, const char *path,
		    int sig, int timeout_ms);

#endif /* SHRIKE_RESPOND_KILL_H */
