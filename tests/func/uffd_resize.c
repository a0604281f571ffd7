// SPDX-License-Identifier: LGPL-2.1-or-later
/* uffd_resize.c: shrinking and growing a registered block while threads wait on faults: none stays stuck, the received bitmap follows (seed 003), a placement into a vanished range counts as consumed. */
#include <errno.h>
#include <sys/mman.h>

#include "rampool.h"
#include "../t_compat.h"
#include "t_uffd.h"

#define MB2 (2ULL << 20)
#define USED 4
#define MAX 8

static void check(struct rampool_pool *pool, struct t_log *lg, int backing,
		  uint64_t ps)
{
	struct rampool_block_opts o = {
		.sz = sizeof(o),
		.size = USED * ps,
		.max_size = MAX * ps,
		.backing = backing,
		.flags = RAMPOOL_BLOCK_PREALLOC,
	};
	struct rampool_postcopy_stats st = { .sz = sizeof(st) };
	struct t_toucher in, tail, grown;
	struct rampool_block *blk;
	unsigned char *buf = malloc(ps), *a;
	uint64_t base;
	int fd;

	T_ASSERT(buf);
	T_EQ(rampool_block_new(pool, &o, &blk), 0);
	a = rampool_block_addr(blk);
	base = (uint64_t)(uintptr_t)a;
	memset(a, 0x11, MAX * ps);
	/* before postcopy a resize only checks and sets the used length */
	T_EQ(rampool_block_resize(blk, 0), -EINVAL);
	T_EQ(rampool_block_resize(blk, ps + 1), -EINVAL);
	T_EQ(rampool_block_resize(blk, (MAX + 1) * ps), -EINVAL);
	T_EQ(rampool_block_resize(blk, USED * ps), 0);
	T_EQ(rampool_block_prepare_postcopy(blk, 0, &fd), 0);
	T_EQ(rampool_block_received(blk), (MAX - USED) * ps);

	/* one waiter inside what stays, one in what goes */
	t_touch_start(&in, a + ps, ps);
	T_EQ(t_uffd_fault(fd, 5000) & ~(ps - 1), base + ps);
	t_touch_start(&tail, a + 3 * ps, ps);
	T_EQ(t_uffd_fault(fd, 5000) & ~(ps - 1), base + 3 * ps);

	/* shrink: the tail's waiter goes on (an ordinary fault: zeros) */
	T_EQ(rampool_block_resize(blk, 2 * ps), 0);
	T_EQ(rampool_block_size(blk), 2 * ps);
	t_touch_join(&tail, 5000);
	T_EQ(tail.first, 0);
	T_EQ(rampool_block_received(blk), (MAX - 2) * ps);
	T_ASSERT(!atomic_load(&in.done));
	/* a page arriving for the vanished range is consumed, not an error */
	t_log_reset(lg);
	memset(buf, 0x99, ps);
	T_EQ(rampool_block_place(blk, 2 * ps, buf, ps), 0);
	T_EQ(t_logged(lg, RAMPOOL_LOG_WARN, "changed under a placement"), 1);
	T_EQ(rampool_block_postcopy_stats(blk, &st), 0);
	T_EQ(st.vanished, ps);
	T_EQ(st.placed, 0);
	T_EQ(a[2 * ps], 0);	/* nothing was written there */

	/* grow past the old size: the tail is missing again, registered */
	T_EQ(rampool_block_resize(blk, 6 * ps), 0);
	T_EQ(rampool_block_received(blk), (MAX - 6) * ps);
	t_touch_start(&grown, a + 3 * ps, ps);
	T_EQ(t_uffd_fault(fd, 5000) & ~(ps - 1), base + 3 * ps);
	memset(buf, 0x3c, ps);
	T_EQ(rampool_block_place(blk, 3 * ps, buf, ps), 0);
	t_touch_join(&grown, 5000);
	T_EQ(grown.first, 0x3c);
	/* the first waiter waited through both and goes on when placed */
	T_ASSERT(!atomic_load(&in.done));
	memset(buf, 0x4d, ps);
	T_EQ(rampool_block_place(blk, ps, buf, ps), 0);
	t_touch_join(&in, 5000);
	T_EQ(in.first, 0x4d);
	T_EQ(rampool_block_received(blk), (MAX - 6 + 2) * ps);
	/* shrink below placed pages, grow back to max: exact figures */
	T_EQ(rampool_block_resize(blk, ps), 0);
	T_EQ(rampool_block_received(blk), (MAX - 1) * ps);
	T_EQ(rampool_block_resize(blk, MAX * ps), 0);
	T_EQ(rampool_block_received(blk), 0);
	T_EQ(rampool_block_place(blk, 0, NULL, ps), 0);
	T_EQ(rampool_block_received(blk), ps);
	T_EQ(rampool_block_place(blk, 0, NULL, ps), -EEXIST);
	t_uffd_quiet(fd, 10);
	rampool_block_free(blk);
	free(buf);
}

int main(void)
{
	static struct t_log lg = T_LOG_INIT;
	struct rampool_pool *pool;
	struct t_state s;

	t_uffd_not_under_valgrind();
	pool = t_uffd_pool(&lg);
	t_state_snap(&s);
	check(pool, &lg, RAMPOOL_BACKING_MEMFD, 4096);
	t_state_same(&s);
	t_hugepages_ensure_free(MB2, MAX + 2);
	t_state_snap(&s);
	check(pool, &lg, RAMPOOL_BACKING_MEMFD_HUGETLB, MB2);
	t_state_same(&s);
	rampool_pool_free(pool);
	printf("uffd_resize: waiters survive shrink and grow, the bitmap "
	       "follows, vanished placements are consumed\n");
	return 0;
}
