/* SPDX-License-Identifier: Apache-2.0 */
/* `shrike validate`, `shrike rules list` and `shrike fields`: the rule
 * engine without the sensors (no privileges needed). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "enforcer.h"
#include "fields.h"
#include "jsonw.h"
#include "kpolicy.h"
#include "plan.h"
#include "policy.h"
#include "rule_loader.h"

#define MAX_POLICIES 64

/* Plan the actions and compile the deny rules as `shrike run` would;
 * diagnostics to stderr, counted into *nerrors / *nwarnings. */
static struct shk_kpolicy *plan_and_compile(struct shk_ruleset *rs, bool strict, size_t *nerrors,
					    size_t *nwarnings)
{
	struct shk_plan_opts po = { .strict = strict };
	struct shk_kpolicy *kp = NULL;
	struct shk_plan *plan;
	struct shk_diags pd;
	char buf[2048];

	shk_diags_init(&pd);
	plan = shk_plan_build(rs, &po, &pd);
	if (plan && !pd.nerrors)
		kp = shk_kpolicy_compile(rs, plan, strict, &pd, NULL);
	for (size_t i = 0; i < pd.n; i++) {
		shk_diag_format(&pd.v[i], buf, sizeof(buf));
		fprintf(stderr, "%s\n", buf);
	}
	*nerrors += pd.nerrors;
	*nwarnings += pd.nwarnings;
	shk_diags_clear(&pd);
	shk_plan_free(plan);
	return kp;
}

int cmd_validate(int argc, char **argv)
{
	size_t nerrors = 0, nwarnings = 0;
	struct shk_ruleset *rs;
	struct shk_diags *dg;
	bool strict = argc > 1 && !strcmp(argv[1], "--strict");

	if (strict)
		argc--, argv++;
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fprintf(argc < 2 ? stderr : stdout,
			"usage: shrike validate [--strict] FILE|DIR...\n"
			"\n"
			"Load and compile the policy files, plan their actions and compile their\n"
			"deny rules to the kernel as 'shrike run' would, print every error and\n"
			"warning as file:line:col, and exit 0 when there is no error, 1\n"
			"otherwise. A deny that cannot run in the kernel is a warning (it falls\n"
			"back to a userspace kill), an error with --strict. Needs no privileges.\n");
		return argc < 2 ? EXIT_USAGE : 0;
	}
	rs = policy_load(argv + 1, argc - 1, true, &nerrors);
	if (!rs)
		return 1;
	dg = shk_ruleset_diags(rs);
	nwarnings = dg ? dg->nwarnings : 0;
	shk_kpolicy_free(plan_and_compile(rs, strict, &nerrors, &nwarnings));
	fprintf(stderr, "%u rules compiled, %u failed, %u skipped; %zu error(s), %zu warning(s)\n",
		rs->nrules, rs->nfailed, rs->nskipped, nerrors, nwarnings);
	shk_ruleset_free(rs);
	return nerrors ? 1 : 0;
}

/* Where a rule's deny (or, without one, its kill: process) runs: "kernel
 * (lsm)", "kernel (signal)", "kernel (cgroup)", "userspace fallback:
 * REASON" for a deny, "userspace: REASON" for a kill; NULL without either.
 * *ret_what says which action it is about. */
static const char *deny_where(const struct shk_kpolicy *kp, const struct shk_rule *r,
			      const char *backend, char *buf, size_t size, const char **ret_what)
{
	const struct shk_kp_rule *k = kp ? shk_kpolicy_rule(kp, r->id) : NULL;

	*ret_what = k && k->kill ? "kill" : "deny";
	if (k && k->status == SHK_KPS_NONE && k->reason[0]) {
		/* a kill: process the kernel cannot decide */
		*ret_what = "kill";
		snprintf(buf, size, "userspace: %s", k->reason);
		return buf;
	}
	if (!k || k->status == SHK_KPS_NONE)
		return NULL;
	if (k->status == SHK_KPS_FALLBACK)
		snprintf(buf, size, "userspace fallback: %s", k->reason);
	else if (k->classes == 1u << SHK_KP_CONNECT)
		snprintf(buf, size, "kernel (cgroup)");
	else
		snprintf(buf, size, "kernel (%s)", backend);
	return buf;
}

/* The backend `shrike run --enforcer auto` would pick here. */
static const char *probe_backend(void)
{
	const char *msg;

	if (geteuid())
		return "lsm or signal, chosen at start-up";
	return shk_enforcer_probe_lsm(&msg) ? "signal" : "lsm";
}

static void evtypes_text(const struct shk_rule *r, char *out, size_t outsz)
{
	size_t len = 0;
	char name[64];

	out[0] = '\0';
	if (r->all_evtypes) {
		snprintf(out, outsz, "all");
		return;
	}
	for (unsigned t = 0; t < SHK_EVTYPE_MAX; t++) {
		if (!shk_evtset_has(&r->evtypes, t) || shk_evtype_name(t, name, sizeof(name)) < 0)
			continue;
		if (len + strlen(name) + 2 >= outsz)
			break;
		len += (size_t)snprintf(out + len, outsz - len, "%s%s", len ? "," : "", name);
	}
}

static void rules_usage(FILE *f)
{
	fprintf(f, "usage: shrike rules list [--policy PATH]... [--json] [--enforcer MODE]\n"
		   "\n"
		   "List the rules the policies define: name, priority, tags, whether\n"
		   "enabled, the event types each is evaluated for, where it is defined,\n"
		   "and for a rule with deny where the deny runs: 'kernel (lsm)', 'kernel\n"
		   "(signal)', 'kernel (cgroup)' for connects, or 'userspace fallback:\n"
		   "REASON'; for a rule whose action is kill: process (and no deny), where\n"
		   "the kill runs: in the kernel at the event, or 'userspace: REASON'.\n"
		   "The backend is what 'shrike run --enforcer MODE' (default auto:\n"
		   "probed, which needs root) would use. PATH defaults as for 'shrike run'.\n");
}

int cmd_rules(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "enforcer", required_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char *policies[MAX_POLICIES];
	int npolicies = 0, c, ret = 1;
	bool json = false;
	size_t nerrors = 0, nwarnings = 0;
	const char *backend = NULL, *where, *what;
	struct shk_kpolicy *kp = NULL;
	struct shk_ruleset *rs;
	char ev[2048], wbuf[320];
	struct jw w;

	if (argc < 2 || strcmp(argv[1], "list")) {
		if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
			rules_usage(stdout);
			return 0;
		}
		cli_err("rules: expected 'list'");
		rules_usage(stderr);
		return EXIT_USAGE;
	}
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (npolicies == MAX_POLICIES) {
				cli_err("--policy: at most %d paths", MAX_POLICIES);
				return EXIT_USAGE;
			}
			policies[npolicies++] = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'E':
			if (shk_enforcer_mode_parse(optarg) < 0) {
				cli_err("--enforcer: '%s' is not one of auto, lsm, signal", optarg);
				return EXIT_USAGE;
			}
			backend = strcmp(optarg, "auto") ? optarg : NULL;
			break;
		case 'h':
			rules_usage(stdout);
			return 0;
		default:
			fprintf(stderr, "see 'shrike rules --help'\n");
			return EXIT_USAGE;
		}
	}
	if (optind < argc - 1) {
		cli_err("rules list: unexpected argument '%s'", argv[optind + 1]);
		return EXIT_USAGE;
	}
	if (!npolicies && (npolicies = policy_defaults(policies)) < 0)
		return EXIT_USAGE;
	rs = policy_load(policies, npolicies, false, &nerrors);
	if (!rs)
		return 1;
	kp = plan_and_compile(rs, false, &nerrors, &nwarnings);
	if (!backend)
		backend = probe_backend();
	jw_init(&w);
	if (json)
		jw_arr_begin(&w);
	for (uint32_t i = 0; i < rs->nrules; i++) {
		const struct shk_rule *r = &rs->rules[i];

		evtypes_text(r, ev, sizeof(ev));
		where = deny_where(kp, r, backend, wbuf, sizeof(wbuf), &what);
		if (json) {
			jw_obj_begin(&w);
			jw_kstr(&w, "name", r->name);
			jw_kstr(&w, "priority", shk_priority_name(r->priority));
			jw_key(&w, "tags");
			jw_arr_begin(&w);
			for (uint32_t t = 0; t < r->ntags; t++)
				jw_str(&w, r->tags[t]);
			jw_arr_end(&w);
			jw_kbool(&w, "enabled", r->enabled);
			jw_kstr(&w, "event_types", ev);
			jw_kstr(&w, "file", r->loc.file ? r->loc.file : "");
			jw_kuint(&w, "line", r->loc.line);
			if (where)
				jw_kstr(&w, what, where);
			jw_obj_end(&w);
		} else {
			printf("%s\n  priority: %s  enabled: %s  events: %s\n  tags:", r->name,
			       shk_priority_name(r->priority), r->enabled ? "yes" : "no", ev);
			for (uint32_t t = 0; t < r->ntags; t++)
				printf(" %s", r->tags[t]);
			printf("\n  defined at %s:%u\n", r->loc.file ? r->loc.file : "?", r->loc.line);
			if (where)
				printf("  %s: %s\n", what, where);
		}
	}
	if (json) {
		jw_arr_end(&w);
		puts(jw_cstr(&w));
	}
	if (nerrors)
		cli_err("%zu error(s) in the policies (run shrike validate); rules with errors "
			"are not listed", nerrors);
	ret = nerrors ? 1 : 0;
	jw_free(&w);
	shk_kpolicy_free(kp);
	shk_ruleset_free(rs);
	return ret;
}

static const char *ftype_name(enum shk_ftype t)
{
	static const char *const names[SHK_FT__COUNT] = {
		[SHK_FT_STRING] = "string",	[SHK_FT_BYTEBUF] = "bytebuf", [SHK_FT_UINT64] = "uint64",
		[SHK_FT_INT64] = "int64",	[SHK_FT_BOOL] = "bool",	      [SHK_FT_IPADDR] = "ipaddr",
		[SHK_FT_IPNET] = "ipnet",	[SHK_FT_PORT] = "port",	      [SHK_FT_RELTIME] = "reltime",
		[SHK_FT_ABSTIME] = "abstime", [SHK_FT_STRLIST] = "list",	      [SHK_FT_DYN] = "dynamic",
	};

	return t < SHK_FT__COUNT && names[t] ? names[t] : "?";
}

int cmd_fields(int argc, char **argv)
{
	size_t n;
	const struct shk_field *f = shk_fields(&n);
	bool json = argc > 1 && !strcmp(argv[1], "--json");
	struct jw w;

	if (argc > 1 && !json) {
		if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
			printf("usage: shrike fields [--json]\n\nList every field rules can use, "
			       "with its type and description.\n");
			return 0;
		}
		cli_err("fields: unexpected argument '%s' (see 'shrike fields --help')", argv[1]);
		return EXIT_USAGE;
	}
	jw_init(&w);
	if (json)
		jw_arr_begin(&w);
	for (size_t i = 0; i < n; i++) {
		const char *arg = f[i].flags & SHK_FF_ARG_INDEX ? "[N]" :
				  f[i].flags & SHK_FF_ARG_KEY	? "[KEY]" :
				  f[i].flags & SHK_FF_ARG_DOT	? ".NAME" :
								  "";

		if (json) {
			jw_obj_begin(&w);
			jw_kstr(&w, "name", f[i].name);
			jw_kstr(&w, "type", ftype_name(f[i].type));
			jw_kstr(&w, "arg", arg);
			jw_kstr(&w, "description", f[i].desc);
			jw_obj_end(&w);
		} else {
			printf("%-32s %-8s %s\n", f[i].name, ftype_name(f[i].type), f[i].desc);
		}
	}
	if (json) {
		jw_arr_end(&w);
		puts(jw_cstr(&w));
	}
	jw_free(&w);
	return 0;
}
