// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_pool.c: pool options, the environment, and the capacity API's rules. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "rampool.h"
#include "pool/pool.h"
#include "t_tree.h"

#define KB(x) ((uint64_t)(x) * 1024)
#define MB(x) ((uint64_t)(x) << 20)
#define GB(x) ((uint64_t)(x) << 30)
#define UNK RAMPOOL_COUNT_UNKNOWN

/* the smallest opts a caller may pass: up to and including log_level */
#define OPTS_MIN (offsetof(struct rampool_pool_opts, log_level) + sizeof(int))

static struct t_log lg = T_LOG_INIT;

/* A pool must not see the environment of whoever runs the tests. */
static int clean_env(void **state)
{
	(void)state;
	unsetenv("RAMPOOL_SYSROOT");
	unsetenv("RAMPOOL_STATE_DIR");
	unsetenv("RAMPOOL_GROUP");
	t_log_reset(&lg);
	return 0;
}

static struct rampool_pool *const SENTINEL = (struct rampool_pool *)&lg;

/* rampool_pool_new must fail with err and leave *out as it was. */
static void assert_new_fails(const struct rampool_pool_opts *o, int err)
{
	struct rampool_pool *p = SENTINEL;

	assert_int_equal(rampool_pool_new(o, &p), err);
	assert_ptr_equal(p, SENTINEL);
}

static const char *fixture(const char *tree)
{
	const char *p = t_fixture(tree);

	if (!p)
		fail_msg("fixtures not found: set RAMPOOL_FIXTURES or SRC");
	return p;
}

/* ---- rampool_pool_new ---------------------------------------------------- */

static void test_version(void **state)
{
	char want[32];

	(void)state;
	snprintf(want, sizeof(want), "%d.%d.%d", RAMPOOL_VERSION_MAJOR,
		 RAMPOOL_VERSION_MINOR, RAMPOOL_VERSION_PATCH);
	assert_string_equal(rampool_version(), want);
}

static void test_defaults(void **state)
{
	struct rampool_pool *p = NULL;

	(void)state;
	assert_int_equal(rampool_pool_new(NULL, &p), 0);
	assert_non_null(p);
	assert_string_equal(rampool_pool_sysroot(p), "/");
	assert_string_equal(rampool_pool_state_dir(p), "/run/rampool");
	rampool_pool_free(p);
	rampool_pool_free(NULL);
	assert_int_equal(rampool_pool_new(NULL, NULL), -EINVAL);
}

static void test_opts_size(void **state)
{
	struct rampool_pool_opts o;
	struct rampool_pool *p = NULL;
	struct {
		struct rampool_pool_opts o;
		unsigned char tail[24];
	} big;

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_new_fails(&o, -EINVAL);		/* sz 0 */
	o.sz = sizeof(size_t);
	assert_new_fails(&o, -EINVAL);
	o.sz = OPTS_MIN - 1;
	assert_new_fails(&o, -EINVAL);

	/* an older caller's struct ending at log_level is fine */
	o.sz = OPTS_MIN;
	assert_int_equal(rampool_pool_new(&o, &p), 0);
	rampool_pool_free(p);

	/* a newer caller's struct: its unknown tail must be zero */
	memset(&big, 0, sizeof(big));
	big.o.sz = sizeof(big);
	big.o.sysroot = fixture("x86-2node");
	assert_int_equal(rampool_pool_new(&big.o, &p), 0);
	assert_string_equal(rampool_pool_sysroot(p), fixture("x86-2node"));
	rampool_pool_free(p);
	for (size_t i = 0; i < sizeof(big.tail); i++) {
		big.tail[i] = 1;
		assert_new_fails(&big.o, -EINVAL);
		big.tail[i] = 0;
	}
	/* bytes past sz are not the library's to read */
	big.tail[sizeof(big.tail) - 1] = 0xff;
	big.o.sz = sizeof(big) - 1;
	assert_int_equal(rampool_pool_new(&big.o, &p), 0);
	rampool_pool_free(p);
}

/*
 * A 0.1 caller's struct ends before group (appended in 0.2): what lies
 * past its sz is not read, whatever it holds, and the fields it has are.
 */
static void test_opts_v01(void **state)
{
	union {
		struct rampool_pool_opts o;
		unsigned char raw[sizeof(struct rampool_pool_opts)];
	} u;
	struct rampool_pool *p = NULL;

	(void)state;
	memset(u.raw, 0xa5, sizeof(u.raw));
	u.o.sz = offsetof(struct rampool_pool_opts, group);
	u.o.sysroot = fixture("x86-2node");
	u.o.state_dir = "/tmp/rampool-v01";
	u.o.log_fn = NULL;
	u.o.log_data = NULL;
	u.o.log_level = RAMPOOL_LOG_INFO;
	assert_int_equal(rampool_pool_new(&u.o, &p), 0);
	assert_string_equal(rampool_pool_sysroot(p), fixture("x86-2node"));
	assert_string_equal(rampool_pool_state_dir(p), "/tmp/rampool-v01");
	assert_int_equal(p->log.level, RAMPOOL_LOG_INFO);
	assert_null(p->group);
	rampool_pool_free(p);

	/* a 0.2 caller's group is read and copied */
	memset(&u.o, 0, sizeof(u.o));
	u.o.sz = sizeof(u.o);
	u.o.group = "kvm";
	assert_int_equal(rampool_pool_new(&u.o, &p), 0);
	assert_string_equal(p->group, "kvm");
	assert_ptr_not_equal(p->group, u.o.group);
	rampool_pool_free(p);
}

static void test_sysroot(void **state)
{
	struct rampool_pool_opts o = { .sz = sizeof(o) };
	struct rampool_pool *p = NULL;
	char root[PATH_MAX];
	char file[PATH_MAX + 16];

	(void)state;
	o.sysroot = "tests/fixtures/sysfs/x86-2node";	/* relative */
	assert_new_fails(&o, -EINVAL);
	o.sysroot = "";
	assert_new_fails(&o, -EINVAL);
	o.sysroot = "/nonexistent-rampool-test/sys";
	assert_new_fails(&o, -ENOENT);
	snprintf(file, sizeof(file), "%s/proc/meminfo",
		 fixture("x86-2node"));
	o.sysroot = file;
	assert_new_fails(&o, -ENOTDIR);

	/* the string is copied */
	snprintf(root, sizeof(root), "%s", fixture("arm64-2node"));
	o.sysroot = root;
	assert_int_equal(rampool_pool_new(&o, &p), 0);
	memset(root, 'x', 8);
	assert_string_equal(rampool_pool_sysroot(p), fixture("arm64-2node"));
	rampool_pool_free(p);
}

static void test_state_dir(void **state)
{
	struct rampool_pool_opts o = { .sz = sizeof(o) };
	struct rampool_pool *p = NULL;

	(void)state;
	o.state_dir = "run/rampool";
	assert_new_fails(&o, -EINVAL);
	o.state_dir = "";
	assert_new_fails(&o, -EINVAL);
	/* it need not exist: rampool_pool_new does not touch it */
	o.state_dir = "/nonexistent-rampool-test/state";
	assert_int_equal(rampool_pool_new(&o, &p), 0);
	assert_string_equal(rampool_pool_state_dir(p),
			    "/nonexistent-rampool-test/state");
	rampool_pool_free(p);
}

static void test_log_level(void **state)
{
	struct rampool_pool_opts o = { .sz = sizeof(o) };
	struct rampool_pool *p = NULL;

	(void)state;
	o.log_level = -1;
	assert_new_fails(&o, -EINVAL);
	o.log_level = RAMPOOL_LOG_DEBUG + 1;
	assert_new_fails(&o, -EINVAL);
	o.log_level = 1000;
	assert_new_fails(&o, -EINVAL);
	o.log_level = RAMPOOL_LOG_DEBUG;
	assert_int_equal(rampool_pool_new(&o, &p), 0);
	rampool_pool_free(p);
}

static void test_log_callback(void **state)
{
	struct rampool_pool_opts o = {
		.sz = sizeof(o),
		.sysroot = "/nonexistent-rampool-test/sys",
		.log_fn = t_log_fn,
		.log_data = &lg,
	};

	(void)state;
	/* the default level (WARN) lets errors through */
	assert_new_fails(&o, -ENOENT);
	assert_int_equal(lg.n, 1);
	assert_int_equal(lg.n_err, 1);
	assert_non_null(strstr(lg.last_err, "/nonexistent-rampool-test/sys"));

	/* below ERR nothing is told */
	t_log_reset(&lg);
	o.log_level = RAMPOOL_LOG_ERR - 1;
	assert_new_fails(&o, -ENOENT);
	assert_int_equal(lg.n, 0);
}

static void test_env(void **state)
{
	struct rampool_pool_opts o = { .sz = sizeof(o) };
	struct rampool_pool *p = NULL;

	(void)state;
	setenv("RAMPOOL_SYSROOT", fixture("x86-4node-memless"), 1);
	setenv("RAMPOOL_STATE_DIR", "/tmp/rampool-state-test", 1);
	setenv("RAMPOOL_GROUP", "kvm", 1);
	assert_int_equal(rampool_pool_new(NULL, &p), 0);
	assert_string_equal(rampool_pool_sysroot(p),
			    fixture("x86-4node-memless"));
	assert_string_equal(rampool_pool_state_dir(p),
			    "/tmp/rampool-state-test");
	assert_string_equal(p->group, "kvm");
	rampool_pool_free(p);

	/* options win over the environment */
	o.sysroot = fixture("arm64-2node");
	o.state_dir = "/tmp/other-state";
	o.group = "libvirt-qemu";
	assert_int_equal(rampool_pool_new(&o, &p), 0);
	assert_string_equal(rampool_pool_sysroot(p), fixture("arm64-2node"));
	assert_string_equal(rampool_pool_state_dir(p), "/tmp/other-state");
	assert_string_equal(p->group, "libvirt-qemu");
	rampool_pool_free(p);
	unsetenv("RAMPOOL_GROUP");
	assert_int_equal(rampool_pool_new(NULL, &p), 0);
	assert_null(p->group);
	rampool_pool_free(p);

	/* a bad environment is as bad as a bad option */
	setenv("RAMPOOL_SYSROOT", "relative/root", 1);
	assert_new_fails(NULL, -EINVAL);
	setenv("RAMPOOL_SYSROOT", "/nonexistent-rampool-test", 1);
	assert_new_fails(NULL, -ENOENT);
	unsetenv("RAMPOOL_SYSROOT");
	setenv("RAMPOOL_STATE_DIR", "relative/state", 1);
	assert_new_fails(NULL, -EINVAL);

	/* an empty variable counts as unset */
	setenv("RAMPOOL_SYSROOT", "", 1);
	setenv("RAMPOOL_STATE_DIR", "", 1);
	setenv("RAMPOOL_GROUP", "", 1);
	assert_int_equal(rampool_pool_new(NULL, &p), 0);
	assert_string_equal(rampool_pool_sysroot(p), "/");
	assert_string_equal(rampool_pool_state_dir(p), "/run/rampool");
	assert_null(p->group);
	rampool_pool_free(p);
}

/* ---- capacity on x86-2node ----------------------------------------------- */

struct cap_state {
	struct rampool_pool *pool;
	struct rampool_capacity *cap;
};

static int cap_setup(void **state)
{
	struct rampool_pool_opts o = { .sz = sizeof(o) };
	struct cap_state *cs = calloc(1, sizeof(*cs));

	clean_env(state);
	if (!cs || !t_fixture("x86-2node"))
		return -1;
	o.sysroot = t_fixture("x86-2node");
	o.log_fn = t_log_fn;
	o.log_data = &lg;
	if (rampool_pool_new(&o, &cs->pool) ||
	    rampool_capacity_get(cs->pool, &cs->cap)) {
		rampool_pool_free(cs->pool);
		free(cs);
		return -1;
	}
	*state = cs;
	return 0;
}

static int cap_teardown(void **state)
{
	struct cap_state *cs = *state;

	rampool_capacity_free(cs->cap);
	rampool_pool_free(cs->pool);
	free(cs);
	return 0;
}

static void test_cap_counts(void **state)
{
	struct cap_state *cs = *state;

	assert_int_equal(lg.n, 0);
	assert_int_equal(rampool_capacity_node_count(cs->cap), 2);
	assert_int_equal(rampool_capacity_page_size_count(cs->cap), 2);
	assert_int_equal(rampool_capacity_page_size(cs->cap, 0), MB(2));
	assert_int_equal(rampool_capacity_page_size(cs->cap, 1), GB(1));
	assert_int_equal(rampool_capacity_page_size(cs->cap, 2), 0);
	assert_int_equal(rampool_capacity_page_size(cs->cap, ~0u), 0);
	assert_int_equal(rampool_capacity_mount_count(cs->cap), 2);
	rampool_capacity_free(NULL);
}

static void test_cap_node(void **state)
{
	struct cap_state *cs = *state;
	struct rampool_node_info ni;
	struct {
		struct rampool_node_info i;
		unsigned char tail[40];
	} big;
	const unsigned int all = RAMPOOL_NODE_F_ONLINE |
				 RAMPOOL_NODE_F_HAS_MEMORY |
				 RAMPOOL_NODE_F_HAS_CPU |
				 RAMPOOL_NODE_F_HAS_NORMAL_MEMORY;

	memset(&ni, 0xaa, sizeof(ni));
	ni.sz = sizeof(ni);
	assert_int_equal(rampool_capacity_node(cs->cap, 1, &ni), 0);
	assert_int_equal(ni.node, 1);
	assert_int_equal(ni.flags, all);
	assert_int_equal(ni.mem_total, KB(3093060));
	assert_int_equal(ni.mem_free, KB(1955060));
	assert_int_equal(ni.mem_available, KB(1955060 + 292 / 2));
	assert_int_equal(ni.shmem, KB(8));
	assert_int_equal(ni.nr_cpus, 2);
	assert_string_equal(ni.cpulist, "2-3");

	ni.sz = sizeof(ni);
	assert_int_equal(rampool_capacity_node(cs->cap, 0, &ni), 0);
	assert_int_equal(ni.node, 0);
	assert_string_equal(ni.cpulist, "0-1");

	/* out of range, NULL, too small */
	assert_int_equal(rampool_capacity_node(cs->cap, 2, &ni), -ERANGE);
	assert_int_equal(rampool_capacity_node(cs->cap, ~0u, &ni), -ERANGE);
	assert_int_equal(rampool_capacity_node(cs->cap, 0, NULL), -EINVAL);
	ni.sz = 0;
	assert_int_equal(rampool_capacity_node(cs->cap, 0, &ni), -EINVAL);
	ni.sz = offsetof(struct rampool_node_info, cpulist);
	assert_int_equal(rampool_capacity_node(cs->cap, 0, &ni), -EINVAL);

	/* a newer caller's bigger struct: filled, and the tail zeroed */
	memset(&big, 0xaa, sizeof(big));
	big.i.sz = sizeof(big);
	assert_int_equal(rampool_capacity_node(cs->cap, 1, &big.i), 0);
	assert_int_equal(big.i.node, 1);
	assert_int_equal(big.i.mem_total, KB(3093060));
	assert_string_equal(big.i.cpulist, "2-3");
	for (size_t i = 0; i < sizeof(big.tail); i++)
		assert_int_equal(big.tail[i], 0);
}

static void check_hp(const struct rampool_hugepage_info *h, int node,
		     uint64_t ps, uint64_t total, uint64_t free_,
		     uint64_t surplus, uint64_t resv, uint64_t overcommit)
{
	assert_int_equal(h->node, node);
	assert_int_equal(h->page_size, ps);
	assert_int_equal(h->total_pages, total);
	assert_int_equal(h->free_pages, free_);
	assert_int_equal(h->surplus_pages, surplus);
	assert_true(h->resv_pages == resv);
	assert_true(h->overcommit_pages == overcommit);
}

static void test_cap_hugepages(void **state)
{
	struct cap_state *cs = *state;
	struct rampool_hugepage_info h = { .sz = sizeof(h) };
	struct {
		struct rampool_hugepage_info i;
		unsigned char tail[16];
	} big;

	assert_int_equal(rampool_capacity_hugepages(cs->cap, 0, MB(2), &h), 0);
	check_hp(&h, 0, MB(2), 64, 60, 0, UNK, UNK);
	assert_int_equal(rampool_capacity_hugepages(cs->cap, 1, MB(2), &h), 0);
	check_hp(&h, 1, MB(2), 32, 22, 0, UNK, UNK);
	assert_int_equal(rampool_capacity_hugepages(cs->cap, 0, GB(1), &h), 0);
	check_hp(&h, 0, GB(1), 1, 1, 0, UNK, UNK);
	assert_int_equal(rampool_capacity_hugepages(cs->cap, 1, GB(1), &h), 0);
	check_hp(&h, 1, GB(1), 1, 0, 0, UNK, UNK);
	assert_int_equal(rampool_capacity_hugepages(cs->cap, RAMPOOL_NODE_ALL,
						    MB(2), &h), 0);
	check_hp(&h, RAMPOOL_NODE_ALL, MB(2), 96, 82, 0, 6, 0);
	assert_int_equal(rampool_capacity_hugepages(cs->cap, RAMPOOL_NODE_ALL,
						    GB(1), &h), 0);
	check_hp(&h, RAMPOOL_NODE_ALL, GB(1), 2, 1, 0, 0, 0);

	/* unknown node or page size */
	assert_int_equal(rampool_capacity_hugepages(cs->cap, 2, MB(2), &h),
			 -ENOENT);
	assert_int_equal(rampool_capacity_hugepages(cs->cap, -2, MB(2), &h),
			 -ENOENT);
	assert_int_equal(rampool_capacity_hugepages(cs->cap, 0, 4096, &h),
			 -ENOENT);
	assert_int_equal(rampool_capacity_hugepages(cs->cap, 0, 0, &h),
			 -ENOENT);
	assert_int_equal(rampool_capacity_hugepages(cs->cap, RAMPOOL_NODE_ALL,
						    MB(32), &h), -ENOENT);

	/* sizes */
	assert_int_equal(rampool_capacity_hugepages(cs->cap, 0, MB(2), NULL),
			 -EINVAL);
	h.sz = offsetof(struct rampool_hugepage_info, overcommit_pages);
	assert_int_equal(rampool_capacity_hugepages(cs->cap, 0, MB(2), &h),
			 -EINVAL);
	memset(&big, 0xaa, sizeof(big));
	big.i.sz = sizeof(big);
	assert_int_equal(rampool_capacity_hugepages(cs->cap, 1, MB(2),
						    &big.i), 0);
	check_hp(&big.i, 1, MB(2), 32, 22, 0, UNK, UNK);
	for (size_t i = 0; i < sizeof(big.tail); i++)
		assert_int_equal(big.tail[i], 0);
}

static void test_cap_mounts(void **state)
{
	struct cap_state *cs = *state;
	struct rampool_mount_info m = { .sz = sizeof(m) };
	struct {
		struct rampool_mount_info i;
		unsigned char tail[16];
	} big;

	assert_int_equal(rampool_capacity_mount(cs->cap, 0, &m), 0);
	assert_string_equal(m.path, "/dev/hugepages");
	assert_int_equal(m.page_size, MB(2));
	assert_string_equal(m.fstype, "hugetlbfs");
	assert_int_equal(rampool_capacity_mount(cs->cap, 1, &m), 0);
	assert_string_equal(m.path, "/dev/hugepages1G");
	assert_int_equal(m.page_size, GB(1));
	assert_int_equal(rampool_capacity_mount(cs->cap, 2, &m), -ERANGE);
	assert_int_equal(rampool_capacity_mount(cs->cap, 0, NULL), -EINVAL);
	m.sz = offsetof(struct rampool_mount_info, fstype);
	assert_int_equal(rampool_capacity_mount(cs->cap, 0, &m), -EINVAL);

	memset(&big, 0xaa, sizeof(big));
	big.i.sz = sizeof(big);
	assert_int_equal(rampool_capacity_mount(cs->cap, 1, &big.i), 0);
	assert_string_equal(big.i.path, "/dev/hugepages1G");
	assert_int_equal(big.i.page_size, GB(1));
	for (size_t i = 0; i < sizeof(big.tail); i++)
		assert_int_equal(big.tail[i], 0);
}

static void test_cap_host(void **state)
{
	struct cap_state *cs = *state;
	struct rampool_host_info h = { .sz = sizeof(h) };
	struct {
		struct rampool_host_info i;
		unsigned char tail[16];
	} big;

	assert_int_equal(rampool_capacity_host(cs->cap, &h), 0);
	assert_int_equal(h.mem_total, KB(6076988));
	assert_int_equal(h.mem_free, KB(3710720));
	assert_int_equal(h.mem_available, KB(3606328));
	assert_int_equal(h.shmem, KB(2692));
	assert_int_equal(h.default_page_size, MB(2));
	assert_int_equal(rampool_capacity_host(cs->cap, NULL), -EINVAL);
	h.sz = offsetof(struct rampool_host_info, default_page_size);
	assert_int_equal(rampool_capacity_host(cs->cap, &h), -EINVAL);

	memset(&big, 0xaa, sizeof(big));
	big.i.sz = sizeof(big);
	assert_int_equal(rampool_capacity_host(cs->cap, &big.i), 0);
	assert_int_equal(big.i.mem_total, KB(6076988));
	assert_int_equal(big.i.default_page_size, MB(2));
	for (size_t i = 0; i < sizeof(big.tail); i++)
		assert_int_equal(big.tail[i], 0);
}

/* A damaged tree: the error, *out untouched, one ERR naming the file. */
static void test_cap_damaged(void **state)
{
	struct rampool_pool_opts o = { .sz = sizeof(o) };
	struct rampool_capacity *sentinel = (struct rampool_capacity *)&lg;
	struct rampool_capacity *cap = sentinel;
	struct rampool_pool *p = NULL;
	char *tmp, want[PATH_MAX];

	(void)state;
	tmp = t_tree_copy("x86-4node-memless");
	assert_non_null(tmp);
	assert_int_equal(t_write_str(tmp, "sys/devices/system/node/node3/"
				     "hugepages/hugepages-2048kB/"
				     "free_hugepages", "1\n"), 0);
	o.sysroot = tmp;
	o.log_fn = t_log_fn;
	o.log_data = &lg;
	assert_int_equal(rampool_pool_new(&o, &p), 0);
	assert_int_equal(rampool_capacity_get(p, &cap), -EINVAL);
	assert_ptr_equal(cap, sentinel);
	assert_int_equal(lg.n_err, 1);
	snprintf(want, sizeof(want), "%s/sys/devices/system/node/node3/"
		 "hugepages/hugepages-2048kB/free_hugepages", tmp);
	assert_non_null(strstr(lg.last_err, want));

	/* the same pool reads the tree once it is whole again */
	assert_int_equal(t_write_str(tmp, "sys/devices/system/node/node3/"
				     "hugepages/hugepages-2048kB/"
				     "free_hugepages", "0\n"), 0);
	cap = NULL;
	assert_int_equal(rampool_capacity_get(p, &cap), 0);
	assert_int_equal(rampool_capacity_node_count(cap), 4);
	rampool_capacity_free(cap);
	assert_int_equal(rampool_capacity_get(NULL, &cap), -EINVAL);
	assert_int_equal(rampool_capacity_get(p, NULL), -EINVAL);
	rampool_pool_free(p);
	t_rm_tree(tmp);
	free(tmp);
}

/* The memoryless node as the public API shows it. */
static void test_cap_memless(void **state)
{
	struct rampool_pool_opts o = { .sz = sizeof(o) };
	struct rampool_node_info ni = { .sz = sizeof(ni) };
	struct rampool_hugepage_info h = { .sz = sizeof(h) };
	struct rampool_capacity *cap = NULL;
	struct rampool_pool *p = NULL;

	(void)state;
	o.sysroot = fixture("x86-4node-memless");
	assert_int_equal(rampool_pool_new(&o, &p), 0);
	assert_int_equal(rampool_capacity_get(p, &cap), 0);
	assert_int_equal(rampool_capacity_node_count(cap), 4);
	assert_int_equal(rampool_capacity_node(cap, 3, &ni), 0);
	assert_int_equal(ni.node, 3);
	assert_int_equal(ni.flags,
			 RAMPOOL_NODE_F_ONLINE | RAMPOOL_NODE_F_HAS_CPU);
	assert_int_equal(ni.mem_total, 0);
	assert_int_equal(ni.mem_available, 0);
	assert_string_equal(ni.cpulist, "3");
	assert_int_equal(ni.nr_cpus, 1);
	assert_int_equal(rampool_capacity_hugepages(cap, 3, MB(2), &h), 0);
	check_hp(&h, 3, MB(2), 0, 0, 0, UNK, UNK);
	assert_int_equal(rampool_capacity_hugepages(cap, 2, MB(2), &h), 0);
	check_hp(&h, 2, MB(2), 24, 4, 0, UNK, UNK);
	assert_int_equal(rampool_capacity_hugepages(cap, RAMPOOL_NODE_ALL,
						    MB(2), &h), 0);
	check_hp(&h, RAMPOOL_NODE_ALL, MB(2), 120, 92, 0, 12, 0);
	rampool_capacity_free(cap);
	rampool_pool_free(p);
}

/* ---- secure_getenv: the environment of a set-user-ID run is ignored ---- */

#define SECURE_CHILD "--secure-env-child"

/* this test's binary (argv[0]: /proc/self/exe is valgrind under valgrind) */
static char self_path[PATH_MAX];

/*
 * In the child: 0 when the pool took its defaults, 1 when it took the
 * environment the parent set, 2 on any other outcome.
 */
static int secure_child(void)
{
	struct rampool_pool *p;
	int ret;

	if (rampool_pool_new(NULL, &p))
		return 2;
	if (!strcmp(rampool_pool_state_dir(p), "/run/rampool") &&
	    !strcmp(rampool_pool_sysroot(p), "/") && !p->group)
		ret = 0;
	else if (!strcmp(rampool_pool_state_dir(p), "/tmp/evil-state") &&
		 p->group && !strcmp(p->group, "evil"))
		ret = 1;
	else
		ret = 2;
	rampool_pool_free(p);
	return ret;
}

/* Runs a copy of this test (mode 04755 or 0755, owned by nobody). */
static int run_copy(const char *copy, mode_t mode)
{
	char *const argv[] = { (char *)copy, SECURE_CHILD, NULL };
	char *const envp[] = { "RAMPOOL_STATE_DIR=/tmp/evil-state",
			       "RAMPOOL_GROUP=evil", "RAMPOOL_SYSROOT=/tmp",
			       NULL };
	int status;
	pid_t pid;

	assert_int_equal(chmod(copy, mode), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		execve(copy, argv, envp);
		_exit(3);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_secure_env(void **state)
{
	char dir[] = "/tmp/rampool-secure-XXXXXX", copy[64], cmd[PATH_MAX + 100];
	int ret, plain, setuid;

	(void)state;
	if (geteuid() != 0 || !self_path[0])
		skip();		/* needs to make a set-user-ID copy */
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0755), 0);
	snprintf(copy, sizeof(copy), "%s/test_pool", dir);
	snprintf(cmd, sizeof(cmd), "cp '%s' %s", self_path, copy);
	ret = system(cmd);
	if (!ret)
		ret = chown(copy, 65534, 65534);
	/* without set-user-ID the environment is taken (the test can fail) */
	plain = ret ? -1 : run_copy(copy, 0755);
	setuid = ret ? -1 : run_copy(copy, 04755);
	unlink(copy);
	rmdir(dir);
	assert_int_equal(ret, 0);
	assert_int_equal(plain, 1);
	assert_int_equal(setuid, 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_version, clean_env),
		cmocka_unit_test_setup(test_defaults, clean_env),
		cmocka_unit_test_setup(test_opts_size, clean_env),
		cmocka_unit_test_setup(test_opts_v01, clean_env),
		cmocka_unit_test_setup(test_secure_env, clean_env),
		cmocka_unit_test_setup(test_sysroot, clean_env),
		cmocka_unit_test_setup(test_state_dir, clean_env),
		cmocka_unit_test_setup(test_log_level, clean_env),
		cmocka_unit_test_setup(test_log_callback, clean_env),
		cmocka_unit_test_setup_teardown(test_env, clean_env,
						clean_env),
		cmocka_unit_test_setup_teardown(test_cap_counts, cap_setup,
						cap_teardown),
		cmocka_unit_test_setup_teardown(test_cap_node, cap_setup,
						cap_teardown),
		cmocka_unit_test_setup_teardown(test_cap_hugepages, cap_setup,
						cap_teardown),
		cmocka_unit_test_setup_teardown(test_cap_mounts, cap_setup,
						cap_teardown),
		cmocka_unit_test_setup_teardown(test_cap_host, cap_setup,
						cap_teardown),
		cmocka_unit_test_setup(test_cap_damaged, clean_env),
		cmocka_unit_test_setup(test_cap_memless, clean_env),
	};

	if (argc == 2 && !strcmp(argv[1], SECURE_CHILD))
		_exit(secure_child());	/* no LeakSanitizer set-user-ID */
	if (!realpath(argv[0], self_path) || strchr(self_path, '\''))
		self_path[0] = '\0';
	return cmocka_run_group_tests(tests, NULL, NULL);
}
