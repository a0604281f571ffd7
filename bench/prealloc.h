/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* prealloc.h: the rows of bench/prealloc and what they leave, shared by its runs (prealloc.c) and its report (report.c). */
#ifndef RP_BENCH_PREALLOC_H
#define RP_BENCH_PREALLOC_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

extern uint64_t opt_size;			/* bytes per run */
extern struct json_object *j_results, *j_cases;	/* --json: NULL otherwise */

struct bcase {
	const char *name;	/* "hugetlb-2M", "shmem-4K" */
	bool hugetlb;
	uint64_t page_size;
};

enum kind {
	K_MEMSET,		/* memset over populated memory: the ceiling */
	K_MEMSET_PAGE,		/* the same, one memset per page */
	K_FALLOCATE,		/* one fallocate over the file */
	K_TOUCH,		/* one byte written per page, one thread */
	K_MAP_POPULATE,		/* mmap(MAP_SHARED | MAP_POPULATE) */
	K_POPULATE_WRITE,	/* MADV_POPULATE_WRITE, a slice a thread: QEMU */
	K_RAMPOOL,		/* rampool_block_new(PREALLOC) end to end */
};

/*
 * What a row leaves behind. Only rows that reach the same end state are
 * compared: shmem fallocate allocates pages without zeroing them (the
 * kernel zeroes each at its first fault, DESIGN fact 11), hugetlb
 * fallocate allocates and zeroes, and only a populated mapping also has
 * its page tables filled (QEMU's prealloc: ready to run).
 */
enum end_state {
	END_NONE,		/* memset rows: zeroing alone, nothing allocated */
	END_ALLOC,		/* pages in the file, not zeroed, not mapped */
	END_ZEROED,		/* pages in the file, zeroed, not mapped */
	END_MAPPED,		/* zeroed, and the page tables filled */
};

struct method {
	enum kind kind;
	const char *id;		/* JSON "method" */
	char label[48];
	unsigned int threads;
	unsigned int flags;	/* rampool block flags beyond PREALLOC */
	double *secs;		/* per repeat: the timed span */
	double *first;		/* per repeat: the first write afterwards */
	/* rampool only, per repeat: before population, population, after */
	double *setup, *fill, *after;
	int how;		/* rampool's method (its log), -1: unseen */
	/* results */
	double med, spread, gib_s, med_setup, med_fill, med_after, med_first;
	double best;		/* the fastest run: noise here only adds time */
	enum end_state end;
	bool ok;
};

/* 1, 2, 4, ... up to --threads, and --threads: n entries of t */
unsigned int thread_counts(unsigned int *t);
/* rampool's method as its log said it (1 fallocate, 2 populate, 3 touch) */
const char *how_name(int how);
enum end_state end_of(const struct bcase *c, const struct method *m);
/* The table (or the JSON rows) and the lines under a case. */
void report(const struct bcase *c, struct method *ms, unsigned int n,
	    double others, double steal);

#endif
