// SPDX-License-Identifier: LGPL-2.1-or-later
/* scrub.c: scrub rate (GiB/s) of a populated min_size hugetlbfs file (1G, 4G of 2M pages) and a 1G tmpfs file by each method and thread count, against a cold populate of the same size in the same run (issue 10). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backend/prealloc.h"
#include "backend/resmount.h"
#include "backend/scrub.h"
#include "util.h"

#define MB2 (2ULL << 20)

static unsigned int opt_repeat = 3;
static const struct rp_log nolog;
static char top[64];

struct target {
	const char *name;
	uint64_t len, ps;
	bool huge;
};

/* Truncates the file to 0 and back: its pages go (to the mount's reserve). */
static int fresh(int fd, uint64_t len)
{
	return ftruncate(fd, 0) || ftruncate(fd, (off_t)len) ? -errno : 0;
}

/* Seconds of a cold MADV_POPULATE_WRITE of the emptied file; < 0 failed. */
static double cold(int fd, const struct target *t, unsigned int threads)
{
	struct prealloc_req r = {
		.len = t->len, .page_size = t->ps, .fd = -1,
		.hugetlb = t->huge, .method = PREALLOC_POPULATE,
		.threads = threads, .mpol_mode = -1,
	};
	double t0, secs;
	int ret;

	if (fresh(fd, t->len))
		return -1;
	r.addr = mmap(NULL, t->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (r.addr == MAP_FAILED)
		return -1;
	t0 = now();
	ret = prealloc_run(&r, NULL, &nolog, NULL);
	secs = now() - t0;
	munmap(r.addr, t->len);
	return ret ? -1 : secs;
}

/* Writes old data over the whole file (not timed). */
static int dirty(int fd, uint64_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return -1;
	memset(p, 0x5a, len);
	munmap(p, len);
	return 0;
}

/* Seconds of one scrub of the dirtied file; < 0 failed or not zero. */
static double scrub(int fd, const struct target *t, enum scrub_method m,
		    unsigned int threads)
{
	struct scrub_opts o = { .threads = threads, .mpol_mode = -1 };
	const uint64_t *p;
	double t0, secs;
	int ret;

	if (dirty(fd, t->len))
		return -1;
	t0 = now();
	ret = scrub_file(fd, t->len, t->ps, t->huge, m, &o, NULL, &nolog);
	secs = now() - t0;
	if (ret) {
		complain("scrub %s method %d: %s", t->name, (int)m,
			 strerror(-ret));
		return -1;
	}
	/* honest: a word of every page reads zero (tests check all bytes) */
	p = mmap(NULL, t->len, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -1;
	for (uint64_t w = 0; w < t->len / 8; w += t->ps / 8)
		if (p[w] || p[w + t->ps / 8 - 1])
			ret = -1;
	munmap((void *)p, t->len);
	if (ret)
		complain("scrub %s method %d left data", t->name, (int)m);
	return ret ? -1 : secs;
}

static const char *const mname[] = { "zero", "zero-nt", "punch+refill" };

static double med(double (*one)(int, const struct target *, unsigned int),
		  int fd, const struct target *t, unsigned int threads)
{
	double v[16];

	for (unsigned int i = 0; i < opt_repeat; i++) {
		v[i] = one(fd, t, threads);
		if (v[i] < 0)
			return -1;
	}
	return median(v, opt_repeat);
}

static double scrub_med(int fd, const struct target *t, enum scrub_method m,
			unsigned int threads)
{
	double v[16];

	for (unsigned int i = 0; i < opt_repeat; i++) {
		v[i] = scrub(fd, t, m, threads);
		if (v[i] < 0)
			return -1;
	}
	return median(v, opt_repeat);
}

static double gibs(uint64_t len, double secs)
{
	return (double)len / GIB / secs;
}

static void run(int fd, const struct target *t)
{
	for (unsigned int th = 1; th <= 2; th++) {
		double c = med(cold, fd, t, th);

		if (c < 0) {
			complain("cold populate of %s failed", t->name);
			return;
		}
		say("%-10s %u thread(s)  cold populate %6.2f GiB/s\n",
		    t->name, th, gibs(t->len, c));
		for (int m = SCRUB_ZERO; m <= SCRUB_PUNCH_REFILL; m++) {
			double s;

			if (m == SCRUB_PUNCH_REFILL && th > 1)
				continue;	/* one thread: the inode lock */
			s = scrub_med(fd, t, m, th);
			if (s < 0)
				return;
			say("%-10s %u thread(s)  scrub %-12s %6.2f GiB/s  %.2fx populate\n",
			    t->name, th, mname[m], gibs(t->len, s), c / s);
		}
	}
}

static void cleanup(void)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/m", top);
	resmount_remove(p, &resmount_default_ops, &nolog);
	rmdir(top);
}

static void hugetlb(uint64_t len, const char *name)
{
	struct target t = { name, len, MB2, true };
	char dir[128], path[160];
	char why[256];
	int fd;

	if (pool_raise(len / MB2, why, sizeof(why))) {
		say("%-10s skipped: %s\n", name, why);
		return;
	}
	snprintf(dir, sizeof(dir), "%s/m", top);
	if (resmount_hugetlbfs(dir, MB2, len, 0, 0, &resmount_default_ops,
			       &nolog)) {
		complain("min_size mount of %s failed", name);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/slot", dir);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)len)) {
		complain("file %s: %s", path, strerror(errno));
	} else {
		run(fd, &t);
	}
	if (fd >= 0)
		close(fd);
	unlink(path);
	resmount_remove(dir, &resmount_default_ops, &nolog);
out:
	pool_restore();
}

static void shmem(uint64_t len, const char *name)
{
	struct target t = { name, len, 4096, false };
	char path[] = "/dev/shm/rampool-bench-scrub.XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0 || ftruncate(fd, (off_t)len)) {
		complain("shmem file: %s", strerror(errno));
	} else {
		run(fd, &t);
	}
	if (fd >= 0)
		close(fd);
	unlink(path);
}

int main(int argc, char **argv)
{
	int c;

	while ((c = getopt(argc, argv, "r:")) != -1) {
		if (c == 'r' && atoi(optarg) > 0 && atoi(optarg) <= 16) {
			opt_repeat = (unsigned int)atoi(optarg);
		} else {
			fprintf(stderr, "usage: %s [-r REPEAT (1-16)]\n", argv[0]);
			return 2;
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	snprintf(top, sizeof(top), "/tmp/rampool-bench-scrub.XXXXXX");
	if (!mkdtemp(top)) {
		complain("mkdtemp: %s", strerror(errno));
		return 1;
	}
	atexit(cleanup);
	say("scrub: median of %u; GiB/s of the range; Nx populate: times faster than a cold MADV_POPULATE_WRITE of a fresh file (the kernel's zeroing), same threads\n",
	    opt_repeat);
	hugetlb(GIB, "2M 1G");
	hugetlb(4 * GIB, "2M 4G");
	shmem(GIB, "4K 1G");
	return failed;
}
