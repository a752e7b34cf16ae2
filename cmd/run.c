/* SPDX-License-Identifier: Apache-2.0 */
/* `shrike run`: the sensors plus the rule engine; alerts on stdout. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <limits.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>

#include "cli.h"
#include "control.h"
#include "enforce.h"
#include "eval.h"
#include "executor.h"
#include "extract.h"
#include "jsonw.h"
#include "output.h"
#include "outputs.h"
#include "config.h"
#include "drops.h"
#include "harden.h"
#include "metrics.h"
#include "plan.h"
#include "isolate.h"
#include "qstate.h"
#include "realtime.h"
#include "policy.h"
#include "session.h"
#include "syscalls.h"

#define MAX_POLICIES 64

/* Syscalls the process table needs whatever the rules say. */
static const char *const state_syscalls[] = {
	"dup", "dup2", "dup3", "chdir", "fchdir", "setuid", "setgid", "setresuid", "setresgid", NULL,
};

struct run {
	struct session ses;
	struct shk_ruleset *rs;
	struct shk_outputs *outs;
	struct shk_evalctx ctx;
	enum shk_rule_matching matching;
	int min_priority; /* alerts below this priority are not emitted */
	bool json;
	bool dry_run, strict;
	const char *state_dir;
	const char *control_path;
	int control_fd;
	char *const *policies;
	int npolicies;
	time_t started;
	struct shk_plan *plan;
	struct shk_executor *exec;
	struct shk_k8s *k8s; /* the Kubernetes API client, NULL when off */
	pthread_mutex_t out_mu; /* alerts come from the event loop and the executor */
	uint64_t queue_full;
	char hostname[256];
	struct jw w;
	struct shk_strbuf line;
	uint64_t alerts, suppressed;
	FILE *out;
	/* config, outputs and metrics (see config.h, outputs.h, metrics.h) */
	struct shk_conf *cfg;
	const char *config_path;
	char *sets[64]; /* -o KEY=VALUE, applied over the config file */
	int nsets;
	struct shk_sinks *sinks;
	struct shk_run_metrics *m;
	struct shk_metrics_src msrc;
	struct shk_metrics_server *metrics;
	uint64_t last_snap_ns;
	struct drops_watch drops; /* drop alerts (drops.h) */
	bool no_harden;		  /* --no-harden */
	/* rule sets replaced by a reload, kept until no queued action refers
	 * to them; rs0 (the first) lives as long as the metrics listener */
	struct gen {
		struct shk_ruleset *rs;
		struct shk_plan *plan;
		struct shk_outputs *outs;
	} old[16];
	int nold;
	struct shk_ruleset *rs0;
	uint64_t reloads, reload_failures;
	struct rt rt; /* the event loop's and the action worker's scheduling */
	/* hot reload of the config: earlier configs stay (strings of theirs
	 * are in use), outputs replaced by one drain, then stay for good (a
	 * metrics scrape may hold a name of theirs) */
	bool policies_from_cfg; /* no --policy: the config names them */
	char *pol_buf[MAX_POLICIES];
	struct shk_conf *old_cfgs[16];
	int nold_cfgs;
	struct shk_sinks *retired[16];
	bool retired_done[16];
	int nretired;
	/* inotify on the policy and config files (watch_*) */
	int ino_fd;
	struct {
		int wd;
		char *dir, *name; /* name NULL: any *.yaml / *.yml in dir */
	} watches[2 * MAX_POLICIES + 4];
	int nwatches;
	bool changed; /* a watched file changed: reload at the next second */
	/* quarantined pods removed after k8s.evict_after_s (evict_due) */
	pthread_mutex_t ev_mu; /* the API client's thread reports outcomes */
	struct evict_track {
		unsigned id;   /* the quarantine record */
		time_t next;   /* not before (a failure waits a minute) */
		bool inflight, done;
	} ev[64];
	int nev;
	/* kernel enforcement; the verdict the current event carries */
	struct enforce en;
	uint8_t *kskip; /* by rule id: decided in the kernel (ctx.skip_rule) */
	int64_t vrule;
	const struct shk_kverdict *kv;
	bool vseen;
};

static void run_usage(FILE *f)
{
	fprintf(f,
		"usage: shrike run [options]\n"
		"\n"
		"Run the sensors and evaluate Falco-compatible rules on every event; print\n"
		"an alert for each match on stdout.\n"
		"\n"
		"options:\n"
		"  --policy PATH       a rule/policy file, or a directory of *.yaml files;\n"
		"                      repeatable, loaded in order (default: " SHK_DEFAULT_POLICY_DIR ",\n"
		"                      else shrike's own rules/ and policies/: reverse\n"
		"                      shells and miners killed, everything else audited)\n"
		"  --json              alerts as JSON lines in Falco's schema\n"
		"  --dry-run           audit everything: evaluate every action and report\n"
		"                      what it would have done, touching nothing\n"
		"  --enforcer MODE     where deny rules run: lsm (BPF-LSM, EPERM), signal\n"
		"                      (SIGKILL from tracepoints, EPERM for connects), or\n"
		"                      auto (lsm where the kernel allows it; the default)\n"
		"  --strict            a deny that cannot be enforced in the kernel is an\n"
		"                      error instead of falling back to kill: process\n"
		"  --state-dir DIR     where quarantines are recorded (default /var/lib/shrike)\n"
		"  --control PATH      the root-only control socket for 'shrike status' and\n"
		"                      'shrike quarantine' (default " SHK_CONTROL_PATH ")\n"
		"  --config PATH       the config file (default " SHK_CONFIG_PATH ", optional;\n"
		"                      then its config.d/ *.yaml; see shrike config check)\n"
		"  -o KEY=VALUE        override a config key (dotted: metrics.address=...):\n"
		"                      rule_matching=first|all (default first),\n"
		"                      priority=LEVEL (minimum priority to report, default debug),\n"
		"                      json_output=true|false, ...\n"
		"  --ringbuf-mb N      kernel ring buffer size in MiB (default 8)\n"
		"  --no-harden         keep every capability and install no seccomp filter\n"
		"                      (debugging; the config key is harden: true|false)\n"
		"  -v, --verbose       show libbpf and verifier messages\n"
		"  -h, --help          this help\n"
		"\n"
		"Prints 'shrike: ready' on stderr once the sensors are attached and the rules\n"
		"loaded (and sends READY=1 to $NOTIFY_SOCKET when set). Stop with SIGINT or\n"
		"SIGTERM; a summary of events, alerts and drops is printed on exit.\n");
}

/* An alert with actions: it waits for the executor's outcomes. */
struct pending {
	struct run *r;
	const struct shk_rule *rule;
	char *json; /* the alert object, when an output wants JSON */
	char *line; /* the alert line */
};

/* Every alert goes to the outputs once its response outcomes are known;
 * an output that cannot take it counts the drop. */
static void deliver(struct run *r, int priority, const char *rule, const char *line,
		    const char *text, const char *json, const char *response)
{
	struct shk_alert_msg m = {
		.priority = priority, .rule = rule, .output = line,
		.text = text, .json = json, .response = response,
	};

	shk_sinks_send(r->sinks, &m);
}

/* A ready-made alert (JSON with --json, else a line) for every output. */
static void __attribute__((unused)) emit(struct run *r, const char *s)
{
	deliver(r, SHK_PRIO_WARNING, "shrike", s, r->json ? NULL : s, r->json ? s : NULL, NULL);
}

/* "kill:process_tree=done; exec=failed why" */
static void response_text(struct shk_strbuf *b, const struct shk_outcome *out, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		char item[600];
		int k = snprintf(item, sizeof(item), "%s%s%s%s=%s%s%s", i ? "; " : "",
				 shk_act_name(out[i].action->act), out[i].action->scope ? ":" : "",
				 out[i].action->scope ? shk_scope_name(out[i].action->scope) : "",
				 shk_outcome_name(out[i].kind), out[i].error[0] ? " " : "",
				 out[i].error);

		shk_strbuf_put(b, item, k > 0 && (size_t)k < sizeof(item) ? (size_t)k : 0);
	}
}

/* "response":[{action, scope, target, mode, outcome, error, latency_us, from}] */
static void response_json(struct jw *w, const struct shk_outcome *out, uint32_t n)
{
	jw_key(w, "response");
	jw_arr_begin(w);
	for (uint32_t i = 0; i < n; i++) {
		jw_obj_begin(w);
		jw_kstr(w, "action", shk_act_name(out[i].action->act));
		jw_kstr(w, "scope", shk_scope_name(out[i].action->scope));
		jw_kstr(w, "target", out[i].target);
		jw_kstr(w, "mode", out[i].action->mode == SHK_MODE_ENFORCE ? "enforce" : "audit");
		jw_kstr(w, "outcome", shk_outcome_name(out[i].kind));
		if (out[i].error[0])
			jw_kstr(w, "error", out[i].error);
		else
			jw_key(w, "error"), jw_null(w);
		jw_kuint(w, "latency_us", out[i].latency_us);
		jw_kstr(w, "from", out[i].action->from);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

/* Executor thread: the actions are done, the alert can tell the truth. */
static void on_done(void *data, const struct shk_outcome *out, uint32_t n, void *ctx)
{
	struct pending *p = data;
	struct run *r = p->r;
	struct shk_strbuf resp = { 0 }, text = { 0 };
	char *json = NULL;
	struct jw w;

	for (uint32_t i = 0; i < n; i++) {
		shk_ctr_inc(&r->m->actions[out[i].action->act][out[i].kind & 3]
					   [out[i].action->mode == SHK_MODE_ENFORCE]);
		shk_run_metrics_observe_action(r->m, &out[i]);
	}
	response_text(&resp, out, n);
	shk_strbuf_put(&text, p->line, strlen(p->line));
	if (n) {
		shk_strbuf_put(&text, " | response: ", 13);
		shk_strbuf_put(&text, resp.buf, resp.len);
	}
	jw_init(&w);
	if (p->json) {
		size_t len = strlen(p->json);

		/* the alert object, reopened to append "response" */
		if (len && p->json[len - 1] == '}')
			p->json[len - 1] = '\0';
		response_json(&w, out, n);
		if (asprintf(&json, "%s,%s}", p->json, jw_cstr(&w)) < 0)
			json = NULL; /* the JSON outputs count a drop for "" below */
	}
	deliver(r, (int)p->rule->priority, p->rule->name, p->line, text.buf ? text.buf : "",
		json ? json : "", resp.buf);
	jw_free(&w);
	free(json);
	shk_strbuf_free(&text);
	shk_strbuf_free(&resp);
	free(p->json);
	free(p->line);
	free(p);
}

static void pending_free(struct pending *p)
{
	if (p) {
		free(p->json);
		free(p->line);
		free(p);
	}
}

/* The pod an action's target is in, for quarantine: pod's API label. */
static void target_pod(struct shk_evalctx *ctx, struct shk_target *t)
{
	struct shk_value v;

	if (shk_extract_id(ctx, SHK_FIELD_K8S_NS_NAME, &v) && v.type == SHK_V_STR)
		snprintf(t->pod_ns, sizeof(t->pod_ns), "%s", v.str.s);
	if (shk_extract_id(ctx, SHK_FIELD_K8S_POD_NAME, &v) && v.type == SHK_V_STR)
		snprintf(t->pod_name, sizeof(t->pod_name), "%s", v.str.s);
}

static int on_match(const struct shk_rule *rule, struct shk_evalctx *ctx, void *data)
{
	struct run *r = data;
	const struct shk_output *o = shk_outputs_get(r->outs, rule->id);
	const struct shk_rule_plan *plan = shk_plan_for(r->plan, rule->id);
	const char *json = NULL, *line;

	if ((int64_t)rule->id == r->vrule)
		r->vseen = true;
	if ((int)rule->priority > r->min_priority) {
		r->suppressed++;
		shk_ctr_inc(&r->m->below_priority);
		return 0;
	}
	r->alerts++;
	shk_ctr_inc(&r->m->alerts);
	/* per-rule counters are labelled from the start-up rule set */
	if (rule->id < r->m->rules_n && r->rs == r->rs0)
		shk_ctr_inc(&r->m->matches[rule->id]);
	if (shk_sinks_need_json(r->sinks)) {
		jw_reset(&r->w);
		/* leaves the alert line in r->line */
		shk_alert_json(&r->w, &r->line, rule, o, ctx, NULL);
		json = jw_cstr(&r->w);
	} else {
		shk_alert_line(&r->line, rule, o, ctx);
	}
	line = r->line.buf ? r->line.buf : "";
	if (plan && plan->n && r->exec) {
		const struct shk_event *ev = ctx->ev;
		const struct shk_proc *p = shk_proctable_get(r->ses.procs, (int)ev->hdr->pid);
		struct shk_target t = { .pid = (int)ev->hdr->pid };
		struct pending *pd = calloc(1, sizeof(*pd));

		t.start_ns = ev->task ? ev->task->start_ns : p ? p->start_ns : 0;
		if (r->kv && (int64_t)rule->id == r->vrule) {
			t.kv_action = r->kv->action;
			t.kv_backend = r->kv->backend;
		}
		if (p && p->cgroup.p)
			snprintf(t.cgroup, sizeof(t.cgroup), "%s", p->cgroup.p);
		if (pd && (pd->line = strdup(line)) && (!json || (pd->json = strdup(json)))) {
			pd->r = r;
			pd->rule = rule;
			t.alert = pd->json ? pd->json : pd->line; /* freed after done */
			t.priority = shk_priority_name(rule->priority);
			t.summary = pd->line;
			target_pod(ctx, &t);
			if (!shk_executor_submit(r->exec, rule, plan, &t, ev->hdr->ts_ns, pd))
				return 0; /* on_done delivers the alert */
			r->queue_full++;
			shk_ctr_inc(&r->m->action_queue_full);
		}
		pending_free(pd);
		/* fall through: the alert is not lost, only its actions */
	}
	deliver(r, (int)rule->priority, rule->name, line, line, json, NULL);
	return 0;
}

/* The sensors' figures for the metrics listener, published by the only
 * thread that may read them. */
static int publish_stats(struct run *r, struct shk_sensor_stats *ret)
{
	struct shk_sensor_stats st = { 0 };
	struct shk_proctable_stats ps = { 0 };
	struct shk_counters *per = NULL;
	int ncpus = shk_sensor_stats_cpu(r->ses.sensor, &st, &per);

	if (ncpus < 0)
		return ncpus;
	shk_proctable_stats(r->ses.procs, &ps);
	atomic_store_explicit(&r->m->received, st.received, memory_order_relaxed);
	atomic_store_explicit(&r->m->drops, st.kernel.drops, memory_order_relaxed);
	atomic_store_explicit(&r->m->oversize, st.kernel.oversize, memory_order_relaxed);
	atomic_store_explicit(&r->m->truncated, st.kernel.truncated, memory_order_relaxed);
	atomic_store_explicit(&r->m->malformed, st.malformed, memory_order_relaxed);
	atomic_store_explicit(&r->m->compat, st.kernel.compat, memory_order_relaxed);
	atomic_store_explicit(&r->m->kp_verdicts, st.kernel.kp_verdicts, memory_order_relaxed);
	atomic_store_explicit(&r->m->kp_missed, st.kernel.kp_missed, memory_order_relaxed);
	atomic_store_explicit(&r->m->procs, ps.size, memory_order_relaxed);
	shk_run_metrics_publish_cpu(r->m, per, (unsigned)ncpus);
	free(per);
	if (ret)
		*ret = st;
	return 0;
}

static int on_event(const struct shk_event *ev, void *data)
{
	struct run *r = data;
	unsigned t;
	int n;

	r->ctx.ev = ev;
	r->vrule = enforce_verdict(&r->en, ev, &r->kv);
	r->vseen = false;
	n = shk_eval_event(r->rs, &r->ctx, r->matching, on_match, r);
	if (n >= 0 && r->vrule >= 0 && !r->vseen && (uint64_t)r->vrule < r->rs->nrules) {
		/* the kernel acted on a rule the engine did not match here
		 * (a denied call has no successful record): still an alert */
		r->en.unmatched++;
		on_match(&r->rs->rules[r->vrule], &r->ctx, r);
	}
	r->vrule = -1;
	r->kv = NULL;
	t = shk_evalctx_evtype(&r->ctx);
	if (t < SHK_EVTYPE_MAX)
		shk_ctr_inc(&r->m->events[t]);
	if (ev->hdr->ts_ns - r->last_snap_ns >= 250000000ull) {
		r->last_snap_ns = ev->hdr->ts_ns;
		publish_stats(r, NULL);
	}
	return n < 0 ? n : 0;
}

/* ------------------------------------------------------------ control */

/* Each output's counters and health (ok, slow, failing) for shrike status. */
static void outputs_json(struct run *r, struct jw *w)
{
	struct shk_sink_stats st;

	jw_key(w, "outputs");
	jw_arr_begin(w);
	for (uint32_t i = 0; !shk_sinks_stats(r->sinks, i, &st); i++) {
		jw_obj_begin(w);
		jw_kstr(w, "name", st.name);
		jw_kstr(w, "type", st.kind);
		jw_kstr(w, "health", shk_sink_health_name(st.health));
		jw_kuint(w, "queue_depth", st.depth);
		jw_kuint(w, "queue_capacity", st.capacity);
		jw_kuint(w, "sent", st.sent);
		jw_kuint(w, "dropped", st.dropped);
		jw_kuint(w, "failed", st.failed);
		jw_kuint(w, "retries", st.retries);
		jw_kuint(w, "restarts", st.restarts);
		jw_kuint(w, "last_latency_us", st.last_latency_us);
		jw_kuint(w, "max_latency_us", st.max_latency_us);
		if (st.last_error[0])
			jw_kstr(w, "last_error", st.last_error);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

static void status_json(struct run *r, struct jw *w)
{
	struct shk_sensor_stats st = { 0 };
	struct shk_executor_stats xs = { 0 };
	struct shk_qrec *q = NULL;
	size_t nq = 0;

	shk_sensor_stats(r->ses.sensor, &st);
	if (r->exec)
		shk_executor_stats(r->exec, &xs);
	shk_qstate_load(r->state_dir ? r->state_dir : SHK_STATE_DIR, &q, &nq);
	jw_obj_begin(w);
	jw_kint(w, "pid", getpid());
	jw_kint(w, "uptime_s", time(NULL) - r->started);
	jw_key(w, "policies");
	jw_arr_begin(w);
	for (int i = 0; i < r->npolicies; i++)
		jw_str(w, r->policies[i]);
	jw_arr_end(w);
	jw_kuint(w, "rules", r->rs->nrules);
	jw_kuint(w, "rules_skipped", r->rs->nskipped);
	jw_kuint(w, "actions", r->plan->nactions);
	jw_kuint(w, "actions_enforced", r->plan->nenforce);
	jw_kbool(w, "dry_run", r->dry_run);
	jw_kstr(w, "deny_backend", enforce_backend(&r->en));
	jw_kint(w, "seccomp", harden_mode(0)); /* 2: the filter is on */
	jw_kuint(w, "reloads", r->reloads);
	jw_kuint(w, "reload_failures", r->reload_failures);
	enforce_status_json(&r->en, w);
	jw_kbool(w, "sensor_fast_reads", shk_sensor_fast_reads(r->ses.sensor));
	jw_key(w, "realtime"); /* null: off (realtime_priority: 0, or refused) */
	if (r->rt.prio) {
		jw_obj_begin(w);
		jw_kint(w, "priority", r->rt.prio);
		jw_kbool(w, "active", r->rt.on);
		jw_kuint(w, "demotions", r->rt.demotions);
		jw_obj_end(w);
	} else {
		jw_null(w);
	}
	jw_key(w, "counters");
	jw_obj_begin(w);
	jw_kuint(w, "events", st.received);
	jw_kuint(w, "drops", st.kernel.drops);
	jw_kuint(w, "oversize", st.kernel.oversize);
	jw_kuint(w, "truncated", st.kernel.truncated);
	jw_kuint(w, "malformed", st.malformed);
	jw_key(w, "compat_skipped"); /* null: not watched (compat_syscalls) */
	if (shk_sensor_compat_watched(r->ses.sensor))
		jw_uint(w, st.kernel.compat);
	else
		jw_null(w);
	jw_kuint(w, "alerts", r->alerts);
	jw_kuint(w, "below_priority", r->suppressed);
	jw_kuint(w, "action_queue_full", r->queue_full);
	jw_kuint(w, "actions_done", xs.done);
	jw_kuint(w, "actions_would", xs.would);
	jw_kuint(w, "actions_failed", xs.failed);
	jw_kuint(w, "actions_refused", xs.refused);
	jw_kbool(w, "circuit_breaker_tripped", xs.breaker_tripped);
	jw_obj_end(w);
	outputs_json(r, w);
	jw_key(w, "quarantines");
	jw_arr_begin(w);
	for (size_t i = 0; i < nq; i++) {
		jw_obj_begin(w);
		jw_kuint(w, "id", q[i].id);
		jw_kstr(w, "kind", q[i].kind);
		jw_kstr(w, "cgroup", q[i].cgroup);
		jw_kstr(w, "rule", q[i].rule);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_obj_end(w);
	free(q);
}

static int select_syscalls(struct run *r, size_t *ret_blind);
static void mark_urgent(struct run *r);

/* By rule id: 1 for the rules kp decides in the kernel. NULL on ENOMEM
 * (the engine then evaluates every rule, which is only slower). */
static uint8_t *kernel_rules(const struct shk_ruleset *rs, const struct shk_kpolicy *kp)
{
	uint8_t *v = calloc(rs->nrules ? rs->nrules : 1, 1);

	for (uint32_t i = 0; v && i < rs->nrules; i++) {
		const struct shk_kp_rule *k = shk_kpolicy_rule(kp, rs->rules[i].id);

		/* argument patterns are scanned in a bounded prefix of argv:
		 * such rules are checked by the engine as well */
		v[i] = k && k->status == SHK_KPS_KERNEL && !kp->recheck[rs->rules[i].id];
		/* a kill: process done in the kernel is still evaluated here:
		 * where the kernel spared the process (protected, or it saw
		 * the event otherwise) the alert and the userspace kill, or
		 * its refusal, must still happen */
		if (k && k->kill)
			v[i] = 0;
	}
	return v;
}
static int start_executor(struct run *r);

static void gen_free(struct gen *g)
{
	shk_outputs_free(g->outs);
	shk_plan_free(g->plan);
	shk_ruleset_free(g->rs);
	memset(g, 0, sizeof(*g));
}

/* Free what a reload replaced once no queued action can refer to it. */
static void gens_collect(struct run *r)
{
	if (r->exec && !shk_executor_idle(r->exec))
		return;
	for (int i = 0; i < r->nold; i++)
		gen_free(&r->old[i]);
	r->nold = 0;
}

/* The outputs of config c; without any, stdout in the format asked for.
 * NULL on error, which is printed. */
static struct shk_sinks *build_sinks(struct run *r, const struct shk_conf *c)
{
	struct shk_sinks *sinks = shk_sinks_new();
	struct shk_sink_opts def;
	char err[512];

	if (!sinks) {
		cli_err("out of memory");
		return NULL;
	}
	shk_sink_opts_init(&def, SHK_SINK_STDOUT);
	def.fd = fileno(r->out);
	def.json = r->json;
	for (uint32_t i = 0; i <= c->noutputs; i++) {
		struct shk_sink_opts o = i < c->noutputs ? c->outputs[i] : def;
		int err_no;

		if (i == c->noutputs && i)
			break;
		if (o.kind == SHK_SINK_STDOUT)
			o.json |= r->json, o.fd = fileno(r->out);
		err_no = shk_sinks_add(sinks, &o, err, sizeof(err));
		if (err_no) {
			cli_err("output %u (%s): %s", i + 1, shk_sink_kind_name(o.kind),
				err[0] ? err : strerror(-err_no));
			shk_sinks_free(sinks);
			return NULL;
		}
	}
	return sinks;
}

static int start_outputs(struct run *r)
{
	r->sinks = build_sinks(r, r->cfg);
	return r->sinks ? 0 : -EINVAL;
}

static bool same_outputs(const struct shk_conf *a, const struct shk_conf *b)
{
	if (a->noutputs != b->noutputs)
		return false;
	for (uint32_t i = 0; i < a->noutputs; i++)
		if (!shk_sink_opts_equal(&a->outputs[i], &b->outputs[i]))
			return false;
	return true;
}

/* A key read once at start-up that a reload changed: said, not ignored. */
static void restart_only(const char *key, bool changed)
{
	if (changed)
		cli_warn("reload: '%s' changed: it takes effect at the next restart", key);
}

static bool str_differs(const char *a, const char *b)
{
	return a != b && (!a || !b || strcmp(a, b));
}

/*
 * Make c2 the running config (the policies reloaded from pols have passed
 * every check): the keys that can change at run time take effect, the
 * others are named; new outputs, when they changed, replace the old ones
 * in one step, and the old ones drain in the background.
 */
static void config_switch(struct run *r, struct shk_conf *c2, struct shk_sinks *sinks2,
			  char **pols, int npols)
{
	struct shk_conf *c1 = r->cfg;
	bool protect = c1->nprotect != c2->nprotect;

	for (uint32_t i = 0; !protect && i < c1->nprotect; i++)
		protect = strcmp(c1->protect[i], c2->protect[i]) != 0;
	restart_only("ringbuf_mb", c1->ringbuf_mb != c2->ringbuf_mb);
	restart_only("state_dir", str_differs(c1->state_dir, c2->state_dir));
	restart_only("control_socket", str_differs(c1->control_socket, c2->control_socket));
	restart_only("enforcer", c1->enforcer != c2->enforcer);
	restart_only("harden", c1->harden != c2->harden);
	restart_only("compat_syscalls", c1->compat_syscalls != c2->compat_syscalls);
	restart_only("mount_tracefs", c1->mount_tracefs != c2->mount_tracefs);
	restart_only("nice", c1->nice != c2->nice);
	restart_only("realtime_priority", c1->realtime_priority != c2->realtime_priority);
	restart_only("json_output", c1->json_output != c2->json_output);
	restart_only("metrics", c1->metrics_enabled != c2->metrics_enabled ||
					str_differs(c1->metrics_addr, c2->metrics_addr));
	restart_only("k8s", c1->k8s_enabled != c2->k8s_enabled);
	restart_only("protect", protect);
	cli_set_log_level((int)c2->log_level);
	if (c2->rule_matching >= 0)
		r->matching = c2->rule_matching ? SHK_MATCH_ALL : SHK_MATCH_FIRST;
	if (c2->min_priority >= 0)
		r->min_priority = c2->min_priority;
	if (r->policies_from_cfg) {
		memcpy(r->pol_buf, pols, sizeof(pols[0]) * (size_t)npols);
		r->policies = r->pol_buf;
		r->npolicies = npols;
	}
	if (sinks2) {
		shk_sinks_swap(r->sinks, sinks2);
		shk_sinks_stop_async(sinks2); /* now the old ones */
		r->retired_done[r->nretired] = false;
		r->retired[r->nretired++] = sinks2;
		cli_info("reload: %u output(s) replace the previous ones, which drain now",
			 shk_sinks_count(r->sinks));
	}
	r->old_cfgs[r->nold_cfgs++] = c1;
	r->cfg = c2;
}

/*
 * Reload the policies from the same paths. Everything is compiled first;
 * any error keeps the running policies. The kernel switches to the new
 * deny rules in one store, so no moment is without rules. Then the engine
 * takes the new rule set and plan.
 */
static int reload(struct run *r, char *msg, size_t size)
{
	struct shk_plan_opts po = { .dry_run = r->dry_run, .strict = r->strict };
	struct shk_kpolicy *kp = NULL;
	struct shk_ruleset *rs = NULL;
	struct shk_outputs *outs = NULL;
	struct shk_plan *plan = NULL;
	struct shk_conf *c2 = NULL;
	struct shk_sinks *sinks2 = NULL;
	char *pols[MAX_POLICIES];
	int npols = r->npolicies;
	struct shk_diags dg;
	size_t nerrors = 0, nblind = 0;
	char buf[2048];
	int err = -EINVAL;

	gens_collect(r);
	if (r->nold == (int)(sizeof(r->old) / sizeof(r->old[0])) ||
	    r->nold_cfgs == (int)(sizeof(r->old_cfgs) / sizeof(r->old_cfgs[0])) ||
	    r->nretired == (int)(sizeof(r->retired) / sizeof(r->retired[0]))) {
		snprintf(msg, size, "error: earlier reloads still have actions in flight, or too "
			 "many reloads changed the config; try again or restart");
		return -EBUSY;
	}
	/* the config first: it names the policies and the default mode */
	c2 = config_from_cli(r->config_path, r->sets, r->nsets);
	if (!c2) {
		snprintf(msg, size, "error: the config has errors (see shrike's stderr or shrike "
			 "config check): the running config and policies stay");
		goto fail;
	}
	memcpy(pols, r->policies, sizeof(pols[0]) * (size_t)npols);
	if (r->policies_from_cfg) {
		npols = 0;
		for (uint32_t i = 0; i < c2->npolicies && i < MAX_POLICIES; i++)
			pols[npols++] = (char *)c2->policies[i];
		if (!npols && (npols = policy_defaults(pols)) < 0) {
			snprintf(msg, size, "error: no policies: the running ones stay");
			goto fail;
		}
	}
	if (!same_outputs(r->cfg, c2) && !(sinks2 = build_sinks(r, c2))) {
		snprintf(msg, size, "error: the new outputs cannot start (see shrike's stderr): "
			 "the running config and policies stay");
		goto fail;
	}
	po.default_mode = c2->mode;
	rs = policy_load(pols, npols, true, &nerrors);
	if (!rs || nerrors) {
		snprintf(msg, size, "error: %zu error(s) in the policies (see shrike's stderr or "
			 "shrike validate): the running policies stay", nerrors);
		goto fail;
	}
	shk_diags_init(&dg);
	plan = shk_plan_build(rs, &po, &dg);
	for (size_t i = 0; i < dg.n; i++) {
		shk_diag_format(&dg.v[i], buf, sizeof(buf));
		fprintf(stderr, "%s\n", buf);
	}
	nerrors = dg.nerrors;
	shk_diags_clear(&dg);
	if (!plan || nerrors) {
		snprintf(msg, size, "error: %zu error(s) in the policies' actions: the running "
			 "policies stay", nerrors);
		goto fail;
	}
	if ((err = enforce_prepare(rs, plan, r->strict, &kp))) {
		snprintf(msg, size, "error: the deny rules do not compile (%s): the running "
			 "policies stay", strerror(-err));
		goto fail;
	}
	outs = shk_outputs_new(rs, true);
	if (!outs) {
		err = -ENOMEM;
		snprintf(msg, size, "error: out of memory: the running policies stay");
		goto fail;
	}
	if ((err = enforce_switch(&r->en, kp, r->rs, rs))) {
		snprintf(msg, size, "error: cannot install the new kernel policy (%s): the running "
			 "policies stay", strerror(-err));
		goto fail;
	}
	kp = NULL;
	config_switch(r, c2, sinks2, pols, npols);
	c2 = NULL;
	sinks2 = NULL;
	free(r->kskip);
	r->kskip = kernel_rules(rs, r->en.kp);
	r->ctx.skip_rule = r->kskip;
	/* the engine: from the next event on */
	if (r->rs != r->rs0)
		r->old[r->nold++] = (struct gen){ r->rs, r->plan, r->outs };
	else
		r->old[r->nold++] = (struct gen){ NULL, r->plan, r->outs }; /* rs0 stays */
	r->rs = rs;
	r->plan = plan;
	r->outs = outs;
	if (plan->nactions && (err = start_executor(r)) < 0)
		cli_warn("reload: no executor: %s", strerror(-err));
	if ((err = select_syscalls(r, &nblind)))
		cli_warn("reload: cannot select syscalls: %s", strerror(-err));
	mark_urgent(r);
	r->reloads++;
	snprintf(msg, size, "reloaded: %u rules, %u skipped; %u actions, %u enforced; %u deny rules "
		 "in the kernel, %u falling back; %u kill rules in the kernel",
		 rs->nrules, rs->nskipped, plan->nactions, plan->nenforce,
		 r->en.kp->nkernel - r->en.kp->nkill, r->en.kp->nfallback, r->en.kp->nkill);
	fprintf(stderr, "shrike: %s\n", msg);
	return 0;
fail:
	r->reload_failures++;
	shk_sinks_free(sinks2);
	shk_config_free(c2);
	shk_kpolicy_free(kp);
	shk_outputs_free(outs);
	shk_plan_free(plan);
	shk_ruleset_free(rs);
	fprintf(stderr, "shrike: reload: %s\n", msg);
	return err ? err : -EINVAL;
}

/* Control requests are answered in the event loop: they are rare, the
 * peer is root, and every read and write on it is time-bounded. */
/* A released pod quarantine's API label goes too: queued, since this runs
 * on the event loop, which must not wait for the API server. */
static const char *k8s_unlabel(struct run *r, const struct shk_qrec *q)
{
	char ns[64], name[254], err[SHK_K8S_ERR];
	const char *slash = strchr(q->pod, '/');

	if (!r->k8s || !slash)
		return "";
	snprintf(ns, sizeof(ns), "%.*s", (int)(slash - q->pod), q->pod);
	snprintf(name, sizeof(name), "%s", slash + 1);
	return shk_k8s_unlabel_pod(r->k8s, ns, name, false, err, sizeof(err))
		       ? " (the pod's label stays: cannot queue its removal)"
		       : " (pod label removal queued)";
}

/* The namespace's deny-all policy goes with its last pod quarantine: none
 * of the records still in force (q[] minus the released ones) is a pod of
 * that namespace. */
static const char *k8s_netpol_drop(struct run *r, const struct shk_qrec *q, size_t nq,
				   const bool *released, size_t i)
{
	char ns[64], err[SHK_K8S_ERR];
	const char *slash = strchr(q[i].pod, '/');
	size_t len;

	if (!r->k8s || !slash || !strcmp(q[i].kind, "freeze"))
		return "";
	len = (size_t)(slash - q[i].pod);
	for (size_t j = 0; j < nq; j++)
		if (!released[j] && !strncmp(q[j].pod, q[i].pod, len + 1))
			return ""; /* another pod of ns is still quarantined */
	snprintf(ns, sizeof(ns), "%.*s", (int)len, q[i].pod);
	return shk_k8s_drop_netpol(r->k8s, ns, err, sizeof(err))
		       ? " (the namespace's quarantine NetworkPolicy stays: cannot queue its removal)"
		       : " (the namespace's quarantine NetworkPolicy: removal queued)";
}

static void control_serve(struct run *r, int fd, const char *req)
{
	const char *dir = r->state_dir ? r->state_dir : SHK_STATE_DIR;
	struct jw w;

	jw_init(&w);
	if (!strcmp(req, "status")) {
		status_json(r, &w);
		dprintf(fd, "%s\n", jw_cstr(&w));
	} else if (!strncmp(req, "quarantine release ", 19)) {
		struct shk_isolator *iso = NULL;
		struct shk_qrec *q = NULL;
		size_t nq = 0;
		bool all = !strcmp(req + 19, "--all"), found = false;
		unsigned long id = all ? 0 : strtoul(req + 19, NULL, 10);
		char msg[1400];

		bool *released;

		shk_qstate_load(dir, &q, &nq);
		released = calloc(nq ? nq : 1, sizeof(*released));
		for (size_t i = 0; released && i < nq; i++) {
			if (!all && q[i].id != id)
				continue;
			found = true;
			if (shk_qstate_release(dir, &q[i], &iso, msg, sizeof(msg))) {
				dprintf(fd, "error: quarantine %u: %s\n", q[i].id, msg);
				continue;
			}
			released[i] = true;
			dprintf(fd, "%s%s%s\n", msg, k8s_unlabel(r, &q[i]),
				k8s_netpol_drop(r, q, nq, released, i));
		}
		if (!released)
			dprintf(fd, "error: out of memory\n");
		free(released);
		if (!found && !all)
			dprintf(fd, "error: no quarantine %s (see shrike quarantine list)\n", req + 19);
		shk_isolator_free(iso);
		free(q);
	} else if (!strcmp(req, "reload")) {
		char msg[512];

		reload(r, msg, sizeof(msg));
		dprintf(fd, "%s\n", msg);
	} else if (!strcmp(req, "reopen")) {
		shk_sinks_reopen(r->sinks); /* logrotate's postrotate */
		dprintf(fd, "outputs reopened\n");
	} else {
		dprintf(fd, "error: unknown request '%.64s' (status, reload, reopen, quarantine "
			"release ID|--all)\n", req);
	}
	jw_free(&w);
}

static int on_control(void *ctx)
{
	struct run *r = ctx;
	char req[256];

	for (;;) {
		int fd = control_accept(r->control_fd);

		if (fd == -EAGAIN || fd == -EWOULDBLOCK)
			return 0;
		if (fd < 0)
			continue; /* refused peer, or a transient accept error */
		if (!control_read_request(fd, req, sizeof(req)))
			control_serve(r, fd, req);
		close(fd);
	}
}

/* SIGUSR1: logrotate moved the files; SIGHUP is the reload's. */
static int on_signal(int sig, void *ctx)
{
	struct run *r = ctx;

	if (sig == SIGUSR1) {
		cli_info("SIGUSR1: reopening file outputs");
		shk_sinks_reopen(r->sinks);
	} else if (sig == SIGHUP) {
		char msg[512];

		reload(r, msg, sizeof(msg)); /* reports on stderr either way */
	}
	return 0;
}

static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct drops_counts drop_counts(const struct shk_sensor_stats *st)
{
	return (struct drops_counts){ .emitted = st->kernel.emitted, .drops = st->kernel.drops,
				      .oversize = st->kernel.oversize };
}

/* ------------------------------------------------------------ pod removal */

#define EVICT_RULE "shrike: quarantined pod removed"
#define EVICT_RETRY_S 60

struct evict_ctx {
	struct run *r;
	unsigned id;
	bool delete;
	char ns[64], name[254], rule[256];
	uint64_t t0_ns;
};

static struct evict_track *evict_find(struct run *r, unsigned id)
{
	for (int i = 0; i < r->nev; i++)
		if (r->ev[i].id == id)
			return &r->ev[i];
	return NULL;
}

/* The API client's thread: the outcome goes out as an alert of its own,
 * after the quarantine's, with the removal in its response. */
static void evict_done(void *ctx, int err, const char *msg)
{
	struct evict_ctx *e = ctx;
	struct run *r = e->r;
	struct evict_track *t;
	char text[800], ts[64], target[330], from[200];
	struct jw w;

	if (err == -ECANCELED) {
		/* shrike is stopping, its outputs may be gone: the state
		 * still holds the quarantine, the next start removes it */
		cli_warn("removal of pod %s/%s not done: shrike stopped first", e->ns, e->name);
		free(e);
		return;
	}
	pthread_mutex_lock(&r->ev_mu);
	if ((t = evict_find(r, e->id))) {
		t->inflight = false;
		t->done = !err;
		t->next = time(NULL) + EVICT_RETRY_S;
	}
	pthread_mutex_unlock(&r->ev_mu);
	/* durable, so that a restart does not remove it again (a record
	 * released meanwhile is gone: nothing to note) */
	if (!err) {
		int me = shk_qstate_mark_pod_removed(r->state_dir ? r->state_dir : SHK_STATE_DIR,
						     e->id);

		if (me && me != -ENOENT)
			cli_warn("cannot note in the state that pod %s/%s was removed: %s", e->ns,
				 e->name, strerror(-me));
	}
	snprintf(text, sizeof(text), "quarantined pod %s/%s %s after %us: %s (quarantine %u, rule %s)",
		 e->ns, e->name, e->delete ? "deleted" : "evicted", r->cfg->k8s_evict_after_s,
		 err ? "failed" : "done", e->id, e->rule);
	snprintf(target, sizeof(target), "pod %s/%s", e->ns, e->name);
	snprintf(from, sizeof(from), "quarantine %u", e->id);
	internal_alert_time(clock_ns(CLOCK_REALTIME), ts, sizeof(ts));
	jw_init(&w);
	jw_obj_begin(&w);
	jw_kstr(&w, "hostname", r->hostname);
	jw_kstr(&w, "output", text);
	jw_key(&w, "output_fields");
	jw_obj_begin(&w);
	jw_kstr(&w, "k8s.ns.name", e->ns);
	jw_kstr(&w, "k8s.pod.name", e->name);
	jw_kstr(&w, "shrike.quarantine.rule", e->rule);
	jw_obj_end(&w);
	jw_kstr(&w, "priority", shk_priority_alert_name(err ? SHK_PRIO_ERROR : SHK_PRIO_NOTICE));
	jw_kstr(&w, "rule", EVICT_RULE);
	jw_kstr(&w, "source", "internal");
	jw_key(&w, "tags");
	jw_arr_begin(&w);
	jw_str(&w, "shrike_internal");
	jw_arr_end(&w);
	jw_kstr(&w, "time", ts);
	jw_key(&w, "response");
	jw_arr_begin(&w);
	jw_obj_begin(&w);
	jw_kstr(&w, "action", e->delete ? "delete" : "evict");
	jw_kstr(&w, "scope", "pod");
	jw_kstr(&w, "target", target);
	jw_kstr(&w, "mode", "enforce");
	jw_kstr(&w, "outcome", err ? "failed" : "done");
	if (err)
		jw_kstr(&w, "error", msg);
	else
		jw_key(&w, "error"), jw_null(&w);
	jw_kuint(&w, "latency_us", (clock_ns(CLOCK_MONOTONIC) - e->t0_ns) / 1000);
	jw_kstr(&w, "from", from);
	jw_obj_end(&w);
	jw_arr_end(&w);
	jw_obj_end(&w);
	deliver(r, err ? SHK_PRIO_ERROR : SHK_PRIO_NOTICE, EVICT_RULE, text, text, jw_cstr(&w),
		err ? "evict=failed" : "evict=done");
	jw_free(&w);
	free(e);
}

/*
 * Pods quarantined through the API for k8s.evict_after_s and still in
 * force (a release removes the record, and with it the removal) are
 * evicted or deleted. Read from the durable state, so a restart neither
 * forgets one nor starts its clock again. Once a second, on the loop.
 */
static void evict_due(struct run *r)
{
	const char *dir = r->state_dir ? r->state_dir : SHK_STATE_DIR;
	struct shk_qrec *q = NULL;
	size_t nq = 0;
	time_t now = time(NULL);

	if (!r->k8s || !r->cfg->k8s_evict_after_s || shk_qstate_load(dir, &q, &nq))
		return;
	pthread_mutex_lock(&r->ev_mu);
	/* records gone (released) are forgotten, unless a call is out */
	for (int i = 0; i < r->nev;) {
		bool live = r->ev[i].inflight;

		for (size_t j = 0; !live && j < nq; j++)
			live = q[j].id == r->ev[i].id;
		if (live)
			i++;
		else
			r->ev[i] = r->ev[--r->nev];
	}
	for (size_t j = 0; j < nq; j++) {
		const char *slash = strchr(q[j].pod, '/');
		struct evict_track *t = evict_find(r, q[j].id);
		struct evict_ctx *e;
		char err[SHK_K8S_ERR];

		if (!slash || q[j].pod_removed ||
		    now - (time_t)q[j].time < (time_t)r->cfg->k8s_evict_after_s)
			continue;
		if (!t && r->nev < (int)(sizeof(r->ev) / sizeof(r->ev[0]))) {
			t = &r->ev[r->nev++];
			*t = (struct evict_track){ .id = q[j].id };
		}
		if (!t || t->done || t->inflight || t->next > now)
			continue;
		e = calloc(1, sizeof(*e));
		if (!e)
			break;
		e->r = r;
		e->id = q[j].id;
		e->delete = r->cfg->k8s_evict_delete;
		e->t0_ns = clock_ns(CLOCK_MONOTONIC);
		snprintf(e->ns, sizeof(e->ns), "%.*s", (int)(slash - q[j].pod), q[j].pod);
		snprintf(e->name, sizeof(e->name), "%s", slash + 1);
		snprintf(e->rule, sizeof(e->rule), "%s", q[j].rule);
		t->inflight = true;
		pthread_mutex_unlock(&r->ev_mu); /* a refusal calls nothing back */
		if (shk_k8s_remove_pod(r->k8s, e->ns, e->name, e->delete, evict_done, e, err,
				       sizeof(err))) {
			cli_warn("cannot queue the removal of pod %s/%s: %s (again in %ds)", e->ns,
				 e->name, err, EVICT_RETRY_S);
			free(e);
			pthread_mutex_lock(&r->ev_mu);
			if ((t = evict_find(r, q[j].id))) {
				t->inflight = false;
				t->next = now + EVICT_RETRY_S;
			}
			continue;
		}
		pthread_mutex_lock(&r->ev_mu);
	}
	pthread_mutex_unlock(&r->ev_mu);
	free(q);
}

/* ------------------------------------------------------------ watching */

static void watch_clear(struct run *r)
{
	for (int i = 0; i < r->nwatches; i++) {
		if (r->watches[i].wd >= 0 &&
		    (i == 0 || r->watches[i].wd != r->watches[i - 1].wd))
			inotify_rm_watch(r->ino_fd, r->watches[i].wd);
		free(r->watches[i].dir);
		free(r->watches[i].name);
	}
	r->nwatches = 0;
}

/* Watch path: a directory for any YAML file in it, a file through its
 * directory (editors replace files by renaming, which a watch on the file
 * itself would not survive). */
static void watch_add(struct run *r, const char *path, bool is_dir)
{
	const int mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE;
	char *dir, *name = NULL, *slash;
	int wd;

	if (r->nwatches == (int)(sizeof(r->watches) / sizeof(r->watches[0])))
		return;
	dir = strdup(path);
	if (!dir)
		return;
	if (!is_dir) {
		slash = strrchr(dir, '/');
		name = strdup(slash ? slash + 1 : dir);
		if (slash == dir)
			dir[1] = '\0';
		else if (slash)
			*slash = '\0';
		else
			strcpy(dir, ".");
	}
	wd = inotify_add_watch(r->ino_fd, dir, mask);
	if (wd < 0 && errno != ENOENT)
		cli_warn("cannot watch %s for changes: %s (shrike reload still works)", dir,
			 strerror(errno));
	r->watches[r->nwatches].wd = wd;
	r->watches[r->nwatches].dir = dir;
	r->watches[r->nwatches].name = name;
	r->nwatches++;
}

/* The policy files and directories, the config file and its config.d. */
static void watch_sync(struct run *r)
{
	struct stat st;
	char d[PATH_MAX];
	const char *cfg = r->config_path ? r->config_path : SHK_CONFIG_PATH;
	const char *slash = strrchr(cfg, '/');

	if (r->ino_fd < 0)
		return;
	watch_clear(r);
	for (int i = 0; i < r->npolicies; i++)
		watch_add(r, r->policies[i], !stat(r->policies[i], &st) && S_ISDIR(st.st_mode));
	watch_add(r, cfg, false);
	snprintf(d, sizeof(d), "%.*s/config.d", slash ? (int)(slash - cfg) : 1,
		 slash ? cfg : ".");
	watch_add(r, d, true);
}

static bool yaml_name(const char *n)
{
	size_t l = strlen(n);

	return (l > 5 && !strcmp(n + l - 5, ".yaml")) || (l > 4 && !strcmp(n + l - 4, ".yml"));
}

/* Read what inotify has; note a change to anything watched. */
static void watch_read(struct run *r)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	while ((n = read(r->ino_fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *e = (const struct inotify_event *)p;

			p += sizeof(*e) + e->len;
			if (e->mask & IN_Q_OVERFLOW) {
				r->changed = true;
				continue;
			}
			for (int i = 0; e->len && i < r->nwatches; i++) {
				if (r->watches[i].wd != e->wd)
					continue;
				if (r->watches[i].name ? !strcmp(r->watches[i].name, e->name)
						       : yaml_name(e->name))
					r->changed = true;
			}
		}
	}
}

/* A watched file changed during the last second: the writer has closed
 * it (IN_CLOSE_WRITE, IN_MOVED_TO); reload as SIGHUP does. */
static void watch_poll(struct run *r)
{
	char msg[512];

	if (r->ino_fd < 0)
		return;
	watch_read(r);
	if (!r->changed)
		return;
	r->changed = false;
	cli_info("a policy or config file changed: reloading");
	if (!reload(r, msg, sizeof(msg)))
		watch_sync(r); /* the policy list may have changed */
}

/* Outputs a reload replaced: reaped once drained, and what they lost said
 * then (their counters leave /metrics with them). */
static void outputs_reap(struct run *r)
{
	for (int i = 0; i < r->nretired; i++) {
		struct shk_sink_stats ss;

		if (r->retired_done[i] || !shk_sinks_stopped(r->retired[i]))
			continue;
		r->retired_done[i] = true;
		for (uint32_t j = 0; !shk_sinks_stats(r->retired[i], j, &ss); j++)
			cli_info("output %s (%s), replaced by a reload: %llu sent, %llu dropped, "
				 "%llu failed",
				 ss.name, ss.kind, (unsigned long long)ss.sent,
				 (unsigned long long)ss.dropped, (unsigned long long)ss.failed);
	}
}

/* Once a second: fresh figures for /metrics even when idle, and a
 * rate-limited alert through the outputs when the kernel lost records. */
static int on_second(void *ctx)
{
	struct run *r = ctx;
	struct shk_sensor_stats st;
	struct drops_report rep;
	struct drops_counts now;
	char text[512];
	int err;

	err = publish_stats(r, &st);
	watch_poll(r);
	evict_due(r);
	outputs_reap(r);
	if (err) /* the figures publish_stats() read */
		return 0;
	now = drop_counts(&st);
	if (!drops_watch_check(&r->drops, &now, clock_ns(CLOCK_MONOTONIC), &rep))
		return 0;
	shk_ctr_inc(&r->m->drop_alerts);
	drops_alert_text(&rep, text, sizeof(text));
	jw_reset(&r->w);
	drops_alert_json(&r->w, &rep, r->hostname, clock_ns(CLOCK_REALTIME));
	deliver(r, SHK_PRIO_CRITICAL, DROPS_RULE, text, text, jw_cstr(&r->w), NULL);
	return 0;
}

/* The real-time guard, at each of the loop's ticks (realtime.h). */
static void on_tick(void *ctx)
{
	struct run *r = ctx;
	enum rt_step step = rt_tick(&r->rt, clock_ns(CLOCK_MONOTONIC));

	if (step == RT_DEMOTE && r->rt.demotions == 1)
		cli_info("event storm: the event loop used over half a CPU; real-time scheduling is "
			 "off until it calms down (counted in shrike status: realtime.demotions)");
	else if (step == RT_DEMOTE)
		cli_debug("event storm: real-time scheduling off (%llu times)",
			  (unsigned long long)r->rt.demotions);
	else if (step == RT_PROMOTE)
		cli_debug("calm again: real-time scheduling back on");
}

/* The event loop (this thread) and the action worker at SCHED_FIFO, once
 * everything else is started. A refusal costs latency, not protection. */
static void realtime_start(struct run *r)
{
	int err;

	rt_init(&r->rt, r->cfg->realtime_priority);
	if (!r->rt.prio)
		return;
	err = rt_add(&r->rt, gettid());
	if (!err && r->exec) {
		pid_t tid = shk_executor_tid(r->exec);

		err = tid ? rt_add(&r->rt, tid) : -ESRCH;
	}
	if (err)
		rt_stop(&r->rt);
	if (err)
		cli_warn("cannot run at real-time priority %d (%s): responses may wait for a CPU "
			 "on a busy host (realtime_priority: 0 turns this off)",
			 r->cfg->realtime_priority, strerror(-err));
	else
		cli_debug("event loop%s at SCHED_FIFO priority %d", r->exec ? " and action worker" : "",
			  r->rt.prio);
}

/* Drops from here on are alerted (on_second). */
static void drops_start(struct run *r)
{
	struct shk_sensor_stats st = { 0 };
	struct drops_counts now;

	shk_sensor_stats(r->ses.sensor, &st);
	now = drop_counts(&st);
	drops_watch_init(&r->drops, &now, clock_ns(CLOCK_MONOTONIC), DROPS_INTERVAL_NS);
}

/* Capabilities shrike never uses go first (harden.h); failing to drop
 * them is no reason not to protect (fail open, with a warning). */
static void drop_caps(struct run *r)
{
	uint32_t n = 0;
	int err;

	if (r->no_harden || !r->cfg->harden)
		return;
	/* the real-time guard raises its threads again after a storm */
	err = harden_drop_caps(r->cfg->realtime_priority ? 1ull << CAP_SYS_NICE : 0, &n);
	if (err)
		cli_warn("cannot drop unneeded capabilities: %s", strerror(-err));
	else
		cli_debug("dropped %u capabilities shrike does not use", n);
}

/* The seccomp filter, once everything is open and attached. Fail closed:
 * an agent configured to harden itself does not run unhardened. */
static int harden(struct run *r)
{
	struct harden_info hi;
	int err;

	if (r->no_harden || !r->cfg->harden) {
		cli_info("not hardened: no seccomp filter (%s)",
			 r->no_harden ? "--no-harden" : "harden: false");
		return 0;
	}
	err = harden_apply(&hi);
	if (err) {
		cli_err("cannot install the seccomp filter: %s (harden: false or --no-harden runs "
			"without it)", strerror(-err));
		return err;
	}
	atomic_store(&r->m->hardened, true);
	cli_debug("seccomp filter installed: %u syscalls allowed, %u kill the process, the rest "
		  "fail with EPERM", hi.allowed, hi.killed);
	return 0;
}

/* The config file, its drop-ins and -o overrides; --flags win over them. */
static int apply_config(struct run *r, struct session_opts *so, char **policies, int *npolicies)
{
	struct shk_conf *c = config_from_cli(r->config_path, r->sets, r->nsets);

	if (!c)
		return -EINVAL;
	r->cfg = c;
	cli_set_log_level((int)c->log_level);
	if (c->rule_matching >= 0)
		r->matching = c->rule_matching ? SHK_MATCH_ALL : SHK_MATCH_FIRST;
	if (c->min_priority >= 0)
		r->min_priority = c->min_priority;
	if (c->json_output >= 0 && !r->json)
		r->json = c->json_output;
	if (!so->ringbuf_bytes && c->ringbuf_mb)
		so->ringbuf_bytes = (size_t)c->ringbuf_mb << 20;
	so->compat_watch = c->compat_syscalls;
	so->no_tracefs_mount = !c->mount_tracefs;
	if (!r->state_dir)
		r->state_dir = c->state_dir;
	if (c->control_socket && !strcmp(r->control_path, SHK_CONTROL_PATH))
		r->control_path = c->control_socket;
	for (uint32_t i = 0; !*npolicies && i < c->npolicies && i < MAX_POLICIES; i++)
		policies[i] = (char *)c->policies[i];
	if (!*npolicies)
		*npolicies = (int)(c->npolicies < MAX_POLICIES ? c->npolicies : MAX_POLICIES);
	return 0;
}

/* Stop the outputs after their bounded drain; what they lost, for the
 * summary. */
static void stop_outputs(struct run *r, uint64_t *ret_dropped, uint64_t *ret_failed)
{
	struct shk_sink_stats st;

	*ret_dropped = *ret_failed = 0;
	shk_sinks_stop(r->sinks);
	for (int g = -1; g < r->nretired; g++) {
		struct shk_sinks *k = g < 0 ? r->sinks : r->retired[g];

		shk_sinks_stop(k);
		for (uint32_t i = 0; !shk_sinks_stats(k, i, &st); i++) {
			*ret_dropped += st.dropped;
			*ret_failed += st.failed;
			if (st.dropped || st.failed)
				cli_warn("output %s (%s%s): %llu alerts dropped, %llu failed%s%s",
					 st.name, st.kind, g < 0 ? "" : ", replaced by a reload",
					 (unsigned long long)st.dropped,
					 (unsigned long long)st.failed, st.last_error[0] ? ": " : "",
					 st.last_error);
		}
	}
	shk_sinks_free(r->sinks);
	r->sinks = NULL;
	for (int g = 0; g < r->nretired; g++)
		shk_sinks_free(r->retired[g]);
	r->nretired = 0;
}

static void start_metrics(struct run *r)
{
	char err[256];

	r->msrc = (struct shk_metrics_src){
		.m = r->m,
		.rs = r->rs,
		.sinks = r->sinks,
		.exec = r->exec,
		.state_dir = r->state_dir ? r->state_dir : SHK_STATE_DIR,
	};
	if (!r->cfg->metrics_enabled)
		return;
	r->metrics = shk_metrics_start(r->cfg->metrics_addr, &r->msrc, err, sizeof(err));
	/* fail open: an agent that cannot export metrics still protects */
	if (!r->metrics)
		cli_warn("metrics: %s: no /metrics or /healthz (set metrics.address or "
			 "metrics.enabled=false)", err);
}

/* Capture what the rules need plus what state needs; report rule event
 * types the sensors cannot capture (those rules are partly blind). */
static int select_syscalls(struct run *r, size_t *ret_blind)
{
	char missing[1024] = "";
	size_t mlen = 0, nmissing = 0;
	int err;

	struct shk_evtset want = { 0 };
	bool all = false;

	/* what the engine evaluates: rules decided in the kernel report
	 * through verdict records and need no capture of their own */
	for (uint32_t i = 0; i < r->rs->nrules; i++) {
		const struct shk_rule *rule = &r->rs->rules[i];

		if (!rule->enabled || (r->kskip && r->kskip[i]))
			continue;
		all |= rule->all_evtypes;
		for (size_t w = 0; w < sizeof(want.w) / sizeof(want.w[0]); w++)
			want.w[w] |= rule->evtypes.w[w];
	}
	if (all)
		want = r->rs->interest;
	for (unsigned nr = 0; nr < SHK_SYSCALL_MAX; nr++) {
		if (!shk_evtset_has(&r->rs->interest, nr))
			continue;
		if (!shk_evtset_has(&want, nr)) {
			shk_sensor_want_nr(r->ses.sensor, (int)nr, false);
			continue;
		}
		err = shk_sensor_want_nr(r->ses.sensor, (int)nr, true);
		if (err == -ENOENT) {
			char name[64];

			nmissing++;
			if (shk_evtype_name(nr, name, sizeof(name)) >= 0 && mlen + strlen(name) + 3 < sizeof(missing))
				mlen += (size_t)snprintf(missing + mlen, sizeof(missing) - mlen, "%s%s",
							 mlen ? ", " : "", name);
		} else if (err) {
			return err;
		}
	}
	for (const char *const *s = state_syscalls; *s; s++) {
		err = shk_sensor_want_state(r->ses.sensor, *s);
		if (err && err != -ENOENT)
			return err;
	}
	if (nmissing)
		cli_warn("%zu event types used by the rules are not captured by shrike's sensors "
			 "(rules that need only these never match): %s",
			 nmissing, missing);
	*ret_blind = nmissing;
	return 0;
}

/* Records an enforce action may hang on wake the consumer at once rather
 * than at the next drain tick (10 ms): exec/fork/exit, and the syscalls of
 * every rule that has an enforce action. */
static void mark_urgent(struct run *r)
{
	struct shk_evtset urgent = { 0 };
	int execve = shk_syscall_nr("execve");
	bool all = false;

	for (uint32_t i = 0; i < r->rs->nrules; i++) {
		const struct shk_rule_plan *p = shk_plan_for(r->plan, i);
		const struct shk_rule *rule = &r->rs->rules[i];
		bool enforce = false;

		/* a deny done in the kernel needs no hurry here: its verdict
		 * record wakes the consumer by itself */
		for (uint32_t k = 0; p && k < p->n; k++)
			enforce |= p->v[k].mode == SHK_MODE_ENFORCE &&
				   !(p->v[k].act == SHK_ACT_DENY && !p->v[k].deny_fallback);
		if (!enforce)
			continue;
		all |= rule->all_evtypes;
		for (size_t w = 0; w < sizeof(urgent.w) / sizeof(urgent.w[0]); w++)
			urgent.w[w] |= rule->evtypes.w[w];
	}
	for (unsigned nr = 0; nr < SHK_SYSCALL_MAX; nr++)
		if (all || shk_evtset_has(&urgent, nr))
			shk_sensor_urgent_nr(r->ses.sensor, (int)nr);
	shk_sensor_urgent_proc(r->ses.sensor, all || (execve >= 0 && shk_evtset_has(&urgent, (unsigned)execve)) ||
						     shk_evtset_has(&urgent, SHK_EVT_PROCEXIT));
}

/* The response plan: actions per rule with their modes; errors stop the
 * start like rule errors do. Starts the executor when anything can act. */
static int build_plan(struct run *r)
{
	struct shk_plan_opts po = { .dry_run = r->dry_run, .strict = r->strict,
				    .default_mode = r->cfg->mode };
	struct shk_diags dg;
	char buf[2048];
	int ret = 0;

	shk_diags_init(&dg);
	r->plan = shk_plan_build(r->rs, &po, &dg);
	for (size_t i = 0; i < dg.n; i++) {
		shk_diag_format(&dg.v[i], buf, sizeof(buf));
		fprintf(stderr, "%s\n", buf);
	}
	if (!r->plan) {
		cli_err("cannot build the response plan: %s", strerror(errno));
		ret = -ENOMEM;
	} else if (dg.nerrors) {
		cli_err("%zu error(s) in the policies' actions: not starting", dg.nerrors);
		ret = -EINVAL;
	}
	shk_diags_clear(&dg);
	if (!ret && (ret = enforce_compile(&r->en, r->rs, r->plan, r->strict)))
		return ret;
	if (ret || !r->plan->nactions)
		return ret;
	return start_executor(r);
}

static void k8s_warn(void *ctx, const char *msg)
{
	cli_warn("%s", msg);
}

/* The Kubernetes API client, when k8s.enabled. Fails open: without it the
 * label fields are <NA> and pod quarantines are local only, but shrike
 * still detects and acts. */
static void start_k8s(struct run *r)
{
	struct shk_k8s_opts o;
	char err[SHK_K8S_ERR] = "";

	if (!r->cfg->k8s_enabled || r->k8s)
		return;
	o = r->cfg->k8s;
	o.warn = k8s_warn;
	r->k8s = shk_k8s_new(&o, err, sizeof(err));
	if (!r->k8s)
		cli_warn("k8s: %s: no pod labels, pod quarantines stay local", err);
}

/* The executor, for a plan with actions, and the plan's protect lists. */
static int start_executor(struct run *r)
{
	struct shk_executor_opts xo = { .done = on_done, .ctx = r };

	if (!r->exec) {
		xo.state_dir = r->state_dir;
		xo.k8s = r->k8s;
		xo.evict_after_s = r->cfg->k8s_evict_after_s;
		xo.evict_delete = r->cfg->k8s_evict_delete;
		xo.rate_per_rule = r->plan->rate_per_rule;
		xo.breaker_per_sec = r->plan->rate_global;
		r->exec = shk_executor_new(&xo);
		if (!r->exec) {
			cli_err("cannot start the response executor: %s", strerror(errno));
			return -errno;
		}
		for (uint32_t i = 0; i < r->cfg->nprotect; i++)
			shk_executor_protect(r->exec, r->cfg->protect[i]);
	}
	for (uint32_t i = 0; i < r->plan->nprotect; i++) {
		const struct shk_protect *p = r->plan->protect[i];

		if (strcmp(p->field, "proc.name")) {
			cli_warn("%s:%u:%u: protect by %s is not supported yet (only proc.name)",
				 p->loc.file ? p->loc.file : "?", p->loc.line, p->loc.col, p->field);
			continue;
		}
		for (uint32_t k = 0; k < p->nvalues; k++)
			shk_executor_protect(r->exec, p->values[k]);
	}
	return 0;
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' }, { "json", no_argument, NULL, 'j' },
		{ "ringbuf-mb", required_argument, NULL, 'r' }, { "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },	    { "dry-run", no_argument, NULL, 'D' },
		{ "strict", no_argument, NULL, 'S' },	    { "state-dir", required_argument, NULL, 'T' },
		{ "control", required_argument, NULL, 'C' }, { "config", required_argument, NULL, 'c' },
		{ "enforcer", required_argument, NULL, 'E' },
		{ "no-harden", no_argument, NULL, 'H' },
		{ 0 },
	};
	char *policies[MAX_POLICIES];
	int npolicies = 0, c, ret = 1, err;
	bool enforcer_set = false;
	struct session_opts so = { 0 };
	struct run *r = calloc(1, sizeof(*r));
	size_t nerrors = 0, nblind = 0;
	char what[128], extra[192];
	uint64_t out_dropped, out_failed;
	char *end;
	long v;

	if (!r) {
		cli_err("out of memory");
		return 1;
	}
	r->out = stdout;
	r->vrule = -1;
	r->min_priority = SHK_PRIO_DEBUG;
	r->control_fd = -1;
	r->ino_fd = -1;
	pthread_mutex_init(&r->ev_mu, NULL);
	r->started = time(NULL);
	r->control_path = SHK_CONTROL_PATH;
	pthread_mutex_init(&r->out_mu, NULL);
	jw_init(&r->w);
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (npolicies == MAX_POLICIES) {
				cli_err("--policy: at most %d paths", MAX_POLICIES);
				goto usage;
			}
			policies[npolicies++] = optarg;
			break;
		case 'j':
			r->json = true;
			break;
		case 'D':
			r->dry_run = true;
			break;
		case 'S':
			r->strict = true;
			break;
		case 'T':
			r->state_dir = optarg;
			break;
		case 'E':
			if ((err = shk_enforcer_mode_parse(optarg)) < 0) {
				cli_err("--enforcer: '%s' is not one of auto, lsm, signal", optarg);
				goto usage;
			}
			r->en.mode = (enum shk_enforcer_mode)err;
			enforcer_set = true;
			break;
		case 'C':
			r->control_path = optarg;
			break;
		case 'H':
			r->no_harden = true;
			break;
		case 'o':
			if (r->nsets == (int)(sizeof(r->sets) / sizeof(r->sets[0]))) {
				cli_err("-o: at most %d", r->nsets);
				goto usage;
			}
			r->sets[r->nsets++] = optarg;
			break;
		case 'c':
			r->config_path = optarg;
			break;
		case 'r':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || v < 1 || v > 4096) {
				cli_err("--ringbuf-mb: '%s' is not a number in [1, 4096]", optarg);
				goto usage;
			}
			so.ringbuf_bytes = (size_t)v << 20;
			break;
		case 'v':
			so.verbose = true;
			break;
		case 'h':
			run_usage(stdout);
			ret = 0;
			goto out;
		default:
			goto usage;
		}
	}
	if (optind < argc) {
		cli_err("run: unexpected argument '%s'", argv[optind]);
		goto usage;
	}
	r->policies_from_cfg = !npolicies;
	if (apply_config(r, &so, policies, &npolicies))
		goto usage;
	/* before any thread exists (they inherit it) and before the
	 * capabilities go: a negative value needs CAP_SYS_NICE */
	if (setpriority(PRIO_PROCESS, 0, r->cfg->nice))
		cli_warn("cannot set nice %d (%s): responses may wait for a CPU", r->cfg->nice,
			 strerror(errno));
	drop_caps(r); /* while there is one thread */
	if (!enforcer_set)
		r->en.mode = r->cfg->enforcer; /* the command line wins */
	if (!npolicies && (npolicies = policy_defaults(policies)) < 0)
		goto usage;

	r->rs = policy_load(policies, npolicies, true, &nerrors);
	if (!r->rs)
		goto out;
	if (nerrors) {
		cli_err("%zu error(s) in the policies: not starting (check them with shrike validate)",
			nerrors);
		goto out;
	}
	start_k8s(r);
	if (build_plan(r))
		goto out;
	r->rs0 = r->rs;
	r->outs = shk_outputs_new(r->rs, true);
	r->m = shk_run_metrics_new(r->rs->nrules);
	if (!r->outs || !r->m || shk_evalctx_init(&r->ctx)) {
		cli_err("out of memory");
		goto out;
	}
	r->kskip = kernel_rules(r->rs, r->en.kp);
	r->ctx.skip_rule = r->kskip;
	if (start_outputs(r))
		goto out;
	start_metrics(r);

	r->policies = policies;
	r->npolicies = npolicies;
	/* before the seccomp filter: inotify_init1 is not among what it
	 * allows once running */
	r->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (r->ino_fd < 0)
		cli_warn("cannot watch the policy and config files (%s): reload with shrike "
			 "reload or SIGHUP",
			 strerror(errno));
	watch_sync(r);
	r->control_fd = control_listen(r->control_path);
	if (r->control_fd < 0)
		cli_warn("no control socket at %s (%s): shrike status and quarantine work on the "
			 "state directly",
			 r->control_path, strerror(-r->control_fd));
	so.on_event = on_event;
	so.ctx = r;
	so.out = r->out;
	so.extra_fd = r->control_fd;
	so.extra_fn = on_control;
	so.extra_ctx = r;
	so.kp = true; /* deny rules, now or after a reload */
	so.on_signal = on_signal;
	so.on_second = on_second;
	so.on_tick = on_tick;
	if (enforce_probe(&r->en, &so.lsm))
		goto out;
	if (session_start(&r->ses, &so))
		goto out;
	if (gethostname(r->hostname, sizeof(r->hostname) - 1))
		strcpy(r->hostname, "localhost");
	r->ctx.procs = r->ses.procs;
	r->ctx.users = r->ses.users;
	r->ctx.containers = r->ses.containers;
	r->ctx.podlabels = r->k8s ? shk_k8s_podlabels(r->k8s) : NULL;
	r->ctx.hostname = r->hostname;
	r->ctx.host_mntns = r->ses.own_mntns;
	r->ctx.boot_to_real_ns = r->ses.boot_to_real_ns;
	if ((err = select_syscalls(r, &nblind))) {
		cli_err("cannot select syscalls: %s", strerror(-err));
		goto out;
	}
	mark_urgent(r);
	if (enforce_start(&r->en, r->ses.sensor))
		goto out;
	if (harden(r))
		goto out;
	realtime_start(r);
	drops_start(r);
	snprintf(what, sizeof(what), "%u rules loaded, %u skipped; %u actions, %u enforced%s",
		 r->rs->nrules, r->rs->nskipped, r->plan->nactions, r->plan->nenforce,
		 r->dry_run ? " (dry run: audit only)" : "");
	atomic_store(&r->m->ready, true);
	if (session_run(&r->ses, what))
		goto out;
	atomic_store(&r->m->stopping, true);
	shk_metrics_stop(r->metrics); /* it reads the executor */
	r->metrics = NULL;
	fflush(r->out);
	shk_executor_free(r->exec); /* finishes the queued actions first */
	r->exec = NULL;
	stop_outputs(r, &out_dropped, &out_failed);
	snprintf(extra, sizeof(extra),
		 "alerts=%llu below_priority=%llu action_queue_full=%llu output_dropped=%llu "
		 "output_failed=%llu ",
		 (unsigned long long)r->alerts, (unsigned long long)r->suppressed,
		 (unsigned long long)r->queue_full, (unsigned long long)out_dropped,
		 (unsigned long long)out_failed);
	session_summary(&r->ses, extra);
	ret = 0;
	goto out;
usage:
	fprintf(stderr, "see 'shrike run --help'\n");
	ret = EXIT_USAGE;
out:
	shk_metrics_stop(r->metrics);
	shk_executor_free(r->exec);
	shk_sinks_free(r->sinks); /* after the executor: its last alerts */
	session_stop(&r->ses);
	shk_k8s_free(r->k8s); /* after the executor and the event loop, its users */
	if (r->control_fd >= 0) {
		close(r->control_fd);
		unlink(r->control_path);
	}
	for (int i = 0; i < r->nretired; i++)
		shk_sinks_free(r->retired[i]);
	if (r->ino_fd >= 0) {
		watch_clear(r);
		close(r->ino_fd);
	}
	for (int i = 0; i < r->nold_cfgs; i++)
		shk_config_free(r->old_cfgs[i]);
	enforce_free(&r->en);
	free(r->kskip);
	for (int i = 0; i < r->nold; i++)
		gen_free(&r->old[i]);
	if (r->rs0 != r->rs)
		shk_ruleset_free(r->rs0);
	shk_plan_free(r->plan);
	pthread_mutex_destroy(&r->out_mu);
	shk_evalctx_fini(&r->ctx);
	shk_outputs_free(r->outs);
	shk_ruleset_free(r->rs);
	shk_strbuf_free(&r->line);
	jw_free(&r->w);
	shk_run_metrics_free(r->m);
	shk_config_free(r->cfg);
	free(r);
	return ret;
}
