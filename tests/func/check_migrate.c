// SPDX-License-Identifier: LGPL-2.1-or-later
/* check_migrate.c: a real migration lands on a group: a source QEMU's saved stream checked with --reserve, a destination QEMU mapping each memory backend on its member's file, the migration completes and takes no hugepage beyond the group; a stream that does not fit reserves nothing (issue 9). */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "t_qemu.h"
#include "t_res.h"

#define MB (1ULL << 20)
#define MAP "m0=2M@0,m1=2M"	/* the stream records no page sizes */
#define GROUP_PAGES 8		/* m0 8M + m1 8M of 2M pages */
#define SPARE 2

static struct t_qemu saver, src, dst;
static char dir[] = "/tmp/rampool-mig.XXXXXX";

static void rm_dir(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/vm.stream", dir);
	unlink(path);
	rmdir(dir);
}

static void wait_status(struct t_qemu *q, const char *want)
{
	for (int i = 0; i < 600; i++) {
		json_object *o = t_qmp(q, "{\"execute\":\"query-migrate\"}");
		json_object *s;
		const char *st = json_object_object_get_ex(o, "status", &s) ?
					 json_object_get_string(s) : "";
		bool done = !strcmp(st, want);

		if (!strcmp(st, "failed"))
			T_FAIL("%s: the migration failed", q->name);
		json_object_put(o);
		if (done)
			return;
		usleep(100 * 1000);
	}
	T_FAIL("%s: no '%s' within 60 s", q->name, want);
}

/*
 * A source: two 8M NUMA nodes in plain RAM (what it runs on does not
 * matter to the stream), paused. With stream: its state is saved there
 * (a QEMU that migrated once cannot again: the live migration starts a
 * second one, configured the same).
 */
static void source(struct t_qemu *q, const char *name, const char *stream)
{
	const char *const extra[] = {
		"-machine", "q35", "-S", "-m", "16M",
		"-object", "memory-backend-ram,id=m0,size=8M",
		"-object", "memory-backend-ram,id=m1,size=8M",
		"-numa", "node,memdev=m0", "-numa", "node,memdev=m1",
		NULL,
	};
	char cmd[256];

	t_qemu_start(q, dir, name, extra);
	t_qemu_connect(q, 30);
	if (!stream)
		return;
	snprintf(cmd, sizeof(cmd), "{\"execute\":\"migrate\",\"arguments\":"
		 "{\"uri\":\"exec:cat > %s\"}}", stream);
	t_qmp_ok(q, cmd);
	wait_status(q, "completed");
	t_qemu_kill(q);
}

static char *member(const char *block)
{
	char *out = NULL;

	T_EQ(t_poolctl(&out, NULL, "path", "g", "--block", block, NULL), 0);
	out[strcspn(out, "\n")] = '\0';
	return out;
}

/* The destination: each backend on its member's file; -incoming. */
static void destination(const char *sock)
{
	char b0[512], b1[512], inc[160];
	char *p0 = member("m0"), *p1 = member("m1");
	const char *const extra[] = {
		"-machine", "q35", "-S", "-m", "16M",
		"-object", t_qemu_backend(b0, sizeof(b0), "m0", p0, "8M"),
		"-object", t_qemu_backend(b1, sizeof(b1), "m1", p1, "8M"),
		"-numa", "node,memdev=m0", "-numa", "node,memdev=m1",
		"-incoming", inc,
		NULL,
	};

	snprintf(inc, sizeof(inc), "unix:%s", sock);
	t_qemu_start(&dst, dir, "dst", extra);
	t_qemu_connect(&dst, 30);
	free(p0);
	free(p1);
}

int main(void)
{
	char stream[128], sock[128], cmd[256], *out = NULL, *err = NULL;
	uint64_t unclaimed;
	json_object *l;

	t_qemu_require();
	t_require_hugetlb(2 * MB);
	t_res_dir();
	if (!mkdtemp(dir))
		T_FAIL("mkdtemp: %s", strerror(errno));
	t_atcleanup(rm_dir);
	snprintf(stream, sizeof(stream), "%s/vm.stream", dir);
	snprintf(sock, sizeof(sock), "%s/mig.sock", dir);
	t_res_pool_unclaimed(2 * MB, GROUP_PAGES + SPARE);
	source(&saver, "saver", stream);

	/* too little left: exit 1 and nothing reserved */
	t_res_pool_unclaimed(2 * MB, GROUP_PAGES - 1);
	T_EQ(t_poolctl(&out, &err, "check", "--qemu-stream", stream, "--map",
		       MAP, "--reserve", "g", NULL), 1);
	l = t_res_list();
	T_EQ(json_object_array_length(t_res_rows(l)), 0);
	json_object_put(l);
	T_EQ(t_res_unclaimed(2 * MB), GROUP_PAGES - 1);
	free(out);
	free(err);

	t_res_pool_unclaimed(2 * MB, GROUP_PAGES + SPARE);
	T_EQ(t_poolctl(&out, &err, "check", "--qemu-stream", stream, "--map",
		       MAP, "--reserve", "g", NULL), 0);
	printf("%s%s", out, err);
	free(out);
	free(err);
	/* the group holds its pages: only the spare ones are unclaimed */
	unclaimed = t_res_unclaimed(2 * MB);
	T_EQ(unclaimed, SPARE);

	source(&src, "src", NULL);
	destination(sock);
	snprintf(cmd, sizeof(cmd), "{\"execute\":\"migrate\",\"arguments\":"
		 "{\"uri\":\"unix:%s\"}}", sock);
	t_qmp_ok(&src, cmd);
	wait_status(&src, "completed");
	wait_status(&dst, "completed");
	/* the destination's RAM came out of the group, nothing else */
	T_EQ(t_res_unclaimed(2 * MB), unclaimed);
	for (int i = 0; i < 2; i++) {
		char *p = member(i ? "m1" : "m0");
		struct stat st;

		if (stat(p, &st))
			T_FAIL("%s: %s", p, strerror(errno));
		T_EQ((uint64_t)st.st_blocks * 512, 8 * MB);	/* all there */
		free(p);
	}
	t_qemu_kill(&dst);
	t_qemu_kill(&src);
	t_poolctl_ok(0, "release", "g", NULL);
	T_EQ(t_res_unclaimed(2 * MB), GROUP_PAGES + SPARE);
	t_res_audit_clean();
	printf("check_migrate: the migration landed on the group's members\n");
	return 0;
}
