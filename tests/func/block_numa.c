// SPDX-License-Identifier: LGPL-2.1-or-later
/* block_numa.c: every backing and populate path lands on a node other than the caller's; a short node fails cleanly. */
#include <errno.h>
#include <string.h>

#include "rampool.h"
#include "t_util.h"
#include "../t_compat.h"

#define MB2 (2ULL << 20)
#define SIZE (8 * MB2)

/* the pool logs at WARN and above: lg.last is the last of those */
static struct t_log lg = T_LOG_INIT;

static const struct {
	const char *name;
	unsigned int flags;
} paths[] = {
	{ "auto", 0 },
	{ "touch", RAMPOOL_BLOCK_FORCE_TOUCH },
	{ "page-tables", RAMPOOL_BLOCK_PAGE_TABLES },
	{ "noreserve", RAMPOOL_BLOCK_NORESERVE },
};

static bool has_memory(int node)
{
	char path[96];

	snprintf(path, sizeof(path),
		 "/sys/devices/system/node/node%d/hugepages/hugepages-2048kB/"
		 "nr_hugepages", node);
	return t_read_u64(path) > 0;
}

int main(void)
{
	struct rampool_pool_opts po = { .sz = sizeof(po), .log_fn = t_log_fn,
					 .log_data = &lg };
	int nodes = t_nr_nodes(), here, target = -1, memless = -1;
	struct rampool_pool *pool;
	const char *hdir, *tdir;
	unsigned int checked = 0;

	if (nodes < 2)
		t_skip("needs 2 NUMA nodes, this kernel has %d (make check-vm "
		       "runs it in 2- and 4-node guests)", nodes);
	t_require_hugetlb(MB2);
	t_pin_to_node(0);
	here = t_current_node();
	T_EQ(here, 0);
	for (int n = 1; n < nodes; n++) {
		if (has_memory(n) && target < 0)
			target = n;
		else if (!has_memory(n))
			memless = n;
	}
	if (target < 0)
		t_skip_hugetlb("no other node has 2M pages");
	/* room for one block at a time on the target, plenty on node 0 */
	t_hugepages_set_node(MB2, target, 2 * SIZE / MB2);
	t_hugepages_set_node(MB2, 0, 4 * SIZE / MB2);
	hdir = t_mount_hugetlbfs(MB2, NULL);
	tdir = t_tmpdir("/dev/shm");
	T_EQ(rampool_pool_new(&po, &pool), 0);

	for (int b = RAMPOOL_BACKING_MEMFD; b <= RAMPOOL_BACKING_TMPFS; b++) {
		for (size_t p = 0; p < sizeof(paths) / sizeof(paths[0]); p++) {
			struct rampool_block_opts o = {
				.sz = sizeof(o),
				.size = SIZE,
				.backing = b,
				.nodes = &target,
				.nr_nodes = 1,
				.flags = RAMPOOL_BLOCK_PREALLOC |
					 paths[p].flags,
				.dir = b == RAMPOOL_BACKING_HUGETLBFS ? hdir :
				       b == RAMPOOL_BACKING_TMPFS    ? tdir :
									 NULL,
			};
			struct rampool_block *blk;
			uint64_t ps, on;
			int ret;

			ret = rampool_block_new(pool, &o, &blk);
			if (ret)
				T_FAIL("backing %d %s: %s (%s)", b,
				       paths[p].name, strerror(-ret), lg.last);
			ps = rampool_block_page_size(blk);
			on = t_pages_on_node(rampool_block_addr(blk), SIZE, ps,
					     target);
			if (on != SIZE / ps)
				T_FAIL("backing %d %s: %lu of %lu pages on "
				       "node %d", b, paths[p].name,
				       (unsigned long)on,
				       (unsigned long)(SIZE / ps), target);
			rampool_block_free(blk);
			checked++;
		}
	}

	/* strict binding to a node that is short fails though node 0 has room */
	t_hugepages_set_node(MB2, target, 2);
	for (int b = RAMPOOL_BACKING_MEMFD_HUGETLB;
	     b <= RAMPOOL_BACKING_HUGETLBFS; b++) {
		struct rampool_block_opts o = {
			.sz = sizeof(o),
			.size = 6 * MB2,
			.backing = b,
			.nodes = &target,
			.nr_nodes = 1,
			.flags = RAMPOOL_BLOCK_PREALLOC,
			.dir = hdir,
		};
		struct t_hcount g0, g1, n0, n1;
		unsigned int fds = t_fd_count();
		struct rampool_block *blk;

		t_hcount(MB2, -1, &g0);
		t_hcount(MB2, target, &n0);
		T_ASSERT(g0.free - g0.resv >= 6);	/* the host has room */
		T_EQ(rampool_block_new(pool, &o, &blk), -ENOMEM);
		t_hcount(MB2, -1, &g1);
		t_hcount(MB2, target, &n1);
		T_HCOUNT_EQ(g1, g0);
		T_HCOUNT_EQ(n1, n0);
		T_EQ(t_fd_count(), fds);
	}

	/* a node without memory cannot be bound to */
	if (memless >= 0) {
		struct rampool_block_opts o = {
			.sz = sizeof(o), .size = MB2,
			.backing = RAMPOOL_BACKING_MEMFD_HUGETLB,
			.nodes = &memless, .nr_nodes = 1,
		};
		struct rampool_block *blk;

		T_EQ(rampool_block_new(pool, &o, &blk), -EINVAL);
		T_ASSERT(strstr(lg.last, "has no memory"));
	}
	rampool_pool_free(pool);
	printf("%u backing x path combinations placed on node %d from node "
	       "%d; a short node fails cleanly\n", checked, target, here);
	return 0;
}
