// SPDX-License-Identifier: LGPL-2.1-or-later
/* uffd.c: postcopy placement rate (rampool_block_place, UFFDIO_COPY) for 4K shmem and 2M hugetlb pages against the bare ioctl, a faulting memcpy into fresh pages and a memcpy into populated ones. */
#include <errno.h>
#include <getopt.h>
#include <linux/userfaultfd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "rampool.h"
#include "util.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#define MB2 (2ULL << 20)
#define SRC_SIZE (64 * MB2)	/* a source larger than the caches */

enum { PLACE, BARE, FAULT, POPULATE, MEMCPY, NROW };

static const char *const row_name[NROW] = {
	[PLACE] = "rampool_block_place",
	[BARE] = "UFFDIO_COPY (bare ioctl)",
	[FAULT] = "fault + memcpy",
	[POPULATE] = "populate (alloc+zero+map)",
	[MEMCPY] = "memcpy into populated",
};

/* what a row leaves: only rows with the same end are compared */
static const char *const row_end[NROW] = {
	[PLACE] = "data", [BARE] = "data", [FAULT] = "data",
	[POPULATE] = "zeroed", [MEMCPY] = "copy",
};

static uint64_t opt_size = GIB;
static unsigned int opt_repeat = 5;
static bool opt_src_4k;
static bool opt_verbose;	/* every run's seconds on stderr */
static unsigned int opt_src_offset;	/* bytes past a 2M boundary */
static char *src_map;	/* the source's mapping, 4M more than SRC_SIZE */
static double secs[NROW][100];

/* One UFFDIO_COPY of a page, as a VMM without rampool would make it. */
static int bare_copy(int fd, char *dst, const char *src, uint64_t len)
{
	struct uffdio_copy c = {
		.dst = (uint64_t)(uintptr_t)dst,
		.src = (uint64_t)(uintptr_t)src,
		.len = len,
	};

	return ioctl(fd, UFFDIO_COPY, &c) ? -errno : 0;
}

/* Seconds to place the whole block page by page from src; < 0: failed. */
static double place_run(struct rampool_pool *pool, int backing, uint64_t ps,
			const char *src, bool bare)
{
	struct rampool_block *blk = bench_block(pool, opt_size, backing, 0);
	double t0, t = -1;
	char *dst;
	int fd, ret;

	if (!blk)
		return -1;
	dst = rampool_block_addr(blk);
	ret = rampool_block_prepare_postcopy(blk, 0, &fd);
	if (ret) {
		complain("prepare_postcopy: %s", strerror(-ret));
		goto out;
	}
	t0 = now();
	for (uint64_t off = 0; off < opt_size; off += ps) {
		const char *from = src + off % SRC_SIZE;

		ret = bare ? bare_copy(fd, dst + off, from, ps) :
			     rampool_block_place(blk, off, from, ps);
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

/*
 * The same bytes memcpy'd page by page into a fresh block. populate NULL:
 * each page's first write faults it in (allocate, zero, map). Else one
 * MADV_POPULATE_WRITE first, its seconds in *populate, then the copy.
 */
static double copy_run(struct rampool_pool *pool, int backing, uint64_t ps,
		       const char *src, double *populate)
{
	struct rampool_block *blk = bench_block(pool, opt_size, backing, 0);
	double t0, t = -1;
	char *dst;

	if (!blk)
		return -1;
	dst = rampool_block_addr(blk);
	if (populate) {
		t0 = now();
		if (madvise(dst, opt_size, MADV_POPULATE_WRITE)) {
			complain("MADV_POPULATE_WRITE: %s", strerror(errno));
			goto out;
		}
		*populate = now() - t0;
	}
	t0 = now();
	for (uint64_t off = 0; off < opt_size; off += ps)
		memcpy(dst + off, src + off % SRC_SIZE, ps);
	t = now() - t0;
out:
	rampool_block_free(blk);
	return t;
}

static int run_once(struct rampool_pool *pool, int backing, uint64_t ps,
		    const char *src, int row, unsigned int r)
{
	switch (row) {
	case PLACE:
	case BARE:
		secs[row][r] = place_run(pool, backing, ps, src, row == BARE);
		return secs[row][r] < 0 ? -1 : 0;
	case FAULT:
		secs[row][r] = copy_run(pool, backing, ps, src, NULL);
		return secs[row][r] < 0 ? -1 : 0;
	default:
		secs[MEMCPY][r] = copy_run(pool, backing, ps, src,
					   &secs[POPULATE][r]);
		return secs[MEMCPY][r] < 0 ? -1 : 0;
	}
}

static void print_case(const char *name, uint64_t ps, const double *m)
{
	double pages = (double)(opt_size / ps), gib = (double)opt_size / GIB;
	double both = m[POPULATE] + m[MEMCPY];

	for (int k = 0; k < NROW; k++)
		say("%-11s %-26s %-6s %8.1f %9.0f %6.2f %8.2fx\n",
		    k ? "" : name, row_name[k], row_end[k], m[k] * 1e3,
		    pages / m[k], gib / m[k], m[k] / m[PLACE]);
	say("%-11s %-26s %-6s %8.1f %9.0f %6.2f %8.2fx\n", "",
	    "populate + memcpy (sum)", "data", both * 1e3, pages / both,
	    gib / both, both / m[PLACE]);
	say("  %s: rampool_block_place = %.2fx fault + memcpy (same end "
	    "state), %.2fx memcpy into populated pages (copy alone), %.2fx "
	    "the bare UFFDIO_COPY\n", name, m[FAULT] / m[PLACE],
	    m[MEMCPY] / m[PLACE], m[BARE] / m[PLACE]);
}

static void run_case(struct rampool_pool *pool, const char *name,
		     int backing, uint64_t ps, const char *src)
{
	static const int order[] = { PLACE, BARE, FAULT, MEMCPY };
	double m[NROW], warm;

	/* untimed: a freshly raised pool is backed by the host on first use */
	if (copy_run(pool, backing, ps, src, &warm) < 0)
		return;
	/* interleaved, each repeat starting one row later */
	for (unsigned int r = 0; r < opt_repeat; r++)
		for (unsigned int k = 0; k < 4; k++)
			if (run_once(pool, backing, ps, src,
				     order[(k + r) % 4], r))
				return;
	for (int k = 0; k < NROW && opt_verbose; k++) {
		fprintf(stderr, "%s %s:", name, row_name[k]);
		for (unsigned int r = 0; r < opt_repeat; r++)
			fprintf(stderr, " %.1f", secs[k][r] * 1e3);
		fprintf(stderr, " ms\n");
	}
	for (int k = 0; k < NROW; k++)
		m[k] = median(secs[k], opt_repeat);
	print_case(name, ps, m);
}

/*
 * The source, in 2M THP pages unless --src-4k (the kernel's copy reads it
 * through the TLB like any other): filled once; NULL on failure.
 */
static char *src_new(void)
{
	char *src;

	src_map = mmap(NULL, SRC_SIZE + 2 * MB2, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (src_map == MAP_FAILED)
		return NULL;
	src = (char *)(((uintptr_t)src_map + MB2 - 1) & ~(uintptr_t)(MB2 - 1));
	/* EINVAL: no THP in this kernel; the source stays in 4K pages */
	madvise(src, SRC_SIZE, opt_src_4k ? MADV_NOHUGEPAGE : MADV_HUGEPAGE);
	src += opt_src_offset;
	memset(src, 0x5a, SRC_SIZE);
	return src;
}

/* MiB of the process's anonymous memory in THP pages: the source's. */
static unsigned long long thp_mib(void)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	unsigned long long kb = 0;
	char line[256];

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "AnonHugePages: %llu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb >> 10;
}

int main(int argc, char *argv[])
{
	static const struct option lo[] = {
		{ "size", required_argument, NULL, 's' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "src-4k", no_argument, NULL, '4' },
		{ "src-offset", required_argument, NULL, 'o' },
		{ "verbose", no_argument, NULL, 'v' },
		{ 0 }
	};
	struct rampool_pool *pool;
	char why[256], *src;
	int c;

	while ((c = getopt_long(argc, argv, "s:r:", lo, NULL)) != -1) {
		if (c == 'o' && (opt_src_offset = (unsigned int)atoi(optarg)) <
		    MB2)
			continue;
		if (c == 'v') {
			opt_verbose = true;
			continue;
		}
		if (c == '4') {
			opt_src_4k = true;
			continue;
		}
		if (c == 's' && !parse_size(optarg, &opt_size) &&
		    opt_size && !(opt_size % MB2))
			continue;
		if (c == 'r' && (opt_repeat = (unsigned int)atoi(optarg)) &&
		    opt_repeat <= 100)
			continue;
		fprintf(stderr, "usage: %s [--size BYTES (2M multiple)] "
			"[--repeat N (1-100)] [--src-4k] "
			"[--src-offset BYTES (< 2M)] [--verbose]\n", argv[0]);
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	src = src_new();
	if (!src || rampool_pool_new(NULL, &pool))
		return 1;
	say("uffd placement of %llu MiB page by page, median of %u "
	    "(interleaved); end data: fresh pages holding the data, mapped\n",
	    (unsigned long long)(opt_size >> 20), opt_repeat);
	say("source: %llu MiB at %u bytes past a 2M boundary, %llu MiB of it "
	    "in 2M THP pages\n", SRC_SIZE >> 20, opt_src_offset, thp_mib());
	say("%-11s %-26s %-6s %8s %9s %6s %9s\n", "case", "row", "end", "ms",
	    "pages/s", "GiB/s", "place/row");
	run_case(pool, "shmem-4K", RAMPOOL_BACKING_MEMFD, 4096, src);
	if (pool_raise(opt_size / MB2, why, sizeof(why)))
		say("SKIPPED: hugetlb-2M: %s\n", why);
	else
		run_case(pool, "hugetlb-2M", RAMPOOL_BACKING_MEMFD_HUGETLB,
			 MB2, src);
	pool_restore();
	rampool_pool_free(pool);
	munmap(src_map, SRC_SIZE + 2 * MB2);
	return failed;
}
