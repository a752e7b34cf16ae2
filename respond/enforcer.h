/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kernel enforcer: picks the backend, installs compiled kernel policies
 * (kpolicy.h) into the maps the BPF side reads, and attaches the programs
 * that need it (cgroup connect/sendmsg on the cgroup v2 root).
 *
 * Backends (DESIGN.md section 3): `lsm` when `bpf` is in
 * /sys/kernel/security/lsm and LSM programs load; otherwise `signal`
 * (SIGKILL from tracepoints, EPERM for connects from cgroup programs). The
 * choice is explained in one line (shk_enforcer_note()).
 */
#ifndef SHRIKE_ENFORCER_H
#define SHRIKE_ENFORCER_H

#include <stdbool.h>
#include <stdint.h>

#include "kpolicy.h"
#include "sensor.h"

enum shk_enforcer_mode {
	SHK_ENFORCER_AUTO = 0,
	SHK_ENFORCER_LSM,
	SHK_ENFORCER_SIGNAL,
};

/* "auto", "lsm", "signal" to a mode; -EINVAL otherwise. */
int shk_enforcer_mode_parse(const char *s);

struct shk_enforcer_opts {
	enum shk_enforcer_mode mode;
	int self_pid;
	bool verbose;
};

struct shk_enforcer_stats {
	uint64_t installs;     /* policies installed (generation) */
	uint64_t verdicts;     /* cgroup program matches */
	uint64_t missed;       /* verdicts that could not be reported */
};

struct shk_enforcer;

/*
 * Set up on top of a running sensor (which owns the policy maps). The lsm
 * backend runs when the sensor carries the LSM hooks (shk_sensor_opts.lsm,
 * after shk_enforcer_probe_lsm()) and the mode is not signal. Fails only
 * when the requested mode cannot work (lsm asked for but refused), with
 * *ret_msg set; auto always succeeds.
 */
struct shk_enforcer *shk_enforcer_new(struct shk_sensor *s, const struct shk_enforcer_opts *o,
				      const char **ret_msg);
void shk_enforcer_free(struct shk_enforcer *e);

enum shk_kv_backend shk_enforcer_backend(const struct shk_enforcer *e);
const char *shk_enforcer_backend_name(enum shk_kv_backend b);
/* The one line that says which backend runs and why. */
const char *shk_enforcer_note(const struct shk_enforcer *e);

/*
 * Install kp as the active policy: written to the inactive slot, then
 * switched to in one store, so the previous policy stays in force until
 * the new one is complete. Returns 0 or -errno (the previous policy is then
 * still active). The generation of verdicts is then shk_enforcer_gen().
 */
int shk_enforcer_install(struct shk_enforcer *e, const struct shk_kpolicy *kp);
uint16_t shk_enforcer_gen(const struct shk_enforcer *e);

void shk_enforcer_stats(const struct shk_enforcer *e, struct shk_enforcer_stats *ret);

/* The backend a deny rule runs on in the kernel, for `shrike rules list`:
 * "lsm" or "signal" (connects: always the cgroup programs). */
const char *shk_enforcer_where(enum shk_kv_backend b, uint32_t classes);

/* Probe only (no sensor): would LSM programs load here? 0, or -errno with
 * *ret_msg explaining why not (ending in ": using signal backend"). Needs
 * root; probed once, the answer is kept. */
int shk_enforcer_probe_lsm(const char **ret_msg);

#endif /* SHRIKE_ENFORCER_H */
