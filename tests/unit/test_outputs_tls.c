// SPDX-License-Identifier: Apache-2.0
/*
 * The http and slack outputs over TLS, against a loopback HTTPS server
 * thread (127.0.0.1, ephemeral port) that requires a client certificate
 * and verifies it against a test CA.
 *
 * The PKI is made at start with the OpenSSL API, so the test needs no
 * openssl binary: a CA, a server certificate for 127.0.0.1 and localhost, a
 * client certificate, a server certificate for another host name, and a
 * second, unrelated CA with a client certificate of its own. The PEM files
 * go to a private temporary directory, mode 0600.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
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
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "outputs.h"
#include "rule_loader.h"
#include "testlib.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Poll a condition for up to 5 s. */
#define WAIT_FOR(cond)                                               \
	do {                                                         \
		uint64_t end_ = now_ms() + 5000;                     \
		while (!(cond) && now_ms() < end_)                   \
			usleep(2000);                                \
		assert_true(cond);                                   \
	} while (0)

/* ---- the test PKI -------------------------------------------------------- */

enum cert_role { ROLE_CA, ROLE_SERVER, ROLE_CLIENT };

#define CERT_ORG ((const unsigned char *)"shrike test")

struct cred {
	EVP_PKEY *key;
	X509 *cert;
	char cert_path[512], key_path[512];
};

static struct {
	char *dir;
	struct cred ca, server, client;
	struct cred other_host;	  /* signed by ca, for other.example only */
	struct cred other_ca;	  /* unrelated to ca */
	struct cred other_client; /* signed by other_ca */
} pki;

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(e);
	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

/* A certificate for key, signed by issuer, or self-signed when issuer is
 * NULL. san: the subjectAltName value, or NULL. */
static X509 *cert_new(const char *cn, enum cert_role role, const char *san, EVP_PKEY *key,
		      const struct cred *issuer)
{
	static long serial = 1;
	X509 *x = X509_new(), *signer;
	X509_NAME *name;

	assert_non_null(x);
	signer = issuer ? issuer->cert : x;
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), serial++), 1);
	/* an hour of slack either way: a clock step must not fail the test */
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -3600));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
	assert_int_equal(X509_set_pubkey(x, key), 1);
	name = X509_get_subject_name(x);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, CERT_ORG, -1, -1, 0), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
						    (const unsigned char *)cn, -1, -1, 0),
			 1);
	assert_int_equal(X509_set_issuer_name(x, X509_get_subject_name(signer)), 1);
	/* the subject key id first: the authority key id of a self-signed
	 * certificate is read from it */
	add_ext(x, signer, NID_subject_key_identifier, "hash");
	add_ext(x, signer, NID_authority_key_identifier, "keyid:always");
	switch (role) {
	case ROLE_CA:
		add_ext(x, signer, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
		break;
	case ROLE_SERVER:
	case ROLE_CLIENT:
		add_ext(x, signer, NID_basic_constraints, "critical,CA:FALSE");
		add_ext(x, signer, NID_key_usage, "critical,digitalSignature");
		add_ext(x, signer, NID_ext_key_usage,
			role == ROLE_SERVER ? "serverAuth" : "clientAuth");
		break;
	}
	if (san)
		add_ext(x, signer, NID_subject_alt_name, san);
	assert_true(X509_sign(x, issuer ? issuer->key : key, EVP_sha256()) > 0);
	return x;
}

/* Write one PEM object to a new file, mode 0600 whatever the umask. */
static void pem_write(const char *path, X509 *cert, EVP_PKEY *key)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	FILE *f;

	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, 0600), 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	if (cert)
		assert_int_equal(PEM_write_X509(f, cert), 1);
	else
		assert_int_equal(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL), 1);
	assert_int_equal(fclose(f), 0);
}

static void cred_make(struct cred *c, const char *file, const char *cn, enum cert_role role,
		      const char *san, const struct cred *issuer)
{
	/* P-256: a key in microseconds, where RSA would take a while */
	c->key = EVP_EC_gen("P-256");
	assert_non_null(c->key);
	c->cert = cert_new(cn, role, san, c->key, issuer);
	snprintf(c->cert_path, sizeof(c->cert_path), "%s/%s.crt", pki.dir, file);
	snprintf(c->key_path, sizeof(c->key_path), "%s/%s.key", pki.dir, file);
	pem_write(c->cert_path, c->cert, NULL);
	pem_write(c->key_path, NULL, c->key);
}

static void cred_free(struct cred *c)
{
	if (c->cert_path[0])
		unlink(c->cert_path);
	if (c->key_path[0])
		unlink(c->key_path);
	X509_free(c->cert);
	EVP_PKEY_free(c->key);
	memset(c, 0, sizeof(*c));
}

static int pki_setup(void **state)
{
	pki.dir = test_tmpdir();
	cred_make(&pki.ca, "ca", "shrike test CA", ROLE_CA, NULL, NULL);
	cred_make(&pki.server, "server", "127.0.0.1", ROLE_SERVER, "IP:127.0.0.1,DNS:localhost",
		  &pki.ca);
	cred_make(&pki.client, "client", "shrike-test-client", ROLE_CLIENT, NULL, &pki.ca);
	cred_make(&pki.other_host, "other-host", "other.example", ROLE_SERVER,
		  "DNS:other.example", &pki.ca);
	cred_make(&pki.other_ca, "other-ca", "unrelated CA", ROLE_CA, NULL, NULL);
	cred_make(&pki.other_client, "other-client", "shrike-test-client", ROLE_CLIENT, NULL,
		  &pki.other_ca);
	return 0;
}

static int pki_teardown(void **state)
{
	struct cred *all[] = { &pki.ca, &pki.server, &pki.client, &pki.other_host,
			       &pki.other_ca, &pki.other_client };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		cred_free(all[i]);
	if (pki.dir)
		rmdir(pki.dir);
	free(pki.dir);
	pki.dir = NULL;
	return 0;
}

/* X509_verify_cert of leaf against a store holding ca only. */
static int verify_with(X509 *ca, X509 *leaf, int purpose)
{
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int r;

	assert_non_null(st);
	assert_non_null(ctx);
	assert_int_equal(X509_STORE_add_cert(st, ca), 1);
	assert_int_equal(X509_STORE_CTX_init(ctx, st, leaf, NULL), 1);
	X509_STORE_CTX_set_purpose(ctx, purpose);
	r = X509_verify_cert(ctx) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	return r;
}

/* The PKI itself, so that a failure below is about the sink, not it. */
static void test_pki_is_sound(void **state)
{
	const struct cred *all[] = { &pki.ca, &pki.server, &pki.client, &pki.other_host,
				     &pki.other_ca, &pki.other_client };
	struct stat sb;

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		assert_int_equal(stat(all[i]->cert_path, &sb), 0);
		assert_int_equal(sb.st_mode & 0777, 0600);
		assert_int_equal(stat(all[i]->key_path, &sb), 0);
		assert_int_equal(sb.st_mode & 0777, 0600);
	}
	assert_int_equal(verify_with(pki.ca.cert, pki.server.cert, X509_PURPOSE_SSL_SERVER),
			 X509_V_OK);
	assert_int_equal(verify_with(pki.ca.cert, pki.client.cert, X509_PURPOSE_SSL_CLIENT),
			 X509_V_OK);
	assert_int_equal(verify_with(pki.other_ca.cert, pki.other_client.cert,
				     X509_PURPOSE_SSL_CLIENT),
			 X509_V_OK);
	/* a client certificate is no server certificate */
	assert_int_not_equal(verify_with(pki.ca.cert, pki.client.cert, X509_PURPOSE_SSL_SERVER),
			     X509_V_OK);
	assert_int_equal(verify_with(pki.ca.cert, pki.other_client.cert, X509_PURPOSE_SSL_CLIENT),
			 X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
	assert_int_equal(verify_with(pki.other_ca.cert, pki.server.cert, X509_PURPOSE_SSL_SERVER),
			 X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
	assert_int_equal(X509_check_ip_asc(pki.server.cert, "127.0.0.1", 0), 1);
	assert_int_equal(X509_check_host(pki.server.cert, "localhost", 0, 0, NULL), 1);
	assert_int_equal(X509_check_ip_asc(pki.other_host.cert, "127.0.0.1", 0), 0);
}

/* ---- a loopback HTTPS server that requires a client certificate ---------- */

#define SRV_MAX 16

struct srv_req {
	char method[16], path[256];
	char head[4096]; /* the header lines after the request line */
	char *body;
	size_t blen;
	char peer_cn[128]; /* the CN of the client certificate */
};

struct srv {
	int lfd, port;
	SSL_CTX *ctx;
	pthread_t thr;
	pthread_mutex_t mu;
	bool stop;
	int status[8]; /* answers to the first requests; then 200 */
	bool reset;    /* asked to reset the idle connection */
	int nreset;    /* connections reset */
	int nconn;     /* handshakes that succeeded */
	int nrefused;  /* handshakes that failed */
	int refuse_reason; /* ERR_GET_REASON of the last failed handshake */
	long refuse_verify; /* and the verify result of the client's certificate */
	int nreq;
	struct srv_req req[SRV_MAX];
};

static bool srv_stopping(struct srv *v)
{
	bool stop;

	pthread_mutex_lock(&v->mu);
	stop = v->stop;
	pthread_mutex_unlock(&v->mu);
	return stop;
}

/* Whether to leave the connection: stop, or a reset was asked for. */
static bool srv_leaving(struct srv *v)
{
	bool leave;

	pthread_mutex_lock(&v->mu);
	leave = v->stop || v->reset;
	pthread_mutex_unlock(&v->mu);
	return leave;
}

/* Read exactly len bytes. Waits in poll while nothing is buffered, so an
 * idle keep-alive connection notices stop. 0, or -1 at EOF or an error. */
static int srv_read(struct srv *v, SSL *ssl, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		int n;

		if (!SSL_has_pending(ssl)) {
			struct pollfd p = { .fd = SSL_get_fd(ssl), .events = POLLIN };

			if (poll(&p, 1, 20) <= 0) {
				if (srv_leaving(v))
					return -1;
				continue;
			}
		}
		n = SSL_read(ssl, buf + got, (int)(len - got));
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

/* One request: the head byte by byte up to the blank line, then the body
 * (Content-Length: the sink never sends chunked). */
static int srv_request(struct srv *v, SSL *ssl, const char *peer_cn)
{
	char head[4096], method[16] = "", path[256] = "", answer[128], *cl, *hdrs, *body;
	size_t hl = 0, blen = 0;
	int status, len;
	struct srv_req *r;

	while (hl < sizeof(head) - 1) {
		if (srv_read(v, ssl, head + hl, 1))
			return -1;
		hl++;
		if (hl >= 4 && !memcmp(head + hl - 4, "\r\n\r\n", 4))
			break;
	}
	head[hl] = '\0';
	if (hl < 4 || memcmp(head + hl - 4, "\r\n\r\n", 4) ||
	    sscanf(head, "%15s %255s", method, path) != 2)
		return -1;
	/* the request line ends in the first "\r\n", so every header line
	 * after it starts with one */
	hdrs = strstr(head, "\r\n");
	cl = strcasestr(hdrs, "\r\nContent-Length:");
	if (cl)
		blen = strtoul(cl + 17, NULL, 10);
	hdrs += 2;
	body = calloc(1, blen + 1);
	if (!body || srv_read(v, ssl, body, blen)) {
		free(body);
		return -1;
	}
	pthread_mutex_lock(&v->mu);
	r = &v->req[v->nreq < SRV_MAX ? v->nreq : SRV_MAX - 1];
	snprintf(r->method, sizeof(r->method), "%s", method);
	snprintf(r->path, sizeof(r->path), "%s", path);
	snprintf(r->head, sizeof(r->head), "%s", hdrs);
	snprintf(r->peer_cn, sizeof(r->peer_cn), "%s", peer_cn);
	free(r->body);
	r->body = body;
	r->blen = blen;
	status = v->nreq < 8 && v->status[v->nreq] ? v->status[v->nreq] : 200;
	v->nreq++;
	pthread_mutex_unlock(&v->mu);
	len = snprintf(answer, sizeof(answer), "HTTP/1.1 %d X\r\nContent-Length: 2\r\n\r\nok",
		       status);
	return SSL_write(ssl, answer, len) == len ? 0 : -1;
}

/* Serve one connection. Returns whether it is to be reset. */
static bool srv_conn(struct srv *v, int fd)
{
	/* bounds a handshake or a request that stops half way */
	struct timeval tv = { .tv_sec = 2 };
	char cn[128] = "";
	bool reset;
	SSL *ssl;
	X509 *peer;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	ssl = SSL_new(v->ctx);
	if (!ssl || !SSL_set_fd(ssl, fd)) {
		SSL_free(ssl);
		return false;
	}
	ERR_clear_error();
	if (SSL_accept(ssl) != 1) {
		pthread_mutex_lock(&v->mu);
		v->nrefused++;
		v->refuse_reason = ERR_GET_REASON(ERR_peek_error());
		v->refuse_verify = SSL_get_verify_result(ssl);
		pthread_mutex_unlock(&v->mu);
		ERR_clear_error();
		SSL_free(ssl);
		return false;
	}
	peer = SSL_get0_peer_certificate(ssl);
	if (peer)
		X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn,
					  sizeof(cn));
	pthread_mutex_lock(&v->mu);
	v->nconn++;
	pthread_mutex_unlock(&v->mu);
	while (!srv_request(v, ssl, cn))
		; /* keep-alive: the next request on the same connection */
	pthread_mutex_lock(&v->mu);
	reset = v->reset;
	v->reset = false;
	pthread_mutex_unlock(&v->mu);
	if (reset) {
		/* gone without a close_notify, as a receiver that restarted */
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		SSL_free(ssl);
		ERR_clear_error();
		return true;
	}
	SSL_shutdown(ssl);
	SSL_free(ssl);
	ERR_clear_error();
	return false;
}

static void *srv_main(void *arg)
{
	struct srv *v = arg;
	sigset_t pipe_set;

	/* a client that hangs up makes the server's writes fail with EPIPE;
	 * SIGPIPE stays blocked here only, so one raised by the sink under
	 * test still kills the test */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);
	while (!srv_stopping(v)) {
		struct pollfd p = { .fd = v->lfd, .events = POLLIN };
		bool reset;
		int fd;

		if (poll(&p, 1, 50) <= 0)
			continue;
		fd = accept4(v->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		reset = srv_conn(v, fd);
		close(fd); /* with SO_LINGER 0: the RST is sent */
		if (reset) {
			pthread_mutex_lock(&v->mu);
			v->nreset++;
			pthread_mutex_unlock(&v->mu);
		}
	}
	return NULL;
}

/* Serve with the certificate of cred; require a client certificate that
 * client_ca signed. On the heap: a test that fails leaves its server
 * running, and it must not share memory with the next test's. */
static struct srv *srv_start(const struct cred *cred, const struct cred *client_ca)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct srv *v = calloc(1, sizeof(*v));
	socklen_t sl = sizeof(sa);

	assert_non_null(v);
	pthread_mutex_init(&v->mu, NULL);
	v->ctx = SSL_CTX_new(TLS_server_method());
	assert_non_null(v->ctx);
	assert_int_equal(SSL_CTX_set_min_proto_version(v->ctx, TLS1_2_VERSION), 1);
	assert_int_equal(SSL_CTX_use_certificate(v->ctx, cred->cert), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(v->ctx, cred->key), 1);
	assert_int_equal(SSL_CTX_check_private_key(v->ctx), 1);
	assert_int_equal(X509_STORE_add_cert(SSL_CTX_get_cert_store(v->ctx), client_ca->cert), 1);
	assert_int_equal(SSL_CTX_add_client_CA(v->ctx, client_ca->cert), 1);
	SSL_CTX_set_verify(v->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	/* a client that reconnects offers to resume its session; with client
	 * certificates OpenSSL refuses that (internal_error) without an id */
	assert_int_equal(SSL_CTX_set_session_id_context(v->ctx, (const unsigned char *)"shrike",
							6),
			 1);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	v->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(v->lfd >= 0);
	assert_int_equal(bind(v->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(v->lfd, 16), 0);
	assert_int_equal(getsockname(v->lfd, (struct sockaddr *)&sa, &sl), 0);
	v->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&v->thr, NULL, srv_main, v), 0);
	return v;
}

static void srv_stop(struct srv *v)
{
	pthread_mutex_lock(&v->mu);
	v->stop = true;
	pthread_mutex_unlock(&v->mu);
	pthread_join(v->thr, NULL);
	close(v->lfd);
	SSL_CTX_free(v->ctx);
	for (int i = 0; i < SRV_MAX; i++)
		free(v->req[i].body);
	pthread_mutex_destroy(&v->mu);
	free(v);
}

/* A consistent copy of the counters, taken under the lock. */
struct srv_counts {
	int nconn, nrefused, refuse_reason, nreq, nreset;
	long refuse_verify;
};

static struct srv_counts srv_counts(struct srv *v)
{
	struct srv_counts c;

	pthread_mutex_lock(&v->mu);
	c = (struct srv_counts){ v->nconn, v->nrefused, v->refuse_reason, v->nreq, v->nreset,
				 v->refuse_verify };
	pthread_mutex_unlock(&v->mu);
	return c;
}

/* ---- the sinks ----------------------------------------------------------- */

static struct shk_sink_stats st;

static struct shk_sink_stats *stats(struct shk_sinks *s, uint32_t i)
{
	assert_int_equal(shk_sinks_stats(s, i, &st), 0);
	return &st;
}

static struct shk_sinks *one_sink(const struct shk_sink_opts *o)
{
	struct shk_sinks *s = shk_sinks_new();
	char err[256];

	assert_non_null(s);
	if (shk_sinks_add(s, o, err, sizeof(err)))
		fail_msg("shk_sinks_add: %s", err);
	return s;
}

/* An https sink trusting ca, presenting client (NULL: no certificate).
 * One retry 10 ms later, and timeouts that bound a failure well below
 * the 5 s of WAIT_FOR. */
static void tls_opts(struct shk_sink_opts *o, enum shk_sink_kind kind, struct srv *v, char *url,
		     size_t usz, const struct cred *ca, const struct cred *client)
{
	snprintf(url, usz, "https://127.0.0.1:%d/alerts", v->port);
	shk_sink_opts_init(o, kind);
	o->url = url;
	o->ca_cert = ca->cert_path;
	if (client) {
		o->client_cert = client->cert_path;
		o->client_key = client->key_path;
	}
	o->retries = 1;
	o->backoff_ms = 10;
	o->timeout_ms = 2000;
	o->connect_timeout_ms = 1000;
}

/* An alert as the daemon has it: Falco's JSON schema, one line. */
static const char falco_json[] =
	"{\"hostname\":\"node-1\",\"output\":\"12:00:00.000000000: Warning Shell spawned in a "
	"container (user=root proc.cmdline=\\\"sh -c id\\\" container.id=3f2a9c1b7d4e)\","
	"\"output_fields\":{\"container.id\":\"3f2a9c1b7d4e\",\"evt.time\":1704110400000000000,"
	"\"proc.cmdline\":\"sh -c id\",\"user.name\":\"root\"},\"priority\":\"Warning\","
	"\"response\":\"kill:process=done\",\"rule\":\"Terminal shell in container\","
	"\"source\":\"syscall\",\"tags\":[\"container\",\"shell\"],"
	"\"time\":\"2024-01-01T12:00:00.000000000Z\"}";

static const struct shk_alert_msg falco_alert = {
	.priority = SHK_PRIO_WARNING,
	.rule = "Terminal shell in container",
	.output = "12:00:00.000000000: Warning Shell spawned in a container (user=root "
		  "proc.cmdline=\"sh -c id\" container.id=3f2a9c1b7d4e)",
	.text = "12:00:00.000000000: Warning Shell spawned in a container (user=root "
		"proc.cmdline=\"sh -c id\" container.id=3f2a9c1b7d4e) | response: "
		"kill:process=done",
	.json = falco_json,
	.response = "kill:process=done",
};

/* The head holds this exact header line. */
static void assert_header(const struct srv_req *r, const char *line)
{
	char want[512];
	size_t n = (size_t)snprintf(want, sizeof(want), "\r\n%s\r\n", line);

	/* the first line has no "\r\n" before it */
	if (strncmp(r->head, want + 2, n - 2) && !strstr(r->head, want))
		fail_msg("no header line \"%s\" in:\n%s", line, r->head);
}

static void assert_body(const struct srv_req *r, const char *want)
{
	char cl[64];

	assert_int_equal(r->blen, strlen(want));
	assert_string_equal(r->body, want);
	snprintf(cl, sizeof(cl), "Content-Length: %zu", strlen(want));
	assert_header(r, cl);
}

/*
 * (a) The CA bundle and the client certificate: the exact Falco JSON and
 * every header arrive over one kept-alive TLS connection, and the server
 * saw the client's certificate.
 */
static void test_http_mtls_body_and_headers(void **state)
{
	struct shk_sink_opts o;
	struct shk_sinks *s;
	struct srv_counts c;
	char url[128], host[64];
	struct srv *v;

	v = srv_start(&pki.server, &pki.ca);
	tls_opts(&o, SHK_SINK_HTTP, v, url, sizeof(url), &pki.ca, &pki.client);
	o.headers[o.nheaders++] = "Authorization: Bearer s3cret";
	o.headers[o.nheaders++] = "X-Cluster: prod-1";
	s = one_sink(&o);
	assert_int_equal(shk_sinks_send(s, &falco_alert), 0);
	WAIT_FOR(stats(s, 0)->sent == 1);
	assert_int_equal(shk_sinks_send(s, &falco_alert), 0);
	WAIT_FOR(stats(s, 0)->sent == 2);
	c = srv_counts(v);
	assert_int_equal(c.nreq, 2);
	assert_int_equal(c.nconn, 1); /* keep-alive: the second alert reused the connection */
	assert_int_equal(c.nrefused, 0);
	snprintf(host, sizeof(host), "Host: 127.0.0.1:%d", v->port);
	for (int i = 0; i < 2; i++) {
		const struct srv_req *r = &v->req[i];

		assert_string_equal(r->method, "POST");
		assert_string_equal(r->path, "/alerts");
		assert_string_equal(r->peer_cn, "shrike-test-client");
		assert_body(r, falco_json);
		assert_header(r, host);
		assert_header(r, "Content-Type: application/json");
		assert_header(r, "User-Agent: shrike/" SHRIKE_VERSION);
		assert_header(r, "Authorization: Bearer s3cret");
		assert_header(r, "X-Cluster: prod-1");
		assert_null(strcasestr(r->head, "Expect:"));
		assert_null(strcasestr(r->head, "Content-Encoding"));
		assert_null(strcasestr(r->head, "Transfer-Encoding"));
	}
	assert_int_equal(stats(s, 0)->health, SHK_SINK_OK);
	assert_int_equal(stats(s, 0)->retries, 0);
	assert_int_equal(stats(s, 0)->failed + stats(s, 0)->dropped, 0);
	shk_sinks_free(s);
	srv_stop(v);
}

/* A refused delivery: counted as failed after the one retry, the sink is
 * failing with an error naming the URL, and it took no more than the
 * timeouts allow. */
static void assert_failed_fast(struct shk_sinks *s, const char *url, uint64_t t0)
{
	WAIT_FOR(stats(s, 0)->failed == 1);
	assert_true(now_ms() - t0 < 3000);
	assert_int_equal(stats(s, 0)->sent, 0);
	assert_int_equal(stats(s, 0)->retries, 1);
	assert_int_equal(stats(s, 0)->dropped, 0);
	assert_int_equal(stats(s, 0)->health, SHK_SINK_FAILING);
	assert_int_equal(strncmp(stats(s, 0)->last_error, url, strlen(url)), 0);
}

/* (b) No client certificate: the server refuses the handshake. */
static void test_http_no_client_cert_refused(void **state)
{
	struct shk_sink_opts o;
	struct shk_sinks *s;
	struct srv_counts c;
	char url[128];
	struct srv *v;
	uint64_t t0;

	v = srv_start(&pki.server, &pki.ca);
	tls_opts(&o, SHK_SINK_HTTP, v, url, sizeof(url), &pki.ca, NULL);
	s = one_sink(&o);
	t0 = now_ms();
	assert_int_equal(shk_sinks_send(s, &falco_alert), 0);
	assert_failed_fast(s, url, t0);
	/* the sink may count its failure before the server its refusal */
	WAIT_FOR(srv_counts(v).nrefused == 2); /* the attempt and its retry */
	c = srv_counts(v);
	assert_int_equal(c.nreq, 0);
	assert_int_equal(c.nconn, 0); /* the attempt and its retry */
	assert_int_equal(c.refuse_reason, SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE);
	t0 = now_ms();
	shk_sinks_free(s);
	assert_true(now_ms() - t0 < 1000);
	srv_stop(v);
}

/* (b) A client certificate from an unrelated CA: the server verifies it
 * and refuses the handshake. */
static void test_http_untrusted_client_cert_refused(void **state)
{
	struct shk_sink_opts o;
	struct shk_sinks *s;
	struct srv_counts c;
	char url[128];
	struct srv *v;

	v = srv_start(&pki.server, &pki.ca);
	tls_opts(&o, SHK_SINK_HTTP, v, url, sizeof(url), &pki.ca, &pki.other_client);
	s = one_sink(&o);
	assert_int_equal(shk_sinks_send(s, &falco_alert), 0);
	assert_failed_fast(s, url, now_ms());
	/* the sink may count its failure before the server its refusal */
	WAIT_FOR(srv_counts(v).nrefused == 2); /* the attempt and its retry */
	c = srv_counts(v);
	assert_int_equal(c.nreq, 0);
	assert_int_equal(c.nconn, 0);
	assert_int_equal(c.refuse_reason, SSL_R_CERTIFICATE_VERIFY_FAILED);
	assert_int_equal(c.refuse_verify, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
	shk_sinks_free(s);
	srv_stop(v);
}

/* (c) A CA bundle that did not sign the server: the sink refuses the
 * server (and tells it so with an unknown_ca alert). */
static void test_http_wrong_ca_refuses_server(void **state)
{
	struct shk_sink_opts o;
	struct shk_sinks *s;
	struct srv_counts c;
	char url[128];
	struct srv *v;

	v = srv_start(&pki.server, &pki.ca);
	tls_opts(&o, SHK_SINK_HTTP, v, url, sizeof(url), &pki.other_ca, &pki.client);
	s = one_sink(&o);
	assert_int_equal(shk_sinks_send(s, &falco_alert), 0);
	assert_failed_fast(s, url, now_ms());
	assert_non_null(strstr(stats(s, 0)->last_error, "certificate"));
	/* the sink may count its failure before the server its refusal */
	WAIT_FOR(srv_counts(v).nrefused == 2); /* the attempt and its retry */
	c = srv_counts(v);
	assert_int_equal(c.nreq, 0);
	assert_int_equal(c.nconn, 0);
	assert_int_equal(c.refuse_reason, SSL_R_TLSV1_ALERT_UNKNOWN_CA);
	shk_sinks_free(s);
	srv_stop(v);
}

/* A server certificate from the right CA but for another name: the sink
 * checks the host too, and sends nothing. */
static void test_http_wrong_host_refused(void **state)
{
	struct shk_sink_opts o;
	struct shk_sinks *s;
	char url[128];
	struct srv *v;

	v = srv_start(&pki.other_host, &pki.ca);
	tls_opts(&o, SHK_SINK_HTTP, v, url, sizeof(url), &pki.ca, &pki.client);
	s = one_sink(&o);
	assert_int_equal(shk_sinks_send(s, &falco_alert), 0);
	assert_failed_fast(s, url, now_ms());
	assert_int_equal(srv_counts(v).nreq, 0);
	shk_sinks_free(s);
	srv_stop(v);
}

/* A 503 over TLS is retried, on the same connection, with the same body. */
static void test_http_retry_over_tls(void **state)
{
	struct shk_sink_opts o;
	struct shk_sinks *s;
	struct srv_counts c;
	char url[128];
	struct srv *v;

	v = srv_start(&pki.server, &pki.ca);
	pthread_mutex_lock(&v->mu);
	v->status[0] = 503;
	pthread_mutex_unlock(&v->mu);
	tls_opts(&o, SHK_SINK_HTTP, v, url, sizeof(url), &pki.ca, &pki.client);
	s = one_sink(&o);
	assert_int_equal(shk_sinks_send(s, &falco_alert), 0);
	WAIT_FOR(stats(s, 0)->sent == 1);
	c = srv_counts(v);
	assert_int_equal(c.nreq, 2);
	assert_int_equal(c.nconn, 1);
	assert_int_equal(stats(s, 0)->retries, 1);
	assert_int_equal(stats(s, 0)->failed, 0);
	assert_body(&v->req[0], falco_json);
	assert_body(&v->req[1], falco_json);
	shk_sinks_free(s);
	srv_stop(v);
}

/* Reset the idle connection, as a receiver that restarted; returns once
 * the RST is sent. */
static void srv_reset(struct srv *v)
{
	int n;

	pthread_mutex_lock(&v->mu);
	n = v->nreset;
	v->reset = true;
	pthread_mutex_unlock(&v->mu);
	WAIT_FOR(srv_counts(v).nreset == n + 1);
}

/*
 * The receiver resets the kept-alive connection between alerts: the next
 * alert goes over a new handshake and is not
 * lost, and freeing the sink, which closes the dead connection from this
 * thread, raises no SIGPIPE (the test would die of it).
 */
static void test_http_reset_connection(void **state)
{
	struct shk_sink_opts o;
	struct shk_sinks *s;
	struct srv_counts c;
	char url[128];
	struct srv *v;

	v = srv_start(&pki.server, &pki.ca);
	tls_opts(&o, SHK_SINK_HTTP, v, url, sizeof(url), &pki.ca, &pki.client);
	s = one_sink(&o);
	for (int i = 1; i <= 3; i++) {
		assert_int_equal(shk_sinks_send(s, &falco_alert), 0);
		WAIT_FOR(stats(s, 0)->sent == (uint64_t)i);
		srv_reset(v);
	}
	c = srv_counts(v);
	assert_int_equal(c.nreq, 3);
	assert_int_equal(c.nconn, 3);
	assert_int_equal(c.nrefused, 0);
	assert_int_equal(stats(s, 0)->failed, 0);
	assert_int_equal(stats(s, 0)->retries, 0); /* curl saw it dead before reuse */
	shk_sinks_free(s);
	srv_stop(v);
}

/*
 * (d) slack shares the http sink's open and post (the same curl options),
 * so it gets the same TLS: the exact webhook message over mTLS.
 */
static void test_slack_mtls_message(void **state)
{
	static const char want[] =
		"{\"text\":\"12:00:00.000000000: Warning Shell spawned in a container (user=root "
		"proc.cmdline=\\\"sh -c id\\\" container.id=3f2a9c1b7d4e)\","
		"\"attachments\":[{\"fallback\":\"12:00:00.000000000: Warning Shell spawned in a "
		"container (user=root proc.cmdline=\\\"sh -c id\\\" container.id=3f2a9c1b7d4e)\","
		"\"color\":\"warning\",\"fields\":["
		"{\"title\":\"rule\",\"value\":\"Terminal shell in container\",\"short\":true},"
		"{\"title\":\"priority\",\"value\":\"WARNING\",\"short\":true},"
		"{\"title\":\"response\",\"value\":\"kill:process=done\",\"short\":false}],"
		"\"footer\":\"shrike\"}]}";
	struct shk_sink_opts o;
	struct shk_sinks *s;
	char url[128];
	struct srv *v;

	v = srv_start(&pki.server, &pki.ca);
	tls_opts(&o, SHK_SINK_SLACK, v, url, sizeof(url), &pki.ca, &pki.client);
	s = one_sink(&o);
	assert_int_equal(shk_sinks_send(s, &falco_alert), 0);
	WAIT_FOR(stats(s, 0)->sent == 1);
	assert_int_equal(srv_counts(v).nreq, 1);
	assert_string_equal(v->req[0].method, "POST");
	assert_string_equal(v->req[0].path, "/alerts");
	assert_string_equal(v->req[0].peer_cn, "shrike-test-client");
	assert_body(&v->req[0], want);
	assert_header(&v->req[0], "Content-Type: application/json");
	shk_sinks_free(s);
	srv_stop(v);

	/* and without the client certificate it is refused the same way */
	v = srv_start(&pki.server, &pki.ca);
	tls_opts(&o, SHK_SINK_SLACK, v, url, sizeof(url), &pki.ca, NULL);
	s = one_sink(&o);
	assert_int_equal(shk_sinks_send(s, &falco_alert), 0);
	assert_failed_fast(s, url, now_ms());
	WAIT_FOR(srv_counts(v).nrefused == 2);
	assert_int_equal(srv_counts(v).nreq, 0);
	shk_sinks_free(s);
	srv_stop(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pki_is_sound),
		cmocka_unit_test(test_http_mtls_body_and_headers),
		cmocka_unit_test(test_http_no_client_cert_refused),
		cmocka_unit_test(test_http_untrusted_client_cert_refused),
		cmocka_unit_test(test_http_wrong_ca_refuses_server),
		cmocka_unit_test(test_http_wrong_host_refused),
		cmocka_unit_test(test_http_retry_over_tls),
		cmocka_unit_test(test_http_reset_connection),
		cmocka_unit_test(test_slack_mtls_message),
	};

	/* an ignored SIGPIPE can be inherited (a CI runner, a shell); the
	 * daemon does not ignore it, so a sink raising it must kill us too */
	signal(SIGPIPE, SIG_DFL);
	return cmocka_run_group_tests(tests, pki_setup, pki_teardown);
}
