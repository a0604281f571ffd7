/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* opts.h: reading a caller's options struct only as far as its sz covers (fields appended in later releases). */
#ifndef RP_OPTS_H
#define RP_OPTS_H

#include <stddef.h>

/* Byte just past field in type. */
#define OPTS_END(type, field) \
	(offsetof(type, field) + sizeof(((type *)0)->field))

/*
 * 0 when the caller's struct (opts->sz bytes) reaches the end of
 * min_field (the last field of the first release: older callers pass no
 * less) and the bytes past what this library knows are zero; else
 * -EINVAL. opts must not be NULL.
 */
#define OPTS_VALID(opts, type, min_field) \
	opts_check((opts), (opts)->sz, OPTS_END(type, min_field), sizeof(type))

/* The caller's struct holds field (opts may be NULL: it does not). */
#define OPTS_HAS(opts, field) \
	((opts) && (opts)->sz >= OPTS_END(__typeof__(*(opts)), field))

/* field when the caller's struct holds it, else fallback. */
#define OPTS_GET(opts, field, fallback) \
	(OPTS_HAS(opts, field) ? (opts)->field : (fallback))

/*
 * Checks an options/info struct's size: at least min_sz, and bytes past
 * what this library knows are zero. 0 or -EINVAL.
 */
int opts_check(const void *opts, size_t sz, size_t min_sz, size_t known_sz);

/* Copies src into an info struct the caller sized with dst_sz. */
int info_copy(void *dst, size_t dst_sz, const void *src, size_t src_sz,
	      size_t min_sz);

#endif
