/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* backing.h: backing objects (memfd, hugetlb memfd, hugetlbfs and tmpfs files), mapped and bound. */
#ifndef RP_BACKING_H
#define RP_BACKING_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/vfs.h>

#include "log.h"

/* The calls backing makes; unit tests swap them to drive error paths. */
struct backing_ops {
	int (*memfd_create)(const char *name, unsigned int flags);
	int (*openat)(int dirfd, const char *path, int flags, mode_t mode);
	int (*unlinkat)(int dirfd, const char *path, int flags);
	int (*ftruncate)(int fd, off_t len);
	int (*add_seals)(int fd, int seals);
	void *(*mmap)(void *addr, size_t len, int prot, int flags, int fd,
		      off_t off);
	int (*munmap)(void *addr, size_t len);
	long (*mbind)(void *addr, unsigned long len, int mode,
		      const unsigned long *nodemask, unsigned long maxnode,
		      unsigned int flags);
	int (*fallocate)(int fd, int mode, off_t off, off_t len);
	int (*close)(int fd);
	int (*dup_cloexec)(int fd);	/* fcntl(F_DUPFD_CLOEXEC) */
	int (*fstat)(int fd, struct stat *st);
	int (*fstatfs)(int fd, struct statfs *sf);
};

extern const struct backing_ops backing_default_ops;

/* Same values as enum rampool_backing. */
enum backing_kind {
	BACKING_MEMFD = 1,
	BACKING_MEMFD_HUGETLB,
	BACKING_HUGETLBFS,
	BACKING_TMPFS,
};

struct backing_spec {
	enum backing_kind kind;
	uint64_t len;		/* file and mapping length */
	uint64_t page_size;
	int dirfd;		/* HUGETLBFS / TMPFS: where the file is made */
	const char *dir;	/* its path, for messages only */
	const char *name;	/* memfd name or file name prefix */
	bool seal;		/* memfds: F_SEAL_SHRINK | F_SEAL_GROW */
	bool noreserve;		/* MAP_NORESERVE */
	/* mbind of the whole mapping before any page exists; mode < 0: none */
	int mpol_mode;
	unsigned int mpol_flags;	/* MPOL_F_* mode flags */
	const unsigned long *nodemask;
	unsigned long maxnode;
};

struct backing {
	enum backing_kind kind;
	int fd;
	void *addr;
	uint64_t len;
	uint64_t page_size;
	bool hugetlb;
	bool noreserve;		/* mapped MAP_NORESERVE: nothing to re-reserve */
};

/*
 * Makes the file, sizes it, seals it, maps it MAP_SHARED and binds the
 * mapping. Files are made relative to spec->dirfd (openat, O_EXCL |
 * O_NOFOLLOW, named NAME.<16 hex digits>), never through a path string,
 * and unlinked at once: the pages go with the last close or unmap. A file
 * name over NAME_MAX bytes, or a memfd name over 249, is -ENAMETOOLONG and
 * nothing is made; a name with '/' is -EINVAL. On failure nothing is left (fd closed, file
 * gone, mapping dropped) and the log says what failed. -ENOMEM when the
 * kernel cannot reserve hugetlb pages for the mapping (mmap ENOMEM).
 */
int backing_create(const struct backing_spec *spec,
		   const struct backing_ops *ops, const struct rp_log *log,
		   struct backing *out);

/*
 * Maps an existing file: dups fd (the caller keeps its own), checks that
 * the file holds at least spec->len bytes, maps it MAP_SHARED and binds
 * the mapping as backing_create does. Only spec's kind, len, page_size,
 * noreserve and mpol fields are read. Nothing is populated. On failure
 * the dup is closed and the mapping dropped; the file is never changed.
 * -EINVAL when the file is shorter than len (a fault past its end would
 * SIGBUS) or its pages (st_blksize) are not page_size, -EBADF from the
 * dup, mmap's and mbind's errnos.
 */
int backing_attach(const struct backing_spec *spec, int fd,
		   const struct backing_ops *ops, const struct rp_log *log,
		   struct backing *out);

/*
 * Opens dir (O_DIRECTORY | O_CLOEXEC) and checks, on that fd, that it is
 * on the file system kind needs: hugetlbfs of page_size pages, or tmpfs.
 * Returns the fd (the caller closes it with ops->close) or -EINVAL
 * (another file system; logged), or open's / fstatfs's errno
 * (-ENAMETOOLONG, -ENOENT, -ENOTDIR, -EACCES, ...).
 */
int backing_open_dir(enum backing_kind kind, const char *dir,
		     uint64_t page_size, const struct backing_ops *ops,
		     const struct rp_log *log);

/*
 * Unmaps and closes; the pages go with the last reference. The file is
 * never truncated, punched or unlinked here.
 */
void backing_destroy(struct backing *b, const struct backing_ops *ops);

/*
 * Gives pages [off, off + len) back to the kernel (fallocate PUNCH_HOLE):
 * the file keeps its size. On hugetlb the punch drops the range's
 * reservation (DESIGN fact 3); it is taken back at once with
 * backing_rereserve. -ENOMEM: the pages were freed but someone took them
 * between the punch and the re-reservation: they are owed, not held.
 */
int backing_release(struct backing *b, uint64_t off, uint64_t len,
		    const struct backing_ops *ops, const struct rp_log *log);

/* One MAP_SHARED mapping of the range, dropped at once: reserves it. */
int backing_rereserve(struct backing *b, uint64_t off, uint64_t len,
		      const struct backing_ops *ops, const struct rp_log *log);

#endif
