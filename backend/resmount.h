/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* resmount.h: the mounts that hold reservations: one min_size hugetlbfs mount each, one tmpfs for shmem. */
#ifndef RP_RESMOUNT_H
#define RP_RESMOUNT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/vfs.h>

#include "log.h"

/* The calls resmount makes; unit tests swap them to drive error paths. */
struct resmount_ops {
	int (*mount)(const char *src, const char *target, const char *fstype,
		     unsigned long flags, const void *data);
	int (*umount2)(const char *target, int flags);
	int (*mkdirat)(int dirfd, const char *path, mode_t mode);
	int (*unlinkat)(int dirfd, const char *path, int flags);
	int (*statfs)(const char *path, struct statfs *buf);
	int (*openat)(int dirfd, const char *path, int flags, mode_t mode);
	int (*fchown)(int fd, uid_t uid, gid_t gid);
	int (*ftruncate)(int fd, off_t len);
	int (*close)(int fd);
	int (*stat)(const char *path, struct stat *st);
};

extern const struct resmount_ops resmount_default_ops;

/*
 * Mounts hugetlbfs on dir (an empty directory, made here with mode 0700)
 * with pagesize, min_size = size = bytes (the kernel reserves the pages at
 * once and keeps them reserved to the mount through punches: DESIGN facts
 * 4, 13; and refuses growth past it), uid/gid and mode 0700. nosuid,
 * nodev, noexec. -ENOMEM: the kernel has fewer free unreserved pages than
 * asked (nothing left behind); -ENAMETOOLONG; other mount(2) errors (-EPERM
 * without CAP_SYS_ADMIN).
 */
int resmount_hugetlbfs(const char *dir, uint64_t page_size, uint64_t bytes,
		       uid_t uid, gid_t gid, const struct resmount_ops *ops,
		       const struct rp_log *log);

/*
 * Mounts tmpfs on dir (made when missing) unless a tmpfs is mounted on dir
 * itself already: dir inside another tmpfs (a state directory under /run)
 * gets its own, without the parent's cap.
 */
int resmount_tmpfs(const char *dir, const struct resmount_ops *ops,
		   const struct rp_log *log);

/*
 * The claim of a warm slot: moves the mount on from (a reservation's
 * min_size hugetlbfs mount, its pages and reserve held) to to, a new
 * directory made here with mode 0700 (anything already at to is refused
 * with -EEXIST, as in resmount_hugetlbfs). One mount(MS_MOVE): no page is
 * allocated, freed or zeroed, HugePages_Free and Rsvd do not change and
 * open or mapped files keep their pages (checked in tests/func/scrub_live.c
 * on Linux 6.18). from stays behind as an empty directory (the caller
 * removes it). The kernel refuses the move with -EINVAL when from is not
 * the root of a mount, or when the mount it sits in (from's parent) has
 * shared propagation (mount(2); systemd makes / and /run shared): the
 * pool's mount directory must be a private (or slave) mount of its own.
 * On any failure nothing has moved and to is removed again. -EINVAL,
 * -EEXIST, -ENOENT, -EPERM (no CAP_SYS_ADMIN), other errnos of mkdir and
 * mount (logged).
 */
int resmount_move(const char *from, const char *to,
		  const struct resmount_ops *ops, const struct rp_log *log);

/*
 * Makes dir (a directory) a mount with private propagation, so that the
 * mounts inside it can be moved (resmount_move) whatever its parent's
 * propagation: a mount already is only made private (idempotent), a plain
 * directory is first bound on itself. On failure a bind made here is
 * undone. 0, -EPERM (no CAP_SYS_ADMIN), -ENOENT, other mount(2) errnos
 * (logged).
 */
int resmount_private(const char *dir, const struct resmount_ops *ops,
		     const struct rp_log *log);

/*
 * Unmounts dir (never following a symlink) and removes the directory.
 * -EBUSY: a process still has a file of it open or mapped (nothing
 * changed). A dir that is not mounted is only removed.
 */
int resmount_remove(const char *dir, const struct resmount_ops *ops,
		    const struct rp_log *log);

/* True when dir is a mount of hugetlbfs (statfs magic). */
bool resmount_is_hugetlbfs(const char *dir, const struct resmount_ops *ops);

/*
 * Pages in use in a hugetlbfs mount (f_blocks - f_bfree) and its size in
 * pages (f_blocks). -errno of statfs.
 */
int resmount_usage(const char *dir, const struct resmount_ops *ops,
		   uint64_t *used_pages, uint64_t *total_pages,
		   uint64_t *page_size);

/*
 * Creates the backing file name in dirfd with O_EXCL | O_NOFOLLOW, mode
 * 0600, owned by uid/gid and sized to bytes. Returns the fd (O_RDWR,
 * O_CLOEXEC) or -errno; on failure the file is removed again.
 */
int resmount_create_file(int dirfd, const char *name, uid_t uid, gid_t gid,
			 uint64_t bytes, const struct resmount_ops *ops,
			 const struct rp_log *log);

#endif
