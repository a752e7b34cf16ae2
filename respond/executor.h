/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Carrying out a rule's planned actions (respond/plan.h) on the process an
 * event is about, off the event path: a bounded queue feeds one worker
 * thread, so reading events never waits for a kill or a freeze. Each action
 * ends in one outcome: done, would (audit), failed or refused (safety).
 */
#ifndef SHRIKE_EXECUTOR_H
#define SHRIKE_EXECUTOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "plan.h"

#define SHK_EXEC_QUEUE 1024 /* pending jobs; more are counted as dropped */
#define SHK_OUTCOME_TEXT 256

enum shk_outcome_kind {
	SHK_OUT_DONE,
	SHK_OUT_WOULD,
	SHK_OUT_FAILED,
	SHK_OUT_REFUSED,
};

/* What an event says about its process, captured at the match. */
struct shk_target {
	int pid;
	uint64_t start_ns; /* CLOCK_BOOTTIME of the group leader: pid reuse guard */
	char cgroup[1024]; /* v2 cgroup path relative to the v2 root, "" unknown */
	const char *alert; /* the alert as JSON, for exec actions; valid until done */
	const char *priority;
	/* the kernel already acted on this rule (bpf/shrike_abi.h): the deny
	 * is reported from its verdict, not done again */
	uint8_t kv_action;  /* enum shk_kv_action, 0: none */
	uint8_t kv_backend; /* enum shk_kv_backend */
	/* the pod (k8s.ns.name, k8s.pod.name), "" unknown: quarantine: pod
	 * labels it through the API client (opts.k8s) */
	char pod_ns[64];
	char pod_name[254];
	const char *summary; /* the alert's output line, for the pod's annotation */
};

struct shk_outcome {
	const struct shk_planned *action;
	enum shk_outcome_kind kind;
	char target[SHK_OUTCOME_TEXT]; /* "pid 1234", "cgroup /kubepods/..." */
	char error[SHK_OUTCOME_TEXT];  /* why it failed or was refused */
	uint64_t latency_us;	       /* from the event to the action's completion (the
					* durable record and pod label follow it); 0 for
					* what the kernel did at the event itself */
	bool in_kernel;		       /* done (or found would-be) by the kernel policy */
};

/* Called by the worker for each finished job, with its outcomes. */
typedef void (*shk_job_done_fn)(void *job_data, const struct shk_outcome *out, uint32_t n,
				void *ctx);

struct shk_executor;
struct shk_k8s;

struct shk_executor_opts {
	const char *mountinfo; /* NULL: /proc/self/mountinfo */
	const char *proc_root; /* NULL: /proc */
	uint32_t rate_per_rule; /* actions per rule per minute; 0: 60 */
	uint32_t breaker_per_sec; /* all actions per second before audit; 0: 50 */
	uint32_t exec_timeout_s;  /* exec actions are killed after this; 0: 10 */
	const char *state_dir;    /* quarantine records; NULL: SHK_STATE_DIR */
	const char *pin_dir;      /* pinned isolations; NULL: SHK_ISOLATE_PIN_DIR */
	/* NULL: pod quarantines are local only (freeze + isolate); else the
	 * pod is also labelled through the API (respond/k8s.h). Freed after
	 * the executor. */
	struct shk_k8s *k8s;
	/* the pod removal that follows a pod quarantine (k8s.evict_after_s,
	 * done by the daemon): named in audit's "would" */
	uint32_t evict_after_s;
	bool evict_delete;
	shk_job_done_fn done;
	void *ctx;
};

struct shk_executor_stats {
	uint64_t jobs, dropped, done, would, failed, refused;
	bool breaker_tripped;
};

struct shk_executor *shk_executor_new(const struct shk_executor_opts *o);
/* Stop the worker after the queued jobs are done, then free. */
void shk_executor_free(struct shk_executor *x);
/* The worker thread's tid, for its scheduling (cmd/realtime.h); 0 if it
 * has not started within a second. */
pid_t shk_executor_tid(struct shk_executor *x);
/* Add protect patterns (process names) from the policies. */
int shk_executor_protect(struct shk_executor *x, const char *pattern);

/*
 * Queue the actions of one match. job_data (owned by the caller until
 * `done` is called with it) travels with the job. event_ts_ns is the
 * event's CLOCK_BOOTTIME timestamp, for latency. Returns 0, or -EAGAIN
 * when the queue is full (counted; the caller reports it).
 */
int shk_executor_submit(struct shk_executor *x, const struct shk_rule *rule,
			const struct shk_rule_plan *plan, const struct shk_target *t,
			uint64_t event_ts_ns, void *job_data);

void shk_executor_stats(struct shk_executor *x, struct shk_executor_stats *ret);
/* Nothing queued and nothing running: no job refers to a rule or plan. */
bool shk_executor_idle(struct shk_executor *x);
const char *shk_outcome_name(enum shk_outcome_kind k);

/* Whether a v2 cgroup path is a container's (runtime naming,
 * detect/container.h); the container's own cgroup (the path may be below
 * it) and the pod-level cgroup of a Kubernetes one, as paths into ret
 * (size bytes): 0, -ENOENT or -ENAMETOOLONG. Exposed for tests. */
bool shk_cgroup_is_container(const char *path);
int shk_cgroup_container_of(const char *path, char *ret, size_t size);
int shk_cgroup_pod_of(const char *path, char *ret, size_t size);

#endif
