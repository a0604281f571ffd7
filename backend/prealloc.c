// SPDX-License-Identifier: LGPL-2.1-or-later
/* prealloc.c: populates a mapped range in parallel threads bound to a node, and checks where it landed. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "prealloc.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define PREALLOC_MAX_THREADS	256
#define PREALLOC_AUTO_THREADS	16
#define PREALLOC_CHUNK		(64ull << 20)
#define PLACEMENT_BATCH		1024

static long real_set_mempolicy(int mode, const unsigned long *nodemask,
			       unsigned long maxnode)
{
	return syscall(SYS_set_mempolicy, mode, nodemask, maxnode);
}

static long real_move_pages(int pid, unsigned long count, void **pages,
			    const int *nodes, int *status, int flags)
{
	return syscall(SYS_move_pages, pid, count, pages, nodes, status, flags);
}

const struct prealloc_ops prealloc_default_ops = {
	.madvise = madvise,
	.fallocate = fallocate,
	.pthread_create = pthread_create,
	.pthread_join = pthread_join,
	.set_mempolicy = real_set_mempolicy,
	.move_pages = real_move_pages,
	.sched_setaffinity = sched_setaffinity,
	.mincore = mincore,
};

/* One prealloc_run: what the threads share. */
struct job {
	const struct prealloc_req *req;
	const struct prealloc_ops *ops;
	const struct rp_log *log;
	enum prealloc_method method;	/* resolved: never AUTO */
	uint64_t chunk;

	pthread_mutex_t lock;	/* start, done, progress, sigbus */
	pthread_cond_t cond;
	int start;		/* 0: wait, 1: go, -1: give up */
	uint64_t done;
	bool sigbus;		/* holds prealloc_sigbus_get() */

	atomic_int err;		/* the first error, 0 while none */
	atomic_int populate_ok;	/* MADV_POPULATE_WRITE known: 0 ?, 1 yes, -1 no */
	atomic_bool told_affinity, told_fallocate, told_touch;
};

/* One thread: a contiguous run of pages. */
struct worker {
	struct job *job;
	pthread_t tid;
	char *addr;
	uint64_t len;
	uint64_t fd_offset;
	bool falloc;		/* fallocate first (until EOPNOTSUPP) */
	bool touch;		/* touch instead of MADV_POPULATE_WRITE */
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

static void job_add(struct job *job, uint64_t bytes)
{
	const struct prealloc_req *req = job->req;

	if (!bytes)
		return;
	pthread_mutex_lock(&job->lock);
	job->done += bytes;
	if (req->progress)
		req->progress(req->progress_data, job->done, req->len);
	pthread_mutex_unlock(&job->lock);
}

/* true: stop before the next sub-chunk */
static bool job_stop(struct job *job)
{
	if (atomic_load(&job->err))
		return true;
	if (job->req->cancel && atomic_load(job->req->cancel)) {
		job_fail(job, -ECANCELED);
		return true;
	}
	return false;
}

static bool tell_once(atomic_bool *told)
{
	return !atomic_exchange(told, true);
}

/* Takes the SIGBUS handler for the rest of the run (released by it). */
static int job_sigbus(struct job *job)
{
	int ret = 0;

	pthread_mutex_lock(&job->lock);
	if (!job->sigbus) {
		ret = prealloc_sigbus_get();
		job->sigbus = !ret;
	}
	pthread_mutex_unlock(&job->lock);
	if (ret)
		rp_err(job->log, "prealloc: cannot install the SIGBUS handler: %s",
		       strerror(-ret));
	return ret;
}

static size_t cpus_size(const struct prealloc_req *req)
{
	return req->cpus_size ? req->cpus_size : sizeof(cpu_set_t);
}

static int chunk_fallocate(struct worker *w, uint64_t off, uint64_t len)
{
	const struct prealloc_ops *ops = w->job->ops;
	int fd = w->job->req->fd;

	while (ops->fallocate(fd, 0, (off_t)off, (off_t)len) < 0) {
		switch (errno) {
		case EINTR:
			if (job_stop(w->job))
				return atomic_load(&w->job->err);
			continue;
		case ENOSPC:
		case ENOMEM:
			rp_err(w->job->log, "prealloc: fallocate of %llu bytes at "
			       "file offset %llu: out of pages (%s)",
			       (unsigned long long)len, (unsigned long long)off,
			       strerror(errno));
			return -ENOMEM;
		default: {
			int err = errno;

			rp_err(w->job->log, "prealloc: fallocate: %s",
			       strerror(err));
			return -err;
		}
		}
	}
	return 0;
}

/*
 * MADV_POPULATE_WRITE says EINVAL both when the kernel does not know it
 * and when the mapping cannot be written. A zero-length call tells them
 * apart: the kernel checks the advice before the length.
 */
static bool populate_missing(struct job *job, void *addr)
{
	int known = atomic_load(&job->populate_ok);

	if (!known) {
		known = job->ops->madvise(addr, 0, MADV_POPULATE_WRITE) ? -1 : 1;
		atomic_store(&job->populate_ok, known);
	}
	return known < 0;
}

/* 0, a negative errno, or 1: touch instead (no MADV_POPULATE_WRITE) */
static int chunk_populate(struct worker *w, char *p, uint64_t len)
{
	const struct prealloc_ops *ops = w->job->ops;

	while (ops->madvise(p, len, MADV_POPULATE_WRITE) < 0) {
		switch (errno) {
		case EINTR:
			if (job_stop(w->job))
				return atomic_load(&w->job->err);
			continue;
		case EFAULT:
		case ENOMEM:
			rp_err(w->job->log, "prealloc: MADV_POPULATE_WRITE of "
			       "%llu bytes at %p: out of pages (%s)",
			       (unsigned long long)len, (void *)p,
			       strerror(errno));
			return -ENOMEM;
		case EINVAL:
			if (!populate_missing(w->job, p)) {
				rp_err(w->job->log,
				       "prealloc: MADV_POPULATE_WRITE refused the mapping at %p (not writable?)",
				       (void *)p);
				return -EINVAL;
			}
			return 1;	/* the caller touches instead */
		default: {
			int err = errno;

			rp_err(w->job->log, "prealloc: MADV_POPULATE_WRITE: %s",
			       strerror(err));
			return -err;
		}
		}
	}
	return 0;
}

/* One sub-chunk by the worker's method; *partial: bytes of a failed touch. */
static int chunk_run(struct worker *w, char *p, uint64_t off, uint64_t len,
		     uint64_t *partial)
{
	struct job *job = w->job;
	int ret;

	*partial = 0;
	if (w->falloc) {
		ret = chunk_fallocate(w, off, len);
		if (ret != -EOPNOTSUPP) {
			if (ret || !job->req->page_tables)
				return ret;
		} else {
			w->falloc = false;
			if (tell_once(&job->told_fallocate))
				rp_info(job->log,
					"prealloc: fallocate not supported here, populating instead");
		}
	}
	if (!w->touch) {
		ret = chunk_populate(w, p, len);
		if (ret <= 0)
			return ret;
		w->touch = true;
		if (tell_once(&job->told_touch))
			rp_info(job->log,
				"prealloc: no MADV_POPULATE_WRITE (kernel < 5.14), touching pages instead");
	}
	ret = job_sigbus(job);
	if (ret)
		return ret;
	return prealloc_touch(p, len, job->req->page_size, job->req->cancel,
			      partial);
}

static int worker_setup(struct worker *w)
{
	struct job *job = w->job;
	const struct prealloc_req *req = job->req;

	if (req->cpus &&
	    job->ops->sched_setaffinity(0, cpus_size(req), req->cpus) < 0 &&
	    tell_once(&job->told_affinity))
		rp_warn(job->log,
			"prealloc: cannot pin the populating threads to their CPUs (%s); running unpinned",
			strerror(errno));
	if (req->mpol_mode >= 0 &&
	    job->ops->set_mempolicy(req->mpol_mode, req->nodemask,
				    req->nodemask ? req->maxnode + 1 : 0) < 0) {
		int err = errno;

		rp_err(job->log,
		       "prealloc: set_mempolicy(mode %d) in a populating thread failed: %s",
		       req->mpol_mode, strerror(err));
		return -err;
	}
	return 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct job *job = w->job;
	uint64_t off, n, partial;
	int start, ret;

	pthread_mutex_lock(&job->lock);
	while (!job->start)
		pthread_cond_wait(&job->cond, &job->lock);
	start = job->start;
	pthread_mutex_unlock(&job->lock);
	if (start < 0)
		return NULL;

	ret = worker_setup(w);
	if (ret) {
		job_fail(job, ret);
		return NULL;
	}
	for (off = 0; off < w->len; off += n) {
		n = w->len - off < job->chunk ? w->len - off : job->chunk;
		if (job_stop(job))
			break;
		ret = chunk_run(w, w->addr + off, w->fd_offset + off, n,
				&partial);
		if (ret) {
			job_add(job, partial);
			job_fail(job, ret);
			break;
		}
		job_add(job, n);
	}
	return NULL;
}

static int check_req(const struct prealloc_req *req, const struct rp_log *log)
{
	uint64_t ps = req->page_size;
	const char *why = NULL;

	if (!is_pow2(ps))
		why = "page size is not a power of two";
	else if (!req->len)
		why = "empty range";
	else if ((uintptr_t)req->addr % ps || req->len % ps ||
		 req->fd_offset % ps)
		why = "address, length or file offset not page aligned";
	else if ((uintptr_t)req->addr + req->len < (uintptr_t)req->addr ||
		 req->len > SIZE_MAX)
		why = "range wraps around";
	else if (req->threads > PREALLOC_MAX_THREADS)
		why = "more than 256 threads";
	else if (req->method == PREALLOC_FALLOCATE && req->fd < 0)
		why = "fallocate without a file";
	else if (req->fd >= 0 &&
		 (req->fd_offset > INT64_MAX || req->len > INT64_MAX ||
		  req->fd_offset + req->len > INT64_MAX))
		why = "file range too large";
	else if (req->mpol_mode >= 0 && req->maxnode > PREALLOC_MAX_NODES)
		why = "node mask longer than PREALLOC_MAX_NODES";
	else if ((unsigned int)req->method > PREALLOC_TOUCH)
		why = "unknown method";
	if (!why)
		return 0;
	rp_err(log, "prealloc: bad request: %s", why);
	return -EINVAL;
}

static unsigned int nr_threads(const struct prealloc_req *req)
{
	uint64_t pages = req->len / req->page_size;
	unsigned int n = req->threads;

	if (!n) {
		long cpus = req->cpus ? CPU_COUNT_S(cpus_size(req), req->cpus) :
			sysconf(_SC_NPROCESSORS_ONLN);

		n = cpus < 1 ? 1 : cpus > PREALLOC_AUTO_THREADS ?
			PREALLOC_AUTO_THREADS : (unsigned int)cpus;
	}
	return pages < n ? (unsigned int)pages : n;
}

/*
 * hugetlbfs_fallocate and shmem_fallocate hold the inode lock for the whole
 * call, so threads fallocating one file run one after the other; page
 * faults (MADV_POPULATE_WRITE) on different pages run in parallel. For 2M
 * pages the mapping is cheap (one PMD a page): with more than one thread,
 * populate (placement follows the mapping's mbind and the threads' policy,
 * and is checked either way). For 4K shmem, mapping each page costs more
 * than zeroing it, so fallocate in one thread stays ahead.
 */
static enum prealloc_method resolve(const struct prealloc_req *req,
				    unsigned int threads)
{
	if (req->method != PREALLOC_AUTO)
		return req->method;
	if (req->hugetlb && threads > 1)
		return PREALLOC_POPULATE;
	return req->file_backed && req->fd >= 0 ? PREALLOC_FALLOCATE :
		PREALLOC_POPULATE;
}

/* Contiguous runs of whole pages; the first (pages % n) get one more. */
static void split(struct job *job, struct worker *w, unsigned int n)
{
	const struct prealloc_req *req = job->req;
	uint64_t pages = req->len / req->page_size;
	uint64_t off = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		uint64_t mine = pages / n + (i < pages % n);

		w[i].job = job;
		w[i].addr = (char *)req->addr + off;
		w[i].len = mine * req->page_size;
		w[i].fd_offset = req->fd_offset + off;
		w[i].falloc = job->method == PREALLOC_FALLOCATE;
		w[i].touch = job->method == PREALLOC_TOUCH;
		off += w[i].len;
	}
}

/*
 * Starts n workers together; -EAGAIN (all started ones joined) if one
 * fails. Even one worker is a thread of its own: set_mempolicy and
 * sched_setaffinity must not change the caller's thread.
 */
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
		return 0;
	rp_err(job->log, "prealloc: cannot start populating thread %u of %u: %s",
	       started + 1, n, strerror(ret));
	return -EAGAIN;
}

int prealloc_run(const struct prealloc_req *req, const struct prealloc_ops *ops,
		 const struct rp_log *log, uint64_t *done)
{
	struct job job = {
		.req = req,
		.ops = ops ? ops : &prealloc_default_ops,
		.log = log,
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.cond = PTHREAD_COND_INITIALIZER,
	};
	struct worker *w;
	unsigned int n;
	int ret;

	if (done)
		*done = 0;
	ret = check_req(req, log);
	if (ret)
		return ret;
	n = nr_threads(req);
	job.method = resolve(req, n);
	job.chunk = req->chunk ? req->chunk : PREALLOC_CHUNK;
	job.chunk -= job.chunk % req->page_size;
	if (!job.chunk)
		job.chunk = req->page_size;
	w = calloc(n, sizeof(*w));
	if (!w) {
		ret = -ENOMEM;
		goto out;
	}
	split(&job, w, n);
	if (job.method == PREALLOC_TOUCH) {
		ret = job_sigbus(&job);
		if (ret)
			goto out;
	}
	rp_dbg(log, "prealloc: %llu bytes at %p, method %d, %u threads",
	       (unsigned long long)req->len, req->addr, job.method, n);
	ret = run_workers(&job, w, n);
	if (!ret)
		ret = atomic_load(&job.err);
out:
	if (job.sigbus)
		prealloc_sigbus_put();
	if (done)
		*done = job.done;
	free(w);
	pthread_cond_destroy(&job.cond);
	pthread_mutex_destroy(&job.lock);
	return ret;
}

static bool in_mask(const unsigned long *mask, unsigned long maxnode, int node)
{
	const unsigned int bits = sizeof(*mask) * CHAR_BIT;

	if (node < 0 || (unsigned long)node >= maxnode)
		return false;
	return mask[node / bits] >> (node % bits) & 1;
}

int prealloc_placement(void *addr, uint64_t len, uint64_t page_size,
		       const unsigned long *nodemask, unsigned long maxnode,
		       const struct prealloc_ops *ops, uint64_t *counts,
		       unsigned int nr_counts, uint64_t *absent,
		       uint64_t *off_node)
{
	void *pages[PLACEMENT_BATCH];
	int status[PLACEMENT_BATCH];
	uint64_t off = 0, nabsent = 0, noff = 0;
	unsigned int i;

	if (!ops)
		ops = &prealloc_default_ops;
	if (!is_pow2(page_size) || (uintptr_t)addr % page_size ||
	    len % page_size || (uintptr_t)addr + len < (uintptr_t)addr ||
	    (nr_counts && !counts))
		return -EINVAL;
	for (i = 0; i < nr_counts; i++)
		counts[i] = 0;
	while (off < len) {
		uint64_t left = (len - off) / page_size;
		unsigned long nr = left < PLACEMENT_BATCH ? left : PLACEMENT_BATCH;

		for (i = 0; i < nr; i++) {
			pages[i] = (char *)addr + off + i * page_size;
			status[i] = -ENOENT;
		}
		if (ops->move_pages(0, nr, pages, NULL, status, 0) < 0)
			return -errno;
		for (i = 0; i < nr; i++) {
			int node = status[i];

			if (node < 0) {
				nabsent++;
				continue;
			}
			if ((unsigned int)node < nr_counts)
				counts[node]++;
			if (nodemask && !in_mask(nodemask, maxnode, node))
				noff++;
		}
		off += nr * page_size;
	}
	if (absent)
		*absent = nabsent;
	if (off_node)
		*off_node = noff;
	return 0;
}

/*
 * Maps [addr, addr + len) and asks where its pages are; adds to *absent
 * and *off_node.
 */
static int placement_of(void *addr, uint64_t len, uint64_t page_size,
			const unsigned long *nodemask, unsigned long maxnode,
			const struct prealloc_ops *ops, const struct rp_log *log,
			uint64_t *absent, uint64_t *off_node)
{
	uint64_t a = 0, o = 0;
	int ret;

	/*
	 * fallocate fills the file, not our page tables, and move_pages only
	 * sees mapped pages: map them (reading maps the pages fallocate put
	 * in the file without writing them).
	 */
	if (ops->madvise(addr, len, MADV_POPULATE_READ) && errno != EINVAL) {
		ret = -errno;
		rp_err(log, "mapping pages to check placement: %s",
		       strerror(-ret));
		return ret == -EFAULT ? -ENOMEM : ret;
	}
	ret = prealloc_placement(addr, len, page_size, nodemask, maxnode, ops,
				 NULL, 0, &a, &o);
	if (ret) {
		rp_err(log, "placement check: %s", strerror(-ret));
		return ret;
	}
	*absent += a;
	*off_node += o;
	return 0;
}

int prealloc_sample_placement(void *addr, uint64_t len, uint64_t page_size,
			      const unsigned long *nodemask,
			      unsigned long maxnode,
			      const struct prealloc_ops *ops,
			      const struct rp_log *log, uint64_t *absent,
			      uint64_t *off_node, uint64_t *seen)
{
	const uint64_t stride = PREALLOC_PLACEMENT_STRIDE;
	char *p = addr;
	int ret = 0;

	if (!ops)
		ops = &prealloc_default_ops;
	*absent = *off_node = *seen = 0;
	if (page_size >= stride) {
		*seen = len / page_size;
		return placement_of(p, len, page_size, nodemask, maxnode, ops,
				    log, absent, off_node);
	}
	for (uint64_t at = 0; !ret && at < len; at += stride) {
		ret = placement_of(p + at, page_size, page_size, nodemask,
				   maxnode, ops, log, absent, off_node);
		++*seen;
	}
	if (!ret && (len - page_size) % stride) {
		ret = placement_of(p + len - page_size, page_size, page_size,
				   nodemask, maxnode, ops, log, absent,
				   off_node);
		++*seen;
	}
	return ret;
}
