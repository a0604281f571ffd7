/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* block_uffd.h: inside pool/: a block's postcopy state, shared by block_uffd.c and block_serve.c. */
#ifndef RP_BLOCK_UFFD_H
#define RP_BLOCK_UFFD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "rampool.h"
#include "../backend/uffd.h"

struct block_pc {
	struct uffd u;			/* fd -1 after rampool_block_postcopy_end */
	/* held across a placement, a resize and every read of the below */
	pthread_mutex_t lock;
	uint64_t *received;		/* one bit a page of max_size */
	struct rampool_postcopy_stats st;	/* .received unused */
	/* eventfd: serve's poll wakes for a stop or a placement */
	int kick_fd;
	atomic_bool stop;		/* rampool_block_serve_stop was called */
	atomic_bool serving;
	/* keep-pages mode (block_minor.c): registered MINOR and MISSING,
	 * written through alias (the file's max_size, MAP_SHARED, not
	 * registered; NULL after rampool_block_postcopy_end) */
	bool keep;
	void *alias;
	uint64_t alias_len;
};

/* Closes the uffd, frees the state; blk->pc becomes NULL. */
void block_postcopy_free(struct rampool_block *blk);

/* Makes serve's poll return (async-signal-safe). */
void block_pc_kick(struct block_pc *pc);

/* ---- keep-pages mode (block_minor.c) ------------------------------------ */

/*
 * Prepares pc (its uffd opened with UFFD_NEED_MINOR) in keep-pages mode:
 * the alias mapped, [0, size) registered MINOR and MISSING, then zapped
 * (MADV_DONTNEED: the file keeps its pages), the received bits past size
 * set. Nothing changed on failure (the alias unmapped, the range
 * unregistered again). blk->pc is not set here.
 */
int block_minor_prepare(struct rampool_block *blk, struct block_pc *pc);
/* rampool_block_place's work in keep-pages mode; pc->lock held. 0,
 * -EEXIST (some page was received already) or an error. */
int block_minor_place_locked(struct rampool_block *blk, uint64_t first,
			     uint64_t end, const char *src);
/* Grows the used length to size in keep-pages mode; pc->lock held. */
int block_minor_grow(struct rampool_block *blk, uint64_t size);
/* Unmaps the alias (postcopy ended, or pc freed). */
void block_minor_end(struct block_pc *pc);

#endif
