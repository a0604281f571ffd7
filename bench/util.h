/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* util.h: what the benchmarks share (bench/util.c). */
#ifndef RP_BENCH_UTIL_H
#define RP_BENCH_UTIL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define GIB (1ULL << 30)

extern bool opt_json;	/* stdout is JSON: lines for the reader go to stderr */
extern bool failed;	/* something broke: exit 1 at the end */

/* Lines for the reader: stdout for the table, stderr when stdout is JSON. */
__attribute__((format(printf, 1, 2))) void say(const char *fmt, ...);
/* An error on stderr; sets failed. */
__attribute__((format(printf, 1, 2))) void complain(const char *fmt, ...);
double now(void);	/* CLOCK_MONOTONIC seconds */
/* "4G", "512M", "4GiB", "1073741824": 0 or -EINVAL */
int parse_size(const char *s, uint64_t *out);

/*
 * Makes sure `need` free 2M pages exist, raising nr_hugepages (root) by
 * what is missing: 0, or -1 with *why saying why not. pool_restore takes
 * the increment back (async-signal-safe; on_signal calls it, then dies of
 * the signal).
 */
int pool_raise(uint64_t need, char *why, size_t whylen);
void pool_restore(void);
void on_signal(int sig);

struct cpu_mark {
	double wall, busy, steal, own;	/* seconds */
};

void cpu_mark(struct cpu_mark *m);
/* CPUs kept busy by other processes, and stolen by the host, on average */
void cpu_since(const struct cpu_mark *a, double *others, double *steal);

struct rampool_pool;
struct rampool_block;
/* A fresh block (rampool_block_new, nothing populated unless flags say);
 * NULL with the reason complained. */
struct rampool_block *bench_block(struct rampool_pool *pool, uint64_t size,
				  int backing, unsigned int flags);
/* the median of v[0..n), n <= 1000 */
double median(const double *v, unsigned int n);

/* o[key] = v, printed with that many decimals */
void jnum(struct json_object *o, const char *key, double v, int decimals);
void jstr(struct json_object *o, const char *key, const char *v);
void jint(struct json_object *o, const char *key, int v);

#endif
