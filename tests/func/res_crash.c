// SPDX-License-Identifier: LGPL-2.1-or-later
/* res_crash.c: SIGKILL poolctl reserve --prealloc 1G at random moments; the next command leaves no pending row, orphan or lost page (issue 7). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "t_res.h"

#define TRIALS 20
#define PAGES 512		/* 1G of 2M pages */
#define MAX_DELAY_MS 400

static uint64_t rng;

/* xorshift64: the same seed gives the same delays on any libc */
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Starts the reserve, kills it after delay_ms; true when it was killed. */
static int reserve_and_kill(const char *name, unsigned int delay_ms,
			    int *rc)
{
	char prog[512];
	pid_t pid;
	int st, null;

	snprintf(prog, sizeof(prog), "%s", t_build_path("poolctl"));
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		T_FAIL("fork: %s", strerror(errno));
	if (pid == 0) {
		null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		execl(prog, prog, "--state-dir", t_res_dir(), "reserve", name,
		      "--prealloc", "--size", "1G", (char *)NULL);
		_exit(127);
	}
	usleep(delay_ms * 1000);
	kill(pid, SIGKILL);
	if (waitpid(pid, &st, 0) < 0)
		T_FAIL("waitpid: %s", strerror(errno));
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
		return 1;
	*rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return 0;
}

static int trial(int i, unsigned int delay_ms, const struct t_hcount *before)
{
	json_object *list, *row;
	struct t_hcount now;
	uint64_t populated = 0;
	char name[32];
	int killed, rc = -1;

	snprintf(name, sizeof(name), "crash%d", i);
	killed = reserve_and_kill(name, delay_ms, &rc);
	if (!killed && rc != 0)
		T_FAIL("trial %d: reserve exited %d before the kill", i, rc);

	/* the next command undoes what the dead process left */
	list = t_res_list();
	t_res_no_orphans(list);
	row = t_res_row(list, name);
	T_EQ(json_object_array_length(t_res_rows(list)), row ? 1 : 0);
	if (!killed && !row)
		T_FAIL("trial %d: reserve exited 0 but %s is not listed", i,
		       name);
	if (row) {
		/* ready only after its pages were populated */
		populated = t_jget_u64(row, "populated");
		T_EQ(populated, PAGES * T_MB2);
		T_EQ(t_jget_u64(row, "held"), PAGES * T_MB2);
		T_EQ(t_jget_u64(row, "size"), PAGES * T_MB2);
	}
	t_hcount(T_MB2, -1, &now);
	T_EQ(now.free, before->free - populated / T_MB2);
	T_EQ(now.resv, before->resv);
	T_EQ(now.total, before->total);
	T_EQ(now.surplus, before->surplus);
	T_EQ(t_res_mounts(), row ? 1 : 0);
	printf("trial %2d: kill after %3u ms: %s\n", i, delay_ms,
	       !killed ? "had finished (ready)" :
	       row ? "killed, was ready" : "killed, undone");
	json_object_put(list);

	if (row)
		t_poolctl_ok(0, "release", name, NULL);
	t_hcount(T_MB2, -1, &now);
	T_HCOUNT_EQ(now, *before);
	return killed && !row;
}

int main(void)
{
	const char *seed_env = getenv("RAMPOOL_TEST_SEED");
	struct t_hcount before;
	int undone = 0;

	t_require_hugetlb(T_MB2);
	t_res_dir();
	rng = seed_env ? strtoull(seed_env, NULL, 0) : 20261129;
	if (!rng)
		rng = 1;
	printf("seed %" PRIu64 " (RAMPOOL_TEST_SEED)\n", rng);
	t_res_pool_unclaimed(T_MB2, PAGES);
	t_poolctl_ok(0, "list", NULL);
	t_hcount(T_MB2, -1, &before);

	for (int i = 0; i < TRIALS; i++)
		undone += trial(i, (unsigned int)(next_rand() %
						  (MAX_DELAY_MS + 1)),
				&before);
	printf("%d of %d trials killed a reserve before it was ready\n",
	       undone, TRIALS);
	t_res_audit_clean();
	return 0;
}
