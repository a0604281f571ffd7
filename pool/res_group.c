// SPDX-License-Identifier: LGPL-2.1-or-later
/* res_group.c: a plan reserved as one group, all or nothing under the ledger's lock: a member reservation per RAM block; finding a member's file by block id; releasing the group. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../backend/topology.h"
#include "opts.h"
#include "plan.h"
#include "counters.h"
#include "res.h"

#define GROUP_MAX 99999		/* members: RES_MEMBER_DIGITS digits */

struct group {
	const char *name;
	unsigned int n;
	char (*names)[RAMPOOL_NAME_MAX + 8];
	struct res_plan **p;
};

static void group_free(struct group *g)
{
	for (unsigned int i = 0; g->p && i < g->n; i++)
		res_plan_free(g->p[i]);
	free(g->p);
	free(g->names);
}

static int read_opts(struct rampool_pool *pool,
		     const struct rampool_group_opts *opts,
		     struct rampool_group_opts *o)
{
	*o = (struct rampool_group_opts){ .sz = sizeof(*o), .owner_uid = -1 };
	if (!opts)
		return 0;
	if (OPTS_VALID(opts, struct rampool_group_opts, cgroup)) {
		rp_err(&pool->log, "reserve: group options of %zu bytes",
		       opts->sz);
		return -EINVAL;
	}
	*o = *opts;
	if (o->flags & ~RAMPOOL_RES_PREALLOC) {
		rp_err(&pool->log, "reserve: unknown group flags 0x%x",
		       o->flags);
		return -EINVAL;
	}
	return 0;
}

/* A member per block: its name, options and row (grp, block). */
static int members(struct rampool_pool *pool, const struct rampool_plan *plan,
		   const struct rampool_group_opts *o, struct group *g)
{
	struct topo *t = NULL;
	int ret;

	g->n = plan->n;
	g->names = calloc(g->n, sizeof(*g->names));
	g->p = calloc(g->n, sizeof(*g->p));
	if (!g->names || !g->p)
		return -ENOMEM;
	ret = res_counters(pool, &t);
	for (unsigned int i = 0; !ret && i < g->n; i++) {
		const struct plan_block *b = &plan->b[i];
		struct rampool_res_node node = { .node = b->node,
						 .size = b->size };
		struct rampool_reservation_opts ro = {
			.sz = sizeof(ro), .size = b->size,
			.page_size = b->page_size, .backing = b->backing,
			.nodes = &node, .nr_nodes = b->node != RAMPOOL_NODE_ANY,
			.flags = o->flags, .threads = o->threads,
			.owner_uid = o->owner_uid,
		};
		struct ledger_row *r;

		snprintf(g->names[i], sizeof(g->names[i]), "%s:%u", g->name,
			 i);
		ret = res_plan_prepare(pool, g->names[i], &ro, t, &g->p[i]);
		if (ret) {
			rp_err(&pool->log, "reserve: %s: block %s cannot be "
			       "reserved as given", g->name, b->id);
			break;
		}
		r = res_plan_row(g->p[i]);
		snprintf(r->grp, sizeof(r->grp), "%s", g->name);
		snprintf(r->block, sizeof(r->block), "%s", b->id);
	}
	topo_free(t);
	return ret;
}

/* Under the lock: names free, the whole plan fits, every member made. */
static int create(struct rampool_pool *pool, struct ledger *l,
		  const struct rampool_plan *plan, const char *cgroup,
		  struct group *g, struct rampool_check **check)
{
	struct rampool_check *c = NULL;
	struct topo *t = NULL;
	unsigned int made = 0;
	int ret = ledger_begin(l);

	if (ret)
		return ret;
	ret = res_counters(pool, &t);
	if (!ret)
		ret = res_name_taken(pool, l, g->name);
	for (unsigned int i = 0; !ret && i < g->n; i++)
		ret = res_name_taken(pool, l, g->names[i]);
	if (!ret)
		ret = plan_check_run(pool, plan, cgroup, l, t, &c);
	if (ret == -ENOSPC) {
		rp_err(&pool->log, "reserve: %s: does not fit", g->name);
		/* counted once the transaction is over: one per short row */
		for (unsigned int i = 0; c && i < rampool_check_count(c); i++) {
			struct rampool_check_row r = { .sz = sizeof(r) };

			if (!rampool_check_row(c, i, &r) && r.short_by)
				res_shortfall_add(pool, r.node, r.page_size,
						  r.need, r.grantable);
		}
	}
	/* made: the members whose objects stand (a failed one undid its own) */
	for (unsigned int i = 0; !ret && i < g->n; i++) {
		ret = res_plan_make(pool, l, g->p[i]);
		if (!ret)
			made++;
	}
	if (!ret)
		ret = ledger_commit(l);
	else
		ledger_rollback(l);
	for (unsigned int i = 0; i < made; i++)
		res_plan_made(pool, g->p[i], !ret);
	topo_free(t);
	if (check)
		*check = c;
	else
		rampool_check_free(c);
	return ret;
}

struct member_list {
	unsigned int n, cap;
	struct ledger_row *r;
};

static int collect(void *ctx, const struct ledger_row *r)
{
	struct member_list *m = ctx;

	if (m->n == m->cap) {
		unsigned int cap = m->cap ? m->cap * 2 : 8;
		struct ledger_row *nr = realloc(m->r, cap * sizeof(*nr));

		if (!nr)
			return -ENOMEM;
		m->r = nr;
		m->cap = cap;
	}
	m->r[m->n++] = *r;
	return 0;
}

/*
 * In the caller's transaction: every member of name goes (files, mounts,
 * rows). busy_ok: members still being made by a live process are
 * refused (-EBUSY) unless they are this process's own (a failed fill).
 * -ENOENT no such group. Members in use stay (-EBUSY, logged); the
 * others go.
 */
static int destroy_members(struct rampool_pool *pool, struct ledger *l,
			   const char *name, bool own)
{
	struct member_list m = { 0 };
	int ret = ledger_each_member(l, name, collect, &m), busy = 0;

	if (!ret && !m.n)
		ret = -ENOENT;
	for (unsigned int i = 0; !ret && i < m.n; i++) {
		const struct ledger_row *r = &m.r[i];

		if (!res_may(r)) {
			rp_err(&pool->log, "%s belongs to uid %u", name,
			       (unsigned int)r->uid);
			ret = -EPERM;
		} else if (!own && r->state == RAMPOOL_RES_STATE_PENDING &&
			   !ledger_owner_dead(r)) {
			rp_err(&pool->log, "%s is still being made by pid %d",
			       name, r->pid);
			ret = -EBUSY;
		}
	}
	for (unsigned int i = 0; !ret && i < m.n; i++) {
		int r = res_destroy(pool, l, &m.r[i]);

		if (r == -EBUSY) {
			rp_err(&pool->log, "%s (block %s) is still open or "
			       "mapped by a process", m.r[i].name,
			       m.r[i].block);
			busy = r;
		} else if (r) {
			ret = r;
		}
	}
	free(m.r);
	return ret ? ret : busy;
}

int res_group_release(struct rampool_pool *pool, const char *name)
{
	struct ledger *l;
	int ret, r;

	if (geteuid()) {
		rp_err(&pool->log, "release of %s: only root may (it unmounts "
		       "the members' file systems)", name);
		return -EPERM;
	}
	ret = res_open_write(pool, &l);
	if (ret)
		return ret;
	ret = ledger_begin(l);
	if (ret) {
		ledger_close(l);
		return ret;
	}
	ret = destroy_members(pool, l, name, false);
	/* what went stays gone: a busy member stays, its row with it */
	r = ret && ret != -EBUSY ? (ledger_rollback(l), 0) : ledger_commit(l);
	ledger_close(l);
	return ret ? ret : r;
}

/* Prealloc: every member populated, else the whole group goes. */
static int fill(struct rampool_pool *pool, struct ledger *l, struct group *g)
{
	int ret = 0, r;

	for (unsigned int i = 0; !ret && i < g->n; i++)
		ret = res_plan_fill(pool, l, g->p[i]);
	if (!ret)
		return 0;
	r = ledger_begin(l);
	if (!r) {
		r = destroy_members(pool, l, g->name, true);
		if (r && r != -ENOENT)
			ledger_rollback(l);
		else
			ledger_commit(l);
	}
	return ret;
}

int rampool_plan_reserve(struct rampool_pool *pool,
			 const struct rampool_plan *plan, const char *name,
			 const struct rampool_group_opts *opts,
			 struct rampool_check **check)
{
	struct rampool_group_opts o;
	struct group g = { .name = name };
	struct ledger *l = NULL;
	int ret;

	if (!pool || !plan)
		return -EINVAL;
	res_shortfall_clear(pool);
	atomic_store(&pool->cancel, false);
	if (res_user_name_check(name)) {
		rp_err(&pool->log, "reserve: bad group name '%s' (letters, "
		       "digits, '.', '_', '-'; at most %d; not starting with "
		       "a symbol)", name ? name : "(null)", RAMPOOL_NAME_MAX);
		return -EINVAL;
	}
	if (!plan->n || plan->n > GROUP_MAX) {
		rp_err(&pool->log, "reserve: %s: a plan of %u blocks (1 to %d)",
		       name, plan->n, GROUP_MAX);
		return -EINVAL;
	}
	ret = read_opts(pool, opts, &o);
	if (!ret)
		ret = members(pool, plan, &o, &g);
	if (!ret)
		ret = res_open_write(pool, &l);
	if (!ret && geteuid()) {
		rp_err(&pool->log, "reserve: making a reservation mounts its "
		       "own file system, which needs root (CAP_SYS_ADMIN)");
		ret = -EPERM;
	}
	if (!ret)
		ret = create(pool, l, plan, o.cgroup, &g, check);
	if (ret == -ENOSPC)
		count_refusals(pool, l);
	if (!ret)
		ret = fill(pool, l, &g);
	group_free(&g);
	ledger_close(l);
	return ret;
}

int rampool_group_path(struct rampool_pool *pool, const char *name,
		       const char *block, char *buf, size_t len)
{
	struct member_list m = { 0 };
	struct ledger *l;
	char path[4096];
	int ret;

	if (!pool || !block || !buf)
		return -EINVAL;
	if (res_user_name_check(name)) {
		rp_err(&pool->log, "bad group name '%s'", name ? name : "(null)");
		return -EINVAL;
	}
	ret = ledger_open(pool, LEDGER_READ, &l);
	if (ret)
		return ret;
	ret = ledger_each_member(l, name, collect, &m);
	ledger_close(l);
	if (!ret && !m.n) {
		rp_err(&pool->log, "no group %s", name);
		ret = -ENOENT;
	}
	for (unsigned int i = 0; !ret && i < m.n; i++) {
		if (strcmp(m.r[i].block, block))
			continue;
		if (!res_may(&m.r[i])) {
			rp_err(&pool->log, "%s belongs to uid %u", name,
			       (unsigned int)m.r[i].uid);
			ret = -EPERM;
		} else {
			ret = res_file_path(pool, m.r[i].backing, m.r[i].name,
					    path, sizeof(path));
			if (!ret && strlen(path) >= len)
				ret = -ERANGE;
			if (!ret)
				memcpy(buf, path, strlen(path) + 1);
			if (!ret)
				ret = 1;	/* found */
		}
	}
	if (ret == 0 && m.n) {
		rp_err(&pool->log, "group %s has no block '%s'", name, block);
		ret = -ENOENT;
	}
	free(m.r);
	return ret == 1 ? 0 : ret;
}
