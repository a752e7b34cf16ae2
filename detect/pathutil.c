/* SPDX-License-Identifier: Apache-2.0 */
#include "pathutil.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>

/* Step back over the component that ends at *end (trailing slashes
 * skipped). Returns false when only slashes are left. */
static bool prev_component(const char *s, size_t *end, const char **ret_comp,
			   size_t *ret_len)
{
	size_t e = *end, b;

	while (e > 0 && s[e - 1] == '/')
		e--;
	if (e == 0) {
		*end = 0;
		return false;
	}
	b = e;
	while (b > 0 && s[b - 1] != '/')
		b--;
	*ret_comp = s + b;
	*ret_len = e - b;
	*end = b;
	return true;
}

static bool is_dot(const char *c, size_t len)
{
	return len == 1 && c[0] == '.';
}

static bool is_dotdot(const char *c, size_t len)
{
	return len == 2 && c[0] == '.' && c[1] == '.';
}

/*
 * Walk the components of parts[0], then parts[1], from right to left. A ".."
 * cancels the next kept component to its left, and extra ".." at the left
 * end fall off: the same result as resolving left to right without going
 * above "/", but the kept length is known before anything is written, so a
 * join never fails on a long intermediate that ".." would shorten.
 * With out == NULL only the length is computed; otherwise the components
 * are written ending at out + total.
 */
static size_t walk_right_to_left(const char *const parts[], int nparts,
				 char *out, size_t total)
{
	size_t kept = 0, skip = 0, pos = total;
	const char *c;
	size_t clen;

	for (int i = 0; i < nparts; i++) {
		size_t end = strlen(parts[i]);

		while (prev_component(parts[i], &end, &c, &clen)) {
			if (is_dot(c, clen))
				continue;
			if (is_dotdot(c, clen)) {
				skip++;
				continue;
			}
			if (skip) {
				skip--;
				continue;
			}
			kept += clen + 1;
			if (out) {
				pos -= clen;
				memcpy(out + pos, c, clen);
				out[--pos] = '/';
			}
		}
	}
	return kept;
}

int shk_path_join(const char *base, const char *rel, char *out, size_t outsz)
{
	const char *parts[2];
	int nparts = 0;
	size_t total;

	if (!rel || !*rel || !out)
		return -EINVAL;
	parts[nparts++] = rel;
	if (rel[0] != '/') {
		if (!base || base[0] != '/')
			return -EINVAL;
		parts[nparts++] = base;
	}

	total = walk_right_to_left(parts, nparts, NULL, 0);
	if (total == 0)
		total = 1; /* "/" */
	if (total >= outsz || total > INT_MAX) {
		if (outsz)
			out[0] = '\0';
		return -ENAMETOOLONG;
	}
	if (walk_right_to_left(parts, nparts, out, total) == 0)
		out[0] = '/';
	out[total] = '\0';
	return (int)total;
}

int shk_path_normalize(char *path)
{
	size_t r = 0, w = 0;

	if (!path || path[0] != '/')
		return -EINVAL;
	if (strlen(path) > INT_MAX)
		return -ENAMETOOLONG;

	/*
	 * Left to right, in place: path[0, w) holds "/c1/c2..." (empty for
	 * "/"). Output only ever drops input, so w stays behind r.
	 */
	while (path[r]) {
		size_t b, clen;

		while (path[r] == '/')
			r++;
		if (!path[r])
			break;
		b = r;
		while (path[r] && path[r] != '/')
			r++;
		clen = r - b;
		if (is_dot(path + b, clen))
			continue;
		if (is_dotdot(path + b, clen)) {
			while (w > 0 && path[--w] != '/')
				;
			continue;
		}
		path[w++] = '/';
		memmove(path + w, path + b, clen);
		w += clen;
	}
	if (w == 0)
		path[w++] = '/';
	path[w] = '\0';
	return (int)w;
}

const char *shk_path_basename(const char *path)
{
	const char *slash;

	if (!path)
		return NULL;
	slash = strrchr(path, '/');
	/* Falco keeps the whole name when nothing follows the last slash. */
	if (!slash || slash[1] == '\0')
		return path;
	return slash + 1;
}

int shk_path_dirname(const char *path, char *out, size_t outsz)
{
	const char *slash, *src;
	size_t len;

	if (!path || !out)
		return -EINVAL;
	slash = strrchr(path, '/');
	if (!slash) {
		src = ".";
		len = 1;
	} else if (slash == path) {
		src = "/";
		len = 1;
	} else {
		src = path;
		len = (size_t)(slash - path);
	}
	if (len >= outsz || len > INT_MAX)
		return -ENAMETOOLONG;
	memcpy(out, src, len);
	out[len] = '\0';
	return (int)len;
}
