// SPDX-License-Identifier: LGPL-2.1-or-later
/* status_live.c: poolctl status -J against /proc/meminfo and sysfs, pool at a known count. */
#include <errno.h>
#include <linux/memfd.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <json-c/json.h>

#include "rampool.h"
#include "t_util.h"

#define MB2 (2ULL << 20)
#define EXTRA 10	/* pages this test adds to the 2M pool */
#define MAPPED 3	/* pages it maps (and so reserves) */
#define TOUCHED 2	/* of which it populates */

static json_object *get(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		T_FAIL("JSON has no \"%s\" in %s", key,
		       json_object_to_json_string(o));
	return v;
}

static uint64_t get_u64(json_object *o, const char *key)
{
	return json_object_get_uint64(get(o, key));
}

static uint64_t node_u64(int node, uint64_t ps, const char *file)
{
	char path[160];

	snprintf(path, sizeof(path),
		 "/sys/devices/system/node/node%d/hugepages/hugepages-%lukB/%s",
		 node, (unsigned long)(ps >> 10), file);
	return t_read_u64(path);
}

static uint64_t global_u64(uint64_t ps, const char *file)
{
	char path[160];

	snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/hugepages-%lukB/%s",
		 (unsigned long)(ps >> 10), file);
	return t_read_u64(path);
}

/* "Node 0 MemTotal:  123 kB" read with stdio, independently of the library */
static uint64_t node_meminfo(int node, const char *key)
{
	char path[96], line[256], want[64];
	size_t wl;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo",
		 node);
	wl = (size_t)snprintf(want, sizeof(want), "Node %d %s:", node, key);
	f = fopen(path, "r");
	if (!f)
		T_FAIL("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, want, wl)) {
			fclose(f);
			return strtoull(line + wl, NULL, 10) * 1024;
		}
	fclose(f);
	T_FAIL("%s lacks %s", path, key);
}

int main(void)
{
	uint64_t total, free_before, resv_before, sum_total = 0, sum_free = 0;
	json_object *doc, *nodes, *gpools, *g2m = NULL;
	char *argv[4], *out = NULL;
	unsigned char *p;
	int fd, rc;

	t_require_hugetlb(MB2);
	/*
	 * A known pool: EXTRA unreserved free pages. Reserved pages count as
	 * free, and the kernel never shrinks the pool below them.
	 */
	t_hugepages_set(MB2, global_u64(MB2, "nr_hugepages") -
				     (global_u64(MB2, "free_hugepages") -
				      global_u64(MB2, "resv_hugepages")) +
				     EXTRA);
	total = global_u64(MB2, "nr_hugepages");
	free_before = global_u64(MB2, "free_hugepages");
	resv_before = global_u64(MB2, "resv_hugepages");
	T_EQ(free_before, resv_before + EXTRA);

	/* hold some: MAPPED reserved at mmap, TOUCHED of them populated */
	fd = memfd_create("status_live", MFD_HUGETLB | MFD_HUGE_2MB);
	if (fd < 0)
		T_FAIL("memfd_create: %s", strerror(errno));
	if (ftruncate(fd, MAPPED * MB2))
		T_FAIL("ftruncate: %s", strerror(errno));
	p = mmap(NULL, MAPPED * MB2, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		T_FAIL("mmap: %s", strerror(errno));
	for (int i = 0; i < TOUCHED; i++)
		p[i * MB2] = 1;

	argv[0] = (char *)t_build_path("poolctl");
	argv[1] = "status";
	argv[2] = "-J";
	argv[3] = NULL;
	rc = t_run(argv, &out, NULL);
	T_EQ(rc, 0);
	doc = json_tokener_parse(out);
	T_ASSERT(doc);

	/* host-wide: /proc/meminfo counts the default size, which is 2M */
	T_EQ(t_meminfo("Hugepagesize"), 2048);
	gpools = get(get(doc, "global"), "pools");
	for (size_t i = 0; i < json_object_array_length(gpools); i++) {
		json_object *gp = json_object_array_get_idx(gpools, i);
		uint64_t ps = get_u64(gp, "page_size");

		if (ps == MB2)
			g2m = gp;
		T_EQ(get_u64(gp, "total_pages"), global_u64(ps, "nr_hugepages"));
		T_EQ(get_u64(gp, "free_pages"), global_u64(ps, "free_hugepages"));
		T_EQ(get_u64(gp, "resv_pages"), global_u64(ps, "resv_hugepages"));
		T_EQ(get_u64(gp, "surplus_pages"),
		     global_u64(ps, "surplus_hugepages"));
		T_EQ(get_u64(gp, "overcommit_pages"),
		     global_u64(ps, "nr_overcommit_hugepages"));
	}
	T_ASSERT(g2m);
	T_EQ(get_u64(g2m, "total_pages"), total);
	T_EQ(get_u64(g2m, "total_pages"), t_meminfo("HugePages_Total"));
	T_EQ(get_u64(g2m, "free_pages"), free_before - TOUCHED);
	T_EQ(get_u64(g2m, "free_pages"), t_meminfo("HugePages_Free"));
	T_EQ(get_u64(g2m, "resv_pages"),
	     resv_before + (MAPPED - TOUCHED));
	T_EQ(get_u64(g2m, "resv_pages"), t_meminfo("HugePages_Rsvd"));
	T_EQ(get_u64(g2m, "surplus_pages"), t_meminfo("HugePages_Surp"));
	T_EQ(get_u64(get(doc, "global"), "mem_total"),
	     t_meminfo("MemTotal") * 1024);

	nodes = get(doc, "nodes");
	T_ASSERT(json_object_array_length(nodes) > 0);
	for (size_t i = 0; i < json_object_array_length(nodes); i++) {
		json_object *n = json_object_array_get_idx(nodes, i);
		int id = json_object_get_int(get(n, "node"));
		json_object *pools = get(n, "pools");

		T_EQ(get_u64(n, "mem_total"), node_meminfo(id, "MemTotal"));
		for (size_t k = 0; k < json_object_array_length(pools); k++) {
			json_object *np = json_object_array_get_idx(pools, k);
			uint64_t ps = get_u64(np, "page_size");

			T_EQ(get_u64(np, "total_pages"),
			     node_u64(id, ps, "nr_hugepages"));
			T_EQ(get_u64(np, "free_pages"),
			     node_u64(id, ps, "free_hugepages"));
			T_EQ(get_u64(np, "surplus_pages"),
			     node_u64(id, ps, "surplus_hugepages"));
			if (ps == MB2) {
				sum_total += get_u64(np, "total_pages");
				sum_free += get_u64(np, "free_pages");
			}
			/* the kernel keeps no per-node reservations */
			T_ASSERT(!json_object_object_get_ex(np, "resv_pages",
							    NULL));
		}
	}
	T_EQ(sum_total, total);
	T_EQ(sum_free, free_before - TOUCHED);

	json_object_put(doc);
	free(out);
	munmap(p, MAPPED * MB2);
	close(fd);
	/* the file is gone with the last close: its pages come back */
	T_EQ(global_u64(MB2, "free_hugepages"), free_before);
	T_EQ(global_u64(MB2, "resv_hugepages"), resv_before);
	printf("status -J agrees with sysfs and /proc/meminfo (%lu 2M pages)\n",
	       (unsigned long)total);
	return 0;
}
