/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* uffd.h: userfaultfd helpers for the postcopy destination (open, handshake, register, place, wake, read faults). */
#ifndef RP_UFFD_H
#define RP_UFFD_H

#include <poll.h>
#include <stdint.h>
#include <sys/types.h>

#include "log.h"

/* The calls uffd makes; unit tests swap them to drive error paths. */
struct uffd_ops {
	long (*userfaultfd)(int flags);		/* the syscall */
	int (*open)(const char *path, int flags);
	int (*ioctl)(int fd, unsigned long req, void *arg);
	ssize_t (*read)(int fd, void *buf, size_t n);
	int (*poll)(struct pollfd *fds, nfds_t n, int timeout_ms);
	int (*close)(int fd);
	void *(*mmap)(void *addr, size_t len, int prot, int flags, int fd,
		      off_t off);
	int (*munmap)(void *addr, size_t len);
};

extern const struct uffd_ops uffd_default_ops;

/* What the uffd must handle besides anonymous memory (open's need). */
#define UFFD_NEED_HUGETLB	(1u << 0)	/* MISSING_HUGETLBFS */
#define UFFD_NEED_SHMEM		(1u << 1)	/* MISSING_SHMEM */
/* faults from user space only (UFFD_USER_MODE_ONLY): not for KVM */
#define UFFD_USER_ONLY		(1u << 2)
/* minor faults too: MINOR_HUGETLBFS with NEED_HUGETLB, MINOR_SHMEM with
 * NEED_SHMEM (keep-pages postcopy) */
#define UFFD_NEED_MINOR		(1u << 3)

/* uffd_register_mode's modes */
#define UFFD_MODE_MISSING	(1u << 0)	/* a page not in the file */
#define UFFD_MODE_MINOR		(1u << 1)	/* in the file, not mapped */

struct uffd {
	int fd;
	uint64_t features;	/* granted by the handshake */
	const struct uffd_ops *ops;
	const struct rp_log *log;	/* outlives the uffd */
};

/*
 * Opens a uffd (O_CLOEXEC | O_NONBLOCK): the syscall, or, when the kernel
 * refuses it with EPERM (vm.unprivileged_userfaultfd = 0 and no
 * CAP_SYS_PTRACE), /dev/userfaultfd and USERFAULTFD_IOC_NEW. Then the API
 * handshake asking for the features need names. 0, or: -EOPNOTSUPP a
 * feature the kernel lacks (logged by name), or no userfaultfd at all
 * (ENOSYS); -EPERM / -EACCES neither way is allowed; -EMFILE, -ENOMEM.
 * Nothing is left open on failure; *out untouched.
 */
int uffd_open(unsigned int need, const struct uffd_ops *ops,
	      const struct rp_log *log, struct uffd *out);
void uffd_close(struct uffd *u);

/*
 * Registers [addr, addr + len) in MISSING mode. hugetlb: the range's pages
 * are huge (no zero page ioctl is asked for there). The kernel must offer
 * COPY and WAKE (and ZEROPAGE off hugetlb) on the range, else it is
 * unregistered again and -EOPNOTSUPP. The kernel's errnos (-EINVAL
 * unaligned or a mapping uffd cannot take, -EBUSY another uffd has it,
 * -ENOMEM).
 */
int uffd_register(struct uffd *u, uint64_t addr, uint64_t len, int hugetlb);
/*
 * The same in the modes given (UFFD_MODE_*, at least one). MINOR needs
 * the range to offer UFFDIO_CONTINUE (and WAKE), MISSING what
 * uffd_register asks; a lack is -EOPNOTSUPP, the range unregistered.
 * -EINVAL for no mode or an unknown one (nothing asked of the kernel).
 */
int uffd_register_mode(struct uffd *u, uint64_t addr, uint64_t len,
		       int hugetlb, unsigned int modes);
int uffd_unregister(struct uffd *u, uint64_t addr, uint64_t len);

/*
 * UFFDIO_COPY of len bytes from src to dst, resuming after partial copies
 * (EAGAIN). dontwake: leave the waiters asleep. *done: the bytes placed,
 * also on failure (the error is about the page at dst + *done). The
 * kernel's errnos: -EEXIST the page is there (on hugetlb also: the pool
 * ran dry, DESIGN fact 3), -ENOENT / -EINVAL the mapping changed or is
 * not registered, -ENOMEM, -EFAULT, -ESRCH; -EAGAIN when the kernel kept
 * refusing without progress.
 */
int uffd_copy(struct uffd *u, uint64_t dst, const void *src, uint64_t len,
	      int dontwake, uint64_t *done);

/*
 * Zero pages over [dst, dst + len): UFFDIO_ZEROPAGE, or on hugetlb (no
 * zero page ioctl there) a copy from a zero-filled read-only mapping.
 * *done and errnos as uffd_copy.
 */
int uffd_zero(struct uffd *u, uint64_t dst, uint64_t len, int hugetlb,
	      uint64_t *done);

/*
 * UFFDIO_CONTINUE over [dst, dst + len): maps the pages the file holds
 * there (a minor fault's answer), resuming after partial progress like
 * uffd_copy. *done: the bytes mapped. The kernel's errnos: -EEXIST a page
 * is mapped there already, -EFAULT the file holds no page there, -ENOENT /
 * -EINVAL the mapping changed or is not registered MINOR, -ENOMEM,
 * -ESRCH; -EAGAIN when the kernel kept refusing without progress.
 */
int uffd_continue(struct uffd *u, uint64_t dst, uint64_t len, int dontwake,
		  uint64_t *done);

int uffd_wake(struct uffd *u, uint64_t addr, uint64_t len);

/*
 * Waits for a fault event (poll on the uffd and on stop_fd, -1: none) at
 * most timeout_ms (-1: no limit). Returns 1 with *addr the faulting
 * address, 2 when stop_fd became readable (it is not read here), 0 when
 * nothing came (the time ran out, a signal, an event other than a page
 * fault, another reader took it): look at the clock and call again; or
 * -errno.
 */
int uffd_wait_fault(struct uffd *u, int stop_fd, int timeout_ms,
		    uint64_t *addr);

/* A fault event's kind (uffd_wait_event's *kind) */
#define UFFD_FAULT_MISSING	0	/* no page in the file */
#define UFFD_FAULT_MINOR	1	/* in the file, not mapped */
#define UFFD_FAULT_WRITE	(1u << 1)	/* or'ed in: a write */

/* uffd_wait_fault, also telling the fault's kind (kind may be NULL). */
int uffd_wait_event(struct uffd *u, int stop_fd, int timeout_ms,
		    uint64_t *addr, unsigned int *kind);

#endif
