/* SPDX-License-Identifier: Apache-2.0 */
/*
 * forker MARKER: a process tree that keeps changing, for kill-tree tests.
 * The root forks 3 children, each child 2 grandchildren, and one
 * grandchild of each child a long-lived great-grandchild. Every process
 * then loops forking short-lived kids, so the tree grows while it is being
 * killed. MARKER sits in argv (inherited by every fork) so a test can find
 * any survivor in /proc. Parents reap their kids; nobody uses
 * PR_SET_PDEATHSIG, which would hide a kill that missed someone.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Fork short-lived kids forever; reap whatever exits. */
static void churn(void)
{
	for (;;) {
		pid_t k = fork();

		if (k == 0) {
			nap_ms(20);
			_exit(0);
		}
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		nap_ms(5);
	}
}

static pid_t spawn(void (*fn)(int), int arg)
{
	pid_t p = fork();

	if (p == 0) {
		fn(arg);
		_exit(0);
	}
	return p;
}

static void sleeper(int unused)
{
	for (;;)
		pause();
}

static void grandchild(int idx)
{
	if (idx == 0)
		spawn(sleeper, 0);
	churn();
}

static void child(int unused)
{
	for (int i = 0; i < 2; i++)
		spawn(grandchild, i);
	churn();
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: forker MARKER\n");
		return 2;
	}
	for (int i = 0; i < 3; i++)
		spawn(child, i);
	churn();
	return 0;
}
