// SPDX-License-Identifier: LGPL-2.1-or-later
/* resmount.c: mounts that hold reservations (min_size hugetlbfs, tmpfs) and their backing files. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "resmount.h"

static int real_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	return openat(dirfd, path, flags, mode);
}

const struct resmount_ops resmount_default_ops = {
	.mount = mount,
	.umount2 = umount2,
	.mkdirat = mkdirat,
	.unlinkat = unlinkat,
	.statfs = statfs,
	.openat = real_openat,
	.fchown = fchown,
	.ftruncate = ftruncate,
	.close = close,
	.stat = stat,
};

static const unsigned long MOUNT_FLAGS = MS_NOSUID | MS_NODEV | MS_NOEXEC;

int resmount_hugetlbfs(const char *dir, uint64_t page_size, uint64_t bytes,
		       uid_t uid, gid_t gid, const struct resmount_ops *ops,
		       const struct rp_log *log)
{
	char data[256];
	int n, err;

	n = snprintf(data, sizeof(data),
		     "pagesize=%" PRIu64 ",min_size=%" PRIu64 ",size=%" PRIu64
		     ",uid=%u,gid=%u,mode=0700",
		     page_size, bytes, bytes, (unsigned int)uid,
		     (unsigned int)gid);
	if (n < 0 || (size_t)n >= sizeof(data))
		return -ENAMETOOLONG;
	/*
	 * A new directory, never one found there: mount(2) follows a
	 * symlink, so whatever was planted at dir is refused, not mounted
	 * over (an empty directory a crash left is removed by recovery).
	 */
	if (ops->mkdirat(AT_FDCWD, dir, 0700)) {
		err = errno;
		rp_err(log, "mkdir %s: %s%s", dir, strerror(err),
		       err == EEXIST ? " (something is in the way: refused)"
				     : "");
		return -err;
	}
	if (ops->mount("rampool", dir, "hugetlbfs", MOUNT_FLAGS, data)) {
		err = errno;
		/* the kernel could not reserve min_size: not enough pages */
		if (err != ENOMEM)
			rp_err(log, "mount hugetlbfs on %s (%s): %s", dir, data,
			       strerror(err));
		ops->unlinkat(AT_FDCWD, dir, AT_REMOVEDIR);
		return -err;
	}
	return 0;
}

int resmount_move(const char *from, const char *to,
		  const struct resmount_ops *ops, const struct rp_log *log)
{
	int err;

	if (ops->mkdirat(AT_FDCWD, to, 0700)) {
		err = errno;
		rp_err(log, "mkdir %s: %s%s", to, strerror(err),
		       err == EEXIST ? " (something is in the way: refused)"
				     : "");
		return -err;
	}
	if (ops->mount(from, to, "none", MS_MOVE, NULL)) {
		err = errno;
		rp_err(log, "move mount %s to %s: %s%s", from, to, strerror(err),
		       err == EINVAL ? " (not a mount, or under a shared mount)"
				     : "");
		ops->unlinkat(AT_FDCWD, to, AT_REMOVEDIR);
		return -err;
	}
	return 0;
}

/* dir is the root of a mount: another device than its parent's. */
static bool mount_root(const char *dir, const struct resmount_ops *ops)
{
	struct stat here, up;
	char parent[4096];
	int n;

	n = snprintf(parent, sizeof(parent), "%s/..", dir);
	if (n < 0 || (size_t)n >= sizeof(parent) || ops->stat(dir, &here) ||
	    ops->stat(parent, &up))
		return false;
	return here.st_dev != up.st_dev;
}

int resmount_private(const char *dir, const struct resmount_ops *ops,
		     const struct rp_log *log)
{
	int err;

	/* a mount already (made here before): only its propagation */
	if (!ops->mount("none", dir, "none", MS_PRIVATE, NULL))
		return 0;
	if (errno != EINVAL)
		goto fail;
	/* not a mount point: it becomes one, bound on itself */
	if (ops->mount(dir, dir, "none", MS_BIND, NULL))
		goto fail;
	if (!ops->mount("none", dir, "none", MS_PRIVATE, NULL))
		return 0;
	err = errno;
	rp_err(log, "make %s a private mount: %s", dir, strerror(err));
	if (ops->umount2(dir, UMOUNT_NOFOLLOW))
		rp_err(log, "umount %s (a bind mount made here): %s", dir,
		       strerror(errno));
	return -err;
fail:
	err = errno;
	rp_err(log, "make %s a private mount: %s", dir, strerror(err));
	return -err;
}

int resmount_tmpfs(const char *dir, const struct resmount_ops *ops,
		   const struct rp_log *log)
{
	struct statfs sf;
	bool made;
	int err;

	made = !ops->mkdirat(AT_FDCWD, dir, 0755);
	if (!made && errno != EEXIST) {
		err = errno;
		rp_err(log, "mkdir %s: %s", dir, strerror(err));
		return -err;
	}
	if (!ops->statfs(dir, &sf) && sf.f_type == TMPFS_MAGIC &&
	    mount_root(dir, ops))
		return 0;
	/* no cap of its own (tmpfs would take half of RAM): the ledger grants */
	if (ops->mount("rampool", dir, "tmpfs", MOUNT_FLAGS,
		       "mode=0755,size=100%")) {
		err = errno;
		rp_err(log, "mount tmpfs on %s: %s", dir, strerror(err));
		/* nothing left behind: the directory goes if made here */
		if (made)
			ops->unlinkat(AT_FDCWD, dir, AT_REMOVEDIR);
		return -err;
	}
	return 0;
}

int resmount_remove(const char *dir, const struct resmount_ops *ops,
		    const struct rp_log *log)
{
	int err;

	if (ops->umount2(dir, UMOUNT_NOFOLLOW) && errno != EINVAL &&
	    errno != ENOENT) {
		err = errno;
		if (err != EBUSY)
			rp_err(log, "umount %s: %s", dir, strerror(err));
		return -err;
	}
	if (ops->unlinkat(AT_FDCWD, dir, AT_REMOVEDIR) && errno != ENOENT) {
		err = errno;
		rp_err(log, "rmdir %s: %s", dir, strerror(err));
		return -err;
	}
	return 0;
}

bool resmount_is_hugetlbfs(const char *dir, const struct resmount_ops *ops)
{
	struct statfs sf;

	return !ops->statfs(dir, &sf) && sf.f_type == HUGETLBFS_MAGIC;
}

int resmount_usage(const char *dir, const struct resmount_ops *ops,
		   uint64_t *used_pages, uint64_t *total_pages,
		   uint64_t *page_size)
{
	struct statfs sf;

	if (ops->statfs(dir, &sf))
		return -errno;
	if (sf.f_type != HUGETLBFS_MAGIC)
		return -EINVAL;
	*used_pages = (uint64_t)(sf.f_blocks - sf.f_bfree);
	*total_pages = (uint64_t)sf.f_blocks;
	*page_size = (uint64_t)sf.f_bsize;
	return 0;
}

int resmount_create_file(int dirfd, const char *name, uid_t uid, gid_t gid,
			 uint64_t bytes, const struct resmount_ops *ops,
			 const struct rp_log *log)
{
	int fd, err;

	fd = ops->openat(dirfd, name,
			 O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			 0600);
	if (fd < 0) {
		err = errno;
		rp_err(log, "create %s: %s", name, strerror(err));
		return -err;
	}
	if (ops->fchown(fd, uid, gid) || ops->ftruncate(fd, (off_t)bytes)) {
		err = errno;
		rp_err(log, "size or own %s: %s", name, strerror(err));
		ops->close(fd);
		ops->unlinkat(dirfd, name, 0);
		return -err;
	}
	return fd;
}
