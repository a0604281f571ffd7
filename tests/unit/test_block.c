// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_block.c: the order and policy of the calls a block makes, and its cleanup when each one fails. */
#include <errno.h>
#include <fcntl.h>
#include <numaif.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend/backing.h"
#include "backend/prealloc.h"
#include "pool/block.h"
#include "pool/pool.h"
#include "../t_compat.h"


/* ---- a log of calls, made through the real syscalls -------------------- */

enum call { C_MEMFD, C_TRUNC, C_SEAL, C_MMAP, C_MUNMAP, C_MBIND, C_FALLOC,
	    C_PUNCH, C_CLOSE, C_MADV_WRITE, C_MADV_READ, C_SETPOL, C_MOVE,
	    C_OPEN, C_DUP, C_FSTAT, C_STATFS, C_MINCORE, C_NR };
static const char *const call_names[C_NR] = {
	"memfd_create", "ftruncate", "seal", "mmap", "munmap", "mbind",
	"fallocate", "punch", "close", "madvise(write)", "madvise(read)",
	"set_mempolicy", "move_pages", "openat", "dup", "fstat", "fstatfs",
	"mincore",
};

#define MAX_CALLS 4096
static struct {
	enum call c;
	int mode;		/* policy mode for mbind / set_mempolicy */
	unsigned long mask0;	/* first word of the node mask */
	pthread_t thread;
} calls[MAX_CALLS];
static int ncalls;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int fail_call = -1, fail_errno;	/* which call fails, with what */
static int opened_fds;
static off_t punch_off, punch_len;	/* the last punch */

static bool record(enum call c, int mode, unsigned long mask0)
{
	bool fail;

	pthread_mutex_lock(&lock);
	if (ncalls < MAX_CALLS)
		calls[ncalls++] = (typeof(calls[0])){ c, mode, mask0,
						      pthread_self() };
	fail = (int)c == fail_call;
	pthread_mutex_unlock(&lock);
	if (fail)
		errno = fail_errno;
	return fail;
}

static int w_memfd(const char *name, unsigned int flags)
{
	int fd;

	if (record(C_MEMFD, 0, 0))
		return -1;
	fd = memfd_create(name, flags);
	opened_fds += fd >= 0;
	return fd;
}

static int w_openat(int dirfd, const char *path, int flags, mode_t mode)
{
	int fd;

	if (record(C_OPEN, 0, 0))
		return -1;
	fd = openat(dirfd, path, flags, mode);
	opened_fds += fd >= 0;
	return fd;
}

static int w_dup(int fd)
{
	int nfd;

	if (record(C_DUP, 0, 0))
		return -1;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	opened_fds += nfd >= 0;
	return nfd;
}

static int w_fstat(int fd, struct stat *st)
{
	return record(C_FSTAT, 0, 0) ? -1 : fstat(fd, st);
}

static int w_fstatfs(int fd, struct statfs *sf)
{
	return record(C_STATFS, 0, 0) ? -1 : fstatfs(fd, sf);
}

static int w_mincore(void *a, size_t l, unsigned char *vec)
{
	return record(C_MINCORE, 0, 0) ? -1 : mincore(a, l, vec);
}

static int w_trunc(int fd, off_t len)
{
	return record(C_TRUNC, 0, 0) ? -1 : ftruncate(fd, len);
}

static int w_seal(int fd, int seals)
{
	return record(C_SEAL, 0, 0) ? -1 : fcntl(fd, F_ADD_SEALS, seals);
}

static void *w_mmap(void *a, size_t l, int p, int f, int fd, off_t o)
{
	return record(C_MMAP, 0, 0) ? MAP_FAILED : mmap(a, l, p, f, fd, o);
}

static int w_munmap(void *a, size_t l)
{
	record(C_MUNMAP, 0, 0);
	return munmap(a, l);
}

static long w_mbind(void *a, unsigned long l, int mode,
		    const unsigned long *mask, unsigned long maxnode,
		    unsigned int flags)
{
	if (record(C_MBIND, mode, mask ? mask[0] : 0))
		return -1;
	return mbind(a, l, mode, mask, maxnode, flags);
}

static int w_falloc(int fd, int mode, off_t off, off_t len)
{
	if (record(mode ? C_PUNCH : C_FALLOC, 0, 0))
		return -1;
	if (mode) {
		punch_off = off;
		punch_len = len;
	}
	return fallocate(fd, mode, off, len);
}

static int w_close(int fd)
{
	record(C_CLOSE, 0, 0);
	opened_fds--;
	return close(fd);
}

static int w_madvise(void *a, size_t l, int adv)
{
	if (record(adv == MADV_POPULATE_READ ? C_MADV_READ : C_MADV_WRITE, 0,
		   0))
		return -1;
	return madvise(a, l, adv);
}

static long w_setpol(int mode, const unsigned long *mask, unsigned long max)
{
	if (record(C_SETPOL, mode, mask ? mask[0] : 0))
		return -1;
	return set_mempolicy(mode, mask, max);
}

static long w_move(int pid, unsigned long count, void **pages,
		   const int *nodes, int *status, int flags)
{
	if (record(C_MOVE, 0, 0))
		return -1;
	return move_pages(pid, count, pages, nodes, status, flags);
}

static const struct backing_ops bops = {
	.memfd_create = w_memfd, .openat = w_openat, .unlinkat = unlinkat,
	.ftruncate = w_trunc, .add_seals = w_seal, .mmap = w_mmap,
	.munmap = w_munmap, .mbind = w_mbind, .fallocate = w_falloc,
	.close = w_close, .dup_cloexec = w_dup, .fstat = w_fstat,
	.fstatfs = w_fstatfs,
};
static struct prealloc_ops pops;

static int find(enum call c, int from)
{
	for (int i = from; i < ncalls; i++)
		if (calls[i].c == c)
			return i;
	return -1;
}

static int count(enum call c)
{
	int n = 0;

	for (int i = 0; i < ncalls; i++)
		n += calls[i].c == c;
	return n;
}

static struct rampool_pool *pool_with_mocks(void)
{
	struct rampool_pool *pool;

	assert_int_equal(rampool_pool_new(NULL, &pool), 0);
	pool->backing_ops = &bops;
	pops = prealloc_default_ops;
	pops.madvise = w_madvise;
	pops.fallocate = w_falloc;
	pops.set_mempolicy = w_setpol;
	pops.move_pages = w_move;
	pops.mincore = w_mincore;
	pool->prealloc_ops = &pops;
	ncalls = 0;
	fail_call = -1;
	opened_fds = 0;
	return pool;
}

static const int node0 = 0;

static struct rampool_block_opts opts(unsigned int flags)
{
	return (struct rampool_block_opts){
		.sz = sizeof(struct rampool_block_opts),
		.size = 8 << 20,
		.backing = RAMPOOL_BACKING_MEMFD,
		.nodes = &node0,
		.nr_nodes = 1,
		.flags = flags,
		.threads = 2,
	};
}

/* ---- tests -------------------------------------------------------------- */

/* bound shmem: mbind before any page; threads take the policy; fallocate */
static void test_order_bound_shmem(void **state)
{
	struct rampool_pool *pool = pool_with_mocks();
	struct rampool_block_opts o = opts(RAMPOOL_BLOCK_PREALLOC);
	struct rampool_block *blk;
	int mb, first_fill;

	(void)state;
	assert_int_equal(rampool_block_new(pool, &o, &blk), 0);
	assert_int_equal(find(C_MEMFD, 0), 0);
	assert_int_equal(find(C_TRUNC, 0), 1);
	assert_int_equal(find(C_SEAL, 0), 2);
	assert_int_equal(find(C_MMAP, 0), 3);
	mb = find(C_MBIND, 0);
	assert_int_equal(mb, 4);
	assert_int_equal(calls[mb].mode, MPOL_BIND);
	assert_int_equal(calls[mb].mask0, 1UL);	/* node 0 only */
	first_fill = find(C_FALLOC, 0);
	assert_true(first_fill > mb);
	assert_int_equal(count(C_MADV_WRITE), 0);	/* fallocate, not populate */
	/* each filling thread set the policy first, in that same thread */
	for (int i = 0; i < ncalls; i++) {
		int k;

		if (calls[i].c != C_FALLOC)
			continue;
		for (k = i - 1; k >= 0; k--)
			if (calls[k].c == C_SETPOL &&
			    pthread_equal(calls[k].thread, calls[i].thread))
				break;
		assert_true(k > mb);
		assert_int_equal(calls[k].mode, MPOL_BIND);
		assert_int_equal(calls[k].mask0, 1UL);
	}
	/* placement: the pages are mapped, then asked where they are */
	assert_true(find(C_MADV_READ, first_fill) > first_fill);
	assert_true(find(C_MOVE, 0) > find(C_MADV_READ, 0));
	/* 4K pages sampled: one per 2 MiB (0, 2, 4, 6 MiB) and the last */
	assert_int_equal(count(C_MADV_READ), 5);
	assert_int_equal(count(C_MOVE), 5);
	assert_int_equal(rampool_block_populated(blk), 8 << 20);
	rampool_block_free(blk);
	assert_int_equal(opened_fds, 0);
	rampool_pool_free(pool);
}

/* unbound: no mbind, no thread policy, no placement check */
static void test_order_unbound(void **state)
{
	struct rampool_pool *pool = pool_with_mocks();
	struct rampool_block_opts o = opts(RAMPOOL_BLOCK_PREALLOC);
	struct rampool_block *blk;

	(void)state;
	o.nodes = NULL;
	o.nr_nodes = 0;
	assert_int_equal(rampool_block_new(pool, &o, &blk), 0);
	assert_int_equal(count(C_MBIND), 0);
	assert_int_equal(count(C_SETPOL), 0);
	assert_int_equal(count(C_MOVE), 0);
	assert_true(count(C_FALLOC) >= 1);
	rampool_block_free(blk);
	rampool_pool_free(pool);
}

/* preferred and interleave reach both mbind and the threads */
static void test_policies(void **state)
{
	static const struct { enum rampool_policy p; int mode; } cases[] = {
		{ RAMPOOL_POLICY_PREFERRED, MPOL_PREFERRED },
		{ RAMPOOL_POLICY_INTERLEAVE, MPOL_INTERLEAVE },
	};

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct rampool_pool *pool = pool_with_mocks();
		struct rampool_block_opts o = opts(RAMPOOL_BLOCK_PREALLOC);
		struct rampool_block *blk;

		o.policy = cases[i].p;
		assert_int_equal(rampool_block_new(pool, &o, &blk), 0);
		assert_int_equal(calls[find(C_MBIND, 0)].mode, cases[i].mode);
		assert_int_equal(calls[find(C_SETPOL, 0)].mode, cases[i].mode);
		rampool_block_free(blk);
		rampool_pool_free(pool);
	}
}

/* PAGE_TABLES: fallocate, then MADV_POPULATE_WRITE of the same range */
static void test_page_tables(void **state)
{
	struct rampool_pool *pool = pool_with_mocks();
	struct rampool_block_opts o =
		opts(RAMPOOL_BLOCK_PREALLOC | RAMPOOL_BLOCK_PAGE_TABLES);
	struct rampool_block *blk;

	(void)state;
	assert_int_equal(rampool_block_new(pool, &o, &blk), 0);
	assert_true(find(C_MADV_WRITE, 0) > find(C_FALLOC, 0));
	rampool_block_free(blk);
	rampool_pool_free(pool);
}

/* NO_SEAL: no seal call */
static void test_no_seal(void **state)
{
	struct rampool_pool *pool = pool_with_mocks();
	struct rampool_block_opts o = opts(RAMPOOL_BLOCK_NO_SEAL);
	struct rampool_block *blk;

	(void)state;
	assert_int_equal(rampool_block_new(pool, &o, &blk), 0);
	assert_int_equal(count(C_SEAL), 0);
	assert_int_equal(count(C_FALLOC), 0);	/* no PREALLOC: nothing */
	rampool_block_free(blk);
	rampool_pool_free(pool);
}

/*
 * Each call failing in turn: the error comes back as it was (mapped), the
 * mapping is dropped if it was made, the fd is closed.
 */
static void test_each_failure(void **state)
{
	static const struct { enum call c; int err, want; } cases[] = {
		{ C_MEMFD, EMFILE, -EMFILE },
		{ C_TRUNC, EFBIG, -EFBIG },
		{ C_SEAL, EPERM, -EPERM },
		{ C_MMAP, ENOMEM, -ENOMEM },
		{ C_MBIND, EINVAL, -EINVAL },
		{ C_SETPOL, EPERM, -EPERM },
		{ C_FALLOC, ENOSPC, -ENOMEM },
		{ C_MADV_READ, EFAULT, -ENOMEM },
		{ C_MOVE, EPERM, -EPERM },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rampool_pool *pool = pool_with_mocks();
		struct rampool_block_opts o = opts(RAMPOOL_BLOCK_PREALLOC);
		struct rampool_block *blk = (void *)0x1;
		int ret;

		fail_call = (int)cases[i].c;
		fail_errno = cases[i].err;
		ret = rampool_block_new(pool, &o, &blk);
		if (ret != cases[i].want)
			fail_msg("%s failing with %s: got %d, want %d",
				 call_names[cases[i].c], strerror(cases[i].err),
				 ret, cases[i].want);
		assert_ptr_equal(blk, (void *)0x1);
		assert_int_equal(opened_fds, 0);
		assert_int_equal(count(C_MUNMAP),
				 find(C_MMAP, 0) >= 0 &&
					 cases[i].c != C_MMAP);
		rampool_pool_free(pool);
	}
}

/* a failed populate of a later range releases that range only */
static void test_populate_undo(void **state)
{
	struct rampool_pool *pool = pool_with_mocks();
	struct rampool_block_opts o = opts(RAMPOOL_BLOCK_PREALLOC);
	struct rampool_block *blk;
	int punch;

	(void)state;
	o.max_size = 16 << 20;
	assert_int_equal(rampool_block_new(pool, &o, &blk), 0);
	ncalls = 0;
	fail_call = C_MOVE;
	fail_errno = EPERM;
	assert_int_equal(rampool_block_populate(blk, 0, 16 << 20), -EPERM);
	/* one punch, of the second half: the first was populated before */
	assert_int_equal(count(C_PUNCH), 1);
	punch = find(C_PUNCH, 0);
	assert_true(punch > find(C_MOVE, 0));
	assert_int_equal(rampool_block_populated(blk), 8 << 20);
	fail_call = -1;
	assert_int_equal(rampool_block_populate(blk, 8 << 20, 8 << 20), 0);
	assert_int_equal(rampool_block_populated(blk), 16 << 20);
	rampool_block_free(blk);
	rampool_pool_free(pool);
}

/* mincore failing before a later populate: its errno, nothing taken */
static void test_mincore_fails(void **state)
{
	struct rampool_pool *pool = pool_with_mocks();
	struct rampool_block_opts o = opts(RAMPOOL_BLOCK_PREALLOC);
	struct rampool_block *blk;

	(void)state;
	o.max_size = 16 << 20;
	assert_int_equal(rampool_block_new(pool, &o, &blk), 0);
	ncalls = 0;
	fail_call = C_MINCORE;
	fail_errno = ENOMEM;
	assert_int_equal(rampool_block_populate(blk, 8 << 20, 8 << 20),
			 -ENOMEM);
	assert_int_equal(count(C_FALLOC), 0);
	assert_int_equal(count(C_PUNCH), 0);
	assert_int_equal(rampool_block_populated(blk), 8 << 20);
	rampool_block_free(blk);
	assert_int_equal(opened_fds, 0);
	rampool_pool_free(pool);
}

/*
 * A tmpfs block's dir: opened, checked on that fd, the file made relative
 * to it. fstatfs failing: its errno, no file made, the dir closed.
 */
static void test_statfs_fails(void **state)
{
	struct rampool_pool *pool = pool_with_mocks();
	struct rampool_block_opts o = opts(0);
	struct rampool_block *blk = (void *)0x1;

	(void)state;
	o.backing = RAMPOOL_BACKING_TMPFS;
	o.dir = "/dev/shm";
	fail_call = C_STATFS;
	fail_errno = EACCES;
	assert_int_equal(rampool_block_new(pool, &o, &blk), -EACCES);
	assert_ptr_equal(blk, (void *)0x1);
	assert_int_equal(find(C_OPEN, 0), 0);	/* the dir */
	assert_int_equal(find(C_STATFS, 0), 1);
	assert_int_equal(count(C_OPEN), 1);
	assert_int_equal(count(C_MMAP), 0);
	assert_int_equal(opened_fds, 0);
	/* the dir failing to open: its errno, nothing else tried */
	fail_call = C_OPEN;
	fail_errno = ENAMETOOLONG;
	ncalls = 0;
	assert_int_equal(rampool_block_new(pool, &o, &blk), -ENAMETOOLONG);
	assert_int_equal(ncalls, 1);
	/* and when it works, the file is made after the check */
	fail_call = -1;
	ncalls = 0;
	assert_int_equal(rampool_block_new(pool, &o, &blk), 0);
	assert_int_equal(find(C_OPEN, 1), 2);
	rampool_block_free(blk);
	assert_int_equal(opened_fds, 0);
	rampool_pool_free(pool);
}

/* names too long for a file or a memfd, or with a '/': nothing made */
static void test_names(void **state)
{
	struct rampool_pool *pool = pool_with_mocks();
	struct rampool_block_opts o = opts(0);
	struct rampool_block *blk = (void *)0x1;
	char name[301];

	(void)state;
	memset(name, 'n', 300);
	name[300] = '\0';
	o.backing = RAMPOOL_BACKING_TMPFS;
	o.dir = "/dev/shm";
	o.name = name;
	assert_int_equal(rampool_block_new(pool, &o, &blk), -ENAMETOOLONG);
	assert_int_equal(count(C_OPEN), 1);	/* the dir, not a file */
	/* 238 bytes + ".<16 hex>" is NAME_MAX: the longest that fits */
	name[239] = '\0';
	assert_int_equal(rampool_block_new(pool, &o, &blk), -ENAMETOOLONG);
	name[238] = '\0';
	ncalls = 0;
	assert_int_equal(rampool_block_new(pool, &o, &blk), 0);
	assert_int_equal(count(C_OPEN), 2);
	rampool_block_free(blk);
	blk = (void *)0x1;
	o.name = "a/b";
	assert_int_equal(rampool_block_new(pool, &o, &blk), -EINVAL);
	/* memfd: at most 249 bytes */
	o = opts(0);
	memset(name, 'n', 300);
	name[250] = '\0';
	o.name = name;
	ncalls = 0;
	assert_int_equal(rampool_block_new(pool, &o, &blk), -ENAMETOOLONG);
	assert_int_equal(count(C_MEMFD), 0);
	assert_ptr_equal(blk, (void *)0x1);
	name[249] = '\0';
	assert_int_equal(rampool_block_new(pool, &o, &blk), 0);
	rampool_block_free(blk);
	assert_int_equal(opened_fds, 0);
	rampool_pool_free(pool);
}

/* a 16 MiB shmem file with 'x' in its first byte, as a caller would own */
static int caller_file(void)
{
	int fd = memfd_create("caller", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 16 << 20), 0);
	assert_int_equal(pwrite(fd, "x", 1, 0), 1);
	return fd;
}

static struct block_attach_spec attach_spec(int fd)
{
	return (struct block_attach_spec){
		.fd = fd, .size = 8 << 20, .max_size = 16 << 20,
		.page_size = (uint64_t)sysconf(_SC_PAGESIZE),
		.nodes = &node0, .nr_nodes = 1, .threads = 2,
	};
}

static void assert_file_intact(int fd)
{
	struct stat st;
	char c = 0;

	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, 16 << 20);
	assert_int_equal(pread(fd, &c, 1, 0), 1);
	assert_int_equal(c, 'x');
}

/* attach: dup, map, bind before any page; nothing populated; free leaves
 * the file as it was */
static void test_attach(void **state)
{
	struct rampool_pool *pool = pool_with_mocks();
	int fd = caller_file();
	struct block_attach_spec s = attach_spec(fd);
	struct rampool_block *blk;
	int mb;

	(void)state;
	assert_int_equal(block_attach(pool, &s, &blk), 0);
	assert_int_equal(find(C_DUP, 0), 0);
	assert_int_equal(find(C_FSTAT, 0), 1);
	assert_int_equal(find(C_MMAP, 0), 2);
	mb = find(C_MBIND, 0);
	assert_int_equal(mb, 3);
	assert_int_equal(calls[mb].mode, MPOL_BIND);
	assert_int_equal(calls[mb].mask0, 1UL);
	assert_int_equal(ncalls, 4);		/* nothing populated */
	assert_int_not_equal(rampool_block_fd(blk), fd);
	assert_int_equal(rampool_block_size(blk), 8 << 20);
	assert_int_equal(rampool_block_max_size(blk), 16 << 20);
	assert_int_equal(rampool_block_node(blk), 0);
	assert_int_equal(rampool_block_populated(blk), 0);
	assert_int_equal(((char *)rampool_block_addr(blk))[0], 'x');
	block_mark_populated(blk, 0, 1);	/* widened to one page */
	assert_int_equal(rampool_block_populated(blk), s.page_size);
	assert_int_equal(rampool_block_populate(blk, 0, 8 << 20), 0);
	assert_int_equal(rampool_block_populated(blk), 8 << 20);
	assert_true(find(C_FALLOC, 0) > mb);
	ncalls = 0;
	rampool_block_free(blk);
	assert_int_equal(count(C_TRUNC), 0);
	assert_int_equal(count(C_PUNCH), 0);
	assert_int_equal(count(C_MUNMAP), 1);
	assert_int_equal(count(C_CLOSE), 1);
	assert_int_equal(opened_fds, 0);
	assert_file_intact(fd);
	close(fd);
	rampool_pool_free(pool);
}

/* each call of attach failing: its errno, *out untouched, no fd left */
static void test_attach_failures(void **state)
{
	static const struct { enum call c; int err, want; } cases[] = {
		{ C_DUP, EMFILE, -EMFILE },
		{ C_FSTAT, EIO, -EIO },
		{ C_MMAP, ENOMEM, -ENOMEM },
		{ C_MBIND, EINVAL, -EINVAL },
	};
	int fd = caller_file();

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rampool_pool *pool = pool_with_mocks();
		struct block_attach_spec s = attach_spec(fd);
		struct rampool_block *blk = (void *)0x1;

		fail_call = (int)cases[i].c;
		fail_errno = cases[i].err;
		assert_int_equal(block_attach(pool, &s, &blk), cases[i].want);
		assert_ptr_equal(blk, (void *)0x1);
		assert_int_equal(opened_fds, 0);
		assert_int_equal(count(C_MUNMAP), cases[i].c == C_MBIND);
		rampool_pool_free(pool);
	}
	assert_file_intact(fd);
	close(fd);
}

/* attach refuses a file shorter than max_size and bad sizes */
static void test_attach_bad(void **state)
{
	struct rampool_pool *pool = pool_with_mocks();
	int fd = caller_file();
	struct block_attach_spec s = attach_spec(fd);
	struct rampool_block *blk = (void *)0x1;

	(void)state;
	s.max_size = 32 << 20;
	assert_int_equal(block_attach(pool, &s, &blk), -EINVAL);
	assert_int_equal(count(C_MMAP), 0);
	s = attach_spec(fd);
	s.size = 4097;
	assert_int_equal(block_attach(pool, &s, &blk), -EINVAL);
	s = attach_spec(fd);
	s.max_size = 4 << 20;
	assert_int_equal(block_attach(pool, &s, &blk), -EINVAL);
	s = attach_spec(-1);
	assert_int_equal(block_attach(pool, &s, &blk), -EINVAL);
	/* a shmem file attached as 2 MiB hugetlb: its pages say otherwise */
	s = attach_spec(fd);
	s.hugetlb = true;
	s.page_size = 2 << 20;
	ncalls = 0;
	assert_int_equal(block_attach(pool, &s, &blk), -EINVAL);
	assert_int_equal(count(C_FSTAT), 1);
	assert_int_equal(count(C_MMAP), 0);
	assert_ptr_equal(blk, (void *)0x1);
	assert_int_equal(opened_fds, 0);
	assert_file_intact(fd);
	close(fd);
	rampool_pool_free(pool);
}

/* a failed populate of an attached block punches only what it took */
static void test_attach_undo(void **state)
{
	struct rampool_pool *pool = pool_with_mocks();
	int fd = caller_file();
	struct block_attach_spec s = attach_spec(fd);
	struct rampool_block *blk;

	(void)state;
	assert_int_equal(block_attach(pool, &s, &blk), 0);
	block_mark_populated(blk, 0, 4 << 20);
	fail_call = C_MOVE;
	fail_errno = EPERM;
	assert_int_equal(rampool_block_populate(blk, 0, 8 << 20), -EPERM);
	assert_int_equal(count(C_PUNCH), 1);
	assert_int_equal(punch_off, 4 << 20);
	assert_int_equal(punch_len, 4 << 20);
	assert_int_equal(rampool_block_populated(blk), 4 << 20);
	rampool_block_free(blk);
	assert_file_intact(fd);
	close(fd);
	rampool_pool_free(pool);
}

/* a pool-wide cancel flag is checked instead of the block's, never cleared */
static void test_attach_cancel(void **state)
{
	struct rampool_pool *pool = pool_with_mocks();
	int fd = caller_file();
	struct block_attach_spec s = attach_spec(fd);
	struct rampool_block *blk;
	atomic_bool all = false;

	(void)state;
	s.cancel = &all;
	assert_int_equal(block_attach(pool, &s, &blk), 0);
	rampool_block_cancel(blk);
	assert_true(atomic_load(&all));
	assert_int_equal(rampool_block_populate(blk, 0, 8 << 20),
			 -ECANCELED);
	assert_true(atomic_load(&all));
	assert_int_equal(rampool_block_populated(blk), 0);
	atomic_store(&all, false);
	assert_int_equal(rampool_block_populate(blk, 0, 8 << 20), 0);
	rampool_block_free(blk);
	close(fd);
	rampool_pool_free(pool);
}

/* opts: sz below the 0.1 struct, or a non-zero unknown tail: -EINVAL */
static void test_opts_size(void **state)
{
	struct rampool_pool *pool = pool_with_mocks();
	struct {
		struct rampool_block_opts o;
		unsigned char tail[16];
	} big;
	struct rampool_block *blk = (void *)0x1;

	(void)state;
	memset(&big, 0, sizeof(big));
	big.o = opts(0);
	big.o.sz = offsetof(struct rampool_block_opts, progress_data) +
		   sizeof(void *) - 1;
	assert_int_equal(rampool_block_new(pool, &big.o, &blk), -EINVAL);
	big.o.sz = 0;
	assert_int_equal(rampool_block_new(pool, &big.o, &blk), -EINVAL);
	big.o.sz = sizeof(big);
	big.tail[3] = 1;
	assert_int_equal(rampool_block_new(pool, &big.o, &blk), -EINVAL);
	assert_ptr_equal(blk, (void *)0x1);
	assert_int_equal(ncalls, 0);
	/* a newer caller's zero tail is fine; bytes past sz are not read */
	big.tail[3] = 0;
	big.tail[15] = 0xff;
	big.o.sz = sizeof(big) - 1;
	assert_int_equal(rampool_block_new(pool, &big.o, &blk), 0);
	assert_int_equal(rampool_block_size(blk), 8 << 20);
	rampool_block_free(blk);
	rampool_pool_free(pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_bound_shmem),
		cmocka_unit_test(test_order_unbound),
		cmocka_unit_test(test_policies),
		cmocka_unit_test(test_page_tables),
		cmocka_unit_test(test_no_seal),
		cmocka_unit_test(test_each_failure),
		cmocka_unit_test(test_populate_undo),
		cmocka_unit_test(test_mincore_fails),
		cmocka_unit_test(test_statfs_fails),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_attach),
		cmocka_unit_test(test_attach_failures),
		cmocka_unit_test(test_attach_bad),
		cmocka_unit_test(test_attach_undo),
		cmocka_unit_test(test_attach_cancel),
		cmocka_unit_test(test_opts_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
