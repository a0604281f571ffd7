// SPDX-License-Identifier: LGPL-2.1-or-later
/* warm_hold.c: a warm slot's pages are held on its node (node 1 when there is one): a thief taking every free page there gets none of them, and the claim hands them over in place (issue 10). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "t_kid.h"
#include "t_res.h"

#define PAGES 32
#define SIZE (PAGES * T_MB2)
#define SPARE 4		/* free pages on the node beside the slot */

/* Pages of the file at path on node (move_pages), all of it mapped. */
static uint64_t on_node(const char *path, int node)
{
	uint64_t n;
	void *p;
	int fd = open(path, O_RDWR | O_NOFOLLOW);

	if (fd < 0)
		T_FAIL("open %s: %s", path, strerror(errno));
	p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		T_FAIL("mmap %s: %s", path, strerror(errno));
	n = t_pages_on_node(p, SIZE, T_MB2, node);
	munmap(p, SIZE);
	close(fd);
	return n;
}

int main(void)
{
	int node = t_nr_nodes() > 1 ? 1 : 0;
	struct t_hcount h, h0;
	char slot[8192], nodestr[16], *path;
	struct t_kid thief;
	uint64_t got;

	t_require_hugetlb(T_MB2);
	t_res_dir();
	snprintf(nodestr, sizeof(nodestr), "%d", node);
	/* the slot and SPARE pages free on the node, nothing more */
	t_res_node_free(node, PAGES + SPARE);

	t_poolctl_ok(0, "warm", "set", "--node", nodestr, "--size", "64M",
		     "--page-size", "2M", "--count", "1", NULL);
	t_poolctl_ok(0, "warm", "fill", NULL);
	T_EQ(t_warm_counts(T_MB2, SIZE).clean, 1);
	t_warm_slot(false, slot, sizeof(slot));
	T_EQ(on_node(slot, node), PAGES);
	t_res_audit_clean();

	/* the thief takes every free page of the node: the SPARE ones */
	thief = t_thief_start(T_MB2, 1000000, node, 1, &got);
	T_EQ(got, SPARE);
	t_hcount(T_MB2, node, &h0);
	T_EQ(h0.free, 0);
	/* a cold reservation finds nothing; the warm claim takes the slot */
	t_poolctl_ok(1, "reserve", "cold", "--size", "64M", "--page-size",
		     "2M", "--node", nodestr, "--prealloc", "--extra", "2M",
		     NULL);
	t_poolctl_ok(0, "reserve", "vm", "--size", "64M", "--page-size", "2M",
		     "--node", nodestr, "--prealloc", "--warm-only", NULL);
	t_hcount(T_MB2, node, &h);
	T_HCOUNT_EQ(h, h0);
	path = t_res_path("vm");
	T_EQ(on_node(path, node), PAGES);
	/* the owner's writes need no new page */
	t_res_through(-1, path, SIZE, 0x3c);
	T_EQ(t_res_through(-1, path, SIZE, -1), SIZE / 4096);
	t_hcount(T_MB2, node, &h);
	T_HCOUNT_EQ(h, h0);
	free(path);

	/* released back (dirty), zeroed in place: still all on the node */
	t_poolctl_ok(0, "release", "vm", NULL);
	t_poolctl_ok(0, "warm", "fill", NULL);
	t_warm_slot(false, slot, sizeof(slot));
	T_EQ(on_node(slot, node), PAGES);
	T_EQ(t_res_through(-1, slot, SIZE, -1), 0);
	t_hcount(T_MB2, node, &h);
	T_HCOUNT_EQ(h, h0);
	t_thief_stop(&thief);
	t_res_audit_clean();	/* the thief's pages were foreign, rightly */

	t_poolctl_ok(0, "warm", "set", "--node", nodestr, "--size", "64M",
		     "--page-size", "2M", "--count", "0", NULL);
	t_hcount(T_MB2, node, &h);
	T_EQ(h.free, PAGES + SPARE);
	T_EQ(t_res_mounts(), 0);
	t_res_audit_clean();
	return 0;
}
