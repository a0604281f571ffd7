// SPDX-License-Identifier: LGPL-2.1-or-later
/* plan_qemu_stream.c: real QEMU 7.2 migration streams (a paused TCG VM with several memory backends, migrated to exec:cat) read into a plan, without and with postcopy-ram (issue 9). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rampool.h"
#include "t_qemu.h"
#include "t_res.h"
#include "t_util.h"

#define MiB (1ull << 20)

static struct t_qemu qemu;
static struct rampool_pool *pool;
static bool hugetlb;		/* m3: 4M of 2M pages (root with a 2M pool) */

/* What QEMU was given: backend id, size, page size. */
static const struct {
	const char *id;
	uint64_t size, page_size;
} given[] = {
	{ "m0", 40 * MiB, 4096 },	/* NUMA node 0 */
	{ "m1", 24 * MiB, 4096 },	/* NUMA node 1 */
	{ "m2", 48 * MiB, 4096 },	/* a pc-dimm */
	{ "m3", 4 * MiB, T_MB2 },	/* NUMA node 2, hugetlb */
};
#define NR_GIVEN (hugetlb ? 4u : 3u)

static void start_vm(const char *dir, const char *name)
{
	const char *const extra[] = {
		"-machine", "q35", "-S",
		"-m", hugetlb ? "68M,slots=2,maxmem=1G" : "64M,slots=2,maxmem=1G",
		"-object", "memory-backend-ram,id=m0,size=40M",
		"-object", "memory-backend-ram,id=m1,size=24M",
		"-object", "memory-backend-ram,id=m2,size=48M",
		"-numa", "node,memdev=m0", "-numa", "node,memdev=m1",
		"-device", "pc-dimm,id=d0,memdev=m2",
		hugetlb ? "-object" : NULL,
		"memory-backend-memfd,id=m3,size=4M,hugetlb=on,hugetlbsize=2M",
		"-numa", "node,memdev=m3",
		NULL,
	};

	t_qemu_start(&qemu, dir, name, extra);
	t_qemu_connect(&qemu, 30);
}

static void migrate(const char *file, bool postcopy)
{
	char cmd[512];

	if (postcopy)
		t_qmp_ok(&qemu, "{\"execute\":\"migrate-set-capabilities\","
			 "\"arguments\":{\"capabilities\":[{\"capability\":"
			 "\"postcopy-ram\",\"state\":true}]}}");
	snprintf(cmd, sizeof(cmd), "{\"execute\":\"migrate\",\"arguments\":"
		 "{\"uri\":\"exec:cat > %s\"}}", file);
	t_qmp_ok(&qemu, cmd);
}

static void wait_completed(void)
{
	for (int i = 0; i < 600; i++) {
		json_object *o = t_qmp(&qemu, "{\"execute\":\"query-migrate\"}");
		const char *st = t_jget_str(o, "status");
		bool done = !strcmp(st, "completed");

		if (!strcmp(st, "failed"))
			T_FAIL("the migration failed");
		json_object_put(o);
		if (done)
			return;
		usleep(100 * 1000);
	}
	T_FAIL("the migration did not complete within 60 s");
}

static void stop_vm(void)
{
	/* QEMU may exit before its answer to quit is read: no answer is fine */
	json_object_put(t_qmp_try(&qemu, "{\"execute\":\"quit\"}"));
	t_qemu_close(&qemu);
	if (!t_qemu_wait(&qemu, 10 * 1000, NULL))
		T_FAIL("QEMU did not quit within 10 s");
}

static const struct rampool_plan_block *find(struct rampool_plan_block *b,
					     unsigned int n, const char *id)
{
	for (unsigned int i = 0; i < n; i++)
		if (!strcmp(b[i].id, id))
			return &b[i];
	T_FAIL("block %s is not in the plan", id);
}

/*
 * The plan of the stream on fd: every block QEMU was given, of its size;
 * page sizes from the stream (postcopy) or the map; the ROMs there too.
 */
static void check_plan(int fd, const char *map, bool postcopy)
{
	struct rampool_plan_opts o = { .sz = sizeof(o), .map = map };
	struct rampool_plan_block b[32];
	struct rampool_plan *plan;
	unsigned int n;
	int ret;

	ret = rampool_plan_from_qemu_stream(pool, fd, &o, &plan);
	if (ret)
		T_FAIL("rampool_plan_from_qemu_stream: %s", strerror(-ret));
	n = rampool_plan_count(plan);
	T_ASSERT(n >= NR_GIVEN + 2 && n <= 32);
	for (unsigned int i = 0; i < n; i++) {
		b[i].sz = sizeof(b[i]);
		T_EQ(rampool_plan_block(plan, i, &b[i]), 0);
		printf("%-24s %10" PRIu64 " bytes, %7" PRIu64 "K pages, node "
		       "%d, flags 0x%x\n", b[i].id, b[i].size,
		       b[i].page_size >> 10, b[i].node, b[i].flags);
		T_EQ(b[i].size, b[i].region);
		T_EQ(b[i].size % b[i].page_size, 0);
	}
	for (unsigned int i = 0; i < NR_GIVEN; i++) {
		const struct rampool_plan_block *p = find(b, n, given[i].id);

		T_EQ(p->size, given[i].size);
		T_EQ(p->page_size, given[i].page_size);
		T_EQ(p->backing, given[i].page_size == 4096 ?
			 RAMPOOL_RES_SHMEM : RAMPOOL_RES_HUGETLB);
	}
	/* the map's nodes; m2 (no entry) is any node, defaulted */
	T_EQ(find(b, n, "m0")->node, 0);
	T_EQ(find(b, n, "m1")->node, 1);
	T_EQ(find(b, n, "m0")->flags, 0);
	T_EQ(find(b, n, "m2")->node, (uint64_t)RAMPOOL_NODE_ANY);
	T_EQ(find(b, n, "m2")->flags, RAMPOOL_PLAN_F_DEFAULTED);
	/* with postcopy-ram the stream itself says m3's 2M: no map entry */
	if (hugetlb)
		T_EQ(find(b, n, "m3")->flags,
		     postcopy ? RAMPOOL_PLAN_F_DEFAULTED : 0);
	T_EQ(find(b, n, "pc.bios")->size, 256 * 1024);
	rampool_plan_free(plan);
}

/* The reader stopped right after the first page data record's type. */
static void check_stop(int fd)
{
	off_t pos = lseek(fd, 0, SEEK_CUR);
	uint8_t t;

	T_ASSERT(pos > 8);
	T_EQ(pread(fd, &t, 1, pos - 1), 1);
	T_EQ(t, 0x02);		/* SECTION_PART */
	printf("stopped at byte %lld of %lld\n", (long long)pos,
	       (long long)lseek(fd, 0, SEEK_END));
}

/* Without postcopy-ram: a file, once the migration completed. */
static void plain(const char *dir)
{
	char file[512];
	int fd;

	snprintf(file, sizeof(file), "%s/plain.stream", dir);
	start_vm(dir, "plain");
	migrate(file, false);
	wait_completed();
	stop_vm();
	fd = open(file, O_RDONLY | O_CLOEXEC);
	T_ASSERT(fd >= 0);
	check_plan(fd, hugetlb ? "m0=4K@0,m1=4K@1,m3=2M" : "m0=4K@0,m1=4K@1",
		   false);
	check_stop(fd);
	close(fd);
}

/* Waits up to 30 s for the first bytes on a non-blocking FIFO, then makes
 * it blocking: the reader then takes the stream as QEMU writes it. */
static void wait_fifo(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, 30 * 1000) != 1 || !(p.revents & POLLIN))
		T_FAIL("no stream on the FIFO within 30 s");
	T_EQ(fcntl(fd, F_SETFL, 0), 0);
}

/*
 * With postcopy-ram: QEMU waits for the destination's answer before it
 * completes, which cat never gives: read the stream from a FIFO while it
 * comes, then drop it (the migration fails) and quit.
 */
static void postcopy(const char *dir)
{
	char fifo[512];
	int fd;

	snprintf(fifo, sizeof(fifo), "%s/postcopy.fifo", dir);
	T_EQ(mkfifo(fifo, 0600), 0);
	fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	T_ASSERT(fd >= 0);
	start_vm(dir, "postcopy");
	migrate(fifo, true);
	wait_fifo(fd);
	check_plan(fd, "m0=4K@0,m1=4K@1", true);
	close(fd);
	stop_vm();
	unlink(fifo);
}

int main(void)
{
	const char *dir;
	int ret;

	t_qemu_require();
	dir = t_tmpdir("/tmp");
	/* a hugetlb block shows the page size a postcopy stream records */
	if (!geteuid() && !access("/sys/kernel/mm/hugepages/hugepages-2048kB",
				  F_OK)) {
		t_hugepages_ensure_free(T_MB2, 2);
		hugetlb = true;
	} else {
		printf("no 2M pages: without the hugetlb block\n");
	}
	ret = rampool_pool_new(NULL, &pool);
	if (ret)
		T_FAIL("rampool_pool_new: %s", strerror(-ret));
	plain(dir);
	postcopy(dir);
	rampool_pool_free(pool);
	return 0;
}
