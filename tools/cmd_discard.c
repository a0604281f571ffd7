// SPDX-License-Identifier: LGPL-2.1-or-later
/* cmd_discard.c: poolctl discard, a reservation's pages given back with its capacity kept, and the owed-bytes warning status and show print. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "common.h"

void warn_owed(const char *what, int node, uint64_t owed)
{
	char n[32] = "", b[32];

	if (!owed)
		return;
	if (node != RAMPOOL_NODE_ANY)
		snprintf(n, sizeof(n), " on node %d", node);
	fprintf(stderr, "%s: warning: %s: %s owed%s: promised, but the kernel "
		"does not guarantee those pages\n", prog, what,
		size_str(b, sizeof(b), owed, false), n);
}

static void discard_help(void)
{
	printf("Usage: %s [global options] discard NAME [options]\n\n"
	       "Give a reservation's pages back to the kernel (a postcopy\n"
	       "destination before it listens): a hugetlb reservation keeps its\n"
	       "pages reserved (held, no longer on their node); a shmem one owes\n"
	       "the range. Owner or root.\n\n"
	       "Options:\n"
	       "      --offset SIZE   where to start (default 0), whole pages\n"
	       "      --length SIZE   how much (default: to the end), whole pages\n"
	       "      --release       let the kernel have the reservation too\n"
	       "                      (refused for hugetlb: its mount keeps it)\n"
	       "  -h, --help          show this help and exit\n",
	       prog);
}

struct discard_args {
	const char *name, *off_arg, *len_arg;
	uint64_t off, len;
	unsigned int flags;
};

const struct option discard_options[] = {
	{ "offset", required_argument, NULL, 'o' },
	{ "length", required_argument, NULL, 'l' },
	{ "release", no_argument, NULL, 'R' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 }
};

static int discard_parse(int argc, char **argv, struct discard_args *a)
{
	int opt, status = 0;

	optind = 0;	/* 0: GNU getopt starts afresh (main parsed with "+") */
	opterr = 0;
	while (!status && (opt = getopt_long(argc, argv, ":h", discard_options,
						   NULL)) != -1) {
		switch (opt) {
		case 'o':
			a->off_arg = optarg;
			status = opt_size("--offset", optarg, true, &a->off);
			break;
		case 'l':
			a->len_arg = optarg;
			status = opt_size("--length", optarg, false, &a->len);
			break;
		case 'R': a->flags |= RAMPOOL_DISCARD_RELEASE; break;
		case 'h': discard_help(); return -1;
		default: return opt_error(argv[0], opt, argv);
		}
	}
	if (status)
		return status;
	if (optind == argc)
		return usage_error("discard: missing reservation name");
	a->name = argv[optind++];
	if (optind < argc)
		return usage_error("discard: unexpected argument '%s'",
				   argv[optind]);
	return check_name(a->name);
}

/* The range against the reservation's pages, each value named. */
static int discard_check(struct rampool_pool *pool, struct discard_args *a)
{
	struct rampool_reservation_info ri = { .sz = sizeof(ri) };
	struct rampool_res_list *l;
	uint64_t end;
	char ps[32], sz[32];
	int status = 0;

	if (rampool_reservation_list(pool, a->name, &l))
		return 0;	/* the library will say why */
	if (rampool_res_list_get(l, 0, &ri) || !ri.page_size)
		goto out;
	end = ri.size + ri.extra;
	size_str(ps, sizeof(ps), ri.page_size, false);
	size_str(sz, sizeof(sz), end, false);
	if (a->off % ri.page_size)
		status = input_error("--offset '%s': not a multiple of %s's "
				     "page size %s", a->off_arg, a->name, ps);
	else if (a->len % ri.page_size)
		status = input_error("--length '%s': not a multiple of %s's "
				     "page size %s", a->len_arg, a->name, ps);
	else if (a->off >= end)
		status = input_error("--offset '%s': at or past the end of %s "
				     "(%s)", a->off_arg, a->name, sz);
	else if (a->len > end - a->off)
		status = input_error("--length '%s': past the end of %s (%s "
				     "from offset %s)", a->len_arg, a->name,
				     sz, a->off_arg ? a->off_arg : "0");
out:
	rampool_res_list_free(l);
	return status;
}

/* The warning line when the reservation now owes bytes. */
static void discard_owed(struct rampool_pool *pool, const char *name)
{
	struct rampool_reservation_node_info ni = { .sz = sizeof(ni) };
	struct rampool_res_list *l;

	if (rampool_reservation_list(pool, name, &l))
		return;
	for (unsigned int k = 0; !rampool_res_list_node(l, 0, k, &ni); k++)
		warn_owed(name, ni.node, ni.owed);
	rampool_res_list_free(l);
}

int cmd_discard(struct ctl *c, int argc, char **argv)
{
	struct discard_args a = { 0 };
	struct rampool_pool *pool;
	char what[128];
	int ret, status;

	status = discard_parse(argc, argv, &a);
	if (status)
		return status < 0 ? EXIT_OK : status;
	if ((status = open_pool(c, &pool)))
		return status;
	snprintf(what, sizeof(what), "discard %s", a.name);
	status = discard_check(pool, &a);
	if (status)
		goto out;
	ctl_clear_error(c);
	ret = rampool_reservation_discard(pool, a.name, a.off, a.len, a.flags);
	if (ret == -EOPNOTSUPP) {
		fprintf(stderr, "%s: %s: refused: %s\n", prog, what,
			c->last_err[0] ? c->last_err : strerror(-ret));
		status = EXIT_REFUSED;
	} else if (ret < 0) {
		status = res_error(c, what, ret);
	} else {
		discard_owed(pool, a.name);
		status = EXIT_OK;
	}
out:
	rampool_pool_free(pool);
	return status;
}
