/* SPDX-License-Identifier: Apache-2.0 */
#include "isolate.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cgroup.h"
#include "isolate.skel.h"

/* Key layouts of the allow4/allow6 LPM tries (bpf/isolate.bpf.c); their
 * sizes are checked against the loaded maps in check_layout(). */
struct iso_key4 {
	uint32_t prefixlen;
	uint8_t addr[4];
};

struct iso_key6 {
	uint32_t prefixlen;
	uint8_t addr[16];
};

enum { PROG_NR = 6 };

static const struct {
	const char *name;
	enum bpf_attach_type type;
} progs[PROG_NR] = {
	{ "iso_ingress", BPF_CGROUP_INET_INGRESS },
	{ "iso_egress", BPF_CGROUP_INET_EGRESS },
	{ "iso_connect4", BPF_CGROUP_INET4_CONNECT },
	{ "iso_connect6", BPF_CGROUP_INET6_CONNECT },
	{ "iso_sendmsg4", BPF_CGROUP_UDP4_SENDMSG },
	{ "iso_sendmsg6", BPF_CGROUP_UDP6_SENDMSG },
};

struct shk_isolation {
	struct shk_isolation *next;
	uint64_t cgroup_id;
	char *path; /* NULL when adopted and the cgroup could not be found */
	bool pinned;
	struct bpf_link *link[PROG_NR];
	int nnetns;
	struct shk_netns_state netns[SHK_ISOLATE_NETNS_MAX];
	int netns_err;
};

struct shk_isolator {
	struct isolate *skel;
	struct bpf_program *prog[PROG_NR];
	char *pin_dir;
	bool no_netns, defer_pin;
	char cg_root[SHK_CGROUP_PATH_MAX];
	struct shk_isolation *list;
};

/* ------------------------------------------------------------------ */
/* cgroup v2 paths */

static int resolve_cgroup(const struct shk_isolator *iso, const char *path, char **ret_path,
			  uint64_t *ret_id)
{
	char abs[SHK_CGROUP_PATH_MAX];
	struct stat st;
	int fd, err;

	size_t rl = strlen(iso->cg_root);

	if (strncmp(path, iso->cg_root, rl) == 0 && (path[rl] == '/' || path[rl] == '\0')) {
		if (strlen(path) >= sizeof(abs))
			return -ENAMETOOLONG;
		strcpy(abs, path);
	} else {
		/* relative to the v2 root, as /proc/PID/cgroup shows it */
		char rel[SHK_CGROUP_PATH_MAX];

		if ((size_t)snprintf(rel, sizeof(rel), "%s%s", path[0] == '/' ? "" : "/", path) >=
		    sizeof(rel))
			return -ENAMETOOLONG;
		err = shk_cgroup_join(iso->cg_root, rel, abs, sizeof(abs));
		if (err < 0)
			return err;
	}
	fd = shk_cgroup_open(abs);
	if (fd < 0)
		return fd;
	err = shk_cgroup_version(fd);
	if (err == 2 && fstat(fd, &st))
		err = -errno;
	close(fd);
	if (err < 0)
		return err;
	if (err != 2)
		return -EMEDIUMTYPE; /* a v1 hierarchy: cgroup BPF needs v2 */
	*ret_path = strdup(abs);
	if (!*ret_path)
		return -ENOMEM;
	*ret_id = st.st_ino; /* a v2 cgroup's id is its directory's inode */
	return 0;
}

/* Whether cgroup id is the caller's cgroup or one of its ancestors: the
 * programs are inherited, so isolating it would cut shrike off too. */
static int contains_self(const struct shk_isolator *iso, uint64_t id)
{
	char rel[SHK_CGROUP_PATH_MAX], path[SHK_CGROUP_PATH_MAX];
	int err;

	err = shk_cgroup_of_pid(NULL, getpid(), NULL, rel, sizeof(rel));
	if (err == -EXDEV)
		return 1; /* we cannot see our own cgroup: refuse (fail closed) */
	if (err >= 0)
		err = shk_cgroup_join(iso->cg_root, rel, path, sizeof(path));
	if (err < 0)
		return err;
	for (;;) {
		struct stat st;
		char *slash;

		if (stat(path, &st) == 0 && st.st_ino == id)
			return 1;
		if (strlen(path) <= strlen(iso->cg_root))
			return 0;
		slash = strrchr(path, '/');
		if (!slash)
			return 0;
		*slash = '\0';
	}
}

/* ------------------------------------------------------------------ */
/* allow-list */

static int parse_cidr(const char *s, int *ret_family, uint8_t addr[16], uint32_t *ret_plen)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	int family, max;
	long plen;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, addr) == 1)
		family = AF_INET, max = 32;
	else if (inet_pton(AF_INET6, buf, addr) == 1)
		family = AF_INET6, max = 128;
	else
		return -EINVAL;
	plen = max;
	if (slash) {
		errno = 0;
		plen = strtol(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || plen < 0 || plen > max)
			return -EINVAL;
	}
	/* clear host bits, so that "10.1.2.3/16" and "10.1.0.0/16" are one key */
	for (int bit = (int)plen; bit < max; bit++)
		addr[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
	*ret_family = family;
	*ret_plen = (uint32_t)plen;
	return 0;
}

static int clear_map(int fd, size_t key_size)
{
	uint8_t key[sizeof(struct iso_key6)], next[sizeof(struct iso_key6)];

	if (key_size > sizeof(key))
		return -EINVAL;
	/* delete-first walk: always restart from the first key */
	while (bpf_map_get_next_key(fd, NULL, next) == 0) {
		memcpy(key, next, key_size);
		if (bpf_map_delete_elem(fd, key))
			return -errno;
	}
	return 0;
}

/*
 * Replace the allow-list. The maps may be pinned and shared with links of a
 * previous instance: clearing first means a peer dropped from the list is
 * never allowed past this point, at the cost of a short moment where the
 * listed peers are denied too (fail closed).
 */
static int set_allow(struct shk_isolator *iso, const char *const *allow)
{
	int fd4 = bpf_map__fd(iso->skel->maps.allow4);
	int fd6 = bpf_map__fd(iso->skel->maps.allow6);
	uint8_t one = 1;
	int err;

	for (size_t i = 0; allow && allow[i]; i++) {
		uint8_t addr[16];
		uint32_t plen;
		int family;

		err = parse_cidr(allow[i], &family, addr, &plen);
		if (err)
			return err; /* validate everything before touching the maps */
	}
	err = clear_map(fd4, sizeof(struct iso_key4));
	if (!err)
		err = clear_map(fd6, sizeof(struct iso_key6));
	for (size_t i = 0; !err && allow && allow[i]; i++) {
		struct iso_key4 k4 = { 0 };
		struct iso_key6 k6 = { 0 };
		uint8_t addr[16];
		int family;

		parse_cidr(allow[i], &family, addr, &k6.prefixlen);
		if (family == AF_INET) {
			k4.prefixlen = k6.prefixlen;
			memcpy(k4.addr, addr, 4);
			if (bpf_map_update_elem(fd4, &k4, &one, BPF_ANY))
				err = -errno;
		} else {
			memcpy(k6.addr, addr, 16);
			if (bpf_map_update_elem(fd6, &k6, &one, BPF_ANY))
				err = -errno;
		}
	}
	return err;
}

/* ------------------------------------------------------------------ */
/* pins */

static bool on_bpffs(const char *path)
{
	struct statfs sfs;

	return statfs(path, &sfs) == 0 && sfs.f_type == BPF_FS_MAGIC;
}

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];

	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	for (char *p = buf + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (mkdir(buf, 0700) && errno != EEXIST)
				return -errno;
			*p = c;
			if (!c)
				break;
		}
	}
	return 0;
}

static int prepare_pin_dir(const char *dir)
{
	int err;

	if (dir[0] != '/')
		return -EINVAL;
	/* Only the conventional place is mounted on demand; anywhere else
	 * the caller chose a directory and must provide bpffs there. */
	if (strncmp(dir, "/sys/fs/bpf/", 12) == 0 && !on_bpffs("/sys/fs/bpf") &&
	    mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700"))
		return -errno;
	err = mkdir_p(dir);
	if (err)
		return err;
	return on_bpffs(dir) ? 0 : -EMEDIUMTYPE;
}

static int map_pin_path(const struct shk_isolator *iso, const struct bpf_map *map, char *buf,
			size_t size)
{
	int n = snprintf(buf, size, "%s/%s", iso->pin_dir, bpf_map__name(map));

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int link_pin_path(const struct shk_isolator *iso, uint64_t cgroup_id, int prog,
			 char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/cg%llu-%s", iso->pin_dir, (unsigned long long)cgroup_id,
			 progs[prog].name);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* ------------------------------------------------------------------ */
/* lifecycle */

static int check_layout(const struct isolate *skel)
{
	if (bpf_map__key_size(skel->maps.allow4) != sizeof(struct iso_key4) ||
	    bpf_map__key_size(skel->maps.allow6) != sizeof(struct iso_key6) ||
	    bpf_map__max_entries(skel->maps.iso_counters) != SHK_ISO_CNT_MAX ||
	    bpf_map__value_size(skel->maps.iso_counters) != sizeof(uint64_t))
		return -EPROTO;
	return 0;
}

struct shk_isolator *shk_isolator_new(const struct shk_isolator_opts *opts)
{
	struct shk_isolator *iso = calloc(1, sizeof(*iso));
	struct shk_cgroup_mounts mounts;
	struct bpf_map *map;
	char path[PATH_MAX];
	int err;

	if (!iso)
		return NULL;
	iso->no_netns = opts && opts->no_netns;
	iso->defer_pin = opts && opts->defer_pin;
	err = shk_cgroup_mounts_discover(NULL, &mounts);
	if (!err && !mounts.v2[0])
		err = -ENOENT; /* only a v1 hierarchy: cgroup BPF needs v2 */
	if (err)
		goto fail;
	strcpy(iso->cg_root, mounts.v2);
	if (opts && opts->pin_dir) {
		iso->pin_dir = strdup(opts->pin_dir);
		err = iso->pin_dir ? prepare_pin_dir(iso->pin_dir) : -ENOMEM;
		if (err)
			goto fail;
	}
	iso->skel = isolate__open();
	if (!iso->skel) {
		err = -errno;
		goto fail;
	}
	err = check_layout(iso->skel);
	if (err)
		goto fail;
	/* Pinned maps are reused, so the links of a previous instance and
	 * this one share one allow-list and one set of counters. */
	if (iso->pin_dir)
		bpf_object__for_each_map(map, iso->skel->obj) {
			err = map_pin_path(iso, map, path, sizeof(path));
			if (!err)
				err = bpf_map__set_pin_path(map, path);
			if (err)
				goto fail;
		}
	err = isolate__load(iso->skel);
	if (err)
		goto fail;
	for (int i = 0; i < PROG_NR; i++) {
		iso->prog[i] = bpf_object__find_program_by_name(iso->skel->obj, progs[i].name);
		if (!iso->prog[i]) {
			err = -ENOENT;
			goto fail;
		}
	}
	err = set_allow(iso, opts ? opts->allow : NULL);
	if (err)
		goto fail;
	return iso;
fail:
	shk_isolator_free(iso);
	errno = err < 0 ? -err : EINVAL;
	return NULL;
}

static void isolation_free(struct shk_isolation *h)
{
	if (!h)
		return;
	/* Closing our fd does not detach a pinned link: the pin holds it. */
	for (int i = 0; i < PROG_NR; i++)
		bpf_link__destroy(h->link[i]);
	free(h->path);
	free(h);
}

void shk_isolator_free(struct shk_isolator *iso)
{
	if (!iso)
		return;
	while (iso->list) {
		struct shk_isolation *h = iso->list;

		iso->list = h->next;
		isolation_free(h);
	}
	isolate__destroy(iso->skel);
	free(iso->pin_dir);
	free(iso);
}

static void unlink_isolation(struct shk_isolator *iso, struct shk_isolation *h)
{
	for (struct shk_isolation **pp = &iso->list; *pp; pp = &(*pp)->next)
		if (*pp == h) {
			*pp = h->next;
			return;
		}
}

int shk_isolation_pin(struct shk_isolator *iso, struct shk_isolation *h)
{
	char path[PATH_MAX];
	int err = 0;

	if (!iso || !h)
		return -EINVAL;
	if (!iso->pin_dir)
		return -EINVAL;
	for (int i = 0; i < PROG_NR && !err; i++) {
		if (!h->link[i] || bpf_link__pin_path(h->link[i]))
			continue;
		err = link_pin_path(iso, h->cgroup_id, i, path, sizeof(path));
		if (!err)
			err = bpf_link__pin(h->link[i], path);
	}
	if (err) {
		shk_isolation_unpin(iso, h);
		return err;
	}
	h->pinned = true;
	return 0;
}

int shk_isolation_unpin(struct shk_isolator *iso, struct shk_isolation *h)
{
	int err = 0;

	if (!iso || !h)
		return -EINVAL;
	for (int i = 0; i < PROG_NR; i++) {
		int e;

		if (!h->link[i] || !bpf_link__pin_path(h->link[i]))
			continue;
		e = bpf_link__unpin(h->link[i]);
		if (e && !err)
			err = e;
	}
	if (!err)
		h->pinned = false;
	return err;
}

static int attach_missing(struct shk_isolator *iso, struct shk_isolation *h, int cgfd)
{
	for (int i = 0; i < PROG_NR; i++) {
		if (h->link[i])
			continue;
		h->link[i] = bpf_program__attach_cgroup(iso->prog[i], cgfd);
		if (!h->link[i])
			return errno ? -errno : -EIO;
	}
	return 0;
}

/* Up to SHK_ISOLATE_NETNS_MAX distinct foreign network namespaces among the
 * processes of the subtree, one representative pid each. */
struct ns_scan {
	uint64_t self_ino;
	int n;
	uint64_t ino[SHK_ISOLATE_NETNS_MAX];
	pid_t pid[SHK_ISOLATE_NETNS_MAX];
	bool overflow;
};

static int scan_pid(int pid, void *ctx)
{
	struct ns_scan *s = ctx;
	uint64_t ino;
	int k;

	if (shk_netns_ino(pid, &ino) || ino == s->self_ino)
		return 0; /* exited meanwhile, or shares the host netns */
	for (k = 0; k < s->n && s->ino[k] != ino; k++)
		;
	if (k < s->n)
		return 0;
	if (s->n == SHK_ISOLATE_NETNS_MAX) {
		s->overflow = true;
		return 0;
	}
	s->ino[s->n] = ino;
	s->pid[s->n++] = pid;
	return 0;
}

static int scan_cgroup(int dfd, const char *path, void *ctx)
{
	(void)path;
	return shk_cgroup_for_each_proc(dfd, scan_pid, ctx);
}

static int scan_netns(const char *cgroup_path, struct ns_scan *s)
{
	int err;

	memset(s, 0, sizeof(*s));
	err = shk_netns_ino(0, &s->self_ino);
	if (err)
		return err;
	return shk_cgroup_for_each_subtree(cgroup_path, scan_cgroup, s);
}

static void cut_netns(struct shk_isolation *h)
{
	struct ns_scan s;
	int err = scan_netns(h->path, &s);

	for (int i = 0; !err && i < s.n; i++) {
		err = shk_netns_isolate(s.pid[i], &h->netns[h->nnetns]);
		if (!err)
			h->nnetns++;
		else if (err == -EXDEV || err == -ENOENT || err == -ESRCH)
			err = 0; /* moved to the host netns or exited meanwhile */
	}
	if (!err && s.overflow)
		err = -E2BIG;
	h->netns_err = err;
}

int shk_isolate_cgroup(struct shk_isolator *iso, const char *cgroup_path,
		       struct shk_isolation **ret_iso)
{
	struct shk_isolation *h;
	int cgfd = -1, err;

	if (!iso || !cgroup_path)
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	err = resolve_cgroup(iso, cgroup_path, &h->path, &h->cgroup_id);
	if (err)
		goto fail;
	for (struct shk_isolation *o = iso->list; o; o = o->next)
		if (o->cgroup_id == h->cgroup_id) {
			err = -EALREADY;
			goto fail;
		}
	err = contains_self(iso, h->cgroup_id);
	if (err) {
		err = err > 0 ? -EPERM : err;
		goto fail;
	}
	cgfd = open(h->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0) {
		err = -errno;
		goto fail;
	}
	/* All six or none: a partial attach is rolled back so that the
	 * outcome the caller records ("failed") is the state of the kernel,
	 * and the engine can escalate (freeze) instead. */
	err = attach_missing(iso, h, cgfd);
	close(cgfd);
	if (!err && iso->pin_dir && !iso->defer_pin)
		err = shk_isolation_pin(iso, h);
	if (err)
		goto fail;
	if (!iso->no_netns)
		cut_netns(h);
	h->next = iso->list;
	iso->list = h;
	if (ret_iso)
		*ret_iso = h;
	return 0;
fail:
	if (h->pinned)
		shk_isolation_unpin(iso, h);
	isolation_free(h);
	return err;
}

int shk_release_cgroup(struct shk_isolator *iso, struct shk_isolation *h)
{
	int err = 0;

	if (!iso || !h)
		return -EINVAL;
	unlink_isolation(iso, h);
	/* Adopted isolations carry no netns record: the veth pairs are found
	 * again from the cgroup's processes. */
	if (!iso->no_netns && h->nnetns == 0 && h->path) {
		struct ns_scan s;

		if (scan_netns(h->path, &s) == 0)
			for (int i = 0; i < s.n && h->nnetns < SHK_ISOLATE_NETNS_MAX; i++)
				if (shk_netns_inspect(s.pid[i], &h->netns[h->nnetns]) == 0) {
					/* we took them down; they were up */
					for (int v = 0; v < h->netns[h->nnetns].nveth; v++)
						h->netns[h->nnetns].veth[v].was_up = true;
					h->nnetns++;
				}
	}
	for (int i = 0; i < PROG_NR; i++) {
		int e;

		if (!h->link[i])
			continue;
		/* An explicit detach ends the attachment even if another
		 * process still holds the link open. */
		e = bpf_link__detach(h->link[i]);
		if (e && e != -ENOLINK && !err) /* ENOLINK: the cgroup is gone */
			err = e;
		if (bpf_link__pin_path(h->link[i])) {
			e = bpf_link__unpin(h->link[i]);
			if (e && !err)
				err = e;
		}
	}
	for (int i = 0; i < h->nnetns; i++) {
		int e = shk_netns_release(&h->netns[i]);

		if (e && !err)
			err = e;
	}
	isolation_free(h);
	return err;
}

int shk_isolator_prune(struct shk_isolator *iso)
{
	struct shk_isolation *h, *next;
	int n = 0;

	if (!iso)
		return -EINVAL;
	for (h = iso->list; h; h = next) {
		next = h->next;
		if (!h->path || access(h->path, F_OK) == 0 || errno != ENOENT)
			continue;
		/* the container is gone: its links only keep a dying cgroup
		 * alive, its pins would be adopted again at the next start */
		shk_release_cgroup(iso, h);
		n++;
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* durability */

/* The cgroupfs path of a cgroup id, or NULL (gone, or beyond the walk's
 * bounds). Done once per adopted isolation. */
static char *cgroup_path_of(const struct shk_isolator *iso, uint64_t id)
{
	char path[SHK_CGROUP_PATH_MAX];

	if (shk_cgroup_find_by_id(iso->cg_root, id, path, sizeof(path)) < 0)
		return NULL;
	return strdup(path);
}

static struct shk_isolation *find_id_in(struct shk_isolator *iso, uint64_t id)
{
	for (struct shk_isolation *h = iso->list; h; h = h->next)
		if (h->cgroup_id == id)
			return h;
	return NULL;
}

/* Adopt one pinned link: returns 1 if a new isolation was created. */
static int adopt_link(struct shk_isolator *iso, const char *path, int prog)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);
	struct shk_isolation *h;
	struct bpf_link *link;
	bool created = false;
	int err;

	link = bpf_link__open(path);
	if (!link)
		return -errno;
	memset(&info, 0, sizeof(info));
	err = bpf_obj_get_info_by_fd(bpf_link__fd(link), &info, &len);
	if (err) {
		err = -errno;
		bpf_link__destroy(link);
		return err;
	}
	if (info.type != BPF_LINK_TYPE_CGROUP || info.cgroup.cgroup_id == 0 ||
	    info.cgroup.attach_type != progs[prog].type) {
		/* the cgroup is gone (its links were auto-detached) */
		bpf_link__unpin(link);
		bpf_link__destroy(link);
		return 0;
	}
	/* Swap in this instance's program atomically: never a gap. */
	err = bpf_link__update_program(link, iso->prog[prog]);
	if (err) {
		bpf_link__destroy(link);
		return err;
	}
	h = find_id_in(iso, info.cgroup.cgroup_id);
	if (!h) {
		h = calloc(1, sizeof(*h));
		if (!h) {
			bpf_link__destroy(link);
			return -ENOMEM;
		}
		h->cgroup_id = info.cgroup.cgroup_id;
		h->path = cgroup_path_of(iso, h->cgroup_id);
		h->pinned = true;
		h->next = iso->list;
		iso->list = h;
		created = true;
	}
	if (h->link[prog]) {
		/* two pins for one slot: keep ours, leave the other pinned */
		bpf_link__destroy(link);
	} else {
		h->link[prog] = link;
	}
	return created;
}

int shk_isolator_reattach(struct shk_isolator *iso)
{
	struct dirent *de;
	DIR *d;
	int adopted = 0, err = 0;

	if (!iso || !iso->pin_dir)
		return -EINVAL;
	d = opendir(iso->pin_dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char path[PATH_MAX], *dash;
		unsigned long long id;
		int prog = -1, r;

		if (sscanf(de->d_name, "cg%llu-", &id) != 1 || !(dash = strchr(de->d_name, '-')))
			continue;
		for (int i = 0; i < PROG_NR; i++)
			if (strcmp(dash + 1, progs[i].name) == 0)
				prog = i;
		if (prog < 0 || (size_t)snprintf(path, sizeof(path), "%s/%s", iso->pin_dir,
						 de->d_name) >= sizeof(path))
			continue; /* not ours: leave it */
		r = adopt_link(iso, path, prog);
		if (r > 0)
			adopted++;
		else if (r < 0 && !err)
			err = r;
	}
	closedir(d);

	/* A program this version added, or a pin that was lost: attach it. */
	for (struct shk_isolation *h = iso->list; h; h = h->next) {
		int cgfd, e;

		if (!h->path)
			continue;
		cgfd = open(h->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cgfd < 0)
			continue;
		e = attach_missing(iso, h, cgfd);
		close(cgfd);
		if (!e)
			e = shk_isolation_pin(iso, h);
		if (e && !err)
			err = e;
	}
	return err ? err : adopted;
}

int shk_isolator_unpin(struct shk_isolator *iso)
{
	struct bpf_map *map;
	char path[PATH_MAX];

	if (!iso || !iso->pin_dir)
		return -EINVAL;
	for (struct shk_isolation *h = iso->list; h; h = h->next)
		if (h->pinned)
			return -EBUSY;
	bpf_object__for_each_map(map, iso->skel->obj) {
		int err;

		if (map_pin_path(iso, map, path, sizeof(path)))
			continue;
		err = bpf_map__unpin(map, path);
		if (err && err != -ENOENT)
			return err;
	}
	if (rmdir(iso->pin_dir) && errno != ENOENT)
		return errno == ENOTEMPTY ? -EBUSY : -errno;
	return 0;
}

/* ------------------------------------------------------------------ */
/* queries */

struct shk_isolation *shk_isolator_find(struct shk_isolator *iso, const char *cgroup_path)
{
	char *p = NULL;
	uint64_t id;

	if (!iso || !cgroup_path || resolve_cgroup(iso, cgroup_path, &p, &id))
		return NULL;
	free(p);
	return find_id_in(iso, id);
}

struct shk_isolation *shk_isolator_next(struct shk_isolator *iso, struct shk_isolation *prev)
{
	if (!iso)
		return NULL;
	return prev ? prev->next : iso->list;
}

void shk_isolation_get_info(const struct shk_isolation *h, struct shk_isolation_info *ret_info)
{
	if (!h || !ret_info)
		return;
	*ret_info = (struct shk_isolation_info){
		.cgroup_id = h->cgroup_id,
		.path = h->path,
		.pinned = h->pinned,
		.nnetns = h->nnetns,
		.netns = h->netns,
		.netns_err = h->netns_err,
	};
}

int shk_isolator_get_stats(struct shk_isolator *iso, struct shk_isolator_stats *ret_stats)
{
	struct shk_isolator_stats st = { 0 };
	int ncpus = libbpf_num_possible_cpus(), fd;
	uint64_t *vals;

	if (!iso || !ret_stats)
		return -EINVAL;
	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	vals = calloc((size_t)ncpus, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	fd = bpf_map__fd(iso->skel->maps.iso_counters);
	for (uint32_t k = 0; k < SHK_ISO_CNT_MAX; k++) {
		if (bpf_map_lookup_elem(fd, &k, vals)) {
			int err = -errno;

			free(vals);
			return err;
		}
		for (int c = 0; c < ncpus; c++)
			st.count[k] += vals[c];
	}
	free(vals);
	*ret_stats = st;
	return 0;
}
