/* SPDX-License-Identifier: Apache-2.0 */
/* `shrike trace`: live decoded events, for rule authors and debugging. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "jsonw.h"
#include "session.h"
#include "syscalls.h"
#include "trace_print.h"

#define MAX_FILTER 64
#define FOLLOW_MAX 4096

static const char *const default_env[] = {
	"LD_PRELOAD", "LD_LIBRARY_PATH", "PATH", "HOME", "USER", "SHELL", "PWD",
	"SUDO_USER", "SSH_CONNECTION", "HISTFILE", "KUBERNETES_SERVICE_HOST", NULL,
};

struct trace {
	bool json;
	int pid;              /* 0: all; else this tgid and its descendants */
	const char *comm;
	const char *events[MAX_FILTER];
	int nevents;
	bool want_proc[4];    /* exec/fork/exit allowed by --event */
	struct trace_fmt fmt;
	char *env_list[MAX_FILTER + 1];
	int follow[FOLLOW_MAX]; /* tgids followed with --pid */
	int nfollow;
	struct session ses;
	struct jw w;
	uint64_t printed;
	FILE *out;
};

static void trace_usage(FILE *f)
{
	fprintf(f,
		"usage: shrike trace [options]\n"
		"\n"
		"Print every event the kernel sensors capture, decoded, one per line.\n"
		"\n"
		"options:\n"
		"  --json              one JSON object per line instead of text\n"
		"  --pid N             only process N and the processes it starts\n"
		"  --comm NAME         only tasks whose name (comm) is NAME\n"
		"  --event LIST        only these events, comma separated: exec, fork, exit\n"
		"                      and syscall names (see --list-events); only the listed\n"
		"                      syscalls are captured in the kernel\n"
		"  --env LIST          environment variables shown for exec (comma\n"
		"                      separated, or 'all'); default: LD_PRELOAD, PATH, ...\n"
		"  --ringbuf-mb N      kernel ring buffer size in MiB (default 8)\n"
		"  --compat            count 32-bit (int 0x80) syscalls, which are otherwise\n"
		"                      not seen; costs a program run on every syscall\n"
		"  --no-mount-tracefs  where tracefs is not mounted, do not mount it on\n"
		"                      /sys/kernel/tracing: capture through the sys_enter/\n"
		"                      sys_exit dispatchers (a program on every syscall)\n"
		"  --list-events       print the events that can be traced and exit\n"
		"  -v, --verbose       show libbpf and verifier messages\n"
		"  -h, --help          this help\n"
		"\n"
		"Prints 'shrike: ready' on stderr once the sensors are attached, and a\n"
		"summary (events, drops) on exit. Stop with Ctrl-C or SIGTERM.\n");
}

static bool follow_has(const struct trace *t, int pid)
{
	for (int i = 0; i < t->nfollow; i++)
		if (t->follow[i] == pid)
			return true;
	return false;
}

static void follow_del(struct trace *t, int pid)
{
	for (int i = 0; i < t->nfollow; i++)
		if (t->follow[i] == pid) {
			t->follow[i] = t->follow[--t->nfollow];
			return;
		}
}

static bool event_wanted(struct trace *t, const struct shk_event *ev)
{
	const char *name;

	if (t->pid) {
		int pid = (int)ev->hdr->pid;

		if (ev->type == SHK_EV_FORK && follow_has(t, (int)ev->fork->parent_pid) &&
		    !follow_has(t, pid) && t->nfollow < FOLLOW_MAX)
			t->follow[t->nfollow++] = pid;
		if (!follow_has(t, pid))
			return false;
		if (ev->type == SHK_EV_EXIT && pid != t->pid)
			follow_del(t, pid);
	}
	if (t->comm) {
		const char *c = ev->task ? ev->task->comm : ev->exit->comm;

		if (strncmp(c, t->comm, SHK_COMM_LEN))
			return false;
	}
	if (t->nevents) {
		if (ev->type == SHK_EV_EXEC || ev->type == SHK_EV_FORK || ev->type == SHK_EV_EXIT)
			return t->want_proc[ev->type];
		name = trace_event_name(ev);
		for (int i = 0; i < t->nevents; i++)
			if (!strcmp(t->events[i], name))
				return true;
		return false;
	}
	return true;
}

/* Enrich from the process table. User names need the process's own
 * /etc/passwd, so they are resolved for exec events only: doing it for every
 * open would slow the consumer down at high event rates. */
static void lookup_proc(struct trace *t, const struct shk_event *ev, struct trace_proc *out,
			char *user, size_t usersz)
{
	const struct shk_proc *p = shk_proctable_get(t->ses.procs, (int)ev->hdr->pid);
	const struct shk_proc *pp = p ? shk_proctable_parent(t->ses.procs, p) : NULL;

	memset(out, 0, sizeof(*out));
	if (p && p->exe.p)
		out->exe = p->exe.p;
	if (pp)
		out->pname = pp->comm;
	if (ev->type == SHK_EV_EXEC && t->ses.users) {
		char root[64];

		snprintf(root, sizeof(root), "/proc/%u/root", ev->hdr->pid);
		if (!shk_users_uid_name(t->ses.users, root, ev->task->uid, user, usersz)) {
			out->user = user;
		} else if (ev->task->mntns == t->ses.own_mntns &&
			   !shk_users_uid_name(t->ses.users, "/", ev->task->uid, user, usersz)) {
			/* gone already (short-lived), but it shared our mount
			 * namespace: our /etc/passwd is its /etc/passwd */
			out->user = user;
		}
	}
}

static int on_event(const struct shk_event *ev, void *ctx)
{
	struct trace *t = ctx;
	struct trace_proc proc;
	char user[64];

	if (!event_wanted(t, ev))
		return 0;
	lookup_proc(t, ev, &proc, user, sizeof(user));
	jw_reset(&t->w);
	if (t->json)
		trace_print_json(&t->w, &t->fmt, ev, &proc);
	else
		trace_print_text(&t->w, &t->fmt, ev, &proc);
	if (t->w.buf) {
		t->w.buf[t->w.len] = '\n';
		fwrite(t->w.buf, 1, t->w.len + 1, t->out);
	}
	t->printed++;
	return 0;
}

static int split_list(char *s, const char **out, int max)
{
	int n = 0;

	for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
		if (!*tok)
			continue;
		if (n == max)
			return -E2BIG;
		out[n++] = tok;
	}
	return n;
}

static void list_events(void)
{
	size_t n;
	const struct shk_sys_desc *d = shk_syscalls(&n);

	printf("exec\nfork\nexit\n");
	for (size_t i = 0; i < n; i++)
		printf("%s\n", d[i].name);
}

static int parse_int(const char *s, const char *opt, long min, long max, long *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max) {
		cli_err("%s: '%s' is not a number in [%ld, %ld]", opt, s, min, max);
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

int cmd_trace(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },	    { "pid", required_argument, NULL, 'p' },
		{ "comm", required_argument, NULL, 'c' },   { "event", required_argument, NULL, 'e' },
		{ "env", required_argument, NULL, 'E' },    { "ringbuf-mb", required_argument, NULL, 'r' },
		{ "list-events", no_argument, NULL, 'L' },  { "verbose", no_argument, NULL, 'v' },
		{ "compat", no_argument, NULL, 'C' },	    { "help", no_argument, NULL, 'h' },
		{ "no-mount-tracefs", no_argument, NULL, 'T' },
		{ 0 },
	};
	struct session_opts so = { .extra_fd = -1 };
	struct trace *t = calloc(1, sizeof(*t));
	char *events_arg = NULL, *env_arg = NULL;
	int c, err, ret = 1;
	long v;

	if (!t) {
		cli_err("out of memory");
		return 1;
	}
	t->out = stdout;
	t->fmt.env_names = default_env;
	jw_init(&t->w);
	optind = 1;
	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			t->json = true;
			break;
		case 'p':
			if (parse_int(optarg, "--pid", 1, 1 << 22, &v))
				goto usage;
			t->pid = (int)v;
			break;
		case 'c':
			t->comm = optarg;
			break;
		case 'e':
			events_arg = optarg;
			break;
		case 'E':
			env_arg = optarg;
			break;
		case 'r':
			if (parse_int(optarg, "--ringbuf-mb", 1, 4096, &v))
				goto usage;
			so.ringbuf_bytes = (size_t)v << 20;
			break;
		case 'L':
			list_events();
			ret = 0;
			goto out;
		case 'v':
			so.verbose = true;
			break;
		case 'C':
			so.compat_watch = true;
			break;
		case 'T':
			so.no_tracefs_mount = true;
			break;
		case 'h':
			trace_usage(stdout);
			ret = 0;
			goto out;
		default:
			goto usage;
		}
	}
	if (optind < argc) {
		cli_err("trace: unexpected argument '%s'", argv[optind]);
		goto usage;
	}
	if (events_arg) {
		t->nevents = split_list(events_arg, t->events, MAX_FILTER);
		if (t->nevents <= 0) {
			cli_err("--event: give a comma-separated list of events");
			goto usage;
		}
		for (int i = 0; i < t->nevents; i++) {
			const char *e = t->events[i];

			if (!strcmp(e, "exec"))
				t->want_proc[SHK_EV_EXEC] = true;
			else if (!strcmp(e, "fork"))
				t->want_proc[SHK_EV_FORK] = true;
			else if (!strcmp(e, "exit"))
				t->want_proc[SHK_EV_EXIT] = true;
			else if (!shk_syscall_by_name(e)) {
				cli_err("--event: unknown event '%s' (see shrike trace --list-events)", e);
				goto usage;
			}
		}
	}
	if (env_arg) {
		if (!strcmp(env_arg, "all")) {
			t->fmt.env_all = true;
		} else {
			int n = split_list(env_arg, (const char **)t->env_list, MAX_FILTER);

			if (n < 0) {
				cli_err("--env: too many names (max %d)", MAX_FILTER);
				goto usage;
			}
			t->env_list[n] = NULL;
			t->fmt.env_names = (const char *const *)t->env_list;
		}
	}
	if (t->pid) {
		if (kill(t->pid, 0) && errno == ESRCH) {
			cli_err("--pid: no process %d", t->pid);
			goto out;
		}
		t->follow[t->nfollow++] = t->pid;
	}

	so.on_event = on_event;
	so.ctx = t;
	so.out = t->out;
	if (session_start(&t->ses, &so))
		goto out;
	t->fmt.boot_to_real_ns = t->ses.boot_to_real_ns;
	if (t->nevents) {
		for (int i = 0; i < t->nevents; i++) {
			if (shk_syscall_by_name(t->events[i])) {
				err = shk_sensor_want(t->ses.sensor, t->events[i], true);
				if (err == -ENOENT)
					cli_warn("%s is not a syscall on this architecture", t->events[i]);
				else if (err)
					goto fail_interest;
			}
		}
	} else if ((err = shk_sensor_want_all(t->ses.sensor))) {
		goto fail_interest;
	}
	if (session_run(&t->ses, t->nevents ? "tracing selected events" : "tracing all events"))
		goto out;
	fflush(t->out);
	{
		char extra[64];

		snprintf(extra, sizeof(extra), "printed=%llu ", (unsigned long long)t->printed);
		session_summary(&t->ses, extra);
	}
	ret = 0;
	goto out;
fail_interest:
	cli_err("cannot select syscalls: %s", strerror(-err));
	goto out;
usage:
	fprintf(stderr, "see 'shrike trace --help'\n");
	ret = EXIT_USAGE;
out:
	session_stop(&t->ses);
	jw_free(&t->w);
	free(t);
	return ret;
}
