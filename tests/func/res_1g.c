// SPDX-License-Identifier: LGPL-2.1-or-later
/* res_1g.c: reservations of 1G pages: exactly what the 1G pool holds is granted, prealloc populates it, release gives it back (issue 7). */
#include <string.h>

#include <unistd.h>

#include "t_res.h"

#define G1 (1ULL << 30)

static void kernel_moved(const struct t_hcount *base, uint64_t used,
			 uint64_t reserved)
{
	struct t_hcount now;

	t_hcount(G1, -1, &now);
	T_EQ(now.total, base->total);
	T_EQ(now.free, base->free - used);
	T_EQ(now.resv, base->resv + reserved);
	T_EQ(now.surplus, base->surplus);
}

static void figures(const char *name, uint64_t held, uint64_t populated)
{
	json_object *o = t_res_show(name);

	T_EQ(t_jget_u64(o, "page_size"), G1);
	T_EQ(t_jget_u64(o, "size"), G1);
	T_EQ(t_jget_u64(o, "held"), held);
	T_EQ(t_jget_u64(o, "owed"), 0);
	T_EQ(t_jget_u64(o, "populated"), populated);
	json_object_put(o);
}

int main(void)
{
	struct t_hcount base;
	char *out = NULL;
	int rc;

	if (access("/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages",
		   W_OK))
		t_skip("this kernel has no 1 GiB pages");
	t_require_hugetlb(G1);
	t_res_dir();
	/*
	 * 1G pages need 1 GiB of contiguous memory each: a kernel that cannot
	 * make two more is not this test's failure (as in block_1g); the
	 * 2-node guest boots with them.
	 */
	if (t_res_unclaimed(G1) < 2) {
		t_hcount(G1, -1, &base);
		if (!t_hugepages_try_set(G1, base.total + 2 -
						   t_res_unclaimed(G1)))
			t_skip("two free 1 GiB pages could not be made");
	}
	t_res_pool_unclaimed(G1, 2);
	t_hcount(G1, -1, &base);

	t_poolctl_ok(0, "reserve", "g1", "--page-size", "1G", "--size", "1G",
		     "--prealloc", NULL);
	figures("g1", G1, G1);
	kernel_moved(&base, 1, 0);
	t_poolctl_ok(0, "reserve", "g2", "--page-size", "1G", "--size", "1G",
		     NULL);
	figures("g2", G1, 0);
	kernel_moved(&base, 1, 1);
	/* the pool is spoken for: refused with a 1G shortfall row */
	rc = t_poolctl(&out, NULL, "reserve", "g3", "--page-size", "1G",
		       "--size", "1G", NULL);
	T_EQ(rc, 1);
	if (!strstr(out, "GRANTABLE") || !strstr(out, "1G"))
		T_FAIL("no 1G shortfall table: %s", out);
	free(out);
	kernel_moved(&base, 1, 1);
	/* sizes that are not whole 1G pages are bad input */
	t_poolctl_ok(2, "reserve", "g4", "--page-size", "1G", "--size",
		     "1536M", NULL);
	t_poolctl_ok(2, "reserve", "g4", "--page-size", "1G", "--size", "512M",
		     NULL);
	t_res_audit_clean();

	t_poolctl_ok(0, "release", "g1", NULL);
	t_poolctl_ok(0, "release", "g2", NULL);
	kernel_moved(&base, 0, 0);
	T_EQ(t_res_mounts(), 0);
	t_res_audit_clean();
	return 0;
}
