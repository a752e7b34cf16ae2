/* SPDX-License-Identifier: Apache-2.0 */
#include "executor.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/wait.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "container.h"
#include "freeze.h"
#include "isolate.h"
#include "k8s.h"
#include "kill.h"
#include "qstate.h"
#include "safety.h"

#define ACTION_TIMEOUT_MS 100 /* bound on each freeze/kill wait */

struct job {
	const struct shk_rule *rule;
	const struct shk_rule_plan *plan;
	struct shk_target t;
	uint64_t ts;
	void *data;
};

struct shk_executor {
	struct shk_executor_opts o;
	pthread_t thread;
	pid_t tid; /* the worker's, once it runs (shk_executor_tid) */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool running, stop;
	struct job *q;
	uint32_t head, count;
	uint32_t inflight; /* taken off the queue, done() not returned yet */
	struct shk_cgroup_mounts mounts;
	struct shk_safety *safety;
	struct shk_isolator *iso; /* no allow-list; others are made on demand */
	struct shk_bucket *buckets; /* per rule id */
	uint32_t nbuckets;
	struct shk_breaker breaker;
	struct shk_executor_stats st;
};

const char *shk_outcome_name(enum shk_outcome_kind k)
{
	static const char *const n[] = { "done", "would", "failed", "refused" };

	return k <= SHK_OUT_REFUSED ? n[k] : "?";
}

static uint64_t boottime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Runtime naming of container cgroups, every layout detect/container.h
 * knows. Host processes are never "a container": freezing a login
 * session's cgroup by mistake is what this prevents. */
bool shk_cgroup_is_container(const char *path)
{
	struct shk_cgroup_ident id;

	return shk_cgroup_ident_parse(path, &id);
}

static int cgroup_prefix(const char *path, size_t n, char *ret, size_t size)
{
	if (n + 1 > size)
		return -ENAMETOOLONG;
	memcpy(ret, path, n);
	ret[n] = '\0';
	return 0;
}

/* The container's own cgroup: path up to the container's component (a
 * process may sit in a sub-cgroup of it, as systemd in a container). */
int shk_cgroup_container_of(const char *path, char *ret, size_t size)
{
	struct shk_cgroup_ident id;

	if (!shk_cgroup_ident_parse(path, &id))
		return -ENOENT;
	return cgroup_prefix(path, id.ctr_len, ret, size);
}

/* The pod-level cgroup of a Kubernetes container (pod<uid> or
 * ...-pod<uid>.slice), which holds every container of the pod. */
int shk_cgroup_pod_of(const char *path, char *ret, size_t size)
{
	struct shk_cgroup_ident id;

	if (!shk_cgroup_ident_parse(path, &id) || !id.pod_len)
		return -ENOENT;
	return cgroup_prefix(path, id.pod_len, ret, size);
}

static void outf(char *dst, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void outf(char *dst, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, SHK_OUTCOME_TEXT, fmt, ap);
	va_end(ap);
}

/* The cgroup an action of scope container/pod works on, absolute. */
static int scope_cgroup(struct shk_executor *x, const struct job *j, enum shk_scope scope, char *abs,
			size_t size, struct shk_outcome *out)
{
	char rel[1024];

	if (!j->t.cgroup[0] || !shk_cgroup_is_container(j->t.cgroup)) {
		out->kind = SHK_OUT_REFUSED;
		outf(out->error, "not in a container (cgroup %s)", j->t.cgroup[0] ? j->t.cgroup : "unknown");
		return -EPERM;
	}
	if (scope == SHK_SCOPE_POD) {
		if (shk_cgroup_pod_of(j->t.cgroup, rel, sizeof(rel))) {
			out->kind = SHK_OUT_REFUSED;
			outf(out->error, "not in a Kubernetes pod (cgroup %s)", j->t.cgroup);
			return -EPERM;
		}
	} else if (shk_cgroup_container_of(j->t.cgroup, rel, sizeof(rel))) {
		out->kind = SHK_OUT_FAILED;
		outf(out->error, "cgroup path too long");
		return -ENAMETOOLONG;
	}
	if (shk_cgroup_join(x->mounts.v2, rel, abs, size) < 0) {
		out->kind = SHK_OUT_FAILED;
		outf(out->error, "cgroup path too long");
		return -ENAMETOOLONG;
	}
	outf(out->target, "cgroup %s", rel);
	return 0;
}

static void set_result(struct shk_outcome *out, int err, const char *reason)
{
	if (err >= 0) {
		out->kind = SHK_OUT_DONE;
	} else if (err == -EPERM) {
		out->kind = SHK_OUT_REFUSED;
		outf(out->error, "%s", reason && *reason ? reason : "refused by the safety rules");
	} else if (err == -ESRCH || err == -ESTALE) {
		/* typically an earlier action (another rule's) already ended
		 * it: still "failed", since this action did nothing */
		out->kind = SHK_OUT_FAILED;
		outf(out->error, "target already exited");
	} else {
		out->kind = SHK_OUT_FAILED;
		outf(out->error, "%s", strerror(-err));
	}
}

static struct shk_bucket *bucket_for(struct shk_executor *x, uint32_t id)
{
	if (id >= x->nbuckets) {
		uint32_t n = id + 64;
		struct shk_bucket *nb = realloc(x->buckets, n * sizeof(*nb));

		if (!nb)
			return NULL;
		/* rate_per_rule actions a minute: that burst, refilled at the
		 * matching per-second rate (at least one a second) */
		uint32_t per_min = x->o.rate_per_rule ? x->o.rate_per_rule : 60;

		for (uint32_t i = x->nbuckets; i < n; i++)
			shk_bucket_init(&nb[i], per_min / 60 ? per_min / 60 : 1, per_min,
					shk_safety_now_ns());
		x->buckets = nb;
		x->nbuckets = n;
	}
	return &x->buckets[id];
}

static int spawn_exec(struct shk_executor *x, const struct job *j, const char *cmd);

/* A quarantine in force is written down durably, so that it can be listed
 * and released after shrike restarts or dies. A write failure does not undo
 * the action (the cgroup stays frozen/isolated: fail closed); it is
 * reported in the outcome. */
static void record_quarantine(struct shk_executor *x, const struct job *j,
			      const struct shk_planned *a, const char *abs, struct shk_outcome *out)
{
	struct shk_qrec rec = { .time = time(NULL), .pid = j->t.pid };
	int err;

	snprintf(rec.kind, sizeof(rec.kind), "%s", shk_act_name(a->act));
	snprintf(rec.cgroup, sizeof(rec.cgroup), "%s", abs);
	snprintf(rec.rule, sizeof(rec.rule), "%s", j->rule->name);
	if (x->o.k8s && a->act == SHK_ACT_QUARANTINE && a->scope == SHK_SCOPE_POD && j->t.pod_ns[0] &&
	    j->t.pod_name[0])
		snprintf(rec.pod, sizeof(rec.pod), "%s/%s", j->t.pod_ns, j->t.pod_name);
	err = shk_qstate_add(x->o.state_dir ? x->o.state_dir : SHK_STATE_DIR, &rec);
	if (err)
		outf(out->error, "in force, but not recorded in the state: %s", strerror(-err));
}

/* quarantine: pod also marks the pod in the cluster (label and
 * annotation), so that operators and NetworkPolicies can select it, and
 * makes sure the namespace's deny-all NetworkPolicy for that label exists.
 * The local freeze and isolation stand whatever the API says (fail
 * closed): a failed PATCH or POST is noted in the outcome's error, the
 * outcome stays done. The policy is not tried when the label failed: it
 * selects by the label, so it could not cut this pod off anyway. */
static void label_pod(struct shk_executor *x, const struct job *j, const struct shk_planned *a,
		      struct shk_outcome *out)
{
	struct shk_k8s_quarantine q = { .ns = j->t.pod_ns, .name = j->t.pod_name,
					.rule = j->rule->name, .time = time(NULL),
					.summary = j->t.summary };
	char err[SHK_K8S_ERR] = "", was[SHK_OUTCOME_TEXT];

	if (!x->o.k8s || a->act != SHK_ACT_QUARANTINE || a->scope != SHK_SCOPE_POD ||
	    (out->kind != SHK_OUT_DONE && out->kind != SHK_OUT_WOULD))
		return;
	snprintf(was, sizeof(was), "%s", out->error);
	if (!j->t.pod_ns[0] || !j->t.pod_name[0]) {
		outf(out->error, "%s%spod label: pod name unknown (no runtime metadata)", was,
		     was[0] ? "; " : "");
		return;
	}
	snprintf(err, sizeof(err), "%s", out->target);
	outf(out->target, "%.120s, pod %.60s/%.70s", err, j->t.pod_ns, j->t.pod_name);
	if (out->kind == SHK_OUT_WOULD) {
		/* audit names every API step it would take */
		char evict[64] = "";

		if (x->o.evict_after_s)
			snprintf(evict, sizeof(evict), ", %s after %u s",
				 x->o.evict_delete ? "delete" : "evict", x->o.evict_after_s);
		snprintf(err, sizeof(err), "%s", out->target);
		outf(out->target, "%.200s (label, NetworkPolicy%s)", err, evict);
		return;
	}
	if (shk_k8s_label_pod(x->o.k8s, &q, err, sizeof(err))) {
		outf(out->error, "%s%spod label failed: %s", was, was[0] ? "; " : "", err);
		return;
	}
	if (shk_k8s_ensure_netpol(x->o.k8s, j->t.pod_ns, err, sizeof(err)))
		outf(out->error, "%s%snetwork policy failed: %s", was, was[0] ? "; " : "", err);
}

static const char *kv_backend_name(uint8_t b)
{
	return b == SHK_KB_LSM ? "lsm" : b == SHK_KB_CGROUP ? "cgroup" : "signal";
}

/* A kill of one process (or a deny carried out as one): its target is
 * pinned by a pidfd before the safety check (run_action). */
static bool pinned_kill(const struct shk_planned *a)
{
	return a->act == SHK_ACT_DENY || (a->act == SHK_ACT_KILL && a->scope == SHK_SCOPE_PROCESS);
}

static void close_pidfd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void run_action_on(struct shk_executor *x, const struct job *j, const struct shk_planned *a,
			  struct shk_outcome *out, int *pfd)
{
	struct shk_pidref ref = { .pid = j->t.pid, .unit = SHK_START_BOOTTIME_NS, .start = j->t.start_ns };
	char reason[SHK_SAFETY_REASON_MAX] = "", abs[SHK_CGROUP_PATH_MAX] = "";
	uint64_t now = shk_safety_now_ns();
	struct shk_bucket *b = bucket_for(x, j->rule->id);
	bool process_scope = a->act == SHK_ACT_DENY || a->scope == SHK_SCOPE_PROCESS ||
			     a->scope == SHK_SCOPE_PROCESS_TREE;
	struct shk_isolation *isolation = NULL; /* pinned once timed */
	int pin_err = 0;
	int err = 0;

	memset(out, 0, sizeof(*out));
	out->action = a;
	outf(out->target, "pid %d", j->t.pid);
	if ((a->act == SHK_ACT_DENY || (a->act == SHK_ACT_KILL && a->in_kernel)) &&
	    j->t.kv_action) {
		/* done in the kernel, before this alert existed */
		outf(out->target, "pid %d (kernel: %s)", j->t.pid, kv_backend_name(j->t.kv_backend));
		out->kind = j->t.kv_action == SHK_KV_WOULD ? SHK_OUT_WOULD : SHK_OUT_DONE;
		out->in_kernel = true; /* at the event: latency 0 */
		return;
	}

	/* safety first, in both modes: a dry run must show refusals too. A
	 * process kill pins its target first (a pidfd, verified against the
	 * event's start time), so that this one check covers the process
	 * that is signalled, with no second check on the way */
	if (a->act != SHK_ACT_EXEC) {
		if (pinned_kill(a) && a->mode == SHK_MODE_ENFORCE) {
			*pfd = shk_pidref_open(&ref);
			if (*pfd < 0) {
				set_result(out, *pfd, NULL);
				return;
			}
		}
		if (process_scope) {
			if (shk_safety_check(x->safety, j->t.pid, reason, sizeof(reason)) == -EPERM) {
				set_result(out, -EPERM, reason);
				return;
			}
		} else {
			if (scope_cgroup(x, j, a->scope, abs, sizeof(abs), out))
				return;
			if (shk_safety_check_cgroup(x->safety, abs, reason, sizeof(reason)) == -EPERM) {
				set_result(out, -EPERM, reason);
				return;
			}
		}
	}
	if (b && !shk_bucket_take(b, now)) {
		out->kind = SHK_OUT_REFUSED;
		outf(out->error, "rate limit of rule reached");
		return;
	}
	if (a->mode != SHK_MODE_ENFORCE) {
		out->kind = SHK_OUT_WOULD;
		label_pod(x, j, a, out);
		return;
	}
	if (!shk_breaker_allow(&x->breaker, now)) {
		out->kind = SHK_OUT_REFUSED;
		outf(out->error, "circuit breaker: too many actions per second, acting as audit");
		return;
	}

	switch (a->act) {
	case SHK_ACT_DENY: /* userspace: the rule is not in the kernel, or the
			    * kernel did not see this event the same way */
	case SHK_ACT_KILL:
		if (*pfd >= 0)
			err = shk_pidfd_alive(*pfd) ? shk_kill_pidfd(*pfd, SIGKILL) : -ESRCH;
		else if (a->scope == SHK_SCOPE_PROCESS_TREE)
			err = shk_kill_tree(x->safety, &x->mounts, &ref, SIGKILL, ACTION_TIMEOUT_MS);
		else
			err = shk_kill_cgroup(x->safety, &x->mounts, abs, SIGKILL, ACTION_TIMEOUT_MS);
		break;
	case SHK_ACT_FREEZE:
		if (a->scope == SHK_SCOPE_PROCESS) {
			struct shk_frozen fz;

			err = shk_freeze_process(x->safety, &x->mounts, &ref, ACTION_TIMEOUT_MS, &fz);
			if (err >= 0) {
				outf(out->target, "pid %d in cgroup %s", j->t.pid, fz.cgroup);
				snprintf(abs, sizeof(abs), "%s", fz.cgroup);
			}
		} else {
			err = shk_freeze_cgroup(x->safety, abs, ACTION_TIMEOUT_MS);
		}
		break;
	case SHK_ACT_ISOLATE:
	case SHK_ACT_QUARANTINE:
		if (a->scope == SHK_SCOPE_PROCESS) {
			/* a lone process gets its own cgroup first, like freeze */
			struct shk_frozen fz;

			err = shk_freeze_process(x->safety, &x->mounts, &ref, ACTION_TIMEOUT_MS, &fz);
			if (err >= 0)
				err = shk_thaw_cgroup(fz.cgroup, ACTION_TIMEOUT_MS);
			snprintf(abs, sizeof(abs), "%s", fz.cgroup);
		}
		if (err >= 0 && a->act == SHK_ACT_QUARANTINE)
			err = shk_freeze_cgroup(x->safety, abs, ACTION_TIMEOUT_MS);
		if (err >= 0)
			err = x->iso ? shk_isolate_cgroup(x->iso, abs, &isolation) : -ENOTSUP;
		break;
	case SHK_ACT_EXEC:
		err = spawn_exec(x, j, a->cmd);
		if (err >= 0)
			outf(out->target, "%s", a->cmd);
		break;
	default:
		err = -EINVAL;
	}
	if (err == -ENOTSUP && reason[0]) {
		out->kind = SHK_OUT_FAILED;
		outf(out->error, "%s", reason);
		return;
	}
	/* the action is complete: what follows (pinning the isolation, the
	 * durable record, the pod label) is bookkeeping about it, not part
	 * of its latency */
	out->latency_us = (boottime_ns() - j->ts) / 1000;
	if (err >= 0 && isolation)
		pin_err = shk_isolation_pin(x->iso, isolation); /* survives a restart */
	if (err == -EPERM && !reason[0])
		shk_safety_check(x->safety, j->t.pid, reason, sizeof(reason));
	set_result(out, err, reason);
	if (pin_err < 0 && out->kind == SHK_OUT_DONE)
		outf(out->error, "in force, but not pinned (a restart would lose it): %s",
		     strerror(-pin_err));
	if (out->kind == SHK_OUT_DONE &&
	    (a->act == SHK_ACT_FREEZE || a->act == SHK_ACT_ISOLATE || a->act == SHK_ACT_QUARANTINE))
		record_quarantine(x, j, a, abs, out);
	label_pod(x, j, a, out);
}

static void run_action(struct shk_executor *x, const struct job *j, const struct shk_planned *a,
		       struct shk_outcome *out)
{
	int pfd = -1;

	run_action_on(x, j, a, out, &pfd);
	close_pidfd(&pfd);
}

/*
 * exec: run `sh -c cmd` with the alert JSON on stdin and SHRIKE_RULE,
 * SHRIKE_PID, SHRIKE_PRIORITY, SHRIKE_CGROUP in the environment. The
 * worker must not wait for it: it forks a supervisor that forks again and
 * exits at once (reaped right here), and the grandchild runs the command
 * and kills it after the timeout. "done" means launched; what the command
 * does is its own business. Between fork and exec only async-signal-safe
 * calls are made (the agent is multithreaded).
 */
static int spawn_exec(struct shk_executor *x, const struct job *j, const char *cmd)
{
	char e_rule[512], e_pid[32], e_prio[64], e_cg[1100];
	char *envp[] = { e_rule, e_pid, e_prio, e_cg, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	unsigned timeout = x->o.exec_timeout_s ? x->o.exec_timeout_s : 10;
	const char *alert = j->t.alert ? j->t.alert : "";
	size_t len = strlen(alert);
	int pfd[2], status;
	pid_t s;

	snprintf(e_rule, sizeof(e_rule), "SHRIKE_RULE=%s", j->rule->name);
	snprintf(e_pid, sizeof(e_pid), "SHRIKE_PID=%d", j->t.pid);
	snprintf(e_prio, sizeof(e_prio), "SHRIKE_PRIORITY=%s", j->t.priority ? j->t.priority : "");
	snprintf(e_cg, sizeof(e_cg), "SHRIKE_CGROUP=%s", j->t.cgroup);
	/* the alert goes through a pipe the command reads; it is written
	 * before the command runs, so it must fit: cut it at the pipe size */
	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	if (len > 65536)
		len = 65536;
	if (write(pfd[1], alert, len) < 0 || close(pfd[1])) {
		int e = -errno;

		close(pfd[0]);
		return e;
	}
	s = fork();
	if (s < 0) {
		int e = -errno;

		close(pfd[0]);
		return e;
	}
	if (s == 0) {
		sigset_t chld, none;
		struct timespec ts = { .tv_sec = timeout };
		pid_t c;

		/* the worker blocks every signal; the supervisor only waits
		 * for SIGCHLD, the command gets a clean mask */
		sigemptyset(&none);
		sigemptyset(&chld);
		sigaddset(&chld, SIGCHLD);
		if (fork() > 0)
			_exit(0); /* the worker reaps this one right away */
		c = fork();
		if (c == 0) {
			pthread_sigmask(SIG_SETMASK, &none, NULL);
			dup2(pfd[0], 0);
			execle("/bin/sh", "sh", "-c", cmd, (char *)NULL, envp);
			_exit(127);
		}
		if (c > 0 && sigtimedwait(&chld, NULL, &ts) < 0) {
			kill(c, SIGKILL); /* timed out */
		}
		if (c > 0)
			waitpid(c, NULL, 0);
		_exit(0);
	}
	close(pfd[0]);
	waitpid(s, &status, 0);
	return 0;
}

static void *worker(void *arg)
{
	struct shk_executor *x = arg;
	struct shk_outcome out[32];
	uint64_t pruned = boottime_ns();

	__atomic_store_n(&x->tid, gettid(), __ATOMIC_RELEASE);
	for (;;) {
		struct job j;
		uint32_t n;

		/* once a second, busy or idle, let go of the isolations whose
		 * container is gone (the isolator is this thread's) */
		if (x->iso && boottime_ns() - pruned >= 1000000000ull) {
			shk_isolator_prune(x->iso);
			pruned = boottime_ns();
		}
		pthread_mutex_lock(&x->mu);
		while (!x->count && !x->stop) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			if (pthread_cond_timedwait(&x->cv, &x->mu, &ts) == ETIMEDOUT)
				break;
		}
		if (!x->count && !x->stop) {
			pthread_mutex_unlock(&x->mu);
			continue; /* a second went by: prune */
		}
		if (!x->count && x->stop) {
			pthread_mutex_unlock(&x->mu);
			return NULL;
		}
		j = x->q[x->head];
		x->head = (x->head + 1) % SHK_EXEC_QUEUE;
		x->count--;
		x->inflight++;
		pthread_mutex_unlock(&x->mu);

		n = j.plan->n < 32 ? j.plan->n : 32;
		for (uint32_t i = 0; i < n; i++) {
			run_action(x, &j, &j.plan->v[i], &out[i]);
			if (!out[i].latency_us && !out[i].in_kernel) /* decided before acting */
				out[i].latency_us = (boottime_ns() - j.ts) / 1000;
		}
		pthread_mutex_lock(&x->mu);
		for (uint32_t i = 0; i < n; i++) {
			uint64_t *c[] = { &x->st.done, &x->st.would, &x->st.failed, &x->st.refused };

			(*c[out[i].kind])++;
		}
		pthread_mutex_unlock(&x->mu);
		if (x->o.done)
			x->o.done(j.data, out, n, x->o.ctx);
		pthread_mutex_lock(&x->mu);
		x->inflight--;
		pthread_mutex_unlock(&x->mu);
	}
}

bool shk_executor_idle(struct shk_executor *x)
{
	bool idle;

	pthread_mutex_lock(&x->mu);
	idle = !x->count && !x->inflight;
	pthread_mutex_unlock(&x->mu);
	return idle;
}

struct shk_executor *shk_executor_new(const struct shk_executor_opts *o)
{
	struct shk_executor *x = calloc(1, sizeof(*x));
	struct shk_isolator_opts io = { .pin_dir = o->pin_dir ? o->pin_dir : SHK_ISOLATE_PIN_DIR,
					.defer_pin = true };
	int err;

	if (!x)
		return NULL;
	x->o = *o;
	x->q = calloc(SHK_EXEC_QUEUE, sizeof(*x->q));
	if (!x->q)
		goto fail_errno;
	err = shk_cgroup_mounts_discover(o->mountinfo ? o->mountinfo : SHK_CGROUP_MOUNTINFO, &x->mounts);
	if (err < 0) {
		errno = -err;
		goto fail_errno;
	}
	x->safety = shk_safety_new(&x->mounts, o->proc_root);
	if (!x->safety)
		goto fail_errno;
	/* Isolation needs cgroup BPF; when it cannot load, isolate actions
	 * fail with the reason instead of taking the agent down. */
	x->iso = shk_isolator_new(&io);
	/* more than breaker_per_sec actions in a second: audit for 10 s */
	shk_breaker_init(&x->breaker, o->breaker_per_sec ? o->breaker_per_sec : 50, 1000000000ull,
			 10000000000ull, shk_safety_now_ns());
	pthread_mutex_init(&x->mu, NULL);
	pthread_cond_init(&x->cv, NULL);
	{
		/* The worker must never take a process signal: SIGINT/SIGTERM
		 * belong to the event loop's signalfd, and a thread created
		 * before the loop blocks them would otherwise get them (and
		 * the default action kills the agent). */
		sigset_t all, old;

		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		err = pthread_create(&x->thread, NULL, worker, x);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (err) {
			errno = err;
			goto fail_errno;
		}
	}
	x->running = true;
	return x;
fail_errno:
	err = errno;
	shk_executor_free(x);
	errno = err;
	return NULL;
}

pid_t shk_executor_tid(struct shk_executor *x)
{
	pid_t tid = 0;

	/* the worker stores it first thing; allow it a second to start */
	for (int i = 0; i < 1000 && !(tid = __atomic_load_n(&x->tid, __ATOMIC_ACQUIRE)); i++)
		usleep(1000);
	return tid;
}

void shk_executor_free(struct shk_executor *x)
{
	if (!x)
		return;
	if (x->running) {
		pthread_mutex_lock(&x->mu);
		x->stop = true;
		pthread_cond_signal(&x->cv);
		pthread_mutex_unlock(&x->mu);
		pthread_join(x->thread, NULL);
	}
	shk_isolator_free(x->iso);
	shk_safety_free(x->safety);
	free(x->buckets);
	free(x->q);
	free(x);
}

int shk_executor_protect(struct shk_executor *x, const char *pattern)
{
	return shk_safety_protect(x->safety, pattern, 0);
}

int shk_executor_submit(struct shk_executor *x, const struct shk_rule *rule,
			const struct shk_rule_plan *plan, const struct shk_target *t,
			uint64_t event_ts_ns, void *job_data)
{
	int err = 0;

	pthread_mutex_lock(&x->mu);
	x->st.jobs++;
	if (x->count == SHK_EXEC_QUEUE) {
		x->st.dropped++;
		err = -EAGAIN;
	} else {
		x->q[(x->head + x->count) % SHK_EXEC_QUEUE] = (struct job){
			.rule = rule, .plan = plan, .t = *t, .ts = event_ts_ns, .data = job_data,
		};
		x->count++;
		pthread_cond_signal(&x->cv);
	}
	pthread_mutex_unlock(&x->mu);
	return err;
}

void shk_executor_stats(struct shk_executor *x, struct shk_executor_stats *ret)
{
	pthread_mutex_lock(&x->mu);
	*ret = x->st;
	ret->breaker_tripped = shk_breaker_tripped(&x->breaker, shk_safety_now_ns());
	pthread_mutex_unlock(&x->mu);
}
