/* SPDX-License-Identifier: Apache-2.0 */
#include "qstate.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "freeze.h"
#include "isolate.h"

#define STATE_FILE "quarantine.json"
#define STATE_MAX (16u << 20) /* a state file bigger than this is refused */

static int lock_dir(const char *dir)
{
	char path[1200];
	int fd;

	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/.lock", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX)) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

static void copy(char *dst, size_t size, const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	snprintf(dst, size, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

static int load_locked(const char *dir, struct shk_qrec **ret, size_t *ret_n)
{
	char path[1200], *buf = NULL;
	struct shk_qrec *v = NULL;
	cJSON *root = NULL, *it;
	size_t n = 0;
	struct stat st;
	int fd, err = 0;

	*ret = NULL;
	*ret_n = 0;
	snprintf(path, sizeof(path), "%s/" STATE_FILE, dir);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > STATE_MAX) {
		err = -EINVAL;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf || read(fd, buf, (size_t)st.st_size) != st.st_size) {
		err = buf ? -EIO : -ENOMEM;
		goto out;
	}
	buf[st.st_size] = '\0';
	root = cJSON_Parse(buf);
	if (!cJSON_IsArray(root)) {
		err = -EBADMSG; /* never guess at a damaged record of live quarantines */
		goto out;
	}
	v = calloc((size_t)cJSON_GetArraySize(root) + 1, sizeof(*v));
	if (!v) {
		err = -ENOMEM;
		goto out;
	}
	cJSON_ArrayForEach(it, root) {
		struct shk_qrec *r = &v[n++];
		const cJSON *num;

		num = cJSON_GetObjectItemCaseSensitive(it, "id");
		r->id = cJSON_IsNumber(num) ? (uint32_t)num->valuedouble : 0;
		num = cJSON_GetObjectItemCaseSensitive(it, "time");
		r->time = cJSON_IsNumber(num) ? (int64_t)num->valuedouble : 0;
		num = cJSON_GetObjectItemCaseSensitive(it, "pid");
		r->pid = cJSON_IsNumber(num) ? (int)num->valuedouble : 0;
		copy(r->kind, sizeof(r->kind), it, "kind");
		copy(r->cgroup, sizeof(r->cgroup), it, "cgroup");
		copy(r->rule, sizeof(r->rule), it, "rule");
		copy(r->pod, sizeof(r->pod), it, "pod");
		r->pod_removed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "pod_removed"));
	}
	*ret = v;
	*ret_n = n;
	v = NULL;
out:
	free(v);
	cJSON_Delete(root);
	free(buf);
	close(fd);
	return err;
}

/* Write all records to a temp file, fsync it, rename it over the state
 * file and fsync the directory: a crash leaves the old or the new file,
 * never half of one. */
static int save_locked(const char *dir, const struct shk_qrec *v, size_t n)
{
	char path[1200], tmp[1200];
	cJSON *root = cJSON_CreateArray();
	char *text = NULL;
	int fd = -1, dfd, err = 0;
	size_t len;

	if (!root)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		if (!o) {
			err = -ENOMEM;
			goto out;
		}
		cJSON_AddNumberToObject(o, "id", v[i].id);
		cJSON_AddStringToObject(o, "kind", v[i].kind);
		cJSON_AddStringToObject(o, "cgroup", v[i].cgroup);
		cJSON_AddStringToObject(o, "rule", v[i].rule);
		cJSON_AddNumberToObject(o, "time", (double)v[i].time);
		cJSON_AddNumberToObject(o, "pid", v[i].pid);
		if (v[i].pod[0])
			cJSON_AddStringToObject(o, "pod", v[i].pod);
		if (v[i].pod_removed)
			cJSON_AddTrueToObject(o, "pod_removed");
		cJSON_AddItemToArray(root, o);
	}
	text = cJSON_Print(root);
	if (!text) {
		err = -ENOMEM;
		goto out;
	}
	len = strlen(text);
	snprintf(path, sizeof(path), "%s/" STATE_FILE, dir);
	snprintf(tmp, sizeof(tmp), "%s/." STATE_FILE ".tmp", dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1 || fsync(fd)) {
		err = -errno ?: -EIO;
		goto out;
	}
	if (rename(tmp, path)) {
		err = -errno;
		goto out;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
out:
	if (fd >= 0)
		close(fd);
	free(text);
	cJSON_Delete(root);
	return err;
}

int shk_qstate_load(const char *dir, struct shk_qrec **ret, size_t *ret_n)
{
	int lk = lock_dir(dir), err;

	if (lk < 0)
		return lk;
	err = load_locked(dir, ret, ret_n);
	close(lk);
	return err;
}

/*
 * Records of cgroups that no longer exist describe nothing in force (the
 * runtime removed the container): dropped when a record is added, so the
 * file, which every action rewrites, does not grow with history.
 */
static size_t prune_gone(struct shk_qrec *v, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		struct stat st;

		if (stat(v[i].cgroup, &st) && errno == ENOENT)
			continue;
		v[k++] = v[i];
	}
	return k;
}

int shk_qstate_add(const char *dir, struct shk_qrec *rec)
{
	struct shk_qrec *v = NULL, *nv;
	size_t n = 0;
	uint32_t max = 0;
	int lk = lock_dir(dir), err;

	if (lk < 0)
		return lk;
	err = load_locked(dir, &v, &n);
	if (err)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (v[i].id > max)
			max = v[i].id;
	rec->id = max + 1;
	n = prune_gone(v, n);
	nv = realloc(v, (n + 1) * sizeof(*v));
	if (!nv) {
		err = -ENOMEM;
		goto out;
	}
	v = nv;
	v[n++] = *rec;
	err = save_locked(dir, v, n);
out:
	free(v);
	close(lk);
	return err;
}

int shk_qstate_remove(const char *dir, uint32_t id)
{
	struct shk_qrec *v = NULL;
	size_t n = 0, k = 0;
	int lk = lock_dir(dir), err;

	if (lk < 0)
		return lk;
	err = load_locked(dir, &v, &n);
	if (!err) {
		for (size_t i = 0; i < n; i++)
			if (v[i].id != id)
				v[k++] = v[i];
		err = k == n ? -ENOENT : save_locked(dir, v, k);
	}
	free(v);
	close(lk);
	return err;
}

int shk_qstate_mark_pod_removed(const char *dir, uint32_t id)
{
	struct shk_qrec *v = NULL;
	size_t n = 0;
	int lk = lock_dir(dir), err;

	if (lk < 0)
		return lk;
	err = load_locked(dir, &v, &n);
	if (!err) {
		err = -ENOENT;
		for (size_t i = 0; i < n; i++)
			if (v[i].id == id) {
				v[i].pod_removed = true;
				err = save_locked(dir, v, n);
				break;
			}
	}
	free(v);
	close(lk);
	return err;
}

static bool kind_has(const char *kind, const char *what)
{
	return !strcmp(kind, what) || !strcmp(kind, "quarantine");
}

int shk_qstate_release(const char *dir, const struct shk_qrec *r, struct shk_isolator **iso,
		       char *msg, size_t msgsz)
{
	int err;

	if (kind_has(r->kind, "freeze")) {
		err = shk_thaw_cgroup(r->cgroup, 1000);
		if (err && err != -ENOENT) {
			snprintf(msg, msgsz, "cannot thaw %s: %s", r->cgroup, strerror(-err));
			return err;
		}
	}
	if (kind_has(r->kind, "isolate")) {
		struct shk_isolation *h;

		if (!*iso) {
			struct shk_isolator_opts io = { .pin_dir = SHK_ISOLATE_PIN_DIR };

			*iso = shk_isolator_new(&io);
			err = *iso ? shk_isolator_reattach(*iso) : -errno;
			if (err < 0) {
				snprintf(msg, msgsz, "cannot open the pinned isolations: %s", strerror(-err));
				return err;
			}
		}
		h = shk_isolator_find(*iso, r->cgroup);
		if (h && (err = shk_release_cgroup(*iso, h)) < 0) {
			snprintf(msg, msgsz, "cannot remove the isolation of %s: %s", r->cgroup,
				 strerror(-err));
			return err;
		}
	}
	err = shk_qstate_remove(dir, r->id);
	if (err) {
		snprintf(msg, msgsz, "released, but the record stays: %s", strerror(-err));
		return err;
	}
	snprintf(msg, msgsz, "released %u: %s of %s (rule: %s)", r->id, r->kind, r->cgroup, r->rule);
	return 0;
}
