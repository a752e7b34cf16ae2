// SPDX-License-Identifier: Apache-2.0
/* The field table (see fields.h). */
#include <string.h>

#include "fields.h"

static const struct shk_field field_table[SHK_FIELD__COUNT] = {
#define SHK_FIELD_ROW(ident, fname, ftype, fflags, fdesc)                  \
	[SHK_FIELD_##ident] = { .id = SHK_FIELD_##ident, .type = ftype,    \
				.name = fname, .desc = fdesc, .flags = fflags },
	SHK_FIELDS(SHK_FIELD_ROW)
#undef SHK_FIELD_ROW
};

static int cmp_name(const char *name, size_t len, const char *key)
{
	size_t klen = strlen(key);
	int c = memcmp(name, key, len < klen ? len : klen);

	if (c)
		return c;
	return len < klen ? -1 : len > klen;
}

const struct shk_field *shk_field_lookup(const char *name, size_t len)
{
	size_t lo = 0, hi = SHK_FIELD__COUNT;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_name(name, len, field_table[mid].name);

		if (!c)
			return &field_table[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const struct shk_field *shk_field_resolve(const char *name, size_t len,
					  const char **ret_arg,
					  size_t *ret_arg_len)
{
	const struct shk_field *f = shk_field_lookup(name, len);

	*ret_arg = NULL;
	*ret_arg_len = 0;
	if (f)
		return f;
	/* NAME.arg: try each shorter dotted prefix, longest first */
	for (size_t i = len; i-- > 0;) {
		if (name[i] != '.')
			continue;
		f = shk_field_lookup(name, i);
		if (f && (f->flags & SHK_FF_ARG_DOT) && i + 1 < len) {
			*ret_arg = name + i + 1;
			*ret_arg_len = len - i - 1;
			return f;
		}
	}
	return NULL;
}

const struct shk_field *shk_fields(size_t *ret_count)
{
	*ret_count = SHK_FIELD__COUNT;
	return field_table;
}

const struct shk_field *shk_field_by_id(enum shk_field_id id)
{
	return (unsigned)id < SHK_FIELD__COUNT ? &field_table[id] : NULL;
}

const char *shk_ftype_name(enum shk_ftype type)
{
	static const char *const names[SHK_FT__COUNT] = {
		[SHK_FT_STRING] = "string",   [SHK_FT_BYTEBUF] = "bytebuf",
		[SHK_FT_UINT64] = "uint64",   [SHK_FT_INT64] = "int64",
		[SHK_FT_BOOL] = "bool",	      [SHK_FT_IPADDR] = "ipaddr",
		[SHK_FT_IPNET] = "ipnet",     [SHK_FT_PORT] = "port",
		[SHK_FT_RELTIME] = "reltime", [SHK_FT_ABSTIME] = "abstime",
		[SHK_FT_STRLIST] = "list",    [SHK_FT_DYN] = "dynamic",
	};

	return (unsigned)type < SHK_FT__COUNT ? names[type] : "?";
}
