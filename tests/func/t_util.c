// SPDX-License-Identifier: LGPL-2.1-or-later
/* t_util.c: hugepage pools raised and restored, private mounts, assertions. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "t_util.h"

#define MAX_SAVED 8

static struct {
	char path[128];
	uint64_t old;
} saved[MAX_SAVED];
static int nr_saved;
static char mounts[MAX_SAVED][64];
static int nr_mounts;
static bool cleanup_armed;

static void cleanup(void)
{
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
	nr_saved = 0;
	nr_mounts = 0;
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
				    SIGALRM };

	if (cleanup_armed)
		return;
	cleanup_armed = true;
	atexit(cleanup);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], on_signal);
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

static void save_pool(const char *path)
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

void t_hugepages_set(uint64_t page_size, uint64_t n)
{
	char path[128];
	int ret;

	t_require_hugetlb(page_size);
	pool_path(path, sizeof(path), page_size, "nr_hugepages");
	save_pool(path);
	ret = t_write_u64(path, n);
	if (ret)
		T_FAIL("%s = %" PRIu64 ": %s", path, n, strerror(-ret));
	if (t_read_u64(path) != n)
		t_skip_hugetlb("kernel gave %" PRIu64 " of %" PRIu64
			       " %" PRIu64 "K pages",
			       t_read_u64(path), n, page_size >> 10);
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
	if (nr_mounts == MAX_SAVED)
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

static char *slurp(int fd)
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
		execv(argv[0], argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	/* poolctl's output is small; stderr after stdout cannot deadlock */
	o = slurp(po[0]);
	e = slurp(pe[0]);
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
