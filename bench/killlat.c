/* SPDX-License-Identifier: Apache-2.0 */
/*
 * killlat N BIN: how long a denied exec lives. N times: fork; the child
 * stamps CLOCK_MONOTONIC into a shared page right before execve(BIN); the
 * parent waits and stamps when waitpid returns. Prints the median and p99
 * of (death - execve entry) in microseconds, and how many children were
 * killed by SIGKILL (all of them, when shrike denies BIN). Exit 1 if any
 * child was not killed.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	volatile uint64_t *stamp;
	uint64_t *lat;
	long n;
	int killed = 0;

	if (argc != 3 || (n = strtol(argv[1], NULL, 10)) < 1) {
		fprintf(stderr, "usage: killlat N BIN\n");
		return 2;
	}
	stamp = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	lat = calloc((size_t)n, sizeof(*lat));
	if (stamp == MAP_FAILED || !lat)
		return 2;
	for (long i = 0; i < n; i++) {
		char *const av[] = { argv[2], NULL };
		int st;
		pid_t p = fork();

		if (p < 0)
			return 2;
		if (p == 0) {
			*stamp = now_ns();
			execv(argv[2], av);
			_exit(127);
		}
		waitpid(p, &st, 0);
		lat[i] = now_ns() - *stamp;
		killed += WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
	}
	qsort(lat, (size_t)n, sizeof(*lat), cmp);
	printf("killlat n=%ld killed=%d median_us=%.1f p99_us=%.1f max_us=%.1f\n", n, killed,
	       lat[n / 2] / 1e3, lat[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] / 1e3,
	       lat[n - 1] / 1e3);
	return killed == n ? 0 : 1;
}
