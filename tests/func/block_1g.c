// SPDX-License-Identifier: LGPL-2.1-or-later
/* block_1g.c: a block of 1 GiB pages, preallocated, counted and placed; too many fails cleanly. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "rampool.h"
#include "t_util.h"

#define GB1 (1ULL << 30)
#define POOL "/sys/kernel/mm/hugepages/hugepages-1048576kB/"

int main(void)
{
	struct rampool_block_opts o = {
		.sz = sizeof(o),
		.size = GB1,
		.page_size = GB1,
		.backing = RAMPOOL_BACKING_MEMFD_HUGETLB,
		.flags = RAMPOOL_BLOCK_PREALLOC,
	};
	struct t_hcount g0, g1, n0, n1;
	struct rampool_pool *pool;
	struct rampool_block *blk;
	int node = -1, ret;

	if (access(POOL "nr_hugepages", W_OK))
		t_skip("this kernel has no 1 GiB pages");
	t_hcount(GB1, -1, &g0);
	if (g0.free - g0.resv < 1) {
		/* a 1G page needs 1 GiB of contiguous memory: may not be had */
		if (!t_hugepages_try_set(GB1, g0.total + 1))
			t_skip("no free 1 GiB page and none could be made");
	}
	/* bind to a node that has a free 1G page */
	for (int n = 0; n < t_nr_nodes() && node < 0; n++) {
		t_hcount(GB1, n, &n0);
		if (n0.free)
			node = n;
	}
	T_ASSERT(node >= 0);
	o.nodes = &node;
	o.nr_nodes = 1;
	T_EQ(rampool_pool_new(NULL, &pool), 0);
	t_hcount(GB1, -1, &g0);
	t_hcount(GB1, node, &n0);
	ret = rampool_block_new(pool, &o, &blk);
	if (ret)
		T_FAIL("1G block: %s", strerror(-ret));
	T_EQ(rampool_block_page_size(blk), GB1);
	t_hcount(GB1, -1, &g1);
	t_hcount(GB1, node, &n1);
	T_EQ(g1.free, g0.free - 1);
	T_EQ(n1.free, n0.free - 1);
	T_EQ(t_pages_on_node(rampool_block_addr(blk), GB1, GB1, node), 1);
	((volatile char *)rampool_block_addr(blk))[GB1 - 1] = 1;

	/* one more than the host has: refused at mmap, nothing changes */
	{
		struct rampool_block_opts big = o;
		struct rampool_block *b2;

		big.size = (g1.free - g1.resv + 1) * GB1;
		big.nodes = NULL;
		big.nr_nodes = 0;
		T_EQ(rampool_block_new(pool, &big, &b2), -ENOMEM);
		t_hcount(GB1, -1, &g0);
		T_HCOUNT_EQ(g0, g1);
	}
	rampool_block_free(blk);
	rampool_pool_free(pool);
	printf("1 GiB page block on node %d\n", node);
	return 0;
}
