/* SPDX-License-Identifier: Apache-2.0 */
/* `shrike config check`, and loading the config the way `run` does. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"

struct shk_conf *config_from_cli(const char *path, char *const *sets, int nsets)
{
	struct shk_conf *c = shk_config_new();
	char buf[2048];
	int bad = 0;

	if (!c) {
		cli_err("out of memory");
		return NULL;
	}
	bad |= shk_config_load(c, path ? path : SHK_CONFIG_PATH, path != NULL);
	for (int i = 0; i < nsets; i++)
		bad |= shk_config_set(c, sets[i]);
	for (size_t i = 0; i < c->diags->n; i++) {
		shk_diag_format(&c->diags->v[i], buf, sizeof(buf));
		fprintf(stderr, "%s\n", buf);
	}
	if (bad || c->diags->nerrors) {
		cli_err("%zu error(s) in the config", c->diags->nerrors);
		shk_config_free(c);
		return NULL;
	}
	return c;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: shrike config check [--config PATH] [-o KEY=VALUE]...\n"
		   "\n"
		   "Validate the config file (default " SHK_CONFIG_PATH "), its config.d/\n"
		   "drop-ins and overrides without starting anything; every error is printed\n"
		   "as file:line:col. Exits 1 when there is an error.\n");
}

int cmd_config(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char *sets[64];
	const char *path = NULL;
	struct shk_conf *c;
	int nsets = 0, o;

	if (argc < 2 || strcmp(argv[1], "check")) {
		if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
			usage(stdout);
			return 0;
		}
		usage(stderr);
		return EXIT_USAGE;
	}
	optind = 1;
	while ((o = getopt_long(argc - 1, argv + 1, "o:h", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			path = optarg;
			break;
		case 'o':
			if (nsets == 64) {
				cli_err("-o: at most 64");
				return EXIT_USAGE;
			}
			sets[nsets++] = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc - 1) {
		cli_err("config check: unexpected argument '%s'", argv[optind + 1]);
		return EXIT_USAGE;
	}
	c = config_from_cli(path, sets, nsets);
	if (!c)
		return 1;
	printf("%s: ok (%u policy paths, %u outputs, mode %s, enforcer %s, metrics %s)\n",
	       path ? path : SHK_CONFIG_PATH, c->npolicies, c->noutputs,
	       c->mode == SHK_MODE_ENFORCE ? "enforce" : "audit", shk_enforcer_name(c->enforcer),
	       c->metrics_enabled ? c->metrics_addr : "off");
	shk_config_free(c);
	return 0;
}
