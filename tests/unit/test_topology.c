// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_topology.c: topo_read on the recorded trees and on damaged copies. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend/sysfs.h"
#include "backend/topology.h"
#include "t_tree.h"

#define KB(x) ((uint64_t)(x) * 1024)
#define MB(x) ((uint64_t)(x) << 20)
#define GB(x) ((uint64_t)(x) << 30)

#define NODE_DIR "sys/devices/system/node"
#define HP_DIR "sys/kernel/mm/hugepages"
#define F_ON RAMPOOL_NODE_F_ONLINE
#define F_MEM (RAMPOOL_NODE_F_HAS_MEMORY | RAMPOOL_NODE_F_HAS_NORMAL_MEMORY)
#define F_CPU RAMPOOL_NODE_F_HAS_CPU
#define UNK RAMPOOL_COUNT_UNKNOWN

/* ---- the real syscalls, counted ------------------------------------------ */

static unsigned int opens, closes;

static int c_openat(int dirfd, const char *path, int flags)
{
	int fd = openat(dirfd, path, flags);

	if (fd >= 0)
		opens++;
	return fd;
}

static int c_close(int fd)
{
	closes++;
	return close(fd);
}

static int c_closedir(DIR *d)
{
	closes++;	/* it closes the fd openat gave */
	return closedir(d);
}

static const struct sysfs_ops counting_ops = {
	.openat = c_openat,
	.read = read,
	.close = c_close,
	.fdopendir = fdopendir,
	.readdir = readdir,
	.closedir = c_closedir,
};

static struct t_log lg = T_LOG_INIT;

static const struct rp_log test_log = {
	.fn = t_log_fn,
	.data = &lg,
	.level = RAMPOOL_LOG_DEBUG,
};

/*
 * topo_read on root. Returns its result; every fd it opened must be closed
 * again whether it failed or not.
 */
static int read_tree(const char *root, struct topo **t)
{
	struct sysfs *s = NULL;
	int ret;

	t_log_reset(&lg);
	opens = closes = 0;
	assert_int_equal(sysfs_open(root, &counting_ops, &test_log, &s), 0);
	ret = topo_read(s, t);
	sysfs_close(s);
	assert_int_equal(opens, closes);
	return ret;
}

/* ---- what the fixtures README says a correct reader reports -------------- */

struct exp_hp {
	uint64_t total, free, surplus;
};

struct exp_node {
	int id;
	unsigned int flags;
	const char *cpulist;
	unsigned int nr_cpus;
	uint64_t mem_total, mem_free, mem_available, shmem;	/* kB */
	struct exp_hp hp[4];					/* by size */
};

struct exp_tree {
	const char *name;
	unsigned int nr_sizes;
	uint64_t sizes[4];
	struct topo_hcount global[4];
	uint64_t mem_total, mem_free, mem_available, shmem;	/* kB */
	uint64_t default_page_size;
	unsigned int nr_nodes;
	struct exp_node nodes[4];
	unsigned int nr_mounts;
	struct {
		const char *path;
		uint64_t page_size;
	} mounts[2];
};

#define GUEST_MOUNTS 2, { { "/dev/hugepages", MB(2) }, \
			  { "/dev/hugepages1G", GB(1) } }

/*
 * mem_available per node is MemFree + (Active(file) + Inactive(file)) / 2
 * + SReclaimable / 2, as rampool.h documents; the sums are spelled out.
 */
static const struct exp_tree x86_2node = {
	.name = "x86-2node",
	.nr_sizes = 2,
	.sizes = { MB(2), GB(1) },
	.global = { { 96, 82, 0, 6, 0 }, { 2, 1, 0, 0, 0 } },
	.mem_total = 6076988, .mem_free = 3710720, .mem_available = 3606328,
	.shmem = 2692, .default_page_size = MB(2),
	.nr_nodes = 2,
	.nodes = {
		{ 0, F_ON | F_MEM | F_CPU, "0-1", 2,
		  2983928, 1754324, 1754324 + 8560 / 2, 2692,
		  { { 64, 60, 0 }, { 1, 1, 0 } } },
		{ 1, F_ON | F_MEM | F_CPU, "2-3", 2,
		  3093060, 1955060, 1955060 + 292 / 2, 8,
		  { { 32, 22, 0 }, { 1, 0, 0 } } },
	},
	.nr_mounts = GUEST_MOUNTS,
};

static const struct exp_tree x86_4node_memless = {
	.name = "x86-4node-memless",
	.nr_sizes = 2,
	.sizes = { MB(2), GB(1) },
	.global = { { 120, 92, 0, 12, 0 }, { 0, 0, 0, 0, 0 } },
	.mem_total = 6076648, .mem_free = 5748092, .mem_available = 5571588,
	.shmem = 2692, .default_page_size = MB(2),
	.nr_nodes = 4,
	.nodes = {
		{ 0, F_ON | F_MEM | F_CPU, "0", 1,
		  2062920, 1932604, 1932604 + 208 / 2, 16,
		  { { 48, 48, 0 }, { 0, 0, 0 } } },
		{ 1, F_ON | F_MEM | F_CPU, "1", 1,
		  1998296, 1873144, 1873144 + 8236 / 2, 20,
		  { { 48, 40, 0 }, { 0, 0, 0 } } },
		{ 2, F_ON | F_MEM | F_CPU, "2", 1,
		  2015432, 1939604, 1939604 + 356 / 2, 2716,
		  { { 24, 4, 0 }, { 0, 0, 0 } } },
		/* a CPU and no memory */
		{ 3, F_ON | F_CPU, "3", 1, 0, 0, 0, 0,
		  { { 0, 0, 0 }, { 0, 0, 0 } } },
	},
	.nr_mounts = GUEST_MOUNTS,
};

static const struct exp_tree arm64_2node = {
	.name = "arm64-2node",
	.nr_sizes = 4,
	.sizes = { 64 * 1024, MB(2), MB(32), GB(1) },
	.global = { { 64, 64, 0, 0, 0 }, { 64, 64, 0, 0, 0 },
		    { 4, 4, 0, 0, 0 }, { 0, 0, 0, 0, 0 } },
	.mem_total = 4026472, .mem_free = 3713956, .mem_available = 3612944,
	.shmem = 1808, .default_page_size = MB(2),
	.nr_nodes = 2,
	.nodes = {
		{ 0, F_ON | F_MEM | F_CPU, "0", 1,
		  2036924, 1855668, 1855668 + 7768 / 2, 0,
		  { { 32, 32, 0 }, { 40, 40, 0 }, { 2, 2, 0 }, { 0, 0, 0 } } },
		{ 1, F_ON | F_MEM | F_CPU, "1", 1,
		  1989548, 1856020, 1856020 + 260 / 2, 1868,
		  { { 32, 32, 0 }, { 24, 24, 0 }, { 2, 2, 0 }, { 0, 0, 0 } } },
	},
	.nr_mounts = GUEST_MOUNTS,
};

/* no proc/mounts in this recording: no mounts, and no error */
static const struct exp_tree x86_1node_firecracker = {
	.name = "x86-1node-firecracker",
	.nr_sizes = 1,
	.sizes = { MB(2) },
	.global = { { 40, 34, 0, 3, 0 } },
	.mem_total = 24683620, .mem_free = 23204720,
	.mem_available = 24174108, .shmem = 8952, .default_page_size = MB(2),
	.nr_nodes = 1,
	.nodes = {
		{ 0, F_ON | F_MEM | F_CPU, "0-1", 2,
		  14509856, 13030876,
		  13030876 + (314292 + 851248) / 2 + 99188 / 2, 8952,
		  { { 40, 34, 0 } } },
	},
	.nr_mounts = 0,
};

static void check_tree(const struct exp_tree *e, const struct topo *t,
		       bool numa)
{
	assert_int_equal(t->numa, numa);
	assert_int_equal(t->nr_sizes, e->nr_sizes);
	for (unsigned int i = 0; i < e->nr_sizes; i++) {
		print_message("%s: size %u\n", e->name, i);
		assert_int_equal(t->sizes[i], e->sizes[i]);
		assert_int_equal(t->global[i].total, e->global[i].total);
		assert_int_equal(t->global[i].free, e->global[i].free);
		assert_int_equal(t->global[i].surplus, e->global[i].surplus);
		assert_int_equal(t->global[i].resv, e->global[i].resv);
		assert_int_equal(t->global[i].overcommit,
				 e->global[i].overcommit);
	}
	assert_int_equal(t->mem_total, KB(e->mem_total));
	assert_int_equal(t->mem_free, KB(e->mem_free));
	assert_int_equal(t->mem_available, KB(e->mem_available));
	assert_int_equal(t->shmem, KB(e->shmem));
	assert_int_equal(t->default_page_size, e->default_page_size);

	assert_int_equal(t->nr_nodes, e->nr_nodes);
	for (unsigned int i = 0; i < e->nr_nodes; i++) {
		const struct exp_node *en = &e->nodes[i];
		const struct topo_node *n = &t->nodes[i];

		print_message("%s: node %d\n", e->name, en->id);
		assert_int_equal(n->id, en->id);
		assert_int_equal(n->flags, en->flags);
		assert_string_equal(n->cpulist, en->cpulist);
		assert_int_equal(n->nr_cpus, en->nr_cpus);
		assert_int_equal(n->mem_total, KB(en->mem_total));
		assert_int_equal(n->mem_free, KB(en->mem_free));
		assert_int_equal(n->mem_available, KB(en->mem_available));
		assert_int_equal(n->shmem, KB(en->shmem));
		for (unsigned int k = 0; k < e->nr_sizes; k++) {
			assert_int_equal(n->hp[k].total, en->hp[k].total);
			assert_int_equal(n->hp[k].free, en->hp[k].free);
			assert_int_equal(n->hp[k].surplus, en->hp[k].surplus);
			/* the kernel has no per-node reservation count */
			assert_true(n->hp[k].resv == UNK);
			assert_true(n->hp[k].overcommit == UNK);
		}
		assert_ptr_equal(topo_node_by_id(t, en->id), n);
	}

	assert_int_equal(t->nr_mounts, e->nr_mounts);
	for (unsigned int i = 0; i < e->nr_mounts; i++) {
		assert_string_equal(t->mounts[i].path, e->mounts[i].path);
		assert_int_equal(t->mounts[i].page_size,
				 e->mounts[i].page_size);
	}
}

static void check_fixture(const struct exp_tree *e)
{
	const char *root = t_fixture(e->name);
	struct topo *t = NULL;

	if (!root)
		fail_msg("fixtures not found: set RAMPOOL_FIXTURES or SRC");
	assert_int_equal(read_tree(root, &t), 0);
	assert_non_null(t);
	check_tree(e, t, true);
	/* a correct tree is read without a single complaint */
	assert_int_equal(lg.n, 0);
	topo_free(t);
}

static void test_x86_2node(void **state)
{
	(void)state;
	check_fixture(&x86_2node);
}

static void test_x86_4node_memless(void **state)
{
	(void)state;
	check_fixture(&x86_4node_memless);
}

static void test_arm64_2node(void **state)
{
	(void)state;
	check_fixture(&arm64_2node);
}

static void test_x86_1node_firecracker(void **state)
{
	(void)state;
	check_fixture(&x86_1node_firecracker);
}

static void test_lookups(void **state)
{
	struct topo *t = NULL;

	(void)state;
	assert_int_equal(read_tree(t_fixture("arm64-2node"), &t), 0);
	assert_int_equal(topo_size_index(t, 64 * 1024), 0);
	assert_int_equal(topo_size_index(t, MB(2)), 1);
	assert_int_equal(topo_size_index(t, MB(32)), 2);
	assert_int_equal(topo_size_index(t, GB(1)), 3);
	assert_int_equal(topo_size_index(t, 4096), -1);
	assert_int_equal(topo_size_index(t, 0), -1);
	assert_ptr_equal(topo_node_by_id(t, 1), &t->nodes[1]);
	assert_null(topo_node_by_id(t, 2));
	assert_null(topo_node_by_id(t, -1));
	topo_free(t);
	topo_free(NULL);
}

/* ---- damaged copies ------------------------------------------------------ */

static char *tmp;	/* the copy the current test may damage */

static int copy_setup(void **state)
{
	const char *tree = "x86-2node";

	(void)state;	/* a damage test's state is its damage */
	tmp = t_tree_copy(tree);
	if (!tmp) {
		print_error("cannot copy fixture %s (fixtures: %s)\n", tree,
			    t_fixtures() ? t_fixtures() : "not found");
		return -1;
	}
	return 0;
}

static int copy_teardown(void **state)
{
	(void)state;
	if (tmp) {
		t_rm_tree(tmp);
		free(tmp);
		tmp = NULL;
	}
	return 0;
}

enum op { WRITE, REMOVE, TRUNCATE_HALF };

struct damage {
	const char *what;
	enum op op;
	const char *rel;
	const char *text;	/* for WRITE */
	int err;
	const char *logged;	/* the file the ERR message names; NULL: rel */
};

#define N0 NODE_DIR "/node0"
#define N1 NODE_DIR "/node1"
#define N0_2M N0 "/hugepages/hugepages-2048kB"
#define N1_2M N1 "/hugepages/hugepages-2048kB"
#define N0_1G N0 "/hugepages/hugepages-1048576kB"
#define N1_1G N1 "/hugepages/hugepages-1048576kB"
#define G_2M HP_DIR "/hugepages-2048kB"
#define G_1G HP_DIR "/hugepages-1048576kB"

static const struct damage damages[] = {
	/* hugepage counters */
	{ "garbage", WRITE, N1_2M "/free_hugepages", "twenty-two\n",
	  -EINVAL, NULL },
	{ "empty", WRITE, N0_1G "/nr_hugepages", "", -EINVAL, NULL },
	{ "no newline", WRITE, N1_2M "/nr_hugepages", "32", -EINVAL, NULL },
	{ "missing", REMOVE, N1_2M "/free_hugepages", NULL, -ENOENT, NULL },
	{ "missing", REMOVE, N0_2M "/surplus_hugepages", NULL, -ENOENT,
	  NULL },
	{ "overflow", WRITE, G_2M "/resv_hugepages", "18446744073709551616\n",
	  -EINVAL, NULL },
	{ "overflow", WRITE, G_1G "/nr_overcommit_hugepages",
	  "99999999999999999999\n", -EINVAL, NULL },
	{ "free > nr", WRITE, N0_2M "/free_hugepages", "65\n", -EINVAL,
	  NULL },
	{ "free > nr", WRITE, G_2M "/free_hugepages", "97\n", -EINVAL, NULL },
	{ "nr < free", WRITE, N1_2M "/nr_hugepages", "21\n", -EINVAL,
	  N1_2M "/free_hugepages" },
	/* FAILS before the fix: the message names free_hugepages */
	{ "surplus > nr", WRITE, N1_1G "/surplus_hugepages", "2\n", -EINVAL,
	  NULL },
	{ "global missing", REMOVE, G_1G "/nr_hugepages", NULL, -ENOENT,
	  NULL },
	{ "size dir missing on a node", REMOVE, N1_1G, NULL, -ENOENT,
	  N1_1G "/nr_hugepages" },
	/* node lists */
	{ "garbage", WRITE, NODE_DIR "/online", "zero to one\n", -EINVAL,
	  NULL },
	{ "truncated", WRITE, NODE_DIR "/online", "0-", -EINVAL, NULL },
	{ "no node online", WRITE, NODE_DIR "/online", "\n", -EINVAL, NULL },
	{ "beyond MAX_NUMNODES", WRITE, NODE_DIR "/online", "0-1,1024\n",
	  -EINVAL, NULL },
	{ "missing", REMOVE, NODE_DIR "/online", NULL, -ENOENT, NULL },
	{ "online node without dir", WRITE, NODE_DIR "/online", "0-2\n",
	  -ENOENT, NODE_DIR "/node2/cpulist" },
	{ "trailing comma", WRITE, NODE_DIR "/has_memory", "0-1,\n", -EINVAL,
	  NULL },
	{ "reversed", WRITE, NODE_DIR "/has_cpu", "1-0\n", -EINVAL, NULL },
	{ "missing", REMOVE, NODE_DIR "/has_normal_memory", NULL, -ENOENT,
	  NULL },
	/* cpulists */
	{ "garbage", WRITE, N1 "/cpulist", "2-3x\n", -EINVAL, NULL },
	{ "reversed", WRITE, N0 "/cpulist", "1-0\n", -EINVAL, NULL },
	{ "beyond the cpus", WRITE, N0 "/cpulist", "8192\n", -EINVAL, NULL },
	{ "empty", WRITE, N1 "/cpulist", "", -EINVAL, NULL },
	{ "missing", REMOVE, N0 "/cpulist", NULL, -ENOENT, NULL },
	/* node meminfo */
	{ "truncated", TRUNCATE_HALF, N1 "/meminfo", NULL, -EINVAL, NULL },
	{ "empty", WRITE, N0 "/meminfo", "", -EINVAL, NULL },
	{ "another node's prefix", WRITE, N0 "/meminfo",
	  "Node 1 MemTotal: 1 kB\nNode 1 MemFree: 1 kB\nNode 1 Shmem: 0 kB\n"
	  "Node 1 Active(file): 0 kB\nNode 1 Inactive(file): 0 kB\n"
	  "Node 1 SReclaimable: 0 kB\n", -EINVAL, NULL },
	{ "key missing", WRITE, N1 "/meminfo",
	  "Node 1 MemTotal: 1 kB\nNode 1 MemFree: 1 kB\nNode 1 Shmem: 0 kB\n"
	  "Node 1 Active(file): 0 kB\nNode 1 Inactive(file): 0 kB\n",
	  -EINVAL, NULL },
	{ "kB overflow", WRITE, N1 "/meminfo",
	  "Node 1 MemTotal: 18014398509481984 kB\nNode 1 MemFree: 1 kB\n"
	  "Node 1 Shmem: 0 kB\nNode 1 Active(file): 0 kB\n"
	  "Node 1 Inactive(file): 0 kB\nNode 1 SReclaimable: 0 kB\n",
	  -EINVAL, NULL },
	{ "missing", REMOVE, N1 "/meminfo", NULL, -ENOENT, NULL },
	/* host meminfo */
	{ "truncated", TRUNCATE_HALF, "proc/meminfo", NULL, -EINVAL, NULL },
	{ "key missing", WRITE, "proc/meminfo", "MemTotal: 1 kB\n", -EINVAL,
	  NULL },
	{ "twice", WRITE, "proc/meminfo",
	  "MemTotal: 1 kB\nMemFree: 1 kB\nMemAvailable: 1 kB\nShmem: 0 kB\n"
	  "MemFree: 1 kB\n", -EINVAL, NULL },
	{ "kB overflow", WRITE, "proc/meminfo",
	  "MemTotal: 18014398509481984 kB\nMemFree: 1 kB\n"
	  "MemAvailable: 1 kB\nShmem: 0 kB\n", -EINVAL, NULL },
	{ "missing", REMOVE, "proc/meminfo", NULL, -ENOENT, NULL },
	/* mounts */
	{ "garbage", WRITE, "proc/mounts", "garbage\n", -EINVAL, NULL },
	{ "truncated", TRUNCATE_HALF, "proc/mounts", NULL, -EINVAL, NULL },
	{ "bad escape", WRITE, "proc/mounts",
	  "none /dev/huge\\04 hugetlbfs rw,pagesize=2M 0 0\n", -EINVAL,
	  NULL },
	{ "page size not a power of two", WRITE, "proc/mounts",
	  "none /dev/hugepages hugetlbfs rw,pagesize=3M 0 0\n", -EINVAL,
	  NULL },
};

#define NDAMAGES (sizeof(damages) / sizeof(damages[0]))

static void apply(const struct damage *d)
{
	char *text;
	size_t len = 0;

	switch (d->op) {
	case WRITE:
		assert_int_equal(t_write_str(tmp, d->rel, d->text), 0);
		break;
	case REMOVE:
		assert_int_equal(t_remove(tmp, d->rel), 0);
		break;
	case TRUNCATE_HALF:
		/* cut in the middle of a line, as a short read would */
		text = t_read(tmp, d->rel, &len);
		assert_non_null(text);
		assert_true(len > 20);
		len /= 2;
		if (text[len - 1] == '\n')
			len--;
		assert_int_equal(t_write(tmp, d->rel, text, len), 0);
		free(text);
		break;
	}
}

static void test_damage(void **state)
{
	const struct damage *d = *state;
	struct topo sentinel, *t = &sentinel;
	char want[PATH_MAX];

	print_message("%s: %s\n", d->rel, d->what);
	apply(d);
	assert_int_equal(read_tree(tmp, &t), d->err);
	assert_ptr_equal(t, &sentinel);
	/* one ERR message, and it names the damaged file */
	snprintf(want, sizeof(want), "%s/%s: ", tmp,
		 d->logged ? d->logged : d->rel);
	assert_int_equal(lg.n_err, 1);
	if (strncmp(lg.last_err, want, strlen(want)))
		fail_msg("log \"%s\" does not start with \"%s\"", lg.last_err,
			 want);
}

/* ---- other kernels ------------------------------------------------------- */

/* A kernel without NUMA: one node 0 that is the whole host. */
static void test_no_numa(void **state)
{
	struct exp_tree e = x86_2node;
	struct topo *t = NULL;

	(void)state;
	assert_int_equal(t_remove(tmp, NODE_DIR), 0);
	assert_int_equal(read_tree(tmp, &t), 0);
	e.nr_nodes = 1;
	e.nodes[0] = (struct exp_node){
		0, F_ON | F_MEM | F_CPU, "0-3", 4,
		e.mem_total, e.mem_free, e.mem_available, e.shmem,
		{ { 96, 82, 0 }, { 2, 1, 0 } },
	};
	memset(&e.nodes[1], 0, sizeof(e.nodes[1]));
	check_tree(&e, t, false);
	assert_int_equal(lg.n, 0);
	topo_free(t);
}

static void test_no_numa_no_cpu_online(void **state)
{
	struct topo sentinel, *t = &sentinel;
	char want[PATH_MAX];

	(void)state;
	assert_int_equal(t_remove(tmp, NODE_DIR), 0);
	assert_int_equal(t_remove(tmp, "sys/devices/system/cpu/online"), 0);
	assert_int_equal(read_tree(tmp, &t), -ENOENT);
	assert_ptr_equal(t, &sentinel);
	snprintf(want, sizeof(want), "%s/sys/devices/system/cpu/online",
		 tmp);
	assert_int_equal(lg.n_err, 1);
	assert_non_null(strstr(lg.last_err, want));
}

static void test_no_mounts(void **state)
{
	struct exp_tree e = x86_2node;
	struct topo *t = NULL;

	(void)state;
	assert_int_equal(t_remove(tmp, "proc/mounts"), 0);
	assert_int_equal(read_tree(tmp, &t), 0);
	e.nr_mounts = 0;
	check_tree(&e, t, true);
	assert_int_equal(lg.n, 0);
	topo_free(t);
}

/* A kernel without hugetlb: no sizes, nodes still read. */
static void test_no_hugetlb(void **state)
{
	struct exp_tree e = x86_2node;
	struct topo *t = NULL;

	(void)state;
	assert_int_equal(t_remove(tmp, HP_DIR), 0);
	assert_int_equal(t_remove(tmp, "proc/mounts"), 0);
	assert_int_equal(read_tree(tmp, &t), 0);
	e.nr_sizes = 0;
	e.nr_mounts = 0;
	check_tree(&e, t, true);
	assert_int_equal(topo_size_index(t, MB(2)), -1);
	topo_free(t);
}

/* Entries of the hugepages directory that are not pools are skipped. */
static void test_other_entries(void **state)
{
	struct topo *t = NULL;

	(void)state;
	assert_int_equal(t_write_str(tmp, HP_DIR "/README", "x\n"), 0);
	assert_int_equal(t_write_str(tmp, HP_DIR "/hugepages-3kB", "x\n"), 0);
	assert_int_equal(read_tree(tmp, &t), 0);
	check_tree(&x86_2node, t, true);
	topo_free(t);
}

/*
 * hugetlbfs always shows pagesize=; a line without it gets the default
 * size, and Hugepagesize is optional in meminfo.
 */
static void test_mount_default_size(void **state)
{
	static const char meminfo[] =
		"MemTotal: 6076988 kB\nMemFree: 3710720 kB\n"
		"MemAvailable: 3606328 kB\nShmem: 2692 kB\n";
	struct topo *t = NULL;

	(void)state;
	assert_int_equal(t_write_str(tmp, "proc/mounts",
		"proc /proc proc rw 0 0\n"
		"none /mnt/a\\040b hugetlbfs rw,relatime 0 0\n"
		"none /mnt/c hugetlbfs rw,pagesize=1G 0 0\n"), 0);
	assert_int_equal(read_tree(tmp, &t), 0);
	assert_int_equal(t->nr_mounts, 2);
	assert_string_equal(t->mounts[0].path, "/mnt/a b");
	assert_int_equal(t->mounts[0].page_size, MB(2));
	assert_string_equal(t->mounts[1].path, "/mnt/c");
	assert_int_equal(t->mounts[1].page_size, GB(1));
	topo_free(t);

	assert_int_equal(t_write_str(tmp, "proc/meminfo", meminfo), 0);
	assert_int_equal(read_tree(tmp, &t), 0);
	assert_int_equal(t->default_page_size, 0);
	assert_int_equal(t->mem_total, KB(6076988));
	assert_int_equal(t->nr_mounts, 2);
	assert_int_equal(lg.n, 0);
	topo_free(t);
}

static void test_bad_root(void **state)
{
	struct sysfs *s = (struct sysfs *)&lg;

	(void)state;
	t_log_reset(&lg);
	assert_int_equal(sysfs_open("/nonexistent-rampool-root", NULL,
				    &test_log, &s), -ENOENT);
	assert_ptr_equal(s, (struct sysfs *)&lg);
	assert_int_equal(lg.n_err, 1);
	assert_non_null(strstr(lg.last_err, "/nonexistent-rampool-root"));
}

int main(void)
{
	static char names[NDAMAGES][160];
	struct CMUnitTest tests[5 + NDAMAGES + 8];
	const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_x86_2node),
		cmocka_unit_test(test_x86_4node_memless),
		cmocka_unit_test(test_arm64_2node),
		cmocka_unit_test(test_x86_1node_firecracker),
		cmocka_unit_test(test_lookups),
	};
	const struct CMUnitTest others[] = {
		cmocka_unit_test_setup_teardown(test_no_numa, copy_setup,
						copy_teardown),
		cmocka_unit_test_setup_teardown(test_no_numa_no_cpu_online,
						copy_setup, copy_teardown),
		cmocka_unit_test_setup_teardown(test_no_mounts, copy_setup,
						copy_teardown),
		cmocka_unit_test_setup_teardown(test_no_hugetlb, copy_setup,
						copy_teardown),
		cmocka_unit_test_setup_teardown(test_other_entries, copy_setup,
						copy_teardown),
		cmocka_unit_test_setup_teardown(test_mount_default_size,
						copy_setup, copy_teardown),
		cmocka_unit_test(test_bad_root),
	};
	unsigned int n = 0;

	if (!t_fixtures()) {
		fprintf(stderr, "fixtures not found: set RAMPOOL_FIXTURES, or "
			"SRC to the source tree\n");
		return 1;
	}
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		tests[n++] = fixed[i];
	/* one test per damage, each on its own fresh copy of x86-2node */
	for (size_t i = 0; i < NDAMAGES; i++) {
		snprintf(names[i], sizeof(names[i]), "damage %s: %s",
			 damages[i].rel, damages[i].what);
		tests[n++] = (struct CMUnitTest){
			.name = names[i],
			.test_func = test_damage,
			.setup_func = copy_setup,
			.teardown_func = copy_teardown,
			.initial_state = (void *)&damages[i],
		};
	}
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		tests[n++] = others[i];
	return _cmocka_run_group_tests("test_topology", tests, n, NULL, NULL);
}
