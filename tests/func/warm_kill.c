// SPDX-License-Identifier: LGPL-2.1-or-later
/* warm_kill.c: a warm fill SIGKILLed at ten points of its work never leaves a clean slot with old data in it (issue 10). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "t_res.h"

#define SIZE (512ULL << 20)	/* one slot: 256 pages of 2M */
#define KILLS 10

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int last_status;

/* `poolctl warm fill --threads 1`, sent sig after delay s (< 0: let it
 * finish, exit 0 required). Returns the seconds it ran. */
static double fill_sig(double delay, int sig)
{
	double t0 = now();
	int st;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		T_FAIL("fork: %s", strerror(errno));
	if (pid == 0) {
		freopen("/dev/null", "w", stdout);
		execl(t_build_path("poolctl"), "poolctl", "--state-dir",
		      t_res_dir(), "warm", "fill", "--threads", "1",
		      (char *)NULL);
		_exit(127);
	}
	if (delay >= 0) {
		struct timespec ts = { (time_t)delay,
				       (long)((delay - (double)(time_t)delay) * 1e9) };

		nanosleep(&ts, NULL);
		kill(pid, sig);
	}
	if (waitpid(pid, &st, 0) != pid)
		T_FAIL("waitpid: %s", strerror(errno));
	last_status = st;
	if (delay < 0 && (!WIFEXITED(st) || WEXITSTATUS(st)))
		T_FAIL("warm fill: status 0x%x", st);
	return now() - t0;
}

static double fill(double delay)
{
	return fill_sig(delay, SIGKILL);
}

/* A dirty slot with the pattern in every page, as a released VM leaves it. */
static void soil(void)
{
	struct t_warm w = t_warm_counts(T_MB2, SIZE);
	char slot[8192], *path;

	if (w.clean) {
		/* claimed, written by its owner, released back dirty */
		t_poolctl_ok(0, "reserve", "vm", "--size", "512M", "--page-size",
			     "2M", "--node", "0", "--prealloc", "--warm-only",
			     NULL);
		path = t_res_path("vm");
		t_res_through(-1, path, SIZE, 0xa5);
		free(path);
		t_poolctl_ok(0, "release", "vm", NULL);
	} else {
		/* left dirty by a killed fill: the pattern again, all of it */
		t_warm_slot(false, slot, sizeof(slot));
		t_res_through(-1, slot, SIZE, 0xa5);
	}
	T_WARM(T_MB2, SIZE, 1, 0, 1);
}

int main(void)
{
	char slot[8192];
	double full;
	int interrupted = 0;

	t_require_hugetlb(T_MB2);
	t_res_dir();
	t_res_node_free(0, SIZE / T_MB2);
	t_poolctl_ok(0, "warm", "set", "--node", "0", "--size", "512M",
		     "--page-size", "2M", "--count", "1", NULL);
	fill(-1);
	T_WARM(T_MB2, SIZE, 1, 1, 0);

	/* how long a fill of one dirty slot takes here, start to end */
	/* the shortest of three: kills then land inside the work even
	 * when a busy host made one measurement long */
	for (int i = 0; i < 3; i++) {
		double t;

		soil();
		t = fill(-1);
		full = i ? (t < full ? t : full) : t;
	}
	printf("a fill of a dirty 512M slot: %.3f s\n", full);
	T_WARM(T_MB2, SIZE, 1, 1, 0);

	for (int i = 0; i < KILLS; i++) {
		struct t_warm w;
		uint64_t bad;

		soil();
		fill(full * (i + 0.5) / KILLS);
		/* the dead filler's slot counts as dirty; audit recovers it */
		w = t_warm_counts(T_MB2, SIZE);
		T_EQ(w.filling, 0);
		T_EQ(w.clean + w.dirty, 1);
		t_res_audit_clean();
		t_warm_slot(false, slot, sizeof(slot));
		bad = t_res_through(-1, slot, SIZE, -1);
		printf("kill %d at %.3f s: %s, %llu of %llu pages not zero\n",
		       i, full * (i + 0.5) / KILLS, w.clean ? "clean" : "dirty",
		       (unsigned long long)bad, SIZE / 4096);
		if (w.clean)
			T_EQ(bad, 0);	/* clean is zero in every byte */
		else
			interrupted++;
	}
	/* the kills landed in the work, not all after it */
	printf("%d of %d kills left the slot dirty\n", interrupted, KILLS);
	T_ASSERT(interrupted >= 3);

	/*
	 * Ctrl-C: the fill stops (exit 1, "cancelled") and the slot it was
	 * zeroing stays dirty, its pid cleared; or it had finished (exit 0,
	 * clean). A SIGINT before poolctl set its handler kills it: the slot
	 * is then as after a SIGKILL, and a later SIGINT is tried.
	 */
	for (int k = 1;; k++) {
		struct t_warm w;

		soil();
		fill_sig(full * k / 3, SIGINT);
		w = t_warm_counts(T_MB2, SIZE);
		T_EQ(w.filling, 0);
		T_EQ(w.clean + w.dirty, 1);
		t_res_audit_clean();
		if (!WIFEXITED(last_status)) {
			T_ASSERT(WIFSIGNALED(last_status) &&
				 WTERMSIG(last_status) == SIGINT && k < 12);
			continue;
		}
		printf("SIGINT at %.3f s: exit %d, %s\n", full * k / 3,
		       WEXITSTATUS(last_status), w.clean ? "clean" : "dirty");
		if (WEXITSTATUS(last_status) == 1)
			T_EQ(w.dirty, 1);
		else
			T_EQ(WEXITSTATUS(last_status) * 10 + w.clean, 1);
		break;
	}

	/* a fill that finishes makes it clean, and zero for a stranger */
	if (t_warm_counts(T_MB2, SIZE).dirty)
		fill(-1);
	T_WARM(T_MB2, SIZE, 1, 1, 0);
	t_poolctl_ok(0, "reserve", "last", "--size", "512M", "--page-size", "2M",
		     "--node", "0", "--prealloc", "--warm-only", "--owner",
		     "nobody", NULL);
	{
		char *path = t_res_path("last");

		T_EQ(t_res_through(65534, path, SIZE, -1), 0);
		free(path);
	}
	t_poolctl_ok(0, "warm", "set", "--node", "0", "--size", "512M",
		     "--page-size", "2M", "--count", "0", NULL);
	t_poolctl_ok(0, "release", "last", NULL);
	T_EQ(t_res_mounts(), 0);
	t_res_audit_clean();
	return 0;
}
