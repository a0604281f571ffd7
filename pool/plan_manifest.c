// SPDX-License-Identifier: LGPL-2.1-or-later
/* plan_manifest.c: reads a manifest (JSON, rampool-manifest(5)) into a plan, strictly, naming the JSON path of what it refuses. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <json-c/linkhash.h>

#include "manifest.h"
#include "plan.h"
#include "pool.h"

struct map_ent {
	char *id;
	uint64_t page_size;
	int node;
	bool used;
};

/* What one entry of "blocks" (or the "headroom" object) says. */
struct mf_block {
	const char *id;
	uint64_t size, page_size, block_size, plugged;
	int node;
	enum rampool_res_backing backing;	/* 0: not given */
	bool has_ps, has_node, sparse;
	const char *ps_from;	/* where page_size came from, for messages */
};

/* ---- one block ------------------------------------------------------------ */

enum f_kind { F_ID, F_SIZE, F_PAGE_SIZE, F_NODE, F_BACKING };

/*
 * Reads o's key as kind into out (the path pointing at it meanwhile).
 * Absent: an error when required, else 0 with *has false.
 */
static int read_field(struct mf *m, struct json_object *o, const char *key,
		      enum f_kind kind, bool required, void *out, bool *has)
{
	size_t back = mf_path_key(m, key);
	struct json_object *v;
	int ret = 0;

	*has = json_object_object_get_ex(o, key, &v);
	if (!*has && required)
		ret = mf_err(m, "missing (required)");
	else if (*has && kind == F_ID)
		ret = mf_id(m, v, out);
	else if (*has && kind == F_SIZE)
		ret = mf_size(m, v, out);
	else if (*has && kind == F_PAGE_SIZE)
		ret = mf_page_size(m, v, out);
	else if (*has && kind == F_NODE)
		ret = mf_node(m, v, out);
	else if (*has && kind == F_BACKING)
		ret = mf_backing(m, v, out);
	mf_path_back(m, back);
	return ret;
}

static struct map_ent *map_find(struct mf *m, const char *id)
{
	for (unsigned int i = 0; i < m->nmap; i++)
		if (!strcmp(m->map[i].id, id))
			return &m->map[i];
	return NULL;
}

/*
 * The page size, node and backing of a block the manifest leaves open:
 * its own fields, else "shmem" (4K), else the map, else the default.
 */
static void resolve(struct mf *m, struct mf_block *b, bool headroom,
		    unsigned int *flags)
{
	struct map_ent *e = headroom ? NULL : map_find(m, b->id);

	if (e)
		e->used = true;
	if (b->has_ps) {
		b->ps_from = "";
	} else if (b->backing == RAMPOOL_RES_SHMEM || headroom) {
		b->page_size = MF_BASE_PAGE;
		b->ps_from = " (the base page)";
	} else if (e) {
		b->page_size = e->page_size;
		b->ps_from = " (from the map)";
	} else {
		b->page_size = m->dflt_ps;
		b->ps_from = " (the default)";
		*flags |= RAMPOOL_PLAN_F_DEFAULTED;
	}
	if (!b->has_node)
		b->node = e ? e->node : RAMPOOL_NODE_ANY;
}

/* The size against the page size, the backing against both. */
static int check_block(struct mf *m, const struct mf_block *b,
		       enum rampool_res_backing *backing)
{
	enum rampool_res_backing want = b->page_size == MF_BASE_PAGE ?
		RAMPOOL_RES_SHMEM : RAMPOOL_RES_HUGETLB;
	char s1[32], s2[32];
	size_t back;
	int ret = 0;

	if (b->backing && b->backing != want) {
		back = mf_path_key(m, "backing");
		ret = mf_err(m, "\"%s\" contradicts the page size %s%s",
			     b->backing == RAMPOOL_RES_SHMEM ? "shmem" :
			     "hugetlb", mf_sz_str(b->page_size, s1, sizeof(s1)),
			     b->ps_from);
		mf_path_back(m, back);
		return ret;
	}
	*backing = want;
	back = mf_path_key(m, "size");
	if (!b->size)
		ret = mf_err(m, "0: a block needs at least one page");
	else if (b->size % b->page_size)
		ret = mf_err(m, "%s is not a multiple of the page size %s%s",
			     mf_sz_str(b->size, s1, sizeof(s1)),
			     mf_sz_str(b->page_size, s2, sizeof(s2)), b->ps_from);
	mf_path_back(m, back);
	return ret;
}

/* ---- sparse (virtio-mem) ---------------------------------------------------- */

/* One [first block, count] of "plugged"; *end: where the last one ended. */
static int read_range(struct mf *m, struct json_object *r, uint64_t nblocks,
		      uint64_t *end, uint64_t *total)
{
	uint64_t v[2];
	size_t back;
	int ret = 0;

	if (!json_object_is_type(r, json_type_array) ||
	    json_object_array_length(r) != 2)
		return mf_err(m, "%s, not a range [first block, count]",
			      json_object_is_type(r, json_type_array) ?
			      "an array of another length" : mf_type(r));
	for (size_t k = 0; k < 2 && !ret; k++) {
		struct json_object *x = json_object_array_get_idx(r, k);

		back = mf_path_idx(m, k);
		if (!json_object_is_type(x, json_type_int) &&
		    !json_object_is_type(x, json_type_double))
			ret = mf_err(m, "%s, not a number of blocks",
				     mf_type(x));
		else
			ret = mf_uint(m, x, &v[k]);
		if (!ret && k == 0 && v[0] < *end)
			ret = mf_err(m, "block %llu: the ranges must be in "
				     "order and not overlap (the one before "
				     "ends at block %llu)",
				     (unsigned long long)v[0],
				     (unsigned long long)*end);
		if (!ret && k == 1 && !v[1])
			ret = mf_err(m, "0: a range has at least one block");
		mf_path_back(m, back);
	}
	if (ret)
		return ret;
	if (v[0] >= nblocks || v[1] > nblocks - v[0])
		return mf_err(m, "[%llu, %llu] goes past the region's %llu "
			      "blocks", (unsigned long long)v[0],
			      (unsigned long long)v[1],
			      (unsigned long long)nblocks);
	*end = v[0] + v[1];
	*total += v[1];
	return 0;
}

/* "plugged": bytes, or the plugged blocks as [first, count] ranges. */
static int read_plugged(struct mf *m, struct json_object *p,
			struct mf_block *b)
{
	uint64_t nblocks = b->size / b->block_size, end = 0, total = 0;
	char s1[32], s2[32];
	int ret = 0;

	if (json_object_is_type(p, json_type_array)) {
		size_t n = json_object_array_length(p);

		for (size_t i = 0; i < n && !ret; i++) {
			size_t back = mf_path_idx(m, i);

			ret = read_range(m, json_object_array_get_idx(p, i),
					 nblocks, &end, &total);
			mf_path_back(m, back);
		}
		if (ret)
			return ret;
		if (!total)
			return mf_err(m, "no range: nothing plugged");
		b->plugged = total * b->block_size;
		return 0;
	}
	ret = mf_size(m, p, &b->plugged);
	if (ret)
		return ret;
	if (!b->plugged)
		return mf_err(m, "0: nothing plugged");
	if (b->plugged > b->size)
		return mf_err(m, "%s is more than the size %s",
			      mf_sz_str(b->plugged, s1, sizeof(s1)),
			      mf_sz_str(b->size, s2, sizeof(s2)));
	if (b->plugged % b->block_size)
		return mf_err(m, "%s is not a multiple of the block size %s",
			      mf_sz_str(b->plugged, s1, sizeof(s1)),
			      mf_sz_str(b->block_size, s2, sizeof(s2)));
	return 0;
}

static int check_block_size(struct mf *m, const struct mf_block *b)
{
	char s1[32], s2[32];
	uint64_t bs = b->block_size;

	if (bs < b->page_size || (bs & (bs - 1)))
		return mf_err(m, "%s is not a power of two of at least the "
			      "page size %s%s", mf_sz_str(bs, s1, sizeof(s1)),
			      mf_sz_str(b->page_size, s2, sizeof(s2)),
			      b->ps_from);
	if (b->size % bs)
		return mf_err(m, "%s does not divide the size %s",
			      mf_sz_str(bs, s1, sizeof(s1)),
			      mf_sz_str(b->size, s2, sizeof(s2)));
	return 0;
}

/* "sparse": {"block_size", "plugged"}, after the page size is known. */
static int read_sparse(struct mf *m, struct json_object *o,
		       struct mf_block *b)
{
	static const char *const keys[] = { "block_size", "plugged", NULL };
	struct json_object *p;
	size_t back;
	bool has;
	int ret;

	if (!json_object_is_type(o, json_type_object))
		return mf_err(m, "%s, not an object {\"block_size\", "
			      "\"plugged\"}", mf_type(o));
	mf_warn_unknown(m, o, keys);
	ret = read_field(m, o, "block_size", F_SIZE, true, &b->block_size,
			 &has);
	if (ret)
		return ret;
	back = mf_path_key(m, "block_size");
	ret = check_block_size(m, b);
	mf_path_back(m, back);
	if (ret)
		return ret;
	back = mf_path_key(m, "plugged");
	if (!json_object_object_get_ex(o, "plugged", &p))
		ret = mf_err(m, "missing (required)");
	else
		ret = read_plugged(m, p, b);
	mf_path_back(m, back);
	return ret;
}

/* ---- blocks and headroom ----------------------------------------------------- */

/* The fields every block (and the headroom object) may have. */
static int read_common(struct mf *m, struct json_object *o, struct mf_block *b)
{
	bool has;
	int ret;

	ret = read_field(m, o, "size", F_SIZE, true, &b->size, &has);
	if (!ret)
		ret = read_field(m, o, "page_size", F_PAGE_SIZE, false,
				 &b->page_size, &b->has_ps);
	if (!ret)
		ret = read_field(m, o, "backing", F_BACKING, false,
				 &b->backing, &has);
	if (!ret)
		ret = read_field(m, o, "node", F_NODE, false, &b->node,
				 &b->has_node);
	return ret;
}

/* Adds b (checked, its id new) to the plan; -ENOMEM. */
static int add_block(struct mf *m, const struct mf_block *b,
		     enum rampool_res_backing backing, unsigned int flags)
{
	struct plan_block pb = {
		.id = (char *)b->id, .size = b->sparse ? b->plugged : b->size,
		.region = b->size, .page_size = b->page_size, .node = b->node,
		.backing = backing, .flags = flags,
	};

	return plan_append(m->plan, &pb);
}

static int read_block(struct mf *m, struct json_object *o)
{
	static const char *const keys[] = { "id", "size", "page_size", "node",
					    "backing", "sparse", NULL };
	enum rampool_res_backing backing;
	struct mf_block b = { 0 };
	void *first;
	struct json_object *sp;
	unsigned int flags = 0;
	size_t back;
	bool has;
	int ret;

	if (!json_object_is_type(o, json_type_object))
		return mf_err(m, "%s, not an object", mf_type(o));
	mf_warn_unknown(m, o, keys);
	ret = read_field(m, o, "id", F_ID, true, &b.id, &has);
	if (!ret && lh_table_lookup_ex(m->ids, b.id, &first)) {
		back = mf_path_key(m, "id");
		ret = mf_err(m, "\"%s\" is also $.blocks[%zu].id", b.id,
			     (size_t)(uintptr_t)first);
		mf_path_back(m, back);
	}
	if (!ret)
		ret = read_common(m, o, &b);
	if (ret)
		return ret;
	resolve(m, &b, false, &flags);
	ret = check_block(m, &b, &backing);
	if (ret)
		return ret;
	if (json_object_object_get_ex(o, "sparse", &sp)) {
		back = mf_path_key(m, "sparse");
		ret = read_sparse(m, sp, &b);
		mf_path_back(m, back);
		if (ret)
			return ret;
		b.sparse = true;
		flags |= RAMPOOL_PLAN_F_SPARSE;
	}
	first = (void *)(uintptr_t)m->plan->n;
	ret = add_block(m, &b, backing, flags);
	if (!ret && lh_table_insert(m->ids, b.id, first))
		ret = -ENOMEM;
	return ret;
}

static int read_blocks(struct mf *m, struct json_object *a)
{
	size_t n;
	int ret = 0;

	if (!json_object_is_type(a, json_type_array))
		return mf_err(m, "%s, not an array of blocks", mf_type(a));
	n = json_object_array_length(a);
	if (!n)
		return mf_err(m, "empty: a plan needs at least one block");
	for (size_t i = 0; i < n && !ret; i++) {
		size_t back = mf_path_idx(m, i);

		ret = read_block(m, json_object_array_get_idx(a, i));
		mf_path_back(m, back);
	}
	return ret;
}

/* "headroom": a size (base pages) or {"size", "page_size", "node", "backing"}. */
static int read_headroom(struct mf *m, struct json_object *o)
{
	static const char *const keys[] = { "size", "page_size", "node",
					    "backing", NULL };
	struct mf_block b = { .id = "headroom" };
	enum rampool_res_backing backing;
	unsigned int flags = RAMPOOL_PLAN_F_HEADROOM;
	int ret;

	switch (json_object_get_type(o)) {
	case json_type_object:
		mf_warn_unknown(m, o, keys);
		ret = read_common(m, o, &b);
		break;
	case json_type_int:
	case json_type_double:
	case json_type_string:
		ret = mf_size(m, o, &b.size);
		break;
	default:
		return mf_err(m, "%s, not a size or an object", mf_type(o));
	}
	if (ret || !b.size)	/* 0: no headroom */
		return ret;
	resolve(m, &b, true, &flags);
	ret = check_block(m, &b, &backing);
	return ret ? ret : add_block(m, &b, backing, flags);
}

static int read_top(struct mf *m, struct json_object *root)
{
	static const char *const keys[] = { "blocks", "headroom", NULL };
	struct json_object *v;
	size_t back;
	int ret;

	if (!json_object_is_type(root, json_type_object))
		return mf_err(m, "%s, not an object {\"blocks\": [...]}",
			      mf_type(root));
	mf_warn_unknown(m, root, keys);
	back = mf_path_key(m, "blocks");
	if (!json_object_object_get_ex(root, "blocks", &v))
		ret = mf_err(m, "missing (required)");
	else
		ret = read_blocks(m, v);
	mf_path_back(m, back);
	if (ret || !json_object_object_get_ex(root, "headroom", &v))
		return ret;
	back = mf_path_key(m, "headroom");
	ret = read_headroom(m, v);
	mf_path_back(m, back);
	return ret;
}

/* ---- the text, the map, the call ------------------------------------------------ */

static int map_add(void *ctx, const char *id, uint64_t page_size, int node)
{
	struct mf *m = ctx;
	struct map_ent *e;

	if (map_find(m, id)) {
		rp_err(m->log, "map: '%s' is given twice", id);
		return -EINVAL;
	}
	e = realloc(m->map, (m->nmap + 1) * sizeof(*e));
	if (!e)
		return -ENOMEM;
	m->map = e;
	e = &m->map[m->nmap];
	*e = (struct map_ent){ .id = strdup(id), .page_size = page_size,
			       .node = node };
	if (!e->id)
		return -ENOMEM;
	m->nmap++;
	return 0;
}

static void mf_free(struct mf *m)
{
	for (unsigned int i = 0; i < m->nmap; i++)
		free(m->map[i].id);
	free(m->map);
	if (m->ids)
		lh_table_free(m->ids);
	rampool_plan_free(m->plan);
}

static int read_opts(struct mf *m, const struct rampool_plan_opts *opts)
{
	char b[32];

	if (opts && OPTS_VALID(opts, struct rampool_plan_opts,
			       default_page_size)) {
		rp_err(m->log, "plan options: size %zu unknown (or bytes "
		       "past the known fields not zero)", opts->sz);
		return -EINVAL;
	}
	m->dflt_ps = OPTS_GET(opts, default_page_size, 0);
	if (!m->dflt_ps)
		m->dflt_ps = MF_BASE_PAGE;
	if (m->dflt_ps < MF_BASE_PAGE || (m->dflt_ps & (m->dflt_ps - 1))) {
		rp_err(m->log, "plan options: the default page size %s is not "
		       "a page size (a power of two, at least 4K)",
		       mf_sz_str(m->dflt_ps, b, sizeof(b)));
		return -EINVAL;
	}
	return plan_map_each(OPTS_GET(opts, map, NULL), m->log, map_add, m);
}

int rampool_plan_from_manifest(struct rampool_pool *pool, const char *text,
			       size_t len, const struct rampool_plan_opts *opts,
			       struct rampool_plan **out)
{
	struct json_object *root = NULL;
	struct mf m = { 0 };
	int ret;

	if (!pool || !out || (!text && len))
		return -EINVAL;
	m.log = &pool->log;
	ret = read_opts(&m, opts);
	if (!ret)
		ret = mf_parse_text(&m, text ? text : "", len, &root);
	if (!ret)
		ret = plan_new(&m.plan);
	if (!ret && !(m.ids = lh_kchar_table_new(64, NULL)))
		ret = -ENOMEM;
	if (!ret)
		ret = read_top(&m, root);
	json_object_put(root);
	if (ret) {
		mf_free(&m);
		return ret;
	}
	for (unsigned int i = 0; i < m.nmap; i++)
		if (!m.map[i].used)
			rp_warn(m.log, "manifest: the map's '%s' names no "
				"block of the manifest", m.map[i].id);
	*out = m.plan;
	m.plan = NULL;
	mf_free(&m);
	return 0;
}
