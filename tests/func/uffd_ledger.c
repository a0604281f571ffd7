// SPDX-License-Identifier: LGPL-2.1-or-later
/* uffd_ledger.c: a block's discarded pages whose hugetlb reservation is gone are owed, never held, in the block, the ledger (list -J) and status -J; placing them makes them held and populated again (issue 8); list -J names the postcopy mode, and keep-pages mode moves nothing (issue 12). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "rampool.h"
#include "../t_compat.h"
#include "t_res.h"
#include "t_uffd.h"

#define MB2 (2ULL << 20)
#define N 4			/* pages of the block */
#define LEN (N * MB2)

/* The block's row in list -J: the only row in this state directory. */
static void check_row(const char *state, uint64_t held, uint64_t owed,
		      uint64_t populated)
{
	json_object *l = t_res_list(), *rows = t_res_rows(l), *r;

	T_EQ(json_object_array_length(rows), 1);
	r = json_object_array_get_idx(rows, 0);
	if (strcmp(t_jget_str(r, "state"), state))
		T_FAIL("state %s, expected %s", t_jget_str(r, "state"), state);
	T_EQ(t_jget_u64(r, "held"), held);
	T_EQ(t_jget_u64(r, "owed"), owed);
	T_EQ(t_jget_u64(r, "populated"), populated);
	json_object_put(l);
}

/* status -J: the 2M entry of rows on no node (the block is not bound). */
static void check_status(uint64_t held, uint64_t owed)
{
	json_object *doc, *u = t_status_usage(MB2, RAMPOOL_NODE_ANY, &doc);

	T_EQ(t_jget_u64(u, "reserved"), LEN);
	T_EQ(t_jget_u64(u, "held"), held);
	T_EQ(t_jget_u64(u, "owed"), owed);
	json_object_put(doc);
}

static void check_info(struct rampool_block *blk, uint64_t held,
		       uint64_t owed, uint64_t populated)
{
	struct rampool_block_info bi = { .sz = sizeof(bi) };

	T_EQ(rampool_block_info(blk, &bi), 0);
	T_EQ(bi.held, held);
	T_EQ(bi.owed, owed);
	T_EQ(bi.populated, populated);
}

int main(void)
{
	struct rampool_pool_opts po = {
		.sz = sizeof(po), .state_dir = t_res_dir(),
	};
	struct rampool_block_opts o = {
		.sz = sizeof(o), .size = LEN,
		.backing = RAMPOOL_BACKING_MEMFD_HUGETLB,
		.flags = RAMPOOL_BLOCK_PREALLOC, .threads = 1,
	};
	struct rampool_block *blk;
	struct rampool_pool *pool;
	struct t_hcount h0, h;
	unsigned char *buf = malloc(MB2), *a;
	int fd;

	t_uffd_not_under_valgrind();
	t_require_hugetlb(MB2);
	t_res_pool_unclaimed(MB2, N);
	T_ASSERT(buf);
	T_EQ(rampool_pool_new(&po, &pool), 0);
	T_EQ(rampool_block_new(pool, &o, &blk), 0);
	check_row("block", LEN, 0, LEN);
	check_status(LEN, 0);

	/* released: the pages and their reservation go back to the kernel */
	t_hcount(MB2, -1, &h0);
	T_EQ(rampool_block_prepare_postcopy(blk, RAMPOOL_POSTCOPY_RELEASE,
					    &fd), 0);
	t_hcount(MB2, -1, &h);
	T_EQ(h.free, h0.free + N);
	T_EQ(h.resv, h0.resv);
	check_info(blk, 0, LEN, 0);
	check_row("postcopy", 0, LEN, 0);	/* owed, never held */
	check_status(0, LEN);

	/* two pages placed: held and populated again in the block */
	a = rampool_block_addr(blk);
	for (int i = 0; i < 2; i++) {
		memset(buf, 0x30 + i, MB2);
		T_EQ(rampool_block_place(blk, (uint64_t)i * MB2, buf, MB2), 0);
	}
	T_EQ(a[MB2], 0x31);
	check_info(blk, 2 * MB2, 2 * MB2, 2 * MB2);
	/* the rest as zero pages; postcopy_end writes the row */
	T_EQ(rampool_block_place(blk, 2 * MB2, NULL, 2 * MB2), 0);
	check_info(blk, LEN, 0, LEN);
	T_EQ(rampool_block_postcopy_end(blk), 0);
	check_row("block", LEN, 0, LEN);
	check_status(LEN, 0);
	T_EQ(a[0], 0x30);
	T_EQ(a[LEN - 1], 0);

	/* an owed range discarded again stays owed; kept, it is held */
	T_EQ(rampool_block_discard(blk, 0, MB2, RAMPOOL_DISCARD_RELEASE), 0);
	T_EQ(rampool_block_discard(blk, MB2, MB2, 0), 0);
	check_info(blk, LEN - MB2, MB2, 2 * MB2);
	check_row("block", LEN - MB2, MB2, 2 * MB2);
	check_status(LEN - MB2, MB2);

	rampool_block_free(blk);

	/*
	 * Keep-pages mode: nothing moves in the ledger; the row says the
	 * mode while it lasts (HugePages_Free too: no page leaves).
	 */
	T_EQ(rampool_block_new(pool, &o, &blk), 0);
	t_hcount(MB2, -1, &h0);
	fd = -1;
	if (rampool_block_prepare_postcopy(blk, RAMPOOL_POSTCOPY_KEEP_PAGES,
					   &fd) == -EOPNOTSUPP)
		t_skip("no userfaultfd minor faults on hugetlbfs here");
	t_hcount(MB2, -1, &h);
	T_HCOUNT_EQ(h, h0);
	check_info(blk, LEN, 0, LEN);
	check_row("postcopy-keep", LEN, 0, LEN);
	check_status(LEN, 0);
	memset(buf, 0x42, MB2);
	T_EQ(rampool_block_place(blk, MB2, buf, MB2), 0);
	T_EQ(rampool_block_postcopy_end(blk), 0);
	a = rampool_block_addr(blk);
	T_EQ(a[MB2], 0x42);
	check_row("block", LEN, 0, LEN);
	t_hcount(MB2, -1, &h);
	T_HCOUNT_EQ(h, h0);
	rampool_block_free(blk);

	rampool_pool_free(pool);
	free(buf);
	t_res_audit_clean();
	printf("uffd_ledger: released pages owed in the block, list and "
	       "status; placed again, held\n");
	return 0;
}
