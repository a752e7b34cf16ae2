/* SPDX-License-Identifier: Apache-2.0 */
/* Container identity from cgroup paths (detect/container.c): the layouts
 * docker, containerd, CRI-O, podman and the kubelet produce, in cgroup v2
 * and v1, and malformed look-alikes that must stay "host". */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "container.h"
#include "executor.h"

#define ID "4d9a1f0c2b7e83a6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2"
#define ID2 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define UID "7c3a9d1e-5b2f-4e8a-9c6d-0f1e2a3b4c5d"
#define UIDU "7c3a9d1e_5b2f_4e8a_9c6d_0f1e2a3b4c5d"
#define SUID "e5a8b7c3f3f6c0f2c6c1e2a8f5e1b7a0" /* a static pod's hash */

struct ccase {
	const char *path;
	enum shk_ctr_runtime rt;
	const char *id;  /* full id, or NULL for the host */
	const char *pod; /* pod uid, or NULL */
	enum shk_qos qos;
	const char *ctr_cgroup; /* the path up to the container, or NULL */
	const char *pod_cgroup; /* the pod's cgroup, or NULL (none/no dir) */
};

static const struct ccase cases[] = {
	/* docker */
	{ "/system.slice/docker-" ID ".scope", SHK_CTR_DOCKER, ID, NULL, SHK_QOS_NONE,
	  "/system.slice/docker-" ID ".scope", NULL },
	{ "/docker/" ID, SHK_CTR_DOCKER, ID, NULL, SHK_QOS_NONE, "/docker/" ID, NULL },
	{ "11:memory:/docker/" ID, SHK_CTR_DOCKER, ID, NULL, SHK_QOS_NONE, "11:memory:/docker/" ID,
	  NULL },
	{ "0::/system.slice/docker-" ID ".scope", SHK_CTR_DOCKER, ID, NULL, SHK_QOS_NONE,
	  "0::/system.slice/docker-" ID ".scope", NULL },
	{ "/actions_job/" ID, SHK_CTR_DOCKER, ID, NULL, SHK_QOS_NONE, "/actions_job/" ID, NULL },
	/* a process in a sub-cgroup of the container (systemd in docker) */
	{ "/system.slice/docker-" ID ".scope/init.scope", SHK_CTR_DOCKER, ID, NULL, SHK_QOS_NONE,
	  "/system.slice/docker-" ID ".scope", NULL },
	/* docker in docker: the innermost wins */
	{ "/docker/" ID2 "/docker/" ID, SHK_CTR_DOCKER, ID, NULL, SHK_QOS_NONE,
	  "/docker/" ID2 "/docker/" ID, NULL },
	/* containerd, systemd driver, every QoS class */
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDU
	  ".slice/cri-containerd-" ID ".scope",
	  SHK_CTR_CONTAINERD, ID, UID, SHK_QOS_BURSTABLE,
	  "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDU
	  ".slice/cri-containerd-" ID ".scope",
	  "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDU ".slice" },
	{ "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UIDU
	  ".slice/cri-containerd-" ID ".scope",
	  SHK_CTR_CONTAINERD, ID, UID, SHK_QOS_BESTEFFORT, NULL,
	  "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UIDU ".slice" },
	{ "/kubepods.slice/kubepods-pod" UIDU ".slice/cri-containerd-" ID ".scope",
	  SHK_CTR_CONTAINERD, ID, UID, SHK_QOS_GUARANTEED, NULL,
	  "/kubepods.slice/kubepods-pod" UIDU ".slice" },
	/* a static pod: 32 hex digits */
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" SUID
	  ".slice/cri-containerd-" ID ".scope",
	  SHK_CTR_CONTAINERD, ID, SUID, SHK_QOS_BURSTABLE, NULL, NULL },
	/* kind: the kubelet's cgroup root under a prefix */
	{ "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
	  "kubelet-kubepods-besteffort-pod" UIDU ".slice/cri-containerd-" ID ".scope",
	  SHK_CTR_CONTAINERD, ID, UID, SHK_QOS_BESTEFFORT, NULL, NULL },
	/* containerd's own systemd form */
	{ "/system.slice/containerd.service/kubepods-burstable-pod" UIDU
	  ".slice:cri-containerd:" ID,
	  SHK_CTR_CONTAINERD, ID, UID, SHK_QOS_BURSTABLE, NULL, NULL },
	/* cgroupfs driver: the runtime is not in the path */
	{ "/kubepods/burstable/pod" UID "/" ID, SHK_CTR_CRI, ID, UID, SHK_QOS_BURSTABLE,
	  "/kubepods/burstable/pod" UID "/" ID, "/kubepods/burstable/pod" UID },
	{ "/kubepods/besteffort/pod" UID "/" ID, SHK_CTR_CRI, ID, UID, SHK_QOS_BESTEFFORT, NULL,
	  "/kubepods/besteffort/pod" UID },
	{ "/kubepods/pod" UID "/" ID, SHK_CTR_CRI, ID, UID, SHK_QOS_GUARANTEED, NULL,
	  "/kubepods/pod" UID },
	{ "4:cpu,cpuacct:/kubepods/burstable/pod" UID "/" ID, SHK_CTR_CRI, ID, UID,
	  SHK_QOS_BURSTABLE, NULL, NULL },
	/* CRI-O, both drivers */
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDU
	  ".slice/crio-" ID ".scope",
	  SHK_CTR_CRIO, ID, UID, SHK_QOS_BURSTABLE, NULL, NULL },
	{ "/kubepods/besteffort/pod" UID "/crio-" ID, SHK_CTR_CRIO, ID, UID, SHK_QOS_BESTEFFORT,
	  NULL, "/kubepods/besteffort/pod" UID },
	/* podman */
	{ "/machine.slice/libpod-" ID ".scope", SHK_CTR_PODMAN, ID, NULL, SHK_QOS_NONE, NULL, NULL },
	{ "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID ".scope/container",
	  SHK_CTR_PODMAN, ID, NULL, SHK_QOS_NONE,
	  "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID ".scope", NULL },
	{ "/libpod_parent/libpod-" ID, SHK_CTR_PODMAN, ID, NULL, SHK_QOS_NONE, NULL, NULL },

	/* the host, and what only looks like a container */
	{ "/", SHK_CTR_HOST, NULL, NULL, SHK_QOS_NONE, NULL, NULL },
	{ "", SHK_CTR_HOST, NULL, NULL, SHK_QOS_NONE, NULL, NULL },
	{ "/user.slice/user-0.slice/session-3.scope", SHK_CTR_HOST, NULL, NULL, SHK_QOS_NONE, NULL,
	  NULL },
	{ "/system.slice/containerd.service", SHK_CTR_HOST, NULL, NULL, SHK_QOS_NONE, NULL, NULL },
	{ "/system.slice/docker.service", SHK_CTR_HOST, NULL, NULL, SHK_QOS_NONE, NULL, NULL },
	/* runtime monitors are not containers */
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDU
	  ".slice/crio-conmon-" ID ".scope",
	  SHK_CTR_HOST, NULL, UID, SHK_QOS_BURSTABLE, NULL, NULL },
	{ "/machine.slice/libpod-conmon-" ID ".scope", SHK_CTR_HOST, NULL, NULL, SHK_QOS_NONE, NULL,
	  NULL },
	/* a pod-level cgroup: a pod, no container */
	{ "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UIDU ".slice",
	  SHK_CTR_HOST, NULL, UID, SHK_QOS_BESTEFFORT, NULL, NULL },
	/* short, long, non-hex and upper-case ids, trailing junk */
	{ "/system.slice/docker-4d9a1f0c2b7e.scope", SHK_CTR_HOST, NULL, NULL, SHK_QOS_NONE, NULL,
	  NULL },
	{ "/system.slice/docker-" ID "0.scope", SHK_CTR_HOST, NULL, NULL, SHK_QOS_NONE, NULL, NULL },
	{ "/system.slice/docker-" ID ".scopex", SHK_CTR_HOST, NULL, NULL, SHK_QOS_NONE, NULL, NULL },
	{ "/system.slice/docker-" ID ".service", SHK_CTR_HOST, NULL, NULL, SHK_QOS_NONE, NULL,
	  NULL },
	{ "/system.slice/docker-4D9A1F0C2B7E83A6C5D4E3F2A1B0C9D8E7F6A5B4C3D2E1F0A9B8C7D6E5F4A3B2"
	  ".scope",
	  SHK_CTR_HOST, NULL, NULL, SHK_QOS_NONE, NULL, NULL },
	{ "/system.slice/docker-zd9a1f0c2b7e83a6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2"
	  ".scope",
	  SHK_CTR_HOST, NULL, NULL, SHK_QOS_NONE, NULL, NULL },
	/* a bare id means nothing without a runtime or pod parent */
	{ "/" ID, SHK_CTR_HOST, NULL, NULL, SHK_QOS_NONE, NULL, NULL },
	{ "/system.slice/" ID, SHK_CTR_HOST, NULL, NULL, SHK_QOS_NONE, NULL, NULL },
	/* pod<uid> outside kubepods, bad uids */
	{ "/pod" UID "/" ID, SHK_CTR_HOST, NULL, NULL, SHK_QOS_NONE, NULL, NULL },
	{ "/kubepods/burstable/pod7c3a9d1e-5b2f-4e8a-9c6d/" ID, SHK_CTR_HOST, NULL, NULL,
	  SHK_QOS_NONE, NULL, NULL },
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod7c3a9d1e_5b2f_4e8a_9c6d_"
	  "0f1e2a3b4c5z.slice/cri-containerd-" ID ".scope",
	  SHK_CTR_CONTAINERD, ID, NULL, SHK_QOS_NONE, NULL, NULL },
	{ "/foo.slice/foo-pod" UIDU ".slice/cri-containerd-" ID ".scope", SHK_CTR_CONTAINERD, ID,
	  NULL, SHK_QOS_NONE, NULL, NULL },
	/* a colon form with a junk runtime or id */
	{ "/system.slice/containerd.service/kubepods-pod" UIDU ".slice:runc:" ID, SHK_CTR_HOST,
	  NULL, NULL, SHK_QOS_NONE, NULL, NULL },
	{ "/system.slice/containerd.service/x:cri-containerd:1234", SHK_CTR_HOST, NULL, NULL,
	  SHK_QOS_NONE, NULL, NULL },
	{ "::::", SHK_CTR_HOST, NULL, NULL, SHK_QOS_NONE, NULL, NULL },
	{ "///docker///", SHK_CTR_HOST, NULL, NULL, SHK_QOS_NONE, NULL, NULL },
	{ "12:", SHK_CTR_HOST, NULL, NULL, SHK_QOS_NONE, NULL, NULL },
};

static void check_case(const struct ccase *c)
{
	struct shk_cgroup_ident id;
	bool is = shk_cgroup_ident_parse(c->path, &id);

	print_message("%s\n", c->path);
	assert_int_equal(is, c->id != NULL);
	assert_int_equal(id.runtime, c->rt);
	if (c->id) {
		assert_string_equal(id.id, c->id);
		assert_memory_equal(id.short_id, c->id, SHK_CTR_SHORT_LEN);
		assert_int_equal(strlen(id.short_id), SHK_CTR_SHORT_LEN);
		assert_true(id.ctr_len > 0 && id.ctr_len <= strlen(c->path));
	} else {
		assert_string_equal(id.id, "");
		assert_string_equal(id.short_id, "host");
	}
	assert_string_equal(id.pod_uid, c->pod ? c->pod : "");
	assert_int_equal(id.qos, c->qos);
	if (c->ctr_cgroup) {
		assert_int_equal(id.ctr_len, strlen(c->ctr_cgroup));
		assert_memory_equal(c->path, c->ctr_cgroup, id.ctr_len);
	}
	if (c->pod_cgroup) {
		assert_int_equal(id.pod_len, strlen(c->pod_cgroup));
		assert_memory_equal(c->path, c->pod_cgroup, id.pod_len);
	}
}

static void test_layouts(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i]);
}

/* containerd's one-directory form has a pod but no pod cgroup. */
static void test_colon_form_no_pod_dir(void **state)
{
	struct shk_cgroup_ident id;

	assert_true(shk_cgroup_ident_parse("/system.slice/containerd.service/kubepods-pod" UIDU
					   ".slice:cri-containerd:" ID,
					   &id));
	assert_string_equal(id.pod_uid, UID);
	assert_int_equal(id.pod_len, 0);
}

/* A pod cgroup inside a container (a kind node) is not that container's
 * pod. */
static void test_pod_inside_container(void **state)
{
	struct shk_cgroup_ident id;

	assert_true(shk_cgroup_ident_parse("/docker/" ID2 "/kubelet.slice/kubelet-kubepods.slice/"
					   "kubelet-kubepods-pod" UIDU ".slice",
					   &id));
	assert_string_equal(id.id, ID2);
	assert_int_equal(id.runtime, SHK_CTR_DOCKER);
	assert_string_equal(id.pod_uid, "");
	assert_int_equal(id.pod_len, 0);
}

static void test_null_and_names(void **state)
{
	struct shk_cgroup_ident id;

	assert_false(shk_cgroup_ident_parse(NULL, &id));
	assert_string_equal(id.short_id, "host");
	assert_string_equal(shk_ctr_runtime_name(SHK_CTR_CRIO), "cri-o");
	assert_string_equal(shk_ctr_runtime_name(SHK_CTR_CONTAINERD), "containerd");
	assert_string_equal(shk_ctr_runtime_name((enum shk_ctr_runtime)99), "host");
	assert_string_equal(shk_qos_name(SHK_QOS_BESTEFFORT), "besteffort");
	assert_string_equal(shk_qos_name(SHK_QOS_NONE), "");
}

/* Arbitrary bytes never crash the parser and never make up an id. */
static void test_garbage(void **state)
{
	static const char alphabet[] = "/:-_.abcdef0123456789kubepodsliceXcri-containerd";
	char buf[512];
	unsigned seed = 12345;

	for (int round = 0; round < 20000; round++) {
		size_t n = (seed = seed * 1103515245u + 12345u) % (sizeof(buf) - 1);
		struct shk_cgroup_ident id;

		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		buf[n] = '\0';
		if (shk_cgroup_ident_parse(buf, &id)) {
			assert_int_equal(strlen(id.id), SHK_CTR_ID_LEN);
			assert_non_null(strstr(buf, id.id));
		}
	}
}

/* The response engine's scopes resolve through the parser. */
static void test_respond_scopes(void **state)
{
	static const char *const sub = "/kubepods.slice/kubepods-besteffort.slice/"
				       "kubepods-besteffort-pod" UIDU ".slice/crio-" ID ".scope/sub";
	char buf[1024];

	assert_true(shk_cgroup_is_container(sub));
	assert_false(shk_cgroup_is_container("/user.slice/user-0.slice/session-3.scope"));
	assert_false(shk_cgroup_is_container("/machine.slice/libpod-conmon-" ID ".scope"));
	assert_int_equal(shk_cgroup_container_of(sub, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UIDU
				 ".slice/crio-" ID ".scope");
	assert_int_equal(shk_cgroup_pod_of(sub, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UIDU
				 ".slice");
	assert_int_equal(shk_cgroup_pod_of("/kubepods/pod" UID "/" ID, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/kubepods/pod" UID);
	/* a container outside Kubernetes has no pod */
	assert_int_equal(shk_cgroup_pod_of("/system.slice/docker-" ID ".scope", buf, sizeof(buf)),
			 -ENOENT);
	assert_int_equal(shk_cgroup_container_of("/user.slice", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(shk_cgroup_pod_of(sub, buf, 10), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layouts),
		cmocka_unit_test(test_colon_form_no_pod_dir),
		cmocka_unit_test(test_pod_inside_container),
		cmocka_unit_test(test_null_and_names),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_respond_scopes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
