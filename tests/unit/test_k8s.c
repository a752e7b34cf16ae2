/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Kubernetes API client (respond/k8s.h) against a fake API server on
 * 127.0.0.1 (tests/lib/fakeapi.h), and its pod label cache
 * (detect/k8s_labels.h): labels fetched once and cached, an API that is
 * down or hangs costs counted errors and never a wait, the quarantine
 * PATCH's verb, path, headers and body, the quarantine NetworkPolicy's
 * POST (409 is success, made once per namespace), credentials from
 * kubeconfigs (and the plugins refused) and from a service account; and
 * the same calls over HTTPS (the fake API's TLS mode, a test PKI): the
 * kubeconfig's CA (data or file), a bearer token or a client certificate,
 * the service account's ca.crt, and a server the CA did not sign or that
 * is another host refused before anything is sent.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "fakeapi.h"
#include "k8s.h"
#include "k8s_labels.h"
#include "testlib.h"
#include "testpki.h"

#define UID "7c3a9d1e-5b2f-4e8a-9c6d-0f1e2a3b4c5d"
#define PODPATH "/api/v1/namespaces/shop/pods/web-0"
#define POD_JSON                                                                                  \
	"{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"web-0\",\"namespace\":" \
	"\"shop\",\"uid\":\"" UID "\",\"labels\":{\"app\":\"web\",\"tier\":\"frontend\","       \
	"\"bad\":7}},\"spec\":{}}"

static struct fakeapi api;
static bool api_up;
static char *dir;
static int warnings;
/* the HTTPS tests' PKI, and why there is none (testpki_make) */
static struct testpki pki;
static int pki_err;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void on_warn(void *ctx, const char *msg)
{
	(void)ctx;
	(void)msg;
	warnings++;
}

/* A kubeconfig in the test's directory: server and more lines of the
 * cluster (NULL: none), and the lines of the user (4 spaces in). */
static const char *kubeconfig_with(const char *server, const char *cluster, const char *user)
{
	static char path[1024];
	char text[16384];

	snprintf(path, sizeof(path), "%s/kubeconfig", dir);
	assert_true((size_t)snprintf(text, sizeof(text),
				     "apiVersion: v1\nkind: Config\ncurrent-context: test\n"
				     "contexts:\n- name: other\n  context: {cluster: nowhere, user: "
				     "nobody}\n"
				     "- name: test\n  context: {cluster: c1, user: u1, namespace: shop}\n"
				     "clusters:\n- name: c1\n  cluster:\n    server: %s\n%s"
				     "users:\n- name: u1\n  user:\n%s",
				     server, cluster ? cluster : "", user) < sizeof(text));
	assert_int_equal(test_write_file(path, text), 0);
	return path;
}

/* A kubeconfig with server and a token, in the test's directory. */
static const char *kubeconfig(const char *server, const char *user_extra)
{
	char user[2048];

	snprintf(user, sizeof(user), "    token: tok-123\n%s", user_extra ? user_extra : "");
	return kubeconfig_with(server, NULL, user);
}

static struct shk_k8s *client(uint32_t timeout_ms)
{
	char server[64], err[SHK_K8S_ERR] = "";
	struct shk_k8s_opts o = { .timeout_ms = timeout_ms, .warn = on_warn };
	struct shk_k8s *k;

	snprintf(server, sizeof(server), "http://127.0.0.1:%d", api.port);
	o.kubeconfig = kubeconfig(server, NULL);
	k = shk_k8s_new(&o, err, sizeof(err));
	if (!k)
		fail_msg("shk_k8s_new: %s", err);
	return k;
}

struct seen {
	char text[1024];
	int n;
};

static void collect(void *arg, const char *k, size_t kl, const char *v, size_t vl)
{
	struct seen *s = arg;
	size_t at = strlen(s->text);

	snprintf(s->text + at, sizeof(s->text) - at, "%s%.*s=%.*s", s->n++ ? "," : "", (int)kl, k,
		 (int)vl, v);
}

static int lookup(struct shk_podlabels *c, struct seen *s)
{
	memset(s, 0, sizeof(*s));
	return shk_podlabels_lookup(c, UID, "shop", "web-0", mono_ns(), collect, s);
}

/* Poll the cache until it answers (each lookup is instant), at most ms. */
static int lookup_until(struct shk_podlabels *c, struct seen *s, int ms)
{
	int r = -EAGAIN;

	for (int i = 0; i < ms / 5 && (r = lookup(c, s)) < 0; i++)
		usleep(5000);
	return r;
}

static int setup(void **state)
{
	dir = test_tmpdir();
	assert_non_null(dir);
	assert_int_equal(fakeapi_start(&api), 0);
	api_up = true;
	warnings = 0;
	return 0;
}

static int teardown(void **state)
{
	char cmd[1200];

	if (api_up)
		fakeapi_stop(&api);
	api_up = false;
	testpki_remove(&pki);
	/* a test that failed half way must not leave its cluster behind */
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", dir);
	free(dir);
	return 0;
}

static void test_labels_fetched_and_cached(void **state)
{
	struct shk_k8s *k;
	struct shk_k8s_stats st;
	struct fakeapi_req r;
	struct seen s;

	fakeapi_route(&api, "GET", PODPATH, 200, POD_JSON, 0);
	k = client(2000);
	/* not known yet: <NA> now, a fetch queued */
	assert_int_equal(lookup(shk_k8s_podlabels(k), &s), -EAGAIN);
	assert_int_equal(lookup_until(shk_k8s_podlabels(k), &s, 3000), 2);
	/* the non-string label is dropped, the others kept in order */
	assert_string_equal(s.text, "app=web,tier=frontend");
	assert_int_equal(fakeapi_count(&api), 1);
	assert_true(fakeapi_get(&api, 0, &r));
	assert_string_equal(r.method, "GET");
	assert_string_equal(r.path, PODPATH);
	assert_string_equal(r.auth, "Bearer tok-123");
	/* cached: more lookups, no more requests */
	for (int i = 0; i < 100; i++)
		assert_int_equal(lookup(shk_k8s_podlabels(k), &s), 2);
	usleep(100000);
	assert_int_equal(fakeapi_count(&api), 1);
	shk_k8s_stats(k, &st);
	assert_int_equal(st.label_fetches, 1);
	assert_int_equal(st.errors, 0);
	shk_k8s_free(k);
}

/* A pod re-created under the same name is another pod: its labels are not
 * taken for the old uid. Garbage is not either. */
static void test_labels_wrong_pod_or_garbage(void **state)
{
	struct shk_k8s *k;
	struct shk_k8s_stats st;
	struct seen s;

	fakeapi_route(&api, "GET", PODPATH, 200,
		      "{\"metadata\":{\"uid\":\"00000000-0000-0000-0000-000000000000\","
		      "\"labels\":{\"app\":\"evil\"}}}",
		      0);
	fakeapi_route(&api, "GET", "/api/v1/namespaces/shop/pods/junk", 200, "[1,2,{", 0);
	k = client(2000);
	assert_int_equal(lookup(shk_k8s_podlabels(k), &s), -EAGAIN);
	assert_int_equal(shk_podlabels_lookup(shk_k8s_podlabels(k), "u-junk", "shop", "junk",
					      mono_ns(), collect, &s),
			 -EAGAIN);
	assert_int_equal(fakeapi_wait(&api, 2, 3000), 2);
	for (int i = 0; i < 200; i++) {
		shk_k8s_stats(k, &st);
		if (st.bad_answers == 2)
			break;
		usleep(5000);
	}
	assert_int_equal(st.bad_answers, 2);
	assert_int_equal(st.errors, 2);
	assert_int_equal(lookup(shk_k8s_podlabels(k), &s), -EAGAIN);
	shk_k8s_free(k);
}

/* An API server that accepts connections and never answers: lookups stay
 * instant, errors are counted, warnings rate-limited. */
static void test_api_hangs_never_blocks(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int hole = socket(AF_INET, SOCK_STREAM, 0);
	char server[64], err[SHK_K8S_ERR] = "";
	struct shk_k8s_opts o = { .timeout_ms = 300, .warn = on_warn };
	struct shk_podlabels *c;
	struct shk_k8s_stats st;
	struct shk_k8s *k;
	uint64_t t0, worst = 0;
	struct seen s;

	/* listening, never accepting: connects succeed, answers never come */
	assert_true(hole >= 0);
	assert_int_equal(bind(hole, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(hole, 64), 0);
	assert_int_equal(getsockname(hole, (struct sockaddr *)&a, &al), 0);
	snprintf(server, sizeof(server), "http://127.0.0.1:%d", ntohs(a.sin_port));
	o.kubeconfig = kubeconfig(server, NULL);
	k = shk_k8s_new(&o, err, sizeof(err));
	assert_non_null(k);
	c = shk_k8s_podlabels(k);
	/* 50 pods while the worker hangs on the first: every lookup returns
	 * at once, without labels */
	for (int i = 0; i < 50; i++) {
		char uid[40], name[40];

		snprintf(uid, sizeof(uid), "uid-%d", i);
		snprintf(name, sizeof(name), "pod-%d", i);
		t0 = mono_ns();
		assert_int_equal(shk_podlabels_lookup(c, uid, "shop", name, mono_ns(), collect, &s),
				 -EAGAIN);
		if (mono_ns() - t0 > worst)
			worst = mono_ns() - t0;
	}
	assert_true(worst < 5000000ull); /* < 5 ms, where a fetch takes 300 */
	/* the timeouts are counted as errors; one warning for the lot */
	for (int i = 0; i < 400; i++) {
		shk_k8s_stats(k, &st);
		if (st.errors >= 2)
			break;
		usleep(5000);
	}
	assert_true(st.errors >= 2);
	assert_int_equal(warnings, 1);
	t0 = mono_ns();
	shk_k8s_free(k); /* cuts the hanging request short */
	assert_true(mono_ns() - t0 < 2000000000ull);
	close(hole);
}

/* Nothing listens at all: connection refused, counted, no labels. */
static void test_api_down(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int s0 = socket(AF_INET, SOCK_STREAM, 0);
	char server[64], err[SHK_K8S_ERR] = "";
	struct shk_k8s_opts o = { .timeout_ms = 500, .warn = on_warn };
	struct shk_k8s_stats st;
	struct shk_k8s *k;
	struct shk_k8s_quarantine q = { .ns = "shop", .name = "web-0", .rule = "r", .time = 1 };
	struct seen s;

	assert_int_equal(bind(s0, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s0, (struct sockaddr *)&a, &al), 0);
	close(s0); /* a port nobody listens on */
	snprintf(server, sizeof(server), "http://127.0.0.1:%d", ntohs(a.sin_port));
	o.kubeconfig = kubeconfig(server, NULL);
	k = shk_k8s_new(&o, err, sizeof(err));
	assert_non_null(k);
	assert_int_equal(lookup(shk_k8s_podlabels(k), &s), -EAGAIN);
	for (int i = 0; i < 400; i++) {
		shk_k8s_stats(k, &st);
		if (st.errors >= 1)
			break;
		usleep(5000);
	}
	assert_int_equal(st.errors, 1);
	assert_int_equal(lookup(shk_k8s_podlabels(k), &s), -EAGAIN); /* retried later */
	/* a PATCH fails with the reason, after its retries */
	assert_int_equal(shk_k8s_label_pod(k, &q, err, sizeof(err)), -ECONNREFUSED);
	assert_non_null(strstr(err, "onnect"));
	shk_k8s_stats(k, &st);
	assert_int_equal(st.patch_failures, 1);
	assert_int_equal(st.requests, 1 + 3);
	shk_k8s_free(k);
}

static void test_patch_label(void **state)
{
	struct shk_k8s_quarantine q = { .ns = "shop", .name = "web-0", .rule = "Reverse shell",
					.time = 1700000000, .summary = "Reverse shell (cmd=\"sh -i\")" };
	char err[SHK_K8S_ERR] = "";
	struct fakeapi_req r;
	struct shk_k8s *k;
	cJSON *j;
	const cJSON *md, *x;

	fakeapi_route(&api, "PATCH", PODPATH, 200, POD_JSON, 0);
	k = client(2000);
	assert_int_equal(shk_k8s_label_pod(k, &q, err, sizeof(err)), 0);
	assert_int_equal(fakeapi_count(&api), 1);
	assert_true(fakeapi_get(&api, 0, &r));
	assert_string_equal(r.method, "PATCH");
	assert_string_equal(r.path, PODPATH);
	assert_string_equal(r.ctype, "application/merge-patch+json");
	assert_string_equal(r.auth, "Bearer tok-123");
	j = cJSON_Parse(r.body);
	assert_non_null(j);
	md = cJSON_GetObjectItemCaseSensitive(j, "metadata");
	x = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(md, "labels"),
					     "shrike.io/quarantine");
	assert_true(cJSON_IsString(x));
	assert_string_equal(x->valuestring, "true");
	x = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(md, "annotations"),
					     "shrike.io/quarantine-rule");
	assert_string_equal(x->valuestring, "Reverse shell");
	x = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(md, "annotations"),
					     "shrike.io/quarantine-time");
	assert_string_equal(x->valuestring, "2023-11-14T22:13:20Z");
	x = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(md, "annotations"),
					     "shrike.io/quarantine-alert");
	assert_string_equal(x->valuestring, "Reverse shell (cmd=\"sh -i\")");
	cJSON_Delete(j);

	/* release: the label and annotations removed (merge-patch null) */
	assert_int_equal(shk_k8s_unlabel_pod(k, "shop", "web-0", true, err, sizeof(err)), 0);
	assert_true(fakeapi_get(&api, 1, &r));
	assert_string_equal(r.method, "PATCH");
	j = cJSON_Parse(r.body);
	md = cJSON_GetObjectItemCaseSensitive(j, "metadata");
	x = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(md, "labels"),
					     "shrike.io/quarantine");
	assert_true(cJSON_IsNull(x));
	x = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(md, "annotations"),
					     "shrike.io/quarantine-rule");
	assert_true(cJSON_IsNull(x));
	cJSON_Delete(j);

	/* a name that would escape the URL path is never sent */
	q.name = "../../secrets";
	assert_int_equal(shk_k8s_label_pod(k, &q, err, sizeof(err)), -EINVAL);
	assert_int_equal(fakeapi_count(&api), 2);
	shk_k8s_free(k);
}

/* 403: not retried, the API's message in the error. 500: retried. */
static void test_patch_errors(void **state)
{
	struct shk_k8s_quarantine q = { .ns = "shop", .name = "web-0", .rule = "r", .time = 1 };
	char err[SHK_K8S_ERR] = "";
	struct shk_k8s *k;

	fakeapi_route(&api, "PATCH", PODPATH, 403,
		      "{\"kind\":\"Status\",\"message\":\"pods \\\"web-0\\\" is forbidden\","
		      "\"code\":403}",
		      0);
	k = client(2000);
	assert_int_equal(shk_k8s_label_pod(k, &q, err, sizeof(err)), -EACCES);
	assert_string_equal(err, "HTTP 403: pods \"web-0\" is forbidden");
	assert_int_equal(fakeapi_count(&api), 1);
	fakeapi_route(&api, "PATCH", PODPATH, 500, "oops", 0);
	assert_int_equal(shk_k8s_label_pod(k, &q, err, sizeof(err)), -EIO);
	assert_string_equal(err, "HTTP 500");
	assert_int_equal(fakeapi_count(&api), 1 + 3);
	/* 404: the pod is gone */
	fakeapi_route(&api, "PATCH", PODPATH, 404, "{}", 0);
	assert_int_equal(shk_k8s_label_pod(k, &q, err, sizeof(err)), -ENOENT);
	shk_k8s_free(k);
}

#define NPPATH "/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies"

static void wait_requests_settled(void)
{
	usleep(100000); /* a request that should not come would be there by now */
}

/* The POST creating the deny-all policy: exactly the fields the API
 * defines, selecting the (configured) quarantine label. */
static void test_netpol_created(void **state)
{
	char err[SHK_K8S_ERR] = "", server[64];
	struct shk_k8s_opts o = { .timeout_ms = 2000, .warn = on_warn, .label_key = "sec.example/q" };
	const cJSON *md, *spec, *sel, *x;
	struct shk_k8s_stats st;
	struct fakeapi_req r;
	struct shk_k8s *k;
	cJSON *j;

	fakeapi_route(&api, "POST", NPPATH, 201, "{\"kind\":\"NetworkPolicy\"}", 0);
	snprintf(server, sizeof(server), "http://127.0.0.1:%d", api.port);
	o.kubeconfig = kubeconfig(server, NULL);
	k = shk_k8s_new(&o, err, sizeof(err));
	assert_non_null(k);
	assert_int_equal(shk_k8s_ensure_netpol(k, "shop", err, sizeof(err)), 0);
	assert_int_equal(fakeapi_count(&api), 1);
	assert_true(fakeapi_get(&api, 0, &r));
	assert_string_equal(r.method, "POST");
	assert_string_equal(r.path, NPPATH);
	assert_string_equal(r.ctype, "application/json");
	assert_string_equal(r.auth, "Bearer tok-123");
	j = cJSON_Parse(r.body);
	assert_non_null(j);
	assert_int_equal(cJSON_GetArraySize(j), 4);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "apiVersion")->valuestring,
			    "networking.k8s.io/v1");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(j, "kind")->valuestring,
			    "NetworkPolicy");
	md = cJSON_GetObjectItemCaseSensitive(j, "metadata");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(md, "name")->valuestring,
			    "shrike-quarantine");
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(md, "namespace")->valuestring, "shop");
	x = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(md, "labels"),
					     "app.kubernetes.io/managed-by");
	assert_true(cJSON_IsString(x));
	assert_string_equal(x->valuestring, "shrike");
	spec = cJSON_GetObjectItemCaseSensitive(j, "spec");
	/* deny-all: both directions selected, no ingress or egress rules */
	assert_int_equal(cJSON_GetArraySize(spec), 2);
	sel = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(spec, "podSelector"), "matchLabels");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(spec, "podSelector")), 1);
	assert_int_equal(cJSON_GetArraySize(sel), 1);
	x = cJSON_GetObjectItemCaseSensitive(sel, "sec.example/q");
	assert_true(cJSON_IsString(x));
	assert_string_equal(x->valuestring, "true");
	x = cJSON_GetObjectItemCaseSensitive(spec, "policyTypes");
	assert_int_equal(cJSON_GetArraySize(x), 2);
	assert_string_equal(cJSON_GetArrayItem(x, 0)->valuestring, "Ingress");
	assert_string_equal(cJSON_GetArrayItem(x, 1)->valuestring, "Egress");
	assert_null(cJSON_GetObjectItemCaseSensitive(spec, "ingress"));
	assert_null(cJSON_GetObjectItemCaseSensitive(spec, "egress"));
	cJSON_Delete(j);

	/* the next quarantine in that namespace: known, no call */
	assert_int_equal(shk_k8s_ensure_netpol(k, "shop", err, sizeof(err)), 0);
	wait_requests_settled();
	assert_int_equal(fakeapi_count(&api), 1);
	shk_k8s_stats(k, &st);
	assert_int_equal(st.netpols, 1);
	assert_int_equal(st.netpol_failures, 0);
	assert_int_equal(st.errors, 0);
	/* a namespace that would escape the URL path is never sent */
	assert_int_equal(shk_k8s_ensure_netpol(k, "../kube-system", err, sizeof(err)), -EINVAL);
	assert_int_equal(shk_k8s_ensure_netpol(k, "", err, sizeof(err)), -EINVAL);
	wait_requests_settled();
	assert_int_equal(fakeapi_count(&api), 1);
	shk_k8s_free(k);
}

/* 409: made already (by an operator, another node's shrike): success, and
 * remembered like a created one. */
static void test_netpol_conflict_is_success(void **state)
{
	char err[SHK_K8S_ERR] = "";
	struct shk_k8s_stats st;
	struct fakeapi_req r;
	struct shk_k8s *k;

	fakeapi_route(&api, "POST", NPPATH, 409,
		      "{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":\"networkpolicies."
		      "networking.k8s.io \\\"shrike-quarantine\\\" already exists\","
		      "\"reason\":\"AlreadyExists\",\"code\":409}",
		      0);
	k = client(2000);
	assert_int_equal(shk_k8s_ensure_netpol(k, "shop", err, sizeof(err)), 0);
	assert_int_equal(fakeapi_count(&api), 1); /* not retried */
	assert_true(fakeapi_get(&api, 0, &r));
	assert_string_equal(r.method, "POST");
	assert_string_equal(r.path, NPPATH);
	assert_int_equal(shk_k8s_ensure_netpol(k, "shop", err, sizeof(err)), 0);
	wait_requests_settled();
	assert_int_equal(fakeapi_count(&api), 1);
	shk_k8s_stats(k, &st);
	assert_int_equal(st.netpols, 1);
	assert_int_equal(st.netpol_failures, 0);
	assert_int_equal(st.errors, 0);
	assert_int_equal(warnings, 0);
	shk_k8s_free(k);
}

/* 403 (RBAC without networkpolicies: create): an error with the API's
 * message, counted and warned, not retried, and not remembered: the next
 * quarantine tries again. Other namespaces are their own. 500: retried. */
static void test_netpol_errors(void **state)
{
	char err[SHK_K8S_ERR] = "";
	struct shk_k8s_stats st;
	struct fakeapi_req r;
	struct shk_k8s *k;

	fakeapi_route(&api, "POST", NPPATH, 403,
		      "{\"kind\":\"Status\",\"message\":\"networkpolicies.networking.k8s.io is "
		      "forbidden\",\"code\":403}",
		      0);
	k = client(2000);
	assert_int_equal(shk_k8s_ensure_netpol(k, "shop", err, sizeof(err)), -EACCES);
	assert_string_equal(err, "HTTP 403: networkpolicies.networking.k8s.io is forbidden");
	assert_int_equal(fakeapi_count(&api), 1);
	shk_k8s_stats(k, &st);
	assert_int_equal(st.netpols, 1);
	assert_int_equal(st.netpol_failures, 1);
	assert_int_equal(st.errors, 1);
	assert_int_equal(warnings, 1);
	assert_int_equal(shk_k8s_ensure_netpol(k, "shop", err, sizeof(err)), -EACCES);
	assert_int_equal(fakeapi_count(&api), 2);
	assert_int_equal(warnings, 1); /* rate-limited */

	/* another namespace: its own path, its own answer */
	fakeapi_route(&api, "POST", "/apis/networking.k8s.io/v1/namespaces/db/networkpolicies", 201,
		      "{}", 0);
	assert_int_equal(shk_k8s_ensure_netpol(k, "db", err, sizeof(err)), 0);
	assert_true(fakeapi_get(&api, 2, &r));
	assert_string_equal(r.path, "/apis/networking.k8s.io/v1/namespaces/db/networkpolicies");
	assert_non_null(strstr(r.body, "\"namespace\":\"db\""));

	/* 500: retried, then the error */
	fakeapi_route(&api, "POST", NPPATH, 500, "oops", 0);
	assert_int_equal(shk_k8s_ensure_netpol(k, "shop", err, sizeof(err)), -EIO);
	assert_string_equal(err, "HTTP 500");
	assert_int_equal(fakeapi_count(&api), 3 + 3);
	shk_k8s_stats(k, &st);
	assert_int_equal(st.netpol_failures, 3);
	shk_k8s_free(k);
}

static void test_kubeconfig(void **state)
{
	struct shk_k8s_creds c = { 0 };
	char err[SHK_K8S_ERR] = "", path[1024], text[2048];

	/* data fields are base64, files relative to the kubeconfig */
	assert_int_equal(
		shk_k8s_creds_kubeconfig(kubeconfig("https://10.1.2.3:6443",
						    "    client-certificate: certs/c.pem\n"
						    "    client-key-data: a2V5LWJ5dGVz\n"),
					 &c, err, sizeof(err)),
		0);
	assert_string_equal(c.server, "https://10.1.2.3:6443");
	assert_string_equal(c.token, "tok-123");
	snprintf(path, sizeof(path), "%s/certs/c.pem", dir);
	assert_string_equal(c.cert_file, path);
	assert_int_equal(c.key_len, 9);
	assert_memory_equal(c.key_data, "key-bytes", 9);
	shk_k8s_creds_clear(&c);

	/* exec plugins are refused, clearly */
	assert_int_equal(shk_k8s_creds_kubeconfig(
				 kubeconfig("https://x:6443", "    exec:\n      command: aws\n"), &c,
				 err, sizeof(err)),
			 -ENOTSUP);
	assert_non_null(strstr(err, "exec credential plugins are not supported"));
	assert_non_null(strstr(err, "kubeconfig"));
	assert_int_equal(shk_k8s_creds_kubeconfig(
				 kubeconfig("https://x:6443", "    auth-provider: {name: gcp}\n"), &c,
				 err, sizeof(err)),
			 -ENOTSUP);
	/* a certificate without its key */
	assert_int_equal(shk_k8s_creds_kubeconfig(
				 kubeconfig("https://x:6443", "    client-certificate: c.pem\n"), &c,
				 err, sizeof(err)),
			 -EINVAL);
	/* not a URL */
	assert_int_equal(shk_k8s_creds_kubeconfig(kubeconfig("ftp://x", NULL), &c, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "server must be an http(s) URL"));
	/* bad base64 */
	snprintf(path, sizeof(path), "%s/kc2", dir);
	snprintf(text, sizeof(text),
		 "current-context: a\ncontexts: [{name: a, context: {cluster: b}}]\n"
		 "clusters: [{name: b, cluster: {server: 'https://h', "
		 "certificate-authority-data: '!!notb64'}}]\n");
	assert_int_equal(test_write_file(path, text), 0);
	assert_int_equal(shk_k8s_creds_kubeconfig(path, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "base64"));
	/* no such context; YAML errors located */
	assert_int_equal(test_write_file(path, "current-context: zz\ncontexts: []\n"), 0);
	assert_int_equal(shk_k8s_creds_kubeconfig(path, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "context 'zz' not found"));
	assert_int_equal(test_write_file(path, "a: [1,\n"), 0);
	assert_int_equal(shk_k8s_creds_kubeconfig(path, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "kc2:"));
	assert_int_equal(shk_k8s_creds_kubeconfig("/nonexistent/kc", &c, err, sizeof(err)), -ENOENT);
}

static void test_incluster(void **state)
{
	struct shk_k8s_creds c = { 0 };
	char err[SHK_K8S_ERR] = "", p[1024];

	unsetenv("KUBERNETES_SERVICE_HOST");
	assert_int_equal(shk_k8s_creds_incluster(dir, &c, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "KUBERNETES_SERVICE_HOST"));
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	assert_int_equal(shk_k8s_creds_incluster(dir, &c, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "token"));
	snprintf(p, sizeof(p), "%s/token", dir);
	assert_int_equal(test_write_file(p, "sa-token\n"), 0);
	snprintf(p, sizeof(p), "%s/ca.crt", dir);
	assert_int_equal(test_write_file(p, "-----BEGIN CERTIFICATE-----\n"), 0);
	assert_int_equal(shk_k8s_creds_incluster(dir, &c, err, sizeof(err)), 0);
	/* always https, with the service account's CA */
	assert_string_equal(c.server, "https://10.96.0.1:443");
	assert_string_equal(c.ca_file, p);
	assert_non_null(c.token_file);
	shk_k8s_creds_clear(&c);
	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	assert_int_equal(shk_k8s_creds_incluster(dir, &c, err, sizeof(err)), 0);
	assert_string_equal(c.server, "https://[fd00::1]:443");
	shk_k8s_creds_clear(&c);
	setenv("KUBERNETES_SERVICE_PORT", "44x", 1);
	assert_int_equal(shk_k8s_creds_incluster(dir, &c, err, sizeof(err)), -EINVAL);
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
}

/* In-cluster credentials with an http:// override (tests, a proxy): the
 * token file's content goes in the Authorization header. */
static void test_incluster_token_header(void **state)
{
	char err[SHK_K8S_ERR] = "", p[1024], server[64];
	struct shk_k8s_quarantine q = { .ns = "shop", .name = "web-0", .rule = "r", .time = 1 };
	struct shk_k8s_opts o = { .timeout_ms = 2000, .sa_dir = dir, .api_server = server };
	struct fakeapi_req r;
	struct shk_k8s *k;

	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	snprintf(p, sizeof(p), "%s/token", dir);
	assert_int_equal(test_write_file(p, "projected-token\n"), 0);
	snprintf(p, sizeof(p), "%s/ca.crt", dir);
	assert_int_equal(test_write_file(p, "x\n"), 0);
	snprintf(server, sizeof(server), "http://127.0.0.1:%d/", api.port);
	fakeapi_route(&api, "PATCH", PODPATH, 200, "{}", 0);
	k = shk_k8s_new(&o, err, sizeof(err));
	assert_non_null(k);
	assert_int_equal(shk_k8s_label_pod(k, &q, err, sizeof(err)), 0);
	assert_true(fakeapi_get(&api, 0, &r));
	assert_string_equal(r.path, PODPATH); /* the override's '/' is not doubled */
	assert_string_equal(r.auth, "Bearer projected-token");
	shk_k8s_free(k);
	unsetenv("KUBERNETES_SERVICE_HOST");
}

/* ---- over HTTPS ------------------------------------------------------------ */

/* The fake API is started by each test: its certificate and whether it
 * asks for a client's differ. */
static int setup_tls(void **state)
{
	char p[1100];

	dir = test_tmpdir();
	assert_non_null(dir);
	snprintf(p, sizeof(p), "%s/pki", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	pki_err = testpki_make(&pki, p);
	warnings = 0;
	return 0;
}

/* Without OpenSSL the PKI and the TLS mode are stubs: skipped, and said
 * why, never passed. (The PKI is made with the library, no openssl
 * binary is needed.) */
static void skip_without_tls(int e)
{
	if (e != -EOPNOTSUPP)
		return;
	print_message("skipped: the tests were built without OpenSSL (libssl-dev, "
		      "scripts/deps.sh), no HTTPS API stub\n");
	skip();
}

/* Serve HTTPS as cred; client_ca: require a client certificate it signed. */
static void start_tls(const struct testpki_cred *cred, const char *client_ca)
{
	int e;

	skip_without_tls(pki_err);
	if (pki_err)
		fail_msg("test PKI: %s", strerror(-pki_err));
	e = fakeapi_start_tls(&api, cred->cert, cred->key, client_ca);
	skip_without_tls(e);
	assert_int_equal(e, 0);
	api_up = true;
}

static void restart_tls(const struct testpki_cred *cred, const char *client_ca)
{
	fakeapi_stop(&api);
	api_up = false;
	start_tls(cred, client_ca);
}

/* The file at path in standard base64, one line: a kubeconfig *-data. */
static char *b64_file(const char *path)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t len, o = 0;
	unsigned char *in = (unsigned char *)test_read_file(path, &len);
	char *out = malloc(len / 3 * 4 + 5);

	assert_non_null(in);
	assert_non_null(out);
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0) |
			     (i + 2 < len ? in[i + 2] : 0);

		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = i + 1 < len ? tab[v >> 6 & 63] : '=';
		out[o++] = i + 2 < len ? tab[v & 63] : '=';
	}
	out[o] = '\0';
	free(in);
	return out;
}

/* "    <key>: <base64 of path>\n", to go into a kubeconfig. */
static char *data_line(const char *key, const char *path)
{
	char *b = b64_file(path), *line;

	assert_true(asprintf(&line, "    %s: %s\n", key, b) > 0);
	free(b);
	return line;
}

/* A client of the fake API at https://127.0.0.1:port through a kubeconfig
 * with those cluster and user lines; NULL (err set) when shk_k8s_new
 * refuses. */
static struct shk_k8s *client_https(const char *cluster, const char *user, char *err,
				    size_t errsz)
{
	struct shk_k8s_opts o = { .timeout_ms = 2000, .warn = on_warn };
	char server[64];

	snprintf(server, sizeof(server), "https://127.0.0.1:%d", api.port);
	o.kubeconfig = kubeconfig_with(server, cluster, user);
	return shk_k8s_new(&o, err, errsz);
}

static const struct shk_k8s_quarantine tls_q = { .ns = "shop",
						 .name = "web-0",
						 .rule = "Reverse shell",
						 .time = 1700000000,
						 .summary = "Reverse shell (cmd=\"sh -i\")" };

/* The merge-patch that labels web-0 for tls_q, and nothing else in it. */
static void assert_quarantine_patch(const struct fakeapi_req *r)
{
	cJSON *got = cJSON_Parse(r->body);
	cJSON *want = cJSON_Parse(
		"{\"metadata\":{\"labels\":{\"shrike.io/quarantine\":\"true\"},"
		"\"annotations\":{\"shrike.io/quarantine-rule\":\"Reverse shell\","
		"\"shrike.io/quarantine-time\":\"2023-11-14T22:13:20Z\","
		"\"shrike.io/quarantine-alert\":\"Reverse shell (cmd=\\\"sh -i\\\")\"}}}");

	assert_string_equal(r->method, "PATCH");
	assert_string_equal(r->path, PODPATH);
	assert_string_equal(r->ctype, "application/merge-patch+json");
	assert_non_null(got);
	assert_non_null(want);
	if (!cJSON_Compare(got, want, true))
		fail_msg("PATCH body: %s", r->body);
	cJSON_Delete(got);
	cJSON_Delete(want);
}

/* Wait until the client counted n errors (label fetches are not waited
 * for), at most 3 s; the stats then. */
static struct shk_k8s_stats stats_errors(struct shk_k8s *k, uint64_t n)
{
	struct shk_k8s_stats st;

	for (int i = 0; i < 600; i++) {
		shk_k8s_stats(k, &st);
		if (st.errors >= n)
			break;
		usleep(5000);
	}
	return st;
}

/* The stub serving the pod (GET, PATCH) over TLS, and a client trusting
 * the CA in ca_pem that sends a token. */
static struct shk_k8s *tls_pod_client(const char *ca_pem, char *err, size_t errsz)
{
	struct shk_k8s *k;
	char *ca;

	start_tls(&pki.server, NULL);
	fakeapi_route(&api, "PATCH", PODPATH, 200, POD_JSON, 0);
	fakeapi_route(&api, "GET", PODPATH, 200, POD_JSON, 0);
	ca = data_line("certificate-authority-data", ca_pem);
	k = client_https(ca, "    token: tok-123\n", err, errsz);
	free(ca);
	return k;
}

/* A kubeconfig with certificate-authority-data and a token: the PATCH and
 * a label GET go over TLS with the token, and the stub saw them exactly. */
static void test_https_ca_data_token(void **state)
{
	char err[SHK_K8S_ERR] = "";
	struct shk_k8s_stats st;
	struct fakeapi_req r;
	struct shk_k8s *k;
	struct seen s;

	k = tls_pod_client(pki.ca.cert, err, sizeof(err));
	if (!k)
		fail_msg("shk_k8s_new: %s", err);
	assert_int_equal(shk_k8s_label_pod(k, &tls_q, err, sizeof(err)), 0);
	assert_int_equal(fakeapi_count(&api), 1);
	assert_true(fakeapi_get(&api, 0, &r));
	assert_true(r.tls);
	assert_false(r.client_verified);
	assert_string_equal(r.auth, "Bearer tok-123");
	assert_quarantine_patch(&r);

	assert_int_equal(lookup(shk_k8s_podlabels(k), &s), -EAGAIN);
	assert_int_equal(lookup_until(shk_k8s_podlabels(k), &s, 3000), 2);
	assert_string_equal(s.text, "app=web,tier=frontend");
	assert_true(fakeapi_get(&api, 1, &r));
	assert_true(r.tls);
	assert_string_equal(r.method, "GET");
	assert_string_equal(r.path, PODPATH);
	assert_string_equal(r.auth, "Bearer tok-123");
	assert_string_equal(r.body, "");
	shk_k8s_stats(k, &st);
	assert_int_equal(st.requests, 2);
	assert_int_equal(st.errors, 0);
	assert_int_equal(fakeapi_refused(&api), 0);
	shk_k8s_free(k);
}

/* mTLS: a client certificate and key, as data and as files, and no token.
 * The stub verified the certificate, and no Authorization was sent. */
static void test_https_client_cert(void **state)
{
	char err[SHK_K8S_ERR] = "", *crt, *key, *user, *cluster;
	struct shk_k8s_stats st;
	struct fakeapi_req r;
	struct shk_k8s *k;

	start_tls(&pki.server, pki.ca.cert);
	fakeapi_route(&api, "PATCH", PODPATH, 200, POD_JSON, 0);
	fakeapi_route(&api, "POST", NPPATH, 201, "{}", 0);
	for (int files = 0; files <= 1; files++) {
		if (files) {
			assert_true(asprintf(&cluster, "    certificate-authority: %s\n",
					     pki.ca.cert) > 0);
			assert_true(asprintf(&user,
					     "    client-certificate: %s\n    client-key: %s\n",
					     pki.client.cert, pki.client.key) > 0);
		} else {
			cluster = data_line("certificate-authority-data", pki.ca.cert);
			crt = data_line("client-certificate-data", pki.client.cert);
			key = data_line("client-key-data", pki.client.key);
			assert_true(asprintf(&user, "%s%s", crt, key) > 0);
			free(crt);
			free(key);
		}
		k = client_https(cluster, user, err, sizeof(err));
		free(cluster);
		free(user);
		if (!k)
			fail_msg("shk_k8s_new: %s", err);
		assert_int_equal(shk_k8s_label_pod(k, &tls_q, err, sizeof(err)), 0);
		assert_int_equal(shk_k8s_ensure_netpol(k, "shop", err, sizeof(err)), 0);
		assert_int_equal(fakeapi_count(&api), 2 * files + 2);
		assert_true(fakeapi_get(&api, 2 * files, &r));
		assert_true(r.tls);
		assert_true(r.client_verified);
		assert_string_equal(r.client_cn, TESTPKI_CLIENT_CN);
		assert_string_equal(r.auth, "");
		assert_quarantine_patch(&r);
		assert_true(fakeapi_get(&api, 2 * files + 1, &r));
		assert_true(r.client_verified);
		assert_string_equal(r.method, "POST");
		assert_string_equal(r.path, NPPATH);
		assert_string_equal(r.ctype, "application/json");
		assert_string_equal(r.auth, "");
		shk_k8s_stats(k, &st);
		assert_int_equal(st.errors, 0);
		shk_k8s_free(k);
	}
	assert_int_equal(fakeapi_refused(&api), 0);
}

/* The stub's side of mTLS, so that "verified" above means something: no
 * client certificate, or one another CA signed, and the handshake fails;
 * the call fails, nothing reaches the handler. */
static void test_https_client_cert_refused(void **state)
{
	char err[SHK_K8S_ERR] = "", *ca, *crt, *key, *user;
	struct shk_k8s *k;

	start_tls(&pki.server, pki.ca.cert);
	fakeapi_route(&api, "PATCH", PODPATH, 200, POD_JSON, 0);
	ca = data_line("certificate-authority-data", pki.ca.cert);
	k = client_https(ca, "    token: tok-123\n", err, sizeof(err));
	assert_non_null(k);
	assert_true(shk_k8s_label_pod(k, &tls_q, err, sizeof(err)) < 0);
	shk_k8s_free(k);
	assert_int_equal(fakeapi_wait_refused(&api, 3, 3000), 3); /* the attempt, 2 retries */

	crt = data_line("client-certificate-data", pki.other_client.cert);
	key = data_line("client-key-data", pki.other_client.key);
	assert_true(asprintf(&user, "%s%s", crt, key) > 0);
	k = client_https(ca, user, err, sizeof(err));
	free(crt);
	free(key);
	free(user);
	free(ca);
	assert_non_null(k);
	assert_true(shk_k8s_label_pod(k, &tls_q, err, sizeof(err)) < 0);
	shk_k8s_free(k);
	assert_int_equal(fakeapi_wait_refused(&api, 6, 3000), 6);
	assert_int_equal(fakeapi_count(&api), 0);
}

/*
 * A server certificate the kubeconfig's CA did not sign: the client
 * refuses it (nothing reaches the handler, the stub saw its handshakes
 * fail), the PATCH fails with a certificate error, the label fetch too,
 * and both are counted. insecure-skip-tls-verify then gets through: the
 * refusal was the verification.
 */
static void test_https_wrong_ca_refused(void **state)
{
	char err[SHK_K8S_ERR] = "";
	struct shk_k8s_stats st;
	struct fakeapi_req r;
	struct shk_k8s *k;
	struct seen s;

	k = tls_pod_client(pki.other_ca.cert, err, sizeof(err));
	assert_non_null(k);
	assert_true(shk_k8s_label_pod(k, &tls_q, err, sizeof(err)) < 0);
	if (!strstr(err, "certificate"))
		fail_msg("not a certificate error: %s", err);
	assert_int_equal(fakeapi_wait_refused(&api, 1, 3000), 1);
	usleep(400 * 1000); /* a certificate refused is not retried */
	assert_int_equal(fakeapi_refused(&api), 1);
	assert_int_equal(fakeapi_count(&api), 0);
	shk_k8s_stats(k, &st);
	assert_int_equal(st.requests, 1);
	assert_int_equal(st.patches, 1);
	assert_int_equal(st.patch_failures, 1);
	assert_int_equal(st.errors, 1);
	assert_int_equal(warnings, 1);
	/* no labels from that server either */
	assert_int_equal(lookup(shk_k8s_podlabels(k), &s), -EAGAIN);
	st = stats_errors(k, 2);
	assert_int_equal(st.errors, 2);
	assert_int_equal(st.label_fetches, 1);
	assert_int_equal(lookup(shk_k8s_podlabels(k), &s), -EAGAIN);
	assert_int_equal(fakeapi_wait_refused(&api, 2, 3000), 2); /* one each */
	assert_int_equal(fakeapi_count(&api), 0);
	shk_k8s_free(k);

	/* the same server, verification off */
	k = client_https("    insecure-skip-tls-verify: true\n", "    token: tok-123\n", err,
			 sizeof(err));
	assert_non_null(k);
	assert_int_equal(shk_k8s_label_pod(k, &tls_q, err, sizeof(err)), 0);
	assert_true(fakeapi_get(&api, 0, &r));
	assert_quarantine_patch(&r);
	shk_k8s_free(k);
}

/* The right CA, but a certificate for other.example: the host name is
 * checked too, and nothing is sent. */
static void test_https_wrong_host_refused(void **state)
{
	char err[SHK_K8S_ERR] = "", *ca;
	struct shk_k8s_stats st;
	struct shk_k8s *k;

	start_tls(&pki.other_host, NULL);
	fakeapi_route(&api, "POST", NPPATH, 201, "{}", 0);
	ca = data_line("certificate-authority-data", pki.ca.cert);
	k = client_https(ca, "    token: tok-123\n", err, sizeof(err));
	assert_non_null(k);
	assert_true(shk_k8s_ensure_netpol(k, "shop", err, sizeof(err)) < 0);
	if (!strstr(err, "certificate"))
		fail_msg("not a certificate error: %s", err);
	/* curl checks the name once the handshake is done, and hangs up */
	assert_int_equal(fakeapi_wait_conns(&api, 1, 3000), 1);
	usleep(400 * 1000); /* the name refused: not retried */
	assert_int_equal(fakeapi_conns(&api), 1);
	assert_int_equal(fakeapi_count(&api), 0);
	shk_k8s_stats(k, &st);
	assert_int_equal(st.netpol_failures, 1);
	assert_int_equal(st.errors, 1);
	shk_k8s_free(k);

	/* and with the right certificate, the same client configuration works */
	restart_tls(&pki.server, NULL);
	fakeapi_route(&api, "POST", NPPATH, 201, "{}", 0);
	k = client_https(ca, "    token: tok-123\n", err, sizeof(err));
	free(ca);
	assert_non_null(k);
	assert_int_equal(shk_k8s_ensure_netpol(k, "shop", err, sizeof(err)), 0);
	assert_int_equal(fakeapi_count(&api), 1);
	shk_k8s_free(k);
}

/* The API's errors come through TLS as they do in the clear: a 403's
 * Status message, a 409 on the NetworkPolicy (success), and an answer
 * slower than the timeout (retried, then -ETIMEDOUT). */
static void test_https_errors(void **state)
{
	struct shk_k8s_opts o = { .timeout_ms = 300, .warn = on_warn };
	char err[SHK_K8S_ERR] = "", server[64], user[64], *ca;
	struct shk_k8s_stats st;
	struct shk_k8s *k;

	start_tls(&pki.server, NULL);
	fakeapi_route(&api, "PATCH", PODPATH, 403,
		      "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
		      "\"message\":\"pods \\\"web-0\\\" is forbidden\",\"reason\":\"Forbidden\","
		      "\"code\":403}",
		      0);
	fakeapi_route(&api, "POST", NPPATH, 409,
		      "{\"kind\":\"Status\",\"reason\":\"AlreadyExists\",\"code\":409}", 0);
	snprintf(server, sizeof(server), "https://127.0.0.1:%d", api.port);
	snprintf(user, sizeof(user), "    token: tok-123\n");
	ca = data_line("certificate-authority-data", pki.ca.cert);
	o.kubeconfig = kubeconfig_with(server, ca, user);
	free(ca);
	k = shk_k8s_new(&o, err, sizeof(err));
	assert_non_null(k);
	assert_int_equal(shk_k8s_label_pod(k, &tls_q, err, sizeof(err)), -EACCES);
	assert_string_equal(err, "HTTP 403: pods \"web-0\" is forbidden");
	assert_int_equal(fakeapi_count(&api), 1); /* not retried */
	assert_int_equal(shk_k8s_ensure_netpol(k, "shop", err, sizeof(err)), 0);
	assert_int_equal(fakeapi_count(&api), 2);

	fakeapi_route(&api, "PATCH", PODPATH, 200, POD_JSON, 800);
	assert_int_equal(shk_k8s_label_pod(k, &tls_q, err, sizeof(err)), -ETIMEDOUT);
	shk_k8s_stats(k, &st);
	assert_int_equal(st.requests, 2 + 3);
	assert_int_equal(st.patch_failures, 2);
	assert_int_equal(st.errors, 2);
	shk_k8s_free(k);
	/* the first attempt reached the handler; the stub serves one
	 * connection at a time, so the retries timed out queued behind it */
	assert_true(fakeapi_wait(&api, 3, 3000) >= 3);
}

/* In-cluster: KUBERNETES_SERVICE_HOST/_PORT make https://, the service
 * account's ca.crt verifies the server and its token goes with the PATCH;
 * a ca.crt of another CA and the server is refused. */
static void test_https_incluster(void **state)
{
	char err[SHK_K8S_ERR] = "", sa[1100], p[1200], port[16], server[64], *pem;
	struct shk_k8s_opts o = { .timeout_ms = 2000, .sa_dir = sa, .warn = on_warn };
	struct shk_k8s_stats st;
	struct fakeapi_req r;
	struct shk_k8s *k;

	start_tls(&pki.server, NULL);
	fakeapi_route(&api, "PATCH", PODPATH, 200, POD_JSON, 0);
	snprintf(sa, sizeof(sa), "%s/sa", dir);
	assert_int_equal(mkdir(sa, 0700), 0);
	snprintf(p, sizeof(p), "%s/token", sa);
	assert_int_equal(test_write_file(p, "sa-token\n"), 0);
	snprintf(p, sizeof(p), "%s/ca.crt", sa);
	pem = test_read_file(pki.ca.cert, NULL);
	assert_non_null(pem);
	assert_int_equal(test_write_file(p, pem), 0);
	free(pem);
	snprintf(port, sizeof(port), "%d", api.port);
	setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", port, 1);
	k = shk_k8s_new(&o, err, sizeof(err));
	if (!k)
		fail_msg("shk_k8s_new: %s", err);
	snprintf(server, sizeof(server), "https://127.0.0.1:%d", api.port);
	assert_string_equal(shk_k8s_server(k), server);
	assert_int_equal(shk_k8s_label_pod(k, &tls_q, err, sizeof(err)), 0);
	assert_true(fakeapi_get(&api, 0, &r));
	assert_true(r.tls);
	assert_string_equal(r.auth, "Bearer sa-token");
	assert_quarantine_patch(&r);
	shk_k8s_free(k);

	/* the service account's CA is another's */
	pem = test_read_file(pki.other_ca.cert, NULL);
	assert_non_null(pem);
	assert_int_equal(test_write_file(p, pem), 0);
	free(pem);
	k = shk_k8s_new(&o, err, sizeof(err));
	assert_non_null(k);
	assert_true(shk_k8s_label_pod(k, &tls_q, err, sizeof(err)) < 0);
	if (!strstr(err, "certificate"))
		fail_msg("not a certificate error: %s", err);
	assert_int_equal(fakeapi_wait_refused(&api, 1, 3000), 1);
	usleep(400 * 1000);
	assert_int_equal(fakeapi_refused(&api), 1);
	assert_int_equal(fakeapi_count(&api), 1);
	shk_k8s_stats(k, &st);
	assert_int_equal(st.patch_failures, 1);
	assert_int_equal(st.errors, 1);
	shk_k8s_free(k);
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
}

/* ---- the cache alone, with a fetcher that records ---------------------- */

static int asked;
static int refuse;

static int fetch(void *ctx, const char *uid, const char *ns, const char *name)
{
	(void)ctx;
	(void)uid;
	(void)ns;
	(void)name;
	if (refuse)
		return -EAGAIN;
	asked++;
	return 0;
}

static void test_cache_ttl_retry_bounds(void **state)
{
	struct shk_podlabels_opts o = { .capacity = 4, .ttl_ns = 1000, .retry_ns = 100,
					.fetch = fetch };
	struct shk_podlabels *c = shk_podlabels_new(&o);
	struct shk_podlabels_stats st;
	struct seen s = { 0 };
	static char big[SHK_PODLABELS_BYTES + 2];

	asked = refuse = 0;
	assert_non_null(c);
	assert_int_equal(shk_podlabels_lookup(c, "u1", "ns", "p1", 10, collect, &s), -EAGAIN);
	assert_int_equal(asked, 1);
	/* in flight: not asked again */
	assert_int_equal(shk_podlabels_lookup(c, "u1", "ns", "p1", 20, collect, &s), -EAGAIN);
	assert_int_equal(asked, 1);
	/* a failure: asked again only after retry_ns */
	assert_int_equal(shk_podlabels_fail(c, "u1", 30), 0);
	assert_int_equal(shk_podlabels_lookup(c, "u1", "ns", "p1", 50, collect, &s), -EAGAIN);
	assert_int_equal(asked, 1);
	assert_int_equal(shk_podlabels_lookup(c, "u1", "ns", "p1", 130, collect, &s), -EAGAIN);
	assert_int_equal(asked, 2);
	assert_int_equal(shk_podlabels_store(c, "u1", "a\0b\0", 4, 1, 140), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(shk_podlabels_lookup(c, "u1", "ns", "p1", 150, collect, &s), 1);
	assert_string_equal(s.text, "a=b");
	assert_int_equal(asked, 2);
	/* expired: still served, and a refresh asked for */
	memset(&s, 0, sizeof(s));
	assert_int_equal(shk_podlabels_lookup(c, "u1", "ns", "p1", 1200, collect, &s), 1);
	assert_string_equal(s.text, "a=b");
	assert_int_equal(asked, 3);
	/* a refused request (queue full) is counted and retried later */
	refuse = 1;
	assert_int_equal(shk_podlabels_lookup(c, "u2", "ns", "p2", 1300, collect, &s), -EAGAIN);
	refuse = 0;
	assert_int_equal(shk_podlabels_lookup(c, "u2", "ns", "p2", 1350, collect, &s), -EAGAIN);
	assert_int_equal(asked, 3);
	assert_int_equal(shk_podlabels_lookup(c, "u2", "ns", "p2", 1450, collect, &s), -EAGAIN);
	assert_int_equal(asked, 4);
	/* hostile answers: over the limits, or not n pairs */
	assert_int_equal(shk_podlabels_store(c, "u2", big, sizeof(big), 1, 1500), -E2BIG);
	assert_int_equal(shk_podlabels_store(c, "u2", "a\0b\0", 4, 2, 1500), -E2BIG);
	assert_int_equal(shk_podlabels_store(c, "u2", "a\0b", 3, 1, 1500), -E2BIG);
	assert_int_equal(shk_podlabels_store(c, "gone", "a\0b\0", 4, 1, 1500), -ENOENT);
	/* bounded: the least recently used goes */
	for (int i = 3; i <= 6; i++) {
		char uid[8], name[8];

		snprintf(uid, sizeof(uid), "u%d", i);
		snprintf(name, sizeof(name), "p%d", i);
		shk_podlabels_lookup(c, uid, "ns", name, 2000 + (uint64_t)i, collect, &s);
	}
	shk_podlabels_stats(c, &st);
	assert_int_equal(st.size, 4);
	assert_int_equal(st.evictions, 2);
	assert_int_equal(shk_podlabels_store(c, "u1", "a\0b\0", 4, 1, 3000), -ENOENT);
	/* nothing to ask about */
	assert_int_equal(shk_podlabels_lookup(c, "u9", "", "p", 1, collect, &s), -EINVAL);
	shk_podlabels_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_labels_fetched_and_cached, setup, teardown),
		cmocka_unit_test_setup_teardown(test_labels_wrong_pod_or_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api_hangs_never_blocks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_api_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_patch_label, setup, teardown),
		cmocka_unit_test_setup_teardown(test_patch_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_netpol_created, setup, teardown),
		cmocka_unit_test_setup_teardown(test_netpol_conflict_is_success, setup, teardown),
		cmocka_unit_test_setup_teardown(test_netpol_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kubeconfig, setup, teardown),
		cmocka_unit_test_setup_teardown(test_incluster, setup, teardown),
		cmocka_unit_test_setup_teardown(test_incluster_token_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_https_ca_data_token, setup_tls, teardown),
		cmocka_unit_test_setup_teardown(test_https_client_cert, setup_tls, teardown),
		cmocka_unit_test_setup_teardown(test_https_client_cert_refused, setup_tls, teardown),
		cmocka_unit_test_setup_teardown(test_https_wrong_ca_refused, setup_tls, teardown),
		cmocka_unit_test_setup_teardown(test_https_wrong_host_refused, setup_tls, teardown),
		cmocka_unit_test_setup_teardown(test_https_errors, setup_tls, teardown),
		cmocka_unit_test_setup_teardown(test_https_incluster, setup_tls, teardown),
		cmocka_unit_test(test_cache_ttl_retry_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
