// SPDX-License-Identifier: LGPL-2.1-or-later
/* prealloc.c: times populating 2M hugetlb and 4K shmem memfds with rampool against memset, fallocate, touching, MAP_POPULATE and QEMU's MADV_POPULATE_WRITE, in one run, each row labelled with the end state it reaches. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <json-c/json.h>

#include "rampool.h"
#include "prealloc.h"
#include "util.h"

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif
#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB (21U << 26)
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define MB2 (2ULL << 20)
#define PAGE4K 4096ULL
#define MAX_THREADS 256
#define MAX_METHODS 48

/* ---- options, output ---------------------------------------------------- */

uint64_t opt_size = 4 * GIB;
static unsigned int opt_repeat = 3;
static unsigned int opt_threads;	/* 0: online CPUs */
static bool opt_verbose;
static bool opt_hugetlb = true, opt_shmem = true;

/* Lines for the reader: stdout for the table, stderr when stdout is JSON. */
/* ---- the cases and methods ---------------------------------------------- */

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
	int err;		/* populate_slice: its errno, 0 if none */
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
		return NULL;
	}
	/* a first pass, so the timed ones meet no first-access cost at all */
	memset(ceil_p, 0, opt_size);
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

/*
 * What the VM would still pay before its memory runs at full speed: one
 * byte written per page, one thread, after the timed part (never in it).
 */
static double first_write(char *p, uint64_t page_size)
{
	double t0 = now();

	for (uint64_t off = 0; off < opt_size; off += page_size)
		*(volatile char *)(p + off) = 1;
	return now() - t0;
}

static void *populate_slice(void *arg)
{
	struct slice *s = arg;

	s->err = madvise(s->p, s->len, MADV_POPULATE_WRITE) ? errno : 0;
	return NULL;
}

/*
 * QEMU's prealloc with prealloc-threads=n: each thread one
 * MADV_POPULATE_WRITE over its contiguous slice, not pinned. QEMU starts
 * a thread even for n = 1, and so does rampool: a new thread may land on
 * another CPU than the caller's, so the baseline does the same. 0 or -1.
 */
static int populate_threads(const struct bcase *c, char *p, unsigned int n)
{
	struct slice s[MAX_THREADS];
	uint64_t pages = opt_size / c->page_size, off = 0;
	unsigned int i, started;
	int ret = 0;

	for (i = 0; i < n; i++) {
		s[i].p = p + off;
		s[i].len = (pages / n + (i < pages % n)) * c->page_size;
		s[i].err = 0;
		off += s[i].len;
	}
	for (started = 0; started < n; started++)
		if (pthread_create(&s[started].tid, NULL, populate_slice,
				   &s[started]))
			break;
	for (i = 0; i < started; i++)
		pthread_join(s[i].tid, NULL);
	if (started < n) {
		complain("%s: cannot start populating thread %u", c->name,
			 started + 1);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (s[i].err && !ret) {
			complain("%s: MADV_POPULATE_WRITE: %s", c->name,
				 strerror(s[i].err));
			ret = -1;
		}
	}
	return ret;
}

/* One timed run of m on a fresh backing; seconds or < 0 (complained). */
static double run_baseline(const struct bcase *c, struct method *m,
			   unsigned int rep)
{
	double t0, t = -1;
	char *p = NULL;
	int fd;

	m->first[rep] = -1;
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
	case K_FALLOCATE:
		t0 = now();
		if (fallocate(fd, 0, 0, (off_t)opt_size)) {
			complain("%s: fallocate: %s", c->name,
				 strerror(errno));
			break;
		}
		t = now() - t0;
		p = map_fd(fd, 0);
		if (!p)
			t = -1;
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
		if (!populate_threads(c, p, m->threads))
			t = now() - t0;
		break;
	case K_RAMPOOL:
		break;
	}
	if (p && t > 0)
		m->first[rep] = first_write(p, c->page_size);
	if (p)
		munmap(p, opt_size);
	close(fd);
	return t;
}

static void warm_up(const struct bcase *c)
{
	double first;
	struct method m = { .kind = K_POPULATE_WRITE, .threads = 1,
			    .first = &first };

	run_baseline(c, &m, 0);
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
	m->first[rep] = first_write(rampool_block_addr(blk), c->page_size);
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
	m->best = lo;
	m->gib_s = (double)opt_size / GIB / m->med;
	m->med_setup = m->med_fill = m->med_after = m->med_first = -1;
	for (unsigned int r = 0; r < opt_repeat && m->first[r] >= 0; r++)
		if (r == opt_repeat - 1)
			m->med_first = median(m->first, opt_repeat);
	if (split) {
		m->med_setup = median(m->setup, opt_repeat);
		m->med_fill = median(m->fill, opt_repeat);
		m->med_after = median(m->after, opt_repeat);
	}
}

/* ---- one case ----------------------------------------------------------- */

struct json_object *j_results, *j_cases;
static struct json_object *j_skipped;

static void add_method(struct method *ms, unsigned int *n, enum kind kind,
		       const char *id, const char *label, unsigned int threads,
		       unsigned int flags)
{
	struct method *m = &ms[(*n)++];

	*m = (struct method){ .kind = kind, .id = id, .threads = threads,
			      .flags = flags, .how = -1 };
	snprintf(m->label, sizeof(m->label), "%s", label);
	m->secs = calloc(opt_repeat, sizeof(double));
	m->first = calloc(opt_repeat, sizeof(double));
	m->setup = calloc(opt_repeat, sizeof(double));
	m->fill = calloc(opt_repeat, sizeof(double));
	m->after = calloc(opt_repeat, sizeof(double));
	if (!m->secs || !m->first || !m->setup || !m->fill || !m->after) {
		fprintf(stderr, "bench/prealloc: out of memory\n");
		exit(1);
	}
}

unsigned int thread_counts(unsigned int *t)
{
	unsigned int n = 0, max = opt_threads;

	for (unsigned int k = 1; k < max && n < 8; k *= 2)
		t[n++] = k;
	t[n++] = max;
	return n;
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

/*
 * The order of the rows in repeat r: the memset rows first (they share
 * one populated backing), then the others, in the table's order in the
 * first repeat and shuffled (the same way every run) in the others. A
 * row pays for the state the row before it left (pages the host took
 * back, work the kernel deferred), so no row may always follow the same.
 */
static void run_order(const struct method *ms, unsigned int n, unsigned int r,
		      unsigned int *order)
{
	uint32_t x = 2463534242u + r * 2654435761u;
	unsigned int first = 0;

	for (unsigned int i = 0; i < n; i++)
		order[i] = i;
	while (first < n && (ms[first].kind == K_MEMSET ||
			     ms[first].kind == K_MEMSET_PAGE))
		first++;
	for (unsigned int i = n - 1; r && i > first; i--) {
		unsigned int j, tmp;

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		j = first + x % (i - first + 1);
		tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
}

/* The rows of a case, in the table's order; their count. */
static unsigned int add_rows(const struct bcase *c, struct method *ms)
{
	unsigned int t[16], nt = thread_counts(t), n = 0;

	add_method(ms, &n, K_MEMSET, "memset", "memset (ceiling)", 1, 0);
	for (unsigned int i = 0; i < nt; i++)
		if (t[i] > 1)
			add_method(ms, &n, K_MEMSET, "memset", "memset", t[i],
				   0);
	for (unsigned int i = 0; i < nt; i++)
		add_method(ms, &n, K_MEMSET_PAGE, "memset_per_page",
			   c->hugetlb ? "memset per 2M page" :
					"memset per 4K page", t[i], 0);
	add_method(ms, &n, K_FALLOCATE, "fallocate", "fallocate", 1, 0);
	add_method(ms, &n, K_TOUCH, "touch", "touch 1 byte/page", 1, 0);
	add_method(ms, &n, K_MAP_POPULATE, "map_populate", "mmap MAP_POPULATE",
		   1, 0);
	for (unsigned int i = 0; i < nt; i++) {
		char label[48];

		snprintf(label, sizeof(label), t[i] > 1 ?
			 "QEMU prealloc-threads=%u" :
			 "MADV_POPULATE_WRITE (QEMU)", t[i]);
		add_method(ms, &n, K_POPULATE_WRITE, "madv_populate_write",
			   label, t[i], 0);
	}
	for (unsigned int i = 0; i < nt; i++)
		add_method(ms, &n, K_RAMPOOL, "rampool", "rampool", t[i], 0);
	for (unsigned int i = 0; i < nt; i++)
		add_method(ms, &n, K_RAMPOOL, "rampool_page_tables",
			   "rampool PAGE_TABLES", t[i],
			   RAMPOOL_BLOCK_PAGE_TABLES);
	return n;
}

static void run_case(const struct bcase *c)
{
	struct method ms[MAX_METHODS];
	unsigned int n = add_rows(c, ms);
	double t0 = now(), others, steal;
	struct cpu_mark mark;

	/* untimed: the host backs the pages once (a fresh pool is slow) */
	warm_up(c);
	cpu_mark(&mark);
	/* A/B/A/B: each repeat runs every method once */
	for (unsigned int r = 0; r < opt_repeat; r++) {
		unsigned int order[MAX_METHODS];

		run_order(ms, n, r, order);
		for (unsigned int k = 0; k < n; k++) {
			struct method *m = &ms[order[k]];

			m->secs[r] = m->kind == K_RAMPOOL ?
				run_rampool(c, m, r) : run_baseline(c, m, r);
			if (opt_verbose)
				say("  run %u  %-10s %-28s %3u  %.4f s\n",
				    r + 1, c->name, m->label, m->threads,
				    m->secs[r]);
		}
		ceil_drop();
	}
	cpu_since(&mark, &others, &steal);
	for (unsigned int i = 0; i < n; i++) {
		summarize(&ms[i]);
		ms[i].end = end_of(c, &ms[i]);
	}
	report(c, ms, n, others, steal);
	say("%s: %u runs in %.1f s; meanwhile other processes kept %.2f CPUs "
	    "busy and the host stole %.2f%s\n", c->name, n * opt_repeat,
	    now() - t0, others, steal,
	    others > 0.1 || steal > 0.1 ?
		    " (not quiet: multi-thread figures suffer)" :
		    "");
	for (unsigned int i = 0; i < n; i++) {
		free(ms[i].secs);
		free(ms[i].first);
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
	say("timed: memset rows - memset alone, over memory populated and "
	    "written once before (untimed); fallocate - the call, on a fresh "
	    "memfd; touch, MADV_POPULATE_WRITE (QEMU, prealloc-threads=N: one "
	    "contiguous slice a thread) - the loop / the calls, on a fresh "
	    "memfd already mmapped; MAP_POPULATE - the mmap call on a fresh "
	    "memfd; rampool - rampool_block_new(PREALLOC) end to end (memfd, "
	    "seals, mmap, mbind to node %d, populate, placement check), [how "
	    "it populated], split at the right into setup | population alone "
	    "(fillGiB/s) | after (placement check, bookkeeping). Freeing is "
	    "never timed; one untimed populate warms each case up.\n",
	    bench_node);
	say("end: what a row leaves - alloc (pages in the file, not zeroed: "
	    "shmem fallocate), zeroed (and zeroed: hugetlb fallocate), mapped "
	    "(zeroed and page tables filled: ready to run, what QEMU's "
	    "prealloc gives). Rows are compared only with rows of the same "
	    "end state: xceil (rows that zero) over the 1-thread memset, "
	    "xqemu (mapped rows) over QEMU's 1 thread, xqN over QEMU with as "
	    "many threads as the row; 1st-wr: ms to write one byte a page "
	    "afterwards (untimed, what the VM still pays); ±%%: (max - min) / "
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
