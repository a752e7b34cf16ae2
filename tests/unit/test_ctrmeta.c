/* SPDX-License-Identifier: Apache-2.0 */
/* Container metadata from runtime state files (detect/ctrmeta.c): the
 * fixtures under tests/unit/data/containers are written in the formats
 * containerd, CRI-O and docker write; hostile files are made here. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "ctrmeta.h"
#include "testlib.h"

#define CTRD "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
#define PRIV "b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1"
#define MOBY "c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2"
#define CRIO "d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3"
#define DOCK "e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4"
#define TRUNC "f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5"
#define DBAD "0718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6"
#define SBOX "18293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f607"
#define NONE "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"

static char ctrd_root[PATH_MAX], crio_root[PATH_MAX], docker_root[PATH_MAX];
static struct shk_ctr_roots roots;

static int setup(void **state)
{
	const char *data = test_env("SHRIKE_TEST_DATA");

	snprintf(ctrd_root, sizeof(ctrd_root), "%s/containers/containerd", data);
	snprintf(crio_root, sizeof(crio_root), "%s/containers/crio", data);
	snprintf(docker_root, sizeof(docker_root), "%s/containers/docker", data);
	roots = (struct shk_ctr_roots){ ctrd_root, crio_root, docker_root };
	return 0;
}

static void assert_str_or_null(const char *got, const char *want)
{
	if (!want)
		assert_null(got);
	else
		assert_non_null(got), assert_string_equal(got, want);
}

static void test_containerd_cri(void **state)
{
	struct shk_ctr_meta m;

	assert_int_equal(shk_ctr_meta_load(&roots, SHK_CTR_CONTAINERD, CTRD, &m), 0);
	assert_int_equal(m.type, SHK_CTR_CONTAINERD);
	assert_string_equal(m.name, "nginx");
	assert_string_equal(m.pod_name, "web-7d4b9c8f5-x2x9q");
	assert_string_equal(m.pod_ns, "shop");
	assert_string_equal(m.pod_uid, "7c3a9d1e-5b2f-4e8a-9c6d-0f1e2a3b4c5d");
	assert_string_equal(m.sandbox_id,
			    "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0");
	assert_string_equal(m.image, "docker.io/library/nginx:1.25.3");
	assert_string_equal(m.image_repo, "docker.io/library/nginx");
	assert_string_equal(m.image_tag, "1.25.3");
	assert_null(m.image_digest);
	assert_true(m.privileged_known);
	assert_false(m.privileged);
	assert_false(m.is_sandbox);
	assert_int_equal(m.start_ts, 0);
	/* bind mounts only: not /proc, /dev, /sys */
	assert_int_equal(m.nmounts, 3);
	assert_string_equal(m.mounts[0].dest, "/etc/hosts");
	assert_true(m.mounts[0].rw);
	assert_string_equal(m.mounts[0].propagation, "rprivate");
	assert_string_equal(m.mounts[1].dest, "/var/run/secrets/kubernetes.io/serviceaccount");
	assert_false(m.mounts[1].rw);
	assert_string_equal(m.mounts[2].source, "/data/www");
	assert_string_equal(m.mounts[2].propagation, "rslave");
	assert_null(m.mounts[2].mode);
	shk_ctr_meta_free(&m);
	shk_ctr_meta_free(&m); /* idempotent */
}

static void test_containerd_privileged_digest(void **state)
{
	struct shk_ctr_meta m;

	assert_int_equal(shk_ctr_meta_load(&roots, SHK_CTR_CONTAINERD, PRIV, &m), 0);
	assert_true(m.privileged_known && m.privileged);
	assert_string_equal(m.image_repo, "quay.io/cilium/cilium");
	assert_string_equal(m.image_tag, "v1.15.1");
	assert_string_equal(m.image_digest, "sha256:351d6685dc6f6ffbcd5451043167cfa8842c6decf80d8c8e"
					    "426a417c73fb56d4");
	assert_string_equal(m.pod_ns, "kube-system");
	assert_int_equal(m.nmounts, 1);
	assert_string_equal(m.mounts[0].propagation, "rshared");
	shk_ctr_meta_free(&m);
}

/* Another containerd namespace (docker's moby), no CRI annotations. */
static void test_containerd_other_namespace(void **state)
{
	struct shk_ctr_meta m;

	assert_int_equal(shk_ctr_meta_load(&roots, SHK_CTR_CONTAINERD, MOBY, &m), 0);
	assert_null(m.name);
	assert_null(m.image);
	assert_null(m.pod_name);
	assert_true(m.privileged_known);
	assert_false(m.privileged);
	assert_int_equal(m.nmounts, 0);
	shk_ctr_meta_free(&m);
}

static void test_containerd_sandbox(void **state)
{
	struct shk_ctr_meta m;

	assert_int_equal(shk_ctr_meta_load(&roots, SHK_CTR_CONTAINERD, SBOX, &m), 0);
	assert_true(m.is_sandbox);
	assert_null(m.name);
	assert_string_equal(m.sandbox_id, SBOX);
	assert_string_equal(m.pod_name, "web-7d4b9c8f5-x2x9q");
	shk_ctr_meta_free(&m);
}

static void test_crio(void **state)
{
	struct shk_ctr_meta m;

	assert_int_equal(shk_ctr_meta_load(&roots, SHK_CTR_CRIO, CRIO, &m), 0);
	assert_int_equal(m.type, SHK_CTR_CRIO);
	assert_string_equal(m.name, "busybox");
	assert_string_equal(m.pod_name, "busy-6f9c7b8d4-abcde");
	assert_string_equal(m.pod_ns, "tools");
	assert_string_equal(m.pod_uid, "1e2d3c4b-5a69-4788-97a6-b5c4d3e2f100");
	assert_string_equal(m.image_repo, "registry.example.com:5000/tools/busybox");
	assert_string_equal(m.image_tag, "1.36");
	assert_string_equal(m.sandbox_id,
			    "5b6c7d8e9f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4");
	assert_string_equal(m.ip, "10.244.1.17");
	assert_true(m.start_ts == 1714557600123456789LL);
	assert_true(m.privileged_known);
	assert_false(m.privileged);
	assert_int_equal(m.nmounts, 1);
	assert_string_equal(m.mounts[0].dest, "/etc/resolv.conf");
	assert_false(m.mounts[0].rw);
	shk_ctr_meta_free(&m);
}

/* The kubelet's cgroupfs layout does not say which runtime: every root is
 * tried, and the answer names the runtime that had the state. */
static void test_cri_any_runtime(void **state)
{
	struct shk_ctr_meta m;

	assert_int_equal(shk_ctr_meta_load(&roots, SHK_CTR_CRI, CRIO, &m), 0);
	assert_int_equal(m.type, SHK_CTR_CRIO);
	shk_ctr_meta_free(&m);
	assert_int_equal(shk_ctr_meta_load(&roots, SHK_CTR_CRI, CTRD, &m), 0);
	assert_int_equal(m.type, SHK_CTR_CONTAINERD);
	shk_ctr_meta_free(&m);
	assert_int_equal(shk_ctr_meta_load(&roots, SHK_CTR_CRI, DOCK, &m), 0);
	assert_int_equal(m.type, SHK_CTR_DOCKER);
	shk_ctr_meta_free(&m);
	/* but a named runtime is only looked up where it keeps state */
	assert_int_equal(shk_ctr_meta_load(&roots, SHK_CTR_DOCKER, CTRD, &m), -ENOENT);
	assert_int_equal(shk_ctr_meta_load(&roots, SHK_CTR_CONTAINERD, CRIO, &m), -ENOENT);
}

static void test_docker(void **state)
{
	struct shk_ctr_meta m;

	assert_int_equal(shk_ctr_meta_load(&roots, SHK_CTR_DOCKER, DOCK, &m), 0);
	assert_int_equal(m.type, SHK_CTR_DOCKER);
	assert_string_equal(m.name, "cache");
	assert_string_equal(m.image, "redis:7.2");
	assert_string_equal(m.image_repo, "redis");
	assert_string_equal(m.image_tag, "7.2");
	assert_string_equal(m.image_id,
			    "sha256:7fc37b47acde2ed7e9ba8a1cfb4a1d6f8b2d2c8c6c7d5e9f0a1b2c3d4e5f6071");
	assert_string_equal(m.ip, "172.17.0.3");
	assert_true(m.start_ts == 1709367330500000000LL);
	assert_true(m.privileged_known && m.privileged);
	assert_null(m.pod_name);
	assert_int_equal(m.nmounts, 2);
	assert_string_equal(m.mounts[0].dest, "/data");
	assert_true(m.mounts[0].rw);
	assert_string_equal(m.mounts[1].source, "/srv/redis/conf");
	assert_false(m.mounts[1].rw);
	assert_string_equal(m.mounts[1].mode, "ro");
	assert_string_equal(m.mounts[1].propagation, "rprivate");
	shk_ctr_meta_free(&m);
}

static void test_bad_files(void **state)
{
	struct shk_ctr_meta m;
	struct shk_ctr_roots none = { 0 };

	assert_int_equal(shk_ctr_meta_load(&roots, SHK_CTR_CONTAINERD, TRUNC, &m), -EBADMSG);
	assert_null(m.name);
	assert_int_equal(shk_ctr_meta_load(&roots, SHK_CTR_DOCKER, DBAD, &m), -EBADMSG);
	assert_int_equal(shk_ctr_meta_load(&roots, SHK_CTR_CRI, NONE, &m), -ENOENT);
	assert_int_equal(shk_ctr_meta_load(&none, SHK_CTR_CRI, CTRD, &m), -ENOENT);
	/* the id becomes a path: nothing but 64 hex digits */
	assert_int_equal(shk_ctr_meta_load(&roots, SHK_CTR_DOCKER, "../../../../etc/passwd", &m),
			 -EINVAL);
	assert_int_equal(shk_ctr_meta_load(&roots, SHK_CTR_DOCKER, "e5f60718293a", &m), -EINVAL);
	assert_int_equal(shk_ctr_meta_load(&roots, SHK_CTR_DOCKER, NULL, &m), -EINVAL);
}

/* Symlinks, directories, huge files and wrong types in a scratch root. */
static void test_hostile_files(void **state)
{
	char *dir = test_tmpdir(), p[PATH_MAX], q[PATH_MAX + 128];
	struct shk_ctr_roots r = { .crio = dir };
	struct shk_ctr_meta m;
	char *big;
	int fd;

	snprintf(p, sizeof(p), "%s/" CRIO, dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/" CRIO "/userdata", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/" CRIO "/userdata/config.json", dir);

	/* a symlink to a real spec is not followed */
	snprintf(q, sizeof(q), "%s/" CRIO "/userdata/config.json", crio_root);
	assert_int_equal(symlink(q, p), 0);
	assert_int_equal(shk_ctr_meta_load(&r, SHK_CTR_CRIO, CRIO, &m), -EBADMSG);
	unlink(p);

	/* a directory */
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(shk_ctr_meta_load(&r, SHK_CTR_CRIO, CRIO, &m), -EBADMSG);
	rmdir(p);

	/* over the size cap, even if it were valid JSON */
	big = malloc(SHK_CTRMETA_FILE_MAX + 2);
	assert_non_null(big);
	memset(big, ' ', SHK_CTRMETA_FILE_MAX + 1);
	memcpy(big, "{\"ociVersion\":\"1.0.0\"}", 22);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, big, SHK_CTRMETA_FILE_MAX + 1), SHK_CTRMETA_FILE_MAX + 1);
	close(fd);
	assert_int_equal(shk_ctr_meta_load(&r, SHK_CTR_CRIO, CRIO, &m), -EBADMSG);
	/* at the cap it is read */
	assert_int_equal(truncate(p, SHK_CTRMETA_FILE_MAX), 0);
	assert_int_equal(shk_ctr_meta_load(&r, SHK_CTR_CRIO, CRIO, &m), 0);
	shk_ctr_meta_free(&m);
	free(big);

	/* every field of the wrong type: loaded, nothing made up */
	assert_int_equal(test_write_file(p, "{\"ociVersion\":\"1.0.0\",\"annotations\":{"
					    "\"io.kubernetes.container.name\":7,"
					    "\"io.kubernetes.pod.name\":[\"x\"],"
					    "\"io.kubernetes.cri-o.ImageName\":\"\","
					    "\"io.kubernetes.cri-o.Created\":\"yesterday\"},"
					    "\"process\":{\"capabilities\":{\"bounding\":\"all\"}},"
					    "\"mounts\":{\"type\":\"bind\"}}"),
			 0);
	assert_int_equal(shk_ctr_meta_load(&r, SHK_CTR_CRIO, CRIO, &m), 0);
	assert_null(m.name);
	assert_null(m.pod_name);
	assert_null(m.image);
	assert_null(m.image_repo);
	assert_int_equal(m.start_ts, 0);
	assert_false(m.privileged_known);
	assert_int_equal(m.nmounts, 0);
	shk_ctr_meta_free(&m);

	/* valid JSON, not a spec */
	assert_int_equal(test_write_file(p, "\"ociVersion\""), 0);
	assert_int_equal(shk_ctr_meta_load(&r, SHK_CTR_CRIO, CRIO, &m), -EBADMSG);
	assert_int_equal(test_write_file(p, ""), 0);
	assert_int_equal(shk_ctr_meta_load(&r, SHK_CTR_CRIO, CRIO, &m), -EBADMSG);
	unlink(p);
	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	assert_int_equal(system(p), 0);
	free(dir);
}

/* More mounts than the cap: the first SHK_CTRMETA_MOUNTS_MAX are kept. */
static void test_many_mounts(void **state)
{
	size_t cap = 200 * 80 + 64, n = 0;
	char *js = malloc(cap);
	struct shk_ctr_meta m;

	assert_non_null(js);
	n += (size_t)snprintf(js + n, cap - n, "{\"ociVersion\":\"1.1.0\",\"mounts\":[");
	for (int i = 0; i < 200; i++)
		n += (size_t)snprintf(js + n, cap - n,
				      "%s{\"destination\":\"/m%d\",\"type\":\"bind\",\"source\":\"/s\"}",
				      i ? "," : "", i);
	n += (size_t)snprintf(js + n, cap - n, "]}");
	assert_int_equal(shk_ctr_meta_from_oci(js, n, SHK_CTR_CONTAINERD, &m), 0);
	assert_int_equal(m.nmounts, SHK_CTRMETA_MOUNTS_MAX);
	assert_string_equal(m.mounts[SHK_CTRMETA_MOUNTS_MAX - 1].dest, "/m63");
	shk_ctr_meta_free(&m);
	free(js);
}

struct icase {
	const char *in, *repo, *tag, *digest;
};

static void test_image_split(void **state)
{
	static const struct icase cases[] = {
		{ "nginx", "nginx", NULL, NULL },
		{ "nginx:1.25", "nginx", "1.25", NULL },
		{ "docker.io/library/nginx:1.25.3", "docker.io/library/nginx", "1.25.3", NULL },
		{ "localhost:5000/app", "localhost:5000/app", NULL, NULL },
		{ "localhost:5000/team/app:v2", "localhost:5000/team/app", "v2", NULL },
		{ "app@sha256:abcd", "app", NULL, "sha256:abcd" },
		{ "reg:443/a/b:t@sha256:ef01", "reg:443/a/b", "t", "sha256:ef01" },
		{ "app:", "app", NULL, NULL },
		{ ":tag", NULL, "tag", NULL },
		{ "@", NULL, NULL, NULL },
	};
	char *r, *t, *d;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("%s\n", cases[i].in);
		assert_int_equal(shk_image_split(cases[i].in, &r, &t, &d), 0);
		assert_str_or_null(r, cases[i].repo);
		assert_str_or_null(t, cases[i].tag);
		assert_str_or_null(d, cases[i].digest);
		free(r);
		free(t);
		free(d);
	}
	assert_int_equal(shk_image_split("", &r, &t, &d), -EINVAL);
	assert_int_equal(shk_image_split(NULL, &r, &t, &d), -EINVAL);
}

static void test_rfc3339(void **state)
{
	int64_t ns;

	assert_int_equal(shk_rfc3339_ns("2024-05-01T10:00:00.123456789Z", &ns), 0);
	assert_true(ns == 1714557600123456789LL);
	assert_int_equal(shk_rfc3339_ns("2024-03-02T08:15:30.5Z", &ns), 0);
	assert_true(ns == 1709367330500000000LL);
	assert_int_equal(shk_rfc3339_ns("2024-03-02T08:15:30+02:30", &ns), 0);
	assert_true(ns == 1709358330000000000LL);
	assert_int_equal(shk_rfc3339_ns("2024-03-02T08:15:30", &ns), -EINVAL);
	assert_int_equal(shk_rfc3339_ns("2024-13-02T08:15:30Z", &ns), -EINVAL);
	assert_int_equal(shk_rfc3339_ns("2024-03-02T08:15:30Zjunk", &ns), -EINVAL);
	assert_int_equal(shk_rfc3339_ns("yesterday", &ns), -EINVAL);
	assert_int_equal(shk_rfc3339_ns(NULL, &ns), -EINVAL);
}

static void test_roots_parse(void **state)
{
	struct shk_ctr_roots r;
	char good[] = "containerd=/tmp/c,docker=,crio=/x/y";
	char bad1[] = "containerd=/a,podman=/b";
	char bad2[] = "docker=relative";
	char bad3[] = "docker";
	const char *at = NULL;

	shk_ctr_roots_default(&r);
	assert_string_equal(r.docker, SHK_CTR_ROOT_DOCKER);
	assert_int_equal(shk_ctr_roots_parse(&r, good, &at), 0);
	assert_string_equal(r.containerd, "/tmp/c");
	assert_null(r.docker);
	assert_string_equal(r.crio, "/x/y");
	shk_ctr_roots_default(&r);
	assert_int_equal(shk_ctr_roots_parse(&r, bad1, &at), -EINVAL);
	assert_string_equal(at, "podman=/b");
	assert_string_equal(r.containerd, SHK_CTR_ROOT_CONTAINERD); /* unchanged */
	assert_int_equal(shk_ctr_roots_parse(&r, bad2, &at), -EINVAL);
	assert_int_equal(shk_ctr_roots_parse(&r, bad3, &at), -EINVAL);
	assert_int_equal(shk_ctr_roots_parse(&r, NULL, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_containerd_cri),
		cmocka_unit_test(test_containerd_privileged_digest),
		cmocka_unit_test(test_containerd_other_namespace),
		cmocka_unit_test(test_containerd_sandbox),
		cmocka_unit_test(test_crio),
		cmocka_unit_test(test_cri_any_runtime),
		cmocka_unit_test(test_docker),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_hostile_files),
		cmocka_unit_test(test_many_mounts),
		cmocka_unit_test(test_image_split),
		cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_roots_parse),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
