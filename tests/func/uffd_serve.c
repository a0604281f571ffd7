// SPDX-License-Identifier: LGPL-2.1-or-later
/* uffd_serve.c: rampool_block_serve in a thread: pages fetched by a callback (now or placed later by another thread) reach the touchers; stop ends it; a fault not served in time ends it with -ETIMEDOUT. */
#include <errno.h>
#include <sys/mman.h>

#include "rampool.h"
#include "../t_compat.h"
#include "t_uffd.h"

#define PS 4096ULL
#define PAGES 16

struct served {
	struct rampool_block *blk;
	struct rampool_serve_opts o;
	pthread_t th;
	int ret;
	atomic_bool done;
	/* the callback's */
	int mode;		/* 0: fill, 1: ASYNC, 2: sleep then fill */
	atomic_int calls;
	atomic_ullong last;	/* the last offset asked for */
};

static int fetch(void *data, uint64_t off, void *buf, uint64_t len,
		 int timeout_ms)
{
	struct served *s = data;

	T_EQ(len, PS);
	T_EQ(timeout_ms, s->o.timeout_ms ? (int)s->o.timeout_ms : -1);
	atomic_fetch_add(&s->calls, 1);
	atomic_store(&s->last, off);
	if (s->mode == 1)
		return RAMPOOL_FETCH_ASYNC;
	if (s->mode == 2)
		usleep(300 * 1000);
	memset(buf, (int)(0x40 + off / PS), len);
	return 0;
}

static void *serve_fn(void *arg)
{
	struct served *s = arg;

	s->ret = rampool_block_serve(s->blk, &s->o);
	atomic_store(&s->done, true);
	return NULL;
}

static void serve_start(struct served *s, struct rampool_block *blk,
			int mode, unsigned int timeout_ms)
{
	memset(s, 0, sizeof(*s));
	s->blk = blk;
	s->mode = mode;
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

static struct rampool_block *prepared(struct rampool_pool *pool)
{
	struct rampool_block_opts o = {
		.sz = sizeof(o),
		.size = PAGES * PS,
		.flags = RAMPOOL_BLOCK_PREALLOC,
	};
	struct rampool_block *blk;
	int fd;

	T_EQ(rampool_block_new(pool, &o, &blk), 0);
	T_EQ(rampool_block_prepare_postcopy(blk, 0, &fd), 0);
	return blk;
}

static int64_t ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* one toucher reads every page: served, and the loop ends complete */
static void served_all(struct rampool_pool *pool)
{
	struct rampool_block *blk = prepared(pool);
	struct rampool_postcopy_stats st = { .sz = sizeof(st) };
	unsigned char *a = rampool_block_addr(blk);
	struct served s;
	struct t_toucher t;

	serve_start(&s, blk, 0, 2000);
	for (int i = 0; i < PAGES; i++) {
		t_touch_start(&t, a + i * PS, PS);
		t_touch_join(&t, 5000);
		T_EQ(t.first, 0x40 + i);
		T_EQ(t.last, 0x40 + i);
	}
	T_EQ(serve_join(&s), 0);
	T_EQ(atomic_load(&s.calls), PAGES);
	T_EQ(rampool_block_postcopy_stats(blk, &st), 0);
	T_EQ(st.received, PAGES * PS);
	T_EQ(st.placed, PAGES * PS);
	T_EQ(st.faults, PAGES);
	/* complete: a new serve returns at once */
	serve_start(&s, blk, 0, 0);
	T_EQ(serve_join(&s), 0);
	T_EQ(atomic_load(&s.calls), 0);
	rampool_block_free(blk);
}

/* ASYNC: another thread places what was asked; then stop */
static void async_and_stop(struct rampool_pool *pool)
{
	struct rampool_block *blk = prepared(pool);
	unsigned char *a = rampool_block_addr(blk), buf[PS];
	struct served s, s2;
	struct t_toucher t;
	struct rampool_serve_opts bad = { .sz = 4, .fetch = fetch };

	T_EQ(rampool_block_serve(blk, &bad), -EINVAL);
	bad.sz = sizeof(bad);
	bad.fetch = NULL;
	T_EQ(rampool_block_serve(blk, &bad), -EINVAL);
	serve_start(&s, blk, 1, 5000);
	t_touch_start(&t, a + 5 * PS, PS);
	while (!atomic_load(&s.calls))
		usleep(1000);
	T_EQ(atomic_load(&s.last), 5 * PS);
	usleep(50 * 1000);
	T_ASSERT(!atomic_load(&t.done));
	/* a second loop on the same block is refused */
	serve_start(&s2, blk, 0, 0);
	T_EQ(serve_join(&s2), -EBUSY);
	memset(buf, 0x66, PS);
	T_EQ(rampool_block_place(blk, 5 * PS, buf, PS), 0);
	t_touch_join(&t, 5000);
	T_EQ(t.first, 0x66);
	usleep(50 * 1000);
	T_ASSERT(!atomic_load(&s.done));	/* placed in time: runs on */
	rampool_block_serve_stop(blk);
	T_EQ(serve_join(&s), -ECANCELED);
	/* a stop before the loop starts ends it at once */
	rampool_block_serve_stop(blk);
	serve_start(&s, blk, 0, 0);
	T_EQ(serve_join(&s), -ECANCELED);
	T_EQ(rampool_block_received(blk), PS);
	rampool_block_free(blk);
}

/* a dead source: nobody places the page; a slow fetch */
static void timeouts(struct rampool_pool *pool)
{
	struct rampool_block *blk = prepared(pool);
	unsigned char *a = rampool_block_addr(blk);
	struct timespec t0;
	struct served s;
	struct t_toucher t;
	int64_t ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	serve_start(&s, blk, 1, 200);
	t_touch_start(&t, a + 2 * PS, PS);
	T_EQ(serve_join(&s), -ETIMEDOUT);
	ms = ms_since(&t0);
	T_ASSERT(ms >= 200 && ms < 3000);
	/* the VMM decides; here it places zeros and the toucher goes on */
	T_ASSERT(!atomic_load(&t.done));
	T_EQ(rampool_block_place(blk, 2 * PS, NULL, PS), 0);
	t_touch_join(&t, 5000);
	T_EQ(t.first, 0);
	/* a fetch slower than the limit: placed, then -ETIMEDOUT */
	serve_start(&s, blk, 2, 100);
	t_touch_start(&t, a + 7 * PS, PS);
	T_EQ(serve_join(&s), -ETIMEDOUT);
	t_touch_join(&t, 5000);
	T_EQ(t.first, 0x47);
	rampool_block_free(blk);
}

int main(void)
{
	static struct t_log lg = T_LOG_INIT;
	struct rampool_pool_opts po = {
		.sz = sizeof(po),
		.log_fn = t_log_fn,
		.log_data = &lg,
	};
	struct rampool_pool *pool;
	struct t_state s;

	t_uffd_not_under_valgrind();
	T_EQ(rampool_pool_new(&po, &pool), 0);
	t_state_snap(&s);
	served_all(pool);
	async_and_stop(pool);
	timeouts(pool);
	t_state_same(&s);
	T_EQ(t_logged(&lg, RAMPOOL_LOG_ERR, "was not placed within 200 ms"), 1);
	T_EQ(t_logged(&lg, RAMPOOL_LOG_ERR, "took more than 100 ms"), 1);
	rampool_block_free(NULL);
	rampool_pool_free(pool);
	printf("uffd_serve: faults served by a callback, async placements, "
	       "stop and time limits\n");
	return 0;
}
