/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rampool.h: the public interface of librampool, the guest-RAM backing pool. */
#ifndef RAMPOOL_H
#define RAMPOOL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef RAMPOOL_API
#define RAMPOOL_API __attribute__((visibility("default")))
#endif

#define RAMPOOL_VERSION_MAJOR 0
#define RAMPOOL_VERSION_MINOR 1
#define RAMPOOL_VERSION_PATCH 0

/*
 * Conventions of the whole interface
 *
 * - Every fallible call returns 0 or a negative errno. On failure nothing
 *   was created and *out parameters are untouched.
 * - Sizes, offsets and page sizes are uint64_t bytes. Nodes are int; -1
 *   (RAMPOOL_NODE_ANY / RAMPOOL_NODE_ALL) means "any" or "all of them".
 * - Options and info structs start with a size field (sz) that the caller
 *   sets to sizeof(struct ...); fields may be appended in later versions.
 *   sz must be at least the size of the struct in version 0.1 (else
 *   -EINVAL). Option bytes past what this library knows must be zero
 *   (else -EINVAL); info structs are filled up to min(sz, the library's
 *   size) and zeroed beyond.
 * - The library has no global state except where a call says so. One pool
 *   handle may be used from several threads only if the caller serializes
 *   the calls on it; distinct handles are independent.
 * - The library never prints, never exits and never aborts on a failed
 *   allocation; it reports through the pool's log callback.
 */

#define RAMPOOL_NODE_ANY (-1)
#define RAMPOOL_NODE_ALL (-1)

/* A counter the kernel does not keep (e.g. hugetlb reservations per node). */
#define RAMPOOL_COUNT_UNKNOWN UINT64_MAX

/* Returns the library's version as "MAJOR.MINOR.PATCH". Thread safe. */
RAMPOOL_API const char *rampool_version(void);

/* ---- pool --------------------------------------------------------------- */

enum rampool_log_level {
	RAMPOOL_LOG_ERR = 3,
	RAMPOOL_LOG_WARN = 4,
	RAMPOOL_LOG_INFO = 6,
	RAMPOOL_LOG_DEBUG = 7,
};

/*
 * Called for each message at or below the pool's log_level (lower is more
 * severe). msg has no trailing newline and is valid only during the call.
 * It may be called from the threads that populate a block, several at
 * once: it must be thread safe.
 */
typedef void (*rampool_log_fn)(void *data, enum rampool_log_level level,
			       const char *msg);

struct rampool_pool_opts {
	size_t sz;		/* sizeof(struct rampool_pool_opts) */
	/*
	 * Root under which every kernel file is read (proc/, sys/): "/" or
	 * NULL for the running kernel, or a recorded tree. When NULL the
	 * environment variable RAMPOOL_SYSROOT is used if set.
	 */
	const char *sysroot;
	/*
	 * Directory of the host-wide ledger. NULL: RAMPOOL_STATE_DIR if set,
	 * else /run/rampool. Not touched by rampool_pool_new.
	 */
	const char *state_dir;
	rampool_log_fn log_fn;	/* NULL: no logging */
	void *log_data;		/* passed to log_fn */
	int log_level;		/* 0: RAMPOOL_LOG_WARN */
};

struct rampool_pool;

/*
 * Makes a pool handle. opts may be NULL (all defaults). The strings in opts
 * are copied.
 *
 * Errors: -EINVAL bad opts (sz too small, non-zero unknown fields, relative
 * or empty sysroot or state dir, log_level above RAMPOOL_LOG_DEBUG) or out
 * NULL; -ENOENT / -ENOTDIR the sysroot does not exist or is not a
 * directory; other stat(2) errors on it (-EACCES, -ELOOP, -ENAMETOOLONG);
 * -ENOMEM. The log callback (when given) says which.
 */
RAMPOOL_API int rampool_pool_new(const struct rampool_pool_opts *opts,
				 struct rampool_pool **out);
/*
 * Frees the handle; NULL is accepted. Blocks made from the pool must be
 * freed first (they log through it); capacity snapshots may outlive it.
 */
RAMPOOL_API void rampool_pool_free(struct rampool_pool *pool);
/* The sysroot and state directory in force (never NULL). */
RAMPOOL_API const char *rampool_pool_sysroot(const struct rampool_pool *pool);
RAMPOOL_API const char *rampool_pool_state_dir(const struct rampool_pool *pool);

/* ---- capacity: the kernel's counters, one consistent snapshot ----------- */

struct rampool_capacity;

/*
 * Reads the kernel's view of memory: NUMA nodes and their CPUs and memory,
 * every hugepage size with its counters per node and globally, and the
 * hugetlbfs mounts. The snapshot does not change after the call.
 *
 * Files are read one by one; on the running kernel a pool resized between
 * two reads is read again (up to 5 times, then -EAGAIN). The snapshot owns
 * its memory and may outlive the pool.
 *
 * Errors: -ENOENT a required file is missing; -EINVAL a file holds
 * something that is not what the kernel writes (garbage, truncation, a
 * number that overflows, free pages above the total); -EFBIG a file over
 * 4 MiB; -EACCES, -EIO and other open/read errors; -EAGAIN see above;
 * -ENOMEM. The log callback gets one ERR message naming the file and what
 * is wrong with it.
 */
RAMPOOL_API int rampool_capacity_get(struct rampool_pool *pool,
				     struct rampool_capacity **out);
RAMPOOL_API void rampool_capacity_free(struct rampool_capacity *cap);

/* Node flags */
#define RAMPOOL_NODE_F_ONLINE		(1u << 0)
#define RAMPOOL_NODE_F_HAS_MEMORY	(1u << 1)
#define RAMPOOL_NODE_F_HAS_CPU		(1u << 2)
#define RAMPOOL_NODE_F_HAS_NORMAL_MEMORY (1u << 3)

struct rampool_node_info {
	size_t sz;		/* set by the caller */
	int node;
	unsigned int flags;	/* RAMPOOL_NODE_F_* */
	uint64_t mem_total;	/* bytes, node meminfo MemTotal */
	uint64_t mem_free;	/* MemFree */
	/*
	 * An estimate of what can be allocated on the node without swapping:
	 * MemFree + half of the file-backed LRU (Active(file) +
	 * Inactive(file)) + half of SReclaimable. The kernel publishes
	 * MemAvailable only host-wide; this per-node figure is deliberately
	 * lower than the kernel's (it ignores watermarks and counts only half
	 * of what reclaim may free).
	 */
	uint64_t mem_available;
	uint64_t shmem;		/* Shmem (tmpfs and memfd pages, not hugetlb) */
	unsigned int nr_cpus;	/* CPUs in cpulist */
	const char *cpulist;	/* e.g. "0-1,4"; "" for a CPU-less node; valid
				 * while the capacity snapshot lives */
};

/* Nodes in ascending order; idx < rampool_capacity_node_count(). */
RAMPOOL_API unsigned int
rampool_capacity_node_count(const struct rampool_capacity *cap);
/* -ERANGE idx out of range; -EINVAL bad info->sz. */
RAMPOOL_API int rampool_capacity_node(const struct rampool_capacity *cap,
				      unsigned int idx,
				      struct rampool_node_info *info);

/* Hugepage sizes the kernel supports, ascending. */
RAMPOOL_API unsigned int
rampool_capacity_page_size_count(const struct rampool_capacity *cap);
/* 0 when idx is out of range. */
RAMPOOL_API uint64_t
rampool_capacity_page_size(const struct rampool_capacity *cap,
			   unsigned int idx);

struct rampool_hugepage_info {
	size_t sz;		/* set by the caller */
	int node;		/* a node, or RAMPOOL_NODE_ALL for the host */
	uint64_t page_size;	/* bytes */
	uint64_t total_pages;	/* nr_hugepages (persistent + surplus) */
	uint64_t free_pages;	/* free_hugepages (includes reserved ones) */
	uint64_t surplus_pages;	/* surplus_hugepages */
	/*
	 * resv_hugepages and nr_overcommit_hugepages: host-wide only. For a
	 * node they are RAMPOOL_COUNT_UNKNOWN: the kernel keeps reservations
	 * globally and picks the node at fault time.
	 */
	uint64_t resv_pages;
	uint64_t overcommit_pages;
};

/*
 * Counters of one page size on one node (or node == RAMPOOL_NODE_ALL for the
 * host-wide ones). Errors: -ENOENT no such node or page size; -EINVAL bad
 * info->sz.
 */
RAMPOOL_API int
rampool_capacity_hugepages(const struct rampool_capacity *cap, int node,
			   uint64_t page_size,
			   struct rampool_hugepage_info *info);

struct rampool_mount_info {
	size_t sz;		/* set by the caller */
	const char *path;	/* mount point, valid while the snapshot lives */
	uint64_t page_size;	/* bytes */
	const char *fstype;	/* "hugetlbfs" */
};

/* hugetlbfs mounts in /proc/mounts order. */
RAMPOOL_API unsigned int
rampool_capacity_mount_count(const struct rampool_capacity *cap);
RAMPOOL_API int rampool_capacity_mount(const struct rampool_capacity *cap,
				       unsigned int idx,
				       struct rampool_mount_info *info);

/* Host-wide memory from /proc/meminfo, bytes. */
struct rampool_host_info {
	size_t sz;		/* set by the caller */
	uint64_t mem_total;
	uint64_t mem_free;
	uint64_t mem_available;	/* the kernel's MemAvailable */
	uint64_t shmem;
	uint64_t default_page_size; /* Hugepagesize */
};

/* -EINVAL info NULL or info->sz too small. */
RAMPOOL_API int rampool_capacity_host(const struct rampool_capacity *cap,
				      struct rampool_host_info *info);


/* ---- blocks: RAM a VMM maps, on the right node, preallocated ------------ */

enum rampool_backing {
	/* memfd on shmem, 4 KiB pages; sealed against shrink/grow */
	RAMPOOL_BACKING_MEMFD = 1,
	/* memfd with MFD_HUGETLB and the page size encoded; sealed */
	RAMPOOL_BACKING_MEMFD_HUGETLB,
	/* an unlinked file in a hugetlbfs mount (dir, or one found for the
	 * page size through libhugetlbfs) */
	RAMPOOL_BACKING_HUGETLBFS,
	/* an unlinked file in a tmpfs directory (dir, or /dev/shm) */
	RAMPOOL_BACKING_TMPFS,
};

enum rampool_policy {
	RAMPOOL_POLICY_BIND = 0,	/* strict: only these nodes (default) */
	RAMPOOL_POLICY_PREFERRED,	/* the node first, others when short */
	RAMPOOL_POLICY_INTERLEAVE,	/* round robin over the node list */
};

/* Block flags */
/* populate the whole block (size bytes) before rampool_block_new returns */
#define RAMPOOL_BLOCK_PREALLOC		(1u << 0)
/* leave a memfd unsealed (by default F_SEAL_SHRINK | F_SEAL_GROW) */
#define RAMPOOL_BLOCK_NO_SEAL		(1u << 1)
/* populate by touching each page under a SIGBUS handler */
#define RAMPOOL_BLOCK_FORCE_TOUCH	(1u << 2)
/*
 * Map with MAP_NORESERVE: the kernel reserves no hugetlb pages at mmap and
 * a shortage shows up as SIGBUS at fault time. Never the default; for
 * testing the fallback and for callers that reserve by other means.
 */
#define RAMPOOL_BLOCK_NORESERVE		(1u << 3)
/* after fallocate, also populate the page tables (MADV_POPULATE_WRITE) */
#define RAMPOOL_BLOCK_PAGE_TABLES	(1u << 4)

typedef void (*rampool_progress_fn)(void *data, uint64_t done,
				    uint64_t total);

struct rampool_block_opts {
	size_t sz;		/* sizeof(struct rampool_block_opts) */
	uint64_t size;		/* used length, bytes, a multiple of page_size */
	uint64_t max_size;	/* mapped and file length; 0: size */
	/*
	 * 0: 4 KiB for MEMFD/TMPFS, the kernel's default hugepage size for
	 * the hugetlb backings. Must be one the kernel lists.
	 */
	uint64_t page_size;
	enum rampool_backing backing;	/* 0: RAMPOOL_BACKING_MEMFD */
	/*
	 * The nodes to place the block on, with policy; nr_nodes == 0 (a
	 * zeroed struct) leaves placement to the kernel. One node:
	 * .nodes = (int[]){ 1 }, .nr_nodes = 1.
	 */
	const int *nodes;
	unsigned int nr_nodes;
	enum rampool_policy policy;
	unsigned int flags;	/* RAMPOOL_BLOCK_* */
	/* populating threads: 0 = one per CPU of the node (at most 16),
	 * at most 256 */
	unsigned int threads;
	const char *dir;	/* HUGETLBFS / TMPFS: directory for the file */
	const char *name;	/* memfd or file name prefix; NULL: "rampool" */
	rampool_progress_fn progress;	/* bytes populated so far */
	void *progress_data;
};

struct rampool_block;

/*
 * Creates a RAM block: the backing object (fd kept open), a MAP_SHARED
 * mapping of max_size bytes bound to the node(s) before any page is
 * populated, and with RAMPOOL_BLOCK_PREALLOC its first size bytes
 * populated and placement-checked.
 *
 * Errors (nothing is left behind for any of them: no mapping, no fd, no
 * file, no page, the kernel's counters as before the call):
 *  -EINVAL  bad options: size 0 or not a multiple of the page size, a page
 *           size the kernel lacks, max_size < size, a size that overflows,
 *           a node out of range, offline or memoryless, threads > 256, ...
 *           (the log callback says which);
 *  -ENOMEM  not enough memory: for hugetlb, the kernel could not reserve
 *           max_size at mmap, or population ran short (all nodes counted
 *           only as the policy allows);
 *  -EXDEV   RAMPOOL_POLICY_BIND and the kernel placed pages off the nodes;
 *  -EHWPOISON  a hardware memory error while touching;
 *  -ENOENT  no hugetlbfs mount for the page size (HUGETLBFS without dir),
 *           or dir does not exist;
 *  -EINVAL  also: dir is not hugetlbfs of that page size / not tmpfs;
 *  -EOPNOTSUPP  the pool reads a recorded tree (sysroot other than /);
 *  -EAGAIN  a populating thread could not be started, or the hugepage
 *           counters kept changing while the topology was read;
 *  others from the kernel (-EACCES on dir, -EMFILE, ...).
 * rampool_block_cancel cannot reach a block being made (the caller has no
 * handle yet): to make a large block cancellable, create it without
 * PREALLOC and call rampool_block_populate.
 */
RAMPOOL_API int rampool_block_new(struct rampool_pool *pool,
				  const struct rampool_block_opts *opts,
				  struct rampool_block **out);

/*
 * Populates [offset, offset + len) of the block (page aligned, within
 * max_size) with the block's method, then checks placement. On failure the
 * pages this call populated that were not populated before are released
 * again (data already there is kept), and the errors are those of
 * rampool_block_new plus -ECANCELED (rampool_block_cancel). On hugetlb the
 * released pages' reservation is taken back at once (a punched range
 * loses it, DESIGN fact 3); if someone took the pages in between, the log
 * says so and those pages are no longer guaranteed. Not thread safe
 * against other calls on the block except rampool_block_cancel and the
 * getters of values fixed at creation (fd, addr, sizes, node).
 */
RAMPOOL_API int rampool_block_populate(struct rampool_block *block,
				       uint64_t offset, uint64_t len);

/* Makes a populate running in another thread stop with -ECANCELED soon.
 * Async-signal-safe and thread safe. */
RAMPOOL_API void rampool_block_cancel(struct rampool_block *block);

/* Unmaps, closes and removes the backing; NULL is accepted. */
RAMPOOL_API void rampool_block_free(struct rampool_block *block);

/* The backing fd (e.g. for vhost-user); owned by the block. */
RAMPOOL_API int rampool_block_fd(const struct rampool_block *block);
RAMPOOL_API void *rampool_block_addr(const struct rampool_block *block);
RAMPOOL_API uint64_t rampool_block_size(const struct rampool_block *block);
RAMPOOL_API uint64_t
rampool_block_max_size(const struct rampool_block *block);
RAMPOOL_API uint64_t
rampool_block_page_size(const struct rampool_block *block);
/* The node when the block has exactly one, else RAMPOOL_NODE_ANY. */
RAMPOOL_API int rampool_block_node(const struct rampool_block *block);
/* Bytes of the block rampool has populated and not released. */
RAMPOOL_API uint64_t
rampool_block_populated(const struct rampool_block *block);

#ifdef __cplusplus
}
#endif

#endif /* RAMPOOL_H */
