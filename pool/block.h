/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* block.h: the library's own ways into RAM blocks: attaching an existing file, recording pages it already holds. */
#ifndef RP_BLOCK_H
#define RP_BLOCK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "rampool.h"

/*
 * rampool_block_new runs in phases (check, plan, create backing, populate,
 * commit), each a separate function in block.c that undoes only its own
 * work; the comment above them there says where a ledger row goes pending
 * and ready.
 */

struct block_attach_spec {
	int fd;			/* the callee dup()s it (F_DUPFD_CLOEXEC); the
				 * caller keeps its own */
	uint64_t size;		/* used length, a multiple of page_size */
	uint64_t max_size;	/* mapped length; the file holds at least it */
	uint64_t page_size;	/* hugetlb: the mount's; else the base page */
	bool hugetlb;
	const int *nodes;	/* bound with policy before any page; none: */
	unsigned int nr_nodes;	/* placement left to the kernel */
	enum rampool_policy policy;
	unsigned int threads;	/* populating threads, as in the block opts */
	rampool_progress_fn progress;
	void *progress_data;
	/*
	 * NULL: the block's own flag (rampool_block_cancel). Else this flag
	 * is checked instead (a pool-wide cancel): rampool_block_cancel then
	 * sets it, and populate never clears it.
	 */
	atomic_bool *cancel;
};

/*
 * Makes a block over an existing file: dups s->fd, maps the file MAP_SHARED
 * (max_size bytes) and binds the mapping to the nodes (mbind) before any
 * page is populated. Nothing is populated: the bitmap starts empty (see
 * block_mark_populated). rampool_block_populate and rampool_block_free work
 * on it as on any block; a failed populate punches only the pages it took;
 * free unmaps and closes the dup and never truncates, punches or unlinks
 * the file. Not sealed (the file is the caller's).
 *
 * 0, or: -EINVAL bad spec (fd < 0, sizes not page multiples, max_size <
 * size, page size not the base page without hugetlb, a bad node, threads >
 * 256) or a file shorter than max_size / not a regular file; -EBADF from
 * the dup; -EOPNOTSUPP a pool on a recorded sysroot with nodes; mmap's and
 * mbind's errnos (-ENOMEM: hugetlb pages cannot be reserved); -ENOMEM.
 * *out untouched on failure. Logged.
 */
int block_attach(struct rampool_pool *pool, const struct block_attach_spec *s,
		 struct rampool_block **out);

/*
 * Records that the file already holds the pages of [off, off + len) (e.g.
 * an attached reservation populated by an earlier process): they count in
 * rampool_block_populated and a failed populate never releases them. The
 * range is widened to whole pages and clipped to max_size.
 */
void block_mark_populated(struct rampool_block *blk, uint64_t off,
			  uint64_t len);

#endif
