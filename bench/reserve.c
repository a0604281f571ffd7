// SPDX-License-Identifier: LGPL-2.1-or-later
/* reserve.c: reserve + release latency with 1 and 8 processes and 0, 1,000 and 10,000 reservations already in the ledger. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rampool.h"

#define MB2 (2ULL << 20)
#define NR "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"

static char state[256];
static long long pool_old = -1;

static long long read_nr(void)
{
	long long v = -1;
	FILE *f = fopen(NR, "r");

	if (f && fscanf(f, "%lld", &v) != 1)
		v = -1;
	if (f)
		fclose(f);
	return v;
}

static int write_nr(long long v)
{
	FILE *f = fopen(NR, "w");
	int ret;

	if (!f)
		return -errno;
	fprintf(f, "%lld\n", v);
	ret = fclose(f) ? -errno : 0;
	return ret;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static struct rampool_pool *open_pool(void)
{
	struct rampool_pool_opts o = { .sz = sizeof(o), .state_dir = state };
	struct rampool_pool *p;

	if (rampool_pool_new(&o, &p))
		return NULL;
	return p;
}

static int reserve(struct rampool_pool *p, const char *name, bool huge)
{
	struct rampool_reservation_opts o = {
		.sz = sizeof(o), .size = huge ? MB2 : 64 << 10,
		.backing = huge ? RAMPOOL_RES_HUGETLB : RAMPOOL_RES_SHMEM,
		.page_size = huge ? MB2 : 0, .owner_uid = -1,
	};

	return rampool_reservation_new(p, name, &o);
}

/* One process: iters reserve + release pairs of one 2M page; seconds each. */
static int measure(int id, unsigned int iters, double *lat)
{
	struct rampool_pool *p = open_pool();
	char name[64];
	int ret = 0;

	if (!p)
		return -ENOMEM;
	for (unsigned int i = 0; !ret && i < iters; i++) {
		double t0 = now();

		snprintf(name, sizeof(name), "bench-%d-%u", id, i);
		ret = reserve(p, name, true);
		if (!ret)
			ret = rampool_reservation_release(p, name);
		lat[i] = now() - t0;
	}
	rampool_pool_free(p);
	return ret;
}

/* nproc processes at once; all their latencies into lat[]. */
static int run_row(unsigned int nproc, unsigned int iters, double *lat)
{
	int fds[64][2];
	pid_t pids[64];
	int ret = 0;

	for (unsigned int k = 0; k < nproc; k++) {
		if (pipe(fds[k]))
			return -errno;
		pids[k] = fork();
		if (pids[k] == 0) {
			double *mine = calloc(iters, sizeof(double));
			int r = mine ? measure((int)k, iters, mine) : -ENOMEM;
			ssize_t w = mine ? write(fds[k][1], mine,
						 iters * sizeof(double)) : 0;

			_exit(r || w != (ssize_t)(iters * sizeof(double)));
		}
		close(fds[k][1]);
	}
	for (unsigned int k = 0; k < nproc; k++) {
		size_t want = iters * sizeof(double), got = 0;
		int st;

		while (got < want) {
			ssize_t n = read(fds[k][0], (char *)(lat + k * iters) +
					 got, want - got);
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		close(fds[k][0]);
		waitpid(pids[k], &st, 0);
		if (got != want || !WIFEXITED(st) || WEXITSTATUS(st))
			ret = -EIO;
	}
	return ret;
}

static int fill(struct rampool_pool *p, unsigned int from, unsigned int to)
{
	char name[64];

	for (unsigned int i = from; i < to; i++) {
		int ret;

		snprintf(name, sizeof(name), "fill-%u", i);
		ret = reserve(p, name, i < 1000);
		if (ret) {
			fprintf(stderr, "bench: reserve %s: %s\n", name,
				strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static void cleanup(void)
{
	struct rampool_pool *p = open_pool();
	struct rampool_res_list *l;
	char cmd[400];

	if (p && !rampool_reservation_list(p, NULL, &l)) {
		for (unsigned int i = 0; i < rampool_res_list_count(l); i++) {
			struct rampool_reservation_info in = { .sz = sizeof(in) };

			rampool_res_list_get(l, i, &in);
			rampool_reservation_release(p, in.name);
		}
		rampool_res_list_free(l);
	}
	rampool_pool_free(p);
	snprintf(cmd, sizeof(cmd), "%s/shm", state);
	umount2(cmd, MNT_DETACH);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state);
	if (system(cmd))
		fprintf(stderr, "bench: %s failed\n", cmd);
	if (pool_old >= 0)
		write_nr(pool_old);
}

static void on_signal(int sig)
{
	(void)sig;
	exit(130);
}

int main(int argc, char **argv)
{
	static const unsigned int existing[] = { 0, 1000, 10000 };
	static const unsigned int procs[] = { 1, 8 };
	unsigned int iters = 100, max_existing = 10000;
	double p99_at0[2] = { 0, 0 };
	int opt;

	while ((opt = getopt(argc, argv, "i:n:")) != -1) {
		if (opt == 'i')
			iters = (unsigned int)atoi(optarg);
		else if (opt == 'n')
			max_existing = (unsigned int)atoi(optarg);
		else {
			fprintf(stderr, "usage: reserve [-i ITERS] [-n MAX_EXISTING]\n");
			return 2;
		}
	}
	if (!iters || iters > 100000) {
		fprintf(stderr, "reserve: -i %u: between 1 and 100000\n", iters);
		return 2;
	}
	if (geteuid()) {
		printf("SKIPPED: reserve: needs root (reservations mount)\n");
		return 0;
	}
	snprintf(state, sizeof(state), "/run/rampool-bench-%d", (int)getpid());
	pool_old = read_nr();
	if (pool_old < 0 || write_nr(pool_old + 1000 + 16) ||
	    read_nr() < pool_old + 1000 + 16) {
		printf("SKIPPED: reserve: cannot raise the 2M pool by 1016 pages\n");
		return 0;
	}
	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("reserve + release of one 2M page, %u pairs per process; "
	       "milliseconds\n", iters);
	printf("%-10s %-6s %8s %8s %10s\n", "existing", "procs", "p50", "p99",
	       "p99/p99@0");
	for (size_t e = 0; e < sizeof(existing) / sizeof(existing[0]); e++) {
		struct rampool_pool *p = open_pool();
		unsigned int have = e ? existing[e - 1] : 0;

		if (existing[e] > max_existing)
			break;
		if (!p || fill(p, have, existing[e]))
			return 1;
		rampool_pool_free(p);
		for (size_t k = 0; k < 2; k++) {
			unsigned int n = procs[k] * iters;
			double *lat = calloc(n, sizeof(double));
			double p50, p99;

			if (!lat || run_row(procs[k], iters, lat)) {
				fprintf(stderr, "bench: a run failed\n");
				return 1;
			}
			qsort(lat, n, sizeof(double), cmp);
			p50 = lat[n / 2] * 1e3;
			p99 = lat[(size_t)(n * 0.99)] * 1e3;
			if (!e)
				p99_at0[k] = p99;
			printf("%-10u %-6u %8.2f %8.2f %9.2fx\n", existing[e],
			       procs[k], p50, p99, p99 / p99_at0[k]);
			free(lat);
		}
	}
	return 0;
}
