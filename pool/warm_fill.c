// SPDX-License-Identifier: LGPL-2.1-or-later
/* warm_fill.c: rampool_warm_fill: zero the dirty slots, make the missing ones, give back the surplus. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../backend/scrub.h"
#include "../backend/topology.h"
#include "block.h"
#include "opts.h"
#include "res.h"
#include "warm.h"

#define MAX_SHORT 64

struct fill {
	struct rampool_pool *pool;
	struct ledger *l;
	struct rampool_warm_fill_opts o;
	struct rampool_warm_fill_stats st;
	/* shapes the host had no room for in this call: not tried again */
	struct ledger_warm_key shorts[MAX_SHORT];
	unsigned int nr_shorts;
	uint64_t done, total;	/* progress */
};

/* One piece of work, chosen under the ledger's lock. */
struct job {
	enum { JOB_NONE, JOB_SCRUB, JOB_MAKE } what;
	struct ledger_row slot;		/* JOB_SCRUB: the slot, marked ours */
	struct ledger_warm_key k;	/* JOB_MAKE: the shape */
};

static bool is_short(const struct fill *f, const struct ledger_warm_key *k)
{
	for (unsigned int i = 0; i < f->nr_shorts; i++)
		if (warm_key_eq(&f->shorts[i], k))
			return true;
	return false;
}

/* ---- choosing ----------------------------------------------------------- */

struct pick {
	struct fill *f;
	struct job *j;
	const struct ledger_warm_key *k;
	unsigned int count, slots;
	uint64_t todo;		/* bytes of work seen (the first pass) */
	bool plan_only;
};

static int pick_dirty(void *ctx, const struct ledger_row *r)
{
	struct pick *p = ctx;

	p->slots++;
	if (r->state != LEDGER_WARM_DIRTY ||
	    (r->pid && !ledger_owner_dead(r)))
		return 0;
	p->todo += r->size;
	if (p->plan_only || p->j->what != JOB_NONE)
		return 0;
	p->j->what = JOB_SCRUB;
	p->j->slot = *r;
	return 0;
}

static int pick_target(void *ctx, const struct ledger_warm_key *k,
		       unsigned int count)
{
	struct pick *p = ctx;
	struct fill *f = p->f;
	int ret;

	/* the surplus of a lowered target goes first (idle slots only) */
	if (!p->plan_only) {
		ret = warm_trim(f->pool, f->l, k, count);
		if (ret < 0)
			return ret;
		f->st.removed += (unsigned int)ret;
	}
	p->slots = 0;
	ret = ledger_warm_slots(f->l, k, pick_dirty, p);
	if (ret)
		return ret;
	if (p->slots < count && !is_short(f, k)) {
		p->todo += (uint64_t)(count - p->slots) * k->slot_size;
		if (!p->plan_only && p->j->what == JOB_NONE) {
			p->j->what = JOB_MAKE;
			p->j->k = *k;
		}
	}
	return 0;
}

static int orphan_slot(void *ctx, const struct ledger_row *r)
{
	struct pick *p = ctx;
	struct ledger_warm_key k;
	unsigned int count;
	int ret;

	warm_key_of(r, &k);
	ret = warm_target(p->f->l, &k, &count);
	if (ret || count || (r->pid && !ledger_owner_dead(r)))
		return ret;
	ret = res_destroy(p->f->pool, p->f->l, r);
	if (!ret)
		p->f->st.removed++;
	return ret;
}

/*
 * Under the ledger's lock: gives back what no target wants, then picks
 * one job (a dirty slot first) and marks it. plan_only: counts the bytes
 * of work for the progress total, changes nothing.
 */
static int choose(struct fill *f, struct job *j, bool plan_only)
{
	struct pick p = { .f = f, .j = j, .plan_only = plan_only };
	int ret;

	memset(j, 0, sizeof(*j));
	ret = ledger_begin(f->l);
	if (ret)
		return ret;
	if (!plan_only)
		ret = ledger_warm_slots(f->l, NULL, orphan_slot, &p);
	if (!ret)
		ret = ledger_warm_targets(f->l, pick_target, &p);
	if (!ret && j->what == JOB_SCRUB)
		/* ours now: a crash leaves it dirty (recovery clears the pid) */
		ret = ledger_set_state(f->l, j->slot.id, LEDGER_WARM_DIRTY,
				       getpid(), ledger_proc_start(getpid()));
	if (plan_only) {
		f->total = p.todo;
		ledger_rollback(f->l);
		return ret;
	}
	if (ret) {
		ledger_rollback(f->l);
		return ret;
	}
	return ledger_commit(f->l);
}

/* ---- doing -------------------------------------------------------------- */

static void progress(void *data, uint64_t done, uint64_t total)
{
	struct fill *f = data;

	(void)total;
	if (f->o.progress)
		f->o.progress(f->o.progress_data, f->done + done,
			      f->total > f->done + done ? f->total
							: f->done + done);
}

/* The CPUs of node as a cpu_set_t; -errno when the node has none known. */
static int node_cpus(struct rampool_pool *pool, int node, cpu_set_t *set)
{
	uint64_t bits[CPU_SETSIZE / 64] = { 0 };
	const struct topo_node *n;
	struct topo *t = NULL;
	int ret = res_counters(pool, &t), any = 0;

	n = ret ? NULL : topo_node_by_id(t, node);
	ret = n ? topo_node_cpus(n, bits, CPU_SETSIZE) : -ENOENT;
	CPU_ZERO(set);
	for (unsigned int c = 0; !ret && c < CPU_SETSIZE; c++)
		if (bits[c / 64] & (1ull << (c % 64))) {
			CPU_SET(c, set);
			any++;
		}
	topo_free(t);
	return ret ? ret : any ? 0 : -ENOENT;
}

/* Zeroes a dirty slot on its node: holes filled there, placement checked. */
static int scrub(struct fill *f, const struct ledger_row *r)
{
	struct rampool_pool *pool = f->pool;
	int node = r->nodes[0].node;
	unsigned long mask[16] = { 0 };
	struct rampool_block *blk;
	char path[4096];
	int fd, ret;

	ret = res_file_path(pool, r->backing, r->name, path, sizeof(path));
	if (ret)
		return ret;
	fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct block_attach_spec s = {
		.fd = fd, .size = r->size, .max_size = r->size,
		.page_size = r->page_size,
		.hugetlb = r->backing == RAMPOOL_RES_HUGETLB,
		.nodes = &node, .nr_nodes = 1, .policy = RAMPOOL_POLICY_BIND,
		.threads = f->o.threads, .cancel = &pool->cancel,
	};
	/* a punched page comes back on the node; every page is checked there */
	ret = block_attach(pool, &s, &blk);
	if (!ret) {
		ret = rampool_block_populate(blk, 0, r->size);
		rampool_block_free(blk);
	}
	if (!ret && node >= 0 && node < (int)(sizeof(mask) * 8)) {
		struct scrub_opts so = {
			.threads = f->o.threads, .mpol_mode = 2 /* MPOL_BIND */,
			.nodemask = mask, .maxnode = sizeof(mask) * 8,
			.progress = progress, .progress_data = f,
			.cancel = &pool->cancel,
		};
		cpu_set_t cpus;

		/* the node's CPUs zero its memory (none known: any CPU) */
		if (!node_cpus(pool, node, &cpus)) {
			so.cpus = &cpus;
			so.cpus_size = sizeof(cpus);
		}
		mask[node / 64] |= 1ul << (node % 64);
		ret = scrub_file(fd, r->size, r->page_size,
				 r->backing == RAMPOOL_RES_HUGETLB, SCRUB_ZERO,
				 &so, NULL, &pool->log);
	}
	close(fd);
	return ret;
}

static int scrub_job(struct fill *f, struct job *j)
{
	int ret = scrub(f, &j->slot), ret2;

	ret2 = ledger_begin(f->l);
	if (ret2)
		return ret ? ret : ret2;	/* recovery clears our pid */
	if (!ret) {
		ret2 = ledger_set_populated(f->l, j->slot.id,
					    j->slot.nodes[0].node,
					    j->slot.size);
		if (!ret2)
			ret2 = ledger_set_state(f->l, j->slot.id,
						RAMPOOL_RES_STATE_READY, 0, 0);
	} else if (ret == -EXDEV || ret == -ENOMEM) {
		/* pages off its node, or a hole the node cannot fill: the
		 * slot is not what it claims to be, it goes */
		rp_warn(&f->pool->log, "warm: slot %s given back: %s",
			j->slot.name, strerror(-ret));
		ret2 = res_destroy(f->pool, f->l, &j->slot);
	} else {
		ret2 = ledger_set_state(f->l, j->slot.id, LEDGER_WARM_DIRTY,
					0, 0);
	}
	if (ret2)
		ledger_rollback(f->l);
	else
		ret2 = ledger_commit(f->l);
	if (!ret && !ret2) {
		f->st.scrubbed++;
		f->st.bytes_scrubbed += j->slot.size;
		f->done += j->slot.size;
	}
	if (ret == -EXDEV || ret == -ENOMEM)
		return ret2;	/* given back: go on with the others */
	return ret ? ret : ret2;
}

static int make_job(struct fill *f, struct job *j)
{
	struct rampool_res_node n = { .node = j->k.node,
				      .size = j->k.slot_size };
	struct rampool_reservation_opts o = {
		.sz = sizeof(o), .size = j->k.slot_size,
		.page_size = j->k.page_size,
		.backing = (enum rampool_res_backing)j->k.backing,
		.nodes = &n, .nr_nodes = 1, .flags = RAMPOOL_RES_PREALLOC,
		.threads = f->o.threads, .progress = progress,
		.progress_data = f,
	};
	struct rampool_pool *pool = f->pool;
	char name[RAMPOOL_NAME_MAX + 1];
	struct res_plan *p = NULL;
	struct topo *t = NULL;
	bool committed = false;
	int ret;

	warm_slot_name(name, sizeof(name));
	ret = res_counters(pool, &t);
	if (!ret)
		ret = res_plan_prepare(pool, name, &o, t, &p);
	topo_free(t);
	t = NULL;
	if (ret)
		return ret;
	res_plan_row(p)->kind = LEDGER_WARM;
	ret = ledger_begin(f->l);
	if (!ret) {
		/* another fill may have made it since choose(): count again */
		ret = warm_short(f->l, &j->k);
		if (ret <= 0) {
			ledger_rollback(f->l);
			res_plan_free(p);
			return ret;
		}
		/* under the lock: the counters and the check, as a reserve's */
		ret = res_counters(pool, &t);
		if (!ret)
			ret = res_check(pool, f->l, t, j->k.page_size,
					j->k.backing,
					&(struct res_need){ j->k.node,
							    j->k.slot_size }, 1);
		if (!ret)
			ret = res_plan_make(pool, f->l, p);
		if (!ret) {
			ret = ledger_commit(f->l);
			committed = !ret;
		} else {
			ledger_rollback(f->l);
		}
		res_plan_made(pool, p, committed);
		topo_free(t);
	}
	if (!ret)
		ret = res_plan_fill(pool, f->l, p);
	res_plan_free(p);
	if (ret == -ENOSPC) {
		if (f->nr_shorts < MAX_SHORT)
			f->shorts[f->nr_shorts++] = j->k;
		f->st.short_slots++;
		return 0;	/* the other shapes may still fit */
	}
	if (!ret) {
		f->st.made++;
		f->st.bytes_made += j->k.slot_size;
		f->done += j->k.slot_size;
	}
	return ret;
}

/* ---- the call ----------------------------------------------------------- */

int rampool_warm_fill(struct rampool_pool *pool,
		      const struct rampool_warm_fill_opts *opts,
		      struct rampool_warm_fill_stats *stats)
{
	struct fill *f;
	struct job j;
	int ret;

	if (!pool)
		return -EINVAL;
	if (opts && OPTS_VALID(opts, struct rampool_warm_fill_opts,
			       progress_data)) {
		rp_err(&pool->log, "warm fill: options struct of %zu bytes",
		       opts->sz);
		return -EINVAL;
	}
	if (opts && (opts->flags || opts->threads > 256)) {
		rp_err(&pool->log, "warm fill: bad %s %u", opts->flags ?
		       "flags" : "threads (at most 256)", opts->flags ?
		       opts->flags : opts->threads);
		return -EINVAL;
	}
	if (stats && stats->sz < OPTS_END(struct rampool_warm_fill_stats,
					  bytes_made))
		return -EINVAL;
	if (geteuid()) {
		rp_err(&pool->log, "warm fill: only root (slots are mounts "
		       "of their own)");
		return -EPERM;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->pool = pool;
	f->st.sz = sizeof(f->st);
	if (opts)
		memcpy(&f->o, opts, sizeof(f->o));
	atomic_store(&pool->cancel, false);
	ret = res_open_write(pool, &f->l);
	if (!ret)
		ret = choose(f, &j, true);
	while (!ret) {
		if (atomic_load(&pool->cancel)) {
			ret = -ECANCELED;
			break;
		}
		ret = choose(f, &j, false);
		if (ret || j.what == JOB_NONE)
			break;
		ret = j.what == JOB_SCRUB ? scrub_job(f, &j) : make_job(f, &j);
	}
	if (!ret && f->st.short_slots)
		ret = -ENOSPC;
	if (stats)
		info_copy(stats, stats->sz, &f->st, sizeof(f->st),
			  OPTS_END(struct rampool_warm_fill_stats, bytes_made));
	ledger_close(f->l);
	free(f);
	return ret;
}
