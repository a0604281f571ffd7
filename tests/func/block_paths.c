// SPDX-License-Identifier: LGPL-2.1-or-later
/* block_paths.c: a file backing is made in the directory given or not at all: long names and long directories never land in an ancestor. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rampool.h"
#include "t_util.h"

#define COMP_LEN 200

static char comp[COMP_LEN + 1];
static char base[PATH_MAX];
static int depth;

/* Removes the chain of depth directories named comp under dirfd. */
static void rm_chain(int dirfd, int n)
{
	int fd;

	if (!n)
		return;
	fd = openat(dirfd, comp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		rm_chain(fd, n - 1);
		close(fd);
	}
	unlinkat(dirfd, comp, AT_REMOVEDIR);
}

static void cleanup(void)
{
	int fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		rm_chain(fd, depth);
		close(fd);
	}
}

/* Entries of dir other than . and .. */
static int entries(const char *dir)
{
	struct dirent *e;
	int n = 0;
	DIR *d = opendir(dir);

	if (!d)
		T_FAIL("opendir %s", dir);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

/* Makes base/comp/comp/... while the path stays within max bytes. */
static void make_chain(char *path, size_t max)
{
	int fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	T_ASSERT(fd >= 0);
	strcpy(path, base);
	while (strlen(path) + 1 + COMP_LEN <= max) {
		int next;

		if (mkdirat(fd, comp, 0700))
			T_FAIL("mkdirat at depth %d", depth);
		depth++;
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		T_ASSERT(next >= 0);
		close(fd);
		fd = next;
		strcat(path, "/");
		strcat(path, comp);
	}
	close(fd);
}

static int new_block(struct rampool_pool *pool, enum rampool_backing kind,
		     const char *dir, const char *name, uint64_t size,
		     struct rampool_block **blk)
{
	struct rampool_block_opts o = {
		.sz = sizeof(o), .size = size, .backing = kind, .dir = dir,
		.name = name,
	};

	return rampool_block_new(pool, &o, blk);
}

/* The block's file was made in dir: its fd's link is dir/name.<hex>. */
static void assert_made_in(struct rampool_block *blk, const char *dir,
			   const char *name)
{
	static char link[2 * PATH_MAX], want[2 * PATH_MAX];
	char fdpath[64];
	ssize_t n;

	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d",
		 rampool_block_fd(blk));
	n = readlink(fdpath, link, sizeof(link) - 1);
	T_ASSERT(n > 0);
	link[n] = '\0';
	snprintf(want, sizeof(want), "%s/%s.", dir, name);
	if (strncmp(link, want, strlen(want)))
		T_FAIL("file made at %s, not in %s", link, dir);
}

static void long_names(struct rampool_pool *pool, enum rampool_backing kind,
		       const char *dir, uint64_t size)
{
	struct rampool_block *blk = (struct rampool_block *)0x1;
	char name[301];
	struct t_state s;

	memset(name, 'n', 300);
	name[300] = '\0';
	t_state_snap(&s);
	T_EQ(-new_block(pool, kind, dir, name, size, &blk), ENAMETOOLONG);
	T_ASSERT(blk == (struct rampool_block *)0x1);
	T_EQ(entries(dir), 0);
	t_state_same(&s);
	/* the longest name that fits is taken, in dir */
	name[238] = '\0';
	T_EQ(new_block(pool, kind, dir, name, size, &blk), 0);
	assert_made_in(blk, dir, name);
	rampool_block_free(blk);
	T_EQ(entries(dir), 0);
}

int main(void)
{
	static char path[2 * PATH_MAX];
	struct rampool_pool *pool;
	struct rampool_block *blk;
	const char *hdir = NULL;

	memset(comp, 'd', COMP_LEN);
	snprintf(base, sizeof(base), "%s", t_tmpdir("/dev/shm"));
	atexit(cleanup);
	T_EQ(rampool_pool_new(NULL, &pool), 0);

	long_names(pool, RAMPOOL_BACKING_TMPFS, base, 4096);
	if (geteuid() == 0 &&
	    !access("/sys/kernel/mm/hugepages/hugepages-2048kB", F_OK)) {
		t_hugepages_ensure_free(2 << 20, 2);
		hdir = t_mount_hugetlbfs(2 << 20, NULL);
		long_names(pool, RAMPOOL_BACKING_HUGETLBFS, hdir, 2 << 20);
	}

	/* a dir near PATH_MAX: the file is made there, never higher up */
	make_chain(path, PATH_MAX - 64);
	T_ASSERT(strlen(path) > PATH_MAX - 64 - COMP_LEN - 1);
	T_EQ(new_block(pool, RAMPOOL_BACKING_TMPFS, path, "x", 4096, &blk), 0);
	assert_made_in(blk, path, "x");
	rampool_block_free(blk);
	T_EQ(entries(path), 0);

	/* a path past PATH_MAX: a clean error, nothing made */
	while (strlen(path) < PATH_MAX) {
		strcat(path, "/");
		strcat(path, comp);
	}
	blk = (struct rampool_block *)0x1;
	T_EQ(-new_block(pool, RAMPOOL_BACKING_TMPFS, path, "x", 4096, &blk),
	     ENAMETOOLONG);
	T_ASSERT(blk == (struct rampool_block *)0x1);
	T_EQ(entries(base), 1);		/* only the chain */

	rampool_pool_free(pool);
	printf("file backings made in their dir%s or refused\n",
	       hdir ? " (tmpfs and hugetlbfs)" : " (tmpfs only: no hugetlb)");
	return 0;
}
