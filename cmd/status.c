/* SPDX-License-Identifier: Apache-2.0 */
/* `shrike status`: ask the running daemon, over its control socket. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "control.h"

/* One request to the daemon: `shrike status` and `shrike reload`. */
static int ask(int argc, char **argv, const char *req, const char *help)
{
	const char *path = SHK_CONTROL_PATH;
	int err, status;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(help, stdout);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "--control")) {
		path = argv[2];
	} else if (argc != 1) {
		cli_err("%s: unexpected argument '%s' (see 'shrike %s --help')", req, argv[1], req);
		return EXIT_USAGE;
	}
	err = control_request(path, req, &status);
	if (err == -ENOENT || err == -ECONNREFUSED) {
		fprintf(stderr, "shrike is not running (no control socket answering at %s)\n", path);
		return 3;
	}
	if (err) {
		cli_err("cannot reach the control socket %s: %s%s", path, strerror(-err),
			err == -EACCES ? " (it is for root only)" : "");
		return 1;
	}
	return status;
}

int cmd_status(int argc, char **argv)
{
	return ask(argc, argv, "status",
		   "usage: shrike status [--control PATH]\n\n"
		   "Ask the running shrike (through its root-only control socket, default\n"
		   SHK_CONTROL_PATH ") for its state as JSON: loaded policies, rules and\n"
		   "actions, the deny backend, counters (events, drops, alerts, action\n"
		   "outcomes) and the quarantines in force. Exits 3 when no shrike runs.\n");
}

int cmd_reload(int argc, char **argv)
{
	return ask(argc, argv, "reload",
		   "usage: shrike reload [--control PATH]\n\n"
		   "Make the running shrike load its policies again from the same paths.\n"
		   "Everything is compiled first: on any error the running policies stay\n"
		   "and the errors are reported. The kernel switches to the new deny rules\n"
		   "in one step, so no moment is without them. Exits 1 on error, 3 when no\n"
		   "shrike runs.\n");
}
