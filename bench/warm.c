// SPDX-License-Identifier: LGPL-2.1-or-later
/* warm.c: the warm pool of issue 10 through the public API: claim latency of 1G and 8G slots, poolctl reserve, claim plus the VMM's page tables, QEMU to its QMP answer and the scrub rate, each against a cold reservation of the same size in the same run. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rampool.h"
#include "util.h"

#define MB2 (2ULL << 20)
#define QEMU "/usr/bin/qemu-system-x86_64"
#define QMP_WAIT_S 120

static unsigned int opt_claims = 200, opt_repeat = 3;
static bool opt_no_qemu, opt_verbose;
static char state[64];		/* the pool's private state dir under /run */
static char coldmnt[96];	/* hugetlbfs mount of QEMU's cold baseline */
static char poolctl[PATH_MAX];
static struct rampool_pool *pool;
static unsigned int serial;	/* reservation names */
static pid_t qemu_pid;

/* ---- figures ------------------------------------------------------------ */

struct series {
	double v[1000];
	unsigned int n;
};

static void add(struct series *s, double secs)
{
	if (s->n < sizeof(s->v) / sizeof(s->v[0]))
		s->v[s->n++] = secs;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile in ms (nearest rank below, as bench/reserve); 0 if empty. */
static double ms_q(const struct series *s, double q)
{
	double t[1000];

	if (!s->n)
		return 0;
	memcpy(t, s->v, s->n * sizeof(double));
	qsort(t, s->n, sizeof(double), cmp_d);
	return t[(size_t)(s->n * q)] * 1e3;
}

static double p50(const struct series *s)
{
	return s->n ? median(s->v, s->n) * 1e3 : 0;
}

static void row(const char *size, const char *what, const struct series *s)
{
	if (!s->n) {
		say("%-4s %-46s %10s\n", size, what, "-");
		return;
	}
	say("%-4s %-46s %10.3f %10.3f %4u\n", size, what, p50(s),
	    ms_q(s, 0.99), s->n);
}

static double ratio(double a, double b)
{
	return b > 0 ? a / b : 0;
}

static double gibs(uint64_t len, double ms)
{
	return ms > 0 ? (double)len / GIB / (ms / 1e3) : 0;
}

/* ---- the pool ----------------------------------------------------------- */

static void res_opts(struct rampool_reservation_opts *o,
		     struct rampool_res_node *nd, uint64_t size,
		     unsigned int flags)
{
	*nd = (struct rampool_res_node){ .node = 0, .size = size };
	*o = (struct rampool_reservation_opts){
		.sz = sizeof(*o), .size = size, .page_size = MB2,
		.backing = RAMPOOL_RES_HUGETLB, .nodes = nd, .nr_nodes = 1,
		.flags = flags, .owner_uid = -1,
	};
}

static int set_target(uint64_t size, unsigned int count)
{
	struct rampool_warm_target t = {
		.sz = sizeof(t), .node = 0, .backing = RAMPOOL_RES_HUGETLB,
		.page_size = MB2, .slot_size = size, .count = count,
	};
	int ret = rampool_warm_set(pool, &t);

	if (ret)
		complain("warm set %" PRIu64 "M x%u: %s", size >> 20, count,
			 strerror(-ret));
	return ret;
}

/* rampool_warm_fill with the default threads; seconds, < 0 failed. */
static double fill(struct rampool_warm_fill_stats *st)
{
	struct rampool_warm_fill_opts o = { .sz = sizeof(o) };
	double t0 = now();
	int ret;

	*st = (struct rampool_warm_fill_stats){ .sz = sizeof(*st) };
	ret = rampool_warm_fill(pool, &o, st);
	if (ret) {
		complain("warm fill: %s (made %u, scrubbed %u, short %u)",
			 strerror(-ret), st->made, st->scrubbed,
			 st->short_slots);
		return -1;
	}
	return now() - t0;
}

/* 1 the reservation came from the warm pool, 0 not, < 0 error. */
static int is_warm(const char *name)
{
	struct rampool_reservation_info in = { .sz = sizeof(in) };
	struct rampool_res_list *l;
	int ret = rampool_reservation_list(pool, name, &l);

	if (ret)
		return ret;
	ret = rampool_res_list_get(l, 0, &in);
	rampool_res_list_free(l);
	return ret ? ret : !!(in.flags & RAMPOOL_RES_F_WARM);
}

/* Claims name; seconds, < 0 failed or warm was not as expected. */
static double reserve(const char *name, uint64_t size, unsigned int flags,
		      int want_warm)
{
	struct rampool_reservation_opts o;
	struct rampool_res_node nd;
	double t0, secs;
	int ret;

	res_opts(&o, &nd, size, flags);
	t0 = now();
	ret = rampool_reservation_new(pool, name, &o);
	secs = now() - t0;
	if (ret) {
		complain("reserve %s: %s", name, strerror(-ret));
		return -1;
	}
	if (want_warm >= 0 && is_warm(name) != want_warm) {
		complain("reserve %s: %s the warm pool", name,
			 want_warm ? "not from" : "from");
		return -1;
	}
	return secs;
}

static int release(const char *name)
{
	int ret = rampool_reservation_release(pool, name);

	if (ret)
		complain("release %s: %s", name, strerror(-ret));
	return ret;
}

/* ---- the VMM's side: its own mapping of the file ------------------------ */

struct map {
	int fd;
	void *p;
	uint64_t len;
};

/* What QEMU's prealloc=on does: open, mmap shared, MADV_POPULATE_WRITE. */
static int map_populate(const char *name, uint64_t len, struct map *m)
{
	char path[PATH_MAX];
	int ret = rampool_reservation_path(pool, name, path, sizeof(path));

	m->p = MAP_FAILED;
	m->len = len;
	m->fd = ret ? -1 : open(path, O_RDWR | O_CLOEXEC);
	if (m->fd < 0) {
		complain("open %s: %s", name, strerror(ret ? -ret : errno));
		return -1;
	}
	m->p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
	if (m->p == MAP_FAILED || madvise(m->p, len, MADV_POPULATE_WRITE)) {
		complain("map %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static void unmap(struct map *m)
{
	if (m->p != MAP_FAILED)
		munmap(m->p, m->len);
	if (m->fd >= 0)
		close(m->fd);
}

/* A claimed slot must read zero (a word at each end of every page). */
static int check_zero(const struct map *m, const char *name)
{
	const uint64_t *w = m->p;

	for (uint64_t i = 0; i < m->len / 8; i += MB2 / 8)
		if (w[i] || w[i + MB2 / 8 - 1]) {
			complain("%s: page at %" PRIu64 "M not zero", name,
				 i * 8 >> 20);
			return -1;
		}
	return 0;
}

/* ---- a: claims from the warm pool; d: plus the page tables; f: scrub ---- */

struct warm_figs {
	struct series claim, map, claim_map, release, scrub, idle, pctl;
};

/* One claim of a clean slot, mapped, checked, dirtied, released, refilled. */
static int warm_once(uint64_t size, struct warm_figs *f)
{
	struct rampool_warm_fill_stats st;
	struct map m;
	char name[32];
	double t0, t1, t2, s;

	snprintf(name, sizeof(name), "w%u", serial++);
	t0 = now();
	t1 = reserve(name, size, RAMPOOL_RES_PREALLOC, 1);
	if (t1 < 0)
		return -1;
	t1 += t0;
	if (map_populate(name, size, &m)) {
		unmap(&m);
		release(name);
		return -1;
	}
	t2 = now();
	add(&f->claim, t1 - t0);
	if (opt_verbose)
		say("%s claim %.3f ms, map %.3f ms\n", name, (t1 - t0) * 1e3,
		    (t2 - t1) * 1e3);
	add(&f->map, t2 - t1);
	add(&f->claim_map, t2 - t0);
	if (check_zero(&m, name)) {
		unmap(&m);
		release(name);
		return -1;
	}
	memset(m.p, 0x5a, size);	/* the guest's data: the fill scrubs it */
	unmap(&m);
	t0 = now();
	if (release(name))
		return -1;
	add(&f->release, now() - t0);
	s = fill(&st);
	if (s < 0)
		return -1;
	if (st.scrubbed != 1 || st.made) {
		complain("%s: released slot not back dirty (fill scrubbed %u, "
			 "made %u)", name, st.scrubbed, st.made);
		return -1;
	}
	add(&f->scrub, s);
	s = fill(&st);	/* its fixed cost: the ledger, nothing to zero */
	if (s < 0 || st.scrubbed || st.made)
		return -1;
	add(&f->idle, s);
	return 0;
}

/* ---- c: the whole poolctl process --------------------------------------- */

/* poolctl --state-dir S reserve NAME ... --prealloc; seconds, < 0 failed. */
static double poolctl_reserve(const char *name, uint64_t size, int want_warm)
{
	char sz[32];
	char *argv[] = {
		poolctl, "--state-dir", state, "reserve", (char *)name,
		"--size", sz, "--page-size", "2M", "--node", "0",
		"--prealloc", NULL,
	};
	double t0 = now(), secs;
	int st, fd;
	pid_t pid;

	snprintf(sz, sizeof(sz), "%" PRIu64 "M", size >> 20);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		fd = open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		execv(poolctl, argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid) {
		complain("poolctl: %s", strerror(errno));
		return -1;
	}
	secs = now() - t0;
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		complain("poolctl reserve %s failed (status 0x%x)", name, st);
		return -1;
	}
	if (is_warm(name) != want_warm) {
		complain("poolctl reserve %s: %s the warm pool", name,
			 want_warm ? "not from" : "from");
		return -1;
	}
	return secs;
}

static int pctl_warm_once(uint64_t size, struct series *s)
{
	struct rampool_warm_fill_stats st;
	char name[32];
	double t;

	snprintf(name, sizeof(name), "p%u", serial++);
	t = poolctl_reserve(name, size, 1);
	if (t < 0 || release(name) || fill(&st) < 0)
		return -1;
	add(s, t);
	return 0;
}

/* ---- b: cold, no warm slot ---------------------------------------------- */

struct cold_figs {
	struct series claim, claim_map, vmm, pctl;
};

/*
 * PREALLOC (+ the VMM's mapping), then no PREALLOC and the VMM populating
 * on one thread (what QEMU's prealloc=on does on an empty reservation),
 * then poolctl.
 */
static int cold_once(uint64_t size, struct cold_figs *f)
{
	struct map m;
	char name[32];
	double t0, t1;
	int ret;

	snprintf(name, sizeof(name), "c%u", serial++);
	t0 = now();
	t1 = reserve(name, size, RAMPOOL_RES_PREALLOC, 0);
	if (t1 < 0)
		return -1;
	ret = map_populate(name, size, &m);
	add(&f->claim, t1);
	add(&f->claim_map, now() - t0);
	unmap(&m);
	if (ret || release(name))
		return -1;
	t0 = now();
	if (reserve(name, size, 0, 0) < 0)
		return -1;
	ret = map_populate(name, size, &m);
	add(&f->vmm, now() - t0);
	unmap(&m);
	if (ret || release(name))
		return -1;
	t1 = poolctl_reserve(name, size, 0);
	if (t1 < 0 || release(name))
		return -1;
	add(&f->pctl, t1);
	return 0;
}

struct size_figs {
	uint64_t size;
	struct warm_figs w;
	struct cold_figs c;
};

static void print_size(const struct size_figs *s)
{
	char sz[16];

	snprintf(sz, sizeof(sz), "%lluG", (unsigned long long)(s->size >> 30));
	row(sz, "warm claim (rampool_reservation_new)", &s->w.claim);
	row(sz, "cold reservation_new PREALLOC", &s->c.claim);
	row(sz, "warm: open+mmap+POPULATE_WRITE alone", &s->w.map);
	row(sz, "warm claim + open+mmap+POPULATE_WRITE", &s->w.claim_map);
	row(sz, "cold PREALLOC + open+mmap+POPULATE_WRITE", &s->c.claim_map);
	row(sz, "cold reserve, VMM populates (1 thread)", &s->c.vmm);
	row(sz, "poolctl reserve --prealloc, warm", &s->w.pctl);
	row(sz, "poolctl reserve --prealloc, cold", &s->c.pctl);
	row(sz, "release back into the warm pool (dirty)", &s->w.release);
	row(sz, "warm fill of the dirty slot (scrub)", &s->w.scrub);
	row(sz, "warm fill with nothing to do", &s->w.idle);
	say("%-4s scrub %.2f GiB/s (SCRUB_ZERO, default threads) vs cold "
	    "PREALLOC populate %.2f GiB/s: %.2fx\n", sz,
	    gibs(s->size, p50(&s->w.scrub)), gibs(s->size, p50(&s->c.claim)),
	    ratio(p50(&s->c.claim), p50(&s->w.scrub)));
}

/* Every figure of one slot size; the slot and reservations gone after. */
static int run_size(struct size_figs *s)
{
	struct rampool_warm_fill_stats st;
	int ret = set_target(s->size, 1);

	if (!ret && fill(&st) < 0)
		ret = -1;
	for (unsigned int i = 0; !ret && i < opt_claims; i++)
		ret = warm_once(s->size, &s->w);
	for (unsigned int i = 0; !ret && i < opt_repeat * 3; i++)
		ret = pctl_warm_once(s->size, &s->w.pctl);
	if (set_target(s->size, 0))
		return -1;
	for (unsigned int i = 0; !ret && i < opt_repeat; i++)
		ret = cold_once(s->size, &s->c);
	if (!ret)
		print_size(s);
	return ret;
}

/* ---- e: QEMU from launch to its QMP answer ------------------------------ */

static void qemu_kill(void)
{
	if (qemu_pid > 0) {
		kill(qemu_pid, SIGKILL);
		waitpid(qemu_pid, NULL, 0);
		qemu_pid = 0;
	}
}

static void qemu_start(const char *sock, const char *mem_path,
		       uint64_t size)
{
	char qmp[160], obj[PATH_MAX + 160], m[32], log[96];
	char *argv[] = {
		QEMU, "-accel", "tcg", "-S", "-nodefaults", "-display", "none",
		"-qmp", qmp, "-object", obj, "-machine", "memory-backend=m",
		"-m", m, NULL,
	};
	pid_t parent = getpid();
	int fd;

	snprintf(qmp, sizeof(qmp), "unix:%s,server=on,wait=off", sock);
	snprintf(obj, sizeof(obj), "memory-backend-file,id=m,size=%" PRIu64
		 "M,mem-path=%s,share=on,prealloc=on", size >> 20, mem_path);
	snprintf(m, sizeof(m), "%" PRIu64 "M", size >> 20);
	snprintf(log, sizeof(log), "%s/qemu.log", state);
	fflush(NULL);
	qemu_pid = fork();
	if (qemu_pid == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
			_exit(125);
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0)
			_exit(126);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(QEMU, argv);
		_exit(127);
	}
}

/* Connected to sock, retrying each ms while QEMU lives; fd or -1. */
static int qmp_connect(const char *sock)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = QMP_WAIT_S };
	double end = now() + QMP_WAIT_S;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	while (now() < end) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return -1;
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
				   sizeof(tv));
			return fd;
		}
		close(fd);
		if (waitpid(qemu_pid, NULL, WNOHANG) == qemu_pid) {
			qemu_pid = 0;
			return -1;
		}
		usleep(1000);
	}
	return -1;
}

/* Reads until a line holding key; 0 found, -1 closed or timed out. */
static int qmp_wait(FILE *in, const char *key)
{
	char line[4096];

	while (fgets(line, sizeof(line), in))
		if (strstr(line, key))
			return 0;
	return -1;
}

static void show_qemu_log(void)
{
	char path[96], buf[1024] = "";
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/qemu.log", state);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? 0 : read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
	complain("QEMU's output: %s", buf[0] ? buf : "(none)");
}

/* QEMU on mem_path until it answers qmp_capabilities; seconds or < 0. */
static double qemu_run(const char *mem_path, uint64_t size)
{
	static const char caps[] = "{\"execute\":\"qmp_capabilities\"}\n";
	char sock[96];
	double t0 = now(), secs = -1;
	FILE *in = NULL;
	int fd;

	snprintf(sock, sizeof(sock), "%s/qmp.sock", state);
	unlink(sock);
	qemu_start(sock, mem_path, size);
	fd = qemu_pid > 0 ? qmp_connect(sock) : -1;
	in = fd < 0 ? NULL : fdopen(fd, "r");
	if (in && !qmp_wait(in, "\"QMP\"") &&
	    send(fd, caps, sizeof(caps) - 1, MSG_NOSIGNAL) ==
	    (ssize_t)sizeof(caps) - 1 && !qmp_wait(in, "\"return\""))
		secs = now() - t0;
	if (in)
		fclose(in);
	else if (fd >= 0)
		close(fd);
	if (secs < 0) {
		complain("QEMU on %s: no QMP answer", mem_path);
		qemu_kill();
		show_qemu_log();
	}
	qemu_kill();
	unlink(sock);
	return secs;
}

/* The claim, then QEMU on the claimed file; seconds or < 0. */
static double qemu_warm_once(uint64_t size)
{
	struct rampool_warm_fill_stats st;
	char name[32], path[PATH_MAX];
	double t0 = now(), q = -1;

	snprintf(name, sizeof(name), "q%u", serial++);
	if (reserve(name, size, RAMPOOL_RES_PREALLOC, 1) < 0)
		return -1;
	if (!rampool_reservation_path(pool, name, path, sizeof(path)))
		q = qemu_run(path, size);
	if (q >= 0)
		q = now() - t0;
	if (release(name) || fill(&st) < 0)
		return -1;
	return q;
}

static int qemu_section(uint64_t size)
{
	struct rampool_warm_fill_stats st;
	struct series w = { .n = 0 }, c = { .n = 0 };
	char path[160];
	double t;

	if (access(QEMU, X_OK)) {
		say("4G   QEMU rows skipped: %s not installed (scripts/deps "
		    "installs qemu-system-x86)\n", QEMU);
		return 0;
	}
	if (set_target(size, 1) || fill(&st) < 0)
		return -1;
	for (unsigned int i = 0; i < opt_repeat; i++) {
		t = qemu_warm_once(size);
		if (t < 0)
			return -1;
		add(&w, t);
	}
	if (set_target(size, 0))
		return -1;
	snprintf(coldmnt, sizeof(coldmnt), "%s/cold", state);
	if (mkdir(coldmnt, 0700) ||
	    mount("none", coldmnt, "hugetlbfs", 0, "pagesize=2M")) {
		complain("hugetlbfs mount at %s: %s", coldmnt, strerror(errno));
		coldmnt[0] = '\0';
		return -1;
	}
	snprintf(path, sizeof(path), "%s/guest-ram", coldmnt);
	for (unsigned int i = 0; i < opt_repeat; i++) {
		t = qemu_run(path, size);
		unlink(path);
		if (t < 0)
			return -1;
		add(&c, t);
	}
	row("4G", "QEMU to QMP answer, warm (claim included)", &w);
	row("4G", "QEMU to QMP answer, own hugetlbfs file", &c);
	say("4G   QEMU cold/warm: %.1fx (aim >= 5x)\n", ratio(p50(&c), p50(&w)));
	return 0;
}

/* ---- setup and cleanup -------------------------------------------------- */

static void release_all(void)
{
	struct rampool_res_list *l;
	struct rampool_warm *w;

	if (!rampool_warm_get(pool, &w)) {
		for (unsigned int i = 0; i < rampool_warm_count(w); i++) {
			struct rampool_warm_info in = { .sz = sizeof(in) };

			if (!rampool_warm_at(w, i, &in))
				set_target(in.slot_size, 0);
		}
		rampool_warm_free(w);
	}
	if (rampool_reservation_list(pool, NULL, &l))
		return;
	for (unsigned int i = 0; i < rampool_res_list_count(l); i++) {
		struct rampool_reservation_info in = { .sz = sizeof(in) };

		if (!rampool_res_list_get(l, i, &in))
			rampool_reservation_release(pool, in.name);
	}
	rampool_res_list_free(l);
}

static void cleanup(void)
{
	char cmd[200];

	qemu_kill();
	if (pool) {
		release_all();
		rampool_pool_free(pool);
		pool = NULL;
	}
	if (coldmnt[0])
		umount2(coldmnt, MNT_DETACH);
	snprintf(cmd, sizeof(cmd), "rm -rf --one-file-system '%s'", state);
	if (state[0] && system(cmd))
		fprintf(stderr, "bench/warm: %s failed\n", cmd);
	pool_restore();
}

static void on_sig(int sig)
{
	(void)sig;
	exit(130);	/* runs cleanup: slots and reservations go first */
}

/* build/poolctl beside build/bench/warm */
static int find_poolctl(void)
{
	char self[PATH_MAX - 16];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return -1;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	snprintf(poolctl, sizeof(poolctl), "%s/../poolctl", self);
	return access(poolctl, X_OK);
}

static int setup(uint64_t need)
{
	struct rampool_pool_opts o = { .sz = sizeof(o), .state_dir = state };
	char why[256];
	int ret;

	if (pool_raise(need / MB2, why, sizeof(why))) {
		say("SKIPPED: warm: %s\n", why);
		return 1;
	}
	ret = rampool_pool_new(&o, &pool);
	if (ret) {
		complain("pool: %s", strerror(-ret));
		return -1;
	}
	return 0;
}

static int parse(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "no-qemu", no_argument, NULL, 'Q' },
		{ "verbose", no_argument, NULL, 'v' }, { 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "n:r:v", lo, NULL)) != -1) {
		if (c == 'n' && atoi(optarg) > 0 && atoi(optarg) <= 1000)
			opt_claims = (unsigned int)atoi(optarg);
		else if (c == 'r' && atoi(optarg) > 0 && atoi(optarg) <= 100)
			opt_repeat = (unsigned int)atoi(optarg);
		else if (c == 'Q' || c == 'v')
			*(c == 'Q' ? &opt_no_qemu : &opt_verbose) = true;
		else
			return -1;
	}
	return optind < argc ? -1 : 0;
}

static void cold_warm(const struct size_figs *s)
{
	say("%lluG cold/warm (p50s): claim %.0fx (aim >= 100x at 8G), "
	    "poolctl %.1fx, claim+map %.0fx, VMM populating/claim+map %.0fx\n",
	    (unsigned long long)(s->size >> 30), ratio(p50(&s->c.claim), p50(&s->w.claim)),
	    ratio(p50(&s->c.pctl), p50(&s->w.pctl)),
	    ratio(p50(&s->c.claim_map), p50(&s->w.claim_map)),
	    ratio(p50(&s->c.vmm), p50(&s->w.claim_map)));
}

static void summary(const struct size_figs *a, const struct size_figs *b)
{
	say("claim p99: 1G %.3f ms, 8G %.3f ms (aim <= 5 ms); 8G/1G p50 "
	    "%.2fx, p99 %.2fx (aim <= 1.5x)\n", ms_q(&a->w.claim, 0.99),
	    ms_q(&b->w.claim, 0.99), ratio(p50(&b->w.claim), p50(&a->w.claim)),
	    ratio(ms_q(&b->w.claim, 0.99), ms_q(&a->w.claim, 0.99)));
	cold_warm(a);
	cold_warm(b);
}

int main(int argc, char **argv)
{
	static struct size_figs s1 = { .size = GIB }, s8 = { .size = 8 * GIB };
	struct cpu_mark mark;
	double others, steal;
	int ret;

	if (parse(argc, argv)) {
		fprintf(stderr, "usage: %s [-n CLAIMS (1-1000)] [-r REPEAT "
			"(1-100)] [--no-qemu] [-v|--verbose]\n", argv[0]);
		return 2;
	}
	if (geteuid()) {
		say("SKIPPED: warm: needs root (warm slots are mounts)\n");
		return 0;
	}
	if (find_poolctl()) {
		complain("no poolctl beside the bench (%s)", poolctl);
		return 1;
	}
	snprintf(state, sizeof(state), "/run/rampool-bench-warm-%d",
		 (int)getpid());
	atexit(cleanup);
	signal(SIGINT, on_sig);
	signal(SIGTERM, on_sig);
	signal(SIGHUP, on_sig);
	ret = setup(s8.size);
	if (ret)
		return ret < 0;
	say("warm: 2M pages, node 0, one slot at a time; warm claims %u per "
	    "size, cold and poolctl-warm rows %u and %u runs; ms; p99 is the "
	    "nearest rank (with < 100 runs: the slowest)\n", opt_claims,
	    opt_repeat, opt_repeat * 3);
	say("threads: the library's default (0: the node's CPUs) for "
	    "PREALLOC and the fill; the VMM populate and QEMU: 1\n");
	say("%-4s %-46s %10s %10s %4s\n", "size", "what", "p50", "p99", "n");
	cpu_mark(&mark);
	if (run_size(&s1) || run_size(&s8))
		return 1;
	if (!opt_no_qemu && qemu_section(4 * GIB))
		return 1;
	summary(&s1, &s8);
	cpu_since(&mark, &others, &steal);
	say("meanwhile other processes kept %.2f CPUs busy, the host stole "
	    "%.2f\n", others, steal);
	return failed;
}
