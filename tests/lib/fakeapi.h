/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A fake Kubernetes API server for tests: plain HTTP on 127.0.0.1 (an
 * ephemeral port), one thread, one connection at a time. It records every
 * request (method, path, Authorization, Content-Type, body) and answers
 * from a small route table; unknown routes get a 404 Status object.
 */
#ifndef SHRIKE_TEST_FAKEAPI_H
#define SHRIKE_TEST_FAKEAPI_H

#include <pthread.h>
#include <stdbool.h>

#define FAKEAPI_MAX_REQS 128
#define FAKEAPI_MAX_ROUTES 16

struct fakeapi_req {
	char method[16];
	char path[512];
	char auth[1024];
	char ctype[128];
	char body[8192];
};

struct fakeapi_route {
	char method[16];
	char path[512];
	int status;
	char body[8192];
	int delay_ms; /* before answering */
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
};

/* Listen on 127.0.0.1:0 and serve; 0 or a negative errno. */
int fakeapi_start(struct fakeapi *f);
void fakeapi_stop(struct fakeapi *f);
/* Answer method path with status and body (replaces an equal route). */
void fakeapi_route(struct fakeapi *f, const char *method, const char *path, int status,
		   const char *body, int delay_ms);
/* Requests so far, and a copy of request i (false if there is none). */
int fakeapi_count(struct fakeapi *f);
bool fakeapi_get(struct fakeapi *f, int i, struct fakeapi_req *ret);
/* Wait until at least n requests came in, at most ms; the count. */
int fakeapi_wait(struct fakeapi *f, int n, int ms);

#endif
