// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_conf.c: rampool.conf(5)'s parser (tools/conf.c): exact results of good files and the exact line of every error. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tools/conf.h"

#define MB(x) ((uint64_t)(x) << 20)
#define GB(x) ((uint64_t)(x) << 30)

/* Parses text (from a heap copy of exactly its length); the result. */
static int parse(const char *text, struct conf *c, char *err, size_t len)
{
	size_t n = strlen(text);
	char *copy = malloc(n ? n : 1);
	int ret;

	assert_non_null(copy);
	memcpy(copy, text, n);
	ret = conf_parse(copy, n, "pool.conf", c, err, len);
	free(copy);
	return ret;
}

static void test_full(void **state)
{
	static const char text[] =
		"# the host's pools\n"
		"; another comment\n"
		"[pages \"2M\"]\n"
		"\tnode0 = 1024\n"
		"\tNODE1=512   # inline comment\n"
		"[ pages \"1G\" ]\n"
		"node1 = 2\n"
		"\n"
		"[warm \"small\"]\n"
		"  node = 0\n"
		"  page-size = 2M\n"
		"  size = 16G\n"
		"  count = 4\n"
		"  backing = hugetlb\n"
		"[reservation \"db1\"]\n"
		"size = 64G\n"
		"page-size = 1G\n"
		"node = 1\n"
		"prealloc = yes\n"
		"owner = root\n"
		"extra = 0\n"
		"[reservation \"db-2\"]\n"
		"nodes = \"0:32G,1:32G\"\r\n"
		"size = 64G\n"
		"backing = hugetlb\n"
		"[reservation \"s\"]\n"
		"size = 1G\n"
		"backing = shmem\n"
		"owner = 1000\n";
	struct conf c = { 0 };
	char err[256] = "";

	(void)state;
	assert_int_equal(parse(text, &c, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(c.nr_pages, 2);
	assert_int_equal(c.pages[0].page_size, MB(2));
	assert_int_equal(c.pages[0].line, 3);
	assert_int_equal(c.pages[0].nr, 2);
	assert_int_equal(c.pages[0].n[0].node, 0);
	assert_int_equal(c.pages[0].n[0].count, 1024);
	assert_int_equal(c.pages[0].n[1].node, 1);
	assert_int_equal(c.pages[0].n[1].count, 512);
	assert_int_equal(c.pages[1].page_size, GB(1));
	assert_int_equal(c.pages[1].n[0].count, 2);
	assert_int_equal(c.nr_warm, 1);
	assert_string_equal(c.warm[0].label, "small");
	assert_int_equal(c.warm[0].node, 0);
	assert_int_equal(c.warm[0].page_size, MB(2));
	assert_int_equal(c.warm[0].size, GB(16));
	assert_int_equal(c.warm[0].count, 4);
	assert_int_equal(c.warm[0].backing, RAMPOOL_RES_HUGETLB);
	assert_int_equal(c.nr_res, 3);
	assert_string_equal(c.res[0].name, "db1");
	assert_int_equal(c.res[0].line, 15);
	assert_int_equal(c.res[0].size, GB(64));
	assert_int_equal(c.res[0].page_size, GB(1));
	assert_int_equal(c.res[0].nr_nodes, 1);
	assert_int_equal(c.res[0].nodes[0].node, 1);
	assert_int_equal(c.res[0].nodes[0].size, GB(64));
	assert_true(c.res[0].prealloc);
	assert_int_equal(c.res[0].owner_uid, 0);
	assert_int_equal(c.res[0].extra, 0);
	assert_string_equal(c.res[1].name, "db-2");
	assert_int_equal(c.res[1].nr_nodes, 2);
	assert_int_equal(c.res[1].nodes[1].node, 1);
	assert_int_equal(c.res[1].nodes[1].size, GB(32));
	assert_int_equal(c.res[1].size, GB(64));
	assert_int_equal(c.res[1].page_size, 0);
	assert_false(c.res[1].prealloc);
	assert_int_equal(c.res[1].owner_uid, -1);
	assert_int_equal(c.res[2].backing, RAMPOOL_RES_SHMEM);
	assert_int_equal(c.res[2].nr_nodes, 0);
	assert_int_equal(c.res[2].owner_uid, 1000);
	conf_free(&c);
}

static void test_empty(void **state)
{
	struct conf c = { .nr_res = 99 };
	char err[64] = "";

	(void)state;
	assert_int_equal(parse("# nothing declared\n\n", &c, err, sizeof(err)),
			 0);
	assert_int_equal(c.nr_pages + c.nr_warm + c.nr_res, 0);
	conf_free(&c);
	assert_int_equal(parse("", &c, err, sizeof(err)), 0);
	conf_free(&c);
}

/* Every error: the whole line, exactly, and *out untouched. */
static const struct {
	const char *text, *want;
} bad[] = {
	{ "[pool \"x\"]\n", "pool.conf:1: unknown section 'pool' (pages, warm, reservation)" },
	{ "\n[pages]\n", "pool.conf:2: [pages]: want [pages \"NAME\"]" },
	{ "[pages \"2M\"\n", "pool.conf:1: [pages \"2M\": no closing ']'" },
	{ "[pages \"2M]\n", "pool.conf:1: section name: no closing '\"'" },
	{ "[pages \"2M\"] x\n", "pool.conf:1: [pages \"2M\"]: text after ']'" },
	{ "[warm \"a\\qb\"]\n", "pool.conf:1: section name: bad escape in a quoted string (only \\\" and \\\\)" },
	{ "[pages \"3M\"]\nnode0 = 1\n", "pool.conf:1: [pages] page size '3M': not a page size (4K, 2M, 1G, ...)" },
	{ "[pages \"4K\"]\nnode0 = 1\n", "pool.conf:1: [pages \"4K\"]: 4K pages are not a hugepage pool" },
	{ "[pages \"2M\"]\nnode0 = 1\n[pages \"2048K\"]\n", "pool.conf:3: [pages \"2048K\"] twice (first on line 1)" },
	{ "[pages \"2M\"]\n", "pool.conf:1: [pages \"2M\"]: no nodeN = COUNT" },
	{ "[pages \"2M\"]\nnodes = 1\n", "pool.conf:2: unknown key 'nodes' in [pages \"2M\"] (nodeN = COUNT)" },
	{ "[pages \"2M\"]\nsize = 1\n", "pool.conf:2: unknown key 'size' in [pages \"2M\"] (nodeN = COUNT)" },
	{ "[pages \"2M\"]\nnode01 = 1\n", "pool.conf:2: node01: node number with a leading 0" },
	{ "[pages \"2M\"]\nnode4096 = 1\n", "pool.conf:2: node4096 '4096': more than 4095" },
	{ "[pages \"2M\"]\nnode1x = 1\n", "pool.conf:2: node1x '1x': not a number" },
	{ "[pages \"2M\"]\nnode0 = -1\n", "pool.conf:2: node0 '-1': not a number" },
	{ "[pages \"2M\"]\nnode0 = 1099511627777\n", "pool.conf:2: node0 '1099511627777': more than 1099511627776" },
	{ "[pages \"2M\"]\nnode0 = 1\nnode0 = 2\n", "pool.conf:3: node0 given twice in [pages \"2M\"]" },
	{ "node0 = 1\n", "pool.conf:1: node0: a key before any [section]" },
	{ "[pages \"2M\"]\nnode0\n", "pool.conf:2: node0: want 'node0 = VALUE'" },
	{ "[pages \"2M\"]\nnode0 =\n", "pool.conf:2: node0: empty value" },
	{ "[pages \"2M\"]\nnode0 = \"\"\n", "pool.conf:2: node0: empty value" },
	{ "[pages \"2M\"]\nnode0 = \"12\n", "pool.conf:2: node0: no closing '\"'" },
	{ "[pages \"2M\"]\nnode0 = \"12\" 3\n", "pool.conf:2: node0: text after the closing '\"'" },
	{ "[pages \"2M\"]\nnode0 = 1\"2\n", "pool.conf:2: node0 '1\"2': a quote or backslash in a bare value (quote the whole value)" },
	{ "[pages \"2M\"]\n= 1\n", "pool.conf:2: want KEY = VALUE, [SECTION \"NAME\"] or a comment, not '= 1'" },
	{ "[warm \"w\"]\nnode = 0\nsize = 2M\n", "pool.conf:1: [warm \"w\"]: no count" },
	{ "[warm \"w\"]\nsize = 2M\ncount = 1\n", "pool.conf:1: [warm \"w\"]: no node" },
	{ "[warm \"w\"]\nnode = 0\nsize = 2Q\ncount = 1\n", "pool.conf:3: size '2Q': unknown unit (use K, M, G or T)" },
	{ "[warm \"w\"]\nnode = 0\nsize = 0\n", "pool.conf:3: size '0': must be more than 0" },
	{ "[warm \"w\"]\nnode = 0\ncount = 65536\n", "pool.conf:3: count '65536': more than 65535" },
	{ "[warm \"w\"]\nbacking = thp\n", "pool.conf:2: backing 'thp': hugetlb or shmem" },
	{ "[warm \"w\"]\ncolour = red\n", "pool.conf:2: unknown key 'colour' in [warm \"w\"]" },
	{ "[warm \"w\"]\nnode = 0\nNode = 1\n", "pool.conf:3: node given twice in [warm \"w\"] (first on line 2)" },
	{ "[warm \"w\"]\nnode=0\nsize=3M\ncount=1\npage-size=2M\n", "pool.conf:1: [warm \"w\"]: size is not a whole number of pages" },
	{ "[warm \"w\"]\nnode=0\nsize=4K\ncount=1\npage-size=2M\nbacking=shmem\n", "pool.conf:1: [warm \"w\"]: shmem has 4K pages only" },
	{ "[warm \"a\"]\nnode=0\nsize=2M\ncount=1\n[warm \"b\"]\nnode=0\nsize=2M\ncount=3\n", "pool.conf:5: [warm \"b\"]: the same slots as [warm \"a\"] (line 1)" },
	{ "[warm \"a\"]\nnode=0\nsize=2M\ncount=1\n[warm \"a\"]\n", "pool.conf:5: [warm \"a\"] twice (first on line 1)" },
	{ "[reservation \"-x\"]\n", "pool.conf:1: [reservation \"-x\"]: a name is 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit" },
	{ "[reservation \"\"]\n", "pool.conf:1: [reservation \"\"]: a name is 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit" },
	{ "[reservation \"a\"]\nsize = 1G\n[reservation \"a\"]\n", "pool.conf:3: [reservation \"a\"] twice (first on line 1)" },
	{ "[reservation \"a\"]\nnode = 0\n", "pool.conf:1: [reservation \"a\"]: no size (or nodes)" },
	{ "[reservation \"a\"]\nnode = 0\nnodes = 0:1G\n", "pool.conf:3: nodes: node and nodes in one [reservation \"a\"]" },
	{ "[reservation \"a\"]\nnodes = 0:1G,0:1G\n", "pool.conf:2: nodes '0:1G,0:1G': node 0 twice" },
	{ "[reservation \"a\"]\nnodes = 0:1G,\n", "pool.conf:2: nodes '0:1G,': want NODE:SIZE[,...]" },
	{ "[reservation \"a\"]\nnodes = 0\n", "pool.conf:2: nodes '0': want NODE:SIZE[,...]" },
	{ "[reservation \"a\"]\nnodes = 0:0\n", "pool.conf:2: nodes: size '0': must be more than 0" },
	{ "[reservation \"a\"]\nnodes = x:1G\n", "pool.conf:2: nodes: node 'x': not a number" },
	{ "[reservation \"a\"]\nsize = 3G\nnodes = 0:1G,1:1G\n", "pool.conf:3: nodes '0:1G,1:1G': their sum is not size" },
	{ "[reservation \"a\"]\nnodes = 0:1G,1:1G\nsize = 3G\n", "pool.conf:3: size '3G': not the sum of nodes" },
	{ "[reservation \"a\"]\nsize = 1G\nprealloc = maybe\n", "pool.conf:3: prealloc 'maybe': yes or no" },
	{ "[reservation \"a\"]\nsize = 1G\nowner = no-such-user-here\n", "pool.conf:3: owner 'no-such-user-here': no such user" },
	{ "[reservation \"a\"]\nsize = 1G\nowner = 4294967295\n", "pool.conf:3: owner '4294967295': more than 4294967294" },
	{ "[reservation \"a\"]\nsize = 3M\npage-size = 2M\n", "pool.conf:1: [reservation \"a\"]: size or extra is not a whole number of pages" },
	{ "[reservation \"a\"]\nsize = 2M\nextra = 1M\npage-size = 2M\n", "pool.conf:1: [reservation \"a\"]: size or extra is not a whole number of pages" },
	{ "[reservation \"a\"]\nsize = 2M\nbacking = shmem\npage-size = 2M\n", "pool.conf:1: [reservation \"a\"]: shmem has 4K pages only" },
	{ "[reservation \"a\"]\nsize = 2M\nsize = 4M\n", "pool.conf:3: size given twice in [reservation \"a\"] (first on line 2)" },
	{ "[reservation \"a\"]\nsize = 2M\n[pages \"2M\"]\n", "pool.conf:3: [pages \"2M\"]: no nodeN = COUNT" },
	{ "[reservation \"a\"]\nsize = 2M\npage-size = 2M\n[x \"y\"]\n", "pool.conf:4: unknown section 'x' (pages, warm, reservation)" },
};

static void test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct conf c = { .nr_res = 77 };
		char err[512] = "";

		assert_int_equal(parse(bad[i].text, &c, err, sizeof(err)),
				 -EINVAL);
		assert_string_equal(err, bad[i].want);
		assert_int_equal(c.nr_res, 77);
		assert_null(c.res);
	}
}

static void test_nul_and_size(void **state)
{
	char *big = malloc(CONF_MAX_BYTES + 1);
	struct conf c = { 0 };
	char err[128];

	(void)state;
	assert_int_equal(conf_parse("[pages \"2M\"]\0", 13, "f", &c, err,
				    sizeof(err)), -EINVAL);
	assert_string_equal(err, "f:1: a NUL byte: not a text file");
	assert_non_null(big);
	memset(big, '\n', CONF_MAX_BYTES + 1);
	assert_int_equal(conf_parse(big, CONF_MAX_BYTES + 1, "f", &c, err,
				    sizeof(err)), -EINVAL);
	assert_string_equal(err, "f:1: larger than 1048576 bytes");
	assert_int_equal(conf_parse(big, CONF_MAX_BYTES, "f", &c, err,
				    sizeof(err)), 0);
	free(big);
	/* a short err buffer is cut, still a string */
	assert_int_equal(conf_parse("[x \"y\"]", 7, "f", &c, err, 8), -EINVAL);
	assert_string_equal(err, "f:1: un");
}

/* Every line with its bytes cut at each point: never a crash, and any
 * refusal names a line of the file. */
static void test_cuts(void **state)
{
	static const char text[] =
		"[pages \"2M\"]\nnode0 = 1024\n[warm \"w\"]\nnode = 0\n"
		"size = 2M\ncount = 1\n[reservation \"r\"]\nnodes = "
		"\"0:1G,1:1G\"\nprealloc = yes\n";
	char err[512];

	(void)state;
	for (size_t n = 0; n <= sizeof(text) - 1; n++) {
		struct conf c = { 0 };
		int ret = conf_parse(text, n, "f", &c, err, sizeof(err));

		if (ret) {
			assert_int_equal(ret, -EINVAL);
			assert_true(!strncmp(err, "f:", 2));
		} else {
			conf_free(&c);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_nul_and_size),
		cmocka_unit_test(test_cuts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
