// SPDX-License-Identifier: LGPL-2.1-or-later
/* res_security.c: planted symlinks are refused; another uid cannot release, grow, open or read a reservation, nor write the ledger (issue 7). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rampool.h"
#include "t_res.h"

#define STRANGER 65534		/* nobody */
#define OTHER 64999		/* a uid no account has */

static char victim_dir[128], victim_file[160];

static const char *sub(const char *rel)
{
	static char buf[4][256];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", t_res_dir(), rel);
	return buf[k];
}

/* A mount the library wrongly put on the victim must not outlive us. */
static void victim_cleanup(void)
{
	for (int i = 0; i < 4 && t_is_mount(victim_dir); i++)
		umount2(victim_dir, MNT_DETACH);
	unlink(victim_file);
}

static void victim_intact(void)
{
	char buf[16] = "";
	struct stat st;
	int fd;

	T_ASSERT(!t_is_mount(victim_dir));
	fd = open(victim_file, O_RDONLY | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st))
		T_FAIL("%s: %s", victim_file, strerror(errno));
	T_EQ(st.st_size, 5);
	T_EQ(st.st_mode & 07777, 0644);
	T_EQ(read(fd, buf, sizeof(buf)), 5);
	T_ASSERT(!memcmp(buf, "keep\n", 5));
	close(fd);
}

static void not_listed(const char *name)
{
	json_object *list = t_res_list();

	if (t_res_row(list, name))
		T_FAIL("%s is in the ledger", name);
	json_object_put(list);
}

/* A symlink where the pool makes a reservation's mount or file. */
static void planted_symlinks(void)
{
	struct t_hcount a, b;
	char *err = NULL;
	int rc;

	t_hcount(T_MB2, -1, &a);
	if (symlink(victim_dir, sub("mnt/evil")))
		T_FAIL("symlink: %s", strerror(errno));
	rc = t_poolctl(NULL, &err, "reserve", "evil", "--size", "4M", NULL);
	printf("reserve over a symlinked mount dir: exit %d: %s", rc, err);
	T_ASSERT(rc == 1 || rc == 3);
	free(err);
	not_listed("evil");
	victim_intact();
	t_hcount(T_MB2, -1, &b);
	T_HCOUNT_EQ(a, b);
	unlink(sub("mnt/evil"));

	if (symlink(victim_file, sub("shm/evil2")))
		T_FAIL("symlink: %s", strerror(errno));
	rc = t_poolctl(NULL, &err, "reserve", "evil2", "--size", "4M",
		       "--page-size", "4K", "--prealloc", NULL);
	printf("reserve over a symlinked shmem file: exit %d: %s", rc, err);
	T_ASSERT(rc == 1 || rc == 3);
	free(err);
	not_listed("evil2");
	victim_intact();
	unlink(sub("shm/evil2"));
}

/* A reservation's file swapped for a symlink: open and path refuse it. */
static void swapped_file(struct rampool_pool *pool)
{
	struct rampool_block *blk = (struct rampool_block *)0x1;
	char buf[512];
	int ret;

	t_poolctl_ok(0, "reserve", "swap", "--size", "4M", "--page-size",
		     "4K", NULL);
	if (unlink(sub("shm/swap")) || symlink(victim_file, sub("shm/swap")))
		T_FAIL("swap shm/swap: %s", strerror(errno));
	ret = rampool_reservation_open(pool, "swap", &blk);
	printf("open of a symlinked reservation file: %d\n", ret);
	T_ASSERT(ret < 0);
	T_ASSERT(blk == (struct rampool_block *)0x1);
	victim_intact();
	/* release removes the link, never what it points to */
	ret = rampool_reservation_release(pool, "swap");
	printf("release of a symlinked reservation file: %d\n", ret);
	victim_intact();
	if (ret)
		unlink(sub("shm/swap"));
	if (ret && rampool_reservation_release(pool, "swap"))
		T_FAIL("swap cannot be released once its file is gone");
	T_EQ(rampool_reservation_path(pool, "swap", buf, sizeof(buf)), -ENOENT);
}

static int open_errno(const char *path, int flags)
{
	int fd = open(path, flags | O_NOFOLLOW);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return errno;
}

/* In a child as uid: what the library and the kernel let it do. */
struct as_report {
	int rel, grow, path, open, newres, f_ro, f_rw, led_rw, led_new;
};

static void as_child(long long uid, const char *name, const char *file,
		     int mutate, int tell)
{
	struct rampool_pool_opts po = { .sz = sizeof(po),
					.state_dir = t_res_dir() };
	struct rampool_reservation_opts ro = { .sz = sizeof(ro),
					       .size = 4 * T_MB2,
					       .owner_uid = -1 };
	struct as_report r = { 0 };
	struct rampool_pool *pool;
	struct rampool_block *blk = NULL;
	char buf[512];

	if (setgroups(0, NULL) || setresgid((gid_t)uid, (gid_t)uid, (gid_t)uid) ||
	    setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid))
		_exit(120);
	if (rampool_pool_new(&po, &pool))
		_exit(121);
	/* the kernel's word first, before any call could change the file */
	r.f_ro = open_errno(file, O_RDONLY);
	r.f_rw = open_errno(file, O_RDWR);
	r.path = rampool_reservation_path(pool, name, buf, sizeof(buf));
	r.open = rampool_reservation_open(pool, name, &blk);
	if (!r.open)
		rampool_block_free(blk);
	if (mutate) {
		r.rel = rampool_reservation_release(pool, name);
		r.grow = rampool_reservation_grow(pool, name, T_MB2);
		r.newres = rampool_reservation_new(pool, "stranger", &ro);
	}
	r.led_rw = open_errno(sub("ledger.db"), O_RDWR);
	r.led_new = open_errno(sub("planted"), O_RDWR | O_CREAT | O_EXCL);
	rampool_pool_free(pool);
	if (write(tell, &r, sizeof(r)) != sizeof(r))
		_exit(122);
	_exit(0);
}

static struct as_report as_user(long long uid, const char *name,
				const char *file, int mutate)
{
	struct as_report r;
	int p[2], st;
	pid_t pid;

	if (pipe(p))
		T_FAIL("pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		T_FAIL("fork: %s", strerror(errno));
	if (pid == 0)
		as_child(uid, name, file, mutate, p[1]);
	close(p[1]);
	if (read(p[0], &r, sizeof(r)) != sizeof(r))
		T_FAIL("the child as uid %lld died", uid);
	close(p[0]);
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		T_FAIL("the child as uid %lld: status 0x%x", uid, st);
	return r;
}

#define T_DENIED(e) T_ASSERT((e) == -EPERM || (e) == -EACCES)

static void stranger(const char *name)
{
	json_object *before = t_res_show(name), *after;
	char *path = t_res_path(name), *err = NULL;
	struct t_hcount a, b;
	struct as_report r;
	int rc;

	t_hcount(T_MB2, -1, &a);
	r = as_user(STRANGER, name, path, 1);
	printf("uid %d on %s: release %d grow %d path %d open %d new %d, "
	       "file ro %d rw %d, ledger rw %d, new file %d\n", STRANGER,
	       name, r.rel, r.grow, r.path, r.open, r.newres, r.f_ro, r.f_rw,
	       r.led_rw, r.led_new);
	T_DENIED(r.rel);
	T_DENIED(r.grow);
	T_DENIED(r.path);
	T_DENIED(r.open);
	T_DENIED(r.newres);
	T_EQ(r.f_ro, EACCES);
	T_EQ(r.f_rw, EACCES);
	T_EQ(r.led_rw, EACCES);
	T_EQ(r.led_new, EACCES);

	/* the same through the command line: refused, exit 1 */
	rc = t_poolctl_as(STRANGER, NULL, &err, "release", name, NULL);
	T_EQ(rc, 1);
	free(err);
	rc = t_poolctl_as(STRANGER, NULL, &err, "grow", name, "--by", "2M",
			  NULL);
	T_EQ(rc, 1);
	free(err);
	rc = t_poolctl_as(STRANGER, NULL, &err, "path", name, NULL);
	T_EQ(rc, 1);
	free(err);

	after = t_res_show(name);
	if (strcmp(json_object_to_json_string(before),
		   json_object_to_json_string(after)))
		T_FAIL("%s changed: %s -> %s", name,
		       json_object_to_json_string(before),
		       json_object_to_json_string(after));
	t_hcount(T_MB2, -1, &b);
	T_HCOUNT_EQ(a, b);
	not_listed("stranger");
	json_object_put(before);
	json_object_put(after);
	free(path);
}

/* The ledger and its WAL files: root's, nobody else may write them. */
static void ledger_modes(void)
{
	static const char *const files[] = { "ledger.db", "ledger.db-wal",
					     "ledger.db-shm" };
	struct stat st;

	if (stat(t_res_dir(), &st))
		T_FAIL("%s: %s", t_res_dir(), strerror(errno));
	T_EQ(st.st_uid, 0);
	T_EQ(st.st_mode & S_IWOTH, 0);
	for (unsigned int i = 0; i < 3; i++) {
		if (lstat(sub(files[i]), &st)) {
			if (i == 0 || errno != ENOENT)
				T_FAIL("%s: %s", sub(files[i]), strerror(errno));
			continue;
		}
		printf("%s: mode %04o uid %u gid %u\n", files[i],
		       st.st_mode & 07777, st.st_uid, st.st_gid);
		T_ASSERT(S_ISREG(st.st_mode));
		T_EQ(st.st_uid, 0);
		T_EQ(st.st_mode & (S_IWOTH | S_ISUID | S_ISGID), 0);
		/* group write only for a real service group, never nogroup */
		if (st.st_mode & S_IWGRP)
			T_ASSERT(st.st_gid != 0 && st.st_gid != STRANGER);
	}
}

/*
 * A reservation given to nobody: nobody may open its file, and a third
 * uid still may not (the test can tell the two apart).
 */
static void given_to_nobody(void)
{
	struct as_report own, other;
	struct stat st;
	char *path;

	t_poolctl_ok(0, "reserve", "h2", "--size", "2M", "--owner", "nobody",
		     NULL);
	path = t_res_path("h2");
	if (stat(path, &st))
		T_FAIL("%s: %s", path, strerror(errno));
	T_EQ(st.st_uid, STRANGER);
	T_EQ(st.st_mode & 07777, 0600);
	own = as_user(STRANGER, "h2", path, 0);
	other = as_user(OTHER, "h2", path, 1);
	T_EQ(own.f_rw, 0);
	T_EQ(other.f_rw, EACCES);
	T_DENIED(other.rel);
	T_DENIED(other.open);
	free(path);
}

int main(void)
{
	struct rampool_pool_opts po = { .sz = sizeof(po) };
	struct rampool_pool *pool;
	struct stat st;
	char *path;
	int fd;

	t_require_hugetlb(T_MB2);
	if (!getpwuid(STRANGER) || getpwuid(OTHER))
		t_skip("needs uid %d (nobody) and no account with uid %d",
		       STRANGER, OTHER);
	po.state_dir = t_res_dir();
	t_res_pool_unclaimed(T_MB2, 8);
	snprintf(victim_dir, sizeof(victim_dir), "%s", t_tmpdir("/tmp"));
	snprintf(victim_file, sizeof(victim_file), "%s/victim", victim_dir);
	fd = open(victim_file, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0 || write(fd, "keep\n", 5) != 5 || fchmod(fd, 0644))
		T_FAIL("%s: %s", victim_file, strerror(errno));
	close(fd);
	t_atcleanup(victim_cleanup);
	T_EQ(rampool_pool_new(&po, &pool), 0);

	/* one of each kind, so mnt/ and shm/ exist */
	t_poolctl_ok(0, "reserve", "h1", "--size", "4M", NULL);
	t_poolctl_ok(0, "reserve", "s1", "--size", "4M", "--page-size", "4K",
		     NULL);
	path = t_res_path("h1");
	if (stat(path, &st))
		T_FAIL("%s: %s", path, strerror(errno));
	T_EQ(st.st_mode & 07777, 0600);
	T_EQ(st.st_uid, 0);
	free(path);

	planted_symlinks();
	swapped_file(pool);
	stranger("h1");
	stranger("s1");
	ledger_modes();

	given_to_nobody();
	t_poolctl_ok(0, "release", "h1", NULL);
	t_poolctl_ok(0, "release", "s1", NULL);
	t_poolctl_ok(0, "release", "h2", NULL);
	rampool_pool_free(pool);
	t_res_audit_clean();
	return 0;
}
