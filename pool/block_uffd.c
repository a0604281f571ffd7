// SPDX-License-Identifier: LGPL-2.1-or-later
/* block_uffd.c: a block as a postcopy destination: discard, register, place pages, resize while registered, the received bitmap. */
#include <errno.h>
#include <inttypes.h>
#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../backend/backing.h"
#include "../backend/bitmap.h"
#include "../backend/sysfs.h"
#include "../backend/uffd.h"
#include "block.h"
#include "block_uffd.h"
#include "opts.h"
#include "pool.h"

static uint64_t base(const struct rampool_block *blk)
{
	return (uint64_t)(uintptr_t)blk->b.addr;
}

static void pc_free(struct block_pc *pc)
{
	if (!pc)
		return;
	uffd_close(&pc->u);
	block_minor_end(pc);
	if (pc->kick_fd >= 0)
		close(pc->kick_fd);
	pthread_mutex_destroy(&pc->lock);
	free(pc->received);
	free(pc);
}

void block_postcopy_free(struct rampool_block *blk)
{
	pc_free(blk->pc);
	blk->pc = NULL;
}

static int pc_new(struct rampool_block *blk, unsigned int flags,
		  struct block_pc **out)
{
	unsigned int need = blk->b.hugetlb ? UFFD_NEED_HUGETLB : UFFD_NEED_SHMEM;
	struct block_pc *pc = calloc(1, sizeof(*pc));
	int ret = -ENOMEM;

	if (!pc)
		return -ENOMEM;
	pc->u.fd = pc->kick_fd = -1;
	pthread_mutex_init(&pc->lock, NULL);
	pc->received = bitmap_alloc(blk->npages);
	if (!pc->received)
		goto out_free;
	pc->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (pc->kick_fd < 0) {
		ret = -errno;
		goto out_free;
	}
	if (flags & RAMPOOL_POSTCOPY_USER_ONLY)
		need |= UFFD_USER_ONLY;
	if (flags & RAMPOOL_POSTCOPY_KEEP_PAGES)
		need |= UFFD_NEED_MINOR;
	ret = uffd_open(need, blk->pool->uffd_ops, &blk->pool->log, &pc->u);
	if (ret)
		goto out_free;
	*out = pc;
	return 0;
out_free:
	pc_free(pc);
	return ret;
}

/*
 * The discard of issue 8 (block_discard.c): the range punched, the hugetlb
 * reservation kept (a reservation's mount keeps it by itself, any other
 * block takes it back) unless released, the bookkeeping in the block and
 * the ledger. Re-reserving that failed leaves the range owed: placing it may
 * then fail with -ENOMEM, which rampool_block_place reports.
 */
static int pc_discard(struct rampool_block *blk, uint64_t off, uint64_t len,
		      bool release)
{
	int ret = block_discard(blk, off, len,
				release ? RAMPOOL_DISCARD_RELEASE : 0);

	if (ret == RAMPOOL_DISCARD_OWED) {
		rp_warn(&blk->pool->log, "block: postcopy: %llu bytes at %llu "
			"discarded but no longer reserved: placing them may "
			"fail with -ENOMEM", (unsigned long long)len,
			(unsigned long long)off);
		ret = 0;
	}
	return ret;
}

int rampool_block_prepare_postcopy(struct rampool_block *blk,
				   unsigned int flags, int *uffd_fd)
{
	struct block_pc *pc = NULL;
	uint64_t used, owed;
	int ret;

	if (!blk || !uffd_fd ||
	    flags & ~(RAMPOOL_POSTCOPY_RELEASE | RAMPOOL_POSTCOPY_USER_ONLY |
		      RAMPOOL_POSTCOPY_KEEP_PAGES) ||
	    (flags & RAMPOOL_POSTCOPY_KEEP_PAGES &&
	     flags & RAMPOOL_POSTCOPY_RELEASE))
		return -EINVAL;
	if (blk->pc)
		return -EBUSY;
	ret = pc_new(blk, flags, &pc);
	if (ret)
		return ret;
	if (flags & RAMPOOL_POSTCOPY_KEEP_PAGES) {
		/* no discard: zapped and registered MINOR (block_minor.c) */
		ret = block_minor_prepare(blk, pc);
		if (ret)
			goto out_free;
		goto out_ready;
	}
	ret = pc_discard(blk, 0, blk->max_size,
			 flags & RAMPOOL_POSTCOPY_RELEASE);
	if (ret)
		goto out_free;
	used = blk->size / blk->page_size;
	/* seed 003: what lies past the used length is never asked for */
	bitmap_set(pc->received, used, blk->npages - used);
	ret = uffd_register(&pc->u, base(blk), blk->size, blk->b.hugetlb);
	if (ret) {
		rp_err(&blk->pool->log, "block: postcopy: the block was "
		       "discarded but could not be registered");
		goto out_free;
	}
out_ready:
	blk->pc = pc;
	*uffd_fd = pc->u.fd;
	/* the mode in the block's row (show); logged if it cannot be */
	block_figures(blk, &used, &owed);
	block_ledger_row(blk, used, owed,
			 flags & RAMPOOL_POSTCOPY_KEEP_PAGES ?
				 RAMPOOL_POSTCOPY_MODE_KEEP :
				 RAMPOOL_POSTCOPY_MODE_DISCARD);
	return 0;
out_free:
	pc_free(pc);
	return ret;
}

int rampool_block_postcopy_end(struct rampool_block *blk)
{
	struct block_pc *pc = blk ? blk->pc : NULL;
	uint64_t pop, owed;

	if (!pc || pc->u.fd < 0)
		return -EINVAL;
	pthread_mutex_lock(&pc->lock);
	uffd_unregister(&pc->u, base(blk), blk->size);
	uffd_wake(&pc->u, base(blk), blk->size);
	uffd_close(&pc->u);
	block_minor_end(pc);
	block_figures(blk, &pop, &owed);
	pthread_mutex_unlock(&pc->lock);
	/* the pages placed are populated again, owed ones held again */
	block_ledger_row(blk, pop, owed, RAMPOOL_POSTCOPY_MODE_NONE);
	return 0;
}

/* ---- the hugetlb pool ran dry, or the page is there (fact 3) ------------ */

/* kb-sized pages' counter name ("free_hugepages"), host-wide (node < 0). */
static int read_count(struct sysfs *s, const char *name, int node,
		      uint64_t kb, uint64_t *v)
{
	char rel[160];

	if (node >= 0)
		snprintf(rel, sizeof(rel), "sys/devices/system/node/node%d/"
			 "hugepages/hugepages-%llukB/%s", node,
			 (unsigned long long)kb, name);
	else
		snprintf(rel, sizeof(rel), "sys/kernel/mm/hugepages/"
			 "hugepages-%llukB/%s", (unsigned long long)kb, name);
	return sysfs_read_u64(s, rel, v);
}

/*
 * Pages of the block's size the kernel could still give it: host free
 * less reserved, and for a bound block no more than its nodes have free.
 * Nothing is touched (a read of a discarded page would fill it, fact 7).
 */
static int hugetlb_available(struct rampool_block *blk, uint64_t *avail)
{
	uint64_t kb = blk->page_size >> 10, free_p, resv, n, sum = 0;
	struct sysfs *s;
	int ret;

	ret = sysfs_open(blk->pool->sysroot, NULL, &blk->pool->log, &s);
	if (ret)
		return ret;
	ret = read_count(s, "free_hugepages", -1, kb, &free_p);
	if (!ret)
		ret = read_count(s, "resv_hugepages", -1, kb, &resv);
	if (ret)
		goto out;
	*avail = free_p > resv ? free_p - resv : 0;
	if (blk->mpol_mode != MPOL_BIND)
		goto out;
	for (int node = 0; node < PREALLOC_MAX_NODES; node++) {
		if (!bitmap_test(blk->nodes, (uint64_t)node))
			continue;
		ret = read_count(s, "free_hugepages", node, kb, &n);
		if (ret)
			goto out;
		sum += n;
	}
	if (sum < *avail)
		*avail = sum;
out:
	sysfs_close(s);
	return ret;
}

/*
 * UFFDIO_COPY said EEXIST for page i, which rampool never placed. On
 * hugetlb with no page left to take, it is the dry pool: -ENOMEM. Else a
 * page really is there (put in the file behind rampool's back): it will
 * never fault, so it counts as received; -EEXIST.
 */
static int eexist_unplaced(struct rampool_block *blk, uint64_t i)
{
	struct block_pc *pc = blk->pc;
	uint64_t avail = 1;

	if (blk->b.hugetlb && hugetlb_available(blk, &avail) == 0 && !avail) {
		rp_err(&blk->pool->log, "block: postcopy: no %llu-byte page "
		       "left for offset %llu (the kernel says EEXIST): the "
		       "pool ran dry", (unsigned long long)blk->page_size,
		       (unsigned long long)(i * blk->page_size));
		return -ENOMEM;
	}
	rp_warn(&blk->pool->log, "block: postcopy: the page at %llu is there "
		"but was never placed", (unsigned long long)(i * blk->page_size));
	bitmap_set(pc->received, i, 1);
	pc->st.already++;
	return -EEXIST;
}

/* Page i failed with err. 0: go on with the next page; else stop. */
static int place_failed(struct rampool_block *blk, uint64_t i, int err,
			int *seen)
{
	struct block_pc *pc = blk->pc;
	uint64_t off = i * blk->page_size;

	switch (err) {
	case -ENOENT:
	case -EINVAL:
		/* seed 003: the mapping changed; the page is consumed */
		bitmap_set(pc->received, i, 1);
		pc->st.vanished += blk->page_size;
		uffd_wake(&pc->u, base(blk) + off, blk->page_size);
		rp_warn(&blk->pool->log, "block: postcopy: the mapping at %llu "
			"changed under a placement (%s): counted as received",
			(unsigned long long)off, strerror(-err));
		return 0;
	case -EEXIST:
		if (bitmap_test(pc->received, i)) {
			pc->st.already++;
			*seen = -EEXIST;
			return 0;
		}
		err = eexist_unplaced(blk, i);
		if (err == -EEXIST) {
			*seen = err;
			return 0;
		}
		return err;
	case -ENOMEM:
		rp_err(&blk->pool->log, "block: postcopy: no page for offset "
		       "%llu: %s", (unsigned long long)off, strerror(-err));
		return err;
	default:
		return err;
	}
}

/* Places [first, end) pages; called with pc->lock held. */
static int place_locked(struct rampool_block *blk, uint64_t first,
			uint64_t end, const char *src)
{
	struct block_pc *pc = blk->pc;
	uint64_t ps = blk->page_size, i = first, done;
	int ret = 0, seen = 0;

	if (pc->keep)
		return block_minor_place_locked(blk, first, end, src);
	while (i < end) {
		uint64_t dst = base(blk) + i * ps, len = (end - i) * ps;

		if (src)
			ret = uffd_copy(&pc->u, dst, src + (i - first) * ps,
					len, 0, &done);
		else
			ret = uffd_zero(&pc->u, dst, len, blk->b.hugetlb,
					&done);
		bitmap_set(pc->received, i, done / ps);
		/* in the file under the block's policy: held (no longer owed) */
		bitmap_set(blk->populated, i, done / ps);
		pc->st.placed += done;
		i += done / ps;
		if (!ret)
			break;
		ret = place_failed(blk, i, ret, &seen);
		if (ret)
			return ret;
		i++;
	}
	return seen;
}

/* Wakes a serve loop waiting for a page placed from elsewhere. */
static void notify(struct block_pc *pc)
{
	if (atomic_load(&pc->serving))
		block_pc_kick(pc);
}

void block_pc_kick(struct block_pc *pc)
{
	uint64_t one = 1;

	/* EAGAIN: the counter is full, the loop wakes anyway */
	if (write(pc->kick_fd, &one, sizeof(one)) < 0)
		return;
}

static int check_range(struct rampool_block *blk, uint64_t off, uint64_t len,
		       const char *what)
{
	if (!blk->pc || blk->pc->u.fd < 0) {
		rp_err(&blk->pool->log, "block: %s: postcopy not prepared",
		       what);
		return -EINVAL;
	}
	if (!len || off % blk->page_size || len % blk->page_size ||
	    off > blk->max_size || len > blk->max_size - off) {
		rp_err(&blk->pool->log, "block: %s: %llu+%llu is not page "
		       "aligned inside the block's %llu bytes", what,
		       (unsigned long long)off, (unsigned long long)len,
		       (unsigned long long)blk->max_size);
		return -EINVAL;
	}
	return 0;
}

int rampool_block_place(struct rampool_block *blk, uint64_t offset,
			const void *src, uint64_t len)
{
	int ret;

	if (!blk)
		return -EINVAL;
	ret = check_range(blk, offset, len, "place");
	if (ret)
		return ret;
	/* serialized: a page another placement just put is then marked */
	pthread_mutex_lock(&blk->pc->lock);
	ret = place_locked(blk, offset / blk->page_size,
			   (offset + len) / blk->page_size, src);
	pthread_mutex_unlock(&blk->pc->lock);
	notify(blk->pc);
	return ret;
}

/* ---- resize (seed 003) -------------------------------------------------- */

static int shrink(struct rampool_block *blk, uint64_t size)
{
	struct block_pc *pc = blk->pc;
	uint64_t old = blk->size, ps = blk->page_size;
	int ret;

	ret = uffd_unregister(&pc->u, base(blk) + size, old - size);
	if (ret)
		return ret;
	bitmap_set(pc->received, size / ps, (old - size) / ps);
	blk->size = size;
	/* waiters there retry and fault as on any mapping */
	return uffd_wake(&pc->u, base(blk) + size, old - size);
}

static int grow(struct rampool_block *blk, uint64_t size)
{
	struct block_pc *pc = blk->pc;
	uint64_t old = blk->size, ps = blk->page_size;
	int ret;

	if (pc->keep)
		return block_minor_grow(blk, size);
	/* the tail may have been touched since: make it missing again */
	ret = pc_discard(blk, old, size - old, false);
	if (ret)
		return ret;
	ret = uffd_register(&pc->u, base(blk) + old, size - old,
			    blk->b.hugetlb);
	if (ret)
		return ret;
	bitmap_clear(pc->received, old / ps, (size - old) / ps);
	blk->size = size;
	return 0;
}

int rampool_block_resize(struct rampool_block *blk, uint64_t size)
{
	int ret = 0;

	if (!blk)
		return -EINVAL;
	if (!size || size % blk->page_size || size > blk->max_size) {
		rp_err(&blk->pool->log, "block: resize to %llu: not a page "
		       "multiple in (0, %llu]", (unsigned long long)size,
		       (unsigned long long)blk->max_size);
		return -EINVAL;
	}
	if (!blk->pc || blk->pc->u.fd < 0) {
		blk->size = size;
		return 0;
	}
	pthread_mutex_lock(&blk->pc->lock);
	if (size < blk->size)
		ret = shrink(blk, size);
	else if (size > blk->size)
		ret = grow(blk, size);
	pthread_mutex_unlock(&blk->pc->lock);
	notify(blk->pc);
	return ret;
}

uint64_t rampool_block_received(struct rampool_block *blk)
{
	uint64_t n;

	if (!blk || !blk->pc)
		return 0;
	pthread_mutex_lock(&blk->pc->lock);
	n = bitmap_count(blk->pc->received, 0, blk->npages);
	pthread_mutex_unlock(&blk->pc->lock);
	return n * blk->page_size;
}

int rampool_block_postcopy_stats(struct rampool_block *blk,
				 struct rampool_postcopy_stats *stats)
{
	struct rampool_postcopy_stats st = { .sz = sizeof(st) };

	if (!blk || !stats)
		return -EINVAL;
	if (blk->pc) {
		pthread_mutex_lock(&blk->pc->lock);
		st = blk->pc->st;
		st.received = bitmap_count(blk->pc->received, 0, blk->npages) *
			      blk->page_size;
		pthread_mutex_unlock(&blk->pc->lock);
		st.sz = sizeof(st);
	}
	return info_copy(stats, stats->sz, &st, sizeof(st),
			 OPTS_END(struct rampool_postcopy_stats, faults));
}
