// SPDX-License-Identifier: LGPL-2.1-or-later
/* uffd.c: the public userfaultfd handle (rampool_uffd_*) over backend/uffd. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "../backend/uffd.h"
#include "pool.h"

struct rampool_uffd {
	struct uffd u;
	struct rp_log log;	/* the pool's, copied; empty without one */
};

#define UFFD_FLAGS (RAMPOOL_UFFD_HUGETLB | RAMPOOL_UFFD_SHMEM | \
		    RAMPOOL_UFFD_USER_ONLY)

int rampool_uffd_open(struct rampool_pool *pool, unsigned int flags,
		      struct rampool_uffd **out)
{
	unsigned int need = (flags & RAMPOOL_UFFD_HUGETLB ? UFFD_NEED_HUGETLB : 0) |
			    (flags & RAMPOOL_UFFD_SHMEM ? UFFD_NEED_SHMEM : 0) |
			    (flags & RAMPOOL_UFFD_USER_ONLY ? UFFD_USER_ONLY : 0);
	struct rampool_uffd *h;
	int ret;

	if (!out || flags & ~UFFD_FLAGS)
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	if (pool)
		h->log = pool->log;
	ret = uffd_open(need, NULL, &h->log, &h->u);
	if (ret) {
		free(h);
		return ret;
	}
	*out = h;
	return 0;
}

int rampool_uffd_fd(const struct rampool_uffd *uffd)
{
	return uffd->u.fd;
}

void rampool_uffd_free(struct rampool_uffd *uffd)
{
	if (!uffd)
		return;
	uffd_close(&uffd->u);
	free(uffd);
}

static int is_huge(uint64_t page_size)
{
	return page_size > (uint64_t)sysconf(_SC_PAGESIZE);
}

int rampool_uffd_register(struct rampool_uffd *uffd, void *addr,
			  uint64_t len, uint64_t page_size)
{
	if (!uffd || !len)
		return -EINVAL;
	return uffd_register(&uffd->u, (uint64_t)(uintptr_t)addr, len,
			     is_huge(page_size));
}

int rampool_uffd_unregister(struct rampool_uffd *uffd, void *addr,
			    uint64_t len)
{
	if (!uffd)
		return -EINVAL;
	return uffd_unregister(&uffd->u, (uint64_t)(uintptr_t)addr, len);
}

int rampool_uffd_copy(struct rampool_uffd *uffd, void *dst, const void *src,
		      uint64_t len, unsigned int flags)
{
	uint64_t done;

	if (!uffd || flags & ~RAMPOOL_UFFD_DONTWAKE)
		return -EINVAL;
	return uffd_copy(&uffd->u, (uint64_t)(uintptr_t)dst, src, len,
			 flags & RAMPOOL_UFFD_DONTWAKE, &done);
}

int rampool_uffd_zero(struct rampool_uffd *uffd, void *dst, uint64_t len,
		      uint64_t page_size)
{
	uint64_t done;

	if (!uffd)
		return -EINVAL;
	return uffd_zero(&uffd->u, (uint64_t)(uintptr_t)dst, len,
			 is_huge(page_size), &done);
}

int rampool_uffd_wake(struct rampool_uffd *uffd, void *addr, uint64_t len)
{
	if (!uffd)
		return -EINVAL;
	return uffd_wake(&uffd->u, (uint64_t)(uintptr_t)addr, len);
}
