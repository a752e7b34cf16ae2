/* SPDX-License-Identifier: Apache-2.0 */
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <netlink/cache.h>
#include <netlink/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/addr.h>
#include <netlink/netfilter/nfnl.h>
#include <netlink/netfilter/ct.h>

int shk_nlerr_to_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case 0: return 0;
	case NLE_INTR: return -EINTR;
	case NLE_BAD_SOCK: return -EBADF;
	case NLE_AGAIN: return -EAGAIN;
	case NLE_NOMEM: return -ENOMEM;
	case NLE_EXIST: return -EEXIST;
	case NLE_INVAL: return -EINVAL;
	case NLE_RANGE: return -ERANGE;
	case NLE_MSGSIZE: return -EMSGSIZE;
	case NLE_OPNOTSUPP: return -EOPNOTSUPP;
	case NLE_AF_NOSUPPORT: return -EAFNOSUPPORT;
	case NLE_OBJ_NOTFOUND: return -ENOENT;
	case NLE_NOATTR: return -ENOENT;
	case NLE_NOACCESS: return -EACCES;
	case NLE_PERM: return -EPERM;
	case NLE_PROTO_MISMATCH: return -EPROTONOSUPPORT;
	case NLE_NOADDR: return -EADDRNOTAVAIL;
	case NLE_BUSY: return -EBUSY;
	case NLE_NODEV: return -ENODEV;
	case NLE_IMMUTABLE: return -EROFS;
	default: return -EIO;
	}
}

const char *shk_ct_outcome_str(enum shk_ct_outcome ct)
{
	switch (ct) {
	case SHK_CT_NOT_TRIED: return "not tried";
	case SHK_CT_FLUSHED: return "flushed";
	case SHK_CT_NO_CONNTRACK: return "skipped: no conntrack";
	case SHK_CT_FAILED: return "failed";
	}
	return "?";
}

static int ns_ino_of(const char *path, uint64_t *ret_ino)
{
	struct stat st;

	if (stat(path, &st))
		return -errno;
	*ret_ino = st.st_ino;
	return 0;
}

int shk_netns_ino(pid_t pid, uint64_t *ret_ino)
{
	char path[64];

	if (pid < 0)
		return -EINVAL;
	if (pid == 0)
		return ns_ino_of("/proc/self/ns/net", ret_ino);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	return ns_ino_of(path, ret_ino);
}

static int route_socket(struct nl_sock **ret)
{
	struct nl_sock *sk = nl_socket_alloc();
	int err;

	if (!sk)
		return -ENOMEM;
	err = nl_connect(sk, NETLINK_ROUTE);
	if (err < 0) {
		nl_socket_free(sk);
		return shk_nlerr_to_errno(err);
	}
	*ret = sk;
	return 0;
}

struct ns_open {
	int nsfd;
	struct nl_sock *sk;
	int err;
};

/* A netlink socket stays bound to the netns it was created in: this thread
 * enters the target netns, opens the socket and exits, taking its changed
 * namespace with it. */
static void *ns_open_thread(void *arg)
{
	struct ns_open *o = arg;

	if (setns(o->nsfd, CLONE_NEWNET)) {
		o->err = -errno;
		return NULL;
	}
	o->err = route_socket(&o->sk);
	return NULL;
}

static int route_socket_in(pid_t pid, struct nl_sock **ret)
{
	struct ns_open o = { .nsfd = -1 };
	char path[64];
	pthread_t t;
	int err;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	o.nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (o.nsfd < 0)
		return -errno;
	err = -pthread_create(&t, NULL, ns_open_thread, &o);
	if (!err)
		err = -pthread_join(t, NULL);
	close(o.nsfd);
	if (!err)
		err = o.err;
	if (err)
		return err;
	*ret = o.sk;
	return 0;
}

static bool is_veth(struct rtnl_link *l)
{
	const char *type = rtnl_link_get_type(l);

	return type && strcmp(type, "veth") == 0;
}

/*
 * The container side of a veth whose peer lives in another netns reports
 * the peer's ifindex (IFLA_LINK) and a netnsid. The host link with that
 * ifindex must itself be a veth pointing back at the container side's
 * ifindex: the cross-check rules out a coincidental ifindex in a third
 * namespace.
 */
static int find_host_veths(struct nl_sock *inner, struct nl_sock *host,
			   struct shk_netns_state *st)
{
	struct nl_cache *links = NULL;
	struct nl_object *o;
	int err;

	err = rtnl_link_alloc_cache(inner, AF_UNSPEC, &links);
	if (err < 0)
		return shk_nlerr_to_errno(err);
	for (o = nl_cache_get_first(links); o; o = nl_cache_get_next(o)) {
		struct rtnl_link *l = (struct rtnl_link *)o, *hl = NULL;
		int32_t nsid;
		int peer;

		if (!is_veth(l) || rtnl_link_get_link_netnsid(l, &nsid) < 0)
			continue;
		peer = rtnl_link_get_link(l);
		if (peer <= 0 || rtnl_link_get_kernel(host, peer, NULL, &hl) < 0)
			continue;
		if (is_veth(hl) && rtnl_link_get_link(hl) == rtnl_link_get_ifindex(l)) {
			struct shk_netns_veth *v;

			if (st->nveth == SHK_NETNS_VETH_MAX) {
				rtnl_link_put(hl);
				err = -E2BIG;
				break;
			}
			v = &st->veth[st->nveth++];
			v->ifindex = peer;
			v->peer_ifindex = rtnl_link_get_ifindex(l);
			snprintf(v->name, sizeof(v->name), "%s", rtnl_link_get_name(hl) ?: "");
			v->was_up = rtnl_link_get_flags(hl) & IFF_UP;
		}
		rtnl_link_put(hl);
	}
	nl_cache_free(links);
	return err < 0 ? err : 0;
}

/* Every address of the target except host-scope ones (loopback), which no
 * other namespace can see in a conntrack tuple of its own. */
static int collect_addrs(struct nl_sock *inner, struct shk_netns_state *st)
{
	struct nl_cache *addrs = NULL;
	struct nl_object *o;
	int err;

	err = rtnl_addr_alloc_cache(inner, &addrs);
	if (err < 0)
		return shk_nlerr_to_errno(err);
	for (o = nl_cache_get_first(addrs); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;
		struct nl_addr *local = rtnl_addr_get_local(a);
		int fam = rtnl_addr_get_family(a);
		unsigned int len;

		if (!local || rtnl_addr_get_scope(a) == RT_SCOPE_HOST)
			continue;
		if (fam != AF_INET && fam != AF_INET6)
			continue;
		len = nl_addr_get_len(local);
		if (len != (fam == AF_INET ? 4u : 16u))
			continue;
		if (st->naddr == SHK_NETNS_ADDR_MAX)
			break; /* the veths are the main cut; flush what fits */
		st->addr[st->naddr].family = fam;
		memcpy(st->addr[st->naddr].addr, nl_addr_get_binary_addr(local), len);
		st->naddr++;
	}
	nl_cache_free(addrs);
	return 0;
}

int shk_netns_inspect(pid_t pid, struct shk_netns_state *ret_state)
{
	struct shk_netns_state st = { 0 };
	struct nl_sock *inner = NULL, *host = NULL;
	uint64_t self_ino = 0;
	int err;

	if (pid <= 0 || !ret_state)
		return -EINVAL;
	err = shk_netns_ino(0, &self_ino);
	if (!err)
		err = shk_netns_ino(pid, &st.netns_ino);
	if (err)
		return err;
	if (st.netns_ino == self_ino)
		return -EXDEV;
	err = route_socket_in(pid, &inner);
	if (!err)
		err = route_socket(&host);
	if (!err)
		err = find_host_veths(inner, host, &st);
	if (!err)
		err = collect_addrs(inner, &st);
	nl_socket_free(inner);
	nl_socket_free(host);
	if (err)
		return err;
	*ret_state = st;
	return 0;
}

static int set_link_up(struct nl_sock *host, const struct shk_netns_veth *v, bool up)
{
	struct rtnl_link *orig = NULL, *change;
	int err;

	err = rtnl_link_get_kernel(host, v->ifindex, NULL, &orig);
	if (err < 0)
		return shk_nlerr_to_errno(err);
	/* ifindexes are reused: act only on the link we saw */
	if (strcmp(rtnl_link_get_name(orig) ?: "", v->name) != 0) {
		rtnl_link_put(orig);
		return -ENODEV;
	}
	change = rtnl_link_alloc();
	if (!change) {
		rtnl_link_put(orig);
		return -ENOMEM;
	}
	if (up)
		rtnl_link_set_flags(change, IFF_UP);
	else
		rtnl_link_unset_flags(change, IFF_UP);
	err = rtnl_link_change(host, orig, change, 0);
	rtnl_link_put(change);
	rtnl_link_put(orig);
	return err < 0 ? shk_nlerr_to_errno(err) : 0;
}

static bool addr_match(struct nl_addr *a, const struct shk_netns_addr *addrs, int naddr)
{
	unsigned int len;

	if (!a)
		return false;
	len = nl_addr_get_len(a);
	for (int i = 0; i < naddr; i++)
		if (nl_addr_get_family(a) == addrs[i].family &&
		    len == (addrs[i].family == AF_INET ? 4u : 16u) &&
		    memcmp(nl_addr_get_binary_addr(a), addrs[i].addr, len) == 0)
			return true;
	return false;
}

static bool ct_match(struct nfnl_ct *ct, const struct shk_netns_addr *addrs, int naddr)
{
	for (int repl = 0; repl <= 1; repl++)
		if (addr_match(nfnl_ct_get_src(ct, repl), addrs, naddr) ||
		    addr_match(nfnl_ct_get_dst(ct, repl), addrs, naddr))
			return true;
	return false;
}

/* Errors that mean "this kernel has no conntrack to talk to": no
 * nfnetlink at all, or no ctnetlink subsystem behind it. */
static bool no_conntrack(int err)
{
	return err == -EPROTONOSUPPORT || err == -EAFNOSUPPORT || err == -EOPNOTSUPP ||
	       err == -ENOENT;
}

int shk_netns_flush_conntrack(const struct shk_netns_addr *addrs, int naddr, int *ret_deleted)
{
	struct nl_sock *sk;
	struct nl_cache *cache = NULL;
	struct nl_object *o;
	int err, deleted = 0;

	if (naddr < 0 || (naddr && !addrs))
		return -EINVAL;
	sk = nl_socket_alloc();
	if (!sk)
		return -ENOMEM;
	err = shk_nlerr_to_errno(nfnl_connect(sk));
	if (!err)
		err = shk_nlerr_to_errno(nfnl_ct_alloc_cache(sk, &cache));
	if (err) {
		nl_socket_free(sk);
		return no_conntrack(err) ? -EOPNOTSUPP : err;
	}
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct nfnl_ct *ct = (struct nfnl_ct *)o;
		int e;

		if (!ct_match(ct, addrs, naddr))
			continue;
		e = shk_nlerr_to_errno(nfnl_ct_del(sk, ct, 0));
		if (!e)
			deleted++;
		else if (e != -ENOENT && !err) /* ENOENT: it expired meanwhile */
			err = e;
	}
	nl_cache_free(cache);
	nl_socket_free(sk);
	if (ret_deleted)
		*ret_deleted = deleted;
	return err;
}

int shk_netns_isolate(pid_t pid, struct shk_netns_state *ret_state)
{
	struct shk_netns_state st;
	struct nl_sock *host = NULL;
	int err;

	if (!ret_state)
		return -EINVAL;
	err = shk_netns_inspect(pid, &st);
	if (!err)
		err = route_socket(&host);
	if (err)
		return err;
	for (int i = 0; i < st.nveth && !err; i++)
		if (st.veth[i].was_up)
			err = set_link_up(host, &st.veth[i], false);
	nl_socket_free(host);
	if (err) {
		/* Fail as a whole: put back up what went down, so that the
		 * state matches the error the caller records. The cgroup BPF
		 * programs, not the veths, are the barrier. */
		shk_netns_release(&st);
		return err;
	}

	err = shk_netns_flush_conntrack(st.addr, st.naddr, &st.ct_deleted);
	if (!err) {
		st.ct = SHK_CT_FLUSHED;
	} else if (err == -EOPNOTSUPP) {
		st.ct = SHK_CT_NO_CONNTRACK; /* nothing tracked, nothing to flush */
	} else {
		st.ct = SHK_CT_FAILED;
		st.ct_err = err;
	}
	*ret_state = st;
	return 0;
}

int shk_netns_release(const struct shk_netns_state *state)
{
	struct nl_sock *host = NULL;
	int err, first = 0;

	if (!state)
		return 0;
	err = route_socket(&host);
	if (err)
		return err;
	for (int i = 0; i < state->nveth; i++) {
		if (!state->veth[i].was_up)
			continue;
		err = set_link_up(host, &state->veth[i], true);
		if (err && err != -ENODEV && !first) /* ENODEV: the pod and its veth are gone */
			first = err;
	}
	nl_socket_free(host);
	return first;
}
