// SPDX-License-Identifier: LGPL-2.1-or-later
/* inject_res.c: fails each malloc, calloc, realloc and strdup of the library along real reservations made, read, grown and released: an error and nothing changed, every time. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rampool.h"
#include "t_inject.h"
#include "t_res.h"	/* and t_util.h */

/*
 * Linked against librampool.a with -Wl,--wrap=<fn> for each of WRAP_FNS
 * (Makefile): the library's own calls go through a counter first. Only
 * the allocators are failed here; the rest pass through.
 */

/* ---- the steps, each on the state the ones before it left ------------- */

static struct rampool_pool *pool;

static int reserve_shmem(void)
{
	struct rampool_reservation_opts o = {
		.sz = sizeof(o), .size = 4 << 20, .extra = 2 << 20,
		.backing = RAMPOOL_RES_SHMEM, .owner_uid = -1,
	};

	return rampool_reservation_new(pool, "s", &o);
}

static int reserve_hugetlb(void)
{
	struct rampool_reservation_opts o = {
		.sz = sizeof(o), .size = 2 * T_MB2, .backing = RAMPOOL_RES_HUGETLB,
		.flags = RAMPOOL_RES_PREALLOC, .threads = 2, .owner_uid = -1,
	};

	return rampool_reservation_new(pool, "h", &o);
}

static int read_all(void)
{
	struct rampool_reservation_node_info ni = { .sz = sizeof(ni) };
	struct rampool_reservation_info info = { .sz = sizeof(info) };
	struct rampool_pool_usage pu = { .sz = sizeof(pu) };
	struct rampool_drift d = { .sz = sizeof(d) };
	struct rampool_res_list *list;
	struct rampool_usage *u;
	struct rampool_audit *a;
	int ret;

	ret = rampool_reservation_list(pool, NULL, &list);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < rampool_res_list_count(list); i++) {
		T_EQ(rampool_res_list_get(list, i, &info), 0);
		T_EQ(rampool_res_list_node(list, i, 0, &ni), 0);
	}
	rampool_res_list_free(list);
	ret = rampool_reservation_list(pool, "s", &list);
	if (ret)
		return ret;
	rampool_res_list_free(list);
	ret = rampool_usage_get(pool, &u);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < rampool_usage_count(u); i++)
		T_EQ(rampool_usage_at(u, i, &pu), 0);
	rampool_usage_free(u);
	ret = rampool_audit_run(pool, 0, &a);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < rampool_audit_count(a); i++)
		T_EQ(rampool_audit_get(a, i, &d), 0);
	rampool_audit_free(a);
	return 0;
}

static int use(void)
{
	struct rampool_block *blk;
	char path[512];
	int ret;

	ret = rampool_reservation_path(pool, "s", path, sizeof(path));
	if (!ret)
		ret = rampool_reservation_open(pool, "h", &blk);
	if (!ret)
		rampool_block_free(blk);
	/* the only change last: a failure before it changed nothing */
	return ret ? ret : rampool_reservation_grow(pool, "s", 2 << 20);
}

static int release_all(void)
{
	int ret = rampool_reservation_release(pool, "s");

	return ret ? ret : rampool_reservation_release(pool, "h");
}

static const struct step {
	const char *name;
	int (*fn)(void);
} steps[] = {
	{ "reserve shmem", reserve_shmem },
	{ "reserve hugetlb with prealloc", reserve_hugetlb },
	{ "list, usage, audit", read_all },
	{ "grow, path, open", use },
	{ "release", release_all },
};
#define NR_STEPS (sizeof(steps) / sizeof(steps[0]))

/* ---- what must not change ------------------------------------------------ */

struct snap {
	struct t_state st;
	unsigned int mounts;
	char rows[256];		/* name:size:extra:state of each row */
};

static void snap(struct snap *s)
{
	struct rampool_reservation_info info = { .sz = sizeof(info) };
	struct rampool_res_list *list;
	size_t off = 0;

	t_state_snap(&s->st);
	s->mounts = t_res_mounts();
	s->rows[0] = 0;
	T_EQ(rampool_reservation_list(pool, NULL, &list), 0);
	for (unsigned int i = 0; i < rampool_res_list_count(list); i++) {
		T_EQ(rampool_res_list_get(list, i, &info), 0);
		off += (size_t)snprintf(s->rows + off, sizeof(s->rows) - off,
					"%s:%llu:%llu:%d ", info.name,
					(unsigned long long)info.size,
					(unsigned long long)info.extra,
					info.state);
	}
	rampool_res_list_free(list);
}

static void same(const struct snap *a, const char *what, int fn, long n)
{
	struct snap b;

	snap(&b);
	if (strcmp(a->rows, b.rows) || a->mounts != b.mounts)
		T_FAIL("%s: %s #%ld failed: rows '%s' -> '%s', mounts %u -> "
		       "%u", what, t_inj_names[fn], n, a->rows, b.rows,
		       a->mounts, b.mounts);
	t_state_same(&a->st);
}

/* Back to nothing reserved (no injection). */
static void reset(void)
{
	rampool_reservation_release(pool, "s");
	rampool_reservation_release(pool, "h");
	t_res_audit_clean();
}

int main(void)
{
	struct rampool_pool_opts po = { .sz = sizeof(po) };
	unsigned int runs = 0, failures = 0;

	if (geteuid())
		t_skip("needs root (reservations mount)");
	t_res_pool_unclaimed(T_MB2, 4);
	po.state_dir = t_res_dir();
	T_EQ(rampool_pool_new(&po, &pool), 0);
	for (size_t s = 0; s < NR_STEPS; s++)
		T_EQ(steps[s].fn(), 0);		/* all works uninjected */
	reset();

	for (size_t s = 0; s < NR_STEPS; s++) {
		for (int fn = 0; fn < T_INJ_ALLOC_NR; fn++) {
			for (long n = 1;; n++) {
				struct snap before;
				int ret;

				for (size_t k = 0; k < s; k++)
					T_EQ(steps[k].fn(), 0);
				snap(&before);
				t_inj_arm(fn, n);
				ret = steps[s].fn();
				t_inj_disarm();
				runs++;
				if (!t_inj_fired()) {
					T_EQ(ret, 0);
					reset();
					break;
				}
				if (ret != -ENOMEM)
					T_FAIL("%s: %s #%ld failed, the call "
					       "returned %d", steps[s].name,
					       t_inj_names[fn], n, ret);
				failures++;
				/* release is one call per name: the first
				 * may have gone through */
				if (steps[s].fn != release_all)
					same(&before, steps[s].name, fn, n);
				reset();
			}
		}
	}
	rampool_pool_free(pool);
	printf("%u runs, %u injected failures, each -ENOMEM with nothing "
	       "changed\n", runs, failures);
	return 0;
}
