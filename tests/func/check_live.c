// SPDX-License-Identifier: LGPL-2.1-or-later
/* check_live.c: poolctl check on the real kernel: fits, does not fit, the ledger's and a foreign process's reservations counted, bad manifests refused with the field named and nothing changed (issue 9). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "t_kid.h"
#include "t_res.h"

#define MB (1ULL << 20)
#define PAGES 16		/* unclaimed 2M pages for the test */

static char manifest[] = "/tmp/rampool-manifest.XXXXXX";

static void rm_manifest(void)
{
	unlink(manifest);
}

static void write_manifest(const char *text)
{
	FILE *f = fopen(manifest, "w");

	if (!f || fputs(text, f) < 0 || fclose(f))
		T_FAIL("%s: %s", manifest, strerror(errno));
}

/* check -J on the manifest: exit status want; its one row (node 0, 2M). */
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
	T_EQ(t_jget_u64(r, "node"), 0);
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

/* Bad manifests: exit 2, one line naming the field, nothing changed. */
static void bad(const char *text, const char *line)
{
	char *out = NULL, *err = NULL;
	json_object *before = t_res_list(), *after;

	write_manifest(text);
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
	int fd;
	char c;

	t_require_hugetlb(2 * MB);
	t_res_dir();
	fd = mkstemp(manifest);
	if (fd < 0)
		T_FAIL("mkstemp: %s", strerror(errno));
	close(fd);
	t_atcleanup(rm_manifest);
	t_res_pool_unclaimed(2 * MB, PAGES);

	write_manifest("{\"blocks\": [{\"id\": \"pc.ram\", \"size\": \"28M\","
		       " \"page_size\": \"2M\", \"node\": 0}]}");
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
