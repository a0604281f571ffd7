/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bitmap.h: bitmaps in 64-bit words (page states, CPU and node sets), worked a word at a time. */
#ifndef RP_BITMAP_H
#define RP_BITMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BITMAP_WORD_BITS 64
/* Words holding nbits bits (no overflow near UINT64_MAX). */
#define BITMAP_WORDS(nbits) \
	((nbits) / BITMAP_WORD_BITS + ((nbits) % BITMAP_WORD_BITS != 0))

/*
 * A bitmap of nbits bits, all clear; free() it. NULL when out of memory or
 * nbits does not fit a size_t of bytes.
 */
uint64_t *bitmap_alloc(uint64_t nbits);

static inline bool bitmap_test(const uint64_t *b, uint64_t i)
{
	return b[i / BITMAP_WORD_BITS] >> (i % BITMAP_WORD_BITS) & 1;
}

/*
 * The range functions take bits [start, start + n); n may be 0. The caller
 * keeps the range inside the bitmap.
 */
void bitmap_set(uint64_t *b, uint64_t start, uint64_t n);
void bitmap_clear(uint64_t *b, uint64_t start, uint64_t n);
/* Set bits in [start, start + n). */
uint64_t bitmap_count(const uint64_t *b, uint64_t start, uint64_t n);

/* First set (clear) bit at or after from and before end; end when none. */
uint64_t bitmap_next_set(const uint64_t *b, uint64_t from, uint64_t end);
uint64_t bitmap_next_clear(const uint64_t *b, uint64_t from, uint64_t end);

/*
 * The first nbits bits as the kernel's node masks want them: an array of
 * unsigned long (32 or 64 bits), BITMAP_WORDS(nbits) * 64 bits in all.
 */
void bitmap_to_ulongs(const uint64_t *b, uint64_t nbits, unsigned long *out);

#endif
