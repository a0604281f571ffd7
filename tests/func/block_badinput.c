// SPDX-License-Identifier: LGPL-2.1-or-later
/* block_badinput.c: bad block options and populate ranges get -EINVAL, a message naming them, and allocate nothing. */
#include <errno.h>
#include <string.h>

#include "rampool.h"
#include "t_util.h"
#include "../t_compat.h"

#define MB2 (2ULL << 20)

static struct t_log lg = T_LOG_INIT;

static void expect(struct rampool_pool *pool, struct rampool_block_opts o,
		   int want, const char *words)
{
	struct rampool_block *blk = (struct rampool_block *)0x1;
	struct t_state a;
	int ret;

	t_state_snap(&a);
	t_log_reset(&lg);
	o.sz = sizeof(o);
	ret = rampool_block_new(pool, &o, &blk);
	if (ret != want)
		T_FAIL("'%s': got %d (%s), want %d", words, ret, lg.last_err,
		       want);
	T_ASSERT(blk == (struct rampool_block *)0x1);	/* untouched */
	if (!strstr(lg.last_err, words))
		T_FAIL("log '%s' does not say '%s'", lg.last_err, words);
	t_state_same(&a);
}

int main(void)
{
	struct rampool_pool_opts po = { .sz = sizeof(po), .log_fn = t_log_fn,
					 .log_data = &lg };
	struct rampool_block_opts ok = { .sz = sizeof(ok), .size = 4 * MB2,
					 .backing = RAMPOOL_BACKING_MEMFD_HUGETLB };
	struct rampool_block_opts o;
	struct rampool_pool *pool;
	struct rampool_block *blk;
	int nodes[2] = { 0, 0 }, bad_node[1];

	t_hugepages_ensure_free(MB2, 8);
	T_EQ(rampool_pool_new(&po, &pool), 0);

	o = ok; o.size = 0;
	expect(pool, o, -EINVAL, "size 0");
	o = ok; o.size = MB2 + 4096;
	expect(pool, o, -EINVAL, "size 2101248 is not a multiple");
	o = ok; o.backing = RAMPOOL_BACKING_MEMFD; o.size = 4097;
	expect(pool, o, -EINVAL, "size 4097 is not a multiple");
	o = ok; o.page_size = 4ULL << 20;
	expect(pool, o, -EINVAL, "no hugepages of 4194304 bytes");
	o = ok; o.backing = RAMPOOL_BACKING_MEMFD; o.page_size = MB2;
	expect(pool, o, -EINVAL, "page size 2097152 for a shmem backing");
	o = ok; o.size = UINT64_MAX - MB2 + 1;
	expect(pool, o, -EINVAL, "is too large");
	o = ok; o.max_size = MB2;
	expect(pool, o, -EINVAL, "max_size 2097152 is below size");
	bad_node[0] = t_nr_nodes() + 7;
	o = ok; o.nodes = bad_node; o.nr_nodes = 1;
	expect(pool, o, -EINVAL, "does not exist or is offline");
	bad_node[0] = -2;
	expect(pool, o, -EINVAL, "node -2 does not exist");
	o = ok; o.nodes = nodes; o.nr_nodes = 2;
	expect(pool, o, -EINVAL, "node 0 is listed twice");
	o = ok; o.nodes = NULL; o.nr_nodes = 1;
	expect(pool, o, -EINVAL, "node list of 1 entries");
	o = ok; o.nodes = nodes; o.nr_nodes = 5000;
	expect(pool, o, -EINVAL, "node list of 5000 entries");
	o = ok; o.threads = 257;
	expect(pool, o, -EINVAL, "threads 257");
	o = ok; o.flags = 1u << 20;
	expect(pool, o, -EINVAL, "unknown flags 0x100000");
	o = ok; o.backing = (enum rampool_backing)9;
	expect(pool, o, -EINVAL, "unknown backing 9");
	o = ok; o.policy = (enum rampool_policy)7; o.nodes = nodes;
	o.nr_nodes = 1;
	expect(pool, o, -EINVAL, "unknown policy 7");
	o = ok; o.backing = RAMPOOL_BACKING_TMPFS; o.size = 4096;
	o.dir = "relative";
	expect(pool, o, -EINVAL, "dir 'relative' is not an absolute path");
	o = ok; o.backing = RAMPOOL_BACKING_TMPFS; o.size = 4096;
	o.dir = "/nonexistent-rampool";
	expect(pool, o, -ENOENT, "/nonexistent-rampool");
	/* a directory on the wrong file system */
	o = ok; o.backing = RAMPOOL_BACKING_TMPFS; o.size = 4096;
	o.dir = "/proc";
	expect(pool, o, -EINVAL, "dir /proc is not on tmpfs");
	o = ok; o.backing = RAMPOOL_BACKING_HUGETLBFS; o.dir = "/dev/shm";
	expect(pool, o, -EINVAL,
	       "dir /dev/shm is not a hugetlbfs mount of 2097152-byte pages");

	/* threads: 0 is "as many as the node has CPUs", 256 the most */
	o = ok; o.threads = 256; o.flags = RAMPOOL_BLOCK_PREALLOC;
	T_EQ(rampool_block_new(pool, &o, &blk), 0);
	/* populate ranges outside the block or not page aligned */
	T_EQ(rampool_block_populate(blk, 0, 0), -EINVAL);
	T_EQ(rampool_block_populate(blk, 4096, MB2), -EINVAL);
	T_EQ(rampool_block_populate(blk, 0, MB2 + 4096), -EINVAL);
	T_EQ(rampool_block_populate(blk, 4 * MB2, MB2), -EINVAL);
	T_EQ(rampool_block_populate(blk, 2 * MB2, UINT64_MAX - MB2 + 1),
	     -EINVAL);
	T_ASSERT(strstr(lg.last_err, "not page aligned inside the block"));
	T_EQ(rampool_block_populate(blk, 2 * MB2, 2 * MB2), 0);
	rampool_block_free(blk);
	rampool_block_free(NULL);

	/* a pool that reads a recorded tree makes no blocks */
	{
		struct rampool_pool_opts fo = po;
		struct rampool_pool *fp;
		char root[4096];

		snprintf(root, sizeof(root), "%s/tests/fixtures/sysfs/x86-2node",
			 getenv("SRC") ? getenv("SRC") : ".");
		fo.sysroot = root;
		if (!rampool_pool_new(&fo, &fp)) {
			T_EQ(rampool_block_new(fp, &ok, &blk), -EOPNOTSUPP);
			rampool_pool_free(fp);
		}
	}
	rampool_pool_free(pool);
	printf("bad block input refused, nothing allocated\n");
	return 0;
}
