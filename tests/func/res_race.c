// SPDX-License-Identifier: LGPL-2.1-or-later
/* res_race.c: 16 poolctl reserve at once where 10 fit: exactly 10 granted, and the ledger's sums are the kernel's counts (issue 7). */
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rampool.h"
#include "t_res.h"

#define ROUNDS 20
#define RACERS 16
#define FIT 10
#define EACH_PAGES 2		/* --size 4M */

struct racer {
	char name[32];
	pid_t pid;
	int out[2], err[2];
	int rc;
	char *stdout_text, *stderr_text;
};

/* The rest of fd, then fd closed. */
static char *slurp_fd(int fd)
{
	char *buf = t_slurp(fd);

	close(fd);
	return buf;
}

/*
 * Forks every racer, holds them at a gate, then lets all exec at once;
 * each reserves a name of its own, or all the same one (same != NULL).
 */
static void race(struct racer *r, int round, const char *same)
{
	char prog[512];
	int gate[2];

	snprintf(prog, sizeof(prog), "%s", t_build_path("poolctl"));
	if (pipe(gate))
		T_FAIL("pipe: %s", strerror(errno));
	fflush(NULL);
	for (int i = 0; i < RACERS; i++) {
		if (same)
			snprintf(r[i].name, sizeof(r[i].name), "%s", same);
		else
			snprintf(r[i].name, sizeof(r[i].name), "race%d-%d",
				 round, i);
		if (pipe(r[i].out) || pipe(r[i].err))
			T_FAIL("pipe: %s", strerror(errno));
		r[i].pid = fork();
		if (r[i].pid < 0)
			T_FAIL("fork: %s", strerror(errno));
		if (r[i].pid == 0) {
			char c;

			close(gate[1]);
			dup2(r[i].out[1], 1);
			dup2(r[i].err[1], 2);
			/* EOF when the parent closes the gate */
			if (read(gate[0], &c, 1) < 0)
				_exit(125);
			execl(prog, prog, "--state-dir", t_res_dir(), "reserve",
			      r[i].name, "--size", "4M", (char *)NULL);
			_exit(127);
		}
		close(r[i].out[1]);
		close(r[i].err[1]);
	}
	close(gate[0]);
	close(gate[1]);
	/* outputs are a few lines: reading after the exit cannot block */
	for (int i = 0; i < RACERS; i++) {
		int st;

		if (waitpid(r[i].pid, &st, 0) < 0)
			T_FAIL("waitpid: %s", strerror(errno));
		r[i].rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		r[i].stdout_text = slurp_fd(r[i].out[0]);
		r[i].stderr_text = slurp_fd(r[i].err[0]);
	}
}

static unsigned int lines(const char *s)
{
	unsigned int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* The granted ones are exactly the ledger's rows, all ready, 4M each. */
static void check_ledger(struct racer *r)
{
	json_object *list = t_res_list(), *rows = t_res_rows(list);
	uint64_t size = 0, held = 0, owed = 0, populated = 0;

	T_EQ(json_object_array_length(rows), FIT);
	for (int i = 0; i < RACERS; i++) {
		json_object *row = t_res_row(list, r[i].name);

		if ((r[i].rc == 0) != (row != NULL))
			T_FAIL("%s exited %d but is %sin the ledger", r[i].name,
			       r[i].rc, row ? "" : "not ");
		if (!row)
			continue;
		if (strcmp(t_jget_str(row, "state"), "ready"))
			T_FAIL("%s is %s", r[i].name, t_jget_str(row, "state"));
		T_EQ(t_jget_u64(row, "page_size"), T_MB2);
		size += t_jget_u64(row, "size");
		held += t_jget_u64(row, "held");
		owed += t_jget_u64(row, "owed");
		populated += t_jget_u64(row, "populated");
	}
	T_EQ(size, FIT * EACH_PAGES * T_MB2);
	/* hugetlb: the min_size mounts make all of it held, none owed */
	T_EQ(held, FIT * EACH_PAGES * T_MB2);
	T_EQ(owed, 0);
	T_EQ(populated, 0);
	json_object_put(list);
}

/* rampool_usage_get's sums of 2M reservations (status's RESERVED, HELD). */
static void check_usage(uint64_t want)
{
	struct rampool_pool_opts po = { .sz = sizeof(po),
					.state_dir = t_res_dir() };
	struct rampool_pool_usage u = { .sz = sizeof(u) };
	uint64_t reserved = 0, held = 0, owed = 0;
	struct rampool_usage *us;
	struct rampool_pool *pool;

	T_EQ(rampool_pool_new(&po, &pool), 0);
	T_EQ(rampool_usage_get(pool, &us), 0);
	for (unsigned int i = 0; i < rampool_usage_count(us); i++) {
		T_EQ(rampool_usage_at(us, i, &u), 0);
		if (u.page_size != T_MB2)
			continue;
		reserved += u.reserved;
		held += u.held;
		owed += u.owed;
	}
	T_EQ(reserved, want);
	T_EQ(held, want);
	T_EQ(owed, 0);
	rampool_usage_free(us);
	rampool_pool_free(pool);
}

static void one_round(int round, const struct t_hcount *before)
{
	struct racer r[RACERS];
	struct t_hcount now;
	int granted = 0, refused = 0;

	race(r, round, NULL);
	for (int i = 0; i < RACERS; i++) {
		if (r[i].rc == 0) {
			granted++;
		} else if (r[i].rc == 1) {
			refused++;
			/* a shortfall table on stdout, one line on stderr */
			if (!strstr(r[i].stdout_text, "GRANTABLE") ||
			    lines(r[i].stderr_text) != 1)
				T_FAIL("refused %s: stdout '%s', stderr '%s'",
				       r[i].name, r[i].stdout_text,
				       r[i].stderr_text);
		} else {
			T_FAIL("round %d: %s exited %d: %s", round, r[i].name,
			       r[i].rc, r[i].stderr_text);
		}
	}
	if (granted != FIT || refused != RACERS - FIT)
		T_FAIL("round %d: %d granted, %d refused; want %d and %d",
		       round, granted, refused, FIT, RACERS - FIT);
	check_ledger(r);
	check_usage(FIT * EACH_PAGES * T_MB2);
	/* the kernel agrees: each mount reserved its pages, none used */
	t_hcount(T_MB2, -1, &now);
	T_EQ(now.resv, before->resv + FIT * EACH_PAGES);
	T_EQ(now.free, before->free);
	T_EQ(now.total, before->total);
	T_EQ(now.surplus, before->surplus);
	T_EQ(t_res_unclaimed(T_MB2), 0);
	T_EQ(t_res_mounts(), FIT);

	for (int i = 0; i < RACERS; i++) {
		if (r[i].rc == 0)
			t_poolctl_ok(0, "release", r[i].name, NULL);
		free(r[i].stdout_text);
		free(r[i].stderr_text);
	}
	t_hcount(T_MB2, -1, &now);
	T_HCOUNT_EQ(now, *before);
	T_EQ(t_res_mounts(), 0);
	check_usage(0);
}

/* All racers on one name: one gets it, the others are told it exists. */
static void same_name(const struct t_hcount *before)
{
	struct racer r[RACERS];
	struct t_hcount now;
	json_object *list;
	int granted = 0;

	race(r, 0, "same");
	for (int i = 0; i < RACERS; i++) {
		if (r[i].rc == 0)
			granted++;
		else if (r[i].rc != 1 || !strstr(r[i].stderr_text, "exists"))
			T_FAIL("same name: exit %d: %s", r[i].rc,
			       r[i].stderr_text);
		free(r[i].stdout_text);
		free(r[i].stderr_text);
	}
	T_EQ(granted, 1);
	list = t_res_list();
	T_EQ(json_object_array_length(t_res_rows(list)), 1);
	t_res_no_orphans(list);
	json_object_put(list);
	/* the losers left no mount and no reserved page behind */
	t_hcount(T_MB2, -1, &now);
	T_EQ(now.resv, before->resv + EACH_PAGES);
	T_EQ(t_res_mounts(), 1);
	t_poolctl_ok(0, "release", "same", NULL);
	t_hcount(T_MB2, -1, &now);
	T_HCOUNT_EQ(now, *before);
}

int main(void)
{
	struct t_hcount before;
	struct timespec t0, t1;
	json_object *list;

	t_require_hugetlb(T_MB2);
	t_res_dir();
	/* exactly FIT reservations of 4M fit, beyond all others' claims */
	t_res_pool_unclaimed(T_MB2, FIT * EACH_PAGES);
	t_hcount(T_MB2, -1, &before);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int round = 0; round < ROUNDS; round++)
		one_round(round, &before);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%d rounds of %d racers in %.1f s\n", ROUNDS, RACERS,
	       (double)(t1.tv_sec - t0.tv_sec) +
	       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);

	same_name(&before);
	list = t_res_list();
	T_EQ(json_object_array_length(t_res_rows(list)), 0);
	json_object_put(list);
	t_res_audit_clean();
	return 0;
}
