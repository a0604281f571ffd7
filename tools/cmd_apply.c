// SPDX-License-Identifier: LGPL-2.1-or-later
/* cmd_apply.c: poolctl apply: makes the host's hugepage pools, warm targets and declared reservations match rampool.conf(5). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmds.h"
#include "conf.h"

#define APPLY_DEFAULT_FILE "/etc/rampool/pool.conf"

enum { A_ACTION, A_WHAT, A_FROM, A_TO, A_RESULT, A_WHY };
static const struct col apply_cols[] = {
	[A_ACTION] = { "ACTION", "action", COL_STR, COL_LEFT,
		       "pages, warm, reserve or release" },
	[A_WHAT] = { "WHAT", "what", COL_STR, COL_LEFT,
		     "the node and page size, warm section or reservation" },
	[A_FROM] = { "FROM", "from", COL_STR, COL_LEFT,
		     "what the host has now (- none)" },
	[A_TO] = { "TO", "to", COL_STR, COL_LEFT,
		   "what the file declares (- none)" },
	[A_RESULT] = { "RESULT", "result", COL_STR, COL_LEFT,
		       "done, would (--dry-run), refused, short or failed" },
	[A_WHY] = { "WHY", "why", COL_STR, COL_LEFT,
		    "why it was refused or failed" },
};

/* One run: the file, the pool, the rows and what went wrong. */
struct apply {
	struct ctl *c;
	struct rampool_pool *pool;
	struct conf conf;
	struct table t;
	bool dry;
	uint64_t def_ps;		/* the default hugepage size */
	struct rampool_res_list *list;	/* the ledger's rows, before */
	unsigned int problems;
};

static void apply_help(void)
{
	printf("Usage: %s [global options] apply [FILE] [--dry-run] [-J]\n"
	       "\n"
	       "Makes the host match FILE (default " APPLY_DEFAULT_FILE ", see\n"
	       "rampool.conf(5)): the kernel's hugepage pool per node, warm pool\n"
	       "targets and standing reservations. Releases the reservations an\n"
	       "earlier apply made that FILE no longer declares; never touches a\n"
	       "reservation apply did not make. A second run changes nothing and\n"
	       "says so. Exit 1 when something could not be done (each named),\n"
	       "2 when FILE is bad (FILE:LINE: why; nothing changed). Root only,\n"
	       "except --dry-run.\n"
	       "\n"
	       "Options:\n"
	       "      --dry-run     print the plan, change nothing\n"
	       "  -J, --json        print JSON\n"
	       "  -h, --help        show this help and exit\n"
	       "\n"
	       "Columns (JSON keys in lower case):\n",
	       prog);
	table_help(apply_cols, ARRAY_SIZE(apply_cols));
}

/* A row of the plan; why NULL: a change (done or would), else a problem. */
static int step(struct apply *a, const char *action, const char *what,
		const char *from, const char *to, const char *result,
		const char *why)
{
	int r = table_row(&a->t);

	if (r < 0 || table_str(&a->t, r, A_ACTION, action) ||
	    table_str(&a->t, r, A_WHAT, what) ||
	    (from && table_str(&a->t, r, A_FROM, from)) ||
	    (to && table_str(&a->t, r, A_TO, to)) ||
	    table_str(&a->t, r, A_RESULT, result) ||
	    (why && table_str(&a->t, r, A_WHY, why)))
		return -ENOMEM;
	if (why) {
		a->problems++;
		fprintf(stderr, "%s: apply: %s %s: %s\n", prog, action, what,
			why);
	}
	return 0;
}

/* The library's last message, else strerror. */
static const char *why_of(struct apply *a, int err)
{
	return a->c->last_err[0] ? a->c->last_err : strerror(-err);
}

static const char *done_word(const struct apply *a)
{
	return a->dry ? "would" : "done";
}

/* ---- reservations -------------------------------------------------------- */

static uint64_t res_ps(const struct apply *a, const struct conf_res *r)
{
	if (r->page_size)
		return r->page_size;
	return r->backing == RAMPOOL_RES_SHMEM ? 4096 : a->def_ps;
}

/* "64G of 1G pages on node 1" */
static void res_shape(char *buf, size_t len, uint64_t size, uint64_t extra,
		      uint64_t ps, const struct rampool_res_node *n,
		      unsigned int nr)
{
	char s[32], e[32], p[32], one[48];
	size_t o;

	o = (size_t)snprintf(buf, len, "%s%s%s of %s pages%s",
			     size_str(s, sizeof(s), size, false),
			     extra ? "+" : "",
			     extra ? size_str(e, sizeof(e), extra, false) : "",
			     size_str(p, sizeof(p), ps, false),
			     n ? " on " : "");
	if (!n)
		return;
	if (!nr && o < len)
		snprintf(buf + o, len - o, "any node");
	for (unsigned int i = 0; i < nr && o < len; i++) {
		snprintf(one, sizeof(one), "%s%d:%s", i ? "," : "node ",
			 n[i].node, size_str(s, sizeof(s), n[i].size, false));
		o += (size_t)snprintf(buf + o, len - o, "%s", one);
	}
}

/*
 * NULL when the reservation in the ledger (row idx) has the declared
 * shape: page size, backing, owner, size + extra, the same nodes.
 */
static const char *res_differs(const struct apply *a, const struct conf_res *r,
			       unsigned int idx,
			       const struct rampool_reservation_info *ri)
{
	long long uid = r->owner_uid == -1 ? (long long)getuid() : r->owner_uid;
	enum rampool_res_backing b = r->backing ? r->backing
						: RAMPOOL_RES_HUGETLB;
	unsigned int any = 0;

	if (ri->page_size != res_ps(a, r) || ri->backing != b)
		return "another page size or backing";
	if (ri->size + ri->extra != r->size + r->extra)
		return "another size";
	if ((long long)ri->owner_uid != uid)
		return "another owner";
	for (unsigned int k = 0; k < ri->nr_nodes; k++) {
		struct rampool_reservation_node_info ni = { .sz = sizeof(ni) };
		bool found = false;

		if (rampool_res_list_node(a->list, idx, k, &ni))
			return "its nodes cannot be read";
		any += ni.node == RAMPOOL_NODE_ANY;
		for (unsigned int i = 0; i < r->nr_nodes; i++)
			found |= r->nodes[i].node == ni.node;
		if (!found && ni.node != RAMPOOL_NODE_ANY)
			return "other nodes";
	}
	if (r->nr_nodes ? ri->nr_nodes != r->nr_nodes : any != ri->nr_nodes)
		return "other nodes";
	return NULL;
}

/* Row of the ledger named name (a reservation, not a block): idx or -1. */
static int res_find(const struct apply *a, const char *name,
		    struct rampool_reservation_info *ri)
{
	unsigned int n = rampool_res_list_count(a->list);

	for (unsigned int i = 0; i < n; i++) {
		*ri = (struct rampool_reservation_info){ .sz = sizeof(*ri) };
		if (!rampool_res_list_get(a->list, i, ri) &&
		    !strcmp(ri->name, name) &&
		    !(ri->flags & RAMPOOL_RES_F_BLOCK))
			return (int)i;
	}
	return -1;
}

static int res_make(struct apply *a, const struct conf_res *r)
{
	struct rampool_reservation_opts o = {
		.sz = sizeof(o), .size = r->size, .page_size = r->page_size,
		.backing = r->backing, .nodes = r->nodes,
		.nr_nodes = r->nr_nodes, .extra = r->extra,
		.owner_uid = r->owner_uid,
		.flags = RAMPOOL_RES_DECLARED |
			 (r->prealloc ? RAMPOOL_RES_PREALLOC : 0),
	};
	char to[256];
	int ret = 0;

	res_shape(to, sizeof(to), r->size, r->extra, res_ps(a, r), r->nodes,
		  r->nr_nodes);
	if (!a->dry) {
		ctl_clear_error(a->c);
		ret = rampool_reservation_new(a->pool, r->name, &o);
	}
	if (ret)
		return step(a, "reserve", r->name, NULL, to, "failed",
			    why_of(a, ret));
	return step(a, "reserve", r->name, NULL, to, done_word(a), NULL);
}

/* Each declared reservation: made when missing, else checked. */
static int res_declared(struct apply *a)
{
	struct rampool_reservation_info ri;
	char why[160];
	const char *d;
	int ret = 0, idx;

	for (unsigned int i = 0; !ret && i < a->conf.nr_res; i++) {
		const struct conf_res *r = &a->conf.res[i];

		idx = res_find(a, r->name, &ri);
		if (idx < 0) {
			ret = res_make(a, r);
		} else if (!(ri.flags & RAMPOOL_RES_F_DECLARED)) {
			ret = step(a, "reserve", r->name, NULL, NULL,
				   "refused", "a reservation of that name "
				   "exists that apply did not make: left "
				   "alone");
		} else if ((d = res_differs(a, r, (unsigned int)idx, &ri))) {
			snprintf(why, sizeof(why), "made by apply with %s "
				 "than the file's: not changed (release it "
				 "for apply to make it again)", d);
			ret = step(a, "reserve", r->name, NULL, NULL,
				   "refused", why);
		}
	}
	return ret;
}

static bool res_in_conf(const struct conf *conf, const char *name)
{
	for (unsigned int i = 0; i < conf->nr_res; i++)
		if (!strcmp(conf->res[i].name, name))
			return true;
	return false;
}

/* apply's own reservations that the file no longer declares go. */
static int res_undeclared(struct apply *a)
{
	unsigned int n = rampool_res_list_count(a->list);
	char from[256];
	int ret = 0, err = 0;

	for (unsigned int i = 0; !ret && i < n; i++) {
		struct rampool_reservation_info ri = { .sz = sizeof(ri) };

		if (rampool_res_list_get(a->list, i, &ri) ||
		    !(ri.flags & RAMPOOL_RES_F_DECLARED) ||
		    (ri.flags & RAMPOOL_RES_F_BLOCK) ||
		    res_in_conf(&a->conf, ri.name))
			continue;
		res_shape(from, sizeof(from), ri.size, ri.extra, ri.page_size,
			  NULL, 0);
		if (!a->dry) {
			ctl_clear_error(a->c);
			err = rampool_reservation_release(a->pool, ri.name);
		}
		if (err)
			ret = step(a, "release", ri.name, from, NULL, "failed",
				   err == -EBUSY ? "in use (its file is open "
				   "or mapped): kept" : why_of(a, err));
		else
			ret = step(a, "release", ri.name, from, NULL,
				   done_word(a), NULL);
	}
	return ret;
}

/* ---- hugepage pools ------------------------------------------------------ */

/* One node's row of a pages call as a step. */
static int pages_row(struct apply *a, const struct rampool_hugepages_row *h,
		     bool wrote)
{
	char what[64], from[32], to[32], why[512];
	const char *res = wrote ? "done" : "would";

	snprintf(what, sizeof(what), "%s node %d", size_str(from, sizeof(from),
		 h->page_size, false), h->node);
	snprintf(from, sizeof(from), "%llu", (unsigned long long)h->before);
	snprintf(to, sizeof(to), "%llu", (unsigned long long)h->asked);
	if (h->flags & RAMPOOL_HUGEPAGES_F_REFUSED) {
		snprintf(why, sizeof(why), "below the %llu pages the pool "
			 "holds there (%s)", (unsigned long long)h->floor,
			 h->held_by);
		return step(a, "pages", what, from, to, "refused", why);
	}
	if (wrote && (h->flags & RAMPOOL_HUGEPAGES_F_SHORT)) {
		snprintf(why, sizeof(why), "asked %llu on node %d, got %llu",
			 (unsigned long long)h->asked, h->node,
			 (unsigned long long)h->got);
		return step(a, "pages", what, from, to, "short", why);
	}
	if (wrote && (h->flags & RAMPOOL_HUGEPAGES_F_KEPT)) {
		snprintf(why, sizeof(why), "the kernel kept %llu (pages in "
			 "use outside the pool)", (unsigned long long)h->got);
		return step(a, "pages", what, from, to, "refused", why);
	}
	if (wrote && !(h->flags & RAMPOOL_HUGEPAGES_F_WRITTEN))
		res = "failed";
	return step(a, "pages", what, from, to, res,
		    wrote && !(h->flags & RAMPOOL_HUGEPAGES_F_WRITTEN) ?
		    "not written: an earlier node failed" : NULL);
}

/* The rows of h that change a node (before != asked) as steps. */
static int pages_rows(struct apply *a, const struct rampool_hugepages *h,
		      bool wrote)
{
	unsigned int n = rampool_hugepages_count(h);
	int ret = 0;

	for (unsigned int i = 0; !ret && i < n; i++) {
		struct rampool_hugepages_row r = { .sz = sizeof(r) };

		if (!rampool_hugepages_row(h, i, &r) && r.before != r.asked)
			ret = pages_row(a, &r, wrote);
	}
	return ret;
}

/* One [pages] section: a dry run to learn what differs, then the writes. */
static int pages_one(struct apply *a, const struct conf_pages *p)
{
	struct rampool_hugepages_req req[CONF_MAX_NODES];
	struct rampool_hugepages *h = NULL;
	struct rampool_hugepages_row r;
	unsigned int n = 0;
	char what[32];
	int ret;

	for (unsigned int i = 0; i < p->nr; i++)
		req[i] = (struct rampool_hugepages_req){ .node = p->n[i].node,
						.count = p->n[i].count };
	size_str(what, sizeof(what), p->page_size, false);
	ctl_clear_error(a->c);
	ret = rampool_hugepages_set(a->pool, p->page_size, req, p->nr,
				    RAMPOOL_HUGEPAGES_DRY_RUN, &h);
	if (!h)
		return step(a, "pages", what, NULL, NULL, "failed",
			    why_of(a, ret));
	for (unsigned int i = 0; i < rampool_hugepages_count(h); i++) {
		r = (struct rampool_hugepages_row){ .sz = sizeof(r) };
		if (!rampool_hugepages_row(h, i, &r) && r.before != r.asked)
			req[n++] = (struct rampool_hugepages_req){
				.node = r.node, .count = r.asked };
	}
	if (a->dry || !n) {
		ret = pages_rows(a, h, false);
		rampool_hugepages_free(h);
		return ret;
	}
	rampool_hugepages_free(h);
	h = NULL;
	ctl_clear_error(a->c);
	ret = rampool_hugepages_set(a->pool, p->page_size, req, n, 0, &h);
	if (!h)
		return step(a, "pages", what, NULL, NULL, "failed",
			    why_of(a, ret));
	ret = pages_rows(a, h, true);
	rampool_hugepages_free(h);
	return ret;
}

/* ---- warm targets ------------------------------------------------------- */

/* The target of w's shape now (0: none). */
static unsigned int warm_now(const struct rampool_warm *wg,
			     const struct rampool_warm_target *t)
{
	for (unsigned int i = 0; i < rampool_warm_count(wg); i++) {
		struct rampool_warm_info wi = { .sz = sizeof(wi) };

		if (!rampool_warm_at(wg, i, &wi) && wi.node == t->node &&
		    wi.backing == t->backing && wi.page_size == t->page_size &&
		    wi.slot_size == t->slot_size)
			return wi.target;
	}
	return 0;
}

static int warm_one(struct apply *a, const struct rampool_warm *wg,
		    const struct conf_warm *w)
{
	struct rampool_warm_target t = {
		.sz = sizeof(t), .node = w->node, .count = w->count,
		.backing = w->backing ? w->backing : RAMPOOL_RES_HUGETLB,
		.slot_size = w->size, .page_size = w->page_size,
	};
	char what[160], s[32], p[32], from[32], to[32];
	unsigned int now;
	int ret = 0;

	if (!t.page_size)
		t.page_size = t.backing == RAMPOOL_RES_SHMEM ? 4096 : a->def_ps;
	now = warm_now(wg, &t);
	if (now == w->count)
		return 0;
	snprintf(what, sizeof(what), "%s (%s slots of %s pages on node %d)",
		 w->label, size_str(s, sizeof(s), w->size, false),
		 size_str(p, sizeof(p), t.page_size, false), w->node);
	snprintf(from, sizeof(from), "%u", now);
	snprintf(to, sizeof(to), "%u", w->count);
	if (!a->dry) {
		ctl_clear_error(a->c);
		ret = rampool_warm_set(a->pool, &t);
	}
	if (ret)
		return step(a, "warm", what, from, to, "failed",
			    why_of(a, ret));
	return step(a, "warm", what, from, to, done_word(a), NULL);
}

static int warm_all(struct apply *a)
{
	struct rampool_warm *wg = NULL;
	int ret;

	if (!a->conf.nr_warm)
		return 0;
	ctl_clear_error(a->c);
	ret = rampool_warm_get(a->pool, &wg);
	if (ret)
		return step(a, "warm", "targets", NULL, NULL, "failed",
			    why_of(a, ret));
	for (unsigned int i = 0; !ret && i < a->conf.nr_warm; i++)
		ret = warm_one(a, wg, &a->conf.warm[i]);
	rampool_warm_free(wg);
	return ret;
}

/* ---- the command --------------------------------------------------------- */

/* FILE into a malloc'd buffer (at most CONF_MAX_BYTES + 1 bytes). */
static int read_file(const char *file, char **buf, size_t *len)
{
	size_t cap = CONF_MAX_BYTES + 1, n = 0;
	ssize_t got;
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	char *b;

	if (fd < 0)
		return -errno;
	b = malloc(cap);
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	while (n < cap && (got = read(fd, b + n, cap - n)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			got = -errno;
			free(b);
			close(fd);
			return (int)got;
		}
		n += (size_t)got;
	}
	close(fd);
	*buf = b;
	*len = n;
	return 0;
}

/* The conf of file, or the line saying why not (EXIT_*). */
static int load(const char *file, struct conf *conf)
{
	char err[512], q[256];
	size_t len = 0;
	char *buf = NULL;
	int ret = read_file(file, &buf, &len);

	if (ret)
		return input_error("apply: %s: %s", quoted(file, q, sizeof(q)),
				   strerror(-ret));
	ret = conf_parse(buf, len, file, conf, err, sizeof(err));
	free(buf);
	if (ret == -ENOMEM) {
		fprintf(stderr, "%s: apply: %s: %s\n", prog, file,
			strerror(ENOMEM));
		return EXIT_SYSTEM;
	}
	if (ret) {
		fprintf(stderr, "%s\n", err);
		return EXIT_USAGE;
	}
	return 0;
}

static int apply_prepare(struct apply *a)
{
	struct rampool_host_info hi = { .sz = sizeof(hi) };
	struct rampool_capacity *cap = NULL;
	int ret;

	ctl_clear_error(a->c);
	ret = rampool_capacity_get(a->pool, &cap);
	if (!ret)
		ret = rampool_capacity_host(cap, &hi);
	rampool_capacity_free(cap);
	if (ret)
		return sys_error(a->c, "apply: the host's capacity", ret,
				 EXIT_SYSTEM);
	a->def_ps = hi.default_page_size;
	ret = rampool_reservation_list(a->pool, NULL, &a->list);
	if (ret)
		return sys_error(a->c, "apply: the ledger", ret, EXIT_SYSTEM);
	return 0;
}

static int apply_print(struct apply *a, const char *file, bool json)
{
	json_object *root, *rows;

	if (!json) {
		if (!a->t.nrows)
			printf("nothing to change\n");
		else
			table_print(&a->t, &(struct out_opts){ 0 });
		return finish_output();
	}
	root = json_object_new_object();
	rows = table_json(&a->t);
	if (!root || !rows ||
	    json_object_object_add(root, "file", json_object_new_string(file)) ||
	    json_object_object_add(root, "dry_run",
				   json_object_new_boolean(a->dry)) ||
	    json_object_object_add(root, "changes", json_object_new_int(
				   (int)(a->t.nrows - a->problems))) ||
	    json_object_object_add(root, "problems",
				   json_object_new_int((int)a->problems)) ||
	    json_object_object_add(root, "actions", rows)) {
		json_object_put(root);
		return sys_error(a->c, "apply", -ENOMEM, EXIT_SYSTEM);
	}
	json_print(root);
	return finish_output();
}

/* releases first (they free capacity), then pools, reservations, targets */
static int apply_run(struct apply *a)
{
	int ret = res_undeclared(a);

	for (unsigned int i = 0; !ret && i < a->conf.nr_pages; i++)
		ret = pages_one(a, &a->conf.pages[i]);
	if (!ret)
		ret = res_declared(a);
	if (!ret)
		ret = warm_all(a);
	return ret;
}

const struct option apply_options[] = {
	{ "dry-run", no_argument, NULL, 'D' },
	{ "json", no_argument, NULL, 'J' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 }
};

int cmd_apply(struct ctl *c, int argc, char **argv)
{
	struct apply a = { .c = c, .t = TABLE_INIT(apply_cols) };
	const char *file = APPLY_DEFAULT_FILE;
	bool json = false;
	int opt, status;

	optind = 0;	/* 0: GNU getopt starts afresh (main parsed with "+") */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":Jh", apply_options,
				  NULL)) != -1) {
		switch (opt) {
		case 'h': apply_help(); return EXIT_OK;
		case 'D': a.dry = true; break;
		case 'J': json = true; break;
		default: return opt_error("apply", opt, argv);
		}
	}
	if (optind < argc)
		file = argv[optind++];
	if (optind < argc)
		return usage_error("apply: unexpected argument '%s'",
				   argv[optind]);
	if ((status = load(file, &a.conf)))
		return status;
	if (!a.dry && geteuid()) {
		conf_free(&a.conf);
		fprintf(stderr, "%s: apply: only root changes the host "
			"(--dry-run prints the plan)\n", prog);
		return EXIT_REFUSED;
	}
	if (!(status = open_pool(c, &a.pool)) &&
	    !(status = apply_prepare(&a))) {
		if (apply_run(&a))
			status = sys_error(c, "apply", -ENOMEM, EXIT_SYSTEM);
		else
			status = apply_print(&a, file, json);
		if (!status && a.problems)
			status = EXIT_REFUSED;
	}
	rampool_res_list_free(a.list);
	rampool_pool_free(a.pool);
	table_free(&a.t);
	conf_free(&a.conf);
	return status;
}
