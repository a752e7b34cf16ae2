/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Kubernetes API client's worker: one thread, one bounded queue, one
 * curl handle. See k8s.h.
 */
#include "k8s.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ANSWER_MAX (1024 * 1024) /* a pod object is a few KiB */
#define TOKEN_MAX (64 * 1024)
#define TOKEN_REREAD_NS (60ull * 1000000000ull) /* projected tokens rotate */
#define WARN_EVERY_NS (60ull * 1000000000ull)
#define LABEL_KEY_MAX 317	  /* prefix (253) '/' name (63) */
#define LABEL_VALUE_MAX 63
#define SUMMARY_MAX 1024

enum req_kind { REQ_LABELS, REQ_PATCH, REQ_NETPOL, REQ_NETPOL_DEL, REQ_EVICT, REQ_DELPOD };

/* A caller waiting for a PATCH or a POST. Shared by the caller and the worker; the
 * last one to let go frees it (a caller that timed out leaves first). */
struct waiter {
	int refs;
	bool done;
	int err;
	char msg[SHK_K8S_ERR];
};

struct req {
	enum req_kind kind;
	char uid[SHK_POD_UIDKEY_MAX + 1];
	char ns[SHK_POD_NS_MAX + 1];
	char name[SHK_POD_NAME_MAX + 1]; /* the pod, or the NetworkPolicy */
	char *body; /* PATCH, POST: owned */
	struct waiter *w;
	shk_k8s_done_fn done; /* REQ_EVICT, REQ_DELPOD: told the outcome */
	void *done_ctx;
};

/* A namespace known to hold the quarantine NetworkPolicy. */
struct netpol_seen {
	char ns[SHK_POD_NS_MAX + 1];
	uint64_t at_ns; /* 0: free */
};

struct shk_k8s {
	struct shk_k8s_opts o;
	struct shk_k8s_creds cr;
	char *label_key;
	struct shk_podlabels *labels;
	CURL *curl;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv, done_cv;
	bool running, stop;
	struct req *q;
	uint32_t head, count, cap;
	struct shk_k8s_stats st;
	struct netpol_seen netpols[SHK_K8S_NETPOL_CACHE]; /* under mu */
	uint32_t netpol_next;				   /* the next to replace */
	/* worker only */
	char *token;
	uint64_t token_read_ns;
	uint64_t last_warn_ns, warn_suppressed;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

/* curl_global_init is not thread-safe on every build: once, first */
static void curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

bool shk_k8s_name_valid(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;

	if (!n || n > max || s[0] == '.' || s[0] == '-' || s[n - 1] == '.' || s[n - 1] == '-')
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789.-") == n;
}

/* ---- HTTP ------------------------------------------------------------------ */

struct answer {
	char *buf;
	size_t len;
	bool too_big;
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct answer *a = arg;
	size_t n = size * nmemb;
	char *nb;

	if (a->len + n > ANSWER_MAX) {
		a->too_big = true;
		return 0; /* curl stops with a write error */
	}
	nb = realloc(a->buf, a->len + n + 1);
	if (!nb)
		return 0;
	memcpy(nb + a->len, p, n);
	a->buf = nb;
	a->len += n;
	a->buf[a->len] = '\0';
	return n;
}

/* The bearer token: fixed, or re-read from its file now and then (bound
 * service account tokens are rotated by the kubelet). */
static const char *token(struct shk_k8s *k)
{
	uint64_t now = now_ns();
	FILE *f;

	if (k->cr.token)
		return k->cr.token;
	if (!k->cr.token_file)
		return NULL;
	if (k->token && now - k->token_read_ns < TOKEN_REREAD_NS)
		return k->token;
	f = fopen(k->cr.token_file, "re");
	if (f) {
		char *t = malloc(TOKEN_MAX + 1);
		size_t n = t ? fread(t, 1, TOKEN_MAX, f) : 0;

		if (t && n && n < TOKEN_MAX) {
			t[n] = '\0';
			t[strcspn(t, "\r\n")] = '\0';
			free(k->token);
			k->token = t;
			k->token_read_ns = now;
		} else {
			free(t);
		}
		fclose(f);
	}
	return k->token; /* the last good one if the file is unreadable */
}

/* Cuts a transfer short when the client stops (shutdown must not wait
 * for an API server that hangs). */
static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct shk_k8s *k = arg;

	(void)dt, (void)dn, (void)ut, (void)un;
	return __atomic_load_n(&k->stop, __ATOMIC_RELAXED) ? 1 : 0;
}

static struct curl_blob *blob(struct curl_blob *b, char *data, size_t len)
{
	*b = (struct curl_blob){ .data = data, .len = len, .flags = CURL_BLOB_COPY };
	return b;
}

/* One HTTP exchange; returns the status (>= 100) or a negative errno, with
 * msg set on failure. */
static int http(struct shk_k8s *k, const char *method, const char *path, const char *body,
		const char *ctype, struct answer *a, char *msg, size_t msgsz)
{
	struct curl_slist *h = NULL;
	char *url = NULL, *auth = NULL, ct[128];
	const char *tok = token(k);
	struct curl_blob b[3];
	long status = 0;
	CURLcode rc;
	int ret;

	if (asprintf(&url, "%s%s", k->cr.server, path) < 0)
		return -ENOMEM;
	h = curl_slist_append(h, "Accept: application/json");
	if (ctype) {
		snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
		h = curl_slist_append(h, ct);
	}
	if (tok && asprintf(&auth, "Authorization: Bearer %s", tok) >= 0)
		h = curl_slist_append(h, auth);
	curl_easy_reset(k->curl);
	curl_easy_setopt(k->curl, CURLOPT_URL, url);
	curl_easy_setopt(k->curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(k->curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(k->curl, CURLOPT_USERAGENT, "shrike/" SHRIKE_VERSION);
	curl_easy_setopt(k->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(k->curl, CURLOPT_TIMEOUT_MS, (long)k->o.timeout_ms);
	curl_easy_setopt(k->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)k->o.timeout_ms);
	curl_easy_setopt(k->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(k->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(k->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(k->curl, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(k->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(k->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(k->curl, CURLOPT_XFERINFODATA, k);
	if (body) {
		curl_easy_setopt(k->curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(k->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	/* The cluster's CA only, as kubectl: libcurl would also trust its
	 * default CA directory (the system's public CAs) beside a CA file. */
	if (k->cr.ca_file || k->cr.ca_data)
		curl_easy_setopt(k->curl, CURLOPT_CAPATH, NULL);
	if (k->cr.ca_file)
		curl_easy_setopt(k->curl, CURLOPT_CAINFO, k->cr.ca_file);
	if (k->cr.ca_data)
		curl_easy_setopt(k->curl, CURLOPT_CAINFO_BLOB, blob(&b[0], k->cr.ca_data, k->cr.ca_len));
	if (k->cr.insecure) {
		curl_easy_setopt(k->curl, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(k->curl, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (k->cr.cert_file)
		curl_easy_setopt(k->curl, CURLOPT_SSLCERT, k->cr.cert_file);
	if (k->cr.cert_data)
		curl_easy_setopt(k->curl, CURLOPT_SSLCERT_BLOB,
				 blob(&b[1], k->cr.cert_data, k->cr.cert_len));
	if (k->cr.key_file)
		curl_easy_setopt(k->curl, CURLOPT_SSLKEY, k->cr.key_file);
	if (k->cr.key_data)
		curl_easy_setopt(k->curl, CURLOPT_SSLKEY_BLOB, blob(&b[2], k->cr.key_data, k->cr.key_len));
	rc = curl_easy_perform(k->curl);
	pthread_mutex_lock(&k->mu);
	k->st.requests++;
	pthread_mutex_unlock(&k->mu);
	if (rc != CURLE_OK) {
		snprintf(msg, msgsz, "%s", a->too_big ? "answer larger than 1 MiB" : curl_easy_strerror(rc));
		/* a certificate the CA does not vouch for is no transient
		 * failure: -EKEYREJECTED, never retried */
		ret = rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT
		      : a->too_big		     ? -EFBIG
		      : rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
				      rc == CURLE_SSL_CERTPROBLEM
			      ? -EKEYREJECTED
			      : -ECONNREFUSED;
	} else {
		curl_easy_getinfo(k->curl, CURLINFO_RESPONSE_CODE, &status);
		ret = (int)status;
	}
	curl_slist_free_all(h);
	free(auth);
	free(url);
	return ret;
}

/* The API's Status message of an error answer, if there is one. */
static void status_msg(int status, const struct answer *a, char *msg, size_t msgsz)
{
	cJSON *j = a->buf ? cJSON_ParseWithLength(a->buf, a->len) : NULL;
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");

	snprintf(msg, msgsz, "HTTP %d%s%.160s", status, cJSON_IsString(m) ? ": " : "",
		 cJSON_IsString(m) ? m->valuestring : "");
	cJSON_Delete(j);
}

static void count_error(struct shk_k8s *k, const char *what, const char *msg)
{
	uint64_t now = now_ns();
	bool warn;

	pthread_mutex_lock(&k->mu);
	k->st.errors++;
	pthread_mutex_unlock(&k->mu);
	warn = !k->last_warn_ns || now - k->last_warn_ns >= WARN_EVERY_NS;
	if (!warn) {
		k->warn_suppressed++;
		return;
	}
	if (k->o.warn) {
		char line[512];

		snprintf(line, sizeof(line),
			 "kubernetes API %s: %s: %s (pod labels stay <NA>; %llu more errors not shown)",
			 k->cr.server, what, msg, (unsigned long long)k->warn_suppressed);
		k->o.warn(k->o.warn_ctx, line);
	}
	k->last_warn_ns = now;
	k->warn_suppressed = 0;
}

/* ---- labels ------------------------------------------------------------------ */

/* The labels of a pod object, checked: it must be the pod asked for (a pod
 * re-created under the same name has another uid), labels must be strings
 * within Kubernetes' limits (others are skipped). */
static int parse_labels(const char *buf, size_t len, const char *uid, char **ret_kv,
			size_t *ret_len, uint32_t *ret_n)
{
	cJSON *j = cJSON_ParseWithLength(buf, len);
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(j, "metadata");
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(md, "uid");
	const cJSON *ls = cJSON_GetObjectItemCaseSensitive(md, "labels");
	const cJSON *l;
	char *kv = NULL;
	size_t at = 0;
	uint32_t n = 0;
	int ret = 0;

	if (!cJSON_IsObject(j) || !cJSON_IsObject(md) || !cJSON_IsString(u)) {
		ret = -EBADMSG;
		goto out;
	}
	if (strcmp(u->valuestring, uid)) {
		ret = -ESTALE;
		goto out;
	}
	if (ls && !cJSON_IsObject(ls) && !cJSON_IsNull(ls)) {
		ret = -EBADMSG;
		goto out;
	}
	kv = malloc(SHK_PODLABELS_BYTES);
	if (!kv) {
		ret = -ENOMEM;
		goto out;
	}
	ls = cJSON_IsObject(ls) ? ls : NULL;
	cJSON_ArrayForEach(l, ls)
	{
		size_t kl = l->string ? strlen(l->string) : 0, vl;

		if (!cJSON_IsString(l) || !kl || kl > LABEL_KEY_MAX)
			continue;
		vl = strlen(l->valuestring);
		if (vl > LABEL_VALUE_MAX || n == SHK_PODLABELS_MAX ||
		    at + kl + vl + 2 > SHK_PODLABELS_BYTES)
			continue;
		memcpy(kv + at, l->string, kl + 1);
		at += kl + 1;
		memcpy(kv + at, l->valuestring, vl + 1);
		at += vl + 1;
		n++;
	}
	*ret_kv = kv;
	*ret_len = at;
	*ret_n = n;
	kv = NULL;
out:
	free(kv);
	cJSON_Delete(j);
	return ret;
}

static void fetch_labels(struct shk_k8s *k, const struct req *r)
{
	struct answer a = { 0 };
	char path[512], msg[SHK_K8S_ERR] = "";
	char *kv = NULL;
	size_t len = 0;
	uint32_t n = 0;
	int st, e;

	pthread_mutex_lock(&k->mu);
	k->st.label_fetches++;
	pthread_mutex_unlock(&k->mu);
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s", r->ns, r->name);
	st = http(k, "GET", path, NULL, NULL, &a, msg, sizeof(msg));
	if (st == 200) {
		e = parse_labels(a.buf ? a.buf : "", a.len, r->uid, &kv, &len, &n);
		if (!e && !shk_podlabels_store(k->labels, r->uid, kv, len, n, now_ns())) {
			free(kv);
			free(a.buf);
			return;
		}
		free(kv);
		pthread_mutex_lock(&k->mu);
		k->st.bad_answers++;
		pthread_mutex_unlock(&k->mu);
		snprintf(msg, sizeof(msg), "%s",
			 e == -ESTALE ? "another pod of that name (uid differs)" : "not a pod object");
	} else if (st > 0) {
		status_msg(st, &a, msg, sizeof(msg));
	}
	free(a.buf);
	shk_podlabels_fail(k->labels, r->uid, now_ns());
	{
		char what[400];

		snprintf(what, sizeof(what), "GET pod %s/%s", r->ns, r->name);
		count_error(k, what, msg);
	}
}

/* ---- PATCH ------------------------------------------------------------------- */

static bool retryable(int st)
{
	return (st < 0 && st != -EKEYREJECTED) || st == 429 || st >= 500;
}

/* A write to the API with retries and backoff: the last HTTP status, or a
 * negative errno; msg says what went wrong unless it is a 2xx. */
static int write_call(struct shk_k8s *k, const char *method, const char *path, const char *body,
		      const char *ctype, char *msg, size_t msgsz)
{
	uint32_t backoff_ms = 100;
	int st = -EIO;

	for (uint32_t i = 0; i <= k->o.retries; i++) {
		struct answer a = { 0 };

		if (i) {
			struct timespec ts = { backoff_ms / 1000, (long)(backoff_ms % 1000) * 1000000 };

			nanosleep(&ts, NULL);
			backoff_ms *= 2;
		}
		st = http(k, method, path, body, ctype, &a, msg, msgsz);
		if (st >= 200 && st < 300) {
			free(a.buf);
			return st;
		}
		if (st > 0)
			status_msg(st, &a, msg, msgsz);
		free(a.buf);
		if (!retryable(st))
			break;
		pthread_mutex_lock(&k->mu);
		bool stop = k->stop;
		pthread_mutex_unlock(&k->mu);
		if (stop)
			break;
	}
	return st;
}

static int status_errno(int st)
{
	return st >= 200 && st < 300 ? 0
	       : st == 404	     ? -ENOENT
	       : st == 401 || st == 403 ? -EACCES
	       : st < 0		     ? st
				     : -EIO;
}

static int patch_pod(struct shk_k8s *k, const struct req *r, char *msg, size_t msgsz)
{
	char path[512];

	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s", r->ns, r->name);
	return status_errno(
		write_call(k, "PATCH", path, r->body, "application/merge-patch+json", msg, msgsz));
}

/* Called with k->mu held. */
static struct netpol_seen *netpol_find_locked(struct shk_k8s *k, const char *ns, uint64_t now)
{
	for (uint32_t i = 0; i < SHK_K8S_NETPOL_CACHE; i++) {
		struct netpol_seen *e = &k->netpols[i];

		if (e->at_ns && now - e->at_ns < SHK_K8S_NETPOL_TTL_S * 1000000000ull &&
		    !strcmp(e->ns, ns))
			return e;
	}
	return NULL;
}

/* Remember that ns holds the policy; when full, the oldest entry goes
 * (round robin: entries are only ever added, so that is the oldest). */
static void netpol_remember(struct shk_k8s *k, const char *ns)
{
	uint64_t now = now_ns();
	struct netpol_seen *e;

	pthread_mutex_lock(&k->mu);
	e = netpol_find_locked(k, ns, now);
	if (!e) {
		e = &k->netpols[k->netpol_next];
		k->netpol_next = (k->netpol_next + 1) % SHK_K8S_NETPOL_CACHE;
	}
	snprintf(e->ns, sizeof(e->ns), "%s", ns);
	e->at_ns = now;
	pthread_mutex_unlock(&k->mu);
}

/* A write whose status `fine` means the wanted state is already there
 * (409 on a create, 404 on a delete) counts as done; msg then says so, or
 * says `done` on success (not a retried attempt's error). */
static int settled(int st, int fine, const char *already, const char *done, char *msg,
		   size_t msgsz)
{
	if (st == fine) {
		snprintf(msg, msgsz, "%s", already);
		return 200;
	}
	if (st >= 200 && st < 300)
		snprintf(msg, msgsz, "%s", done);
	return st;
}

/* POST the policy; one that exists already (409: someone, maybe another
 * node's shrike, made it first) is what we want. Its content is not
 * checked: an operator may have tightened it. */
static int create_netpol(struct shk_k8s *k, const struct req *r, char *msg, size_t msgsz)
{
	char path[512];
	int st;

	snprintf(path, sizeof(path), "/apis/networking.k8s.io/v1/namespaces/%s/networkpolicies",
		 r->ns);
	st = settled(write_call(k, "POST", path, r->body, "application/json", msg, msgsz), 409,
		     "already there", "created", msg, msgsz);
	if (st >= 200 && st < 300)
		netpol_remember(k, r->ns);
	return status_errno(st);
}

/* DELETE the policy; one already gone (404) is what we want. */
static int delete_netpol(struct shk_k8s *k, const struct req *r, char *msg, size_t msgsz)
{
	char path[512];
	int st;

	snprintf(path, sizeof(path), "/apis/networking.k8s.io/v1/namespaces/%s/networkpolicies/%s",
		 r->ns, SHK_K8S_NETPOL_NAME);
	st = write_call(k, "DELETE", path, NULL, NULL, msg, msgsz);
	return status_errno(settled(st, 404, "already gone", "deleted", msg, msgsz));
}

/* Evict (policy/v1 Eviction: PodDisruptionBudgets are honoured, a 429
 * is retried) or delete the pod; one already gone (404) is done. */
static int remove_pod(struct shk_k8s *k, const struct req *r, char *msg, size_t msgsz)
{
	char path[512];
	int st;

	if (r->kind == REQ_EVICT) {
		snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s/eviction", r->ns,
			 r->name);
		st = write_call(k, "POST", path, r->body, "application/json", msg, msgsz);
	} else {
		snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s", r->ns, r->name);
		st = write_call(k, "DELETE", path, NULL, NULL, msg, msgsz);
	}
	return status_errno(settled(st, 404, "already gone",
				    r->kind == REQ_EVICT ? "evicted" : "deleted", msg, msgsz));
}

static void finish(struct shk_k8s *k, struct waiter *w, int err, const char *msg)
{
	if (!w)
		return; /* nobody waits */
	pthread_mutex_lock(&k->mu);
	w->err = err;
	snprintf(w->msg, sizeof(w->msg), "%s", msg);
	w->done = true;
	if (--w->refs == 0)
		free(w);
	pthread_cond_broadcast(&k->done_cv);
	pthread_mutex_unlock(&k->mu);
}

/* ---- the worker and its queue -------------------------------------------- */

static void *worker(void *arg)
{
	struct shk_k8s *k = arg;

	for (;;) {
		struct req r;

		pthread_mutex_lock(&k->mu);
		while (!k->count && !k->stop)
			pthread_cond_wait(&k->cv, &k->mu);
		if (k->stop) {
			pthread_mutex_unlock(&k->mu);
			return NULL;
		}
		r = k->q[k->head];
		k->head = (k->head + 1) % k->cap;
		k->count--;
		pthread_mutex_unlock(&k->mu);

		if (r.kind == REQ_LABELS) {
			fetch_labels(k, &r);
		} else {
			char msg[SHK_K8S_ERR] = "";
			bool np = r.kind == REQ_NETPOL || r.kind == REQ_NETPOL_DEL;
			bool rm = r.kind == REQ_EVICT || r.kind == REQ_DELPOD;
			int err = r.kind == REQ_NETPOL	   ? create_netpol(k, &r, msg, sizeof(msg))
				  : r.kind == REQ_NETPOL_DEL ? delete_netpol(k, &r, msg, sizeof(msg))
				  : rm			     ? remove_pod(k, &r, msg, sizeof(msg))
							     : patch_pod(k, &r, msg, sizeof(msg));
			char what[400];

			pthread_mutex_lock(&k->mu);
			if (np) {
				k->st.netpols++;
				k->st.netpol_failures += !!err;
			} else {
				k->st.patches++;
				k->st.patch_failures += !!err;
			}
			pthread_mutex_unlock(&k->mu);
			if (err) {
				snprintf(what, sizeof(what), "%s %s/%s",
					 r.kind == REQ_NETPOL	    ? "POST networkpolicy"
					 : r.kind == REQ_NETPOL_DEL ? "DELETE networkpolicy"
					 : r.kind == REQ_EVICT	    ? "POST eviction of pod"
					 : r.kind == REQ_DELPOD	    ? "DELETE pod"
								    : "PATCH pod",
					 r.ns, r.name);
				count_error(k, what, msg);
			}
			if (rm) {
				pthread_mutex_lock(&k->mu);
				k->st.removals++;
				k->st.removal_failures += !!err;
				pthread_mutex_unlock(&k->mu);
				if (r.done)
					r.done(r.done_ctx, err, msg);
			}
			finish(k, r.w, err, msg);
			free(r.body);
		}
	}
}

/* Queue r; PATCHes and POSTs go to the front (an operator waits for them, label
 * fetches can wait). -EAGAIN when full. Called with k->mu held. */
static int push_locked(struct shk_k8s *k, const struct req *r, bool front)
{
	if (k->count == k->cap || k->stop) {
		k->st.queue_full++;
		return -EAGAIN;
	}
	if (front) {
		k->head = (k->head + k->cap - 1) % k->cap;
		k->q[k->head] = *r;
	} else {
		k->q[(k->head + k->count) % k->cap] = *r;
	}
	k->count++;
	pthread_cond_signal(&k->cv);
	return 0;
}

/* The label cache's fetcher: queue only, never wait. */
static int ask_labels(void *ctx, const char *uid, const char *ns, const char *name)
{
	struct shk_k8s *k = ctx;
	struct req r = { .kind = REQ_LABELS };
	int err;

	if (!shk_k8s_name_valid(ns, SHK_POD_NS_MAX) || !shk_k8s_name_valid(name, SHK_POD_NAME_MAX))
		return -EINVAL;
	snprintf(r.uid, sizeof(r.uid), "%s", uid);
	snprintf(r.ns, sizeof(r.ns), "%s", ns);
	snprintf(r.name, sizeof(r.name), "%s", name);
	pthread_mutex_lock(&k->mu);
	err = push_locked(k, &r, false);
	pthread_mutex_unlock(&k->mu);
	return err;
}

/* Queue a write (body is taken over) and wait for it if asked. */
static int run_write(struct shk_k8s *k, enum req_kind kind, const char *ns, const char *name,
		     char *body, bool wait, char *err, size_t errsz)
{
	struct req r = { .kind = kind, .body = body };
	/* every attempt, the backoffs between them, and a margin */
	uint64_t budget_ms = (uint64_t)k->o.timeout_ms * (k->o.retries + 1) +
			     (100ull << k->o.retries) + 1000;
	struct timespec dl;
	struct waiter *w;
	int ret;

	if (!shk_k8s_name_valid(ns, SHK_POD_NS_MAX) || !shk_k8s_name_valid(name, SHK_POD_NAME_MAX)) {
		free(body);
		snprintf(err, errsz, "no valid pod namespace/name");
		return -EINVAL;
	}
	w = wait ? calloc(1, sizeof(*w)) : NULL;
	if (wait && !w) {
		free(body);
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	if (w)
		w->refs = 2;
	r.w = w;
	snprintf(r.ns, sizeof(r.ns), "%s", ns);
	snprintf(r.name, sizeof(r.name), "%s", name);
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += (time_t)(budget_ms / 1000);
	dl.tv_nsec += (long)(budget_ms % 1000) * 1000000;
	if (dl.tv_nsec >= 1000000000) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&k->mu);
	if (push_locked(k, &r, true)) {
		pthread_mutex_unlock(&k->mu);
		free(w);
		free(body);
		snprintf(err, errsz, "API client queue full");
		return -EAGAIN;
	}
	if (!w) {
		pthread_mutex_unlock(&k->mu);
		snprintf(err, errsz, "queued");
		return 0;
	}
	while (!w->done && pthread_cond_timedwait(&k->done_cv, &k->mu, &dl) != ETIMEDOUT)
		;
	if (w->done) {
		ret = w->err;
		snprintf(err, errsz, "%s", w->msg);
	} else {
		ret = -ETIMEDOUT;
		snprintf(err, errsz, "no answer from the API server in time");
	}
	if (--w->refs == 0)
		free(w);
	pthread_mutex_unlock(&k->mu);
	return ret;
}

static char *patch_body(const char *label_key, const struct shk_k8s_quarantine *q)
{
	cJSON *root = cJSON_CreateObject(), *md = cJSON_AddObjectToObject(root, "metadata");
	cJSON *ls = cJSON_AddObjectToObject(md, "labels");
	cJSON *an = cJSON_AddObjectToObject(md, "annotations");
	char when[64] = "", summary[SUMMARY_MAX + 1];
	struct tm tm;
	time_t t;
	char *s;

	if (q) {
		t = (time_t)q->time;
		if (gmtime_r(&t, &tm))
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		snprintf(summary, sizeof(summary), "%s", q->summary ? q->summary : "");
		cJSON_AddStringToObject(ls, label_key, "true");
		cJSON_AddStringToObject(an, "shrike.io/quarantine-rule", q->rule ? q->rule : "");
		cJSON_AddStringToObject(an, "shrike.io/quarantine-time", when);
		cJSON_AddStringToObject(an, "shrike.io/quarantine-alert", summary);
	} else {
		/* merge-patch: null removes the key */
		cJSON_AddNullToObject(ls, label_key);
		cJSON_AddNullToObject(an, "shrike.io/quarantine-rule");
		cJSON_AddNullToObject(an, "shrike.io/quarantine-time");
		cJSON_AddNullToObject(an, "shrike.io/quarantine-alert");
	}
	s = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return s;
}

int shk_k8s_label_pod(struct shk_k8s *k, const struct shk_k8s_quarantine *q, char *err,
		      size_t errsz)
{
	char *body = patch_body(k->label_key, q);

	if (!body) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	return run_write(k, REQ_PATCH, q->ns, q->name, body, true, err, errsz);
}

int shk_k8s_unlabel_pod(struct shk_k8s *k, const char *ns, const char *name, bool wait,
			char *err, size_t errsz)
{
	char *body = patch_body(k->label_key, NULL);

	if (!body) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	return run_write(k, REQ_PATCH, ns, name, body, wait, err, errsz);
}

/* Deny-all for the pods that carry the quarantine label: selected for both
 * directions, with no rules, so nothing is allowed. */
static char *netpol_body(const char *label_key, const char *ns)
{
	cJSON *root = cJSON_CreateObject(), *md, *spec, *sel, *types;
	char *s = NULL;

	if (!root)
		return NULL;
	cJSON_AddStringToObject(root, "apiVersion", "networking.k8s.io/v1");
	cJSON_AddStringToObject(root, "kind", "NetworkPolicy");
	md = cJSON_AddObjectToObject(root, "metadata");
	cJSON_AddStringToObject(md, "name", SHK_K8S_NETPOL_NAME);
	cJSON_AddStringToObject(md, "namespace", ns);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(md, "labels"), "app.kubernetes.io/managed-by",
				"shrike");
	spec = cJSON_AddObjectToObject(root, "spec");
	sel = cJSON_AddObjectToObject(cJSON_AddObjectToObject(spec, "podSelector"), "matchLabels");
	cJSON_AddStringToObject(sel, label_key, "true");
	types = cJSON_AddArrayToObject(spec, "policyTypes");
	cJSON_AddItemToArray(types, cJSON_CreateString("Ingress"));
	cJSON_AddItemToArray(types, cJSON_CreateString("Egress"));
	/* any allocation that failed above leaves a hole: send nothing then */
	if (cJSON_GetArraySize(types) == 2 && cJSON_GetObjectItemCaseSensitive(sel, label_key) &&
	    cJSON_GetObjectItemCaseSensitive(md, "labels"))
		s = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return s;
}

int shk_k8s_ensure_netpol(struct shk_k8s *k, const char *ns, char *err, size_t errsz)
{
	bool known;
	char *body;

	if (!shk_k8s_name_valid(ns, SHK_POD_NS_MAX)) {
		snprintf(err, errsz, "no valid pod namespace/name");
		return -EINVAL;
	}
	pthread_mutex_lock(&k->mu);
	known = netpol_find_locked(k, ns, now_ns()) != NULL;
	pthread_mutex_unlock(&k->mu);
	if (known) {
		snprintf(err, errsz, "already there");
		return 0;
	}
	body = netpol_body(k->label_key, ns);
	if (!body) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	return run_write(k, REQ_NETPOL, ns, SHK_K8S_NETPOL_NAME, body, true, err, errsz);
}

int shk_k8s_drop_netpol(struct shk_k8s *k, const char *ns, char *err, size_t errsz)
{
	if (!shk_k8s_name_valid(ns, SHK_POD_NS_MAX)) {
		snprintf(err, errsz, "no valid pod namespace/name");
		return -EINVAL;
	}
	/* forgotten first: a quarantine after this creates it again */
	pthread_mutex_lock(&k->mu);
	for (struct netpol_seen *e; (e = netpol_find_locked(k, ns, now_ns()));)
		e->at_ns = 0;
	pthread_mutex_unlock(&k->mu);
	return run_write(k, REQ_NETPOL_DEL, ns, SHK_K8S_NETPOL_NAME, NULL, false, err, errsz);
}

int shk_k8s_remove_pod(struct shk_k8s *k, const char *ns, const char *name, bool delete,
		       shk_k8s_done_fn done, void *done_ctx, char *err, size_t errsz)
{
	struct req r = { .kind = delete ? REQ_DELPOD : REQ_EVICT, .done = done,
			 .done_ctx = done_ctx };
	cJSON *root, *md;
	int ret;

	if (!shk_k8s_name_valid(ns, SHK_POD_NS_MAX) || !shk_k8s_name_valid(name, SHK_POD_NAME_MAX)) {
		snprintf(err, errsz, "no valid pod namespace/name");
		return -EINVAL;
	}
	if (!delete) {
		root = cJSON_CreateObject();
		md = root ? cJSON_AddObjectToObject(root, "metadata") : NULL;
		if (md) {
			cJSON_AddStringToObject(root, "apiVersion", "policy/v1");
			cJSON_AddStringToObject(root, "kind", "Eviction");
			cJSON_AddStringToObject(md, "name", name);
			cJSON_AddStringToObject(md, "namespace", ns);
			r.body = cJSON_PrintUnformatted(root);
		}
		cJSON_Delete(root);
		if (!r.body) {
			snprintf(err, errsz, "out of memory");
			return -ENOMEM;
		}
	}
	snprintf(r.ns, sizeof(r.ns), "%s", ns);
	snprintf(r.name, sizeof(r.name), "%s", name);
	pthread_mutex_lock(&k->mu);
	ret = push_locked(k, &r, true);
	pthread_mutex_unlock(&k->mu);
	if (ret) {
		free(r.body);
		snprintf(err, errsz, "API client queue full");
		return -EAGAIN;
	}
	snprintf(err, errsz, "queued");
	return 0;
}

/* ---- lifecycle ----------------------------------------------------------------- */

struct shk_k8s *shk_k8s_new(const struct shk_k8s_opts *o, char *err, size_t errsz)
{
	struct shk_podlabels_opts lo = { 0 };
	struct shk_k8s *k = calloc(1, sizeof(*k));
	sigset_t all, old;
	int e;

	if (!k) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	k->o = *o;
	if (!k->o.timeout_ms)
		k->o.timeout_ms = SHK_K8S_TIMEOUT_MS;
	if (!k->o.label_ttl_s)
		k->o.label_ttl_s = SHK_K8S_LABEL_TTL_S;
	if (!k->o.retries)
		k->o.retries = 2;
	if (k->o.retries > 8)
		k->o.retries = 8;
	k->cap = k->o.queue_len ? k->o.queue_len : SHK_K8S_QUEUE;
	e = o->kubeconfig ? shk_k8s_creds_kubeconfig(o->kubeconfig, &k->cr, err, errsz)
			  : shk_k8s_creds_incluster(o->sa_dir, &k->cr, err, errsz);
	if (e)
		goto fail;
	if (o->api_server) {
		/* the override may be http:// (tests, a local proxy); in-cluster
		 * credentials alone never are */
		if (strncmp(o->api_server, "https://", 8) && strncmp(o->api_server, "http://", 7)) {
			snprintf(err, errsz, "api_server must be an http(s) URL");
			e = -EINVAL;
			goto fail;
		}
		free(k->cr.server);
		if (!(k->cr.server = strdup(o->api_server)))
			goto nomem;
	}
	{
		size_t n = strlen(k->cr.server);

		while (n && k->cr.server[n - 1] == '/')
			k->cr.server[--n] = '\0';
	}
	k->label_key = strdup(o->label_key ? o->label_key : SHK_K8S_LABEL_KEY);
	k->q = calloc(k->cap, sizeof(*k->q));
	lo.capacity = o->label_cache;
	lo.ttl_ns = (uint64_t)k->o.label_ttl_s * 1000000000ull;
	lo.fetch = ask_labels;
	lo.fetch_ctx = k;
	k->labels = shk_podlabels_new(&lo);
	pthread_once(&curl_once, curl_init);
	k->curl = curl_easy_init();
	if (!k->label_key || !k->q || !k->labels || !k->curl)
		goto nomem;
	pthread_mutex_init(&k->mu, NULL);
	{
		pthread_condattr_t ca;

		/* PATCH waits are timed on CLOCK_MONOTONIC: immune to clock jumps */
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&k->done_cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	pthread_cond_init(&k->cv, NULL);
	/* the worker takes no process signal: they belong to the event loop */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&k->thread, NULL, worker, k);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e) {
		pthread_cond_destroy(&k->cv);
		pthread_cond_destroy(&k->done_cv);
		pthread_mutex_destroy(&k->mu);
		snprintf(err, errsz, "cannot start the API client thread: %s", strerror(e));
		e = -e;
		goto fail;
	}
	k->running = true;
	return k;
nomem:
	snprintf(err, errsz, "out of memory");
	e = -ENOMEM;
fail:
	if (k->curl)
		curl_easy_cleanup(k->curl);
	shk_podlabels_free(k->labels);
	free(k->q);
	free(k->label_key);
	shk_k8s_creds_clear(&k->cr);
	free(k);
	errno = -e;
	return NULL;
}

void shk_k8s_free(struct shk_k8s *k)
{
	if (!k)
		return;
	pthread_mutex_lock(&k->mu);
	__atomic_store_n(&k->stop, true, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&k->cv);
	pthread_mutex_unlock(&k->mu);
	pthread_join(k->thread, NULL);
	/* PATCHes never taken: their callers have given up or are told now */
	while (k->count) {
		struct req *r = &k->q[k->head];

		if (r->kind != REQ_LABELS) {
			free(r->body);
			finish(k, r->w, -ECANCELED, "agent stopping");
			if (r->done)
				r->done(r->done_ctx, -ECANCELED, "agent stopping");
		}
		k->head = (k->head + 1) % k->cap;
		k->count--;
	}
	curl_easy_cleanup(k->curl);
	pthread_cond_destroy(&k->cv);
	pthread_cond_destroy(&k->done_cv);
	pthread_mutex_destroy(&k->mu);
	shk_podlabels_free(k->labels);
	free(k->q);
	free(k->label_key);
	free(k->token);
	shk_k8s_creds_clear(&k->cr);
	free(k);
}

struct shk_podlabels *shk_k8s_podlabels(struct shk_k8s *k)
{
	return k->labels;
}

const char *shk_k8s_server(const struct shk_k8s *k)
{
	return k->cr.server;
}

const char *shk_k8s_label_key(const struct shk_k8s *k)
{
	return k->label_key;
}

void shk_k8s_stats(struct shk_k8s *k, struct shk_k8s_stats *ret)
{
	pthread_mutex_lock(&k->mu);
	*ret = k->st;
	pthread_mutex_unlock(&k->mu);
}
