/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* block.h: inside pool/: attaching a block to an existing file, recording pages it already holds, and the block itself (block.c, block_opts.c). */
#ifndef RP_BLOCK_H
#define RP_BLOCK_H

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include "rampool.h"
#include "../backend/backing.h"
#include "../backend/bitmap.h"
#include "../backend/prealloc.h"

/*
 * rampool_block_new runs in phases (check, plan, create backing, populate,
 * commit), each a separate function in block.c that undoes only its own
 * work; the comment above them there says where a ledger row goes pending
 * and ready.
 */

struct block_attach_spec {
	int fd;			/* the callee dup()s it (F_DUPFD_CLOEXEC); the
				 * caller keeps its own */
	uint64_t size;		/* used length, a multiple of page_size */
	uint64_t max_size;	/* mapped length; the file holds at least it */
	uint64_t page_size;	/* hugetlb: the mount's; else the base page */
	bool hugetlb;
	const int *nodes;	/* bound with policy before any page; none: */
	unsigned int nr_nodes;	/* placement left to the kernel */
	enum rampool_policy policy;
	unsigned int threads;	/* populating threads, as in the block opts */
	rampool_progress_fn progress;
	void *progress_data;
	/*
	 * NULL: the block's own flag (rampool_block_cancel). Else this flag
	 * is checked instead (a pool-wide cancel): rampool_block_cancel then
	 * sets it, and populate never clears it.
	 */
	atomic_bool *cancel;
};

/*
 * Makes a block over an existing file: dups s->fd, maps the file MAP_SHARED
 * (max_size bytes) and binds the mapping to the nodes (mbind) before any
 * page is populated. Nothing is populated: the bitmap starts empty (see
 * block_mark_populated). rampool_block_populate and rampool_block_free work
 * on it as on any block; a failed populate punches only the pages it took;
 * free unmaps and closes the dup and never truncates, punches or unlinks
 * the file. Not sealed (the file is the caller's).
 *
 * 0, or: -EINVAL bad spec (fd < 0, sizes not page multiples, max_size <
 * size, page size not the base page without hugetlb, a bad node, threads >
 * 256) or a file shorter than max_size / not a regular file / whose pages
 * are not page_size; -EBADF from
 * the dup; -EOPNOTSUPP a pool on a recorded sysroot with nodes; mmap's and
 * mbind's errnos (-ENOMEM: hugetlb pages cannot be reserved); -ENOMEM.
 * *out untouched on failure. Logged.
 */
int block_attach(struct rampool_pool *pool, const struct block_attach_spec *s,
		 struct rampool_block **out);

/*
 * rampool_block_discard for a caller that holds the postcopy lock (or has
 * no postcopy state): postcopy's own discards.
 */
int block_discard(struct rampool_block *blk, uint64_t offset, uint64_t len,
		  unsigned int flags);
/* Populated and owed bytes (the postcopy lock held, if any). */
void block_figures(const struct rampool_block *blk, uint64_t *populated,
		   uint64_t *owed);
/*
 * Writes those figures to the block's ledger row (blocks made with a
 * ledger; 0 without). Logged on failure; the block's own figures stand.
 */
int block_ledger_write(struct rampool_block *blk, uint64_t populated,
		       uint64_t owed);
/* The same, and the row's postcopy mode (RAMPOOL_POSTCOPY_MODE_*; -1:
 * left as it is), in one transaction. */
int block_ledger_row(struct rampool_block *blk, uint64_t populated,
		     uint64_t owed, int mode);

/*
 * Records that the file already holds the pages of [off, off + len) (e.g.
 * an attached reservation populated by an earlier process): they count in
 * rampool_block_populated and a failed populate never releases them. The
 * range is widened to whole pages and clipped to max_size.
 */
void block_mark_populated(struct rampool_block *blk, uint64_t off,
			  uint64_t len);

/* ---- between block.c and block_opts.c; nothing else looks inside ------- */

/* the kernel's node mask: unsigned longs, PREALLOC_MAX_NODES bits */
#define MASK_LONGS (PREALLOC_MAX_NODES / (8 * sizeof(unsigned long)))
#define MAX_THREADS 256

struct rampool_block {
	struct rampool_pool *pool;
	struct backing b;
	uint64_t size, max_size, page_size;
	int node;			/* single node, or RAMPOOL_NODE_ANY */
	int mpol_mode;			/* MPOL_*, or -1 when unbound */
	uint64_t nodes[BITMAP_WORDS(PREALLOC_MAX_NODES)];
	unsigned long nodemask[MASK_LONGS];	/* nodes, as the kernel wants */
	cpu_set_t *cpus;		/* CPUs of the node(s), NULL: any */
	size_t cpus_size;
	unsigned int flags, threads;
	rampool_progress_fn progress;
	void *progress_data;
	uint64_t *populated;		/* one bit per page of max_size */
	uint64_t npages;
	atomic_bool cancel;
	atomic_bool *cancelp;		/* &cancel, or a pool-wide flag */
	struct ledger *ledger;		/* open while the block has a row */
	bool no_page;			/* its making found no hugetlb page */
	int64_t ledger_id;		/* its row in the ledger */
	/* block_discard.c: hugetlb pages whose reservation is gone (a failed
	 * re-reservation, RAMPOOL_DISCARD_RELEASE); NULL until one is */
	uint64_t *owed;
	/* over a reservation's min_size mount: punched pages go back to its
	 * reserve by themselves (fact 4) */
	bool res_mount;
	struct block_pc *pc;		/* postcopy (block_uffd.c), or NULL */
};

/* The base page: 4 KiB on x86, 4/16/64 KiB on arm64. */
static inline uint64_t block_base_page(void)
{
	return (uint64_t)sysconf(_SC_PAGESIZE);
}

struct topo;
struct ledger;

/* Logs "block: ..." at ERR; returns -EINVAL. */
__attribute__((format(printf, 2, 3)))
int block_bad(struct rampool_pool *pool, const char *fmt, ...);
/* The caller's options, only as far as its sz reaches; -EINVAL. */
int block_read_opts(const struct rampool_block_opts *opts,
		    struct rampool_block_opts *o);
/* Checks o against the topology and fills the block's fields. */
int block_check_opts(struct rampool_block *blk,
		     const struct rampool_block_opts *o, const struct topo *t);
/* Binds the block to nodes[] with policy: the mask, the mode, the CPUs. */
int block_set_nodes(struct rampool_block *blk, const struct topo *t,
		    const int *nodes, unsigned int nr_nodes,
		    enum rampool_policy policy);
/* Checks an attach spec (no nodes) and fills the block's fields. */
int block_check_attach(struct rampool_block *blk,
		       const struct block_attach_spec *s);

#endif
