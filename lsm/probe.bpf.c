// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The BPF-LSM probe: one hook that changes nothing. If the kernel loads and
 * attaches it, LSM programs work here and the lsm backend can be used.
 * (Some kernels list `bpf` in /sys/kernel/security/lsm and still refuse
 * LSM programs, with EPERM.)
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("lsm/file_open")
int BPF_PROG(shk_lsm_probe, struct file *file, int ret)
{
	return ret;
}
