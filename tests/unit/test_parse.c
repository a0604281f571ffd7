// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_parse.c: exact results, rejections and seeded mutations of the parsers. */
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

#define PD_CHECK(cond) assert_true(cond)
#include "parse_drive.h"

#include "backend/parse.h"

#define KB(x) ((uint64_t)(x) * 1024)
#define MB(x) ((uint64_t)(x) << 20)
#define GB(x) ((uint64_t)(x) << 30)

/* Text without its NUL, in a heap block of exactly its length. */
struct exact {
	char *s;
	size_t len;
};

static struct exact exact_n(const char *text, size_t len)
{
	struct exact e = { .s = malloc(len ? len : 1), .len = len };

	assert_non_null(e.s);
	memcpy(e.s, text, len);
	return e;
}

static struct exact exact(const char *text)
{
	return exact_n(text, strlen(text));
}

/* Names the input a loop is at, escaped, so a failure shows which one. */
static void note(size_t i, const char *text)
{
	char out[256];
	size_t o = 0;

	for (; *text && o + 5 < sizeof(out); text++) {
		unsigned char c = (unsigned char)*text;

		if (c == '\n')
			o += (size_t)sprintf(out + o, "\\n");
		else if (c < 0x20 || c >= 0x7f || c == '"')
			o += (size_t)sprintf(out + o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
	print_message("input %zu: \"%s\"\n", i, out);
}

/* ---- parse_u64_line ------------------------------------------------------ */

static int u64(const char *text, uint64_t *v, const char **why)
{
	struct exact e = exact(text);
	int ret = parse_u64_line(e.s, e.len, v, why);

	free(e.s);
	return ret;
}

static void test_u64_valid(void **state)
{
	const char *why = NULL;
	uint64_t v;

	(void)state;
	v = 7;
	assert_int_equal(u64("0\n", &v, &why), 0);
	assert_int_equal(v, 0);
	assert_int_equal(u64("64\n", &v, &why), 0);
	assert_int_equal(v, 64);
	assert_int_equal(u64("18446744073709551615\n", &v, &why), 0);
	assert_true(v == UINT64_MAX);
	assert_null(why);
}

static void test_u64_rejects(void **state)
{
	static const char *const bad[] = {
		"",			/* empty */
		"64",			/* truncated: no newline */
		"\n",			/* no number */
		"64\n\n",		/* trailing garbage */
		"64 \n",
		"64\nx",
		"6x\n",
		"-1\n",
		"+1\n",
		" 1\n",
		"0x10\n",
		"18446744073709551616\n",	/* UINT64_MAX + 1 */
		"99999999999999999999\n",
		"184467440737095516150\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = NULL;
		uint64_t v = 0;

		note(i, bad[i]);
		assert_int_equal(u64(bad[i], &v, &why), -EINVAL);
		assert_non_null(why);
	}
}

/* ---- parse_list ---------------------------------------------------------- */

static int list(const char *text, uint64_t *bits, unsigned int nbits,
		unsigned int *count, const char **why)
{
	struct exact e = exact(text);
	int ret = parse_list(e.s, e.len, bits, nbits, count, why);

	free(e.s);
	return ret;
}

static void test_list_valid(void **state)
{
	uint64_t bits[3];
	const char *why = NULL;
	unsigned int count;

	(void)state;
	memset(bits, 0xff, sizeof(bits));
	count = 99;
	assert_int_equal(list("0-2,5\n", bits, 64, &count, &why), 0);
	assert_true(bits[0] == 0x27);
	assert_int_equal(count, 4);

	/* "\n" is the empty list: every word cleared, nothing counted */
	memset(bits, 0xff, sizeof(bits));
	count = 99;
	assert_int_equal(list("\n", bits, 192, &count, &why), 0);
	assert_true(bits[0] == 0 && bits[1] == 0 && bits[2] == 0);
	assert_int_equal(count, 0);

	assert_int_equal(list("63\n", bits, 64, &count, &why), 0);
	assert_true(bits[0] == 1ULL << 63);
	assert_int_equal(count, 1);

	/* ranges across words, nbits not a multiple of 64 */
	assert_int_equal(list("1,64-65\n", bits, 130, &count, &why), 0);
	assert_true(bits[0] == 2 && bits[1] == 3 && bits[2] == 0);
	assert_int_equal(count, 3);

	assert_int_equal(list("129\n", bits, 130, &count, &why), 0);
	assert_true(bits[0] == 0 && bits[1] == 0 && bits[2] == 2);
	assert_int_equal(count, 1);

	assert_int_equal(list("0-127\n", bits, 128, &count, &why), 0);
	assert_true(bits[0] == UINT64_MAX && bits[1] == UINT64_MAX);
	assert_int_equal(count, 128);

	/* the count is of bits set, so a repeat counts once */
	assert_int_equal(list("3,1-4\n", bits, 64, &count, &why), 0);
	assert_true(bits[0] == 0x1e);
	assert_int_equal(count, 4);

	/* count may be NULL */
	assert_int_equal(list("2-3\n", bits, 64, NULL, &why), 0);
	assert_true(bits[0] == 0xc);
	assert_null(why);
}

static void test_list_large(void **state)
{
	uint64_t bits[8192 / 64];
	const char *why = NULL;
	unsigned int count = 0;

	(void)state;
	assert_int_equal(list("0-8191\n", bits, 8192, &count, &why), 0);
	assert_int_equal(count, 8192);
	for (unsigned int i = 0; i < 8192 / 64; i++)
		assert_true(bits[i] == UINT64_MAX);
	assert_int_equal(list("8191\n", bits, 8192, &count, &why), 0);
	assert_int_equal(count, 1);
	assert_true(bits[127] == 1ULL << 63);
}

static void test_list_rejects(void **state)
{
	static const struct {
		const char *text;
		unsigned int nbits;
	} bad[] = {
		{ "", 64 },		/* empty */
		{ "0-2", 64 },		/* truncated */
		{ "0-2,5", 64 },
		{ "2-0\n", 64 },	/* reversed */
		{ "5-4\n", 64 },
		{ "64\n", 64 },		/* number >= nbits */
		{ "0-64\n", 64 },
		{ "130\n", 130 },
		{ "0\n", 0 },
		{ "0,,1\n", 64 },
		{ "0,\n", 64 },		/* trailing ',' */
		{ ",0\n", 64 },
		{ "0-\n", 64 },
		{ "-1\n", 64 },
		{ "0--1\n", 64 },
		{ "0-1-2\n", 64 },
		{ "0 1\n", 64 },
		{ "0;1\n", 64 },
		{ "0-2x\n", 64 },
		{ "0\n\n", 64 },
		{ "\n\n", 64 },
		{ " \n", 64 },
		{ "18446744073709551616\n", 64 },	/* overflow */
		{ "0-18446744073709551616\n", 64 },
		{ "18446744073709551615\n", 64 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t bits[3];
		const char *why = NULL;
		unsigned int count = 0;

		note(i, bad[i].text);
		assert_int_equal(list(bad[i].text, bits, bad[i].nbits, &count,
				      &why), -EINVAL);
		assert_non_null(why);
	}
}

/* ---- parse_meminfo ------------------------------------------------------- */

static const char proc_meminfo[] =
	"MemTotal:        6076988 kB\n"
	"MemFree:         3710720 kB\n"
	"MemAvailable:    3606328 kB\n"
	"Shmem:              2692 kB\n"
	"HugePages_Total:      96\n"
	"HugePages_Free:       82\n"
	"Hugepagesize:       2048 kB\n"
	"DirectMap1G:     4194304 kB\n";

static const char node1_meminfo[] =
	"Node 1 MemTotal:        3093060 kB\n"
	"Node 1 MemFree:         1955060 kB\n"
	"Node 1 Active(file):          0 kB\n"
	"Node 1 Inactive(file):       12 kB\n"
	"Node 1 Shmem:                 8 kB\n"
	"Node 1 SReclaimable:        292 kB\n"
	"Node 1 HugePages_Total:    32\n"
	"Node 1 HugePages_Free:     22\n"
	"Node 1 HugePages_Surp:      0\n";

static int meminfo(const char *text, const char *prefix,
		   const char *const *keys, unsigned int nkeys,
		   uint64_t *vals, const bool *opt, bool *found,
		   const char **why)
{
	struct exact e = exact(text);
	int ret = parse_meminfo(e.s, e.len, prefix, keys, nkeys, vals, opt,
				found, why);

	free(e.s);
	return ret;
}

static void test_meminfo_host(void **state)
{
	/* not in file order, with a plain count and a kB value */
	static const char *const keys[] = {
		"Hugepagesize", "MemTotal", "HugePages_Total", "MemAvailable",
		"Shmem", "MemFree",
	};
	uint64_t v[6];
	bool found[6];
	const char *why = NULL;

	(void)state;
	memset(v, 0xee, sizeof(v));
	memset(found, 0, sizeof(found));
	assert_int_equal(meminfo(proc_meminfo, "", keys, 6, v, NULL, found,
				 &why), 0);
	assert_int_equal(v[0], MB(2));
	assert_int_equal(v[1], KB(6076988));
	assert_int_equal(v[2], 96);		/* a count, not multiplied */
	assert_int_equal(v[3], KB(3606328));
	assert_int_equal(v[4], KB(2692));
	assert_int_equal(v[5], KB(3710720));
	for (int i = 0; i < 6; i++)
		assert_true(found[i]);
	assert_null(why);
}

static void test_meminfo_node(void **state)
{
	static const char *const keys[] = {
		"MemTotal", "MemFree", "Shmem", "Active(file)",
		"Inactive(file)", "SReclaimable", "HugePages_Free",
	};
	uint64_t v[7];
	const char *why = NULL;

	(void)state;
	assert_int_equal(meminfo(node1_meminfo, "Node 1 ", keys, 7, v, NULL,
				 NULL, &why), 0);
	assert_int_equal(v[0], KB(3093060));
	assert_int_equal(v[1], KB(1955060));
	assert_int_equal(v[2], KB(8));
	assert_int_equal(v[3], 0);
	assert_int_equal(v[4], KB(12));
	assert_int_equal(v[5], KB(292));
	assert_int_equal(v[6], 22);
}

static void test_meminfo_optional(void **state)
{
	static const char *const keys[] = { "MemTotal", "Hugepagesize",
					    "Bogus" };
	static const bool opt[] = { false, true, true };
	uint64_t v[3];
	bool found[3];
	const char *why = NULL;

	(void)state;
	/* present optional key: found; absent one: not found and 0 */
	memset(v, 0xee, sizeof(v));
	memset(found, 0xff, sizeof(found));
	assert_int_equal(meminfo(proc_meminfo, "", keys, 3, v, opt, found,
				 &why), 0);
	assert_int_equal(v[0], KB(6076988));
	assert_int_equal(v[1], MB(2));
	assert_int_equal(v[2], 0);
	assert_true(found[0]);
	assert_true(found[1]);
	assert_false(found[2]);

	memset(v, 0xee, sizeof(v));
	assert_int_equal(meminfo("MemTotal: 1 kB\n", "", keys, 3, v, opt,
				 found, &why), 0);
	assert_int_equal(v[0], 1024);
	assert_int_equal(v[1], 0);
	assert_false(found[1]);

	/* found may be NULL */
	assert_int_equal(meminfo("MemTotal: 2 kB\n", "", keys, 3, v, opt,
				 NULL, &why), 0);
	assert_int_equal(v[0], 2048);
	assert_null(why);
}

static void test_meminfo_limits(void **state)
{
	static const char *const keys[] = { "A", "B", "C" };
	uint64_t v[3];
	const char *why = NULL;

	(void)state;
	/* the largest kB value that fits once multiplied, a tab, a zero */
	assert_int_equal(meminfo("A: 18014398509481983 kB\n"
				 "B:\t18446744073709551615\n"
				 "C:0 kB\n",
				 "", keys, 3, v, NULL, NULL, &why), 0);
	assert_true(v[0] == 18014398509481983ULL * 1024);
	assert_true(v[1] == UINT64_MAX);
	assert_int_equal(v[2], 0);

	/* no keys asked for: any well-formed file is fine */
	assert_int_equal(meminfo("X: 1 kB\n", "", keys, 0, v, NULL, NULL,
				 &why), 0);
	assert_null(why);
}

static void test_meminfo_rejects(void **state)
{
	static const char *const keys[] = { "MemTotal", "MemFree" };
	static const struct {
		const char *text;
		const char *prefix;
	} bad[] = {
		{ "", "" },					/* empty */
		{ "MemTotal: 5 kB\nMemFree: 1 kB", "" },	/* truncated */
		{ "MemTotal: 5 kB\nMemFr", "" },
		{ "MemTotal: 5 kB\n", "" },			/* key missing */
		{ "MemTotal: 5 kB\nMemFree: 1 kB\nMemTotal: 5 kB\n", "" },
		{ "MemTotal: 18446744073709551616 kB\nMemFree: 1 kB\n", "" },
		{ "MemTotal: 18014398509481984 kB\nMemFree: 1 kB\n", "" },
		{ "MemTotal: 99999999999999999999\nMemFree: 1 kB\n", "" },
		{ "MemTotal: 5 MB\nMemFree: 1 kB\n", "" },	/* bad unit */
		{ "MemTotal: 5kB\nMemFree: 1 kB\n", "" },
		{ "MemTotal: 5 kB \nMemFree: 1 kB\n", "" },
		{ "MemTotal: 5 kb\nMemFree: 1 kB\n", "" },
		{ "MemTotal: 5  kB\nMemFree: 1 kB\n", "" },
		{ "MemTotal: kB\nMemFree: 1 kB\n", "" },	/* no number */
		{ "MemTotal:\nMemFree: 1 kB\n", "" },
		{ "MemTotal: -5 kB\nMemFree: 1 kB\n", "" },
		{ "MemTotal 5 kB\nMemFree: 1 kB\n", "" },	/* no colon */
		{ ": 5 kB\nMemTotal: 5 kB\nMemFree: 1 kB\n", "" },
		{ "MemTotal: 5 kB\n\nMemFree: 1 kB\n", "" },	/* empty line */
		{ "Node 0 MemTotal: 5 kB\nMemFree: 1 kB\n", "Node 0 " },
		{ "Node 0 MemTotal: 5 kB\nNode 1 MemFree: 1 kB\n",
		  "Node 0 " },
		{ "Node 0 MemTotal: 5 kB\nNode 0 MemFree: 1 kB\n", "Node 1 " },
		{ "MemTotal: 5 kB\nMemFree: 1 kB\n", "Node 0 " },
		{ "Node 0\n", "Node 0 " },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = NULL;
		uint64_t v[2];

		note(i, bad[i].text);
		assert_int_equal(meminfo(bad[i].text, bad[i].prefix, keys, 2, v,
					 NULL, NULL, &why), -EINVAL);
		assert_non_null(why);
	}
}

static void test_meminfo_too_many_keys(void **state)
{
	const char *keys[65];
	uint64_t v[65];
	const char *why = NULL;

	(void)state;
	for (int i = 0; i < 65; i++)
		keys[i] = "MemTotal";
	assert_int_equal(meminfo("MemTotal: 1 kB\n", "", keys, 65, v, NULL,
				 NULL, &why), -EINVAL);
	assert_non_null(why);
}

/* ---- parse_hugepages_dirname --------------------------------------------- */

static void test_dirname_valid(void **state)
{
	static const struct {
		const char *name;
		uint64_t size;
	} ok[] = {
		{ "hugepages-2048kB", MB(2) },
		{ "hugepages-1048576kB", GB(1) },
		{ "hugepages-64kB", 64 * 1024 },
		{ "hugepages-32768kB", MB(32) },
		{ "hugepages-16777216kB", GB(16) },
		{ "hugepages-1kB", 1024 },
		{ "hugepages-9007199254740992kB", 1ULL << 63 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		const char *why = NULL;
		char *name = strdup(ok[i].name);	/* exact heap size */
		uint64_t ps = 0;

		assert_non_null(name);
		assert_int_equal(parse_hugepages_dirname(name, &ps, &why), 0);
		assert_true(ps == ok[i].size);
		assert_null(why);
		free(name);
	}
}

static void test_dirname_rejects(void **state)
{
	static const char *const bad[] = {
		"",
		"hugepages-",
		"hugepages-kB",
		"hugepages-2048",		/* no unit */
		"hugepages-2048KB",
		"hugepages-2048kb",
		"hugepages-2048kB ",
		"hugepages-2048kBx",
		"hugepages-2048 kB",
		"hugepages--2048kB",
		"hugepages-+2048kB",
		"hugepage-2048kB",
		"Hugepages-2048kB",
		"xhugepages-2048kB",
		"hugepages-0kB",
		"hugepages-3072kB",		/* not a power of two */
		"hugepages-2047kB",
		"hugepages-18014398509481984kB",	/* 2^54 kB: overflows */
		"hugepages-18446744073709551616kB",	/* 2^64 */
		"nr_hugepages",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = NULL;
		char *name = strdup(bad[i]);
		uint64_t ps = 0;

		note(i, bad[i]);
		assert_non_null(name);
		assert_int_equal(parse_hugepages_dirname(name, &ps, &why),
				 -EINVAL);
		assert_non_null(why);
		free(name);
	}
	/* why may be NULL (topology ignores other directory entries) */
	assert_int_equal(parse_hugepages_dirname("README", &(uint64_t){ 0 },
						 NULL), -EINVAL);
}

/* ---- parse_size_suffix --------------------------------------------------- */

static int size(const char *text, uint64_t *v, const char **why)
{
	struct exact e = exact(text);
	int ret = parse_size_suffix(e.s, e.len, v, why);

	free(e.s);
	return ret;
}

static void test_size_valid(void **state)
{
	static const struct {
		const char *text;
		uint64_t v;
	} ok[] = {
		{ "2M", MB(2) },
		{ "1024M", GB(1) },
		{ "64K", 64 * 1024 },
		{ "64k", 64 * 1024 },
		{ "2m", MB(2) },
		{ "1G", GB(1) },
		{ "16g", GB(16) },
		{ "1T", 1ULL << 40 },
		{ "4096", 4096 },
		{ "0", 0 },
		{ "0M", 0 },
		{ "16777215T", (16777215ULL) << 40 },
		{ "17179869183G", 17179869183ULL << 30 },
		{ "18446744073709551615", UINT64_MAX },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		const char *why = NULL;
		uint64_t v = 1;

		note(i, ok[i].text);
		assert_int_equal(size(ok[i].text, &v, &why), 0);
		assert_true(v == ok[i].v);
		assert_null(why);
	}
}

static void test_size_rejects(void **state)
{
	static const char *const bad[] = {
		"",
		"M",
		"K2",
		"2X",
		"2B",
		"2 M",
		" 2M",
		"2M ",
		"2M\n",
		"2MM",
		"2MBx",
		"-2M",
		"2.5M",
		"0x2M",
		"16777216T",			/* 2^64 */
		"17179869184G",
		"18446744073709551616",		/* overflow without suffix */
		"18014398509481984K",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = NULL;
		uint64_t v = 0;

		note(i, bad[i]);
		assert_int_equal(size(bad[i], &v, &why), -EINVAL);
		assert_non_null(why);
	}
}

/* ---- parse_mounts -------------------------------------------------------- */

#define MAX_SEEN 8

struct seen {
	unsigned int n;
	char path[MAX_SEEN][128];
	char fstype[MAX_SEEN][32];
	uint64_t page_size[MAX_SEEN];
	int fail_at;		/* return -E2BIG on this call (1-based), 0 never */
};

static int record(void *ctx, const struct mount_entry *m)
{
	struct seen *s = ctx;

	assert_true(s->n < MAX_SEEN);
	assert_true(strlen(m->path) < sizeof(s->path[0]));
	strcpy(s->path[s->n], m->path);
	strcpy(s->fstype[s->n], m->fstype);
	s->page_size[s->n] = m->page_size;
	s->n++;
	return (int)s->n == s->fail_at ? -E2BIG : 0;
}

static int mounts(const char *text, struct seen *s, const char **why)
{
	struct exact e = exact(text);
	int ret;

	memset(s->path, 0, sizeof(s->path));
	s->n = 0;
	ret = parse_mounts(e.s, e.len, record, s, why);
	free(e.s);
	return ret;
}

static const char real_mounts[] =
	"rootfs / rootfs rw,size=1985244k,nr_inodes=496311,inode64 0 0\n"
	"proc /proc proc rw,relatime 0 0\n"
	"sys /sys sysfs rw,relatime 0 0\n"
	"dev /dev devtmpfs rw,relatime,size=1985244k,mode=755,inode64 0 0\n"
	"tmp /tmp tmpfs rw,relatime,inode64 0 0\n"
	"none /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0\n"
	"none /dev/hugepages1G hugetlbfs rw,relatime,pagesize=1024M 0 0\n";

static void test_mounts_real(void **state)
{
	struct seen s = { 0 };
	const char *why = NULL;

	(void)state;
	assert_int_equal(mounts(real_mounts, &s, &why), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.path[0], "/dev/hugepages");
	assert_string_equal(s.fstype[0], "hugetlbfs");
	assert_int_equal(s.page_size[0], MB(2));
	assert_string_equal(s.path[1], "/dev/hugepages1G");
	assert_string_equal(s.fstype[1], "hugetlbfs");
	assert_int_equal(s.page_size[1], GB(1));
	assert_null(why);
}

static void test_mounts_escapes(void **state)
{
	struct seen s = { 0 };
	const char *why = NULL;

	(void)state;
	assert_int_equal(mounts(
		"none /mnt/huge\\040pages hugetlbfs rw,pagesize=1G 0 0\n"
		"none /a\\011b\\012c\\134d hugetlbfs pagesize=64K,rw 0 0\n"
		"none /end\\040 hugetlbfs rw,pagesize=2M\n"	/* 4 fields */
		"none /x hugetlbfs rw,relatime 0 0\n",		/* no pagesize */
		&s, &why), 0);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.path[0], "/mnt/huge pages");
	assert_int_equal(s.page_size[0], GB(1));
	assert_string_equal(s.path[1], "/a\tb\nc\\d");
	assert_int_equal(s.page_size[1], 64 * 1024);
	assert_string_equal(s.path[2], "/end ");
	assert_int_equal(s.page_size[2], MB(2));
	assert_string_equal(s.path[3], "/x");
	assert_int_equal(s.page_size[3], 0);
	assert_null(why);
}

static void test_mounts_other_fs(void **state)
{
	struct seen s = { 0 };
	const char *why = NULL;

	(void)state;
	/* other file systems are not looked at beyond their type */
	assert_int_equal(mounts("tmp /t\\9 tmpfs rw,pagesize=3M 0 0\n"
				"x /hugetlbfs xhugetlbfs rw 0 0\n"
				"x /y hugetlbfsx rw 0 0\n", &s, &why), 0);
	assert_int_equal(s.n, 0);
}

static void test_mounts_callback_error(void **state)
{
	struct seen s = { .fail_at = 1 };
	const char *why = NULL;

	(void)state;
	/* the callback's error comes back as is and stops the walk */
	assert_int_equal(mounts(real_mounts, &s, &why), -E2BIG);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.path[0], "/dev/hugepages");
}

/*
 * The kernel always lists the root file system, so an empty /proc/mounts
 * is a damaged or truncated one, like every other empty file.
 * FAILS before the fix to parse_mounts (empty input is accepted as "no
 * mounts").
 */
static void test_mounts_empty(void **state)
{
	struct seen s = { 0 };
	const char *why = NULL;

	(void)state;
	assert_int_equal(mounts("", &s, &why), -EINVAL);
	assert_non_null(why);
	assert_int_equal(s.n, 0);
}

static void test_mounts_rejects(void **state)
{
	static const char *const bad[] = {
		/* truncated */
		"none /dev/hugepages hugetlbfs rw,pagesize=2M 0 0",
		"proc /proc proc rw 0 0\nnone /dev/hugepages hugetlbfs rw",
		/* fewer than 4 fields, on any file system */
		"none /dev/hugepages hugetlbfs\n",
		"proc /proc proc\n",
		"proc\n",
		"\n",
		"proc /proc proc rw 0 0\n\n",
		"   \n",
		/* bad escapes in a hugetlbfs path */
		"none /mnt/h\\04 hugetlbfs rw,pagesize=2M 0 0\n",
		"none /mnt/h\\0 hugetlbfs rw,pagesize=2M 0 0\n",
		"none /mnt/h\\ hugetlbfs rw,pagesize=2M 0 0\n",
		"none /mnt/h\\999 hugetlbfs rw,pagesize=2M 0 0\n",
		"none /mnt/h\\400 hugetlbfs rw,pagesize=2M 0 0\n",
		"none /mnt/h\\477 hugetlbfs rw,pagesize=2M 0 0\n", /* > 255 */
		"none /mnt/h\\08x hugetlbfs rw,pagesize=2M 0 0\n",
		"none /mnt/h\\x41 hugetlbfs rw,pagesize=2M 0 0\n",
		"none /mnt/h\\000x hugetlbfs rw,pagesize=2M 0 0\n", /* a NUL */
		/* page sizes */
		"none /mnt/h hugetlbfs rw,pagesize=3M 0 0\n",
		"none /mnt/h hugetlbfs rw,pagesize=0 0 0\n",
		"none /mnt/h hugetlbfs rw,pagesize=0M 0 0\n",
		"none /mnt/h hugetlbfs rw,pagesize=2X 0 0\n",
		"none /mnt/h hugetlbfs rw,pagesize=2M2 0 0\n",
		"none /mnt/h hugetlbfs rw,pagesize=1536K 0 0\n",
		"none /mnt/h hugetlbfs rw,pagesize=18446744073709551616 0 0\n",
		"none /mnt/h hugetlbfs rw,pagesize=16777216T 0 0\n",
		"none /mnt/h hugetlbfs rw,pagesize= 0 0\n",
		"none /mnt/h hugetlbfs rw,pagesize=,relatime 0 0\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct seen s = { 0 };
		const char *why = NULL;

		note(i, bad[i]);
		assert_int_equal(mounts(bad[i], &s, &why), -EINVAL);
		assert_non_null(why);
		assert_int_equal(s.n, 0);
	}
}

/* ---- seeded mutations of real kernel files ------------------------------- */

#define MUT_ITERATIONS 20000
#define MUT_SEED 0x9e3779b97f4a7c15ULL
#define MUT_MAX_LEN 8192

struct seed {
	char name[64];
	uint8_t sel;
	char *text;
	size_t len;
};

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64*: fixed seed, same inputs on every run and machine */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static size_t rnd(size_t n)
{
	return n ? (size_t)(rng() % n) : 0;
}

static int cmp_seed(const void *a, const void *b)
{
	return strcmp(((const struct seed *)a)->name,
		      ((const struct seed *)b)->name);
}

/* The seed files, sorted by name so the run does not depend on readdir order. */
static unsigned int load_corpus(struct seed *seeds, unsigned int max)
{
	const char *src = getenv("SRC");
	char dir[PATH_MAX];
	struct dirent *de;
	unsigned int n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus",
		 src && *src ? src : ".");
	d = opendir(dir);
	if (!d)
		fail_msg("cannot open the corpus %s (set SRC to the source "
			 "tree): %s", dir, strerror(errno));
	while ((de = readdir(d))) {
		char path[PATH_MAX];
		FILE *f;
		char buf[MUT_MAX_LEN + 2];
		size_t got;

		/*
		 * Seeds are named <selector>_<what>; anything else (such as
		 * what libFuzzer adds when it is run on this directory) is
		 * not ours to require to be valid.
		 */
		if (!de->d_name[0] || de->d_name[1] != '_')
			continue;
		assert_true(n < max);
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(path))
			fail_msg("corpus path too long: %s", de->d_name);
		f = fopen(path, "rb");
		assert_non_null(f);
		got = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		assert_true(got >= 1 && got <= MUT_MAX_LEN);
		if (snprintf(seeds[n].name, sizeof(seeds[n].name), "%s",
			     de->d_name) >= (int)sizeof(seeds[n].name))
			fail_msg("corpus file name too long: %s", de->d_name);
		seeds[n].sel = (uint8_t)buf[0];
		seeds[n].len = got - 1;
		seeds[n].text = malloc(got);
		assert_non_null(seeds[n].text);
		memcpy(seeds[n].text, buf + 1, got - 1);
		n++;
	}
	closedir(d);
	qsort(seeds, n, sizeof(*seeds), cmp_seed);
	return n;
}

static const char *const tokens[] = {
	"\n", "-", ",", ":", " ", "\\", "\\040", "\\0", "kB", " kB", "0",
	"18446744073709551616", "18014398509481984", "Node 0 ", "hugetlbfs",
	"pagesize=", "M", "K", "G", "T", "MemTotal:", "\t", "",
};

/* One random edit of buf[0..*len), capacity MUT_MAX_LEN. */
static void mutate(char *buf, size_t *len)
{
	size_t n = *len, at = rnd(n + 1);

	switch (rnd(7)) {
	case 0:		/* overwrite a byte */
		if (n)
			buf[rnd(n)] = (char)rng();
		break;
	case 1:		/* flip a bit */
		if (n)
			buf[rnd(n)] ^= (char)(1u << rnd(8));
		break;
	case 2:		/* truncate */
		*len = rnd(n + 1);
		break;
	case 3:		/* insert a random byte */
		if (n < MUT_MAX_LEN) {
			memmove(buf + at + 1, buf + at, n - at);
			buf[at] = (char)rng();
			*len = n + 1;
		}
		break;
	case 4: {	/* insert a token the parsers care about */
		const char *t = tokens[rnd(sizeof(tokens) / sizeof(*tokens))];
		size_t tl = strlen(t);

		if (n + tl <= MUT_MAX_LEN) {
			memmove(buf + at + tl, buf + at, n - at);
			memcpy(buf + at, t, tl);
			*len = n + tl;
		}
		break;
	}
	case 5: {	/* delete a run */
		size_t k = rnd(n - at + 1);

		memmove(buf + at, buf + at + k, n - at - k);
		*len = n - k;
		break;
	}
	case 6: {	/* duplicate a run (a key twice, a line twice) */
		size_t k = rnd(n - at + 1);

		if (n + k <= MUT_MAX_LEN) {
			memmove(buf + at + k, buf + at, n - at);
			*len = n + k;
		}
		break;
	}
	}
}

static void test_mutations(void **state)
{
	struct seed seeds[64];
	unsigned int nseeds, accepted = 0, rejected = 0;
	static char buf[MUT_MAX_LEN];

	(void)state;
	nseeds = load_corpus(seeds, 64);
	assert_true(nseeds >= 7);
	/* the corpus is what the kernel writes: every file is accepted */
	for (unsigned int i = 0; i < nseeds; i++) {
		print_message("seed %s\n", seeds[i].name);
		assert_int_equal(pd_run(seeds[i].sel, seeds[i].text,
					seeds[i].len), 0);
	}

	rng_state = MUT_SEED;
	for (unsigned int it = 0; it < MUT_ITERATIONS; it++) {
		const struct seed *sd = &seeds[rnd(nseeds)];
		size_t len = sd->len;
		unsigned int edits = 1 + (unsigned int)rnd(4);
		/* one time in eight, another parser reads the same text */
		uint8_t sel = rnd(8) ? sd->sel : (uint8_t)rng();

		memcpy(buf, sd->text, len);
		for (unsigned int e = 0; e < edits; e++)
			mutate(buf, &len);
		if (pd_run(sel, buf, len))
			rejected++;
		else
			accepted++;
	}
	/* the loop really exercised both outcomes */
	print_message("%u accepted, %u rejected\n", accepted, rejected);
	assert_true(accepted > MUT_ITERATIONS / 20);
	assert_true(rejected > MUT_ITERATIONS / 4);
	for (unsigned int i = 0; i < nseeds; i++)
		free(seeds[i].text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64_valid),
		cmocka_unit_test(test_u64_rejects),
		cmocka_unit_test(test_list_valid),
		cmocka_unit_test(test_list_large),
		cmocka_unit_test(test_list_rejects),
		cmocka_unit_test(test_meminfo_host),
		cmocka_unit_test(test_meminfo_node),
		cmocka_unit_test(test_meminfo_optional),
		cmocka_unit_test(test_meminfo_limits),
		cmocka_unit_test(test_meminfo_rejects),
		cmocka_unit_test(test_meminfo_too_many_keys),
		cmocka_unit_test(test_dirname_valid),
		cmocka_unit_test(test_dirname_rejects),
		cmocka_unit_test(test_size_valid),
		cmocka_unit_test(test_size_rejects),
		cmocka_unit_test(test_mounts_real),
		cmocka_unit_test(test_mounts_escapes),
		cmocka_unit_test(test_mounts_other_fs),
		cmocka_unit_test(test_mounts_callback_error),
		cmocka_unit_test(test_mounts_empty),
		cmocka_unit_test(test_mounts_rejects),
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
