/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Kubernetes API client: pod labels for k8s.pod.label[s]
 * (detect/k8s_labels.h), the quarantine label on pods and the deny-all
 * NetworkPolicy that selects it.
 *
 * Credentials come from the pod's service account (in-cluster: the token
 * and ca.crt under /var/run/secrets/kubernetes.io/serviceaccount and
 * KUBERNETES_SERVICE_HOST/_PORT; always https, verified with that CA) or
 * from a kubeconfig: its current context's server, CA (file or data),
 * insecure-skip-tls-verify, and token, tokenFile or client certificate and
 * key (files or data). exec and auth-provider plugins would run programs
 * or need cloud SDKs: they are refused with a clear error. An api_server
 * override replaces the server; a plain http:// server is accepted only
 * from a kubeconfig or that override (tests), never in-cluster.
 *
 * Every API call runs on the client's own thread, fed by a bounded queue
 * (quarantine PATCHes and POSTs go first). Nothing here ever runs on the event path:
 * label fetches are fire-and-forget, and the PATCH calls wait for the
 * worker only up to a bound (the executor's thread does that, not the
 * event loop). An API server that is down or answers garbage costs a
 * counted error and a rate-limited warning (opts.warn), never a block or
 * a crash; the label fields then stay <NA>.
 */
#ifndef SHRIKE_K8S_H
#define SHRIKE_K8S_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "k8s_labels.h"

#define SHK_K8S_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
#define SHK_K8S_LABEL_KEY "shrike.io/quarantine"
#define SHK_K8S_TIMEOUT_MS 5000
#define SHK_K8S_LABEL_TTL_S 300
#define SHK_K8S_QUEUE 256
#define SHK_K8S_ERR 256
#define SHK_K8S_NETPOL_NAME "shrike-quarantine"
#define SHK_K8S_NETPOL_CACHE 256 /* namespaces known to hold the policy */
#define SHK_K8S_NETPOL_TTL_S 600 /* then checked again (it may have been deleted) */

/* Where the API server is and how to authenticate; strings are owned. */
struct shk_k8s_creds {
	char *server;		       /* scheme://host[:port][/prefix], no trailing '/' */
	char *ca_file;		       /* PEM bundle path, or */
	char *ca_data;		       /* PEM bytes (kubeconfig *-data) */
	size_t ca_len;
	bool insecure;		       /* kubeconfig insecure-skip-tls-verify */
	char *token;		       /* bearer token, or */
	char *token_file;	       /* re-read as it rotates */
	char *cert_file, *key_file;    /* client certificate, or */
	char *cert_data, *key_data;    /* as PEM bytes */
	size_t cert_len, key_len;
};

/* In-cluster: sa_dir (NULL: SHK_K8S_SA_DIR) and the environment. */
int shk_k8s_creds_incluster(const char *sa_dir, struct shk_k8s_creds *ret, char *err,
			    size_t errsz);
/* A kubeconfig file's current context. -EINVAL/-ENOTSUP with err set. */
int shk_k8s_creds_kubeconfig(const char *path, struct shk_k8s_creds *ret, char *err,
			     size_t errsz);
void shk_k8s_creds_clear(struct shk_k8s_creds *c);

typedef void (*shk_k8s_warn_fn)(void *ctx, const char *msg);

struct shk_k8s_opts {
	const char *kubeconfig;	 /* NULL: in-cluster */
	const char *api_server;	 /* NULL: the credentials' server */
	const char *label_key;	 /* NULL: SHK_K8S_LABEL_KEY */
	uint32_t timeout_ms;	 /* per HTTP attempt; 0: SHK_K8S_TIMEOUT_MS */
	uint32_t label_ttl_s;	 /* 0: SHK_K8S_LABEL_TTL_S */
	uint32_t queue_len;	 /* 0: SHK_K8S_QUEUE */
	uint32_t retries;	 /* extra PATCH attempts on 5xx/429/transport errors; 0: 2 */
	uint32_t label_cache;	 /* pods cached; 0: 4096 */
	const char *sa_dir;	 /* tests: NULL: SHK_K8S_SA_DIR */
	shk_k8s_warn_fn warn;	 /* at most one warning a minute; may be NULL */
	void *warn_ctx;
};

struct shk_k8s_stats {
	uint64_t requests;	/* HTTP requests made */
	uint64_t errors;	/* of those, failed (transport or HTTP >= 400) */
	uint64_t queue_full;	/* requests refused: the queue was full */
	uint64_t label_fetches, patches, patch_failures;
	uint64_t netpols, netpol_failures; /* NetworkPolicy POSTs made, of those failed */
	uint64_t removals, removal_failures; /* pod evictions or deletions, of those failed */
	uint64_t bad_answers;	/* answers that were not a pod object */
};

struct shk_k8s;

/* The outcome of an asynchronous request: 0 or a negative errno, and what
 * the API said. Called on the client's worker thread. */
typedef void (*shk_k8s_done_fn)(void *ctx, int err, const char *msg);

/* Load the credentials and start the worker. NULL with errno set and err
 * saying what is wrong (a bad kubeconfig, no service account, ...). */
struct shk_k8s *shk_k8s_new(const struct shk_k8s_opts *o, char *err, size_t errsz);
/* Stop the worker (an API call under way is cut short) and free. */
void shk_k8s_free(struct shk_k8s *k);

/* The label cache for the eval context (struct shk_evalctx.podlabels). */
struct shk_podlabels *shk_k8s_podlabels(struct shk_k8s *k);
const char *shk_k8s_server(const struct shk_k8s *k);
const char *shk_k8s_label_key(const struct shk_k8s *k);

struct shk_k8s_quarantine {
	const char *ns, *name;
	const char *rule;
	int64_t time;	     /* seconds since the epoch */
	const char *summary; /* the alert's output line; cut to 1 KiB */
};

/*
 * Label (and annotate) a quarantined pod, or remove that again, through
 * the worker. label waits for the answer at most the client's full retry
 * budget: 0, or a negative errno with err saying what happened ("HTTP
 * 403: pods is forbidden", "no answer in time", "queue full"); never call
 * it from the event loop. unlabel waits only when asked to (without wait,
 * 0 means queued, and a failure is counted and warned about). Thread-safe.
 */
int shk_k8s_label_pod(struct shk_k8s *k, const struct shk_k8s_quarantine *q, char *err,
		      size_t errsz);
int shk_k8s_unlabel_pod(struct shk_k8s *k, const char *ns, const char *name, bool wait,
			char *err, size_t errsz);

/*
 * Make sure the namespace ns holds the NetworkPolicy SHK_K8S_NETPOL_NAME:
 * deny all ingress and egress of the pods that carry the quarantine label
 * (label_key: "true"), so that a CNI enforcing NetworkPolicy cuts them off
 * cluster-wide. POSTed through the worker and waited for like
 * shk_k8s_label_pod (same bound, same retries, never from the event
 * loop); 409 (it exists) is success. A namespace where it was made or
 * found is remembered (SHK_K8S_NETPOL_CACHE namespaces, for
 * SHK_K8S_NETPOL_TTL_S): no call then. 0, or a negative errno with err
 * saying what happened. Thread-safe.
 */
int shk_k8s_ensure_netpol(struct shk_k8s *k, const char *ns, char *err, size_t errsz);
/* Queue the DELETE of that policy (the last quarantined pod of ns was
 * released): not waited for, 404 is success, and ns is forgotten so that
 * a later quarantine creates it again. 0 once queued. Thread-safe. */
int shk_k8s_drop_netpol(struct shk_k8s *k, const char *ns, char *err, size_t errsz);
/* Queue the removal of a quarantined pod: an Eviction (policy/v1, which
 * honours PodDisruptionBudgets) or, with delete, a DELETE. Retried with
 * backoff like every write; a pod already gone (404) is success. done is
 * called with the outcome, on the worker thread (also when the client
 * stops first: -ECANCELED). 0 once queued. Thread-safe. */
int shk_k8s_remove_pod(struct shk_k8s *k, const char *ns, const char *name, bool delete,
		       shk_k8s_done_fn done, void *done_ctx, char *err, size_t errsz);

void shk_k8s_stats(struct shk_k8s *k, struct shk_k8s_stats *ret);

/* Whether s is a valid namespace/pod name (DNS-1123): what goes into a URL. */
bool shk_k8s_name_valid(const char *s, size_t max);

#endif
