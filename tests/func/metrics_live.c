// SPDX-License-Identifier: LGPL-2.1-or-later
/* metrics_live.c: poolctl metrics on the real kernel: promtool accepts it, its figures equal status -J, show -J, audit -J and the kernel's counters, --textfile replaces its file atomically (issue 11). */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "t_res.h"

#define NODE0_2M "node=\"0\",page_size=\"2097152\""
#define PAGES_RES 8	/* m1: 16M */
#define PAGES_WARM 4	/* one 8M slot */
#define PAGES_SPARE 4
#define NOBODY 65534

static char prom_dir[256];

/* What the test may leave in its textfile directory (t_tmpdir only
 * removes it empty). */
static void prom_cleanup(void)
{
	char path[512];
	DIR *d = prom_dir[0] ? opendir(prom_dir) : NULL;
	struct dirent *e;

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.' && (!e->d_name[1] ||
					    !strcmp(e->d_name, "..")))
			continue;
		snprintf(path, sizeof(path), "%s/%s", prom_dir, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
}

/*
 * The value of the one sample "series" (name{labels}) in text; fails
 * unless it is there exactly once.
 */
static uint64_t m_get(const char *text, const char *series)
{
	size_t n = strlen(series);
	const char *p = text, *hit = NULL;
	int seen = 0;

	for (; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!strncmp(p, series, n) && p[n] == ' ') {
			hit = p + n + 1;
			seen++;
		}
	}
	if (seen != 1)
		T_FAIL("%d samples '%s' in:\n%s", seen, series, text);
	return strtoull(hit, NULL, 10);
}

/* Whether any line of text starts with prefix. */
static bool m_has(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);

	for (const char *p = text; p && *p;
	     p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, prefix, n))
			return true;
	return false;
}

static uint64_t m_np(const char *text, const char *name, const char *labels)
{
	char series[256];

	snprintf(series, sizeof(series), "%s{%s}", name, labels);
	return m_get(text, series);
}

/* promtool check metrics on text (a file in dir); fails on any word. */
static void promtool_ok(const char *text)
{
	char path[512], cmd[640], *out = NULL, *err = NULL;
	char *argv[] = { "/bin/sh", "-c", cmd, NULL };
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/check.txt", prom_dir);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f))
		T_FAIL("write %s: %s", path, strerror(errno));
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s", path);
	rc = t_run(argv, &out, &err);
	if (rc == 127 && getenv("RAMPOOL_TEST_IN_GUEST")) {
		/* the guests carry no promtool: the host's run validates */
		static bool said;

		if (!said)
			printf("metrics_live: no promtool in this guest: the "
			       "format is validated by the host's run\n");
		said = true;
		unlink(path);
		free(out);
		free(err);
		return;
	}
	if (rc == 127)
		T_FAIL("promtool not found: scripts/deps installs the Debian "
		       "package prometheus");
	if (rc || (out && out[0]) || (err && err[0]))
		T_FAIL("promtool check metrics: exit %d\n%s%s\nof:\n%s", rc,
		       out, err, text);
	unlink(path);
	free(out);
	free(err);
}

/* Every family has one HELP and one TYPE line, before its samples. */
static void families_once(const char *text)
{
	for (const char *p = text; p && *p;
	     p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		char name[128], help[160], type[160];
		const char *t;

		if (sscanf(p, "# TYPE %127s gauge", name) != 1)
			continue;
		snprintf(help, sizeof(help), "# HELP %s ", name);
		snprintf(type, sizeof(type), "# TYPE %s ", name);
		t = strstr(text, type);
		T_ASSERT(t == p && !strstr(p + 1, type));
		t = strstr(text, help);
		T_ASSERT(t && t < p && !strstr(t + 1, help));
		T_ASSERT(!strncmp(name, "rampool_", 8));
	}
}

/* poolctl metrics, exit 0, nothing on stderr; checked by promtool. */
static char *metrics(void)
{
	char *out = NULL, *err = NULL;
	int rc = t_poolctl(&out, &err, "metrics", NULL);

	if (rc || !err || err[0])
		T_FAIL("poolctl metrics: exit %d, stderr: %s", rc, err);
	free(err);
	promtool_ok(out);
	families_once(out);
	return out;
}

/* The audit's foreign bytes of node (-1: host) on 2M pages. */
static uint64_t audit_foreign(int node)
{
	json_object *doc, *drift, *d, *n;
	char *out = NULL;
	uint64_t sum = 0;
	int rc = t_poolctl(&out, NULL, "audit", "-J", NULL);

	if (rc != 0 && rc != 1)
		T_FAIL("poolctl audit -J: exit %d", rc);
	doc = t_json(out);
	drift = t_jget(doc, "drift");
	for (size_t i = 0; i < json_object_array_length(drift); i++) {
		int dn;

		d = json_object_array_get_idx(drift, i);
		if (strcmp(t_jget_str(d, "kind"), "foreign") ||
		    t_jget_u64(d, "page_size") != T_MB2)
			continue;
		dn = json_object_object_get_ex(d, "node", &n) && n ?
			     json_object_get_int(n) : -1;
		if (dn == node)
			sum += t_jget_u64(d, "bytes");
	}
	json_object_put(doc);
	free(out);
	return sum;
}

/* Node 0's 2M figures against status -J and the kernel's counters. */
static void check_node0(const char *m)
{
	json_object *doc, *u = t_status_usage(T_MB2, 0, &doc);
	struct t_hcount h, g;

	T_EQ(m_np(m, "rampool_reserved_bytes", NODE0_2M),
	     t_jget_u64(u, "reserved"));
	T_EQ(m_np(m, "rampool_held_bytes", NODE0_2M), t_jget_u64(u, "held"));
	T_EQ(m_np(m, "rampool_owed_bytes", NODE0_2M), t_jget_u64(u, "owed"));
	T_EQ(m_np(m, "rampool_held_unpinned_bytes", NODE0_2M),
	     t_jget_u64(u, "unpinned"));
	T_EQ(m_np(m, "rampool_warm_bytes", NODE0_2M), t_jget_u64(u, "warm"));
	T_EQ(m_np(m, "rampool_available_bytes", NODE0_2M),
	     t_jget_u64(u, "avail"));
	json_object_put(doc);
	t_hcount(T_MB2, 0, &h);
	t_hcount(T_MB2, -1, &g);
	T_EQ(m_np(m, "rampool_hugepages_total_bytes", NODE0_2M),
	     h.total * T_MB2);
	T_EQ(m_np(m, "rampool_hugepages_free_bytes", NODE0_2M),
	     h.free * T_MB2);
	T_EQ(m_np(m, "rampool_hugepages_surplus_bytes", NODE0_2M),
	     h.surplus * T_MB2);
	T_EQ(m_get(m, "rampool_hugepages_rsvd_bytes{page_size=\"2097152\"}"),
	     g.resv * T_MB2);
	T_EQ(m_np(m, "rampool_foreign_bytes", NODE0_2M), audit_foreign(0));
	T_EQ(m_get(m, "rampool_foreign_host_bytes{page_size=\"2097152\"}"),
	     audit_foreign(-1));
}

#define RES_M1 "reservation=\"m1\"," NODE0_2M
#define RES_S1 "reservation=\"s1\",node=\"any\",page_size=\"4096\""
#define WARM0 NODE0_2M ",slot_size=\"8388608\""

/* The reservations against show -J, the warm slots against warm -J. */
static void check_rows(const char *m)
{
	json_object *s = t_res_show("m1");

	T_EQ(m_np(m, "rampool_reservation_size_bytes", RES_M1),
	     t_jget_u64(s, "size"));
	T_EQ(m_np(m, "rampool_reservation_held_bytes", RES_M1),
	     t_jget_u64(s, "held"));
	T_EQ(m_np(m, "rampool_reservation_owed_bytes", RES_M1),
	     t_jget_u64(s, "owed"));
	json_object_put(s);
	T_EQ(m_np(m, "rampool_reservation_size_bytes", RES_M1),
	     PAGES_RES * T_MB2);
	T_EQ(m_np(m, "rampool_reservation_held_bytes", RES_M1),
	     PAGES_RES * T_MB2);
	/* shmem: promised, not held; on no node */
	T_EQ(m_np(m, "rampool_reservation_size_bytes", RES_S1), 8 << 20);
	T_EQ(m_np(m, "rampool_reservation_held_bytes", RES_S1), 0);
	T_EQ(m_np(m, "rampool_reservation_owed_bytes", RES_S1), 8 << 20);

	T_WARM(T_MB2, PAGES_WARM * T_MB2, 1, 1, 0);
	T_EQ(m_np(m, "rampool_warm_target_slots", WARM0), 1);
	T_EQ(m_np(m, "rampool_warm_slots", WARM0 ",state=\"clean\""), 1);
	T_EQ(m_np(m, "rampool_warm_slots", WARM0 ",state=\"dirty\""), 0);
	T_EQ(m_np(m, "rampool_warm_slots", WARM0 ",state=\"filling\""), 0);
	T_EQ(m_np(m, "rampool_warm_slot_bytes", WARM0 ",state=\"clean\""),
	     PAGES_WARM * T_MB2);
	T_EQ(m_np(m, "rampool_warm_slot_bytes", WARM0 ",state=\"dirty\""), 0);
}

/* Pages touched behind the pool's back are foreign on their node. */
static void check_foreign(void)
{
	char *before = metrics(), *after;
	size_t len = 2 * T_MB2;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);

	if (p == MAP_FAILED)
		T_FAIL("mmap 2 hugepages: %s", strerror(errno));
	memset(p, 1, len);
	after = metrics();
	T_EQ(m_np(after, "rampool_foreign_bytes", NODE0_2M) -
		     m_np(before, "rampool_foreign_bytes", NODE0_2M),
	     len);
	T_EQ(m_get(after, "rampool_foreign_host_bytes{page_size=\"2097152\"}") -
		     m_get(before,
			   "rampool_foreign_host_bytes{page_size=\"2097152\"}"),
	     len);
	T_EQ(m_np(after, "rampool_hugepages_free_bytes", NODE0_2M),
	     (PAGES_SPARE - 2) * T_MB2);
	munmap(p, len);
	free(before);
	free(after);
}

/* Only the kernel's families when the ledger is closed to the caller. */
static void check_unreadable(void)
{
	char *out = NULL, *err = NULL;
	int rc = t_poolctl_as(NOBODY, &out, &err, "metrics", NULL);

	if (rc)
		T_FAIL("metrics as nobody: exit %d, stderr: %s", rc, err);
	T_ASSERT(!strcmp(err, "poolctl: metrics: this user may not read the "
			      "ledger; only the kernel's metrics are "
			      "written\n"));
	promtool_ok(out);
	T_EQ(m_get(out, "rampool_ledger_readable"), 0);
	T_ASSERT(m_has(out, "rampool_hugepages_total_bytes{" NODE0_2M "} "));
	T_ASSERT(!m_has(out, "rampool_reserved_bytes"));
	T_ASSERT(!m_has(out, "rampool_reservation_"));
	T_ASSERT(!m_has(out, "rampool_foreign_"));
	free(out);
	free(err);
}

/* The entries of prom_dir other than . and .., one line. */
static void dir_is(const char *want)
{
	char got[512] = "";
	DIR *d = opendir(prom_dir);
	struct dirent *e;

	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			snprintf(got + strlen(got), sizeof(got) - strlen(got),
				 "%s%s", got[0] ? " " : "", e->d_name);
	if (d)
		closedir(d);
	if (strcmp(got, want))
		T_FAIL("%s holds '%s', want '%s'", prom_dir, got, want);
}

static void check_textfile(void)
{
	char path[512], *out = NULL, *err = NULL, *text;
	char *argv[] = { "/bin/cat", path, NULL };
	struct stat st;

	snprintf(path, sizeof(path), "%s/rampool.prom", prom_dir);
	for (int round = 0; round < 2; round++) {	/* made, replaced */
		T_EQ(t_poolctl(&out, &err, "metrics", "--textfile", prom_dir,
			       NULL), 0);
		T_ASSERT(!out[0] && !err[0]);
		free(out);
		free(err);
		dir_is("rampool.prom");
		T_ASSERT(!stat(path, &st));
		T_EQ(st.st_mode & 07777, 0644);
		T_EQ(t_run(argv, &text, NULL), 0);
		promtool_ok(text);
		T_EQ(m_np(text, "rampool_reservation_size_bytes", RES_M1),
		     PAGES_RES * T_MB2);
		free(text);
	}
}

/* A missing DIR is the user's (2); one the caller may not write, 3. */
static void check_textfile_bad(void)
{
	char *out = NULL, *err = NULL, want[512];

	T_EQ(t_poolctl(&out, &err, "metrics", "--textfile",
		       "/nonexistent/dir", NULL), 2);
	T_ASSERT(!out[0]);
	T_ASSERT(!strcmp(err, "poolctl: metrics: --textfile "
			      "'/nonexistent/dir': No such file or "
			      "directory\n"));
	free(out);
	free(err);
	if (chmod(prom_dir, 0755))
		T_FAIL("chmod %s: %s", prom_dir, strerror(errno));
	T_EQ(t_poolctl_as(NOBODY, &out, &err, "metrics", "--textfile",
			  prom_dir, NULL), 3);
	snprintf(want, sizeof(want), "poolctl: metrics: --textfile '%s': "
		 "Permission denied\n", prom_dir);
	T_ASSERT(strstr(err, want) && !strcmp(strstr(err, want), want));
	T_ASSERT(!out[0]);
	free(out);
	free(err);
	dir_is("rampool.prom");	/* the old file, no temporary beside it */
}

/* A recorded tree (tests/fixtures/sysfs/x86-2node): its counters, no
 * ledger. */
static void check_sysroot(void)
{
	char fx[512], *out = NULL, *err = NULL;
	const char *src = getenv("SRC");

	snprintf(fx, sizeof(fx), "%s/tests/fixtures/sysfs/x86-2node",
		 src ? src : ".");
	if (access(fx, R_OK)) {
		/* the guests of check-vm carry the binaries, not the tree */
		printf("metrics_live: no recorded tree at %s: its part "
		       "skipped\n", fx);
		return;
	}
	T_EQ(t_poolctl(&out, &err, "--sysroot", fx, "metrics", NULL), 0);
	T_ASSERT(!err[0]);
	promtool_ok(out);
	families_once(out);
	T_EQ(m_np(out, "rampool_hugepages_total_bytes",
		  "node=\"1\",page_size=\"2097152\""), 32 * T_MB2);
	T_EQ(m_np(out, "rampool_hugepages_free_bytes",
		  "node=\"1\",page_size=\"2097152\""), 22 * T_MB2);
	T_EQ(m_get(out, "rampool_hugepages_rsvd_bytes{page_size=\"2097152\"}"),
	     6 * T_MB2);
	T_EQ(m_get(out, "rampool_ledger_readable"), 0);
	T_ASSERT(!m_has(out, "rampool_reserved_bytes"));
	free(out);
	free(err);
}

int main(void)
{
	char *m;

	snprintf(prom_dir, sizeof(prom_dir), "%s", t_tmpdir("/tmp"));
	t_atcleanup(prom_cleanup);
	check_sysroot();
	t_require_hugetlb(T_MB2);
	t_res_dir();
	t_res_node_free(0, PAGES_RES + PAGES_WARM + PAGES_SPARE);

	/* no ledger yet: the kernel's figures, the pool's all zero */
	m = metrics();
	T_EQ(m_get(m, "rampool_ledger_readable"), 1);
	T_EQ(m_np(m, "rampool_hugepages_free_bytes", NODE0_2M),
	     (PAGES_RES + PAGES_WARM + PAGES_SPARE) * T_MB2);
	T_EQ(m_np(m, "rampool_reserved_bytes", NODE0_2M), 0);
	T_ASSERT(!m_has(m, "rampool_reservation_"));
	free(m);

	t_poolctl_ok(0, "reserve", "m1", "--size", "16M", "--page-size", "2M",
		     "--node", "0", "--prealloc", NULL);
	T_EQ(t_poolctl(NULL, NULL, "reserve", "s1", "--size", "8M",
		       "--page-size", "4K", NULL), 0);
	t_poolctl_ok(0, "warm", "set", "--node", "0", "--size", "8M",
		     "--page-size", "2M", "--count", "1", NULL);
	t_poolctl_ok(0, "warm", "fill", NULL);

	m = metrics();
	check_node0(m);
	check_rows(m);
	T_EQ(m_np(m, "rampool_reserved_bytes", NODE0_2M), PAGES_RES * T_MB2);
	T_EQ(m_np(m, "rampool_held_bytes", NODE0_2M), PAGES_RES * T_MB2);
	T_EQ(m_np(m, "rampool_warm_bytes", NODE0_2M), PAGES_WARM * T_MB2);
	T_EQ(m_np(m, "rampool_hugepages_free_bytes", NODE0_2M),
	     PAGES_SPARE * T_MB2);
	free(m);

	check_foreign();
	check_unreadable();
	check_textfile();
	check_textfile_bad();

	t_poolctl_ok(0, "release", "m1", NULL);
	t_poolctl_ok(0, "release", "s1", NULL);
	t_poolctl_ok(0, "warm", "set", "--node", "0", "--size", "8M",
		     "--page-size", "2M", "--count", "0", NULL);
	m = metrics();
	T_EQ(m_np(m, "rampool_hugepages_free_bytes", NODE0_2M),
	     (PAGES_RES + PAGES_WARM + PAGES_SPARE) * T_MB2);
	T_EQ(m_np(m, "rampool_reserved_bytes", NODE0_2M), 0);
	T_EQ(m_np(m, "rampool_warm_bytes", NODE0_2M), 0);
	T_EQ(m_np(m, "rampool_foreign_bytes", NODE0_2M), audit_foreign(0));
	free(m);
	t_res_audit_clean();
	return 0;
}
