// SPDX-License-Identifier: LGPL-2.1-or-later
/* backing.c: creates, maps, binds and releases the files that back RAM blocks. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <linux/magic.h>
#include <linux/memfd.h>
#include <numaif.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include "backing.h"

static int real_memfd_create(const char *name, unsigned int flags)
{
	return memfd_create(name, flags);
}

static int real_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	return openat(dirfd, path, flags, mode);
}

static int real_add_seals(int fd, int seals)
{
	return fcntl(fd, F_ADD_SEALS, seals);
}

static int real_dup_cloexec(int fd)
{
	return fcntl(fd, F_DUPFD_CLOEXEC, 0);
}

const struct backing_ops backing_default_ops = {
	.memfd_create = real_memfd_create,
	.openat = real_openat,
	.unlinkat = unlinkat,
	.ftruncate = ftruncate,
	.add_seals = real_add_seals,
	.mmap = mmap,
	.munmap = munmap,
	.mbind = mbind,
	.fallocate = fallocate,
	.close = close,
	.dup_cloexec = real_dup_cloexec,
	.fstat = fstat,
	.fstatfs = fstatfs,
};

static unsigned int log2u64(uint64_t v)
{
	return (unsigned int)(63 - __builtin_clzll(v));
}

/* memfd_create(2) takes names of at most this many bytes */
#define MEMFD_NAME_MAX 249

static int make_memfd(const struct backing_spec *spec,
		      const struct backing_ops *ops, const struct rp_log *log)
{
	unsigned int flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
	int fd;

	if (strlen(spec->name) > MEMFD_NAME_MAX) {
		rp_err(log, "memfd name of %zu bytes (at most %d)",
		       strlen(spec->name), MEMFD_NAME_MAX);
		return -ENAMETOOLONG;
	}
	if (spec->kind == BACKING_MEMFD_HUGETLB)
		flags |= MFD_HUGETLB |
			 (log2u64(spec->page_size) << MFD_HUGE_SHIFT);
	fd = ops->memfd_create(spec->name, flags);
	if (fd < 0) {
		int err = errno;

		rp_err(log, "memfd_create(%s%s): %s", spec->name,
		       flags & MFD_HUGETLB ? ", MFD_HUGETLB" : "",
		       strerror(err));
		return -err;
	}
	return fd;
}

/* NAME.<16 hex digits> into name[NAME_MAX + 1]; -ENAMETOOLONG if not whole */
static int file_name(char *name, const char *prefix, uint64_t r)
{
	int n = snprintf(name, NAME_MAX + 1, "%s.%016llx", prefix,
			 (unsigned long long)r);

	return n < 0 || n > NAME_MAX ? -ENAMETOOLONG : 0;
}

/*
 * A new file in the directory spec->dirfd, O_EXCL under a random name and
 * unlinked at once: only our fd reaches it, and a crash leaves nothing
 * behind. Relative to the fd that was checked (backing_open_dir), so the
 * file is made in that directory and nowhere else.
 */
static int make_file(const struct backing_spec *spec,
		     const struct backing_ops *ops, const struct rp_log *log)
{
	char name[NAME_MAX + 1];

	if (strchr(spec->name, '/')) {
		rp_err(log, "file name '%s' has a '/'", spec->name);
		return -EINVAL;
	}
	if (file_name(name, spec->name, 0)) {
		rp_err(log, "file name of %zu bytes in %s (at most %d with the "
		       "17-byte suffix)", strlen(spec->name), spec->dir,
		       NAME_MAX);
		return -ENAMETOOLONG;
	}
	for (int tries = 0; tries < 16; tries++) {
		uint64_t r = 0;
		int fd;

		if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
			r ^= (uint64_t)getpid() << 32 ^ (uint64_t)tries;
		file_name(name, spec->name, r);
		fd = ops->openat(spec->dirfd, name,
				 O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC |
					 O_NOFOLLOW,
				 0600);
		if (fd < 0 && errno == EEXIST)
			continue;
		if (fd < 0) {
			int err = errno;

			rp_err(log, "create %s in %s: %s", name, spec->dir,
			       strerror(err));
			return -err;
		}
		if (ops->unlinkat(spec->dirfd, name, 0)) {
			int err = errno;

			rp_err(log, "unlink %s in %s: %s", name, spec->dir,
			       strerror(err));
			ops->close(fd);
			return -err;
		}
		return fd;
	}
	rp_err(log, "%s: no free file name", spec->dir);
	return -EEXIST;
}

/* Maps fd MAP_SHARED and binds the mapping; fills *out. fd is not closed. */
static int map_and_bind(const struct backing_spec *spec, int fd,
			const struct backing_ops *ops, const struct rp_log *log,
			struct backing *out)
{
	int mflags = MAP_SHARED;
	void *addr;

	if (spec->noreserve)
		mflags |= MAP_NORESERVE;
	addr = ops->mmap(NULL, spec->len, PROT_READ | PROT_WRITE, mflags, fd, 0);
	if (addr == MAP_FAILED) {
		int ret = -errno;

		if (ret == -ENOMEM)
			rp_err(log, "mmap of %llu bytes: the kernel cannot "
			       "reserve the hugepages (ENOMEM)",
			       (unsigned long long)spec->len);
		else
			rp_err(log, "mmap: %s", strerror(-ret));
		return ret;
	}
	/* before any page exists: a page placed wrongly is never moved */
	if (spec->mpol_mode >= 0 &&
	    ops->mbind(addr, spec->len, spec->mpol_mode | (int)spec->mpol_flags,
		       spec->nodemask, spec->maxnode, 0)) {
		int ret = -errno;

		rp_err(log, "mbind: %s", strerror(-ret));
		ops->munmap(addr, spec->len);
		return ret;
	}
	*out = (struct backing){
		.kind = spec->kind,
		.fd = fd,
		.addr = addr,
		.len = spec->len,
		.page_size = spec->page_size,
		.hugetlb = spec->kind == BACKING_MEMFD_HUGETLB ||
			   spec->kind == BACKING_HUGETLBFS,
		.noreserve = spec->noreserve,
	};
	return 0;
}

int backing_create(const struct backing_spec *spec,
		   const struct backing_ops *ops, const struct rp_log *log,
		   struct backing *out)
{
	bool memfd = spec->kind == BACKING_MEMFD ||
		     spec->kind == BACKING_MEMFD_HUGETLB;
	int fd, ret;

	if (!ops)
		ops = &backing_default_ops;
	fd = memfd ? make_memfd(spec, ops, log) : make_file(spec, ops, log);
	if (fd < 0)
		return fd;
	if (ops->ftruncate(fd, (off_t)spec->len)) {
		ret = -errno;
		rp_err(log, "ftruncate to %llu: %s",
		       (unsigned long long)spec->len, strerror(-ret));
		goto out_close;
	}
	/*
	 * A process the fd is passed to must not shrink it under our feet,
	 * nor add a write seal, which would stop our punch hole (undo, and
	 * discard before postcopy).
	 */
	if (memfd && spec->seal &&
	    ops->add_seals(fd, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)) {
		ret = -errno;
		rp_err(log, "F_ADD_SEALS: %s", strerror(-ret));
		goto out_close;
	}
	ret = map_and_bind(spec, fd, ops, log, out);
	if (ret)
		goto out_close;
	return 0;
out_close:
	ops->close(fd);
	return ret;
}

int backing_attach(const struct backing_spec *spec, int fd,
		   const struct backing_ops *ops, const struct rp_log *log,
		   struct backing *out)
{
	struct stat st;
	int dup, ret;

	if (!ops)
		ops = &backing_default_ops;
	dup = ops->dup_cloexec(fd);
	if (dup < 0) {
		ret = -errno;
		rp_err(log, "dup of fd %d: %s", fd, strerror(-ret));
		return ret;
	}
	if (ops->fstat(dup, &st)) {
		ret = -errno;
		rp_err(log, "fstat of fd %d: %s", fd, strerror(-ret));
		goto out_close;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size < spec->len) {
		rp_err(log, "fd %d is not a regular file of at least %llu "
		       "bytes", fd, (unsigned long long)spec->len);
		ret = -EINVAL;
		goto out_close;
	}
	/* hugetlbfs reports its page size as the block size, shmem 4K */
	if ((uint64_t)st.st_blksize != spec->page_size) {
		rp_err(log, "fd %d has %llu-byte pages, not %llu", fd,
		       (unsigned long long)st.st_blksize,
		       (unsigned long long)spec->page_size);
		ret = -EINVAL;
		goto out_close;
	}
	ret = map_and_bind(spec, dup, ops, log, out);
	if (ret)
		goto out_close;
	return 0;
out_close:
	ops->close(dup);
	return ret;
}

/*
 * A file backing's directory must be on the file system its kind says: a
 * "hugetlbfs" block on ext4 would get 4K pages and no reservation. The
 * check is made on the fd the file is then made relative to.
 */
int backing_open_dir(enum backing_kind kind, const char *dir,
		     uint64_t page_size, const struct backing_ops *ops,
		     const struct rp_log *log)
{
	struct statfs sf;
	int fd, err;

	if (!ops)
		ops = &backing_default_ops;
	fd = ops->openat(AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (fd < 0) {
		err = errno;
		rp_err(log, "dir %s: %s", dir, strerror(err));
		return -err;
	}
	if (ops->fstatfs(fd, &sf)) {
		err = errno;
		rp_err(log, "dir %s: %s", dir, strerror(err));
		ops->close(fd);
		return -err;
	}
	if (kind == BACKING_HUGETLBFS &&
	    (sf.f_type != HUGETLBFS_MAGIC || (uint64_t)sf.f_bsize != page_size)) {
		rp_err(log, "dir %s is not a hugetlbfs mount of %llu-byte pages",
		       dir, (unsigned long long)page_size);
		ops->close(fd);
		return -EINVAL;
	}
	if (kind == BACKING_TMPFS && sf.f_type != TMPFS_MAGIC) {
		rp_err(log, "dir %s is not on tmpfs", dir);
		ops->close(fd);
		return -EINVAL;
	}
	return fd;
}

void backing_destroy(struct backing *b, const struct backing_ops *ops)
{
	if (!ops)
		ops = &backing_default_ops;
	if (b->addr)
		ops->munmap(b->addr, b->len);
	if (b->fd >= 0)
		ops->close(b->fd);
	b->addr = NULL;
	b->fd = -1;
}

int backing_release(struct backing *b, uint64_t off, uint64_t len,
		    const struct backing_ops *ops, const struct rp_log *log)
{
	if (!ops)
		ops = &backing_default_ops;
	if (!len)
		return 0;
	if (ops->fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			   (off_t)off, (off_t)len)) {
		int err = errno;

		rp_err(log, "punch hole %llu+%llu: %s",
		       (unsigned long long)off, (unsigned long long)len,
		       strerror(err));
		return -err;
	}
	return b->hugetlb && !b->noreserve ? backing_rereserve(b, off, len, ops,
								 log)
					   : 0;
}

int backing_rereserve(struct backing *b, uint64_t off, uint64_t len,
		      const struct backing_ops *ops, const struct rp_log *log)
{
	void *p;

	/*
	 * The punch dropped the range's hugetlb reservation (DESIGN fact 3);
	 * one more shared mapping of it takes it back (fact 4), and the
	 * reservation stays with the file when that mapping goes.
	 */
	if (!ops)
		ops = &backing_default_ops;
	p = ops->mmap(NULL, len, PROT_NONE, MAP_SHARED, b->fd, (off_t)off);
	if (p == MAP_FAILED) {
		int err = errno;

		rp_err(log, "re-reserving %llu bytes at %llu after the punch: "
		       "%s; those pages are no longer guaranteed",
		       (unsigned long long)len, (unsigned long long)off,
		       strerror(err));
		return err == ENOMEM ? -ENOMEM : -err;
	}
	ops->munmap(p, len);
	return 0;
}
