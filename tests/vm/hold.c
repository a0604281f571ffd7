// SPDX-License-Identifier: LGPL-2.1-or-later
/* Holds hugetlb pages on chosen nodes so the VM suite sees non-trivial counters. */

/*
 * hold NODE:POPULATED:RESERVED[:PAGE_MIB] ...
 *
 * For each spec: a hugetlb memfd of POPULATED + RESERVED pages (2 MiB unless
 * PAGE_MIB says otherwise), mapped MAP_SHARED (which reserves all of them),
 * bound to NODE with mbind(MPOL_BIND), the first POPULATED pages written with
 * MADV_POPULATE_WRITE. Prints "ready" when all are in place, then sleeps until
 * it is killed; the kernel drops pages and reservations with the process.
 * Exits 1 with a message if any step fails.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/memfd.h>
#include <linux/mempolicy.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static int hold_one(const char *spec)
{
	unsigned long node, pop, resv, mib = 2, mask;
	unsigned int shift = 0;
	size_t page, len;
	char name[64];
	void *addr;
	int fd;

	if (sscanf(spec, "%lu:%lu:%lu:%lu", &node, &pop, &resv, &mib) < 3 ||
	    node >= 64 || !mib || (mib & (mib - 1)) || pop + resv == 0) {
		fprintf(stderr, "hold: bad spec '%s'\n", spec);
		return -1;
	}
	page = mib << 20;
	while ((1UL << shift) < page)
		shift++;
	len = (pop + resv) * page;

	snprintf(name, sizeof(name), "rp-hold-%s", spec);
	fd = memfd_create(name, MFD_HUGETLB | (shift << MFD_HUGE_SHIFT));
	if (fd < 0) {
		fprintf(stderr, "hold %s: memfd_create: %s\n", spec,
			strerror(errno));
		return -1;
	}
	if (ftruncate(fd, len)) {
		fprintf(stderr, "hold %s: ftruncate: %s\n", spec,
			strerror(errno));
		return -1;
	}
	addr = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (addr == MAP_FAILED) {
		fprintf(stderr, "hold %s: mmap (reserve): %s\n", spec,
			strerror(errno));
		return -1;
	}
	mask = 1UL << node;
	if (syscall(SYS_mbind, addr, len, MPOL_BIND, &mask, 65UL, 0UL)) {
		fprintf(stderr, "hold %s: mbind: %s\n", spec, strerror(errno));
		return -1;
	}
	if (pop && madvise(addr, pop * page, MADV_POPULATE_WRITE)) {
		fprintf(stderr, "hold %s: MADV_POPULATE_WRITE: %s\n", spec,
			strerror(errno));
		return -1;
	}
	/* fd and mapping stay open on purpose: they are what we hold. */
	return 0;
}

int main(int argc, char **argv)
{
	int i;

	if (argc < 2) {
		fprintf(stderr,
			"usage: hold NODE:POPULATED:RESERVED[:PAGE_MIB] ...\n");
		return 2;
	}
	for (i = 1; i < argc; i++)
		if (hold_one(argv[i]))
			return 1;
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
