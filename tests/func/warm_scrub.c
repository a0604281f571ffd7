// SPDX-License-Identifier: LGPL-2.1-or-later
/* warm_scrub.c: the warm pool hands out zeroed pages, to another uid, without allocating one; released pages come back dirty and are zeroed (issue 10). */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "t_res.h"

#define SIZE (64ULL << 20)	/* a hugetlb slot: 32 pages of 2M */
#define SHM_SIZE (8ULL << 20)
#define STRANGER 65534		/* nobody */

/* `reserve NAME ... --prealloc -J` taken from the warm pool. */
static void claim(const char *name, const char *size, const char *ps,
		  const char *owner)
{
	json_object *doc;
	char *out = NULL;
	int st;

	st = owner ? t_poolctl(&out, NULL, "reserve", name, "--size", size,
			       "--page-size", ps, "--node", "0", "--prealloc",
			       "--owner", owner, "-J", NULL)
		   : t_poolctl(&out, NULL, "reserve", name, "--size", size,
			       "--page-size", ps, "--node", "0", "--prealloc",
			       "-J", NULL);
	T_EQ(st, 0);
	doc = t_json(out);
	T_EQ(json_object_get_boolean(t_jget(doc, "warm")), 1);
	T_EQ(t_jget_u64(doc, "populated"), strcmp(ps, "4K") ? SIZE : SHM_SIZE);
	T_EQ(t_jget_u64(doc, "owed"), 0);
	json_object_put(doc);
	free(out);
}

/*
 * One round of a shape: a slot made by fill, claimed with no page taken,
 * written, released back dirty (pages kept), zeroed by fill, claimed by
 * another uid who reads zeros in every byte; then given back.
 */
static void round_trip(bool shm)
{
	const char *ps = shm ? "4K" : "2M", *sz = shm ? "8M" : "64M";
	uint64_t pbytes = shm ? 4096 : T_MB2, size = shm ? SHM_SIZE : SIZE;
	struct t_hcount h0, h1;
	struct stat st;
	char slot[8192], *path, *out = NULL;
	json_object *u, *doc;

	t_poolctl_ok(0, "warm", "set", "--node", "0", "--page-size", ps,
		     "--size", sz, "--count", "1", NULL);
	T_WARM(pbytes, size, 1, 0, 0);
	T_EQ(t_poolctl(&out, NULL, "warm", "fill", "-J", NULL), 0);
	doc = t_json(out);
	T_EQ(t_jget_u64(doc, "made"), 1);
	T_EQ(t_jget_u64(doc, "bytes_made"), size);
	json_object_put(doc);
	free(out);
	T_WARM(pbytes, size, 1, 1, 0);
	t_warm_slot(shm, slot, sizeof(slot));
	T_EQ(stat(slot, &st), 0);
	T_EQ((uint64_t)st.st_blocks * 512, size);	/* populated */
	T_EQ(st.st_uid, 0);
	u = t_status_usage(pbytes, 0, &doc);
	T_EQ(t_jget_u64(u, "warm"), size);
	T_EQ(t_jget_u64(u, "reserved"), 0);
	json_object_put(doc);
	t_res_audit_clean();

	/* the claim: no page allocated, freed or reserved */
	t_hcount(T_MB2, -1, &h0);
	claim("a", sz, ps, NULL);
	t_hcount(T_MB2, -1, &h1);
	T_HCOUNT_EQ(h1, h0);
	T_WARM(pbytes, size, 1, 0, 0);
	t_res_audit_clean();
	path = t_res_path("a");
	t_res_through(-1, path, size, 0x5a);
	T_EQ(t_res_through(-1, path, size, -1), size / 4096);
	free(path);

	/* released while the target is short: a dirty slot, pages kept */
	t_poolctl_ok(0, "release", "a", NULL);
	t_hcount(T_MB2, -1, &h1);
	T_HCOUNT_EQ(h1, h0);
	T_WARM(pbytes, size, 1, 0, 1);
	t_res_audit_clean();
	t_warm_slot(shm, slot, sizeof(slot));
	/* the control: the old data is really in the dirty slot */
	T_EQ(t_res_through(-1, slot, size, -1), size / 4096);
	/* a dirty slot is never handed out */
	t_poolctl_ok(1, "reserve", "x", "--size", sz, "--page-size", ps,
		     "--node", "0", "--prealloc", "--warm-only", NULL);

	T_EQ(t_poolctl(&out, NULL, "warm", "fill", "-J", NULL), 0);
	doc = t_json(out);
	T_EQ(t_jget_u64(doc, "scrubbed"), 1);
	T_EQ(t_jget_u64(doc, "made"), 0);
	json_object_put(doc);
	free(out);
	T_WARM(pbytes, size, 1, 1, 0);

	/* another uid gets it: zero in every byte, its own file */
	claim("b", sz, ps, "nobody");
	path = t_res_path("b");
	T_EQ(stat(path, &st), 0);
	T_EQ(st.st_uid, STRANGER);
	T_EQ(st.st_mode & 07777, 0600);
	T_EQ(t_res_through(STRANGER, path, size, -1), 0);
	free(path);
	t_hcount(T_MB2, -1, &h1);
	T_HCOUNT_EQ(h1, h0);
	t_res_audit_clean();

	/* no target: release gives the pages back to the kernel */
	t_poolctl_ok(0, "warm", "set", "--node", "0", "--page-size", ps,
		     "--size", sz, "--count", "0", NULL);
	t_poolctl_ok(0, "release", "b", NULL);
	T_WARM(pbytes, size, 0, 0, 0);
	t_res_audit_clean();
}

/* Four claims at once for two clean slots: exactly two win. */
static void race(void)
{
	pid_t pids[4];
	int won = 0, lost = 0;

	t_poolctl_ok(0, "warm", "set", "--node", "0", "--page-size", "2M",
		     "--size", "64M", "--count", "2", NULL);
	t_poolctl_ok(0, "warm", "fill", NULL);
	T_WARM(T_MB2, SIZE, 2, 2, 0);
	fflush(NULL);
	for (int i = 0; i < 4; i++) {
		char name[8];

		snprintf(name, sizeof(name), "r%d", i);
		pids[i] = fork();
		if (pids[i] < 0)
			T_FAIL("fork: %s", strerror(errno));
		if (!pids[i]) {
			freopen("/dev/null", "w", stdout);
			freopen("/dev/null", "w", stderr);
			execl(t_build_path("poolctl"), "poolctl", "--state-dir",
			      t_res_dir(), "reserve", name, "--size", "64M",
			      "--page-size", "2M", "--node", "0", "--prealloc",
			      "--warm-only", (char *)NULL);
			_exit(127);
		}
	}
	for (int i = 0; i < 4; i++) {
		int st;

		T_EQ(waitpid(pids[i], &st, 0), pids[i]);
		T_ASSERT(WIFEXITED(st));
		won += WEXITSTATUS(st) == 0;
		lost += WEXITSTATUS(st) == 1;
	}
	T_EQ(won, 2);
	T_EQ(lost, 2);
	T_WARM(T_MB2, SIZE, 2, 0, 0);
	t_res_audit_clean();
	t_poolctl_ok(0, "warm", "set", "--node", "0", "--page-size", "2M",
		     "--size", "64M", "--count", "0", NULL);
	for (int i = 0; i < 4; i++) {
		char name[8];

		snprintf(name, sizeof(name), "r%d", i);
		t_poolctl(NULL, NULL, "release", name, NULL);
	}
	t_res_audit_clean();
}

/* Bad input: one line, the documented status, nothing changed. */
static void bad(int want, const char *needle, ...)
{
	char *args[16], *err = NULL, *before = NULL, *after = NULL;
	va_list ap;
	int n = 0, st;

	va_start(ap, needle);
	while (n < 15 && (args[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	T_EQ(t_poolctl(&before, NULL, "warm", "-J", NULL), 0);
	st = t_poolctl(NULL, &err, args[0], n > 1 ? args[1] : NULL,
		       n > 2 ? args[2] : NULL, n > 3 ? args[3] : NULL,
		       n > 4 ? args[4] : NULL, n > 5 ? args[5] : NULL,
		       n > 6 ? args[6] : NULL, n > 7 ? args[7] : NULL,
		       n > 8 ? args[8] : NULL, n > 9 ? args[9] : NULL,
		       n > 10 ? args[10] : NULL, NULL);
	printf("%s ... -> %d: %s", args[0], st, err);
	T_EQ(st, want);
	/* one line naming it (usage errors add the "Try --help" hint) */
	T_ASSERT(strchr(err, '\n') && strstr(err, needle) &&
		 strstr(err, needle) < strchr(err, '\n'));
	T_ASSERT(strchr(err, '\n')[1] == 0 ||
		 !strncmp(strchr(err, '\n') + 1, "Try ", 4));
	T_EQ(t_poolctl(&after, NULL, "warm", "-J", NULL), 0);
	T_ASSERT(!strcmp(before, after));
	free(err);
	free(before);
	free(after);
}

int main(void)
{
	struct t_hcount h0, h1;
	json_object *list;

	t_require_hugetlb(T_MB2);
	t_res_dir();
	t_res_node_free(0, 2 * SIZE / T_MB2);
	t_hcount(T_MB2, -1, &h0);

	bad(2, "--size '3M'", "warm", "set", "--node", "0", "--page-size",
	    "2M", "--size", "3M", "--count", "1", NULL);
	bad(2, "--count", "warm", "set", "--node", "0", "--size", "64M",
	    NULL);
	bad(2, "--count 'many'", "warm", "set", "--node", "0", "--size",
	    "64M", "--count", "many", NULL);
	bad(2, "no node 77", "warm", "set", "--node", "77", "--size", "64M",
	    "--count", "1", NULL);
	bad(2, "'frob'", "warm", "frob", NULL);
	bad(2, "--threads '0'", "warm", "fill", "--threads", "0", NULL);
	bad(2, "--warm-only needs --prealloc", "reserve", "v", "--size",
	    "64M", "--warm-only", NULL);
	/* no slot at all: --warm-only refuses, nothing reserved */
	t_poolctl_ok(1, "reserve", "v", "--size", "64M", "--page-size", "2M",
		     "--node", "0", "--prealloc", "--warm-only", NULL);

	round_trip(false);
	round_trip(true);
	race();

	t_hcount(T_MB2, -1, &h1);
	T_HCOUNT_EQ(h1, h0);
	list = t_res_list();
	T_EQ(json_object_array_length(t_res_rows(list)), 0);
	t_res_no_orphans(list);
	json_object_put(list);
	T_EQ(t_res_mounts(), 0);
	t_res_audit_clean();
	return 0;
}
