// SPDX-License-Identifier: LGPL-2.1-or-later
/* util.c: what the benchmarks share: output, sizes, the 2M hugetlb pool raised for a run and put back on every exit, CPU accounting, medians, JSON numbers. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "rampool.h"
#include "util.h"

#define POOL_DIR "/sys/kernel/mm/hugepages/hugepages-2048kB/"

bool opt_json;
bool failed;

/* ---- output ------------------------------------------------------------- */

__attribute__((format(printf, 1, 2)))
void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(opt_json ? stderr : stdout, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 1, 2)))
void complain(const char *fmt, ...)
{
	va_list ap;

	fputs("bench/prealloc: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	failed = true;
}

double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* "4G", "512M", "4GiB", "1073741824" */
int parse_size(const char *s, uint64_t *out)
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
void pool_restore(void)
{
	uint64_t cur;

	if (!pool_raised)
		return;
	pool_raised = 0;
	if (read_u64(POOL_DIR "nr_hugepages", &cur) || cur < pool_set)
		return;
	write_u64(POOL_DIR "nr_hugepages", cur - (pool_set - pool_old));
}

void on_signal(int sig)
{
	pool_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * Makes sure `need` 2M pages are free and unreserved. 0, or -1 with *why
 * saying why the hugetlb case cannot run.
 */
int pool_raise(uint64_t need, char *why, size_t whylen)
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

void cpu_mark(struct cpu_mark *m)
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
void cpu_since(const struct cpu_mark *a, double *others, double *steal)
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

struct rampool_block *bench_block(struct rampool_pool *pool, uint64_t size,
				  int backing, unsigned int flags)
{
	struct rampool_block_opts o = {
		.sz = sizeof(o), .size = size,
		.backing = (enum rampool_backing)backing, .flags = flags,
	};
	struct rampool_block *blk;
	int ret = rampool_block_new(pool, &o, &blk);

	if (ret) {
		complain("block of %llu bytes: %s", (unsigned long long)size,
			 strerror(-ret));
		return NULL;
	}
	return blk;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double median(const double *v, unsigned int n)
{
	static double s[1000];	/* --repeat is at most 1000 */

	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* o[key] = v, printed with that many decimals */
void jnum(struct json_object *o, const char *key, double v,
		 int decimals)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	json_object_object_add(o, key, json_object_new_double_s(v, buf));
}

void jstr(struct json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, json_object_new_string(v));
}

void jint(struct json_object *o, const char *key, int v)
{
	json_object_object_add(o, key, json_object_new_int(v));
}

