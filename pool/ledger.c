// SPDX-License-Identifier: LGPL-2.1-or-later
/* ledger.c: the host-wide ledger: SQLite (WAL) in the state directory, schema, rows and sums. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "ledger.h"


/*
 * Version 1. res_node carries page_size and backing so that the triggers
 * can keep `totals` (per page size, node and backing) without a join: a
 * capacity decision reads a handful of sums, whatever the number of rows.
 */
static const char *const schema_v1 =
	"CREATE TABLE res("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE,"
	" kind INTEGER NOT NULL,"
	" backing INTEGER NOT NULL,"
	" page_size INTEGER NOT NULL,"
	" size INTEGER NOT NULL,"
	" extra INTEGER NOT NULL,"
	" state INTEGER NOT NULL,"
	" uid INTEGER NOT NULL,"
	" pid INTEGER NOT NULL,"
	" pid_start INTEGER NOT NULL,"
	" flags INTEGER NOT NULL,"
	" created INTEGER NOT NULL);"
	"CREATE INDEX res_pid ON res(pid) WHERE pid != 0;"
	"CREATE TABLE res_node("
	" res_id INTEGER NOT NULL REFERENCES res(id) ON DELETE CASCADE,"
	" idx INTEGER NOT NULL,"
	" node INTEGER NOT NULL,"
	" page_size INTEGER NOT NULL,"
	" backing INTEGER NOT NULL,"
	" size INTEGER NOT NULL,"
	" promised INTEGER NOT NULL,"
	" populated INTEGER NOT NULL,"
	" PRIMARY KEY(res_id, idx));"
	"CREATE TABLE totals("
	" page_size INTEGER NOT NULL,"
	" node INTEGER NOT NULL,"
	" backing INTEGER NOT NULL,"
	" promised INTEGER NOT NULL,"
	" populated INTEGER NOT NULL,"
	" PRIMARY KEY(page_size, node, backing));"
	"CREATE TRIGGER res_node_ins AFTER INSERT ON res_node BEGIN"
	" INSERT OR IGNORE INTO totals VALUES"
	"  (NEW.page_size, NEW.node, NEW.backing, 0, 0);"
	" UPDATE totals SET promised = promised + NEW.promised,"
	"  populated = populated + NEW.populated"
	"  WHERE page_size = NEW.page_size AND node = NEW.node"
	"  AND backing = NEW.backing;"
	" END;"
	"CREATE TRIGGER res_node_del AFTER DELETE ON res_node BEGIN"
	" UPDATE totals SET promised = promised - OLD.promised,"
	"  populated = populated - OLD.populated"
	"  WHERE page_size = OLD.page_size AND node = OLD.node"
	"  AND backing = OLD.backing;"
	" END;"
	"CREATE TRIGGER res_node_upd AFTER UPDATE ON res_node BEGIN"
	" UPDATE totals SET promised = promised - OLD.promised + NEW.promised,"
	"  populated = populated - OLD.populated + NEW.populated"
	"  WHERE page_size = OLD.page_size AND node = OLD.node"
	"  AND backing = OLD.backing;"
	" END;";

/*
 * Migrations: migrations[v] takes a ledger of version v to v + 1, inside
 * the transaction that sets user_version (all or nothing).
 *
 * 2: res_node.owed, the bytes of a hugetlb share whose kernel reservation
 * is gone (a block's discard with RAMPOOL_DISCARD_RELEASE, or a
 * re-reserve that lost the race): promised, no longer held. Shmem needs
 * no column: there everything not populated is owed.
 */
static const char *const migrations[] = {
	[0] = NULL,	/* 0 -> 1 is schema_v1 itself */
	[1] = "ALTER TABLE res_node ADD COLUMN owed INTEGER NOT NULL"
	      " DEFAULT 0;",
	/*
	 * 3: a group's members (rampool_plan_reserve): grp, the group's
	 * name; block, the RAM block id the member backs, as given.
	 */
	[2] = "ALTER TABLE res ADD COLUMN grp TEXT;"
	      "ALTER TABLE res ADD COLUMN block TEXT;"
	      "CREATE INDEX res_grp ON res(grp) WHERE grp IS NOT NULL;",
	/* 4: the warm pool's targets (its slots are rows of kind 3) */
	[3] = "CREATE TABLE warm_target("
	      " node INTEGER NOT NULL, backing INTEGER NOT NULL,"
	      " page_size INTEGER NOT NULL, slot_size INTEGER NOT NULL,"
	      " count INTEGER NOT NULL,"
	      " PRIMARY KEY(node, backing, page_size, slot_size));"
	      "CREATE INDEX res_kind ON res(kind) WHERE kind = 3;",
	/* 5: counters of events (refusals, SIGBUS avoided) per node and size */
	[4] = "CREATE TABLE counters("
	      " name TEXT NOT NULL, node INTEGER NOT NULL,"
	      " page_size INTEGER NOT NULL, value INTEGER NOT NULL,"
	      " PRIMARY KEY(name, node, page_size));",
};

static int sql_err(struct ledger *l, int rc, const char *what)
{
	int err;

	switch (rc & 0xff) {
	case SQLITE_OK: return 0;
	case SQLITE_NOMEM: err = ENOMEM; break;
	case SQLITE_BUSY: case SQLITE_LOCKED: err = EBUSY; break;
	case SQLITE_PERM: case SQLITE_READONLY: case SQLITE_AUTH:
		err = EACCES; break;
	case SQLITE_CANTOPEN: err = ENOENT; break;
	case SQLITE_CONSTRAINT: err = EEXIST; break;
	case SQLITE_FULL: err = ENOSPC; break;
	case SQLITE_CORRUPT: case SQLITE_NOTADB: err = EUCLEAN; break;
	default: err = EIO; break;
	}
	rp_err(&l->pool->log, "ledger: %s: %s", what,
	       l->db ? sqlite3_errmsg(l->db) : sqlite3_errstr(rc));
	return -err;
}

static int exec(struct ledger *l, const char *sql)
{
	int rc = sqlite3_exec(l->db, sql, NULL, NULL, NULL);

	return rc ? sql_err(l, rc, sql) : 0;
}

static int prepare(struct ledger *l, const char *sql, sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v2(l->db, sql, -1, st, NULL);

	return rc ? sql_err(l, rc, sql) : 0;
}

static int user_version(struct ledger *l, int *v)
{
	sqlite3_stmt *st;
	int ret = prepare(l, "PRAGMA user_version", &st);

	if (ret)
		return ret;
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return sql_err(l, sqlite3_errcode(l->db), "user_version");
	}
	*v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return 0;
}

static int migrate(struct ledger *l)
{
	char sql[64];
	int v = 0, ret;

	ret = ledger_begin(l);
	if (ret)
		return ret;
	ret = user_version(l, &v);
	if (!ret && v > LEDGER_SCHEMA) {
		rp_err(&l->pool->log, "ledger: schema version %d is newer "
		       "than this library's %d", v, LEDGER_SCHEMA);
		ret = -EPROTO;
	}
	if (!ret && v == 0)
		ret = exec(l, schema_v1);
	for (int i = v ? v : 1; !ret && i < LEDGER_SCHEMA; i++)
		ret = exec(l, migrations[i]);
	if (!ret && v != LEDGER_SCHEMA) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
			 LEDGER_SCHEMA);
		ret = exec(l, sql);
	}
	if (ret) {
		ledger_rollback(l);
		return ret;
	}
	l->schema = LEDGER_SCHEMA;
	return ledger_commit(l);
}

/*
 * A reader understands this library's schema and no later one; a ledger
 * made but never written (version 0) holds nothing yet.
 */
static int check_version(struct ledger *l)
{
	int v = 0, ret = user_version(l, &v);

	if (ret)
		return ret;
	if (v > LEDGER_SCHEMA) {
		rp_err(&l->pool->log, "ledger: schema version %d is newer "
		       "than this library's %d", v, LEDGER_SCHEMA);
		return -EPROTO;
	}
	/* older: read as it is (the next writer migrates it) */
	l->schema = v;
	return v ? 0 : -ENOENT;
}

/* The service group's gid, or -1 (root alone). */
static gid_t service_gid(const struct rampool_pool *pool)
{
	const char *name = pool->group ? pool->group : "rampool";
	struct group gr, *res = NULL;
	char buf[4096];

	if (getgrnam_r(name, &gr, buf, sizeof(buf), &res) || !res)
		return (gid_t)-1;
	return res->gr_gid;
}

/*
 * Makes the state directory (0755: reservation owners walk through it to
 * their mounts) and the ledger file: 0660 root:group when the service group
 * exists, else 0600. Only root creates them; SQLite's -wal and -shm files
 * take the database file's owner and mode.
 */
static int make_files(struct ledger *l, const char *path)
{
	const char *dir = l->pool->state_dir;
	gid_t gid = service_gid(l->pool);
	int fd, err;

	if (geteuid())
		return -EACCES;
	if (!mkdir(dir, 0755)) {
		/* the caller's umask (077 for many root shells) must not
		 * lock the owners out of their mounts */
		if (chmod(dir, 0755)) {
			err = errno;
			rp_err(&l->pool->log, "ledger: chmod %s: %s", dir,
			       strerror(err));
			return -err;
		}
	} else if (errno != EEXIST) {
		err = errno;
		rp_err(&l->pool->log, "ledger: mkdir %s: %s", dir,
		       strerror(err));
		return -err;
	}
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = errno;
		rp_err(&l->pool->log, "ledger: %s: %s", path, strerror(err));
		return -err;
	}
	if (gid != (gid_t)-1 && (fchown(fd, 0, gid) || fchmod(fd, 0660))) {
		err = errno;
		close(fd);
		rp_err(&l->pool->log, "ledger: %s: %s", path, strerror(err));
		return -err;
	}
	close(fd);
	return 0;
}

/* The writers' lock file, made like the ledger file (root:group 0660). */
static int open_lock(struct ledger *l)
{
	char path[4096];
	gid_t gid;
	int err;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s.lock",
			     l->pool->state_dir, LEDGER_FILE) >= sizeof(path))
		return -ENAMETOOLONG;
	l->lockfd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (l->lockfd >= 0)
		return 0;
	if (errno != ENOENT || geteuid())
		return errno == ENOENT ? -EACCES : -errno;
	l->lockfd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
			 0600);
	if (l->lockfd < 0)
		return -errno;
	gid = service_gid(l->pool);
	if (gid != (gid_t)-1 && (fchown(l->lockfd, 0, gid) ||
				 fchmod(l->lockfd, 0660))) {
		err = errno;
		rp_err(&l->pool->log, "ledger: %s: %s", path, strerror(err));
		return -err;
	}
	return 0;
}

static int connect(struct ledger *l, const char *path, int mode)
{
	int flags = SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_FULLMUTEX |
		    (mode == LEDGER_WRITE ? SQLITE_OPEN_READWRITE
					  : SQLITE_OPEN_READONLY);
	int rc, persist = 1;

	rc = sqlite3_open_v2(path, &l->db, flags, NULL);
	if (rc) {
		int ret = sql_err(l, rc, path);

		return ret == -EIO ? -EACCES : ret;
	}
	sqlite3_busy_timeout(l->db, 60000);
	/* small WAL: each connection reads it whole when it opens */
	sqlite3_wal_autocheckpoint(l->db, 64);
	sqlite3_extended_result_codes(l->db, 1);
	/* keep -wal and -shm so that readers without write access can open */
	sqlite3_file_control(l->db, NULL, SQLITE_FCNTL_PERSIST_WAL, &persist);
	if (mode == LEDGER_WRITE) {
		/*
		 * Switching a new ledger to WAL upgrades to an exclusive lock;
		 * two connections doing it at once get SQLITE_BUSY at once
		 * (SQLite's deadlock rule, no busy wait): one at a time.
		 */
		while (flock(l->lockfd, LOCK_EX))
			if (errno != EINTR)
				return -errno;
		rc = exec(l, "PRAGMA journal_mode = WAL");
		flock(l->lockfd, LOCK_UN);
		if (!rc)
			rc = exec(l, "PRAGMA synchronous = NORMAL");
		if (rc)
			return rc;
	}
	return exec(l, "PRAGMA foreign_keys = ON");
}

/*
 * The longest ledger path SQLite opens: its VFS's mxPathname less the 8
 * bytes of the longest journal suffix ("-journal"). Longer, it fails
 * with SQLITE_CANTOPEN, which would read as "no ledger yet".
 */
static size_t max_path(void)
{
	sqlite3_vfs *vfs = sqlite3_vfs_find(NULL);
	size_t mx = vfs ? (size_t)vfs->mxPathname : 512;

	return mx > 8 ? mx - 8 : 0;
}

int ledger_connect(struct rampool_pool *pool, int mode, struct ledger *l)
{
	char path[4096];
	size_t n;
	int ret;

	n = (size_t)snprintf(path, sizeof(path), "%s/%s", pool->state_dir,
			     LEDGER_FILE);
	if (n >= sizeof(path) || n > max_path()) {
		rp_err(&pool->log, "ledger: state directory path too long "
		       "(the ledger's path may have %zu bytes)", max_path());
		return -ENAMETOOLONG;
	}
	memset(l, 0, sizeof(*l));
	l->pool = pool;
	l->lockfd = -1;
	if (access(path, F_OK)) {
		ret = mode == LEDGER_WRITE ? make_files(l, path) : -ENOENT;
		if (ret)
			return ret;
	} else if (access(path, mode == LEDGER_WRITE ? R_OK | W_OK : R_OK)) {
		return -EACCES;
	}
	ret = mode == LEDGER_WRITE ? open_lock(l) : 0;
	/*
	 * Switching to WAL needs the database to itself and SQLite answers
	 * SQLITE_BUSY at once, without its busy handler, when another
	 * process opens it at that moment: writers connect under the lock
	 * (migrate's commit lets it go).
	 */
	while (!ret && mode == LEDGER_WRITE && flock(l->lockfd, LOCK_EX))
		if (errno != EINTR)
			ret = -errno;
	if (!ret)
		ret = connect(l, path, mode);
	l->writable = mode == LEDGER_WRITE;
	if (!ret)
		ret = mode == LEDGER_WRITE ? migrate(l) : check_version(l);
	if (ret)
		ledger_disconnect(l);
	return ret;
}

bool ledger_exists(const struct rampool_pool *pool)
{
	char path[4096];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", pool->state_dir,
			     LEDGER_FILE) >= sizeof(path))
		return true;	/* let the open say what is wrong */
	return !access(path, F_OK) || errno != ENOENT;
}

int ledger_open(struct rampool_pool *pool, int mode, struct ledger **out)
{
	struct ledger *l = calloc(1, sizeof(*l));
	int ret;

	if (!l)
		return -ENOMEM;
	ret = ledger_connect(pool, mode, l);
	if (ret) {
		free(l);
		return ret;
	}
	*out = l;
	return 0;
}

void ledger_disconnect(struct ledger *l)
{
	/*
	 * The -wal file is kept (readers without write access need it), so
	 * empty it: a connection opened later reads the whole of it first,
	 * and that must not grow with the number of operations done.
	 */
	if (l->writable && l->db) {
		/* never wait for it: another process's reader empties it later */
		sqlite3_busy_timeout(l->db, 0);
		sqlite3_wal_checkpoint_v2(l->db, NULL,
					  SQLITE_CHECKPOINT_TRUNCATE, NULL,
					  NULL);
	}
	sqlite3_close_v2(l->db);
	l->db = NULL;
	if (l->lockfd >= 0)
		close(l->lockfd);
	l->lockfd = -1;
}

void ledger_close(struct ledger *l)
{
	if (!l)
		return;
	ledger_disconnect(l);
	free(l);
}

bool ledger_writable(const struct ledger *l)
{
	return l->writable;
}

static void unlock(struct ledger *l)
{
	if (l->lockfd >= 0)
		flock(l->lockfd, LOCK_UN);
}

int ledger_begin(struct ledger *l)
{
	int ret;

	if (!l->writable)
		return exec(l, "BEGIN");
	while (flock(l->lockfd, LOCK_EX))
		if (errno != EINTR)
			return -errno;
	ret = exec(l, "BEGIN IMMEDIATE");
	if (ret)
		unlock(l);
	return ret;
}

int ledger_commit(struct ledger *l)
{
	int ret = exec(l, "COMMIT");

	if (ret)
		sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
	unlock(l);
	return ret;
}

void ledger_rollback(struct ledger *l)
{
	sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
	unlock(l);
}
