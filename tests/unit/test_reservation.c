// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_reservation.c: rampool_reservation_new failed at every step on a real ledger, with fake mounts: nothing left behind. */
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
#include <sqlite3.h>

#include "tests/unit/t_res.h"
#include "pool/opts.h"
#include "pool/res.h"

#define M (1ull << 20)
#define PS2M (2ull << 20)

static char tmp[PATH_MAX], state[PATH_MAX + 16];
static struct rampool_pool *pool;

static int setup(void **st)
{
	(void)st;
	umask(022);
	t_rm_reset();
	t_tmpdir(tmp, sizeof(tmp));
	snprintf(state, sizeof(state), "%s/state", tmp);
	pool = t_pool(state, NULL);
	pool->resmount_ops = &t_rm_ops;
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	rampool_pool_free(pool);
	t_rmtree(tmp);
	t_hp_restore();
	t_group_del();
	return 0;
}

static struct rampool_reservation_opts shm(uint64_t size)
{
	return (struct rampool_reservation_opts){
		.sz = sizeof(struct rampool_reservation_opts),
		.size = size, .backing = RAMPOOL_RES_SHMEM, .owner_uid = -1,
	};
}

static struct rampool_reservation_opts huge(uint64_t size)
{
	return (struct rampool_reservation_opts){
		.sz = sizeof(struct rampool_reservation_opts),
		.size = size, .backing = RAMPOOL_RES_HUGETLB, .owner_uid = -1,
	};
}

static void raw_exec(const char *sql)
{
	char db[PATH_MAX + 32];
	sqlite3 *h;

	snprintf(db, sizeof(db), "%s/ledger.db", state);
	assert_int_equal(sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
}

static int count_totals(void *ctx, uint64_t ps, int node, int backing,
			uint64_t promised, uint64_t populated)
{
	(void)ps; (void)node; (void)backing; (void)promised; (void)populated;
	(*(int *)ctx)++;
	return 0;
}

/* Rows in the ledger (0 when there is none), its sums checked. */
static int rows(const char *name, bool *found)
{
	struct ledger_row r;
	struct ledger *l;
	int n = 0, ret;

	*found = false;
	ret = ledger_open(pool, LEDGER_READ, &l);
	if (ret == -ENOENT)
		return 0;
	assert_int_equal(ret, 0);
	assert_int_equal(ledger_check_totals(l), 0);
	*found = name && !ledger_get(l, name, &r);
	assert_int_equal(ledger_totals(l, count_totals, &n), 0);
	ledger_close(l);
	return n;
}

/*
 * A failed call left nothing: no row of name (and no sums when it was the
 * only one), no mount, file, directory or intent of it; every fake mount
 * but `mounts` undone.
 */
static void nothing_left(const char *name, int mounts, int sums)
{
	bool found;

	assert_int_equal(rows(name, &found), sums);
	assert_false(found);
	assert_int_equal(t_rm.nr_mnt, mounts);
	assert_false(t_exists("%s/mnt/%s", state, name));
	assert_false(t_exists("%s/shm/%s", state, name));
	assert_false(t_exists("%s/intent/%s", state, name));
	if (!mounts)
		assert_false(t_exists("%s/shm", state));
}

/* ---- bad input: -EINVAL before anything is touched ---------------------- */

static void bad(const char *name, const struct rampool_reservation_opts *o)
{
	bool had = t_exists("%s", state);
	int calls = 0;

	assert_int_equal(rampool_reservation_new(pool, name, o), -EINVAL);
	for (int i = 0; i < T_RMC_NR; i++)
		calls += t_rm.calls[i];
	assert_int_equal(calls, 0);
	/* not even the state directory or the ledger is made */
	assert_int_equal(t_exists("%s", state), had);
}

static void test_bad_names(void **st)
{
	struct rampool_reservation_opts o = shm(M);
	char n65[66], n64[65];

	(void)st;
	memset(n65, 'a', 65);
	n65[65] = 0;
	bad(NULL, &o);
	bad("", &o);
	bad("../x", &o);
	bad("a/b", &o);
	bad("/abs", &o);
	bad(n65, &o);
	bad("caf\xc3\xa9", &o);		/* UTF-8, but not [A-Za-z0-9._-] */
	bad("\xff\xfe", &o);		/* not UTF-8 at all */
	bad(".hidden", &o);
	bad("-rf", &o);
	bad("_x", &o);
	bad("a b", &o);
	bad("a\nb", &o);
	bad(".", &o);
	bad("..", &o);
	assert_int_equal(rampool_reservation_new(NULL, "x", &o), -EINVAL);

	/* 64 is the most, and fine */
	memset(n64, 'b', 64);
	n64[64] = 0;
	assert_int_equal(rampool_reservation_new(pool, n64, &o), 0);
	assert_true(t_exists("%s/shm/%s", state, n64));
	assert_int_equal(rampool_reservation_release(pool, n64), 0);
	nothing_left(n64, 0, 0);
}

static void test_bad_opts(void **st)
{
	const struct rampool_res_node two[2] = { { 0, 2 * M }, { 0, 2 * M } };
	const struct rampool_res_node neg[1] = { { -3, 0 } };
	const struct rampool_res_node big[2] = {
		{ 0, UINT64_MAX / 4 }, { 1, 4096 } };
	struct {
		struct rampool_reservation_opts o;
		char tail[16];
	} longer;
	struct rampool_reservation_opts o;

	(void)st;
	bad("x", NULL);
	o = shm(M);
	o.sz--;
	bad("x", &o);
	o.sz = 0;
	bad("x", &o);
	/* a newer caller's struct: bytes past ours must be zero */
	memset(&longer, 0, sizeof(longer));
	longer.o = shm(M);
	longer.o.sz = sizeof(longer);
	longer.tail[7] = 1;
	bad("x", &longer.o);
	o = shm(M);
	o.flags = 1u << 7;
	bad("x", &o);
	o = shm(M);
	o.backing = 3;
	bad("x", &o);
	o = shm(0);
	bad("x", &o);
	o = shm(4097);
	bad("x", &o);
	o = shm(UINT64_MAX & ~4095ull);		/* overflow */
	bad("x", &o);
	o = shm(M);
	o.extra = 100;
	bad("x", &o);
	o.extra = UINT64_MAX & ~4095ull;
	bad("x", &o);
	o = shm(0);
	o.nodes = two;
	o.nr_nodes = 2;
	bad("x", &o);			/* node 0 listed twice */
	o.flags = RAMPOOL_RES_INTERLEAVE;
	o.size = 4 * M;
	bad("x", &o);
	o = shm(0);
	o.nodes = big;
	o.nr_nodes = 2;
	bad("x", &o);			/* the node sizes overflow */
	o = shm(8 * M);			/* not the sum of the node sizes */
	o.nodes = two;
	o.nr_nodes = 2;
	bad("x", &o);
	o = shm(M);
	o.nodes = neg;
	o.nr_nodes = 1;
	bad("x", &o);
	o.nodes = NULL;			/* entries promised, none given */
	bad("x", &o);
	o = shm(M);
	o.nodes = two;
	o.nr_nodes = LEDGER_MAX_NODES + 1;
	bad("x", &o);
	o = shm(M);
	o.threads = 257;
	bad("x", &o);
	o = shm(M);
	o.owner_uid = -2;
	bad("x", &o);
	o.owner_uid = 1ll << 32;
	bad("x", &o);
	o = shm(2 * M);
	o.page_size = PS2M;		/* shmem is 4K pages */
	bad("x", &o);
	o = huge(2 * M);
	o.page_size = 4096;		/* no hugepages of 4K */
	bad("x", &o);
	o = huge(3 * M);		/* not a multiple of 2M */
	bad("x", &o);
}

/* extra headroom and several nodes: refused (needs two nodes' entries) */
static void test_extra_nodes(void **st)
{
	const struct rampool_res_node two[2] = { { 0, 2 * M }, { 1, 2 * M } };
	struct rampool_reservation_opts o = shm(0);

	(void)st;
	o.nodes = two;
	o.nr_nodes = 2;
	o.extra = M;
	bad("x", &o);
	o.flags = RAMPOOL_RES_INTERLEAVE;
	o.size = 4 * M;
	bad("x", &o);
}

/* A node the host does not have: refused under the ledger, nothing made. */
static void test_no_such_node(void **st)
{
	const struct rampool_res_node far[1] = { { 4000, 0 } };
	struct rampool_reservation_opts o = shm(M);

	(void)st;
	o.nodes = far;
	o.nr_nodes = 1;
	assert_int_equal(rampool_reservation_new(pool, "x", &o), -EINVAL);
	assert_int_equal(t_rm.calls[T_MOUNT], 0);
	nothing_left("x", 0, 0);
}

/* Another owner without root: -EPERM and nothing made. */
static void test_owner_not_root(void **st)
{
	pid_t pid;

	(void)st;
	pid = fork();
	if (pid == 0) {
		struct rampool_reservation_opts o = shm(M);
		int rc = 0;

		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(10);
		o.owner_uid = 1000;
		if (rampool_reservation_new(pool, "x", &o) != -EPERM)
			rc |= 1;
		/* 0 (a zeroed struct) is the caller, not root */
		o.owner_uid = 0;
		if (rampool_reservation_new(pool, "x", &o) != -EACCES)
			rc |= 2;
		/* itself: it may not write the ledger (none there yet) */
		o.owner_uid = -1;
		if (rampool_reservation_new(pool, "x", &o) != -EACCES)
			rc |= 4;
		o.owner_uid = 65534;
		if (rampool_reservation_new(pool, "x", &o) != -EACCES)
			rc |= 8;
		_exit(rc);
	}
	assert_int_equal(t_wait(pid), 0);
	assert_false(t_exists("%s", state));
	assert_int_equal(t_rm.calls[T_MOUNT], 0);
}

/*
 * A member of the service group writes the ledger but may not mount:
 * -EPERM for a reservation, nothing made; root's reservations are not
 * its to change, but it reads them.
 */
static void test_group_member(void **st)
{
	struct rampool_reservation_opts o = shm(M);
	gid_t gid = t_group_add();
	pid_t pid;

	(void)st;
	if (gid == (gid_t)-1)
		skip();
	rampool_pool_free(pool);
	pool = t_pool(state, t_group);
	pool->resmount_ops = &t_rm_ops;
	assert_int_equal(rampool_reservation_new(pool, "root", &o), 0);
	assert_int_equal(t_rm.calls[T_MOUNT] + t_rm.calls[T_OPEN], 2);
	pid = fork();
	if (pid == 0) {
		struct rampool_res_list *list;
		char buf[PATH_MAX];
		int rc = 0;

		if (t_drop_root(gid))
			_exit(100);
		rc |= (rampool_reservation_new(pool, "mine", &o) != -EPERM) << 0;
		/* no mount, no file tried (the copy of root's counts) */
		rc |= (t_rm.calls[T_MOUNT] + t_rm.calls[T_OPEN] != 2) << 6;
		rc |= (rampool_reservation_release(pool, "root") != -EPERM) << 1;
		rc |= (rampool_reservation_grow(pool, "root", M) != -EPERM) << 2;
		rc |= (rampool_reservation_path(pool, "root", buf,
						sizeof(buf)) != -EPERM) << 3;
		if (rampool_reservation_list(pool, NULL, &list))
			rc |= 1 << 4;
		else if (rampool_res_list_count(list) != 1)
			rc |= 1 << 5;
		rampool_res_list_free(list);
		_exit(rc);
	}
	assert_int_equal(t_wait(pid), 0);
	nothing_left("mine", 1, 1);
	assert_true(t_exists("%s/shm/root", state));
	assert_int_equal(rampool_reservation_release(pool, "root"), 0);
	t_group_del();
}

/* ---- shmem: made, then failed at each step ------------------------------ */

static void test_shmem(void **st)
{
	struct rampool_reservation_opts o = shm(8 * M);
	struct rampool_reservation_info info = { .sz = sizeof(info) };
	struct rampool_res_list *list;
	char path[PATH_MAX + 64];
	struct stat s;
	bool found;

	(void)st;
	o.extra = 2 * M;
	o.owner_uid = 1234;
	assert_int_equal(rampool_reservation_new(pool, "vm1", &o), 0);
	assert_int_equal(t_rm.calls[T_MOUNT], 1);
	assert_string_equal(t_rm.last.fstype, "tmpfs");
	snprintf(path, sizeof(path), "%s/shm", state);
	assert_string_equal(t_rm.last.target, path);
	snprintf(path, sizeof(path), "%s/shm/vm1", state);
	assert_int_equal(stat(path, &s), 0);
	assert_int_equal(s.st_mode & 07777, 0600);
	assert_int_equal(s.st_uid, 1234);
	assert_int_equal(s.st_size, 10 * M);
	assert_false(t_exists("%s/intent/vm1", state));
	assert_int_equal(rows("vm1", &found), 1);
	assert_true(found);

	assert_int_equal(rampool_reservation_list(pool, "vm1", &list), 0);
	assert_int_equal(rampool_res_list_count(list), 1);
	assert_int_equal(rampool_res_list_get(list, 0, &info), 0);
	assert_string_equal(info.name, "vm1");
	assert_string_equal(info.path, path);
	assert_int_equal(info.backing, RAMPOOL_RES_SHMEM);
	assert_int_equal(info.state, RAMPOOL_RES_STATE_READY);
	assert_int_equal(info.owner_uid, 1234);
	assert_int_equal(info.page_size, 4096);
	assert_int_equal(info.size, 8 * M);
	assert_int_equal(info.extra, 2 * M);
	assert_int_equal(info.held, 0);		/* nothing populated */
	assert_int_equal(info.owed, 10 * M);
	assert_int_equal(info.nr_nodes, 1);
	rampool_res_list_free(list);

	/* the name is taken: nothing made, the first untouched */
	o = shm(4 * M);
	assert_int_equal(rampool_reservation_new(pool, "vm1", &o), -EEXIST);
	assert_int_equal(t_rm.calls[T_MOUNT], 1);
	assert_int_equal(t_rm.calls[T_OPEN], 1);
	assert_int_equal(stat(path, &s), 0);
	assert_int_equal(s.st_size, 10 * M);
	assert_false(t_exists("%s/intent/vm1", state));

	assert_int_equal(rampool_reservation_release(pool, "vm1"), 0);
	nothing_left("vm1", 0, 0);
	assert_int_equal(rampool_reservation_release(pool, "vm1"), -ENOENT);
}

static void shm_fails(enum t_rmc c, int err, int skip_calls, int expect)
{
	struct rampool_reservation_opts o = shm(4 * M);

	t_rm_fail(c, err, skip_calls);
	assert_int_equal(rampool_reservation_new(pool, "x", &o), expect);
	assert_int_equal(t_rm.fail, -1);	/* the failure was reached */
	nothing_left("x", 0, 0);
	t_rm_reset();
}

static void test_shmem_fails(void **st)
{
	(void)st;
	shm_fails(T_MKDIR, EACCES, 0, -EACCES);
	shm_fails(T_MOUNT, EPERM, 0, -EPERM);
	shm_fails(T_MOUNT, ENOMEM, 0, -ENOMEM);
	shm_fails(T_OPEN, EMFILE, 0, -EMFILE);
	shm_fails(T_OPEN, EEXIST, 0, -EEXIST);
	shm_fails(T_FCHOWN, EPERM, 0, -EPERM);
	shm_fails(T_FTRUNC, ENOSPC, 0, -ENOSPC);
}

/* A failure beside a reservation in the same tmpfs leaves that one be. */
static void test_shmem_fails_beside(void **st)
{
	struct rampool_reservation_opts o = shm(4 * M);

	(void)st;
	assert_int_equal(rampool_reservation_new(pool, "a", &o), 0);
	t_rm_fail(T_FTRUNC, EIO, 0);
	assert_int_equal(rampool_reservation_new(pool, "b", &o), -EIO);
	nothing_left("b", 1, 1);
	assert_true(t_exists("%s/shm/a", state));
	raw_exec("CREATE TRIGGER no BEFORE INSERT ON res"
		 " BEGIN SELECT RAISE(ABORT, 'test'); END");
	assert_int_equal(rampool_reservation_new(pool, "b", &o), -EIO);
	nothing_left("b", 1, 1);
	assert_true(t_exists("%s/shm/a", state));
	raw_exec("DROP TRIGGER no");
	assert_int_equal(rampool_reservation_release(pool, "a"), 0);
	nothing_left("a", 0, 0);
}

/* The row, or one of its node shares, cannot be written: all undone. */
static void test_ledger_insert_fails(void **st)
{
	static const char *const table[] = { "res", "res_node" };
	struct rampool_reservation_opts o = shm(4 * M);
	char sql[PATH_MAX + 256];
	struct ledger *l;
	int fd;

	(void)st;
	/* the ledger made beforehand, to plant the failure in it */
	assert_int_equal(ledger_open(pool, LEDGER_WRITE, &l), 0);
	ledger_close(l);
	for (int i = 0; i < 2; i++) {
		snprintf(sql, sizeof(sql), "CREATE TRIGGER no BEFORE INSERT ON"
			 " %s BEGIN SELECT RAISE(ABORT, 'test'); END",
			 table[i]);
		raw_exec(sql);
		t_rm_reset();
		assert_int_equal(rampool_reservation_new(pool, "x", &o), -EIO);
		assert_int_equal(t_rm.calls[T_MOUNT], 1);
		assert_int_equal(t_rm.calls[T_UMOUNT], 1);
		nothing_left("x", 0, 0);
		raw_exec("DROP TRIGGER no");
	}
	/* the intent cannot be written (a file where its dir goes) */
	snprintf(sql, sizeof(sql), "%s/intent", state);
	assert_int_equal(rmdir(sql), 0);
	fd = open(sql, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	t_rm_reset();
	assert_int_equal(rampool_reservation_new(pool, "x", &o), -ENOTDIR);
	assert_int_equal(t_rm.calls[T_MOUNT], 0);
	nothing_left("x", 0, 0);
	unlink(sql);
	assert_int_equal(rampool_reservation_new(pool, "x", &o), 0);
	assert_int_equal(rampool_reservation_release(pool, "x"), 0);
}

/* ---- hugetlb: the mount, its data, its failures ------------------------- */

static void test_hugetlb(void **st)
{
	struct rampool_reservation_opts o = huge(4 * M);
	struct rampool_reservation_info info = { .sz = sizeof(info) };
	struct rampool_res_list *list;
	char data[256], path[PATH_MAX + 64];
	struct stat s;

	(void)st;
	umask(077);
	T_NEED_HP(3);
	o.extra = PS2M;
	o.owner_uid = 1000;
	assert_int_equal(rampool_reservation_new(pool, "vm", &o), 0);
	assert_int_equal(t_rm.nr_mnt, 1);
	assert_string_equal(t_rm.last.fstype, "hugetlbfs");
	snprintf(path, sizeof(path), "%s/mnt/vm", state);
	assert_string_equal(t_rm.last.target, path);
	snprintf(data, sizeof(data), "pagesize=2097152,min_size=%llu,"
		 "size=%llu,uid=1000,gid=0,mode=0700", 6 * M, 6 * M);
	assert_string_equal(t_rm.last.data, data);
	/* the owner walks through mnt/ to its mount whatever the umask */
	snprintf(path, sizeof(path), "%s/mnt", state);
	assert_int_equal(stat(path, &s), 0);
	assert_int_equal(s.st_mode & 07777, 0755);
	snprintf(path, sizeof(path), "%s/mnt/vm/mem", state);
	assert_int_equal(stat(path, &s), 0);
	assert_int_equal(s.st_mode & 07777, 0600);
	assert_int_equal(s.st_uid, 1000);
	assert_int_equal(s.st_size, 6 * M);

	/* one page in the file (st_blocks; the mount's statfs is not read) */
	t_rm.used_pages = 3;
	t_fill_file(path, PS2M);
	assert_int_equal(rampool_reservation_list(pool, NULL, &list), 0);
	assert_int_equal(rampool_res_list_count(list), 1);
	assert_int_equal(rampool_res_list_get(list, 0, &info), 0);
	assert_string_equal(info.path, path);
	assert_int_equal(info.held, 6 * M);	/* the mount holds it all */
	assert_int_equal(info.owed, 0);
	assert_int_equal(info.populated, PS2M);
	rampool_res_list_free(list);

	/* still mapped somewhere: release changes nothing */
	t_rm_fail(T_UMOUNT, EBUSY, 0);
	assert_int_equal(rampool_reservation_release(pool, "vm"), -EBUSY);
	assert_int_equal(t_rm.nr_mnt, 1);
	assert_true(t_exists("%s", path));
	assert_int_equal(rampool_reservation_list(pool, "vm", &list), 0);
	rampool_res_list_free(list);
	assert_int_equal(rampool_reservation_release(pool, "vm"), 0);
	nothing_left("vm", 0, 0);
}

static void huge_fails(enum t_rmc c, int err, int skip_calls, int expect)
{
	struct rampool_reservation_opts o = huge(2 * M);

	t_rm_reset();
	t_rm_fail(c, err, skip_calls);
	assert_int_equal(rampool_reservation_new(pool, "h", &o), expect);
	assert_int_equal(t_rm.fail, -1);
	nothing_left("h", 0, 0);
}

static void test_hugetlb_fails(void **st)
{
	struct rampool_shortfall sf = { .sz = sizeof(sf) };
	struct rampool_reservation_opts o = huge(2 * M);

	(void)st;
	umask(077);
	T_NEED_HP(1);
	huge_fails(T_MKDIR, EACCES, 0, -EACCES);	/* mnt/ */
	huge_fails(T_MKDIR, EDQUOT, 1, -EDQUOT);	/* mnt/h */
	huge_fails(T_MOUNT, EPERM, 0, -EPERM);
	huge_fails(T_OPEN, EMFILE, 0, -EMFILE);
	huge_fails(T_FCHOWN, EPERM, 0, -EPERM);
	huge_fails(T_FTRUNC, ENOMEM, 0, -ENOMEM);
	/* the kernel's own refusal (someone took the pages): a shortfall */
	huge_fails(T_MOUNT, ENOMEM, 0, -ENOSPC);
	assert_int_equal(rampool_pool_last_shortfall(pool, 0, &sf), 0);
	assert_int_equal(sf.node, RAMPOOL_NODE_ANY);
	assert_int_equal(sf.page_size, PS2M);
	assert_int_equal(sf.need, 2 * M);
	assert_int_equal(sf.grantable, 0);
	assert_int_equal(sf.short_by, 2 * M);
	assert_int_equal(rampool_pool_last_shortfall(pool, 1, &sf), -ERANGE);
	/* a success clears it */
	t_rm_reset();
	assert_int_equal(rampool_reservation_new(pool, "h", &o), 0);
	assert_int_equal(rampool_pool_last_shortfall(pool, 0, &sf), -ERANGE);
	assert_int_equal(rampool_reservation_release(pool, "h"), 0);
}

/* ---- refused: the shortfall lines --------------------------------------- */

static void test_shortfall_hugetlb(void **st)
{
	const struct rampool_res_node n0[1] = { { 0, 0 } };
	struct rampool_reservation_opts o;
	struct rampool_shortfall sf = { .sz = sizeof(sf) };
	uint64_t avail, need;
	long node_avail;

	(void)st;
	/* under tests/run's lock nothing else moves these */
	avail = (uint64_t)t_hp_avail() * PS2M;
	o = huge(avail + PS2M);
	o.extra = PS2M;
	need = avail + 2 * PS2M;
	assert_int_equal(rampool_reservation_new(pool, "big", &o), -ENOSPC);
	nothing_left("big", 0, 0);
	assert_int_equal(rampool_pool_last_shortfall(pool, 0, &sf), 0);
	assert_int_equal(sf.sz, sizeof(sf));
	assert_int_equal(sf.node, RAMPOOL_NODE_ANY);
	assert_int_equal(sf.page_size, PS2M);
	assert_int_equal(sf.need, need);
	assert_int_equal(sf.grantable, avail);
	assert_int_equal(sf.short_by, 2 * PS2M);
	assert_int_equal(rampool_pool_last_shortfall(pool, 1, &sf), -ERANGE);
	assert_int_equal(rampool_pool_last_shortfall(pool, UINT_MAX, &sf),
			 -ERANGE);

	/* on node 0: its free pages less every reservation (global) */
	node_avail = t_sysfs_long("/sys/devices/system/node/node0/hugepages/"
				  "hugepages-2048kB/free_hugepages") -
		     t_sysfs_long(T_HP2M "resv_hugepages");
	if (node_avail < 0)
		node_avail = 0;
	if ((uint64_t)node_avail * PS2M < avail)
		avail = (uint64_t)node_avail * PS2M;
	o.nodes = n0;
	o.nr_nodes = 1;
	assert_int_equal(rampool_reservation_new(pool, "big", &o), -ENOSPC);
	assert_int_equal(rampool_pool_last_shortfall(pool, 0, &sf), 0);
	assert_int_equal(sf.node, 0);
	assert_int_equal(sf.need, need);
	assert_int_equal(sf.grantable, avail);
	assert_int_equal(sf.short_by, need - avail);
	assert_int_equal(rampool_pool_last_shortfall(pool, 1, &sf), -ERANGE);
	nothing_left("big", 0, 0);

	/* a bad input clears the last refusal's lines */
	bad("..", &o);
	assert_int_equal(rampool_pool_last_shortfall(pool, 0, &sf), -ERANGE);
}

static uint64_t mem_available(void)
{
	unsigned long long kb = 0;
	char line[256];
	FILE *f = fopen("/proc/meminfo", "re");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return kb << 10;
}

static void test_shortfall_shmem(void **st)
{
	struct rampool_reservation_opts o = shm(1ull << 50);
	struct rampool_shortfall sf = { .sz = sizeof(sf) };
	uint64_t before = mem_available(), after;

	(void)st;
	assert_int_equal(rampool_reservation_new(pool, "big", &o), -ENOSPC);
	after = mem_available();
	nothing_left("big", 0, 0);
	assert_int_equal(rampool_pool_last_shortfall(pool, 0, &sf), 0);
	assert_int_equal(sf.node, RAMPOOL_NODE_ANY);
	assert_int_equal(sf.page_size, 4096);
	assert_int_equal(sf.need, 1ull << 50);
	/* the kernel's MemAvailable of the moment (nothing owed yet) */
	assert_true(sf.grantable >= (before < after ? before : after) - 64 * M);
	assert_true(sf.grantable <= (before > after ? before : after) + 64 * M);
	assert_int_equal(sf.short_by, sf.need - sf.grantable);
	assert_int_equal(rampool_pool_last_shortfall(pool, 1, &sf), -ERANGE);

	/* what the ledger owes is taken off: 64M owed, 64M less grantable */
	o = shm(64 * M);
	assert_int_equal(rampool_reservation_new(pool, "owed", &o), 0);
	o = shm(1ull << 50);
	before = mem_available();
	assert_int_equal(rampool_reservation_new(pool, "big", &o), -ENOSPC);
	after = mem_available();
	assert_int_equal(rampool_pool_last_shortfall(pool, 0, &sf), 0);
	assert_true(sf.grantable + 64 * M >=
		    (before < after ? before : after) - 64 * M);
	assert_true(sf.grantable + 64 * M <=
		    (before > after ? before : after) + 64 * M);
	assert_int_equal(rampool_reservation_release(pool, "owed"), 0);
}

/*
 * Processes racing for more than the host has (each asks 60% of it):
 * the ledger's lock lets exactly one through; the others are refused
 * with what the winner took off.
 */
static void test_race(void **st)
{
	uint64_t size = mem_available() / 10 * 6 & ~4095ull;
	int won = 0, refused = 0;
	pid_t pids[4];
	char name[8];

	(void)st;
	for (int i = 0; i < 4; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			struct rampool_reservation_opts o = shm(size);
			int ret;

			snprintf(name, sizeof(name), "r%d", i);
			ret = rampool_reservation_new(pool, name, &o);
			_exit(ret == 0 ? 0 : ret == -ENOSPC ? 1 : 2);
		}
	}
	for (int i = 0; i < 4; i++) {
		int rc = t_wait(pids[i]);

		assert_true(rc == 0 || rc == 1);
		won += rc == 0;
		refused += rc == 1;
	}
	assert_int_equal(won, 1);
	assert_int_equal(refused, 3);
	/* the winner may be any of them: release it before checking */
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		if (t_exists("%s/shm/%s", state, name)) {
			assert_int_equal(rampool_reservation_release(pool,
								     name), 0);
		}
	}
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		nothing_left(name, 0, 0);
	}
}

/* ---- info structs of other sizes ---------------------------------------- */

static void test_info_sizes(void **st)
{
	struct {
		struct rampool_shortfall s;
		unsigned char tail[16];
	} big;
	struct {
		struct rampool_reservation_info i;
		unsigned char tail[16];
	} ibig;
	struct {
		struct rampool_reservation_node_info n;
		unsigned char tail[16];
	} nbig;
	struct rampool_reservation_opts o = huge(1ull << 40);
	struct rampool_res_list *list;
	unsigned char dst[32], src[32];

	(void)st;
	assert_int_equal(rampool_reservation_new(pool, "big", &o), -ENOSPC);
	memset(&big, 0xaa, sizeof(big));
	big.s.sz = sizeof(big);
	assert_int_equal(rampool_pool_last_shortfall(pool, 0, &big.s), 0);
	assert_int_equal(big.s.sz, sizeof(big));
	assert_int_equal(big.s.need, 1ull << 40);
	for (size_t i = 0; i < sizeof(big.tail); i++)
		assert_int_equal(big.tail[i], 0);
	big.s.sz = sizeof(big.s) - 1;
	assert_int_equal(rampool_pool_last_shortfall(pool, 0, &big.s),
			 -EINVAL);
	assert_int_equal(rampool_pool_last_shortfall(pool, 0, NULL), -EINVAL);
	assert_int_equal(rampool_pool_last_shortfall(NULL, 0, &big.s),
			 -EINVAL);

	o = shm(M);
	assert_int_equal(rampool_reservation_new(pool, "s", &o), 0);
	assert_int_equal(rampool_reservation_list(pool, NULL, &list), 0);
	memset(&ibig, 0xaa, sizeof(ibig));
	ibig.i.sz = sizeof(ibig);
	assert_int_equal(rampool_res_list_get(list, 0, &ibig.i), 0);
	assert_int_equal(ibig.i.size, M);
	for (size_t i = 0; i < sizeof(ibig.tail); i++)
		assert_int_equal(ibig.tail[i], 0);
	ibig.i.sz = sizeof(ibig.i) - 1;
	assert_int_equal(rampool_res_list_get(list, 0, &ibig.i), -EINVAL);
	ibig.i.sz = sizeof(ibig.i);
	assert_int_equal(rampool_res_list_get(list, 1, &ibig.i), -ERANGE);
	memset(&nbig, 0xaa, sizeof(nbig));
	nbig.n.sz = sizeof(nbig);
	assert_int_equal(rampool_res_list_node(list, 0, 0, &nbig.n), 0);
	assert_int_equal(nbig.n.node, RAMPOOL_NODE_ANY);
	assert_int_equal(nbig.n.size, M);
	assert_int_equal(nbig.n.owed, M);
	for (size_t i = 0; i < sizeof(nbig.tail); i++)
		assert_int_equal(nbig.tail[i], 0);
	nbig.n.sz = 4;
	assert_int_equal(rampool_res_list_node(list, 0, 0, &nbig.n), -EINVAL);
	nbig.n.sz = sizeof(nbig.n);
	assert_int_equal(rampool_res_list_node(list, 0, 1, &nbig.n), -ERANGE);
	rampool_res_list_free(list);
	assert_int_equal(rampool_reservation_release(pool, "s"), 0);

	/* a struct of a later minimum: filled up to sz, nothing past it */
	memset(src, 0x11, sizeof(src));
	memset(dst, 0xee, sizeof(dst));
	*(size_t *)dst = 16;
	assert_int_equal(info_copy(dst, 16, src, sizeof(src), 8), 0);
	assert_int_equal(*(size_t *)dst, 16);
	for (size_t i = sizeof(size_t); i < 16; i++)
		assert_int_equal(dst[i], 0x11);
	for (size_t i = 16; i < sizeof(dst); i++)
		assert_int_equal(dst[i], 0xee);
	assert_int_equal(info_copy(dst, 7, src, sizeof(src), 8), -EINVAL);
}

/* ---- populated now (prealloc) and cancelled ----------------------------- */

static void cancel_at_first(void *data, uint64_t done, uint64_t total)
{
	(void)done; (void)total;
	rampool_pool_cancel(data);
}

static void count_progress(void *data, uint64_t done, uint64_t total)
{
	uint64_t *last = data;

	assert_true(done > *last);
	assert_int_equal(total, 8 * M);
	*last = done;
}

static void test_prealloc(void **st)
{
	struct rampool_reservation_opts o = shm(8 * M);
	struct rampool_reservation_info info = { .sz = sizeof(info) };
	struct rampool_reservation_node_info ni = { .sz = sizeof(ni) };
	struct rampool_res_list *list;
	struct ledger_row r;
	struct ledger *l;
	uint64_t last = 0;

	(void)st;
	o.flags = RAMPOOL_RES_PREALLOC;
	o.extra = 4 * M;
	o.progress = count_progress;
	o.progress_data = &last;
	assert_int_equal(rampool_reservation_new(pool, "p", &o), 0);
	assert_int_equal(last, 8 * M);
	assert_int_equal(ledger_open(pool, LEDGER_READ, &l), 0);
	assert_int_equal(ledger_get(l, "p", &r), 0);
	ledger_close(l);
	assert_int_equal(r.state, RAMPOOL_RES_STATE_READY);
	assert_int_equal(r.pid, 0);	/* persistent now */
	assert_int_equal(r.flags, LEDGER_F_PREALLOC);
	assert_int_equal(r.nodes[0].populated, 8 * M);
	assert_int_equal(rampool_reservation_list(pool, "p", &list), 0);
	assert_int_equal(rampool_res_list_get(list, 0, &info), 0);
	assert_int_equal(info.populated, 8 * M);
	assert_int_equal(info.held, 8 * M);
	assert_int_equal(info.owed, 4 * M);	/* the headroom */
	assert_int_equal(rampool_res_list_node(list, 0, 0, &ni), 0);
	assert_int_equal(ni.held, 8 * M);
	assert_int_equal(ni.owed, 4 * M);
	rampool_res_list_free(list);
	assert_int_equal(rampool_reservation_release(pool, "p"), 0);
	nothing_left("p", 0, 0);
}

static void test_prealloc_cancel(void **st)
{
	struct rampool_reservation_opts o = shm(192 * M);

	(void)st;
	o.flags = RAMPOOL_RES_PREALLOC;
	o.threads = 1;		/* three 64M chunks, one after the other */
	o.progress = cancel_at_first;
	o.progress_data = pool;
	assert_int_equal(rampool_reservation_new(pool, "p", &o), -ECANCELED);
	nothing_left("p", 0, 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_bad_names),
		T(test_bad_opts),
		T(test_extra_nodes),
		T(test_no_such_node),
		T(test_owner_not_root),
		T(test_group_member),
		T(test_shmem),
		T(test_shmem_fails),
		T(test_shmem_fails_beside),
		T(test_ledger_insert_fails),
		T(test_hugetlb),
		T(test_hugetlb_fails),
		T(test_shortfall_hugetlb),
		T(test_shortfall_shmem),
		T(test_race),
		T(test_info_sizes),
		T(test_prealloc),
		T(test_prealloc_cancel),
	};

	if (geteuid()) {
		fprintf(stderr, "skip: test_reservation needs root\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
