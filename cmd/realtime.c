/* SPDX-License-Identifier: Apache-2.0 */
#include "realtime.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif

enum rt_step rt_decide(bool on, uint64_t busy_ns, uint64_t wall_ns, unsigned *calm)
{
	if (!wall_ns)
		return RT_KEEP;
	if (on) {
		*calm = 0;
		return busy_ns * 2 > wall_ns ? RT_DEMOTE : RT_KEEP;
	}
	if (busy_ns * 5 >= wall_ns) {
		*calm = 0;
		return RT_KEEP;
	}
	if (++*calm < RT_CALM_WINDOWS)
		return RT_KEEP;
	*calm = 0;
	return RT_PROMOTE;
}

static int set_policy(pid_t tid, int prio)
{
	struct sched_param sp = { .sched_priority = prio };
	int policy = (prio ? SCHED_FIFO : SCHED_OTHER) | SCHED_RESET_ON_FORK;

	return sched_setscheduler(tid, policy, &sp) ? -errno : 0;
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void rt_init(struct rt *rt, int prio)
{
	memset(rt, 0, sizeof(*rt));
	rt->prio = prio > 0 && prio < 100 ? prio : 0;
	rt->on = rt->prio > 0;
}

/* All threads at prio (0: normal). The first refusal is the result; the
 * others are still tried so that a demotion is never half done. */
static int set_all(struct rt *rt, int prio)
{
	int err = 0;

	for (int i = 0; i < rt->ntids; i++) {
		int e = set_policy(rt->tids[i], prio);

		if (e == -ESRCH)
			continue; /* a thread that ended */
		if (e && !err)
			err = e;
	}
	return err;
}

int rt_add(struct rt *rt, pid_t tid)
{
	int err;

	if (!rt->prio || rt->ntids == RT_MAX_THREADS)
		return 0;
	rt->tids[rt->ntids++] = tid;
	if (!rt->on)
		return 0; /* demoted: promoted with the others */
	err = set_policy(tid, rt->prio);
	if (err) {
		/* all or nothing: the threads hand work to each other, and
		 * one of them waiting for a CPU is the delay this avoids */
		rt->last_err = -err;
		rt_stop(rt);
	}
	return err;
}

void rt_stop(struct rt *rt)
{
	if (rt->on)
		set_all(rt, 0);
	rt->prio = 0;
	rt->on = false;
}

enum rt_step rt_tick(struct rt *rt, uint64_t now_ns)
{
	uint64_t cpu;
	enum rt_step step;

	if (!rt->prio)
		return RT_KEEP;
	cpu = thread_cpu_ns();
	if (!rt->win_start_ns) {
		rt->win_start_ns = now_ns;
		rt->win_cpu_ns = cpu;
		return RT_KEEP;
	}
	if (now_ns - rt->win_start_ns < RT_WINDOW_MS * 1000000ull)
		return RT_KEEP;
	step = rt_decide(rt->on, cpu - rt->win_cpu_ns, now_ns - rt->win_start_ns, &rt->calm);
	rt->win_start_ns = now_ns;
	rt->win_cpu_ns = cpu;
	if (step == RT_DEMOTE) {
		int err = set_all(rt, 0);

		/* normal scheduling needs no privilege: this cannot be refused
		 * short of a seccomp filter without sched_setscheduler */
		if (err)
			rt->last_err = -err;
		rt->on = false;
		rt->demotions++;
	} else if (step == RT_PROMOTE) {
		int err = set_all(rt, rt->prio);

		if (err) {
			rt->last_err = -err;
			set_all(rt, 0);
			return RT_KEEP; /* tried again after the next calm period */
		}
		rt->on = true;
	}
	return step;
}
