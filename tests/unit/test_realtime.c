/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The real-time guard (cmd/realtime.c): the decision on its own, then the
 * real thing on this thread when the test may change its scheduling
 * (root with CAP_SYS_NICE): SCHED_FIFO on, off under a storm, back on
 * after calm windows, and never inherited by a child.
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "realtime.h"

#define MS 1000000ull

static void test_decide_demotes_a_busy_loop(void **state)
{
	unsigned calm = 3;

	(void)state;
	assert_int_equal(rt_decide(true, 40 * MS, 100 * MS, &calm), RT_KEEP);
	assert_int_equal(calm, 0);
	assert_int_equal(rt_decide(true, 50 * MS, 100 * MS, &calm), RT_KEEP); /* exactly half */
	assert_int_equal(rt_decide(true, 51 * MS, 100 * MS, &calm), RT_DEMOTE);
	assert_int_equal(rt_decide(true, 0, 0, &calm), RT_KEEP); /* no time passed */
}

static void test_decide_promotes_after_calm_windows(void **state)
{
	unsigned calm = 0;

	(void)state;
	for (int i = 0; i < RT_CALM_WINDOWS - 1; i++)
		assert_int_equal(rt_decide(false, 1 * MS, 100 * MS, &calm), RT_KEEP);
	/* one busy window starts the count again */
	assert_int_equal(rt_decide(false, 20 * MS, 100 * MS, &calm), RT_KEEP);
	assert_int_equal(calm, 0);
	for (int i = 0; i < RT_CALM_WINDOWS - 1; i++)
		assert_int_equal(rt_decide(false, 19 * MS, 100 * MS, &calm), RT_KEEP);
	assert_int_equal(rt_decide(false, 19 * MS, 100 * MS, &calm), RT_PROMOTE);
	assert_int_equal(calm, 0);
}

static int policy_of(pid_t tid)
{
	return sched_getscheduler(tid) & ~SCHED_RESET_ON_FORK;
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void test_guard_on_this_thread(void **state)
{
	struct sched_param keep = { 0 };
	int old = sched_getscheduler(0), st;
	struct rt rt;
	uint64_t t = 1000 * MS, spin;
	pid_t p;

	(void)state;
	sched_getparam(0, &keep);
	rt_init(&rt, 1);
	if (rt_add(&rt, gettid()) == -EPERM) {
		fprintf(stderr, "skipped: SCHED_FIFO refused (needs CAP_SYS_NICE)\n");
		skip();
	}
	assert_true(rt.on);
	assert_int_equal(policy_of(0), SCHED_FIFO);

	/* a child starts at normal priority (SCHED_RESET_ON_FORK) */
	p = fork();
	assert_true(p >= 0);
	if (p == 0)
		_exit(policy_of(0) == SCHED_OTHER ? 0 : 1);
	assert_int_equal(waitpid(p, &st, 0), p);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);

	/* a storm: 60 ms of CPU in a 100 ms window */
	assert_int_equal(rt_tick(&rt, t), RT_KEEP); /* opens the window */
	spin = cpu_ns();
	while (cpu_ns() - spin < 60 * MS)
		;
	assert_int_equal(rt_tick(&rt, t + 50 * MS), RT_KEEP); /* window not over */
	assert_int_equal(rt_tick(&rt, t + 100 * MS), RT_DEMOTE);
	assert_false(rt.on);
	assert_int_equal(rt.demotions, 1);
	assert_int_equal(policy_of(0), SCHED_OTHER);

	/* calm: back after RT_CALM_WINDOWS quiet windows */
	for (int i = 1; i < RT_CALM_WINDOWS; i++)
		assert_int_equal(rt_tick(&rt, t + (100 + 100 * i) * MS), RT_KEEP);
	assert_int_equal(policy_of(0), SCHED_OTHER);
	assert_int_equal(rt_tick(&rt, t + (100 + 100 * RT_CALM_WINDOWS) * MS), RT_PROMOTE);
	assert_true(rt.on);
	assert_int_equal(policy_of(0), SCHED_FIFO);

	rt_stop(&rt);
	assert_int_equal(rt.prio, 0);
	assert_int_equal(policy_of(0), SCHED_OTHER);
	assert_int_equal(rt_tick(&rt, t + 10000 * MS), RT_KEEP); /* off: no guard */
	sched_setscheduler(0, old, &keep);
}

static void test_off_touches_nothing(void **state)
{
	struct rt rt;
	int before = sched_getscheduler(0);

	(void)state;
	rt_init(&rt, 0);
	assert_int_equal(rt_add(&rt, gettid()), 0);
	assert_int_equal(rt.ntids, 0);
	assert_false(rt.on);
	assert_int_equal(sched_getscheduler(0), before);
	rt_init(&rt, 100); /* out of range: off, not clamped to something else */
	assert_int_equal(rt.prio, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide_demotes_a_busy_loop),
		cmocka_unit_test(test_decide_promotes_after_calm_windows),
		cmocka_unit_test(test_guard_on_this_thread),
		cmocka_unit_test(test_off_touches_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
