/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A consumer for a BPF ring buffer map that releases space in batches.
 *
 * libbpf's ring_buffer__poll() stores the consumer position after every
 * record. The producers read that position on every reserve and commit, so
 * each record made the cache line bounce between the consumer's CPU and the
 * traced task's CPU: a miss on the syscall path of every event. Here the
 * position is stored once per batch (and every `release` bytes inside a long
 * one, so a full buffer is freed in time).
 *
 * The memory layout is the kernel's (kernel/bpf/ringbuf.c): a read-write
 * page holding the consumer position, then a read-only page holding the
 * producer position, then the data area mapped twice so that a record that
 * wraps reads contiguously. Each record starts with an 8-byte header: the
 * length with BUSY and DISCARD bits, then the page offset.
 */
#ifndef SHRIKE_RING_H
#define SHRIKE_RING_H

#include <stddef.h>
#include <stdint.h>

/* Called for each committed, non-discarded record. A non-zero return stops
 * the batch after this record and is returned by shk_ring_consume(). */
typedef int (*shk_ring_fn)(void *ctx, void *data, size_t size);

struct shk_ring {
	unsigned long *cons;       /* consumer position (we write it) */
	const unsigned long *prod; /* producer position (the kernel writes it) */
	const uint8_t *data;       /* size bytes, mapped twice */
	size_t size;               /* a power of two */
	size_t release;            /* store the position at least this often */
	shk_ring_fn fn;
	void *ctx;
	/* set by shk_ring_map(), for shk_ring_unmap() */
	void *map_cons, *map_prod;
	size_t page;
	int fd;
};

/* Maps the ring buffer map `fd` of `size` data bytes (its max_entries). */
int shk_ring_map(struct shk_ring *r, int fd, size_t size, shk_ring_fn fn, void *ctx);
void shk_ring_unmap(struct shk_ring *r);

/* Uses memory laid out as the kernel's (for tests): cons and prod are the
 * two positions, data holds 2 * size bytes (the second half a copy). */
void shk_ring_attach(struct shk_ring *r, unsigned long *cons, const unsigned long *prod,
		     const void *data, size_t size, shk_ring_fn fn, void *ctx);

/*
 * Delivers every committed record, stopping at the first one still being
 * written. Returns the number of records delivered (discarded ones not
 * counted), or the callback's non-zero value.
 */
long shk_ring_consume(struct shk_ring *r);

/* Bytes committed or reserved but not yet consumed. */
size_t shk_ring_pending(const struct shk_ring *r);

#endif /* SHRIKE_RING_H */
