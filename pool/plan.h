/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plan.h: inside pool/: a plan's blocks as the readers (manifest, QEMU stream) build them and the check reads them. */
#ifndef RP_PLAN_H
#define RP_PLAN_H

#include <stdint.h>

#include "rampool.h"

#define PLAN_ID_MAX 255		/* bytes of a block id (a QEMU idstr: u8) */

struct plan_block {
	char *id;
	uint64_t size, region, page_size;
	int node;
	enum rampool_res_backing backing;
	unsigned int flags;
};

struct rampool_plan {
	struct plan_block *b;
	unsigned int n, cap;
};

/* An empty plan; -ENOMEM. */
int plan_new(struct rampool_plan **out);
/*
 * Appends a copy of *b (its id copied). -EEXIST an id already there,
 * -EINVAL an id empty or longer than PLAN_ID_MAX, size > region, a zero
 * region or page size, a zero size (unless RAMPOOL_PLAN_F_SPARSE); -ENOMEM. The plan is unchanged on failure.
 */
int plan_add(struct rampool_plan *p, const struct plan_block *b);
/*
 * plan_add without its search for the id (linear: a reader of thousands
 * of blocks keeps its own index of the ids): the caller knows it is new.
 */
int plan_append(struct rampool_plan *p, const struct plan_block *b);
/* The block of that id, or NULL. */
struct plan_block *plan_find(struct rampool_plan *p, const char *id);

/*
 * Parses a --map text ("pc.ram=2M@0,mem1=1G@1,rom=4K") and calls fn for
 * each entry, in order: id (NUL-terminated copy), page size, node
 * (RAMPOOL_NODE_ANY without "@N"). -EINVAL with the bad entry logged;
 * fn's non-zero return stops it and is returned.
 */
struct rp_log;
int plan_map_each(const char *map, const struct rp_log *log,
		  int (*fn)(void *ctx, const char *id, uint64_t page_size,
			    int node),
		  void *ctx);

/*
 * rampool_plan_check with the caller's ledger (NULL: nothing promised)
 * and counters: a group's reservation runs it under the ledger's lock.
 * 0 fits, -ENOSPC not (*out filled both times), or an error.
 */
struct ledger;
struct topo;
int plan_check_run(struct rampool_pool *pool, const struct rampool_plan *plan,
		   const char *cgroup, struct ledger *l, const struct topo *t,
		   struct rampool_check **out);

#endif
