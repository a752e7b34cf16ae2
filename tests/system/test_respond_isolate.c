/* SPDX-License-Identifier: Apache-2.0 */
/*
 * System tier: the `isolate` action against real cgroups, sockets, a
 * network namespace and a veth pair, all made (and removed) by this test.
 * Needs root; exits 77 (skipped) otherwise.
 *
 * Workloads are "agents": forked children placed in runtime-style cgroups
 * (one of them also in the test's netns) that run socket operations on
 * command, over a SOCK_SEQPACKET pair (AF_UNIX: untouched by the programs).
 * Every network peer is a listener of this process on 127.0.0.1, 127.0.0.2
 * or the host side of the test's own 10.200.x.x/30 veth pair.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <netlink/netlink.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/netfilter/nfnl.h>
#include <netlink/netfilter/ct.h>
#include <cmocka.h>

#include "cgroup.h"
#include "isolate.h"
#include "netns.h"
#include "testlib.h"

enum { OP_CONNECT = 1, OP_OPEN, OP_SEND, OP_RECV, OP_CLOSE, OP_SENDTO };

struct cmd {
	int op;
	int port;
	int timeout_ms;
	char addr[48];
};

struct rep {
	int err; /* errno of the operation, 0 on success */
	int n;
};

struct agent {
	pid_t pid;
	int ctl;
};

static struct {
	char cg_root[SHK_CGROUP_PATH_MAX];
	char slice[SHK_CGROUP_PATH_MAX]; /* shk-test-<pid>.slice */
	char cg_app[SHK_CGROUP_PATH_MAX]; /* .../docker-<hex>.scope: host netns */
	char cg_pod[SHK_CGROUP_PATH_MAX]; /* .../kubepods-pod<uid>.slice: own netns */
	char netns[64], veth_host[IF_NAMESIZE], veth_ns[IF_NAMESIZE];
	char addr_host[16], addr_ns[16];
	char pin_dir[128];
	bool netns_made;
	struct agent app, pod;
	int lis1, lis2, lis_veth; /* listeners: 127.0.0.1, 127.0.0.2, host veth */
	int port1, port2, port_veth;
	struct shk_isolator *iso; /* unpinned: everything it holds ends with it */
	struct shk_isolator *iso2; /* a test's own isolator, freed after the test */
} T = { .lis1 = -1, .lis2 = -1, .lis_veth = -1, .app = { -1, -1 }, .pod = { -1, -1 } };

/* ------------------------------------------------------------------ */
/* agents */

/* IPv4 or IPv6 (a ':' in the address) */
static int do_connect(const struct cmd *c, int *ret_fd)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)c->port) };
	struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6,
				    .sin6_port = htons((uint16_t)c->port) };
	bool v6 = strchr(c->addr, ':');
	struct pollfd pfd;
	socklen_t len = sizeof(int);
	int fd, err = 0;

	if (v6 ? inet_pton(AF_INET6, c->addr, &sa6.sin6_addr) != 1 :
		 inet_pton(AF_INET, c->addr, &sa.sin_addr) != 1)
		return EINVAL;
	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	if (connect(fd, v6 ? (struct sockaddr *)&sa6 : (struct sockaddr *)&sa,
		    v6 ? sizeof(sa6) : sizeof(sa)) &&
	    errno != EINPROGRESS) {
		err = errno;
	} else {
		pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
		if (poll(&pfd, 1, c->timeout_ms) != 1)
			err = ETIMEDOUT;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
			err = errno;
	}
	if (err || !ret_fd)
		close(fd);
	else
		*ret_fd = fd;
	return err;
}

static void agent_loop(int ctl)
{
	int held = -1;
	struct cmd c;

	while (recv(ctl, &c, sizeof(c), 0) == sizeof(c)) {
		struct rep r = { 0 };

		switch (c.op) {
		case OP_CONNECT:
			r.err = do_connect(&c, NULL);
			break;
		case OP_OPEN:
			if (held >= 0)
				close(held);
			held = -1;
			r.err = do_connect(&c, &held);
			break;
		case OP_SEND:
			if (send(held, "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1)
				r.err = errno;
			break;
		case OP_RECV: {
			struct pollfd pfd = { .fd = held, .events = POLLIN };
			char buf[64];
			ssize_t n;

			if (poll(&pfd, 1, c.timeout_ms) != 1) {
				r.err = ETIMEDOUT;
				break;
			}
			n = recv(held, buf, sizeof(buf), MSG_DONTWAIT);
			if (n < 0)
				r.err = errno;
			else
				r.n = (int)n;
			break;
		}
		case OP_SENDTO: {
			struct sockaddr_in sa = { .sin_family = AF_INET,
						  .sin_port = htons((uint16_t)c.port) };
			int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

			inet_pton(AF_INET, c.addr, &sa.sin_addr);
			if (sendto(fd, "u", 1, 0, (struct sockaddr *)&sa, sizeof(sa)) != 1)
				r.err = errno;
			close(fd);
			break;
		}
		case OP_CLOSE:
			if (held >= 0)
				close(held);
			held = -1;
			break;
		default:
			r.err = EINVAL;
		}
		if (send(ctl, &r, sizeof(r), 0) != sizeof(r))
			break;
	}
	_exit(0);
}

/* Fork an agent, optionally inside netns (a /run/netns path), and move it
 * into cgroup_dir before it gets any command. */
static int agent_start(struct agent *a, const char *cgroup_dir, const char *netns)
{
	char path[SHK_CGROUP_PATH_MAX + 16], pidbuf[16];
	struct timeval tv = { .tv_sec = 10 };
	int sv[2], ready = 0;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -errno;
	a->pid = fork();
	if (a->pid < 0)
		return -errno;
	if (a->pid == 0) {
		close(sv[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (netns) {
			int fd = open(netns, O_RDONLY | O_CLOEXEC);

			if (fd < 0 || setns(fd, CLONE_NEWNET))
				_exit(1);
			close(fd);
		}
		ready = 1;
		if (send(sv[1], &ready, sizeof(ready), 0) != sizeof(ready))
			_exit(1);
		agent_loop(sv[1]);
	}
	close(sv[1]);
	a->ctl = sv[0];
	setsockopt(a->ctl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (recv(a->ctl, &ready, sizeof(ready), 0) != sizeof(ready) || ready != 1)
		return -EIO;
	snprintf(path, sizeof(path), "%s/cgroup.procs", cgroup_dir);
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)a->pid);
	return test_write_file(path, pidbuf);
}

static void agent_stop(struct agent *a)
{
	if (a->pid > 0) {
		kill(a->pid, SIGKILL);
		waitpid(a->pid, NULL, 0);
	}
	if (a->ctl >= 0)
		close(a->ctl);
	a->pid = -1;
	a->ctl = -1;
}

static struct rep agent_call(struct agent *a, int op, const char *addr, int port, int timeout_ms)
{
	struct cmd c = { .op = op, .port = port, .timeout_ms = timeout_ms };
	struct rep r = { .err = -1 };

	if (addr)
		snprintf(c.addr, sizeof(c.addr), "%s", addr);
	if (send(a->ctl, &c, sizeof(c), 0) != sizeof(c) || recv(a->ctl, &r, sizeof(r), 0) != sizeof(r))
		fail_msg("agent %d does not answer", (int)a->pid);
	return r;
}

static int agent_connect(struct agent *a, const char *addr, int port)
{
	return agent_call(a, OP_CONNECT, addr, port, 2000).err;
}

/* ------------------------------------------------------------------ */
/* setup */

static int listener(const char *addr, int *ret_port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int one = 1, fd;

	inet_pton(AF_INET, addr, &sa.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 128) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len)) {
		close(fd);
		return -1;
	}
	*ret_port = ntohs(sa.sin_port);
	return fd;
}

static int accept_within(int lis, int timeout_ms)
{
	struct pollfd pfd = { .fd = lis, .events = POLLIN };

	if (poll(&pfd, 1, timeout_ms) != 1)
		return -1;
	return accept4(lis, NULL, NULL, SOCK_CLOEXEC);
}

/* Drain connections the agents made, so the backlog never fills. */
static void drain(int lis)
{
	int fd;

	while ((fd = accept_within(lis, 0)) >= 0)
		close(fd);
}

static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static void cleanup(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	shk_isolator_free(T.iso);
	T.iso = NULL;
	agent_stop(&T.app);
	agent_stop(&T.pod);
	if (T.netns_made) {
		sh("ip link del %s >/dev/null 2>&1", T.veth_host);
		sh("ip netns del %s >/dev/null 2>&1", T.netns);
	}
	/* Deleting the pin files drops the last references to pinned links. */
	if (T.pin_dir[0])
		sh("rm -rf '%s' >/dev/null 2>&1", T.pin_dir);
	for (int i = 0; i < 50; i++) { /* rmdir is EBUSY until the agents are gone */
		if (T.cg_app[0])
			rmdir(T.cg_app);
		if (T.cg_pod[0])
			rmdir(T.cg_pod);
		if (!T.slice[0] || rmdir(T.slice) == 0 || errno == ENOENT)
			break;
		usleep(20000);
	}
	close(T.lis1);
	close(T.lis2);
	close(T.lis_veth);
}

static void on_signal(int sig)
{
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int setup(void **state)
{
	struct shk_cgroup_mounts m;
	struct shk_isolator_opts o = { 0 };
	int pid = (int)getpid(), block;

	(void)state;
	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (shk_cgroup_mounts_discover(NULL, &m) || !m.v2[0]) {
		fprintf(stderr, "SKIP: no cgroup v2 mount\n");
		exit(TEST_SKIP);
	}
	strcpy(T.cg_root, m.v2);
	/* runtime-style names: a docker scope and a kubelet pod slice */
	if (snprintf(T.slice, sizeof(T.slice), "%s/shk-test-%d.slice", T.cg_root, pid) >=
		    (int)sizeof(T.slice) ||
	    snprintf(T.cg_app, sizeof(T.cg_app),
		     "%s/docker-%08x1f2e3d4c5b6a79880123456789abcdef0123456789abcdef01234567.scope",
		     T.slice, (unsigned)pid) >= (int)sizeof(T.cg_app) ||
	    snprintf(T.cg_pod, sizeof(T.cg_pod),
		     "%s/kubepods-besteffort-pod%08x_5e1a_4c2b_9d3e_0123456789ab.slice", T.slice,
		     (unsigned)pid) >= (int)sizeof(T.cg_pod)) {
		fprintf(stderr, "setup: cgroup path too long\n");
		return -1;
	}
	if (mkdir(T.slice, 0755) || mkdir(T.cg_app, 0755) || mkdir(T.cg_pod, 0755)) {
		fprintf(stderr, "setup: mkdir cgroups: %s\n", strerror(errno));
		return -1;
	}

	/* The test's own netns and veth pair, in a /30 of 10.200.0.0/16. */
	block = (pid % 16384) * 4;
	snprintf(T.netns, sizeof(T.netns), "shk-test-%d", pid);
	snprintf(T.veth_host, sizeof(T.veth_host), "shkh%d", pid % 10000000);
	snprintf(T.veth_ns, sizeof(T.veth_ns), "shkn%d", pid % 10000000);
	snprintf(T.addr_host, sizeof(T.addr_host), "10.200.%d.%d", block >> 8, (block & 255) + 1);
	snprintf(T.addr_ns, sizeof(T.addr_ns), "10.200.%d.%d", block >> 8, (block & 255) + 2);
	T.netns_made = true;
	if (sh("ip netns add %s", T.netns) ||
	    sh("ip link add %s type veth peer name %s netns %s", T.veth_host, T.veth_ns, T.netns) ||
	    sh("ip addr add %s/30 dev %s", T.addr_host, T.veth_host) ||
	    sh("ip link set %s up", T.veth_host) ||
	    sh("ip -n %s addr add %s/30 dev %s", T.netns, T.addr_ns, T.veth_ns) ||
	    sh("ip -n %s link set %s up", T.netns, T.veth_ns) ||
	    sh("ip -n %s link set lo up", T.netns)) {
		fprintf(stderr, "setup: netns/veth failed\n");
		return -1;
	}

	T.lis1 = listener("127.0.0.1", &T.port1);
	T.lis2 = listener("127.0.0.2", &T.port2);
	T.lis_veth = -1;
	for (int i = 0; i < 100 && T.lis_veth < 0; i++) { /* the address may be tentative */
		T.lis_veth = listener(T.addr_host, &T.port_veth);
		if (T.lis_veth < 0)
			usleep(20000);
	}
	if (T.lis1 < 0 || T.lis2 < 0 || T.lis_veth < 0) {
		fprintf(stderr, "setup: listeners: %s\n", strerror(errno));
		return -1;
	}

	char nspath[128];

	snprintf(nspath, sizeof(nspath), "/run/netns/%s", T.netns);
	if (agent_start(&T.app, T.cg_app, NULL) || agent_start(&T.pod, T.cg_pod, nspath)) {
		fprintf(stderr, "setup: agents failed\n");
		return -1;
	}
	T.iso = shk_isolator_new(&o);
	if (!T.iso) {
		fprintf(stderr, "setup: shk_isolator_new: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cleanup();
	return 0;
}

/* After each test, pass or fail: nothing isolated, no held connection, so
 * that one failure does not cascade into the next test. */
static int reset(void **state)
{
	struct shk_isolation *h;

	(void)state;
	while ((h = shk_isolator_next(T.iso, NULL)))
		shk_release_cgroup(T.iso, h);
	while ((h = shk_isolator_next(T.iso2, NULL)))
		shk_release_cgroup(T.iso2, h);
	shk_isolator_free(T.iso2);
	T.iso2 = NULL;
	if (T.pin_dir[0]) /* dropping the pin files detaches what a failure left */
		sh("rm -rf '%s' >/dev/null 2>&1", T.pin_dir);
	agent_call(&T.app, OP_CLOSE, NULL, 0, 0);
	drain(T.lis1);
	drain(T.lis2);
	drain(T.lis_veth);
	return 0;
}

/* ------------------------------------------------------------------ */
/* observation helpers */

static uint64_t counter(struct shk_isolator *iso, enum shk_iso_counter c)
{
	struct shk_isolator_stats st;

	assert_int_equal(shk_isolator_get_stats(iso, &st), 0);
	return st.count[c];
}

static bool link_up(const char *ifname)
{
	char path[128], *s;
	unsigned long flags;

	snprintf(path, sizeof(path), "/sys/class/net/%s/flags", ifname);
	s = test_read_file(path, NULL);
	assert_non_null(s);
	flags = strtoul(s, NULL, 16);
	free(s);
	return flags & IFF_UP;
}

/* Programs attached directly to the cgroup, over all six hooks. */
static int progs_attached(const char *cgroup_dir)
{
	static const enum bpf_attach_type types[] = {
		BPF_CGROUP_INET_INGRESS, BPF_CGROUP_INET_EGRESS,  BPF_CGROUP_INET4_CONNECT,
		BPF_CGROUP_INET6_CONNECT, BPF_CGROUP_UDP4_SENDMSG, BPF_CGROUP_UDP6_SENDMSG,
	};
	int fd = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), total = 0;

	assert_true(fd >= 0);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		__u32 ids[8], cnt = 8, flags = 0;

		assert_int_equal(bpf_prog_query(fd, types[i], 0, &flags, ids, &cnt), 0);
		total += (int)cnt;
	}
	close(fd);
	return total;
}

/* Conntrack entries of this netns involving addr; -errno if the table
 * cannot be read (no conntrack / ctnetlink in this kernel). */
static int ct_count(const char *addr)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct nl_cache *cache = NULL;
	struct nl_object *o;
	struct in_addr a;
	int n = 0, err;

	inet_pton(AF_INET, addr, &a);
	err = nfnl_connect(sk);
	if (!err)
		err = nfnl_ct_alloc_cache(sk, &cache);
	if (err) {
		nl_socket_free(sk);
		return shk_nlerr_to_errno(err);
	}
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct nfnl_ct *ct = (struct nfnl_ct *)o;

		for (int r = 0; r <= 1; r++) {
			struct nl_addr *s = nfnl_ct_get_src(ct, r), *d = nfnl_ct_get_dst(ct, r);

			if ((s && nl_addr_get_len(s) == 4 && !memcmp(nl_addr_get_binary_addr(s), &a, 4)) ||
			    (d && nl_addr_get_len(d) == 4 && !memcmp(nl_addr_get_binary_addr(d), &a, 4))) {
				n++;
				break;
			}
		}
	}
	nl_cache_free(cache);
	nl_socket_free(sk);
	return n;
}

/* Without netfilter hooks in use, the kernel tracks nothing: then enter
 * an entry for the netns address through ctnetlink ourselves. */
static int ct_insert(const char *src, const char *dst, int dport)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct nfnl_ct *ct = nfnl_ct_alloc();
	struct nl_addr *s = NULL, *d = NULL;
	int err;

	err = nfnl_connect(sk);
	if (!err)
		err = nl_addr_parse(src, AF_INET, &s);
	if (!err)
		err = nl_addr_parse(dst, AF_INET, &d);
	if (!err) {
		nfnl_ct_set_family(ct, AF_INET);
		nfnl_ct_set_proto(ct, IPPROTO_TCP);
		nfnl_ct_set_src(ct, 0, s);
		nfnl_ct_set_dst(ct, 0, d);
		nfnl_ct_set_src_port(ct, 0, 40000);
		nfnl_ct_set_dst_port(ct, 0, (uint16_t)dport);
		nfnl_ct_set_src(ct, 1, d);
		nfnl_ct_set_dst(ct, 1, s);
		nfnl_ct_set_src_port(ct, 1, (uint16_t)dport);
		nfnl_ct_set_dst_port(ct, 1, 40000);
		nfnl_ct_set_timeout(ct, 120);
		nfnl_ct_set_tcp_state(ct, 3 /* TCP_CONNTRACK_ESTABLISHED */);
		err = nfnl_ct_add(sk, ct, NLM_F_CREATE);
	}
	nl_addr_put(s);
	nl_addr_put(d);
	nfnl_ct_put(ct);
	nl_socket_free(sk);
	return shk_nlerr_to_errno(err);
}

/* ------------------------------------------------------------------ */
/* tests */

/* (a) new connections from the isolated cgroup fail with EPERM; the same
 * connect from the test's own cgroup works. */
static void test_connect_denied(void **state)
{
	struct shk_isolation *h = NULL;
	uint64_t c4, u4;
	int fd;

	(void)state;
	assert_int_equal(agent_connect(&T.app, "127.0.0.1", T.port1), 0);
	drain(T.lis1);

	c4 = counter(T.iso, SHK_ISO_CNT_CONNECT4);
	u4 = counter(T.iso, SHK_ISO_CNT_SENDMSG4);
	assert_int_equal(shk_isolate_cgroup(T.iso, T.cg_app, &h), 0);
	assert_non_null(h);
	assert_int_equal(shk_isolate_cgroup(T.iso, T.cg_app, NULL), -EALREADY);

	assert_int_equal(agent_connect(&T.app, "127.0.0.1", T.port1), EPERM);
	assert_int_equal(agent_call(&T.app, OP_SENDTO, "127.0.0.1", T.port1, 0).err, EPERM);
	assert_true(counter(T.iso, SHK_ISO_CNT_CONNECT4) > c4);
	assert_true(counter(T.iso, SHK_ISO_CNT_SENDMSG4) > u4);
	/* IPv6: refused by connect6 before any packet (no listener needed) */
	int e6 = agent_connect(&T.app, "::1", T.port1);

	if (e6 == EAFNOSUPPORT || e6 == EADDRNOTAVAIL)
		printf("SKIP (IPv6 sub-assertion): no IPv6 here: %s\n", strerror(e6));
	else
		assert_int_equal(e6, EPERM);

	struct cmd own = { .port = T.port1, .timeout_ms = 2000 };

	strcpy(own.addr, "127.0.0.1");
	assert_int_equal(do_connect(&own, &fd), 0);
	close(fd);
	drain(T.lis1);

	assert_int_equal(shk_release_cgroup(T.iso, h), 0);
}

/* (b) an established connection stops passing data in both directions. */
static void test_established_cut(void **state)
{
	struct shk_isolation *h = NULL;
	struct pollfd pfd;
	uint64_t in, out;
	char buf[16];
	int peer;

	(void)state;
	assert_int_equal(agent_call(&T.app, OP_OPEN, "127.0.0.1", T.port1, 2000).err, 0);
	peer = accept_within(T.lis1, 2000);
	assert_true(peer >= 0);

	/* it works before */
	assert_int_equal(send(peer, "a", 1, MSG_NOSIGNAL), 1);
	assert_int_equal(agent_call(&T.app, OP_RECV, NULL, 0, 500).n, 1);
	assert_int_equal(agent_call(&T.app, OP_SEND, NULL, 0, 0).err, 0);
	pfd = (struct pollfd){ .fd = peer, .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 500), 1);
	assert_int_equal(recv(peer, buf, sizeof(buf), 0), 1);

	in = counter(T.iso, SHK_ISO_CNT_INGRESS);
	out = counter(T.iso, SHK_ISO_CNT_EGRESS);
	assert_int_equal(shk_isolate_cgroup(T.iso, T.cg_app, &h), 0);

	/* the peer's data never reaches the isolated side */
	assert_int_equal(send(peer, "c", 1, MSG_NOSIGNAL), 1);
	assert_int_equal(agent_call(&T.app, OP_RECV, NULL, 0, 500).err, ETIMEDOUT);
	/* and the isolated side's data never reaches the peer (the send
	 * itself may succeed: TCP queues it for retransmission) */
	agent_call(&T.app, OP_SEND, NULL, 0, 0);
	assert_int_equal(poll(&pfd, 1, 500), 0);
	assert_true(counter(T.iso, SHK_ISO_CNT_INGRESS) > in);
	assert_true(counter(T.iso, SHK_ISO_CNT_EGRESS) > out);

	assert_int_equal(shk_release_cgroup(T.iso, h), 0);
	agent_call(&T.app, OP_CLOSE, NULL, 0, 0);
	close(peer);
}

/* (c) + (d): a workload in its own netns. Isolation takes the host-side
 * veth down and flushes its conntrack entries; release restores the link,
 * connectivity and leaves no program attached. */
static void test_netns_and_release(void **state)
{
	struct shk_isolation *h = NULL, *ha = NULL;
	struct shk_isolation_info info;
	bool ct_checked = false;
	int n;

	(void)state;
	assert_int_equal(agent_connect(&T.pod, T.addr_host, T.port_veth), 0);
	drain(T.lis_veth);
	assert_true(link_up(T.veth_host));
	assert_int_equal(progs_attached(T.cg_pod), 0);

	n = ct_count(T.addr_ns);
	if (n == 0) {
		int e = ct_insert(T.addr_ns, T.addr_host, T.port_veth);

		n = e ? e : ct_count(T.addr_ns);
		if (n > 0)
			printf("note: no netfilter hook tracks the connection here; the conntrack "
			       "entry was entered through ctnetlink\n");
	}
	if (n > 0)
		ct_checked = true;
	else
		printf("SKIP (conntrack sub-assertion): no conntrack entry for %s could be made "
		       "or read: %s\n", T.addr_ns, n < 0 ? strerror(-n) : "table stays empty");

	assert_int_equal(shk_isolate_cgroup(T.iso, T.cg_pod, &h), 0);
	assert_int_equal(shk_isolate_cgroup(T.iso, T.cg_app, &ha), 0);
	shk_isolation_get_info(h, &info);
	assert_int_equal(info.netns_err, 0);
	assert_int_equal(info.nnetns, 1);
	assert_int_equal(info.netns[0].nveth, 1);
	assert_string_equal(info.netns[0].veth[0].name, T.veth_host);
	assert_false(link_up(T.veth_host));
	assert_int_equal(progs_attached(T.cg_pod), 6);
	assert_int_equal(agent_connect(&T.pod, T.addr_host, T.port_veth), EPERM);
	if (ct_checked) {
		assert_int_equal(info.netns[0].ct, SHK_CT_FLUSHED);
		assert_true(info.netns[0].ct_deleted >= 1);
		assert_int_equal(ct_count(T.addr_ns), 0);
	} else {
		printf("conntrack outcome: %s\n", shk_ct_outcome_str(info.netns[0].ct));
	}
	/* the host-netns workload has no veth to cut */
	shk_isolation_get_info(ha, &info);
	assert_int_equal(info.nnetns, 0);
	assert_int_equal(agent_connect(&T.app, "127.0.0.1", T.port1), EPERM);

	/* (d) release restores everything */
	assert_int_equal(shk_release_cgroup(T.iso, h), 0);
	assert_int_equal(shk_release_cgroup(T.iso, ha), 0);
	assert_true(link_up(T.veth_host));
	assert_int_equal(progs_attached(T.cg_pod), 0);
	assert_int_equal(progs_attached(T.cg_app), 0);
	assert_null(shk_isolator_next(T.iso, NULL));
	assert_int_equal(agent_connect(&T.app, "127.0.0.1", T.port1), 0);
	drain(T.lis1);
	/* the carrier of a veth that was just set up can take a moment */
	for (int i = 0; i < 50 && agent_connect(&T.pod, T.addr_host, T.port_veth); i++)
		usleep(100000);
	assert_int_equal(agent_connect(&T.pod, T.addr_host, T.port_veth), 0);
	drain(T.lis_veth);
}

/* (e) an allowed peer (a forensics host) stays reachable. */
static void test_allow_list(void **state)
{
	const char *allow[] = { "127.0.0.2/32", NULL };
	const char *bad[] = { "127.0.0.300/8", NULL };
	struct shk_isolator_opts o = { .allow = allow, .no_netns = true };
	struct shk_isolation *h = NULL;

	(void)state;
	o.allow = bad;
	assert_null(shk_isolator_new(&o));
	assert_int_equal(errno, EINVAL);

	o.allow = allow;
	T.iso2 = shk_isolator_new(&o);
	assert_non_null(T.iso2);
	assert_int_equal(shk_isolate_cgroup(T.iso2, T.cg_app, &h), 0);
	assert_int_equal(agent_connect(&T.app, "127.0.0.2", T.port2), 0);
	assert_int_equal(agent_connect(&T.app, "127.0.0.1", T.port1), EPERM);
	/* a dual-stack socket is judged by the IPv4 list for a mapped address */
	int e6 = agent_connect(&T.app, "::ffff:127.0.0.2", T.port2);

	if (e6 == EAFNOSUPPORT) {
		printf("SKIP (v4-mapped sub-assertion): no IPv6 sockets here\n");
	} else {
		assert_int_equal(e6, 0);
		assert_int_equal(agent_connect(&T.app, "::ffff:127.0.0.1", T.port1), EPERM);
	}
	drain(T.lis2);
	assert_int_equal(shk_release_cgroup(T.iso2, h), 0);
}

/* Safety: shrike never isolates its own cgroup or an ancestor of it. */
static void test_refuses_self(void **state)
{
	char rel[SHK_CGROUP_PATH_MAX];
	struct shk_isolation *h = NULL;

	(void)state;
	assert_true(shk_cgroup_of_pid(NULL, getpid(), NULL, rel, sizeof(rel)) >= 0);
	assert_int_equal(shk_isolate_cgroup(T.iso, rel, &h), -EPERM);
	assert_int_equal(shk_isolate_cgroup(T.iso, "/", &h), -EPERM);
	assert_null(h);
}

/* Durable quarantine: a pinned isolation outlives its isolator; the next
 * instance adopts it and can release it. */
static void test_durable(void **state)
{
	struct shk_isolator_opts o = { .no_netns = true };
	struct shk_isolation *h = NULL;
	struct shk_isolation_info info;
	char pin[160];
	struct stat st;

	(void)state;
	/* bpffs is mounted on /sys/fs/bpf by the isolator if it is not yet */
	snprintf(T.pin_dir, sizeof(T.pin_dir), "/sys/fs/bpf/shrike-test-%d", (int)getpid());
	snprintf(pin, sizeof(pin), "%s/isolate", T.pin_dir);
	o.pin_dir = pin;
	T.iso2 = shk_isolator_new(&o);
	assert_non_null(T.iso2);
	assert_int_equal(shk_isolate_cgroup(T.iso2, T.cg_app, &h), 0);
	shk_isolation_get_info(h, &info);
	assert_true(info.pinned);
	shk_isolator_free(T.iso2); /* "shrike exits" */
	T.iso2 = NULL;

	assert_int_equal(agent_connect(&T.app, "127.0.0.1", T.port1), EPERM);
	assert_int_equal(progs_attached(T.cg_app), 6);

	T.iso2 = shk_isolator_new(&o); /* "shrike starts again" */
	assert_non_null(T.iso2);
	assert_int_equal(shk_isolator_reattach(T.iso2), 1);
	h = shk_isolator_find(T.iso2, T.cg_app);
	assert_non_null(h);
	shk_isolation_get_info(h, &info);
	assert_true(info.pinned);
	assert_string_equal(info.path, T.cg_app);
	assert_int_equal(agent_connect(&T.app, "127.0.0.1", T.port1), EPERM);
	assert_int_equal(shk_isolator_unpin(T.iso2), -EBUSY);

	assert_int_equal(shk_release_cgroup(T.iso2, h), 0);
	assert_int_equal(progs_attached(T.cg_app), 0);
	assert_int_equal(agent_connect(&T.app, "127.0.0.1", T.port1), 0);
	drain(T.lis1);
	assert_int_equal(shk_isolator_unpin(T.iso2), 0);
	assert_int_equal(stat(pin, &st), -1);
	shk_isolator_free(T.iso2);
	T.iso2 = NULL;
	rmdir(T.pin_dir);
}

/* A quarantined container the runtime removes: its isolation is let go
 * (links detached, pins removed), the others stay. */
static void test_prune_gone(void **state)
{
	struct shk_isolator_opts o = { .no_netns = true };
	struct shk_isolation *h = NULL, *keep = NULL;
	struct shk_isolation_info info;
	char pin[160], gone[PATH_MAX + 16];
	int n;

	(void)state;
	snprintf(T.pin_dir, sizeof(T.pin_dir), "/sys/fs/bpf/shrike-test-%d", (int)getpid());
	snprintf(pin, sizeof(pin), "%s/isolate", T.pin_dir);
	snprintf(gone, sizeof(gone), "%s/gone-ctr", T.slice);
	assert_int_equal(mkdir(gone, 0755), 0);
	o.pin_dir = pin;
	T.iso2 = shk_isolator_new(&o);
	assert_non_null(T.iso2);
	assert_int_equal(shk_isolate_cgroup(T.iso2, gone, &h), 0);
	assert_int_equal(shk_isolate_cgroup(T.iso2, T.cg_app, &keep), 0);
	assert_int_equal(shk_isolator_prune(T.iso2), 0); /* both still there */
	assert_int_equal(rmdir(gone), 0);
	assert_int_equal(shk_isolator_prune(T.iso2), 1);
	/* only the kept one's six link pins are left */
	{
		DIR *d = opendir(pin);
		struct dirent *e;

		assert_non_null(d);
		n = 0;
		while ((e = readdir(d)))
			n += !strncmp(e->d_name, "cg", 2);
		closedir(d);
		assert_int_equal(n, 6);
	}
	assert_null(shk_isolator_find(T.iso2, gone));
	assert_non_null(shk_isolator_find(T.iso2, T.cg_app));
	shk_isolation_get_info(keep, &info);
	assert_true(info.pinned);
	assert_int_equal(progs_attached(T.cg_app), 6);
	assert_int_equal(shk_release_cgroup(T.iso2, keep), 0);
	assert_int_equal(shk_isolator_unpin(T.iso2), 0);
	shk_isolator_free(T.iso2);
	T.iso2 = NULL;
	rmdir(T.pin_dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_connect_denied, reset),
		cmocka_unit_test_teardown(test_established_cut, reset),
		cmocka_unit_test_teardown(test_netns_and_release, reset),
		cmocka_unit_test_teardown(test_allow_list, reset),
		cmocka_unit_test_teardown(test_refuses_self, reset),
		cmocka_unit_test_teardown(test_durable, reset),
		cmocka_unit_test_teardown(test_prune_gone, reset),
	};

	test_require_root("test_respond_isolate");
	return cmocka_run_group_tests(tests, setup, teardown);
}
