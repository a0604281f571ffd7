// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_cli_parse.c: poolctl's input parsers: exact accept/reject tables, their one-line errors, seeded mutations. */
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

#define CD_CHECK(cond) assert_true(cond)
#include "cli_drive.h"

#define KB(x) ((uint64_t)(x) << 10)
#define MB(x) ((uint64_t)(x) << 20)
#define GB(x) ((uint64_t)(x) << 30)
#define TB(x) ((uint64_t)(x) << 40)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- sizes --------------------------------------------------------------- */

static const struct { const char *s; uint64_t v; } size_ok[] = {
	{ "0", 0 }, { "1", 1 }, { "4096", 4096 }, { "1B", 1 }, { "7b", 7 },
	{ "2M", MB(2) }, { "2m", MB(2) }, { "1.5G", GB(1) + MB(512) },
	{ "0.5K", 512 }, { "1.0G", GB(1) }, { "007K", KB(7) },
	{ "1T", TB(1) }, { "1.5t", TB(1) + GB(512) },
	{ "18446744073709551615", UINT64_MAX },
	{ "18446744073709551615B", UINT64_MAX },
	{ "16777215T", UINT64_MAX - TB(1) + 1 },
	{ "16777215.5T", UINT64_MAX - TB(1) + 1 + GB(512) },
};

static const struct { const char *s; int err; } size_bad[] = {
	{ "", -EINVAL }, { "-1", -EINVAL }, { "+1", -EINVAL },
	{ " 1", -EINVAL }, { "1 ", -EINVAL }, { "1.5", -EINVAL },
	{ "1.", -EINVAL }, { ".5G", -EINVAL }, { "1.55G", -EINVAL },
	{ "12Q", -EINVAL }, { "1KB", -EINVAL }, { "1K ", -EINVAL },
	{ "0x10", -EINVAL }, { "1,5G", -EINVAL }, { "1.1K", -EINVAL },
	{ "1e3", -EINVAL }, { "G", -EINVAL }, { "1P", -EINVAL },
	{ "18446744073709551615.5", -EINVAL },
	{ "99999999999999999999G", -ERANGE },
	{ "18446744073709551616", -ERANGE }, { "16777216T", -ERANGE },
	{ "18446744073709551615K", -ERANGE },
	{ "99999999999999999999Q", -ERANGE },	/* digits read first */
	{ "16777215.9T", -EINVAL },	/* not whole, checked first */
};

static void test_size_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(size_ok); i++) {
		const char *why = NULL;
		uint64_t v = 0;

		print_message("%s\n", size_ok[i].s);
		assert_int_equal(size_parse(size_ok[i].s, &v, &why), 0);
		assert_true(v == size_ok[i].v);
		assert_int_equal(cd_run(CD_SIZE, 0, size_ok[i].s,
					strlen(size_ok[i].s)), 0);
	}
	for (size_t i = 0; i < ARRAY_SIZE(size_bad); i++) {
		const char *why = NULL;
		uint64_t v = 42;

		print_message("%s\n", size_bad[i].s);
		assert_int_equal(size_parse(size_bad[i].s, &v, &why),
				 size_bad[i].err);
		assert_true(v == 42);
		assert_non_null(why);
		assert_int_equal(cd_run(CD_SIZE, 0, size_bad[i].s,
					strlen(size_bad[i].s)), -1);
	}
}

/* Runs fn with stderr captured; the captured text must be want. */
#define EXPECT_ERR(call, want_ret, want_err)				\
	do {								\
		int ret_;						\
		cd_capture();						\
		ret_ = (call);						\
		cd_release();						\
		assert_int_equal(ret_, (want_ret));			\
		assert_string_equal(cd_err, (want_err));		\
	} while (0)

static void test_opt_size_messages(void **state)
{
	uint64_t v = 42;

	(void)state;
	EXPECT_ERR(opt_size("--size", "12Q", false, &v), EXIT_USAGE,
		   "poolctl: --size '12Q': unknown unit (use K, M, G or T)\n");
	EXPECT_ERR(opt_size("--size", "0", false, &v), EXIT_USAGE,
		   "poolctl: --size '0': must be greater than 0\n");
	EXPECT_ERR(opt_size("--size", "99999999999999999999G", false, &v),
		   EXIT_USAGE, "poolctl: --size '99999999999999999999G': "
		   "too large (more than 16 EiB)\n");
	EXPECT_ERR(opt_size("--size", "1.5", false, &v), EXIT_USAGE,
		   "poolctl: --size '1.5': not a whole number of bytes\n");
	EXPECT_ERR(opt_size("--size", "-1", false, &v), EXIT_USAGE,
		   "poolctl: --size '-1': not a size (digits, then K, M, G "
		   "or T)\n");
	assert_true(v == 42);
	EXPECT_ERR(opt_size("--extra", "0", true, &v), 0, "");
	assert_true(v == 0);
	EXPECT_ERR(opt_size("--size", "1.5G", false, &v), 0, "");
	assert_true(v == GB(1) + MB(512));
}

static void test_size_str(void **state)
{
	static const struct { uint64_t v; const char *s; } t[] = {
		{ 0, "0B" }, { 1023, "1023B" }, { 1024, "1K" },
		{ 4505, "4.4K" }, { MB(2), "2M" }, { MB(1536), "1.5G" },
		{ GB(1024) - MB(40), "1T" }, { TB(1024), "1P" },
		{ UINT64_MAX, "16E" },
	};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		assert_string_equal(size_str(buf, sizeof(buf), t[i].v, false),
				    t[i].s);
		assert_int_equal(cd_run(CD_SIZE_STR, 0, (const char *)&t[i].v,
					sizeof(t[i].v)), 0);
	}
	assert_string_equal(size_str(buf, sizeof(buf), UINT64_MAX, true),
			    "18446744073709551615");
}

/* ---- numbers, names -------------------------------------------------------- */

static void test_opt_uint(void **state)
{
	static const struct {
		const char *s;
		unsigned long min, max, v;
		bool ok;
	} t[] = {
		{ "16", 1, 256, 16, true }, { "256", 1, 256, 256, true },
		{ "0", 1, 256, 0, false }, { "257", 1, 256, 0, false },
		{ "0004095", 0, 4095, 4095, true },
		{ "4096", 0, 4095, 0, false }, { "", 0, 4095, 0, false },
		{ "-1", 0, 4095, 0, false }, { "1x", 0, 4095, 0, false },
		{ " 1", 0, 4095, 0, false }, { "+1", 0, 4095, 0, false },
		{ "4294967294", 0, UINT_MAX - 1, UINT_MAX - 1, true },
		{ "4294967295", 0, UINT_MAX - 1, 0, false },
		{ "99999999999999999999999", 0, UINT_MAX - 1, 0, false },
		{ "18446744073709551615", 0, ULONG_MAX, ULONG_MAX, true },
		/* wrapped to 0 before the fix */
		{ "18446744073709551616", 0, ULONG_MAX, 0, false },
		{ "0", 0, 0, 0, true }, { "5", 0, 0, 0, false },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		unsigned long v = 12345;
		char want[160], q[96];

		print_message("%s in [%lu, %lu]\n", t[i].s, t[i].min,
			      t[i].max);
		if (t[i].ok) {
			EXPECT_ERR(opt_uint("--n", t[i].s, t[i].min, t[i].max,
					    &v), 0, "");
			assert_true(v == t[i].v);
			continue;
		}
		snprintf(want, sizeof(want), "poolctl: --n '%s': want a number "
			 "from %lu to %lu\n", quoted(t[i].s, q, sizeof(q)),
			 t[i].min, t[i].max);
		EXPECT_ERR(opt_uint("--n", t[i].s, t[i].min, t[i].max, &v),
			   EXIT_USAGE, want);
		assert_true(v == 12345);
	}
}

static void test_check_name(void **state)
{
	static const char *const ok[] = {
		"a", "A", "0", "vm1", "a.b_c-d", "9-._",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};
	static const char *const bad[] = {
		"", "../x", "a/b", ".a", "-a", "_a", "a b", "a\xc3\xa9", "\xff",
		"a:b", "a\\b", "a\n",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};

	(void)state;
	assert_int_equal(strlen(ok[6]), 64);
	assert_int_equal(strlen(bad[12]), 65);
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
		assert_int_equal(cd_run(CD_NAME, 0, ok[i], strlen(ok[i])), 0);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(cd_run(CD_NAME, 0, bad[i], strlen(bad[i])),
				 -1);
	EXPECT_ERR(check_name("../x"), EXIT_USAGE, "poolctl: reservation "
		   "name '../x': must start with a letter or digit\n");
	EXPECT_ERR(check_name("a\xff/"), EXIT_USAGE, "poolctl: reservation "
		   "name 'a\\xff/': only letters, digits, '.', '_' and '-'\n");
	EXPECT_ERR(check_name(""), EXIT_USAGE,
		   "poolctl: reservation name '': empty\n");
	EXPECT_ERR(check_name(bad[12]), EXIT_USAGE, "poolctl: reservation "
		   "name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		   "aaaaaaaaaa': 65 characters, at most 64\n");
}

/* ---- node lists, owners, page sizes ------------------------------------ */

static void test_nodes_accept(void **state)
{
	struct rampool_res_node n[CD_MAX_NODES];
	unsigned int nr = 0;

	(void)state;
	EXPECT_ERR(parse_nodes("--nodes", "0:4G,1:4G", true, n, CD_MAX_NODES,
			       &nr), 0, "");
	assert_int_equal(nr, 2);
	assert_int_equal(n[0].node, 0);
	assert_true(n[0].size == GB(4));
	assert_int_equal(n[1].node, 1);
	assert_true(n[1].size == GB(4));
	EXPECT_ERR(parse_nodes("--nodes", "0001:1.5G,4095:2M", true, n, 2,
			       &nr), 0, "");
	assert_int_equal(nr, 2);
	assert_int_equal(n[0].node, 1);
	assert_true(n[0].size == GB(1) + MB(512));
	assert_int_equal(n[1].node, 4095);
	assert_true(n[1].size == MB(2));
	EXPECT_ERR(parse_nodes("--interleave", "3,0,1", false, n, CD_MAX_NODES,
			       &nr), 0, "");
	assert_int_equal(nr, 3);
	assert_int_equal(n[0].node, 3);
	assert_int_equal(n[1].node, 0);
	assert_int_equal(n[2].node, 1);
	assert_true(n[0].size == 0 && n[2].size == 0);
}

static void test_nodes_reject(void **state)
{
	static const char *const with_sizes[] = {
		"", ",", "0:4G,", ",0:4G", "0", "0:0", "0:4G,0:2M", "4096:2M",
		"x:1G", "-1:2M", "0:4G:1", "0:", ":2M", "0:12Q", "0 :2M",
		"0:2M,1:2M,2:2M",	/* max 2 */
		"0:00000000000000000000000000000000000000000000000000000000000000002M",	/* 64 */
	};
	static const char *const no_sizes[] = {
		"", "0:4G", "0,,1", "0,0", "1,", "4096", "0x1", "1 ", "1,2,3",
	};
	struct rampool_res_node n[CD_MAX_NODES];
	unsigned int nr = 99;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(with_sizes); i++) {
		print_message("--nodes %s\n", with_sizes[i]);
		assert_int_equal(cd_run(CD_NODES, 1, with_sizes[i],
					strlen(with_sizes[i])), -1);
	}
	for (size_t i = 0; i < ARRAY_SIZE(no_sizes); i++) {
		print_message("--interleave %s\n", no_sizes[i]);
		assert_int_equal(cd_run(CD_INTERLEAVE, 1, no_sizes[i],
					strlen(no_sizes[i])), -1);
	}
	EXPECT_ERR(parse_nodes("--nodes", "0:1G,x:1G", true, n, 8, &nr),
		   EXIT_USAGE, "poolctl: --nodes '0:1G,x:1G': node 'x' is not "
		   "a number from 0 to 4095\n");
	/* the node is quoted too: one printable line */
	EXPECT_ERR(parse_nodes("--interleave", "a\n,1", false, n, 8, &nr),
		   EXIT_USAGE, "poolctl: --interleave 'a\\x0a,1': node "
		   "'a\\x0a' is not a number from 0 to 4095\n");
	EXPECT_ERR(parse_nodes("--nodes", "0:4G,0:2M", true, n, 8, &nr),
		   EXIT_USAGE, "poolctl: --nodes '0:4G,0:2M': node 0 given "
		   "twice\n");
	EXPECT_ERR(parse_nodes("--nodes", "1:0", true, n, 8, &nr), EXIT_USAGE,
		   "poolctl: --nodes '1:0': node 1's size: must be greater "
		   "than 0\n");
	EXPECT_ERR(parse_nodes("--nodes", "0", true, n, 8, &nr), EXIT_USAGE,
		   "poolctl: --nodes '0': want NODE:SIZE,..., e.g. "
		   "0:4G,1:4G\n");
	assert_int_equal(nr, 99);
}

static void test_owner_page(void **state)
{
	static const char *const owner_bad[] = {
		"4294967295", "1abc", "", "-1", "no-such-user-rampool-xyz",
	};
	static const char *const page_bad[] = {
		"0", "2K", "3M", "1.5G", "4097", "-4K", "4KB",
	};
	long long o = -5;
	uint64_t v = 0;

	(void)state;
	EXPECT_ERR(parse_owner("0", &o), 0, "");
	assert_true(o == 0);
	EXPECT_ERR(parse_owner("root", &o), 0, "");
	assert_true(o == 0);
	EXPECT_ERR(parse_owner("4294967294", &o), 0, "");
	assert_true(o == 4294967294LL);
	for (size_t i = 0; i < ARRAY_SIZE(owner_bad); i++)
		assert_int_equal(cd_run(CD_OWNER, 0, owner_bad[i],
					strlen(owner_bad[i])), -1);
	EXPECT_ERR(parse_owner("no-such-user-rampool-xyz", &o), EXIT_USAGE,
		   "poolctl: --owner 'no-such-user-rampool-xyz': no such "
		   "user\n");
	EXPECT_ERR(parse_page_size("4k", &v), 0, "");
	assert_true(v == 4096);
	EXPECT_ERR(parse_page_size("1G", &v), 0, "");
	assert_true(v == GB(1));
	for (size_t i = 0; i < ARRAY_SIZE(page_bad); i++)
		assert_int_equal(cd_run(CD_PAGE, 0, page_bad[i],
					strlen(page_bad[i])), -1);
	EXPECT_ERR(parse_page_size("3M", &v), EXIT_USAGE, "poolctl: "
		   "--page-size '3M': not a page size (4K, 2M, 1G, ...)\n");
	assert_true(v == GB(1));
	{
		static const char *const backing_bad[] = {
			"", "Hugetlb", "hugetlb ", "shm", "shmemx", "\xff",
		};
		enum rampool_res_backing b = RAMPOOL_RES_SHMEM;

		EXPECT_ERR(parse_backing("hugetlb", &b), 0, "");
		assert_int_equal(b, RAMPOOL_RES_HUGETLB);
		for (size_t i = 0; i < ARRAY_SIZE(backing_bad); i++)
			assert_int_equal(cd_run(CD_BACKING, 0, backing_bad[i],
						strlen(backing_bad[i])), -1);
		EXPECT_ERR(parse_backing("tmpfs", &b), EXIT_USAGE, "poolctl: "
			   "--backing 'tmpfs': want hugetlb or shmem\n");
		assert_int_equal(b, RAMPOOL_RES_HUGETLB);
	}
}

static void test_quoted(void **state)
{
	char buf[96];

	(void)state;
	assert_string_equal(quoted("abc", buf, sizeof(buf)), "abc");
	assert_string_equal(quoted("a\x01\xff", buf, sizeof(buf)),
			    "a\\x01\\xff");
	/* a backslash is escaped: the printed form names one value */
	assert_string_equal(quoted("a\\x41", buf, sizeof(buf)), "a\\x5cx41");
	assert_string_equal(quoted("abcdefghij", buf, 8), "abc...");
	assert_string_equal(quoted("abc", buf, 1), "");
	for (unsigned int len = 0; len < 130; len++)
		cd_run(CD_QUOTED, (uint8_t)len, "ab\\\x01\xfe...xyz",
		       strlen("ab\\\x01\xfe...xyz"));
}

/* Every error is one line (two with usage's hint), control bytes escaped. */
static void test_error_lines(void **state)
{
	(void)state;
	EXPECT_ERR(input_error("--backing '%s': want hugetlb or shmem",
			       "a\tb\x7f"), EXIT_USAGE,
		   "poolctl: --backing 'a\\x09b\\x7f': want hugetlb or "
		   "shmem\n");
	EXPECT_ERR(usage_error("status: unexpected argument '%s'", "x\ny"),
		   EXIT_USAGE, "poolctl: status: unexpected argument "
		   "'x\\x0ay'\nTry 'poolctl --help' for more information.\n");
	/* printable bytes, UTF-8 included, are left as they are */
	EXPECT_ERR(input_error("%s", "caf\xc3\xa9 \\"), EXIT_USAGE,
		   "poolctl: caf\xc3\xa9 \\\n");
}

/* ---- seeded mutations -------------------------------------------------- */

#define MUT_ITERATIONS 20000
#define MUT_SEED 0x9e3779b97f4a7c15ULL
#define MUT_MAX_LEN 256

static const struct { char sel; uint8_t param; const char *text; } seeds[] = {
	{ CD_SIZE, 0, "1.5G" }, { CD_SIZE, 0, "18446744073709551615" },
	{ CD_OPT_SIZE, 0, "2M" }, { CD_OPT_SIZE, 1, "0" },
	{ CD_UINT, 0, "4095" }, { CD_UINT, 3, "18446744073709551615" },
	{ CD_UINT, 1, "16" }, { CD_NAME, 0, "vm-1.test_2" },
	{ CD_NODES, 0x80, "0:4G,1:4G" }, { CD_NODES, 3, "0:2M,1:1.5G,7:1T" },
	{ CD_INTERLEAVE, 0x80, "0,1,3" }, { CD_OWNER, 0, "root" },
	{ CD_OWNER, 0, "1000" }, { CD_PAGE, 0, "2M" },
	{ CD_QUOTED, 20, "a\\b\x01" }, { CD_SIZE_STR, 0, "12345678" },
	{ CD_BACKING, 0, "hugetlb" }, { CD_BACKING, 0, "shmem" },
};

static const char *const tokens[] = {
	",", ":", ".", "\\", "K", "M", "G", "T", "B", "0", "9", "4095",
	"4096", "18446744073709551615", "18446744073709551616", "-", "_",
	"\xff", "\n", "",
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

/* One random edit of buf[0..*len), capacity MUT_MAX_LEN. */
static void mutate(char *buf, size_t *len)
{
	size_t n = *len, at = rnd(n + 1), k;
	const char *t;

	switch (rnd(6)) {
	case 0:		/* overwrite a byte */
		if (n)
			buf[rnd(n)] = (char)rng();
		break;
	case 1:		/* a digit for a digit: stays well-formed */
		if (n)
			buf[rnd(n)] = (char)('0' + rnd(10));
		break;
	case 2:		/* truncate */
		*len = rnd(n + 1);
		break;
	case 3:		/* insert a token the parsers care about */
		t = tokens[rnd(ARRAY_SIZE(tokens))];
		k = strlen(t);
		if (n + k <= MUT_MAX_LEN) {
			memmove(buf + at + k, buf + at, n - at);
			memcpy(buf + at, t, k);
			*len = n + k;
		}
		break;
	case 4:		/* delete a run */
		k = rnd(n - at + 1);
		memmove(buf + at, buf + at + k, n - at - k);
		*len = n - k;
		break;
	case 5:		/* duplicate a run (a node twice) */
		k = rnd(n - at + 1);
		if (n + k <= MUT_MAX_LEN) {
			memmove(buf + at + k, buf + at, n - at);
			*len = n + k;
		}
		break;
	}
}

static void test_mutations(void **state)
{
	unsigned int accepted = 0, rejected = 0;
	char buf[MUT_MAX_LEN];

	(void)state;
	/* every seed is valid */
	for (size_t i = 0; i < ARRAY_SIZE(seeds); i++)
		assert_int_equal(cd_run((uint8_t)seeds[i].sel, seeds[i].param,
					seeds[i].text, strlen(seeds[i].text)),
				 0);
	rng_state = MUT_SEED;
	for (unsigned int it = 0; it < MUT_ITERATIONS; it++) {
		size_t s = rnd(ARRAY_SIZE(seeds)), len = strlen(seeds[s].text);
		unsigned int edits = 1 + (unsigned int)rnd(3);
		/* one time in eight, another parser reads the same text */
		uint8_t sel = rnd(8) ? (uint8_t)seeds[s].sel : (uint8_t)rng();
		uint8_t param = rnd(4) ? seeds[s].param : (uint8_t)rng();

		memcpy(buf, seeds[s].text, len);
		for (unsigned int e = 0; e < edits; e++)
			mutate(buf, &len);
		if (cd_run(sel, param, buf, len))
			rejected++;
		else
			accepted++;
	}
	/* the loop really exercised both outcomes */
	print_message("%u accepted, %u rejected\n", accepted, rejected);
	assert_true(accepted > MUT_ITERATIONS / 5);
	assert_true(rejected > MUT_ITERATIONS / 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size_table),
		cmocka_unit_test(test_opt_size_messages),
		cmocka_unit_test(test_size_str),
		cmocka_unit_test(test_opt_uint),
		cmocka_unit_test(test_check_name),
		cmocka_unit_test(test_nodes_accept),
		cmocka_unit_test(test_nodes_reject),
		cmocka_unit_test(test_owner_page),
		cmocka_unit_test(test_quoted),
		cmocka_unit_test(test_error_lines),
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
