// SPDX-License-Identifier: LGPL-2.1-or-later
/* pages.c: the kernel's hugepage pool per node, never below what the ledger holds there: rampool_hugepages_set. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../backend/sysfs.h"
#include "../backend/topology.h"
#include "ledger.h"
#include "opts.h"
#include "res.h"

#define PAGES_MAX_REQ 1024
/* 2^40 pages of 4K would be 4 EiB: no kernel has it; a typo does */
#define PAGES_MAX_COUNT (1ull << 40)

struct rampool_hugepages {
	unsigned int n;
	struct rampool_hugepages_row *rows;
	char **held;			/* [n], each row's held_by */
	bool ready;			/* rows filled: they may go out */
};

/* A growing "a 3, b 4" list of names. */
struct names {
	char *s;
	size_t len, cap;
};

static int names_add(struct names *nm, const char *fmt_name, uint64_t pages,
		     bool block)
{
	int need = snprintf(NULL, 0, "%s%s%s %llu", nm->len ? ", " : "",
			    block ? "block " : "", fmt_name,
			    (unsigned long long)pages);

	if (nm->len + (size_t)need + 1 > nm->cap) {
		size_t cap = (nm->len + (size_t)need + 1) * 2;
		char *s = realloc(nm->s, cap);

		if (!s)
			return -ENOMEM;
		nm->s = s;
		nm->cap = cap;
	}
	snprintf(nm->s + nm->len, nm->cap - nm->len, "%s%s%s %llu",
		 nm->len ? ", " : "", block ? "block " : "", fmt_name,
		 (unsigned long long)pages);
	nm->len += (size_t)need;
	return 0;
}

/* What the ledger holds of page_size per requested node, and unbound. */
struct floors {
	uint64_t page_size;
	const struct rampool_hugepages_req *req;
	unsigned int n;
	uint64_t *floor;		/* [n] pages */
	struct names *names;		/* [n] */
	uint64_t any;			/* pages of rows bound to no node */
	struct names any_names;
};

static int floor_row(void *ctx, const struct ledger_row *r)
{
	struct floors *f = ctx;

	if (r->backing != RAMPOOL_RES_HUGETLB || r->page_size != f->page_size)
		return 0;
	for (unsigned int i = 0; i < r->nr_nodes; i++) {
		const struct ledger_node *ln = &r->nodes[i];
		/* the extra headroom is counted on the first share (ledger) */
		uint64_t bytes = ln->size + (i ? 0 : r->extra);
		uint64_t pages = (bytes + f->page_size - 1) / f->page_size;
		bool block = r->kind == LEDGER_BLOCK;
		int ret = 0;

		if (!pages)
			continue;
		if (ln->node == RAMPOOL_NODE_ANY) {
			f->any += pages;
			ret = names_add(&f->any_names, r->name, pages, block);
		}
		for (unsigned int j = 0; !ret && j < f->n; j++) {
			if (f->req[j].node != ln->node)
				continue;
			f->floor[j] += pages;
			ret = names_add(&f->names[j], r->name, pages, block);
		}
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- checks ------------------------------------------------------------ */

static int check_args(struct rampool_pool *pool, uint64_t page_size,
		      const struct rampool_hugepages_req *req, unsigned int n,
		      unsigned int flags)
{
	if (!req || !n || n > PAGES_MAX_REQ) {
		rp_err(&pool->log, "pages: %u nodes given (1 to %u)", req ? n : 0,
		       PAGES_MAX_REQ);
		return -EINVAL;
	}
	if (flags & ~RAMPOOL_HUGEPAGES_DRY_RUN) {
		rp_err(&pool->log, "pages: unknown flags 0x%x", flags);
		return -EINVAL;
	}
	if (!page_size || (page_size & (page_size - 1)) || page_size < 4096) {
		rp_err(&pool->log, "pages: page size %llu is not a power of "
		       "two of at least 4096", (unsigned long long)page_size);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < n; i++) {
		if (req[i].count > PAGES_MAX_COUNT) {
			rp_err(&pool->log, "pages: %llu pages on node %d: more "
			       "than 2^40", (unsigned long long)req[i].count,
			       req[i].node);
			return -EINVAL;
		}
		for (unsigned int j = 0; j < i; j++)
			if (req[j].node == req[i].node) {
				rp_err(&pool->log, "pages: node %d given twice",
				       req[i].node);
				return -EINVAL;
			}
	}
	return 0;
}

/* Every node exists and has memory, and the kernel has the page size. */
static int check_topo(struct rampool_pool *pool, const struct topo *t,
		      uint64_t page_size,
		      const struct rampool_hugepages_req *req, unsigned int n)
{
	if (topo_size_index(t, page_size) < 0) {
		rp_err(&pool->log, "pages: the kernel has no %llu kB hugepages",
		       (unsigned long long)(page_size >> 10));
		return -EINVAL;
	}
	for (unsigned int i = 0; i < n; i++) {
		const struct topo_node *tn = topo_node_by_id(t, req[i].node);

		if (!tn) {
			rp_err(&pool->log, "pages: no node %d", req[i].node);
			return -EINVAL;
		}
		if (!(tn->flags & RAMPOOL_NODE_F_HAS_MEMORY)) {
			rp_err(&pool->log, "pages: node %d has no memory "
			       "(memoryless): it can hold no hugepages",
			       req[i].node);
			return -EINVAL;
		}
	}
	return 0;
}

/* Refuses every count below its floor, and a sum below every floor. */
static int check_floors(struct rampool_pool *pool, const struct topo *t,
			int si, struct rampool_hugepages *h,
			const struct floors *f)
{
	uint64_t sum = 0, need = f->any;
	int ret = 0;

	for (unsigned int i = 0; i < h->n; i++) {
		struct rampool_hugepages_row *r = &h->rows[i];

		if (r->asked >= r->floor)
			continue;
		r->flags |= RAMPOOL_HUGEPAGES_F_REFUSED;
		rp_err(&pool->log, "pages: node %d: refused: %llu pages is "
		       "below the %llu the pool holds there (%s)", r->node,
		       (unsigned long long)r->asked,
		       (unsigned long long)r->floor, h->held[i]);
		ret = -EBUSY;
	}
	if (ret || !f->any)
		return ret;
	/* rows bound to no node may be anywhere: the host's sum holds them */
	for (unsigned int k = 0; k < t->nr_nodes; k++) {
		uint64_t pages = t->nodes[k].hp[si].total;

		for (unsigned int i = 0; i < h->n; i++)
			if (h->rows[i].node == t->nodes[k].id)
				pages = h->rows[i].asked;
		sum += pages;
	}
	for (unsigned int i = 0; i < h->n; i++)
		need += h->rows[i].floor;
	if (sum >= need)
		return 0;
	for (unsigned int i = 0; i < h->n; i++)
		if (h->rows[i].asked < h->rows[i].before)
			h->rows[i].flags |= RAMPOOL_HUGEPAGES_F_REFUSED;
	rp_err(&pool->log, "pages: refused: %llu pages on all nodes is below "
	       "the %llu the pool holds (%s on no one node)",
	       (unsigned long long)sum, (unsigned long long)need,
	       f->any_names.s ? f->any_names.s : "");
	return -EBUSY;
}

/* ---- the kernel's files -------------------------------------------------- */

static int node_file(const struct topo *t, int node, uint64_t page_size,
		     char *buf, size_t len)
{
	int n;

	if (t->numa)
		n = snprintf(buf, len, "sys/devices/system/node/node%d/"
			     "hugepages/hugepages-%llukB/nr_hugepages", node,
			     (unsigned long long)(page_size >> 10));
	else
		n = snprintf(buf, len, "sys/kernel/mm/hugepages/"
			     "hugepages-%llukB/nr_hugepages",
			     (unsigned long long)(page_size >> 10));
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Writes one node's count and reads back what the kernel gave. */
static int write_node(struct rampool_pool *pool, struct sysfs *s,
		      const struct topo *t, struct rampool_hugepages_row *r)
{
	char rel[256];
	uint64_t got;
	int ret = node_file(t, r->node, r->page_size, rel, sizeof(rel));

	if (!ret)
		ret = sysfs_write_u64(s, rel, r->asked);
	if (ret)
		return ret;
	r->flags |= RAMPOOL_HUGEPAGES_F_WRITTEN;
	ret = sysfs_read_u64(s, rel, &got);
	if (ret)
		return ret;
	r->got = got;
	if (got < r->asked) {
		r->flags |= RAMPOOL_HUGEPAGES_F_SHORT;
		rp_err(&pool->log, "asked %llu on node %d, got %llu",
		       (unsigned long long)r->asked, r->node,
		       (unsigned long long)got);
		return -ENOMEM;
	}
	if (got > r->asked) {
		/* the kernel frees no page in use or reserved (fact 14) */
		r->flags |= RAMPOOL_HUGEPAGES_F_KEPT;
		rp_err(&pool->log, "asked %llu on node %d, the kernel kept "
		       "%llu (pages in use or reserved outside the pool's "
		       "rows on this node)", (unsigned long long)r->asked,
		       r->node, (unsigned long long)got);
		return -EBUSY;
	}
	rp_info(&pool->log, "pages: node %d: %llu -> %llu",
		r->node, (unsigned long long)r->before,
		(unsigned long long)got);
	return 0;
}

/* Every node in req's order; a short one does not stop the others. */
static int write_all(struct rampool_pool *pool, struct sysfs *s,
		     const struct topo *t, struct rampool_hugepages *h)
{
	int ret = 0;

	for (unsigned int i = 0; i < h->n; i++) {
		int r = write_node(pool, s, t, &h->rows[i]);

		if (r == -ENOMEM || r == -EBUSY) {
			if (ret != -ENOMEM)
				ret = r;
			continue;
		}
		if (r)
			return r;
	}
	return ret;
}

/* ---- the call ------------------------------------------------------------ */

static void hugepages_free_n(struct rampool_hugepages *h)
{
	if (!h)
		return;
	for (unsigned int i = 0; h->held && i < h->n; i++)
		free(h->held[i]);
	free(h->held);
	free(h->rows);
	free(h);
}

static struct rampool_hugepages *hugepages_alloc(unsigned int n)
{
	struct rampool_hugepages *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->n = n;
	h->rows = calloc(n, sizeof(*h->rows));
	h->held = calloc(n, sizeof(*h->held));
	if (!h->rows || !h->held) {
		hugepages_free_n(h);
		return NULL;
	}
	return h;
}

/* The rows before any write, with their floors from the ledger l. */
static int rows_fill(struct ledger *l, const struct topo *t,
		     uint64_t page_size,
		     const struct rampool_hugepages_req *req,
		     struct rampool_hugepages *h, struct floors *f)
{
	int si = topo_size_index(t, page_size);
	int ret = l ? ledger_each(l, false, floor_row, f) : 0;

	for (unsigned int i = 0; !ret && i < h->n; i++) {
		const struct topo_node *tn = topo_node_by_id(t, req[i].node);
		struct rampool_hugepages_row *r = &h->rows[i];

		r->sz = sizeof(*r);
		r->node = req[i].node;
		r->page_size = page_size;
		r->before = r->got = tn->hp[si].total;
		r->asked = req[i].count;
		r->floor = f->floor[i];
		h->held[i] = f->names[i].s ? f->names[i].s : strdup("");
		f->names[i].s = NULL;
		if (!h->held[i])
			ret = -ENOMEM;
		r->held_by = h->held[i];
	}
	return ret;
}

static int read_topo(struct rampool_pool *pool, struct sysfs *s,
		     struct topo **t)
{
	int ret = -EAGAIN;

	for (int i = 0; i < 5 && ret == -EAGAIN; i++)
		ret = topo_read_flags(s, TOPO_NO_MOUNTS, t);
	if (ret == -EAGAIN)
		rp_err(&pool->log, "pages: the kernel's counters kept changing");
	return ret;
}

/* The ledger: locked for a write, read (if there is one) for a dry run. */
static int open_ledger(struct rampool_pool *pool, bool dry,
		       struct ledger **l)
{
	int ret;

	*l = NULL;
	if (dry) {
		if (!ledger_exists(pool))
			return 0;
		ret = ledger_open(pool, LEDGER_READ, l);
		return ret == -ENOENT ? 0 : ret;
	}
	ret = res_open_write(pool, l);
	if (ret)
		return ret;
	/* no reservation may be made between the check and the writes */
	ret = ledger_begin(*l);
	if (ret) {
		ledger_close(*l);
		*l = NULL;
	}
	return ret;
}

static int floors_init(struct floors *f, uint64_t page_size,
		       const struct rampool_hugepages_req *req, unsigned int n)
{
	memset(f, 0, sizeof(*f));
	f->page_size = page_size;
	f->req = req;
	f->n = n;
	f->floor = calloc(n, sizeof(*f->floor));
	f->names = calloc(n, sizeof(*f->names));
	return f->floor && f->names ? 0 : -ENOMEM;
}

static void floors_free(struct floors *f)
{
	for (unsigned int i = 0; f->names && i < f->n; i++)
		free(f->names[i].s);
	free(f->names);
	free(f->floor);
	free(f->any_names.s);
}

/* Checks and writes with the kernel's files open and the ledger held. */
static int pages_run(struct rampool_pool *pool, struct sysfs *s,
		     struct ledger *l, uint64_t page_size,
		     const struct rampool_hugepages_req *req,
		     unsigned int flags, struct rampool_hugepages *h)
{
	struct topo *t = NULL;
	struct floors f;
	int ret = read_topo(pool, s, &t);

	if (!ret)
		ret = check_topo(pool, t, page_size, req, h->n);
	if (!ret)
		ret = floors_init(&f, page_size, req, h->n);
	if (ret)
		goto out_topo;
	ret = rows_fill(l, t, page_size, req, h, &f);
	h->ready = !ret;
	if (!ret)
		ret = check_floors(pool, t, topo_size_index(t, page_size), h,
				   &f);
	if (!ret && !(flags & RAMPOOL_HUGEPAGES_DRY_RUN))
		ret = write_all(pool, s, t, h);
	floors_free(&f);
out_topo:
	topo_free(t);
	return ret;
}

int rampool_hugepages_set(struct rampool_pool *pool, uint64_t page_size,
			  const struct rampool_hugepages_req *req,
			  unsigned int n, unsigned int flags,
			  struct rampool_hugepages **out)
{
	bool dry = flags & RAMPOOL_HUGEPAGES_DRY_RUN;
	struct rampool_hugepages *h;
	struct ledger *l = NULL;
	struct sysfs *s = NULL;
	int ret;

	if (!pool)
		return -EINVAL;
	ret = check_args(pool, page_size, req, n, flags);
	if (ret)
		return ret;
	if (!dry && geteuid()) {
		rp_err(&pool->log, "pages: only root sets the kernel's pool");
		return -EPERM;
	}
	h = hugepages_alloc(n);
	if (!h)
		return -ENOMEM;
	ret = sysfs_open(pool->sysroot, pool->sysfs_ops, &pool->log, &s);
	if (!ret)
		ret = open_ledger(pool, dry, &l);
	if (!ret)
		ret = pages_run(pool, s, l, page_size, req, flags, h);
	if (l) {
		/* nothing of the ledger changed: only its lock was wanted */
		if (!dry)
			ledger_rollback(l);
		ledger_close(l);
	}
	sysfs_close(s);
	/* rows that say what happened go out with -EBUSY and -ENOMEM */
	if (out && h->ready && (!ret || ret == -EBUSY || ret == -ENOMEM))
		*out = h;
	else
		hugepages_free_n(h);
	return ret;
}

unsigned int rampool_hugepages_count(const struct rampool_hugepages *h)
{
	return h ? h->n : 0;
}

int rampool_hugepages_row(const struct rampool_hugepages *h,
			  unsigned int idx, struct rampool_hugepages_row *row)
{
	if (!h || !row)
		return -EINVAL;
	if (idx >= h->n)
		return -ERANGE;
	return info_copy(row, row->sz, &h->rows[idx], sizeof(h->rows[idx]),
			 OPTS_END(struct rampool_hugepages_row, held_by));
}

void rampool_hugepages_free(struct rampool_hugepages *h)
{
	hugepages_free_n(h);
}
