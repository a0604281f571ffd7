// SPDX-License-Identifier: LGPL-2.1-or-later
/* uffd.c: postcopy placement rate (rampool_block_place, UFFDIO_COPY) for 4K shmem and 2M hugetlb pages against a memcpy of the same bytes into populated memory. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "rampool.h"
#include "util.h"

#define MB2 (2ULL << 20)

static uint64_t opt_size = GIB;
static unsigned int opt_repeat = 3;

static struct rampool_block *block(struct rampool_pool *pool, int backing,
				   unsigned int flags)
{
	struct rampool_block_opts o = {
		.sz = sizeof(o),
		.size = opt_size,
		.backing = backing,
		.flags = flags,
	};
	struct rampool_block *blk;
	int ret = rampool_block_new(pool, &o, &blk);

	if (ret) {
		complain("block of %llu bytes: %s", (unsigned long long)opt_size,
			 strerror(-ret));
		return NULL;
	}
	return blk;
}

/* Seconds to place the whole block page by page from src; < 0: failed. */
static double place_run(struct rampool_pool *pool, int backing, uint64_t ps,
			const char *src)
{
	struct rampool_block *blk = block(pool, backing, 0);
	double t0, t = -1;
	int fd, ret;

	if (!blk)
		return -1;
	ret = rampool_block_prepare_postcopy(blk, 0, &fd);
	if (ret) {
		complain("prepare_postcopy: %s", strerror(-ret));
		goto out;
	}
	t0 = now();
	for (uint64_t off = 0; off < opt_size; off += ps) {
		ret = rampool_block_place(blk, off, src + off % (64 * MB2), ps);
		if (ret) {
			complain("place at %llu: %s", (unsigned long long)off,
				 strerror(-ret));
			goto out;
		}
	}
	t = now() - t0;
out:
	rampool_block_free(blk);
	return t;
}

/* The same bytes memcpy'd page by page into a populated block. */
static double copy_run(struct rampool_pool *pool, int backing, uint64_t ps,
		       const char *src)
{
	struct rampool_block *blk = block(pool, backing, RAMPOOL_BLOCK_PREALLOC |
					  RAMPOOL_BLOCK_PAGE_TABLES);
	char *dst;
	double t0, t;

	if (!blk)
		return -1;
	dst = rampool_block_addr(blk);
	t0 = now();
	for (uint64_t off = 0; off < opt_size; off += ps)
		memcpy(dst + off, src + off % (64 * MB2), ps);
	t = now() - t0;
	rampool_block_free(blk);
	return t;
}

static void run_case(struct rampool_pool *pool, const char *name,
		     int backing, uint64_t ps, const char *src)
{
	double tp[100], tc[100], p, c;

	for (unsigned int i = 0; i < opt_repeat; i++) {
		tp[i] = place_run(pool, backing, ps, src);
		tc[i] = copy_run(pool, backing, ps, src);
		if (tp[i] < 0 || tc[i] < 0)
			return;
	}
	p = median(tp, opt_repeat);
	c = median(tc, opt_repeat);
	say("%-11s %10.0f %8.2f %10.0f %8.2f %6.2fx\n", name,
	    (double)(opt_size / ps) / p, (double)opt_size / GIB / p,
	    (double)(opt_size / ps) / c, (double)opt_size / GIB / c, c / p);
}

int main(int argc, char *argv[])
{
	static const struct option lo[] = {
		{ "size", required_argument, NULL, 's' },
		{ "repeat", required_argument, NULL, 'r' },
		{ 0 }
	};
	struct rampool_pool *pool;
	char why[256], *src;
	int c;

	while ((c = getopt_long(argc, argv, "s:r:", lo, NULL)) != -1) {
		if (c == 's' && !parse_size(optarg, &opt_size) &&
		    opt_size && !(opt_size % MB2))
			continue;
		if (c == 'r' && (opt_repeat = (unsigned int)atoi(optarg)) &&
		    opt_repeat <= 100)
			continue;
		fprintf(stderr, "usage: %s [--size BYTES (2M multiple)] "
			"[--repeat N (1-100)]\n", argv[0]);
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	/* a source larger than the caches, filled once */
	src = malloc(64 * MB2);
	if (!src || rampool_pool_new(NULL, &pool))
		return 1;
	memset(src, 0x5a, 64 * MB2);
	say("uffd placement of %llu MiB, page by page, median of %u; memcpy "
	    "into populated memory\n", (unsigned long long)(opt_size >> 20),
	    opt_repeat);
	say("%-11s %10s %8s %10s %8s %7s\n", "case", "place/s", "GiB/s",
	    "memcpy/s", "GiB/s", "ratio");
	run_case(pool, "shmem-4K", RAMPOOL_BACKING_MEMFD, 4096, src);
	if (pool_raise(opt_size / MB2, why, sizeof(why)))
		say("SKIPPED: hugetlb-2M: %s\n", why);
	else
		run_case(pool, "hugetlb-2M", RAMPOOL_BACKING_MEMFD_HUGETLB,
			 MB2, src);
	pool_restore();
	rampool_pool_free(pool);
	free(src);
	return failed;
}
