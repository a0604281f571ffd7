// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_manifest.c: manifests read into plans: exact blocks, defaults, and each refusal's one error line with its JSON path. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rampool.h"
#include "tests/t_compat.h"

#define MD_CHECK(cond) assert_true(cond)
#include "tests/unit/manifest_drive.h"

#define K(x) ((uint64_t)(x) << 10)
#define M(x) ((uint64_t)(x) << 20)
#define G(x) ((uint64_t)(x) << 30)
#define ANY RAMPOOL_NODE_ANY
#define HT RAMPOOL_RES_HUGETLB
#define SH RAMPOOL_RES_SHMEM
#define F_SP RAMPOOL_PLAN_F_SPARSE
#define F_DEF RAMPOOL_PLAN_F_DEFAULTED
#define F_HR RAMPOOL_PLAN_F_HEADROOM

/* JSON written as it is: J({"blocks": []}) is the text {"blocks": []} */
#define J(...) #__VA_ARGS__

static struct t_log lg = T_LOG_INIT;
static struct rampool_pool *pool;
static struct rampool_plan *const SENTINEL = (struct rampool_plan *)&lg;

static int setup(void **st)
{
	struct rampool_pool_opts o = {
		.sz = sizeof(o), .sysroot = "/", .state_dir = "/nonexistent",
		.log_fn = t_log_fn, .log_data = &lg,
		.log_level = RAMPOOL_LOG_DEBUG,
	};

	(void)st;
	return rampool_pool_new(&o, &pool);
}

static int teardown(void **st)
{
	(void)st;
	rampool_pool_free(pool);
	return 0;
}

static int reset(void **st)
{
	(void)st;
	t_log_reset(&lg);
	return 0;
}

static struct rampool_plan_opts popts(const char *map, uint64_t dflt)
{
	return (struct rampool_plan_opts){ .sz = sizeof(struct
		rampool_plan_opts), .map = map, .default_page_size = dflt };
}

/*
 * Blocks allocated and not freed, counted by replacing malloc for the
 * whole process (glibc calls these too, and json-c): a refusal must leave
 * the count as it was. Under ASan its own malloc stays, and LSan checks.
 */
#ifndef __SANITIZE_ADDRESS__
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t sz);
void *__libc_realloc(void *p, size_t n);
void __libc_free(void *p);

static long live;

void *malloc(size_t n)
{
	void *p = __libc_malloc(n);

	live += p != NULL;
	return p;
}

void *calloc(size_t n, size_t sz)
{
	void *p = __libc_calloc(n, sz);

	live += p != NULL;
	return p;
}

void *realloc(void *p, size_t n)
{
	void *q = __libc_realloc(p, n);

	if (!p && q)
		live++;
	else if (p && !n && !q)
		live--;
	return q;
}

void free(void *p)
{
	live -= p != NULL;
	__libc_free(p);
}
#else
static const long live;
#endif

static long heap_used(void)
{
	return live;
}

/* Reads text: it must succeed without an error line. */
static struct rampool_plan *ok_o(const char *text,
				 const struct rampool_plan_opts *o)
{
	struct rampool_plan *p = SENTINEL;
	int ret;

	t_log_reset(&lg);
	ret = rampool_plan_from_manifest(pool, text, strlen(text), o, &p);
	if (ret)
		fail_msg("%d for %s: %s", ret, text, lg.last_err);
	assert_int_equal(lg.n_err, 0);
	assert_true(p != SENTINEL && p);
	return p;
}

static struct rampool_plan *ok(const char *text)
{
	return ok_o(text, NULL);
}

/* Reads len bytes of text: -EINVAL, exactly the line want, nothing left. */
static void bad_len(const char *text, size_t len,
		    const struct rampool_plan_opts *o, const char *want)
{
	struct rampool_plan *p = SENTINEL;
	long before;

	/* a first read warms up whatever json-c allocates once */
	(void)rampool_plan_from_manifest(pool, text, len, o, &p);
	assert_ptr_equal(p, SENTINEL);
	t_log_reset(&lg);
	before = heap_used();
	assert_int_equal(rampool_plan_from_manifest(pool, text, len, o, &p),
			 -EINVAL);
	assert_int_equal(heap_used(), before);
	assert_ptr_equal(p, SENTINEL);
	assert_int_equal(lg.n_err, 1);
	assert_string_equal(lg.last_err, want);
}

static void bad_o(const char *text, const struct rampool_plan_opts *o,
		  const char *want)
{
	bad_len(text, strlen(text), o, want);
}

static void bad(const char *text, const char *want)
{
	bad_o(text, NULL, want);
}

/* Block i of p is exactly this. */
static void blk(struct rampool_plan *p, unsigned int i, const char *id,
		uint64_t size, uint64_t region, uint64_t ps, int node,
		enum rampool_res_backing backing, unsigned int flags)
{
	struct rampool_plan_block b = { .sz = sizeof(b) };

	assert_int_equal(rampool_plan_block(p, i, &b), 0);
	assert_string_equal(b.id, id);
	assert_int_equal(b.size, size);
	assert_int_equal(b.region, region);
	assert_int_equal(b.page_size, ps);
	assert_int_equal(b.node, node);
	assert_int_equal(b.backing, backing);
	assert_int_equal(b.flags, flags);
}

/* ---- valid manifests: the exact blocks ----------------------------------- */

static void test_full(void **st)
{
	struct rampool_plan *p;

	(void)st;
	p = ok(J({"blocks": [
		{"id": "pc.ram", "size": 8589934592, "page_size": "1G",
		 "node": 1, "backing": "hugetlb"},
		{"id": "rom", "size": "64K", "backing": "shmem", "node": "any"},
		{"id": "0000:00:03.0/mem0", "size": "16G",
		 "page_size": 2097152, "node": 0,
		 "sparse": {"block_size": "128M", "plugged": "2G"}},
		{"id": "vmem1", "size": "1G", "page_size": "2M",
		 "sparse": {"block_size": "2M",
			    "plugged": [[0, 4], [8, 2], [510, 2]]}}],
		"headroom": {"size": "2G", "page_size": "2M", "node": 0}}));
	assert_int_equal(rampool_plan_count(p), 5);
	blk(p, 0, "pc.ram", G(8), G(8), G(1), 1, HT, 0);
	blk(p, 1, "rom", K(64), K(64), 4096, ANY, SH, 0);
	blk(p, 2, "0000:00:03.0/mem0", G(2), G(16), M(2), 0, HT, F_SP);
	blk(p, 3, "vmem1", M(16), G(1), M(2), ANY, HT, F_SP);
	blk(p, 4, "headroom", G(2), G(2), M(2), 0, HT, F_HR);
	assert_int_equal(lg.n, 0);
	rampool_plan_free(p);
}

/* the example of rampool-manifest(5), and what its text says it plans */
static void test_man_example(void **st)
{
	struct rampool_plan *p;

	(void)st;
	p = ok(J({
	  "blocks": [
	    {"id": "pc.ram", "size": 8589934592, "page_size": "2M", "node": 0},
	    {"id": "rom", "size": "64K", "backing": "shmem"},
	    {"id": "0000:00:03.0/mem0", "size": "16G", "page_size": "2M",
	     "sparse": {"block_size": "128M", "plugged": [[0, 8], [64, 8]]}}
	  ],
	  "headroom": {"size": "1G"}
	}));
	assert_int_equal(rampool_plan_count(p), 4);
	blk(p, 0, "pc.ram", G(8), G(8), M(2), 0, HT, 0);
	blk(p, 1, "rom", K(64), K(64), 4096, ANY, SH, 0);
	blk(p, 2, "0000:00:03.0/mem0", G(2), G(16), M(2), ANY, HT, F_SP);
	blk(p, 3, "headroom", G(1), G(1), 4096, ANY, SH, F_HR);
	rampool_plan_free(p);
}

static void test_sizes(void **st)
{
	struct rampool_plan *p;

	(void)st;
	/* numbers, suffixes either case with an optional B, 1G and 16G pages */
	p = ok(J({"blocks": [{"id": "a", "size": 4096},
		{"id": "b", "size": "8g", "page_size": "1gb"},
		{"id": "c", "size": "2048MB", "page_size": "2m"},
		{"id": "d", "size": "1T", "page_size": "16G"},
		{"id": "e", "size": 9223372036854771712}]}));
	assert_int_equal(rampool_plan_count(p), 5);
	blk(p, 0, "a", 4096, 4096, 4096, ANY, SH, F_DEF);
	blk(p, 1, "b", G(8), G(8), G(1), ANY, HT, 0);
	blk(p, 2, "c", G(2), G(2), M(2), ANY, HT, 0);
	blk(p, 3, "d", 1ull << 40, 1ull << 40, G(16), ANY, HT, 0);
	blk(p, 4, "e", INT64_MAX - 4095, INT64_MAX - 4095, 4096, ANY, SH,
	    F_DEF);
	rampool_plan_free(p);
	/* beyond INT64_MAX as a JSON number: json-c reads it exactly */
	p = ok(J({"blocks": [{"id": "a", "size": 18446744073709547520}]}));
	blk(p, 0, "a", UINT64_MAX - 4095, UINT64_MAX - 4095, 4096, ANY, SH,
	    F_DEF);
	rampool_plan_free(p);
}

/* page size and node: the manifest's, else the map's, else the default */
static void test_defaults(void **st)
{
	struct rampool_plan_opts o = popts("a=2M@1,b=1G,c=2M@0,d=4K@1", M(2));
	struct rampool_plan *p;

	(void)st;
	p = ok_o(J({"blocks": [{"id": "a", "size": "4M"},
		{"id": "b", "size": "2G", "node": 3},
		{"id": "c", "size": "4M", "page_size": "4K"},
		{"id": "d", "size": "4M", "backing": "hugetlb",
		 "page_size": "2M"},
		{"id": "e", "size": "4M"},
		{"id": "f", "size": "4M", "backing": "shmem"}]}), &o);
	assert_int_equal(rampool_plan_count(p), 6);
	blk(p, 0, "a", M(4), M(4), M(2), 1, HT, 0);
	blk(p, 1, "b", G(2), G(2), G(1), 3, HT, 0);
	blk(p, 2, "c", M(4), M(4), 4096, 0, SH, 0);
	blk(p, 3, "d", M(4), M(4), M(2), 1, HT, 0);
	blk(p, 4, "e", M(4), M(4), M(2), ANY, HT, F_DEF);
	blk(p, 5, "f", M(4), M(4), 4096, ANY, SH, 0);
	assert_int_equal(lg.n, 0);
	rampool_plan_free(p);

	/* no options: the base page, shmem */
	p = ok(J({"blocks": [{"id": "a", "size": "4M", "node": 2}]}));
	blk(p, 0, "a", M(4), M(4), 4096, 2, SH, F_DEF);
	rampool_plan_free(p);

	/* a map entry no block has: a warning */
	o = popts("a=2M,zz=1G@1", 0);
	p = ok_o(J({"blocks": [{"id": "a", "size": "4M"}]}), &o);
	blk(p, 0, "a", M(4), M(4), M(2), ANY, HT, 0);
	assert_int_equal(lg.n, 1);
	assert_string_equal(lg.last, "manifest: the map's 'zz' names no "
			    "block of the manifest");
	rampool_plan_free(p);
}

static void test_headroom(void **st)
{
	struct rampool_plan_opts o = popts(NULL, M(2));
	struct rampool_plan *p;

	(void)st;
	/* a size: base pages, whatever the default */
	p = ok_o(J({"headroom": "512M", "blocks": [{"id": "a", "size": "1G"}]}),
		 &o);
	assert_int_equal(rampool_plan_count(p), 2);
	blk(p, 0, "a", G(1), G(1), M(2), ANY, HT, F_DEF);
	blk(p, 1, "headroom", M(512), M(512), 4096, ANY, SH, F_HR);
	rampool_plan_free(p);
	p = ok(J({"blocks": [{"id": "a", "size": 4096}], "headroom": 8192}));
	blk(p, 1, "headroom", 8192, 8192, 4096, ANY, SH, F_HR);
	rampool_plan_free(p);
	/* an object; the map does not apply to it */
	o = popts("headroom=1G@1", 0);
	p = ok_o(J({"blocks": [{"id": "a", "size": 4096}],
		    "headroom": {"size": "1G", "node": 0}}), &o);
	blk(p, 1, "headroom", G(1), G(1), 4096, 0, SH, F_HR);
	rampool_plan_free(p);
	p = ok(J({"blocks": [{"id": "a", "size": 4096}],
		  "headroom": {"size": "2G", "page_size": "1G",
			       "backing": "hugetlb"}}));
	blk(p, 1, "headroom", G(2), G(2), G(1), ANY, HT, F_HR);
	rampool_plan_free(p);
	/* 0: none */
	p = ok(J({"blocks": [{"id": "a", "size": 4096}], "headroom": 0}));
	assert_int_equal(rampool_plan_count(p), 1);
	rampool_plan_free(p);
	p = ok(J({"blocks": [{"id": "a", "size": 4096}],
		  "headroom": {"size": "0M"}}));
	assert_int_equal(rampool_plan_count(p), 1);
	rampool_plan_free(p);

	bad(J({"blocks": [{"id": "a", "size": 4096}], "headroom": true}),
	    "manifest: $.headroom: a boolean, not a size or an object");
	bad(J({"blocks": [{"id": "a", "size": 4096}], "headroom": -4096}),
	    "manifest: $.headroom: -4096 is negative");
	bad(J({"blocks": [{"id": "a", "size": 4096}], "headroom": {}}),
	    "manifest: $.headroom.size: missing (required)");
	bad(J({"blocks": [{"id": "a", "size": 4096}],
	       "headroom": {"size": "1G", "backing": "hugetlb"}}),
	    "manifest: $.headroom.backing: \"hugetlb\" contradicts the page "
	    "size 4K (the base page)");
	bad(J({"blocks": [{"id": "a", "size": 4096}],
	       "headroom": {"size": "3M", "page_size": "2M"}}),
	    "manifest: $.headroom.size: 3M is not a multiple of the page "
	    "size 2M");
	bad(J({"blocks": [{"id": "headroom", "size": 4096}]}),
	    "manifest: $.blocks[0].id: \"headroom\" is the manifest's "
	    "headroom; name the block otherwise");
}

static void test_sparse(void **st)
{
	struct rampool_plan *p;

	(void)st;
	/* all plugged; one range of all blocks; adjacent ranges */
	p = ok(J({"blocks": [
		{"id": "a", "size": "1G", "page_size": "2M",
		 "sparse": {"block_size": "1G", "plugged": 1073741824}},
		{"id": "b", "size": "8M", "sparse": {"block_size": "2M",
						    "plugged": [[0, 4]]}},
		{"id": "c", "size": "8M", "sparse": {"block_size": "2M",
						    "plugged": [[1, 1], [2, 1]]}}]}));
	blk(p, 0, "a", G(1), G(1), M(2), ANY, HT, F_SP);
	blk(p, 1, "b", M(8), M(8), 4096, ANY, SH, F_SP | F_DEF);
	blk(p, 2, "c", M(4), M(8), 4096, ANY, SH, F_SP | F_DEF);
	rampool_plan_free(p);

#define SP(x) "{\"blocks\": [{\"id\": \"v\", \"size\": \"1G\", " \
	"\"page_size\": \"2M\", \"sparse\": " x "}]}"
#define PL "manifest: $.blocks[0].sparse.plugged"
	bad(SP("[]"), "manifest: $.blocks[0].sparse: an array, not an object "
	    "{\"block_size\", \"plugged\"}");
	bad(SP("{\"plugged\": \"1G\"}"),
	    "manifest: $.blocks[0].sparse.block_size: missing (required)");
	bad(SP("{\"block_size\": \"2M\"}"), PL ": missing (required)");
	bad(SP("{\"block_size\": \"3M\", \"plugged\": \"1G\"}"),
	    "manifest: $.blocks[0].sparse.block_size: 3M is not a power of "
	    "two of at least the page size 2M");
	bad(SP("{\"block_size\": \"1M\", \"plugged\": \"1G\"}"),
	    "manifest: $.blocks[0].sparse.block_size: 1M is not a power of "
	    "two of at least the page size 2M");
	bad(SP("{\"block_size\": \"2G\", \"plugged\": \"1G\"}"),
	    "manifest: $.blocks[0].sparse.block_size: 2G does not divide "
	    "the size 1G");
	bad(SP("{\"block_size\": \"2M\", \"plugged\": \"2G\"}"),
	    PL ": 2G is more than the size 1G");
	bad(SP("{\"block_size\": \"4M\", \"plugged\": \"2M\"}"),
	    PL ": 2M is not a multiple of the block size 4M");
	bad(SP("{\"block_size\": \"4M\", \"plugged\": 0}"),
	    PL ": 0: nothing plugged");
	bad(SP("{\"block_size\": \"4M\", \"plugged\": []}"),
	    PL ": no range: nothing plugged");
	bad(SP("{\"block_size\": \"4M\", \"plugged\": true}"),
	    PL ": a boolean, not a size (a number of bytes or a string such "
	    "as \"8G\")");
	bad(SP("{\"block_size\": \"4M\", \"plugged\": [[0, 1], 5]}"),
	    PL "[1]: a number, not a range [first block, count]");
	bad(SP("{\"block_size\": \"4M\", \"plugged\": [[0, 1, 2]]}"),
	    PL "[0]: an array of another length, not a range [first block, "
	    "count]");
	bad(SP("{\"block_size\": \"4M\", \"plugged\": [[\"0\", 1]]}"),
	    PL "[0][0]: a string, not a number of blocks");
	bad(SP("{\"block_size\": \"4M\", \"plugged\": [[0, -1]]}"),
	    PL "[0][1]: -1 is negative");
	bad(SP("{\"block_size\": \"4M\", \"plugged\": [[0.5, 1]]}"),
	    PL "[0][0]: 0.5 is not an integer");
	bad(SP("{\"block_size\": \"4M\", \"plugged\": [[3, 0]]}"),
	    PL "[0][1]: 0: a range has at least one block");
	bad(SP("{\"block_size\": \"4M\", \"plugged\": [[4, 2], [5, 1]]}"),
	    PL "[1][0]: block 5: the ranges must be in order and not overlap "
	    "(the one before ends at block 6)");
	bad(SP("{\"block_size\": \"4M\", \"plugged\": [[4, 2], [1, 1]]}"),
	    PL "[1][0]: block 1: the ranges must be in order and not overlap "
	    "(the one before ends at block 6)");
	bad(SP("{\"block_size\": \"4M\", \"plugged\": [[250, 7]]}"),
	    PL "[0]: [250, 7] goes past the region's 256 blocks");
	bad(SP("{\"block_size\": \"4M\", \"plugged\": [[256, 1]]}"),
	    PL "[0]: [256, 1] goes past the region's 256 blocks");
	bad(SP("{\"block_size\": \"4M\", \"plugged\": "
	       "[[1, 18446744073709551614]]}"),
	    PL "[0]: [1, 18446744073709551614] goes past the region's 256 "
	    "blocks");
#undef SP
#undef PL
}

/* ---- refusals: the JSON path and what is wrong with it --------------------- */

static void test_structure(void **st)
{
	(void)st;
	bad("[]", "manifest: $: an array, not an object {\"blocks\": [...]}");
	bad("null", "manifest: $: null, not an object {\"blocks\": [...]}");
	bad("{}", "manifest: $.blocks: missing (required)");
	bad(J({"blocks": {}}),
	    "manifest: $.blocks: an object, not an array of blocks");
	bad(J({"blocks": []}),
	    "manifest: $.blocks: empty: a plan needs at least one block");
	bad(J({"blocks": [{"id": "a", "size": 4096}, "b"]}),
	    "manifest: $.blocks[1]: a string, not an object");
	bad(J({"blocks": [{"size": 4096}]}),
	    "manifest: $.blocks[0].id: missing (required)");
	bad(J({"blocks": [{"id": "a"}]}),
	    "manifest: $.blocks[0].size: missing (required)");
}

static void test_ids(void **st)
{
	char text[600], want[400], id[300];
	struct rampool_plan *p;

	(void)st;
	bad(J({"blocks": [{"id": 7, "size": 4096}]}),
	    "manifest: $.blocks[0].id: a number, not a string");
	bad(J({"blocks": [{"id": "", "size": 4096}]}),
	    "manifest: $.blocks[0].id: empty");
	bad(J({"blocks": [{"id": "a\tb", "size": 4096}]}),
	    "manifest: $.blocks[0].id: \"a?b\" has a control character "
	    "(byte 1)");
	bad(J({"blocks": [{"id": "ab\u0000", "size": 4096}]}),
	    "manifest: $.blocks[0].id: \"ab?\" has a control character "
	    "(byte 2)");
	bad(J({"blocks": [{"id": "a", "size": 4096}, {"id": "b", "size": 4096},
			  {"id": "a", "size": 8192}]}),
	    "manifest: $.blocks[2].id: \"a\" is also $.blocks[0].id");

	/* 255 bytes is the most: a QEMU idstr */
	memset(id, 'x', 255);
	id[255] = '\0';
	snprintf(text, sizeof(text), "{\"blocks\": [{\"id\": \"%s\", "
		 "\"size\": 4096}]}", id);
	p = ok(text);
	blk(p, 0, id, 4096, 4096, 4096, ANY, SH, F_DEF);
	rampool_plan_free(p);
	snprintf(text, sizeof(text), "{\"blocks\": [{\"id\": \"%sy\", "
		 "\"size\": 4096}]}", id);
	snprintf(want, sizeof(want), "manifest: $.blocks[0].id: 256 bytes, "
		 "more than 255");
	bad(text, want);
	/* UTF-8 ids are kept as given */
	p = ok(J({"blocks": [{"id": "m\u00e9m/0", "size": 4096}]}));
	blk(p, 0, "m\xc3\xa9m/0", 4096, 4096, 4096, ANY, SH, F_DEF);
	rampool_plan_free(p);
}

static void test_bad_sizes(void **st)
{
#define B0 "manifest: $.blocks[0].size"
	(void)st;
	bad(J({"blocks": [{"id": "a", "size": -1}]}), B0 ": -1 is negative");
	bad(J({"blocks": [{"id": "a", "size": 1.5}]}),
	    B0 ": 1.5 is not an integer");
	bad(J({"blocks": [{"id": "a", "size": 4096.0}]}),
	    B0 ": 4096.0 is not an integer");
	bad(J({"blocks": [{"id": "a", "size": 1e9}]}),
	    B0 ": 1e9 is not an integer");
	bad(J({"blocks": [{"id": "a", "size": NaN}]}),
	    B0 ": NaN is not an integer");
	bad(J({"blocks": [{"id": "a", "size": 99999999999999999999}]}),
	    B0 ": the number is out of range");
	bad(J({"blocks": [{"id": "a", "size": 18446744073709551615}]}),
	    B0 ": the number is out of range");
	bad(J({"blocks": [{"id": "a", "size": -99999999999999999999}]}),
	    B0 ": the number is out of range");
	bad(J({"blocks": [{"id": "a", "size": "16777216T"}]}),
	    B0 ": \"16777216T\" is not a size: size overflows 64 bits");
	bad(J({"blocks": [{"id": "a", "size": "99999999999999999999"}]}),
	    B0 ": \"99999999999999999999\" is not a size: number overflows "
	    "64 bits");
	bad(J({"blocks": [{"id": "a", "size": "-1G"}]}),
	    B0 ": \"-1G\" is negative");
	bad(J({"blocks": [{"id": "a", "size": "8X"}]}),
	    B0 ": \"8X\" is not a size: unknown size suffix");
	bad(J({"blocks": [{"id": "a", "size": "1.5G"}]}),
	    B0 ": \"1.5G\" is not a size: unknown size suffix");
	bad(J({"blocks": [{"id": "a", "size": " 8G"}]}),
	    B0 ": \" 8G\" is not a size: expected a number");
	bad(J({"blocks": [{"id": "a", "size": ""}]}),
	    B0 ": \"\" is not a size: expected a number");
	bad(J({"blocks": [{"id": "a", "size": true}]}),
	    B0 ": a boolean, not a size (a number of bytes or a string such "
	    "as \"8G\")");
	bad(J({"blocks": [{"id": "a", "size": null}]}),
	    B0 ": null, not a size (a number of bytes or a string such as "
	    "\"8G\")");
	bad(J({"blocks": [{"id": "a", "size": [4096]}]}),
	    B0 ": an array, not a size (a number of bytes or a string such "
	    "as \"8G\")");
	bad(J({"blocks": [{"id": "a", "size": 0}]}),
	    B0 ": 0: a block needs at least one page");
	bad(J({"blocks": [{"id": "a", "size": 6000}]}),
	    B0 ": 6000 is not a multiple of the page size 4K (the default)");
	bad(J({"blocks": [{"id": "a", "size": "3M", "page_size": "2M"}]}),
	    B0 ": 3M is not a multiple of the page size 2M");
	/* a long value is cut in the message */
	bad(J({"blocks": [{"id": "a", "size": "1234567890123456789012345678901234567890123456789012345678901234567890"}]}),
	    B0 ": \"1234567890123456789012345678901234567890123456789012345678"
	    "901234...\" is not a size: number overflows 64 bits");
#undef B0
}

static void test_bad_page_sizes(void **st)
{
	struct rampool_plan_opts o = popts("a=2M", 0);

	(void)st;
	bad(J({"blocks": [{"id": "a", "size": 4096, "page_size": 3000}]}),
	    "manifest: $.blocks[0].page_size: 3000 is not a page size (a "
	    "power of two, at least 4K)");
	bad(J({"blocks": [{"id": "a", "size": 4096, "page_size": "2K"}]}),
	    "manifest: $.blocks[0].page_size: 2K is not a page size (a "
	    "power of two, at least 4K)");
	bad(J({"blocks": [{"id": "a", "size": "6M", "page_size": "3M"}]}),
	    "manifest: $.blocks[0].page_size: 3M is not a page size (a "
	    "power of two, at least 4K)");
	bad(J({"blocks": [{"id": "a", "size": 4096, "page_size": 0}]}),
	    "manifest: $.blocks[0].page_size: 0 is not a page size (a power "
	    "of two, at least 4K)");
	bad(J({"blocks": [{"id": "a", "size": 4096, "page_size": "2M2"}]}),
	    "manifest: $.blocks[0].page_size: \"2M2\" is not a size: garbage "
	    "after the size");
	/* the map's page size, named as such */
	bad_o(J({"blocks": [{"id": "a", "size": "3M"}]}), &o,
	      "manifest: $.blocks[0].size: 3M is not a multiple of the page "
	      "size 2M (from the map)");
}

static void test_bad_nodes_backing(void **st)
{
	struct rampool_plan_opts o = popts("a=4K", M(2));

	(void)st;
	bad(J({"blocks": [{"id": "a", "size": 4096, "node": 1024}]}),
	    "manifest: $.blocks[0].node: 1024 is not a node (0 to 1023, or "
	    "\"any\")");
	bad(J({"blocks": [{"id": "a", "size": 4096, "node": -1}]}),
	    "manifest: $.blocks[0].node: -1 is negative");
	bad(J({"blocks": [{"id": "a", "size": 4096, "node": "0"}]}),
	    "manifest: $.blocks[0].node: \"0\" is not a node (0 to 1023, or "
	    "\"any\")");
	bad(J({"blocks": [{"id": "a", "size": 4096, "node": "Any"}]}),
	    "manifest: $.blocks[0].node: \"Any\" is not a node (0 to 1023, "
	    "or \"any\")");
	bad(J({"blocks": [{"id": "a", "size": 4096, "node": 1.0}]}),
	    "manifest: $.blocks[0].node: 1.0 is not an integer");
	bad(J({"blocks": [{"id": "a", "size": 4096, "node": false}]}),
	    "manifest: $.blocks[0].node: a boolean, not a node (0 to 1023, "
	    "or \"any\")");
	bad(J({"blocks": [{"id": "a", "size": 4096, "backing": "ext4"}]}),
	    "manifest: $.blocks[0].backing: \"ext4\" is not \"hugetlb\" or "
	    "\"shmem\"");
	bad(J({"blocks": [{"id": "a", "size": 4096, "backing": 1}]}),
	    "manifest: $.blocks[0].backing: a number, not \"hugetlb\" or "
	    "\"shmem\"");
	bad(J({"blocks": [{"id": "a", "size": 4096, "backing": "hugetlb"}]}),
	    "manifest: $.blocks[0].backing: \"hugetlb\" contradicts the page "
	    "size 4K (the default)");
	bad(J({"blocks": [{"id": "a", "size": "2M", "page_size": "4K",
			   "backing": "hugetlb"}]}),
	    "manifest: $.blocks[0].backing: \"hugetlb\" contradicts the page "
	    "size 4K");
	bad(J({"blocks": [{"id": "a", "size": "2M", "page_size": "2M",
			   "backing": "shmem"}]}),
	    "manifest: $.blocks[0].backing: \"shmem\" contradicts the page "
	    "size 2M");
	bad_o(J({"blocks": [{"id": "a", "size": "2M", "backing": "hugetlb"}]}),
	      &o, "manifest: $.blocks[0].backing: \"hugetlb\" contradicts the "
	      "page size 4K (from the map)");
}

/* the first refusal in the manifest's order is the one reported */
static void test_first_error(void **st)
{
	(void)st;
	bad(J({"blocks": [{"id": "a", "size": 4096, "node": 5000},
			  {"id": "a", "size": -1}]}),
	    "manifest: $.blocks[0].node: 5000 is not a node (0 to 1023, or "
	    "\"any\")");
	bad(J({"blocks": [{"node": 5000, "size": -1, "id": ""}]}),
	    "manifest: $.blocks[0].id: empty");
}

static void test_unknown_keys(void **st)
{
	struct rampool_plan *p;

	(void)st;
	p = ok(J({"version": 1, "blocks": [{"id": "a", "size": 4096,
		"szie": 5, "odd key": 1, "sparse": {"block_size": 4096,
		"plugged": 4096, "bitmap": "ff"}}],
		"headroom": {"size": 4096, "id": "x"}}));
	assert_int_equal(rampool_plan_count(p), 2);
	blk(p, 0, "a", 4096, 4096, 4096, ANY, SH, F_SP | F_DEF);
	assert_int_equal(lg.n, 5);
	assert_int_equal(t_logged(&lg, RAMPOOL_LOG_WARN,
				  "manifest: $.version: unknown key, ignored"), 1);
	assert_int_equal(t_logged(&lg, RAMPOOL_LOG_WARN,
				  "manifest: $.blocks[0].szie: unknown key, "
				  "ignored"), 1);
	assert_int_equal(t_logged(&lg, RAMPOOL_LOG_WARN,
				  "manifest: $.blocks[0][\"odd key\"]: "
				  "unknown key, ignored"), 1);
	assert_int_equal(t_logged(&lg, RAMPOOL_LOG_WARN,
				  "manifest: $.blocks[0].sparse.bitmap: "
				  "unknown key, ignored"), 1);
	assert_int_equal(t_logged(&lg, RAMPOOL_LOG_WARN,
				  "manifest: $.headroom.id: unknown key, "
				  "ignored"), 1);
	rampool_plan_free(p);
	/* warnings, then the error: one error line still */
	bad(J({"blocks": [{"id": "a", "size": -1, "x": 1}]}),
	    "manifest: $.blocks[0].size: -1 is negative");
	assert_int_equal(lg.n, 2);
}

/* ---- the text ----------------------------------------------------------- */

static void test_text(void **st)
{
	(void)st;
	bad("{\"blocks\": [{\"id\": \"a\",\n  \"size\": 4096,]}\n",
	    "manifest: line 2, column 16: quoted object property name "
	    "expected");
	bad("{\"blocks\": [{\"id\": \"a\", \"size\": 4096}]",
	    "manifest: line 1, column 39: unexpected end of data");
	bad("{\"blocks\": [{\"id\": \"a\", \"size\": 4096}]}\n\nx",
	    "manifest: line 3, column 1: unexpected character");
	bad("{\"blocks\": [{\"id\": \"a\", \"size\": 4096}]}{}",
	    "manifest: line 1, column 40: unexpected character");
	bad("{\"blocks\": [{\"id\": \"a\", \"size\": 40", "manifest: line 1, "
	    "column 35: unexpected end of data");
	bad("123", "manifest: $: a number, not an object {\"blocks\": [...]}");
	bad("", "manifest: line 1, column 1: empty: no JSON value");
	bad(" \n\t", "manifest: line 2, column 2: empty: no JSON value");
	bad("{\"blocks\": [{\"id\": \"a\xff\", \"size\": 4096}]}",
	    "manifest: line 1, column 22: invalid utf-8 string");
	bad("/* c */ {}", "manifest: line 1, column 1: unexpected character");
	bad_len("{\"blocks\":\0[]}", 14, NULL,
		"manifest: line 1, column 11: a NUL byte");
	bad_len(NULL, 0, NULL, "manifest: line 1, column 1: empty: no JSON "
		"value");
}

static void test_args(void **st)
{
	const char *t = J({"blocks": [{"id": "a", "size": 4096}]});
	struct rampool_plan_opts o = popts(NULL, 0);
	struct rampool_plan *p = SENTINEL;

	(void)st;
	assert_int_equal(rampool_plan_from_manifest(NULL, t, strlen(t), NULL,
						    &p), -EINVAL);
	assert_int_equal(rampool_plan_from_manifest(pool, t, strlen(t), NULL,
						    NULL), -EINVAL);
	assert_int_equal(rampool_plan_from_manifest(pool, NULL, 1, NULL, &p),
			 -EINVAL);
	assert_ptr_equal(p, SENTINEL);
	assert_int_equal(lg.n, 0);

	o.sz = sizeof(size_t);
	bad_o(t, &o, "plan options: size 8 unknown (or bytes past the known "
	      "fields not zero)");
	o = popts(NULL, 3000);
	bad_o(t, &o, "plan options: the default page size 3000 is not a page "
	      "size (a power of two, at least 4K)");
	o = popts("a=2M,b", 0);
	bad_o(t, &o, "map: 'b': not ID=PAGESIZE[@NODE]");
	o = popts("a=2M,a=1G", 0);
	bad_o(t, &o, "map: 'a' is given twice");

	/* the getters */
	assert_int_equal(rampool_plan_count(NULL), 0);
	p = ok(t);
	{
		struct rampool_plan_block b = { .sz = 8 };

		assert_int_equal(rampool_plan_block(p, 0, &b), -EINVAL);
		b.sz = sizeof(b);
		assert_int_equal(rampool_plan_block(p, 1, &b), -ERANGE);
		assert_int_equal(rampool_plan_block(NULL, 0, &b), -EINVAL);
	}
	rampool_plan_free(p);
	rampool_plan_free(NULL);
}

/* ---- the fuzzer's corpus, replayed with its promises ------------------------ */

static void test_corpus(void **st)
{
	const char *src = getenv("SRC");
	char dir[PATH_MAX], path[PATH_MAX + 256];
	unsigned int n = 0, accepted = 0;
	struct dirent *de;
	DIR *d;

	(void)st;
	snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/manifest",
		 src && *src ? src : ".");
	d = opendir(dir);
	if (!d)
		fail_msg("cannot open the corpus %s (set SRC to the source "
			 "tree): %s", dir, strerror(errno));
	while ((de = readdir(d))) {
		static char buf[1 << 16];
		size_t got;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		f = fopen(path, "rb");
		assert_non_null(f);
		got = fread(buf, 1, sizeof(buf), f);
		assert_true(feof(f));
		fclose(f);
		accepted += md_run(buf, got) == 0;
		n++;
	}
	closedir(d);
	/* the seeds: valid and refused manifests both */
	assert_true(n >= 7);
	assert_true(accepted >= 3 && accepted < n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_full, reset),
		cmocka_unit_test_setup(test_man_example, reset),
		cmocka_unit_test_setup(test_sizes, reset),
		cmocka_unit_test_setup(test_defaults, reset),
		cmocka_unit_test_setup(test_headroom, reset),
		cmocka_unit_test_setup(test_sparse, reset),
		cmocka_unit_test_setup(test_structure, reset),
		cmocka_unit_test_setup(test_ids, reset),
		cmocka_unit_test_setup(test_bad_sizes, reset),
		cmocka_unit_test_setup(test_bad_page_sizes, reset),
		cmocka_unit_test_setup(test_bad_nodes_backing, reset),
		cmocka_unit_test_setup(test_first_error, reset),
		cmocka_unit_test_setup(test_unknown_keys, reset),
		cmocka_unit_test_setup(test_text, reset),
		cmocka_unit_test_setup(test_args, reset),
		cmocka_unit_test_setup(test_corpus, reset),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
