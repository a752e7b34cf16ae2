/* SPDX-License-Identifier: Apache-2.0 */
#include "trace_print.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>

#include "render.h"
#include "syscalls.h"

/* Text output reuses the JSON writer's growable buffer. */
static void tput(struct jw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#include <stdarg.h>
static void tput(struct jw *w, const char *fmt, ...)
{
	char b[1024];
	va_list ap;
	int n;
	size_t len;

	va_start(ap, fmt);
	n = vsnprintf(b, sizeof(b), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	len = (size_t)n < sizeof(b) ? (size_t)n : sizeof(b) - 1;
	/* raw append: jw_* would quote it */
	if (w->len + len + 1 > w->cap) {
		size_t cap = w->cap ? w->cap : 1024;
		char *nb;

		while (cap < w->len + len + 1)
			cap *= 2;
		nb = realloc(w->buf, cap);
		if (!nb)
			return;
		w->buf = nb;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, b, len);
	w->len += len;
	w->buf[w->len] = '\0';
}

/* A string view printed for a terminal: non-printable bytes as \xNN,
 * NULs (argv separators) as spaces. */
static void tput_view(struct jw *w, const char *p, size_t n, bool nul_as_space)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == 0 && nul_as_space)
			tput(w, " ");
		else if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
			tput(w, "\\x%02x", c);
		else
			tput(w, "%c", c);
	}
}

const char *trace_event_name(const struct shk_event *ev)
{
	const struct shk_sys_desc *d;

	switch (ev->type) {
	case SHK_EV_EXEC:
		return "exec";
	case SHK_EV_FORK:
		return "fork";
	case SHK_EV_EXIT:
		return "exit";
	case SHK_EV_SYSCALL:
		d = shk_syscall_by_nr((int)ev->sys->nr);
		return d ? d->name : "unknown";
	default:
		return "unknown";
	}
}

/* ISO 8601 with ns. The date and time part is formatted once per second
 * (events arrive in bursts within the same second); the ns are digits. */
static void iso_time(const struct trace_fmt *fmt, uint64_t ts, char *out, size_t outsz)
{
	static __thread time_t cached_sec = -1;
	static __thread char cached[64];
	int64_t real = (int64_t)ts + fmt->boot_to_real_ns;
	time_t sec = (time_t)(real / 1000000000);
	uint32_t ns = (uint32_t)(real % 1000000000);
	char frac[11];

	if (sec != cached_sec) {
		struct tm tm;

		gmtime_r(&sec, &tm);
		snprintf(cached, sizeof(cached), "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		cached_sec = sec;
	}
	frac[0] = '.';
	for (int i = 9; i >= 1; i--) {
		frac[i] = (char)('0' + ns % 10);
		ns /= 10;
	}
	frac[10] = 'Z';
	{
		size_t cl = strlen(cached);

		if (cl + 12 <= outsz) {
			memcpy(out, cached, cl);
			memcpy(out + cl, frac, 11);
			out[cl + 11] = '\0';
		} else if (outsz) {
			out[0] = '\0';
		}
	}
}

/* "0x..." for a 64-bit mask, without snprintf. */
static const char *hex64(uint64_t v, char out[19])
{
	static const char digits[] = "0123456789abcdef";
	char tmp[16];
	int n = 0;

	do {
		tmp[n++] = digits[v & 15];
		v >>= 4;
	} while (v);
	out[0] = '0';
	out[1] = 'x';
	for (int i = 0; i < n; i++)
		out[2 + i] = tmp[n - 1 - i];
	out[2 + n] = '\0';
	return out;
}

static const char *comm_of(const struct shk_event *ev, char *out)
{
	const char *c = ev->task ? ev->task->comm : ev->exit->comm;

	memcpy(out, c, SHK_COMM_LEN);
	out[SHK_COMM_LEN] = '\0'; /* the kernel's copy is not trusted to be terminated */
	return out;
}

static void render_arg(const struct shk_sys_arg *a, uint64_t v, char *out, size_t outsz)
{
	switch (a->fmt) {
	case SHK_A_INT:
	case SHK_A_FD:
	case SHK_A_PID:
		snprintf(out, outsz, "%" PRId64, (int64_t)(int32_t)v);
		break;
	case SHK_A_UID:
	case SHK_A_GID:
		snprintf(out, outsz, "%" PRId64, (int64_t)(int32_t)v);
		break;
	case SHK_A_UINT:
		snprintf(out, outsz, "%" PRIu64, v);
		break;
	case SHK_A_OPEN_FLAGS:
		shk_render_open_flags(v, out, outsz);
		break;
	case SHK_A_MODE:
		shk_render_mode(v, out, outsz);
		break;
	case SHK_A_SIGNAL:
		shk_render_signal(v, out, outsz);
		break;
	case SHK_A_PTRACE_REQ:
		shk_render_ptrace_req(v, out, outsz);
		break;
	case SHK_A_DOMAIN:
		shk_render_domain(v, out, outsz);
		break;
	case SHK_A_SOCKTYPE:
		shk_render_socktype(v, out, outsz);
		break;
	case SHK_A_CLONE_FLAGS:
		shk_render_clone_flags(v, out, outsz);
		break;
	case SHK_A_PRCTL_OPT:
		shk_render_prctl_opt(v, out, outsz);
		break;
	case SHK_A_BPF_CMD:
		shk_render_bpf_cmd(v, out, outsz);
		break;
	default:
		snprintf(out, outsz, "0x%" PRIx64, v);
	}
}

static const char *exe_flag_names[] = { "memfd", "upper_layer", "writable", "lower_layer" };

static bool env_selected(const struct trace_fmt *fmt, const char *kv, size_t n)
{
	const char *eq = memchr(kv, '=', n);

	if (fmt->env_all)
		return true;
	if (!eq || !fmt->env_names)
		return false;
	for (const char *const *e = fmt->env_names; *e; e++)
		if (strlen(*e) == (size_t)(eq - kv) && !memcmp(*e, kv, (size_t)(eq - kv)))
			return true;
	return false;
}

/* Iterate NUL-separated items of a view. */
#define FOR_EACH_ITEM(v, p, n)                                                              \
	for (const char *p = (v)->p, *_end = (v)->p ? (v)->p + (v)->len : NULL; p && p < _end; \
	     p += strnlen(p, (size_t)(_end - p)) + 1)                                       \
		for (size_t n = strnlen(p, (size_t)(_end - p)), _once = 1; _once; _once = 0)

/* ---------------------------------------------------------------- JSON */

static void json_task(struct jw *w, const struct shk_task *t)
{
	char b[32];

	jw_key(w, "task");
	jw_obj_begin(w);
	jw_kuint(w, "ppid", t->ppid);
	jw_kuint(w, "vpid", t->vpid);
	jw_kuint(w, "vtid", t->vtid);
	jw_kuint(w, "uid", t->uid);
	jw_kuint(w, "gid", t->gid);
	jw_kuint(w, "euid", t->euid);
	jw_kuint(w, "egid", t->egid);
	jw_kint(w, "loginuid", (int32_t)t->loginuid);
	jw_kuint(w, "sessionid", t->sessionid);
	jw_kuint(w, "tty", t->tty);
	jw_kuint(w, "sid", t->sid);
	jw_kuint(w, "pidns", t->pidns);
	jw_kuint(w, "mntns", t->mntns);
	jw_kuint(w, "netns", t->netns);
	jw_kuint(w, "cgroup_id", t->cgroup_id);
	jw_kstr(w, "cap_eff", hex64(t->cap_eff, b));
	jw_kstr(w, "cap_prm", hex64(t->cap_prm, b));
	jw_kstr(w, "cap_inh", hex64(t->cap_inh, b));
	jw_kuint(w, "start_ns", t->start_ns);
	jw_obj_end(w);
}

static void json_fd(struct jw *w, const char *key, const struct shk_fd *fd, const struct shk_strv *extra)
{
	char b[128];

	if (fd->fd < 0 && fd->type == SHK_FD_NONE)
		return;
	jw_key(w, key);
	jw_obj_begin(w);
	jw_kint(w, "num", fd->fd);
	jw_kstr(w, "type", shk_fd_type_name(fd->type));
	b[0] = shk_fd_typechar(fd->type);
	b[1] = '\0';
	jw_kstr(w, "typechar", b);
	if (fd->type != SHK_FD_NONE) {
		jw_kuint(w, "ino", fd->ino);
		jw_kuint(w, "dev", fd->dev);
		jw_kstr(w, "flags", shk_render_open_flags(fd->flags, b, sizeof(b)));
	}
	if (fd->type == SHK_FD_IPV4 || fd->type == SHK_FD_IPV6 || fd->type == SHK_FD_UNIX ||
	    fd->type == SHK_FD_SOCK_OTHER || fd->type == SHK_FD_NETLINK) {
		jw_kstr(w, "domain", shk_render_domain(fd->family, b, sizeof(b)));
		jw_kstr(w, "socktype", shk_render_socktype(fd->sock_type, b, sizeof(b)));
		jw_kuint(w, "proto", fd->protocol);
	}
	if (fd->type == SHK_FD_IPV4 || fd->type == SHK_FD_IPV6) {
		jw_kstr(w, "local", shk_render_endpoint(fd, 0, b, sizeof(b)));
		jw_kstr(w, "remote", shk_render_endpoint(fd, 1, b, sizeof(b)));
		jw_kuint(w, "lport", fd->lport);
		jw_kuint(w, "rport", fd->rport);
	}
	if (fd->type == SHK_FD_UNIX && extra && extra->p)
		jw_kstrn(w, "path", extra->p, extra->len);
	jw_obj_end(w);
}

static void json_exec(struct jw *w, const struct trace_fmt *fmt, const struct shk_event *ev)
{
	const struct shk_exec *e = ev->exec;
	const struct shk_strv *s = ev->str;

	if (s[SHK_EXEC_EXE].p)
		jw_kstrn(w, "exe", s[SHK_EXEC_EXE].p, s[SHK_EXEC_EXE].len);
	if (s[SHK_EXEC_FILENAME].p)
		jw_kstrn(w, "filename", s[SHK_EXEC_FILENAME].p, s[SHK_EXEC_FILENAME].len);
	if (s[SHK_EXEC_INTERP].p)
		jw_kstrn(w, "interp", s[SHK_EXEC_INTERP].p, s[SHK_EXEC_INTERP].len);
	jw_kuint(w, "argc", e->argc);
	jw_key(w, "args");
	jw_arr_begin(w);
	FOR_EACH_ITEM(&s[SHK_EXEC_ARGS], p, n)
		jw_strn(w, p, n);
	jw_arr_end(w);
	jw_key(w, "env");
	jw_obj_begin(w);
	FOR_EACH_ITEM(&s[SHK_EXEC_ENV], p, n) {
		const char *eq = memchr(p, '=', n);

		if (eq && env_selected(fmt, p, n)) {
			char k[128];
			size_t kl = (size_t)(eq - p) < sizeof(k) - 1 ? (size_t)(eq - p) : sizeof(k) - 1;

			memcpy(k, p, kl);
			k[kl] = '\0';
			jw_kstrn(w, k, eq + 1, n - (size_t)(eq - p) - 1);
		}
	}
	jw_obj_end(w);
	if (s[SHK_EXEC_CWD].p)
		jw_kstrn(w, "cwd", s[SHK_EXEC_CWD].p, s[SHK_EXEC_CWD].len);
	if (s[SHK_EXEC_CGROUP].p)
		jw_kstrn(w, "cgroup", s[SHK_EXEC_CGROUP].p, s[SHK_EXEC_CGROUP].len);
	jw_kuint(w, "exe_ino", e->exe_ino);
	jw_kuint(w, "exe_dev", e->exe_dev);
	jw_kuint(w, "exe_mode", e->exe_mode);
	jw_kuint(w, "exe_ctime_ns", e->exe_ctime_ns);
	jw_kuint(w, "exe_mtime_ns", e->exe_mtime_ns);
	jw_kbool(w, "exe_memfd", e->exe_flags & SHK_EXE_MEMFD);
	jw_kbool(w, "exe_upper_layer", e->exe_flags & SHK_EXE_UPPER_LAYER);
	jw_kbool(w, "exe_lower_layer", e->exe_flags & SHK_EXE_LOWER_LAYER);
	jw_kbool(w, "exe_writable", e->exe_flags & SHK_EXE_WRITABLE);
	jw_kuint(w, "old_tid", e->old_tid);
	jw_kstr(w, "stdin", shk_fd_type_name(e->std_type[0]));
	jw_kstr(w, "stdout", shk_fd_type_name(e->std_type[1]));
	jw_kstr(w, "stderr", shk_fd_type_name(e->std_type[2]));
}

static void json_syscall(struct jw *w, const struct shk_event *ev)
{
	const struct shk_syscall *s = ev->sys;
	const struct shk_sys_desc *d = shk_syscall_by_nr((int)s->nr);
	const struct shk_strv *v = ev->str;
	char b[256];

	jw_kuint(w, "nr", s->nr);
	jw_kint(w, "ret", s->ret);
	jw_kstr(w, "res", shk_render_res(s->ret, b, sizeof(b)));
	jw_key(w, "args");
	jw_obj_begin(w);
	for (int i = 0; d && i < SHK_SYS_MAX_ARGS && d->args[i].name; i++) {
		render_arg(&d->args[i], s->args[d->args[i].idx], b, sizeof(b));
		jw_kstr(w, d->args[i].name, b);
	}
	if (s->kind == SHK_K_CREAT) /* creat() is open(O_CREAT|O_WRONLY|O_TRUNC) */
		jw_kstr(w, "flags", "O_WRONLY|O_CREAT|O_TRUNC");
	jw_obj_end(w);
	if (ev->path.p)
		jw_kstrn(w, "path", ev->path.p, ev->path.len);
	if (v[SHK_SYS_RAW].p)
		jw_kstrn(w, "raw", v[SHK_SYS_RAW].p, v[SHK_SYS_RAW].len);
	if (v[SHK_SYS_BASE].p)
		jw_kstrn(w, "base", v[SHK_SYS_BASE].p, v[SHK_SYS_BASE].len);
	if (ev->path2.p)
		jw_kstrn(w, "path2", ev->path2.p, ev->path2.len);
	if (v[SHK_SYS_RAW2].p)
		jw_kstrn(w, "raw2", v[SHK_SYS_RAW2].p, v[SHK_SYS_RAW2].len);
	if (v[SHK_SYS_EXTRA].p)
		jw_kstrn(w, "extra", v[SHK_SYS_EXTRA].p, v[SHK_SYS_EXTRA].len);
	json_fd(w, "fd_arg", &s->fd[SHK_FD_ARG], &v[SHK_SYS_EXTRA]);
	json_fd(w, "fd_res", &s->fd[SHK_FD_RES], &v[SHK_SYS_EXTRA]);
}

void trace_print_json(struct jw *w, const struct trace_fmt *fmt, const struct shk_event *ev,
		      const struct trace_proc *proc)
{
	char b[64], comm[SHK_COMM_LEN + 1];

	jw_obj_begin(w);
	iso_time(fmt, ev->hdr->ts_ns, b, sizeof(b));
	jw_kstr(w, "time", b);
	jw_kuint(w, "ts_ns", ev->hdr->ts_ns);
	jw_kstr(w, "event", trace_event_name(ev));
	jw_kuint(w, "pid", ev->hdr->pid);
	jw_kuint(w, "tid", ev->hdr->tid);
	jw_kuint(w, "cpu", ev->hdr->cpu);
	jw_kstr(w, "comm", comm_of(ev, comm));
	if (ev->hdr->flags & SHK_F_TRUNCATED)
		jw_kbool(w, "truncated", true);
	if (ev->task)
		json_task(w, ev->task);
	if (proc && proc->pname)
		jw_kstr(w, "pname", proc->pname);
	if (proc && proc->user)
		jw_kstr(w, "user", proc->user);
	if (proc && proc->exe && ev->type != SHK_EV_EXEC)
		jw_kstr(w, "proc_exe", proc->exe);
	switch (ev->type) {
	case SHK_EV_EXEC:
		json_exec(w, fmt, ev);
		break;
	case SHK_EV_FORK:
		jw_kuint(w, "parent_pid", ev->fork->parent_pid);
		jw_kuint(w, "parent_tid", ev->fork->parent_tid);
		break;
	case SHK_EV_EXIT:
		jw_kint(w, "exit_code", ev->exit->exit_code);
		break;
	case SHK_EV_SYSCALL:
		json_syscall(w, ev);
		break;
	default:
		break;
	}
	jw_obj_end(w);
}

/* ---------------------------------------------------------------- text */

static void text_fd(struct jw *w, const char *label, const struct shk_fd *fd, const struct shk_strv *extra)
{
	char b[128];

	if (fd->fd < 0 && fd->type == SHK_FD_NONE)
		return;
	tput(w, " %s=%d(%c", label, fd->fd, shk_fd_typechar(fd->type));
	if (fd->type == SHK_FD_IPV4 || fd->type == SHK_FD_IPV6)
		tput(w, " %s", shk_render_tuple(fd, b, sizeof(b)));
	else if (fd->type == SHK_FD_UNIX && extra && extra->p)
		tput(w, " %.*s", (int)extra->len, extra->p);
	tput(w, ")");
}

void trace_print_text(struct jw *w, const struct trace_fmt *fmt, const struct shk_event *ev,
		      const struct trace_proc *proc)
{
	char b[256], comm[SHK_COMM_LEN + 1];
	const struct shk_strv *s = ev->str;

	iso_time(fmt, ev->hdr->ts_ns, b, sizeof(b));
	tput(w, "%s %u %s(%u", b + 11, ev->hdr->cpu, comm_of(ev, comm), ev->hdr->pid);
	if (ev->hdr->tid != ev->hdr->pid)
		tput(w, "/%u", ev->hdr->tid);
	tput(w, ")");
	if (ev->task)
		tput(w, " ppid=%u", ev->task->ppid);
	if (proc && proc->pname)
		tput(w, "(%s)", proc->pname);
	if (ev->task)
		tput(w, " uid=%u", ev->task->uid);
	if (proc && proc->user)
		tput(w, "(%s)", proc->user);
	tput(w, " %s", trace_event_name(ev));
	switch (ev->type) {
	case SHK_EV_EXEC: {
		const struct shk_exec *e = ev->exec;

		tput(w, " exe=");
		tput_view(w, s[SHK_EXEC_EXE].p ? s[SHK_EXEC_EXE].p : "", s[SHK_EXEC_EXE].len, false);
		tput(w, " args=\"");
		/* argv ends with a NUL; drop it rather than print a space */
		tput_view(w, s[SHK_EXEC_ARGS].p ? s[SHK_EXEC_ARGS].p : "",
			  s[SHK_EXEC_ARGS].len && !s[SHK_EXEC_ARGS].p[s[SHK_EXEC_ARGS].len - 1] ?
				  s[SHK_EXEC_ARGS].len - 1 : s[SHK_EXEC_ARGS].len, true);
		tput(w, "\" cwd=");
		tput_view(w, s[SHK_EXEC_CWD].p ? s[SHK_EXEC_CWD].p : "", s[SHK_EXEC_CWD].len, false);
		tput(w, " std=%c%c%c", shk_fd_typechar(e->std_type[0]), shk_fd_typechar(e->std_type[1]),
		     shk_fd_typechar(e->std_type[2]));
		for (unsigned i = 0; i < 4; i++)
			if (e->exe_flags & (1u << i))
				tput(w, " %s", exe_flag_names[i]);
		if (e->task.tty)
			tput(w, " tty=%u", e->task.tty);
		tput(w, " cgroup=");
		tput_view(w, s[SHK_EXEC_CGROUP].p ? s[SHK_EXEC_CGROUP].p : "", s[SHK_EXEC_CGROUP].len, false);
		FOR_EACH_ITEM(&s[SHK_EXEC_ENV], p, n) {
			if (env_selected(fmt, p, n)) {
				tput(w, " env:");
				tput_view(w, p, n, false);
			}
		}
		break;
	}
	case SHK_EV_FORK:
		tput(w, " child=%u parent=%u", ev->hdr->pid, ev->fork->parent_pid);
		break;
	case SHK_EV_EXIT:
		tput(w, " code=%d", ev->exit->exit_code);
		break;
	case SHK_EV_SYSCALL: {
		const struct shk_syscall *sc = ev->sys;
		const struct shk_sys_desc *d = shk_syscall_by_nr((int)sc->nr);

		for (int i = 0; d && i < SHK_SYS_MAX_ARGS && d->args[i].name; i++) {
			render_arg(&d->args[i], sc->args[d->args[i].idx], b, sizeof(b));
			tput(w, " %s=%s", d->args[i].name, b);
		}
		if (ev->path.p) {
			tput(w, " path=");
			tput_view(w, ev->path.p, ev->path.len, false);
		}
		if (ev->path2.p) {
			tput(w, " path2=");
			tput_view(w, ev->path2.p, ev->path2.len, false);
		}
		if (s[SHK_SYS_EXTRA].p && sc->fd[0].type != SHK_FD_UNIX && sc->fd[1].type != SHK_FD_UNIX) {
			tput(w, " extra=");
			tput_view(w, s[SHK_SYS_EXTRA].p, s[SHK_SYS_EXTRA].len, false);
		}
		text_fd(w, "fd", &sc->fd[SHK_FD_ARG], &s[SHK_SYS_EXTRA]);
		text_fd(w, "newfd", &sc->fd[SHK_FD_RES], &s[SHK_SYS_EXTRA]);
		tput(w, " res=%s", sc->ret < 0 ? shk_render_errno(sc->ret, b, sizeof(b)) : "");
		if (sc->ret >= 0)
			tput(w, "%lld", (long long)sc->ret);
		break;
	}
	default:
		break;
	}
	if (ev->hdr->flags & SHK_F_TRUNCATED)
		tput(w, " (truncated)");
}
