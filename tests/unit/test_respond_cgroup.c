/* SPDX-License-Identifier: Apache-2.0 */
/* Cgroup discovery and path handling (respond/cgroup.c): mountinfo
 * fixtures under tests/unit/data/mountinfo, /proc/PID/cgroup texts, and
 * path joins. Nothing here writes to a cgroup. */
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

#include "cgroup.h"
#include "testlib.h"

static char data_dir[PATH_MAX];

static const char *fixture(const char *name)
{
	static char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/mountinfo/%s", data_dir, name);
	return path;
}

static void test_mounts_hybrid(void **state)
{
	struct shk_cgroup_mounts m;
	char buf[256];

	assert_int_equal(shk_cgroup_mounts_discover(fixture("hybrid"), &m), 0);
	assert_string_equal(m.v2, "/sys/fs/cgroup/unified");
	assert_string_equal(m.freezer, "/sys/fs/cgroup/freezer");
	/* "cpu" is one controller of a co-mounted pair. */
	assert_int_equal(shk_cgroup_find_v1_mount(fixture("hybrid"), "cpuacct",
						  buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/sys/fs/cgroup/cpu,cpuacct");
	assert_int_equal(shk_cgroup_find_v1_mount(fixture("hybrid"), "name=systemd",
						  buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/sys/fs/cgroup/systemd");
	/* A controller name must match a whole option, not a prefix. */
	assert_int_equal(shk_cgroup_find_v1_mount(fixture("hybrid"), "net",
						  buf, sizeof(buf)), -ENOENT);
	assert_int_equal(shk_cgroup_find_v1_mount(fixture("hybrid"), "rdma",
						  buf, sizeof(buf)), -ENOENT);
	assert_int_equal(shk_cgroup_find_v1_mount(fixture("hybrid"), "freezer",
						  buf, 8), -ENAMETOOLONG);
}

static void test_mounts_v2(void **state)
{
	struct shk_cgroup_mounts m;

	assert_int_equal(shk_cgroup_mounts_discover(fixture("v2"), &m), 0);
	/* The kubepods subtree bind mount listed later is not the root. */
	assert_string_equal(m.v2, "/sys/fs/cgroup");
	assert_string_equal(m.freezer, "");
}

static void test_mounts_v1(void **state)
{
	struct shk_cgroup_mounts m;
	char buf[256];

	assert_int_equal(shk_cgroup_mounts_discover(fixture("v1"), &m), 0);
	assert_string_equal(m.v2, "");
	/* The earlier "/docker" subtree mount is skipped, and the octal
	 * escape in the mount point is undone. */
	assert_string_equal(m.freezer, "/sys/fs/cgroup/freezer tree");
	assert_int_equal(shk_cgroup_find_v1_mount(fixture("v1"), "cpu", buf,
						  sizeof(buf)), 0);
	assert_string_equal(buf, "/sys/fs/cgroup/cpu,cpuacct");
}

static void test_mounts_none(void **state)
{
	struct shk_cgroup_mounts m;

	memset(&m, 0x5a, sizeof(m));
	/* Only subtree mounts (a container's view) and a garbage line. */
	assert_int_equal(shk_cgroup_mounts_discover(fixture("subtree-only"), &m),
			 -ENOENT);
	assert_int_equal((unsigned char)m.v2[0], 0x5a); /* untouched */
	assert_int_equal(shk_cgroup_mounts_discover(fixture("no-such-file"), &m),
			 -ENOENT);
	assert_int_equal(shk_cgroup_mounts_discover(fixture("v2"), NULL), -EINVAL);
}

static void test_mounts_live(void **state)
{
	struct shk_cgroup_mounts m;
	struct stat st;

	/* Whatever this host has, what we find must be a directory. */
	if (shk_cgroup_mounts_discover(NULL, &m))
		skip();
	if (m.v2[0])
		assert_int_equal(stat(m.v2, &st), 0);
	if (m.freezer[0])
		assert_int_equal(stat(m.freezer, &st), 0);
}

static const char proc_hybrid[] =
	"12:pids:/user.slice/user-1000.slice/session-3.scope\n"
	"9:cpu,cpuacct:/user.slice\n"
	"8:freezer:/kubepods/besteffort/pod1/abc\n"
	"1:name=systemd:/user.slice/user-1000.slice/session-3.scope\n"
	"0::/user.slice/user-1000.slice/session-3.scope\n";

static void test_parse_proc(void **state)
{
	char buf[256];

	assert_int_equal(shk_cgroup_parse_proc(proc_hybrid, strlen(proc_hybrid),
					       NULL, buf, sizeof(buf)),
			 (int)strlen("/user.slice/user-1000.slice/session-3.scope"));
	assert_string_equal(buf, "/user.slice/user-1000.slice/session-3.scope");
	assert_true(shk_cgroup_parse_proc(proc_hybrid, strlen(proc_hybrid),
					  "freezer", buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "/kubepods/besteffort/pod1/abc");
	assert_true(shk_cgroup_parse_proc(proc_hybrid, strlen(proc_hybrid),
					  "cpuacct", buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "/user.slice");
	assert_true(shk_cgroup_parse_proc(proc_hybrid, strlen(proc_hybrid),
					  "name=systemd", buf, sizeof(buf)) > 0);
	assert_int_equal(shk_cgroup_parse_proc(proc_hybrid, strlen(proc_hybrid),
					       "memory", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(shk_cgroup_parse_proc(proc_hybrid, strlen(proc_hybrid),
					       NULL, buf, 8), -ENAMETOOLONG);
}

static void test_parse_proc_edges(void **state)
{
	static const char v2only[] = "0::/\n";
	static const char v1only[] = "4:freezer:/\n3:cpu:/a\n";
	static const char outside[] = "0::/../../system.slice/foo.service\n";
	static const char bad[] = "0::/a\nthis is not a cgroup line\n";
	static const char noeol[] = "0::/a:b";
	char buf[64];

	assert_int_equal(shk_cgroup_parse_proc(v2only, strlen(v2only), NULL,
					       buf, sizeof(buf)), 1);
	assert_string_equal(buf, "/");
	assert_int_equal(shk_cgroup_parse_proc(v1only, strlen(v1only), NULL,
					       buf, sizeof(buf)), -ENOENT);
	/* The v2 line is never mistaken for a v1 controller list. */
	assert_int_equal(shk_cgroup_parse_proc(v2only, strlen(v2only), "", buf,
					       sizeof(buf)), -ENOENT);
	assert_int_equal(shk_cgroup_parse_proc(outside, strlen(outside), NULL,
					       buf, sizeof(buf)), -EXDEV);
	/* The wanted line comes first: found before the bad one. */
	assert_int_equal(shk_cgroup_parse_proc(bad, strlen(bad), NULL, buf,
					       sizeof(buf)), 2);
	assert_int_equal(shk_cgroup_parse_proc(bad, strlen(bad), "cpu", buf,
					       sizeof(buf)), -EINVAL);
	/* Only the first two colons separate fields. */
	assert_int_equal(shk_cgroup_parse_proc(noeol, strlen(noeol), NULL, buf,
					       sizeof(buf)), 4);
	assert_string_equal(buf, "/a:b");
	assert_int_equal(shk_cgroup_parse_proc("", 0, NULL, buf, sizeof(buf)),
			 -ENOENT);
}

static void test_of_pid_fixture(void **state)
{
	char proc[PATH_MAX + 8], buf[256];

	snprintf(proc, sizeof(proc), "%s/proc", data_dir);
	assert_true(shk_cgroup_of_pid(proc, 1234, NULL, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "/user.slice/user-1000.slice/session-3.scope");
	assert_true(shk_cgroup_of_pid(proc, 1234, "freezer", buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "/");
	assert_int_equal(shk_cgroup_of_pid(proc, 424242, NULL, buf, sizeof(buf)),
			 -ENOENT);
	assert_int_equal(shk_cgroup_of_pid(proc, 0, NULL, buf, sizeof(buf)),
			 -EINVAL);
}

static void test_join_relative(void **state)
{
	char buf[128];

	assert_int_equal(shk_cgroup_join("/sys/fs/cgroup", "/", buf, sizeof(buf)),
			 (int)strlen("/sys/fs/cgroup"));
	assert_string_equal(buf, "/sys/fs/cgroup");
	assert_true(shk_cgroup_join("/sys/fs/cgroup/", "//a/b/", buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "/sys/fs/cgroup/a/b");
	assert_int_equal(shk_cgroup_join("/sys/fs/cgroup", "/a/../b", buf,
					 sizeof(buf)), -EINVAL);
	assert_int_equal(shk_cgroup_join("/sys/fs/cgroup", "a", buf, sizeof(buf)),
			 -EINVAL);
	assert_int_equal(shk_cgroup_join("/sys/fs/cgroup", "/abcdef", buf, 16),
			 -ENAMETOOLONG);

	assert_int_equal(shk_cgroup_relative("/sys/fs/cgroup", "/sys/fs/cgroup",
					     buf, sizeof(buf)), 1);
	assert_string_equal(buf, "/");
	assert_true(shk_cgroup_relative("/sys/fs/cgroup", "/sys/fs/cgroup/k.slice/x/",
					buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "/k.slice/x");
	/* A sibling whose name merely starts like the mount. */
	assert_int_equal(shk_cgroup_relative("/sys/fs/cgroup", "/sys/fs/cgroupx/a",
					     buf, sizeof(buf)), -EXDEV);
	assert_int_equal(shk_cgroup_relative("/sys/fs/cgroup", "/sys/fs/cgroup/a/..",
					     buf, sizeof(buf)), -EINVAL);
	assert_int_equal(shk_cgroup_relative("/sys/fs/cgroup", "/etc", buf,
					     sizeof(buf)), -EXDEV);
}

static void test_open_rejects_non_cgroup(void **state)
{
	char *dir = test_tmpdir();

	/* A plain directory is never treated as a cgroup: nothing written
	 * through a bad path can land outside cgroupfs. */
	assert_int_equal(shk_cgroup_open(dir), -EMEDIUMTYPE);
	assert_int_equal(shk_cgroup_open("relative/path"), -EINVAL);
	assert_int_equal(shk_cgroup_open("/nonexistent-shrike-cg"), -ENOENT);
	rmdir(dir);
	free(dir);
}

static void test_find_by_id_live(void **state)
{
	struct shk_cgroup_mounts m;
	char buf[SHK_CGROUP_PATH_MAX];
	struct stat st;

	if (shk_cgroup_mounts_discover(NULL, &m) || !m.v2[0])
		skip();
	/* The root's id is its inode number. */
	assert_int_equal(stat(m.v2, &st), 0);
	assert_true(shk_cgroup_find_by_id(m.v2, st.st_ino, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, m.v2);
	assert_int_equal(shk_cgroup_find_by_id(m.v2, UINT64_MAX - 7, buf,
					       sizeof(buf)), -ENOENT);
	assert_int_equal(shk_cgroup_find_by_id(m.v2, 0, buf, sizeof(buf)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mounts_hybrid),
		cmocka_unit_test(test_mounts_v2),
		cmocka_unit_test(test_mounts_v1),
		cmocka_unit_test(test_mounts_none),
		cmocka_unit_test(test_mounts_live),
		cmocka_unit_test(test_parse_proc),
		cmocka_unit_test(test_parse_proc_edges),
		cmocka_unit_test(test_of_pid_fixture),
		cmocka_unit_test(test_join_relative),
		cmocka_unit_test(test_open_rejects_non_cgroup),
		cmocka_unit_test(test_find_by_id_live),
	};

	snprintf(data_dir, sizeof(data_dir), "%s", test_env("SHRIKE_TEST_DATA"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
