// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_res_use.c: a reservation grown, its path read and the pool audited, each failing on purpose: nothing changed. */
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/t_resv.h"

static struct rampool_reservation_opts opts(int backing, uint64_t size,
					    uint64_t extra)
{
	return (struct rampool_reservation_opts){
		.sz = sizeof(struct rampool_reservation_opts),
		.size = size, .extra = extra, .backing = backing,
		.owner_uid = -1,
	};
}

static struct ledger_row get(const char *name)
{
	struct ledger_row r;
	struct ledger *l;

	assert_int_equal(ledger_open(pool, LEDGER_READ, &l), 0);
	assert_int_equal(ledger_get(l, name, &r), 0);
	assert_int_equal(ledger_check_totals(l), 0);
	ledger_close(l);
	return r;
}

static void assert_row(const char *name, uint64_t size, uint64_t extra)
{
	struct ledger_row r = get(name);

	assert_int_equal(r.size, size);
	assert_int_equal(r.extra, extra);
	assert_int_equal(r.nodes[0].size, size);
}

/* The size of a reservation's file (hugetlb: in its mount), -1 none. */
static off_t file_size(bool hugetlb, const char *name)
{
	char path[PATH_MAX + 128];
	struct stat s;

	if (hugetlb)
		snprintf(path, sizeof(path), "%s/mnt/%s/mem", state, name);
	else
		snprintf(path, sizeof(path), "%s/shm/%s", state, name);
	if (stat(path, &s))
		return -1;
	return s.st_size;
}

/* ---- grow ---------------------------------------------------------------- */

static void test_grow_shmem(void **st)
{
	struct rampool_reservation_opts o = opts(RAMPOOL_RES_SHMEM, 4 * M,
						 2 * M);
	struct rampool_shortfall sf = { .sz = sizeof(sf) };

	(void)st;
	assert_int_equal(rampool_reservation_new(pool, "s", &o), 0);
	assert_int_equal(file_size(false, "s"), 6 * M);
	/* within the headroom: no check, the file already has the room */
	assert_int_equal(rampool_reservation_grow(pool, "s", M), 0);
	assert_row("s", 5 * M, M);
	assert_int_equal(file_size(false, "s"), 6 * M);
	/* beyond it: checked, the file grows */
	assert_int_equal(rampool_reservation_grow(pool, "s", 3 * M), 0);
	assert_row("s", 8 * M, 0);
	assert_int_equal(file_size(false, "s"), 8 * M);

	/* bad figures, names: nothing changed */
	assert_int_equal(rampool_reservation_grow(pool, "s", 0), -EINVAL);
	assert_int_equal(rampool_reservation_grow(pool, "s", 4097), -EINVAL);
	assert_int_equal(rampool_reservation_grow(pool, "s",
						  UINT64_MAX & ~4095ull),
			 -EINVAL);
	assert_int_equal(rampool_reservation_grow(pool, "../s", M), -EINVAL);
	assert_int_equal(rampool_reservation_grow(NULL, "s", M), -EINVAL);
	assert_int_equal(rampool_reservation_grow(pool, "t", M), -ENOENT);
	assert_row("s", 8 * M, 0);

	/* does not fit: the shortfall of the growth alone */
	assert_int_equal(rampool_reservation_grow(pool, "s", 1ull << 50),
			 -ENOSPC);
	assert_int_equal(rampool_pool_last_shortfall(pool, 0, &sf), 0);
	assert_int_equal(sf.need, 1ull << 50);
	assert_int_equal(sf.short_by, sf.need - sf.grantable);
	assert_int_equal(rampool_pool_last_shortfall(pool, 1, &sf), -ERANGE);
	assert_row("s", 8 * M, 0);
	assert_int_equal(file_size(false, "s"), 8 * M);
	assert_int_equal(rampool_reservation_release(pool, "s"), 0);
}

/* Being made by a live process (pending): not grown under its feet. */
static void test_grow_pending(void **st)
{
	struct rampool_reservation_opts o = opts(RAMPOOL_RES_SHMEM, 4 * M, 0);
	struct ledger_row r;
	struct ledger *l;

	(void)st;
	assert_int_equal(rampool_reservation_new(pool, "p", &o), 0);
	r = get("p");
	assert_int_equal(ledger_open(pool, LEDGER_WRITE, &l), 0);
	assert_int_equal(ledger_set_state(l, r.id, RAMPOOL_RES_STATE_PENDING,
					  getpid(),
					  ledger_proc_start(getpid())), 0);
	ledger_close(l);
	assert_int_equal(rampool_reservation_grow(pool, "p", M), -EBUSY);
	assert_row("p", 4 * M, 0);
	assert_int_equal(file_size(false, "p"), 4 * M);
}

static void test_grow_hugetlb(void **st)
{
	struct rampool_reservation_opts o = opts(RAMPOOL_RES_HUGETLB, PS2M, 0);
	char data[256];

	(void)st;
	T_NEED_HP(4);
	assert_int_equal(rampool_reservation_new(pool, "h", &o), 0);
	assert_int_equal(t_rm.calls[T_MOUNT], 1);
	/* empty: a new, larger mount replaces the old one */
	assert_int_equal(rampool_reservation_grow(pool, "h", PS2M), 0);
	assert_int_equal(t_rm.calls[T_MOUNT], 2);
	assert_int_equal(t_rm.calls[T_UMOUNT], 1);
	assert_int_equal(t_rm.nr_mnt, 1);
	snprintf(data, sizeof(data), "pagesize=2097152,min_size=%llu,"
		 "size=%llu,uid=0,gid=0,mode=0700", 2 * PS2M, 2 * PS2M);
	assert_string_equal(t_rm.mnt[0].data, data);
	assert_int_equal(file_size(true, "h"), 2 * PS2M);
	assert_row("h", 2 * PS2M, 0);

	/* it holds pages (st_blocks of its file): no new reserve */
	{
		char file[4200];

		snprintf(file, sizeof(file), "%s/mnt/h/mem", state);
		t_fill_file(file, PS2M);
		assert_int_equal(rampool_reservation_grow(pool, "h", PS2M),
				 -EBUSY);
		t_fill_file(file, 0);
	}
	/* mapped by a VMM: the mount cannot go */
	t_rm_fail(T_UMOUNT, EBUSY, 0);
	assert_int_equal(rampool_reservation_grow(pool, "h", PS2M), -EBUSY);
	assert_int_equal(t_rm.calls[T_MOUNT], 2);
	assert_int_equal(t_rm.nr_mnt, 1);
	assert_string_equal(t_rm.mnt[0].data, data);
	assert_int_equal(file_size(true, "h"), 2 * PS2M);
	assert_row("h", 2 * PS2M, 0);
	assert_int_equal(rampool_reservation_release(pool, "h"), 0);
	assert_int_equal(t_rm.nr_mnt, 0);
}

/*
 * The old mount was taken down and the new one cannot be made: the old
 * one (its reserve, its file) is back, the row unchanged.
 */
static void grow_fails(enum t_rmc c, int err, int expect)
{
	char data[256];

	t_rm_fail(c, err, 0);
	assert_int_equal(rampool_reservation_grow(pool, "h", PS2M), expect);
	assert_int_equal(t_rm.fail, -1);
	assert_int_equal(t_rm.nr_mnt, 1);
	snprintf(data, sizeof(data), "pagesize=2097152,min_size=%llu,"
		 "size=%llu,uid=0,gid=0,mode=0700", PS2M, PS2M);
	assert_string_equal(t_rm.mnt[0].data, data);
	assert_int_equal(file_size(true, "h"), PS2M);
	assert_row("h", PS2M, 0);
}

static void test_grow_hugetlb_fails(void **st)
{
	struct rampool_reservation_opts o = opts(RAMPOOL_RES_HUGETLB, PS2M, 0);
	struct rampool_shortfall sf = { .sz = sizeof(sf) };

	(void)st;
	T_NEED_HP(4);
	assert_int_equal(rampool_reservation_new(pool, "h", &o), 0);
	grow_fails(T_MOUNT, ENOMEM, -ENOSPC);
	assert_int_equal(rampool_pool_last_shortfall(pool, 0, &sf), 0);
	grow_fails(T_MOUNT, EPERM, -EPERM);
	grow_fails(T_MKDIR, EACCES, -EACCES);
	grow_fails(T_OPEN, EMFILE, -EMFILE);
	grow_fails(T_FTRUNC, EIO, -EIO);
	assert_int_equal(rampool_reservation_release(pool, "h"), 0);
	assert_int_equal(t_rm.nr_mnt, 0);
}

/* ---- open ---------------------------------------------------------------- */

static void test_open(void **st)
{
	struct rampool_reservation_opts o = opts(RAMPOOL_RES_SHMEM, 4 * M,
						 2 * M);
	struct rampool_block *blk = (void *)0x1;
	char path[PATH_MAX + 64];
	struct ledger_row r;
	struct ledger *l;
	pid_t pid;

	(void)st;
	assert_int_equal(rampool_reservation_open(pool, "s", &blk), -ENOENT);
	o.owner_uid = 1234;
	assert_int_equal(rampool_reservation_new(pool, "s", &o), 0);
	assert_int_equal(rampool_reservation_open(pool, "s", &blk), 0);
	assert_int_equal(rampool_block_size(blk), 4 * M);
	assert_int_equal(rampool_block_max_size(blk), 6 * M);
	assert_int_equal(rampool_block_page_size(blk), 4096);
	assert_int_equal(rampool_block_populated(blk), 0);
	rampool_block_free(blk);
	blk = (void *)0x1;
	assert_int_equal(rampool_reservation_open(pool, "../s", &blk),
			 -EINVAL);
	assert_int_equal(rampool_reservation_open(pool, "s", NULL), -EINVAL);
	assert_int_equal(rampool_reservation_open(pool, "t", &blk), -ENOENT);

	/* its owner, without access to the ledger, through the file */
	pid = fork();
	if (pid == 0) {
		struct rampool_block *b = NULL;
		int rc = 0;

		if (setgroups(0, NULL) || setresgid(1234, 1234, 1234) ||
		    setresuid(1234, 1234, 1234))
			_exit(100);
		if (rampool_reservation_open(pool, "s", &b))
			rc |= 1;
		else if (rampool_block_size(b) != 6 * M)
			rc |= 2;	/* the file's size: all it may use */
		rampool_block_free(b);
		_exit(rc);
	}
	assert_int_equal(t_wait(pid), 0);
	/* anyone else: not the file's owner (shm/ lets all see it) */
	pid = fork();
	if (pid == 0) {
		struct rampool_block *b = NULL;

		if (setgroups(0, NULL) || setresgid(4321, 4321, 4321) ||
		    setresuid(4321, 4321, 4321))
			_exit(100);
		_exit(rampool_reservation_open(pool, "s", &b) == -EPERM &&
		      !b ? 0 : 1);
	}
	assert_int_equal(t_wait(pid), 0);

	/* the file there is not the reservation's: refused */
	snprintf(path, sizeof(path), "%s/shm/s", state);
	assert_int_equal(chown(path, 999, 999), 0);
	assert_int_equal(rampool_reservation_open(pool, "s", &blk), -EPERM);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	assert_int_equal(rampool_reservation_open(pool, "s", &blk), -EPERM);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rampool_reservation_open(pool, "s", &blk), -ENOENT);
	assert_ptr_equal(blk, (void *)0x1);

	/* still being made */
	r = get("s");
	assert_int_equal(ledger_open(pool, LEDGER_WRITE, &l), 0);
	assert_int_equal(ledger_set_state(l, r.id, RAMPOOL_RES_STATE_PENDING,
					  getpid(),
					  ledger_proc_start(getpid())), 0);
	ledger_close(l);
	assert_int_equal(rampool_reservation_open(pool, "s", &blk), -EBUSY);
	assert_ptr_equal(blk, (void *)0x1);
}

/* ---- path ---------------------------------------------------------------- */

static void test_path(void **st)
{
	struct rampool_reservation_opts o = opts(RAMPOOL_RES_SHMEM, M, 0);
	char want[PATH_MAX + 64], buf[PATH_MAX + 64];
	size_t n;

	(void)st;
	assert_int_equal(rampool_reservation_path(pool, "s", buf, sizeof(buf)),
			 -ENOENT);	/* no ledger yet */
	assert_int_equal(rampool_reservation_new(pool, "s", &o), 0);
	snprintf(want, sizeof(want), "%s/shm/s", state);
	n = strlen(want);
	assert_int_equal(rampool_reservation_path(pool, "s", buf, sizeof(buf)),
			 0);
	assert_string_equal(buf, want);
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(rampool_reservation_path(pool, "s", buf, n), -ERANGE);
	assert_int_equal(buf[0], 'x');
	assert_int_equal(rampool_reservation_path(pool, "s", buf, n + 1), 0);
	assert_string_equal(buf, want);
	assert_int_equal(rampool_reservation_path(pool, "s", NULL, 10),
			 -EINVAL);
	assert_int_equal(rampool_reservation_path(pool, "s/", buf, n + 1),
			 -EINVAL);
	assert_int_equal(rampool_reservation_path(pool, "t", buf, n + 1),
			 -ENOENT);
}

/* ---- audit --------------------------------------------------------------- */

struct seen {
	int kind[8];
	char what[8][PATH_MAX + 64];
	int repaired[8];
	int n;
};

/* The drifts about the pool's own objects (the kernel's are the host's). */
static void audit(unsigned int flags, struct seen *s)
{
	struct rampool_drift d = { .sz = sizeof(d) };
	struct rampool_audit *a;

	memset(s, 0, sizeof(*s));
	assert_int_equal(rampool_audit_run(pool, flags, &a), 0);
	for (unsigned int i = 0; i < rampool_audit_count(a); i++) {
		assert_int_equal(rampool_audit_get(a, i, &d), 0);
		if (d.kind == RAMPOOL_DRIFT_FOREIGN ||
		    d.kind == RAMPOOL_DRIFT_UNPINNED_SHORT)
			continue;
		assert_true(s->n < 8);
		s->kind[s->n] = d.kind;
		snprintf(s->what[s->n], sizeof(s->what[0]), "%s", d.what);
		s->repaired[s->n++] = d.repaired;
	}
	assert_int_equal(rampool_audit_get(a, rampool_audit_count(a), &d),
			 -ERANGE);
	rampool_audit_free(a);
}

static void test_audit(void **st)
{
	struct rampool_reservation_opts o = opts(RAMPOOL_RES_SHMEM, M, 0);
	char path[PATH_MAX + 64];
	struct rampool_audit *a;
	struct seen s;
	int fd;

	(void)st;
	assert_int_equal(rampool_audit_run(pool, 1u << 5, &a), -EINVAL);
	/* no ledger yet: clean, and an audit makes none (nor the dir) */
	audit(0, &s);
	assert_int_equal(s.n, 0);
	assert_false(t_exists("%s", state));
	assert_int_equal(rampool_reservation_new(pool, "kept", &o), 0);
	assert_int_equal(rampool_reservation_new(pool, "gone", &o), 0);
	audit(0, &s);
	assert_int_equal(s.n, 0);

	/* a file no row explains, a mount dir no row explains, a row
	 * whose file went */
	snprintf(path, sizeof(path), "%s/shm/orphan", state);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/mnt", state);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/mnt/ghost", state);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/shm/gone", state);
	assert_int_equal(unlink(path), 0);
	audit(0, &s);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.kind[0], RAMPOOL_DRIFT_MISSING_FILE);
	assert_string_equal(s.what[0], "gone");
	assert_int_equal(s.kind[1], RAMPOOL_DRIFT_ORPHAN_MOUNT);
	snprintf(path, sizeof(path), "%s/mnt/ghost", state);
	assert_string_equal(s.what[1], path);
	assert_int_equal(s.kind[2], RAMPOOL_DRIFT_ORPHAN_FILE);
	snprintf(path, sizeof(path), "%s/shm/orphan", state);
	assert_string_equal(s.what[2], path);
	for (int i = 0; i < 3; i++)
		assert_int_equal(s.repaired[i], 0);
	assert_true(t_exists("%s/mnt/ghost", state));	/* only reported */

	audit(RAMPOOL_AUDIT_REPAIR, &s);
	assert_int_equal(s.n, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(s.repaired[i], 1);
	assert_false(t_exists("%s/mnt/ghost", state));
	assert_false(t_exists("%s/shm/orphan", state));
	assert_true(t_exists("%s/shm/kept", state));
	audit(0, &s);
	assert_int_equal(s.n, 0);
	assert_int_equal(rampool_reservation_release(pool, "gone"), -ENOENT);
	assert_int_equal(rampool_reservation_release(pool, "kept"), 0);
}

/* A row of a process that died: reported; repaired by any writer. */
static void test_audit_dead(void **st)
{
	struct rampool_reservation_opts o = opts(RAMPOOL_RES_SHMEM, M, 0);
	struct ledger_row r;
	struct ledger *l;
	struct seen s;

	(void)st;
	assert_int_equal(rampool_reservation_new(pool, "d", &o), 0);
	r = get("d");
	assert_int_equal(ledger_open(pool, LEDGER_WRITE, &l), 0);
	assert_int_equal(ledger_set_state(l, r.id, RAMPOOL_RES_STATE_PENDING,
					  t_dead_pid(), 1), 0);
	ledger_close(l);
	audit(0, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.kind[0], RAMPOOL_DRIFT_DEAD_OWNER);
	assert_string_equal(s.what[0], "d");
	assert_true(t_exists("%s/shm/d", state));
	audit(RAMPOOL_AUDIT_REPAIR, &s);
	assert_int_equal(s.n, 0);	/* the writer's recovery undid it */
	assert_false(t_exists("%s/shm/d", state));
	assert_int_equal(t_rm.nr_mnt, 0);
}

/* ---- usage --------------------------------------------------------------- */

static bool usage_find(const struct rampool_usage *u, uint64_t ps, int node,
		       struct rampool_pool_usage *out)
{
	for (unsigned int i = 0; i < rampool_usage_count(u); i++) {
		out->sz = sizeof(*out);
		assert_int_equal(rampool_usage_at(u, i, out), 0);
		if (out->page_size == ps && out->node == node)
			return true;
	}
	return false;
}

static void test_usage(void **st)
{
	struct rampool_reservation_opts o = opts(RAMPOOL_RES_SHMEM, 8 * M,
						 2 * M);
	struct rampool_pool_usage e = { .sz = sizeof(e) };
	struct rampool_usage *u = (void *)0x1;

	(void)st;
	assert_int_equal(rampool_usage_get(pool, NULL), -EINVAL);
	assert_int_equal(rampool_usage_get(NULL, &u), -EINVAL);
	/* no ledger yet: every size the kernel has, on every node, zeros */
	assert_int_equal(rampool_usage_get(pool, &u), 0);
	assert_true(usage_find(u, PS2M, 0, &e));
	assert_int_equal(e.reserved + e.held + e.owed + e.unpinned, 0);
	assert_true(usage_find(u, 4096, 0, &e));
	assert_int_equal(e.reserved, 0);
	assert_true(e.avail > 0);
	assert_false(usage_find(u, 4096, RAMPOOL_NODE_ANY, &e));
	assert_int_equal(rampool_usage_at(u, rampool_usage_count(u), &e),
			 -ERANGE);
	e.sz = offsetof(struct rampool_pool_usage, avail) + 7;
	assert_int_equal(rampool_usage_at(u, 0, &e), -EINVAL);
	/* a 0.4 caller's struct (no warm) is filled up to avail */
	e.sz = offsetof(struct rampool_pool_usage, warm);
	e.warm = 12345;
	assert_int_equal(rampool_usage_at(u, 0, &e), 0);
	assert_int_equal(e.warm, 12345);
	e.sz = sizeof(e);
	rampool_usage_free(u);
	assert_false(t_exists("%s", state));	/* a reader makes nothing */

	/* 10M promised on no node, nothing populated: all owed */
	assert_int_equal(rampool_reservation_new(pool, "s", &o), 0);
	assert_int_equal(rampool_usage_get(pool, &u), 0);
	assert_true(usage_find(u, 4096, RAMPOOL_NODE_ANY, &e));
	assert_int_equal(e.reserved, 10 * M);
	assert_int_equal(e.held, 0);
	assert_int_equal(e.owed, 10 * M);
	assert_int_equal(e.unpinned, 0);
	rampool_usage_free(u);
	assert_int_equal(rampool_reservation_release(pool, "s"), 0);
	assert_int_equal(rampool_usage_get(pool, &u), 0);
	assert_false(usage_find(u, 4096, RAMPOOL_NODE_ANY, &e));
	rampool_usage_free(u);
}

/* ---- a VMM's blocks in the ledger ------------------------------------- */

static int block_rows(void)
{
	struct rampool_reservation_info info = { .sz = sizeof(info) };
	struct rampool_res_list *list;
	int n = 0;

	assert_int_equal(rampool_reservation_list(pool, NULL, &list), 0);
	for (unsigned int i = 0; i < rampool_res_list_count(list); i++) {
		assert_int_equal(rampool_res_list_get(list, i, &info), 0);
		n += !!(info.flags & RAMPOOL_RES_F_BLOCK);
	}
	rampool_res_list_free(list);
	return n;
}

static void test_block_ledger(void **st)
{
	struct block_ledger_spec s = {
		.page_size = 4096, .max_size = 4 * M, .node = RAMPOOL_NODE_ANY,
	};
	struct rampool_reservation_info info = { .sz = sizeof(info) };
	struct rampool_res_list *list;
	struct rampool_pool *other;
	struct ledger *l = (void *)0x1;
	struct ledger_row r;
	int64_t id = -1;
	char name[64];
	pid_t pid;

	(void)st;
	assert_int_equal(block_ledger_pending(pool, &s, &l, &id), 0);
	assert_non_null(l);
	assert_true(id > 0);
	assert_int_equal(rampool_reservation_list(pool, NULL, &list), 0);
	assert_int_equal(rampool_res_list_count(list), 1);
	assert_int_equal(rampool_res_list_get(list, 0, &info), 0);
	snprintf(name, sizeof(name), "block:%d:", (int)getpid());
	assert_memory_equal(info.name, name, strlen(name));
	assert_int_equal(info.flags, RAMPOOL_RES_F_BLOCK);
	assert_int_equal(info.pid, getpid());
	assert_int_equal(info.state, RAMPOOL_RES_STATE_PENDING);
	assert_string_equal(info.path, "");
	assert_int_equal(info.owed, 4 * M);
	snprintf(name, sizeof(name), "%s", info.name);
	rampool_res_list_free(list);

	assert_int_equal(block_ledger_ready(l, id, RAMPOOL_NODE_ANY, 4 * M), 0);
	r = get(name);
	assert_int_equal(r.state, RAMPOOL_RES_STATE_READY);
	assert_int_equal(r.pid, getpid());	/* it goes with this process */
	assert_int_equal(r.nodes[0].populated, 4 * M);
	block_ledger_drop(l, id);
	assert_int_equal(block_rows(), 0);

	/* does not fit: -ENOMEM, as mmap would say; no row */
	s.max_size = 1ull << 50;
	l = (void *)0x1;
	assert_int_equal(block_ledger_pending(pool, &s, &l, &id), -ENOMEM);
	assert_null(l);
	assert_int_equal(id, 0);
	assert_int_equal(block_rows(), 0);
	s.max_size = 4 * M;
	block_ledger_drop(NULL, 0);
	assert_int_equal(block_ledger_ready(NULL, 0, 0, 0), 0);

	/* a recorded tree: no row (nothing of the kernel to describe) */
	other = t_pool(state, NULL);
	free(other->sysroot);
	other->sysroot = strdup(tmp);
	assert_int_equal(block_ledger_pending(other, &s, &l, &id), 0);
	assert_null(l);
	assert_int_equal(id, 0);
	rampool_pool_free(other);

	/* a VMM that may not write the ledger: its block is foreign */
	pid = fork();
	if (pid == 0) {
		int rc;

		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(10);
		rc = block_ledger_pending(pool, &s, &l, &id) || l || id;
		_exit(rc);
	}
	assert_int_equal(t_wait(pid), 0);
	assert_int_equal(block_rows(), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_grow_shmem),
		T(test_grow_pending),
		T(test_grow_hugetlb),
		T(test_grow_hugetlb_fails),
		T(test_open),
		T(test_path),
		T(test_audit),
		T(test_audit_dead),
		T(test_usage),
		T(test_block_ledger),
	};

	if (geteuid()) {
		fprintf(stderr, "skip: test_res_use needs root\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
