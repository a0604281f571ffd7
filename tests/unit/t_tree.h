// SPDX-License-Identifier: LGPL-2.1-or-later
/* t_tree.h: finds the recorded sysfs trees and damages private copies. */
#ifndef T_TREE_H
#define T_TREE_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rampool.h"
#include "../t_compat.h"

/*
 * The fixtures directory, absolute: $RAMPOOL_FIXTURES, else
 * $SRC/tests/fixtures/sysfs, else $SRC/../shared/fixtures/sysfs (SRC is
 * the source tree, "." when unset). NULL when none exists.
 */
static inline const char *t_fixtures(void)
{
	static char dir[PATH_MAX];
	const char *env = getenv("RAMPOOL_FIXTURES");
	const char *src = getenv("SRC");
	char cand[PATH_MAX];

	if (dir[0])
		return dir;
	if (!src || !*src)
		src = ".";
	if (env && *env) {
		snprintf(cand, sizeof(cand), "%s", env);
		if (realpath(cand, dir))
			return dir;
		dir[0] = '\0';
		return NULL;
	}
	snprintf(cand, sizeof(cand), "%s/tests/fixtures/sysfs", src);
	if (realpath(cand, dir))
		return dir;
	snprintf(cand, sizeof(cand), "%s/../shared/fixtures/sysfs", src);
	if (realpath(cand, dir))
		return dir;
	dir[0] = '\0';
	return NULL;
}

/* The path of one recorded tree, in a static buffer; NULL when missing. */
static inline const char *t_fixture(const char *tree)
{
	static char path[PATH_MAX];
	const char *dir = t_fixtures();

	if (!dir)
		return NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, tree);
	return path;
}

/* Copies src to dst (which may exist); files 0644, dirs 0755. */
static inline int t_copy_tree(const char *src, const char *dst)
{
	struct dirent *de;
	int ret = 0;
	DIR *d;

	if (mkdir(dst, 0755) && errno != EEXIST)
		return -errno;
	d = opendir(src);
	if (!d)
		return -errno;
	while (!ret && (de = readdir(d))) {
		char s[PATH_MAX], t[PATH_MAX];
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(s, sizeof(s), "%s/%s", src, de->d_name) >=
			    (int)sizeof(s) ||
		    snprintf(t, sizeof(t), "%s/%s", dst, de->d_name) >=
			    (int)sizeof(t)) {
			ret = -ENAMETOOLONG;
		} else if (lstat(s, &st)) {
			ret = -errno;
		} else if (S_ISDIR(st.st_mode)) {
			ret = t_copy_tree(s, t);
		} else if (S_ISREG(st.st_mode)) {
			char buf[8192];
			ssize_t n;
			int in, out;

			in = open(s, O_RDONLY | O_CLOEXEC);
			if (in < 0)
				ret = -errno;
			out = ret ? -1 : open(t, O_WRONLY | O_CREAT | O_EXCL |
							  O_CLOEXEC, 0644);
			if (!ret && out < 0)
				ret = -errno;
			while (!ret && (n = read(in, buf, sizeof(buf))) != 0) {
				if (n < 0 || write(out, buf, (size_t)n) != n)
					ret = -EIO;
			}
			if (in >= 0)
				close(in);
			if (out >= 0)
				close(out);
		}
	}
	closedir(d);
	return ret;
}

static inline int t_rm_one(const char *path, const struct stat *st, int flag,
			   struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) ? -1 : 0;
}

/* Removes path and everything under it; 0 when it is gone. */
static inline int t_rm_tree(const char *path)
{
	struct stat st;

	if (lstat(path, &st) && errno == ENOENT)
		return 0;
	return nftw(path, t_rm_one, 16, FTW_DEPTH | FTW_PHYS) ? -1 : 0;
}

/*
 * A private copy of a recorded tree in a fresh temporary directory: under
 * $TMPDIR if set, else /dev/shm (a tmpfs: copying a tree for each of
 * dozens of tests costs ~2 ms there and up to 50 ms on a disk), else /tmp.
 */
static inline char *t_tree_copy(const char *tree)
{
	const char *src = t_fixture(tree);
	const char *base = getenv("TMPDIR");
	char tmpl[PATH_MAX];
	char *dir;

	if (!base || !*base)
		base = access("/dev/shm", W_OK | X_OK) ? "/tmp" : "/dev/shm";
	snprintf(tmpl, sizeof(tmpl), "%s/rampool-unit.XXXXXX", base);
	if (!src || !mkdtemp(tmpl))
		return NULL;
	dir = strdup(tmpl);
	if (!dir || t_copy_tree(src, dir)) {
		if (dir)
			t_rm_tree(dir);
		free(dir);
		return NULL;
	}
	return dir;
}

/* Replaces root/rel with len bytes of data. */
static inline int t_write(const char *root, const char *rel, const char *data,
			  size_t len)
{
	char path[PATH_MAX];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, data, len) != (ssize_t)len)
		ret = -EIO;
	close(fd);
	return ret;
}

static inline int t_write_str(const char *root, const char *rel,
			      const char *text)
{
	return t_write(root, rel, text, strlen(text));
}

/* Removes root/rel, a file or a whole directory. */
static inline int t_remove(const char *root, const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	if (lstat(path, &st))
		return -errno;
	return t_rm_tree(path);
}

/* Reads root/rel whole into a malloc'd NUL-terminated buffer. */
static inline char *t_read(const char *root, const char *rel, size_t *len)
{
	char path[PATH_MAX], *buf = NULL;
	size_t cap = 0, n = 0;
	ssize_t r;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	for (;;) {
		if (n + 1 >= cap) {
			char *nb = realloc(buf, cap = cap ? cap * 2 : 4096);

			if (!nb) {
				free(buf);
				close(fd);
				return NULL;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (r < 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

#endif
