// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_plan_check.c: a plan checked against the recorded 2- and 4-node trees: fits, does not fit, fits only on another node, host-wide sums, a cgroup's hugetlb limits, page sizes and nodes the host lacks. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "rampool.h"
#include "pool/plan.h"
#include "t_tree.h"

#define MB(x) ((uint64_t)(x) << 20)
#define GB(x) ((uint64_t)(x) << 30)
#define ANY RAMPOOL_NODE_ANY

static struct t_log lg = T_LOG_INIT;

static struct rampool_pool *pool_on(const char *tree)
{
	struct rampool_pool_opts o = {
		.sz = sizeof(o), .log_fn = t_log_fn, .log_data = &lg,
		.log_level = RAMPOOL_LOG_DEBUG,
	};
	struct rampool_pool *p = NULL;

	o.sysroot = t_fixture(tree);
	if (!o.sysroot)
		skip();
	assert_int_equal(rampool_pool_new(&o, &p), 0);
	return p;
}

/* A plan of n blocks: (id, size, page size, node) each. */
static struct rampool_plan *plan(unsigned int n, ...)
{
	struct rampool_plan *p;
	va_list ap;

	assert_int_equal(plan_new(&p), 0);
	va_start(ap, n);
	for (unsigned int i = 0; i < n; i++) {
		struct plan_block b = { .id = va_arg(ap, char *) };

		b.size = b.region = va_arg(ap, uint64_t);
		b.page_size = va_arg(ap, uint64_t);
		b.node = va_arg(ap, int);
		b.backing = b.page_size == 4096 ? RAMPOOL_RES_SHMEM
						: RAMPOOL_RES_HUGETLB;
		assert_int_equal(plan_add(p, &b), 0);
	}
	va_end(ap);
	return p;
}

struct want {
	int node;
	uint64_t page_size, need, grantable, short_by;
	int fits_on;
};

/* Checks p on tree with opts: returns ret, rows exactly as want[n]. */
static void expect(const char *tree, struct rampool_plan *p,
		   const struct rampool_check_opts *opts, int ret,
		   const struct want *want, unsigned int n)
{
	struct rampool_pool *pool = pool_on(tree);
	struct rampool_check *c = NULL;

	assert_int_equal(rampool_plan_check(pool, p, opts, &c), ret);
	assert_non_null(c);
	assert_int_equal(rampool_check_count(c), n);
	for (unsigned int i = 0; i < n; i++) {
		struct rampool_check_row r = { .sz = sizeof(r) };

		assert_int_equal(rampool_check_row(c, i, &r), 0);
		assert_int_equal(r.node, want[i].node);
		assert_int_equal(r.page_size, want[i].page_size);
		assert_int_equal(r.need, want[i].need);
		assert_int_equal(r.grantable, want[i].grantable);
		assert_int_equal(r.short_by, want[i].short_by);
		assert_int_equal(r.fits_on, want[i].fits_on);
	}
	rampool_check_free(c);
	rampool_plan_free(p);
	rampool_pool_free(pool);
}

/*
 * x86-2node: 2M free 60 + 22, 6 reserved (globally): host-wide 76 pages
 * (152M), node 0 54 (108M), node 1 16 (32M). 1G: one free, on node 0.
 */
static void test_fits(void **st)
{
	const struct want w[] = {
		{ 0, MB(2), MB(64), MB(108), 0, ANY },
	};

	(void)st;
	expect("x86-2node", plan(1, "pc.ram", MB(64), MB(2), 0), NULL, 0,
	       w, 1);
}

static void test_other_node(void **st)
{
	const struct want w[] = {
		{ 1, MB(2), MB(64), MB(32), MB(32), 0 },	/* node 0 has it */
	};

	(void)st;
	expect("x86-2node", plan(1, "pc.ram", MB(64), MB(2), 1), NULL,
	       -ENOSPC, w, 1);
}

static void test_no_node_fits(void **st)
{
	const struct want w[] = {
		{ 1, MB(2), MB(128), MB(32), MB(96), ANY },
	};

	(void)st;
	expect("x86-2node", plan(1, "pc.ram", MB(128), MB(2), 1), NULL,
	       -ENOSPC, w, 1);
}

/* Two nodes, and blocks on no node: summed host-wide too. */
static void test_host_wide(void **st)
{
	const struct want two[] = {
		{ 0, MB(2), MB(64), MB(108), 0, ANY },
		{ 1, MB(2), MB(32), MB(32), 0, ANY },
		{ ANY, MB(2), MB(96), MB(152), 0, ANY },
	};
	const struct want any[] = {
		{ 0, MB(2), MB(100), MB(108), 0, ANY },
		{ ANY, MB(2), MB(160), MB(152), MB(8), ANY },
	};

	(void)st;
	expect("x86-2node", plan(2, "m0", MB(64), MB(2), 0, "m1", MB(32),
				 MB(2), 1), NULL, 0, two, 3);
	/* each fits alone; together they pass the host's 152M */
	expect("x86-2node", plan(2, "m0", MB(100), MB(2), 0, "any", MB(60),
				 MB(2), ANY), NULL, -ENOSPC, any, 2);
}

/* 1G and 2M pages together; the 1G page is on node 0 only. */
static void test_page_sizes(void **st)
{
	const struct want ok[] = {
		{ 0, MB(2), MB(64), MB(108), 0, ANY },
		{ 0, GB(1), GB(1), GB(1), 0, ANY },
	};
	const struct want bad[] = {
		{ 1, GB(1), GB(1), 0, GB(1), 0 },
	};
	const struct want none[] = {
		{ 7, MB(2), MB(2), 0, MB(2), 0 },	/* no node 7 */
		{ ANY, MB(32), MB(64), 0, MB(64), ANY },	/* no 32M pool */
	};

	(void)st;
	expect("x86-2node", plan(2, "pc.ram", MB(64), MB(2), 0, "big", GB(1),
				 GB(1), 0), NULL, 0, ok, 2);
	expect("x86-2node", plan(1, "big", GB(1), GB(1), 1), NULL, -ENOSPC,
	       bad, 1);
	expect("x86-2node", plan(2, "a", MB(64), MB(32), ANY, "b", MB(2),
				 MB(2), 7), NULL, -ENOSPC, none, 2);
}

/*
 * x86-4node-memless: 2M free 48/40/4/0, 12 reserved: node 0 36 pages,
 * node 1 28, node 2 none (4 free, 12 promised), node 3 has no memory.
 */
static void test_four_nodes(void **st)
{
	const struct want w[] = {
		{ 0, MB(2), MB(72), MB(72), 0, ANY },
		{ 2, MB(2), MB(8), 0, MB(8), 0 },
		{ 3, MB(2), MB(2), 0, MB(2), 0 },
		{ ANY, MB(2), MB(82), MB(160), 0, ANY },
	};

	(void)st;
	expect("x86-4node-memless", plan(3, "a", MB(72), MB(2), 0, "b",
					 MB(8), MB(2), 2, "c", MB(2), MB(2),
					 3), NULL, -ENOSPC, w, 4);
}

/* A cgroup's limit below the free pages bounds what is granted. */
static void test_cgroup(void **st)
{
	char dir[] = "/tmp/rampool-cg.XXXXXX", path[64];
	struct rampool_check_opts o = { .sz = sizeof(o), .cgroup = dir };
	static const char *const files[][2] = {
		{ "hugetlb.2MB.max", "33554432\n" },	/* 32M */
		{ "hugetlb.2MB.current", "8388608\n" },	/* 8M used */
		{ "hugetlb.2MB.rsvd.max", "max\n" },
		{ "hugetlb.1GB.max", "max\n" },
	};
	const struct want w[] = {
		{ 0, MB(2), MB(64), MB(24), MB(40), ANY },
	};
	const struct want fits[] = {
		{ 0, MB(2), MB(24), MB(24), 0, ANY },
	};
	FILE *f;

	(void)st;
	assert_non_null(mkdtemp(dir));
	for (unsigned int i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i][0]);
		f = fopen(path, "w");
		assert_non_null(f);
		fputs(files[i][1], f);
		fclose(f);
	}
	/* node 0 could give 108M; the cgroup has room for 24M */
	expect("x86-2node", plan(1, "pc.ram", MB(64), MB(2), 0), &o, -ENOSPC,
	       w, 1);
	expect("x86-2node", plan(1, "pc.ram", MB(24), MB(2), 0), &o, 0,
	       fits, 1);
	/* a file that is not a number */
	snprintf(path, sizeof(path), "%s/hugetlb.2MB.max", dir);
	f = fopen(path, "w");
	fputs("lots\n", f);
	fclose(f);
	{
		struct rampool_pool *pool = pool_on("x86-2node");
		struct rampool_plan *p = plan(1, "x", MB(2), MB(2), 0);
		struct rampool_check *c = (void *)0x1;

		t_log_reset(&lg);
		assert_int_equal(rampool_plan_check(pool, p, &o, &c), -EINVAL);
		assert_ptr_equal(c, (void *)0x1);
		assert_int_equal(t_logged(&lg, RAMPOOL_LOG_ERR,
					  "hugetlb.2MB.max: not a byte count"),
				 1);
		rampool_plan_free(p);
		rampool_pool_free(pool);
	}
	for (unsigned int i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i][0]);
		unlink(path);
	}
	rmdir(dir);
}

/* shmem: the node's available memory (no ledger on a recorded tree). */
static void test_shmem(void **st)
{
	struct rampool_pool *pool = pool_on("x86-2node");
	struct rampool_plan *p = plan(1, "ram", MB(512), 4096, 0);
	struct rampool_check_row r = { .sz = sizeof(r) };
	struct rampool_capacity *cap;
	struct rampool_node_info ni = { .sz = sizeof(ni) };
	struct rampool_check *c;

	(void)st;
	assert_int_equal(rampool_capacity_get(pool, &cap), 0);
	assert_int_equal(rampool_capacity_node(cap, 0, &ni), 0);
	assert_int_equal(rampool_plan_check(pool, p, NULL, &c), 0);
	assert_int_equal(rampool_check_row(c, 0, &r), 0);
	assert_int_equal(r.backing, RAMPOOL_RES_SHMEM);
	assert_int_equal(r.grantable, ni.mem_available);
	assert_int_equal(r.cgroup_room, UINT64_MAX);
	rampool_check_free(c);
	rampool_capacity_free(cap);
	rampool_plan_free(p);
	rampool_pool_free(pool);
}

static void test_bad_args(void **st)
{
	struct rampool_pool *pool = pool_on("x86-2node");
	struct rampool_plan *p = plan(1, "x", MB(2), MB(2), 0);
	struct rampool_check_opts o = { .sz = 1 };
	struct rampool_check_row r = { .sz = sizeof(r) };
	struct rampool_check *c = (void *)0x1;

	(void)st;
	assert_int_equal(rampool_plan_check(NULL, p, NULL, &c), -EINVAL);
	assert_int_equal(rampool_plan_check(pool, NULL, NULL, &c), -EINVAL);
	assert_int_equal(rampool_plan_check(pool, p, NULL, NULL), -EINVAL);
	assert_int_equal(rampool_plan_check(pool, p, &o, &c), -EINVAL);
	assert_ptr_equal(c, (void *)0x1);
	assert_int_equal(rampool_plan_check(pool, p, NULL, &c), 0);
	assert_int_equal(rampool_check_row(c, 1, &r), -ERANGE);
	assert_int_equal(rampool_check_row(c, 0, NULL), -EINVAL);
	r.sz = 4;
	assert_int_equal(rampool_check_row(c, 0, &r), -EINVAL);
	assert_int_equal(rampool_check_count(NULL), 0);
	rampool_check_free(c);
	rampool_check_free(NULL);
	rampool_plan_free(p);
	rampool_pool_free(pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fits),
		cmocka_unit_test(test_other_node),
		cmocka_unit_test(test_no_node_fits),
		cmocka_unit_test(test_host_wide),
		cmocka_unit_test(test_page_sizes),
		cmocka_unit_test(test_four_nodes),
		cmocka_unit_test(test_cgroup),
		cmocka_unit_test(test_shmem),
		cmocka_unit_test(test_bad_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
