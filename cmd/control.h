/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's control socket: a root-only Unix stream socket (0600 in a
 * 0700 directory, and every peer checked with SO_PEERCRED). One request
 * line per connection ("status", "quarantine list", "quarantine release
 * ID|--all"), one response, then close.
 */
#ifndef SHRIKE_CONTROL_H
#define SHRIKE_CONTROL_H

#include <stddef.h>

#define SHK_CONTROL_PATH "/run/shrike/control.sock"

/* Daemon side: bind and listen; returns the listening fd or -errno. */
int control_listen(const char *path);
/* Accept one client; returns its fd, or -errno (-EPERM for a non-root
 * peer, which has already been told and disconnected). */
int control_accept(int lfd);
/* Read the request line (bounded wait); 0 or -errno. */
int control_read_request(int fd, char *buf, size_t size);

/* Client side: send a request, copy the whole response to stdout. Returns
 * 0 when the daemon answered, -ENOENT/-ECONNREFUSED when none runs. */
int control_request(const char *path, const char *req, int *ret_status);

#endif
