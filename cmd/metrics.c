/* SPDX-License-Identifier: Apache-2.0 */
/* The metrics and health listener, and the Prometheus text it serves. */
#include "metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "executor.h"
#include "qstate.h"

struct shk_run_metrics *shk_run_metrics_new(uint32_t nrules)
{
	struct shk_run_metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->rules_n = nrules;
	if (nrules && !(m->matches = calloc(nrules, sizeof(*m->matches)))) {
		free(m);
		errno = ENOMEM;
		return NULL;
	}
	return m;
}

void shk_run_metrics_free(struct shk_run_metrics *m)
{
	if (!m)
		return;
	free(m->matches);
	free(m);
}

static uint64_t get(shk_ctr *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static void set(shk_ctr *c, uint64_t v)
{
	atomic_store_explicit(c, v, memory_order_relaxed);
}

void shk_run_metrics_publish_cpu(struct shk_run_metrics *m, const struct shk_counters *per,
				 unsigned ncpus)
{
	uint64_t other[SHK_LOST__COUNT] = { 0 };

	for (unsigned i = 0; i < ncpus; i++) {
		if (i < SHK_METRICS_CPUS) {
			set(&m->cpu_lost[SHK_LOST_RINGBUF][i], per[i].drops);
			set(&m->cpu_lost[SHK_LOST_OVERSIZE][i], per[i].oversize);
			continue;
		}
		other[SHK_LOST_RINGBUF] += per[i].drops;
		other[SHK_LOST_OVERSIZE] += per[i].oversize;
	}
	for (int r = 0; r < SHK_LOST__COUNT; r++)
		set(&m->cpu_lost[r][SHK_METRICS_CPUS], other[r]);
	/* the values first: a scrape that sees a CPU sees its figures */
	atomic_store_explicit(&m->ncpus, ncpus, memory_order_release);
}

/* The bounds in microseconds, and as the le label: exact integers, so an
 * observation on a bound is in that bucket with no rounding. */
static const uint64_t latency_le_us[SHK_LATENCY_BUCKETS] = {
	100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000,
};
static const char *const latency_le[SHK_LATENCY_BUCKETS + 1] = {
	"0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01",
	"0.025",  "0.05",    "0.1",    "0.25",  "0.5",   "1",     "+Inf",
};

void shk_run_metrics_observe_action(struct shk_run_metrics *m, const struct shk_outcome *o)
{
	unsigned act = (unsigned)o->action->act, b = 0;
	bool enforce = o->action->mode == SHK_MODE_ENFORCE;
	shk_ctr *sum;

	if (act >= SHK_ACT__COUNT || o->kind == SHK_OUT_REFUSED)
		return;
	while (b < SHK_LATENCY_BUCKETS && o->latency_us > latency_le_us[b])
		b++;
	/* _count is the buckets' total (rendered), so it always equals
	 * +Inf; _sum may be one observation apart during a scrape */
	shk_ctr_inc(&m->latency[act][enforce][b]);
	sum = &m->latency_sum_us[act][enforce];
	set(sum, get(sum) + o->latency_us);
}

/* A label value: backslash, quote and newline escaped. */
static void label(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f), fputc(*s, f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void simple(FILE *f, const char *name, const char *type, const char *help, uint64_t v)
{
	head(f, name, type, help);
	fprintf(f, "%s %llu\n", name, (unsigned long long)v);
}

/*
 * A family of its own, not a cpu label on shrike_kernel_dropped_total: a
 * family holding both the totals and their breakdown would count every
 * loss twice in sum().
 */
static void render_lost_cpu(FILE *f, struct shk_run_metrics *m)
{
	static const char *const reasons[SHK_LOST__COUNT] = { "ringbuf_full", "oversize" };
	static const char *const name = "shrike_kernel_dropped_per_cpu_total";
	unsigned n = atomic_load_explicit(&m->ncpus, memory_order_acquire);

	head(f, name, "counter",
	     "Records lost in the kernel, by reason and CPU (cpu=\"other\": the CPUs past the "
	     "numbered ones).");
	for (int r = 0; r < SHK_LOST__COUNT; r++) {
		for (unsigned i = 0; i < n && i < SHK_METRICS_CPUS; i++)
			fprintf(f, "%s{reason=\"%s\",cpu=\"%u\"} %llu\n", name, reasons[r], i,
				(unsigned long long)get(&m->cpu_lost[r][i]));
		if (n > SHK_METRICS_CPUS)
			fprintf(f, "%s{reason=\"%s\",cpu=\"other\"} %llu\n", name, reasons[r],
				(unsigned long long)get(&m->cpu_lost[r][SHK_METRICS_CPUS]));
	}
}

static void render_events(FILE *f, struct shk_run_metrics *m)
{
	char name[64];

	head(f, "shrike_events_total", "counter", "Events evaluated, by event type.");
	for (unsigned t = 0; t < SHK_EVTYPE_MAX; t++) {
		uint64_t v = get(&m->events[t]);

		if (!v)
			continue;
		if (shk_evtype_name(t, name, sizeof(name)) < 0)
			snprintf(name, sizeof(name), "%u", t);
		fprintf(f, "shrike_events_total{type=");
		label(f, name);
		fprintf(f, "} %llu\n", (unsigned long long)v);
	}
	simple(f, "shrike_events_received_total", "counter", "Records the sensors delivered.",
	       get(&m->received));
	head(f, "shrike_kernel_dropped_total", "counter",
	     "Records lost in the kernel, by reason (all CPUs).");
	fprintf(f, "shrike_kernel_dropped_total{reason=\"ringbuf_full\"} %llu\n",
		(unsigned long long)get(&m->drops));
	fprintf(f, "shrike_kernel_dropped_total{reason=\"oversize\"} %llu\n",
		(unsigned long long)get(&m->oversize));
	render_lost_cpu(f, m);
	simple(f, "shrike_drop_alerts_total", "counter",
	       "Alerts raised because the kernel lost records.", get(&m->drop_alerts));
	simple(f, "shrike_events_truncated_total", "counter",
	       "Records with a string cut at its bound.", get(&m->truncated));
	simple(f, "shrike_decoder_errors_total", "counter", "Malformed records dropped by the decoder.",
	       get(&m->malformed));
	simple(f, "shrike_compat_syscalls_total", "counter", "32-bit (int 0x80) syscalls counted, not decoded; "
	       "counted only with compat_syscalls: true.",
	       get(&m->compat));
	simple(f, "shrike_kernel_verdicts_total", "counter", "Kernel policy verdicts.",
	       get(&m->kp_verdicts));
	simple(f, "shrike_kernel_verdicts_missed_total", "counter",
	       "Kernel verdicts that could not be enforced or reported.", get(&m->kp_missed));
}

static void render_rules(FILE *f, const struct shk_metrics_src *src)
{
	struct shk_run_metrics *m = src->m;

	simple(f, "shrike_alerts_total", "counter", "Alerts raised.", get(&m->alerts));
	simple(f, "shrike_alerts_below_priority_total", "counter",
	       "Matches below the minimum priority, not alerted.", get(&m->below_priority));
	head(f, "shrike_rule_matches_total", "counter", "Rule matches, by rule and priority.");
	for (uint32_t i = 0; src->rs && i < m->rules_n && i < src->rs->nrules; i++) {
		uint64_t v = get(&m->matches[i]);

		if (!v)
			continue;
		fprintf(f, "shrike_rule_matches_total{rule=");
		label(f, src->rs->rules[i].name);
		fprintf(f, ",priority=\"%s\"} %llu\n", shk_priority_name(src->rs->rules[i].priority),
			(unsigned long long)v);
	}
}

/* Prometheus histograms: cumulative buckets, _sum in seconds and _count;
 * an action and mode never observed has no series. */
static void render_latency(FILE *f, struct shk_run_metrics *m)
{
	static const char *const name = "shrike_action_latency_seconds";

	head(f, name, "histogram",
	     "Time from the event to the action's completion, by action and mode (done and "
	     "failed actions, and audit's would-be ones).");
	for (int a = 0; a < SHK_ACT__COUNT; a++)
		for (int mode = 0; mode < 2; mode++) {
			uint64_t cum[SHK_LATENCY_BUCKETS + 1], n = 0, sum;
			char labels[64];

			for (int b = 0; b <= SHK_LATENCY_BUCKETS; b++) {
				n += get(&m->latency[a][mode][b]);
				cum[b] = n;
			}
			if (!n)
				continue;
			sum = get(&m->latency_sum_us[a][mode]);
			snprintf(labels, sizeof(labels), "action=\"%s\",mode=\"%s\"",
				 shk_act_name((enum shk_act)a), mode ? "enforce" : "audit");
			for (int b = 0; b <= SHK_LATENCY_BUCKETS; b++)
				fprintf(f, "%s_bucket{%s,le=\"%s\"} %llu\n", name, labels,
					latency_le[b], (unsigned long long)cum[b]);
			/* microseconds as exact decimal seconds */
			fprintf(f, "%s_sum{%s} %llu.%06llu\n", name, labels,
				(unsigned long long)(sum / 1000000),
				(unsigned long long)(sum % 1000000));
			fprintf(f, "%s_count{%s} %llu\n", name, labels, (unsigned long long)n);
		}
}

static void render_actions(FILE *f, const struct shk_metrics_src *src)
{
	static const char *const outcomes[] = { "done", "would", "failed", "refused" };
	struct shk_run_metrics *m = src->m;
	struct shk_executor_stats xs = { 0 };

	head(f, "shrike_actions_total", "counter", "Response actions, by action, outcome and mode.");
	for (int a = 0; a < SHK_ACT__COUNT; a++)
		for (int o = 0; o < 4; o++)
			for (int mode = 0; mode < 2; mode++) {
				uint64_t v = get(&m->actions[a][o][mode]);

				if (v)
					fprintf(f, "shrike_actions_total{action=\"%s\",outcome=\"%s\","
						   "mode=\"%s\"} %llu\n",
						shk_act_name((enum shk_act)a), outcomes[o],
						mode ? "enforce" : "audit", (unsigned long long)v);
			}
	render_latency(f, m);
	if (src->exec)
		shk_executor_stats(src->exec, &xs);
	simple(f, "shrike_action_jobs_dropped_total", "counter",
	       "Alerts whose actions did not fit the executor's queue.",
	       get(&m->action_queue_full) + xs.dropped);
	simple(f, "shrike_circuit_breaker_tripped", "gauge",
	       "1 while the global action circuit breaker holds actions to audit.",
	       xs.breaker_tripped);
}

static void render_outputs(FILE *f, const struct shk_metrics_src *src)
{
	static const struct {
		const char *name, *type, *help;
	} fam[] = {
		{ "shrike_output_queue_depth", "gauge", "Alerts waiting in an output's queue." },
		{ "shrike_output_sent_total", "counter", "Alerts an output delivered." },
		{ "shrike_output_dropped_total", "counter", "Alerts an output dropped (queue full)." },
		{ "shrike_output_failed_total", "counter", "Alerts an output gave up on after retries." },
		{ "shrike_output_retries_total", "counter", "Retried sends." },
		{ "shrike_output_healthy", "gauge", "0 ok, 1 slow, 2 failing." },
	};
	uint32_t n = shk_sinks_count(src->sinks);

	for (size_t k = 0; k < sizeof(fam) / sizeof(fam[0]); k++) {
		head(f, fam[k].name, fam[k].type, fam[k].help);
		for (uint32_t i = 0; i < n; i++) {
			struct shk_sink_stats st;
			uint64_t v[] = { 0, 0, 0, 0, 0, 0 };

			if (shk_sinks_stats(src->sinks, i, &st))
				continue;
			v[0] = st.depth, v[1] = st.sent, v[2] = st.dropped, v[3] = st.failed;
			v[4] = st.retries, v[5] = st.health;
			fprintf(f, "%s{output=", fam[k].name);
			label(f, st.name);
			fprintf(f, ",type=\"%s\"} %llu\n", st.kind, (unsigned long long)v[k]);
		}
	}
}

static void render_process(FILE *f, const struct shk_metrics_src *src)
{
	struct shk_qrec *q = NULL;
	size_t nq = 0;
	struct rusage ru;
	long pages = 0, rss = 0;
	FILE *statm;

	if (src->state_dir)
		shk_qstate_load(src->state_dir, &q, &nq);
	free(q);
	simple(f, "shrike_quarantines_active", "gauge", "Quarantines in force.", nq);
	simple(f, "shrike_process_table_size", "gauge", "Processes tracked.", get(&src->m->procs));
	statm = fopen("/proc/self/statm", "re");
	if (statm) {
		if (fscanf(statm, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(statm);
	}
	simple(f, "process_resident_memory_bytes", "gauge", "shrike's resident memory.",
	       (uint64_t)rss * (uint64_t)sysconf(_SC_PAGESIZE));
	getrusage(RUSAGE_SELF, &ru);
	head(f, "process_cpu_seconds_total", "counter", "shrike's CPU time, user and system.");
	fprintf(f, "process_cpu_seconds_total %.6f\n",
		(double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
			(double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	simple(f, "shrike_seccomp_filter", "gauge", "1 once shrike's seccomp filter is installed.",
	       atomic_load(&src->m->hardened));
	simple(f, "shrike_ready", "gauge", "1 once the sensors are attached and the rules loaded.",
	       shk_metrics_healthy(src));
}

void shk_metrics_render(const struct shk_metrics_src *src, FILE *f)
{
	render_events(f, src->m);
	render_rules(f, src);
	render_actions(f, src);
	render_outputs(f, src);
	render_process(f, src);
}

bool shk_metrics_healthy(const struct shk_metrics_src *src)
{
	return atomic_load(&src->m->ready) && !atomic_load(&src->m->stopping);
}

/* ---- the listener -------------------------------------------------------- */

struct shk_metrics_server {
	struct MHD_Daemon *d;
	const struct shk_metrics_src *src;
	int port;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned code, char *body, size_t len,
			     const char *type)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct shk_metrics_server *s = cls;
	char *body = NULL;
	size_t len = 0;
	unsigned code = 200;
	bool ok;
	FILE *f;

	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return reply(c, 405, strdup("method not allowed\n"), 19, "text/plain");
	f = open_memstream(&body, &len);
	if (!f)
		return MHD_NO;
	if (!strcmp(url, "/metrics")) {
		shk_metrics_render(s->src, f);
	} else if (!strcmp(url, "/healthz")) {
		ok = shk_metrics_healthy(s->src);
		code = ok ? 200 : 503;
		fprintf(f, "{\"ready\":%s,\"healthy\":%s}\n",
			atomic_load(&s->src->m->ready) ? "true" : "false", ok ? "true" : "false");
	} else {
		code = 404;
		fputs("not found: /metrics, /healthz\n", f);
	}
	fclose(f);
	return reply(c, code, body, len,
		     !strcmp(url, "/metrics") ? "text/plain; version=0.0.4" : "text/plain");
}

static int parse_addr(const char *addr, struct sockaddr_in *sa)
{
	const char *colon = strrchr(addr, ':');
	char host[64];
	char *end;
	long port;

	if (!colon || (size_t)(colon - addr) >= sizeof(host))
		return -EINVAL;
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535)
		return -EINVAL;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (!strcmp(host, "localhost"))
		strcpy(host, "127.0.0.1");
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -EINVAL;
}

struct shk_metrics_server *shk_metrics_start(const char *addr, const struct shk_metrics_src *src,
					     char *err, size_t errsz)
{
	struct shk_metrics_server *s;
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;
	sigset_t all, old;

	if (parse_addr(addr, &sa)) {
		snprintf(err, errsz, "'%s' is not IPV4:PORT", addr);
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->src = src;
	/* signals belong to the event loop's signalfd, not to MHD's thread */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL,
				ntohs(sa.sin_port), NULL, NULL, on_request, s,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)32,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!s->d) {
		int e = errno ? errno : EADDRINUSE;

		snprintf(err, errsz, "cannot listen on %s: %s", addr, strerror(e));
		free(s);
		errno = e;
		return NULL;
	}
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : ntohs(sa.sin_port);
	return s;
}

int shk_metrics_port(const struct shk_metrics_server *s)
{
	return s ? s->port : -1;
}

void shk_metrics_stop(struct shk_metrics_server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->d);
	free(s);
}
