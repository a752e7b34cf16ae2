/* SPDX-License-Identifier: Apache-2.0 */
/* Running `shrike run --json` around real actions, for system tests. */
#ifndef SHRIKE_RUNLIB_H
#define SHRIKE_RUNLIB_H

#include <sys/types.h>
#include <cjson/cJSON.h>

#define RUN_MAX_ALERTS 8192

struct shrike_run {
	char out_path[1024];
	pid_t pid;
	int errfd;
	cJSON *alerts[RUN_MAX_ALERTS];
	int nalerts;
	char summary[512]; /* the "shrike: stopped: ..." line */
};

/* Start `$SHRIKE_BIN run --json <args...>` (NULL-terminated), alerts into
 * dir/alerts.jsonl; returns once shrike printed "ready" (exits the test
 * with a message if it does not). */
void shrike_run_start(struct shrike_run *r, const char *dir, const char *const *args);
/* Let the last records arrive, SIGINT shrike, check it exited 0, load the
 * alerts. */
void shrike_run_stop(struct shrike_run *r);
void shrike_run_free(struct shrike_run *r);
/* The first alert of `rule` whose output_fields[field] contains needle
 * (field NULL: any); prints every alert seen when there is none. */
const cJSON *shrike_run_find(const struct shrike_run *r, const char *rule, const char *field,
			     const char *needle);
const char *shrike_json_str(const cJSON *o, const char *key);
/* The first entry of an alert's response list, or NULL. */
const cJSON *shrike_response0(const cJSON *alert);

/* A loopback "attacker" listener in a thread: accepts, tells the shell to
 * exit, drains, closes. Returns its port. */
int test_attacker_listener(void);
/* `timeout 5 sh -c CMD` with no terminal and HOME=home (an interactive
 * bash must not run the machine's .bashrc); waits for it. */
void test_attack(const char *home, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
