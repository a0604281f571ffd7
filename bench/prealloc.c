// SPDX-License-Identifier: LGPL-2.1-or-later
/* prealloc.c: times populating 2M hugetlb and 4K shmem memfds with rampool against memset, touching, MAP_POPULATE and QEMU's MADV_POPULATE_WRITE, in one run. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "rampool.h"

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif
#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB (21U << 26)
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define GIB (1ULL << 30)
#define MB2 (2ULL << 20)
#define PAGE4K 4096ULL
#define MAX_THREADS 256
#define MAX_METHODS 48
#define POOL_DIR "/sys/kernel/mm/hugepages/hugepages-2048kB/"

/* ---- options, output ---------------------------------------------------- */

static uint64_t opt_size = 4 * GIB;
static unsigned int opt_repeat = 3;
static unsigned int opt_threads;	/* 0: online CPUs */
static bool opt_json, opt_verbose;
static bool opt_hugetlb = true, opt_shmem = true;

static bool failed;	/* something broke: exit 1 at the end */

/* Lines for the reader: stdout for the table, stderr when stdout is JSON. */
__attribute__((format(printf, 1, 2)))
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(opt_json ? stderr : stdout, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 1, 2)))
static void complain(const char *fmt, ...)
{
	va_list ap;

	fputs("bench/prealloc: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	failed = true;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* "4G", "512M", "4GiB", "1073741824" */
static int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	}
	if (shift && (!strcmp(end, "iB") || !strcmp(end, "B")))
		end += strlen(end);
	if (*end || (v << shift) >> shift != v)
		return -EINVAL;
	*out = v << shift;
	return 0;
}

/* ---- the 2M hugetlb pool: raised for the run, restored on every exit ---- */

static uint64_t pool_old, pool_set;	/* nr_hugepages before and as raised */
static volatile sig_atomic_t pool_raised;

/* Async-signal-safe (open, read, close): 0 or a negative errno. */
static int read_u64(const char *path, uint64_t *v)
{
	char buf[32];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || buf[0] < '0' || buf[0] > '9')
		return -EIO;
	*v = 0;
	for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; i++)
		*v = *v * 10 + (uint64_t)(buf[i] - '0');
	return 0;
}

/* Async-signal-safe (open, write, close): 0 or a negative errno. */
static int write_u64(const char *path, uint64_t v)
{
	char buf[24];
	int i = sizeof(buf), fd;
	ssize_t n;

	buf[--i] = '\n';
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, buf + i, sizeof(buf) - (size_t)i);
	if (n < 0)
		n = -errno;
	close(fd);
	return n < 0 ? (int)n : 0;
}

/*
 * Gives back the pages the benchmark added. If someone else changed the
 * pool meanwhile, only our increment comes off (and nothing when they
 * lowered it below what we set: theirs now). Async-signal-safe.
 */
static void pool_restore(void)
{
	uint64_t cur;

	if (!pool_raised)
		return;
	pool_raised = 0;
	if (read_u64(POOL_DIR "nr_hugepages", &cur) || cur < pool_set)
		return;
	write_u64(POOL_DIR "nr_hugepages", cur - (pool_set - pool_old));
}

static void on_signal(int sig)
{
	pool_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * Makes sure `need` 2M pages are free and unreserved. 0, or -1 with *why
 * saying why the hugetlb case cannot run.
 */
static int pool_raise(uint64_t need, char *why, size_t whylen)
{
	uint64_t nr, free_, resv, got = 0, target;

	if (read_u64(POOL_DIR "nr_hugepages", &nr) ||
	    read_u64(POOL_DIR "free_hugepages", &free_) ||
	    read_u64(POOL_DIR "resv_hugepages", &resv)) {
		snprintf(why, whylen, "no 2M hugetlb pool (%s)", POOL_DIR);
		return -1;
	}
	if (free_ >= resv && free_ - resv >= need) {
		say("hugetlb 2M pool: %" PRIu64 " pages free, %" PRIu64
		    " needed: left as it is\n", free_ - resv, need);
		return 0;
	}
	if (geteuid()) {
		snprintf(why, whylen,
			 "not root and the 2M pool has %" PRIu64
			 " free pages of the %" PRIu64 " needed",
			 free_ > resv ? free_ - resv : 0, need);
		return -1;
	}
	target = nr + need - (free_ > resv ? free_ - resv : 0);
	pool_old = nr;
	pool_set = target;
	pool_raised = 1;
	/* the kernel may give fewer pages than asked: take back what it gave */
	if (write_u64(POOL_DIR "nr_hugepages", target) ||
	    read_u64(POOL_DIR "nr_hugepages", &got) ||
	    read_u64(POOL_DIR "free_hugepages", &free_) ||
	    read_u64(POOL_DIR "resv_hugepages", &resv) ||
	    free_ < resv || free_ - resv < need) {
		if (!read_u64(POOL_DIR "nr_hugepages", &got))
			pool_set = got > nr ? got : nr;
		pool_restore();
		snprintf(why, whylen,
			 "could not raise the 2M pool from %" PRIu64
			 " to %" PRIu64 " pages (got %" PRIu64 ")",
			 nr, target, got);
		return -1;
	}
	say("hugetlb 2M pool: nr_hugepages raised %" PRIu64 " -> %" PRIu64
	    " (put back at exit)\n", nr, target);
	return 0;
}

/* ---- what else ran: 2-thread figures mean little on a busy machine ------ */

struct cpu_mark {
	double wall, busy, steal, own;	/* seconds */
};

static void cpu_mark(struct cpu_mark *m)
{
	unsigned long long v[8] = { 0 };
	double hz = (double)sysconf(_SC_CLK_TCK);
	struct rusage ru;
	FILE *f = fopen("/proc/stat", "re");

	m->wall = now();
	m->busy = m->steal = m->own = 0;
	if (f) {
		/* cpu  user nice system idle iowait irq softirq steal */
		if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
			   &v[7]) == 8) {
			m->busy = (v[0] + v[1] + v[2] + v[5] + v[6]) / hz;
			m->steal = v[7] / hz;
		}
		fclose(f);
	}
	if (!getrusage(RUSAGE_SELF, &ru))
		m->own = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
			 ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* CPUs kept busy by other processes, and stolen by the host, on average */
static void cpu_since(const struct cpu_mark *a, double *others, double *steal)
{
	struct cpu_mark b;
	double wall;

	cpu_mark(&b);
	wall = b.wall - a->wall;
	*others = *steal = 0;
	if (wall <= 0)
		return;
	*others = (b.busy - a->busy - (b.own - a->own)) / wall;
	if (*others < 0)
		*others = 0;
	*steal = (b.steal - a->steal) / wall;
}

/* ---- the cases and methods ---------------------------------------------- */

struct bcase {
	const char *name;	/* "hugetlb-2M", "shmem-4K" */
	bool hugetlb;
	uint64_t page_size;
};

enum kind {
	K_MEMSET,		/* memset over populated memory: the ceiling */
	K_MEMSET_PAGE,		/* the same, one memset per page */
	K_TOUCH,		/* one byte written per page, one thread */
	K_MAP_POPULATE,		/* mmap(MAP_SHARED | MAP_POPULATE) */
	K_POPULATE_WRITE,	/* one MADV_POPULATE_WRITE: QEMU's method */
	K_RAMPOOL,		/* rampool_block_new(PREALLOC) end to end */
};

struct method {
	enum kind kind;
	const char *id;		/* JSON "method" */
	char label[48];
	unsigned int threads;
	unsigned int flags;	/* rampool block flags beyond PREALLOC */
	double *secs;		/* per repeat: the timed span */
	/* rampool only, per repeat: before population, population, after */
	double *setup, *fill, *after;
	int how;		/* rampool's method (its log), -1: unseen */
	/* results */
	double med, spread, gib_s, med_setup, med_fill, med_after;
	bool ok;
};

/* What rampool's log and progress callbacks tell the timing. */
struct rp_clock {
	double fill_start, fill_end;
	int how;
};

static struct rp_clock rp_clk;

static void rp_log(void *data, enum rampool_log_level level, const char *msg)
{
	int how;

	(void)data;
	/* prealloc_run logs this just before its threads start */
	if (!strncmp(msg, "prealloc: ", 10) && strstr(msg, " bytes at ")) {
		rp_clk.fill_start = now();
		if (strstr(msg, ", method ") &&
		    sscanf(strstr(msg, ", method "), ", method %d", &how) == 1)
			rp_clk.how = how;
		return;
	}
	if (level <= RAMPOOL_LOG_WARN)
		fprintf(stderr, "rampool: %s\n", msg);
}

static void rp_progress(void *data, uint64_t done, uint64_t total)
{
	(void)data;
	if (done == total)
		rp_clk.fill_end = now();
}

static int make_fd(const struct bcase *c)
{
	int fd = memfd_create("bench", MFD_CLOEXEC |
			      (c->hugetlb ? MFD_HUGETLB | MFD_HUGE_2MB : 0));

	if (fd < 0) {
		complain("memfd_create: %s", strerror(errno));
		return -1;
	}
	if (ftruncate(fd, (off_t)opt_size)) {
		complain("ftruncate: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static char *map_fd(int fd, int extra)
{
	char *p = mmap(NULL, opt_size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | extra, fd, 0);

	if (p == MAP_FAILED) {
		complain("mmap %" PRIu64 " bytes: %s", opt_size,
			 strerror(errno));
		return NULL;
	}
	return p;
}

/* not inlined, so the page loop stays a loop of page-sized memsets */
static void *(*volatile memset_call)(void *, int, size_t) = memset;

struct slice {
	pthread_t tid;
	char *p;
	size_t len;
	size_t piece;		/* one memset call per piece */
};

static void *memset_slice(void *arg)
{
	struct slice *s = arg;

	for (size_t off = 0; off < s->len; off += s->piece)
		memset_call(s->p + off, 0, s->piece);
	return NULL;
}

/*
 * memset of [p, p + opt_size) split over n threads, in one call per thread
 * or (per_page) one call per page; seconds or < 0
 */
static double timed_memset(char *p, unsigned int n, uint64_t page_size,
			   bool per_page)
{
	struct slice s[MAX_THREADS];
	uint64_t pages = opt_size / page_size, off = 0;
	unsigned int i, started;
	double t0, t1;

	for (i = 0; i < n; i++) {
		s[i].p = p + off;
		s[i].len = (pages / n + (i < pages % n)) * page_size;
		s[i].piece = per_page ? page_size : s[i].len;
		off += s[i].len;
	}
	t0 = now();
	if (n == 1) {
		memset_slice(&s[0]);
		return now() - t0;
	}
	for (started = 0; started < n; started++)
		if (pthread_create(&s[started].tid, NULL, memset_slice,
				   &s[started]))
			break;
	for (i = 0; i < started; i++)
		pthread_join(s[i].tid, NULL);
	t1 = now();
	if (started < n) {
		complain("memset: cannot start thread %u", started + 1);
		return -1;
	}
	return t1 - t0;
}

/*
 * The memset rows of one repeat share one populated backing (populating
 * 4K shmem takes seconds here, and it is not what they time).
 */
static int ceil_fd = -1;
static char *ceil_p;

static void ceil_drop(void)
{
	if (ceil_p)
		munmap(ceil_p, opt_size);
	if (ceil_fd >= 0)
		close(ceil_fd);
	ceil_p = NULL;
	ceil_fd = -1;
}

static char *ceil_get(const struct bcase *c)
{
	if (ceil_p)
		return ceil_p;
	ceil_fd = make_fd(c);
	if (ceil_fd < 0)
		return NULL;
	ceil_p = map_fd(ceil_fd, 0);
	if (!ceil_p) {
		ceil_drop();
		return NULL;
	}
	if (madvise(ceil_p, opt_size, MADV_POPULATE_WRITE)) {
		complain("%s: populating before memset: %s", c->name,
			 strerror(errno));
		ceil_drop();
	}
	return ceil_p;
}

/* One timed memset row over the shared populated backing. */
static double run_memset(const struct bcase *c, const struct method *m)
{
	char *p = ceil_get(c);

	if (!p)
		return -1;
	return timed_memset(p, m->threads, c->page_size,
			    m->kind == K_MEMSET_PAGE);
}

/* One timed run of m on a fresh backing; seconds or < 0 (complained). */
static double run_baseline(const struct bcase *c, const struct method *m)
{
	double t0, t = -1;
	char *p = NULL;
	int fd;

	if (m->kind == K_MEMSET || m->kind == K_MEMSET_PAGE)
		return run_memset(c, m);
	ceil_drop();
	fd = make_fd(c);
	if (fd < 0)
		return -1;
	switch (m->kind) {
	case K_MEMSET:
	case K_MEMSET_PAGE:
		break;
	case K_TOUCH:
		p = map_fd(fd, 0);
		if (!p)
			break;
		t0 = now();
		for (uint64_t off = 0; off < opt_size; off += c->page_size)
			*(volatile char *)(p + off) = 0;
		t = now() - t0;
		break;
	case K_MAP_POPULATE:
		t0 = now();
		p = map_fd(fd, MAP_POPULATE);
		t = now() - t0;
		if (!p)
			t = -1;
		break;
	case K_POPULATE_WRITE:
		p = map_fd(fd, 0);
		if (!p)
			break;
		t0 = now();
		if (madvise(p, opt_size, MADV_POPULATE_WRITE)) {
			complain("%s: MADV_POPULATE_WRITE: %s", c->name,
				 strerror(errno));
			break;
		}
		t = now() - t0;
		break;
	case K_RAMPOOL:
		break;
	}
	if (p)
		munmap(p, opt_size);
	close(fd);
	return t;
}

static void warm_up(const struct bcase *c)
{
	struct method m = { .kind = K_POPULATE_WRITE, .threads = 1 };

	run_baseline(c, &m);
}

static struct rampool_pool *rp_pool;
static int bench_node;

static double run_rampool(const struct bcase *c, struct method *m,
			  unsigned int rep)
{
	struct rampool_block_opts o = {
		.sz = sizeof(o),
		.size = opt_size,
		.page_size = c->page_size,
		.backing = c->hugetlb ? RAMPOOL_BACKING_MEMFD_HUGETLB :
					RAMPOOL_BACKING_MEMFD,
		.nodes = &bench_node,
		.nr_nodes = 1,
		.policy = RAMPOOL_POLICY_BIND,
		.flags = RAMPOOL_BLOCK_PREALLOC | m->flags,
		.threads = m->threads,
		.name = "bench",
		.progress = rp_progress,
	};
	struct rampool_block *blk;
	double t0, t1;
	int ret;

	ceil_drop();
	rp_clk = (struct rp_clock){ .fill_start = -1, .fill_end = -1,
				    .how = -1 };
	t0 = now();
	ret = rampool_block_new(rp_pool, &o, &blk);
	t1 = now();
	if (ret) {
		complain("%s: rampool_block_new (%s, %u threads): %s", c->name,
			 m->label, m->threads, strerror(-ret));
		return -1;
	}
	rampool_block_free(blk);
	if (rp_clk.fill_start < 0 || rp_clk.fill_end < rp_clk.fill_start) {
		m->setup[rep] = m->fill[rep] = m->after[rep] = -1;
	} else {
		m->setup[rep] = rp_clk.fill_start - t0;
		m->fill[rep] = rp_clk.fill_end - rp_clk.fill_start;
		m->after[rep] = t1 - rp_clk.fill_end;
	}
	m->how = rp_clk.how;
	return t1 - t0;
}

/* ---- statistics --------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v, unsigned int n)
{
	static double s[1000];	/* --repeat is at most 1000 */

	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static void summarize(struct method *m)
{
	double lo = m->secs[0], hi = m->secs[0];
	bool split = m->kind == K_RAMPOOL;

	for (unsigned int r = 0; r < opt_repeat; r++) {
		if (m->secs[r] <= 0) {
			m->ok = false;
			return;
		}
		lo = m->secs[r] < lo ? m->secs[r] : lo;
		hi = m->secs[r] > hi ? m->secs[r] : hi;
		if (split && m->setup[r] < 0)
			split = false;
	}
	m->ok = true;
	m->med = median(m->secs, opt_repeat);
	m->spread = (hi - lo) / m->med;
	m->gib_s = (double)opt_size / GIB / m->med;
	m->med_setup = m->med_fill = m->med_after = -1;
	if (split) {
		m->med_setup = median(m->setup, opt_repeat);
		m->med_fill = median(m->fill, opt_repeat);
		m->med_after = median(m->after, opt_repeat);
	}
}

/* ---- one case ----------------------------------------------------------- */

static struct json_object *j_results, *j_skipped, *j_cases;

static void add_method(struct method *ms, unsigned int *n, enum kind kind,
		       const char *id, const char *label, unsigned int threads,
		       unsigned int flags)
{
	struct method *m = &ms[(*n)++];

	*m = (struct method){ .kind = kind, .id = id, .threads = threads,
			      .flags = flags, .how = -1 };
	snprintf(m->label, sizeof(m->label), "%s", label);
	m->secs = calloc(opt_repeat, sizeof(double));
	m->setup = calloc(opt_repeat, sizeof(double));
	m->fill = calloc(opt_repeat, sizeof(double));
	m->after = calloc(opt_repeat, sizeof(double));
	if (!m->secs || !m->setup || !m->fill || !m->after) {
		fprintf(stderr, "bench/prealloc: out of memory\n");
		exit(1);
	}
}

static unsigned int thread_counts(unsigned int *t)
{
	unsigned int n = 0, max = opt_threads;

	for (unsigned int k = 1; k < max && n < 8; k *= 2)
		t[n++] = k;
	t[n++] = max;
	return n;
}

static const char *how_name(int how)
{
	switch (how) {
	case 1: return "fallocate";
	case 2: return "populate";
	case 3: return "touch";
	default: return "?";
	}
}

/* o[key] = v, printed with that many decimals */
static void jnum(struct json_object *o, const char *key, double v,
		 int decimals)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	json_object_object_add(o, key, json_object_new_double_s(v, buf));
}

static void jstr(struct json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, json_object_new_string(v));
}

static void jint(struct json_object *o, const char *key, int v)
{
	json_object_object_add(o, key, json_object_new_int(v));
}

static void report(const struct bcase *c, struct method *ms, unsigned int n,
		   double others, double steal)
{
	const struct method *ceil = NULL, *qemu = NULL, *r1 = NULL, *r2 = NULL;
	char spread[16], fill[16], setup[16], after[16];

	for (unsigned int i = 0; i < n; i++) {
		const struct method *m = &ms[i];

		if (!m->ok)
			continue;
		if (m->kind == K_MEMSET && m->threads == 1)
			ceil = m;
		if (m->kind == K_POPULATE_WRITE)
			qemu = m;
		if (m->kind == K_RAMPOOL && !m->flags && m->threads == 1)
			r1 = m;
		if (m->kind == K_RAMPOOL && !m->flags && m->threads == 2)
			r2 = m;
	}
	if (!opt_json) {
		printf("\n%-10s  %-32s %3s %7s %6s %6s %5s | %9s %8s %8s\n",
		       "case", "method", "thr", "GiB/s", "xceil", "xqemu",
		       "±%", "fillGiB/s", "setup ms", "after ms");
	}
	for (unsigned int i = 0; i < n; i++) {
		const struct method *m = &ms[i];
		double rc = ceil && m->ok ? m->gib_s / ceil->gib_s : 0;
		double rq = qemu && m->ok ? m->gib_s / qemu->gib_s : 0;
		char label[96];
		struct json_object *o;

		snprintf(label, sizeof(label), "%s", m->label);
		if (m->kind == K_RAMPOOL && m->how >= 0)
			snprintf(label, sizeof(label), "%s [%s]", m->label,
				 how_name(m->how));
		if (!opt_json) {
			if (!m->ok) {
				printf("%-10s  %-32s %3u  failed (see above)\n",
				       c->name, label, m->threads);
				continue;
			}
			snprintf(spread, sizeof(spread), "%.0f",
				 m->spread * 100);
			strcpy(fill, "-");
			strcpy(setup, "-");
			strcpy(after, "-");
			if (m->med_fill > 0) {
				snprintf(fill, sizeof(fill), "%.2f",
					 (double)opt_size / GIB / m->med_fill);
				snprintf(setup, sizeof(setup), "%.1f",
					 m->med_setup * 1e3);
				snprintf(after, sizeof(after), "%.1f",
					 m->med_after * 1e3);
			}
			printf("%-10s  %-32s %3u %7.2f %6.2f %6.2f %5s | "
			       "%9s %8s %8s\n", c->name, label, m->threads,
			       m->gib_s, rc, rq, spread, fill, setup, after);
			continue;
		}
		if (!m->ok)
			continue;
		o = json_object_new_object();
		jstr(o, "case", c->name);
		jstr(o, "method", m->id);
		jint(o, "threads", (int)m->threads);
		jnum(o, "gib_s", m->gib_s, 3);
		jnum(o, "ratio_ceiling", rc, 3);
		jnum(o, "ratio_qemu", rq, 3);
		jnum(o, "seconds", m->med, 4);
		jnum(o, "spread", m->spread, 3);
		if (m->kind == K_RAMPOOL)
			jstr(o, "populate_method", how_name(m->how));
		if (m->kind == K_RAMPOOL && m->med_fill > 0) {
			jnum(o, "populate_gib_s",
			     (double)opt_size / GIB / m->med_fill, 3);
			jnum(o, "setup_s", m->med_setup, 4);
			jnum(o, "after_s", m->med_after, 4);
		}
		json_object_array_add(j_results, o);
	}
	if (opt_json) {
		struct json_object *o = json_object_new_object();

		jstr(o, "case", c->name);
		if (r1 && ceil)
			jnum(o, "rampool_1_ratio_ceiling",
			     r1->gib_s / ceil->gib_s, 3);
		if (r1 && r2)
			jnum(o, "rampool_2_over_1", r2->gib_s / r1->gib_s, 3);
		if (r1 && qemu)
			jnum(o, "rampool_1_ratio_qemu",
			     r1->gib_s / qemu->gib_s, 3);
		if (r2 && qemu)
			jnum(o, "rampool_2_ratio_qemu",
			     r2->gib_s / qemu->gib_s, 3);
		jnum(o, "other_cpus", others, 2);
		jnum(o, "steal_cpus", steal, 2);
		json_object_array_add(j_cases, o);
		return;
	}
	if (r1 && ceil)
		printf("%s: rampool 1 thread = %.2fx the memset ceiling\n",
		       c->name, r1->gib_s / ceil->gib_s);
	if (r1 && r2)
		printf("%s: rampool 2 threads / 1 thread = %.2fx\n", c->name,
		       r2->gib_s / r1->gib_s);
	if (r1 && qemu)
		printf("%s: rampool 1 thread = %.2fx QEMU's method\n", c->name,
		       r1->gib_s / qemu->gib_s);
	if (r2 && qemu)
		printf("%s: rampool 2 threads = %.2fx QEMU's method\n", c->name,
		       r2->gib_s / qemu->gib_s);
}

static void skip(const char *name, const char *why)
{
	say("%s: SKIPPED: %s\n", name, why);
	if (j_skipped) {
		struct json_object *o = json_object_new_object();

		jstr(o, "case", name);
		jstr(o, "reason", why);
		json_object_array_add(j_skipped, o);
	}
}

static void run_case(const struct bcase *c)
{
	struct method ms[MAX_METHODS];
	unsigned int t[16], nt = thread_counts(t), n = 0;
	double t0 = now(), others, steal;
	struct cpu_mark mark;

	add_method(ms, &n, K_MEMSET, "memset", "memset (ceiling)", 1, 0);
	for (unsigned int i = 0; i < nt; i++)
		if (t[i] > 1)
			add_method(ms, &n, K_MEMSET, "memset", "memset", t[i],
				   0);
	for (unsigned int i = 0; i < nt; i++)
		add_method(ms, &n, K_MEMSET_PAGE, "memset_per_page",
			   c->hugetlb ? "memset per 2M page" :
					"memset per 4K page", t[i], 0);
	add_method(ms, &n, K_TOUCH, "touch", "touch 1 byte/page", 1, 0);
	add_method(ms, &n, K_MAP_POPULATE, "map_populate", "mmap MAP_POPULATE",
		   1, 0);
	add_method(ms, &n, K_POPULATE_WRITE, "madv_populate_write",
		   "MADV_POPULATE_WRITE (QEMU)", 1, 0);
	for (unsigned int i = 0; i < nt; i++)
		add_method(ms, &n, K_RAMPOOL, "rampool", "rampool", t[i], 0);
	for (unsigned int i = 0; i < nt; i++)
		add_method(ms, &n, K_RAMPOOL, "rampool_page_tables",
			   "rampool PAGE_TABLES", t[i],
			   RAMPOOL_BLOCK_PAGE_TABLES);

	/* untimed: the host backs the pages once (a fresh pool is slow) */
	warm_up(c);
	cpu_mark(&mark);
	/* A/B/A/B: each repeat runs every method once, in the same order */
	for (unsigned int r = 0; r < opt_repeat; r++) {
		for (unsigned int i = 0; i < n; i++) {
			struct method *m = &ms[i];

			m->secs[r] = m->kind == K_RAMPOOL ?
				run_rampool(c, m, r) : run_baseline(c, m);
			if (opt_verbose)
				say("  run %u  %-10s %-28s %3u  %.4f s\n",
				    r + 1, c->name, m->label, m->threads,
				    m->secs[r]);
		}
		ceil_drop();
	}
	cpu_since(&mark, &others, &steal);
	for (unsigned int i = 0; i < n; i++)
		summarize(&ms[i]);
	report(c, ms, n, others, steal);
	say("%s: %u runs in %.1f s; meanwhile other processes kept %.2f CPUs "
	    "busy and the host stole %.2f%s\n", c->name, n * opt_repeat,
	    now() - t0, others, steal,
	    others > 0.1 || steal > 0.1 ?
		    " (not quiet: multi-thread figures suffer)" :
		    "");
	for (unsigned int i = 0; i < n; i++) {
		free(ms[i].secs);
		free(ms[i].setup);
		free(ms[i].fill);
		free(ms[i].after);
	}
}

/* ---- main --------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
"usage: prealloc [--size BYTES] [--repeat N] [--threads N]\n"
"                [--case hugetlb|shmem|all] [--json] [--verbose]\n"
"  --size     bytes per run, K/M/G/T suffixes (default 4G; a multiple of 2M)\n"
"  --repeat   runs per method; figures are medians (default 3)\n"
"  --threads  most threads to try (1, 2, 4, ... and N; default: online CPUs)\n"
"  --case     which backing (default all)\n"
"  --json     print one JSON document instead of the table\n"
"  --verbose  also print every run's seconds as it ends\n");
}

static int bad_opt(const char *opt, const char *arg, const char *want)
{
	fprintf(stderr, "bench/prealloc: %s %s: want %s\n", opt, arg, want);
	return 2;
}

static void header(void)
{
	struct utsname u;
	char thp[128] = "?";
	int fd = open("/sys/kernel/mm/transparent_hugepage/shmem_enabled",
		      O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		ssize_t k = read(fd, thp, sizeof(thp) - 1);

		thp[k > 0 ? k : 0] = 0;
		thp[strcspn(thp, "\n")] = 0;
		close(fd);
	}
	uname(&u);
	say("bench/prealloc: %.2f GiB per run, median of %u interleaved runs, "
	    "threads 1..%u; kernel %s, %ld CPUs, rampool %s\n",
	    (double)opt_size / GIB, opt_repeat, opt_threads, u.release,
	    sysconf(_SC_NPROCESSORS_ONLN), rampool_version());
	say("shmem THP (shmem_enabled): %s\n", thp);
	say("timed: memset rows - memset alone, over memory populated before "
	    "(untimed); touch, MADV_POPULATE_WRITE - the loop / the call, on a "
	    "fresh memfd already mmapped; MAP_POPULATE - the mmap call on a "
	    "fresh memfd; rampool - rampool_block_new(PREALLOC) end to end "
	    "(memfd, seals, mmap, mbind to node %d, populate, placement "
	    "check), [how it populated], and split at the right into setup | "
	    "population alone (fillGiB/s) | after (placement check, "
	    "bookkeeping). Freeing is never timed; one untimed populate warms "
	    "each case up.\n", bench_node);
	say("xceil, xqemu: GiB/s over the 1-thread memset row and over the "
	    "MADV_POPULATE_WRITE row of the same case; ±%%: (max - min) / "
	    "median of the runs.\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "size", required_argument, NULL, 's' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "threads", required_argument, NULL, 't' },
		{ "case", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	static const struct bcase hugetlb = { "hugetlb-2M", true, MB2 };
	static const struct bcase shmem = { "shmem-4K", false, PAGE4K };
	struct rampool_pool_opts po = {
		.sz = sizeof(po),
		.sysroot = "/",
		.log_fn = rp_log,
		.log_level = RAMPOOL_LOG_DEBUG,
	};
	struct json_object *doc = NULL;
	unsigned int cpu, node;
	char *end;
	int c, ret;

	while ((c = getopt_long(argc, argv, "s:r:t:c:jvh", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_size(optarg, &opt_size) || !opt_size ||
			    opt_size % MB2) {
				return bad_opt("--size", optarg,
					       "a positive multiple of 2M");
			}
			break;
		case 'r':
			opt_repeat = (unsigned int)strtoul(optarg, &end, 10);
			if (*end || !opt_repeat || opt_repeat > 1000) {
				return bad_opt("--repeat", optarg, "1..1000");
			}
			break;
		case 't':
			opt_threads = (unsigned int)strtoul(optarg, &end, 10);
			if (*end || !opt_threads || opt_threads > MAX_THREADS) {
				return bad_opt("--threads", optarg, "1..256");
			}
			break;
		case 'c':
			opt_hugetlb = !strcmp(optarg, "hugetlb") ||
				      !strcmp(optarg, "all");
			opt_shmem = !strcmp(optarg, "shmem") ||
				    !strcmp(optarg, "all");
			if (!opt_hugetlb && !opt_shmem) {
				return bad_opt("--case", optarg,
					       "hugetlb, shmem or all");
			}
			break;
		case 'j':
			opt_json = true;
			break;
		case 'v':
			opt_verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	if (!opt_threads) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		opt_threads = n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS :
			(unsigned int)n;
	}
	/* rampool binds to the node the benchmark starts on */
	bench_node = getcpu(&cpu, &node) ? 0 : (int)node;

	atexit(pool_restore);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);

	ret = rampool_pool_new(&po, &rp_pool);
	if (ret) {
		fprintf(stderr, "bench/prealloc: rampool_pool_new: %s\n",
			strerror(-ret));
		return 1;
	}
	if (opt_json) {
		doc = json_object_new_object();
		j_results = json_object_new_array();
		j_skipped = json_object_new_array();
		j_cases = json_object_new_array();
	}
	header();

	if (opt_hugetlb) {
		char why[160];

		if (pool_raise(opt_size / MB2, why, sizeof(why)))
			skip(hugetlb.name, why);
		else
			run_case(&hugetlb);
		pool_restore();
	}
	if (opt_shmem)
		run_case(&shmem);

	if (opt_json) {
		struct utsname u;

		uname(&u);
		json_object_object_add(doc, "size", json_object_new_int64(
					       (int64_t)opt_size));
		jint(doc, "repeat", (int)opt_repeat);
		jint(doc, "max_threads", (int)opt_threads);
		jstr(doc, "kernel", u.release);
		jint(doc, "node", bench_node);
		json_object_object_add(doc, "results", j_results);
		json_object_object_add(doc, "cases", j_cases);
		json_object_object_add(doc, "skipped", j_skipped);
		printf("%s\n", json_object_to_json_string_ext(doc,
			JSON_C_TO_STRING_PRETTY |
			JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(doc);
	}
	rampool_pool_free(rp_pool);
	return failed ? 1 : 0;
}
