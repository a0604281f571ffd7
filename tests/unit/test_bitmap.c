// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_bitmap.c: word-at-a-time bit ranges against their edges (word crossings, empty ranges, the last partial word) and a one-bit-at-a-time model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend/bitmap.h"

static void test_alloc(void **state)
{
	uint64_t *b;

	(void)state;
	b = bitmap_alloc(0);
	assert_non_null(b);
	free(b);
	b = bitmap_alloc(130);
	assert_non_null(b);
	assert_int_equal(bitmap_count(b, 0, 130), 0);
	assert_int_equal(b[2], 0);
	free(b);
	/* no wrap near the top (a 32-bit size_t then refuses it) */
	assert_int_equal(BITMAP_WORDS(UINT64_MAX), 1ULL << 58);
	assert_int_equal(BITMAP_WORDS(0), 0);
	assert_int_equal(BITMAP_WORDS(64), 1);
	assert_int_equal(BITMAP_WORDS(65), 2);
}

/* a range crossing a word boundary touches exactly its bits */
static void test_cross_word(void **state)
{
	uint64_t b[3] = { 0 };

	(void)state;
	bitmap_set(b, 60, 10);
	assert_int_equal(b[0], 0xfULL << 60);
	assert_int_equal(b[1], 0x3fULL);
	assert_int_equal(b[2], 0);
	assert_false(bitmap_test(b, 59));
	assert_true(bitmap_test(b, 60));
	assert_true(bitmap_test(b, 69));
	assert_false(bitmap_test(b, 70));
	assert_int_equal(bitmap_count(b, 0, 192), 10);
	assert_int_equal(bitmap_count(b, 62, 5), 5);
	assert_int_equal(bitmap_count(b, 64, 64), 6);
	bitmap_clear(b, 63, 2);
	assert_int_equal(b[0], 0x7ULL << 60);
	assert_int_equal(b[1], 0x3eULL);
	assert_int_equal(bitmap_next_clear(b, 60, 192), 63);
	assert_int_equal(bitmap_next_set(b, 63, 192), 65);
}

/* whole words between partial ones; clearing a whole word in the middle */
static void test_whole_words(void **state)
{
	uint64_t b[4] = { 0 };

	(void)state;
	bitmap_set(b, 0, 256);
	for (int i = 0; i < 4; i++)
		assert_int_equal(b[i], ~0ULL);
	bitmap_clear(b, 64, 64);
	assert_int_equal(b[0], ~0ULL);
	assert_int_equal(b[1], 0);
	assert_int_equal(b[2], ~0ULL);
	assert_int_equal(bitmap_count(b, 0, 256), 192);
	assert_int_equal(bitmap_next_clear(b, 0, 256), 64);
	assert_int_equal(bitmap_next_set(b, 64, 256), 128);
	bitmap_clear(b, 1, 254);
	assert_int_equal(b[0], 1);
	assert_int_equal(b[3], 1ULL << 63);
}

/* n == 0 changes and counts nothing, wherever it starts */
static void test_empty(void **state)
{
	uint64_t b[2] = { 0, ~0ULL };

	(void)state;
	bitmap_set(b, 5, 0);
	bitmap_set(b, 64, 0);
	bitmap_clear(b, 70, 0);
	assert_int_equal(b[0], 0);
	assert_int_equal(b[1], ~0ULL);
	assert_int_equal(bitmap_count(b, 64, 0), 0);
	assert_int_equal(bitmap_count(b, 128, 0), 0);
	assert_int_equal(bitmap_next_set(b, 70, 70), 70);
	assert_int_equal(bitmap_next_clear(b, 3, 3), 3);
	assert_int_equal(bitmap_next_set(b, 80, 70), 70);
}

/* a bitmap of 130 bits: its last word has 2; searches stop at end */
static void test_last_partial(void **state)
{
	uint64_t *b = bitmap_alloc(130);

	(void)state;
	bitmap_set(b, 120, 10);
	assert_int_equal(b[1], 0xffULL << 56);
	assert_int_equal(b[2], 0x3);
	assert_int_equal(bitmap_count(b, 0, 130), 10);
	assert_int_equal(bitmap_count(b, 128, 2), 2);
	assert_int_equal(bitmap_next_set(b, 0, 130), 120);
	assert_int_equal(bitmap_next_clear(b, 120, 130), 130);
	assert_int_equal(bitmap_next_clear(b, 0, 130), 0);
	assert_int_equal(bitmap_next_set(b, 121, 125), 121);
	/* a set bit past end is not found */
	assert_int_equal(bitmap_next_set(b, 0, 100), 100);
	assert_int_equal(bitmap_next_set(b, 0, 120), 120);
	bitmap_clear(b, 129, 1);
	assert_int_equal(bitmap_next_clear(b, 120, 130), 129);
	assert_int_equal(b[2], 0x1);
	free(b);
}

/* random ranges against a bool per bit */
static void test_model(void **state)
{
	enum { N = 300 };
	uint64_t b[BITMAP_WORDS(N)] = { 0 };
	bool m[N] = { false };
	unsigned int seed = 7;

	(void)state;
	for (int round = 0; round < 2000; round++) {
		uint64_t s = (uint64_t)rand_r(&seed) % (N + 1);
		uint64_t n = (uint64_t)rand_r(&seed) % (N - s + 1);
		uint64_t c = 0, ns = N, nc = N;
		bool on = rand_r(&seed) & 1;

		if (on)
			bitmap_set(b, s, n);
		else
			bitmap_clear(b, s, n);
		for (uint64_t i = s; i < s + n; i++)
			m[i] = on;
		s = (uint64_t)rand_r(&seed) % (N + 1);
		n = (uint64_t)rand_r(&seed) % (N - s + 1);
		for (uint64_t i = s + n; i-- > s;) {
			c += m[i];
			if (m[i])
				ns = i;
			else
				nc = i;
		}
		if (ns == N)
			ns = s + n;
		if (nc == N)
			nc = s + n;
		assert_int_equal(bitmap_count(b, s, n), c);
		assert_int_equal(bitmap_next_set(b, s, s + n), ns);
		assert_int_equal(bitmap_next_clear(b, s, s + n), nc);
		for (uint64_t i = 0; i < N; i++)
			assert_int_equal(bitmap_test(b, i), m[i]);
	}
}

/* the kernel's unsigned long masks, whatever the long's width */
static void test_to_ulongs(void **state)
{
	uint64_t b[2] = { 0 };
	unsigned long out[128 / (8 * sizeof(unsigned long))];
	const unsigned int ub = 8 * sizeof(unsigned long);
	unsigned int bits[] = { 0, 33, 64, 127 };

	(void)state;
	for (size_t i = 0; i < 4; i++)
		bitmap_set(b, bits[i], 1);
	memset(out, 0xff, sizeof(out));
	bitmap_to_ulongs(b, 128, out);
	for (unsigned int i = 0; i < 128; i++) {
		bool want = i == 0 || i == 33 || i == 64 || i == 127;

		assert_int_equal(out[i / ub] >> (i % ub) & 1, want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc),
		cmocka_unit_test(test_cross_word),
		cmocka_unit_test(test_whole_words),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_last_partial),
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_to_ulongs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
