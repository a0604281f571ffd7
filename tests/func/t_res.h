/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* t_res.h: helpers for the reservation tests: a private state directory, poolctl runs, JSON, audit. */
#ifndef T_RES_H
#define T_RES_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "t_util.h"

#define T_MB2 (2ULL << 20)

/*
 * The test's private state directory, BASE/state with BASE made by
 * mkdtemp under /run (mode 0755, so other users reach what the library
 * lets them reach); the library creates state/ itself. At exit every mount
 * under BASE is detached and BASE removed, before the hugepage pools are
 * put back (t_atcleanup).
 */
const char *t_res_dir(void);

/*
 * Runs poolctl --state-dir DIR ARGS... (NULL-terminated) as uid (-1: this
 * process), stdout and stderr captured when out/err are not NULL
 * (malloc'd). Returns the exit status (128 + signal when killed).
 */
__attribute__((sentinel))
int t_poolctl(char **out, char **err, ...);
__attribute__((sentinel))
int t_poolctl_as(long long uid, char **out, char **err, ...);

/* Like t_poolctl, but fails the test unless the exit status is want. */
__attribute__((sentinel))
void t_poolctl_ok(int want, ...);

/* JSON access that fails the test on a missing key or bad text. */
json_object *t_json(const char *text);
json_object *t_jget(json_object *o, const char *key);
uint64_t t_jget_u64(json_object *o, const char *key);
const char *t_jget_str(json_object *o, const char *key);

/* `poolctl show NAME -J` (exit 0 required); json_object_put the result. */
json_object *t_res_show(const char *name);
/* `poolctl list -J` (exit 0 required); the whole document. */
json_object *t_res_list(void);
/*
 * status -J's "usage" entry for page_size on node (RAMPOOL_NODE_ANY: the
 * rows on no node); fails the test unless there is exactly one. *doc gets
 * the document to json_object_put.
 */
json_object *t_status_usage(uint64_t page_size, int node, json_object **doc);
/*
 * Writes text to this test's manifest file (made on the first call in
 * /tmp, removed at exit); returns its path.
 */
const char *t_manifest(const char *text);
/* The reservations array of a list document. */
json_object *t_res_rows(json_object *list);
/* A row of a list document by name, or NULL. */
json_object *t_res_row(json_object *list, const char *name);
/* `poolctl path NAME` without its newline (exit 0 required); malloc'd. */
char *t_res_path(const char *name);

/* Mount points under the state directory's base now in /proc/mounts. */
unsigned int t_res_mounts(void);
/* Whether path is a mount point in /proc/mounts. */
int t_is_mount(const char *path);

/*
 * Fails when the state directory holds a file, directory or mount under
 * mnt/ or shm/ that no row of list (a `list -J` document) explains, or a
 * row that is not ready: nothing pending, no orphans.
 */
void t_res_no_orphans(json_object *list);

/* Fails unless `poolctl audit` exits 0 (its output shown otherwise). */
void t_res_audit_clean(void);

/*
 * As uid (-1: this process), through a MAP_SHARED mapping of path's first
 * size bytes: writes pat over them, or (pat < 0) reads every byte and
 * counts the 4K pages that hold anything but zeros. Fails the test if the
 * child cannot open or map it.
 */
uint64_t t_res_through(long long uid, const char *path, uint64_t size,
		       int pat);

/* `warm -J`'s entry of one page and slot size (zeros when none). */
struct t_warm {
	uint64_t target, clean, dirty, filling;
};
struct t_warm t_warm_counts(uint64_t page_size, uint64_t slot);
#define T_WARM(ps, slot, t, c, d)					\
	do {								\
		struct t_warm w_ = t_warm_counts((ps), (slot));		\
		T_EQ(w_.target, (t));					\
		T_EQ(w_.clean, (c));					\
		T_EQ(w_.dirty, (d));					\
		T_EQ(w_.filling, 0);					\
	} while (0)

/* The path of the one warm slot file there is (state/warm/X/mem, or
 * state/shm/@X); fails unless exactly one. */
void t_warm_slot(bool shm, char *buf, size_t len);

/*
 * Sizes node's 2M pool so that exactly n pages are free there (restored
 * at exit); skips (t_skip_hugetlb) when the kernel gives fewer.
 */
void t_res_node_free(int node, uint64_t n);

/* free - resv of a hugepage size now: what nobody has claimed. */
uint64_t t_res_unclaimed(uint64_t page_size);
/*
 * Sizes the persistent pool so that exactly n pages of page_size are free
 * and unreserved (restored at exit); skips (t_skip_hugetlb) when the
 * kernel cannot give them.
 */
void t_res_pool_unclaimed(uint64_t page_size, uint64_t n);

#endif
