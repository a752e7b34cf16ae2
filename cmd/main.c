/* SPDX-License-Identifier: Apache-2.0 */
/* shrike: argument dispatch only; each subcommand owns its lifecycle. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "shrike_abi.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: shrike <command> [options]\n"
		"\n"
		"shrike is a Linux runtime-security agent: it captures process, file and\n"
		"network activity with BPF sensors in the kernel and evaluates Falco rules.\n"
		"\n"
		"commands:\n"
		"  run        run the sensors and the rules; print alerts\n"
		"  trace      print decoded kernel events live (for rule authoring)\n"
		"  validate   check policy/rule files and report errors with their location\n"
		"  rules list list the rules of the policies\n"
		"  fields     list the fields rules can use\n"
		"  quarantine list|release  the quarantines in force; release them\n"
		"  status     the running daemon's state (control socket)\n"
		"  config check  validate the config file without starting\n"
		"  version    print the version\n"
		"  help       print this help\n"
		"\n"
		"Run 'shrike <command> --help' for the options of a command.\n"
		"shrike needs root (CAP_BPF + CAP_PERFMON, or CAP_SYS_ADMIN) and a kernel\n"
		"with BTF (/sys/kernel/btf/vmlinux).\n");
}

static void vmsg(const char *level, const char *fmt, va_list ap)
{
	fprintf(stderr, "shrike: %s", level);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void cli_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("error: ", fmt, ap);
	va_end(ap);
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap);
	va_end(ap);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("shrike %s (event ABI %d)\n", SHRIKE_VERSION, SHK_ABI_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "trace"))
		return cmd_trace(argc - 1, argv + 1);
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(cmd, "validate"))
		return cmd_validate(argc - 1, argv + 1);
	if (!strcmp(cmd, "rules"))
		return cmd_rules(argc - 1, argv + 1);
	if (!strcmp(cmd, "fields"))
		return cmd_fields(argc - 1, argv + 1);
	if (!strcmp(cmd, "quarantine"))
		return cmd_quarantine(argc - 1, argv + 1);
	if (!strcmp(cmd, "status"))
		return cmd_status(argc - 1, argv + 1);
	if (!strcmp(cmd, "config"))
		return cmd_config(argc - 1, argv + 1);
	cli_err("unknown command '%s' (see 'shrike --help')", cmd);
	return EXIT_USAGE;
}
