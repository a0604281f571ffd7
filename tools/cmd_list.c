// SPDX-License-Identifier: LGPL-2.1-or-later
/* cmd_list.c: poolctl list and show, the ledger's reservations as tables or JSON. */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "cols.h"
#include "common.h"

enum { R_NAME, R_OWNER, R_NODES, R_PS, R_SIZE, R_EXTRA, R_HELD, R_OWED,
       R_POPULATED, R_STATE, R_WARM, R_DECLARED, R_CREATED, R_GROUP, R_BLOCK, R_PATH };
static const struct col res_cols[] = {
	[R_NAME] = { "NAME", "name", COL_STR, COL_LEFT,
		     "the reservation's name" },
	[R_OWNER] = { "OWNER", "owner", COL_STR, COL_LEFT,
		      "the user it belongs to" },
	[R_NODES] = { "NODES", "nodes", COL_NESTED, COL_LEFT,
		      "its nodes (- any node)" },
	[R_PS] = { "PAGESIZE", "page_size", COL_BYTES, 0,
		   "page size (4K: shmem)" },
	[R_SIZE] = { "SIZE", "size", COL_BYTES, 0,
		     "granted bytes the owner may use now" },
	[R_EXTRA] = { "EXTRA", "extra", COL_BYTES, 0,
		      "headroom left to grow into without a new check" },
	[R_HELD] = { "HELD", "held", COL_BYTES, 0,
		     "bytes the kernel guarantees" },
	[R_OWED] = { "OWED", "owed", COL_BYTES, 0,
		     "bytes promised, not guaranteed by the kernel" },
	[R_POPULATED] = { "POPULATED", "populated", COL_BYTES, 0,
			  "bytes with pages in the file" },
	[R_STATE] = { "STATE", "state", COL_STR, COL_LEFT,
		      "ready, pending (being made), block (a VMM's own), "
		      "postcopy or postcopy-keep (a block receiving a "
		      "migration, its pages discarded or kept)" },
	[R_WARM] = { "WARM", "warm", COL_BOOL, 0,
		     "taken from the warm pool (zeroed ahead of time)" },
	[R_DECLARED] = { "DECLARED", "declared", COL_BOOL, 0,
			 "made by poolctl apply from rampool.conf(5)" },
	[R_CREATED] = { "CREATED", "created", COL_TIME, COL_LEFT,
			"when it was made (JSON: seconds since the epoch)" },
	[R_GROUP] = { "GROUP", "group", COL_STR, COL_LEFT,
		      "a group's member (check --reserve): the group" },
	[R_BLOCK] = { "BLOCK", "block", COL_STR, COL_LEFT,
		      "and the RAM block it backs (path GROUP --block ID)" },
	[R_PATH] = { "PATH", "path", COL_STR, COL_LEFT,
		     "the backing file (poolctl path)" },
};

enum { D_NODE, D_SIZE, D_HELD, D_OWED, D_POPULATED, D_UNPINNED };
static const struct col node_cols[] = {
	[D_NODE] = { "NODE", "node", COL_INT, 0, NULL },
	[D_SIZE] = { "SIZE", "size", COL_BYTES, 0, NULL },
	[D_HELD] = { "HELD", "held", COL_BYTES, 0, NULL },
	[D_OWED] = { "OWED", "owed", COL_BYTES, 0, NULL },
	[D_POPULATED] = { "POPULATED", "populated", COL_BYTES, 0, NULL },
	[D_UNPINNED] = { "UNPINNED", "unpinned", COL_BYTES, 0, NULL },
};

static const char *state_name(const struct rampool_reservation_info *ri)
{
	if (ri->state == RAMPOOL_RES_STATE_PENDING)
		return "pending";
	if (ri->flags & RAMPOOL_RES_F_POSTCOPY_KEEP)
		return "postcopy-keep";
	if (ri->flags & RAMPOOL_RES_F_POSTCOPY)
		return "postcopy";
	return ri->flags & RAMPOOL_RES_F_BLOCK ? "block" : "ready";
}

/* The user's name, or the uid when the passwd database has none. */
static const char *owner_name(unsigned int uid, char *buf, size_t len)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];

	if (!getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) && res)
		snprintf(buf, len, "%s", res->pw_name);
	else
		snprintf(buf, len, "%u", uid);
	return buf;
}

/* Reservation idx's nodes as a table (show) and as "0,1" (list). */
static int node_table(const struct rampool_res_list *l, unsigned int idx,
		      unsigned int nr, struct table *t, char *text,
		      size_t len)
{
	size_t n = 0;

	text[0] = '\0';
	for (unsigned int k = 0; k < nr; k++) {
		struct rampool_reservation_node_info ni = { .sz = sizeof(ni) };
		int r, ret = rampool_res_list_node(l, idx, k, &ni);

		if (ret)
			return ret;
		if ((r = table_row(t)) < 0)
			return -ENOMEM;
		if (ni.node != RAMPOOL_NODE_ANY)
			table_int(t, r, D_NODE, ni.node);
		table_u64(t, r, D_SIZE, ni.size);
		table_u64(t, r, D_HELD, ni.held);
		table_u64(t, r, D_OWED, ni.owed);
		table_u64(t, r, D_POPULATED, ni.populated);
		table_u64(t, r, D_UNPINNED, ni.unpinned);
		if (ni.node != RAMPOOL_NODE_ANY && n < len)
			n += (size_t)snprintf(text + n, len - n, "%s%d",
					      n ? "," : "", ni.node);
	}
	if (!text[0])
		snprintf(text, len, "-");
	return 0;
}

/* Row for reservation idx of l in t; its node table in nodes. */
static int res_row(const struct rampool_res_list *l, unsigned int idx,
		   struct table *t, struct table *nodes)
{
	struct rampool_reservation_info ri = { .sz = sizeof(ri) };
	char owner[64], text[256];
	int r, ret = rampool_res_list_get(l, idx, &ri);

	if (ret)
		return ret;
	ret = node_table(l, idx, ri.nr_nodes, nodes, text, sizeof(text));
	if (ret)
		return ret;
	if ((r = table_row(t)) < 0)
		return -ENOMEM;
	if (table_str(t, r, R_NAME, ri.name) ||
	    table_str(t, r, R_OWNER, owner_name(ri.owner_uid, owner,
						 sizeof(owner))) ||
	    table_nested(t, r, R_NODES, text, table_json(nodes)) ||
	    table_str(t, r, R_STATE, state_name(&ri)) ||
	    (ri.path && ri.path[0] && table_str(t, r, R_PATH, ri.path)) ||
	    (ri.group && ri.group[0] &&
	     (table_str(t, r, R_GROUP, ri.group) ||
	      table_str(t, r, R_BLOCK, ri.block))))
		return -ENOMEM;
	table_u64(t, r, R_PS, ri.page_size);
	table_u64(t, r, R_SIZE, ri.size);
	table_u64(t, r, R_EXTRA, ri.extra);
	table_u64(t, r, R_HELD, ri.held);
	table_u64(t, r, R_OWED, ri.owed);
	table_u64(t, r, R_POPULATED, ri.populated);
	table_int(t, r, R_CREATED, ri.created);
	table_u64(t, r, R_WARM, !!(ri.flags & RAMPOOL_RES_F_WARM));
	table_u64(t, r, R_DECLARED, !!(ri.flags & RAMPOOL_RES_F_DECLARED));
	return 0;
}

/* The library's error for a reservation command as poolctl reports it. */
int res_error(struct ctl *c, const char *what, int err)
{
	const char *why = NULL;
	int status = EXIT_REFUSED;

	switch (err) {
	case -EINVAL: case -ENAMETOOLONG: status = EXIT_USAGE; break;
	case -ENOENT: why = "no such reservation"; status = EXIT_USAGE; break;
	case -EEXIST: why = "a reservation of that name exists"; break;
	case -ENOSPC: why = "does not fit"; break;
	case -EACCES: why = "this user may not use the ledger (root, or its service group to read it)"; break;
	case -EPERM: why = "not permitted"; break;
	case -EBUSY: case -EXDEV: break;
	case -ECANCELED: why = "cancelled"; break;
	default: status = EXIT_SYSTEM; break;
	}
	/* the library's words when it gave some, else ours */
	if (c->last_err[0] && err != -ECANCELED)
		why = c->last_err;
	if (!why)
		why = strerror(-err);
	fprintf(stderr, "%s: %s: %s%s\n", prog, what,
		err == -EACCES || err == -EPERM ? "refused: " : "", why);
	return status;
}

/* Reads the ledger (all rows, or name's) into a reservation table. */
static int res_load(struct ctl *c, struct rampool_pool *pool,
		    const char *name, struct table *t, struct table *nodes)
{
	struct rampool_res_list *l;
	char what[128];
	int ret;

	snprintf(what, sizeof(what), "%s%s", name ? "show " : "list",
		 name ? name : "");
	ctl_clear_error(c);
	ret = rampool_reservation_list(pool, name, &l);
	if (ret)
		return res_error(c, what, ret);
	for (unsigned int i = 0; !ret && i < rampool_res_list_count(l); i++) {
		table_free(nodes);
		ret = res_row(l, i, t, nodes);
	}
	rampool_res_list_free(l);
	if (ret)
		return sys_error(c, what, ret, EXIT_SYSTEM);
	return EXIT_OK;
}

int res_show(struct ctl *c, struct rampool_pool *pool, const char *name,
	     const struct out_opts *o)
{
	struct table t = TABLE_INIT(res_cols), nodes = TABLE_INIT(node_cols);
	int status = res_load(c, pool, name, &t, &nodes);

	if (status)
		goto out;
	if (t.nrows != 1) {
		status = sys_error(c, "show", -EIO, EXIT_SYSTEM);
		goto out;
	}
	if (o->json) {
		json_object *j = table_json_row(&t, 0);

		if (!j) {
			status = sys_error(c, "show", -ENOMEM, EXIT_SYSTEM);
			goto out;
		}
		json_print(j);
	} else {
		table_print_row(&t, 0, o);
		if (nodes.nrows) {
			putchar('\n');
			table_print(&nodes, o);
		}
	}
	status = finish_output();
	for (unsigned int k = 0; k < nodes.nrows; k++) {
		const struct cell *n = table_cell(&nodes, (int)k, D_NODE);

		warn_owed(name, n->set ? (int)n->i : RAMPOOL_NODE_ANY,
			  table_cell(&nodes, (int)k, D_OWED)->u);
	}
out:
	table_free(&t);
	table_free(&nodes);
	return status;
}

static int list_print(struct ctl *c, const struct table *t,
		      const struct out_opts *o)
{
	json_object *root, *a;

	if (!o->json) {
		table_print(t, o);
		return finish_output();
	}
	root = json_object_new_object();
	a = table_json(t);
	if (!root || !a || json_object_object_add(root, "reservations", a)) {
		json_object_put(root);
		return sys_error(c, "list", -ENOMEM, EXIT_SYSTEM);
	}
	json_print(root);
	return finish_output();
}

static void list_help(const char *cmd)
{
	bool show = !strcmp(cmd, "show");

	printf("Usage: %s [global options] %s [options]%s\n\n", prog, cmd,
	       show ? " NAME" : "");
	printf(show ? "Show one reservation of the ledger, with its nodes.\n"
		    : "List the reservations of the ledger.\n");
	printf("\nOptions:\n"
	       "  -b, --bytes        print sizes in bytes\n"
	       "  -J, --json         print JSON (sizes always in bytes)\n"
	       "  -n, --noheadings   do not print table headings\n"
	       "  -r, --raw          columns separated by one space\n"
	       "  -h, --help         show this help and exit\n"
	       "\nColumns (JSON keys in lower case):\n");
	table_help(res_cols, ARRAY_SIZE(res_cols));
}

/* list [-bJnr] and show NAME [-bJnr]: the same options, one parser. */
const struct option list_options[] = {
	{ "bytes", no_argument, NULL, 'b' },
	{ "json", no_argument, NULL, 'J' },
	{ "noheadings", no_argument, NULL, 'n' },
	{ "raw", no_argument, NULL, 'r' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 }
};

static int list_or_show(struct ctl *c, int argc, char **argv, bool show)
{
	struct table t = TABLE_INIT(res_cols), nodes = TABLE_INIT(node_cols);
	struct out_opts o = { 0 };
	struct rampool_pool *pool;
	const char *name = NULL;
	int opt, status;

	optind = 0;	/* 0: GNU getopt starts afresh (main parsed with "+") */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":bJnrh", list_options,
				  NULL)) != -1) {
		switch (opt) {
		case 'b': o.bytes = true; break;
		case 'J': o.json = true; break;
		case 'n': o.noheadings = true; break;
		case 'r': o.raw = true; break;
		case 'h': list_help(argv[0]); return EXIT_OK;
		default: return opt_error(argv[0], opt, argv);
		}
	}
	if (show && optind == argc)
		return usage_error("show: missing reservation name");
	if (show)
		name = argv[optind++];
	if (optind < argc)
		return usage_error("%s: unexpected argument '%s'", argv[0],
				   argv[optind]);
	if (name && (status = check_name(name)))
		return status;
	status = open_pool(c, &pool);
	if (status)
		return status;
	if (show) {
		status = res_show(c, pool, name, &o);
	} else {
		status = res_load(c, pool, NULL, &t, &nodes);
		if (!status)
			status = list_print(c, &t, &o);
	}
	table_free(&t);
	table_free(&nodes);
	rampool_pool_free(pool);
	return status;
}

int cmd_list(struct ctl *c, int argc, char **argv)
{
	return list_or_show(c, argc, argv, false);
}

int cmd_show(struct ctl *c, int argc, char **argv)
{
	return list_or_show(c, argc, argv, true);
}
