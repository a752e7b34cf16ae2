/* SPDX-License-Identifier: Apache-2.0 */
#include "freeze.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "safety.h"

/* v1 has no change notification: re-read freezer.state with a growing
 * pause. Reading is also what lets the v1 freezer notice it is done
 * (update_if_frozen() runs on read), so this is not just waiting. */
static int v1_wait_state(int dfd, const char *want, int timeout_ms)
{
	int64_t deadline = shk_cgroup_now_ms() + timeout_ms;
	useconds_t nap = 500;
	char buf[32];

	for (;;) {
		ssize_t n = shk_cgroup_read(dfd, "freezer.state", buf, sizeof(buf));

		if (n < 0)
			return (int)n;
		if (!strncmp(buf, want, strlen(want)) &&
		    (buf[strlen(want)] == '\n' || buf[strlen(want)] == '\0'))
			return 0;
		if (shk_cgroup_now_ms() >= deadline)
			return -ETIMEDOUT;
		usleep(nap);
		nap = nap < 8000 ? nap * 2 : nap;
	}
}

int shk_freeze_fd(int dfd, bool freeze, int timeout_ms)
{
	int ver = shk_cgroup_version(dfd), err;

	if (timeout_ms <= 0)
		timeout_ms = SHK_FREEZE_TIMEOUT_MS;
	if (ver == 2) {
		/* The root cgroup has no cgroup.freeze: -ENOENT. */
		err = shk_cgroup_write(dfd, "cgroup.freeze", freeze ? "1" : "0");
		if (err)
			return err;
		return shk_cgroup_wait_event(dfd, "frozen", freeze ? 1 : 0,
					     timeout_ms);
	}
	if (ver == 1) {
		const char *want = freeze ? "FROZEN" : "THAWED";

		err = shk_cgroup_write(dfd, "freezer.state", want);
		if (err)
			return err;
		return v1_wait_state(dfd, want, timeout_ms);
	}
	return ver;
}

int shk_freeze_cgroup(const struct shk_safety *s, const char *path,
		      int timeout_ms)
{
	int dfd, err;

	if (!s || !path)
		return -EINVAL;
	err = shk_safety_check_cgroup(s, path, NULL, 0);
	if (err)
		return err;
	dfd = shk_cgroup_open(path);
	if (dfd < 0)
		return dfd;
	err = shk_freeze_fd(dfd, true, timeout_ms);
	close(dfd);
	return err;
}

int shk_thaw_cgroup(const char *path, int timeout_ms)
{
	int dfd, err;

	if (!path)
		return -EINVAL;
	dfd = shk_cgroup_open(path);
	if (dfd < 0)
		return dfd;
	err = shk_freeze_fd(dfd, false, timeout_ms);
	close(dfd);
	return err;
}

int shk_cgroup_frozen(const char *path)
{
	char buf[512];
	ssize_t n;
	int dfd, ver, ret;

	dfd = shk_cgroup_open(path);
	if (dfd < 0)
		return dfd;
	ver = shk_cgroup_version(dfd);
	if (ver == 2) {
		n = shk_cgroup_read(dfd, "cgroup.events", buf, sizeof(buf));
		ret = n < 0 ? (int)n : strstr(buf, "frozen 1") != NULL;
	} else {
		n = shk_cgroup_read(dfd, "freezer.state", buf, sizeof(buf));
		ret = n < 0 ? (int)n : !strncmp(buf, "FROZEN", 6);
	}
	close(dfd);
	return ret;
}

struct evict {
	int dstfd;
	int err;
};

static int evict_cb(int pid, void *ctx)
{
	struct evict *e = ctx;
	int err = shk_cgroup_attach(e->dstfd, pid);

	if (err && err != -ESRCH && !e->err)
		e->err = err;
	return 0;
}

/* Move everyone in the cgroup at srcfd to dst (else to the hierarchy
 * root). */
static int evict_all(int srcfd, const char *dst, const char *mount)
{
	struct evict e = { .dstfd = shk_cgroup_open(dst) };
	int err;

	if (e.dstfd < 0)
		e.dstfd = shk_cgroup_open(mount);
	if (e.dstfd < 0)
		return e.dstfd;
	err = shk_cgroup_for_each_proc(srcfd, evict_cb, &e);
	close(e.dstfd);
	return err ? err : e.err;
}

int shk_freeze_process(const struct shk_safety *s,
		       const struct shk_cgroup_mounts *mounts,
		       const struct shk_pidref *ref, int timeout_ms,
		       struct shk_frozen *ret)
{
	char rel[SHK_CGROUP_PATH_MAX], qroot[SHK_CGROUP_PATH_MAX], name[64];
	struct shk_pidstat st;
	struct shk_frozen *f;
	const char *mount, *ctrl;
	int pfd, qfd = -1, err;

	if (!s || !mounts || !ref || !ret)
		return -EINVAL;
	if (mounts->v2[0]) {
		mount = mounts->v2;
		ctrl = NULL;
	} else if (mounts->freezer[0]) {
		mount = mounts->freezer;
		ctrl = "freezer";
	} else {
		return -ENOENT;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	pfd = shk_pidref_open(ref);
	if (pfd < 0) {
		free(f);
		return pfd;
	}
	err = shk_safety_check(s, ref->pid, NULL, 0);
	if (!err)
		err = shk_pidstat_read(NULL, ref->pid, &st);
	if (!err) {
		int n = shk_cgroup_of_pid(NULL, ref->pid, ctrl, rel, sizeof(rel));

		err = n < 0 ? n : 0;
	}
	if (!err) {
		int n = shk_cgroup_join(mount, rel, f->origin, sizeof(f->origin));

		err = n < 0 ? n : 0;
	}
	if (!err && !shk_pidfd_alive(pfd))
		err = -ESRCH;
	if (err)
		goto out;
	f->pid = ref->pid;
	f->start_ticks = st.start_ticks;
	f->v1 = ctrl != NULL;
	snprintf(name, sizeof(name), "%d-%llu", ref->pid,
		 (unsigned long long)st.start_ticks);
	err = shk_cgroup_mkdir(mount, SHK_QUARANTINE_DIR, qroot, sizeof(qroot));
	if (!err)
		err = shk_cgroup_mkdir(qroot, name, f->cgroup, sizeof(f->cgroup));
	if (err)
		goto out;
	qfd = shk_cgroup_open(f->cgroup);
	if (qfd < 0) {
		err = qfd;
		goto out_rmdir;
	}
	/* v2: frozen before the move, so the process stops on arrival. */
	if (!f->v1) {
		err = shk_cgroup_write(qfd, "cgroup.freeze", "1");
		if (err)
			goto out_rmdir;
	}
	err = shk_cgroup_attach(qfd, ref->pid);
	if (err)
		goto out_rmdir;
	if (!shk_pidfd_alive(pfd)) {
		/* It exited between the checks and the move: the pid we
		 * wrote may name a stranger by now. Send back whoever is in
		 * there; they were never ours to freeze. */
		evict_all(qfd, f->origin, mount);
		err = -ESRCH;
		goto out_rmdir;
	}
	err = shk_freeze_fd(qfd, true, timeout_ms);
	if (err && err != -ETIMEDOUT) {
		evict_all(qfd, f->origin, mount);
		goto out_rmdir;
	}
	*ret = *f;
	goto out;
out_rmdir:
	if (qfd >= 0)
		shk_freeze_fd(qfd, false, timeout_ms);
	rmdir(f->cgroup);
out:
	if (qfd >= 0)
		close(qfd);
	close(pfd);
	free(f);
	return err;
}

int shk_release_process(const struct shk_cgroup_mounts *mounts,
			const struct shk_frozen *f, int timeout_ms)
{
	const char *mount;
	int qfd, err, e2;

	if (!mounts || !f || !f->cgroup[0])
		return -EINVAL;
	mount = f->v1 ? mounts->freezer : mounts->v2;
	qfd = shk_cgroup_open(f->cgroup);
	if (qfd < 0)
		return qfd == -ENOENT ? 0 : qfd;
	err = shk_freeze_fd(qfd, false, timeout_ms);
	e2 = evict_all(qfd, f->origin, mount);
	if (!err)
		err = e2;
	close(qfd);
	if (rmdir(f->cgroup) < 0 && errno != ENOENT && !err)
		err = -errno;
	return err;
}
