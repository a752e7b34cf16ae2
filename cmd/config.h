/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's config file, in the spirit of falco.yaml:
 * /etc/shrike/shrike.yaml (--config), then the drop-ins config.d/NAME.yaml
 * next to it in name order, then -o key=value overrides (dotted keys).
 * Scalars: the last one wins. Sequences (policies, protect, outputs)
 * append, so a drop-in can add an output without repeating the others.
 *
 *   policies: [/etc/shrike/policies]   # files or directories, in order
 *   mode: audit                        # audit | enforce: the default mode
 *   enforcer: auto                     # auto | lsm | signal
 *   protect: [kubelet, sshd]           # process names never acted upon
 *   rule_matching: first               # first | all
 *   priority: debug                    # minimum priority alerted
 *   json_output: false                 # the default stdout output's format
 *   ringbuf_mb: 8
 *   state_dir: /var/lib/shrike
 *   control_socket: /run/shrike/control.sock
 *   log_level: info                    # error | warning | info | debug
 *   nice: -10                          # scheduling priority, [-20, 19]
 *   realtime_priority: 1               # SCHED_FIFO for the event loop and the
 *                                      # action worker, [0, 99]; 0: off (realtime.h)
 *   harden: true                       # seccomp filter after start-up (harden.c)
 *   compat_syscalls: false             # count 32-bit (int 0x80) syscalls: costs
 *                                      # a program run on every syscall
 *   mount_tracefs: true                # mount tracefs on /sys/kernel/tracing
 *                                      # where nothing has (sensor.h)
 *   metrics: {enabled: true, address: 127.0.0.1:8765}
 *   k8s:                               # the Kubernetes API (respond/k8s.h)
 *     enabled: false                   # pod labels as fields, pod quarantine labels
 *     kubeconfig: /etc/shrike/kubeconfig  # absent: in-cluster service account
 *     api_server: https://10.0.0.1:6443   # overrides the server (http:// allowed)
 *     label_key: shrike.io/quarantine  # set to "true" on quarantined pods
 *     timeout_ms: 5000                 # per API request, [100, 60000]
 *     label_ttl_s: 300                 # pod labels cached, [1, 86400]
 *     evict_after_s: 0                 # remove a quarantined pod after this (0: never)
 *     evict: evict                     # evict (honours PDBs) | delete
 *   outputs:
 *     - {type: stdout, json: true}
 *     - {type: file, path: /var/log/shrike/alerts.jsonl, keep_alive: true}
 *     - {type: syslog, facility: local0, min_priority: warning}
 *     - {type: program, program: "jq -c . >> /tmp/x"}
 *     - type: http
 *       url: https://falcosidekick:2801/
 *       headers: {Authorization: Bearer x}
 *       ca_cert: /etc/ssl/ca.pem
 *       client_cert: /etc/shrike/client.pem
 *       client_key: /etc/shrike/client.key
 *       gzip: true
 *       timeout_ms: 5000
 *     - {type: slack, url: "https://hooks.slack.com/services/...", min_priority: error}
 *
 * Every output also takes name, min_priority, queue_len, retries,
 * backoff_ms, backoff_max_ms, slow_ms and drain_ms. Unknown keys and bad
 * values are errors located as file:line:column.
 */
#ifndef SHRIKE_CONFIG_H
#define SHRIKE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "enforcer.h"

#include "k8s.h"
#include "outputs.h"
#include "rule_loader.h"

#define SHK_CONFIG_PATH "/etc/shrike/shrike.yaml"
#define SHK_CONFIG_NICE (-10)
#define SHK_CONFIG_REALTIME 1
#define SHK_CONFIG_MAX_LIST 64
#define SHK_METRICS_ADDR "127.0.0.1:8765"


enum shk_log_level {
	SHK_LOG_ERROR,
	SHK_LOG_WARNING,
	SHK_LOG_INFO,
	SHK_LOG_DEBUG,
};

struct shk_conf {
	const char *policies[SHK_CONFIG_MAX_LIST];
	uint32_t npolicies;
	enum shk_mode mode; /* UNSET: not configured (audit) */
	enum shk_enforcer_mode enforcer; /* respond/enforcer.h */
	const char *protect[SHK_CONFIG_MAX_LIST];
	uint32_t nprotect;
	int rule_matching;  /* -1 unset, 0 first, 1 all */
	int min_priority;   /* -1 unset, else enum shk_priority */
	int json_output;    /* -1 unset, 0, 1 */
	uint32_t ringbuf_mb; /* 0: unset */
	const char *state_dir;
	const char *control_socket;
	enum shk_log_level log_level;
	bool harden; /* install the seccomp filter (default true) */
	/* Count 32-bit (int 0x80) syscalls, which the per-syscall tracepoints
	 * do not see, at the cost of a program on every syscall's exit. */
	bool compat_syscalls;
	bool mount_tracefs; /* default true */
	/* The daemon's nice value: responses wait for a CPU behind whatever
	 * the host is busy with (auditd boosts itself the same way). */
	int nice;
	/* SCHED_FIFO priority of the threads that respond, 0: normal
	 * scheduling (cmd/realtime.h) */
	int realtime_priority;
	bool metrics_enabled;
	const char *metrics_addr; /* host:port */
	bool k8s_enabled;
	struct shk_k8s_opts k8s; /* strings point into the config */
	/* remove a quarantined pod this long after its quarantine, if it is
	 * still in force (0: never); by Eviction, or by DELETE */
	uint32_t k8s_evict_after_s;
	bool k8s_evict_delete;
	struct shk_sink_opts outputs[SHK_CONFIG_MAX_LIST];
	uint32_t noutputs;
	struct shk_diags *diags; /* errors and warnings, located (the loader's) */
	/* private: the YAML trees the strings point into */
	struct shk_loader *ld;
	char **owned;
	uint32_t nowned;
};

/* Defaults; NULL with errno ENOMEM. */
struct shk_conf *shk_config_new(void);
void shk_config_free(struct shk_conf *c);

/* Load path and then <dir of path>/config.d/NAME.yaml in name order. A missing
 * path is an error only when required (the default path is optional).
 * Returns 0, or -EINVAL when errors were added to c->diags. */
int shk_config_load(struct shk_conf *c, const char *path, bool required);
/* One YAML buffer (tests, overrides). */
int shk_config_load_buffer(struct shk_conf *c, const char *name, const char *buf, size_t len);
/* -o key=value: a dotted key ("metrics.address") and a YAML value. */
int shk_config_set(struct shk_conf *c, const char *kv);

const char *shk_enforcer_name(enum shk_enforcer_mode e);
const char *shk_log_level_name(enum shk_log_level l);

#endif
