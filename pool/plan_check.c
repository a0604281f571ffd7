// SPDX-License-Identifier: LGPL-2.1-or-later
/* plan_check.c: will a plan fit on this host now? Need per node and page size against what a reservation would be granted, within a cgroup's hugetlb limits. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../backend/topology.h"
#include "ledger.h"
#include "opts.h"
#include "plan.h"
#include "res.h"

struct rampool_check {
	struct rampool_check_row *r;
	unsigned int n, cap;
};

static struct rampool_check_row *row_at(struct rampool_check *c,
					uint64_t ps, int node, int backing)
{
	struct rampool_check_row *r;

	for (unsigned int i = 0; i < c->n; i++)
		if (c->r[i].page_size == ps && c->r[i].node == node)
			return &c->r[i];
	if (c->n == c->cap) {
		unsigned int cap = c->cap ? c->cap * 2 : 8;

		r = realloc(c->r, cap * sizeof(*r));
		if (!r)
			return NULL;
		c->r = r;
		c->cap = cap;
	}
	r = &c->r[c->n++];
	*r = (struct rampool_check_row){
		.sz = sizeof(*r), .node = node, .page_size = ps,
		.backing = (enum rampool_res_backing)backing,
		.cgroup_room = UINT64_MAX, .fits_on = RAMPOOL_NODE_ANY,
	};
	return r;
}

/* Rows in a stable order: page size, then node (host-wide last). */
static int row_cmp(const void *a, const void *b)
{
	const struct rampool_check_row *x = a, *y = b;
	unsigned int nx = (unsigned int)x->node, ny = (unsigned int)y->node;

	if (x->page_size != y->page_size)
		return x->page_size < y->page_size ? -1 : 1;
	return nx < ny ? -1 : nx > ny;
}

/*
 * The needs: one row per page size and node of the blocks; a host-wide
 * row per page size whose blocks share the host's pool (more than one
 * node row, or blocks on no node: those are summed there with the rest).
 */
static int add_needs(struct rampool_check *c, const struct rampool_plan *p)
{
	for (unsigned int i = 0; i < p->n; i++) {
		const struct plan_block *b = &p->b[i];
		struct rampool_check_row *r;

		r = row_at(c, b->page_size, b->node, b->backing);
		if (!r)
			return -ENOMEM;
		r->need += b->size;
	}
	for (unsigned int i = 0, n = c->n; i < n; i++) {
		uint64_t ps = c->r[i].page_size, sum = 0;
		unsigned int rows = 0;
		bool any = false;

		for (unsigned int k = 0; k < n; k++) {
			if (c->r[k].page_size != ps)
				continue;
			rows++;
			sum += c->r[k].need;
			any |= c->r[k].node == RAMPOOL_NODE_ANY;
		}
		if (rows > 1 && !any) {
			struct rampool_check_row *r;

			r = row_at(c, ps, RAMPOOL_NODE_ANY, c->r[i].backing);
			if (!r)
				return -ENOMEM;
			r->need = sum;
		} else if (rows > 1 && c->r[i].node == RAMPOOL_NODE_ANY) {
			c->r[i].need = sum;	/* host-wide: all of them */
		}
	}
	qsort(c->r, c->n, sizeof(*c->r), row_cmp);
	return 0;
}

/* "2MB", "1GB", "64KB": the kernel's names in hugetlb cgroup files. */
static void cg_size_name(uint64_t ps, char *buf, size_t len)
{
	if (ps >= 1ULL << 30)
		snprintf(buf, len, "%lluGB", (unsigned long long)(ps >> 30));
	else if (ps >= 1ULL << 20)
		snprintf(buf, len, "%lluMB", (unsigned long long)(ps >> 20));
	else
		snprintf(buf, len, "%lluKB", (unsigned long long)(ps >> 10));
}

/* One cgroup file: "max" (UINT64_MAX) or bytes. -ENOENT absent. */
static int cg_read(struct rampool_pool *pool, const char *dir,
		   const char *name, uint64_t *v)
{
	char path[4096], buf[64];
	unsigned long long x;
	ssize_t n;
	char *end;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (!strcmp(buf, "max\n")) {
		*v = UINT64_MAX;
		return 0;
	}
	errno = 0;
	x = strtoull(buf, &end, 10);
	if (errno || end == buf || strcmp(end, "\n")) {
		rp_err(&pool->log, "check: %s: not a byte count or \"max\"",
		       path);
		return -EINVAL;
	}
	*v = x;
	return 0;
}

/*
 * The room the cgroup leaves for ps pages: each of its limits (faulted
 * pages: .max; reserved ones: .rsvd.max) less what it uses now; the
 * least. UINT64_MAX when it sets none.
 */
static int cg_room(struct rampool_pool *pool, const char *dir, uint64_t ps,
		   uint64_t *room)
{
	static const char *const kind[][2] = {
		{ "max", "current" }, { "rsvd.max", "rsvd.current" },
	};
	char sz[32], name[96];
	uint64_t max, cur;
	int ret;

	*room = UINT64_MAX;
	cg_size_name(ps, sz, sizeof(sz));
	for (unsigned int i = 0; i < 2; i++) {
		snprintf(name, sizeof(name), "hugetlb.%s.%s", sz, kind[i][0]);
		ret = cg_read(pool, dir, name, &max);
		if (ret == -ENOENT)
			continue;	/* no such limit in this kernel */
		if (ret)
			return ret;
		if (max == UINT64_MAX)
			continue;
		snprintf(name, sizeof(name), "hugetlb.%s.%s", sz, kind[i][1]);
		ret = cg_read(pool, dir, name, &cur);
		if (ret == -ENOENT)
			cur = 0;
		else if (ret)
			return ret;
		if (max - (cur < max ? cur : max) < *room)
			*room = max - (cur < max ? cur : max);
	}
	return 0;
}

/* What a reservation would be granted at r's node; 0 where the host has
 * no such pool or node. */
static int grantable(struct ledger *l, const struct topo *t,
		     const struct rampool_check_row *r, uint64_t *out)
{
	*out = 0;
	if (r->backing == RAMPOOL_RES_HUGETLB &&
	    topo_size_index(t, r->page_size) < 0)
		return 0;
	if (r->node != RAMPOOL_NODE_ANY && !topo_node_by_id(t, r->node))
		return 0;
	return res_grantable(l, t, r->page_size, r->backing, r->node, out);
}

/* A short node row: the first other node where its need fits now. */
static int other_node(struct ledger *l, const struct topo *t,
		      struct rampool_check_row *r)
{
	struct rampool_check_row o = *r;
	uint64_t g;
	int ret;

	for (unsigned int k = 0; k < t->nr_nodes; k++) {
		o.node = t->nodes[k].id;
		if (o.node == r->node)
			continue;
		ret = grantable(l, t, &o, &g);
		if (ret)
			return ret;
		if (g > r->cgroup_room)
			g = r->cgroup_room;
		if (g >= r->need) {
			r->fits_on = o.node;
			break;
		}
	}
	return 0;
}

static int fill(struct rampool_pool *pool, struct ledger *l,
		const struct topo *t, const struct rampool_check_opts *o,
		struct rampool_check *c)
{
	bool fits = true;
	int ret = 0;

	for (unsigned int i = 0; !ret && i < c->n; i++) {
		struct rampool_check_row *r = &c->r[i];

		if (o->cgroup && r->backing == RAMPOOL_RES_HUGETLB)
			ret = cg_room(pool, o->cgroup, r->page_size,
				      &r->cgroup_room);
		if (!ret)
			ret = grantable(l, t, r, &r->grantable);
		if (ret)
			break;
		if (r->grantable > r->cgroup_room)
			r->grantable = r->cgroup_room;
		if (r->need > r->grantable) {
			r->short_by = r->need - r->grantable;
			fits = false;
			if (r->node != RAMPOOL_NODE_ANY)
				ret = other_node(l, t, r);
		}
	}
	return ret ? ret : fits ? 0 : -ENOSPC;
}

static int check_opts(struct rampool_pool *pool,
		      const struct rampool_check_opts *opts,
		      struct rampool_check_opts *o)
{
	*o = (struct rampool_check_opts){ .sz = sizeof(*o) };
	if (!opts)
		return 0;
	if (OPTS_VALID(opts, struct rampool_check_opts, cgroup)) {
		rp_err(&pool->log, "check: options of an unknown size %zu",
		       opts->sz);
		return -EINVAL;
	}
	o->cgroup = OPTS_GET(opts, cgroup, NULL);
	return 0;
}

int plan_check_run(struct rampool_pool *pool, const struct rampool_plan *plan,
		   const char *cgroup, struct ledger *l, const struct topo *t,
		   struct rampool_check **out)
{
	struct rampool_check_opts o = { .sz = sizeof(o), .cgroup = cgroup };
	struct rampool_check *c = calloc(1, sizeof(*c));
	int ret;

	if (!c)
		return -ENOMEM;
	ret = add_needs(c, plan);
	if (!ret)
		ret = fill(pool, l, t, &o, c);
	if (ret && ret != -ENOSPC) {
		rampool_check_free(c);
		return ret;
	}
	*out = c;
	return ret;
}

int rampool_plan_check(struct rampool_pool *pool,
		       const struct rampool_plan *plan,
		       const struct rampool_check_opts *opts,
		       struct rampool_check **out)
{
	struct rampool_check_opts o;
	struct ledger *l = NULL;
	struct topo *t = NULL;
	int ret;

	if (!pool || !plan || !out)
		return -EINVAL;
	ret = check_opts(pool, opts, &o);
	if (!ret)
		ret = topo_snapshot_flags(pool->sysroot, &pool->log,
					  TOPO_NO_MOUNTS, &t);
	/* a recorded tree is another host: this ledger is not its */
	if (!ret && !strcmp(pool->sysroot, "/")) {
		ret = ledger_open(pool, LEDGER_READ, &l);
		if (ret == -ENOENT) {
			l = NULL;	/* nothing promised yet */
			ret = 0;
		}
	}
	if (!ret)
		ret = plan_check_run(pool, plan, o.cgroup, l, t, out);
	ledger_close(l);
	topo_free(t);
	return ret;
}

unsigned int rampool_check_count(const struct rampool_check *c)
{
	return c ? c->n : 0;
}

int rampool_check_row(const struct rampool_check *c, unsigned int idx,
		      struct rampool_check_row *row)
{
	if (!c || !row)
		return -EINVAL;
	if (idx >= c->n)
		return -ERANGE;
	return info_copy(row, row->sz, &c->r[idx], sizeof(c->r[idx]),
			 OPTS_END(struct rampool_check_row, fits_on));
}

void rampool_check_free(struct rampool_check *c)
{
	if (!c)
		return;
	free(c->r);
	free(c);
}
