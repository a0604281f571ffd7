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
 *   Unknown trailing option bytes must be zero (else -EINVAL); info structs
 *   are filled up to min(sz, the library's size).
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
 * or empty sysroot); -ENOENT / -ENOTDIR the sysroot does not exist or is not
 * a directory; -ENOMEM.
 */
RAMPOOL_API int rampool_pool_new(const struct rampool_pool_opts *opts,
				 struct rampool_pool **out);
/* Frees the handle; NULL is accepted. */
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
 * Errors: -ENOENT a required file is missing; -EINVAL a file holds
 * something that is not what the kernel writes (garbage, truncation, a
 * number that overflows); -EIO / other read errors. The log callback gets
 * one ERR message naming the file and what is wrong with it. -ENOMEM.
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

RAMPOOL_API int rampool_capacity_host(const struct rampool_capacity *cap,
				      struct rampool_host_info *info);

#ifdef __cplusplus
}
#endif

#endif /* RAMPOOL_H */
