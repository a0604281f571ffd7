// SPDX-License-Identifier: LGPL-2.1-or-later
/* inject_counters.c: the ledger counts refusals and SIGBUS avoided (a populate that found no page, here made to by failing its madvise), and poolctl metrics shows them (issue 11). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rampool.h"
#include "t_inject.h"
#include "t_res.h"

#define PAGES 4

static struct rampool_pool *pool;

/* The counter name of node 0, 2M pages (0 when it never happened). */
static uint64_t counted(const char *name)
{
	struct rampool_counter c = { .sz = sizeof(c) };
	struct rampool_counters *cs;
	uint64_t v = 0;

	T_EQ(rampool_counters_get(pool, &cs), 0);
	for (unsigned int i = 0; i < rampool_counters_count(cs); i++) {
		T_EQ(rampool_counters_at(cs, i, &c), 0);
		if (c.node == 0 && c.page_size == T_MB2) {
			if (!strcmp(c.name, name))
				v = c.value;
		} else {	/* nothing counted anywhere else */
			T_FAIL("counter %s node %d page size %llu: %llu",
			       c.name, c.node, (unsigned long long)c.page_size,
			       (unsigned long long)c.value);
		}
	}
	T_EQ(rampool_counters_at(cs, rampool_counters_count(cs), &c), -ERANGE);
	rampool_counters_free(cs);
	return v;
}

static int reserve(const char *name, uint64_t pages)
{
	struct rampool_res_node n0 = { .node = 0 };
	struct rampool_reservation_opts o = {
		.sz = sizeof(o), .size = pages * T_MB2,
		.backing = RAMPOOL_RES_HUGETLB, .page_size = T_MB2,
		.nodes = &n0, .nr_nodes = 1, .flags = RAMPOOL_RES_PREALLOC,
		.threads = 1, .owner_uid = -1,
	};

	return rampool_reservation_new(pool, name, &o);
}

static int block(struct rampool_block **blk)
{
	int node = 0;
	struct rampool_block_opts o = {
		.sz = sizeof(o), .size = 2 * T_MB2,
		.backing = RAMPOOL_BACKING_MEMFD_HUGETLB, .nodes = &node,
		.nr_nodes = 1, .policy = RAMPOOL_POLICY_BIND,
		.flags = RAMPOOL_BLOCK_PREALLOC, .threads = 1,
	};

	return rampool_block_new(pool, &o, blk);
}

/* Fails the nth madvise from 1 on until the populate's one is hit. */
static void no_page(int (*fn)(void *), void *arg, const char *what)
{
	for (long n = 1; n < 64; n++) {
		int ret;

		t_inj_arm(T_INJ_MADVISE, n);
		ret = fn(arg);
		t_inj_disarm();
		if (t_inj_fired() && ret == -ENOMEM) {
			printf("%s: madvise %ld failed with ENOMEM: -ENOMEM\n",
			       what, n);
			return;
		}
		T_EQ(ret, 0);
		T_EQ(rampool_reservation_release(pool, "h"), 0);
	}
	T_FAIL("%s: no madvise failed the populate", what);
}

static int res_fn(void *arg)
{
	(void)arg;
	return reserve("h", 2);
}

static int block_fn(void *arg)
{
	struct rampool_block *blk = NULL;
	int ret = block(&blk);

	(void)arg;
	rampool_block_free(blk);
	return ret;	/* made and freed without the fault */
}

int main(void)
{
	struct rampool_pool_opts po = { .sz = sizeof(po) };
	char *out = NULL, line[160];

	if (geteuid())
		t_skip("needs root (reservations mount)");
	t_res_node_free(0, PAGES);
	po.state_dir = t_res_dir();
	T_EQ(rampool_pool_new(&po, &pool), 0);

	/* refusals: one per call that did not fit, per node it lacked */
	T_EQ(reserve("big", PAGES + 1), -ENOSPC);
	T_EQ(counted("refusals"), 1);
	T_EQ(reserve("big", PAGES + 1), -ENOSPC);
	T_EQ(counted("refusals"), 2);
	T_EQ(counted("sigbus_avoided"), 0);

	/* a reservation's populate that found no page */
	no_page(res_fn, NULL, "reservation");
	T_EQ(counted("sigbus_avoided"), 1);
	/* a block's */
	for (long n = 1; n < 64; n++) {
		int ret;

		t_inj_arm(T_INJ_MADVISE, n);
		ret = block_fn(NULL);
		t_inj_disarm();
		if (t_inj_fired() && ret == -ENOMEM)
			break;
		T_EQ(ret, 0);
		T_ASSERT(n < 63);
	}
	T_EQ(counted("sigbus_avoided"), 2);
	T_EQ(counted("refusals"), 2);

	/* poolctl metrics shows the same figures */
	T_EQ(t_poolctl(&out, NULL, "metrics", NULL), 0);
	snprintf(line, sizeof(line), "\nrampool_refusals_total{node=\"0\","
		 "page_size=\"%llu\"} 2\n", (unsigned long long)T_MB2);
	T_ASSERT(strstr(out, line));
	snprintf(line, sizeof(line), "\nrampool_sigbus_avoided_total{node="
		 "\"0\",page_size=\"%llu\"} 2\n", (unsigned long long)T_MB2);
	T_ASSERT(strstr(out, line));
	T_ASSERT(strstr(out, "# TYPE rampool_refusals_total counter\n"));
	free(out);
	rampool_pool_free(pool);
	t_res_audit_clean();
	return 0;
}
