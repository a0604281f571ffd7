// SPDX-License-Identifier: LGPL-2.1-or-later
/* t_resv.h: the fixture of the reservation tests: a pool on a fresh state dir with fake mounts, options, and "nothing left" checks. */
#ifndef T_RESV_H
#define T_RESV_H

/* after <cmocka.h>: the checks assert */
#include <sqlite3.h>

#include "tests/unit/t_res.h"
#include "pool/opts.h"
#include "pool/res.h"

#define M (1ull << 20)
#define PS2M (2ull << 20)

static char tmp[PATH_MAX], state[PATH_MAX + 16];
static struct rampool_pool *pool;

static inline int setup(void **st)
{
	(void)st;
	umask(022);
	t_rm_reset();
	t_tmpdir(tmp, sizeof(tmp));
	snprintf(state, sizeof(state), "%s/state", tmp);
	pool = t_pool(state, NULL);
	pool->resmount_ops = &t_rm_ops;
	return 0;
}

static inline int teardown(void **st)
{
	(void)st;
	rampool_pool_free(pool);
	t_rmtree(tmp);
	t_hp_restore();
	t_group_del();
	return 0;
}

static inline struct rampool_reservation_opts shm(uint64_t size)
{
	return (struct rampool_reservation_opts){
		.sz = sizeof(struct rampool_reservation_opts),
		.size = size, .backing = RAMPOOL_RES_SHMEM, .owner_uid = -1,
	};
}

static inline struct rampool_reservation_opts huge(uint64_t size)
{
	return (struct rampool_reservation_opts){
		.sz = sizeof(struct rampool_reservation_opts),
		.size = size, .backing = RAMPOOL_RES_HUGETLB, .owner_uid = -1,
	};
}

static inline void raw_exec(const char *sql)
{
	char db[PATH_MAX + 32];
	sqlite3 *h;

	snprintf(db, sizeof(db), "%s/ledger.db", state);
	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
}

static inline int count_totals(void *ctx, uint64_t ps, int node, int backing,
			uint64_t promised, uint64_t populated)
{
	(void)ps; (void)node; (void)backing; (void)promised; (void)populated;
	(*(int *)ctx)++;
	return 0;
}

/* Rows in the ledger (0 when there is none), its sums checked. */
static inline int rows(const char *name, bool *found)
{
	struct ledger_row r;
	struct ledger *l;
	int n = 0, ret;

	*found = false;
	ret = ledger_open(pool, LEDGER_READ, &l);
	if (ret == -ENOENT)
		return 0;
	assert_int_equal(ret, 0);
	assert_int_equal(ledger_check_totals(l), 0);
	*found = name && !ledger_get(l, name, &r);
	assert_int_equal(ledger_totals(l, count_totals, &n), 0);
	ledger_close(l);
	return n;
}

/*
 * A failed call left nothing: no row of name (and no sums when it was the
 * only one), no mount, file, directory or intent of it; every fake mount
 * but `mounts` undone.
 */
static inline void nothing_left(const char *name, int mounts, int sums)
{
	bool found;

	assert_int_equal(rows(name, &found), sums);
	assert_false(found);
	assert_int_equal(t_rm.nr_mnt, mounts);
	assert_false(t_exists("%s/mnt/%s", state, name));
	assert_false(t_exists("%s/shm/%s", state, name));
	assert_false(t_exists("%s/intent/%s", state, name));
	if (!mounts)
		assert_false(t_exists("%s/shm", state));
}

/* ---- bad input: -EINVAL before anything is touched ---------------------- */

static inline void bad(const char *name, const struct rampool_reservation_opts *o)
{
	bool had = t_exists("%s", state);
	int calls = 0;

	assert_int_equal(rampool_reservation_new(pool, name, o), -EINVAL);
	for (int i = 0; i < T_RMC_NR; i++)
		calls += t_rm.calls[i];
	assert_int_equal(calls, 0);
	/* not even the state directory or the ledger is made */
	assert_int_equal(t_exists("%s", state), had);
}

#endif
