// SPDX-License-Identifier: LGPL-2.1-or-later
/* audit.c: the ledger against the pool's files and mounts and the kernel's counters. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../backend/resmount.h"
#include "../backend/topology.h"
#include "res.h"

struct drift_item {
	struct rampool_drift d;
	char *what, *msg;
};

struct rampool_audit {
	unsigned int n, cap;
	struct drift_item *items;
};

struct audit_ctx {
	struct rampool_pool *pool;
	struct ledger *l;
	struct rampool_audit *a;
	bool repair;
	const struct topo *t;
	/* per page size index: our pages explained host-wide, used on each
	 * node (bound rows), used anywhere (unbound), unpinned per node */
	uint64_t explained[TOPO_MAX_SIZES];
	uint64_t used_any[TOPO_MAX_SIZES];
	uint64_t *used_node;	/* [nr_sizes * nr_nodes] */
	uint64_t *unpinned_node;
};

__attribute__((format(printf, 7, 8)))
static int drift(struct audit_ctx *c, enum rampool_drift_kind kind,
		 const char *what, int node, uint64_t ps, uint64_t bytes,
		 const char *fmt, ...)
{
	struct rampool_audit *a = c->a;
	struct drift_item *it;
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (a->n == a->cap) {
		unsigned int cap = a->cap ? a->cap * 2 : 8;

		it = realloc(a->items, cap * sizeof(*it));
		if (!it)
			return -ENOMEM;
		a->items = it;
		a->cap = cap;
	}
	it = &a->items[a->n];
	it->what = strdup(what);
	it->msg = strdup(msg);
	if (!it->what || !it->msg) {
		free(it->what);
		free(it->msg);
		return -ENOMEM;
	}
	it->d = (struct rampool_drift){
		.sz = sizeof(it->d), .kind = kind, .what = it->what,
		.node = node, .page_size = ps, .bytes = bytes,
		.message = it->msg,
	};
	a->n++;
	return 0;
}

static void repaired(struct audit_ctx *c, int ret)
{
	if (!ret && c->a->n)
		c->a->items[c->a->n - 1].d.repaired = 1;
}

static int node_idx(const struct topo *t, int node)
{
	for (unsigned int k = 0; k < t->nr_nodes; k++)
		if (t->nodes[k].id == node)
			return (int)k;
	return -1;
}

/* What one row explains of the kernel's hugetlb counters. */
static void account(struct audit_ctx *c, const struct ledger_row *r)
{
	int i = topo_size_index(c->t, r->page_size);
	uint64_t pages = (r->size + r->extra) / r->page_size;
	uint64_t used = res_populated_now(c->pool, r) / r->page_size;

	if (r->backing != RAMPOOL_RES_HUGETLB || i < 0)
		return;
	c->explained[i] += pages > used ? pages : used;
	/*
	 * A block's pages, and those of a reservation being populated (the
	 * kernel takes a page off the free count before the file counts it),
	 * are counted as in use.
	 */
	if (r->kind == LEDGER_BLOCK || r->state == RAMPOOL_RES_STATE_PENDING)
		used = pages;
	for (unsigned int k = 0; k < r->nr_nodes; k++) {
		const struct ledger_node *n = &r->nodes[k];
		int ni = node_idx(c->t, n->node);
		uint64_t np = n->size / r->page_size, u = used < np ? used : np;
		uint64_t pinned;

		if (r->nr_nodes == 1)
			u = used;
		used -= u;
		if (ni < 0) {
			c->used_any[i] += u;
			continue;
		}
		c->used_node[i * c->t->nr_nodes + (unsigned int)ni] += u;
		/*
		 * On the node: what the row placed there, as far as the file
		 * still holds it (a VMM's discard punched the rest, which
		 * the mount keeps reserved but not on the node).
		 */
		pinned = n->populated / r->page_size;
		if (pinned > u)
			pinned = u;
		if (pinned < np)
			c->unpinned_node[i * c->t->nr_nodes + (unsigned int)ni] +=
				np - pinned;
	}
}

static int check_row(void *ctx, const struct ledger_row *r)
{
	struct audit_ctx *c = ctx;
	char path[4096];
	struct stat st;
	int ret;

	/* a dead scrubber's slot is just dirty (recovery clears its pid) */
	if (ledger_owner_dead(r) &&
	    !(r->kind == LEDGER_WARM && r->state == LEDGER_WARM_DIRTY)) {
		ret = drift(c, RAMPOOL_DRIFT_DEAD_OWNER, r->name, r->nodes[0].node,
			    r->page_size, r->size, "%s: its owner (pid %d) "
			    "died", r->name, r->pid);
		if (!ret && c->repair)
			repaired(c, res_destroy(c->pool, c->l, r));
		return ret;
	}
	account(c, r);
	if (r->kind == LEDGER_BLOCK)
		return 0;	/* its file went with its process */
	ret = res_file_path(c->pool, r->backing, r->name, path, sizeof(path));
	if (ret)
		return ret;
	if (lstat(path, &st) || !S_ISREG(st.st_mode) ||
	    (r->backing == RAMPOOL_RES_HUGETLB &&
	     !resmount_is_hugetlbfs(path, res_mops(c->pool)))) {
		ret = drift(c, RAMPOOL_DRIFT_MISSING_FILE, r->name, -1,
			    r->page_size, r->size, "%s: the row has no file "
			    "(or mount) at %s", r->name, path);
		if (!ret && c->repair)
			repaired(c, res_destroy(c->pool, c->l, r));
		return ret;
	}
	if ((uint64_t)st.st_size > r->size + r->extra)
		ret = drift(c, RAMPOOL_DRIFT_OVERGROWN, r->name, -1,
			    r->page_size,
			    (uint64_t)st.st_size - r->size - r->extra,
			    "%s: the file grew to %lld bytes behind the "
			    "ledger (%llu granted)", r->name,
			    (long long)st.st_size,
			    (unsigned long long)(r->size + r->extra));
	return ret;
}

/* Entries of the pool's directories that no row explains. */
/* A warm slot "@NAME" is mounted at warm/NAME: prefix "@" there. */
static int check_dir(struct audit_ctx *c, const char *sub, bool mounts,
		     const char *prefix)
{
	char name[RAMPOOL_NAME_MAX + 32];
	struct ledger_row *r = malloc(sizeof(*r));
	char dir[4096], path[4096 + 256];
	struct dirent *d;
	int ret = 0;
	DIR *dp;

	if (!r)
		return -ENOMEM;
	snprintf(dir, sizeof(dir), "%s/%s", c->pool->state_dir, sub);
	dp = opendir(dir);
	while (dp && !ret && (d = readdir(dp))) {
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		snprintf(name, sizeof(name), "%s%.*s", prefix,
			 RAMPOOL_NAME_MAX + 8, d->d_name);
		if (!res_name_check(name) && c->l &&
		    ledger_get(c->l, name, r) != -ENOENT)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		ret = drift(c, mounts ? RAMPOOL_DRIFT_ORPHAN_MOUNT
				      : RAMPOOL_DRIFT_ORPHAN_FILE,
			    path, -1, 0, 0, "%s: no reservation in the "
			    "ledger", path);
		if (!ret && c->repair)
			repaired(c, mounts ? resmount_remove(path,
					res_mops(c->pool), &c->pool->log)
					   : unlink(path) ? -errno : 0);
	}
	if (dp)
		closedir(dp);
	free(r);
	return ret;
}

/* Kernel pages no row explains: foreign, per node and host-wide. */
static int check_kernel(struct audit_ctx *c)
{
	const struct topo *t = c->t;
	int ret = 0;

	for (unsigned int i = 0; !ret && i < t->nr_sizes; i++) {
		const struct topo_hcount *g = &t->global[i];
		uint64_t ps = t->sizes[i], taken = g->total - g->free + g->resv;

		if (taken > c->explained[i])
			ret = drift(c, RAMPOOL_DRIFT_FOREIGN, "host",
				    RAMPOOL_NODE_ANY, ps,
				    (taken - c->explained[i]) * ps,
				    "%llu pages of %llu bytes in use or "
				    "reserved host-wide that no row explains",
				    (unsigned long long)(taken - c->explained[i]),
				    (unsigned long long)ps);
		for (unsigned int k = 0; !ret && k < t->nr_nodes; k++) {
			const struct topo_hcount *h = &t->nodes[k].hp[i];
			uint64_t used = h->total - h->free;
			uint64_t ours = c->used_node[i * t->nr_nodes + k] +
					c->used_any[i];
			uint64_t unp = c->unpinned_node[i * t->nr_nodes + k];

			if (used > ours)
				ret = drift(c, RAMPOOL_DRIFT_FOREIGN, "node",
					    t->nodes[k].id, ps,
					    (used - ours) * ps,
					    "node %d: %llu pages of %llu bytes "
					    "in use that no row explains",
					    t->nodes[k].id,
					    (unsigned long long)(used - ours),
					    (unsigned long long)ps);
			if (!ret && h->free < unp)
				ret = drift(c, RAMPOOL_DRIFT_UNPINNED_SHORT,
					    "node", t->nodes[k].id, ps,
					    (unp - h->free) * ps,
					    "node %d: %llu free pages, below "
					    "the %llu held there unpinned",
					    t->nodes[k].id,
					    (unsigned long long)h->free,
					    (unsigned long long)unp);
		}
	}
	return ret;
}

/*
 * Under the ledger's lock when the caller may take it (root): rows, mounts
 * and the kernel's counters are then read while no reservation is being
 * made (a mount made but its row not yet committed would look orphan).
 * A reservation being populated is pending: its pages count as in use.
 */
/* c->l NULL: no ledger yet (nothing promised); files and mounts are then
 * all orphans, and the kernel is compared with nothing held. */
static int audit_fill(struct audit_ctx *c)
{
	struct topo *t = NULL;
	int ret = c->l ? ledger_begin(c->l) : 0;

	if (ret)
		return ret;
	ret = res_counters(c->pool, &t);
	if (!ret) {
		c->t = t;
		c->used_node = calloc((size_t)t->nr_sizes * t->nr_nodes + 1, 8);
		c->unpinned_node = calloc((size_t)t->nr_sizes * t->nr_nodes + 1,
					  8);
		if (!c->used_node || !c->unpinned_node)
			ret = -ENOMEM;
	}
	if (!ret && c->l)
		ret = ledger_each(c->l, false, check_row, c);
	if (!ret)
		ret = check_dir(c, RES_MNT_DIR, true, "");
	if (!ret)
		ret = check_dir(c, RES_WARM_DIR, true, "@");
	if (!ret)
		ret = check_dir(c, RES_SHM_DIR, false, "");
	if (!ret)
		ret = check_kernel(c);
	if (!ret && c->l && ledger_check_totals(c->l) == -EUCLEAN)
		rp_warn(&c->pool->log, "ledger: the sums disagree with the "
			"rows");
	if (c->l && !ret && c->repair)
		ret = ledger_commit(c->l);
	else if (c->l)
		ledger_rollback(c->l);
	free(c->used_node);
	free(c->unpinned_node);
	topo_free(t);
	return ret;
}

int rampool_audit_run(struct rampool_pool *pool, unsigned int flags,
		      struct rampool_audit **out)
{
	struct audit_ctx c = { .pool = pool,
			       .repair = flags & RAMPOOL_AUDIT_REPAIR };
	int ret;

	if (!pool || !out || flags & ~RAMPOOL_AUDIT_REPAIR)
		return -EINVAL;
	c.a = calloc(1, sizeof(*c.a));
	if (!c.a)
		return -ENOMEM;
	/*
	 * Root takes the writers' lock (to read, or to repair); an audit
	 * that repairs nothing makes no ledger where there is none.
	 */
	if (c.repair)
		ret = res_open_write(pool, &c.l);
	else if (!ledger_exists(pool))
		ret = -ENOENT;
	else
		ret = ledger_open(pool, geteuid() ? LEDGER_READ : LEDGER_WRITE,
				  &c.l);
	if (ret == -ENOENT && !c.repair) {
		/* no ledger yet: audit what there is, make nothing */
		c.l = NULL;
		ret = 0;
	} else if (ret == -ENOENT) {
		ret = ledger_open(pool, LEDGER_WRITE, &c.l);
	}
	if (!ret)
		ret = audit_fill(&c);
	ledger_close(c.l);
	if (ret) {
		rampool_audit_free(c.a);
		return ret;
	}
	*out = c.a;
	return 0;
}

unsigned int rampool_audit_count(const struct rampool_audit *a)
{
	return a ? a->n : 0;
}

int rampool_audit_get(const struct rampool_audit *a, unsigned int idx,
		      struct rampool_drift *info)
{
	if (!a || !info)
		return -EINVAL;
	if (idx >= a->n)
		return -ERANGE;
	return info_copy(info, info->sz, &a->items[idx].d,
			 sizeof(a->items[idx].d), sizeof(struct rampool_drift));
}

void rampool_audit_free(struct rampool_audit *a)
{
	if (!a)
		return;
	for (unsigned int i = 0; i < a->n; i++) {
		free(a->items[i].what);
		free(a->items[i].msg);
	}
	free(a->items);
	free(a);
}
