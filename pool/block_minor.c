// SPDX-License-Identifier: LGPL-2.1-or-later
/* block_minor.c: keep-pages postcopy: the block's pages stay in its file, the mapping is zapped and registered MINOR, pages are written through an alias and mapped with UFFDIO_CONTINUE. */
#include <errno.h>
#include <numaif.h>
#include <string.h>
#include <sys/mman.h>

#include "../backend/bitmap.h"
#include "../backend/uffd.h"
#include "block.h"
#include "block_uffd.h"
#include "pool.h"

#define MODES (UFFD_MODE_MISSING | UFFD_MODE_MINOR)

static uint64_t base(const struct rampool_block *blk)
{
	return (uint64_t)(uintptr_t)blk->b.addr;
}

/* The file mapped once more, bound as the block (a page it would make
 * lands where the block's would). */
static int alias_map(struct rampool_block *blk, void **out)
{
	int flags = MAP_SHARED | (blk->b.noreserve ? MAP_NORESERVE : 0);
	void *a = mmap(NULL, blk->max_size, PROT_READ | PROT_WRITE, flags,
		       blk->b.fd, 0);
	int ret;

	if (a == MAP_FAILED) {
		ret = -errno;
		rp_err(&blk->pool->log, "block: keep-pages: the alias "
		       "mapping: %s", strerror(-ret));
		return ret;
	}
	if (blk->mpol_mode >= 0 &&
	    mbind(a, blk->max_size, blk->mpol_mode, blk->nodemask,
		  PREALLOC_MAX_NODES + 1, 0)) {
		ret = -errno;
		rp_err(&blk->pool->log, "block: keep-pages: mbind of the "
		       "alias: %s", strerror(-ret));
		munmap(a, blk->max_size);
		return ret;
	}
	*out = a;
	return 0;
}

/*
 * Registers [off, off + len) MINOR and MISSING, then drops its page
 * tables: the file keeps the pages (DESIGN fact 7), a touch now faults.
 * In this order: a touch between the two would map the old page for good.
 */
static int register_zap(struct rampool_block *blk, struct block_pc *pc,
			uint64_t off, uint64_t len)
{
	int ret = uffd_register_mode(&pc->u, base(blk) + off, len,
				     blk->b.hugetlb, MODES);

	if (ret)
		return ret;
	if (madvise((char *)blk->b.addr + off, len, MADV_DONTNEED)) {
		ret = -errno;
		rp_err(&blk->pool->log, "block: keep-pages: MADV_DONTNEED "
		       "%llu+%llu: %s", (unsigned long long)off,
		       (unsigned long long)len, strerror(-ret));
		uffd_unregister(&pc->u, base(blk) + off, len);
		return ret;
	}
	return 0;
}

int block_minor_prepare(struct rampool_block *blk, struct block_pc *pc)
{
	uint64_t used = blk->size / blk->page_size;
	int ret;

	ret = alias_map(blk, &pc->alias);
	if (ret)
		return ret;
	pc->alias_len = blk->max_size;
	ret = register_zap(blk, pc, 0, blk->size);
	if (ret) {
		block_minor_end(pc);
		return ret;
	}
	pc->keep = true;
	/* seed 003: what lies past the used length is never asked for */
	bitmap_set(pc->received, used, blk->npages - used);
	return 0;
}

void block_minor_end(struct block_pc *pc)
{
	if (pc->alias)
		munmap(pc->alias, pc->alias_len);
	pc->alias = NULL;
}

int block_minor_grow(struct rampool_block *blk, uint64_t size)
{
	struct block_pc *pc = blk->pc;
	uint64_t old = blk->size, ps = blk->page_size;
	int ret;

	/* the tail may have been touched since: it faults again */
	ret = register_zap(blk, pc, old, size - old);
	if (ret)
		return ret;
	bitmap_clear(pc->received, old / ps, (size - old) / ps);
	blk->size = size;
	return 0;
}

/* ---- placement ---------------------------------------------------------- */

/* Marks n pages from i received after a placement of done bytes. */
static void placed(struct rampool_block *blk, uint64_t i, uint64_t done)
{
	bitmap_set(blk->pc->received, i, done / blk->page_size);
	blk->pc->st.placed += done;
}

/* Page i's mapping changed under the placement (seed 003): consumed. */
static void vanished(struct rampool_block *blk, uint64_t i, int err)
{
	struct block_pc *pc = blk->pc;
	uint64_t off = i * blk->page_size;

	bitmap_set(pc->received, i, 1);
	pc->st.vanished += blk->page_size;
	uffd_wake(&pc->u, base(blk) + off, blk->page_size);
	rp_warn(&blk->pool->log, "block: postcopy: the mapping at %llu changed "
		"under a placement (%s): counted as received",
		(unsigned long long)off, strerror(-err));
}

/*
 * n pages from i, all in the file: the data written through the alias
 * (src NULL: zeros), then mapped (UFFDIO_CONTINUE), which wakes the
 * waiters. *done: pages placed. 0, or the error about page i + *done.
 */
static int via_alias(struct rampool_block *blk, uint64_t i, uint64_t n,
		     const char *src, uint64_t *done)
{
	uint64_t ps = blk->page_size, bytes;
	char *dst = (char *)blk->pc->alias + i * ps;
	int ret;

	if (src)
		memcpy(dst, src, n * ps);
	else
		memset(dst, 0, n * ps);
	ret = uffd_continue(&blk->pc->u, base(blk) + i * ps, n * ps, 0, &bytes);
	placed(blk, i, bytes);
	*done = bytes / ps;
	return ret;
}

/*
 * UFFDIO_COPY said EEXIST for page i, never populated as far as the block
 * knows: the file has it after all (written behind rampool's back), or on
 * hugetlb the pool ran dry. UFFDIO_CONTINUE tells them apart (EFAULT: no
 * page in the file) without allocating; DONTWAKE until the data is in.
 */
static int eexist_hole(struct rampool_block *blk, uint64_t i, const char *src)
{
	uint64_t ps = blk->page_size, done;
	int ret;

	ret = uffd_continue(&blk->pc->u, base(blk) + i * ps, ps, 1, &done);
	if (ret == -EFAULT) {
		rp_err(&blk->pool->log, "block: postcopy: no %llu-byte page "
		       "left for offset %llu: the pool ran dry",
		       (unsigned long long)ps, (unsigned long long)(i * ps));
		return -ENOMEM;
	}
	if (ret)
		return ret;
	if (src)
		memcpy((char *)blk->pc->alias + i * ps, src, ps);
	else
		memset((char *)blk->pc->alias + i * ps, 0, ps);
	bitmap_set(blk->populated, i, 1);
	placed(blk, i, ps);
	return uffd_wake(&blk->pc->u, base(blk) + i * ps, ps);
}

/*
 * n pages from i the file lacks: UFFDIO_COPY / zero pages (MISSING).
 * *done: pages placed; 0 may come with *done < n (an EEXIST resolved).
 */
static int via_copy(struct rampool_block *blk, uint64_t i, uint64_t n,
		    const char *src, uint64_t *done)
{
	uint64_t ps = blk->page_size, bytes;
	int ret;

	if (src)
		ret = uffd_copy(&blk->pc->u, base(blk) + i * ps, src, n * ps, 0,
				&bytes);
	else
		ret = uffd_zero(&blk->pc->u, base(blk) + i * ps, n * ps,
				blk->b.hugetlb, &bytes);
	placed(blk, i, bytes);
	bitmap_set(blk->populated, i, bytes / ps);
	*done = bytes / ps;
	if (ret != -EEXIST)
		return ret;
	/* 0 with *done < n: the caller goes on from there */
	ret = eexist_hole(blk, i + *done, src ? src + bytes : NULL);
	if (!ret)
		++*done;
	return ret;
}

/* Pages from i (< end) not received, as many as share i's populated bit. */
static uint64_t run_of(struct rampool_block *blk, uint64_t i, uint64_t end)
{
	bool pop = bitmap_test(blk->populated, i);
	uint64_t j = i + 1;

	while (j < end && !bitmap_test(blk->pc->received, j) &&
	       bitmap_test(blk->populated, j) == pop)
		j++;
	return j - i;
}

/* Page i failed with err: 0 to go on with the next page, else stop. */
static int place_failed(struct rampool_block *blk, uint64_t i, int err,
			int *seen)
{
	switch (err) {
	case -ENOENT:
	case -EINVAL:
		vanished(blk, i, err);
		return 0;
	case -EEXIST:
		/* mapped though never placed: it will not fault */
		rp_warn(&blk->pool->log, "block: postcopy: the page at %llu "
			"is mapped but was never placed",
			(unsigned long long)(i * blk->page_size));
		bitmap_set(blk->pc->received, i, 1);
		blk->pc->st.already++;
		*seen = -EEXIST;
		return 0;
	case -ENOMEM:
		rp_err(&blk->pool->log, "block: postcopy: no page for offset "
		       "%llu: %s", (unsigned long long)(i * blk->page_size),
		       strerror(-err));
		return err;
	default:
		return err;
	}
}

int block_minor_place_locked(struct rampool_block *blk, uint64_t first,
			     uint64_t end, const char *src)
{
	struct block_pc *pc = blk->pc;
	uint64_t ps = blk->page_size, i = first, n, done;
	int ret, seen = 0;

	while (i < end) {
		const char *s = src ? src + (i - first) * ps : NULL;

		if (i >= blk->size / ps) {
			/* seed 003: shrunk away; consumed, nothing written */
			vanished(blk, i, -ENOENT);
			i++;
			continue;
		}
		if (bitmap_test(pc->received, i)) {
			/* never written again: the guest may own it now */
			pc->st.already++;
			seen = -EEXIST;
			i++;
			continue;
		}
		n = run_of(blk, i, end);
		if (bitmap_test(blk->populated, i))
			ret = via_alias(blk, i, n, s, &done);
		else
			ret = via_copy(blk, i, n, s, &done);
		i += done;
		if (!ret)
			continue;
		ret = place_failed(blk, i, ret, &seen);
		if (ret)
			return ret;
		i++;
	}
	return seen;
}
