// SPDX-License-Identifier: LGPL-2.1-or-later
/* discard_badinput.c: discard refuses unaligned ranges, ranges past the end, --release on a hugetlb reservation and released reservations, with one line naming the value and nothing changed (issue 8, test 6). */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "rampool.h"
#include "t_res.h"

#define MB (1ULL << 20)

static uint64_t file_blocks(const char *name)
{
	char *path = t_res_path(name);
	struct stat st;

	if (stat(path, &st))
		T_FAIL("%s: %s", path, strerror(errno));
	free(path);
	return (uint64_t)st.st_blocks * 512;
}

/* show -J's figures as one string: equal before and after = unchanged. */
static char *figures(const char *name)
{
	json_object *j = t_res_show(name);
	char *s = NULL;

	if (asprintf(&s, "held %" PRIu64 " owed %" PRIu64 " populated %"
		     PRIu64 " size %" PRIu64 " file %" PRIu64,
		     t_jget_u64(j, "held"), t_jget_u64(j, "owed"),
		     t_jget_u64(j, "populated"), t_jget_u64(j, "size"),
		     file_blocks(name)) < 0)
		T_FAIL("asprintf");
	json_object_put(j);
	return s;
}

/*
 * poolctl discard ARGS... must exit want with exactly one stderr line
 * holding needle, and leave name's figures as they were.
 */
#define refused(want, name, needle, ...)				\
	refused_(__LINE__, want, name, needle, __VA_ARGS__, NULL)
__attribute__((sentinel))
static void refused_(int line, int want, const char *name,
		     const char *needle, ...)
{
	char *before = name ? figures(name) : NULL, *after, *err = NULL;
	const char *argv[16] = { "discard" };
	unsigned int n = 1;
	const char *a;
	va_list ap;
	int rc;

	va_start(ap, needle);
	while ((a = va_arg(ap, const char *)) && n < 15)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	rc = t_poolctl(NULL, &err, argv[0], argv[1], argv[2], argv[3],
		       argv[4], argv[5], argv[6], argv[7], NULL);
	/* a usage error's second line points to --help */
	if ((a = strstr(err, "\nTry '")))
		((char *)a)[1] = '\0';
	if (rc != want || !strstr(err, needle) ||
	    strchr(err, '\n') != strrchr(err, '\n'))
		T_FAIL("line %d: discard %s ...: exit %d (want %d), stderr "
		       "'%s' (want one line with '%s')", line,
		       argv[1] ? argv[1] : "", rc, want, err, needle);
	printf("refused as it should be: %s", err);
	free(err);
	if (!name)
		return;
	after = figures(name);
	if (strcmp(before, after))
		T_FAIL("line %d: changed: %s -> %s", line, before, after);
	free(before);
	free(after);
}

static void shmem_cases(struct rampool_pool *pool)
{
	char *before, *after;

	t_poolctl_ok(0, "reserve", "b1", "--size", "8M", "--page-size", "4K",
		     "--prealloc", NULL);
	refused(2, "b1", "--offset '3K': not a multiple of b1's page size 4K",
		"b1", "--offset", "3K");
	refused(2, "b1", "--length '6000': not a multiple of b1's page size",
		"b1", "--offset", "1M", "--length", "6000");
	refused(2, "b1", "--length '9M': past the end of b1 (8M",
		"b1", "--length", "9M");
	refused(2, "b1", "--length '4M': past the end of b1",
		"b1", "--offset", "6M", "--length", "4M");
	refused(2, "b1", "--offset '8M': at or past the end of b1",
		"b1", "--offset", "8M");
	refused(2, "b1", "--length", "b1", "--length", "0");
	refused(2, "b1", "--offset", "b1", "--offset", "x1");
	refused(2, "b1", "--length", "b1", "--length", "-4K");
	refused(2, "b1", "missing reservation name", "--offset", "0");
	refused(2, "b1", "unexpected argument 'b2'", "b1", "b2");
	refused(2, NULL, "../b1", "../b1");
	refused(2, NULL, "no such reservation", "nosuch");

	/* the library: -EINVAL for each, nothing changed */
	before = figures("b1");
	T_EQ(rampool_reservation_discard(pool, "b1", 4097, 4096, 0), -EINVAL);
	T_EQ(rampool_reservation_discard(pool, "b1", 0, 4095, 0), -EINVAL);
	T_EQ(rampool_reservation_discard(pool, "b1", 4 * MB, 8 * MB, 0),
	     -EINVAL);
	T_EQ(rampool_reservation_discard(pool, "b1", 8 * MB, 0, 0), -EINVAL);
	T_EQ(rampool_reservation_discard(pool, "b1", 0, 4096, 0x80), -EINVAL);
	T_EQ(rampool_reservation_discard(pool, NULL, 0, 4096, 0), -EINVAL);
	T_EQ(rampool_reservation_discard(pool, "../b1", 0, 4096, 0), -EINVAL);
	T_EQ(rampool_reservation_discard(NULL, "b1", 0, 4096, 0), -EINVAL);
	after = figures("b1");
	if (strcmp(before, after))
		T_FAIL("library: changed: %s -> %s", before, after);
	free(before);
	free(after);

	/* released: no such reservation, from both */
	t_poolctl_ok(0, "release", "b1", NULL);
	refused(2, NULL, "poolctl: discard b1: no such reservation", "b1");
	T_EQ(rampool_reservation_discard(pool, "b1", 0, 0, 0), -ENOENT);
}

/* --release on a hugetlb reservation: refused (1), the mount keeps it */
static void hugetlb_case(void)
{
	struct t_hcount before, after;

	t_res_pool_unclaimed(T_MB2, 4);
	t_poolctl_ok(0, "reserve", "h1", "--size", "4M", "--prealloc", NULL);
	t_hcount(T_MB2, -1, &before);
	refused(1, "h1", "refused: discard: a reservation's mount keeps its "
		"pages reserved", "h1", "--release");
	t_hcount(T_MB2, -1, &after);
	T_HCOUNT_EQ(before, after);
	t_poolctl_ok(0, "release", "h1", NULL);
}

int main(void)
{
	struct rampool_pool_opts po = { .sz = sizeof(po) };
	struct rampool_pool *pool;

	if (geteuid())
		t_skip("needs root (a reservation mounts its tmpfs)");
	po.state_dir = t_res_dir();
	if (rampool_pool_new(&po, &pool))
		T_FAIL("rampool_pool_new");
	shmem_cases(pool);
	rampool_pool_free(pool);
	if (access("/sys/kernel/mm/hugepages/hugepages-2048kB", F_OK))
		printf("no 2M hugepages: the --release case is not run\n");
	else
		hugetlb_case();
	t_res_audit_clean();
	return 0;
}
