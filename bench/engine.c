/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rule engine benchmark: the upstream Falco rule files against a replayed,
 * in-memory stream of raw kernel records, on one core. No BPF, no root.
 *
 *   engine [-r RULES_DIR] [-n RECORDS] [-p PASSES] [-s SEED] [-m first|all]
 *
 * Setup (not timed as throughput):
 *   - load falco_rules.yaml, falco-incubating_rules.yaml and
 *     falco-sandbox_rules.yaml from RULES_DIR (default: $SHRIKE_FALCO_RULES,
 *     else the build's default) and compile them; load and compile are
 *     timed apart with CLOCK_MONOTONIC;
 *   - a process table holding a realistic tree (systemd > sshd > sshd >
 *     bash > make > cc1, cron, journald, containerd > containerd-shim >
 *     nginx/node, ...), installed from exec records;
 *   - RECORDS raw records (default 100000) laid out as the sensor writes
 *     them (bpf/shrike_abi.h): ~80% open/openat (libraries, ld.so.cache,
 *     /proc, sources, logs, some O_WRONLY|O_CREAT, some failing with
 *     ENOENT, some relative), ~8% exec, ~8% connect/accept (IPv4, IPv6,
 *     TCP and UDP), ~4% unlink, rename, setuid, ptrace, dup2, memfd_create.
 *
 * Each record then goes through what the agent does per event: shk_decode(),
 * shk_proctable_apply() and shk_eval_event() (rule_matching first, or all
 * with -m all). One warm-up pass, then PASSES timed passes (default 5).
 *
 * Timing: each event is bracketed by two reads of the time-stamp counter
 * (x86 rdtsc, about 7 ns, no syscall; elsewhere CLOCK_MONOTONIC through the
 * vDSO). The counter is converted to ns with a rate calibrated against
 * CLOCK_MONOTONIC over 100 ms. Median and p99 come from every per-event
 * sample of the timed passes. Throughput is events over the wall-clock time
 * (CLOCK_MONOTONIC) of the timed passes, clock reads included, so it is the
 * conservative figure.
 *
 * Exits 77 when the rule files are missing, 1 on any other failure, 2 when
 * a target is missed.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include "containers.h"
#include "decode.h"
#include "eval.h"
#include "proctable.h"
#include "rule_compile.h"
#include "rule_loader.h"
#include "syscalls.h"
#include "users.h"

#ifndef SHRIKE_FALCO_RULES_DEFAULT
#define SHRIKE_FALCO_RULES_DEFAULT ""
#endif

/* The targets. */
#define TARGET_EPS 1000000.0
#define TARGET_MEDIAN_NS 1000.0
#define TARGET_LOAD_MS 100.0

#define HOST_MNTNS 4026531841u
#define BOOT_NS 86400000000000ull /* the stream starts a day after boot */

static const char *const rule_files[] = {
	"falco_rules.yaml",
	"falco-incubating_rules.yaml",
	"falco-sandbox_rules.yaml",
};

/* ---- clocks ------------------------------------------------------------- */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t ticks(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __rdtsc();
#else
	return mono_ns();
#endif
}

/* ns per tick, against CLOCK_MONOTONIC */
static double calibrate(void)
{
	uint64_t t0 = mono_ns(), c0 = ticks(), t1, c1;

	do
		t1 = mono_ns();
	while (t1 - t0 < 100000000ull);
	c1 = ticks();
	return (double)(t1 - t0) / (double)(c1 - c0);
}

/* ---- deterministic randomness ------------------------------------------ */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return (uint32_t)((x >> 11) % n);
}

#define PICK(a) (a)[rnd(sizeof(a) / sizeof((a)[0]))]

/* ---- building raw records ---------------------------------------------- */

/* Records are packed into one buffer, each 8-byte aligned as the ring
 * buffer hands them out. */
struct stream {
	uint8_t *buf;
	size_t len, cap;
	uint32_t *off; /* record i starts at buf + off[i] */
	uint32_t n, max;
	uint64_t ts;
};

static uint8_t *rec_begin(struct stream *st, size_t fixed)
{
	uint8_t *r;

	st->len = (st->len + 7) & ~(size_t)7;
	if (st->len + SHK_EVENT_MAX > st->cap) {
		st->cap = st->cap * 2 + SHK_EVENT_MAX * 4;
		st->buf = realloc(st->buf, st->cap);
		if (!st->buf) {
			perror("engine: realloc");
			exit(1);
		}
	}
	r = st->buf + st->len;
	memset(r, 0, fixed);
	return r;
}

/* Append s (len bytes, NUL added) to the record being built. */
static void rec_str(struct stream *st, uint8_t *r, size_t *pos, struct shk_str *slot,
		    const void *s, size_t len)
{
	slot->off = (uint16_t)*pos;
	slot->len = (uint16_t)len;
	memcpy(r + *pos, s, len);
	r[*pos + len] = '\0';
	*pos += len + 1;
}

static void rec_cstr(struct stream *st, uint8_t *r, size_t *pos, struct shk_str *slot,
		     const char *s)
{
	if (s)
		rec_str(st, r, pos, slot, s, strlen(s));
}

static void rec_end(struct stream *st, uint8_t *r, size_t pos)
{
	((struct shk_hdr *)r)->size = (uint32_t)pos;
	if (st->off) {
		if (st->n == st->max) {
			fprintf(stderr, "engine: stream full\n");
			exit(1);
		}
		st->off[st->n++] = (uint32_t)(r - st->buf);
	}
	st->len += pos;
}

/* A process as the generator knows it: its task and image. */
struct gproc {
	uint32_t pid, ppid, uid;
	const char *comm, *exe, *cwd;
	const char *argv[8];
};

static void hdr_init(struct shk_hdr *h, uint16_t type, const struct gproc *p, uint64_t ts)
{
	h->type = type;
	h->abi = SHK_ABI_VERSION;
	h->ts_ns = ts;
	h->pid = h->tid = p->pid;
	h->cpu = p->pid % 2;
}

static void task_init(struct shk_task *t, const struct gproc *p)
{
	t->ppid = p->ppid;
	t->vpid = t->vtid = p->pid;
	t->uid = t->euid = p->uid;
	t->gid = t->egid = p->uid;
	t->loginuid = p->uid ? p->uid : UINT32_MAX;
	t->sessionid = p->uid ? 3 : UINT32_MAX;
	t->tty = p->uid ? 34816 : 0;
	t->pidns = 4026531836u;
	t->mntns = HOST_MNTNS;
	t->netns = 4026531840u;
	t->cgroup_id = 4242;
	if (p->uid == 0)
		t->cap_eff = t->cap_prm = 0x1ffffffffffull;
	/* parents start before children: the table's pid-reuse check */
	t->start_ns = (uint64_t)p->pid * 1000000ull;
	strncpy(t->comm, p->comm, SHK_COMM_LEN - 1);
}

static void exec_record(struct stream *st, const struct gproc *p)
{
	static const char env_user[] = "LANG=C.UTF-8\0PATH=/usr/local/bin:/usr/bin:/bin\0"
				       "HOME=/home/user\0USER=user\0SHELL=/bin/bash\0"
				       "TERM=xterm-256color\0SSH_CONNECTION=10.0.0.7 51234 10.0.0.2 22";
	static const char env_root[] = "LANG=C.UTF-8\0PATH=/usr/sbin:/usr/bin:/sbin:/bin\0"
				       "INVOCATION_ID=4f1c0e";
	struct shk_exec *e = (struct shk_exec *)rec_begin(st, sizeof(*e));
	uint8_t *r = (uint8_t *)e;
	size_t pos = sizeof(*e), alen = 0;
	char args[1024];

	hdr_init(&e->hdr, SHK_EV_EXEC, p, st->ts);
	task_init(&e->task, p);
	e->exe_ino = 100000 + p->pid % 977;
	e->exe_dev = 8u << 20 | 1;
	e->exe_mode = 0100755;
	e->exe_ctime_ns = e->exe_mtime_ns = 1690000000000000000ull;
	e->old_tid = p->pid;
	e->std_type[0] = e->std_type[1] = e->std_type[2] = p->uid ? SHK_FD_CHAR : SHK_FD_NONE;
	for (int i = 0; p->argv[i]; i++) {
		size_t n = strlen(p->argv[i]) + 1;

		memcpy(args + alen, p->argv[i], n);
		alen += n;
		e->argc++;
	}
	rec_cstr(st, r, &pos, &e->str[SHK_EXEC_EXE], p->exe);
	rec_cstr(st, r, &pos, &e->str[SHK_EXEC_FILENAME], p->exe);
	rec_str(st, r, &pos, &e->str[SHK_EXEC_ARGS], args, alen);
	if (p->uid)
		rec_str(st, r, &pos, &e->str[SHK_EXEC_ENV], env_user, sizeof(env_user) - 1);
	else
		rec_str(st, r, &pos, &e->str[SHK_EXEC_ENV], env_root, sizeof(env_root) - 1);
	rec_cstr(st, r, &pos, &e->str[SHK_EXEC_CWD], p->cwd);
	rec_cstr(st, r, &pos, &e->str[SHK_EXEC_CGROUP],
		 p->uid ? "/user.slice/user-1000.slice/session-3.scope" : "/system.slice");
	rec_end(st, r, pos);
}

static struct shk_syscall *sys_begin(struct stream *st, const struct gproc *p, const char *name,
				     int64_t ret)
{
	struct shk_syscall *s = (struct shk_syscall *)rec_begin(st, sizeof(*s));
	const struct shk_sys_desc *d = shk_syscall_by_name(name);
	int nr = shk_syscall_nr(name);

	if (!d || nr < 0) {
		fprintf(stderr, "engine: syscall %s unknown here\n", name);
		exit(1);
	}
	hdr_init(&s->hdr, SHK_EV_SYSCALL, p, st->ts);
	task_init(&s->task, p);
	s->nr = (uint32_t)nr;
	s->kind = d->kind;
	s->ret = ret;
	s->fd[0].fd = s->fd[1].fd = -1;
	return s;
}

/* ---- the process tree --------------------------------------------------- */

/* Long-lived processes, installed in the table before the stream. */
static const struct gproc tree[] = {
	{ 1, 0, 0, "systemd", "/usr/lib/systemd/systemd", "/", { "/sbin/init", "splash" } },
	{ 310, 1, 0, "systemd-journal", "/usr/lib/systemd/systemd-journald", "/",
	  { "/lib/systemd/systemd-journald" } },
	{ 402, 1, 101, "systemd-resolve", "/usr/lib/systemd/systemd-resolved", "/",
	  { "/lib/systemd/systemd-resolved" } },
	{ 420, 1, 0, "rsyslogd", "/usr/sbin/rsyslogd", "/", { "/usr/sbin/rsyslogd", "-n", "-iNONE" } },
	{ 450, 1, 0, "cron", "/usr/sbin/cron", "/", { "/usr/sbin/cron", "-f", "-P" } },
	{ 510, 1, 0, "containerd", "/usr/bin/containerd", "/", { "/usr/bin/containerd" } },
	{ 800, 1, 0, "sshd", "/usr/sbin/sshd", "/",
	  { "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups" } },
	{ 1200, 800, 0, "sshd", "/usr/sbin/sshd", "/", { "sshd: user [priv]" } },
	{ 1210, 1200, 1000, "sshd", "/usr/sbin/sshd", "/", { "sshd: user@pts/0" } },
	{ 1300, 1210, 1000, "bash", "/usr/bin/bash", "/home/user", { "-bash" } },
	{ 1500, 1300, 1000, "python3", "/usr/bin/python3.11", "/home/user/project",
	  { "python3", "manage.py", "runserver", "0.0.0.0:8000" } },
	{ 1600, 1300, 1000, "make", "/usr/bin/make", "/home/user/project", { "make", "-j2" } },
	{ 1610, 1600, 1000, "cc1", "/usr/lib/gcc/x86_64-linux-gnu/12/cc1", "/home/user/project",
	  { "/usr/lib/gcc/x86_64-linux-gnu/12/cc1", "-quiet", "src/parse.c", "-O2", "-o",
	    "/tmp/ccQ3xk2.s" } },
	{ 1700, 1300, 1000, "vim", "/usr/bin/vim.basic", "/home/user/project",
	  { "vim", "src/parse.c" } },
	{ 2000, 1, 0, "containerd-shim", "/usr/bin/containerd-shim-runc-v2", "/run/containerd",
	  { "/usr/bin/containerd-shim-runc-v2", "-namespace", "moby", "-id", "4b1e9c2f0a",
	    "-address", "/run/containerd/containerd.sock" } },
	{ 2010, 2000, 0, "nginx", "/usr/sbin/nginx", "/",
	  { "nginx: master process nginx -g daemon off;" } },
	{ 2011, 2010, 33, "nginx", "/usr/sbin/nginx", "/", { "nginx: worker process" } },
	{ 2100, 2000, 1000, "node", "/usr/local/bin/node", "/app", { "node", "server.js" } },
};

#define TREE_N (sizeof(tree) / sizeof(tree[0]))

/* Short-lived commands, exec'ed into a pool of pids in the stream. */
struct prog {
	uint32_t ppid, uid;
	const char *comm, *exe, *cwd;
	const char *argv[8];
};

static const struct prog progs[] = {
	{ 1300, 1000, "ls", "/usr/bin/ls", "/home/user/project", { "ls", "--color=auto", "-la" } },
	{ 1300, 1000, "git", "/usr/bin/git", "/home/user/project", { "git", "status", "-s" } },
	{ 1300, 1000, "git", "/usr/bin/git", "/home/user/project", { "git", "log", "--oneline", "-20" } },
	{ 1300, 1000, "curl", "/usr/bin/curl", "/home/user", { "curl", "-sSfL", "https://example.com/api/v1/status" } },
	{ 1300, 1000, "python3", "/usr/bin/python3.11", "/home/user/project", { "python3", "-m", "pytest", "-q", "tests/" } },
	{ 1300, 1000, "cat", "/usr/bin/cat", "/home/user/project", { "cat", "README.md" } },
	{ 1300, 1000, "grep", "/usr/bin/grep", "/home/user/project", { "grep", "-rn", "TODO", "src" } },
	{ 1600, 1000, "cc", "/usr/bin/x86_64-linux-gnu-gcc-12", "/home/user/project", { "cc", "-O2", "-c", "src/parse.c", "-o", "build/parse.o" } },
	{ 1600, 1000, "ld", "/usr/bin/x86_64-linux-gnu-ld.bfd", "/home/user/project", { "ld", "-o", "build/app", "build/parse.o" } },
	{ 450, 0, "sh", "/usr/bin/dash", "/root", { "/bin/sh", "-c", "test -x /usr/sbin/anacron || run-parts --report /etc/cron.daily" } },
	{ 450, 0, "run-parts", "/usr/bin/run-parts", "/root", { "run-parts", "--report", "/etc/cron.daily" } },
	{ 1200, 1000, "bash", "/usr/bin/bash", "/home/user", { "-bash" } },
	{ 1, 0, "systemd-tmpfile", "/usr/bin/systemd-tmpfiles", "/", { "systemd-tmpfiles", "--clean" } },
};

#define POOL_BASE 5000
#define POOL_N 64

/* ---- the stream --------------------------------------------------------- */

struct gen {
	struct stream *st;
	struct gproc pool[POOL_N];
	uint32_t next_fd;
	uint32_t tmp_seq;
};

/* Any live process, weighted toward the busy ones. */
static const struct gproc *busy_proc(struct gen *g)
{
	static const uint32_t pids[] = { 1610, 1610, 1610, 1500, 1500, 1300, 1700, 2011, 2011,
					 2100, 310, 420, 1, 1210, 402 };
	uint32_t r = rnd(10);

	if (r < 4)
		return &g->pool[rnd(POOL_N)];
	for (size_t i = 0; i < TREE_N; i++)
		if (tree[i].pid == PICK(pids))
			return &tree[i];
	return &tree[0];
}

static void gen_open(struct gen *g)
{
	static const char *const libs[] = {
		"/usr/lib/x86_64-linux-gnu/libc.so.6",
		"/usr/lib/x86_64-linux-gnu/libpthread.so.0",
		"/usr/lib/x86_64-linux-gnu/libssl.so.3",
		"/usr/lib/x86_64-linux-gnu/libcrypto.so.3",
		"/usr/lib/x86_64-linux-gnu/libz.so.1",
		"/usr/lib/x86_64-linux-gnu/libselinux.so.1",
		"/usr/lib/x86_64-linux-gnu/libpcre2-8.so.0",
		"/usr/lib/locale/locale-archive",
		"/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache",
	};
	static const char *const reads[] = {
		"/etc/ld.so.cache",
		"/etc/ld.so.cache",
		"/proc/self/status",
		"/proc/self/stat",
		"/proc/meminfo",
		"/proc/stat",
		"/sys/fs/cgroup/user.slice/memory.max",
		"/etc/nsswitch.conf",
		"/etc/passwd",
		"/etc/group",
		"/etc/hosts",
		"/etc/resolv.conf",
		"/etc/localtime",
		"/usr/share/zoneinfo/Etc/UTC",
		"/usr/lib/python3.11/os.py",
		"/usr/lib/python3.11/__pycache__/os.cpython-311.pyc",
		"/usr/lib/python3.11/json/__init__.py",
		"/usr/include/stdio.h",
		"/usr/include/x86_64-linux-gnu/bits/types.h",
		"/home/user/.bashrc",
		"/home/user/.gitconfig",
		"/home/user/project/.git/HEAD",
		"/home/user/project/.git/index",
		"/dev/null",
		"/dev/urandom",
		"/dev/pts/0",
		"/var/lib/dpkg/status",
		"/etc/nginx/nginx.conf",
		"/usr/share/nginx/html/index.html",
		"/app/node_modules/express/lib/router/index.js",
	};
	static const char *const srcs[] = { "main", "parse", "lexer", "eval", "util", "net", "io" };
	static const char *const missing[] = {
		"/etc/ld.so.preload",
		"/usr/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libc.so.6",
		"/usr/lib/python3.11/site-packages/yaml/__init__.py",
		"/home/user/.config/git/config",
		"/home/user/project/.git/MERGE_HEAD",
		"/usr/share/locale/C.UTF-8/LC_MESSAGES/coreutils.mo",
		"/etc/nginx/conf.d/default.conf.bak",
	};
	const struct gproc *p = busy_proc(g);
	struct shk_syscall *s;
	uint8_t *r;
	size_t pos = sizeof(*s);
	char path[256];
	const char *raw = NULL;
	bool relative = false;
	uint64_t flags = O_RDONLY | O_CLOEXEC, mode = 0;
	int64_t ret;
	uint32_t k = rnd(100);

	if (k < 25) {
		snprintf(path, sizeof(path), "%s", PICK(libs));
	} else if (k < 60) {
		/* the kernel resolves /proc/self to the pid */
		const char *f = PICK(reads);

		if (!strncmp(f, "/proc/self/", 11))
			snprintf(path, sizeof(path), "/proc/%u/%s", p->pid, f + 11);
		else
			snprintf(path, sizeof(path), "%s", f);
	} else if (k < 70) {
		/* sources of the project, often relative to the cwd */
		snprintf(path, sizeof(path), "/home/user/project/src/%s%s", PICK(srcs),
			 rnd(2) ? ".c" : ".h");
		relative = rnd(2);
	} else if (k < 76) {
		/* writes: logs, object files, temp files */
		uint32_t w = rnd(4);

		if (w == 0) {
			snprintf(path, sizeof(path), "/var/log/syslog");
			flags = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY;
			mode = 0640;
		} else if (w == 1) {
			snprintf(path, sizeof(path), "/tmp/cc%06u.o", g->tmp_seq++ % 1000);
			flags = O_RDWR | O_CREAT | O_TRUNC;
			mode = 0666;
		} else if (w == 2) {
			snprintf(path, sizeof(path), "/home/user/project/build/%s.o", PICK(srcs));
			flags = O_WRONLY | O_CREAT | O_TRUNC;
			mode = 0666;
		} else {
			snprintf(path, sizeof(path), "/var/log/nginx/access.log");
			flags = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC;
			mode = 0644;
		}
	} else if (k < 88) {
		snprintf(path, sizeof(path), "/proc/%u/%s", p->pid, rnd(2) ? "stat" : "cmdline");
	} else {
		snprintf(path, sizeof(path), "%s", PICK(missing));
	}
	ret = k >= 88 ? -ENOENT : (int64_t)(3 + g->next_fd++ % 60);
	/* one open in six is the legacy open(2) */
	s = sys_begin(g->st, p, rnd(6) ? "openat" : "open", ret);
	r = (uint8_t *)s;
	if (s->kind == SHK_K_OPEN) {
		s->args[1] = flags;
		s->args[2] = mode;
	} else {
		s->args[0] = (uint64_t)(int64_t)AT_FDCWD;
		s->args[2] = flags;
		s->args[3] = mode;
	}
	if (ret >= 0) {
		struct shk_fd *f = &s->fd[SHK_FD_RES];

		f->fd = (int32_t)ret;
		f->type = !strncmp(path, "/dev/", 5) ? SHK_FD_CHAR : SHK_FD_FILE;
		f->flags = (uint32_t)flags;
		f->dev = 8u << 20 | 1;
		f->ino = 200000 + strlen(path) * 31 + path[strlen(path) - 2];
		rec_cstr(g->st, r, &pos, &s->str[SHK_SYS_PATH], path);
	}
	if (relative && !strncmp(path, "/home/user/project/", 19)) {
		raw = path + 19;
		rec_cstr(g->st, r, &pos, &s->str[SHK_SYS_RAW], raw);
		rec_cstr(g->st, r, &pos, &s->str[SHK_SYS_BASE], "/home/user/project");
	} else {
		rec_cstr(g->st, r, &pos, &s->str[SHK_SYS_RAW], path);
	}
	rec_end(g->st, r, pos);
}

static void gen_exec(struct gen *g)
{
	uint32_t slot = rnd(POOL_N);
	const struct prog *pr = &progs[rnd(sizeof(progs) / sizeof(progs[0]))];
	struct gproc *p = &g->pool[slot];

	*p = (struct gproc){ .pid = POOL_BASE + slot, .ppid = pr->ppid, .uid = pr->uid,
			     .comm = pr->comm, .exe = pr->exe, .cwd = pr->cwd };
	memcpy(p->argv, pr->argv, sizeof(p->argv));
	exec_record(g->st, p);
}

static void ip4(uint8_t *a, uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3)
{
	a[0] = b0;
	a[1] = b1;
	a[2] = b2;
	a[3] = b3;
}

static void gen_net(struct gen *g)
{
	static const uint32_t clients[] = { 1500, 2100, 2100, 402, 1210 };
	const struct gproc *p = NULL;
	struct shk_syscall *s;
	struct shk_fd *f;
	uint32_t k = rnd(100), want;
	bool accept = k < 35, v6 = rnd(5) == 0, udp = !accept && rnd(4) == 0;

	if (accept) {
		want = rnd(3) ? 2011 : 800;
	} else if (rnd(3) == 0) {
		/* curl and friends from the pool */
		p = &g->pool[rnd(POOL_N)];
		want = 0;
	} else {
		want = PICK(clients);
	}
	for (size_t i = 0; !p && i < TREE_N; i++)
		if (tree[i].pid == want)
			p = &tree[i];
	if (accept) {
		s = sys_begin(g->st, p, rnd(2) ? "accept4" : "accept", 3 + g->next_fd++ % 60);
		f = &s->fd[SHK_FD_RES];
		f->fd = (int32_t)s->ret;
		s->args[0] = 6;
		f->lport = p->pid == 800 ? 22 : 80;
		f->rport = (uint16_t)(32768 + rnd(28000));
	} else {
		s = sys_begin(g->st, p, "connect", rnd(4) ? 0 : -EINPROGRESS);
		f = &s->fd[SHK_FD_ARG];
		f->fd = 5;
		s->args[0] = 5;
		f->lport = (uint16_t)(32768 + rnd(28000));
		f->rport = udp ? 53 : PICK(((const uint16_t[]){ 443, 443, 80, 5432, 6379, 8080 }));
	}
	f->type = v6 ? SHK_FD_IPV6 : SHK_FD_IPV4;
	f->family = v6 ? AF_INET6 : AF_INET;
	f->sock_type = udp ? SOCK_DGRAM : SOCK_STREAM;
	f->protocol = udp ? IPPROTO_UDP : IPPROTO_TCP;
	f->ino = 900000 + rnd(1000);
	if (v6) {
		inet_pton(AF_INET6, "2001:db8::2", f->laddr);
		inet_pton(AF_INET6, rnd(2) ? "2606:2800:220:1::248" : "2001:db8::7", f->raddr);
	} else if (udp) {
		ip4(f->laddr, 127, 0, 0, 1);
		ip4(f->raddr, 127, 0, 0, 53);
	} else {
		ip4(f->laddr, 10, 0, 0, 2);
		if (rnd(2))
			ip4(f->raddr, 93, 184, (uint8_t)rnd(256), (uint8_t)rnd(256));
		else
			ip4(f->raddr, 10, 0, (uint8_t)rnd(4), (uint8_t)(1 + rnd(250)));
	}
	rec_end(g->st, (uint8_t *)s, sizeof(*s));
}

static void gen_other(struct gen *g)
{
	const struct gproc *p;
	struct shk_syscall *s;
	uint8_t *r;
	size_t pos = sizeof(*s);
	char a[256], b[256];

	switch (rnd(6)) {
	case 0: /* the compiler removes its temp files */
		p = &tree[12];
		snprintf(a, sizeof(a), "/tmp/cc%06u.s", rnd(1000));
		s = sys_begin(g->st, p, "unlinkat", 0);
		r = (uint8_t *)s;
		s->args[0] = (uint64_t)(int64_t)AT_FDCWD;
		rec_cstr(g->st, r, &pos, &s->str[SHK_SYS_RAW], a);
		break;
	case 1: /* an editor's atomic save */
		p = &tree[13];
		snprintf(a, sizeof(a), "src/.parse.c.swp%u", rnd(10));
		snprintf(b, sizeof(b), "src/parse.c");
		s = sys_begin(g->st, p, "renameat", 0);
		r = (uint8_t *)s;
		s->args[0] = s->args[2] = (uint64_t)(int64_t)AT_FDCWD;
		rec_cstr(g->st, r, &pos, &s->str[SHK_SYS_RAW], a);
		rec_cstr(g->st, r, &pos, &s->str[SHK_SYS_BASE], "/home/user/project");
		rec_cstr(g->st, r, &pos, &s->str[SHK_SYS_RAW2], b);
		rec_cstr(g->st, r, &pos, &s->str[SHK_SYS_BASE2], "/home/user/project");
		break;
	case 2: /* sshd drops privileges: the entry-time task */
		p = &tree[7];
		s = sys_begin(g->st, p, "setuid", 0);
		r = (uint8_t *)s;
		s->hdr.flags |= SHK_F_ENTER_CTX;
		s->args[0] = 1000;
		break;
	case 3: /* a debugger peeking at its child */
		p = &g->pool[rnd(POOL_N)];
		s = sys_begin(g->st, p, "ptrace", 0);
		r = (uint8_t *)s;
		s->args[0] = PTRACE_PEEKDATA;
		s->args[1] = POOL_BASE + rnd(POOL_N);
		break;
	case 4: /* the shell redirects */
		p = &tree[9];
		s = sys_begin(g->st, p, "dup2", 1);
		r = (uint8_t *)s;
		s->args[0] = 3;
		s->args[1] = 1;
		s->fd[SHK_FD_ARG].fd = 3;
		s->fd[SHK_FD_ARG].type = SHK_FD_PIPE;
		s->fd[SHK_FD_RES].fd = 1;
		s->fd[SHK_FD_RES].type = SHK_FD_PIPE;
		break;
	default: /* node's JIT */
		p = &tree[17];
		s = sys_begin(g->st, p, "memfd_create", 3 + g->next_fd++ % 60);
		r = (uint8_t *)s;
		s->args[1] = 1; /* MFD_CLOEXEC */
		s->fd[SHK_FD_RES].fd = (int32_t)s->ret;
		s->fd[SHK_FD_RES].type = SHK_FD_MEMFD;
		rec_cstr(g->st, r, &pos, &s->str[SHK_SYS_EXTRA], "v8-code-space");
		break;
	}
	rec_end(g->st, r, pos);
}

static void gen_stream(struct stream *st, uint32_t n)
{
	struct gen g = { .st = st };

	/* the pool starts as bash children running ls */
	for (uint32_t i = 0; i < POOL_N; i++)
		g.pool[i] = (struct gproc){ POOL_BASE + i, 1300, 1000, "ls", "/usr/bin/ls",
					    "/home/user", { "ls" } };
	st->ts = BOOT_NS;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t k = rnd(100);

		st->ts += 1000 + rnd(20000);
		if (k < 80)
			gen_open(&g);
		else if (k < 88)
			gen_exec(&g);
		else if (k < 96)
			gen_net(&g);
		else
			gen_other(&g);
	}
}

/* ---- rules -------------------------------------------------------------- */

static struct shk_ruleset *load_rules(const char *dir, double *load_ms, double *compile_ms)
{
	struct shk_loader *ld = shk_loader_new();
	struct shk_ruleset *rs;
	char path[4096];
	uint64_t t0, t1, t2;

	if (!ld) {
		perror("engine: shk_loader_new");
		exit(1);
	}
	for (size_t i = 0; i < sizeof(rule_files) / sizeof(rule_files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, rule_files[i]);
		if (access(path, R_OK)) {
			fprintf(stderr, "engine: %s: %s: skipped\n", path, strerror(errno));
			exit(77);
		}
	}
	t0 = mono_ns();
	for (size_t i = 0; i < sizeof(rule_files) / sizeof(rule_files[0]); i++) {
		int err;

		snprintf(path, sizeof(path), "%s/%s", dir, rule_files[i]);
		err = shk_loader_load_file(ld, path);
		if (err < 0 && err != -EINVAL) {
			fprintf(stderr, "engine: %s: %s\n", path, strerror(-err));
			exit(1);
		}
	}
	t1 = mono_ns();
	rs = shk_ruleset_compile(ld);
	t2 = mono_ns();
	if (!rs) {
		perror("engine: shk_ruleset_compile");
		exit(1);
	}
	*load_ms = (double)(t1 - t0) / 1e6;
	*compile_ms = (double)(t2 - t1) / 1e6;
	return rs;
}

/* ---- replay ------------------------------------------------------------- */

struct bench {
	enum shk_rule_matching matching;
	struct shk_ruleset *rs;
	struct shk_proctable *pt;
	struct shk_users *users;
	struct shk_evalctx ctx;
	struct shk_event ev;
	uint32_t *hits; /* per rule */
};

static int on_match(const struct shk_rule *rule, struct shk_evalctx *ctx, void *data)
{
	struct bench *b = data;

	b->hits[rule->id]++;
	return 0;
}

/* decode, table, rules: what the agent does per record. */
static int one_event(struct bench *b, const uint8_t *rec)
{
	const struct shk_hdr *h = (const struct shk_hdr *)rec;
	int err, n;

	err = shk_decode(rec, h->size, &b->ev);
	if (err < 0)
		return err;
	b->ctx.ev = &b->ev;
	/* exit: evaluate while the table still knows the process */
	if (b->ev.type == SHK_EV_EXIT) {
		n = shk_eval_event(b->rs, &b->ctx, b->matching, on_match, b);
		shk_proctable_apply(b->pt, &b->ev);
		return n;
	}
	shk_proctable_apply(b->pt, &b->ev);
	return shk_eval_event(b->rs, &b->ctx, b->matching, on_match, b);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static double pct(uint32_t *v, size_t n, double q)
{
	size_t i;

	if (!n)
		return 0;
	i = (size_t)(q * (double)(n - 1));
	return v[i];
}

/* Per event type: samples and matches. */
struct typestat {
	uint32_t *t; /* ticks */
	size_t n, cap;
	uint64_t matches;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: engine [-r RULES_DIR] [-n RECORDS] [-p PASSES] [-s SEED] [-m first|all]\n");
}

int main(int argc, char **argv)
{
	const char *dir = getenv("SHRIKE_FALCO_RULES");
	uint32_t nrec = 100000, passes = 5;
	struct stream st = { 0 };
	struct bench b = { 0 };
	struct typestat types[SHK_EVTYPE_MAX];
	double load_ms, compile_ms, ns_per_tick, eps, med, p99;
	uint32_t *samples;
	double *pass_eps;
	uint64_t matches = 0, wall = 0, errors = 0;
	size_t ns = 0;
	int opt, rc = 0;

	while ((opt = getopt(argc, argv, "r:n:p:s:m:h")) != -1) {
		switch (opt) {
		case 'r':
			dir = optarg;
			break;
		case 'n':
			nrec = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'p':
			passes = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 's':
			/* xorshift needs a state other than 0 */
			rng_state = (strtoull(optarg, NULL, 0) + 1) * 0x9e3779b97f4a7c15ull | 1;
			break;
		case 'm':
			if (strcmp(optarg, "first") && strcmp(optarg, "all")) {
				usage(stderr);
				return 1;
			}
			b.matching = strcmp(optarg, "all") ? SHK_MATCH_FIRST : SHK_MATCH_ALL;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (!dir || !*dir)
		dir = SHRIKE_FALCO_RULES_DEFAULT;
	if (!*dir) {
		fprintf(stderr, "engine: no rules directory (-r or SHRIKE_FALCO_RULES): skipped\n");
		return 77;
	}
	if (!nrec || !passes) {
		usage(stderr);
		return 1;
	}

	b.rs = load_rules(dir, &load_ms, &compile_ms);
	b.hits = calloc(b.rs->nrules + 1, sizeof(*b.hits));
	b.pt = shk_proctable_new(4096);
	b.users = shk_users_new(4096, 10ull * 1000000000ull);
	if (!b.hits || !b.pt || !b.users || shk_evalctx_init(&b.ctx) < 0) {
		perror("engine: setup");
		return 1;
	}
	b.ctx.procs = b.pt;
	b.ctx.users = b.users;
	/* the container cache, as shrike run has one: identity is parsed
	 * once per cgroup, not on every event (roots that do not exist here:
	 * no metadata, only identity) */
	{
		struct shk_containers_opts co = { 0 };

		shk_ctr_roots_default(&co.roots);
		b.ctx.containers = shk_containers_new(&co);
	}
	b.ctx.hostname = "bench";
	b.ctx.host_mntns = HOST_MNTNS;
	b.ctx.boot_to_real_ns = 1700000000000000000ll;

	/* the long-lived processes: their exec records, applied once */
	st.ts = BOOT_NS - 1000000000ull;
	for (size_t i = 0; i < TREE_N; i++) {
		const struct shk_hdr *h;

		st.len = 0;
		exec_record(&st, &tree[i]);
		h = (const struct shk_hdr *)st.buf;
		if (shk_decode(h, h->size, &b.ev) || shk_proctable_apply(b.pt, &b.ev)) {
			fprintf(stderr, "engine: cannot install the process tree\n");
			return 1;
		}
	}

	st.len = 0;
	st.max = nrec;
	st.off = calloc(nrec, sizeof(*st.off));
	samples = calloc((size_t)nrec * passes, sizeof(*samples));
	pass_eps = calloc(passes, sizeof(*pass_eps));
	if (!st.off || !samples || !pass_eps) {
		perror("engine: calloc");
		return 1;
	}
	gen_stream(&st, nrec);
	memset(types, 0, sizeof(types));

	ns_per_tick = calibrate();
	for (uint32_t pass = 0; pass <= passes; pass++) {
		bool timed = pass > 0;
		uint64_t w0 = mono_ns();

		for (uint32_t i = 0; i < st.n; i++) {
			const uint8_t *rec = st.buf + st.off[i];
			uint64_t t0 = ticks();
			int n = one_event(&b, rec);
			uint64_t t1 = ticks();
			unsigned ty;
			struct typestat *ts;

			if (!timed)
				continue;
			if (n < 0) {
				errors++;
				continue;
			}
			samples[ns++] = (uint32_t)(t1 - t0 > UINT32_MAX ? UINT32_MAX : t1 - t0);
			matches += (uint64_t)n;
			ty = shk_evalctx_evtype(&b.ctx);
			if (ty >= SHK_EVTYPE_MAX)
				continue;
			ts = &types[ty];
			if (ts->n == ts->cap) {
				ts->cap = ts->cap * 2 + 1024;
				ts->t = realloc(ts->t, ts->cap * sizeof(*ts->t));
				if (!ts->t) {
					perror("engine: realloc");
					return 1;
				}
			}
			ts->t[ts->n++] = (uint32_t)(t1 - t0);
			ts->matches += (uint64_t)n;
		}
		if (timed) {
			uint64_t dt = mono_ns() - w0;

			wall += dt;
			pass_eps[pass - 1] = (double)st.n / ((double)dt / 1e9);
		}
	}

	qsort(samples, ns, sizeof(*samples), cmp_u32);
	eps = (double)ns / ((double)wall / 1e9);
	med = pct(samples, ns, 0.5) * ns_per_tick;
	p99 = pct(samples, ns, 0.99) * ns_per_tick;

	printf("rules: %u compiled, %u failed, %u skipped (%s), rule_matching %s\n", b.rs->nrules,
	       b.rs->nfailed, b.rs->nskipped, dir, b.matching == SHK_MATCH_ALL ? "all" : "first");
	printf("load: %.1f ms  compile: %.1f ms  total: %.1f ms\n", load_ms, compile_ms,
	       load_ms + compile_ms);
	printf("stream: %u records (%.1f MB), %u timed passes, clock: %s, %.3f ns/tick\n", st.n,
	       (double)st.len / 1e6, passes,
#if defined(__x86_64__) || defined(__i386__)
	       "rdtsc",
#else
	       "CLOCK_MONOTONIC",
#endif
	       ns_per_tick);
	printf("events: %zu  errors: %" PRIu64 "  matches: %" PRIu64 "\n", ns, errors, matches);
	printf("throughput: %.0f events/s  median: %.0f ns  p99: %.0f ns  mean: %.0f ns\n", eps, med,
	       p99, (double)wall / (double)(ns ? ns : 1));
	printf("passes (events/s):");
	for (uint32_t i = 0; i < passes; i++)
		printf(" %.0f", pass_eps[i]);
	printf("\n");
	printf("%-16s %8s %6s %10s %10s %8s\n", "type", "events", "share", "median_ns", "p99_ns",
	       "matches");
	for (unsigned t = 0; t < SHK_EVTYPE_MAX; t++) {
		char name[32];
		struct typestat *ts = &types[t];

		if (!ts->n)
			continue;
		if (shk_evtype_name(t, name, sizeof(name)) < 0)
			snprintf(name, sizeof(name), "#%u", t);
		qsort(ts->t, ts->n, sizeof(*ts->t), cmp_u32);
		printf("%-16s %8zu %5.1f%% %10.0f %10.0f %8" PRIu64 "\n", name, ts->n,
		       100.0 * (double)ts->n / (double)ns, pct(ts->t, ts->n, 0.5) * ns_per_tick,
		       pct(ts->t, ts->n, 0.99) * ns_per_tick, ts->matches);
		free(ts->t);
	}
	printf("rules that fired (all passes, warm-up included):\n");
	for (uint32_t i = 0; i < b.rs->nrules; i++)
		if (b.hits[i])
			printf("  %8u  %s\n", b.hits[i], b.rs->rules[i].name);

	printf("%s: throughput %.0f events/s (target >= %.0f)\n",
	       eps >= TARGET_EPS ? "PASS" : "FAIL", eps, TARGET_EPS);
	printf("%s: median %.0f ns/event (target <= %.0f)\n",
	       med <= TARGET_MEDIAN_NS ? "PASS" : "FAIL", med, TARGET_MEDIAN_NS);
	printf("%s: load+compile %.1f ms (target < %.0f)\n",
	       load_ms + compile_ms < TARGET_LOAD_MS ? "PASS" : "FAIL", load_ms + compile_ms,
	       TARGET_LOAD_MS);
	if (eps < TARGET_EPS || med > TARGET_MEDIAN_NS || load_ms + compile_ms >= TARGET_LOAD_MS)
		rc = 2;

	shk_evalctx_fini(&b.ctx);
	shk_users_free(b.users);
	shk_proctable_free(b.pt);
	shk_ruleset_free(b.rs);
	free(b.hits);
	free(samples);
	free(pass_eps);
	free(st.off);
	free(st.buf);
	return rc;
}
