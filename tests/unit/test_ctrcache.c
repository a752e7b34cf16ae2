/* SPDX-License-Identifier: Apache-2.0 */
/* The container cache (detect/containers.c): hits, bounded retries that
 * never become permanent, LRU bounds, eviction of gone cgroups. State
 * files come from tests/unit/data/containers or a scratch root; "cgroups"
 * for the sweep are plain directories whose inode is their id. */
#include <errno.h>
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

#include "containers.h"
#include "testlib.h"

#define CTRD "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
#define LATE "5555555555555555555555555555555555555555555555555555555555555555"
#define UIDU "7c3a9d1e_5b2f_4e8a_9c6d_0f1e2a3b4c5d"
#define POD "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDU ".slice"
#define MS 1000000ull

static char ctrd_root[PATH_MAX];
static char *tmp;

static int setup(void **state)
{
	snprintf(ctrd_root, sizeof(ctrd_root), "%s/containers/containerd",
		 test_env("SHRIKE_TEST_DATA"));
	tmp = test_tmpdir();
	return 0;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd))
		return -1;
	free(tmp);
	return 0;
}

static struct shk_containers *cache(size_t cap, const char *crio_root)
{
	struct shk_containers_opts o = {
		.roots = { .containerd = ctrd_root, .crio = crio_root },
		.capacity = cap,
		.retry_min_ns = 100 * MS,
		.retry_max_ns = 400 * MS,
		.cgroup_root = tmp,
		.proc_root = tmp,
	};
	struct shk_containers *c = shk_containers_new(&o);

	assert_non_null(c);
	return c;
}

static void test_host_and_container(void **state)
{
	struct shk_containers *c = cache(0, NULL);
	const struct shk_container *k;
	struct shk_containers_stats st;

	k = shk_containers_get(c, 10, "/user.slice/user-0.slice/session-1.scope", 0, 0);
	assert_non_null(k);
	assert_int_equal(k->ident.runtime, SHK_CTR_HOST);
	assert_null(k->meta);
	k = shk_containers_get(c, 11, POD "/cri-containerd-" CTRD ".scope", 0, 0);
	assert_non_null(k);
	assert_int_equal(k->ident.runtime, SHK_CTR_CONTAINERD);
	assert_non_null(k->meta);
	assert_string_equal(k->meta->name, "nginx");
	assert_string_equal(k->ident.pod_uid, "7c3a9d1e-5b2f-4e8a-9c6d-0f1e2a3b4c5d");
	/* the second time, from the cache: no path needed */
	k = shk_containers_get(c, 11, NULL, 0, 1);
	assert_non_null(k);
	assert_string_equal(k->meta->pod_ns, "shop");
	k = shk_containers_get(c, 10, NULL, 0, 1);
	assert_int_equal(k->ident.runtime, SHK_CTR_HOST);
	shk_containers_stats(c, &st);
	assert_int_equal(st.size, 2);
	assert_int_equal(st.lookups, 2);
	assert_int_equal(st.hits, 2);
	assert_int_equal(st.loads, 1);
	assert_int_equal(st.misses + st.retries + st.parse_errors, 0);
	/* unknown id, no path, no pid: nothing to say */
	assert_null(shk_containers_get(c, 12, NULL, 0, 1));
	shk_containers_free(c);
	shk_containers_free(NULL);
}

static void write_spec(const char *root, const char *id, const char *body)
{
	char p[PATH_MAX + 128];

	snprintf(p, sizeof(p), "%s/%s", root, id);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/%s/userdata", root, id);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/%s/userdata/config.json", root, id);
	assert_int_equal(test_write_file(p, body), 0);
}

/* State that shows up late is picked up: misses are retried with a
 * doubling, capped backoff, and never cached as final. */
static void test_late_state(void **state)
{
	char root[PATH_MAX];
	struct shk_containers *c;
	const struct shk_container *k;
	struct shk_containers_stats st;
	uint64_t t = 1000 * MS;

	snprintf(root, sizeof(root), "%s/crio-late", tmp);
	assert_int_equal(mkdir(root, 0700), 0);
	c = cache(0, root);
	k = shk_containers_get(c, 20, POD "/crio-" LATE ".scope", 0, t);
	assert_non_null(k);
	assert_string_equal(k->ident.short_id, "555555555555");
	assert_null(k->meta);
	/* within the backoff: no new attempt */
	k = shk_containers_get(c, 20, NULL, 0, t + 50 * MS);
	assert_null(k->meta);
	shk_containers_stats(c, &st);
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.retries, 0);
	/* 100, then 200, then 400, 400, 400 ms: many misses, still retried */
	t += 100 * MS;
	k = shk_containers_get(c, 20, NULL, 0, t);
	t += 199 * MS;
	k = shk_containers_get(c, 20, NULL, 0, t); /* too early */
	t += 1 * MS;
	k = shk_containers_get(c, 20, NULL, 0, t);
	for (int i = 0; i < 5; i++) {
		t += 400 * MS;
		k = shk_containers_get(c, 20, NULL, 0, t);
	}
	shk_containers_stats(c, &st);
	assert_int_equal(st.misses, 8);
	assert_int_equal(st.retries, 7);
	assert_null(k->meta);

	/* half written: a parse error, retried too */
	write_spec(root, LATE, "{\"ociVersion\":\"1.0.2\",\"annot");
	t += 400 * MS;
	k = shk_containers_get(c, 20, NULL, 0, t);
	assert_null(k->meta);
	shk_containers_stats(c, &st);
	assert_int_equal(st.parse_errors, 1);

	write_spec(root, LATE,
		   "{\"ociVersion\":\"1.0.2\",\"annotations\":{\"io.kubernetes.container.name\":"
		   "\"late\",\"io.kubernetes.pod.name\":\"p\"}}");
	k = shk_containers_get(c, 20, NULL, 0, t + 399 * MS); /* the cap holds */
	assert_null(k->meta);
	k = shk_containers_get(c, 20, NULL, 0, t + 400 * MS);
	assert_non_null(k->meta);
	assert_string_equal(k->meta->name, "late");
	shk_containers_stats(c, &st);
	assert_int_equal(st.loads, 1);
	/* and now it stays: no more attempts */
	k = shk_containers_get(c, 20, NULL, 0, t + 10000 * MS);
	shk_containers_stats(c, &st);
	assert_int_equal(st.loads, 1);
	assert_int_equal(st.retries, 9);
	shk_containers_free(c);
}

/* Bounded: the least recently used entry makes room. */
static void test_lru(void **state)
{
	struct shk_containers *c = cache(2, NULL);
	struct shk_containers_stats st;

	assert_non_null(shk_containers_get(c, 1, "/a", 0, 0));
	assert_non_null(shk_containers_get(c, 2, "/b", 0, 0));
	assert_non_null(shk_containers_get(c, 1, NULL, 0, 0)); /* 2 is now the oldest */
	assert_non_null(shk_containers_get(c, 3, "/c", 0, 0));
	shk_containers_stats(c, &st);
	assert_int_equal(st.size, 2);
	assert_int_equal(st.evictions, 1);
	assert_null(shk_containers_get(c, 2, NULL, 0, 0));
	assert_non_null(shk_containers_get(c, 1, NULL, 0, 0));
	assert_non_null(shk_containers_get(c, 3, NULL, 0, 0));
	/* many more than the capacity */
	for (uint64_t i = 100; i < 1100; i++)
		assert_non_null(shk_containers_get(c, i, "/x", 0, 0));
	shk_containers_stats(c, &st);
	assert_int_equal(st.size, 2);
	assert_int_equal(st.evictions, 1001);
	assert_non_null(shk_containers_get(c, 1099, NULL, 0, 0));
	shk_containers_free(c);
}

static uint64_t mkcg(const char *rel)
{
	char p[PATH_MAX];
	struct stat st;

	snprintf(p, sizeof(p), "%s%s", tmp, rel);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(stat(p, &st), 0);
	return st.st_ino;
}

/* Entries leave with their cgroup, or when the name is a new cgroup. */
static void test_sweep_and_forget(void **state)
{
	struct shk_containers *c = cache(0, NULL);
	struct shk_containers_stats st;
	uint64_t a = mkcg("/cg-a"), b = mkcg("/cg-b"), d = mkcg("/cg-d");
	char p[PATH_MAX];

	assert_non_null(shk_containers_get(c, a, "/cg-a", 0, 0));
	assert_non_null(shk_containers_get(c, b, "/cg-b", 0, 0));
	assert_non_null(shk_containers_get(c, d, "/cg-d", 0, 0));
	assert_int_equal(shk_containers_sweep(c), 0);
	snprintf(p, sizeof(p), "%s/cg-a", tmp);
	assert_int_equal(rmdir(p), 0);
	/* same name, new directory: another cgroup. Made before the old one
	 * goes, so that the filesystem cannot hand it the old inode number
	 * (rmdir then mkdir sometimes did, and the test then saw one
	 * cgroup) */
	{
		char fresh[PATH_MAX + 8];

		snprintf(p, sizeof(p), "%s/cg-b", tmp);
		snprintf(fresh, sizeof(fresh), "%s.new", p);
		assert_int_equal(mkdir(fresh, 0700), 0);
		assert_int_equal(rmdir(p), 0);
		assert_int_equal(rename(fresh, p), 0);
	}
	assert_int_equal(shk_containers_sweep(c), 2);
	assert_null(shk_containers_get(c, a, NULL, 0, 0));
	assert_null(shk_containers_get(c, b, NULL, 0, 0));
	assert_non_null(shk_containers_get(c, d, NULL, 0, 0));
	shk_containers_forget(c, d);
	shk_containers_forget(c, 424242); /* unknown: nothing */
	assert_null(shk_containers_get(c, d, NULL, 0, 0));
	shk_containers_stats(c, &st);
	assert_int_equal(st.gone, 3);
	assert_int_equal(st.size, 0);
	shk_containers_free(c);
}

/* No path: the pid's /proc/<pid>/cgroup names it, once. */
static void test_pid_fallback(void **state)
{
	struct shk_containers *c = cache(0, NULL);
	const struct shk_container *k;
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/777", tmp);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/777/cgroup", tmp);
	assert_int_equal(test_write_file(p, "0::" POD "/cri-containerd-" CTRD ".scope\n"), 0);
	k = shk_containers_get(c, 30, NULL, 777, 0);
	assert_non_null(k);
	assert_int_equal(k->ident.runtime, SHK_CTR_CONTAINERD);
	assert_string_equal(k->meta->image_repo, "docker.io/library/nginx");
	assert_null(shk_containers_get(c, 31, NULL, 778, 0)); /* no such pid */
	shk_containers_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_and_container),
		cmocka_unit_test(test_late_state),
		cmocka_unit_test(test_lru),
		cmocka_unit_test(test_sweep_and_forget),
		cmocka_unit_test(test_pid_fallback),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
