// SPDX-License-Identifier: LGPL-2.1-or-later
/* cmd_audit.c: poolctl audit, the ledger against files, mounts and the kernel's counters. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "cmds.h"
#include "cols.h"
#include "common.h"

enum { A_KIND, A_NODE, A_PS, A_BYTES, A_REPAIRED, A_WHAT, A_MESSAGE };
static const struct col audit_cols[] = {
	[A_KIND] = { "KIND", "kind", COL_STR, COL_LEFT,
		     "orphan-file, orphan-mount, missing-file, dead-owner,\n"
		     "             foreign, overgrown, unpinned-short" },
	[A_NODE] = { "NODE", "node", COL_INT, 0,
		     "foreign: the node (- host-wide)" },
	[A_PS] = { "PAGESIZE", "page_size", COL_BYTES, 0, "the page size" },
	[A_BYTES] = { "BYTES", "bytes", COL_BYTES, 0,
		      "foreign, overgrown, unpinned-short: how much" },
	[A_REPAIRED] = { "REPAIRED", "repaired", COL_BOOL, 0,
			 "fixed by --repair" },
	[A_WHAT] = { "WHAT", "what", COL_STR, COL_LEFT,
		     "the reservation, file or mount point" },
	[A_MESSAGE] = { "MESSAGE", "message", COL_STR, COL_LEFT,
			"what is wrong, in words" },
};

static const char *kind_name(enum rampool_drift_kind k)
{
	switch (k) {
	case RAMPOOL_DRIFT_ORPHAN_FILE: return "orphan-file";
	case RAMPOOL_DRIFT_ORPHAN_MOUNT: return "orphan-mount";
	case RAMPOOL_DRIFT_MISSING_FILE: return "missing-file";
	case RAMPOOL_DRIFT_DEAD_OWNER: return "dead-owner";
	case RAMPOOL_DRIFT_FOREIGN: return "foreign";
	case RAMPOOL_DRIFT_OVERGROWN: return "overgrown";
	case RAMPOOL_DRIFT_UNPINNED_SHORT: return "unpinned-short";
	}
	return "unknown";
}

/* The drift as rows; *left counts what was not repaired. */
static int audit_rows(const struct rampool_audit *a, struct table *t,
		      unsigned int *left)
{
	for (unsigned int i = 0; i < rampool_audit_count(a); i++) {
		struct rampool_drift d = { .sz = sizeof(d) };
		int r, ret = rampool_audit_get(a, i, &d);

		if (ret)
			return ret;
		if ((r = table_row(t)) < 0 ||
		    table_str(t, r, A_KIND, kind_name(d.kind)) ||
		    (d.what && table_str(t, r, A_WHAT, d.what)) ||
		    (d.message && table_str(t, r, A_MESSAGE, d.message)))
			return -ENOMEM;
		if (d.node != RAMPOOL_NODE_ANY)
			table_int(t, r, A_NODE, d.node);
		if (d.page_size)
			table_u64(t, r, A_PS, d.page_size);
		if (d.kind == RAMPOOL_DRIFT_FOREIGN ||
		    d.kind == RAMPOOL_DRIFT_OVERGROWN ||
		    d.kind == RAMPOOL_DRIFT_UNPINNED_SHORT)
			table_u64(t, r, A_BYTES, d.bytes);
		table_u64(t, r, A_REPAIRED, d.repaired != 0);
		if (!d.repaired)
			(*left)++;
	}
	return 0;
}

static int audit_print(struct ctl *c, const struct table *t,
		       const struct out_opts *o, unsigned int left)
{
	json_object *root, *a;

	if (o->json) {
		root = json_object_new_object();
		a = table_json(t);
		if (!root || !a || json_object_object_add(root, "drift", a) ||
		    json_object_object_add(root, "clean",
					   json_object_new_boolean(!left))) {
			json_object_put(root);
			return sys_error(c, "audit", -ENOMEM, EXIT_SYSTEM);
		}
		json_print(root);
	} else if (t->nrows) {
		table_print(t, o);
	} else if (!o->noheadings) {
		printf("clean: the ledger, the files, the mounts and the "
		       "kernel's counters agree\n");
	}
	return finish_output() ?: (left ? EXIT_REFUSED : EXIT_OK);
}

static void audit_help(void)
{
	printf("Usage: %s [global options] audit [options]\n"
	       "\n"
	       "Compare the ledger with the pool's files and mounts and with the\n"
	       "kernel's counters. Exit 0 clean, 1 drift found (not repaired).\n"
	       "\n"
	       "Options:\n"
	       "      --repair       remove what is provably the pool's (orphan files\n"
	       "                     and mounts, rows of dead owners); foreign memory\n"
	       "                     is only reported\n"
	       "  -b, --bytes        print sizes in bytes\n"
	       "  -J, --json         print JSON (sizes always in bytes)\n"
	       "  -n, --noheadings   do not print table headings\n"
	       "  -r, --raw          columns separated by one space\n"
	       "  -h, --help         show this help and exit\n"
	       "\n"
	       "Columns (JSON keys in lower case):\n",
	       prog);
	table_help(audit_cols, ARRAY_SIZE(audit_cols));
}

const struct option audit_options[] = {
	{ "repair", no_argument, NULL, 'R' },
	{ "bytes", no_argument, NULL, 'b' },
	{ "json", no_argument, NULL, 'J' },
	{ "noheadings", no_argument, NULL, 'n' },
	{ "raw", no_argument, NULL, 'r' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 }
};

int cmd_audit(struct ctl *c, int argc, char **argv)
{
	struct table t = TABLE_INIT(audit_cols);
	struct out_opts o = { 0 };
	struct rampool_audit *a;
	struct rampool_pool *pool;
	unsigned int flags = 0, left = 0;
	int opt, ret, status;

	optind = 0;	/* 0: GNU getopt starts afresh (main parsed with "+") */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":bJnrh", audit_options,
				  NULL)) != -1) {
		switch (opt) {
		case 'R': flags |= RAMPOOL_AUDIT_REPAIR; break;
		case 'b': o.bytes = true; break;
		case 'J': o.json = true; break;
		case 'n': o.noheadings = true; break;
		case 'r': o.raw = true; break;
		case 'h': audit_help(); return EXIT_OK;
		default: return opt_error("audit", opt, argv);
		}
	}
	if (optind < argc)
		return usage_error("audit: unexpected argument '%s'",
				   argv[optind]);
	if ((status = open_pool(c, &pool)))
		return status;
	ctl_clear_error(c);
	ret = rampool_audit_run(pool, flags, &a);
	if (ret) {
		rampool_pool_free(pool);
		if (ret == -EACCES || ret == -EPERM)
			return res_error(c, "audit", ret);
		return sys_error(c, "audit", ret, EXIT_SYSTEM);
	}
	ret = audit_rows(a, &t, &left);
	status = ret ? sys_error(c, "audit", ret, EXIT_SYSTEM)
		     : audit_print(c, &t, &o, left);
	table_free(&t);
	rampool_audit_free(a);
	rampool_pool_free(pool);
	return status;
}
