// SPDX-License-Identifier: LGPL-2.1-or-later
/* poolctl.c: the command line over librampool's public interface. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "rampool.h"

/* Exit statuses, documented in poolctl(8). */
enum {
	EXIT_OK = 0,
	EXIT_REFUSED = 1,
	EXIT_USAGE = 2,
	EXIT_SYSTEM = 3,
};

struct ctl {
	const char *sysroot;
	const char *state_dir;
	int verbose;
	char last_err[512];	/* the library's last ERR message */
};

static const char *prog = "poolctl";

static void log_cb(void *data, enum rampool_log_level level, const char *msg)
{
	struct ctl *c = data;

	if (level <= RAMPOOL_LOG_ERR)
		snprintf(c->last_err, sizeof(c->last_err), "%s", msg);
	if (c->verbose && level > RAMPOOL_LOG_ERR)
		fprintf(stderr, "%s: %s\n", prog, msg);
}

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help' for more information.\n", prog);
	return EXIT_USAGE;
}

/* getopt leaves the offending word in argv; name it whole. */
static int bad_option(const char *word)
{
	return usage_error("unknown option '%s'", word);
}

/* One line naming what failed: the library's own words when it gave some. */
static int sys_error(struct ctl *c, const char *what, int err, int status)
{
	if (c->last_err[0])
		fprintf(stderr, "%s: %s: %s\n", prog, what, c->last_err);
	else
		fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(-err));
	return status;
}

/* The library takes absolute paths; a user may give one relative to here. */
static const char *absolute(const char *path, char *buf, size_t len)
{
	char cwd[PATH_MAX];

	if (!path || path[0] == '/' || !path[0] || !getcwd(cwd, sizeof(cwd)))
		return path;
	if ((size_t)snprintf(buf, len, "%s/%s", cwd, path) >= len)
		return path;
	return buf;
}

static int open_pool(struct ctl *c, struct rampool_pool **pool)
{
	char root[PATH_MAX], state[PATH_MAX];
	struct rampool_pool_opts o = {
		.sz = sizeof(o),
		.sysroot = absolute(c->sysroot, root, sizeof(root)),
		.state_dir = absolute(c->state_dir, state, sizeof(state)),
		.log_fn = log_cb,
		.log_data = c,
		.log_level = c->verbose ? RAMPOOL_LOG_DEBUG : RAMPOOL_LOG_WARN,
	};
	int ret = rampool_pool_new(&o, pool);

	if (ret) {
		/* the only inputs are the paths the user gave */
		return sys_error(c, "cannot open the pool",
				 ret, ret == -ENOMEM ? EXIT_SYSTEM : EXIT_USAGE);
	}
	return EXIT_OK;
}

/* ---- sizes -------------------------------------------------------------- */

/* 2M, 1.5G, 512K, 0B: one decimal at most, as util-linux prints them. */
static const char *size_str(char *buf, size_t len, uint64_t v, bool bytes)
{
	static const char units[] = "BKMGTPE";
	unsigned int e = 0;
	uint64_t whole, frac;

	if (bytes) {
		snprintf(buf, len, "%" PRIu64, v);
		return buf;
	}
	while (e < 6 && v >= (1ULL << (10 * (e + 1))))
		e++;
	whole = v >> (10 * e);
	frac = e ? v & ((1ULL << (10 * e)) - 1) : 0;
	/* round the remainder to one decimal */
	frac = e ? (frac * 10 + (1ULL << (10 * e - 1))) >> (10 * e) : 0;
	if (e && frac == 10) {
		whole++;
		frac = 0;
	}
	if (frac)
		snprintf(buf, len, "%" PRIu64 ".%" PRIu64 "%c", whole, frac,
			 units[e]);
	else
		snprintf(buf, len, "%" PRIu64 "%c", whole, units[e]);
	return buf;
}

/* ---- tables ------------------------------------------------------------- */

#define MAX_COLS 12
#define CELL 48

struct table {
	unsigned int ncols, nrows, cap;
	const char *head[MAX_COLS];
	bool left[MAX_COLS];
	char (*cells)[MAX_COLS][CELL];
};

static int table_row(struct table *t)
{
	if (t->nrows == t->cap) {
		unsigned int cap = t->cap ? t->cap * 2 : 16;
		void *n = realloc(t->cells, cap * sizeof(*t->cells));

		if (!n)
			return -ENOMEM;
		t->cells = n;
		t->cap = cap;
	}
	memset(t->cells[t->nrows], 0, sizeof(*t->cells));
	return (int)t->nrows++;
}

static void table_print(const struct table *t, bool heads, bool raw)
{
	size_t w[MAX_COLS] = { 0 };

	for (unsigned int c = 0; c < t->ncols; c++) {
		w[c] = heads ? strlen(t->head[c]) : 0;
		for (unsigned int r = 0; r < t->nrows; r++)
			if (strlen(t->cells[r][c]) > w[c])
				w[c] = strlen(t->cells[r][c]);
	}
	for (int r = heads ? -1 : 0; r < (int)t->nrows; r++) {
		for (unsigned int c = 0; c < t->ncols; c++) {
			const char *s = r < 0 ? t->head[c] : t->cells[r][c];
			bool last = c + 1 == t->ncols;

			if (raw)
				printf("%s%s", s, last ? "" : " ");
			else if (t->left[c])
				printf("%-*s%s", last ? 0 : (int)w[c], s,
				       last ? "" : "  ");
			else
				printf("%*s%s", (int)w[c], s, last ? "" : "  ");
		}
		putchar('\n');
	}
}

static void table_free(struct table *t)
{
	free(t->cells);
}

/* ---- status ------------------------------------------------------------- */

struct status_opts {
	bool bytes, json, noheadings, raw;
	int bar;		/* -1: when stdout is a terminal */
};

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

static int status_json(struct rampool_capacity *cap)
{
	json_object *root, *nodes, *global, *gpools, *mounts, *host;
	struct rampool_host_info hi = { .sz = sizeof(hi) };
	unsigned int nn = rampool_capacity_node_count(cap);
	unsigned int ns = rampool_capacity_page_size_count(cap);
	int ret = 0;

	root = json_object_new_object();
	nodes = json_object_new_array();
	global = json_object_new_object();
	gpools = json_object_new_array();
	mounts = json_object_new_array();
	host = json_object_new_object();
	if (!root || !nodes || !global || !gpools || !mounts || !host) {
		json_object_put(root);
		json_object_put(nodes);
		json_object_put(global);
		json_object_put(gpools);
		json_object_put(mounts);
		json_object_put(host);
		return -ENOMEM;
	}
	json_object_object_add(root, "nodes", nodes);
	json_object_object_add(global, "pools", gpools);
	json_object_object_add(root, "global", global);
	json_object_object_add(root, "mounts", mounts);

	rampool_capacity_host(cap, &hi);
	json_object_object_add(global, "mem_total", j_u64(hi.mem_total));
	json_object_object_add(global, "mem_free", j_u64(hi.mem_free));
	json_object_object_add(global, "mem_available",
			       j_u64(hi.mem_available));
	json_object_object_add(global, "shmem", j_u64(hi.shmem));
	json_object_object_add(global, "default_page_size",
			       j_u64(hi.default_page_size));
	json_object_put(host);

	for (unsigned int i = 0; i < nn; i++) {
		struct rampool_node_info ni = { .sz = sizeof(ni) };
		json_object *n, *pools;

		ret = rampool_capacity_node(cap, i, &ni);
		if (ret)
			break;
		n = json_object_new_object();
		pools = json_object_new_array();
		json_object_object_add(n, "node", json_object_new_int(ni.node));
		json_object_object_add(n, "cpus",
				       json_object_new_string(ni.cpulist));
		json_object_object_add(
			n, "has_memory",
			json_object_new_boolean(ni.flags &
						RAMPOOL_NODE_F_HAS_MEMORY));
		json_object_object_add(n, "mem_total", j_u64(ni.mem_total));
		json_object_object_add(n, "mem_free", j_u64(ni.mem_free));
		json_object_object_add(n, "mem_available",
				       j_u64(ni.mem_available));
		json_object_object_add(n, "shmem", j_u64(ni.shmem));
		for (unsigned int s = 0; s < ns; s++) {
			struct rampool_hugepage_info h = { .sz = sizeof(h) };
			json_object *p;

			ret = rampool_capacity_hugepages(
				cap, ni.node, rampool_capacity_page_size(cap, s),
				&h);
			if (ret)
				break;
			p = json_object_new_object();
			json_object_object_add(p, "page_size",
					       j_u64(h.page_size));
			json_object_object_add(p, "total_pages",
					       j_u64(h.total_pages));
			json_object_object_add(p, "free_pages",
					       j_u64(h.free_pages));
			json_object_object_add(p, "surplus_pages",
					       j_u64(h.surplus_pages));
			json_object_array_add(pools, p);
		}
		json_object_object_add(n, "pools", pools);
		json_object_array_add(nodes, n);
		if (ret)
			break;
	}
	for (unsigned int s = 0; !ret && s < ns; s++) {
		struct rampool_hugepage_info h = { .sz = sizeof(h) };
		json_object *p;

		ret = rampool_capacity_hugepages(
			cap, RAMPOOL_NODE_ALL, rampool_capacity_page_size(cap, s),
			&h);
		if (ret)
			break;
		p = json_object_new_object();
		json_object_object_add(p, "page_size", j_u64(h.page_size));
		json_object_object_add(p, "total_pages", j_u64(h.total_pages));
		json_object_object_add(p, "free_pages", j_u64(h.free_pages));
		json_object_object_add(p, "resv_pages", j_u64(h.resv_pages));
		json_object_object_add(p, "surplus_pages",
				       j_u64(h.surplus_pages));
		json_object_object_add(p, "overcommit_pages",
				       j_u64(h.overcommit_pages));
		json_object_array_add(gpools, p);
	}
	for (unsigned int m = 0; !ret && m < rampool_capacity_mount_count(cap);
	     m++) {
		struct rampool_mount_info mi = { .sz = sizeof(mi) };
		json_object *o;

		ret = rampool_capacity_mount(cap, m, &mi);
		if (ret)
			break;
		o = json_object_new_object();
		json_object_object_add(o, "path",
				       json_object_new_string(mi.path));
		json_object_object_add(o, "page_size", j_u64(mi.page_size));
		json_object_array_add(mounts, o);
	}
	if (!ret)
		printf("%s\n", json_object_to_json_string_ext(
				       root, JSON_C_TO_STRING_PRETTY |
						     JSON_C_TO_STRING_SPACED |
						     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	return ret;
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

static int status_tables(struct rampool_capacity *cap,
			 const struct status_opts *o)
{
	unsigned int nn = rampool_capacity_node_count(cap);
	unsigned int ns = rampool_capacity_page_size_count(cap);
	struct table nodes = { .ncols = 6, .head = { "NODE", "CPUS",
		"MEMORY", "FREE", "AVAIL", "SHMEM" }, .left = { [1] = true } };
	struct table pools = { .ncols = 9, .head = { "NODE", "PAGESIZE",
		"TOTAL", "FREE", "SURPLUS", "RESERVED", "HELD", "OWED",
		"AVAIL" } };
	struct table host = { .ncols = 6, .head = { "PAGESIZE", "TOTAL",
		"FREE", "RSVD", "SURPLUS", "OVERCOMMIT" } };
	struct table mounts = { .ncols = 2, .head = { "MOUNT", "PAGESIZE" },
		.left = { true } };
	bool bar = o->bar < 0 ? isatty(STDOUT_FILENO) : o->bar;
	int r, ret = 0;

	for (unsigned int i = 0; i < nn && !ret; i++) {
		struct rampool_node_info ni = { .sz = sizeof(ni) };

		ret = rampool_capacity_node(cap, i, &ni);
		if (ret || (r = table_row(&nodes)) < 0) {
			ret = ret ? ret : -ENOMEM;
			break;
		}
		snprintf(nodes.cells[r][0], CELL, "%d", ni.node);
		snprintf(nodes.cells[r][1], CELL, "%s",
			 ni.cpulist[0] ? ni.cpulist : "-");
		size_str(nodes.cells[r][2], CELL, ni.mem_total, o->bytes);
		size_str(nodes.cells[r][3], CELL, ni.mem_free, o->bytes);
		size_str(nodes.cells[r][4], CELL, ni.mem_available, o->bytes);
		size_str(nodes.cells[r][5], CELL, ni.shmem, o->bytes);
		for (unsigned int s = 0; s < ns && !ret; s++) {
			struct rampool_hugepage_info h = { .sz = sizeof(h) };
			uint64_t ps = rampool_capacity_page_size(cap, s);

			ret = rampool_capacity_hugepages(cap, ni.node, ps, &h);
			if (ret || (r = table_row(&pools)) < 0) {
				ret = ret ? ret : -ENOMEM;
				break;
			}
			snprintf(pools.cells[r][0], CELL, "%d", ni.node);
			size_str(pools.cells[r][1], CELL, ps, o->bytes);
			size_str(pools.cells[r][2], CELL, h.total_pages * ps,
				 o->bytes);
			size_str(pools.cells[r][3], CELL, h.free_pages * ps,
				 o->bytes);
			size_str(pools.cells[r][4], CELL, h.surplus_pages * ps,
				 o->bytes);
			/* filled once the ledger exists */
			for (unsigned int c = 5; c < 9; c++)
				strcpy(pools.cells[r][c], "-");
		}
	}
	for (unsigned int s = 0; s < ns && !ret; s++) {
		struct rampool_hugepage_info h = { .sz = sizeof(h) };
		uint64_t ps = rampool_capacity_page_size(cap, s);

		ret = rampool_capacity_hugepages(cap, RAMPOOL_NODE_ALL, ps, &h);
		if (ret || (r = table_row(&host)) < 0) {
			ret = ret ? ret : -ENOMEM;
			break;
		}
		size_str(host.cells[r][0], CELL, ps, o->bytes);
		size_str(host.cells[r][1], CELL, h.total_pages * ps, o->bytes);
		size_str(host.cells[r][2], CELL, h.free_pages * ps, o->bytes);
		size_str(host.cells[r][3], CELL, h.resv_pages * ps, o->bytes);
		size_str(host.cells[r][4], CELL, h.surplus_pages * ps,
			 o->bytes);
		size_str(host.cells[r][5], CELL, h.overcommit_pages * ps,
			 o->bytes);
	}
	for (unsigned int m = 0; m < rampool_capacity_mount_count(cap) && !ret;
	     m++) {
		struct rampool_mount_info mi = { .sz = sizeof(mi) };

		ret = rampool_capacity_mount(cap, m, &mi);
		if (ret || (r = table_row(&mounts)) < 0) {
			ret = ret ? ret : -ENOMEM;
			break;
		}
		snprintf(mounts.cells[r][0], CELL, "%s", mi.path);
		size_str(mounts.cells[r][1], CELL, mi.page_size, o->bytes);
	}
	if (!ret) {
		if (bar) {
			for (unsigned int i = 0; i < nn; i++) {
				struct rampool_node_info ni = {
					.sz = sizeof(ni)
				};

				if (!rampool_capacity_node(cap, i, &ni))
					status_bar(cap, &ni);
			}
			putchar('\n');
		}
		table_print(&nodes, !o->noheadings, o->raw);
		putchar('\n');
		table_print(&pools, !o->noheadings, o->raw);
		putchar('\n');
		table_print(&host, !o->noheadings, o->raw);
		if (mounts.nrows) {
			putchar('\n');
			table_print(&mounts, !o->noheadings, o->raw);
		}
	}
	table_free(&nodes);
	table_free(&pools);
	table_free(&host);
	table_free(&mounts);
	return ret;
}

static int cmd_status(struct ctl *c, int argc, char **argv)
{
	static const struct option lo[] = {
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
	struct status_opts o = { .bar = -1 };
	struct rampool_capacity *cap;
	struct rampool_pool *pool;
	int opt, ret, status;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:bJnrh", lo, NULL)) != -1) {
		switch (opt) {
		case 'b': o.bytes = true; break;
		case 'J': o.json = true; break;
		case 'n': o.noheadings = true; break;
		case 'r': o.raw = true; break;
		case 1: o.bar = 1; break;
		case 2: o.bar = 0; break;
		case 3: c->sysroot = optarg; break;
		case 'h': status_help(); return EXIT_OK;
		case ':':
			return usage_error("status: option '%s' needs an argument",
					   argv[optind - 1]);
		default:
			return bad_option(argv[optind - 1]);
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
	ret = o.json ? status_json(cap) : status_tables(cap, &o);
	rampool_capacity_free(cap);
	rampool_pool_free(pool);
	if (ret)
		return sys_error(c, "status", ret, EXIT_SYSTEM);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "%s: write error: %s\n", prog, strerror(errno));
		return EXIT_SYSTEM;
	}
	return EXIT_OK;
}

/* ---- main --------------------------------------------------------------- */

static const struct {
	const char *name;
	int (*fn)(struct ctl *c, int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "status", cmd_status,
	  "kernel memory per node and page size, and the pool's share" },
};

static void help(void)
{
	printf("Usage: %s [global options] COMMAND [options]\n"
	       "\n"
	       "Reserve and account guest-RAM backing (hugetlb, memfd) per NUMA node.\n"
	       "\n"
	       "Commands:\n",
	       prog);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		printf("  %-10s %s\n", commands[i].name, commands[i].summary);
	printf("\n"
	       "Global options:\n"
	       "      --sysroot DIR    read kernel state under DIR (a recorded tree)\n"
	       "      --state-dir DIR  the pool's state directory (default /run/rampool)\n"
	       "  -v, --verbose        print the library's messages\n"
	       "  -h, --help           show this help and exit\n"
	       "  -V, --version        show the version and exit\n"
	       "\n"
	       "'%s COMMAND --help' describes a command. Exit status: 0 success,\n"
	       "1 refused or does not fit, 2 bad usage or input, 3 system error.\n",
	       prog);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "sysroot", required_argument, NULL, 1 },
		{ "state-dir", required_argument, NULL, 2 },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	struct ctl c = { 0 };
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:vhV", lo, NULL)) != -1) {
		switch (opt) {
		case 1: c.sysroot = optarg; break;
		case 2: c.state_dir = optarg; break;
		case 'v': c.verbose = 1; break;
		case 'h': help(); return EXIT_OK;
		case 'V':
			printf("poolctl from rampool %s\n", rampool_version());
			return EXIT_OK;
		case ':':
			return usage_error("option '%s' needs an argument",
					   argv[optind - 1]);
		default:
			return bad_option(argv[optind - 1]);
		}
	}
	if (optind == argc)
		return usage_error("no command given");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[optind], commands[i].name))
			return commands[i].fn(&c, argc - optind,
					      argv + optind);
	return usage_error("unknown command '%s'", argv[optind]);
}
