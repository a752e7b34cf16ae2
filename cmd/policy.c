/* SPDX-License-Identifier: Apache-2.0 */
#include "policy.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "rule_loader.h"

static bool is_policy_name(const char *n)
{
	size_t len = strlen(n);

	if (n[0] == '.')
		return false;
	return (len > 5 && !strcmp(n + len - 5, ".yaml")) || (len > 4 && !strcmp(n + len - 4, ".yml"));
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Load a directory's policy files in name order. */
static int load_dir(struct shk_loader *ld, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int err = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		if (!is_policy_name(e->d_name))
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 16) * sizeof(*names));
			if (!nn) {
				err = -ENOMEM;
				break;
			}
			names = nn;
		}
		if (!(names[n] = malloc(strlen(dir) + strlen(e->d_name) + 2))) {
			err = -ENOMEM;
			break;
		}
		sprintf(names[n++], "%s/%s", dir, e->d_name);
	}
	closedir(d);
	if (!err) {
		if (n == 0)
			cli_warn("%s: no *.yaml or *.yml policy files in this directory", dir);
		qsort(names, n, sizeof(*names), cmp_names);
		for (size_t i = 0; i < n; i++) {
			int r = shk_loader_load_file(ld, names[i]);
			if (r == -ENOMEM)
				err = r;
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return err;
}

int policy_defaults(char **paths)
{
	if (!access(SHK_DEFAULT_POLICY_DIR, R_OK)) {
		paths[0] = (char *)SHK_DEFAULT_POLICY_DIR;
		return 1;
	}
	/* a build tree that was not installed: rules first, then what to do */
	if (!access(SHRIKE_SOURCE_RULES, R_OK) && !access(SHRIKE_SOURCE_POLICIES, R_OK)) {
		paths[0] = (char *)SHRIKE_SOURCE_RULES;
		paths[1] = (char *)SHRIKE_SOURCE_POLICIES;
		return 2;
	}
	cli_err("no policy given and neither " SHK_DEFAULT_POLICY_DIR " nor the source tree's rules/ "
		"and policies/ exist: use --policy FILE|DIR");
	return -ENOENT;
}

struct shk_ruleset *policy_load(char *const *paths, int npaths, bool show_warnings,
				size_t *ret_errors)
{
	struct shk_loader *ld = shk_loader_new();
	struct shk_ruleset *rs;
	struct shk_diags *dg;
	char buf[4096];

	*ret_errors = 0;
	if (!ld) {
		cli_err("out of memory");
		return NULL;
	}
	for (int i = 0; i < npaths; i++) {
		struct stat st;

		if (!stat(paths[i], &st) && S_ISDIR(st.st_mode)) {
			int err = load_dir(ld, paths[i]);

			if (err) {
				cli_err("%s: cannot read directory: %s", paths[i], strerror(-err));
				(*ret_errors)++;
			}
		} else if (shk_loader_load_file(ld, paths[i]) == -ENOMEM) {
			cli_err("out of memory");
			shk_loader_free(ld);
			return NULL;
		}
	}
	rs = shk_ruleset_compile(ld); /* owns ld from here, also on failure */
	if (!rs) {
		cli_err("cannot compile the rules: %s", strerror(errno));
		return NULL;
	}
	dg = shk_ruleset_diags(rs);
	for (size_t i = 0; dg && i < dg->n; i++) {
		const struct shk_diag *d = &dg->v[i];

		if (d->level != SHK_DIAG_ERROR && !show_warnings)
			continue;
		shk_diag_format(d, buf, sizeof(buf));
		fprintf(stderr, "%s\n", buf);
	}
	if (dg && dg->ndropped)
		fprintf(stderr, "shrike: %zu further diagnostics not shown\n", dg->ndropped);
	*ret_errors += dg ? dg->nerrors : 0;
	return rs;
}
