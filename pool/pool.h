/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pool.h: the pool handle's insides, shared by the files of pool/. */
#ifndef RP_POOL_H
#define RP_POOL_H

#include <stdatomic.h>

#include "rampool.h"
#include "../backend/log.h"
#include "opts.h"

#define RAMPOOL_DEFAULT_STATE_DIR "/run/rampool"

struct backing_ops;
struct prealloc_ops;
struct resmount_ops;
struct sysfs_ops;
struct uffd_ops;

struct rampool_pool {
	char *sysroot;
	char *state_dir;
	/* the VMMs' service group: opts.group, else RAMPOOL_GROUP; NULL: unset */
	char *group;
	struct rp_log log;
	/* NULL: the real syscalls; unit tests set their mocks here */
	const struct backing_ops *backing_ops;
	const struct prealloc_ops *prealloc_ops;
	const struct resmount_ops *resmount_ops;
	const struct uffd_ops *uffd_ops;	/* a block's postcopy */
	/* rampool_hugepages_set's reads and writes (a fake kernel) */
	const struct sysfs_ops *sysfs_ops;
	/* rampool_pool_cancel: stops a reservation's populate */
	atomic_bool cancel;
	/* what the last refused reservation lacked, per node */
	struct rampool_shortfall *shortfall;
	unsigned int nr_shortfall;
};

#endif
