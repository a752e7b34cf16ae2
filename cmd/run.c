/* SPDX-License-Identifier: Apache-2.0 */
/* `shrike run`: the sensors plus the rule engine; alerts on stdout. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"
#include "eval.h"
#include "extract.h"
#include "jsonw.h"
#include "output.h"
#include "policy.h"
#include "session.h"
#include "syscalls.h"

#define MAX_POLICIES 64
#define DEFAULT_POLICY_DIR "/etc/shrike/policies"

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
		"                      repeatable, loaded in order (default: " DEFAULT_POLICY_DIR ")\n"
		"  --json              alerts as JSON lines in Falco's schema\n"
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

static int on_match(const struct shk_rule *rule, struct shk_evalctx *ctx, void *data)
{
	struct run *r = data;
	const struct shk_output *o = shk_outputs_get(r->outs, rule->id);

	if ((int)rule->priority > r->min_priority) {
		r->suppressed++;
		return 0;
	}
	r->alerts++;
	if (r->json) {
		jw_reset(&r->w);
		shk_alert_json(&r->w, &r->line, rule, o, ctx, NULL);
		fputs(jw_cstr(&r->w), r->out);
	} else {
		shk_alert_line(&r->line, rule, o, ctx);
		if (r->line.buf)
			fputs(r->line.buf, r->out);
	}
	fputc('\n', r->out);
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

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' }, { "json", no_argument, NULL, 'j' },
		{ "ringbuf-mb", required_argument, NULL, 'r' }, { "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },	    { 0 },
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
	if (!npolicies) {
		if (access(DEFAULT_POLICY_DIR, R_OK)) {
			cli_err("no policy given and %s does not exist: use --policy FILE|DIR",
				DEFAULT_POLICY_DIR);
			goto usage;
		}
		policies[npolicies++] = (char *)DEFAULT_POLICY_DIR;
	}

	r->rs = policy_load(policies, npolicies, true, &nerrors);
	if (!r->rs)
		goto out;
	if (nerrors) {
		cli_err("%zu error(s) in the policies: not starting (check them with shrike validate)",
			nerrors);
		goto out;
	}
	r->outs = shk_outputs_new(r->rs, true);
	if (!r->outs || shk_evalctx_init(&r->ctx)) {
		cli_err("out of memory");
		goto out;
	}

	so.on_event = on_event;
	so.ctx = r;
	so.out = r->out;
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
	snprintf(what, sizeof(what), "%u rules loaded, %u skipped", r->rs->nrules, r->rs->nskipped);
	if (session_run(&r->ses, what))
		goto out;
	fflush(r->out);
	snprintf(extra, sizeof(extra), "alerts=%llu below_priority=%llu ",
		 (unsigned long long)r->alerts, (unsigned long long)r->suppressed);
	session_summary(&r->ses, extra);
	ret = 0;
	goto out;
usage:
	fprintf(stderr, "see 'shrike run --help'\n");
	ret = EXIT_USAGE;
out:
	session_stop(&r->ses);
	shk_evalctx_fini(&r->ctx);
	shk_outputs_free(r->outs);
	shk_ruleset_free(r->rs);
	shk_strbuf_free(&r->line);
	jw_free(&r->w);
	free(r);
	return ret;
}
