// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_res_fit.c: refused reservations and their shortfall lines, racing reservers, info struct sizes, population and its cancel. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
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

/* ---- refused: the shortfall lines --------------------------------------- */

static void test_shortfall_hugetlb(void **st)
{
	const struct rampool_res_node n0[1] = { { 0, 0 } };
	struct rampool_reservation_opts o;
	struct rampool_shortfall sf = { .sz = sizeof(sf) };
	uint64_t avail, need;
	long node_avail;

	(void)st;
	/* under tests/run's lock nothing else moves these */
	avail = (uint64_t)t_hp_avail() * PS2M;
	o = huge(avail + PS2M);
	o.extra = PS2M;
	need = avail + 2 * PS2M;
	assert_int_equal(rampool_reservation_new(pool, "big", &o), -ENOSPC);
	nothing_left("big", 0, 0);
	assert_int_equal(rampool_pool_last_shortfall(pool, 0, &sf), 0);
	assert_int_equal(sf.sz, sizeof(sf));
	assert_int_equal(sf.node, RAMPOOL_NODE_ANY);
	assert_int_equal(sf.page_size, PS2M);
	assert_int_equal(sf.need, need);
	assert_int_equal(sf.grantable, avail);
	assert_int_equal(sf.short_by, 2 * PS2M);
	assert_int_equal(rampool_pool_last_shortfall(pool, 1, &sf), -ERANGE);
	assert_int_equal(rampool_pool_last_shortfall(pool, UINT_MAX, &sf),
			 -ERANGE);

	/* on node 0: its free pages less every reservation (global) */
	node_avail = t_sysfs_long("/sys/devices/system/node/node0/hugepages/"
				  "hugepages-2048kB/free_hugepages") -
		     t_sysfs_long(T_HP2M "resv_hugepages");
	if (node_avail < 0)
		node_avail = 0;
	if ((uint64_t)node_avail * PS2M < avail)
		avail = (uint64_t)node_avail * PS2M;
	o.nodes = n0;
	o.nr_nodes = 1;
	assert_int_equal(rampool_reservation_new(pool, "big", &o), -ENOSPC);
	assert_int_equal(rampool_pool_last_shortfall(pool, 0, &sf), 0);
	assert_int_equal(sf.node, 0);
	assert_int_equal(sf.need, need);
	assert_int_equal(sf.grantable, avail);
	assert_int_equal(sf.short_by, need - avail);
	assert_int_equal(rampool_pool_last_shortfall(pool, 1, &sf), -ERANGE);
	nothing_left("big", 0, 0);

	/* a bad input clears the last refusal's lines */
	bad("..", &o);
	assert_int_equal(rampool_pool_last_shortfall(pool, 0, &sf), -ERANGE);
}

static uint64_t mem_available(void)
{
	unsigned long long kb = 0;
	char line[256];
	FILE *f = fopen("/proc/meminfo", "re");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return kb << 10;
}

static void test_shortfall_shmem(void **st)
{
	struct rampool_reservation_opts o = shm(1ull << 50);
	struct rampool_shortfall sf = { .sz = sizeof(sf) };
	uint64_t before = mem_available(), after;

	(void)st;
	assert_int_equal(rampool_reservation_new(pool, "big", &o), -ENOSPC);
	after = mem_available();
	nothing_left("big", 0, 0);
	assert_int_equal(rampool_pool_last_shortfall(pool, 0, &sf), 0);
	assert_int_equal(sf.node, RAMPOOL_NODE_ANY);
	assert_int_equal(sf.page_size, 4096);
	assert_int_equal(sf.need, 1ull << 50);
	/* the kernel's MemAvailable of the moment (nothing owed yet) */
	assert_true(sf.grantable >= (before < after ? before : after) - 64 * M);
	assert_true(sf.grantable <= (before > after ? before : after) + 64 * M);
	assert_int_equal(sf.short_by, sf.need - sf.grantable);
	assert_int_equal(rampool_pool_last_shortfall(pool, 1, &sf), -ERANGE);

	/* what the ledger owes is taken off: 64M owed, 64M less grantable */
	o = shm(64 * M);
	assert_int_equal(rampool_reservation_new(pool, "owed", &o), 0);
	o = shm(1ull << 50);
	before = mem_available();
	assert_int_equal(rampool_reservation_new(pool, "big", &o), -ENOSPC);
	after = mem_available();
	assert_int_equal(rampool_pool_last_shortfall(pool, 0, &sf), 0);
	assert_true(sf.grantable + 64 * M >=
		    (before < after ? before : after) - 64 * M);
	assert_true(sf.grantable + 64 * M <=
		    (before > after ? before : after) + 64 * M);
	assert_int_equal(rampool_reservation_release(pool, "owed"), 0);
}

/*
 * Processes racing for more than the host has (each asks 60% of it):
 * the ledger's lock lets exactly one through; the others are refused
 * with what the winner took off.
 */
static void test_race(void **st)
{
	uint64_t size = mem_available() / 10 * 6 & ~4095ull;
	int won = 0, refused = 0;
	pid_t pids[4];
	char name[8];

	(void)st;
	for (int i = 0; i < 4; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			struct rampool_reservation_opts o = shm(size);
			int ret;

			snprintf(name, sizeof(name), "r%d", i);
			ret = rampool_reservation_new(pool, name, &o);
			if (ret && ret != -ENOSPC)
				fprintf(stderr, "racer %d: %s (%s)\n", i,
					strerror(-ret), t_last_log);
			_exit(ret == 0 ? 0 : ret == -ENOSPC ? 1 : 2);
		}
	}
	for (int i = 0; i < 4; i++) {
		int rc = t_wait(pids[i]);

		assert_true(rc == 0 || rc == 1);
		won += rc == 0;
		refused += rc == 1;
	}
	assert_int_equal(won, 1);
	assert_int_equal(refused, 3);
	/* the winner may be any of them: release it before checking */
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		if (t_exists("%s/shm/%s", state, name))
			assert_int_equal(rampool_reservation_release(pool,
								     name), 0);
	}
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		nothing_left(name, 0, 0);
	}
}

/* ---- info structs of other sizes ---------------------------------------- */

static void test_info_sizes(void **st)
{
	struct {
		struct rampool_shortfall s;
		unsigned char tail[16];
	} big;
	struct {
		struct rampool_reservation_info i;
		unsigned char tail[16];
	} ibig;
	struct {
		struct rampool_reservation_node_info n;
		unsigned char tail[16];
	} nbig;
	struct rampool_reservation_opts o = huge(1ull << 40);
	struct rampool_res_list *list;
	unsigned char dst[32], src[32];

	(void)st;
	assert_int_equal(rampool_reservation_new(pool, "big", &o), -ENOSPC);
	memset(&big, 0xaa, sizeof(big));
	big.s.sz = sizeof(big);
	assert_int_equal(rampool_pool_last_shortfall(pool, 0, &big.s), 0);
	assert_int_equal(big.s.sz, sizeof(big));
	assert_int_equal(big.s.need, 1ull << 40);
	for (size_t i = 0; i < sizeof(big.tail); i++)
		assert_int_equal(big.tail[i], 0);
	big.s.sz = sizeof(big.s) - 1;
	assert_int_equal(rampool_pool_last_shortfall(pool, 0, &big.s),
			 -EINVAL);
	assert_int_equal(rampool_pool_last_shortfall(pool, 0, NULL), -EINVAL);
	assert_int_equal(rampool_pool_last_shortfall(NULL, 0, &big.s),
			 -EINVAL);

	o = shm(M);
	assert_int_equal(rampool_reservation_new(pool, "s", &o), 0);
	assert_int_equal(rampool_reservation_list(pool, NULL, &list), 0);
	memset(&ibig, 0xaa, sizeof(ibig));
	ibig.i.sz = sizeof(ibig);
	assert_int_equal(rampool_res_list_get(list, 0, &ibig.i), 0);
	assert_int_equal(ibig.i.size, M);
	for (size_t i = 0; i < sizeof(ibig.tail); i++)
		assert_int_equal(ibig.tail[i], 0);
	ibig.i.sz = sizeof(ibig.i) - 1;
	assert_int_equal(rampool_res_list_get(list, 0, &ibig.i), -EINVAL);
	ibig.i.sz = sizeof(ibig.i);
	assert_int_equal(rampool_res_list_get(list, 1, &ibig.i), -ERANGE);
	memset(&nbig, 0xaa, sizeof(nbig));
	nbig.n.sz = sizeof(nbig);
	assert_int_equal(rampool_res_list_node(list, 0, 0, &nbig.n), 0);
	assert_int_equal(nbig.n.node, RAMPOOL_NODE_ANY);
	assert_int_equal(nbig.n.size, M);
	assert_int_equal(nbig.n.owed, M);
	for (size_t i = 0; i < sizeof(nbig.tail); i++)
		assert_int_equal(nbig.tail[i], 0);
	nbig.n.sz = 4;
	assert_int_equal(rampool_res_list_node(list, 0, 0, &nbig.n), -EINVAL);
	nbig.n.sz = sizeof(nbig.n);
	assert_int_equal(rampool_res_list_node(list, 0, 1, &nbig.n), -ERANGE);
	rampool_res_list_free(list);
	assert_int_equal(rampool_reservation_release(pool, "s"), 0);

	/* a struct of a later minimum: filled up to sz, nothing past it */
	memset(src, 0x11, sizeof(src));
	memset(dst, 0xee, sizeof(dst));
	*(size_t *)dst = 16;
	assert_int_equal(info_copy(dst, 16, src, sizeof(src), 8), 0);
	assert_int_equal(*(size_t *)dst, 16);
	for (size_t i = sizeof(size_t); i < 16; i++)
		assert_int_equal(dst[i], 0x11);
	for (size_t i = 16; i < sizeof(dst); i++)
		assert_int_equal(dst[i], 0xee);
	assert_int_equal(info_copy(dst, 7, src, sizeof(src), 8), -EINVAL);
}

/* ---- populated now (prealloc) and cancelled ----------------------------- */

static void cancel_at_first(void *data, uint64_t done, uint64_t total)
{
	(void)done; (void)total;
	rampool_pool_cancel(data);
}

static void count_progress(void *data, uint64_t done, uint64_t total)
{
	uint64_t *last = data;

	assert_true(done > *last);
	assert_int_equal(total, 8 * M);
	*last = done;
}

static void test_prealloc(void **st)
{
	struct rampool_reservation_opts o = shm(8 * M);
	struct rampool_reservation_info info = { .sz = sizeof(info) };
	struct rampool_reservation_node_info ni = { .sz = sizeof(ni) };
	struct rampool_res_list *list;
	struct ledger_row r;
	struct ledger *l;
	uint64_t last = 0;

	(void)st;
	o.flags = RAMPOOL_RES_PREALLOC;
	o.extra = 4 * M;
	o.progress = count_progress;
	o.progress_data = &last;
	assert_int_equal(rampool_reservation_new(pool, "p", &o), 0);
	assert_int_equal(last, 8 * M);
	assert_int_equal(ledger_open(pool, LEDGER_READ, &l), 0);
	assert_int_equal(ledger_get(l, "p", &r), 0);
	ledger_close(l);
	assert_int_equal(r.state, RAMPOOL_RES_STATE_READY);
	assert_int_equal(r.pid, 0);	/* persistent now */
	assert_int_equal(r.flags, LEDGER_F_PREALLOC);
	assert_int_equal(r.nodes[0].populated, 8 * M);
	assert_int_equal(rampool_reservation_list(pool, "p", &list), 0);
	assert_int_equal(rampool_res_list_get(list, 0, &info), 0);
	assert_int_equal(info.populated, 8 * M);
	assert_int_equal(info.held, 8 * M);
	assert_int_equal(info.owed, 4 * M);	/* the headroom */
	assert_int_equal(rampool_res_list_node(list, 0, 0, &ni), 0);
	assert_int_equal(ni.held, 8 * M);
	assert_int_equal(ni.owed, 4 * M);
	rampool_res_list_free(list);
	assert_int_equal(rampool_reservation_release(pool, "p"), 0);
	nothing_left("p", 0, 0);
}

static void test_prealloc_cancel(void **st)
{
	struct rampool_reservation_opts o = shm(192 * M);

	(void)st;
	o.flags = RAMPOOL_RES_PREALLOC;
	o.threads = 1;		/* three 64M chunks, one after the other */
	o.progress = cancel_at_first;
	o.progress_data = pool;
	assert_int_equal(rampool_reservation_new(pool, "p", &o), -ECANCELED);
	nothing_left("p", 0, 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_shortfall_hugetlb),
		T(test_shortfall_shmem),
		T(test_race),
		T(test_info_sizes),
		T(test_prealloc),
		T(test_prealloc_cancel),
	};

	if (geteuid()) {
		fprintf(stderr, "skip: test_res_fit needs root\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
