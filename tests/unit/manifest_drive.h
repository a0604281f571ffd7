// SPDX-License-Identifier: LGPL-2.1-or-later
/* manifest_drive.h: reads one text as a manifest and checks what rampool_plan_from_manifest promises. */
#ifndef MANIFEST_DRIVE_H
#define MANIFEST_DRIVE_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "rampool.h"

/* test_manifest turns a broken promise into a cmocka failure; the fuzzer aborts */
#include "t_drive.h"
#ifndef MD_CHECK
#define MD_CHECK(cond) T_DRIVE_CHECK(cond)
#endif

/* the map every run uses: entries the corpus names, one it never does */
#define MD_MAP "pc.ram=2M@1,mem0=1G,rom=4K@0,unused=2M"

struct md_log {
	unsigned int n_err, n_warn, n_other;
	bool bad_line;		/* a line not "manifest: ..." or not printable */
	char err[600];
};

static struct md_log md_lg;

static inline void md_log_fn(void *data, enum rampool_log_level level,
			     const char *msg)
{
	struct md_log *l = data;

	if (level == RAMPOOL_LOG_ERR) {
		l->n_err++;
		snprintf(l->err, sizeof(l->err), "%s", msg);
	} else if (level == RAMPOOL_LOG_WARN) {
		l->n_warn++;
	} else {
		l->n_other++;
	}
	if (strncmp(msg, "manifest: ", 10))
		l->bad_line = true;
	for (const char *c = msg; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			l->bad_line = true;
}

/* One pool for every run (its log goes to md_lg). */
static inline struct rampool_pool *md_pool(void)
{
	static struct rampool_pool *pool;
	struct rampool_pool_opts o = {
		.sz = sizeof(o), .sysroot = "/", .state_dir = "/nonexistent",
		.log_fn = md_log_fn, .log_data = &md_lg,
		.log_level = RAMPOOL_LOG_DEBUG,
	};

	if (!pool)
		MD_CHECK(rampool_pool_new(&o, &pool) == 0);
	return pool;
}

/* The entries of $.blocks by an independent reading, -1 when not an array. */
static inline long md_nblocks(const char *text, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o, *b;
	long n = -1;

	MD_CHECK(tok);
	o = json_tokener_parse_ex(tok, text, (int)len);
	if (o && json_object_object_get_ex(o, "blocks", &b) &&
	    json_object_is_type(b, json_type_array))
		n = (long)json_object_array_length(b);
	json_object_put(o);
	json_tokener_free(tok);
	return n;
}

static inline void md_check_block(const struct rampool_plan_block *b,
				  unsigned int i, unsigned int n)
{
	const unsigned int known = RAMPOOL_PLAN_F_SPARSE |
		RAMPOOL_PLAN_F_DEFAULTED | RAMPOOL_PLAN_F_HEADROOM;
	size_t len = strlen(b->id);

	MD_CHECK(len >= 1 && len <= 255);
	for (size_t k = 0; k < len; k++)
		MD_CHECK((unsigned char)b->id[k] >= 0x20 && b->id[k] != 0x7f);
	MD_CHECK(b->page_size >= 4096 && !(b->page_size & (b->page_size - 1)));
	MD_CHECK(b->size && b->size <= b->region);
	MD_CHECK(!(b->size % b->page_size) && !(b->region % b->page_size));
	MD_CHECK(b->backing == (b->page_size == 4096 ? RAMPOOL_RES_SHMEM :
				RAMPOOL_RES_HUGETLB));
	MD_CHECK(b->node == RAMPOOL_NODE_ANY || (b->node >= 0 &&
						 b->node <= 1023));
	MD_CHECK(!(b->flags & ~known));
	MD_CHECK((b->flags & RAMPOOL_PLAN_F_SPARSE) || b->size == b->region);
	/* the headroom is the last block, and only it is called so */
	MD_CHECK(!!(b->flags & RAMPOOL_PLAN_F_HEADROOM) ==
		 !strcmp(b->id, "headroom"));
	MD_CHECK(!(b->flags & RAMPOOL_PLAN_F_HEADROOM) || i == n - 1);
	MD_CHECK(!(b->flags & RAMPOOL_PLAN_F_HEADROOM) ||
		 !(b->flags & (RAMPOOL_PLAN_F_SPARSE |
			       RAMPOOL_PLAN_F_DEFAULTED)));
}

/* Reads text (len bytes, a heap copy of exactly that) and checks. */
static inline int md_run(const char *data, size_t len)
{
	struct rampool_plan_opts o = { .sz = sizeof(o), .map = MD_MAP };
	struct rampool_plan *const sentinel = (struct rampool_plan *)&md_lg;
	struct rampool_plan *plan = sentinel;
	struct rampool_plan_block b = { .sz = sizeof(b) };
	char *text = malloc(len ? len : 1);
	unsigned int n;
	long nb;
	int ret;

	MD_CHECK(text);
	memcpy(text, data, len);
	memset(&md_lg, 0, sizeof(md_lg));
	ret = rampool_plan_from_manifest(md_pool(), text, len, &o, &plan);
	MD_CHECK(ret == 0 || ret == -EINVAL || ret == -ENOMEM);
	MD_CHECK(!md_lg.bad_line && !md_lg.n_other);
	if (ret) {
		MD_CHECK(plan == sentinel);
		MD_CHECK(ret == -ENOMEM || md_lg.n_err == 1);
		free(text);
		return ret;
	}
	MD_CHECK(md_lg.n_err == 0 && plan != sentinel && plan);
	n = rampool_plan_count(plan);
	nb = md_nblocks(text, len);
	MD_CHECK(nb >= 1 && (n == (unsigned long)nb ||
			     n == (unsigned long)nb + 1));
	for (unsigned int i = 0; i < n; i++) {
		MD_CHECK(rampool_plan_block(plan, i, &b) == 0);
		md_check_block(&b, i, n);
		MD_CHECK(i != (unsigned int)nb ||
			 (b.flags & RAMPOOL_PLAN_F_HEADROOM));
		for (unsigned int k = 0; k < i; k++) {
			struct rampool_plan_block c = { .sz = sizeof(c) };

			MD_CHECK(rampool_plan_block(plan, k, &c) == 0);
			MD_CHECK(strcmp(b.id, c.id));
		}
	}
	MD_CHECK(rampool_plan_block(plan, n, &b) == -ERANGE);
	rampool_plan_free(plan);
	free(text);
	return 0;
}

#endif
