// SPDX-License-Identifier: LGPL-2.1-or-later
/* block_enomem.c: a block larger than the free hugepages fails with -ENOMEM and leaves the kernel as it was. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rampool.h"
#include "t_util.h"

#define MB2 (2ULL << 20)
#define FREE 8			/* unreserved free pages the test sets up */

static volatile sig_atomic_t own_sigbus;
static sigjmp_buf own_jmp;
static volatile sig_atomic_t own_jmp_armed;

/* The test's own handler, standing for a VMM's. */
static void own_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	(void)uc;
	own_sigbus++;
	if (own_jmp_armed)
		siglongjmp(own_jmp, 1);
}

static struct rampool_pool *new_pool(void)
{
	struct rampool_pool *pool;

	T_EQ(rampool_pool_new(NULL, &pool), 0);
	return pool;
}

static int try_block(struct rampool_pool *pool, int backing, uint64_t pages,
		     unsigned int flags, const char *dir)
{
	struct rampool_block_opts o = {
		.sz = sizeof(o),
		.size = pages * MB2,
		.backing = backing,
		.flags = flags,
		.dir = dir,
	};
	struct rampool_block *blk = NULL;
	int ret = rampool_block_new(pool, &o, &blk);

	if (!ret) {
		T_EQ(rampool_block_populated(blk),
		     flags & RAMPOOL_BLOCK_PREALLOC ? pages * MB2 : 0);
		rampool_block_free(blk);
	}
	return ret;
}

static void *touch_thread(void *arg)
{
	struct rampool_pool *pool = new_pool();
	intptr_t ret;

	(void)arg;
	/* larger than all free pages: fails however the two interleave */
	ret = try_block(pool, RAMPOOL_BACKING_MEMFD_HUGETLB, FREE + 4,
			RAMPOOL_BLOCK_PREALLOC | RAMPOOL_BLOCK_NORESERVE |
				RAMPOOL_BLOCK_FORCE_TOUCH,
			NULL);
	rampool_pool_free(pool);
	return (void *)ret;
}

/* A SIGBUS of the test's own, raised outside any prefault. */
static void own_sigbus_check(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	volatile char *p;
	int before = own_sigbus;
	int fd = memfd_create("outside", 0);

	T_ASSERT(fd >= 0);
	T_EQ(ftruncate(fd, pg), 0);
	p = mmap(NULL, 2 * (size_t)pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 0);
	T_ASSERT(p != MAP_FAILED);
	if (!sigsetjmp(own_jmp, 1)) {
		own_jmp_armed = 1;
		p[pg] = 1;	/* past the end of the file: SIGBUS */
		T_FAIL("no SIGBUS past the end of a file");
	}
	own_jmp_armed = 0;
	T_EQ(own_sigbus, before + 1);
	munmap((void *)p, 2 * (size_t)pg);
	close(fd);
}

int main(void)
{
	struct sigaction sa = { .sa_sigaction = own_handler,
				.sa_flags = SA_SIGINFO }, cur;
	struct rampool_pool *pool;
	const char *dir;
	struct t_state s;
	pthread_t th[2];
	void *rv;

	t_require_hugetlb(MB2);
	/* exactly FREE unreserved free pages (reserved ones count as free) */
	t_hugepages_set(MB2, t_read_u64("/sys/kernel/mm/hugepages/"
					"hugepages-2048kB/nr_hugepages") -
				     (t_read_u64("/sys/kernel/mm/hugepages/"
						 "hugepages-2048kB/free_hugepages") -
				      t_read_u64("/sys/kernel/mm/hugepages/"
						 "hugepages-2048kB/resv_hugepages")) +
				     FREE);
	dir = t_mount_hugetlbfs(MB2, NULL);
	sigemptyset(&sa.sa_mask);
	T_EQ(sigaction(SIGBUS, &sa, NULL), 0);
	pool = new_pool();
	/* the reservation at mmap refuses it: no page was ever touched */
	for (int b = RAMPOOL_BACKING_MEMFD_HUGETLB;
	     b <= RAMPOOL_BACKING_HUGETLBFS; b++) {
		t_state_snap(&s);
		T_EQ(try_block(pool, b, 2 * FREE, RAMPOOL_BLOCK_PREALLOC, dir),
		     -ENOMEM);
		t_state_same(&s);
		T_EQ(try_block(pool, b, FREE, 0, dir), 0);	/* reserve only */
		T_EQ(try_block(pool, b, FREE / 2, RAMPOOL_BLOCK_PREALLOC, dir),
		     0);
		t_state_same(&s);
	}

	/*
	 * MAP_NORESERVE: mmap succeeds, population runs short half way.
	 * MADV_POPULATE_WRITE reports EFAULT; the forced touch takes SIGBUS.
	 */
	for (int touch = 0; touch < 2; touch++) {
		unsigned int f = RAMPOOL_BLOCK_PREALLOC |
				 RAMPOOL_BLOCK_NORESERVE |
				 (touch ? RAMPOOL_BLOCK_FORCE_TOUCH : 0);

		for (int b = RAMPOOL_BACKING_MEMFD_HUGETLB;
		     b <= RAMPOOL_BACKING_HUGETLBFS; b++) {
			t_state_snap(&s);
			T_EQ(try_block(pool, b, FREE + 3, f, dir), -ENOMEM);
			t_state_same(&s);
			T_EQ(try_block(pool, b, FREE - 1, f, dir), 0);
			t_state_same(&s);
		}
	}
	T_EQ(own_sigbus, 0);	/* rampool's handler took every SIGBUS */

	/* two threads at once, each taking real SIGBUSes */
	t_state_snap(&s);
	for (int i = 0; i < 2; i++)
		T_EQ(pthread_create(&th[i], NULL, touch_thread, NULL), 0);
	for (int i = 0; i < 2; i++) {
		T_EQ(pthread_join(th[i], &rv), 0);
		T_EQ((intptr_t)rv, -ENOMEM);
	}
	t_state_same(&s);
	T_EQ(own_sigbus, 0);

	/* our handler is back in place and still sees its own SIGBUS */
	T_EQ(sigaction(SIGBUS, NULL, &cur), 0);
	T_ASSERT(cur.sa_sigaction == own_handler);
	T_ASSERT(cur.sa_flags & SA_SIGINFO);
	own_sigbus_check();

	T_EQ(try_block(pool, RAMPOOL_BACKING_MEMFD_HUGETLB, FREE,
		       RAMPOOL_BLOCK_PREALLOC, NULL), 0);
	rampool_pool_free(pool);
	printf("short pools fail with -ENOMEM, counters as before, no signal "
	       "escaped\n");
	return 0;
}
