/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The durable record of quarantines (freeze, isolate, quarantine) that
 * shrike has put in force: a JSON file (default
 * /var/lib/shrike/quarantine.json), written atomically (temp file, fsync,
 * rename, fsync of the directory), mode 0600 in a 0700 directory, and
 * changed under an flock so the daemon and `shrike quarantine` never
 * interleave. The kernel state (frozen cgroups, pinned BPF links) outlives
 * the agent by itself; this file is what lets anyone list and release it.
 */
#ifndef SHRIKE_QSTATE_H
#define SHRIKE_QSTATE_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#define SHK_STATE_DIR "/var/lib/shrike"

struct shk_qrec {
	uint32_t id;
	char kind[16];      /* "freeze", "isolate" or "quarantine" */
	char cgroup[4096];  /* absolute cgroupfs path */
	char rule[256];
	int64_t time;       /* when, seconds since the epoch */
	int pid;            /* the process the alert was about */
	char pod[320];      /* "ns/name" of a pod labelled through the API, or "" */
	bool pod_removed;   /* that pod was evicted or deleted (k8s.evict_after_s) */
};

/* All records; a missing file is zero records. Caller frees *ret. */
int shk_qstate_load(const char *dir, struct shk_qrec **ret, size_t *ret_n);
/* Append rec (its id is assigned and written back). */
int shk_qstate_add(const char *dir, struct shk_qrec *rec);
/* Remove the record with this id: 0 or -ENOENT. */
int shk_qstate_remove(const char *dir, uint32_t id);
/* Note that the record's pod was removed through the API, so that a
 * restart does not remove it again: 0 or -ENOENT. */
int shk_qstate_mark_pod_removed(const char *dir, uint32_t id);

struct shk_isolator;
/*
 * Undo one quarantine: thaw the cgroup, release its (pinned) isolation,
 * forget the record. *iso is opened on first need (adopting the pinned
 * links) and reused; the caller frees it. On failure, msg says what failed.
 * Returns 0 or a negative errno.
 */
int shk_qstate_release(const char *dir, const struct shk_qrec *r, struct shk_isolator **iso,
		       char *msg, size_t msgsz);

#endif
