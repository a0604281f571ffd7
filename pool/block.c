// SPDX-License-Identifier: LGPL-2.1-or-later
/* block.c: RAM blocks: a bound backing made in phases or attached, population and its undo. */
#include <errno.h>
#include <numaif.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../backend/backing.h"
#include "../backend/bitmap.h"
#include "../backend/mounts.h"
#include "../backend/prealloc.h"
#include "../backend/topology.h"
#include "block.h"
#include "block_uffd.h"
#include "counters.h"
#include "res.h"
#include "pool.h"

static const struct backing_ops *bops(const struct rampool_block *blk)
{
	return blk->pool->backing_ops ? blk->pool->backing_ops
				      : &backing_default_ops;
}

static const struct prealloc_ops *pops(const struct rampool_block *blk)
{
	return blk->pool->prealloc_ops ? blk->pool->prealloc_ops
				       : &prealloc_default_ops;
}

/* ---- population --------------------------------------------------------- */

static void mark(struct rampool_block *blk, uint64_t first, uint64_t n,
		 bool on)
{
	if (on)
		bitmap_set(blk->populated, first, n);
	else
		bitmap_clear(blk->populated, first, n);
}

/* Releases pages [i, j); the first error is kept in *ret. */
static void release(struct rampool_block *blk, uint64_t i, uint64_t j,
		    int *ret)
{
	int r;

	if (i == j)
		return;
	/* -ENOMEM: freed, but the reservation is not back (logged) */
	r = backing_release(&blk->b, i * blk->page_size,
			    (j - i) * blk->page_size, bops(blk),
			    &blk->pool->log);
	if (r && !*ret)
		*ret = r;
}

/* Page i (first: before[0]'s page) was mapped here before the populate. */
static bool was_mapped(const struct rampool_block *blk, uint64_t first,
		       uint64_t i, const unsigned char *before)
{
	uint64_t per = blk->page_size / block_base_page();

	for (uint64_t k = 0; k < per; k++)
		if (before[(i - first) * per + k] & 1)
			return true;
	return false;
}

/*
 * Gives back the pages of [first, first + n) that were not there before
 * this call, in runs. "There" means populated by an earlier call (the
 * bitmap, which a failed call has not changed yet) or mapped in this
 * process (before[]: one mincore byte per base page, NULL for a new
 * file). mincore alone would not do: on 6.x it reports only mapped pages,
 * not what fallocate put in the file, and SEEK_DATA skips fallocated shmem
 * pages. Pages another process wrote through its own mapping of the fd
 * and never mapped here look empty and are released.
 */
static int undo(struct rampool_block *blk, uint64_t first, uint64_t n,
		const unsigned char *before)
{
	const uint64_t *pop = blk->populated, end = first + n;
	int ret = 0;

	/* each run of pages no earlier populate made ours */
	for (uint64_t i = bitmap_next_clear(pop, first, end), j; i < end;
	     i = bitmap_next_clear(pop, j, end)) {
		j = bitmap_next_set(pop, i, end);
		if (!before) {
			release(blk, i, j, &ret);
			continue;
		}
		/* of those, keep what was mapped (written) here */
		for (uint64_t k = i, run = i; k <= j; k++) {
			if (k < j && !was_mapped(blk, first, k, before))
				continue;
			release(blk, run, k, &ret);
			run = k + 1;
		}
	}
	return ret;
}

/*
 * Where the pages of [off, off + len) landed (prealloc_sample_placement:
 * pages under 2 MiB are sampled, DESIGN 5b): off a BIND mask is -EXDEV,
 * off a preferred node is only logged.
 */
static int check_placement(struct rampool_block *blk, uint64_t off,
			   uint64_t len)
{
	uint64_t absent = 0, off_node = 0, seen = 0;
	int ret;

	if (blk->mpol_mode < 0)
		return 0;
	ret = prealloc_sample_placement((char *)blk->b.addr + off, len,
					blk->page_size, blk->nodemask,
					PREALLOC_MAX_NODES, pops(blk),
					&blk->pool->log, &absent, &off_node,
					&seen);
	if (ret)
		return ret;
	if (absent)
		rp_warn(&blk->pool->log,
			"block: %llu of %llu pages asked are not present after "
			"populating", (unsigned long long)absent,
			(unsigned long long)seen);
	if (!off_node)
		return 0;
	if (blk->mpol_mode == MPOL_BIND) {
		rp_err(&blk->pool->log,
		       "block: %llu of %llu pages asked are off the bound "
		       "node(s)", (unsigned long long)off_node,
		       (unsigned long long)seen);
		return -EXDEV;
	}
	rp_info(&blk->pool->log, "block: %llu of %llu pages asked are off the "
		"preferred node(s)", (unsigned long long)off_node,
		(unsigned long long)seen);
	return 0;
}

/*
 * What of [addr, addr + len) is mapped here: one mincore byte a base page.
 * Of a hugepage only its first base page is asked (the others' bytes stay
 * 0; was_mapped reads any of them): one mincore of the whole range would
 * make the kernel look up every base page of what is not mapped here yet
 * in the page cache, about 100 ms for 8 GiB (bench/README.md, warm).
 */
static int mapped_before(struct rampool_block *blk, void *addr, uint64_t len,
			 unsigned char **out)
{
	uint64_t base = block_base_page(), step = len;
	unsigned char *v = calloc(len / base, 1);
	int ret;

	if (!v)
		return -ENOMEM;
	if (blk->b.hugetlb && blk->page_size > base)
		step = blk->page_size;
	for (uint64_t off = 0; off < len; off += step) {
		if (!pops(blk)->mincore((char *)addr + off,
					step == len ? len : base,
					v + off / base))
			continue;
		ret = -errno;
		rp_err(&blk->pool->log, "block: mincore: %s", strerror(-ret));
		free(v);
		return ret;
	}
	*out = v;
	return 0;
}

static int populate(struct rampool_block *blk, uint64_t off, uint64_t len,
		    bool fresh)
{
	struct prealloc_req req = {
		.addr = (char *)blk->b.addr + off,
		.len = len,
		.page_size = blk->page_size,
		.fd = blk->b.fd,
		.fd_offset = off,
		.hugetlb = blk->b.hugetlb,
		.file_backed = true,
		.method = blk->flags & RAMPOOL_BLOCK_FORCE_TOUCH ?
				  PREALLOC_TOUCH : PREALLOC_AUTO,
		.page_tables = blk->flags & RAMPOOL_BLOCK_PAGE_TABLES,
		.threads = blk->threads,
		.cpus = blk->cpus,
		.cpus_size = blk->cpus_size,
		.mpol_mode = blk->mpol_mode,
		.nodemask = blk->nodemask,
		.maxnode = PREALLOC_MAX_NODES,
		.progress = blk->progress,
		.progress_data = blk->progress_data,
		.cancel = blk->cancelp,
	};
	uint64_t first = off / blk->page_size, n = len / blk->page_size;
	unsigned char *before = NULL;
	int ret;

	/*
	 * MAP_NORESERVE: no reservation stands behind the mapping, so fill it
	 * through the mapping (MADV_POPULATE_WRITE reports EFAULT where a
	 * touch would SIGBUS) rather than fallocate the file.
	 */
	if (blk->flags & RAMPOOL_BLOCK_NORESERVE && blk->b.hugetlb &&
	    req.method == PREALLOC_AUTO)
		req.method = PREALLOC_POPULATE;
	if (!fresh) {
		ret = mapped_before(blk, req.addr, len, &before);
		if (ret)
			return ret;
	}
	ret = prealloc_run(&req, pops(blk), &blk->pool->log, NULL);
	if (!ret)
		ret = check_placement(blk, off, len);
	if (!ret)
		mark(blk, first, n, true);
	if (ret) {
		int r = undo(blk, first, n, before);

		if (r)
			rp_err(&blk->pool->log,
			       "block: could not release what the failed "
			       "populate took: %s", strerror(-r));
	}
	free(before);
	/* a pool-wide flag belongs to the pool: it is never cleared here */
	atomic_store(&blk->cancel, false);
	return ret;
}

/* ---- creation, in phases ----------------------------------------------- */

/*
 * rampool_block_new runs these phases in order; each undoes only its own
 * work when it fails, and what a later phase fails leaves the earlier ones'
 * work for block_destroy (which takes a block in any of these states):
 *
 *   1. block_check    options against the topology; fills the block's
 *                     fields. Nothing outside this process exists yet.
 *   2. block_plan     the directory (found, opened and checked) and the
 *                     page bitmap. Still nothing in the kernel but an open
 *                     directory: a ledger row goes "pending" after it.
 *   3. block_create   the backing file, its mapping, bound to the nodes.
 *                     Undo: backing_destroy (block_destroy).
 *   4. block_fill     RAMPOOL_BLOCK_PREALLOC: the first size bytes
 *                     populated and placement checked. Undo: populate()
 *                     releases what it took before returning.
 *   5. block_commit   hands the block out: nothing can fail after it (the
 *                     ledger row becomes "ready" just before).
 *
 * block_attach (block.h) runs 1 and 3 over an existing file.
 */

static struct rampool_block *block_alloc(struct rampool_pool *pool)
{
	struct rampool_block *blk = calloc(1, sizeof(*blk));

	if (!blk)
		return NULL;
	blk->pool = pool;
	blk->b.fd = -1;
	blk->node = RAMPOOL_NODE_ANY;
	blk->mpol_mode = -1;
	blk->cancelp = &blk->cancel;
	return blk;
}

static int alloc_bitmap(struct rampool_block *blk)
{
	blk->npages = blk->max_size / blk->page_size;
	blk->populated = bitmap_alloc(blk->npages);
	return blk->populated ? 0 : -ENOMEM;
}

static void block_destroy(struct rampool_block *blk)
{
	block_postcopy_free(blk);
	if (blk->b.fd >= 0 || blk->b.addr)
		backing_destroy(&blk->b, bops(blk));
	/* a hugetlb populate with no page: -ENOMEM, not a VMM's SIGBUS */
	block_ledger_drop_count(blk->ledger, blk->ledger_id,
				blk->no_page ? COUNT_SIGBUS_AVOIDED : NULL,
				blk->node, blk->page_size);
	CPU_FREE(blk->cpus);
	free(blk->populated);
	free(blk->owed);
	free(blk);
}

static int read_topology(struct rampool_pool *pool, struct topo **t)
{
	/* blocks are made on the running kernel, never on a recorded tree */
	if (strcmp(pool->sysroot, "/")) {
		rp_err(&pool->log, "block: the pool reads %s, not the running "
		       "kernel", pool->sysroot);
		return -EOPNOTSUPP;
	}
	return topo_snapshot("/", &pool->log, t);
}

/* Phase 1. */
static int block_check(struct rampool_block *blk,
		       const struct rampool_block_opts *o, const struct topo *t)
{
	return block_check_opts(blk, o, t);
}

/*
 * Phase 2: o->dir is filled in (dir[] holds a found mount), opened and
 * checked (*dirfd, -1 for the memfd backings; the file is made relative
 * to it); the bitmap is made. Undo: close *dirfd.
 */
static int block_plan(struct rampool_block *blk, struct rampool_block_opts *o,
		      const struct topo *t, char *dir, size_t dir_size,
		      int *dirfd)
{
	struct rampool_pool *pool = blk->pool;
	int ret;

	*dirfd = -1;
	if (o->backing == RAMPOOL_BACKING_HUGETLBFS && !o->dir) {
		ret = hugetlbfs_find_mount(t, blk->page_size, dir, dir_size);
		if (ret) {
			rp_err(&pool->log, "block: no hugetlbfs mount for "
			       "%llu-byte pages%s; mount one or pass dir",
			       (unsigned long long)blk->page_size,
			       ret == -ENAMETOOLONG ? " whose path fits" : "");
			return ret;
		}
		o->dir = dir;
	} else if (o->backing == RAMPOOL_BACKING_TMPFS && !o->dir) {
		o->dir = "/dev/shm";
	}
	ret = alloc_bitmap(blk);
	if (ret)
		return ret;
	if (o->backing == RAMPOOL_BACKING_HUGETLBFS ||
	    o->backing == RAMPOOL_BACKING_TMPFS) {
		ret = backing_open_dir((enum backing_kind)o->backing, o->dir,
				       blk->page_size, bops(blk), &pool->log);
		if (ret < 0)
			return ret;
		*dirfd = ret;
	}
	return 0;
}

/* Phase 3. */
static int block_create(struct rampool_block *blk,
			const struct rampool_block_opts *o, int dirfd)
{
	struct backing_spec spec = {
		.kind = (enum backing_kind)o->backing,
		.len = blk->max_size,
		.page_size = blk->page_size,
		.dirfd = dirfd,
		.dir = o->dir,
		.name = o->name ? o->name : "rampool",
		.seal = !(o->flags & RAMPOOL_BLOCK_NO_SEAL),
		.noreserve = o->flags & RAMPOOL_BLOCK_NORESERVE,
		.mpol_mode = blk->mpol_mode,
		.nodemask = blk->nodemask,
		/* the kernel reads maxnode - 1 bits */
		.maxnode = PREALLOC_MAX_NODES + 1,
	};

	return backing_create(&spec, bops(blk), &blk->pool->log, &blk->b);
}

/* Phase 4. */
static int block_fill(struct rampool_block *blk)
{
	if (!(blk->flags & RAMPOOL_BLOCK_PREALLOC))
		return 0;
	return populate(blk, 0, blk->size, true);
}

/* Phase 5. */
static void block_commit(struct rampool_block *blk, struct rampool_block **out)
{
	*out = blk;
}

int rampool_block_new(struct rampool_pool *pool,
		      const struct rampool_block_opts *opts,
		      struct rampool_block **out)
{
	struct rampool_block_opts o;
	struct rampool_block *blk;
	struct topo *t = NULL;
	char dir[4096];
	int dirfd = -1, ret;

	if (!pool || !opts || !out)
		return -EINVAL;
	ret = block_read_opts(opts, &o);
	if (ret)
		return ret;
	blk = block_alloc(pool);
	if (!blk)
		return -ENOMEM;
	ret = read_topology(pool, &t);
	if (!ret)
		ret = block_check(blk, &o, t);
	if (!ret)
		ret = block_plan(blk, &o, t, dir, sizeof(dir), &dirfd);
	topo_free(t);
	if (!ret)
		ret = block_ledger_pending(pool, &(struct block_ledger_spec){
			.hugetlb = o.backing == RAMPOOL_BACKING_MEMFD_HUGETLB ||
				   o.backing == RAMPOOL_BACKING_HUGETLBFS,
			.page_size = blk->page_size,
			.max_size = blk->max_size,
			.node = blk->node,
		}, &blk->ledger, &blk->ledger_id);
	if (!ret)
		ret = block_create(blk, &o, dirfd);
	if (dirfd >= 0)
		bops(blk)->close(dirfd);
	if (!ret) {
		ret = block_fill(blk);
		blk->no_page = ret == -ENOMEM && blk->b.hugetlb;
	}
	if (!ret)
		ret = block_ledger_ready(blk->ledger, blk->ledger_id, blk->node,
					 rampool_block_populated(blk));
	if (ret) {
		block_destroy(blk);
		return ret;
	}
	block_commit(blk, out);
	return 0;
}

/* ---- attach ------------------------------------------------------------- */

/* Phases 1 and 3 over the caller's file (see block.h). */
int block_attach(struct rampool_pool *pool, const struct block_attach_spec *s,
		 struct rampool_block **out)
{
	struct rampool_block *blk;
	struct backing_spec spec;
	struct topo *t = NULL;
	int ret;

	if (!pool || !s || !out)
		return -EINVAL;
	blk = block_alloc(pool);
	if (!blk)
		return -ENOMEM;
	ret = block_check_attach(blk, s);
	if (!ret && s->nr_nodes) {
		ret = read_topology(pool, &t);
		if (!ret)
			ret = block_set_nodes(blk, t, s->nodes, s->nr_nodes,
					s->policy);
		topo_free(t);
	}
	if (!ret)
		ret = alloc_bitmap(blk);
	if (ret)
		goto out_free;
	spec = (struct backing_spec){
		.kind = s->hugetlb ? BACKING_HUGETLBFS : BACKING_TMPFS,
		.len = blk->max_size,
		.page_size = blk->page_size,
		.mpol_mode = blk->mpol_mode,
		.nodemask = blk->nodemask,
		.maxnode = PREALLOC_MAX_NODES + 1,
	};
	ret = backing_attach(&spec, s->fd, bops(blk), &pool->log, &blk->b);
	if (ret)
		goto out_free;
	block_commit(blk, out);
	return 0;
out_free:
	block_destroy(blk);
	return ret;
}

void block_mark_populated(struct rampool_block *blk, uint64_t off,
			  uint64_t len)
{
	uint64_t first, end;

	if (!blk || !len || off >= blk->max_size)
		return;
	if (len > blk->max_size - off)
		len = blk->max_size - off;
	first = off / blk->page_size;
	end = (off + len + blk->page_size - 1) / blk->page_size;
	mark(blk, first, end - first, true);
}

int rampool_block_populate(struct rampool_block *blk, uint64_t offset,
			   uint64_t len)
{
	if (!blk)
		return -EINVAL;
	if (!len || offset % blk->page_size || len % blk->page_size ||
	    offset > blk->max_size || len > blk->max_size - offset) {
		rp_err(&blk->pool->log, "block: populate range %llu+%llu is "
		       "not page aligned inside the block's %llu bytes",
		       (unsigned long long)offset, (unsigned long long)len,
		       (unsigned long long)blk->max_size);
		return -EINVAL;
	}
	return populate(blk, offset, len, false);
}

void rampool_block_cancel(struct rampool_block *blk)
{
	if (blk)
		atomic_store(blk->cancelp, true);
}

void rampool_block_free(struct rampool_block *blk)
{
	if (blk)
		block_destroy(blk);
}

int rampool_block_fd(const struct rampool_block *blk)
{
	return blk->b.fd;
}

void *rampool_block_addr(const struct rampool_block *blk)
{
	return blk->b.addr;
}

uint64_t rampool_block_size(const struct rampool_block *blk)
{
	return blk->size;
}

uint64_t rampool_block_max_size(const struct rampool_block *blk)
{
	return blk->max_size;
}

uint64_t rampool_block_page_size(const struct rampool_block *blk)
{
	return blk->page_size;
}

int rampool_block_node(const struct rampool_block *blk)
{
	return blk->node;
}

/* Postcopy placements mark pages under the postcopy lock: read under it. */
uint64_t rampool_block_populated(const struct rampool_block *blk)
{
	uint64_t n;

	if (blk->pc)
		pthread_mutex_lock(&blk->pc->lock);
	n = bitmap_count(blk->populated, 0, blk->npages);
	if (blk->pc)
		pthread_mutex_unlock(&blk->pc->lock);
	return n * blk->page_size;
}
