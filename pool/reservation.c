// SPDX-License-Identifier: LGPL-2.1-or-later
/* reservation.c: named reservations: the check, the mount and file, population, release and growth. */
#include <dirent.h>
#include <errno.h>
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
#include "res.h"
#include "warm.h"

/* ---- names and paths ---------------------------------------------------- */

int res_user_name_check(const char *name)
{
	size_t n;

	if (!name || !name[0])
		return -EINVAL;
	n = strlen(name);
	if (n > RAMPOOL_NAME_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return -EINVAL;
	}
	return 0;
}

int res_name_check(const char *name)
{
	const char *colon = name ? strchr(name, ':') : NULL;
	char base[RAMPOOL_NAME_MAX + 1];
	size_t digits;

	if (name && name[0] == '@')	/* a warm slot's */
		return res_user_name_check(name + 1);
	if (!colon)
		return res_user_name_check(name);
	/* a group's member: GROUP:INDEX */
	digits = strlen(colon + 1);
	if ((size_t)(colon - name) > RAMPOOL_NAME_MAX || !digits ||
	    digits > RES_MEMBER_DIGITS ||
	    strspn(colon + 1, "0123456789") != digits)
		return -EINVAL;
	memcpy(base, name, (size_t)(colon - name));
	base[colon - name] = '\0';
	return res_user_name_check(base);
}

static bool dir_empty(const char *path)
{
	struct dirent *d;
	int n = 0;
	DIR *dp;

	dp = opendir(path);
	if (!dp)
		return false;
	while ((d = readdir(dp)))
		if (strcmp(d->d_name, ".") && strcmp(d->d_name, ".."))
			n++;
	closedir(dp);
	return !n;
}

static int path_of(char *buf, size_t len, const char *a, const char *b,
		   const char *c, const char *d)
{
	int n = snprintf(buf, len, "%s/%s%s%s%s%s", a, b, c ? "/" : "",
			 c ? c : "", d ? "/" : "", d ? d : "");

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int res_mount_dir(const struct rampool_pool *pool, const char *name,
		  char *buf, size_t len)
{
	if (name[0] == '@')	/* a warm slot: state/warm/SLOT */
		return path_of(buf, len, pool->state_dir, RES_WARM_DIR,
			       name + 1, NULL);
	return path_of(buf, len, pool->state_dir, RES_MNT_DIR, name, NULL);
}

int res_mount_parent(struct rampool_pool *pool, const char *name)
{
	const struct resmount_ops *ops = res_mops(pool);
	bool warm = name[0] == '@';
	char dir[4096];
	int ret;

	ret = path_of(dir, sizeof(dir), pool->state_dir,
		      warm ? RES_WARM_DIR : RES_MNT_DIR, NULL, NULL);
	if (ret)
		return ret;
	if (!ops->mkdirat(AT_FDCWD, dir, warm ? 0700 : 0755)) {
		/* owners walk through mnt to their mounts, whatever the umask */
		if (chmod(dir, warm ? 0700 : 0755))
			return -errno;
	} else if (errno != EEXIST) {
		return -errno;
	}
	/*
	 * A slot's mount is moved to its reservation when claimed: the kernel
	 * refuses to move a mount whose parent mount is shared (systemd
	 * makes /run shared), so warm is a private mount of its own. Made
	 * before its first slot, and gone with its last (res_warm_idle).
	 */
	return warm ? resmount_private(dir, ops, &pool->log) : 0;
}

void res_warm_idle(struct rampool_pool *pool)
{
	char path[4096];

	if (path_of(path, sizeof(path), pool->state_dir, RES_WARM_DIR, NULL,
		    NULL) || !dir_empty(path))
		return;
	resmount_remove(path, res_mops(pool), &pool->log);
}

int res_shm_dir(const struct rampool_pool *pool, char *buf, size_t len)
{
	return path_of(buf, len, pool->state_dir, RES_SHM_DIR, NULL, NULL);
}

int res_file_path(const struct rampool_pool *pool, int backing,
		  const char *name, char *buf, size_t len)
{
	if (backing == RAMPOOL_RES_HUGETLB && name[0] == '@')
		return path_of(buf, len, pool->state_dir, RES_WARM_DIR,
			       name + 1, RES_FILE);
	if (backing == RAMPOOL_RES_HUGETLB)
		return path_of(buf, len, pool->state_dir, RES_MNT_DIR, name,
			       RES_FILE);
	return path_of(buf, len, pool->state_dir, RES_SHM_DIR, name, NULL);
}

bool res_may(const struct ledger_row *r)
{
	return geteuid() == 0 || getuid() == r->uid;
}

uint64_t res_populated_now(const struct rampool_pool *pool,
			   const struct ledger_row *r)
{
	uint64_t sum = 0;
	char path[4096];
	struct stat st;

	/*
	 * The pages in the file: st_blocks (hugetlbfs and tmpfs count
	 * allocated pages in i_blocks), whoever populated them. Not statfs of the mount: a mapping's reservation
	 * counts there as used before any page exists.
	 */
	if (r->kind != LEDGER_BLOCK &&
	    !res_file_path(pool, r->backing, r->name, path, sizeof(path)) &&
	    !lstat(path, &st) && S_ISREG(st.st_mode))
		return (uint64_t)st.st_blocks * 512;
	for (unsigned int i = 0; i < r->nr_nodes; i++)
		sum += r->nodes[i].populated;
	return sum;
}

/* ---- ledger access ------------------------------------------------------ */


/*
 * A shmem file open in another process (a VMM) must not go: its pages would
 * stay with that process while the ledger no longer counts them. A write
 * lease is refused (EAGAIN) while anyone else has the file open. A mapping
 * whose fd was closed is not seen (documented).
 */
static int shm_in_use(const char *path)
{
	int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	int ret = 0;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fcntl(fd, F_SETLEASE, F_WRLCK))
		ret = errno == EAGAIN || errno == EBUSY ? -EBUSY : 0;
	else
		fcntl(fd, F_SETLEASE, F_UNLCK);
	close(fd);
	return ret;
}

bool res_file_there(const struct rampool_pool *pool,
		    const struct ledger_row *r)
{
	char path[4096];
	struct stat st;

	return !res_file_path(pool, r->backing, r->name, path, sizeof(path)) &&
	       !lstat(path, &st) && S_ISREG(st.st_mode);
}

int res_destroy_objects(struct rampool_pool *pool, const struct ledger_row *r)
{
	const struct resmount_ops *ops = res_mops(pool);
	char path[4096];
	int ret;

	if (r->kind == LEDGER_BLOCK)
		return 0;	/* a block's file went with its process */
	if (r->backing == RAMPOOL_RES_HUGETLB) {
		ret = res_mount_dir(pool, r->name, path, sizeof(path));
		/* the mount takes its file and every page with it */
		if (!ret)
			ret = resmount_remove(path, ops, &pool->log);
		if (!ret && r->name[0] == '@')
			res_warm_idle(pool);
		return ret;
	}
	ret = res_file_path(pool, r->backing, r->name, path, sizeof(path));
	if (ret)
		return ret;
	ret = shm_in_use(path);
	if (ret)
		return ret;
	if (ops->unlinkat(AT_FDCWD, path, 0) && errno != ENOENT) {
		ret = -errno;
		rp_err(&pool->log, "unlink %s: %s", path, strerror(-ret));
		return ret;
	}
	res_shm_idle(pool);
	return 0;
}

void res_shm_idle(struct rampool_pool *pool)
{
	char path[4096];

	/*
	 * The last shmem file gone: the pool's tmpfs goes too. Only when
	 * empty: unmounting a tmpfs would destroy the files still in it.
	 * Under the ledger's lock, so no reservation is being made in it.
	 */
	if (!res_shm_dir(pool, path, sizeof(path)) && dir_empty(path))
		resmount_remove(path, res_mops(pool), &pool->log);
}

int res_destroy(struct rampool_pool *pool, struct ledger *l,
		const struct ledger_row *r)
{
	int ret = res_destroy_objects(pool, r);

	return ret ? ret : ledger_delete(l, r->id);
}

struct recover_ctx {
	struct rampool_pool *pool;
	struct ledger *l;
	int ret;
};

static int recover_one(void *ctx, const struct ledger_row *r)
{
	struct recover_ctx *c = ctx;
	int ret;

	if (!ledger_owner_dead(r))
		return 0;
	if (r->kind == LEDGER_WARM && r->state == LEDGER_WARM_DIRTY) {
		/* a scrub that died: the slot stays dirty, for the next fill */
		rp_info(&c->pool->log, "ledger: warm slot %s stays dirty (pid "
			"%d died zeroing it)", r->name, r->pid);
		ret = ledger_set_state(c->l, r->id, LEDGER_WARM_DIRTY, 0, 0);
		if (ret && !c->ret)
			c->ret = ret;
		return 0;
	}
	rp_info(&c->pool->log, "ledger: undoing %s of pid %d, which died",
		r->name, r->pid);
	ret = res_destroy(c->pool, c->l, r);
	if (ret && !c->ret)
		c->ret = ret;	/* go on with the others */
	return 0;
}

/*
 * Intent files (res_new.c) of processes that died between making a
 * reservation's mount or file and committing its row: what no row
 * explains goes. Cheap: the directory holds only reservations in flight.
 */
static int recover_intents(struct rampool_pool *pool, struct ledger *l)
{
	struct ledger_row *r;
	char dir[4096];
	struct dirent *d;
	DIR *dp;
	int dfd;

	if (path_of(dir, sizeof(dir), pool->state_dir, "intent", NULL, NULL))
		return 0;
	dp = opendir(dir);
	if (!dp)
		return 0;
	r = malloc(sizeof(*r));
	dfd = dirfd(dp);
	while (r && (d = readdir(dp))) {
		unsigned long long start = 0;
		int pid = 0, fd, busy, got;
		FILE *f;

		if (res_name_check(d->d_name))
			continue;
		fd = openat(dfd, d->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		f = fd >= 0 ? fdopen(fd, "r") : NULL;
		if (f && fscanf(f, "%d %llu", &pid, &start) != 2)
			pid = 0;
		if (f)
			fclose(f);
		else if (fd >= 0)
			close(fd);
		if (pid > 0 && ledger_proc_start(pid) == start)
			continue;	/* still at work */
		got = ledger_get(l, d->d_name, r);
		if (!got) {
			/*
			 * A row whose file left with the intent's work (a
			 * warm claim or release moved the mount, then died
			 * before its commit): what the row promised is gone.
			 */
			if (r->kind != LEDGER_BLOCK && !res_file_there(pool, r)) {
				rp_info(&pool->log, "ledger: %s lost its file "
					"to pid %d, which died", r->name, pid);
				if (res_destroy(pool, l, r))
					continue;
			}
		} else if (got == -ENOENT) {
			memset(r, 0, sizeof(*r));
			/* res_name_check bounded it */
			memcpy(r->name, d->d_name, strlen(d->d_name) + 1);
			r->kind = LEDGER_RESERVATION;
			rp_info(&pool->log, "ledger: removing what pid %d left "
				"of %s", pid, d->d_name);
			r->backing = RAMPOOL_RES_HUGETLB;
			busy = res_destroy_objects(pool, r);
			r->backing = RAMPOOL_RES_SHMEM;
			busy |= res_destroy_objects(pool, r);
			if (busy)
				continue;	/* the intent says to retry */
		}
		unlinkat(dfd, d->d_name, 0);
	}
	closedir(dp);
	free(r);
	return r ? 0 : -ENOMEM;
}

int res_recover(struct rampool_pool *pool, struct ledger *l)
{
	struct recover_ctx c = { .pool = pool, .l = l };
	int ret;

	if (!ledger_writable(l))
		return 0;
	ret = ledger_begin(l);
	if (ret)
		return ret;
	ret = recover_intents(pool, l);
	if (!ret)
		ret = ledger_each(l, true, recover_one, &c);
	if (ret) {
		ledger_rollback(l);
		return ret;
	}
	ret = ledger_commit(l);
	return ret ? ret : c.ret;
}

int res_open_write(struct rampool_pool *pool, struct ledger **out)
{
	struct ledger *l;
	int ret = ledger_open(pool, LEDGER_WRITE, &l);

	if (ret)
		return ret;
	/*
	 * What recovery could not undo (a member of the service group may
	 * not unmount a dead process's reservation) waits for a caller who
	 * can; it never blocks this one.
	 */
	ret = res_recover(pool, l);
	if (ret == -ENOMEM) {
		ledger_close(l);
		return ret;
	}
	if (ret)
		rp_info(&pool->log, "ledger: recovery left work undone: %s",
			strerror(-ret));
	*out = l;
	return 0;
}

/* Opens the ledger to read a row; the caller closes it. */
static int get_row(struct rampool_pool *pool, const char *name, bool write,
		   struct ledger **lp, struct ledger_row *r)
{
	struct ledger *l;
	int ret;

	if (!pool || res_name_check(name)) {
		if (pool)
			rp_err(&pool->log, "bad reservation name '%s'",
			       name ? name : "(null)");
		return -EINVAL;
	}
	ret = write ? res_open_write(pool, &l)
		    : ledger_open(pool, LEDGER_READ, &l);
	if (ret)
		return ret == -ENOENT ? -ENOENT : ret;
	ret = write ? ledger_begin(l) : 0;
	if (!ret)
		ret = ledger_get(l, name, r);
	if (!ret && (r->kind != LEDGER_RESERVATION || !res_may(r))) {
		ret = r->kind != LEDGER_RESERVATION ? -ENOENT : -EPERM;
		if (ret == -EPERM)
			rp_err(&pool->log, "%s belongs to uid %u", name,
			       (unsigned int)r->uid);
	}
	if (ret) {
		if (write)
			ledger_rollback(l);
		ledger_close(l);
		return ret;
	}
	*lp = l;
	return 0;
}

/* ---- release, path, grow ------------------------------------------------ */

int rampool_reservation_release(struct rampool_pool *pool, const char *name)
{
	struct ledger_row *r;
	struct warm_move m;
	struct ledger *l;
	int ret, warm = 0;

	r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	ret = get_row(pool, name, true, &l, r);
	if (ret == -ENOENT && !res_user_name_check(name)) {
		/* no reservation of that name: a group's? */
		ret = res_group_release(pool, name);
		goto out;
	}
	if (ret)
		goto out;
	if (geteuid()) {
		rp_err(&pool->log, "release of %s: only root may (it unmounts "
		       "the reservation's file system)", name);
		ret = -EPERM;
	} else if (r->state == RAMPOOL_RES_STATE_PENDING &&
		   !ledger_owner_dead(r)) {
		rp_err(&pool->log, "%s is still being made by pid %d", name,
		       r->pid);
		ret = -EBUSY;
	}
	/* a warm target short of slots takes the pages, dirty */
	if (!ret)
		warm = warm_release(pool, l, r, &m);
	if (warm < 0)
		ret = warm;
	if (!ret && !warm)
		ret = res_destroy(pool, l, r);
	if (ret == -EBUSY)
		rp_err(&pool->log, "%s is still open or mapped by a process",
		       name);
	if (ret) {
		ledger_rollback(l);
	} else {
		ret = ledger_commit(l);
		if (warm > 0 && ret)
			warm_move_undo(pool, &m);
		else if (warm > 0)
			warm_move_done(&m);
	}
	ledger_close(l);
out:
	free(r);
	return ret;
}

int rampool_reservation_path(struct rampool_pool *pool, const char *name,
			     char *buf, size_t len)
{
	struct ledger_row *r;
	char path[4096];
	int ret;

	if (!buf)
		return -EINVAL;
	r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	/* an owner without access to the ledger finds it by its file */
	ret = res_find_row(pool, name, r);
	if (ret)
		goto out;
	ret = res_file_path(pool, r->backing, r->name, path, sizeof(path));
	if (!ret && strlen(path) >= len)
		ret = -ERANGE;
	if (!ret)
		memcpy(buf, path, strlen(path) + 1);
out:
	free(r);
	return ret;
}
