// SPDX-License-Identifier: LGPL-2.1-or-later
/* plan.c: a plan's blocks: building, finding, the public getters, and the --map text that gives page sizes and nodes to blocks a source leaves open. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../backend/log.h"
#include "../backend/parse.h"
#include "opts.h"
#include "plan.h"

int plan_new(struct rampool_plan **out)
{
	struct rampool_plan *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	*out = p;
	return 0;
}

struct plan_block *plan_find(struct rampool_plan *p, const char *id)
{
	for (unsigned int i = 0; i < p->n; i++)
		if (!strcmp(p->b[i].id, id))
			return &p->b[i];
	return NULL;
}

int plan_add(struct rampool_plan *p, const struct plan_block *b)
{
	if (b->id && plan_find(p, b->id))
		return -EEXIST;
	return plan_append(p, b);
}

int plan_append(struct rampool_plan *p, const struct plan_block *b)
{
	size_t len = b->id ? strlen(b->id) : 0;
	struct plan_block *nb;

	/* a virtio-mem device with nothing plugged needs nothing, but is
	 * still a block of the VM */
	if (!len || len > PLAN_ID_MAX ||
	    (!b->size && !(b->flags & RAMPOOL_PLAN_F_SPARSE)) ||
	    !b->region || b->size > b->region || !b->page_size)
		return -EINVAL;
	if (p->n == p->cap) {
		unsigned int cap = p->cap ? p->cap * 2 : 8;

		nb = realloc(p->b, cap * sizeof(*nb));
		if (!nb)
			return -ENOMEM;
		p->b = nb;
		p->cap = cap;
	}
	nb = &p->b[p->n];
	*nb = *b;
	nb->id = strdup(b->id);
	if (!nb->id)
		return -ENOMEM;
	p->n++;
	return 0;
}

unsigned int rampool_plan_count(const struct rampool_plan *plan)
{
	return plan ? plan->n : 0;
}

int rampool_plan_block(const struct rampool_plan *plan, unsigned int idx,
		       struct rampool_plan_block *info)
{
	const struct plan_block *b;
	struct rampool_plan_block i;

	if (!plan || !info)
		return -EINVAL;
	if (idx >= plan->n)
		return -ERANGE;
	b = &plan->b[idx];
	i = (struct rampool_plan_block){
		.sz = sizeof(i), .id = b->id, .size = b->size,
		.region = b->region, .page_size = b->page_size,
		.node = b->node, .backing = b->backing, .flags = b->flags,
	};
	return info_copy(info, info->sz, &i, sizeof(i),
			 OPTS_END(struct rampool_plan_block, flags));
}

void rampool_plan_free(struct rampool_plan *plan)
{
	if (!plan)
		return;
	for (unsigned int i = 0; i < plan->n; i++)
		free(plan->b[i].id);
	free(plan->b);
	free(plan);
}

/* ---- --map ------------------------------------------------------------- */

/* "2M" or "2M@1" (s, len: one entry's value) into *ps and *node. */
static int map_value(const char *s, size_t len, uint64_t *ps, int *node,
		     const char **why)
{
	const char *at = memchr(s, '@', len);

	*node = RAMPOOL_NODE_ANY;
	if (at) {
		size_t k, nl = len - (size_t)(at + 1 - s);
		int n = 0;

		for (k = 0; k < nl && k < 5 && at[1 + k] >= '0' &&
			    at[1 + k] <= '9'; k++)
			n = n * 10 + (at[1 + k] - '0');
		if (!nl || k != nl || n > 1023) {
			*why = "the node is not a number from 0 to 1023";
			return -EINVAL;
		}
		*node = n;
		len = (size_t)(at - s);
	}
	if (parse_size_suffix(s, len, ps, why))
		return -EINVAL;
	if (*ps < 4096 || (*ps & (*ps - 1))) {
		*why = "not a page size (a power of two, at least 4K)";
		return -EINVAL;
	}
	return 0;
}

int plan_map_each(const char *map, const struct rp_log *log,
		  int (*fn)(void *ctx, const char *id, uint64_t page_size,
			    int node),
		  void *ctx)
{
	const char *s = map, *end, *eq;
	char id[PLAN_ID_MAX + 1];
	const char *why = NULL;
	uint64_t ps;
	int node, ret;

	while (s && *s) {
		end = strchr(s, ',');
		if (!end)
			end = s + strlen(s);
		eq = memchr(s, '=', (size_t)(end - s));
		if (!eq || eq == s || (size_t)(eq - s) > PLAN_ID_MAX)
			why = "not ID=PAGESIZE[@NODE]";
		else if (!map_value(eq + 1, (size_t)(end - eq - 1), &ps,
				    &node, &why))
			why = NULL;
		if (why) {
			rp_err(log, "map: '%.*s': %s", (int)(end - s), s, why);
			return -EINVAL;
		}
		memcpy(id, s, (size_t)(eq - s));
		id[eq - s] = '\0';
		ret = fn(ctx, id, ps, node);
		if (ret)
			return ret;
		s = *end ? end + 1 : end;
	}
	return 0;
}
