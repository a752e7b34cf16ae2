/* SPDX-License-Identifier: Apache-2.0 */
/* `shrike run`: the sensors plus the rule engine; alerts on stdout. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "control.h"
#include "eval.h"
#include "executor.h"
#include "extract.h"
#include "jsonw.h"
#include "output.h"
#include "plan.h"
#include "isolate.h"
#include "qstate.h"
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
	pthread_mutex_t out_mu; /* alerts come from the event loop and the executor */
	uint64_t queue_full;
	char hostname[256];
	struct jw w;
	struct shk_strbuf line;
	uint64_t alerts, suppressed;
	FILE *out;
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
		"  --strict            a deny that cannot be enforced in the kernel is an\n"
		"                      error instead of falling back to kill: process\n"
		"  --state-dir DIR     where quarantines are recorded (default /var/lib/shrike)\n"
		"  --control PATH      the root-only control socket for 'shrike status' and\n"
		"                      'shrike quarantine' (default " SHK_CONTROL_PATH ")\n"
		"  -o KEY=VALUE        rule_matching=first|all (default first),\n"
		"                      priority=LEVEL (minimum priority to report, default debug),\n"
		"                      json_output=true|false\n"
		"  --ringbuf-mb N      kernel ring buffer size in MiB (default 8)\n"
		"  -v, --verbose       show libbpf and verifier messages\n"
		"  -h, --help          this help\n"
		"\n"
		"Prints 'shrike: ready' on stderr once the sensors are attached and the rules\n"
		"loaded (and sends READY=1 to $NOTIFY_SOCKET when set). Stop with SIGINT or\n"
		"SIGTERM; a summary of events, alerts and drops is printed on exit.\n");
}

/* An alert with actions: its text waits for the executor's outcomes. */
struct pending {
	struct run *r;
	char *text; /* the alert, JSON object or text line */
};

static void emit(struct run *r, const char *s)
{
	pthread_mutex_lock(&r->out_mu);
	fputs(s, r->out);
	fputc('\n', r->out);
	pthread_mutex_unlock(&r->out_mu);
}

/* Executor thread: the actions are done, the alert can tell the truth. */
static void on_done(void *data, const struct shk_outcome *out, uint32_t n, void *ctx)
{
	struct pending *p = data;
	struct run *r = p->r;
	struct jw w;

	jw_init(&w);
	if (r->json) {
		size_t len = strlen(p->text);

		/* the alert object, reopened to append "response" */
		if (len && p->text[len - 1] == '}')
			p->text[len - 1] = '\0';
		jw_key(&w, "response");
		jw_arr_begin(&w);
		for (uint32_t i = 0; i < n; i++) {
			jw_obj_begin(&w);
			jw_kstr(&w, "action", shk_act_name(out[i].action->act));
			jw_kstr(&w, "scope", shk_scope_name(out[i].action->scope));
			jw_kstr(&w, "target", out[i].target);
			jw_kstr(&w, "mode", out[i].action->mode == SHK_MODE_ENFORCE ? "enforce" : "audit");
			jw_kstr(&w, "outcome", shk_outcome_name(out[i].kind));
			if (out[i].error[0])
				jw_kstr(&w, "error", out[i].error);
			else
				jw_key(&w, "error"), jw_null(&w);
			jw_kuint(&w, "latency_us", out[i].latency_us);
			jw_kstr(&w, "from", out[i].action->from);
			jw_obj_end(&w);
		}
		jw_arr_end(&w);
		pthread_mutex_lock(&r->out_mu);
		fprintf(r->out, "%s,%s}\n", p->text, jw_cstr(&w));
		pthread_mutex_unlock(&r->out_mu);
	} else {
		struct shk_strbuf b = { 0 };

		shk_strbuf_put(&b, p->text, strlen(p->text));
		for (uint32_t i = 0; i < n; i++) {
			char item[600];
			int k = snprintf(item, sizeof(item), "%s %s%s%s=%s%s%s", i ? ";" : " | response:",
					 shk_act_name(out[i].action->act),
					 out[i].action->scope ? ":" : "",
					 out[i].action->scope ? shk_scope_name(out[i].action->scope) : "",
					 shk_outcome_name(out[i].kind), out[i].error[0] ? " " : "",
					 out[i].error);

			shk_strbuf_put(&b, item, k > 0 && (size_t)k < sizeof(item) ? (size_t)k : 0);
		}
		emit(r, b.buf ? b.buf : "");
		shk_strbuf_free(&b);
	}
	jw_free(&w);
	fflush(r->out);
	free(p->text);
	free(p);
}

static int on_match(const struct shk_rule *rule, struct shk_evalctx *ctx, void *data)
{
	struct run *r = data;
	const struct shk_output *o = shk_outputs_get(r->outs, rule->id);
	const struct shk_rule_plan *plan = shk_plan_for(r->plan, rule->id);
	const char *text;

	if ((int)rule->priority > r->min_priority) {
		r->suppressed++;
		return 0;
	}
	r->alerts++;
	if (r->json) {
		jw_reset(&r->w);
		shk_alert_json(&r->w, &r->line, rule, o, ctx, NULL);
		text = jw_cstr(&r->w);
	} else {
		shk_alert_line(&r->line, rule, o, ctx);
		text = r->line.buf ? r->line.buf : "";
	}
	if (plan && plan->n && r->exec) {
		const struct shk_event *ev = ctx->ev;
		const struct shk_proc *p = shk_proctable_get(r->ses.procs, (int)ev->hdr->pid);
		struct shk_target t = { .pid = (int)ev->hdr->pid };
		struct pending *pd = malloc(sizeof(*pd));

		t.start_ns = ev->task ? ev->task->start_ns : p ? p->start_ns : 0;
		if (p && p->cgroup.p)
			snprintf(t.cgroup, sizeof(t.cgroup), "%s", p->cgroup.p);
		if (pd && (pd->text = strdup(text))) {
			pd->r = r;
			t.alert = pd->text; /* JSON or text line, freed after done */
			t.priority = shk_priority_name(rule->priority);
			if (!shk_executor_submit(r->exec, rule, plan, &t, ev->hdr->ts_ns, pd))
				return 0; /* the executor emits the alert */
			r->queue_full++;
			free(pd->text);
		}
		free(pd);
		/* fall through: the alert is not lost, only its actions */
	}
	emit(r, text);
	return 0;
}

static int on_event(const struct shk_event *ev, void *data)
{
	struct run *r = data;
	int n;

	r->ctx.ev = ev;
	n = shk_eval_event(r->rs, &r->ctx, r->matching, on_match, r);
	return n < 0 ? n : 0;
}

/* ------------------------------------------------------------ control */

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
	/* kernel enforcement arrives with the BPF-LSM/signal backends */
	jw_kstr(w, "deny_backend", "userspace fallback (kill: process)");
	jw_kbool(w, "sensor_fast_reads", shk_sensor_fast_reads(r->ses.sensor));
	jw_key(w, "counters");
	jw_obj_begin(w);
	jw_kuint(w, "events", st.received);
	jw_kuint(w, "drops", st.kernel.drops);
	jw_kuint(w, "oversize", st.kernel.oversize);
	jw_kuint(w, "truncated", st.kernel.truncated);
	jw_kuint(w, "malformed", st.malformed);
	jw_kuint(w, "compat_skipped", st.kernel.compat);
	jw_kuint(w, "alerts", r->alerts);
	jw_kuint(w, "below_priority", r->suppressed);
	jw_kuint(w, "action_queue_full", r->queue_full);
	jw_kuint(w, "actions_done", xs.done);
	jw_kuint(w, "actions_would", xs.would);
	jw_kuint(w, "actions_failed", xs.failed);
	jw_kuint(w, "actions_refused", xs.refused);
	jw_kbool(w, "circuit_breaker_tripped", xs.breaker_tripped);
	jw_obj_end(w);
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

/* Control requests are answered in the event loop: they are rare, the
 * peer is root, and every read and write on it is time-bounded. */
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

		shk_qstate_load(dir, &q, &nq);
		for (size_t i = 0; i < nq; i++) {
			if (!all && q[i].id != id)
				continue;
			found = true;
			if (shk_qstate_release(dir, &q[i], &iso, msg, sizeof(msg)))
				dprintf(fd, "error: quarantine %u: %s\n", q[i].id, msg);
			else
				dprintf(fd, "%s\n", msg);
		}
		if (!found && !all)
			dprintf(fd, "error: no quarantine %s (see shrike quarantine list)\n", req + 19);
		shk_isolator_free(iso);
		free(q);
	} else {
		dprintf(fd, "error: unknown request '%.64s' (status, quarantine release ID|--all)\n",
			req);
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

static int parse_o(struct run *r, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t klen = eq ? (size_t)(eq - kv) : 0;
	const char *v = eq ? eq + 1 : NULL;

	if (!eq || !klen) {
		cli_err("-o %s: expected KEY=VALUE", kv);
		return -EINVAL;
	}
	if (klen == 13 && !strncmp(kv, "rule_matching", klen)) {
		if (!strcmp(v, "first"))
			r->matching = SHK_MATCH_FIRST;
		else if (!strcmp(v, "all"))
			r->matching = SHK_MATCH_ALL;
		else {
			cli_err("-o rule_matching=%s: expected first or all", v);
			return -EINVAL;
		}
	} else if (klen == 8 && !strncmp(kv, "priority", klen)) {
		int p = shk_priority_parse(v);

		if (p < 0) {
			cli_err("-o priority=%s: expected emergency, alert, critical, error, warning, "
				"notice, informational or debug", v);
			return -EINVAL;
		}
		r->min_priority = p;
	} else if (klen == 11 && !strncmp(kv, "json_output", klen)) {
		if (!strcasecmp(v, "true"))
			r->json = true;
		else if (!strcasecmp(v, "false"))
			r->json = false;
		else {
			cli_err("-o json_output=%s: expected true or false", v);
			return -EINVAL;
		}
	} else {
		cli_err("-o %.*s: unknown key (known: rule_matching, priority, json_output)", (int)klen, kv);
		return -EINVAL;
	}
	return 0;
}

/* Capture what the rules need plus what state needs; report rule event
 * types the sensors cannot capture (those rules are partly blind). */
static int select_syscalls(struct run *r, size_t *ret_blind)
{
	char missing[1024] = "";
	size_t mlen = 0, nmissing = 0;
	int err;

	for (unsigned nr = 0; nr < SHK_SYSCALL_MAX; nr++) {
		if (!shk_evtset_has(&r->rs->interest, nr))
			continue;
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
		err = shk_sensor_want(r->ses.sensor, *s, true);
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

		for (uint32_t k = 0; p && k < p->n; k++)
			enforce |= p->v[k].mode == SHK_MODE_ENFORCE;
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
	struct shk_plan_opts po = { .dry_run = r->dry_run, .strict = r->strict };
	struct shk_executor_opts xo = { .done = on_done, .ctx = r };
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
	if (ret || !r->plan->nactions)
		return ret;
	xo.state_dir = r->state_dir;
	xo.rate_per_rule = r->plan->rate_per_rule;
	xo.breaker_per_sec = r->plan->rate_global;
	r->exec = shk_executor_new(&xo);
	if (!r->exec) {
		cli_err("cannot start the response executor: %s", strerror(errno));
		return -errno;
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
		{ "control", required_argument, NULL, 'C' }, { 0 },
	};
	char *policies[MAX_POLICIES];
	int npolicies = 0, c, ret = 1, err;
	struct session_opts so = { 0 };
	struct run *r = calloc(1, sizeof(*r));
	size_t nerrors = 0, nblind = 0;
	char what[128], extra[128];
	char *end;
	long v;

	if (!r) {
		cli_err("out of memory");
		return 1;
	}
	r->out = stdout;
	r->min_priority = SHK_PRIO_DEBUG;
	r->control_fd = -1;
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
		case 'C':
			r->control_path = optarg;
			break;
		case 'o':
			if (parse_o(r, optarg))
				goto usage;
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
	if (build_plan(r))
		goto out;
	r->outs = shk_outputs_new(r->rs, true);
	if (!r->outs || shk_evalctx_init(&r->ctx)) {
		cli_err("out of memory");
		goto out;
	}

	r->policies = policies;
	r->npolicies = npolicies;
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
	if (session_start(&r->ses, &so))
		goto out;
	if (gethostname(r->hostname, sizeof(r->hostname) - 1))
		strcpy(r->hostname, "localhost");
	r->ctx.procs = r->ses.procs;
	r->ctx.users = r->ses.users;
	r->ctx.hostname = r->hostname;
	r->ctx.host_mntns = r->ses.own_mntns;
	r->ctx.boot_to_real_ns = r->ses.boot_to_real_ns;
	if ((err = select_syscalls(r, &nblind))) {
		cli_err("cannot select syscalls: %s", strerror(-err));
		goto out;
	}
	mark_urgent(r);
	snprintf(what, sizeof(what), "%u rules loaded, %u skipped; %u actions, %u enforced%s",
		 r->rs->nrules, r->rs->nskipped, r->plan->nactions, r->plan->nenforce,
		 r->dry_run ? " (dry run: audit only)" : "");
	if (session_run(&r->ses, what))
		goto out;
	fflush(r->out);
	shk_executor_free(r->exec); /* finishes the queued actions first */
	r->exec = NULL;
	snprintf(extra, sizeof(extra), "alerts=%llu below_priority=%llu action_queue_full=%llu ",
		 (unsigned long long)r->alerts, (unsigned long long)r->suppressed,
		 (unsigned long long)r->queue_full);
	session_summary(&r->ses, extra);
	ret = 0;
	goto out;
usage:
	fprintf(stderr, "see 'shrike run --help'\n");
	ret = EXIT_USAGE;
out:
	shk_executor_free(r->exec);
	session_stop(&r->ses);
	if (r->control_fd >= 0) {
		close(r->control_fd);
		unlink(r->control_path);
	}
	shk_plan_free(r->plan);
	pthread_mutex_destroy(&r->out_mu);
	shk_evalctx_fini(&r->ctx);
	shk_outputs_free(r->outs);
	shk_ruleset_free(r->rs);
	shk_strbuf_free(&r->line);
	jw_free(&r->w);
	free(r);
	return ret;
}
