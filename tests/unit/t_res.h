// SPDX-License-Identifier: LGPL-2.1-or-later
/* t_res.h: a temporary state directory, a pool on it, and resmount ops that fake mounts and fail any call on demand. */
#ifndef T_RES_H
#define T_RES_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <linux/magic.h>
#include <linux/falloc.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rampool.h"
#include "backend/resmount.h"
#include "pool/pool.h"

/* ---- files ------------------------------------------------------------- */

/* Makes a fresh directory under /tmp into buf (PATH_MAX-sized). */
static inline void t_tmpdir(char *buf, size_t len)
{
	snprintf(buf, len, "/tmp/rampool-unit.XXXXXX");
	if (!mkdtemp(buf)) {
		perror("mkdtemp");
		exit(1);
	}
	chmod(buf, 0755);	/* the children that drop root walk through */
}

static inline int t_rm_one(const char *path, const struct stat *st, int flag,
			   struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	remove(path);
	return 0;
}

/* rm -rf path (never crossing into another file system) */
static inline void t_rmtree(const char *path)
{
	nftw(path, t_rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/*
 * Writes len bytes of 0x5a at the start of path (pages in the file:
 * st_blocks counts them); len 0 punches them all out again.
 */
static inline void t_fill_file(const char *path, size_t len)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	struct stat st;

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	if (len) {
		char *buf = malloc(len);

		assert_non_null(buf);
		memset(buf, 0x5a, len);
		assert_int_equal(pwrite(fd, buf, len, 0), (ssize_t)len);
		free(buf);
	} else {
		assert_int_equal(fallocate(fd, FALLOC_FL_PUNCH_HOLE |
					   FALLOC_FL_KEEP_SIZE, 0, st.st_size),
				 0);
	}
	close(fd);
}

__attribute__((format(printf, 1, 2)))
static inline bool t_exists(const char *fmt, ...)
{
	char path[4096];
	struct stat st;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return !lstat(path, &st);
}

/* ---- log --------------------------------------------------------------- */

static char t_last_log[512];

static inline void t_log(void *data, enum rampool_log_level level,
			 const char *msg)
{
	(void)data;
	snprintf(t_last_log, sizeof(t_last_log), "%s", msg);
	if (getenv("T_VERBOSE"))
		fprintf(stderr, "  log %d: %s\n", (int)level, msg);
}

/* A pool on state dir dir (group: the service group, may be NULL). */
static inline struct rampool_pool *t_pool(const char *dir, const char *group)
{
	struct rampool_pool_opts o = {
		.sz = sizeof(o), .sysroot = "/", .state_dir = dir,
		.log_fn = t_log, .log_level = RAMPOOL_LOG_DEBUG,
		/* never the host's "rampool" group: 0600 unless asked */
		.group = group ? group : "rampool-unit-no-such-group",
	};
	struct rampool_pool *pool = NULL;

	if (rampool_pool_new(&o, &pool)) {
		fprintf(stderr, "rampool_pool_new failed\n");
		exit(1);
	}
	return pool;
}

/* ---- resmount ops that fake mounts ------------------------------------- */

enum t_rmc { T_MOUNT, T_UMOUNT, T_MKDIR, T_UNLINK, T_STATFS, T_OPEN,
	     T_FCHOWN, T_FTRUNC, T_CLOSE, T_RMC_NR };

struct t_mnt {
	char target[4096 + 256];
	char fstype[32];
	char data[256];
	unsigned long flags;
};

#define T_MAX_MNT 16
static struct {
	int fail;		/* the call to fail (enum t_rmc), -1: none */
	int fail_errno;
	int fail_skip;		/* matching calls let through first */
	int calls[T_RMC_NR];
	struct t_mnt mnt[T_MAX_MNT];	/* what is "mounted" now */
	int nr_mnt;
	struct t_mnt last;	/* the last mount asked */
	uint64_t used_pages;	/* statfs of a fake hugetlbfs: in use */
	bool shm_is_tmpfs;	/* statfs says the shm dir is tmpfs anyway */
} t_rm;

/* Fails the (skip+1)th next call c with err, once. */
static inline void t_rm_fail(enum t_rmc c, int err, int skip)
{
	t_rm.fail = (int)c;
	t_rm.fail_errno = err;
	t_rm.fail_skip = skip;
}

static inline void t_rm_reset(void)
{
	memset(&t_rm, 0, sizeof(t_rm));
	t_rm.fail = -1;
}

static inline bool t_rm_hit(enum t_rmc c)
{
	t_rm.calls[c]++;
	if (t_rm.fail != (int)c || t_rm.fail_skip-- > 0)
		return false;
	t_rm.fail = -1;
	errno = t_rm.fail_errno;
	return true;
}

/* The top mount on target (the kernel stacks mounts on one dir). */
static inline int t_rm_find(const char *target)
{
	for (int i = t_rm.nr_mnt - 1; i >= 0; i--)
		if (!strcmp(t_rm.mnt[i].target, target))
			return i;
	return -1;
}

/* Moves the regular files directly in from to to (what a mount holds). */
static inline void t_rm_carry(const char *from, const char *to)
{
	struct dirent *d;
	DIR *dp = opendir(from);
	int tfd = open(to, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	while (dp && tfd >= 0 && (d = readdir(dp)))
		if (d->d_type == DT_REG)
			renameat(dirfd(dp), d->d_name, tfd, d->d_name);
	if (tfd >= 0)
		close(tfd);
	if (dp)
		closedir(dp);
}

/* MS_MOVE: the top mount on src now sits on target, with its files. */
static inline int t_mount_move(const char *src, const char *target)
{
	struct stat st;
	int i;

	t_rm.last.flags = MS_MOVE;
	snprintf(t_rm.last.target, sizeof(t_rm.last.target), "%s", target);
	if (t_rm_hit(T_MOUNT))
		return -1;
	i = t_rm_find(src);
	if (i < 0) {
		errno = EINVAL;	/* not a mount point */
		return -1;
	}
	if (stat(target, &st) || !S_ISDIR(st.st_mode)) {
		errno = ENOENT;
		return -1;
	}
	snprintf(t_rm.mnt[i].target, sizeof(t_rm.mnt[i].target), "%s", target);
	t_rm_carry(src, target);
	return 0;
}

/* MS_PRIVATE: a mount point only (EINVAL elsewhere, as the kernel). */
static inline int t_mount_private(const char *target)
{
	t_rm.last.flags = MS_PRIVATE;
	snprintf(t_rm.last.target, sizeof(t_rm.last.target), "%s", target);
	if (t_rm_hit(T_MOUNT))
		return -1;
	if (t_rm_find(target) < 0) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static inline int t_mount(const char *src, const char *target,
			  const char *fstype, unsigned long flags,
			  const void *data)
{
	struct t_mnt *m = &t_rm.last;
	struct stat st;

	if (flags & MS_MOVE)
		return t_mount_move(src, target);
	if (flags & MS_PRIVATE)
		return t_mount_private(target);
	snprintf(m->target, sizeof(m->target), "%s", target);
	snprintf(m->fstype, sizeof(m->fstype), "%s",
		 fstype ? fstype : (flags & MS_BIND) ? "bind" : "");
	snprintf(m->data, sizeof(m->data), "%s", data ? (const char *)data : "");
	m->flags = flags;
	if (t_rm_hit(T_MOUNT))
		return -1;
	if (stat(target, &st) || !S_ISDIR(st.st_mode)) {
		errno = ENOENT;
		return -1;
	}
	if (t_rm.nr_mnt == T_MAX_MNT) {
		errno = ENOMEM;
		return -1;
	}
	t_rm.mnt[t_rm.nr_mnt++] = *m;
	return 0;
}

/* Removes the files directly in dir. */
static inline void t_rm_empty(const char *dir)
{
	struct dirent *d;
	DIR *dp = opendir(dir);

	if (!dp)
		return;
	while ((d = readdir(dp)))
		if (d->d_type == DT_REG)
			unlinkat(dirfd(dp), d->d_name, 0);
	closedir(dp);
}

static inline int t_umount2(const char *target, int flags)
{
	int i;

	(void)flags;
	if (t_rm_hit(T_UMOUNT))
		return -1;
	i = t_rm_find(target);
	if (i < 0) {
		errno = EINVAL;	/* not a mount point */
		return -1;
	}
	memmove(&t_rm.mnt[i], &t_rm.mnt[i + 1],
		(size_t)(--t_rm.nr_mnt - i) * sizeof(t_rm.mnt[0]));
	if (t_rm_find(target) < 0)
		t_rm_empty(target);	/* what was in the mount goes */
	return 0;
}

static inline int t_mkdirat(int dfd, const char *path, mode_t mode)
{
	return t_rm_hit(T_MKDIR) ? -1 : mkdirat(dfd, path, mode);
}

static inline int t_unlinkat(int dfd, const char *path, int flags)
{
	return t_rm_hit(T_UNLINK) ? -1 : unlinkat(dfd, path, flags);
}

static inline uint64_t t_opt(const char *data, const char *key)
{
	const char *p = strstr(data, key);

	return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

static inline int t_statfs(const char *path, struct statfs *sf)
{
	int i;

	if (t_rm_hit(T_STATFS))
		return -1;
	i = t_rm_find(path);
	if (i < 0) {
		/* a file in a fake mount: the mount's figures */
		char dir[4096 + 256];
		char *slash;

		snprintf(dir, sizeof(dir), "%s", path);
		slash = strrchr(dir, '/');
		if (slash && !strcmp(slash, "/mem")) {
			*slash = 0;
			i = t_rm_find(dir);
		}
	}
	if (i < 0) {
		size_t n = strlen(path);

		if (statfs(path, sf))
			return -1;
		if (t_rm.shm_is_tmpfs && n > 4 &&
		    !strcmp(path + n - 4, "/shm"))
			sf->f_type = TMPFS_MAGIC;
		return 0;
	}
	memset(sf, 0, sizeof(*sf));
	if (!strcmp(t_rm.mnt[i].fstype, "hugetlbfs")) {
		uint64_t ps = t_opt(t_rm.mnt[i].data, "pagesize=");

		sf->f_type = HUGETLBFS_MAGIC;
		sf->f_bsize = (long)ps;
		sf->f_blocks = t_opt(t_rm.mnt[i].data, ",size=") / ps;
		sf->f_bfree = sf->f_blocks - t_rm.used_pages;
	} else {
		sf->f_type = TMPFS_MAGIC;
		sf->f_bsize = 4096;
	}
	return 0;
}

static inline int t_openat(int dfd, const char *path, int flags, mode_t mode)
{
	return t_rm_hit(T_OPEN) ? -1 : openat(dfd, path, flags, mode);
}

static inline int t_fchown(int fd, uid_t uid, gid_t gid)
{
	return t_rm_hit(T_FCHOWN) ? -1 : fchown(fd, uid, gid);
}

static inline int t_ftruncate(int fd, off_t len)
{
	return t_rm_hit(T_FTRUNC) ? -1 : ftruncate(fd, len);
}

static inline int t_close(int fd)
{
	t_rm.calls[T_CLOSE]++;
	return close(fd);
}

/* A fake mount's root is on a device of its own, as the kernel's. */
static inline int t_stat(const char *path, struct stat *st)
{
	if (stat(path, st))
		return -1;
	if (t_rm_find(path) >= 0)
		st->st_dev ^= 0x5a5a;
	return 0;
}

static const struct resmount_ops t_rm_ops = {
	.mount = t_mount,
	.umount2 = t_umount2,
	.mkdirat = t_mkdirat,
	.unlinkat = t_unlinkat,
	.statfs = t_statfs,
	.openat = t_openat,
	.fchown = t_fchown,
	.ftruncate = t_ftruncate,
	.close = t_close,
	.stat = t_stat,
};

/* ---- processes --------------------------------------------------------- */

/* The pid of a child that has exited (and been reaped). */
static inline int t_dead_pid(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	if (pid < 0 || waitpid(pid, NULL, 0) != pid) {
		perror("fork");
		exit(1);
	}
	return (int)pid;
}

/* The exit status of a forked child (-1: it did not exit normally). */
static inline int t_wait(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* ---- a throwaway service group ----------------------------------------- */

static char t_group[32];	/* its name while it exists */

/* Adds group rpunitPID; its gid, or -1 (no groupadd: the caller skips). */
static inline gid_t t_group_add(void)
{
	char cmd[96];
	struct group *gr;

	snprintf(t_group, sizeof(t_group), "rpunit%d", (int)getpid());
	snprintf(cmd, sizeof(cmd), "groupadd %s >/dev/null 2>&1", t_group);
	if (system(cmd) || !(gr = getgrnam(t_group))) {
		t_group[0] = 0;
		return (gid_t)-1;
	}
	return gr->gr_gid;
}

static inline void t_group_del(void)
{
	char cmd[96];

	if (!t_group[0])
		return;
	snprintf(cmd, sizeof(cmd), "groupdel %s", t_group);
	if (system(cmd))
		fprintf(stderr, "could not remove group %s\n", t_group);
	t_group[0] = 0;
}

/* In a forked child: become nobody, with gid (if not -1) as a group. */
static inline int t_drop_root(gid_t gid)
{
	if (gid != (gid_t)-1 ? setgroups(1, &gid) : setgroups(0, NULL))
		return -1;
	if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
		return -1;
	return 0;
}

/* ---- hugepages (the mounts are fake: the check alone reads them) ------- */

#define T_HP2M "/sys/kernel/mm/hugepages/hugepages-2048kB/"

static inline long t_sysfs_long(const char *path)
{
	FILE *f = fopen(path, "re");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static inline int t_sysfs_write(const char *path, long v)
{
	FILE *f = fopen(path, "we");
	int ret;

	if (!f)
		return -1;
	ret = fprintf(f, "%ld\n", v) < 0;
	return fclose(f) || ret ? -1 : 0;
}

/* Free unreserved 2M pages, host-wide. */
static inline long t_hp_avail(void)
{
	return t_sysfs_long(T_HP2M "free_hugepages") -
	       t_sysfs_long(T_HP2M "resv_hugepages");
}

static long t_hp_saved = -1;	/* nr_hugepages to put back */

/*
 * Makes n 2M pages free and unreserved, raising nr_hugepages when run as
 * root under scripts/hplock (tests/run takes it); false when it cannot
 * (the caller skips). t_hp_restore puts the pool back.
 */
static inline bool t_hp_need(long n)
{
	const char *held = getenv("RAMPOOL_HPLOCK_HELD");
	long avail = t_hp_avail(), nr;

	if (avail >= n)
		return true;
	if (geteuid() || !held || strcmp(held, "1"))
		return false;
	nr = t_sysfs_long(T_HP2M "nr_hugepages");
	if (nr < 0 || t_sysfs_write(T_HP2M "nr_hugepages", nr + n - avail))
		return false;
	if (t_hp_saved < 0)
		t_hp_saved = nr;
	return t_hp_avail() >= n;
}

static inline void t_hp_restore(void)
{
	if (t_hp_saved >= 0 &&
	    t_sysfs_write(T_HP2M "nr_hugepages", t_hp_saved))
		fprintf(stderr, "could not restore nr_hugepages to %ld\n",
			t_hp_saved);
	t_hp_saved = -1;
}

#define T_NEED_HP(n)							\
	do {								\
		if (!t_hp_need(n)) {					\
			const char *req_ =				\
				getenv("RAMPOOL_TEST_REQUIRE_HUGETLB");	\
			fprintf(stderr, "skip: needs %ld free 2M pages "	\
				"(root under scripts/hplock)\n", (long)(n)); \
			if (req_ && !strcmp(req_, "1"))			\
				fail_msg("RAMPOOL_TEST_REQUIRE_HUGETLB=1: " \
					 "a hugetlb case may not skip"); \
			skip();						\
		}							\
	} while (0)

#endif
