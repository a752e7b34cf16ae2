/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rendered values, as Falco prints them: errno names, O_* flags, PTRACE_*
 * requests, AF_* domains, signal names, CAP_* sets, fd types, addresses.
 * Each writes a NUL-terminated string into out (truncating safely) and
 * returns out.
 */
#ifndef SHRIKE_RENDER_H
#define SHRIKE_RENDER_H

#include <stddef.h>
#include <stdint.h>
#include "shrike_abi.h"

/* "SUCCESS" for >= 0 returns of syscalls that return 0, the number for
 * fds/counts, else the errno name ("ENOENT"). */
const char *shk_render_res(int64_t ret, char *out, size_t outsz);
const char *shk_render_errno(int64_t ret, char *out, size_t outsz);
const char *shk_render_open_flags(uint64_t flags, char *out, size_t outsz);
const char *shk_render_mode(uint64_t mode, char *out, size_t outsz);
const char *shk_render_ptrace_req(uint64_t req, char *out, size_t outsz);
const char *shk_render_domain(uint64_t af, char *out, size_t outsz);
const char *shk_render_socktype(uint64_t type, char *out, size_t outsz);
const char *shk_render_signal(uint64_t sig, char *out, size_t outsz);
const char *shk_render_caps(uint64_t caps, char *out, size_t outsz);
const char *shk_render_clone_flags(uint64_t flags, char *out, size_t outsz);
const char *shk_render_prctl_opt(uint64_t opt, char *out, size_t outsz);
const char *shk_render_bpf_cmd(uint64_t cmd, char *out, size_t outsz);

/* Falco's fd.type ("file", "ipv4", "unix", "pipe", ...) and fd.typechar. */
const char *shk_fd_type_name(unsigned type);
char shk_fd_typechar(unsigned type);

/* "ip:port" (IPv6 as "[ip]:port") for one end of a socket fd. */
const char *shk_render_endpoint(const struct shk_fd *fd, int remote, char *out, size_t outsz);
/* Falco's fd.name for a socket: "lip:lport->rip:rport". */
const char *shk_render_tuple(const struct shk_fd *fd, char *out, size_t outsz);

#endif
