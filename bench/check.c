// SPDX-License-Identifier: LGPL-2.1-or-later
/* check.c: how long "will it fit?" takes on a migration's critical path: a 1 TiB, 4,000-block manifest and a QEMU stream header of 1,000 RAM blocks, read and checked against this host (aim: under 50 ms each). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rampool.h"
#include "util.h"

#define MB (1ULL << 20)
#define RUNS 21

/* 4,000 blocks of 256M, the first 24 1G larger: 1 TiB of 2M pages. */
static char *make_manifest(size_t *len)
{
	size_t cap = 4000 * 96 + 64, n = 0;
	char *s = malloc(cap);

	if (!s)
		return NULL;
	n += (size_t)snprintf(s + n, cap - n, "{\"blocks\": [");
	for (int i = 0; i < 4000; i++)
		n += (size_t)snprintf(s + n, cap - n,
				      "%s{\"id\": \"mem%d\", \"size\": \"%dM\","
				      " \"page_size\": \"2M\"}",
				      i ? ", " : "", i, i < 24 ? 1280 : 256);
	n += (size_t)snprintf(s + n, cap - n, "]}");
	*len = n;
	return s;
}

static size_t be(unsigned char *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (unsigned char)(v >> (8 * (bytes - 1 - i)));
	return (size_t)bytes;
}

/* Header, configuration, a RAM section of 1,000 blocks, EOF: in a memfd. */
static int make_stream(void)
{
	static const char machine[] = "pc-q35-7.2";
	unsigned char *b = calloc(1, 64 * 1024);
	uint64_t total = 1000 * 64 * MB;
	size_t n = 0;
	int fd;

	if (!b)
		return -1;
	n += be(b + n, 0x5145564d, 4);
	n += be(b + n, 3, 4);
	b[n++] = 0x07;				/* CONFIGURATION */
	n += be(b + n, sizeof(machine) - 1, 4);
	memcpy(b + n, machine, sizeof(machine) - 1);
	n += sizeof(machine) - 1;
	b[n++] = 0x01;				/* SECTION_START */
	n += be(b + n, 2, 4);
	b[n++] = 3;
	memcpy(b + n, "ram", 3);
	n += 3;
	n += be(b + n, 0, 4);			/* instance */
	n += be(b + n, 4, 4);			/* version */
	n += be(b + n, total | 0x04, 8);	/* MEM_SIZE */
	for (int i = 0; i < 1000; i++) {
		char id[16];
		int l = snprintf(id, sizeof(id), "mem%d", i);

		b[n++] = (unsigned char)l;
		memcpy(b + n, id, (size_t)l);
		n += (size_t)l;
		n += be(b + n, 64 * MB, 8);
	}
	n += be(b + n, 0x10, 8);		/* EOS */
	b[n++] = 0x7e;				/* footer */
	n += be(b + n, 2, 4);
	b[n++] = 0x00;				/* EOF */
	fd = memfd_create("stream", MFD_CLOEXEC);
	if (fd < 0 || write(fd, b, n) != (ssize_t)n) {
		free(b);
		return -1;
	}
	free(b);
	return fd;
}

/* Reads (manifest text, or the stream fd from its start) and checks. */
static int one(struct rampool_pool *pool, const char *text, size_t len,
	       int fd, double *secs)
{
	struct rampool_plan_opts po = { .sz = sizeof(po) };
	struct rampool_plan *plan;
	struct rampool_check *c;
	double t0 = now();
	int ret;

	if (text) {
		ret = rampool_plan_from_manifest(pool, text, len, &po, &plan);
	} else {
		po.default_page_size = 2 * MB;
		if (lseek(fd, 0, SEEK_SET))
			return -errno;
		ret = rampool_plan_from_qemu_stream(pool, fd, &po, &plan);
	}
	if (ret)
		return ret;
	ret = rampool_plan_check(pool, plan, NULL, &c);
	*secs = now() - t0;
	rampool_check_free(c);
	rampool_plan_free(plan);
	return ret == -ENOSPC ? 0 : ret;	/* it need not fit here */
}

static void row(struct rampool_pool *pool, const char *what,
		const char *text, size_t len, int fd)
{
	double t[RUNS], lo, hi;

	for (int i = 0; i < RUNS; i++) {
		int ret = one(pool, text, len, fd, &t[i]);

		if (ret) {
			complain("%s: %s", what, strerror(-ret));
			return;
		}
	}
	lo = hi = t[0];
	for (int i = 1; i < RUNS; i++) {
		lo = t[i] < lo ? t[i] : lo;
		hi = t[i] > hi ? t[i] : hi;
	}
	say("  %-44s %7.2f ms  (min %.2f, max %.2f; aim < 50 ms)\n", what,
	    median(t, RUNS) * 1e3, lo * 1e3, hi * 1e3);
}

int main(void)
{
	struct rampool_pool_opts o = { .sz = sizeof(o) };
	struct rampool_pool *pool;
	size_t len = 0;
	char *text = make_manifest(&len);
	int fd = make_stream();

	if (!text || fd < 0 || rampool_pool_new(&o, &pool)) {
		fprintf(stderr, "check bench: setting up failed\n");
		return 1;
	}
	say("read + check against this host, median of %d:\n", RUNS);
	row(pool, "manifest: 1 TiB in 4,000 blocks of 2M pages", text, len,
	    -1);
	row(pool, "QEMU stream header: 1,000 RAM blocks", NULL, 0, fd);
	rampool_pool_free(pool);
	free(text);
	close(fd);
	return failed;
}
