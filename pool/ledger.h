/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ledger.h: the host-wide ledger of reservations and blocks (SQLite in the state directory). */
#ifndef RP_LEDGER_H
#define RP_LEDGER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "pool.h"

#define LEDGER_FILE "ledger.db"
#define LEDGER_SCHEMA 5
#define LEDGER_MAX_NODES 64	/* per row: a guest spans a few nodes */

/* Row kinds */
#define LEDGER_RESERVATION	1	/* named, persistent (pid 0 when ready) */
#define LEDGER_BLOCK		2	/* a VMM's block: goes with its process */
/* a warm slot (warm.c): named "@" SLOT, in no reservation. State
 * RAMPOOL_RES_STATE_READY: clean; PENDING (with pid): a new slot being
 * populated; LEDGER_WARM_DIRTY: to be zeroed (pid: being zeroed now) */
#define LEDGER_WARM		3
#define LEDGER_WARM_DIRTY	3

/* Row flags */
#define LEDGER_F_PREALLOC	(1u << 0)
#define LEDGER_F_INTERLEAVE	(1u << 1)
/* a block that is a postcopy destination: pages discarded (issue 8) or
 * kept (RAMPOOL_POSTCOPY_KEEP_PAGES) */
#define LEDGER_F_POSTCOPY	(1u << 2)
#define LEDGER_F_POSTCOPY_KEEP	(1u << 3)
/* a reservation claimed from the warm pool */
#define LEDGER_F_WARM		(1u << 4)
/* made with RAMPOOL_RES_DECLARED (poolctl apply) */
#define LEDGER_F_DECLARED	(1u << 5)

struct ledger_node {
	int node;		/* RAMPOOL_NODE_ANY: not bound */
	uint64_t size;
	uint64_t populated;	/* placed on the node and checked */
	uint64_t owed;		/* hugetlb: no longer reserved by the kernel */
};

struct ledger_row {
	int64_t id;
	char name[RAMPOOL_NAME_MAX + 32];
	int kind;
	int backing;		/* enum rampool_res_backing */
	uint64_t page_size, size, extra;
	int state;		/* RAMPOOL_RES_STATE_* */
	uid_t uid;
	int pid;		/* 0: persistent */
	uint64_t pid_start;	/* the owner's start time (clock ticks) */
	unsigned int flags;	/* LEDGER_F_* */
	int64_t created;
	char grp[RAMPOOL_NAME_MAX + 1];	/* a group member: the group; else "" */
	char block[256];		/* a member: its RAM block id */
	unsigned int nr_nodes;
	struct ledger_node nodes[LEDGER_MAX_NODES];
};

struct sqlite3;

struct ledger {
	struct sqlite3 *db;
	struct rampool_pool *pool;
	bool writable;
	int schema;	/* the file's version: a reader may find an older one */
	/*
	 * Writers queue on a flock of ledger.lock before BEGIN IMMEDIATE:
	 * the kernel hands the lock over at once, where SQLite's busy
	 * handler would poll with sleeps of up to 100 ms.
	 */
	int lockfd;
};

/* Open modes */
#define LEDGER_READ	0
#define LEDGER_WRITE	1	/* create the state dir and file if missing */

/*
 * Opens the ledger of the pool's state directory. LEDGER_READ of a ledger
 * that does not exist yet gives -ENOENT; -EACCES when the caller may not
 * read (or, for LEDGER_WRITE, write) it. Schema migrations run on a
 * writable open. -EPROTO: the ledger's schema is newer than this library
 * (nothing changed); -EUCLEAN: the file is not a ledger.
 */
int ledger_open(struct rampool_pool *pool, int mode, struct ledger **out);
/* Whether the pool's ledger file exists (a reader's question; no lock). */
bool ledger_exists(const struct rampool_pool *pool);
void ledger_close(struct ledger *l);
/*
 * The same in a struct the caller owns, without allocating (a block keeps
 * one to remove its row when it is freed, where nothing may fail);
 * ledger_disconnect closes the connection and keeps the struct.
 */
int ledger_connect(struct rampool_pool *pool, int mode, struct ledger *l);
void ledger_disconnect(struct ledger *l);
bool ledger_writable(const struct ledger *l);

/* BEGIN IMMEDIATE (waits for other writers), COMMIT, ROLLBACK. */
int ledger_begin(struct ledger *l);
int ledger_commit(struct ledger *l);
void ledger_rollback(struct ledger *l);

/* Inserts r (its nodes too) and sets r->id. -EEXIST: the name is taken. */
int ledger_insert(struct ledger *l, struct ledger_row *r);
/* -ENOENT when no such row. */
int ledger_get(struct ledger *l, const char *name, struct ledger_row *r);
int ledger_delete(struct ledger *l, int64_t id);
int ledger_set_state(struct ledger *l, int64_t id, int state, int pid,
		     uint64_t pid_start);
int ledger_set_populated(struct ledger *l, int64_t id, int node,
			 uint64_t populated);
/* Sets the row's flags. */
int ledger_set_flags(struct ledger *l, int64_t id, unsigned int flags);
/* Bytes of a hugetlb share the kernel no longer reserves (schema 2). */
int ledger_set_owed(struct ledger *l, int64_t id, int node, uint64_t owed);
/* New size and extra of a row with one node entry (grow). */
int ledger_set_size(struct ledger *l, int64_t id, uint64_t size,
		    uint64_t extra, int node, uint64_t node_size);

/* Calls fn for each member of group grp (name order); as ledger_each. */
int ledger_each_member(struct ledger *l, const char *grp,
		       int (*fn)(void *ctx, const struct ledger_row *r),
		       void *ctx);
/* Calls fn for each row (name order); stops at fn's first non-zero. */
int ledger_each(struct ledger *l, bool owned_only,
		int (*fn)(void *ctx, const struct ledger_row *r), void *ctx);

/*
 * The sums kept per page size, node and backing (by triggers, so no work
 * grows with the number of rows): promised bytes (size + extra) and
 * populated bytes. Calls fn for each non-empty entry.
 */
int ledger_totals(struct ledger *l,
		  int (*fn)(void *ctx, uint64_t page_size, int node,
			    int backing, uint64_t promised,
			    uint64_t populated),
		  void *ctx);
/* Populated bytes the ledger records for the files of reservations and
 * warm slots (not blocks) of backing, all nodes together. */
int ledger_res_populated(struct ledger *l, int backing, uint64_t *out);

/* ---- counters (schema 5) ---- */
/* Adds n to counter name of (node, page_size); made at 0 when missing. */
int ledger_count_add(struct ledger *l, const char *name, int node,
		     uint64_t page_size, uint64_t n);
/* Calls fn for each counter (name, node, page size order); none before 5. */
int ledger_counters(struct ledger *l,
		    int (*fn)(void *ctx, const char *name, int node,
			      uint64_t page_size, uint64_t value),
		    void *ctx);

/* ---- the warm pool (schema 4) ---- */
struct ledger_warm_key {
	int node, backing;
	uint64_t page_size, slot_size;
};
/* Sets the target's count; 0 removes it. */
int ledger_warm_target_set(struct ledger *l, const struct ledger_warm_key *k,
			   unsigned int count);
/* Calls fn for each target (key order); a ledger before schema 4 has none. */
int ledger_warm_targets(struct ledger *l,
			int (*fn)(void *ctx, const struct ledger_warm_key *k,
				  unsigned int count),
			void *ctx);
/* Calls fn for each warm slot of shape k (k NULL: every slot), name order. */
int ledger_warm_slots(struct ledger *l, const struct ledger_warm_key *k,
		      int (*fn)(void *ctx, const struct ledger_row *r),
		      void *ctx);

/* Checks the sums against the rows: 0 when they agree, -EUCLEAN not. */
int ledger_check_totals(struct ledger *l);

/* The start time of pid (/proc/PID/stat field 22), 0 when it is gone. */
uint64_t ledger_proc_start(int pid);
/*
 * True when the row's owner process is gone (pid reused counts as gone).
 * One the caller cannot see (/proc hidepid=) counts as alive.
 */
bool ledger_owner_dead(const struct ledger_row *r);

#endif
