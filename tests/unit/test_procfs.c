/* SPDX-License-Identifier: Apache-2.0 */
/* Reading processes from procfs (detect/procfs.c): fixtures under
 * tests/unit/data/proc and proc-bad, then the live /proc. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "procfs.h"
#include "testlib.h"

#define CAP_FULL 0x000001ffffffffffull

struct fixture {
	char proc[PATH_MAX];
	char bad[PATH_MAX];
	struct shk_proc_info *info;
	uint64_t tick_ns;
};

static int setup(void **state)
{
	const char *data = test_env("SHRIKE_TEST_DATA");
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->proc, sizeof(f->proc), "%s/proc", data);
	snprintf(f->bad, sizeof(f->bad), "%s/proc-bad", data);
	f->info = malloc(sizeof(*f->info));
	f->tick_ns = 1000000000ull / (uint64_t)sysconf(_SC_CLK_TCK);
	*state = f;
	return f->info ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free(f->info);
	free(f);
	return 0;
}

/* comm with spaces and ')', setuid, deleted exe, odd std fds */
static void test_read_weird_comm(void **state)
{
	struct fixture *f = *state;
	struct shk_proc_info *p = f->info;
	static const char args[] = "./payload\0-c\0/tmp/.x/conf";
	static const char env[] = "PATH=/usr/bin:/bin\0LD_PRELOAD=/tmp/.x/l.so";

	assert_int_equal(shk_procfs_read(f->proc, 1234, p), 0);
	assert_int_equal(p->tgid, 1234);
	assert_int_equal(p->ppid, 1200);
	assert_int_equal(p->vpid, 1234);
	assert_string_equal(p->comm, "we ird) (x");
	assert_int_equal(p->state, 'R');
	assert_int_equal(p->tty_nr, 34816); /* /dev/pts/0 */
	assert_int_equal(p->sid, 1200);      /* stat field 6: the login shell's session */
	assert_int_equal(p->start_ticks, 34394);
	assert_int_equal(p->start_ns, 34394 * f->tick_ns);
	assert_false(p->is_kthread);
	assert_int_equal(p->uid, 1000);
	assert_int_equal(p->euid, 0);
	assert_int_equal(p->gid, 1000);
	assert_int_equal(p->egid, 1000);
	assert_int_equal(p->cap_inh, 0);
	assert_int_equal(p->cap_prm, CAP_FULL);
	assert_int_equal(p->cap_eff, 0xa80425fbull);
	assert_int_equal(p->loginuid, 1000);
	assert_string_equal(p->exe, "/tmp/.x/payload (deleted)");
	assert_true(p->exe_deleted);
	assert_false(p->have & SHK_PROCFS_HAVE_EXE_STAT); /* link is dangling */
	assert_string_equal(p->cwd, "/tmp/.x");
	assert_int_equal(p->args_len, sizeof(args) - 1);
	assert_memory_equal(p->args, args, sizeof(args));
	assert_int_equal(p->env_len, sizeof(env) - 1);
	assert_memory_equal(p->env, env, sizeof(env));
	assert_string_equal(p->cgroup, "/user.slice/user-1000.slice/session-3.scope");
	assert_int_equal(p->pidns, 4026531836u);
	assert_int_equal(p->mntns, 4026531841u);
	assert_int_equal(p->netns, 4026531840u);
	/* a socket we cannot ask about stays SOCK_OTHER */
	assert_int_equal(p->std_type[0], SHK_FD_SOCK_OTHER);
	assert_int_equal(p->std_type[1], SHK_FD_PIPE);
	assert_int_equal(p->std_type[2], SHK_FD_EVENT);
	assert_int_equal(p->have & (SHK_PROCFS_HAVE_STATUS | SHK_PROCFS_HAVE_CAPS |
				    SHK_PROCFS_HAVE_EXE | SHK_PROCFS_HAVE_CWD |
				    SHK_PROCFS_HAVE_CMDLINE | SHK_PROCFS_HAVE_ENVIRON |
				    SHK_PROCFS_HAVE_CGROUP | SHK_PROCFS_HAVE_LOGINUID |
				    SHK_PROCFS_HAVE_NS),
			 SHK_PROCFS_HAVE_STATUS | SHK_PROCFS_HAVE_CAPS |
				 SHK_PROCFS_HAVE_EXE | SHK_PROCFS_HAVE_CWD |
				 SHK_PROCFS_HAVE_CMDLINE | SHK_PROCFS_HAVE_ENVIRON |
				 SHK_PROCFS_HAVE_CGROUP | SHK_PROCFS_HAVE_LOGINUID |
				 SHK_PROCFS_HAVE_NS);
	assert_int_equal(p->truncated, 0);
}

static void test_read_kthread(void **state)
{
	struct fixture *f = *state;
	struct shk_proc_info *p = f->info;

	assert_int_equal(shk_procfs_read(f->proc, 2, p), 0);
	assert_string_equal(p->comm, "kthreadd");
	assert_true(p->is_kthread);
	assert_int_equal(p->ppid, 0);
	assert_int_equal(p->start_ticks, 0);
	assert_false(p->have & SHK_PROCFS_HAVE_EXE);
	assert_string_equal(p->exe, "");
	assert_int_equal(p->args_len, 0);
	assert_string_equal(p->cgroup, "/");
	assert_int_equal(p->loginuid, SHK_LOGINUID_UNSET);
	assert_int_equal(p->std_type[0], SHK_FD_NONE);

	/* a worker: stat shows more than task->comm holds */
	assert_int_equal(shk_procfs_read(f->proc, 87, p), 0);
	assert_string_equal(p->comm, "kworker/u8:3-ev");
	assert_int_equal(p->state, 'I');
	assert_true(p->is_kthread);
	assert_int_equal(p->ppid, 2);
}

static void test_read_container(void **state)
{
	struct fixture *f = *state;
	struct shk_proc_info *p = f->info;

	assert_int_equal(shk_procfs_read(f->proc, 4242, p), 0);
	assert_int_equal(p->tgid, 4242);
	assert_int_equal(p->vpid, 7); /* NSpid: 4242 7 */
	assert_int_equal(p->ppid, 4200);
	assert_int_equal(p->tty_nr, 0);
	assert_string_equal(p->cgroup, "/system.slice/docker-3f2a9c1b7d4e.scope");
	assert_int_equal(p->pidns, 4026532301u);
	assert_int_equal(p->mntns, 4026532299u);
	assert_int_equal(p->netns, 4026532304u);
	assert_false(p->exe_deleted);
	assert_string_equal(p->exe, "/usr/sbin/nginx");
	assert_string_equal(p->args, "nginx: master process nginx -g daemon off;");
	assert_int_equal(p->args_len, strlen("nginx: master process nginx -g daemon off;"));
	assert_int_equal(p->loginuid, SHK_LOGINUID_UNSET);
	assert_int_equal(p->std_type[0], SHK_FD_CHAR); /* /dev/null */
	assert_int_equal(p->std_type[1], SHK_FD_PIPE);
}

static void test_read_init_and_zombie(void **state)
{
	struct fixture *f = *state;
	struct shk_proc_info *p = f->info;

	assert_int_equal(shk_procfs_read(f->proc, 1, p), 0);
	assert_string_equal(p->comm, "systemd");
	assert_int_equal(p->ppid, 0);
	assert_int_equal(p->start_ns, 2 * f->tick_ns);
	assert_string_equal(p->cgroup, "/init.scope");
	assert_int_equal(p->env_len, strlen("HOME=/") + 1 + strlen("init=/sbin/init") +
					  1 + strlen("TERM=linux"));
	for (int i = 0; i < 3; i++)
		assert_int_equal(p->std_type[i], SHK_FD_CHAR);

	/* a zombie: no exe, no cwd, no environ file */
	assert_int_equal(shk_procfs_read(f->proc, 5000, p), 0);
	assert_int_equal(p->state, 'Z');
	assert_false(p->have & (SHK_PROCFS_HAVE_EXE | SHK_PROCFS_HAVE_CWD |
				SHK_PROCFS_HAVE_ENVIRON));
	assert_int_equal(p->env_len, 0);
	assert_string_equal(p->cwd, "");
	assert_int_equal(p->uid, 1000);
}

static void test_read_errors(void **state)
{
	static const struct {
		int pid, err;
	} cases[] = {
		{ 10, -ENOENT }, /* no stat */
		{ 11, -EINVAL }, /* truncated stat */
		{ 12, -EINVAL }, /* ppid "x1" */
		{ 13, -EINVAL }, /* stat of another pid */
		{ 14, -EINVAL }, /* no ')' */
		{ 15, -EINVAL }, /* starttime overflows */
		{ 17, -EINVAL }, /* empty stat */
		{ 18, -EINVAL }, /* negative ppid */
		{ 999, -ENOENT }, /* no such process */
	};
	struct fixture *f = *state;
	struct shk_proc_info *p = f->info;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(p, 0xab, sizeof(*p));
		assert_int_equal(shk_procfs_read(f->bad, cases[i].pid, p), cases[i].err);
		/* untouched on failure */
		assert_int_equal(p->tgid, (int)0xabababab);
		assert_int_equal((unsigned char)p->comm[0], 0xab);
	}
	assert_int_equal(shk_procfs_read(f->proc, 0, p), -EINVAL);
	assert_int_equal(shk_procfs_read(f->proc, -1, p), -EINVAL);
	assert_int_equal(shk_procfs_read(f->proc, 1, NULL), -EINVAL);
	assert_int_equal(shk_procfs_read("/nonexistent-proc-root", 1, p), -ENOENT);
}

/* A parseable stat with garbage elsewhere: defaults, no crash. */
static void test_read_garbage_optional(void **state)
{
	struct fixture *f = *state;
	struct shk_proc_info *p = f->info;

	assert_int_equal(shk_procfs_read(f->bad, 16, p), 0);
	assert_int_equal(p->tgid, 16);
	assert_string_equal(p->comm, "bash");
	assert_int_equal(p->uid, SHK_ID_UNKNOWN);  /* "Uid: abc ..." */
	assert_int_equal(p->euid, SHK_ID_UNKNOWN);
	assert_int_equal(p->gid, SHK_ID_UNKNOWN);  /* two values only */
	assert_int_equal(p->vpid, 16);             /* "NSpid: 16 x7" */
	assert_int_equal(p->loginuid, SHK_LOGINUID_UNSET);
	assert_int_equal(p->cap_prm, 0);           /* 40 hex digits */
	assert_false(p->have & (SHK_PROCFS_HAVE_STATUS | SHK_PROCFS_HAVE_CAPS |
				SHK_PROCFS_HAVE_LOGINUID | SHK_PROCFS_HAVE_CGROUP |
				SHK_PROCFS_HAVE_NS | SHK_PROCFS_HAVE_EXE));
	assert_int_equal(p->pidns, 0); /* pid:[notanumber] */
	assert_int_equal(p->mntns, 0); /* > 32 bits */
	assert_int_equal(p->netns, 0); /* ipc:[...] under ns/net */
	assert_string_equal(p->cgroup, "");
	/* 10000 bytes of argv: cut at the bound, still terminated */
	assert_int_equal(p->args_len, SHK_ARGS_MAX - 1);
	assert_int_equal(p->args[SHK_ARGS_MAX - 1], '\0');
	assert_true(p->truncated & SHK_PROCFS_TRUNC_ARGS);
}

static void test_parse_stat(void **state)
{
	static const struct {
		const char *line;
		int err;
		const char *comm;
		int ppid;
	} cases[] = {
		{ "7 ()) S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99", 0, ")", 1 },
		{ "7 ((( S 3 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99", -EINVAL, NULL, 0 },
		{ "7 (a\nb) S 3 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99\n", 0, "a\nb", 3 },
		{ "7 () S 4 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99", 0, "", 4 },
		{ "7 (x) S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0", -EINVAL, NULL, 0 },
		{ "7 (x) S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 -99", -EINVAL, NULL, 0 },
		{ "7 (x) S  1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99", -EINVAL, NULL, 0 },
		{ "7 (x) S +1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99", -EINVAL, NULL, 0 },
		{ "7 (x) S 1 7 7 99999999999 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99", -EINVAL, NULL, 0 },
		{ "7 (x) 5 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99", -EINVAL, NULL, 0 },
		{ "-7 (x) S 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99", -EINVAL, NULL, 0 },
		{ "", -EINVAL, NULL, 0 },
	};
	struct shk_proc_info *p = ((struct fixture *)*state)->info;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(p, 0, sizeof(*p));
		assert_int_equal(shk_procfs_parse_stat(cases[i].line,
						       strlen(cases[i].line), p),
				 cases[i].err);
		if (cases[i].err)
			continue;
		assert_string_equal(p->comm, cases[i].comm);
		assert_int_equal(p->ppid, cases[i].ppid);
		assert_int_equal(p->start_ticks, 99);
	}
	/* NULs in the input end the line: no overrun */
	assert_int_equal(shk_procfs_parse_stat("7 (x\0) S", 8, p), -EINVAL);
	assert_int_equal(shk_procfs_parse_stat(NULL, 0, p), -EINVAL);
}

static void test_fd_type(void **state)
{
	static const struct {
		const char *link;
		enum shk_fd_type type;
	} cases[] = {
		{ "pipe:[1234]", SHK_FD_PIPE },
		{ "socket:[99]", SHK_FD_SOCK_OTHER },
		{ "anon_inode:[eventfd]", SHK_FD_EVENT },
		{ "anon_inode:[signalfd]", SHK_FD_SIGNALFD },
		{ "anon_inode:[eventpoll]", SHK_FD_EVENTPOLL },
		{ "anon_inode:inotify", SHK_FD_INOTIFY },
		{ "anon_inode:[timerfd]", SHK_FD_TIMERFD },
		{ "anon_inode:bpf-map", SHK_FD_BPF },
		{ "anon_inode:bpf-prog", SHK_FD_BPF },
		{ "anon_inode:[userfaultfd]", SHK_FD_USERFAULTFD },
		{ "anon_inode:[io_uring]", SHK_FD_IO_URING },
		{ "anon_inode:[pidfd]", SHK_FD_ANON_OTHER },
		{ "/memfd:payload (deleted)", SHK_FD_MEMFD },
		{ "/etc/passwd", SHK_FD_FILE },
		{ "net:[4026531840]", SHK_FD_ANON_OTHER },
		{ "", SHK_FD_NONE },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(shk_procfs_fd_type(cases[i].link), cases[i].type);
	assert_int_equal(shk_procfs_fd_type(NULL), SHK_FD_NONE);
}

struct pid_list {
	int pids[32];
	int n;
	int stop_at;
};

static int collect(int pid, void *ctx)
{
	struct pid_list *l = ctx;

	if (l->n < 32)
		l->pids[l->n++] = pid;
	return pid == l->stop_at ? 42 : 0;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static void test_for_each_pid(void **state)
{
	static const int want[] = { 1, 2, 87, 1200, 1234, 4242, 5000 };
	struct fixture *f = *state;
	struct pid_list l = { .stop_at = -1 };

	/* "self", "0123", "99999999999", "sys", "uptime" are skipped */
	assert_int_equal(shk_procfs_for_each_pid(f->proc, collect, &l), 0);
	assert_int_equal(l.n, 7);
	qsort(l.pids, (size_t)l.n, sizeof(int), cmp_int);
	assert_memory_equal(l.pids, want, sizeof(want));

	l = (struct pid_list){ .stop_at = 1234 };
	assert_int_equal(shk_procfs_for_each_pid(f->proc, collect, &l), 42);
	assert_int_equal(l.pids[l.n - 1], 1234);

	assert_int_equal(shk_procfs_for_each_pid("/nonexistent-proc-root", collect, &l),
			 -ENOENT);
	assert_int_equal(shk_procfs_for_each_pid(f->proc, NULL, NULL), -EINVAL);
}

/* The live /proc: this test process itself. */
static void test_read_self(void **state)
{
	struct shk_proc_info *p = ((struct fixture *)*state)->info;
	char comm[17] = "", exe[PATH_MAX], *cmdline;
	size_t cmdline_len;
	struct stat st;
	ssize_t n;

	assert_int_equal(prctl(PR_GET_NAME, comm), 0);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	assert_int_equal(stat("/proc/self/exe", &st), 0);
	cmdline = test_read_file("/proc/self/cmdline", &cmdline_len);
	assert_non_null(cmdline);

	assert_int_equal(shk_procfs_read(NULL, getpid(), p), 0);
	assert_int_equal(p->tgid, getpid());
	assert_int_equal(p->ppid, getppid());
	assert_string_equal(p->comm, comm);
	assert_string_equal(p->exe, exe);
	assert_false(p->exe_deleted);
	assert_int_equal(p->exe_ino, st.st_ino);
	assert_int_equal(p->uid, getuid());
	assert_int_equal(p->euid, geteuid());
	assert_int_equal(p->gid, getgid());
	assert_false(p->is_kthread);
	assert_true(p->start_ns > 0);
	assert_true(p->pidns != 0);
	assert_int_equal(p->args_len + 1, cmdline_len);
	assert_memory_equal(p->args, cmdline, cmdline_len);
	free(cmdline);
}

/* A child whose std fds are a pipe, a unix socket and a TCP socket. */
static void test_read_child_std_fds(void **state)
{
	struct fixture *f = *state;
	struct shk_proc_info *p = f->info;
	int pfd[2], sv[2], tcp, status;
	pid_t child;

	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	tcp = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(tcp >= 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		char c;

		dup2(pfd[0], 0);
		dup2(sv[0], 1);
		dup2(tcp, 2);
		close(pfd[1]);
		/* wait for the parent to look, then leave */
		_exit(read(0, &c, 1) == 0 ? 0 : 1);
	}
	close(pfd[0]);

	/* until the child has set its fds up */
	for (int i = 0; i < 2000; i++) {
		assert_int_equal(shk_procfs_read(NULL, child, p), 0);
		if (p->std_type[2] == SHK_FD_IPV4)
			break;
		usleep(1000);
	}
	assert_int_equal(p->ppid, getpid());
	assert_int_equal(p->std_type[0], SHK_FD_PIPE);
	assert_int_equal(p->std_type[1], SHK_FD_UNIX);
	assert_int_equal(p->std_type[2], SHK_FD_IPV4);

	close(pfd[1]);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(sv[0]);
	close(sv[1]);
	close(tcp);
	/* gone: reaped, its directory is no more */
	assert_int_equal(shk_procfs_read(NULL, child, p), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_weird_comm),
		cmocka_unit_test(test_read_kthread),
		cmocka_unit_test(test_read_container),
		cmocka_unit_test(test_read_init_and_zombie),
		cmocka_unit_test(test_read_errors),
		cmocka_unit_test(test_read_garbage_optional),
		cmocka_unit_test(test_parse_stat),
		cmocka_unit_test(test_fd_type),
		cmocka_unit_test(test_for_each_pid),
		cmocka_unit_test(test_read_self),
		cmocka_unit_test(test_read_child_std_fds),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
