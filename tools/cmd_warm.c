// SPDX-License-Identifier: LGPL-2.1-or-later
/* cmd_warm.c: poolctl warm, warm set and warm fill: the warm pool's targets, what it holds, and filling it. */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cmds.h"
#include "cols.h"
#include "common.h"
#include "progress.h"

enum { W_NODE, W_BACKING, W_PS, W_SLOT, W_TARGET, W_CLEAN, W_DIRTY,
       W_FILLING };
static const struct col warm_cols[] = {
	[W_NODE] = { "NODE", "node", COL_INT, 0, "the slots' node" },
	[W_BACKING] = { "BACKING", "backing", COL_STR, COL_LEFT,
			"hugetlb or shmem" },
	[W_PS] = { "PAGESIZE", "page_size", COL_BYTES, 0, "page size" },
	[W_SLOT] = { "SLOT", "slot_size", COL_BYTES, 0,
		     "bytes per slot (a reservation of exactly this size "
		     "takes one)" },
	[W_TARGET] = { "TARGET", "target", COL_COUNT, 0, "slots wanted" },
	[W_CLEAN] = { "CLEAN", "clean", COL_COUNT, 0,
		      "zeroed, ready to be claimed" },
	[W_DIRTY] = { "DIRTY", "dirty", COL_COUNT, 0,
		      "released, to be zeroed by 'warm fill'" },
	[W_FILLING] = { "FILLING", "filling", COL_COUNT, 0,
			"being populated or zeroed now" },
};

static void warm_help(void)
{
	printf("Usage: %s [global options] warm [options]\n"
	       "       %s [global options] warm set --node N --size SIZE --count N\n"
	       "                                  [--page-size SIZE] [--backing hugetlb|shmem]\n"
	       "       %s [global options] warm fill [--threads N]\n"
	       "\n"
	       "The warm pool: slots populated on their node and zeroed ahead of\n"
	       "time, held by the pool. 'reserve --prealloc' of a slot's node and\n"
	       "exact size takes a clean one at once; 'release' of such a reservation\n"
	       "while its target is short gives its pages back as a dirty slot.\n"
	       "\n"
	       "  warm          targets and slots per node and shape\n"
	       "  warm set      keep COUNT slots of SIZE on node N (0: none; idle\n"
	       "                slots beyond the count are given back at once)\n"
	       "  warm fill     zero the dirty slots and make the missing ones, at\n"
	       "                idle priority (Ctrl-C stops it; a timer may run it).\n"
	       "                Exit 1 when the host had no room for every slot\n"
	       "\n"
	       "Options:\n"
	       "      --threads N   zeroing and populating threads per slot (fill)\n"
	       "  -b, --bytes       print sizes in bytes\n"
	       "  -J, --json        print JSON (sizes always in bytes)\n"
	       "  -n, --noheadings  do not print table headings\n"
	       "  -r, --raw         columns separated by one space\n"
	       "  -h, --help        show this help and exit\n"
	       "\n"
	       "Columns (JSON keys in lower case):\n",
	       prog, prog, prog);
	table_help(warm_cols, ARRAY_SIZE(warm_cols));
}

static int warm_show(struct ctl *c, struct rampool_pool *pool,
		     const struct out_opts *o)
{
	struct table t = TABLE_INIT(warm_cols);
	struct rampool_warm *w;
	json_object *root, *a;
	int ret, status;

	ctl_clear_error(c);
	ret = rampool_warm_get(pool, &w);
	if (ret)
		return res_error(c, "warm", ret);
	for (unsigned int i = 0; !ret && i < rampool_warm_count(w); i++) {
		struct rampool_warm_info wi = { .sz = sizeof(wi) };
		int r;

		ret = rampool_warm_at(w, i, &wi);
		if (!ret && (r = table_row(&t)) < 0)
			ret = r;
		if (ret)
			break;
		table_int(&t, r, W_NODE, wi.node);
		ret = table_str(&t, r, W_BACKING,
				wi.backing == RAMPOOL_RES_SHMEM ? "shmem"
								: "hugetlb");
		table_u64(&t, r, W_PS, wi.page_size);
		table_u64(&t, r, W_SLOT, wi.slot_size);
		table_u64(&t, r, W_TARGET, wi.target);
		table_u64(&t, r, W_CLEAN, wi.clean);
		table_u64(&t, r, W_DIRTY, wi.dirty);
		table_u64(&t, r, W_FILLING, wi.filling);
	}
	rampool_warm_free(w);
	if (ret) {
		table_free(&t);
		return sys_error(c, "warm", ret, EXIT_SYSTEM);
	}
	if (o->json) {
		root = json_object_new_object();
		a = table_json(&t);
		if (!root || !a || json_object_object_add(root, "warm", a)) {
			json_object_put(root);
			table_free(&t);
			return sys_error(c, "warm", -ENOMEM, EXIT_SYSTEM);
		}
		json_print(root);
	} else if (t.nrows) {
		table_print(&t, o);
	} else if (!o->noheadings) {
		printf("no warm pool: 'warm set' gives it targets\n");
	}
	table_free(&t);
	status = finish_output();
	return status;
}

struct warm_args {
	const char *verb, *size_arg, *ps_arg;
	unsigned long node, count, threads;
	uint64_t size, page_size;
	enum rampool_res_backing backing;
	bool has_node, has_size, has_count;
	struct out_opts o;
};

static int warm_opt(int opt, const char *arg, struct warm_args *a)
{
	switch (opt) {
	case 'N':
		a->has_node = true;
		return opt_uint("--node", arg, 0, MAX_NODE, &a->node);
	case 's':
		a->has_size = true;
		a->size_arg = arg;
		return opt_size("--size", arg, false, &a->size);
	case 'C':
		a->has_count = true;
		return opt_uint("--count", arg, 0, 100000, &a->count);
	case 'p':
		a->ps_arg = arg;
		return parse_page_size(arg, &a->page_size);
	case 'B':
		return parse_backing(arg, &a->backing);
	case 'T':
		return opt_uint("--threads", arg, 1, 256, &a->threads);
	case 'b': a->o.bytes = true; return 0;
	case 'J': a->o.json = true; return 0;
	case 'n': a->o.noheadings = true; return 0;
	case 'r': a->o.raw = true; return 0;
	}
	return EXIT_USAGE;
}

/* Options fit the verb; 0 or EXIT_USAGE. */
static int warm_check(struct warm_args *a)
{
	bool set = a->verb && !strcmp(a->verb, "set");
	bool fill = a->verb && !strcmp(a->verb, "fill");

	if (a->verb && !set && !fill)
		return usage_error("warm: unknown verb '%s' (set, fill)",
				   a->verb);
	if (!set && (a->has_node || a->has_size || a->has_count ||
		     a->page_size || a->backing))
		return usage_error("warm: --node, --size, --count, "
				   "--page-size and --backing go with 'set'");
	if (!fill && a->threads)
		return usage_error("warm: --threads goes with 'fill'");
	if (set && (!a->has_node || !a->has_size || !a->has_count))
		return usage_error("warm set: --node, --size and --count are "
				   "required");
	if (a->page_size == 4096 && a->backing == RAMPOOL_RES_HUGETLB)
		return input_error("--page-size '%s': 4K pages are shmem, not "
				   "hugetlb", a->ps_arg);
	if (a->page_size == 4096)
		a->backing = RAMPOOL_RES_SHMEM;
	if (a->backing == RAMPOOL_RES_SHMEM && a->page_size &&
	    a->page_size != 4096)
		return input_error("--page-size '%s': shmem has 4K pages",
				   a->ps_arg);
	if (a->page_size && a->size % a->page_size)
		return input_error("--size '%s': not a multiple of the page "
				   "size '%s'", a->size_arg, a->ps_arg);
	return 0;
}

static int warm_set(struct ctl *c, struct rampool_pool *pool,
		    const struct warm_args *a)
{
	struct rampool_warm_target t = {
		.sz = sizeof(t), .node = (int)a->node, .backing = a->backing,
		.page_size = a->page_size, .slot_size = a->size,
		.count = (unsigned int)a->count,
	};
	int ret;

	ctl_clear_error(c);
	ret = rampool_warm_set(pool, &t);
	return ret ? res_error(c, "warm set", ret) : warm_show(c, pool, &a->o);
}

static int warm_fill(struct ctl *c, struct rampool_pool *pool,
		     const struct warm_args *a)
{
	struct rampool_warm_fill_opts o = {
		.sz = sizeof(o), .threads = (unsigned int)a->threads,
	};
	struct rampool_warm_fill_stats st = { .sz = sizeof(st) };
	struct sched_param sp = { 0 };
	struct progress pr;
	int ret;

	/* off the critical path: the threads inherit the idle class */
	if (sched_setscheduler(0, SCHED_IDLE, &sp))
		setpriority(PRIO_PROCESS, 0, 19);
	if (isatty(STDERR_FILENO) && !a->o.json) {
		progress_start(&pr);
		o.progress = progress_cb;
		o.progress_data = &pr;
	}
	catch_signals(pool);
	ctl_clear_error(c);
	ret = rampool_warm_fill(pool, &o, &st);
	if (o.progress)
		progress_end(&pr);
	release_signals();
	if (ret == -EINTR)
		ret = -ECANCELED;
	if (!a->o.json)
		printf("warm fill: %u zeroed, %u made, %u given back%s%.0u%s\n",
		       st.scrubbed, st.made, st.removed,
		       st.short_slots ? ", no room for " : "", st.short_slots,
		       st.short_slots ? (st.short_slots > 1 ? " slots"
							     : " slot") : "");
	if (a->o.json) {
		json_object *root = json_object_new_object();

		if (root) {
			json_object_object_add(root, "scrubbed",
					       json_object_new_int64(st.scrubbed));
			json_object_object_add(root, "made",
					       json_object_new_int64(st.made));
			json_object_object_add(root, "removed",
					       json_object_new_int64(st.removed));
			json_object_object_add(root, "short",
					       json_object_new_int64(st.short_slots));
			json_object_object_add(root, "bytes_scrubbed",
					       json_object_new_int64((int64_t)st.bytes_scrubbed));
			json_object_object_add(root, "bytes_made",
					       json_object_new_int64((int64_t)st.bytes_made));
			json_print(root);
		}
	}
	if (ret == -ENOSPC) {
		fprintf(stderr, "%s: warm fill: the host has no room for %u "
			"slot%s (see 'status')\n", prog, st.short_slots,
			st.short_slots == 1 ? "" : "s");
		return finish_output() ?: EXIT_REFUSED;
	}
	if (ret)
		return res_error(c, "warm fill", ret);
	return finish_output();
}

const struct option warm_options[] = {
	{ "node", required_argument, NULL, 'N' },
	{ "size", required_argument, NULL, 's' },
	{ "count", required_argument, NULL, 'C' },
	{ "page-size", required_argument, NULL, 'p' },
	{ "backing", required_argument, NULL, 'B' },
	{ "threads", required_argument, NULL, 'T' },
	{ "bytes", no_argument, NULL, 'b' },
	{ "json", no_argument, NULL, 'J' },
	{ "noheadings", no_argument, NULL, 'n' },
	{ "raw", no_argument, NULL, 'r' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 }
};

int cmd_warm(struct ctl *c, int argc, char **argv)
{
	struct warm_args a = { 0 };
	struct rampool_pool *pool;
	int opt, status;

	optind = 0;	/* 0: GNU getopt starts afresh (main parsed with "+") */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":s:bJnrh", warm_options,
				  NULL)) != -1) {
		if (opt == 'h') {
			warm_help();
			return EXIT_OK;
		}
		if (opt == ':' || opt == '?')
			return opt_error("warm", opt, argv);
		status = warm_opt(opt, optarg, &a);
		if (status)
			return status;
	}
	if (optind < argc)
		a.verb = argv[optind++];
	if (optind < argc)
		return usage_error("warm: unexpected argument '%s'",
				   argv[optind]);
	status = warm_check(&a);
	if (status)
		return status;
	if ((status = open_pool(c, &pool)))
		return status;
	if (!a.verb)
		status = warm_show(c, pool, &a.o);
	else if (!strcmp(a.verb, "set"))
		status = warm_set(c, pool, &a);
	else
		status = warm_fill(c, pool, &a);
	rampool_pool_free(pool);
	return status;
}
