/* SPDX-License-Identifier: Apache-2.0 */
/* Safety rails (respond/safety.c): protect-list matching, the process and
 * cgroup checks against the live /proc (no privileges needed: nothing is
 * acted upon), and the rate limiter and breaker with an injected clock. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "cgroup.h"
#include "kill.h"
#include "safety.h"
#include "testlib.h"

#define MS 1000000ull
#define SEC 1000000000ull

static void test_protect_defaults(void **state)
{
	struct shk_safety *s = shk_safety_new(NULL, NULL);
	const char *pat = NULL;

	assert_non_null(s);
	assert_true(shk_safety_is_protected(s, "systemd", "/usr/lib/systemd/systemd", 0, &pat));
	assert_string_equal(pat, "systemd");
	assert_true(shk_safety_is_protected(s, "kubelet", NULL, 1, NULL));
	assert_true(shk_safety_is_protected(s, "containerd", "", 1, NULL));
	assert_true(shk_safety_is_protected(s, "dockerd", NULL, 1, NULL));
	assert_true(shk_safety_is_protected(s, "crio", NULL, 1, NULL));
	/* comm is cut to 15 bytes; the glob still matches. */
	assert_true(shk_safety_is_protected(s, "containerd-shim", NULL, 1, &pat));
	assert_string_equal(pat, "containerd-shim*");
	/* A renamed comm does not hide the exe. */
	assert_true(shk_safety_is_protected(s, "x", "/usr/bin/containerd-shim-runc-v2", 1, NULL));
	/* sshd: only the listener, whose parent is PID 1. */
	assert_true(shk_safety_is_protected(s, "sshd", "/usr/sbin/sshd", 1, &pat));
	assert_string_equal(pat, "sshd");
	assert_false(shk_safety_is_protected(s, "sshd", "/usr/sbin/sshd", 4242, NULL));
	/* Near misses. */
	assert_false(shk_safety_is_protected(s, "systemd-journal", "/lib/systemd/systemd-journald", 1, NULL));
	assert_false(shk_safety_is_protected(s, "bash", "/bin/bash", 1, NULL));
	assert_false(shk_safety_is_protected(s, "containerd2", NULL, 1, NULL));
	assert_false(shk_safety_is_protected(s, "", "", 1, NULL));
	assert_false(shk_safety_is_protected(NULL, "systemd", NULL, 1, NULL));
	shk_safety_free(s);
	shk_safety_free(NULL);
}

static void test_protect_custom(void **state)
{
	struct shk_safety *s = shk_safety_new(NULL, NULL);

	assert_non_null(s);
	shk_safety_protect_clear(s);
	assert_false(shk_safety_is_protected(s, "systemd", NULL, 0, NULL));
	assert_int_equal(shk_safety_protect(s, "nginx*", 0), 0);
	assert_int_equal(shk_safety_protect(s, "agent", SHK_PROTECT_PARENT_INIT), 0);
	assert_int_equal(shk_safety_protect(s, "", 0), -EINVAL);
	assert_int_equal(shk_safety_protect(s, "x", 0x80), -EINVAL);
	assert_true(shk_safety_is_protected(s, "nginx: worker", NULL, 77, NULL));
	assert_true(shk_safety_is_protected(s, "agent", NULL, 1, NULL));
	assert_false(shk_safety_is_protected(s, "agent", NULL, 2, NULL));
	/* Many entries: the list grows. */
	for (int i = 0; i < 100; i++) {
		char name[32];

		snprintf(name, sizeof(name), "svc%d", i);
		assert_int_equal(shk_safety_protect(s, name, 0), 0);
	}
	assert_true(shk_safety_is_protected(s, "svc99", NULL, 5, NULL));
	shk_safety_free(s);
}

static void test_check_processes(void **state)
{
	struct shk_safety *s = shk_safety_new(NULL, NULL);
	char why[SHK_SAFETY_REASON_MAX];
	int status;
	pid_t child;

	assert_non_null(s);
	assert_int_equal(shk_safety_check(s, 1, why, sizeof(why)), -EPERM);
	assert_string_equal(why, "pid 1");
	assert_int_equal(shk_safety_check(s, getpid(), why, sizeof(why)), -EPERM);
	assert_string_equal(why, "shrike itself");
	if (getppid() > 1) {
		assert_int_equal(shk_safety_check(s, getppid(), why, sizeof(why)),
				 -EPERM);
		assert_string_equal(why, "an ancestor of shrike");
	}
	assert_int_equal(shk_safety_check(s, 2, why, sizeof(why)), -EPERM);
	assert_string_equal(why, "a kernel thread");

	/* An ordinary child is fair game. */
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		pause();
		_exit(0);
	}
	assert_int_equal(shk_safety_check(s, child, why, sizeof(why)), 0);
	assert_string_equal(why, "");
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	/* Gone: undecidable, which is not "allowed". */
	assert_int_equal(shk_safety_check(s, child, why, sizeof(why)), -ESRCH);
	assert_int_equal(shk_safety_check(s, 0, why, sizeof(why)), -EINVAL);
	shk_safety_free(s);
}

static void test_check_cgroups(void **state)
{
	struct shk_cgroup_mounts m;
	struct shk_safety *s, *none;
	char why[SHK_SAFETY_REASON_MAX], rel[SHK_CGROUP_PATH_MAX];
	char own[SHK_CGROUP_PATH_MAX], other[SHK_CGROUP_PATH_MAX + 32];

	none = shk_safety_new(NULL, NULL);
	assert_non_null(none);
	/* Without mounts no cgroup can be vouched for. */
	assert_int_equal(shk_safety_check_cgroup(none, "/sys/fs/cgroup/x", why,
						 sizeof(why)), -EPERM);
	shk_safety_free(none);

	if (shk_cgroup_mounts_discover(NULL, &m) || !m.v2[0])
		skip();
	s = shk_safety_new(&m, NULL);
	assert_non_null(s);
	assert_int_equal(shk_safety_check_cgroup(s, m.v2, why, sizeof(why)), -EPERM);
	assert_string_equal(why, "the root cgroup");
	assert_int_equal(shk_safety_check_cgroup(s, "/etc", why, sizeof(why)),
			 -EPERM);
	assert_int_equal(shk_safety_check_cgroup(s, "/sys/fs/cgroup/../../etc",
						 why, sizeof(why)), -EPERM);
	/* Our own cgroup (or the root, when we live there). */
	assert_true(shk_cgroup_of_pid(NULL, getpid(), NULL, rel, sizeof(rel)) > 0);
	assert_true(shk_cgroup_join(m.v2, rel, own, sizeof(own)) > 0);
	assert_int_equal(shk_safety_check_cgroup(s, own, why, sizeof(why)), -EPERM);
	/* A cgroup nobody guarded is in: no need for it to exist, the check
	 * is about who lives at or below it. */
	snprintf(other, sizeof(other), "%s/shrike-unit-nonexistent-%d", m.v2,
		 getpid());
	assert_int_equal(shk_safety_check_cgroup(s, other, why, sizeof(why)), 0);
	shk_safety_free(s);
}

static void test_bucket(void **state)
{
	struct shk_bucket b;
	uint64_t t = 5 * SEC;

	shk_bucket_init(&b, 2, 3, t);
	assert_true(shk_bucket_take(&b, t));
	assert_true(shk_bucket_take(&b, t));
	assert_true(shk_bucket_take(&b, t));
	assert_false(shk_bucket_take(&b, t)); /* burst spent */
	assert_false(shk_bucket_take(&b, t + 499 * MS));
	assert_true(shk_bucket_take(&b, t + 500 * MS)); /* 2/s: one per 500 ms */
	assert_false(shk_bucket_take(&b, t + 500 * MS));
	assert_true(shk_bucket_take(&b, t + 1000 * MS));
	/* A long idle refills to the burst, not beyond. */
	t += 3600 * SEC;
	for (int i = 0; i < 3; i++)
		assert_true(shk_bucket_take(&b, t));
	assert_false(shk_bucket_take(&b, t));
	/* A clock stepping back refills nothing. */
	assert_false(shk_bucket_take(&b, t - 10 * SEC));
	assert_true(b.denied >= 4);
}

static void test_bucket_slow_rate(void **state)
{
	struct shk_bucket b;
	int ok = 0;

	/* 1 per second, polled every millisecond: no rounding may starve it
	 * nor let extra tokens through. */
	shk_bucket_init(&b, 1, 1, 0);
	assert_true(shk_bucket_take(&b, 0));
	for (uint64_t t = MS; t <= 10 * SEC; t += MS)
		ok += shk_bucket_take(&b, t);
	assert_int_equal(ok, 10);

	shk_bucket_init(&b, 0, 0, 0);
	assert_false(shk_bucket_take(&b, 100 * SEC));
	assert_false(shk_bucket_take(NULL, 0));
}

static void test_breaker(void **state)
{
	struct shk_breaker b;
	uint64_t t = 100 * SEC;

	shk_breaker_init(&b, 5, SEC, 10 * SEC, t);
	for (int i = 0; i < 5; i++)
		assert_true(shk_breaker_allow(&b, t + (uint64_t)i * MS));
	assert_false(shk_breaker_tripped(&b, t + 10 * MS));
	assert_false(shk_breaker_allow(&b, t + 10 * MS)); /* the 6th trips */
	assert_true(shk_breaker_tripped(&b, t + 10 * MS));
	assert_int_equal(b.trips, 1);
	/* Stays open through the cooldown, however quiet it gets. */
	assert_false(shk_breaker_allow(&b, t + 5 * SEC));
	assert_false(shk_breaker_allow(&b, t + 10 * SEC));
	assert_true(shk_breaker_allow(&b, t + 10 * MS + 10 * SEC));
	assert_false(shk_breaker_tripped(&b, t + 11 * SEC));
	/* By hand. */
	for (int i = 0; i < 5; i++)
		shk_breaker_allow(&b, t + 11 * SEC);
	assert_true(shk_breaker_tripped(&b, t + 11 * SEC));
	shk_breaker_reset(&b, t + 11 * SEC);
	assert_true(shk_breaker_allow(&b, t + 11 * SEC));
	assert_int_equal(b.trips, 2);
}

static void test_breaker_window_edge(void **state)
{
	struct shk_breaker b;
	int ok = 0;

	/* 5 at the end of one window and 5 at the start of the next are 10
	 * within 200 ms: a fixed window would let all through. */
	shk_breaker_init(&b, 5, SEC, SEC, 0);
	for (int i = 0; i < 5; i++)
		ok += shk_breaker_allow(&b, 900 * MS + (uint64_t)i * MS);
	for (int i = 0; i < 5; i++)
		ok += shk_breaker_allow(&b, 1100 * MS + (uint64_t)i * MS);
	assert_true(ok < 10);
	assert_true(b.trips == 1);

	/* A steady rate under the limit never trips. */
	shk_breaker_init(&b, 5, SEC, SEC, 0);
	for (uint64_t t = 0; t < 20 * SEC; t += 250 * MS)
		assert_true(shk_breaker_allow(&b, t));
	assert_int_equal(b.trips, 0);

	shk_breaker_init(&b, 0, SEC, SEC, 0);
	assert_false(shk_breaker_allow(&b, 0));
	assert_false(shk_breaker_allow(NULL, 0));
	assert_true(shk_breaker_tripped(NULL, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_protect_defaults),
		cmocka_unit_test(test_protect_custom),
		cmocka_unit_test(test_check_processes),
		cmocka_unit_test(test_check_cgroups),
		cmocka_unit_test(test_bucket),
		cmocka_unit_test(test_bucket_slow_rate),
		cmocka_unit_test(test_breaker),
		cmocka_unit_test(test_breaker_window_edge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
