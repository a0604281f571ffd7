// SPDX-License-Identifier: LGPL-2.1-or-later
/* uffd.c: userfaultfd for the postcopy destination: open (syscall or /dev/userfaultfd), handshake, register, place pages, wake, read faults. */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "uffd.h"

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#ifndef USERFAULTFD_IOC_NEW
#define USERFAULTFD_IOC_NEW _IO(0xAA, 0x00)
#endif

/* Retries of a copy that the kernel refuses with EAGAIN and no progress. */
#define UFFD_AGAIN_MAX 1000

static long sys_userfaultfd(int flags)
{
	return syscall(SYS_userfaultfd, flags);
}

static int do_open(const char *path, int flags)
{
	return open(path, flags);
}

static int do_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg);
}

const struct uffd_ops uffd_default_ops = {
	.userfaultfd = sys_userfaultfd,
	.open = do_open,
	.ioctl = do_ioctl,
	.read = read,
	.poll = poll,
	.close = close,
	.mmap = mmap,
	.munmap = munmap,
};

/* A new uffd fd, or -errno (logged). */
static int new_fd(unsigned int need, const struct uffd_ops *ops,
		  const struct rp_log *log)
{
	int flags = O_CLOEXEC | O_NONBLOCK, dev, fd, err;

	if (need & UFFD_USER_ONLY)
		flags |= UFFD_USER_MODE_ONLY;
	fd = (int)ops->userfaultfd(flags);
	if (fd >= 0)
		return fd;
	err = errno;
	if (err != EPERM && err != ENOSYS) {
		rp_err(log, "uffd: userfaultfd: %s", strerror(err));
		return -err;
	}
	/*
	 * unprivileged_userfaultfd = 0 (EPERM): the device decides by its
	 * mode. ENOSYS: the system call is filtered (seccomp, valgrind) but
	 * the device may still be there.
	 */
	dev = ops->open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		int derr = errno;

		if (err == ENOSYS) {
			rp_err(log, "uffd: no userfaultfd system call and no "
			       "/dev/userfaultfd (%s)", strerror(derr));
			return -EOPNOTSUPP;
		}
		rp_err(log, "uffd: userfaultfd refused (EPERM) and "
		       "/dev/userfaultfd: %s", strerror(derr));
		return derr == ENOENT ? -EPERM : -derr;
	}
	fd = ops->ioctl(dev, USERFAULTFD_IOC_NEW, (void *)(long)flags);
	err = errno;
	ops->close(dev);
	if (fd < 0) {
		rp_err(log, "uffd: /dev/userfaultfd: USERFAULTFD_IOC_NEW: %s",
		       strerror(err));
		return -err;
	}
	return fd;
}

static uint64_t features_of(unsigned int need)
{
	uint64_t f = 0;

	if (need & UFFD_NEED_HUGETLB)
		f |= UFFD_FEATURE_MISSING_HUGETLBFS |
		     (need & UFFD_NEED_MINOR ? UFFD_FEATURE_MINOR_HUGETLBFS : 0);
	if (need & UFFD_NEED_SHMEM)
		f |= UFFD_FEATURE_MISSING_SHMEM |
		     (need & UFFD_NEED_MINOR ? UFFD_FEATURE_MINOR_SHMEM : 0);
	return f;
}

/* -EOPNOTSUPP naming the first feature of want that have lacks. */
static int missing(const struct rp_log *log, uint64_t want, uint64_t have)
{
	uint64_t lack = want & ~have;

	rp_err(log, "uffd: the kernel lacks UFFD_FEATURE_%s",
	       lack & UFFD_FEATURE_MISSING_HUGETLBFS ? "MISSING_HUGETLBFS" :
	       lack & UFFD_FEATURE_MISSING_SHMEM ? "MISSING_SHMEM" :
	       lack & UFFD_FEATURE_MINOR_HUGETLBFS ? "MINOR_HUGETLBFS" :
						     "MINOR_SHMEM");
	return -EOPNOTSUPP;
}

/*
 * The kernel refused the features asked: a second uffd asks for none and
 * learns what it has, to name the missing one. A uffd takes UFFDIO_API
 * once, hence the second fd.
 */
static int probe_missing(unsigned int need, const struct uffd_ops *ops,
			 const struct rp_log *log, uint64_t want)
{
	struct uffdio_api api = { .api = UFFD_API };
	int fd = new_fd(need & UFFD_USER_ONLY, ops, log), r;

	if (fd < 0)
		return fd;
	r = ops->ioctl(fd, UFFDIO_API, &api);
	ops->close(fd);
	if (r) {
		rp_err(log, "uffd: UFFDIO_API: %s", strerror(errno));
		return -EOPNOTSUPP;
	}
	if (want & ~api.features)
		return missing(log, want, api.features);
	rp_err(log, "uffd: UFFDIO_API refused features the kernel lists");
	return -EOPNOTSUPP;
}

static int handshake(int fd, unsigned int need, const struct uffd_ops *ops,
		     const struct rp_log *log, uint64_t *features)
{
	uint64_t want = features_of(need);
	struct uffdio_api api = { .api = UFFD_API, .features = want };
	uint64_t ioctls = 1ull << _UFFDIO_REGISTER | 1ull << _UFFDIO_UNREGISTER;

	if (ops->ioctl(fd, UFFDIO_API, &api)) {
		int err = errno;

		if (err == EINVAL)
			return probe_missing(need, ops, log, want);
		rp_err(log, "uffd: UFFDIO_API: %s", strerror(err));
		return -err;
	}
	if (want & ~api.features)
		return missing(log, want, api.features);
	if ((api.ioctls & ioctls) != ioctls) {
		rp_err(log, "uffd: the kernel offers no UFFDIO_REGISTER");
		return -EOPNOTSUPP;
	}
	*features = api.features;
	return 0;
}

int uffd_open(unsigned int need, const struct uffd_ops *ops,
	      const struct rp_log *log, struct uffd *out)
{
	uint64_t features = 0;
	int fd, ret;

	if (!ops)
		ops = &uffd_default_ops;
	fd = new_fd(need, ops, log);
	if (fd < 0)
		return fd;
	ret = handshake(fd, need, ops, log, &features);
	if (ret) {
		ops->close(fd);
		return ret;
	}
	*out = (struct uffd){ .fd = fd, .features = features, .ops = ops,
			      .log = log };
	return 0;
}

void uffd_close(struct uffd *u)
{
	if (u->fd >= 0)
		u->ops->close(u->fd);
	u->fd = -1;
}

/* The first ioctl of need the range lacks, by name. */
static const char *lacked(uint64_t need, uint64_t have)
{
	uint64_t lack = need & ~have;

	return lack & 1ull << _UFFDIO_COPY ? "COPY" :
	       lack & 1ull << _UFFDIO_WAKE ? "WAKE" :
	       lack & 1ull << _UFFDIO_CONTINUE ? "CONTINUE" : "ZEROPAGE";
}

int uffd_register_mode(struct uffd *u, uint64_t addr, uint64_t len,
		       int hugetlb, unsigned int modes)
{
	struct uffdio_register reg = { .range = { .start = addr, .len = len } };
	uint64_t need = 1ull << _UFFDIO_WAKE;
	int err;

	if (!modes || modes & ~(UFFD_MODE_MISSING | UFFD_MODE_MINOR))
		return -EINVAL;
	if (modes & UFFD_MODE_MISSING) {
		reg.mode |= UFFDIO_REGISTER_MODE_MISSING;
		need |= 1ull << _UFFDIO_COPY;
		if (!hugetlb)
			need |= 1ull << _UFFDIO_ZEROPAGE;
	}
	if (modes & UFFD_MODE_MINOR) {
		reg.mode |= UFFDIO_REGISTER_MODE_MINOR;
		need |= 1ull << _UFFDIO_CONTINUE;
	}
	if (u->ops->ioctl(u->fd, UFFDIO_REGISTER, &reg)) {
		err = errno;
		rp_err(u->log, "uffd: register %#llx+%llu: %s",
		       (unsigned long long)addr, (unsigned long long)len,
		       strerror(err));
		return -err;
	}
	if ((reg.ioctls & need) != need) {
		rp_err(u->log, "uffd: the range %#llx+%llu offers no UFFDIO_%s",
		       (unsigned long long)addr, (unsigned long long)len,
		       lacked(need, reg.ioctls));
		uffd_unregister(u, addr, len);
		return -EOPNOTSUPP;
	}
	return 0;
}

int uffd_register(struct uffd *u, uint64_t addr, uint64_t len, int hugetlb)
{
	return uffd_register_mode(u, addr, len, hugetlb, UFFD_MODE_MISSING);
}

int uffd_unregister(struct uffd *u, uint64_t addr, uint64_t len)
{
	struct uffdio_range r = { .start = addr, .len = len };
	int err;

	if (!u->ops->ioctl(u->fd, UFFDIO_UNREGISTER, &r))
		return 0;
	err = errno;
	rp_err(u->log, "uffd: unregister %#llx+%llu: %s",
	       (unsigned long long)addr, (unsigned long long)len,
	       strerror(err));
	return -err;
}

/*
 * The kernel reports in *res the bytes it placed (> 0) or -errno; a
 * partial copy returns EAGAIN. Resumes until done, an error, or too many
 * refusals without progress.
 */
static int fill(struct uffd *u, unsigned long req, void *arg, __u64 *dst,
		__u64 *src, __u64 *len, __s64 *res, uint64_t *done)
{
	unsigned int again = 0;

	*done = 0;
	while (*len) {
		int err;

		*res = 0;
		if (!u->ops->ioctl(u->fd, req, arg)) {
			*done += *len;
			return 0;
		}
		err = errno;
		if (*res > 0) {
			*done += (uint64_t)*res;
			*dst += (uint64_t)*res;
			if (src)
				*src += (uint64_t)*res;
			*len -= (uint64_t)*res;
			again = 0;
			continue;
		}
		if (err == EAGAIN && ++again < UFFD_AGAIN_MAX)
			continue;
		return -err;
	}
	return 0;
}

int uffd_copy(struct uffd *u, uint64_t dst, const void *src, uint64_t len,
	      int dontwake, uint64_t *done)
{
	struct uffdio_copy c = {
		.dst = dst,
		.src = (uint64_t)(uintptr_t)src,
		.len = len,
		.mode = dontwake ? UFFDIO_COPY_MODE_DONTWAKE : 0,
	};

	return fill(u, UFFDIO_COPY, &c, &c.dst, &c.src, &c.len, &c.copy, done);
}

int uffd_zero(struct uffd *u, uint64_t dst, uint64_t len, int hugetlb,
	      uint64_t *done)
{
	struct uffdio_zeropage z = { .range = { .start = dst, .len = len } };
	void *zeros;
	int ret;

	if (!hugetlb)
		return fill(u, UFFDIO_ZEROPAGE, &z, &z.range.start, NULL,
			    &z.range.len, &z.zeropage, done);
	/* untouched private anonymous memory reads as the zero page */
	zeros = u->ops->mmap(NULL, len, PROT_READ,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (zeros == MAP_FAILED) {
		ret = -errno;
		rp_err(u->log, "uffd: a %llu-byte zero buffer: %s",
		       (unsigned long long)len, strerror(-ret));
		*done = 0;
		return ret;
	}
	ret = uffd_copy(u, dst, zeros, len, 0, done);
	u->ops->munmap(zeros, len);
	return ret;
}

int uffd_continue(struct uffd *u, uint64_t dst, uint64_t len, int dontwake,
		  uint64_t *done)
{
	struct uffdio_continue c = {
		.range = { .start = dst, .len = len },
		.mode = dontwake ? UFFDIO_CONTINUE_MODE_DONTWAKE : 0,
	};

	return fill(u, UFFDIO_CONTINUE, &c, &c.range.start, NULL, &c.range.len,
		    &c.mapped, done);
}

int uffd_wake(struct uffd *u, uint64_t addr, uint64_t len)
{
	struct uffdio_range r = { .start = addr, .len = len };
	int err;

	if (!u->ops->ioctl(u->fd, UFFDIO_WAKE, &r))
		return 0;
	err = errno;
	rp_err(u->log, "uffd: wake %#llx+%llu: %s", (unsigned long long)addr,
	       (unsigned long long)len, strerror(err));
	return -err;
}

int uffd_wait_fault(struct uffd *u, int stop_fd, int timeout_ms,
		    uint64_t *addr)
{
	return uffd_wait_event(u, stop_fd, timeout_ms, addr, NULL);
}

int uffd_wait_event(struct uffd *u, int stop_fd, int timeout_ms,
		    uint64_t *addr, unsigned int *kind)
{
	struct pollfd p[2] = {
		{ .fd = u->fd, .events = POLLIN },
		{ .fd = stop_fd, .events = POLLIN },
	};
	struct uffd_msg msg;
	ssize_t n;
	int r;

	r = u->ops->poll(p, stop_fd >= 0 ? 2 : 1, timeout_ms);
	if (r < 0) {
		r = errno;
		if (r == EINTR)
			return 0;
		rp_err(u->log, "uffd: poll: %s", strerror(r));
		return -r;
	}
	if (stop_fd >= 0 && p[1].revents)
		return 2;
	if (!r || !(p[0].revents & (POLLIN | POLLERR | POLLHUP)))
		return 0;
	n = u->ops->read(u->fd, &msg, sizeof(msg));
	if (n < 0) {
		r = errno;
		if (r == EAGAIN || r == EINTR)
			return 0;
		rp_err(u->log, "uffd: read: %s", strerror(r));
		return -r;
	}
	if (n != sizeof(msg)) {
		rp_err(u->log, "uffd: read %zd bytes of an event", n);
		return -EIO;
	}
	if (msg.event != UFFD_EVENT_PAGEFAULT)
		return 0;
	*addr = msg.arg.pagefault.address;
	if (kind)
		*kind = (msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_MINOR ?
			 UFFD_FAULT_MINOR : UFFD_FAULT_MISSING) |
			(msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE ?
			 UFFD_FAULT_WRITE : 0);
	return 1;
}
