// SPDX-License-Identifier: LGPL-2.1-or-later
/* res_busy.c: release is refused while a VMM still has the reservation's file open or mapped; audit finds no drift while a reservation is being populated (issue 7). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "t_res.h"

#define SIZE (4ULL << 20)

/* Release while held as `how`: exit 1, row, file and counters unchanged. */
static void refused_while(const char *name, const char *how)
{
	json_object *a = t_res_list(), *b;
	struct t_hcount ka, kb;
	char *err = NULL;
	int rc;

	t_hcount(T_MB2, -1, &ka);
	rc = t_poolctl(NULL, &err, "release", name, NULL);
	printf("release %s while %s: exit %d: %s", name, how, rc, err);
	T_EQ(rc, 1);
	b = t_res_list();
	if (strcmp(json_object_to_json_string(a), json_object_to_json_string(b)))
		T_FAIL("release of %s while %s changed the ledger", name, how);
	t_hcount(T_MB2, -1, &kb);
	T_HCOUNT_EQ(ka, kb);
	json_object_put(a);
	json_object_put(b);
	free(err);
}

static void held_open_then_mapped(const char *name)
{
	char *path = t_res_path(name);
	int fd = open(path, O_RDWR | O_NOFOLLOW);
	void *p;

	if (fd < 0)
		T_FAIL("%s: %s", path, strerror(errno));
	refused_while(name, "open");
	p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		T_FAIL("mmap %s: %s", path, strerror(errno));
	memset(p, 1, SIZE);
	close(fd);
	refused_while(name, "mapped (fd closed)");
	munmap(p, SIZE);
	t_poolctl_ok(0, "release", name, NULL);
	T_ASSERT(access(path, F_OK) && errno == ENOENT);
	free(path);
}

static pid_t reserver;

/* A failed test must not leave the reserve populating behind it. */
static void kill_reserver(void)
{
	if (reserver > 0) {
		kill(reserver, SIGKILL);
		waitpid(reserver, NULL, 0);
		reserver = 0;
	}
}

/*
 * audit while reserve --prealloc populates 2G: the pending row explains its
 * pages at every moment, so every audit is clean.
 */
static void audit_while_populating(void)
{
	char prog[512], *out = NULL;
	int st, audits = 0, rc;
	pid_t pid;

	snprintf(prog, sizeof(prog), "%s", t_build_path("poolctl"));
	t_atcleanup(kill_reserver);
	fflush(NULL);
	reserver = pid = fork();
	if (pid < 0)
		T_FAIL("fork: %s", strerror(errno));
	if (pid == 0) {
		execl(prog, prog, "--state-dir", t_res_dir(), "reserve", "p1",
		      "--prealloc", "--size", "2G", (char *)NULL);
		_exit(127);
	}
	do {
		rc = t_poolctl(&out, NULL, "audit", NULL);
		audits++;
		if (rc)
			T_FAIL("audit %d while p1 populates: exit %d\n%s",
			       audits, rc, out);
		free(out);
	} while (waitpid(pid, &st, WNOHANG) == 0);
	reserver = 0;
	printf("%d clean audits while p1 was populated\n", audits);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	t_poolctl_ok(0, "release", "p1", NULL);
}

int main(void)
{
	struct t_hcount before, after;

	t_require_hugetlb(T_MB2);
	t_res_dir();
	t_res_pool_unclaimed(T_MB2, 1024);
	t_hcount(T_MB2, -1, &before);
	audit_while_populating();
	t_poolctl_ok(0, "reserve", "h1", "--size", "4M", NULL);
	held_open_then_mapped("h1");
	t_poolctl_ok(0, "reserve", "s1", "--size", "4M", "--page-size", "4K",
		     NULL);
	held_open_then_mapped("s1");
	t_hcount(T_MB2, -1, &after);
	T_HCOUNT_EQ(after, before);
	t_res_audit_clean();
	return 0;
}
