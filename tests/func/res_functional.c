// SPDX-License-Identifier: LGPL-2.1-or-later
/* res_functional.c: reserve, list, show, path, grow, release with exact figures; all-or-nothing nodes; foreign pages in audit (issue 7). */
#include <errno.h>
#include <fcntl.h>
#include <linux/memfd.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rampool.h"
#include "t_res.h"

#define M(x) ((uint64_t)(x) << 20)
#define UNCLAIMED 40		/* 2M pages free and unreserved at the start */

static time_t t_start;

/* The figures of one reservation, as show -J must print them. */
struct want {
	const char *name;
	uint64_t page_size, size, held, owed, populated;
	int node;		/* the one node asked for, or -1: not checked */
	uint64_t unpinned;
};

static void check_row(json_object *r, const struct want *w)
{
	json_object *owner = t_jget(r, "owner"), *nodes;
	uint64_t created = t_jget_u64(r, "created");

	if (strcmp(t_jget_str(r, "name"), w->name))
		T_FAIL("name %s, want %s", t_jget_str(r, "name"), w->name);
	if (strcmp(t_jget_str(r, "state"), "ready"))
		T_FAIL("%s is %s", w->name, t_jget_str(r, "state"));
	T_ASSERT(json_object_is_type(owner, json_type_string) ?
		 !strcmp(json_object_get_string(owner), "root") :
		 json_object_get_int64(owner) == 0);
	T_EQ(t_jget_u64(r, "page_size"), w->page_size);
	T_EQ(t_jget_u64(r, "size"), w->size);
	T_EQ(t_jget_u64(r, "held"), w->held);
	T_EQ(t_jget_u64(r, "owed"), w->owed);
	T_EQ(t_jget_u64(r, "populated"), w->populated);
	T_ASSERT(created >= (uint64_t)t_start - 1 &&
		 created <= (uint64_t)time(NULL) + 1);
	nodes = t_jget(r, "nodes");
	T_ASSERT(json_object_is_type(nodes, json_type_array));
	if (w->node < 0)
		return;
	T_EQ(json_object_array_length(nodes), 1);
	r = json_object_array_get_idx(nodes, 0);
	T_EQ(t_jget_u64(r, "node"), w->node);
	T_EQ(t_jget_u64(r, "size"), w->size);
	T_EQ(t_jget_u64(r, "held"), w->held);
	T_EQ(t_jget_u64(r, "owed"), w->owed);
	T_EQ(t_jget_u64(r, "populated"), w->populated);
	T_EQ(t_jget_u64(r, "unpinned"), w->unpinned);
}

/* show -J, the same row in list -J, and the path where it belongs. */
static void check(const struct want *w)
{
	json_object *show = t_res_show(w->name), *list = t_res_list();
	json_object *row = t_res_row(list, w->name);
	char *path = t_res_path(w->name), want_path[600], dir[512];
	struct stat st;

	check_row(show, w);
	if (!row)
		T_FAIL("%s is not in list -J", w->name);
	check_row(row, w);
	if (w->page_size == 4096) {
		snprintf(want_path, sizeof(want_path), "%s/shm/%s",
			 t_res_dir(), w->name);
	} else {
		snprintf(dir, sizeof(dir), "%s/mnt/%s", t_res_dir(), w->name);
		snprintf(want_path, sizeof(want_path), "%s/mem", dir);
		T_ASSERT(t_is_mount(dir));
	}
	if (strcmp(path, want_path) || strcmp(t_jget_str(show, "path"), path))
		T_FAIL("%s: path %s, show says %s, want %s", w->name, path,
		       t_jget_str(show, "path"), want_path);
	if (lstat(path, &st))
		T_FAIL("%s: %s", path, strerror(errno));
	T_ASSERT(S_ISREG(st.st_mode));
	T_EQ(st.st_mode & 07777, 0600);
	T_EQ(st.st_uid, 0);
	free(path);
	json_object_put(show);
	json_object_put(list);
}

/* Fails unless the kernel's 2M counters moved from base by exactly this. */
static void kernel_moved(const struct t_hcount *base, uint64_t used,
			 uint64_t reserved)
{
	struct t_hcount now;

	t_hcount(T_MB2, -1, &now);
	T_EQ(now.total, base->total);
	T_EQ(now.free, base->free - used);
	T_EQ(now.resv, base->resv + reserved);
	T_EQ(now.surplus, base->surplus);
}

static void write_through(const char *name, uint64_t len)
{
	char *path = t_res_path(name), *buf = malloc(len);
	int fd = open(path, O_RDWR | O_NOFOLLOW);

	if (fd < 0 || !buf)
		T_FAIL("%s: %s", path, strerror(errno));
	memset(buf, 0x11, len);
	if (pwrite(fd, buf, len, 0) != (ssize_t)len)
		T_FAIL("write %s: %s", path, strerror(errno));
	close(fd);
	free(buf);
	free(path);
}

/* A refused command: exit status rc, and nothing changed anywhere. */
static void refused(int rc_want, const char *words, char *const args[])
{
	json_object *a = t_res_list(), *b;
	struct t_hcount ka, kb;
	unsigned int mounts = t_res_mounts();
	char *out = NULL, *err = NULL;
	int rc;

	t_hcount(T_MB2, -1, &ka);
	rc = t_poolctl(&out, &err, args[0], args[1], args[2], args[3],
		       args[4], args[5], NULL);
	printf("poolctl");
	for (int i = 0; i < 6 && args[i]; i++)
		printf(" %s", args[i]);
	printf(": exit %d: %s", rc, err);
	T_EQ(rc, rc_want);
	if (words && !strstr(out, words))
		T_FAIL("stdout lacks '%s': %s", words, out);
	b = t_res_list();
	if (strcmp(json_object_to_json_string(a), json_object_to_json_string(b)))
		T_FAIL("the ledger changed");
	t_hcount(T_MB2, -1, &kb);
	T_HCOUNT_EQ(ka, kb);
	T_EQ(t_res_mounts(), mounts);
	json_object_put(a);
	json_object_put(b);
	free(out);
	free(err);
}

/* --nodes is all or nothing; the shortfall is exact. */
static void nodes_all_or_nothing(struct rampool_pool *pool)
{
	uint64_t avail = t_res_unclaimed(T_MB2);
	int bad = t_nr_nodes() + 3;
	struct rampool_res_node nodes[2] = { { 0, (avail + 1) * T_MB2 },
					     { bad, T_MB2 } };
	struct rampool_reservation_opts o = { .sz = sizeof(o),
					      .size = (avail + 1) * T_MB2,
					      .nodes = nodes, .nr_nodes = 1,
					      .owner_uid = -1 };
	struct rampool_shortfall sf = { .sz = sizeof(sf) };
	char too_much[64], with_bad[96], fits_bad[96], sz1[32], sz2[32];

	/* --size is the sum, as poolctl(8)'s synopsis has it */
	snprintf(sz1, sizeof(sz1), "%" PRIu64 "M", (avail + 1) * 2);
	snprintf(sz2, sizeof(sz2), "%" PRIu64 "M", (avail + 2) * 2);
	snprintf(too_much, sizeof(too_much), "0:%s", sz1);
	snprintf(with_bad, sizeof(with_bad), "%s,%d:2M", too_much, bad);
	snprintf(fits_bad, sizeof(fits_bad), "0:2M,%d:2M", bad);
	refused(1, "GRANTABLE", (char *[]){ "reserve", "n1", "--size", sz1,
					    "--node", "0" });
	refused(1, "GRANTABLE", (char *[]){ "reserve", "n1", "--size", sz1,
					    "--nodes", too_much });
	refused(2, NULL, (char *[]){ "reserve", "n1", "--size", sz2,
				     "--nodes", with_bad });
	refused(2, NULL, (char *[]){ "reserve", "n1", "--size", "4M",
				     "--nodes", fits_bad });

	T_EQ(rampool_reservation_new(pool, "n1", &o), -ENOSPC);
	T_EQ(rampool_pool_last_shortfall(pool, 0, &sf), 0);
	T_EQ(sf.node, 0);
	T_EQ(sf.page_size, T_MB2);
	T_EQ(sf.need, (avail + 1) * T_MB2);
	/*
	 * On a node: its free pages less every outstanding reservation
	 * (global, fact 5), at most what the host has unclaimed.
	 */
	{
		struct t_hcount g, n0;
		uint64_t on0;

		t_hcount(T_MB2, -1, &g);
		t_hcount(T_MB2, 0, &n0);
		on0 = n0.free > g.resv ? n0.free - g.resv : 0;
		if (on0 > avail)
			on0 = avail;
		T_EQ(sf.grantable, on0 * T_MB2);
		T_EQ(sf.short_by, (avail + 1 - on0) * T_MB2);
	}
	T_EQ(rampool_pool_last_shortfall(pool, 1, &sf), -ERANGE);
	o.nr_nodes = 2;
	o.size = 0;
	T_EQ(rampool_reservation_new(pool, "n1", &o), -EINVAL);
	nodes[0].size = T_MB2;
	T_EQ(rampool_reservation_new(pool, "n1", &o), -EINVAL);
	T_EQ(t_res_unclaimed(T_MB2), avail);
}

/* audit -J: exit 1, 6M foreign host-wide, 4M of it on node 0, nothing else. */
static void foreign_json(void)
{
	uint64_t host = 0, node0 = 0;
	json_object *doc, *drift;
	char *out = NULL;
	int rc;

	rc = t_poolctl(&out, NULL, "audit", "-J", NULL);
	printf("audit -J with a foreign mapping: exit %d: %s\n", rc, out);
	T_EQ(rc, 1);
	doc = t_json(out);
	drift = t_jget(doc, "drift");
	T_EQ(json_object_array_length(drift), 2);
	for (size_t i = 0; i < json_object_array_length(drift); i++) {
		json_object *e = json_object_array_get_idx(drift, i);
		json_object *node = t_jget(e, "node");

		if (strcmp(t_jget_str(e, "kind"), "foreign"))
			T_FAIL("drift that is not foreign: %s",
			       json_object_to_json_string(e));
		T_EQ(t_jget_u64(e, "page_size"), T_MB2);
		if (json_object_is_type(node, json_type_null))
			host += t_jget_u64(e, "bytes");
		else if (json_object_get_int(node) == 0)
			node0 += t_jget_u64(e, "bytes");
		else
			T_FAIL("foreign on node %d", json_object_get_int(node));
	}
	T_EQ(host, M(6));
	T_EQ(node0, M(4));
	json_object_put(doc);
	free(out);

}

/*
 * 3 pages mapped (reserved host-wide), 2 of them touched (in use on this
 * node): 6M no row explains host-wide, 4M of it on node 0.
 */
static void foreign(struct rampool_pool *pool)
{
	struct rampool_drift d = { .sz = sizeof(d) };
	uint64_t host = 0, node0 = 0;
	struct rampool_audit *a;
	unsigned char *p;
	int fd;

	fd = memfd_create("res_functional_foreign", MFD_HUGETLB | MFD_HUGE_2MB);
	if (fd < 0 || ftruncate(fd, (off_t)M(6)))
		T_FAIL("memfd: %s", strerror(errno));
	p = mmap(NULL, M(6), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		T_FAIL("mmap: %s", strerror(errno));
	t_pin_to_node(0);
	p[0] = p[T_MB2] = 1;

	foreign_json();
	T_EQ(rampool_audit_run(pool, 0, &a), 0);
	T_EQ(rampool_audit_count(a), 2);
	for (unsigned int i = 0; i < rampool_audit_count(a); i++) {
		T_EQ(rampool_audit_get(a, i, &d), 0);
		T_EQ(d.kind, RAMPOOL_DRIFT_FOREIGN);
		T_EQ(d.page_size, T_MB2);
		T_EQ(d.repaired, 0);
		if (d.node == RAMPOOL_NODE_ANY)
			host += d.bytes;
		else if (d.node == 0)
			node0 += d.bytes;
		else
			T_FAIL("foreign on node %d", d.node);
	}
	T_EQ(host, M(6));
	T_EQ(node0, M(4));
	rampool_audit_free(a);
	/* repair never absorbs foreign memory */
	T_EQ(rampool_audit_run(pool, RAMPOOL_AUDIT_REPAIR, &a), 0);
	T_EQ(rampool_audit_count(a), 2);
	rampool_audit_free(a);

	munmap(p, M(6));
	close(fd);
	t_res_audit_clean();
}

/* A mount and a file in the pool's directories that no row explains. */
static void orphans(void)
{
	char mnt[512], file[512], *out = NULL;
	json_object *doc, *drift;
	int rc, fd;

	snprintf(mnt, sizeof(mnt), "%s/mnt/stray", t_res_dir());
	snprintf(file, sizeof(file), "%s/shm/stray", t_res_dir());
	if (mkdir(mnt, 0700) || mount("none", mnt, "hugetlbfs", 0,
				      "pagesize=2M"))
		T_FAIL("mount %s: %s", mnt, strerror(errno));
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		T_FAIL("%s: %s", file, strerror(errno));
	close(fd);

	rc = t_poolctl(&out, NULL, "audit", "-J", NULL);
	T_EQ(rc, 1);
	doc = t_json(out);
	drift = t_jget(doc, "drift");
	T_EQ(json_object_array_length(drift), 2);
	for (size_t i = 0; i < 2; i++) {
		json_object *e = json_object_array_get_idx(drift, i);
		const char *kind = t_jget_str(e, "kind");
		const char *what = t_jget_str(e, "what");

		if (!(!strcmp(kind, "orphan-mount") && !strcmp(what, mnt)) &&
		    !(!strcmp(kind, "orphan-file") && !strcmp(what, file)))
			T_FAIL("unexpected drift %s", json_object_to_json_string(e));
	}
	json_object_put(doc);
	free(out);
	/* both are provably the pool's: repair removes them */
	t_poolctl_ok(0, "audit", "--repair", NULL);
	T_ASSERT(!t_is_mount(mnt));
	T_ASSERT(access(mnt, F_OK) && access(file, F_OK));
	t_res_audit_clean();
}

/* Four reservations, one of each kind, with their exact figures. */
static void reserve_kinds(const struct t_hcount *base)
{
	const struct want f1 = { "f1", T_MB2, M(8), M(8), 0, 0, 0, M(8) };
	const struct want f2 = { "f2", T_MB2, M(8), M(8), 0, M(8), 0, 0 };
	struct want f3 = { "f3", 4096, M(8), 0, M(8), 0, -1, 0 };
	const struct want f4 = { "f4", 4096, M(8), M(8), 0, M(8), -1, 0 };

	/* hugetlb: held at once by the mount's reserve, not yet on node 0 */
	t_poolctl_ok(0, "reserve", "f1", "--size", "8M", "--node", "0", NULL);
	check(&f1);
	kernel_moved(base, 0, 4);
	/* populated and placed: pinned, nothing left to reserve */
	t_poolctl_ok(0, "reserve", "f2", "--size", "8M", "--node", "0",
		     "--prealloc", NULL);
	check(&f2);
	kernel_moved(base, 4, 4);
	/* shmem: owed until populated, held as it is */
	t_poolctl_ok(0, "reserve", "f3", "--size", "8M", "--page-size", "4K",
		     NULL);
	check(&f3);
	write_through("f3", M(1));
	f3.held = M(1), f3.owed = M(7), f3.populated = M(1);
	check(&f3);
	t_poolctl_ok(0, "reserve", "f4", "--size", "8M", "--page-size", "4K",
		     "--prealloc", NULL);
	check(&f4);
	kernel_moved(base, 4, 4);
}

/* Headroom first, then a larger mount while empty, never once it holds. */
static void grow(const struct t_hcount *base)
{
	const struct want f2 = { "f2", T_MB2, M(8), M(8), 0, M(8), 0, 0 };
	struct want f3 = { "f3", 4096, M(12), M(1), M(11), M(1), -1, 0 };
	struct want f5 = { "f5", T_MB2, M(8), M(8), 0, 0, -1, 0 };

	/* within the headroom no new pages */
	t_poolctl_ok(0, "reserve", "f5", "--size", "4M", "--extra", "4M", NULL);
	kernel_moved(base, 4, 8);
	t_poolctl_ok(0, "grow", "f5", "--by", "4M", NULL);
	check(&f5);
	kernel_moved(base, 4, 8);
	/* past it: an empty reservation gets a larger mount */
	t_poolctl_ok(0, "grow", "f5", "--by", "2M", NULL);
	f5.size = f5.held = M(10);
	check(&f5);
	kernel_moved(base, 4, 9);
	/* one holding pages cannot grow past its headroom (fact 14) */
	refused(1, NULL, (char *[]){ "grow", "f2", "--by", "2M", NULL, NULL });
	check(&f2);
	/* shmem: the same check as a reservation, then owed */
	t_poolctl_ok(0, "grow", "f3", "--by", "4M", NULL);
	check(&f3);
}

static void rows_now(unsigned int n)
{
	json_object *list = t_res_list();

	T_EQ(json_object_array_length(t_res_rows(list)), n);
	t_res_no_orphans(list);
	json_object_put(list);
}

int main(void)
{
	struct rampool_pool_opts po = { .sz = sizeof(po) };
	static const char *const names[] = { "f1", "f2", "f3", "f4", "f5" };
	struct rampool_pool *pool;
	struct t_hcount base;

	t_require_hugetlb(T_MB2);
	t_start = time(NULL);
	po.state_dir = t_res_dir();
	t_res_pool_unclaimed(T_MB2, UNCLAIMED);
	t_hcount(T_MB2, -1, &base);
	T_EQ(rampool_pool_new(&po, &pool), 0);

	reserve_kinds(&base);
	grow(&base);
	rows_now(5);
	foreign(pool);
	orphans();
	nodes_all_or_nothing(pool);
	t_res_audit_clean();

	for (unsigned int i = 0; i < 5; i++)
		t_poolctl_ok(0, "release", names[i], NULL);
	/* gone: the name is now bad input (poolctl: no such reservation) */
	t_poolctl_ok(2, "release", "f5", NULL);
	kernel_moved(&base, 0, 0);
	rows_now(0);
	rampool_pool_free(pool);
	t_res_audit_clean();
	return 0;
}
