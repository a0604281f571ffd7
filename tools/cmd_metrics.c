// SPDX-License-Identifier: LGPL-2.1-or-later
/* cmd_metrics.c: poolctl metrics, the kernel's hugepage counters and the pool's figures in Prometheus's text format. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmds.h"
#include "common.h"

#define PROM_FILE "rampool.prom"

/*
 * Every family is a gauge but the two the library counts in the ledger
 * (rampool_counters_get: refusals, SIGBUS avoided), which only grow until
 * the state directory goes (a boot). Written once: --help lists this
 * table and the HELP lines come from it.
 */
enum fam_id {
	F_TOTAL, F_FREE, F_SURPLUS, F_RSVD, F_LEDGER,
	F_RESERVED, F_HELD, F_OWED, F_UNPINNED, F_WARM, F_AVAIL,
	F_WARM_SLOTS, F_WARM_SLOT_BYTES, F_WARM_TARGET,
	F_RES_SIZE, F_RES_HELD, F_RES_OWED,
	F_FOREIGN, F_FOREIGN_HOST, F_REFUSALS, F_SIGBUS,
};

struct fam {
	const char *name, *labels, *help;
	bool counter;		/* TYPE counter, else gauge */
};

#define NP "node,page_size"
#define WS "node,page_size,slot_size"
#define RS "reservation,node,page_size"
static const struct fam fams[] = {
	[F_TOTAL] = { "rampool_hugepages_total_bytes", NP,
		"Hugepages in the kernel's pool on the node (nr_hugepages, "
		"surplus included), in bytes." },
	[F_FREE] = { "rampool_hugepages_free_bytes", NP,
		"Free hugepages on the node (free_hugepages, reserved ones "
		"included), in bytes." },
	[F_SURPLUS] = { "rampool_hugepages_surplus_bytes", NP,
		"Surplus hugepages on the node (surplus_hugepages), in bytes." },
	[F_RSVD] = { "rampool_hugepages_rsvd_bytes", "page_size",
		"Hugepages the kernel has reserved host-wide (resv_hugepages; "
		"it keeps no count per node), in bytes." },
	[F_LEDGER] = { "rampool_ledger_readable", "",
		"1 when the ledger's figures are in this output, 0 when this "
		"user may not read the ledger or the kernel is a recorded tree." },
	[F_RESERVED] = { "rampool_reserved_bytes", NP,
		"Bytes the ledger granted to reservations and blocks "
		"(node any: not bound to a node)." },
	[F_HELD] = { "rampool_held_bytes", NP,
		"Bytes of reservations and blocks the kernel guarantees "
		"(populated, or kept by a min_size mount)." },
	[F_OWED] = { "rampool_owed_bytes", NP,
		"Bytes the ledger promised that the kernel does not guarantee "
		"(unpopulated shmem, a failed re-reservation)." },
	[F_UNPINNED] = { "rampool_held_unpinned_bytes", NP,
		"Held bytes reserved host-wide but not yet placed on the node." },
	[F_WARM] = { "rampool_warm_bytes", NP,
		"Bytes in warm slots (clean, dirty or filling): held by the "
		"pool, in no reservation." },
	[F_AVAIL] = { "rampool_available_bytes", NP,
		"Bytes a new reservation could be granted here now." },
	[F_WARM_SLOTS] = { "rampool_warm_slots", WS ",state",
		"Warm slots by state: clean (zeroed, ready to claim), dirty "
		"(to be zeroed by warm fill), filling." },
	[F_WARM_SLOT_BYTES] = { "rampool_warm_slot_bytes", WS ",state",
		"Bytes in warm slots by state." },
	[F_WARM_TARGET] = { "rampool_warm_target_slots", WS,
		"Warm slots wanted (warm set)." },
	[F_RES_SIZE] = { "rampool_reservation_size_bytes", RS,
		"Bytes granted to a reservation or block on the node "
		"(node any: not bound to one)." },
	[F_RES_HELD] = { "rampool_reservation_held_bytes", RS,
		"Bytes of a reservation or block the kernel guarantees." },
	[F_RES_OWED] = { "rampool_reservation_owed_bytes", RS,
		"Bytes of a reservation or block promised, not guaranteed." },
	[F_FOREIGN] = { "rampool_foreign_bytes", NP,
		"Hugepages in use on the node that no ledger row explains "
		"(allocated behind the pool's back), in bytes." },
	[F_FOREIGN_HOST] = { "rampool_foreign_host_bytes", "page_size",
		"Hugepages in use or reserved host-wide that no ledger row "
		"explains, in bytes." },
	[F_REFUSALS] = { "rampool_refusals_total", NP,
		"Reservations and groups refused because they did not fit, "
		"per node and page size they lacked (node any: host-wide).",
		true },
	[F_SIGBUS] = { "rampool_sigbus_avoided_total", NP,
		"Hugetlb populates that found no page and returned ENOMEM "
		"where a VMM's touch would have been killed by SIGBUS.", true },
};

/* What one run reads: the kernel's snapshot, and the ledger's when it may. */
struct snap {
	struct rampool_capacity *cap;
	struct rampool_usage *u;	/* NULL: no ledger figures */
	struct rampool_warm *w;
	struct rampool_res_list *res;
	struct rampool_audit *audit;
	struct rampool_counters *counters;
};

static void family(FILE *f, enum fam_id id)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", fams[id].name,
		fams[id].help, fams[id].name,
		fams[id].counter ? "counter" : "gauge");
}

static void sample(FILE *f, enum fam_id id, const char *labels, uint64_t v)
{
	if (labels[0])
		fprintf(f, "%s{%s} %" PRIu64 "\n", fams[id].name, labels, v);
	else
		fprintf(f, "%s %" PRIu64 "\n", fams[id].name, v);
}

/* node="N",page_size="BYTES"; node "any" for RAMPOOL_NODE_ANY. */
static const char *np_labels(char *buf, size_t len, int node, uint64_t ps)
{
	if (node == RAMPOOL_NODE_ANY)
		snprintf(buf, len, "node=\"any\",page_size=\"%" PRIu64 "\"", ps);
	else
		snprintf(buf, len, "node=\"%d\",page_size=\"%" PRIu64 "\"",
			 node, ps);
	return buf;
}

/* A label value as the text format wants it: \\, \" and \n escaped. */
static const char *label_value(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	for (; *s && o + 3 < len; s++) {
		if (*s == '\\' || *s == '"' || *s == '\n')
			buf[o++] = '\\';
		buf[o++] = *s == '\n' ? 'n' : *s;
	}
	buf[o] = '\0';
	return buf;
}

/* The kernel's counters of node index i, page size index s. */
static int kernel_at(const struct rampool_capacity *cap, unsigned int i,
		     unsigned int s, struct rampool_hugepage_info *h)
{
	struct rampool_node_info ni = { .sz = sizeof(ni) };
	int ret = rampool_capacity_node(cap, i, &ni);

	h->sz = sizeof(*h);
	return ret ?: rampool_capacity_hugepages(
			cap, ni.node, rampool_capacity_page_size(cap, s), h);
}

static int emit_kernel(FILE *f, const struct rampool_capacity *cap)
{
	unsigned int nn = rampool_capacity_node_count(cap);
	unsigned int ns = rampool_capacity_page_size_count(cap);
	char l[128];

	for (enum fam_id k = F_TOTAL; ns && nn && k <= F_SURPLUS; k++) {
		family(f, k);
		for (unsigned int i = 0; i < nn; i++) {
			for (unsigned int s = 0; s < ns; s++) {
				struct rampool_hugepage_info h = { 0 };
				int ret = kernel_at(cap, i, s, &h);
				uint64_t v;

				if (ret)
					return ret;
				v = k == F_TOTAL ? h.total_pages :
				    k == F_FREE ? h.free_pages :
						  h.surplus_pages;
				np_labels(l, sizeof(l), h.node, h.page_size);
				sample(f, k, l, v * h.page_size);
			}
		}
	}
	for (unsigned int s = 0; s < ns; s++) {
		struct rampool_hugepage_info h = { .sz = sizeof(h) };
		uint64_t ps = rampool_capacity_page_size(cap, s);
		int ret = rampool_capacity_hugepages(cap, RAMPOOL_NODE_ALL, ps,
						     &h);

		if (ret)
			return ret;
		if (!s)
			family(f, F_RSVD);
		snprintf(l, sizeof(l), "page_size=\"%" PRIu64 "\"", ps);
		sample(f, F_RSVD, l, h.resv_pages * ps);
	}
	return 0;
}

/* The ledger's share per node and page size (status's pool columns). */
static int emit_usage(FILE *f, const struct rampool_usage *u)
{
	static const size_t off[] = {
		[F_RESERVED - F_RESERVED] = offsetof(struct rampool_pool_usage,
						     reserved),
		[F_HELD - F_RESERVED] = offsetof(struct rampool_pool_usage, held),
		[F_OWED - F_RESERVED] = offsetof(struct rampool_pool_usage, owed),
		[F_UNPINNED - F_RESERVED] = offsetof(struct rampool_pool_usage,
						     unpinned),
		[F_WARM - F_RESERVED] = offsetof(struct rampool_pool_usage, warm),
		[F_AVAIL - F_RESERVED] = offsetof(struct rampool_pool_usage,
						  avail),
	};
	unsigned int n = rampool_usage_count(u);
	char l[128];

	for (enum fam_id k = F_RESERVED; n && k <= F_AVAIL; k++) {
		family(f, k);
		for (unsigned int i = 0; i < n; i++) {
			struct rampool_pool_usage pu = { .sz = sizeof(pu) };
			int ret = rampool_usage_at(u, i, &pu);

			if (ret)
				return ret;
			np_labels(l, sizeof(l), pu.node, pu.page_size);
			sample(f, k, l, *(const uint64_t *)(
				(const char *)&pu + off[k - F_RESERVED]));
		}
	}
	return 0;
}

/* Slots of each shape by state, their bytes, and the targets. */
static int emit_warm(FILE *f, const struct rampool_warm *w)
{
	static const char *const state[] = { "clean", "dirty", "filling" };
	unsigned int n = rampool_warm_count(w);
	char np[128], l[256];

	for (enum fam_id k = F_WARM_SLOTS; n && k <= F_WARM_TARGET; k++) {
		family(f, k);
		for (unsigned int i = 0; i < n; i++) {
			struct rampool_warm_info wi = { .sz = sizeof(wi) };
			int ret = rampool_warm_at(w, i, &wi);
			unsigned int cnt[] = { wi.clean, wi.dirty, wi.filling };

			if (ret)
				return ret;
			np_labels(np, sizeof(np), wi.node, wi.page_size);
			if (k == F_WARM_TARGET) {
				snprintf(l, sizeof(l), "%s,slot_size=\"%" PRIu64
					 "\"", np, wi.slot_size);
				sample(f, k, l, wi.target);
				continue;
			}
			for (unsigned int s = 0; s < ARRAY_SIZE(state); s++) {
				snprintf(l, sizeof(l), "%s,slot_size=\"%" PRIu64
					 "\",state=\"%s\"", np, wi.slot_size,
					 state[s]);
				sample(f, k, l, k == F_WARM_SLOTS ? cnt[s] :
					  cnt[s] * wi.slot_size);
			}
		}
	}
	return 0;
}

static uint64_t pick(enum fam_id k, uint64_t size, uint64_t held,
		     uint64_t owed)
{
	return k == F_RES_SIZE ? size : k == F_RES_HELD ? held : owed;
}

/* One reservation's samples of family k, one per node of it. */
static int emit_res_one(FILE *f, enum fam_id k,
			const struct rampool_res_list *l, unsigned int i)
{
	struct rampool_reservation_info ri = { .sz = sizeof(ri) };
	char name[2 * RAMPOOL_NAME_MAX + 8], np[128], lb[512];
	int ret = rampool_res_list_get(l, i, &ri);

	if (ret)
		return ret;
	label_value(ri.name, name, sizeof(name));
	if (!ri.nr_nodes) {
		np_labels(np, sizeof(np), RAMPOOL_NODE_ANY, ri.page_size);
		snprintf(lb, sizeof(lb), "reservation=\"%s\",%s", name, np);
		sample(f, k, lb, pick(k, ri.size, ri.held, ri.owed));
	}
	for (unsigned int j = 0; j < ri.nr_nodes; j++) {
		struct rampool_reservation_node_info rn = { .sz = sizeof(rn) };

		ret = rampool_res_list_node(l, i, j, &rn);
		if (ret)
			return ret;
		np_labels(np, sizeof(np), rn.node, ri.page_size);
		snprintf(lb, sizeof(lb), "reservation=\"%s\",%s", name, np);
		sample(f, k, lb, pick(k, rn.size, rn.held, rn.owed));
	}
	return 0;
}

static int emit_res(FILE *f, const struct rampool_res_list *l)
{
	unsigned int n = rampool_res_list_count(l);

	for (enum fam_id k = F_RES_SIZE; n && k <= F_RES_OWED; k++) {
		family(f, k);
		for (unsigned int i = 0; i < n; i++) {
			int ret = emit_res_one(f, k, l, i);

			if (ret)
				return ret;
		}
	}
	return 0;
}

/* The audit's foreign bytes of node (RAMPOOL_NODE_ANY: host-wide) and ps. */
static int foreign(const struct rampool_audit *a, int node, uint64_t ps,
		   uint64_t *out)
{
	*out = 0;
	for (unsigned int i = 0; i < rampool_audit_count(a); i++) {
		struct rampool_drift d = { .sz = sizeof(d) };
		int ret = rampool_audit_get(a, i, &d);

		if (ret)
			return ret;
		if (d.kind == RAMPOOL_DRIFT_FOREIGN && d.node == node &&
		    d.page_size == ps)
			*out += d.bytes;
	}
	return 0;
}

/* Every node and page size of the kernel, 0 where the audit found none. */
static int emit_foreign(FILE *f, const struct snap *s)
{
	unsigned int nn = rampool_capacity_node_count(s->cap);
	unsigned int ns = rampool_capacity_page_size_count(s->cap);
	uint64_t v;
	char l[128];
	int ret = 0;

	if (ns && nn)
		family(f, F_FOREIGN);
	for (unsigned int i = 0; !ret && ns && i < nn; i++) {
		struct rampool_node_info ni = { .sz = sizeof(ni) };

		ret = rampool_capacity_node(s->cap, i, &ni);
		for (unsigned int k = 0; !ret && k < ns; k++) {
			uint64_t ps = rampool_capacity_page_size(s->cap, k);

			ret = foreign(s->audit, ni.node, ps, &v);
			if (!ret)
				sample(f, F_FOREIGN,
				       np_labels(l, sizeof(l), ni.node, ps), v);
		}
	}
	for (unsigned int k = 0; !ret && k < ns; k++) {
		uint64_t ps = rampool_capacity_page_size(s->cap, k);

		ret = foreign(s->audit, RAMPOOL_NODE_ANY, ps, &v);
		if (ret)
			break;
		if (!k)
			family(f, F_FOREIGN_HOST);
		snprintf(l, sizeof(l), "page_size=\"%" PRIu64 "\"", ps);
		sample(f, F_FOREIGN_HOST, l, v);
	}
	return ret;
}

/* The whole exposition into a buffer: all of it is written, or nothing. */
/* The usage table has a row of (node, ps). */
static bool in_usage(const struct rampool_usage *u, int node, uint64_t ps)
{
	for (unsigned int i = 0; i < rampool_usage_count(u); i++) {
		struct rampool_pool_usage pu = { .sz = sizeof(pu) };

		if (!rampool_usage_at(u, i, &pu) && pu.node == node &&
		    pu.page_size == ps)
			return true;
	}
	return false;
}

/* Counter name's value at (node, ps), 0 when it never happened. */
static uint64_t count_of(const struct rampool_counters *c, const char *name,
			 int node, uint64_t ps, bool *found)
{
	for (unsigned int i = 0; i < rampool_counters_count(c); i++) {
		struct rampool_counter rc = { .sz = sizeof(rc) };

		if (!rampool_counters_at(c, i, &rc) && !strcmp(rc.name, name) &&
		    rc.node == node && rc.page_size == ps) {
			*found = true;
			return rc.value;
		}
	}
	*found = false;
	return 0;
}

/*
 * The ledger's counters: a sample for every node and page size of the
 * usage table (0 when nothing happened there, so a rate has a series from
 * the start), and any other the ledger has (node any).
 */
static int emit_counters(FILE *f, const struct snap *s)
{
	static const char *const names[] = { "refusals", "sigbus_avoided" };
	static const enum fam_id ids[] = { F_REFUSALS, F_SIGBUS };
	unsigned int nu = rampool_usage_count(s->u);
	char labels[128];
	bool found;

	for (unsigned int k = 0; k < 2; k++) {
		family(f, ids[k]);
		for (unsigned int i = 0; i < nu; i++) {
			struct rampool_pool_usage pu = { .sz = sizeof(pu) };
			int ret = rampool_usage_at(s->u, i, &pu);

			if (ret)
				return ret;
			sample(f, ids[k], np_labels(labels, sizeof(labels),
						    pu.node, pu.page_size),
			       count_of(s->counters, names[k], pu.node,
					pu.page_size, &found));
		}
		for (unsigned int i = 0;
		     i < rampool_counters_count(s->counters); i++) {
			struct rampool_counter rc = { .sz = sizeof(rc) };
			int ret = rampool_counters_at(s->counters, i, &rc);

			if (ret)
				return ret;
			if (strcmp(rc.name, names[k]) ||
			    in_usage(s->u, rc.node, rc.page_size))
				continue;
			sample(f, ids[k], np_labels(labels, sizeof(labels),
						    rc.node, rc.page_size),
			       rc.value);
		}
	}
	return 0;
}

static int render(const struct snap *s, char **buf, size_t *len)
{
	FILE *f = open_memstream(buf, len);
	int ret;

	if (!f)
		return -errno;
	ret = emit_kernel(f, s->cap);
	if (!ret) {
		family(f, F_LEDGER);
		sample(f, F_LEDGER, "", s->u != NULL);
	}
	if (!ret && s->u)
		ret = emit_usage(f, s->u);
	if (!ret && s->w)
		ret = emit_warm(f, s->w);
	if (!ret && s->res)
		ret = emit_res(f, s->res);
	if (!ret && s->audit)
		ret = emit_foreign(f, s);
	if (!ret && s->counters)
		ret = emit_counters(f, s);
	if (ferror(f) && !ret)
		ret = -ENOMEM;
	if (fclose(f) && !ret)
		ret = -ENOMEM;
	if (ret) {
		free(*buf);
		*buf = NULL;
	}
	return ret;
}

static void snap_drop_ledger(struct snap *s)
{
	rampool_usage_free(s->u);
	rampool_warm_free(s->w);
	rampool_res_list_free(s->res);
	rampool_audit_free(s->audit);
	rampool_counters_free(s->counters);
	s->counters = NULL;
	s->u = NULL;
	s->w = NULL;
	s->res = NULL;
	s->audit = NULL;
}

/*
 * The kernel's counters, then the ledger's figures (four reads, each
 * consistent in itself). A recorded tree (--sysroot) has no ledger; a
 * ledger this user may not read is said once on stderr, and the kernel's
 * metrics are still written (exit 0).
 */
static int snap_read(struct ctl *c, struct rampool_pool *pool,
		     struct snap *s)
{
	int ret;

	ctl_clear_error(c);
	ret = rampool_capacity_get(pool, &s->cap);
	if (ret)
		return sys_error(c, "metrics: cannot read the kernel's memory "
				 "state", ret, EXIT_SYSTEM);
	if (strcmp(rampool_pool_sysroot(pool), "/"))
		return EXIT_OK;
	ret = rampool_usage_get(pool, &s->u);
	if (!ret)
		ret = rampool_warm_get(pool, &s->w);
	if (!ret)
		ret = rampool_reservation_list(pool, NULL, &s->res);
	/* read-only: repairs nothing, reports foreign pages */
	if (!ret)
		ret = rampool_audit_run(pool, 0, &s->audit);
	if (!ret)
		ret = rampool_counters_get(pool, &s->counters);
	if (!ret)
		return EXIT_OK;
	snap_drop_ledger(s);
	if (ret == -EACCES || ret == -EPERM) {
		fprintf(stderr, "%s: metrics: this user may not read the "
			"ledger; only the kernel's metrics are written\n",
			prog);
		return EXIT_OK;
	}
	return sys_error(c, "metrics: cannot read the ledger", ret,
			 EXIT_SYSTEM);
}

/* One line naming DIR; 2 when it is missing or not a directory, else 3. */
static int textfile_error(const char *dir, int err)
{
	char q[PATH_MAX * 4 + 1];

	fprintf(stderr, "%s: metrics: --textfile '%s': %s\n", prog,
		quoted(dir, q, sizeof(q)), strerror(err));
	return err == ENOENT || err == ENOTDIR ? EXIT_USAGE : EXIT_SYSTEM;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * DIR/rampool.prom replaced in one rename: node_exporter's textfile
 * collector never reads half a file, and reads only *.prom, so the
 * temporary ".rampool.prom.XXXXXX" beside it is never collected.
 */
static int write_textfile(const char *dir, const char *buf, size_t len)
{
	char tmp[PATH_MAX], dst[PATH_MAX];
	int fd, err = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir,
			     PROM_FILE) >= sizeof(tmp) ||
	    (size_t)snprintf(dst, sizeof(dst), "%s/%s", dir, PROM_FILE) >=
		    sizeof(dst))
		return textfile_error(dir, ENAMETOOLONG);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return textfile_error(dir, errno);
	/* mkostemp makes it 0600; the collector may run as another user */
	if (fchmod(fd, 0644) || write_all(fd, buf, len) || fsync(fd))
		err = errno;
	if (close(fd) && !err)
		err = errno;
	if (!err && rename(tmp, dst))
		err = errno;
	if (err) {
		unlink(tmp);
		return textfile_error(dir, err);
	}
	/* the rename is durable once the directory is */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd))
		err = errno;
	if (fd >= 0)
		close(fd);
	return err ? textfile_error(dir, err) : EXIT_OK;
}

static void metrics_help(void)
{
	printf("Usage: %s [global options] metrics [--textfile DIR]\n"
	       "\n"
	       "Print the kernel's hugepage counters and the pool's figures per node\n"
	       "and page size in Prometheus's text format (0.0.4). Without read\n"
	       "access to the ledger only the kernel's metrics are written.\n"
	       "\n"
	       "Options:\n"
	       "      --textfile DIR  write DIR/" PROM_FILE " atomically instead (for\n"
	       "                      node_exporter's textfile collector)\n"
	       "  -h, --help          show this help and exit\n"
	       "\n"
	       "Metrics (gauges; labels in braces, page_size in bytes):\n",
	       prog);
	for (size_t i = 0; i < ARRAY_SIZE(fams); i++)
		printf("  %s%s%s%s\n", fams[i].name,
		       fams[i].labels[0] ? "{" : "", fams[i].labels,
		       fams[i].labels[0] ? "}" : "");
}

static int metrics_out(struct ctl *c, const struct snap *s, const char *dir)
{
	size_t len = 0;
	char *buf = NULL;
	int ret = render(s, &buf, &len), status;

	if (ret)
		return sys_error(c, "metrics", ret, EXIT_SYSTEM);
	if (dir) {
		status = write_textfile(dir, buf, len);
	} else {
		fwrite(buf, 1, len, stdout);
		status = finish_output();
	}
	free(buf);
	return status;
}

const struct option metrics_options[] = {
	{ "textfile", required_argument, NULL, 't' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 }
};

int cmd_metrics(struct ctl *c, int argc, char **argv)
{
	struct snap s = { 0 };
	struct rampool_pool *pool;
	const char *dir = NULL;
	struct stat st;
	int opt, status;

	optind = 0;	/* 0: GNU getopt starts afresh (main parsed with "+") */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", metrics_options, NULL)) != -1) {
		switch (opt) {
		case 't': dir = optarg; break;
		case 'h': metrics_help(); return EXIT_OK;
		default: return opt_error("metrics", opt, argv);
		}
	}
	if (optind < argc)
		return usage_error("metrics: unexpected argument '%s'",
				   argv[optind]);
	/* a bad DIR is said before any work */
	if (dir && stat(dir, &st))
		return textfile_error(dir, errno);
	if (dir && !S_ISDIR(st.st_mode))
		return textfile_error(dir, ENOTDIR);
	if ((status = open_pool(c, &pool)))
		return status;
	status = snap_read(c, pool, &s);
	if (!status)
		status = metrics_out(c, &s, dir);
	snap_drop_ledger(&s);
	rampool_capacity_free(s.cap);
	rampool_pool_free(pool);
	return status;
}
