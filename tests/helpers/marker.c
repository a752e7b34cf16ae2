/* SPDX-License-Identifier: Apache-2.0 */
/*
 * marker PATH [rename NAME] [open FILE]: the first thing it does is create
 * PATH, so a test can tell whether the program ran at all (a denied exec
 * must not run one instruction of it). Then "rename NAME" sets its comm
 * with prctl(PR_SET_NAME), and "open FILE" reads FILE and prints how many
 * bytes it got.
 */
#include <fcntl.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char buf[256];
	ssize_t n;
	int fd;

	if (argc < 2)
		return 2;
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return 3;
	close(fd);
	for (int i = 2; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "rename")) {
			prctl(PR_SET_NAME, argv[i + 1]);
			continue;
		}
		if (strcmp(argv[i], "open"))
			return 2;
		fd = open(argv[i + 1], O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			perror("open");
			return 4;
		}
		n = read(fd, buf, sizeof(buf));
		printf("read %zd\n", n);
		fflush(stdout);
		close(fd);
	}
	return 0;
}
