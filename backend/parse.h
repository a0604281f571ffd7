/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* parse.h: strict parsers for the text the kernel writes in proc and sysfs. */
#ifndef RP_PARSE_H
#define RP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Every parser takes a buffer and its length (no NUL needed), never reads
 * past it, and on failure returns -EINVAL and points *why at a static reason.
 */

/* One decimal number and a newline, as in nr_hugepages. */
int parse_u64_line(const char *s, size_t len, uint64_t *out, const char **why);

/*
 * A kernel list such as "0-2,5\n" (or "\n" for none) into a bitmap of
 * nbits bits (an array of nbits/64 rounded up words, cleared first).
 * *count gets the number of bits set.
 */
int parse_list(const char *s, size_t len, uint64_t *bits, unsigned int nbits,
	       unsigned int *count, const char **why);

/*
 * meminfo: lines "[Node N ]Key:   value[ kB]". For each of nkeys keys,
 * values[i] gets the value in bytes (kB multiplied out) or the plain count
 * when the line has no unit. prefix ("Node 3 " or "") must start every
 * line. A key not found is an error unless optional[i] is set (then
 * found[i] is false and values[i] 0). optional and found may be NULL.
 */
int parse_meminfo(const char *s, size_t len, const char *prefix,
		  const char *const *keys, unsigned int nkeys,
		  uint64_t *values, const bool *optional, bool *found,
		  const char **why);

/* "2048kB" in a hugepages-2048kB directory name into bytes. */
int parse_hugepages_dirname(const char *name, uint64_t *page_size,
			    const char **why);

/* A size with an optional K/M/G/T suffix (binary), "2M", "1024M", "64K". */
int parse_size_suffix(const char *s, size_t len, uint64_t *out,
		      const char **why);

struct mount_entry {
	const char *path;	/* unescaped, valid during the callback */
	char fstype[32];
	uint64_t page_size;	/* from pagesize=, 0 when absent */
};

/*
 * /proc/mounts: calls fn for each hugetlbfs line (after unescaping \040
 * and friends). Stops on the first error of fn (returned as is). Lines of
 * other file systems are skipped without being parsed beyond the type.
 */
int parse_mounts(const char *s, size_t len,
		 int (*fn)(void *ctx, const struct mount_entry *m), void *ctx,
		 const char **why);

#endif
