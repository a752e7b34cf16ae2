/* SPDX-License-Identifier: Apache-2.0 */
/* The batched ring buffer consumer (detect/ring.c) on memory laid out as
 * the kernel lays out a BPF ring buffer. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <linux/bpf.h>

#include "ring.h"

#define SIZE 65536u

struct fake {
	unsigned long cons, prod;
	uint8_t data[2 * SIZE]; /* the second half mirrors the first */
	struct shk_ring r;
	/* what the callback saw */
	int n;
	uint32_t sizes[64];
	uint8_t first[64];
	unsigned long cons_seen[64];
	int fail_at; /* return -EIO for this record (1-based), 0: never */
};

static void put_byte(struct fake *f, unsigned long pos, uint8_t v)
{
	f->data[pos % SIZE] = v;
	f->data[pos % SIZE + SIZE] = v;
}

/* Appends a record of `len` bytes filled with `fill`; flags are the
 * header's BUSY/DISCARD bits. Returns its position. */
static unsigned long produce(struct fake *f, uint32_t len, uint8_t fill, uint32_t flags)
{
	unsigned long at = f->prod;
	uint32_t hdr = len | flags;

	for (unsigned i = 0; i < 4; i++)
		put_byte(f, at + i, (uint8_t)(hdr >> (8 * i)));
	for (unsigned i = 4; i < BPF_RINGBUF_HDR_SZ; i++)
		put_byte(f, at + i, 0);
	for (uint32_t i = 0; i < len; i++)
		put_byte(f, at + BPF_RINGBUF_HDR_SZ + i, fill);
	f->prod += (len + BPF_RINGBUF_HDR_SZ + 7) & ~7u;
	return at;
}

static void set_hdr(struct fake *f, unsigned long at, uint32_t hdr)
{
	for (unsigned i = 0; i < 4; i++)
		put_byte(f, at + i, (uint8_t)(hdr >> (8 * i)));
}

static int on_rec(void *ctx, void *data, size_t size)
{
	struct fake *f = ctx;
	const uint8_t *d = data;

	/* every byte of the record is readable and carries its fill */
	for (size_t i = 0; i < size; i++)
		assert_int_equal(d[i], d[0]);
	if (f->n < 64) {
		f->sizes[f->n] = (uint32_t)size;
		f->first[f->n] = size ? d[0] : 0;
		f->cons_seen[f->n] = __atomic_load_n(&f->cons, __ATOMIC_RELAXED);
	}
	f->n++;
	return f->fail_at && f->n == f->fail_at ? -EIO : 0;
}

static struct fake *fake_new(unsigned long start)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->cons = f->prod = start;
	shk_ring_attach(&f->r, &f->cons, &f->prod, f->data, SIZE, on_rec, f);
	return f;
}

static void test_in_order(void **state)
{
	struct fake *f = fake_new(0);

	(void)state;
	produce(f, 10, 'a', 0);
	produce(f, 1, 'b', 0);
	produce(f, 300, 'c', 0);
	assert_int_equal(shk_ring_pending(&f->r), f->prod);
	assert_int_equal(shk_ring_consume(&f->r), 3);
	assert_int_equal(f->n, 3);
	assert_int_equal(f->sizes[0], 10);
	assert_int_equal(f->first[0], 'a');
	assert_int_equal(f->sizes[1], 1);
	assert_int_equal(f->first[1], 'b');
	assert_int_equal(f->sizes[2], 300);
	assert_int_equal(f->first[2], 'c');
	assert_int_equal(f->cons, f->prod);
	assert_int_equal(shk_ring_pending(&f->r), 0);
	/* nothing new: nothing delivered, position unchanged */
	assert_int_equal(shk_ring_consume(&f->r), 0);
	assert_int_equal(f->cons, f->prod);
	free(f);
}

static void test_busy_stops(void **state)
{
	struct fake *f = fake_new(0);
	unsigned long busy;

	(void)state;
	produce(f, 16, 'a', 0);
	busy = produce(f, 16, 'b', BPF_RINGBUF_BUSY_BIT);
	produce(f, 16, 'c', 0); /* committed, but after one still being written */
	assert_int_equal(shk_ring_consume(&f->r), 1);
	assert_int_equal(f->cons, busy);
	set_hdr(f, busy, 16); /* now committed */
	assert_int_equal(shk_ring_consume(&f->r), 2);
	assert_int_equal(f->first[1], 'b');
	assert_int_equal(f->first[2], 'c');
	assert_int_equal(f->cons, f->prod);
	free(f);
}

static void test_discard_skipped(void **state)
{
	struct fake *f = fake_new(0);

	(void)state;
	produce(f, 24, 'a', BPF_RINGBUF_DISCARD_BIT);
	produce(f, 24, 'b', 0);
	assert_int_equal(shk_ring_consume(&f->r), 1);
	assert_int_equal(f->n, 1);
	assert_int_equal(f->first[0], 'b');
	assert_int_equal(f->cons, f->prod);
	free(f);
}

static void test_callback_error(void **state)
{
	struct fake *f = fake_new(0);
	unsigned long second;

	(void)state;
	f->fail_at = 1;
	produce(f, 8, 'a', 0);
	second = produce(f, 8, 'b', 0);
	assert_int_equal(shk_ring_consume(&f->r), -EIO);
	/* the failed record counts as consumed, the next one waits */
	assert_int_equal(f->cons, second);
	f->fail_at = 0;
	assert_int_equal(shk_ring_consume(&f->r), 1);
	assert_int_equal(f->first[1], 'b');
	free(f);
}

static void test_bad_length(void **state)
{
	struct fake *f = fake_new(0);

	(void)state;
	produce(f, 8, 'a', 0);
	set_hdr(f, produce(f, 8, 'b', 0), SIZE); /* longer than the ring */
	assert_int_equal(shk_ring_consume(&f->r), -EBADMSG);
	assert_int_equal(f->n, 1); /* the bad one never reached the callback */
	free(f);
}

static void test_wraps(void **state)
{
	/* start 40 bytes before the end: the record straddles it */
	struct fake *f = fake_new(3 * SIZE - 40);

	(void)state;
	produce(f, 200, 'w', 0);
	produce(f, 5, 'x', 0);
	assert_int_equal(shk_ring_consume(&f->r), 2);
	assert_int_equal(f->sizes[0], 200);
	assert_int_equal(f->first[0], 'w');
	assert_int_equal(f->first[1], 'x');
	assert_int_equal(f->cons, f->prod);
	free(f);
}

/* The point of this consumer: the position is not stored per record. */
static void test_position_batched(void **state)
{
	struct fake *f = fake_new(0);
	int i;

	(void)state;
	for (i = 0; i < 40; i++)
		produce(f, 92, 'p', 0); /* 100 bytes each: 4000 in all */
	assert_int_equal(shk_ring_consume(&f->r), 40);
	/* the release step is 1/64 of the ring (1 KiB here): the first
	 * records are read while the stored position is still the start */
	assert_int_equal(f->r.release, SIZE / 64);
	for (i = 0; i < 10; i++)
		assert_int_equal(f->cons_seen[i], 0);
	/* and it moves in steps of at least the release size */
	for (i = 1; i < 40; i++) {
		unsigned long d = f->cons_seen[i] - f->cons_seen[i - 1];

		assert_true(d == 0 || d >= SIZE / 64);
	}
	assert_true(f->cons_seen[39] > 0);
	assert_int_equal(f->cons, f->prod);
	free(f);
}

/* One call never consumes more than one ring's worth, so a producer that
 * keeps up cannot hold the event loop forever. */
static void test_bounded_per_call(void **state)
{
	struct fake *f = fake_new(0);
	long total = 0, n;
	int calls = 0;

	(void)state;
	/* pretend the producer refills as fast as we read: positions far
	 * ahead, every slot a committed record of 56 bytes (64 with hdr) */
	for (unsigned i = 0; i < SIZE / 64; i++)
		produce(f, 56, 'q', 0);
	f->prod = 3 * SIZE; /* the same slots, three times over */
	while ((n = shk_ring_consume(&f->r)) > 0) {
		assert_true(n <= (long)(SIZE / 64));
		total += n;
		calls++;
	}
	assert_int_equal(n, 0);
	assert_int_equal(total, 3 * (SIZE / 64));
	assert_int_equal(calls, 3);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),	 cmocka_unit_test(test_busy_stops),
		cmocka_unit_test(test_discard_skipped),	 cmocka_unit_test(test_callback_error),
		cmocka_unit_test(test_bad_length),	 cmocka_unit_test(test_wraps),
		cmocka_unit_test(test_position_batched), cmocka_unit_test(test_bounded_per_call),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
