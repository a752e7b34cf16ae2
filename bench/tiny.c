/* SPDX-License-Identifier: Apache-2.0 */
/* The tiny static binary the exec benchmark forks and execs: no dynamic
 * loader, no libraries to map, so the loop measures fork/exec/exit itself
 * (and what shrike adds to each). Linked -static (bench/CMakeLists.txt). */
int main(void)
{
	return 0;
}
