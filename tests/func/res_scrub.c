// SPDX-License-Identifier: LGPL-2.1-or-later
/* res_scrub.c: a reservation handed to a new owner reads zeros where the previous owner wrote (issue 7). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "t_res.h"

#define SIZE (8ULL << 20)
#define STRANGER 65534		/* nobody: owner B */

/* A writes, releases; B gets a reservation (name_b) and must read zeros. */
static void handover(const char *name_a, const char *name_b,
		     const char *page_size, int prealloc)
{
	const char *pre = prealloc ? "--prealloc" : NULL;
	char *path;
	uint64_t dirty;

	t_poolctl_ok(0, "reserve", name_a, "--size", "8M", "--page-size",
		     page_size, "--prealloc", NULL);
	path = t_res_path(name_a);
	t_res_through(-1, path, SIZE, 0x5a);
	/* the control: A's data is really in the file */
	T_EQ(t_res_through(-1, path, SIZE, -1), SIZE / 4096);
	free(path);
	t_poolctl_ok(0, "release", name_a, NULL);

	t_poolctl_ok(0, "reserve", name_b, "--size", "8M", "--page-size",
		     page_size, "--owner", "nobody", pre, NULL);
	path = t_res_path(name_b);
	dirty = t_res_through(STRANGER, path, SIZE, -1);
	printf("%s -> %s (%s pages%s): %" PRIu64 " of %llu pages not zero\n",
	       name_a, name_b, page_size, prealloc ? ", prealloc" : "", dirty,
	       SIZE / 4096);
	T_EQ(dirty, 0);
	free(path);
	t_poolctl_ok(0, "release", name_b, NULL);
}

int main(void)
{
	struct t_hcount before, after;
	json_object *list;

	t_require_hugetlb(T_MB2);
	t_res_dir();
	/* exactly one reservation's worth: B's pages are A's pages */
	t_res_pool_unclaimed(T_MB2, SIZE / T_MB2);
	t_hcount(T_MB2, -1, &before);

	handover("a1", "a1", "2M", 0);
	handover("a2", "b2", "2M", 1);
	handover("a3", "a3", "4K", 1);
	handover("a4", "b4", "4K", 0);

	t_hcount(T_MB2, -1, &after);
	T_HCOUNT_EQ(after, before);
	list = t_res_list();
	T_EQ(json_object_array_length(t_res_rows(list)), 0);
	t_res_no_orphans(list);
	json_object_put(list);
	t_res_audit_clean();
	return 0;
}
