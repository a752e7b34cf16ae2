/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kernel sensors' lifecycle: probe, open/load/attach the BPF object,
 * choose which syscalls are captured, and consume the ring buffer.
 */
#ifndef SHRIKE_SENSOR_H
#define SHRIKE_SENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "event.h"

struct shk_sensor;

/* Called for each valid record; ev is valid only during the call. A
 * non-zero return stops the current poll and is returned from it. */
typedef int (*shk_sensor_fn)(const struct shk_event *ev, void *ctx);

struct shk_sensor_opts {
	size_t ringbuf_bytes; /* 0: default (8 MiB); rounded up to a power of 2 */
	int self_pid;         /* records from this tgid are never emitted */
	/* Batch wakeups: each CPU wakes the consumer once it has written
	 * its share of this many bytes (this / CPUs, at least 4 KiB) since
	 * it last did; the caller must then also drain on a timer
	 * (shk_sensor_consume). Records marked urgent wake it at once. 0:
	 * wake on every record. */
	size_t wakeup_bytes;
	bool verbose;         /* pass libbpf's messages through (to stderr) */
	/* Also load the BPF-LSM hooks of the lsm backend (lsm/hooks.bpf.h).
	 * If the kernel refuses them the sensors load without them:
	 * shk_sensor_lsm() says which happened. Off, nothing LSM is loaded
	 * (kernels that refuse LSM programs need that). */
	bool lsm;
	/* Load the kernel policy's checks (shrike run). Off (shrike trace),
	 * the exec and syscall programs are the plain variants, which verify
	 * in a third of the time. */
	bool kp;
	/* Count 32-bit (int 0x80) syscalls. The kernel's per-syscall
	 * tracepoints do not see them, so this keeps a program on every
	 * syscall's exit (sys_exit), which costs each syscall of every task
	 * a program run, read and close included. */
	bool compat_watch;
	/* Do not mount tracefs where nothing has: without it the per-syscall
	 * tracepoints cannot be found, and the sys_enter/sys_exit
	 * dispatchers run a program on every syscall instead. */
	bool no_tracefs_mount;
};

/* Totals over all CPUs, plus what userspace counted. */
struct shk_sensor_stats {
	struct shk_counters kernel;
	uint64_t received;     /* records handed to the callback */
	uint64_t malformed;    /* records that failed validation */
	uint64_t abi_mismatch; /* records from another ABI version */
};

/*
 * Check what the sensors need before touching BPF and explain what is
 * missing in one line: privileges, BTF, ring buffer support. Returns 0 or a
 * negative errno with ret_msg set to a static, user-facing message.
 */
int shk_sensor_probe(const char **ret_msg);

/* Open, load and attach. No syscall is captured until shk_sensor_want(). On
 * failure returns NULL with errno set and *ret_msg (when non-NULL) set to a
 * user-facing explanation. */
struct shk_sensor *shk_sensor_new(const struct shk_sensor_opts *opts, shk_sensor_fn fn, void *ctx,
				  const char **ret_msg);
void shk_sensor_free(struct shk_sensor *s);
/* Whether 32-bit syscalls are counted (opts->compat_watch): if not, the
 * compat counter stays 0 whatever happens. */
bool shk_sensor_compat_watched(const struct shk_sensor *s);

/* Capture (or stop capturing) one syscall by name: 0, -ENOENT if shrike
 * does not know it, or -errno from the map update. */
int shk_sensor_want(struct shk_sensor *s, const char *syscall, bool on);
/* The same by native syscall number. */
int shk_sensor_want_nr(struct shk_sensor *s, int nr, bool on);
/* Capture one syscall for the process table's sake only: its records, but
 * not the task context at entry (unless a rule wants it too). */
int shk_sensor_want_state(struct shk_sensor *s, const char *syscall);
/* Wake the consumer at once for this syscall's records (an enforce action
 * depends on them), instead of batching. Implies capturing it. */
int shk_sensor_urgent_nr(struct shk_sensor *s, int nr);
/* The same for exec, fork and exit records. */
void shk_sensor_urgent_proc(struct shk_sensor *s, bool on);
/* Kernel policy (bpf/kpolicy.bpf.h): check class cls for syscall nr with
 * SHK_INTEREST_KP_* flags (0 turns the check off); implies capturing it. */
int shk_sensor_kp_nr(struct shk_sensor *s, int nr, uint8_t flags, uint8_t cls);

/* The kernel policy maps, owned by the sensor object; other objects
 * (enforce, lsm) reuse them. */
struct shk_kp_maps {
	int active, conf, base, clause, str, num, nvals, nbits, addr, stash, facts, protect, comm,
		needles;
};
int shk_sensor_kp_maps(const struct shk_sensor *s, struct shk_kp_maps *ret);

/* Whether the BPF-LSM hooks are loaded and attached (shk_sensor_opts.lsm). */
bool shk_sensor_lsm(const struct shk_sensor *s);
/* Hand the kernel policy to the LSM hooks (on) or to the signal checks
 * (off, the default). -ENOTSUP when the hooks are not loaded. */
int shk_sensor_kp_lsm(struct shk_sensor *s, bool on);

/* Capture every syscall shrike knows. */
int shk_sensor_want_all(struct shk_sensor *s);

/* A start-up condition worth one warning line (e.g. RLIMIT_MEMLOCK could
 * not be raised), or NULL. */
const char *shk_sensor_warning(const struct shk_sensor *s);
/* What the sensors did to the host or how they run, worth one line at
 * start-up (tracefs mounted, or the dispatcher fallback), or NULL. */
const char *shk_sensor_notice(const struct shk_sensor *s);

/* Whether the sensors read kernel structures with direct loads
 * (bpf_rdonly_cast, Linux 6.2+) rather than helper calls. */
bool shk_sensor_fast_reads(const struct shk_sensor *s);

/* The fd to wait on (epoll) for records. */
int shk_sensor_fd(const struct shk_sensor *s);
/* Consume what is ready without blocking; returns records consumed or the
 * callback's non-zero return / a negative errno. */
int shk_sensor_consume(struct shk_sensor *s);

int shk_sensor_stats(const struct shk_sensor *s, struct shk_sensor_stats *ret);
/* The same, and with ret_per the kernel counters of each possible CPU,
 * CPU i in (*ret_per)[i], from the same read: the number of CPUs, or a
 * negative errno. *ret_per is allocated (the caller frees it) and set only
 * on success. The kernel's counters are per CPU, so a loss can be traced
 * to the CPU that suffered it. */
int shk_sensor_stats_cpu(const struct shk_sensor *s, struct shk_sensor_stats *ret,
			 struct shk_counters **ret_per);

#endif
