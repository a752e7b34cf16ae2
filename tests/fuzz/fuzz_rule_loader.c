// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer entry: a rules file through the loader and the compiler. A
 * fixed prelude defining a few lists and macros is loaded first, so that
 * mutated inputs reach list/macro expansion, exceptions and overrides.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "rule_compile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char prelude[] =
	"- list: shells\n  items: [bash, sh, '\"a b\"']\n"
	"- list: more\n  items: [shells, zsh]\n"
	"- macro: spawned_process\n  condition: evt.type in (execve, execveat) and evt.dir=<\n"
	"- macro: container\n  condition: container.id != host\n"
	"- rule: base\n  desc: d\n  output: o\n  priority: INFO\n"
	"  condition: spawned_process and container and proc.name in (more)\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct shk_loader *ld = shk_loader_new();
	struct shk_ruleset *rs;
	char buf[512];

	if (!ld)
		return 0;
	shk_loader_load_buffer(ld, "prelude.yaml", prelude, sizeof(prelude) - 1);
	shk_loader_load_buffer(ld, "fuzz.yaml", (const char *)data, size);
	rs = shk_ruleset_compile(ld);
	if (!rs)
		return 0;
	for (uint32_t i = 0; i < rs->nrules; i++)
		shk_fnode_format(rs->rules[i].filter, buf, sizeof(buf));
	for (size_t i = 0; i < shk_ruleset_diags(rs)->n; i++)
		shk_diag_format(&shk_ruleset_diags(rs)->v[i], buf, sizeof(buf));
	shk_ruleset_free(rs);
	return 0;
}
