/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* t_util.h: helpers for functional tests on the real kernel (exit 0/1/77). */
#ifndef T_UTIL_H
#define T_UTIL_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define T_SKIP 77

/* Prints "SKIP: reason" and exits 77. */
__attribute__((noreturn, format(printf, 1, 2)))
void t_skip(const char *fmt, ...);

/*
 * For a test that needs hugetlb: skip, or fail when
 * RAMPOOL_TEST_REQUIRE_HUGETLB=1 (CI), where a skipped hugetlb test hides a
 * broken machine.
 */
__attribute__((noreturn, format(printf, 1, 2)))
void t_skip_hugetlb(const char *fmt, ...);

__attribute__((noreturn, format(printf, 3, 4)))
void t_fail_at(const char *file, int line, const char *fmt, ...);

#define T_FAIL(...) t_fail_at(__FILE__, __LINE__, __VA_ARGS__)
#define T_ASSERT(c)							\
	do {								\
		if (!(c))						\
			T_FAIL("assertion failed: %s", #c);		\
	} while (0)
#define T_EQ(a, b)							\
	do {								\
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);	\
		if (a_ != b_)						\
			T_FAIL("%s == %" PRIu64 ", expected %s == %" PRIu64, \
			       #a, a_, #b, b_);				\
	} while (0)

/* Root and hugetlb support, else t_skip_hugetlb. */
void t_require_hugetlb(uint64_t page_size);

/* Reads a file holding one number; fails the test on error. */
uint64_t t_read_u64(const char *path);
/* Writes one number; returns 0 or -errno. */
int t_write_u64(const char *path, uint64_t v);
/* A key of /proc/meminfo (the number as printed, kB not multiplied). */
uint64_t t_meminfo(const char *key);

/*
 * Makes sure at least `free_pages` pages of page_size are free, raising the
 * persistent pool if needed; the old pool size comes back at exit, also
 * when the test fails or is killed by a catchable signal. Returns the
 * pool's total afterwards. Skips (t_skip_hugetlb) when the kernel cannot
 * give that many.
 */
uint64_t t_hugepages_ensure_free(uint64_t page_size, uint64_t free_pages);
/* Sets the persistent pool to exactly n pages (restored at exit). */
void t_hugepages_set(uint64_t page_size, uint64_t n);

/*
 * Like t_hugepages_set, but a kernel that gives fewer pages (1G pages need
 * contiguous memory) is not the test's failure: returns false (pool still
 * restored at exit).
 */
bool t_hugepages_try_set(uint64_t page_size, uint64_t n);
/* Sets one node's persistent pool to n pages (all pools restored at exit). */
void t_hugepages_set_node(uint64_t page_size, int node, uint64_t n);

/* Mounts a private hugetlbfs (opts may be NULL); unmounted at exit. */
const char *t_mount_hugetlbfs(uint64_t page_size, const char *opts);
void t_umount(const char *path);
/* A private directory under base (e.g. /dev/shm), removed at exit. */
const char *t_tmpdir(const char *base);

/* Path of a program built next to the tests ("poolctl" → BUILD/poolctl). */
const char *t_build_path(const char *name);

/* Runs argv, capturing stdout into a malloc'd string; returns exit status. */
int t_run(char *const argv[], char **out, char **err);
/* In a forked child: drops to uid (its own group, no supplementary
 * ones; uid < 0: stays); _exit(126) when it cannot. */
void t_become(long long uid);
/*
 * The same as another user: uid, with gid = uid and no supplementary
 * groups (uid -1: as this process; exit 126 when dropping failed).
 */
int t_run_as(long long uid, char *const argv[], char **out, char **err);

/*
 * Runs fn at exit (and on a catchable fatal signal) before the hugepage
 * pools and mounts of this file are restored, latest first; only in the
 * process that armed it, never in a forked child.
 */
void t_atcleanup(void (*fn)(void));


/* Open fds and shared file mappings of this process: nothing left behind. */
unsigned int t_fd_count(void);
unsigned int t_map_count(void);

/* A 2M-or-other pool's counters, host-wide or for one node (-1: host). */
struct t_hcount {
	uint64_t total, free, resv, surplus;
};
void t_hcount(uint64_t page_size, int node, struct t_hcount *c);
#define T_HCOUNT_EQ(a, b)						\
	do {								\
		T_EQ((a).total, (b).total);				\
		T_EQ((a).free, (b).free);				\
		T_EQ((a).resv, (b).resv);				\
		T_EQ((a).surplus, (b).surplus);				\
	} while (0)

/*
 * What a failed call must leave as it found: the host's 2M counters, this
 * process's fds and shared file mappings.
 */
struct t_state {
	struct t_hcount g;
	unsigned int fds, maps;
};
void t_state_snap(struct t_state *s);
/* Fails the test unless the state now equals *before. */
#define t_state_same(before) t_state_same_at(__FILE__, __LINE__, (before))
void t_state_same_at(const char *file, int line, const struct t_state *before);

/* Number of nodes the kernel has online (1 without NUMA). */
int t_nr_nodes(void);
/* The node the calling thread runs on now. */
int t_current_node(void);
/* Pins the calling thread to the CPUs of node. */
void t_pin_to_node(int node);
/* Pages of [addr, addr+len) per node via move_pages; returns pages on node. */
uint64_t t_pages_on_node(void *addr, uint64_t len, uint64_t page_size,
			 int node);

/* Reads fd to its end into a malloc'd, NUL-terminated string (fd left open). */
char *t_slurp(int fd);

#endif
