// SPDX-License-Identifier: Apache-2.0
/*
 * The VM tier's probe: one operation, its outcome on stdout ("ok" or the
 * errno's name), so guest.sh can assert EPERM from the lsm backend.
 *
 *   vmtry mark FILE              create FILE (a denied copy must never get here)
 *   vmtry exec PATH ARGV0 [ARG...]    execv(PATH); on success PATH runs instead
 *   vmtry execfd PATH ARGV0 [ARG...]  execveat(open(PATH), "", AT_EMPTY_PATH)
 *   vmtry open PATH              open(PATH, O_RDONLY) and read a byte
 *   vmtry openat DIR NAME        openat(open(DIR), NAME, O_RDONLY)
 *   vmtry connect PORT           listen on 127.0.0.1:PORT, connect to it
 *   vmtry setuid UID             setuid(UID)
 *   vmtry mount DIR              mount a tmpfs on DIR
 *   vmtry symlink TARGET PATH    symlink(TARGET, PATH)
 *   vmtry link TARGET PATH       link(TARGET, PATH)
 *   vmtry ptrace                 PTRACE_ATTACH to a child of its own
 *   vmtry bpf                    create a small BPF array map
 *   vmtry module FILE            finit_module(FILE): never a real module
 *                                here, so "allowed" is the loader's ENOEXEC
 *   vmtry execmemfd PATH ARGV0 [ARG...]  PATH copied into a memfd, then
 *                                execveat(memfd, "", AT_EMPTY_PATH)
 *
 * Built static by tests/vm/run.sh: the initramfs has no C library of its
 * own beyond shrike's.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/bpf.h>

static int outcome(int err)
{
	switch (err) {
	case 0:
		puts("ok");
		return 0;
	case EPERM:
		puts("EPERM");
		break;
	case EACCES:
		puts("EACCES");
		break;
	case ENOENT:
		puts("ENOENT");
		break;
	case ENOEXEC:
		puts("ENOEXEC");
		break;
	default:
		printf("errno %d\n", err);
	}
	return 1;
}

static int try_connect(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int one = 1, l, c, err = 0;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || c < 0)
		return outcome(errno);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) || listen(l, 1))
		return outcome(errno);
	if (connect(c, (struct sockaddr *)&sa, sizeof(sa)))
		err = errno;
	close(c);
	close(l);
	return outcome(err);
}

static int try_read(int fd)
{
	char b;

	if (fd < 0)
		return outcome(errno);
	if (read(fd, &b, 1) < 0)
		return outcome(errno);
	close(fd);
	return outcome(0);
}

int main(int argc, char **argv)
{
	const char *op = argc > 1 ? argv[1] : "";

	if (!strcmp(op, "mark") && argc == 3) {
		int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd >= 0)
			close(fd);
		return outcome(fd < 0 ? errno : 0);
	}
	if (!strcmp(op, "exec") && argc >= 4) {
		execv(argv[2], argv + 3);
		return outcome(errno);
	}
	if (!strcmp(op, "execfd") && argc >= 4) {
		char *envp[] = { NULL };
		int fd = open(argv[2], O_PATH | O_CLOEXEC);

		if (fd < 0)
			return outcome(errno);
		syscall(SYS_execveat, fd, "", argv + 3, envp, AT_EMPTY_PATH);
		return outcome(errno);
	}
	if (!strcmp(op, "open") && argc == 3)
		return try_read(open(argv[2], O_RDONLY));
	if (!strcmp(op, "openat") && argc == 4) {
		int dfd = open(argv[2], O_RDONLY | O_DIRECTORY);

		if (dfd < 0)
			return outcome(errno);
		return try_read(openat(dfd, argv[3], O_RDONLY));
	}
	if (!strcmp(op, "connect") && argc == 3)
		return try_connect(atoi(argv[2]));
	if (!strcmp(op, "setuid") && argc == 3)
		return outcome(setuid((uid_t)atoi(argv[2])) ? errno : 0);
	if (!strcmp(op, "mount") && argc == 3)
		return outcome(mount("none", argv[2], "tmpfs", 0, NULL) ? errno : 0);
	if (!strcmp(op, "symlink") && argc == 4)
		return outcome(symlink(argv[2], argv[3]) ? errno : 0);
	if (!strcmp(op, "link") && argc == 4)
		return outcome(link(argv[2], argv[3]) ? errno : 0);
	if (!strcmp(op, "ptrace") && argc == 2) {
		pid_t c = fork();
		int err = 0;

		if (c == 0) {
			pause();
			_exit(0);
		}
		if (ptrace(PTRACE_ATTACH, c, NULL, NULL))
			err = errno;
		kill(c, SIGKILL);
		waitpid(c, NULL, 0);
		return outcome(err);
	}
	if (!strcmp(op, "bpf") && argc == 2) {
		union bpf_attr a;
		int fd;

		memset(&a, 0, sizeof(a));
		a.map_type = BPF_MAP_TYPE_ARRAY;
		a.key_size = 4;
		a.value_size = 4;
		a.max_entries = 1;
		fd = (int)syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof(a));
		if (fd >= 0)
			close(fd);
		return outcome(fd < 0 ? errno : 0);
	}
	if (!strcmp(op, "module") && argc == 3) {
		int fd = open(argv[2], O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			return outcome(errno);
		return outcome(syscall(SYS_finit_module, fd, "", 0) ? errno : 0);
	}
	if (!strcmp(op, "execmemfd") && argc >= 4) {
		char *envp[] = { NULL }, buf[65536];
		int src = open(argv[2], O_RDONLY), fd = (int)syscall(SYS_memfd_create, "vmt", 0);
		ssize_t n;

		if (src < 0 || fd < 0)
			return outcome(errno);
		while ((n = read(src, buf, sizeof(buf))) > 0)
			if (write(fd, buf, (size_t)n) != n)
				return outcome(EIO);
		syscall(SYS_execveat, fd, "", argv + 3, envp, AT_EMPTY_PATH);
		return outcome(errno);
	}
	fprintf(stderr, "usage: vmtry mark|exec|execfd|execmemfd|open|openat|connect|setuid|mount|"
			"symlink|link|ptrace|bpf|module ...\n");
	return 2;
}
