// SPDX-License-Identifier: LGPL-2.1-or-later
/* cmd_status.c: poolctl status, the kernel's memory per node and page size and the pool's share. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmds.h"
#include "cols.h"
#include "common.h"

struct status_opts {
	struct out_opts out;
	int bar;		/* -1: when stdout is a terminal */
};

enum { N_NODE, N_CPUS, N_MEM, N_FREE, N_AVAIL, N_SHMEM };
static const struct col node_cols[] = {
	[N_NODE] = { "NODE", "node", COL_INT, 0, NULL },
	[N_CPUS] = { "CPUS", "cpus", COL_STR, COL_LEFT, NULL },
	[N_MEM] = { "MEMORY", "mem_total", COL_BYTES, 0, NULL },
	[N_FREE] = { "FREE", "mem_free", COL_BYTES, 0, NULL },
	[N_AVAIL] = { "AVAIL", "mem_available", COL_BYTES, 0, NULL },
	[N_SHMEM] = { "SHMEM", "shmem", COL_BYTES, 0, NULL },
};

enum { P_NODE, P_PS, P_TOTAL, P_FREE, P_SURPLUS, P_RESERVED, P_HELD, P_OWED,
       P_UNPINNED, P_WARM, P_AVAIL };
static const struct col pool_cols[] = {
	[P_NODE] = { "NODE", "node", COL_INT, 0, NULL },
	[P_PS] = { "PAGESIZE", "page_size", COL_BYTES, 0, NULL },
	[P_TOTAL] = { "TOTAL", "total", COL_BYTES, 0, NULL },
	[P_FREE] = { "FREE", "free", COL_BYTES, 0, NULL },
	[P_SURPLUS] = { "SURPLUS", "surplus", COL_BYTES, 0, NULL },
	[P_RESERVED] = { "RESERVED", "reserved", COL_BYTES, 0, NULL },
	[P_HELD] = { "HELD", "held", COL_BYTES, 0, NULL },
	[P_OWED] = { "OWED", "owed", COL_BYTES, 0, NULL },
	[P_UNPINNED] = { "UNPINNED", "unpinned", COL_BYTES, 0, NULL },
	[P_WARM] = { "WARM", "warm", COL_BYTES, 0, NULL },
	[P_AVAIL] = { "AVAIL", "avail", COL_BYTES, 0, NULL },
};

enum { H_PS, H_TOTAL, H_FREE, H_RSVD, H_SURPLUS, H_OVERCOMMIT };
static const struct col host_cols[] = {
	[H_PS] = { "PAGESIZE", "page_size", COL_BYTES, 0, NULL },
	[H_TOTAL] = { "TOTAL", "total", COL_BYTES, 0, NULL },
	[H_FREE] = { "FREE", "free", COL_BYTES, 0, NULL },
	[H_RSVD] = { "RSVD", "resv", COL_BYTES, 0, NULL },
	[H_SURPLUS] = { "SURPLUS", "surplus", COL_BYTES, 0, NULL },
	[H_OVERCOMMIT] = { "OVERCOMMIT", "overcommit", COL_BYTES, 0, NULL },
};

enum { M_PATH, M_PS };
static const struct col mount_cols[] = {
	[M_PATH] = { "MOUNT", "path", COL_STR, COL_LEFT, NULL },
	[M_PS] = { "PAGESIZE", "page_size", COL_BYTES, 0, NULL },
};

/* The ledger's share per node and page size (JSON "usage"). */
enum { U_NODE, U_PS, U_RESERVED, U_HELD, U_OWED, U_UNPINNED, U_WARM, U_AVAIL };
static const struct col usage_cols[] = {
	[U_NODE] = { "NODE", "node", COL_INT, 0, NULL },
	[U_PS] = { "PAGESIZE", "page_size", COL_BYTES, 0, NULL },
	[U_RESERVED] = { "RESERVED", "reserved", COL_BYTES, 0, NULL },
	[U_HELD] = { "HELD", "held", COL_BYTES, 0, NULL },
	[U_OWED] = { "OWED", "owed", COL_BYTES, 0, NULL },
	[U_UNPINNED] = { "UNPINNED", "unpinned", COL_BYTES, 0, NULL },
	[U_WARM] = { "WARM", "warm", COL_BYTES, 0, NULL },
	[U_AVAIL] = { "AVAIL", "avail", COL_BYTES, 0, NULL },
};

/*
 * The ledger describes this host: a recorded tree (--sysroot) gets none and
 * its pool columns show "-". A ledger this user may not read is said once
 * on stderr and shown the same way; status needs no privileges.
 */
static int status_usage(struct ctl *c, struct rampool_pool *pool,
			struct rampool_usage **u)
{
	int ret;

	*u = NULL;
	if (strcmp(rampool_pool_sysroot(pool), "/"))
		return EXIT_OK;
	ctl_clear_error(c);
	ret = rampool_usage_get(pool, u);
	if (ret == -EACCES) {
		fprintf(stderr, "%s: status: this user may not read the "
			"ledger; the pool's columns show -\n", prog);
		return EXIT_OK;
	}
	if (ret)
		return sys_error(c, "cannot read the ledger", ret, EXIT_SYSTEM);
	return EXIT_OK;
}

/* The row of node and page_size in the pool table, a new one if none. */
static int pool_row(struct table *t, int node, uint64_t ps)
{
	int r;

	for (r = 0; r < (int)t->nrows; r++) {
		const struct cell *n = table_cell(t, r, P_NODE);

		if (table_cell(t, r, P_PS)->u == ps &&
		    (n->set ? n->i == node : node == RAMPOOL_NODE_ANY))
			return r;
	}
	/* shmem (4K) and reservations not yet on a node: no kernel figures */
	if ((r = table_row(t)) < 0)
		return r;
	if (node != RAMPOOL_NODE_ANY)
		table_int(t, r, P_NODE, node);
	table_u64(t, r, P_PS, ps);
	return r;
}

/* RESERVED, HELD, OWED and AVAIL of the pool table from the ledger. */
static int status_fill(struct table *t, const struct rampool_usage *u)
{
	for (int r = 0; r < (int)t->nrows; r++) {
		/* the ledger exists: what it does not list is zero */
		table_u64(t, r, P_RESERVED, 0);
		table_u64(t, r, P_HELD, 0);
		table_u64(t, r, P_OWED, 0);
		table_u64(t, r, P_UNPINNED, 0);
		table_u64(t, r, P_WARM, 0);
	}
	for (unsigned int i = 0; i < rampool_usage_count(u); i++) {
		struct rampool_pool_usage pu = { .sz = sizeof(pu) };
		int r, ret = rampool_usage_at(u, i, &pu);

		if (ret)
			return ret;
		if ((r = pool_row(t, pu.node, pu.page_size)) < 0)
			return r;
		table_u64(t, r, P_RESERVED, pu.reserved);
		table_u64(t, r, P_HELD, pu.held);
		table_u64(t, r, P_OWED, pu.owed);
		table_u64(t, r, P_UNPINNED, pu.unpinned);
		table_u64(t, r, P_WARM, pu.warm);
		table_u64(t, r, P_AVAIL, pu.avail);
	}
	return 0;
}

/* The ledger's share as a JSON array. */
static json_object *usage_json(const struct rampool_usage *u)
{
	struct table t = TABLE_INIT(usage_cols);
	json_object *a = NULL;
	int ret = 0;

	for (unsigned int i = 0; !ret && i < rampool_usage_count(u); i++) {
		struct rampool_pool_usage pu = { .sz = sizeof(pu) };
		int r;

		ret = rampool_usage_at(u, i, &pu);
		if (ret || (r = table_row(&t)) < 0) {
			ret = -1;
			break;
		}
		if (pu.node != RAMPOOL_NODE_ANY)
			table_int(&t, r, U_NODE, pu.node);
		table_u64(&t, r, U_PS, pu.page_size);
		table_u64(&t, r, U_RESERVED, pu.reserved);
		table_u64(&t, r, U_HELD, pu.held);
		table_u64(&t, r, U_OWED, pu.owed);
		table_u64(&t, r, U_UNPINNED, pu.unpinned);
		table_u64(&t, r, U_WARM, pu.warm);
		table_u64(&t, r, U_AVAIL, pu.avail);
	}
	if (!ret)
		a = table_json(&t);
	table_free(&t);
	return a;
}

static void status_help(void)
{
	printf("Usage: %s [global options] status [options]\n"
	       "\n"
	       "Show the kernel's memory per NUMA node and hugepage size, and what\n"
	       "the pool holds of it.\n"
	       "\n"
	       "Options:\n"
	       "  -b, --bytes        print sizes in bytes\n"
	       "  -J, --json         print JSON (sizes always in bytes)\n"
	       "  -n, --noheadings   do not print table headings\n"
	       "  -r, --raw          columns separated by one space\n"
	       "      --bar          print a usage bar per node even when not on a terminal\n"
	       "      --no-bar       never print the bars\n"
	       "  -h, --help         show this help and exit\n",
	       prog);
}

static json_object *j_u64(uint64_t v)
{
	return json_object_new_uint64(v);
}

static void json_pool(json_object *p, const struct rampool_hugepage_info *h,
		      bool host)
{
	json_object_object_add(p, "page_size", j_u64(h->page_size));
	json_object_object_add(p, "total_pages", j_u64(h->total_pages));
	json_object_object_add(p, "free_pages", j_u64(h->free_pages));
	if (host)
		json_object_object_add(p, "resv_pages", j_u64(h->resv_pages));
	json_object_object_add(p, "surplus_pages", j_u64(h->surplus_pages));
	if (host)
		json_object_object_add(p, "overcommit_pages",
				       j_u64(h->overcommit_pages));
}

static int json_node(struct rampool_capacity *cap, unsigned int i,
		     json_object *nodes)
{
	unsigned int ns = rampool_capacity_page_size_count(cap);
	struct rampool_node_info ni = { .sz = sizeof(ni) };
	json_object *n, *pools;
	int ret = rampool_capacity_node(cap, i, &ni);

	if (ret)
		return ret;
	n = json_object_new_object();
	pools = json_object_new_array();
	json_object_object_add(n, "node", json_object_new_int(ni.node));
	json_object_object_add(n, "cpus", json_object_new_string(ni.cpulist));
	json_object_object_add(n, "has_memory",
			       json_object_new_boolean(
				       ni.flags & RAMPOOL_NODE_F_HAS_MEMORY));
	json_object_object_add(n, "mem_total", j_u64(ni.mem_total));
	json_object_object_add(n, "mem_free", j_u64(ni.mem_free));
	json_object_object_add(n, "mem_available", j_u64(ni.mem_available));
	json_object_object_add(n, "shmem", j_u64(ni.shmem));
	for (unsigned int s = 0; s < ns && !ret; s++) {
		struct rampool_hugepage_info h = { .sz = sizeof(h) };
		json_object *p;

		ret = rampool_capacity_hugepages(
			cap, ni.node, rampool_capacity_page_size(cap, s), &h);
		if (ret)
			break;
		p = json_object_new_object();
		json_pool(p, &h, false);
		json_object_array_add(pools, p);
	}
	json_object_object_add(n, "pools", pools);
	json_object_array_add(nodes, n);
	return ret;
}

static int status_mounts(struct rampool_capacity *cap, struct table *t)
{
	for (unsigned int m = 0; m < rampool_capacity_mount_count(cap); m++) {
		struct rampool_mount_info mi = { .sz = sizeof(mi) };
		int r, ret = rampool_capacity_mount(cap, m, &mi);

		if (ret)
			return ret;
		r = table_row(t);
		if (r < 0 || table_str(t, r, M_PATH, mi.path))
			return -ENOMEM;
		table_u64(t, r, M_PS, mi.page_size);
	}
	return 0;
}

/*
 * The JSON document keeps the kernel's own units (pages) and nests the
 * pools in their nodes, so only the mounts are a plain column table.
 */
/* The host-wide figures and pools into global (its "pools" array first). */
static int json_global(struct rampool_capacity *cap, json_object *global,
		       json_object *gpools)
{
	struct rampool_host_info hi = { .sz = sizeof(hi) };
	int ret = 0;

	rampool_capacity_host(cap, &hi);
	json_object_object_add(global, "mem_total", j_u64(hi.mem_total));
	json_object_object_add(global, "mem_free", j_u64(hi.mem_free));
	json_object_object_add(global, "mem_available",
			       j_u64(hi.mem_available));
	json_object_object_add(global, "shmem", j_u64(hi.shmem));
	json_object_object_add(global, "default_page_size",
			       j_u64(hi.default_page_size));
	for (unsigned int s = 0;
	     !ret && s < rampool_capacity_page_size_count(cap); s++) {
		struct rampool_hugepage_info h = { .sz = sizeof(h) };
		json_object *p;

		ret = rampool_capacity_hugepages(
			cap, RAMPOOL_NODE_ALL, rampool_capacity_page_size(cap, s),
			&h);
		if (ret)
			break;
		p = json_object_new_object();
		json_pool(p, &h, true);
		json_object_array_add(gpools, p);
	}
	return ret;
}

static int status_json(struct rampool_capacity *cap,
		       const struct rampool_usage *u)
{
	struct table mt = TABLE_INIT(mount_cols);
	json_object *root, *nodes, *global, *gpools, *ua = NULL;
	json_object *mounts = NULL;
	int ret = status_mounts(cap, &mt);

	if (!ret)
		mounts = table_json(&mt);
	table_free(&mt);
	if (u)
		ua = usage_json(u);
	root = json_object_new_object();
	nodes = json_object_new_array();
	global = json_object_new_object();
	gpools = json_object_new_array();
	if (ret || !root || !nodes || !global || !gpools || !mounts ||
	    (u && !ua)) {
		json_object_put(root);
		json_object_put(nodes);
		json_object_put(global);
		json_object_put(gpools);
		json_object_put(mounts);
		json_object_put(ua);
		return ret ? ret : -ENOMEM;
	}
	json_object_object_add(root, "nodes", nodes);
	json_object_object_add(global, "pools", gpools);
	json_object_object_add(root, "global", global);
	json_object_object_add(root, "mounts", mounts);
	if (ua)
		json_object_object_add(root, "usage", ua);
	ret = json_global(cap, global, gpools);
	for (unsigned int i = 0; i < rampool_capacity_node_count(cap) && !ret;
	     i++)
		ret = json_node(cap, i, nodes);
	if (ret) {
		json_object_put(root);
		return ret;
	}
	json_print(root);
	return 0;
}

/*
 * One bar per node: '#' memory in use outside hugetlb, 'H' hugetlb pages in
 * use, 'h' free hugetlb pages, '.' free memory.
 */
static void status_bar(struct rampool_capacity *cap,
		       const struct rampool_node_info *ni)
{
	enum { W = 40 };
	uint64_t huge = 0, hfree = 0, used, parts[4];
	const char glyph[4] = { '#', 'H', 'h', '.' };
	char bar[W + 1], a[16], b[16], c[16];
	unsigned int pos = 0;

	if (!ni->mem_total) {
		printf("node %d  (no memory)\n", ni->node);
		return;
	}
	for (unsigned int s = 0; s < rampool_capacity_page_size_count(cap);
	     s++) {
		struct rampool_hugepage_info h = { .sz = sizeof(h) };
		uint64_t ps = rampool_capacity_page_size(cap, s);

		if (rampool_capacity_hugepages(cap, ni->node, ps, &h))
			continue;
		huge += h.total_pages * ps;
		hfree += h.free_pages * ps;
	}
	/* MemFree excludes the whole hugetlb pool, free pages included */
	used = ni->mem_total - ni->mem_free;
	parts[0] = used > huge ? used - huge : 0;
	parts[1] = huge - hfree;
	parts[2] = hfree;
	parts[3] = ni->mem_free;
	for (unsigned int k = 0; k < 4; k++) {
		unsigned int n = (unsigned int)((parts[k] * W +
						 ni->mem_total / 2) /
						ni->mem_total);

		while (n-- && pos < W)
			bar[pos++] = glyph[k];
	}
	while (pos < W)
		bar[pos++] = '.';
	bar[W] = '\0';
	printf("node %d  [%s]  used %s, hugetlb %s (%s free)\n", ni->node, bar,
	       size_str(a, sizeof(a), parts[0], false),
	       size_str(b, sizeof(b), huge, false),
	       size_str(c, sizeof(c), hfree, false));
}

/* One node's row, then its rows of the pool table. */
static int status_node(struct rampool_capacity *cap, unsigned int i,
		       struct table *nodes, struct table *pools)
{
	struct rampool_node_info ni = { .sz = sizeof(ni) };
	int r, ret = rampool_capacity_node(cap, i, &ni);

	if (ret)
		return ret;
	if ((r = table_row(nodes)) < 0)
		return -ENOMEM;
	table_int(nodes, r, N_NODE, ni.node);
	if (ni.cpulist[0] && table_str(nodes, r, N_CPUS, ni.cpulist))
		return -ENOMEM;
	table_u64(nodes, r, N_MEM, ni.mem_total);
	table_u64(nodes, r, N_FREE, ni.mem_free);
	table_u64(nodes, r, N_AVAIL, ni.mem_available);
	table_u64(nodes, r, N_SHMEM, ni.shmem);
	for (unsigned int s = 0; s < rampool_capacity_page_size_count(cap);
	     s++) {
		struct rampool_hugepage_info h = { .sz = sizeof(h) };
		uint64_t ps = rampool_capacity_page_size(cap, s);

		ret = rampool_capacity_hugepages(cap, ni.node, ps, &h);
		if (ret)
			return ret;
		if ((r = table_row(pools)) < 0)
			return -ENOMEM;
		table_int(pools, r, P_NODE, ni.node);
		table_u64(pools, r, P_PS, ps);
		table_u64(pools, r, P_TOTAL, h.total_pages * ps);
		table_u64(pools, r, P_FREE, h.free_pages * ps);
		table_u64(pools, r, P_SURPLUS, h.surplus_pages * ps);
		/* RESERVED, HELD, OWED, AVAIL: filled from the ledger */
	}
	return 0;
}

static int status_host(struct rampool_capacity *cap, struct table *t)
{
	for (unsigned int s = 0; s < rampool_capacity_page_size_count(cap);
	     s++) {
		struct rampool_hugepage_info h = { .sz = sizeof(h) };
		uint64_t ps = rampool_capacity_page_size(cap, s);
		int r, ret;

		ret = rampool_capacity_hugepages(cap, RAMPOOL_NODE_ALL, ps, &h);
		if (ret)
			return ret;
		if ((r = table_row(t)) < 0)
			return -ENOMEM;
		table_u64(t, r, H_PS, ps);
		table_u64(t, r, H_TOTAL, h.total_pages * ps);
		table_u64(t, r, H_FREE, h.free_pages * ps);
		table_u64(t, r, H_RSVD, h.resv_pages * ps);
		table_u64(t, r, H_SURPLUS, h.surplus_pages * ps);
		table_u64(t, r, H_OVERCOMMIT, h.overcommit_pages * ps);
	}
	return 0;
}

static void status_print(struct rampool_capacity *cap,
			 const struct status_opts *o, struct table *t)
{
	bool bar = o->bar < 0 ? isatty(STDOUT_FILENO) : o->bar;

	if (bar) {
		for (unsigned int i = 0; i < rampool_capacity_node_count(cap);
		     i++) {
			struct rampool_node_info ni = { .sz = sizeof(ni) };

			if (!rampool_capacity_node(cap, i, &ni))
				status_bar(cap, &ni);
		}
		putchar('\n');
	}
	table_print(&t[0], &o->out);
	putchar('\n');
	table_print(&t[1], &o->out);
	putchar('\n');
	table_print(&t[2], &o->out);
	if (t[3].nrows) {
		putchar('\n');
		table_print(&t[3], &o->out);
	}
}

static int status_tables(struct rampool_capacity *cap,
			 const struct rampool_usage *u,
			 const struct status_opts *o)
{
	struct table t[4] = {
		TABLE_INIT(node_cols), TABLE_INIT(pool_cols),
		TABLE_INIT(host_cols), TABLE_INIT(mount_cols),
	};
	int ret = 0;

	for (unsigned int i = 0; i < rampool_capacity_node_count(cap) && !ret;
	     i++)
		ret = status_node(cap, i, &t[0], &t[1]);
	if (!ret && u)
		ret = status_fill(&t[1], u);
	if (!ret)
		ret = status_host(cap, &t[2]);
	if (!ret)
		ret = status_mounts(cap, &t[3]);
	if (!ret)
		status_print(cap, o, t);
	for (unsigned int k = 0; k < ARRAY_SIZE(t); k++)
		table_free(&t[k]);
	return ret;
}

const struct option status_options[] = {
	{ "bytes", no_argument, NULL, 'b' },
	{ "json", no_argument, NULL, 'J' },
	{ "noheadings", no_argument, NULL, 'n' },
	{ "raw", no_argument, NULL, 'r' },
	{ "bar", no_argument, NULL, 1 },
	{ "no-bar", no_argument, NULL, 2 },
	{ "sysroot", required_argument, NULL, 3 },
	{ "help", no_argument, NULL, 'h' },
	{ 0 }
};

int cmd_status(struct ctl *c, int argc, char **argv)
{
	struct status_opts o = { .bar = -1 };
	struct rampool_usage *u = NULL;
	struct rampool_capacity *cap;
	struct rampool_pool *pool;
	int opt, ret, status;

	optind = 0;	/* 0: GNU getopt starts afresh (main parsed with "+") */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:bJnrh", status_options,
				  NULL)) != -1) {
		switch (opt) {
		case 'b': o.out.bytes = true; break;
		case 'J': o.out.json = true; break;
		case 'n': o.out.noheadings = true; break;
		case 'r': o.out.raw = true; break;
		case 1: o.bar = 1; break;
		case 2: o.bar = 0; break;
		case 3: c->sysroot = optarg; break;
		case 'h': status_help(); return EXIT_OK;
		default: return opt_error("status", opt, argv);
		}
	}
	if (optind < argc)
		return usage_error("status: unexpected argument '%s'",
				   argv[optind]);
	status = open_pool(c, &pool);
	if (status)
		return status;
	ret = rampool_capacity_get(pool, &cap);
	if (ret) {
		rampool_pool_free(pool);
		return sys_error(c, "cannot read the kernel's memory state",
				 ret, EXIT_SYSTEM);
	}
	status = status_usage(c, pool, &u);
	if (status) {
		rampool_capacity_free(cap);
		rampool_pool_free(pool);
		return status;
	}
	ret = o.out.json ? status_json(cap, u) : status_tables(cap, u, &o);
	for (unsigned int i = 0; !ret && u && i < rampool_usage_count(u); i++) {
		struct rampool_pool_usage pu = { .sz = sizeof(pu) };
		char what[64], ps[32];

		if (rampool_usage_at(u, i, &pu) || !pu.owed)
			continue;
		snprintf(what, sizeof(what), "%s pages",
			 size_str(ps, sizeof(ps), pu.page_size, false));
		warn_owed(what, pu.node, pu.owed);
	}
	if (u)
		rampool_usage_free(u);
	rampool_capacity_free(cap);
	rampool_pool_free(pool);
	if (ret)
		return sys_error(c, "status", ret, EXIT_SYSTEM);
	return finish_output();
}
