/* SPDX-License-Identifier: Apache-2.0 */
#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC 0x27e0eb
#endif

/* mountinfo is kernel-generated but may be a fixture: bound what we take. */
#define MOUNTINFO_MAX_LINES 100000
#define MOUNTINFO_MAX_FIELDS 64
#define PROC_CGROUP_MAX 65536

int64_t shk_cgroup_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Undo mountinfo's octal escapes (\040 space, \011 tab, \012, \134) in
 * place. A malformed escape is kept literally. */
static void unescape_octal(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' &&
		    r[2] >= '0' && r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') << 6 | (r[2] - '0') << 3 |
				      (r[3] - '0'));
			r += 3;
			continue;
		}
		*w++ = *r;
	}
	*w = '\0';
}

/* Is word an element of the comma-separated list? */
static bool list_has(const char *list, size_t len, const char *word)
{
	size_t wl = strlen(word);
	const char *p = list, *end = list + len;

	while (p < end) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		size_t n = c ? (size_t)(c - p) : (size_t)(end - p);

		if (n == wl && !memcmp(p, word, n))
			return true;
		if (!c)
			break;
		p = c + 1;
	}
	return false;
}

struct mount_want {
	const char *v1ctrl; /* NULL: want cgroup2 */
	char *ret;
	size_t size;
	bool found;
};

/*
 * One mountinfo line, split in place:
 *   ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SRC SUPER
 * Returns 1 when it matched a wish and was stored, 0 otherwise, or
 * -ENAMETOOLONG.
 */
static int mountinfo_line(char *line, struct mount_want *w, size_t nw)
{
	char *f[MOUNTINFO_MAX_FIELDS], *save = NULL, *tok;
	int n = 0, sep = -1, matched = 0;

	for (tok = strtok_r(line, " \n", &save); tok && n < MOUNTINFO_MAX_FIELDS;
	     tok = strtok_r(NULL, " \n", &save)) {
		if (sep < 0 && n >= 6 && !strcmp(tok, "-"))
			sep = n;
		f[n++] = tok;
	}
	if (sep < 0 || n < sep + 4)
		return 0; /* malformed: skip rather than guess */
	/* Only the hierarchy's root: a subtree bind mount would make the
	 * paths /proc/PID/cgroup shows resolve to the wrong directories. */
	if (strcmp(f[3], "/"))
		return 0;
	unescape_octal(f[4]);
	if (f[4][0] != '/')
		return 0;
	for (size_t i = 0; i < nw; i++) {
		bool is_v2 = !strcmp(f[sep + 1], "cgroup2");
		bool is_v1 = !strcmp(f[sep + 1], "cgroup");

		if (w[i].found)
			continue;
		if (w[i].v1ctrl ? !(is_v1 && list_has(f[sep + 3],
						      strlen(f[sep + 3]),
						      w[i].v1ctrl)) :
				  !is_v2)
			continue;
		if (strlen(f[4]) >= w[i].size)
			return -ENAMETOOLONG;
		strcpy(w[i].ret, f[4]);
		w[i].found = true;
		matched = 1;
	}
	return matched;
}

static int mountinfo_scan(const char *mountinfo, struct mount_want *w,
			  size_t nw)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	int lines = 0, err = 0;

	f = fopen(mountinfo ? mountinfo : SHK_CGROUP_MOUNTINFO, "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0 && lines++ < MOUNTINFO_MAX_LINES) {
		int r = mountinfo_line(line, w, nw);

		if (r < 0) {
			err = r;
			break;
		}
	}
	free(line);
	fclose(f);
	return err;
}

int shk_cgroup_mounts_discover(const char *mountinfo,
			       struct shk_cgroup_mounts *ret)
{
	struct shk_cgroup_mounts m = { 0 };
	struct mount_want w[] = {
		{ .v1ctrl = NULL, .ret = m.v2, .size = sizeof(m.v2) },
		{ .v1ctrl = "freezer", .ret = m.freezer, .size = sizeof(m.freezer) },
	};
	int err;

	if (!ret)
		return -EINVAL;
	err = mountinfo_scan(mountinfo, w, 2);
	if (err)
		return err;
	if (!w[0].found && !w[1].found)
		return -ENOENT;
	*ret = m;
	return 0;
}

int shk_cgroup_find_v1_mount(const char *mountinfo, const char *ctrl,
			     char *ret, size_t size)
{
	char buf[SHK_CGROUP_PATH_MAX];
	struct mount_want w = { .v1ctrl = ctrl, .ret = buf, .size = sizeof(buf) };
	int err;

	if (!ctrl || !*ctrl || !ret)
		return -EINVAL;
	err = mountinfo_scan(mountinfo, &w, 1);
	if (err)
		return err;
	if (!w.found)
		return -ENOENT;
	if (strlen(buf) >= size)
		return -ENAMETOOLONG;
	strcpy(ret, buf);
	return 0;
}

/* A relative cgroup path is usable when absolute and without "." or ".."
 * components: "/.." is how the kernel shows a cgroup outside our cgroup
 * namespace, and we must not resolve that against our own mount. */
static int check_rel(const char *p, size_t len)
{
	size_t i = 0;

	if (len == 0 || p[0] != '/')
		return -EINVAL;
	while (i < len) {
		size_t s, n;

		while (i < len && p[i] == '/')
			i++;
		s = i;
		while (i < len && p[i] != '/')
			i++;
		n = i - s;
		if ((n == 1 && p[s] == '.') ||
		    (n == 2 && p[s] == '.' && p[s + 1] == '.'))
			return -EXDEV;
	}
	return 0;
}

int shk_cgroup_parse_proc(const char *buf, size_t len, const char *ctrl,
			  char *ret, size_t size)
{
	const char *p = buf, *end = buf + len;

	if (!buf || !ret || size == 0)
		return -EINVAL;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *c1 = memchr(p, ':', (size_t)(le - p));
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(le - c1 - 1)) : NULL;
		bool hit;

		if (!c1 || !c2) {
			if (le != p)
				return -EINVAL;
			goto next;
		}
		if (ctrl)
			hit = !(c1 - p == 1 && *p == '0') &&
			      list_has(c1 + 1, (size_t)(c2 - c1 - 1), ctrl);
		else
			hit = c1 - p == 1 && *p == '0' && c2 == c1 + 1;
		if (hit) {
			size_t n = (size_t)(le - c2 - 1);
			int err = check_rel(c2 + 1, n);

			if (err)
				return err;
			if (n >= size)
				return -ENAMETOOLONG;
			memcpy(ret, c2 + 1, n);
			ret[n] = '\0';
			return (int)n;
		}
next:
		if (!nl)
			break;
		p = nl + 1;
	}
	return -ENOENT;
}

int shk_cgroup_of_pid(const char *proc_root, int pid, const char *ctrl,
		      char *ret, size_t size)
{
	char path[128], *buf;
	ssize_t n, len = 0;
	int fd, err;

	if (pid <= 0)
		return -EINVAL;
	if (snprintf(path, sizeof(path), "%s/%d/cgroup",
		     proc_root ? proc_root : "/proc", pid) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	buf = malloc(PROC_CGROUP_MAX);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (len < PROC_CGROUP_MAX - 1) {
		n = read(fd, buf + len, (size_t)(PROC_CGROUP_MAX - 1 - len));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += n;
	}
	err = shk_cgroup_parse_proc(buf, (size_t)len, ctrl, ret, size);
out:
	free(buf);
	close(fd);
	return err;
}

int shk_cgroup_join(const char *mount, const char *rel, char *ret,
		    size_t size)
{
	size_t ml, rl;
	int err;

	if (!mount || !*mount || !rel || !ret || size == 0)
		return -EINVAL;
	err = check_rel(rel, strlen(rel));
	if (err)
		return -EINVAL;
	ml = strlen(mount);
	while (ml > 1 && mount[ml - 1] == '/')
		ml--;
	while (rel[0] == '/' && rel[1] == '/')
		rel++;
	rl = strlen(rel);
	while (rl > 1 && rel[rl - 1] == '/')
		rl--;
	if (rl == 1) /* the root itself */
		rl = 0;
	if (ml + rl >= size)
		return -ENAMETOOLONG;
	memcpy(ret, mount, ml);
	memcpy(ret + ml, rel, rl);
	ret[ml + rl] = '\0';
	return (int)(ml + rl);
}

int shk_cgroup_relative(const char *mount, const char *abs, char *ret,
			size_t size)
{
	size_t ml, al;
	const char *rest;

	if (!mount || !*mount || !abs || !ret || size == 0)
		return -EINVAL;
	ml = strlen(mount);
	while (ml > 1 && mount[ml - 1] == '/')
		ml--;
	if (strncmp(abs, mount, ml) || (abs[ml] != '/' && abs[ml] != '\0'))
		return -EXDEV;
	rest = abs + ml;
	if (check_rel(*rest ? rest : "/", *rest ? strlen(rest) : 1))
		return -EINVAL;
	while (rest[0] == '/' && rest[1] == '/')
		rest++;
	al = strlen(rest);
	while (al > 1 && rest[al - 1] == '/')
		al--;
	if (al == 0) {
		rest = "/";
		al = 1;
	}
	if (al >= size)
		return -ENAMETOOLONG;
	memcpy(ret, rest, al);
	ret[al] = '\0';
	return (int)al;
}

int shk_cgroup_version(int dfd)
{
	struct statfs sf;

	if (fstatfs(dfd, &sf) < 0)
		return -errno;
	if (sf.f_type == CGROUP2_SUPER_MAGIC)
		return 2;
	if (sf.f_type == CGROUP_SUPER_MAGIC)
		return 1;
	return -EMEDIUMTYPE;
}

int shk_cgroup_open(const char *path)
{
	int fd, v;

	if (!path || path[0] != '/')
		return -EINVAL;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Fail closed: whatever we write later (a pid, "1") must land in a
	 * cgroup file, never in some directory a bad path pointed at. */
	v = shk_cgroup_version(fd);
	if (v < 0) {
		close(fd);
		return v;
	}
	return fd;
}

static int open_file(int dfd, const char *name, int flags)
{
	int fd;

	if (!name || !*name || strchr(name, '/'))
		return -EINVAL;
	fd = openat(dfd, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	return fd < 0 ? -errno : fd;
}

ssize_t shk_cgroup_read(int dfd, const char *name, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t err = 0;
	int fd;

	if (!buf || size == 0)
		return -EINVAL;
	fd = open_file(dfd, name, O_RDONLY | O_NONBLOCK);
	if (fd < 0)
		return fd;
	while (len < size - 1) {
		ssize_t n = read(fd, buf + len, size - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (!err && len == size - 1) {
		char c;

		if (read(fd, &c, 1) == 1)
			err = -EFBIG;
	}
	close(fd);
	return err ? err : (ssize_t)len;
}

int shk_cgroup_write(int dfd, const char *name, const char *val)
{
	size_t len;
	ssize_t n;
	int fd, err = 0;

	if (!val)
		return -EINVAL;
	fd = open_file(dfd, name, O_WRONLY);
	if (fd < 0)
		return fd;
	len = strlen(val);
	do
		n = write(fd, val, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		err = -errno;
	else if ((size_t)n != len)
		err = -EIO;
	close(fd);
	return err;
}

int shk_cgroup_attach(int dfd, int pid)
{
	char num[16];

	if (pid <= 0)
		return -EINVAL;
	snprintf(num, sizeof(num), "%d", pid);
	return shk_cgroup_write(dfd, "cgroup.procs", num);
}

int shk_cgroup_for_each_proc(int dfd, int (*cb)(int pid, void *ctx),
			     void *ctx)
{
	char buf[4096];
	size_t have = 0;
	int fd, ret = 0;

	if (!cb)
		return -EINVAL;
	fd = open_file(dfd, "cgroup.procs", O_RDONLY);
	if (fd < 0)
		return fd;
	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);
		char *p, *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		if (n == 0 && have == 0)
			break;
		have += (size_t)n;
		buf[have] = '\0';
		if (n == 0 && buf[have - 1] != '\n')
			buf[have++] = '\n', buf[have] = '\0';
		p = buf;
		while ((nl = strchr(p, '\n'))) {
			char *e;
			long v;

			*nl = '\0';
			errno = 0;
			v = strtol(p, &e, 10);
			if (e != p && !*e && !errno && v > 0 && v <= INT32_MAX) {
				ret = cb((int)v, ctx);
				if (ret)
					goto out;
			}
			p = nl + 1;
		}
		have = (size_t)(buf + have - p);
		memmove(buf, p, have);
		if (have == sizeof(buf) - 1) {
			ret = -EINVAL; /* a "line" longer than any pid */
			break;
		}
		if (n == 0)
			break;
	}
out:
	close(fd);
	return ret;
}

struct walk {
	int (*cb)(int dfd, const char *path, void *ctx);
	void *ctx;
	unsigned dirs;
	char path[SHK_CGROUP_PATH_MAX];
};

/* Depth-first, pre-order. path holds the directory's absolute path, dfd
 * is open on it and is closed here. */
static int walk_dir(struct walk *w, int dfd, int depth)
{
	size_t plen = strlen(w->path);
	struct dirent *de;
	DIR *d;
	int ret;

	if (++w->dirs > SHK_CGROUP_WALK_DIRS) {
		close(dfd);
		return -E2BIG;
	}
	ret = w->cb(dfd, w->path, w->ctx);
	if (ret) {
		close(dfd);
		return ret;
	}
	d = fdopendir(dfd);
	if (!d) {
		ret = -errno;
		close(dfd);
		return ret;
	}
	while ((de = readdir(d))) {
		int cfd;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (depth >= SHK_CGROUP_WALK_DEPTH) {
			ret = -E2BIG;
			break;
		}
		if (plen + 1 + strlen(de->d_name) >= sizeof(w->path)) {
			ret = -ENAMETOOLONG;
			break;
		}
		cfd = openat(dirfd(d), de->d_name,
			     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (cfd < 0)
			continue; /* removed meanwhile */
		snprintf(w->path + plen, sizeof(w->path) - plen, "%s%s",
			 plen > 1 ? "/" : "", de->d_name);
		ret = walk_dir(w, cfd, depth + 1);
		w->path[plen] = '\0';
		if (ret)
			break;
	}
	closedir(d);
	return ret;
}

int shk_cgroup_for_each_subtree(const char *path,
				int (*cb)(int dfd, const char *path, void *ctx),
				void *ctx)
{
	struct walk *w;
	int fd, ret;

	if (!path || !cb || strlen(path) >= SHK_CGROUP_PATH_MAX)
		return -EINVAL;
	fd = shk_cgroup_open(path);
	if (fd < 0)
		return fd;
	w = calloc(1, sizeof(*w));
	if (!w) {
		close(fd);
		return -ENOMEM;
	}
	w->cb = cb;
	w->ctx = ctx;
	strcpy(w->path, path);
	ret = walk_dir(w, fd, 0);
	free(w);
	return ret;
}

struct find_id {
	uint64_t id;
	char *ret;
	size_t size;
	int len;
};

static int find_id_cb(int dfd, const char *path, void *ctx)
{
	struct find_id *f = ctx;
	struct stat st;

	if (fstat(dfd, &st) < 0 || (uint64_t)st.st_ino != f->id)
		return 0;
	if (strlen(path) >= f->size)
		return -ENAMETOOLONG;
	strcpy(f->ret, path);
	f->len = (int)strlen(path);
	return 1;
}

int shk_cgroup_find_by_id(const char *v2root, uint64_t id, char *ret,
			  size_t size)
{
	struct find_id f = { .id = id, .ret = ret, .size = size };
	int r;

	if (!v2root || !ret || size == 0 || id == 0)
		return -EINVAL;
	/* A walk, not open_by_handle_at(): that needs CAP_DAC_READ_SEARCH
	 * and gives an fd whose path we would still have to recover. */
	r = shk_cgroup_for_each_subtree(v2root, find_id_cb, &f);
	if (r == 1)
		return f.len;
	return r < 0 ? r : -ENOENT;
}

/* Is "key want" a line of the cgroup.events text? */
static bool events_has(const char *buf, const char *key, int want)
{
	size_t kl = strlen(key);
	const char *p = buf;

	while (p && *p) {
		if (!strncmp(p, key, kl) && p[kl] == ' ')
			return atoi(p + kl + 1) == want;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return false;
}

int shk_cgroup_wait_event(int dfd, const char *key, int want, int timeout_ms)
{
	int64_t deadline = shk_cgroup_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	unsigned step_us = 25;
	int fd, ret;

	if (!key)
		return -EINVAL;
	fd = open_file(dfd, "cgroup.events", O_RDONLY);
	if (fd < 0)
		return fd;
	for (;;) {
		char buf[256];
		struct pollfd pfd = { .fd = fd, .events = POLLPRI };
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
		int64_t left;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		buf[n] = '\0';
		if (events_has(buf, key, want)) {
			ret = 0;
			break;
		}
		left = deadline - shk_cgroup_now_ms();
		if (left <= 0) {
			ret = -ETIMEDOUT;
			break;
		}
		/* kernfs signals a change with POLLPRI|POLLERR; either way
		 * we re-read from offset 0 and check again. The kernel sends
		 * cgroup.events notifications at most once per 20 ms
		 * (CGROUP_FILE_NOTIFY_MIN_INTV), and a container's first
		 * freeze follows its "populated" change closely, so the
		 * wakeup is often late: re-read after 25 us, doubling up to
		 * a millisecond (a freeze usually lands within 100 us). */
		{
			struct timespec ts = { 0, (long)step_us * 1000 };

			if (ppoll(&pfd, 1, &ts, NULL) < 0 && errno != EINTR) {
				ret = -errno;
				break;
			}
			if (step_us < 1000)
				step_us *= 2;
		}
	}
	close(fd);
	return ret;
}

int shk_cgroup_mkdir(const char *parent, const char *name, char *ret,
		     size_t size)
{
	int dfd, err = 0;

	if (!name || !*name || strchr(name, '/') || !strcmp(name, ".") ||
	    !strcmp(name, "..") || !ret)
		return -EINVAL;
	if (snprintf(ret, size, "%s/%s", parent, name) >= (int)size)
		return -ENAMETOOLONG;
	dfd = shk_cgroup_open(parent);
	if (dfd < 0)
		return dfd;
	if (mkdirat(dfd, name, 0755) < 0 && errno != EEXIST)
		err = -errno;
	close(dfd);
	return err;
}
