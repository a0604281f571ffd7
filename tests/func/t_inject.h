/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* t_inject.h: failure injection for tests linked against librampool.a with --wrap (seed 000). */
#ifndef T_INJECT_H
#define T_INJECT_H

#include <stdatomic.h>
#include <stdbool.h>

/*
 * The functions the Makefile wraps (WRAP_FNS), in this order. The
 * allocators come first: T_INJ_ALLOC_NR of them.
 */
enum { T_INJ_MALLOC, T_INJ_CALLOC, T_INJ_REALLOC, T_INJ_STRDUP, T_INJ_MMAP,
       T_INJ_MEMFD, T_INJ_FALLOC, T_INJ_MADVISE, T_INJ_PTHREAD, T_INJ_NR };
#define T_INJ_ALLOC_NR (T_INJ_STRDUP + 1)

extern const char *const t_inj_names[T_INJ_NR];

/*
 * Arms function fn (a T_INJ_*): its nth call from now fails as the real
 * call fails (ENOMEM, MAP_FAILED, EMFILE, ENOSPC, EAGAIN); every other call
 * goes through. t_inj_disarm stops it; t_inj_fired says whether the nth
 * call came.
 */
void t_inj_arm(int fn, long nth);
void t_inj_disarm(void);
bool t_inj_fired(void);

#endif
