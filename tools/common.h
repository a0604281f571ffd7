/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* common.h: what every poolctl command shares: the context, errors, sizes, the pool. */
#ifndef POOLCTL_COMMON_H
#define POOLCTL_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rampool.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Exit statuses, documented in poolctl(8). */
enum {
	EXIT_OK = 0,
	EXIT_REFUSED = 1,
	EXIT_USAGE = 2,
	EXIT_SYSTEM = 3,
};

struct ctl {
	const char *sysroot;
	const char *state_dir;
	int verbose;
	char last_err[512];	/* the library's last ERR message */
};

/* One command: bpftool's shape, a name, its function and one line of help. */
struct cmd {
	const char *name;
	int (*fn)(struct ctl *c, int argc, char **argv);
	const char *summary;
};

extern const char *prog;

/* Bad usage: the line, then "Try 'poolctl --help'"; returns EXIT_USAGE. */
__attribute__((format(printf, 1, 2)))
int usage_error(const char *fmt, ...);
/* A bad value: one line naming it; returns EXIT_USAGE. */
__attribute__((format(printf, 1, 2)))
int input_error(const char *fmt, ...);
/* getopt_long returned ':' or '?' for cmd: name the option; EXIT_USAGE. */
int opt_error(const char *cmd, int opt, char **argv);
/*
 * One line naming what failed: the library's own words when it logged an
 * error during the call, else strerror(-err). Returns status.
 */
int sys_error(struct ctl *c, const char *what, int err, int status);
/* Forget the library's last error message (before a new call). */
void ctl_clear_error(struct ctl *c);

/* Flushes stdout; a write error is a system error, named. */
int finish_output(void);

/* Opens the pool with the global options; prints why not (EXIT_*). */
int open_pool(struct ctl *c, struct rampool_pool **pool);

/*
 * Sizes: digits with at most one decimal, then nothing (bytes), B, or one
 * of K M G T (binary, either case). The result must be a whole number of
 * bytes and fit in 64 bits. Returns 0 or -EINVAL / -ERANGE with *why set
 * to a phrase that says what is wrong.
 */
int size_parse(const char *s, uint64_t *out, const char **why);
/* size_parse for option opt, naming the value on failure; 0 or EXIT_USAGE.
 * zero_ok: 0 is a valid value (a headroom), else it is refused. */
int opt_size(const char *opt, const char *s, bool zero_ok, uint64_t *out);
/* A decimal number in [min, max] for option opt; 0 or EXIT_USAGE. */
int opt_uint(const char *opt, const char *s, unsigned long min,
	     unsigned long max, unsigned long *out);

/* 2M, 1.5G, 512K, 0B (one decimal at most), or bytes when bytes is set. */
const char *size_str(char *buf, size_t len, uint64_t v, bool bytes);

/* s with every byte that is not printable ASCII written as \xNN. */
const char *quoted(const char *s, char *buf, size_t len);
/* A reservation name as the library accepts it; else prints why: EXIT_USAGE. */
int check_name(const char *name);

#endif /* POOLCTL_COMMON_H */
