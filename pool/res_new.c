// SPDX-License-Identifier: LGPL-2.1-or-later
/* res_new.c: making a reservation: options, the all-or-nothing check, mount and file, population. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../backend/resmount.h"
#include "../backend/topology.h"
#include "block.h"
#include "counters.h"
#include "res.h"
#include "warm.h"

#define INTENT_DIR "intent"

struct res_plan {
	const char *name;
	struct rampool_reservation_opts o;
	struct ledger_row row;
	struct res_need needs[LEDGER_MAX_NODES];
	unsigned int nr_needs;
	int fd;			/* the backing file, open while populating */
	bool warm;		/* a warm slot was claimed: nothing to fill */
	char intent[4096];
};

__attribute__((format(printf, 2, 3)))
static int bad(struct rampool_pool *pool, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rp_err(&pool->log, "reserve: %s", msg);
	return -EINVAL;
}

/* ---- check -------------------------------------------------------------- */

static int read_opts(struct rampool_pool *pool,
		     const struct rampool_reservation_opts *opts,
		     struct rampool_reservation_opts *o)
{
	size_t min = offsetof(struct rampool_reservation_opts, progress_data) +
		     sizeof(void *);
	int ret;

	memset(o, 0, sizeof(*o));
	if (!opts)
		return bad(pool, "no options");
	ret = opts_check(opts, opts->sz, min, sizeof(*o));
	if (ret)
		return bad(pool, "options struct of %zu bytes", opts->sz);
	memcpy(o, opts, opts->sz < sizeof(*o) ? opts->sz : sizeof(*o));
	if (!o->backing)
		o->backing = RAMPOOL_RES_HUGETLB;
	if (o->backing != RAMPOOL_RES_HUGETLB && o->backing != RAMPOOL_RES_SHMEM)
		return bad(pool, "unknown backing %d", (int)o->backing);
	if (o->flags & ~(RAMPOOL_RES_PREALLOC | RAMPOOL_RES_INTERLEAVE |
			 RAMPOOL_RES_WARM_ONLY | RAMPOOL_RES_DECLARED))
		return bad(pool, "unknown flags 0x%x", o->flags);
	if (o->nr_nodes > LEDGER_MAX_NODES || (o->nr_nodes && !o->nodes))
		return bad(pool, "node list of %u entries", o->nr_nodes);
	if (o->threads > 256)
		return bad(pool, "threads %u (at most 256)", o->threads);
	if (o->owner_uid < -1 || o->owner_uid > 0xfffffffeLL)
		return bad(pool, "owner uid %lld", o->owner_uid);
	return 0;
}

static int check_page_size(struct rampool_pool *pool, const struct topo *t,
			   struct res_plan *p)
{
	uint64_t ps = p->o.page_size, base = (uint64_t)sysconf(_SC_PAGESIZE);

	if (p->o.backing == RAMPOOL_RES_HUGETLB) {
		if (!ps)
			ps = t->default_page_size;
		if (!ps || topo_size_index(t, ps) < 0)
			return bad(pool, "the kernel has no hugepages of %llu "
				   "bytes", (unsigned long long)ps);
	} else {
		if (!ps)
			ps = base;
		if (ps != base)
			return bad(pool, "page size %llu for shmem (only %llu)",
				   (unsigned long long)ps,
				   (unsigned long long)base);
	}
	p->row.page_size = ps;
	return 0;
}

/* Splits the size over the nodes asked into needs[] and the row's shares. */
static int res_plan_shares(struct rampool_pool *pool, struct res_plan *p)
{
	const struct rampool_reservation_opts *o = &p->o;
	uint64_t ps = p->row.page_size, sum = 0, size = o->size;
	bool sized = o->nr_nodes > 1 && !(o->flags & RAMPOOL_RES_INTERLEAVE);

	/* one node entry may carry the size instead of size */
	if (o->nr_nodes == 1 && o->nodes[0].size) {
		if (size && size != o->nodes[0].size)
			return bad(pool, "size %llu differs from node %d's %llu",
				   (unsigned long long)size, o->nodes[0].node,
				   (unsigned long long)o->nodes[0].size);
		size = o->nodes[0].size;
	}
	unsigned int n = o->nr_nodes ? o->nr_nodes : 1;

	for (unsigned int i = 0; sized && i < n; i++) {
		if (o->nodes[i].size > UINT64_MAX / 4 - sum)
			return bad(pool, "node sizes overflow");
		sum += o->nodes[i].size;
	}
	if (sized && size && size != sum)
		return bad(pool, "size %llu is not the sum of the node sizes "
			   "(%llu)", (unsigned long long)size,
			   (unsigned long long)sum);
	if (sized)
		size = sum;
	if (!size || size % ps || size > UINT64_MAX / 4)
		return bad(pool, "size %llu (must be a non-zero multiple of "
			   "%llu)", (unsigned long long)size,
			   (unsigned long long)ps);
	if (o->extra % ps || o->extra > UINT64_MAX / 4)
		return bad(pool, "extra %llu is not a multiple of %llu",
			   (unsigned long long)o->extra,
			   (unsigned long long)ps);
	if (o->extra && n > 1)
		return bad(pool, "extra headroom needs a single node");
	for (unsigned int i = 0; i < n; i++) {
		struct ledger_node *ln = &p->row.nodes[i];
		uint64_t share = size;

		ln->node = o->nr_nodes ? o->nodes[i].node : RAMPOOL_NODE_ANY;
		if (o->nr_nodes && ln->node < 0)
			return bad(pool, "node %d", ln->node);
		for (unsigned int k = 0; k < i; k++)
			if (p->row.nodes[k].node == ln->node)
				return bad(pool, "node %d is listed twice",
					   ln->node);
		if (sized)
			share = o->nodes[i].size;
		else if (n > 1)	/* interleave: even, the rest to the first */
			share = size / ps / n * ps +
				(i ? 0 : size / ps % n * ps);
		if (sized && (!share || share % ps))
			return bad(pool, "node %d: size %llu (a non-zero "
				   "multiple of %llu)", ln->node,
				   (unsigned long long)share,
				   (unsigned long long)ps);
		ln->size = share;
		p->needs[i].node = ln->node;
		p->needs[i].bytes = share + (i ? 0 : o->extra);
	}
	p->nr_needs = n;
	p->row.nr_nodes = n;
	p->row.size = size;
	p->row.extra = o->extra;
	return 0;
}

/* ---- create ------------------------------------------------------------- */

int res_intent_write(struct rampool_pool *pool, const char *name,
		     char *path, size_t len)
{
	char dir[4096];
	FILE *f;
	int n;

	path[0] = 0;
	n = snprintf(dir, sizeof(dir), "%s/%s", pool->state_dir, INTENT_DIR);
	if (n < 0 || (size_t)n >= sizeof(dir))
		return -ENAMETOOLONG;
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	n = snprintf(path, len, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= len) {
		path[0] = 0;
		return -ENAMETOOLONG;
	}
	/*
	 * One there already is a dead process's whose objects could not be
	 * removed yet (recovery keeps it to retry): the name is not free,
	 * and that intent, their only record, must survive this attempt.
	 */
	f = fopen(path, "wxe");
	if (!f) {
		int err = errno;

		path[0] = 0;	/* not ours to remove */
		if (err != EEXIST)
			return -err;
		rp_err(&pool->log, "reserve: what a dead process left of %s "
		       "is still in use; retry when it is released", name);
		return -EBUSY;
	}
	fprintf(f, "%d %llu\n", (int)getpid(),
		(unsigned long long)ledger_proc_start(getpid()));
	if (fclose(f))
		return -EIO;
	return 0;
}

void res_intent_done(char *path)
{
	if (path[0])
		unlink(path);
	path[0] = 0;
}

/*
 * The intent file: written before the kernel objects are made inside the
 * transaction, removed after the commit. A process killed in between
 * leaves it; res_recover then removes the objects no row explains.
 */
static int intent_write(struct rampool_pool *pool, struct res_plan *p)
{
	return res_intent_write(pool, p->name, p->intent, sizeof(p->intent));
}

static void intent_done(struct res_plan *p)
{
	res_intent_done(p->intent);
}

static int make_hugetlb(struct rampool_pool *pool, struct res_plan *p)
{
	const struct resmount_ops *ops = res_mops(pool);
	uint64_t bytes = p->row.size + p->row.extra;
	char dir[4096];
	int ret, dfd;

	ret = res_mount_parent(pool, p->name);
	if (ret)
		return ret;
	ret = res_mount_dir(pool, p->name, dir, sizeof(dir));
	if (!ret)
		ret = resmount_hugetlbfs(dir, p->row.page_size, bytes,
					 p->row.uid, 0, ops, &pool->log);
	if (ret == -ENOMEM) {
		/* the kernel's own refusal: someone took the pages since */
		res_shortfall_add(pool, RAMPOOL_NODE_ANY, p->row.page_size,
				  bytes, 0);
		return -ENOSPC;
	}
	if (ret)
		return ret;
	dfd = open(dir, O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		ret = -errno;
		resmount_remove(dir, ops, &pool->log);
		return ret;
	}
	ret = resmount_create_file(dfd, RES_FILE, p->row.uid, (gid_t)-1,
				   bytes, ops, &pool->log);
	close(dfd);
	if (ret < 0) {
		resmount_remove(dir, ops, &pool->log);
		return ret;
	}
	p->fd = ret;
	return 0;
}

static int make_shmem(struct rampool_pool *pool, struct res_plan *p)
{
	const struct resmount_ops *ops = res_mops(pool);
	char dir[4096];
	int ret, dfd;

	ret = res_shm_dir(pool, dir, sizeof(dir));
	if (!ret)
		ret = resmount_tmpfs(dir, ops, &pool->log);
	if (ret)
		return ret;
	dfd = open(dir, O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		ret = -errno;
		res_shm_idle(pool);
		return ret;
	}
	ret = resmount_create_file(dfd, p->name, p->row.uid, (gid_t)-1,
				   p->row.size + p->row.extra, ops,
				   &pool->log);
	close(dfd);
	if (ret < 0) {
		/* the tmpfs this call mounted goes again (others' stays) */
		res_shm_idle(pool);
		return ret;
	}
	p->fd = ret;
	return 0;
}

/* Closes the file and removes what make_* made. */
static void drop_objects(struct rampool_pool *pool, struct res_plan *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	res_destroy_objects(pool, &p->row);
}

/*
 * Inside the caller's transaction: the intent file, the kernel objects
 * and the row. On failure what it made is gone (its intent too).
 */
static int make_one(struct rampool_pool *pool, struct ledger *l,
		    struct res_plan *p)
{
	int ret = intent_write(pool, p);

	if (!ret)
		ret = p->row.backing == RAMPOOL_RES_HUGETLB ?
			      make_hugetlb(pool, p) : make_shmem(pool, p);
	if (!ret) {
		ret = ledger_insert(l, &p->row);
		if (ret)
			drop_objects(pool, p);
	}
	if (ret) {
		intent_done(p);
		if (p->name[0] == '@')
			res_warm_idle(pool);	/* a bind made for it */
	}
	return ret;
}

static int count_row(void *ctx, const struct ledger_row *r)
{
	(void)r;
	(*(unsigned int *)ctx)++;
	return 0;
}

int res_name_taken(struct rampool_pool *pool, struct ledger *l,
		   const char *name)
{
	struct ledger_row *old = malloc(sizeof(*old));
	unsigned int members = 0;
	int ret;

	if (!old)
		return -ENOMEM;
	ret = ledger_get(l, name, old);
	free(old);
	if (!ret) {
		rp_err(&pool->log, "reserve: %s exists", name);
		return -EEXIST;
	}
	if (ret != -ENOENT)
		return ret;
	ret = ledger_each_member(l, name, count_row, &members);
	if (!ret && members) {
		rp_err(&pool->log, "reserve: %s is a group of %u members",
		       name, members);
		ret = -EEXIST;
	}
	return ret;
}

/* A reservation a warm slot can be: populated, on one node, no headroom. */
static bool warm_shape(const struct res_plan *p)
{
	return (p->o.flags & RAMPOOL_RES_PREALLOC) &&
	       !(p->o.flags & RAMPOOL_RES_INTERLEAVE) &&
	       p->row.nr_nodes == 1 && !p->row.extra;
}

/*
 * A clean warm slot of the reservation's shape, claimed inside the
 * transaction: 1 claimed and committed; 0 none (or not that shape), the
 * transaction still open; negative errno, rolled back.
 */
static int claim_warm(struct rampool_pool *pool, struct ledger *l,
		      struct res_plan *p)
{
	struct warm_move m;
	int ret = 0;

	if (warm_shape(p))
		ret = warm_claim(pool, l, &p->row, &m);
	if (!ret && (p->o.flags & RAMPOOL_RES_WARM_ONLY)) {
		char where[32] = "any node";

		if (p->row.nodes[0].node != RAMPOOL_NODE_ANY)
			snprintf(where, sizeof(where), "node %d",
				 p->row.nodes[0].node);
		rp_err(&pool->log, "reserve: no clean warm slot of %llu bytes "
		       "of %llu-byte pages on %s%s", (unsigned long long)
		       p->row.size, (unsigned long long)p->row.page_size,
		       where, warm_shape(p) ? "" : " (a warm slot is one "
		       "node's, populated, without extra)");
		res_shortfall_add(pool, p->row.nodes[0].node, p->row.page_size,
				  p->row.size, 0);
		ret = -ENOSPC;
	}
	if (ret <= 0) {
		if (ret)
			ledger_rollback(l);
		return ret;
	}
	/* under the lock: no fill is making a slot in the directory now */
	res_warm_idle(pool);
	ret = ledger_commit(l);
	if (ret) {
		warm_move_undo(pool, &m);
		return ret;
	}
	warm_move_done(&m);
	p->warm = true;
	return 1;
}

/* In one transaction: the check, the kernel objects and the row. */
static int create(struct rampool_pool *pool, struct ledger *l,
		  struct res_plan *p)
{
	struct topo *t = NULL;
	int ret;

	ret = ledger_begin(l);
	if (ret)
		return ret;
	ret = res_name_taken(pool, l, p->name);
	if (!ret) {
		ret = claim_warm(pool, l, p);
		if (ret)	/* claimed (committed), or rolled back */
			return ret < 0 ? ret : 0;
	}
	/* the counters are read under the ledger's lock: they are what counts */
	if (!ret)
		ret = res_counters(pool, &t);
	if (!ret)
		ret = res_check(pool, l, t, p->row.page_size, p->row.backing,
				p->needs, p->nr_needs);
	if (!ret)
		ret = make_one(pool, l, p);
	if (!ret) {
		ret = ledger_commit(l);
		if (ret)
			drop_objects(pool, p);
		/* gone before the lock is: the next maker finds no intent */
		intent_done(p);
	} else {
		ledger_rollback(l);
	}
	topo_free(t);
	return ret;
}

/* ---- populate ----------------------------------------------------------- */

struct progress_shift {
	rampool_progress_fn fn;
	void *data;
	uint64_t before, total;
};

static void shifted(void *data, uint64_t done, uint64_t total)
{
	struct progress_shift *s = data;

	(void)total;
	s->fn(s->data, s->before + done, s->total);
}

/*
 * Populates each share on its node through a block attached to the file
 * (bound before any page, placement checked: DESIGN 5, 5b). Outside the
 * ledger's lock: the row is pending meanwhile.
 */
static int populate(struct rampool_pool *pool, struct res_plan *p)
{
	struct progress_shift ps = {
		.fn = p->o.progress, .data = p->o.progress_data,
		.total = p->row.size,
	};
	bool inter = p->o.flags & RAMPOOL_RES_INTERLEAVE;
	uint64_t off = 0;
	int ret = 0;

	for (unsigned int i = 0; !ret && i < p->row.nr_nodes; i++) {
		struct ledger_node *n = &p->row.nodes[i];
		int nodes[LEDGER_MAX_NODES];
		struct block_attach_spec s = {
			.fd = p->fd,
			.size = p->row.size,
			.max_size = p->row.size,
			.page_size = p->row.page_size,
			.hugetlb = p->row.backing == RAMPOOL_RES_HUGETLB,
			.nodes = nodes,
			.nr_nodes = n->node == RAMPOOL_NODE_ANY ? 0 :
				    inter ? p->row.nr_nodes : 1,
			.policy = inter ? RAMPOOL_POLICY_INTERLEAVE
					: RAMPOOL_POLICY_BIND,
			.threads = p->o.threads,
			.progress = p->o.progress ? shifted : NULL,
			.progress_data = &ps,
			.cancel = &pool->cancel,
		};
		uint64_t len = inter ? p->row.size : n->size;
		struct rampool_block *blk;

		for (unsigned int k = 0; k < p->row.nr_nodes; k++)
			nodes[k] = inter ? p->row.nodes[k].node : n->node;
		ps.before = off;
		ret = block_attach(pool, &s, &blk);
		if (ret)
			break;
		ret = rampool_block_populate(blk, off, len);
		rampool_block_free(blk);
		if (!ret) {
			for (unsigned int k = 0; k < p->row.nr_nodes; k++)
				if (inter || k == i)
					p->row.nodes[k].populated =
						p->row.nodes[k].size;
		}
		if (inter)
			break;
		off += len;
	}
	return ret;
}

/* After populating: the shares' figures and the row ready, in the ledger. */
static int finish(struct ledger *l, struct res_plan *p)
{
	int ret = ledger_begin(l);

	for (unsigned int i = 0; !ret && i < p->row.nr_nodes; i++)
		ret = ledger_set_populated(l, p->row.id, p->row.nodes[i].node,
					   p->row.nodes[i].populated);
	if (!ret)
		ret = ledger_set_state(l, p->row.id, RAMPOOL_RES_STATE_READY,
				       0, 0);
	if (!ret)
		return ledger_commit(l);
	ledger_rollback(l);
	return ret;
}

/* A failed populate: the row and everything it made go. */
static void undo(struct rampool_pool *pool, struct ledger *l, struct res_plan *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	if (ledger_begin(l))
		return;	/* the next operation recovers the pending row */
	if (res_destroy(pool, l, &p->row))
		ledger_rollback(l);
	else
		ledger_commit(l);
}

static int res_plan_new(struct rampool_pool *pool, const char *name,
		    const struct rampool_reservation_opts *opts,
		    struct res_plan **out)
{
	struct res_plan *p;
	int ret;

	if (name && (strchr(name, ':') || name[0] == '@') ?
		    res_name_check(name) : res_user_name_check(name)) {
		rp_err(&pool->log, "reserve: bad name '%s' (letters, digits, "
		       "'.', '_', '-'; at most %d; not starting with a "
		       "symbol)", name ? name : "(null)", RAMPOOL_NAME_MAX);
		return -EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->fd = -1;
	p->name = name;
	ret = read_opts(pool, opts, &p->o);
	if (ret) {
		free(p);
		return ret;
	}
	/* 0 (a zeroed struct) and -1: the caller */
	if (p->o.owner_uid == 0)
		p->o.owner_uid = -1;
	if (p->o.owner_uid != -1 && (uid_t)p->o.owner_uid != getuid() &&
	    geteuid()) {
		rp_err(&pool->log, "reserve: only root may reserve for uid "
		       "%lld", p->o.owner_uid);
		free(p);
		return -EPERM;
	}
	snprintf(p->row.name, sizeof(p->row.name), "%s", name);
	p->row.kind = LEDGER_RESERVATION;
	p->row.backing = p->o.backing;
	p->row.uid = p->o.owner_uid == -1 ? getuid() : (uid_t)p->o.owner_uid;
	p->row.created = (int64_t)time(NULL);
	p->row.flags = (p->o.flags & RAMPOOL_RES_PREALLOC ? LEDGER_F_PREALLOC
							   : 0) |
		       (p->o.flags & RAMPOOL_RES_INTERLEAVE ?
				LEDGER_F_INTERLEAVE : 0) |
		       (p->o.flags & RAMPOOL_RES_DECLARED ?
				LEDGER_F_DECLARED : 0);
	if (p->o.flags & RAMPOOL_RES_PREALLOC) {
		p->row.state = RAMPOOL_RES_STATE_PENDING;
		p->row.pid = getpid();
		p->row.pid_start = ledger_proc_start(getpid());
	} else {
		p->row.state = RAMPOOL_RES_STATE_READY;
	}
	*out = p;
	return 0;
}

int res_plan_prepare(struct rampool_pool *pool, const char *name,
		     const struct rampool_reservation_opts *opts,
		     const struct topo *t, struct res_plan **out)
{
	struct res_plan *p;
	int ret = res_plan_new(pool, name, opts, &p);

	if (ret)
		return ret;
	ret = check_page_size(pool, t, p);
	if (!ret)
		ret = res_plan_shares(pool, p);
	if (ret) {
		free(p);
		return ret;
	}
	*out = p;
	return 0;
}

struct ledger_row *res_plan_row(struct res_plan *p)
{
	return &p->row;
}

int res_plan_make(struct rampool_pool *pool, struct ledger *l,
		  struct res_plan *p)
{
	return make_one(pool, l, p);
}

void res_plan_made(struct rampool_pool *pool, struct res_plan *p,
		   bool committed)
{
	if (!committed)
		drop_objects(pool, p);
	intent_done(p);
}

int res_plan_fill(struct rampool_pool *pool, struct ledger *l,
		  struct res_plan *p)
{
	int ret;

	if (!(p->o.flags & RAMPOOL_RES_PREALLOC))
		return 0;
	ret = populate(pool, p);
	if (!ret)
		ret = finish(l, p);
	if (ret)
		undo(pool, l, p);
	/* no hugetlb page to be had: -ENOMEM where a touch gets SIGBUS */
	if (ret == -ENOMEM && p->row.backing == RAMPOOL_RES_HUGETLB)
		count_event(l, COUNT_SIGBUS_AVOIDED, p->row.nodes[0].node,
			    p->row.page_size);
	return ret;
}

void res_plan_free(struct res_plan *p)
{
	if (!p)
		return;
	if (p->fd >= 0)
		close(p->fd);
	free(p);
}

int rampool_reservation_new(struct rampool_pool *pool, const char *name,
			    const struct rampool_reservation_opts *opts)
{
	struct ledger *l = NULL;
	struct topo *t = NULL;
	struct res_plan *p = NULL;
	int ret;

	if (!pool)
		return -EINVAL;
	res_shortfall_clear(pool);
	atomic_store(&pool->cancel, false);
	if (name && (strchr(name, ':') || name[0] == '@')) {
		rp_err(&pool->log, "reserve: bad name '%s' (%s)", name,
		       name[0] == '@' ? "'@' names a warm slot"
				      : "':' names a group's member");
		return -EINVAL;
	}
	ret = res_counters(pool, &t);
	if (!ret)
		ret = res_plan_prepare(pool, name, opts, t, &p);
	topo_free(t);
	if (!ret)
		ret = res_open_write(pool, &l);
	if (!ret && geteuid()) {
		rp_err(&pool->log, "reserve: making a reservation mounts its "
		       "own file system, which needs root (CAP_SYS_ADMIN)");
		ret = -EPERM;
	}
	if (!ret) {
		ret = create(pool, l, p);
		if (ret == -ENOSPC)
			count_refusals(pool, l);
	}
	if (!ret && !p->warm)
		ret = res_plan_fill(pool, l, p);
	res_plan_free(p);
	ledger_close(l);
	return ret;
}
