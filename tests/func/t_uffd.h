/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* t_uffd.h: helpers of the userfaultfd tests: a thread that touches a page and says when it got past it, and the fault event a test waits for. */
#ifndef T_UFFD_H
#define T_UFFD_H

#include <errno.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rampool.h"
#include "../t_compat.h"
#include "t_util.h"

/* A thread reading the first and last byte of a page. */
struct t_toucher {
	pthread_t th;
	volatile unsigned char *page;
	uint64_t page_size;
	unsigned char first, last;	/* what it read */
	atomic_bool done;
};

static void *t_touch_fn(void *arg)
{
	struct t_toucher *t = arg;

	t->first = t->page[0];
	t->last = t->page[t->page_size - 1];
	atomic_store(&t->done, true);
	return NULL;
}

static inline void t_touch_start(struct t_toucher *t, void *page,
				 uint64_t page_size)
{
	memset(t, 0, sizeof(*t));
	t->page = page;
	t->page_size = page_size;
	T_EQ(pthread_create(&t->th, NULL, t_touch_fn, t), 0);
}

/* Joins the toucher; fails the test if it is still blocked after ms. */
static inline void t_touch_join(struct t_toucher *t, int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	if (pthread_timedjoin_np(t->th, NULL, &ts))
		T_FAIL("a toucher is still stuck after %d ms", ms);
	T_ASSERT(atomic_load(&t->done));
}

/* The next fault event's address on fd within ms; fails the test else. */
static inline uint64_t t_uffd_fault(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct uffd_msg msg;

	for (;;) {
		int r = poll(&p, 1, ms);

		if (r < 0 && errno == EINTR)
			continue;
		if (r != 1)
			T_FAIL("no fault event within %d ms", ms);
		if (read(fd, &msg, sizeof(msg)) == (ssize_t)sizeof(msg))
			break;
		T_ASSERT(errno == EAGAIN);
	}
	T_EQ(msg.event, UFFD_EVENT_PAGEFAULT);
	return msg.arg.pagefault.address;
}

/* No fault event for ms. */
static inline void t_uffd_quiet(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	T_EQ(poll(&p, 1, ms), 0);
}

/* A page of page_size bytes of value v, the page index in its first 8. */
static inline void t_pattern(unsigned char *buf, uint64_t page_size,
			     unsigned char v)
{
	memset(buf, v, page_size);
}

/*
 * Under valgrind a thread blocked in a userfaultfd fault holds valgrind's
 * one lock, so the thread that would serve the fault never runs: the test
 * would hang. make check VALGRIND=1 runs it without (the library's uffd
 * code is checked under ASan by make check SANITIZE=1 instead).
 */
static inline void t_uffd_not_under_valgrind(void)
{
	const char *v = getenv("VALGRIND");

	if (v && !strcmp(v, "1"))
		t_skip("userfaultfd faults deadlock under valgrind (it runs "
		       "one thread at a time); SANITIZE=1 covers this code");
}

/*
 * Skips the test when the kernel has no minor faults for backing's memory
 * (keep-pages mode: MINOR_HUGETLBFS 5.13, MINOR_SHMEM 5.14): a block of
 * one page is prepared in keep-pages mode and freed.
 */
static inline void t_minor_or_skip(struct rampool_pool *pool, int backing,
				   uint64_t page_size)
{
	struct rampool_block_opts o = {
		.sz = sizeof(o),
		.size = page_size,
		.backing = backing,
	};
	struct rampool_block *blk;
	int fd, ret;

	T_EQ(rampool_block_new(pool, &o, &blk), 0);
	ret = rampool_block_prepare_postcopy(blk, RAMPOOL_POSTCOPY_KEEP_PAGES,
					     &fd);
	rampool_block_free(blk);
	if (ret == -EOPNOTSUPP)
		t_skip("no userfaultfd minor faults for %s here",
		       page_size > 4096 ? "hugetlb" : "shmem");
	T_EQ(ret, 0);
}

/* A pool on the default state whose messages go to lg (debug level). */
static inline struct rampool_pool *t_uffd_pool(struct t_log *lg)
{
	struct rampool_pool_opts po = {
		.sz = sizeof(po),
		.log_fn = t_log_fn,
		.log_data = lg,
		.log_level = RAMPOOL_LOG_DEBUG,
	};
	struct rampool_pool *pool = NULL;

	T_EQ(rampool_pool_new(&po, &pool), 0);
	return pool;
}

#endif
