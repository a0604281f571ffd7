/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* warm.h: what the warm pool's files share: slot shapes, claim and release into it, removal. */
#ifndef RP_WARM_H
#define RP_WARM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ledger.h"
#include "pool.h"

/* The shape of a slot row (its one node share). */
void warm_key_of(const struct ledger_row *r, struct ledger_warm_key *k);
bool warm_key_eq(const struct ledger_warm_key *a,
		 const struct ledger_warm_key *b);
/* A new slot name "@w<pid>-<ns>" into buf (RAMPOOL_NAME_MAX + 1). */
void warm_slot_name(char *buf, size_t len);

/*
 * A move of a reservation's objects (mount, or shmem file) between a
 * reservation and a slot, inside the caller's transaction, undone when the
 * commit fails. Intent files of both names cover a crash (res_recover).
 */
struct warm_move {
	int backing;
	char from[RAMPOOL_NAME_MAX + 32], to[RAMPOOL_NAME_MAX + 32];
	uid_t from_uid, to_uid;
	int lease_fd;		/* release: the write lease that kept
				 * others out of the file; -1 */
	bool moved;
	char intent_from[4096], intent_to[4096];
};

/*
 * Claim: takes a clean slot of row's shape (its node; RAMPOOL_NODE_ANY:
 * any node) for the reservation row (prepared: name, sizes, uid, flags),
 * inside the caller's transaction: the slot's objects move to row->name
 * and are handed to row->uid, the slot row goes and row is inserted
 * (populated, LEDGER_F_WARM). 1 claimed (the caller commits, then calls
 * warm_move_done or, when the commit failed, warm_move_undo); 0 no clean
 * slot; negative errno (nothing changed).
 */
int warm_claim(struct rampool_pool *pool, struct ledger *l,
	       struct ledger_row *row, struct warm_move *m);

/*
 * Release: when r (a ready reservation of one node, no extra) has the
 * shape of a target that is short of slots and no other process has its
 * file open, its objects become a dirty slot inside the caller's
 * transaction. 1 done (commit, then warm_move_done / _undo); 0 not (the
 * caller releases as usual); negative errno (nothing changed).
 */
int warm_release(struct rampool_pool *pool, struct ledger *l,
		 const struct ledger_row *r, struct warm_move *m);

void warm_move_done(struct warm_move *m);
/* The commit failed: the objects move back (else recovery sees to them). */
void warm_move_undo(struct rampool_pool *pool, struct warm_move *m);

/* The target count of shape k (0: none). */
int warm_target(struct ledger *l, const struct ledger_warm_key *k,
		unsigned int *count);
/* 1 when shape k has fewer slots (any state) than its target; 0; -errno. */
int warm_short(struct ledger *l, const struct ledger_warm_key *k);

/*
 * Gives back (inside the caller's transaction) idle slots of shape k
 * beyond keep, dirty ones first. Returns how many went, or -errno.
 */
int warm_trim(struct rampool_pool *pool, struct ledger *l,
	      const struct ledger_warm_key *k, unsigned int keep);

#endif
