// SPDX-License-Identifier: LGPL-2.1-or-later
/* res_use.c: a reservation in use: opened as a block, grown, and the pool's usage per node. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../backend/resmount.h"
#include "../backend/topology.h"
#include "block.h"
#include "opts.h"
#include "res.h"

/* ---- open --------------------------------------------------------------- */

static int open_file(struct rampool_pool *pool, const struct ledger_row *r,
		     int *fd)
{
	char path[4096];
	struct stat st;
	int ret;

	ret = res_file_path(pool, r->backing, r->name, path, sizeof(path));
	if (ret)
		return ret;
	/* a symlink planted at the path is refused, never followed */
	*fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (*fd < 0) {
		ret = -errno;
		rp_err(&pool->log, "open %s: %s", path, strerror(-ret));
		return ret == -ELOOP ? -EPERM : ret;
	}
	if (fstat(*fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != r->uid) {
		rp_err(&pool->log, "%s is not the reservation's file", path);
		close(*fd);
		return -EPERM;
	}
	return 0;
}

/*
 * A VMM that may not read the ledger opens its reservation through the
 * file it was given: the file's owner and mode decide, and the figures
 * come from the file and its mount.
 */
static int row_from_file(struct rampool_pool *pool, const char *name,
			 struct ledger_row *r)
{
	uint64_t used, total, ps;
	char dir[4096];
	struct stat st;

	memset(r, 0, sizeof(*r));
	memcpy(r->name, name, strlen(name) + 1);
	r->kind = LEDGER_RESERVATION;
	r->state = RAMPOOL_RES_STATE_READY;
	r->nr_nodes = 1;
	r->nodes[0].node = RAMPOOL_NODE_ANY;
	r->backing = RAMPOOL_RES_HUGETLB;
	if (!res_mount_dir(pool, name, dir, sizeof(dir)) &&
	    !resmount_usage(dir, res_mops(pool), &used, &total, &ps)) {
		r->page_size = ps;
		r->nodes[0].populated = used * ps;
	} else {
		r->backing = RAMPOOL_RES_SHMEM;
		r->page_size = (uint64_t)sysconf(_SC_PAGESIZE);
	}
	if (res_file_path(pool, r->backing, name, dir, sizeof(dir)))
		return -ENAMETOOLONG;
	/* the mount's mode keeps others out: -EACCES, not "no such" */
	if (lstat(dir, &st))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -ENOENT;
	r->uid = st.st_uid;
	/* a shmem file is seen by anyone (shm/ is 0755): only its owner */
	if (!res_may(r))
		return -EPERM;
	r->size = r->nodes[0].size = (uint64_t)st.st_size;
	if (r->nodes[0].populated > r->size)
		r->nodes[0].populated = r->size;
	return 0;
}

int res_find_row(struct rampool_pool *pool, const char *name,
		 struct ledger_row *r)
{
	struct ledger *l;
	int ret;

	if (res_name_check(name))
		return -EINVAL;
	ret = ledger_open(pool, LEDGER_READ, &l);
	if (ret == -EACCES)
		return row_from_file(pool, name, r);
	if (ret)
		return ret;
	ret = ledger_get(l, name, r);
	ledger_close(l);
	if (!ret && (r->kind != LEDGER_RESERVATION || !res_may(r)))
		ret = r->kind != LEDGER_RESERVATION ? -ENOENT : -EPERM;
	if (!ret && r->state != RAMPOOL_RES_STATE_READY)
		ret = -EBUSY;
	return ret;
}

int rampool_reservation_open(struct rampool_pool *pool, const char *name,
			     struct rampool_block **out)
{
	struct rampool_block *blk;
	struct ledger_row *r;
	int ret, fd = -1;

	if (!pool || !out)
		return -EINVAL;
	r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	ret = res_find_row(pool, name, r);
	if (!ret)
		ret = open_file(pool, r, &fd);
	if (!ret) {
		int nodes[LEDGER_MAX_NODES];
		struct block_attach_spec s = {
			.fd = fd,
			.size = r->size,
			.max_size = r->size + r->extra,
			.page_size = r->page_size,
			.hugetlb = r->backing == RAMPOOL_RES_HUGETLB,
			.nodes = nodes,
			.nr_nodes = r->nr_nodes == 1 &&
					    r->nodes[0].node >= 0 ? 1 : 0,
		};
		uint64_t off = 0;

		nodes[0] = r->nodes[0].node;
		ret = block_attach(pool, &s, &blk);
		for (unsigned int i = 0; !ret && i < r->nr_nodes; i++) {
			block_mark_populated(blk, off, r->nodes[i].populated);
			off += r->nodes[i].size;
		}
		close(fd);
		if (!ret)
			blk->res_mount = s.hugetlb;
	}
	free(r);
	if (!ret)
		*out = blk;
	return ret;
}

/* ---- grow --------------------------------------------------------------- */

/* A reservation's mount and empty file of bytes, or none of them. */
static int remount(struct rampool_pool *pool, const struct ledger_row *r,
		   const char *dir, uint64_t bytes)
{
	int ret, dfd;

	ret = resmount_hugetlbfs(dir, r->page_size, bytes, r->uid, 0,
				 res_mops(pool), &pool->log);
	if (ret)
		return ret;
	dfd = open(dir, O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	ret = dfd < 0 ? -errno :
		resmount_create_file(dfd, RES_FILE, r->uid, (gid_t)-1, bytes,
				     res_mops(pool), &pool->log);
	if (dfd >= 0)
		close(dfd);
	if (ret < 0) {
		resmount_remove(dir, res_mops(pool), &pool->log);
		return ret;
	}
	close(ret);
	return 0;
}

static int grow_beyond(struct rampool_pool *pool, struct ledger *l,
		       struct ledger_row *r, uint64_t more)
{
	struct res_need need = { .node = r->nodes[0].node, .bytes = more };
	uint64_t used;
	struct topo *t;
	char dir[4096];
	int ret;

	if (r->nr_nodes != 1) {
		rp_err(&pool->log, "grow: %s spans %u nodes; grow it per node "
		       "by releasing and reserving", r->name, r->nr_nodes);
		return -EINVAL;
	}
	ret = res_counters(pool, &t);
	if (ret)
		return ret;
	ret = res_check(pool, l, t, r->page_size, r->backing, &need, 1);
	topo_free(t);
	if (ret || r->backing != RAMPOOL_RES_HUGETLB)
		return ret;
	/*
	 * A mount's reserve cannot be resized (a remount keeps the old
	 * min_size, fact 14): an empty reservation gets a new, larger mount;
	 * one holding pages cannot grow past its headroom.
	 */
	ret = res_mount_dir(pool, r->name, dir, sizeof(dir));
	if (ret)
		return ret;
	used = res_populated_now(pool, r) / r->page_size;
	if (used) {
		rp_err(&pool->log, "grow: %s holds %llu pages and its mount "
		       "cannot be enlarged; reserve with --extra for growth",
		       r->name, (unsigned long long)used);
		return -EBUSY;
	}
	ret = resmount_remove(dir, res_mops(pool), &pool->log);
	if (ret)
		return ret;	/* -EBUSY: in use, nothing changed */
	ret = remount(pool, r, dir, r->size + r->extra + more);
	/* the old reserve back (it was empty): nothing changed */
	if (ret && remount(pool, r, dir, r->size + r->extra))
		rp_err(&pool->log, "grow: %s lost its mount; audit --repair "
		       "removes its row", r->name);
	if (ret == -ENOMEM) {
		res_shortfall_add(pool, RAMPOOL_NODE_ANY, r->page_size,
				  r->size + r->extra + more, 0);
		ret = -ENOSPC;
	}
	return ret;
}

int rampool_reservation_grow(struct rampool_pool *pool, const char *name,
			     uint64_t by)
{
	struct ledger_row *r;
	struct ledger *l;
	uint64_t extra, size;
	int ret;

	if (!pool)
		return -EINVAL;
	r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	res_shortfall_clear(pool);
	ret = res_name_check(name) ? -EINVAL : res_open_write(pool, &l);
	if (ret)
		goto out;
	ret = ledger_begin(l);
	if (!ret)
		ret = ledger_get(l, name, r);
	if (!ret && (r->kind != LEDGER_RESERVATION || !res_may(r)))
		ret = r->kind != LEDGER_RESERVATION ? -ENOENT : -EPERM;
	if (!ret && r->state != RAMPOOL_RES_STATE_READY) {
		rp_err(&pool->log, "grow: %s is still being made by pid %d",
		       name, r->pid);
		ret = -EBUSY;
	}
	if (!ret && (!by || by % r->page_size || by > UINT64_MAX / 4)) {
		rp_err(&pool->log, "grow: %llu is not a non-zero multiple of "
		       "%llu", (unsigned long long)by,
		       (unsigned long long)r->page_size);
		ret = -EINVAL;
	}
	if (!ret && by > r->extra)
		ret = grow_beyond(pool, l, r, by - r->extra);
	if (!ret) {
		extra = by > r->extra ? 0 : r->extra - by;
		size = r->size + by;
		ret = ledger_set_size(l, r->id, size, extra, r->nodes[0].node,
				      r->nodes[0].size + by);
	}
	if (!ret && r->backing == RAMPOOL_RES_SHMEM) {
		char path[4096];

		ret = res_file_path(pool, r->backing, name, path,
				    sizeof(path));
		if (!ret && truncate(path, (off_t)(size + extra)))
			ret = -errno;
	}
	if (!ret)
		ret = ledger_commit(l);
	else
		ledger_rollback(l);
	ledger_close(l);
out:
	free(r);
	return ret;
}

/* ---- usage per node and page size --------------------------------------- */

struct rampool_usage {
	unsigned int n, cap;
	struct rampool_pool_usage *u;
};

static struct rampool_pool_usage *usage_slot(struct rampool_usage *u,
					     uint64_t ps, int node)
{
	for (unsigned int i = 0; i < u->n; i++)
		if (u->u[i].page_size == ps && u->u[i].node == node)
			return &u->u[i];
	if (u->n == u->cap) {
		unsigned int cap = u->cap ? u->cap * 2 : 16;
		struct rampool_pool_usage *nu;

		nu = realloc(u->u, cap * sizeof(*nu));
		if (!nu)
			return NULL;
		u->u = nu;
		u->cap = cap;
	}
	u->u[u->n] = (struct rampool_pool_usage){
		.sz = sizeof(struct rampool_pool_usage),
		.node = node, .page_size = ps,
	};
	return &u->u[u->n++];
}

static int add_row(void *ctx, const struct ledger_row *r)
{
	struct rampool_pool *pool = ((void **)ctx)[0];
	struct rampool_usage *u = ((void **)ctx)[1];
	struct rampool_reservation_node_info nodes[LEDGER_MAX_NODES];

	res_row_figures(pool, r, nodes);
	for (unsigned int i = 0; i < r->nr_nodes; i++) {
		struct rampool_pool_usage *s;

		s = usage_slot(u, r->page_size, r->nodes[i].node);
		if (!s)
			return -ENOMEM;
		if (r->kind == LEDGER_WARM) {
			/* held for the warm pool, in no reservation */
			s->warm += r->nodes[i].size;
			continue;
		}
		/* the headroom is promised with the first share */
		s->reserved += r->nodes[i].size + (i ? 0 : r->extra);
		s->held += nodes[i].held;
		s->owed += nodes[i].owed;
		s->unpinned += nodes[i].unpinned;
	}
	return 0;
}

static int usage_fill(struct rampool_pool *pool, struct rampool_usage *u)
{
	uint64_t base = (uint64_t)sysconf(_SC_PAGESIZE);
	struct ledger *l = NULL;
	struct topo *t = NULL;
	int ret;

	ret = ledger_open(pool, LEDGER_READ, &l);
	if (ret && ret != -ENOENT)
		return ret;
	if (ret)
		l = NULL;	/* no ledger yet: nothing promised */
	/*
	 * Row by row, not the ledger's sums: each reservation's file is
	 * measured (one stat each), so what a VMM discarded through the
	 * path shows here as it does in show.
	 */
	ret = l ? ledger_each(l, false, add_row, (void *[]){ pool, u }) : 0;
	if (!ret && !strcmp(pool->sysroot, "/"))
		ret = res_counters(pool, &t);
	else if (!ret)
		ret = topo_snapshot_flags(pool->sysroot, &pool->log,
					  TOPO_NO_MOUNTS, &t);
	for (unsigned int i = 0; !ret && i <= t->nr_sizes; i++) {
		uint64_t ps = i < t->nr_sizes ? t->sizes[i] : base;
		int backing = i < t->nr_sizes ? RAMPOOL_RES_HUGETLB
					      : RAMPOOL_RES_SHMEM;

		for (unsigned int k = 0; !ret && k < t->nr_nodes; k++) {
			struct rampool_pool_usage *s;

			s = usage_slot(u, ps, t->nodes[k].id);
			ret = s ? res_grantable(l, t, ps, backing, s->node,
						&s->avail) : -ENOMEM;
		}
	}
	/* rows on no node: what a reservation on no node could get */
	for (unsigned int i = 0; !ret && i < u->n; i++) {
		struct rampool_pool_usage *s = &u->u[i];

		if (s->node == RAMPOOL_NODE_ANY)
			ret = res_grantable(l, t, s->page_size,
					    s->page_size == base ?
						    RAMPOOL_RES_SHMEM :
						    RAMPOOL_RES_HUGETLB,
					    RAMPOOL_NODE_ANY, &s->avail);
	}
	ledger_close(l);
	topo_free(t);
	return ret;
}

int rampool_usage_get(struct rampool_pool *pool, struct rampool_usage **out)
{
	struct rampool_usage *u;
	int ret;

	if (!pool || !out)
		return -EINVAL;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	ret = usage_fill(pool, u);
	if (ret) {
		rampool_usage_free(u);
		return ret;
	}
	*out = u;
	return 0;
}

unsigned int rampool_usage_count(const struct rampool_usage *u)
{
	return u ? u->n : 0;
}

int rampool_usage_at(const struct rampool_usage *u, unsigned int idx,
		     struct rampool_pool_usage *info)
{
	if (!u || !info)
		return -EINVAL;
	if (idx >= u->n)
		return -ERANGE;
	/* callers of 0.2-0.4 know the struct up to avail */
	return info_copy(info, info->sz, &u->u[idx], sizeof(u->u[idx]),
			 OPTS_END(struct rampool_pool_usage, avail));
}

void rampool_usage_free(struct rampool_usage *u)
{
	if (!u)
		return;
	free(u->u);
	free(u);
}
