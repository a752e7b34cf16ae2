/* SPDX-License-Identifier: Apache-2.0 */
#include "jsonw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jw_init(struct jw *w)
{
	memset(w, 0, sizeof(*w));
	w->first[0] = true;
}

void jw_reset(struct jw *w)
{
	w->len = 0;
	w->depth = 0;
	w->first[0] = true;
	w->oom = false;
}

void jw_free(struct jw *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

/* Grow so that n more bytes plus a terminator fit. Out of line: the fast
 * paths below only call it when the buffer is full. */
static bool grow(struct jw *w, size_t n)
{
	size_t cap;
	char *nb;

	if (w->oom)
		return false;
	cap = w->cap ? w->cap : 1024;
	while (cap < w->len + n + 1)
		cap *= 2;
	nb = realloc(w->buf, cap);
	if (!nb) {
		w->oom = true;
		return false;
	}
	w->buf = nb;
	w->cap = cap;
	return true;
}

/* The writer does not keep the buffer NUL-terminated on every append (that
 * store was a measurable share of trace's time); jw_cstr() terminates. */
static inline void put(struct jw *w, const char *s, size_t n)
{
	if (w->len + n + 1 > w->cap && !grow(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static inline void putc_(struct jw *w, char c)
{
	if (w->len + 2 > w->cap && !grow(w, 1))
		return;
	w->buf[w->len++] = c;
}

const char *jw_cstr(struct jw *w)
{
	if (!w->buf && !grow(w, 0))
		return "";
	w->buf[w->len] = '\0';
	return w->buf;
}

/* Separator before a value or key at the current depth. After a key the
 * value follows directly. */
static void sep(struct jw *w)
{
	if (w->depth < 0 || w->depth >= JW_MAX_DEPTH)
		return;
	if (!w->first[w->depth])
		putc_(w, ',');
	w->first[w->depth] = false;
}

static void open_(struct jw *w, char c)
{
	sep(w);
	putc_(w, c);
	if (w->depth + 1 < JW_MAX_DEPTH) {
		w->depth++;
		w->first[w->depth] = true;
	}
}

static void close_(struct jw *w, char c)
{
	putc_(w, c);
	if (w->depth > 0)
		w->depth--;
}

void jw_obj_begin(struct jw *w) { open_(w, '{'); }
void jw_obj_end(struct jw *w) { close_(w, '}'); }
void jw_arr_begin(struct jw *w) { open_(w, '['); }
void jw_arr_end(struct jw *w) { close_(w, ']'); }

/* 1 for bytes that cannot be copied verbatim: controls, '"', '\\' and
 * non-ASCII (checked as UTF-8). One table load per byte in the hot loop. */
static const unsigned char special[256] = {
	[0 ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0x80 ... 0xff] = 1,
};

static void escaped(struct jw *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	putc_(w, '"');
	while (i < n) {
		unsigned char c = p[i];
		size_t run = 0;

		/* copy plain ASCII runs in one go */
		while (i + run < n && !special[p[i + run]])
			run++;
		if (run) {
			put(w, s + i, run);
			i += run;
			continue;
		}
		if (c >= 0x80) {
			/* pass through well-formed UTF-8, escape stray bytes */
			size_t len = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
			bool ok = len && i + len <= n;

			for (size_t k = 1; ok && k < len; k++)
				ok = (p[i + k] & 0xc0) == 0x80;
			if (ok) {
				put(w, s + i, len);
				i += len;
				continue;
			}
		}
		switch (c) {
		case '"': put(w, "\\\"", 2); break;
		case '\\': put(w, "\\\\", 2); break;
		case '\n': put(w, "\\n", 2); break;
		case '\r': put(w, "\\r", 2); break;
		case '\t': put(w, "\\t", 2); break;
		default: {
			char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			put(w, u, 6);
		}
		}
		i++;
	}
	putc_(w, '"');
}

void jw_key(struct jw *w, const char *key)
{
	sep(w);
	escaped(w, key, strlen(key));
	putc_(w, ':');
	/* the value that follows must not add a separator */
	if (w->depth >= 0 && w->depth < JW_MAX_DEPTH)
		w->first[w->depth] = true;
}

/* After a value inside an object/array the next item needs a comma. */
static void after_value(struct jw *w)
{
	if (w->depth >= 0 && w->depth < JW_MAX_DEPTH)
		w->first[w->depth] = false;
}

void jw_strn(struct jw *w, const char *s, size_t n)
{
	sep(w);
	escaped(w, s ? s : "", s ? n : 0);
	after_value(w);
}

void jw_str(struct jw *w, const char *s)
{
	jw_strn(w, s, s ? strlen(s) : 0);
}

/* Decimal digits of v, right-aligned in b[0..24); returns the start.
 * snprintf was most of the writer's time at trace rates. */
static char *utoa(uint64_t v, char b[24])
{
	char *p = b + 24;

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return p;
}

void jw_int(struct jw *w, int64_t v)
{
	char b[25];
	char *p = utoa(v < 0 ? -(uint64_t)v : (uint64_t)v, b + 1);

	if (v < 0)
		*--p = '-';
	sep(w);
	put(w, p, (size_t)(b + 25 - p));
	after_value(w);
}

void jw_uint(struct jw *w, uint64_t v)
{
	char b[24];
	char *p = utoa(v, b);

	sep(w);
	put(w, p, (size_t)(b + 24 - p));
	after_value(w);
}

void jw_bool(struct jw *w, bool v)
{
	sep(w);
	put(w, v ? "true" : "false", v ? 4 : 5);
	after_value(w);
}

void jw_null(struct jw *w)
{
	sep(w);
	put(w, "null", 4);
	after_value(w);
}

void jw_kstr(struct jw *w, const char *k, const char *s) { jw_key(w, k); jw_str(w, s); }
void jw_kstrn(struct jw *w, const char *k, const char *s, size_t n) { jw_key(w, k); jw_strn(w, s, n); }
void jw_kint(struct jw *w, const char *k, int64_t v) { jw_key(w, k); jw_int(w, v); }
void jw_kuint(struct jw *w, const char *k, uint64_t v) { jw_key(w, k); jw_uint(w, v); }
void jw_kbool(struct jw *w, const char *k, bool v) { jw_key(w, k); jw_bool(w, v); }
