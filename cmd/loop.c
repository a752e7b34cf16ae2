/* SPDX-License-Identifier: Apache-2.0 */
#include "loop.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define MAX_FDS 16

struct loop_src {
	int fd;
	loop_fd_fn fn;
	void *ctx;
};

struct loop {
	int epfd, sigfd, timerfd;
	loop_tick_fn tick;
	loop_signal_fn on_signal;
	void *ctx;
	int stop_sig;
	sigset_t oldmask;
	struct loop_src src[MAX_FDS];
	int nsrc;
};

void loop_free(struct loop *l)
{
	if (!l)
		return;
	for (int i = 0; i < 3; i++) {
		int fd = i == 0 ? l->epfd : i == 1 ? l->sigfd : l->timerfd;
		if (fd >= 0)
			close(fd);
	}
	sigprocmask(SIG_SETMASK, &l->oldmask, NULL);
	free(l);
}

static int watch(struct loop *l, int fd, int idx)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)idx };

	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

#define IDX_SIGNAL 1000
#define IDX_TIMER 1001

struct loop *loop_new(unsigned tick_ms, loop_tick_fn tick, loop_signal_fn on_signal, void *ctx)
{
	struct loop *l = calloc(1, sizeof(*l));
	sigset_t mask;
	int err;

	if (!l)
		return NULL;
	l->epfd = l->sigfd = l->timerfd = -1;
	l->tick = tick;
	l->on_signal = on_signal;
	l->ctx = ctx;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &mask, &l->oldmask))
		goto fail;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (l->epfd < 0 || l->sigfd < 0)
		goto fail;
	if ((err = watch(l, l->sigfd, IDX_SIGNAL)))
		goto fail_err;
	if (tick_ms && tick) {
		struct itimerspec its = {
			.it_interval = { tick_ms / 1000, (tick_ms % 1000) * 1000000L },
			.it_value = { tick_ms / 1000, (tick_ms % 1000) * 1000000L },
		};

		l->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (l->timerfd < 0 || timerfd_settime(l->timerfd, 0, &its, NULL))
			goto fail;
		if ((err = watch(l, l->timerfd, IDX_TIMER)))
			goto fail_err;
	}
	return l;
fail:
	err = -errno;
fail_err:
	loop_free(l);
	errno = -err;
	return NULL;
}

int loop_add_fd(struct loop *l, int fd, loop_fd_fn fn, void *ctx)
{
	int err;

	if (l->nsrc >= MAX_FDS)
		return -ENOSPC;
	err = watch(l, fd, l->nsrc);
	if (err)
		return err;
	l->src[l->nsrc++] = (struct loop_src){ fd, fn, ctx };
	return 0;
}

static int on_signals(struct loop *l)
{
	struct signalfd_siginfo si;

	while (read(l->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM) {
			l->stop_sig = (int)si.ssi_signo;
			return 1;
		}
		if (l->on_signal) {
			int err = l->on_signal((int)si.ssi_signo, l->ctx);
			if (err < 0)
				return err;
		}
	}
	return 0;
}

int loop_run(struct loop *l)
{
	struct epoll_event evs[MAX_FDS + 2];

	for (;;) {
		int n = epoll_wait(l->epfd, evs, MAX_FDS + 2, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			uint32_t idx = evs[i].data.u32;
			int err = 0;

			if (idx == IDX_SIGNAL) {
				err = on_signals(l);
				if (err > 0)
					return 0;
			} else if (idx == IDX_TIMER) {
				uint64_t expirations;

				if (read(l->timerfd, &expirations, sizeof(expirations)) > 0)
					err = l->tick(l->ctx);
			} else if (idx < (uint32_t)l->nsrc) {
				err = l->src[idx].fn(l->src[idx].ctx);
			}
			if (err < 0)
				return err;
		}
	}
}

int loop_stop_signal(const struct loop *l)
{
	return l->stop_sig;
}
