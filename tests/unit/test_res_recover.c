// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_res_recover.c: rows and intent files of owners that died are undone by the next writer; live ones are left; names fuzzed. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/t_resv.h"

/* ---- what a process left when it died ------------------------------------ */

static void row(const char *name, int kind, int backing, int st, int pid,
		uint64_t start)
{
	struct ledger_row r;
	struct ledger *l;

	memset(&r, 0, sizeof(r));
	snprintf(r.name, sizeof(r.name), "%s", name);
	r.kind = kind;
	r.backing = backing;
	r.page_size = backing == RAMPOOL_RES_HUGETLB ? 2 * M : 4096;
	r.size = 2 * M;
	r.state = st;
	r.pid = pid;
	r.pid_start = start;
	r.nr_nodes = 1;
	r.nodes[0].node = RAMPOOL_NODE_ANY;
	r.nodes[0].size = 2 * M;
	assert_int_equal(ledger_open(pool, LEDGER_WRITE, &l), 0);
	assert_int_equal(ledger_insert(l, &r), 0);
	ledger_close(l);
}

static void touch(const char *path)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	close(fd);
}

/* A hugetlb reservation's fake mount with its file. */
static void hugetlb_objects(const char *name)
{
	char dir[PATH_MAX + 128];

	snprintf(dir, sizeof(dir), "%s/mnt", state);
	mkdir(state, 0755);
	mkdir(dir, 0755);
	snprintf(dir, sizeof(dir), "%s/mnt/%s", state, name);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(t_rm_ops.mount("rampool", dir, "hugetlbfs", 0,
					"pagesize=2097152,min_size=2097152,"
					"size=2097152"), 0);
	snprintf(dir, sizeof(dir), "%s/mnt/%s/mem", state, name);
	touch(dir);
}

/* A shmem reservation's file in the pool's (fake) tmpfs. */
static void shmem_objects(const char *name)
{
	char path[PATH_MAX + 128];

	snprintf(path, sizeof(path), "%s/shm", state);
	mkdir(state, 0755);
	if (!mkdir(path, 0755))
		assert_int_equal(t_rm_ops.mount("rampool", path, "tmpfs", 0,
						"mode=0755"), 0);
	snprintf(path, sizeof(path), "%s/shm/%s", state, name);
	touch(path);
}

static void intent(const char *name, const char *text)
{
	char path[PATH_MAX + 128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/intent", state);
	mkdir(state, 0755);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/intent/%s", state, name);
	f = fopen(path, "we");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void intent_of(const char *name, int pid, uint64_t start)
{
	char text[64];

	snprintf(text, sizeof(text), "%d %llu\n", pid,
		 (unsigned long long)start);
	intent(name, text);
}

/* rampool_reservation_list as root (it recovers first): the names. */
static int list(char names[][RAMPOOL_NAME_MAX + 1], int *states)
{
	struct rampool_reservation_info info = { .sz = sizeof(info) };
	struct rampool_res_list *l;
	int n;

	assert_int_equal(rampool_reservation_list(pool, NULL, &l), 0);
	n = (int)rampool_res_list_count(l);
	for (int i = 0; i < n && names; i++) {
		assert_int_equal(rampool_res_list_get(l, (unsigned int)i,
						      &info), 0);
		snprintf(names[i], RAMPOOL_NAME_MAX + 1, "%s", info.name);
		states[i] = info.state;
	}
	rampool_res_list_free(l);
	return n;
}

static int nsums(void *ctx, uint64_t ps, int node, int backing,
		 uint64_t promised, uint64_t populated)
{
	(void)ps; (void)node; (void)backing; (void)promised; (void)populated;
	(*(int *)ctx)++;
	return 0;
}

static int sums(void)
{
	struct ledger *l;
	int n = 0;

	assert_int_equal(ledger_open(pool, LEDGER_READ, &l), 0);
	assert_int_equal(ledger_check_totals(l), 0);
	assert_int_equal(ledger_totals(l, nsums, &n), 0);
	ledger_close(l);
	return n;
}

/* ---- rows of owners that died ------------------------------------------ */

static void test_dead_pending_hugetlb(void **st)
{
	(void)st;
	hugetlb_objects("h");
	row("h", LEDGER_RESERVATION, RAMPOOL_RES_HUGETLB,
	    RAMPOOL_RES_STATE_PENDING, t_dead_pid(), 12345);
	assert_int_equal(sums(), 1);
	assert_int_equal(list(NULL, NULL), 0);
	assert_int_equal(t_rm.calls[T_UMOUNT], 1);
	assert_int_equal(t_rm.nr_mnt, 0);
	assert_false(t_exists("%s/mnt/h", state));
	assert_int_equal(sums(), 0);
}

static void test_dead_pending_shmem(void **st)
{
	(void)st;
	shmem_objects("s");
	row("s", LEDGER_RESERVATION, RAMPOOL_RES_SHMEM,
	    RAMPOOL_RES_STATE_PENDING, t_dead_pid(), 1);
	assert_int_equal(list(NULL, NULL), 0);
	assert_false(t_exists("%s/shm/s", state));
	/* it was the last shmem file: the tmpfs went too */
	assert_int_equal(t_rm.nr_mnt, 0);
	assert_false(t_exists("%s/shm", state));
	assert_int_equal(sums(), 0);
}

/* The pid lives, but is another process now (its start time differs). */
static void test_reused_pid(void **st)
{
	(void)st;
	hugetlb_objects("h");
	row("h", LEDGER_RESERVATION, RAMPOOL_RES_HUGETLB,
	    RAMPOOL_RES_STATE_PENDING, getpid(),
	    ledger_proc_start(getpid()) + 1);
	assert_int_equal(list(NULL, NULL), 0);
	assert_int_equal(t_rm.nr_mnt, 0);
	assert_false(t_exists("%s/mnt/h", state));
}

static void test_live_and_ready_kept(void **st)
{
	char names[4][RAMPOOL_NAME_MAX + 1];
	int states[4];

	(void)st;
	hugetlb_objects("live");
	shmem_objects("ready");
	row("live", LEDGER_RESERVATION, RAMPOOL_RES_HUGETLB,
	    RAMPOOL_RES_STATE_PENDING, getpid(), ledger_proc_start(getpid()));
	row("ready", LEDGER_RESERVATION, RAMPOOL_RES_SHMEM,
	    RAMPOOL_RES_STATE_READY, 0, 0);
	/* a VMM's block that died: its row goes (its file went with it) */
	row("block:1:0", LEDGER_BLOCK, RAMPOOL_RES_HUGETLB,
	    RAMPOOL_RES_STATE_READY, t_dead_pid(), 7);
	assert_int_equal(sums(), 2);	/* 2M hugetlb, 4K shmem */
	assert_int_equal(list(names, states), 2);
	assert_string_equal(names[0], "live");
	assert_int_equal(states[0], RAMPOOL_RES_STATE_PENDING);
	assert_string_equal(names[1], "ready");
	assert_int_equal(states[1], RAMPOOL_RES_STATE_READY);
	assert_int_equal(t_rm.calls[T_UMOUNT], 0);
	assert_int_equal(t_rm.nr_mnt, 2);
	assert_true(t_exists("%s/mnt/live/mem", state));
	assert_true(t_exists("%s/shm/ready", state));
	/* a pending reservation of a live process cannot be released */
	assert_int_equal(rampool_reservation_release(pool, "live"), -EBUSY);
	assert_int_equal(t_rm.nr_mnt, 2);
}

/* Rows removed while they are walked: none skipped. */
static void test_many_dead(void **st)
{
	char names[8][RAMPOOL_NAME_MAX + 1], name[8];
	int states[8], dead = t_dead_pid();

	(void)st;
	for (int i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		shmem_objects(name);
		if (i % 3)
			row(name, LEDGER_RESERVATION, RAMPOOL_RES_SHMEM,
			    RAMPOOL_RES_STATE_PENDING, dead, 3);
		else
			row(name, LEDGER_RESERVATION, RAMPOOL_RES_SHMEM,
			    RAMPOOL_RES_STATE_READY, 0, 0);
	}
	assert_int_equal(list(names, states), 3);
	assert_string_equal(names[0], "r0");
	assert_string_equal(names[1], "r3");
	assert_string_equal(names[2], "r6");
	for (int i = 0; i < 8; i++)
		assert_int_equal(t_exists("%s/shm/r%d", state, i), !(i % 3));
	assert_int_equal(t_rm.nr_mnt, 1);
	assert_int_equal(sums(), 1);
}

/* Still mapped by someone: the row stays until the mount can go. */
static void test_dead_busy(void **st)
{
	char names[2][RAMPOOL_NAME_MAX + 1];
	int states[2];

	(void)st;
	hugetlb_objects("h");
	row("h", LEDGER_RESERVATION, RAMPOOL_RES_HUGETLB,
	    RAMPOOL_RES_STATE_PENDING, t_dead_pid(), 1);
	t_rm_fail(T_UMOUNT, EBUSY, 0);
	assert_int_equal(list(names, states), 1);
	assert_string_equal(names[0], "h");
	assert_int_equal(t_rm.nr_mnt, 1);
	assert_true(t_exists("%s/mnt/h/mem", state));
	assert_int_equal(list(NULL, NULL), 0);
	assert_int_equal(t_rm.nr_mnt, 0);
}

/* The next reservation recovers too (any writer does). */
static void test_new_recovers(void **st)
{
	struct rampool_reservation_opts o = {
		.sz = sizeof(o), .size = M, .backing = RAMPOOL_RES_SHMEM,
		.owner_uid = -1,
	};
	bool seen;

	(void)st;
	hugetlb_objects("h");
	row("h", LEDGER_RESERVATION, RAMPOOL_RES_HUGETLB,
	    RAMPOOL_RES_STATE_PENDING, t_dead_pid(), 1);
	assert_int_equal(rampool_reservation_new(pool, "other", &o), 0);
	assert_int_equal(t_rm.calls[T_UMOUNT], 1);
	assert_false(t_exists("%s/mnt/h", state));
	seen = t_exists("%s/shm/other", state);
	assert_true(seen);
	assert_int_equal(list(NULL, NULL), 1);
}

/* ---- intent files -------------------------------------------------------- */

static void test_intent_dead(void **st)
{
	(void)st;
	hugetlb_objects("x");
	shmem_objects("x");
	shmem_objects("keep");
	row("keep", LEDGER_RESERVATION, RAMPOOL_RES_SHMEM,
	    RAMPOOL_RES_STATE_READY, 0, 0);
	intent_of("x", t_dead_pid(), 99);
	assert_int_equal(list(NULL, NULL), 1);
	assert_false(t_exists("%s/mnt/x", state));
	assert_false(t_exists("%s/shm/x", state));
	assert_false(t_exists("%s/intent/x", state));
	/* the shm tmpfs holds another's file: it stays */
	assert_int_equal(t_rm.nr_mnt, 1);
	assert_true(t_exists("%s/shm/keep", state));
}

/* Its mount still busy: the intent stays until the mount can go. */
static void test_intent_dead_busy(void **st)
{
	(void)st;
	hugetlb_objects("x");
	intent_of("x", t_dead_pid(), 99);
	t_rm_fail(T_UMOUNT, EBUSY, 0);
	assert_int_equal(list(NULL, NULL), 0);
	assert_int_equal(t_rm.nr_mnt, 1);
	assert_true(t_exists("%s/intent/x", state));
	assert_int_equal(list(NULL, NULL), 0);
	assert_int_equal(t_rm.nr_mnt, 0);
	assert_false(t_exists("%s/mnt/x", state));
	assert_false(t_exists("%s/intent/x", state));
}

/*
 * While what a dead process left of name cannot be undone yet, name
 * cannot be reserved again: its intent (the only record of the mount)
 * must not be overwritten and then removed by the new attempt.
 */
static void test_intent_busy_blocks_name(void **st)
{
	struct rampool_reservation_opts o = {
		.sz = sizeof(o), .size = M, .backing = RAMPOOL_RES_SHMEM,
		.owner_uid = -1,
	};
	char text[64], path[PATH_MAX + 64];
	int dead = t_dead_pid();
	FILE *f;

	(void)st;
	hugetlb_objects("x");
	intent_of("x", dead, 99);
	t_rm_fail(T_UMOUNT, EBUSY, 0);
	assert_int_equal(rampool_reservation_new(pool, "x", &o), -EBUSY);
	assert_int_equal(t_rm.nr_mnt, 1);
	assert_false(t_exists("%s/shm/x", state));
	snprintf(path, sizeof(path), "%s/intent/x", state);
	f = fopen(path, "re");
	assert_non_null(f);
	assert_non_null(fgets(text, sizeof(text), f));
	fclose(f);
	assert_int_equal(atoi(text), dead);	/* still the dead one's */
	/* the mount can go now: the name is free again */
	assert_int_equal(rampool_reservation_new(pool, "x", &o), 0);
	assert_int_equal(t_rm.nr_mnt, 1);	/* the shm tmpfs */
	assert_false(t_exists("%s/mnt/x", state));
	assert_false(t_exists("%s/intent/x", state));
	assert_int_equal(rampool_reservation_release(pool, "x"), 0);
	assert_int_equal(t_rm.nr_mnt, 0);
}

static void test_intent_live(void **st)
{
	(void)st;
	hugetlb_objects("x");
	intent_of("x", getpid(), ledger_proc_start(getpid()));
	assert_int_equal(list(NULL, NULL), 0);
	assert_true(t_exists("%s/intent/x", state));
	assert_true(t_exists("%s/mnt/x/mem", state));
	assert_int_equal(t_rm.nr_mnt, 1);
	assert_int_equal(t_rm.calls[T_UMOUNT], 0);
}

/* It committed its row, then died before removing its intent. */
static void test_intent_dead_with_row(void **st)
{
	(void)st;
	hugetlb_objects("x");
	row("x", LEDGER_RESERVATION, RAMPOOL_RES_HUGETLB,
	    RAMPOOL_RES_STATE_READY, 0, 0);
	intent_of("x", t_dead_pid(), 5);
	assert_int_equal(list(NULL, NULL), 1);
	assert_false(t_exists("%s/intent/x", state));
	assert_true(t_exists("%s/mnt/x/mem", state));
	assert_int_equal(t_rm.nr_mnt, 1);
}

/* Written half (its writer died inside the lock): what it names goes. */
static void test_intent_junk(void **st)
{
	(void)st;
	hugetlb_objects("x");
	intent("x", "");
	hugetlb_objects("y");
	intent("y", "12");
	assert_int_equal(list(NULL, NULL), 0);
	assert_false(t_exists("%s/intent/x", state));
	assert_false(t_exists("%s/intent/y", state));
	assert_int_equal(t_rm.nr_mnt, 0);
	/* not a reservation's name: never acted on */
	intent(".x", "1 1\n");
	assert_int_equal(list(NULL, NULL), 0);
	assert_true(t_exists("%s/intent/.x", state));
}

/* ---- names: res_name_check against a regex ----------------------------- */

static uint64_t rng = 0x2026112917u;

static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static void test_names_fuzz(void **st)
{
	static const char ok[] = "abcxyzABCXYZ0189._-:@";
	unsigned int accepted = 0, rejected = 0;
	char name[80];
	regex_t re, member;

	(void)st;
	assert_int_equal(regcomp(&re, "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
				 REG_EXTENDED | REG_NOSUB), 0);
	/* a row's name may also be a group's member, GROUP:INDEX, or a
	 * warm slot's, @NAME */
	assert_int_equal(regcomp(&member, "^(@?[A-Za-z0-9][A-Za-z0-9._-]{0,63}|"
				 "[A-Za-z0-9][A-Za-z0-9._-]{0,63}:[0-9]{1,5})$",
				 REG_EXTENDED | REG_NOSUB), 0);
	for (int iter = 0; iter < 200000; iter++) {
		unsigned int len = next() % 4 ? next() % 8 : 60 + next() % 8;
		bool want;

		for (unsigned int i = 0; i < len; i++) {
			unsigned int b = next();

			/* mostly good bytes, so both answers are common */
			name[i] = b % 8 ? ok[(b >> 3) % (sizeof(ok) - 1)]
					: (char)(1 + (b >> 3) % 255);
		}
		name[len] = 0;
		want = !regexec(&re, name, 0, NULL, 0);
		if (want != !res_user_name_check(name))
			fail_msg("seed 0x2026112917 iteration %d: '%s' (%u "
				 "bytes): regex %d", iter, name, len, want);
		if (!regexec(&member, name, 0, NULL, 0) !=
		    !res_name_check(name))
			fail_msg("iteration %d: '%s': member regex %d", iter,
				 name, !regexec(&member, name, 0, NULL, 0));
		if (want)
			accepted++;
		else
			rejected++;
	}
	regfree(&re);
	regfree(&member);
	/* both sides were exercised */
	assert_true(accepted > 20000);
	assert_true(rejected > 20000);
	assert_int_equal(res_name_check(NULL), -EINVAL);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_dead_pending_hugetlb),
		T(test_dead_pending_shmem),
		T(test_reused_pid),
		T(test_live_and_ready_kept),
		T(test_many_dead),
		T(test_dead_busy),
		T(test_new_recovers),
		T(test_intent_dead),
		T(test_intent_dead_busy),
		T(test_intent_busy_blocks_name),
		T(test_intent_live),
		T(test_intent_dead_with_row),
		T(test_intent_junk),
		cmocka_unit_test(test_names_fuzz),
	};

	if (geteuid()) {
		fprintf(stderr, "skip: test_res_recover needs root\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
