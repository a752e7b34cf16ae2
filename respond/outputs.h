/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Alert outputs ("sinks"): stdout, file, syslog, program, http, slack, in
 * any combination, each with its own minimum priority.
 *
 * The event path only ever enqueues: shk_sinks_send() copies the alert
 * once, takes each sink's lock for a pointer push and returns. Each sink
 * has its own bounded queue and worker thread, retries with backoff and
 * counts what it sent, dropped (queue full) and failed (retries spent), so
 * a slow or dead receiver can delay nothing but itself, and loses nothing
 * silently. (Falco once delayed every alert by minutes behind one slow
 * output; with one queue and thread per sink that cannot happen here.)
 *
 * The prefix is shk_sink(s)_: detect/output.h's shk_outputs_ is the rules'
 * compiled output formats.
 */
#ifndef SHRIKE_OUTPUTS_H
#define SHRIKE_OUTPUTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum shk_sink_kind {
	SHK_SINK_STDOUT,
	SHK_SINK_FILE,
	SHK_SINK_SYSLOG,
	SHK_SINK_PROGRAM,
	SHK_SINK_HTTP,
	SHK_SINK_SLACK,
};

#define SHK_SINK_QUEUE 4096	  /* default queue length */
#define SHK_SINK_MAX_HEADERS 16

struct shk_sink_opts {
	enum shk_sink_kind kind;
	const char *name;	/* in stats and errors; NULL: the kind's name */
	int min_priority;	/* enum shk_priority: less severe alerts are skipped */
	uint32_t queue_len;	/* 0: SHK_SINK_QUEUE */
	uint32_t retries;	/* further attempts after a failed send */
	uint32_t backoff_ms;	/* first retry delay, doubled up to backoff_max_ms */
	uint32_t backoff_max_ms;
	uint32_t slow_ms;	/* a send longer than this makes the sink "slow" */
	uint32_t drain_ms;	/* at shutdown, what is still queued after this is dropped */
	bool json;		/* stdout, syslog, program: JSON instead of the text line */
	/* stdout: the fd written (default 1) */
	int fd;
	/* file */
	const char *path;
	bool keep_alive;	/* keep the file open between alerts */
	/* syslog: datagrams to a local socket (default /dev/log) */
	const char *socket;
	int facility;		/* LOG_USER, LOG_LOCAL0, ... (already shifted, as <syslog.h>) */
	/* program: run with /bin/sh -c, alerts on its stdin, restarted if it dies */
	const char *program;
	/* http, slack */
	const char *url;
	const char *headers[SHK_SINK_MAX_HEADERS]; /* "Name: value" */
	uint32_t nheaders;
	const char *ca_cert;	/* CA bundle file */
	const char *client_cert, *client_key; /* mTLS */
	bool insecure;		/* do not verify the server (tests only) */
	bool http_keep_alive;	/* reuse the connection */
	bool gzip;		/* Content-Encoding: gzip */
	uint32_t timeout_ms, connect_timeout_ms;
};

/* Defaults for kind: retries 3, backoff 200..5000 ms, slow 1000 ms, drain
 * 2000 ms, queue SHK_SINK_QUEUE, min priority debug, keep-alive on,
 * timeouts 5000/2000 ms, fd 1, /dev/log, LOG_USER. */
void shk_sink_opts_init(struct shk_sink_opts *o, enum shk_sink_kind kind);
const char *shk_sink_kind_name(enum shk_sink_kind k);
/* "stdout", "file", ... -> kind, or -EINVAL. */
int shk_sink_kind_parse(const char *s);
/* "user", "daemon", "local0".."local7", ... -> LOG_* value, or -EINVAL. */
int shk_syslog_facility_parse(const char *s);

enum shk_sink_health {
	SHK_SINK_OK,
	SHK_SINK_SLOW,	  /* the queue is backing up or sends are slow */
	SHK_SINK_FAILING, /* the last send failed */
};

const char *shk_sink_health_name(enum shk_sink_health h);

struct shk_sink_stats {
	const char *name, *kind;
	uint64_t enqueued;	/* accepted into the queue */
	uint64_t sent;
	uint64_t dropped;	/* queue full, or still queued when the drain time ran out */
	uint64_t failed;	/* every attempt failed */
	uint64_t retries;
	uint64_t restarts;	/* program: the command was (re)started after dying */
	uint64_t reopens;
	uint32_t depth, capacity;
	uint64_t last_latency_us, max_latency_us;
	enum shk_sink_health health;
	char last_error[160];
};

/* One alert as the daemon has it once its response outcomes are known.
 * Any of text/json may be NULL when no sink needs that form. */
struct shk_alert_msg {
	int priority;		/* enum shk_priority */
	const char *rule;
	const char *output;	/* the alert line without the response part */
	const char *text;	/* the alert line with " | response: ..." */
	const char *json;	/* Falco's schema plus "response", one line */
	const char *response;	/* "kill:process=done; ..." or NULL */
};

struct shk_sinks;

struct shk_sinks *shk_sinks_new(void);
/* Start one sink (its worker thread). The options are copied. Returns 0,
 * or a negative errno with a message in err. */
int shk_sinks_add(struct shk_sinks *s, const struct shk_sink_opts *o, char *err, size_t errsz);
/* Stop every worker after a bounded drain (drain_ms) and count what is
 * left as dropped; stats stay readable. Idempotent; NULL is fine. */
void shk_sinks_stop(struct shk_sinks *s);
/* The same in two steps, for a caller that must not wait: ask every
 * worker to stop, then poll until all have (past drain_ms a send in
 * flight is cancelled). */
void shk_sinks_stop_async(struct shk_sinks *s);
bool shk_sinks_stopped(struct shk_sinks *s);
/* Exchange the sinks of s and other in one step: a send or stats call on
 * s sees the whole old set or the whole new one (a reload). */
void shk_sinks_swap(struct shk_sinks *s, struct shk_sinks *other);
/* Whether two option sets describe the same output. */
bool shk_sink_opts_equal(const struct shk_sink_opts *a, const struct shk_sink_opts *b);
/* Stop, then free. NULL is fine. */
void shk_sinks_free(struct shk_sinks *s);

uint32_t shk_sinks_count(const struct shk_sinks *s);
/* Whether any sink wants the JSON / the text form. */
bool shk_sinks_need_json(const struct shk_sinks *s);
bool shk_sinks_need_text(const struct shk_sinks *s);

/* Queue one alert on every sink whose minimum priority it meets. Never
 * blocks on a sink; a full queue counts a drop. Returns how many sinks
 * dropped it. Thread-safe. */
uint32_t shk_sinks_send(struct shk_sinks *s, const struct shk_alert_msg *m);
/* Reopen files (logrotate, SIGUSR1): each file sink reopens its path
 * before its next write. Async, thread-safe. */
void shk_sinks_reopen(struct shk_sinks *s);
/* Stats of sink i (in the order added). Returns 0 or -ENOENT. */
int shk_sinks_stats(struct shk_sinks *s, uint32_t i, struct shk_sink_stats *ret);

#endif /* SHRIKE_OUTPUTS_H */
