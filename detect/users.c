/* SPDX-License-Identifier: Apache-2.0 */
#include "users.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* An answer may sit in any of this many slots after its hash: a little
 * associativity keeps two hot keys from evicting each other forever. */
#define WAYS 4

enum query_kind {
	Q_UID_NAME,
	Q_GID_NAME,
	Q_NAME_UID,
	Q_NAME_GID,
};

struct entry {
	bool used;
	uint8_t kind; /* enum query_kind */
	int err;      /* 0, or -ENOENT: a remembered miss */
	uint64_t dev, ino; /* the root directory */
	uint32_t id;
	uint64_t stamp; /* CLOCK_MONOTONIC ns when stored */
	char name[SHK_USERS_NAME_MAX];
};

struct shk_users {
	struct entry *ents;
	size_t capacity;
	uint64_t ttl_ns;
};

struct query {
	enum query_kind kind;
	uint64_t dev, ino;
	uint32_t id;      /* the id asked about, or found */
	const char *name; /* the name asked about */
	char found[SHK_USERS_LINE_MAX]; /* the name found */
};

/* Copy a string known to fit (callers check); cut it if it does not. */
static void str_copy(char *dst, size_t dstsz, const char *src)
{
	size_t len = strlen(src);

	if (len >= dstsz)
		len = dstsz - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bool by_name(enum query_kind k)
{
	return k == Q_NAME_UID || k == Q_NAME_GID;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h;
}

static size_t query_hash(const struct shk_users *u, const struct query *q)
{
	uint64_t h = mix(mix(mix(0, q->dev), q->ino), q->kind);

	if (by_name(q->kind)) {
		/* FNV-1a over the name */
		uint64_t f = 0xcbf29ce484222325ull;

		for (const char *p = q->name; *p; p++)
			f = (f ^ (unsigned char)*p) * 0x100000001b3ull;
		h = mix(h, f);
	} else {
		h = mix(h, q->id);
	}
	return (size_t)(h % u->capacity);
}

static bool entry_matches(const struct entry *e, const struct query *q)
{
	if (!e->used || e->kind != q->kind || e->dev != q->dev || e->ino != q->ino)
		return false;
	return by_name(q->kind) ? !strcmp(e->name, q->name) : e->id == q->id;
}

static bool expired(const struct shk_users *u, const struct entry *e,
		    uint64_t now)
{
	return u->ttl_ns && now - e->stamp >= u->ttl_ns;
}

static struct entry *cache_find(struct shk_users *u, const struct query *q,
				uint64_t now)
{
	size_t h = query_hash(u, q);

	for (size_t w = 0; w < WAYS && w < u->capacity; w++) {
		struct entry *e = &u->ents[(h + w) % u->capacity];

		if (entry_matches(e, q)) {
			if (!expired(u, e, now))
				return e;
			e->used = false;
		}
	}
	return NULL;
}

static void cache_store(struct shk_users *u, const struct query *q, int err,
			uint64_t now)
{
	const char *name = by_name(q->kind) ? q->name : q->found;
	size_t h = query_hash(u, q);
	struct entry *victim = NULL;

	if (!err && strlen(name) >= SHK_USERS_NAME_MAX)
		return;
	if (by_name(q->kind) && strlen(q->name) >= SHK_USERS_NAME_MAX)
		return;
	/* A free or expired slot, else the oldest of the ways. */
	for (size_t w = 0; w < WAYS && w < u->capacity; w++) {
		struct entry *e = &u->ents[(h + w) % u->capacity];

		if (!e->used || expired(u, e, now)) {
			victim = e;
			break;
		}
		if (!victim || e->stamp < victim->stamp)
			victim = e;
	}
	memset(victim, 0, sizeof(*victim));
	victim->used = true;
	victim->kind = (uint8_t)q->kind;
	victim->err = err;
	victim->dev = q->dev;
	victim->ino = q->ino;
	victim->id = q->id;
	victim->stamp = now;
	if (!err || by_name(q->kind))
		str_copy(victim->name, sizeof(victim->name), name);
}

/*
 * Open rel below rootfd as if rootfd were "/": absolute symlinks and ".."
 * stay inside it, so a container's /etc/passwd -> /etc/shadow symlink
 * cannot make us read the host's file.
 */
static int open_in_root(int rootfd, const char *rel)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));

	if (fd >= 0)
		return (int)fd;
	if (errno != ENOSYS)
		return -errno;
	/*
	 * Kernels before 5.6. Fail open, for names only: refuse a symlink
	 * as the file itself, accept the (rarer) symlinked directory.
	 */
	fd = openat(rootfd, rel, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
					 O_NOFOLLOW);
	return fd >= 0 ? (int)fd : -errno;
}

/*
 * One passwd or group line: "name:password:id:...". Both formats have the
 * id third and at least one field after it. Comments, NIS "+"/"-" lines
 * and anything malformed give false.
 */
static bool parse_line(char *line, char **ret_name, uint32_t *ret_id)
{
	char *c1, *c2, *p;
	uint64_t v = 0;

	if (line[0] == '#' || line[0] == '+' || line[0] == '-')
		return false;
	c1 = strchr(line, ':');
	if (!c1 || c1 == line)
		return false;
	c2 = strchr(c1 + 1, ':');
	if (!c2)
		return false;
	for (p = c2 + 1; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > UINT32_MAX)
			return false;
	}
	if (p == c2 + 1 || *p != ':')
		return false;
	*c1 = '\0';
	*ret_name = line;
	*ret_id = (uint32_t)v;
	return true;
}

static bool line_answers(char *line, struct query *q)
{
	char *name;
	uint32_t id;

	if (!parse_line(line, &name, &id))
		return false;
	if (by_name(q->kind)) {
		if (strcmp(name, q->name))
			return false;
		q->id = id;
		return true;
	}
	if (id != q->id)
		return false;
	/* name is shorter than the line buffer, so it fits found[] */
	str_copy(q->found, sizeof(q->found), name);
	return true;
}

/* Scan one file for the query. 0 when answered, -ENOENT when the file has
 * no answer or is missing or not a regular file, else -errno. */
static int scan_file(int rootfd, const char *rel, struct query *q)
{
	char line[SHK_USERS_LINE_MAX];
	size_t len = 0, total = 0;
	bool skip = false;
	struct stat st;
	int fd, c, err = -ENOENT;
	FILE *f;

	fd = open_in_root(rootfd, rel);
	if (fd < 0)
		return fd == -ELOOP ? -ENOENT : fd;
	/* A FIFO or device here would block or never end. */
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return -ENOENT;
	}
	f = fdopen(fd, "r");
	if (!f) {
		err = -errno;
		close(fd);
		return err;
	}
	while (total++ < SHK_USERS_FILE_MAX) {
		c = getc_unlocked(f);
		if (c == EOF || c == '\n') {
			if (!skip && len > 0) {
				line[len] = '\0';
				if (line_answers(line, q)) {
					err = 0;
					break;
				}
			}
			if (c == EOF)
				break;
			len = 0;
			skip = false;
			continue;
		}
		if (skip)
			continue;
		/* Over-long lines and lines with a NUL are not parsed. */
		if (c == '\0' || len + 1 >= sizeof(line)) {
			skip = true;
			continue;
		}
		line[len++] = (char)c;
	}
	if (err && ferror(f))
		err = -EIO;
	fclose(f);
	return err;
}

static int query_run(struct shk_users *u, const char *root, struct query *q)
{
	const char *file = q->kind == Q_UID_NAME || q->kind == Q_NAME_UID
				   ? "etc/passwd"
				   : "etc/group";
	uint64_t now = now_ns();
	const struct entry *e;
	struct stat st;
	int rootfd, err;

	rootfd = open(root ? root : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -errno;
	/* Key by the directory we opened, not by its name: the same
	 * container root is reached through many /proc/PID/root. */
	if (fstat(rootfd, &st)) {
		err = -errno;
		close(rootfd);
		return err;
	}
	q->dev = st.st_dev;
	q->ino = st.st_ino;

	e = cache_find(u, q, now);
	if (e) {
		close(rootfd);
		if (!e->err) {
			if (by_name(q->kind))
				q->id = e->id;
			else
				str_copy(q->found, sizeof(q->found), e->name);
		}
		return e->err;
	}
	err = scan_file(rootfd, file, q);
	close(rootfd);
	if (!err || err == -ENOENT)
		cache_store(u, q, err, now);
	return err;
}

static int id_to_name(struct shk_users *u, enum query_kind kind,
		      const char *root, uint32_t id, char *out, size_t outsz)
{
	struct query *q;
	int err;

	if (!u || !out || !outsz)
		return -EINVAL;
	/* Heap, not stack: the line-sized name buffer is large. */
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->kind = kind;
	q->id = id;
	err = query_run(u, root, q);
	if (!err) {
		size_t len = strlen(q->found);

		if (len >= outsz)
			err = -ENAMETOOLONG;
		else
			memcpy(out, q->found, len + 1);
	}
	free(q);
	return err;
}

static int name_to_id(struct shk_users *u, enum query_kind kind,
		      const char *root, const char *name, uint32_t *ret_id)
{
	struct query *q;
	int err;

	if (!u || !name || !*name || !ret_id || strchr(name, ':') ||
	    strchr(name, '\n'))
		return -EINVAL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->kind = kind;
	q->name = name;
	err = query_run(u, root, q);
	if (!err)
		*ret_id = q->id;
	free(q);
	return err;
}

int shk_users_uid_name(struct shk_users *u, const char *root, uint32_t uid,
		       char *out, size_t outsz)
{
	return id_to_name(u, Q_UID_NAME, root, uid, out, outsz);
}

int shk_users_gid_name(struct shk_users *u, const char *root, uint32_t gid,
		       char *out, size_t outsz)
{
	return id_to_name(u, Q_GID_NAME, root, gid, out, outsz);
}

int shk_users_name_uid(struct shk_users *u, const char *root, const char *name,
		       uint32_t *ret_id)
{
	return name_to_id(u, Q_NAME_UID, root, name, ret_id);
}

int shk_users_name_gid(struct shk_users *u, const char *root, const char *name,
		       uint32_t *ret_id)
{
	return name_to_id(u, Q_NAME_GID, root, name, ret_id);
}

struct shk_users *shk_users_new(size_t capacity, uint64_t ttl_ns)
{
	struct shk_users *u;

	if (capacity == 0) {
		errno = EINVAL;
		return NULL;
	}
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->ents = calloc(capacity, sizeof(*u->ents));
	if (!u->ents) {
		free(u);
		errno = ENOMEM;
		return NULL;
	}
	u->capacity = capacity;
	u->ttl_ns = ttl_ns;
	return u;
}

void shk_users_free(struct shk_users *u)
{
	if (!u)
		return;
	free(u->ents);
	free(u);
}

void shk_users_invalidate(struct shk_users *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->capacity; i++)
		u->ents[i].used = false;
}
