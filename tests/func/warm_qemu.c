// SPDX-License-Identifier: LGPL-2.1-or-later
/* warm_qemu.c: a real QEMU (prealloc=on) starts on a reservation claimed from the warm pool: it takes no new hugepage and its RAM is zero (issue 10). */
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "t_qemu.h"
#include "t_res.h"

#define PAGES 32		/* --size 64M */
#define SIZE (PAGES * T_MB2)

int main(void)
{
	struct t_hcount h0, h;
	static struct t_qemu qemu;	/* zeroed: no QEMU yet */
	char backend[512], *path, *out = NULL;
	json_object *o;
	const char *tmp;
	int st;

	t_require_hugetlb(T_MB2);
	t_qemu_require();
	t_res_dir();
	tmp = t_tmpdir("/tmp");
	t_res_node_free(0, PAGES);

	/* a slot that held someone's data, released back and zeroed */
	t_poolctl_ok(0, "warm", "set", "--node", "0", "--size", "64M",
		     "--page-size", "2M", "--count", "1", NULL);
	t_poolctl_ok(0, "warm", "fill", NULL);
	t_poolctl_ok(0, "reserve", "old", "--size", "64M", "--page-size", "2M",
		     "--node", "0", "--prealloc", "--warm-only", NULL);
	path = t_res_path("old");
	t_res_through(-1, path, SIZE, 0xee);
	free(path);
	t_poolctl_ok(0, "release", "old", NULL);
	t_poolctl_ok(0, "warm", "fill", NULL);
	T_WARM(T_MB2, SIZE, 1, 1, 0);
	t_hcount(T_MB2, -1, &h0);
	T_EQ(t_res_unclaimed(T_MB2), 0);	/* QEMU could get no other */

	T_EQ(t_poolctl(&out, NULL, "reserve", "vm1", "--size", "64M",
		       "--page-size", "2M", "--node", "0", "--prealloc", "-J",
		       NULL), 0);
	o = t_json(out);
	T_EQ(json_object_get_boolean(t_jget(o, "warm")), 1);
	json_object_put(o);
	free(out);
	path = t_res_path("vm1");
	{
		const char *const extra[] = {
			"-machine", "q35,memory-backend=m0", "-m", "64M", "-S",
			"-object", t_qemu_backend(backend, sizeof(backend),
						  "m0", path, "64M"),
			NULL,
		};

		t_qemu_start(&qemu, tmp, "vm1", extra);
		t_qemu_connect(&qemu, 30);
	}
	o = t_qmp(&qemu, "{\"execute\":\"query-status\"}");
	T_ASSERT(!json_object_get_boolean(t_jget(o, "running")));
	json_object_put(o);
	/* prealloc=on found every page there: none taken, none freed */
	t_hcount(T_MB2, -1, &h);
	T_HCOUNT_EQ(h, h0);
	/* what the paused guest's RAM holds: zeros, the old data gone */
	T_EQ(t_res_through(-1, path, SIZE, -1), 0);

	json_object_put(t_qmp_try(&qemu, "{\"execute\":\"quit\"}"));
	t_qemu_close(&qemu);
	if (!t_qemu_wait(&qemu, 10 * 1000, &st))
		T_FAIL("QEMU did not quit within 10 s");
	T_ASSERT(WIFEXITED(st) && !WEXITSTATUS(st));
	t_hcount(T_MB2, -1, &h);
	T_HCOUNT_EQ(h, h0);

	t_poolctl_ok(0, "warm", "set", "--node", "0", "--size", "64M",
		     "--page-size", "2M", "--count", "0", NULL);
	t_poolctl_ok(0, "release", "vm1", NULL);
	free(path);
	T_EQ(t_res_mounts(), 0);
	t_res_audit_clean();
	return 0;
}
