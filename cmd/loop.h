/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's single event loop: epoll over the ring buffer, a signalfd
 * (SIGINT/SIGTERM stop it, SIGHUP is passed to the owner) and a periodic
 * timerfd. No sleep-polling.
 */
#ifndef SHRIKE_LOOP_H
#define SHRIKE_LOOP_H

#include <stdbool.h>

struct loop;

typedef int (*loop_fd_fn)(void *ctx);     /* fd readable; <0 stops the loop */
typedef int (*loop_tick_fn)(void *ctx);   /* timer; <0 stops the loop */
typedef int (*loop_signal_fn)(int sig, void *ctx); /* SIGHUP, SIGUSR1 */

struct loop *loop_new(unsigned tick_ms, loop_tick_fn tick, loop_signal_fn sig, void *ctx);
void loop_free(struct loop *l);
int loop_add_fd(struct loop *l, int fd, loop_fd_fn fn, void *ctx);
/* Runs until SIGINT/SIGTERM (returns 0) or a callback fails (its error). */
int loop_run(struct loop *l);
/* The signal that stopped the loop, or 0. */
int loop_stop_signal(const struct loop *l);

#endif
