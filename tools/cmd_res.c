// SPDX-License-Identifier: LGPL-2.1-or-later
/* cmd_res.c: poolctl reserve, release, grow and path: named reservations in the ledger. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmds.h"
#include "cols.h"
#include "common.h"
#include "progress.h"

#define MAX_NODES 1024

struct reserve_args {
	const char *name;
	const char *size_arg, *extra_arg, *nodes_arg;
	uint64_t size, page_size, extra;
	enum rampool_res_backing backing;	/* 0: not given */
	struct rampool_res_node nodes[MAX_NODES];
	unsigned int nr_nodes;
	unsigned int flags;		/* RAMPOOL_RES_* */
	unsigned long threads;		/* 0: not given */
	long long owner;		/* -1: the caller */
	bool json;
};

enum { S_NODE, S_PS, S_NEED, S_GRANTABLE, S_SHORT };
static const struct col short_cols[] = {
	[S_NODE] = { "NODE", "node", COL_INT, 0, NULL },
	[S_PS] = { "PAGE-SIZE", "page_size", COL_BYTES, 0, NULL },
	[S_NEED] = { "NEED", "need", COL_BYTES, 0, NULL },
	[S_GRANTABLE] = { "GRANTABLE", "grantable", COL_BYTES, 0, NULL },
	[S_SHORT] = { "SHORT", "short", COL_BYTES, 0, NULL },
};

/* After -ENOSPC: where it did not fit, on stdout (the caller says why). */
static void print_shortfall(struct rampool_pool *pool, bool json)
{
	struct table t = TABLE_INIT(short_cols);
	struct out_opts o = { 0 };
	struct rampool_shortfall s = { .sz = sizeof(s) };
	json_object *root, *a;
	int r;

	for (unsigned int i = 0;
	     !rampool_pool_last_shortfall(pool, i, &s) && (r = table_row(&t)) >= 0;
	     i++) {
		if (s.node != RAMPOOL_NODE_ANY)
			table_int(&t, r, S_NODE, s.node);
		table_u64(&t, r, S_PS, s.page_size);
		table_u64(&t, r, S_NEED, s.need);
		table_u64(&t, r, S_GRANTABLE, s.grantable);
		table_u64(&t, r, S_SHORT, s.short_by);
	}
	if (!json) {
		table_print(&t, &o);
	} else {
		root = json_object_new_object();
		a = table_json(&t);
		if (root && a && !json_object_object_add(root, "shortfall", a))
			json_print(root);
		else
			json_object_put(root);
	}
	table_free(&t);
	fflush(stdout);
}

static int set_placement(int *placement, int which, const char *opt)
{
	if (*placement && *placement != which)
		return usage_error("reserve: --node, --nodes and --interleave "
				   "exclude each other (%s)", opt);
	*placement = which;
	return 0;
}

/* One option of reserve; 0 or an EXIT_* status. */
static int reserve_opt(int opt, const char *arg, struct reserve_args *a,
		       int *placement)
{
	unsigned long node;
	int status;

	switch (opt) {
	case 's':
		a->size_arg = arg;
		return opt_size("--size", arg, false, &a->size);
	case 'p':
		return parse_page_size(arg, &a->page_size);
	case 'N':
		if ((status = set_placement(placement, 1, "--node")) ||
		    (status = opt_uint("--node", arg, 0, MAX_NODE, &node)))
			return status;
		a->nodes[0] = (struct rampool_res_node){ .node = (int)node };
		a->nr_nodes = 1;
		return 0;
	case 'S':
		a->nodes_arg = arg;
		return set_placement(placement, 2, "--nodes") ?:
			parse_nodes("--nodes", arg, true, a->nodes,
				    MAX_NODES, &a->nr_nodes);
	case 'I':
		a->flags |= RAMPOOL_RES_INTERLEAVE;
		return set_placement(placement, 3, "--interleave") ?:
			parse_nodes("--interleave", arg, false,
				    a->nodes, MAX_NODES, &a->nr_nodes);
	case 'B':
		return parse_backing(arg, &a->backing);
	case 'P':
		a->flags |= RAMPOOL_RES_PREALLOC;
		return 0;
	case 'W':
		a->flags |= RAMPOOL_RES_WARM_ONLY;
		return 0;
	case 'T':
		return opt_uint("--threads", arg, 1, 256, &a->threads);
	case 'E':
		a->extra_arg = arg;
		return opt_size("--extra", arg, true, &a->extra);
	case 'O':
		return parse_owner(arg, &a->owner);
	case 'J':
		a->json = true;
		return 0;
	}
	return EXIT_USAGE;
}

/* What the options say together, before anything is opened. */
static int reserve_check(struct reserve_args *a)
{
	uint64_t sum = 0;
	char s1[32];

	if (a->threads && !(a->flags & RAMPOOL_RES_PREALLOC))
		return usage_error("reserve: --threads needs --prealloc");
	if ((a->flags & RAMPOOL_RES_WARM_ONLY) &&
	    !(a->flags & RAMPOOL_RES_PREALLOC))
		return usage_error("reserve: --warm-only needs --prealloc");
	if (a->page_size == 4096 && a->backing == RAMPOOL_RES_HUGETLB)
		return input_error("--page-size 4K: 4K pages are shmem, not "
				   "hugetlb");
	if (a->backing == RAMPOOL_RES_SHMEM && a->page_size &&
	    a->page_size != 4096)
		return input_error("--page-size %s: shmem has 4K pages",
				   size_str(s1, sizeof(s1), a->page_size,
					    false));
	if (a->page_size == 4096 || a->backing == RAMPOOL_RES_SHMEM) {
		a->backing = RAMPOOL_RES_SHMEM;
		a->page_size = 4096;
	}
	if (!a->nodes_arg && !a->size_arg)
		return usage_error("reserve: --size is required");
	for (unsigned int k = 0; a->nodes_arg && k < a->nr_nodes; k++) {
		if (sum + a->nodes[k].size < sum)
			return input_error("--nodes '%s': the sum overflows",
					   a->nodes_arg);
		sum += a->nodes[k].size;
	}
	if (a->nodes_arg && a->size_arg && sum != a->size)
		return input_error("--size '%s': not the sum of --nodes (%s)",
				   a->size_arg,
				   size_str(s1, sizeof(s1), sum, false));
	return 0;
}

/* Every size a multiple of the page size in force, each named if not. */
static int reserve_check_pages(const struct reserve_args *a, uint64_t ps)
{
	char s1[32], s2[32];

	if (!ps)
		return 0;	/* the library decides */
	size_str(s2, sizeof(s2), ps, false);
	if (a->size_arg && a->size % ps)
		return input_error("--size '%s': not a multiple of the page "
				   "size %s", a->size_arg, s2);
	if (a->extra_arg && a->extra % ps)
		return input_error("--extra '%s': not a multiple of the page "
				   "size %s", a->extra_arg, s2);
	for (unsigned int k = 0; a->nodes_arg && k < a->nr_nodes; k++)
		if (a->nodes[k].size % ps)
			return input_error("--nodes '%s': node %d's %s is not "
					   "a multiple of the page size %s",
					   a->nodes_arg, a->nodes[k].node,
					   size_str(s1, sizeof(s1),
						    a->nodes[k].size, false),
					   s2);
	return 0;
}

/* The kernel's default hugepage size, 0 when it cannot be read. */
static uint64_t default_page_size(struct rampool_pool *pool)
{
	struct rampool_host_info hi = { .sz = sizeof(hi) };
	struct rampool_capacity *cap;

	if (rampool_capacity_get(pool, &cap))
		return 0;
	if (rampool_capacity_host(cap, &hi))
		hi.default_page_size = 0;
	rampool_capacity_free(cap);
	return hi.default_page_size;
}

static void reserve_help(void)
{
	printf("Usage: %s [global options] reserve NAME --size SIZE [options]\n"
	       "\n"
	       "Reserve capacity under NAME, all or nothing; refused when it does\n"
	       "not fit (exit 1, the shortfall per node on standard output).\n"
	       "\n"
	       "Options:\n"
	       "  -s, --size SIZE          bytes, or with K, M, G or T (binary)\n"
	       "      --page-size SIZE     4K (shmem), 2M, 1G, ... (default: the\n"
	       "                           kernel's default hugepage size)\n"
	       "      --node N             all of it on node N\n"
	       "      --nodes N:SIZE,...   these sizes on these nodes\n"
	       "      --interleave N,...   spread evenly over these nodes\n"
	       "      --backing hugetlb|shmem\n"
	       "      --prealloc           populate every page now (Ctrl-C cancels)\n"
	       "      --threads N          populating threads (with --prealloc)\n"
	       "                           With --prealloc, one node (or none) and no\n"
	       "                           --extra, a clean warm slot of exactly this\n"
	       "                           size is taken when there is one (at once)\n"
	       "      --warm-only          only from the warm pool: refused (exit 1)\n"
	       "                           when no clean slot fits\n"
	       "      --extra SIZE         headroom to grow into without a new check\n"
	       "      --owner USER         the owner, a name or a uid (root only)\n"
	       "  -J, --json               print the reservation as 'show -J' does\n"
	       "  -h, --help               show this help and exit\n",
	       prog);
}

const struct option reserve_options[] = {
	{ "size", required_argument, NULL, 's' },
	{ "page-size", required_argument, NULL, 'p' },
	{ "node", required_argument, NULL, 'N' },
	{ "nodes", required_argument, NULL, 'S' },
	{ "interleave", required_argument, NULL, 'I' },
	{ "backing", required_argument, NULL, 'B' },
	{ "prealloc", no_argument, NULL, 'P' },
	{ "warm-only", no_argument, NULL, 'W' },
	{ "threads", required_argument, NULL, 'T' },
	{ "extra", required_argument, NULL, 'E' },
	{ "owner", required_argument, NULL, 'O' },
	{ "json", no_argument, NULL, 'J' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 }
};

static int reserve_parse(int argc, char **argv, struct reserve_args *a)
{
	int opt, placement = 0, status;

	optind = 0;	/* 0: GNU getopt starts afresh (main parsed with "+") */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":s:Jh", reserve_options,
				  NULL)) != -1) {
		if (opt == 'h') {
			reserve_help();
			return -1;
		}
		if (opt == ':' || opt == '?')
			return opt_error("reserve", opt, argv);
		status = reserve_opt(opt, optarg, a, &placement);
		if (status)
			return status;
	}
	if (optind == argc)
		return usage_error("reserve: missing reservation name");
	a->name = argv[optind++];
	if (optind < argc)
		return usage_error("reserve: unexpected argument '%s'",
				   argv[optind]);
	return check_name(a->name) ?: reserve_check(a);
}

/* The reservation came from the warm pool (RAMPOOL_RES_F_WARM). */
static bool res_is_warm(struct rampool_pool *pool, const char *name)
{
	struct rampool_reservation_info info = { .sz = sizeof(info) };
	struct rampool_res_list *l;
	bool warm = false;

	if (rampool_reservation_list(pool, name, &l))
		return false;
	if (!rampool_res_list_get(l, 0, &info))
		warm = info.flags & RAMPOOL_RES_F_WARM;
	rampool_res_list_free(l);
	return warm;
}

static int reserve_run(struct ctl *c, struct rampool_pool *pool,
		       struct reserve_args *a)
{
	struct rampool_reservation_opts o = {
		.sz = sizeof(o),
		.size = a->nodes_arg ? 0 : a->size,
		.page_size = a->page_size,
		.backing = a->backing,
		.nodes = a->nr_nodes ? a->nodes : NULL,
		.nr_nodes = a->nr_nodes,
		.flags = a->flags,
		.threads = (unsigned int)a->threads,
		.extra = a->extra,
		.owner_uid = a->owner,
	};
	struct progress pr;
	char what[128];
	int ret;

	snprintf(what, sizeof(what), "reserve %s", a->name);
	if ((a->flags & RAMPOOL_RES_PREALLOC) && isatty(STDERR_FILENO)) {
		progress_start(&pr);
		o.progress = progress_cb;
		o.progress_data = &pr;
	}
	catch_signals(pool);
	ctl_clear_error(c);
	ret = rampool_reservation_new(pool, a->name, &o);
	if (o.progress)
		progress_end(&pr);
	if (release_signals() && !ret) {
		/* the signal came after the last check: undo it here */
		ret = rampool_reservation_release(pool, a->name);
		if (ret)
			return sys_error(c, what, ret, EXIT_SYSTEM);
		ret = -ECANCELED;
	}
	if (ret == -EINTR)
		ret = -ECANCELED;
	if (ret == -ENOSPC)
		print_shortfall(pool, a->json);
	if (ret)
		return res_error(c, what, ret);
	if (a->json)
		return res_show(c, pool, a->name, &(struct out_opts){
						.json = true });
	if (isatty(STDOUT_FILENO) && res_is_warm(pool, a->name))
		printf("%s: from the warm pool\n", a->name);
	return EXIT_OK;
}

int cmd_reserve(struct ctl *c, int argc, char **argv)
{
	struct reserve_args *a = calloc(1, sizeof(*a));
	struct rampool_pool *pool;
	int status;

	if (!a)
		return sys_error(c, "reserve", -ENOMEM, EXIT_SYSTEM);
	a->owner = -1;
	status = reserve_parse(argc, argv, a);
	if (status)
		goto out;
	status = open_pool(c, &pool);
	if (status)
		goto out;
	status = reserve_check_pages(a, a->page_size ? a->page_size :
					default_page_size(pool));
	if (!status)
		status = reserve_run(c, pool, a);
	rampool_pool_free(pool);
out:
	free(a);
	return status < 0 ? EXIT_OK : status;
}

/* ---- release, grow, path ------------------------------------------------ */

/* NAME and nothing else after the options; 0, -1 (help shown) or EXIT_*. */
static int name_args(int argc, char **argv, const char *extra_opts,
		     const struct option *lo, void (*help)(void),
		     int (*opt_fn)(int opt, const char *arg, void *data),
		     void *data, const char **name)
{
	int opt, status;

	optind = 0;	/* 0: GNU getopt starts afresh (main parsed with "+") */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, extra_opts, lo, NULL)) != -1) {
		if (opt == 'h') {
			help();
			return -1;
		}
		if (opt == ':' || opt == '?' || !opt_fn)
			return opt_error(argv[0], opt, argv);
		status = opt_fn(opt, optarg, data);
		if (status)
			return status;
	}
	if (optind == argc)
		return usage_error("%s: missing reservation name", argv[0]);
	*name = argv[optind++];
	if (optind < argc)
		return usage_error("%s: unexpected argument '%s'", argv[0],
				   argv[optind]);
	return check_name(*name);
}

const struct option release_options[] = {
	{ "help", no_argument, NULL, 'h' },
	{ 0 }
};

static void release_help(void)
{
	printf("Usage: %s [global options] release NAME\n\n"
	       "Release a reservation (owner or root): its pages, file, mount\n"
	       "and ledger row go; every page is back in the kernel's free count.\n",
	       prog);
}

static void path_help(void)
{
	printf("Usage: %s [global options] path NAME [--block ID]\n\n"
	       "Print the path of the reservation's backing file, for a VMM:\n"
	       "  -object memory-backend-file,mem-path=$(%s path NAME),share=on,...\n"
	       "With --block, NAME is a group (check --reserve) and ID one of its\n"
	       "RAM blocks, as the manifest or the stream named it.\n",
	       prog, prog);
}

const struct option path_options[] = {
	{ "block", required_argument, NULL, 'B' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 }
};

static int path_opt(int opt, const char *arg, void *data)
{
	(void)opt;
	if (!arg[0] || strlen(arg) > 255)
		return input_error("path: --block '%s': a RAM block id of 1 "
				   "to 255 bytes", arg);
	*(const char **)data = arg;
	return 0;
}

static void grow_help(void)
{
	printf("Usage: %s [global options] grow NAME --by SIZE\n\n"
	       "Grow a reservation by SIZE: within its extra headroom at once,\n"
	       "beyond it only if it fits (else exit 1 and the shortfall).\n",
	       prog);
}

int cmd_release(struct ctl *c, int argc, char **argv)
{
	struct rampool_pool *pool;
	const char *name = NULL;
	char what[128];
	int ret, status;

	status = name_args(argc, argv, ":h", release_options, release_help,
			   NULL, NULL, &name);
	if (status)
		return status < 0 ? EXIT_OK : status;
	if ((status = open_pool(c, &pool)))
		return status;
	snprintf(what, sizeof(what), "release %s", name);
	ctl_clear_error(c);
	ret = rampool_reservation_release(pool, name);
	rampool_pool_free(pool);
	return ret ? res_error(c, what, ret) : EXIT_OK;
}

int cmd_path(struct ctl *c, int argc, char **argv)
{
	struct rampool_pool *pool;
	const char *name = NULL, *block = NULL;
	char what[128], path[PATH_MAX];
	int ret, status;

	status = name_args(argc, argv, ":h", path_options, path_help, path_opt,
			   &block, &name);
	if (status)
		return status < 0 ? EXIT_OK : status;
	if ((status = open_pool(c, &pool)))
		return status;
	snprintf(what, sizeof(what), "path %s", name);
	ctl_clear_error(c);
	ret = block ? rampool_group_path(pool, name, block, path, sizeof(path))
		    : rampool_reservation_path(pool, name, path, sizeof(path));
	rampool_pool_free(pool);
	if (ret)
		return res_error(c, what, ret);
	printf("%s\n", path);
	return finish_output();
}

struct grow_args {
	const char *by_arg;
	uint64_t by;
};

static int grow_opt(int opt, const char *arg, void *data)
{
	struct grow_args *g = data;

	g->by_arg = arg;
	return opt == 'b' ? opt_size("--by", arg, false, &g->by) : EXIT_USAGE;
}

/* --by must be whole pages of the reservation; named when it is not. */
static int grow_check(struct rampool_pool *pool, const char *name,
		      const struct grow_args *g)
{
	struct rampool_reservation_info ri = { .sz = sizeof(ri) };
	struct rampool_res_list *l;
	char ps[32];
	int status = 0;

	if (rampool_reservation_list(pool, name, &l))
		return 0;	/* the library will say why */
	if (!rampool_res_list_get(l, 0, &ri) && ri.page_size &&
	    g->by % ri.page_size)
		status = input_error("--by '%s': not a multiple of %s's page "
				     "size %s", g->by_arg, name,
				     size_str(ps, sizeof(ps), ri.page_size,
					      false));
	rampool_res_list_free(l);
	return status;
}

const struct option grow_options[] = {
	{ "by", required_argument, NULL, 'b' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 }
};

int cmd_grow(struct ctl *c, int argc, char **argv)
{
	struct grow_args g = { 0 };
	struct rampool_pool *pool;
	const char *name = NULL;
	char what[128];
	int ret, status;

	status = name_args(argc, argv, ":h", grow_options, grow_help, grow_opt, &g,
			   &name);
	if (status)
		return status < 0 ? EXIT_OK : status;
	if (!g.by_arg)
		return usage_error("grow: --by is required");
	if ((status = open_pool(c, &pool)))
		return status;
	snprintf(what, sizeof(what), "grow %s", name);
	status = grow_check(pool, name, &g);
	if (status)
		goto out;
	catch_signals(pool);
	ctl_clear_error(c);
	ret = rampool_reservation_grow(pool, name, g.by);
	/* grown before the signal came: it stays grown */
	if (release_signals() && ret == -EINTR)
		ret = -ECANCELED;
	if (ret == -ENOSPC)
		print_shortfall(pool, false);
	status = ret ? res_error(c, what, ret) : EXIT_OK;
out:
	rampool_pool_free(pool);
	return status;
}
