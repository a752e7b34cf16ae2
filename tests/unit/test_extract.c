// SPDX-License-Identifier: Apache-2.0
/*
 * Field extraction: values and rendered forms of the fields the upstream
 * rules use, on hand-built records and a small process table; missing data
 * is <NA>, never a crash.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "decode.h"
#include "extract.h"
#include "proctable.h"
#include "syscalls.h"
#include "testlib.h"
#include "users.h"

#include "evfixture.h"





/* ---- assertions on fields --------------------------------------------- */

static struct shk_value get(const char *name)
{
	struct shk_fieldref ref;
	struct shk_value v;
	int n = shk_fieldref_parse(name, strlen(name), &ref);

	if (n != (int)strlen(name))
		fail_msg("bad field %s (%d)", name, n);
	shk_extract(&ctx, &ref, &v);
	return v;
}

/* The value as Falco prints it. */
static const char *text(const char *name)
{
	static char buf[4096];
	struct shk_value v = get(name);

	shk_value_format(&v, buf, sizeof(buf));
	return buf;
}

#define STR(field, want)                                                                    \
	do {                                                                                \
		struct shk_value v_ = get(field);                                           \
		if (v_.type != SHK_V_STR)                                                   \
			fail_msg("%s: not a string (type %d)", field, v_.type);             \
		assert_string_equal(v_.str.s, want);                                        \
		assert_int_equal(v_.str.len, strlen(want));                                 \
	} while (0)
#define TEXT(field, want) assert_string_equal(text(field), want)
#define NA(field)                                                                           \
	do {                                                                                \
		if (get(field).type != SHK_V_NA)                                            \
			fail_msg("%s: expected <NA>, got %s", field, text(field));          \
	} while (0)
#define INT(field, want)                                                                    \
	do {                                                                                \
		struct shk_value v_ = get(field);                                           \
		if (v_.type != SHK_V_I64)                                                   \
			fail_msg("%s: not a signed number (type %d)", field, v_.type);      \
		assert_int_equal(v_.i, want);                                               \
	} while (0)
#define UINT(field, want)                                                                   \
	do {                                                                                \
		struct shk_value v_ = get(field);                                           \
		if (v_.type != SHK_V_U64)                                                   \
			fail_msg("%s: not an unsigned number (type %d)", field, v_.type);   \
		assert_int_equal(v_.u, want);                                               \
	} while (0)
#define BOOL(field, want)                                                                   \
	do {                                                                                \
		struct shk_value v_ = get(field);                                           \
		if (v_.type != SHK_V_BOOL)                                                  \
			fail_msg("%s: not a bool (type %d)", field, v_.type);               \
		assert_int_equal(v_.b, want);                                               \
	} while (0)

/* ---- exec --------------------------------------------------------------- */

static void test_exec_fields(void **state)
{
	struct shk_exec *e;

	e = exec_rec(&rb, 700, 600, "cat", "/usr/bin/cat",
		     (const char *const[]){ "cat", "-n", "", "/etc/hosts", NULL }, "/home/alice",
		     SHK_EXE_WRITABLE | SHK_EXE_MEMFD);
	e->task.cap_eff = (1ull << 0) | (1ull << 21);
	e->task.cap_prm = 1ull << 21;
	e->std_type[0] = SHK_FD_IPV4;
	e->exe_ctime_ns = BOOT_TO_REAL + 100;
	decode(&rb, &ev);
	shk_evalctx_begin(&ctx, &ev);

	STR("evt.type", "execve");
	STR("syscall.type", "execve");
	STR("evt.dir", "<");
	STR("evt.res", "SUCCESS");
	INT("evt.rawres", 0);
	BOOL("evt.failed", false);
	STR("evt.hostname", "testhost");
	STR("evt.source", "syscall");
	STR("evt.time", "23:36:40.000000000");
	STR("evt.time.s", "23:36:40");
	STR("evt.time.iso8601", "2023-11-14T23:36:40.000000000Z");
	STR("evt.datetime", "2023-11-14 23:36:40.000000000");
	UINT("evt.rawtime", BOOT_TO_REAL + TS);
	assert_true(get("evt.num").u > 0);

	STR("proc.name", "cat");
	STR("proc.exe", "cat");
	STR("proc.exepath", "/usr/bin/cat");
	STR("proc.args", "-n  /etc/hosts"); /* the empty argument stays */
	STR("proc.cmdline", "cat -n  /etc/hosts");
	STR("proc.exeline", "cat -n  /etc/hosts");
	UINT("proc.cmdnargs", 3);
	UINT("proc.cmdlenargs", 12);
	STR("proc.cwd", "/home/alice");
	STR("proc.env", "HOME=/home/alice PATH=/usr/bin");
	STR("proc.env[HOME]", "/home/alice");
	STR("proc.env[NOPE]", "");
	INT("proc.pid", 700);
	INT("proc.ppid", 600);
	INT("proc.vpid", 700);
	INT("thread.tid", 700);
	BOOL("thread.ismain", true);
	INT("proc.tty", 34816);
	UINT("proc.duration", TS - 700 * 1000);
	UINT("proc.pid.ts", BOOT_TO_REAL + 700 * 1000);
	UINT("proc.exe_ino", 1234);
	UINT("proc.exe_ino.ctime", BOOT_TO_REAL + 100);
	UINT("proc.exe_ino.ctime_duration_proc_start", 700 * 1000 - 100);
	BOOL("proc.is_exe_writable", true);
	BOOL("proc.is_exe_from_memfd", true);
	BOOL("proc.is_exe_upper_layer", false);
	STR("proc.stdin.type", "ipv4");
	STR("proc.stdout.type", "file");
	NA("proc.stdin.name");
	STR("evt.arg.flags", "EXE_WRITABLE|EXE_FROM_MEMFD");
	UINT("evt.rawarg.flags", SHK_EXE_WRITABLE | SHK_EXE_MEMFD);
	STR("evt.arg.exe", "cat");
	STR("evt.arg[0]", "0");
	STR("thread.cap_effective", "CAP_CHOWN CAP_SYS_ADMIN");
	STR("thread.cap_permitted", "CAP_SYS_ADMIN");
	STR("thread.cap_inheritable", "");

	/* the table: bash(600) < sshd(500) < systemd(1) */
	STR("proc.pname", "bash");
	STR("proc.pexe", "-bash");
	STR("proc.pexepath", "/usr/bin/bash");
	STR("proc.pcmdline", "bash");
	INT("proc.pvpid", 600);
	UINT("proc.ppid.duration", TS - 600 * 1000);
	STR("proc.aname[0]", "cat");
	STR("proc.aname[1]", "bash");
	STR("proc.aname[2]", "sshd");
	STR("proc.aname[3]", "systemd");
	NA("proc.aname[4]");
	NA("proc.aname[99999]");
	TEXT("proc.aname", "(bash,sshd,systemd)");
	INT("proc.apid[0]", 700);
	INT("proc.apid[3]", 1);
	STR("proc.aexepath[2]", "/usr/sbin/sshd");
	STR("proc.aexe[2]", "sshd:");
	STR("proc.acmdline[2]", "sshd alice");
	INT("proc.loginshellid", 600);

	/* users from the host's /etc/passwd: euid 1000 is alice */
	UINT("user.uid", 1000);
	STR("user.name", "alice");
	INT("user.loginuid", 1000);
	STR("user.loginname", "alice");
	UINT("group.gid", 1000);
	STR("group.name", "alice");

	/* host values for container and k8s fields */
	STR("container.id", "host");
	STR("container.name", "host");
	NA("container.image.repository");
	NA("container.privileged");
	NA("k8s.ns.name");
	NA("k8s.pod.name");
	/* what shrike does not collect */
	NA("proc.sname");
	NA("proc.sid");
	NA("proc.vpgid");
	/* an exec has no fd */
	NA("fd.name");
	NA("fd.num");
	NA("fd.type");
	BOOL("evt.is_open_read", false);
}

static void test_exec_other_users(void **state)
{
	struct shk_exec *e;

	e = exec_rec(&rb, 700, 600, "sudo", "/usr/bin/sudo",
		     (const char *const[]){ "sudo", "id", NULL }, "/", 0);
	e->task.euid = 0;
	e->task.egid = 33;
	e->task.loginuid = UINT32_MAX;
	decode(&rb, &ev);
	shk_evalctx_begin(&ctx, &ev);
	UINT("user.uid", 0);
	STR("user.name", "root");
	STR("group.name", "www-data");
	INT("user.loginuid", -1);
	NA("user.loginname");

	/* an id the passwd file lacks, and one in another mount namespace
	 * whose root is not reachable */
	e->task.euid = 4321;
	shk_evalctx_begin(&ctx, &ev);
	UINT("user.uid", 4321);
	NA("user.name");
	e->task.euid = 0;
	e->task.mntns = 1;
	shk_evalctx_begin(&ctx, &ev);
	NA("user.name");
}

/* ---- files -------------------------------------------------------------- */

static void test_open_fields(void **state)
{
	struct shk_syscall *s = sys_rec(&rb, "openat", 700, 600, "cat", 3);

	s->args[0] = (uint64_t)AT_FDCWD;
	s->args[2] = O_WRONLY | O_CREAT | O_TRUNC;
	s->args[3] = 0755;
	s->fd[SHK_FD_RES].fd = 3;
	s->fd[SHK_FD_RES].type = SHK_FD_FILE;
	s->fd[SHK_FD_RES].ino = 77;
	s->fd[SHK_FD_RES].dev = (8u << 20) | 1;
	rb_str(&rb, &s->str[SHK_SYS_PATH], "/var/log/x.log", 14);
	rb_str(&rb, &s->str[SHK_SYS_RAW], "log/./x.log", 11);
	decode(&rb, &ev);
	shk_evalctx_begin(&ctx, &ev);

	STR("evt.type", "openat");
	STR("evt.res", "SUCCESS");
	INT("evt.rawres", 3);
	STR("fd.name", "/var/log/x.log");
	STR("fd.directory", "/var/log");
	STR("fd.filename", "x.log");
	STR("fd.nameraw", "log/./x.log");
	STR("fd.containername", "host:/var/log/x.log");
	INT("fd.num", 3);
	STR("fd.type", "file");
	STR("fd.typechar", "f");
	UINT("fd.ino", 77);
	UINT("fd.dev.major", 8);
	UINT("fd.dev.minor", 1);
	NA("fd.sip");
	NA("fd.l4proto");
	STR("fs.path.name", "/var/log/x.log");
	STR("fs.path.nameraw", "log/./x.log");
	NA("fs.path.source");
	STR("evt.arg.flags", "O_WRONLY|O_CREAT|O_TRUNC");
	UINT("evt.rawarg.flags", O_WRONLY | O_CREAT | O_TRUNC);
	STR("evt.arg.mode", "0755");
	STR("evt.arg.name", "/var/log/x.log");
	STR("evt.rawarg.name", "log/./x.log");
	STR("evt.arg.fd", "3");
	STR("evt.arg.dirfd", "-100");
	NA("evt.arg.nope");
	STR("evt.arg[0]", "3");
	STR("evt.arg[2]", "O_WRONLY|O_CREAT|O_TRUNC");
	NA("evt.arg[42]");
	STR("evt.args", "fd=3 dirfd=-100 flags=O_WRONLY|O_CREAT|O_TRUNC mode=0755 name=/var/log/x.log");
	BOOL("evt.is_open_read", false);
	BOOL("evt.is_open_write", true);
	BOOL("evt.is_open_create", true);
	BOOL("evt.is_open_exec", true);
	/* the process comes from the table (cat is not in it): image <NA> */
	STR("proc.name", "cat");
	NA("proc.exepath");
	NA("proc.cmdline");
	STR("proc.pname", "bash");
}

static void test_failed_open(void **state)
{
	struct shk_syscall *s = sys_rec(&rb, "open", 700, 600, "cat", -13);

	s->args[1] = O_RDONLY;
	rb_str(&rb, &s->str[SHK_SYS_RAW], "../etc/shadow", 13);
	rb_str(&rb, &s->str[SHK_SYS_BASE], "/home/alice", 11);
	decode(&rb, &ev);
	shk_evalctx_begin(&ctx, &ev);

	STR("evt.res", "EACCES");
	INT("evt.rawres", -13);
	BOOL("evt.failed", true);
	STR("fd.name", "/home/etc/shadow");
	STR("fd.directory", "/home/etc");
	NA("fd.filename"); /* as Falco: no file name without an fd */
	INT("fd.num", -1);
	STR("fd.typechar", "f");
	STR("evt.arg.fd", "-13");
	STR("evt.rawarg.name", "../etc/shadow");
	BOOL("evt.is_open_read", true);
}

static void test_path_syscalls(void **state)
{
	struct shk_syscall *s;

	/* symlinkat("/etc/", AT_FDCWD, "x") in /tmp */
	s = sys_rec(&rb, "symlinkat", 700, 600, "ln", 0);
	s->args[1] = (uint64_t)AT_FDCWD;
	rb_str(&rb, &s->str[SHK_SYS_RAW], "/etc/", 5);
	rb_str(&rb, &s->str[SHK_SYS_RAW2], "x", 1);
	rb_str(&rb, &s->str[SHK_SYS_BASE2], "/tmp", 4);
	decode(&rb, &ev);
	shk_evalctx_begin(&ctx, &ev);
	STR("evt.type", "symlinkat");
	STR("evt.res", "SUCCESS");
	STR("evt.arg.target", "/etc");
	STR("evt.rawarg.target", "/etc/");
	STR("evt.arg.linkpath", "/tmp/x");
	STR("evt.arg.linkdirfd", "-100");
	STR("fd.name", "/tmp/x");
	NA("fd.num");
	NA("fd.type");
	STR("fs.path.source", "/etc");
	STR("fs.path.target", "/tmp/x");
	STR("fs.path.targetraw", "x");
	NA("fs.path.name");

	/* renameat2 */
	s = sys_rec(&rb, "renameat2", 700, 600, "mv", 0);
	rb_str(&rb, &s->str[SHK_SYS_RAW], "/root/.bash_history", 19);
	rb_str(&rb, &s->str[SHK_SYS_RAW2], "/tmp/h", 6);
	decode(&rb, &ev);
	shk_evalctx_begin(&ctx, &ev);
	STR("evt.arg.oldpath", "/root/.bash_history");
	STR("evt.arg.newpath", "/tmp/h");
	NA("evt.arg.name");
	NA("evt.arg.path");

	/* chmod u+s */
	s = sys_rec(&rb, "fchmodat", 700, 600, "chmod", 0);
	s->args[0] = (uint64_t)AT_FDCWD;
	s->args[2] = 04755;
	rb_str(&rb, &s->str[SHK_SYS_RAW], "/tmp/sh", 7);
	decode(&rb, &ev);
	shk_evalctx_begin(&ctx, &ev);
	STR("evt.arg.mode",
	    "S_IXOTH|S_IROTH|S_IXGRP|S_IRGRP|S_IXUSR|S_IWUSR|S_IRUSR|S_ISUID");
	UINT("evt.rawarg.mode", 04755);
	STR("evt.arg.filename", "/tmp/sh");
	NA("evt.arg.fd");

	/* mkdir has a path, unlinkat a name */
	s = sys_rec(&rb, "mkdir", 700, 600, "mkdir", -17);
	s->args[1] = 0700;
	rb_str(&rb, &s->str[SHK_SYS_RAW], "/usr/bin/.x", 11);
	decode(&rb, &ev);
	shk_evalctx_begin(&ctx, &ev);
	STR("evt.arg.path", "/usr/bin/.x");
	STR("evt.arg.mode", "0700");
	STR("evt.arg.res", "EEXIST");
	INT("evt.rawarg.res", -17);
	STR("evt.res", "EEXIST");
}

/* ---- sockets ------------------------------------------------------------ */

static struct shk_fd *sock(struct shk_fd *f, int fd, const char *l, int lport, const char *r,
			   int rport)
{
	f->fd = fd;
	f->type = SHK_FD_IPV4;
	f->family = AF_INET;
	f->sock_type = SOCK_STREAM;
	f->protocol = IPPROTO_TCP;
	f->lport = (uint16_t)lport;
	f->rport = (uint16_t)rport;
	inet_pton(AF_INET, l, f->laddr);
	inet_pton(AF_INET, r, f->raddr);
	return f;
}

static void test_socket_fields(void **state)
{
	struct shk_syscall *s;
	struct shk_fd *f;

	/* connect: the local end is the client */
	s = sys_rec(&rb, "connect", 700, 600, "curl", -115);
	sock(&s->fd[SHK_FD_ARG], 5, "10.0.0.1", 40000, "1.2.3.4", 443);
	s->args[0] = 5;
	decode(&rb, &ev);
	shk_evalctx_begin(&ctx, &ev);
	STR("evt.res", "EINPROGRESS");
	STR("fd.name", "10.0.0.1:40000->1.2.3.4:443");
	TEXT("fd.sip", "1.2.3.4");
	TEXT("fd.cip", "10.0.0.1");
	TEXT("fd.lip", "10.0.0.1");
	TEXT("fd.rip", "1.2.3.4");
	TEXT("fd.snet", "1.2.3.4");
	UINT("fd.sport", 443);
	UINT("fd.cport", 40000);
	UINT("fd.lport", 40000);
	UINT("fd.rport", 443);
	STR("fd.sip.name", "1.2.3.4"); /* never DNS */
	STR("fd.rip.name", "1.2.3.4");
	STR("fd.l4proto", "tcp");
	STR("fd.type", "ipv4");
	STR("fd.typechar", "4");
	STR("fd.sockfamily", "ip");
	INT("fd.num", 5);
	BOOL("fd.connected", true);
	BOOL("fd.is_server", false);
	NA("fd.directory");
	NA("fd.filename");
	STR("evt.arg.fd", "5");
	STR("evt.arg.tuple", "10.0.0.1:40000->1.2.3.4:443");
	assert_int_equal(get("fd.sip").type, SHK_V_IP);

	/* accept: the new fd, whose local end is the server */
	s = sys_rec(&rb, "accept4", 700, 600, "nginx", 7);
	sock(&s->fd[SHK_FD_ARG], 4, "0.0.0.0", 80, "0.0.0.0", 0);
	sock(&s->fd[SHK_FD_RES], 7, "192.168.1.2", 80, "8.8.8.8", 51000);
	decode(&rb, &ev);
	shk_evalctx_begin(&ctx, &ev);
	STR("fd.name", "8.8.8.8:51000->192.168.1.2:80");
	TEXT("fd.sip", "192.168.1.2");
	TEXT("fd.cip", "8.8.8.8");
	UINT("fd.sport", 80);
	INT("fd.num", 7);
	STR("evt.arg.fd", "7");
	BOOL("fd.is_server", true);

	/* sendto on an established socket: the lower port is the server */
	s = sys_rec(&rb, "sendto", 700, 600, "x", 10);
	f = sock(&s->fd[SHK_FD_ARG], 3, "10.0.0.1", 50000, "10.0.0.2", 53);
	f->sock_type = SOCK_DGRAM;
	f->protocol = IPPROTO_UDP;
	decode(&rb, &ev);
	shk_evalctx_begin(&ctx, &ev);
	UINT("fd.sport", 53);
	STR("fd.l4proto", "udp");

	/* IPv6 */
	s = sys_rec(&rb, "connect", 700, 600, "curl", 0);
	f = &s->fd[SHK_FD_ARG];
	f->fd = 5;
	f->type = SHK_FD_IPV6;
	f->family = AF_INET6;
	f->lport = 40000;
	f->rport = 443;
	inet_pton(AF_INET6, "fe80::1", f->laddr);
	inet_pton(AF_INET6, "2001:db8::1", f->raddr);
	decode(&rb, &ev);
	shk_evalctx_begin(&ctx, &ev);
	STR("fd.name", "[fe80::1]:40000->[2001:db8::1]:443");
	TEXT("fd.sip", "2001:db8::1");
	STR("fd.type", "ipv6");

	/* socket(AF_PACKET, SOCK_RAW, 0) */
	s = sys_rec(&rb, "socket", 700, 600, "x", 3);
	s->args[0] = AF_PACKET;
	s->args[1] = SOCK_RAW;
	s->fd[SHK_FD_RES].fd = 3;
	s->fd[SHK_FD_RES].type = SHK_FD_SOCK_OTHER;
	decode(&rb, &ev);
	shk_evalctx_begin(&ctx, &ev);
	STR("evt.arg.domain", "AF_PACKET");
	STR("evt.arg.type", "SOCK_RAW");
	UINT("evt.rawarg.domain", AF_PACKET);
	INT("fd.num", 3);
	STR("fd.type", "socket");
	NA("fd.name");

	/* a unix socket */
	s = sys_rec(&rb, "connect", 700, 600, "docker", 0);
	s->fd[SHK_FD_ARG].fd = 3;
	s->fd[SHK_FD_ARG].type = SHK_FD_UNIX;
	rb_str(&rb, &s->str[SHK_SYS_EXTRA], "/run/docker.sock", 16);
	decode(&rb, &ev);
	shk_evalctx_begin(&ctx, &ev);
	STR("fd.name", "/run/docker.sock");
	STR("fd.typechar", "u");
	STR("fd.sockfamily", "unix");
	NA("fd.sip");
}

/* ---- other syscalls ----------------------------------------------------- */

static void test_arg_rendering(void **state)
{
	struct shk_syscall *s;

	s = sys_rec(&rb, "ptrace", 700, 600, "gdb", 0);
	s->args[0] = PTRACE_ATTACH;
	s->args[1] = 1;
	decode(&rb, &ev);
	shk_evalctx_begin(&ctx, &ev);
	STR("evt.arg.request", "PTRACE_ATTACH");
	UINT("evt.rawarg.request", PTRACE_ATTACH);
	STR("evt.arg.pid", "1");
	INT("evt.rawarg.pid", 1);

	s = sys_rec(&rb, "bpf", 700, 600, "bpftool", 5);
	s->args[0] = 5;
	decode(&rb, &ev);
	shk_evalctx_begin(&ctx, &ev);
	STR("evt.arg.cmd", "BPF_PROG_LOAD");
	STR("evt.arg.res_or_fd", "5");
	INT("evt.rawarg.res_or_fd", 5);

	s = sys_rec(&rb, "kill", 700, 600, "kill", 0);
	s->args[0] = 1;
	s->args[1] = 9;
	decode(&rb, &ev);
	shk_evalctx_begin(&ctx, &ev);
	STR("evt.arg.sig", "SIGKILL");

	s = sys_rec(&rb, "memfd_create", 700, 600, "x", 4);
	s->args[1] = 1;
	s->fd[SHK_FD_RES].fd = 4;
	rb_str(&rb, &s->str[SHK_SYS_EXTRA], "payload", 7);
	decode(&rb, &ev);
	shk_evalctx_begin(&ctx, &ev);
	STR("evt.arg.name", "payload");
	STR("evt.arg.flags", "MFD_CLOEXEC");
	STR("fd.name", "memfd:payload");
	STR("fd.type", "memfd");
}

/* setuid records carry the task as it was at entry: they are Falco's
 * enter events, seen by `evt.dir = >` rules with the old user. */
static void test_setuid_direction(void **state)
{
	struct shk_syscall *s = sys_rec(&rb, "setuid", 700, 600, "su", 0);

	s->hdr.flags |= SHK_F_ENTER_CTX;
	s->args[0] = 65534;
	decode(&rb, &ev);
	shk_evalctx_begin(&ctx, &ev);
	STR("evt.dir", ">");
	STR("evt.type", "setuid");
	STR("evt.arg.uid", "nobody");
	UINT("evt.rawarg.uid", 65534);
	STR("user.name", "alice");
	STR("evt.res", "SUCCESS");

	/* an unknown uid renders as its number */
	s->args[0] = 4321;
	shk_evalctx_begin(&ctx, &ev);
	STR("evt.arg.uid", "4321");
}

static void test_procexit_and_fork(void **state)
{
	struct shk_exit *x = (struct shk_exit *)rb.b;
	struct shk_fork *f;

	memset(rb.b, 0, sizeof(*x));
	rb.pos = sizeof(*x);
	x->hdr.type = SHK_EV_EXIT;
	x->hdr.abi = SHK_ABI_VERSION;
	x->hdr.pid = x->hdr.tid = 600;
	x->hdr.ts_ns = TS;
	x->exit_code = 256;
	memcpy(x->comm, "0123456789abcdef", 16); /* not terminated */
	decode(&rb, &ev);
	shk_evalctx_begin(&ctx, &ev);
	STR("evt.type", "procexit");
	NA("syscall.type");
	NA("evt.res");
	NA("evt.rawres");
	STR("proc.name", "0123456789abcdef");
	STR("proc.exepath", "/usr/bin/bash"); /* from the table */
	STR("proc.pname", "sshd");
	UINT("user.uid", 1000);
	STR("evt.arg.status", "256");
	assert_int_equal(shk_evalctx_evtype(&ctx), SHK_EVT_PROCEXIT);

	/* a fork seen before the table knows the child: the parent's image */
	f = (struct shk_fork *)rb.b;
	memset(rb.b, 0, sizeof(*f));
	rb.pos = sizeof(*f);
	f->hdr.type = SHK_EV_FORK;
	f->hdr.abi = SHK_ABI_VERSION;
	f->hdr.pid = f->hdr.tid = 800;
	f->hdr.ts_ns = TS;
	f->parent_pid = 600;
	task_init(&f->task, 800, 600, "bash");
	decode(&rb, &ev);
	shk_evalctx_begin(&ctx, &ev);
	STR("evt.type", "clone");
	STR("proc.exepath", "/usr/bin/bash");
	STR("proc.pname", "bash");
	INT("proc.ppid", 600);
	STR("evt.arg.ptid", "600");
}

/* ---- transformers, memo, parsing, formatting -------------------------- */

static void test_transformers(void **state)
{
	struct shk_fieldref ref;
	struct shk_value v;

	exec_rec(&rb, 700, 600, "Cat", "/usr/bin/Cat",
		 (const char *const[]){ "Cat", "aGVsbG8=", NULL }, "/", 0);
	decode(&rb, &ev);
	shk_evalctx_begin(&ctx, &ev);
	assert_int_equal(shk_fieldref_parse("proc.name", 9, &ref), 9);
	ref.xform[ref.nxform++] = SHK_XF_TOLOWER;
	assert_true(shk_extract(&ctx, &ref, &v));
	assert_string_equal(v.str.s, "cat");
	ref.xform[0] = SHK_XF_TOUPPER;
	assert_true(shk_extract(&ctx, &ref, &v));
	assert_string_equal(v.str.s, "CAT");
	ref.xform[0] = SHK_XF_LEN;
	assert_true(shk_extract(&ctx, &ref, &v));
	assert_int_equal(v.type, SHK_V_U64);
	assert_int_equal(v.u, 3);
	/* the memoised raw value is untouched by transformers */
	STR("proc.name", "Cat");

	assert_int_equal(shk_fieldref_parse("proc.exepath", 12, &ref), 12);
	ref.xform[ref.nxform++] = SHK_XF_BASENAME;
	ref.xform[ref.nxform++] = SHK_XF_TOUPPER;
	assert_true(shk_extract(&ctx, &ref, &v));
	assert_string_equal(v.str.s, "CAT");

	assert_int_equal(shk_fieldref_parse("proc.args", 9, &ref), 9);
	ref.xform[ref.nxform++] = SHK_XF_B64;
	assert_true(shk_extract(&ctx, &ref, &v));
	assert_string_equal(v.str.s, "hello");

	/* a number turned into text */
	assert_int_equal(shk_fieldref_parse("proc.pid", 8, &ref), 8);
	ref.xform[ref.nxform++] = SHK_XF_LEN;
	assert_true(shk_extract(&ctx, &ref, &v));
	assert_int_equal(v.u, 3);

	/* transformers on an unavailable value */
	assert_int_equal(shk_fieldref_parse("proc.sname", 10, &ref), 10);
	ref.xform[ref.nxform++] = SHK_XF_TOUPPER;
	assert_false(shk_extract(&ctx, &ref, &v));
	assert_int_equal(v.type, SHK_V_NA);

	/* lists: per item */
	assert_int_equal(shk_fieldref_parse("proc.aname", 10, &ref), 10);
	ref.xform[ref.nxform++] = SHK_XF_TOUPPER;
	assert_true(shk_extract(&ctx, &ref, &v));
	assert_int_equal(v.type, SHK_V_LIST);
	assert_int_equal(v.n, 3);
	assert_memory_equal(v.list[1].p, "SSHD", 4);
	ref.xform[0] = SHK_XF_LEN;
	assert_true(shk_extract(&ctx, &ref, &v));
	assert_int_equal(v.u, 3);
}

static void test_memo_per_event(void **state)
{
	struct shk_value a, b;

	exec_rec(&rb, 700, 600, "cat", "/usr/bin/cat", (const char *const[]){ "cat", "a", NULL },
		 "/", 0);
	decode(&rb, &ev);
	shk_evalctx_begin(&ctx, &ev);
	a = get("proc.cmdline");
	b = get("proc.cmdline");
	assert_ptr_equal(a.str.s, b.str.s); /* built once per event */
	assert_string_equal(a.str.s, "cat a");
	exec_rec(&rb, 700, 600, "cat", "/usr/bin/cat", (const char *const[]){ "cat", "b", NULL },
		 "/", 0);
	decode(&rb, &ev);
	shk_evalctx_begin(&ctx, &ev);
	STR("proc.cmdline", "cat b");
}

static void test_no_table(void **state)
{
	struct shk_evalctx bare;
	struct shk_value v;
	struct shk_fieldref ref;

	assert_int_equal(shk_evalctx_init(&bare), 0);
	exec_rec(&rb, 700, 600, "cat", "/usr/bin/cat", (const char *const[]){ "cat", NULL }, "/", 0);
	decode(&rb, &ev);
	shk_evalctx_begin(&bare, &ev);
	assert_true(shk_extract_id(&bare, SHK_FIELD_PROC_CMDLINE, &v));
	assert_string_equal(v.str.s, "cat");
	assert_false(shk_extract_id(&bare, SHK_FIELD_PROC_PNAME, &v));
	assert_false(shk_extract_id(&bare, SHK_FIELD_USER_NAME, &v));
	assert_false(shk_extract_id(&bare, SHK_FIELD_EVT_HOSTNAME, &v));
	assert_int_equal(shk_fieldref_parse("proc.aname[3]", 13, &ref), 13);
	assert_false(shk_extract(&bare, &ref, &v));
	assert_int_equal(shk_fieldref_parse("proc.aname", 10, &ref), 10);
	assert_false(shk_extract(&bare, &ref, &v));
	/* an unknown id */
	ref.id = SHK_FIELD__COUNT;
	assert_false(shk_extract(&bare, &ref, &v));
	/* events that lack parts (made by hand, not decoded) */
	{
		struct shk_event bad = { .type = SHK_EV_SYSCALL };

		shk_evalctx_begin(&bare, &bad);
		assert_false(shk_extract_id(&bare, SHK_FIELD_EVT_TYPE, &v));
		assert_int_equal(shk_evalctx_evtype(&bare), SHK_EVTYPE_MAX);
		bad.hdr = ev.hdr;
		shk_evalctx_begin(&bare, &bad);
		assert_false(shk_extract_id(&bare, SHK_FIELD_PROC_NAME, &v));
		shk_evalctx_begin(&bare, NULL);
		assert_false(shk_extract_id(&bare, SHK_FIELD_PROC_NAME, &v));
	}
	shk_evalctx_fini(&bare);
	shk_evalctx_fini(&bare); /* idempotent */
}

static void test_fieldref_parse(void **state)
{
	struct shk_fieldref r;

	assert_int_equal(shk_fieldref_parse("proc.aname[2]=x", 15, &r), 13);
	assert_int_equal(r.id, SHK_FIELD_PROC_ANAME);
	assert_int_equal(r.index, 2);
	assert_int_equal(shk_fieldref_parse("evt.arg.flags rest", 18, &r), 13);
	assert_int_equal(r.id, SHK_FIELD_EVT_ARG);
	assert_int_equal(r.key_len, 5);
	assert_memory_equal(r.key, "flags", 5);
	assert_int_equal(shk_fieldref_parse("fd.name.", 8, &r), 7);
	assert_int_equal(r.id, SHK_FIELD_FD_NAME);
	assert_int_equal(shk_fieldref_parse("proc.env[HOME]", 14, &r), 14);
	assert_int_equal(r.index, -1);
	assert_memory_equal(r.key, "HOME", 4);
	assert_int_equal(shk_fieldref_parse("evt.arg[1]", 10, &r), 10);
	assert_int_equal(r.index, 1);
	assert_int_equal(shk_fieldref_parse("proc.name[", 10, &r), 9);
	assert_int_equal(shk_fieldref_parse("nope.x", 6, &r), -ENOENT);
	assert_int_equal(shk_fieldref_parse("", 0, &r), -ENOENT);
	assert_int_equal(shk_fieldref_parse("evt.arg", 7, &r), -EINVAL);
}

static void test_value_format(void **state)
{
	struct shk_strv items[2] = { { "a", 1 }, { "bc", 2 } };
	struct shk_value v = { .type = SHK_V_LIST, .n = 2, .list = items };
	char b[16];

	assert_int_equal(shk_value_format(&v, b, sizeof(b)), 6);
	assert_string_equal(b, "(a,bc)");
	assert_int_equal(shk_value_format(&v, b, 4), 6); /* snprintf semantics */
	assert_string_equal(b, "(a,");
	v.type = SHK_V_NA;
	shk_value_format(&v, b, sizeof(b));
	assert_string_equal(b, "<NA>");
	v.type = SHK_V_I64;
	v.i = -5;
	shk_value_format(&v, b, sizeof(b));
	assert_string_equal(b, "-5");
	v.type = SHK_V_BOOL;
	v.b = true;
	shk_value_format(&v, b, sizeof(b));
	assert_string_equal(b, "true");
	v.type = SHK_V_IP;
	v.family = 4;
	inet_pton(AF_INET, "127.0.0.1", v.ip);
	shk_value_format(&v, b, sizeof(b));
	assert_string_equal(b, "127.0.0.1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_fields),
		cmocka_unit_test(test_exec_other_users),
		cmocka_unit_test(test_open_fields),
		cmocka_unit_test(test_failed_open),
		cmocka_unit_test(test_path_syscalls),
		cmocka_unit_test(test_socket_fields),
		cmocka_unit_test(test_arg_rendering),
		cmocka_unit_test(test_setuid_direction),
		cmocka_unit_test(test_procexit_and_fork),
		cmocka_unit_test(test_transformers),
		cmocka_unit_test(test_memo_per_event),
		cmocka_unit_test(test_no_table),
		cmocka_unit_test(test_fieldref_parse),
		cmocka_unit_test(test_value_format),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
