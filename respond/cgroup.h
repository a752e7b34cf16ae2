/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Finding and touching cgroups: the mounts (from mountinfo), the cgroup of a
 * process (from /proc/PID/cgroup), a cgroup by id, and bounded reads and
 * writes of cgroup files relative to a directory fd.
 *
 * Mount points are discovered, never assumed: hosts mount cgroup v2 at
 * /sys/fs/cgroup (pure v2) or /sys/fs/cgroup/unified (hybrid), and v1
 * controllers wherever the init system put them. The mountinfo path is a
 * parameter so tests can feed fixture files.
 *
 * Paths "relative" to a hierarchy are what /proc/PID/cgroup shows: they
 * start with '/', which is the hierarchy's root.
 */
#ifndef SHRIKE_RESPOND_CGROUP_H
#define SHRIKE_RESPOND_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SHK_CGROUP_MOUNTINFO "/proc/self/mountinfo"
#define SHK_CGROUP_PATH_MAX 4096
/* Bounds of shk_cgroup_find_by_id() and of subtree walks. */
#define SHK_CGROUP_WALK_DEPTH 32
#define SHK_CGROUP_WALK_DIRS 65536

/* Absolute mount points; an empty string when the hierarchy is absent. */
struct shk_cgroup_mounts {
	char v2[SHK_CGROUP_PATH_MAX];
	char freezer[SHK_CGROUP_PATH_MAX]; /* v1 freezer hierarchy */
};

/*
 * Read mountinfo (NULL: SHK_CGROUP_MOUNTINFO) and fill *ret with the first
 * cgroup2 mount and the first v1 mount carrying the freezer controller.
 * Only mounts of a hierarchy's root ("/" in field 4) count: a bind mount of
 * a subtree cannot resolve the paths /proc/PID/cgroup shows.
 *
 * Returns 0 when at least one was found, -ENOENT when neither was, -errno
 * when the file cannot be read. *ret is written only on success.
 */
int shk_cgroup_mounts_discover(const char *mountinfo,
			       struct shk_cgroup_mounts *ret);

/*
 * Like the above for any v1 controller ("freezer", "cpu", "name=systemd"):
 * its mount point into ret (size bytes). Returns 0, -ENOENT, -ENAMETOOLONG
 * or -errno.
 */
int shk_cgroup_find_v1_mount(const char *mountinfo, const char *ctrl,
			     char *ret, size_t size);

/*
 * Pick one line out of a /proc/PID/cgroup text (buf, len bytes): the v2
 * line ("0::/path") when ctrl is NULL, else the v1 line whose controller
 * list holds ctrl. Copies the relative path into ret.
 *
 * Returns the path length, -ENOENT when there is no such line, -EXDEV when
 * the cgroup lies outside our cgroup namespace (the kernel shows "/.."),
 * -EINVAL for a malformed line, -ENAMETOOLONG when ret is too small.
 */
int shk_cgroup_parse_proc(const char *buf, size_t len, const char *ctrl,
			  char *ret, size_t size);

/* The same read from <proc_root>/<pid>/cgroup (proc_root NULL: "/proc"). */
int shk_cgroup_of_pid(const char *proc_root, int pid, const char *ctrl,
		      char *ret, size_t size);

/*
 * mount + rel into ret. rel must be absolute and free of "." and ".."
 * components; "//" and a trailing '/' are tolerated. Returns the length,
 * -EINVAL or -ENAMETOOLONG.
 */
int shk_cgroup_join(const char *mount, const char *rel, char *ret,
		    size_t size);

/*
 * The inverse: the relative path of abs inside the hierarchy mounted at
 * mount ("/" for the root itself). Returns the length, -EXDEV when abs is
 * not under mount, -EINVAL for "." or ".." components, -ENAMETOOLONG.
 */
int shk_cgroup_relative(const char *mount, const char *abs, char *ret,
			size_t size);

/*
 * Find the v2 cgroup whose id is id (the directory's inode number, which is
 * what bpf_get_current_cgroup_id() and the sensors report) by walking the
 * tree under v2root, depth-first, at most SHK_CGROUP_WALK_DEPTH levels and
 * SHK_CGROUP_WALK_DIRS directories. Writes the absolute path to ret.
 * Returns the length, -ENOENT when not found, -E2BIG when the bound was hit
 * before it was found, -errno.
 */
int shk_cgroup_find_by_id(const char *v2root, uint64_t id, char *ret,
			  size_t size);

/* Open a cgroup directory (O_DIRECTORY, O_NOFOLLOW on the last component).
 * Returns the fd or -errno; -EMEDIUMTYPE when it is not on a cgroup fs. */
int shk_cgroup_open(const char *path);

/* 2 (cgroup2), 1 (v1) or -EMEDIUMTYPE for a directory fd; -errno. */
int shk_cgroup_version(int dfd);

/*
 * Read the file name (a plain name, no '/') of the cgroup at dfd into buf,
 * NUL-terminated. Returns the length, -EFBIG when it does not fit (buf then
 * holds the first size - 1 bytes), -errno.
 */
ssize_t shk_cgroup_read(int dfd, const char *name, char *buf, size_t size);

/* Write val to the file name of the cgroup at dfd, in one write(2) as the
 * cgroup files expect. Returns 0 or -errno (as the kernel gave it). */
int shk_cgroup_write(int dfd, const char *name, const char *val);

/* Move process pid (all its threads) into the cgroup at dfd. 0 or -errno. */
int shk_cgroup_attach(int dfd, int pid);

/*
 * Call cb for each pid in the cgroup's cgroup.procs, streaming (the list
 * can be long). cb returns 0 to go on; anything else stops the walk and is
 * returned. Returns 0 at the end or -errno.
 */
int shk_cgroup_for_each_proc(int dfd, int (*cb)(int pid, void *ctx),
			     void *ctx);

/*
 * Call cb for the cgroup at path and each cgroup under it (pre-order),
 * with an open directory fd valid only during the call and the absolute
 * path. Bounded like shk_cgroup_find_by_id(); -E2BIG when the bound is hit.
 */
int shk_cgroup_for_each_subtree(const char *path,
				int (*cb)(int dfd, const char *path, void *ctx),
				void *ctx);

/*
 * Wait until the v2 cgroup.events line "key" shows value want, for at most
 * timeout_ms, sleeping in poll(POLLPRI) on cgroup.events, which the kernel
 * notifies on each change. Returns 0, -ETIMEDOUT, -errno.
 */
int shk_cgroup_wait_event(int dfd, const char *key, int want, int timeout_ms);

/*
 * Create (or reuse) the cgroup parent/name and return its absolute path in
 * ret. name must be a single component. Returns 0 or -errno.
 */
int shk_cgroup_mkdir(const char *parent, const char *name, char *ret,
		     size_t size);

/* A monotonic clock in ms, for the timeouts above. */
int64_t shk_cgroup_now_ms(void);

#endif /* SHRIKE_RESPOND_CGROUP_H */
