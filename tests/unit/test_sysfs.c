// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_sysfs.c: the rooted file reader's error paths, through mocked syscalls. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend/sysfs.h"
#include "../t_compat.h"

/*
 * The mock: a root directory and a table of files and directories under
 * it. openat hands out fds from 100 up and remembers what each refers to,
 * so the test can see that every fd opened was closed exactly once.
 */
#define ROOT "/fake/root"
#define MAX_FDS 64
#define MAX_ENTRIES 4

struct mfile {
	const char *rel;	/* as sysfs_* is asked for it */
	const char *data;	/* content; NULL: size bytes of 'x' */
	size_t size;
	bool dir;
	const char *entries[MAX_ENTRIES];	/* of a directory */
	int open_errno;		/* openat fails with it */
	int read_errno;		/* every read fails with it */
	int eintr_reads;	/* this many reads fail with EINTR first */
	size_t piece;		/* at most this much per read; 0: no limit */
	int fdopendir_errno;
	int readdir_errno;	/* readdir fails after the entries */
};

struct mfd {
	bool open;
	bool is_root;
	struct mfile *f;
	size_t off;
	unsigned int next;	/* directory position */
	struct dirent de;
};

static struct {
	int root_errno;		/* opening the root fails with it */
	struct mfile *files;
	unsigned int nfiles;
	struct mfd fds[MAX_FDS];
	int rootfd;
	unsigned int opens, closes, reads, bad_calls;
} m;

static struct mfd *fd_get(int fd)
{
	if (fd < 100 || fd >= 100 + MAX_FDS || !m.fds[fd - 100].open) {
		m.bad_calls++;
		return NULL;
	}
	return &m.fds[fd - 100];
}

static int fd_new(struct mfile *f, bool is_root)
{
	for (int i = 0; i < MAX_FDS; i++) {
		if (m.fds[i].open || m.fds[i].f || m.fds[i].is_root)
			continue;	/* never reused: a late close shows */
		m.fds[i] = (struct mfd){ .open = true, .f = f,
					 .is_root = is_root };
		m.opens++;
		return 100 + i;
	}
	errno = EMFILE;
	return -1;
}

static int mock_openat(int dirfd, const char *path, int flags)
{
	struct mfd *d;

	if (dirfd == AT_FDCWD) {
		if (strcmp(path, ROOT) && strcmp(path, ROOT "/") &&
		    strcmp(path, "/")) {
			errno = ENOENT;
			return -1;
		}
		if (m.root_errno) {
			errno = m.root_errno;
			return -1;
		}
		m.rootfd = fd_new(NULL, true);
		return m.rootfd;
	}
	/* everything else must be relative to the root fd */
	d = fd_get(dirfd);
	if (!d || !d->is_root || path[0] == '/') {
		m.bad_calls++;
		errno = EBADF;
		return -1;
	}
	for (unsigned int i = 0; i < m.nfiles; i++) {
		struct mfile *f = &m.files[i];

		if (strcmp(f->rel, path))
			continue;
		if (f->open_errno) {
			errno = f->open_errno;
			return -1;
		}
		if ((flags & O_DIRECTORY) && !f->dir) {
			errno = ENOTDIR;
			return -1;
		}
		return fd_new(f, false);
	}
	errno = ENOENT;
	return -1;
}

static ssize_t mock_read(int fd, void *buf, size_t count)
{
	struct mfd *d = fd_get(fd);
	struct mfile *f;
	size_t n;

	m.reads++;
	if (!d || !d->f || d->f->dir) {
		errno = EBADF;
		return -1;
	}
	f = d->f;
	if (f->eintr_reads > 0) {
		f->eintr_reads--;
		errno = EINTR;
		return -1;
	}
	if (f->read_errno) {
		errno = f->read_errno;
		return -1;
	}
	n = f->size - d->off;
	if (n > count)
		n = count;
	if (f->piece && n > f->piece)
		n = f->piece;
	if (f->data)
		memcpy(buf, f->data + d->off, n);
	else
		memset(buf, 'x', n);
	d->off += n;
	return (ssize_t)n;
}

static int mock_close(int fd)
{
	struct mfd *d = fd_get(fd);

	if (!d) {
		errno = EBADF;
		return -1;
	}
	d->open = false;
	m.closes++;
	return 0;
}

/* A DIR * is only handed back to the mock, so it can point at our fd slot. */
static DIR *mock_fdopendir(int fd)
{
	struct mfd *d = fd_get(fd);

	if (!d || !d->f || !d->f->dir) {
		errno = ENOTDIR;
		return NULL;
	}
	if (d->f->fdopendir_errno) {
		errno = d->f->fdopendir_errno;
		return NULL;
	}
	return (DIR *)d;
}

static struct dirent *mock_readdir(DIR *dir)
{
	struct mfd *d = (struct mfd *)dir;
	static const char *const dots[] = { ".", ".." };
	const char *name;

	if (!d->open) {
		m.bad_calls++;
		return NULL;
	}
	if (d->next < 2) {
		name = dots[d->next];
	} else if (d->next - 2 < MAX_ENTRIES && d->f->entries[d->next - 2]) {
		name = d->f->entries[d->next - 2];
	} else {
		if (d->f->readdir_errno)
			errno = d->f->readdir_errno;
		return NULL;
	}
	d->next++;
	snprintf(d->de.d_name, sizeof(d->de.d_name), "%s", name);
	return &d->de;
}

static int mock_closedir(DIR *dir)
{
	struct mfd *d = (struct mfd *)dir;

	if (!d->open) {
		m.bad_calls++;
		return -1;
	}
	d->open = false;
	m.closes++;
	return 0;
}

static const struct sysfs_ops mock_ops = {
	.openat = mock_openat,
	.read = mock_read,
	.close = mock_close,
	.fdopendir = mock_fdopendir,
	.readdir = mock_readdir,
	.closedir = mock_closedir,
};

/* ---- log capture --------------------------------------------------------- */

static struct t_log lg = T_LOG_INIT;

static const struct rp_log test_log = {
	.fn = t_log_fn,
	.data = &lg,
	.level = RAMPOOL_LOG_DEBUG,
};

/* Exactly one message, at ERR, that names the file. */
static void assert_one_err(const char *path)
{
	assert_int_equal(lg.n, 1);
	assert_int_equal(lg.n_err, 1);
	if (!strstr(lg.last_err, path))
		fail_msg("log \"%s\" does not name %s", lg.last_err, path);
}

static void assert_no_log(void)
{
	if (lg.n)
		fail_msg("unexpected log: %s", lg.last_err);
}

/* ---- fixture ------------------------------------------------------------- */

static struct sysfs *open_mock(struct mfile *files, unsigned int n)
{
	struct sysfs *s = NULL;

	m.files = files;
	m.nfiles = n;
	assert_int_equal(sysfs_open(ROOT, &mock_ops, &test_log, &s), 0);
	assert_non_null(s);
	return s;
}

static int setup(void **state)
{
	(void)state;
	memset(&m, 0, sizeof(m));
	t_log_reset(&lg);
	return 0;
}

/* Every fd the code opened was closed once, and no call used a bad fd. */
static void assert_fds_balanced(void)
{
	assert_int_equal(m.bad_calls, 0);
	assert_int_equal(m.opens, m.closes);
	for (int i = 0; i < MAX_FDS; i++)
		assert_false(m.fds[i].open);
}

#define NFILES(a) (sizeof(a) / sizeof((a)[0]))

/* ---- sysfs_open / sysfs_close -------------------------------------------- */

static void test_open_close(void **state)
{
	struct sysfs *s = NULL;

	(void)state;
	assert_int_equal(sysfs_open(ROOT, &mock_ops, &test_log, &s), 0);
	assert_int_equal(m.opens, 1);
	assert_int_equal(s->rootfd, m.rootfd);
	assert_string_equal(s->root, ROOT);
	sysfs_close(s);
	assert_fds_balanced();
	sysfs_close(NULL);
	assert_no_log();
}

static void test_open_root_fails(void **state)
{
	static const int errs[] = { EACCES, ENOENT, ENOTDIR };

	(void)state;
	for (size_t i = 0; i < NFILES(errs); i++) {
		struct sysfs *s = (struct sysfs *)&m; /* must stay untouched */

		t_log_reset(&lg);
		m.root_errno = errs[i];
		assert_int_equal(sysfs_open(ROOT, &mock_ops, &test_log, &s),
				 -errs[i]);
		assert_ptr_equal(s, (struct sysfs *)&m);
		assert_one_err(ROOT);
		assert_fds_balanced();
	}
	/* without a logger the error is only returned */
	m.root_errno = EACCES;
	t_log_reset(&lg);
	assert_int_equal(sysfs_open(ROOT, &mock_ops, NULL,
				    &(struct sysfs *){ NULL }), -EACCES);
	assert_no_log();
}

/* ---- sysfs_read ---------------------------------------------------------- */

static void test_read_whole(void **state)
{
	struct mfile files[] = {
		{ .rel = "proc/a", .data = "hello\n", .size = 6 },
		{ .rel = "proc/empty", .data = "", .size = 0 },
	};
	struct sysfs *s = open_mock(files, NFILES(files));
	char *buf = NULL;
	size_t len = 99;

	(void)state;
	assert_int_equal(sysfs_read(s, "proc/a", &buf, &len, 0), 0);
	assert_int_equal(len, 6);
	assert_memory_equal(buf, "hello\n", 7);	/* NUL-terminated */
	free(buf);

	assert_int_equal(sysfs_read(s, "proc/empty", &buf, &len, 0), 0);
	assert_int_equal(len, 0);
	assert_int_equal(buf[0], '\0');
	free(buf);
	sysfs_close(s);
	assert_fds_balanced();
	assert_no_log();
}

static void test_read_open_errors(void **state)
{
	struct mfile files[] = {
		{ .rel = "sys/denied", .data = "1\n", .size = 2,
		  .open_errno = EACCES },
	};
	struct sysfs *s = open_mock(files, NFILES(files));
	char *buf = (char *)files;	/* must stay untouched on failure */
	size_t len = 99;

	(void)state;
	assert_int_equal(sysfs_read(s, "sys/denied", &buf, &len, 0), -EACCES);
	assert_one_err(ROOT "/sys/denied");
	assert_non_null(strstr(lg.last_err, strerror(EACCES)));
	assert_ptr_equal(buf, (char *)files);
	assert_int_equal(len, 99);

	/* quiet_enoent hides only ENOENT */
	t_log_reset(&lg);
	assert_int_equal(sysfs_read(s, "sys/denied", &buf, &len, 1), -EACCES);
	assert_one_err(ROOT "/sys/denied");

	t_log_reset(&lg);
	assert_int_equal(sysfs_read(s, "sys/missing", &buf, &len, 1),
			 -ENOENT);
	assert_no_log();

	assert_int_equal(sysfs_read(s, "sys/missing", &buf, &len, 0),
			 -ENOENT);
	assert_one_err(ROOT "/sys/missing");
	assert_non_null(strstr(lg.last_err, strerror(ENOENT)));
	sysfs_close(s);
	assert_fds_balanced();
}

static void test_read_eintr(void **state)
{
	struct mfile files[] = {
		{ .rel = "a", .data = "42\n", .size = 3, .eintr_reads = 1 },
	};
	struct sysfs *s = open_mock(files, NFILES(files));
	char *buf = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(sysfs_read(s, "a", &buf, &len, 0), 0);
	assert_int_equal(files[0].eintr_reads, 0);	/* it was hit */
	assert_int_equal(len, 3);
	assert_string_equal(buf, "42\n");
	free(buf);
	sysfs_close(s);
	assert_fds_balanced();
	assert_no_log();
}

static void test_read_eio(void **state)
{
	struct mfile files[] = {
		{ .rel = "sys/broken", .data = "1\n", .size = 2,
		  .read_errno = EIO },
	};
	struct sysfs *s = open_mock(files, NFILES(files));
	char *buf = NULL;
	size_t len = 99;

	(void)state;
	assert_int_equal(sysfs_read(s, "sys/broken", &buf, &len, 0), -EIO);
	assert_null(buf);
	assert_int_equal(len, 99);
	assert_one_err(ROOT "/sys/broken");
	assert_non_null(strstr(lg.last_err, strerror(EIO)));
	sysfs_close(s);
	assert_fds_balanced();
}

static void test_read_short_pieces(void **state)
{
	static char text[10000];
	struct mfile files[] = {
		{ .rel = "one", .data = text, .size = sizeof(text),
		  .piece = 1 },
		{ .rel = "odd", .data = text, .size = sizeof(text),
		  .piece = 4095, .eintr_reads = 3 },
	};
	struct sysfs *s;
	char *buf = NULL;
	size_t len = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(text); i++)
		text[i] = (char)('a' + i % 26);
	s = open_mock(files, NFILES(files));
	for (unsigned int f = 0; f < NFILES(files); f++) {
		unsigned int reads = m.reads;

		assert_int_equal(sysfs_read(s, files[f].rel, &buf, &len, 0),
				 0);
		assert_int_equal(len, sizeof(text));
		assert_memory_equal(buf, text, sizeof(text));
		assert_int_equal(buf[len], '\0');
		free(buf);
		if (f == 0)	/* one byte per call, then the 0 of EOF */
			assert_int_equal(m.reads - reads, sizeof(text) + 1);
	}
	sysfs_close(s);
	assert_fds_balanced();
	assert_no_log();
}

/*
 * A file of exactly SYSFS_MAX_FILE bytes is read; one byte more is -EFBIG.
 * The exact-size case FAILS before the fix to sysfs_read's growth check,
 * which gives up at SYSFS_MAX_FILE - 1 bytes.
 */
static void test_read_max_file(void **state)
{
	static const size_t ok_sizes[] = {
		4095, 4096, 4097, SYSFS_MAX_FILE - 2, SYSFS_MAX_FILE - 1,
		SYSFS_MAX_FILE,
	};

	(void)state;
	for (size_t i = 0; i < NFILES(ok_sizes); i++) {
		struct mfile files[] = {
			{ .rel = "big", .size = ok_sizes[i] },
		};
		struct sysfs *s;
		char *buf = NULL;
		size_t len = 0;

		memset(&m, 0, sizeof(m));
		s = open_mock(files, NFILES(files));
		print_message("size %zu\n", ok_sizes[i]);
		assert_int_equal(sysfs_read(s, "big", &buf, &len, 0), 0);
		assert_int_equal(len, ok_sizes[i]);
		assert_int_equal(buf[0], 'x');
		assert_int_equal(buf[len - 1], 'x');
		assert_int_equal(buf[len], '\0');
		free(buf);
		sysfs_close(s);
		assert_fds_balanced();
		assert_no_log();
	}
}

static void test_read_too_big(void **state)
{
	static const size_t sizes[] = { SYSFS_MAX_FILE + 1,
					SYSFS_MAX_FILE + 4096,
					(size_t)SYSFS_MAX_FILE * 3 };

	(void)state;
	for (size_t i = 0; i < NFILES(sizes); i++) {
		struct mfile files[] = {
			{ .rel = "sys/huge", .size = sizes[i], .piece = 65536 },
		};
		struct sysfs *s;
		char *buf = NULL;
		size_t len = 99;

		memset(&m, 0, sizeof(m));
		t_log_reset(&lg);
		s = open_mock(files, NFILES(files));
		assert_int_equal(sysfs_read(s, "sys/huge", &buf, &len, 0),
				 -EFBIG);
		assert_null(buf);
		assert_int_equal(len, 99);
		assert_one_err(ROOT "/sys/huge");
		sysfs_close(s);
		assert_fds_balanced();
	}
}

/* ---- sysfs_read_u64 / sysfs_bad ------------------------------------------ */

static void test_read_u64(void **state)
{
	struct mfile files[] = {
		{ .rel = "n/ok", .data = "4096\n", .size = 5 },
		{ .rel = "n/bad", .data = "40x6\n", .size = 5 },
		{ .rel = "n/trunc", .data = "40", .size = 2 },
		{ .rel = "n/eio", .data = "1\n", .size = 2, .read_errno = EIO },
	};
	struct sysfs *s = open_mock(files, NFILES(files));
	uint64_t v = 7;

	(void)state;
	assert_int_equal(sysfs_read_u64(s, "n/ok", &v), 0);
	assert_int_equal(v, 4096);
	assert_no_log();

	assert_int_equal(sysfs_read_u64(s, "n/bad", &v), -EINVAL);
	assert_one_err(ROOT "/n/bad: ");
	t_log_reset(&lg);
	assert_int_equal(sysfs_read_u64(s, "n/trunc", &v), -EINVAL);
	assert_one_err(ROOT "/n/trunc: ");
	t_log_reset(&lg);
	assert_int_equal(sysfs_read_u64(s, "n/eio", &v), -EIO);
	assert_one_err(ROOT "/n/eio: ");
	t_log_reset(&lg);
	assert_int_equal(sysfs_read_u64(s, "n/none", &v), -ENOENT);
	assert_one_err(ROOT "/n/none: ");
	assert_int_equal(v, 4096);
	sysfs_close(s);
	assert_fds_balanced();
}

static void test_bad_names_file(void **state)
{
	static const struct {
		const char *root, *want;
	} roots[] = {
		{ ROOT, ROOT "/sys/x: what is wrong" },
		{ ROOT "/", ROOT "/sys/x: what is wrong" },
		{ "/", "/sys/x: what is wrong" },
	};

	(void)state;
	for (size_t i = 0; i < NFILES(roots); i++) {
		struct sysfs *s = NULL;

		t_log_reset(&lg);
		assert_int_equal(sysfs_open(roots[i].root, &mock_ops,
					    &test_log, &s), 0);
		assert_int_equal(sysfs_bad(s, "sys/x", -E2BIG,
					   "what is wrong"), -E2BIG);
		assert_int_equal(lg.n_err, 1);
		assert_string_equal(lg.last_err, roots[i].want);
		sysfs_close(s);
	}
	assert_fds_balanced();
}

/* ---- sysfs_list ---------------------------------------------------------- */

struct names {
	unsigned int n;
	char name[8][32];
	int stop_at;	/* return -E2BIG on this call (1-based) */
};

static int collect(void *ctx, const char *name)
{
	struct names *c = ctx;

	assert_true(c->n < 8);
	snprintf(c->name[c->n], sizeof(c->name[0]), "%s", name);
	c->n++;
	return (int)c->n == c->stop_at ? -E2BIG : 0;
}

static void test_list(void **state)
{
	struct mfile files[] = {
		{ .rel = "d", .dir = true,
		  .entries = { "hugepages-2048kB", "hugepages-1048576kB" } },
		{ .rel = "empty", .dir = true },
	};
	struct sysfs *s = open_mock(files, NFILES(files));
	struct names c = { 0 };

	(void)state;
	assert_int_equal(sysfs_list(s, "d", collect, &c), 0);
	assert_int_equal(c.n, 2);	/* without . and .. */
	assert_string_equal(c.name[0], "hugepages-2048kB");
	assert_string_equal(c.name[1], "hugepages-1048576kB");

	memset(&c, 0, sizeof(c));
	assert_int_equal(sysfs_list(s, "empty", collect, &c), 0);
	assert_int_equal(c.n, 0);

	/* the callback's error stops the walk and comes back as is */
	memset(&c, 0, sizeof(c));
	c.stop_at = 1;
	assert_int_equal(sysfs_list(s, "d", collect, &c), -E2BIG);
	assert_int_equal(c.n, 1);
	sysfs_close(s);
	assert_fds_balanced();
	assert_no_log();
}

static void test_list_errors(void **state)
{
	struct mfile files[] = {
		{ .rel = "d/denied", .dir = true, .open_errno = EACCES },
		{ .rel = "d/file", .data = "1\n", .size = 2 },
		{ .rel = "d/nomem", .dir = true, .fdopendir_errno = ENOMEM },
		{ .rel = "d/eio", .dir = true, .entries = { "a" },
		  .readdir_errno = EIO },
	};
	struct sysfs *s = open_mock(files, NFILES(files));
	struct names c = { 0 };

	(void)state;
	assert_int_equal(sysfs_list(s, "d/denied", collect, &c), -EACCES);
	assert_one_err(ROOT "/d/denied");

	t_log_reset(&lg);
	assert_int_equal(sysfs_list(s, "d/missing", collect, &c), -ENOENT);
	assert_one_err(ROOT "/d/missing");

	t_log_reset(&lg);
	assert_int_equal(sysfs_list(s, "d/file", collect, &c), -ENOTDIR);
	assert_one_err(ROOT "/d/file");

	/* fdopendir failing leaves the fd to the caller: it must be closed */
	t_log_reset(&lg);
	assert_int_equal(sysfs_list(s, "d/nomem", collect, &c), -ENOMEM);
	assert_one_err(ROOT "/d/nomem");
	assert_int_equal(m.opens - 1, m.closes);	/* all but the root */

	/* readdir failing after an entry: the entry was seen, then -EIO */
	t_log_reset(&lg);
	assert_int_equal(sysfs_list(s, "d/eio", collect, &c), -EIO);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.name[0], "a");
	assert_one_err(ROOT "/d/eio");
	assert_non_null(strstr(lg.last_err, strerror(EIO)));
	sysfs_close(s);
	assert_fds_balanced();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_open_close, setup),
		cmocka_unit_test_setup(test_open_root_fails, setup),
		cmocka_unit_test_setup(test_read_whole, setup),
		cmocka_unit_test_setup(test_read_open_errors, setup),
		cmocka_unit_test_setup(test_read_eintr, setup),
		cmocka_unit_test_setup(test_read_eio, setup),
		cmocka_unit_test_setup(test_read_short_pieces, setup),
		cmocka_unit_test_setup(test_read_max_file, setup),
		cmocka_unit_test_setup(test_read_too_big, setup),
		cmocka_unit_test_setup(test_read_u64, setup),
		cmocka_unit_test_setup(test_bad_names_file, setup),
		cmocka_unit_test_setup(test_list, setup),
		cmocka_unit_test_setup(test_list_errors, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
