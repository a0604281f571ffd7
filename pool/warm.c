// SPDX-License-Identifier: LGPL-2.1-or-later
/* warm.c: the warm pool's targets and what it holds: rampool_warm_set, rampool_warm_get. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../backend/topology.h"
#include "opts.h"
#include "res.h"
#include "warm.h"

void warm_key_of(const struct ledger_row *r, struct ledger_warm_key *k)
{
	k->node = r->nodes[0].node;
	k->backing = r->backing;
	k->page_size = r->page_size;
	k->slot_size = r->size;
}

bool warm_key_eq(const struct ledger_warm_key *a,
		 const struct ledger_warm_key *b)
{
	return a->node == b->node && a->backing == b->backing &&
	       a->page_size == b->page_size && a->slot_size == b->slot_size;
}

void warm_slot_name(char *buf, size_t len)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(buf, len, "@w%d-%llx", (int)getpid(),
		 (unsigned long long)ts.tv_sec * 1000000000ull +
			 (unsigned long long)ts.tv_nsec);
}

/* ---- short ------------------------------------------------------------- */

struct short_of {
	const struct ledger_warm_key *k;
	unsigned int count, slots;
};

static int target_of(void *ctx, const struct ledger_warm_key *k,
		     unsigned int count)
{
	struct short_of *s = ctx;

	if (warm_key_eq(k, s->k))
		s->count = count;
	return 0;
}

static int slot_of(void *ctx, const struct ledger_row *r)
{
	(void)r;
	((struct short_of *)ctx)->slots++;
	return 0;
}

int warm_target(struct ledger *l, const struct ledger_warm_key *k,
		unsigned int *count)
{
	struct short_of s = { .k = k };
	int ret = ledger_warm_targets(l, target_of, &s);

	*count = s.count;
	return ret;
}

int warm_short(struct ledger *l, const struct ledger_warm_key *k)
{
	struct short_of s = { .k = k };
	int ret = warm_target(l, k, &s.count);

	if (!ret && s.count)
		ret = ledger_warm_slots(l, k, slot_of, &s);
	return ret ? ret : s.slots < s.count;
}

/* ---- trim --------------------------------------------------------------- */

struct trim {
	struct rampool_pool *pool;
	struct ledger *l;
	unsigned int keep, seen, removed, busy, clean;
	bool dirty_pass;
	int ret;
};

static bool idle(const struct ledger_row *r)
{
	return !r->pid || ledger_owner_dead(r);
}

static int count_kept(void *ctx, const struct ledger_row *r)
{
	struct trim *t = ctx;

	if (!idle(r))
		t->busy++;	/* being worked on: never taken from */
	else if (r->state != LEDGER_WARM_DIRTY)
		t->clean++;
	return 0;
}

/* Keeps idle slots of this pass while fewer than keep are seen. */
static int trim_one(void *ctx, const struct ledger_row *r)
{
	struct trim *t = ctx;
	bool dirty = r->state == LEDGER_WARM_DIRTY;

	if (!idle(r) || dirty != t->dirty_pass)
		return 0;
	if (t->seen < t->keep) {
		t->seen++;
		return 0;
	}
	t->ret = res_destroy(t->pool, t->l, r);
	if (t->ret)
		return 1;
	t->removed++;
	return 0;
}

int warm_trim(struct rampool_pool *pool, struct ledger *l,
	      const struct ledger_warm_key *k, unsigned int keep)
{
	struct trim t = { .pool = pool, .l = l, .keep = keep };
	int ret;

	ret = ledger_warm_slots(l, k, count_kept, &t);
	/* dirty slots go first: the busy and clean ones count as kept */
	t.dirty_pass = true;
	t.seen = t.busy + t.clean;
	if (!ret)
		ret = ledger_warm_slots(l, k, trim_one, &t);
	if (!ret && !t.ret && t.busy + t.clean > keep) {
		/* more than wanted without any dirty one: clean ones go */
		t.dirty_pass = false;
		t.seen = t.busy;
		ret = ledger_warm_slots(l, k, trim_one, &t);
	}
	if (!ret)
		ret = t.ret;
	return ret ? ret : (int)t.removed;
}

/* ---- set ---------------------------------------------------------------- */

static int bad(struct rampool_pool *pool, const char *what,
	       unsigned long long v)
{
	rp_err(&pool->log, "warm: bad %s %llu", what, v);
	return -EINVAL;
}

static int check_target(struct rampool_pool *pool,
			const struct rampool_warm_target *t,
			struct ledger_warm_key *k)
{
	uint64_t base = (uint64_t)sysconf(_SC_PAGESIZE);
	const struct topo_node *n;
	struct topo *topo = NULL;
	int ret;

	if (!t || OPTS_VALID(t, struct rampool_warm_target, count)) {
		rp_err(&pool->log, "warm: target struct of %zu bytes",
		       t ? t->sz : 0);
		return -EINVAL;
	}
	k->node = t->node;
	k->backing = t->backing ? (int)t->backing : RAMPOOL_RES_HUGETLB;
	k->page_size = t->page_size;
	k->slot_size = t->slot_size;
	if (k->backing != RAMPOOL_RES_HUGETLB && k->backing != RAMPOOL_RES_SHMEM)
		return bad(pool, "backing", (unsigned long long)k->backing);
	if (t->count > 100000)
		return bad(pool, "count (at most 100000)", t->count);
	ret = res_counters(pool, &topo);
	if (ret)
		return ret;
	n = t->node >= 0 ? topo_node_by_id(topo, t->node) : NULL;
	if (!n) {
		rp_err(&pool->log, "warm: no node %d", t->node);
		ret = -EINVAL;
	} else if (k->backing == RAMPOOL_RES_HUGETLB) {
		if (!k->page_size)
			k->page_size = topo->default_page_size;
		if (topo_size_index(topo, k->page_size) < 0)
			ret = bad(pool, "page size (the kernel has no such "
				  "hugepages)", (unsigned long long)k->page_size);
	} else {
		if (!k->page_size)
			k->page_size = base;
		if (k->page_size != base)
			ret = bad(pool, "page size for shmem",
				  (unsigned long long)k->page_size);
	}
	if (!ret && (!k->slot_size || k->slot_size % k->page_size ||
		     k->slot_size > UINT64_MAX / 4))
		ret = bad(pool, "slot size (a non-zero multiple of the page "
			  "size)", (unsigned long long)k->slot_size);
	topo_free(topo);
	return ret;
}

int rampool_warm_set(struct rampool_pool *pool,
		     const struct rampool_warm_target *target)
{
	struct ledger_warm_key k;
	struct ledger *l = NULL;
	int ret;

	if (!pool)
		return -EINVAL;
	ret = check_target(pool, target, &k);
	if (ret)
		return ret;
	if (geteuid()) {
		rp_err(&pool->log, "warm: only root sets targets (slots are "
		       "mounts of their own)");
		return -EPERM;
	}
	ret = res_open_write(pool, &l);
	if (ret)
		return ret;
	ret = ledger_begin(l);
	if (ret)
		goto out;
	ret = ledger_warm_target_set(l, &k, target->count);
	if (!ret) {
		/* what a lower target no longer wants goes back now */
		ret = warm_trim(pool, l, &k, target->count);
		if (ret > 0)
			rp_info(&pool->log, "warm: %d slots given back", ret);
	}
	if (ret < 0)
		ledger_rollback(l);
	else
		ret = ledger_commit(l);
out:
	ledger_close(l);
	return ret;
}

/* ---- get ---------------------------------------------------------------- */

struct rampool_warm {
	struct rampool_warm_info *w;
	unsigned int n, cap;
};

static int cmp_key(const struct ledger_warm_key *a,
		   const struct rampool_warm_info *b)
{
	if (a->node != b->node)
		return a->node < b->node ? -1 : 1;
	if (a->backing != (int)b->backing)
		return a->backing < (int)b->backing ? -1 : 1;
	if (a->page_size != b->page_size)
		return a->page_size < b->page_size ? -1 : 1;
	if (a->slot_size != b->slot_size)
		return a->slot_size < b->slot_size ? -1 : 1;
	return 0;
}

/* The entry of shape k, inserted in order when missing. */
static struct rampool_warm_info *entry(struct rampool_warm *w,
				       const struct ledger_warm_key *k)
{
	unsigned int i = 0;

	while (i < w->n && cmp_key(k, &w->w[i]) > 0)
		i++;
	if (i < w->n && !cmp_key(k, &w->w[i]))
		return &w->w[i];
	if (w->n == w->cap) {
		unsigned int cap = w->cap ? w->cap * 2 : 8;
		void *p = realloc(w->w, cap * sizeof(*w->w));

		if (!p)
			return NULL;
		w->w = p;
		w->cap = cap;
	}
	memmove(&w->w[i + 1], &w->w[i], (w->n - i) * sizeof(*w->w));
	w->n++;
	memset(&w->w[i], 0, sizeof(w->w[i]));
	w->w[i].sz = sizeof(w->w[i]);
	w->w[i].node = k->node;
	w->w[i].backing = (enum rampool_res_backing)k->backing;
	w->w[i].page_size = k->page_size;
	w->w[i].slot_size = k->slot_size;
	return &w->w[i];
}

static int add_target(void *ctx, const struct ledger_warm_key *k,
		      unsigned int count)
{
	struct rampool_warm_info *e = entry(ctx, k);

	if (!e)
		return -ENOMEM;
	e->target = count;
	return 0;
}

static int add_slot(void *ctx, const struct ledger_row *r)
{
	struct ledger_warm_key k;
	struct rampool_warm_info *e;

	warm_key_of(r, &k);
	e = entry(ctx, &k);
	if (!e)
		return -ENOMEM;
	if (r->pid && !ledger_owner_dead(r))
		e->filling++;
	else if (r->state == RAMPOOL_RES_STATE_READY)
		e->clean++;
	else
		e->dirty++;	/* a dead filler's: dirty, or gone */
	return 0;
}

int rampool_warm_get(struct rampool_pool *pool, struct rampool_warm **out)
{
	struct rampool_warm *w;
	struct ledger *l = NULL;
	int ret;

	if (!pool || !out)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	ret = ledger_open(pool, LEDGER_READ, &l);
	if (ret == -ENOENT) {
		*out = w;	/* no ledger yet: no targets */
		return 0;
	}
	if (!ret)
		ret = ledger_warm_targets(l, add_target, w);
	if (!ret)
		ret = ledger_warm_slots(l, NULL, add_slot, w);
	ledger_close(l);
	if (ret) {
		rampool_warm_free(w);
		return ret;
	}
	*out = w;
	return 0;
}

unsigned int rampool_warm_count(const struct rampool_warm *w)
{
	return w ? w->n : 0;
}

int rampool_warm_at(const struct rampool_warm *w, unsigned int idx,
		    struct rampool_warm_info *info)
{
	if (!w || !info)
		return -EINVAL;
	if (idx >= w->n)
		return -ERANGE;
	return info_copy(info, info->sz, &w->w[idx], sizeof(w->w[idx]),
			 OPTS_END(struct rampool_warm_info, filling));
}

void rampool_warm_free(struct rampool_warm *w)
{
	if (!w)
		return;
	free(w->w);
	free(w);
}
