/* SPDX-License-Identifier: Apache-2.0 */
#include "decode.h"

#include <errno.h>
#include <string.h>
#include "pathutil.h"

static const size_t fixed_size[SHK_EV_MAX] = {
	[SHK_EV_EXEC] = sizeof(struct shk_exec),
	[SHK_EV_FORK] = sizeof(struct shk_fork),
	[SHK_EV_EXIT] = sizeof(struct shk_exit),
	[SHK_EV_SYSCALL] = sizeof(struct shk_syscall),
};

/* A string slot is either absent ({0, 0}) or lies after the fixed part,
 * inside the record, and is NUL terminated at len. */
static int str_view(const char *rec, size_t size, size_t fixed, const struct shk_str *s,
		    struct shk_strv *out)
{
	out->p = NULL;
	out->len = 0;
	if (s->off == 0 && s->len == 0)
		return 0;
	if (s->off < fixed || (size_t)s->off + s->len + 1 > size)
		return -EBADMSG;
	if (rec[s->off + s->len] != '\0')
		return -EBADMSG;
	out->p = rec + s->off;
	out->len = s->len;
	return 0;
}

static void set_view(struct shk_strv *v, const char *p, size_t len)
{
	v->p = p;
	v->len = len;
}

/*
 * The absolute form of a path argument: the kernel-resolved path when there
 * is one, else the raw argument joined to its base directory and normalised
 * lexically. A relative path with no base stays relative (the kernel could
 * not resolve the directory): consumers see that it is not absolute.
 */
static void abs_path(struct shk_strv *out, char *buf, size_t bufsz, const struct shk_strv *resolved,
		     const struct shk_strv *raw, const struct shk_strv *base)
{
	int n;

	if (resolved && resolved->p) {
		*out = *resolved;
		return;
	}
	if (!raw->p || raw->len == 0) {
		set_view(out, NULL, 0);
		return;
	}
	if (raw->p[0] != '/' && !base->p) {
		*out = *raw;
		return;
	}
	n = shk_path_join(base->p, raw->p, buf, bufsz);
	if (n < 0) {
		*out = *raw;
		return;
	}
	set_view(out, buf, (size_t)n);
}

static int decode_syscall(const char *rec, size_t size, struct shk_event *ev)
{
	const struct shk_syscall *s = ev->sys;
	struct shk_strv *v = ev->str;
	int err;

	if (s->nr >= SHK_SYSCALL_MAX || s->kind >= SHK_K_MAX)
		return -EBADMSG;
	for (int i = 0; i < SHK_SYS_NFD; i++)
		if (s->fd[i].type >= SHK_FD_TYPE_MAX)
			return -EBADMSG;
	for (int i = 0; i < SHK_SYS_NSTR; i++) {
		err = str_view(rec, size, sizeof(*s), &s->str[i], &v[i]);
		if (err)
			return err;
	}
	abs_path(&ev->path, ev->path_buf, sizeof(ev->path_buf),
		 s->kind == SHK_K_SYMLINK || s->kind == SHK_K_SYMLINKAT ? NULL : &v[SHK_SYS_PATH],
		 &v[SHK_SYS_RAW], &v[SHK_SYS_BASE]);
	if (!ev->path.p && v[SHK_SYS_PATH].p)
		ev->path = v[SHK_SYS_PATH];
	abs_path(&ev->path2, ev->path2_buf, sizeof(ev->path2_buf), NULL, &v[SHK_SYS_RAW2],
		 &v[SHK_SYS_BASE2]);
	return 0;
}

int shk_decode(const void *data, size_t size, struct shk_event *ev)
{
	const char *rec = data;
	const struct shk_hdr *h = data;
	int err;

	memset(ev, 0, offsetof(struct shk_event, path_buf));
	if (!data || size < sizeof(*h))
		return -EBADMSG;
	if (h->abi != SHK_ABI_VERSION)
		return -EPROTO;
	if (h->size != size || h->type == 0 || h->type >= SHK_EV_MAX || !fixed_size[h->type] ||
	    size < fixed_size[h->type] || size > SHK_EVENT_MAX)
		return -EBADMSG;
	ev->type = h->type;
	ev->hdr = h;
	switch (h->type) {
	case SHK_EV_EXEC:
		ev->exec = data;
		ev->task = &ev->exec->task;
		for (int i = 0; i < SHK_EXEC_NSTR; i++) {
			err = str_view(rec, size, sizeof(*ev->exec), &ev->exec->str[i], &ev->str[i]);
			if (err)
				return err;
		}
		for (int i = 0; i < 3; i++)
			if (ev->exec->std_type[i] >= SHK_FD_TYPE_MAX)
				return -EBADMSG;
		return 0;
	case SHK_EV_FORK:
		ev->fork = data;
		ev->task = &ev->fork->task;
		return 0;
	case SHK_EV_EXIT:
		ev->exit = data;
		return 0;
	case SHK_EV_SYSCALL:
		ev->sys = data;
		ev->task = &ev->sys->task;
		return decode_syscall(rec, size, ev);
	default:
		return -EBADMSG;
	}
}
