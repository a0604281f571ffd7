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

#include "tests/unit/t_resv.h"


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

/* One node entry may carry the size (then size is 0 or the same). */
static void test_one_sized_node(void **st)
{
	const struct rampool_res_node n0[1] = { { 0, 4 * M } };
	struct rampool_reservation_opts o = shm(8 * M);
	struct ledger_row r;
	struct ledger *l;

	(void)st;
	o.nodes = n0;
	o.nr_nodes = 1;
	bad("x", &o);
	o.size = 0;
	assert_int_equal(rampool_reservation_new(pool, "x", &o), 0);
	assert_int_equal(ledger_open(pool, LEDGER_READ, &l), 0);
	assert_int_equal(ledger_get(l, "x", &r), 0);
	ledger_close(l);
	assert_int_equal(r.size, 4 * M);
	assert_int_equal(r.nr_nodes, 1);
	assert_int_equal(r.nodes[0].node, 0);
	assert_int_equal(r.nodes[0].size, 4 * M);
	o.size = 4 * M;
	assert_int_equal(rampool_reservation_new(pool, "y", &o), 0);
	assert_int_equal(rampool_reservation_release(pool, "x"), 0);
	assert_int_equal(rampool_reservation_release(pool, "y"), 0);
	nothing_left("x", 0, 0);
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

/*
 * A mount no row explains at the name's place (left by a process that
 * died while it was busy): never a second mount stacked over it.
 */
static void test_hugetlb_over_orphan(void **st)
{
	struct rampool_reservation_opts o = huge(2 * M);
	char dir[PATH_MAX + 64];

	(void)st;
	T_NEED_HP(1);
	snprintf(dir, sizeof(dir), "%s", state);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(dir, sizeof(dir), "%s/mnt", state);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(dir, sizeof(dir), "%s/mnt/o", state);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(t_rm_ops.mount("rampool", dir, "hugetlbfs", 0,
					"pagesize=2097152,min_size=2097152,"
					"size=2097152"), 0);
	/* no row, no intent: recovery leaves it (audit reports it) */
	assert_int_equal(rampool_reservation_new(pool, "o", &o), -EEXIST);
	assert_int_equal(t_rm.nr_mnt, 1);
	assert_int_equal(t_rm.calls[T_MOUNT], 1);
	assert_true(t_exists("%s", dir));
	assert_false(t_exists("%s/intent/o", state));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_bad_names),
		T(test_bad_opts),
		T(test_extra_nodes),
		T(test_one_sized_node),
		T(test_no_such_node),
		T(test_owner_not_root),
		T(test_group_member),
		T(test_shmem),
		T(test_shmem_fails),
		T(test_shmem_fails_beside),
		T(test_ledger_insert_fails),
		T(test_hugetlb),
		T(test_hugetlb_fails),
		T(test_hugetlb_over_orphan),
	};

	if (geteuid()) {
		fprintf(stderr, "skip: test_reservation needs root\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
