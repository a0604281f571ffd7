// SPDX-License-Identifier: LGPL-2.1-or-later
/* plan_stream.c: a plan from the start of a QEMU migration stream: one block per RAM block, virtio-mem blocks by their plugged size, page sizes and nodes from the stream, the --map or the defaults. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../backend/log.h"
#include "../backend/qstream.h"
#include "opts.h"
#include "plan.h"
#include "pool.h"

/* One --map entry and whether a block of the stream took it. */
struct map_ent {
	char *id;
	uint64_t page_size;
	int node;
	bool used;
};

struct map {
	struct map_ent *e;
	unsigned int n;
	const struct rp_log *log;
};

static int map_add(void *ctx, const char *id, uint64_t page_size, int node)
{
	struct map *m = ctx;
	struct map_ent *ne;

	for (unsigned int i = 0; i < m->n; i++)
		if (!strcmp(m->e[i].id, id)) {
			rp_err(m->log, "map: '%s' given twice", id);
			return -EINVAL;
		}
	ne = realloc(m->e, (m->n + 1) * sizeof(*ne));
	if (!ne)
		return -ENOMEM;
	m->e = ne;
	ne[m->n] = (struct map_ent){ .id = strdup(id),
				     .page_size = page_size, .node = node };
	if (!ne[m->n].id)
		return -ENOMEM;
	m->n++;
	return 0;
}

static void map_free(struct map *m)
{
	for (unsigned int i = 0; i < m->n; i++)
		free(m->e[i].id);
	free(m->e);
}

static struct map_ent *map_find(struct map *m, const char *id)
{
	for (unsigned int i = 0; i < m->n; i++)
		if (!strcmp(m->e[i].id, id))
			return &m->e[i];
	return NULL;
}

/* What the plan needs beside the stream. */
struct build {
	const struct rp_log *log;
	struct map map;
	uint64_t base_page, default_page;
};

/*
 * The block a virtio-mem early section describes: the one RAM block named
 * "<qdev>/<memdev>" (no further '/') whose length is the device's region.
 * NULL (warned) when there is none; -EINVAL in *err when it is ambiguous.
 */
static const struct qs_block *vmem_block(const struct build *b,
					 const struct qs_stream *s,
					 const struct qs_vmem *v, int *err)
{
	const struct qs_block *found = NULL;
	size_t ql = strlen(v->qdev);
	unsigned int n = 0;

	for (unsigned int i = 0; i < s->nr_blocks; i++) {
		const char *id = s->blocks[i].id;

		if (strncmp(id, v->qdev, ql) || !id[ql] || strchr(id + ql, '/'))
			continue;
		if (s->blocks[i].used_length != v->region_size)
			continue;
		found = &s->blocks[i];
		n++;
	}
	if (n > 1) {
		rp_err(b->log, "qemu stream: byte %" PRIu64 ": virtio-mem "
		       "'%s': %u RAM blocks could be its memory", v->offset,
		       v->qdev, n);
		*err = -EINVAL;
		return NULL;
	}
	if (!found)
		rp_warn(b->log, "qemu stream: byte %" PRIu64 ": virtio-mem "
			"'%s' (%" PRIu64 " bytes): no RAM block '%s...' of that "
			"length; its early section is ignored", v->offset,
			v->qdev, v->region_size, v->qdev);
	return found;
}

/* Page size, node and flags of one block (p has size and region). */
static int block_place(struct build *b, const struct qs_block *qb,
		       struct plan_block *p)
{
	struct map_ent *me = map_find(&b->map, qb->id);
	const char *from = "stream";

	p->node = RAMPOOL_NODE_ANY;
	p->page_size = qb->page_size;
	if (me) {
		me->used = true;
		p->node = me->node;
		/* postcopy (the only time the stream says) needs the same
		 * page size on both ends: QEMU refuses a mismatch */
		if (qb->page_size && qb->page_size != me->page_size) {
			rp_err(b->log, "qemu stream: block '%s': the map says "
			       "page size %" PRIu64 ", the stream %" PRIu64,
			       qb->id, me->page_size, qb->page_size);
			return -EINVAL;
		}
		if (!qb->page_size)
			from = "map";
		p->page_size = me->page_size;
	} else {
		p->flags |= RAMPOOL_PLAN_F_DEFAULTED;
		if (!qb->page_size) {
			p->page_size = b->default_page;
			from = "default";
		}
	}
	if (p->size % p->page_size || p->region % p->page_size) {
		rp_err(b->log, "qemu stream: block '%s' (byte %" PRIu64 "): "
		       "%" PRIu64 " bytes are not a multiple of its page size "
		       "%" PRIu64 " (from the %s)", qb->id, qb->offset,
		       p->region % p->page_size ? p->region : p->size,
		       p->page_size, from);
		return -EINVAL;
	}
	p->backing = p->page_size == b->base_page ? RAMPOOL_RES_SHMEM :
						    RAMPOOL_RES_HUGETLB;
	return 0;
}

static int plan_blocks(struct build *b, const struct qs_stream *s,
		       struct rampool_plan *plan)
{
	const struct qs_vmem **sparse;
	int ret = 0;

	sparse = calloc(s->nr_blocks ? s->nr_blocks : 1, sizeof(*sparse));
	if (!sparse)
		return -ENOMEM;
	for (unsigned int i = 0; i < s->nr_vmem && !ret; i++) {
		const struct qs_block *qb = vmem_block(b, s, &s->vmem[i], &ret);

		if (qb)
			sparse[qb - s->blocks] = &s->vmem[i];
	}
	for (unsigned int i = 0; i < s->nr_blocks && !ret; i++) {
		const struct qs_block *qb = &s->blocks[i];
		struct plan_block p = {
			.id = (char *)qb->id, .size = qb->used_length,
			.region = qb->used_length,
		};

		if (sparse[i]) {
			p.size = sparse[i]->plugged;
			p.flags |= RAMPOOL_PLAN_F_SPARSE;
		}
		ret = block_place(b, qb, &p);
		if (ret)
			break;
		ret = plan_add(plan, &p);
		if (ret == -EEXIST || ret == -EINVAL) {
			rp_err(b->log, "qemu stream: byte %" PRIu64 ": RAM "
			       "block '%s' %s", qb->offset, qb->id,
			       ret == -EEXIST ? "listed twice" : "not valid");
			ret = -EINVAL;
		}
	}
	free(sparse);
	return ret;
}

/*
 * Without early sections (QEMU or machine types before 8.0) a virtio-mem
 * device's plugged blocks are only in its device state, which cannot be
 * decoded: its memory, a block "<qdev>/<memdev>", counts in full. Says so
 * for each block that may be one (a device's block that is not a ROM).
 */
static void note_device_blocks(const struct build *b,
			       const struct qs_stream *s)
{
	for (unsigned int i = 0; i < s->nr_blocks; i++) {
		const char *id = s->blocks[i].id, *slash = strrchr(id, '/');
		size_t len = strlen(id);

		if (!slash || id[0] == '/' ||
		    (len > 4 && !strcmp(id + len - 4, ".rom")))
			continue;
		rp_warn(b->log, "qemu stream: block '%s' may be a virtio-mem "
			"device's memory: the stream has no plugged bitmap "
			"(no virtio-mem-device-early section): counted in "
			"full", id);
	}
}

/* The options into b; the map parsed (before the stream is read). */
static int build_init(struct rampool_pool *pool,
		      const struct rampool_plan_opts *opts, struct build *b)
{
	const char *map = OPTS_GET(opts, map, NULL);
	long pg = sysconf(_SC_PAGESIZE);

	*b = (struct build){ .log = &pool->log };
	b->map.log = b->log;
	b->base_page = pg > 0 ? (uint64_t)pg : 4096;
	b->default_page = OPTS_GET(opts, default_page_size, 0);
	if (!b->default_page)
		b->default_page = b->base_page;
	if (b->default_page < 4096 ||
	    (b->default_page & (b->default_page - 1))) {
		rp_err(b->log, "plan: default page size %" PRIu64 " is not a "
		       "page size", b->default_page);
		return -EINVAL;
	}
	return map ? plan_map_each(map, b->log, map_add, &b->map) : 0;
}

static int read_stream(const struct build *b, int fd, struct qs_stream *s)
{
	int ret = qs_parse_fd(fd, s);

	if (ret) {
		rp_err(b->log, "qemu stream: byte %" PRIu64 ": %s", s->err_off,
		       s->err);
		return ret;
	}
	if (!s->has_ram) {
		rp_err(b->log, "qemu stream: byte %" PRIu64 ": no RAM section "
		       "before %s%s%s", s->end,
		       s->stop == QS_STOP_EOF ? "the end" : "section '",
		       s->stop == QS_STOP_SECTION ? s->stop_id : "",
		       s->stop == QS_STOP_SECTION ? "'" : "");
		return -EINVAL;
	}
	return 0;
}

int rampool_plan_from_qemu_stream(struct rampool_pool *pool, int fd,
				  const struct rampool_plan_opts *opts,
				  struct rampool_plan **out)
{
	struct rampool_plan *plan = NULL;
	struct qs_stream s = { 0 };
	struct build b;
	int ret;

	if (!pool || fd < 0 || !out ||
	    (opts && OPTS_VALID(opts, struct rampool_plan_opts,
				default_page_size)))
		return -EINVAL;
	ret = build_init(pool, opts, &b);
	if (!ret)
		ret = read_stream(&b, fd, &s);
	if (!ret)
		ret = plan_new(&plan);
	if (!ret)
		ret = plan_blocks(&b, &s, plan);
	for (unsigned int i = 0; !ret && i < b.map.n; i++)
		if (!b.map.e[i].used)
			rp_warn(b.log, "map: '%s' names no RAM block of the "
				"stream", b.map.e[i].id);
	/* an iterable section's setup has no length: the reader stops */
	if (!ret && s.stop == QS_STOP_SECTION && s.stop_start)
		rp_info(b.log, "qemu stream: byte %" PRIu64 ": stopped at "
			"section '%s': virtio-mem early sections after it are "
			"not read", s.end, s.stop_id);
	if (!ret && !s.nr_vmem)
		note_device_blocks(&b, &s);
	qs_free(&s);
	map_free(&b.map);
	if (ret) {
		rampool_plan_free(plan);
		return ret;
	}
	*out = plan;
	return 0;
}
