/* SPDX-License-Identifier: Apache-2.0 */
#include "plan.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const act_names[SHK_ACT__COUNT] = {
	[SHK_ACT_DENY] = "deny",       [SHK_ACT_KILL] = "kill",		[SHK_ACT_FREEZE] = "freeze",
	[SHK_ACT_ISOLATE] = "isolate", [SHK_ACT_QUARANTINE] = "quarantine", [SHK_ACT_EXEC] = "exec",
};

static const char *const scope_names[SHK_SCOPE__COUNT] = {
	[SHK_SCOPE_NONE] = "none",	     [SHK_SCOPE_PROCESS] = "process",
	[SHK_SCOPE_PROCESS_TREE] = "process_tree", [SHK_SCOPE_CONTAINER] = "container",
	[SHK_SCOPE_POD] = "pod",
};

/* Which scopes each action accepts (bit per enum shk_scope). */
#define S(x) (1u << SHK_SCOPE_##x)
static const unsigned act_scopes[SHK_ACT__COUNT] = {
	[SHK_ACT_DENY] = S(NONE),
	[SHK_ACT_KILL] = S(PROCESS) | S(PROCESS_TREE) | S(CONTAINER) | S(POD),
	[SHK_ACT_FREEZE] = S(PROCESS) | S(CONTAINER) | S(POD),
	[SHK_ACT_ISOLATE] = S(PROCESS) | S(CONTAINER) | S(POD),
	[SHK_ACT_QUARANTINE] = S(CONTAINER) | S(POD),
	[SHK_ACT_EXEC] = S(NONE),
};

const char *shk_act_name(enum shk_act a)
{
	return a < SHK_ACT__COUNT ? act_names[a] : "?";
}

const char *shk_scope_name(enum shk_scope s)
{
	return s < SHK_SCOPE__COUNT ? scope_names[s] : "?";
}

static int lookup(const char *s, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (names[i] && !strcmp(s, names[i]))
			return i;
	return -1;
}

/* "process, process_tree" for messages */
static void scope_list(unsigned mask, char *out, size_t outsz)
{
	size_t len = 0;

	out[0] = '\0';
	for (int s = SHK_SCOPE_PROCESS; s < SHK_SCOPE__COUNT; s++)
		if (mask & (1u << s))
			len += (size_t)snprintf(out + len, len < outsz ? outsz - len : 0, "%s%s",
						len ? ", " : "", scope_names[s]);
}

/*
 * One action as written: `deny`, `kill` (process), `{kill: process_tree}`,
 * `{isolate: {scope: container, allow: [10.0.0.5/32]}}`, `{exec: "cmd"}`.
 * Returns 0, or -EINVAL with a located error in diags.
 */
static int parse_action(const struct shk_action *a, struct shk_planned *out,
			struct shk_diags *dg)
{
	const struct shk_ynode *v = a->value, *scope_node = NULL;
	const char *scope = a->arg;
	char list[128];
	int act, sc;

	memset(out, 0, sizeof(*out));
	out->loc = a->loc;
	act = lookup(a->name, act_names, SHK_ACT__COUNT);
	if (act < 0) {
		shk_diags_add(dg, SHK_DIAG_ERROR, &a->loc, a->name, strlen(a->name),
			      "unknown action '%s' (expected deny, kill, freeze, isolate, quarantine "
			      "or exec)",
			      a->name);
		return -EINVAL;
	}
	out->act = (enum shk_act)act;

	if (act == SHK_ACT_EXEC) {
		const struct shk_ynode *cmd = v && v->kind == SHK_Y_MAP ? shk_ynode_get(v, "cmd") : v;

		if (!cmd || cmd->kind != SHK_Y_SCALAR || shk_ynode_is_null(cmd) || !cmd->len) {
			shk_diags_add(dg, SHK_DIAG_ERROR, &a->loc, NULL, 0,
				      "exec needs a command: {exec: \"/path/to/cmd args\"}");
			return -EINVAL;
		}
		out->cmd = cmd->str;
		return 0;
	}
	if (act == SHK_ACT_DENY) {
		if (v && !shk_ynode_is_null(v)) {
			shk_diags_add(dg, SHK_DIAG_ERROR, &a->loc, NULL, 0,
				      "deny takes no argument (write it as a plain 'deny')");
			return -EINVAL;
		}
		/* Until the kernel policy compiler (kpolicy.c) says the rule
		 * compiles, a deny is carried out as a userspace kill; the
		 * compiler reports a fallback, and refuses it under --strict. */
		out->deny_fallback = true;
		out->scope = SHK_SCOPE_NONE;
		return 0;
	}

	/* scope: a scalar, or {scope: ..., allow: [...]} for isolate */
	if (v && v->kind == SHK_Y_MAP) {
		const struct shk_ynode *allow = shk_ynode_get(v, "allow");

		scope_node = shk_ynode_get(v, "scope");
		scope = scope_node && scope_node->kind == SHK_Y_SCALAR ? scope_node->str : NULL;
		if (allow) {
			if (act != SHK_ACT_ISOLATE || allow->kind != SHK_Y_SEQ) {
				struct shk_loc l = shk_ynode_loc(allow);

				shk_diags_add(dg, SHK_DIAG_ERROR, &l, NULL, 0,
					      "allow: a list of CIDRs, only for isolate");
				return -EINVAL;
			}
			out->allow = calloc(allow->n ? allow->n : 1, sizeof(*out->allow));
			if (!out->allow)
				return -ENOMEM;
			for (uint32_t i = 0; i < allow->n; i++)
				if (allow->kids[i].kind == SHK_Y_SCALAR)
					out->allow[out->nallow++] = allow->kids[i].str;
		}
	}
	if (!scope && act == SHK_ACT_KILL) {
		out->scope = SHK_SCOPE_PROCESS; /* a bare "kill" kills the process */
		return 0;
	}
	scope_list(act_scopes[act], list, sizeof(list));
	if (!scope) {
		shk_diags_add(dg, SHK_DIAG_ERROR, &a->loc, NULL, 0,
			      "%s needs a scope: {%s: SCOPE} with SCOPE one of %s", a->name, a->name,
			      list);
		goto invalid;
	}
	sc = lookup(scope, scope_names, SHK_SCOPE__COUNT);
	if (sc <= SHK_SCOPE_NONE || !(act_scopes[act] & (1u << sc))) {
		struct shk_loc l = scope_node ? shk_ynode_loc(scope_node) : a->loc;

		shk_diags_add(dg, SHK_DIAG_ERROR, &l, scope, strlen(scope),
			      "invalid scope '%s' for %s (expected %s)", scope, a->name, list);
		goto invalid;
	}
	out->scope = (enum shk_scope)sc;
	return 0;
invalid:
	free(out->allow);
	out->allow = NULL;
	out->nallow = 0;
	return -EINVAL;
}

/* The `policy` default mode of a file, from the loader's policy items. */
static enum shk_mode file_mode(const struct shk_loader *ld, const char *file)
{
	for (uint32_t i = 0; file && i < ld->npolicies; i++) {
		const struct shk_policy_def *p = ld->policies[i];

		if (p->mode != SHK_MODE_UNSET && p->loc.file && !strcmp(p->loc.file, file))
			return p->mode;
	}
	return SHK_MODE_UNSET;
}

static enum shk_mode resolve_mode(const struct shk_plan_opts *o, enum shk_mode rule,
				  enum shk_mode response, enum shk_mode file)
{
	if (o->dry_run)
		return SHK_MODE_AUDIT;
	if (rule != SHK_MODE_UNSET)
		return rule;
	if (response != SHK_MODE_UNSET)
		return response;
	if (file != SHK_MODE_UNSET)
		return file;
	if (o->default_mode != SHK_MODE_UNSET)
		return o->default_mode;
	return SHK_MODE_AUDIT; /* the safe default: report, do not act */
}

static bool response_matches(const struct shk_response_def *r, const struct shk_rule *rule)
{
	if (r->match_rule && fnmatch(r->match_rule, rule->name, 0))
		return false;
	if (r->has_match_priority && rule->priority > r->match_priority)
		return false; /* lower enum value = more severe */
	for (uint32_t i = 0; i < r->nmatch_tags; i++) {
		bool found = false;

		for (uint32_t t = 0; t < rule->ntags && !found; t++)
			found = !strcmp(rule->tags[t], r->match_tags[i]);
		if (!found)
			return false;
	}
	return true;
}

/* rate_limit: {per_rule: N (actions a minute), global: M (a second)} */
static void parse_rate_limit(const struct shk_policy_def *pol, struct shk_plan *p,
			     struct shk_diags *dg)
{
	const struct shk_ynode *rl = pol->node ? shk_ynode_get(pol->node, "rate_limit") : NULL;
	static const char *const keys[] = { "per_rule", "global" };
	uint32_t *dst[] = { &p->rate_per_rule, &p->rate_global };

	if (!rl)
		return;
	if (rl->kind != SHK_Y_MAP) {
		struct shk_loc l = shk_ynode_loc(rl);

		shk_diags_add(dg, SHK_DIAG_ERROR, &l, NULL, 0,
			      "rate_limit: expected {per_rule: N, global: M}");
		return;
	}
	for (uint32_t i = 0; i + 1 < rl->n; i += 2) {
		const struct shk_ynode *k = &rl->kids[i], *v = &rl->kids[i + 1];
		struct shk_loc l = shk_ynode_loc(v);
		char *end;
		unsigned long n;
		int which = -1;

		for (int j = 0; j < 2; j++)
			if (k->str && !strcmp(k->str, keys[j]))
				which = j;
		if (which < 0) {
			struct shk_loc kl = shk_ynode_loc(k);

			shk_diags_add(dg, SHK_DIAG_ERROR, &kl, k->str, k->str ? strlen(k->str) : 0,
				      "rate_limit: unknown key '%s' (expected per_rule or global)",
				      k->str ? k->str : "");
			continue;
		}
		errno = 0;
		n = v->kind == SHK_Y_SCALAR && v->str ? strtoul(v->str, &end, 10) : 0;
		if (v->kind != SHK_Y_SCALAR || !v->str || errno || *end || !n || n > 1000000) {
			shk_diags_add(dg, SHK_DIAG_ERROR, &l, v->str, v->str ? strlen(v->str) : 0,
				      "rate_limit.%s: expected a number from 1 to 1000000", keys[which]);
			continue;
		}
		*dst[which] = (uint32_t)n;
	}
}

static int plan_push(struct shk_rule_plan *rp, const struct shk_planned *a)
{
	struct shk_planned *nv = realloc(rp->v, (rp->n + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	rp->v = nv;
	rp->v[rp->n++] = *a;
	return 0;
}

/* Validate every response item once, whatever it matches. */
static void check_responses(const struct shk_loader *ld, struct shk_diags *dg)
{
	for (uint32_t i = 0; i < ld->nresponses; i++) {
		const struct shk_response_def *r = ld->responses[i];

		if (!r->match_rule && !r->nmatch_tags && !r->has_match_priority)
			shk_diags_add(dg, SHK_DIAG_ERROR, &r->loc, r->name, strlen(r->name),
				      "response '%s' has an empty match: give match: {rule: NAME|GLOB, "
				      "tags: [...], priority: LEVEL} (priority: debug means every rule)",
				      r->name);
		if (!r->nactions)
			shk_diags_add(dg, SHK_DIAG_ERROR, &r->loc, r->name, strlen(r->name),
				      "response '%s' has no actions", r->name);
	}
}

struct shk_plan *shk_plan_build(const struct shk_ruleset *rs, const struct shk_plan_opts *opts,
				struct shk_diags *dg)
{
	const struct shk_loader *ld = rs->loader;
	struct shk_plan *p = calloc(1, sizeof(*p));
	struct shk_planned a;
	int err;

	if (!p)
		return NULL;
	p->nrules = rs->nrules;
	p->rules = calloc(rs->nrules ? rs->nrules : 1, sizeof(*p->rules));
	if (!p->rules)
		goto oom;
	check_responses(ld, dg);

	for (uint32_t i = 0; i < rs->nrules; i++) {
		const struct shk_rule *rule = &rs->rules[i];
		const struct shk_rule_def *def = rule->def;
		enum shk_mode fmode = file_mode(ld, rule->loc.file);

		for (uint32_t k = 0; def && k < def->nactions; k++) {
			err = parse_action(&def->actions[k], &a, dg);
			if (err == -ENOMEM)
				goto oom;
			if (err)
				continue;
			a.from = "rule";
			a.mode = resolve_mode(opts, rule->mode, SHK_MODE_UNSET, fmode);
			if (plan_push(&p->rules[i], &a))
				goto oom;
		}
		for (uint32_t r = 0; r < ld->nresponses; r++) {
			const struct shk_response_def *resp = ld->responses[r];

			if ((!resp->match_rule && !resp->nmatch_tags && !resp->has_match_priority) ||
			    !response_matches(resp, rule))
				continue;
			for (uint32_t k = 0; k < resp->nactions; k++) {
				/* diagnostics of response actions are reported
				 * once, below, not once per matching rule */
				struct shk_diags quiet;

				shk_diags_init(&quiet);
				err = parse_action(&resp->actions[k], &a, &quiet);
				shk_diags_clear(&quiet);
				if (err == -ENOMEM)
					goto oom;
				if (err)
					continue;
				a.from = resp->name;
				a.mode = resolve_mode(opts, rule->mode, resp->mode,
						      file_mode(ld, resp->loc.file));
				if (plan_push(&p->rules[i], &a))
					goto oom;
			}
		}
		p->nactions += p->rules[i].n;
		for (uint32_t k = 0; k < p->rules[i].n; k++)
			p->nenforce += p->rules[i].v[k].mode == SHK_MODE_ENFORCE;
	}
	/* each response action's errors and warnings, once, whether or not
	 * it matched a rule */
	for (uint32_t r = 0; r < ld->nresponses; r++)
		for (uint32_t k = 0; k < ld->responses[r]->nactions; k++) {
			if (parse_action(&ld->responses[r]->actions[k], &a, dg) == -ENOMEM)
				goto oom;
			free(a.allow);
		}

	for (uint32_t i = 0; i < ld->npolicies; i++) {
		p->nprotect += ld->policies[i]->nprotect;
		parse_rate_limit(ld->policies[i], p, dg);
	}
	p->protect = calloc(p->nprotect ? p->nprotect : 1, sizeof(*p->protect));
	if (!p->protect)
		goto oom;
	p->nprotect = 0;
	for (uint32_t i = 0; i < ld->npolicies; i++)
		for (uint32_t k = 0; k < ld->policies[i]->nprotect; k++)
			p->protect[p->nprotect++] = &ld->policies[i]->protect[k];
	return p;
oom:
	shk_plan_free(p);
	errno = ENOMEM;
	return NULL;
}

void shk_plan_free(struct shk_plan *p)
{
	if (!p)
		return;
	for (uint32_t i = 0; i < p->nrules && p->rules; i++) {
		for (uint32_t k = 0; k < p->rules[i].n; k++)
			free(p->rules[i].v[k].allow);
		free(p->rules[i].v);
	}
	free(p->rules);
	free(p->protect);
	free(p);
}

const struct shk_rule_plan *shk_plan_for(const struct shk_plan *p, uint32_t rule_id)
{
	return p && rule_id < p->nrules ? &p->rules[rule_id] : NULL;
}
