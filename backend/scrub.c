// SPDX-License-Identifier: LGPL-2.1-or-later
/* scrub.c: zeroes a backing file in place (threads bound to its node) or by punch + refill. */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef __x86_64__
#include <emmintrin.h>
#endif

#include "scrub.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define SCRUB_MAX_THREADS	256
#define SCRUB_AUTO_THREADS	16
#define SCRUB_CHUNK		(64ull << 20)
#define SCRUB_MAX_NODES		1024

static long real_set_mempolicy(int mode, const unsigned long *nodemask,
			       unsigned long maxnode)
{
	return syscall(SYS_set_mempolicy, mode, nodemask, maxnode);
}

const struct scrub_ops scrub_default_ops = {
	.mmap = mmap,
	.munmap = munmap,
	.madvise = madvise,
	.fallocate = fallocate,
	.fstat = fstat,
	.pthread_create = pthread_create,
	.pthread_join = pthread_join,
	.set_mempolicy = real_set_mempolicy,
	.sched_setaffinity = sched_setaffinity,
};

static const struct scrub_opts no_opts = { .mpol_mode = -1 };

/* One scrub_file: what the threads share. */
struct job {
	const struct scrub_opts *o;
	const struct scrub_ops *ops;
	const struct rp_log *log;
	enum scrub_method m;
	int fd;
	char *map;		/* the file's range, ZERO methods only */
	uint64_t len, chunk;

	pthread_mutex_t lock;	/* start, done, progress */
	pthread_cond_t cond;
	int start;		/* 0: wait, 1: go, -1: give up */
	uint64_t done;
	atomic_int err;		/* the first error, 0 while none */
	atomic_bool told_affinity, told_populate;
};

struct worker {
	struct job *job;
	pthread_t tid;
	uint64_t off, len;	/* a contiguous run of whole pages */
};

static bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

static void job_fail(struct job *job, int err)
{
	int none = 0;

	atomic_compare_exchange_strong(&job->err, &none, err);
}

static bool job_stop(struct job *job)
{
	if (atomic_load(&job->err))
		return true;
	if (job->o->cancel && atomic_load(job->o->cancel)) {
		job_fail(job, -ECANCELED);
		return true;
	}
	return false;
}

static void job_add(struct job *job, uint64_t bytes)
{
	pthread_mutex_lock(&job->lock);
	job->done += bytes;
	if (job->o->progress)
		job->o->progress(job->o->progress_data, job->done, job->len);
	pthread_mutex_unlock(&job->lock);
}

/*
 * Non-temporal stores: the zeroes go to memory without filling the cache
 * with lines nobody reads soon (a warm slot waits for its VM). Whether
 * that is faster is measured in bench/scrub.c.
 */
static void zero_nt(char *p, uint64_t len)
{
#ifdef __x86_64__
	const __m128i z = _mm_setzero_si128();
	__m128i *q = (__m128i *)p, *end = (__m128i *)(p + len);

	/* p and len are page aligned: whole 64-byte lines */
	for (; q < end; q += 4) {
		_mm_stream_si128(q, z);
		_mm_stream_si128(q + 1, z);
		_mm_stream_si128(q + 2, z);
		_mm_stream_si128(q + 3, z);
	}
	_mm_sfence();
#else
	memset(p, 0, len);
#endif
}

/* Fills the holes first: a missing page is -ENOMEM, never SIGBUS. */
static int chunk_zero(struct job *job, uint64_t off, uint64_t len)
{
	char *p = job->map + off;

	while (job->ops->madvise(p, len, MADV_POPULATE_WRITE) < 0) {
		int err = errno;

		if (err == EINTR)
			continue;
		if (err == EINVAL) {
			/* a kernel before 5.14: a full pool means SIGBUS */
			if (!atomic_exchange(&job->told_populate, true))
				rp_warn(job->log, "scrub: no MADV_POPULATE_WRITE: zeroing unchecked");
			break;
		}
		rp_err(job->log, "scrub: no page for a hole at offset %llu: %s",
		       (unsigned long long)off, strerror(err));
		return err == EFAULT || err == ENOMEM ? -ENOMEM : -err;
	}
	if (job->m == SCRUB_ZERO_NT)
		zero_nt(p, len);
	else
		memset(p, 0, len);
	return 0;
}

static int falloc(struct job *job, int mode, uint64_t off, uint64_t len)
{
	while (job->ops->fallocate(job->fd, mode, (off_t)off, (off_t)len) < 0) {
		int err = errno;

		if (err == EINTR)
			continue;
		rp_err(job->log, "scrub: fallocate(%s) of %llu bytes at %llu: %s",
		       mode ? "punch" : "refill", (unsigned long long)len,
		       (unsigned long long)off, strerror(err));
		return err == ENOSPC || err == ENOMEM ? -ENOMEM : -err;
	}
	return 0;
}

static int chunk_punch_refill(struct job *job, uint64_t off, uint64_t len)
{
	int ret = falloc(job, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off,
			 len);

	return ret ? ret : falloc(job, 0, off, len);
}

static int worker_setup(struct job *job)
{
	const struct scrub_opts *o = job->o;

	if (o->cpus &&
	    job->ops->sched_setaffinity(0, o->cpus_size ? o->cpus_size :
					sizeof(cpu_set_t), o->cpus) < 0 &&
	    !atomic_exchange(&job->told_affinity, true))
		rp_warn(job->log, "scrub: cannot pin the threads to their CPUs (%s); running unpinned",
			strerror(errno));
	if (o->mpol_mode >= 0 &&
	    job->ops->set_mempolicy(o->mpol_mode, o->nodemask,
				    o->nodemask ? o->maxnode + 1 : 0) < 0) {
		int err = errno;

		rp_err(job->log, "scrub: set_mempolicy(mode %d): %s",
		       o->mpol_mode, strerror(err));
		return -err;
	}
	return 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct job *job = w->job;
	uint64_t off, n;
	int start, ret;

	pthread_mutex_lock(&job->lock);
	while (!job->start)
		pthread_cond_wait(&job->cond, &job->lock);
	start = job->start;
	pthread_mutex_unlock(&job->lock);
	if (start < 0)
		return NULL;
	ret = worker_setup(job);
	if (ret) {
		job_fail(job, ret);
		return NULL;
	}
	for (off = 0; off < w->len; off += n) {
		n = w->len - off < job->chunk ? w->len - off : job->chunk;
		if (job_stop(job))
			break;
		ret = job->m == SCRUB_PUNCH_REFILL ?
			chunk_punch_refill(job, w->off + off, n) :
			chunk_zero(job, w->off + off, n);
		if (ret) {
			job_fail(job, ret);
			break;
		}
		job_add(job, n);
	}
	return NULL;
}

/* Starts n workers together; -EAGAIN (all started ones joined) if one fails. */
static int run_workers(struct job *job, struct worker *w, unsigned int n)
{
	unsigned int i, started;
	int ret = 0;

	for (started = 0; started < n; started++) {
		ret = job->ops->pthread_create(&w[started].tid, NULL,
					       worker_main, &w[started]);
		if (ret)
			break;
	}
	pthread_mutex_lock(&job->lock);
	job->start = started == n ? 1 : -1;
	pthread_cond_broadcast(&job->cond);
	pthread_mutex_unlock(&job->lock);
	for (i = 0; i < started; i++)
		job->ops->pthread_join(w[i].tid, NULL);
	if (started == n)
		return atomic_load(&job->err);
	rp_err(job->log, "scrub: cannot start thread %u of %u: %s",
	       started + 1, n, strerror(ret));
	return -EAGAIN;
}

static const char *check(int fd, uint64_t len, uint64_t ps,
			 enum scrub_method m, const struct scrub_opts *o)
{
	if (!is_pow2(ps))
		return "page size is not a power of two";
	if (!len || len % ps)
		return "length empty or not page aligned";
	if (len > INT64_MAX || len > SIZE_MAX)
		return "range too large";
	if (fd < 0)
		return "no file";
	if (o->threads > SCRUB_MAX_THREADS)
		return "more than 256 threads";
	if (o->mpol_mode >= 0 && o->maxnode > SCRUB_MAX_NODES)
		return "node mask longer than 1024";
	if ((unsigned int)m > SCRUB_PUNCH_REFILL)
		return "unknown method";
	return NULL;
}

static unsigned int nr_threads(const struct scrub_opts *o, enum scrub_method m,
			       uint64_t pages)
{
	unsigned int n = o->threads;

	if (m == SCRUB_PUNCH_REFILL)
		return 1;	/* fallocate holds the inode lock */
	if (!n) {
		long cpus = o->cpus ? CPU_COUNT_S(o->cpus_size ? o->cpus_size :
						  sizeof(cpu_set_t), o->cpus) :
			sysconf(_SC_NPROCESSORS_ONLN);

		n = cpus < 1 ? 1 : cpus > SCRUB_AUTO_THREADS ?
			SCRUB_AUTO_THREADS : (unsigned int)cpus;
	}
	return pages < n ? (unsigned int)pages : n;
}

/* Maps [0, len) of the file for the ZERO methods; 0 or -errno. */
static int job_map(struct job *job, uint64_t len)
{
	struct stat st;
	void *p;

	if (job->ops->fstat(job->fd, &st)) {
		int err = errno;

		rp_err(job->log, "scrub: fstat: %s", strerror(err));
		return -err;
	}
	if ((uint64_t)st.st_size < len) {
		rp_err(job->log, "scrub: bad request: file shorter than the range");
		return -EINVAL;
	}
	if (job->m == SCRUB_PUNCH_REFILL)
		return 0;
	p = job->ops->mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
			   job->fd, 0);
	if (p == MAP_FAILED) {
		int err = errno;

		rp_err(job->log, "scrub: mmap of %llu bytes: %s",
		       (unsigned long long)len, strerror(err));
		return -err;
	}
	job->map = p;
	return 0;
}

int scrub_file(int fd, uint64_t len, uint64_t page_size, bool hugetlb,
	       enum scrub_method m, const struct scrub_opts *opts,
	       const struct scrub_ops *ops, const struct rp_log *log)
{
	struct job job = {
		.o = opts ? opts : &no_opts,
		.ops = ops ? ops : &scrub_default_ops,
		.log = log, .m = m, .fd = fd, .len = len,
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.cond = PTHREAD_COND_INITIALIZER,
	};
	const char *why = check(fd, len, page_size, m, job.o);
	uint64_t pages, off = 0;
	struct worker *w = NULL;
	unsigned int n, i;
	int ret;

	if (why) {
		rp_err(log, "scrub: bad request: %s", why);
		return -EINVAL;
	}
	pages = len / page_size;
	n = nr_threads(job.o, m, pages);
	job.chunk = job.o->chunk ? job.o->chunk : SCRUB_CHUNK;
	job.chunk -= job.chunk % page_size;
	if (!job.chunk)
		job.chunk = page_size;
	ret = job_map(&job, len);
	if (ret)
		goto out;
	w = calloc(n, sizeof(*w));
	if (!w) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		w[i].job = &job;
		w[i].off = off;
		w[i].len = (pages / n + (i < pages % n)) * page_size;
		off += w[i].len;
	}
	rp_dbg(log, "scrub: %llu bytes of %s pages of %llu, method %d, %u threads",
	       (unsigned long long)len, hugetlb ? "hugetlb" : "shmem",
	       (unsigned long long)page_size, (int)m, n);
	ret = run_workers(&job, w, n);
out:
	if (job.map)
		job.ops->munmap(job.map, len);
	free(w);
	pthread_cond_destroy(&job.cond);
	pthread_mutex_destroy(&job.lock);
	return ret;
}
