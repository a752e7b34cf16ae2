/* SPDX-License-Identifier: Apache-2.0 */
/* shrike: argument dispatch only; each subcommand owns its lifecycle. */
#include <malloc.h>
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
		"  reload     make the running daemon load its policies again\n"
		"  config check  validate the config file without starting\n"
		"  version    print the version\n"
		"  help       print this help\n"
		"\n"
		"Run 'shrike <command> --help' for the options of a command.\n"
		"shrike needs root (CAP_BPF + CAP_PERFMON, or CAP_SYS_ADMIN) and a kernel\n"
		"with BTF (/sys/kernel/btf/vmlinux).\n");
}

/* The process logs to one stderr: one level for all of it (log_level). */
static int log_level = 2;

void cli_set_log_level(int level)
{
	log_level = level;
}

static void vmsg(int level, const char *fmt, va_list ap)
{
	static const char *const prefix[] = { "error: ", "warning: ", "", "debug: " };

	if (level > log_level)
		return;
	fprintf(stderr, "shrike: %s", prefix[level]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

#define CLI_LOG_FN(name, level)                 \
	void name(const char *fmt, ...)         \
	{                                       \
		va_list ap;                     \
                                                \
		va_start(ap, fmt);              \
		vmsg(level, fmt, ap);           \
		va_end(ap);                     \
	}

CLI_LOG_FN(cli_err, 0)
CLI_LOG_FN(cli_warn, 1)
CLI_LOG_FN(cli_info, 2)
CLI_LOG_FN(cli_debug, 3)

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	/* Buffers of 256 KiB and more (the kernel BTF, read and parsed at
	 * start-up: 5 to 8 MiB each) get their own mapping and go back to the
	 * kernel when freed. glibc's default threshold rises to the size of
	 * the last such buffer freed, and the next ones then stayed in the
	 * heap: 11 MiB of a daemon's resident memory for nothing. */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
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
	if (!strcmp(cmd, "reload"))
		return cmd_reload(argc - 1, argv + 1);
	if (!strcmp(cmd, "config"))
		return cmd_config(argc - 1, argv + 1);
	cli_err("unknown command '%s' (see 'shrike --help')", cmd);
	return EXIT_USAGE;
}
