/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sysfs.h: reads kernel files under a root directory that tests can move. */
#ifndef RP_SYSFS_H
#define RP_SYSFS_H

#include <dirent.h>
#include <stdint.h>
#include <sys/types.h>

#include "log.h"

/* The syscalls sysfs makes; unit tests swap them to drive error paths. */
struct sysfs_ops {
	int (*openat)(int dirfd, const char *path, int flags);
	ssize_t (*read)(int fd, void *buf, size_t count);
	int (*close)(int fd);
	DIR *(*fdopendir)(int fd);
	struct dirent *(*readdir)(DIR *dir);
	int (*closedir)(DIR *dir);
	/* NULL: write(2) (tables made before writes existed) */
	ssize_t (*write)(int fd, const void *buf, size_t count);
};

extern const struct sysfs_ops sysfs_default_ops;

struct sysfs {
	int rootfd;
	char *root;		/* as given, for messages */
	const struct sysfs_ops *ops;
	const struct rp_log *log;
};

/* Largest file read; /proc/mounts on a busy host stays far below. */
#define SYSFS_MAX_FILE (4u << 20)

/*
 * Opens root ("/" for the running kernel). ops NULL: the real syscalls.
 * -ENOENT, -ENOTDIR, -EACCES from open; -ENOMEM.
 */
int sysfs_open(const char *root, const struct sysfs_ops *ops,
	       const struct rp_log *log, struct sysfs **out);
void sysfs_close(struct sysfs *s);

/*
 * Reads rel (relative to the root) whole into a malloc'd, NUL-terminated
 * buffer. Errors are negative errnos; -EFBIG past SYSFS_MAX_FILE. A missing
 * file is logged only if !quiet_enoent.
 */
int sysfs_read(struct sysfs *s, const char *rel, char **buf, size_t *len,
	       int quiet_enoent);

/* Reads a file holding one number; errors are logged naming the file. */
int sysfs_read_u64(struct sysfs *s, const char *rel, uint64_t *out);

/*
 * Writes v and a newline to rel (an existing file under the root), as
 * `echo v > file` does. -errno of open or write (the kernel's answer to
 * the value: sysfs files refuse with EINVAL, ENOMEM...), logged naming
 * the file; a short write is -EIO.
 */
int sysfs_write_u64(struct sysfs *s, const char *rel, uint64_t v);

/* Logs "<root>/<rel>: <why>" at ERR and returns err. */
int sysfs_bad(struct sysfs *s, const char *rel, int err, const char *why);

/* Calls fn for each entry of directory rel (not . and ..). */
int sysfs_list(struct sysfs *s, const char *rel,
	       int (*fn)(void *ctx, const char *name), void *ctx);

#endif
