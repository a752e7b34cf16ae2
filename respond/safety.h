/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Safety rails of the response engine (DESIGN.md section 4): which
 * processes and cgroups must never be acted upon, a per-rule rate limiter
 * and a global circuit breaker.
 *
 * The rails fail closed: when we cannot tell whether a target is safe (its
 * stat is unreadable, its cgroup is outside what we can see), the answer
 * is "refused", never "go ahead".
 */
#ifndef SHRIKE_RESPOND_SAFETY_H
#define SHRIKE_RESPOND_SAFETY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgroup.h"

#define SHK_SAFETY_REASON_MAX 128
/* How far we follow shrike's parent chain (a loop guard, not a limit any
 * real process tree reaches). */
#define SHK_SAFETY_MAX_ANCESTORS 256

/* shk_safety_protect() flags. */
/* Only when the process's parent is PID 1: "sshd" protects the listener,
 * not the per-connection sshd processes an intruder's shell hangs off. */
#define SHK_PROTECT_PARENT_INIT (1u << 0)

struct shk_safety;

/*
 * A safety context with the default protect list (systemd, kubelet,
 * containerd, containerd-shim*, dockerd, crio, and sshd whose parent is
 * PID 1). mounts (may be NULL: no cgroup is then acceptable) is copied for
 * the cgroup checks. proc_root NULL means "/proc".
 * Returns NULL with errno set on failure.
 */
struct shk_safety *shk_safety_new(const struct shk_cgroup_mounts *mounts,
				  const char *proc_root);
void shk_safety_free(struct shk_safety *s);

/* Drop every protect entry, the defaults included. */
void shk_safety_protect_clear(struct shk_safety *s);
/*
 * Protect processes whose comm or exe basename matches pattern (an
 * fnmatch(3) glob such as "containerd-shim*"). flags: SHK_PROTECT_*.
 * Returns 0, -EINVAL, -ENOMEM.
 */
int shk_safety_protect(struct shk_safety *s, const char *pattern,
		       unsigned int flags);

/*
 * Pure matching, exposed for tests: does a process with this comm, exe
 * path (may be NULL or "") and parent match the protect list? The matched
 * pattern goes to *ret_pattern when non-NULL.
 */
bool shk_safety_is_protected(const struct shk_safety *s, const char *comm,
			     const char *exe, int ppid,
			     const char **ret_pattern);

/*
 * May we act on process pid? Refuses PID 1, kernel threads (PF_KTHREAD, or
 * a child of kthreadd), shrike itself (getpid()) and each of its ancestors,
 * and protected processes.
 *
 * Returns 0 when allowed; -EPERM when refused, with a reason in reason
 * (size bytes; may be NULL); any other -errno (-ESRCH: no such process)
 * when it could not be decided, which callers must treat as refused.
 */
int shk_safety_check(const struct shk_safety *s, int pid, char *reason,
		     size_t size);

/*
 * May we freeze or kill the cgroup at path (absolute, under one of the
 * mounts given to shk_safety_new())? Both act on the whole subtree, so we
 * refuse a hierarchy's root, and any cgroup that holds - itself or below -
 * PID 1, shrike or one of its ancestors. Same returns as above.
 */
int shk_safety_check_cgroup(const struct shk_safety *s, const char *path,
			    char *reason, size_t size);

/*
 * Per-rule token bucket: rate tokens per second, at most burst stored.
 * Pure logic; the caller passes the time (any monotonic ns clock), which
 * is also how tests inject one.
 */
struct shk_bucket {
	uint32_t rate;    /* tokens per second; 0: nothing is ever allowed */
	uint32_t burst;   /* capacity */
	uint64_t nano;    /* stored tokens, in 1e-9 token */
	uint64_t last_ns; /* time of the last refill */
	uint64_t denied;  /* actions refused, for stats */
};

void shk_bucket_init(struct shk_bucket *b, uint32_t rate, uint32_t burst,
		     uint64_t now_ns);
/* Take one token: true when the action may go ahead. */
bool shk_bucket_take(struct shk_bucket *b, uint64_t now_ns);

/*
 * Global circuit breaker: more than limit actions within window_ns trips
 * it, and a tripped breaker refuses everything for cooldown_ns (then it
 * closes again with fresh counts). A limit of 0 refuses everything. The
 * rate is a sliding-window estimate (the previous window weighted by its
 * remaining overlap), so a burst straddling a window boundary cannot slip
 * through at twice the limit.
 */
struct shk_breaker {
	uint32_t limit;
	uint64_t window_ns;
	uint64_t cooldown_ns;
	uint64_t win_start; /* start of the current window */
	uint32_t cur, prev; /* actions in the current / previous window */
	bool tripped;
	uint64_t tripped_at;
	uint64_t trips;  /* times it tripped, for stats */
	uint64_t denied; /* actions refused */
};

void shk_breaker_init(struct shk_breaker *b, uint32_t limit,
		      uint64_t window_ns, uint64_t cooldown_ns,
		      uint64_t now_ns);
/* Count one action: true when it may go ahead, false when the breaker is
 * (or just became) tripped. */
bool shk_breaker_allow(struct shk_breaker *b, uint64_t now_ns);
/* Whether it is tripped at now_ns (closing it when the cooldown is over). */
bool shk_breaker_tripped(struct shk_breaker *b, uint64_t now_ns);
/* Close it by hand (an operator's "resume"). */
void shk_breaker_reset(struct shk_breaker *b, uint64_t now_ns);

/* CLOCK_MONOTONIC in ns: the clock production passes to the above. */
uint64_t shk_safety_now_ns(void);

#endif /* SHRIKE_RESPOND_SAFETY_H */
