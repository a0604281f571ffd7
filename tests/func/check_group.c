// SPDX-License-Identifier: LGPL-2.1-or-later
/* check_group.c: poolctl check --reserve on the real kernel: a group with a member per block (2M and 4K), each found by its block id, populated, released together; one that does not fit reserves nothing; of two groups that fit alone but not together exactly one wins (issue 9). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "t_res.h"

#define MB (1ULL << 20)
#define PAGES 12		/* unclaimed 2M pages for the test */

static const char *manifest;	/* t_manifest's file */

/* The member's file: its size, and the pages in it (st_blocks). */
static void member(const char *block, uint64_t size, uint64_t populated)
{
	char *out = NULL, *err = NULL;
	struct stat st;

	T_EQ(t_poolctl(&out, &err, "path", "g", "--block", block, NULL), 0);
	out[strcspn(out, "\n")] = '\0';
	if (stat(out, &st))
		T_FAIL("%s: %s", out, strerror(errno));
	T_EQ(st.st_size, size);
	T_EQ((uint64_t)st.st_blocks * 512, populated);
	free(out);
	free(err);
}

static void group(void)
{
	struct t_hcount h0, h;
	char *err = NULL;
	json_object *l;

	t_hcount(2 * MB, -1, &h0);
	manifest = t_manifest("{\"blocks\": ["
		       "{\"id\": \"pc.ram\", \"size\": \"8M\", \"page_size\": "
		       "\"2M\", \"node\": 0},"
		       "{\"id\": \"0000:00:03.0/mem0\", \"size\": \"8M\","
		       " \"page_size\": \"2M\", \"sparse\": {\"block_size\":"
		       " \"2M\", \"plugged\": \"4M\"}},"
		       "{\"id\": \"/rom@etc/acpi/tables\", \"size\": \"128K\"}"
		       "]}");
	T_EQ(t_poolctl(NULL, &err, "check", "--reserve", "g", "--prealloc",
		       manifest, NULL), 0);
	if (!strstr(err, "reserved as group g (3 members)"))
		T_FAIL("stderr: '%s'", err);
	free(err);
	/* 12 pages of 2M taken and populated: 4 + 2 (the plugged part) */
	t_hcount(2 * MB, -1, &h);
	T_EQ(h.free, h0.free - 6);
	T_EQ(h.total, h0.total);
	member("pc.ram", 8 * MB, 8 * MB);
	member("0000:00:03.0/mem0", 4 * MB, 4 * MB);
	member("/rom@etc/acpi/tables", 128 * 1024, 128 * 1024);
	l = t_res_list();
	T_EQ(json_object_array_length(t_res_rows(l)), 3);
	T_ASSERT(t_res_row(l, "g:1") != NULL);
	if (strcmp(t_jget_str(t_res_row(l, "g:1"), "block"),
		   "0000:00:03.0/mem0"))
		T_FAIL("g:1 backs %s",
		       t_jget_str(t_res_row(l, "g:1"), "block"));
	json_object_put(l);
	/* a name taken, a block the group does not have */
	T_EQ(t_poolctl(NULL, NULL, "check", "--reserve", "g", manifest,
		       NULL), 1);
	T_EQ(t_poolctl(NULL, NULL, "path", "g", "--block", "nope", NULL), 2);
	t_poolctl_ok(0, "release", "g", NULL);
	t_hcount(2 * MB, -1, &h);
	T_HCOUNT_EQ(h, h0);
	l = t_res_list();
	T_EQ(json_object_array_length(t_res_rows(l)), 0);
	json_object_put(l);
}

/* More than the pool has: exit 1, the table, nothing reserved. */
static void no_fit(void)
{
	char *out = NULL, *err = NULL;
	struct t_hcount h0, h;
	json_object *l;

	t_hcount(2 * MB, -1, &h0);
	manifest = t_manifest("{\"blocks\": [{\"id\": \"a\", \"size\": \"16M\","
		       " \"page_size\": \"2M\"}, {\"id\": \"b\", \"size\":"
		       " \"16M\", \"page_size\": \"2M\"}]}");
	T_EQ(t_poolctl(&out, &err, "check", "--reserve", "big", manifest,
		       NULL), 1);
	if (!strstr(out, "SHORT") || !strstr(err, "does not fit"))
		T_FAIL("stdout '%s', stderr '%s'", out, err);
	l = t_res_list();
	T_EQ(json_object_array_length(t_res_rows(l)), 0);
	json_object_put(l);
	t_hcount(2 * MB, -1, &h);
	T_HCOUNT_EQ(h, h0);
	free(out);
	free(err);
}

/*
 * Two groups of 8 pages each against 12 free: each fits alone, not
 * together. Started at once, exactly one is granted.
 */
static void race(void)
{
	pid_t pid[2];
	int st, won = 0, lost = 0;
	char *argv0[2] = { "r0", "r1" };

	manifest = t_manifest("{\"blocks\": [{\"id\": \"a\", \"size\": \"8M\","
		       " \"page_size\": \"2M\"}, {\"id\": \"b\", \"size\":"
		       " \"8M\", \"page_size\": \"2M\"}]}");
	for (int i = 0; i < 2; i++) {
		fflush(NULL);
		pid[i] = fork();
		T_ASSERT(pid[i] >= 0);
		if (!pid[i])
			_exit(t_poolctl(NULL, NULL, "check", "--reserve",
					argv0[i], manifest, NULL));
	}
	for (int i = 0; i < 2; i++) {
		T_EQ(waitpid(pid[i], &st, 0), pid[i]);
		T_ASSERT(WIFEXITED(st));
		won += WEXITSTATUS(st) == 0;
		lost += WEXITSTATUS(st) == 1;
	}
	T_EQ(won, 1);
	T_EQ(lost, 1);
	/* whoever won, its group is there whole; releasing one goes */
	if (t_poolctl(NULL, NULL, "release", "r0", NULL))
		t_poolctl_ok(0, "release", "r1", NULL);
	printf("race: one of two groups granted\n");
}

int main(void)
{

	t_require_hugetlb(2 * MB);
	t_res_dir();
	t_res_pool_unclaimed(2 * MB, PAGES);
	group();
	no_fit();
	race();
	t_res_audit_clean();
	printf("check_group: a group per plan, all or nothing, one winner of "
	       "two\n");
	return 0;
}
