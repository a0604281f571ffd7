// SPDX-License-Identifier: LGPL-2.1-or-later
/* ledger_rows.c: the ledger's rows (reservations and blocks), their node shares and the sums. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "../backend/parse.h"
#include "ledger.h"


static int fail(struct ledger *l, const char *what)
{
	int rc = sqlite3_extended_errcode(l->db);

	if (rc == SQLITE_CONSTRAINT_UNIQUE ||
	    rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		return -EEXIST;
	rp_err(&l->pool->log, "ledger: %s: %s", what, sqlite3_errmsg(l->db));
	switch (rc & 0xff) {
	case SQLITE_NOMEM: return -ENOMEM;
	case SQLITE_BUSY: case SQLITE_LOCKED: return -EBUSY;
	case SQLITE_READONLY: case SQLITE_PERM: return -EACCES;
	case SQLITE_FULL: return -ENOSPC;
	default: return -EIO;
	}
}

static int prep(struct ledger *l, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(l->db, sql, -1, st, NULL))
		return fail(l, sql);
	return 0;
}

static int done(struct ledger *l, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st), ret = 0;

	if (rc != SQLITE_DONE)
		ret = fail(l, what);
	sqlite3_finalize(st);
	return ret;
}

static int insert_nodes(struct ledger *l, const struct ledger_row *r)
{
	static const char sql[] =
		"INSERT INTO res_node(res_id, idx, node, page_size, backing,"
		" size, promised, populated, owed) VALUES(?,?,?,?,?,?,?,?,?)";
	sqlite3_stmt *st;
	int ret = prep(l, sql, &st);

	for (unsigned int i = 0; !ret && i < r->nr_nodes; i++) {
		const struct ledger_node *n = &r->nodes[i];

		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, r->id);
		sqlite3_bind_int(st, 2, (int)i);
		sqlite3_bind_int(st, 3, n->node);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)r->page_size);
		sqlite3_bind_int(st, 5, r->backing);
		sqlite3_bind_int64(st, 6, (sqlite3_int64)n->size);
		/* the headroom is promised with the first share */
		sqlite3_bind_int64(st, 7, (sqlite3_int64)(n->size +
					   (i ? 0 : r->extra)));
		sqlite3_bind_int64(st, 8, (sqlite3_int64)n->populated);
		sqlite3_bind_int64(st, 9, (sqlite3_int64)n->owed);
		if (sqlite3_step(st) != SQLITE_DONE)
			ret = fail(l, "insert node share");
	}
	sqlite3_finalize(st);
	return ret;
}

int ledger_insert(struct ledger *l, struct ledger_row *r)
{
	static const char sql[] =
		"INSERT INTO res(name, kind, backing, page_size, size, extra,"
		" state, uid, pid, pid_start, flags, created, grp, block)"
		" VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
	sqlite3_stmt *st;
	int ret = prep(l, sql, &st);

	if (ret)
		return ret;
	sqlite3_bind_text(st, 1, r->name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, r->kind);
	sqlite3_bind_int(st, 3, r->backing);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)r->page_size);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)r->size);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)r->extra);
	sqlite3_bind_int(st, 7, r->state);
	sqlite3_bind_int64(st, 8, r->uid);
	sqlite3_bind_int(st, 9, r->pid);
	sqlite3_bind_int64(st, 10, (sqlite3_int64)r->pid_start);
	sqlite3_bind_int(st, 11, (int)r->flags);
	sqlite3_bind_int64(st, 12, r->created);
	if (r->grp[0]) {
		sqlite3_bind_text(st, 13, r->grp, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 14, r->block, -1, SQLITE_STATIC);
	}
	ret = done(l, st, "insert row");
	if (ret)
		return ret;
	r->id = sqlite3_last_insert_rowid(l->db);
	return insert_nodes(l, r);
}

static void row_from(sqlite3_stmt *st, struct ledger_row *r)
{
	const unsigned char *name = sqlite3_column_text(st, 1);

	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(st, 0);
	snprintf(r->name, sizeof(r->name), "%s", name ? (const char *)name : "");
	r->kind = sqlite3_column_int(st, 2);
	r->backing = sqlite3_column_int(st, 3);
	r->page_size = (uint64_t)sqlite3_column_int64(st, 4);
	r->size = (uint64_t)sqlite3_column_int64(st, 5);
	r->extra = (uint64_t)sqlite3_column_int64(st, 6);
	r->state = sqlite3_column_int(st, 7);
	r->uid = (uid_t)sqlite3_column_int64(st, 8);
	r->pid = sqlite3_column_int(st, 9);
	r->pid_start = (uint64_t)sqlite3_column_int64(st, 10);
	r->flags = (unsigned int)sqlite3_column_int(st, 11);
	r->created = sqlite3_column_int64(st, 12);
	name = sqlite3_column_text(st, 13);
	snprintf(r->grp, sizeof(r->grp), "%s", name ? (const char *)name : "");
	name = sqlite3_column_text(st, 14);
	snprintf(r->block, sizeof(r->block), "%s",
		 name ? (const char *)name : "");
}

static int load_nodes(struct ledger *l, struct ledger_row *r)
{
	/* schema 1 (a reader's older ledger) has no owed column */
	const char *sql = l->schema >= 2 ?
		"SELECT node, size, populated, owed FROM res_node"
		" WHERE res_id = ? ORDER BY idx" :
		"SELECT node, size, populated, 0 FROM res_node"
		" WHERE res_id = ? ORDER BY idx";
	sqlite3_stmt *st;
	int ret = prep(l, sql, &st), rc;

	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, r->id);
	r->nr_nodes = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW &&
	       r->nr_nodes < LEDGER_MAX_NODES) {
		struct ledger_node *n = &r->nodes[r->nr_nodes++];

		n->node = sqlite3_column_int(st, 0);
		n->size = (uint64_t)sqlite3_column_int64(st, 1);
		n->populated = (uint64_t)sqlite3_column_int64(st, 2);
		n->owed = (uint64_t)sqlite3_column_int64(st, 3);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = fail(l, "read node shares");
	sqlite3_finalize(st);
	return ret;
}

/* schema 3's columns; a reader of an older ledger reads NULLs for them */
#define ROW_COLS_BASE "id, name, kind, backing, page_size, size, extra," \
		      " state, uid, pid, pid_start, flags, created"
#define ROW_COLS(l) ((l)->schema >= 3 ? ROW_COLS_BASE ", grp, block" \
				      : ROW_COLS_BASE ", NULL, NULL")

/* "SELECT <the row's columns> FROM res <tail>", prepared. */
static int prep_rows(struct ledger *l, const char *tail, sqlite3_stmt **st)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "SELECT %s FROM res %s", ROW_COLS(l),
		 tail);
	return prep(l, sql, st);
}

int ledger_get(struct ledger *l, const char *name, struct ledger_row *r)
{
	sqlite3_stmt *st;
	int ret = prep_rows(l, "WHERE name = ?", &st);
	int rc;

	if (ret)
		return ret;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		row_from(st, r);
	else
		ret = rc == SQLITE_DONE ? -ENOENT : fail(l, "read row");
	sqlite3_finalize(st);
	return ret ? ret : load_nodes(l, r);
}

/* fn for each row st yields (its parameters bound). */
static int each(struct ledger *l, sqlite3_stmt *st,
		int (*fn)(void *ctx, const struct ledger_row *r), void *ctx)
{
	struct ledger_row *r = malloc(sizeof(*r));
	int ret = r ? 0 : -ENOMEM, rc = SQLITE_DONE;

	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		row_from(st, r);
		ret = load_nodes(l, r);
		if (!ret)
			ret = fn(ctx, r);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = fail(l, "list rows");
	sqlite3_finalize(st);
	free(r);
	return ret;
}

int ledger_each(struct ledger *l, bool owned_only,
		int (*fn)(void *ctx, const struct ledger_row *r), void *ctx)
{
	sqlite3_stmt *st;
	int ret = prep_rows(l, owned_only ?
				    "INDEXED BY res_pid WHERE pid != 0" :
				    "ORDER BY name", &st);

	return ret ? ret : each(l, st, fn, ctx);
}

int ledger_each_member(struct ledger *l, const char *grp,
		       int (*fn)(void *ctx, const struct ledger_row *r),
		       void *ctx)
{
	sqlite3_stmt *st;
	int ret;

	if (l->schema < 3)
		return 0;	/* no groups before schema 3 */
	ret = prep_rows(l, "WHERE grp = ? ORDER BY name", &st);
	if (ret)
		return ret;
	sqlite3_bind_text(st, 1, grp, -1, SQLITE_TRANSIENT);
	return each(l, st, fn, ctx);
}

int ledger_delete(struct ledger *l, int64_t id)
{
	sqlite3_stmt *st;
	int ret = prep(l, "DELETE FROM res WHERE id = ?", &st);

	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, id);
	return done(l, st, "delete row");
}

int ledger_set_state(struct ledger *l, int64_t id, int state, int pid,
		     uint64_t pid_start)
{
	sqlite3_stmt *st;
	int ret = prep(l, "UPDATE res SET state = ?, pid = ?, pid_start = ?"
		       " WHERE id = ?", &st);

	if (ret)
		return ret;
	sqlite3_bind_int(st, 1, state);
	sqlite3_bind_int(st, 2, pid);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)pid_start);
	sqlite3_bind_int64(st, 4, id);
	return done(l, st, "set state");
}

int ledger_set_flags(struct ledger *l, int64_t id, unsigned int flags)
{
	sqlite3_stmt *st;
	int ret = prep(l, "UPDATE res SET flags = ? WHERE id = ?", &st);

	if (ret)
		return ret;
	sqlite3_bind_int(st, 1, (int)flags);
	sqlite3_bind_int64(st, 2, id);
	return done(l, st, "set flags");
}

/* One figure of one node share; sql names the column. */
static int set_share(struct ledger *l, const char *sql, int64_t id, int node,
		     uint64_t v)
{
	sqlite3_stmt *st;
	int ret = prep(l, sql, &st);

	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)v);
	sqlite3_bind_int64(st, 2, id);
	sqlite3_bind_int(st, 3, node);
	return done(l, st, sql);
}

int ledger_set_populated(struct ledger *l, int64_t id, int node,
			 uint64_t populated)
{
	return set_share(l, "UPDATE res_node SET populated = ?"
			 " WHERE res_id = ? AND node = ?", id, node, populated);
}

int ledger_set_owed(struct ledger *l, int64_t id, int node, uint64_t owed)
{
	return set_share(l, "UPDATE res_node SET owed = ?"
			 " WHERE res_id = ? AND node = ?", id, node, owed);
}

int ledger_set_size(struct ledger *l, int64_t id, uint64_t size,
		    uint64_t extra, int node, uint64_t node_size)
{
	sqlite3_stmt *st;
	int ret = prep(l, "UPDATE res SET size = ?, extra = ? WHERE id = ?",
		       &st);

	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)size);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)extra);
	sqlite3_bind_int64(st, 3, id);
	ret = done(l, st, "set size");
	if (ret)
		return ret;
	ret = prep(l, "UPDATE res_node SET size = ?, promised = ?"
		   " WHERE res_id = ? AND node = ?", &st);
	if (ret)
		return ret;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)node_size);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)(node_size + extra));
	sqlite3_bind_int64(st, 3, id);
	sqlite3_bind_int(st, 4, node);
	return done(l, st, "set node size");
}

int ledger_totals(struct ledger *l,
		  int (*fn)(void *ctx, uint64_t page_size, int node,
			    int backing, uint64_t promised,
			    uint64_t populated),
		  void *ctx)
{
	sqlite3_stmt *st;
	int ret = prep(l, "SELECT page_size, node, backing, promised,"
		       " populated FROM totals WHERE promised != 0"
		       " OR populated != 0 ORDER BY page_size, node", &st);
	int rc;

	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW)
		ret = fn(ctx, (uint64_t)sqlite3_column_int64(st, 0),
			 sqlite3_column_int(st, 1), sqlite3_column_int(st, 2),
			 (uint64_t)sqlite3_column_int64(st, 3),
			 (uint64_t)sqlite3_column_int64(st, 4));
	if (!ret && rc != SQLITE_DONE)
		ret = fail(l, "read sums");
	sqlite3_finalize(st);
	return ret;
}

int ledger_res_populated(struct ledger *l, int backing, uint64_t *out)
{
	sqlite3_stmt *st;
	int ret = prep(l, "SELECT total(n.populated) FROM res_node n"
		       " JOIN res r ON r.id = n.res_id"
		       " WHERE r.kind != ? AND n.backing = ?", &st);

	if (ret)
		return ret;
	sqlite3_bind_int(st, 1, LEDGER_BLOCK);
	sqlite3_bind_int(st, 2, backing);
	if (sqlite3_step(st) != SQLITE_ROW)
		ret = fail(l, "sum populated");
	else
		*out = (uint64_t)sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	return ret;
}

int ledger_check_totals(struct ledger *l)
{
	static const char sql[] =
		"SELECT count(*) FROM (SELECT page_size, node, backing,"
		" sum(promised) p, sum(populated) q FROM res_node"
		" GROUP BY page_size, node, backing) s"
		" FULL OUTER JOIN (SELECT * FROM totals WHERE promised != 0"
		" OR populated != 0) t USING (page_size, node, backing)"
		" WHERE s.p IS NOT t.promised OR s.q IS NOT t.populated";
	sqlite3_stmt *st;
	int ret = prep(l, sql, &st);

	if (ret)
		return ret;
	if (sqlite3_step(st) != SQLITE_ROW)
		ret = fail(l, "check sums");
	else if (sqlite3_column_int(st, 0))
		ret = -EUCLEAN;
	sqlite3_finalize(st);
	return ret;
}

uint64_t ledger_proc_start(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	n = (ssize_t)fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	/* the command may hold spaces and parentheses: start after the last */
	p = strrchr(buf, ')');
	if (!p)
		return 0;
	/* fields 3..22: state is 3, starttime is 22 */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u "
		   "%*u %*d %*d %*d %*d %*d %*d %llu", &start) != 1)
		return 0;
	return start;
}

bool ledger_owner_dead(const struct ledger_row *r)
{
	uint64_t start;

	if (!r->pid)
		return false;
	start = ledger_proc_start(r->pid);
	if (start)
		return start != r->pid_start;
	/*
	 * No /proc entry we can read: gone, or hidden from us (/proc with
	 * hidepid=, another user's process). Only a pid that does not exist
	 * is dead; a hidden one is left to a caller who can see it.
	 */
	return kill(r->pid, 0) && errno == ESRCH;
}

/* ---- the warm pool (schema 4) ------------------------------------------- */

int ledger_warm_target_set(struct ledger *l, const struct ledger_warm_key *k,
			   unsigned int count)
{
	sqlite3_stmt *st;
	int ret = prep(l, count ?
		       "INSERT OR REPLACE INTO warm_target(node, backing,"
		       " page_size, slot_size, count) VALUES(?,?,?,?,?)" :
		       "DELETE FROM warm_target WHERE node = ? AND backing = ?"
		       " AND page_size = ? AND slot_size = ?", &st);

	if (ret)
		return ret;
	sqlite3_bind_int(st, 1, k->node);
	sqlite3_bind_int(st, 2, k->backing);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)k->page_size);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)k->slot_size);
	if (count)
		sqlite3_bind_int64(st, 5, count);
	return done(l, st, "set warm target");
}

int ledger_warm_targets(struct ledger *l,
			int (*fn)(void *ctx, const struct ledger_warm_key *k,
				  unsigned int count),
			void *ctx)
{
	sqlite3_stmt *st;
	int ret, rc = SQLITE_DONE;

	if (l->schema < 4)
		return 0;
	ret = prep(l, "SELECT node, backing, page_size, slot_size, count"
		   " FROM warm_target ORDER BY node, backing, page_size,"
		   " slot_size", &st);
	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ledger_warm_key k = {
			.node = sqlite3_column_int(st, 0),
			.backing = sqlite3_column_int(st, 1),
			.page_size = (uint64_t)sqlite3_column_int64(st, 2),
			.slot_size = (uint64_t)sqlite3_column_int64(st, 3),
		};

		ret = fn(ctx, &k, (unsigned int)sqlite3_column_int64(st, 4));
	}
	if (!ret && rc != SQLITE_DONE)
		ret = fail(l, "read warm targets");
	if (st)
		sqlite3_finalize(st);
	return ret;
}

int ledger_warm_slots(struct ledger *l, const struct ledger_warm_key *k,
		      int (*fn)(void *ctx, const struct ledger_row *r),
		      void *ctx)
{
	sqlite3_stmt *st;
	int ret;

	if (l->schema < 4)
		return 0;
	ret = prep_rows(l, k ? "WHERE kind = 3 AND backing = ? AND"
			       " page_size = ? AND size = ? AND id IN"
			       " (SELECT res_id FROM res_node WHERE node = ?)"
			       " ORDER BY name"
			     : "WHERE kind = 3 ORDER BY name", &st);
	if (ret)
		return ret;
	if (k) {
		sqlite3_bind_int(st, 1, k->backing);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)k->page_size);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)k->slot_size);
		sqlite3_bind_int(st, 4, k->node);
	}
	return each(l, st, fn, ctx);
}

/* ---- counters (schema 5) ------------------------------------------------ */

int ledger_count_add(struct ledger *l, const char *name, int node,
		     uint64_t page_size, uint64_t n)
{
	sqlite3_stmt *st;
	int ret = prep(l, "INSERT INTO counters(name, node, page_size, value)"
		       " VALUES(?1, ?2, ?3, ?4) ON CONFLICT(name, node,"
		       " page_size) DO UPDATE SET value = value + ?4", &st);

	if (ret)
		return ret;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, node);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)page_size);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)n);
	return done(l, st, "count");
}

int ledger_counters(struct ledger *l,
		    int (*fn)(void *ctx, const char *name, int node,
			      uint64_t page_size, uint64_t value),
		    void *ctx)
{
	sqlite3_stmt *st;
	int ret, rc = SQLITE_DONE;

	if (l->schema < 5)
		return 0;
	ret = prep(l, "SELECT name, node, page_size, value FROM counters"
		   " ORDER BY name, node, page_size", &st);
	while (!ret && (rc = sqlite3_step(st)) == SQLITE_ROW)
		ret = fn(ctx, (const char *)sqlite3_column_text(st, 0),
			 sqlite3_column_int(st, 1),
			 (uint64_t)sqlite3_column_int64(st, 2),
			 (uint64_t)sqlite3_column_int64(st, 3));
	if (!ret && rc != SQLITE_DONE)
		ret = fail(l, "read counters");
	if (st)
		sqlite3_finalize(st);
	return ret;
}
