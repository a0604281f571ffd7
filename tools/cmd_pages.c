// SPDX-License-Identifier: LGPL-2.1-or-later
/* cmd_pages.c: poolctl pages: the kernel's hugepage pool per node, never below what the pool holds there. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "cols.h"
#include "common.h"

#define PAGES_MAX_NODES 1024

enum { P_NODE, P_PS, P_BEFORE, P_ASKED, P_NOW, P_FLOOR, P_RESULT, P_HELD };
static const struct col pages_cols[] = {
	[P_NODE] = { "NODE", "node", COL_INT, 0, "the node" },
	[P_PS] = { "PAGESIZE", "page_size", COL_BYTES, 0, "page size" },
	[P_BEFORE] = { "BEFORE", "before", COL_COUNT, 0,
		       "the node's pages before (nr_hugepages)" },
	[P_ASKED] = { "ASKED", "asked", COL_COUNT, 0, "pages asked for" },
	[P_NOW] = { "NOW", "now", COL_COUNT, 0,
		    "pages the kernel has now (read back)" },
	[P_FLOOR] = { "FLOOR", "floor", COL_COUNT, 0,
		      "pages the pool holds there: no count goes below it" },
	[P_RESULT] = { "RESULT", "result", COL_STR, COL_LEFT,
		       "ok, short, kept, refused, unchanged; would grow or "
		       "would shrink (--dry-run)" },
	[P_HELD] = { "HELD-BY", "held_by", COL_STR, COL_LEFT,
		     "the reservations, blocks and warm slots that make the "
		     "floor, with their pages" },
};

static void pages_help(void)
{
	printf("Usage: %s [global options] pages SIZE NODE=COUNT[,NODE=COUNT...]\n"
	       "                                   [NODE=COUNT...] [--dry-run] [-J]\n"
	       "\n"
	       "Sets the kernel's pool of SIZE hugepages (2M, 1G) on each NODE to\n"
	       "COUNT pages, as 'virsh allocpages' does, and reads back what the\n"
	       "kernel gave: a short node ('asked 512 on node 1, got 498') is exit 1.\n"
	       "A count below what the pool's reservations, blocks and warm slots\n"
	       "hold on the node is refused, naming them, before any node is written\n"
	       "(exit 1). Root only, except --dry-run.\n"
	       "\n"
	       "Options:\n"
	       "      --dry-run     say what would be done, write nothing\n"
	       "  -b, --bytes       print sizes in bytes\n"
	       "  -J, --json        print JSON\n"
	       "  -n, --noheadings  do not print table headings\n"
	       "  -r, --raw         columns separated by one space\n"
	       "  -h, --help        show this help and exit\n"
	       "\n"
	       "Columns (JSON keys in lower case):\n",
	       prog);
	table_help(pages_cols, ARRAY_SIZE(pages_cols));
}

/* NODE=COUNT[,NODE=COUNT...]: each node once; 0 or EXIT_USAGE. */
static int parse_counts(const char *arg, struct rampool_hugepages_req *req,
			unsigned int max, unsigned int *nr)
{
	char *copy = strdup(arg), *save = NULL, *tok;
	unsigned int n = 0;
	int status = 0;
	char q[96];

	if (!copy)
		return input_error("out of memory");
	for (tok = strtok_r(copy, ",", &save); tok && !status;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		unsigned long node, count;

		if (!eq) {
			status = input_error("'%s': want NODE=COUNT",
					     quoted(tok, q, sizeof(q)));
			break;
		}
		*eq = '\0';
		status = opt_uint("NODE", tok, 0, MAX_NODE, &node);
		if (!status)
			status = opt_uint("COUNT", eq + 1, 0, 1ul << 40, &count);
		for (unsigned int i = 0; !status && i < n; i++)
			if (req[i].node == (int)node)
				status = input_error("node %lu given twice",
						     node);
		if (!status && n == max)
			status = input_error("more than %u nodes", max);
		if (!status)
			req[n++] = (struct rampool_hugepages_req){
				.node = (int)node, .count = count };
	}
	/* strtok_r skips empty fields: "0=1,,1=2" and "" are still wrong */
	if (!status && (!n || strstr(arg, ",,") || arg[0] == ',' ||
			arg[strlen(arg) - 1] == ','))
		status = input_error("'%s': want NODE=COUNT[,NODE=COUNT...]",
				     quoted(arg, q, sizeof(q)));
	free(copy);
	if (!status)
		*nr = n;
	return status;
}

static const char *row_result(const struct rampool_hugepages_row *r,
			      bool dry)
{
	if (r->flags & RAMPOOL_HUGEPAGES_F_REFUSED)
		return "refused";
	if (r->flags & RAMPOOL_HUGEPAGES_F_SHORT)
		return "short";
	if (r->flags & RAMPOOL_HUGEPAGES_F_KEPT)
		return "kept";
	if (r->asked == r->before)
		return "unchanged";
	if (dry)
		return r->asked > r->before ? "would grow" : "would shrink";
	return r->flags & RAMPOOL_HUGEPAGES_F_WRITTEN ? "ok" : "not written";
}

/* The rows into a table; the reasons of failed ones on stderr. */
static int pages_table(const struct rampool_hugepages *h, bool dry,
		       struct table *t)
{
	for (unsigned int i = 0; i < rampool_hugepages_count(h); i++) {
		struct rampool_hugepages_row r = { .sz = sizeof(r) };
		int ret = rampool_hugepages_row(h, i, &r), x = 0;

		if (!ret && (x = table_row(t)) < 0)
			ret = x;
		if (ret)
			return ret;
		table_int(t, x, P_NODE, r.node);
		table_u64(t, x, P_PS, r.page_size);
		table_u64(t, x, P_BEFORE, r.before);
		table_u64(t, x, P_ASKED, r.asked);
		table_u64(t, x, P_NOW, r.got);
		table_u64(t, x, P_FLOOR, r.floor);
		if (table_str(t, x, P_RESULT, row_result(&r, dry)) ||
		    table_str(t, x, P_HELD, r.held_by))
			return -ENOMEM;
		if (r.flags & RAMPOOL_HUGEPAGES_F_REFUSED && r.asked < r.floor)
			fprintf(stderr, "%s: pages: node %d: refused: %llu is "
				"below the %llu pages the pool holds there: "
				"%s\n", prog, r.node,
				(unsigned long long)r.asked,
				(unsigned long long)r.floor, r.held_by);
		if (r.flags & RAMPOOL_HUGEPAGES_F_SHORT)
			fprintf(stderr, "%s: pages: asked %llu on node %d, got "
				"%llu\n", prog, (unsigned long long)r.asked,
				r.node, (unsigned long long)r.got);
		if (r.flags & RAMPOOL_HUGEPAGES_F_KEPT)
			fprintf(stderr, "%s: pages: asked %llu on node %d, the "
				"kernel kept %llu (pages in use outside the "
				"pool)\n", prog, (unsigned long long)r.asked,
				r.node, (unsigned long long)r.got);
	}
	return 0;
}

static int pages_print(struct ctl *c, const struct table *t, bool dry,
		       const struct out_opts *o)
{
	if (o->json) {
		json_object *root = json_object_new_object();
		json_object *a = table_json(t);

		if (!root || !a ||
		    json_object_object_add(root, "dry_run",
					   json_object_new_boolean(dry)) ||
		    json_object_object_add(root, "nodes", a)) {
			json_object_put(root);
			json_object_put(a);
			return sys_error(c, "pages", -ENOMEM, EXIT_SYSTEM);
		}
		json_print(root);
	} else {
		if (dry && !o->noheadings)
			printf("dry run: nothing written\n");
		table_print(t, o);
	}
	return finish_output();
}

static int pages_error(struct ctl *c, int err)
{
	int status = EXIT_SYSTEM;

	switch (err) {
	case -EINVAL: status = EXIT_USAGE; break;
	case -EPERM: case -EACCES: case -EBUSY: case -ENOMEM:
		status = EXIT_REFUSED; break;
	}
	/* the library's line already says "pages: " */
	if (!strncmp(c->last_err, "pages: ", 7)) {
		fprintf(stderr, "%s: %s\n", prog, c->last_err);
		return status;
	}
	return sys_error(c, "pages", err, status);
}

static int pages_do(struct ctl *c, uint64_t ps,
		    const struct rampool_hugepages_req *req, unsigned int n,
		    bool dry, const struct out_opts *o)
{
	struct table t = TABLE_INIT(pages_cols);
	struct rampool_hugepages *h = NULL;
	struct rampool_pool *pool;
	int ret, status;

	if ((status = open_pool(c, &pool)))
		return status;
	ctl_clear_error(c);
	ret = rampool_hugepages_set(pool, ps, req, n,
				    dry ? RAMPOOL_HUGEPAGES_DRY_RUN : 0, &h);
	if (!h) {
		status = pages_error(c, ret);
		goto out;
	}
	if (pages_table(h, dry, &t)) {
		status = sys_error(c, "pages", -ENOMEM, EXIT_SYSTEM);
		goto out;
	}
	status = pages_print(c, &t, dry, o);
	/* refusals of the host's sum name no node: the library's line */
	if (ret == -EBUSY && c->last_err[0] &&
	    !strstr(c->last_err, "pages: node "))
		fprintf(stderr, "%s: %s\n", prog, c->last_err);
	if (ret && !status)
		status = EXIT_REFUSED;
out:
	table_free(&t);
	rampool_hugepages_free(h);
	rampool_pool_free(pool);
	return status;
}

const struct option pages_options[] = {
	{ "dry-run", no_argument, NULL, 'D' },
	{ "bytes", no_argument, NULL, 'b' },
	{ "json", no_argument, NULL, 'J' },
	{ "noheadings", no_argument, NULL, 'n' },
	{ "raw", no_argument, NULL, 'r' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 }
};

int cmd_pages(struct ctl *c, int argc, char **argv)
{
	static struct rampool_hugepages_req req[PAGES_MAX_NODES];
	struct out_opts o = { 0 };
	const char *why = NULL;
	unsigned int n = 0;
	bool dry = false;
	uint64_t ps;
	int opt, status;
	char q[96];

	optind = 0;	/* 0: GNU getopt starts afresh (main parsed with "+") */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":bJnrh", pages_options,
				  NULL)) != -1) {
		switch (opt) {
		case 'h': pages_help(); return EXIT_OK;
		case 'D': dry = true; break;
		case 'b': o.bytes = true; break;
		case 'J': o.json = true; break;
		case 'n': o.noheadings = true; break;
		case 'r': o.raw = true; break;
		default: return opt_error("pages", opt, argv);
		}
	}
	if (argc - optind < 2)
		return usage_error("pages: want SIZE and NODE=COUNT[,...]");
	if (size_parse(argv[optind], &ps, &why))
		return input_error("SIZE '%s': %s",
				   quoted(argv[optind], q, sizeof(q)), why);
	if (ps < 4096 || (ps & (ps - 1)))
		return input_error("SIZE '%s': not a page size (2M, 1G, ...)",
				   quoted(argv[optind], q, sizeof(q)));
	/* NODE=COUNT lists, one argument or several: one request */
	for (int a = optind + 1; a < argc; a++) {
		unsigned int got = 0;

		status = parse_counts(argv[a], req + n, PAGES_MAX_NODES - n,
				      &got);
		for (unsigned int i = n; !status && i < n + got; i++)
			for (unsigned int k = 0; k < n; k++)
				if (req[k].node == req[i].node)
					status = input_error("node %d given "
							     "twice",
							     req[i].node);
		if (status)
			return status;
		n += got;
	}
	return pages_do(c, ps, req, n, dry, &o);
}
