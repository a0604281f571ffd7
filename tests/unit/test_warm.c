// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_warm.c: the warm pool with fake mounts: targets checked, slots made, claimed, released back dirty and zeroed; a failed move changes nothing; a crash between a move and its commit is recovered. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/t_resv.h"
#include "backend/resmount.h"
#include "pool/warm.h"

static struct rampool_warm_target target(int node, int backing, uint64_t ps,
					 uint64_t slot, unsigned int count)
{
	return (struct rampool_warm_target){
		.sz = sizeof(struct rampool_warm_target), .node = node,
		.backing = (enum rampool_res_backing)backing,
		.page_size = ps, .slot_size = slot, .count = count,
	};
}

/* The first entry of the warm pool (asserts there is exactly n). */
static struct rampool_warm_info warm_info(unsigned int n)
{
	struct rampool_warm_info wi = { .sz = sizeof(wi) };
	struct rampool_warm *w;

	assert_int_equal(rampool_warm_get(pool, &w), 0);
	assert_int_equal(rampool_warm_count(w), n);
	if (n)
		assert_int_equal(rampool_warm_at(w, 0, &wi), 0);
	assert_int_equal(rampool_warm_at(w, n, &wi), n ? -ERANGE : -ERANGE);
	rampool_warm_free(w);
	return wi;
}

static void test_bad_targets(void **st)
{
	struct rampool_warm_target t = target(0, 0, PS2M, 4 * M, 1);
	struct rampool_warm_fill_opts fo = { .sz = sizeof(fo) };
	struct rampool_warm_fill_stats fs = { .sz = 8 };

	(void)st;
	assert_int_equal(rampool_warm_set(NULL, &t), -EINVAL);
	assert_int_equal(rampool_warm_set(pool, NULL), -EINVAL);
	t.sz = 8;
	assert_int_equal(rampool_warm_set(pool, &t), -EINVAL);
	t = target(-1, 0, PS2M, 4 * M, 1);
	assert_int_equal(rampool_warm_set(pool, &t), -EINVAL);
	t = target(999, 0, PS2M, 4 * M, 1);
	assert_int_equal(rampool_warm_set(pool, &t), -EINVAL);
	t = target(0, 7, PS2M, 4 * M, 1);
	assert_int_equal(rampool_warm_set(pool, &t), -EINVAL);
	t = target(0, RAMPOOL_RES_HUGETLB, 3 * M, 6 * M, 1);
	assert_int_equal(rampool_warm_set(pool, &t), -EINVAL);
	t = target(0, RAMPOOL_RES_SHMEM, 8192, 4 * M, 1);
	assert_int_equal(rampool_warm_set(pool, &t), -EINVAL);
	t = target(0, RAMPOOL_RES_HUGETLB, PS2M, 3 * M, 1);
	assert_int_equal(rampool_warm_set(pool, &t), -EINVAL);
	t = target(0, RAMPOOL_RES_HUGETLB, PS2M, 0, 1);
	assert_int_equal(rampool_warm_set(pool, &t), -EINVAL);
	t = target(0, RAMPOOL_RES_HUGETLB, PS2M, 4 * M, 100001);
	assert_int_equal(rampool_warm_set(pool, &t), -EINVAL);
	/* fill's own options */
	assert_int_equal(rampool_warm_fill(NULL, NULL, NULL), -EINVAL);
	fo.sz = 4;
	assert_int_equal(rampool_warm_fill(pool, &fo, NULL), -EINVAL);
	fo.sz = sizeof(fo);
	fo.flags = 1;
	assert_int_equal(rampool_warm_fill(pool, &fo, NULL), -EINVAL);
	fo.flags = 0;
	fo.threads = 257;
	assert_int_equal(rampool_warm_fill(pool, &fo, NULL), -EINVAL);
	fo.threads = 0;
	assert_int_equal(rampool_warm_fill(pool, &fo, &fs), -EINVAL);
	/* nothing was touched: no state directory, no mount call */
	assert_false(t_exists("%s", state));
	for (int i = 0; i < T_RMC_NR; i++)
		assert_int_equal(t_rm.calls[i], 0);
	/* and a pool without a ledger has no warm pool */
	warm_info(0);
	assert_int_equal(rampool_warm_get(pool, NULL), -EINVAL);
	assert_int_equal(rampool_warm_at(NULL, 0, NULL), -EINVAL);
}

static void test_nonroot(void **st)
{
	pid_t pid;

	(void)st;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rampool_warm_target t =
			target(0, RAMPOOL_RES_SHMEM, 0, 4 * M, 1);
		int ok = !t_drop_root((gid_t)-1) &&
			 rampool_warm_set(pool, &t) == -EPERM &&
			 rampool_warm_fill(pool, NULL, NULL) == -EPERM;

		rampool_pool_free(pool);
		_exit(ok ? 0 : 1);
	}
	assert_int_equal(t_wait(pid), 0);
}

/* Every byte of path's first len bytes is c. */
static bool file_is(const char *path, unsigned char c, size_t len)
{
	int fd = open(path, O_RDONLY);
	unsigned char *p;
	bool ok = true;

	assert_true(fd >= 0);
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(p != MAP_FAILED);
	for (size_t i = 0; ok && i < len; i++)
		ok = p[i] == c;
	munmap(p, len);
	close(fd);
	return ok;
}

static void fill_file(const char *path, unsigned char c, size_t len)
{
	int fd = open(path, O_RDWR);
	void *p;

	assert_true(fd >= 0);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(p != MAP_FAILED);
	memset(p, c, len);
	munmap(p, len);
	close(fd);
}

/* shmem slots: made, claimed (renamed), released dirty, zeroed, trimmed. */
static void test_shm_cycle(void **st)
{
	struct rampool_warm_target t = target(0, RAMPOOL_RES_SHMEM, 0, 4 * M, 2);
	struct rampool_warm_fill_stats fs = { .sz = sizeof(fs) };
	struct rampool_res_node n0 = { .node = 0 };
	struct rampool_reservation_opts o = shm(4 * M);
	struct rampool_reservation_info ri = { .sz = sizeof(ri) };
	struct rampool_warm_info wi;
	struct rampool_res_list *list;
	char path[PATH_MAX + 64];
	int fd;

	(void)st;
	t_rm.shm_is_tmpfs = true;
	assert_int_equal(rampool_warm_set(pool, &t), 0);
	wi = warm_info(1);
	assert_int_equal(wi.node, 0);
	assert_int_equal(wi.backing, RAMPOOL_RES_SHMEM);
	assert_int_equal(wi.page_size, 4096);
	assert_int_equal(wi.slot_size, 4 * M);
	assert_int_equal(wi.target, 2);
	assert_int_equal(wi.clean + wi.dirty + wi.filling, 0);
	assert_int_equal(rampool_warm_fill(pool, NULL, &fs), 0);
	assert_int_equal(fs.made, 2);
	assert_int_equal(fs.bytes_made, 8 * M);
	assert_int_equal(fs.scrubbed + fs.removed + fs.short_slots, 0);
	assert_int_equal(warm_info(1).clean, 2);

	/* a claim: the reservation is a warm one, one slot fewer */
	o.nodes = &n0;
	o.nr_nodes = 1;
	o.flags = RAMPOOL_RES_PREALLOC;
	assert_int_equal(rampool_reservation_new(pool, "vm", &o), 0);
	assert_int_equal(rampool_reservation_list(pool, "vm", &list), 0);
	assert_int_equal(rampool_res_list_get(list, 0, &ri), 0);
	assert_true(ri.flags & RAMPOOL_RES_F_WARM);
	assert_int_equal(ri.populated, 4 * M);
	assert_int_equal(ri.owed, 0);
	rampool_res_list_free(list);
	assert_int_equal(warm_info(1).clean, 1);
	/* the whole list shows the reservation, never a slot */
	assert_int_equal(rampool_reservation_list(pool, NULL, &list), 0);
	assert_int_equal(rampool_res_list_count(list), 1);
	rampool_res_list_free(list);
	assert_int_equal(rampool_reservation_list(pool, "@x", &list), -ENOENT);

	/* --warm-only of a shape with no slot: refused, nothing made */
	o.size = 8 * M;
	o.flags |= RAMPOOL_RES_WARM_ONLY;
	assert_int_equal(rampool_reservation_new(pool, "big", &o), -ENOSPC);
	nothing_left("big", 1, 1);	/* one sum: node 0, 4K */
	/* and no user name starts with '@' */
	assert_int_equal(rampool_reservation_new(pool, "@w1", &o), -EINVAL);

	/* open elsewhere: released as before (busy), not into the pool */
	snprintf(path, sizeof(path), "%s/shm/vm", state);
	fill_file(path, 0x5a, 4 * M);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(rampool_reservation_release(pool, "vm"), -EBUSY);
	close(fd);
	assert_int_equal(rampool_reservation_release(pool, "vm"), 0);
	wi = warm_info(1);
	assert_int_equal(wi.clean, 1);
	assert_int_equal(wi.dirty, 1);
	assert_false(t_exists("%s/shm/vm", state));

	/* fill zeroes the dirty one */
	assert_int_equal(rampool_warm_fill(pool, NULL, &fs), 0);
	assert_int_equal(fs.scrubbed, 1);
	assert_int_equal(fs.made, 0);
	assert_int_equal(warm_info(1).clean, 2);
	o.size = 4 * M;
	o.flags = RAMPOOL_RES_PREALLOC | RAMPOOL_RES_WARM_ONLY;
	assert_int_equal(rampool_reservation_new(pool, "vm", &o), 0);
	assert_int_equal(rampool_reservation_new(pool, "vm2", &o), 0);
	assert_true(file_is(path, 0, 4 * M));
	snprintf(path, sizeof(path), "%s/shm/vm2", state);
	assert_true(file_is(path, 0, 4 * M));
	assert_int_equal(rampool_reservation_release(pool, "vm2"), 0);
	assert_int_equal(warm_info(1).dirty, 1);

	/* a lower target gives the idle surplus back at once, dirty first */
	t.count = 0;
	assert_int_equal(rampool_warm_set(pool, &t), 0);
	warm_info(0);
	assert_int_equal(rampool_reservation_release(pool, "vm"), 0);
	warm_info(0);
	nothing_left("vm", 0, 0);
}

/* A hugetlb slot made by hand on fake mounts: row, mount, file. */
static void make_slot(const char *name, uint64_t size)
{
	struct ledger_row r = {
		.kind = LEDGER_WARM, .backing = RAMPOOL_RES_HUGETLB,
		.page_size = PS2M, .size = size,
		.state = RAMPOOL_RES_STATE_READY, .nr_nodes = 1,
		.nodes = { { .node = 0, .size = size, .populated = size } },
	};
	char dir[PATH_MAX + 64];
	struct ledger *l;
	int dfd, fd;

	snprintf(r.name, sizeof(r.name), "%s", name);
	assert_int_equal(res_open_write(pool, &l), 0);
	assert_int_equal(ledger_begin(l), 0);
	assert_int_equal(res_mount_parent(pool, name), 0);
	assert_int_equal(res_mount_dir(pool, name, dir, sizeof(dir)), 0);
	assert_int_equal(resmount_hugetlbfs(dir, PS2M, size, 0, 0, &t_rm_ops,
					    NULL), 0);
	dfd = open(dir, O_DIRECTORY);
	assert_true(dfd >= 0);
	fd = resmount_create_file(dfd, "mem", 0, 0, size, &t_rm_ops, NULL);
	assert_true(fd >= 0);
	close(fd);
	close(dfd);
	assert_int_equal(ledger_insert(l, &r), 0);
	assert_int_equal(ledger_commit(l), 0);
	ledger_close(l);
}

static int slot_state(const char *name)
{
	struct ledger_row r;
	struct ledger *l;
	int ret;

	assert_int_equal(ledger_open(pool, LEDGER_READ, &l), 0);
	ret = ledger_get(l, name, &r);
	ledger_close(l);
	return ret ? ret : r.state;
}

/* hugetlb: the mount moves; a failed move changes nothing. */
static void test_huge_move(void **st)
{
	struct rampool_warm_target t =
		target(0, RAMPOOL_RES_HUGETLB, PS2M, 4 * M, 1);
	struct rampool_res_node n0 = { .node = 0 };
	struct rampool_reservation_opts o = huge(4 * M);
	int mounts;

	(void)st;
	make_slot("@s", 4 * M);
	mounts = t_rm.nr_mnt;	/* the warm dir's bind, the slot */
	assert_int_equal(mounts, 2);
	o.nodes = &n0;
	o.nr_nodes = 1;
	o.flags = RAMPOOL_RES_PREALLOC | RAMPOOL_RES_WARM_ONLY;
	/* the move is refused: the slot stays clean where it was */
	t_rm_fail(T_MOUNT, EPERM, 0);
	assert_int_equal(rampool_reservation_new(pool, "vm", &o), -EPERM);
	assert_int_equal(slot_state("@s"), RAMPOOL_RES_STATE_READY);
	assert_true(t_exists("%s/warm/s/mem", state));
	assert_false(t_exists("%s/intent/vm", state));
	assert_false(t_exists("%s/intent/@s", state));
	nothing_left("vm", mounts, 1);

	/* claimed: the mount is the reservation's; the empty warm dir goes */
	assert_int_equal(rampool_reservation_new(pool, "vm", &o), 0);
	assert_int_equal(slot_state("@s"), -ENOENT);
	assert_true(t_exists("%s/mnt/vm/mem", state));
	assert_false(t_exists("%s/warm/s", state));
	assert_int_equal(t_rm.nr_mnt, 1);
	assert_int_equal(t_rm_find(state), -1);

	/* released with a short target: back into the warm dir, dirty */
	assert_int_equal(rampool_warm_set(pool, &t), 0);
	assert_int_equal(rampool_reservation_release(pool, "vm"), 0);
	assert_false(t_exists("%s/mnt/vm", state));
	assert_int_equal(t_rm.nr_mnt, 2);
	assert_int_equal(warm_info(1).dirty, 1);
	/* a target of 0 takes it back to the kernel (unmounted) */
	t.count = 0;
	assert_int_equal(rampool_warm_set(pool, &t), 0);
	assert_int_equal(t_rm.nr_mnt, 0);
	assert_false(t_exists("%s/warm", state));
}

static void intent_dead(const char *name)
{
	char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/intent", state);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/intent/%s", state, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%d 12345\n", t_dead_pid());
	fclose(f);
}

/*
 * A claim that died between its move and its commit: the slot's mount is
 * the reservation's, the ledger still has the slot. Recovery gives the
 * mount back to the kernel and drops the slot whose file left.
 */
static void test_crash_recovered(void **st)
{
	struct rampool_warm_target t =
		target(0, RAMPOOL_RES_HUGETLB, PS2M, 4 * M, 1);
	char from[PATH_MAX + 64], to[PATH_MAX + 64];

	(void)st;
	make_slot("@s", 4 * M);
	intent_dead("vm");
	intent_dead("@s");
	assert_int_equal(res_mount_dir(pool, "@s", from, sizeof(from)), 0);
	assert_int_equal(res_mount_parent(pool, "vm"), 0);
	assert_int_equal(res_mount_dir(pool, "vm", to, sizeof(to)), 0);
	assert_int_equal(resmount_move(from, to, &t_rm_ops, NULL), 0);
	assert_int_equal(slot_state("@s"), RAMPOOL_RES_STATE_READY);

	/* the next writer recovers */
	assert_int_equal(rampool_warm_set(pool, &t), 0);
	assert_int_equal(slot_state("@s"), -ENOENT);
	assert_int_equal(slot_state("vm"), -ENOENT);
	assert_false(t_exists("%s/mnt/vm", state));
	assert_false(t_exists("%s/intent/vm", state));
	assert_false(t_exists("%s/intent/@s", state));
	assert_int_equal(warm_info(1).clean, 0);
	assert_int_equal(t_rm.nr_mnt, 0);
}

/* A scrubber that died leaves its slot dirty, never clean. */
static void test_dead_scrubber(void **st)
{
	struct ledger *l;
	struct rampool_warm_info wi;

	(void)st;
	make_slot("@s", 4 * M);
	assert_int_equal(res_open_write(pool, &l), 0);
	assert_int_equal(ledger_begin(l), 0);
	assert_int_equal(ledger_set_state(l, 1, LEDGER_WARM_DIRTY,
					  t_dead_pid(), 7), 0);
	assert_int_equal(ledger_commit(l), 0);
	ledger_close(l);
	wi = warm_info(1);	/* a reader counts it dirty */
	assert_int_equal(wi.dirty, 1);
	assert_int_equal(wi.filling + wi.clean, 0);
	/* a writer clears the pid: dirty, idle */
	assert_int_equal(res_open_write(pool, &l), 0);
	ledger_close(l);
	assert_int_equal(slot_state("@s"), LEDGER_WARM_DIRTY);
	assert_int_equal(warm_info(1).dirty, 1);
}

/* Audit: a slot is a row like a reservation; a slot mount without one is
 * an orphan, which repair unmounts. */
static void test_audit(void **st)
{
	struct rampool_drift d = { .sz = sizeof(d) };
	char want[PATH_MAX + 64];
	struct rampool_audit *a;
	bool found = false;

	(void)st;
	make_slot("@s", 4 * M);
	make_slot("@t", 4 * M);
	raw_exec("DELETE FROM res WHERE name = '@t'");
	assert_int_equal(rampool_audit_run(pool, RAMPOOL_AUDIT_REPAIR, &a), 0);
	snprintf(want, sizeof(want), "%s/warm/t", state);
	for (unsigned int i = 0; i < rampool_audit_count(a); i++) {
		assert_int_equal(rampool_audit_get(a, i, &d), 0);
		/* the row of @s explains its mount: no drift about it */
		assert_null(strstr(d.what, "warm/s"));
		if (d.kind == RAMPOOL_DRIFT_ORPHAN_MOUNT &&
		    !strcmp(d.what, want)) {
			assert_int_equal(d.repaired, 1);
			found = true;
		}
	}
	rampool_audit_free(a);
	assert_true(found);
	assert_false(t_exists("%s/warm/t", state));
	assert_true(t_exists("%s/warm/s/mem", state));
	assert_int_equal(slot_state("@s"), RAMPOOL_RES_STATE_READY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bad_targets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nonroot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shm_cycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_huge_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_recovered, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dead_scrubber, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_audit, setup, teardown),
	};

	if (geteuid()) {
		fprintf(stderr, "skip: the warm pool's tests run as root\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
