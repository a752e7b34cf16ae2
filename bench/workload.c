/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Benchmark workload: one tight loop of syscalls that shrike traces, timed
 * with CLOCK_MONOTONIC. See bench/README.md.
 *
 *   workload open N              N x open/read/close of a small file (temp dir)
 *   workload exec N TINY         N x fork + execve(TINY) + waitpid
 *   workload connect N [graceful] N x socket/connect/close to a 127.0.0.1 listener
 *                                 (accepted and closed by a thread)
 *
 * connect closes with SO_LINGER 0 (RST) unless 'graceful' is given: a normal
 * close leaves ~N TIME_WAIT sockets behind for 60 s, and the kernel's
 * ephemeral-port search slows down as they pile up (1.5 s -> 2.4 s for 40000
 * connects after a few runs on the reference machine). That drift would
 * penalise whichever run comes later, independently of shrike. The syscalls
 * shrike sees (socket, connect, accept4) are the same either way.
 *
 * Prints one line: "loop=NAME n=N ns=ELAPSED". Any failure is reported on
 * stderr and the exit status is non-zero; a loop never reports a time for
 * work it did not do.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *prog = "workload";

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: error: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: workload open N\n"
		"       workload exec N TINY_STATIC_BINARY\n"
		"       workload connect N [graceful]\n"
		"Runs the loop N times; prints 'loop=NAME n=N ns=ELAPSED' (CLOCK_MONOTONIC).\n");
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts))
		die("clock_gettime: %s", strerror(errno));
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static long parse_n(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > 100000000L)
		die("N: '%s' is not a number in [1, 100000000]", s);
	return v;
}

/* ---------------------------------------------------------------- open */

static uint64_t loop_open(long n)
{
	const char *tmp = getenv("TMPDIR");
	char dir[PATH_MAX], path[PATH_MAX + 16], buf[256];
	static const char content[] = "shrike benchmark: a small file read in a loop\n";
	uint64_t t0, t1;
	int fd;

	if (!tmp || !*tmp)
		tmp = "/tmp";
	if (snprintf(dir, sizeof(dir), "%s/shrike-bench.XXXXXX", tmp) >= (int)sizeof(dir))
		die("TMPDIR too long");
	if (!mkdtemp(dir))
		die("mkdtemp %s: %s", dir, strerror(errno));
	snprintf(path, sizeof(path), "%s/small.txt", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		die("create %s: %s", path, strerror(errno));
	if (write(fd, content, sizeof(content) - 1) != (ssize_t)sizeof(content) - 1)
		die("write %s: %s", path, strerror(errno));
	if (close(fd))
		die("close %s: %s", path, strerror(errno));

	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		ssize_t r;

		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			die("open %s (iteration %ld): %s", path, i, strerror(errno));
		r = read(fd, buf, sizeof(buf));
		if (r != (ssize_t)sizeof(content) - 1)
			die("read %s (iteration %ld): %s", path, i,
			    r < 0 ? strerror(errno) : "short read");
		if (close(fd))
			die("close %s (iteration %ld): %s", path, i, strerror(errno));
	}
	t1 = now_ns();

	if (unlink(path) || rmdir(dir))
		die("cleanup %s: %s", dir, strerror(errno));
	return t1 - t0;
}

/* ---------------------------------------------------------------- exec */

static uint64_t loop_exec(long n, const char *tiny)
{
	char *const argv[] = { (char *)tiny, NULL };
	uint64_t t0, t1;

	if (access(tiny, X_OK))
		die("%s: %s (build bench_tiny)", tiny, strerror(errno));

	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		int status;
		pid_t pid = fork();

		if (pid < 0)
			die("fork (iteration %ld): %s", i, strerror(errno));
		if (pid == 0) {
			execve(tiny, argv, environ);
			/* stderr is still ours: say why, then a distinct status */
			fprintf(stderr, "%s: error: execve %s: %s\n", prog, tiny, strerror(errno));
			_exit(127);
		}
		while (waitpid(pid, &status, 0) < 0)
			if (errno != EINTR)
				die("waitpid (iteration %ld): %s", i, strerror(errno));
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			die("%s (iteration %ld) did not exit 0 (status 0x%x)", tiny, i, status);
	}
	t1 = now_ns();
	return t1 - t0;
}

/* ------------------------------------------------------------- connect */

struct acceptor {
	int lfd;
	long n;
	long accepted;
	int err;      /* errno of a failed accept, or 0 */
};

static void *acceptor_run(void *arg)
{
	struct acceptor *a = arg;

	while (a->accepted < a->n) {
		int fd = accept4(a->lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			a->err = errno;
			return NULL;
		}
		close(fd);
		a->accepted++;
	}
	return NULL;
}

static uint64_t loop_connect(long n, bool graceful)
{
	const struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t slen = sizeof(sa);
	struct acceptor a = { .n = n };
	pthread_t th;
	uint64_t t0, t1;
	int err, one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (a.lfd < 0)
		die("socket (listener): %s", strerror(errno));
	setsockopt(a.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(a.lfd, (struct sockaddr *)&sa, sizeof(sa)))
		die("bind 127.0.0.1:0: %s", strerror(errno));
	if (listen(a.lfd, 4096))
		die("listen: %s", strerror(errno));
	if (getsockname(a.lfd, (struct sockaddr *)&sa, &slen))
		die("getsockname: %s", strerror(errno));
	if ((err = pthread_create(&th, NULL, acceptor_run, &a)))
		die("pthread_create: %s", strerror(err));

	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			die("socket (iteration %ld): %s", i, strerror(errno));
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			die("connect 127.0.0.1:%u (iteration %ld): %s%s", ntohs(sa.sin_port), i,
			    strerror(errno),
			    errno == EADDRNOTAVAIL ? " (ephemeral ports exhausted: "
						     "lower N or wait for TIME_WAIT)" : "");
		if (!graceful && setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)))
			die("setsockopt SO_LINGER (iteration %ld): %s", i, strerror(errno));
		if (close(fd))
			die("close (iteration %ld): %s", i, strerror(errno));
	}
	/* the work is done when the listener has taken every connection */
	if ((err = pthread_join(th, NULL)))
		die("pthread_join: %s", strerror(err));
	t1 = now_ns();

	if (a.err)
		die("accept (after %ld connections): %s", a.accepted, strerror(a.err));
	close(a.lfd);
	return t1 - t0;
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv)
{
	const char *loop;
	uint64_t ns;
	long n;

	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc < 3) {
		usage(stderr);
		return 2;
	}
	loop = argv[1];
	n = parse_n(argv[2]);
	if (!strcmp(loop, "open") && argc == 3) {
		ns = loop_open(n);
	} else if (!strcmp(loop, "exec") && argc == 4) {
		ns = loop_exec(n, argv[3]);
	} else if (!strcmp(loop, "connect") && argc == 3) {
		ns = loop_connect(n, false);
	} else if (!strcmp(loop, "connect") && argc == 4 && !strcmp(argv[3], "graceful")) {
		ns = loop_connect(n, true);
	} else {
		usage(stderr);
		return 2;
	}
	printf("loop=%s n=%ld ns=%llu\n", loop, n, (unsigned long long)ns);
	if (fflush(stdout) || ferror(stdout))
		die("cannot write to stdout");
	return 0;
}
