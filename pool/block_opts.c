// SPDX-License-Identifier: LGPL-2.1-or-later
/* block_opts.c: a block's options and attach spec, read and checked against the topology before anything is made. */
#include <errno.h>
#include <numaif.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../backend/bitmap.h"
#include "../backend/prealloc.h"
#include "../backend/topology.h"
#include "block.h"
#include "pool.h"

__attribute__((format(printf, 2, 3)))
int block_bad(struct rampool_pool *pool, const char *fmt, ...)
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
	uint64_t bits[BITMAP_WORDS(TOPO_MAX_CPUS)];
	int ret;

	if (id < 0 || id >= PREALLOC_MAX_NODES || !n)
		return block_bad(blk->pool, "node %d does not exist or is offline", id);
	if (!(n->flags & RAMPOOL_NODE_F_HAS_MEMORY) || !n->mem_total)
		return block_bad(blk->pool, "node %d has no memory", id);
	if (bitmap_test(blk->nodes, (uint64_t)id))
		return block_bad(blk->pool, "node %d is listed twice", id);
	bitmap_set(blk->nodes, (uint64_t)id, 1);
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
	for (uint64_t c = bitmap_next_set(bits, 0, TOPO_MAX_CPUS);
	     c < TOPO_MAX_CPUS; c = bitmap_next_set(bits, c + 1, TOPO_MAX_CPUS))
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
		return block_bad(pool, "unknown backing %d", (int)o->backing);
	if (is_hugetlb(o->backing)) {
		if (!ps)
			ps = t->default_page_size;
		if (topo_size_index(t, ps) < 0)
			return block_bad(pool, "the kernel has no hugepages of %llu bytes",
				   (unsigned long long)ps);
	} else {
		if (!ps)
			ps = block_base_page();
		if (ps != block_base_page())
			return block_bad(pool, "page size %llu for a shmem backing "
				   "(only the base page size)",
				   (unsigned long long)ps);
	}
	if (!o->size)
		return block_bad(pool, "size 0");
	if (o->size % ps)
		return block_bad(pool, "size %llu is not a multiple of the page size",
			   (unsigned long long)o->size);
	if (max < o->size)
		return block_bad(pool, "max_size %llu is below size",
			   (unsigned long long)max);
	if (max % ps)
		return block_bad(pool, "max_size %llu is not a multiple of the page size",
			   (unsigned long long)max);
	/* mmap and off_t take no more; keep far from wrapping */
	if (max > (UINT64_MAX >> 2) || max > (uint64_t)SIZE_MAX / 2)
		return block_bad(pool, "max_size %llu is too large",
			   (unsigned long long)max);
	*page_size = ps;
	*max_size = max;
	return 0;
}

/* Binds the block to nodes[] with policy: the mask, the mode, the CPUs. */
int block_set_nodes(struct rampool_block *blk, const struct topo *t,
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
		return block_bad(blk->pool, "unknown policy %d", (int)policy);
	if (nr_nodes > PREALLOC_MAX_NODES || (nr_nodes && !nodes))
		return block_bad(blk->pool, "node list of %u entries at %p", nr_nodes,
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
	bitmap_to_ulongs(blk->nodes, PREALLOC_MAX_NODES, blk->nodemask);
	blk->mpol_mode = modes[policy];
	if (policy == RAMPOOL_POLICY_PREFERRED && nr_nodes > 1)
		return block_bad(blk->pool, "PREFERRED takes one node, not %u",
			   nr_nodes);
	return 0;
}

int block_check_opts(struct rampool_block *blk,
		      const struct rampool_block_opts *o, const struct topo *t)
{
	struct rampool_pool *pool = blk->pool;
	int ret;

	ret = check_sizes(pool, o, t, &blk->page_size, &blk->max_size);
	if (ret)
		return ret;
	blk->size = o->size;
	if (o->threads > MAX_THREADS)
		return block_bad(pool, "threads %u (at most 256)", o->threads);
	if (o->flags & ~(RAMPOOL_BLOCK_PREALLOC | RAMPOOL_BLOCK_NO_SEAL |
			 RAMPOOL_BLOCK_FORCE_TOUCH | RAMPOOL_BLOCK_NORESERVE |
			 RAMPOOL_BLOCK_PAGE_TABLES))
		return block_bad(pool, "unknown flags 0x%x", o->flags);
	if ((o->backing == RAMPOOL_BACKING_HUGETLBFS ||
	     o->backing == RAMPOOL_BACKING_TMPFS) && o->dir &&
	    o->dir[0] != '/')
		return block_bad(pool, "dir '%s' is not an absolute path", o->dir);
	ret = block_set_nodes(blk, t, o->nodes, o->nr_nodes, o->policy);
	if (ret)
		return ret;
	blk->flags = o->flags;
	blk->threads = o->threads;
	blk->progress = o->progress;
	blk->progress_data = o->progress_data;
	return 0;
}

/* The caller's options, only as far as its sz reaches (pool/opts.h). */
int block_read_opts(const struct rampool_block_opts *opts,
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

int block_check_attach(struct rampool_block *blk,
			const struct block_attach_spec *s)
{
	struct rampool_pool *pool = blk->pool;
	uint64_t ps = s->page_size;

	if (s->fd < 0)
		return block_bad(pool, "attach: fd %d", s->fd);
	if (!ps || ps & (ps - 1) || (!s->hugetlb && ps != block_base_page()))
		return block_bad(pool, "attach: page size %llu",
			   (unsigned long long)ps);
	if (!s->size || s->size % ps || s->max_size < s->size ||
	    s->max_size % ps || s->max_size > (UINT64_MAX >> 2) ||
	    s->max_size > (uint64_t)SIZE_MAX / 2)
		return block_bad(pool, "attach: size %llu, max_size %llu with "
			   "%llu-byte pages", (unsigned long long)s->size,
			   (unsigned long long)s->max_size,
			   (unsigned long long)ps);
	if (s->threads > MAX_THREADS)
		return block_bad(pool, "threads %u (at most 256)", s->threads);
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
