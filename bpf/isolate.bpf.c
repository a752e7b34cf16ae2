// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/*
 * isolate: the kernel half of the `isolate` action. Attached (through BPF
 * links, by respond/isolate.c) to each quarantined cgroup; one loaded copy
 * serves every isolated cgroup, and descendants inherit it.
 *
 *   cgroup_skb/{ingress,egress}     drop every packet of the cgroup's sockets,
 *                                   so established connections stop at once
 *   cgroup/{connect,sendmsg}{4,6}   refuse new destinations with EPERM, so the
 *                                   workload sees an error instead of a hang
 *
 * The one exception is an allow-list of peers (a forensics host): two LPM
 * tries, one per family, empty by default. Every refusal is counted per
 * program in a per-CPU array, so nothing is dropped silently.
 *
 * The map layouts below are mirrored in respond/isolate.c, which checks the
 * key and value sizes of the loaded maps against its own at load time.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD

#define SHK_ISO_ALLOW_MAX 64

/* Counter slots: one per program. Never renumber. */
enum shk_iso_counter {
	SHK_ISO_CNT_INGRESS = 0,
	SHK_ISO_CNT_EGRESS = 1,
	SHK_ISO_CNT_CONNECT4 = 2,
	SHK_ISO_CNT_CONNECT6 = 3,
	SHK_ISO_CNT_SENDMSG4 = 4,
	SHK_ISO_CNT_SENDMSG6 = 5,
	SHK_ISO_CNT_MAX
};

/* LPM trie keys: the prefix length first, then the address (network order). */
struct shk_iso_key4 {
	__u32 prefixlen;
	__u8 addr[4];
};

struct shk_iso_key6 {
	__u32 prefixlen;
	__u8 addr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SHK_ISO_ALLOW_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* required for LPM tries */
	__type(key, struct shk_iso_key4);
	__type(value, __u8);
} allow4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SHK_ISO_ALLOW_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct shk_iso_key6);
	__type(value, __u8);
} allow6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SHK_ISO_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} iso_counters SEC(".maps");

static __always_inline bool allowed4(__u32 addr)
{
	struct shk_iso_key4 k = { .prefixlen = 32 };

	__builtin_memcpy(k.addr, &addr, sizeof(addr));
	return bpf_map_lookup_elem(&allow4, &k) != NULL;
}

static __always_inline bool allowed6(__u32 a0, __u32 a1, __u32 a2, __u32 a3)
{
	struct shk_iso_key6 k = { .prefixlen = 128 };

	/* A v4-mapped address (::ffff:a.b.c.d) is IPv4 on the wire: judge it
	 * by the IPv4 list, or a dual-stack socket would bypass it. */
	if (a0 == 0 && a1 == 0 && a2 == bpf_htonl(0xffff))
		return allowed4(a3);
	__builtin_memcpy(&k.addr[0], &a0, 4);
	__builtin_memcpy(&k.addr[4], &a1, 4);
	__builtin_memcpy(&k.addr[8], &a2, 4);
	__builtin_memcpy(&k.addr[12], &a3, 4);
	return bpf_map_lookup_elem(&allow6, &k) != NULL;
}

/* Per-CPU slot: a plain increment cannot race. */
static __always_inline void count(__u32 slot)
{
	__u64 *c = bpf_map_lookup_elem(&iso_counters, &slot);

	if (c)
		*c += 1;
}

/*
 * skb->data is at the network header for both directions (the cgroup hook
 * pushes it back there on ingress). The peer is the source on ingress and
 * the destination on egress. Anything that is not IP, or whose header
 * cannot be read, is dropped: fail closed.
 */
static __always_inline int skb_verdict(struct __sk_buff *skb, bool ingress, __u32 slot)
{
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)) == 0 &&
		    allowed4(ingress ? ip.saddr : ip.daddr))
			return 1;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;
		__u32 *a;

		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)) == 0) {
			a = ingress ? ip6.saddr.in6_u.u6_addr32 : ip6.daddr.in6_u.u6_addr32;
			if (allowed6(a[0], a[1], a[2], a[3]))
				return 1;
		}
	}
	count(slot);
	return 0;
}

/* 0 makes connect()/sendmsg() fail with EPERM in the caller. */
static __always_inline int addr4_verdict(struct bpf_sock_addr *ctx, __u32 slot)
{
	if (allowed4(ctx->user_ip4))
		return 1;
	count(slot);
	return 0;
}

static __always_inline int addr6_verdict(struct bpf_sock_addr *ctx, __u32 slot)
{
	/* The context only allows 4-byte loads of user_ip6. */
	if (allowed6(ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3]))
		return 1;
	count(slot);
	return 0;
}

SEC("cgroup_skb/ingress")
int iso_ingress(struct __sk_buff *skb)
{
	return skb_verdict(skb, true, SHK_ISO_CNT_INGRESS);
}

SEC("cgroup_skb/egress")
int iso_egress(struct __sk_buff *skb)
{
	return skb_verdict(skb, false, SHK_ISO_CNT_EGRESS);
}

SEC("cgroup/connect4")
int iso_connect4(struct bpf_sock_addr *ctx)
{
	return addr4_verdict(ctx, SHK_ISO_CNT_CONNECT4);
}

SEC("cgroup/connect6")
int iso_connect6(struct bpf_sock_addr *ctx)
{
	return addr6_verdict(ctx, SHK_ISO_CNT_CONNECT6);
}

SEC("cgroup/sendmsg4")
int iso_sendmsg4(struct bpf_sock_addr *ctx)
{
	return addr4_verdict(ctx, SHK_ISO_CNT_SENDMSG4);
}

SEC("cgroup/sendmsg6")
int iso_sendmsg6(struct bpf_sock_addr *ctx)
{
	return addr6_verdict(ctx, SHK_ISO_CNT_SENDMSG6);
}
