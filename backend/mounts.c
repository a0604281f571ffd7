// SPDX-License-Identifier: LGPL-2.1-or-later
/* mounts.c: the one place that includes libhugetlbfs. */
#include <stddef.h>	/* hugetlbfs.h uses size_t without including it */
#include <hugetlbfs.h>
#include <errno.h>
#include <stdio.h>
#include <sys/vfs.h>

#include "mounts.h"
#include "topology.h"

void hugetlbfs_check_mounts(struct topo *t, const struct rp_log *log)
{
	for (unsigned int i = 0; i < t->nr_mounts; i++) {
		struct topo_mount *m = &t->mounts[i];
		struct statfs sf;

		/* gone or shadowed since /proc/mounts was read */
		if (hugetlbfs_test_path(m->path) != 1 || statfs(m->path, &sf))
			continue;
		if ((uint64_t)sf.f_bsize == m->page_size)
			continue;
		rp_warn(log, "%s: /proc/mounts says page size %llu, statfs %llu",
			m->path, (unsigned long long)m->page_size,
			(unsigned long long)sf.f_bsize);
		m->page_size = (uint64_t)sf.f_bsize;
	}
}

int hugetlbfs_find_mount(const struct topo *t, uint64_t page_size, char *buf,
			 size_t len)
{
	const char *path = hugetlbfs_find_path_for_size((long)page_size);

	for (unsigned int i = 0; !path && i < t->nr_mounts; i++)
		if (t->mounts[i].page_size == page_size)
			path = t->mounts[i].path;
	if (!path)
		return -ENOENT;
	if ((size_t)snprintf(buf, len, "%s", path) >= len)
		return -ENAMETOOLONG;
	return 0;
}
