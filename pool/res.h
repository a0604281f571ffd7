/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* res.h: what the reservation files of pool/ share: names, paths, capacity, recovery. */
#ifndef RP_RES_H
#define RP_RES_H

#include <stdbool.h>
#include <stdint.h>

#include "ledger.h"
#include "pool.h"

struct topo;

/* A name a user gives: [A-Za-z0-9][A-Za-z0-9._-]{0,63}; 0 or -EINVAL. */
int res_user_name_check(const char *name);
/*
 * A row's name: a user's, a warm slot's "@NAME", or a group's member "GROUP:INDEX" (INDEX: up
 * to RES_MEMBER_DIGITS digits; ':' is in no user's name, so a member
 * never takes one). 0 or -EINVAL.
 */
#define RES_MEMBER_DIGITS 5
int res_name_check(const char *name);

/*
 * Paths of a reservation: its mount point (hugetlb) or directory, and its
 * backing file. -ENAMETOOLONG when the state directory makes them too
 * long (never truncated).
 */
int res_mount_dir(const struct rampool_pool *pool, const char *name,
		  char *buf, size_t len);
int res_file_path(const struct rampool_pool *pool, int backing,
		  const char *name, char *buf, size_t len);
int res_shm_dir(const struct rampool_pool *pool, char *buf, size_t len);
/*
 * Makes the directory name's mount goes in: state/mnt (0755), or for a
 * warm slot ("@SLOT") state/warm (0700, a private mount of its own so its
 * slots can be moved: resmount_move).
 */
int res_mount_parent(struct rampool_pool *pool, const char *name);
/* Unmounts and removes state/warm when no slot is left in it. */
void res_warm_idle(struct rampool_pool *pool);
/* The row's backing file is there (a regular file at its path). */
bool res_file_there(const struct rampool_pool *pool,
		    const struct ledger_row *r);
/*
 * The intent file of name (state/intent/NAME): written before the kernel
 * objects of name are made or moved, removed after the commit; recovery
 * removes what a dead writer's intent names and no row explains, and a
 * row whose file went. path (PATH_MAX) receives its path for
 * res_intent_done. -EBUSY: a dead process's intent is still there.
 */
int res_intent_write(struct rampool_pool *pool, const char *name,
		     char *path, size_t len);
void res_intent_done(char *path);
#define RES_MNT_DIR "mnt"
#define RES_WARM_DIR "warm"
#define RES_SHM_DIR "shm"
#define RES_FILE "mem"

/* The resmount ops in force (the pool's mocks, or the real calls). */
const struct resmount_ops *res_mops(const struct rampool_pool *pool);

/* One node's need in a capacity check (node RAMPOOL_NODE_ANY: anywhere). */
struct res_need {
	int node;
	uint64_t bytes;
};

/*
 * Reads the kernel's counters (no mount table) into *t for the checks
 * below. The caller frees it with topo_free.
 */
int res_counters(struct rampool_pool *pool, struct topo **t);

/*
 * What a new reservation of page_size/backing could be granted on node
 * (RAMPOOL_NODE_ANY: anywhere) now, from the kernel's counters and the
 * ledger's sums. Hugetlb: the kernel's unreserved free pages host-wide,
 * and on a node its free pages less every outstanding reservation (a
 * reservation is global: any of them may land on this node, fact 5).
 * Shmem: available memory less what the ledger owes.
 */
int res_grantable(struct ledger *l, const struct topo *t, uint64_t page_size,
		  int backing, int node, uint64_t *out);

/*
 * Checks needs[] all together. 0 fits; -ENOSPC does not (the pool's
 * shortfall table says where); -EINVAL a node that cannot hold memory.
 */
int res_check(struct rampool_pool *pool, struct ledger *l,
	      const struct topo *t, uint64_t page_size, int backing,
	      const struct res_need *needs, unsigned int n);

/* Records one shortfall line for rampool_pool_last_shortfall. */
int res_shortfall_add(struct rampool_pool *pool, int node,
		      uint64_t page_size, uint64_t need, uint64_t grantable);
void res_shortfall_clear(struct rampool_pool *pool);

/* Unmounts and removes the pool's shmem tmpfs when no file is left in it. */
void res_shm_idle(struct rampool_pool *pool);

/* Removes a reservation's file and mount (a block's: nothing). */
int res_destroy_objects(struct rampool_pool *pool, const struct ledger_row *r);

/*
 * Removes a row's kernel objects (file, mount) and the row, inside the
 * caller's transaction. -EBUSY: the mount is still in use (row kept).
 */
int res_destroy(struct rampool_pool *pool, struct ledger *l,
		const struct ledger_row *r);

/*
 * Undoes the rows of owners that died (pending reservations, blocks):
 * their files and mounts go, then the rows. Runs in its own transaction;
 * a ledger open for reading is left alone.
 */
int res_recover(struct rampool_pool *pool, struct ledger *l);

/* Opens the ledger for writing and recovers; -EACCES when not allowed. */
int res_open_write(struct rampool_pool *pool, struct ledger **out);

/*
 * A ready reservation the caller may use: from the ledger, or from its
 * file when the caller may not read the ledger (the file's owner and mode
 * decide). -ENOENT, -EPERM, -EBUSY (still being made), -EACCES.
 */
int res_find_row(struct rampool_pool *pool, const char *name,
		 struct ledger_row *r);

/* True when the caller may act on r: its owner, or root. */
bool res_may(const struct ledger_row *r);

/*
 * Pages of a hugetlb reservation's mount in use now (statfs), in bytes;
 * the ledger's figure when the mount cannot be read.
 */
uint64_t res_populated_now(const struct rampool_pool *pool,
			   const struct ledger_row *r);

/*
 * Held, owed, populated and unpinned of each of r's shares (nodes[] has
 * r->nr_nodes entries) as the kernel has them now: a reservation's file
 * is measured (a VMM's own discard through the path shows), a block's
 * figures are its own as written to the ledger. list, show and usage
 * all use this, so they agree.
 */
void res_row_figures(const struct rampool_pool *pool,
		     const struct ledger_row *r,
		     struct rampool_reservation_node_info *nodes);

/* ---- making reservations (res_new.c), for groups (res_group.c) ---- */

/* One reservation being made. */
struct res_plan;
/*
 * Reads opts for a reservation called name (a user's name, or a group
 * member's "GROUP:INDEX") against the counters t: page size, shares.
 * -EINVAL logged; -ENOMEM.
 */
int res_plan_prepare(struct rampool_pool *pool, const char *name,
		     const struct rampool_reservation_opts *opts,
		     const struct topo *t, struct res_plan **out);
/* Its row, to fill in before res_plan_make (a member's grp and block). */
struct ledger_row *res_plan_row(struct res_plan *p);
/* Inside the caller's transaction: intent, kernel objects, row; on
 * failure what it made is gone. */
int res_plan_make(struct rampool_pool *pool, struct ledger *l,
		  struct res_plan *p);
/* After the transaction: not committed, the objects go; the intent goes. */
void res_plan_made(struct rampool_pool *pool, struct res_plan *p,
		   bool committed);
/* With RAMPOOL_RES_PREALLOC: populate and mark ready, else undo. */
int res_plan_fill(struct rampool_pool *pool, struct ledger *l,
		  struct res_plan *p);
void res_plan_free(struct res_plan *p);
/* Releases every member of group name (res_group.c); -ENOENT no group. */
int res_group_release(struct rampool_pool *pool, const char *name);
/* -EEXIST (logged) when name is a row or a group; 0 when free. */
int res_name_taken(struct rampool_pool *pool, struct ledger *l,
		   const char *name);

/* A VMM's block in the ledger (block_ledger.c). */
struct block_ledger_spec {
	bool hugetlb;
	uint64_t page_size, max_size;
	int node;		/* RAMPOOL_NODE_ANY: not one node */
};
int block_ledger_pending(struct rampool_pool *pool,
			 const struct block_ledger_spec *s,
			 struct ledger **l, int64_t *id);
int block_ledger_ready(struct ledger *l, int64_t id, int node,
		       uint64_t populated);
/* Removes the row and closes the ledger; NULL accepted. */
void block_ledger_drop(struct ledger *l, int64_t id);
/* The same, and one more of counter count (NULL: none) in the ledger. */
void block_ledger_drop_count(struct ledger *l, int64_t id, const char *count,
			     int node, uint64_t page_size);

#endif
