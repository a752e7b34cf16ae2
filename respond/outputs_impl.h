/* SPDX-License-Identifier: Apache-2.0 */
/* Inside the outputs: what the sink kinds share with the queue core. */
#ifndef SHRIKE_OUTPUTS_IMPL_H
#define SHRIKE_OUTPUTS_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "outputs.h"

/* One alert, copied once and shared by every queue holding it. */
struct shk_alert_blob {
	atomic_uint refs;
	int priority;
	const char *rule, *output, *text, *json, *response; /* into data, "" when absent */
	char data[];
};

struct sink;

/* A failed send returns a negative errno; -EPERM means "do not retry"
 * (a 4xx answer, a bad URL). */
struct sink_ops {
	int (*open)(struct sink *k, char *err, size_t errsz);
	int (*send)(struct sink *k, const struct shk_alert_blob *a, char *err, size_t errsz);
	void (*flush)(struct sink *k);	/* the queue ran empty */
	void (*reopen)(struct sink *k); /* SIGUSR1 */
	void (*close)(struct sink *k);
};

struct sink {
	struct shk_sink_opts o; /* strings owned */
	const struct sink_ops *ops;
	void *impl;
	pthread_t thr;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct shk_alert_blob **q; /* ring */
	uint32_t cap, head, n;
	bool stop, reopen;
	uint64_t deadline_ns; /* set with stop */
	atomic_bool aborting; /* stop and the drain time ran out */
	atomic_uint_fast64_t enqueued, sent, dropped, failed, retries, restarts, reopens;
	atomic_uint_fast64_t last_latency_us, max_latency_us, busy_since_ns;
	atomic_bool failing;
	char last_error[160]; /* under mu */
};

extern const struct sink_ops shk_sink_stdout_ops, shk_sink_file_ops, shk_sink_syslog_ops,
	shk_sink_program_ops, shk_sink_http_ops, shk_sink_slack_ops;

uint64_t shk_sink_now_ns(void);
/* Write all of buf to fd, never blocking longer than timeout_ms in all and
 * giving up when the sink is aborting. 0 or a negative errno. */
int shk_sink_write_all(struct sink *k, int fd, const char *buf, size_t len, uint32_t timeout_ms);
/* The line a sink writes: JSON or text, per its options. */
const char *shk_sink_line(const struct sink *k, const struct shk_alert_blob *a);

#endif
