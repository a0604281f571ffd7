// SPDX-License-Identifier: LGPL-2.1-or-later
/* topology.c: one snapshot of nodes, hugepage pools and hugetlbfs mounts. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bitmap.h"
#include "mounts.h"
#include "parse.h"
#include "topology.h"

#define NODE_DIR "sys/devices/system/node"
#define HP_DIR "sys/kernel/mm/hugepages"

/* A path into buf, or -ENAMETOOLONG: never a path cut short. */
__attribute__((format(printf, 3, 4)))
static int pathf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static bool exists(struct sysfs *s, const char *rel)
{
	int fd = s->ops->openat(s->rootfd, rel, O_PATH | O_CLOEXEC);

	if (fd < 0)
		return false;
	s->ops->close(fd);
	return true;
}

/* Reads a whole file and runs one parser on it, logging the file on error. */
static int read_list(struct sysfs *s, const char *rel, uint64_t *bits,
		     unsigned int nbits, unsigned int *count)
{
	const char *why = NULL;
	size_t len;
	char *buf;
	int ret;

	ret = sysfs_read(s, rel, &buf, &len, 0);
	if (ret)
		return ret;
	ret = parse_list(buf, len, bits, nbits, count, &why);
	free(buf);
	return ret ? sysfs_bad(s, rel, ret, why) : 0;
}

/* A CPU list, kept as text (without its newline) and counted. */
static int read_cpulist(struct sysfs *s, const char *rel, char **text,
			unsigned int *count)
{
	uint64_t cpus[BITMAP_WORDS(TOPO_MAX_CPUS)];
	const char *why = NULL;
	size_t len;
	char *buf;
	int ret;

	ret = sysfs_read(s, rel, &buf, &len, 0);
	if (ret)
		return ret;
	ret = parse_list(buf, len, cpus, TOPO_MAX_CPUS, count, &why);
	if (ret) {
		free(buf);
		return sysfs_bad(s, rel, ret, why);
	}
	buf[len - 1] = '\0';
	*text = buf;
	return 0;
}

static int read_meminfo(struct sysfs *s, const char *rel, const char *prefix,
			const char *const *keys, unsigned int nkeys,
			uint64_t *vals, const bool *optional)
{
	const char *why = NULL;
	size_t len;
	char *buf;
	int ret;

	ret = sysfs_read(s, rel, &buf, &len, 0);
	if (ret)
		return ret;
	ret = parse_meminfo(buf, len, prefix, keys, nkeys, vals, optional,
			    NULL, &why);
	free(buf);
	return ret ? sysfs_bad(s, rel, ret, why) : 0;
}

static int add_size(void *ctx, const char *name)
{
	struct topo *t = ctx;
	uint64_t ps;
	unsigned int i;

	if (parse_hugepages_dirname(name, &ps, NULL))
		return 0;	/* not a pool directory */
	if (t->nr_sizes == TOPO_MAX_SIZES)
		return -E2BIG;
	for (i = t->nr_sizes; i > 0 && t->sizes[i - 1] > ps; i--)
		t->sizes[i] = t->sizes[i - 1];
	t->sizes[i] = ps;
	t->nr_sizes++;
	return 0;
}

static int read_hcount(struct sysfs *s, const char *dir, bool global,
		       struct topo_hcount *c)
{
	char path[256];
	int ret;

#define RD(file, field)							\
	do {								\
		ret = pathf(path, sizeof(path), "%s/" file, dir);	\
		if (!ret)						\
			ret = sysfs_read_u64(s, path, &c->field);	\
		if (ret)						\
			return ret;					\
	} while (0)
	RD("nr_hugepages", total);
	RD("free_hugepages", free);
	RD("surplus_hugepages", surplus);
	if (global) {
		RD("resv_hugepages", resv);
		RD("nr_overcommit_hugepages", overcommit);
	} else {
		c->resv = UINT64_MAX;
		c->overcommit = UINT64_MAX;
	}
#undef RD
	if (c->free > c->total || c->surplus > c->total) {
		bool free_bad = c->free > c->total;

		/* the pool changed between two reads: the caller reads again */
		if (!strcmp(s->root, "/"))
			return -EAGAIN;
		ret = pathf(path, sizeof(path), "%s/%s", dir,
			    free_bad ? "free_hugepages" : "surplus_hugepages");
		if (ret)
			return ret;
		return sysfs_bad(s, path, -EINVAL,
				 free_bad ? "free_hugepages exceeds nr_hugepages"
					  : "surplus_hugepages exceeds nr_hugepages");
	}
	return 0;
}

static int read_host(struct sysfs *s, struct topo *t)
{
	static const char *const keys[] = {
		"MemTotal", "MemFree", "MemAvailable", "Shmem", "Hugepagesize",
	};
	static const bool opt[] = { false, false, false, false, true };
	uint64_t v[5];
	int ret;

	ret = read_meminfo(s, "proc/meminfo", "", keys, 5, v, opt);
	if (ret)
		return ret;
	t->mem_total = v[0];
	t->mem_free = v[1];
	t->mem_available = v[2];
	t->shmem = v[3];
	t->default_page_size = v[4];
	return 0;
}

static int read_sizes(struct sysfs *s, struct topo *t)
{
	char dir[128];
	int ret;

	if (!exists(s, HP_DIR))
		return 0;	/* a kernel without hugetlb */
	ret = sysfs_list(s, HP_DIR, add_size, t);
	if (ret == -E2BIG)
		return sysfs_bad(s, HP_DIR, -EINVAL, "too many page sizes");
	if (ret)
		return ret;
	for (unsigned int i = 0; i < t->nr_sizes; i++) {
		ret = pathf(dir, sizeof(dir), HP_DIR "/hugepages-%llukB",
			    (unsigned long long)(t->sizes[i] >> 10));
		if (!ret)
			ret = read_hcount(s, dir, true, &t->global[i]);
		if (ret)
			return ret;
	}
	return 0;
}

static int read_node(struct sysfs *s, struct topo *t, struct topo_node *n)
{
	static const char *const keys[] = {
		"MemTotal", "MemFree", "Shmem", "Active(file)",
		"Inactive(file)", "SReclaimable",
	};
	char path[256], prefix[32];
	uint64_t v[6];
	int ret;

	ret = pathf(path, sizeof(path), NODE_DIR "/node%d/cpulist", n->id);
	if (!ret)
		ret = read_cpulist(s, path, &n->cpulist, &n->nr_cpus);
	if (ret)
		return ret;

	ret = pathf(path, sizeof(path), NODE_DIR "/node%d/meminfo", n->id);
	if (!ret)
		ret = pathf(prefix, sizeof(prefix), "Node %d ", n->id);
	if (!ret)
		ret = read_meminfo(s, path, prefix, keys, 6, v, NULL);
	if (ret)
		return ret;
	n->mem_total = v[0];
	n->mem_free = v[1];
	n->shmem = v[2];
	n->mem_available = v[1] + (v[3] + v[4]) / 2 + v[5] / 2;
	if (n->mem_available > n->mem_total)
		n->mem_available = n->mem_total;

	n->hp = calloc(t->nr_sizes ? t->nr_sizes : 1, sizeof(*n->hp));
	if (!n->hp)
		return -ENOMEM;
	for (unsigned int i = 0; i < t->nr_sizes; i++) {
		ret = pathf(path, sizeof(path),
			    NODE_DIR "/node%d/hugepages/hugepages-%llukB", n->id,
			    (unsigned long long)(t->sizes[i] >> 10));
		if (!ret)
			ret = read_hcount(s, path, false, &n->hp[i]);
		if (ret)
			return ret;
	}
	return 0;
}

static int read_nodes(struct sysfs *s, struct topo *t)
{
	uint64_t online[BITMAP_WORDS(TOPO_MAX_NODES)], mem[BITMAP_WORDS(TOPO_MAX_NODES)],
		cpu[BITMAP_WORDS(TOPO_MAX_NODES)], normal[BITMAP_WORDS(TOPO_MAX_NODES)];
	unsigned int count, k = 0;
	int ret;

	ret = read_list(s, NODE_DIR "/online", online, TOPO_MAX_NODES, &count);
	if (!ret)
		ret = read_list(s, NODE_DIR "/has_memory", mem, TOPO_MAX_NODES,
				NULL);
	if (!ret)
		ret = read_list(s, NODE_DIR "/has_cpu", cpu, TOPO_MAX_NODES,
				NULL);
	if (!ret)
		ret = read_list(s, NODE_DIR "/has_normal_memory", normal,
				TOPO_MAX_NODES, NULL);
	if (ret)
		return ret;
	if (count == 0)
		return sysfs_bad(s, NODE_DIR "/online", -EINVAL,
				 "no node is online");
	t->nodes = calloc(count, sizeof(*t->nodes));
	if (!t->nodes)
		return -ENOMEM;
	for (unsigned int id = 0; id < TOPO_MAX_NODES; id++) {
		struct topo_node *n;

		if (!bitmap_test(online, id))
			continue;
		n = &t->nodes[k++];
		t->nr_nodes = k;
		n->id = (int)id;
		n->flags = RAMPOOL_NODE_F_ONLINE |
			   (bitmap_test(mem, id) ? RAMPOOL_NODE_F_HAS_MEMORY : 0) |
			   (bitmap_test(cpu, id) ? RAMPOOL_NODE_F_HAS_CPU : 0) |
			   (bitmap_test(normal, id) ?
				    RAMPOOL_NODE_F_HAS_NORMAL_MEMORY : 0);
		ret = read_node(s, t, n);
		if (ret)
			return ret;
	}
	return 0;
}

/* A kernel built without NUMA: one node 0 that is the whole host. */
static int fake_node(struct sysfs *s, struct topo *t)
{
	struct topo_node *n;
	int ret;

	t->nodes = calloc(1, sizeof(*t->nodes));
	if (!t->nodes)
		return -ENOMEM;
	n = &t->nodes[0];
	t->nr_nodes = 1;
	n->flags = RAMPOOL_NODE_F_ONLINE | RAMPOOL_NODE_F_HAS_MEMORY |
		   RAMPOOL_NODE_F_HAS_CPU | RAMPOOL_NODE_F_HAS_NORMAL_MEMORY;
	n->mem_total = t->mem_total;
	n->mem_free = t->mem_free;
	n->mem_available = t->mem_available;
	n->shmem = t->shmem;
	ret = read_cpulist(s, "sys/devices/system/cpu/online", &n->cpulist,
			   &n->nr_cpus);
	if (ret)
		return ret;
	n->hp = calloc(t->nr_sizes ? t->nr_sizes : 1, sizeof(*n->hp));
	if (!n->hp)
		return -ENOMEM;
	for (unsigned int i = 0; i < t->nr_sizes; i++) {
		n->hp[i] = t->global[i];
		n->hp[i].resv = UINT64_MAX;
		n->hp[i].overcommit = UINT64_MAX;
	}
	return 0;
}

static int add_mount(void *ctx, const struct mount_entry *m)
{
	struct topo *t = ctx;
	struct topo_mount *nm;

	nm = realloc(t->mounts, (t->nr_mounts + 1) * sizeof(*nm));
	if (!nm)
		return -ENOMEM;
	t->mounts = nm;
	nm = &t->mounts[t->nr_mounts];
	nm->path = strdup(m->path);
	if (!nm->path)
		return -ENOMEM;
	/* hugetlbfs always shows pagesize=; without it, the default size */
	nm->page_size = m->page_size ? m->page_size : t->default_page_size;
	t->nr_mounts++;
	return 0;
}

static int read_mounts(struct sysfs *s, struct topo *t)
{
	const char *why = NULL;
	size_t len;
	char *buf;
	int ret;

	ret = sysfs_read(s, "proc/mounts", &buf, &len, 1);
	if (ret == -ENOENT)
		return 0;	/* recorded trees of hosts may lack it */
	if (ret)
		return ret;
	ret = parse_mounts(buf, len, add_mount, t, &why);
	free(buf);
	if (ret == -EINVAL)
		return sysfs_bad(s, "proc/mounts", ret, why);
	if (!ret && !strcmp(s->root, "/"))
		hugetlbfs_check_mounts(t, s->log);
	return ret;
}

int topo_read(struct sysfs *s, struct topo **out)
{
	return topo_read_flags(s, 0, out);
}

int topo_read_flags(struct sysfs *s, unsigned int flags, struct topo **out)
{
	struct topo *t;
	int ret;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	ret = read_host(s, t);
	if (!ret)
		ret = read_sizes(s, t);
	if (!ret) {
		t->numa = exists(s, NODE_DIR);
		ret = t->numa ? read_nodes(s, t) : fake_node(s, t);
	}
	if (!ret && !(flags & TOPO_NO_MOUNTS))
		ret = read_mounts(s, t);
	if (ret) {
		topo_free(t);
		return ret;
	}
	*out = t;
	return 0;
}

int topo_snapshot(const char *root, const struct rp_log *log,
		  struct topo **out)
{
	return topo_snapshot_flags(root, log, 0, out);
}

int topo_snapshot_flags(const char *root, const struct rp_log *log,
			unsigned int flags, struct topo **out)
{
	struct sysfs *s;
	int ret;

	ret = sysfs_open(root, NULL, log, &s);
	if (ret)
		return ret;
	/* files are read one by one; a pool resized meanwhile is read again */
	for (int tries = 0; tries < 5; tries++) {
		ret = topo_read_flags(s, flags, out);
		if (ret != -EAGAIN)
			break;
	}
	if (ret == -EAGAIN)
		rp_err(log, "%s: hugepage counters kept changing while being "
		       "read", root);
	sysfs_close(s);
	return ret;
}

void topo_free(struct topo *t)
{
	if (!t)
		return;
	for (unsigned int i = 0; i < t->nr_nodes; i++) {
		free(t->nodes[i].cpulist);
		free(t->nodes[i].hp);
	}
	free(t->nodes);
	for (unsigned int i = 0; i < t->nr_mounts; i++)
		free(t->mounts[i].path);
	free(t->mounts);
	free(t);
}

int topo_size_index(const struct topo *t, uint64_t page_size)
{
	for (unsigned int i = 0; i < t->nr_sizes; i++)
		if (t->sizes[i] == page_size)
			return (int)i;
	return -1;
}

const struct topo_node *topo_node_by_id(const struct topo *t, int id)
{
	for (unsigned int i = 0; i < t->nr_nodes; i++)
		if (t->nodes[i].id == id)
			return &t->nodes[i];
	return NULL;
}

int topo_node_cpus(const struct topo_node *n, uint64_t *bits,
		   unsigned int nbits)
{
	size_t len = strlen(n->cpulist);
	char *line = malloc(len + 2);
	int ret;

	if (!line)
		return -ENOMEM;
	memcpy(line, n->cpulist, len);
	line[len] = '\n';
	ret = parse_list(line, len + 1, bits, nbits, NULL, NULL);
	free(line);
	return ret;
}
