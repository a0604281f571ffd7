/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* conf.h: the strict parser of rampool.conf(5), git-config style text, libc only (fuzzed: tests/fuzz/fuzz_conf.c). */
#ifndef POOLCTL_CONF_H
#define POOLCTL_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rampool.h"

#define CONF_MAX_BYTES	(1u << 20)	/* a longer file is refused */
#define CONF_MAX_SECTIONS 256		/* of each kind */
#define CONF_MAX_NODES	64		/* per section */
#define CONF_MAX_NODE	4095		/* the highest node number */

struct conf_count {
	int node;
	uint64_t count;
};

/* [pages "SIZE"]: nodeN = COUNT */
struct conf_pages {
	unsigned int line;
	uint64_t page_size;
	unsigned int nr;
	struct conf_count n[CONF_MAX_NODES];
};

/* [warm "LABEL"]: node, size, count, page-size, backing */
struct conf_warm {
	unsigned int line;
	char label[RAMPOOL_NAME_MAX + 1];
	int node;
	enum rampool_res_backing backing;	/* 0: not given (hugetlb) */
	uint64_t page_size;	/* 0: not given (the default size) */
	uint64_t size;
	unsigned int count;
};

/* [reservation "NAME"]: size, page-size, node | nodes, backing, prealloc,
 * owner, extra */
struct conf_res {
	unsigned int line;
	char name[RAMPOOL_NAME_MAX + 1];
	uint64_t size;		/* with nodes: their sum */
	uint64_t page_size;	/* 0: not given */
	uint64_t extra;
	enum rampool_res_backing backing;	/* 0: not given */
	bool prealloc;
	long long owner_uid;	/* -1: not given (the caller) */
	unsigned int nr_nodes;	/* 0: any node */
	struct rampool_res_node nodes[CONF_MAX_NODES];
};

struct conf {
	unsigned int nr_pages, nr_warm, nr_res;
	struct conf_pages *pages;
	struct conf_warm *warm;
	struct conf_res *res;
};

/*
 * Parses text[0..len) (no NUL needed) into *out. 0; -EINVAL with
 * "FILE:LINE: what is wrong, naming the value" in err (file as given) and
 * *out untouched; -ENOMEM. Owners that are names are looked up
 * (getpwnam).
 */
int conf_parse(const char *text, size_t len, const char *file,
	       struct conf *out, char *err, size_t errlen);
void conf_free(struct conf *c);

#endif /* POOLCTL_CONF_H */
