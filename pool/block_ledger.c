// SPDX-License-Identifier: LGPL-2.1-or-later
/* block_ledger.c: a VMM's own blocks in the ledger: checked and recorded with its pid, gone with it. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../backend/topology.h"
#include "block.h"
#include "counters.h"
#include "res.h"

static atomic_uint block_seq;

/*
 * Phase 2 of rampool_block_new: the block's capacity checked against the
 * ledger and the kernel, and a pending row with this process's pid. A
 * caller that may not write the ledger (or a pool on a recorded tree) gets
 * no row: its block is foreign to the pool, and rampool_audit reports its
 * pages. -ENOMEM: it does not fit (as the kernel would say at mmap).
 */
int block_ledger_pending(struct rampool_pool *pool,
			 const struct block_ledger_spec *s,
			 struct ledger **lp, int64_t *id)
{
	struct ledger_row *r;
	struct res_need need;
	struct ledger *l;
	struct topo *t = NULL;
	int ret;

	*id = 0;
	*lp = NULL;
	/* rows describe kernel objects: none on a recorded tree or mocks */
	if (strcmp(pool->sysroot, "/") || pool->backing_ops ||
	    pool->prealloc_ops)
		return 0;
	ret = res_open_write(pool, &l);
	if (ret == -EACCES || ret == -EPERM || ret == -EROFS) {
		rp_dbg(&pool->log, "block: not in the ledger (%s): the pool "
		       "counts it as foreign", strerror(-ret));
		return 0;
	}
	if (ret)
		return ret;
	r = calloc(1, sizeof(*r));
	if (!r) {
		ledger_close(l);
		return -ENOMEM;
	}
	snprintf(r->name, sizeof(r->name), "block:%d:%u", (int)getpid(),
		 atomic_fetch_add(&block_seq, 1));
	r->kind = LEDGER_BLOCK;
	r->backing = s->hugetlb ? RAMPOOL_RES_HUGETLB : RAMPOOL_RES_SHMEM;
	r->page_size = s->page_size;
	r->size = s->max_size;
	r->state = RAMPOOL_RES_STATE_PENDING;
	r->uid = getuid();
	r->pid = getpid();
	r->pid_start = ledger_proc_start(r->pid);
	r->created = (int64_t)time(NULL);
	r->nr_nodes = 1;
	r->nodes[0].node = s->node;
	r->nodes[0].size = s->max_size;
	need.node = s->node;
	need.bytes = s->max_size;
	ret = ledger_begin(l);
	if (!ret)
		ret = res_counters(pool, &t);
	if (!ret)
		ret = res_check(pool, l, t, r->page_size, r->backing, &need, 1);
	if (!ret)
		ret = ledger_insert(l, r);
	if (!ret)
		ret = ledger_commit(l);
	else
		ledger_rollback(l);
	if (!ret) {
		*id = r->id;
		/*
		 * The struct is kept, the connection not (a block must not
		 * hold the ledger's files open): freeing the block then
		 * reconnects without allocating.
		 */
		ledger_disconnect(l);
		*lp = l;
		l = NULL;
	}
	if (ret == -ENOSPC) {
		count_refusals(pool, l);
		rp_err(&pool->log, "block: %llu bytes do not fit: the pool "
		       "can grant %llu there", (unsigned long long)need.bytes,
		       (unsigned long long)(pool->nr_shortfall ?
					    pool->shortfall[0].grantable : 0));
		ret = -ENOMEM;
	}
	topo_free(t);
	free(r);
	ledger_close(l);
	return ret;
}

/* Phase 5: the row ready, with what was populated. */
int block_ledger_ready(struct ledger *l, int64_t id, int node,
		       uint64_t populated)
{
	int ret;

	if (!l)
		return 0;
	ret = ledger_connect(l->pool, LEDGER_WRITE, l);
	if (ret)
		return ret;
	ret = ledger_begin(l);
	if (!ret)
		ret = ledger_set_populated(l, id, node, populated);
	if (!ret)
		ret = ledger_set_state(l, id, RAMPOOL_RES_STATE_READY,
				       (int)getpid(),
				       ledger_proc_start(getpid()));
	if (!ret)
		ret = ledger_commit(l);
	else
		ledger_rollback(l);
	ledger_disconnect(l);
	return ret;
}

/* The block is gone (freed, or its making failed): its row goes. */
void block_ledger_drop(struct ledger *l, int64_t id)
{
	block_ledger_drop_count(l, id, NULL, 0, 0);
}

void block_ledger_drop_count(struct ledger *l, int64_t id, const char *count,
			     int node, uint64_t page_size)
{
	if (!l)
		return;
	/* a failure leaves the row to the recovery once this process ends */
	if (!ledger_connect(l->pool, LEDGER_WRITE, l) && !ledger_begin(l)) {
		if (ledger_delete(l, id))
			ledger_rollback(l);
		else
			ledger_commit(l);
		if (count)
			count_event(l, count, node, page_size);
	}
	ledger_close(l);
}
