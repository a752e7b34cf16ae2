/* SPDX-License-Identifier: Apache-2.0 */
#include "container.h"

#include <stdint.h>
#include <string.h>

/* What the previous path component was: some layouts name a container by
 * a bare id, which only its parent makes meaningful. */
enum prev_kind {
	PREV_OTHER,
	PREV_DOCKER,	 /* docker, actions_job */
	PREV_KUBEPODS,	 /* kubepods (cgroupfs driver) */
	PREV_BURSTABLE,	 /* kubepods/burstable */
	PREV_BESTEFFORT, /* kubepods/besteffort */
	PREV_POD,	 /* a pod */
};

struct comp {
	const char *s;
	size_t len;
};

struct pod {
	char uid[SHK_POD_UID_MAX + 1];
	enum shk_qos qos;
	size_t len;
};

static const struct {
	const char *prefix;
	enum shk_ctr_runtime rt;
} prefixed[] = {
	{ "docker-", SHK_CTR_DOCKER },
	{ "cri-containerd-", SHK_CTR_CONTAINERD },
	{ "crio-", SHK_CTR_CRIO },
	{ "libpod-", SHK_CTR_PODMAN },
};

/* Runtimes' own names in containerd's "slice:runtime:id" form. */
static const struct {
	const char *name;
	enum shk_ctr_runtime rt;
} colon_names[] = {
	{ "cri-containerd", SHK_CTR_CONTAINERD },
	{ "docker", SHK_CTR_DOCKER },
	{ "crio", SHK_CTR_CRIO },
};

static bool is_lhex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool all_lhex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_lhex(s[i]))
			return false;
	return true;
}

static bool comp_is(const struct comp *c, const char *lit)
{
	size_t n = strlen(lit);

	return c->len == n && !memcmp(c->s, lit, n);
}

static bool has_prefix(const char *s, size_t len, const char *pre)
{
	size_t n = strlen(pre);

	return len >= n && !memcmp(s, pre, n);
}

static bool has_suffix(const char *s, size_t len, const char *suf)
{
	size_t n = strlen(suf);

	return len >= n && !memcmp(s + len - n, suf, n);
}

/* <64 hex>, alone or followed by ".scope". */
static bool id_with_scope(const char *s, size_t len, bool scope_ok)
{
	if (len == SHK_CTR_ID_LEN)
		return all_lhex(s, len);
	return scope_ok && len == SHK_CTR_ID_LEN + 6 && !memcmp(s + SHK_CTR_ID_LEN, ".scope", 6) &&
	       all_lhex(s, SHK_CTR_ID_LEN);
}

/* A pod uid: 8-4-4-4-12 hex with '-' (cgroupfs) or '_' (systemd escapes
 * '-' in unit names), or the 32 hex digits of a static pod. Written out
 * in the '-' form. */
static bool pod_uid(const char *s, size_t len, char *out)
{
	if (len == 32) {
		if (!all_lhex(s, len))
			return false;
	} else if (len == SHK_POD_UID_MAX) {
		for (size_t i = 0; i < len; i++) {
			bool sep = i == 8 || i == 13 || i == 18 || i == 23;

			if (sep ? s[i] != '-' && s[i] != '_' : !is_lhex(s[i]))
				return false;
		}
	} else {
		return false;
	}
	for (size_t i = 0; i < len; i++)
		out[i] = s[i] == '_' ? '-' : s[i];
	out[len] = '\0';
	return true;
}

/* The systemd driver's pod slice: [prefix-]kubepods[-qos]-pod<uid>.slice,
 * e.g. kubepods-burstable-pod0f3c..._4e1d.slice. */
static bool pod_slice(const char *s, size_t len, struct pod *ret)
{
	static const size_t ulens[] = { SHK_POD_UID_MAX, 32 };

	if (!has_suffix(s, len, ".slice"))
		return false;
	len -= 6;
	for (size_t k = 0; k < 2; k++) {
		size_t ul = ulens[k], pre;

		if (len < ul + 4 || memcmp(s + len - ul - 4, "-pod", 4))
			continue;
		if (!pod_uid(s + len - ul, ul, ret->uid))
			continue;
		pre = len - ul - 4;
		if (has_suffix(s, pre, "kubepods"))
			ret->qos = SHK_QOS_GUARANTEED;
		else if (has_suffix(s, pre, "kubepods-burstable"))
			ret->qos = SHK_QOS_BURSTABLE;
		else if (has_suffix(s, pre, "kubepods-besteffort"))
			ret->qos = SHK_QOS_BESTEFFORT;
		else
			return false;
		return true;
	}
	return false;
}

/* The cgroupfs driver's pod directory, pod<uid>, right under kubepods or
 * its QoS directory. */
static bool pod_dir(const struct comp *c, enum prev_kind prev, struct pod *ret)
{
	if (prev != PREV_KUBEPODS && prev != PREV_BURSTABLE && prev != PREV_BESTEFFORT)
		return false;
	if (!has_prefix(c->s, c->len, "pod") || !pod_uid(c->s + 3, c->len - 3, ret->uid))
		return false;
	ret->qos = prev == PREV_BURSTABLE    ? SHK_QOS_BURSTABLE
		   : prev == PREV_BESTEFFORT ? SHK_QOS_BESTEFFORT
					     : SHK_QOS_GUARANTEED;
	return true;
}

/* containerd's "kubepods-...-pod<uid>.slice:cri-containerd:<id>": one
 * directory naming both the pod and the container. */
static enum shk_ctr_runtime colon_form(const struct comp *c, struct pod *pod, bool *has_pod)
{
	const char *c1 = memchr(c->s, ':', c->len), *c2;
	size_t rest;

	if (!c1)
		return SHK_CTR_HOST;
	rest = c->len - (size_t)(c1 + 1 - c->s);
	c2 = memchr(c1 + 1, ':', rest);
	if (!c2 || !id_with_scope(c2 + 1, c->len - (size_t)(c2 + 1 - c->s), false))
		return SHK_CTR_HOST;
	for (size_t i = 0; i < sizeof(colon_names) / sizeof(colon_names[0]); i++) {
		size_t n = strlen(colon_names[i].name);

		if ((size_t)(c2 - c1 - 1) != n || memcmp(c1 + 1, colon_names[i].name, n))
			continue;
		*has_pod = pod_slice(c->s, (size_t)(c1 - c->s), pod);
		pod->len = 0; /* no directory of its own */
		return colon_names[i].rt;
	}
	return SHK_CTR_HOST;
}

/* The runtime if component c names a container (its id at *id). */
static enum shk_ctr_runtime ctr_component(const struct comp *c, enum prev_kind prev,
					  const char **id)
{
	for (size_t i = 0; i < sizeof(prefixed) / sizeof(prefixed[0]); i++) {
		size_t n = strlen(prefixed[i].prefix);

		if (!has_prefix(c->s, c->len, prefixed[i].prefix))
			continue;
		if (!id_with_scope(c->s + n, c->len - n, true))
			return SHK_CTR_HOST; /* crio-conmon-<id>, docker-junk, ... */
		*id = c->s + n;
		return prefixed[i].rt;
	}
	if (!id_with_scope(c->s, c->len, false))
		return SHK_CTR_HOST;
	*id = c->s;
	if (prev == PREV_DOCKER)
		return SHK_CTR_DOCKER;
	if (prev == PREV_POD)
		return SHK_CTR_CRI;
	return SHK_CTR_HOST;
}

static enum prev_kind kind_of(const struct comp *c, enum prev_kind prev)
{
	if (comp_is(c, "docker") || comp_is(c, "actions_job"))
		return PREV_DOCKER;
	if (comp_is(c, "kubepods"))
		return PREV_KUBEPODS;
	if (prev == PREV_KUBEPODS && comp_is(c, "burstable"))
		return PREV_BURSTABLE;
	if (prev == PREV_KUBEPODS && comp_is(c, "besteffort"))
		return PREV_BESTEFFORT;
	return PREV_OTHER;
}

/* "N:controllers:path" (a /proc/PID/cgroup line) -> path. */
static const char *skip_v1_prefix(const char *s)
{
	const char *p = s, *c;

	if (*p == '/')
		return s;
	while (*p >= '0' && *p <= '9')
		p++;
	if (p == s || *p != ':' || !(c = strchr(p + 1, ':')))
		return s;
	return c + 1;
}

static void set_host(struct shk_cgroup_ident *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->runtime = SHK_CTR_HOST;
	memcpy(ret->short_id, "host", 5);
}

bool shk_cgroup_ident_parse(const char *path, struct shk_cgroup_ident *ret)
{
	struct pod cur = { 0 }, at_ctr = { 0 };
	bool have_cur = false, have_at_ctr = false;
	enum prev_kind prev = PREV_OTHER;
	const char *base, *s;

	set_host(ret);
	if (!path)
		return false;
	base = skip_v1_prefix(path);
	for (s = base; *s;) {
		struct comp c;
		const char *id = NULL, *end;
		enum shk_ctr_runtime rt;
		struct pod p = { 0 };
		bool colon_pod = false;

		while (*s == '/')
			s++;
		if (!*s)
			break;
		end = strchr(s, '/');
		if (!end)
			end = s + strlen(s);
		c = (struct comp){ s, (size_t)(end - s) };
		rt = ctr_component(&c, prev, &id);
		if (rt == SHK_CTR_HOST && (rt = colon_form(&c, &p, &colon_pod)) != SHK_CTR_HOST)
			id = c.s + c.len - SHK_CTR_ID_LEN;
		if (rt != SHK_CTR_HOST) {
			ret->runtime = rt;
			memcpy(ret->id, id, SHK_CTR_ID_LEN);
			ret->id[SHK_CTR_ID_LEN] = '\0';
			ret->ctr_len = (size_t)(end - path);
			if (colon_pod)
				cur = p, have_cur = true;
			/* the pod around this container, not one inside it */
			at_ctr = cur;
			have_at_ctr = have_cur;
			prev = PREV_OTHER;
		} else if (pod_slice(c.s, c.len, &p) || pod_dir(&c, prev, &p)) {
			p.len = (size_t)(end - path);
			cur = p;
			have_cur = true;
			prev = PREV_POD;
		} else {
			prev = kind_of(&c, prev);
		}
		s = end;
	}
	if (ret->runtime != SHK_CTR_HOST) {
		memcpy(ret->short_id, ret->id, SHK_CTR_SHORT_LEN);
		ret->short_id[SHK_CTR_SHORT_LEN] = '\0';
		cur = at_ctr;
		have_cur = have_at_ctr;
	}
	if (have_cur) {
		memcpy(ret->pod_uid, cur.uid, sizeof(ret->pod_uid));
		ret->qos = cur.qos;
		ret->pod_len = cur.len;
	}
	return ret->runtime != SHK_CTR_HOST;
}

const char *shk_ctr_runtime_name(enum shk_ctr_runtime rt)
{
	static const char *const n[SHK_CTR__COUNT] = {
		[SHK_CTR_HOST] = "host",	   [SHK_CTR_DOCKER] = "docker",
		[SHK_CTR_CONTAINERD] = "containerd", [SHK_CTR_CRIO] = "cri-o",
		[SHK_CTR_PODMAN] = "podman",	   [SHK_CTR_CRI] = "cri",
	};

	return (unsigned)rt < SHK_CTR__COUNT ? n[rt] : "host";
}

const char *shk_qos_name(enum shk_qos q)
{
	switch (q) {
	case SHK_QOS_GUARANTEED:
		return "guaranteed";
	case SHK_QOS_BURSTABLE:
		return "burstable";
	case SHK_QOS_BESTEFFORT:
		return "besteffort";
	default:
		return "";
	}
}
