// SPDX-License-Identifier: LGPL-2.1-or-later
/* t_kid.c: child processes of the functional tests on a pipe each way, and the page thief. */
#include <errno.h>
#include <fcntl.h>
#include <linux/memfd.h>
#include <numaif.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../t_compat.h"
#include "t_kid.h"
#include "t_util.h"

struct t_kid t_kid_spawn(void (*fn)(int tell, int wait_fd, void *arg),
			 void *arg)
{
	pid_t parent = getpid();
	int up[2], down[2];
	struct t_kid k;

	if (pipe(up) || pipe(down))
		T_FAIL("pipe: %s", strerror(errno));
	fflush(NULL);
	k.pid = fork();
	if (k.pid < 0)
		T_FAIL("fork: %s", strerror(errno));
	if (k.pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(125);
		close(up[0]);
		close(down[1]);
		fn(up[1], down[0], arg);
		_exit(126);
	}
	close(up[1]);
	close(down[0]);
	k.from = up[0];
	k.to = down[1];
	return k;
}

void t_kid_go(struct t_kid *k, const char *who)
{
	char c = 'g';

	if (k->to < 0)
		return;
	if (write(k->to, &c, 1) != 1)
		T_FAIL("%s died early", who);
	close(k->to);
	k->to = -1;
}

void t_kid_reap(struct t_kid *k, const char *who)
{
	int st;

	if (k->to >= 0)
		close(k->to);
	k->to = -1;
	if (waitpid(k->pid, &st, 0) < 0)
		T_FAIL("waitpid %s: %s", who, strerror(errno));
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		T_FAIL("%s: exit status 0x%x", who, st);
	close(k->from);
	k->from = -1;
}

static sigjmp_buf bus_jmp;

static void on_bus(int sig)
{
	(void)sig;
	siglongjmp(bus_jmp, 1);
}

static int touch(volatile char *p, uint64_t ps, int n, int *err)
{
	volatile int i = 0;

	signal(SIGBUS, on_bus);
	if (sigsetjmp(bus_jmp, 1)) {
		*err = SIGBUS;
		return i;
	}
	for (; i < n; i++)
		p[(uint64_t)i * ps] = 1;
	return n;
}

int t_fault_pages(char *p, uint64_t page_size, int n, int *err,
		  int *nonzero)
{
	int ok = 0;

	*err = 0;
	if (madvise(p, (uint64_t)n * page_size, MADV_POPULATE_WRITE) == 0)
		ok = n;
	else if (errno == EINVAL)
		ok = touch(p, page_size, n, err);
	else
		*err = errno;
	for (int i = 0; nonzero && i < ok; i++)
		*nonzero += p[(uint64_t)i * page_size + 4096] != 0;
	return ok;
}

struct thief_args {
	uint64_t page_size, try_pages;
	int node, bind;
};

/* Bound: the node's pages one at a time under the task's MPOL_BIND, until
 * the node has none left. */
static uint64_t take_bound(int fd, const struct thief_args *a,
			   const unsigned long *mask)
{
	uint64_t n = 0;

	if (set_mempolicy(MPOL_BIND, mask, 1024))
		_exit(117);
	while (n < a->try_pages &&
	       !fallocate(fd, 0, (off_t)(n * a->page_size),
			  (off_t)a->page_size))
		n++;
	return n;
}

/* Else: as many pages as the kernel lets it reserve, populated (a node
 * preferred: it empties that node first). */
static uint64_t take_any(int fd, const struct thief_args *a,
			 const unsigned long *mask)
{
	void *p = MAP_FAILED;
	uint64_t n;

	for (n = a->try_pages; n > 0; n--) {
		p = mmap(NULL, n * a->page_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, fd, 0);
		if (p != MAP_FAILED)
			break;
	}
	if (n && a->node >= 0 &&
	    mbind(p, n * a->page_size, MPOL_PREFERRED, mask, 1024, 0))
		_exit(117);
	if (n && madvise(p, n * a->page_size, MADV_POPULATE_WRITE))
		_exit(115);
	return n;
}

static void thief(int tell, int wait_fd, void *arg)
{
	const struct thief_args *a = arg;
	unsigned int flag = a->page_size == (1ULL << 30) ? MFD_HUGE_1GB
							   : MFD_HUGE_2MB;
	int fd = memfd_create("thief", MFD_HUGETLB | flag);
	unsigned long mask[16] = { 0 };
	uint64_t n;
	char c;

	if (fd < 0 || ftruncate(fd, (off_t)(a->try_pages * a->page_size)) ||
	    a->node >= 1024)
		_exit(114);
	if (a->node >= 0)
		mask[a->node / 64] = 1UL << (a->node % 64);
	n = a->bind ? take_bound(fd, a, mask) : take_any(fd, a, mask);
	if (write(tell, &n, sizeof(n)) != sizeof(n))
		_exit(116);
	while (read(wait_fd, &c, 1) > 0)
		;
	_exit(0);
}

struct t_kid t_thief_start(uint64_t page_size, uint64_t try_pages, int node,
			   int bind, uint64_t *got)
{
	struct thief_args a = {
		.page_size = page_size, .try_pages = try_pages,
		.node = node, .bind = bind,
	};
	struct t_kid k = t_kid_spawn(thief, &a);

	if (read(k.from, got, sizeof(*got)) != sizeof(*got))
		T_FAIL("the thief died early");
	return k;
}

void t_thief_stop(struct t_kid *k)
{
	t_kid_reap(k, "thief");
}
