// SPDX-License-Identifier: LGPL-2.1-or-later
/* block_progress.c: progress reports add up, and a cancel from another thread stops a populate and gives its pages back. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "rampool.h"
#include "t_util.h"

#define SIZE (512ULL << 20)
#define MB2 (2ULL << 20)
#define HSIZE (256 * MB2)	/* 4 progress steps of 64 MiB at least */

static atomic_uint_fast64_t last, calls;
static atomic_bool bad_order;
/*
 * A populating thread that reports progress waits, while hold is set, for
 * the canceller to have cancelled: on a loaded host the whole populate
 * could otherwise end before the canceller thread runs at all.
 */
static atomic_bool hold, cancelled;

static void progress(void *data, uint64_t done, uint64_t total)
{
	(void)data;
	if (done <= atomic_load(&last) || done > total ||
	    (total != SIZE && total != HSIZE))
		atomic_store(&bad_order, true);
	atomic_store(&last, done);
	atomic_fetch_add(&calls, 1);
	while (atomic_load(&hold) && !atomic_load(&cancelled))
		sched_yield();
}

static void *canceller(void *arg)
{
	/* as soon as the populate has made progress, stop it */
	while (!atomic_load(&calls))
		sched_yield();
	rampool_block_cancel(arg);
	atomic_store(&cancelled, true);
	return NULL;
}

static struct rampool_block *make(struct rampool_pool *pool, unsigned int flags)
{
	struct rampool_block_opts o = {
		.sz = sizeof(o),
		.size = SIZE,
		.flags = flags,
		.threads = 2,
		.progress = progress,
	};
	struct rampool_block *blk;

	atomic_store(&last, 0);
	atomic_store(&calls, 0);
	atomic_store(&bad_order, false);
	T_EQ(rampool_block_new(pool, &o, &blk), 0);
	return blk;
}

int main(void)
{
	struct rampool_pool *pool;
	struct rampool_block *blk;
	pthread_t th;
	int ret;

	T_EQ(rampool_pool_new(NULL, &pool), 0);

	/* a whole populate: reports strictly rising, the last one the total */
	blk = make(pool, RAMPOOL_BLOCK_PREALLOC);
	T_ASSERT(!atomic_load(&bad_order));
	T_EQ(atomic_load(&last), SIZE);
	T_ASSERT(atomic_load(&calls) >= 2);	/* 64 MiB steps */
	T_EQ(rampool_block_populated(blk), SIZE);
	rampool_block_free(blk);

	/* cancelled from another thread while it runs */
	blk = make(pool, 0);
	atomic_store(&cancelled, false);
	atomic_store(&hold, true);
	T_EQ(pthread_create(&th, NULL, canceller, blk), 0);
	ret = rampool_block_populate(blk, 0, SIZE);
	T_EQ(pthread_join(th, NULL), 0);
	atomic_store(&hold, false);
	T_EQ(ret, -ECANCELED);
	T_ASSERT(atomic_load(&last) < SIZE);
	T_EQ(rampool_block_populated(blk), 0);	/* what it took went back */

	/* the cancel is spent: the next populate runs to the end */
	atomic_store(&last, 0);
	T_EQ(rampool_block_populate(blk, 0, SIZE), 0);
	T_EQ(rampool_block_populated(blk), SIZE);

	/* a cancel before a populate starts stops that populate */
	rampool_block_cancel(blk);
	atomic_store(&last, 0);
	T_EQ(rampool_block_populate(blk, 0, SIZE), -ECANCELED);
	/* pages that were there before the cancelled call are kept */
	T_EQ(rampool_block_populated(blk), SIZE);
	rampool_block_free(blk);

	/*
	 * hugetlb: the undo punches what the cancelled populate took, which
	 * drops its reservation (DESIGN fact 3); the block takes it back
	 * (fact 4), so the whole block is reserved again afterwards.
	 */
	{
		struct rampool_block_opts o = {
			.sz = sizeof(o),
			.size = HSIZE,
			.backing = RAMPOOL_BACKING_MEMFD_HUGETLB,
			.threads = 2,
			.progress = progress,
		};
		struct t_hcount h0, h1, h2;

		t_hugepages_ensure_free(MB2, HSIZE / MB2);
		t_hcount(MB2, -1, &h0);
		T_EQ(rampool_block_new(pool, &o, &blk), 0);
		t_hcount(MB2, -1, &h1);
		T_EQ(h1.resv, h0.resv + HSIZE / MB2);
		atomic_store(&last, 0);
		atomic_store(&calls, 0);
		atomic_store(&cancelled, false);
		atomic_store(&hold, true);
		T_EQ(pthread_create(&th, NULL, canceller, blk), 0);
		ret = rampool_block_populate(blk, 0, HSIZE);
		T_EQ(pthread_join(th, NULL), 0);
		atomic_store(&hold, false);
		T_EQ(ret, -ECANCELED);
		T_EQ(rampool_block_populated(blk), 0);
		t_hcount(MB2, -1, &h2);
		T_HCOUNT_EQ(h2, h1);	/* all free again, all reserved again */
		rampool_block_free(blk);
		t_hcount(MB2, -1, &h2);
		T_HCOUNT_EQ(h2, h0);
	}
	rampool_pool_free(pool);
	printf("progress adds up; cancel stops a populate and undoes it\n");
	return 0;
}
