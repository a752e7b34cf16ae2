/* SPDX-License-Identifier: Apache-2.0 */
/* Decoder: canned records decode to the right views; malformed ones are
 * rejected with -EBADMSG / -EPROTO and never read out of bounds. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "decode.h"
#include "render.h"
#include "syscalls.h"

static uint8_t buf[SHK_EVENT_MAX + 64];
static struct shk_event ev;

/* Build a syscall record with strings appended after the fixed part. */
static size_t sys_record(const char *raw, const char *base, const char *resolved)
{
	struct shk_syscall *s = (struct shk_syscall *)buf;
	size_t pos = sizeof(*s);

	memset(buf, 0, sizeof(buf));
	s->hdr.type = SHK_EV_SYSCALL;
	s->hdr.abi = SHK_ABI_VERSION;
	s->hdr.pid = 42;
	s->hdr.tid = 43;
	s->nr = (uint32_t)shk_syscall_nr("openat");
	s->kind = SHK_K_OPENAT;
	s->ret = -2;
	s->fd[0].fd = s->fd[1].fd = -1;
	memcpy(s->task.comm, "cat", 4);
	const char *strs[3] = { resolved, raw, base };
	int slots[3] = { SHK_SYS_PATH, SHK_SYS_RAW, SHK_SYS_BASE };
	for (int i = 0; i < 3; i++) {
		if (!strs[i])
			continue;
		size_t n = strlen(strs[i]);
		s->str[slots[i]].off = (uint16_t)pos;
		s->str[slots[i]].len = (uint16_t)n;
		memcpy(buf + pos, strs[i], n + 1);
		pos += n + 1;
	}
	s->hdr.size = (uint32_t)pos;
	return pos;
}

static void test_relative_path_joined(void **state)
{
	size_t n = sys_record("../etc/./shadow", "/usr/local", NULL);

	assert_int_equal(shk_decode(buf, n, &ev), 0);
	assert_int_equal(ev.type, SHK_EV_SYSCALL);
	assert_int_equal(ev.hdr->pid, 42);
	assert_string_equal(ev.str[SHK_SYS_RAW].p, "../etc/./shadow");
	assert_string_equal(ev.path.p, "/usr/etc/shadow");
	assert_int_equal(ev.path.len, strlen("/usr/etc/shadow"));
}

static void test_resolved_path_wins(void **state)
{
	size_t n = sys_record("x", "/a", "/real/x");

	assert_int_equal(shk_decode(buf, n, &ev), 0);
	assert_string_equal(ev.path.p, "/real/x");
}

static void test_absolute_raw_normalised(void **state)
{
	size_t n = sys_record("/etc//../etc/passwd", NULL, NULL);

	assert_int_equal(shk_decode(buf, n, &ev), 0);
	assert_string_equal(ev.path.p, "/etc/passwd");
}

static void test_relative_without_base_stays_relative(void **state)
{
	size_t n = sys_record("rel/file", NULL, NULL);

	assert_int_equal(shk_decode(buf, n, &ev), 0);
	assert_string_equal(ev.path.p, "rel/file");
}

static void test_size_mismatch(void **state)
{
	size_t n = sys_record("/x", NULL, NULL);

	assert_int_equal(shk_decode(buf, n - 1, &ev), -EBADMSG);
	assert_int_equal(shk_decode(buf, 10, &ev), -EBADMSG);
	assert_int_equal(shk_decode(NULL, 0, &ev), -EBADMSG);
}

static void test_abi_mismatch(void **state)
{
	size_t n = sys_record("/x", NULL, NULL);

	((struct shk_hdr *)buf)->abi = SHK_ABI_VERSION + 1;
	assert_int_equal(shk_decode(buf, n, &ev), -EPROTO);
}

static void test_bad_type(void **state)
{
	size_t n = sys_record("/x", NULL, NULL);

	((struct shk_hdr *)buf)->type = 0;
	assert_int_equal(shk_decode(buf, n, &ev), -EBADMSG);
	((struct shk_hdr *)buf)->type = SHK_EV_MAX;
	assert_int_equal(shk_decode(buf, n, &ev), -EBADMSG);
	/* an exit record is smaller than a syscall one: a syscall type with
	 * an exit-sized record must not pass */
	((struct shk_hdr *)buf)->type = SHK_EV_SYSCALL;
	((struct shk_hdr *)buf)->size = sizeof(struct shk_exit);
	assert_int_equal(shk_decode(buf, sizeof(struct shk_exit), &ev), -EBADMSG);
}

static void test_string_out_of_bounds(void **state)
{
	struct shk_syscall *s = (struct shk_syscall *)buf;
	size_t n = sys_record("/x", NULL, NULL);

	s->str[SHK_SYS_RAW].len = 60000;
	assert_int_equal(shk_decode(buf, n, &ev), -EBADMSG);
	n = sys_record("/x", NULL, NULL);
	s->str[SHK_SYS_RAW].off = 4; /* inside the fixed part */
	assert_int_equal(shk_decode(buf, n, &ev), -EBADMSG);
}

static void test_string_unterminated(void **state)
{
	struct shk_syscall *s = (struct shk_syscall *)buf;
	size_t n = sys_record("/abc", NULL, NULL);

	buf[s->str[SHK_SYS_RAW].off + s->str[SHK_SYS_RAW].len] = 'X';
	assert_int_equal(shk_decode(buf, n, &ev), -EBADMSG);
}

static void test_bad_fd_type_and_kind(void **state)
{
	struct shk_syscall *s = (struct shk_syscall *)buf;
	size_t n = sys_record("/x", NULL, NULL);

	s->fd[1].type = SHK_FD_TYPE_MAX;
	assert_int_equal(shk_decode(buf, n, &ev), -EBADMSG);
	n = sys_record("/x", NULL, NULL);
	s->kind = SHK_K_MAX;
	assert_int_equal(shk_decode(buf, n, &ev), -EBADMSG);
	n = sys_record("/x", NULL, NULL);
	s->nr = SHK_SYSCALL_MAX;
	assert_int_equal(shk_decode(buf, n, &ev), -EBADMSG);
}

static void test_exec_record(void **state)
{
	struct shk_exec *e = (struct shk_exec *)buf;
	static const char args[] = "ls\0-la\0/tmp";
	size_t pos = sizeof(*e);

	memset(buf, 0, sizeof(buf));
	e->hdr.type = SHK_EV_EXEC;
	e->hdr.abi = SHK_ABI_VERSION;
	e->std_type[1] = SHK_FD_IPV4;
	e->exe_flags = SHK_EXE_MEMFD;
	e->str[SHK_EXEC_ARGS].off = (uint16_t)pos;
	e->str[SHK_EXEC_ARGS].len = sizeof(args) - 1;
	memcpy(buf + pos, args, sizeof(args));
	pos += sizeof(args);
	e->hdr.size = (uint32_t)pos;
	assert_int_equal(shk_decode(buf, pos, &ev), 0);
	assert_ptr_equal(ev.task, &ev.exec->task);
	assert_int_equal(ev.str[SHK_EXEC_ARGS].len, 11);
	assert_memory_equal(ev.str[SHK_EXEC_ARGS].p, args, 11);
	assert_null(ev.str[SHK_EXEC_EXE].p);
	e->std_type[2] = 200;
	assert_int_equal(shk_decode(buf, pos, &ev), -EBADMSG);
}

static void test_exit_record(void **state)
{
	struct shk_exit *x = (struct shk_exit *)buf;

	memset(buf, 0, sizeof(buf));
	x->hdr.type = SHK_EV_EXIT;
	x->hdr.abi = SHK_ABI_VERSION;
	x->hdr.size = sizeof(*x);
	x->exit_code = 9;
	assert_int_equal(shk_decode(buf, sizeof(*x), &ev), 0);
	assert_null(ev.task);
	assert_int_equal(ev.exit->exit_code, 9);
}

static void test_render(void **state)
{
	char b[256];

	assert_string_equal(shk_render_res(-2, b, sizeof(b)), "ENOENT");
	assert_string_equal(shk_render_res(-115, b, sizeof(b)), "EINPROGRESS");
	assert_string_equal(shk_render_res(3, b, sizeof(b)), "SUCCESS");
	assert_string_equal(shk_render_open_flags(0, b, sizeof(b)), "O_RDONLY");
	assert_string_equal(shk_render_open_flags(01101, b, sizeof(b)), "O_WRONLY|O_CREAT|O_TRUNC");
	assert_string_equal(shk_render_open_flags(02000000, b, sizeof(b)), "O_RDONLY|O_CLOEXEC");
	assert_string_equal(shk_render_ptrace_req(16, b, sizeof(b)), "PTRACE_ATTACH");
	assert_string_equal(shk_render_ptrace_req(0x4206, b, sizeof(b)), "PTRACE_SEIZE");
	assert_string_equal(shk_render_domain(2, b, sizeof(b)), "AF_INET");
	assert_string_equal(shk_render_domain(10, b, sizeof(b)), "AF_INET6");
	assert_string_equal(shk_render_signal(9, b, sizeof(b)), "SIGKILL");
	assert_string_equal(shk_render_caps((1ull << 21) | 1, b, sizeof(b)), "CAP_CHOWN|CAP_SYS_ADMIN");
	assert_string_equal(shk_render_mode(0640, b, sizeof(b)), "0640");
	assert_int_equal(shk_fd_typechar(SHK_FD_IPV4), '4');
	assert_int_equal(shk_fd_typechar(SHK_FD_UNIX), 'u');
	assert_int_equal(shk_fd_typechar(SHK_FD_PIPE), 'p');
	assert_string_equal(shk_fd_type_name(SHK_FD_IPV6), "ipv6");
	/* truncation is safe */
	assert_string_equal(shk_render_open_flags(01101, b, 9), "O_WRONLY");
}

static void test_syscall_table_resolves(void **state)
{
	size_t n;
	const struct shk_sys_desc *d = shk_syscalls(&n);

	assert_true(n >= 50);
	for (size_t i = 0; i < n; i++) {
		int nr = shk_syscall_nr(d[i].name);

		assert_true(nr >= 0);
		assert_ptr_equal(shk_syscall_by_nr(nr), &d[i]);
		assert_true(d[i].kind > SHK_K_NONE && d[i].kind < SHK_K_MAX);
	}
	assert_int_equal(shk_syscall_nr("openat"), 257); /* x86_64 */
	assert_null(shk_syscall_by_name("no_such_syscall"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relative_path_joined),
		cmocka_unit_test(test_resolved_path_wins),
		cmocka_unit_test(test_absolute_raw_normalised),
		cmocka_unit_test(test_relative_without_base_stays_relative),
		cmocka_unit_test(test_size_mismatch),
		cmocka_unit_test(test_abi_mismatch),
		cmocka_unit_test(test_bad_type),
		cmocka_unit_test(test_string_out_of_bounds),
		cmocka_unit_test(test_string_unterminated),
		cmocka_unit_test(test_bad_fd_type_and_kind),
		cmocka_unit_test(test_exec_record),
		cmocka_unit_test(test_exit_record),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_syscall_table_resolves),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
