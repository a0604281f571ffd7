// SPDX-License-Identifier: LGPL-2.1-or-later
/* block_discard.c: discarding a block's pages (postcopy) with the capacity kept where the kernel can, and the held/owed figures. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../backend/backing.h"
#include "../backend/bitmap.h"
#include "block.h"
#include "block_uffd.h"
#include "opts.h"
#include "res.h"

static const struct backing_ops *dops(const struct rampool_block *blk)
{
	return blk->pool->backing_ops ? blk->pool->backing_ops
				      : &backing_default_ops;
}

/* Whether the block's pages have a kernel reservation behind them. */
static bool reserved(const struct rampool_block *blk)
{
	return blk->b.hugetlb && !blk->b.noreserve;
}

static int check_range(struct rampool_block *blk, uint64_t off, uint64_t len,
		       unsigned int flags)
{
	if (flags & ~RAMPOOL_DISCARD_RELEASE) {
		rp_err(&blk->pool->log, "discard: unknown flags 0x%x", flags);
		return -EINVAL;
	}
	if (!len || off % blk->page_size || len % blk->page_size ||
	    off > blk->max_size || len > blk->max_size - off) {
		rp_err(&blk->pool->log, "discard: range %llu+%llu is not "
		       "whole %llu-byte pages inside the block's %llu bytes",
		       (unsigned long long)off, (unsigned long long)len,
		       (unsigned long long)blk->page_size,
		       (unsigned long long)blk->max_size);
		return -EINVAL;
	}
	if (flags & RAMPOOL_DISCARD_RELEASE && blk->res_mount) {
		rp_err(&blk->pool->log, "discard: a reservation's mount keeps "
		       "its pages reserved; release the reservation to give "
		       "them back");
		return -EOPNOTSUPP;
	}
	return 0;
}

/* Marks pages [first, first + n) owed (on) or held again (off); the
 * bitmap exists (made before the punch, so that nothing fails after it). */
static void mark_owed(struct rampool_block *blk, uint64_t first, uint64_t n,
		      bool on)
{
	if (on)
		bitmap_set(blk->owed, first, n);
	else
		bitmap_clear(blk->owed, first, n);
}

/*
 * Owed pages of a reserved block: gone from the kernel, not populated
 * (a placement fills a page again). The caller holds the postcopy lock
 * when there is one: placements mark pages populated under it.
 */
static uint64_t owed_pages(const struct rampool_block *blk)
{
	uint64_t n = 0;

	if (!blk->owed)
		return 0;
	for (uint64_t i = 0; i < BITMAP_WORDS(blk->npages); i++)
		n += (uint64_t)__builtin_popcountll(blk->owed[i] &
						    ~blk->populated[i]);
	return n;
}

void block_figures(const struct rampool_block *blk, uint64_t *populated,
		   uint64_t *owed)
{
	*populated = bitmap_count(blk->populated, 0, blk->npages) *
		     blk->page_size;
	*owed = owed_pages(blk) * blk->page_size;
}

int block_ledger_write(struct rampool_block *blk, uint64_t pop,
		       uint64_t owed)
{
	return block_ledger_row(blk, pop, owed, -1);
}

int block_ledger_row(struct rampool_block *blk, uint64_t pop, uint64_t owed,
		     int mode)
{
	static const unsigned int mode_flags[] = {
		[RAMPOOL_POSTCOPY_MODE_NONE] = 0,
		[RAMPOOL_POSTCOPY_MODE_DISCARD] = LEDGER_F_POSTCOPY,
		[RAMPOOL_POSTCOPY_MODE_KEEP] = LEDGER_F_POSTCOPY |
					       LEDGER_F_POSTCOPY_KEEP,
	};
	struct ledger *l = blk->ledger;
	int ret;

	if (!l)
		return 0;
	ret = ledger_connect(l->pool, LEDGER_WRITE, l);
	if (ret)
		goto out;
	ret = ledger_begin(l);
	if (!ret)
		ret = ledger_set_populated(l, blk->ledger_id, blk->node, pop);
	if (!ret)
		ret = ledger_set_owed(l, blk->ledger_id, blk->node, owed);
	/* a block's row has no other flags (block_ledger_pending) */
	if (!ret && mode >= 0)
		ret = ledger_set_flags(l, blk->ledger_id, mode_flags[mode]);
	if (!ret)
		ret = ledger_commit(l);
	else
		ledger_rollback(l);
	ledger_disconnect(l);
out:
	if (ret)
		rp_warn(&blk->pool->log, "block: the ledger keeps older "
			"figures of its pages: %s", strerror(-ret));
	return ret;
}

/*
 * Takes the range's reservation back after the punch (fact 4), or records
 * that it is gone: 0 held, 1 owed (RAMPOOL_DISCARD_OWED).
 */
static int keep_reservation(struct rampool_block *blk, uint64_t off,
			    uint64_t len, unsigned int flags)
{
	uint64_t first = off / blk->page_size, n = len / blk->page_size;
	int ret;

	if (!reserved(blk))
		return 0;	/* shmem, NORESERVE: owed = not populated */
	if (blk->res_mount || flags & RAMPOOL_DISCARD_RELEASE) {
		mark_owed(blk, first, n, flags & RAMPOOL_DISCARD_RELEASE);
		return 0;
	}
	ret = backing_rereserve(&blk->b, off, len, dops(blk),
				&blk->pool->log);
	if (!ret) {
		mark_owed(blk, first, n, false);
		return 0;
	}
	/* someone took the pages between the punch and now */
	rp_warn(&blk->pool->log, "discard: %llu bytes at %llu are owed: the "
		"kernel no longer reserves them", (unsigned long long)len,
		(unsigned long long)off);
	mark_owed(blk, first, n, true);
	return RAMPOOL_DISCARD_OWED;
}

int block_discard(struct rampool_block *blk, uint64_t offset, uint64_t len,
		  unsigned int flags)
{
	uint64_t pop, owed;
	int ret;

	ret = check_range(blk, offset, len, flags);
	if (ret)
		return ret;
	if (reserved(blk) && !blk->owed) {
		blk->owed = bitmap_alloc(blk->npages);
		if (!blk->owed)
			return -ENOMEM;
	}
	/*
	 * PUNCH_HOLE, never MADV_DONTNEED: on a shared mapping the page
	 * cache keeps the page and userfaultfd never sees it missing (fact
	 * 7). On hugetlb the punch drops the range's reservation too (fact
	 * 3), except in a reservation's min_size mount.
	 */
	if (dops(blk)->fallocate(blk->b.fd,
				 FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				 (off_t)offset, (off_t)len)) {
		ret = -errno;
		rp_err(&blk->pool->log, "discard: punch hole %llu+%llu: %s",
		       (unsigned long long)offset, (unsigned long long)len,
		       strerror(-ret));
		return ret;
	}
	bitmap_clear(blk->populated, offset / blk->page_size,
		     len / blk->page_size);
	ret = keep_reservation(blk, offset, len, flags);
	block_figures(blk, &pop, &owed);
	block_ledger_write(blk, pop, owed);	/* logged; the discard stands */
	return ret;
}

int rampool_block_discard(struct rampool_block *blk, uint64_t offset,
			  uint64_t len, unsigned int flags)
{
	int ret;

	if (!blk)
		return -EINVAL;
	/* placements change the bitmaps under the postcopy lock */
	if (blk->pc)
		pthread_mutex_lock(&blk->pc->lock);
	ret = block_discard(blk, offset, len, flags);
	if (blk->pc)
		pthread_mutex_unlock(&blk->pc->lock);
	return ret;
}

int rampool_block_info(const struct rampool_block *blk,
		       struct rampool_block_info *info)
{
	struct rampool_block_info i = { .sz = sizeof(i) };
	uint64_t owed;

	if (!blk || !info)
		return -EINVAL;
	i.size = blk->size;
	i.max_size = blk->max_size;
	i.page_size = blk->page_size;
	i.node = blk->node;
	if (blk->pc)
		pthread_mutex_lock(&blk->pc->lock);
	block_figures(blk, &i.populated, &owed);
	if (blk->pc)
		pthread_mutex_unlock(&blk->pc->lock);
	if (reserved(blk))
		i.held = blk->max_size - owed;
	else
		i.held = i.populated;
	i.owed = blk->max_size - i.held;
	if (blk->node != RAMPOOL_NODE_ANY)
		i.unpinned = i.held - i.populated;
	if (blk->pc && blk->pc->u.fd >= 0)
		i.postcopy_mode = blk->pc->keep ? RAMPOOL_POSTCOPY_MODE_KEEP
						: RAMPOOL_POSTCOPY_MODE_DISCARD;
	return info_copy(info, info->sz, &i, sizeof(i),
			 OPTS_END(struct rampool_block_info, unpinned));
}

/* ---- a reservation's file ---------------------------------------------- */

/* Bytes of pages the file holds (st_blocks: hugetlbfs and tmpfs count
 * allocated pages in i_blocks, whoever populated them). */
static uint64_t file_pages(const struct rampool_block *blk)
{
	struct stat st;

	if (fstat(blk->b.fd, &st))
		return 0;
	return (uint64_t)st.st_blocks * 512;
}

/*
 * The row's per-node populated figures less what the discard freed
 * (freed: the file's pages before less after, exact whoever populated
 * them). The shares lie in the file in row order (as
 * rampool_reservation_open lays them out); each share the range overlaps
 * loses at most the overlap and at most its populated bytes, in order:
 * exact for one share or a populated range, an estimate otherwise.
 */
static int res_row_update(struct rampool_pool *pool, const char *name,
			  uint64_t off, uint64_t len, uint64_t freed)
{
	uint64_t start = 0, end = off + len;
	struct ledger_row *r;
	struct ledger *l;
	int ret;

	r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	ret = res_open_write(pool, &l);
	if (ret)
		goto out;
	ret = ledger_begin(l);
	if (!ret)
		ret = ledger_get(l, name, r);
	for (unsigned int i = 0; !ret && freed && i < r->nr_nodes; i++) {
		struct ledger_node *n = &r->nodes[i];
		/* the headroom lies past the last share */
		uint64_t s_end = i + 1 < r->nr_nodes ? start + n->size
						     : UINT64_MAX;
		uint64_t lo = off > start ? off : start;
		uint64_t hi = end < s_end ? end : s_end;
		uint64_t take = hi > lo ? hi - lo : 0;

		if (take > n->populated)
			take = n->populated;
		if (take > freed)
			take = freed;
		if (take) {
			freed -= take;
			ret = ledger_set_populated(l, r->id, n->node,
						   n->populated - take);
		}
		start += n->size;
	}
	if (!ret)
		ret = ledger_commit(l);
	else
		ledger_rollback(l);
	ledger_close(l);
out:
	free(r);
	if (ret)
		rp_err(&pool->log, "discard: %s: the ledger still counts the "
		       "discarded pages as populated: %s", name,
		       strerror(-ret));
	return ret;
}

int rampool_reservation_discard(struct rampool_pool *pool, const char *name,
				uint64_t offset, uint64_t len,
				unsigned int flags)
{
	struct rampool_block *blk;
	uint64_t before, after;
	int ret, r;

	if (!pool || !name)
		return -EINVAL;
	ret = rampool_reservation_open(pool, name, &blk);
	if (ret)
		return ret;
	if (!len && offset < blk->max_size && !(offset % blk->page_size))
		len = blk->max_size - offset;
	before = file_pages(blk);
	ret = rampool_block_discard(blk, offset, len, flags);
	after = file_pages(blk);
	if (ret >= 0 && before > after) {
		r = res_row_update(pool, name, offset, len, before - after);
		if (r)
			ret = r;
	}
	rampool_block_free(blk);
	return ret;
}
