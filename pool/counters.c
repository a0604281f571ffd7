// SPDX-License-Identifier: LGPL-2.1-or-later
/* counters.c: events the library counts in the ledger (refusals, SIGBUS avoided) and rampool_counters_get. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "opts.h"
#include "res.h"

void count_event(struct ledger *l, const char *name, int node,
		 uint64_t page_size)
{
	/* a count that cannot be written is logged, never the caller's error */
	if (!l || !ledger_writable(l) || l->schema < 5 || ledger_begin(l))
		return;
	if (ledger_count_add(l, name, node, page_size, 1)) {
		ledger_rollback(l);
		return;
	}
	ledger_commit(l);
}

void count_refusals(struct rampool_pool *pool, struct ledger *l)
{
	if (!l || !ledger_writable(l) || l->schema < 5 || ledger_begin(l))
		return;
	for (unsigned int i = 0; i < pool->nr_shortfall; i++)
		if (ledger_count_add(l, COUNT_REFUSALS,
				     pool->shortfall[i].node,
				     pool->shortfall[i].page_size, 1)) {
			ledger_rollback(l);
			return;
		}
	ledger_commit(l);
}

/* ---- rampool_counters_get ------------------------------------------------ */

struct rampool_counters {
	struct rampool_counter *c;
	char **names;
	unsigned int n, cap;
};

static int add(void *ctx, const char *name, int node, uint64_t page_size,
	       uint64_t value)
{
	struct rampool_counters *c = ctx;

	if (c->n == c->cap) {
		unsigned int cap = c->cap ? c->cap * 2 : 8;
		struct rampool_counter *nc;
		char **nn;

		nc = realloc(c->c, cap * sizeof(*nc));
		if (!nc)
			return -ENOMEM;
		c->c = nc;
		nn = realloc(c->names, cap * sizeof(*nn));
		if (!nn)
			return -ENOMEM;
		c->names = nn;
		c->cap = cap;
	}
	c->names[c->n] = strdup(name ? name : "");
	if (!c->names[c->n])
		return -ENOMEM;
	c->c[c->n] = (struct rampool_counter){
		.sz = sizeof(struct rampool_counter), .name = c->names[c->n],
		.node = node, .page_size = page_size, .value = value,
	};
	c->n++;
	return 0;
}

int rampool_counters_get(struct rampool_pool *pool,
			 struct rampool_counters **out)
{
	struct rampool_counters *c;
	struct ledger *l = NULL;
	int ret;

	if (!pool || !out)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	ret = ledger_open(pool, LEDGER_READ, &l);
	if (ret == -ENOENT) {
		*out = c;	/* no ledger yet: nothing counted */
		return 0;
	}
	if (!ret)
		ret = ledger_counters(l, add, c);
	ledger_close(l);
	if (ret) {
		rampool_counters_free(c);
		return ret;
	}
	*out = c;
	return 0;
}

unsigned int rampool_counters_count(const struct rampool_counters *c)
{
	return c ? c->n : 0;
}

int rampool_counters_at(const struct rampool_counters *c, unsigned int idx,
			struct rampool_counter *info)
{
	if (!c || !info)
		return -EINVAL;
	if (idx >= c->n)
		return -ERANGE;
	return info_copy(info, info->sz, &c->c[idx], sizeof(c->c[idx]),
			 OPTS_END(struct rampool_counter, value));
}

void rampool_counters_free(struct rampool_counters *c)
{
	if (!c)
		return;
	for (unsigned int i = 0; i < c->n; i++)
		free(c->names[i]);
	free(c->names);
	free(c->c);
	free(c);
}
