/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Freezing: a cgroup (v2 cgroup.freeze, v1 freezer.state as fallback), or
 * a lone process, which is first moved into a quarantine cgroup of its own
 * that shrike creates under the hierarchy root:
 *   <root>/shrike.quarantine/<pid>-<start ticks>
 *
 * Freezing waits, bounded, until the kernel reports the cgroup frozen: on
 * v2 by poll(POLLPRI) on cgroup.events, on v1 by re-reading freezer.state
 * (which is what advances the v1 freezer; it has no notification).
 */
#ifndef SHRIKE_RESPOND_FREEZE_H
#define SHRIKE_RESPOND_FREEZE_H

#include <stdbool.h>

#include "cgroup.h"
#include "kill.h"

#define SHK_FREEZE_TIMEOUT_MS 100 /* default budget */
#define SHK_QUARANTINE_DIR "shrike.quarantine"

struct shk_safety;

/*
 * Freeze the cgroup at path (and its subtree) after the safety check and
 * wait up to timeout_ms (<= 0: SHK_FREEZE_TIMEOUT_MS) for it to be frozen.
 * Returns 0; -ETIMEDOUT when the kernel has not finished in time (the
 * freeze stays requested: fail closed, it completes when the stragglers
 * leave the kernel); -EPERM when refused; -errno.
 */
int shk_freeze_cgroup(const struct shk_safety *s, const char *path,
		      int timeout_ms);

/* Thaw the cgroup at path and wait (bounded) until it is. No safety
 * check: thawing only ever undoes. 0, -ETIMEDOUT, -errno. */
int shk_thaw_cgroup(const char *path, int timeout_ms);

/* 1 when the cgroup at path is frozen, 0 when not (or freezing), -errno. */
int shk_cgroup_frozen(const char *path);

/* What shk_freeze_process() did, for the caller to record and undo. */
struct shk_frozen {
	char cgroup[SHK_CGROUP_PATH_MAX]; /* the quarantine cgroup (absolute) */
	char origin[SHK_CGROUP_PATH_MAX]; /* where the process was before */
	int pid;
	uint64_t start_ticks;
	bool v1; /* the v1 freezer hierarchy was used */
};

/*
 * Move the process ref names into its own quarantine cgroup and freeze it
 * there (on v2 the cgroup is frozen before the move, so the process stops
 * the moment it arrives). mounts picks the hierarchy: v2, else the v1
 * freezer. Fills *ret on success.
 * Returns 0, -ETIMEDOUT (frozen not yet confirmed; *ret is filled: the
 * caller owns the quarantine), -EPERM, -ESTALE, -ESRCH, -ENOENT (no
 * hierarchy), -errno.
 */
int shk_freeze_process(const struct shk_safety *s,
		       const struct shk_cgroup_mounts *mounts,
		       const struct shk_pidref *ref, int timeout_ms,
		       struct shk_frozen *ret);

/*
 * Undo shk_freeze_process(): thaw, move the members back to the origin
 * cgroup (the hierarchy root when it is gone), remove the quarantine.
 * Returns 0 or the first -errno (it goes on after errors).
 */
int shk_release_process(const struct shk_cgroup_mounts *mounts,
			const struct shk_frozen *f, int timeout_ms);

/* Internal to respond/: fd-level freezing for kill.c. */
int shk_freeze_fd(int dfd, bool freeze, int timeout_ms);

#endif /* SHRIKE_RESPOND_FREEZE_H */
