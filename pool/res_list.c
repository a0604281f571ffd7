// SPDX-License-Identifier: LGPL-2.1-or-later
/* res_list.c: reading reservations back: list and show, held and owed, open, grow, the pool's usage. */
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
#include "res.h"

struct res_item {
	struct rampool_reservation_info info;
	struct rampool_reservation_node_info *nodes;
	char *name, *path, *group, *block;
};

struct rampool_res_list {
	unsigned int n, cap;
	struct res_item *items;
};

/*
 * Held and owed of one share. Hugetlb: the mount keeps every page of the
 * reservation (and its headroom) reserved to it: all held; pages not yet
 * populated on a bound node are held but unpinned (fact 5). Shmem: only
 * populated pages are held; the rest is owed.
 */
static void share_figures(const struct ledger_row *r, unsigned int i,
			  uint64_t populated,
			  struct rampool_reservation_node_info *ni)
{
	const struct ledger_node *n = &r->nodes[i];
	uint64_t promised = n->size + (i ? 0 : r->extra);

	*ni = (struct rampool_reservation_node_info){ .sz = sizeof(*ni) };
	ni->node = n->node;
	ni->size = n->size;
	ni->populated = populated;
	if (r->backing == RAMPOOL_RES_HUGETLB) {
		/* placed on the node, as far as the file still holds it (a
		 * VMM's discard punched the rest: reserved, not on the node) */
		uint64_t pinned = n->populated < populated ? n->populated
							   : populated;

		/* owed: a block's discard the kernel no longer reserves */
		ni->owed = n->owed < promised ? n->owed : promised;
		ni->held = promised - ni->owed;
		if (n->node != RAMPOOL_NODE_ANY && ni->held > pinned)
			ni->unpinned = ni->held - pinned;
	} else {
		ni->held = populated < promised ? populated : promised;
		ni->owed = promised - ni->held;
	}
}

void res_row_figures(const struct rampool_pool *pool,
		     const struct ledger_row *r,
		     struct rampool_reservation_node_info *nodes)
{
	uint64_t now = res_populated_now(pool, r), left = now, sum = 0;

	for (unsigned int i = 0; i < r->nr_nodes; i++)
		sum += r->nodes[i].populated;
	for (unsigned int i = 0; i < r->nr_nodes; i++) {
		/*
		 * The kernel's count of pages in the file, share by share:
		 * the ledger's figures when they account for every page (a
		 * discard through the library keeps them per share), else
		 * the file's pages laid over the shares in order.
		 */
		uint64_t pop = left < r->nodes[i].size ? left
						       : r->nodes[i].size;

		if (sum == now)
			pop = r->nodes[i].populated;
		left -= pop;
		share_figures(r, i, pop, &nodes[i]);
	}
}

static int add_row(void *ctx, const struct ledger_row *r)
{
	struct rampool_pool *pool = ((void **)ctx)[0];
	struct rampool_res_list *list = ((void **)ctx)[1];
	struct rampool_reservation_info *info;
	struct res_item *it;
	char path[4096] = "";

	if (r->kind == LEDGER_WARM)
		return 0;	/* a warm slot is in no reservation: warm */
	if (list->n == list->cap) {
		unsigned int cap = list->cap ? list->cap * 2 : 16;

		it = realloc(list->items, cap * sizeof(*it));
		if (!it)
			return -ENOMEM;
		list->items = it;
		list->cap = cap;
	}
	it = &list->items[list->n];
	memset(it, 0, sizeof(*it));
	if (r->kind == LEDGER_RESERVATION &&
	    res_file_path(pool, r->backing, r->name, path, sizeof(path)))
		path[0] = 0;
	it->name = strdup(r->name);
	it->path = strdup(path);
	it->group = strdup(r->grp);
	it->block = strdup(r->block);
	it->nodes = calloc(r->nr_nodes ? r->nr_nodes : 1, sizeof(*it->nodes));
	if (!it->name || !it->path || !it->group || !it->block ||
	    !it->nodes) {
		free(it->name);
		free(it->path);
		free(it->group);
		free(it->block);
		free(it->nodes);
		return -ENOMEM;
	}
	info = &it->info;
	*info = (struct rampool_reservation_info){
		.sz = sizeof(*info), .name = it->name, .path = it->path,
		.group = it->group, .block = it->block,
		.backing = (enum rampool_res_backing)r->backing,
		.state = r->state, .owner_uid = (unsigned int)r->uid,
		.pid = r->kind == LEDGER_BLOCK ? r->pid : 0,
		.page_size = r->page_size, .size = r->size,
		.extra = r->extra, .created = r->created,
		.nr_nodes = r->nr_nodes,
		.flags = r->kind == LEDGER_BLOCK ? RAMPOOL_RES_F_BLOCK : 0,
	};
	if (r->flags & LEDGER_F_WARM)
		info->flags |= RAMPOOL_RES_F_WARM;
	if (r->flags & LEDGER_F_POSTCOPY)
		info->flags |= RAMPOOL_RES_F_POSTCOPY;
	if (r->flags & LEDGER_F_POSTCOPY_KEEP)
		info->flags |= RAMPOOL_RES_F_POSTCOPY_KEEP;
	if (r->flags & LEDGER_F_DECLARED)
		info->flags |= RAMPOOL_RES_F_DECLARED;
	res_row_figures(pool, r, it->nodes);
	for (unsigned int i = 0; i < r->nr_nodes; i++) {
		info->held += it->nodes[i].held;
		info->owed += it->nodes[i].owed;
		info->populated += it->nodes[i].populated;
		if (it->nodes[i].unpinned)
			info->flags |= RAMPOOL_RES_F_NODE_UNPINNED;
	}
	list->n++;
	return 0;
}

int rampool_reservation_list(struct rampool_pool *pool, const char *name,
			     struct rampool_res_list **out)
{
	struct rampool_res_list *list;
	struct ledger_row *r = NULL;
	struct ledger *l = NULL;
	void *ctx[2];
	int ret;

	if (!pool || !out || (name && res_name_check(name)))
		return -EINVAL;
	list = calloc(1, sizeof(*list));
	if (!list)
		return -ENOMEM;
	ctx[0] = pool;
	ctx[1] = list;
	ret = geteuid() ? ledger_open(pool, LEDGER_READ, &l)
			: res_open_write(pool, &l);
	if (ret == -ENOENT && !name) {
		*out = list;	/* no ledger yet: nothing reserved */
		return 0;
	}
	if (!ret && name) {
		r = malloc(sizeof(*r));
		ret = r ? ledger_get(l, name, r) : -ENOMEM;
		if (!ret && r->kind == LEDGER_WARM)
			ret = -ENOENT;
		if (!ret)
			ret = add_row(ctx, r);
	} else if (!ret) {
		ret = ledger_each(l, false, add_row, ctx);
	}
	free(r);
	ledger_close(l);
	if (ret) {
		rampool_res_list_free(list);
		return ret;
	}
	*out = list;
	return 0;
}

unsigned int rampool_res_list_count(const struct rampool_res_list *list)
{
	return list ? list->n : 0;
}

int rampool_res_list_get(const struct rampool_res_list *list, unsigned int idx,
			 struct rampool_reservation_info *info)
{
	if (!list || !info)
		return -EINVAL;
	if (idx >= list->n)
		return -ERANGE;
	return info_copy(info, info->sz, &list->items[idx].info,
			 sizeof(list->items[idx].info),
			 sizeof(struct rampool_reservation_info));
}

int rampool_res_list_node(const struct rampool_res_list *list,
			  unsigned int idx, unsigned int k,
			  struct rampool_reservation_node_info *info)
{
	if (!list || !info)
		return -EINVAL;
	if (idx >= list->n || k >= list->items[idx].info.nr_nodes)
		return -ERANGE;
	return info_copy(info, info->sz, &list->items[idx].nodes[k],
			 sizeof(list->items[idx].nodes[k]),
			 sizeof(struct rampool_reservation_node_info));
}

void rampool_res_list_free(struct rampool_res_list *list)
{
	if (!list)
		return;
	for (unsigned int i = 0; i < list->n; i++) {
		free(list->items[i].name);
		free(list->items[i].path);
		free(list->items[i].group);
		free(list->items[i].block);
		free(list->items[i].nodes);
	}
	free(list->items);
	free(list);
}
