/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* topology.h: NUMA nodes, hugepage sizes, counters and hugetlbfs mounts. */
#ifndef RP_TOPOLOGY_H
#define RP_TOPOLOGY_H

#include <stdbool.h>
#include <stdint.h>

#include "sysfs.h"

/* The kernel's MAX_NUMNODES is at most 1 << 10. */
#define TOPO_MAX_NODES 1024
#define TOPO_MAX_CPUS 8192
#define TOPO_MAX_SIZES 16

struct topo_hcount {
	uint64_t total, free, surplus;
	uint64_t resv, overcommit;	/* global only */
};

struct topo_node {
	int id;
	unsigned int flags;		/* RAMPOOL_NODE_F_* */
	uint64_t mem_total, mem_free, mem_available, shmem;
	char *cpulist;			/* as the kernel wrote it, no newline */
	unsigned int nr_cpus;
	struct topo_hcount *hp;		/* [topo->nr_sizes] */
};

struct topo_mount {
	char *path;
	uint64_t page_size;
};

struct topo {
	unsigned int nr_nodes;
	struct topo_node *nodes;	/* ascending id */
	unsigned int nr_sizes;
	uint64_t sizes[TOPO_MAX_SIZES];	/* ascending */
	struct topo_hcount global[TOPO_MAX_SIZES];
	uint64_t mem_total, mem_free, mem_available, shmem;
	uint64_t default_page_size;	/* Hugepagesize, 0 when absent */
	unsigned int nr_mounts;
	struct topo_mount *mounts;
	bool numa;			/* sys/devices/system/node exists */
};

/*
 * Reads one snapshot. Every failure is logged naming the file and returns
 * a negative errno (-ENOENT, -EINVAL for bad content, -ENOMEM, ...). On the
 * running kernel, counters that contradict each other (free above total:
 * the pool was resized between two reads) give -EAGAIN, unlogged: read
 * again.
 */
int topo_read(struct sysfs *s, struct topo **out);

/*
 * Opens root, reads a snapshot, reading again (up to 5 times) while
 * topo_read says -EAGAIN, and closes root. The pool's one way in.
 */
int topo_snapshot(const char *root, const struct rp_log *log,
		  struct topo **out);
void topo_free(struct topo *t);

/*
 * Leave out the hugetlbfs mounts (nr_mounts 0): the counters alone, for
 * capacity decisions whose cost must not grow with the number of mounts
 * (every hugetlb reservation is one).
 */
#define TOPO_NO_MOUNTS	(1u << 0)
int topo_read_flags(struct sysfs *s, unsigned int flags, struct topo **out);
int topo_snapshot_flags(const char *root, const struct rp_log *log,
			unsigned int flags, struct topo **out);

/* Index of page_size in t->sizes, or -1. */
int topo_size_index(const struct topo *t, uint64_t page_size);
/* The node's CPUs as a bitmap of nbits bits. 0 or -EINVAL. */
int topo_node_cpus(const struct topo_node *n, uint64_t *bits,
		   unsigned int nbits);
/* The node with that id, or NULL. */
const struct topo_node *topo_node_by_id(const struct topo *t, int id);

#endif
