/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The seccomp filter of cmd/harden.c, installed in a forked child (the
 * filter cannot be removed, so never in the test process itself): what
 * shrike needs still works, including threads, sockets, state-file
 * operations and a command started through /bin/sh (which inherits the
 * filter); what it never needs fails with EPERM; attack-only syscalls and
 * 32-bit syscalls kill the process. Unprivileged: libseccomp sets
 * no_new_privs.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/capability.h>

#include "harden.h"
#include "testlib.h"

/* In the child: print what failed, exit with the check's number. */
#define CHECK(n, cond)                                                                  \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "check %d failed: %s (errno %s)\n", n, #cond,   \
				strerror(errno));                                       \
			_exit(n);                                                       \
		}                                                                       \
	} while (0)

static void *thread_fn(void *arg)
{
	return arg;
}

/* Run fn in a child with the filter installed; its wait status. */
static int in_filtered_child(void (*fn)(void))
{
	int status;
	pid_t p = fork();

	assert_true(p >= 0);
	if (p == 0) {
		struct rlimit no_core = { 0, 0 };
		struct harden_info hi;

		setrlimit(RLIMIT_CORE, &no_core); /* the kills below dump no core */
		if (harden_apply(&hi)) {
			fprintf(stderr, "harden_apply failed\n");
			_exit(100);
		}
		if (hi.allowed < 100 || hi.killed < 10)
			_exit(101);
		fn();
		_exit(0);
	}
	assert_int_equal(waitpid(p, &status, 0), p);
	return status;
}

static void allowed_and_refused(void)
{
	char dir[] = "/tmp/shk-harden-XXXXXX", a[64], b[64];
	void *ret = NULL;
	pthread_t t;
	int fd, s, st;

	CHECK(1, harden_mode(0) == 2);
	/* never needed: EPERM, and the process goes on */
	errno = 0;
	CHECK(2, personality(0xffffffff) == -1 && errno == EPERM);
	errno = 0;
	CHECK(3, unshare(CLONE_NEWUSER) == -1 && errno == EPERM);
	errno = 0;
	CHECK(4, syscall(SYS_memfd_create, "x", 0) == -1 && errno == EPERM);
	/* namespaces through clone are refused, clone3 falls back */
	errno = 0;
	CHECK(5, syscall(SYS_clone, (long)(CLONE_NEWNET | SIGCHLD), 0L, 0L, 0L, 0L) == -1 &&
			 errno == EPERM);
	errno = 0;
	CHECK(6, syscall(SYS_clone3, NULL, 0) == -1 && errno == ENOSYS);
	errno = 0;
	CHECK(7, socket(AF_PACKET, SOCK_RAW, 0) == -1 && errno == EPERM);
	/* what shrike does: threads, sockets, state files */
	CHECK(10, pthread_create(&t, NULL, thread_fn, dir) == 0);
	CHECK(11, pthread_join(t, &ret) == 0 && ret == dir);
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(12, s >= 0);
	close(s);
	s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0);
	CHECK(13, s >= 0);
	close(s);
	CHECK(14, mkdtemp(dir) != NULL);
	snprintf(a, sizeof(a), "%s/state.tmp", dir);
	snprintf(b, sizeof(b), "%s/state.json", dir);
	fd = openat(AT_FDCWD, a, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	CHECK(15, fd >= 0);
	CHECK(16, flock(fd, LOCK_EX) == 0 && write(fd, "{}\n", 3) == 3 && fsync(fd) == 0);
	close(fd);
	CHECK(17, rename(a, b) == 0 && unlink(b) == 0 && rmdir(dir) == 0);
	/* a command through /bin/sh runs, under the same filter */
	st = system("grep -q '^Seccomp:[[:space:]]*2' /proc/self/status");
	CHECK(18, WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* the real-time guard: back to normal scheduling under a storm */
	{
		struct sched_param sp = { 0 };

		CHECK(19, sched_setscheduler(0, SCHED_OTHER, &sp) == 0 && sched_getscheduler(0) == SCHED_OTHER);
	}
}

static void test_filter_allows_and_refuses(void **state)
{
	int status;

	(void)state;
	/* without the filter, the refused calls work: the checks can fail */
	assert_int_not_equal(personality(0xffffffff), -1);
	assert_int_equal(harden_mode(0), 0);
	status = in_filtered_child(allowed_and_refused);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void do_ptrace(void)
{
	ptrace(PTRACE_TRACEME, 0, NULL, NULL);
	_exit(3); /* not reached: the filter kills */
}

static void test_attack_syscall_kills(void **state)
{
	int status;

	(void)state;
	status = in_filtered_child(do_ptrace);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
}

#ifdef __x86_64__
static void do_int80(void)
{
	long ret = 20; /* getpid in the i386 table */

	__asm__ volatile("int $0x80" : "+a"(ret) : : "memory");
	_exit(3);
}
#endif

static void test_compat_syscall_kills(void **state)
{
	(void)state;
#ifdef __x86_64__
	int status;
	pid_t p = fork();

	/* a kernel without ia32 emulation faults on int 0x80 by itself */
	assert_true(p >= 0);
	if (p == 0) {
		long ret = 20;

		__asm__ volatile("int $0x80" : "+a"(ret) : : "memory");
		_exit(ret > 0 ? 0 : 1);
	}
	assert_int_equal(waitpid(p, &status, 0), p);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "skipped: no ia32 emulation in this kernel\n");
		skip();
	}
	status = in_filtered_child(do_int80);

	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
#else
	skip();
#endif
}

/* A capability set line of /proc/self/status ("CapBnd"), as a mask. */
static unsigned long long capmask(const char *name)
{
	char line[256];
	unsigned long long v = 0;
	size_t len = strlen(name);
	FILE *f = fopen("/proc/self/status", "re");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, name, len) && line[len] == ':')
			v = strtoull(line + len + 1, NULL, 16);
	if (f)
		fclose(f);
	return v;
}

#define BIT(c) (1ull << (c))

static void test_drop_caps(void **state)
{
	unsigned long long bnd = capmask("CapBnd"), eff = capmask("CapEff");
	int status;
	pid_t p;

	(void)state;
	if (!(eff & BIT(CAP_SETPCAP)) || !(bnd & BIT(CAP_SYS_MODULE)) || !(eff & BIT(CAP_KILL))) {
		fprintf(stderr, "skipped: needs CAP_SETPCAP, CAP_SYS_MODULE and CAP_KILL\n");
		skip();
	}
	p = fork();
	assert_true(p >= 0);
	if (p == 0) {
		uint32_t n = 0;
		int st;

		CHECK(1, harden_drop_caps(BIT(CAP_SYS_NICE), &n) == 0 && n > 10);
		/* gone from every set, the bounding set included */
		CHECK(2, !(capmask("CapBnd") & (BIT(CAP_SYS_MODULE) | BIT(CAP_SYS_BOOT) |
						BIT(CAP_SETUID) | BIT(CAP_SETPCAP))));
		CHECK(3, !(capmask("CapEff") & (BIT(CAP_SYS_MODULE) | BIT(CAP_SYS_RAWIO))));
		CHECK(4, !(capmask("CapPrm") & BIT(CAP_SYS_TIME)));
		/* kept */
		CHECK(5, capmask("CapEff") & BIT(CAP_KILL));
		CHECK(6, (capmask("CapEff") & BIT(CAP_SYS_ADMIN)) == (eff & BIT(CAP_SYS_ADMIN)));
		/* kept because the caller asked (the real-time guard) */
		CHECK(8, (capmask("CapEff") & BIT(CAP_SYS_NICE)) == (eff & BIT(CAP_SYS_NICE)));
		/* a root command started now cannot get them back */
		st = system("grep -q '^CapEff:.*' /proc/self/status && "
			    "test $(( 0x$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status) "
			    "& (1 << 16) )) -eq 0");
		CHECK(7, WIFEXITED(st) && WEXITSTATUS(st) == 0);
		_exit(0);
	}
	assert_int_equal(waitpid(p, &status, 0), p);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter_allows_and_refuses),
		cmocka_unit_test(test_attack_syscall_kills),
		cmocka_unit_test(test_compat_syscall_kills),
		cmocka_unit_test(test_drop_caps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
