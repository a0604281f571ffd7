// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_scrub.c: every method and every failure of scrub_file on a real file, its syscalls failed on purpose. */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend/scrub.h"

#define PS 4096ull
#define PAGES 64ull
#define LEN (PAGES * PS)

enum call_kind { C_MMAP, C_MUNMAP, C_MADV, C_FALLOC, C_FSTAT, C_THREAD,
		 C_MPOL, C_AFFINITY, C_NR };

static struct {
	int fail;		/* call to fail, -1: none */
	int fail_errno;
	int fail_skip;		/* matching calls let through first */
	int fail_times;		/* then fail this many (EINTR retries) */
	int calls[C_NR];
	int falloc_modes[64];	/* in order, of the first 64 */
	uint64_t falloc_off[64];
	int mpol_mode;
	unsigned long mpol_mask0, mpol_maxnode;
	pthread_mutex_t lock;
} m = { .lock = PTHREAD_MUTEX_INITIALIZER };

static char path[] = "/tmp/rampool-scrub.XXXXXX";
static int fd = -1;
static char last_log[512];

static void tlog(void *data, enum rampool_log_level level, const char *msg)
{
	(void)data; (void)level;
	snprintf(last_log, sizeof(last_log), "%s", msg);
}

static const struct rp_log quiet = { .fn = tlog, .level = RAMPOOL_LOG_DEBUG };

static bool hit(enum call_kind c)
{
	bool f = false;

	pthread_mutex_lock(&m.lock);
	m.calls[c]++;
	if (m.fail == (int)c && m.fail_skip-- <= 0 && m.fail_times > 0) {
		f = --m.fail_times >= 0;
		errno = m.fail_errno;
	}
	pthread_mutex_unlock(&m.lock);
	return f;
}

static void arm(enum call_kind c, int err, int skip, int times)
{
	m.fail = (int)c;
	m.fail_errno = err;
	m.fail_skip = skip;
	m.fail_times = times;
}

static void *x_mmap(void *a, size_t l, int p, int f, int d, off_t o)
{
	return hit(C_MMAP) ? MAP_FAILED : mmap(a, l, p, f, d, o);
}

static int x_munmap(void *a, size_t l)
{
	hit(C_MUNMAP);
	return munmap(a, l);
}

static int x_madvise(void *a, size_t l, int adv)
{
	return hit(C_MADV) ? -1 : madvise(a, l, adv);
}

static int x_fallocate(int d, int mode, off_t o, off_t l)
{
	int i = m.calls[C_FALLOC];

	if (i < 64) {
		m.falloc_modes[i] = mode;
		m.falloc_off[i] = (uint64_t)o;
	}
	return hit(C_FALLOC) ? -1 : fallocate(d, mode, o, l);
}

static int x_fstat(int d, struct stat *st)
{
	return hit(C_FSTAT) ? -1 : fstat(d, st);
}

static int x_thread(pthread_t *t, const pthread_attr_t *a,
		    void *(*fn)(void *), void *arg)
{
	return hit(C_THREAD) ? errno : pthread_create(t, a, fn, arg);
}

static long x_mpol(int mode, const unsigned long *mask, unsigned long maxnode)
{
	pthread_mutex_lock(&m.lock);
	m.mpol_mode = mode;
	m.mpol_mask0 = mask ? mask[0] : 0;
	m.mpol_maxnode = maxnode;
	pthread_mutex_unlock(&m.lock);
	return hit(C_MPOL) ? -1 : 0;
}

static int x_affinity(pid_t pid, size_t size, const cpu_set_t *set)
{
	(void)pid; (void)size; (void)set;
	return hit(C_AFFINITY) ? -1 : 0;
}

static const struct scrub_ops ops = {
	.mmap = x_mmap, .munmap = x_munmap, .madvise = x_madvise,
	.fallocate = x_fallocate, .fstat = x_fstat,
	.pthread_create = x_thread, .pthread_join = pthread_join,
	.set_mempolicy = x_mpol, .sched_setaffinity = x_affinity,
};

/* Page i holds bytes i + 1 (never zero). */
static void fill(void)
{
	static unsigned char page[PS];

	for (uint64_t i = 0; i < PAGES; i++) {
		memset(page, (int)(i + 1), PS);
		assert_int_equal(pwrite(fd, page, PS, (off_t)(i * PS)),
				 (ssize_t)PS);
	}
}

/* Pages of the file whose every byte is zero. */
static uint64_t zero_pages(void)
{
	static unsigned char page[PS], zero[PS];
	uint64_t n = 0;

	for (uint64_t i = 0; i < PAGES; i++) {
		assert_int_equal(pread(fd, page, PS, (off_t)(i * PS)),
				 (ssize_t)PS);
		n += !memcmp(page, zero, PS);
	}
	return n;
}

static int setup(void **state)
{
	(void)state;
	memset(m.calls, 0, sizeof(m.calls));
	m.fail = -1;
	m.mpol_mode = -2;
	strcpy(path, "/tmp/rampool-scrub.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)LEN), 0);
	fill();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	close(fd);
	unlink(path);
	return 0;
}

struct prog {
	uint64_t last, calls;
	bool ok;		/* strictly increasing, total right */
	atomic_bool *cancel_at_first;
};

static void progress(void *data, uint64_t done, uint64_t total)
{
	struct prog *p = data;

	p->ok = p->ok && done > p->last && done <= total && total == LEN;
	p->last = done;
	p->calls++;
	if (p->cancel_at_first)
		atomic_store(p->cancel_at_first, true);
}

static void zero_ok(enum scrub_method meth, unsigned int threads,
		    uint64_t chunk, uint64_t want_calls)
{
	struct prog p = { .ok = true };
	struct scrub_opts o = {
		.threads = threads, .chunk = chunk, .mpol_mode = MPOL_BIND,
		.nodemask = (unsigned long[]){ 2 }, .maxnode = 2,
		.progress = progress, .progress_data = &p,
	};

	fill();
	memset(m.calls, 0, sizeof(m.calls));
	assert_int_equal(zero_pages(), 0);
	assert_int_equal(scrub_file(fd, LEN, PS, false, meth, &o, &ops,
				    &quiet), 0);
	assert_int_equal(zero_pages(), PAGES);
	assert_true(p.ok);
	assert_int_equal(p.last, LEN);
	assert_int_equal(p.calls, want_calls);
	/* each thread bound to node 1 (maxnode as the kernel's: bits + 1) */
	assert_int_equal(m.mpol_mode, MPOL_BIND);
	assert_int_equal(m.mpol_mask0, 2);
	assert_int_equal(m.mpol_maxnode, 3);
	assert_int_equal(m.calls[C_MPOL], meth == SCRUB_PUNCH_REFILL ? 1 :
			 (int)threads);
	assert_int_equal(m.calls[C_THREAD], meth == SCRUB_PUNCH_REFILL ? 1 :
			 (int)threads);
	assert_int_equal(m.calls[C_MMAP], m.calls[C_MUNMAP]);
	assert_int_equal(m.calls[C_MMAP], meth == SCRUB_PUNCH_REFILL ? 0 : 1);
}

static void test_zero(void **state)
{
	(void)state;
	/* 64 pages, 16-page chunks: 4 sub-chunks for one thread */
	zero_ok(SCRUB_ZERO, 1, 16 * PS, 4);
	assert_int_equal(m.calls[C_MADV], 4);
	/* 3 threads of 22, 21, 21 pages: 2 sub-chunks each */
	zero_ok(SCRUB_ZERO, 3, 16 * PS, 6);
	zero_ok(SCRUB_ZERO_NT, 2, 0, 2);
	/* a chunk that is no multiple of the page: rounded down */
	zero_ok(SCRUB_ZERO_NT, 1, 16 * PS + 100, 4);
	/* a chunk under a page: one page */
	zero_ok(SCRUB_ZERO, 1, 100, PAGES);
}

static void test_punch_refill(void **state)
{
	(void)state;
	/* threads ignored: one thread, punch then refill per sub-chunk */
	zero_ok(SCRUB_PUNCH_REFILL, 4, 32 * PS, 2);
	assert_int_equal(m.calls[C_FALLOC], 4);
	assert_int_equal(m.falloc_modes[0], FALLOC_FL_PUNCH_HOLE |
			 FALLOC_FL_KEEP_SIZE);
	assert_int_equal(m.falloc_modes[1], 0);
	assert_int_equal(m.falloc_modes[2], FALLOC_FL_PUNCH_HOLE |
			 FALLOC_FL_KEEP_SIZE);
	assert_int_equal(m.falloc_modes[3], 0);
	assert_int_equal(m.falloc_off[0], 0);
	assert_int_equal(m.falloc_off[1], 0);
	assert_int_equal(m.falloc_off[2], 32 * PS);
	assert_int_equal(m.falloc_off[3], 32 * PS);
	/* EINTR is retried */
	arm(C_FALLOC, EINTR, 1, 3);
	zero_ok(SCRUB_PUNCH_REFILL, 1, 0, 1);
	assert_int_equal(m.calls[C_FALLOC], 5);
}

/* A failure: its errno, the file still dirty, nothing left mapped. */
static void fails(enum scrub_method meth, unsigned int threads,
		  enum call_kind c, int err, int skip, int want,
		  uint64_t want_zero)
{
	struct scrub_opts o = { .threads = threads, .chunk = 8 * PS,
				.mpol_mode = -1 };

	fill();
	memset(m.calls, 0, sizeof(m.calls));
	arm(c, err, skip, 1);
	assert_int_equal(scrub_file(fd, LEN, PS, true, meth, &o, &ops,
				    &quiet), want);
	assert_int_equal(m.calls[C_MMAP] - (c == C_MMAP), m.calls[C_MUNMAP]);
	if (want_zero != UINT64_MAX)
		assert_int_equal(zero_pages(), want_zero);
	else
		assert_true(zero_pages() < PAGES);
	m.fail = -1;
}

static void test_failures(void **state)
{
	(void)state;
	fails(SCRUB_ZERO, 1, C_FSTAT, EBADF, 0, -EBADF, 0);
	fails(SCRUB_PUNCH_REFILL, 1, C_FSTAT, EIO, 0, -EIO, 0);
	fails(SCRUB_ZERO, 2, C_MMAP, ENOMEM, 0, -ENOMEM, 0);
	fails(SCRUB_ZERO, 2, C_MMAP, ENODEV, 0, -ENODEV, 0);
	/* no page for a hole: -ENOMEM, never SIGBUS; 1 thread: 2 chunks done */
	fails(SCRUB_ZERO, 1, C_MADV, EFAULT, 2, -ENOMEM, 16);
	fails(SCRUB_ZERO_NT, 1, C_MADV, ENOMEM, 0, -ENOMEM, 0);
	fails(SCRUB_ZERO, 1, C_MADV, EHWPOISON, 0, -EHWPOISON, 0);
	/* a second thread cannot start: none worked */
	fails(SCRUB_ZERO, 2, C_THREAD, EAGAIN, 1, -EAGAIN, 0);
	fails(SCRUB_ZERO, 4, C_THREAD, EPERM, 0, -EAGAIN, 0);
	/* the policy cannot be taken: nothing zeroed by that thread */
	fails(SCRUB_PUNCH_REFILL, 1, C_FALLOC, EOPNOTSUPP, 0, -EOPNOTSUPP, 0);
	/* refill out of pages: the punched sub-chunk reads zero, rest dirty */
	fails(SCRUB_PUNCH_REFILL, 1, C_FALLOC, ENOSPC, 1, -ENOMEM, 8);
	fails(SCRUB_PUNCH_REFILL, 1, C_FALLOC, ENOMEM, 3, -ENOMEM, 16);
	assert_non_null(strstr(last_log, "refill"));
}

static void test_policy_and_affinity(void **state)
{
	cpu_set_t cpus;
	struct scrub_opts o = { .threads = 2, .mpol_mode = MPOL_BIND,
				.nodemask = (unsigned long[]){ 1 },
				.maxnode = 1, .cpus = &cpus };

	(void)state;
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	arm(C_MPOL, EINVAL, 0, 1);
	assert_int_equal(scrub_file(fd, LEN, PS, false, SCRUB_ZERO, &o, &ops,
				    &quiet), -EINVAL);
	assert_true(zero_pages() < PAGES);
	assert_non_null(strstr(last_log, "set_mempolicy"));
	/* a failed pin is only a warning */
	arm(C_AFFINITY, EINVAL, 0, 2);
	assert_int_equal(scrub_file(fd, LEN, PS, false, SCRUB_ZERO, &o, &ops,
				    &quiet), 0);
	assert_int_equal(zero_pages(), PAGES);
	/* threads 0: one per CPU of the set (one here) */
	memset(m.calls, 0, sizeof(m.calls));
	o.threads = 0;
	assert_int_equal(scrub_file(fd, LEN, PS, false, SCRUB_ZERO, &o, &ops,
				    &quiet), 0);
	assert_int_equal(m.calls[C_THREAD], 1);
	assert_int_equal(m.calls[C_AFFINITY], 1);
	/* mode < 0: the policy is left alone */
	memset(m.calls, 0, sizeof(m.calls));
	assert_int_equal(scrub_file(fd, LEN, PS, false, SCRUB_ZERO, NULL, &ops,
				    &quiet), 0);
	assert_int_equal(m.calls[C_MPOL], 0);
	assert_int_equal(m.calls[C_AFFINITY], 0);
}

/* No MADV_POPULATE_WRITE (EINVAL): zeroed all the same, warned once. */
static void test_no_populate(void **state)
{
	struct scrub_opts o = { .threads = 1, .chunk = 8 * PS,
				.mpol_mode = -1 };

	(void)state;
	arm(C_MADV, EINVAL, 0, 100);
	assert_int_equal(scrub_file(fd, LEN, PS, false, SCRUB_ZERO, &o, &ops,
				    &quiet), 0);
	assert_int_equal(zero_pages(), PAGES);
	assert_int_equal(m.calls[C_MADV], 8);
}

static void test_cancel(void **state)
{
	atomic_bool cancel = true;
	struct prog p = { .ok = true };
	struct scrub_opts o = { .threads = 1, .chunk = 8 * PS,
				.mpol_mode = -1, .cancel = &cancel,
				.progress = progress, .progress_data = &p };

	(void)state;
	/* set before: nothing done */
	for (int meth = SCRUB_ZERO; meth <= SCRUB_PUNCH_REFILL; meth++) {
		memset(m.calls, 0, sizeof(m.calls));
		assert_int_equal(scrub_file(fd, LEN, PS, false, meth, &o, &ops,
					    &quiet), -ECANCELED);
		assert_int_equal(zero_pages(), 0);
		assert_int_equal(m.calls[C_MMAP], m.calls[C_MUNMAP]);
	}
	/* set during the first sub-chunk's report: one sub-chunk done */
	atomic_store(&cancel, false);
	p.cancel_at_first = &cancel;
	for (int meth = SCRUB_ZERO; meth <= SCRUB_PUNCH_REFILL; meth++) {
		atomic_store(&cancel, false);
		fill();
		p.last = 0;
		p.calls = 0;
		assert_int_equal(scrub_file(fd, LEN, PS, false, meth, &o, &ops,
					    &quiet), -ECANCELED);
		assert_int_equal(zero_pages(), 8);
		assert_int_equal(p.calls, 1);
	}
}

static void test_bad_requests(void **state)
{
	struct scrub_opts o = { .mpol_mode = -1 };
	struct scrub_opts many = { .threads = 257, .mpol_mode = -1 };
	struct scrub_opts mask = { .mpol_mode = MPOL_BIND, .maxnode = 1025,
				   .nodemask = (unsigned long[17]){ 1 } };
	struct { int fd; uint64_t len, ps; int meth;
		 const struct scrub_opts *o; } bad[] = {
		{ fd, 0, PS, SCRUB_ZERO, &o },
		{ fd, LEN + 1, PS, SCRUB_ZERO, &o },
		{ fd, LEN, 3000, SCRUB_ZERO, &o },
		{ fd, LEN, 0, SCRUB_ZERO, &o },
		{ -1, LEN, PS, SCRUB_ZERO, &o },
		{ fd, LEN, PS, SCRUB_ZERO, &many },
		{ fd, LEN, PS, SCRUB_ZERO, &mask },
		{ fd, LEN, PS, SCRUB_PUNCH_REFILL + 1, &o },
		{ fd, LEN, PS, -1, &o },
		{ fd, 1ull << 63, PS, SCRUB_ZERO, &o },
		/* longer than the file */
		{ fd, LEN + PS, PS, SCRUB_ZERO, &o },
		{ fd, LEN + PS, PS, SCRUB_PUNCH_REFILL, &o },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(m.calls, 0, sizeof(m.calls));
		assert_int_equal(scrub_file(bad[i].fd, bad[i].len, bad[i].ps,
					    false, bad[i].meth, bad[i].o, &ops,
					    &quiet), -EINVAL);
		assert_int_equal(m.calls[C_MMAP], 0);
		assert_int_equal(m.calls[C_FALLOC], 0);
		assert_int_equal(m.calls[C_THREAD], 0);
		assert_non_null(strstr(last_log, "bad request"));
	}
	assert_int_equal(zero_pages(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(test_punch_refill, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_and_affinity,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_populate, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_requests, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
