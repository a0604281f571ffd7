// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_resmount.c: the reservation mounts and backing files, each of their calls failed on purpose, nothing left behind. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/t_res.h"

static char dir[PATH_MAX], mnt[PATH_MAX + 8];
static const struct rp_log quiet = { .fn = t_log, .level = RAMPOOL_LOG_DEBUG };

static int setup(void **state)
{
	(void)state;
	t_rm_reset();
	t_tmpdir(dir, sizeof(dir));
	snprintf(mnt, sizeof(mnt), "%s/m", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	t_rmtree(dir);
	return 0;
}

/* Creates name in dir with a few bytes in it (a slot's file). */
static void t_fill_file_at(const char *d, const char *name)
{
	char path[PATH_MAX + 64];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", d, name);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "data", 4), 4);
	close(fd);
}

static void test_hugetlbfs_data(void **state)
{
	struct stat st;

	(void)state;
	umask(022);
	assert_int_equal(resmount_hugetlbfs(mnt, 2097152, 3ull << 30, 1000,
					    1001, &t_rm_ops, &quiet), 0);
	assert_string_equal(t_rm.last.data,
			    "pagesize=2097152,min_size=3221225472,"
			    "size=3221225472,uid=1000,gid=1001,mode=0700");
	assert_string_equal(t_rm.last.fstype, "hugetlbfs");
	assert_string_equal(t_rm.last.target, mnt);
	assert_int_equal(t_rm.last.flags, MS_NOSUID | MS_NODEV | MS_NOEXEC);
	assert_int_equal(t_rm.nr_mnt, 1);
	assert_int_equal(stat(mnt, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_true(resmount_is_hugetlbfs(mnt, &t_rm_ops));

	/* 1G pages, uid 0 */
	assert_int_equal(resmount_remove(mnt, &t_rm_ops, &quiet), 0);
	assert_int_equal(resmount_hugetlbfs(mnt, 1ull << 30, 4ull << 30, 0, 0,
					    &t_rm_ops, &quiet), 0);
	assert_string_equal(t_rm.last.data,
			    "pagesize=1073741824,min_size=4294967296,"
			    "size=4294967296,uid=0,gid=0,mode=0700");
	assert_int_equal(resmount_remove(mnt, &t_rm_ops, &quiet), 0);
	assert_int_equal(t_rm.nr_mnt, 0);
	assert_false(t_exists("%s", mnt));
}

/*
 * Anything already at the mount point is refused, never mounted over:
 * mount(2) follows a symlink planted there. A directory too (recovery
 * removes an empty one a crash left).
 */
static void test_hugetlbfs_dir_exists(void **state)
{
	char target[4200];

	(void)state;
	assert_int_equal(mkdir(mnt, 0700), 0);
	assert_int_equal(resmount_hugetlbfs(mnt, 2097152, 2097152, 0, 0,
					    &t_rm_ops, &quiet), -EEXIST);
	assert_int_equal(t_rm.calls[T_MOUNT], 0);
	assert_int_equal(rmdir(mnt), 0);
	snprintf(target, sizeof(target), "%s.elsewhere", mnt);
	assert_int_equal(mkdir(target, 0700), 0);
	assert_int_equal(symlink(target, mnt), 0);
	assert_int_equal(resmount_hugetlbfs(mnt, 2097152, 2097152, 0, 0,
					    &t_rm_ops, &quiet), -EEXIST);
	assert_int_equal(t_rm.calls[T_MOUNT], 0);
	assert_int_equal(unlink(mnt), 0);
	assert_int_equal(rmdir(target), 0);
}

static void test_hugetlbfs_mkdir_fails(void **state)
{
	(void)state;
	t_rm_fail(T_MKDIR, EACCES, 0);
	assert_int_equal(resmount_hugetlbfs(mnt, 2097152, 2097152, 0, 0,
					    &t_rm_ops, &quiet), -EACCES);
	assert_int_equal(t_rm.calls[T_MOUNT], 0);
	assert_false(t_exists("%s", mnt));

	/* the parent is missing: the real mkdirat says so */
	snprintf(mnt, sizeof(mnt), "%s/no/m", dir);
	assert_int_equal(resmount_hugetlbfs(mnt, 2097152, 2097152, 0, 0,
					    &t_rm_ops, &quiet), -ENOENT);
	assert_int_equal(t_rm.calls[T_MOUNT], 0);
}

static void mount_fails(int err)
{
	t_rm_reset();
	t_rm_fail(T_MOUNT, err, 0);
	assert_int_equal(resmount_hugetlbfs(mnt, 2097152, 8ull << 20, 0, 0,
					    &t_rm_ops, &quiet), -err);
	assert_int_equal(t_rm.calls[T_MOUNT], 1);
	assert_int_equal(t_rm.nr_mnt, 0);
	/* the directory it made is gone again */
	assert_false(t_exists("%s", mnt));
	assert_int_equal(t_rm.calls[T_UNLINK], 1);
}

static void test_hugetlbfs_mount_fails(void **state)
{
	(void)state;
	mount_fails(EPERM);
	mount_fails(ENOMEM);	/* not enough free pages for min_size */
	mount_fails(EINVAL);
}

static void test_remove(void **state)
{
	struct stat st;

	(void)state;
	assert_int_equal(resmount_hugetlbfs(mnt, 2097152, 2097152, 0, 0,
					    &t_rm_ops, &quiet), 0);
	/* still open or mapped: nothing changes */
	t_rm_fail(T_UMOUNT, EBUSY, 0);
	assert_int_equal(resmount_remove(mnt, &t_rm_ops, &quiet), -EBUSY);
	assert_int_equal(t_rm.nr_mnt, 1);
	assert_int_equal(stat(mnt, &st), 0);
	assert_int_equal(t_rm.calls[T_UNLINK], 0);

	t_rm_fail(T_UMOUNT, EPERM, 0);
	assert_int_equal(resmount_remove(mnt, &t_rm_ops, &quiet), -EPERM);
	assert_int_equal(t_rm.nr_mnt, 1);
	assert_int_equal(stat(mnt, &st), 0);

	assert_int_equal(resmount_remove(mnt, &t_rm_ops, &quiet), 0);
	assert_int_equal(t_rm.nr_mnt, 0);
	assert_false(t_exists("%s", mnt));

	/* not mounted: the directory alone goes; nothing there: fine */
	assert_int_equal(mkdir(mnt, 0700), 0);
	assert_int_equal(resmount_remove(mnt, &t_rm_ops, &quiet), 0);
	assert_false(t_exists("%s", mnt));
	assert_int_equal(resmount_remove(mnt, &t_rm_ops, &quiet), 0);

	/* unmounted but the directory cannot go */
	assert_int_equal(mkdir(mnt, 0700), 0);
	t_rm_fail(T_UNLINK, EACCES, 0);
	assert_int_equal(resmount_remove(mnt, &t_rm_ops, &quiet), -EACCES);
	assert_true(t_exists("%s", mnt));
}

static void test_tmpfs(void **state)
{
	struct stat st;

	(void)state;
	umask(022);
	assert_int_equal(resmount_tmpfs(mnt, &t_rm_ops, &quiet), 0);
	assert_int_equal(t_rm.calls[T_MOUNT], 1);
	assert_string_equal(t_rm.last.fstype, "tmpfs");
	assert_string_equal(t_rm.last.data, "mode=0755,size=100%");
	assert_int_equal(t_rm.last.flags, MS_NOSUID | MS_NODEV | MS_NOEXEC);
	assert_int_equal(stat(mnt, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	/* already tmpfs: mounted once only */
	assert_int_equal(resmount_tmpfs(mnt, &t_rm_ops, &quiet), 0);
	assert_int_equal(t_rm.calls[T_MOUNT], 1);
	assert_int_equal(t_rm.nr_mnt, 1);
	assert_false(resmount_is_hugetlbfs(mnt, &t_rm_ops));
	assert_int_equal(resmount_remove(mnt, &t_rm_ops, &quiet), 0);
}

static void test_tmpfs_fails(void **state)
{
	(void)state;
	t_rm_fail(T_MKDIR, EROFS, 0);
	assert_int_equal(resmount_tmpfs(mnt, &t_rm_ops, &quiet), -EROFS);
	assert_int_equal(t_rm.calls[T_MOUNT], 0);
	assert_false(t_exists("%s", mnt));

	/* the mount fails: the directory it made goes too */
	t_rm_fail(T_MOUNT, EPERM, 0);
	assert_int_equal(resmount_tmpfs(mnt, &t_rm_ops, &quiet), -EPERM);
	assert_int_equal(t_rm.nr_mnt, 0);
	assert_false(t_exists("%s", mnt));

	/* ... but not one that was there before */
	assert_int_equal(mkdir(mnt, 0755), 0);
	t_rm_fail(T_MOUNT, EPERM, 0);
	assert_int_equal(resmount_tmpfs(mnt, &t_rm_ops, &quiet), -EPERM);
	assert_true(t_exists("%s", mnt));
}

static void test_usage(void **state)
{
	uint64_t used = 1, total = 2, ps = 3;

	(void)state;
	assert_int_equal(resmount_hugetlbfs(mnt, 2097152, 10ull << 21, 0, 0,
					    &t_rm_ops, &quiet), 0);
	t_rm.used_pages = 4;
	assert_int_equal(resmount_usage(mnt, &t_rm_ops, &used, &total, &ps), 0);
	assert_int_equal(used, 4);
	assert_int_equal(total, 10);
	assert_int_equal(ps, 2097152);

	/* not hugetlbfs, or statfs fails: nothing written */
	used = total = ps = 7;
	assert_int_equal(resmount_usage(dir, &t_rm_ops, &used, &total, &ps),
			 -EINVAL);
	t_rm_fail(T_STATFS, EIO, 0);
	assert_int_equal(resmount_usage(mnt, &t_rm_ops, &used, &total, &ps),
			 -EIO);
	assert_int_equal(used + total + ps, 21);
	t_rm_fail(T_STATFS, EIO, 0);
	assert_false(resmount_is_hugetlbfs(mnt, &t_rm_ops));
	assert_int_equal(resmount_remove(mnt, &t_rm_ops, &quiet), 0);
}

static int dir_fd(void)
{
	int fd = open(dir, O_DIRECTORY | O_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

static void test_create_file(void **state)
{
	int dfd = dir_fd(), fd;
	struct stat st;

	(void)state;
	umask(022);
	fd = resmount_create_file(dfd, "mem", 1234, 4321, 6 << 20, &t_rm_ops,
				  &quiet);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_uid, 1234);
	assert_int_equal(st.st_gid, 4321);
	assert_int_equal(st.st_size, 6 << 20);
	assert_int_equal(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	assert_int_equal(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
	close(fd);

	/* it exists: -EEXIST and the file there is not touched */
	fd = resmount_create_file(dfd, "mem", 0, 0, 2 << 20, &t_rm_ops,
				  &quiet);
	assert_int_equal(fd, -EEXIST);
	assert_int_equal(fstatat(dfd, "mem", &st, 0), 0);
	assert_int_equal(st.st_uid, 1234);
	assert_int_equal(st.st_size, 6 << 20);
	assert_int_equal(t_rm.calls[T_UNLINK], 0);

	/* a symlink is not followed */
	assert_int_equal(symlinkat("mem", dfd, "link"), 0);
	assert_int_equal(resmount_create_file(dfd, "link", 0, 0, 4096,
					      &t_rm_ops, &quiet), -EEXIST);
	assert_int_equal(fstatat(dfd, "mem", &st, 0), 0);
	assert_int_equal(st.st_size, 6 << 20);
	close(dfd);
}

static void create_fails(enum t_rmc c, int err)
{
	int dfd = dir_fd();

	t_rm_reset();
	t_rm_fail(c, err, 0);
	assert_int_equal(resmount_create_file(dfd, "f", 0, 0, 4 << 20,
					      &t_rm_ops, &quiet), -err);
	assert_int_equal(faccessat(dfd, "f", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	assert_int_equal(errno, ENOENT);
	/* an fd it opened was closed */
	assert_int_equal(t_rm.calls[T_CLOSE], c == T_OPEN ? 0 : 1);
	close(dfd);
}

static void test_create_file_fails(void **state)
{
	(void)state;
	create_fails(T_OPEN, EMFILE);
	create_fails(T_OPEN, EEXIST);
	create_fails(T_FCHOWN, EPERM);
	create_fails(T_FTRUNC, ENOSPC);
	create_fails(T_FTRUNC, EFBIG);
}

/* The claim: the mount and its file move, from is left an empty directory. */
static void test_move(void **state)
{
	char to[PATH_MAX + 8];
	struct stat st;

	(void)state;
	snprintf(to, sizeof(to), "%s/r", dir);
	assert_int_equal(resmount_hugetlbfs(mnt, 2097152, 1ull << 30, 0, 0,
					    &t_rm_ops, &quiet), 0);
	t_fill_file_at(mnt, "slot");
	assert_int_equal(resmount_move(mnt, to, &t_rm_ops, &quiet), 0);
	assert_int_equal(t_rm.last.flags, MS_MOVE);
	assert_string_equal(t_rm.last.target, to);
	assert_int_equal(t_rm.nr_mnt, 1);
	assert_int_equal(t_rm_find(mnt), -1);
	assert_int_equal(t_rm_find(to), 0);
	/* the mount keeps its options: a 1 GiB min_size hugetlbfs */
	assert_string_equal(t_rm.mnt[0].data,
			    "pagesize=2097152,min_size=1073741824,"
			    "size=1073741824,uid=0,gid=0,mode=0700");
	assert_true(t_exists("%s/slot", to));
	assert_false(t_exists("%s/slot", mnt));
	assert_int_equal(stat(to, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	/* from: an empty directory, removable */
	assert_int_equal(rmdir(mnt), 0);
	assert_int_equal(resmount_remove(to, &t_rm_ops, &quiet), 0);
	assert_int_equal(t_rm.nr_mnt, 0);
}

/* Every failure leaves the mount where it was and no new directory. */
static void move_fails(enum t_rmc c, int err, bool to_exists)
{
	char to[PATH_MAX + 8];

	snprintf(to, sizeof(to), "%s/r", dir);
	t_rm_reset();
	assert_int_equal(resmount_hugetlbfs(mnt, 2097152, 1ull << 30, 0, 0,
					    &t_rm_ops, &quiet), 0);
	t_fill_file_at(mnt, "slot");
	if (to_exists)
		assert_int_equal(mkdir(to, 0700), 0);
	else
		t_rm_fail(c, err, 0);
	assert_int_equal(resmount_move(mnt, to, &t_rm_ops, &quiet), -err);
	assert_int_equal(t_rm.nr_mnt, 1);
	assert_int_equal(t_rm_find(mnt), 0);
	assert_true(t_exists("%s/slot", mnt));
	/* to: gone unless it was there before (and then untouched) */
	assert_int_equal(t_exists("%s", to), to_exists);
	assert_int_equal(t_rm.calls[T_UNLINK], c == T_MOUNT ? 1 : 0);
	if (to_exists)
		assert_int_equal(rmdir(to), 0);
	assert_int_equal(resmount_remove(mnt, &t_rm_ops, &quiet), 0);
}

static void test_move_fails(void **state)
{
	char to[PATH_MAX + 8], none[PATH_MAX + 8];

	(void)state;
	move_fails(T_MKDIR, EEXIST, true);
	move_fails(T_MKDIR, EACCES, false);
	move_fails(T_MKDIR, ENOENT, false);
	move_fails(T_MOUNT, EINVAL, false);	/* under a shared mount */
	move_fails(T_MOUNT, EPERM, false);
	/* from not a mount (the fake kernel's EINVAL): nothing left */
	snprintf(to, sizeof(to), "%s/r", dir);
	snprintf(none, sizeof(none), "%s/none", dir);
	assert_int_equal(mkdir(none, 0700), 0);
	assert_int_equal(resmount_move(none, to, &t_rm_ops, &quiet), -EINVAL);
	assert_false(t_exists("%s", to));
	assert_int_equal(t_rm.nr_mnt, 0);
}

/* A plain directory is bound on itself, then made private. */
static void test_private(void **state)
{
	(void)state;
	assert_int_equal(mkdir(mnt, 0700), 0);
	assert_int_equal(resmount_private(mnt, &t_rm_ops, &quiet), 0);
	assert_int_equal(t_rm.calls[T_MOUNT], 3);
	assert_int_equal(t_rm.nr_mnt, 1);
	assert_string_equal(t_rm.mnt[0].fstype, "none");
	assert_int_equal(t_rm.mnt[0].flags, MS_BIND);
	assert_int_equal(t_rm.last.flags, MS_PRIVATE);
	assert_string_equal(t_rm.last.target, mnt);
	/* again: a mount now, only made private (nothing stacked) */
	assert_int_equal(resmount_private(mnt, &t_rm_ops, &quiet), 0);
	assert_int_equal(t_rm.calls[T_MOUNT], 4);
	assert_int_equal(t_rm.nr_mnt, 1);
	assert_int_equal(resmount_remove(mnt, &t_rm_ops, &quiet), 0);
	assert_int_equal(t_rm.nr_mnt, 0);
}

/* Each mount call failed: its errno, no bind mount left behind. */
static void private_fails(int skip, int err, int umounts)
{
	t_rm_reset();
	t_rm_fail(T_MOUNT, err, skip);
	assert_int_equal(resmount_private(mnt, &t_rm_ops, &quiet), -err);
	assert_int_equal(t_rm.calls[T_MOUNT], skip + 1);
	assert_int_equal(t_rm.calls[T_UMOUNT], umounts);
	assert_int_equal(t_rm.nr_mnt, 0);
}

static void test_private_fails(void **state)
{
	(void)state;
	assert_int_equal(mkdir(mnt, 0700), 0);
	private_fails(0, EPERM, 0);
	private_fails(0, ENOENT, 0);
	private_fails(1, EACCES, 0);	/* the bind */
	private_fails(2, ENOMEM, 1);	/* private after the bind: undone */
	/* a missing directory: the kernel's ENOENT (the fake's EINVAL, bind ENOENT) */
	t_rm_reset();
	assert_int_equal(rmdir(mnt), 0);
	assert_int_equal(resmount_private(mnt, &t_rm_ops, &quiet), -ENOENT);
	assert_int_equal(t_rm.nr_mnt, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hugetlbfs_data, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hugetlbfs_dir_exists,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_hugetlbfs_mkdir_fails,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_hugetlbfs_mount_fails,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tmpfs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tmpfs_fails, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_usage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_create_file_fails, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_move_fails, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_private, setup, teardown),
		cmocka_unit_test_setup_teardown(test_private_fails, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
