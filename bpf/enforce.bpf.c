// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Connect denial for the kernel policy: cgroup connect4/6 and sendmsg4/6
 * programs on the root of the cgroup v2 hierarchy. They need no LSM: a
 * match in enforce mode makes connect(2) (or a sendto/sendmsg with an
 * address) fail with EPERM. The verdict waits in kp_stash for the call's
 * exit record, so the denial is also an alert.
 *
 * The policy maps are the sensor's (reused by fd before load).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "kpolicy.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 shk_self_pid = 0;

/* Verdicts, and verdicts that could not be stashed for the report. */
__u64 shk_enforce_verdicts = 0;
__u64 shk_enforce_missed = 0;

static __always_inline int decide(struct bpf_sock_addr *ctx, bool v6)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct shk_kverdict v = {};
	struct kp_facts *f = kp_facts_get();
	__u64 fields;
	__u32 tid;

	if (!f || task->tgid == shk_self_pid)
		return 1;
	fields = kp_fields(f, SHK_KP_CONNECT);
	if (!fields)
		return 1;
	kp_put_proc(f, fields, task);
	kp_put_num(f, SHK_KF_RPORT, bpf_ntohs(ctx->user_port));
	__builtin_memset(f->a.addr, 0, sizeof(f->a.addr));
	if (v6) {
		f->a.addr[0] = 0; /* copied word by word: ctx fields are u32 */
		*(__u32 *)&f->a.addr[0] = ctx->user_ip6[0];
		*(__u32 *)&f->a.addr[4] = ctx->user_ip6[1];
		*(__u32 *)&f->a.addr[8] = ctx->user_ip6[2];
		*(__u32 *)&f->a.addr[12] = ctx->user_ip6[3];
	} else {
		f->a.addr[10] = f->a.addr[11] = 0xff;
		*(__u32 *)&f->a.addr[12] = ctx->user_ip4;
	}
	if (!shk_kp_eval(SHK_KP_CONNECT, fields))
		return 1;
	__sync_fetch_and_add(&shk_enforce_verdicts, 1);
	v.rule = f->v_rule;
	v.gen = f->v_gen;
	/* a kill: process rule: a socket program cannot signal, so the
	 * connect's exit record kills (shk_kp_unstash) */
	v.action = !f->v_enforce ? SHK_KV_WOULD : f->v_kill ? SHK_KV_KILLED : SHK_KV_DENIED;
	v.backend = SHK_KB_CGROUP;
	tid = task->pid;
	if (bpf_map_update_elem(&kp_stash, &tid, &v, BPF_ANY))
		__sync_fetch_and_add(&shk_enforce_missed, 1);
	return f->v_enforce ? 0 : 1;
}

SEC("cgroup/connect4")
int shk_kp_connect4(struct bpf_sock_addr *ctx)
{
	return decide(ctx, false);
}

SEC("cgroup/connect6")
int shk_kp_connect6(struct bpf_sock_addr *ctx)
{
	return decide(ctx, true);
}

SEC("cgroup/sendmsg4")
int shk_kp_sendmsg4(struct bpf_sock_addr *ctx)
{
	return decide(ctx, false);
}

SEC("cgroup/sendmsg6")
int shk_kp_sendmsg6(struct bpf_sock_addr *ctx)
{
	return decide(ctx, true);
}
