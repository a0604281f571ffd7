// SPDX-License-Identifier: LGPL-2.1-or-later
/* check_live.c: poolctl check on the real kernel: fits, does not fit, the ledger's and a foreign process's reservations counted, a real cgroup's hugetlb limit, bad manifests refused with the field named and nothing changed (issue 9). */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "t_kid.h"
#include "t_res.h"

#define MB (1ULL << 20)
#define PAGES 16		/* unclaimed 2M pages for the test */

static const char *manifest;	/* t_manifest's file */

/* check -J on the manifest: exit status want; its one row (any node, 2M). */
static void check_row(int want, uint64_t need, uint64_t grantable)
{
	char *out = NULL, *err = NULL;
	json_object *doc, *rows, *r;

	T_EQ(t_poolctl(&out, &err, "check", "-J", manifest, NULL), want);
	doc = t_json(out);
	T_EQ(json_object_get_boolean(t_jget(doc, "fits")), want == 0);
	rows = t_jget(doc, "rows");
	T_EQ(json_object_array_length(rows), 1);
	r = json_object_array_get_idx(rows, 0);
	/* on no node: host-wide, exact on a host of any number of nodes */
	T_ASSERT(json_object_is_type(t_jget(r, "node"), json_type_null));
	T_EQ(t_jget_u64(r, "page_size"), 2 * MB);
	T_EQ(t_jget_u64(r, "need"), need);
	T_EQ(t_jget_u64(r, "grantable"), grantable);
	T_EQ(t_jget_u64(r, "short_by"), need > grantable ? need - grantable
							 : 0);
	if (want && strcmp(err, "poolctl: check: does not fit\n"))
		T_FAIL("stderr: '%s'", err);
	if (!want && err[0])
		T_FAIL("stderr: '%s'", err);
	json_object_put(doc);
	free(out);
	free(err);
}

/* A foreign process reserving pages (MAP_SHARED, nothing populated). */
static void foreign(int tell, int wait_fd, void *arg)
{
	uint64_t len = *(uint64_t *)arg;
	int fd = memfd_create("foreign", MFD_HUGETLB);
	char c = 'r';

	if (fd < 0 || ftruncate(fd, (off_t)len) ||
	    mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) ==
		    MAP_FAILED)
		_exit(1);
	if (write(tell, &c, 1) != 1)
		_exit(2);
	while (read(wait_fd, &c, 1) > 0)
		;
	_exit(0);
}

/* ---- a real cgroup v2 with a hugetlb limit below the free pages ---- */

/* A path into buf; one too long fails the test. */
__attribute__((format(printf, 3, 4)))
static void pathf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		T_FAIL("path too long: %s...", buf);
}

static char cg_dir[512];
static char cg_root_ctl[512];	/* "+hugetlb" was enabled there by us */

static void cg_cleanup(void)
{
	FILE *f;

	if (cg_dir[0])
		rmdir(cg_dir);
	if (cg_root_ctl[0] && (f = fopen(cg_root_ctl, "w"))) {
		fputs("-hugetlb", f);
		fclose(f);
	}
	cg_dir[0] = cg_root_ctl[0] = '\0';
}

/* The cgroup2 mount point with the hugetlb controller, or NULL. */
static const char *cg_mount(char *buf, size_t len)
{
	char line[512], dev[64], mnt[256], type[32], ctl[320] = "";
	FILE *f = fopen("/proc/mounts", "re");
	bool found = false;

	while (f && !found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%63s %255s %31s", dev, mnt, type) == 3 &&
			!strcmp(type, "cgroup2");
	if (f)
		fclose(f);
	if (!found)
		return NULL;
	pathf(ctl, sizeof(ctl), "%s/cgroup.controllers", mnt);
	f = fopen(ctl, "re");
	found = f && fgets(line, sizeof(line), f) && strstr(line, "hugetlb");
	if (f)
		fclose(f);
	snprintf(buf, len, "%s", mnt);
	return found ? buf : NULL;
}

static void write_str(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(s, f) < 0 || fclose(f))
		T_FAIL("%s: %s", path, strerror(errno));
}

static void cgroup_limit(void)
{
	char mnt[256], path[512], line[256] = "";
	char *out = NULL, *err = NULL;
	json_object *doc, *r;
	FILE *f;

	if (!cg_mount(mnt, sizeof(mnt))) {
		printf("no cgroup2 with the hugetlb controller: the cgroup "
		       "limit is checked on recorded files only\n");
		return;
	}
	t_atcleanup(cg_cleanup);
	pathf(path, sizeof(path), "%s/cgroup.subtree_control", mnt);
	f = fopen(path, "re");
	if (f) {
		if (!fgets(line, sizeof(line), f))
			line[0] = '\0';
		fclose(f);
	}
	if (!strstr(line, "hugetlb")) {
		write_str(path, "+hugetlb");
		pathf(cg_root_ctl, sizeof(cg_root_ctl), "%s", path);
	}
	pathf(cg_dir, sizeof(cg_dir), "%s/rampool-check.%d", mnt,
	      (int)getpid());
	if (mkdir(cg_dir, 0755))
		T_FAIL("mkdir %s: %s", cg_dir, strerror(errno));
	pathf(path, sizeof(path), "%s/hugetlb.2MB.max", cg_dir);
	write_str(path, "8388608");		/* 8M: 4 of the 16 pages */
	T_EQ(t_poolctl(&out, &err, "check", "-J", "--cgroup", cg_dir,
		       manifest, NULL), 1);
	doc = t_json(out);
	r = json_object_array_get_idx(t_jget(doc, "rows"), 0);
	T_EQ(t_jget_u64(r, "grantable"), 8 * MB);
	T_EQ(t_jget_u64(r, "cgroup_room"), 8 * MB);
	json_object_put(doc);
	free(out);
	free(err);
	cg_cleanup();
}

/* Bad manifests: exit 2, one line naming the field, nothing changed. */
static void bad(const char *text, const char *line)
{
	char *out = NULL, *err = NULL;
	json_object *before = t_res_list(), *after;

	manifest = t_manifest(text);
	T_EQ(t_poolctl(&out, &err, "check", manifest, NULL), 2);
	if (!strstr(err, line) || strchr(err, '\n') != err + strlen(err) - 1)
		T_FAIL("stderr '%s', expected one line with '%s'", err, line);
	if (out[0])
		T_FAIL("stdout: '%s'", out);
	after = t_res_list();
	if (strcmp(json_object_to_json_string(before),
		   json_object_to_json_string(after)))
		T_FAIL("the ledger changed");
	json_object_put(before);
	json_object_put(after);
	free(out);
	free(err);
}

int main(void)
{
	uint64_t len = 4 * 2 * MB;
	struct t_kid k;
	char c;

	t_require_hugetlb(2 * MB);
	t_res_dir();
	t_res_pool_unclaimed(2 * MB, PAGES);

	manifest = t_manifest("{\"blocks\": [{\"id\": \"pc.ram\", \"size\": \"28M\","
		       " \"page_size\": \"2M\"}]}");
	check_row(0, 28 * MB, PAGES * 2 * MB);
	/* the ledger's promises are taken off */
	t_poolctl_ok(0, "reserve", "r1", "--size", "8M", "--node", "0",
		     NULL);
	check_row(1, 28 * MB, (PAGES - 4) * 2 * MB);
	t_poolctl_ok(0, "release", "r1", NULL);
	check_row(0, 28 * MB, PAGES * 2 * MB);
	/* and a foreign process's reservation too */
	k = t_kid_spawn(foreign, &len);
	if (read(k.from, &c, 1) != 1)
		T_FAIL("the foreign process died");
	check_row(1, 28 * MB, (PAGES - 4) * 2 * MB);
	t_kid_reap(&k, "foreign");
	check_row(0, 28 * MB, PAGES * 2 * MB);
	cgroup_limit();

	/* an unknown key: warned about on stderr, and it still fits */
	{
		char *out = NULL, *err = NULL;

		manifest = t_manifest("{\"blocks\": [{\"id\": \"a\", \"size\":"
				      " \"2M\", \"page_size\": \"2M\","
				      " \"colour\": \"red\"}]}");
		T_EQ(t_poolctl(&out, &err, "check", manifest, NULL), 0);
		if (strcmp(err, "poolctl: warning: manifest: "
			   "$.blocks[0].colour: unknown key, ignored\n"))
			T_FAIL("stderr: '%s'", err);
		free(out);
		free(err);
	}
	bad("{\"blocks\": [{\"id\": \"pc.ram\", \"size\": -1,"
	    " \"page_size\": \"2M\"}]}", "$.blocks[0].size");
	bad("{\"blocks\": [{\"id\": \"pc.ram\", \"size\": \"3M\","
	    " \"page_size\": \"2M\"}]}", "$.blocks[0].size");
	bad("{\"blocks\": [", "manifest");
	t_res_audit_clean();
	printf("check_live: fits, does not fit once the ledger or a foreign "
	       "process holds pages, bad manifests refused\n");
	return 0;
}
