// SPDX-License-Identifier: LGPL-2.1-or-later
/* res_guarantee.c: a reservation's pages survive a punch of the whole file and a page thief; a plain hugetlbfs file loses them (issue 7). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "t_kid.h"
#include "t_res.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define RES_PAGES 16		/* the reservation */
#define SPARE 8			/* unclaimed pages beside it */

struct owner_report {
	int pages_ok;		/* pages faulted back */
	int err;		/* errno of MADV_POPULATE_WRITE, or SIGBUS */
	int nonzero;		/* pages that did not read zeros */
};

static void xwrite(int fd, const void *buf, size_t len)
{
	if (write(fd, buf, len) != (ssize_t)len)
		_exit(120);
}

static void xread(int fd, void *buf, size_t len)
{
	if (read(fd, buf, len) != (ssize_t)len)
		_exit(121);
}

/*
 * The VMM: maps the file, populates it, punches all of it (QEMU's postcopy
 * discard), says so, waits, then faults every page back.
 */
static void owner(const char *path, int tell, int wait_fd)
{
	uint64_t len = RES_PAGES * T_MB2;
	struct owner_report rep = { 0 };
	char *p, c = 'p';
	int fd;

	fd = open(path, O_RDWR);
	if (fd < 0)
		_exit(110);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		_exit(111);
	if (t_fault_pages(p, T_MB2, RES_PAGES, &rep.err, NULL) != RES_PAGES)
		_exit(112);
	memset(p, 0xa5, len);
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, len))
		_exit(113);
	xwrite(tell, &c, 1);
	xread(wait_fd, &c, 1);

	rep.pages_ok = t_fault_pages(p, T_MB2, RES_PAGES, &rep.err,
				     &rep.nonzero);
	xwrite(tell, &rep, sizeof(rep));
	_exit(0);
}

static void run_owner(int tell, int wait_fd, void *arg)
{
	owner(arg, tell, wait_fd);
}

/*
 * One run: the owner punches, the thief takes what it can, the owner
 * faults back. Returns what the owner reported; *stolen = the thief's.
 */
static struct owner_report attack(const char *path, uint64_t resv_after_punch,
				  uint64_t *stolen)
{
	struct owner_report rep;
	struct t_hcount before, now;
	struct t_kid o, t;
	char c;

	t_hcount(T_MB2, -1, &before);
	o = t_kid_spawn(run_owner, (void *)path);
	if (read(o.from, &c, 1) != 1)
		T_FAIL("owner died early");
	/* punched: every page free again; who still reserves them? */
	t_hcount(T_MB2, -1, &now);
	T_EQ(now.free, before.free);
	T_EQ(now.resv, resv_after_punch);

	t = t_thief_start(T_MB2, now.free, -1, 0, stolen);
	t_kid_go(&o, "owner");
	if (read(o.from, &rep, sizeof(rep)) != sizeof(rep))
		T_FAIL("owner died before its report");
	t_kid_reap(&o, "owner");
	t_thief_stop(&t);
	return rep;
}

static void with_pool(void)
{
	struct owner_report rep;
	struct t_hcount base, now;
	uint64_t stolen;
	char *path;

	t_res_pool_unclaimed(T_MB2, RES_PAGES + SPARE);
	t_hcount(T_MB2, -1, &base);
	t_poolctl_ok(0, "reserve", "g1", "--size", "32M", NULL);
	path = t_res_path("g1");
	/* the mount's own reserve takes the punched pages back */
	rep = attack(path, base.resv + RES_PAGES, &stolen);
	printf("pool: thief got %" PRIu64 " pages, owner faulted back %d "
	       "(error %d)\n", stolen, rep.pages_ok, rep.err);
	T_EQ(stolen, SPARE);
	T_EQ(rep.err, 0);
	T_EQ(rep.pages_ok, RES_PAGES);
	T_EQ(rep.nonzero, 0);	/* a punched page comes back as zeros */
	t_poolctl_ok(0, "release", "g1", NULL);
	t_hcount(T_MB2, -1, &now);
	T_HCOUNT_EQ(now, base);
	T_EQ(t_res_mounts(), 0);
	free(path);
}

static void without_pool(void)
{
	struct owner_report rep;
	struct t_hcount base, now;
	const char *mnt;
	char path[256];
	uint64_t stolen;
	int fd;

	t_res_pool_unclaimed(T_MB2, RES_PAGES + SPARE);
	t_hcount(T_MB2, -1, &base);
	mnt = t_mount_hugetlbfs(T_MB2, NULL);
	snprintf(path, sizeof(path), "%s/mem", mnt);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)(RES_PAGES * T_MB2)))
		T_FAIL("%s: %s", path, strerror(errno));
	close(fd);
	/* the punch drops the file's reservation with its pages */
	rep = attack(path, base.resv, &stolen);
	printf("plain file: thief got %" PRIu64 " pages, owner faulted back "
	       "%d (error %d)\n", stolen, rep.pages_ok, rep.err);
	T_EQ(stolen, SPARE + RES_PAGES);
	T_ASSERT(rep.err == EFAULT || rep.err == SIGBUS);
	T_EQ(rep.pages_ok, 0);
	if (unlink(path))
		T_FAIL("unlink %s: %s", path, strerror(errno));
	t_umount(mnt);
	t_hcount(T_MB2, -1, &now);
	T_HCOUNT_EQ(now, base);
}

int main(void)
{
	t_require_hugetlb(T_MB2);
	t_res_dir();
	with_pool();
	without_pool();
	t_res_audit_clean();
	return 0;
}
