// SPDX-License-Identifier: LGPL-2.1-or-later
/* Checks on a multi-node guest where hugetlb and shmem pages really land. */

/*
 * placement_probe bind
 *	Pinned to a CPU of the first node that has CPUs and memory ("home"),
 *	for every node with memory: a hugetlb memfd, mapped MAP_SHARED, bound
 *	with mbind(MPOL_BIND), MADV_POPULATE_WRITE; move_pages must find every
 *	page on that node. Then the same without mbind while the thread is
 *	bound to home by set_mempolicy: the placement check must report every
 *	page as misplaced (proof that a checker can see it). Memoryless nodes:
 *	mbind and set_mempolicy(MPOL_BIND) to them must fail; pages faulted by
 *	a thread running there are reported.
 *
 * placement_probe fact5b
 *	Reproduces DESIGN kernel fact 5b (thread on home, target another node):
 *	hugetlb memfd + mbind + MADV_POPULATE_WRITE, shmem memfd + mbind +
 *	fallocate, hugetlbfs file + mbind + fallocate, hugetlbfs file +
 *	set_mempolicy + fallocate, hugetlb memfd + mbind + fallocate. The paths
 *	rampool relies on are asserted; the mbind + fallocate ones on hugetlb
 *	are reported against the fact (differing from it is a note, landing
 *	on a third node or on several nodes is a failure).
 *
 * Exit status: 0 pass, 1 fail, 77 skip (fewer than two nodes with memory,
 * or too few free 2 MiB pages unless RAMPOOL_TEST_REQUIRE_HUGETLB=1).
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <linux/memfd.h>
#include <linux/mempolicy.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define NODE_DIR	"/sys/devices/system/node"
#define HP_2M		(2UL << 20)
#define NR_HP		4		/* hugepages per case */
#define NR_SHMEM	64		/* 4 KiB pages in the shmem case */
#define MAX_PAGES	NR_SHMEM

static int failures;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void fail(const char *fmt, ...)
{
	va_list ap;

	fputs("FAIL: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	failures++;
}

/* Parse a kernel list like "0-2,5" into a bit mask (ids < 64). */
static uint64_t parse_list(const char *s)
{
	uint64_t mask = 0;
	char *end;

	while (*s && *s != '\n') {
		unsigned long a = strtoul(s, &end, 10), b = a;

		if (end == s)
			break;
		if (*end == '-')
			b = strtoul(end + 1, &end, 10);
		for (; a <= b && a < 64; a++)
			mask |= 1ULL << a;
		s = *end == ',' ? end + 1 : end;
	}
	return mask;
}

static uint64_t read_list(const char *path)
{
	char buf[256] = "";
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return parse_list(buf);
}

static long read_long(const char *path)
{
	long v = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static int first_bit(uint64_t mask)
{
	return mask ? __builtin_ctzll(mask) : -1;
}

static uint64_t node_cpus(int node)
{
	char path[128];

	snprintf(path, sizeof(path), NODE_DIR "/node%d/cpulist", node);
	return read_list(path);
}

static long free_2m(int node)
{
	char path[160];

	snprintf(path, sizeof(path),
		 NODE_DIR "/node%d/hugepages/hugepages-2048kB/free_hugepages",
		 node);
	return read_long(path);
}

static int pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		fail("sched_setaffinity(cpu %d): %s", cpu, strerror(errno));
		return -1;
	}
	return 0;
}

static long do_mbind(void *addr, size_t len, int mode, int node)
{
	unsigned long mask = 1UL << node;

	return syscall(SYS_mbind, addr, len, mode, &mask, 65UL, 0UL);
}

static long do_set_mempolicy(int mode, int node)
{
	unsigned long mask = node >= 0 ? 1UL << node : 0;

	return syscall(SYS_set_mempolicy, mode, node >= 0 ? &mask : NULL,
		       node >= 0 ? 65UL : 0UL);
}

/*
 * Ask move_pages (nodes == NULL: query only) where each page of the range is.
 * nodes[i] is the node, or a negative errno for a page that is not there.
 */
static int where(void *addr, size_t npages, size_t pgsz, int *nodes)
{
	void *pages[MAX_PAGES];
	size_t i;

	for (i = 0; i < npages; i++) {
		pages[i] = (char *)addr + i * pgsz;
		nodes[i] = -1000;
	}
	if (syscall(SYS_move_pages, 0, npages, pages, NULL, nodes, 0)) {
		fail("move_pages: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* The placement check a harness would run: how many pages are not on want. */
static size_t misplaced(const int *nodes, size_t n, int want)
{
	size_t i, bad = 0;

	for (i = 0; i < n; i++)
		if (nodes[i] != want)
			bad++;
	return bad;
}

/* All pages on one node: that node; on none or several: -1. */
static int common_node(const int *nodes, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++)
		if (nodes[i] != nodes[0])
			return -1;
	return n && nodes[0] >= 0 ? nodes[0] : -1;
}

static const char *show(const int *nodes, size_t n)
{
	static char buf[MAX_PAGES * 8];
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < n && len < sizeof(buf) - 16; i++) {
		if (i == 8 && n > 10) {
			len += snprintf(buf + len, sizeof(buf) - len,
					" ... (%zu pages)", n);
			break;
		}
		len += snprintf(buf + len, sizeof(buf) - len, "%s%d",
				i ? " " : "", nodes[i]);
	}
	return buf;
}

static int hugetlb_memfd(const char *name, size_t len)
{
	int fd = memfd_create(name, MFD_HUGETLB | MFD_HUGE_2MB);

	if (fd < 0) {
		fail("memfd_create(%s, MFD_HUGETLB|MFD_HUGE_2MB): %s", name,
		     strerror(errno));
		return -1;
	}
	if (ftruncate(fd, len)) {
		fail("ftruncate(%s): %s", name, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void *map_shared(int fd, size_t len, const char *what)
{
	void *addr = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (addr == MAP_FAILED) {
		fail("%s: mmap: %s", what, strerror(errno));
		return NULL;
	}
	return addr;
}

/*
 * hugetlb memfd; bind it to bind_node with mbind (skip if < 0); populate with
 * MADV_POPULATE_WRITE; report where the pages are in nodes[].
 */
static int populate_memfd(const char *what, int bind_node, int *nodes)
{
	size_t len = NR_HP * HP_2M;
	void *addr;
	int fd, ret = -1;

	fd = hugetlb_memfd(what, len);
	if (fd < 0)
		return -1;
	addr = map_shared(fd, len, what);
	if (!addr)
		goto out_close;
	if (bind_node >= 0 && do_mbind(addr, len, MPOL_BIND, bind_node)) {
		fail("%s: mbind(MPOL_BIND, node %d): %s", what, bind_node,
		     strerror(errno));
		goto out_unmap;
	}
	if (madvise(addr, len, MADV_POPULATE_WRITE)) {
		fail("%s: MADV_POPULATE_WRITE: %s", what, strerror(errno));
		goto out_unmap;
	}
	ret = where(addr, NR_HP, HP_2M, nodes);
out_unmap:
	munmap(addr, len);
out_close:
	close(fd);
	return ret;
}

struct topo {
	uint64_t mem;		/* nodes with memory */
	uint64_t online;
	int home;		/* first node with CPUs and memory */
	int home_cpu;
	int target;		/* first other node with memory */
};

static int get_topo(struct topo *t)
{
	uint64_t cpu_nodes = read_list(NODE_DIR "/has_cpu");

	t->mem = read_list(NODE_DIR "/has_memory");
	t->online = read_list(NODE_DIR "/online");
	t->home = first_bit(cpu_nodes & t->mem);
	if (t->home < 0) {
		printf("SKIP: no node with both CPUs and memory\n");
		return 77;
	}
	t->home_cpu = first_bit(node_cpus(t->home));
	t->target = first_bit(t->mem & ~(1ULL << t->home));
	if (t->target < 0 || t->home_cpu < 0) {
		printf("SKIP: needs two nodes with memory (has_memory mask %#llx)\n",
		       (unsigned long long)t->mem);
		return 77;
	}
	printf("home node %d (cpu %d), nodes with memory %#llx, online %#llx\n",
	       t->home, t->home_cpu, (unsigned long long)t->mem,
	       (unsigned long long)t->online);
	return 0;
}

/* Enough free 2 MiB pages on every node with memory for one case at a time. */
static int check_pools(const struct topo *t)
{
	const char *req = getenv("RAMPOOL_TEST_REQUIRE_HUGETLB");
	uint64_t m;

	for (m = t->mem; m; m &= m - 1) {
		int n = first_bit(m);
		long f = free_2m(n);

		if (f >= NR_HP)
			continue;
		printf("%s: node %d has %ld free 2 MiB pages, need %d\n",
		       req && !strcmp(req, "1") ? "FAIL" : "SKIP", n, f, NR_HP);
		return req && !strcmp(req, "1") ? 1 : 77;
	}
	return 0;
}

static void probe_bind(const struct topo *t)
{
	int nodes[MAX_PAGES];
	uint64_t m;

	for (m = t->mem; m; m &= m - 1) {
		int n = first_bit(m);

		if (populate_memfd("rp-probe-bind", n, nodes))
			continue;
		if (misplaced(nodes, NR_HP, n))
			fail("mbind(node %d) + MADV_POPULATE_WRITE from node %d: pages on %s",
			     n, t->home, show(nodes, NR_HP));
		else
			printf("ok: mbind(node %d) + MADV_POPULATE_WRITE from node %d: pages on %s\n",
			       n, t->home, show(nodes, NR_HP));
	}

	/* The same without mbind, thread bound to home: must be flagged. */
	if (do_set_mempolicy(MPOL_BIND, t->home)) {
		fail("set_mempolicy(MPOL_BIND, node %d): %s", t->home,
		     strerror(errno));
		return;
	}
	if (!populate_memfd("rp-probe-misplace", -1, nodes)) {
		size_t bad = misplaced(nodes, NR_HP, t->target);

		if (bad != NR_HP || common_node(nodes, NR_HP) != t->home)
			fail("no mbind, thread bound to node %d, wanted node %d: pages on %s, checker flags %zu of %d",
			     t->home, t->target, show(nodes, NR_HP), bad, NR_HP);
		else
			printf("ok: no mbind, thread bound to node %d: pages on %s, checker flags %zu of %d as not on node %d\n",
			       t->home, show(nodes, NR_HP), bad, NR_HP,
			       t->target);
	}
	if (do_set_mempolicy(MPOL_DEFAULT, -1))
		fail("set_mempolicy(MPOL_DEFAULT): %s", strerror(errno));
}

static void probe_memoryless(const struct topo *t)
{
	uint64_t m, none = t->online & ~t->mem;
	int nodes[MAX_PAGES];

	if (!none) {
		printf("info: no memoryless node in this guest\n");
		return;
	}
	for (m = none; m; m &= m - 1) {
		int n = first_bit(m), cpu = first_bit(node_cpus(n));
		size_t len = HP_2M;
		void *addr;
		long r;

		addr = mmap(NULL, len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (addr == MAP_FAILED) {
			fail("mmap: %s", strerror(errno));
			return;
		}
		r = do_mbind(addr, len, MPOL_BIND, n);
		if (!r)
			fail("mbind(MPOL_BIND) to memoryless node %d succeeded",
			     n);
		else
			printf("ok: mbind(MPOL_BIND) to memoryless node %d fails: %s\n",
			       n, strerror(errno));
		munmap(addr, len);

		r = do_set_mempolicy(MPOL_BIND, n);
		if (!r) {
			fail("set_mempolicy(MPOL_BIND) to memoryless node %d succeeded",
			     n);
			do_set_mempolicy(MPOL_DEFAULT, -1);
		} else {
			printf("ok: set_mempolicy(MPOL_BIND) to memoryless node %d fails: %s\n",
			       n, strerror(errno));
		}

		if (cpu < 0) {
			printf("info: memoryless node %d has no CPU\n", n);
			continue;
		}
		if (pin_cpu(cpu))
			continue;
		if (!populate_memfd("rp-probe-memless", -1, nodes)) {
			int c = common_node(nodes, NR_HP);

			if (c < 0 || !(t->mem & (1ULL << c)))
				fail("thread on cpu %d (memoryless node %d), local policy: pages on %s",
				     cpu, n, show(nodes, NR_HP));
			else
				printf("info: thread on cpu %d (memoryless node %d), local policy: pages on %s\n",
				       cpu, n, show(nodes, NR_HP));
		}
		pin_cpu(t->home_cpu);
	}
}

/* Map the range, fault the existing pages in without allocating, look. */
static int where_file(int fd, size_t len, size_t pgsz, int *nodes)
{
	void *addr = map_shared(fd, len, "placement read-back");
	int ret;

	if (!addr)
		return -1;
	if (madvise(addr, len, MADV_POPULATE_READ)) {
		fail("MADV_POPULATE_READ: %s", strerror(errno));
		munmap(addr, len);
		return -1;
	}
	ret = where(addr, len / pgsz, pgsz, nodes);
	munmap(addr, len);
	return ret;
}

/*
 * fd is a hugetlb or shmem object of len bytes. mbind_node >= 0: mbind a
 * shared mapping of it first; policy_node >= 0: bind the thread with
 * set_mempolicy around the fallocate.
 */
static int fallocate_case(const char *what, int fd, size_t len, size_t pgsz,
			  int mbind_node, int policy_node, int *nodes)
{
	void *addr = NULL;
	int ret = -1;

	if (mbind_node >= 0) {
		addr = map_shared(fd, len, what);
		if (!addr)
			return -1;
		if (do_mbind(addr, len, MPOL_BIND, mbind_node)) {
			fail("%s: mbind(node %d): %s", what, mbind_node,
			     strerror(errno));
			goto out;
		}
	}
	if (policy_node >= 0 && do_set_mempolicy(MPOL_BIND, policy_node)) {
		fail("%s: set_mempolicy(node %d): %s", what, policy_node,
		     strerror(errno));
		goto out;
	}
	if (fallocate(fd, 0, 0, len))
		fail("%s: fallocate: %s", what, strerror(errno));
	else
		ret = 0;
	if (policy_node >= 0 && do_set_mempolicy(MPOL_DEFAULT, -1))
		fail("set_mempolicy(MPOL_DEFAULT): %s", strerror(errno));
	if (!ret)
		ret = where_file(fd, len, pgsz, nodes);
out:
	if (addr)
		munmap(addr, len);
	return ret;
}

/* A case rampool relies on: every page must be on want. */
static void expect(const char *what, const int *nodes, size_t n, int want)
{
	if (misplaced(nodes, n, want))
		fail("%s: pages on %s, expected node %d", what, show(nodes, n),
		     want);
	else
		printf("ok: %s: pages on %s\n", what, show(nodes, n));
}

/* A case DESIGN fact 5b records: compare, note a change, fail on nonsense. */
static void compare_fact(const char *what, const int *nodes, size_t n,
			 int fact, int other)
{
	int c = common_node(nodes, n);

	if (c == fact)
		printf("info: %s: pages on %s, as fact 5b says (node %d)\n",
		       what, show(nodes, n), fact);
	else if (c == other)
		printf("NOTE: %s: pages on %s, NOT as fact 5b says (node %d): this kernel applies the mapping's policy here\n",
		       what, show(nodes, n), fact);
	else
		fail("%s: pages on %s, neither node %d (fact 5b) nor node %d",
		     what, show(nodes, n), fact, other);
}

static void probe_fact5b(const struct topo *t)
{
	char dir[] = "/tmp/rp-hugetlbfs.XXXXXX", path[64], what[160];
	size_t len = NR_HP * HP_2M, slen = NR_SHMEM * 4096UL;
	int home = t->home, tgt = t->target;
	int nodes[MAX_PAGES], fd;

	printf("thread on cpu %d (node %d), target node %d\n", t->home_cpu,
	       home, tgt);

	/* hugetlb memfd + mbind + MADV_POPULATE_WRITE */
	snprintf(what, sizeof(what),
		 "hugetlb memfd + mbind(%d) + MADV_POPULATE_WRITE", tgt);
	if (!populate_memfd("rp-5b-populate", tgt, nodes))
		expect(what, nodes, NR_HP, tgt);

	/* shmem memfd + mbind on a shared mapping + fallocate */
	snprintf(what, sizeof(what), "shmem memfd + mbind(%d) + fallocate", tgt);
	fd = memfd_create("rp-5b-shmem", 0);
	if (fd < 0) {
		fail("memfd_create(shmem): %s", strerror(errno));
	} else {
		if (ftruncate(fd, slen))
			fail("ftruncate(shmem): %s", strerror(errno));
		else if (!fallocate_case(what, fd, slen, 4096, tgt, -1, nodes))
			expect(what, nodes, NR_SHMEM, tgt);
		close(fd);
	}

	/* hugetlb memfd + mbind + fallocate: the same inode type as a file */
	snprintf(what, sizeof(what), "hugetlb memfd + mbind(%d) + fallocate",
		 tgt);
	fd = hugetlb_memfd("rp-5b-memfd-falloc", len);
	if (fd >= 0) {
		if (!fallocate_case(what, fd, len, HP_2M, tgt, -1, nodes))
			compare_fact(what, nodes, NR_HP, home, tgt);
		close(fd);
	}

	/* The hugetlbfs file cases need a mount of our own. */
	if (!mkdtemp(dir)) {
		fail("mkdtemp: %s", strerror(errno));
		return;
	}
	if (mount("rp-probe", dir, "hugetlbfs", 0, "pagesize=2M")) {
		fail("mount hugetlbfs on %s: %s", dir, strerror(errno));
		rmdir(dir);
		return;
	}

	snprintf(what, sizeof(what), "hugetlbfs file + mbind(%d) + fallocate",
		 tgt);
	snprintf(path, sizeof(path), "%s/mbind", dir);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		fail("open %s: %s", path, strerror(errno));
	} else {
		if (ftruncate(fd, len))
			fail("ftruncate %s: %s", path, strerror(errno));
		else if (!fallocate_case(what, fd, len, HP_2M, tgt, -1, nodes))
			compare_fact(what, nodes, NR_HP, home, tgt);
		close(fd);
		unlink(path);
	}

	snprintf(what, sizeof(what),
		 "hugetlbfs file + set_mempolicy(MPOL_BIND, %d) + fallocate",
		 tgt);
	snprintf(path, sizeof(path), "%s/policy", dir);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		fail("open %s: %s", path, strerror(errno));
	} else {
		if (ftruncate(fd, len))
			fail("ftruncate %s: %s", path, strerror(errno));
		else if (!fallocate_case(what, fd, len, HP_2M, -1, tgt, nodes))
			expect(what, nodes, NR_HP, tgt);
		close(fd);
		unlink(path);
	}

	if (umount(dir))
		fail("umount %s: %s", dir, strerror(errno));
	rmdir(dir);
}

int main(int argc, char **argv)
{
	struct topo t;
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 2 || (strcmp(argv[1], "bind") && strcmp(argv[1], "fact5b"))) {
		fprintf(stderr, "usage: placement_probe bind|fact5b\n");
		return 2;
	}
	ret = get_topo(&t);
	if (ret)
		return ret;
	ret = check_pools(&t);
	if (ret)
		return ret;
	if (pin_cpu(t.home_cpu))
		return 1;
	if (!strcmp(argv[1], "bind")) {
		probe_bind(&t);
		probe_memoryless(&t);
	} else {
		probe_fact5b(&t);
	}
	printf("%s: %d failure%s\n", argv[1], failures,
	       failures == 1 ? "" : "s");
	return failures ? 1 : 0;
}
