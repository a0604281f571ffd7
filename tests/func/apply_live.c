// SPDX-License-Identifier: LGPL-2.1-or-later
/* apply_live.c: poolctl apply on the real kernel: pages, a warm target and two reservations made; a second run changes nothing; a hand-made reservation of a declared name untouched; removed, reshaped and in-use ones; dry run; a bad file. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "t_res.h"

#define MB(x) ((uint64_t)(x) << 20)
#define NR_NODE0 "/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages"

static char conf_path[512];
static uint64_t want_pages;

/* Fails unless s holds what. */
#define T_HAS(s, what)							\
	do {								\
		if (!strstr((s), (what)))				\
			T_FAIL("'%s' not in: %s", (what), (s));		\
	} while (0)

/* The file apply reads, with pages, warm w, r1 and, when with, r2 and extra. */
static const char *conf(bool r2, const char *r1_size, const char *extra)
{
	FILE *f = fopen(conf_path, "w");

	if (!f)
		T_FAIL("%s: cannot write", conf_path);
	fprintf(f, "# apply_live\n[pages \"2M\"]\n\tnode0 = %llu\n"
		"[warm \"w\"]\n\tnode = 0\n\tpage-size = 2M\n\tsize = 4M\n"
		"\tcount = 1\n"
		"[reservation \"r1\"]\n\tsize = %s ; on node 0\n"
		"\tpage-size = 2M\n\tnode = 0\n\tprealloc = yes\n",
		(unsigned long long)want_pages, r1_size);
	if (r2)
		fprintf(f, "[reservation \"r2\"]\n\tsize = \"4M\"\n"
			"\tbacking = shmem\n");
	fprintf(f, "%s", extra ? extra : "");
	if (fclose(f))
		T_FAIL("%s: cannot write", conf_path);
	return conf_path;
}

/* A row of list -J by name: its size, declared flag; false when absent. */
static bool row(const char *name, uint64_t *size, bool *declared)
{
	json_object *list = t_res_list();
	json_object *r = t_res_row(list, name);

	if (r) {
		*size = t_jget_u64(r, "size");
		*declared = json_object_get_boolean(t_jget(r, "declared"));
	}
	json_object_put(list);
	return r != NULL;
}

static unsigned int warm_target(void)
{
	char *out = NULL;
	unsigned int n = 0;

	T_EQ(t_poolctl(&out, NULL, "warm", "-rn", NULL), 0);
	/* NODE BACKING PAGESIZE SLOT TARGET ... */
	if (out[0] && sscanf(out, "0 hugetlb 2M 4M %u", &n) != 1)
		T_FAIL("warm: %s", out);
	free(out);
	return n;
}

static void dry_run_first(uint64_t base)
{
	char *out = NULL;
	uint64_t s;
	bool d;

	T_EQ(t_poolctl(&out, NULL, "apply", conf(true, "8M", NULL),
		       "--dry-run", NULL), 0);
	T_HAS(out, "pages    2M node 0");
	T_HAS(out, "would");
	T_EQ(t_read_u64(NR_NODE0), base);
	T_EQ(row("r1", &s, &d), false);
	T_EQ(warm_target(), 0);
	free(out);
}

static void made(void)
{
	char *out = NULL;
	uint64_t s;
	bool d;

	T_EQ(t_poolctl(&out, NULL, "apply", conf(true, "8M", NULL), NULL), 0);
	T_HAS(out, "done");
	T_EQ(t_read_u64(NR_NODE0), want_pages);
	T_EQ(row("r1", &s, &d), true);
	T_EQ(s, MB(8));
	T_EQ(d, true);
	T_EQ(row("r2", &s, &d), true);
	T_EQ(s, MB(4));
	T_EQ(d, true);
	T_EQ(warm_target(), 1);
	free(out);
	out = NULL;
	t_res_audit_clean();
	/* the second run: nothing */
	T_EQ(t_poolctl(&out, NULL, "apply", conf_path, NULL), 0);
	T_EQ(strcmp(out, "nothing to change\n"), 0);
	T_EQ(t_read_u64(NR_NODE0), want_pages);
	free(out);
}

/* A reservation of a declared name made by hand is reported, untouched. */
static void by_hand(void)
{
	char *err = NULL;
	uint64_t s;
	bool d;

	t_poolctl_ok(0, "reserve", "h1", "--size", "2M", "--page-size", "4K",
		     NULL);
	T_EQ(t_poolctl(NULL, &err, "apply", conf(true, "8M",
		       "[reservation \"h1\"]\nsize = 8M\nbacking = shmem\n"),
		       NULL), 1);
	T_HAS(err, "reserve h1: a reservation of that name exists that "
		   "apply did not make: left alone");
	T_EQ(row("h1", &s, &d), true);
	T_EQ(s, MB(2));
	T_EQ(d, false);
	free(err);
}

/* r2 leaves the file: dry run keeps it, apply releases it; r1 stays. */
static void removed(void)
{
	json_object *doc, *a;
	char *out = NULL;
	uint64_t s;
	bool d;

	T_EQ(t_poolctl(&out, NULL, "apply", conf(false, "8M", NULL),
		       "--dry-run", NULL), 0);
	T_HAS(out, "release  r2");
	T_EQ(row("r2", &s, &d), true);
	free(out);
	out = NULL;
	T_EQ(t_poolctl(&out, NULL, "apply", conf_path, "-J", NULL), 0);
	doc = t_json(out);
	T_EQ(t_jget_u64(doc, "changes"), 1);
	T_EQ(t_jget_u64(doc, "problems"), 0);
	a = json_object_array_get_idx(t_jget(doc, "actions"), 0);
	T_EQ(strcmp(t_jget_str(a, "action"), "release"), 0);
	T_EQ(strcmp(t_jget_str(a, "what"), "r2"), 0);
	T_EQ(strcmp(t_jget_str(a, "result"), "done"), 0);
	json_object_put(doc);
	free(out);
	T_EQ(row("r2", &s, &d), false);
	T_EQ(row("r1", &s, &d), true);
	/* another shape of r1: reported, not changed */
	T_EQ(t_poolctl(NULL, NULL, "apply", conf(false, "16M", NULL), NULL), 1);
	T_EQ(row("r1", &s, &d), true);
	T_EQ(s, MB(8));
}

static void bad_file(void)
{
	char *err = NULL, want[600];
	struct t_hcount before, after;

	t_hcount(T_MB2, -1, &before);
	T_EQ(t_poolctl(NULL, &err, "apply", conf(false, "8M",
		       "[reservation \"x\"]\nsize = 12Q\n"), NULL), 2);
	snprintf(want, sizeof(want), "%s:15: size '12Q': unknown unit (use "
		 "K, M, G or T)\n", conf_path);
	T_EQ(strcmp(err, want), 0);
	t_hcount(T_MB2, -1, &after);
	T_HCOUNT_EQ(before, after);
	free(err);
	err = NULL;
	T_EQ(t_poolctl(NULL, &err, "apply", "/nonexistent/pool.conf", NULL),
	     2);
	T_HAS(err, "No such file");
	free(err);
}

/* r1's file open here: apply cannot release it, says so, exit 1. */
static void in_use(void)
{
	char *path = t_res_path("r1"), *err = NULL;
	int fd = open(path, O_RDWR | O_CLOEXEC);
	uint64_t s;
	bool d;

	if (fd < 0)
		T_FAIL("%s: cannot open", path);
	T_EQ(t_poolctl(NULL, &err, "apply", conf_path, NULL), 1);
	T_HAS(err, "release r1: in use");
	T_EQ(row("r1", &s, &d), true);
	close(fd);
	free(path);
	free(err);
}

int main(void)
{
	json_object *list;
	uint64_t base;
	FILE *f;

	t_require_hugetlb(T_MB2);
	t_res_dir();
	snprintf(conf_path, sizeof(conf_path), "%s/pool.conf",
		 t_tmpdir("/tmp"));
	base = t_read_u64(NR_NODE0);
	t_hugepages_set(T_MB2, t_read_u64(
		"/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"));
	want_pages = base + 8;

	dry_run_first(base);
	made();
	by_hand();
	removed();
	bad_file();

	/* an empty file: r1 released (h1 and the warm target stay), not
	 * while its file is open */
	f = fopen(conf_path, "w");
	if (!f || fputs("; nothing\n", f) < 0 || fclose(f))
		T_FAIL("%s: cannot write", conf_path);
	in_use();
	t_poolctl_ok(0, "apply", conf_path, NULL);
	list = t_res_list();
	T_EQ(json_object_array_length(t_res_rows(list)), 1);
	json_object_put(list);
	T_EQ(warm_target(), 1);
	t_poolctl_ok(0, "warm", "set", "--node", "0", "--page-size", "2M",
		     "--size", "4M", "--count", "0", NULL);
	t_poolctl_ok(0, "release", "h1", NULL);
	t_res_audit_clean();
	return 0;
}
