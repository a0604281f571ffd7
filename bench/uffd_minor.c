// SPDX-License-Identifier: LGPL-2.1-or-later
/* uffd_minor.c: keep-pages postcopy placement rate (a copy into the alias + UFFDIO_CONTINUE) for 4K shmem and 2M hugetlb pages, against discard mode's UFFDIO_COPY and a memcpy of the same bytes, in one run. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rampool.h"
#include "util.h"

#define MB2 (2ULL << 20)
#define SRC_LEN (64 * MB2)	/* a source larger than the caches */

static uint64_t opt_size = GIB;
static unsigned int opt_repeat = 3;

enum how { KEEP, COPY, MEMCPY };

/*
 * Seconds to fill the whole block page by page from src; < 0: failed.
 * KEEP: a preallocated block in keep-pages mode; COPY: a block in discard
 * mode (UFFDIO_COPY allocates each page); MEMCPY: into a populated block
 * with its page tables filled. Only the loop is timed.
 */
static double run(struct rampool_pool *pool, int backing, uint64_t ps,
		  const char *src, enum how how)
{
	unsigned int flags = how == COPY ? 0 : RAMPOOL_BLOCK_PREALLOC |
					       RAMPOOL_BLOCK_PAGE_TABLES;
	struct rampool_block *blk = bench_block(pool, opt_size, backing, flags);
	char *dst;
	double t0, t = -1;
	int fd, ret = 0;

	if (!blk)
		return -1;
	dst = rampool_block_addr(blk);
	if (how != MEMCPY)
		ret = rampool_block_prepare_postcopy(blk, how == KEEP ?
				RAMPOOL_POSTCOPY_KEEP_PAGES : 0, &fd);
	if (ret) {
		complain("prepare_postcopy: %s", strerror(-ret));
		goto out;
	}
	t0 = now();
	for (uint64_t off = 0; off < opt_size; off += ps) {
		if (how == MEMCPY) {
			memcpy(dst + off, src + off % SRC_LEN, ps);
			continue;
		}
		ret = rampool_block_place(blk, off, src + off % SRC_LEN, ps);
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

static void row(const char *name, const char *how, uint64_t ps, double t,
		double tm)
{
	say("%-11s %-15s %10.0f %8.2f %6.2fx\n", name, how,
	    (double)(opt_size / ps) / t, (double)opt_size / GIB / t, tm / t);
}

static void run_case(struct rampool_pool *pool, const char *name,
		     int backing, uint64_t ps, const char *src)
{
	double t[3][100], m[3];

	for (unsigned int i = 0; i < opt_repeat; i++)
		for (int h = KEEP; h <= MEMCPY; h++) {
			t[h][i] = run(pool, backing, ps, src, (enum how)h);
			if (t[h][i] < 0)
				return;
		}
	for (int h = KEEP; h <= MEMCPY; h++)
		m[h] = median(t[h], opt_repeat);
	row(name, "keep+CONTINUE", ps, m[KEEP], m[MEMCPY]);
	row(name, "discard+COPY", ps, m[COPY], m[MEMCPY]);
	row(name, "memcpy", ps, m[MEMCPY], m[MEMCPY]);
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
	/*
	 * 2M-aligned: the kernel's copy for UFFDIO_COPY runs at ~0.6x from a
	 * source not 64-byte aligned (bench/README.md, uffd), and malloc's
	 * large blocks start 16 bytes past a page.
	 */
	if (posix_memalign((void **)&src, MB2, SRC_LEN) ||
	    rampool_pool_new(NULL, &pool))
		return 1;
	memset(src, 0x5a, SRC_LEN);
	say("keep-pages placement of %llu MiB, page by page, median of %u; "
	    "ratio: memcpy's time / the row's\n",
	    (unsigned long long)(opt_size >> 20), opt_repeat);
	say("%-11s %-15s %10s %8s %7s\n", "case", "how", "pages/s", "GiB/s",
	    "ratio");
	run_case(pool, "shmem-4K", RAMPOOL_BACKING_MEMFD, 4096, src);
	/* one block at a time: the pool needs one block's pages */
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
