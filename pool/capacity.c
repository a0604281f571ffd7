// SPDX-License-Identifier: LGPL-2.1-or-later
/* capacity.c: the public snapshot of the kernel's memory counters. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../backend/topology.h"
#include "pool.h"

struct rampool_capacity {
	struct topo *topo;
};

int rampool_capacity_get(struct rampool_pool *pool,
			 struct rampool_capacity **out)
{
	struct rampool_capacity *cap;
	int ret;

	if (!pool || !out)
		return -EINVAL;
	cap = calloc(1, sizeof(*cap));
	if (!cap)
		return -ENOMEM;
	ret = topo_snapshot(pool->sysroot, &pool->log, &cap->topo);
	if (ret)
		goto out_free;
	*out = cap;
	return 0;
out_free:
	free(cap);
	return ret;
}

void rampool_capacity_free(struct rampool_capacity *cap)
{
	if (!cap)
		return;
	topo_free(cap->topo);
	free(cap);
}

unsigned int rampool_capacity_node_count(const struct rampool_capacity *cap)
{
	return cap->topo->nr_nodes;
}

#define MIN_SZ(type, last) (offsetof(type, last) + sizeof(((type *)0)->last))

int rampool_capacity_node(const struct rampool_capacity *cap,
			  unsigned int idx, struct rampool_node_info *info)
{
	const struct topo_node *n;
	struct rampool_node_info i;

	if (!info)
		return -EINVAL;
	if (idx >= cap->topo->nr_nodes)
		return -ERANGE;
	n = &cap->topo->nodes[idx];
	i = (struct rampool_node_info){
		.sz = sizeof(i),
		.node = n->id,
		.flags = n->flags,
		.mem_total = n->mem_total,
		.mem_free = n->mem_free,
		.mem_available = n->mem_available,
		.shmem = n->shmem,
		.nr_cpus = n->nr_cpus,
		.cpulist = n->cpulist,
	};
	return info_copy(info, info->sz, &i, sizeof(i),
			 MIN_SZ(struct rampool_node_info, cpulist));
}

unsigned int
rampool_capacity_page_size_count(const struct rampool_capacity *cap)
{
	return cap->topo->nr_sizes;
}

uint64_t rampool_capacity_page_size(const struct rampool_capacity *cap,
				    unsigned int idx)
{
	return idx < cap->topo->nr_sizes ? cap->topo->sizes[idx] : 0;
}

int rampool_capacity_hugepages(const struct rampool_capacity *cap, int node,
			       uint64_t page_size,
			       struct rampool_hugepage_info *info)
{
	const struct topo_hcount *c;
	struct rampool_hugepage_info i;
	int si;

	if (!info)
		return -EINVAL;
	si = topo_size_index(cap->topo, page_size);
	if (si < 0)
		return -ENOENT;
	if (node == RAMPOOL_NODE_ALL) {
		c = &cap->topo->global[si];
	} else {
		const struct topo_node *n = topo_node_by_id(cap->topo, node);

		if (!n)
			return -ENOENT;
		c = &n->hp[si];
	}
	i = (struct rampool_hugepage_info){
		.sz = sizeof(i),
		.node = node,
		.page_size = page_size,
		.total_pages = c->total,
		.free_pages = c->free,
		.surplus_pages = c->surplus,
		.resv_pages = c->resv,
		.overcommit_pages = c->overcommit,
	};
	return info_copy(info, info->sz, &i, sizeof(i),
			 MIN_SZ(struct rampool_hugepage_info,
				overcommit_pages));
}

unsigned int rampool_capacity_mount_count(const struct rampool_capacity *cap)
{
	return cap->topo->nr_mounts;
}

int rampool_capacity_mount(const struct rampool_capacity *cap,
			   unsigned int idx, struct rampool_mount_info *info)
{
	struct rampool_mount_info i;

	if (!info)
		return -EINVAL;
	if (idx >= cap->topo->nr_mounts)
		return -ERANGE;
	i = (struct rampool_mount_info){
		.sz = sizeof(i),
		.path = cap->topo->mounts[idx].path,
		.page_size = cap->topo->mounts[idx].page_size,
		.fstype = "hugetlbfs",
	};
	return info_copy(info, info->sz, &i, sizeof(i),
			 MIN_SZ(struct rampool_mount_info, fstype));
}

int rampool_capacity_host(const struct rampool_capacity *cap,
			  struct rampool_host_info *info)
{
	const struct topo *t = cap->topo;
	struct rampool_host_info i;

	if (!info)
		return -EINVAL;
	i = (struct rampool_host_info){
		.sz = sizeof(i),
		.mem_total = t->mem_total,
		.mem_free = t->mem_free,
		.mem_available = t->mem_available,
		.shmem = t->shmem,
		.default_page_size = t->default_page_size,
	};
	return info_copy(info, info->sz, &i, sizeof(i),
			 MIN_SZ(struct rampool_host_info, default_page_size));
}
