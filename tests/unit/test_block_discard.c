// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_block_discard.c: rampool_block_discard's calls, its refusals that change nothing, and the held/owed figures, with the backing calls mocked. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend/backing.h"
#include "pool/block.h"
#include "pool/pool.h"
#include "../t_compat.h"

#define MB (1ULL << 20)

static int punches, mmaps, fail_punch, fail_mmap;
static off_t punch_off, punch_len, mmap_off;
static size_t mmap_len;
static int mmap_prot, mmap_flags;

static int w_falloc(int fd, int mode, off_t off, off_t len)
{
	if (mode) {
		punches++;
		punch_off = off;
		punch_len = len;
		if (fail_punch) {
			errno = fail_punch;
			return -1;
		}
	}
	return fallocate(fd, mode, off, len);
}

static void *w_mmap(void *a, size_t l, int p, int f, int fd, off_t o)
{
	mmaps++;
	mmap_len = l;
	mmap_off = o;
	mmap_prot = p;
	mmap_flags = f;
	if (fail_mmap) {
		errno = fail_mmap;
		return MAP_FAILED;
	}
	return mmap(a, l, p, f, fd, o);
}

static struct backing_ops ops;

/* An 8M memfd block on node 0 (4K pages), 4M of it populated. */
static struct rampool_block *make(struct rampool_pool **pool)
{
	static const int node0 = 0;
	struct rampool_block_opts o = {
		.sz = sizeof(o), .size = 4 * MB, .max_size = 8 * MB,
		.backing = RAMPOOL_BACKING_MEMFD, .nodes = &node0,
		.nr_nodes = 1, .flags = RAMPOOL_BLOCK_PREALLOC, .threads = 1,
	};
	struct rampool_block *blk;

	ops = backing_default_ops;
	ops.fallocate = w_falloc;
	ops.mmap = w_mmap;
	assert_int_equal(rampool_pool_new(NULL, pool), 0);
	(*pool)->backing_ops = &ops;	/* mocks: no ledger row */
	assert_int_equal(rampool_block_new(*pool, &o, &blk), 0);
	assert_int_equal(rampool_block_populated(blk), 4 * MB);
	punches = mmaps = fail_punch = fail_mmap = 0;
	return blk;
}

/* A "hugetlb" block: the reservation logic, over the shmem file. */
static struct rampool_block *make_reserved(struct rampool_pool **pool)
{
	struct rampool_block *blk = make(pool);

	blk->b.hugetlb = true;
	return blk;
}

static struct rampool_block_info info(const struct rampool_block *blk)
{
	struct rampool_block_info i = { .sz = sizeof(i) };

	assert_int_equal(rampool_block_info(blk, &i), 0);
	return i;
}

static void done(struct rampool_block *blk, struct rampool_pool *pool)
{
	rampool_block_free(blk);
	rampool_pool_free(pool);
}

/* bad ranges and flags: -EINVAL, no call made, nothing changed */
static void test_bad_input(void **state)
{
	static const struct { uint64_t off, len; unsigned int flags; } bad[] = {
		{ 0, 0, 0 },			/* empty */
		{ 100, 4096, 0 },		/* offset unaligned */
		{ 0, 4097, 0 },			/* length unaligned */
		{ 4 * MB, 4 * MB + 4096, 0 },	/* past max_size */
		{ 8 * MB, 4096, 0 },		/* starts at the end */
		{ 4096, UINT64_MAX - 4095, 0 },	/* wraps around */
		{ 0, 4096, 1u << 7 },		/* unknown flag */
	};
	struct rampool_pool *pool;
	struct rampool_block *blk = make(&pool);

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(rampool_block_discard(blk, bad[i].off,
						       bad[i].len,
						       bad[i].flags),
				 -EINVAL);
	assert_int_equal(punches, 0);
	assert_int_equal(rampool_block_populated(blk), 4 * MB);
	assert_int_equal(rampool_block_discard(NULL, 0, 4096, 0), -EINVAL);
	done(blk, pool);
}

/* the punch failing: its errno, the block's figures as before */
static void test_punch_fails(void **state)
{
	struct rampool_pool *pool;
	struct rampool_block *blk = make_reserved(&pool);
	struct rampool_block_info before = info(blk), after;

	(void)state;
	fail_punch = EPERM;	/* e.g. a WRITE seal */
	assert_int_equal(rampool_block_discard(blk, 0, 2 * MB, 0), -EPERM);
	assert_int_equal(punches, 1);
	assert_int_equal(mmaps, 0);
	after = info(blk);
	assert_memory_equal(&before, &after, sizeof(before));
	done(blk, pool);
}

/* shmem: one punch of exactly the range; the range is owed */
static void test_shmem(void **state)
{
	struct rampool_pool *pool;
	struct rampool_block *blk = make(&pool);
	struct rampool_block_info i;

	(void)state;
	i = info(blk);
	assert_int_equal(i.held, 4 * MB);
	assert_int_equal(i.owed, 4 * MB);
	assert_int_equal(rampool_block_discard(blk, MB, MB, 0), 0);
	assert_int_equal(punches, 1);
	assert_int_equal(punch_off, MB);
	assert_int_equal(punch_len, MB);
	assert_int_equal(mmaps, 0);		/* nothing to re-reserve */
	i = info(blk);
	assert_int_equal(i.size, 4 * MB);
	assert_int_equal(i.max_size, 8 * MB);
	assert_int_equal(i.page_size, 4096);
	assert_int_equal(i.node, 0);
	assert_int_equal(i.populated, 3 * MB);
	assert_int_equal(i.held, 3 * MB);
	assert_int_equal(i.owed, 5 * MB);
	assert_int_equal(i.unpinned, 0);
	/* the page is really gone: it reads back as zeros */
	assert_int_equal(((char *)rampool_block_addr(blk))[MB], 0);
	done(blk, pool);
}

/* hugetlb: the punch, then one PROT_NONE shared mapping of the range */
static void test_rereserve(void **state)
{
	struct rampool_pool *pool;
	struct rampool_block *blk = make_reserved(&pool);
	struct rampool_block_info i;

	(void)state;
	assert_int_equal(rampool_block_discard(blk, 2 * MB, 2 * MB, 0), 0);
	assert_int_equal(punches, 1);
	assert_int_equal(mmaps, 1);
	assert_int_equal(mmap_off, 2 * MB);
	assert_int_equal(mmap_len, 2 * MB);
	assert_int_equal(mmap_prot, PROT_NONE);
	assert_int_equal(mmap_flags, MAP_SHARED);
	i = info(blk);
	assert_int_equal(i.populated, 2 * MB);
	assert_int_equal(i.held, 8 * MB);
	assert_int_equal(i.owed, 0);
	assert_int_equal(i.unpinned, 6 * MB);	/* held, not on node 0 */
	done(blk, pool);
}

/* the re-reservation refused: RAMPOOL_DISCARD_OWED, the range owed; a
 * later discard that re-reserves makes it held again */
static void test_rereserve_fails(void **state)
{
	struct rampool_pool *pool;
	struct rampool_block *blk = make_reserved(&pool);
	struct rampool_block_info i;

	(void)state;
	fail_mmap = ENOMEM;
	assert_int_equal(rampool_block_discard(blk, 0, 3 * MB, 0),
			 RAMPOOL_DISCARD_OWED);
	i = info(blk);
	assert_int_equal(i.populated, MB);
	assert_int_equal(i.owed, 3 * MB);
	assert_int_equal(i.held, 5 * MB);
	assert_int_equal(i.unpinned, 4 * MB);
	fail_mmap = 0;
	assert_int_equal(rampool_block_discard(blk, MB, MB, 0), 0);
	i = info(blk);
	assert_int_equal(i.owed, 2 * MB);
	/* populating an owed page makes it held */
	assert_int_equal(rampool_block_populate(blk, 0, MB), 0);
	i = info(blk);
	assert_int_equal(i.owed, MB);
	assert_int_equal(i.held, 7 * MB);
	done(blk, pool);
}

/* RELEASE: no re-reservation, the range owed; a reservation's block
 * refuses it and changes nothing; without RELEASE it maps nothing */
static void test_release(void **state)
{
	struct rampool_pool *pool;
	struct rampool_block *blk = make_reserved(&pool);
	struct rampool_block_info i;

	(void)state;
	assert_int_equal(rampool_block_discard(blk, 0, MB,
					       RAMPOOL_DISCARD_RELEASE), 0);
	assert_int_equal(mmaps, 0);
	assert_int_equal(info(blk).owed, MB);
	blk->res_mount = true;
	punches = 0;
	assert_int_equal(rampool_block_discard(blk, MB, MB,
					       RAMPOOL_DISCARD_RELEASE),
			 -EOPNOTSUPP);
	assert_int_equal(punches, 0);
	assert_int_equal(rampool_block_populated(blk), 3 * MB);
	/* the mount keeps the reserve: no mapping needed, the range held */
	assert_int_equal(rampool_block_discard(blk, 0, 2 * MB, 0), 0);
	assert_int_equal(punches, 1);
	assert_int_equal(mmaps, 0);
	i = info(blk);
	assert_int_equal(i.owed, 0);
	assert_int_equal(i.populated, 2 * MB);
	done(blk, pool);
}

/* info: sz checked, older callers' structs filled only as far as sz */
static void test_info_sz(void **state)
{
	struct rampool_pool *pool;
	struct rampool_block *blk = make(&pool);
	struct rampool_block_info i = { .sz = sizeof(size_t) };
	struct { struct rampool_block_info i; uint64_t more; } big;

	(void)state;
	assert_int_equal(rampool_block_info(blk, &i), -EINVAL);
	assert_int_equal(rampool_block_info(blk, NULL), -EINVAL);
	assert_int_equal(rampool_block_info(NULL, &i), -EINVAL);
	memset(&big, 0xff, sizeof(big));
	big.i.sz = sizeof(big);
	assert_int_equal(rampool_block_info(blk, &big.i), 0);
	assert_int_equal(big.i.held, 4 * MB);
	assert_int_equal(big.more, 0);
	done(blk, pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_punch_fails),
		cmocka_unit_test(test_shmem),
		cmocka_unit_test(test_rereserve),
		cmocka_unit_test(test_rereserve_fails),
		cmocka_unit_test(test_release),
		cmocka_unit_test(test_info_sz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
