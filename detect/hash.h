/* SPDX-License-Identifier: Apache-2.0 */
/* FNV-1a over bytes: the loader's and compiler's name tables. (String
 * sets in rule_compile.c use their own word-at-a-time hash.) */
#ifndef SHRIKE_HASH_H
#define SHRIKE_HASH_H

#include <stddef.h>
#include <stdint.h>

static inline uint32_t shk_hash_bytes(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

#endif
