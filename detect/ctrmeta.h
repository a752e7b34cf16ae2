/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Container metadata from the runtimes' state files, with no API call:
 *
 *   containerd  <containerd>/<namespace>/<id>/config.json   (OCI bundle;
 *               CRI annotations io.kubernetes.cri.*)
 *   CRI-O       <crio>/<id>/userdata/config.json           (OCI spec;
 *               annotations io.kubernetes.* and io.kubernetes.cri-o.*)
 *   docker      <docker>/<id>/config.v2.json + hostconfig.json
 *
 * The files are hostile input: they are opened without following a final
 * symlink, must be regular files of at most SHK_CTRMETA_FILE_MAX bytes,
 * and anything but the expected JSON shape is an error (-EBADMSG), never
 * a crash. A field of the wrong type is left unknown.
 *
 * What each field means, where the sources differ:
 *   - privileged: docker's HostConfig.Privileged; CRI-O's Privileged
 *     annotation; otherwise an OCI process whose bounding set holds every
 *     capability up to CAP_AUDIT_READ (what runtimes grant privileged
 *     containers);
 *   - mounts: docker's MountPoints; for OCI specs the bind mounts only
 *     (volumes, secrets, /etc/hosts), not the runtime's /proc, /dev, ...;
 *   - start_ts: docker's State.StartedAt, CRI-O's Created annotation;
 *     containerd's bundle does not record it (0);
 *   - ip: docker's first network address, CRI-O's IP.0 annotation.
 */
#ifndef SHRIKE_CTRMETA_H
#define SHRIKE_CTRMETA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "container.h"

#define SHK_CTRMETA_FILE_MAX (4u << 20) /* bytes */
#define SHK_CTRMETA_MOUNTS_MAX 64

/* Where the state files live; a NULL root is not searched. */
struct shk_ctr_roots {
	const char *containerd;
	const char *crio;
	const char *docker;
};

#define SHK_CTR_ROOT_CONTAINERD "/run/containerd/io.containerd.runtime.v2.task"
#define SHK_CTR_ROOT_CRIO "/run/containers/storage/overlay-containers"
#define SHK_CTR_ROOT_DOCKER "/var/lib/docker/containers"

struct shk_ctr_mount {
	char *source, *dest, *mode, *propagation;
	bool rw;
};

/* Every string is owned, NULL when unknown. */
struct shk_ctr_meta {
	enum shk_ctr_runtime type; /* the runtime whose state answered */
	char *name;
	char *image;		/* as the user named it */
	char *image_repo, *image_tag, *image_digest; /* parsed from image */
	char *image_id;
	char *pod_name, *pod_ns, *pod_uid;
	char *sandbox_id;
	char *ip;
	bool privileged;
	bool privileged_known;
	bool is_sandbox; /* a pod's sandbox (pause) container */
	int64_t start_ts; /* ns since the epoch; 0: unknown */
	uint32_t nmounts;
	struct shk_ctr_mount *mounts;
};

/* The default roots (the SHK_CTR_ROOT_* paths). */
void shk_ctr_roots_default(struct shk_ctr_roots *ret);

/*
 * Update roots from a "runtime=DIR,runtime=DIR" spec (runtime one of
 * containerd, crio, docker; DIR absolute; an empty DIR disables that
 * runtime). The commas of spec become NULs and the roots point into it:
 * spec must outlive roots. Returns 0 or -EINVAL, with *ret_bad (if not
 * NULL) at the bad item; roots are then unchanged (spec may not be).
 */
int shk_ctr_roots_parse(struct shk_ctr_roots *roots, char *spec, const char **ret_bad);

/*
 * Load the metadata of container id (64 hex digits) for the runtime rt;
 * SHK_CTR_CRI (the kubelet's cgroupfs layout) tries containerd, then
 * CRI-O, then docker. Returns 0, -ENOENT when no state file is there (yet:
 * a miss to retry), -EBADMSG for a file that is not what its runtime
 * writes (too large, not JSON, wrong shape), -EINVAL for a bad id, or
 * -ENOMEM. On error ret is zeroed.
 */
int shk_ctr_meta_load(const struct shk_ctr_roots *roots, enum shk_ctr_runtime rt, const char *id,
		      struct shk_ctr_meta *ret);

/* From buffers, for tests and callers with their own I/O. hostconfig may
 * be NULL. Same returns as shk_ctr_meta_load(). */
int shk_ctr_meta_from_oci(const char *json, size_t len, enum shk_ctr_runtime rt,
			  struct shk_ctr_meta *ret);
int shk_ctr_meta_from_docker(const char *config, size_t len, const char *hostconfig,
			     size_t hlen, struct shk_ctr_meta *ret);

/*
 * Split an image reference into repository, tag and digest:
 * "reg:5000/ns/app:1.2@sha256:ab.." -> "reg:5000/ns/app", "1.2",
 * "sha256:ab..". Missing parts are NULL. 0, -EINVAL (empty) or -ENOMEM.
 */
int shk_image_split(const char *image, char **ret_repo, char **ret_tag, char **ret_digest);

/* RFC 3339 ("2024-05-01T10:00:00.123456789Z", or with +hh:mm) to ns since
 * the epoch. 0 or -EINVAL. */
int shk_rfc3339_ns(const char *s, int64_t *ret);

void shk_ctr_meta_free(struct shk_ctr_meta *m);

#endif /* SHRIKE_CTRMETA_H */
