/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A sensor session, shared by `trace` and `run`: the sensors, the process
 * table and user names, and the one event loop (ring buffer, signals, a
 * drain timer). Every record updates the process table before the
 * command's own callback sees it.
 */
#ifndef SHRIKE_SESSION_H
#define SHRIKE_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "containers.h"
#include "proctable.h"
#include "sensor.h"
#include "users.h"

struct loop;

struct session_opts {
	size_t ringbuf_bytes; /* 0: 8 MiB */
	bool verbose;
	bool lsm;               /* load the lsm backend's hooks (enforce_probe) */
	bool kp;                /* load the kernel policy's checks (shrike run) */
	bool compat_watch;      /* count 32-bit syscalls (shk_sensor_opts) */
	bool no_tracefs_mount;  /* leave tracefs unmounted (shk_sensor_opts) */
	shk_sensor_fn on_event; /* after the process table is updated */
	void *ctx;
	FILE *out;              /* flushed after each batch */
	int extra_fd;           /* another fd for the loop (control socket), or -1 */
	int (*extra_fn)(void *ctx);
	void *extra_ctx;
	int (*on_signal)(int sig, void *ctx); /* SIGHUP, SIGUSR1, with ctx; NULL: ignored */
	int (*on_second)(void *ctx);          /* once a second in the loop, with ctx */
	void (*on_tick)(void *ctx);           /* at every drain tick (10 ms), with ctx */
};

struct session {
	struct session_opts o;
	struct shk_sensor *sensor;
	struct shk_proctable *procs;
	struct shk_users *users;
	struct shk_containers *containers; /* attached to procs */
	char *ctr_roots_spec;		   /* $SHRIKE_CONTAINER_ROOTS, parsed in place */
	struct loop *loop;
	uint32_t own_mntns;      /* shrike's mount namespace inode */
	int64_t boot_to_real_ns; /* CLOCK_BOOTTIME + this = epoch ns */
	uint64_t last_drops, last_malformed;
	unsigned ticks;
};

/* Probe, load and attach the sensors, with no syscall captured yet. Prints
 * the one-line reason on failure. Returns 0 or a negative errno. */
int session_start(struct session *s, const struct session_opts *o);
/* Seed the process table from /proc (after the wanted syscalls are set),
 * print the ready line (and notify systemd), then run until SIGINT/SIGTERM.
 * Returns 0 or a negative errno (already reported). */
int session_run(struct session *s, const char *ready_what);
/* One summary line on stderr: what the sensors delivered and lost. */
void session_summary(struct session *s, const char *extra);
void session_stop(struct session *s);

#endif
