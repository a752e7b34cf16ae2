/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A minimal streaming JSON writer into a growable buffer. Used on hot
 * output paths (trace, alerts) where building a cJSON tree per event would
 * cost more than the event itself. Strings are escaped per RFC 8259;
 * invalid UTF-8 bytes are written as \u00XX so output is always valid JSON.
 */
#ifndef SHRIKE_JSONW_H
#define SHRIKE_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JW_MAX_DEPTH 16

struct jw {
	char *buf;
	size_t len, cap;
	int depth;
	bool first[JW_MAX_DEPTH];
	bool oom; /* sticky: an allocation failed, output is incomplete */
};

void jw_init(struct jw *w);
void jw_reset(struct jw *w);
void jw_free(struct jw *w);
/* The output so far, NUL-terminated; buf[len] has room for one more byte. */
const char *jw_cstr(struct jw *w);

void jw_obj_begin(struct jw *w);
void jw_obj_end(struct jw *w);
void jw_arr_begin(struct jw *w);
void jw_arr_end(struct jw *w);
/* Object member key; the next value call writes its value. */
void jw_key(struct jw *w, const char *key);

void jw_str(struct jw *w, const char *s);
void jw_strn(struct jw *w, const char *s, size_t n);
void jw_int(struct jw *w, int64_t v);
void jw_uint(struct jw *w, uint64_t v);
void jw_bool(struct jw *w, bool v);
void jw_null(struct jw *w);

/* Convenience: key + value. */
void jw_kstr(struct jw *w, const char *k, const char *s);
void jw_kstrn(struct jw *w, const char *k, const char *s, size_t n);
void jw_kint(struct jw *w, const char *k, int64_t v);
void jw_kuint(struct jw *w, const char *k, uint64_t v);
void jw_kbool(struct jw *w, const char *k, bool v);

#endif
