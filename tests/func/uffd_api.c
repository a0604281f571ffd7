// SPDX-License-Identifier: LGPL-2.1-or-later
/* uffd_api.c: the rampool_uffd_* calls on the real kernel, over memory rampool did not make: a 2M hugetlb memfd and a 4K shmem memfd, faults, copies, zero pages, wake, bad input. */
#include <errno.h>
#include <sys/mman.h>

#include "rampool.h"
#include "t_uffd.h"

#define MB2 (2ULL << 20)

static void check(struct rampool_uffd *u, uint64_t ps, unsigned int mfd)
{
	int fd = memfd_create("uffd_api", MFD_CLOEXEC | mfd), ufd;
	unsigned char *a, *buf = malloc(ps);
	struct t_toucher t;

	T_ASSERT(fd >= 0 && buf);
	T_EQ(ftruncate(fd, (off_t)(4 * ps)), 0);
	a = mmap(NULL, 4 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	T_ASSERT(a != MAP_FAILED);
	ufd = rampool_uffd_fd(u);
	T_ASSERT(ufd >= 0);
	if (ps > 4096)		/* hugetlb: aligned to its pages */
		T_EQ(rampool_uffd_register(u, a + 4096, ps, ps), -EINVAL);
	T_EQ(rampool_uffd_register(u, a, 0, ps), -EINVAL);
	T_EQ(rampool_uffd_register(u, a, 3 * ps, ps), 0);
	/* a fault, a copy: the toucher goes on with the data */
	t_touch_start(&t, a + ps, ps);
	T_EQ(t_uffd_fault(ufd, 5000) & ~(ps - 1), (uint64_t)(uintptr_t)(a + ps));
	memset(buf, 0x21, ps);
	T_EQ(rampool_uffd_copy(u, a + ps, buf, ps, 2), -EINVAL);
	T_EQ(rampool_uffd_copy(u, a + ps, buf, ps, 0), 0);
	t_touch_join(&t, 5000);
	T_EQ(t.last, 0x21);
	T_EQ(rampool_uffd_copy(u, a + ps, buf, ps, 0), -EEXIST);
	/* DONTWAKE: the toucher sleeps until woken */
	t_touch_start(&t, a, ps);
	t_uffd_fault(ufd, 5000);
	memset(buf, 0x22, ps);
	T_EQ(rampool_uffd_copy(u, a, buf, ps, RAMPOOL_UFFD_DONTWAKE), 0);
	usleep(50 * 1000);
	T_ASSERT(!atomic_load(&t.done));
	T_EQ(rampool_uffd_wake(u, a, ps), 0);
	t_touch_join(&t, 5000);
	T_EQ(t.first, 0x22);
	/* zero pages (on hugetlb a copy from zeros) */
	T_EQ(rampool_uffd_zero(u, a + 2 * ps, ps, ps), 0);
	T_EQ(a[2 * ps], 0);
	T_EQ(a[3 * ps - 1], 0);
	T_EQ(rampool_uffd_zero(u, a + 2 * ps, ps, ps), -EEXIST);
	/* past the registration: not registered */
	T_EQ(rampool_uffd_copy(u, a + 3 * ps, buf, ps, 0), -ENOENT);
	T_EQ(rampool_uffd_wake(u, a + 3 * ps, ps), 0);
	T_EQ(rampool_uffd_unregister(u, a, 3 * ps), 0);
	T_EQ(rampool_uffd_copy(u, a, buf, ps, 0), -ENOENT);
	t_uffd_quiet(ufd, 10);
	munmap(a, 4 * ps);
	close(fd);
	free(buf);
}

int main(void)
{
	struct rampool_uffd *u = NULL, *v = (void *)1;
	struct t_state s;

	t_uffd_not_under_valgrind();
	T_EQ(rampool_uffd_open(NULL, 1u << 5, &v), -EINVAL);
	T_ASSERT(v == (void *)1);	/* untouched */
	T_EQ(rampool_uffd_open(NULL, 0, NULL), -EINVAL);
	T_EQ(rampool_uffd_copy(NULL, NULL, NULL, 0, 0), -EINVAL);
	rampool_uffd_free(NULL);
	t_hugepages_ensure_free(MB2, 4);
	t_state_snap(&s);
	T_EQ(rampool_uffd_open(NULL, RAMPOOL_UFFD_HUGETLB | RAMPOOL_UFFD_SHMEM,
			       &u), 0);
	check(u, 4096, 0);
	check(u, MB2, MFD_HUGETLB);
	rampool_uffd_free(u);
	t_state_same(&s);
	/* user-mode only: still serves a user-space toucher */
	T_EQ(rampool_uffd_open(NULL, RAMPOOL_UFFD_SHMEM |
			       RAMPOOL_UFFD_USER_ONLY, &u), 0);
	check(u, 4096, 0);
	rampool_uffd_free(u);
	t_state_same(&s);
	printf("uffd_api: open, register, copy, zero, wake, unregister on 4K "
	       "shmem and 2M hugetlb memfds\n");
	return 0;
}
