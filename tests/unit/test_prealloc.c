// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_prealloc.c: drives every path of the threaded populate and the placement count through mocked syscalls. */
#include <errno.h>
#include <fcntl.h>
#include <numaif.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend/prealloc.h"
#include "../t_compat.h"

#define PS 4096ull
#define HPS (2ull << 20)
/* never dereferenced while madvise/fallocate are mocked; 2 MiB aligned */
#define BASE ((char *)0x7f0000000000ull)
#define MAX_CALLS 8192

enum kind { MADV, FALLOC, MPOL, AFFINITY };

struct call {
	enum kind kind;
	uint64_t off;		/* MADV: addr - BASE; FALLOC: file offset */
	uint64_t len;
	int arg;		/* MADV advice, FALLOC mode, MPOL mode */
	unsigned long mask0;	/* MPOL: first word of the mask */
	unsigned long maxnode;	/* MPOL */
	const void *ptr;	/* AFFINITY: the set passed */
	pid_t tid;
};

/*
 * The mock. Hooks return 0 or the errno to fail with; calls are recorded
 * in order with the thread that made them.
 */
static struct {
	pthread_mutex_t lock;
	struct call calls[MAX_CALLS];
	unsigned int ncalls;
	int (*madv)(char *addr, size_t len);
	int (*falloc)(off_t off, off_t len);
	int mpol_errno, aff_errno;
	int create_fail_at;	/* the nth pthread_create fails, -1 none */
	unsigned int creates, started, joins;
	int hits;		/* for hooks that count */
	atomic_bool busy;	/* for hooks that wait for each other */
} m = { .lock = PTHREAD_MUTEX_INITIALIZER };

static pid_t t_tid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static void record(struct call c)
{
	c.tid = t_tid();
	pthread_mutex_lock(&m.lock);
	assert_true(m.ncalls < MAX_CALLS);
	m.calls[m.ncalls++] = c;
	pthread_mutex_unlock(&m.lock);
}

static int fail_with(int err)
{
	if (!err)
		return 0;
	errno = err;
	return -1;
}

static int m_madvise(void *addr, size_t len, int advice)
{
	record((struct call){ .kind = MADV, .off = (uint64_t)((char *)addr - BASE),
			      .len = len, .arg = advice });
	return fail_with(m.madv ? m.madv(addr, len) : 0);
}

static int m_fallocate(int fd, int mode, off_t off, off_t len)
{
	assert_int_equal(fd, 7);
	record((struct call){ .kind = FALLOC, .off = (uint64_t)off,
			      .len = (uint64_t)len, .arg = mode });
	return fail_with(m.falloc ? m.falloc(off, len) : 0);
}

static int m_create(pthread_t *t, const pthread_attr_t *attr,
		    void *(*fn)(void *), void *arg)
{
	int k, ret;

	pthread_mutex_lock(&m.lock);
	k = (int)m.creates++;
	pthread_mutex_unlock(&m.lock);
	if (k == m.create_fail_at)
		return EAGAIN;
	ret = pthread_create(t, attr, fn, arg);
	if (!ret)
		m.started++;
	return ret;
}

static int m_join(pthread_t t, void **ret)
{
	m.joins++;
	return pthread_join(t, ret);
}

static long m_set_mempolicy(int mode, const unsigned long *mask,
			    unsigned long maxnode)
{
	record((struct call){ .kind = MPOL, .arg = mode,
			      .mask0 = mask ? mask[0] : 0,
			      .maxnode = maxnode });
	return fail_with(m.mpol_errno);
}

static int m_affinity(pid_t pid, size_t size, const cpu_set_t *set)
{
	assert_int_equal(pid, 0);
	assert_int_equal(size, sizeof(cpu_set_t));
	record((struct call){ .kind = AFFINITY, .ptr = set });
	return fail_with(m.aff_errno);
}

static long (*m_move)(void **pages, unsigned long count, int *status);

static long m_move_pages(int pid, unsigned long count, void **pages,
			 const int *nodes, int *status, int flags)
{
	assert_int_equal(pid, 0);
	assert_null(nodes);
	assert_int_equal(flags, 0);
	return m_move(pages, count, status);
}

static const struct prealloc_ops mops = {
	.madvise = m_madvise,
	.fallocate = m_fallocate,
	.pthread_create = m_create,
	.pthread_join = m_join,
	.set_mempolicy = m_set_mempolicy,
	.move_pages = m_move_pages,
	.sched_setaffinity = m_affinity,
};

/* ---- log capture and progress ------------------------------------------- */

static struct t_log lg = T_LOG_INIT;

static const struct rp_log t_log = { .fn = t_log_fn, .data = &lg,
				     .level = RAMPOOL_LOG_INFO };

static struct {
	uint64_t seen[MAX_CALLS];
	unsigned int n;
	uint64_t cancel_at;	/* set *cancel once done reaches it */
	atomic_bool *cancel;
} pr;

static void t_progress(void *data, uint64_t done, uint64_t total)
{
	const struct prealloc_req *req = data;

	assert_int_equal(total, req->len);
	assert_true(pr.n < MAX_CALLS);
	pr.seen[pr.n++] = done;
	if (pr.cancel && pr.cancel_at && done >= pr.cancel_at)
		atomic_store(pr.cancel, true);
}

/* Strictly increasing, never above len, the last equal to last. */
static void t_progress_check(uint64_t len, uint64_t last)
{
	unsigned int i;

	for (i = 1; i < pr.n; i++)
		assert_true(pr.seen[i] > pr.seen[i - 1]);
	if (pr.n)
		assert_true(pr.seen[pr.n - 1] <= len);
	assert_int_equal(pr.n ? pr.seen[pr.n - 1] : 0, last);
}

static int setup(void **state)
{
	(void)state;
	pthread_mutex_lock(&m.lock);
	m.ncalls = 0;
	m.madv = NULL;
	m.falloc = NULL;
	m.mpol_errno = m.aff_errno = 0;
	m.create_fail_at = -1;
	m.creates = m.started = m.joins = 0;
	m.hits = 0;
	atomic_store(&m.busy, false);
	pthread_mutex_unlock(&m.lock);
	t_log_reset(&lg);
	memset(&pr, 0, sizeof(pr));
	return 0;
}

/* pages of BASE, populate, mocked, one page per sub-chunk */
static struct prealloc_req t_req(struct prealloc_req *r, uint64_t pages,
				 unsigned int threads)
{
	*r = (struct prealloc_req){
		.addr = BASE, .len = pages * PS, .page_size = PS, .fd = -1,
		.method = PREALLOC_POPULATE, .threads = threads,
		.mpol_mode = -1, .chunk = PS,
		.progress = t_progress, .progress_data = r,
	};
	return *r;
}

static unsigned int t_count(enum kind kind)
{
	unsigned int i, n = 0;

	for (i = 0; i < m.ncalls; i++)
		n += m.calls[i].kind == kind &&
		     !(kind == MADV && !m.calls[i].len);
	return n;
}

static unsigned int t_tids(enum kind kind, pid_t *tids)
{
	unsigned int i, j, n = 0;

	for (i = 0; i < m.ncalls; i++) {
		if (m.calls[i].kind != kind)
			continue;
		for (j = 0; j < n && tids[j] != m.calls[i].tid; j++)
			;
		if (j == n)
			tids[n++] = m.calls[i].tid;
	}
	return n;
}

/* Every page of [0, pages) covered by exactly one call of kind. */
static void t_each_page_once(enum kind kind, uint64_t pages, uint64_t ps)
{
	unsigned int *hit = calloc(pages, sizeof(*hit));
	unsigned int i;
	uint64_t p;

	assert_non_null(hit);
	for (i = 0; i < m.ncalls; i++) {
		struct call *c = &m.calls[i];

		if (c->kind != kind || !c->len)
			continue;
		assert_int_equal(c->off % ps, 0);
		assert_int_equal(c->len % ps, 0);
		for (p = c->off / ps; p < (c->off + c->len) / ps; p++) {
			assert_true(p < pages);
			hit[p]++;
		}
	}
	for (p = 0; p < pages; p++)
		assert_int_equal(hit[p], 1);
	free(hit);
}

/* ---- requests ----------------------------------------------------------- */

static void test_bad_requests(void **state)
{
	struct prealloc_req r, bad;
	uint64_t done = 123;

	(void)state;
	t_req(&r, 4, 1);
	bad = r;
	bad.len = 0;
	assert_int_equal(prealloc_run(&bad, &mops, &t_log, &done), -EINVAL);
	assert_int_equal(done, 0);
	bad = r;
	bad.addr = BASE + 512;
	assert_int_equal(prealloc_run(&bad, &mops, &t_log, NULL), -EINVAL);
	bad = r;
	bad.len = 3 * PS + 1;
	assert_int_equal(prealloc_run(&bad, &mops, &t_log, NULL), -EINVAL);
	bad = r;
	bad.fd = 7;
	bad.method = PREALLOC_FALLOCATE;
	bad.fd_offset = 100;
	assert_int_equal(prealloc_run(&bad, &mops, &t_log, NULL), -EINVAL);
	bad = r;
	bad.page_size = 3000;
	bad.len = 3000;
	assert_int_equal(prealloc_run(&bad, &mops, &t_log, NULL), -EINVAL);
	bad = r;
	bad.page_size = 0;
	assert_int_equal(prealloc_run(&bad, &mops, &t_log, NULL), -EINVAL);
	bad = r;
	bad.threads = 257;
	assert_int_equal(prealloc_run(&bad, &mops, &t_log, NULL), -EINVAL);
	bad = r;
	bad.method = PREALLOC_FALLOCATE;	/* fd -1 */
	assert_int_equal(prealloc_run(&bad, &mops, &t_log, NULL), -EINVAL);
	bad = r;
	bad.addr = (void *)(UINTPTR_MAX - 2 * PS + 1);
	assert_int_equal(prealloc_run(&bad, &mops, &t_log, NULL), -EINVAL);
	bad = r;
	bad.mpol_mode = MPOL_BIND;
	bad.maxnode = PREALLOC_MAX_NODES + 1;
	assert_int_equal(prealloc_run(&bad, &mops, &t_log, NULL), -EINVAL);
	/* 256 threads is allowed (capped by the 4 pages) */
	bad = r;
	bad.threads = 256;
	assert_int_equal(prealloc_run(&bad, &mops, &t_log, NULL), 0);
	assert_int_equal(m.started, 4);
	assert_int_equal(m.creates, 4);
	/* nothing ran for the bad ones */
	assert_int_equal(t_count(MADV), 4);
	assert_int_equal(t_logged(&lg, RAMPOOL_LOG_ERR, "bad request"), 10);
}

/* 10 pages, 3 threads, 1-page sub-chunks: 4+3+3 contiguous, each once. */
static void test_split_one_page(void **state)
{
	struct prealloc_req r;
	pid_t tids[8];
	uint64_t done = 0;
	unsigned int i, t;

	(void)state;
	t_req(&r, 10, 3);
	assert_int_equal(prealloc_run(&r, &mops, &t_log, &done), 0);
	assert_int_equal(done, 10 * PS);
	assert_int_equal(m.creates, 3);
	assert_int_equal(m.joins, 3);
	assert_int_equal(t_count(MADV), 10);
	t_each_page_once(MADV, 10, PS);
	assert_int_equal(t_tids(MADV, tids), 3);
	for (t = 0; t < 3; t++) {
		uint64_t first = UINT64_MAX, next = UINT64_MAX, n = 0;

		assert_int_not_equal(tids[t], t_tid());
		/* each thread's calls: contiguous and in order */
		for (i = 0; i < m.ncalls; i++) {
			struct call *c = &m.calls[i];

			if (c->kind != MADV || c->tid != tids[t])
				continue;
			assert_int_equal(c->arg, MADV_POPULATE_WRITE);
			assert_int_equal(c->len, PS);
			if (first == UINT64_MAX)
				first = c->off;
			else
				assert_int_equal(c->off, next);
			next = c->off + PS;
			n++;
		}
		/* the first thread takes the spare page */
		if (first == 0)
			assert_int_equal(n, 4);
		else
			assert_true((first == 4 * PS || first == 7 * PS) &&
				    n == 3);
	}
	/* progress: one report per page, exact running totals */
	assert_int_equal(pr.n, 10);
	for (i = 0; i < pr.n; i++)
		assert_int_equal(pr.seen[i], (i + 1) * PS);
	t_progress_check(r.len, r.len);
}

/* Exactly which ranges madvise gets with 2-page sub-chunks. */
static void test_split_ranges(void **state)
{
	static const uint64_t want[][2] = {
		{ 0, 2 }, { 2, 2 }, { 4, 2 }, { 6, 1 }, { 7, 2 }, { 9, 1 },
	};
	bool seen[6] = { false };
	struct prealloc_req r;
	unsigned int i, j;

	(void)state;
	t_req(&r, 10, 3);
	r.chunk = 2 * PS + 100;		/* rounded down to 2 pages */
	assert_int_equal(prealloc_run(&r, &mops, &t_log, NULL), 0);
	assert_int_equal(t_count(MADV), 6);
	for (i = 0; i < m.ncalls; i++) {
		for (j = 0; j < 6; j++)
			if (m.calls[i].off == want[j][0] * PS &&
			    m.calls[i].len == want[j][1] * PS)
				break;
		assert_true(j < 6);
		assert_false(seen[j]);
		seen[j] = true;
	}
	t_progress_check(r.len, r.len);
	assert_int_equal(pr.n, 6);
}

static void test_thread_count(void **state)
{
	struct prealloc_req r;
	cpu_set_t cpus;
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int i;

	(void)state;
	/* 0: one per CPU of the set, each pinned to it */
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	CPU_SET(5, &cpus);
	CPU_SET(9, &cpus);
	t_req(&r, 40, 0);
	r.cpus = &cpus;
	assert_int_equal(prealloc_run(&r, &mops, &t_log, NULL), 0);
	assert_int_equal(m.started, 3);
	assert_int_equal(t_count(AFFINITY), 3);
	for (i = 0; i < m.ncalls; i++)
		if (m.calls[i].kind == AFFINITY)
			assert_ptr_equal(m.calls[i].ptr, &cpus);
	t_each_page_once(MADV, 40, PS);

	/* 0 without a set: the online CPUs, at most 16 */
	setup(NULL);
	t_req(&r, 40, 0);
	assert_int_equal(prealloc_run(&r, &mops, &t_log, NULL), 0);
	assert_int_equal(m.started, online > 16 ? 16 : online);
	assert_int_equal(t_count(AFFINITY), 0);

	/* 0 with 20 CPUs: capped at 16 */
	setup(NULL);
	CPU_ZERO(&cpus);
	for (i = 0; i < 20; i++)
		CPU_SET(i, &cpus);
	t_req(&r, 40, 0);
	r.cpus = &cpus;
	assert_int_equal(prealloc_run(&r, &mops, &t_log, NULL), 0);
	assert_int_equal(m.started, 16);

	/* never more threads than pages; an explicit count above 16 holds */
	setup(NULL);
	t_req(&r, 2, 8);
	assert_int_equal(prealloc_run(&r, &mops, &t_log, NULL), 0);
	assert_int_equal(m.started, 2);
	setup(NULL);
	t_req(&r, 40, 20);
	assert_int_equal(prealloc_run(&r, &mops, &t_log, NULL), 0);
	assert_int_equal(m.started, 20);
	t_each_page_once(MADV, 40, PS);
}

/* ---- MADV_POPULATE_WRITE errors ----------------------------------------- */

static int madv_fail_page3(char *addr, size_t len)
{
	(void)len;
	return addr == BASE + 3 * PS ? m.hits : 0;
}

static void t_populate_errno(int err, int want)
{
	struct prealloc_req r;
	uint64_t done = 0;

	setup(NULL);
	m.hits = err;		/* the errno page 3 fails with */
	m.madv = madv_fail_page3;
	t_req(&r, 10, 1);
	assert_int_equal(prealloc_run(&r, &mops, &t_log, &done), want);
	/* one thread: pages 0-2 done, page 3 failed, nothing after */
	assert_int_equal(done, 3 * PS);
	assert_int_equal(t_count(MADV), 4);
	t_progress_check(r.len, 3 * PS);
	assert_int_equal(m.joins, m.started);
}

static void test_populate_errors(void **state)
{
	(void)state;
	t_populate_errno(EFAULT, -ENOMEM);
	t_populate_errno(ENOMEM, -ENOMEM);
	t_populate_errno(EHWPOISON, -EHWPOISON);
	t_populate_errno(EPERM, -EPERM);
}

static int madv_eintr_twice(char *addr, size_t len)
{
	(void)len;
	if (addr == BASE + 2 * PS && m.hits < 2) {
		m.hits++;
		return EINTR;
	}
	return 0;
}

static void test_populate_eintr(void **state)
{
	struct prealloc_req r;
	uint64_t done = 0;
	unsigned int i, again = 0;

	(void)state;
	m.madv = madv_eintr_twice;
	t_req(&r, 5, 1);
	assert_int_equal(prealloc_run(&r, &mops, &t_log, &done), 0);
	assert_int_equal(done, 5 * PS);
	assert_int_equal(t_count(MADV), 7);
	for (i = 0; i < m.ncalls; i++)
		again += m.calls[i].off == 2 * PS;
	assert_int_equal(again, 3);
	t_progress_check(r.len, r.len);
	assert_int_equal(pr.n, 5);
}

/*
 * Thread 0 fails at once; thread 1 is in its first sub-chunk then and
 * fails later with another errno: the first error is the one returned, and
 * thread 1 starts no other sub-chunk.
 */
static int madv_first_fails(char *addr, size_t len)
{
	int i;

	(void)len;
	if (addr == BASE) {
		/* wait for thread 1 to be inside its first sub-chunk */
		for (i = 0; i < 2000 && !atomic_load(&m.busy); i++)
			usleep(1000);
		return EFAULT;
	}
	if (addr == BASE + 10 * PS) {
		atomic_store(&m.busy, true);
		usleep(30000);
		return EPERM;
	}
	return 0;
}

static void test_first_error_wins(void **state)
{
	struct prealloc_req r;
	uint64_t done = 1;

	(void)state;
	m.madv = madv_first_fails;
	t_req(&r, 20, 2);
	assert_int_equal(prealloc_run(&r, &mops, &t_log, &done), -ENOMEM);
	assert_int_equal(t_count(MADV), 2);
	assert_int_equal(done, 0);
	assert_int_equal(pr.n, 0);
	assert_int_equal(m.joins, 2);
}

/* Thread 0 fails at its third page: thread 1 stops at its next one. */
static int madv_third_fails(char *addr, size_t len)
{
	(void)len;
	if (addr == BASE + 2 * PS)
		return ENOMEM;
	if (addr >= BASE + 10 * PS)
		usleep(5000);
	return 0;
}

static void test_others_stop(void **state)
{
	struct prealloc_req r;
	uint64_t done = 0;
	unsigned int i, ok = 0;

	(void)state;
	m.madv = madv_third_fails;
	t_req(&r, 20, 2);
	assert_int_equal(prealloc_run(&r, &mops, &t_log, &done), -ENOMEM);
	/* thread 1 needs 50 ms for its 10 pages; it stops well before */
	assert_true(t_count(MADV) < 3 + 10);
	for (i = 0; i < m.ncalls; i++)
		ok += m.calls[i].off != 2 * PS;
	/* done is exactly the sub-chunks that completed */
	assert_int_equal(done, ok * PS);
	t_progress_check(r.len, done);
}

/* Kernel < 5.14: EINVAL, and also for the zero-length probe. */
static int madv_einval(char *addr, size_t len)
{
	(void)addr;
	(void)len;
	return EINVAL;
}

/* MADV_POPULATE_WRITE exists, the mapping refuses it (read-only). */
static int madv_einval_mapping(char *addr, size_t len)
{
	(void)addr;
	return len ? EINVAL : 0;
}

static int t_memfd(uint64_t len)
{
	int fd = memfd_create("t_prealloc", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)len), 0);
	return fd;
}

static void test_populate_einval_touches(void **state)
{
	const uint64_t len = 8 * PS;
	unsigned char vec[8];
	struct prealloc_req r;
	uint64_t done = 0;
	char *p;
	int fd, i;

	(void)state;
	/* a real memfd: pages 0 and 5 hold data, the others are holes */
	fd = t_memfd(len);
	assert_int_equal(pwrite(fd, "page0", 5, 0), 5);
	assert_int_equal(pwrite(fd, "page5", 5, 5 * PS), 5);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(p != MAP_FAILED);
	m.madv = madv_einval;
	t_req(&r, 8, 2);
	r.addr = p;
	r.chunk = 0;
	assert_int_equal(prealloc_run(&r, &mops, &t_log, &done), 0);
	assert_int_equal(done, len);
	/* both threads fell back; said once */
	assert_int_equal(t_logged(&lg, RAMPOOL_LOG_INFO, "touching pages instead"), 1);
	assert_int_equal(mincore(p, len, vec), 0);
	for (i = 0; i < 8; i++)
		assert_true(vec[i] & 1);
	assert_memory_equal(p, "page0", 5);
	assert_memory_equal(p + 5 * PS, "page5", 5);
	assert_int_equal(p[PS], 0);
	t_progress_check(len, len);
	munmap(p, len);
	close(fd);
}

static void test_populate_einval_mapping(void **state)
{
	const uint64_t len = 8 * PS;
	unsigned char vec[8];
	struct prealloc_req r;
	uint64_t done = 1;
	char *p;
	int i;

	(void)state;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(p != MAP_FAILED);
	m.madv = madv_einval_mapping;
	t_req(&r, 8, 1);
	r.addr = p;
	assert_int_equal(prealloc_run(&r, &mops, &t_log, &done), -EINVAL);
	assert_int_equal(done, 0);
	/* not touched: touching a read-only mapping would kill the VMM */
	assert_int_equal(mincore(p, len, vec), 0);
	for (i = 0; i < 8; i++)
		assert_false(vec[i] & 1);
	assert_int_equal(t_logged(&lg, RAMPOOL_LOG_ERR, "refused the mapping"), 1);
	munmap(p, len);
}

/* The real kernel, default ops: anonymous memory gets populated. */
static void test_populate_real(void **state)
{
	const uint64_t len = 64 * PS;
	unsigned char vec[64];
	struct prealloc_req r;
	uint64_t done = 0;
	char *p;
	int i;

	(void)state;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(p != MAP_FAILED);
	t_req(&r, 64, 2);
	r.addr = p;
	r.chunk = 0;
	assert_int_equal(prealloc_run(&r, NULL, &t_log, &done), 0);
	assert_int_equal(done, len);
	assert_int_equal(mincore(p, len, vec), 0);
	for (i = 0; i < 64; i++)
		assert_true(vec[i] & 1);
	munmap(p, len);
}

/* ---- fallocate ---------------------------------------------------------- */

static void t_file_req(struct prealloc_req *r, uint64_t pages,
		       unsigned int threads)
{
	t_req(r, pages, threads);
	r->method = PREALLOC_AUTO;
	r->fd = 7;
	r->file_backed = true;
	r->fd_offset = 1000 * PS;
}

static void test_auto_fallocate(void **state)
{
	struct prealloc_req r;
	uint64_t done = 0;
	unsigned int i;

	(void)state;
	t_file_req(&r, 12, 3);
	assert_int_equal(prealloc_run(&r, &mops, &t_log, &done), 0);
	assert_int_equal(done, r.len);
	assert_int_equal(t_count(MADV), 0);
	assert_int_equal(t_count(FALLOC), 12);
	for (i = 0; i < m.ncalls; i++) {
		assert_int_equal(m.calls[i].arg, 0);	/* mode 0 */
		m.calls[i].off -= r.fd_offset;
	}
	t_each_page_once(FALLOC, 12, PS);
	t_progress_check(r.len, r.len);
	assert_int_equal(pr.n, 12);
}

/* page_tables: each sub-chunk fallocated, then populated, same thread. */
static void test_auto_fallocate_page_tables(void **state)
{
	struct prealloc_req r;
	unsigned int i, j;

	(void)state;
	t_file_req(&r, 9, 2);
	r.page_tables = true;
	assert_int_equal(prealloc_run(&r, &mops, &t_log, NULL), 0);
	assert_int_equal(t_count(FALLOC), 9);
	assert_int_equal(t_count(MADV), 9);
	for (i = 0; i < m.ncalls; i++) {
		struct call *c = &m.calls[i];

		if (c->kind != MADV)
			continue;
		for (j = i; j-- > 0;)
			if (m.calls[j].kind == FALLOC &&
			    m.calls[j].tid == c->tid)
				break;
		assert_true(j < i);
		assert_int_equal(m.calls[j].off, r.fd_offset + c->off);
		assert_int_equal(m.calls[j].len, c->len);
	}
	t_each_page_once(MADV, 9, PS);
	/* one progress report per sub-chunk, not two */
	assert_int_equal(pr.n, 9);
	t_progress_check(r.len, r.len);
}

static void test_auto_populate(void **state)
{
	struct prealloc_req r;

	(void)state;
	/* an fd that is not a shared file: populate */
	t_file_req(&r, 6, 2);
	r.file_backed = false;
	assert_int_equal(prealloc_run(&r, &mops, &t_log, NULL), 0);
	assert_int_equal(t_count(FALLOC), 0);
	t_each_page_once(MADV, 6, PS);
	/* file_backed but no fd: populate */
	setup(NULL);
	t_file_req(&r, 6, 2);
	r.fd = -1;
	assert_int_equal(prealloc_run(&r, &mops, &t_log, NULL), 0);
	assert_int_equal(t_count(FALLOC), 0);
	t_each_page_once(MADV, 6, PS);
	/* an explicit POPULATE on a file */
	setup(NULL);
	t_file_req(&r, 6, 2);
	r.method = PREALLOC_POPULATE;
	assert_int_equal(prealloc_run(&r, &mops, &t_log, NULL), 0);
	assert_int_equal(t_count(FALLOC), 0);
	t_each_page_once(MADV, 6, PS);
}

static int falloc_fail_third(off_t off, off_t len)
{
	(void)len;
	return off == (off_t)(1002 * PS) ? m.hits : 0;
}

static void t_fallocate_errno(int err, int want)
{
	struct prealloc_req r;
	uint64_t done = 0;

	setup(NULL);
	m.hits = err;
	m.falloc = falloc_fail_third;
	t_file_req(&r, 6, 1);
	assert_int_equal(prealloc_run(&r, &mops, &t_log, &done), want);
	assert_int_equal(done, 2 * PS);
	assert_int_equal(t_count(FALLOC), 3);
	assert_int_equal(t_count(MADV), 0);
	t_progress_check(r.len, 2 * PS);
}

static void test_fallocate_errors(void **state)
{
	(void)state;
	t_fallocate_errno(ENOSPC, -ENOMEM);
	t_fallocate_errno(ENOMEM, -ENOMEM);
	t_fallocate_errno(EIO, -EIO);
}

static int falloc_eintr_once(off_t off, off_t len)
{
	(void)len;
	if (off == (off_t)(1001 * PS) && !m.hits++)
		return EINTR;
	return 0;
}

static void test_fallocate_eintr(void **state)
{
	struct prealloc_req r;
	uint64_t done = 0;

	(void)state;
	m.falloc = falloc_eintr_once;
	t_file_req(&r, 4, 1);
	assert_int_equal(prealloc_run(&r, &mops, &t_log, &done), 0);
	assert_int_equal(done, r.len);
	assert_int_equal(t_count(FALLOC), 5);
	assert_int_equal(pr.n, 4);
}

static int falloc_eopnotsupp(off_t off, off_t len)
{
	(void)off;
	(void)len;
	return EOPNOTSUPP;
}

static void test_fallocate_eopnotsupp(void **state)
{
	struct prealloc_req r;
	uint64_t done = 0;

	(void)state;
	m.falloc = falloc_eopnotsupp;
	t_file_req(&r, 9, 3);
	assert_int_equal(prealloc_run(&r, &mops, &t_log, &done), 0);
	assert_int_equal(done, r.len);
	/* each thread tries once, then populates its whole run */
	assert_int_equal(t_count(FALLOC), 3);
	t_each_page_once(MADV, 9, PS);
	assert_int_equal(t_logged(&lg, RAMPOOL_LOG_INFO, "fallocate not supported"), 1);
	t_progress_check(r.len, r.len);
}

/*
 * Hugetlb fallocate follows the calling thread's policy (DESIGN 5b): each
 * thread that calls fallocate must have called set_mempolicy with the
 * request's mode and mask first.
 */
static void test_hugetlb_fallocate_policy(void **state)
{
	unsigned long mask = 1ul << 1;	/* node 1 */
	struct prealloc_req r;
	pid_t tids[4];
	unsigned int i, j;

	(void)state;
	r = (struct prealloc_req){
		.addr = BASE, .len = 8 * HPS, .page_size = HPS, .fd = 7,
		.fd_offset = 4 * HPS, .hugetlb = true, .file_backed = true,
		.method = PREALLOC_FALLOCATE, .threads = 2,
		.mpol_mode = MPOL_BIND, .nodemask = &mask, .maxnode = 2,
		.chunk = HPS,
	};
	assert_int_equal(prealloc_run(&r, &mops, &t_log, NULL), 0);
	assert_int_equal(t_count(MADV), 0);
	assert_int_equal(t_count(FALLOC), 8);
	assert_int_equal(t_count(MPOL), 2);
	assert_int_equal(t_tids(FALLOC, tids), 2);
	for (i = 0; i < m.ncalls; i++) {
		struct call *c = &m.calls[i];

		if (c->kind == MPOL) {
			assert_int_equal(c->arg, MPOL_BIND);
			assert_int_equal(c->mask0, 2);
			/* the kernel reads maxnode - 1 bits */
			assert_int_equal(c->maxnode, 3);
			assert_int_not_equal(c->tid, t_tid());
		}
		if (c->kind != FALLOC)
			continue;
		for (j = 0; j < i; j++)
			if (m.calls[j].kind == MPOL && m.calls[j].tid == c->tid)
				break;
		assert_true(j < i);
		m.calls[i].off -= r.fd_offset;
	}
	t_each_page_once(FALLOC, 8, HPS);

	/* the populate path takes the policy the same way */
	setup(NULL);
	r.method = PREALLOC_POPULATE;
	assert_int_equal(prealloc_run(&r, &mops, &t_log, NULL), 0);
	assert_int_equal(t_count(FALLOC), 0);
	assert_int_equal(t_count(MPOL), 2);
	for (i = 0; i < m.ncalls; i++) {
		if (m.calls[i].kind != MADV)
			continue;
		for (j = 0; j < i; j++)
			if (m.calls[j].kind == MPOL &&
			    m.calls[j].tid == m.calls[i].tid)
				break;
		assert_true(j < i);
	}

	/*
	 * AUTO: hugetlbfs_fallocate holds the inode lock, so threads would
	 * take turns; more than one thread populates instead, one fallocates
	 */
	setup(NULL);
	r.method = PREALLOC_AUTO;
	assert_int_equal(prealloc_run(&r, &mops, &t_log, NULL), 0);
	assert_int_equal(t_count(FALLOC), 0);
	assert_int_equal(t_count(MADV), 8);
	setup(NULL);
	r.threads = 1;
	assert_int_equal(prealloc_run(&r, &mops, &t_log, NULL), 0);
	assert_int_equal(t_count(FALLOC), 8);
	assert_int_equal(t_count(MADV), 0);

	/* mode < 0: the threads' policy is left alone */
	setup(NULL);
	r.threads = 2;
	r.mpol_mode = -1;
	r.method = PREALLOC_FALLOCATE;
	assert_int_equal(prealloc_run(&r, &mops, &t_log, NULL), 0);
	assert_int_equal(t_count(MPOL), 0);
	assert_int_equal(t_count(FALLOC), 8);
}

/* ---- threads, policy, affinity, cancel ---------------------------------- */

static void t_create_fails_at(int k)
{
	struct prealloc_req r;
	uint64_t done = 1;

	setup(NULL);
	m.create_fail_at = k;
	t_req(&r, 8, 4);
	r.mpol_mode = MPOL_BIND;
	assert_int_equal(prealloc_run(&r, &mops, &t_log, &done), -EAGAIN);
	assert_int_equal(done, 0);
	assert_int_equal(m.creates, (unsigned int)k + 1);
	assert_int_equal(m.started, (unsigned int)k);
	assert_int_equal(m.joins, (unsigned int)k);
	/* no thread did anything: they all waited for the start */
	assert_int_equal(m.ncalls, 0);
	assert_int_equal(pr.n, 0);
	assert_int_equal(t_logged(&lg, RAMPOOL_LOG_ERR, "cannot start"), 1);
}

static void test_pthread_create_fails(void **state)
{
	(void)state;
	t_create_fails_at(0);
	t_create_fails_at(1);
	t_create_fails_at(3);
}

static void test_set_mempolicy_fails(void **state)
{
	unsigned long mask = 1;
	struct prealloc_req r;
	uint64_t done = 1;

	(void)state;
	m.mpol_errno = EINVAL;
	t_req(&r, 6, 3);
	r.mpol_mode = MPOL_BIND;
	r.nodemask = &mask;
	r.maxnode = 1;
	assert_int_equal(prealloc_run(&r, &mops, &t_log, &done), -EINVAL);
	assert_int_equal(done, 0);
	assert_int_equal(t_count(MADV), 0);
	assert_int_equal(t_logged(&lg, RAMPOOL_LOG_ERR, "set_mempolicy(mode 2)"), 3);
	assert_int_equal(m.joins, 3);
}

static void test_affinity_fails(void **state)
{
	struct prealloc_req r;
	cpu_set_t cpus;
	uint64_t done = 0;
	unsigned int i, j;

	(void)state;
	m.aff_errno = EINVAL;
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	t_req(&r, 6, 3);
	r.cpus = &cpus;
	assert_int_equal(prealloc_run(&r, &mops, &t_log, &done), 0);
	assert_int_equal(done, r.len);
	assert_int_equal(t_count(AFFINITY), 3);
	assert_int_equal(t_logged(&lg, RAMPOOL_LOG_WARN, "cannot pin"), 1);
	t_each_page_once(MADV, 6, PS);
	/* each thread pinned itself before its first madvise */
	for (i = 0; i < m.ncalls; i++) {
		if (m.calls[i].kind != MADV)
			continue;
		for (j = 0; j < i; j++)
			if (m.calls[j].kind == AFFINITY &&
			    m.calls[j].tid == m.calls[i].tid)
				break;
		assert_true(j < i);
	}
}

static void test_cancel(void **state)
{
	atomic_bool cancel = false;
	struct prealloc_req r;
	uint64_t done = 0;

	(void)state;
	/* one thread: cancelled after the third page, nothing more runs */
	t_req(&r, 10, 1);
	r.cancel = &cancel;
	pr.cancel = &cancel;
	pr.cancel_at = 3 * PS;
	assert_int_equal(prealloc_run(&r, &mops, &t_log, &done), -ECANCELED);
	assert_int_equal(done, 3 * PS);
	assert_int_equal(t_count(MADV), 3);
	t_progress_check(r.len, 3 * PS);

	/* three threads: each stops at its next sub-chunk */
	setup(NULL);
	atomic_store(&cancel, false);
	t_req(&r, 60, 3);
	r.cancel = &cancel;
	pr.cancel = &cancel;
	pr.cancel_at = 4 * PS;
	assert_int_equal(prealloc_run(&r, &mops, &t_log, &done), -ECANCELED);
	assert_true(done < r.len && done >= 4 * PS);
	assert_int_equal(done, t_count(MADV) * PS);
	t_progress_check(r.len, done);

	/* set before the start: nothing at all */
	setup(NULL);
	t_req(&r, 10, 2);
	r.cancel = &cancel;
	assert_int_equal(prealloc_run(&r, &mops, &t_log, &done), -ECANCELED);
	assert_int_equal(done, 0);
	assert_int_equal(t_count(MADV), 0);
}

/* ---- placement ---------------------------------------------------------- */

static struct {
	unsigned int batches[8];
	unsigned int nbatch;
	uint64_t next;		/* the page index expected next */
	uint64_t ps;
	int err;
} mv;

/* page i: i%5 == 0 absent, 1 EFAULT, else node i%2, every 7th node 3 */
static int t_node_of(uint64_t i)
{
	if (i % 5 == 0)
		return -ENOENT;
	if (i % 5 == 1)
		return -EFAULT;
	if (i % 7 == 0)
		return 3;
	return (int)(i % 2);
}

static long mv_rule(void **pages, unsigned long count, int *status)
{
	unsigned long i;

	if (mv.err)
		return fail_with(mv.err);
	assert_true(count <= 1024);
	assert_true(mv.nbatch < 8);
	mv.batches[mv.nbatch++] = (unsigned int)count;
	for (i = 0; i < count; i++) {
		assert_ptr_equal(pages[i], BASE + mv.next * mv.ps);
		status[i] = t_node_of(mv.next++);
	}
	return 0;
}

static void test_placement(void **state)
{
	uint64_t counts[2], absent = 0, off = 0, want[4] = { 0 };
	uint64_t wabsent = 0, i;
	unsigned long mask0 = 1ul << 0;
	unsigned long mask01 = 3;

	(void)state;
	for (i = 0; i < 2500; i++) {
		int n = t_node_of(i);

		if (n < 0)
			wabsent++;
		else
			want[n]++;
	}
	memset(&mv, 0, sizeof(mv));
	mv.ps = PS;
	m_move = mv_rule;
	assert_int_equal(prealloc_placement(BASE, 2500 * PS, PS, &mask0, 1,
					    &mops, counts, 2, &absent, &off),
			 0);
	assert_int_equal(mv.nbatch, 3);
	assert_int_equal(mv.batches[0], 1024);
	assert_int_equal(mv.batches[1], 1024);
	assert_int_equal(mv.batches[2], 452);
	assert_int_equal(counts[0], want[0]);
	assert_int_equal(counts[1], want[1]);
	assert_int_equal(absent, wabsent);
	assert_int_equal(off, want[1] + want[3]);	/* node 3 too */
	assert_true(want[0] && want[1] && want[3] && wabsent);

	/* nodes 0 and 1 allowed: only node 3 is off; 2 M pages */
	memset(&mv, 0, sizeof(mv));
	mv.ps = HPS;
	assert_int_equal(prealloc_placement(BASE, 40 * HPS, HPS, &mask01, 2,
					    &mops, counts, 2, &absent, &off),
			 0);
	for (i = 0, memset(want, 0, sizeof(want)), wabsent = 0; i < 40; i++) {
		if (t_node_of(i) < 0)
			wabsent++;
		else
			want[t_node_of(i)]++;
	}
	assert_int_equal(counts[0], want[0]);
	assert_int_equal(counts[1], want[1]);
	assert_int_equal(absent, wabsent);
	assert_int_equal(off, want[3]);

	/* bits past maxnode do not count: node 1 is off with maxnode 1 */
	memset(&mv, 0, sizeof(mv));
	mv.ps = HPS;
	assert_int_equal(prealloc_placement(BASE, 40 * HPS, HPS, &mask01, 1,
					    &mops, counts, 2, &absent, &off),
			 0);
	assert_int_equal(off, want[1] + want[3]);

	/* no mask: nothing is off-node */
	memset(&mv, 0, sizeof(mv));
	mv.ps = PS;
	assert_int_equal(prealloc_placement(BASE, 10 * PS, PS, NULL, 0, &mops,
					    counts, 2, &absent, &off), 0);
	assert_int_equal(off, 0);

	/* the kernel's error comes back; bad arguments are refused */
	mv.err = ENOSYS;
	assert_int_equal(prealloc_placement(BASE, 10 * PS, PS, NULL, 0, &mops,
					    counts, 2, &absent, &off),
			 -ENOSYS);
	assert_int_equal(prealloc_placement(BASE + 1, PS, PS, NULL, 0, &mops,
					    counts, 2, &absent, &off),
			 -EINVAL);
	assert_int_equal(prealloc_placement(BASE, PS, 3000, NULL, 0, &mops,
					    counts, 2, &absent, &off),
			 -EINVAL);
}

/* The real move_pages: touched pages are on a node, the others absent. */
static void test_placement_real(void **state)
{
	uint64_t counts[64] = { 0 }, absent = 0, off = 0, sum = 0;
	unsigned long mask[PREALLOC_MAX_NODES / 64];
	char *p;
	int ret, i;

	(void)state;
	memset(mask, 0xff, sizeof(mask));
	p = mmap(NULL, 4 * PS, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(p != MAP_FAILED);
	p[0] = 1;
	p[2 * PS] = 1;
	ret = prealloc_placement(p, 4 * PS, PS, mask, PREALLOC_MAX_NODES,
				 NULL, counts, 64, &absent, &off);
	munmap(p, 4 * PS);
	if (ret == -ENOSYS)
		skip();		/* a kernel without NUMA */
	assert_int_equal(ret, 0);
	for (i = 0; i < 64; i++)
		sum += counts[i];
	assert_int_equal(sum, 2);
	assert_int_equal(absent, 2);
	assert_int_equal(off, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_bad_requests, setup),
		cmocka_unit_test_setup(test_split_one_page, setup),
		cmocka_unit_test_setup(test_split_ranges, setup),
		cmocka_unit_test_setup(test_thread_count, setup),
		cmocka_unit_test_setup(test_populate_errors, setup),
		cmocka_unit_test_setup(test_populate_eintr, setup),
		cmocka_unit_test_setup(test_first_error_wins, setup),
		cmocka_unit_test_setup(test_others_stop, setup),
		cmocka_unit_test_setup(test_populate_einval_touches, setup),
		cmocka_unit_test_setup(test_populate_einval_mapping, setup),
		cmocka_unit_test_setup(test_populate_real, setup),
		cmocka_unit_test_setup(test_auto_fallocate, setup),
		cmocka_unit_test_setup(test_auto_fallocate_page_tables, setup),
		cmocka_unit_test_setup(test_auto_populate, setup),
		cmocka_unit_test_setup(test_fallocate_errors, setup),
		cmocka_unit_test_setup(test_fallocate_eintr, setup),
		cmocka_unit_test_setup(test_fallocate_eopnotsupp, setup),
		cmocka_unit_test_setup(test_hugetlb_fallocate_policy, setup),
		cmocka_unit_test_setup(test_pthread_create_fails, setup),
		cmocka_unit_test_setup(test_set_mempolicy_fails, setup),
		cmocka_unit_test_setup(test_affinity_fails, setup),
		cmocka_unit_test_setup(test_cancel, setup),
		cmocka_unit_test_setup(test_placement, setup),
		cmocka_unit_test_setup(test_placement_real, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
