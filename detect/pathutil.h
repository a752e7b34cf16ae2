/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Lexical path helpers: joining, normalising and splitting absolute paths.
 *
 * Nothing here touches the file system: ".." is resolved lexically, the way
 * the kernel-resolved paths in events are compared, not by following links.
 * Paths are untrusted input; every function is bounded by its buffer sizes.
 */
#ifndef SHRIKE_PATHUTIL_H
#define SHRIKE_PATHUTIL_H

#include <stddef.h>

/*
 * Join rel to base and normalise the result into out (outsz bytes, NUL
 * included). An absolute rel ignores base; a relative one needs an absolute
 * base. Normalising collapses "//", drops ".", resolves ".." (never above
 * "/") and removes trailing slashes except for "/" itself. out must not
 * overlap base or rel.
 *
 * Returns the length of the result (without the NUL), -EINVAL when rel is
 * NULL or empty or a relative rel has no absolute base, -ENAMETOOLONG when
 * the result does not fit (out is then an empty string if outsz > 0).
 */
int shk_path_join(const char *base, const char *rel, char *out, size_t outsz);

/*
 * Normalise an absolute path in place, with the rules of shk_path_join().
 * Returns the new length, or -EINVAL when path is NULL or not absolute.
 */
int shk_path_normalize(char *path);

/*
 * The last component, as Falco's fd.filename: "c" for "/a/b/c". A path
 * ending in '/' (only "/" once normalised) is returned whole, and a path
 * without '/' is its own name. Points into path; NULL only for NULL.
 */
const char *shk_path_basename(const char *path);

/*
 * The containing directory, as Falco's fd.directory: "/a/b" for "/a/b/c",
 * "/" for "/a" and for "/", "." for a bare name. Expects a normalised path.
 * Returns the length written to out, -EINVAL for NULL arguments,
 * -ENAMETOOLONG when out is too small.
 */
int shk_path_dirname(const char *path, char *out, size_t outsz);

#endif /* SHRIKE_PATHUTIL_H */
