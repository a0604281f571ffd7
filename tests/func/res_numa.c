// SPDX-License-Identifier: LGPL-2.1-or-later
/* res_numa.c: per-node grants are what the kernel delivers there; several nodes all or nothing; a memoryless node refused. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "rampool.h"
#include "t_util.h"

#define MB2 (2ULL << 20)

static char msg[512];
static char state[256];

static void log_cb(void *data, enum rampool_log_level level, const char *m)
{
	(void)data;
	if (level <= RAMPOOL_LOG_ERR)
		snprintf(msg, sizeof(msg), "%s", m);
}

static uint64_t node_pages(int node, const char *what)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/"
		 "hugepages/hugepages-2048kB/%s_hugepages", node, what);
	return t_read_u64(path);
}

static bool has_memory(int node)
{
	char path[96];

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo",
		 node);
	FILE *f = fopen(path, "r");
	unsigned long long kb = 0;
	char line[256];

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Node %*d MemTotal: %llu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb > 0;
}

static uint64_t avail(struct rampool_pool *pool, int node)
{
	struct rampool_usage *u;
	uint64_t a = UINT64_MAX;

	T_EQ(rampool_usage_get(pool, &u), 0);
	for (unsigned int i = 0; i < rampool_usage_count(u); i++) {
		struct rampool_pool_usage e = { .sz = sizeof(e) };

		T_EQ(rampool_usage_at(u, i, &e), 0);
		if (e.node == node && e.page_size == MB2)
			a = e.avail;
	}
	rampool_usage_free(u);
	T_ASSERT(a != UINT64_MAX);
	return a;
}

static int reserve(struct rampool_pool *pool, const char *name,
		   const struct rampool_res_node *nodes, unsigned int n,
		   uint64_t size, unsigned int flags)
{
	struct rampool_reservation_opts o = {
		.sz = sizeof(o), .size = size, .page_size = MB2,
		.nodes = nodes, .nr_nodes = n, .owner_uid = -1,
		.flags = flags,
	};

	msg[0] = 0;
	return rampool_reservation_new(pool, name, &o);
}

/* Everything granted on node is taken and lands there. */
static void take_all(struct rampool_pool *pool, int node)
{
	struct rampool_res_node rn = { .node = node };
	struct rampool_block *blk;
	uint64_t a = avail(pool, node), free_before;
	char name[32];

	snprintf(name, sizeof(name), "all-%d", node);
	T_ASSERT(a >= MB2);
	free_before = node_pages(node, "free");
	T_EQ(reserve(pool, name, &rn, 1, a, RAMPOOL_RES_PREALLOC), 0);
	/* every granted page came from this node */
	T_EQ(node_pages(node, "free"), free_before - a / MB2);
	T_EQ(rampool_reservation_open(pool, name, &blk), 0);
	T_EQ(t_pages_on_node(rampool_block_addr(blk), a, MB2, node), a / MB2);
	rampool_block_free(blk);
	/* and not one page more */
	T_EQ(avail(pool, node), 0);
	T_EQ(reserve(pool, "one-more", &rn, 1, MB2, 0), -ENOSPC);
	T_EQ(rampool_reservation_release(pool, name), 0);
	T_EQ(node_pages(node, "free"), free_before);
}

static void cleanup(void)
{
	char path[300];

	snprintf(path, sizeof(path), "%s/shm", state);
	umount2(path, MNT_DETACH);
	snprintf(path, sizeof(path), "rm -rf '%s'", state);
	if (system(path))
		fprintf(stderr, "cleanup: %s failed\n", path);
}

int main(void)
{
	struct rampool_pool_opts po = { .sz = sizeof(po), .log_fn = log_cb,
					.state_dir = state };
	int nodes = t_nr_nodes(), memless = -1, mem[8], nmem = 0;
	struct rampool_pool *pool;
	struct t_hcount before, after;

	if (nodes < 2)
		t_skip("needs 2 NUMA nodes, this kernel has %d (make check-vm "
		       "runs it in 2- and 4-node guests)", nodes);
	t_require_hugetlb(MB2);
	for (int n = 0; n < nodes && n < 8; n++) {
		if (has_memory(n))
			mem[nmem++] = n;
		else
			memless = n;
	}
	if (nmem < 2)
		t_skip("needs 2 nodes with memory");
	/* different sizes per node, so a grant from the wrong node shows */
	for (int i = 0; i < nmem; i++)
		t_hugepages_set_node(MB2, mem[i], 4 + 2 * (uint64_t)i);
	snprintf(state, sizeof(state), "/run/rampool-t-numa-%d", (int)getpid());
	atexit(cleanup);
	T_EQ(rampool_pool_new(&po, &pool), 0);

	for (int i = 0; i < nmem; i++)
		take_all(pool, mem[i]);

	/* all or nothing: the first node fits, the second is 1 page short */
	{
		struct rampool_res_node two[2] = {
			{ .node = mem[0], .size = 2 * MB2 },
			{ .node = mem[1], .size = (node_pages(mem[1], "free") +
						   1) * MB2 },
		};
		struct rampool_shortfall sf = { .sz = sizeof(sf) };

		t_hcount(MB2, -1, &before);
		T_EQ(reserve(pool, "two", two, 2, 0, RAMPOOL_RES_PREALLOC),
		     -ENOSPC);
		t_hcount(MB2, -1, &after);
		T_HCOUNT_EQ(before, after);
		T_EQ(rampool_pool_last_shortfall(pool, 0, &sf), 0);
		T_EQ(sf.node, mem[1]);
		T_EQ(sf.short_by, MB2);
		T_EQ(rampool_pool_last_shortfall(pool, 1, &sf), -ERANGE);
		two[1].size = 2 * MB2;
		T_EQ(reserve(pool, "two", two, 2, 0, RAMPOOL_RES_PREALLOC), 0);
		T_EQ(node_pages(mem[0], "free"), 4 - 2);
		T_EQ(node_pages(mem[1], "free"), 6 - 2);
		T_EQ(rampool_reservation_release(pool, "two"), 0);
	}

	if (memless >= 0) {
		struct rampool_res_node rn = { .node = memless };

		T_EQ(reserve(pool, "memless", &rn, 1, MB2, 0), -EINVAL);
		T_ASSERT(strstr(msg, "has no memory"));
	}
	t_hcount(MB2, -1, &after);
	T_EQ(after.resv, 0);
	rampool_pool_free(pool);
	printf("res_numa: %d nodes with memory checked%s\n", nmem,
	       memless >= 0 ? ", memoryless node refused" : "");
	return 0;
}
