// SPDX-License-Identifier: LGPL-2.1-or-later
/* uffd_minor_thief.c: a block strictly bound to one node (node 1 when there is one) receives a postcopy while a thief holds every free hugepage of that node: in keep-pages mode every fault is served and every page stays on the node; in discard mode (issue 6) placement fails with -ENOMEM. */
#include <errno.h>
#include <numaif.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "rampool.h"
#include "../t_compat.h"
#include "t_uffd.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define MB2 (2ULL << 20)
#define N 8			/* pages of the block */
#define SPARE 4			/* free pages the thief finds beside them */

static pid_t thief_pid = -1;
static int thief_fd = -1;

/* Takes every free 2M page of node it can get, says how many, holds them
 * until EOF on hold. */
static void thief(int node, int report, int hold)
{
	unsigned long mask = 1ul << node;
	uint64_t n = 0;
	char c;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (set_mempolicy(MPOL_BIND, &mask, sizeof(mask) * 8))
		_exit(2);
	for (;;) {
		void *p = mmap(NULL, MB2, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);

		if (p == MAP_FAILED)
			break;
		/* a populate error, unlike MAP_POPULATE's, is reported */
		if (madvise(p, MB2, MADV_POPULATE_WRITE)) {
			munmap(p, MB2);
			break;
		}
		n++;
	}
	if (write(report, &n, sizeof(n)) != sizeof(n))
		_exit(1);
	while (read(hold, &c, 1) > 0)
		;
	_exit(0);
}

static uint64_t thief_start(int node)
{
	int rep[2], hold[2];
	uint64_t n;

	T_EQ(pipe(rep), 0);
	T_EQ(pipe(hold), 0);
	thief_pid = fork();
	T_ASSERT(thief_pid >= 0);
	if (!thief_pid) {
		close(rep[0]);
		close(hold[1]);
		thief(node, rep[1], hold[0]);
	}
	close(rep[1]);
	close(hold[0]);
	thief_fd = hold[1];
	T_EQ(read(rep[0], &n, sizeof(n)), sizeof(n));
	close(rep[0]);
	return n;
}

static void thief_stop(void)
{
	int st;

	if (thief_pid <= 0)
		return;
	close(thief_fd);
	T_EQ(waitpid(thief_pid, &st, 0), thief_pid);
	T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	thief_pid = -1;
}

static void kill_thief(void)
{
	if (thief_pid > 0)
		kill(thief_pid, SIGKILL);
}

static struct rampool_block *bound(struct rampool_pool *pool, int node)
{
	struct rampool_block_opts o = {
		.sz = sizeof(o),
		.size = N * MB2,
		.backing = RAMPOOL_BACKING_MEMFD_HUGETLB,
		.nodes = &node,
		.nr_nodes = 1,
		.policy = RAMPOOL_POLICY_BIND,
		.flags = RAMPOOL_BLOCK_PREALLOC,
	};
	struct rampool_block *blk;

	T_EQ(rampool_block_new(pool, &o, &blk), 0);
	memset(rampool_block_addr(blk), 0x77, N * MB2);
	T_EQ(t_pages_on_node(rampool_block_addr(blk), N * MB2, MB2, node), N);
	return blk;
}

struct src {
	struct rampool_block *blk;
	pthread_t th;
	int ret;
};

static int fetch(void *data, uint64_t off, void *buf, uint64_t len,
		 int timeout_ms)
{
	(void)data;
	(void)timeout_ms;
	memset(buf, (int)(0xc0 + off / MB2), len);
	return 0;
}

static void *serve_fn(void *arg)
{
	struct src *s = arg;
	struct rampool_serve_opts o = { .sz = sizeof(o), .fetch = fetch,
					.timeout_ms = 5000 };

	s->ret = rampool_block_serve(s->blk, &o);
	return NULL;
}

/* The thief takes exactly what the node has free, then it has none. */
static void steal(int node, uint64_t at_least)
{
	struct t_hcount h;

	t_hcount(MB2, node, &h);
	T_ASSERT(h.free >= at_least);
	T_EQ(thief_start(node), h.free);
	t_hcount(MB2, node, &h);
	T_EQ(h.free, 0);
}

/* Keep-pages: the thief finds nothing of the block's; all is served. */
static void keep(struct rampool_pool *pool, int node)
{
	struct rampool_block *blk = bound(pool, node);
	unsigned char *a = rampool_block_addr(blk), *buf = malloc(MB2);
	struct rampool_postcopy_stats st = { .sz = sizeof(st) };
	struct t_toucher t[N];
	struct t_hcount h;
	struct src s = { .blk = blk };
	int fd;

	T_ASSERT(buf);
	T_EQ(rampool_block_prepare_postcopy(blk, RAMPOOL_POSTCOPY_KEEP_PAGES,
					    &fd), 0);
	steal(node, SPARE);
	T_EQ(pthread_create(&s.th, NULL, serve_fn, &s), 0);
	/* half pushed, half faulted in by vCPU-like threads */
	for (int i = 0; i < N; i += 2) {
		memset(buf, 0xc0 + i, MB2);
		T_EQ(rampool_block_place(blk, (uint64_t)i * MB2, buf, MB2), 0);
	}
	for (int i = 0; i < N; i++)
		t_touch_start(&t[i], a + (uint64_t)i * MB2, MB2);
	for (int i = 0; i < N; i++) {
		t_touch_join(&t[i], 10000);
		T_EQ(t[i].first, 0xc0 + i);
		T_EQ(t[i].last, 0xc0 + i);
	}
	T_EQ(pthread_join(s.th, NULL), 0);
	T_EQ(s.ret, 0);
	T_EQ(rampool_block_postcopy_stats(blk, &st), 0);
	T_EQ(st.received, N * MB2);
	T_EQ(st.placed, N * MB2);
	T_EQ(t_pages_on_node(a, N * MB2, MB2, node), N);
	t_hcount(MB2, node, &h);
	T_EQ(h.free, 0);
	T_EQ(rampool_block_postcopy_end(blk), 0);
	thief_stop();
	rampool_block_free(blk);
	free(buf);
}

/*
 * Discard mode (issue 6): the pages leave the file. One node: the kept
 * reservation is host-wide and guards them, so the reservation is
 * released (RAMPOOL_POSTCOPY_RELEASE) to let the thief in; two nodes: the
 * reservation is kept and the thief still takes the node's pages (DESIGN
 * fact 5).
 */
static void discard(struct rampool_pool *pool, struct t_log *lg, int node,
		    int nodes)
{
	struct rampool_block *blk = bound(pool, node);
	unsigned char *buf = malloc(MB2);
	unsigned int flags = nodes > 1 ? 0 : RAMPOOL_POSTCOPY_RELEASE;
	int fd;

	T_ASSERT(buf);
	memset(buf, 0x5e, MB2);
	T_EQ(rampool_block_prepare_postcopy(blk, flags, &fd), 0);
	steal(node, N + SPARE);
	t_log_reset(lg);
	T_EQ(rampool_block_place(blk, 0, buf, MB2), -ENOMEM);
	T_EQ(rampool_block_received(blk), 0);
	T_EQ(t_logged(lg, RAMPOOL_LOG_ERR, "ran dry") +
	     t_logged(lg, RAMPOOL_LOG_ERR, "no page for offset"), 1);
	printf("uffd_minor_thief: discard mode (%s) on node %d: -ENOMEM\n",
	       flags ? "reservation released" : "reservation kept", node);
	thief_stop();
	rampool_block_free(blk);
	free(buf);
}

int main(void)
{
	static struct t_log lg = T_LOG_INIT;
	struct rampool_pool *pool;
	int nodes, node;

	t_uffd_not_under_valgrind();
	t_require_hugetlb(MB2);
	nodes = t_nr_nodes();
	node = nodes > 1 ? 1 : 0;
	if (nodes > 1) {
		/* node 0 must have room for the thief's global reservation */
		t_hugepages_set_node(MB2, 0, N + SPARE + 2);
		t_hugepages_set_node(MB2, node, N + SPARE);
	} else {
		t_hugepages_ensure_free(MB2, N + SPARE);
	}
	t_atcleanup(kill_thief);
	pool = t_uffd_pool(&lg);
	t_minor_or_skip(pool, RAMPOOL_BACKING_MEMFD_HUGETLB, MB2);
	if (t_read_u64("/proc/sys/vm/nr_overcommit_hugepages"))
		t_skip("surplus pages allowed: a thief cannot drain a node");
	keep(pool, node);
	discard(pool, &lg, node, nodes);
	rampool_pool_free(pool);
	printf("uffd_minor_thief: keep-pages mode served every fault on node "
	       "%d under a thief; discard mode failed with -ENOMEM\n", node);
	return 0;
}
