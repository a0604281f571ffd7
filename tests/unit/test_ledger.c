// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_ledger.c: the ledger on a real SQLite file: creation and modes, schema, rows, the sums' triggers, owners' liveness. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "tests/unit/t_res.h"
#include "pool/ledger.h"

static char tmp[PATH_MAX], state[PATH_MAX + 16], db[PATH_MAX + 32];
static char group[32];		/* a throwaway group, removed in teardown */

static int setup(void **st)
{
	(void)st;
	t_tmpdir(tmp, sizeof(tmp));
	snprintf(state, sizeof(state), "%s/state", tmp);
	snprintf(db, sizeof(db), "%s/" LEDGER_FILE, state);
	return 0;
}

static int teardown(void **st)
{
	char cmd[64];

	(void)st;
	t_rmtree(tmp);
	if (group[0]) {
		snprintf(cmd, sizeof(cmd), "groupdel %s", group);
		if (system(cmd))
			fprintf(stderr, "could not remove group %s\n", group);
		group[0] = 0;
	}
	umask(022);
	return 0;
}

/* ---- raw SQLite, behind the library's back ----------------------------- */

static sqlite3 *raw_open(void)
{
	sqlite3 *h;

	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL),
			 SQLITE_OK);
	return h;
}

static void raw_exec(const char *sql)
{
	sqlite3 *h = raw_open();

	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
}

static long long raw_int(const char *sql)
{
	sqlite3_stmt *s;
	sqlite3 *h = raw_open();
	long long v;

	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(h);
	return v;
}

/* ---- helpers ----------------------------------------------------------- */

/* A forked child's end: what it holds freed (valgrind checks children). */
static void child_exit(struct rampool_pool *pool, int rc)
{
	rampool_pool_free(pool);
	_exit(rc);
}

static struct ledger *open_w(struct rampool_pool *pool)
{
	struct ledger *l = NULL;

	assert_int_equal(ledger_open(pool, LEDGER_WRITE, &l), 0);
	assert_non_null(l);
	assert_true(ledger_writable(l));
	return l;
}

static void mkrow(struct ledger_row *r, const char *name, int backing,
		  uint64_t ps, uint64_t extra, unsigned int n, ...)
{
	va_list ap;

	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->kind = LEDGER_RESERVATION;
	r->backing = backing;
	r->page_size = ps;
	r->extra = extra;
	r->state = RAMPOOL_RES_STATE_READY;
	r->uid = 1000;
	r->created = 1700000000;
	r->nr_nodes = n;
	va_start(ap, n);
	for (unsigned int i = 0; i < n; i++) {
		r->nodes[i].node = va_arg(ap, int);
		r->nodes[i].size = va_arg(ap, uint64_t);
		r->nodes[i].populated = va_arg(ap, uint64_t);
		r->size += r->nodes[i].size;
	}
	va_end(ap);
}

static void assert_rows_equal(const struct ledger_row *a,
			      const struct ledger_row *b)
{
	assert_int_equal(a->id, b->id);
	assert_string_equal(a->name, b->name);
	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->backing, b->backing);
	assert_int_equal(a->page_size, b->page_size);
	assert_int_equal(a->size, b->size);
	assert_int_equal(a->extra, b->extra);
	assert_int_equal(a->state, b->state);
	assert_int_equal(a->uid, b->uid);
	assert_int_equal(a->pid, b->pid);
	assert_int_equal(a->pid_start, b->pid_start);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->created, b->created);
	assert_int_equal(a->nr_nodes, b->nr_nodes);
	for (unsigned int i = 0; i < a->nr_nodes; i++) {
		assert_int_equal(a->nodes[i].node, b->nodes[i].node);
		assert_int_equal(a->nodes[i].size, b->nodes[i].size);
		assert_int_equal(a->nodes[i].populated, b->nodes[i].populated);
		assert_int_equal(a->nodes[i].owed, b->nodes[i].owed);
	}
	assert_string_equal(a->grp, b->grp);
	assert_string_equal(a->block, b->block);
}

/* ---- open, create, modes ----------------------------------------------- */

static void test_read_missing(void **st)
{
	struct rampool_pool *pool = t_pool(state, NULL);
	struct ledger *l = (void *)0x1;

	(void)st;
	assert_int_equal(ledger_open(pool, LEDGER_READ, &l), -ENOENT);
	assert_ptr_equal(l, (void *)0x1);
	assert_false(t_exists("%s", state));	/* a reader makes nothing */
	assert_int_equal(mkdir(state, 0755), 0);
	assert_int_equal(ledger_open(pool, LEDGER_READ, &l), -ENOENT);
	assert_false(t_exists("%s", db));
	rampool_pool_free(pool);
}

static void test_create(void **st)
{
	struct rampool_pool *pool = t_pool(state, NULL);
	struct ledger *l;
	struct stat s;

	(void)st;
	/* the modes do not depend on the caller's umask */
	umask(077);
	l = open_w(pool);
	ledger_close(l);
	umask(022);
	assert_int_equal(stat(state, &s), 0);
	assert_int_equal(s.st_mode & 07777, 0755);
	assert_int_equal(stat(db, &s), 0);
	assert_int_equal(s.st_mode & 07777, 0600);
	assert_int_equal(s.st_uid, 0);
	assert_int_equal(s.st_gid, 0);
	assert_int_equal(raw_int("PRAGMA user_version"), LEDGER_SCHEMA);
	assert_int_equal(raw_int("SELECT count(*) FROM sqlite_master WHERE "
				 "name IN ('res', 'res_node', 'totals')"), 3);
	/* opened again: nothing migrates twice */
	l = open_w(pool);
	ledger_close(l);
	assert_int_equal(raw_int("PRAGMA user_version"), LEDGER_SCHEMA);
	l = NULL;
	assert_int_equal(ledger_open(pool, LEDGER_READ, &l), 0);
	assert_false(ledger_writable(l));
	ledger_close(l);
	rampool_pool_free(pool);
}

static void test_create_group(void **st)
{
	struct rampool_pool *pool;
	struct ledger_row r;
	struct ledger *l;
	struct group *gr;
	char cmd[64], path[PATH_MAX + 64];
	struct stat s;
	pid_t pid;

	(void)st;
	snprintf(group, sizeof(group), "rpunit%d", (int)getpid());
	snprintf(cmd, sizeof(cmd), "groupadd %s >/dev/null 2>&1", group);
	if (system(cmd)) {
		group[0] = 0;
		skip();	/* no groupadd here */
	}
	gr = getgrnam(group);
	assert_non_null(gr);
	pool = t_pool(state, group);
	l = open_w(pool);
	mkrow(&r, "g", RAMPOOL_RES_SHMEM, 4096, 0, 1, 0, (uint64_t)4096,
	      (uint64_t)0);
	assert_int_equal(ledger_insert(l, &r), 0);
	ledger_close(l);
	assert_int_equal(stat(db, &s), 0);
	assert_int_equal(s.st_mode & 07777, 0660);
	assert_int_equal(s.st_uid, 0);
	assert_int_equal(s.st_gid, gr->gr_gid);
	/* SQLite's side files follow the database file */
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s-%s", db, i ? "shm" : "wal");
		assert_int_equal(stat(path, &s), 0);
		assert_int_equal(s.st_mode & 07777, 0660);
		assert_int_equal(s.st_gid, gr->gr_gid);
	}
	/* a member of the group reads and writes; nobody else does */
	pid = fork();
	if (pid == 0) {
		gid_t g = gr->gr_gid;
		struct ledger *c = NULL;
		int rc = 0;

		if (setgroups(1, &g) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			child_exit(pool, 10);
		if (ledger_open(pool, LEDGER_READ, &c))
			rc |= 1;
		else if (ledger_get(c, "g", &r) || r.size != 4096)
			rc |= 2;
		ledger_close(c);
		c = NULL;
		if (ledger_open(pool, LEDGER_WRITE, &c))
			rc |= 4;
		ledger_close(c);
		child_exit(pool, rc);
	}
	assert_int_equal(t_wait(pid), 0);
	pid = fork();
	if (pid == 0) {
		struct ledger *c = NULL;
		int rc = 0;

		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			child_exit(pool, 10);
		if (ledger_open(pool, LEDGER_READ, &c) != -EACCES)
			rc |= 1;
		if (ledger_open(pool, LEDGER_WRITE, &c) != -EACCES)
			rc |= 2;
		child_exit(pool, rc);
	}
	assert_int_equal(t_wait(pid), 0);
	rampool_pool_free(pool);
}

/* Without root and no ledger yet: -EACCES, nothing made. */
static void test_nonroot(void **st)
{
	struct rampool_pool *pool = t_pool(state, NULL);
	struct ledger *l;
	pid_t pid;

	(void)st;
	pid = fork();
	if (pid == 0) {
		struct ledger *c = NULL;

		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			child_exit(pool, 10);
		child_exit(pool,
			   ledger_open(pool, LEDGER_WRITE, &c) == -EACCES ? 0
									: 1);
	}
	assert_int_equal(t_wait(pid), 0);
	assert_false(t_exists("%s", state));
	/* root's 0600 ledger: read and write refused */
	l = open_w(pool);
	ledger_close(l);
	pid = fork();
	if (pid == 0) {
		struct ledger *c = NULL;
		int rc = 0;

		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			child_exit(pool, 10);
		rc |= ledger_open(pool, LEDGER_READ, &c) != -EACCES;
		rc |= (ledger_open(pool, LEDGER_WRITE, &c) != -EACCES) << 1;
		child_exit(pool, rc);
	}
	assert_int_equal(t_wait(pid), 0);
	rampool_pool_free(pool);
}

static void test_newer_schema(void **st)
{
	struct rampool_pool *pool = t_pool(state, NULL);
	struct ledger *l = (void *)0x1;
	struct ledger_row r;
	unsigned char before[65536], after[65536];
	ssize_t nb, na;
	int fd;

	(void)st;
	l = open_w(pool);
	mkrow(&r, "old", RAMPOOL_RES_SHMEM, 4096, 0, 1, 0, (uint64_t)8192,
	      (uint64_t)0);
	assert_int_equal(ledger_insert(l, &r), 0);
	ledger_close(l);
	raw_exec("PRAGMA user_version = 99; CREATE TABLE future(x);");
	fd = open(db, O_RDONLY);
	nb = read(fd, before, sizeof(before));
	close(fd);
	assert_true(nb > 0 && nb < (ssize_t)sizeof(before));

	l = (void *)0x1;
	assert_int_equal(ledger_open(pool, LEDGER_WRITE, &l), -EPROTO);
	assert_int_equal(ledger_open(pool, LEDGER_READ, &l), -EPROTO);
	assert_ptr_equal(l, (void *)0x1);
	fd = open(db, O_RDONLY);
	na = read(fd, after, sizeof(after));
	close(fd);
	assert_int_equal(na, nb);
	assert_memory_equal(before, after, (size_t)nb);
	assert_int_equal(raw_int("PRAGMA user_version"), 99);
	assert_int_equal(raw_int("SELECT count(*) FROM res"), 1);
	assert_int_equal(raw_int("SELECT count(*) FROM sqlite_master WHERE "
				 "name = 'future'"), 1);
	rampool_pool_free(pool);
}

/*
 * A schema-1 ledger (no owed column): a reader reads it as it is (owed 0)
 * and changes nothing; the first writer migrates it to this version,
 * keeping every row, and owed can then be written and read back.
 */
static void test_migrate_v1(void **st)
{
	struct rampool_pool *pool = t_pool(state, NULL);
	struct ledger_row r, back;
	struct ledger *l;

	(void)st;
	l = open_w(pool);
	mkrow(&r, "old", RAMPOOL_RES_HUGETLB, 2 << 20, 0, 2, 0,
	      (uint64_t)(4 << 20), (uint64_t)(2 << 20), 1,
	      (uint64_t)(2 << 20), (uint64_t)0);
	assert_int_equal(ledger_insert(l, &r), 0);
	ledger_close(l);
	/* schema 1 as it was: no owed (2), no grp, block (3), no warm (4),
	 * no counters (5) */
	raw_exec("DROP TABLE counters; DROP TABLE warm_target;"
		 " DROP INDEX res_kind;"
		 " DROP INDEX res_grp; ALTER TABLE res DROP COLUMN grp;"
		 " ALTER TABLE res DROP COLUMN block;"
		 " ALTER TABLE res_node DROP COLUMN owed;"
		 " PRAGMA user_version = 1;");

	assert_int_equal(ledger_open(pool, LEDGER_READ, &l), 0);
	assert_int_equal(ledger_get(l, "old", &back), 0);
	assert_rows_equal(&r, &back);
	ledger_close(l);
	assert_int_equal(raw_int("PRAGMA user_version"), 1);
	assert_int_equal(raw_int("SELECT count(*) FROM pragma_table_info("
				 "'res_node') WHERE name = 'owed'"), 0);
	assert_int_equal(raw_int("SELECT count(*) FROM pragma_table_info("
				 "'res') WHERE name IN ('grp', 'block')"), 0);
	assert_int_equal(raw_int("SELECT count(*) FROM sqlite_master WHERE"
				 " name = 'warm_target'"), 0);

	l = open_w(pool);
	assert_int_equal(raw_int("SELECT count(*) FROM sqlite_master WHERE"
				 " name = 'warm_target'"), 1);
	assert_int_equal(raw_int("PRAGMA user_version"), LEDGER_SCHEMA);
	assert_int_equal(ledger_get(l, "old", &back), 0);
	assert_rows_equal(&r, &back);
	assert_int_equal(ledger_begin(l), 0);
	assert_int_equal(ledger_set_owed(l, r.id, 1, 2 << 20), 0);
	assert_int_equal(ledger_commit(l), 0);
	r.nodes[1].owed = 2 << 20;
	assert_int_equal(ledger_get(l, "old", &back), 0);
	assert_rows_equal(&r, &back);
	/* a group member's row (schema 3) */
	mkrow(&r, "g:0", RAMPOOL_RES_SHMEM, 4096, 0, 1, 0, (uint64_t)8192,
	      (uint64_t)0);
	snprintf(r.grp, sizeof(r.grp), "g");
	snprintf(r.block, sizeof(r.block), "0000:00:03.0/mem0");
	assert_int_equal(ledger_begin(l), 0);
	assert_int_equal(ledger_insert(l, &r), 0);
	assert_int_equal(ledger_commit(l), 0);
	assert_int_equal(ledger_get(l, "g:0", &back), 0);
	assert_rows_equal(&r, &back);
	assert_int_equal(ledger_check_totals(l), 0);
	ledger_close(l);
	rampool_pool_free(pool);
}

static int count_target(void *ctx, const struct ledger_warm_key *k,
			unsigned int count)
{
	struct ledger_warm_key *want = ctx;

	assert_int_equal(k->node, want->node);
	assert_int_equal(k->backing, want->backing);
	assert_int_equal(k->page_size, want->page_size);
	assert_int_equal(k->slot_size, want->slot_size);
	want->node += 100 * (int)count;	/* seen, with its count */
	return 0;
}

static int name_slot(void *ctx, const struct ledger_row *r)
{
	char *names = ctx;

	strcat(names, r->name);
	strcat(names, " ");
	return 0;
}

/* Warm targets (schema 4) and the slots of one shape. */
static void test_warm_rows(void **st)
{
	struct rampool_pool *pool = t_pool(state, NULL);
	struct ledger_warm_key k = { 1, RAMPOOL_RES_HUGETLB, 2 << 20, 8 << 20 };
	struct ledger_warm_key seen = k;
	struct ledger_row r;
	struct ledger *l;
	char names[256] = "";

	(void)st;
	l = open_w(pool);
	assert_int_equal(ledger_begin(l), 0);
	assert_int_equal(ledger_warm_target_set(l, &k, 3), 0);
	assert_int_equal(ledger_warm_target_set(l, &k, 4), 0);	/* replaced */
	/* two slots of the shape, one of another size, one reservation */
	mkrow(&r, "@b", RAMPOOL_RES_HUGETLB, 2 << 20, 0, 1, 1,
	      (uint64_t)(8 << 20), (uint64_t)(8 << 20));
	r.kind = LEDGER_WARM;
	assert_int_equal(ledger_insert(l, &r), 0);
	mkrow(&r, "@a", RAMPOOL_RES_HUGETLB, 2 << 20, 0, 1, 1,
	      (uint64_t)(8 << 20), (uint64_t)0);
	r.kind = LEDGER_WARM;
	r.state = LEDGER_WARM_DIRTY;
	assert_int_equal(ledger_insert(l, &r), 0);
	mkrow(&r, "@c", RAMPOOL_RES_HUGETLB, 2 << 20, 0, 1, 1,
	      (uint64_t)(4 << 20), (uint64_t)0);
	r.kind = LEDGER_WARM;
	assert_int_equal(ledger_insert(l, &r), 0);
	mkrow(&r, "res", RAMPOOL_RES_HUGETLB, 2 << 20, 0, 1, 1,
	      (uint64_t)(8 << 20), (uint64_t)0);
	assert_int_equal(ledger_insert(l, &r), 0);
	assert_int_equal(ledger_commit(l), 0);
	assert_int_equal(ledger_warm_targets(l, count_target, &seen), 0);
	assert_int_equal(seen.node, 1 + 400);
	assert_int_equal(ledger_warm_slots(l, &k, name_slot, names), 0);
	assert_string_equal(names, "@a @b ");
	names[0] = 0;
	assert_int_equal(ledger_warm_slots(l, NULL, name_slot, names), 0);
	assert_string_equal(names, "@a @b @c ");
	/* 0 removes the target */
	assert_int_equal(ledger_begin(l), 0);
	assert_int_equal(ledger_warm_target_set(l, &k, 0), 0);
	assert_int_equal(ledger_commit(l), 0);
	seen = k;
	assert_int_equal(ledger_warm_targets(l, count_target, &seen), 0);
	assert_int_equal(seen.node, 1);
	assert_int_equal(ledger_check_totals(l), 0);
	ledger_close(l);
	rampool_pool_free(pool);
}

static void test_not_a_ledger(void **st)
{
	struct rampool_pool *pool = t_pool(state, NULL);
	struct ledger *l = (void *)0x1;
	char junk[4096];
	int fd;

	(void)st;
	memset(junk, 'x', sizeof(junk));
	assert_int_equal(mkdir(state, 0755), 0);
	fd = open(db, O_CREAT | O_WRONLY, 0600);
	assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);
	assert_int_equal(ledger_open(pool, LEDGER_WRITE, &l), -EUCLEAN);
	assert_int_equal(ledger_open(pool, LEDGER_READ, &l), -EUCLEAN);
	assert_ptr_equal(l, (void *)0x1);
	rampool_pool_free(pool);
}

/* Made but never written (a creator that died): empty to a reader. */
static void test_version0(void **st)
{
	struct rampool_pool *pool = t_pool(state, NULL);
	struct ledger *l = (void *)0x1;
	int fd;

	(void)st;
	assert_int_equal(mkdir(state, 0755), 0);
	fd = open(db, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(ledger_open(pool, LEDGER_READ, &l), -ENOENT);
	assert_ptr_equal(l, (void *)0x1);
	l = open_w(pool);
	ledger_close(l);
	assert_int_equal(raw_int("PRAGMA user_version"), LEDGER_SCHEMA);
	assert_int_equal(ledger_open(pool, LEDGER_READ, &l), 0);
	ledger_close(l);
	rampool_pool_free(pool);
}

static void test_long_state_dir(void **st)
{
	struct rampool_pool *pool;
	struct ledger *l = (void *)0x1;
	char dir[4200];

	(void)st;
	memset(dir, 'a', sizeof(dir) - 1);
	dir[0] = '/';
	dir[sizeof(dir) - 1] = 0;
	pool = t_pool(dir, NULL);
	assert_int_equal(ledger_open(pool, LEDGER_WRITE, &l), -ENAMETOOLONG);
	assert_int_equal(ledger_open(pool, LEDGER_READ, &l), -ENAMETOOLONG);
	assert_ptr_equal(l, (void *)0x1);
	rampool_pool_free(pool);
}

/*
 * Writers opening a ledger nobody made yet, all at once (the first
 * reservations on a fresh host): every one of them gets it.
 */
static void test_first_open_race(void **st)
{
	enum { RACERS = 8, ROUNDS = 20 };

	(void)st;
	for (int round = 0; round < ROUNDS; round++) {
		struct rampool_pool *pool;
		int go[2], bad = 0;
		pid_t pids[RACERS];
		char dir[PATH_MAX + 32];

		snprintf(dir, sizeof(dir), "%s/s%d", tmp, round);
		pool = t_pool(dir, NULL);
		assert_int_equal(pipe(go), 0);
		for (int i = 0; i < RACERS; i++) {
			pids[i] = fork();
			if (pids[i] == 0) {
				struct ledger *c = NULL;
				char b, b2[16];
				int ret;

				close(go[1]);
				if (read(go[0], &b, 1) != 0)
					child_exit(pool, 3);
				ret = ledger_open(pool, LEDGER_WRITE, &c);
				/* then a write of its own, beside the others */
				for (int k = 0; !ret && k < 2; k++) {
					struct ledger_row r;

					snprintf(b2, sizeof(b2), "r%d-%d", i,
						 k);
					mkrow(&r, b2, RAMPOOL_RES_SHMEM, 4096,
					      0, 1, 0, (uint64_t)4096,
					      (uint64_t)0);
					ret = ledger_begin(c);
					if (!ret)
						ret = ledger_insert(c, &r);
					if (!ret)
						ret = ledger_commit(c);
					ledger_close(c);
					c = NULL;
					if (!ret && !k)
						ret = ledger_open(pool,
								  LEDGER_WRITE,
								  &c);
				}
				if (ret)
					fprintf(stderr, "round %d racer %d: %s "
						"(%s)\n", round, i,
						strerror(-ret), t_last_log);
				ledger_close(c);
				child_exit(pool, ret ? 1 : 0);
			}
		}
		close(go[0]);
		close(go[1]);	/* EOF: all start */
		for (int i = 0; i < RACERS; i++)
			bad += t_wait(pids[i]) != 0;
		assert_int_equal(bad, 0);
		snprintf(db, sizeof(db), "%s/s%d/" LEDGER_FILE, tmp, round);
		assert_int_equal(raw_int("SELECT count(*) FROM res"),
				 2 * RACERS);
		rampool_pool_free(pool);
	}
}

/*
 * SQLite opens no path of more than its VFS's mxPathname less the 8
 * bytes of a journal suffix (512 - 8 here): a state dir that makes the
 * ledger's path longer is -ENAMETOOLONG with nothing made, not a ledger
 * that "does not exist" (which readers take for an empty pool).
 */
static void test_sqlite_path_limit(void **st)
{
	char dir[PATH_MAX + 1100], file[PATH_MAX + 1200];
	struct rampool_pool *pool;
	struct ledger *l = (void *)0x1;
	size_t len, want;

	(void)st;
	for (int fits = 1; fits >= 0; fits--) {
		/* the ledger path: exactly at the limit, then one more */
		want = 512 - 8 + !fits - strlen("/" LEDGER_FILE);
		snprintf(dir, sizeof(dir), "%s/%d", tmp, fits);
		assert_int_equal(mkdir(dir, 0755), 0);
		while ((len = strlen(dir)) + 101 < want) {
			snprintf(dir + len, sizeof(dir) - len, "/%099d", 0);
			assert_int_equal(mkdir(dir, 0755), 0);
		}
		snprintf(dir + len, sizeof(dir) - len, "/%0*d",
			 (int)(want - len - 1), 0);
		assert_int_equal(strlen(dir), want);
		snprintf(file, sizeof(file), "%s/" LEDGER_FILE, dir);
		pool = t_pool(dir, NULL);
		if (fits) {
			assert_int_equal(ledger_open(pool, LEDGER_WRITE, &l),
					 0);
			ledger_close(l);
			assert_true(t_exists("%s", file));
		} else {
			l = (void *)0x1;
			assert_int_equal(ledger_open(pool, LEDGER_WRITE, &l),
					 -ENAMETOOLONG);
			assert_int_equal(ledger_open(pool, LEDGER_READ, &l),
					 -ENAMETOOLONG);
			assert_ptr_equal(l, (void *)0x1);
			assert_false(t_exists("%s", dir));
		}
		rampool_pool_free(pool);
	}
}

/* ---- rows --------------------------------------------------------------- */

struct names {
	char names[8][RAMPOOL_NAME_MAX + 32];
	int n, stop_at;
};

static int collect(void *ctx, const struct ledger_row *r)
{
	struct names *c = ctx;

	if (c->n == c->stop_at)
		return -ECANCELED;
	snprintf(c->names[c->n++], sizeof(c->names[0]), "%s", r->name);
	return 0;
}

static void test_rows(void **st)
{
	struct rampool_pool *pool = t_pool(state, NULL);
	struct ledger_row a, b, got;
	struct names c = { .stop_at = -1 };
	struct ledger *l = open_w(pool), *ro;

	(void)st;
	mkrow(&a, "vm-b", RAMPOOL_RES_HUGETLB, 2 << 20, 4 << 20, 2,
	      0, (uint64_t)(8 << 20), (uint64_t)(2 << 20),
	      1, (uint64_t)(6 << 20), (uint64_t)0);
	a.flags = LEDGER_F_PREALLOC;
	a.state = RAMPOOL_RES_STATE_PENDING;
	a.pid = 4242;
	a.pid_start = 99;
	assert_int_equal(ledger_insert(l, &a), 0);
	assert_true(a.id > 0);
	mkrow(&b, "vm-a", RAMPOOL_RES_SHMEM, 4096, 0, 1, RAMPOOL_NODE_ANY,
	      (uint64_t)(1 << 20), (uint64_t)0);
	assert_int_equal(ledger_insert(l, &b), 0);
	assert_int_not_equal(a.id, b.id);

	assert_int_equal(ledger_get(l, "vm-b", &got), 0);
	assert_rows_equal(&got, &a);
	assert_int_equal(ledger_get(l, "vm-a", &got), 0);
	assert_rows_equal(&got, &b);
	assert_int_equal(ledger_get(l, "vm-c", &got), -ENOENT);

	/* the name is taken: -EEXIST, the first row and sums unchanged */
	mkrow(&got, "vm-b", RAMPOOL_RES_SHMEM, 4096, 0, 1, 0,
	      (uint64_t)4096, (uint64_t)0);
	assert_int_equal(ledger_insert(l, &got), -EEXIST);
	assert_int_equal(ledger_get(l, "vm-b", &got), 0);
	assert_rows_equal(&got, &a);
	assert_int_equal(ledger_check_totals(l), 0);

	/* name order; owned_only: rows with a pid; fn's error stops it */
	assert_int_equal(ledger_each(l, false, collect, &c), 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.names[0], "vm-a");
	assert_string_equal(c.names[1], "vm-b");
	c.n = 0;
	assert_int_equal(ledger_each(l, true, collect, &c), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.names[0], "vm-b");
	c.n = 0;
	c.stop_at = 1;
	assert_int_equal(ledger_each(l, false, collect, &c), -ECANCELED);
	assert_int_equal(c.n, 1);

	/* updates */
	assert_int_equal(ledger_set_state(l, a.id, RAMPOOL_RES_STATE_READY, 0,
					  0), 0);
	assert_int_equal(ledger_set_populated(l, a.id, 1, 6 << 20), 0);
	assert_int_equal(ledger_get(l, "vm-b", &got), 0);
	assert_int_equal(got.state, RAMPOOL_RES_STATE_READY);
	assert_int_equal(got.pid, 0);
	assert_int_equal(got.pid_start, 0);
	assert_int_equal(got.nodes[0].populated, 2 << 20);
	assert_int_equal(got.nodes[1].populated, 6 << 20);
	assert_int_equal(ledger_set_size(l, b.id, 3 << 20, 1 << 20,
					 RAMPOOL_NODE_ANY, 3 << 20), 0);
	assert_int_equal(ledger_get(l, "vm-a", &got), 0);
	assert_int_equal(got.size, 3 << 20);
	assert_int_equal(got.extra, 1 << 20);
	assert_int_equal(got.nodes[0].size, 3 << 20);

	/* a reader may not write */
	assert_int_equal(ledger_open(pool, LEDGER_READ, &ro), 0);
	mkrow(&got, "vm-z", RAMPOOL_RES_SHMEM, 4096, 0, 1, 0,
	      (uint64_t)4096, (uint64_t)0);
	assert_int_equal(ledger_insert(ro, &got), -EACCES);
	assert_int_equal(ledger_delete(ro, a.id), -EACCES);
	ledger_close(ro);

	assert_int_equal(ledger_delete(l, a.id), 0);
	assert_int_equal(ledger_get(l, "vm-b", &got), -ENOENT);
	assert_int_equal(raw_int("SELECT count(*) FROM res_node"), 1);
	assert_int_equal(ledger_delete(l, b.id), 0);
	assert_int_equal(raw_int("SELECT count(*) FROM res_node"), 0);
	c.n = 0;
	c.stop_at = -1;
	assert_int_equal(ledger_each(l, false, collect, &c), 0);
	assert_int_equal(c.n, 0);
	ledger_close(l);
	rampool_pool_free(pool);
}

/* A transaction rolled back leaves neither the row nor its sums. */
static void test_rollback(void **st)
{
	struct rampool_pool *pool = t_pool(state, NULL);
	struct ledger *l = open_w(pool);
	struct ledger_row r;

	(void)st;
	assert_int_equal(ledger_begin(l), 0);
	mkrow(&r, "x", RAMPOOL_RES_HUGETLB, 2 << 20, 0, 1, 0,
	      (uint64_t)(2 << 20), (uint64_t)0);
	assert_int_equal(ledger_insert(l, &r), 0);
	ledger_rollback(l);
	assert_int_equal(ledger_get(l, "x", &r), -ENOENT);
	assert_int_equal(raw_int("SELECT count(*) FROM totals WHERE "
				 "promised != 0"), 0);
	assert_int_equal(ledger_begin(l), 0);
	assert_int_equal(ledger_insert(l, &r), 0);
	assert_int_equal(ledger_commit(l), 0);
	assert_int_equal(raw_int("SELECT promised FROM totals"), 2 << 20);
	ledger_close(l);
	rampool_pool_free(pool);
}

/* ---- the sums ------------------------------------------------------------ */

struct sum {
	uint64_t ps;
	int node, backing;
	uint64_t promised, populated;
};

struct sums {
	struct sum s[32];
	int n;
};

static struct sum *sum_at(struct sums *t, uint64_t ps, int node, int backing)
{
	for (int i = 0; i < t->n; i++)
		if (t->s[i].ps == ps && t->s[i].node == node &&
		    t->s[i].backing == backing)
			return &t->s[i];
	assert_true(t->n < 32);
	t->s[t->n] = (struct sum){ ps, node, backing, 0, 0 };
	return &t->s[t->n++];
}

static int from_rows(void *ctx, const struct ledger_row *r)
{
	for (unsigned int i = 0; i < r->nr_nodes; i++) {
		struct sum *s = sum_at(ctx, r->page_size, r->nodes[i].node,
				       r->backing);

		s->promised += r->nodes[i].size + (i ? 0 : r->extra);
		s->populated += r->nodes[i].populated;
	}
	return 0;
}

static int from_totals(void *ctx, uint64_t ps, int node, int backing,
		       uint64_t promised, uint64_t populated)
{
	struct sum *s = sum_at(ctx, ps, node, backing);

	assert_int_equal(s->promised, 0);	/* one entry each */
	s->promised = promised;
	s->populated = populated;
	return 0;
}

/* The triggers' sums equal the sums over the rows; returns the count. */
static int check_sums(struct ledger *l, struct sums *rows)
{
	struct sums tot = { .n = 0 };
	int n = 0;

	memset(rows, 0, sizeof(*rows));
	assert_int_equal(ledger_check_totals(l), 0);
	assert_int_equal(ledger_each(l, false, from_rows, rows), 0);
	assert_int_equal(ledger_totals(l, from_totals, &tot), 0);
	for (int i = 0; i < rows->n; i++) {
		const struct sum *a = &rows->s[i];

		if (!a->promised && !a->populated)
			continue;
		n++;
		struct sum *b = sum_at(&tot, a->ps, a->node, a->backing);

		assert_int_equal(a->promised, b->promised);
		assert_int_equal(a->populated, b->populated);
	}
	assert_int_equal(tot.n, n);
	return n;
}

static void test_totals(void **st)
{
	struct rampool_pool *pool = t_pool(state, NULL);
	struct ledger *l = open_w(pool);
	struct ledger_row a, b, c;
	struct sums s;
	struct sum *x;

	(void)st;
	assert_int_equal(check_sums(l, &s), 0);
	mkrow(&a, "a", RAMPOOL_RES_HUGETLB, 2 << 20, 4 << 20, 2,
	      0, (uint64_t)(8 << 20), (uint64_t)(2 << 20),
	      1, (uint64_t)(6 << 20), (uint64_t)0);
	mkrow(&b, "b", RAMPOOL_RES_HUGETLB, 2 << 20, 0, 1,
	      0, (uint64_t)(10 << 20), (uint64_t)(10 << 20));
	mkrow(&c, "c", RAMPOOL_RES_SHMEM, 4096, 1 << 20, 1,
	      0, (uint64_t)(3 << 20), (uint64_t)(1 << 20));
	assert_int_equal(ledger_insert(l, &a), 0);
	assert_int_equal(check_sums(l, &s), 2);
	assert_int_equal(ledger_insert(l, &b), 0);
	assert_int_equal(ledger_insert(l, &c), 0);
	assert_int_equal(check_sums(l, &s), 3);
	/* the figures themselves: headroom with the first share */
	x = sum_at(&s, 2 << 20, 0, RAMPOOL_RES_HUGETLB);
	assert_int_equal(x->promised, (8 + 4 + 10) << 20);
	assert_int_equal(x->populated, 12 << 20);
	x = sum_at(&s, 2 << 20, 1, RAMPOOL_RES_HUGETLB);
	assert_int_equal(x->promised, 6 << 20);
	x = sum_at(&s, 4096, 0, RAMPOOL_RES_SHMEM);
	assert_int_equal(x->promised, 4 << 20);
	assert_int_equal(x->populated, 1 << 20);

	assert_int_equal(ledger_set_populated(l, a.id, 1, 4 << 20), 0);
	assert_int_equal(ledger_set_size(l, c.id, 5 << 20, 0, 0, 5 << 20), 0);
	check_sums(l, &s);
	x = sum_at(&s, 4096, 0, RAMPOOL_RES_SHMEM);
	assert_int_equal(x->promised, 5 << 20);
	x = sum_at(&s, 2 << 20, 1, RAMPOOL_RES_HUGETLB);
	assert_int_equal(x->populated, 4 << 20);

	assert_int_equal(ledger_delete(l, a.id), 0);
	assert_int_equal(check_sums(l, &s), 2);
	assert_int_equal(ledger_delete(l, b.id), 0);
	assert_int_equal(ledger_delete(l, c.id), 0);
	assert_int_equal(check_sums(l, &s), 0);

	/* the check can fail: sums changed behind the triggers' back */
	assert_int_equal(ledger_insert(l, &b), 0);
	raw_exec("UPDATE totals SET promised = promised + 4096");
	assert_int_equal(ledger_check_totals(l), -EUCLEAN);
	raw_exec("UPDATE totals SET promised = promised - 4096;"
		 "INSERT INTO totals VALUES (4096, 3, 2, 1, 0)");
	assert_int_equal(ledger_check_totals(l), -EUCLEAN);
	raw_exec("DELETE FROM totals WHERE node = 3;"
		 "DELETE FROM totals");
	assert_int_equal(ledger_check_totals(l), -EUCLEAN);
	ledger_close(l);
	rampool_pool_free(pool);
}

/* ---- owners ------------------------------------------------------------- */

static void test_proc_start(void **st)
{
	uint64_t self = ledger_proc_start(getpid());
	struct ledger_row r;
	int pipefd[2];
	pid_t pid;

	(void)st;
	assert_true(self > 0);
	assert_int_equal(ledger_proc_start(getpid()), self);
	assert_int_equal(ledger_proc_start(t_dead_pid()), 0);
	assert_int_equal(ledger_proc_start(0), 0);
	assert_int_equal(ledger_proc_start(-1), 0);

	/* a command name with spaces and parentheses does not fool it */
	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	if (pid == 0) {
		uint64_t before = ledger_proc_start(getpid()), after;

		prctl(PR_SET_NAME, "a) 1 2 (3) x", 0, 0, 0);
		after = ledger_proc_start(getpid());
		_exit(before && before == after &&
		      write(pipefd[1], &after, sizeof(after)) ==
			      sizeof(after) ? 0 : 1);
	}
	assert_int_equal(t_wait(pid), 0);
	close(pipefd[0]);
	close(pipefd[1]);

	memset(&r, 0, sizeof(r));
	assert_false(ledger_owner_dead(&r));	/* pid 0: persistent */
	r.pid = getpid();
	r.pid_start = self;
	assert_false(ledger_owner_dead(&r));
	r.pid_start = self + 1;		/* the pid was reused */
	assert_true(ledger_owner_dead(&r));
	r.pid = t_dead_pid();
	r.pid_start = self;
	assert_true(ledger_owner_dead(&r));
}

/*
 * /proc mounted with hidepid=2 (a common hardening): a group member that
 * recovers does not see other users' processes. Alive but hidden is not
 * dead: their rows must stay.
 */
static void test_owner_hidden(void **st)
{
	uint64_t self = ledger_proc_start(getpid());
	int parent = getpid(), rc;
	pid_t pid;

	(void)st;
	pid = fork();
	if (pid == 0) {
		struct ledger_row r;

		if (unshare(CLONE_NEWNS) ||
		    /* (the type is ignored: named for valgrind) */
		    mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) ||
		    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV |
			  MS_NOEXEC, "hidepid=2"))
			_exit(77);
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(10);
		if (ledger_proc_start(parent))
			_exit(77);	/* not hidden after all */
		memset(&r, 0, sizeof(r));
		r.pid = parent;
		r.pid_start = self;
		if (ledger_owner_dead(&r))
			_exit(1);
		r.pid = t_dead_pid();	/* gone is still gone */
		_exit(ledger_owner_dead(&r) ? 0 : 2);
	}
	rc = t_wait(pid);
	if (rc == 77)
		skip();		/* no hidepid here */
	assert_int_equal(rc, 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_read_missing),
		T(test_create),
		T(test_create_group),
		T(test_nonroot),
		T(test_newer_schema),
		T(test_migrate_v1),
		T(test_not_a_ledger),
		T(test_version0),
		T(test_long_state_dir),
		T(test_sqlite_path_limit),
		T(test_first_open_race),
		T(test_rows),
		T(test_warm_rows),
		T(test_rollback),
		T(test_totals),
		T(test_proc_start),
		T(test_owner_hidden),
	};

	if (geteuid()) {
		fprintf(stderr, "skip: test_ledger needs root\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
