/* SPDX-License-Identifier: Apache-2.0 */
#include "containers.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NIL UINT32_MAX
#define DEFAULT_CAPACITY 4096
#define DEFAULT_RETRY_MIN (250ull * 1000000ull)
#define DEFAULT_RETRY_MAX (30ull * 1000000000ull)
#define CGROUP_PATH_MAX 4096

enum ent_state {
	ENT_FREE = 0,
	ENT_HOST,    /* not a container: nothing to load */
	ENT_PENDING, /* a container whose metadata is not known yet */
	ENT_READY,   /* a container with its metadata */
};

struct ent {
	uint64_t cgid;
	uint32_t next;		 /* hash chain, or the free list */
	uint32_t prev_lru, next_lru; /* most recent first */
	enum ent_state state;
	char *path;		 /* v2 path, for the sweep */
	uint64_t next_try_ns;	 /* PENDING: not before this */
	uint64_t backoff_ns;
	uint32_t tries;
	struct shk_container pub;
	struct shk_ctr_meta meta;
};

struct shk_containers {
	struct shk_containers_opts o;
	char *roots[3]; /* owned copies of o.roots */
	char *cgroup_root, *proc_root;
	struct ent *e;
	uint32_t cap, nbuckets, used;
	uint32_t *buckets;
	uint32_t free_head, lru_head, lru_tail;
	struct shk_containers_stats st;
};

static uint32_t bucket_of(const struct shk_containers *c, uint64_t cgid)
{
	cgid ^= cgid >> 33;
	cgid *= 0xff51afd7ed558ccdull;
	cgid ^= cgid >> 33;
	return (uint32_t)cgid & (c->nbuckets - 1);
}

static char *dup_opt(const char *s, bool *oom)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}

struct shk_containers *shk_containers_new(const struct shk_containers_opts *o)
{
	struct shk_containers *c = calloc(1, sizeof(*c));
	size_t cap = o->capacity ? o->capacity : DEFAULT_CAPACITY;
	bool oom = false;

	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	if (cap > (1u << 24)) {
		free(c);
		errno = EINVAL;
		return NULL;
	}
	c->o = *o;
	c->cap = (uint32_t)cap;
	for (c->nbuckets = 16; c->nbuckets < c->cap; c->nbuckets <<= 1)
		;
	c->roots[0] = dup_opt(o->roots.containerd, &oom);
	c->roots[1] = dup_opt(o->roots.crio, &oom);
	c->roots[2] = dup_opt(o->roots.docker, &oom);
	c->o.roots = (struct shk_ctr_roots){ c->roots[0], c->roots[1], c->roots[2] };
	c->cgroup_root = dup_opt(o->cgroup_root, &oom);
	c->proc_root = dup_opt(o->proc_root ? o->proc_root : "/proc", &oom);
	c->o.cgroup_root = c->cgroup_root;
	c->o.proc_root = c->proc_root;
	if (!c->o.retry_min_ns)
		c->o.retry_min_ns = DEFAULT_RETRY_MIN;
	if (!c->o.retry_max_ns)
		c->o.retry_max_ns = DEFAULT_RETRY_MAX;
	if (c->o.retry_max_ns < c->o.retry_min_ns)
		c->o.retry_max_ns = c->o.retry_min_ns;
	c->e = calloc(c->cap, sizeof(*c->e));
	c->buckets = malloc(c->nbuckets * sizeof(*c->buckets));
	if (oom || !c->e || !c->buckets) {
		shk_containers_free(c);
		errno = ENOMEM;
		return NULL;
	}
	memset(c->buckets, 0xff, c->nbuckets * sizeof(*c->buckets));
	for (uint32_t i = 0; i < c->cap; i++)
		c->e[i].next = i + 1 < c->cap ? i + 1 : NIL;
	c->free_head = 0;
	c->lru_head = c->lru_tail = NIL;
	return c;
}

static void ent_clear(struct ent *e)
{
	shk_ctr_meta_free(&e->meta);
	free(e->path);
	memset(e, 0, sizeof(*e));
}

void shk_containers_free(struct shk_containers *c)
{
	if (!c)
		return;
	if (c->e)
		for (uint32_t i = 0; i < c->cap; i++)
			if (c->e[i].state != ENT_FREE)
				ent_clear(&c->e[i]);
	free(c->e);
	free(c->buckets);
	for (int i = 0; i < 3; i++)
		free(c->roots[i]);
	free(c->cgroup_root);
	free(c->proc_root);
	free(c);
}

/* ---- the table: hash chains, LRU list, free list ------------------------ */

static void lru_unlink(struct shk_containers *c, uint32_t i)
{
	struct ent *e = &c->e[i];

	if (e->prev_lru != NIL)
		c->e[e->prev_lru].next_lru = e->next_lru;
	else
		c->lru_head = e->next_lru;
	if (e->next_lru != NIL)
		c->e[e->next_lru].prev_lru = e->prev_lru;
	else
		c->lru_tail = e->prev_lru;
}

static void lru_push(struct shk_containers *c, uint32_t i)
{
	struct ent *e = &c->e[i];

	e->prev_lru = NIL;
	e->next_lru = c->lru_head;
	if (c->lru_head != NIL)
		c->e[c->lru_head].prev_lru = i;
	c->lru_head = i;
	if (c->lru_tail == NIL)
		c->lru_tail = i;
}

static uint32_t find(const struct shk_containers *c, uint64_t cgid)
{
	for (uint32_t i = c->buckets[bucket_of(c, cgid)]; i != NIL; i = c->e[i].next)
		if (c->e[i].cgid == cgid)
			return i;
	return NIL;
}

static void remove_ent(struct shk_containers *c, uint32_t i)
{
	uint32_t *pp = &c->buckets[bucket_of(c, c->e[i].cgid)];

	while (*pp != i)
		pp = &c->e[*pp].next;
	*pp = c->e[i].next;
	lru_unlink(c, i);
	ent_clear(&c->e[i]);
	c->e[i].next = c->free_head;
	c->free_head = i;
	c->used--;
}

static uint32_t insert(struct shk_containers *c, uint64_t cgid)
{
	uint32_t i, b;

	if (c->free_head == NIL) {
		remove_ent(c, c->lru_tail);
		c->st.evictions++;
	}
	i = c->free_head;
	c->free_head = c->e[i].next;
	b = bucket_of(c, cgid);
	c->e[i].cgid = cgid;
	c->e[i].next = c->buckets[b];
	c->buckets[b] = i;
	lru_push(c, i);
	c->used++;
	return i;
}

/* ---- identification and metadata ---------------------------------------- */

/* The v2 path of pid's cgroup ("0::" line of /proc/<pid>/cgroup). */
static char *proc_cgroup(const struct shk_containers *c, int pid)
{
	char path[4200], buf[CGROUP_PATH_MAX + 64], *line, *nl;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%d/cgroup", c->o.proc_root, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	for (line = buf; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (!strncmp(line, "0::/", 4))
			return strdup(line + 3);
	}
	return NULL;
}

/* Read the metadata of a pending container now. Failures leave it pending
 * with a longer backoff: never a permanent answer. */
static void try_load(struct shk_containers *c, struct ent *e, uint64_t now_ns)
{
	int err;

	if (e->tries++)
		c->st.retries++;
	err = shk_ctr_meta_load(&c->o.roots, e->pub.ident.runtime, e->pub.ident.id, &e->meta);
	if (!err) {
		e->state = ENT_READY;
		e->pub.meta = &e->meta;
		c->st.loads++;
		return;
	}
	if (err == -EBADMSG)
		c->st.parse_errors++;
	else
		c->st.misses++;
	e->backoff_ns = e->backoff_ns ? e->backoff_ns * 2 : c->o.retry_min_ns;
	if (e->backoff_ns > c->o.retry_max_ns)
		e->backoff_ns = c->o.retry_max_ns;
	e->next_try_ns = now_ns + e->backoff_ns;
}

const struct shk_container *shk_containers_get(struct shk_containers *c, uint64_t cgid,
					       const char *path, int pid, uint64_t now_ns)
{
	uint32_t i = find(c, cgid);
	char *own = NULL;
	struct ent *e;

	if (i != NIL) {
		e = &c->e[i];
		lru_unlink(c, i);
		lru_push(c, i);
		c->st.hits++;
		if (e->state == ENT_PENDING && now_ns >= e->next_try_ns)
			try_load(c, e, now_ns);
		return &e->pub;
	}
	if (!path && pid > 0)
		path = own = proc_cgroup(c, pid);
	if (!path || strnlen(path, CGROUP_PATH_MAX) >= CGROUP_PATH_MAX) {
		free(own);
		return NULL;
	}
	if (!own && !(own = strdup(path)))
		return NULL;
	c->st.lookups++;
	e = &c->e[insert(c, cgid)];
	e->path = own;
	e->state = shk_cgroup_ident_parse(own, &e->pub.ident) ? ENT_PENDING : ENT_HOST;
	if (e->state == ENT_PENDING)
		try_load(c, e, now_ns);
	return &e->pub;
}

void shk_containers_forget(struct shk_containers *c, uint64_t cgid)
{
	uint32_t i = find(c, cgid);

	if (i == NIL)
		return;
	remove_ent(c, i);
	c->st.gone++;
}

/* A cgroup v2 id is its directory's inode number in cgroupfs: a path that
 * is gone, or now names a new cgroup of the same name, is not ours. */
static bool cgroup_alive(int rootfd, const struct ent *e)
{
	const char *rel = e->path;
	struct stat st;

	while (*rel == '/')
		rel++;
	if (fstatat(rootfd, *rel ? rel : ".", &st, AT_SYMLINK_NOFOLLOW))
		return errno != ENOENT && errno != ENOTDIR;
	return (uint64_t)st.st_ino == e->cgid;
}

size_t shk_containers_sweep(struct shk_containers *c)
{
	size_t n = 0;
	int rootfd;

	if (!c->o.cgroup_root)
		return 0;
	rootfd = open(c->o.cgroup_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return 0; /* cannot tell: keep everything */
	for (uint32_t i = 0; i < c->cap; i++) {
		if (c->e[i].state == ENT_FREE || cgroup_alive(rootfd, &c->e[i]))
			continue;
		remove_ent(c, i);
		c->st.gone++;
		n++;
	}
	close(rootfd);
	return n;
}

void shk_containers_stats(const struct shk_containers *c, struct shk_containers_stats *ret)
{
	*ret = c->st;
	ret->size = c->used;
	ret->capacity = c->cap;
}
