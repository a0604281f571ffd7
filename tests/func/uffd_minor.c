// SPDX-License-Identifier: LGPL-2.1-or-later
/* uffd_minor.c: keep-pages postcopy (RAMPOOL_POSTCOPY_KEEP_PAGES) on 2M hugetlb and 4K shmem: every page placed carries the new data, no hugepage comes or goes, a page touched twice is served once, holes go through UFFDIO_COPY, resize with waiters, a dead source ends serve in time. */
#include <errno.h>
#include <sys/mman.h>

#include "rampool.h"
#include "../t_compat.h"
#include "t_uffd.h"

#define MB2 (2ULL << 20)
#define PAGES 8

struct served {
	struct rampool_block *blk;
	struct rampool_serve_opts o;
	pthread_t th;
	int ret;
	uint64_t ps;
	int async;		/* the source never answers (it died) */
	atomic_int calls, per_page[PAGES];
};

static int fetch(void *data, uint64_t off, void *buf, uint64_t len,
		 int timeout_ms)
{
	struct served *s = data;

	(void)timeout_ms;
	T_EQ(len, s->ps);
	T_ASSERT(off / len < PAGES);
	atomic_fetch_add(&s->calls, 1);
	atomic_fetch_add(&s->per_page[off / len], 1);
	if (s->async)
		return RAMPOOL_FETCH_ASYNC;
	t_pattern(buf, len, (unsigned char)(0x40 + off / len));
	return 0;
}

static void *serve_fn(void *arg)
{
	struct served *s = arg;

	s->ret = rampool_block_serve(s->blk, &s->o);
	return NULL;
}

static void serve_start(struct served *s, struct rampool_block *blk,
			uint64_t ps, int async, unsigned int timeout_ms)
{
	memset(s, 0, sizeof(*s));
	s->blk = blk;
	s->ps = ps;
	s->async = async;
	s->o = (struct rampool_serve_opts){ .sz = sizeof(s->o), .fetch = fetch,
					    .data = s,
					    .timeout_ms = timeout_ms };
	T_EQ(pthread_create(&s->th, NULL, serve_fn, s), 0);
}

static int serve_join(struct served *s)
{
	T_EQ(pthread_join(s->th, NULL), 0);
	return s->ret;
}

static struct rampool_block *block(struct rampool_pool *pool, int backing,
				   uint64_t ps, uint64_t size, uint64_t max,
				   bool prealloc)
{
	struct rampool_block_opts o = {
		.sz = sizeof(o),
		.size = size,
		.max_size = max,
		.backing = backing,
		.flags = prealloc ? RAMPOOL_BLOCK_PREALLOC : 0,
	};
	struct rampool_block *blk;

	T_EQ(rampool_block_new(pool, &o, &blk), 0);
	if (prealloc)
		memset(rampool_block_addr(blk), 0x11, max ? max : size);
	(void)ps;
	return blk;
}

static unsigned int mode_of(struct rampool_block *blk)
{
	struct rampool_block_info i = { .sz = sizeof(i) };

	T_EQ(rampool_block_info(blk, &i), 0);
	return i.postcopy_mode;
}

/* Every page: placed ahead, or faulted (twice) and served; data checked. */
static void data(struct rampool_pool *pool, int backing, uint64_t ps)
{
	struct rampool_block *blk = block(pool, backing, ps, PAGES * ps, 0,
					  true);
	struct rampool_postcopy_stats st = { .sz = sizeof(st) };
	unsigned char *a = rampool_block_addr(blk), *buf = malloc(ps);
	struct t_hcount h0, h;
	struct t_toucher t;
	struct served s;
	int fd;

	T_ASSERT(buf);
	T_EQ(mode_of(blk), RAMPOOL_POSTCOPY_MODE_NONE);
	T_EQ(rampool_block_prepare_postcopy(blk, RAMPOOL_POSTCOPY_KEEP_PAGES |
					    RAMPOOL_POSTCOPY_RELEASE, &fd),
	     -EINVAL);
	t_hcount(MB2, -1, &h0);
	T_EQ(rampool_block_prepare_postcopy(blk, RAMPOOL_POSTCOPY_KEEP_PAGES,
					    &fd), 0);
	T_EQ(mode_of(blk), RAMPOOL_POSTCOPY_MODE_KEEP);
	T_EQ(rampool_block_populated(blk), PAGES * ps);	/* nothing left */
	t_hcount(MB2, -1, &h);
	T_HCOUNT_EQ(h, h0);
	/* the first two pages pushed before any fault, one of them zeros */
	t_pattern(buf, ps, 0xa0);
	T_EQ(rampool_block_place(blk, 0, buf, ps), 0);
	T_EQ(rampool_block_place(blk, ps, NULL, ps), 0);
	T_EQ(a[0], 0xa0);
	T_EQ(a[ps - 1], 0xa0);
	T_EQ(a[ps], 0);
	T_EQ(a[2 * ps - 1], 0);
	/* the guest writes a received page; a late copy never overwrites it */
	a[0] = 0xee;
	T_EQ(rampool_block_place(blk, 0, buf, ps), -EEXIST);
	T_EQ(a[0], 0xee);
	/* the rest on demand, each page touched twice */
	serve_start(&s, blk, ps, 0, 5000);
	for (int k = 0; k < 2; k++)
		for (int i = 2; i < PAGES; i++) {
			t_touch_start(&t, a + i * ps, ps);
			t_touch_join(&t, 5000);
			T_EQ(t.first, 0x40 + i);
			T_EQ(t.last, 0x40 + i);
		}
	T_EQ(serve_join(&s), 0);
	T_EQ(atomic_load(&s.calls), PAGES - 2);
	for (int i = 2; i < PAGES; i++)
		T_EQ(atomic_load(&s.per_page[i]), 1);
	T_EQ(rampool_block_postcopy_stats(blk, &st), 0);
	T_EQ(st.received, PAGES * ps);
	T_EQ(st.placed, PAGES * ps);
	T_EQ(st.already, 1);
	T_EQ(st.faults, PAGES - 2);
	for (int i = 2; i < PAGES; i++)
		for (uint64_t b = 0; b < ps; b += 512)
			T_EQ(a[i * ps + b], 0x40 + i);
	T_EQ(rampool_block_postcopy_end(blk), 0);
	T_EQ(mode_of(blk), RAMPOOL_POSTCOPY_MODE_NONE);
	t_hcount(MB2, -1, &h);
	T_HCOUNT_EQ(h, h0);
	T_EQ(rampool_block_populated(blk), PAGES * ps);
	rampool_block_free(blk);
	free(buf);
}

/* A sparse block: the holes fault MISSING and get UFFDIO_COPY. */
static void holes(struct rampool_pool *pool, int backing, uint64_t ps)
{
	struct rampool_block *blk = block(pool, backing, ps, PAGES * ps, 0,
					  false);
	unsigned char *a = rampool_block_addr(blk), *buf = malloc(ps);
	struct t_toucher t;
	int fd;

	T_ASSERT(buf);
	/* pages 0-3 populated, 4-7 holes */
	T_EQ(rampool_block_populate(blk, 0, 4 * ps), 0);
	memset(a, 0x11, 4 * ps);
	T_EQ(rampool_block_prepare_postcopy(blk, RAMPOOL_POSTCOPY_KEEP_PAGES,
					    &fd), 0);
	T_EQ(rampool_block_populated(blk), 4 * ps);
	/* one placement over both kinds */
	for (int i = 2; i < 6; i++) {
		t_pattern(buf, ps, (unsigned char)(0x60 + i));
		T_EQ(rampool_block_place(blk, (uint64_t)i * ps, buf, ps), 0);
	}
	T_EQ(rampool_block_populated(blk), 6 * ps);
	for (int i = 2; i < 6; i++)
		T_EQ(a[(uint64_t)i * ps + ps - 1], 0x60 + i);
	/* a hole's waiter is served by a zero placement */
	t_touch_start(&t, a + 7 * ps, ps);
	T_EQ(t_uffd_fault(fd, 5000) & ~(ps - 1),
	     (uint64_t)(uintptr_t)(a + 7 * ps));
	T_EQ(rampool_block_place(blk, 7 * ps, NULL, ps), 0);
	t_touch_join(&t, 5000);
	T_EQ(t.first, 0);
	/* a populated page's waiter too */
	t_touch_start(&t, a, ps);
	T_EQ(t_uffd_fault(fd, 5000) & ~(ps - 1), (uint64_t)(uintptr_t)a);
	t_pattern(buf, ps, 0x5a);
	T_EQ(rampool_block_place(blk, 0, buf, ps), 0);
	t_touch_join(&t, 5000);
	T_EQ(t.first, 0x5a);
	T_EQ(rampool_block_received(blk), 6 * ps);
	rampool_block_free(blk);
	free(buf);
}

/* Resize while threads wait (seed 003) in keep-pages mode. */
static void resize(struct rampool_pool *pool, struct t_log *lg, int backing,
		   uint64_t ps)
{
	struct rampool_block *blk = block(pool, backing, ps, 4 * ps,
					  PAGES * ps, true);
	struct rampool_postcopy_stats st = { .sz = sizeof(st) };
	unsigned char *a = rampool_block_addr(blk), *buf = malloc(ps);
	uint64_t base = (uint64_t)(uintptr_t)a;
	struct t_toucher in, tail, grown;
	struct t_hcount h0, h;
	int fd;

	T_ASSERT(buf);
	t_hcount(MB2, -1, &h0);
	T_EQ(rampool_block_prepare_postcopy(blk, RAMPOOL_POSTCOPY_KEEP_PAGES,
					    &fd), 0);
	T_EQ(rampool_block_received(blk), (PAGES - 4) * ps);
	t_touch_start(&in, a + ps, ps);
	T_EQ(t_uffd_fault(fd, 5000) & ~(ps - 1), base + ps);
	t_touch_start(&tail, a + 3 * ps, ps);
	T_EQ(t_uffd_fault(fd, 5000) & ~(ps - 1), base + 3 * ps);
	/* shrink: the tail's waiter goes on and sees the kept page */
	T_EQ(rampool_block_resize(blk, 2 * ps), 0);
	t_touch_join(&tail, 5000);
	T_EQ(tail.first, 0x11);
	T_EQ(rampool_block_received(blk), (PAGES - 2) * ps);
	T_ASSERT(!atomic_load(&in.done));
	/* a page for the vanished range: consumed, nothing written */
	t_log_reset(lg);
	t_pattern(buf, ps, 0x99);
	T_EQ(rampool_block_place(blk, 2 * ps, buf, ps), 0);
	T_EQ(t_logged(lg, RAMPOOL_LOG_WARN, "changed under a placement"), 1);
	T_EQ(a[2 * ps], 0x11);
	/* grow: the tail faults again (zapped, not punched) */
	T_EQ(rampool_block_resize(blk, 6 * ps), 0);
	T_EQ(rampool_block_received(blk), (PAGES - 6) * ps);
	t_touch_start(&grown, a + 3 * ps, ps);
	T_EQ(t_uffd_fault(fd, 5000) & ~(ps - 1), base + 3 * ps);
	t_pattern(buf, ps, 0x3c);
	T_EQ(rampool_block_place(blk, 3 * ps, buf, ps), 0);
	t_touch_join(&grown, 5000);
	T_EQ(grown.first, 0x3c);
	T_ASSERT(!atomic_load(&in.done));
	t_pattern(buf, ps, 0x4d);
	T_EQ(rampool_block_place(blk, ps, buf, ps), 0);
	t_touch_join(&in, 5000);
	T_EQ(in.first, 0x4d);
	T_EQ(rampool_block_received(blk), (PAGES - 6 + 2) * ps);
	T_EQ(rampool_block_postcopy_stats(blk, &st), 0);
	T_EQ(st.vanished, ps);
	T_EQ(st.placed, 2 * ps);
	/*
	 * Page 4: past the used length at creation, so never populated as
	 * far as the block knows, but the memset above put it in the file:
	 * UFFDIO_COPY says EEXIST, and it is placed through the alias.
	 */
	T_EQ(rampool_block_populated(blk), 4 * ps);
	t_log_reset(lg);
	t_pattern(buf, ps, 0x5b);
	T_EQ(rampool_block_place(blk, 4 * ps, buf, ps), 0);
	T_EQ(t_logged(lg, RAMPOOL_LOG_ERR, ""), 0);
	T_EQ(a[4 * ps], 0x5b);
	T_EQ(a[5 * ps - 1], 0x5b);
	T_EQ(rampool_block_populated(blk), 5 * ps);
	T_EQ(rampool_block_received(blk), (PAGES - 6 + 3) * ps);
	T_EQ(rampool_block_resize(blk, PAGES * ps), 0);
	T_EQ(rampool_block_received(blk), 3 * ps);
	t_hcount(MB2, -1, &h);
	T_HCOUNT_EQ(h, h0);
	t_uffd_quiet(fd, 10);
	rampool_block_free(blk);
	free(buf);
}

/* The source died: serve gives up in time, postcopy_end frees the waiter. */
static void dead_source(struct rampool_pool *pool, int backing, uint64_t ps)
{
	struct rampool_block *blk = block(pool, backing, ps, PAGES * ps, 0,
					  true);
	unsigned char *a = rampool_block_addr(blk);
	struct timespec t0, t1;
	struct t_toucher t;
	struct served s;
	int64_t ms;
	int fd;

	T_EQ(rampool_block_prepare_postcopy(blk, RAMPOOL_POSTCOPY_KEEP_PAGES,
					    &fd), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	serve_start(&s, blk, ps, 1, 300);
	t_touch_start(&t, a + 5 * ps, ps);
	T_EQ(serve_join(&s), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	T_ASSERT(ms >= 300 && ms < 3000);
	T_EQ(atomic_load(&s.calls), 1);
	T_ASSERT(!atomic_load(&t.done));
	/* the VMM gives up: the waiter sees the page the file kept */
	T_EQ(rampool_block_postcopy_end(blk), 0);
	t_touch_join(&t, 5000);
	T_EQ(t.first, 0x11);
	rampool_block_free(blk);
}

static void all(struct rampool_pool *pool, struct t_log *lg, int backing,
		uint64_t ps)
{
	struct t_state s;

	t_state_snap(&s);
	data(pool, backing, ps);
	t_state_same(&s);
	holes(pool, backing, ps);
	t_state_same(&s);
	resize(pool, lg, backing, ps);
	t_state_same(&s);
	dead_source(pool, backing, ps);
	t_state_same(&s);
}

int main(void)
{
	static struct t_log lg = T_LOG_INIT;
	struct rampool_pool *pool;

	t_uffd_not_under_valgrind();
	pool = t_uffd_pool(&lg);
	t_minor_or_skip(pool, RAMPOOL_BACKING_MEMFD, 4096);
	all(pool, &lg, RAMPOOL_BACKING_MEMFD, 4096);
	t_hugepages_ensure_free(MB2, PAGES + 2);
	t_minor_or_skip(pool, RAMPOOL_BACKING_MEMFD_HUGETLB, MB2);
	all(pool, &lg, RAMPOOL_BACKING_MEMFD_HUGETLB, MB2);
	rampool_pool_free(pool);
	printf("uffd_minor: keep-pages postcopy places every page through "
	       "UFFDIO_CONTINUE (holes through UFFDIO_COPY) with no hugepage "
	       "coming or going; resize and a dead source work as in "
	       "discard mode\n");
	return 0;
}
