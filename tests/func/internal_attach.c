// SPDX-License-Identifier: LGPL-2.1-or-later
/* internal_attach.c: block_attach on a real hugetlbfs file: bound before any page, populates on the node, and free leaves the file and its pages alone. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rampool.h"
#include "pool/block.h"
#include "t_util.h"
#include "../t_compat.h"

#define MB2 (2ULL << 20)
#define PAGES 4

static char path[128];

static void cleanup(void)
{
	if (path[0])
		unlink(path);
}

static struct rampool_block *attach(struct rampool_pool *pool, int fd,
				    const int *node)
{
	struct block_attach_spec s = {
		.fd = fd, .size = PAGES * MB2, .max_size = PAGES * MB2,
		.page_size = MB2, .hugetlb = true, .nodes = node,
		.nr_nodes = 1, .policy = RAMPOOL_POLICY_BIND,
	};
	struct rampool_block *blk;
	int ret = block_attach(pool, &s, &blk);

	if (ret)
		T_FAIL("block_attach: %s", strerror(-ret));
	return blk;
}

int main(void)
{
	struct t_hcount h0, h1;
	struct rampool_pool *pool;
	struct rampool_block *blk;
	const char *dir;
	int fd, node = 0;
	char *p;

	t_hugepages_ensure_free(MB2, 2 * PAGES);
	dir = t_mount_hugetlbfs(MB2, NULL);
	snprintf(path, sizeof(path), "%s/mem", dir);
	atexit(cleanup);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	T_ASSERT(fd >= 0);
	T_EQ(ftruncate(fd, PAGES * MB2), 0);
	T_EQ(rampool_pool_new(NULL, &pool), 0);

	/* attached: mapped and reserved, nothing populated */
	t_hcount(MB2, -1, &h0);
	blk = attach(pool, fd, &node);
	t_hcount(MB2, -1, &h1);
	T_EQ(h1.free, h0.free);
	T_EQ(h1.resv, h0.resv + PAGES);
	T_EQ(rampool_block_populated(blk), 0);
	T_ASSERT(rampool_block_fd(blk) != fd);

	/* half populated, on the node, and written */
	T_EQ(rampool_block_populate(blk, 0, 2 * MB2), 0);
	t_hcount(MB2, -1, &h1);
	T_EQ(h1.free, h0.free - 2);
	T_EQ(rampool_block_populated(blk), 2 * MB2);
	p = rampool_block_addr(blk);
	T_EQ(t_pages_on_node(p, 2 * MB2, MB2, node), 2);
	memcpy(p + MB2, "kept", 5);

	/* free: the file keeps its size and its pages */
	rampool_block_free(blk);
	t_hcount(MB2, -1, &h1);
	T_EQ(h1.free, h0.free - 2);
	{
		struct stat st;

		T_EQ(fstat(fd, &st), 0);
		T_EQ(st.st_size, PAGES * MB2);
	}

	/* attached again: what the file holds is recorded, data is there */
	blk = attach(pool, fd, &node);
	block_mark_populated(blk, 0, 2 * MB2);
	T_EQ(rampool_block_populated(blk), 2 * MB2);
	T_ASSERT(!memcmp((char *)rampool_block_addr(blk) + MB2, "kept", 5));
	T_EQ(rampool_block_populate(blk, 0, PAGES * MB2), 0);
	t_hcount(MB2, -1, &h1);
	T_EQ(h1.free, h0.free - PAGES);
	T_ASSERT(!memcmp((char *)rampool_block_addr(blk) + MB2, "kept", 5));
	rampool_block_free(blk);

	/* the file's owner removes it: every page is back */
	close(fd);
	T_EQ(unlink(path), 0);
	path[0] = '\0';
	t_hcount(MB2, -1, &h1);
	T_EQ(h1.free, h0.free);
	T_EQ(h1.resv, h0.resv);
	rampool_pool_free(pool);
	printf("attach: bound, populated on node %d, the file left as it was\n",
	       node);
	return 0;
}
