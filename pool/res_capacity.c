// SPDX-License-Identifier: LGPL-2.1-or-later
/* res_capacity.c: what can be granted per node and page size: kernel counters less the ledger's promises. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include "../backend/resmount.h"
#include "../backend/topology.h"
#include "res.h"

const struct resmount_ops *res_mops(const struct rampool_pool *pool)
{
	return pool->resmount_ops ? pool->resmount_ops : &resmount_default_ops;
}

int res_counters(struct rampool_pool *pool, struct topo **t)
{
	if (strcmp(pool->sysroot, "/")) {
		rp_err(&pool->log, "reservations are made on the running "
		       "kernel, not on %s", pool->sysroot);
		return -EOPNOTSUPP;
	}
	return topo_snapshot_flags("/", &pool->log, TOPO_NO_MOUNTS, t);
}

struct sums {
	uint64_t page_size;
	int backing, node;
	uint64_t owed_node, owed_any, owed_all;
};

/* shmem: the ledger's promises not yet populated (owed) */
static int add_sum(void *ctx, uint64_t ps, int node, int backing,
		   uint64_t promised, uint64_t populated)
{
	struct sums *s = ctx;
	uint64_t owed = promised > populated ? promised - populated : 0;

	if (ps != s->page_size || backing != s->backing)
		return 0;
	s->owed_all += owed;
	if (node == s->node)
		s->owed_node += owed;
	else if (node == RAMPOOL_NODE_ANY)
		s->owed_any += owed;
	return 0;
}

static uint64_t sub(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static int hugetlb_grantable(const struct topo *t, uint64_t ps, int node,
			     uint64_t *out)
{
	int i = topo_size_index(t, ps);
	const struct topo_node *n;
	uint64_t avail, resv;

	if (i < 0)
		return -EINVAL;
	resv = t->global[i].resv;
	/* the kernel's own figure: free pages nobody has reserved */
	avail = sub(t->global[i].free, resv);
	if (node != RAMPOOL_NODE_ANY) {
		n = topo_node_by_id(t, node);
		if (!n)
			return -EINVAL;
		/*
		 * Reservations are global (fact 5): each outstanding one may
		 * be faulted on this node. Never more than the node can give.
		 */
		avail = min64(avail, sub(n->hp[i].free, resv));
	}
	*out = avail * ps;
	return 0;
}

/*
 * Shmem pages the ledger counts as populated in reservation files that the
 * files no longer hold: a VMM punched them through the path (QEMU's
 * postcopy discard) and the library never heard of it. Those bytes are
 * owed, and MemAvailable already has them back. Measured at once for all
 * reservations: they share the pool's one tmpfs, whose used blocks are the
 * pages in its files.
 */
static uint64_t shm_discarded(struct ledger *l)
{
	char path[4096];
	uint64_t pop = 0, used;
	struct statfs sf;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", l->pool->state_dir,
			     RES_SHM_DIR) >= sizeof(path) ||
	    statfs(path, &sf) || sf.f_type != TMPFS_MAGIC ||
	    ledger_res_populated(l, RAMPOOL_RES_SHMEM, &pop))
		return 0;
	used = (uint64_t)(sf.f_blocks - sf.f_bfree) * (uint64_t)sf.f_bsize;
	return sub(pop, used);
}

int res_grantable(struct ledger *l, const struct topo *t, uint64_t page_size,
		  int backing, int node, uint64_t *out)
{
	struct sums s = { .page_size = page_size, .backing = backing,
			  .node = node };
	const struct topo_node *n;
	uint64_t avail;
	int ret;

	if (backing == RAMPOOL_RES_HUGETLB)
		return hugetlb_grantable(t, page_size, node, out);
	ret = l ? ledger_totals(l, add_sum, &s) : 0;
	if (ret)
		return ret;
	if (l && backing == RAMPOOL_RES_SHMEM) {
		/* on no node known: owed against every node (never over) */
		uint64_t gone = shm_discarded(l);

		s.owed_all += gone;
		s.owed_any += gone;
	}
	avail = sub(t->mem_available, s.owed_all);
	if (node != RAMPOOL_NODE_ANY) {
		n = topo_node_by_id(t, node);
		if (!n)
			return -EINVAL;
		avail = min64(avail, sub(n->mem_available,
					 s.owed_node + s.owed_any));
	}
	*out = avail;
	return 0;
}

void res_shortfall_clear(struct rampool_pool *pool)
{
	free(pool->shortfall);
	pool->shortfall = NULL;
	pool->nr_shortfall = 0;
}

int res_shortfall_add(struct rampool_pool *pool, int node,
		      uint64_t page_size, uint64_t need, uint64_t grantable)
{
	struct rampool_shortfall *s;

	s = realloc(pool->shortfall, (pool->nr_shortfall + 1) * sizeof(*s));
	if (!s)
		return -ENOMEM;
	pool->shortfall = s;
	s += pool->nr_shortfall++;
	*s = (struct rampool_shortfall){
		.sz = sizeof(*s),
		.node = node,
		.page_size = page_size,
		.need = need,
		.grantable = grantable,
		.short_by = sub(need, grantable),
	};
	return 0;
}

static int node_ok(struct rampool_pool *pool, const struct topo *t, int node)
{
	const struct topo_node *n;

	if (node == RAMPOOL_NODE_ANY)
		return 0;
	n = topo_node_by_id(t, node);
	if (!n) {
		rp_err(&pool->log, "node %d does not exist or is offline",
		       node);
		return -EINVAL;
	}
	if (!(n->flags & RAMPOOL_NODE_F_HAS_MEMORY) || !n->mem_total) {
		rp_err(&pool->log, "node %d has no memory", node);
		return -EINVAL;
	}
	return 0;
}

int res_check(struct rampool_pool *pool, struct ledger *l,
	      const struct topo *t, uint64_t page_size, int backing,
	      const struct res_need *needs, unsigned int n)
{
	uint64_t total = 0, g;
	bool fits = true;
	int ret;

	res_shortfall_clear(pool);
	for (unsigned int i = 0; i < n; i++) {
		ret = node_ok(pool, t, needs[i].node);
		if (ret)
			return ret;
		ret = res_grantable(l, t, page_size, backing, needs[i].node,
				    &g);
		if (ret)
			return ret;
		total += needs[i].bytes;
		if (needs[i].bytes > g || n == 1) {
			ret = res_shortfall_add(pool, needs[i].node, page_size,
						needs[i].bytes, g);
			if (ret)
				return ret;
		}
		if (needs[i].bytes > g)
			fits = false;
	}
	if (n > 1) {
		/* every node fits alone; together they share the host's */
		ret = res_grantable(l, t, page_size, backing,
				    RAMPOOL_NODE_ANY, &g);
		if (ret)
			return ret;
		if (total > g) {
			fits = false;
			ret = res_shortfall_add(pool, RAMPOOL_NODE_ANY,
						page_size, total, g);
			if (ret)
				return ret;
		}
	}
	if (fits)
		res_shortfall_clear(pool);
	return fits ? 0 : -ENOSPC;
}

int rampool_pool_last_shortfall(const struct rampool_pool *pool,
				unsigned int idx,
				struct rampool_shortfall *info)
{
	if (!pool || !info)
		return -EINVAL;
	if (idx >= pool->nr_shortfall)
		return -ERANGE;
	return info_copy(info, info->sz, &pool->shortfall[idx],
			 sizeof(pool->shortfall[idx]),
			 sizeof(struct rampool_shortfall));
}

void rampool_pool_cancel(struct rampool_pool *pool)
{
	if (pool)
		atomic_store(&pool->cancel, true);
}
