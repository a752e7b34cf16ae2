/* SPDX-License-Identifier: Apache-2.0 */
/* Alert output (see output.h). */
#include "output.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- text buffer -------------------------------------------------------- */

void shk_strbuf_reset(struct shk_strbuf *b)
{
	b->len = 0;
	b->oom = false;
	if (b->buf)
		b->buf[0] = '\0';
}

void shk_strbuf_free(struct shk_strbuf *b)
{
	free(b->buf);
	memset(b, 0, sizeof(*b));
}

void shk_strbuf_put(struct shk_strbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 512;
		char *nb;

		while (cap < b->len + n + 1)
			cap *= 2;
		nb = realloc(b->buf, cap);
		if (!nb) {
			b->oom = true;
			return;
		}
		b->buf = nb;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

static void put_cstr(struct shk_strbuf *b, const char *s)
{
	shk_strbuf_put(b, s, strlen(s));
}

/* A value as Falco prints it; strings and lists of any length. */
static void put_value(struct shk_strbuf *b, const struct shk_value *v)
{
	char tmp[128];
	size_t n;

	switch (v->type) {
	case SHK_V_STR:
		shk_strbuf_put(b, v->str.s, v->str.len);
		return;
	case SHK_V_LIST:
		shk_strbuf_put(b, "(", 1);
		for (uint32_t i = 0; i < v->n; i++) {
			if (i)
				shk_strbuf_put(b, ",", 1);
			shk_strbuf_put(b, v->list[i].p, v->list[i].len);
		}
		shk_strbuf_put(b, ")", 1);
		return;
	default:
		n = shk_value_format(v, tmp, sizeof(tmp));
		shk_strbuf_put(b, tmp, n < sizeof(tmp) ? n : sizeof(tmp) - 1);
		return;
	}
}

/* ---- compiled formats --------------------------------------------------- */

struct otok {
	bool field;
	uint32_t off, len; /* literal text in o->text */
	struct shk_fieldref ref;
};

/* A field of output_fields: its name as written, and how to read it. */
struct ofield {
	char *name;
	struct shk_fieldref ref;
	bool evt_time; /* "evt.time": the epoch ns, as Falco's JSON has it */
};

struct shk_output {
	char *text; /* the format; field references point into it */
	struct otok *toks;
	uint32_t ntoks;
	struct ofield *fields; /* sorted by name, unique */
	uint32_t nfields;
	uint32_t nunknown;
};

static int push_tok(struct shk_output *o, uint32_t *cap, const struct otok *t)
{
	if (o->ntoks == *cap) {
		uint32_t nc = *cap ? *cap * 2 : 16;
		struct otok *nt = realloc(o->toks, nc * sizeof(*nt));

		if (!nt)
			return -ENOMEM;
		o->toks = nt;
		*cap = nc;
	}
	o->toks[o->ntoks++] = *t;
	return 0;
}

static int push_text(struct shk_output *o, uint32_t *cap, size_t from, size_t to)
{
	struct otok t = { .field = false, .off = (uint32_t)from, .len = (uint32_t)(to - from) };

	return to > from ? push_tok(o, cap, &t) : 0;
}

static int cmp_field(const void *a, const void *b)
{
	return strcmp(((const struct ofield *)a)->name, ((const struct ofield *)b)->name);
}

static int add_field(struct shk_output *o, const char *name, size_t len,
		     const struct shk_fieldref *ref)
{
	struct ofield *nf;

	for (uint32_t i = 0; i < o->nfields; i++)
		if (strlen(o->fields[i].name) == len && !memcmp(o->fields[i].name, name, len))
			return 0;
	nf = realloc(o->fields, (o->nfields + 1) * sizeof(*nf));
	if (!nf)
		return -ENOMEM;
	o->fields = nf;
	nf = &o->fields[o->nfields];
	nf->name = strndup(name, len);
	if (!nf->name)
		return -ENOMEM;
	nf->ref = *ref;
	nf->evt_time = len == 8 && !memcmp(name, "evt.time", 8);
	o->nfields++;
	return 0;
}

static bool has_field(const struct shk_output *o, enum shk_field_id id)
{
	for (uint32_t i = 0; i < o->ntoks; i++)
		if (o->toks[i].field && o->toks[i].ref.id == id)
			return true;
	return false;
}

/* Tokenise o->text. A field token's name is [off, off+len) of the text. */
static int tokenize(struct shk_output *o)
{
	const char *s = o->text;
	size_t len = strlen(s), i = 0, lit = 0;
	uint32_t cap = 0;

	while (i < len) {
		struct shk_fieldref ref;
		size_t name = 0, nlen = 0, next = 0;
		int r;

		if (s[i] != '%' || i + 1 >= len) {
			i++;
			continue;
		}
		if (s[i + 1] == '(') {
			const char *close = memchr(s + i + 2, ')', len - i - 2);

			if (close) {
				name = i + 2;
				nlen = (size_t)(close - s) - name;
				r = shk_fieldref_parse(s + name, nlen, &ref);
				if (r < 0 || (size_t)r != nlen)
					nlen = 0;
				next = (size_t)(close - s) + 1;
			}
		} else {
			name = i + 1;
			r = shk_fieldref_parse(s + name, len - name, &ref);
			nlen = r > 0 ? (size_t)r : 0;
			next = name + nlen;
		}
		if (!nlen) {
			if (isalpha((unsigned char)s[i + 1]) || s[i + 1] == '(')
				o->nunknown++;
			i++;
			continue;
		}
		if (push_text(o, &cap, lit, i) < 0)
			return -ENOMEM;
		{
			struct otok t = { .field = true, .off = (uint32_t)name,
					  .len = (uint32_t)nlen, .ref = ref };

			if (push_tok(o, &cap, &t) < 0 || add_field(o, s + name, nlen, &ref) < 0)
				return -ENOMEM;
		}
		i = lit = next;
	}
	return push_text(o, &cap, lit, len);
}

void shk_output_free(struct shk_output *o)
{
	if (!o)
		return;
	for (uint32_t i = 0; i < o->nfields; i++)
		free(o->fields[i].name);
	free(o->fields);
	free(o->toks);
	free(o->text);
	free(o);
}

static struct shk_output *compile(const char *fmt, size_t len)
{
	struct shk_output *o = calloc(1, sizeof(*o));
	struct shk_fieldref t = { .id = SHK_FIELD_EVT_TIME, .index = -1, .type = SHK_FT_STRING };

	if (!o)
		return NULL;
	o->text = strndup(fmt, len);
	if (!o->text || tokenize(o) < 0 || add_field(o, "evt.time", 8, &t) < 0) {
		shk_output_free(o);
		errno = ENOMEM;
		return NULL;
	}
	qsort(o->fields, o->nfields, sizeof(*o->fields), cmp_field);
	return o;
}

struct shk_output *shk_output_compile(const char *fmt, bool suggested)
{
	struct shk_output *o;
	size_t len;
	char *full;

	if (!fmt)
		fmt = "";
	/* Falco trims the output (folded YAML scalars end with a newline) */
	while (isspace((unsigned char)*fmt))
		fmt++;
	len = strlen(fmt);
	while (len && isspace((unsigned char)fmt[len - 1]))
		len--;
	o = compile(fmt, len);
	if (!o || !suggested)
		return o;
	{
		bool id = has_field(o, SHK_FIELD_CONTAINER_ID);
		bool name = has_field(o, SHK_FIELD_CONTAINER_NAME);

		if (id && name)
			return o;
		if (asprintf(&full, "%.*s%s%s", (int)len, fmt,
			     id ? "" : " container_id=%container.id",
			     name ? "" : " container_name=%container.name") < 0) {
			shk_output_free(o);
			errno = ENOMEM;
			return NULL;
		}
	}
	shk_output_free(o);
	o = compile(full, strlen(full));
	free(full);
	return o;
}

uint32_t shk_output_unknown(const struct shk_output *o)
{
	return o ? o->nunknown : 0;
}

void shk_output_format(const struct shk_output *o, struct shk_evalctx *ctx,
		       struct shk_strbuf *out)
{
	if (!o)
		return;
	for (uint32_t i = 0; i < o->ntoks; i++) {
		const struct otok *t = &o->toks[i];
		struct shk_value v;

		if (!t->field) {
			shk_strbuf_put(out, o->text + t->off, t->len);
			continue;
		}
		shk_extract(ctx, &t->ref, &v);
		put_value(out, &v);
	}
}

/* ---- per ruleset -------------------------------------------------------- */

struct shk_outputs {
	struct shk_output **v;
	uint32_t n;
};

void shk_outputs_free(struct shk_outputs *outs)
{
	if (!outs)
		return;
	for (uint32_t i = 0; i < outs->n; i++)
		shk_output_free(outs->v[i]);
	free(outs->v);
	free(outs);
}

struct shk_outputs *shk_outputs_new(const struct shk_ruleset *rs, bool suggested)
{
	struct shk_outputs *outs = calloc(1, sizeof(*outs));

	if (!outs)
		return NULL;
	outs->v = calloc(rs->nrules ? rs->nrules : 1, sizeof(*outs->v));
	if (!outs->v) {
		free(outs);
		errno = ENOMEM;
		return NULL;
	}
	for (; outs->n < rs->nrules; outs->n++) {
		outs->v[outs->n] = shk_output_compile(rs->rules[outs->n].output, suggested);
		if (!outs->v[outs->n]) {
			shk_outputs_free(outs);
			errno = ENOMEM;
			return NULL;
		}
	}
	return outs;
}

const struct shk_output *shk_outputs_get(const struct shk_outputs *outs, uint32_t rule_id)
{
	return outs && rule_id < outs->n ? outs->v[rule_id] : NULL;
}

/* ---- alerts ------------------------------------------------------------- */

const char *shk_priority_alert_name(enum shk_priority p)
{
	static const char *const names[] = {
		"Emergency", "Alert", "Critical", "Error",
		"Warning", "Notice", "Informational", "Debug",
	};

	return (unsigned)p < sizeof(names) / sizeof(names[0]) ? names[p] : "Unknown";
}

void shk_alert_line(struct shk_strbuf *line, const struct shk_rule *rule,
		    const struct shk_output *o, struct shk_evalctx *ctx)
{
	struct shk_value t;

	shk_strbuf_reset(line);
	shk_extract_id(ctx, SHK_FIELD_EVT_TIME, &t);
	put_value(line, &t);
	shk_strbuf_put(line, ": ", 2);
	put_cstr(line, shk_priority_alert_name(rule->priority));
	shk_strbuf_put(line, " ", 1);
	shk_output_format(o, ctx, line);
}

static void json_value(struct jw *w, const struct shk_value *v)
{
	char tmp[64];

	switch (v->type) {
	case SHK_V_STR:
		jw_strn(w, v->str.s, v->str.len);
		return;
	case SHK_V_I64:
		jw_int(w, v->i);
		return;
	case SHK_V_U64:
		jw_uint(w, v->u);
		return;
	case SHK_V_BOOL:
		jw_bool(w, v->b);
		return;
	case SHK_V_IP:
		shk_value_format(v, tmp, sizeof(tmp));
		jw_str(w, tmp);
		return;
	case SHK_V_LIST:
		jw_arr_begin(w);
		for (uint32_t i = 0; i < v->n; i++)
			jw_strn(w, v->list[i].p, v->list[i].len);
		jw_arr_end(w);
		return;
	default:
		jw_null(w);
		return;
	}
}

int shk_alert_json(struct jw *w, struct shk_strbuf *line, const struct shk_rule *rule,
		   const struct shk_output *o, struct shk_evalctx *ctx,
		   const struct shk_alert_hook *hook)
{
	struct shk_value v;

	shk_alert_line(line, rule, o, ctx);
	jw_obj_begin(w);
	jw_kstr(w, "hostname", ctx->hostname ? ctx->hostname : "");
	jw_kstrn(w, "output", line->buf ? line->buf : "", line->len);
	jw_key(w, "output_fields");
	jw_obj_begin(w);
	for (uint32_t i = 0; o && i < o->nfields; i++) {
		const struct ofield *f = &o->fields[i];

		jw_key(w, f->name);
		if (f->evt_time) {
			shk_extract_id(ctx, SHK_FIELD_EVT_RAWTIME, &v);
			json_value(w, &v);
			continue;
		}
		shk_extract(ctx, &f->ref, &v);
		json_value(w, &v);
	}
	jw_obj_end(w);
	jw_kstr(w, "priority", shk_priority_alert_name(rule->priority));
	if (hook && hook->fn)
		hook->fn(w, rule, ctx, hook->data);
	jw_kstr(w, "rule", rule->name ? rule->name : "");
	jw_kstr(w, "source", "syscall");
	jw_key(w, "tags");
	jw_arr_begin(w);
	for (uint32_t i = 0; i < rule->ntags; i++)
		jw_str(w, rule->tags[i]);
	jw_arr_end(w);
	shk_extract_id(ctx, SHK_FIELD_EVT_TIME_ISO8601, &v);
	jw_key(w, "time");
	json_value(w, &v);
	jw_obj_end(w);
	return w->oom || line->oom ? -ENOMEM : 0;
}
