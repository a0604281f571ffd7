// SPDX-License-Identifier: LGPL-2.1-or-later
/* block.c: RAM blocks: validated options, a bound backing, population and its undo. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <numaif.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../backend/backing.h"
#include "../backend/mounts.h"
#include "../backend/parse.h"
#include "../backend/prealloc.h"
#include "../backend/topology.h"
#include "block.h"
#include "pool.h"

#define LONG_BITS (8 * (int)sizeof(unsigned long))
#define MASK_LONGS (PREALLOC_MAX_NODES / LONG_BITS)
#define MAX_THREADS 256

struct rampool_block {
	struct rampool_pool *pool;
	struct backing b;
	uint64_t size, max_size, page_size;
	int node;			/* single node, or RAMPOOL_NODE_ANY */
	int mpol_mode;			/* MPOL_*, or -1 when unbound */
	unsigned long nodemask[MASK_LONGS];
	cpu_set_t *cpus;		/* CPUs of the node(s), NULL: any */
	size_t cpus_size;
	unsigned int flags, threads;
	rampool_progress_fn progress;
	void *progress_data;
	uint64_t *populated;		/* one bit per page of max_size */
	uint64_t npages;
	atomic_bool cancel;
	atomic_bool *cancelp;		/* &cancel, or a pool-wide flag */
};

/* The base page: 4 KiB on x86, 4/16/64 KiB on arm64. */
static uint64_t base_page(void)
{
	return (uint64_t)sysconf(_SC_PAGESIZE);
}

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

/* ---- options ------------------------------------------------------------ */

__attribute__((format(printf, 2, 3)))
static int bad(struct rampool_pool *pool, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rp_err(&pool->log, "block: %s", msg);
	return -EINVAL;
}

static bool is_hugetlb(enum rampool_backing k)
{
	return k == RAMPOOL_BACKING_MEMFD_HUGETLB ||
	       k == RAMPOOL_BACKING_HUGETLBFS;
}

/* Adds a node's CPUs to the block's set and its bit to the mask. */
static int add_node(struct rampool_block *blk, const struct topo *t, int id)
{
	const struct topo_node *n = topo_node_by_id(t, id);
	uint64_t bits[TOPO_MAX_CPUS / 64];
	int ret;

	if (id < 0 || id >= PREALLOC_MAX_NODES || !n)
		return bad(blk->pool, "node %d does not exist or is offline", id);
	if (!(n->flags & RAMPOOL_NODE_F_HAS_MEMORY) || !n->mem_total)
		return bad(blk->pool, "node %d has no memory", id);
	if (blk->nodemask[id / LONG_BITS] & 1UL << (id % LONG_BITS))
		return bad(blk->pool, "node %d is listed twice", id);
	blk->nodemask[id / LONG_BITS] |= 1UL << (id % LONG_BITS);
	/* a CPU-less node (memory only) leaves the threads unpinned */
	if (!n->nr_cpus)
		return 0;
	ret = topo_node_cpus(n, bits, TOPO_MAX_CPUS);
	if (ret)
		return ret;	/* -ENOMEM: the list was checked by topo_read */
	if (!blk->cpus) {
		blk->cpus = CPU_ALLOC(TOPO_MAX_CPUS);
		if (!blk->cpus)
			return -ENOMEM;
		blk->cpus_size = CPU_ALLOC_SIZE(TOPO_MAX_CPUS);
		CPU_ZERO_S(blk->cpus_size, blk->cpus);
	}
	for (unsigned int c = 0; c < TOPO_MAX_CPUS; c++)
		if (bit_test(bits, c))
			CPU_SET_S(c, blk->cpus_size, blk->cpus);
	return 0;
}

static int check_sizes(struct rampool_pool *pool,
		       const struct rampool_block_opts *o, const struct topo *t,
		       uint64_t *page_size, uint64_t *max_size)
{
	uint64_t ps = o->page_size, max = o->max_size ? o->max_size : o->size;

	if (o->backing < RAMPOOL_BACKING_MEMFD ||
	    o->backing > RAMPOOL_BACKING_TMPFS)
		return bad(pool, "unknown backing %d", (int)o->backing);
	if (is_hugetlb(o->backing)) {
		if (!ps)
			ps = t->default_page_size;
		if (topo_size_index(t, ps) < 0)
			return bad(pool, "the kernel has no hugepages of %llu bytes",
				   (unsigned long long)ps);
	} else {
		if (!ps)
			ps = base_page();
		if (ps != base_page())
			return bad(pool, "page size %llu for a shmem backing "
				   "(only the base page size)",
				   (unsigned long long)ps);
	}
	if (!o->size)
		return bad(pool, "size 0");
	if (o->size % ps)
		return bad(pool, "size %llu is not a multiple of the page size",
			   (unsigned long long)o->size);
	if (max < o->size)
		return bad(pool, "max_size %llu is below size",
			   (unsigned long long)max);
	if (max % ps)
		return bad(pool, "max_size %llu is not a multiple of the page size",
			   (unsigned long long)max);
	/* mmap and off_t take no more; keep far from wrapping */
	if (max > (UINT64_MAX >> 2) || max > (uint64_t)SIZE_MAX / 2)
		return bad(pool, "max_size %llu is too large",
			   (unsigned long long)max);
	*page_size = ps;
	*max_size = max;
	return 0;
}

/* Binds the block to nodes[] with policy: the mask, the mode, the CPUs. */
static int set_nodes(struct rampool_block *blk, const struct topo *t,
		     const int *nodes, unsigned int nr_nodes,
		     enum rampool_policy policy)
{
	static const int modes[] = {
		[RAMPOOL_POLICY_BIND] = MPOL_BIND,
		[RAMPOOL_POLICY_PREFERRED] = MPOL_PREFERRED,
		[RAMPOOL_POLICY_INTERLEAVE] = MPOL_INTERLEAVE,
	};
	int ret;

	if (policy > RAMPOOL_POLICY_INTERLEAVE)
		return bad(blk->pool, "unknown policy %d", (int)policy);
	if (nr_nodes > PREALLOC_MAX_NODES || (nr_nodes && !nodes))
		return bad(blk->pool, "node list of %u entries at %p", nr_nodes,
			   (const void *)nodes);
	blk->node = nr_nodes == 1 ? nodes[0] : RAMPOOL_NODE_ANY;
	blk->mpol_mode = -1;
	for (unsigned int i = 0; i < nr_nodes; i++) {
		ret = add_node(blk, t, nodes[i]);
		if (ret)
			return ret;
	}
	if (!nr_nodes)
		return 0;
	blk->mpol_mode = modes[policy];
	if (policy == RAMPOOL_POLICY_PREFERRED && nr_nodes > 1)
		return bad(blk->pool, "PREFERRED takes one node, not %u",
			   nr_nodes);
	return 0;
}

static int check_opts(struct rampool_block *blk,
		      const struct rampool_block_opts *o, const struct topo *t)
{
	struct rampool_pool *pool = blk->pool;
	int ret;

	ret = check_sizes(pool, o, t, &blk->page_size, &blk->max_size);
	if (ret)
		return ret;
	blk->size = o->size;
	if (o->threads > MAX_THREADS)
		return bad(pool, "threads %u (at most 256)", o->threads);
	if (o->flags & ~(RAMPOOL_BLOCK_PREALLOC | RAMPOOL_BLOCK_NO_SEAL |
			 RAMPOOL_BLOCK_FORCE_TOUCH | RAMPOOL_BLOCK_NORESERVE |
			 RAMPOOL_BLOCK_PAGE_TABLES))
		return bad(pool, "unknown flags 0x%x", o->flags);
	if ((o->backing == RAMPOOL_BACKING_HUGETLBFS ||
	     o->backing == RAMPOOL_BACKING_TMPFS) && o->dir &&
	    o->dir[0] != '/')
		return bad(pool, "dir '%s' is not an absolute path", o->dir);
	ret = set_nodes(blk, t, o->nodes, o->nr_nodes, o->policy);
	if (ret)
		return ret;
	blk->flags = o->flags;
	blk->threads = o->threads;
	blk->progress = o->progress;
	blk->progress_data = o->progress_data;
	return 0;
}

/* ---- population --------------------------------------------------------- */

static bool page_set(const struct rampool_block *blk, uint64_t i)
{
	return blk->populated[i / 64] >> (i % 64) & 1;
}

static void mark(struct rampool_block *blk, uint64_t first, uint64_t n,
		 bool on)
{
	for (uint64_t i = first; i < first + n; i++) {
		if (on)
			blk->populated[i / 64] |= 1ULL << (i % 64);
		else
			blk->populated[i / 64] &= ~(1ULL << (i % 64));
	}
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
	uint64_t per = blk->page_size / base_page(), run = 0;
	int ret = 0;

	for (uint64_t i = first; i <= first + n; i++) {
		bool keep = i == first + n;

		/* ours from an earlier populate, or mapped here (written) */
		if (!keep)
			keep = page_set(blk, i);
		if (!keep && before) {
			for (uint64_t k = 0; k < per && !keep; k++)
				keep = before[(i - first) * per + k] & 1;
		}
		if (!keep) {
			run++;
			continue;
		}
		if (run) {
			int r = backing_release(&blk->b,
						(i - run) * blk->page_size,
						run * blk->page_size, bops(blk),
						&blk->pool->log);

			if (r && !ret)
				ret = r;
			/* -ENOMEM: freed, but the reservation is not back */
			if (!r || r == -ENOMEM)
				mark(blk, i - run, run, false);
		}
		run = 0;
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
		before = malloc(len / base_page());
		if (!before)
			return -ENOMEM;
		if (pops(blk)->mincore(req.addr, len, before)) {
			ret = -errno;
			free(before);
			return ret;
		}
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
	blk->populated = calloc((size_t)(blk->npages + 63) / 64, 8);
	return blk->populated ? 0 : -ENOMEM;
}

static void block_destroy(struct rampool_block *blk)
{
	if (blk->b.fd >= 0 || blk->b.addr)
		backing_destroy(&blk->b, bops(blk));
	CPU_FREE(blk->cpus);
	free(blk->populated);
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
	return check_opts(blk, o, t);
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

/* The caller's options, only as far as its sz reaches (pool/opts.h). */
static int read_opts(const struct rampool_block_opts *opts,
		     struct rampool_block_opts *o)
{
	int ret = OPTS_VALID(opts, struct rampool_block_opts, progress_data);

	if (ret)
		return ret;
	*o = (struct rampool_block_opts){
		.sz = sizeof(*o),
		.size = OPTS_GET(opts, size, 0),
		.max_size = OPTS_GET(opts, max_size, 0),
		.page_size = OPTS_GET(opts, page_size, 0),
		.backing = OPTS_GET(opts, backing, 0),
		.nodes = OPTS_GET(opts, nodes, NULL),
		.nr_nodes = OPTS_GET(opts, nr_nodes, 0),
		.policy = OPTS_GET(opts, policy, 0),
		.flags = OPTS_GET(opts, flags, 0),
		.threads = OPTS_GET(opts, threads, 0),
		.dir = OPTS_GET(opts, dir, NULL),
		.name = OPTS_GET(opts, name, NULL),
		.progress = OPTS_GET(opts, progress, NULL),
		.progress_data = OPTS_GET(opts, progress_data, NULL),
	};
	if (!o->backing)
		o->backing = RAMPOOL_BACKING_MEMFD;
	return 0;
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
	ret = read_opts(opts, &o);
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
		ret = block_create(blk, &o, dirfd);
	if (dirfd >= 0)
		bops(blk)->close(dirfd);
	if (!ret)
		ret = block_fill(blk);
	if (ret) {
		block_destroy(blk);
		return ret;
	}
	block_commit(blk, out);
	return 0;
}

/* ---- attach ------------------------------------------------------------- */

static int check_attach(struct rampool_block *blk,
			const struct block_attach_spec *s)
{
	struct rampool_pool *pool = blk->pool;
	uint64_t ps = s->page_size;

	if (s->fd < 0)
		return bad(pool, "attach: fd %d", s->fd);
	if (!ps || ps & (ps - 1) || (!s->hugetlb && ps != base_page()))
		return bad(pool, "attach: page size %llu",
			   (unsigned long long)ps);
	if (!s->size || s->size % ps || s->max_size < s->size ||
	    s->max_size % ps || s->max_size > (UINT64_MAX >> 2) ||
	    s->max_size > (uint64_t)SIZE_MAX / 2)
		return bad(pool, "attach: size %llu, max_size %llu with "
			   "%llu-byte pages", (unsigned long long)s->size,
			   (unsigned long long)s->max_size,
			   (unsigned long long)ps);
	if (s->threads > MAX_THREADS)
		return bad(pool, "threads %u (at most 256)", s->threads);
	blk->size = s->size;
	blk->max_size = s->max_size;
	blk->page_size = ps;
	blk->threads = s->threads;
	blk->progress = s->progress;
	blk->progress_data = s->progress_data;
	if (s->cancel)
		blk->cancelp = s->cancel;
	return 0;
}

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
	ret = check_attach(blk, s);
	if (!ret && s->nr_nodes) {
		ret = read_topology(pool, &t);
		if (!ret)
			ret = set_nodes(blk, t, s->nodes, s->nr_nodes,
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

uint64_t rampool_block_populated(const struct rampool_block *blk)
{
	uint64_t n = 0;

	for (uint64_t i = 0; i < blk->npages; i++)
		n += page_set(blk, i);
	return n * blk->page_size;
}
