/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kernel drift, handled in one place with CO-RE flavours and
 * bpf_core_field_exists(). No LINUX_VERSION_CODE anywhere.
 */
#ifndef SHRIKE_CORE_FIXES_H
#define SHRIKE_CORE_FIXES_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>

/*
 * kernfs_node::parent was renamed to __parent when it became RCU protected
 * (v6.15, "kernfs: Use RCU to access kernfs_node::parent"). Kernels before
 * that (the 6.1 VM tier) have ->parent.
 */
struct kernfs_node___old {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

struct kernfs_node___new {
	struct kernfs_node *__parent;
} __attribute__((preserve_access_index));

static __always_inline struct kernfs_node *shk_kernfs_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(struct kernfs_node___new, __parent))
		return BPF_CORE_READ((struct kernfs_node___new *)kn, __parent);
	return BPF_CORE_READ((struct kernfs_node___old *)kn, parent);
}

/*
 * kernel_cap_t became a single u64 in v6.3 ("capability: use a single u64 for
 * kernel_cap_t"); before that it was __u32 cap[2]. Both are 8 bytes, low word
 * first on little-endian, so one 8-byte read of the whole member is right for
 * both layouts.
 */
static __always_inline __u64 shk_read_caps(const kernel_cap_t *caps)
{
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), caps);
	return v;
}

/*
 * overlayfs is built in on some kernels and a module on others (Debian's).
 * libbpf resolves the type against module BTF too; guard with
 * bpf_core_type_exists() so the sensor loads where overlayfs is absent.
 */
struct ovl_inode___shk {
	struct inode vfs_inode;
	struct dentry *__upperdentry;
} __attribute__((preserve_access_index));

/* Older kernels (< 5.x) named loginuid differently only when !CONFIG_AUDIT;
 * guard rather than assume. */
struct task_struct___audit {
	kuid_t loginuid;
	unsigned int sessionid;
} __attribute__((preserve_access_index));

/*
 * A dentry's parent and name in one read: d_parent is immediately followed
 * by d_name (struct qstr: hash_len, then name) in every kernel layout since
 * qstr gained hash_len (v3.14). The offsets come from CO-RE; if a kernel
 * ever separates them, fall back to two reads. Returns 0 or -1.
 */
struct shk_dentry_up {
	struct dentry *parent;
	__u64 hash_len;
	const unsigned char *name;
};

static __always_inline int shk_dentry_up(struct dentry *d, struct dentry **ret_parent,
					 const unsigned char **ret_name)
{
	__u32 p_off = bpf_core_field_offset(struct dentry, d_parent);
	__u32 n_off = bpf_core_field_offset(struct dentry, d_name);
	struct shk_dentry_up up;

	if (n_off == p_off + sizeof(void *) &&
	    bpf_core_field_offset(struct qstr, name) == sizeof(__u64)) {
		if (bpf_probe_read_kernel(&up, sizeof(up), (void *)d + p_off))
			return -1;
		*ret_parent = up.parent;
		*ret_name = up.name;
		return 0;
	}
	*ret_parent = BPF_CORE_READ(d, d_parent);
	*ret_name = BPF_CORE_READ(d, d_name.name);
	return 0;
}

#endif /* SHRIKE_CORE_FIXES_H */
