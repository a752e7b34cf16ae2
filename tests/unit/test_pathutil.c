/* SPDX-License-Identifier: Apache-2.0 */
/* Lexical path joining and splitting (detect/pathutil.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "pathutil.h"
#include "shrike_abi.h"

struct join_case {
	const char *base, *rel, *want;
};

static void test_join_cases(void **state)
{
	static const struct join_case cases[] = {
		{ "/home/alice", "notes.txt", "/home/alice/notes.txt" },
		{ "/home/alice/", "./notes.txt", "/home/alice/notes.txt" },
		{ "/home/alice", "../bob/x", "/home/bob/x" },
		{ "/home/alice", "../../../../etc/passwd", "/etc/passwd" },
		{ "/", "..", "/" },
		{ "/", ".", "/" },
		{ "/a/b", "", NULL }, /* error case, checked below */
		{ "/ignored", "/etc//ssh/./sshd_config", "/etc/ssh/sshd_config" },
		{ NULL, "/abs/only/", "/abs/only" },
		{ "/usr//lib///", "x86_64-linux-gnu//", "/usr/lib/x86_64-linux-gnu" },
		{ "/a/b/c", "../../..", "/" },
		{ "/a/b/c", "..//../d/./e/..", "/a/d" },
		{ "/proc/self/fd", "...", "/proc/self/fd/..." },
		{ "/x", "..a/.b/a..", "/x/..a/.b/a.." },
		{ "/var/lib/../run", "docker.sock", "/var/run/docker.sock" },
	};
	char out[SHK_PATH_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct join_case *c = &cases[i];
		int n = shk_path_join(c->base, c->rel, out, sizeof(out));

		if (!c->want) {
			assert_int_equal(n, -EINVAL);
			continue;
		}
		assert_int_equal(n, (int)strlen(c->want));
		assert_string_equal(out, c->want);
	}
}

static void test_join_errors(void **state)
{
	char out[64];

	assert_int_equal(shk_path_join("/a", NULL, out, sizeof(out)), -EINVAL);
	assert_int_equal(shk_path_join("/a", "", out, sizeof(out)), -EINVAL);
	assert_int_equal(shk_path_join(NULL, "rel", out, sizeof(out)), -EINVAL);
	assert_int_equal(shk_path_join("", "rel", out, sizeof(out)), -EINVAL);
	/* a relative base cannot anchor a relative path */
	assert_int_equal(shk_path_join("home", "rel", out, sizeof(out)), -EINVAL);
	assert_int_equal(shk_path_join("/a", "b", NULL, 10), -EINVAL);
	/* an absolute rel needs no base */
	assert_int_equal(shk_path_join(NULL, "/", out, sizeof(out)), 1);
	assert_string_equal(out, "/");
}

static void test_join_bounds(void **state)
{
	char out[8], big[SHK_PATH_MAX * 2], rel[SHK_PATH_MAX];

	/* "/a/bcd" needs 7 bytes: fits in 7, not in 6 */
	assert_int_equal(shk_path_join("/a", "bcd", out, 7), 6);
	assert_string_equal(out, "/a/bcd");
	assert_int_equal(shk_path_join("/a", "bcde", out, 7), -ENAMETOOLONG);
	assert_string_equal(out, "");
	assert_int_equal(shk_path_join("/a", "b", out, 0), -ENAMETOOLONG);
	assert_int_equal(shk_path_join("/", "x", out, 1), -ENAMETOOLONG);
	assert_int_equal(shk_path_join("/", "..", out, 2), 1);

	/* A long base that ".." shortens: only the result must fit. */
	memset(big, 'a', sizeof(big));
	big[0] = '/';
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(shk_path_join(big, "../etc", out, sizeof(out)), 4);
	assert_string_equal(out, "/etc");

	/* 4000 components of "./" and a name */
	for (size_t i = 0; i + 2 < sizeof(rel); i += 2)
		memcpy(rel + i, "./", 2);
	strcpy(rel + sizeof(rel) - 4, "ok");
	assert_int_equal(shk_path_join("/", rel, out, sizeof(out)), 3);
	assert_string_equal(out, "/ok");
}

static void test_normalize(void **state)
{
	static const char *const cases[][2] = {
		{ "/", "/" },
		{ "//", "/" },
		{ "/a/b/../c/./d/", "/a/c/d" },
		{ "/..", "/" },
		{ "/../../x", "/x" },
		{ "/a//b///c", "/a/b/c" },
		{ "/a/b/c/../../..", "/" },
		{ "/tmp/.x/..y", "/tmp/.x/..y" },
		{ "/a/./././b/.", "/a/b" },
	};
	char buf[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strcpy(buf, cases[i][0]);
		assert_int_equal(shk_path_normalize(buf), (int)strlen(cases[i][1]));
		assert_string_equal(buf, cases[i][1]);
	}
	strcpy(buf, "relative/path");
	assert_int_equal(shk_path_normalize(buf), -EINVAL);
	assert_string_equal(buf, "relative/path");
	buf[0] = '\0';
	assert_int_equal(shk_path_normalize(buf), -EINVAL);
	assert_int_equal(shk_path_normalize(NULL), -EINVAL);
}

/* join and normalize must agree on every path. */
static void test_join_matches_normalize(void **state)
{
	static const char *const paths[] = {
		"/a/../../b/./c//", "/x/y/z/../../../../w", "/.../..../.",
		"/a/b/c/d/e/../../f/../../g", "//..//.//a",
	};
	char joined[128], norm[128];

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		int n = shk_path_join(NULL, paths[i], joined, sizeof(joined));

		strcpy(norm, paths[i]);
		assert_int_equal(shk_path_normalize(norm), n);
		assert_string_equal(joined, norm);
	}
}

static void test_basename(void **state)
{
	assert_string_equal(shk_path_basename("/a/b/c"), "c");
	assert_string_equal(shk_path_basename("/a"), "a");
	assert_string_equal(shk_path_basename("/"), "/");
	assert_string_equal(shk_path_basename("name"), "name");
	assert_string_equal(shk_path_basename("/usr/bin/"), "/usr/bin/");
	assert_null(shk_path_basename(NULL));
	{
		const char *p = "/etc/shadow";

		/* a view into the argument, not a copy */
		assert_ptr_equal(shk_path_basename(p), p + 5);
	}
}

static void test_dirname(void **state)
{
	char out[16];

	assert_int_equal(shk_path_dirname("/a/b/c", out, sizeof(out)), 4);
	assert_string_equal(out, "/a/b");
	assert_int_equal(shk_path_dirname("/a", out, sizeof(out)), 1);
	assert_string_equal(out, "/");
	assert_int_equal(shk_path_dirname("/", out, sizeof(out)), 1);
	assert_string_equal(out, "/");
	assert_int_equal(shk_path_dirname("name", out, sizeof(out)), 1);
	assert_string_equal(out, ".");
	assert_int_equal(shk_path_dirname("/var/lib/docker/x", out, 16), 15);
	assert_string_equal(out, "/var/lib/docker");
	assert_int_equal(shk_path_dirname("/var/lib/dockerd/x", out, 16),
			 -ENAMETOOLONG);
	assert_int_equal(shk_path_dirname(NULL, out, sizeof(out)), -EINVAL);
	assert_int_equal(shk_path_dirname("/a", NULL, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join_cases),
		cmocka_unit_test(test_join_errors),
		cmocka_unit_test(test_join_bounds),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_join_matches_normalize),
		cmocka_unit_test(test_basename),
		cmocka_unit_test(test_dirname),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
