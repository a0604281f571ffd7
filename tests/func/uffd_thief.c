// SPDX-License-Identifier: LGPL-2.1-or-later
/* uffd_thief.c: a process holding every free hugepage: placements into a block whose reservation was kept all succeed; without it they fail with -ENOMEM, never a false success, while a page placed twice stays -EEXIST. */
#include <errno.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "rampool.h"
#include "../t_compat.h"
#include "t_kid.h"
#include "t_uffd.h"

#define MB2 (2ULL << 20)
#define N 4			/* pages of the block */
#define SPARE 4			/* free pages the thief finds beside them */

static struct t_kid thief = { .pid = 0, .from = -1, .to = -1 };

/* A process takes every free 2M page it can and holds them. */
static uint64_t thief_start(void)
{
	struct t_hcount h;
	uint64_t n;

	t_hcount(MB2, -1, &h);
	thief = t_thief_start(MB2, h.free, -1, 0, &n);
	return n;
}

static void thief_stop(void)
{
	t_thief_stop(&thief);
	thief.pid = 0;
}

static void kill_thief(void)
{
	if (thief.pid > 0)
		kill(thief.pid, SIGKILL);
}

static struct rampool_block *block(struct rampool_pool *pool,
				   unsigned int flags)
{
	struct rampool_block_opts o = {
		.sz = sizeof(o),
		.size = N * MB2,
		.backing = RAMPOOL_BACKING_MEMFD_HUGETLB,
		.flags = RAMPOOL_BLOCK_PREALLOC | flags,
	};
	struct rampool_block *blk;

	T_EQ(rampool_block_new(pool, &o, &blk), 0);
	memset(rampool_block_addr(blk), 0x77, N * MB2);
	return blk;
}

/* The reservation stands: the thief gets only the spare pages. */
static void kept(struct rampool_pool *pool, struct t_log *lg)
{
	struct rampool_block *blk = block(pool, 0);
	unsigned char *buf = malloc(MB2), *a = rampool_block_addr(blk);
	struct t_hcount h;
	int fd;

	T_ASSERT(buf);
	T_EQ(rampool_block_prepare_postcopy(blk, 0, &fd), 0);
	T_ASSERT(thief_start() >= SPARE);
	t_hcount(MB2, -1, &h);
	T_EQ(h.free, h.resv);		/* nothing left to take */
	T_ASSERT(h.resv >= N);
	for (int i = 0; i < N; i++) {
		memset(buf, 0xc0 + i, MB2);
		T_EQ(rampool_block_place(blk, (uint64_t)i * MB2, buf, MB2), 0);
	}
	for (int i = 0; i < N; i++) {
		T_EQ(a[(uint64_t)i * MB2], 0xc0 + i);
		T_EQ(a[(uint64_t)(i + 1) * MB2 - 1], 0xc0 + i);
	}
	/* the kernel says EEXIST as for a dry pool: the bitmap knows */
	t_log_reset(lg);
	T_EQ(rampool_block_place(blk, MB2, buf, MB2), -EEXIST);
	T_EQ(rampool_block_place(blk, MB2, NULL, MB2), -EEXIST);
	T_EQ(t_logged(lg, -1, "ran dry"), 0);
	T_EQ(a[MB2], 0xc1);
	T_EQ(rampool_block_received(blk), N * MB2);
	thief_stop();
	rampool_block_free(blk);
	free(buf);
}

/* No reservation behind the discarded pages: the thief's pages are gone. */
static void unreserved(struct rampool_pool *pool, struct t_log *lg,
		       unsigned int bflags, unsigned int pflags)
{
	struct rampool_block *blk = block(pool, bflags);
	unsigned char *buf = malloc(MB2), *a = rampool_block_addr(blk);
	struct rampool_postcopy_stats st = { .sz = sizeof(st) };
	struct t_hcount h0, h;
	int fd;

	T_ASSERT(buf);
	memset(buf, 0x5e, MB2);
	t_hcount(MB2, -1, &h0);
	T_EQ(rampool_block_prepare_postcopy(blk, pflags, &fd), 0);
	t_hcount(MB2, -1, &h);
	T_EQ(h.free, h0.free + N);	/* freed, and nothing reserved */
	T_EQ(h.resv, h0.resv);
	T_ASSERT(thief_start() >= SPARE + N);
	t_hcount(MB2, -1, &h);
	T_EQ(h.free, h.resv);
	t_log_reset(lg);
	T_EQ(rampool_block_place(blk, 0, buf, MB2), -ENOMEM);
	T_EQ(rampool_block_place(blk, MB2, NULL, MB2), -ENOMEM);
	T_EQ(t_logged(lg, RAMPOOL_LOG_ERR, "ran dry") +
	     t_logged(lg, RAMPOOL_LOG_ERR, "no page for offset"), 2);
	printf("uffd_thief: a dry pool: the kernel said %s\n",
	       t_logged(lg, RAMPOOL_LOG_ERR, "the kernel says EEXIST") ?
		       "EEXIST" : "ENOMEM");
	T_EQ(rampool_block_received(blk), 0);
	T_EQ(rampool_block_postcopy_stats(blk, &st), 0);
	T_EQ(st.placed, 0);
	T_EQ(st.already, 0);
	thief_stop();
	/* the pages are back: the same placement works */
	T_EQ(rampool_block_place(blk, 0, buf, MB2), 0);
	T_EQ(a[MB2 - 1], 0x5e);
	T_EQ(rampool_block_received(blk), MB2);
	rampool_block_free(blk);
	free(buf);
}

int main(void)
{
	static struct t_log lg = T_LOG_INIT;
	struct rampool_pool *pool;
	struct t_state s;

	t_uffd_not_under_valgrind();
	t_hugepages_ensure_free(MB2, N + SPARE);
	t_atcleanup(kill_thief);
	pool = t_uffd_pool(&lg);
	t_state_snap(&s);
	kept(pool, &lg);
	t_state_same(&s);
	unreserved(pool, &lg, 0, RAMPOOL_POSTCOPY_RELEASE);
	t_state_same(&s);
	unreserved(pool, &lg, RAMPOOL_BLOCK_NORESERVE, 0);
	t_state_same(&s);
	rampool_pool_free(pool);
	printf("uffd_thief: the kept reservation places every page under a "
	       "thief; without it -ENOMEM, and -EEXIST only for pages "
	       "placed\n");
	return 0;
}
