/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP sinks (libcurl): `http` POSTs the alert in Falco's JSON schema,
 * as Falcosidekick and Falco Talon expect it; `slack` POSTs an incoming-
 * webhook message. One easy handle per sink, so the connection is reused.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <zlib.h>

#include "jsonw.h"
#include "outputs_impl.h"
#include "rule_loader.h"

struct http_sink {
	CURL *curl;
	struct curl_slist *headers;
	char errbuf[CURL_ERROR_SIZE];
	struct jw body; /* slack: the message */
	unsigned char *gz;
	size_t gzcap;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

/* curl_global_init is not thread-safe: once, before the first handle */
static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Cancels a transfer when the sink is told to give up (shutdown). */
static int xfer_cb(void *data, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct sink *k = data;

	return atomic_load(&k->aborting) ? 1 : 0;
}

/* Discard the receiver's answer body. */
static size_t discard(char *p, size_t size, size_t n, void *data)
{
	return size * n;
}

static int add_header(struct http_sink *h, const char *line)
{
	struct curl_slist *l = curl_slist_append(h->headers, line);

	if (!l)
		return -ENOMEM;
	h->headers = l;
	return 0;
}

static int http_setup(struct sink *k, struct http_sink *h, char *err, size_t errsz)
{
	CURL *c = h->curl;
	int r = 0;

	r |= add_header(h, "Content-Type: application/json");
	r |= add_header(h, "User-Agent: shrike/" SHRIKE_VERSION);
	/* no "Expect: 100-continue" round trip on large bodies */
	r |= add_header(h, "Expect:");
	if (k->o.gzip)
		r |= add_header(h, "Content-Encoding: gzip");
	for (uint32_t i = 0; i < k->o.nheaders; i++)
		r |= add_header(h, k->o.headers[i]);
	if (r)
		return -ENOMEM;
	curl_easy_setopt(c, CURLOPT_URL, k->o.url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->headers);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for DNS timeouts */
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)k->o.timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)k->o.connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, xfer_cb);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, k);
	curl_easy_setopt(c, CURLOPT_FORBID_REUSE, k->o.http_keep_alive ? 0L : 1L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, k->o.http_keep_alive ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	if (k->o.ca_cert)
		curl_easy_setopt(c, CURLOPT_CAINFO, k->o.ca_cert);
	if (k->o.client_cert)
		curl_easy_setopt(c, CURLOPT_SSLCERT, k->o.client_cert);
	if (k->o.client_key)
		curl_easy_setopt(c, CURLOPT_SSLKEY, k->o.client_key);
	if (k->o.insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	(void)err, (void)errsz;
	return 0;
}

static int http_open(struct sink *k, char *err, size_t errsz)
{
	struct http_sink *h;

	if (!k->o.url || (strncmp(k->o.url, "http://", 7) && strncmp(k->o.url, "https://", 8))) {
		snprintf(err, errsz, "%s output: url must start with http:// or https://",
			 shk_sink_kind_name(k->o.kind));
		return -EINVAL;
	}
	if (!k->o.client_cert != !k->o.client_key) {
		snprintf(err, errsz, "%s output: client_cert and client_key go together",
			 shk_sink_kind_name(k->o.kind));
		return -EINVAL;
	}
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK) {
		snprintf(err, errsz, "libcurl: %s", curl_easy_strerror(curl_init_rc));
		return -EIO;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	k->impl = h;
	jw_init(&h->body);
	h->curl = curl_easy_init();
	if (!h->curl)
		return -ENOMEM;
	return http_setup(k, h, err, errsz);
}

/* gzip (RFC 1952) of the body into h->gz. Returns its length or -errno. */
static long gzip_body(struct http_sink *h, const char *s, size_t len)
{
	z_stream z = { 0 };
	size_t bound;
	int r;

	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	bound = deflateBound(&z, len);
	if (bound > h->gzcap) {
		unsigned char *p = realloc(h->gz, bound);

		if (!p) {
			deflateEnd(&z);
			return -ENOMEM;
		}
		h->gz = p, h->gzcap = bound;
	}
	z.next_in = (unsigned char *)s;
	z.avail_in = (uInt)len;
	z.next_out = h->gz;
	z.avail_out = (uInt)bound;
	r = deflate(&z, Z_FINISH);
	deflateEnd(&z);
	return r == Z_STREAM_END ? (long)z.total_out : -EIO;
}

static int post(struct sink *k, const char *body, char *err, size_t errsz)
{
	struct http_sink *h = k->impl;
	size_t len = strlen(body);
	long code = 0;
	CURLcode rc;

	if (k->o.gzip) {
		long n = gzip_body(h, body, len);

		if (n < 0) {
			snprintf(err, errsz, "gzip: %s", strerror((int)-n));
			return (int)n;
		}
		body = (const char *)h->gz;
		len = (size_t)n;
	}
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	h->errbuf[0] = '\0';
	rc = curl_easy_perform(h->curl);
	if (rc != CURLE_OK) {
		snprintf(err, errsz, "%s: %s", k->o.url,
			 h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc));
		return rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &code);
	if (code >= 200 && code < 300)
		return 0;
	snprintf(err, errsz, "%s: HTTP %ld", k->o.url, code);
	/* a request the receiver refuses will be refused again: no retry,
	 * except for throttling and timeouts */
	if (code >= 400 && code < 500 && code != 408 && code != 429)
		return -EPERM;
	return -EIO;
}

static int http_send(struct sink *k, const struct shk_alert_blob *a, char *err, size_t errsz)
{
	return post(k, a->json, err, errsz);
}

static void http_close(struct sink *k)
{
	struct http_sink *h = k->impl;

	if (!h)
		return;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	curl_slist_free_all(h->headers);
	jw_free(&h->body);
	free(h->gz);
	free(h);
	k->impl = NULL;
}

const struct sink_ops shk_sink_http_ops = {
	.open = http_open,
	.send = http_send,
	.close = http_close,
};

/* ---- slack --------------------------------------------------------------- */

static const char *slack_color(int prio)
{
	if (prio <= SHK_PRIO_ERROR)
		return "danger";
	if (prio == SHK_PRIO_WARNING)
		return "warning";
	return "good";
}

static void slack_field(struct jw *w, const char *title, const char *value, bool is_short)
{
	jw_obj_begin(w);
	jw_kstr(w, "title", title);
	jw_kstr(w, "value", value);
	jw_kbool(w, "short", is_short);
	jw_obj_end(w);
}

/* The incoming-webhook message: the alert line as text, and the rule,
 * priority and response outcomes as attachment fields. */
static void slack_message(struct jw *w, const struct shk_alert_blob *a)
{
	jw_reset(w);
	jw_obj_begin(w);
	jw_kstr(w, "text", a->output);
	jw_key(w, "attachments");
	jw_arr_begin(w);
	jw_obj_begin(w);
	jw_kstr(w, "fallback", a->output);
	jw_kstr(w, "color", slack_color(a->priority));
	jw_key(w, "fields");
	jw_arr_begin(w);
	slack_field(w, "rule", a->rule, true);
	slack_field(w, "priority", shk_priority_name((enum shk_priority)a->priority), true);
	slack_field(w, "response", a->response[0] ? a->response : "none", false);
	jw_arr_end(w);
	jw_kstr(w, "footer", "shrike");
	jw_obj_end(w);
	jw_arr_end(w);
	jw_obj_end(w);
}

static int slack_send(struct sink *k, const struct shk_alert_blob *a, char *err, size_t errsz)
{
	struct http_sink *h = k->impl;

	slack_message(&h->body, a);
	if (h->body.oom) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	return post(k, jw_cstr(&h->body), err, errsz);
}

const struct sink_ops shk_sink_slack_ops = {
	.open = http_open,
	.send = slack_send,
	.close = http_close,
};
