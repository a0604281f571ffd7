// SPDX-License-Identifier: LGPL-2.1-or-later
/* example.c: a program built against an installed librampool through pkg-config. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rampool.h>

int main(int argc, char **argv)
{
	struct rampool_pool_opts o = {
		.sz = sizeof(o),
		.sysroot = argc > 1 ? argv[1] : NULL,
	};
	struct rampool_capacity *cap;
	struct rampool_pool *pool;
	int ret;

	ret = rampool_pool_new(&o, &pool);
	if (ret) {
		fprintf(stderr, "rampool_pool_new: %s\n", strerror(-ret));
		return 1;
	}
	ret = rampool_capacity_get(pool, &cap);
	if (ret) {
		fprintf(stderr, "rampool_capacity_get: %s\n", strerror(-ret));
		rampool_pool_free(pool);
		return 1;
	}
	printf("rampool %s\n", rampool_version());
	for (unsigned int i = 0; i < rampool_capacity_node_count(cap); i++) {
		struct rampool_node_info ni = { .sz = sizeof(ni) };

		rampool_capacity_node(cap, i, &ni);
		for (unsigned int s = 0;
		     s < rampool_capacity_page_size_count(cap); s++) {
			struct rampool_hugepage_info h = { .sz = sizeof(h) };
			uint64_t ps = rampool_capacity_page_size(cap, s);

			rampool_capacity_hugepages(cap, ni.node, ps, &h);
			printf("node %d %" PRIu64 "K: %" PRIu64 " of %" PRIu64
			       " free\n", ni.node, ps >> 10, h.free_pages,
			       h.total_pages);
		}
	}
	rampool_capacity_free(cap);
	rampool_pool_free(pool);
	return 0;
}
