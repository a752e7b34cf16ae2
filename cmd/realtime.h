/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Real-time scheduling for the threads between a kernel event and its
 * response: the event loop and the action worker. On a loaded host a
 * normal-priority thread can wait milliseconds for a CPU after its wakeup;
 * at SCHED_FIFO it runs at once, which is what keeps a userspace kill
 * under a millisecond at the 99th percentile (bench/respond.sh).
 *
 * A real-time thread that never sleeps would starve the host, so a guard
 * watches the event loop's own CPU time: busier than half a CPU over
 * RT_WINDOW_MS (an event storm), both threads drop to normal scheduling
 * (their nice value) and stay there until the loop has used under a fifth
 * of a CPU for RT_CALM_WINDOWS windows in a row. Under a storm throughput
 * matters, not the wakeup latency of an idle loop.
 *
 * SCHED_RESET_ON_FORK: threads and processes the two create (outputs,
 * exec actions) start at normal priority.
 */
#ifndef SHRIKE_REALTIME_H
#define SHRIKE_REALTIME_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define RT_WINDOW_MS 100
#define RT_CALM_WINDOWS 10
#define RT_MAX_THREADS 4

enum rt_step { RT_KEEP, RT_DEMOTE, RT_PROMOTE };

/*
 * The guard's decision at the end of a window: busy_ns of loop CPU time in
 * wall_ns. *calm counts the quiet windows while demoted. Pure: no clock,
 * no syscall.
 */
enum rt_step rt_decide(bool on, uint64_t busy_ns, uint64_t wall_ns, unsigned *calm);

struct rt {
	int prio; /* SCHED_FIFO priority, 1-99; 0: real-time is off */
	pid_t tids[RT_MAX_THREADS];
	int ntids;
	bool on;          /* the threads are SCHED_FIFO now (false: off, or demoted) */
	int last_err;     /* errno of the last refused change, 0 if none */
	uint64_t demotions; /* storms that took real-time away */
	uint64_t win_start_ns, win_cpu_ns;
	unsigned calm;
};

/* prio 0 leaves every thread as it is. */
void rt_init(struct rt *rt, int prio);
/*
 * Add a thread (by tid) and make it real-time now if the others are.
 * Returns 0 or a negative errno (EPERM without CAP_SYS_NICE): then every
 * thread goes back to normal priority and real-time stays off (prio 0);
 * the caller reports it once.
 */
int rt_add(struct rt *rt, pid_t tid);
/* Every thread back to normal scheduling, real-time off (prio 0). */
void rt_stop(struct rt *rt);
/*
 * From the event loop's thread, at each of its ticks: the guard. Returns
 * the step taken (RT_KEEP most of the time), for the caller to log.
 */
enum rt_step rt_tick(struct rt *rt, uint64_t now_ns);

#endif
