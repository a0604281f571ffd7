/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* scrub.h: zero every byte of a populated backing file, in threads bound to its node, keeping its pages. */
#ifndef RP_SCRUB_H
#define RP_SCRUB_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "log.h"

/* The calls scrub makes; unit tests swap them to drive error paths. */
struct scrub_ops {
	void *(*mmap)(void *addr, size_t len, int prot, int flags, int fd,
		      off_t off);
	int (*munmap)(void *addr, size_t len);
	int (*madvise)(void *addr, size_t len, int advice);
	int (*fallocate)(int fd, int mode, off_t off, off_t len);
	int (*fstat)(int fd, struct stat *st);
	int (*pthread_create)(pthread_t *t, const pthread_attr_t *attr,
			      void *(*fn)(void *), void *arg);
	int (*pthread_join)(pthread_t t, void **ret);
	/* raw set_mempolicy(2): 0 or -1 with errno; maxnode as the kernel's */
	long (*set_mempolicy)(int mode, const unsigned long *nodemask,
			      unsigned long maxnode);
	int (*sched_setaffinity)(pid_t pid, size_t size, const cpu_set_t *set);
};

extern const struct scrub_ops scrub_default_ops;

enum scrub_method {
	/* MADV_POPULATE_WRITE then memset 0 through a MAP_SHARED mapping */
	SCRUB_ZERO = 0,
	/* the same with non-temporal stores (x86-64; elsewhere: SCRUB_ZERO) */
	SCRUB_ZERO_NT,
	/*
	 * fallocate(PUNCH_HOLE | KEEP_SIZE) then fallocate(0) of each
	 * sub-chunk, in one thread (both hold the inode lock). The kernel
	 * zeroes the pages it hands back. In a min_size hugetlbfs mount the
	 * punched pages go to the mount's own reserve and the refill takes
	 * them back (DESIGN facts 4, 13): nobody else can get them between.
	 * Elsewhere (a plain hugetlbfs mount, tmpfs) the window is open:
	 * another process may take the pages and the refill fails -ENOMEM.
	 */
	SCRUB_PUNCH_REFILL,
};

struct scrub_opts {
	/*
	 * Zeroing threads: 0: one per CPU of cpus (or online CPU), at most
	 * 16; never more than pages; > 256: -EINVAL. PUNCH_REFILL: always 1.
	 */
	unsigned int threads;
	/* CPUs to run on (the node's), NULL: any; failure: WARN, ignored */
	const cpu_set_t *cpus;
	size_t cpus_size;	/* bytes of *cpus; 0: sizeof(cpu_set_t) */
	/*
	 * The threads' memory policy (set_mempolicy: mode, nodemask of
	 * maxnode bits, at most 1024); mode < 0: leave it. A page the
	 * scrub has to allocate (a hole, a refill) follows it (DESIGN 5b).
	 */
	int mpol_mode;
	const unsigned long *nodemask;
	unsigned long maxnode;
	/* bytes zeroed so far, serialized under a lock, from the threads */
	void (*progress)(void *data, uint64_t done, uint64_t total);
	void *progress_data;
	/* set from any thread: -ECANCELED at the next sub-chunk */
	atomic_bool *cancel;
	/* sub-chunk between progress and cancel checks; 0: 64 MiB */
	uint64_t chunk;
};

/*
 * Zeroes bytes [0, len) of the file fd (opened O_RDWR, at least len long)
 * whose pages are page_size (hugetlb: a hugetlbfs file). Returns 0 only
 * when every byte of the range reads zero; otherwise the file is dirty
 * (some bytes may still hold old data) and the caller must not hand it
 * out:
 *  -ECANCELED  *cancel was set;
 *  -ENOMEM     no page for a hole or a refill (the hugetlb pool or the
 *              mount's reserve is empty, tmpfs full);
 *  -EINVAL     bad request (len 0 or unaligned, page size not a power of
 *              two, threads > 256, maxnode too big, unknown method, file
 *              shorter than len): logged, nothing done;
 *  -EAGAIN     a thread could not be started (nothing zeroed);
 *  other negative errnos of mmap, fstat, fallocate, set_mempolicy
 *  (logged). Never aborts; a process killed mid-scrub leaves a file that
 *  is still dirty (the state is the caller's to write first).
 * SCRUB_ZERO keeps the file's pages where they are (holes are filled
 * first, on the policy's node); PUNCH_REFILL gets new pages from the
 * kernel, placed by the policy: check placement after it. After a
 * PUNCH_REFILL that failed, the range may have holes (hugetlbfs keeps what
 * the refill got: DESIGN fact 2).
 * ops NULL: scrub_default_ops, opts NULL: defaults (mode -1). Thread
 * safe; scrubs of different files may run at once.
 */
int scrub_file(int fd, uint64_t len, uint64_t page_size, bool hugetlb,
	       enum scrub_method m, const struct scrub_opts *opts,
	       const struct scrub_ops *ops, const struct rp_log *log);

#endif
