/* SPDX-License-Identifier: Apache-2.0 */
/* The config file: YAML trees (with marks) from the rule loader, walked by
 * key tables; every error names file:line:column. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_FILE_MAX (1u << 20)

static int __attribute__((format(printf, 3, 4)))
err_at(struct shk_conf *c, const struct shk_ynode *n, const char *fmt, ...)
{
	struct shk_loc l = shk_ynode_loc(n);
	va_list ap;

	va_start(ap, fmt);
	shk_diags_vadd(c->diags, SHK_DIAG_ERROR, &l, NULL, 0, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const char *own(struct shk_conf *c, char *s)
{
	char **v;

	if (!s)
		return NULL;
	v = realloc(c->owned, (c->nowned + 1) * sizeof(*v));
	if (!v) {
		free(s);
		return NULL;
	}
	c->owned = v;
	c->owned[c->nowned++] = s;
	return s;
}

/* ---- scalars ------------------------------------------------------------- */

static const char *scalar(struct shk_conf *c, const struct shk_ynode *v, const char *key)
{
	if (v->kind != SHK_Y_SCALAR || shk_ynode_is_null(v)) {
		err_at(c, v, "%s: expected a value, not %s", key,
		       v->kind == SHK_Y_MAP ? "a mapping" : v->kind == SHK_Y_SEQ ? "a list" : "null");
		return NULL;
	}
	return v->str;
}

static int get_bool(struct shk_conf *c, const struct shk_ynode *v, const char *key, bool *ret)
{
	static const char *const yes[] = { "true", "yes", "on" }, *const no[] = { "false", "no", "off" };
	const char *s = scalar(c, v, key);

	if (!s)
		return -EINVAL;
	for (int i = 0; i < 3; i++) {
		if (!strcasecmp(s, yes[i]))
			return *ret = true, 0;
		if (!strcasecmp(s, no[i]))
			return *ret = false, 0;
	}
	return err_at(c, v, "%s: '%s' is not a boolean (true or false)", key, s);
}

static int get_u32(struct shk_conf *c, const struct shk_ynode *v, const char *key, uint32_t min,
		   uint32_t max, uint32_t *ret)
{
	const char *s = scalar(c, v, key);
	unsigned long long n;
	char *end;

	if (!s)
		return -EINVAL;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno || *end || end == s || s[0] == '-' || n < min || n > max)
		return err_at(c, v, "%s: '%s' is not a number in [%u, %u]", key, s, min, max);
	*ret = (uint32_t)n;
	return 0;
}

/* One of names[]; returns its index or -EINVAL (reported). */
static int get_enum(struct shk_conf *c, const struct shk_ynode *v, const char *key,
		    const char *const *names, int n)
{
	const char *s = scalar(c, v, key);
	char known[256] = "";
	size_t len = 0;

	if (!s)
		return -EINVAL;
	for (int i = 0; i < n; i++) {
		if (!strcasecmp(s, names[i]))
			return i;
		len += (size_t)snprintf(known + len, sizeof(known) - len, "%s%s", i ? ", " : "",
					names[i]);
		if (len >= sizeof(known))
			len = sizeof(known) - 1;
	}
	return err_at(c, v, "%s: '%s' is not one of %s", key, s, known);
}

static int get_priority(struct shk_conf *c, const struct shk_ynode *v, const char *key, int *ret)
{
	const char *s = scalar(c, v, key);
	int p;

	if (!s)
		return -EINVAL;
	p = shk_priority_parse(s);
	if (p < 0)
		return err_at(c, v, "%s: '%s' is not a priority (emergency, alert, critical, error, "
				    "warning, notice, informational, debug)", key, s);
	*ret = p;
	return 0;
}

/* A scalar or a list of scalars, appended to v[*n]. */
static int get_strings(struct shk_conf *c, const struct shk_ynode *v, const char *key,
		       const char **arr, uint32_t *n)
{
	const struct shk_ynode *items = v->kind == SHK_Y_SEQ ? v->kids : v;
	uint32_t count = v->kind == SHK_Y_SEQ ? v->n : 1;

	for (uint32_t i = 0; i < count; i++) {
		const char *s = scalar(c, &items[i], key);

		if (!s)
			return -EINVAL;
		if (*n == SHK_CONFIG_MAX_LIST)
			return err_at(c, &items[i], "%s: at most %d entries", key, SHK_CONFIG_MAX_LIST);
		arr[(*n)++] = s;
	}
	return 0;
}

/* ---- outputs ------------------------------------------------------------- */

enum otype { O_STR, O_BOOL, O_U32, O_PRIO, O_FACILITY, O_HEADERS, O_TYPE };

#define ALL 0x3fu
#define K(k) (1u << SHK_SINK_##k)
#define HTTPISH (K(HTTP) | K(SLACK))
#define OFF(f) offsetof(struct shk_sink_opts, f)

static const struct okey {
	const char *key;
	enum otype type;
	unsigned kinds;
	size_t off;
	uint32_t min, max;
} okeys[] = {
	{ "type", O_TYPE, ALL, 0, 0, 0 },
	{ "name", O_STR, ALL, OFF(name), 0, 0 },
	{ "min_priority", O_PRIO, ALL, OFF(min_priority), 0, 0 },
	{ "queue_len", O_U32, ALL, OFF(queue_len), 1, 1u << 20 },
	{ "retries", O_U32, ALL, OFF(retries), 0, 100 },
	{ "backoff_ms", O_U32, ALL, OFF(backoff_ms), 1, 600000 },
	{ "backoff_max_ms", O_U32, ALL, OFF(backoff_max_ms), 1, 3600000 },
	{ "slow_ms", O_U32, ALL, OFF(slow_ms), 1, 3600000 },
	{ "drain_ms", O_U32, ALL, OFF(drain_ms), 0, 600000 },
	{ "timeout_ms", O_U32, ALL, OFF(timeout_ms), 1, 600000 },
	{ "json", O_BOOL, K(STDOUT) | K(SYSLOG) | K(PROGRAM), OFF(json), 0, 0 },
	{ "path", O_STR, K(FILE), OFF(path), 0, 0 },
	{ "keep_alive", O_BOOL, K(FILE), OFF(keep_alive), 0, 0 },
	{ "socket", O_STR, K(SYSLOG), OFF(socket), 0, 0 },
	{ "facility", O_FACILITY, K(SYSLOG), OFF(facility), 0, 0 },
	{ "program", O_STR, K(PROGRAM), OFF(program), 0, 0 },
	{ "url", O_STR, HTTPISH, OFF(url), 0, 0 },
	{ "headers", O_HEADERS, HTTPISH, 0, 0, 0 },
	{ "ca_cert", O_STR, HTTPISH, OFF(ca_cert), 0, 0 },
	{ "client_cert", O_STR, HTTPISH, OFF(client_cert), 0, 0 },
	{ "client_key", O_STR, HTTPISH, OFF(client_key), 0, 0 },
	{ "insecure", O_BOOL, HTTPISH, OFF(insecure), 0, 0 },
	{ "http_keep_alive", O_BOOL, HTTPISH, OFF(http_keep_alive), 0, 0 },
	{ "gzip", O_BOOL, HTTPISH, OFF(gzip), 0, 0 },
	{ "connect_timeout_ms", O_U32, HTTPISH, OFF(connect_timeout_ms), 1, 600000 },
};

static int get_headers(struct shk_conf *c, struct shk_sink_opts *o, const struct shk_ynode *v)
{
	if (v->kind != SHK_Y_MAP)
		return err_at(c, v, "headers: expected a mapping of header names to values");
	for (uint32_t i = 0; i + 1 < v->n; i += 2) {
		const struct shk_ynode *k = &v->kids[i], *val = &v->kids[i + 1];
		const char *name = scalar(c, k, "headers"), *value = scalar(c, val, "headers");
		char *line;

		if (!name || !value)
			return -EINVAL;
		if (strpbrk(name, ": \t\r\n") || strpbrk(value, "\r\n"))
			return err_at(c, k, "headers: '%s' is not a valid header", name);
		if (o->nheaders == SHK_SINK_MAX_HEADERS)
			return err_at(c, k, "headers: at most %d", SHK_SINK_MAX_HEADERS);
		if (asprintf(&line, "%s: %s", name, value) < 0 || !own(c, line))
			return -ENOMEM;
		o->headers[o->nheaders++] = line;
	}
	return 0;
}

static int output_key(struct shk_conf *c, struct shk_sink_opts *o, const struct okey *k,
		      const struct shk_ynode *v)
{
	char *base = (char *)o + k->off;
	int r;

	switch (k->type) {
	case O_TYPE:
		return 0;
	case O_STR: {
		const char *s = scalar(c, v, k->key);

		if (!s)
			return -EINVAL;
		*(const char **)base = s;
		return 0;
	}
	case O_BOOL:
		return get_bool(c, v, k->key, (bool *)base);
	case O_U32:
		return get_u32(c, v, k->key, k->min, k->max, (uint32_t *)base);
	case O_PRIO:
		return get_priority(c, v, k->key, (int *)base);
	case O_FACILITY: {
		const char *s = scalar(c, v, k->key);

		if (!s)
			return -EINVAL;
		r = shk_syslog_facility_parse(s);
		if (r < 0)
			return err_at(c, v, "facility: '%s' is not a syslog facility (user, daemon, "
					    "local0..local7, ...)", s);
		*(int *)base = r;
		return 0;
	}
	case O_HEADERS:
		return get_headers(c, o, v);
	}
	return 0;
}

static int output_required(struct shk_conf *c, const struct shk_sink_opts *o,
			   const struct shk_ynode *item)
{
	const char *kind = shk_sink_kind_name(o->kind);

	if (o->kind == SHK_SINK_FILE && !o->path)
		return err_at(c, item, "a file output needs a path");
	if (o->kind == SHK_SINK_PROGRAM && !o->program)
		return err_at(c, item, "a program output needs a program");
	if ((o->kind == SHK_SINK_HTTP || o->kind == SHK_SINK_SLACK) && !o->url)
		return err_at(c, item, "a %s output needs a url", kind);
	if (o->url && strncmp(o->url, "http://", 7) && strncmp(o->url, "https://", 8))
		return err_at(c, shk_ynode_get(item, "url"), "url: '%s' is not an http:// or https:// URL",
			      o->url);
	if (!o->client_cert != !o->client_key)
		return err_at(c, item, "client_cert and client_key go together");
	if (o->backoff_max_ms < o->backoff_ms)
		return err_at(c, item, "backoff_max_ms is below backoff_ms");
	return 0;
}

static int parse_output(struct shk_conf *c, const struct shk_ynode *item)
{
	static const char *const kinds[] = { "stdout", "file", "syslog", "program", "http", "slack" };
	const struct shk_ynode *t = shk_ynode_get(item, "type");
	struct shk_sink_opts o;
	int kind, bad = 0;

	if (item->kind != SHK_Y_MAP)
		return err_at(c, item, "outputs: each output is a mapping with a type");
	if (!t)
		return err_at(c, item, "outputs: this output has no type (stdout, file, syslog, "
				       "program, http, slack)");
	kind = get_enum(c, t, "type", kinds, 6);
	if (kind < 0)
		return -EINVAL;
	shk_sink_opts_init(&o, (enum shk_sink_kind)kind);
	for (uint32_t i = 0; i + 1 < item->n; i += 2) {
		const struct shk_ynode *key = &item->kids[i];
		const struct okey *k = NULL;

		for (size_t j = 0; j < sizeof(okeys) / sizeof(okeys[0]); j++)
			if (key->kind == SHK_Y_SCALAR && !strcmp(key->str, okeys[j].key))
				k = &okeys[j];
		if (!k || !(k->kinds & (1u << kind))) {
			bad |= err_at(c, key, "unknown key '%s' for a %s output", key->str ? key->str : "?",
				      kinds[kind]);
			continue;
		}
		bad |= output_key(c, &o, k, &item->kids[i + 1]);
	}
	bad |= output_required(c, &o, item);
	if (bad)
		return -EINVAL;
	if (c->noutputs == SHK_CONFIG_MAX_LIST)
		return err_at(c, item, "outputs: at most %d", SHK_CONFIG_MAX_LIST);
	c->outputs[c->noutputs++] = o;
	return 0;
}

/* ---- top level ----------------------------------------------------------- */

static int k_policies(struct shk_conf *c, const struct shk_ynode *v)
{
	return get_strings(c, v, "policies", c->policies, &c->npolicies);
}

static int k_mode(struct shk_conf *c, const struct shk_ynode *v)
{
	static const char *const m[] = { "audit", "enforce" };
	int r = get_enum(c, v, "mode", m, 2);

	if (r >= 0)
		c->mode = r ? SHK_MODE_ENFORCE : SHK_MODE_AUDIT;
	return r < 0 ? r : 0;
}

static int k_enforcer(struct shk_conf *c, const struct shk_ynode *v)
{
	static const char *const e[] = { "auto", "lsm", "signal" };
	int r = get_enum(c, v, "enforcer", e, 3);

	if (r >= 0)
		c->enforcer = (enum shk_enforcer_mode)r;
	return r < 0 ? r : 0;
}

static int k_protect(struct shk_conf *c, const struct shk_ynode *v)
{
	return get_strings(c, v, "protect", c->protect, &c->nprotect);
}

static int k_rule_matching(struct shk_conf *c, const struct shk_ynode *v)
{
	static const char *const m[] = { "first", "all" };
	int r = get_enum(c, v, "rule_matching", m, 2);

	if (r >= 0)
		c->rule_matching = r;
	return r < 0 ? r : 0;
}

static int k_priority(struct shk_conf *c, const struct shk_ynode *v)
{
	return get_priority(c, v, "priority", &c->min_priority);
}

static int k_json(struct shk_conf *c, const struct shk_ynode *v)
{
	bool b = false;
	int r = get_bool(c, v, "json_output", &b);

	if (!r)
		c->json_output = b;
	return r;
}

static int k_ringbuf(struct shk_conf *c, const struct shk_ynode *v)
{
	return get_u32(c, v, "ringbuf_mb", 1, 4096, &c->ringbuf_mb);
}

static int k_state_dir(struct shk_conf *c, const struct shk_ynode *v)
{
	return (c->state_dir = scalar(c, v, "state_dir")) ? 0 : -EINVAL;
}

static int k_control(struct shk_conf *c, const struct shk_ynode *v)
{
	return (c->control_socket = scalar(c, v, "control_socket")) ? 0 : -EINVAL;
}

static int k_log_level(struct shk_conf *c, const struct shk_ynode *v)
{
	static const char *const l[] = { "error", "warning", "info", "debug" };
	int r = get_enum(c, v, "log_level", l, 4);

	if (r >= 0)
		c->log_level = (enum shk_log_level)r;
	return r < 0 ? r : 0;
}

static int k_nice(struct shk_conf *c, const struct shk_ynode *v)
{
	const char *s = scalar(c, v, "nice");
	long n;
	char *end;

	if (!s)
		return -EINVAL;
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || *end || end == s || n < -20 || n > 19)
		return err_at(c, v, "nice: '%s' is not a number in [-20, 19]", s);
	c->nice = (int)n;
	return 0;
}

static int k_realtime(struct shk_conf *c, const struct shk_ynode *v)
{
	const char *s = scalar(c, v, "realtime_priority");
	long n;
	char *end;

	if (!s)
		return -EINVAL;
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || *end || end == s || n < 0 || n > 99)
		return err_at(c, v,
			      "realtime_priority: '%s' is not a number in [0, 99] (0: normal scheduling)",
			      s);
	c->realtime_priority = (int)n;
	return 0;
}

static int k_harden(struct shk_conf *c, const struct shk_ynode *v)
{
	return get_bool(c, v, "harden", &c->harden);
}

static int k_compat(struct shk_conf *c, const struct shk_ynode *v)
{
	return get_bool(c, v, "compat_syscalls", &c->compat_syscalls);
}

static int k_mount_tracefs(struct shk_conf *c, const struct shk_ynode *v)
{
	return get_bool(c, v, "mount_tracefs", &c->mount_tracefs);
}

/* host:port, the host an IPv4 address or "localhost" */
static int check_addr(struct shk_conf *c, const struct shk_ynode *v, const char *s)
{
	const char *colon = strrchr(s, ':');
	unsigned a, b, d, e, port;
	char tail;

	if (!colon || sscanf(colon + 1, "%u%c", &port, &tail) != 1 || port < 1 || port > 65535)
		return err_at(c, v, "metrics.address: '%s' is not HOST:PORT", s);
	if (!strncmp(s, "localhost:", 10))
		return 0;
	if (sscanf(s, "%u.%u.%u.%u:", &a, &b, &d, &e) != 4 || a > 255 || b > 255 || d > 255 ||
	    e > 255)
		return err_at(c, v, "metrics.address: '%s': the host must be an IPv4 address", s);
	return 0;
}

static int k_metrics(struct shk_conf *c, const struct shk_ynode *v)
{
	int bad = 0;

	if (v->kind != SHK_Y_MAP)
		return err_at(c, v, "metrics: expected a mapping (enabled, address)");
	for (uint32_t i = 0; i + 1 < v->n; i += 2) {
		const struct shk_ynode *k = &v->kids[i], *val = &v->kids[i + 1];

		if (!strcmp(k->str, "enabled")) {
			bad |= get_bool(c, val, "metrics.enabled", &c->metrics_enabled);
		} else if (!strcmp(k->str, "address")) {
			const char *s = scalar(c, val, "metrics.address");

			if (!s || check_addr(c, val, s))
				bad = -EINVAL;
			else
				c->metrics_addr = s;
		} else {
			bad |= err_at(c, k, "unknown key 'metrics.%s' (known: enabled, address)",
				      k->str ? k->str : "?");
		}
	}
	return bad ? -EINVAL : 0;
}

/* A label key as Kubernetes allows it: [prefix/]name, the prefix a DNS
 * subdomain (<= 253), the name <= 63 of [A-Za-z0-9._-], alphanumeric at
 * both ends. */
static bool label_key_valid(const char *s)
{
	const char *slash = strchr(s, '/'), *name = slash ? slash + 1 : s;
	size_t n = strlen(name);

	if (slash && (slash == s || (size_t)(slash - s) > 253 ||
		      strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789.-") != (size_t)(slash - s)))
		return false;
	if (!n || n > 63 || !isalnum((unsigned char)name[0]) || !isalnum((unsigned char)name[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("._-", name[i]))
			return false;
	return true;
}

static int k_k8s(struct shk_conf *c, const struct shk_ynode *v)
{
	static const char known[] = "enabled, kubeconfig, api_server, label_key, timeout_ms, "
				    "label_ttl_s, evict_after_s, evict";
	static const char *const evict[] = { "evict", "delete" };
	int bad = 0;

	if (v->kind != SHK_Y_MAP)
		return err_at(c, v, "k8s: expected a mapping (%s)", known);
	for (uint32_t i = 0; i + 1 < v->n; i += 2) {
		const struct shk_ynode *k = &v->kids[i], *val = &v->kids[i + 1];
		const char *key = k->str ? k->str : "?", *s;

		if (!strcmp(key, "enabled")) {
			bad |= get_bool(c, val, "k8s.enabled", &c->k8s_enabled);
		} else if (!strcmp(key, "timeout_ms")) {
			bad |= get_u32(c, val, "k8s.timeout_ms", 100, 60000, &c->k8s.timeout_ms);
		} else if (!strcmp(key, "label_ttl_s")) {
			bad |= get_u32(c, val, "k8s.label_ttl_s", 1, 86400, &c->k8s.label_ttl_s);
		} else if (!strcmp(key, "evict_after_s")) {
			bad |= get_u32(c, val, "k8s.evict_after_s", 0, 604800, &c->k8s_evict_after_s);
		} else if (!strcmp(key, "evict")) {
			int e = get_enum(c, val, "k8s.evict", evict, 2);

			if (e < 0)
				bad = -EINVAL;
			else
				c->k8s_evict_delete = e == 1;
		} else if (!strcmp(key, "kubeconfig")) {
			if (!(s = scalar(c, val, "k8s.kubeconfig")))
				bad = -EINVAL;
			else if (!*s)
				bad |= err_at(c, val, "k8s.kubeconfig: empty path");
			else
				c->k8s.kubeconfig = s;
		} else if (!strcmp(key, "api_server")) {
			if (!(s = scalar(c, val, "k8s.api_server")))
				bad = -EINVAL;
			else if ((strncmp(s, "https://", 8) && strncmp(s, "http://", 7)) ||
				 strpbrk(s, " \t\r\n") || !s[strcspn(s, ":") + 3])
				bad |= err_at(c, val, "k8s.api_server: '%s' is not an http(s):// URL", s);
			else
				c->k8s.api_server = s;
		} else if (!strcmp(key, "label_key")) {
			if (!(s = scalar(c, val, "k8s.label_key")))
				bad = -EINVAL;
			else if (!label_key_valid(s))
				bad |= err_at(c, val,
					      "k8s.label_key: '%s' is not a Kubernetes label key "
					      "([prefix/]name)", s);
			else
				c->k8s.label_key = s;
		} else {
			bad |= err_at(c, k, "unknown key 'k8s.%s' (known: %s)", key, known);
		}
	}
	return bad ? -EINVAL : 0;
}

static int k_outputs(struct shk_conf *c, const struct shk_ynode *v)
{
	int bad = 0;

	if (v->kind != SHK_Y_SEQ)
		return err_at(c, v, "outputs: expected a list of outputs");
	for (uint32_t i = 0; i < v->n; i++)
		bad |= parse_output(c, &v->kids[i]);
	return bad ? -EINVAL : 0;
}

static const struct {
	const char *key;
	int (*fn)(struct shk_conf *c, const struct shk_ynode *v);
} top_keys[] = {
	{ "policies", k_policies },
	{ "mode", k_mode },
	{ "enforcer", k_enforcer },
	{ "protect", k_protect },
	{ "rule_matching", k_rule_matching },
	{ "priority", k_priority },
	{ "json_output", k_json },
	{ "ringbuf_mb", k_ringbuf },
	{ "state_dir", k_state_dir },
	{ "control_socket", k_control },
	{ "log_level", k_log_level },
	{ "nice", k_nice },
	{ "realtime_priority", k_realtime },
	{ "harden", k_harden },
	{ "compat_syscalls", k_compat },
	{ "mount_tracefs", k_mount_tracefs },
	{ "metrics", k_metrics },
	{ "k8s", k_k8s },
	{ "outputs", k_outputs },
};

static int apply_doc(struct shk_conf *c, const struct shk_ynode *doc)
{
	int bad = 0;

	if (shk_ynode_is_null(doc))
		return 0;
	if (doc->kind != SHK_Y_MAP)
		return err_at(c, doc, "the config is a YAML mapping of keys to values");
	for (uint32_t i = 0; i + 1 < doc->n; i += 2) {
		const struct shk_ynode *k = &doc->kids[i];
		size_t j, n = sizeof(top_keys) / sizeof(top_keys[0]);

		for (j = 0; j < n; j++)
			if (k->kind == SHK_Y_SCALAR && !strcmp(k->str, top_keys[j].key))
				break;
		if (j == n) {
			bad |= err_at(c, k, "unknown key '%s'", k->str ? k->str : "?");
			continue;
		}
		bad |= top_keys[j].fn(c, &doc->kids[i + 1]);
	}
	return bad ? -EINVAL : 0;
}

int shk_config_load_buffer(struct shk_conf *c, const char *name, const char *buf, size_t len)
{
	const struct shk_srcfile *f;
	int r = shk_loader_parse_buffer(c->ld, name, buf, len, &f), bad = 0;

	if (r < 0)
		return r;
	for (uint32_t d = 0; d < f->ndocs; d++)
		bad |= apply_doc(c, &f->docs[d]);
	return bad ? -EINVAL : 0;
}

static int load_file(struct shk_conf *c, const char *path, bool required)
{
	struct shk_loc l = { .file = path };
	struct stat st;
	char *buf;
	ssize_t n;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && !required)
		return 0;
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > CONFIG_FILE_MAX) {
		r = fd < 0 ? errno : !S_ISREG(st.st_mode) ? EISDIR : EFBIG;
		if (fd >= 0)
			close(fd);
		shk_diags_add(c->diags, SHK_DIAG_ERROR, &l, NULL, 0, "cannot read the config: %s",
			      strerror(r));
		return -EINVAL;
	}
	buf = malloc((size_t)st.st_size + 1);
	n = buf ? read(fd, buf, (size_t)st.st_size) : -1;
	close(fd);
	if (n < 0) {
		free(buf);
		return -ENOMEM;
	}
	r = shk_config_load_buffer(c, path, buf, (size_t)n);
	free(buf);
	return r;
}

static int yaml_name(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && ((n > 5 && !strcmp(d->d_name + n - 5, ".yaml")) ||
				       (n > 4 && !strcmp(d->d_name + n - 4, ".yml")));
}

int shk_config_load(struct shk_conf *c, const char *path, bool required)
{
	char dir[PATH_MAX], file[PATH_MAX + 256];
	const char *slash = strrchr(path, '/');
	struct dirent **ents = NULL;
	int n, bad = load_file(c, path, required);

	snprintf(dir, sizeof(dir), "%.*s/config.d", slash ? (int)(slash - path) : 1,
		 slash ? path : ".");
	n = scandir(dir, &ents, yaml_name, alphasort);
	for (int i = 0; i < n; i++) {
		snprintf(file, sizeof(file), "%s/%s", dir, ents[i]->d_name);
		bad |= load_file(c, file, true);
		free(ents[i]);
	}
	free(ents);
	return bad ? -EINVAL : 0;
}

int shk_config_set(struct shk_conf *c, const char *kv)
{
	const char *eq = strchr(kv, '=');
	struct shk_loc l = { .file = "-o" };
	char *yaml = NULL, name[300];
	size_t klen = eq ? (size_t)(eq - kv) : 0, len = 0;
	FILE *f;
	int depth = 0, r;

	if (!eq || !klen || strchr(kv, '\n')) {
		shk_diags_add(c->diags, SHK_DIAG_ERROR, &l, NULL, 0, "'%s': expected KEY=VALUE", kv);
		return -EINVAL;
	}
	/* a.b=v becomes "a:\n  b: v\n": the same checks as in a file */
	f = open_memstream(&yaml, &len);
	if (!f)
		return -ENOMEM;
	for (const char *p = kv; p < eq; depth++) {
		const char *dot = memchr(p, '.', (size_t)(eq - p));
		const char *end = dot ? dot : eq;

		fprintf(f, "%*s%.*s:%s", depth * 2, "", (int)(end - p), p, dot ? "\n" : " ");
		p = dot ? dot + 1 : eq;
	}
	fprintf(f, "%s\n", eq + 1);
	fclose(f);
	snprintf(name, sizeof(name), "-o %.*s", (int)klen, kv);
	r = shk_config_load_buffer(c, name, yaml, len);
	free(yaml);
	return r;
}

struct shk_conf *shk_config_new(void)
{
	struct shk_conf *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->ld = shk_loader_new();
	if (!c->ld) {
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	c->diags = &c->ld->diags;
	c->rule_matching = -1;
	c->min_priority = -1;
	c->json_output = -1;
	c->log_level = SHK_LOG_INFO;
	c->harden = true;
	c->mount_tracefs = true;
	c->nice = SHK_CONFIG_NICE;
	c->realtime_priority = SHK_CONFIG_REALTIME;
	c->metrics_enabled = true;
	c->metrics_addr = SHK_METRICS_ADDR;
	return c;
}

void shk_config_free(struct shk_conf *c)
{
	if (!c)
		return;
	shk_loader_free(c->ld);
	for (uint32_t i = 0; i < c->nowned; i++)
		free(c->owned[i]);
	free(c->owned);
	free(c);
}

const char *shk_enforcer_name(enum shk_enforcer_mode e)
{
	return e == SHK_ENFORCER_LSM ? "lsm" : e == SHK_ENFORCER_SIGNAL ? "signal" : "auto";
}

const char *shk_log_level_name(enum shk_log_level l)
{
	static const char *const n[] = { "error", "warning", "info", "debug" };

	return (unsigned)l < 4 ? n[l] : "?";
}
