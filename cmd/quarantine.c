/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `shrike quarantine list|release`: the quarantines shrike put in force,
 * from the durable state; release thaws and un-isolates. Works directly on
 * the state and the kernel (frozen cgroups, pinned links), so it works
 * whether or not the daemon runs.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "control.h"
#include "freeze.h"
#include "isolate.h"
#include "jsonw.h"
#include "qstate.h"

static void q_usage(FILE *f)
{
	fprintf(f, "usage: shrike quarantine list [--json] [--state-dir DIR]\n"
		   "       shrike quarantine release ID|--all [--state-dir DIR]\n"
		   "\n"
		   "List the quarantines (freeze, isolate, quarantine) shrike has put in\n"
		   "force, or release them: thaw the cgroup, remove its network isolation\n"
		   "(BPF links, veth), and forget the record. A release goes through the\n"
		   "running daemon's control socket when there is one, and works on the\n"
		   "state directly otherwise. DIR defaults to " SHK_STATE_DIR ".\n");
}

static int release_one(const char *dir, const struct shk_qrec *r, struct shk_isolator **iso)
{
	char msg[1400];
	int err = shk_qstate_release(dir, r, iso, msg, sizeof(msg));

	if (err)
		cli_err("quarantine %u: %s", r->id, msg);
	else
		printf("%s\n", msg);
	return err;
}

int cmd_quarantine(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "all", no_argument, NULL, 'a' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *dir = SHK_STATE_DIR, *sub = argc > 1 ? argv[1] : NULL;
	bool json = false, all = false, own_dir = false;
	struct shk_isolator *iso = NULL;
	struct shk_qrec *v = NULL;
	size_t n = 0;
	int c, err, ret = 0;
	char *end;

	if (!sub || !strcmp(sub, "--help") || !strcmp(sub, "-h")) {
		q_usage(sub ? stdout : stderr);
		return sub ? 0 : EXIT_USAGE;
	}
	if (strcmp(sub, "list") && strcmp(sub, "release")) {
		cli_err("quarantine: expected 'list' or 'release', not '%s'", sub);
		return EXIT_USAGE;
	}
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'a':
			all = true;
			break;
		case 'd':
			dir = optarg;
			own_dir = true;
			break;
		case 'h':
			q_usage(stdout);
			return 0;
		default:
			fprintf(stderr, "see 'shrike quarantine --help'\n");
			return EXIT_USAGE;
		}
	}
	/* a release goes through the running daemon when there is one (it
	 * owns the isolations it made); with no daemon, or with a state
	 * directory of one's own, it is done here */
	if (!strcmp(sub, "release") && !own_dir && all != (optind < argc - 1)) {
		char req[128];
		int status;

		snprintf(req, sizeof(req), "quarantine release %s", all ? "--all" : argv[optind + 1]);
		err = control_request(SHK_CONTROL_PATH, req, &status);
		if (!err)
			return status;
	}
	err = shk_qstate_load(dir, &v, &n);
	if (err) {
		cli_err("cannot read the quarantine state in %s: %s%s", dir, strerror(-err),
			err == -EACCES ? " (run as root)" : "");
		return 1;
	}
	if (!strcmp(sub, "list")) {
		struct jw w;

		jw_init(&w);
		if (json)
			jw_arr_begin(&w);
		for (size_t i = 0; i < n; i++) {
			char when[32];
			time_t t = (time_t)v[i].time;
			struct tm tm;

			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
			if (json) {
				jw_obj_begin(&w);
				jw_kuint(&w, "id", v[i].id);
				jw_kstr(&w, "kind", v[i].kind);
				jw_kstr(&w, "cgroup", v[i].cgroup);
				jw_kstr(&w, "rule", v[i].rule);
				jw_kstr(&w, "time", when);
				jw_kint(&w, "pid", v[i].pid);
				jw_kbool(&w, "frozen", shk_cgroup_frozen(v[i].cgroup) == 1);
				jw_obj_end(&w);
			} else {
				printf("%u\t%s\t%s\t%s\t%s\n", v[i].id, v[i].kind, when, v[i].cgroup,
				       v[i].rule);
			}
		}
		if (json) {
			jw_arr_end(&w);
			puts(jw_cstr(&w));
		} else if (!n) {
			printf("no quarantines in force\n");
		}
		jw_free(&w);
		free(v);
		return 0;
	}

	if (all == (optind < argc - 1)) {
		cli_err("quarantine release: give one ID or --all");
		free(v);
		return EXIT_USAGE;
	}
	if (!all) {
		unsigned long id = strtoul(argv[optind + 1], &end, 10);
		bool found = false;

		for (size_t i = 0; *end == '\0' && i < n && !found; i++)
			if (v[i].id == id) {
				found = true;
				ret = release_one(dir, &v[i], &iso) ? 1 : 0;
			}
		if (!found) {
			cli_err("quarantine release: no quarantine %s (see shrike quarantine list)",
				argv[optind + 1]);
			ret = 1;
		}
	} else {
		for (size_t i = 0; i < n; i++)
			if (release_one(dir, &v[i], &iso))
				ret = 1;
	}
	shk_isolator_free(iso);
	free(v);
	return ret;
}
