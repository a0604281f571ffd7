// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_plan_stream.c: the plan rampool_plan_from_qemu_stream makes of hand-built streams: virtio-mem by its plugged size, page sizes and nodes from the stream, the map or the defaults, and its refusals. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "rampool.h"
#include "qstream_build.h"

static char logs[4096];

static void log_fn(void *data, enum rampool_log_level level, const char *msg)
{
	size_t n = strlen(logs);

	(void)data;
	snprintf(logs + n, sizeof(logs) - n, "%d:%s\n", (int)level, msg);
	if (getenv("T_VERBOSE"))
		fprintf(stderr, "  log %d: %s\n", (int)level, msg);
}

static struct rampool_pool *pool;

static int setup(void **state)
{
	struct rampool_pool_opts o = {
		.sz = sizeof(o), .sysroot = "/", .log_fn = log_fn,
		.log_level = RAMPOOL_LOG_DEBUG,
		.group = "rampool-unit-no-such-group",
	};

	(void)state;
	return rampool_pool_new(&o, &pool);
}

static int teardown(void **state)
{
	(void)state;
	rampool_pool_free(pool);
	return 0;
}

/* A memfd holding the stream, at offset 0. */
static int stream_fd(const struct sb *s)
{
	int fd = memfd_create("qstream", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, s->b, s->n), (ssize_t)s->n);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

/* The plan of s with map and default page size dps, or the error. */
static int plan_of(const struct sb *s, const char *map, uint64_t dps,
		   struct rampool_plan **out)
{
	struct rampool_plan_opts o = {
		.sz = sizeof(o), .map = map, .default_page_size = dps,
	};
	int fd = stream_fd(s), ret;

	logs[0] = '\0';
	ret = rampool_plan_from_qemu_stream(pool, fd, &o, out);
	close(fd);
	return ret;
}

static void expect_block(const struct rampool_plan *p, unsigned int idx,
			 const char *id, uint64_t size, uint64_t region,
			 uint64_t ps, int node, unsigned int flags)
{
	struct rampool_plan_block b = { .sz = sizeof(b) };

	assert_int_equal(rampool_plan_block(p, idx, &b), 0);
	assert_string_equal(b.id, id);
	assert_int_equal(b.size, size);
	assert_int_equal(b.region, region);
	assert_int_equal(b.page_size, ps);
	assert_int_equal(b.node, node);
	assert_int_equal(b.backing, ps == 4096 ? RAMPOOL_RES_SHMEM :
						 RAMPOOL_RES_HUGETLB);
	assert_int_equal(b.flags, flags);
}

static void test_full(void **state)
{
	struct rampool_plan *p = NULL;
	struct rampool_plan_block b = { .sz = sizeof(b) };
	struct sb s;

	(void)state;
	full_stream(&s);
	assert_int_equal(plan_of(&s, "pc.ram=2M@1,mem1=2M,nosuch=1G", 0, &p),
			 0);
	assert_int_equal(rampool_plan_count(p), 4);
	expect_block(p, 0, "pc.ram", MB(64), MB(64), MB(2), 1, 0);
	/* seed 001: 1 GiB plugged of 30; 2M from the stream, no map entry */
	expect_block(p, 1, "0000:00:03.0/mem0", GB(1), GB(30), MB(2),
		     RAMPOOL_NODE_ANY,
		     RAMPOOL_PLAN_F_SPARSE | RAMPOOL_PLAN_F_DEFAULTED);
	expect_block(p, 2, "pc.bios", 0x40000, 0x40000, 4096,
		     RAMPOOL_NODE_ANY, RAMPOOL_PLAN_F_DEFAULTED);
	expect_block(p, 3, "mem1", MB(4), MB(4), MB(2), RAMPOOL_NODE_ANY, 0);
	assert_int_equal(rampool_plan_block(p, 4, &b), -ERANGE);
	assert_non_null(strstr(logs, "map: 'nosuch' names no RAM block"));
	rampool_plan_free(p);
}

/* A stream without early sections (QEMU 7.2): a device's block counts in
 * full, and the log says it may be virtio-mem; ROMs are not named. */
static void test_no_early(void **state)
{
	struct rampool_plan *p = NULL;
	struct sb s;

	(void)state;
	header(&s, 3);
	config(&s, "pc-q35-7.2", NULL);
	ram_start(&s, GB(2) + MB(4) + 0x40000);
	ram_block(&s, "pc.ram", MB(4), 0);
	ram_block(&s, "0000:00:03.0/mem0", GB(2), 0);
	ram_block(&s, "0000:00:02.0/e1000.rom", 0x40000, 0);
	ram_end(&s);
	/* dirty-bitmaps: a setup without a length, the reader stops */
	section(&s, 0x01, 3, "dirty-bitmap", 1);
	assert_int_equal(plan_of(&s, NULL, 0, &p), 0);
	expect_block(p, 1, "0000:00:03.0/mem0", GB(2), GB(2), 4096,
		     RAMPOOL_NODE_ANY, RAMPOOL_PLAN_F_DEFAULTED);
	assert_non_null(strstr(logs, "block '0000:00:03.0/mem0' may be a "
			       "virtio-mem device's memory"));
	assert_null(strstr(logs, "e1000.rom"));
	assert_non_null(strstr(logs, "stopped at section 'dirty-bitmap'"));
	assert_null(strstr(logs, "'pc.ram'"));
	rampool_plan_free(p);
}

/* A device with nothing plugged needs nothing, and is still a block. */
static void test_unplugged(void **state)
{
	struct rampool_plan *p = NULL;
	struct sb s;

	(void)state;
	header(&s, 3);
	config(&s, "pc-q35-8.0", NULL);
	ram_start(&s, GB(30));
	ram_block(&s, "0000:00:03.0/mem0", GB(30), 0);
	ram_end(&s);
	seed001(&s, 3, 0, 0);
	put(&s, 0, 1);
	assert_int_equal(plan_of(&s, "0000:00:03.0/mem0=1G@0", 0, &p), 0);
	assert_int_equal(rampool_plan_count(p), 1);
	expect_block(p, 0, "0000:00:03.0/mem0", 0, GB(30), GB(1), 0,
		     RAMPOOL_PLAN_F_SPARSE);
	rampool_plan_free(p);

	/* the same device, but its block is not the region's length: the
	 * early section matches nothing and the block counts in full */
	header(&s, 3);
	config(&s, "pc-q35-8.0", NULL);
	ram_start(&s, GB(2));
	ram_block(&s, "0000:00:03.0/mem0", GB(2), 0);
	ram_end(&s);
	seed001(&s, 3, GB(1), 8);
	put(&s, 0, 1);
	assert_int_equal(plan_of(&s, NULL, MB(2), &p), 0);
	expect_block(p, 0, "0000:00:03.0/mem0", GB(2), GB(2), MB(2),
		     RAMPOOL_NODE_ANY, RAMPOOL_PLAN_F_DEFAULTED);
	assert_non_null(strstr(logs, "its early section is ignored"));
	assert_null(strstr(logs, "may be a virtio-mem"));
	rampool_plan_free(p);

	/* an older stream (no early section): counted in full, and said at
	 * warning level, which poolctl check prints */
	header(&s, 3);
	config(&s, "pc-q35-7.2", NULL);
	ram_start(&s, GB(2));
	ram_block(&s, "0000:00:03.0/mem0", GB(2), 0);
	ram_end(&s);
	put(&s, 0, 1);
	assert_int_equal(plan_of(&s, NULL, MB(2), &p), 0);
	expect_block(p, 0, "0000:00:03.0/mem0", GB(2), GB(2), MB(2),
		     RAMPOOL_NODE_ANY, RAMPOOL_PLAN_F_DEFAULTED);
	{
		char want[96];

		snprintf(want, sizeof(want), "%d:qemu stream: block "
			 "'0000:00:03.0/mem0' may be a virtio-mem",
			 (int)RAMPOOL_LOG_WARN);
		assert_non_null(strstr(logs, want));
	}
	rampool_plan_free(p);
}

static void expect_fail(const struct sb *s, const char *map, uint64_t dps,
			int err, const char *why)
{
	struct rampool_plan *p = (struct rampool_plan *)&p;

	assert_int_equal(plan_of(s, map, dps, &p), err);
	assert_ptr_equal(p, (struct rampool_plan *)&p);	/* untouched */
	if (!strstr(logs, why))
		fail_msg("log '%s' lacks '%s'", logs, why);
}

static void test_refused(void **state)
{
	struct sb s, t;

	(void)state;
	full_stream(&s);
	/* a 256K ROM cannot be in 2M pages */
	expect_fail(&s, "pc.bios=2M", 0, -EINVAL, "block 'pc.bios' (byte ");
	expect_fail(&s, NULL, MB(2), -EINVAL,
		    "262144 bytes are not a multiple of its page size 2097152 "
		    "(from the default)");
	/* postcopy: the stream's page size and the map's must agree */
	expect_fail(&s, "mem1=1G", 0, -EINVAL,
		    "block 'mem1': the map says page size 1073741824, the "
		    "stream 2097152");
	expect_fail(&s, "pc.ram=3M", 0, -EINVAL, "map: 'pc.ram=3M'");
	expect_fail(&s, "pc.ram=2M,pc.ram=1G", 0, -EINVAL, "given twice");
	expect_fail(&s, NULL, 12345, -EINVAL, "default page size 12345");

	/* one id twice: the second one's offset */
	header(&t, 3);
	config(&t, "pc", NULL);
	ram_start(&t, MB(4));
	ram_block(&t, "pc.ram", MB(2), 0);
	ram_block(&t, "pc.ram", MB(2), 0);
	ram_end(&t);
	put(&t, 0, 1);
	expect_fail(&t, NULL, 0, -EINVAL,
		    "qemu stream: byte 55: RAM block 'pc.ram' listed twice");

	/* truncated: the byte offset */
	t = s;
	t.n = 100;
	expect_fail(&t, NULL, 0, -EINVAL,
		    "qemu stream: byte 100: truncated: the stream ends in");
	header(&t, 2);
	expect_fail(&t, NULL, 0, -EPROTO, "qemu stream: byte 4: stream "
		    "version 2");
	header(&t, 3);
	put(&t, 0, 1);
	expect_fail(&t, NULL, 0, -EINVAL, "byte 9: no RAM section before "
		    "the end");
	header(&t, 3);
	config(&t, "pc", NULL);
	section(&t, 0x01, 2, "dirty-bitmap", 1);
	expect_fail(&t, NULL, 0, -EINVAL, "no RAM section before section "
		    "'dirty-bitmap'");
}

static void test_args(void **state)
{
	struct rampool_plan_opts o = { .sz = 3 };
	struct rampool_plan *p = NULL;
	struct sb s;
	int fd;

	(void)state;
	full_stream(&s);
	fd = stream_fd(&s);
	assert_int_equal(rampool_plan_from_qemu_stream(NULL, fd, NULL, &p),
			 -EINVAL);
	assert_int_equal(rampool_plan_from_qemu_stream(pool, -1, NULL, &p),
			 -EINVAL);
	assert_int_equal(rampool_plan_from_qemu_stream(pool, fd, NULL, NULL),
			 -EINVAL);
	assert_int_equal(rampool_plan_from_qemu_stream(pool, fd, &o, &p),
			 -EINVAL);
	/* a bad map is refused before the stream is read */
	o = (struct rampool_plan_opts){ .sz = sizeof(o), .map = "x" };
	assert_int_equal(rampool_plan_from_qemu_stream(pool, fd, &o, &p),
			 -EINVAL);
	assert_int_equal(lseek(fd, 0, SEEK_CUR), 0);
	assert_null(p);
	/* NULL opts: base pages everywhere, read up to its page data */
	assert_int_equal(rampool_plan_from_qemu_stream(pool, fd, NULL, &p), 0);
	assert_int_equal(lseek(fd, 0, SEEK_CUR), (off_t)s.n);
	expect_block(p, 2, "pc.bios", 0x40000, 0x40000, 4096,
		     RAMPOOL_NODE_ANY, RAMPOOL_PLAN_F_DEFAULTED);
	rampool_plan_free(p);
	close(fd);
	assert_int_equal(rampool_plan_count(NULL), 0);
	rampool_plan_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_no_early),
		cmocka_unit_test(test_unplugged),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_args),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
