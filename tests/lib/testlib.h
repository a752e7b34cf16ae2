/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers shared by test programs of every tier. */
#ifndef SHRIKE_TESTLIB_H
#define SHRIKE_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>

#define TEST_SKIP 77

/* Exit 77 (CTest "skipped") with the reason on stderr unless running as root. */
void test_require_root(const char *what);
/* The value of an environment variable the test harness sets, or exit 77. */
const char *test_env(const char *name);
/* A fresh private temporary directory (removed by the caller or left in /tmp). */
char *test_tmpdir(void);
/* Read a whole file into a NUL-terminated malloc'd buffer; NULL on error. */
char *test_read_file(const char *path, size_t *ret_len);
/* Write a string to a file; 0 or -errno. */
int test_write_file(const char *path, const char *content);

#endif
