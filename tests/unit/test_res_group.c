// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_res_group.c: a plan reserved as one group (rampool_plan_reserve): a member per block, found by block id, all or nothing, released together (fake mounts). */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/t_resv.h"
#include "pool/plan.h"

#define VMEM "0000:00:03.0/mem0"

static struct rampool_plan *mkplan(bool huge2m, uint64_t big)
{
	struct plan_block b[] = {
		{ .id = "pc.ram", .size = 8 * M, .region = 8 * M,
		  .page_size = 4096, .node = RAMPOOL_NODE_ANY,
		  .backing = RAMPOOL_RES_SHMEM },
		{ .id = VMEM, .size = big ? big : 2 * M,
		  .region = big ? big : 4 * M, .page_size = 4096,
		  .node = RAMPOOL_NODE_ANY, .backing = RAMPOOL_RES_SHMEM,
		  .flags = RAMPOOL_PLAN_F_SPARSE },
		{ .id = "big/../x", .size = PS2M, .region = PS2M,
		  .page_size = PS2M, .node = RAMPOOL_NODE_ANY,
		  .backing = RAMPOOL_RES_HUGETLB },
	};
	struct rampool_plan *p;

	assert_int_equal(plan_new(&p), 0);
	for (unsigned int i = 0; i < (huge2m ? 3u : 2u); i++)
		assert_int_equal(plan_add(p, &b[i]), 0);
	return p;
}

/* The member m's file: under shm/, or mnt/M/mem for hugetlb. */
static void path_is(const char *block, bool huge, const char *m)
{
	char buf[PATH_MAX + 64], want[PATH_MAX + 64];

	snprintf(want, sizeof(want), "%s/%s/%s%s", state, huge ? "mnt" : "shm",
		 m, huge ? "/mem" : "");
	assert_int_equal(rampool_group_path(pool, "g", block, buf,
					    sizeof(buf)), 0);
	assert_string_equal(buf, want);
}

static void test_group(void **st)
{
	struct rampool_plan *p;
	struct rampool_check *c = NULL;
	struct ledger_row r;
	struct ledger *l;
	char buf[8];
	struct stat s;

	(void)st;
	T_NEED_HP(1);
	p = mkplan(true, 0);
	assert_int_equal(rampool_plan_reserve(pool, p, "g", NULL, &c), 0);
	assert_non_null(c);
	rampool_check_free(c);
	/* one member per block, in plan order, its id kept as given */
	assert_int_equal(ledger_open(pool, LEDGER_READ, &l), 0);
	assert_int_equal(ledger_get(l, "g:1", &r), 0);
	assert_string_equal(r.grp, "g");
	assert_string_equal(r.block, VMEM);
	assert_int_equal(r.size, 2 * M);	/* the plugged part */
	assert_int_equal(ledger_get(l, "g:2", &r), 0);
	assert_int_equal(r.backing, RAMPOOL_RES_HUGETLB);
	assert_int_equal(ledger_get(l, "g", &r), -ENOENT);
	ledger_close(l);
	path_is("pc.ram", false, "g:0");
	path_is(VMEM, false, "g:1");
	path_is("big/../x", true, "g:2");
	assert_int_equal(t_rm.nr_mnt, 2);	/* the tmpfs, one hugetlbfs */
	snprintf(buf, sizeof(buf), "x");
	assert_int_equal(rampool_group_path(pool, "g", "pc.ram", buf,
					    sizeof(buf)), -ERANGE);
	assert_int_equal(rampool_group_path(pool, "g", "nope", buf,
					    sizeof(buf)), -ENOENT);
	assert_int_equal(rampool_group_path(pool, "h", "pc.ram", buf,
					    sizeof(buf)), -ENOENT);
	assert_int_equal(rampool_group_path(pool, "g:0", "pc.ram", buf,
					    sizeof(buf)), -EINVAL);
	assert_int_equal(stat(state, &s), 0);

	/* the name is the group's: neither a group nor a reservation again */
	assert_int_equal(rampool_plan_reserve(pool, p, "g", NULL, NULL),
			 -EEXIST);
	{
		struct rampool_reservation_opts o = shm(4 * M);

		assert_int_equal(rampool_reservation_new(pool, "g", &o),
				 -EEXIST);
		assert_int_equal(rampool_reservation_new(pool, "g:5", &o),
				 -EINVAL);
	}
	assert_int_equal(t_rm.nr_mnt, 2);

	/*
	 * A member in use: release leaves it (and says so), the rest goes.
	 * Members go in name order: the shmem ones, whose tmpfs is unmounted
	 * once empty (the first umount), then g:2's mount (the second).
	 */
	t_rm_fail(T_UMOUNT, EBUSY, 1);
	assert_int_equal(rampool_reservation_release(pool, "g"), -EBUSY);
	assert_true(t_exists("%s/mnt/g:2/mem", state));
	assert_false(t_exists("%s/shm/g:0", state));
	assert_int_equal(rampool_reservation_release(pool, "g"), 0);
	nothing_left("g:0", 0, 0);
	nothing_left("g:2", 0, 0);
	assert_int_equal(rampool_reservation_release(pool, "g"), -ENOENT);
	rampool_plan_free(p);
}

/* Does not fit: nothing is made, the check's rows say where. */
static void test_no_fit(void **st)
{
	struct rampool_plan *p = mkplan(false, 1ULL << 50);
	struct rampool_check_row row = { .sz = sizeof(row) };
	struct rampool_check *c = NULL;
	bool short_row = false;

	(void)st;
	assert_int_equal(rampool_plan_reserve(pool, p, "g", NULL, &c),
			 -ENOSPC);
	assert_non_null(c);
	for (unsigned int i = 0; i < rampool_check_count(c); i++) {
		assert_int_equal(rampool_check_row(c, i, &row), 0);
		short_row |= row.short_by > 0;
	}
	assert_true(short_row);
	rampool_check_free(c);
	nothing_left("g:0", 0, 0);
	nothing_left("g:1", 0, 0);
	rampool_plan_free(p);
}

/* The second member's file cannot be made: the first goes too. */
static void test_all_or_nothing(void **st)
{
	struct rampool_plan *p = mkplan(false, 0);

	(void)st;
	t_rm_fail(T_OPEN, ENOSPC, 1);
	assert_int_equal(rampool_plan_reserve(pool, p, "g", NULL, NULL),
			 -ENOSPC);
	assert_int_equal(t_rm.fail, -1);	/* the failure was reached */
	nothing_left("g:0", 0, 0);
	nothing_left("g:1", 0, 0);
	/* and it works once the file system does */
	t_rm_reset();
	assert_int_equal(rampool_plan_reserve(pool, p, "g", NULL, NULL), 0);
	assert_int_equal(rampool_reservation_release(pool, "g"), 0);
	nothing_left("g:1", 0, 0);
	rampool_plan_free(p);
}

static void test_bad(void **st)
{
	struct rampool_plan *p = mkplan(false, 0), *empty;
	struct rampool_group_opts o = { .sz = sizeof(o), .flags = 1u << 7 };

	(void)st;
	assert_int_equal(plan_new(&empty), 0);
	assert_int_equal(rampool_plan_reserve(NULL, p, "g", NULL, NULL),
			 -EINVAL);
	assert_int_equal(rampool_plan_reserve(pool, NULL, "g", NULL, NULL),
			 -EINVAL);
	assert_int_equal(rampool_plan_reserve(pool, p, "g:1", NULL, NULL),
			 -EINVAL);
	assert_int_equal(rampool_plan_reserve(pool, p, "", NULL, NULL),
			 -EINVAL);
	assert_int_equal(rampool_plan_reserve(pool, empty, "g", NULL, NULL),
			 -EINVAL);
	assert_int_equal(rampool_plan_reserve(pool, p, "g", &o, NULL),
			 -EINVAL);
	o.flags = 0;
	o.sz = 3;
	assert_int_equal(rampool_plan_reserve(pool, p, "g", &o, NULL),
			 -EINVAL);
	nothing_left("g:0", 0, 0);
	rampool_plan_free(empty);
	rampool_plan_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_fit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_or_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad, setup, teardown),
	};

	if (geteuid()) {
		fprintf(stderr, "skip: test_res_group needs root\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
