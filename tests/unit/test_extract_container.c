/* SPDX-License-Identifier: Apache-2.0 */
/*
 * container.* and k8s.* extraction (detect/extract.c) over the container
 * cache: an exec record in a runtime-named cgroup, the fixture state
 * files of tests/unit/data/containers, and the host values outside.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "containers.h"
#include "evfixture.h"
#include "k8s_labels.h"
#include "testlib.h"

#define CTRD "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
#define DOCK "e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4"
#define UIDU "7c3a9d1e_5b2f_4e8a_9c6d_0f1e2a3b4c5d"
#define POD "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDU ".slice"

static struct shk_containers *cache;

static const char *text(const char *name)
{
	static char buf[4096];
	struct shk_fieldref ref;
	struct shk_value v;
	int n = shk_fieldref_parse(name, strlen(name), &ref);

	if (n != (int)strlen(name))
		fail_msg("bad field %s (%d)", name, n);
	shk_extract(&ctx, &ref, &v);
	shk_value_format(&v, buf, sizeof(buf));
	return buf;
}

#define TEXT(field, want) assert_string_equal(text(field), want)

/* An exec of /bin/sh by pid in cgroup (path, id), as the sensor reports. */
static void exec_in(uint32_t pid, const char *cgroup, uint64_t cgid)
{
	struct rb *r = calloc(1, sizeof(*r));
	struct shk_exec *e;

	assert_non_null(r);
	e = exec_rec(r, pid, 1, "sh", "/bin/sh", (const char *const[]){ "sh", NULL }, "/", 0);
	e->task.cgroup_id = cgid;
	rb_str(r, &e->str[SHK_EXEC_CGROUP], cgroup, strlen(cgroup));
	decode(r, &ev);
	free(r);
	shk_evalctx_begin(&ctx, &ev);
}

static int local_setup(void **state)
{
	char root[PATH_MAX], droot[PATH_MAX];
	struct shk_containers_opts o = { 0 };

	setup(state);
	snprintf(root, sizeof(root), "%s/containers/containerd", test_env("SHRIKE_TEST_DATA"));
	snprintf(droot, sizeof(droot), "%s/containers/docker", test_env("SHRIKE_TEST_DATA"));
	o.roots.containerd = root;
	o.roots.docker = droot;
	cache = shk_containers_new(&o);
	assert_non_null(cache);
	return 0;
}

static int local_teardown(void **state)
{
	shk_containers_free(cache);
	return teardown(state);
}

static void test_kubernetes_container(void **state)
{
	ctx.containers = cache;
	exec_in(4000, POD "/cri-containerd-" CTRD ".scope", 7001);
	TEXT("container.id", "a1b2c3d4e5f6");
	TEXT("container.full_id", CTRD);
	TEXT("container.name", "nginx");
	TEXT("container.type", "containerd");
	TEXT("container.image", "docker.io/library/nginx:1.25.3");
	TEXT("container.image.repository", "docker.io/library/nginx");
	TEXT("container.image.tag", "1.25.3");
	TEXT("container.image.digest", "<NA>");
	TEXT("container.privileged", "false");
	TEXT("k8s.pod.name", "web-7d4b9c8f5-x2x9q");
	TEXT("k8s.ns.name", "shop");
	TEXT("k8s.pod.uid", "7c3a9d1e-5b2f-4e8a-9c6d-0f1e2a3b4c5d");
	TEXT("k8s.pod.sandbox_id", "9f8e7d6c5b4a");
	TEXT("k8s.pod.full_sandbox_id",
	     "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0");
	TEXT("container.mount.dest[0]", "/etc/hosts");
	TEXT("container.mount.dest[/data/*]", "/usr/share/nginx/html");
	TEXT("container.mount.source[/etc/hosts]",
	     "/var/lib/kubelet/pods/7c3a9d1e-5b2f-4e8a-9c6d-0f1e2a3b4c5d/etc-hosts");
	TEXT("container.mount.rdwr[1]", "false");
	TEXT("container.mount.propagation[2]", "rslave");
	TEXT("container.mount.dest[3]", "<NA>");
	TEXT("container.mount[2]", "/data/www:/usr/share/nginx/html::true:rslave");
	TEXT("container.start_ts", "<NA>");
	TEXT("container.ip", "<NA>");
	/* a later event of the same cgroup, with no path: from the cache */
	exec_in(4001, "", 7001);
	TEXT("container.name", "nginx");
}

static void test_docker_container(void **state)
{
	ctx.containers = cache;
	exec_in(4100, "/system.slice/docker-" DOCK ".scope", 7002);
	TEXT("container.id", "e5f60718293a");
	TEXT("container.name", "cache");
	TEXT("container.type", "docker");
	TEXT("container.privileged", "true");
	TEXT("container.ip", "172.17.0.3");
	TEXT("container.start_ts", "1709367330500000000");
	TEXT("container.mounts", "/var/lib/docker/volumes/5c1e/_data:/data::true:,"
				 "/srv/redis/conf:/etc/redis:ro:false:rprivate");
	TEXT("k8s.pod.name", "<NA>");
	TEXT("k8s.pod.uid", "<NA>");
}

/* Identity without metadata: the ids, type and pod uid; the rest <NA>. */
static void test_unknown_state(void **state)
{
	ctx.containers = cache;
	exec_in(4200, POD "/crio-" CTRD ".scope", 7003);
	TEXT("container.id", "a1b2c3d4e5f6");
	TEXT("container.type", "cri-o");
	TEXT("k8s.pod.uid", "7c3a9d1e-5b2f-4e8a-9c6d-0f1e2a3b4c5d");
	TEXT("container.name", "<NA>");
	TEXT("k8s.pod.name", "<NA>");
}

static void test_host(void **state)
{
	ctx.containers = cache;
	exec_in(4300, "/user.slice/user-0.slice/session-4.scope", 7004);
	TEXT("container.id", "host");
	TEXT("container.full_id", "host");
	TEXT("container.name", "host");
	TEXT("container.type", "<NA>");
	TEXT("container.image.repository", "<NA>");
	TEXT("k8s.ns.name", "<NA>");
}

/* Without a cache: identity from the path, no metadata. */
static void test_no_cache(void **state)
{
	ctx.containers = NULL;
	exec_in(4400, POD "/cri-containerd-" CTRD ".scope", 7005);
	TEXT("container.id", "a1b2c3d4e5f6");
	TEXT("container.name", "<NA>");
	TEXT("fd.containername", "<NA>");
}

/* k8s.pod.label[s]: <NA> until the API client answered (the lookup only
 * asks for the pod, with the name and namespace from the runtime's state),
 * then the labels; a container without pod metadata never asks. */
static char asked[512];

static int fetch(void *c, const char *uid, const char *ns, const char *name)
{
	snprintf(asked, sizeof(asked), "%s %s %s", uid, ns, name);
	return 0;
}

static void test_pod_labels(void **state)
{
	struct shk_podlabels_opts o = { .fetch = fetch };
	struct shk_podlabels *pl = shk_podlabels_new(&o);
	struct timespec ts;

	assert_non_null(pl);
	ctx.containers = cache;
	ctx.podlabels = pl;
	asked[0] = '\0';
	exec_in(4500, POD "/cri-containerd-" CTRD ".scope", 7006);
	TEXT("k8s.pod.labels", "<NA>");
	TEXT("k8s.pod.label[app]", "<NA>");
	assert_string_equal(asked, "7c3a9d1e-5b2f-4e8a-9c6d-0f1e2a3b4c5d shop web-7d4b9c8f5-x2x9q");
	clock_gettime(CLOCK_BOOTTIME, &ts);
	assert_int_equal(shk_podlabels_store(pl, "7c3a9d1e-5b2f-4e8a-9c6d-0f1e2a3b4c5d",
					     "app\0web\0pod-template-hash\0" "7d4b9c8f5\0", 36, 2,
					     (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec),
			 0);
	exec_in(4501, "", 7006);
	TEXT("k8s.pod.labels", "(app:web,pod-template-hash:7d4b9c8f5)");
	TEXT("k8s.pod.label[app]", "web");
	TEXT("k8s.pod.label[pod-template-hash]", "7d4b9c8f5");
	TEXT("k8s.pod.label[missing]", "<NA>");
	/* docker: no pod, nothing asked */
	asked[0] = '\0';
	exec_in(4502, "/system.slice/docker-" DOCK ".scope", 7007);
	TEXT("k8s.pod.labels", "<NA>");
	assert_string_equal(asked, "");
	ctx.podlabels = NULL;
	shk_podlabels_free(pl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kubernetes_container),
		cmocka_unit_test(test_docker_container),
		cmocka_unit_test(test_unknown_state),
		cmocka_unit_test(test_host),
		cmocka_unit_test(test_no_cache),
		cmocka_unit_test(test_pod_labels),
	};

	return cmocka_run_group_tests(tests, local_setup, local_teardown);
}
