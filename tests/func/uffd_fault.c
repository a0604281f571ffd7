// SPDX-License-Identifier: LGPL-2.1-or-later
/* uffd_fault.c: after rampool_block_prepare_postcopy a touch of a discarded page faults, and placing the page lets the toucher go on with its data (2M hugetlb memfd, 4K shmem). */
#include <errno.h>
#include <sys/mman.h>

#include "rampool.h"
#include "t_uffd.h"

#define MB2 (2ULL << 20)
#define USED 4			/* pages of the used length */
#define MAX 6			/* pages mapped */

static void check(struct rampool_pool *pool, int backing, uint64_t ps)
{
	struct rampool_block_opts o = {
		.sz = sizeof(o),
		.size = USED * ps,
		.max_size = MAX * ps,
		.backing = backing,
		.flags = RAMPOOL_BLOCK_PREALLOC,
	};
	struct rampool_postcopy_stats st = { .sz = sizeof(st) };
	bool huge = backing == RAMPOOL_BACKING_MEMFD_HUGETLB;
	struct t_hcount h0, h;
	struct t_toucher t;
	struct rampool_block *blk;
	unsigned char *buf, *a;
	uint64_t addr;
	int fd = -1;

	buf = malloc(ps);
	T_ASSERT(buf);
	t_hcount(MB2, -1, &h0);
	T_EQ(rampool_block_new(pool, &o, &blk), 0);
	a = rampool_block_addr(blk);
	memset(a, 0x11, USED * ps);	/* data a discard must drop */
	T_EQ(rampool_block_received(blk), 0);
	T_EQ(rampool_block_place(blk, 0, buf, ps), -EINVAL);	/* not ready */
	T_EQ(rampool_block_prepare_postcopy(blk, 8, &fd), -EINVAL);
	T_EQ(rampool_block_prepare_postcopy(blk, 0, &fd), 0);
	T_ASSERT(fd >= 0);
	T_EQ(rampool_block_prepare_postcopy(blk, 0, &fd), -EBUSY);
	T_EQ(rampool_block_populated(blk), 0);
	if (huge) {
		/* every page freed, every page still reserved (fact 4) */
		t_hcount(MB2, -1, &h);
		T_EQ(h.free, h0.free);
		T_EQ(h.resv, h0.resv + MAX);
	}
	/* the pages past the used length are never asked for */
	T_EQ(rampool_block_received(blk), (MAX - USED) * ps);

	/* the discard is real: a touch faults and waits */
	t_touch_start(&t, a + ps, ps);
	addr = t_uffd_fault(fd, 5000);
	T_EQ(addr & ~(ps - 1), (uint64_t)(uintptr_t)(a + ps));
	usleep(50 * 1000);
	T_ASSERT(!atomic_load(&t.done));
	/* bad ranges change nothing */
	T_EQ(rampool_block_place(blk, ps / 2, buf, ps), -EINVAL);
	T_EQ(rampool_block_place(blk, ps, buf, ps / 2), -EINVAL);
	T_EQ(rampool_block_place(blk, MAX * ps, buf, ps), -EINVAL);
	T_EQ(rampool_block_place(blk, ps, buf, 0), -EINVAL);
	T_ASSERT(!atomic_load(&t.done));
	/* placing the page lets it go on with the data */
	t_pattern(buf, ps, 0xa5);
	buf[ps - 1] = 0x5a;
	T_EQ(rampool_block_place(blk, ps, buf, ps), 0);
	t_touch_join(&t, 5000);
	T_EQ(t.first, 0xa5);
	T_EQ(t.last, 0x5a);
	T_EQ(rampool_block_received(blk), (MAX - USED + 1) * ps);
	/* again: the page is there and rampool knows it placed it */
	T_EQ(rampool_block_place(blk, ps, buf, ps), -EEXIST);
	T_EQ(a[ps], 0xa5);

	/* zero pages (hugetlb: copied from zeros) and a run of two pages */
	T_EQ(rampool_block_place(blk, 2 * ps, NULL, ps), 0);
	T_EQ(a[2 * ps], 0);
	T_EQ(a[3 * ps - 1], 0);
	t_touch_start(&t, a, ps);
	T_EQ(t_uffd_fault(fd, 5000) & ~(ps - 1), (uint64_t)(uintptr_t)a);
	free(buf);
	buf = malloc(2 * ps);
	T_ASSERT(buf);
	memset(buf, 0x33, ps);
	memset(buf + ps, 0x44, ps);
	/* page 2 is there: the rest is placed, -EEXIST says one was not */
	T_EQ(rampool_block_place(blk, 0, buf, ps), 0);
	t_touch_join(&t, 5000);
	T_EQ(t.first, 0x33);
	T_EQ(rampool_block_place(blk, 2 * ps, buf, 2 * ps), -EEXIST);
	T_EQ(a[3 * ps], 0x44);
	T_EQ(rampool_block_received(blk), MAX * ps);
	T_EQ(rampool_block_postcopy_stats(blk, &st), 0);
	T_EQ(st.received, MAX * ps);
	T_EQ(st.placed, 4 * ps);
	T_EQ(st.already, 2);
	T_EQ(st.vanished, 0);
	T_EQ(st.faults, 0);
	/* nothing faulted that was not asked for */
	t_uffd_quiet(fd, 10);
	T_EQ(rampool_block_postcopy_end(blk), 0);
	T_EQ(rampool_block_postcopy_end(blk), -EINVAL);
	T_EQ(rampool_block_received(blk), MAX * ps);
	free(buf);
	rampool_block_free(blk);
	if (huge) {
		t_hcount(MB2, -1, &h);
		T_HCOUNT_EQ(h, h0);
	}
}

int main(void)
{
	struct rampool_pool *pool;
	struct t_state s;

	t_uffd_not_under_valgrind();
	T_EQ(rampool_pool_new(NULL, &pool), 0);
	t_state_snap(&s);
	check(pool, RAMPOOL_BACKING_MEMFD, 4096);
	t_state_same(&s);
	t_hugepages_ensure_free(MB2, MAX + 2);
	t_state_snap(&s);
	check(pool, RAMPOOL_BACKING_MEMFD_HUGETLB, MB2);
	t_state_same(&s);
	rampool_pool_free(pool);
	printf("uffd_fault: a discarded page faults, a placed one is read, "
	       "on 4K shmem and 2M hugetlb\n");
	return 0;
}
