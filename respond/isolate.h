/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `isolate` action: no network in or out for a cgroup v2 subtree.
 *
 * One isolator loads bpf/isolate.bpf.c once and attaches its six programs
 * (skb ingress/egress drop, connect4/6 and sendmsg4/6 deny) to each target
 * cgroup through BPF links; descendants inherit them. Packets of
 * established connections stop at once because the skb programs see every
 * packet of every socket in the cgroup. For targets in their own network
 * namespace (pods), the host side of their veths is also taken down and
 * their conntrack entries flushed (netns.h).
 *
 * Durability (DESIGN.md section 4): with a pin directory on bpffs, the maps
 * and every link are pinned there, so an isolation outlives shrike.
 * shk_isolator_reattach() adopts the links a previous instance left and
 * moves them, atomically, to the programs of the current one.
 *
 * Peers in the allow-list (a forensics host) stay reachable in both
 * directions; the list applies to every cgroup of the isolator.
 */
#ifndef SHRIKE_RESPOND_ISOLATE_H
#define SHRIKE_RESPOND_ISOLATE_H

#include <stdbool.h>
#include <stdint.h>
#include "netns.h"

#define SHK_ISOLATE_PIN_DIR "/sys/fs/bpf/shrike/isolate"
#define SHK_ISOLATE_NETNS_MAX 4 /* distinct foreign netns handled per cgroup */

struct shk_isolator;
struct shk_isolation;

struct shk_isolator_opts {
	/* Peers left reachable: CIDR strings ("192.0.2.7", "10.1.0.0/16",
	 * "2001:db8::/64"), NULL-terminated; NULL for none. */
	const char *const *allow;
	/* Pin directory on bpffs (SHK_ISOLATE_PIN_DIR in production); NULL:
	 * nothing is pinned and every isolation ends with the process. bpffs
	 * is mounted on /sys/fs/bpf if the directory is under it and it is
	 * not mounted yet. */
	const char *pin_dir;
	/* Skip the veth/conntrack part (BPF only). */
	bool no_netns;
	/* shk_isolate_cgroup() does not pin: the caller pins the isolation
	 * (shk_isolation_pin) once it is in force and reported */
	bool defer_pin;
};

/* Counter slots, as bpf/isolate.bpf.c numbers them. */
enum shk_iso_counter {
	SHK_ISO_CNT_INGRESS = 0, /* packets dropped on the way in */
	SHK_ISO_CNT_EGRESS = 1,  /* packets dropped on the way out */
	SHK_ISO_CNT_CONNECT4 = 2, /* connect() refused */
	SHK_ISO_CNT_CONNECT6 = 3,
	SHK_ISO_CNT_SENDMSG4 = 4, /* sendto()/sendmsg() with an address refused */
	SHK_ISO_CNT_SENDMSG6 = 5,
	SHK_ISO_CNT_MAX
};

struct shk_isolator_stats {
	uint64_t count[SHK_ISO_CNT_MAX]; /* summed over CPUs, over all cgroups */
};

/* What one isolation did, for the alert's response record. */
struct shk_isolation_info {
	uint64_t cgroup_id;
	const char *path;    /* cgroupfs path; NULL if unknown (adopted, cgroup gone) */
	bool pinned;
	int nnetns;          /* foreign network namespaces cut */
	const struct shk_netns_state *netns; /* [nnetns] */
	/* 0, or -errno of the netns part. The BPF part holds regardless: the
	 * action has succeeded in its essential part (fail closed). */
	int netns_err;
};

/* Load the programs, (re)use the pinned maps and write the allow-list. NULL
 * with errno set on failure. An invalid CIDR is EINVAL. */
struct shk_isolator *shk_isolator_new(const struct shk_isolator_opts *opts);

/* Free the isolator. Pinned isolations stay in force (durable quarantine);
 * unpinned ones end here. NULL-safe. */
void shk_isolator_free(struct shk_isolator *iso);

/*
 * Isolate a cgroup v2 directory: a path under the v2 mount (discovered in
 * /proc/self/mountinfo), or one relative to the v2 root as /proc/PID/cgroup
 * shows it ("/kubepods.slice/..."). Pinned automatically when the
 * isolator has a pin directory. Returns 0 with *ret_iso set (owned by iso),
 * -EALREADY if this isolator already isolates it, -EPERM if the target is
 * the caller's own cgroup or an ancestor of it (shrike never cuts itself
 * off), -EMEDIUMTYPE if the path is not on cgroup2, or -errno. On error
 * nothing stays attached.
 */
int shk_isolate_cgroup(struct shk_isolator *iso, const char *cgroup_path,
		       struct shk_isolation **ret_iso);

/* Detach, unpin, bring the veths back up and free h (always consumed).
 * Returns 0 or the first -errno. */
int shk_release_cgroup(struct shk_isolator *iso, struct shk_isolation *h);
/* Release the isolations whose cgroup no longer exists (the runtime
 * removed the container): their links detached and unpinned, the dying
 * cgroup let go. Returns how many. */
int shk_isolator_prune(struct shk_isolator *iso);

/* Pin h's links under the pin directory (-EINVAL without one) / remove
 * the pins, after which h ends with the isolator. */
int shk_isolation_pin(struct shk_isolator *iso, struct shk_isolation *h);
int shk_isolation_unpin(struct shk_isolator *iso, struct shk_isolation *h);

/*
 * Adopt the pinned links a previous instance left in the pin directory,
 * move them to this instance's programs (BPF_LINK_UPDATE: atomic, the
 * cgroup is never unprotected), attach any program missing, and drop pins
 * whose cgroup no longer exists. Returns the number of isolations adopted
 * or -errno.
 */
int shk_isolator_reattach(struct shk_isolator *iso);

/* Remove the map pins and the pin directory; -EBUSY while a pinned
 * isolation remains (release it first). */
int shk_isolator_unpin(struct shk_isolator *iso);

/* Lookup and iteration over the isolations iso owns. */
struct shk_isolation *shk_isolator_find(struct shk_isolator *iso, const char *cgroup_path);
struct shk_isolation *shk_isolator_next(struct shk_isolator *iso, struct shk_isolation *prev);

void shk_isolation_get_info(const struct shk_isolation *h, struct shk_isolation_info *ret_info);

int shk_isolator_get_stats(struct shk_isolator *iso, struct shk_isolator_stats *ret_stats);

#endif
