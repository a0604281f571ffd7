/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* parse.h: poolctl's input parsers (sizes, numbers, names, node lists, owners), libc only. */
#ifndef POOLCTL_PARSE_H
#define POOLCTL_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rampool.h"

/* Exit statuses, documented in poolctl(8). */
enum {
	EXIT_OK = 0,
	EXIT_REFUSED = 1,
	EXIT_USAGE = 2,
	EXIT_SYSTEM = 3,
};

/* The highest node number --node, --nodes and --interleave take. */
#define MAX_NODE 4095

extern const char *prog;

/* Bad usage: the line, then "Try 'poolctl --help'"; returns EXIT_USAGE. */
__attribute__((format(printf, 1, 2)))
int usage_error(const char *fmt, ...);
/* A bad value: one line naming it; returns EXIT_USAGE. */
__attribute__((format(printf, 1, 2)))
int input_error(const char *fmt, ...);

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

/* s with every byte that is not printable ASCII, and '\\', written as \xNN. */
const char *quoted(const char *s, char *buf, size_t len);
/* A reservation name as the library accepts it; else prints why: EXIT_USAGE. */
int check_name(const char *name);

/*
 * --nodes "0:4G,1:4G" (sizes set) or --interleave "0,1" (no sizes) into
 * nodes[0..max): each node at most once, from 0 to MAX_NODE, each size
 * greater than 0. 0 with *nr set, or EXIT_USAGE (one line naming arg;
 * *nr untouched).
 */
int parse_nodes(const char *opt, const char *arg, bool sizes,
		struct rampool_res_node *nodes, unsigned int max,
		unsigned int *nr);
/* --owner: a uid (0 to UINT_MAX - 1) or a user name; 0 or EXIT_USAGE. */
int parse_owner(const char *s, long long *out);
/* --page-size: a power of two, at least 4K; 0 or EXIT_USAGE. */
int parse_page_size(const char *s, uint64_t *out);
/* --backing: hugetlb or shmem; 0 or EXIT_USAGE. */
int parse_backing(const char *s, enum rampool_res_backing *out);

#endif /* POOLCTL_PARSE_H */
