/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kubernetes API credentials: in-cluster (service account) or a kubeconfig
 * (its current context). See k8s.h for what is supported and why.
 */
#include "k8s.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#define KUBECONFIG_MAX (1024 * 1024)

static int fail(char *err, size_t errsz, int e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errsz, int e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	return e;
}

void shk_k8s_creds_clear(struct shk_k8s_creds *c)
{
	if (!c)
		return;
	free(c->server);
	free(c->ca_file);
	free(c->ca_data);
	free(c->token);
	free(c->token_file);
	free(c->cert_file);
	free(c->key_file);
	free(c->cert_data);
	free(c->key_data);
	memset(c, 0, sizeof(*c));
}

int shk_k8s_creds_incluster(const char *sa_dir, struct shk_k8s_creds *ret, char *err,
			    size_t errsz)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	struct shk_k8s_creds c = { 0 };
	char path[4096];
	bool v6;
	int n;

	if (!sa_dir)
		sa_dir = SHK_K8S_SA_DIR;
	if (!host || !*host)
		return fail(err, errsz, -ENOENT,
			    "not in a cluster: KUBERNETES_SERVICE_HOST is not set (set k8s.kubeconfig)");
	if (!port || !*port)
		port = "443";
	if (strspn(port, "0123456789") != strlen(port) || strlen(port) > 5 ||
	    strpbrk(host, "/@?# \t") || strlen(host) > 253)
		return fail(err, errsz, -EINVAL, "bad KUBERNETES_SERVICE_HOST/_PORT");
	v6 = strchr(host, ':') != NULL;
	/* always https, verified with the service account's CA */
	if (asprintf(&c.server, "https://%s%s%s:%s", v6 ? "[" : "", host, v6 ? "]" : "", port) < 0)
		goto nomem;
	n = snprintf(path, sizeof(path), "%s/token", sa_dir);
	if (n < 0 || (size_t)n >= sizeof(path) || access(path, R_OK)) {
		shk_k8s_creds_clear(&c);
		return fail(err, errsz, -ENOENT, "no service account token at %s/token", sa_dir);
	}
	if (!(c.token_file = strdup(path)))
		goto nomem;
	snprintf(path, sizeof(path), "%s/ca.crt", sa_dir);
	if (access(path, R_OK)) {
		shk_k8s_creds_clear(&c);
		return fail(err, errsz, -ENOENT, "no service account CA at %s/ca.crt", sa_dir);
	}
	if (!(c.ca_file = strdup(path)))
		goto nomem;
	*ret = c;
	return 0;
nomem:
	shk_k8s_creds_clear(&c);
	return fail(err, errsz, -ENOMEM, "out of memory");
}

/* ---- kubeconfig ----------------------------------------------------------- */

static yaml_node_t *map_get(yaml_document_t *d, yaml_node_t *m, const char *key)
{
	if (!m || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(d, p->key);

		if (k && k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, key))
			return yaml_document_get_node(d, p->value);
	}
	return NULL;
}

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* The entry called name in a list of {name: ..., <what>: {...}}. */
static yaml_node_t *named(yaml_document_t *d, yaml_node_t *root, const char *list,
			  const char *what, const char *name)
{
	yaml_node_t *l = map_get(d, root, list);

	if (!l || l->type != YAML_SEQUENCE_NODE || !name)
		return NULL;
	for (yaml_node_item_t *i = l->data.sequence.items.start; i < l->data.sequence.items.top; i++) {
		yaml_node_t *e = yaml_document_get_node(d, *i);
		const char *n = scalar(map_get(d, e, "name"));

		if (n && !strcmp(n, name))
			return map_get(d, e, what);
	}
	return NULL;
}

static int b64v(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	return ch == '+' ? 62 : ch == '/' ? 63 : -1;
}

/* Standard base64 (whitespace ignored, '=' ends it). -EINVAL on garbage. */
static int b64_decode(const char *s, char **ret, size_t *ret_len)
{
	size_t n = strlen(s), len = 0;
	char *out = malloc(n / 4 * 3 + 4);
	uint32_t acc = 0;
	int bits = 0;

	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < n && s[i] != '='; i++) {
		int v = b64v((unsigned char)s[i]);

		if (v < 0) {
			if (strchr(" \t\r\n", s[i]))
				continue;
			free(out);
			return -EINVAL;
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[len++] = (char)(acc >> bits & 0xff);
		}
	}
	out[len] = '\0';
	*ret = out;
	*ret_len = len;
	return 0;
}

/* A path from the kubeconfig: relative ones are relative to its folder. */
static char *kpath(const char *dir, const char *p)
{
	char *r;

	if (p[0] == '/')
		return strdup(p);
	return asprintf(&r, "%s/%s", dir, p) < 0 ? NULL : r;
}

struct kv_file {
	const char *file_key, *data_key, *what;
	char **file;
	char **data;
	size_t *len;
};

static int take_file_or_data(yaml_document_t *d, yaml_node_t *m, const char *dir,
			     const struct kv_file *f, char *err, size_t errsz)
{
	const char *p = scalar(map_get(d, m, f->file_key));
	const char *b = scalar(map_get(d, m, f->data_key));
	int e;

	if (b && *b) {
		e = b64_decode(b, f->data, f->len);
		if (e)
			return fail(err, errsz, e, "%s: %s is not valid base64", f->what, f->data_key);
	} else if (p && *p) {
		if (!(*f->file = kpath(dir, p)))
			return fail(err, errsz, -ENOMEM, "out of memory");
	}
	return 0;
}

static int parse_kubeconfig(yaml_document_t *d, const char *dir, struct shk_k8s_creds *c,
			    char *err, size_t errsz)
{
	yaml_node_t *root = yaml_document_get_root_node(d), *ctx, *cl, *us;
	const char *cur, *cname, *uname, *s;
	int e;

	if (!root || root->type != YAML_MAPPING_NODE)
		return fail(err, errsz, -EINVAL, "not a kubeconfig (no mapping at the top)");
	cur = scalar(map_get(d, root, "current-context"));
	if (!cur || !*cur)
		return fail(err, errsz, -EINVAL, "no current-context");
	ctx = named(d, root, "contexts", "context", cur);
	if (!ctx)
		return fail(err, errsz, -EINVAL, "context '%.64s' not found", cur);
	cname = scalar(map_get(d, ctx, "cluster"));
	uname = scalar(map_get(d, ctx, "user"));
	cl = named(d, root, "clusters", "cluster", cname);
	if (!cl)
		return fail(err, errsz, -EINVAL, "cluster '%.64s' of context '%.64s' not found",
			    cname ? cname : "", cur);
	s = scalar(map_get(d, cl, "server"));
	if (!s || (strncmp(s, "https://", 8) && strncmp(s, "http://", 7)))
		return fail(err, errsz, -EINVAL, "cluster '%.64s': server must be an http(s) URL",
			    cname);
	if (!(c->server = strdup(s)))
		return fail(err, errsz, -ENOMEM, "out of memory");
	s = scalar(map_get(d, cl, "insecure-skip-tls-verify"));
	c->insecure = s && !strcmp(s, "true");
	e = take_file_or_data(d, cl, dir,
			      &(struct kv_file){ "certificate-authority", "certificate-authority-data",
						 "cluster", &c->ca_file, &c->ca_data, &c->ca_len },
			      err, errsz);
	if (e)
		return e;

	/* a context without a user is anonymous access: allowed */
	us = uname ? named(d, root, "users", "user", uname) : NULL;
	if (uname && !us)
		return fail(err, errsz, -EINVAL, "user '%.64s' of context '%.64s' not found", uname,
			    cur);
	if (!us)
		return 0;
	if (map_get(d, us, "exec"))
		return fail(err, errsz, -ENOTSUP,
			    "user '%.64s': exec credential plugins are not supported (they run a "
			    "program on each call); use a token or a client certificate",
			    uname);
	if (map_get(d, us, "auth-provider"))
		return fail(err, errsz, -ENOTSUP,
			    "user '%.64s': auth-provider plugins are not supported; use a token or "
			    "a client certificate",
			    uname);
	if (map_get(d, us, "username") || map_get(d, us, "password"))
		return fail(err, errsz, -ENOTSUP,
			    "user '%.64s': basic auth is not supported; use a token or a client "
			    "certificate",
			    uname);
	if ((s = scalar(map_get(d, us, "token"))) && *s) {
		if (!(c->token = strdup(s)))
			return fail(err, errsz, -ENOMEM, "out of memory");
	} else if ((s = scalar(map_get(d, us, "tokenFile"))) && *s) {
		if (!(c->token_file = kpath(dir, s)))
			return fail(err, errsz, -ENOMEM, "out of memory");
	}
	e = take_file_or_data(d, us, dir,
			      &(struct kv_file){ "client-certificate", "client-certificate-data", "user",
						 &c->cert_file, &c->cert_data, &c->cert_len },
			      err, errsz);
	if (!e)
		e = take_file_or_data(d, us, dir,
				      &(struct kv_file){ "client-key", "client-key-data", "user",
							 &c->key_file, &c->key_data, &c->key_len },
				      err, errsz);
	if (e)
		return e;
	if (!(c->cert_file || c->cert_data) != !(c->key_file || c->key_data))
		return fail(err, errsz, -EINVAL,
			    "user '%.64s': a client certificate needs its key and the other way round",
			    uname);
	return 0;
}

int shk_k8s_creds_kubeconfig(const char *path, struct shk_k8s_creds *ret, char *err,
			     size_t errsz)
{
	struct shk_k8s_creds c = { 0 };
	yaml_parser_t ps;
	yaml_document_t d;
	char *buf = NULL, *dir, *slash;
	struct stat st;
	size_t n = 0;
	FILE *f;
	int e;

	f = fopen(path, "re");
	if (!f)
		return fail(err, errsz, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fileno(f), &st) || st.st_size > KUBECONFIG_MAX ||
	    !(buf = malloc((size_t)st.st_size + 1)) ||
	    (n = fread(buf, 1, (size_t)st.st_size, f)) != (size_t)st.st_size) {
		fclose(f);
		free(buf);
		return fail(err, errsz, -EINVAL, "%s: cannot read (or larger than 1 MiB)", path);
	}
	fclose(f);
	if (!yaml_parser_initialize(&ps)) {
		free(buf);
		return fail(err, errsz, -ENOMEM, "out of memory");
	}
	yaml_parser_set_input_string(&ps, (const unsigned char *)buf, n);
	if (!yaml_parser_load(&ps, &d)) {
		e = fail(err, errsz, -EINVAL, "%s:%zu:%zu: %s", path, ps.problem_mark.line + 1,
			 ps.problem_mark.column + 1, ps.problem ? ps.problem : "YAML error");
		yaml_parser_delete(&ps);
		free(buf);
		return e;
	}
	dir = strdup(path);
	if (!dir) {
		e = fail(err, errsz, -ENOMEM, "out of memory");
	} else {
		slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
		e = parse_kubeconfig(&d, slash ? (*dir ? dir : "/") : ".", &c, err, errsz);
		if (e) {
			/* located: the file is named, the key is in the message */
			char m[SHK_K8S_ERR];

			snprintf(m, sizeof(m), "%s", err);
			snprintf(err, errsz, "%s: %s", path, m);
		}
	}
	free(dir);
	yaml_document_delete(&d);
	yaml_parser_delete(&ps);
	free(buf);
	if (e) {
		shk_k8s_creds_clear(&c);
		return e;
	}
	*ret = c;
	return 0;
}
