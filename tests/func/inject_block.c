// SPDX-License-Identifier: LGPL-2.1-or-later
/* inject_block.c: fails the Nth malloc, mmap, memfd_create, fallocate, madvise or pthread_create along block creation, population and release (seed 000). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#include "rampool.h"
#include "t_inject.h"
#include "t_util.h"

/*
 * Linked against librampool.a with -Wl,--wrap=<fn> for each of these, so
 * every call the library makes goes through a counter first.
 */

#define MB2 (2ULL << 20)

struct scenario {
	const char *name;
	enum rampool_backing backing;
	uint64_t size;
	unsigned int flags;
	bool populate_after;	/* populate a second range of a made block */
};

static const char *hdir, *tdir;

/* One run: 0 if it all worked, else the first error. */
static int run(struct rampool_pool *pool, const struct scenario *sc)
{
	int node = 0;
	struct rampool_block_opts o = {
		.sz = sizeof(o),
		.size = sc->size,
		.max_size = 2 * sc->size,
		.backing = sc->backing,
		.flags = sc->flags,
		.nodes = &node,
		.nr_nodes = 1,
		.threads = 2,
		.dir = sc->backing == RAMPOOL_BACKING_HUGETLBFS ? hdir :
		       sc->backing == RAMPOOL_BACKING_TMPFS	 ? tdir :
								   NULL,
	};
	struct rampool_block *blk;
	int ret;

	ret = rampool_block_new(pool, &o, &blk);
	if (ret)
		return ret;
	if (sc->populate_after) {
		ret = rampool_block_populate(blk, sc->size, sc->size);
		/* what failed was given back; what was there before stays */
		T_EQ(rampool_block_populated(blk),
		     (sc->flags & RAMPOOL_BLOCK_PREALLOC ? sc->size : 0) +
			     (ret ? 0 : sc->size));
	}
	rampool_block_free(blk);
	return ret;
}

int main(void)
{
	static const struct scenario scs[] = {
		{ "hugetlb memfd, prealloc", RAMPOOL_BACKING_MEMFD_HUGETLB,
		  4 * MB2, RAMPOOL_BLOCK_PREALLOC, true },
		{ "hugetlbfs, prealloc", RAMPOOL_BACKING_HUGETLBFS, 4 * MB2,
		  RAMPOOL_BLOCK_PREALLOC, true },
		{ "shmem memfd, prealloc", RAMPOOL_BACKING_MEMFD, 4 * MB2,
		  RAMPOOL_BLOCK_PREALLOC, true },
		{ "tmpfs, populate later", RAMPOOL_BACKING_TMPFS, 4 * MB2, 0,
		  true },
		{ "hugetlb memfd, touch", RAMPOOL_BACKING_MEMFD_HUGETLB,
		  4 * MB2, RAMPOOL_BLOCK_PREALLOC | RAMPOOL_BLOCK_FORCE_TOUCH,
		  true },
		{ "hugetlb memfd, page tables", RAMPOOL_BACKING_MEMFD_HUGETLB,
		  4 * MB2, RAMPOOL_BLOCK_PREALLOC | RAMPOOL_BLOCK_PAGE_TABLES,
		  false },
	};
	struct rampool_pool *pool;
	unsigned int runs = 0, failures = 0;

	t_hugepages_ensure_free(MB2, 24);
	hdir = t_mount_hugetlbfs(MB2, NULL);
	tdir = t_tmpdir("/dev/shm");
	T_EQ(rampool_pool_new(NULL, &pool), 0);

	for (size_t s = 0; s < sizeof(scs) / sizeof(scs[0]); s++) {
		struct t_hcount h0, h1;
		unsigned int fds, maps;

		T_EQ(run(pool, &scs[s]), 0);	/* works without injection */
		t_hcount(MB2, -1, &h0);
		fds = t_fd_count();
		maps = t_map_count();
		for (int fn = 0; fn < T_INJ_NR; fn++) {
			for (long n = 1;; n++) {
				int ret;

				t_inj_arm(fn, n);
				ret = run(pool, &scs[s]);
				t_inj_disarm();
				runs++;
				if (!t_inj_fired()) {
					/* past the last call: it all worked */
					T_EQ(ret, 0);
					break;
				}
				if (ret >= 0)
					T_FAIL("%s: %s #%ld failed, yet the "
					       "call returned %d", scs[s].name,
					       t_inj_names[fn], n, ret);
				failures++;
				t_hcount(MB2, -1, &h1);
				if (h1.free != h0.free || h1.resv != h0.resv)
					T_FAIL("%s: %s #%ld: free %lu->%lu, "
					       "resv %lu->%lu", scs[s].name,
					       t_inj_names[fn], n,
					       (unsigned long)h0.free,
					       (unsigned long)h1.free,
					       (unsigned long)h0.resv,
					       (unsigned long)h1.resv);
				T_EQ(t_fd_count(), fds);
				T_EQ(t_map_count(), maps);
			}
		}
	}
	rampool_pool_free(pool);
	printf("%u runs, %u injected failures, each cleaned up\n", runs,
	       failures);
	return 0;
}
