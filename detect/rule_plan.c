/* SPDX-License-Identifier: Apache-2.0 */
/* Evaluation plans (see rule_plan.h). */
#include "rule_plan.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* ---- memory ------------------------------------------------------------ */

/* Specialised nodes live in chunks freed with the plans. */
struct pool_chunk {
	struct pool_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

struct shk_plans {
	struct shk_plan *by_type[SHK_EVTYPE_MAX]; /* one block each, or NULL */
	struct pool_chunk *pool;
};

static void *pool_alloc(struct shk_plans *ps, size_t size)
{
	struct pool_chunk *c = ps->pool;
	size_t align = sizeof(max_align_t);

	size = (size + align - 1) / align * align;
	if (!c || c->cap - c->used < size) {
		size_t cap = size > 16 * 1024 ? size : 16 * 1024;

		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->cap = cap;
		c->used = 0;
		c->next = ps->pool;
		ps->pool = c;
	}
	c->used += size;
	return (char *)c->data + c->used - size;
}

/* ---- pointer map: open addressing, for the build only ------------------ */

struct ptrmap {
	struct ptrmap_ent {
		const void *k; /* NULL: empty */
		const void *v;
	} *e;
	uint32_t cap, n; /* cap: a power of two */
};

static uint32_t ptr_hash(const void *k, uint32_t cap)
{
	uint64_t h = ((uint64_t)(uintptr_t)k >> 4) * 0x9e3779b97f4a7c15ull;

	return (uint32_t)(h >> 32) & (cap - 1);
}

static const void *ptrmap_get(const struct ptrmap *m, const void *k)
{
	if (!m->cap)
		return NULL;
	for (uint32_t i = ptr_hash(k, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (m->e[i].k == k)
			return m->e[i].v;
		if (!m->e[i].k)
			return NULL;
	}
}

static int ptrmap_put(struct ptrmap *m, const void *k, const void *v);

static int ptrmap_grow(struct ptrmap *m)
{
	struct ptrmap old = *m;

	m->cap = old.cap ? old.cap * 2 : 256;
	m->n = 0;
	m->e = calloc(m->cap, sizeof(*m->e));
	if (!m->e) {
		*m = old;
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < old.cap; i++)
		if (old.e[i].k)
			ptrmap_put(m, old.e[i].k, old.e[i].v);
	free(old.e);
	return 0;
}

/* k is new to m. */
static int ptrmap_put(struct ptrmap *m, const void *k, const void *v)
{
	uint32_t i;

	if ((m->n + 1) * 2 > m->cap && ptrmap_grow(m) < 0)
		return -ENOMEM;
	for (i = ptr_hash(k, m->cap); m->e[i].k; i = (i + 1) & (m->cap - 1))
		;
	m->e[i].k = k;
	m->e[i].v = v;
	m->n++;
	return 0;
}

static void ptrmap_clear(struct ptrmap *m)
{
	if (m->e)
		memset(m->e, 0, m->cap * sizeof(*m->e));
	m->n = 0;
}

/* ---- equal conditions -------------------------------------------------- */

static uint64_t mix(uint64_t h, uint64_t x)
{
	return (h ^ x) * 0x100000001b3ull;
}

static uint64_t mix_bytes(uint64_t h, const void *p, size_t len)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < len; i++)
		h = mix(h, b[i]);
	return h;
}

static uint64_t ref_hash(uint64_t h, const struct shk_fieldref *r)
{
	h = mix(mix(mix(h, r->id), (uint32_t)r->index), r->nxform);
	if (r->key)
		h = mix_bytes(h, r->key, r->key_len);
	return mix_bytes(h, r->xform, r->nxform);
}

static bool ref_equal(const struct shk_fieldref *a, const struct shk_fieldref *b)
{
	return a->id == b->id && a->index == b->index && a->type == b->type &&
	       !a->key == !b->key && (!a->key || (a->key_len == b->key_len &&
						  !memcmp(a->key, b->key, a->key_len))) &&
	       a->nxform == b->nxform && !memcmp(a->xform, b->xform, a->nxform);
}

static bool strset_equal(const struct shk_strset *a, const struct shk_strset *b)
{
	if (a->n != b->n)
		return false;
	for (uint32_t i = 0; i < a->cap; i++)
		if (a->slots[i].s && !shk_strset_has(b, a->slots[i].s, a->slots[i].len))
			return false;
	return true;
}

static bool paths_equal(const struct shk_check *a, const struct shk_check *b)
{
	if (a->paths.n != b->paths.n)
		return false;
	for (uint32_t i = 0; i < a->paths.n; i++)
		if (a->paths.len[i] != b->paths.len[i] ||
		    memcmp(a->paths.v[i], b->paths.v[i], a->paths.len[i]))
			return false;
	return true;
}

/* Do two checks have the same value for every event? Only when they read
 * the same field with the same operator and the same right-hand side. */
static bool check_equal(const struct shk_check *a, const struct shk_check *b)
{
	if (a == b)
		return true;
	if (!ref_equal(&a->lhs, &b->lhs) || a->op != b->op || a->rhs != b->rhs)
		return false;
	switch (a->rhs) {
	case SHK_RHS_NONE:
		return true;
	case SHK_RHS_VALUE:
	case SHK_RHS_REGEX: /* compiled from op and text */
		return a->text_len == b->text_len && !memcmp(a->text, b->text, a->text_len) &&
		       a->has_num == b->has_num && a->num == b->num && a->unum == b->unum &&
		       a->b == b->b && !memcmp(&a->net, &b->net, sizeof(a->net));
	case SHK_RHS_STRSET:
		return strset_equal(a->strset, b->strset);
	case SHK_RHS_NUMSET:
		return a->nums.n == b->nums.n &&
		       !memcmp(a->nums.v, b->nums.v, a->nums.n * sizeof(*a->nums.v));
	case SHK_RHS_NETSET:
		return a->nets.n == b->nets.n &&
		       !memcmp(a->nets.v, b->nets.v, a->nets.n * sizeof(*a->nets.v));
	case SHK_RHS_PATHS:
		return paths_equal(a, b);
	case SHK_RHS_FIELD:
		return ref_equal(&a->field, &b->field);
	default:
		return false;
	}
}

static uint64_t check_hash(const struct shk_check *c)
{
	uint64_t h = mix(mix(ref_hash(0xcbf29ce484222325ull, &c->lhs), c->op), c->rhs);

	switch (c->rhs) {
	case SHK_RHS_VALUE:
	case SHK_RHS_REGEX:
		return mix_bytes(h, c->text, c->text_len);
	case SHK_RHS_STRSET:
		return mix(h, c->strset->n);
	case SHK_RHS_NUMSET:
	case SHK_RHS_NETSET:
	case SHK_RHS_PATHS:
		return mix(h, c->nums.n); /* n sits at the same place in each */
	case SHK_RHS_FIELD:
		return ref_hash(h, &c->field);
	default:
		return h;
	}
}

/* and/or/not: kids are already canonical, so equal means the same kids. */
static uint64_t node_hash(const struct shk_fnode *n)
{
	uint64_t h;

	if (n->kind == SHK_FN_CHECK)
		return check_hash(n->check);
	h = mix(mix(0xcbf29ce484222325ull, n->kind), n->n);
	for (uint32_t i = 0; i < n->n; i++)
		h = mix(h, (uintptr_t)n->kids[i]);
	return h;
}

static bool node_equal(const struct shk_fnode *a, const struct shk_fnode *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == SHK_FN_CHECK)
		return check_equal(a->check, b->check);
	return a->n == b->n && !memcmp(a->kids, b->kids, a->n * sizeof(*a->kids));
}

/* The canonical nodes of a type, by structure. */
struct constab {
	struct cons_ent {
		uint64_t h;
		const struct shk_fnode *n; /* NULL: empty */
	} *e;
	uint32_t cap, n;
};

static int cons_grow(struct constab *t)
{
	struct constab old = *t;

	t->cap = old.cap ? old.cap * 2 : 256;
	t->e = calloc(t->cap, sizeof(*t->e));
	if (!t->e) {
		*t = old;
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < old.cap; i++) {
		uint32_t j;

		if (!old.e[i].n)
			continue;
		for (j = (uint32_t)old.e[i].h & (t->cap - 1); t->e[j].n; j = (j + 1) & (t->cap - 1))
			;
		t->e[j] = old.e[i];
	}
	free(old.e);
	return 0;
}

/* The node equal to n seen first, n itself if none; NULL on ENOMEM. */
static const struct shk_fnode *cons(struct constab *t, const struct shk_fnode *n)
{
	uint64_t h = node_hash(n);
	uint32_t i;

	if ((t->n + 1) * 2 > t->cap && cons_grow(t) < 0)
		return NULL;
	for (i = (uint32_t)h & (t->cap - 1); t->e[i].n; i = (i + 1) & (t->cap - 1))
		if (t->e[i].h == h && node_equal(t->e[i].n, n))
			return t->e[i].n;
	t->e[i].h = h;
	t->e[i].n = n;
	t->n++;
	return n;
}

/* ---- one event type ---------------------------------------------------- */

struct build {
	struct shk_plans *ps;
	unsigned evtype;
	bool is_exit;
	bool nomem;
	struct ptrmap spec;   /* condition node -> its specialisation */
	struct constab cons;  /* specialised nodes by structure */
	struct ptrmap ix;     /* canonical node -> plan node index + 1 */
	struct ptrmap cost;   /* canonical node -> cost() + 1 */
	struct shk_plan_rule *rules;
	struct shk_plan_node *nodes;
	uint16_t *kids;
	uint32_t nrules, nnodes, nkids, capkids;
	/* the conjuncts of the rule being planned */
	const struct shk_fnode **cj;
	uint32_t ncj, capcj;
};

/* Constants of the folding: compared by address, never evaluated. */
static const struct shk_fnode node_true = { .kind = SHK_FN_AND };
static const struct shk_fnode node_false = { .kind = SHK_FN_OR };

#define K_TRUE (&node_true)
#define K_FALSE (&node_false)

static const struct shk_fnode *spec(struct build *b, const struct shk_fnode *n);

static const struct shk_fnode *new_node(struct build *b, enum shk_fnode_kind kind,
					const struct shk_fnode *const *kids, uint32_t n)
{
	struct shk_fnode *fn = pool_alloc(b->ps, sizeof(*fn));
	struct shk_fnode **kv = pool_alloc(b->ps, n * sizeof(*kv));

	if (!fn || !kv) {
		b->nomem = true;
		return NULL;
	}
	memcpy(kv, kids, n * sizeof(*kv));
	fn->kind = kind;
	fn->n = n;
	fn->kids = kv;
	return fn;
}

/* and/or: drop the kids that folded to the neutral constant; one that
 * folded to the absorbing one decides the node. */
static const struct shk_fnode *spec_kids(struct build *b, const struct shk_fnode *n)
{
	bool is_or = n->kind == SHK_FN_OR, same = true;
	const struct shk_fnode *absorb = is_or ? K_TRUE : K_FALSE;
	const struct shk_fnode *neutral = is_or ? K_FALSE : K_TRUE;
	const struct shk_fnode **kids, *r;
	uint32_t m = 0;

	kids = malloc((n->n + 1) * sizeof(*kids));
	if (!kids) {
		b->nomem = true;
		return NULL;
	}
	for (uint32_t i = 0; i < n->n; i++) {
		const struct shk_fnode *k = spec(b, n->kids[i]);

		if (!k || k == absorb) {
			free(kids);
			return k;
		}
		if (k != n->kids[i])
			same = false;
		if (k != neutral)
			kids[m++] = k;
	}
	if (same)
		r = n;
	else if (!m)
		r = neutral;
	else if (m == 1)
		r = kids[0];
	else
		r = new_node(b, n->kind, kids, m);
	free(kids);
	return r;
}

/*
 * n for this event type: K_TRUE, K_FALSE, or the canonical node of its
 * specialisation (n itself, when it names no event type and no equal node
 * came first). Remembered per node, so that a macro body shared by many
 * rules is specialised once; NULL on ENOMEM.
 */
static const struct shk_fnode *spec(struct build *b, const struct shk_fnode *n)
{
	const struct shk_fnode *r = ptrmap_get(&b->spec, n), *k;

	if (r)
		return r;
	switch (n->kind) {
	case SHK_FN_CHECK:
		if (n->check->rhs != SHK_RHS_EVTYPES)
			r = n;
		else
			r = shk_check_evtype(n->check, b->is_exit, b->evtype) ? K_TRUE : K_FALSE;
		break;
	case SHK_FN_NOT:
		k = spec(b, n->kids[0]);
		if (!k)
			return NULL;
		r = k == K_TRUE ? K_FALSE : k == K_FALSE ? K_TRUE : k == n->kids[0] ? n :
			new_node(b, SHK_FN_NOT, &k, 1);
		break;
	default:
		r = spec_kids(b, n);
		break;
	}
	if (r && r != K_TRUE && r != K_FALSE)
		r = cons(&b->cons, r);
	if (!r || ptrmap_put(&b->spec, n, r) < 0) {
		b->nomem = true;
		return NULL;
	}
	return r;
}

/*
 * What deciding n costs, roughly, for ordering kids: a check 1, a costly
 * one (shk_check_costly()) COST_COSTLY, and/or the sum of their kids, the
 * worst case. Remembered per node: conditions are DAGs.
 */
#define COST_COSTLY 64u
#define COST_MAX (1u << 30)

static uint32_t cost(struct build *b, const struct shk_fnode *n)
{
	uintptr_t c = (uintptr_t)ptrmap_get(&b->cost, n);

	if (c)
		return (uint32_t)(c - 1);
	switch (n->kind) {
	case SHK_FN_CHECK:
		c = shk_check_costly(n->check) ? COST_COSTLY : 1;
		break;
	case SHK_FN_NOT:
		c = cost(b, n->kids[0]);
		break;
	default:
		for (uint32_t i = 0; i < n->n && c < COST_MAX; i++)
			c += cost(b, n->kids[i]);
		if (c > COST_MAX)
			c = COST_MAX;
		break;
	}
	if (ptrmap_put(&b->cost, n, (const void *)(c + 1)) < 0)
		b->nomem = true;
	return (uint32_t)c;
}

struct kid {
	const struct shk_fnode *n;
	uint32_t key, pos;
};

static int cmp_kid(const void *a, const void *b)
{
	const struct kid *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int reserve_kids(struct build *b, uint32_t n, uint32_t *ret_first)
{
	if (b->nkids + n > b->capkids) {
		uint32_t cap = b->capkids ? b->capkids : 256;
		uint16_t *v;

		while (cap < b->nkids + n)
			cap *= 2;
		v = realloc(b->kids, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		b->kids = v;
		b->capkids = cap;
	}
	*ret_first = b->nkids;
	b->nkids += n;
	return 0;
}

static int node_of(struct build *b, const struct shk_fnode *n);

/*
 * kids[first ..] = the nodes of v (the kids of an and/or, or a rule's
 * conjuncts), cheap ones first, so that a cheap kid usually decides: an
 * or tries its kids by cost; an and its plain kids by cost, then the
 * negated ones in their order. Those are mostly exceptions (`and not
 * ...`), which rarely decide an and, while the plain conditions before
 * them were written to decide it. Equal costs keep their order.
 */
static int put_kids(struct build *b, uint32_t first, const struct shk_fnode *const *v,
		    uint32_t n, bool is_or)
{
	struct kid *k = malloc((n + 1) * sizeof(*k));

	if (!k)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		k[i].n = v[i];
		k[i].pos = i;
		k[i].key = !is_or && v[i]->kind == SHK_FN_NOT ? COST_MAX : cost(b, v[i]);
	}
	qsort(k, n, sizeof(*k), cmp_kid);
	for (uint32_t i = 0; i < n; i++) {
		int q = node_of(b, k[i].n);

		if (q < 0) {
			free(k);
			return q;
		}
		b->kids[first + i] = (uint16_t)q;
	}
	free(k);
	return 0;
}

/* The plan node of canonical node n, numbered before its kids (the order
 * a walk meets them); -ENOSPC past SHK_PLAN_MAX_NODES. */
static int node_of(struct build *b, const struct shk_fnode *n)
{
	uintptr_t ix = (uintptr_t)ptrmap_get(&b->ix, n);
	struct shk_plan_node *pn;
	uint32_t q, first;
	int err;

	if (ix)
		return (int)(ix - 1);
	if (b->nnodes == SHK_PLAN_MAX_NODES)
		return -ENOSPC;
	q = b->nnodes++;
	if (ptrmap_put(&b->ix, n, (const void *)(uintptr_t)(q + 1)) < 0)
		return -ENOMEM;
	pn = &b->nodes[q];
	pn->kind = (uint8_t)n->kind;
	pn->n = n->kind == SHK_FN_CHECK ? 0 : n->n;
	if (n->kind == SHK_FN_CHECK) {
		pn->check = n->check;
		return (int)q;
	}
	err = reserve_kids(b, n->n, &first);
	if (err < 0)
		return err;
	pn->first = first;
	err = put_kids(b, first, (const struct shk_fnode *const *)n->kids, n->n,
		       n->kind == SHK_FN_OR);
	return err < 0 ? err : (int)q;
}

static int add_cj(struct build *b, const struct shk_fnode *n)
{
	if (b->ncj == b->capcj) {
		uint32_t cap = b->capcj ? b->capcj * 2 : 64;
		const struct shk_fnode **v = realloc(b->cj, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		b->cj = v;
		b->capcj = cap;
	}
	b->cj[b->ncj++] = n;
	return 0;
}

/* The conjuncts of a specialised condition: nested ands flattened. */
static int flatten(struct build *b, const struct shk_fnode *n)
{
	if (n->kind != SHK_FN_AND)
		return add_cj(b, n);
	for (uint32_t i = 0; i < n->n; i++)
		if (flatten(b, n->kids[i]) < 0)
			return -ENOMEM;
	return 0;
}

/* One rule: left out if it cannot hold for the type. */
static int plan_rule(struct build *b, const struct shk_rule *ru)
{
	const struct shk_fnode *f = spec(b, ru->filter);
	struct shk_plan_rule *pr;
	uint32_t first;
	int err;

	if (!f)
		return -ENOMEM;
	if (f == K_FALSE)
		return 0;
	b->ncj = 0;
	if (f != K_TRUE && flatten(b, f) < 0)
		return -ENOMEM;
	err = reserve_kids(b, b->ncj, &first);
	if (err < 0)
		return err;
	err = put_kids(b, first, b->cj, b->ncj, false);
	if (err < 0)
		return err;
	pr = &b->rules[b->nrules++];
	pr->id = ru->id;
	pr->first = first;
	pr->n = b->ncj;
	return 0;
}

static int cmp_id(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The plan as one block, in the order the evaluator reads it. */
static struct shk_plan *plan_block(const struct build *b)
{
	size_t sn = b->nnodes * sizeof(struct shk_plan_node);
	size_t sr = b->nrules * sizeof(struct shk_plan_rule);
	size_t sk = b->nkids * sizeof(uint16_t);
	struct shk_plan *p = malloc(sizeof(*p) + sn + sr + sk);
	char *d;

	if (!p)
		return NULL;
	d = (char *)(p + 1);
	p->nrules = b->nrules;
	p->nnodes = b->nnodes;
	p->nkids = b->nkids;
	p->nodes = memcpy(d, b->nodes, sn);
	p->rules = memcpy(d + sn, b->rules, sr);
	p->kids = memcpy(d + sn + sr, b->kids, sk);
	return p;
}

/* The plan for b->evtype into ps; none (not an error) when the type has
 * more nodes than the evaluator keeps bits for. */
static int plan_type(struct build *b, const struct shk_ruleset *rs, const uint32_t *ids,
		     uint32_t n)
{
	uint32_t *sorted = malloc(n * sizeof(*sorted));
	int err = 0;

	if (!sorted)
		return -ENOMEM;
	/* the index holds typed rules, then catch-all ones: Falco runs
	 * (and FIRST picks) them in load order */
	memcpy(sorted, ids, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_id);
	ptrmap_clear(&b->spec);
	ptrmap_clear(&b->ix);
	ptrmap_clear(&b->cost);
	if (b->cons.e)
		memset(b->cons.e, 0, b->cons.cap * sizeof(*b->cons.e));
	b->cons.n = 0;
	b->nrules = b->nnodes = b->nkids = 0;
	b->is_exit = b->evtype == SHK_EVT_PROCEXIT;
	for (uint32_t i = 0; i < n && !err; i++)
		if (rs->rules[sorted[i]].filter)
			err = plan_rule(b, &rs->rules[sorted[i]]);
	free(sorted);
	if (err == -ENOSPC)
		return 0;
	if (err < 0 || b->nomem)
		return -ENOMEM;
	b->ps->by_type[b->evtype] = plan_block(b);
	return b->ps->by_type[b->evtype] ? 0 : -ENOMEM;
}

struct shk_plans *shk_plans_build(const struct shk_ruleset *rs)
{
	struct shk_plans *ps = calloc(1, sizeof(*ps));
	struct build b = { .ps = ps };
	int err = 0;

	b.rules = malloc((rs->nrules + 1) * sizeof(*b.rules));
	b.nodes = malloc(SHK_PLAN_MAX_NODES * sizeof(*b.nodes));
	if (!ps || !b.rules || !b.nodes)
		err = -ENOMEM;
	for (unsigned t = 0; t < SHK_EVTYPE_MAX && !err; t++) {
		const uint32_t *ids;
		uint32_t n;

		ids = shk_ruleset_rules_for(rs, t, &n);
		if (!ids || !n)
			continue;
		b.evtype = t;
		err = plan_type(&b, rs, ids, n);
	}
	free(b.spec.e);
	free(b.ix.e);
	free(b.cost.e);
	free(b.cons.e);
	free(b.rules);
	free(b.nodes);
	free(b.kids);
	free(b.cj);
	if (err < 0) {
		shk_plans_free(ps);
		errno = ENOMEM;
		return NULL;
	}
	return ps;
}

void shk_plans_free(struct shk_plans *ps)
{
	if (!ps)
		return;
	for (unsigned t = 0; t < SHK_EVTYPE_MAX; t++)
		free(ps->by_type[t]);
	while (ps->pool) {
		struct pool_chunk *n = ps->pool->next;

		free(ps->pool);
		ps->pool = n;
	}
	free(ps);
}

const struct shk_plan *shk_plans_get(const struct shk_plans *ps, unsigned evtype)
{
	return ps && evtype < SHK_EVTYPE_MAX ? ps->by_type[evtype] : NULL;
}
