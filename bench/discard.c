// SPDX-License-Identifier: LGPL-2.1-or-later
/* discard.c: discarding preallocated 2M hugetlb memory with the reservation kept (rampool_block_discard) against a plain PUNCH_HOLE of the same bytes. */
#include <errno.h>
#include <fcntl.h>
#include <linux/memfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rampool.h"
#include "util.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#define MB2 (2ULL << 20)

static char state[64];

/* A populated 2M hugetlb memfd of size bytes, mapped; NULL on failure. */
static char *plain_new(uint64_t size, int *fd)
{
	char *p;

	*fd = memfd_create("bench-discard", MFD_HUGETLB | MFD_HUGE_2MB);
	if (*fd < 0 || ftruncate(*fd, (off_t)size))
		return NULL;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (madvise(p, size, MADV_POPULATE_WRITE)) {
		munmap(p, size);
		return NULL;
	}
	return p;
}

/* Seconds of one plain punch, and of one punch + re-reserving mapping. */
static double plain_run(uint64_t size, bool rereserve)
{
	double t0, t1 = -1;
	char *p;
	int fd;

	p = plain_new(size, &fd);
	if (!p) {
		complain("plain: %s", strerror(errno));
		goto out;
	}
	t0 = now();
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
		      (off_t)size)) {
		complain("punch: %s", strerror(errno));
		goto out;
	}
	if (rereserve) {
		void *q = mmap(NULL, size, PROT_NONE, MAP_SHARED, fd, 0);

		if (q == MAP_FAILED) {
			complain("re-reserve: %s", strerror(errno));
			goto out;
		}
		munmap(q, size);
	}
	t1 = now() - t0;
out:
	if (p)
		munmap(p, size);
	if (fd >= 0)
		close(fd);
	return t1;
}

/* Seconds of rampool_block_discard over a preallocated block. */
static double rampool_run(struct rampool_pool *pool, uint64_t size)
{
	struct rampool_block_opts o = {
		.sz = sizeof(o), .size = size, .page_size = MB2,
		.backing = RAMPOOL_BACKING_MEMFD_HUGETLB,
		.flags = RAMPOOL_BLOCK_PREALLOC,
	};
	struct rampool_block *blk;
	double t0, t = -1;
	int ret;

	ret = rampool_block_new(pool, &o, &blk);
	if (ret) {
		complain("block: %s", strerror(-ret));
		return -1;
	}
	t0 = now();
	ret = rampool_block_discard(blk, 0, size, 0);
	t = now() - t0;
	if (ret) {
		complain("discard: %d", ret);
		t = -1;
	}
	rampool_block_free(blk);
	return t;
}

static void usage(void)
{
	fprintf(stderr, "Usage: discard [--size BYTES] [--repeat N] [--json]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t size = 4 * GIB;
	unsigned int repeat = 9;
	struct rampool_pool_opts po = { .sz = sizeof(po), .state_dir = state };
	struct rampool_pool *pool = NULL;
	double v[3][100], m[3];
	static const char *const row[3] = {
		"plain punch", "punch + re-reserve", "rampool_block_discard",
	};
	char why[256], tmpl[] = "/tmp/rampool-bench.XXXXXX";

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--size") && i + 1 < argc) {
			if (parse_size(argv[++i], &size) || !size ||
			    size % MB2)
				usage();
		} else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) {
			repeat = (unsigned int)atoi(argv[++i]);
			if (!repeat || repeat > 100)
				usage();
		} else if (!strcmp(argv[i], "--json")) {
			opt_json = true;
		} else {
			usage();
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	if (pool_raise(size / MB2, why, sizeof(why))) {
		say("SKIPPED: discard: %s\n", why);
		return 0;
	}
	/* a private ledger: the block's row is written as a VMM's would be */
	if (!mkdtemp(tmpl)) {
		complain("mkdtemp: %s", strerror(errno));
		goto out;
	}
	snprintf(state, sizeof(state), "%s/state", tmpl);
	if (rampool_pool_new(&po, &pool)) {
		complain("rampool_pool_new");
		goto out;
	}
	/* interleaved, so that a change of machine speed hits every row */
	for (unsigned int r = 0; r < repeat && !failed; r++) {
		v[0][r] = plain_run(size, false);
		v[1][r] = plain_run(size, true);
		v[2][r] = rampool_run(pool, size);
	}
	if (failed)
		goto out;
	for (int k = 0; k < 3; k++)
		m[k] = median(v[k], repeat);
	if (opt_json) {
		struct json_object *o = json_object_new_object();

		jnum(o, "size", (double)size, 0);
		jint(o, "repeat", (int)repeat);
		jnum(o, "plain_s", m[0], 6);
		jnum(o, "rereserve_s", m[1], 6);
		jnum(o, "rampool_s", m[2], 6);
		jnum(o, "ratio_rereserve", m[1] / m[0], 3);
		jnum(o, "ratio", m[2] / m[0], 3);
		printf("%s\n", json_object_to_json_string_ext(
				       o, JSON_C_TO_STRING_PRETTY));
		json_object_put(o);
	} else {
		say("discard of %.1f GiB of 2M pages, median of %u "
		    "(interleaved)\n", (double)size / GIB, repeat);
		for (int k = 0; k < 3; k++)
			say("  %-24s %9.3f ms  %5.2fx plain\n", row[k],
			    m[k] * 1e3, m[k] / m[0]);
	}
out:
	rampool_pool_free(pool);
	if (tmpl[strlen(tmpl) - 1] != 'X') {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
		if (system(cmd))
			complain("could not remove %s", tmpl);
	}
	pool_restore();
	return failed;
}
