/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Field extraction: the value a compiled field reference (rule_compile.h)
 * has for one decoded event, with Falco's meaning and rendered forms.
 *
 * A value is typed (string view, integer, bool, address, list of strings)
 * or "not available" (Falco's <NA>): a field the event does not carry, a
 * process the table does not know, a name that cannot be resolved. Every
 * comparison with an unavailable value is false, as in Falco; nothing here
 * fails in any other way.
 *
 * Everything an extraction renders lives in the context's per-event scratch
 * space, so extraction never allocates. Values stay valid until the next
 * shk_evalctx_begin(). Fields without an argument are memoised per event:
 * a rule set that names proc.cmdline a hundred times builds it once.
 *
 * Where shrike's data differs from Falco's event stream, the choice is
 * written where the field is extracted (extract.c); the main ones:
 *   - the exec record is Falco's execve exit event ("execve"), process exit
 *     is "procexit" and a fork record is the child's "clone" exit;
 *   - evt.dir is '<' (records are taken at syscall exit), except for
 *     records that carry the task as it was at syscall entry (setuid and
 *     friends, SHK_F_ENTER_CTX): those are '>' so that Falco's
 *     `evt.dir = >` setuid rules see the user *before* the change, which
 *     is what those rules were written for;
 *   - user.* and group.* are the effective ids, as Falco's drivers report;
 *   - path arguments (evt.arg.name, .path, fd.name, ...) are absolute and
 *     normalised, and kernel-resolved where the sensor resolved them (a
 *     successful open names the file, not the symlink opened); evt.rawarg.*
 *     and fd.nameraw give the path as passed; path syscalls without an fd
 *     (unlink, rename, mkdir, symlink: the link) also get fd.name;
 *   - which end of a socket is the client: connect's local end, the
 *     remote end for bind/listen/accept, else the end with the higher port;
 *   - fd.*ip.name never resolves DNS: it is the address as text;
 *   - container.* and k8s.* come from the event's cgroup (containers.h):
 *     identity from its path, the rest from the runtime's state files;
 *     outside containers they have Falco's host values (container.id,
 *     container.full_id and container.name are "host", the others <NA>),
 *     and a container whose metadata is not known (yet) has its ids,
 *     type and pod uid, the rest <NA>; k8s.pod.label[s] come from the
 *     API client's cache (k8s_labels.h), <NA> until it has answered;
 *   - what the sensors do not report is <NA>: session and process group
 *     (proc.sid, proc.sname, proc.vpgid*), names of fds 0-2
 *     (proc.std*.name), memory and thread counts, service names
 *     (fd.*proto), fd.types beyond fds 0-2.
 */
#ifndef SHRIKE_EXTRACT_H
#define SHRIKE_EXTRACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fields.h"
#include "rule_compile.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wenum-compare"
#include "event.h"
#pragma GCC diagnostic pop

struct shk_containers;
struct shk_podlabels;
struct shk_proctable;
struct shk_users;
struct shk_proc;

/* Ancestors walked for proc.aname and friends, at most. */
#define SHK_ANCESTOR_MAX 64
/* Per-event scratch space for rendered values. */
#define SHK_EVAL_SCRATCH (256 * 1024)

enum shk_vtype {
	SHK_V_NA = 0, /* not available: <NA> */
	SHK_V_STR,    /* s/len; always NUL-terminated at s[len] */
	SHK_V_I64,
	SHK_V_U64,
	SHK_V_BOOL,
	SHK_V_IP,     /* family 4 or 6, ip[] in network order */
	SHK_V_LIST,   /* n strings in list[] */
};

struct shk_value {
	uint8_t type;	/* enum shk_vtype */
	uint8_t family; /* SHK_V_IP */
	uint32_t n;	/* SHK_V_LIST */
	union {
		struct {
			const char *s;
			size_t len;
		} str;
		int64_t i;
		uint64_t u;
		bool b;
		uint8_t ip[16];
		const struct shk_strv *list;
	};
};

struct shk_evalctx_priv;

/*
 * What fields are extracted from. The caller fills the public part once
 * (procs, users, hostname, roots, clock offset), then for each event sets
 * ev and calls shk_evalctx_begin() (shk_eval_event() does this itself).
 *
 * Process-table entries are looked up per event: evaluate an event before
 * shk_proctable_apply() removes its process (exit), or after it installs
 * one (fork, exec); exec records carry their own image data either way.
 */
struct shk_evalctx {
	const struct shk_event *ev;
	struct shk_proctable *procs; /* NULL: process fields from the record only */
	struct shk_users *users;     /* NULL: user and group names are <NA> */
	/* NULL: the cache attached to procs (shk_proctable_set_containers()),
	 * else container identity from the cgroup path only, no metadata */
	struct shk_containers *containers;
	/* NULL: k8s.pod.label[s] are <NA>; else the API client's pod label
	 * cache (k8s_labels.h), read without waiting for the API */
	struct shk_podlabels *podlabels;
	const char *hostname;	     /* evt.hostname and the alert's "hostname" */
	/* User names are looked up in <proc_root>/<pid>/root (NULL: "/proc"),
	 * or in host_root (NULL: "/") for processes in host_mntns (0: never). */
	const char *proc_root;
	const char *host_root;
	uint32_t host_mntns;
	int64_t boot_to_real_ns; /* CLOCK_BOOTTIME + this = epoch ns */
	/* evt.num if the caller numbers events; 0: the context counts the
	 * events it begins, from 1 (evt.num is never 0, which the rule
	 * files' never_true macro, evt.num=0, relies on) */
	uint64_t evt_num;
	uint64_t scratch_overflows; /* values given as <NA> for lack of scratch */
	/* NULL, or by rule id: nonzero for a rule the engine does not
	 * evaluate because another part decides it (a deny rule in the
	 * kernel, whose verdicts come with their records) */
	const uint8_t *skip_rule;
	struct shk_evalctx_priv *priv;
};

/* Allocate the private state; the public fields are zeroed. 0 or -ENOMEM. */
int shk_evalctx_init(struct shk_evalctx *ctx);
void shk_evalctx_fini(struct shk_evalctx *ctx);
/* Start work on ev (also sets ctx->ev): forgets every per-event cache. */
void shk_evalctx_begin(struct shk_evalctx *ctx, const struct shk_event *ev);

/* The event type id (rule_compile.h numbering) of the current event. */
unsigned shk_evalctx_evtype(const struct shk_evalctx *ctx);
/* The same for any event, without a context. */
unsigned shk_event_evtype(const struct shk_event *ev);

/*
 * The value of ref (transformers applied) for the current event. Returns
 * true when available; on false, out->type is SHK_V_NA.
 */
bool shk_extract(struct shk_evalctx *ctx, const struct shk_fieldref *ref, struct shk_value *out);

/* Convenience for tools and tests: ref for a field id without argument. */
bool shk_extract_id(struct shk_evalctx *ctx, enum shk_field_id id, struct shk_value *out);

/*
 * Build a field reference from text as written in an output format or on
 * a command line: "proc.name", "proc.aname[2]", "evt.arg.flags",
 * "proc.env[HOME]". key points into name. Returns the length of name used
 * (a trailing part that is no field, e.g. the '.' in "%fd.name.", is left
 * out) or -ENOENT if no field starts name.
 */
int shk_fieldref_parse(const char *name, size_t len, struct shk_fieldref *ret);

/*
 * A value as Falco prints it in an output line: "<NA>", numbers in
 * decimal, "true"/"false", addresses as text, lists as "(a,b)". Returns
 * the length the full text needs (snprintf semantics).
 */
size_t shk_value_format(const struct shk_value *v, char *buf, size_t size);

#endif /* SHRIKE_EXTRACT_H */
