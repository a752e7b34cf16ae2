/* SPDX-License-Identifier: Apache-2.0 */
/* Hand-built kernel records, a small process table and an evaluation
 * context, shared by the extraction, evaluation and output unit tests. */
#ifndef SHRIKE_EVFIXTURE_H
#define SHRIKE_EVFIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "extract.h"
#include "proctable.h"
#include "users.h"

#define HOST_MNTNS 4026531840u
#define TS 5000000000000ull /* boot time of the events, ns */
#define BOOT_TO_REAL 1700000000000000000ll
struct rb {
	uint8_t b[SHK_EVENT_MAX];
	size_t pos;
};

extern struct rb rb;
extern struct shk_event ev;
extern struct shk_proctable *pt;
extern struct shk_users *users;
extern struct shk_evalctx ctx;
extern char host_root[4096];

void rb_str(struct rb *r, struct shk_str *slot, const void *s, size_t len);
void task_init(struct shk_task *t, uint32_t pid, uint32_t ppid, const char *comm);
void decode(struct rb *r, struct shk_event *out);
size_t argv_bytes(char *out, const char *const *argv);
struct shk_exec *exec_rec(struct rb *r, uint32_t pid, uint32_t ppid, const char *comm,
				 const char *exe, const char *const *argv, const char *cwd,
				 uint32_t flags);
struct shk_syscall *sys_rec(struct rb *r, const char *name, uint32_t pid, uint32_t ppid,
				   const char *comm, int64_t ret);
void add_proc(uint32_t pid, uint32_t ppid, const char *comm, const char *exe,
		     const char *const *argv);
int setup(void **state);
int teardown(void **state);

#endif
