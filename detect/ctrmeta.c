/* SPDX-License-Identifier: Apache-2.0 */
#include "ctrmeta.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

void shk_ctr_roots_default(struct shk_ctr_roots *ret)
{
	ret->containerd = SHK_CTR_ROOT_CONTAINERD;
	ret->crio = SHK_CTR_ROOT_CRIO;
	ret->docker = SHK_CTR_ROOT_DOCKER;
}

int shk_ctr_roots_parse(struct shk_ctr_roots *roots, char *spec, const char **ret_bad)
{
	static const char *const names[] = { "containerd", "crio", "docker" };
	struct shk_ctr_roots next = *roots;
	const char **slots[] = { &next.containerd, &next.crio, &next.docker };
	char *s = spec;

	while (s && *s) {
		char *end = strchr(s, ','), *eq = strchr(s, '=');
		size_t i;

		if (!end)
			end = s + strlen(s);
		if (!eq || eq > end)
			goto bad;
		for (i = 0; i < 3; i++)
			if ((size_t)(eq - s) == strlen(names[i]) && !memcmp(s, names[i], (size_t)(eq - s)))
				break;
		if (i == 3)
			goto bad;
		if (eq + 1 != end && eq[1] != '/')
			goto bad; /* roots are absolute */
		*slots[i] = eq + 1 == end ? NULL : eq + 1;
		if (!*end)
			break;
		*end = '\0';
		s = end + 1;
		continue;
bad:
		if (ret_bad)
			*ret_bad = s;
		return -EINVAL;
	}
	*roots = next;
	return 0;
}

void shk_ctr_meta_free(struct shk_ctr_meta *m)
{
	if (!m)
		return;
	free(m->name);
	free(m->image);
	free(m->image_repo);
	free(m->image_tag);
	free(m->image_digest);
	free(m->image_id);
	free(m->pod_name);
	free(m->pod_ns);
	free(m->pod_uid);
	free(m->sandbox_id);
	free(m->ip);
	for (uint32_t i = 0; i < m->nmounts; i++) {
		free(m->mounts[i].source);
		free(m->mounts[i].dest);
		free(m->mounts[i].mode);
		free(m->mounts[i].propagation);
	}
	free(m->mounts);
	memset(m, 0, sizeof(*m));
}

/* ---- small pieces --------------------------------------------------------- */

static char *dupn(const char *s, size_t n, int *err)
{
	char *d = strndup(s, n);

	if (!d)
		*err = -ENOMEM;
	return d;
}

/* *dst = a copy of j when it is a non-empty string and *dst is unset. */
static void set_str(char **dst, const cJSON *j, int *err)
{
	if (*dst || !cJSON_IsString(j) || !j->valuestring || !*j->valuestring)
		return;
	*dst = dupn(j->valuestring, strlen(j->valuestring), err);
}

static const cJSON *get(const cJSON *o, const char *key)
{
	return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

static bool str_is(const cJSON *j, const char *s)
{
	return cJSON_IsString(j) && j->valuestring && !strcmp(j->valuestring, s);
}

static bool array_has(const cJSON *arr, const char *s)
{
	const cJSON *e;

	if (!cJSON_IsArray(arr))
		return false;
	cJSON_ArrayForEach(e, arr)
		if (str_is(e, s))
			return true;
	return false;
}

int shk_image_split(const char *image, char **ret_repo, char **ret_tag, char **ret_digest)
{
	const char *at, *slash, *colon, *end;
	char *repo = NULL, *tag = NULL, *digest = NULL;
	int err = 0;

	*ret_repo = *ret_tag = *ret_digest = NULL;
	if (!image || !*image)
		return -EINVAL;
	at = strchr(image, '@');
	end = at ? at : image + strlen(image);
	if (at && at[1])
		digest = dupn(at + 1, strlen(at + 1), &err);
	/* a ':' after the last '/' starts the tag; before it, it is a
	 * registry port */
	slash = memrchr(image, '/', (size_t)(end - image));
	colon = memrchr(slash ? slash : image, ':', (size_t)(end - (slash ? slash : image)));
	if (colon && colon + 1 < end)
		tag = dupn(colon + 1, (size_t)(end - colon - 1), &err);
	if (colon)
		end = colon;
	if (end > image)
		repo = dupn(image, (size_t)(end - image), &err);
	if (err) {
		free(repo);
		free(tag);
		free(digest);
		return err;
	}
	*ret_repo = repo;
	*ret_tag = tag;
	*ret_digest = digest;
	return 0;
}

static bool digits(const char *s, int n, int *ret)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return true;
}

int shk_rfc3339_ns(const char *s, int64_t *ret)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, sec, oh, om;
	int64_t frac = 0, scale = 100000000, off = 0;
	time_t t;

	if (!s || strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !digits(s + 17, 2, &sec))
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -EINVAL;
	s += 19;
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++) {
			frac += (*s - '0') * scale;
			scale /= 10;
		}
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if ((*s == '+' || *s == '-') && digits(s + 1, 2, &oh) && s[3] == ':' &&
		   digits(s + 4, 2, &om)) {
		off = (oh * 3600 + om * 60) * (*s == '-' ? -1 : 1);
		s += 6;
	} else {
		return -EINVAL;
	}
	if (*s)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	*ret = ((int64_t)t - off) * 1000000000LL + frac;
	return 0;
}

/* image, and its repository/tag/digest split. */
static void set_image(struct shk_ctr_meta *m, int *err)
{
	int e;

	if (!m->image || m->image_repo)
		return;
	e = shk_image_split(m->image, &m->image_repo, &m->image_tag, &m->image_digest);
	if (e == -ENOMEM)
		*err = e;
}

static int add_mount(struct shk_ctr_meta *m, const cJSON *src, const cJSON *dst, bool rw,
		     const cJSON *mode, const char *prop)
{
	struct shk_ctr_mount *mt;
	int err = 0;

	if (m->nmounts >= SHK_CTRMETA_MOUNTS_MAX || !cJSON_IsString(dst))
		return 0;
	if (!m->mounts) {
		m->mounts = calloc(SHK_CTRMETA_MOUNTS_MAX, sizeof(*m->mounts));
		if (!m->mounts)
			return -ENOMEM;
	}
	mt = &m->mounts[m->nmounts++];
	mt->rw = rw;
	set_str(&mt->source, src, &err);
	set_str(&mt->dest, dst, &err);
	set_str(&mt->mode, mode, &err);
	if (prop && *prop)
		mt->propagation = dupn(prop, strlen(prop), &err);
	return err;
}

/* ---- OCI specs: containerd bundles and CRI-O ---------------------------- */

/* Capabilities 0 (CAP_CHOWN) .. 37 (CAP_AUDIT_READ): every runtime gives a
 * privileged container at least these, and no default profile does. */
static const char *const all_caps[] = {
	"CAP_CHOWN",	      "CAP_DAC_OVERRIDE",   "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID",	      "CAP_KILL",	    "CAP_SETGID",	   "CAP_SETUID",
	"CAP_SETPCAP",	      "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN",      "CAP_NET_RAW",	    "CAP_IPC_LOCK",	   "CAP_IPC_OWNER",
	"CAP_SYS_MODULE",     "CAP_SYS_RAWIO",	    "CAP_SYS_CHROOT",	   "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT",      "CAP_SYS_ADMIN",	    "CAP_SYS_BOOT",	   "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE",   "CAP_SYS_TIME",	    "CAP_SYS_TTY_CONFIG",  "CAP_MKNOD",
	"CAP_LEASE",	      "CAP_AUDIT_WRITE",    "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE",   "CAP_MAC_ADMIN",	    "CAP_SYSLOG",	   "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND",  "CAP_AUDIT_READ",
};

static bool oci_all_caps(const cJSON *spec, bool *known)
{
	const cJSON *bounding = get(get(get(spec, "process"), "capabilities"), "bounding");

	*known = cJSON_IsArray(bounding);
	if (!*known)
		return false;
	for (size_t i = 0; i < sizeof(all_caps) / sizeof(all_caps[0]); i++)
		if (!array_has(bounding, all_caps[i]))
			return false;
	return true;
}

static const char *oci_propagation(const cJSON *opts)
{
	static const char *const props[] = { "rprivate", "private", "rshared",
					     "shared",	 "rslave",  "slave" };

	for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++)
		if (array_has(opts, props[i]))
			return props[i];
	return NULL;
}

static int oci_mounts(struct shk_ctr_meta *m, const cJSON *spec)
{
	const cJSON *mounts = get(spec, "mounts"), *e;
	int err = 0;

	if (!cJSON_IsArray(mounts))
		return 0;
	cJSON_ArrayForEach(e, mounts) {
		const cJSON *opts = get(e, "options");

		if (!str_is(get(e, "type"), "bind") && !array_has(opts, "bind") &&
		    !array_has(opts, "rbind"))
			continue;
		err = add_mount(m, get(e, "source"), get(e, "destination"), !array_has(opts, "ro"),
				NULL, oci_propagation(opts));
		if (err)
			break;
	}
	return err;
}

/* The annotations of both CRI implementations: whichever is there. */
static void oci_annotations(struct shk_ctr_meta *m, const cJSON *a, int *err)
{
	const cJSON *created, *priv;

	set_str(&m->name, get(a, "io.kubernetes.cri.container-name"), err);
	set_str(&m->name, get(a, "io.kubernetes.container.name"), err);
	set_str(&m->pod_name, get(a, "io.kubernetes.cri.sandbox-name"), err);
	set_str(&m->pod_name, get(a, "io.kubernetes.pod.name"), err);
	set_str(&m->pod_ns, get(a, "io.kubernetes.cri.sandbox-namespace"), err);
	set_str(&m->pod_ns, get(a, "io.kubernetes.pod.namespace"), err);
	set_str(&m->pod_uid, get(a, "io.kubernetes.cri.sandbox-uid"), err);
	set_str(&m->pod_uid, get(a, "io.kubernetes.pod.uid"), err);
	set_str(&m->image, get(a, "io.kubernetes.cri.image-name"), err);
	set_str(&m->image, get(a, "io.kubernetes.cri-o.ImageName"), err);
	set_str(&m->image_id, get(a, "io.kubernetes.cri-o.ImageRef"), err);
	set_str(&m->sandbox_id, get(a, "io.kubernetes.cri.sandbox-id"), err);
	set_str(&m->sandbox_id, get(a, "io.kubernetes.cri-o.SandboxID"), err);
	set_str(&m->ip, get(a, "io.kubernetes.cri-o.IP.0"), err);
	m->is_sandbox = str_is(get(a, "io.kubernetes.cri.container-type"), "sandbox") ||
			str_is(get(a, "io.kubernetes.cri-o.ContainerType"), "sandbox");
	created = get(a, "io.kubernetes.cri-o.Created");
	if (cJSON_IsString(created) && shk_rfc3339_ns(created->valuestring, &m->start_ts))
		m->start_ts = 0;
	priv = get(a, "io.kubernetes.cri-o.Privileged");
	if (cJSON_IsString(priv)) {
		m->privileged_known = true;
		m->privileged = str_is(priv, "true");
	}
}

int shk_ctr_meta_from_oci(const char *json, size_t len, enum shk_ctr_runtime rt,
			  struct shk_ctr_meta *ret)
{
	cJSON *spec = cJSON_ParseWithLength(json, len);
	struct shk_ctr_meta m = { .type = rt };
	const cJSON *a;
	bool known;
	int err = 0;

	memset(ret, 0, sizeof(*ret));
	/* an OCI spec is an object with ociVersion; anything else is not
	 * what a runtime wrote */
	if (!cJSON_IsObject(spec) || !cJSON_IsString(get(spec, "ociVersion"))) {
		cJSON_Delete(spec);
		return -EBADMSG;
	}
	a = get(spec, "annotations");
	if (cJSON_IsObject(a))
		oci_annotations(&m, a, &err);
	if (!m.privileged_known) {
		m.privileged = oci_all_caps(spec, &known);
		m.privileged_known = known;
	}
	set_image(&m, &err);
	if (!err)
		err = oci_mounts(&m, spec);
	cJSON_Delete(spec);
	if (err) {
		shk_ctr_meta_free(&m);
		return err;
	}
	*ret = m;
	return 0;
}

/* ---- docker ------------------------------------------------------------- */

static void docker_ip(struct shk_ctr_meta *m, const cJSON *ns, int *err)
{
	const cJSON *nets = get(ns, "Networks"), *n;

	if (cJSON_IsObject(nets))
		cJSON_ArrayForEach(n, nets)
			set_str(&m->ip, get(n, "IPAddress"), err);
	set_str(&m->ip, get(ns, "IPAddress"), err);
}

static int docker_mounts(struct shk_ctr_meta *m, const cJSON *mps)
{
	const cJSON *e;
	int err = 0;

	if (!cJSON_IsObject(mps))
		return 0;
	cJSON_ArrayForEach(e, mps) {
		const cJSON *prop = get(e, "Propagation");

		err = add_mount(m, get(e, "Source"), get(e, "Destination"),
				cJSON_IsTrue(get(e, "RW")), get(e, "Mode"),
				cJSON_IsString(prop) ? prop->valuestring : NULL);
		if (err)
			break;
	}
	return err;
}

int shk_ctr_meta_from_docker(const char *config, size_t len, const char *hostconfig,
			     size_t hlen, struct shk_ctr_meta *ret)
{
	cJSON *c = cJSON_ParseWithLength(config, len), *h = NULL;
	struct shk_ctr_meta m = { .type = SHK_CTR_DOCKER };
	const cJSON *name, *labels, *started, *priv;
	int err = 0;

	memset(ret, 0, sizeof(*ret));
	if (hostconfig)
		h = cJSON_ParseWithLength(hostconfig, hlen);
	if (!cJSON_IsObject(c) || !cJSON_IsString(get(c, "ID")) || (hostconfig && !cJSON_IsObject(h))) {
		err = -EBADMSG;
		goto out;
	}
	name = get(c, "Name");
	if (cJSON_IsString(name) && name->valuestring[0])
		m.name = dupn(name->valuestring + (name->valuestring[0] == '/'),
			      strlen(name->valuestring + (name->valuestring[0] == '/')), &err);
	set_str(&m.image, get(get(c, "Config"), "Image"), &err);
	set_str(&m.image_id, get(c, "Image"), &err);
	/* dockershim's pods are in the labels */
	labels = get(get(c, "Config"), "Labels");
	set_str(&m.pod_name, get(labels, "io.kubernetes.pod.name"), &err);
	set_str(&m.pod_ns, get(labels, "io.kubernetes.pod.namespace"), &err);
	set_str(&m.pod_uid, get(labels, "io.kubernetes.pod.uid"), &err);
	started = get(get(c, "State"), "StartedAt");
	/* docker writes the zero time before the first start */
	if (cJSON_IsString(started) &&
	    (shk_rfc3339_ns(started->valuestring, &m.start_ts) || m.start_ts < 0))
		m.start_ts = 0;
	docker_ip(&m, get(c, "NetworkSettings"), &err);
	priv = get(h, "Privileged");
	if (cJSON_IsBool(priv)) {
		m.privileged_known = true;
		m.privileged = cJSON_IsTrue(priv);
	}
	set_image(&m, &err);
	if (!err)
		err = docker_mounts(&m, get(c, "MountPoints"));
out:
	cJSON_Delete(c);
	cJSON_Delete(h);
	if (err) {
		shk_ctr_meta_free(&m);
		return err;
	}
	*ret = m;
	return 0;
}

/* ---- files -------------------------------------------------------------- */

/* The whole of a regular file of at most SHK_CTRMETA_FILE_MAX bytes, not
 * reached through a final symlink. -ENOENT when absent, -EBADMSG when it
 * is not such a file. */
static int read_capped(const char *path, char **ret, size_t *ret_len)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	size_t len = 0, cap;
	struct stat st;
	char *buf;
	ssize_t n;
	int err;

	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? -ENOENT : errno == ENOMEM ? -ENOMEM
										      : -EBADMSG;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > SHK_CTRMETA_FILE_MAX) {
		close(fd);
		return -EBADMSG;
	}
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	/* the file may grow while we read: never past the cap */
	while ((n = read(fd, buf + len, cap - len)) > 0) {
		len += (size_t)n;
		if (len == cap)
			break;
	}
	err = n < 0 ? -EBADMSG : len >= cap ? -EBADMSG : 0;
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
}

static int load_oci(const char *path, enum shk_ctr_runtime rt, struct shk_ctr_meta *ret)
{
	char *buf;
	size_t len;
	int err = read_capped(path, &buf, &len);

	if (err)
		return err;
	err = shk_ctr_meta_from_oci(buf, len, rt, ret);
	free(buf);
	return err;
}

/* containerd keeps a bundle per namespace (k8s.io for the CRI, moby for
 * docker, default for ctr): look in k8s.io first, then the others. */
static int load_containerd(const char *root, const char *id, struct shk_ctr_meta *ret)
{
	char path[4096];
	struct dirent *de;
	int err;
	DIR *d;

	snprintf(path, sizeof(path), "%s/k8s.io/%s/config.json", root, id);
	err = load_oci(path, SHK_CTR_CONTAINERD, ret);
	if (err != -ENOENT)
		return err;
	d = opendir(root);
	if (!d)
		return -ENOENT;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, "k8s.io"))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s/%s/config.json", root, de->d_name,
				     id) >= sizeof(path))
			continue;
		err = load_oci(path, SHK_CTR_CONTAINERD, ret);
		if (err != -ENOENT)
			break;
	}
	closedir(d);
	return err;
}

static int load_crio(const char *root, const char *id, struct shk_ctr_meta *ret)
{
	char path[4096];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s/userdata/config.json", root, id) >=
	    sizeof(path))
		return -ENOENT;
	return load_oci(path, SHK_CTR_CRIO, ret);
}

static int load_docker(const char *root, const char *id, struct shk_ctr_meta *ret)
{
	char path[4096], *cfg = NULL, *host = NULL;
	size_t clen, hlen = 0;
	int err;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s/config.v2.json", root, id) >= sizeof(path))
		return -ENOENT;
	err = read_capped(path, &cfg, &clen);
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/%s/hostconfig.json", root, id);
	err = read_capped(path, &host, &hlen);
	if (err && err != -ENOENT) {
		free(cfg);
		return err;
	}
	err = shk_ctr_meta_from_docker(cfg, clen, host, hlen, ret);
	free(cfg);
	free(host);
	return err;
}

int shk_ctr_meta_load(const struct shk_ctr_roots *roots, enum shk_ctr_runtime rt, const char *id,
		      struct shk_ctr_meta *ret)
{
	int err = -ENOENT;

	memset(ret, 0, sizeof(*ret));
	/* the id becomes a path component: only a well-formed one */
	if (!id || strlen(id) != SHK_CTR_ID_LEN || strspn(id, "0123456789abcdef") != SHK_CTR_ID_LEN)
		return -EINVAL;
	if ((rt == SHK_CTR_CONTAINERD || rt == SHK_CTR_CRI) && roots->containerd)
		err = load_containerd(roots->containerd, id, ret);
	if (err == -ENOENT && (rt == SHK_CTR_CRIO || rt == SHK_CTR_CRI) && roots->crio)
		err = load_crio(roots->crio, id, ret);
	if (err == -ENOENT && (rt == SHK_CTR_DOCKER || rt == SHK_CTR_CRI) && roots->docker)
		err = load_docker(roots->docker, id, ret);
	return err;
}
