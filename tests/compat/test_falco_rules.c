// SPDX-License-Identifier: Apache-2.0
/*
 * Compat tier: the upstream Falco rule files load unchanged and every rule
 * compiles. Each file is loaded alone (each is self-contained: Falco loads
 * them alone too), then all three in Falco's order into one ruleset.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "rule_compile.h"
#include "testlib.h"

static const char *const files[] = {
	"falco_rules.yaml",
	"falco-incubating_rules.yaml",
	"falco-sandbox_rules.yaml",
};
#define NFILES (sizeof(files) / sizeof(files[0]))

static int failures;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Per-file summary; returns the file's error count. */
static size_t summarize(struct shk_ruleset *rs, const char *path, const char *label)
{
	const struct shk_loader *ld = rs->loader;
	struct shk_diags *d = shk_ruleset_diags(rs);
	unsigned defined = 0, compiled = 0, skipped = 0;
	size_t errors = 0, warnings = 0;
	char buf[1024];

	for (uint32_t i = 0; i < ld->nrules; i++)
		if (!strcmp(ld->rules[i]->loc.file, path)) {
			defined++;
			skipped += !ld->rules[i]->known_source;
		}
	for (uint32_t i = 0; i < rs->nrules; i++)
		compiled += !strcmp(rs->rules[i].loc.file, path);
	for (size_t i = 0; i < d->n; i++) {
		if (!d->v[i].file || strcmp(d->v[i].file, path))
			continue;
		if (d->v[i].level == SHK_DIAG_ERROR) {
			errors++;
			shk_diag_format(&d->v[i], buf, sizeof(buf));
			fprintf(stderr, "  %s\n", buf);
		} else if (d->v[i].level == SHK_DIAG_WARNING) {
			warnings++;
		}
	}
	printf("%s%s: %u rules, %u compiled, %zu errors, %zu warnings%s\n", label,
	       strrchr(path, '/') + 1, defined, compiled, errors, warnings,
	       skipped ? " (some skipped: other sources)" : "");
	if (errors || compiled + skipped != defined) {
		printf("FAIL: %s\n", path);
		failures++;
	}
	return errors;
}

static struct shk_ruleset *load(char paths[][4096], size_t n, double *ret_ms)
{
	double t0 = now_ms();
	struct shk_loader *ld = shk_loader_new();
	struct shk_ruleset *rs;

	if (!ld) {
		perror("shk_loader_new");
		exit(1);
	}
	for (size_t i = 0; i < n; i++)
		shk_loader_load_file(ld, paths[i]);
	rs = shk_ruleset_compile(ld);
	if (!rs) {
		perror("shk_ruleset_compile");
		exit(1);
	}
	*ret_ms = now_ms() - t0;
	return rs;
}

int main(void)
{
	const char *dir = getenv("SHRIKE_FALCO_RULES");
	char paths[NFILES][4096];
	struct shk_ruleset *rs;
	struct stat st;
	double ms;

	if (!dir || stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "SKIP: upstream Falco rules not found (SHRIKE_FALCO_RULES=%s)\n",
			dir ? dir : "unset");
		return TEST_SKIP;
	}
	for (size_t i = 0; i < NFILES; i++) {
		snprintf(paths[i], sizeof(paths[i]), "%s/%s", dir, files[i]);
		if (stat(paths[i], &st) < 0) {
			fprintf(stderr, "SKIP: %s is missing\n", paths[i]);
			return TEST_SKIP;
		}
	}

	printf("each file alone:\n");
	for (size_t i = 0; i < NFILES; i++) {
		rs = load(&paths[i], 1, &ms);
		summarize(rs, paths[i], "  ");
		printf("    (%.1f ms)\n", ms);
		shk_ruleset_free(rs);
	}

	printf("all three, in order, into one ruleset:\n");
	rs = load(paths, NFILES, &ms);
	for (size_t i = 0; i < NFILES; i++)
		summarize(rs, paths[i], "  ");
	printf("  total: %u rules compiled, %u failed, %u skipped, %zu errors, %zu warnings, %.1f ms\n",
	       rs->nrules, rs->nfailed, rs->nskipped, shk_ruleset_diags(rs)->nerrors,
	       shk_ruleset_diags(rs)->nwarnings, ms);
	if (rs->nfailed || shk_ruleset_diags(rs)->nerrors) {
		printf("FAIL: combined ruleset has errors\n");
		failures++;
	}
	/* sanity: the well-known rules are there and indexed by type */
	{
		const struct shk_rule *r = shk_ruleset_find(rs, "Terminal shell in container");
		uint32_t n;

		if (!r || r->all_evtypes || !shk_evtset_has(&r->evtypes, shk_evtype_resolve("execve")) ||
		    !shk_ruleset_rules_for(rs, shk_evtype_resolve("execve"), &n) || !n) {
			printf("FAIL: 'Terminal shell in container' is missing or not indexed by execve\n");
			failures++;
		}
	}
	shk_ruleset_free(rs);
	return failures ? 1 : 0;
}
