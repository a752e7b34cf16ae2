/* SPDX-License-Identifier: Apache-2.0 */
/*
 * int80 N: makes N 32-bit syscalls (getpid through int 0x80) from a 64-bit
 * process, the way code hides from sensors that only know the native
 * table. Prints the pid they returned; exits 2 when the kernel has no
 * 32-bit syscalls (no ia32 emulation), so a test can say why it skips.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define IA32_NR_GETPID 20

static long getpid_int80(void)
{
#if defined(__x86_64__)
	long ret = IA32_NR_GETPID;

	__asm__ volatile("int $0x80" : "+a"(ret) : : "memory");
	return ret;
#else
	return -38; /* -ENOSYS */
#endif
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1, pid = 0;

	for (long i = 0; i < n; i++) {
		pid = getpid_int80();
		if (pid < 0)
			return 2;
	}
	printf("%ld\n", pid);
	return pid == getpid() ? 0 : 1;
}
