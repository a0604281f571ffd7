// SPDX-License-Identifier: LGPL-2.1-or-later
/* res_postcopy.c: seed 001 with a real QEMU: a postcopy migration into a `poolctl reserve --prealloc` file survives a page thief; into a plain hugetlbfs file it fails (issue 8, test 3). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "t_kid.h"
#include "t_qemu.h"
#include "t_res.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define RAM_MB 64
#define RAM_ARG "64M"
#define PAGES (RAM_MB / 2)	/* 2M pages of one guest's RAM */
#define RAM_BYTES ((uint64_t)RAM_MB << 20)
#define SPARE 8			/* unclaimed pages beside the two guests */
/*
 * The pattern is checked in these guest-physical ranges: SeaBIOS writes
 * below 1M, in [0x2fdf000, 48M) and in the last 128K (measured on QEMU 7.2
 * with 64M). Every page is written, so that none is a zero page: zero
 * pages cost no bandwidth and postcopy would end at once.
 */
static const uint64_t pat_ranges[][2] = {
	{ 4ULL << 20, 46ULL << 20 },
	{ 48ULL << 20, 62ULL << 20 },
};
#define PAT_RANGES (sizeof(pat_ranges) / sizeof(pat_ranges[0]))
/* bytes/s: precopy crawls; postcopy of 64M lasts about 4 s */
#define PRECOPY_BW (1ULL << 20)
#define POSTCOPY_BW (16ULL << 20)

enum steal_when {
	STEAL_AT_ADVISE,	/* right after the first discard: precopy */
	STEAL_IN_POSTCOPY,	/* once the destination is postcopy-active */
};

struct outcome {
	uint64_t stolen;	/* pages the thief got */
	uint64_t discarded;	/* HugePages_Free rise at POSTCOPY_ADVISE */
	uint64_t resv_rise;	/* HugePages_Rsvd rise then */
	char src_status[32], dst_status[32];
	int dst_signal;		/* the signal that ended the destination */
	int dst_running;	/* query-status: running */
	int pattern_ok;		/* pmemsave on the destination matches */
	int saw_postcopy;	/* the destination was postcopy-active */
	uint64_t resv_at_theft;	/* HugePages_Rsvd rise when the thief struck */
	uint64_t unclaimed_at_theft;	/* free - resv then */
	double postcopy_s;	/* from postcopy-active to the end */
};

static struct t_qemu src, dst;
static struct t_kid thief = { .pid = 0, .from = -1, .to = -1 };
static char tmp[64];
static const char *src_dir;	/* a plain hugetlbfs mount */

static void kill_all(void)
{
	t_qemu_kill(&dst);
	t_qemu_kill(&src);
	if (thief.pid > 0) {
		kill(thief.pid, SIGKILL);
		waitpid(thief.pid, NULL, 0);
		thief.pid = 0;
	}
}

/* At exit: the thief, then what was left in tmp (t_qemu kills QEMUs). */
static void cleanup(void)
{
	static const char *const names[] = { "mig.sock", "src.mem", "dst.mem" };
	char path[128];

	kill_all();
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmp, names[i]);
		unlink(path);
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* role's QEMU on mem, with extra (NULL-terminated, up to 2 more). */
static void start_qemu(struct t_qemu *q, const char *role, const char *mem,
		       const char *const extra[])
{
	char backend[512];
	const char *argv[6 + 2 + 1] = {
		"-machine", "q35,memory-backend=m0", "-m", RAM_ARG, "-object",
		t_qemu_backend(backend, sizeof(backend), "m0", mem, RAM_ARG),
	};

	for (int i = 0; extra[i]; i++)
		argv[6 + i] = extra[i];
	t_qemu_start(q, tmp, role, argv);
}

/* query-migrate's status ("none" before any), or "" when QEMU is gone. */
static void mig_status(struct t_qemu *q, char *buf, size_t len)
{
	json_object *o = t_qmp_try(q, "{\"execute\":\"query-migrate\"}"), *v;

	buf[0] = '\0';
	if (!o)
		return;
	if (json_object_object_get_ex(json_object_object_get(o, "return"),
				      "status", &v))
		snprintf(buf, len, "%s", json_object_get_string(v));
	else
		snprintf(buf, len, "none");
	json_object_put(o);
}

static void qmp_setup(struct t_qemu *q)
{
	t_qemu_connect(q, 30);
	t_qmp_ok(q, "{\"execute\":\"migrate-set-capabilities\",\"arguments\":"
		  "{\"capabilities\":[{\"capability\":\"postcopy-ram\","
		  "\"state\":true}]}}");
}

static uint64_t pat_word(uint64_t off)
{
	return (off * 0x9e3779b97f4a7c15ULL) ^ 0x5eed001ULL;
}

/* The source's RAM, through a mapping of its own file (share=on). */
static void write_pattern(const char *path)
{
	uint64_t *p;
	int fd = open(path, O_RDWR);

	if (fd < 0)
		T_FAIL("%s: %s", path, strerror(errno));
	p = mmap(NULL, RAM_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		T_FAIL("mmap %s: %s", path, strerror(errno));
	for (uint64_t off = 0; off < RAM_BYTES; off += 8)
		p[off / 8] = pat_word(off);
	munmap(p, RAM_BYTES);
	close(fd);
}

/* pmemsave of [start, end); the first bad offset, or 0 when it matches. */
static uint64_t check_range(struct t_qemu *q, const char *role, uint64_t start,
			    uint64_t end)
{
	char cmd[512], dump[128];
	uint64_t w, bad = 0;
	FILE *f;

	snprintf(dump, sizeof(dump), "%s/%s.mem", tmp, role);
	snprintf(cmd, sizeof(cmd),
		 "{\"execute\":\"pmemsave\",\"arguments\":{\"val\":%llu,"
		 "\"size\":%llu,\"filename\":\"%s\"}}",
		 (unsigned long long)start, (unsigned long long)(end - start),
		 dump);
	t_qmp_ok(q, cmd);
	f = fopen(dump, "r");
	if (!f)
		T_FAIL("%s: %s", dump, strerror(errno));
	for (uint64_t off = start; off < end; off += 8) {
		if (fread(&w, 8, 1, f) != 1)
			T_FAIL("%s: short at %" PRIu64, dump, off);
		if (w != pat_word(off)) {
			bad = off;
			printf("%s: guest-physical 0x%" PRIx64 " holds 0x%"
			       PRIx64 ", want 0x%" PRIx64 "\n", role, off, w,
			       pat_word(off));
			break;
		}
	}
	fclose(f);
	unlink(dump);
	return bad;
}

static uint64_t check_pattern(struct t_qemu *q, const char *role)
{
	uint64_t bad = 0;

	for (size_t i = 0; i < PAT_RANGES && !bad; i++)
		bad = check_range(q, role, pat_ranges[i][0], pat_ranges[i][1]);
	return bad;
}

/* The page thief takes every page nobody has claimed and holds them. */
static uint64_t steal(void)
{
	struct t_hcount c;
	uint64_t got;

	t_hcount(T_MB2, -1, &c);
	thief = t_thief_start(T_MB2, c.free, -1, 0, &got);
	/* it took every page nobody had claimed */
	T_EQ(t_res_unclaimed(T_MB2), 0);
	return got;
}

static void free_thief(void)
{
	t_thief_stop(&thief);
	thief.pid = 0;
}

static int is_final(const char *st)
{
	return !st[0] || !strcmp(st, "completed") || !strcmp(st, "failed") ||
	       !strcmp(st, "postcopy-paused") || !strcmp(st, "cancelled");
}

/* Polls the destination's status until want (or a final one); 10 s. */
static void wait_dst(struct t_qemu *dq, const char *want, struct outcome *r)
{
	double end = now_s() + 10;

	do {
		mig_status(dq, r->dst_status, sizeof(r->dst_status));
		if (!strcmp(r->dst_status, want) || is_final(r->dst_status))
			return;
		usleep(20 * 1000);
	} while (now_s() < end);
}

/* Waits for HugePages_Free to rise by the destination's RAM (ADVISE). */
static void wait_discard(const struct t_hcount *c0, struct outcome *r)
{
	double end = now_s() + 10;
	struct t_hcount c;

	do {
		t_hcount(T_MB2, -1, &c);
		if (c.free + 2 >= c0->free + PAGES)
			break;
		usleep(10 * 1000);
	} while (now_s() < end);
	r->discarded = c.free - c0->free;
	r->resv_rise = c.resv - c0->resv;
}

/* Both sides final, or 30 s; the destination's end recorded in r. */
static void wait_end(struct t_qemu *sq, struct t_qemu *dq, struct outcome *r)
{
	double end = now_s() + 30;
	int st;

	do {
		mig_status(sq, r->src_status, sizeof(r->src_status));
		mig_status(dq, r->dst_status, sizeof(r->dst_status));
		if (is_final(r->src_status) && is_final(r->dst_status))
			break;
		usleep(50 * 1000);
	} while (now_s() < end);
	/* gone: reap it to learn how it ended */
	if (!r->dst_status[0] && dq->pid > 0 && t_qemu_wait(dq, -1, &st)) {
		r->dst_signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
		if (!WIFSIGNALED(st))
			printf("destination exited with %d\n",
			       WEXITSTATUS(st));
	}
}

static void set_rates(struct t_qemu *sq)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd),
		 "{\"execute\":\"migrate-set-parameters\",\"arguments\":"
		 "{\"max-bandwidth\":%llu,\"max-postcopy-bandwidth\":%llu}}",
		 (unsigned long long)PRECOPY_BW,
		 (unsigned long long)POSTCOPY_BW);
	t_qmp_ok(sq, cmd);
}

/* Source running with the pattern in its RAM; both QMPs set up. */
static void start_pair(const char *src_file, const char *dst_file,
		       struct t_qemu *sq, struct t_qemu *dq)
{
	char uri[128];

	snprintf(uri, sizeof(uri), "unix:%s/mig.sock", tmp);
	start_qemu(sq, "src", src_file, (const char *const[]){ "-S", NULL });
	start_qemu(dq, "dst", dst_file,
		   (const char *const[]){ "-incoming", uri, NULL });
	qmp_setup(sq);
	qmp_setup(dq);
	write_pattern(src_file);
	t_qmp_ok(sq, "{\"execute\":\"cont\"}");
	usleep(300 * 1000);
	/* the guest has run and left the checked range alone */
	T_EQ(check_pattern(sq, "src"), 0);
	set_rates(sq);
}

static void migrate(struct t_qemu *sq, struct t_qemu *dq, enum steal_when when,
		    struct outcome *r)
{
	struct t_hcount c0, c;
	char cmd[256];
	json_object *o;
	double t0;

	t_hcount(T_MB2, -1, &c0);
	snprintf(cmd, sizeof(cmd), "{\"execute\":\"migrate\",\"arguments\":"
		 "{\"uri\":\"unix:%s/mig.sock\"}}", tmp);
	t_qmp_ok(sq, cmd);
	wait_discard(&c0, r);
	printf("at POSTCOPY_ADVISE: HugePages_Free +%" PRIu64 ", Rsvd +%"
	       PRIu64 "\n", r->discarded, r->resv_rise);
	if (when == STEAL_AT_ADVISE) {
		r->resv_at_theft = r->resv_rise;
		r->unclaimed_at_theft = t_res_unclaimed(T_MB2);
		r->stolen = steal();
	}
	/* refused when the destination already died: that is recorded */
	o = t_qmp_try(sq, "{\"execute\":\"migrate-start-postcopy\"}");
	json_object_put(o);
	wait_dst(dq, "postcopy-active", r);
	r->saw_postcopy = !strcmp(r->dst_status, "postcopy-active");
	t0 = now_s();
	if (when == STEAL_IN_POSTCOPY) {
		if (!r->saw_postcopy)
			T_FAIL("destination is '%s', not postcopy-active",
			       r->dst_status);
		t_hcount(T_MB2, -1, &c);
		r->resv_at_theft = c.resv - c0.resv;
		r->unclaimed_at_theft = c.free - c.resv;
		r->stolen = steal();
	}
	wait_end(sq, dq, r);
	if (r->saw_postcopy)
		r->postcopy_s = now_s() - t0;
}

static void dst_checks(struct t_qemu *dq, struct outcome *r)
{
	json_object *o, *ret;

	if (strcmp(r->dst_status, "completed"))
		return;
	o = t_qmp_try(dq, "{\"execute\":\"query-status\"}");
	if (!o)
		T_FAIL("destination gone after completing");
	ret = t_jget(o, "return");
	r->dst_running = json_object_get_boolean(t_jget(ret, "running")) &&
			 !strcmp(t_jget_str(ret, "status"), "running");
	json_object_put(o);
	r->pattern_ok = check_pattern(dq, "dst") == 0;
}

static void make_file(char *path, size_t len, const char *dir,
		      const char *name)
{
	int fd;

	snprintf(path, len, "%s/%s", dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)RAM_BYTES))
		T_FAIL("%s: %s", path, strerror(errno));
	close(fd);
}

static struct outcome run(const char *what, const char *dst_file,
			  enum steal_when when)
{
	struct t_qemu *sq = &src, *dq = &dst;
	struct outcome r = { 0 };
	double t0 = now_s();
	char src_file[256];

	make_file(src_file, sizeof(src_file), src_dir, "src");
	printf("--- %s, thief %s\n", what, when == STEAL_AT_ADVISE ?
	       "right after the ADVISE discard" : "once postcopy-active");
	start_pair(src_file, dst_file, sq, dq);
	migrate(sq, dq, when, &r);
	dst_checks(dq, &r);
	printf("thief got %" PRIu64 " of %" PRIu64 " unclaimed pages (Rsvd +%"
	       PRIu64 " then); "
	       "source '%s', destination '%s'%s%s; postcopy %s %.1f s; "
	       "running %d, pattern %s; run %.1f s\n", r.stolen,
	       r.unclaimed_at_theft, r.resv_at_theft, r.src_status,
	       r.dst_status[0] ? r.dst_status : "(gone)",
	       r.dst_signal ? ", killed by " : "",
	       r.dst_signal ? strsignal(r.dst_signal) : "",
	       r.saw_postcopy ? "active for" : "never active,", r.postcopy_s,
	       r.dst_running, r.pattern_ok ? "intact" : "not checked or wrong",
	       now_s() - t0);
	if (strcmp(r.dst_status, "completed")) {
		t_qemu_show_log(sq);
		t_qemu_show_log(dq);
	}
	t_qemu_close(sq);
	t_qemu_close(dq);
	if (thief.pid)
		free_thief();
	kill_all();
	if (unlink(src_file))
		T_FAIL("unlink %s: %s", src_file, strerror(errno));
	return r;
}

static void expect_base(const struct t_hcount *base, const char *when)
{
	struct t_hcount now;

	t_hcount(T_MB2, -1, &now);
	printf("%s: total %" PRIu64 " free %" PRIu64 " resv %" PRIu64 "\n",
	       when, now.total, now.free, now.resv);
	T_HCOUNT_EQ(now, *base);
}

/* The reservation: the thief gets only the spare pages; all is well. */
static void with_reservation(enum steal_when when,
			     const struct t_hcount *base)
{
	struct outcome r;
	char *path;

	t_poolctl_ok(0, "reserve", "pc1", "--size", RAM_ARG, "--page-size",
		     "2M", "--prealloc", NULL);
	path = t_res_path("pc1");
	r = run("reservation", path, when);
	T_ASSERT(r.discarded + 2 >= PAGES);
	/* every punched page stayed reserved to the mount */
	T_EQ(r.resv_rise, r.discarded);
	T_EQ(r.unclaimed_at_theft, SPARE);
	T_EQ(r.stolen, SPARE);
	/* the thief struck while pages were still to come from the reserve */
	T_ASSERT(r.resv_at_theft > 0);
	T_ASSERT(r.saw_postcopy);
	T_EQ(r.dst_signal, 0);
	T_ASSERT(!strcmp(r.src_status, "completed"));
	T_ASSERT(!strcmp(r.dst_status, "completed"));
	T_ASSERT(r.dst_running);
	T_ASSERT(r.pattern_ok);
	t_poolctl_ok(0, "release", "pc1", NULL);
	free(path);
	T_EQ(t_res_mounts(), 0);
	expect_base(base, "reservation released");
}

/* The control: a plain hugetlbfs file; the destination must fail. */
static void control(enum steal_when when, const struct t_hcount *base)
{
	char path[256];
	struct outcome r;

	make_file(path, sizeof(path), src_dir, "plain");
	r = run("control (plain hugetlbfs file)", path, when);
	T_ASSERT(r.discarded + 2 >= PAGES);
	T_EQ(r.resv_rise, 0);	/* nobody keeps the punched pages */
	/* the thief got the destination's missing pages too */
	T_ASSERT(r.unclaimed_at_theft > SPARE);
	T_ASSERT(r.stolen > SPARE && r.stolen <= r.unclaimed_at_theft);
	T_ASSERT(!r.dst_running && !r.pattern_ok);
	/*
	 * DESIGN fact 13: in precopy the destination dies of SIGBUS without
	 * a word and the source fails; in postcopy UFFDIO_COPY says EEXIST
	 * and both sides pause.
	 */
	if (when == STEAL_AT_ADVISE) {
		T_EQ(r.dst_signal, SIGBUS);
		T_ASSERT(!r.dst_status[0]);
		T_ASSERT(!strcmp(r.src_status, "failed"));
	} else {
		T_EQ(r.dst_signal, 0);
		T_ASSERT(!strcmp(r.dst_status, "postcopy-paused"));
		T_ASSERT(!strcmp(r.src_status, "postcopy-paused"));
	}
	if (unlink(path))
		T_FAIL("unlink %s: %s", path, strerror(errno));
	expect_base(base, "control cleaned up");
}

int main(void)
{
	struct t_hcount base;
	double t0 = now_s();
	char mnt[128];

	if (geteuid() != 0)
		t_skip("needs root (hugetlbfs mounts, the hugepage pool)");
	t_qemu_require();
	t_require_hugetlb(T_MB2);
	t_res_dir();
	src_dir = t_mount_hugetlbfs(T_MB2, NULL);
	snprintf(tmp, sizeof(tmp), "%s", t_tmpdir("/tmp"));
	t_atcleanup(cleanup);
	t_res_pool_unclaimed(T_MB2, 2 * PAGES + SPARE);
	t_hcount(T_MB2, -1, &base);

	with_reservation(STEAL_AT_ADVISE, &base);
	control(STEAL_AT_ADVISE, &base);
	with_reservation(STEAL_IN_POSTCOPY, &base);
	control(STEAL_IN_POSTCOPY, &base);

	snprintf(mnt, sizeof(mnt), "%s", src_dir);
	t_umount(src_dir);	/* clears src_dir's buffer */
	T_ASSERT(!t_is_mount(mnt));
	T_EQ(t_res_mounts(), 0);
	expect_base(&base, "end");
	t_res_audit_clean();
	printf("total %.1f s\n", now_s() - t0);
	return 0;
}
