/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Alert-storm generator for bench/storm.sh: opens (O_RDONLY) and closes one
 * file N times, at a steady rate, so that a rule matching that path fires N
 * times.
 *
 *   storm [-r RATE] N PATH
 *
 * -r: opens per second (default 20000; 0: as fast as it can). The pace is
 * kept on an absolute schedule (open i is due at start + i/RATE), checked
 * every few opens, so a late start is caught up rather than carried over.
 *
 * Prints one line: "storm n=N ns=ELAPSED rate=OPENS_PER_S" (CLOCK_MONOTONIC,
 * the loop only). Any failure is reported on stderr with a non-zero exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PACE_EVERY 16 /* opens between two looks at the clock */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "storm: error: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts))
		die("clock_gettime: %s", strerror(errno));
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / 1000000000ULL),
			       .tv_nsec = (long)(t % 1000000000ULL) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static long parse_num(const char *what, const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		die("%s: '%s' is not a number in [%ld, %ld]", what, s, min, max);
	return v;
}

int main(int argc, char **argv)
{
	long rate = 20000, n;
	const char *path;
	uint64_t t0, t1;
	int opt;

	while ((opt = getopt(argc, argv, "r:h")) != -1) {
		switch (opt) {
		case 'r':
			rate = parse_num("-r", optarg, 0, 10000000L);
			break;
		case 'h':
			printf("usage: storm [-r RATE] N PATH\n");
			return 0;
		default:
			fprintf(stderr, "usage: storm [-r RATE] N PATH\n");
			return 2;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "usage: storm [-r RATE] N PATH\n");
		return 2;
	}
	n = parse_num("N", argv[optind], 1, 100000000L);
	path = argv[optind + 1];
	if (access(path, R_OK))
		die("%s: %s", path, strerror(errno));

	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		int fd;

		if (rate && i % PACE_EVERY == 0) {
			uint64_t due = t0 + (uint64_t)i * 1000000000ULL / (uint64_t)rate;

			if (now_ns() < due)
				sleep_until(due);
		}
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			die("open %s (iteration %ld): %s", path, i, strerror(errno));
		if (close(fd))
			die("close %s (iteration %ld): %s", path, i, strerror(errno));
	}
	t1 = now_ns();
	printf("storm n=%ld ns=%llu rate=%.0f\n", n, (unsigned long long)(t1 - t0),
	       (double)n * 1e9 / (double)(t1 - t0));
	return 0;
}
