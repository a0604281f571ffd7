/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mounts.h: hugetlbfs mounts checked through libhugetlbfs (kept inside backend/). */
#ifndef RP_MOUNTS_H
#define RP_MOUNTS_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"

struct topo;

/*
 * On the running kernel, confirms with libhugetlbfs that each mount read
 * from /proc/mounts is hugetlbfs and checks its page size with statfs; a
 * disagreement is logged and the statfs answer kept.
 */
void hugetlbfs_check_mounts(struct topo *t, const struct rp_log *log);

/*
 * A hugetlbfs mount for page_size: libhugetlbfs's choice when it has one
 * for that size, else the first such mount in /proc/mounts order.
 * 0, -ENOENT none, -ENAMETOOLONG buf too small.
 */
int hugetlbfs_find_mount(const struct topo *t, uint64_t page_size, char *buf,
			 size_t len);

#endif
