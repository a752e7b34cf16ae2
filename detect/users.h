/* SPDX-License-Identifier: Apache-2.0 */
/*
 * User and group names, as the process's own file system sees them.
 *
 * Names come from <root>/etc/passwd and <root>/etc/group, where root is
 * "/" for the host or "/proc/PID/root" for a process in a container, so a
 * container's uid 1000 gets the container's name. NSS (LDAP, sssd) is not
 * consulted: the agent must not block on the network per event.
 *
 * Answers, negative ones included, are cached per root directory (by its
 * st_dev and st_ino, so every process of one container shares them) in a
 * bounded cache. Entries expire after a TTL, or on shk_users_invalidate().
 *
 * The files are untrusted: they are opened without leaving root (symlinks
 * resolved inside it), must be regular files, are read only up to a bound,
 * and malformed or over-long lines are skipped.
 */
#ifndef SHRIKE_USERS_H
#define SHRIKE_USERS_H

#include <stddef.h>
#include <stdint.h>

#define SHK_USERS_NAME_MAX 64 /* longer names are looked up, never cached */
#define SHK_USERS_LINE_MAX 4096 /* longer lines are skipped */
#define SHK_USERS_FILE_MAX (16u << 20) /* bytes read from one file, at most */

struct shk_users;

/*
 * capacity: cached answers (> 0). ttl_ns: lifetime of an answer; 0 keeps
 * answers until shk_users_invalidate(). NULL with errno set on failure.
 */
struct shk_users *shk_users_new(size_t capacity, uint64_t ttl_ns);
void shk_users_free(struct shk_users *u);
/* Forget every cached answer (after a config reload, say). */
void shk_users_invalidate(struct shk_users *u);

/*
 * uid/gid -> name under root (NULL: "/"). Returns 0 with the name in out,
 * -ENOENT when the id has no entry (or the file is missing: the caller
 * then prints the number), -ENAMETOOLONG when out is too small, or -errno
 * when root cannot be opened.
 */
int shk_users_uid_name(struct shk_users *u, const char *root, uint32_t uid,
		       char *out, size_t outsz);
int shk_users_gid_name(struct shk_users *u, const char *root, uint32_t gid,
		       char *out, size_t outsz);

/* name -> uid/gid under root; same returns, the id in *ret_id. */
int shk_users_name_uid(struct shk_users *u, const char *root, const char *name,
		       uint32_t *ret_id);
int shk_users_name_gid(struct shk_users *u, const char *root, const char *name,
		       uint32_t *ret_id);

#endif /* SHRIKE_USERS_H */
