// SPDX-License-Identifier: LGPL-2.1-or-later
/* pages_live.c: poolctl pages on the real kernel: grow and read back, a dry run changes nothing, a shrink refused by a reservation names it and writes no node, allowed after release; bad input, memoryless and unknown nodes, not root. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "rampool.h"
#include "t_util.h"

#define MB2 (2ULL << 20)

static char state[256];

static uint64_t node_pages(int node, const char *what)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/"
		 "hugepages/hugepages-2048kB/%s_hugepages", node, what);
	return t_read_u64(path);
}

static bool has_memory(int node)
{
	char path[96], line[256];
	unsigned long long kb = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/meminfo",
		 node);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Node %*d MemTotal: %llu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb > 0;
}

static char *out, *err;

/* poolctl --state-dir STATE ARGS...; its exit status (out, err kept). */
__attribute__((sentinel))
static int poolctl(const char *arg, ...)
{
	char *argv[16] = { (char *)t_build_path("poolctl"), "--state-dir",
			   state };
	unsigned int n = 3;
	va_list ap;
	int status;

	va_start(ap, arg);
	for (; arg && n < 15; arg = va_arg(ap, const char *))
		argv[n++] = (char *)arg;
	va_end(ap);
	argv[n] = NULL;
	free(out);
	free(err);
	out = err = NULL;
	status = t_run(argv, &out, &err);
	if (!out || !err)
		T_FAIL("poolctl %s: output not captured", argv[3]);
	return status;
}

/* Fails unless s holds what. */
#define T_HAS(s, what)							\
	do {								\
		if (!strstr((s), (what)))				\
			T_FAIL("'%s' not in: %s", (what), (s));		\
	} while (0)

static void cleanup(void)
{
	char cmd[300];

	/* the reservation, if a failure left it (its mount goes with it) */
	if (state[0]) {
		poolctl("release", "pt1", NULL);
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state);
		if (system(cmd))
			fprintf(stderr, "cleanup: %s failed\n", cmd);
	}
}

static const char *nc(int node, uint64_t count)
{
	static char buf[4][48];
	static unsigned int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%d=%llu", node,
		 (unsigned long long)count);
	return buf[i];
}

/* Bad input and nodes that cannot hold pages: exit 2, nothing written. */
static void bad_input(int node, int memless, int nodes)
{
	uint64_t before = node_pages(node, "nr");
	char big[32];

	T_EQ(poolctl("pages", "3M", nc(node, 1), NULL), 2);
	T_HAS(err, "SIZE '3M'");
	T_EQ(poolctl("pages", "2M", "0=1,0=2", NULL), 2);
	T_HAS(err, "node 0 given twice");
	T_EQ(poolctl("pages", "2M", "zero", NULL), 2);
	T_HAS(err, "'zero': want NODE=COUNT");
	T_EQ(poolctl("pages", "2M", NULL), 2);
	snprintf(big, sizeof(big), "%d=1", nodes + 100);
	T_EQ(poolctl("pages", "2M", big, NULL), 2);
	T_HAS(err, "no node");
	if (memless >= 0) {
		T_EQ(poolctl("pages", "2M", nc(memless, 1), NULL), 2);
		T_HAS(err, "memoryless");
		/* all or nothing: the good node before it is not written */
		T_EQ(poolctl("pages", "2M", nc(node, before + 2),
			     nc(memless, 1), NULL), 2);
	} else {
		printf("pages_live: no memoryless node here (the 4-node guest "
		       "of make check-vm has one): that part skipped\n");
	}
	T_EQ(node_pages(node, "nr"), before);
}

/*
 * A reservation of 2 pages on node: a count below them is refused naming
 * it, before any node is written; exactly them is allowed; after its
 * release the node shrinks to what is in use.
 */
static void floor_refusal(int node, int other, uint64_t used)
{
	uint64_t nr = node_pages(node, "nr");
	char n[16];

	snprintf(n, sizeof(n), "%d", node);
	T_EQ(poolctl("reserve", "pt1", "--size", "4M", "--page-size", "2M",
		     "--node", n, NULL), 0);
	T_EQ(poolctl("pages", "2M", nc(node, 1), NULL), 1);
	T_HAS(err, "refused");
	T_HAS(err, "pt1 2");
	T_HAS(out, "refused");
	T_EQ(node_pages(node, "nr"), nr);
	T_EQ(poolctl("pages", "2M", nc(node, 1), "-J", NULL), 1);
	T_HAS(out, "\"held_by\": \"pt1 2\"");
	T_HAS(out, "\"floor\": 2");
	if (other >= 0) {
		uint64_t onr = node_pages(other, "nr");

		/* all or nothing: the other node would grow, it does not */
		T_EQ(poolctl("pages", "2M", nc(other, onr + 2), nc(node, 1),
			     NULL), 1);
		T_EQ(node_pages(other, "nr"), onr);
		T_EQ(node_pages(node, "nr"), nr);
	} else {
		printf("pages_live: one node with memory: the all-or-nothing "
		       "refusal of two nodes skipped\n");
	}
	/* exactly the floor, above what is in use: allowed */
	T_EQ(poolctl("pages", "2M", nc(node, 2 + used), NULL), 0);
	T_EQ(node_pages(node, "nr"), 2 + used);
	T_EQ(poolctl("release", "pt1", NULL), 0);
	T_EQ(poolctl("pages", "2M", nc(node, used), NULL), 0);
	T_EQ(node_pages(node, "nr"), used);
	T_HAS(out, "ok");
}

/*
 * Not root: refused, nothing written. A dry run is allowed, but not
 * blind: a ledger it may not read is refused too.
 */
static void not_root(int node)
{
	uint64_t nr = node_pages(node, "nr");
	char none[300];
	char *argv[] = { (char *)t_build_path("poolctl"), "--state-dir", state,
			 "pages", "2M", (char *)nc(node, nr + 2), NULL, NULL };

	free(out);
	free(err);
	out = err = NULL;
	T_EQ(t_run_as(65534, argv, &out, &err), 1);
	T_HAS(err, "only root");
	T_EQ(node_pages(node, "nr"), nr);
	argv[6] = "--dry-run";
	free(out);
	free(err);
	out = err = NULL;
	T_EQ(t_run_as(65534, argv, &out, &err), 1);
	snprintf(none, sizeof(none), "%s-none", state);
	argv[2] = none;
	free(out);
	free(err);
	out = err = NULL;
	T_EQ(t_run_as(65534, argv, &out, &err), 0);
	T_HAS(out, "would grow");
	T_EQ(node_pages(node, "nr"), nr);
}

int main(void)
{
	int nodes = t_nr_nodes(), node = 0, other = -1, memless = -1;
	uint64_t base, used;

	t_require_hugetlb(MB2);
	for (int n = 0; n < nodes; n++) {
		if (!has_memory(n))
			memless = memless < 0 ? n : memless;
		else if (n == 1)
			node = 1;
	}
	for (int n = 0; n < nodes; n++)
		if (n != node && has_memory(n) && other < 0)
			other = n;
	if (node != 1)
		printf("pages_live: no node 1 with memory here (%d node%s): "
		       "node 0 used\n", nodes, nodes == 1 ? "" : "s");
	snprintf(state, sizeof(state), "/run/rampool-t-pages-%d",
		 (int)getpid());
	/* every node's pool comes back at exit (t_util saves them all) */
	base = node_pages(node, "nr");
	t_hugepages_set_node(MB2, node, base);
	t_atcleanup(cleanup);
	used = base - node_pages(node, "free");

	/* grow, read back */
	T_EQ(poolctl("pages", "2M", nc(node, base + 4), NULL), 0);
	T_EQ(node_pages(node, "nr"), base + 4);
	T_HAS(out, "ok");

	/* a dry run changes nothing and says what it would do */
	T_EQ(poolctl("pages", "2M", nc(node, base), "--dry-run", NULL), 0);
	T_HAS(out, "dry run: nothing written");
	T_HAS(out, "would shrink");
	T_EQ(poolctl("pages", "2M", nc(node, base), "--dry-run", "-J", NULL),
	     0);
	T_HAS(out, "\"dry_run\": true");
	T_HAS(out, "\"result\": \"would shrink\"");
	T_EQ(node_pages(node, "nr"), base + 4);

	floor_refusal(node, other, used);
	bad_input(node, memless, nodes);
	not_root(node);
	printf("pages_live: node %d grown, read back, refused below pt1, "
	       "shrunk after release%s\n", node,
	       memless >= 0 ? "; memoryless node refused" : "");
	return 0;
}
