// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_pages.c: rampool_hugepages_set on a copy of the recorded 4-node tree with a fake kernel: dry run, writes read back, short and kept nodes, refusals by the ledger's rows before any write, bad input, root only. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/t_tree.h"
#include "backend/sysfs.h"
#include "pool/ledger.h"
#include "pool/pool.h"

#define PS2M (2ull << 20)
#define NR(n) "sys/devices/system/node/node" #n \
	"/hugepages/hugepages-2048kB/nr_hugepages"

static char *root;
static char state[PATH_MAX];
static struct rampool_pool *pool;
static char last_log[1024];

/* The fake kernel: at most cap[node] pages, at least keep[node]. */
static uint64_t cap[8], keep[8];

static void t_log(void *data, enum rampool_log_level level, const char *msg)
{
	(void)data;
	if (level <= RAMPOOL_LOG_ERR)
		snprintf(last_log, sizeof(last_log), "%s", msg);
}

static ssize_t fake_write(int fd, const void *buf, size_t count)
{
	char link[64], path[PATH_MAX], text[32];
	unsigned long long v;
	ssize_t n;
	int node = 0;	/* the host's file: a kernel without NUMA */
	char *p;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	assert_true(n > 0);
	path[n] = '\0';
	p = strstr(path, "/node/node");
	if (p)
		node = atoi(p + 10);
	assert_true(node >= 0 && node < 8);
	assert_true(count < sizeof(text));
	memcpy(text, buf, count);
	text[count] = '\0';
	v = strtoull(text, NULL, 10);
	if (v > cap[node])
		v = cap[node];
	if (v < keep[node])
		v = keep[node];
	n = snprintf(text, sizeof(text), "%llu\n", v);
	assert_int_equal(pwrite(fd, text, (size_t)n, 0), n);
	return (ssize_t)count;
}

static struct sysfs_ops fake_ops;

static uint64_t nr(const char *rel)
{
	char path[PATH_MAX], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	return strtoull(buf, NULL, 10);
}

static int setup(void **st)
{
	struct rampool_pool_opts o = {
		.sz = sizeof(o), .log_fn = t_log,
		.log_level = RAMPOOL_LOG_DEBUG,
		.group = "rampool-unit-no-such-group",
	};

	(void)st;
	root = t_tree_copy("x86-4node-memless");
	assert_non_null(root);
	snprintf(state, sizeof(state), "%s/state", root);
	o.sysroot = root;
	o.state_dir = state;
	assert_int_equal(rampool_pool_new(&o, &pool), 0);
	fake_ops = sysfs_default_ops;
	fake_ops.write = fake_write;
	pool->sysfs_ops = &fake_ops;
	for (int i = 0; i < 8; i++) {
		cap[i] = UINT64_MAX;
		keep[i] = 0;
	}
	last_log[0] = '\0';
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	rampool_pool_free(pool);
	t_rm_tree(root);
	free(root);
	return 0;
}

/* A ready row of kind on node (RAMPOOL_NODE_ANY: none) in the ledger. */
static void add_row(const char *name, int kind, int node, uint64_t size,
		    uint64_t extra, uint64_t ps)
{
	struct ledger_row r = { 0 };
	struct ledger *l;

	snprintf(r.name, sizeof(r.name), "%s", name);
	r.kind = kind;
	r.backing = RAMPOOL_RES_HUGETLB;
	r.page_size = ps;
	r.size = size;
	r.extra = extra;
	r.state = RAMPOOL_RES_STATE_READY;
	r.created = 1700000000;
	r.nr_nodes = 1;
	r.nodes[0].node = node;
	r.nodes[0].size = size;
	assert_int_equal(ledger_open(pool, LEDGER_WRITE, &l), 0);
	assert_int_equal(ledger_begin(l), 0);
	assert_int_equal(ledger_insert(l, &r), 0);
	assert_int_equal(ledger_commit(l), 0);
	ledger_close(l);
}

static struct rampool_hugepages_row row_at(struct rampool_hugepages *h,
					   unsigned int i)
{
	struct rampool_hugepages_row r = { .sz = sizeof(r) };

	assert_int_equal(rampool_hugepages_row(h, i, &r), 0);
	return r;
}

static void test_dry_run(void **st)
{
	struct rampool_hugepages_req req[] = { { 1, 60 }, { 2, 13 } };
	struct rampool_hugepages *h = NULL;
	struct rampool_hugepages_row r;

	(void)st;
	add_row("vm1", LEDGER_RESERVATION, 2, 12 * PS2M, PS2M, PS2M);
	add_row("vm1g", LEDGER_RESERVATION, 2, 1ull << 30, 0, 1ull << 30);
	assert_int_equal(rampool_hugepages_set(pool, PS2M, req, 2,
					       RAMPOOL_HUGEPAGES_DRY_RUN, &h),
			 0);
	assert_int_equal(rampool_hugepages_count(h), 2);
	r = row_at(h, 0);
	assert_int_equal(r.node, 1);
	assert_int_equal(r.page_size, PS2M);
	assert_int_equal(r.before, 48);
	assert_int_equal(r.asked, 60);
	assert_int_equal(r.got, 48);
	assert_int_equal(r.floor, 0);
	assert_int_equal(r.flags, 0);
	assert_string_equal(r.held_by, "");
	r = row_at(h, 1);
	assert_int_equal(r.before, 24);
	/* 12 pages and one of headroom; the 1G row is another size */
	assert_int_equal(r.floor, 13);
	assert_string_equal(r.held_by, "vm1 13");
	assert_int_equal(rampool_hugepages_row(h, 2, &r), -ERANGE);
	rampool_hugepages_free(h);
	/* one page less is refused in a dry run too */
	req[1].count = 12;
	h = NULL;
	assert_int_equal(rampool_hugepages_set(pool, PS2M, req, 2,
					       RAMPOOL_HUGEPAGES_DRY_RUN, &h),
			 -EBUSY);
	assert_int_equal(row_at(h, 1).flags, RAMPOOL_HUGEPAGES_F_REFUSED);
	assert_int_equal(row_at(h, 0).flags, 0);
	rampool_hugepages_free(h);
	assert_int_equal(nr(NR(1)), 48);
	assert_int_equal(nr(NR(2)), 24);
}

static void test_write_read_back(void **st)
{
	struct rampool_hugepages_req req[] = { { 0, 50 }, { 1, 40 } };
	struct rampool_hugepages *h = NULL;
	struct rampool_hugepages_row r;

	(void)st;
	assert_int_equal(rampool_hugepages_set(pool, PS2M, req, 2, 0, &h), 0);
	r = row_at(h, 0);
	assert_int_equal(r.before, 48);
	assert_int_equal(r.got, 50);
	assert_int_equal(r.flags, RAMPOOL_HUGEPAGES_F_WRITTEN);
	r = row_at(h, 1);
	assert_int_equal(r.got, 40);
	rampool_hugepages_free(h);
	assert_int_equal(nr(NR(0)), 50);
	assert_int_equal(nr(NR(1)), 40);
}

static void test_short_and_kept(void **st)
{
	struct rampool_hugepages_req req[] = { { 1, 512 }, { 2, 30 } };
	struct rampool_hugepages *h = NULL;
	struct rampool_hugepages_row r;

	(void)st;
	cap[1] = 498;
	assert_int_equal(rampool_hugepages_set(pool, PS2M, req, 2, 0, &h),
			 -ENOMEM);
	r = row_at(h, 0);
	assert_int_equal(r.got, 498);
	assert_int_equal(r.flags, RAMPOOL_HUGEPAGES_F_WRITTEN |
				  RAMPOOL_HUGEPAGES_F_SHORT);
	/* a short node does not stop the next one */
	r = row_at(h, 1);
	assert_int_equal(r.got, 30);
	assert_int_equal(r.flags, RAMPOOL_HUGEPAGES_F_WRITTEN);
	rampool_hugepages_free(h);
	assert_string_equal(last_log, "asked 512 on node 1, got 498");

	/* pages in use that no row holds: the kernel keeps them */
	keep[0] = 20;
	req[0] = (struct rampool_hugepages_req){ 0, 4 };
	h = NULL;
	assert_int_equal(rampool_hugepages_set(pool, PS2M, req, 1, 0, &h),
			 -EBUSY);
	r = row_at(h, 0);
	assert_int_equal(r.got, 20);
	assert_int_equal(r.flags, RAMPOOL_HUGEPAGES_F_WRITTEN |
				  RAMPOOL_HUGEPAGES_F_KEPT);
	rampool_hugepages_free(h);
}

static void test_refused_before_any_write(void **st)
{
	/* node 0 would grow, node 2 would go below its rows: neither moves */
	struct rampool_hugepages_req req[] = { { 0, 60 }, { 2, 10 } };
	struct rampool_hugepages *h = NULL;
	struct rampool_hugepages_row r;

	(void)st;
	add_row("vm1", LEDGER_RESERVATION, 2, 8 * PS2M, 0, PS2M);
	add_row("@w1", LEDGER_WARM, 2, 4 * PS2M, 0, PS2M);
	add_row("qemu-1.pc.ram", LEDGER_BLOCK, 2, 2 * PS2M, 0, PS2M);
	add_row("vm0", LEDGER_RESERVATION, 0, 50 * PS2M, 0, PS2M);
	assert_int_equal(rampool_hugepages_set(pool, PS2M, req, 2, 0, &h),
			 -EBUSY);
	r = row_at(h, 0);
	assert_int_equal(r.flags, 0);
	assert_int_equal(r.floor, 50);
	assert_int_equal(r.got, 48);
	r = row_at(h, 1);
	assert_int_equal(r.flags, RAMPOOL_HUGEPAGES_F_REFUSED);
	assert_int_equal(r.floor, 14);
	assert_int_equal(r.got, 24);
	assert_string_equal(r.held_by, "@w1 4, block qemu-1.pc.ram 2, vm1 8");
	rampool_hugepages_free(h);
	assert_string_equal(last_log, "pages: node 2: refused: 10 pages is "
			    "below the 14 the pool holds there (@w1 4, block "
			    "qemu-1.pc.ram 2, vm1 8)");
	assert_int_equal(nr(NR(0)), 48);
	assert_int_equal(nr(NR(2)), 24);

	/* exactly the floor is allowed */
	req[1].count = 14;
	h = NULL;
	assert_int_equal(rampool_hugepages_set(pool, PS2M, req, 2, 0, &h), 0);
	assert_int_equal(row_at(h, 1).got, 14);
	rampool_hugepages_free(h);
	assert_int_equal(nr(NR(0)), 60);
	assert_int_equal(nr(NR(2)), 14);
}

static void test_unbound_rows(void **st)
{
	/* 48 + 48 + 24 = 120 on the host; 100 pages bound to no node */
	struct rampool_hugepages_req req[] = { { 0, 10 }, { 1, 10 } };
	struct rampool_hugepages *h = NULL;

	(void)st;
	add_row("spread", LEDGER_RESERVATION, RAMPOOL_NODE_ANY, 100 * PS2M, 0,
		PS2M);
	assert_int_equal(rampool_hugepages_set(pool, PS2M, req, 2, 0, &h),
			 -EBUSY);
	assert_int_equal(row_at(h, 0).flags, RAMPOOL_HUGEPAGES_F_REFUSED);
	assert_int_equal(row_at(h, 1).flags, RAMPOOL_HUGEPAGES_F_REFUSED);
	rampool_hugepages_free(h);
	assert_string_equal(last_log, "pages: refused: 44 pages on all nodes "
			    "is below the 100 the pool holds (spread 100 on "
			    "no one node)");
	assert_int_equal(nr(NR(0)), 48);
	/* 48 + 28 + 24 = 100: allowed */
	req[1].count = 28;
	req[0].count = 48;
	h = NULL;
	assert_int_equal(rampool_hugepages_set(pool, PS2M, req, 2, 0, &h), 0);
	rampool_hugepages_free(h);
	assert_int_equal(nr(NR(1)), 28);
}

static void test_no_numa(void **st)
{
	struct rampool_hugepages_req req[] = { { 0, 130 } };
	struct rampool_hugepages *h = NULL;
	struct rampool_hugepages_row r;
	const char *g = "sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages";

	(void)st;
	/* no node directory: node 0 is the host's pool */
	assert_int_equal(t_remove(root, "sys/devices/system/node"), 0);
	assert_int_equal(rampool_hugepages_set(pool, PS2M, req, 1, 0, &h), 0);
	r = row_at(h, 0);
	assert_int_equal(r.before, 120);
	assert_int_equal(r.got, 130);
	rampool_hugepages_free(h);
	assert_int_equal(nr(g), 130);
	req[0].node = 1;
	assert_int_equal(rampool_hugepages_set(pool, PS2M, req, 1, 0, &h),
			 -EINVAL);
	assert_int_equal(nr(g), 130);
}

static void test_bad_input(void **st)
{
	struct rampool_hugepages_req req[] = { { 0, 10 }, { 0, 12 } };
	struct rampool_hugepages *h = (void *)&req;	/* stays untouched */

	(void)st;
	assert_int_equal(rampool_hugepages_set(NULL, PS2M, req, 1, 0, &h),
			 -EINVAL);
	assert_int_equal(rampool_hugepages_set(pool, PS2M, req, 2, 0, &h),
			 -EINVAL);
	assert_string_equal(last_log, "pages: node 0 given twice");
	assert_int_equal(rampool_hugepages_set(pool, PS2M, req, 0, 0, &h),
			 -EINVAL);
	assert_int_equal(rampool_hugepages_set(pool, PS2M, req, 1, 8, &h),
			 -EINVAL);
	assert_int_equal(rampool_hugepages_set(pool, 3 << 20, req, 1, 0, &h),
			 -EINVAL);
	assert_int_equal(rampool_hugepages_set(pool, 4ull << 20, req, 1, 0,
					       &h), -EINVAL);
	assert_string_equal(last_log, "pages: the kernel has no 4096 kB "
			    "hugepages");
	req[0] = (struct rampool_hugepages_req){ 3, 1 };
	assert_int_equal(rampool_hugepages_set(pool, PS2M, req, 1, 0, &h),
			 -EINVAL);
	assert_string_equal(last_log, "pages: node 3 has no memory "
			    "(memoryless): it can hold no hugepages");
	req[0] = (struct rampool_hugepages_req){ 7, 1 };
	assert_int_equal(rampool_hugepages_set(pool, PS2M, req, 1, 0, &h),
			 -EINVAL);
	assert_string_equal(last_log, "pages: no node 7");
	req[0] = (struct rampool_hugepages_req){ 0, (1ull << 40) + 1 };
	assert_int_equal(rampool_hugepages_set(pool, PS2M, req, 1, 0, &h),
			 -EINVAL);
	assert_ptr_equal(h, (void *)&req);
	assert_int_equal(nr(NR(0)), 48);
}

static void test_root_only(void **st)
{
	struct rampool_hugepages_req req[] = { { 0, 10 } };
	int status;
	pid_t pid;

	(void)st;
	if (geteuid())
		skip();
	assert_int_equal(chmod(root, 0755), 0);	/* nobody walks in */
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		struct rampool_hugepages *h = NULL;
		int a, b;

		if (setgid(65534) || setuid(65534))
			_exit(3);
		a = rampool_hugepages_set(pool, PS2M, req, 1, 0, &h);
		/* a dry run reads, and there is no ledger yet */
		b = rampool_hugepages_set(pool, PS2M, req, 1,
					  RAMPOOL_HUGEPAGES_DRY_RUN, &h);
		_exit(a == -EPERM && b == 0 && h ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(nr(NR(0)), 48);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dry_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_read_back, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_short_and_kept, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_refused_before_any_write,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_unbound_rows, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_numa, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_root_only, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
