/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* prealloc.h: populate a mapped range, fast and SIGBUS-safe, on the right node. */
#ifndef RP_PREALLOC_H
#define RP_PREALLOC_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "log.h"

/* The calls prealloc makes; unit tests swap them to drive error paths. */
struct prealloc_ops {
	int (*madvise)(void *addr, size_t len, int advice);
	int (*fallocate)(int fd, int mode, off_t off, off_t len);
	int (*pthread_create)(pthread_t *t, const pthread_attr_t *attr,
			      void *(*fn)(void *), void *arg);
	int (*pthread_join)(pthread_t t, void **ret);
	/*
	 * set_mempolicy(2) and move_pages(2), raw: 0 or -1 with errno.
	 * maxnode is the kernel's: one more than the bits of the mask (the
	 * kernel reads maxnode - 1 bits, as libnuma knows).
	 */
	long (*set_mempolicy)(int mode, const unsigned long *nodemask,
			      unsigned long maxnode);
	long (*move_pages)(int pid, unsigned long count, void **pages,
			   const int *nodes, int *status, int flags);
	int (*sched_setaffinity)(pid_t pid, size_t size, const cpu_set_t *set);
	int (*mincore)(void *addr, size_t len, unsigned char *vec);
};

extern const struct prealloc_ops prealloc_default_ops;

enum prealloc_method {
	PREALLOC_AUTO = 0,	/* the fastest honest path for the backing */
	PREALLOC_FALLOCATE,	/* fallocate the file range (shared files) */
	PREALLOC_POPULATE,	/* MADV_POPULATE_WRITE in threads */
	PREALLOC_TOUCH,		/* read+write one byte per page, SIGBUS-safe */
};

/* Longest node mask prealloc passes to the kernel (bits). */
#define PREALLOC_MAX_NODES 1024

struct prealloc_req {
	void *addr;		/* start of the range in this process */
	uint64_t len;		/* bytes, a multiple of page_size */
	uint64_t page_size;
	int fd;			/* backing file, -1 if none */
	uint64_t fd_offset;	/* file offset of addr */
	bool hugetlb;		/* hugetlb backing (fallocate ignores mbind) */
	bool file_backed;	/* fd is a shared file: fallocate is allowed */
	enum prealloc_method method;
	/* after fallocate, also MADV_POPULATE_WRITE the page tables */
	bool page_tables;
	/*
	 * 0: one per CPU in cpus (or online CPU), at most 16; never more
	 * than pages; > 256: -EINVAL. Each takes a contiguous run of pages.
	 */
	unsigned int threads;
	/*
	 * CPUs to run on (the node's), NULL: any. Pinning only speeds things
	 * up (placement follows the memory policy and is checked afterwards),
	 * so a failing sched_setaffinity is logged at WARN and ignored.
	 */
	const cpu_set_t *cpus;
	size_t cpus_size;	/* bytes of *cpus (CPU_ALLOC_SIZE); 0: sizeof(cpu_set_t) */
	/*
	 * The memory policy the populating threads take with set_mempolicy
	 * (mode MPOL_*, nodemask of maxnode bits, maxnode at most
	 * PREALLOC_MAX_NODES); mode < 0: leave the thread's policy alone.
	 * Needed for hugetlb fallocate, which ignores the mapping's mbind
	 * (DESIGN fact 5b). A failing set_mempolicy fails the run with its
	 * errno (logged at ERR).
	 */
	int mpol_mode;
	const unsigned long *nodemask;
	unsigned long maxnode;
	/*
	 * Bytes done so far (a running total, strictly increasing, ending at
	 * len on success), called after each sub-chunk from the populating
	 * threads, serialized under a lock: keep it short, and do not call
	 * prealloc_run from it.
	 */
	void (*progress)(void *data, uint64_t done, uint64_t total);
	void *progress_data;
	/* set from any thread: -ECANCELED at the next sub-chunk (touch: 1 MiB) */
	atomic_bool *cancel;
	/*
	 * Sub-chunk: the unit of work between progress reports and checks
	 * for cancellation or another thread's error. 0: 64 MiB; rounded
	 * down to a multiple of page_size, at least one page.
	 */
	uint64_t chunk;
};

/*
 * Populates [addr, addr + len). Returns 0, or:
 *  -ENOMEM      the kernel ran out of pages (hugetlb pool, tmpfs full,
 *               SIGBUS on touch, MADV_POPULATE_WRITE EFAULT/ENOMEM,
 *               fallocate ENOSPC);
 *  -EHWPOISON   a hardware memory error was hit while touching;
 *  -ECANCELED   *cancel was set;
 *  -EINVAL      bad request (unaligned, len 0, page size not a power of
 *               two, threads > 256, FALLOCATE without fd, maxnode too
 *               big; logged), or MADV_POPULATE_WRITE refused a mapping
 *               that cannot be written;
 *  -EAGAIN      a thread could not be started (the started ones are
 *               joined; nothing was populated);
 *  other negative errnos from the kernel (set_mempolicy's, logged).
 * ops NULL: prealloc_default_ops.
 *
 * How: PREALLOC_AUTO is POPULATE for hugetlb with more than one thread
 * (fallocate holds the inode lock: threads would take turns), else
 * FALLOCATE for a file_backed request with an fd, else POPULATE.
 * FALLOCATE (mode 0, [fd_offset, fd_offset + len)) falls back to POPULATE
 * where the file system lacks it (EOPNOTSUPP); with
 * page_tables each sub-chunk is then also MADV_POPULATE_WRITE'd (progress
 * counts a sub-chunk once, when both are done). POPULATE falls back to
 * TOUCH when the kernel lacks MADV_POPULATE_WRITE (before 5.14); on a
 * kernel that has it, EINVAL means a mapping that cannot be written
 * (touching would SIGSEGV) and is returned. Logged at INFO, once a run.
 * All methods run in threads that are started together, pinned to cpus
 * and bound with set_mempolicy, each over a contiguous run of pages; a
 * thread stops at its next sub-chunk once another failed (first error
 * wins) or *cancel is set. EINTR is retried.
 *
 * On failure, pages populated before the failure stay populated: the caller
 * knows the backing and releases them (hugetlbfs keeps pages fallocate got
 * even when it fails: DESIGN fact 2). *done, if given, gets the bytes known
 * populated (all of len on success): the sub-chunks completed, plus for
 * TOUCH the pages touched before the fault. Pages of the sub-chunks that
 * were in flight may be populated too (the kernel keeps what
 * MADV_POPULATE_WRITE or hugetlbfs fallocate got before failing): release
 * the whole range, not just *done bytes.
 *
 * Thread safe; any number of runs may go on at once (TOUCH shares the
 * process-wide SIGBUS handler below).
 */
int prealloc_run(const struct prealloc_req *req, const struct prealloc_ops *ops,
		 const struct rp_log *log, uint64_t *done);

/*
 * Asks the kernel which node holds each page of [addr, addr + len)
 * (move_pages with no target). counts[n] gets the number of pages on node
 * n for n < nr_counts; *absent the pages not present (or in error);
 * *off_node the present pages not on a node of the mask (nodemask of
 * maxnode bits; NULL: 0). Asks 1024 pages a call. 0, -EINVAL (unaligned),
 * or move_pages' errno (-ENOSYS: a kernel without NUMA). ops NULL:
 * prealloc_default_ops.
 */
int prealloc_placement(void *addr, uint64_t len, uint64_t page_size,
		       const unsigned long *nodemask, unsigned long maxnode,
		       const struct prealloc_ops *ops, uint64_t *counts,
		       unsigned int nr_counts, uint64_t *absent,
		       uint64_t *off_node);

/*
 * Pages smaller than this are checked one per stride bytes (and the last
 * one): mapping every 4K page only to ask where it is costs more than
 * populating it (bench/README.md). Placement of such pages follows the
 * shared policy of the inode (mbind before any page, DESIGN 5b) and, for
 * MPOL_BIND, never falls back off the mask: what goes wrong goes wrong for
 * every page, and a sample sees it.
 */
#define PREALLOC_PLACEMENT_STRIDE (2ULL << 20)

/*
 * Maps the pages of [addr, addr + len) that it asks about
 * (MADV_POPULATE_READ, so pages fallocate put in the file are seen) and
 * asks where they are: every page when page_size is at least the stride,
 * else a sample (above). *seen gets the pages asked, *absent and *off_node
 * as prealloc_placement's. 0, -ENOMEM (MADV_POPULATE_READ's EFAULT: no
 * page), madvise's or move_pages' errno; logged. ops NULL:
 * prealloc_default_ops.
 */
int prealloc_sample_placement(void *addr, uint64_t len, uint64_t page_size,
			      const unsigned long *nodemask,
			      unsigned long maxnode,
			      const struct prealloc_ops *ops,
			      const struct rp_log *log, uint64_t *absent,
			      uint64_t *off_node, uint64_t *seen);

/*
 * Touches one byte per page of [addr, addr + len) (read, then written back)
 * in the calling thread, which must hold prealloc_sigbus_get(). Returns 0,
 * -ENOMEM (SIGBUS: no page), -EHWPOISON or -ECANCELED (*cancel, checked
 * every 1 MiB); *touched gets the bytes touched before it stopped.
 */
int prealloc_touch(void *addr, uint64_t len, uint64_t page_size,
		   atomic_bool *cancel, uint64_t *touched);

/*
 * The process-wide SIGBUS handler used by PREALLOC_TOUCH. Installed on the
 * first user and removed (the previous handler put back) by the last, under
 * a mutex. A SIGBUS on a thread that is not touching pages goes to the
 * handler that was installed before (VMMs have their own) with the same
 * arguments; it runs inside rampool's handler, so its own sa_flags
 * (SA_ONSTACK, SA_RESETHAND, SA_NODEFER) and sa_mask do not apply. A hardware memory error (BUS_MCEERR_*) hit while
 * touching is first shown to the previous handler when that is a function
 * (so a VMM learns of the poisoned page), then the touch stops with
 * -EHWPOISON. A SIGBUS sent by a process (si_code <= 0) always goes to the
 * previous handler, even on a touching thread. When the previous
 * disposition is SIG_DFL the handler resets it and queues the signal again
 * with its siginfo, so the process dies as it would have. If someone
 * replaced the handler meanwhile, the last put leaves theirs in place.
 * Returns 0 or a negative errno from sigaction.
 */
int prealloc_sigbus_get(void);
void prealloc_sigbus_put(void);

#endif
