/* SPDX-License-Identifier: Apache-2.0 */
/* Loading policy files (Falco rule files plus shrike's keys) for the
 * commands: files and directories, in order, into one ruleset. */
#ifndef SHRIKE_POLICY_H
#define SHRIKE_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "rule_compile.h"

/*
 * Load each path in order; a directory contributes its *.yaml and *.yml
 * files in name order. Every diagnostic is printed on stderr as
 * "file:line:col: level: message". Returns the ruleset (caller frees with
 * shk_ruleset_free) and the error count in *ret_errors; NULL only when
 * nothing could be compiled at all (out of memory).
 */
#define SHK_DEFAULT_POLICY_DIR "/etc/shrike/policies"

/* The default policy paths when none are given: /etc/shrike/policies,
 * else the rules/ and policies/ of the source tree shrike was built from.
 * Fills paths (room for 2) and returns how many, or -ENOENT (reported). */
int policy_defaults(char **paths);

struct shk_ruleset *policy_load(char *const *paths, int npaths, bool show_warnings,
				size_t *ret_errors);

#endif
