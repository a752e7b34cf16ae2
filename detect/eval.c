/* SPDX-License-Identifier: Apache-2.0 */
/* The evaluator (see eval.h). */
#include "eval.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rule_plan.h"

typedef __int128 i128;

/* ---- strings ------------------------------------------------------------ */

static bool ascii_casemem(const char *h, size_t hlen, const char *n, size_t nlen)
{
	if (nlen == 0)
		return true;
	for (size_t i = 0; i + nlen <= hlen; i++) {
		size_t k = 0;

		while (k < nlen && tolower((unsigned char)h[i + k]) == tolower((unsigned char)n[k]))
			k++;
		if (k == nlen)
			return true;
	}
	return false;
}

/*
 * contains: the needles are short words and the haystacks short paths or
 * command lines, for which glibc's memmem spends more setting up than
 * searching. memchr finds candidates for the first byte; the last byte
 * rejects most before a memcmp.
 */
static bool mem_contains(const char *h, size_t hlen, const char *n, size_t nlen)
{
	const char *p, *last;

	if (nlen == 0)
		return true;
	if (nlen > hlen)
		return false;
	last = h + (hlen - nlen);
	for (p = h; p <= last; p++) {
		p = memchr(p, n[0], (size_t)(last - p) + 1);
		if (!p)
			return false;
		if (p[nlen - 1] == n[nlen - 1] && !memcmp(p + 1, n + 1, nlen - 1))
			return true;
	}
	return false;
}

/* String operators other than the regex and set ones. */
static bool str_op(enum shk_op op, const char *s, size_t len, const char *t, size_t tlen)
{
	switch (op) {
	case SHK_OP_EQ:
	case SHK_OP_IN:
	case SHK_OP_INTERSECTS:
		return len == tlen && !memcmp(s, t, len);
	case SHK_OP_NE:
		return len != tlen || memcmp(s, t, len);
	case SHK_OP_CONTAINS:
	case SHK_OP_BCONTAINS:
		return mem_contains(s, len, t, tlen);
	case SHK_OP_ICONTAINS:
		return ascii_casemem(s, len, t, tlen);
	case SHK_OP_STARTSWITH:
	case SHK_OP_BSTARTSWITH:
		return len >= tlen && !memcmp(s, t, tlen);
	case SHK_OP_ENDSWITH:
		return len >= tlen && !memcmp(s + len - tlen, t, tlen);
	default:
		return false;
	}
}

static bool num_op(enum shk_op op, i128 a, i128 b)
{
	switch (op) {
	case SHK_OP_EQ:
	case SHK_OP_IN:
	case SHK_OP_INTERSECTS:
		return a == b;
	case SHK_OP_NE:
		return a != b;
	case SHK_OP_LT:
		return a < b;
	case SHK_OP_LE:
		return a <= b;
	case SHK_OP_GT:
		return a > b;
	case SHK_OP_GE:
		return a >= b;
	default:
		return false;
	}
}

static bool is_num(const struct shk_value *v)
{
	return v->type == SHK_V_I64 || v->type == SHK_V_U64;
}

static i128 num_of(const struct shk_value *v)
{
	return v->type == SHK_V_I64 ? (i128)v->i : (i128)v->u;
}

/* A decimal or hex string as a number (evt.arg values are text). */
static bool parse_num(const char *s, i128 *ret)
{
	char *end;

	if (!*s)
		return false;
	errno = 0;
	if (*s == '-') {
		long long x = strtoll(s, &end, 0);

		if (*end || errno)
			return false;
		*ret = x;
	} else {
		unsigned long long x = strtoull(s, &end, 0);

		if (*end || errno)
			return false;
		*ret = x;
	}
	return true;
}

/* The literal as a number of the check's signedness. */
static i128 rhs_num(const struct shk_check *c)
{
	/* a literal that is not negative has one value both ways: no need
	 * to look at its text */
	if (c->num >= 0)
		return c->num;
	return c->text_len && c->text[0] == '-' ? (i128)c->num : (i128)c->unum;
}

static bool is_ordering(enum shk_op op)
{
	return op == SHK_OP_LT || op == SHK_OP_LE || op == SHK_OP_GT || op == SHK_OP_GE;
}

/* ---- scalar against the check's right-hand side ---------------------- */

static bool cmp_regex(const struct shk_check *c, const char *s)
{
	return regexec(c->re, s, 0, NULL, 0) == 0;
}

static bool cmp_literal(const struct shk_check *c, enum shk_op op, const struct shk_value *v)
{
	char b[64];

	switch (v->type) {
	case SHK_V_STR:
		if (c->rhs == SHK_RHS_REGEX)
			return cmp_regex(c, v->str.s);
		if (is_ordering(op)) {
			i128 x;

			/* evt.arg values are text: order them as numbers */
			return c->has_num && parse_num(v->str.s, &x) && num_op(op, x, rhs_num(c));
		}
		return str_op(op, v->str.s, v->str.len, c->text, c->text_len);
	case SHK_V_I64:
	case SHK_V_U64:
		if (c->has_num && (op <= SHK_OP_GE))
			return num_op(op, num_of(v), rhs_num(c));
		/* a number against text (evt.rawarg.x contains "1"): as text */
		if (v->type == SHK_V_I64)
			snprintf(b, sizeof(b), "%" PRId64, v->i);
		else
			snprintf(b, sizeof(b), "%" PRIu64, v->u);
		if (c->rhs == SHK_RHS_REGEX)
			return cmp_regex(c, b);
		return !is_ordering(op) && str_op(op, b, strlen(b), c->text, c->text_len);
	case SHK_V_BOOL: {
		bool want = c->b;

		if (c->lhs.type != SHK_FT_BOOL)
			want = c->text_len == 4 && !strncasecmp(c->text, "true", 4);
		if (op == SHK_OP_EQ)
			return v->b == want;
		return op == SHK_OP_NE && v->b != want;
	}
	case SHK_V_IP: {
		bool in = shk_ipnet_contains(&c->net, v->family, v->ip);

		if (op == SHK_OP_EQ)
			return in;
		return op == SHK_OP_NE && !in;
	}
	default:
		return false;
	}
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

/* nums are sorted, as signed values for signed fields. */
static bool numset_has(const struct shk_check *c, i128 x)
{
	bool sig = c->lhs.type == SHK_FT_INT64;
	uint32_t lo = 0, hi = c->nums.n;

	if (sig ? (x < INT64_MIN || x > INT64_MAX) : (x < 0 || x > (i128)UINT64_MAX))
		return false;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		uint64_t e = c->nums.v[mid];
		int d = sig ? ((int64_t)e < (int64_t)x ? -1 : (int64_t)e > (int64_t)x)
			    : cmp_u64(e, (uint64_t)x);

		if (!d)
			return true;
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static bool cmp_set(const struct shk_check *c, const struct shk_value *v)
{
	char b[64];

	switch (c->rhs) {
	case SHK_RHS_STRSET:
		switch (v->type) {
		case SHK_V_STR:
			return shk_strset_has(c->strset, v->str.s, v->str.len);
		case SHK_V_I64:
		case SHK_V_U64:
		case SHK_V_BOOL:
			if (v->type == SHK_V_BOOL)
				snprintf(b, sizeof(b), "%s", v->b ? "true" : "false");
			else if (v->type == SHK_V_I64)
				snprintf(b, sizeof(b), "%" PRId64, v->i);
			else
				snprintf(b, sizeof(b), "%" PRIu64, v->u);
			return shk_strset_has(c->strset, b, strlen(b));
		default:
			return false;
		}
	case SHK_RHS_NUMSET:
		if (v->type == SHK_V_BOOL)
			return numset_has(c, v->b);
		if (is_num(v))
			return numset_has(c, num_of(v));
		return false;
	case SHK_RHS_NETSET:
		if (v->type != SHK_V_IP)
			return false;
		for (uint32_t i = 0; i < c->nets.n; i++)
			if (shk_ipnet_contains(&c->nets.v[i], v->family, v->ip))
				return true;
		return false;
	default:
		return false;
	}
}

/* ---- field against field (val(), transformers on the right) ----------- */

static bool as_text(const struct shk_value *v, char *b, size_t size, const char **s, size_t *len)
{
	if (v->type == SHK_V_STR) {
		*s = v->str.s;
		*len = v->str.len;
		return true;
	}
	if (v->type == SHK_V_NA || v->type == SHK_V_LIST)
		return false;
	*len = shk_value_format(v, b, size);
	if (*len >= size)
		*len = size - 1;
	*s = b;
	return true;
}

static bool cmp_values(enum shk_op op, const struct shk_value *a, const struct shk_value *b)
{
	char ba[128], bb[128];
	const char *sa, *sb;
	size_t la, lb;

	if (b->type == SHK_V_LIST) {
		/* x in val(list): any item */
		for (uint32_t i = 0; i < b->n; i++) {
			struct shk_value one = { .type = SHK_V_STR };

			one.str.s = b->list[i].p;
			one.str.len = b->list[i].len;
			if (cmp_values(op == SHK_OP_NE ? SHK_OP_NE : SHK_OP_EQ, a, &one))
				return true;
		}
		return false;
	}
	if (is_num(a) && is_num(b))
		return num_op(op, num_of(a), num_of(b));
	if (a->type == SHK_V_IP && b->type == SHK_V_IP) {
		bool eq = a->family == b->family &&
			  !memcmp(a->ip, b->ip, a->family == 6 ? 16 : 4);

		return op == SHK_OP_NE ? !eq : (op == SHK_OP_EQ || op == SHK_OP_IN) && eq;
	}
	if (a->type == SHK_V_BOOL && b->type == SHK_V_BOOL)
		return op == SHK_OP_NE ? a->b != b->b : op == SHK_OP_EQ && a->b == b->b;
	if (!as_text(a, ba, sizeof(ba), &sa, &la) || !as_text(b, bb, sizeof(bb), &sb, &lb))
		return false;
	if (is_ordering(op)) {
		i128 x, y;

		return parse_num(sa, &x) && parse_num(sb, &y) && num_op(op, x, y);
	}
	return str_op(op, sa, la, sb, lb);
}

/* ---- one scalar -------------------------------------------------------- */

static bool cmp_scalar(struct shk_evalctx *ctx, const struct shk_check *c, enum shk_op op,
		       const struct shk_value *v, const struct shk_value *rhs)
{
	switch (c->rhs) {
	case SHK_RHS_VALUE:
	case SHK_RHS_REGEX:
		return cmp_literal(c, op, v);
	case SHK_RHS_STRSET:
	case SHK_RHS_NUMSET:
	case SHK_RHS_NETSET:
		return cmp_set(c, v);
	case SHK_RHS_PATHS:
		return v->type == SHK_V_STR && shk_check_pmatch(c, v->str.s, v->str.len);
	case SHK_RHS_FIELD:
		return rhs && cmp_values(op, v, rhs);
	default:
		return false;
	}
}

static bool cmp_value(struct shk_evalctx *ctx, const struct shk_check *c, enum shk_op op,
		      const struct shk_value *v)
{
	struct shk_value rhs = { .type = SHK_V_NA };

	if (c->rhs == SHK_RHS_FIELD && !shk_extract(ctx, &c->field, &rhs))
		return false;
	if (v->type == SHK_V_LIST) {
		/* a list satisfies the operator when one of its items does
		 * (Falco's proc.aname without index) */
		for (uint32_t i = 0; i < v->n; i++) {
			struct shk_value one = { .type = SHK_V_STR };

			one.str.s = v->list[i].p;
			one.str.len = v->list[i].len;
			if (cmp_scalar(ctx, c, op, &one, &rhs))
				return true;
		}
		return false;
	}
	return cmp_scalar(ctx, c, op, v, &rhs);
}

/* fd.ip, fd.net, fd.port, fd.proto: either end of the connection. */
static bool cmp_either(struct shk_evalctx *ctx, const struct shk_check *c,
		       enum shk_field_id client, enum shk_field_id server)
{
	struct shk_fieldref r = c->lhs;
	struct shk_value a, b;
	bool ha, hb;

	r.id = client;
	ha = shk_extract(ctx, &r, &a);
	r.id = server;
	hb = shk_extract(ctx, &r, &b);
	if (!ha && !hb)
		return false;
	if (c->op == SHK_OP_EXISTS)
		return true;
	if (c->op == SHK_OP_NE)
		return !(ha && cmp_value(ctx, c, SHK_OP_EQ, &a)) &&
		       !(hb && cmp_value(ctx, c, SHK_OP_EQ, &b));
	return (ha && cmp_value(ctx, c, c->op, &a)) || (hb && cmp_value(ctx, c, c->op, &b));
}

/*
 * One walk over the conditions of one event. Macro bodies are shared
 * between rules (rule_compile.h), and most file rules start with the same
 * few (open_read, open_write, container, ...): within an event the value
 * of a node cannot change, so shk_eval_event() remembers the values of
 * and/or nodes and field checks in a small table on its stack, keyed by
 * the node's address. A collision only costs a re-evaluation.
 */
#define MEMO_BITS 7
#define MEMO_SLOTS (1u << MEMO_BITS)
#define MEMO_VALID ((uintptr_t)2)
#define MEMO_TRUE ((uintptr_t)1)

_Static_assert(_Alignof(struct shk_fnode) >= 4, "memo keys use the low two bits");

struct walk {
	struct shk_evalctx *ctx;
	unsigned evtype;
	bool is_exit;	/* procexit is no syscall: syscall.type is <NA> */
	uintptr_t *memo; /* MEMO_SLOTS entries, or NULL */
};

static inline uintptr_t *memo_slot(uintptr_t *memo, const struct shk_fnode *n)
{
	uint64_t h = ((uint64_t)(uintptr_t)n >> 3) * 0x9e3779b97f4a7c15ull;

	return &memo[h >> (64 - MEMO_BITS)];
}

static bool field_check(const struct shk_check *c, struct shk_evalctx *ctx)
{
	struct shk_value v;

	switch (c->lhs.id) {
	case SHK_FIELD_FD_IP:
		return cmp_either(ctx, c, SHK_FIELD_FD_CIP, SHK_FIELD_FD_SIP);
	case SHK_FIELD_FD_NET:
		return cmp_either(ctx, c, SHK_FIELD_FD_CNET, SHK_FIELD_FD_SNET);
	case SHK_FIELD_FD_PORT:
		return cmp_either(ctx, c, SHK_FIELD_FD_CPORT, SHK_FIELD_FD_SPORT);
	case SHK_FIELD_FD_PROTO:
		return cmp_either(ctx, c, SHK_FIELD_FD_CPROTO, SHK_FIELD_FD_SPROTO);
	default:
		break;
	}
	if (!shk_extract(ctx, &c->lhs, &v))
		return false;
	if (c->op == SHK_OP_EXISTS)
		return true;
	/* the common shapes first, as cmp_value() would decide them */
	switch (v.type) {
	case SHK_V_STR:
		if (c->rhs == SHK_RHS_STRSET)
			return shk_strset_has(c->strset, v.str.s, v.str.len);
		if (c->rhs == SHK_RHS_VALUE && !is_ordering(c->op))
			return str_op(c->op, v.str.s, v.str.len, c->text, c->text_len);
		break;
	case SHK_V_BOOL:
		if (c->rhs == SHK_RHS_VALUE && c->lhs.type == SHK_FT_BOOL)
			return c->op == SHK_OP_EQ ? v.b == c->b : c->op == SHK_OP_NE && v.b != c->b;
		break;
	case SHK_V_I64:
	case SHK_V_U64:
		if (c->rhs == SHK_RHS_VALUE && c->has_num && c->op <= SHK_OP_GE)
			return num_op(c->op, num_of(&v), rhs_num(c));
		break;
	default:
		break;
	}
	return cmp_value(ctx, c, c->op, &v);
}

bool shk_eval_check(const struct shk_check *c, struct shk_evalctx *ctx)
{
	if (c->rhs == SHK_RHS_EVTYPES)
		return shk_check_evtype(c, ctx->ev->type == SHK_EV_EXIT, shk_evalctx_evtype(ctx));
	return field_check(c, ctx);
}

static bool eval_node(const struct shk_fnode *n, struct walk *w);

static inline bool memo_hit(uintptr_t e, const struct shk_fnode *n)
{
	return (e & ~(MEMO_VALID | MEMO_TRUE)) == (uintptr_t)n;
}

static inline uintptr_t memo_entry(const struct shk_fnode *n, bool r)
{
	return (uintptr_t)n | MEMO_VALID | (r ? MEMO_TRUE : 0);
}

/* A check node: evt.type is a bit test, cheaper than the memo; a field
 * check is remembered, as the same macro (`container`, ...) recurs. */
static inline bool eval_leaf(const struct shk_fnode *n, struct walk *w)
{
	const struct shk_check *c = n->check;
	uintptr_t *slot;
	bool r;

	if (c->rhs == SHK_RHS_EVTYPES)
		return shk_check_evtype(c, w->is_exit, w->evtype);
	if (!w->memo)
		return field_check(c, w->ctx);
	slot = memo_slot(w->memo, n);
	if (memo_hit(*slot, n))
		return *slot & MEMO_TRUE;
	r = field_check(c, w->ctx);
	*slot = memo_entry(n, r);
	return r;
}

/* and/or: the kids until one decides; leaves without a call. Costly
 * checks (shk_check_costly()) go last, so that a cheap kid usually
 * decides first; kids have no side effects, so their order does not
 * change the node's value. */
static bool eval_kids(const struct shk_fnode *n, struct walk *w)
{
	bool stop_on = n->kind == SHK_FN_OR, r;
	uint64_t later = 0;

	for (uint32_t i = 0; i < n->n; i++) {
		const struct shk_fnode *k = n->kids[i];

		if (k->kind != SHK_FN_CHECK) {
			r = eval_node(k, w);
		} else if (i < 64 && shk_check_costly(k->check)) {
			later |= 1ull << i;
			continue;
		} else {
			r = eval_leaf(k, w);
		}
		if (r == stop_on)
			return stop_on;
	}
	for (; later; later &= later - 1)
		if (eval_leaf(n->kids[__builtin_ctzll(later)], w) == stop_on)
			return stop_on;
	return !stop_on;
}

static bool eval_node(const struct shk_fnode *n, struct walk *w)
{
	uintptr_t *slot;
	bool r;

	switch (n->kind) {
	case SHK_FN_CHECK:
		return eval_leaf(n, w);
	case SHK_FN_NOT:
		return !eval_node(n->kids[0], w);
	default:
		break;
	}
	if (!w->memo || n->n < 2)
		return eval_kids(n, w);
	slot = memo_slot(w->memo, n);
	if (memo_hit(*slot, n))
		return *slot & MEMO_TRUE;
	r = eval_kids(n, w);
	*slot = memo_entry(n, r);
	return r;
}

bool shk_eval_filter(const struct shk_fnode *n, struct shk_evalctx *ctx)
{
	struct walk w = { ctx, shk_evalctx_evtype(ctx), ctx->ev->type == SHK_EV_EXIT, NULL };

	return eval_node(n, &w);
}

/* ---- plans (rule_plan.h) ---------------------------------------------- */

/* Per event, two bits per node of the plan: decided, and its value. */
struct pstate {
	const struct shk_plan *p;
	struct walk *w;
	uint64_t known[SHK_PLAN_MAX_NODES / 64];
	uint64_t val[SHK_PLAN_MAX_NODES / 64];
};

static bool plan_decide(struct pstate *st, uint32_t q);

/* Most visits find the node decided (rules share their first conjuncts):
 * that much is inline, the rest a call. */
static inline bool plan_node(struct pstate *st, uint32_t q)
{
	uint64_t bit = 1ull << (q % 64);

	if (st->known[q / 64] & bit)
		return st->val[q / 64] & bit;
	return plan_decide(st, q);
}

/* and/or: the kids until one decides (the plan put the cheap ones first) */
static bool plan_kids(struct pstate *st, const struct shk_plan_node *nd)
{
	const uint16_t *k = st->p->kids + nd->first, *end = k + nd->n;
	bool stop_on = nd->kind == SHK_FN_OR;

	for (; k < end; k++)
		if (plan_node(st, *k) == stop_on)
			return stop_on;
	return !stop_on;
}

static bool plan_decide(struct pstate *st, uint32_t q)
{
	const struct shk_plan_node *nd = &st->p->nodes[q];
	uint64_t bit = 1ull << (q % 64);
	bool r;

	switch (nd->kind) {
	case SHK_FN_CHECK:
		/* evt.type checks were folded into the plan; this one is
		 * left for a type the folding does not know */
		r = nd->check->rhs == SHK_RHS_EVTYPES
			    ? shk_check_evtype(nd->check, st->w->is_exit, st->w->evtype)
			    : field_check(nd->check, st->w->ctx);
		break;
	case SHK_FN_NOT:
		r = !plan_node(st, st->p->kids[nd->first]);
		break;
	default:
		r = plan_kids(st, nd);
		break;
	}
	st->known[q / 64] |= bit;
	st->val[q / 64] = (st->val[q / 64] & ~bit) | (r ? bit : 0);
	return r;
}

static int eval_plan(const struct shk_ruleset *rs, const struct shk_plan *p, struct walk *w,
		     enum shk_rule_matching matching, shk_match_fn cb, void *data)
{
	struct shk_evalctx *ctx = w->ctx;
	struct pstate st;
	int matches = 0;

	st.p = p;
	st.w = w;
	memset(st.known, 0, (p->nnodes + 63) / 64 * sizeof(st.known[0]));
	for (uint32_t i = 0; i < p->nrules; i++) {
		const struct shk_plan_rule *pr = &p->rules[i];
		const uint16_t *k = p->kids + pr->first, *end = k + pr->n;

		if (ctx->skip_rule && ctx->skip_rule[pr->id])
			continue;
		while (k < end && plan_node(&st, *k))
			k++;
		if (k < end)
			continue;
		matches++;
		if (cb) {
			/* what the callback extracts is memoised like the
			 * rest: no decided node goes stale */
			int err = cb(&rs->rules[pr->id], ctx, data);

			if (err < 0)
				return err;
		}
		if (matching == SHK_MATCH_FIRST)
			break;
	}
	return matches;
}

/* ---- events ------------------------------------------------------------ */

int shk_eval_event(const struct shk_ruleset *rs, struct shk_evalctx *ctx,
		   enum shk_rule_matching matching, shk_match_fn cb, void *data)
{
	uintptr_t memo[MEMO_SLOTS];
	struct walk w = { ctx, 0, false, NULL };
	const struct shk_plan *plan;
	const uint32_t *ids;
	uint32_t n, split, lo, hi, i, j;
	int matches = 0;

	if (!rs || !ctx || !ctx->ev || !ctx->priv)
		return -EINVAL;
	shk_evalctx_begin(ctx, ctx->ev);
	w.evtype = shk_evalctx_evtype(ctx);
	w.is_exit = ctx->ev->type == SHK_EV_EXIT;
	plan = shk_plans_get(rs->plans, w.evtype);
	if (plan)
		return eval_plan(rs, plan, &w, matching, cb, data);
	/* no plan (a ruleset built by hand, or a type with more nodes than
	 * a plan holds): the rules' conditions as compiled */
	ids = shk_ruleset_rules_for(rs, w.evtype, &n);
	if (!ids || !n)
		return 0;
	w.memo = memo;
	memset(memo, 0, sizeof(memo));
	/* The index lists the rules that name this type, then those without
	 * an evt.type constraint, each in load order: merge the two runs so
	 * that rules run (and FIRST picks) in load order, as in Falco. */
	lo = 0;
	hi = n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (rs->rules[ids[mid]].all_evtypes)
			hi = mid;
		else
			lo = mid + 1;
	}
	split = lo;
	for (i = 0, j = split; i < split || j < n;) {
		uint32_t id = j >= n || (i < split && ids[i] < ids[j]) ? ids[i++] : ids[j++];
		const struct shk_rule *r = &rs->rules[id];

		if (!r->filter || (ctx->skip_rule && ctx->skip_rule[id]))
			continue;
		/* a rule's own root is never shared: no use remembering it */
		if (r->filter->kind == SHK_FN_AND || r->filter->kind == SHK_FN_OR
			    ? !eval_kids(r->filter, &w) : !eval_node(r->filter, &w))
			continue;
		matches++;
		if (cb) {
			/* what the callback extracts is memoised like the
			 * rest: no remembered node value goes stale */
			int err = cb(r, ctx, data);

			if (err < 0)
				return err;
		}
		if (matching == SHK_MATCH_FIRST)
			break;
	}
	return matches;
}
