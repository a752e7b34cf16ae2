/* SPDX-License-Identifier: Apache-2.0 */
#include "control.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

static int addr_of(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

int control_listen(const char *path)
{
	struct sockaddr_un sa;
	char dir[sizeof(sa.sun_path)];
	struct stat st;
	int fd, err;

	if ((err = addr_of(path, &sa)))
		return err;
	snprintf(dir, sizeof(dir), "%s", path);
	if (mkdir(dirname(dir), 0700) && errno != EEXIST)
		return -errno;
	/* a leftover socket of a previous run (kill -9) is replaced; anything
	 * else at that path is not ours to remove */
	if (!lstat(path, &st)) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(path, 0600) || listen(fd, 8)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int control_accept(int lfd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return -errno;
	/* root only, checked on the connection itself (file modes can be
	 * changed; the kernel's record of the peer cannot) */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) || cred.uid != 0) {
		static const char msg[] = "error: the control socket is for root only\n";

		if (write(fd, msg, sizeof(msg) - 1) < 0) {
			/* nothing more to say to it */
		}
		close(fd);
		return -EPERM;
	}
	/* a client that connects and says nothing must not stall the loop */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

int control_read_request(int fd, char *buf, size_t size)
{
	size_t n = 0;

	while (n + 1 < size) {
		ssize_t k = read(fd, buf + n, size - 1 - n);

		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		n += (size_t)k;
		if (memchr(buf, '\n', n))
			break;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return n ? 0 : -EINVAL;
}

int control_request(const char *path, const char *req, int *ret_status)
{
	struct sockaddr_un sa;
	char buf[8192];
	ssize_t k;
	int fd, err;

	if ((err = addr_of(path, &sa)))
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		close(fd);
		return err;
	}
	/* MSG_NOSIGNAL: a daemon that refuses us closes at once; a write
	 * after that must fail with EPIPE, not kill us with SIGPIPE before we
	 * read why */
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0 || send(fd, "\n", 1, MSG_NOSIGNAL) < 0) {
		if (errno != EPIPE && errno != ECONNRESET) {
			err = -errno;
			close(fd);
			return err;
		}
	}
	*ret_status = 0;
	while ((k = read(fd, buf, sizeof(buf))) > 0) {
		fwrite(buf, 1, (size_t)k, stdout);
		if (!strncmp(buf, "error:", 6))
			*ret_status = 1;
	}
	close(fd);
	return 0;
}
