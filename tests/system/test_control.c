/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control socket: `shrike status` answers with the daemon's state;
 * the socket is root-only (0600), and even with its file mode loosened a
 * non-root peer is refused by the SO_PEERCRED check; with no daemon,
 * status says so and exits 3. Needs root.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "runlib.h"
#include "testlib.h"

static int shell(char *out, size_t outsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int shell(char *out, size_t outsz, const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	FILE *p;
	size_t n;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	n = fread(out, 1, outsz - 1, p);
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Connect as uid 65534 and return what the daemon says. */
static void as_nobody(const char *sock, char *out, size_t outsz)
{
	int pfd[2];
	pid_t p;
	ssize_t n;

	assert_int_equal(pipe(pfd), 0);
	p = fork();
	if (p == 0) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		char buf[256];
		int fd;
		ssize_t k;

		close(pfd[0]);
		if (setgid(65534) || setuid(65534))
			_exit(2);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
			dprintf(pfd[1], "connect failed: %s", strerror(errno));
			_exit(0);
		}
		if (send(fd, "status\n", 7, MSG_NOSIGNAL) < 0) {
			/* the daemon may already have hung up: read why */
		}
		while ((k = read(fd, buf, sizeof(buf))) > 0)
			if (write(pfd[1], buf, (size_t)k) < 0)
				break;
		_exit(0);
	}
	close(pfd[1]);
	n = read(pfd[0], out, outsz - 1);
	out[n > 0 ? n : 0] = '\0';
	close(pfd[0]);
	waitpid(p, NULL, 0);
}

static void test_status_and_root_only(void **state)
{
	char *dir = test_tmpdir(), sock[1100], policy[1100], sdir[1100], out[8192];
	/* its own state dir: the machine's quarantines are not this test's */
	const char *args[] = { "--control", sock, "--policy", policy, "--state-dir", sdir, NULL };
	const char *bin = test_env("SHRIKE_BIN");
	struct shrike_run run;
	struct stat st;

	snprintf(sock, sizeof(sock), "%s/control.sock", dir);
	snprintf(sdir, sizeof(sdir), "%s/state", dir);
	snprintf(policy, sizeof(policy), "%s/p.yaml", dir);
	assert_int_equal(test_write_file(policy, "- rule: R\n  desc: d\n"
						 "  condition: evt.type = execve and proc.name = shk-none\n"
						 "  output: o\n  priority: WARNING\n  actions: [kill]\n"),
			 0);
	shrike_run_start(&run, dir, args);

	assert_int_equal(shell(out, sizeof(out), "%s status --control %s", bin, sock), 0);
	assert_non_null(strstr(out, "\"rules\":1"));
	assert_non_null(strstr(out, "\"actions\":1"));
	assert_non_null(strstr(out, "\"counters\":{\"events\":"));
	assert_non_null(strstr(out, policy));

	assert_int_equal(stat(sock, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* the file mode keeps others out ... */
	as_nobody(sock, out, sizeof(out));
	assert_non_null(strstr(out, "connect failed"));
	/* ... and the daemon checks the peer itself */
	chmod(dir, 0755);
	chmod(sock, 0666);
	as_nobody(sock, out, sizeof(out));
	assert_non_null(strstr(out, "error: the control socket is for root only"));
	assert_null(strstr(out, "\"rules\""));

	shrike_run_stop(&run);
	shrike_run_free(&run);
	assert_int_equal(shell(out, sizeof(out), "%s status --control %s 2>&1", bin, sock), 3);
	assert_non_null(strstr(out, "not running"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_and_root_only),
	};

	test_require_root("the system tier (loads BPF sensors)");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
