// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_block_minor.c: keep-pages postcopy refusals on a real shmem block with the userfaultfd calls mocked: no MINOR feature, a refused or incomplete registration: each leaves the block as it was. */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend/backing.h"
#include "backend/uffd.h"
#include "pool/block.h"
#include "pool/pool.h"
#include "../t_compat.h"

#define MB (1ULL << 20)
#define UFD 1000		/* the mocked uffd: never a real fd */

/* The mock kernel: what it offers and what the calls saw. */
static struct {
	uint64_t features;	/* UFFDIO_API grants (an ask beyond: EINVAL) */
	int reg_errno;
	uint64_t reg_ioctls, reg_mode;
	int opened, closed, regs, unregs;
} k;

static long m_userfaultfd(int flags)
{
	(void)flags;
	k.opened++;
	return UFD;
}

static int m_open(const char *path, int flags)
{
	(void)path;
	(void)flags;
	errno = ENOENT;
	return -1;
}

static int m_ioctl(int fd, unsigned long req, void *arg)
{
	assert_int_equal(fd, UFD);
	if (req == UFFDIO_API) {
		struct uffdio_api *a = arg;

		if (a->features & ~k.features) {
			errno = EINVAL;
			return -1;
		}
		a->features = k.features;
		a->ioctls = 1ull << _UFFDIO_REGISTER | 1ull << _UFFDIO_UNREGISTER |
			    1ull << _UFFDIO_API;
		return 0;
	}
	if (req == UFFDIO_REGISTER) {
		struct uffdio_register *r = arg;

		k.regs++;
		k.reg_mode = r->mode;
		r->ioctls = k.reg_ioctls;
		if (k.reg_errno) {
			errno = k.reg_errno;
			return -1;
		}
		return 0;
	}
	if (req == UFFDIO_UNREGISTER || req == UFFDIO_WAKE) {
		k.unregs += req == UFFDIO_UNREGISTER;
		return 0;
	}
	fail_msg("unexpected ioctl %#lx", req);
	return -1;
}

static int m_close(int fd)
{
	assert_int_equal(fd, UFD);
	k.closed++;
	return 0;
}

static const struct uffd_ops mops = {
	.userfaultfd = m_userfaultfd,
	.open = m_open,
	.ioctl = m_ioctl,
	.read = read,
	.poll = poll,
	.close = m_close,
	.mmap = mmap,
	.munmap = munmap,
};

#define MISSING_F (UFFD_FEATURE_MISSING_HUGETLBFS | UFFD_FEATURE_MISSING_SHMEM)
#define MINOR_F (UFFD_FEATURE_MINOR_HUGETLBFS | UFFD_FEATURE_MINOR_SHMEM)
#define ALL_IOCTLS (1ull << _UFFDIO_COPY | 1ull << _UFFDIO_WAKE | \
		    1ull << _UFFDIO_ZEROPAGE | 1ull << _UFFDIO_CONTINUE)

/* Lines of /proc/self/maps: an alias left behind would add one. */
static int maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	int n = 0, c;

	assert_non_null(f);
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* Pages of [a, a + len) mapped in this process (pagemap's present bit). */
static unsigned int mapped(const void *a, uint64_t len)
{
	int fd = open("/proc/self/pagemap", O_RDONLY);
	uint64_t e;
	unsigned int n = 0;

	assert_true(fd >= 0);
	for (uint64_t off = 0; off < len; off += 4096) {
		assert_int_equal(pread(fd, &e, sizeof(e),
				       (off_t)(((uintptr_t)a + off) / 4096 * 8)),
				 sizeof(e));
		n += e >> 63;
	}
	close(fd);
	return n;
}

/* A shmem block, its used 2M of 4M populated with 0x5c; the mocked uffd. */
static struct rampool_block *make(struct rampool_pool **pool)
{
	static struct backing_ops bops;
	struct rampool_block_opts o = {
		.sz = sizeof(o), .size = 2 * MB, .max_size = 4 * MB,
		.backing = RAMPOOL_BACKING_MEMFD,
		.flags = RAMPOOL_BLOCK_PREALLOC, .threads = 1,
	};
	struct rampool_block *blk;

	bops = backing_default_ops;
	assert_int_equal(rampool_pool_new(NULL, pool), 0);
	(*pool)->backing_ops = &bops;	/* mocks: no ledger row */
	(*pool)->uffd_ops = &mops;
	assert_int_equal(rampool_block_new(*pool, &o, &blk), 0);
	memset(rampool_block_addr(blk), 0x5c, 2 * MB);
	memset(&k, 0, sizeof(k));
	k.features = MISSING_F | MINOR_F;
	k.reg_ioctls = ALL_IOCTLS;
	return blk;
}

/* The block as make() left it: no postcopy, every page mapped, data. */
static void unchanged(struct rampool_block *blk, int maps0)
{
	struct rampool_block_info i = { .sz = sizeof(i) };
	unsigned char *a = rampool_block_addr(blk);

	assert_null(blk->pc);
	assert_int_equal(rampool_block_info(blk, &i), 0);
	assert_int_equal(i.postcopy_mode, RAMPOOL_POSTCOPY_MODE_NONE);
	assert_int_equal(rampool_block_populated(blk), 2 * MB);
	assert_int_equal(rampool_block_received(blk), 0);
	assert_int_equal(mapped(a, 2 * MB), 2 * MB / 4096);	/* not zapped */
	for (uint64_t off = 0; off < 2 * MB; off += 4096)
		assert_int_equal(a[off], 0x5c);
	assert_int_equal(maps(), maps0);
	assert_int_equal(k.opened, k.closed);	/* no uffd left open */
}

static void test_no_minor(void **state)
{
	struct rampool_pool *pool;
	struct rampool_block *blk = make(&pool);
	int fd = -7, m0 = maps();

	(void)state;
	k.features = MISSING_F;		/* a 5.12 kernel */
	assert_int_equal(rampool_block_prepare_postcopy(blk,
			 RAMPOOL_POSTCOPY_KEEP_PAGES, &fd), -EOPNOTSUPP);
	assert_int_equal(fd, -7);
	assert_int_equal(k.regs, 0);
	unchanged(blk, m0);
	/* the caller falls back to discard mode: it works on this kernel */
	k.reg_ioctls = ALL_IOCTLS & ~(1ull << _UFFDIO_CONTINUE);
	assert_int_equal(rampool_block_prepare_postcopy(blk, 0, &fd), 0);
	assert_int_equal(fd, UFD);
	assert_int_equal(k.reg_mode, UFFDIO_REGISTER_MODE_MISSING);
	assert_int_equal(rampool_block_populated(blk), 0);	/* discarded */
	rampool_block_free(blk);
	rampool_pool_free(pool);
}

static void test_register_refused(void **state)
{
	struct rampool_pool *pool;
	struct rampool_block *blk = make(&pool);
	int fd = -7, m0 = maps();

	(void)state;
	k.reg_errno = EINVAL;
	assert_int_equal(rampool_block_prepare_postcopy(blk,
			 RAMPOOL_POSTCOPY_KEEP_PAGES, &fd), -EINVAL);
	assert_int_equal(k.regs, 1);
	assert_int_equal(k.reg_mode, UFFDIO_REGISTER_MODE_MISSING |
				     UFFDIO_REGISTER_MODE_MINOR);
	assert_int_equal(fd, -7);
	unchanged(blk, m0);
	/* a range that offers no CONTINUE: unregistered again */
	k.reg_errno = 0;
	k.reg_ioctls = ALL_IOCTLS & ~(1ull << _UFFDIO_CONTINUE);
	assert_int_equal(rampool_block_prepare_postcopy(blk,
			 RAMPOOL_POSTCOPY_KEEP_PAGES, &fd), -EOPNOTSUPP);
	assert_int_equal(k.unregs, 1);
	unchanged(blk, m0);
	/* KEEP_PAGES with RELEASE: refused before anything */
	assert_int_equal(rampool_block_prepare_postcopy(blk,
			 RAMPOOL_POSTCOPY_KEEP_PAGES | RAMPOOL_POSTCOPY_RELEASE,
			 &fd), -EINVAL);
	assert_int_equal(k.regs, 2);
	unchanged(blk, m0);
	rampool_block_free(blk);
	rampool_pool_free(pool);
}

/* Offered: zapped (the file keeps its pages), the alias mapped, the mode. */
static void test_prepared(void **state)
{
	struct rampool_block_info i = { .sz = sizeof(i) };
	struct rampool_pool *pool;
	struct rampool_block *blk = make(&pool);
	unsigned char *a = rampool_block_addr(blk), vec[1024];
	int fd = -7, m0 = maps();

	(void)state;
	assert_int_equal(rampool_block_prepare_postcopy(blk,
			 RAMPOOL_POSTCOPY_KEEP_PAGES, &fd), 0);
	assert_int_equal(fd, UFD);
	assert_int_equal(rampool_block_info(blk, &i), 0);
	assert_int_equal(i.postcopy_mode, RAMPOOL_POSTCOPY_MODE_KEEP);
	assert_int_equal(maps(), m0 + 1);	/* the alias */
	assert_int_equal(rampool_block_populated(blk), 2 * MB);
	assert_int_equal(rampool_block_received(blk), 2 * MB);	/* the tail */
	/* the used length zapped, its pages kept in the file (shmem
	 * mincore reads the page cache) */
	assert_int_equal(mapped(a, 2 * MB), 0);
	assert_int_equal(mincore(a, 2 * MB, vec), 0);
	for (unsigned int p = 0; p < 2 * MB / 4096; p++)
		assert_true(vec[p] & 1);
	assert_int_equal(rampool_block_postcopy_end(blk), 0);
	assert_int_equal(maps(), m0);		/* the alias gone */
	assert_int_equal(rampool_block_info(blk, &i), 0);
	assert_int_equal(i.postcopy_mode, RAMPOOL_POSTCOPY_MODE_NONE);
	assert_int_equal(k.opened, k.closed);
	/* not registered for real: the zapped pages map back with their data */
	assert_int_equal(a[3 * 4096], 0x5c);
	rampool_block_free(blk);
	rampool_pool_free(pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_minor),
		cmocka_unit_test(test_register_refused),
		cmocka_unit_test(test_prepared),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
