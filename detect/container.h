/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Container identity from a cgroup path: which runtime made the cgroup,
 * the container id, and the Kubernetes pod (uid, QoS class) around it.
 *
 * Pure string work, no I/O: safe on the event path and in any thread. The
 * layouts recognised, for cgroup v2 paths and v1 hierarchy paths alike:
 *
 *   docker      .../docker-<id>.scope             (systemd driver)
 *               /docker/<id>, /actions_job/<id>   (cgroupfs driver)
 *   containerd  .../cri-containerd-<id>.scope     (systemd driver)
 *               .../kubepods.../pod<uid>/<id>     (cgroupfs driver: "cri",
 *                                                  the runtime is unknown)
 *               ...pod<uid>.slice:cri-containerd:<id> (containerd's own
 *                                                  systemd form)
 *   CRI-O       .../crio-<id>.scope, .../pod<uid>/crio-<id>
 *   podman      .../libpod-<id>.scope, /libpod_parent/libpod-<id>
 *
 * where <id> is exactly 64 lower-case hex digits. crio-conmon-<id> and
 * libpod-conmon-<id> (the runtime monitors) are not containers. Pods are
 * kubepods[-<qos>]-pod<uid>.slice (systemd driver, the uid's '-' written
 * '_') or kubepods/[<qos>/]pod<uid> (cgroupfs driver), possibly under a
 * prefix (kind's kubelet.slice/kubelet-kubepods...). The uid is a
 * 8-4-4-4-12 UUID, or 32 hex digits (static pods' config hash).
 *
 * The innermost container component wins (docker in docker). Anything
 * else is the host: "freeze the container" must never hit a login
 * session because its name looked vaguely like one.
 */
#ifndef SHRIKE_CONTAINER_H
#define SHRIKE_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>

#define SHK_CTR_ID_LEN 64    /* a full container id, hex */
#define SHK_CTR_SHORT_LEN 12 /* container.id, as Falco and docker print it */
#define SHK_POD_UID_MAX 36   /* a UUID with dashes */

enum shk_ctr_runtime {
	SHK_CTR_HOST = 0,
	SHK_CTR_DOCKER,
	SHK_CTR_CONTAINERD,
	SHK_CTR_CRIO,
	SHK_CTR_PODMAN,
	SHK_CTR_CRI, /* a CRI runtime named only by the kubelet's layout */
	SHK_CTR__COUNT,
};

enum shk_qos {
	SHK_QOS_NONE = 0, /* not in a pod */
	SHK_QOS_GUARANTEED,
	SHK_QOS_BURSTABLE,
	SHK_QOS_BESTEFFORT,
};

struct shk_cgroup_ident {
	enum shk_ctr_runtime runtime; /* SHK_CTR_HOST: not a container */
	enum shk_qos qos;
	char id[SHK_CTR_ID_LEN + 1];	       /* "" for the host */
	char short_id[SHK_CTR_SHORT_LEN + 1]; /* "host" for the host */
	char pod_uid[SHK_POD_UID_MAX + 1];     /* "" when not in a pod; '-' form */
	/* Prefix lengths of the path: up to the end of the container's
	 * component, and of the pod's (0 when there is none). */
	size_t ctr_len;
	size_t pod_len;
};

/*
 * Identify path (a v2 path from the root of the hierarchy, a v1 hierarchy
 * path, or a whole /proc/PID/cgroup line "N:controllers:path"). Never
 * fails: malformed or unknown paths, and NULL, are the host. Returns true
 * when path is a container's. The pod is filled in for pod-level cgroups
 * too (a pod without a container is still the host).
 */
bool shk_cgroup_ident_parse(const char *path, struct shk_cgroup_ident *ret);

/* "docker", "containerd", "cri-o", "podman", "cri"; "host". */
const char *shk_ctr_runtime_name(enum shk_ctr_runtime rt);
/* "guaranteed", "burstable", "besteffort"; "" for none. */
const char *shk_qos_name(enum shk_qos q);

#endif /* SHRIKE_CONTAINER_H */
