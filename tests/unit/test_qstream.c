// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_qstream.c: the migration stream reader on hand-built streams (seed 001's virtio-mem section, postcopy advise, commands, truncation at every byte) and on the fuzz corpus. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#define QD_CHECK(cond) assert_true(cond)
#include "qstream_drive.h"
#include "qstream_build.h"

/* Optionally writes a hand-built stream to $QD_DUMP_DIR (the corpus). */
static void dump(const char *name, const struct sb *s)
{
	const char *dir = getenv("QD_DUMP_DIR");
	char path[PATH_MAX];
	FILE *f;

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(s->b, 1, s->n, f), s->n);
	fclose(f);
}

static int parse(const struct sb *s, struct qs_stream *q)
{
	return qd_parse(s->b, s->n, q);
}

/* ---- accepted streams -------------------------------------------------- */

static void test_full(void **state)
{
	struct sb s;
	struct qs_stream q;

	(void)state;
	full_stream(&s);
	dump("hand_full", &s);
	assert_int_equal(qd_run(s.b, s.n), 0);
	assert_int_equal(parse(&s, &q), 0);
	assert_string_equal(q.machine, "pc-q35-8.0");
	assert_true(q.ignore_shared);
	assert_int_equal(q.advise_len, 16);
	assert_int_equal(q.nr_blocks, 4);
	assert_string_equal(q.blocks[0].id, "pc.ram");
	assert_int_equal(q.blocks[0].used_length, MB(64));
	assert_int_equal(q.blocks[0].page_size, 0);
	assert_string_equal(q.blocks[1].id, "0000:00:03.0/mem0");
	assert_int_equal(q.blocks[1].used_length, GB(30));
	assert_int_equal(q.blocks[1].page_size, MB(2));
	assert_int_equal(q.blocks[2].page_size, 0);
	assert_string_equal(q.blocks[3].id, "mem1");
	assert_int_equal(q.blocks[3].page_size, MB(2));
	assert_int_equal(q.nr_vmem, 1);
	assert_string_equal(q.vmem[0].qdev, "0000:00:03.0/");
	assert_int_equal(q.vmem[0].addr, 0x140000000ull);
	assert_int_equal(q.vmem[0].region_size, GB(30));
	assert_int_equal(q.vmem[0].block_size, MB(2));
	assert_int_equal(q.vmem[0].node, 0);
	assert_int_equal(q.vmem[0].plugged, GB(1));
	assert_int_equal(q.stop, QS_STOP_PART);
	assert_int_equal(q.end, s.n);
	qs_free(&q);
}

/* Without postcopy-ram (advise of 0 bytes: dirty-bitmaps) no page sizes. */
static void test_advise0(void **state)
{
	struct sb s;
	struct qs_stream q;

	(void)state;
	header(&s, 3);
	config(&s, "pc-i440fx-7.2", NULL);
	command(&s, 3, 0, NULL);
	ram_start(&s, MB(2) + MB(4));
	ram_block(&s, "pc.ram", MB(2), 0);
	/* a 2M-looking length right after a block is the next block */
	ram_block(&s, "b", MB(4), 0);
	ram_end(&s);
	put(&s, 0x00, 1);	/* EOF */
	dump("hand_advise0", &s);
	assert_int_equal(qd_run(s.b, s.n), 0);
	assert_int_equal(parse(&s, &q), 0);
	assert_int_equal(q.advise_len, 0);
	assert_int_equal(q.nr_blocks, 2);
	assert_int_equal(q.blocks[1].used_length, MB(4));
	assert_int_equal(q.blocks[0].page_size, 0);
	assert_int_equal(q.stop, QS_STOP_EOF);
	qs_free(&q);

	/* an advise that is neither 0 nor 16 bytes: at its command */
	header(&s, 3);
	config(&s, "pc", NULL);
	command(&s, 3, 8, NULL);
	assert_int_equal(parse(&s, &q), -EINVAL);
	assert_int_equal(q.err_off, 8 + 1 + 4 + 2 + 1);
	qs_free(&q);
}

/* The last block's page size sits before the flags; 1G and 2M. */
static void test_advise16_last(void **state)
{
	struct sb s;
	struct qs_stream q;

	(void)state;
	header(&s, 3);
	config(&s, "pc", NULL);
	advise16(&s, 0x40201000);
	ram_start(&s, GB(1) + MB(2));
	ram_block(&s, "m2", MB(2), MB(2));
	ram_block(&s, "m1g", GB(1), GB(1));
	ram_end(&s);
	section(&s, 0x04, 9, "0000:00:01.0/e1000", 1);
	dump("hand_advise16_last", &s);
	assert_int_equal(qd_run(s.b, s.n), 0);
	assert_int_equal(parse(&s, &q), 0);
	assert_int_equal(q.blocks[0].page_size, MB(2));
	assert_int_equal(q.blocks[1].page_size, GB(1));
	assert_int_equal(q.stop, QS_STOP_SECTION);
	assert_string_equal(q.stop_id, "0000:00:01.0/e1000");
	assert_false(q.stop_start);
	qs_free(&q);
}

static void test_commands(void **state)
{
	uint8_t ping[4] = { 0, 0, 0, 7 };
	struct sb s;
	struct qs_stream q;
	size_t at;

	(void)state;
	header(&s, 3);
	config(&s, "pc", NULL);
	command(&s, 0x4242, 300, NULL);	/* unknown: skipped by length */
	command(&s, 2, 4, ping);
	command(&s, 11, 0, NULL);	/* SWITCHOVER_START */
	ram_start(&s, 0);
	ram_end(&s);
	command(&s, 6, 9, NULL);	/* RAM_DISCARD, skipped */
	command(&s, 7, 4, ping);	/* PACKAGED: a nested stream */
	dump("hand_commands", &s);
	assert_int_equal(qd_run(s.b, s.n), 0);
	assert_int_equal(parse(&s, &q), 0);
	assert_int_equal(q.stop, QS_STOP_PACKAGED);
	assert_true(q.has_ram);
	assert_int_equal(q.nr_blocks, 0);	/* a 0-block RAM section */
	qs_free(&q);

	/* QEMU takes one postcopy advise (found by fuzz_qstream: a second
	 * one after the RAM section contradicted its page sizes) */
	header(&s, 3);
	command(&s, 3, 0, NULL);
	at = s.n;
	command(&s, 3, 0, NULL);
	assert_int_equal(parse(&s, &q), -EINVAL);
	assert_int_equal(q.err_off, at + 1);
	assert_non_null(strstr(q.err, "a second postcopy advise"));
	qs_free(&q);

	/* a PING of 3 bytes */
	header(&s, 3);
	at = s.n;
	command(&s, 2, 3, ping);
	assert_int_equal(parse(&s, &q), -EINVAL);
	assert_int_equal(q.err_off, at + 1);
	assert_non_null(strstr(q.err, "command 2 of length 3"));
	qs_free(&q);
}

/* Machine types <= 2.3: no configuration, no footers. */
static void test_no_config(void **state)
{
	struct sb s;
	struct qs_stream q;

	(void)state;
	header(&s, 3);
	ram_start(&s, MB(128));
	ram_block(&s, "pc.ram", MB(128), 0);
	put(&s, 0x10, 8);
	section(&s, 0x01, 3, "block", 1);
	dump("hand_no_config", &s);
	assert_int_equal(qd_run(s.b, s.n), 0);
	assert_int_equal(parse(&s, &q), 0);
	assert_false(q.has_config);
	assert_int_equal(q.nr_blocks, 1);
	assert_int_equal(q.stop, QS_STOP_SECTION);
	assert_string_equal(q.stop_id, "block");
	assert_true(q.stop_start);
	qs_free(&q);
}

/* ---- rejected streams -------------------------------------------------- */

static void expect_err(const struct sb *s, int err, uint64_t off,
		       const char *why)
{
	struct qs_stream q;

	assert_int_equal(parse(s, &q), err);
	print_message("%llu: %s\n", (unsigned long long)q.err_off, q.err);
	assert_int_equal(q.err_off, off);
	assert_non_null(strstr(q.err, why));
	qs_free(&q);
}

static void test_header(void **state)
{
	struct sb s;

	(void)state;
	header(&s, 2);
	put(&s, 0, 1);
	dump("hand_version2", &s);
	expect_err(&s, -EPROTO, 4, "version 2");
	header(&s, 4);
	expect_err(&s, -EINVAL, 4, "version 4");
	header(&s, 3);
	s.b[0] = 'X';
	expect_err(&s, -EINVAL, 0, "not a QEMU migration stream");
}

static void test_corrupt(void **state)
{
	struct sb s;
	size_t at;

	(void)state;
	/* a plugged size the bitmap does not have: at the size */
	header(&s, 3);
	config(&s, "pc", NULL);
	at = s.n + 1 + 4 + 1 + 36 + 4 + 4 + 28;
	seed001(&s, 4, GB(1) + MB(2), 8);
	expect_err(&s, -EINVAL, at, "bitmap has 512 blocks of 2097152");

	/* a block longer than what the total leaves: at its length */
	header(&s, 3);
	config(&s, "pc", NULL);
	ram_start(&s, MB(2));
	at = s.n + 1 + 6;
	ram_block(&s, "pc.ram", MB(4), 0);
	expect_err(&s, -EINVAL, at, "'pc.ram' of 4194304 bytes");

	/* a footer of another section */
	header(&s, 3);
	config(&s, "pc", NULL);
	ram_start(&s, 0);
	put(&s, 0x10, 8);
	at = s.n + 1;
	footer(&s, 3);
	expect_err(&s, -EINVAL, at, "footer of section 3 ends section 2");

	/* an unknown configuration subsection cannot be skipped */
	header(&s, 3);
	config(&s, "pc", NULL);
	at = s.n + 1;
	put(&s, 0x05, 1);
	put_str(&s, "configuration/new");
	put(&s, 1, 4);
	expect_err(&s, -EINVAL, at, "unknown configuration subsection");

	/* mapped-ram: not a sequential stream */
	header(&s, 3);
	config(&s, "pc", "mapped-ram");
	expect_err(&s, -EINVAL, s.n - 11, "mapped-ram");

	/* a bit past the region's blocks: a region of 15359 blocks (still
	 * 240 words) with bit 63 of the last word set; the section header
	 * is 50 bytes, the bitmap starts 36 bytes later */
	header(&s, 3);
	at = s.n;
	seed001(&s, 4, GB(1), 8);
	s.b[at + 50 + 12] = 0x7f;	/* region 0x77fe00000 */
	s.b[at + 50 + 13] = 0xe0;
	s.b[at + 86 + 239 * 8] = 0x80;
	expect_err(&s, -EINVAL, at + 86 + 239 * 8,
		   "bits past its 15359 blocks");

	/* a subsection at the top level */
	header(&s, 3);
	put(&s, 0x05, 1);
	expect_err(&s, -EINVAL, 8, "record type 0x05 out of place");
}

/* Every prefix of the full stream is truncated exactly where it ends. */
static void test_truncation(void **state)
{
	struct sb s;
	struct qs_stream q;

	(void)state;
	full_stream(&s);
	for (size_t k = 0; k < s.n; k++) {
		int ret = qd_parse(s.b, k, &q);

		if (ret != -EINVAL || q.err_off != k ||
		    !strstr(q.err, "truncated"))
			fail_msg("prefix of %zu bytes: %d at %llu: %s", k, ret,
				 (unsigned long long)q.err_off, q.err);
		qs_free(&q);
	}
	assert_int_equal(qd_parse(s.b, s.n, &q), 0);
	qs_free(&q);
}

/* ---- fd input ---------------------------------------------------------- */

/* One byte per read: every field split across reads. */
static ssize_t one_byte(void *ctx, void *buf, size_t n)
{
	struct sb *s = ctx;

	(void)n;
	if (!s->n)
		return 0;
	*(uint8_t *)buf = s->b[0];
	memmove(s->b, s->b + 1, --s->n);
	return 1;
}

static ssize_t eio(void *ctx, void *buf, size_t n)
{
	(void)ctx;
	(void)buf;
	(void)n;
	return -EIO;
}

static void test_reads(void **state)
{
	struct sb s, copy;
	struct qs_stream q;
	char rest[64];
	int p[2];
	pid_t pid;

	(void)state;
	full_stream(&s);
	copy = s;
	assert_int_equal(qs_parse(one_byte, &copy, &q), 0);
	assert_int_equal(q.nr_blocks, 4);
	assert_int_equal(q.end, s.n);
	assert_int_equal(copy.n, 0);
	qs_free(&q);
	assert_int_equal(qs_parse(eio, NULL, &q), -EIO);
	assert_non_null(strstr(q.err, "read error"));
	qs_free(&q);

	/* a pipe: page data follows, and stays in the pipe */
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		close(p[0]);
		if (write(p[1], s.b, s.n) != (ssize_t)s.n ||
		    write(p[1], "PAGEDATA", 8) != 8)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(qs_parse_fd(p[0], &q), 0);
	assert_int_equal(q.end, s.n);
	assert_int_equal(q.vmem[0].plugged, GB(1));
	qs_free(&q);
	assert_int_equal(read(p[0], rest, sizeof(rest)), 8);
	assert_memory_equal(rest, "PAGEDATA", 8);
	close(p[0]);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
}

/* ---- the corpus -------------------------------------------------------- */

static int read_file(const char *path, struct sb *s)
{
	FILE *f = fopen(path, "rb");

	assert_non_null(f);
	s->n = fread(s->b, 1, sizeof(s->b), f);
	fclose(f);
	return (int)s->n;
}

/* The real QEMU 7.2 stream heads: what QEMU was given. */
static void test_real(void **state)
{
	const char *src = getenv("SRC");
	char path[PATH_MAX];
	struct sb s;
	struct qs_stream q;

	(void)state;
	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/qstream/"
		 "real_q35_72_hugetlb_postcopy", src && *src ? src : ".");
	read_file(path, &s);
	assert_int_equal(parse(&s, &q), 0);
	assert_string_equal(q.machine, "pc-q35-7.2");
	assert_int_equal(q.advise_len, 16);
	assert_int_equal(q.pagesize_summary, 0x201000);
	assert_int_equal(q.nr_blocks, 8);
	assert_string_equal(q.blocks[0].id, "m0");
	assert_int_equal(q.blocks[0].used_length, MB(32));
	assert_int_equal(q.blocks[0].page_size, 0);
	assert_string_equal(q.blocks[1].id, "m2");
	assert_int_equal(q.blocks[1].used_length, MB(28));
	assert_string_equal(q.blocks[2].id, "m1");
	assert_int_equal(q.blocks[2].used_length, MB(4));
	assert_int_equal(q.blocks[2].page_size, MB(2));
	assert_string_equal(q.blocks[4].id, "pc.bios");
	assert_int_equal(q.blocks[4].used_length, 0x40000);
	assert_int_equal(q.stop, QS_STOP_PART);
	assert_int_equal(q.end, 255);
	qs_free(&q);
}

static void test_corpus(void **state)
{
	const char *src = getenv("SRC");
	char dir[PATH_MAX], path[PATH_MAX + 256];
	unsigned int n = 0, ok = 0;
	struct dirent *de;
	struct sb s;
	DIR *d;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/qstream",
		 src && *src ? src : ".");
	d = opendir(dir);
	if (!d)
		fail_msg("cannot open the corpus %s (set SRC to the source "
			 "tree): %s", dir, strerror(errno));
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		read_file(path, &s);
		/* what the seeds are named for: real_ and hand_ are valid */
		if (qd_run(s.b, s.n) == 0)
			ok++;
		else
			assert_true(strncmp(de->d_name, "real_", 5) &&
				    (strncmp(de->d_name, "hand_", 5) ||
				     strstr(de->d_name, "version2")));
		n++;
	}
	closedir(d);
	print_message("%u corpus files, %u accepted\n", n, ok);
	assert_true(n >= 8);
	assert_true(ok >= 7);
}

/* Seeded random edits of the valid streams, each through qd_run. */
static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void mutate(struct sb *s)
{
	size_t at = s->n ? (size_t)(rng() % s->n) : 0, k;

	switch (rng() % 5) {
	case 0:		/* overwrite a byte */
		if (s->n)
			s->b[at] = (uint8_t)rng();
		break;
	case 1:		/* flip a bit */
		if (s->n)
			s->b[at] ^= (uint8_t)(1u << (rng() % 8));
		break;
	case 2:		/* truncate */
		s->n = at;
		break;
	case 3:		/* insert a byte */
		if (s->n < sizeof(s->b)) {
			memmove(s->b + at + 1, s->b + at, s->n - at);
			s->b[at] = (uint8_t)rng();
			s->n++;
		}
		break;
	case 4:		/* delete a run */
		k = (size_t)(rng() % 16);
		if (k > s->n - at)
			k = s->n - at;
		memmove(s->b + at, s->b + at + k, s->n - at - k);
		s->n -= k;
		break;
	}
}

static void test_mutations(void **state)
{
	unsigned int accepted = 0, rejected = 0;
	struct sb seeds[3], s;

	(void)state;
	full_stream(&seeds[0]);
	header(&seeds[1], 3);
	config(&seeds[1], "pc", NULL);
	advise16(&seeds[1], 0x40201000);
	ram_start(&seeds[1], GB(1) + MB(2));
	ram_block(&seeds[1], "m2", MB(2), MB(2));
	ram_block(&seeds[1], "m1g", GB(1), GB(1));
	ram_end(&seeds[1]);
	put(&seeds[1], 0x02, 1);
	header(&seeds[2], 3);
	ram_start(&seeds[2], MB(128));
	ram_block(&seeds[2], "pc.ram", MB(128), 0);
	put(&seeds[2], 0x10, 8);
	put(&seeds[2], 0x00, 1);
	rng_state = 0x9e3779b97f4a7c15ull;
	for (unsigned int it = 0; it < 20000; it++) {
		s = seeds[rng() % 3];
		for (unsigned int e = 1 + (unsigned int)(rng() % 3); e; e--)
			mutate(&s);
		if (qd_run(s.b, s.n))
			rejected++;
		else
			accepted++;
	}
	print_message("%u accepted, %u rejected\n", accepted, rejected);
	assert_true(accepted > 1000 && rejected > 5000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_advise0),
		cmocka_unit_test(test_advise16_last),
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_no_config),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_reads),
		cmocka_unit_test(test_real),
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
