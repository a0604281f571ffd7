/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pool.h: the pool handle's insides, shared by the files of pool/. */
#ifndef RP_POOL_H
#define RP_POOL_H

#include <stdatomic.h>

#include "rampool.h"
#include "../backend/log.h"

#define RAMPOOL_DEFAULT_STATE_DIR "/run/rampool"

struct backing_ops;
struct prealloc_ops;
struct resmount_ops;

struct rampool_pool {
	char *sysroot;
	char *state_dir;
	struct rp_log log;
	/* NULL: the real syscalls; unit tests set their mocks here */
	const struct backing_ops *backing_ops;
	const struct prealloc_ops *prealloc_ops;
	char *group;		/* the service group's name, NULL: default */
	const struct resmount_ops *resmount_ops;
	/* rampool_pool_cancel: stops a reservation's populate */
	atomic_bool cancel;
	/* what the last refused reservation lacked, per node */
	struct rampool_shortfall *shortfall;
	unsigned int nr_shortfall;
};

/*
 * Checks an options/info struct's size: at least min_sz, and bytes past
 * what this library knows are zero. 0 or -EINVAL.
 */
int opts_check(const void *opts, size_t sz, size_t min_sz, size_t known_sz);

/* Copies src into an info struct the caller sized with dst_sz. */
int info_copy(void *dst, size_t dst_sz, const void *src, size_t src_sz,
	      size_t min_sz);

#endif
