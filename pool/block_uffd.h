/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* block_uffd.h: inside pool/: a block's postcopy state, shared by block_uffd.c and block_serve.c. */
#ifndef RP_BLOCK_UFFD_H
#define RP_BLOCK_UFFD_H

#include <pthread.h>
#include <stdatomic.h>
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
};

/* Closes the uffd, frees the state; blk->pc becomes NULL. */
void block_postcopy_free(struct rampool_block *blk);

/* Makes serve's poll return (async-signal-safe). */
void block_pc_kick(struct block_pc *pc);

#endif
