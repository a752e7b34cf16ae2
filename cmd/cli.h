/* SPDX-License-Identifier: Apache-2.0 */
/* Subcommands of the shrike binary. Each takes argv after the subcommand
 * name (argv[0] is the subcommand) and returns the process exit status. */
#ifndef SHRIKE_CLI_H
#define SHRIKE_CLI_H

int cmd_trace(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_fields(int argc, char **argv);
int cmd_quarantine(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_reload(int argc, char **argv);
int cmd_config(int argc, char **argv);

struct shk_conf;
/* The config (default path optional, --config's required) plus -o
 * overrides; prints every diagnostic; NULL on errors. */
struct shk_conf *config_from_cli(const char *path, char *const *sets, int nsets);

/* One-line error on stderr, prefixed "shrike: ". */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The least severe of those printed: 0 error, 1 warning, 2 info (the
 * default), 3 debug (enum shk_log_level). The ready and summary lines are
 * not log messages: they are always printed. */
void cli_set_log_level(int level);

#define EXIT_USAGE 2

#endif
