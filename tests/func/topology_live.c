// SPDX-License-Identifier: LGPL-2.1-or-later
/* topology_live.c: the library's nodes, sizes and mounts against libnuma, libhugetlbfs and a fresh mount. */
#include <stddef.h>
#include <hugetlbfs.h>
#include <numa.h>
#include <string.h>

#include "rampool.h"
#include "t_util.h"

#define MB2 (2ULL << 20)

static struct rampool_capacity *snapshot(struct rampool_pool *pool)
{
	struct rampool_capacity *cap;
	int ret = rampool_capacity_get(pool, &cap);

	if (ret)
		T_FAIL("rampool_capacity_get: %s", strerror(-ret));
	return cap;
}

static int find_mount(struct rampool_capacity *cap, const char *path,
		      uint64_t *ps)
{
	for (unsigned int i = 0; i < rampool_capacity_mount_count(cap); i++) {
		struct rampool_mount_info mi = { .sz = sizeof(mi) };

		T_EQ(rampool_capacity_mount(cap, i, &mi), 0);
		if (!strcmp(mi.path, path)) {
			*ps = mi.page_size;
			return 1;
		}
	}
	return 0;
}

int main(void)
{
	struct rampool_pool_opts o = { .sz = sizeof(o), .sysroot = "/" };
	struct rampool_capacity *cap;
	struct rampool_pool *pool;
	long sizes[16];
	const char *mnt;
	uint64_t ps = 0;
	int n;

	T_EQ(rampool_pool_new(&o, &pool), 0);
	cap = snapshot(pool);

	/* page sizes: libhugetlbfs asks the kernel its own way */
	n = gethugepagesizes(sizes, 16);
	T_ASSERT(n >= 0);
	T_EQ(rampool_capacity_page_size_count(cap), n);
	for (int i = 0; i < n; i++) {
		int found = 0;

		for (int k = 0; k < n; k++)
			found |= rampool_capacity_page_size(cap, k) ==
				 (uint64_t)sizes[i];
		if (!found)
			T_FAIL("libhugetlbfs lists %ld, the library does not",
			       sizes[i]);
	}

	/* nodes and their CPUs: libnuma */
	if (numa_available() < 0) {
		T_EQ(rampool_capacity_node_count(cap), 1);
	} else {
		struct bitmask *mems = numa_get_mems_allowed();
		unsigned int k = 0;

		for (int node = 0; node <= numa_max_node(); node++) {
			struct rampool_node_info ni = { .sz = sizeof(ni) };
			struct bitmask *cpus;
			unsigned int ncpu = 0;

			if (!numa_bitmask_isbitset(numa_nodes_ptr, node))
				continue;
			T_EQ(rampool_capacity_node(cap, k++, &ni), 0);
			T_EQ(ni.node, node);
			cpus = numa_allocate_cpumask();
			T_EQ(numa_node_to_cpus(node, cpus), 0);
			for (unsigned int c = 0; c < cpus->size; c++)
				ncpu += numa_bitmask_isbitset(cpus, c);
			numa_free_cpumask(cpus);
			T_EQ(ni.nr_cpus, ncpu);
			T_EQ(!!(ni.flags & RAMPOOL_NODE_F_HAS_MEMORY),
			     numa_bitmask_isbitset(mems, node));
		}
		numa_bitmask_free(mems);
		T_EQ(rampool_capacity_node_count(cap), k);
	}
	rampool_capacity_free(cap);

	/* a mount made now appears with its page size, and goes again */
	mnt = t_mount_hugetlbfs(MB2, NULL);
	cap = snapshot(pool);
	T_ASSERT(find_mount(cap, mnt, &ps));
	T_EQ(ps, MB2);
	T_EQ(hugetlbfs_test_path(mnt), 1);
	rampool_capacity_free(cap);
	t_umount(mnt);
	cap = snapshot(pool);
	T_ASSERT(!find_mount(cap, mnt, &ps));
	rampool_capacity_free(cap);
	rampool_pool_free(pool);
	printf("nodes, page sizes and mounts agree with libnuma and libhugetlbfs\n");
	return 0;
}
