// SPDX-License-Identifier: LGPL-2.1-or-later
/* t_util.c: hugepage pools raised and restored, private mounts, assertions. */
#include <dirent.h>
#include <errno.h>
#include <numa.h>
#include <numaif.h>
#include <sched.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include "t_util.h"
#include "../t_compat.h"

#define MAX_SAVED 32
#define PREALLOC_NODES_MAX 16	/* nodes whose pools are saved */

static struct {
	char path[128];
	uint64_t old;
} saved[MAX_SAVED];
static int nr_saved;
static char mounts[8][64];
static int nr_mounts;
static char tmpdirs[4][96];
static int nr_tmpdirs;
static bool cleanup_armed;
static pid_t cleanup_pid;
static void (*hooks[4])(void);
static int nr_hooks;

static void cleanup(void)
{
	/* a forked child that exits must not undo its parent's settings */
	if (getpid() != cleanup_pid)
		return;
	/* the tests' own state first: its mounts may pin pages */
	for (int i = nr_hooks - 1; i >= 0; i--)
		hooks[i]();
	nr_hooks = 0;
	/* unmount first: a mounted min_size= reserve would pin pages */
	for (int i = nr_mounts - 1; i >= 0; i--) {
		if (!mounts[i][0])
			continue;
		umount2(mounts[i], MNT_DETACH);
		rmdir(mounts[i]);
		mounts[i][0] = '\0';
	}
	for (int i = nr_saved - 1; i >= 0; i--) {
		int fd = open(saved[i].path, O_WRONLY);
		char buf[32];
		int n;

		if (fd < 0)
			continue;
		n = snprintf(buf, sizeof(buf), "%" PRIu64 "\n", saved[i].old);
		if (write(fd, buf, (size_t)n) != n)
			fprintf(stderr, "t_util: cannot restore %s\n",
				saved[i].path);
		close(fd);
	}
	for (int i = nr_tmpdirs - 1; i >= 0; i--)
		rmdir(tmpdirs[i]);
	nr_saved = 0;
	nr_mounts = 0;
	nr_tmpdirs = 0;
}

static void on_signal(int sig)
{
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void arm_cleanup(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGABRT, SIGSEGV,
				    SIGALRM, SIGPIPE };

	if (cleanup_armed)
		return;
	cleanup_armed = true;
	cleanup_pid = getpid();
	atexit(cleanup);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], on_signal);
}

void t_atcleanup(void (*fn)(void))
{
	if (nr_hooks == 4)
		T_FAIL("too many cleanup hooks");
	arm_cleanup();
	hooks[nr_hooks++] = fn;
}

void t_skip(const char *fmt, ...)
{
	va_list ap;

	printf("SKIP: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(T_SKIP);
}

void t_skip_hugetlb(const char *fmt, ...)
{
	const char *req = getenv("RAMPOOL_TEST_REQUIRE_HUGETLB");
	bool fail = req && !strcmp(req, "1");
	va_list ap;

	printf("%s", fail ? "FAIL (RAMPOOL_TEST_REQUIRE_HUGETLB=1): "
			  : "SKIP: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(fail ? 1 : T_SKIP);
}

void t_fail_at(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "FAIL %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

static void pool_path(char *buf, size_t len, uint64_t page_size,
		      const char *file)
{
	snprintf(buf, len, "/sys/kernel/mm/hugepages/hugepages-%" PRIu64 "kB/%s",
		 page_size >> 10, file);
}

void t_require_hugetlb(uint64_t page_size)
{
	char path[128];

	if (geteuid() != 0)
		t_skip_hugetlb("needs root to size the hugepage pool");
	pool_path(path, sizeof(path), page_size, "nr_hugepages");
	if (access(path, W_OK))
		t_skip_hugetlb("kernel has no %" PRIu64 "K hugepages",
			       page_size >> 10);
}

uint64_t t_read_u64(const char *path)
{
	char buf[64];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		T_FAIL("open %s: %s", path, strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		T_FAIL("read %s", path);
	buf[n] = '\0';
	return strtoull(buf, NULL, 10);
}

int t_write_u64(const char *path, uint64_t v)
{
	char buf[32];
	int fd, n, ret = 0;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%" PRIu64 "\n", v);
	if (write(fd, buf, (size_t)n) != n)
		ret = -errno;
	close(fd);
	return ret;
}

uint64_t t_meminfo(const char *key)
{
	size_t klen = strlen(key);
	char line[256];
	FILE *f;

	f = fopen("/proc/meminfo", "r");
	if (!f)
		T_FAIL("/proc/meminfo: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			fclose(f);
			return strtoull(line + klen + 1, NULL, 10);
		}
	}
	fclose(f);
	T_FAIL("/proc/meminfo has no %s", key);
}

static void save_one(const char *path)
{
	for (int i = 0; i < nr_saved; i++)
		if (!strcmp(saved[i].path, path))
			return;
	if (nr_saved == MAX_SAVED)
		T_FAIL("too many saved settings");
	arm_cleanup();
	snprintf(saved[nr_saved].path, sizeof(saved[0].path), "%s", path);
	saved[nr_saved].old = t_read_u64(path);
	nr_saved++;
}

/*
 * The global count and each node's: restoring only the global count would
 * spread the pages evenly over the nodes, not as they were. Cleanup runs
 * backwards, so the nodes are put back first and the global write that
 * follows finds its value already there.
 */
static void save_pool(uint64_t page_size)
{
	char path[160];

	snprintf(path, sizeof(path),
		 "/sys/kernel/mm/hugepages/hugepages-%" PRIu64 "kB/nr_hugepages",
		 page_size >> 10);
	save_one(path);
	for (int node = 0; node < PREALLOC_NODES_MAX; node++) {
		snprintf(path, sizeof(path),
			 "/sys/devices/system/node/node%d/hugepages/"
			 "hugepages-%" PRIu64 "kB/nr_hugepages",
			 node, page_size >> 10);
		if (!access(path, W_OK))
			save_one(path);
	}
}

void t_hugepages_set(uint64_t page_size, uint64_t n)
{
	char path[128];
	int ret;

	t_require_hugetlb(page_size);
	pool_path(path, sizeof(path), page_size, "nr_hugepages");
	save_pool(page_size);
	ret = t_write_u64(path, n);
	if (ret)
		T_FAIL("%s = %" PRIu64 ": %s", path, n, strerror(-ret));
	if (t_read_u64(path) != n)
		t_skip_hugetlb("kernel gave %" PRIu64 " of %" PRIu64
			       " %" PRIu64 "K pages",
			       t_read_u64(path), n, page_size >> 10);
}

bool t_hugepages_try_set(uint64_t page_size, uint64_t n)
{
	char path[128];

	if (geteuid() != 0)
		return false;
	pool_path(path, sizeof(path), page_size, "nr_hugepages");
	if (access(path, W_OK))
		return false;
	save_pool(page_size);
	return !t_write_u64(path, n) && t_read_u64(path) == n;
}

void t_hugepages_set_node(uint64_t page_size, int node, uint64_t n)
{
	char path[160];
	int ret;

	t_require_hugetlb(page_size);
	save_pool(page_size);
	snprintf(path, sizeof(path),
		 "/sys/devices/system/node/node%d/hugepages/"
		 "hugepages-%" PRIu64 "kB/nr_hugepages", node, page_size >> 10);
	ret = t_write_u64(path, n);
	if (ret)
		T_FAIL("%s = %" PRIu64 ": %s", path, n, strerror(-ret));
	if (t_read_u64(path) != n)
		t_skip_hugetlb("node %d got %" PRIu64 " of %" PRIu64 " pages",
			       node, t_read_u64(path), n);
}

uint64_t t_hugepages_ensure_free(uint64_t page_size, uint64_t want)
{
	char nr_path[128], free_path[128];
	uint64_t nr, nfree;

	t_require_hugetlb(page_size);
	pool_path(nr_path, sizeof(nr_path), page_size, "nr_hugepages");
	pool_path(free_path, sizeof(free_path), page_size, "free_hugepages");
	nfree = t_read_u64(free_path);
	if (nfree < want) {
		nr = t_read_u64(nr_path);
		t_hugepages_set(page_size, nr + (want - nfree));
	}
	nfree = t_read_u64(free_path);
	if (nfree < want)
		t_skip_hugetlb("only %" PRIu64 " free %" PRIu64 "K pages",
			       nfree, page_size >> 10);
	return t_read_u64(nr_path);
}

const char *t_mount_hugetlbfs(uint64_t page_size, const char *opts)
{
	char data[256], *dir;

	t_require_hugetlb(page_size);
	if (nr_mounts == 8)
		T_FAIL("too many mounts");
	arm_cleanup();
	dir = mounts[nr_mounts];
	snprintf(dir, sizeof(mounts[0]), "/tmp/rampool-t-XXXXXX");
	if (!mkdtemp(dir))
		T_FAIL("mkdtemp: %s", strerror(errno));
	snprintf(data, sizeof(data), "pagesize=%" PRIu64 "K%s%s",
		 page_size >> 10, opts ? "," : "", opts ? opts : "");
	if (mount("none", dir, "hugetlbfs", 0, data)) {
		int err = errno;

		rmdir(dir);
		dir[0] = '\0';
		t_skip_hugetlb("mount hugetlbfs %s: %s", data, strerror(err));
	}
	nr_mounts++;
	return dir;
}

const char *t_tmpdir(const char *base)
{
	char *dir;

	if (nr_tmpdirs == 4)
		T_FAIL("too many temporary directories");
	arm_cleanup();
	dir = tmpdirs[nr_tmpdirs];
	snprintf(dir, sizeof(tmpdirs[0]), "%s/rampool-t-XXXXXX", base);
	if (!mkdtemp(dir))
		T_FAIL("mkdtemp %s: %s", dir, strerror(errno));
	nr_tmpdirs++;
	return dir;
}

void t_umount(const char *path)
{
	for (int i = 0; i < nr_mounts; i++) {
		if (strcmp(mounts[i], path))
			continue;
		if (umount2(mounts[i], 0))
			T_FAIL("umount %s: %s", path, strerror(errno));
		rmdir(mounts[i]);
		mounts[i][0] = '\0';
		return;
	}
	T_FAIL("%s is not a test mount", path);
}

const char *t_build_path(const char *name)
{
	static char path[PATH_MAX];
	char self[PATH_MAX];
	ssize_t n;

	/* tests live in BUILD/tests/func/ */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		T_FAIL("readlink /proc/self/exe: %s", strerror(errno));
	self[n] = '\0';
	snprintf(path, sizeof(path), "%s/../../%s", dirname(self), name);
	return path;
}

char *t_slurp(int fd)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	ssize_t n;

	if (!buf)
		T_FAIL("out of memory");
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (len + 1 == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			if (!buf)
				T_FAIL("out of memory");
		}
	}
	buf[len] = '\0';
	return buf;
}

int t_run(char *const argv[], char **out, char **err)
{
	return t_run_as(-1, argv, out, err);
}

void t_become(long long uid)
{
	gid_t gid = (gid_t)uid;

	if (uid < 0)
		return;
	if (setgroups(0, NULL) || setresgid(gid, gid, gid) ||
	    setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid))
		_exit(126);
}

int t_run_as(long long uid, char *const argv[], char **out, char **err)
{
	int po[2], pe[2], status;
	char *o, *e;
	pid_t pid;

	if (pipe(po) || pipe(pe))
		T_FAIL("pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		T_FAIL("fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]);
		close(pe[0]);
		t_become(uid);
		execv(argv[0], argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	/* poolctl's output is small; stderr after stdout cannot deadlock */
	o = t_slurp(po[0]);
	e = t_slurp(pe[0]);
	close(po[0]);
	close(pe[0]);
	if (waitpid(pid, &status, 0) < 0)
		T_FAIL("waitpid: %s", strerror(errno));
	if (out)
		*out = o;
	else
		free(o);
	if (err)
		*err = e;
	else
		free(e);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

unsigned int t_fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	unsigned int n = 0;

	if (!d)
		T_FAIL("opendir /proc/self/fd: %s", strerror(errno));
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n - 1;	/* the fd opendir itself holds */
}

unsigned int t_map_count(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned int n = 0;
	char line[512];

	if (!f)
		T_FAIL("fopen /proc/self/maps: %s", strerror(errno));
	/*
	 * Only shared file mappings, the kind blocks make: thread stacks that
	 * glibc caches and heap arenas come and go on their own.
	 */
	while (fgets(line, sizeof(line), f))
		n += strstr(line, "memfd:") || strstr(line, "(deleted)") ||
		     strstr(line, "rampool") || strstr(line, "/dev/shm/") ||
		     strstr(line, "/tmp/");
	fclose(f);
	return n;
}

void t_hcount(uint64_t page_size, int node, struct t_hcount *c)
{
	char dir[160], path[200];

	if (node < 0)
		snprintf(dir, sizeof(dir),
			 "/sys/kernel/mm/hugepages/hugepages-%" PRIu64 "kB",
			 page_size >> 10);
	else
		snprintf(dir, sizeof(dir),
			 "/sys/devices/system/node/node%d/hugepages/"
			 "hugepages-%" PRIu64 "kB", node, page_size >> 10);
	snprintf(path, sizeof(path), "%s/nr_hugepages", dir);
	c->total = t_read_u64(path);
	snprintf(path, sizeof(path), "%s/free_hugepages", dir);
	c->free = t_read_u64(path);
	snprintf(path, sizeof(path), "%s/surplus_hugepages", dir);
	c->surplus = t_read_u64(path);
	c->resv = 0;
	if (node < 0) {
		snprintf(path, sizeof(path), "%s/resv_hugepages", dir);
		c->resv = t_read_u64(path);
	}
}

void t_state_snap(struct t_state *s)
{
	t_hcount(2ULL << 20, -1, &s->g);
	s->fds = t_fd_count();
	s->maps = t_map_count();
}

void t_state_same_at(const char *file, int line, const struct t_state *a)
{
	struct t_state b;

	t_state_snap(&b);
	if (b.g.total != a->g.total || b.g.free != a->g.free ||
	    b.g.resv != a->g.resv || b.g.surplus != a->g.surplus ||
	    b.fds != a->fds || b.maps != a->maps)
		t_fail_at(file, line, "left behind: 2M total %" PRIu64 "->%" PRIu64
			  " free %" PRIu64 "->%" PRIu64 " resv %" PRIu64 "->%" PRIu64
			  " surplus %" PRIu64 "->%" PRIu64 ", fds %u->%u, "
			  "mappings %u->%u", a->g.total, b.g.total, a->g.free,
			  b.g.free, a->g.resv, b.g.resv, a->g.surplus,
			  b.g.surplus, a->fds, b.fds, a->maps, b.maps);
}

int t_nr_nodes(void)
{
	if (numa_available() < 0)
		return 1;
	return numa_num_configured_nodes();
}

int t_current_node(void)
{
	unsigned int cpu, node;

	if (getcpu(&cpu, &node))
		T_FAIL("getcpu: %s", strerror(errno));
	return (int)node;
}

void t_pin_to_node(int node)
{
	struct bitmask *cpus = numa_allocate_cpumask();

	if (numa_node_to_cpus(node, cpus) || !numa_bitmask_weight(cpus))
		T_FAIL("node %d has no CPUs", node);
	if (numa_sched_setaffinity(0, cpus))
		T_FAIL("sched_setaffinity: %s", strerror(errno));
	numa_free_cpumask(cpus);
}

uint64_t t_pages_on_node(void *addr, uint64_t len, uint64_t page_size,
			 int node)
{
	uint64_t n = len / page_size, on = 0;
	void **pages = calloc(n, sizeof(*pages));
	int *status = calloc(n, sizeof(*status));

	if (!pages || !status)
		T_FAIL("out of memory");
	/* move_pages sees mapped pages only; rampool maps only a sample */
	if (madvise(addr, len, MADV_POPULATE_READ))
		T_FAIL("MADV_POPULATE_READ: %s", strerror(errno));
	for (uint64_t i = 0; i < n; i++)
		pages[i] = (char *)addr + i * page_size;
	if (move_pages(0, n, pages, NULL, status, 0))
		T_FAIL("move_pages: %s", strerror(errno));
	for (uint64_t i = 0; i < n; i++)
		on += status[i] == node;
	free(pages);
	free(status);
	return on;
}
