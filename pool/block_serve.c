// SPDX-License-Identifier: LGPL-2.1-or-later
/* block_serve.c: the fault-serving loop a VMM runs in a thread: faults in, pages fetched, placed and woken, a time limit per fault. */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "../backend/bitmap.h"
#include "../backend/uffd.h"
#include "block.h"
#include "block_uffd.h"
#include "opts.h"
#include "pool.h"

/* A fault whose page was asked for (RAMPOOL_FETCH_ASYNC) and not placed. */
struct pending {
	uint64_t page;
	int64_t deadline;	/* ns, CLOCK_MONOTONIC; INT64_MAX: none */
};

struct serve {
	struct rampool_block *blk;
	struct block_pc *pc;
	rampool_fetch_fn fetch;
	void *data;
	unsigned int timeout_ms;
	void *buf;		/* one page */
	struct pending *p;
	size_t n, cap;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t deadline_of(const struct serve *s)
{
	return s->timeout_ms ? now_ns() + (int64_t)s->timeout_ms * 1000000
			     : INT64_MAX;
}

static bool received(struct serve *s, uint64_t page)
{
	bool r;

	pthread_mutex_lock(&s->pc->lock);
	r = bitmap_test(s->pc->received, page);
	pthread_mutex_unlock(&s->pc->lock);
	return r;
}

static bool complete(struct serve *s)
{
	uint64_t n;

	pthread_mutex_lock(&s->pc->lock);
	n = bitmap_count(s->pc->received, 0, s->blk->npages);
	pthread_mutex_unlock(&s->pc->lock);
	return n == s->blk->npages;
}

/*
 * Drops the pending pages placed since; -ETIMEDOUT when one is past its
 * deadline, else the poll timeout (ms) until the earliest (-1: none).
 */
static int sweep(struct serve *s)
{
	int64_t now = now_ns(), first = INT64_MAX;
	size_t k = 0;

	for (size_t i = 0; i < s->n; i++) {
		if (received(s, s->p[i].page))
			continue;
		if (s->p[i].deadline <= now) {
			rp_err(&s->blk->pool->log, "block: serve: the page at "
			       "%llu was not placed within %u ms",
			       (unsigned long long)(s->p[i].page *
						    s->blk->page_size),
			       s->timeout_ms);
			return -ETIMEDOUT;
		}
		if (s->p[i].deadline < first)
			first = s->p[i].deadline;
		s->p[k++] = s->p[i];
	}
	s->n = k;
	if (first == INT64_MAX)
		return -1;
	return (int)((first - now + 999999) / 1000000);
}

static int add_pending(struct serve *s, uint64_t page, int64_t deadline)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->p[i].page == page)
			return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct pending *p = realloc(s->p, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		s->p = p;
		s->cap = cap;
	}
	s->p[s->n++] = (struct pending){ .page = page, .deadline = deadline };
	return 0;
}

/* One fault at addr: 0 to go on, else the loop's result. */
static int on_fault(struct serve *s, uint64_t addr)
{
	struct rampool_block *blk = s->blk;
	uint64_t start = (uint64_t)(uintptr_t)blk->b.addr, page, ps;
	int64_t deadline;
	int ret;

	ps = blk->page_size;
	if (addr < start || addr - start >= blk->max_size)
		return 0;
	page = (addr - start) / ps;
	pthread_mutex_lock(&s->pc->lock);
	s->pc->st.faults++;
	pthread_mutex_unlock(&s->pc->lock);
	if (received(s, page))
		/* placed meanwhile, or past the used length now */
		return uffd_wake(&s->pc->u, start + page * ps, ps);
	for (size_t i = 0; i < s->n; i++)
		if (s->p[i].page == page)
			return 0;
	deadline = deadline_of(s);
	ret = s->fetch(s->data, page * ps, s->buf, ps,
		       s->timeout_ms ? (int)s->timeout_ms : -1);
	if (ret == RAMPOOL_FETCH_ASYNC)
		return add_pending(s, page, deadline);
	if (ret < 0)
		return ret;
	if (ret > 0)
		return -EINVAL;
	ret = rampool_block_place(blk, page * ps, s->buf, ps);
	if (ret && ret != -EEXIST)
		return ret;
	if (now_ns() > deadline) {
		rp_err(&blk->pool->log, "block: serve: fetching the page at "
		       "%llu took more than %u ms", (unsigned long long)(page * ps),
		       s->timeout_ms);
		return -ETIMEDOUT;
	}
	return 0;
}

/* Empties the kick eventfd; -ECANCELED when it was a stop. */
static int on_kick(struct serve *s)
{
	uint64_t v;

	if (read(s->pc->kick_fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: another reader got it */
	}
	return atomic_exchange(&s->pc->stop, false) ? -ECANCELED : 0;
}

static int serve_loop(struct serve *s)
{
	uint64_t addr;
	int ret, timeout;

	for (;;) {
		if (complete(s))
			return 0;
		timeout = sweep(s);
		if (timeout == -ETIMEDOUT)
			return timeout;
		ret = uffd_wait_fault(&s->pc->u, s->pc->kick_fd, timeout,
				      &addr);
		if (ret == 2)
			ret = on_kick(s);
		else if (ret == 1)
			ret = on_fault(s, addr);
		if (ret < 0)
			return ret;
	}
}

int rampool_block_serve(struct rampool_block *blk,
			const struct rampool_serve_opts *opts)
{
	struct serve s = { .blk = blk };
	int ret;

	if (!blk || !opts || OPTS_VALID(opts, struct rampool_serve_opts,
					timeout_ms) || !opts->fetch ||
	    opts->timeout_ms > INT32_MAX / 2)
		return -EINVAL;
	if (!blk->pc || blk->pc->u.fd < 0) {
		rp_err(&blk->pool->log, "block: serve: postcopy not prepared");
		return -EINVAL;
	}
	s.pc = blk->pc;
	s.fetch = opts->fetch;
	s.data = opts->data;
	s.timeout_ms = opts->timeout_ms;
	s.buf = aligned_alloc(64, blk->page_size);
	if (!s.buf)
		return -ENOMEM;
	if (atomic_exchange(&s.pc->serving, true)) {
		free(s.buf);
		return -EBUSY;
	}
	ret = serve_loop(&s);
	atomic_store(&s.pc->serving, false);
	free(s.p);
	free(s.buf);
	return ret;
}

void rampool_block_serve_stop(struct rampool_block *blk)
{
	if (!blk || !blk->pc)
		return;
	atomic_store(&blk->pc->stop, true);
	block_pc_kick(blk->pc);
}
