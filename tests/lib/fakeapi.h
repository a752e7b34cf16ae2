/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A fake Kubernetes API server for tests: 127.0.0.1 (an ephemeral port),
 * one thread, one connection at a time, plain HTTP or HTTPS. It records
 * every request (method, path, Authorization, Content-Type, body, and over
 * TLS the client certificate) and answers from a small route table;
 * unknown routes get a 404 Status object.
 */
#ifndef SHRIKE_TEST_FAKEAPI_H
#define SHRIKE_TEST_FAKEAPI_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define FAKEAPI_MAX_REQS 128
#define FAKEAPI_MAX_ROUTES 16

struct fakeapi_req {
	char method[16];
	char path[512];
	char auth[1024];
	char ctype[128];
	char body[8192];
	bool tls;		/* came over TLS */
	bool client_verified;	/* with a client certificate the client CA signed */
	char client_cn[128];	/* and its subject CN */
};

struct fakeapi_route {
	char method[16];
	char path[512];
	int status;
	char body[8192];
	int delay_ms; /* before answering */
};

/* The TLS under the HTTP (fakeapi_tls.c); the plain mode has none. */
struct fakeapi_tls_ops {
	/* Handshake on fd: a session, or NULL (refused). ret_cn: the
	 * verified client certificate's CN, "" without one. */
	void *(*accept)(void *ctx, int fd, bool *ret_verified, char *ret_cn, size_t cnsz);
	ssize_t (*read)(void *sess, void *buf, size_t n);
	ssize_t (*write)(void *sess, const void *buf, size_t n);
	bool (*pending)(void *sess); /* decrypted bytes wait to be read */
	void (*close)(void *sess);
	void (*free)(void *ctx);
};

struct fakeapi {
	int lfd, port;
	pthread_t thread;
	pthread_mutex_t mu;
	bool stop;
	struct fakeapi_req reqs[FAKEAPI_MAX_REQS];
	int nreqs;
	struct fakeapi_route routes[FAKEAPI_MAX_ROUTES];
	int nroutes;
	const struct fakeapi_tls_ops *tls; /* NULL: plain HTTP */
	void *tls_ctx;
	int nconns;   /* connections accepted */
	int nrefused; /* of those, TLS handshakes that failed */
};

/* Listen on 127.0.0.1:0 and serve plain HTTP; 0 or a negative errno. */
int fakeapi_start(struct fakeapi *f);
/*
 * Serve HTTPS with the PEM certificate (chain) and key. client_ca: a PEM
 * CA file; a client certificate it signed is then required, and a
 * handshake without one fails (counted in nrefused, never a request).
 * NULL: no client certificate asked for. 0, -EOPNOTSUPP when the tests
 * were built without OpenSSL, or another negative errno.
 */
int fakeapi_start_tls(struct fakeapi *f, const char *cert, const char *key,
		      const char *client_ca);
void fakeapi_stop(struct fakeapi *f);
/* Answer method path with status and body (replaces an equal route). */
void fakeapi_route(struct fakeapi *f, const char *method, const char *path, int status,
		   const char *body, int delay_ms);
/* Requests so far, and a copy of request i (false if there is none). */
int fakeapi_count(struct fakeapi *f);
bool fakeapi_get(struct fakeapi *f, int i, struct fakeapi_req *ret);
/* Wait until at least n requests came in, at most ms; the count. */
int fakeapi_wait(struct fakeapi *f, int n, int ms);
/* Connections accepted so far, and of those the TLS handshakes that
 * failed; and the same waits. A client that refuses the server during
 * the handshake shows as refused; one that checks the host name after it
 * (curl) as a connection without a request. */
int fakeapi_conns(struct fakeapi *f);
int fakeapi_wait_conns(struct fakeapi *f, int n, int ms);
int fakeapi_refused(struct fakeapi *f);
int fakeapi_wait_refused(struct fakeapi *f, int n, int ms);

/* For fakeapi_tls.c: start serving over ops (owning ctx, freed at stop,
 * or now on failure). */
int fakeapi_start_with(struct fakeapi *f, const struct fakeapi_tls_ops *ops, void *ctx);

#endif
