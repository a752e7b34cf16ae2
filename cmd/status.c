/* SPDX-License-Identifier: Apache-2.0 */
/* `shrike status`: ask the running daemon, over its control socket. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "control.h"

int cmd_status(int argc, char **argv)
{
	const char *path = SHK_CONTROL_PATH;
	int err, status;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: shrike status [--control PATH]\n\n"
		       "Ask the running shrike (through its root-only control socket, default\n"
		       SHK_CONTROL_PATH ") for its state as JSON: loaded policies, rules and\n"
		       "actions, the deny backend, counters (events, drops, alerts, action\n"
		       "outcomes) and the quarantines in force. Exits 3 when no shrike runs.\n");
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "--control")) {
		path = argv[2];
	} else if (argc != 1) {
		cli_err("status: unexpected argument '%s' (see 'shrike status --help')", argv[1]);
		return EXIT_USAGE;
	}
	err = control_request(path, "status", &status);
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
