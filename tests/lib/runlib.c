/* SPDX-License-Identifier: Apache-2.0 */
#include "runlib.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

void shrike_run_start(struct shrike_run *r, const char *dir, const char *const *args)
{
	const char *bin = test_env("SHRIKE_BIN");
	const char *argv[64] = { bin, "run", "--json" };
	int errpipe[2], n = 3;
	char line[1024];
	FILE *err;

	memset(r, 0, sizeof(*r));
	for (; args && *args && n < 62; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	snprintf(r->out_path, sizeof(r->out_path), "%s/alerts.jsonl", dir);
	if (pipe(errpipe)) {
		perror("pipe");
		exit(1);
	}
	r->pid = fork();
	if (r->pid == 0) {
		int out = open(r->out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(out, 1);
		dup2(errpipe[1], 2);
		close(errpipe[0]);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	close(errpipe[1]);
	err = fdopen(errpipe[0], "r");
	while (fgets(line, sizeof(line), err)) {
		fputs(line, stderr);
		if (strstr(line, "shrike: ready")) {
			r->errfd = errpipe[0];
			fcntl(r->errfd, F_SETFL, O_NONBLOCK);
			return;
		}
	}
	fprintf(stderr, "shrike run exited before it was ready\n");
	exit(1);
}

void shrike_run_stop(struct shrike_run *r)
{
	char buf[8192], *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int status;
	FILE *f;

	usleep(300 * 1000); /* the consumer drains at least every 10 ms */
	kill(r->pid, SIGINT);
	waitpid(r->pid, &status, 0);
	fcntl(r->errfd, F_SETFL, 0);
	while ((n = read(r->errfd, buf, sizeof(buf) - 1)) > 0) {
		char *s;

		buf[n] = '\0';
		fputs(buf, stderr);
		if ((s = strstr(buf, "shrike: stopped")))
			snprintf(r->summary, sizeof(r->summary), "%s", s);
	}
	close(r->errfd);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "shrike run failed (status %d)\n", status);
		exit(1);
	}
	f = fopen(r->out_path, "r");
	if (!f) {
		perror(r->out_path);
		exit(1);
	}
	while (getline(&line, &cap, f) > 0 && r->nalerts < RUN_MAX_ALERTS) {
		cJSON *j = cJSON_Parse(line);

		if (!j) {
			fprintf(stderr, "invalid JSON alert: %s\n", line);
			exit(1);
		}
		r->alerts[r->nalerts++] = j;
	}
	free(line);
	fclose(f);
	fprintf(stderr, "collected %d alerts\n", r->nalerts);
}

void shrike_run_free(struct shrike_run *r)
{
	for (int i = 0; i < r->nalerts; i++)
		cJSON_Delete(r->alerts[i]);
	r->nalerts = 0;
}

const char *shrike_json_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

const cJSON *shrike_response0(const cJSON *alert)
{
	const cJSON *r = alert ? cJSON_GetObjectItemCaseSensitive(alert, "response") : NULL;

	return cJSON_IsArray(r) ? cJSON_GetArrayItem(r, 0) : NULL;
}

const cJSON *shrike_run_find(const struct shrike_run *r, const char *rule, const char *field,
			     const char *needle)
{
	for (int i = 0; i < r->nalerts; i++) {
		const cJSON *a = r->alerts[i];
		const char *v;

		if (strcmp(shrike_json_str(a, "rule") ?: "", rule))
			continue;
		if (!field)
			return a;
		v = shrike_json_str(cJSON_GetObjectItemCaseSensitive(a, "output_fields"), field);
		if (v && strstr(v, needle))
			return a;
	}
	fprintf(stderr, "no '%s' alert with %s ~ '%s'; alerts seen:\n", rule, field ?: "-",
		needle ?: "-");
	for (int i = 0; i < r->nalerts; i++)
		fprintf(stderr, "  %s: %.200s\n", shrike_json_str(r->alerts[i], "rule") ?: "-",
			shrike_json_str(r->alerts[i], "output") ?: "-");
	return NULL;
}

static void *attacker(void *arg)
{
	int s = *(int *)arg;

	for (;;) {
		struct timeval tv = { .tv_sec = 1 };
		char buf[256];
		int c = accept(s, NULL, NULL);

		if (c < 0)
			continue;
		if (write(c, "exit\n", 5) != 5) {
			close(c);
			continue;
		}
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		while (read(c, buf, sizeof(buf)) > 0)
			;
		close(c);
	}
	return NULL;
}

int test_attacker_listener(void)
{
	static int s;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	pthread_t t;

	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 64) ||
	    getsockname(s, (struct sockaddr *)&a, &len) || pthread_create(&t, NULL, attacker, &s)) {
		perror("listener");
		exit(1);
	}
	return ntohs(a.sin_port);
}

void test_attack(const char *home, const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	pid_t p;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = fork();
	if (p == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		setenv("HOME", home, 1);
		execl("/usr/bin/timeout", "timeout", "5", "/bin/sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	waitpid(p, NULL, 0);
}
