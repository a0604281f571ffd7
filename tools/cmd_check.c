// SPDX-License-Identifier: LGPL-2.1-or-later
/* cmd_check.c: poolctl check: will an incoming VM (a manifest, or a QEMU migration stream) fit on this host now? */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmds.h"
#include "cols.h"
#include "common.h"

#define MANIFEST_MAX (64u << 20)	/* a 1 TiB, 4,000-block one is < 1M */

enum { B_ID, B_SIZE, B_REGION, B_PS, B_NODE, B_NOTE };
static const struct col block_cols[] = {
	[B_ID] = { "ID", "id", COL_STR, COL_LEFT, "the RAM block's id" },
	[B_SIZE] = { "SIZE", "size", COL_BYTES, 0, "bytes it needs" },
	[B_REGION] = { "REGION", "region", COL_BYTES, 0,
		       "its whole length (sparse: the virtio-mem region)" },
	[B_PS] = { "PAGESIZE", "page_size", COL_BYTES, 0, "page size" },
	[B_NODE] = { "NODE", "node", COL_INT, 0, "its node (- any)" },
	[B_NOTE] = { "NOTE", "note", COL_STR, COL_LEFT,
		     "sparse, plugged-unknown, defaulted, headroom" },
};

enum { C_NODE, C_PS, C_NEED, C_GRANT, C_CGROUP, C_SHORT, C_FITS_ON };
static const struct col check_cols[] = {
	[C_NODE] = { "NODE", "node", COL_INT, 0,
		     "the node (- host-wide: all the rows above together)" },
	[C_PS] = { "PAGESIZE", "page_size", COL_BYTES, 0, "page size" },
	[C_NEED] = { "NEED", "need", COL_BYTES, 0, "what the blocks need" },
	[C_GRANT] = { "GRANTABLE", "grantable", COL_BYTES, 0,
		      "what a reservation would be granted now" },
	[C_CGROUP] = { "CGROUP", "cgroup_room", COL_BYTES, 0,
		       "room the cgroup's hugetlb limits leave (- none)" },
	[C_SHORT] = { "SHORT", "short_by", COL_BYTES, 0, "need - grantable" },
	[C_FITS_ON] = { "FITS-ON", "fits_on", COL_INT, 0,
			"a short node's need fits on this node instead" },
};

static void check_help(void)
{
	printf("Usage: %s [global options] check [options] MANIFEST\n"
	       "       %s [global options] check [options] --qemu-stream FILE\n"
	       "\n"
	       "Will a VM fit on this host now? Reads its RAM blocks from a\n"
	       "manifest (JSON, rampool-manifest(5); - for stdin) or from the\n"
	       "start of a QEMU migration stream (- for stdin), and compares what\n"
	       "they need per node and page size with what a reservation would\n"
	       "be granted. Nothing is reserved. Exit 0 fits, 1 does not fit,\n"
	       "2 bad input, 3 system error.\n"
	       "\n"
	       "Options:\n"
	       "      --qemu-stream FILE  read a QEMU migration stream\n"
	       "      --map MAP           page size and node of blocks the source\n"
	       "                          leaves open: 'pc.ram=2M@0,mem1=1G@1'\n"
	       "      --page-size SIZE    for blocks neither the source nor the map\n"
	       "                          describe (default 4K: shmem)\n"
	       "      --cgroup DIR        a cgroup v2 directory whose hugetlb limits\n"
	       "                          apply to the VM\n"
	       "      --reserve NAME      reserve it all at once as group NAME, if it\n"
	       "                          fits (checked again under the ledger's lock):\n"
	       "                          a member per block; path NAME --block ID;\n"
	       "                          release NAME\n"
	       "      --prealloc          with --reserve: populate every member\n"
	       "  -b, --bytes             print sizes in bytes\n"
	       "  -J, --json              print JSON (sizes always in bytes)\n"
	       "  -n, --noheadings        do not print table headings\n"
	       "  -r, --raw               columns separated by one space\n"
	       "  -h, --help              show this help and exit\n"
	       "\n"
	       "Block columns:\n",
	       prog, prog);
	table_help(block_cols, ARRAY_SIZE(block_cols));
	printf("\nCheck columns:\n");
	table_help(check_cols, ARRAY_SIZE(check_cols));
}

struct check_args {
	const char *manifest, *stream, *cgroup, *reserve;
	bool prealloc;
	struct rampool_plan_opts po;
	struct out_opts o;
};

const struct option check_options[] = {
	{ "qemu-stream", required_argument, NULL, 'q' },
	{ "map", required_argument, NULL, 'm' },
	{ "page-size", required_argument, NULL, 'p' },
	{ "cgroup", required_argument, NULL, 'c' },
	{ "reserve", required_argument, NULL, 'R' },
	{ "prealloc", no_argument, NULL, 'P' },
	{ "bytes", no_argument, NULL, 'b' },
	{ "json", no_argument, NULL, 'J' },
	{ "noheadings", no_argument, NULL, 'n' },
	{ "raw", no_argument, NULL, 'r' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 }
};

static int check_parse(int argc, char **argv, struct check_args *a)
{
	int opt, status = 0;

	optind = 0;	/* 0: GNU getopt starts afresh (main parsed with "+") */
	opterr = 0;
	while (!status &&
	       (opt = getopt_long(argc, argv, ":bJnrh", check_options,
				    NULL)) != -1) {
		switch (opt) {
		case 'q': a->stream = optarg; break;
		case 'm': a->po.map = optarg; break;
		case 'p':
			status = parse_page_size(optarg,
						 &a->po.default_page_size);
			break;
		case 'c': a->cgroup = optarg; break;
		case 'R': a->reserve = optarg; break;
		case 'P': a->prealloc = true; break;
		case 'b': a->o.bytes = true; break;
		case 'J': a->o.json = true; break;
		case 'n': a->o.noheadings = true; break;
		case 'r': a->o.raw = true; break;
		case 'h': check_help(); return -1;
		default: return opt_error("check", opt, argv);
		}
	}
	if (status)
		return status;
	if (optind < argc)
		a->manifest = argv[optind++];
	if (optind < argc)
		return usage_error("check: unexpected argument '%s'",
				   argv[optind]);
	if (!a->manifest == !a->stream)
		return usage_error("check: give a MANIFEST or --qemu-stream "
				   "FILE (one of them)");
	if (a->prealloc && !a->reserve)
		return usage_error("check: --prealloc goes with --reserve");
	return a->reserve ? check_name(a->reserve) : 0;
}

/* The whole manifest (stdin for "-"), NUL-terminated; EXIT_*. */
static int read_manifest(const char *path, char **text, size_t *len)
{
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : 0;
	size_t n = 0, cap = 0;
	char *buf = NULL, *nb;
	ssize_t r;

	if (fd < 0)
		return input_error("check: %s: %s", path, strerror(errno));
	do {
		if (cap - n < 65536) {
			cap = cap ? cap * 2 : 65536;
			nb = cap <= MANIFEST_MAX + 65536 ? realloc(buf, cap + 1)
							 : NULL;
			if (!nb) {
				free(buf);
				if (fd)
					close(fd);
				if (cap > MANIFEST_MAX + 65536)
					return input_error("check: %s: larger "
							   "than %u MiB", path,
							   MANIFEST_MAX >> 20);
				fprintf(stderr, "%s: check: %s\n", prog,
					strerror(ENOMEM));
				return EXIT_SYSTEM;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r > 0)
			n += (size_t)r;
	} while (r > 0 || (r < 0 && errno == EINTR));
	if (r < 0) {
		int err = errno;

		free(buf);
		if (fd)
			close(fd);
		return input_error("check: %s: %s", path, strerror(err));
	}
	if (fd)
		close(fd);
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

/* The plan from the manifest or the stream; EXIT_*. */
static int read_plan(struct ctl *c, struct rampool_pool *pool,
		     struct check_args *a, struct rampool_plan **plan)
{
	const char *what = a->manifest ? a->manifest : a->stream;
	char *text = NULL;
	size_t len = 0;
	int fd, ret, status;

	a->po.sz = sizeof(a->po);
	ctl_clear_error(c);
	if (a->manifest) {
		status = read_manifest(a->manifest, &text, &len);
		if (status)
			return status;
		ret = rampool_plan_from_manifest(pool, text, len, &a->po,
						 plan);
		free(text);
	} else {
		fd = strcmp(a->stream, "-") ?
			     open(a->stream, O_RDONLY | O_CLOEXEC) : 0;
		if (fd < 0)
			return input_error("check: %s: %s", a->stream,
					   strerror(errno));
		ret = rampool_plan_from_qemu_stream(pool, fd, &a->po, plan);
		if (fd)
			close(fd);
	}
	if (ret == -EINVAL || ret == -EPROTO)
		/* the reader named the bad field or byte in its line */
		return input_error("check: %s: %s", what,
				   c->last_err[0] ? c->last_err
						  : strerror(-ret));
	return ret ? sys_error(c, "check", ret, EXIT_SYSTEM) : 0;
}

static const char *block_note(unsigned int f)
{
	if (f & RAMPOOL_PLAN_F_PLUGGED_UNKNOWN)
		return "plugged size unknown: the whole region";
	if (f & RAMPOOL_PLAN_F_SPARSE)
		return "sparse";
	if (f & RAMPOOL_PLAN_F_HEADROOM)
		return "headroom";
	if (f & RAMPOOL_PLAN_F_DEFAULTED)
		return "page size defaulted";
	return NULL;
}

static int block_rows(const struct rampool_plan *p, struct table *t)
{
	for (unsigned int i = 0; i < rampool_plan_count(p); i++) {
		struct rampool_plan_block b = { .sz = sizeof(b) };
		const char *note;
		int r, ret = rampool_plan_block(p, i, &b);

		if (ret)
			return ret;
		if ((r = table_row(t)) < 0 || table_str(t, r, B_ID, b.id))
			return -ENOMEM;
		table_u64(t, r, B_SIZE, b.size);
		table_u64(t, r, B_REGION, b.region);
		table_u64(t, r, B_PS, b.page_size);
		if (b.node != RAMPOOL_NODE_ANY)
			table_int(t, r, B_NODE, b.node);
		note = block_note(b.flags);
		if (note && table_str(t, r, B_NOTE, note))
			return -ENOMEM;
	}
	return 0;
}

static int check_rows(const struct rampool_check *ck, struct table *t)
{
	for (unsigned int i = 0; i < rampool_check_count(ck); i++) {
		struct rampool_check_row w = { .sz = sizeof(w) };
		int r, ret = rampool_check_row(ck, i, &w);

		if (ret)
			return ret;
		if ((r = table_row(t)) < 0)
			return -ENOMEM;
		if (w.node != RAMPOOL_NODE_ANY)
			table_int(t, r, C_NODE, w.node);
		table_u64(t, r, C_PS, w.page_size);
		table_u64(t, r, C_NEED, w.need);
		table_u64(t, r, C_GRANT, w.grantable);
		if (w.cgroup_room != UINT64_MAX)
			table_u64(t, r, C_CGROUP, w.cgroup_room);
		table_u64(t, r, C_SHORT, w.short_by);
		if (w.fits_on != RAMPOOL_NODE_ANY)
			table_int(t, r, C_FITS_ON, w.fits_on);
	}
	return 0;
}

static int print(struct ctl *ctl, const struct table *bt,
		 const struct table *ct, const struct out_opts *o, bool fits)
{
	json_object *root, *b, *c;

	if (o->json) {
		root = json_object_new_object();
		b = table_json(bt);
		c = table_json(ct);
		if (!root || !b || !c ||
		    json_object_object_add(root, "fits",
					   json_object_new_boolean(fits)) ||
		    json_object_object_add(root, "blocks", b) ||
		    json_object_object_add(root, "rows", c)) {
			json_object_put(root);
			return sys_error(ctl, "check", -ENOMEM, EXIT_SYSTEM);
		}
		json_print(root);
	} else {
		table_print(bt, o);
		printf("\n");
		table_print(ct, o);
	}
	/* the table first, then the verdict after it */
	if (finish_output())
		return EXIT_SYSTEM;
	if (!fits)
		fprintf(stderr, "%s: check: does not fit\n", prog);
	return fits ? EXIT_OK : EXIT_REFUSED;
}

int cmd_check(struct ctl *c, int argc, char **argv)
{
	struct check_args a = { 0 };
	struct rampool_check_opts co = { .sz = sizeof(co) };
	struct table bt = TABLE_INIT(block_cols), ct = TABLE_INIT(check_cols);
	struct rampool_plan *plan = NULL;
	struct rampool_check *ck = NULL;
	struct rampool_pool *pool;
	int ret, status;

	status = check_parse(argc, argv, &a);
	if (status)
		return status < 0 ? EXIT_OK : status;
	/* what a reader warns of (an unknown key, a block counted in full
	 * for want of a plugged bitmap) is for the user to see */
	c->warnings = true;
	if ((status = open_pool(c, &pool)))
		return status;
	status = read_plan(c, pool, &a, &plan);
	if (status)
		goto out;
	co.cgroup = a.cgroup;
	ctl_clear_error(c);
	if (a.reserve) {
		struct rampool_group_opts go = {
			.sz = sizeof(go), .owner_uid = -1,
			.flags = a.prealloc ? RAMPOOL_RES_PREALLOC : 0,
			.cgroup = a.cgroup,
		};
		char what[128];

		ret = rampool_plan_reserve(pool, plan, a.reserve, &go, &ck);
		snprintf(what, sizeof(what), "check --reserve %s", a.reserve);
		if (ret && ret != -ENOSPC) {
			status = res_error(c, what, ret);
			goto out;
		}
	} else {
		ret = rampool_plan_check(pool, plan, &co, &ck);
	}
	if (ret && ret != -ENOSPC) {
		status = ret == -EINVAL ? input_error("check: %s",
						      c->last_err[0] ?
						      c->last_err :
						      strerror(-ret))
			 : sys_error(c, "check", ret, EXIT_SYSTEM);
		goto out;
	}
	if (block_rows(plan, &bt) || check_rows(ck, &ct))
		status = sys_error(c, "check", -ENOMEM, EXIT_SYSTEM);
	else
		status = print(c, &bt, &ct, &a.o, !ret);
	if (!ret && a.reserve && !a.o.json)
		fprintf(stderr, "%s: reserved as group %s (%u members)\n", prog,
			a.reserve, rampool_plan_count(plan));
out:
	table_free(&bt);
	table_free(&ct);
	rampool_check_free(ck);
	rampool_plan_free(plan);
	rampool_pool_free(pool);
	return status;
}
