/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The process table: what userspace knows about each live thread group.
 *
 * Seeded once from procfs, then kept current from decoded events (fork,
 * exec, exit and a few syscalls). The kernel resolves most context per
 * event already, so the table only holds what an event does not carry:
 * the image, arguments and environment of a process and of its ancestors.
 *
 * The table is bounded. When it is full, an insert evicts the least
 * recently updated entry and counts it; exited processes are removed at
 * once. Lookups, inserts and removals are O(1) on average.
 *
 * Not thread-safe: one owner (the event loop) uses it.
 */
#ifndef SHRIKE_PROCTABLE_H
#define SHRIKE_PROCTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "event.h"

/* Where an entry's image data (exe, args, env) came from. */
enum shk_proc_source {
	SHK_PROC_SRC_PROCFS = 1, /* seeded from procfs */
	SHK_PROC_SRC_FORK,       /* copied from the parent at fork */
	SHK_PROC_SRC_EXEC,       /* from an exec record */
	SHK_PROC_SRC_TASK,       /* only the task fields of some event: no
				  * image data is known */
};

/* A table-owned string. p is NULL when unknown, else NUL-terminated at
 * len; args and env hold NUL-separated strings, so len counts them all. */
struct shk_proc_str {
	char *p;
	size_t len;
};

struct shk_proc {
	int tgid;
	int ppid;
	int vpid; /* tgid in its own pid namespace */
	char comm[SHK_COMM_LEN];
	struct shk_proc_str exe; /* without procfs's " (deleted)" */
	struct shk_proc_str args;
	struct shk_proc_str env;
	struct shk_proc_str cwd;
	struct shk_proc_str cgroup; /* v2 path */
	uint32_t exe_flags;         /* SHK_EXE_* */
	bool exe_deleted;           /* procfs showed the image as deleted */
	bool is_kthread;
	/* start_ns came from procfs, in clock ticks: compare it with an
	 * event's exact start only to that granularity. */
	bool start_coarse;
	uint8_t std_type[3]; /* enum shk_fd_type of fds 0, 1, 2 */
	uint32_t exe_dev;    /* kernel encoding (major << 20 | minor) */
	uint64_t exe_ino;
	uint64_t exe_ctime_ns, exe_mtime_ns;
	uint64_t cgroup_id;
	uint64_t cgroup_path_id; /* the cgroup id `cgroup` names (0: unknown) */
	uint32_t uid, gid, euid, egid, loginuid;
	uint32_t tty;
	uint32_t sid;  /* session id (session leader's tgid) */
	uint32_t pidns, mntns, netns;
	uint64_t cap_eff, cap_prm, cap_inh;
	uint64_t start_ns; /* group leader start, CLOCK_BOOTTIME ns */
	uint64_t exec_ts;  /* when the current image started (event ts);
			    * 0 when not seen */
	enum shk_proc_source source;
};

struct shk_proctable_stats {
	size_t size;        /* entries in use */
	size_t capacity;
	uint64_t evictions; /* live entries dropped to make room */
	uint64_t misses;    /* events about a tgid the table did not hold */
	uint64_t stale;     /* entries replaced because their pid was reused */
};

struct shk_proctable;

/* capacity > 0 entries. NULL with errno set (EINVAL, ENOMEM) on failure. */
struct shk_proctable *shk_proctable_new(size_t capacity);
void shk_proctable_free(struct shk_proctable *pt);

/*
 * Add every process of proc_root (NULL: "/proc"). Processes that vanish
 * during the walk are skipped. An entry already learned from events for
 * the same process is kept: it is fresher. Returns the number of entries
 * added or -errno (the walk could not start, or out of memory).
 */
int shk_proctable_seed(struct shk_proctable *pt, const char *proc_root);

/*
 * Pointers returned below stay valid until the next call that modifies the
 * table (seed, apply, free); do not keep them across events.
 */
const struct shk_proc *shk_proctable_get(struct shk_proctable *pt, int tgid);
/* NULL when unknown, when p is its own parent, or when the entry at ppid
 * started after p (that pid was reused by an unrelated process). */
const struct shk_proc *shk_proctable_parent(struct shk_proctable *pt,
					    const struct shk_proc *p);
/* n = 0: p, n = 1: the parent, ... NULL past the known chain. The walk is
 * bounded by the table size, so a cycle in the table cannot hang it. */
const struct shk_proc *shk_proctable_ancestor(struct shk_proctable *pt,
					      const struct shk_proc *p, int n);

/*
 * Update the table from one decoded event. Returns 0, -EINVAL for an event
 * without the parts its type requires, or -ENOMEM (the table then lacks
 * this update, as it would after an eviction).
 */
int shk_proctable_apply(struct shk_proctable *pt, const struct shk_event *ev);

void shk_proctable_stats(const struct shk_proctable *pt,
			 struct shk_proctable_stats *ret);

/*
 * The container cache (containers.h) that goes with this table's
 * processes, borrowed: the session that owns both attaches it, and field
 * extraction over this table finds it here when its context names none.
 */
struct shk_containers;
void shk_proctable_set_containers(struct shk_proctable *pt, struct shk_containers *c);
struct shk_containers *shk_proctable_containers(const struct shk_proctable *pt);

#endif /* SHRIKE_PROCTABLE_H */
