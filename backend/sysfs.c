// SPDX-License-Identifier: LGPL-2.1-or-later
/* sysfs.c: whole-file reads relative to a root fd, with swappable syscalls. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parse.h"
#include "sysfs.h"

static int real_openat(int dirfd, const char *path, int flags)
{
	return openat(dirfd, path, flags);
}

const struct sysfs_ops sysfs_default_ops = {
	.openat = real_openat,
	.read = read,
	.close = close,
	.fdopendir = fdopendir,
	.readdir = readdir,
	.closedir = closedir,
	.write = write,
};

int sysfs_open(const char *root, const struct sysfs_ops *ops,
	       const struct rp_log *log, struct sysfs **out)
{
	struct sysfs *s;
	int ret;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ops = ops ? ops : &sysfs_default_ops;
	s->log = log;
	s->root = strdup(root);
	if (!s->root) {
		ret = -ENOMEM;
		goto out_free;
	}
	s->rootfd = s->ops->openat(AT_FDCWD, root,
				   O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->rootfd < 0) {
		ret = -errno;
		rp_err(log, "%s: cannot open as the system root: %s", root,
		       strerror(errno));
		goto out_free;
	}
	*out = s;
	return 0;
out_free:
	free(s->root);
	free(s);
	return ret;
}

void sysfs_close(struct sysfs *s)
{
	if (!s)
		return;
	s->ops->close(s->rootfd);
	free(s->root);
	free(s);
}

static const char *sep(const struct sysfs *s)
{
	size_t n = strlen(s->root);

	return n && s->root[n - 1] == '/' ? "" : "/";
}

int sysfs_bad(struct sysfs *s, const char *rel, int err, const char *why)
{
	rp_err(s->log, "%s%s%s: %s", s->root, sep(s), rel, why);
	return err;
}

int sysfs_read(struct sysfs *s, const char *rel, char **bufp, size_t *lenp,
	       int quiet_enoent)
{
	/* SYSFS_MAX_FILE bytes, one more to tell EOF from a longer file, NUL */
	const size_t max_cap = (size_t)SYSFS_MAX_FILE + 2;
	size_t cap = 0, len = 0;
	char *buf = NULL;
	int fd, ret;

	fd = s->ops->openat(s->rootfd, rel, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		ret = -errno;
		if (ret == -ENOENT && quiet_enoent)
			return ret;
		return sysfs_bad(s, rel, ret, strerror(-ret));
	}
	for (;;) {
		ssize_t n;

		if (len + 1 >= cap) {
			char *nb;

			if (len > SYSFS_MAX_FILE) {
				ret = sysfs_bad(s, rel, -EFBIG,
						"file is larger than 4 MiB");
				goto out;
			}
			cap = cap ? cap * 2 : 4096;
			if (cap > max_cap)
				cap = max_cap;
			nb = realloc(buf, cap);
			if (!nb) {
				ret = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		n = s->ops->read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = sysfs_bad(s, rel, -errno, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	buf = NULL;
	ret = 0;
out:
	free(buf);
	s->ops->close(fd);
	return ret;
}

int sysfs_read_u64(struct sysfs *s, const char *rel, uint64_t *out)
{
	const char *why = NULL;
	size_t len;
	char *buf;
	int ret;

	ret = sysfs_read(s, rel, &buf, &len, 0);
	if (ret)
		return ret;
	ret = parse_u64_line(buf, len, out, &why);
	free(buf);
	if (ret)
		return sysfs_bad(s, rel, ret, why);
	return 0;
}

int sysfs_write_u64(struct sysfs *s, const char *rel, uint64_t v)
{
	ssize_t (*wr)(int, const void *, size_t) =
		s->ops->write ? s->ops->write : write;
	char buf[32];
	int fd, len, ret = 0;
	ssize_t n;

	len = snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)v);
	/* no O_CREAT: a kernel file is there or it is not; O_TRUNC as a
	 * shell's redirection (sysfs ignores it, a recorded tree needs it) */
	fd = s->ops->openat(s->rootfd, rel,
			    O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return sysfs_bad(s, rel, -errno, strerror(errno));
	do
		n = wr(fd, buf, (size_t)len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		ret = sysfs_bad(s, rel, -errno, strerror(errno));
	else if (n != len)
		ret = sysfs_bad(s, rel, -EIO, "short write");
	s->ops->close(fd);
	return ret;
}

int sysfs_list(struct sysfs *s, const char *rel,
	       int (*fn)(void *ctx, const char *name), void *ctx)
{
	struct dirent *de;
	DIR *dir;
	int fd, ret = 0;

	fd = s->ops->openat(s->rootfd, rel,
			    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sysfs_bad(s, rel, -errno, strerror(errno));
	dir = s->ops->fdopendir(fd);
	if (!dir) {
		ret = sysfs_bad(s, rel, -errno, strerror(errno));
		s->ops->close(fd);
		return ret;
	}
	for (;;) {
		errno = 0;
		de = s->ops->readdir(dir);
		if (!de) {
			if (errno)
				ret = sysfs_bad(s, rel, -errno,
						strerror(errno));
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		ret = fn(ctx, de->d_name);
		if (ret)
			break;
	}
	s->ops->closedir(dir);
	return ret;
}
