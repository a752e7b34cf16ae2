/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spinner FILE: busy-loop incrementing a 64-bit counter in FILE (shared
 * mapping), so a test can see from outside whether it runs (a frozen
 * spinner's counter stands still).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	volatile uint64_t *ctr;
	int fd;

	if (argc < 2) {
		fprintf(stderr, "usage: spinner FILE\n");
		return 2;
	}
	fd = open(argv[1], O_RDWR | O_CLOEXEC);
	if (fd < 0 || ftruncate(fd, 4096) < 0) {
		perror(argv[1]);
		return 1;
	}
	ctr = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (ctr == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	for (;;)
		(*ctr)++;
}
