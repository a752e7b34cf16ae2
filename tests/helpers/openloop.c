/* SPDX-License-Identifier: Apache-2.0 */
/*
 * openloop PROCS MS PATH: PROCS processes open and close PATH as fast as
 * they can for MS milliseconds (a burst of openat records, to overflow a
 * small ring buffer). Prints the opens done.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	long long *total;
	int procs;
	long ms;

	if (argc < 4) {
		fprintf(stderr, "usage: openloop PROCS MS PATH\n");
		return 2;
	}
	procs = atoi(argv[1]);
	ms = atol(argv[2]);
	total = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (total == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	for (int i = 0; i < procs; i++) {
		if (fork() == 0) {
			long long end = now_ms() + ms, n = 0;

			while (now_ms() < end)
				for (int k = 0; k < 256; k++, n++) {
					int fd = open(argv[3], O_RDONLY | O_CLOEXEC);

					if (fd >= 0)
						close(fd);
				}
			__atomic_add_fetch(total, n, __ATOMIC_RELAXED);
			_exit(0);
		}
	}
	while (wait(NULL) > 0)
		;
	printf("%lld\n", *total);
	return 0;
}
