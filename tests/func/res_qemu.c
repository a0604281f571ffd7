// SPDX-License-Identifier: LGPL-2.1-or-later
/* res_qemu.c: a real QEMU runs on `poolctl path` with prealloc=on and takes no hugepage beyond the reservation; release gives every page back (issue 7). */
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "t_qemu.h"
#include "t_res.h"

#define PAGES 32		/* --size 64M */
#define SPARE 8			/* unclaimed pages QEMU must leave alone */

static struct t_qemu qemu;

/* Paused, on path; connected once it listens (it has preallocated then). */
static void start_qemu(const char *dir, const char *path)
{
	char backend[512];
	const char *const extra[] = {
		"-machine", "q35,memory-backend=m0", "-m", "64M", "-S",
		"-object", t_qemu_backend(backend, sizeof(backend), "m0", path,
					  "64M"),
		NULL,
	};

	t_qemu_start(&qemu, dir, "vm1", extra);
	t_qemu_connect(&qemu, 30);
}

static int maps_file(pid_t pid, const char *path)
{
	char maps[64], line[1024];
	int found = 0;
	FILE *f;

	snprintf(maps, sizeof(maps), "/proc/%d/maps", (int)pid);
	f = fopen(maps, "r");
	if (!f)
		T_FAIL("%s: %s", maps, strerror(errno));
	while (fgets(line, sizeof(line), f))
		found |= strstr(line, path) != NULL;
	fclose(f);
	return found;
}

static void wait_exit(void)
{
	int st;

	if (!t_qemu_wait(&qemu, 10 * 1000, &st))
		T_FAIL("QEMU did not quit within 10 s");
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		T_FAIL("QEMU's exit status 0x%x", st);
}

static void expect_counts(const struct t_hcount *before, uint64_t used,
			  const char *when)
{
	struct t_hcount now;

	t_hcount(T_MB2, -1, &now);
	printf("%s: total %" PRIu64 " free %" PRIu64 " resv %" PRIu64
	       " surplus %" PRIu64 "\n", when, now.total, now.free, now.resv,
	       now.surplus);
	T_EQ(now.total, before->total);
	T_EQ(now.free, before->free - used);
	T_EQ(now.resv, before->resv);
	T_EQ(now.surplus, before->surplus);
	T_EQ(t_res_unclaimed(T_MB2), before->free - before->resv - used);
}

int main(void)
{
	struct t_hcount before;
	json_object *o;
	const char *tmp;
	char *path;

	t_require_hugetlb(T_MB2);
	t_qemu_require();
	t_res_dir();
	tmp = t_tmpdir("/tmp");
	t_res_pool_unclaimed(T_MB2, PAGES + SPARE);
	t_hcount(T_MB2, -1, &before);

	t_poolctl_ok(0, "reserve", "vm1", "--size", "64M", "--prealloc", NULL);
	expect_counts(&before, PAGES, "reserved");
	o = t_res_show("vm1");
	T_EQ(t_jget_u64(o, "populated"), PAGES * T_MB2);
	T_EQ(t_jget_u64(o, "held"), PAGES * T_MB2);
	json_object_put(o);
	path = t_res_path("vm1");

	start_qemu(tmp, path);
	o = t_qmp(&qemu, "{\"execute\":\"query-status\"}");
	T_ASSERT(!json_object_get_boolean(t_jget(o, "running")));
	json_object_put(o);
	T_ASSERT(maps_file(qemu.pid, path));
	/* QEMU's prealloc found every page there: not one more taken */
	expect_counts(&before, PAGES, "QEMU running");

	/* QEMU may exit before its answer to quit is read: no answer is
	 * fine, its exit status says how it went */
	json_object_put(t_qmp_try(&qemu, "{\"execute\":\"quit\"}"));
	t_qemu_close(&qemu);
	wait_exit();
	/* the file keeps its pages until the reservation goes */
	expect_counts(&before, PAGES, "QEMU gone");
	t_poolctl_ok(0, "release", "vm1", NULL);
	expect_counts(&before, 0, "released");
	T_EQ(t_res_mounts(), 0);
	free(path);
	t_res_audit_clean();
	return 0;
}
