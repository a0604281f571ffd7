// SPDX-License-Identifier: LGPL-2.1-or-later
/* bitmap.c: setting, clearing, counting and searching bit ranges a 64-bit word at a time. */
#include <limits.h>
#include <stdlib.h>

#include "bitmap.h"

uint64_t *bitmap_alloc(uint64_t nbits)
{
	uint64_t words = BITMAP_WORDS(nbits);

	if (words > SIZE_MAX / sizeof(uint64_t))
		return NULL;
	return calloc(words ? (size_t)words : 1, sizeof(uint64_t));
}

/* Bits [lo, hi) of one word (0 <= lo < hi <= 64). */
static uint64_t word_mask(unsigned int lo, unsigned int hi)
{
	uint64_t m = hi == 64 ? ~0ULL : (1ULL << hi) - 1;

	return m & ~((1ULL << lo) - 1);
}

/*
 * Runs body once for each word w the range touches, with m the mask of
 * its bits in the range: a partial first and last word, whole words
 * between.
 */
#define FOR_RANGE(start, n, w, m, body)					\
	do {								\
		uint64_t end_ = (start) + (n), i_ = (start);		\
									\
		while (i_ < end_) {					\
			uint64_t w = i_ / BITMAP_WORD_BITS;		\
			unsigned int lo_ = i_ % BITMAP_WORD_BITS;	\
			unsigned int hi_ = end_ - w * BITMAP_WORD_BITS	\
				> BITMAP_WORD_BITS ? BITMAP_WORD_BITS	\
				: (unsigned int)(end_ - w * BITMAP_WORD_BITS); \
			uint64_t m = word_mask(lo_, hi_);		\
									\
			body;						\
			i_ = (w + 1) * BITMAP_WORD_BITS;		\
		}							\
	} while (0)

void bitmap_set(uint64_t *b, uint64_t start, uint64_t n)
{
	FOR_RANGE(start, n, w, m, b[w] |= m);
}

void bitmap_clear(uint64_t *b, uint64_t start, uint64_t n)
{
	FOR_RANGE(start, n, w, m, b[w] &= ~m);
}

uint64_t bitmap_count(const uint64_t *b, uint64_t start, uint64_t n)
{
	uint64_t c = 0;

	FOR_RANGE(start, n, w, m, c += (uint64_t)__builtin_popcountll(b[w] & m));
	return c;
}

/* The first bit at or after from, before end, whose value is !invert. */
static uint64_t next_bit(const uint64_t *b, uint64_t from, uint64_t end,
			 uint64_t invert)
{
	while (from < end) {
		uint64_t w = from / BITMAP_WORD_BITS;
		uint64_t v = (b[w] ^ invert) &
			     ~((1ULL << (from % BITMAP_WORD_BITS)) - 1);

		if (v) {
			uint64_t i = w * BITMAP_WORD_BITS +
				     (uint64_t)__builtin_ctzll(v);

			return i < end ? i : end;
		}
		from = (w + 1) * BITMAP_WORD_BITS;
	}
	return end;
}

uint64_t bitmap_next_set(const uint64_t *b, uint64_t from, uint64_t end)
{
	return next_bit(b, from, end, 0);
}

uint64_t bitmap_next_clear(const uint64_t *b, uint64_t from, uint64_t end)
{
	return next_bit(b, from, end, ~0ULL);
}

void bitmap_to_ulongs(const uint64_t *b, uint64_t nbits, unsigned long *out)
{
	const unsigned int ub = sizeof(unsigned long) * CHAR_BIT;

	for (uint64_t w = 0; w < BITMAP_WORDS(nbits); w++)
		for (unsigned int k = 0; k < BITMAP_WORD_BITS / ub; k++)
			out[w * (BITMAP_WORD_BITS / ub) + k] =
				(unsigned long)(b[w] >> (k * ub % 64));
}
