// SPDX-License-Identifier: LGPL-2.1-or-later
/* warm_move.c: a warm slot claimed by a reservation, and a released reservation back into the warm pool, without a page allocated or freed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../backend/resmount.h"
#include "res.h"
#include "warm.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

/* Moves name from's objects to name to: the mount (hugetlb), the file (shmem). */
static int move_objects(struct rampool_pool *pool, int backing,
			const char *from, const char *to)
{
	char src[4096], dst[4096];
	int ret;

	if (backing == RAMPOOL_RES_HUGETLB) {
		ret = res_mount_parent(pool, to);
		if (!ret)
			ret = res_mount_dir(pool, from, src, sizeof(src));
		if (!ret)
			ret = res_mount_dir(pool, to, dst, sizeof(dst));
		if (!ret)
			ret = resmount_move(src, dst, res_mops(pool),
					    &pool->log);
		if (!ret)
			rmdir(src);	/* left empty by the move */
		return ret;
	}
	ret = res_file_path(pool, backing, from, src, sizeof(src));
	if (!ret)
		ret = res_file_path(pool, backing, to, dst, sizeof(dst));
	if (ret)
		return ret;
	/* one tmpfs: a rename, refused when something is at dst */
	if (renameat2(AT_FDCWD, src, AT_FDCWD, dst, RENAME_NOREPLACE)) {
		ret = -errno;
		rp_err(&pool->log, "rename %s to %s: %s", src, dst,
		       strerror(-ret));
	}
	return ret;
}

/*
 * Gives name's file (and a mount's root) to uid, mode 0600 (0700). fd >=
 * 0: the file, open already (a lease holder's own open would break its
 * lease).
 */
static int hand_to(struct rampool_pool *pool, int backing, const char *name,
		   uid_t uid, int fd)
{
	bool mine = fd < 0;
	char path[4096];
	int ret = 0;

	if (backing == RAMPOOL_RES_HUGETLB) {
		ret = res_mount_dir(pool, name, path, sizeof(path));
		if (!ret && (chown(path, uid, (gid_t)-1) || chmod(path, 0700)))
			ret = -errno;
		if (ret)
			goto fail;
	}
	ret = res_file_path(pool, backing, name, path, sizeof(path));
	if (ret)
		goto fail;
	if (mine)
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || fchown(fd, uid, (gid_t)-1) || fchmod(fd, 0600))
		ret = -errno;
	if (mine && fd >= 0)
		close(fd);
	if (!ret)
		return 0;
fail:
	rp_err(&pool->log, "hand %s to uid %u: %s", path, (unsigned int)uid,
	       strerror(-ret));
	return ret;
}

static int intents(struct rampool_pool *pool, struct warm_move *m)
{
	int ret = res_intent_write(pool, m->from, m->intent_from,
				   sizeof(m->intent_from));

	if (!ret)
		ret = res_intent_write(pool, m->to, m->intent_to,
				       sizeof(m->intent_to));
	if (ret)
		res_intent_done(m->intent_from);
	return ret;
}

void warm_move_done(struct warm_move *m)
{
	res_intent_done(m->intent_from);
	res_intent_done(m->intent_to);
	if (m->lease_fd >= 0) {
		fcntl(m->lease_fd, F_SETLEASE, F_UNLCK);
		close(m->lease_fd);
	}
	m->lease_fd = -1;
}

void warm_move_undo(struct rampool_pool *pool, struct warm_move *m)
{
	if (m->moved) {
		/* what cannot move back stays for recovery: intents kept */
		if (hand_to(pool, m->backing, m->to, m->from_uid,
			    m->lease_fd) ||
		    move_objects(pool, m->backing, m->to, m->from))
			return;
		m->moved = false;
	}
	hand_to(pool, m->backing, m->from, m->from_uid, m->lease_fd);
	warm_move_done(m);
}

/* Objects of m->from to m->to, handed to m->to_uid. */
static int do_move(struct rampool_pool *pool, struct warm_move *m)
{
	int ret = intents(pool, m);

	if (ret)
		return ret;
	ret = move_objects(pool, m->backing, m->from, m->to);
	if (!ret) {
		m->moved = true;
		ret = hand_to(pool, m->backing, m->to, m->to_uid,
			      m->lease_fd);
	}
	if (ret)
		warm_move_undo(pool, m);
	return ret;
}

/* ---- claim -------------------------------------------------------------- */

struct find {
	const struct ledger_row *want;
	struct ledger_row *slot;
	bool found;
};

static int find_clean(void *ctx, const struct ledger_row *r)
{
	struct find *f = ctx;
	const struct ledger_row *w = f->want;

	if (r->state != RAMPOOL_RES_STATE_READY || r->pid ||
	    r->nr_nodes != 1 || r->backing != w->backing ||
	    r->page_size != w->page_size || r->size != w->size ||
	    (w->nodes[0].node != RAMPOOL_NODE_ANY &&
	     r->nodes[0].node != w->nodes[0].node))
		return 0;
	*f->slot = *r;
	f->found = true;
	return 1;	/* the first, in name order */
}

int warm_claim(struct rampool_pool *pool, struct ledger *l,
	       struct ledger_row *row, struct warm_move *m)
{
	struct ledger_warm_key k = {
		.node = row->nodes[0].node, .backing = row->backing,
		.page_size = row->page_size, .slot_size = row->size,
	};
	struct ledger_row *slot = malloc(sizeof(*slot));
	struct find f = { .want = row, .slot = slot };
	int ret;

	memset(m, 0, sizeof(*m));
	m->lease_fd = -1;
	if (!slot)
		return -ENOMEM;
	ret = ledger_warm_slots(l, k.node == RAMPOOL_NODE_ANY ? NULL : &k,
				find_clean, &f);
	if (ret < 0 || !f.found) {
		free(slot);
		return ret < 0 ? ret : 0;
	}
	m->backing = row->backing;
	snprintf(m->from, sizeof(m->from), "%s", slot->name);
	snprintf(m->to, sizeof(m->to), "%s", row->name);
	m->from_uid = slot->uid;
	m->to_uid = row->uid;
	ret = do_move(pool, m);
	if (!ret) {
		row->nodes[0] = slot->nodes[0];	/* its node, its pages */
		row->nodes[0].owed = 0;
		row->flags |= LEDGER_F_WARM | LEDGER_F_PREALLOC;
		row->state = RAMPOOL_RES_STATE_READY;
		row->pid = 0;
		row->pid_start = 0;
		ret = ledger_delete(l, slot->id);
		if (!ret)
			ret = ledger_insert(l, row);
		if (ret)
			warm_move_undo(pool, m);
	}
	free(slot);
	return ret ? ret : 1;
}

/* ---- release into the warm pool ----------------------------------------- */

/*
 * A write lease is granted only while no other process has the file open
 * (a mapping holds it open too): held until the move is done, it also
 * makes a new open wait for it.
 */
static int lease_file(struct rampool_pool *pool, const struct ledger_row *r)
{
	char path[4096];
	int fd;

	if (res_file_path(pool, r->backing, r->name, path, sizeof(path)))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fcntl(fd, F_SETLEASE, F_WRLCK)) {
		int err = errno;

		close(fd);
		return err == EAGAIN ? -EBUSY : -err;
	}
	return fd;
}

int warm_release(struct rampool_pool *pool, struct ledger *l,
		 const struct ledger_row *r, struct warm_move *m)
{
	struct ledger_warm_key k = {
		.node = r->nodes[0].node, .backing = r->backing,
		.page_size = r->page_size, .slot_size = r->size,
	};
	struct ledger_row *slot;
	int ret;

	memset(m, 0, sizeof(*m));
	m->lease_fd = -1;
	if (r->kind != LEDGER_RESERVATION ||
	    r->state != RAMPOOL_RES_STATE_READY || r->nr_nodes != 1 ||
	    r->extra || r->grp[0] || k.node == RAMPOOL_NODE_ANY ||
	    (r->flags & LEDGER_F_INTERLEAVE))
		return 0;
	ret = warm_short(l, &k);
	if (ret <= 0)
		return ret;
	ret = lease_file(pool, r);
	if (ret < 0) {
		/* in use, or no lease to be had (fs.leases-enable=0): then it
		 * is released as usual, which says whether it is in use */
		if (ret != -EBUSY)
			rp_info(&pool->log, "%s not kept warm: no write lease: "
				"%s", r->name, strerror(-ret));
		return 0;
	}
	m->lease_fd = ret;
	slot = calloc(1, sizeof(*slot));
	if (!slot) {
		warm_move_done(m);
		return -ENOMEM;
	}
	m->backing = r->backing;
	snprintf(m->from, sizeof(m->from), "%s", r->name);
	warm_slot_name(m->to, sizeof(m->to));
	m->from_uid = r->uid;
	m->to_uid = 0;
	ret = do_move(pool, m);
	if (!ret) {
		/* dirty: the owner's data are in it until a fill zeroes it */
		snprintf(slot->name, sizeof(slot->name), "%s", m->to);
		slot->kind = LEDGER_WARM;
		slot->backing = r->backing;
		slot->page_size = r->page_size;
		slot->size = r->size;
		slot->state = LEDGER_WARM_DIRTY;
		slot->created = (int64_t)time(NULL);
		slot->nr_nodes = 1;
		slot->nodes[0].node = k.node;
		slot->nodes[0].size = r->size;
		slot->nodes[0].populated = res_populated_now(pool, slot);
		ret = ledger_delete(l, r->id);
		if (!ret)
			ret = ledger_insert(l, slot);
		if (ret)
			warm_move_undo(pool, m);
	} else {
		warm_move_done(m);
	}
	free(slot);
	return ret ? ret : 1;
}
