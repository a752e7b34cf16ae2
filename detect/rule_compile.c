// SPDX-License-Identifier: Apache-2.0
/*
 * Rule compiler (see rule_compile.h). Stages, as in Falco: resolve lists,
 * parse macros and check their references, then per rule: add exceptions,
 * parse, resolve macros and fields, type-check and build values, compute
 * event types; finally index rules by event type.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rule_compile.h"
#include "rule_parser.h"
#include "rule_plan.h"

/* ---- arena: everything a ruleset points to, freed at once ------------- */

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

struct shk_arena {
	struct arena_chunk *head;
	regex_t **res;
	uint32_t nres, capres;
};

static void *arena_alloc(struct shk_arena *a, size_t size)
{
	struct arena_chunk *c = a->head;
	size_t align = sizeof(max_align_t);

	size = (size + align - 1) / align * align;
	if (!c || c->cap - c->used < size) {
		size_t cap = size > 64 * 1024 ? size : 64 * 1024;

		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->cap = cap;
		c->used = 0;
		c->next = a->head;
		a->head = c;
	}
	c->used += size;
	return memset((char *)c->data + c->used - size, 0, size);
}

static char *arena_strndup(struct shk_arena *a, const char *s, size_t len)
{
	char *d = arena_alloc(a, len + 1);

	if (d) {
		memcpy(d, s, len);
		d[len] = '\0';
	}
	return d;
}

static void arena_free(struct shk_arena *a)
{
	if (!a)
		return;
	for (uint32_t i = 0; i < a->nres; i++)
		regfree(a->res[i]);
	free(a->res);
	while (a->head) {
		struct arena_chunk *n = a->head->next;

		free(a->head);
		a->head = n;
	}
	free(a);
}

/* ---- event types ------------------------------------------------------- */

static const char *const pseudo_names[SHK_EVT__END - SHK_SYSCALL_MAX] = {
	"procexit", "container", "switch", "signaldeliver", "page_fault",
	"procinfo", "cpu_hotplug", "drop", "notification", "infra",
	"asyncevent", "pluginevent", "k8s", "mesos", "tracer",
};

int shk_evtype_resolve(const char *name)
{
	static const uint32_t other_arches[] = {
		SCMP_ARCH_X86, SCMP_ARCH_X86_64, SCMP_ARCH_AARCH64, SCMP_ARCH_ARM,
		SCMP_ARCH_PPC64LE, SCMP_ARCH_S390X, SCMP_ARCH_RISCV64,
	};
	int nr;

	for (int i = 0; i < SHK_EVT__END - SHK_SYSCALL_MAX; i++)
		if (!strcmp(name, pseudo_names[i]))
			return SHK_SYSCALL_MAX + i;
	/* Falco's name for the umount2 syscall's event */
	if (!strcmp(name, "umount"))
		name = "umount2";
	nr = seccomp_syscall_resolve_name(name);
	if (nr >= 0 && nr < SHK_SYSCALL_MAX)
		return nr;
	if (nr != __NR_SCMP_ERROR)
		return -ENOSYS; /* a multiplexed or out-of-range syscall */
	for (size_t i = 0; i < sizeof(other_arches) / sizeof(other_arches[0]); i++)
		if (seccomp_syscall_resolve_name_arch(other_arches[i], name) != __NR_SCMP_ERROR)
			return -ENOSYS;
	return -ENOENT;
}

int shk_evtype_name(unsigned id, char *buf, size_t size)
{
	char *n;

	if (id >= SHK_SYSCALL_MAX && id < SHK_EVT__END) {
		snprintf(buf, size, "%s", pseudo_names[id - SHK_SYSCALL_MAX]);
		return 0;
	}
	if (id >= SHK_SYSCALL_MAX)
		return -ENOENT;
	n = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, id);
	if (!n)
		return -ENOENT;
	snprintf(buf, size, "%s", n);
	free(n);
	return 0;
}

static void evt_all(struct shk_evtset *s)
{
	memset(s, 0xff, sizeof(*s));
}

static bool evt_is_all(const struct shk_evtset *s)
{
	for (size_t i = 0; i < SHK_EVTYPE_MAX / 64; i++)
		if (s->w[i] != ~0ull)
			return false;
	return true;
}

static unsigned evt_count(const struct shk_evtset *s)
{
	unsigned n = 0;

	for (size_t i = 0; i < SHK_EVTYPE_MAX / 64; i++)
		n += __builtin_popcountll(s->w[i]);
	return n;
}

/* ---- values ------------------------------------------------------------ */

bool shk_ipnet_contains(const struct shk_ipnet *net, int family,
			const uint8_t *addr)
{
	unsigned bits = net->prefix, i;

	if (family != net->family)
		return false;
	for (i = 0; bits >= 8; i++, bits -= 8)
		if (addr[i] != net->addr[i])
			return false;
	if (bits) {
		uint8_t mask = 0xff << (8 - bits);

		if ((addr[i] & mask) != (net->addr[i] & mask))
			return false;
	}
	return true;
}

/* "a.b.c.d", "a.b.c.d/n", IPv6 likewise. */
static int parse_ipnet(const char *s, bool allow_prefix, struct shk_ipnet *ret)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long p;
	char *end;

	memset(ret, 0, sizeof(*ret));
	if (alen >= INET6_ADDRSTRLEN || (slash && !allow_prefix))
		return -EINVAL;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, ret->addr) == 1) {
		ret->family = 4;
		ret->prefix = 32;
	} else if (inet_pton(AF_INET6, buf, ret->addr) == 1) {
		ret->family = 6;
		ret->prefix = 128;
	} else {
		return -EINVAL;
	}
	if (slash) {
		if (!isdigit((unsigned char)slash[1]))
			return -EINVAL;
		p = strtoul(slash + 1, &end, 10);
		if (*end || p > ret->prefix)
			return -EINVAL;
		ret->prefix = p;
	}
	return 0;
}

/*
 * String sets are probed on every event, with values up to a path long, so
 * they use their own hash, a word at a time (FNV-1a, hash.h, goes a byte at
 * a time), and remember which lengths they hold (mod 64): most probes miss,
 * and most misses are decided without hashing. Only strset_build() makes
 * sets, so every struct shk_strset is the first member of a strset_x.
 */
struct strset_x {
	struct shk_strset set;
	uint64_t lens; /* bit len % 64 for every member */
};

static inline uint64_t load_le(const char *s, size_t n)
{
	uint64_t w = 0;

	memcpy(&w, s, n);
	return w;
}

static uint32_t strset_hash(const char *s, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ len;

	for (; len >= 8; s += 8, len -= 8) {
		h = (h ^ load_le(s, 8)) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	if (len >= 4)
		h = (h ^ (load_le(s, 4) | load_le(s + len - 4, 4) << 32)) * 0xc4ceb9fe1a85ec53ull;
	else if (len)
		h = (h ^ ((uint64_t)(unsigned char)s[0] | (uint64_t)(unsigned char)s[len / 2] << 8 |
			  (uint64_t)(unsigned char)s[len - 1] << 16)) * 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 29;
	return (uint32_t)h;
}

bool shk_strset_has(const struct shk_strset *set, const char *s, size_t len)
{
	const struct strset_x *x = (const struct strset_x *)set;
	uint32_t h;

	if (!set->cap || !((x->lens >> (len & 63)) & 1))
		return false;
	h = strset_hash(s, len);
	for (uint32_t i = h & (set->cap - 1);; i = (i + 1) & (set->cap - 1)) {
		const struct shk_strset_slot *sl = &set->slots[i];

		if (!sl->s)
			return false;
		if (sl->hash == h && sl->len == len && !memcmp(sl->s, s, len))
			return true;
	}
}

static struct shk_strset *strset_build(struct shk_arena *a, const char *const *v,
				       const uint32_t *lens, uint32_t n)
{
	struct strset_x *x = arena_alloc(a, sizeof(*x));
	struct shk_strset *set;
	uint32_t cap = 8;

	if (!x)
		return NULL;
	set = &x->set;
	while (cap < 2 * n)
		cap *= 2;
	set->slots = arena_alloc(a, cap * sizeof(*set->slots));
	if (!set->slots)
		return NULL;
	set->cap = cap;
	for (uint32_t k = 0; k < n; k++) {
		uint32_t h = strset_hash(v[k], lens[k]);

		x->lens |= 1ull << (lens[k] & 63);
		if (shk_strset_has(set, v[k], lens[k]))
			continue;
		for (uint32_t i = h & (cap - 1);; i = (i + 1) & (cap - 1)) {
			if (!set->slots[i].s) {
				set->slots[i].s = v[k];
				set->slots[i].len = lens[k];
				set->slots[i].hash = h;
				set->n++;
				break;
			}
		}
	}
	return set;
}

bool shk_check_pmatch(const struct shk_check *c, const char *s, size_t len)
{
	if (c->rhs != SHK_RHS_PATHS)
		return false;
	for (uint32_t i = 0; i < c->paths.n; i++) {
		size_t pl = c->paths.len[i];

		if (len >= pl && !memcmp(s, c->paths.v[i], pl) &&
		    (len == pl || s[pl] == '/' || (pl && c->paths.v[i][pl - 1] == '/')))
			return true;
	}
	return false;
}

/* fnmatch-style glob (*, ?, [...], backslash escapes) as an anchored ERE. */
static char *glob_to_ere(const char *g, size_t len)
{
	char *out = malloc(len * 4 + 4), *o = out;

	if (!out)
		return NULL;
	*o++ = '^';
	for (size_t i = 0; i < len; i++) {
		char c = g[i];

		if (c == '*') {
			*o++ = '.';
			*o++ = '*';
		} else if (c == '?') {
			*o++ = '.';
		} else if (c == '[') {
			size_t j = i + 1;

			if (j < len && (g[j] == '!' || g[j] == '^'))
				j++;
			if (j < len && g[j] == ']')
				j++;
			while (j < len && g[j] != ']')
				j++;
			if (j >= len) {
				*o++ = '\\';
				*o++ = '[';
				continue;
			}
			*o++ = '[';
			i++;
			if (g[i] == '!' || g[i] == '^') {
				*o++ = '^';
				i++;
			}
			for (; i < j; i++)
				*o++ = g[i];
			*o++ = ']';
		} else {
			if (c == '\\' && i + 1 < len)
				c = g[++i];
			if (strchr(".^$+(){}|\\[]*?", c))
				*o++ = '\\';
			*o++ = c;
		}
	}
	*o++ = '$';
	*o = '\0';
	return out;
}

/* ---- compile context --------------------------------------------------- */

struct item {
	const char *s;
	uint32_t len;
	bool quoted;
	const struct shk_ynode *node;
	uint32_t off; /* where the condition names it (item or list name) */
};

struct lstate {
	struct item *items;
	uint32_t n;
	uint8_t state; /* 0 todo, 1 resolving, 2 done */
	bool used;
};

enum { M_NEW, M_PARSED, M_BAD, M_COMPILING, M_DONE };

struct mstate {
	struct shk_ast *ast;
	uint8_t state;
	bool used;
	bool checked; /* references checked */
	struct shk_fnode *fn;
	uint32_t size, depth;
};

struct cctx {
	struct shk_loader *ld;
	struct shk_arena *a;
	struct lstate *lists;
	struct mstate *macros;
	bool nomem;
	/* the definition being compiled */
	const struct shk_rule_def *rule;
	bool skip_unknown;
	bool skipped;
};

static void __attribute__((format(printf, 6, 7)))
cdiag(struct cctx *c, enum shk_diag_level lvl, const struct shk_text *t,
      uint32_t off, size_t tlen, const char *fmt, ...)
{
	struct shk_loc l = shk_text_locate(t, off);
	va_list ap;

	if (off > t->len)
		off = t->len;
	if (tlen > t->len - off)
		tlen = t->len - off;
	va_start(ap, fmt);
	if (shk_diags_vadd(&c->ld->diags, lvl, &l, t->s + off, tlen, fmt, ap) < 0)
		c->nomem = true;
	va_end(ap);
}

#define cerr(c, t, off, tlen, ...) cdiag(c, SHK_DIAG_ERROR, t, off, tlen, __VA_ARGS__)

static int64_t list_index(struct cctx *c, const char *s, size_t len)
{
	const struct shk_list_def *l = shk_loader_find_list(c->ld, s, len);

	return l ? (int64_t)l->id : -1;
}

static int64_t macro_index(struct cctx *c, const char *s, size_t len)
{
	const struct shk_macro_def *m = shk_loader_find_macro(c->ld, s, len);

	return m ? (int64_t)m->id : -1;
}

static int push_item(struct item **v, uint32_t *n, uint32_t *cap, struct item it)
{
	if (*n == *cap) {
		uint32_t nc = *cap ? *cap * 2 : 16;
		struct item *nv = realloc(*v, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = it;
	return 0;
}

/* A list item written as '"10.0.0.0/8"' is a quoted string once it is
 * substituted into a condition (Falco substitutes lists textually). */
static int item_from_text(struct cctx *c, const char *s, size_t len,
			  const struct shk_ynode *node, struct item *ret)
{
	ret->s = s;
	ret->len = len;
	ret->quoted = false;
	ret->node = node;
	if (len >= 2 && (s[0] == '"' || s[0] == '\'')) {
		struct shk_lexer lx;
		struct shk_token t;

		shk_lex_init(&lx, s, len);
		if (shk_lex_next(&lx, SHK_LEX_VALUE, &t) < 0)
			return -ENOMEM;
		if (t.kind == SHK_TOK_STRING && t.len == len) {
			ret->s = arena_strndup(c->a, t.str, t.str_len);
			ret->len = t.str_len;
			ret->quoted = true;
		}
		shk_token_fini(&t);
		if (!ret->s)
			return -ENOMEM;
	} else if (memchr(s, ' ', len)) {
		ret->quoted = true; /* Falco quotes items with spaces */
	}
	return 0;
}

/* Falco's compile_list_infos, with nesting resolved to any depth: an item
 * naming a list defined before this list's last (re)definition expands. */
static int resolve_list(struct cctx *c, uint32_t li)
{
	const struct shk_list_def *l = c->ld->lists[li];
	struct lstate *st = &c->lists[li];
	uint32_t cap = 0;

	if (st->state == 2)
		return 0;
	st->state = 1;
	for (uint32_t i = 0; i < l->nitems; i++) {
		const struct shk_ynode *it = l->items[i];
		int64_t ri = list_index(c, it->str, it->len);
		struct item x = {0};

		if (ri >= 0 && (uint32_t)ri != li && c->lists[ri].state != 1 &&
		    c->ld->lists[ri]->index < l->visibility) {
			if (resolve_list(c, ri) < 0)
				return -ENOMEM;
			c->lists[ri].used = true;
			for (uint32_t j = 0; j < c->lists[ri].n; j++)
				if (push_item(&st->items, &st->n, &cap, c->lists[ri].items[j]) < 0)
					return -ENOMEM;
			continue;
		}
		if (item_from_text(c, it->str, it->len, it, &x) < 0 ||
		    push_item(&st->items, &st->n, &cap, x) < 0)
			return -ENOMEM;
	}
	st->state = 2;
	return 0;
}

/* ---- reference checks -------------------------------------------------- */

/* Mark lists used, and report undefined macros, in one definition's AST. */
static bool scan_refs(struct cctx *c, const struct shk_ast *a,
		      const struct shk_text *t)
{
	bool ok = true;
	int64_t i;

	switch (a->kind) {
	case SHK_AST_AND:
	case SHK_AST_OR:
	case SHK_AST_LIST:
		for (uint32_t k = 0; k < a->kids.n; k++)
			ok &= scan_refs(c, a->kids.v[k], t);
		return ok;
	case SHK_AST_NOT:
		return scan_refs(c, a->kid, t);
	case SHK_AST_CHECK:
		if (a->check.rhs)
			ok = scan_refs(c, a->check.rhs, t);
		return ok;
	case SHK_AST_MACRO:
		i = macro_index(c, a->value.s, a->value.len);
		if (i < 0) {
			cerr(c, t, a->pos.off, a->value.len, "undefined macro '%s'", a->value.s);
			return false;
		}
		c->macros[i].used = true;
		return true;
	case SHK_AST_VALUE:
		if (!a->value.quoted) {
			i = list_index(c, a->value.s, a->value.len);
			if (i >= 0)
				c->lists[i].used = true;
		}
		return true;
	default:
		return true;
	}
}

static int parse_def(struct cctx *c, const struct shk_text *t, struct shk_ast **ret)
{
	struct shk_parse_error pe;

	*ret = shk_parse_condition(t->s, t->len, &pe);
	if (*ret)
		return 0;
	if (errno == ENOMEM) {
		c->nomem = true;
		return -ENOMEM;
	}
	cerr(c, t, pe.pos.off, pe.text_len, "%s", pe.msg);
	return -EINVAL;
}

/* Macro reference cycles, depth-first with a bounded stack. */
static bool check_cycles(struct cctx *c, uint32_t mi, uint32_t *stack, int depth);

static bool cycle_walk(struct cctx *c, const struct shk_ast *a, uint32_t *stack,
		       int depth)
{
	bool ok = true;

	switch (a->kind) {
	case SHK_AST_AND:
	case SHK_AST_OR:
		for (uint32_t k = 0; k < a->kids.n && ok; k++)
			ok = cycle_walk(c, a->kids.v[k], stack, depth);
		return ok;
	case SHK_AST_NOT:
		return cycle_walk(c, a->kid, stack, depth);
	case SHK_AST_MACRO: {
		int64_t i = macro_index(c, a->value.s, a->value.len);
		const struct shk_macro_def *top = c->ld->macros[stack[depth - 1]];

		if (i < 0)
			return true; /* reported by scan_refs */
		for (int d = 0; d < depth; d++) {
			if (stack[d] != (uint32_t)i)
				continue;
			{
				char path[512];
				size_t o = 0;

				for (int e = d; e < depth && o < sizeof(path); e++)
					o += snprintf(path + o, sizeof(path) - o, "%s -> ",
						      c->ld->macros[stack[e]]->name);
				if (o < sizeof(path))
					snprintf(path + o, sizeof(path) - o, "%s", a->value.s);
				cerr(c, &top->cond, a->pos.off, a->value.len,
				     "recursive macro '%s' (%s)", a->value.s, path);
			}
			return false;
		}
		if (depth >= SHK_MACRO_MAX_DEPTH) {
			cerr(c, &top->cond, a->pos.off, a->value.len,
			     "macros nested deeper than %d levels", SHK_MACRO_MAX_DEPTH);
			return false;
		}
		return check_cycles(c, i, stack, depth);
	}
	default:
		return true;
	}
}

static bool check_cycles(struct cctx *c, uint32_t mi, uint32_t *stack, int depth)
{
	struct mstate *m = &c->macros[mi];
	bool ok;

	if (m->checked)
		return m->state != M_BAD;
	if (!m->ast)
		return false;
	stack[depth] = mi;
	ok = cycle_walk(c, m->ast, stack, depth + 1);
	m->checked = true;
	if (!ok)
		m->state = M_BAD;
	return ok;
}

/* ---- condition compilation -------------------------------------------- */

struct cres {
	struct shk_fnode *fn;
	uint32_t size, depth;
};

static bool op_allowed(enum shk_ftype t, enum shk_op op)
{
	switch (t) {
	case SHK_FT_DYN:
		return true;
	case SHK_FT_STRING:
		return op != SHK_OP_LT && op != SHK_OP_LE && op != SHK_OP_GT && op != SHK_OP_GE;
	case SHK_FT_BYTEBUF:
		return op == SHK_OP_EQ || op == SHK_OP_NE || op == SHK_OP_CONTAINS ||
		       op == SHK_OP_ICONTAINS || op == SHK_OP_BCONTAINS ||
		       op == SHK_OP_STARTSWITH || op == SHK_OP_BSTARTSWITH ||
		       op == SHK_OP_ENDSWITH || op == SHK_OP_IN || op == SHK_OP_EXISTS;
	case SHK_FT_UINT64:
	case SHK_FT_INT64:
	case SHK_FT_PORT:
	case SHK_FT_RELTIME:
	case SHK_FT_ABSTIME:
		return op <= SHK_OP_GE || op == SHK_OP_IN || op == SHK_OP_INTERSECTS ||
		       op == SHK_OP_EXISTS;
	case SHK_FT_BOOL:
	case SHK_FT_IPADDR:
	case SHK_FT_IPNET:
		return op == SHK_OP_EQ || op == SHK_OP_NE || op == SHK_OP_IN ||
		       op == SHK_OP_EXISTS;
	case SHK_FT_STRLIST:
		return op == SHK_OP_EQ || op == SHK_OP_NE || op == SHK_OP_IN ||
		       op == SHK_OP_INTERSECTS || op == SHK_OP_EXISTS ||
		       op == SHK_OP_CONTAINS;
	default:
		return false;
	}
}

static bool is_numeric(enum shk_ftype t)
{
	return t == SHK_FT_UINT64 || t == SHK_FT_INT64 || t == SHK_FT_PORT ||
	       t == SHK_FT_RELTIME || t == SHK_FT_ABSTIME;
}

static bool is_textual(enum shk_ftype t)
{
	return t == SHK_FT_STRING || t == SHK_FT_BYTEBUF || t == SHK_FT_STRLIST ||
	       t == SHK_FT_DYN;
}

static const char *type_desc(const struct shk_fieldref *r)
{
	return shk_ftype_name(r->type);
}

/* Resolve a FIELD or XFORM node into a field reference. */
static int resolve_fieldref(struct cctx *c, const struct shk_ast *a,
			    const struct shk_text *t, struct shk_fieldref *ret)
{
	const struct shk_ast *chain[SHK_MAX_XFORMS + 1];
	const struct shk_field *f;
	const char *darg;
	size_t dlen;
	int n = 0;

	memset(ret, 0, sizeof(*ret));
	ret->index = -1;
	while (a->kind == SHK_AST_XFORM) {
		if (n >= SHK_MAX_XFORMS) {
			cerr(c, t, a->pos.off, a->span, "more than %d nested transformers",
			     SHK_MAX_XFORMS);
			return -EINVAL;
		}
		chain[n++] = a;
		a = a->xform.arg;
	}
	f = shk_field_resolve(a->field.name, a->field.name_len, &darg, &dlen);
	if (!f) {
		if (c->skip_unknown) {
			cdiag(c, SHK_DIAG_WARNING, t, a->pos.off, a->field.name_len,
			      "unknown field '%s': rule skipped (skip-if-unknown-filter)",
			      a->field.name);
			c->skipped = true;
		} else {
			cerr(c, t, a->pos.off, a->field.name_len, "unknown field '%s'",
			     a->field.name);
		}
		return -EINVAL;
	}
	ret->id = f->id;
	ret->type = f->type;
	if (darg) {
		ret->key = arena_strndup(c->a, darg, dlen);
		ret->key_len = dlen;
		if (!ret->key)
			return -ENOMEM;
	} else if (a->field.arg) {
		const char *s = a->field.arg;
		bool numeric = a->field.arg_len > 0 && !a->field.arg_quoted;

		for (uint32_t i = 0; i < a->field.arg_len && numeric; i++)
			numeric = isdigit((unsigned char)s[i]);
		if (!(f->flags & (SHK_FF_ARG_INDEX | SHK_FF_ARG_KEY))) {
			cerr(c, t, a->field.arg_pos.off, a->field.arg_len,
			     "field '%s' does not take an argument", f->name);
			return -EINVAL;
		}
		if (numeric && (f->flags & SHK_FF_ARG_INDEX)) {
			unsigned long v = strtoul(s, NULL, 10);

			if (v > INT32_MAX) {
				cerr(c, t, a->field.arg_pos.off, a->field.arg_len,
				     "index '%s' of field '%s' is too large", s, f->name);
				return -EINVAL;
			}
			ret->index = v;
		} else if (f->flags & SHK_FF_ARG_KEY) {
			ret->key = arena_strndup(c->a, s, a->field.arg_len);
			ret->key_len = a->field.arg_len;
			if (!ret->key)
				return -ENOMEM;
		} else {
			cerr(c, t, a->field.arg_pos.off, a->field.arg_len,
			     "field '%s' takes a numeric index, not '%s'", f->name, s);
			return -EINVAL;
		}
	} else if (f->flags & SHK_FF_ARG_REQUIRED) {
		cerr(c, t, a->pos.off, a->field.name_len, "field '%s' requires an argument",
		     f->name);
		return -EINVAL;
	}
	/* transformers, innermost first */
	for (int i = n - 1; i >= 0; i--) {
		enum shk_xform xf = chain[i]->xform.xf;

		if (xf == SHK_XF_VAL)
			continue;
		if (!is_textual(ret->type) ||
		    (xf != SHK_XF_LEN && ret->type == SHK_FT_STRLIST)) {
			cerr(c, t, chain[i]->pos.off, chain[i]->span,
			     "transformer '%s' cannot be applied to field '%s' (%s)",
			     shk_xform_name(xf), f->name, type_desc(ret));
			return -EINVAL;
		}
		ret->xform[ret->nxform++] = xf;
		ret->type = xf == SHK_XF_LEN ? SHK_FT_UINT64 : SHK_FT_STRING;
	}
	return 0;
}

static int parse_int(const char *s, enum shk_ftype type, int64_t *ri, uint64_t *ru)
{
	char *end;

	if (!*s)
		return -EINVAL;
	errno = 0;
	if (s[0] == '-') {
		long long v = strtoll(s, &end, 0);

		if (*end || errno || type != SHK_FT_INT64)
			return -EINVAL;
		*ri = v;
		*ru = (uint64_t)v;
		return 0;
	}
	{
		unsigned long long v = strtoull(s[0] == '+' ? s + 1 : s, &end, 0);

		if (*end || errno || (s[0] == '+' && s[1] == '-'))
			return -EINVAL;
		if (type == SHK_FT_PORT && v > 65535)
			return -ERANGE;
		if (type == SHK_FT_INT64 && v > INT64_MAX)
			return -ERANGE;
		*ri = (int64_t)v;
		*ru = v;
	}
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One literal of the check's type, into the scalar value fields of k. */
static int build_value(struct cctx *c, struct shk_check *k, const char *s,
		       uint32_t len, const struct shk_text *t, uint32_t off)
{
	enum shk_ftype ty = k->lhs.type;
	const struct shk_field *f = shk_field_by_id(k->lhs.id);

	k->text = arena_strndup(c->a, s, len);
	k->text_len = len;
	if (!k->text)
		return -ENOMEM;
	if (parse_int(k->text, SHK_FT_INT64, &k->num, &k->unum) == 0 ||
	    parse_int(k->text, SHK_FT_UINT64, &k->num, &k->unum) == 0)
		k->has_num = true;
	if (k->op == SHK_OP_BCONTAINS || k->op == SHK_OP_BSTARTSWITH) {
		char *b;

		if (len % 2) {
			cerr(c, t, off, len, "'%s' needs a hex string value, not '%s'",
			     shk_op_name(k->op), k->text);
			return -EINVAL;
		}
		b = arena_alloc(c->a, len / 2 + 1);
		if (!b)
			return -ENOMEM;
		for (uint32_t i = 0; i < len; i += 2) {
			int hi = hexval(s[i]), lo = hexval(s[i + 1]);

			if (hi < 0 || lo < 0) {
				cerr(c, t, off, len, "'%s' needs a hex string value, not '%s'",
				     shk_op_name(k->op), k->text);
				return -EINVAL;
			}
			b[i / 2] = hi << 4 | lo;
		}
		k->text = b;
		k->text_len = len / 2;
		return 0;
	}
	if (is_numeric(ty)) {
		int r = parse_int(k->text, ty, &k->num, &k->unum);

		if (r < 0) {
			cerr(c, t, off, len, "%s value '%s' for field '%s' (%s)",
			     r == -ERANGE ? "out of range" : "invalid numeric", k->text,
			     f->name, shk_ftype_name(ty));
			return -EINVAL;
		}
		k->has_num = true;
		return 0;
	}
	if (ty == SHK_FT_BOOL) {
		if (!strcasecmp(k->text, "true")) {
			k->b = true;
		} else if (!strcasecmp(k->text, "false")) {
			k->b = false;
		} else {
			cerr(c, t, off, len, "invalid bool value '%s' for field '%s' (true or false)",
			     k->text, f->name);
			return -EINVAL;
		}
		k->num = k->unum = k->b;
		return 0;
	}
	if (ty == SHK_FT_IPADDR || ty == SHK_FT_IPNET) {
		if (parse_ipnet(k->text, true, &k->net) < 0) {
			cerr(c, t, off, len, ty == SHK_FT_IPNET ?
					     "invalid CIDR '%s' for field '%s'" :
					     "invalid IP address '%s' for field '%s'",
			     k->text, f->name);
			return -EINVAL;
		}
		return 0;
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Gather the items of a list operand: literal items, with bare items that
 * name a list replaced by its items. */
static int gather_items(struct cctx *c, const struct shk_ast *rhs,
			const struct shk_text *t, struct item **ret, uint32_t *ret_n)
{
	const struct shk_ast *const *v;
	const struct shk_ast *one = rhs;
	uint32_t n, cap = 0;

	*ret = NULL;
	*ret_n = 0;
	if (rhs->kind == SHK_AST_LIST) {
		v = (const struct shk_ast *const *)rhs->kids.v;
		n = rhs->kids.n;
	} else {
		v = &one;
		n = 1;
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct shk_ast *it = v[i];
		int64_t li = it->value.quoted ? -1 : list_index(c, it->value.s, it->value.len);

		if (li >= 0) {
			if (resolve_list(c, li) < 0)
				goto nomem;
			c->lists[li].used = true;
			for (uint32_t j = 0; j < c->lists[li].n; j++) {
				struct item x = c->lists[li].items[j];

				x.off = it->pos.off;
				if (push_item(ret, ret_n, &cap, x) < 0)
					goto nomem;
			}
			continue;
		}
		if (rhs->kind != SHK_AST_LIST) {
			/* `x in name` must name a list */
			cerr(c, t, it->pos.off, it->value.len, "undefined list '%s'", it->value.s);
			free(*ret);
			*ret = NULL;
			return -EINVAL;
		}
		{
			struct item x = { .len = it->value.len, .quoted = it->value.quoted,
					  .off = it->pos.off };

			x.s = arena_strndup(c->a, it->value.s, it->value.len);
			if (!x.s || push_item(ret, ret_n, &cap, x) < 0)
				goto nomem;
		}
	}
	return 0;
nomem:
	free(*ret);
	*ret = NULL;
	return -ENOMEM;
}

static int build_set(struct cctx *c, struct shk_check *k, const struct shk_ast *rhs,
		     const struct shk_text *t)
{
	const struct shk_field *f = shk_field_by_id(k->lhs.id);
	enum shk_ftype ty = k->lhs.type;
	struct item *items;
	uint32_t n;
	int r;

	r = gather_items(c, rhs, t, &items, &n);
	if (r < 0)
		return r;
	r = -EINVAL;
	if ((f->flags & SHK_FF_EVTYPE) && k->lhs.nxform == 0 && k->op == SHK_OP_IN) {
		k->rhs = SHK_RHS_EVTYPES;
		k->evtypes = arena_alloc(c->a, sizeof(*k->evtypes));
		if (!k->evtypes)
			goto nomem;
		for (uint32_t i = 0; i < n; i++) {
			char name[128];
			int id;

			snprintf(name, sizeof(name), "%.*s", (int)items[i].len, items[i].s);
			id = shk_evtype_resolve(name);
			if (id >= 0)
				k->evtypes->w[id / 64] |= 1ull << (id % 64);
			else if (id == -ENOENT)
				cdiag(c, SHK_DIAG_WARNING, t, items[i].off, items[i].len,
				      "unknown event type '%s'", name);
		}
		free(items);
		return 0;
	}
	if (k->op == SHK_OP_PMATCH) {
		k->rhs = SHK_RHS_PATHS;
		k->paths.v = arena_alloc(c->a, (n + 1) * sizeof(*k->paths.v));
		k->paths.len = arena_alloc(c->a, (n + 1) * sizeof(*k->paths.len));
		if (!k->paths.v || !k->paths.len)
			goto nomem;
		for (uint32_t i = 0; i < n; i++) {
			uint32_t l = items[i].len;

			while (l > 1 && items[i].s[l - 1] == '/')
				l--;
			k->paths.v[i] = arena_strndup(c->a, items[i].s, l);
			if (!k->paths.v[i])
				goto nomem;
		}
		qsort(k->paths.v, n, sizeof(*k->paths.v), cmp_path);
		for (uint32_t i = 0; i < n; i++)
			k->paths.len[i] = strlen(k->paths.v[i]);
		k->paths.n = n;
		free(items);
		return 0;
	}
	if (is_numeric(ty) || ty == SHK_FT_BOOL) {
		k->rhs = SHK_RHS_NUMSET;
		k->nums.v = arena_alloc(c->a, (n + 1) * sizeof(*k->nums.v));
		if (!k->nums.v)
			goto nomem;
		for (uint32_t i = 0; i < n; i++) {
			struct shk_check tmp = *k;

			tmp.op = SHK_OP_EQ;
			if (build_value(c, &tmp, items[i].s, items[i].len, t, items[i].off) < 0)
				goto bad;
			k->nums.v[i] = tmp.unum;
		}
		qsort(k->nums.v, n, sizeof(*k->nums.v), ty == SHK_FT_INT64 ? cmp_i64 : cmp_u64);
		k->nums.n = n;
		free(items);
		return 0;
	}
	if (ty == SHK_FT_IPADDR || ty == SHK_FT_IPNET) {
		k->rhs = SHK_RHS_NETSET;
		k->nets.v = arena_alloc(c->a, (n + 1) * sizeof(*k->nets.v));
		if (!k->nets.v)
			goto nomem;
		for (uint32_t i = 0; i < n; i++) {
			struct shk_check tmp = *k;

			if (build_value(c, &tmp, items[i].s, items[i].len, t, items[i].off) < 0)
				goto bad;
			k->nets.v[i] = tmp.net;
		}
		k->nets.n = n;
		free(items);
		return 0;
	}
	{
		const char **v = malloc((n + 1) * sizeof(*v));
		uint32_t *lens = malloc((n + 1) * sizeof(*lens));

		if (!v || !lens) {
			free(v);
			free(lens);
			goto nomem;
		}
		for (uint32_t i = 0; i < n; i++) {
			v[i] = items[i].s;
			lens[i] = items[i].len;
		}
		k->rhs = SHK_RHS_STRSET;
		k->strset = strset_build(c->a, v, lens, n);
		free(v);
		free(lens);
		if (!k->strset)
			goto nomem;
	}
	free(items);
	return 0;
nomem:
	r = -ENOMEM;
bad:
	free(items);
	return r;
}

static int compile_regex(struct cctx *c, struct shk_check *k, const struct shk_ast *rhs,
			 const struct shk_text *t)
{
	char *pat = k->op == SHK_OP_REGEX ? strdup(k->text) : glob_to_ere(k->text, k->text_len);
	regex_t *re;
	int r;

	if (!pat)
		return -ENOMEM;
	re = arena_alloc(c->a, sizeof(*re));
	if (!re || (c->a->nres == c->a->capres &&
		    !(c->a->res = reallocarray(c->a->res, c->a->capres = c->a->capres * 2 + 8,
					       sizeof(*c->a->res))))) {
		free(pat);
		return -ENOMEM;
	}
	r = regcomp(re, pat, REG_EXTENDED | REG_NOSUB |
			     (k->op == SHK_OP_IGLOB ? REG_ICASE : 0));
	free(pat);
	if (r) {
		char msg[128];

		regerror(r, re, msg, sizeof(msg));
		cerr(c, t, rhs->pos.off, rhs->span, "invalid %s '%s': %s",
		     k->op == SHK_OP_REGEX ? "regex" : "glob pattern", k->text, msg);
		return -EINVAL;
	}
	c->a->res[c->a->nres++] = re;
	k->rhs = SHK_RHS_REGEX;
	k->re = re;
	return 0;
}

static int compile_check(struct cctx *c, const struct shk_ast *a,
			 const struct shk_text *t, struct shk_fnode **ret)
{
	struct shk_fnode *fn = arena_alloc(c->a, sizeof(*fn));
	struct shk_check *k = arena_alloc(c->a, sizeof(*k));
	const struct shk_ast *rhs = a->check.rhs;
	const struct shk_field *f;
	int r;

	if (!fn || !k)
		return -ENOMEM;
	fn->kind = SHK_FN_CHECK;
	fn->check = k;
	k->op = a->check.op;
	k->loc = shk_text_locate(t, a->pos.off);
	r = resolve_fieldref(c, a->check.lhs, t, &k->lhs);
	if (r < 0)
		return r;
	f = shk_field_by_id(k->lhs.id);
	if (!op_allowed(k->lhs.type, k->op)) {
		cerr(c, t, a->check.op_pos.off, strlen(shk_op_name(k->op)),
		     "operator '%s' cannot be used with field '%s' (%s)",
		     shk_op_name(k->op), f->name, type_desc(&k->lhs));
		return -EINVAL;
	}
	if (k->op == SHK_OP_EXISTS) {
		k->rhs = SHK_RHS_NONE;
		*ret = fn;
		return 0;
	}
	if (rhs->kind == SHK_AST_XFORM) {
		if (k->op == SHK_OP_GLOB || k->op == SHK_OP_IGLOB || k->op == SHK_OP_REGEX ||
		    k->op == SHK_OP_PMATCH || k->op == SHK_OP_BCONTAINS ||
		    k->op == SHK_OP_BSTARTSWITH) {
			cerr(c, t, rhs->pos.off, rhs->span,
			     "operator '%s' needs a literal value, not a field", shk_op_name(k->op));
			return -EINVAL;
		}
		r = resolve_fieldref(c, rhs, t, &k->field);
		if (r < 0)
			return r;
		if (!(is_textual(k->lhs.type) && is_textual(k->field.type)) &&
		    !(is_numeric(k->lhs.type) && is_numeric(k->field.type)) &&
		    k->lhs.type != k->field.type && k->lhs.type != SHK_FT_DYN &&
		    k->field.type != SHK_FT_DYN) {
			cerr(c, t, rhs->pos.off, rhs->span,
			     "cannot compare field '%s' (%s) with field '%s' (%s)", f->name,
			     type_desc(&k->lhs), shk_field_by_id(k->field.id)->name,
			     type_desc(&k->field));
			return -EINVAL;
		}
		k->rhs = SHK_RHS_FIELD;
		*ret = fn;
		return 0;
	}
	if (shk_op_is_list(k->op)) {
		r = build_set(c, k, rhs, t);
		if (r < 0)
			return r;
		*ret = fn;
		return 0;
	}
	/* one literal */
	if ((f->flags & SHK_FF_EVTYPE) && k->lhs.nxform == 0 &&
	    (k->op == SHK_OP_EQ || k->op == SHK_OP_NE)) {
		int id = shk_evtype_resolve(rhs->value.s);

		k->text = arena_strndup(c->a, rhs->value.s, rhs->value.len);
		k->text_len = rhs->value.len;
		k->evtypes = arena_alloc(c->a, sizeof(*k->evtypes));
		if (!k->text || !k->evtypes)
			return -ENOMEM;
		if (id >= 0)
			k->evtypes->w[id / 64] |= 1ull << (id % 64);
		else if (id == -ENOENT)
			cdiag(c, SHK_DIAG_WARNING, t, rhs->pos.off, rhs->span,
			      "unknown event type '%s'", rhs->value.s);
		k->rhs = SHK_RHS_EVTYPES;
		*ret = fn;
		return 0;
	}
	r = build_value(c, k, rhs->value.s, rhs->value.len, t, rhs->pos.off);
	if (r < 0)
		return r;
	k->rhs = SHK_RHS_VALUE;
	if (k->op == SHK_OP_GLOB || k->op == SHK_OP_IGLOB || k->op == SHK_OP_REGEX) {
		r = compile_regex(c, k, rhs, t);
		if (r < 0)
			return r;
	}
	*ret = fn;
	return 0;
}

static int compile_macro(struct cctx *c, uint32_t mi, struct cres *ret);

static int compile_node(struct cctx *c, const struct shk_ast *a,
			const struct shk_text *t, struct cres *ret)
{
	struct shk_fnode *fn;
	struct cres k;
	int r = 0;

	memset(ret, 0, sizeof(*ret));
	switch (a->kind) {
	case SHK_AST_AND:
	case SHK_AST_OR:
	case SHK_AST_NOT: {
		uint32_t n = a->kind == SHK_AST_NOT ? 1 : a->kids.n;

		fn = arena_alloc(c->a, sizeof(*fn));
		if (!fn)
			return -ENOMEM;
		fn->kind = a->kind == SHK_AST_AND ? SHK_FN_AND :
			   a->kind == SHK_AST_OR ? SHK_FN_OR : SHK_FN_NOT;
		fn->n = n;
		fn->kids = arena_alloc(c->a, n * sizeof(*fn->kids));
		if (!fn->kids)
			return -ENOMEM;
		ret->size = 1;
		for (uint32_t i = 0; i < n; i++) {
			int kr = compile_node(c, a->kind == SHK_AST_NOT ? a->kid : a->kids.v[i],
					      t, &k);

			if (kr == -ENOMEM)
				return kr;
			if (kr < 0) {
				r = kr; /* keep going: report every error */
				continue;
			}
			fn->kids[i] = k.fn;
			ret->size = ret->size + k.size > SHK_COND_MAX_NODES ?
					    SHK_COND_MAX_NODES + 1 : ret->size + k.size;
			if (k.depth + 1 > ret->depth)
				ret->depth = k.depth + 1;
		}
		ret->fn = fn;
		return r;
	}
	case SHK_AST_CHECK:
		r = compile_check(c, a, t, &ret->fn);
		ret->size = 1;
		ret->depth = 1;
		return r;
	case SHK_AST_MACRO: {
		int64_t mi = macro_index(c, a->value.s, a->value.len);

		if (mi < 0) {
			cerr(c, t, a->pos.off, a->value.len, "undefined macro '%s'", a->value.s);
			return -EINVAL;
		}
		c->macros[mi].used = true;
		return compile_macro(c, mi, ret);
	}
	default:
		cerr(c, t, a->pos.off, a->span, "unexpected expression");
		return -EINVAL;
	}
}

static int compile_macro(struct cctx *c, uint32_t mi, struct cres *ret)
{
	struct mstate *m = &c->macros[mi];
	const struct shk_macro_def *d = c->ld->macros[mi];
	int r;

	switch (m->state) {
	case M_DONE:
		ret->fn = m->fn;
		ret->size = m->size;
		ret->depth = m->depth;
		return 0;
	case M_PARSED:
		break;
	default:
		return -EINVAL; /* reported where it failed */
	}
	m->state = M_COMPILING;
	r = compile_node(c, m->ast, &d->cond, ret);
	if (r < 0) {
		m->state = M_BAD;
		return r;
	}
	m->state = M_DONE;
	m->fn = ret->fn;
	m->size = ret->size;
	m->depth = ret->depth;
	return 0;
}

/* ---- exceptions -------------------------------------------------------- */

static int tput(struct shk_text *t, const char *s)
{
	return shk_text_append(t, s, strlen(s), NULL);
}

static int tnode(struct shk_text *t, const struct shk_ynode *n)
{
	return shk_text_append(t, n->str, n->len, n);
}

/* Falco's quote_item: values with a space are quoted unless they already
 * start with a quote. Unlike Falco, embedded quotes are escaped. */
static int tvalue(struct shk_text *t, const struct shk_ynode *n)
{
	struct shk_text seg = { 0 };
	int r;

	if (!memchr(n->str, ' ', n->len) || n->str[0] == '"' || n->str[0] == '\'')
		return tnode(t, n);
	if (!strpbrk(n->str, "\"\\")) {
		if (tput(t, "\"") < 0 || tnode(t, n) < 0 || tput(t, "\"") < 0)
			return -ENOMEM;
		return 0;
	}
	/* escaped copy, mapped to the scalar as one segment */
	for (uint32_t i = 0; i < n->len; i++) {
		char e[3] = { '\\', n->str[i], 0 };

		r = shk_text_append(&seg, n->str[i] == '"' || n->str[i] == '\\' ? e : e + 1,
				    n->str[i] == '"' || n->str[i] == '\\' ? 2 : 1, NULL);
		if (r < 0)
			goto out;
	}
	r = tput(t, "\"");
	if (!r)
		r = shk_text_append(t, seg.s, seg.len, n);
	if (!r)
		r = tput(t, "\"");
out:
	shk_text_fini(&seg);
	return r;
}

static int tlistval(struct shk_text *t, const struct shk_ynode *v)
{
	if (v->kind == SHK_Y_SEQ) {
		if (tput(t, "(") < 0)
			return -ENOMEM;
		for (uint32_t i = 0; i < v->n; i++)
			if ((i && tput(t, ", ") < 0) || tvalue(t, &v->kids[i]) < 0)
				return -ENOMEM;
		return tput(t, ")");
	}
	return tvalue(t, v);
}

/* Falco's build_rule_exception_infos: "(cond) and not (...)" per exception. */
static int build_condition(const struct shk_rule_def *r, struct shk_text *t)
{
	if (!r->nexceptions)
		return shk_text_append_text(t, &r->cond);
	if (tput(t, "(") < 0 || shk_text_append_text(t, &r->cond) < 0 || tput(t, ")") < 0)
		return -ENOMEM;
	for (uint32_t e = 0; e < r->nexceptions; e++) {
		const struct shk_exception_def *ex = &r->exceptions[e];
		const struct shk_ynode *f = ex->fields, *cmp = ex->comps;
		bool comps = cmp && !shk_ynode_is_null(cmp);

		if (!ex->nvalues)
			continue;
		if (tput(t, " and not (") < 0)
			return -ENOMEM;
		if (f->kind != SHK_Y_SEQ) {
			if (tnode(t, f) < 0 || tput(t, " ") < 0 ||
			    (comps ? tnode(t, cmp) : tput(t, "in")) < 0 || tput(t, " (") < 0)
				return -ENOMEM;
			for (uint32_t i = 0; i < ex->nvalues; i++)
				if ((i && tput(t, ", ") < 0) || tvalue(t, ex->values[i]) < 0)
					return -ENOMEM;
			if (tput(t, "))") < 0)
				return -ENOMEM;
			continue;
		}
		for (uint32_t i = 0; i < ex->nvalues; i++) {
			const struct shk_ynode *vals = ex->values[i];

			if ((i && tput(t, " or ") < 0) || tput(t, "(") < 0)
				return -ENOMEM;
			for (uint32_t k = 0; k < f->n && k < vals->n; k++) {
				const struct shk_ynode *v = &vals->kids[k];
				const char *op = comps ? cmp->kids[k].str : "=";
				int opi = shk_op_from_name(op, strlen(op));

				if ((k && tput(t, " and ") < 0) || tnode(t, &f->kids[k]) < 0 ||
				    tput(t, " ") < 0 ||
				    (comps ? tnode(t, &cmp->kids[k]) : tput(t, "=")) < 0 ||
				    tput(t, " ") < 0)
					return -ENOMEM;
				if (v->kind == SHK_Y_SEQ) {
					if (tlistval(t, v) < 0)
						return -ENOMEM;
				} else if (opi >= 0 && shk_op_is_list(opi) && v->str[0] != '(') {
					if (tput(t, "(") < 0 || tnode(t, v) < 0 || tput(t, ")") < 0)
						return -ENOMEM;
				} else if (tvalue(t, v) < 0) {
					return -ENOMEM;
				}
			}
			if (tput(t, ")") < 0)
				return -ENOMEM;
		}
		if (tput(t, ")") < 0)
			return -ENOMEM;
	}
	return 0;
}

/* ---- event types of a condition --------------------------------------- */

/* For each node: pos = types for which it can be true, neg = types for
 * which it can be false. Checks on anything but evt.type can be both for
 * every type. This is Falco's evttype analysis, sound under negation. */
static void evt_sets(const struct shk_fnode *n, struct shk_evtset *pos,
		     struct shk_evtset *neg)
{
	struct shk_evtset p, q;

	switch (n->kind) {
	case SHK_FN_CHECK: {
		const struct shk_check *k = n->check;

		evt_all(pos);
		evt_all(neg);
		if (k->rhs != SHK_RHS_EVTYPES)
			return;
		if (k->op == SHK_OP_NE) {
			for (size_t i = 0; i < SHK_EVTYPE_MAX / 64; i++)
				pos->w[i] = ~k->evtypes->w[i];
			*neg = *k->evtypes;
		} else {
			*pos = *k->evtypes;
			for (size_t i = 0; i < SHK_EVTYPE_MAX / 64; i++)
				neg->w[i] = ~k->evtypes->w[i];
		}
		return;
	}
	case SHK_FN_NOT:
		evt_sets(n->kids[0], neg, pos);
		return;
	case SHK_FN_AND:
	case SHK_FN_OR: {
		bool and = n->kind == SHK_FN_AND;

		if (and) {
			evt_all(pos);
			memset(neg, 0, sizeof(*neg));
		} else {
			memset(pos, 0, sizeof(*pos));
			evt_all(neg);
		}
		for (uint32_t i = 0; i < n->n; i++) {
			evt_sets(n->kids[i], &p, &q);
			for (size_t w = 0; w < SHK_EVTYPE_MAX / 64; w++) {
				if (and) {
					pos->w[w] &= p.w[w];
					neg->w[w] |= q.w[w];
				} else {
					pos->w[w] |= p.w[w];
					neg->w[w] &= q.w[w];
				}
			}
		}
		return;
	}
	}
}

/* ---- rendering --------------------------------------------------------- */

struct sbuf {
	char *buf;
	size_t size, len;
};

static void __attribute__((format(printf, 2, 3)))
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	size_t room = b->len < b->size ? b->size - b->len : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? b->buf + b->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len += n;
}

static void fmt_ref(struct sbuf *b, const struct shk_fieldref *r)
{
	for (int i = r->nxform - 1; i >= 0; i--)
		sb_printf(b, "%s(", shk_xform_name(r->xform[i]));
	sb_printf(b, "%s", shk_field_by_id(r->id)->name);
	if (r->index >= 0)
		sb_printf(b, "[%d]", r->index);
	else if (r->key)
		sb_printf(b, "[%s]", r->key);
	for (int i = 0; i < r->nxform; i++)
		sb_printf(b, ")");
}

static void fmt_node(struct sbuf *b, const struct shk_fnode *n, int depth)
{
	if (depth > SHK_COND_MAX_DEPTH) {
		sb_printf(b, "...");
		return;
	}
	switch (n->kind) {
	case SHK_FN_AND:
	case SHK_FN_OR:
	case SHK_FN_NOT:
		sb_printf(b, "(%s", n->kind == SHK_FN_AND ? "and" : n->kind == SHK_FN_OR ? "or" : "not");
		for (uint32_t i = 0; i < n->n; i++) {
			sb_printf(b, " ");
			fmt_node(b, n->kids[i], depth + 1);
		}
		sb_printf(b, ")");
		return;
	case SHK_FN_CHECK:
		break;
	}
	{
		const struct shk_check *k = n->check;

		sb_printf(b, "(%s ", shk_op_name(k->op));
		fmt_ref(b, &k->lhs);
		switch (k->rhs) {
		case SHK_RHS_NONE:
			break;
		case SHK_RHS_VALUE:
		case SHK_RHS_REGEX:
			sb_printf(b, " \"%.*s\"", (int)k->text_len, k->text);
			break;
		case SHK_RHS_FIELD:
			sb_printf(b, " ");
			fmt_ref(b, &k->field);
			break;
		case SHK_RHS_STRSET:
			sb_printf(b, " {%u strings}", k->strset->n);
			break;
		case SHK_RHS_NUMSET:
			sb_printf(b, " {%u numbers}", k->nums.n);
			break;
		case SHK_RHS_NETSET:
			sb_printf(b, " {%u networks}", k->nets.n);
			break;
		case SHK_RHS_PATHS:
			sb_printf(b, " {%u paths}", k->paths.n);
			break;
		case SHK_RHS_EVTYPES:
			sb_printf(b, " {");
			for (unsigned i = 0, first = 1; i < SHK_EVTYPE_MAX; i++) {
				char name[64];

				if (!shk_evtset_has(k->evtypes, i))
					continue;
				if (shk_evtype_name(i, name, sizeof(name)) < 0)
					snprintf(name, sizeof(name), "#%u", i);
				sb_printf(b, "%s%s", first ? "" : " ", name);
				first = 0;
			}
			sb_printf(b, "}");
			break;
		}
		sb_printf(b, ")");
	}
}

int shk_fnode_format(const struct shk_fnode *n, char *buf, size_t size)
{
	struct sbuf b = { .buf = buf, .size = size };

	if (size)
		buf[0] = '\0';
	if (n)
		fmt_node(&b, n, 0);
	return (int)b.len;
}

/* ---- the ruleset ------------------------------------------------------- */

static int compile_rule(struct cctx *c, const struct shk_rule_def *d, struct shk_rule *out)
{
	struct shk_text t = { 0 };
	struct shk_ast *ast = NULL;
	struct shk_evtset neg;
	struct cres res;
	int r;

	c->rule = d;
	c->skip_unknown = d->skip_if_unknown_filter;
	c->skipped = false;
	r = build_condition(d, &t);
	if (r < 0)
		goto out;
	r = parse_def(c, &t, &ast);
	if (r < 0)
		goto out;
	if (!scan_refs(c, ast, &t)) {
		r = -EINVAL;
		goto out;
	}
	r = compile_node(c, ast, &t, &res);
	if (r < 0)
		goto out;
	if (res.size > SHK_COND_MAX_NODES || res.depth > SHK_COND_MAX_DEPTH) {
		cerr(c, &t, 0, 0, "condition too large after macro expansion (more than %d checks or %d levels)",
		     SHK_COND_MAX_NODES, SHK_COND_MAX_DEPTH);
		r = -EINVAL;
		goto out;
	}
	memset(out, 0, sizeof(*out));
	out->name = d->name;
	out->desc = d->desc.s;
	out->output = d->output.s;
	out->source = d->source;
	out->priority = d->priority;
	out->tags = d->tags;
	out->ntags = d->ntags;
	out->enabled = d->enabled;
	out->loc = d->loc;
	out->filter = res.fn;
	out->nnodes = res.size;
	out->actions = d->actions;
	out->nactions = d->nactions;
	out->mode = d->mode;
	out->def = d;
	evt_sets(res.fn, &out->evtypes, &neg);
	out->all_evtypes = evt_is_all(&out->evtypes);
	/* Falco's LOAD_NO_EVTTYPE warning */
	if (d->warn_evttypes && (out->all_evtypes || evt_count(&out->evtypes) > 100))
		shk_diags_add(&c->ld->diags, SHK_DIAG_WARNING, &d->loc, d->name, strlen(d->name),
			      "rule '%s' matches too many evt.type values; it is evaluated for %s",
			      d->name, out->all_evtypes ? "every event" :
			      "more than 100 event types");
out:
	shk_ast_free(ast);
	shk_text_fini(&t);
	return r;
}

static int build_index(struct shk_ruleset *rs)
{
	uint32_t total = 0, *cnt;

	rs->evt_off = calloc(SHK_EVTYPE_MAX + 1, sizeof(*rs->evt_off));
	cnt = calloc(SHK_EVTYPE_MAX, sizeof(*cnt));
	if (!rs->evt_off || !cnt) {
		free(cnt);
		return -ENOMEM;
	}
	for (uint32_t r = 0; r < rs->nrules; r++) {
		const struct shk_rule *ru = &rs->rules[r];

		if (!ru->enabled)
			continue;
		for (unsigned e = 0; e < SHK_EVTYPE_MAX; e++)
			if (shk_evtset_has(&ru->evtypes, e)) {
				cnt[e]++;
				total++;
				rs->interest.w[e / 64] |= 1ull << (e % 64);
			}
	}
	for (unsigned e = 0; e < SHK_EVTYPE_MAX; e++)
		rs->evt_off[e + 1] = rs->evt_off[e] + cnt[e];
	rs->evt_rules = malloc((total + 1) * sizeof(*rs->evt_rules));
	if (!rs->evt_rules) {
		free(cnt);
		return -ENOMEM;
	}
	memset(cnt, 0, SHK_EVTYPE_MAX * sizeof(*cnt));
	/* rules with explicit types first, then the catch-all ones, each in
	 * load order, so output order matches Falco's for typed rules */
	for (int pass = 0; pass < 2; pass++)
		for (uint32_t r = 0; r < rs->nrules; r++) {
			const struct shk_rule *ru = &rs->rules[r];

			if (!ru->enabled || ru->all_evtypes != (pass == 1))
				continue;
			for (unsigned e = 0; e < SHK_EVTYPE_MAX; e++)
				if (shk_evtset_has(&ru->evtypes, e))
					rs->evt_rules[rs->evt_off[e] + cnt[e]++] = r;
		}
	free(cnt);
	return 0;
}

struct shk_ruleset *shk_ruleset_compile(struct shk_loader *ld)
{
	struct shk_ruleset *rs;
	struct cctx c = { .ld = ld };
	uint32_t *stack = NULL;
	int r = 0;

	if (!ld) {
		errno = EINVAL;
		return NULL;
	}
	rs = calloc(1, sizeof(*rs));
	if (!rs) {
		shk_loader_free(ld);
		errno = ENOMEM;
		return NULL;
	}
	rs->loader = ld;
	rs->arena = calloc(1, sizeof(*rs->arena));
	c.a = rs->arena;
	c.lists = calloc(ld->nlists + 1, sizeof(*c.lists));
	c.macros = calloc(ld->nmacros + 1, sizeof(*c.macros));
	rs->rules = calloc(ld->nrules + 1, sizeof(*rs->rules));
	stack = calloc(SHK_MACRO_MAX_DEPTH + 1, sizeof(*stack));
	if (!rs->arena || !c.lists || !c.macros || !rs->rules || !stack)
		goto nomem;

	for (uint32_t i = 0; i < ld->nlists; i++)
		if (resolve_list(&c, i) < 0)
			goto nomem;
	/* every macro is parsed and its references checked, used or not */
	for (uint32_t i = 0; i < ld->nmacros; i++) {
		r = parse_def(&c, &ld->macros[i]->cond, &c.macros[i].ast);
		if (r == -ENOMEM)
			goto nomem;
		c.macros[i].state = r < 0 ? M_BAD : M_PARSED;
	}
	for (uint32_t i = 0; i < ld->nmacros; i++)
		if (c.macros[i].ast && !scan_refs(&c, c.macros[i].ast, &ld->macros[i]->cond))
			c.macros[i].state = M_BAD;
	for (uint32_t i = 0; i < ld->nmacros; i++)
		if (c.macros[i].ast)
			check_cycles(&c, i, stack, 0);
	if (c.nomem)
		goto nomem;

	for (uint32_t i = 0; i < ld->nrules; i++) {
		const struct shk_rule_def *d = ld->rules[i];

		if (!d->known_source) {
			rs->nskipped++;
			continue;
		}
		r = compile_rule(&c, d, &rs->rules[rs->nrules]);
		if (r == -ENOMEM || c.nomem)
			goto nomem;
		if (r < 0) {
			if (c.skipped)
				rs->nskipped++;
			else
				rs->nfailed++;
			continue;
		}
		rs->rules[rs->nrules].id = rs->nrules;
		rs->nrules++;
	}
	for (uint32_t i = 0; i < ld->nmacros; i++)
		if (!c.macros[i].used)
			shk_diags_add(&ld->diags, SHK_DIAG_WARNING, &ld->macros[i]->loc,
				      ld->macros[i]->name, strlen(ld->macros[i]->name),
				      "macro '%s' not referred to by any other rule/macro",
				      ld->macros[i]->name);
	for (uint32_t i = 0; i < ld->nlists; i++)
		if (!c.lists[i].used)
			shk_diags_add(&ld->diags, SHK_DIAG_WARNING, &ld->lists[i]->loc,
				      ld->lists[i]->name, strlen(ld->lists[i]->name),
				      "list '%s' not referred to by any other rule/macro/list",
				      ld->lists[i]->name);
	if (build_index(rs) < 0)
		goto nomem;
	rs->plans = shk_plans_build(rs);
	if (!rs->plans)
		goto nomem;
	goto out;
nomem:
	shk_ruleset_free(rs);
	rs = NULL;
	errno = ENOMEM;
out:
	for (uint32_t i = 0; c.lists && i < ld->nlists; i++)
		free(c.lists[i].items);
	free(c.lists);
	for (uint32_t i = 0; c.macros && i < ld->nmacros; i++)
		shk_ast_free(c.macros[i].ast);
	free(c.macros);
	free(stack);
	return rs;
}

void shk_ruleset_free(struct shk_ruleset *rs)
{
	if (!rs)
		return;
	shk_plans_free(rs->plans);
	arena_free(rs->arena);
	free(rs->rules);
	free(rs->evt_off);
	free(rs->evt_rules);
	shk_loader_free(rs->loader);
	free(rs);
}

struct shk_diags *shk_ruleset_diags(struct shk_ruleset *rs)
{
	return &rs->loader->diags;
}

const struct shk_rule *shk_ruleset_find(const struct shk_ruleset *rs,
					const char *name)
{
	for (uint32_t i = 0; i < rs->nrules; i++)
		if (!strcmp(rs->rules[i].name, name))
			return &rs->rules[i];
	return NULL;
}

const uint32_t *shk_ruleset_rules_for(const struct shk_ruleset *rs,
				      unsigned evtype, uint32_t *ret_n)
{
	if (evtype >= SHK_EVTYPE_MAX || !rs->evt_off) {
		*ret_n = 0;
		return NULL;
	}
	*ret_n = rs->evt_off[evtype + 1] - rs->evt_off[evtype];
	return rs->evt_rules + rs->evt_off[evtype];
}
