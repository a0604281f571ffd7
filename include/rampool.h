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
#define RAMPOOL_VERSION_MINOR 5
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
	/*
	 * The VMMs' service group that may read the ledger and record its
	 * own blocks. NULL: RAMPOOL_GROUP if set, else "rampool" when that
	 * group exists, else root alone. (Appended in 0.2.)
	 */
	const char *group;
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
 *  -EINVAL  also: dir is not hugetlbfs of that page size / not tmpfs, or
 *           a file backing's name has a '/';
 *  -ENAMETOOLONG  name over 238 bytes (file backings) or 249 (memfd), or
 *           dir over PATH_MAX; nothing is made anywhere;
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

/* ---- discard: pages back to the kernel, the capacity kept (0.3) -------- */

/* Discard flags */
/*
 * Let the kernel have the pages and their reservation: the range becomes
 * owed. Refused (-EOPNOTSUPP) on a reservation's hugetlb block, whose
 * mount keeps its reserve whatever the caller does.
 */
#define RAMPOOL_DISCARD_RELEASE		(1u << 0)

/* rampool_block_discard's positive result: discarded, but owed pages */
#define RAMPOOL_DISCARD_OWED		1

/*
 * Gives the pages of [offset, offset + len) back (fallocate PUNCH_HOLE on
 * the block's file: a later touch or UFFDIO_COPY finds them missing, as
 * postcopy needs) and keeps the capacity where the kernel can:
 *  - hugetlb: the kernel reservation stands for the range (a
 *    reservation's min_size mount keeps it by itself; any other hugetlb
 *    block takes it back at once with one more MAP_SHARED mapping of the
 *    range, DESIGN facts 3-4), unless RAMPOOL_DISCARD_RELEASE. A window
 *    remains between the punch and the re-reservation: when someone took
 *    the pages in it, those pages are owed and the call returns
 *    RAMPOOL_DISCARD_OWED (positive: the discard itself was done).
 *  - shmem (4K): the kernel keeps no reservation: the range is owed.
 * The range leaves the block's populated pages, and a block recorded in
 * the ledger has its row's populated figure updated (status, show).
 * Nothing may touch a discarded range but its user (DESIGN fact 7).
 *
 * 0 (held, or released as asked), RAMPOOL_DISCARD_OWED, or: -EINVAL len
 * 0, offset or len not page aligned, a range past max_size, unknown flags
 * (nothing changed); -EOPNOTSUPP RELEASE on a reservation's hugetlb block
 * (nothing changed); -ENOMEM (nothing changed); the punch's errnos
 * (nothing changed). Logged. Not thread safe against other calls on the
 * block (as populate).
 */
RAMPOOL_API int rampool_block_discard(struct rampool_block *block,
				      uint64_t offset, uint64_t len,
				      unsigned int flags);

struct rampool_block_info {
	size_t sz;		/* set by the caller */
	uint64_t size, max_size, page_size;
	int node;		/* as rampool_block_node */
	uint64_t populated;	/* as rampool_block_populated */
	/* bytes the kernel guarantees: populated, or reserved (hugetlb) */
	uint64_t held;
	uint64_t owed;		/* max_size - held: promised, not guaranteed */
	/* held on a single-node block but not on the node (fact 5) */
	uint64_t unpinned;
	/* 0.4: RAMPOOL_POSTCOPY_MODE_*: prepared and not ended, in which mode */
	unsigned int postcopy_mode;
};

/* rampool_block_info's postcopy_mode */
#define RAMPOOL_POSTCOPY_MODE_NONE	0	/* not a postcopy destination */
#define RAMPOOL_POSTCOPY_MODE_DISCARD	1	/* pages discarded, UFFDIO_COPY */
#define RAMPOOL_POSTCOPY_MODE_KEEP	2	/* RAMPOOL_POSTCOPY_KEEP_PAGES */

/* The block's figures. -EINVAL block or info NULL, info->sz too small. */
RAMPOOL_API int rampool_block_info(const struct rampool_block *block,
				   struct rampool_block_info *info);

/* ---- reservations: named capacity, held by the kernel, in the ledger ---- */

/*
 * A reservation is a named claim on capacity, recorded in the host-wide
 * ledger (an SQLite file in the pool's state directory) that every process
 * on the host goes through. Names match [A-Za-z0-9][A-Za-z0-9._-]{0,63}.
 *
 * A hugetlb reservation gets its own hugetlbfs mount under the state
 * directory (pagesize, min_size = size = its size plus extra), so the
 * kernel keeps its pages reserved to it through punches (a VMM's postcopy
 * discard) and refuses growth past it (DESIGN facts 4, 13, 14). The backing
 * file inside is owned by the owner, mode 0600. A shmem reservation is a
 * file in a tmpfs directory of the pool; the kernel reserves nothing for
 * shmem, so its unpopulated bytes are owed, not held.
 *
 * Who may use the ledger: root writes everything; members of the pool's
 * service group (rampool_pool_opts.group, RAMPOOL_GROUP, default
 * "rampool" when that group exists) may read it and record their own
 * blocks; making a reservation needs CAP_SYS_ADMIN (it mounts). Anyone
 * else gets -EACCES and the blocks they make are reported as foreign by
 * rampool_audit.
 *
 * Every call below opens the ledger, undoes the rows of owners that died
 * (their files and mounts removed) and works in one BEGIN IMMEDIATE
 * transaction for each capacity decision. None is async-signal-safe; calls
 * on one pool handle must be serialized by the caller.
 */

#define RAMPOOL_NAME_MAX 64

enum rampool_res_backing {
	RAMPOOL_RES_HUGETLB = 1,	/* hugetlb pages in a min_size mount */
	RAMPOOL_RES_SHMEM,		/* 4 KiB shmem pages in a tmpfs file */
};

/* one node's share of a reservation */
struct rampool_res_node {
	int node;
	uint64_t size;		/* bytes, a multiple of the page size */
};

/* Reservation flags */
/* populate every page on its node(s) now and check placement */
#define RAMPOOL_RES_PREALLOC		(1u << 0)
/* spread the pages round robin over nodes[] (sizes then ignored: size
 * is split evenly) */
#define RAMPOOL_RES_INTERLEAVE		(1u << 1)
/*
 * 0.5: with RAMPOOL_RES_PREALLOC, a clean slot of the warm pool of this
 * node, page size and size is taken when there is one (no page allocated
 * or zeroed: rampool_warm_set). This flag makes the call fail with
 * -ENOSPC instead of reserving cold when there is none.
 */
#define RAMPOOL_RES_WARM_ONLY		(1u << 2)
/*
 * 0.5: made from a declaration (poolctl apply, rampool.conf(5)): kept in
 * the ledger row and shown as RAMPOOL_RES_F_DECLARED, so the tool that
 * applies a file knows which reservations are its own to release or
 * report. Changes nothing else about the reservation.
 */
#define RAMPOOL_RES_DECLARED		(1u << 3)

struct rampool_reservation_opts {
	size_t sz;		/* sizeof(struct rampool_reservation_opts) */
	/*
	 * Total bytes, a multiple of page_size. With nodes[] that carry
	 * sizes it may be 0 (then the sum) or must equal the sum.
	 */
	uint64_t size;
	uint64_t page_size;	/* 0: the default hugepage size, 4K for shmem */
	enum rampool_res_backing backing;	/* 0: RAMPOOL_RES_HUGETLB */
	/*
	 * Where: nr_nodes == 0 any node; one entry: all of it on that node
	 * (the entry's size, or size when the entry's is 0); several
	 * entries with their sizes (all or nothing).
	 */
	const struct rampool_res_node *nodes;
	unsigned int nr_nodes;
	unsigned int flags;	/* RAMPOOL_RES_* */
	unsigned int threads;	/* populating threads, as for blocks */
	/* headroom the owner may grow into without a new check (seed 002) */
	uint64_t extra;
	/*
	 * Owner uid; 0 or -1: the caller's real uid (so a zeroed struct
	 * means the caller). Only root may name another.
	 */
	long long owner_uid;
	rampool_progress_fn progress;	/* while populating */
	void *progress_data;
};

/* Reservation states in the ledger */
#define RAMPOOL_RES_STATE_PENDING	1	/* being made; counted */
#define RAMPOOL_RES_STATE_READY		2

/* Reservation info flags */
/* the kernel reserves the pages globally, not on the node yet (not
 * populated): a strict-bound fault may still find its node empty */
#define RAMPOOL_RES_F_NODE_UNPINNED	(1u << 0)
/* a VMM's block recorded with its pid; goes with the process */
#define RAMPOOL_RES_F_BLOCK		(1u << 1)
/* 0.5: handed from the warm pool (a clean slot claimed) */
#define RAMPOOL_RES_F_WARM		(1u << 2)
/* 0.4: a block that is a postcopy destination now, its pages discarded
 * (rampool_block_prepare_postcopy) or, with _KEEP too, kept
 * (RAMPOOL_POSTCOPY_KEEP_PAGES) */
#define RAMPOOL_RES_F_POSTCOPY		(1u << 3)
#define RAMPOOL_RES_F_POSTCOPY_KEEP	(1u << 4)
/* 0.5: made with RAMPOOL_RES_DECLARED (by poolctl apply) */
#define RAMPOOL_RES_F_DECLARED		(1u << 5)

struct rampool_reservation_info {
	size_t sz;		/* set by the caller */
	/* strings valid while the list they came from lives */
	const char *name;
	const char *path;	/* the backing file; "" for a block */
	enum rampool_res_backing backing;
	int state;		/* RAMPOOL_RES_STATE_* */
	unsigned int flags;	/* RAMPOOL_RES_F_* */
	unsigned int owner_uid;
	int pid;		/* the owning process of a block, else 0 */
	uint64_t page_size;
	uint64_t size;		/* granted bytes the owner may use now */
	uint64_t extra;		/* headroom left to grow into */
	uint64_t held;		/* bytes the kernel guarantees */
	uint64_t owed;		/* promised, not guaranteed by the kernel */
	uint64_t populated;	/* bytes with pages in the file */
	int64_t created;	/* seconds since the epoch */
	unsigned int nr_nodes;	/* per-node entries (0: any node) */
	/* 0.4: a group's member (rampool_plan_reserve): its group and the
	 * RAM block it backs; "" otherwise */
	const char *group;
	const char *block;
};

struct rampool_reservation_node_info {
	size_t sz;		/* set by the caller */
	int node;		/* RAMPOOL_NODE_ANY: not bound to a node */
	uint64_t size;		/* granted on this node */
	uint64_t held;
	uint64_t owed;
	uint64_t populated;	/* placed and checked on the node */
	uint64_t unpinned;	/* held, but not yet on the node (fact 5) */
};

struct rampool_res_list;

/*
 * Reserves capacity under name. Granted only if it fits on every node
 * asked (all or nothing); with RAMPOOL_RES_PREALLOC the pages are then
 * populated on their node(s) and placement-checked outside the ledger's
 * lock (the row is pending meanwhile, its capacity counted).
 *
 * Errors (nothing left behind for any: no row, file, mount or page):
 *  -EINVAL   bad name, size, page size, node list, flags, owner;
 *  -EEXIST   a reservation of that name exists;
 *  -EBUSY    what a process that died making one of that name left is
 *            still in use (it goes once released; retry then);
 *  -ENOSPC   does not fit; rampool_pool_last_shortfall says where;
 *  -EACCES   the caller may not write the ledger;
 *  -EPERM    the caller is not root (a reservation mounts a file
 *            system of its own) or names another owner without being root;
 *  -EOPNOTSUPP the pool reads a recorded tree, not the running kernel;
 *  -EXDEV    a page landed off its node;
 *  -ECANCELED rampool_pool_cancel during population;
 *  -ENOMEM, -EIO and other errors of the kernel or SQLite.
 */
RAMPOOL_API int
rampool_reservation_new(struct rampool_pool *pool, const char *name,
			const struct rampool_reservation_opts *opts);

/*
 * After -ENOSPC from rampool_reservation_new/_grow: per node what was
 * asked, what could be granted and the shortfall (bytes). idx counts from
 * 0; -ERANGE past the last. Valid until the next call on the pool.
 */
struct rampool_shortfall {
	size_t sz;
	int node;		/* RAMPOOL_NODE_ANY: host-wide */
	uint64_t page_size;
	uint64_t need, grantable, short_by;
};
RAMPOOL_API int rampool_pool_last_shortfall(const struct rampool_pool *pool,
					    unsigned int idx,
					    struct rampool_shortfall *info);

/*
 * Releases a reservation: its pages, file, mount and row go; every page is
 * back in the kernel's free count. 0.5: except when the reservation has
 * the shape of a warm pool target that is short of slots (one node, no
 * extra, its exact size) and no process has its file open: then its
 * pages become a dirty warm slot, held, to be zeroed by
 * rampool_warm_fill. Root does it (it unmounts): another caller gets
 * -EPERM, the owner too. -ENOENT no such name; -EBUSY the reservation is
 * being made, or its file is still mapped or open by a process (the mount
 * cannot go): nothing changed.
 */
RAMPOOL_API int rampool_reservation_release(struct rampool_pool *pool,
					    const char *name);

/*
 * Grows the size by `by` bytes (a multiple of the page size). Within the
 * extra headroom no check is made; beyond it the same check as a new
 * reservation (-ENOSPC). A hugetlb mount's reserve cannot be resized
 * (DESIGN fact 14): growth beyond the headroom of a hugetlb reservation
 * that already holds pages is -EBUSY. Owner or root (-EPERM).
 */
RAMPOOL_API int rampool_reservation_grow(struct rampool_pool *pool,
					 const char *name, uint64_t by);

/*
 * Prints nothing: the backing file's path, copied into buf (-ERANGE when
 * len is too small; -ENOENT; -EPERM not the owner or root; -EBUSY still
 * being made). An owner who may not read the ledger finds it through the
 * file (-EACCES when the file's mode keeps the caller out).
 */
RAMPOOL_API int rampool_reservation_path(struct rampool_pool *pool,
					 const char *name, char *buf,
					 size_t len);

/*
 * Opens the reservation's file as a block mapped into this process (fd,
 * address, node, populated bytes through the block getters); frees with
 * rampool_block_free, which leaves the reservation and its pages. Owner or
 * root (-EPERM), -ENOENT.
 */
RAMPOOL_API int rampool_reservation_open(struct rampool_pool *pool,
					 const char *name,
					 struct rampool_block **out);

/*
 * Discards [offset, offset + len) of a reservation's file as
 * rampool_block_discard does (len 0: from offset to the end of the file,
 * size + extra bytes) and updates the ledger row's populated figures: a
 * hugetlb reservation stays held (its mount keeps the pages reserved) but
 * the range is no longer on its node (unpinned); a shmem reservation's
 * range becomes owed. Owner or root. Errors: those of
 * rampool_reservation_open (-ENOENT no such name or released, -EPERM,
 * -EBUSY being made) and of rampool_block_discard; nothing changed for
 * any. A failed ledger update after the discard is logged and returns
 * the ledger's errno (the pages are discarded; audit shows the drift).
 */
RAMPOOL_API int rampool_reservation_discard(struct rampool_pool *pool,
					    const char *name, uint64_t offset,
					    uint64_t len, unsigned int flags);

/* A snapshot of the ledger's rows (all, or one name: -ENOENT). */
RAMPOOL_API int rampool_reservation_list(struct rampool_pool *pool,
					 const char *name,
					 struct rampool_res_list **out);
RAMPOOL_API unsigned int
rampool_res_list_count(const struct rampool_res_list *list);
RAMPOOL_API int rampool_res_list_get(const struct rampool_res_list *list,
				     unsigned int idx,
				     struct rampool_reservation_info *info);
RAMPOOL_API int
rampool_res_list_node(const struct rampool_res_list *list, unsigned int idx,
		      unsigned int k,
		      struct rampool_reservation_node_info *info);
RAMPOOL_API void rampool_res_list_free(struct rampool_res_list *list);

/*
 * Makes a populate of rampool_reservation_new/_grow running on this pool
 * (another thread, or a signal handler's caller) stop with -ECANCELED.
 * Async-signal-safe.
 */
RAMPOOL_API void rampool_pool_cancel(struct rampool_pool *pool);

/* ---- the pool's share per node and page size (status) ------------------- */

struct rampool_pool_usage {
	size_t sz;
	int node;		/* RAMPOOL_NODE_ANY: not bound to a node */
	uint64_t page_size;
	uint64_t reserved;	/* granted to reservations and blocks */
	uint64_t held;
	uint64_t owed;
	uint64_t unpinned;	/* held globally, not yet on the node */
	uint64_t avail;		/* what a new reservation could get here */
	/* 0.5: bytes in warm slots (clean, dirty or filling): held by the
	 * pool, in no reservation, never free (not in reserved) */
	uint64_t warm;
};

/*
 * The ledger's rows summed per node and page size, with the figures
 * rampool_reservation_list gives each (reservation files measured), and
 * what a new reservation could be granted there now. A pool without a ledger yet gives zeros.
 * -EACCES the ledger is not readable.
 */
struct rampool_usage;
RAMPOOL_API int rampool_usage_get(struct rampool_pool *pool,
				  struct rampool_usage **out);
RAMPOOL_API unsigned int rampool_usage_count(const struct rampool_usage *u);
RAMPOOL_API int rampool_usage_at(const struct rampool_usage *u,
				 unsigned int idx,
				 struct rampool_pool_usage *info);
RAMPOOL_API void rampool_usage_free(struct rampool_usage *u);

/* ---- the warm pool: pre-zeroed capacity claimed at once (0.5) ------------ */

/*
 * A warm slot is one backing file already populated on its node and
 * zeroed, kernel-held like a reservation (its own min_size hugetlbfs
 * mount, or a file in the pool's tmpfs for shmem) and counted in the
 * ledger. rampool_reservation_new with RAMPOOL_RES_PREALLOC, one node (or
 * none), no extra and the slot's exact size takes a clean slot: the mount
 * is moved (or the file renamed) to the reservation and handed to its
 * owner, with no page allocated or zeroed. rampool_reservation_release of
 * a reservation of a target's shape, while the target is short, gives
 * its pages back to the warm pool as a dirty slot; rampool_warm_fill
 * zeroes it later. A dirty slot is never handed out: its state is written
 * before any work on it, so a crash leaves it dirty.
 */

/* How many slots of one shape to keep on one node. */
struct rampool_warm_target {
	size_t sz;		/* sizeof(struct rampool_warm_target) */
	int node;		/* a node with memory */
	enum rampool_res_backing backing;	/* 0: RAMPOOL_RES_HUGETLB */
	uint64_t page_size;	/* 0: the default hugepage size, 4K for shmem */
	uint64_t slot_size;	/* bytes per slot, a multiple of page_size */
	unsigned int count;	/* slots wanted; 0 removes the target */
};

/*
 * Sets (replaces) the target of its node, backing, page size and slot
 * size. Idle slots beyond the new count are given back to the kernel at
 * once (dirty ones first); new slots are made by rampool_warm_fill. Root
 * only. 0; -EINVAL bad target (logged); -EPERM; ledger errors.
 */
RAMPOOL_API int rampool_warm_set(struct rampool_pool *pool,
				 const struct rampool_warm_target *target);

/* One shape of the warm pool. */
struct rampool_warm_info {
	size_t sz;		/* set by the caller */
	int node;
	enum rampool_res_backing backing;
	uint64_t page_size;
	uint64_t slot_size;
	unsigned int target;	/* slots wanted (0: slots left of a target
				 * removed while they were being filled) */
	unsigned int clean;	/* zeroed, ready to claim */
	unsigned int dirty;	/* to be zeroed by rampool_warm_fill */
	unsigned int filling;	/* being populated or zeroed now */
};

/*
 * The warm pool's targets and slots, one entry per shape (node, backing,
 * page size, slot size) ordered by them. A pool without a ledger gives
 * none. -EACCES the ledger is not readable.
 */
struct rampool_warm;
RAMPOOL_API int rampool_warm_get(struct rampool_pool *pool,
				 struct rampool_warm **out);
RAMPOOL_API unsigned int rampool_warm_count(const struct rampool_warm *w);
RAMPOOL_API int rampool_warm_at(const struct rampool_warm *w,
				unsigned int idx,
				struct rampool_warm_info *info);
RAMPOOL_API void rampool_warm_free(struct rampool_warm *w);

struct rampool_warm_fill_opts {
	size_t sz;		/* sizeof(struct rampool_warm_fill_opts) */
	unsigned int threads;	/* per slot, as for blocks (0: the node's CPUs) */
	unsigned int flags;	/* none yet: 0 */
	/* bytes done of the bytes this call will populate and zero */
	rampool_progress_fn progress;
	void *progress_data;
};

struct rampool_warm_fill_stats {
	size_t sz;		/* set by the caller */
	unsigned int scrubbed;	/* dirty slots zeroed and made clean */
	unsigned int made;	/* new slots populated */
	unsigned int removed;	/* slots beyond their target given back */
	unsigned int short_slots;	/* slots the host had no room for */
	uint64_t bytes_scrubbed, bytes_made;
};

/*
 * Brings every target to its count: zeroes the dirty slots (in threads
 * bound to the slot's node; a hole is filled on the node and placement
 * checked), then makes the missing slots (reserved and populated on their
 * node with the placement check, as RAMPOOL_RES_PREALLOC does: pages the
 * kernel zeroes), one slot at a time outside the ledger's lock, and gives
 * back slots beyond a target. Safe to run from a timer, and beside other
 * fills (each slot is worked on by one process). rampool_pool_cancel
 * stops it between sub-chunks (-ECANCELED; the slot at work stays dirty,
 * or a new one goes). Root only. 0 when every target is met; -ENOSPC when
 * the host could not hold some slots (stats say how many); -EPERM; other
 * errors of the slot that failed. stats may be NULL.
 */
RAMPOOL_API int rampool_warm_fill(struct rampool_pool *pool,
				  const struct rampool_warm_fill_opts *opts,
				  struct rampool_warm_fill_stats *stats);

/* ---- counters of events, kept in the ledger (0.5) ------------------------- */

/*
 * Events the library counts in the host's ledger, since the ledger was
 * made (the state directory is under /run: a boot starts them again), per
 * node and page size:
 *  "refusals"        a reservation or group refused because it did not
 *                    fit (-ENOSPC): one per node and page size it lacked
 *                    (node RAMPOOL_NODE_ANY: host-wide);
 *  "sigbus_avoided"  a hugetlb block or reservation whose populate found
 *                    no page: the call returned -ENOMEM where a VMM's own
 *                    touch of that page would have been killed by SIGBUS
 *                    (blocks of callers who may not write the ledger are
 *                    not counted).
 */
struct rampool_counter {
	size_t sz;		/* set by the caller */
	const char *name;	/* valid while the list lives */
	int node;
	uint64_t page_size;
	uint64_t value;
};

struct rampool_counters;
/* A pool without a ledger has none. -EACCES the ledger is not readable. */
RAMPOOL_API int rampool_counters_get(struct rampool_pool *pool,
				     struct rampool_counters **out);
RAMPOOL_API unsigned int
rampool_counters_count(const struct rampool_counters *c);
RAMPOOL_API int rampool_counters_at(const struct rampool_counters *c,
				    unsigned int idx,
				    struct rampool_counter *info);
RAMPOOL_API void rampool_counters_free(struct rampool_counters *c);

/* ---- the kernel's hugepage pool per node: poolctl pages (0.5) ----------- */

/* One node's new pool size: count pages (persistent, not surplus). */
struct rampool_hugepages_req {
	int node;		/* a node with memory */
	uint64_t count;
};

/* rampool_hugepages_set flags */
/* check and say what would be done, write nothing (no root needed) */
#define RAMPOOL_HUGEPAGES_DRY_RUN	(1u << 0)

/* rampool_hugepages_row flags */
/* the node's file was written */
#define RAMPOOL_HUGEPAGES_F_WRITTEN	(1u << 0)
/* count is below floor: refused, nothing written anywhere */
#define RAMPOOL_HUGEPAGES_F_REFUSED	(1u << 1)
/* the kernel gave fewer pages than asked (got < asked) */
#define RAMPOOL_HUGEPAGES_F_SHORT	(1u << 2)
/* the kernel kept more than asked: pages in use that no ledger row holds
 * (got > asked) */
#define RAMPOOL_HUGEPAGES_F_KEPT	(1u << 3)

/* What happened on one node. */
struct rampool_hugepages_row {
	size_t sz;		/* set by the caller */
	int node;
	uint64_t page_size;
	uint64_t before;	/* the node's nr_hugepages before */
	uint64_t asked;		/* the request's count */
	/* nr_hugepages read back after the write (before when not written:
	 * dry run, refused, or another node failed first) */
	uint64_t got;
	/*
	 * Pages the pool needs on the node: the ledger's reservations,
	 * blocks and warm slots of this page size bound to it (size +
	 * extra, whole pages). A count below it is refused.
	 */
	uint64_t floor;
	unsigned int flags;	/* RAMPOOL_HUGEPAGES_F_* */
	/*
	 * The ledger rows that make the floor, "NAME PAGES" joined by ", "
	 * (warm slots "@..."; blocks "block NAME"); "" when none. Valid
	 * while the result lives.
	 */
	const char *held_by;
};

/*
 * Sets the kernel's pool of page_size pages on each node of req[0..n)
 * (nodeN/hugepages/hugepages-<kB>kB/nr_hugepages, or the host's file on a
 * kernel without NUMA), what `virsh allocpages` does, and reads back what
 * the kernel really gave. Under the ledger's write lock, so no
 * reservation is made between the check and the writes: every node is
 * checked first, and a count below the node's floor (see the row) is
 * refused before any file is written (all or nothing). Pages held by
 * rows not bound to a node (RAMPOOL_NODE_ANY) must fit in the sum of the
 * new counts. Writes are then made in req's order and are not undone:
 * each row says what the node has now. The pool's sysroot is read and
 * written (a tree a test owns); the ledger of its state directory is
 * counted in every case.
 *
 * out (may be NULL) receives one row per request, in req's order, on 0
 * and on -ENOMEM, -EBUSY (see below); it is untouched on other errors.
 *
 * Errors: -EINVAL bad arguments (n 0 or over 1024, a node twice, a count
 * over 2^40), a page size the kernel has no pool of, an unknown node or
 * one without memory (logged, one line; nothing written); -EPERM not
 * root (without RAMPOOL_HUGEPAGES_DRY_RUN); -EBUSY refused: a count below
 * the floor of its node (rows flagged REFUSED; each refusal logged at ERR
 * naming the reservations; nothing written), or the kernel kept pages in
 * use no row explains (KEPT); -ENOMEM the kernel gave fewer pages than
 * asked (SHORT; "asked 512 on node 1, got 498" logged; the other nodes
 * are still written); -EACCES the ledger; other errors of the files (a
 * write the kernel refused: logged, later nodes not written).
 */
struct rampool_hugepages;
RAMPOOL_API int
rampool_hugepages_set(struct rampool_pool *pool, uint64_t page_size,
		      const struct rampool_hugepages_req *req, unsigned int n,
		      unsigned int flags, struct rampool_hugepages **out);
RAMPOOL_API unsigned int
rampool_hugepages_count(const struct rampool_hugepages *h);
/* Row idx (from 0) into *row up to row->sz; -ERANGE past the last. */
RAMPOOL_API int rampool_hugepages_row(const struct rampool_hugepages *h,
				      unsigned int idx,
				      struct rampool_hugepages_row *row);
RAMPOOL_API void rampool_hugepages_free(struct rampool_hugepages *h);

/* ---- audit: ledger vs files vs mounts vs kernel --------------------------- */

enum rampool_drift_kind {
	RAMPOOL_DRIFT_ORPHAN_FILE = 1,	/* a file in the pool's dirs, no row */
	RAMPOOL_DRIFT_ORPHAN_MOUNT,	/* a mount under the state dir, no row */
	RAMPOOL_DRIFT_MISSING_FILE,	/* a row without its file or mount */
	RAMPOOL_DRIFT_DEAD_OWNER,	/* a row of a process that died */
	RAMPOOL_DRIFT_FOREIGN,		/* kernel pages no row explains */
	RAMPOOL_DRIFT_OVERGROWN,	/* a file larger than its row */
	RAMPOOL_DRIFT_UNPINNED_SHORT,	/* a node's free pages below what is
					 * held there unpinned */
};

struct rampool_drift {
	size_t sz;
	enum rampool_drift_kind kind;
	const char *what;	/* a name, path or mount point */
	int node;		/* FOREIGN: the node, or RAMPOOL_NODE_ANY */
	uint64_t page_size;
	uint64_t bytes;		/* FOREIGN, OVERGROWN, UNPINNED_SHORT:
				 * how much */
	int repaired;		/* 1 when RAMPOOL_AUDIT_REPAIR fixed it */
	const char *message;	/* one line a person can read */
};

#define RAMPOOL_AUDIT_REPAIR	(1u << 0)

struct rampool_audit;
/*
 * Compares the ledger with the pool's files and mounts and with the
 * kernel's counters. With RAMPOOL_AUDIT_REPAIR removes what is provably
 * the pool's (orphan files and mounts, rows of dead processes); foreign
 * memory is only reported.
 */
RAMPOOL_API int rampool_audit_run(struct rampool_pool *pool,
				  unsigned int flags,
				  struct rampool_audit **out);
RAMPOOL_API unsigned int rampool_audit_count(const struct rampool_audit *a);
RAMPOOL_API int rampool_audit_get(const struct rampool_audit *a,
				  unsigned int idx,
				  struct rampool_drift *info);
RAMPOOL_API void rampool_audit_free(struct rampool_audit *a);

/* ---- userfaultfd: the postcopy destination's fault helpers (0.3) -------- */

/*
 * A userfaultfd opened for a postcopy destination. Calls on one handle may
 * come from several threads (each is one or a few ioctls); free must not
 * overlap any other call. Errors are logged through the pool given to
 * rampool_uffd_open (NULL: not logged).
 */
struct rampool_uffd;

/* rampool_uffd_open flags: what the uffd must handle besides anonymous
 * memory; each must be in the kernel (else -EOPNOTSUPP naming it) */
#define RAMPOOL_UFFD_HUGETLB	(1u << 0)	/* hugetlbfs and MFD_HUGETLB */
#define RAMPOOL_UFFD_SHMEM	(1u << 1)	/* shmem, tmpfs */
/*
 * Faults from user space only (UFFD_USER_MODE_ONLY): allowed to anyone
 * even when vm.unprivileged_userfaultfd is 0, but an access from the
 * kernel (KVM, vhost, read(2) into the range) then fails with EFAULT
 * instead of waiting: not for a VMM running KVM guests.
 */
#define RAMPOOL_UFFD_USER_ONLY	(1u << 2)

/*
 * Opens a userfaultfd (close-on-exec, non-blocking): the userfaultfd(2)
 * syscall, or where the kernel refuses it with EPERM, /dev/userfaultfd
 * (USERFAULTFD_IOC_NEW). Then the API handshake with the features flags
 * ask for. pool: only for its log callback (may be NULL; must outlive the
 * handle when given).
 *
 * Errors: -EINVAL unknown flags or out NULL; -EOPNOTSUPP the kernel has no
 * userfaultfd or lacks UFFD_FEATURE_MISSING_HUGETLBFS / _MISSING_SHMEM
 * (the log names it); -EPERM / -EACCES neither the syscall nor the device
 * is allowed to this process; -EMFILE; -ENOMEM. *out untouched.
 */
RAMPOOL_API int rampool_uffd_open(struct rampool_pool *pool,
				  unsigned int flags,
				  struct rampool_uffd **out);
/* The fd, to poll and read fault events from (struct uffd_msg). */
RAMPOOL_API int rampool_uffd_fd(const struct rampool_uffd *uffd);
/* Closes the fd (every registration goes with it); NULL is accepted. */
RAMPOOL_API void rampool_uffd_free(struct rampool_uffd *uffd);

/*
 * Registers [addr, addr + len) for missing-page faults (MODE_MISSING).
 * page_size: the mapping's page size; above the base page it is hugetlb
 * (addr and len aligned to it). The range must offer UFFDIO_COPY and
 * UFFDIO_WAKE, and UFFDIO_ZEROPAGE off hugetlb, else it is unregistered
 * again and -EOPNOTSUPP. Else the kernel's errnos: -EINVAL unaligned or a
 * mapping userfaultfd cannot take (or a feature the handle was not opened
 * with), -EBUSY another userfaultfd has it, -ENOMEM.
 */
RAMPOOL_API int rampool_uffd_register(struct rampool_uffd *uffd, void *addr,
				      uint64_t len, uint64_t page_size);
/* Unregisters; waiters in the range are woken. The kernel's errnos. */
RAMPOOL_API int rampool_uffd_unregister(struct rampool_uffd *uffd,
					void *addr, uint64_t len);

/* rampool_uffd_copy flag: do not wake the threads waiting on the range */
#define RAMPOOL_UFFD_DONTWAKE	(1u << 0)

/*
 * Places len bytes from src at dst (UFFDIO_COPY), resuming where the
 * kernel stopped part way (EAGAIN), and wakes the waiters. On failure a
 * prefix of the range may be placed. Errors: -EINVAL bad flags; -EEXIST a
 * page is there already — on hugetlb ALSO when the pool ran dry (DESIGN
 * fact 3; rampool_block_place tells the two apart); -ENOENT / -EINVAL the
 * mapping changed or is not registered; -ENOMEM; -EFAULT src; -ESRCH the
 * process is exiting; -EAGAIN the kernel kept refusing without progress.
 */
RAMPOOL_API int rampool_uffd_copy(struct rampool_uffd *uffd, void *dst,
				  const void *src, uint64_t len,
				  unsigned int flags);
/*
 * Places zero pages over [dst, dst + len) and wakes the waiters:
 * UFFDIO_ZEROPAGE, or on hugetlb (page_size above the base page; it has
 * no zero page ioctl) a copy from a zero-filled buffer. Errors as
 * rampool_uffd_copy.
 */
RAMPOOL_API int rampool_uffd_zero(struct rampool_uffd *uffd, void *dst,
				  uint64_t len, uint64_t page_size);
/* Wakes the threads waiting on [addr, addr + len); works also on a range
 * no longer registered. The kernel's errnos. */
RAMPOOL_API int rampool_uffd_wake(struct rampool_uffd *uffd, void *addr,
				  uint64_t len);

/* ---- postcopy on a block (0.3) ------------------------------------------ */

/*
 * rampool_block_prepare_postcopy flags.
 * RAMPOOL_POSTCOPY_RELEASE: discard without keeping the hugetlb
 * reservation (the pages may then be taken by anyone: placements report
 * it as -ENOMEM); for callers that reserve by other means, and tests.
 */
#define RAMPOOL_POSTCOPY_RELEASE	(1u << 0)
/* open the uffd with RAMPOOL_UFFD_USER_ONLY (see there: not for KVM) */
#define RAMPOOL_POSTCOPY_USER_ONLY	(1u << 1)
/*
 * RAMPOOL_POSTCOPY_KEEP_PAGES (0.4): keep-pages mode. Nothing is
 * discarded: the block's pages stay in its file (held, on their node,
 * already zeroed), only its mapping's page tables are dropped
 * (MADV_DONTNEED); [addr, addr + size) is registered for minor faults
 * (and missing ones, for pages the block never populated). A placement
 * writes the page through a second mapping of the file, not registered,
 * and maps it (UFFDIO_CONTINUE); a page the file lacks is placed by
 * UFFDIO_COPY. The hugetlb pool and the ledger never see a page come or
 * go, so a page thief cannot take the block's node (DESIGN fact 5).
 * Needs UFFD_FEATURE_MINOR_HUGETLBFS (Linux 5.13) or _MINOR_SHMEM (5.14):
 * without it -EOPNOTSUPP and nothing changed; the caller may then prepare
 * without the flag. Not with RAMPOOL_POSTCOPY_RELEASE (-EINVAL).
 */
#define RAMPOOL_POSTCOPY_KEEP_PAGES	(1u << 2)

/*
 * Makes the block a postcopy destination: discards every page of
 * max_size, keeping the hugetlb reservation (DESIGN facts 3, 4) (with
 * RAMPOOL_POSTCOPY_KEEP_PAGES: discards nothing, see there), opens a
 * userfaultfd, registers [addr, addr + size) for missing-page faults and
 * returns its fd in *uffd_fd (owned by the block; closed by
 * rampool_block_postcopy_end or rampool_block_free). The received bitmap
 * (one bit a page of max_size) starts with the pages past size set (seed
 * 003): they are never asked for.
 *
 * Errors: -EINVAL block or uffd_fd NULL, unknown flags, KEEP_PAGES with
 * RELEASE; -EOPNOTSUPP KEEP_PAGES without minor faults (nothing changed)
 * or as rampool_uffd_open; -EBUSY already
 * prepared; the errnos of rampool_uffd_open and _register; -ENOMEM. When
 * it fails before the discard nothing changed; after it (registering
 * failed) the pages are gone and the log says so. If the reservation
 * could not be taken back after the discard (someone took the pages in
 * between) it still succeeds, logs it, and placements that then find the
 * pool dry fail with -ENOMEM. Not thread safe against other calls on the
 * block.
 */
RAMPOOL_API int rampool_block_prepare_postcopy(struct rampool_block *block,
					       unsigned int flags,
					       int *uffd_fd);

/*
 * Places len bytes from src at offset of the block (UFFDIO_COPY; src NULL:
 * zero pages), marks them received and wakes the threads waiting there.
 * offset and len are page aligned and inside max_size. Seed 003: a page
 * whose placement fails with ENOENT or EINVAL because the mapping changed
 * under it (a shrink, a remap) counts as consumed: marked received, its
 * waiters woken, counted (stats: vanished) and a warning logged; that is
 * success.
 *
 * Errors: -EINVAL bad range or not prepared; -EEXIST a page of the range
 * was received already (the others were placed); -ENOMEM a hugetlb page
 * could not be allocated: the pool ran dry (the kernel says EEXIST or
 * ENOMEM; the received bitmap and the hugetlb counters tell it from a page
 * really there) — pages before it were placed and stay received; the
 * errnos of rampool_uffd_copy. Keep-pages mode: the page is written
 * through the block's alias mapping and mapped (UFFDIO_CONTINUE; a page
 * the block never populated: UFFDIO_COPY); a received page is never
 * written again (-EEXIST). Thread safe against rampool_block_serve,
 * _resize, _received and other placements (placements are serialized).
 *
 * Speed: the kernel copies with `rep movsb`, which on some CPUs runs
 * slower from a src that is not 64-byte aligned (0.6x on AMD EPYC,
 * bench/README.md, uffd): receive pages into a page-aligned buffer.
 * Consecutive pages placed in one call cost one system call.
 */
RAMPOOL_API int rampool_block_place(struct rampool_block *block,
				    uint64_t offset, const void *src,
				    uint64_t len);

/*
 * Sets the block's used length (page aligned, 0 < size <= max_size). On a
 * prepared block, shrinking unregisters [size, old size), marks it
 * received and wakes the threads waiting there (they then fault as on
 * any mapping); growing discards [old size, size) keeping the
 * reservation (keep-pages mode: drops its page tables only), clears its
 * received bits and registers it. Errors: -EINVAL
 * bad size; the errnos of rampool_uffd_register / _unregister (nothing
 * changed). Thread safe as rampool_block_place.
 */
RAMPOOL_API int rampool_block_resize(struct rampool_block *block,
				     uint64_t size);

/*
 * Bytes of max_size that need no placing: pages placed or consumed, and
 * every page past the used length. max_size when postcopy is complete;
 * 0 before rampool_block_prepare_postcopy.
 */
RAMPOOL_API uint64_t rampool_block_received(struct rampool_block *block);

struct rampool_postcopy_stats {
	size_t sz;		/* sizeof(struct rampool_postcopy_stats) */
	uint64_t received;	/* as rampool_block_received */
	uint64_t placed;	/* bytes placed (copies and zero pages) */
	uint64_t vanished;	/* bytes consumed: the mapping had changed */
	uint64_t already;	/* pages asked again after they were placed */
	uint64_t faults;	/* fault events rampool_block_serve handled */
};

/* Fills *stats up to stats->sz. -EINVAL: NULL, sz too small. */
RAMPOOL_API int rampool_block_postcopy_stats(struct rampool_block *block,
					     struct rampool_postcopy_stats *stats);

/*
 * Supplies the page at offset (len bytes, the page size) for a fault,
 * within timeout_ms (-1: no limit). Returns 0 with buf filled (serve
 * places it), RAMPOOL_FETCH_ASYNC when the page was asked for and will be
 * placed by rampool_block_place from another thread, or a negative errno
 * that ends rampool_block_serve with it.
 */
typedef int (*rampool_fetch_fn)(void *data, uint64_t offset, void *buf,
				uint64_t len, int timeout_ms);
#define RAMPOOL_FETCH_ASYNC 1

struct rampool_serve_opts {
	size_t sz;		/* sizeof(struct rampool_serve_opts) */
	rampool_fetch_fn fetch;
	void *data;		/* passed to fetch */
	/*
	 * Per fault: from the fault event to the page placed. 0: no limit.
	 * A fault still unserved then ends the loop with -ETIMEDOUT.
	 */
	unsigned int timeout_ms;
};

/*
 * Serves the block's faults until every page is received (0), until
 * rampool_block_serve_stop (-ECANCELED), or an error: reads fault events,
 * asks fetch for each page not yet received, places it and wakes the
 * waiters (a fault on a page already received is only woken). Run it in
 * one thread of the VMM; other threads may place pages meanwhile.
 * Errors: -EINVAL bad opts or not prepared; -EBUSY another serve runs;
 * -ETIMEDOUT a fault was not served within timeout_ms (a dead source: the
 * VMM decides, nothing hangs); fetch's error; rampool_block_place's
 * errors except -EEXIST; -errno of poll/read on the uffd.
 */
RAMPOOL_API int rampool_block_serve(struct rampool_block *block,
				    const struct rampool_serve_opts *opts);
/* Makes rampool_block_serve return -ECANCELED soon (also one not started
 * yet). Async-signal-safe and thread safe. */
RAMPOOL_API void rampool_block_serve_stop(struct rampool_block *block);

/*
 * Ends postcopy: unregisters the used length and closes the uffd; the
 * received figures stay readable. Waiters are woken (they then fault as on
 * any mapping). 0, or -EINVAL not prepared.
 */
RAMPOOL_API int rampool_block_postcopy_end(struct rampool_block *block);

/* ---- plans: will this incoming VM fit? (poolctl check) ------------------ */

/*
 * A plan is the list of RAM blocks an incoming VM needs: read from a
 * manifest (JSON, rampool-manifest(5)) or from the start of a QEMU
 * migration stream. It is checked against the host (per node and page
 * size, counting what is promised already) and can be reserved as one
 * group, a member per block.
 */
struct rampool_plan;

/* rampool_plan_block flags */
/* virtio-mem: size is the plugged part of region */
#define RAMPOOL_PLAN_F_SPARSE		(1u << 0)
/* sparse, but the source had no plugged bitmap (a QEMU stream without a
 * virtio-mem-device-early section): the whole region is assumed */
#define RAMPOOL_PLAN_F_PLUGGED_UNKNOWN	(1u << 1)
/* the source gave no page size (or node): the plan options' defaults */
#define RAMPOOL_PLAN_F_DEFAULTED	(1u << 2)
/* the manifest's "headroom": needed beside the blocks (id "headroom") */
#define RAMPOOL_PLAN_F_HEADROOM		(1u << 3)

struct rampool_plan_block {
	size_t sz;		/* set by the caller */
	const char *id;		/* as given; valid while the plan lives */
	uint64_t size;		/* bytes to reserve */
	uint64_t region;	/* the block's whole length (>= size) */
	uint64_t page_size;	/* the base page size: shmem */
	int node;		/* RAMPOOL_NODE_ANY: any node */
	enum rampool_res_backing backing;
	unsigned int flags;	/* RAMPOOL_PLAN_F_* */
};

struct rampool_plan_opts {
	size_t sz;		/* sizeof(struct rampool_plan_opts) */
	/*
	 * Page size and node of blocks the source does not describe (a
	 * QEMU stream records neither), by block id:
	 * "pc.ram=2M@0,mem1=1G@1,rom=4K" ("@N" optional: any node). A
	 * manifest's own fields win over it. NULL: none.
	 */
	const char *map;
	/* for blocks the source and the map leave open; 0: the base page
	 * (shmem, counted against MemAvailable) */
	uint64_t default_page_size;
};

/*
 * Reads a manifest (len bytes of JSON text) into *out. Strict: a wrong
 * type, a negative, fractional or overflowing size, an unknown page size,
 * a duplicate id is -EINVAL, logged with the JSON path of the bad field
 * ("$.blocks[2].size"); an unknown key is logged as a warning. *out
 * untouched on failure.
 */
RAMPOOL_API int rampool_plan_from_manifest(struct rampool_pool *pool,
					   const char *text, size_t len,
					   const struct rampool_plan_opts *opts,
					   struct rampool_plan **out);
/*
 * Reads a QEMU migration stream from fd up to its first page data (the
 * header, configuration, the RAM section's block list, virtio-mem early
 * sections), never further, and makes a plan of its RAM blocks. A
 * truncated, corrupt or unsupported stream is -EINVAL (-EPROTO: stream
 * version 2), logged with the byte offset of the problem; read errors
 * are -errno.
 */
RAMPOOL_API int rampool_plan_from_qemu_stream(struct rampool_pool *pool,
					      int fd,
					      const struct rampool_plan_opts *opts,
					      struct rampool_plan **out);
RAMPOOL_API unsigned int rampool_plan_count(const struct rampool_plan *plan);
/* Block idx (from 0) into *info up to info->sz; -ERANGE past the last. */
RAMPOOL_API int rampool_plan_block(const struct rampool_plan *plan,
				   unsigned int idx,
				   struct rampool_plan_block *info);
RAMPOOL_API void rampool_plan_free(struct rampool_plan *plan);

struct rampool_check_opts {
	size_t sz;		/* sizeof(struct rampool_check_opts) */
	/*
	 * A cgroup v2 directory (e.g. /sys/fs/cgroup/machine.slice) whose
	 * hugetlb.<size>.max and .rsvd.max, less their .current, bound what
	 * the VM's processes may take. NULL: none.
	 */
	const char *cgroup;
};

/* One line of a check: need and what can be had, per node and page size. */
struct rampool_check_row {
	size_t sz;		/* set by the caller */
	int node;		/* RAMPOOL_NODE_ANY: host-wide (all of them) */
	uint64_t page_size;
	enum rampool_res_backing backing;
	uint64_t need;		/* the plan's blocks there */
	/* what rampool_reservation_new would grant there now: free pages
	 * (memory for shmem) less every promise, within the cgroup's room */
	uint64_t grantable;
	uint64_t cgroup_room;	/* UINT64_MAX: no cgroup limit */
	uint64_t short_by;	/* need - grantable, or 0 */
	/* a short node row: a node where the same need would fit now;
	 * RAMPOOL_NODE_ANY: none (or not a node row) */
	int fits_on;
};

struct rampool_check;

/*
 * Checks the plan against this host now: one row per node and page size
 * the plan uses, and a host-wide row per page size where blocks share
 * the host's pool (several nodes, or blocks on no node). Counted: the
 * kernel's free pages, every reservation of the ledger and every foreign
 * one (the kernel's resv), the cgroup's limits; for shmem the memory
 * available less what the ledger owes. Nothing is reserved: a check is a
 * snapshot (rampool_plan_reserve checks under the ledger's lock).
 *
 * Returns 0 when every row fits, -ENOSPC when one does not (*out is
 * filled in both cases); -EINVAL a bad plan or options (a page size the
 * host has no pool of is not an error: its rows show 0 grantable);
 * -EACCES the ledger or the cgroup files are not readable; other errors
 * of the kernel and SQLite (*out untouched). On a pool reading a
 * recorded tree (sysroot) the ledger is left out: it describes this host.
 */
RAMPOOL_API int rampool_plan_check(struct rampool_pool *pool,
				   const struct rampool_plan *plan,
				   const struct rampool_check_opts *opts,
				   struct rampool_check **out);
RAMPOOL_API unsigned int rampool_check_count(const struct rampool_check *c);
/* Row idx (from 0) into *row up to row->sz; -ERANGE past the last. */
RAMPOOL_API int rampool_check_row(const struct rampool_check *c,
				  unsigned int idx,
				  struct rampool_check_row *row);
RAMPOOL_API void rampool_check_free(struct rampool_check *c);

struct rampool_group_opts {
	size_t sz;		/* sizeof(struct rampool_group_opts) */
	long long owner_uid;	/* as in rampool_reservation_opts */
	unsigned int flags;	/* RAMPOOL_RES_PREALLOC */
	unsigned int threads;	/* populating threads per member */
	const char *cgroup;	/* as in rampool_check_opts */
};

/*
 * Reserves the whole plan at once as the group name: one member per
 * block, each a reservation of its own (its page size, node and file:
 * rampool_group_path), all or nothing. The check runs under the ledger's
 * lock with the kernel's counters read there, so of two groups that each
 * fit alone but not together exactly one is granted. With
 * RAMPOOL_RES_PREALLOC every member is then populated on its node; a
 * failure there releases the whole group.
 *
 * check (may be NULL): the rows of the check made under the lock (see
 * rampool_plan_check), also after -ENOSPC; the caller frees them.
 * Errors: -EINVAL bad name (a reservation's rules) or plan (no block,
 * more than 99,999), options; -EEXIST name is a reservation or a group;
 * -ENOSPC does not fit (nothing made); -EPERM not root; and
 * rampool_reservation_new's. Nothing is left behind on failure.
 * rampool_reservation_release(name) releases a group.
 */
RAMPOOL_API int rampool_plan_reserve(struct rampool_pool *pool,
				     const struct rampool_plan *plan,
				     const char *name,
				     const struct rampool_group_opts *opts,
				     struct rampool_check **check);
/*
 * The backing file of the member of group name that backs block (the
 * id as in the plan), copied into buf: -ENOENT no such group or block,
 * -ERANGE len too small, -EPERM not the owner or root.
 */
RAMPOOL_API int rampool_group_path(struct rampool_pool *pool,
				   const char *name, const char *block,
				   char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* RAMPOOL_H */
