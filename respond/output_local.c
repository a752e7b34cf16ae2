/* SPDX-License-Identifier: Apache-2.0 */
/* The local sinks: stdout, file (JSON lines), syslog, program. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "outputs_impl.h"

extern char **environ;

/* One line: the alert and its newline in one write where possible, so that
 * concurrent writers to the same file do not interleave within a line. */
static int write_line(struct sink *k, int fd, const char *s, char *err, size_t errsz)
{
	size_t len = strlen(s);
	char small[8192];
	int r;

	if (len + 1 <= sizeof(small)) {
		memcpy(small, s, len);
		small[len] = '\n';
		r = shk_sink_write_all(k, fd, small, len + 1, k->o.timeout_ms);
	} else {
		r = shk_sink_write_all(k, fd, s, len, k->o.timeout_ms);
		if (!r)
			r = shk_sink_write_all(k, fd, "\n", 1, k->o.timeout_ms);
	}
	if (r)
		snprintf(err, errsz, "write: %s", strerror(-r));
	return r;
}

/* ---- stdout -------------------------------------------------------------- */

static int stdout_send(struct sink *k, const struct shk_alert_blob *a, char *err, size_t errsz)
{
	return write_line(k, k->o.fd, shk_sink_line(k, a), err, errsz);
}

const struct sink_ops shk_sink_stdout_ops = {
	.send = stdout_send,
};

/* ---- file ---------------------------------------------------------------- */

struct file_sink {
	int fd;
	dev_t dev; /* of the file fd is open on */
	ino_t ino;
};

static int file_open_fd(struct sink *k, char *err, size_t errsz)
{
	struct file_sink *f = k->impl;
	struct stat st;

	if (f->fd >= 0)
		return 0;
	/* alerts name processes and files: not for every local user */
	f->fd = open(k->o.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	if (f->fd < 0) {
		int e = errno;

		snprintf(err, errsz, "%s: %s", k->o.path, strerror(e));
		return -e;
	}
	if (!fstat(f->fd, &st))
		f->dev = st.st_dev, f->ino = st.st_ino;
	return 0;
}

/* Whether the path no longer names the open file (renamed or removed by a
 * logrotate that did not signal us): the next write reopens it. */
static bool file_rotated(struct sink *k)
{
	struct file_sink *f = k->impl;
	struct stat st;

	return f->fd >= 0 && (stat(k->o.path, &st) || st.st_dev != f->dev || st.st_ino != f->ino);
}

static int file_open(struct sink *k, char *err, size_t errsz)
{
	struct file_sink *f = calloc(1, sizeof(*f));
	int r;

	if (!f)
		return -ENOMEM;
	f->fd = -1;
	k->impl = f;
	if (!k->o.path || !k->o.path[0]) {
		snprintf(err, errsz, "file output: no path");
		return -EINVAL;
	}
	/* fail at start-up on a path that cannot be written */
	r = file_open_fd(k, err, errsz);
	if (!r && !k->o.keep_alive) {
		close(f->fd);
		f->fd = -1;
	}
	return r;
}

static void file_close_fd(struct sink *k)
{
	struct file_sink *f = k->impl;

	if (f && f->fd >= 0) {
		close(f->fd);
		f->fd = -1;
	}
}

static void file_close_fd(struct sink *k);

static int file_send(struct sink *k, const struct shk_alert_blob *a, char *err, size_t errsz)
{
	int r;

	if (file_rotated(k)) {
		file_close_fd(k);
		atomic_fetch_add(&k->reopens, 1);
	}
	r = file_open_fd(k, err, errsz);

	if (r)
		return r;
	r = write_line(k, ((struct file_sink *)k->impl)->fd, a->json, err, errsz);
	if (r || !k->o.keep_alive)
		file_close_fd(k); /* a failed fd is reopened on the retry */
	return r;
}

static void file_close(struct sink *k)
{
	file_close_fd(k);
	free(k->impl);
	k->impl = NULL;
}

/* SIGUSR1 (logrotate's postrotate): let go of the old file at once and,
 * with keep_alive, create the new one now rather than at the next alert,
 * so the rotation is visible when the signal has been handled. A failure
 * is left to the next write, which retries and counts it. */
static void file_reopen(struct sink *k)
{
	char err[8];

	file_close_fd(k);
	if (k->o.keep_alive)
		file_open_fd(k, err, sizeof(err));
}

const struct sink_ops shk_sink_file_ops = {
	.open = file_open,
	.send = file_send,
	.reopen = file_reopen,
	.close = file_close,
};

/* ---- syslog -------------------------------------------------------------- */

/* Datagrams to the local syslog socket ourselves rather than syslog(3):
 * openlog() is process-wide, and the socket path can be pointed elsewhere. */
struct syslog_sink {
	int fd;
};

static int syslog_connect(struct sink *k, char *err, size_t errsz)
{
	struct syslog_sink *s = k->impl;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int e;

	if (s->fd >= 0)
		return 0;
	if (strlen(k->o.socket) >= sizeof(sa.sun_path)) {
		snprintf(err, errsz, "%s: path too long", k->o.socket);
		return -EPERM;
	}
	strcpy(sa.sun_path, k->o.socket);
	s->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s->fd >= 0 && !connect(s->fd, (struct sockaddr *)&sa, sizeof(sa)))
		return 0;
	e = errno;
	snprintf(err, errsz, "%s: %s", k->o.socket, strerror(e));
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	return -e;
}

static int syslog_open(struct sink *k, char *err, size_t errsz)
{
	struct syslog_sink *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->fd = -1;
	k->impl = s;
	/* syslogd may start after us: a missing socket is retried later */
	syslog_connect(k, err, errsz);
	return 0;
}

static int syslog_send(struct sink *k, const struct shk_alert_blob *a, char *err, size_t errsz)
{
	struct syslog_sink *s = k->impl;
	/* Falco's priorities are syslog's severities, in the same order */
	int pri = k->o.facility | (a->priority & 7);
	const char *msg = shk_sink_line(k, a);
	char hdr[96], stamp[32];
	struct iovec iov[2];
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	time_t now = time(NULL);
	struct tm tm;
	int r, n;

	if ((r = syslog_connect(k, err, errsz)))
		return r;
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
	n = snprintf(hdr, sizeof(hdr), "<%d>%s shrike[%d]: ", pri, stamp, (int)getpid());
	iov[0] = (struct iovec){ hdr, (size_t)n };
	iov[1] = (struct iovec){ (void *)msg, strlen(msg) };
	if (sendmsg(s->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0)
		return 0;
	r = -errno;
	snprintf(err, errsz, "%s: %s", k->o.socket, strerror(-r));
	close(s->fd); /* reconnect on the retry: syslogd may have restarted */
	s->fd = -1;
	return r;
}

static void syslog_close(struct sink *k)
{
	struct syslog_sink *s = k->impl;

	if (s && s->fd >= 0)
		close(s->fd);
	free(s);
	k->impl = NULL;
}

const struct sink_ops shk_sink_syslog_ops = {
	.open = syslog_open,
	.send = syslog_send,
	.close = syslog_close,
};

/* ---- program ------------------------------------------------------------- */

struct program_sink {
	pid_t pid;
	int fd; /* the write end of its stdin */
	bool ever;
};

static void program_reap(struct sink *k, bool force)
{
	struct program_sink *p = k->impl;

	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	if (p->pid <= 0)
		return;
	/* stdin closed: a well-behaved filter exits; give it a moment */
	for (int i = 0; i < (force ? 0 : 100); i++) {
		if (waitpid(p->pid, NULL, WNOHANG) == p->pid) {
			p->pid = 0;
			return;
		}
		usleep(10000);
	}
	kill(p->pid, SIGKILL);
	waitpid(p->pid, NULL, 0);
	p->pid = 0;
}

static int program_spawn(struct sink *k, char *err, size_t errsz)
{
	struct program_sink *p = k->impl;
	char *argv[] = { "sh", "-c", (char *)k->o.program, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, def;
	int fds[2], r;

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
	/* its stdout would mix with the alerts on ours */
	posix_spawn_file_actions_adddup2(&fa, 2, 1);
	posix_spawnattr_init(&at);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &def);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	r = posix_spawn(&p->pid, "/bin/sh", &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(fds[0]);
	if (r) {
		close(fds[1]);
		p->pid = 0;
		snprintf(err, errsz, "cannot start '%s': %s", k->o.program, strerror(r));
		return -r;
	}
	p->fd = fds[1];
	if (p->ever)
		atomic_fetch_add(&k->restarts, 1);
	p->ever = true;
	return 0;
}

static int program_open(struct sink *k, char *err, size_t errsz)
{
	struct program_sink *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->fd = -1;
	k->impl = p;
	if (!k->o.program || !k->o.program[0]) {
		snprintf(err, errsz, "program output: no command");
		return -EINVAL;
	}
	return program_spawn(k, err, errsz);
}

static int program_send(struct sink *k, const struct shk_alert_blob *a, char *err, size_t errsz)
{
	struct program_sink *p = k->impl;
	sigset_t pipe_set;
	struct timespec zero = { 0 };
	int r;

	if (p->pid > 0 && waitpid(p->pid, NULL, WNOHANG) == p->pid) {
		p->pid = 0; /* it died: start it again below */
		program_reap(k, true);
	}
	if (p->pid <= 0 && (r = program_spawn(k, err, errsz)))
		return r;
	r = write_line(k, p->fd, shk_sink_line(k, a), err, errsz);
	if (r == -EPIPE) {
		/* the worker blocks every signal: collect the pending SIGPIPE */
		sigemptyset(&pipe_set);
		sigaddset(&pipe_set, SIGPIPE);
		sigtimedwait(&pipe_set, NULL, &zero);
		snprintf(err, errsz, "'%s' exited", k->o.program);
	}
	if (r)
		program_reap(k, r != -EPIPE);
	return r;
}

static void program_close(struct sink *k)
{
	if (!k->impl)
		return;
	program_reap(k, false);
	free(k->impl);
	k->impl = NULL;
}

const struct sink_ops shk_sink_program_ops = {
	.open = program_open,
	.send = program_send,
	.close = program_close,
};
