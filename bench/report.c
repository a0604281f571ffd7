// SPDX-License-Identifier: LGPL-2.1-or-later
/* report.c: prints bench/prealloc's rows with their end state, and ratios only between rows that reach the same end state. */
#include <stdio.h>

#include "rampool.h"
#include "prealloc.h"
#include "util.h"

static const char *end_name(enum end_state e)
{
	static const char *const names[] = { "-", "alloc", "zeroed",
					     "mapped" };

	return names[e];
}

const char *how_name(int how)
{
	switch (how) {
	case 1: return "fallocate";
	case 2: return "populate";
	case 3: return "touch";
	default: return "?";
	}
}

/* how: rampool's method as its log said (1 fallocate, 2 populate, 3 touch) */
enum end_state end_of(const struct bcase *c, const struct method *m)
{
	switch (m->kind) {
	case K_MEMSET:
	case K_MEMSET_PAGE:
		return END_NONE;
	case K_FALLOCATE:
		return c->hugetlb ? END_ZEROED : END_ALLOC;
	case K_RAMPOOL:
		if (m->flags & RAMPOOL_BLOCK_PAGE_TABLES || m->how != 1)
			return END_MAPPED;
		return c->hugetlb ? END_ZEROED : END_ALLOC;
	default:
		return END_MAPPED;
	}
}

/* The row of that kind, flags and threads that ran, or NULL. */
static const struct method *find(const struct method *ms, unsigned int n,
				 enum kind kind, unsigned int flags,
				 unsigned int threads)
{
	for (unsigned int i = 0; i < n; i++)
		if (ms[i].ok && ms[i].kind == kind && ms[i].flags == flags &&
		    ms[i].threads == threads)
			return &ms[i];
	return NULL;
}

/* a / b when both ran and b may be compared with a; else 0 ("-") */
static double ratio(const struct method *a, const struct method *b)
{
	return a && b && a->ok && b->ok ? a->gib_s / b->gib_s : 0;
}

struct ratios {
	double ceil;	/* over the 1-thread memset: rows that zero */
	double qemu;	/* over QEMU 1 thread: mapped rows */
	double qemu_n;	/* over QEMU with as many threads: mapped rows */
};

static struct ratios row_ratios(const struct method *ms, unsigned int n,
				const struct method *m)
{
	struct ratios r = { 0, 0, 0 };

	if (m->end >= END_ZEROED)
		r.ceil = ratio(m, find(ms, n, K_MEMSET, 0, 1));
	if (m->end == END_MAPPED) {
		r.qemu = ratio(m, find(ms, n, K_POPULATE_WRITE, 0, 1));
		r.qemu_n = ratio(m, find(ms, n, K_POPULATE_WRITE, 0,
					 m->threads));
	}
	return r;
}

/* "%.2f" of v, or "-" for 0 */
static const char *fmt2(char *buf, size_t len, double v, double scale,
			int decimals)
{
	if (v <= 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.*f", decimals, v * scale);
	return buf;
}

static void print_row(const struct bcase *c, const struct method *m,
		      const char *label, struct ratios r)
{
	char b[7][16];

	if (!m->ok) {
		printf("%-10s  %-34s %3u  failed (see above)\n", c->name,
		       label, m->threads);
		return;
	}
	printf("%-10s  %-34s %3u %-6s %7.2f %6s %6s %6s %4.0f %8s | "
	       "%9s %8s %8s\n", c->name, label, m->threads, end_name(m->end),
	       m->gib_s, fmt2(b[0], 16, r.ceil, 1, 2),
	       fmt2(b[1], 16, r.qemu, 1, 2), fmt2(b[2], 16, r.qemu_n, 1, 2),
	       m->spread * 100, fmt2(b[3], 16, m->med_first, 1e3, 1),
	       m->med_fill > 0 ? fmt2(b[4], 16, (double)opt_size / GIB /
				      m->med_fill, 1, 2) : "-",
	       m->med_fill > 0 ? fmt2(b[5], 16, m->med_setup, 1e3, 1) : "-",
	       m->med_fill > 0 ? fmt2(b[6], 16, m->med_after, 1e3, 1) : "-");
}

static void json_row(const struct bcase *c, const struct method *m,
		     struct ratios r)
{
	struct json_object *o = json_object_new_object();

	jstr(o, "case", c->name);
	jstr(o, "method", m->id);
	jint(o, "threads", (int)m->threads);
	jstr(o, "end_state", end_name(m->end));
	jnum(o, "gib_s", m->gib_s, 3);
	if (r.ceil > 0)
		jnum(o, "ratio_ceiling", r.ceil, 3);
	if (r.qemu > 0)
		jnum(o, "ratio_qemu", r.qemu, 3);
	if (r.qemu_n > 0)
		jnum(o, "ratio_qemu_same_threads", r.qemu_n, 3);
	jnum(o, "seconds", m->med, 4);
	jnum(o, "best_s", m->best, 4);
	jnum(o, "spread", m->spread, 3);
	if (m->med_first >= 0)
		jnum(o, "first_write_s", m->med_first, 4);
	if (m->kind == K_RAMPOOL)
		jstr(o, "populate_method", how_name(m->how));
	if (m->kind == K_RAMPOOL && m->med_fill > 0) {
		jnum(o, "populate_gib_s", (double)opt_size / GIB / m->med_fill,
		     3);
		jnum(o, "setup_s", m->med_setup, 4);
		jnum(o, "after_s", m->med_after, 4);
	}
	json_object_array_add(j_results, o);
}

/* For each thread count: rampool's ready-to-run rows against QEMU's. */
static void summary_ready(const struct bcase *c, const struct method *ms,
			  unsigned int n, struct json_object *o)
{
	const struct method *q1 = find(ms, n, K_POPULATE_WRITE, 0, 1);
	const struct method *p1 = find(ms, n, K_RAMPOOL,
				       RAMPOOL_BLOCK_PAGE_TABLES, 1);
	unsigned int t[16], nt = thread_counts(t);
	char key[64];

	for (unsigned int i = 0; i < nt; i++) {
		const struct method *p = find(ms, n, K_RAMPOOL,
					      RAMPOOL_BLOCK_PAGE_TABLES, t[i]);
		const struct method *qn = find(ms, n, K_POPULATE_WRITE, 0,
					       t[i]);

		if (!p || !q1 || !qn)
			continue;
		say("%s: ready to run (mapped), %u thread%s: rampool "
		    "PAGE_TABLES = %.2fx QEMU 1 thread", c->name, t[i],
		    t[i] > 1 ? "s" : "", ratio(p, q1));
		if (t[i] > 1)
			say(", %.2fx QEMU prealloc-threads=%u", ratio(p, qn),
			    t[i]);
		if (t[i] > 1 && p1)
			say(", %.2fx its 1 thread", ratio(p, p1));
		say(" (fastest runs: %.2fx QEMU with the same threads)\n",
		    qn->best / p->best);
		if (!o)
			continue;
		snprintf(key, sizeof(key), "ready_%u_ratio_qemu", t[i]);
		jnum(o, key, ratio(p, q1), 3);
		snprintf(key, sizeof(key), "ready_%u_ratio_qemu_same_threads",
			 t[i]);
		jnum(o, key, ratio(p, qn), 3);
		snprintf(key, sizeof(key),
			 "ready_%u_fastest_ratio_qemu_same_threads", t[i]);
		jnum(o, key, qn->best / p->best, 3);
		if (t[i] > 1 && p1) {
			snprintf(key, sizeof(key), "ready_%u_over_1", t[i]);
			jnum(o, key, ratio(p, p1), 3);
		}
	}
}

/* The lines under a case: only figures of rows with the same end state. */
static void summary(const struct bcase *c, const struct method *ms,
		    unsigned int n, struct json_object *o)
{
	const struct method *q1 = find(ms, n, K_POPULATE_WRITE, 0, 1);
	const struct method *r1 = find(ms, n, K_RAMPOOL, 0, 1);
	const struct method *f1 = find(ms, n, K_FALLOCATE, 0, 1);
	double rc = ratio(r1, find(ms, n, K_MEMSET, 0, 1));

	if (r1 && r1->end >= END_ZEROED && rc > 0) {
		say("%s: rampool 1 thread (%s) = %.2fx the memset ceiling\n",
		    c->name, end_name(r1->end), rc);
		if (o)
			jnum(o, "rampool_1_ratio_ceiling", rc, 3);
	}
	if (r1 && r1->end == END_ALLOC && f1) {
		say("%s: rampool 1 thread only allocates (fallocate: pages not "
		    "zeroed, not mapped) = %.2fx a bare fallocate; the first "
		    "write after it takes %.0f ms, after QEMU's method %.0f ms\n",
		    c->name, ratio(r1, f1), r1->med_first * 1e3,
		    q1 ? q1->med_first * 1e3 : 0);
		if (o)
			jnum(o, "alloc_rampool_1_ratio_fallocate",
			     ratio(r1, f1), 3);
	}
	summary_ready(c, ms, n, o);
}

void report(const struct bcase *c, struct method *ms, unsigned int n,
		   double others, double steal)
{
	struct json_object *o = opt_json ? json_object_new_object() : NULL;

	if (!opt_json)
		printf("\n%-10s  %-34s %3s %-6s %7s %6s %6s %6s %4s %8s | "
		       "%9s %8s %8s\n", "case", "method", "thr", "end",
		       "GiB/s", "xceil", "xqemu", "xqN", "±%", "1st-wr",
		       "fillGiB/s", "setup ms", "after ms");
	for (unsigned int i = 0; i < n; i++) {
		const struct method *m = &ms[i];
		struct ratios r = row_ratios(ms, n, m);
		char label[96];

		snprintf(label, sizeof(label), "%s", m->label);
		if (m->kind == K_RAMPOOL && m->how >= 0)
			snprintf(label, sizeof(label), "%s [%s]", m->label,
				 how_name(m->how));
		if (!opt_json)
			print_row(c, m, label, r);
		else if (m->ok)
			json_row(c, m, r);
	}
	if (o)
		jstr(o, "case", c->name);
	summary(c, ms, n, o);
	if (o) {
		jnum(o, "other_cpus", others, 2);
		jnum(o, "steal_cpus", steal, 2);
		json_object_array_add(j_cases, o);
	}
}
