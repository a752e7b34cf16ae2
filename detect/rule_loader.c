// SPDX-License-Identifier: Apache-2.0
/*
 * Rules file loader (see rule_loader.h). Stage 1 of rule loading: YAML to
 * definitions. The semantics follow Falco's rule loader (reader and
 * collector): definition order, append, override append/replace, enabled-
 * only items, exceptions with default comps, required versions. Unlike
 * Falco, a bad item does not stop the file: the next item is still read, so
 * one run reports every broken item.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "hash.h"
#include "fields.h"
#include "rule_loader.h"

/* ---- small containers -------------------------------------------------- */

static int grow(void **v, uint32_t n, uint32_t *cap, size_t elem)
{
	void *nv;
	uint32_t ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	if (ncap <= n)
		return -ENOMEM;
	nv = realloc(*v, (size_t)ncap * elem);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = ncap;
	return 0;
}

/* Name -> index map (open addressing, FNV-1a). Names are borrowed. */
struct shk_name_index {
	struct {
		const char *name;
		uint32_t len, val;
	} *slots;
	uint32_t cap, n;
};

static int64_t idx_find(const struct shk_name_index *x, const char *name,
			size_t len)
{
	uint32_t i;

	if (!x || !x->cap)
		return -1;
	for (i = shk_hash_bytes(name, len) & (x->cap - 1);; i = (i + 1) & (x->cap - 1)) {
		if (!x->slots[i].name)
			return -1;
		if (x->slots[i].len == len && !memcmp(x->slots[i].name, name, len))
			return x->slots[i].val;
	}
}

static int idx_put(struct shk_name_index *x, const char *name, size_t len,
		   uint32_t val)
{
	uint32_t i;

	if ((x->n + 1) * 2 > x->cap) {
		struct shk_name_index nx = { .cap = x->cap ? x->cap * 2 : 64 };

		nx.slots = calloc(nx.cap, sizeof(*nx.slots));
		if (!nx.slots)
			return -ENOMEM;
		for (uint32_t j = 0; j < x->cap; j++)
			if (x->slots[j].name)
				idx_put(&nx, x->slots[j].name, x->slots[j].len,
					x->slots[j].val);
		free(x->slots);
		*x = nx;
	}
	for (i = shk_hash_bytes(name, len) & (x->cap - 1);; i = (i + 1) & (x->cap - 1)) {
		if (!x->slots[i].name) {
			x->slots[i].name = name;
			x->slots[i].len = len;
			x->slots[i].val = val;
			x->n++;
			return 0;
		}
		if (x->slots[i].len == len && !memcmp(x->slots[i].name, name, len)) {
			x->slots[i].val = val;
			return 0;
		}
	}
}

static void idx_free(struct shk_name_index *x)
{
	if (!x)
		return;
	free(x->slots);
	free(x);
}

/* ---- texts ------------------------------------------------------------- */

int shk_text_append(struct shk_text *t, const char *s, size_t len,
		    const struct shk_ynode *node)
{
	char *ns;

	if ((size_t)t->len + len >= UINT32_MAX / 2)
		return -ENOMEM;
	ns = realloc(t->s, t->len + len + 1);
	if (!ns)
		return -ENOMEM;
	t->s = ns;
	if (node) {
		struct shk_text_seg *v = realloc(t->segs, (t->nsegs + 1) * sizeof(*v));

		if (!v)
			return -ENOMEM;
		t->segs = v;
		v[t->nsegs].off = t->len;
		v[t->nsegs].len = len;
		v[t->nsegs].node = node;
		t->nsegs++;
	}
	memcpy(t->s + t->len, s, len);
	t->len += len;
	t->s[t->len] = '\0';
	return 0;
}

int shk_text_append_text(struct shk_text *t, const struct shk_text *src)
{
	uint32_t done = 0;

	/* copy segment by segment so each keeps its node */
	for (uint32_t i = 0; i < src->nsegs; i++) {
		const struct shk_text_seg *sg = &src->segs[i];

		if (sg->off > done &&
		    shk_text_append(t, src->s + done, sg->off - done, NULL) < 0)
			return -ENOMEM;
		if (shk_text_append(t, src->s + sg->off, sg->len, sg->node) < 0)
			return -ENOMEM;
		done = sg->off + sg->len;
	}
	if (src->len > done &&
	    shk_text_append(t, src->s + done, src->len - done, NULL) < 0)
		return -ENOMEM;
	return 0;
}

void shk_text_fini(struct shk_text *t)
{
	if (!t)
		return;
	free(t->s);
	free(t->segs);
	memset(t, 0, sizeof(*t));
}

static int text_set(struct shk_text *t, const struct shk_ynode *n)
{
	shk_text_fini(t);
	return shk_text_append(t, n->str, n->len, n);
}

/* Falco joins appended conditions, outputs and descriptions with a space. */
static int text_join(struct shk_text *t, const struct shk_ynode *n)
{
	if (t->len && shk_text_append(t, " ", 1, NULL) < 0)
		return -ENOMEM;
	return shk_text_append(t, n->str, n->len, n);
}

/* ---- source positions -------------------------------------------------- */

static size_t utf8_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0)
		return 2;
	if ((c & 0xf0) == 0xe0)
		return 3;
	if ((c & 0xf8) == 0xf0)
		return 4;
	return 1;
}

/* The line breaks libyaml counts: \r\n, \r, \n, NEL, LS, PS. Returns the
 * break's length at i, or 0. */
static size_t line_break_at(const char *b, size_t len, size_t i)
{
	if (b[i] == '\n')
		return 1;
	if (b[i] == '\r')
		return i + 1 < len && b[i + 1] == '\n' ? 2 : 1;
	if ((unsigned char)b[i] == 0xc2 && i + 1 < len &&
	    (unsigned char)b[i + 1] == 0x85)
		return 2;
	if ((unsigned char)b[i] == 0xe2 && i + 2 < len &&
	    (unsigned char)b[i + 1] == 0x80 &&
	    ((unsigned char)b[i + 2] == 0xa8 || (unsigned char)b[i + 2] == 0xa9))
		return 3;
	return 0;
}

static int build_lines(struct shk_srcfile *f, size_t start)
{
	uint32_t cap = 64;

	f->lines = malloc(cap * sizeof(*f->lines));
	if (!f->lines)
		return -ENOMEM;
	f->lines[0] = start;
	f->nlines = 1;
	for (size_t i = start; i < f->len;) {
		size_t b = line_break_at(f->buf, f->len, i);

		if (!b) {
			i++;
			continue;
		}
		i += b;
		if (grow((void **)&f->lines, f->nlines, &cap, sizeof(*f->lines)) < 0)
			return -ENOMEM;
		f->lines[f->nlines++] = i;
	}
	return 0;
}

/* libyaml marks count characters; convert to a byte offset. */
static uint32_t mark_to_off(const struct shk_srcfile *f, size_t line, size_t col)
{
	size_t off;

	if (line >= f->nlines)
		return f->len;
	off = f->lines[line];
	while (col-- > 0 && off < f->len)
		off += utf8_len((unsigned char)f->buf[off]);
	return off < f->len ? off : f->len;
}

static struct shk_loc off_to_loc(const struct shk_srcfile *f, uint32_t off)
{
	struct shk_loc l = { .file = f->name };
	uint32_t lo = 0, hi = f->nlines;

	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (f->lines[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	l.line = lo + 1;
	l.col = 1;
	for (uint32_t i = f->lines[lo]; i < off && i < f->len;
	     i += utf8_len((unsigned char)f->buf[i]))
		l.col++;
	return l;
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * Map value offset k of a scalar to a byte offset in its file, by walking
 * the value and the source side by side. Folding (line breaks and
 * indentation becoming one space) and block indentation are whitespace
 * runs on both sides; anything else that differs is an escape sequence or
 * a doubled quote and is skipped on the source side.
 */
static uint32_t scalar_src_off(const struct shk_ynode *n, uint32_t k)
{
	const struct shk_srcfile *f = n->file;
	const char *src = f->buf;
	uint32_t s = n->start, e = n->end, i = 0;

	if (e > f->len)
		e = f->len;
	if (n->style == SHK_YS_SQUOTED || n->style == SHK_YS_DQUOTED) {
		s++;
	} else if (n->style == SHK_YS_LITERAL || n->style == SHK_YS_FOLDED) {
		while (s < e && !line_break_at(src, e, s))
			s++;
		if (s < e)
			s += line_break_at(src, e, s);
	}
	if (k > n->len)
		k = n->len;
	while (i < k && s < e) {
		if (is_ws(n->str[i])) {
			while (i < k && is_ws(n->str[i]))
				i++;
			while (s < e && is_ws(src[s]))
				s++;
			continue;
		}
		if (is_ws(src[s]) || n->str[i] != src[s]) {
			s++;
			continue;
		}
		i++;
		s++;
	}
	/* land on the token itself, not on the blanks or the escape sequence
	 * (such as an escaped line break) before it */
	if (i < n->len && !is_ws(n->str[i])) {
		uint32_t x = s;

		while (x < e && x - s < 64 && src[x] != n->str[i])
			x++;
		if (x < e && src[x] == n->str[i])
			s = x;
	}
	return s < e ? s : e;
}

struct shk_loc shk_text_locate(const struct shk_text *t, uint32_t off)
{
	const struct shk_text_seg *sg = NULL;
	struct shk_loc none = { 0 };
	uint32_t k;

	if (!t || !t->nsegs)
		return none;
	for (uint32_t i = 0; i < t->nsegs; i++) {
		if (t->segs[i].off > off)
			break;
		sg = &t->segs[i];
	}
	if (!sg)
		sg = &t->segs[0];
	k = off >= sg->off ? off - sg->off : 0;
	if (k > sg->len)
		k = sg->len;
	if (!sg->node->file)
		return none;
	return off_to_loc(sg->node->file, scalar_src_off(sg->node, k));
}

struct shk_loc shk_ynode_loc(const struct shk_ynode *n)
{
	struct shk_loc l = { 0 };

	if (!n || !n->file)
		return l;
	l.file = n->file->name;
	l.line = n->line;
	l.col = n->col;
	return l;
}

/* ---- YAML tree --------------------------------------------------------- */

bool shk_ynode_is_null(const struct shk_ynode *n)
{
	if (!n)
		return true;
	if (n->kind != SHK_Y_SCALAR || n->style != SHK_YS_PLAIN)
		return false;
	return !n->len || !strcmp(n->str, "~") || !strcmp(n->str, "null") ||
	       !strcmp(n->str, "Null") || !strcmp(n->str, "NULL");
}

const struct shk_ynode *shk_ynode_get(const struct shk_ynode *map,
				      const char *key)
{
	if (!map || map->kind != SHK_Y_MAP)
		return NULL;
	for (uint32_t i = 0; i + 1 < map->n; i += 2)
		if (map->kids[i].kind == SHK_Y_SCALAR && !strcmp(map->kids[i].str, key))
			return &map->kids[i + 1];
	return NULL;
}

static void ynode_fini(struct shk_ynode *n)
{
	if (n->kind == SHK_Y_SCALAR) {
		free((char *)n->str);
		return;
	}
	for (uint32_t i = 0; i < n->n; i++)
		ynode_fini(&n->kids[i]);
	free(n->kids);
}

static void srcfile_free(struct shk_srcfile *f)
{
	if (!f)
		return;
	for (uint32_t i = 0; i < f->ndocs; i++)
		ynode_fini(&f->docs[i]);
	free(f->docs);
	free(f->lines);
	free(f->buf);
	free(f->name);
	free(f);
}

static void __attribute__((format(printf, 5, 6)))
diag_at(struct shk_loader *ld, enum shk_diag_level lvl,
	const struct shk_ynode *at, struct shk_loc *loc, const char *fmt, ...)
{
	struct shk_loc l = at ? shk_ynode_loc(at) : (loc ? *loc : (struct shk_loc){ 0 });
	const char *text = NULL;
	size_t tlen = 0;
	va_list ap;

	if (at && at->kind == SHK_Y_SCALAR) {
		text = at->str;
		tlen = at->len;
	}
	va_start(ap, fmt);
	shk_diags_vadd(&ld->diags, lvl, &l, text, tlen, fmt, ap);
	va_end(ap);
}

#define err_at(ld, node, ...) diag_at(ld, SHK_DIAG_ERROR, node, NULL, __VA_ARGS__)
#define warn_at(ld, node, ...) diag_at(ld, SHK_DIAG_WARNING, node, NULL, __VA_ARGS__)

struct yctx {
	struct shk_loader *ld;
	struct shk_srcfile *f;
	yaml_parser_t p;
	bool nomem;
};

static int yaml_fail(struct yctx *y)
{
	struct shk_loc l = { .file = y->f->name,
			     .line = y->p.problem_mark.line + 1,
			     .col = y->p.problem_mark.column + 1 };

	if (y->p.error == YAML_MEMORY_ERROR) {
		y->nomem = true;
		return -ENOMEM;
	}
	/* reader (encoding) errors carry a byte offset instead of a mark */
	if (y->p.error == YAML_READER_ERROR)
		l = off_to_loc(y->f, y->p.problem_offset < y->f->len ?
					     y->p.problem_offset : y->f->len);
	shk_diags_add(&y->ld->diags, SHK_DIAG_ERROR, &l, NULL, 0,
		      "YAML syntax error: %s%s%s",
		      y->p.problem ? y->p.problem : "invalid YAML",
		      y->p.context ? " " : "", y->p.context ? y->p.context : "");
	return -EINVAL;
}

static int next_event(struct yctx *y, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&y->p, ev))
		return yaml_fail(y);
	return 0;
}

static void set_marks(struct yctx *y, struct shk_ynode *n, const yaml_event_t *ev)
{
	n->file = y->f;
	n->line = ev->start_mark.line + 1;
	n->col = ev->start_mark.column + 1;
	n->start = mark_to_off(y->f, ev->start_mark.line, ev->start_mark.column);
	n->end = mark_to_off(y->f, ev->end_mark.line, ev->end_mark.column);
}

/* Build the node whose first event is ev (consumed). */
static int build_node(struct yctx *y, yaml_event_t *ev, struct shk_ynode *n,
		      int depth)
{
	yaml_event_type_t end_type;
	uint32_t cap = 0;
	int r = 0;

	memset(n, 0, sizeof(*n));
	set_marks(y, n, ev);
	switch (ev->type) {
	case YAML_SCALAR_EVENT: {
		const char *v = (const char *)ev->data.scalar.value;
		size_t len = ev->data.scalar.length;

		n->kind = SHK_Y_SCALAR;
		switch (ev->data.scalar.style) {
		case YAML_SINGLE_QUOTED_SCALAR_STYLE:
			n->style = SHK_YS_SQUOTED;
			break;
		case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
			n->style = SHK_YS_DQUOTED;
			break;
		case YAML_LITERAL_SCALAR_STYLE:
			n->style = SHK_YS_LITERAL;
			break;
		case YAML_FOLDED_SCALAR_STYLE:
			n->style = SHK_YS_FOLDED;
			break;
		default:
			n->style = SHK_YS_PLAIN;
			break;
		}
		n->str = strndup(v, len);
		n->len = len;
		yaml_event_delete(ev);
		if (!n->str) {
			y->nomem = true;
			return -ENOMEM;
		}
		/* later stages treat values as C strings */
		if (strlen(n->str) != len) {
			err_at(y->ld, n, "NUL character in a scalar value");
			return -EINVAL;
		}
		return 0;
	}
	case YAML_SEQUENCE_START_EVENT:
		n->kind = SHK_Y_SEQ;
		end_type = YAML_SEQUENCE_END_EVENT;
		break;
	case YAML_MAPPING_START_EVENT:
		n->kind = SHK_Y_MAP;
		end_type = YAML_MAPPING_END_EVENT;
		break;
	case YAML_ALIAS_EVENT:
		yaml_event_delete(ev);
		n->kind = SHK_Y_SCALAR;
		n->str = strdup("");
		if (!n->str)
			return -ENOMEM;
		err_at(y->ld, n, "YAML aliases are not supported");
		return -EINVAL;
	default:
		yaml_event_delete(ev);
		n->kind = SHK_Y_SCALAR;
		n->str = strdup("");
		if (!n->str)
			return -ENOMEM;
		err_at(y->ld, n, "unexpected YAML event");
		return -EINVAL;
	}
	yaml_event_delete(ev);
	if (depth >= SHK_YAML_MAX_DEPTH) {
		err_at(y->ld, n, "YAML nesting deeper than %d levels", SHK_YAML_MAX_DEPTH);
		return -EINVAL;
	}
	for (;;) {
		yaml_event_t kid;

		r = next_event(y, &kid);
		if (r < 0)
			return r;
		if (kid.type == end_type) {
			n->end = mark_to_off(y->f, kid.end_mark.line, kid.end_mark.column);
			yaml_event_delete(&kid);
			break;
		}
		if (grow((void **)&n->kids, n->n, &cap, sizeof(*n->kids)) < 0) {
			yaml_event_delete(&kid);
			y->nomem = true;
			return -ENOMEM;
		}
		r = build_node(y, &kid, &n->kids[n->n], depth + 1);
		n->n++; /* partially built kids are freed with the tree */
		if (r < 0)
			return r;
	}
	if (n->kind == SHK_Y_MAP) {
		for (uint32_t i = 0; i + 1 < n->n; i += 2) {
			const struct shk_ynode *k = &n->kids[i];

			if (k->kind != SHK_Y_SCALAR) {
				err_at(y->ld, k, "mapping keys must be scalars");
				return -EINVAL;
			}
			for (uint32_t j = 0; j < i; j += 2)
				if (!strcmp(n->kids[j].str, k->str)) {
					warn_at(y->ld, k, "duplicate key '%s' (the first one is used)",
						k->str);
					break;
				}
		}
	}
	return 0;
}

static int parse_yaml(struct yctx *y)
{
	struct shk_srcfile *f = y->f;
	uint32_t cap = 0;
	yaml_event_t ev;
	int r;

	r = next_event(y, &ev); /* STREAM_START */
	if (r < 0)
		return r;
	yaml_event_delete(&ev);
	for (;;) {
		r = next_event(y, &ev);
		if (r < 0)
			return r;
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		/* DOCUMENT_START */
		yaml_event_delete(&ev);
		r = next_event(y, &ev);
		if (r < 0)
			return r;
		if (grow((void **)&f->docs, f->ndocs, &cap, sizeof(*f->docs)) < 0) {
			yaml_event_delete(&ev);
			return -ENOMEM;
		}
		r = build_node(y, &ev, &f->docs[f->ndocs], 0);
		f->ndocs++;
		if (r < 0)
			return r;
		r = next_event(y, &ev); /* DOCUMENT_END */
		if (r < 0)
			return r;
		yaml_event_delete(&ev);
	}
}

/* ---- value decoding ---------------------------------------------------- */

static const char *scalar_str(const struct shk_ynode *n)
{
	return n && n->kind == SHK_Y_SCALAR ? n->str : NULL;
}

/* A required or optional non-empty scalar, as Falco's decode_val. Returns
 * 1 found, 0 absent (optional), -EINVAL reported. */
static int get_scalar(struct shk_loader *ld, const struct shk_ynode *item,
		      const char *key, bool required, const char *what,
		      const struct shk_ynode **ret)
{
	const struct shk_ynode *v = shk_ynode_get(item, key);

	*ret = NULL;
	if (!v) {
		if (!required)
			return 0;
		err_at(ld, item, "%s: missing required key '%s'", what, key);
		return -EINVAL;
	}
	if (shk_ynode_is_null(v)) {
		err_at(ld, v, "%s: mapping for key '%s' is empty", what, key);
		return -EINVAL;
	}
	if (v->kind != SHK_Y_SCALAR) {
		err_at(ld, v, "%s: value of '%s' is not a scalar", what, key);
		return -EINVAL;
	}
	if (!v->len) {
		err_at(ld, v, "%s: value of '%s' must be non-empty", what, key);
		return -EINVAL;
	}
	*ret = v;
	return 1;
}

static int parse_bool(const char *s, bool *ret)
{
	static const char *const t[] = { "true", "yes", "on", "y" };
	static const char *const f[] = { "false", "no", "off", "n" };

	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(s, t[i])) {
			*ret = true;
			return 0;
		}
		if (!strcasecmp(s, f[i])) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int get_bool(struct shk_loader *ld, const struct shk_ynode *item,
		    const char *key, const char *what, bool *ret)
{
	const struct shk_ynode *v;
	int r = get_scalar(ld, item, key, false, what, &v);

	if (r <= 0)
		return r;
	if (parse_bool(v->str, ret) < 0) {
		err_at(ld, v, "%s: '%s' must be true or false, not '%s'", what, key, v->str);
		return -EINVAL;
	}
	return 1;
}

static const char *const prio_names[] = {
	"EMERGENCY", "ALERT", "CRITICAL", "ERROR",
	"WARNING", "NOTICE", "INFORMATIONAL", "DEBUG",
};

int shk_priority_parse(const char *s)
{
	for (int i = 0; i <= SHK_PRIO_DEBUG; i++)
		if (!strcasecmp(s, prio_names[i]))
			return i;
	if (!strcasecmp(s, "info"))
		return SHK_PRIO_INFORMATIONAL;
	return -EINVAL;
}

const char *shk_priority_name(enum shk_priority p)
{
	return (unsigned)p <= SHK_PRIO_DEBUG ? prio_names[p] : "?";
}

const char *shk_mode_name(enum shk_mode m)
{
	switch (m) {
	case SHK_MODE_AUDIT:
		return "audit";
	case SHK_MODE_ENFORCE:
		return "enforce";
	default:
		return "unset";
	}
}

static int get_priority(struct shk_loader *ld, const struct shk_ynode *v,
			const char *what, enum shk_priority *ret)
{
	int p;

	if (!v || v->kind != SHK_Y_SCALAR) {
		err_at(ld, v, "%s: priority must be a scalar", what);
		return -EINVAL;
	}
	p = shk_priority_parse(v->str);
	if (p < 0) {
		err_at(ld, v, "%s: invalid priority '%s' (expected one of EMERGENCY, ALERT, CRITICAL, ERROR, WARNING, NOTICE, INFORMATIONAL, DEBUG)",
		       what, v->str);
		return -EINVAL;
	}
	*ret = p;
	return 0;
}

static int get_mode(struct shk_loader *ld, const struct shk_ynode *item,
		    const char *what, enum shk_mode *ret)
{
	const struct shk_ynode *v;
	int r = get_scalar(ld, item, "mode", false, what, &v);

	if (r <= 0)
		return r;
	if (!strcasecmp(v->str, "enforce")) {
		*ret = SHK_MODE_ENFORCE;
	} else if (!strcasecmp(v->str, "audit")) {
		*ret = SHK_MODE_AUDIT;
	} else {
		err_at(ld, v, "%s: invalid mode '%s' (expected enforce or audit)", what, v->str);
		return -EINVAL;
	}
	return 1;
}

/* A sequence of scalars (or a single scalar when allow_scalar). */
static int get_strings(struct shk_loader *ld, const struct shk_ynode *v,
		       const char *what, const char *key, bool allow_scalar,
		       const char ***ret, uint32_t *ret_n)
{
	const char **out;
	uint32_t n = 0;

	*ret = NULL;
	*ret_n = 0;
	if (allow_scalar && v->kind == SHK_Y_SCALAR && !shk_ynode_is_null(v)) {
		out = malloc(sizeof(*out));
		if (!out)
			return -ENOMEM;
		out[0] = v->str;
		*ret = out;
		*ret_n = 1;
		return 0;
	}
	if (shk_ynode_is_null(v))
		return 0;
	if (v->kind != SHK_Y_SEQ) {
		err_at(ld, v, "%s: value of '%s' is not a sequence", what, key);
		return -EINVAL;
	}
	out = calloc(v->n ? v->n : 1, sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (uint32_t i = 0; i < v->n; i++) {
		if (v->kids[i].kind != SHK_Y_SCALAR) {
			err_at(ld, &v->kids[i], "%s: items of '%s' must be scalars", what, key);
			free(out);
			return -EINVAL;
		}
		out[n++] = v->kids[i].str;
	}
	*ret = out;
	*ret_n = n;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Falco keeps tags in a std::set: sorted, without duplicates. */
static void tags_normalize(const char **tags, uint32_t *n)
{
	uint32_t o = 0;

	if (!*n)
		return;
	qsort(tags, *n, sizeof(*tags), cmp_str);
	for (uint32_t i = 0; i < *n; i++)
		if (!o || strcmp(tags[o - 1], tags[i]))
			tags[o++] = tags[i];
	*n = o;
}

static int tags_merge(const char ***tags, uint32_t *n, const char **add,
		      uint32_t nadd)
{
	const char **v = realloc(*tags, (*n + nadd + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	memcpy(v + *n, add, nadd * sizeof(*v));
	*tags = v;
	*n += nadd;
	tags_normalize(*tags, n);
	return 0;
}

/* actions: [deny, {kill: process_tree}, {exec: "cmd"}] (or one action). */
static int get_actions(struct shk_loader *ld, const struct shk_ynode *v,
		       const char *what, struct shk_action **ret, uint32_t *ret_n)
{
	const struct shk_ynode *one = v;
	struct shk_action *out;
	uint32_t n = v->kind == SHK_Y_SEQ ? v->n : 1;

	*ret = NULL;
	*ret_n = 0;
	if (shk_ynode_is_null(v))
		return 0;
	out = calloc(n, sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		const struct shk_ynode *a = v->kind == SHK_Y_SEQ ? &v->kids[i] : one;
		struct shk_action *o = &out[i];

		o->loc = shk_ynode_loc(a);
		if (a->kind == SHK_Y_SCALAR && !shk_ynode_is_null(a)) {
			o->name = a->str;
		} else if (a->kind == SHK_Y_MAP && a->n == 2 && a->kids[0].len) {
			o->name = a->kids[0].str;
			o->value = &a->kids[1];
			o->arg = scalar_str(o->value);
		} else {
			err_at(ld, a, "%s: an action must be a name or a single-key map such as {kill: process}",
			       what);
			free(out);
			return -EINVAL;
		}
	}
	*ret = out;
	*ret_n = n;
	return 0;
}

/* Warn about keys an item kind does not know; Falco ignores them too. */
static void check_keys(struct shk_loader *ld, const struct shk_ynode *item,
		       const char *what, const char *const *known)
{
	for (uint32_t i = 0; i + 1 < item->n; i += 2) {
		const char *k = item->kids[i].str;
		bool ok = false;

		for (size_t j = 0; known[j]; j++)
			if (!strcmp(k, known[j])) {
				ok = true;
				break;
			}
		if (!ok)
			warn_at(ld, &item->kids[i], "%s: unknown key '%s' ignored", what, k);
	}
}

/* ---- definitions ------------------------------------------------------- */

static int push_ptr(void ***v, uint32_t *n, uint32_t *cap, void *p)
{
	if (grow((void **)v, *n, cap, sizeof(**v)) < 0)
		return -ENOMEM;
	(*v)[(*n)++] = p;
	return 0;
}

static void exceptions_free(struct shk_exception_def *ex, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		free(ex[i].values);
	free(ex);
}

static void rule_def_free(struct shk_rule_def *r)
{
	if (!r)
		return;
	shk_text_fini(&r->cond);
	shk_text_fini(&r->output);
	shk_text_fini(&r->desc);
	free(r->tags);
	exceptions_free(r->exceptions, r->nexceptions);
	free(r->actions);
	free(r);
}

struct shk_loader *shk_loader_new(void)
{
	struct shk_loader *ld = calloc(1, sizeof(*ld));

	if (!ld)
		return NULL;
	shk_diags_init(&ld->diags);
	ld->list_idx = calloc(1, sizeof(*ld->list_idx));
	ld->macro_idx = calloc(1, sizeof(*ld->macro_idx));
	ld->rule_idx = calloc(1, sizeof(*ld->rule_idx));
	if (!ld->list_idx || !ld->macro_idx || !ld->rule_idx) {
		shk_loader_free(ld);
		errno = ENOMEM;
		return NULL;
	}
	return ld;
}

void shk_loader_free(struct shk_loader *ld)
{
	if (!ld)
		return;
	for (uint32_t i = 0; i < ld->nlists; i++) {
		free(ld->lists[i]->items);
		free(ld->lists[i]);
	}
	free(ld->lists);
	for (uint32_t i = 0; i < ld->nmacros; i++) {
		shk_text_fini(&ld->macros[i]->cond);
		free(ld->macros[i]);
	}
	free(ld->macros);
	for (uint32_t i = 0; i < ld->nrules; i++)
		rule_def_free(ld->rules[i]);
	free(ld->rules);
	for (uint32_t i = 0; i < ld->nresponses; i++) {
		free(ld->responses[i]->match_tags);
		free(ld->responses[i]->actions);
		free(ld->responses[i]);
	}
	free(ld->responses);
	for (uint32_t i = 0; i < ld->npolicies; i++) {
		for (uint32_t j = 0; j < ld->policies[i]->nprotect; j++)
			free(ld->policies[i]->protect[j].values);
		free(ld->policies[i]->protect);
		free(ld->policies[i]);
	}
	free(ld->policies);
	free(ld->plugins);
	for (uint32_t i = 0; i < ld->nfiles; i++)
		srcfile_free(ld->files[i]);
	free(ld->files);
	idx_free(ld->list_idx);
	idx_free(ld->macro_idx);
	idx_free(ld->rule_idx);
	shk_diags_clear(&ld->diags);
	free(ld);
}

struct shk_list_def *shk_loader_find_list(const struct shk_loader *ld,
					  const char *name, size_t len)
{
	int64_t i = idx_find(ld->list_idx, name, len);

	return i < 0 ? NULL : ld->lists[i];
}

struct shk_macro_def *shk_loader_find_macro(const struct shk_loader *ld,
					    const char *name, size_t len)
{
	int64_t i = idx_find(ld->macro_idx, name, len);

	return i < 0 ? NULL : ld->macros[i];
}

struct shk_rule_def *shk_loader_find_rule(const struct shk_loader *ld,
					  const char *name, size_t len)
{
	int64_t i = idx_find(ld->rule_idx, name, len);

	return i < 0 ? NULL : ld->rules[i];
}

/* Falco's RGX_IDENTIFIER and RGX_BARESTR, used to validate names. */
static bool is_identifier(const char *s)
{
	if (!isalpha((unsigned char)s[0]))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

static bool is_barestr(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (isspace((unsigned char)*s) || strchr("()\"'=,", *s))
			return false;
	return true;
}

enum override_op { OV_NONE, OV_APPEND, OV_REPLACE };

struct overrides {
	const char *keys[16];
	enum override_op ops[16];
	const struct shk_ynode *nodes[16];
	uint32_t n;
	bool any_append, any_replace;
};

static enum override_op override_of(const struct overrides *o, const char *key)
{
	for (uint32_t i = 0; i < o->n; i++)
		if (!strcmp(o->keys[i], key))
			return o->ops[i];
	return OV_NONE;
}

static bool in_set(const char *const *set, const char *key)
{
	for (size_t i = 0; set[i]; i++)
		if (!strcmp(set[i], key))
			return true;
	return false;
}

static int read_overrides(struct shk_loader *ld, const struct shk_ynode *item,
			  const char *what, const char *const *appendable,
			  const char *const *replaceable, struct overrides *o)
{
	const struct shk_ynode *ov = shk_ynode_get(item, "override");

	memset(o, 0, sizeof(*o));
	if (!ov)
		return 0;
	if (ov->kind != SHK_Y_MAP) {
		err_at(ld, ov, "%s: 'override' must be a mapping of key: append|replace", what);
		return -EINVAL;
	}
	for (uint32_t i = 0; i + 1 < ov->n; i += 2) {
		const struct shk_ynode *k = &ov->kids[i], *v = &ov->kids[i + 1];
		const char *op = scalar_str(v);
		bool ca = in_set(appendable, k->str), cr = in_set(replaceable, k->str);

		if (o->n >= 16) {
			err_at(ld, k, "%s: too many override entries", what);
			return -EINVAL;
		}
		if (op && !strcmp(op, "append")) {
			if (!ca) {
				err_at(ld, k, "%s: key '%s' cannot be appended to%s", what,
				       k->str, cr ? ", use 'replace' instead" : "");
				return -EINVAL;
			}
			o->ops[o->n] = OV_APPEND;
			o->any_append = true;
		} else if (op && !strcmp(op, "replace")) {
			if (!cr) {
				err_at(ld, k, "%s: key '%s' cannot be replaced", what, k->str);
				return -EINVAL;
			}
			o->ops[o->n] = OV_REPLACE;
			o->any_replace = true;
		} else {
			err_at(ld, v, "%s: invalid override operation for key '%s': '%s' (allowed: %s%s)",
			       what, k->str, op ? op : "", ca ? "append " : "",
			       cr ? "replace" : "");
			return -EINVAL;
		}
		o->keys[o->n] = k->str;
		o->nodes[o->n] = k;
		o->n++;
	}
	return 0;
}

static void warn_append_deprecated(struct shk_loader *ld, const struct shk_ynode *item,
				   const char *what)
{
	warn_at(ld, shk_ynode_get(item, "append"),
		"%s: 'append' key is deprecated, add an 'append' entry (e.g. 'condition: append') under 'override' instead",
		what);
}

static int handle_list(struct shk_loader *ld, const struct shk_ynode *item)
{
	static const char *const known[] = { "list", "items", "append", "override", NULL };
	static const char *const ovk[] = { "items", NULL };
	const struct shk_ynode *name, *items;
	const struct shk_ynode **vals = NULL;
	struct shk_list_def *l;
	struct overrides ov;
	bool append = false;
	char what[160];
	int r;

	if (get_scalar(ld, item, "list", true, "list", &name) < 0)
		return -EINVAL;
	snprintf(what, sizeof(what), "list '%s'", name->str);
	if (!is_barestr(name->str)) {
		err_at(ld, name, "%s: invalid list name: must match [^()\"'[:space:]=,]+", what);
		return -EINVAL;
	}
	check_keys(ld, item, what, known);
	items = shk_ynode_get(item, "items");
	if (!items) {
		err_at(ld, item, "%s: missing required key 'items'", what);
		return -EINVAL;
	}
	if (!shk_ynode_is_null(items) && items->kind != SHK_Y_SEQ) {
		err_at(ld, items, "%s: value of 'items' is not a sequence", what);
		return -EINVAL;
	}
	if (get_bool(ld, item, "append", what, &append) < 0)
		return -EINVAL;
	if (append)
		warn_append_deprecated(ld, item, what);
	if (read_overrides(ld, item, what, ovk, ovk, &ov) < 0)
		return -EINVAL;
	if (append && ov.n) {
		err_at(ld, item, "%s: keys 'override' and 'append: true' cannot be used together", what);
		return -EINVAL;
	}
	append |= override_of(&ov, "items") == OV_APPEND;

	if (items->kind == SHK_Y_SEQ) {
		vals = calloc(items->n ? items->n : 1, sizeof(*vals));
		if (!vals)
			return -ENOMEM;
		for (uint32_t i = 0; i < items->n; i++) {
			const struct shk_ynode *it = &items->kids[i];

			if (it->kind != SHK_Y_SCALAR) {
				err_at(ld, it, "%s: list items must be scalars", what);
				free(vals);
				return -EINVAL;
			}
			for (uint32_t j = 0; j < i; j++)
				if (!strcmp(vals[j]->str, it->str)) {
					warn_at(ld, it, "%s: duplicate item '%s'", what, it->str);
					break;
				}
			vals[i] = it;
		}
	}
	l = shk_loader_find_list(ld, name->str, name->len);
	if (append) {
		const struct shk_ynode **nv;
		uint32_t add = items->kind == SHK_Y_SEQ ? items->n : 0;

		if (!l) {
			err_at(ld, name, "%s: 'append' to a list that is not defined", what);
			free(vals);
			return -EINVAL;
		}
		nv = realloc(l->items, (l->nitems + add + 1) * sizeof(*nv));
		if (!nv) {
			free(vals);
			return -ENOMEM;
		}
		memcpy(nv + l->nitems, vals, add * sizeof(*nv));
		l->items = nv;
		l->nitems += add;
		l->visibility = ld->seq++;
		free(vals);
		return 0;
	}
	if (!l) {
		l = calloc(1, sizeof(*l));
		if (!l) {
			free(vals);
			return -ENOMEM;
		}
		l->id = ld->nlists;
		r = push_ptr((void ***)&ld->lists, &ld->nlists, &ld->caps[0], l);
		if (r < 0 || idx_put(ld->list_idx, name->str, name->len, ld->nlists - 1) < 0) {
			if (r >= 0)
				ld->nlists--;
			free(l);
			free(vals);
			return -ENOMEM;
		}
		l->index = ld->seq;
	}
	free(l->items);
	l->name = name->str;
	l->loc = shk_ynode_loc(name);
	l->items = vals;
	l->nitems = items->kind == SHK_Y_SEQ ? items->n : 0;
	l->visibility = ld->seq++;
	return 0;
}

static int handle_macro(struct shk_loader *ld, const struct shk_ynode *item)
{
	static const char *const known[] = { "macro", "condition", "append", "override", NULL };
	static const char *const ovk[] = { "condition", NULL };
	const struct shk_ynode *name, *cond;
	struct shk_macro_def *m;
	struct overrides ov;
	bool append = false;
	char what[160];

	if (get_scalar(ld, item, "macro", true, "macro", &name) < 0)
		return -EINVAL;
	snprintf(what, sizeof(what), "macro '%s'", name->str);
	if (!is_identifier(name->str)) {
		err_at(ld, name, "%s: invalid macro name: must match [a-zA-Z]+[a-zA-Z0-9_]*", what);
		return -EINVAL;
	}
	check_keys(ld, item, what, known);
	if (get_scalar(ld, item, "condition", true, what, &cond) < 0)
		return -EINVAL;
	if (get_bool(ld, item, "append", what, &append) < 0)
		return -EINVAL;
	if (append)
		warn_append_deprecated(ld, item, what);
	if (read_overrides(ld, item, what, ovk, ovk, &ov) < 0)
		return -EINVAL;
	if (append && ov.n) {
		err_at(ld, item, "%s: keys 'override' and 'append: true' cannot be used together", what);
		return -EINVAL;
	}
	append |= override_of(&ov, "condition") == OV_APPEND;
	m = shk_loader_find_macro(ld, name->str, name->len);
	if (append) {
		if (!m) {
			err_at(ld, name, "%s: 'append' to a macro that is not defined", what);
			return -EINVAL;
		}
		if (text_join(&m->cond, cond) < 0)
			return -ENOMEM;
		m->visibility = ld->seq++;
		return 0;
	}
	if (!m) {
		m = calloc(1, sizeof(*m));
		if (!m)
			return -ENOMEM;
		m->id = ld->nmacros;
		if (push_ptr((void ***)&ld->macros, &ld->nmacros, &ld->caps[1], m) < 0) {
			free(m);
			return -ENOMEM;
		}
		if (idx_put(ld->macro_idx, name->str, name->len, ld->nmacros - 1) < 0)
			return -ENOMEM;
		m->index = ld->seq;
	}
	m->name = name->str;
	m->loc = shk_ynode_loc(name);
	m->visibility = ld->seq++;
	return text_set(&m->cond, cond);
}

/* Field name of an exception, with an optional [arg]: known? */
static bool exception_field_known(const char *s)
{
	const char *br = strchr(s, '[');
	size_t len = br ? (size_t)(br - s) : strlen(s);
	const char *arg;
	size_t alen;

	return shk_field_resolve(s, len, &arg, &alen) != NULL;
}

static bool entry_valid(const struct shk_ynode *n)
{
	return n && !shk_ynode_is_null(n);
}

/* Falco's validate_exception_info: default comps, lengths, operators and
 * fields. */
static int validate_exception(struct shk_loader *ld, const struct shk_exception_def *ex,
			      const struct shk_ynode *exnode, const char *what)
{
	const struct shk_ynode *f = ex->fields, *c = ex->comps;

	if (!entry_valid(f)) {
		err_at(ld, exnode, "%s: exception '%s' must have a 'fields' property with a list of fields",
		       what, ex->name);
		return -EINVAL;
	}
	if (f->kind == SHK_Y_SEQ) {
		if (entry_valid(c) && (c->kind != SHK_Y_SEQ || c->n != f->n)) {
			err_at(ld, c, "%s: exception '%s': fields and comps lists must have equal length",
			       what, ex->name);
			return -EINVAL;
		}
		for (uint32_t i = 0; entry_valid(c) && i < c->n; i++) {
			const struct shk_ynode *ci = &c->kids[i];

			if (ci->kind != SHK_Y_SCALAR || shk_op_from_name(ci->str, ci->len) < 0) {
				err_at(ld, ci, "%s: exception '%s': '%s' is not a supported comparison operator",
				       what, ex->name, scalar_str(ci) ? ci->str : "");
				return -EINVAL;
			}
		}
		for (uint32_t i = 0; i < f->n; i++) {
			const struct shk_ynode *fi = &f->kids[i];

			if (fi->kind != SHK_Y_SCALAR || !exception_field_known(fi->str)) {
				err_at(ld, fi, "%s: exception '%s': '%s' is not a supported filter field",
				       what, ex->name, scalar_str(fi) ? fi->str : "");
				return -EINVAL;
			}
		}
	} else {
		if (entry_valid(c) && c->kind != SHK_Y_SCALAR) {
			err_at(ld, c, "%s: exception '%s': fields and comps must both be strings",
			       what, ex->name);
			return -EINVAL;
		}
		if (entry_valid(c) && strcmp(c->str, "in") && strcmp(c->str, "pmatch") &&
		    strcmp(c->str, "intersects")) {
			err_at(ld, c, "%s: exception '%s': when fields is a single value, comps must be one of (in, pmatch, intersects)",
			       what, ex->name);
			return -EINVAL;
		}
		if (f->kind != SHK_Y_SCALAR || !exception_field_known(f->str)) {
			err_at(ld, f, "%s: exception '%s': '%s' is not a supported filter field",
			       what, ex->name, scalar_str(f) ? f->str : "");
			return -EINVAL;
		}
	}
	for (uint32_t i = 0; i < ex->nvalues; i++) {
		const struct shk_ynode *v = ex->values[i];

		if (f->kind == SHK_Y_SEQ && (v->kind != SHK_Y_SEQ || v->n != f->n)) {
			err_at(ld, v, "%s: exception '%s': fields and values lists must have equal length",
			       what, ex->name);
			return -EINVAL;
		}
		if (f->kind != SHK_Y_SEQ && v->kind != SHK_Y_SCALAR) {
			err_at(ld, v, "%s: exception '%s': expected values array to contain a list of strings",
			       what, ex->name);
			return -EINVAL;
		}
	}
	return 0;
}

/* One exception value entry: a scalar, or a list of scalars / lists of
 * scalars. */
static bool value_entry_ok(const struct shk_ynode *v, int depth)
{
	if (v->kind == SHK_Y_SCALAR)
		return true;
	if (v->kind != SHK_Y_SEQ || depth > 1)
		return false;
	for (uint32_t i = 0; i < v->n; i++)
		if (!value_entry_ok(&v->kids[i], depth + 1))
			return false;
	return true;
}

static int read_exceptions(struct shk_loader *ld, const struct shk_ynode *exs,
			   const char *what, bool append,
			   struct shk_exception_def **ret, uint32_t *ret_n)
{
	struct shk_exception_def *out;
	uint32_t n = 0;

	*ret = NULL;
	*ret_n = 0;
	if (!exs || shk_ynode_is_null(exs))
		return 0;
	if (exs->kind != SHK_Y_SEQ) {
		err_at(ld, exs, "%s: rule exceptions must be a sequence", what);
		return -EINVAL;
	}
	out = calloc(exs->n ? exs->n : 1, sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (uint32_t i = 0; i < exs->n; i++) {
		const struct shk_ynode *ex = &exs->kids[i], *name, *vals;
		struct shk_exception_def *d = &out[n];

		if (ex->kind != SHK_Y_MAP) {
			err_at(ld, ex, "%s: rule exception must be a mapping", what);
			goto bad;
		}
		if (get_scalar(ld, ex, "name", true, what, &name) < 0)
			goto bad;
		for (uint32_t j = 0; j < n; j++)
			if (!strcmp(out[j].name, name->str)) {
				err_at(ld, name, "%s: exception names in the same object must be unique ('%s')",
				       what, name->str);
				goto bad;
			}
		d->name = name->str;
		d->loc = shk_ynode_loc(ex);
		d->fields = shk_ynode_get(ex, "fields");
		d->comps = shk_ynode_get(ex, "comps");
		if (!append && !entry_valid(d->fields)) {
			err_at(ld, ex, "%s: exception '%s': missing required key 'fields'", what, d->name);
			goto bad;
		}
		vals = shk_ynode_get(ex, "values");
		n++;
		if (vals && !shk_ynode_is_null(vals)) {
			if (vals->kind != SHK_Y_SEQ) {
				err_at(ld, vals, "%s: rule exception values must be a sequence", what);
				goto bad;
			}
			d->values = calloc(vals->n ? vals->n : 1, sizeof(*d->values));
			if (!d->values)
				goto nomem;
			for (uint32_t j = 0; j < vals->n; j++) {
				if (!value_entry_ok(&vals->kids[j], 0)) {
					err_at(ld, &vals->kids[j], "%s: exception '%s': bad value entry",
					       what, d->name);
					goto bad;
				}
				d->values[d->nvalues++] = &vals->kids[j];
			}
		} else if (append) {
			warn_at(ld, ex, "%s: overriding/appending exception '%s' with no values",
				what, d->name);
		}
	}
	*ret = out;
	*ret_n = n;
	return 0;
nomem:
	exceptions_free(out, n);
	return -ENOMEM;
bad:
	exceptions_free(out, n);
	return -EINVAL;
}

static int validate_exceptions(struct shk_loader *ld, struct shk_exception_def *ex,
			       uint32_t n, const char *what)
{
	for (uint32_t i = 0; i < n; i++) {
		struct shk_loc l = ex[i].loc;

		if (!entry_valid(ex[i].fields)) {
			diag_at(ld, SHK_DIAG_ERROR, NULL, &l,
				"%s: exception '%s' must have a 'fields' property with a list of fields",
				what, ex[i].name);
			return -EINVAL;
		}
		if (validate_exception(ld, &ex[i], ex[i].fields, what) < 0)
			return -EINVAL;
	}
	return 0;
}

/* Falco's collector::append for exceptions: same name adds values only. */
static int merge_exceptions(struct shk_loader *ld, struct shk_rule_def *r,
			    struct shk_exception_def *add, uint32_t nadd, const char *what)
{
	for (uint32_t i = 0; i < nadd; i++) {
		struct shk_exception_def *a = &add[i], *prev = NULL;

		for (uint32_t j = 0; j < r->nexceptions; j++)
			if (!strcmp(r->exceptions[j].name, a->name))
				prev = &r->exceptions[j];
		if (prev) {
			const struct shk_ynode **nv;

			if (entry_valid(a->fields) || entry_valid(a->comps)) {
				diag_at(ld, SHK_DIAG_ERROR, NULL, &a->loc,
					"%s: can not append exception fields or comps to existing exception '%s', only values",
					what, a->name);
				return -EINVAL;
			}
			nv = realloc(prev->values, (prev->nvalues + a->nvalues + 1) * sizeof(*nv));
			if (!nv)
				return -ENOMEM;
			memcpy(nv + prev->nvalues, a->values, a->nvalues * sizeof(*nv));
			prev->values = nv;
			prev->nvalues += a->nvalues;
			continue;
		}
		if (!a->nvalues) {
			diag_at(ld, SHK_DIAG_ERROR, NULL, &a->loc,
				"%s: exception '%s' must have a 'values' property with a list of values",
				what, a->name);
			return -EINVAL;
		}
		if (validate_exceptions(ld, a, 1, what) < 0)
			return -EINVAL;
		{
			struct shk_exception_def *nv =
				realloc(r->exceptions, (r->nexceptions + 1) * sizeof(*nv));

			if (!nv)
				return -ENOMEM;
			r->exceptions = nv;
			r->exceptions[r->nexceptions++] = *a;
			a->values = NULL; /* moved */
			a->nvalues = 0;
		}
	}
	return 0;
}

/* Keys of a rule item, decoded and shape-checked up front. */
struct rule_keys {
	const struct shk_ynode *cond, *output, *desc, *priority, *tags,
		*exceptions, *enabled, *warn_evttypes, *skip, *source, *actions,
		*mode;
};

static int rule_update(struct shk_loader *ld, struct shk_rule_def *r,
		       const struct shk_ynode *item, const struct rule_keys *k,
		       const char *key, bool append, const char *what)
{
	const char **tags;
	uint32_t ntags;
	bool b;

	if (!strcmp(key, "condition"))
		return append ? text_join(&r->cond, k->cond) : text_set(&r->cond, k->cond);
	if (!strcmp(key, "output"))
		return append ? text_join(&r->output, k->output) : text_set(&r->output, k->output);
	if (!strcmp(key, "desc"))
		return append ? text_join(&r->desc, k->desc) : text_set(&r->desc, k->desc);
	if (!strcmp(key, "priority"))
		return get_priority(ld, k->priority, what, &r->priority);
	if (!strcmp(key, "tags")) {
		int rr = get_strings(ld, k->tags, what, "tags", false, &tags, &ntags);

		if (rr < 0)
			return rr;
		if (!append) {
			free(r->tags);
			r->tags = NULL;
			r->ntags = 0;
		}
		rr = tags_merge(&r->tags, &r->ntags, tags, ntags);
		free(tags);
		return rr;
	}
	if (!strcmp(key, "exceptions")) {
		struct shk_exception_def *ex;
		uint32_t nex;
		int rr = read_exceptions(ld, k->exceptions, what, true, &ex, &nex);

		if (rr < 0)
			return rr;
		if (append) {
			rr = merge_exceptions(ld, r, ex, nex, what);
			exceptions_free(ex, nex);
			return rr;
		}
		if (validate_exceptions(ld, ex, nex, what) < 0) {
			exceptions_free(ex, nex);
			return -EINVAL;
		}
		exceptions_free(r->exceptions, r->nexceptions);
		r->exceptions = ex;
		r->nexceptions = nex;
		return 0;
	}
	if (!strcmp(key, "enabled") || !strcmp(key, "warn_evttypes") ||
	    !strcmp(key, "skip-if-unknown-filter")) {
		int rr = get_bool(ld, item, key, what, &b);

		if (rr <= 0)
			return rr < 0 ? rr : 0;
		if (key[0] == 'e')
			r->enabled = b;
		else if (key[0] == 'w')
			r->warn_evttypes = b;
		else
			r->skip_if_unknown_filter = b;
		return 0;
	}
	if (!strcmp(key, "actions")) {
		struct shk_action *a;
		uint32_t na;
		int rr = get_actions(ld, k->actions, what, &a, &na);

		if (rr < 0)
			return rr;
		if (append && na) {
			struct shk_action *nv = realloc(r->actions, (r->nactions + na) * sizeof(*nv));

			if (!nv) {
				free(a);
				return -ENOMEM;
			}
			memcpy(nv + r->nactions, a, na * sizeof(*nv));
			r->actions = nv;
			r->nactions += na;
			free(a);
			return 0;
		}
		if (append) {
			free(a);
			return 0;
		}
		free(r->actions);
		r->actions = a;
		r->nactions = na;
		return 0;
	}
	if (!strcmp(key, "mode"))
		return get_mode(ld, item, what, &r->mode) < 0 ? -EINVAL : 0;
	return 0;
}

static const char *const rule_append_keys[] = {
	"condition", "output", "desc", "tags", "exceptions", "actions", NULL
};
static const char *const rule_replace_keys[] = {
	"condition", "output", "desc", "priority", "tags", "exceptions", "enabled",
	"warn_evttypes", "skip-if-unknown-filter", "actions", "mode", NULL
};

static const struct shk_ynode *rule_key(const struct rule_keys *k, const char *key)
{
	const struct {
		const char *name;
		const struct shk_ynode *node;
	} map[] = {
		{ "condition", k->cond },
		{ "output", k->output },
		{ "desc", k->desc },
		{ "priority", k->priority },
		{ "tags", k->tags },
		{ "exceptions", k->exceptions },
		{ "enabled", k->enabled },
		{ "warn_evttypes", k->warn_evttypes },
		{ "skip-if-unknown-filter", k->skip },
		{ "source", k->source },
		{ "actions", k->actions },
		{ "mode", k->mode },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(map[i].name, key))
			return map[i].node;
	return NULL;
}

static int rule_override(struct shk_loader *ld, const struct shk_ynode *item,
			 const struct shk_ynode *name, const struct rule_keys *k,
			 const struct overrides *ov, const char *what)
{
	struct shk_rule_def *r = shk_loader_find_rule(ld, name->str, name->len);
	int rr;

	for (uint32_t i = 0; i < ov->n; i++)
		if (!rule_key(k, ov->keys[i])) {
			err_at(ld, ov->nodes[i], "%s: an %s override for '%s' was specified but '%s' is not defined",
			       what, ov->ops[i] == OV_APPEND ? "append" : "replace",
			       ov->keys[i], ov->keys[i]);
			return -EINVAL;
		}
	for (size_t i = 0; rule_replace_keys[i]; i++) {
		const char *key = rule_replace_keys[i];
		const struct shk_ynode *kn = rule_key(k, key);

		if (kn && override_of(ov, key) == OV_NONE) {
			/* map kids are key, value pairs: the key precedes kn */
			err_at(ld, kn - 1, "%s: unexpected key '%s': no corresponding entry under 'override' is defined",
			       what, key);
			return -EINVAL;
		}
	}
	if (!r) {
		err_at(ld, name, "%s: 'override' of a rule that is not defined", what);
		return -EINVAL;
	}
	for (int pass = 0; pass < 2; pass++) {
		enum override_op want = pass ? OV_REPLACE : OV_APPEND;

		for (uint32_t i = 0; i < ov->n; i++) {
			if (ov->ops[i] != want)
				continue;
			rr = rule_update(ld, r, item, k, ov->keys[i], want == OV_APPEND, what);
			if (rr < 0)
				return rr;
		}
	}
	r->visibility = ld->seq++;
	return 0;
}

static int handle_rule(struct shk_loader *ld, const struct shk_ynode *item)
{
	static const char *const known[] = {
		"rule", "condition", "output", "desc", "priority", "tags",
		"exceptions", "enabled", "warn_evttypes", "skip-if-unknown-filter",
		"source", "append", "override", "capture", "capture_duration",
		"actions", "mode", NULL
	};
	const struct shk_ynode *name;
	struct shk_rule_def *r, *prev;
	struct rule_keys k = { 0 };
	struct overrides ov;
	bool append = false;
	char what[300];
	int rr;

	if (get_scalar(ld, item, "rule", true, "rule", &name) < 0)
		return -EINVAL;
	snprintf(what, sizeof(what), "rule '%s'", name->str);
	check_keys(ld, item, what, known);
	k.cond = shk_ynode_get(item, "condition");
	k.output = shk_ynode_get(item, "output");
	k.desc = shk_ynode_get(item, "desc");
	k.priority = shk_ynode_get(item, "priority");
	k.tags = shk_ynode_get(item, "tags");
	k.exceptions = shk_ynode_get(item, "exceptions");
	k.enabled = shk_ynode_get(item, "enabled");
	k.warn_evttypes = shk_ynode_get(item, "warn_evttypes");
	k.skip = shk_ynode_get(item, "skip-if-unknown-filter");
	k.source = shk_ynode_get(item, "source");
	k.actions = shk_ynode_get(item, "actions");
	k.mode = shk_ynode_get(item, "mode");
	/* shape checks for the text keys, whichever path uses them */
	{
		static const char *const texts[] = { "condition", "output", "desc", "priority", "source", NULL };

		for (size_t i = 0; texts[i]; i++) {
			const struct shk_ynode *v;

			if (shk_ynode_get(item, texts[i]) &&
			    get_scalar(ld, item, texts[i], true, what, &v) < 0)
				return -EINVAL;
		}
	}
	if (get_bool(ld, item, "append", what, &append) < 0)
		return -EINVAL;
	if (append)
		warn_append_deprecated(ld, item, what);
	if (read_overrides(ld, item, what, rule_append_keys, rule_replace_keys, &ov) < 0)
		return -EINVAL;
	if (append && ov.n) {
		err_at(ld, item, "%s: keys 'override' and 'append: true' cannot be used together", what);
		return -EINVAL;
	}
	if (ov.n)
		return rule_override(ld, item, name, &k, &ov, what);

	prev = shk_loader_find_rule(ld, name->str, name->len);
	if (append) {
		struct shk_exception_def *ex = NULL;
		uint32_t nex = 0;

		if (!prev) {
			err_at(ld, name, "%s: 'append' to a rule that is not defined", what);
			return -EINVAL;
		}
		if (!k.cond && !k.exceptions) {
			err_at(ld, item, "%s: appended rule must have exceptions or condition property", what);
			return -EINVAL;
		}
		if (k.cond && text_join(&prev->cond, k.cond) < 0)
			return -ENOMEM;
		if (k.exceptions) {
			rr = read_exceptions(ld, k.exceptions, what, true, &ex, &nex);
			if (rr < 0)
				return rr;
			rr = merge_exceptions(ld, prev, ex, nex, what);
			exceptions_free(ex, nex);
			if (rr < 0)
				return rr;
		}
		prev->visibility = ld->seq++;
		return 0;
	}
	if (!k.cond && !k.output && !k.desc && !k.priority) {
		/* enabled-only item: toggles an earlier rule */
		bool en;

		if (!k.enabled) {
			err_at(ld, item, "%s: missing required key 'condition'", what);
			return -EINVAL;
		}
		if (get_bool(ld, item, "enabled", what, &en) < 0)
			return -EINVAL;
		if (!prev) {
			err_at(ld, name, "%s: has 'enabled' key but no rule by that name already exists", what);
			return -EINVAL;
		}
		warn_at(ld, k.enabled - 1, "%s: using 'enabled' alone is deprecated, use 'override: {enabled: replace}'",
			what);
		prev->enabled = en;
		return 0;
	}
	{
		static const char *const req[] = { "condition", "output", "desc", "priority", NULL };

		for (size_t i = 0; req[i]; i++)
			if (!shk_ynode_get(item, req[i])) {
				err_at(ld, item, "%s: missing required key '%s'", what, req[i]);
				return -EINVAL;
			}
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->name = name->str;
	r->loc = shk_ynode_loc(item);
	r->enabled = true;
	r->warn_evttypes = true;
	r->source = k.source ? k.source->str : "syscall";
	r->known_source = !strcmp(r->source, "syscall");
	rr = text_set(&r->cond, k.cond);
	if (!rr)
		rr = text_set(&r->output, k.output);
	if (!rr)
		rr = text_set(&r->desc, k.desc);
	if (rr < 0)
		goto fail;
	rr = -EINVAL;
	/* Falco trims the output */
	while (r->output.len && isspace((unsigned char)r->output.s[r->output.len - 1]))
		r->output.s[--r->output.len] = '\0';
	if (get_priority(ld, k.priority, what, &r->priority) < 0)
		goto fail;
	if (get_bool(ld, item, "enabled", what, &r->enabled) < 0 ||
	    get_bool(ld, item, "warn_evttypes", what, &r->warn_evttypes) < 0 ||
	    get_bool(ld, item, "skip-if-unknown-filter", what, &r->skip_if_unknown_filter) < 0)
		goto fail;
	if (k.tags) {
		rr = get_strings(ld, k.tags, what, "tags", false, &r->tags, &r->ntags);
		if (rr < 0)
			goto fail;
		tags_normalize(r->tags, &r->ntags);
	}
	rr = read_exceptions(ld, k.exceptions, what, false, &r->exceptions, &r->nexceptions);
	if (rr < 0)
		goto fail;
	rr = -EINVAL;
	if (validate_exceptions(ld, r->exceptions, r->nexceptions, what) < 0)
		goto fail;
	if (k.actions) {
		rr = get_actions(ld, k.actions, what, &r->actions, &r->nactions);
		if (rr < 0)
			goto fail;
		rr = -EINVAL;
	}
	if (get_mode(ld, item, what, &r->mode) < 0)
		goto fail;
	if (prev && strcmp(prev->source, r->source)) {
		err_at(ld, name, "%s: rule has been re-defined with a different source", what);
		goto fail;
	}
	if (!r->known_source)
		diag_at(ld, SHK_DIAG_NOTICE, k.source, NULL,
			"%s: source '%s' is not supported by shrike (only 'syscall'); the rule is skipped",
			what, r->source);
	if (prev) {
		int64_t i = idx_find(ld->rule_idx, name->str, name->len);

		r->index = prev->index;
		r->visibility = ld->seq++;
		rule_def_free(prev);
		ld->rules[i] = r;
		return 0;
	}
	r->index = r->visibility = ld->seq++;
	if (push_ptr((void ***)&ld->rules, &ld->nrules, &ld->caps[2], r) < 0) {
		rr = -ENOMEM;
		goto fail;
	}
	if (idx_put(ld->rule_idx, name->str, name->len, ld->nrules - 1) < 0)
		return -ENOMEM;
	return 0;
fail:
	rule_def_free(r);
	return rr;
}

static int handle_response(struct shk_loader *ld, const struct shk_ynode *item)
{
	static const char *const known[] = { "response", "match", "actions", "mode", NULL };
	const struct shk_ynode *name, *match, *acts, *v;
	struct shk_response_def *d;
	char what[300];
	int rr;

	if (get_scalar(ld, item, "response", true, "response", &name) < 0)
		return -EINVAL;
	snprintf(what, sizeof(what), "response '%s'", name->str);
	check_keys(ld, item, what, known);
	match = shk_ynode_get(item, "match");
	acts = shk_ynode_get(item, "actions");
	if (!match || match->kind != SHK_Y_MAP) {
		err_at(ld, match ? match : item, "%s: %s", what,
		       match ? "'match' must be a mapping of rule, tags and/or priority" :
			       "missing required key 'match'");
		return -EINVAL;
	}
	if (!acts) {
		err_at(ld, item, "%s: missing required key 'actions'", what);
		return -EINVAL;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->name = name->str;
	d->loc = shk_ynode_loc(item);
	d->node = item;
	rr = -EINVAL;
	{
		static const char *const mk[] = { "rule", "tags", "priority", NULL };

		check_keys(ld, match, what, mk);
	}
	if (get_scalar(ld, match, "rule", false, what, &v) < 0)
		goto fail;
	d->match_rule = v ? v->str : NULL;
	v = shk_ynode_get(match, "tags");
	if (v && (rr = get_strings(ld, v, what, "tags", true, &d->match_tags,
				   &d->nmatch_tags)) < 0)
		goto fail;
	rr = -EINVAL;
	v = shk_ynode_get(match, "priority");
	if (v) {
		if (get_priority(ld, v, what, &d->match_priority) < 0)
			goto fail;
		d->has_match_priority = true;
	}
	rr = get_actions(ld, acts, what, &d->actions, &d->nactions);
	if (rr < 0)
		goto fail;
	rr = -EINVAL;
	if (get_mode(ld, item, what, &d->mode) < 0)
		goto fail;
	if (push_ptr((void ***)&ld->responses, &ld->nresponses, &ld->caps[3], d) < 0) {
		rr = -ENOMEM;
		goto fail;
	}
	return 0;
fail:
	free(d->match_tags);
	free(d->actions);
	free(d);
	return rr;
}

static int handle_policy(struct shk_loader *ld, const struct shk_ynode *item)
{
	const struct shk_ynode *name, *prot;
	struct shk_policy_def *d;
	char what[300];
	int rr = -EINVAL;

	if (get_scalar(ld, item, "policy", true, "policy", &name) < 0)
		return -EINVAL;
	snprintf(what, sizeof(what), "policy '%s'", name->str);
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->name = name->str;
	d->loc = shk_ynode_loc(item);
	d->node = item;
	if (get_mode(ld, item, what, &d->mode) < 0)
		goto fail;
	prot = shk_ynode_get(item, "protect");
	if (prot && !shk_ynode_is_null(prot)) {
		if (prot->kind != SHK_Y_MAP) {
			err_at(ld, prot, "%s: 'protect' must be a mapping of field: [values]", what);
			goto fail;
		}
		d->protect = calloc(prot->n / 2 + 1, sizeof(*d->protect));
		if (!d->protect) {
			rr = -ENOMEM;
			goto fail;
		}
		for (uint32_t i = 0; i + 1 < prot->n; i += 2) {
			struct shk_protect *p = &d->protect[d->nprotect];

			p->field = prot->kids[i].str;
			p->loc = shk_ynode_loc(&prot->kids[i]);
			if (!exception_field_known(p->field)) {
				err_at(ld, &prot->kids[i], "%s: unknown field '%s' in 'protect'",
				       what, p->field);
				goto fail;
			}
			rr = get_strings(ld, &prot->kids[i + 1], what, "protect", true,
					 &p->values, &p->nvalues);
			if (rr < 0)
				goto fail;
			rr = -EINVAL;
			d->nprotect++;
		}
	}
	if (push_ptr((void ***)&ld->policies, &ld->npolicies, &ld->caps[4], d) < 0) {
		rr = -ENOMEM;
		goto fail;
	}
	return 0;
fail:
	for (uint32_t i = 0; i < d->nprotect; i++)
		free(d->protect[i].values);
	free(d->protect);
	free(d);
	return rr;
}

/* "x.y.z" (or an old integer engine version n = "0.n.0"). */
static int parse_version(const char *s, unsigned v[3])
{
	char *end;
	unsigned long x;

	v[0] = v[1] = v[2] = 0;
	if (!strchr(s, '.')) {
		x = strtoul(s, &end, 10);
		if (end == s || *end || x > 100000)
			return -EINVAL;
		v[1] = x;
		return 0;
	}
	for (int i = 0; i < 3; i++) {
		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		x = strtoul(s, &end, 10);
		if (x > 1000000)
			return -EINVAL;
		v[i] = x;
		s = end;
		if (i < 2) {
			if (*s != '.')
				return -EINVAL;
			s++;
		}
	}
	/* allow a semver pre-release/build suffix */
	return *s == '\0' || *s == '-' || *s == '+' ? 0 : -EINVAL;
}

static int version_cmp(const unsigned a[3], const unsigned b[3])
{
	for (int i = 0; i < 3; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

static int handle_engine_version(struct shk_loader *ld, const struct shk_ynode *item)
{
	const struct shk_ynode *v;
	unsigned want[3], have[3];

	if (get_scalar(ld, item, "required_engine_version", true,
		       "required_engine_version", &v) < 0)
		return -EINVAL;
	if (parse_version(v->str, want) < 0) {
		err_at(ld, v, "unable to parse engine version '%s' as a semver string, expected \"x.y.z\"",
		       v->str);
		return -EINVAL;
	}
	parse_version(SHK_ENGINE_VERSION, have);
	/* semver: same major, and not newer than what shrike implements */
	if (want[0] != have[0] || version_cmp(want, have) > 0) {
		err_at(ld, v, "rules require engine version %s, but shrike implements engine version %s",
		       v->str, SHK_ENGINE_VERSION);
		return -EINVAL;
	}
	if (ld->required_engine_version) {
		unsigned cur[3];

		parse_version(ld->required_engine_version, cur);
		if (version_cmp(want, cur) <= 0)
			return 0;
	}
	ld->required_engine_version = v->str;
	return 0;
}

static int handle_plugins(struct shk_loader *ld, const struct shk_ynode *item)
{
	const struct shk_ynode *reqs = shk_ynode_get(item, "required_plugin_versions");
	const char *what = "required_plugin_versions";

	if (!reqs || reqs->kind != SHK_Y_SEQ) {
		err_at(ld, reqs ? reqs : item, "value of required_plugin_versions must be a sequence");
		return -EINVAL;
	}
	for (uint32_t i = 0; i < reqs->n; i++) {
		const struct shk_ynode *p = &reqs->kids[i], *name, *ver, *alts;
		bool ok;
		unsigned v[3];
		struct shk_plugin_req *np;

		if (p->kind != SHK_Y_MAP) {
			err_at(ld, p, "plugin version must be a mapping");
			return -EINVAL;
		}
		if (get_scalar(ld, p, "name", true, what, &name) < 0 ||
		    get_scalar(ld, p, "version", true, what, &ver) < 0)
			return -EINVAL;
		if (parse_version(ver->str, v) < 0 || !strchr(ver->str, '.')) {
			err_at(ld, ver, "invalid required version '%s' for plugin '%s'",
			       ver->str, name->str);
			return -EINVAL;
		}
		/* shrike implements the container plugin's fields itself */
		ok = !strcmp(name->str, "container");
		alts = shk_ynode_get(p, "alternatives");
		if (alts && alts->kind == SHK_Y_SEQ)
			for (uint32_t j = 0; j < alts->n; j++)
				if (!strcmp(scalar_str(shk_ynode_get(&alts->kids[j], "name")) ?: "",
					    "container"))
					ok = true;
		if (!ok) {
			err_at(ld, name, "rules require plugin '%s' (version %s), which shrike does not provide (only 'container')",
			       name->str, ver->str);
			return -EINVAL;
		}
		np = realloc(ld->plugins, (ld->nplugins + 1) * sizeof(*np));
		if (!np)
			return -ENOMEM;
		ld->plugins = np;
		np[ld->nplugins].name = name->str;
		np[ld->nplugins].version = ver->str;
		np[ld->nplugins].loc = shk_ynode_loc(p);
		ld->nplugins++;
	}
	return 0;
}

static int handle_item(struct shk_loader *ld, const struct shk_ynode *item)
{
	static const struct {
		const char *key;
		int (*fn)(struct shk_loader *, const struct shk_ynode *);
	} kinds[] = {
		/* Falco's precedence when an item has several of these */
		{ "required_engine_version", handle_engine_version },
		{ "required_plugin_versions", handle_plugins },
		{ "list", handle_list },
		{ "macro", handle_macro },
		{ "rule", handle_rule },
		{ "response", handle_response },
		{ "policy", handle_policy },
	};

	if (shk_ynode_is_null(item))
		return 0;
	if (item->kind != SHK_Y_MAP) {
		err_at(ld, item, "unexpected element type: each element should be a YAML mapping (a rule, macro, list, ...)");
		return -EINVAL;
	}
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (shk_ynode_get(item, kinds[i].key))
			return kinds[i].fn(ld, item);
	warn_at(ld, item->n ? &item->kids[0] : item, "unknown top level item '%s' ignored",
		item->n ? item->kids[0].str : "");
	return 0;
}

int shk_loader_parse_buffer(struct shk_loader *ld, const char *name,
			    const char *buf, size_t len,
			    const struct shk_srcfile **ret)
{
	struct yctx y = { .ld = ld };
	struct shk_srcfile *f;
	size_t start = 0;
	struct shk_loc l = { .file = name };
	int r;

	if (len > SHK_RULES_FILE_MAX) {
		shk_diags_add(&ld->diags, SHK_DIAG_ERROR, &l, NULL, 0,
			      "rules file too large (%zu bytes, at most %u)", len,
			      SHK_RULES_FILE_MAX);
		return -EFBIG;
	}
	if (len >= 2 && (((unsigned char)buf[0] == 0xfe && (unsigned char)buf[1] == 0xff) ||
			 ((unsigned char)buf[0] == 0xff && (unsigned char)buf[1] == 0xfe))) {
		shk_diags_add(&ld->diags, SHK_DIAG_ERROR, &l, NULL, 0,
			      "rules files must be UTF-8 (found a UTF-16 byte order mark)");
		return -EINVAL;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->name = strdup(name);
	f->buf = malloc(len + 1);
	if (!f->name || !f->buf ||
	    push_ptr((void ***)&ld->files, &ld->nfiles, &ld->caps[5], f) < 0) {
		srcfile_free(f);
		return -ENOMEM;
	}
	memcpy(f->buf, buf, len);
	f->buf[len] = '\0';
	f->len = len;
	if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
		start = 3;
	if (build_lines(f, start) < 0)
		return -ENOMEM;

	y.f = f;
	if (!yaml_parser_initialize(&y.p))
		return -ENOMEM;
	yaml_parser_set_input_string(&y.p, (const unsigned char *)f->buf, len);
	yaml_parser_set_encoding(&y.p, YAML_UTF8_ENCODING);
	r = parse_yaml(&y);
	yaml_parser_delete(&y.p);
	if (r == -ENOMEM || y.nomem)
		return -ENOMEM;
	if (r < 0)
		return -EINVAL; /* Falco does not load a file that is not YAML */
	*ret = f;
	return 0;
}

int shk_loader_load_buffer(struct shk_loader *ld, const char *name,
			   const char *buf, size_t len)
{
	size_t nerr = ld->diags.nerrors;
	const struct shk_srcfile *f;
	int r = shk_loader_parse_buffer(ld, name, buf, len, &f);

	if (r < 0)
		return r;
	for (uint32_t d = 0; d < f->ndocs; d++) {
		const struct shk_ynode *doc = &f->docs[d];

		if (shk_ynode_is_null(doc))
			continue;
		if (doc->kind != SHK_Y_SEQ) {
			err_at(ld, doc, "rules content is not a YAML sequence of items");
			continue;
		}
		for (uint32_t i = 0; i < doc->n; i++)
			if (handle_item(ld, &doc->kids[i]) == -ENOMEM)
				return -ENOMEM;
	}
	return ld->diags.nerrors > nerr ? -EINVAL : 0;
}

int shk_loader_load_file(struct shk_loader *ld, const char *path)
{
	struct shk_loc l = { .file = path };
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = -errno;
		goto err;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		goto err;
	}
	if ((uint64_t)st.st_size > SHK_RULES_FILE_MAX) {
		r = -EFBIG;
		goto err;
	}
	buf = malloc(st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			goto err;
		}
		len += n;
	}
	close(fd);
	r = shk_loader_load_buffer(ld, path, buf, len);
	free(buf);
	return r;
err:
	if (fd >= 0)
		close(fd);
	free(buf);
	shk_diags_add(&ld->diags, SHK_DIAG_ERROR, &l, NULL, 0,
		      "cannot read rules file: %s", strerror(-r));
	return r;
}
