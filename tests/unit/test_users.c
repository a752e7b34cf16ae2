/* SPDX-License-Identifier: Apache-2.0 */
/* uid/gid <-> name from a root's /etc files (detect/users.c). */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
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

#include "testlib.h"
#include "users.h"

static char root1[PATH_MAX], root2[PATH_MAX], root3[PATH_MAX];

static int group_setup(void **state)
{
	const char *data = test_env("SHRIKE_TEST_DATA");

	snprintf(root1, sizeof(root1), "%s/root1", data);
	snprintf(root2, sizeof(root2), "%s/root2", data);
	snprintf(root3, sizeof(root3), "%s/root3", data);
	return 0;
}

static void test_new_free(void **state)
{
	errno = 0;
	assert_null(shk_users_new(0, 0));
	assert_int_equal(errno, EINVAL);
	shk_users_free(NULL);
	shk_users_invalidate(NULL);
}

static void test_uid_names(void **state)
{
	static const struct {
		uint32_t uid;
		int err;
		const char *name;
	} cases[] = {
		{ 0, 0, "root" }, /* not "toor": the first entry wins */
		{ 1, 0, "daemon" },
		{ 33, 0, "www-data" },
		{ 998, 0, "systemd-network" },
		{ 1000, 0, "alice" },
		{ 1001, 0, "bob" },
		{ 1002, 0, "crlf" },
		{ 1003, 0, "lastuser" },  /* after a 9000-byte line, no final \n */
		{ 65534, 0, "nobody" },
		{ 4294967294u, 0, "max" },
		{ 4444, -ENOENT, NULL },  /* its line is longer than the bound */
		{ 2000, -ENOENT, NULL },  /* empty name */
		{ 100, -ENOENT, NULL },   /* only malformed lines have it */
		{ 12345, -ENOENT, NULL },
	};
	struct shk_users *u = shk_users_new(64, 0);
	char name[64];

	assert_non_null(u);
	/* twice: from the file, then from the cache */
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			strcpy(name, "unchanged");
			assert_int_equal(shk_users_uid_name(u, root1, cases[i].uid, name,
							    sizeof(name)),
					 cases[i].err);
			assert_string_equal(name, cases[i].name ? cases[i].name : "unchanged");
		}
	}
	shk_users_free(u);
}

static void test_gid_names(void **state)
{
	struct shk_users *u = shk_users_new(64, 0);
	char name[32];

	assert_int_equal(shk_users_gid_name(u, root1, 27, name, sizeof(name)), 0);
	assert_string_equal(name, "sudo");
	assert_int_equal(shk_users_gid_name(u, root1, 999, name, sizeof(name)), 0);
	assert_string_equal(name, "docker");
	assert_int_equal(shk_users_gid_name(u, root1, 65534, name, sizeof(name)), 0);
	assert_string_equal(name, "nogroup");
	assert_int_equal(shk_users_gid_name(u, root1, 1001, name, sizeof(name)), -ENOENT);
	/* a uid is not a gid: 998 is only in passwd */
	assert_int_equal(shk_users_gid_name(u, root1, 998, name, sizeof(name)), -ENOENT);
	shk_users_free(u);
}

/* The same ids, other names: each root answers for itself. */
static void test_per_root(void **state)
{
	struct shk_users *u = shk_users_new(64, 0);
	char name[32];

	assert_int_equal(shk_users_uid_name(u, root1, 1000, name, sizeof(name)), 0);
	assert_string_equal(name, "alice");
	assert_int_equal(shk_users_uid_name(u, root2, 1000, name, sizeof(name)), 0);
	assert_string_equal(name, "app");
	assert_int_equal(shk_users_uid_name(u, root2, 101, name, sizeof(name)), 0);
	assert_string_equal(name, "nginx");
	assert_int_equal(shk_users_uid_name(u, root1, 101, name, sizeof(name)), -ENOENT);
	/* root2 has no /etc/group */
	assert_int_equal(shk_users_gid_name(u, root2, 0, name, sizeof(name)), -ENOENT);
	shk_users_free(u);
}

static void test_name_to_id(void **state)
{
	struct shk_users *u = shk_users_new(64, 0);
	uint32_t id;

	assert_int_equal(shk_users_name_uid(u, root1, "alice", &id), 0);
	assert_int_equal(id, 1000);
	assert_int_equal(shk_users_name_uid(u, root1, "www-data", &id), 0);
	assert_int_equal(id, 33);
	assert_int_equal(shk_users_name_uid(u, root1, "toor", &id), 0);
	assert_int_equal(id, 0);
	assert_int_equal(shk_users_name_uid(u, root1, "max", &id), 0);
	assert_int_equal(id, 4294967294u);
	assert_int_equal(shk_users_name_uid(u, root2, "nginx", &id), 0);
	assert_int_equal(id, 101);
	assert_int_equal(shk_users_name_gid(u, root1, "docker", &id), 0);
	assert_int_equal(id, 999);

	id = 777;
	assert_int_equal(shk_users_name_uid(u, root1, "mallory", &id), -ENOENT); /* NIS */
	assert_int_equal(shk_users_name_uid(u, root1, "huge", &id), -ENOENT); /* 2^32 */
	assert_int_equal(shk_users_name_uid(u, root1, "neg", &id), -ENOENT);
	assert_int_equal(shk_users_name_uid(u, root1, "badid", &id), -ENOENT);
	assert_int_equal(shk_users_name_uid(u, root1, "longgecos", &id), -ENOENT);
	assert_int_equal(shk_users_name_uid(u, root1, "nosuchuser", &id), -ENOENT);
	assert_int_equal(id, 777);
	assert_int_equal(shk_users_name_uid(u, root1, "", &id), -EINVAL);
	assert_int_equal(shk_users_name_uid(u, root1, "root:x", &id), -EINVAL);
	assert_int_equal(shk_users_name_uid(u, root1, NULL, &id), -EINVAL);
	assert_int_equal(shk_users_name_uid(u, root1, "alice", NULL), -EINVAL);
	shk_users_free(u);
}

static void test_errors(void **state)
{
	struct shk_users *u = shk_users_new(8, 0);
	char name[16], file[PATH_MAX + 16];

	assert_int_equal(shk_users_uid_name(u, "/nonexistent-root", 0, name, sizeof(name)),
			 -ENOENT);
	snprintf(file, sizeof(file), "%s/etc/passwd", root1);
	assert_int_equal(shk_users_uid_name(u, file, 0, name, sizeof(name)), -ENOTDIR);
	/* "www-data" needs 9 bytes */
	assert_int_equal(shk_users_uid_name(u, root1, 33, name, 8), -ENAMETOOLONG);
	assert_int_equal(shk_users_uid_name(u, root1, 33, name, 9), 0);
	assert_string_equal(name, "www-data");
	assert_int_equal(shk_users_uid_name(u, root1, 33, name, 0), -EINVAL);
	assert_int_equal(shk_users_uid_name(u, root1, 33, NULL, 9), -EINVAL);
	assert_int_equal(shk_users_uid_name(NULL, root1, 33, name, 9), -EINVAL);
	shk_users_free(u);
}

/* Symlinks in a root resolve inside it, never to the host's files. */
static void test_symlinks_stay_in_root(void **state)
{
	struct shk_users *u = shk_users_new(8, 0);
	char name[16];

	assert_int_equal(shk_users_uid_name(u, root3, 0, name, sizeof(name)), 0);
	assert_string_equal(name, "croot");
	assert_int_equal(shk_users_gid_name(u, root3, 0, name, sizeof(name)), 0);
	assert_string_equal(name, "cgroup0");
	shk_users_free(u);
}

static void write_passwd(const char *root, const char *content)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/etc/passwd", root);
	assert_int_equal(test_write_file(path, content), 0);
}

static void test_cache_invalidate_ttl(void **state)
{
	char *tmp = test_tmpdir(), etc[PATH_MAX], alias[PATH_MAX], name[32];
	struct shk_users *u = shk_users_new(16, 0);
	uint32_t id;

	snprintf(etc, sizeof(etc), "%s/etc", tmp);
	assert_int_equal(mkdir(etc, 0755), 0);
	write_passwd(tmp, "alice:x:1000:1000::/home/alice:/bin/sh\n");
	assert_int_equal(shk_users_uid_name(u, tmp, 1000, name, sizeof(name)), 0);
	assert_string_equal(name, "alice");
	assert_int_equal(shk_users_uid_name(u, tmp, 2000, name, sizeof(name)), -ENOENT);

	/* answers, negative ones too, are kept until invalidated */
	write_passwd(tmp, "carol:x:1000:1000::/:/bin/sh\ndave:x:2000:2000::/:/bin/sh\n");
	assert_int_equal(shk_users_uid_name(u, tmp, 1000, name, sizeof(name)), 0);
	assert_string_equal(name, "alice");
	assert_int_equal(shk_users_uid_name(u, tmp, 2000, name, sizeof(name)), -ENOENT);
	/* keyed by the directory, not by its spelling */
	snprintf(alias, sizeof(alias), "%s/etc/..", tmp);
	assert_int_equal(shk_users_uid_name(u, alias, 1000, name, sizeof(name)), 0);
	assert_string_equal(name, "alice");

	shk_users_invalidate(u);
	assert_int_equal(shk_users_uid_name(u, tmp, 1000, name, sizeof(name)), 0);
	assert_string_equal(name, "carol");
	assert_int_equal(shk_users_uid_name(u, tmp, 2000, name, sizeof(name)), 0);
	assert_string_equal(name, "dave");
	assert_int_equal(shk_users_name_uid(u, tmp, "dave", &id), 0);
	assert_int_equal(id, 2000);
	shk_users_free(u);

	/* a 1 ns TTL: every answer is stale by the next call */
	u = shk_users_new(16, 1);
	assert_int_equal(shk_users_uid_name(u, tmp, 1000, name, sizeof(name)), 0);
	assert_string_equal(name, "carol");
	write_passwd(tmp, "erin:x:1000:1000::/:/bin/sh\n");
	assert_int_equal(shk_users_uid_name(u, tmp, 1000, name, sizeof(name)), 0);
	assert_string_equal(name, "erin");
	assert_int_equal(shk_users_name_uid(u, tmp, "dave", &id), -ENOENT);
	shk_users_free(u);

	/* a FIFO must not block us, a directory is not a passwd file */
	u = shk_users_new(16, 0);
	snprintf(alias, sizeof(alias), "%s/etc/passwd", tmp);
	assert_int_equal(unlink(alias), 0);
	assert_int_equal(mkfifo(alias, 0644), 0);
	assert_int_equal(shk_users_uid_name(u, tmp, 1000, name, sizeof(name)), -ENOENT);
	assert_int_equal(unlink(alias), 0);
	assert_int_equal(mkdir(alias, 0755), 0);
	assert_int_equal(shk_users_name_uid(u, tmp, "erin", &id), -ENOENT);
	assert_int_equal(rmdir(alias), 0);
	assert_int_equal(rmdir(etc), 0);
	assert_int_equal(rmdir(tmp), 0);
	free(tmp);
	shk_users_free(u);
}

/* A tiny cache still answers right; it only forgets sooner. */
static void test_small_cache(void **state)
{
	static const uint32_t uids[] = { 0, 1, 2, 3, 33, 1000, 1001, 65534 };
	static const char *const names[] = { "root", "daemon", "bin", "sys",
					     "www-data", "alice", "bob", "nobody" };
	struct shk_users *u = shk_users_new(2, 0);
	char name[32];

	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < sizeof(uids) / sizeof(uids[0]); i++) {
			assert_int_equal(shk_users_uid_name(u, root1, uids[i], name,
							    sizeof(name)),
					 0);
			assert_string_equal(name, names[i]);
		}
	}
	shk_users_free(u);
}

static void test_host_root(void **state)
{
	struct shk_users *u = shk_users_new(8, 0);
	struct passwd *pw = getpwuid(0);
	char name[64];

	if (!pw) {
		shk_users_free(u);
		skip();
	}
	assert_int_equal(shk_users_uid_name(u, NULL, 0, name, sizeof(name)), 0);
	assert_string_equal(name, pw->pw_name);
	assert_int_equal(shk_users_uid_name(u, "/", 0, name, sizeof(name)), 0);
	assert_string_equal(name, pw->pw_name);
	shk_users_free(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_free),
		cmocka_unit_test(test_uid_names),
		cmocka_unit_test(test_gid_names),
		cmocka_unit_test(test_per_root),
		cmocka_unit_test(test_name_to_id),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_symlinks_stay_in_root),
		cmocka_unit_test(test_cache_invalidate_ttl),
		cmocka_unit_test(test_small_cache),
		cmocka_unit_test(test_host_root),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
