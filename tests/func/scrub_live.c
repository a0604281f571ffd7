// SPDX-License-Identifier: LGPL-2.1-or-later
/* scrub_live.c: scrub_file zeroes every byte of a min_size hugetlbfs file and a tmpfs file keeping their pages, survives SIGKILL without a false clean, and resmount_move moves a reservation mount without touching a page (issue 10). */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <dirent.h>
#include <unistd.h>

#include "t_util.h"
#include "backend/scrub.h"
#include "backend/resmount.h"
#include "../t_compat.h"

#define MB2 (2ULL << 20)
#define HPAGES 64ULL			/* 128 MiB of 2M pages */
#define SHM_LEN (64ULL << 20)		/* 64 MiB of 4K shmem */
#define KILLS 5

static const struct rp_log nolog;
static const enum scrub_method methods[] = {
	SCRUB_ZERO, SCRUB_ZERO_NT, SCRUB_PUNCH_REFILL,
};
static const char *const mname[] = { "zero", "zero-nt", "punch+refill" };

/* Every 8-byte word of page i holds i << 32 | word | 1: never zero. */
static void fill(int fd, uint64_t len, uint64_t ps)
{
	uint64_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			   0);

	if (p == MAP_FAILED)
		T_FAIL("mmap: %s", strerror(errno));
	for (uint64_t w = 0; w < len / 8; w++)
		p[w] = (w * 8 / ps) << 32 | (w & 0xffffffff) | 1;
	munmap(p, len);
}

/*
 * Bytes of [0, len) of the file that are not zero (all of them read), by
 * pread: reading a hole through a mapping would fill it (DESIGN fact 7).
 */
static uint64_t nonzero(int fd, uint64_t len)
{
	static uint64_t buf[(2ULL << 20) / 8];
	uint64_t n = 0;

	for (uint64_t off = 0; off < len; off += sizeof(buf)) {
		if (pread(fd, buf, sizeof(buf), (off_t)off) !=
		    (ssize_t)sizeof(buf))
			T_FAIL("pread at %" PRIu64 ": %s", off, strerror(errno));
		for (uint64_t w = 0; w < sizeof(buf) / 8; w++)
			n += buf[w] != 0;
	}
	return n * 8;
}

static uint64_t blocks(int fd)
{
	struct stat st;

	T_EQ(fstat(fd, &st), 0);
	return (uint64_t)st.st_blocks * 512;
}

static int scrub(int fd, uint64_t len, uint64_t ps, bool huge,
		 enum scrub_method m, unsigned int threads,
		 void (*progress)(void *, uint64_t, uint64_t), void *data)
{
	struct scrub_opts o = {
		.threads = threads, .mpol_mode = -1, .chunk = 4ULL << 20,
		.progress = progress, .progress_data = data,
	};

	return scrub_file(fd, len, ps, huge, m, &o, NULL, &nolog);
}

/* Each method and 1, 2 threads: all zero, the file's pages all there. */
static void scrub_each(int fd, uint64_t len, uint64_t ps, bool huge,
		       const struct t_hcount *held)
{
	struct t_hcount now;

	for (unsigned int i = 0; i < 3; i++)
		for (unsigned int th = 1; th <= 2; th++) {
			fill(fd, len, ps);
			T_EQ(nonzero(fd, len), len);
			T_EQ(scrub(fd, len, ps, huge, methods[i], th, NULL,
				   NULL), 0);
			T_EQ(nonzero(fd, len), 0);
			T_EQ(blocks(fd), len);
			t_hcount(MB2, -1, &now);
			T_HCOUNT_EQ(now, *held);
			printf("  %s %s, %u thread(s): every byte zero\n",
			       huge ? "2M" : "4K", mname[i], th);
		}
}

/* The child's progress: the first sub-chunk tells the parent, then slow. */
static void slow(void *data, uint64_t done, uint64_t total)
{
	int *wfd = data;

	(void)total;
	if (done && write(*wfd, "p", 1) != 1)
		_exit(3);
	usleep(20000);
}

static int hole_wfd = -1;

/* fallocate that stops for good after punching the second sub-chunk */
static int punch_then_stop(int fd, int mode, off_t off, off_t len)
{
	int ret = fallocate(fd, mode, off, len);

	if ((mode & FALLOC_FL_PUNCH_HOLE) && off > 0) {
		if (write(hole_wfd, "p", 1) != 1)
			_exit(3);
		pause();
	}
	return ret;
}

/*
 * A child scrubs, reporting "C" on the pipe only when scrub_file returned
 * 0; SIGKILLed after its first sub-chunk. Never reported clean; the pages
 * stay the mount's (free - resv as before); a second scrub cleans it.
 */
static void kill_mid(int fd, uint64_t len, uint64_t ps, bool huge,
		     enum scrub_method m, bool in_hole,
		     const struct t_hcount *held)
{
	struct scrub_ops ops = scrub_default_ops;
	struct scrub_opts o = { .threads = 1, .mpol_mode = -1,
				.chunk = 4ULL << 20 };
	const uint64_t hole = 4ULL << 20;
	struct t_hcount now;
	int pfd[2], st;
	char c = 0;
	pid_t pid;

	fill(fd, len, ps);
	T_EQ(pipe(pfd), 0);
	pid = fork();
	if (pid < 0)
		T_FAIL("fork: %s", strerror(errno));
	if (!pid) {
		close(pfd[0]);
		/* killed between the punch and the refill of sub-chunk 2 */
		hole_wfd = pfd[1];
		ops.fallocate = punch_then_stop;
		if (in_hole ? !scrub_file(fd, len, ps, huge, m, &o, &ops,
					  &nolog) :
		    !scrub(fd, len, ps, huge, m, 1, slow, &pfd[1]))
			(void)!write(pfd[1], "C", 1);
		_exit(0);
	}
	close(pfd[1]);
	T_EQ(read(pfd[0], &c, 1), 1);
	T_EQ(c, 'p');
	T_EQ(kill(pid, SIGKILL), 0);
	T_EQ(waitpid(pid, &st, 0), pid);
	T_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	while (read(pfd[0], &c, 1) == 1)
		T_ASSERT(c != 'C');
	close(pfd[0]);
	/* killed mid-way: old data left, and it was never called clean */
	T_ASSERT(nonzero(fd, len) > 0);
	T_ASSERT(nonzero(fd, len) < len);
	t_hcount(MB2, -1, &now);
	T_EQ(now.total, held->total);
	T_EQ(now.free - now.resv, held->free - held->resv);
	if (in_hole) {
		/* sub-chunk 1 zero, 2 a hole: its pages in the mount's reserve */
		T_EQ(blocks(fd), len - hole);
		T_EQ(nonzero(fd, len), len - 2 * hole);
		if (huge) {
			T_EQ(now.free, held->free + hole / MB2);
			T_EQ(now.resv, held->resv + hole / MB2);
		}
	}
	/* the caller scrubs a dirty file again: back to all zero, all held */
	T_EQ(scrub(fd, len, ps, huge, m, 1, NULL, NULL), 0);
	T_EQ(nonzero(fd, len), 0);
	T_EQ(blocks(fd), len);
	t_hcount(MB2, -1, &now);
	T_HCOUNT_EQ(now, *held);
}

static void kills(int fd, uint64_t len, uint64_t ps, bool huge,
		  const struct t_hcount *held)
{
	for (unsigned int i = 0; i < 3; i++) {
		for (int k = 0; k < KILLS; k++)
			kill_mid(fd, len, ps, huge, methods[i], false, held);
		if (methods[i] == SCRUB_PUNCH_REFILL)
			for (int k = 0; k < KILLS; k++)
				kill_mid(fd, len, ps, huge, methods[i], true,
					 held);
		printf("  %s %s: %d SIGKILLs mid-scrub%s, never clean, no page lost\n",
		       huge ? "2M" : "4K", mname[i], KILLS,
		       methods[i] == SCRUB_PUNCH_REFILL ?
		       " and 5 between a punch and its refill" : "");
	}
}

static void test_hugetlb(void)
{
	char opts[64], path[4200];
	struct t_hcount base, mounted, held;
	const char *dir;
	int fd;

	t_hugepages_ensure_free(MB2, HPAGES + 8);
	t_hcount(MB2, -1, &base);
	snprintf(opts, sizeof(opts), "min_size=%llu,size=%llu",
		 HPAGES * MB2, HPAGES * MB2);
	dir = t_mount_hugetlbfs(MB2, opts);
	t_hcount(MB2, -1, &mounted);
	T_EQ(mounted.resv, base.resv + HPAGES);
	snprintf(path, sizeof(path), "%s/slot", dir);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	T_ASSERT(fd >= 0);
	T_EQ(ftruncate(fd, (off_t)(HPAGES * MB2)), 0);
	fill(fd, HPAGES * MB2, MB2);
	/* populated: the mount's reserve is spent on its own file */
	t_hcount(MB2, -1, &held);
	T_EQ(held.free, base.free - HPAGES);
	T_EQ(held.resv, base.resv);
	scrub_each(fd, HPAGES * MB2, MB2, true, &held);
	kills(fd, HPAGES * MB2, MB2, true, &held);
	close(fd);
	T_EQ(unlink(path), 0);
	t_umount(dir);
	t_hcount(MB2, -1, &held);
	T_HCOUNT_EQ(held, base);
}

static void test_shmem(void)
{
	const char *dir = t_tmpdir("/dev/shm");
	struct t_hcount held;
	struct statfs sf;
	char path[4200];
	int fd;

	T_EQ(statfs(dir, &sf), 0);
	if (sf.f_type != TMPFS_MAGIC)
		t_skip("/dev/shm is not tmpfs");
	snprintf(path, sizeof(path), "%s/slot", dir);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	T_ASSERT(fd >= 0);
	T_EQ(ftruncate(fd, (off_t)SHM_LEN), 0);
	t_hcount(MB2, -1, &held);
	scrub_each(fd, SHM_LEN, 4096, false, &held);
	kills(fd, SHM_LEN, 4096, false, &held);
	close(fd);
	T_EQ(unlink(path), 0);
}

static char top[64] = "";

static void cleanup_top(void)
{
	static const char *const sub[] = {
		"shared/in/e", "shared/in/f", "shared/in", "shared/c",
		"shared/d", "shared", "a", "b",
	};
	char p[128];

	if (!top[0])
		return;
	for (unsigned int i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", top, sub[i]);
		while (!umount2(p, MNT_DETACH))
			;
		rmdir(p);
	}
	rmdir(top);
}

static bool empty_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	T_ASSERT(d);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return !n;
}

/* A min_size mount with a populated, mapped file, moved: nothing changes. */
static void move_one(const char *from, const char *to)
{
	struct t_hcount before, after;
	char path[200];
	uint64_t *p;
	int fd;

	T_EQ(resmount_hugetlbfs(from, MB2, 8 * MB2, 0, 0,
				&resmount_default_ops, &nolog), 0);
	snprintf(path, sizeof(path), "%s/slot", from);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	T_ASSERT(fd >= 0);
	T_EQ(ftruncate(fd, (off_t)(8 * MB2)), 0);
	fill(fd, 8 * MB2, MB2);
	p = mmap(NULL, 8 * MB2, PROT_READ, MAP_SHARED, fd, 0);
	T_ASSERT(p != MAP_FAILED);
	t_hcount(MB2, -1, &before);
	T_EQ(resmount_move(from, to, &resmount_default_ops, &nolog), 0);
	t_hcount(MB2, -1, &after);
	T_HCOUNT_EQ(after, before);
	/* the same pages: the old mapping and the file at its new path */
	close(fd);
	snprintf(path, sizeof(path), "%s/slot", to);
	fd = open(path, O_RDWR | O_CLOEXEC);
	T_ASSERT(fd >= 0);
	T_EQ(p[8 * MB2 / 8 - 1], (7ULL << 32) | ((8 * MB2 / 8 - 1) & 0xffffffff) | 1);
	T_EQ(nonzero(fd, 8 * MB2), 8 * MB2);
	for (uint64_t w = 0; w < 8 * MB2 / 8; w += 4096)
		T_EQ(p[w], (w * 8 / MB2) << 32 | w | 1);
	T_ASSERT(resmount_is_hugetlbfs(to, &resmount_default_ops));
	T_ASSERT(!resmount_is_hugetlbfs(from, &resmount_default_ops));
	T_ASSERT(empty_dir(from));
	T_EQ(rmdir(from), 0);
	munmap(p, 8 * MB2);
	close(fd);
	T_EQ(unlink(path), 0);
	T_EQ(resmount_remove(to, &resmount_default_ops, &nolog), 0);
}

static void test_move(void)
{
	char a[80], b[80], sh[80], c[100], d[100], in[100], e[120], f[120];
	struct t_hcount base, now;

	t_hugepages_ensure_free(MB2, 16);
	snprintf(top, sizeof(top), "/tmp/rampool-move-XXXXXX");
	T_ASSERT(mkdtemp(top));
	t_atcleanup(cleanup_top);
	t_hcount(MB2, -1, &base);
	snprintf(a, sizeof(a), "%s/a", top);
	snprintf(b, sizeof(b), "%s/b", top);
	move_one(a, b);
	printf("  move: counters, pages and data unchanged; old path empty\n");

	/* under a shared mount (systemd's /run): the kernel refuses */
	snprintf(sh, sizeof(sh), "%s/shared", top);
	snprintf(c, sizeof(c), "%s/c", sh);
	snprintf(d, sizeof(d), "%s/d", sh);
	T_EQ(mkdir(sh, 0700), 0);
	T_EQ(mount(sh, sh, "none", MS_BIND, NULL), 0);
	T_EQ(mount("none", sh, "none", MS_SHARED, NULL), 0);
	T_EQ(resmount_hugetlbfs(c, MB2, 8 * MB2, 0, 0, &resmount_default_ops,
				&nolog), 0);
	T_EQ(resmount_move(c, d, &resmount_default_ops, &nolog), -EINVAL);
	T_ASSERT(resmount_is_hugetlbfs(c, &resmount_default_ops));
	T_EQ(access(d, F_OK), -1);
	T_EQ(resmount_remove(c, &resmount_default_ops, &nolog), 0);
	/* made private (a mount already), the same move works */
	T_EQ(resmount_private(sh, &resmount_default_ops, &nolog), 0);
	move_one(c, d);
	printf("  move under a shared parent: EINVAL; private: moved\n");
	/* a plain directory under the shared mount: bound, made private */
	T_EQ(mount("none", sh, "none", MS_SHARED, NULL), 0);
	snprintf(in, sizeof(in), "%s/in", sh);
	snprintf(e, sizeof(e), "%s/e", in);
	snprintf(f, sizeof(f), "%s/f", in);
	T_EQ(mkdir(in, 0700), 0);
	T_EQ(resmount_private(in, &resmount_default_ops, &nolog), 0);
	move_one(e, f);
	printf("  resmount_private on a directory in a shared mount: moved\n");
	T_EQ(umount2(in, 0), 0);
	T_EQ(rmdir(in), 0);
	T_EQ(umount2(sh, 0), 0);
	t_hcount(MB2, -1, &now);
	T_HCOUNT_EQ(now, base);
}

int main(void)
{
	t_require_hugetlb(MB2);
	test_move();
	test_hugetlb();
	test_shmem();
	printf("PASS\n");
	return 0;
}
