// SPDX-License-Identifier: LGPL-2.1-or-later
/* discard_shmem.c: a 4K shmem discard makes exactly the range owed, per node, in show -J, status -J and the warning lines, also when the VMM punches the file itself (issue 8, test 5). */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rampool.h"
#include "t_res.h"

#define MB (1ULL << 20)

static struct rampool_pool *pool;
static int two;			/* the reservation spans nodes 0 and 1 */

/* show -J: node k's held, owed and populated; the totals. */
static void check_show(uint64_t owed0, uint64_t owed1)
{
	uint64_t share = two ? 4 * MB : 8 * MB;
	json_object *j = t_res_show("s1"), *nodes = t_jget(j, "nodes");
	uint64_t owed[2] = { owed0, owed1 };

	T_EQ(json_object_array_length(nodes), two ? 2 : 1);
	for (int k = 0; k <= two; k++) {
		json_object *n = json_object_array_get_idx(nodes, (size_t)k);

		T_EQ(t_jget_u64(n, "node"), k);
		T_EQ(t_jget_u64(n, "size"), share);
		T_EQ(t_jget_u64(n, "owed"), owed[k]);
		T_EQ(t_jget_u64(n, "held"), share - owed[k]);
		T_EQ(t_jget_u64(n, "populated"), share - owed[k]);
		T_EQ(t_jget_u64(n, "unpinned"), 0);
	}
	T_EQ(t_jget_u64(j, "owed"), owed0 + owed1);
	T_EQ(t_jget_u64(j, "held"), 8 * MB - owed0 - owed1);
	json_object_put(j);
}

/* status -J: the 4K usage of node k; the warning line for each owed node. */
static void check_status(uint64_t reserved0, uint64_t reserved1,
			 uint64_t owed0, uint64_t owed1)
{
	uint64_t owed[2] = { owed0, owed1 }, reserved[2] = { reserved0,
							   reserved1 };
	json_object *doc, *usage;
	char *out = NULL, *err = NULL;
	int seen[2] = { 0, 0 };

	T_EQ(t_poolctl(&out, &err, "status", "-J", NULL), 0);
	doc = t_json(out);
	usage = t_jget(doc, "usage");
	for (size_t i = 0; i < json_object_array_length(usage); i++) {
		json_object *u = json_object_array_get_idx(usage, i);
		json_object *n;
		int node;

		if (t_jget_u64(u, "page_size") != 4096 ||
		    !json_object_object_get_ex(u, "node", &n) || !n)
			continue;
		node = json_object_get_int(n);
		if (node > two)
			continue;
		seen[node] = 1;
		T_EQ(t_jget_u64(u, "reserved"), reserved[node]);
		T_EQ(t_jget_u64(u, "owed"), owed[node]);
		T_EQ(t_jget_u64(u, "held"), reserved[node] - owed[node]);
		T_EQ(t_jget_u64(u, "unpinned"), 0);
	}
	T_ASSERT(seen[0] && (!two || seen[1]));
	for (int k = 0; k <= two; k++) {
		char line[256];
		const char *hit;

		/* "poolctl: warning: 4K pages: SIZE owed on node K: ..." */
		snprintf(line, sizeof(line), " owed on node %d: promised, but "
			 "the kernel does not guarantee those pages\n", k);
		hit = strstr(err, line);
		if (!owed[k] && hit)
			T_FAIL("status warns of node %d, which owes nothing:"
			       "\n%s", k, err);
		if (owed[k] && !hit)
			T_FAIL("status: no line '...%s' in:\n%s", line, err);
		if (owed[k] && !strstr(err, "poolctl: warning: 4K pages: "))
			T_FAIL("status: no warning of 4K pages in:\n%s", err);
	}
	json_object_put(doc);
	free(out);
	free(err);
}

/* What a shmem reservation on no node could be granted now. */
static uint64_t grantable(void)
{
	struct rampool_reservation_opts o = {
		.sz = sizeof(o), .size = 1ULL << 50,
		.backing = RAMPOOL_RES_SHMEM, .owner_uid = -1,
	};
	struct rampool_shortfall sf = { .sz = sizeof(sf) };

	T_EQ(rampool_reservation_new(pool, "big", &o), -ENOSPC);
	T_EQ(rampool_pool_last_shortfall(pool, 0, &sf), 0);
	T_EQ(sf.node, RAMPOOL_NODE_ANY);
	return sf.grantable;
}

/*
 * A VMM's own punch through the path (QEMU's postcopy discard): the
 * library never hears of it, yet show and status count the range owed,
 * measured from the file, and a new reservation cannot be granted the
 * freed pages (MemAvailable has them back, but they are promised).
 */
static void vmm_punch(void)
{
	uint64_t before, after;
	json_object *j;
	char *path;
	int fd;

	t_poolctl_ok(0, "reserve", "s2", "--size", "1152M", "--page-size",
		     "4K", "--node", "0", "--prealloc", NULL);
	before = grantable();
	path = t_res_path("s2");
	fd = open(path, O_RDWR);
	if (fd < 0)
		T_FAIL("%s: %s", path, strerror(errno));
	T_EQ(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		       (off_t)MB, (off_t)(1024 * MB)), 0);
	close(fd);
	free(path);
	j = t_res_show("s2");
	T_EQ(t_jget_u64(j, "owed"), 1024 * MB);
	T_EQ(t_jget_u64(j, "held"), 128 * MB);
	json_object_put(j);
	check_status(1152 * MB, 0, 1024 * MB, 0);
	after = grantable();
	printf("grantable before the punch %" PRIu64 "M, after %" PRIu64
	       "M (1G punched)\n", before >> 20, after >> 20);
	/* not 1G more: other processes move MemAvailable a little */
	T_ASSERT(after < before + 512 * MB);
	t_poolctl_ok(0, "release", "s2", NULL);
}

static uint64_t blocks(void)
{
	char *path = t_res_path("s1");
	struct stat st;

	if (stat(path, &st))
		T_FAIL("%s: %s", path, strerror(errno));
	free(path);
	return (uint64_t)st.st_blocks * 512;
}

int main(void)
{
	struct rampool_pool_opts po = { .sz = sizeof(po) };
	struct rampool_block_info bi = { .sz = sizeof(bi) };
	static const int node0 = 0;
	struct rampool_block_opts bo = {
		.sz = sizeof(bo), .size = 4 * MB, .nodes = &node0,
		.nr_nodes = 1, .flags = RAMPOOL_BLOCK_PREALLOC, .threads = 1,
	};
	struct rampool_block *blk;
	char *err = NULL;
	uint64_t n1;

	if (geteuid())
		t_skip("needs root (a reservation mounts its tmpfs)");
	po.state_dir = t_res_dir();
	two = t_nr_nodes() > 1;
	if (two)
		t_poolctl_ok(0, "reserve", "s1", "--page-size", "4K",
			     "--nodes", "0:4M,1:4M", "--prealloc", NULL);
	else
		t_poolctl_ok(0, "reserve", "s1", "--size", "8M",
			     "--page-size", "4K", "--node", "0", "--prealloc",
			     NULL);
	check_show(0, 0);
	T_EQ(blocks(), 8 * MB);

	/* the CLI: 2M of node 0's share, one warning line naming the node */
	T_EQ(t_poolctl(NULL, &err, "discard", "s1", "--offset", "1M",
		       "--length", "2M", NULL), 0);
	if (strcmp(err, "poolctl: warning: s1: 2M owed on node 0: promised, "
		   "but the kernel does not guarantee those pages\n"))
		T_FAIL("discard: stderr '%s'", err);
	free(err);
	T_EQ(blocks(), 6 * MB);
	check_show(2 * MB, 0);
	check_status(8 * MB - (two ? 4 * MB : 0), 4 * MB, 2 * MB, 0);

	/* the library: 12K more, in the last share (node 1 on two nodes) */
	if (rampool_pool_new(&po, &pool))
		T_FAIL("rampool_pool_new");
	T_EQ(rampool_reservation_discard(pool, "s1", 6 * MB, 12288, 0), 0);
	n1 = two ? 12288 : 0;
	T_EQ(blocks(), 6 * MB - 12288);
	check_show(2 * MB + (two ? 0 : 12288), n1);
	/* discarding it again frees nothing and changes nothing */
	T_EQ(rampool_reservation_discard(pool, "s1", 6 * MB, 12288, 0), 0);
	check_show(2 * MB + (two ? 0 : 12288), n1);
	/* across both shares (on two nodes): each loses its part */
	T_EQ(rampool_reservation_discard(pool, "s1", 3 * MB, 2 * MB, 0), 0);
	check_show(3 * MB + (two ? 0 : 12288 + MB), n1 + (two ? MB : 0));

	/* a shmem block of the VMM's own on node 0: its row owes too */
	bo.backing = RAMPOOL_BACKING_MEMFD;
	T_EQ(rampool_block_new(pool, &bo, &blk), 0);
	T_EQ(rampool_block_discard(blk, MB, 3 * MB, 0), 0);
	T_EQ(rampool_block_info(blk, &bi), 0);
	T_EQ(bi.populated, MB);
	T_EQ(bi.held, MB);
	T_EQ(bi.owed, 3 * MB);
	check_status(8 * MB - (two ? 4 * MB : 0) + 4 * MB, 4 * MB,
		     3 * MB + (two ? 0 : 12288 + MB) + 3 * MB,
		     n1 + (two ? MB : 0));
	rampool_block_free(blk);
	t_poolctl_ok(0, "release", "s1", NULL);
	err = NULL;
	T_EQ(t_poolctl(NULL, &err, "status", "--no-bar", NULL), 0);
	if (strstr(err, "warning"))
		T_FAIL("status warns after the release:\n%s", err);
	free(err);
	vmm_punch();
	rampool_pool_free(pool);
	t_res_audit_clean();
	return 0;
}
