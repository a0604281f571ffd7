// SPDX-License-Identifier: LGPL-2.1-or-later
/* check_numa.c: poolctl check on a multi-node kernel (make check-vm): a VM that needs two nodes, one that fits host-wide but not on its node (and names the node where it would), 1G and 2M blocks together, a node without memory (issue 9). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "t_res.h"

#define MB (1ULL << 20)
#define GB (1ULL << 30)

static const char *manifest;	/* t_manifest's file */

static uint64_t sub(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

/* What a reservation of ps pages on node gets now, from sysfs alone. */
static uint64_t grantable(uint64_t ps, int node)
{
	struct t_hcount g, n;
	uint64_t all;

	t_hcount(ps, -1, &g);
	all = sub(g.free, g.resv);
	if (node < 0)
		return all * ps;
	t_hcount(ps, node, &n);
	n.free = sub(n.free, g.resv);
	return (all < n.free ? all : n.free) * ps;
}

/* check -J of text: exit status want; the rows as a JSON array. */
static json_object *check(const char *text, int want, json_object **doc)
{
	char *out = NULL, *err = NULL;

	manifest = t_manifest(text);
	T_EQ(t_poolctl(&out, &err, "check", "-J", manifest, NULL), want);
	*doc = t_json(out);
	free(out);
	free(err);
	return t_jget(*doc, "rows");
}

/* Row k: node (-1: host-wide), page size, need, grantable, fits_on. */
static void row(json_object *rows, size_t k, int node, uint64_t ps,
		uint64_t need, uint64_t grant, int fits_on)
{
	json_object *r = json_object_array_get_idx(rows, k), *n;

	if (!r)
		T_FAIL("no row %zu", k);
	T_EQ(json_object_object_get_ex(r, "node", &n) && n ?
		     json_object_get_int(n) : -1, node);
	T_EQ(t_jget_u64(r, "page_size"), ps);
	T_EQ(t_jget_u64(r, "need"), need);
	T_EQ(t_jget_u64(r, "grantable"), grant);
	T_EQ(json_object_object_get_ex(r, "fits_on", &n) && n ?
		     json_object_get_int(n) : -1, fits_on);
}

int main(void)
{
	uint64_t g0, g1, need;
	json_object *doc, *rows;
	char text[512];
	int small, big;

	if (t_nr_nodes() < 2)
		t_skip("needs 2 NUMA nodes, this kernel has %d (make check-vm "
		       "runs it in 2- and 4-node guests)", t_nr_nodes());
	t_require_hugetlb(2 * MB);
	t_res_dir();
	g0 = grantable(2 * MB, 0);
	g1 = grantable(2 * MB, 1);
	T_ASSERT(g0 >= 8 * MB && g1 >= 8 * MB);

	/* two nodes: a row each and a host-wide one */
	snprintf(text, sizeof(text), "{\"blocks\": ["
		 "{\"id\": \"m0\", \"size\": \"4M\", \"page_size\": \"2M\","
		 " \"node\": 0}, {\"id\": \"m1\", \"size\": \"4M\","
		 " \"page_size\": \"2M\", \"node\": 1}]}");
	rows = check(text, 0, &doc);
	T_EQ(json_object_array_length(rows), 3);
	row(rows, 0, 0, 2 * MB, 4 * MB, g0, -1);
	row(rows, 1, 1, 2 * MB, 4 * MB, g1, -1);
	row(rows, 2, -1, 2 * MB, 8 * MB, grantable(2 * MB, -1), -1);
	json_object_put(doc);

	/* fits host-wide, not on the smaller node: the larger is named */
	small = g0 < g1 ? 0 : 1;
	big = !small;
	need = (small ? g1 : g0) > (small ? g0 : g1) ?
		       (small ? g0 : g1) + 2 * MB : 0;
	if (need) {
		snprintf(text, sizeof(text), "{\"blocks\": [{\"id\": \"m\","
			 " \"size\": %llu, \"page_size\": \"2M\", \"node\":"
			 " %d}]}", (unsigned long long)need, small);
		rows = check(text, 1, &doc);
		T_EQ(json_object_array_length(rows), 1);
		row(rows, 0, small, 2 * MB, need, small ? g1 : g0, big);
		json_object_put(doc);
	}

	/* 1G and 2M pages together, where the kernel has 1G pages */
	if (grantable(GB, 0) >= GB) {
		snprintf(text, sizeof(text), "{\"blocks\": ["
			 "{\"id\": \"big\", \"size\": \"1G\", \"page_size\":"
			 " \"1G\", \"node\": 0}, {\"id\": \"small\", \"size\":"
			 " \"4M\", \"page_size\": \"2M\", \"node\": 1}]}");
		rows = check(text, 0, &doc);
		T_EQ(json_object_array_length(rows), 2);
		row(rows, 0, 1, 2 * MB, 4 * MB, g1, -1);
		row(rows, 1, 0, GB, GB, grantable(GB, 0), -1);
		json_object_put(doc);
	} else {
		printf("no free 1G page on node 0: 1G and 2M together not "
		       "checked\n");
	}

	/* a node without memory (node 3 of the 4-node guest) */
	if (t_nr_nodes() >= 4 && grantable(2 * MB, 3) == 0) {
		rows = check("{\"blocks\": [{\"id\": \"m\", \"size\": \"2M\","
			     " \"page_size\": \"2M\", \"node\": 3}]}", 1, &doc);
		row(rows, 0, 3, 2 * MB, 2 * MB, 0, g0 >= 2 * MB ? 0 : 1);
		json_object_put(doc);
	}
	t_res_audit_clean();
	printf("check_numa: node rows, host-wide rows, fits-on, 1G with 2M\n");
	return 0;
}
