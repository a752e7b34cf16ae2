/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "decode.h"
#include "eval.h"
#include "proctable.h"
#include "syscalls.h"
#include "testlib.h"
#include "users.h"
#include "evfixture.h"

/* ---- hand-built records ----------------------------------------------- */



void rb_str(struct rb *r, struct shk_str *slot, const void *s, size_t len)
{
	slot->off = (uint16_t)r->pos;
	slot->len = (uint16_t)len;
	memcpy(r->b + r->pos, s, len);
	r->b[r->pos + len] = '\0';
	r->pos += len + 1;
}

void task_init(struct shk_task *t, uint32_t pid, uint32_t ppid, const char *comm)
{
	memset(t, 0, sizeof(*t));
	t->ppid = ppid;
	t->vpid = t->vtid = pid;
	t->uid = t->gid = t->euid = t->egid = 1000;
	t->loginuid = 1000;
	t->tty = 34816;
	t->mntns = HOST_MNTNS;
	t->start_ns = (uint64_t)pid * 1000;
	memcpy(t->comm, comm, strnlen(comm, SHK_COMM_LEN));
}

void decode(struct rb *r, struct shk_event *out)
{
	((struct shk_hdr *)r->b)->size = (uint32_t)r->pos;
	assert_int_equal(shk_decode(r->b, r->pos, out), 0);
}

/* argv as the kernel copies it: NUL after every argument */
size_t argv_bytes(char *out, const char *const *argv)
{
	size_t n = 0;

	for (; *argv; argv++) {
		strcpy(out + n, *argv);
		n += strlen(*argv) + 1;
	}
	return n;
}

struct shk_exec *exec_rec(struct rb *r, uint32_t pid, uint32_t ppid, const char *comm,
				 const char *exe, const char *const *argv, const char *cwd,
				 uint32_t flags)
{
	struct shk_exec *e = (struct shk_exec *)r->b;
	char args[1024];
	static const char env[] = "HOME=/home/alice\0PATH=/usr/bin\0";

	memset(r->b, 0, sizeof(*e));
	r->pos = sizeof(*e);
	e->hdr.type = SHK_EV_EXEC;
	e->hdr.abi = SHK_ABI_VERSION;
	e->hdr.pid = e->hdr.tid = pid;
	e->hdr.ts_ns = TS;
	task_init(&e->task, pid, ppid, comm);
	e->exe_flags = flags;
	e->exe_ino = 1234;
	e->std_type[0] = e->std_type[1] = e->std_type[2] = SHK_FD_CHAR;
	rb_str(r, &e->str[SHK_EXEC_EXE], exe, strlen(exe));
	rb_str(r, &e->str[SHK_EXEC_FILENAME], exe, strlen(exe));
	rb_str(r, &e->str[SHK_EXEC_ARGS], args, argv_bytes(args, argv));
	rb_str(r, &e->str[SHK_EXEC_ENV], env, sizeof(env) - 1);
	rb_str(r, &e->str[SHK_EXEC_CWD], cwd, strlen(cwd));
	return e;
}

struct shk_syscall *sys_rec(struct rb *r, const char *name, uint32_t pid, uint32_t ppid,
				   const char *comm, int64_t ret)
{
	struct shk_syscall *s = (struct shk_syscall *)r->b;
	const struct shk_sys_desc *d = shk_syscall_by_name(name);

	assert_non_null(d);
	memset(r->b, 0, sizeof(*s));
	r->pos = sizeof(*s);
	s->hdr.type = SHK_EV_SYSCALL;
	s->hdr.abi = SHK_ABI_VERSION;
	s->hdr.pid = s->hdr.tid = pid;
	s->hdr.ts_ns = TS;
	s->nr = (uint32_t)shk_syscall_nr(name);
	s->kind = d->kind;
	s->ret = ret;
	s->fd[0].fd = s->fd[1].fd = -1;
	task_init(&s->task, pid, ppid, comm);
	return s;
}

/* ---- fixture: systemd(1) > sshd(500) > bash(600) > the event's process */

struct rb rb;
struct shk_event ev;
struct shk_proctable *pt;
struct shk_users *users;
struct shk_evalctx ctx;
char host_root[4096];

void add_proc(uint32_t pid, uint32_t ppid, const char *comm, const char *exe,
		     const char *const *argv)
{
	struct rb *r = malloc(sizeof(*r));
	struct shk_event *e = malloc(sizeof(*e));

	exec_rec(r, pid, ppid, comm, exe, argv, "/", 0);
	decode(r, e);
	assert_int_equal(shk_proctable_apply(pt, e), 0);
	free(r);
	free(e);
}

int setup(void **state)
{
	snprintf(host_root, sizeof(host_root), "%s/root1", test_env("SHRIKE_TEST_DATA"));
	pt = shk_proctable_new(64);
	users = shk_users_new(64, 0);
	assert_non_null(pt);
	assert_non_null(users);
	add_proc(1, 0, "systemd", "/usr/lib/systemd/systemd", (const char *const[]){ "/sbin/init", NULL });
	add_proc(500, 1, "sshd", "/usr/sbin/sshd", (const char *const[]){ "sshd:", "alice", NULL });
	add_proc(600, 500, "bash", "/usr/bin/bash", (const char *const[]){ "-bash", NULL });
	assert_int_equal(shk_evalctx_init(&ctx), 0);
	ctx.procs = pt;
	ctx.users = users;
	ctx.hostname = "testhost";
	ctx.proc_root = "/nonexistent";
	ctx.host_root = host_root;
	ctx.host_mntns = HOST_MNTNS;
	ctx.boot_to_real_ns = BOOT_TO_REAL;
	return 0;
}

int teardown(void **state)
{
	shk_evalctx_fini(&ctx);
	shk_proctable_free(pt);
	shk_users_free(users);
	return 0;
}
