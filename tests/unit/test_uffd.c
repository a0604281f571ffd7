// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_uffd.c: every error path of backend/uffd.c (open, handshake, register, copy, zero, wake, fault events) through a mocked ops table. */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "backend/uffd.h"
#include "../t_compat.h"

#define PS 4096ull
#define HPS (2ull << 20)
#define UFD 40			/* the fd the syscall gives */
#define DEV 41			/* /dev/userfaultfd */
#define NEWFD 42		/* USERFAULTFD_IOC_NEW's */
#define ZEROS ((void *)0x7e0000000000ull)

/* The mock: each hook's errno (0: succeed) and what the calls saw. */
static struct {
	int sys_errno, open_errno, new_errno;
	int sys_flags, new_flags, opened;
	int closes, close_fd[8];
	/* UFFDIO_API: the first call fails with api_errno (0: succeeds) and
	 * offers api_features / api_ioctls; the probe's call probe_errno */
	int api_errno, probe_errno, api_calls;
	uint64_t api_features, api_ioctls, asked[4];
	int reg_errno, unreg_errno, unregs, wake_errno;
	uint64_t reg_ioctls, reg_mode, last_start, last_len;
	/* COPY / ZEROPAGE: a script of results, one per call: bytes placed
	 * (-1: all) and the errno */
	struct { int64_t bytes; int err; } fill[8];
	int fills, nfill_script, fill_default_err;
	uint64_t fill_dst[8], fill_src[8], fill_len[8], fill_mode[8];
	unsigned long fill_req[8];
	int mmap_errno, munmaps;
	/* poll / read */
	int poll_ret, poll_errno, revents0, revents1, nfds;
	ssize_t read_ret;
	int read_errno;
	struct uffd_msg msg;
} m;

static struct t_log lg = T_LOG_INIT;
static const struct rp_log rlog = { .fn = t_log_fn, .data = &lg,
				    .level = RAMPOOL_LOG_DEBUG };

static int m_fail(int err)
{
	errno = err;
	return -1;
}

static long m_userfaultfd(int flags)
{
	m.sys_flags = flags;
	return m.sys_errno ? m_fail(m.sys_errno) : UFD;
}

static int m_open(const char *path, int flags)
{
	assert_string_equal(path, "/dev/userfaultfd");
	assert_true(flags & O_CLOEXEC);
	m.opened++;
	return m.open_errno ? m_fail(m.open_errno) : DEV;
}

static int m_api(struct uffdio_api *api)
{
	int k = m.api_calls++;

	assert_int_equal(api->api, UFFD_API);
	m.asked[k] = api->features;
	if (k == 0 && m.api_errno)
		return m_fail(m.api_errno);
	if (k == 1 && m.probe_errno)
		return m_fail(m.probe_errno);
	api->features = m.api_features;
	api->ioctls = m.api_ioctls;
	return 0;
}

static int m_fill(unsigned long req, void *arg)
{
	int k = m.fills++ < 8 ? m.fills - 1 : 7;	/* the last 8 kept */
	uint64_t len;
	int64_t bytes;
	int err;

	m.fill_req[k] = req;
	if (req == UFFDIO_COPY) {
		struct uffdio_copy *c = arg;

		m.fill_dst[k] = c->dst;
		m.fill_src[k] = c->src;
		len = m.fill_len[k] = c->len;
	} else if (req == UFFDIO_CONTINUE) {
		struct uffdio_continue *c = arg;

		m.fill_dst[k] = c->range.start;
		m.fill_mode[k] = c->mode;
		len = m.fill_len[k] = c->range.len;
	} else {
		struct uffdio_zeropage *z = arg;

		m.fill_dst[k] = z->range.start;
		len = m.fill_len[k] = z->range.len;
	}
	if (m.fills - 1 < m.nfill_script) {
		bytes = m.fill[k].bytes;
		err = m.fill[k].err;
	} else {
		bytes = m.fill_default_err ? 0 : -1;
		err = m.fill_default_err;
	}
	if (bytes < 0)
		bytes = (int64_t)len;
	if (req == UFFDIO_COPY)
		((struct uffdio_copy *)arg)->copy = bytes ? bytes : -err;
	else if (req == UFFDIO_CONTINUE)
		((struct uffdio_continue *)arg)->mapped = bytes ? bytes : -err;
	else
		((struct uffdio_zeropage *)arg)->zeropage = bytes ? bytes
								  : -err;
	return err ? m_fail(err) : 0;
}

static int m_ioctl(int fd, unsigned long req, void *arg)
{
	if (req == (unsigned long)USERFAULTFD_IOC_NEW) {
		assert_int_equal(fd, DEV);
		m.new_flags = (int)(long)arg;
		return m.new_errno ? m_fail(m.new_errno) : NEWFD;
	}
	if (req == UFFDIO_API)
		return m_api(arg);
	if (req == UFFDIO_REGISTER) {
		struct uffdio_register *r = arg;

		m.reg_mode = r->mode;
		m.last_start = r->range.start;
		m.last_len = r->range.len;
		r->ioctls = m.reg_ioctls;
		return m.reg_errno ? m_fail(m.reg_errno) : 0;
	}
	if (req == UFFDIO_UNREGISTER) {
		m.unregs++;
		return m.unreg_errno ? m_fail(m.unreg_errno) : 0;
	}
	if (req == UFFDIO_WAKE) {
		struct uffdio_range *r = arg;

		m.last_start = r->start;
		m.last_len = r->len;
		return m.wake_errno ? m_fail(m.wake_errno) : 0;
	}
	if (req == UFFDIO_COPY || req == UFFDIO_ZEROPAGE ||
	    req == UFFDIO_CONTINUE)
		return m_fill(req, arg);
	fail_msg("unexpected ioctl %#lx", req);
	return -1;
}

static ssize_t m_read(int fd, void *buf, size_t n)
{
	assert_int_equal(fd, UFD);
	assert_int_equal(n, sizeof(struct uffd_msg));
	if (m.read_ret < 0)
		return m_fail(m.read_errno);
	memcpy(buf, &m.msg, sizeof(m.msg));
	return m.read_ret;
}

static int m_poll(struct pollfd *p, nfds_t n, int timeout)
{
	(void)timeout;
	m.nfds = (int)n;
	if (m.poll_ret < 0)
		return m_fail(m.poll_errno);
	p[0].revents = (short)m.revents0;
	if (n > 1)
		p[1].revents = (short)m.revents1;
	return m.poll_ret;
}

static int m_close(int fd)
{
	m.close_fd[m.closes++] = fd;
	return 0;
}

static void *m_mmap(void *addr, size_t len, int prot, int flags, int fd,
		    off_t off)
{
	(void)addr;
	(void)len;
	(void)off;
	assert_int_equal(prot, PROT_READ);
	assert_true(flags & MAP_ANONYMOUS);
	assert_int_equal(fd, -1);
	if (m.mmap_errno) {
		errno = m.mmap_errno;
		return MAP_FAILED;
	}
	return ZEROS;
}

static int m_munmap(void *addr, size_t len)
{
	(void)len;
	assert_ptr_equal(addr, ZEROS);
	m.munmaps++;
	return 0;
}

static const struct uffd_ops ops = {
	.userfaultfd = m_userfaultfd,
	.open = m_open,
	.ioctl = m_ioctl,
	.read = m_read,
	.poll = m_poll,
	.close = m_close,
	.mmap = m_mmap,
	.munmap = m_munmap,
};

#define ALL_FEATURES (UFFD_FEATURE_MISSING_HUGETLBFS | UFFD_FEATURE_MISSING_SHMEM)
#define API_IOCTLS (1ull << _UFFDIO_REGISTER | 1ull << _UFFDIO_UNREGISTER | \
		    1ull << _UFFDIO_API)
#define RANGE_IOCTLS (1ull << _UFFDIO_COPY | 1ull << _UFFDIO_WAKE | \
		      1ull << _UFFDIO_ZEROPAGE)

static int setup(void **state)
{
	(void)state;
	memset(&m, 0, sizeof(m));
	m.api_features = ALL_FEATURES;
	m.api_ioctls = API_IOCTLS;
	m.reg_ioctls = RANGE_IOCTLS;
	t_log_reset(&lg);
	return 0;
}

static struct uffd opened(void)
{
	struct uffd u;

	assert_int_equal(uffd_open(UFFD_NEED_HUGETLB | UFFD_NEED_SHMEM, &ops,
				   &rlog, &u), 0);
	m.api_calls = 0;
	return u;
}

static void test_open_syscall(void **state)
{
	struct uffd u = { .fd = -7 };

	(void)state;
	assert_int_equal(uffd_open(UFFD_NEED_HUGETLB, &ops, &rlog, &u), 0);
	assert_int_equal(u.fd, UFD);
	assert_int_equal(u.features, ALL_FEATURES);
	assert_int_equal(m.sys_flags, O_CLOEXEC | O_NONBLOCK);
	assert_int_equal(m.asked[0], UFFD_FEATURE_MISSING_HUGETLBFS);
	assert_int_equal(m.opened, 0);
	assert_int_equal(m.closes, 0);
	uffd_close(&u);
	assert_int_equal(m.closes, 1);
	assert_int_equal(m.close_fd[0], UFD);
	assert_int_equal(u.fd, -1);
	uffd_close(&u);		/* twice is harmless */
	assert_int_equal(m.closes, 1);
}

static void test_open_user_only(void **state)
{
	struct uffd u;

	(void)state;
	assert_int_equal(uffd_open(UFFD_NEED_SHMEM | UFFD_USER_ONLY, &ops,
				   &rlog, &u), 0);
	assert_int_equal(m.sys_flags, O_CLOEXEC | O_NONBLOCK | 1);
	assert_int_equal(m.asked[0], UFFD_FEATURE_MISSING_SHMEM);
}

/* EPERM: /dev/userfaultfd, closed after USERFAULTFD_IOC_NEW */
static void test_open_device(void **state)
{
	struct uffd u;

	(void)state;
	m.sys_errno = EPERM;
	assert_int_equal(uffd_open(0, &ops, &rlog, &u), 0);
	assert_int_equal(u.fd, NEWFD);
	assert_int_equal(m.new_flags, O_CLOEXEC | O_NONBLOCK);
	assert_int_equal(m.closes, 1);
	assert_int_equal(m.close_fd[0], DEV);
	assert_int_equal(m.asked[0], 0);
}

static void open_fails(int expect, const char *logged)
{
	struct uffd u = { .fd = -7 };

	assert_int_equal(uffd_open(UFFD_NEED_HUGETLB | UFFD_NEED_SHMEM, &ops,
				   &rlog, &u), expect);
	assert_int_equal(u.fd, -7);	/* untouched */
	assert_int_equal(t_logged(&lg, RAMPOOL_LOG_ERR, logged), 1);
}

static void test_open_errors(void **state)
{
	(void)state;
	/* no system call (seccomp, valgrind) and no device */
	m.sys_errno = ENOSYS;
	m.open_errno = ENOENT;
	open_fails(-EOPNOTSUPP, "no userfaultfd");
	setup(NULL);
	/* no system call, but the device: it makes the uffd */
	{
		struct uffd u = { .fd = -7 };

		m.sys_errno = ENOSYS;
		assert_int_equal(uffd_open(0, &ops, &rlog, &u), 0);
		assert_int_equal(u.fd, NEWFD);
		uffd_close(&u);
	}
	setup(NULL);
	m.sys_errno = EMFILE;
	open_fails(-EMFILE, "userfaultfd: Too many open files");
	setup(NULL);
	m.sys_errno = EPERM;
	m.open_errno = ENOENT;	/* no device: the syscall's refusal stands */
	open_fails(-EPERM, "/dev/userfaultfd: No such file");
	setup(NULL);
	m.sys_errno = EPERM;
	m.open_errno = EACCES;
	open_fails(-EACCES, "/dev/userfaultfd: Permission denied");
	assert_int_equal(m.closes, 0);
	setup(NULL);
	m.sys_errno = EPERM;
	m.new_errno = EMFILE;
	open_fails(-EMFILE, "USERFAULTFD_IOC_NEW");
	assert_int_equal(m.closes, 1);		/* the device */
	assert_int_equal(m.close_fd[0], DEV);
}

/* the kernel refuses the features: a probe names the one it lacks */
static void test_handshake_missing(void **state)
{
	(void)state;
	m.api_errno = EINVAL;
	m.api_features = UFFD_FEATURE_MISSING_SHMEM;
	open_fails(-EOPNOTSUPP, "lacks UFFD_FEATURE_MISSING_HUGETLBFS");
	assert_int_equal(m.api_calls, 2);
	assert_int_equal(m.asked[1], 0);	/* the probe asks for none */
	assert_int_equal(m.closes, 2);		/* the probe's fd and ours */
	setup(NULL);
	m.api_errno = EINVAL;
	m.api_features = UFFD_FEATURE_MISSING_HUGETLBFS;
	open_fails(-EOPNOTSUPP, "lacks UFFD_FEATURE_MISSING_SHMEM");
	setup(NULL);
	m.api_errno = EINVAL;	/* refused though it lists them all */
	open_fails(-EOPNOTSUPP, "refused features");
	assert_int_equal(m.closes, 2);
	setup(NULL);
	m.api_errno = EINVAL;
	m.probe_errno = EFAULT;
	open_fails(-EOPNOTSUPP, "UFFDIO_API: Bad address");
	assert_int_equal(m.closes, 2);
	setup(NULL);
	m.api_errno = EFAULT;
	open_fails(-EFAULT, "UFFDIO_API: Bad address");
	assert_int_equal(m.api_calls, 1);
	assert_int_equal(m.closes, 1);
	/* accepted, but the features are not in the answer */
	setup(NULL);
	m.api_features = UFFD_FEATURE_MISSING_HUGETLBFS;
	open_fails(-EOPNOTSUPP, "lacks UFFD_FEATURE_MISSING_SHMEM");
	assert_int_equal(m.closes, 1);
	setup(NULL);
	m.api_ioctls = 1ull << _UFFDIO_API;
	open_fails(-EOPNOTSUPP, "no UFFDIO_REGISTER");
	assert_int_equal(m.closes, 1);
}

static void test_register(void **state)
{
	struct uffd u;

	(void)state;
	u = opened();
	assert_int_equal(uffd_register(&u, 0x1000, 8 * PS, 0), 0);
	assert_int_equal(m.reg_mode, UFFDIO_REGISTER_MODE_MISSING);
	assert_int_equal(m.last_start, 0x1000);
	assert_int_equal(m.last_len, 8 * PS);
	/* hugetlb offers no zero page: not asked for there */
	m.reg_ioctls = RANGE_IOCTLS & ~(1ull << _UFFDIO_ZEROPAGE);
	assert_int_equal(uffd_register(&u, HPS, HPS, 1), 0);
	assert_int_equal(m.unregs, 0);
	assert_int_equal(uffd_register(&u, 0x1000, PS, 0), -EOPNOTSUPP);
	assert_int_equal(m.unregs, 1);		/* undone */
	assert_int_equal(t_logged(&lg, RAMPOOL_LOG_ERR, "no UFFDIO_ZEROPAGE"), 1);
	m.reg_ioctls = 1ull << _UFFDIO_WAKE;
	assert_int_equal(uffd_register(&u, HPS, HPS, 1), -EOPNOTSUPP);
	assert_int_equal(m.unregs, 2);
	assert_int_equal(t_logged(&lg, RAMPOOL_LOG_ERR, "no UFFDIO_COPY"), 1);
	m.reg_ioctls = 1ull << _UFFDIO_COPY;
	assert_int_equal(uffd_register(&u, HPS, HPS, 1), -EOPNOTSUPP);
	assert_int_equal(t_logged(&lg, RAMPOOL_LOG_ERR, "no UFFDIO_WAKE"), 1);
	m.reg_errno = EBUSY;
	assert_int_equal(uffd_register(&u, HPS, HPS, 1), -EBUSY);
	assert_int_equal(m.unregs, 3);
	m.unreg_errno = EINVAL;
	assert_int_equal(uffd_unregister(&u, HPS, HPS), -EINVAL);
	assert_int_equal(t_logged(&lg, RAMPOOL_LOG_ERR, "unregister"), 1);
	m.wake_errno = ENOMEM;
	assert_int_equal(uffd_wake(&u, 3 * PS, PS), -ENOMEM);
	assert_int_equal(m.last_start, 3 * PS);
	m.wake_errno = 0;
	assert_int_equal(uffd_wake(&u, 5 * PS, 2 * PS), 0);
	assert_int_equal(m.last_len, 2 * PS);
}

/* partial copies resume where the kernel stopped */
static void test_copy_partial(void **state)
{
	char src[4];
	struct uffd u;
	uint64_t done = 99;

	(void)state;
	u = opened();
	m.nfill_script = 3;
	m.fill[0].bytes = (int64_t)PS;
	m.fill[0].err = EAGAIN;
	m.fill[1].bytes = 0;		/* no progress, once */
	m.fill[1].err = EAGAIN;
	m.fill[2].bytes = -1;
	assert_int_equal(uffd_copy(&u, 0x10000, src, 4 * PS, 0, &done), 0);
	assert_int_equal(done, 4 * PS);
	assert_int_equal(m.fills, 3);
	assert_int_equal(m.fill_dst[1], 0x10000 + PS);
	assert_int_equal(m.fill_src[1], (uint64_t)(uintptr_t)src + PS);
	assert_int_equal(m.fill_len[1], 3 * PS);
	assert_int_equal(m.fill_len[2], 3 * PS);
}

/* an error after a partial copy: *done says where */
static void test_copy_errors(void **state)
{
	char src[4];
	struct uffd u;
	uint64_t done = 99;

	(void)state;
	u = opened();
	m.nfill_script = 2;
	m.fill[0].bytes = (int64_t)(2 * PS);
	m.fill[0].err = EAGAIN;
	m.fill[1].bytes = 0;
	m.fill[1].err = EEXIST;
	assert_int_equal(uffd_copy(&u, 0x10000, src, 4 * PS, 1, &done),
			 -EEXIST);
	assert_int_equal(done, 2 * PS);
	for (int e = 0; e < 3; e++) {
		static const int errs[] = { ENOENT, ENOMEM, ESRCH };

		setup(NULL);
		m.fill_default_err = errs[e];
		assert_int_equal(uffd_copy(&u, 0x10000, src, PS, 0, &done),
				 -errs[e]);
		assert_int_equal(done, 0);
		assert_int_equal(m.fills, 1);
	}
	/* refused without progress for ever: gives up */
	setup(NULL);
	m.fill_default_err = EAGAIN;
	assert_int_equal(uffd_copy(&u, 0x10000, src, PS, 0, &done), -EAGAIN);
	assert_int_equal(done, 0);
	assert_int_equal(m.fills, 1000);
}

static void test_zero(void **state)
{
	struct uffd u;
	uint64_t done = 99;

	(void)state;
	u = opened();
	assert_int_equal(uffd_zero(&u, 0x10000, 2 * PS, 0, &done), 0);
	assert_int_equal(done, 2 * PS);
	assert_int_equal(m.fill_req[0], UFFDIO_ZEROPAGE);
	assert_int_equal(m.munmaps, 0);
	/* hugetlb: a copy from a zero mapping, unmapped after */
	setup(NULL);
	assert_int_equal(uffd_zero(&u, HPS, 2 * HPS, 1, &done), 0);
	assert_int_equal(m.fill_req[0], UFFDIO_COPY);
	assert_int_equal(m.fill_src[0], (uint64_t)(uintptr_t)ZEROS);
	assert_int_equal(m.fill_len[0], 2 * HPS);
	assert_int_equal(m.munmaps, 1);
	setup(NULL);
	m.fill_default_err = EEXIST;
	assert_int_equal(uffd_zero(&u, HPS, HPS, 1, &done), -EEXIST);
	assert_int_equal(m.munmaps, 1);
	setup(NULL);
	m.mmap_errno = ENOMEM;
	assert_int_equal(uffd_zero(&u, HPS, HPS, 1, &done), -ENOMEM);
	assert_int_equal(done, 0);
	assert_int_equal(m.fills, 0);
	setup(NULL);
	m.nfill_script = 1;
	m.fill[0].bytes = (int64_t)PS;
	m.fill[0].err = EAGAIN;
	m.fill_default_err = 0;
	assert_int_equal(uffd_zero(&u, 0x10000, 3 * PS, 0, &done), 0);
	assert_int_equal(m.fill_dst[1], 0x10000 + PS);
	assert_int_equal(done, 3 * PS);
}

static void test_wait_fault(void **state)
{
	struct uffd u;
	uint64_t addr = 7;

	(void)state;
	u = opened();
	m.poll_ret = 0;			/* time ran out */
	assert_int_equal(uffd_wait_fault(&u, -1, 10, &addr), 0);
	assert_int_equal(m.nfds, 1);
	m.poll_ret = -1;
	m.poll_errno = EINTR;
	assert_int_equal(uffd_wait_fault(&u, 9, 10, &addr), 0);
	assert_int_equal(m.nfds, 2);
	m.poll_errno = ENOMEM;
	assert_int_equal(uffd_wait_fault(&u, 9, 10, &addr), -ENOMEM);
	m.poll_ret = 1;
	m.revents1 = POLLIN;		/* the stop fd */
	assert_int_equal(uffd_wait_fault(&u, 9, 10, &addr), 2);
	m.revents1 = 0;
	m.revents0 = POLLIN;
	m.read_ret = -1;
	m.read_errno = EAGAIN;		/* another reader took it */
	assert_int_equal(uffd_wait_fault(&u, 9, 10, &addr), 0);
	m.read_errno = EBADF;
	assert_int_equal(uffd_wait_fault(&u, 9, 10, &addr), -EBADF);
	m.read_ret = 3;
	assert_int_equal(uffd_wait_fault(&u, 9, 10, &addr), -EIO);
	m.read_ret = sizeof(struct uffd_msg);
	m.msg.event = UFFD_EVENT_FORK;
	assert_int_equal(uffd_wait_fault(&u, 9, 10, &addr), 0);
	assert_int_equal(addr, 7);
	m.msg.event = UFFD_EVENT_PAGEFAULT;
	m.msg.arg.pagefault.address = 0x123456;
	assert_int_equal(uffd_wait_fault(&u, 9, 10, &addr), 1);
	assert_int_equal(addr, 0x123456);
}

#define MINOR_FEATURES (UFFD_FEATURE_MINOR_HUGETLBFS | UFFD_FEATURE_MINOR_SHMEM)

/* a kernel without MINOR: -EOPNOTSUPP naming it, nothing left open */
static void test_minor_missing(void **state)
{
	struct uffd u = { .fd = -7 };

	(void)state;
	m.api_features = ALL_FEATURES | UFFD_FEATURE_MINOR_SHMEM;
	m.api_errno = EINVAL;	/* what a kernel says to a feature it lacks */
	assert_int_equal(uffd_open(UFFD_NEED_HUGETLB | UFFD_NEED_MINOR, &ops,
				   &rlog, &u), -EOPNOTSUPP);
	assert_int_equal(u.fd, -7);
	assert_int_equal(m.asked[0], UFFD_FEATURE_MISSING_HUGETLBFS |
				     UFFD_FEATURE_MINOR_HUGETLBFS);
	assert_int_equal(m.asked[1], 0);
	assert_int_equal(m.closes, 2);
	assert_int_equal(t_logged(&lg, RAMPOOL_LOG_ERR,
				  "lacks UFFD_FEATURE_MINOR_HUGETLBFS"), 1);
	/* accepted but not granted */
	setup(NULL);
	assert_int_equal(uffd_open(UFFD_NEED_SHMEM | UFFD_NEED_MINOR, &ops,
				   &rlog, &u), -EOPNOTSUPP);
	assert_int_equal(u.fd, -7);
	assert_int_equal(m.asked[0], UFFD_FEATURE_MISSING_SHMEM |
				     UFFD_FEATURE_MINOR_SHMEM);
	assert_int_equal(m.closes, 1);
	assert_int_equal(t_logged(&lg, RAMPOOL_LOG_ERR,
				  "lacks UFFD_FEATURE_MINOR_SHMEM"), 1);
	/* granted: opened, MINOR asked only with NEED_MINOR */
	setup(NULL);
	m.api_features = ALL_FEATURES | MINOR_FEATURES;
	assert_int_equal(uffd_open(UFFD_NEED_SHMEM | UFFD_NEED_MINOR, &ops,
				   &rlog, &u), 0);
	assert_int_equal(u.fd, UFD);
	assert_int_equal(u.features, ALL_FEATURES | MINOR_FEATURES);
	uffd_close(&u);
	setup(NULL);
	assert_int_equal(uffd_open(UFFD_NEED_SHMEM, &ops, &rlog, &u), 0);
	assert_int_equal(m.asked[0], UFFD_FEATURE_MISSING_SHMEM);
}

static void test_register_minor(void **state)
{
	struct uffd u;

	(void)state;
	u = opened();
	assert_int_equal(uffd_register_mode(&u, HPS, HPS, 1, 0), -EINVAL);
	assert_int_equal(uffd_register_mode(&u, HPS, HPS, 1, 4), -EINVAL);
	assert_int_equal(m.reg_mode, 0);	/* the kernel was not asked */
	m.reg_ioctls = RANGE_IOCTLS | 1ull << _UFFDIO_CONTINUE;
	assert_int_equal(uffd_register_mode(&u, HPS, 2 * HPS, 1,
					    UFFD_MODE_MISSING |
					    UFFD_MODE_MINOR), 0);
	assert_int_equal(m.reg_mode, UFFDIO_REGISTER_MODE_MISSING |
				     UFFDIO_REGISTER_MODE_MINOR);
	assert_int_equal(m.last_len, 2 * HPS);
	/* MINOR alone needs no COPY */
	m.reg_ioctls = 1ull << _UFFDIO_CONTINUE | 1ull << _UFFDIO_WAKE;
	assert_int_equal(uffd_register_mode(&u, HPS, HPS, 1, UFFD_MODE_MINOR),
			 0);
	assert_int_equal(m.reg_mode, UFFDIO_REGISTER_MODE_MINOR);
	assert_int_equal(m.unregs, 0);
	/* a range without CONTINUE: undone */
	m.reg_ioctls = RANGE_IOCTLS;
	assert_int_equal(uffd_register_mode(&u, 0x1000, PS, 0,
					    UFFD_MODE_MISSING |
					    UFFD_MODE_MINOR), -EOPNOTSUPP);
	assert_int_equal(m.unregs, 1);
	assert_int_equal(t_logged(&lg, RAMPOOL_LOG_ERR, "no UFFDIO_CONTINUE"),
			 1);
	m.reg_errno = EINVAL;	/* e.g. anonymous memory, MINOR */
	assert_int_equal(uffd_register_mode(&u, 0x1000, PS, 0,
					    UFFD_MODE_MINOR), -EINVAL);
	assert_int_equal(m.unregs, 1);
}

/* UFFDIO_CONTINUE resumes like a copy; its errors come back with *done */
static void test_continue(void **state)
{
	struct uffd u;
	uint64_t done = 99;

	(void)state;
	u = opened();
	m.nfill_script = 3;
	m.fill[0].bytes = (int64_t)HPS;
	m.fill[0].err = EAGAIN;
	m.fill[1].bytes = 0;
	m.fill[1].err = EAGAIN;
	m.fill[2].bytes = -1;
	assert_int_equal(uffd_continue(&u, HPS, 3 * HPS, 0, &done), 0);
	assert_int_equal(done, 3 * HPS);
	assert_int_equal(m.fill_req[0], UFFDIO_CONTINUE);
	assert_int_equal(m.fill_mode[0], 0);
	assert_int_equal(m.fill_dst[1], 2 * HPS);
	assert_int_equal(m.fill_len[2], 2 * HPS);
	setup(NULL);
	m.nfill_script = 2;
	m.fill[0].bytes = (int64_t)HPS;
	m.fill[0].err = EAGAIN;
	m.fill[1].bytes = 0;
	m.fill[1].err = EFAULT;	/* no page in the file there */
	assert_int_equal(uffd_continue(&u, HPS, 3 * HPS, 1, &done), -EFAULT);
	assert_int_equal(done, HPS);
	assert_int_equal(m.fill_mode[0], UFFDIO_CONTINUE_MODE_DONTWAKE);
	for (int e = 0; e < 3; e++) {
		static const int errs[] = { EEXIST, ENOENT, ESRCH };

		setup(NULL);
		m.fill_default_err = errs[e];
		assert_int_equal(uffd_continue(&u, HPS, HPS, 0, &done),
				 -errs[e]);
		assert_int_equal(done, 0);
		assert_int_equal(m.fills, 1);
	}
	setup(NULL);
	m.fill_default_err = EAGAIN;
	assert_int_equal(uffd_continue(&u, HPS, HPS, 0, &done), -EAGAIN);
	assert_int_equal(m.fills, 1000);
}

static void test_wait_event(void **state)
{
	struct uffd u;
	uint64_t addr = 7;
	unsigned int kind = 99;

	(void)state;
	u = opened();
	m.poll_ret = 1;
	m.revents0 = POLLIN;
	m.read_ret = sizeof(struct uffd_msg);
	m.msg.event = UFFD_EVENT_PAGEFAULT;
	m.msg.arg.pagefault.address = 0x200000;
	m.msg.arg.pagefault.flags = UFFD_PAGEFAULT_FLAG_MINOR;
	assert_int_equal(uffd_wait_event(&u, -1, 10, &addr, &kind), 1);
	assert_int_equal(addr, 0x200000);
	assert_int_equal(kind, UFFD_FAULT_MINOR);
	m.msg.arg.pagefault.flags = UFFD_PAGEFAULT_FLAG_WRITE;
	assert_int_equal(uffd_wait_event(&u, -1, 10, &addr, &kind), 1);
	assert_int_equal(kind, UFFD_FAULT_MISSING | UFFD_FAULT_WRITE);
	m.msg.arg.pagefault.flags = UFFD_PAGEFAULT_FLAG_MINOR |
				    UFFD_PAGEFAULT_FLAG_WRITE;
	assert_int_equal(uffd_wait_event(&u, -1, 10, &addr, &kind), 1);
	assert_int_equal(kind, UFFD_FAULT_MINOR | UFFD_FAULT_WRITE);
	assert_int_equal(uffd_wait_event(&u, -1, 10, &addr, NULL), 1);
	/* not a fault: kind untouched */
	kind = 99;
	m.msg.event = UFFD_EVENT_REMOVE;
	assert_int_equal(uffd_wait_event(&u, -1, 10, &addr, &kind), 0);
	assert_int_equal(kind, 99);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_open_syscall, setup),
		cmocka_unit_test_setup(test_open_user_only, setup),
		cmocka_unit_test_setup(test_open_device, setup),
		cmocka_unit_test_setup(test_open_errors, setup),
		cmocka_unit_test_setup(test_handshake_missing, setup),
		cmocka_unit_test_setup(test_register, setup),
		cmocka_unit_test_setup(test_copy_partial, setup),
		cmocka_unit_test_setup(test_copy_errors, setup),
		cmocka_unit_test_setup(test_zero, setup),
		cmocka_unit_test_setup(test_wait_fault, setup),
		cmocka_unit_test_setup(test_minor_missing, setup),
		cmocka_unit_test_setup(test_register_minor, setup),
		cmocka_unit_test_setup(test_continue, setup),
		cmocka_unit_test_setup(test_wait_event, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
