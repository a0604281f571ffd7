// SPDX-License-Identifier: LGPL-2.1-or-later
/* block_matrix.c: every backing x {prealloc, none} x {bound node, any}: data, a second process, counters, seals. */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rampool.h"
#include "t_util.h"
#include "../t_compat.h"

#define MB2 (2ULL << 20)
#define SIZE (8 * MB2)		/* used length */
#define MAX (12 * MB2)		/* mapped and file length */

static const char *names[] = {
	[RAMPOOL_BACKING_MEMFD] = "memfd",
	[RAMPOOL_BACKING_MEMFD_HUGETLB] = "hugetlb-memfd",
	[RAMPOOL_BACKING_HUGETLBFS] = "hugetlbfs",
	[RAMPOOL_BACKING_TMPFS] = "tmpfs",
};

/* the pool logs at WARN and above: lg.last is the last of those */
static struct t_log lg = T_LOG_INIT;

/* Bytes the kernel has allocated to the block's file: exact, and ours alone. */
static uint64_t file_bytes(int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		T_FAIL("fstat: %s", strerror(errno));
	return (uint64_t)st.st_blocks * 512;
}

/* A forked child maps the fd itself, checks the pattern and leaves a mark. */
static void second_process(int fd, uint64_t len)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		T_FAIL("fork: %s", strerror(errno));
	if (pid == 0) {
		unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
					MAP_SHARED, fd, 0);

		if (p == MAP_FAILED)
			_exit(2);
		for (uint64_t i = 0; i < len; i += 4096)
			if (p[i] != (unsigned char)(i / 4096 * 7 + 1))
				_exit(3);
		p[len - 1] = 0xA5;
		_exit(0);
	}
	if (waitpid(pid, &status, 0) < 0)
		T_FAIL("waitpid: %s", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		T_FAIL("second process: status %#x", status);
}

static void one(struct rampool_pool *pool, int backing, bool prealloc,
		int node, const char *dir)
{
	bool huge = backing == RAMPOOL_BACKING_MEMFD_HUGETLB ||
		    backing == RAMPOOL_BACKING_HUGETLBFS;
	int cnode = node < 0 ? 0 : node;
	struct rampool_block_opts o = {
		.sz = sizeof(o),
		.size = SIZE,
		.max_size = MAX,
		.backing = backing,
		.nodes = &node,
		.nr_nodes = node >= 0,
		.flags = prealloc ? RAMPOOL_BLOCK_PREALLOC : 0,
		.dir = dir,
		.name = "block_matrix",
	};
	struct t_hcount g0, g1, n0, n1;
	unsigned int fds = t_fd_count();
	struct rampool_block *blk;
	unsigned char *p;
	int ret;

	t_hcount(MB2, -1, &g0);
	t_hcount(MB2, cnode, &n0);
	ret = rampool_block_new(pool, &o, &blk);
	if (ret)
		T_FAIL("%s prealloc=%d node=%d: %s (%s)", names[backing],
		       prealloc, node, strerror(-ret), lg.last);
	T_EQ(rampool_block_size(blk), SIZE);
	T_EQ(rampool_block_max_size(blk), MAX);
	T_EQ(rampool_block_page_size(blk), huge ? MB2 : 4096);
	T_EQ(rampool_block_node(blk), node);
	T_EQ(rampool_block_populated(blk), prealloc ? SIZE : 0);
	T_ASSERT(rampool_block_fd(blk) >= 0);
	T_EQ(t_fd_count(), fds + 1);

	t_hcount(MB2, -1, &g1);
	t_hcount(MB2, cnode, &n1);
	/* the file holds exactly what was populated */
	T_EQ(file_bytes(rampool_block_fd(blk)), prealloc ? SIZE : 0);
	if (huge) {
		/* the mapping reserves all of MAX; prealloc took SIZE of it */
		uint64_t taken = prealloc ? SIZE / MB2 : 0;

		T_EQ(g1.free, g0.free - taken);
		T_EQ(g1.resv, g0.resv + MAX / MB2 - taken);
		if (node >= 0)
			T_EQ(n1.free, n0.free - taken);
	} else {
		T_HCOUNT_EQ(g1, g0);
	}
	if (prealloc && node >= 0)
		T_EQ(t_pages_on_node(rampool_block_addr(blk), SIZE,
				     rampool_block_page_size(blk), node),
		     SIZE / rampool_block_page_size(blk));

	/* contents: written here, read here and by another process */
	p = rampool_block_addr(blk);
	for (uint64_t i = 0; i < SIZE; i += 4096)
		p[i] = (unsigned char)(i / 4096 * 7 + 1);
	second_process(rampool_block_fd(blk), SIZE);
	T_EQ(p[SIZE - 1], 0xA5);

	/* memfds are sealed against shrinking; a hole can still be punched */
	if (backing == RAMPOOL_BACKING_MEMFD ||
	    backing == RAMPOOL_BACKING_MEMFD_HUGETLB) {
		uint64_t ps = rampool_block_page_size(blk);

		T_EQ(ftruncate(rampool_block_fd(blk), (off_t)ps), -1);
		T_EQ(errno, EPERM);
		T_EQ(ftruncate(rampool_block_fd(blk), (off_t)(MAX + ps)), -1);
		T_EQ(errno, EPERM);
		/* nobody can add a write seal that would stop our punches */
		T_EQ(fcntl(rampool_block_fd(blk), F_ADD_SEALS, F_SEAL_WRITE),
		     -1);
		T_EQ(errno, EPERM);
		T_EQ(fallocate(rampool_block_fd(blk),
			       FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
			       (off_t)ps), 0);
		T_EQ(p[0], 0);	/* the punched page reads back as zeros */
	}

	rampool_block_free(blk);
	T_EQ(t_fd_count(), fds);
	t_hcount(MB2, -1, &g1);
	T_HCOUNT_EQ(g1, g0);
	printf("ok %-13s prealloc=%d node=%2d\n", names[backing], prealloc,
	       node);
}

static void unsealed(struct rampool_pool *pool)
{
	struct rampool_block_opts o = {
		.sz = sizeof(o),
		.size = SIZE,
		.flags = RAMPOOL_BLOCK_NO_SEAL,
	};
	struct rampool_block *blk;

	T_EQ(rampool_block_new(pool, &o, &blk), 0);
	T_EQ(ftruncate(rampool_block_fd(blk), SIZE / 2), 0);
	rampool_block_free(blk);
}

int main(void)
{
	struct rampool_pool_opts po = {
		.sz = sizeof(po), .log_fn = t_log_fn, .log_data = &lg,
	};
	struct rampool_pool *pool;
	const char *hdir, *tdir;

	/* the pool must cover MAX of one block at a time, twice for slack */
	t_hugepages_ensure_free(MB2, 2 * MAX / MB2 +
				     t_read_u64("/sys/kernel/mm/hugepages/"
						"hugepages-2048kB/resv_hugepages"));
	hdir = t_mount_hugetlbfs(MB2, NULL);
	tdir = t_tmpdir("/dev/shm");
	T_EQ(rampool_pool_new(&po, &pool), 0);
	for (int backing = RAMPOOL_BACKING_MEMFD;
	     backing <= RAMPOOL_BACKING_TMPFS; backing++) {
		const char *dir = backing == RAMPOOL_BACKING_HUGETLBFS ? hdir :
				  backing == RAMPOOL_BACKING_TMPFS ? tdir :
								      NULL;

		for (int prealloc = 0; prealloc < 2; prealloc++)
			for (int node = -1; node < t_nr_nodes(); node++)
				one(pool, backing, prealloc, node, dir);
	}
	unsealed(pool);
	rampool_pool_free(pool);
	/* empty: every file was unlinked when it was made */
	T_EQ(rmdir(tdir), 0);
	return 0;
}
