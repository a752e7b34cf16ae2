/* SPDX-License-Identifier: Apache-2.0 */
/* Validating decoder for kernel records (bpf/shrike_abi.h -> struct shk_event). */
#ifndef SHRIKE_DECODE_H
#define SHRIKE_DECODE_H

#include <stddef.h>
#include "event.h"

/*
 * Decode one record of `size` bytes. Returns 0, or a negative errno and
 * leaves ev unusable:
 *   -EPROTO   ABI version mismatch (sensor and agent built apart)
 *   -EBADMSG  malformed: size, type, a string out of bounds or unterminated
 * The record is never trusted: every offset and length is checked against
 * size before ev points at it.
 */
int shk_decode(const void *data, size_t size, struct shk_event *ev);

#endif
