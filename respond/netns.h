/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The network-namespace half of `isolate`: for a workload in its own netns
 * (a pod), take the host side of its veth pairs down and flush the host's
 * conntrack entries for its addresses, so that nothing already forwarded or
 * NATed on its behalf keeps flowing. The cgroup BPF programs (isolate.h)
 * are the barrier; this is defence in depth, for traffic that never passes
 * a socket of the cgroup (forwarded, bridged, or NATed by the host).
 *
 * All netlink talk goes through libnl (route for links and addresses, nf for
 * conntrack). The target namespace is entered only by a short-lived helper
 * thread that opens a netlink socket there: the caller's threads never
 * change namespace.
 */
#ifndef SHRIKE_RESPOND_NETNS_H
#define SHRIKE_RESPOND_NETNS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <net/if.h>

#define SHK_NETNS_VETH_MAX 8
#define SHK_NETNS_ADDR_MAX 16

/* What happened to the conntrack entries. */
enum shk_ct_outcome {
	SHK_CT_NOT_TRIED = 0,
	SHK_CT_FLUSHED,    /* the table was walked; ct_deleted entries removed */
	SHK_CT_NO_CONNTRACK, /* no conntrack (or ctnetlink) in this kernel: nothing to flush */
	SHK_CT_FAILED,     /* ct_err says why */
};

struct shk_netns_veth {
	int ifindex;          /* host side, in the caller's netns */
	int peer_ifindex;     /* container side, in the target netns */
	char name[IF_NAMESIZE];
	bool was_up;          /* restored to up on release only if it was */
};

struct shk_netns_addr {
	int family;           /* AF_INET or AF_INET6 */
	uint8_t addr[16];     /* network order; IPv4 in the first 4 bytes */
};

/* The state of one cut: enough to undo it. Plain data, may be copied. */
struct shk_netns_state {
	uint64_t netns_ino;   /* the target's netns (nsfs inode) */
	int nveth;
	struct shk_netns_veth veth[SHK_NETNS_VETH_MAX];
	int naddr;
	struct shk_netns_addr addr[SHK_NETNS_ADDR_MAX];
	enum shk_ct_outcome ct;
	int ct_deleted;
	int ct_err;           /* -errno when ct == SHK_CT_FAILED */
};

/* The netns inode of a process (/proc/PID/ns/net); pid 0 means the caller. */
int shk_netns_ino(pid_t pid, uint64_t *ret_ino);

/*
 * Find pid's host-side veth peers and its addresses without changing
 * anything. 0 (possibly with nveth == 0: a netns reached by other means, or
 * none), -EXDEV when pid shares the caller's netns, or -errno.
 */
int shk_netns_inspect(pid_t pid, struct shk_netns_state *ret_state);

/*
 * Inspect, then take every host-side veth down and flush conntrack entries
 * that involve the target's addresses. On success ret_state records what
 * was done. Returns 0, -EXDEV (shared netns: nothing to do) or the first
 * error taking a veth down; a conntrack failure is recorded in ct/ct_err
 * but is not an error of the call (the veths are already down).
 */
int shk_netns_isolate(pid_t pid, struct shk_netns_state *ret_state);

/* Bring back up the veths that were up. A veth that no longer exists (the
 * pod is gone) is not an error. 0 or the first -errno. */
int shk_netns_release(const struct shk_netns_state *state);

/*
 * Delete the caller's-netns conntrack entries whose original or reply
 * tuple has one of addrs as source or destination. 0 with *ret_deleted,
 * -EOPNOTSUPP when the kernel has no conntrack / ctnetlink (callers report
 * "skipped: no conntrack"), or -errno.
 */
int shk_netns_flush_conntrack(const struct shk_netns_addr *addrs, int naddr, int *ret_deleted);

/* "not tried", "flushed", "skipped: no conntrack", "failed" */
const char *shk_ct_outcome_str(enum shk_ct_outcome ct);

/* libnl's negative NLE_* codes as negative errno. */
int shk_nlerr_to_errno(int nlerr);

#endif
