/* SPDX-License-Identifier: Apache-2.0 */
#include "ring.h"

#include <errno.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/bpf.h>

#define HDR_SZ BPF_RINGBUF_HDR_SZ

static unsigned long load_acquire_ul(const unsigned long *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static uint32_t load_acquire_u32(const uint8_t *p)
{
	return __atomic_load_n((const uint32_t *)(const void *)p, __ATOMIC_ACQUIRE);
}

static void store_release(unsigned long *p, unsigned long v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

void shk_ring_attach(struct shk_ring *r, unsigned long *cons, const unsigned long *prod,
		     const void *data, size_t size, shk_ring_fn fn, void *ctx)
{
	r->cons = cons;
	r->prod = prod;
	r->data = data;
	r->size = size;
	/* 1/64 of the buffer: a few stores per full buffer, and producers
	 * (which wake us as the unread bytes grow, 1/32 in the sessions)
	 * never count much that was already read */
	r->release = size / 64 ? size / 64 : 1;
	r->fn = fn;
	r->ctx = ctx;
}

int shk_ring_map(struct shk_ring *r, int fd, size_t size, shk_ring_fn fn, void *ctx)
{
	long page = sysconf(_SC_PAGESIZE);
	void *c, *p;

	*r = (struct shk_ring){ .fd = -1 };
	if (page <= 0 || !size || (size & (size - 1)) || size % (size_t)page)
		return -EINVAL;
	c = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (c == MAP_FAILED)
		return -errno;
	/* the producer page and the data area, which the kernel maps twice */
	p = mmap(NULL, (size_t)page + 2 * size, PROT_READ, MAP_SHARED, fd, page);
	if (p == MAP_FAILED) {
		int err = -errno;

		munmap(c, (size_t)page);
		return err;
	}
	shk_ring_attach(r, c, p, (uint8_t *)p + page, size, fn, ctx);
	r->map_cons = c;
	r->map_prod = p;
	r->page = (size_t)page;
	r->fd = fd;
	return 0;
}

void shk_ring_unmap(struct shk_ring *r)
{
	if (r->map_cons)
		munmap(r->map_cons, r->page);
	if (r->map_prod)
		munmap(r->map_prod, r->page + 2 * r->size);
	*r = (struct shk_ring){ .fd = -1 };
}

size_t shk_ring_pending(const struct shk_ring *r)
{
	return load_acquire_ul(r->prod) - __atomic_load_n(r->cons, __ATOMIC_RELAXED);
}

long shk_ring_consume(struct shk_ring *r)
{
	unsigned long cons = __atomic_load_n(r->cons, __ATOMIC_RELAXED);
	unsigned long stored = cons, limit = cons + r->size;
	size_t mask = r->size - 1;
	long n = 0;
	int err = 0;

	for (;;) {
		unsigned long prod = load_acquire_ul(r->prod), start = cons;
		bool busy = false;

		while (cons < prod && cons < limit) {
			const uint8_t *rec = r->data + (cons & mask);
			uint32_t len = load_acquire_u32(rec);
			uint32_t dlen = len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);

			if (len & BPF_RINGBUF_BUSY_BIT) {
				busy = true; /* still being written: the rest waits */
				break;
			}
			/* the kernel never writes this; a bad length must not
			 * make us read outside the mapping */
			if (dlen > r->size - HDR_SZ) {
				err = -EBADMSG;
				break;
			}
			cons += (dlen + HDR_SZ + 7) & ~7u;
			if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
				n++;
				err = r->fn(r->ctx, (void *)(rec + HDR_SZ), dlen);
				if (err)
					break;
			}
			if (cons - stored >= r->release) {
				store_release(r->cons, cons);
				stored = cons;
			}
		}
		if (cons != stored) {
			store_release(r->cons, cons);
			stored = cons;
		}
		/*
		 * After a productive pass, look again: a record committed
		 * while we were reading saw an old consumer position and
		 * sent no wakeup.
		 */
		if (cons == start || err || busy || cons >= limit)
			break;
	}
	return err ? err : n;
}
