/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* counters.h: counting events in the ledger (rampool_counters_get reads them). */
#ifndef RP_COUNTERS_H
#define RP_COUNTERS_H

#include <stdint.h>

#include "ledger.h"
#include "pool.h"

#define COUNT_REFUSALS		"refusals"
#define COUNT_SIGBUS_AVOIDED	"sigbus_avoided"

/*
 * Adds one to counter name of (node, page_size), in a transaction of its
 * own on l (a writable ledger, no transaction open). A failure is only
 * logged by the ledger: counting never fails the caller's call.
 */
void count_event(struct ledger *l, const char *name, int node,
		 uint64_t page_size);
/* One refusal for each entry of the pool's shortfall table. */
void count_refusals(struct rampool_pool *pool, struct ledger *l);

#endif
