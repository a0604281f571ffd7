// SPDX-License-Identifier: LGPL-2.1-or-later
/* res_users.c: every kind of ledger user (root, the service group, an outsider, a reservation's owner) on the real kernel. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rampool.h"
#include "t_util.h"

#define MB1 (1ULL << 20)
#define MB2 (2ULL << 20)
#define NR_RES 2		/* root's reservations: owned, owned-shm */
#define SLOTS 65		/* FOREIGN bytes: [0] host-wide, [1 + k] node k */

static pid_t main_pid;
static char grp_name[32], nogrp_name[32], member_name[32], outsider_name[32];
static bool made_grp, made_member, made_outsider;
static gid_t grp_gid;
struct user {
	const char *name;
	uid_t uid;
	gid_t gid;
	bool member;
};
static struct user member, outsider;
static char state[64], state2[64];	/* with the group; with none */
static char owned_path[4096], shm_path[4096];
static pid_t kids[8];
static unsigned int nr_kids;

/* ---- setup and cleanup ------------------------------------------------- */

/* /usr/sbin/NAME or /sbin/NAME; NULL when neither can be run. */
static const char *tool(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "/usr/sbin/%s", name);
	if (!access(buf, X_OK))
		return buf;
	snprintf(buf, len, "/sbin/%s", name);
	return access(buf, X_OK) ? NULL : buf;
}

/* Runs a command of the shadow tools (NULL-terminated arguments); its
 * exit status. */
static int run(const char *a0, ...)
{
	char *argv[12] = { NULL }, *out = NULL, *err = NULL, path[64];
	va_list ap;
	int rc, n = 1;

	argv[0] = (char *)tool(a0, path, sizeof(path));
	if (!argv[0])
		return 127;

	va_start(ap, a0);
	while (n < 11 && (argv[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	rc = t_run(argv, &out, &err);
	if (rc)
		fprintf(stderr, "%s %s: exit %d: %s", a0, argv[1], rc,
			err ? err : "");
	free(out);
	free(err);
	return rc;
}

/* Releases every reservation, then unmounts and removes what is left. */
static void empty_state(const char *dir, const char *group)
{
	struct rampool_pool_opts o = { .sz = sizeof(o), .state_dir = dir,
				       .group = group };
	struct rampool_reservation_info ri = { .sz = sizeof(ri) };
	struct rampool_res_list *l;
	struct rampool_pool *pool;
	char path[4200];
	struct dirent *de;
	DIR *d;

	if (!dir[0])
		return;
	if (!rampool_pool_new(&o, &pool)) {
		if (!rampool_reservation_list(pool, NULL, &l)) {
			for (unsigned int i = 0;
			     !rampool_res_list_get(l, i, &ri); i++)
				if (!(ri.flags & RAMPOOL_RES_F_BLOCK))
					rampool_reservation_release(pool,
								    ri.name);
			rampool_res_list_free(l);
		}
		rampool_pool_free(pool);
	}
	snprintf(path, sizeof(path), "%s/mnt", dir);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/mnt/%s", dir, de->d_name);
		umount2(path, MNT_DETACH);
	}
	if (d)
		closedir(d);
	snprintf(path, sizeof(path), "%s/shm", dir);
	umount2(path, MNT_DETACH);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path))
		fprintf(stderr, "cleanup: %s failed\n", path);
}

/*
 * Without the shadow tools (a busybox guest of make check-vm) the accounts
 * are lines added to /etc/passwd and /etc/group, and taken out again.
 */
static bool by_files;

static void acct_add(const char *file, const char *line)
{
	FILE *f = fopen(file, "a");

	T_ASSERT(f != NULL);
	T_ASSERT(fprintf(f, "%s\n", line) > 0);
	T_EQ(fclose(f), 0);
}

/* file without the line of name; 0 or -1 (then the file is unchanged). */
static int acct_drop(const char *file, const char *name)
{
	size_t len = strlen(name), cap = 1, n = 0;
	char *all = calloc(1, cap), line[1024];
	FILE *f = fopen(file, "r");
	int ret = all && f ? 0 : -1;

	while (!ret && fgets(line, sizeof(line), f)) {
		size_t l = strlen(line);
		char *more;

		if (!strncmp(line, name, len) && line[len] == ':')
			continue;
		if (n + l + 1 > cap) {
			more = realloc(all, cap = (n + l + 1) * 2);
			if (!more) {
				ret = -1;
				break;
			}
			all = more;
		}
		memcpy(all + n, line, l + 1);
		n += l;
	}
	if (f && (ferror(f) | fclose(f)))
		ret = -1;
	f = ret ? NULL : fopen(file, "w");
	if (!ret && (!f || fwrite(all, 1, n, f) != n))
		ret = -1;
	if (f && fclose(f))
		ret = -1;
	free(all);
	return ret;
}

/* userdel or groupdel name; 0 when it is gone. */
static int acct_del(const char *tool_name, const char *name)
{
	if (!by_files)
		return run(tool_name, name, NULL);
	return acct_drop(strcmp(tool_name, "userdel") ? "/etc/group"
						       : "/etc/passwd", name);
}

/* A uid and gid no account and no group has, from below `from`. */
static unsigned int free_id(unsigned int from)
{
	for (unsigned int id = from; id > 1000; id--)
		if (!getpwuid(id) && !getgrgid(id))
			return id;
	T_FAIL("no free uid below %u", from);
}

/* At exit of the test (not of its children), also after a failure or a
 * fatal signal (t_atcleanup). */
static void cleanup(void)
{
	if (getpid() != main_pid)
		return;
	for (unsigned int i = 0; i < nr_kids; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	nr_kids = 0;
	empty_state(state, grp_name);
	empty_state(state2, nogrp_name);
	state[0] = state2[0] = '\0';
	if (made_member && !acct_del("userdel", member_name))
		made_member = false;
	if (made_outsider && !acct_del("userdel", outsider_name))
		made_outsider = false;
	if (made_grp && !acct_del("groupdel", grp_name))
		made_grp = false;
}

static void make_user(struct user *u, const char *name, bool in_group,
		      bool *made)
{
	struct passwd *pw;

	char line[160];

	if (by_files) {
		/* a member is listed in the group's line already */
		snprintf(line, sizeof(line), "%s:x:%u:65534::/nonexistent:"
			 "/bin/false", name, free_id(grp_gid - 1));
		*made = true;
		acct_add("/etc/passwd", line);
	} else if (in_group) {
		T_EQ(run("useradd", "-M", "-r", "-N", "-s", "/bin/false",
			 "-G", grp_name, name, NULL), 0);
	} else {
		T_EQ(run("useradd", "-M", "-r", "-N", "-s", "/bin/false",
			 name, NULL), 0);
	}
	*made = true;
	pw = getpwnam(name);
	T_ASSERT(pw != NULL);
	*u = (struct user){ .name = name, .uid = pw->pw_uid,
			    .gid = pw->pw_gid, .member = in_group };
	T_ASSERT(u->uid != 0 && u->gid != grp_gid);
}

static void make_users(void)
{
	struct group *gr;
	int id = (int)getpid();
	char path[64];

	snprintf(grp_name, sizeof(grp_name), "rpt%dg", id);
	snprintf(nogrp_name, sizeof(nogrp_name), "rpt%dnone", id);
	snprintf(member_name, sizeof(member_name), "rpt%dm", id);
	snprintf(outsider_name, sizeof(outsider_name), "rpt%do", id);
	T_ASSERT(getgrnam(nogrp_name) == NULL);
	by_files = !tool("groupadd", path, sizeof(path)) ||
		   !tool("useradd", path, sizeof(path));
	if (by_files && access("/etc/passwd", W_OK | R_OK))
		t_skip("needs groupadd and useradd (Debian's passwd), or "
		       "a writable /etc/passwd");
	if (by_files) {
		char line[160];

		snprintf(line, sizeof(line), "%s:x:%u:%s", grp_name,
			 free_id(64900), member_name);
		made_grp = true;
		acct_add("/etc/group", line);
	} else {
		T_EQ(run("groupadd", "-r", grp_name, NULL), 0);
	}
	made_grp = true;
	gr = getgrnam(grp_name);
	T_ASSERT(gr != NULL);
	grp_gid = gr->gr_gid;
	make_user(&member, member_name, true, &made_member);
	make_user(&outsider, outsider_name, false, &made_outsider);
}

static void make_state(char *dir, size_t len)
{
	snprintf(dir, len, "/run/rampool-users.XXXXXX");
	T_ASSERT(mkdtemp(dir) != NULL);
	T_EQ(chmod(dir, 0755), 0);
}

static struct rampool_pool *pool_for(const char *dir, const char *group)
{
	struct rampool_pool_opts o = { .sz = sizeof(o), .state_dir = dir,
				       .group = group };
	struct rampool_pool *pool = NULL;

	if (rampool_pool_new(&o, &pool))
		return NULL;
	return pool;
}

/* ---- children: one process as another user, spoken to through pipes ---- */

/* In a child: say what failed and _exit (never the parent's cleanup). */
#define C_EQ(a, b)							\
	do {								\
		long long a_ = (long long)(a), b_ = (long long)(b);	\
		if (a_ != b_) {						\
			fprintf(stderr, "FAIL %s child %s:%d: %s == %lld, "\
				"expected %lld\n", kid_user, __FILE__,	\
				__LINE__, #a, a_, b_);			\
			_exit(1);					\
		}							\
	} while (0)

static const char *kid_user = "";

struct kid {
	pid_t pid;
	int to, from;	/* parent -> child, child -> parent */
};

static void say(int fd, const char *msg)
{
	size_t len = strlen(msg) + 1;

	if (write(fd, msg, len) != (ssize_t)len)
		_exit(3);
}

/* One NUL-terminated message into buf; "" when the other side is gone. */
static const char *hear(int fd, char *buf, size_t len)
{
	size_t n = 0;

	while (n + 1 < len && read(fd, buf + n, 1) == 1 && buf[n])
		n++;
	buf[n] = '\0';
	return buf;
}

typedef int (*kid_fn)(struct rampool_pool *pool, int to, int from);

/* Starts fn as user u (its groups: the service group for a member only). */
static struct kid kid_start(const struct user *u, kid_fn fn)
{
	int down[2], up[2];
	struct kid k;

	T_EQ(pipe(down), 0);
	T_EQ(pipe(up), 0);
	k.pid = fork();
	T_ASSERT(k.pid >= 0);
	if (k.pid == 0) {
		struct rampool_pool *pool;

		kid_user = u->name;
		close(down[1]);
		close(up[0]);
		for (int sig = 1; sig < 32; sig++)
			signal(sig, SIG_DFL);
		C_EQ(setgroups(u->member ? 1 : 0, &grp_gid), 0);
		C_EQ(setresgid(u->gid, u->gid, u->gid), 0);
		C_EQ(setresuid(u->uid, u->uid, u->uid), 0);
		C_EQ(geteuid(), u->uid);
		pool = pool_for(state, grp_name);
		C_EQ(pool != NULL, 1);
		_exit(fn(pool, up[1], down[0]));
	}
	kids[nr_kids++] = k.pid;
	close(down[0]);
	close(up[1]);
	k.to = down[1];
	k.from = up[0];
	return k;
}

/* Waits for the child; its exit status must be 0 (or the signal sig). */
static void kid_end(struct kid *k, int sig)
{
	int st = 0;

	close(k->to);
	close(k->from);
	T_EQ(waitpid(k->pid, &st, 0), k->pid);
	for (unsigned int i = 0; i < nr_kids; i++)
		if (kids[i] == k->pid)
			kids[i] = kids[--nr_kids];
	if (sig)
		T_ASSERT(WIFSIGNALED(st) && WTERMSIG(st) == sig);
	else
		T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void expect(struct kid *k, const char *want, char *buf, size_t len)
{
	hear(k->from, buf, len);
	if (strncmp(buf, want, strlen(want)))
		T_FAIL("child %d said '%s', expected '%s'", (int)k->pid, buf,
		       want);
}

static struct rampool_reservation_opts res_opts(uint64_t size,
						enum rampool_res_backing b)
{
	return (struct rampool_reservation_opts){
		.sz = sizeof(struct rampool_reservation_opts), .size = size,
		.backing = b, .page_size = b == RAMPOOL_RES_SHMEM ? 4096 : MB2,
		.owner_uid = -1,
	};
}

/* ---- root's view: rows and audit --------------------------------------- */

/*
 * The number of rows root lists; the row of process pid (when pid) copied
 * into *ri with its name into name, else ri->pid is left 0.
 */
static unsigned int rows(struct rampool_pool *pool, pid_t pid,
			 struct rampool_reservation_info *ri, char *name,
			 size_t len)
{
	struct rampool_reservation_info e = { .sz = sizeof(e) };
	struct rampool_res_list *l;
	unsigned int n;

	ri->pid = 0;
	T_EQ(rampool_reservation_list(pool, NULL, &l), 0);
	n = rampool_res_list_count(l);
	for (unsigned int i = 0; i < n; i++) {
		T_EQ(rampool_res_list_get(l, i, &e), 0);
		if (pid && e.pid == pid) {
			*ri = e;
			snprintf(name, len, "%s", e.name);
		}
	}
	rampool_res_list_free(l);
	return n;
}

/* FOREIGN bytes of 2M pages per slot; any other drift fails the test. */
static void foreign(struct rampool_pool *pool, uint64_t slot[SLOTS])
{
	struct rampool_drift d = { .sz = sizeof(d) };
	struct rampool_audit *a;

	memset(slot, 0, SLOTS * sizeof(*slot));
	T_EQ(rampool_audit_run(pool, 0, &a), 0);
	for (unsigned int i = 0; i < rampool_audit_count(a); i++) {
		T_EQ(rampool_audit_get(a, i, &d), 0);
		if (d.kind != RAMPOOL_DRIFT_FOREIGN)
			T_FAIL("audit: drift %d: %s", d.kind, d.message);
		T_EQ(d.repaired, 0);
		if (d.page_size != MB2)
			T_FAIL("audit: %s", d.message);
		T_ASSERT(d.node == RAMPOOL_NODE_ANY ||
			 (d.node >= 0 && d.node < SLOTS - 1));
		slot[d.node == RAMPOOL_NODE_ANY ? 0 : d.node + 1] += d.bytes;
	}
	rampool_audit_free(a);
}

/* ---- the parts ------------------------------------------------------------ */

static void check_mode(const char *dir, mode_t mode, uid_t uid, gid_t gid)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "%s/ledger.db", dir);
	T_EQ(lstat(path, &st), 0);
	T_ASSERT(S_ISREG(st.st_mode));
	T_EQ(st.st_mode & 07777, mode);
	T_EQ(st.st_uid, uid);
	T_EQ(st.st_gid, gid);
}

/* A pool whose group does not exist: root alone, 0600 root:root. */
static void part_no_group(void)
{
	struct rampool_reservation_opts o = res_opts(MB1, RAMPOOL_RES_SHMEM);
	struct rampool_pool *pool;

	make_state(state2, sizeof(state2));
	pool = pool_for(state2, nogrp_name);
	T_ASSERT(pool != NULL);
	T_EQ(rampool_reservation_new(pool, "solo", &o), 0);
	check_mode(state2, 0600, 0, 0);
	T_EQ(rampool_reservation_release(pool, "solo"), 0);
	rampool_pool_free(pool);
}

/* Member: reads the ledger, may not reserve, its block is a row. */
static int kid_member(struct rampool_pool *pool, int to, int from)
{
	struct rampool_reservation_opts o = res_opts(MB1, RAMPOOL_RES_SHMEM);
	struct rampool_block_opts bo = { .sz = sizeof(bo), .size = MB1 };
	struct rampool_reservation_info ri = { .sz = sizeof(ri) };
	struct rampool_block *blk;
	struct rampool_res_list *l;
	char buf[64];

	C_EQ(rampool_reservation_list(pool, NULL, &l), 0);
	C_EQ(rampool_res_list_count(l), NR_RES);
	C_EQ(rampool_res_list_get(l, 0, &ri), 0);
	C_EQ(strcmp(ri.name, "owned"), 0);
	C_EQ(ri.owner_uid, outsider.uid);
	rampool_res_list_free(l);
	C_EQ(rampool_reservation_new(pool, "m1", &o), -EPERM);
	C_EQ(rampool_block_new(pool, &bo, &blk), 0);
	say(to, "made");
	if (strcmp(hear(from, buf, sizeof(buf)), "free"))
		return 0;	/* the parent kills us */
	rampool_block_free(blk);
	say(to, "freed");
	hear(from, buf, sizeof(buf));
	rampool_pool_free(pool);
	return 0;
}

static void check_block_row(struct rampool_pool *pool, pid_t pid)
{
	struct rampool_reservation_info ri = { .sz = sizeof(ri) };
	char name[80], want[80];

	T_EQ(rows(pool, pid, &ri, name, sizeof(name)), NR_RES + 1);
	T_EQ(ri.pid, pid);
	snprintf(want, sizeof(want), "block:%d:0", (int)pid);
	if (strcmp(name, want))
		T_FAIL("block row '%s', expected '%s'", name, want);
	T_EQ(ri.flags & RAMPOOL_RES_F_BLOCK, RAMPOOL_RES_F_BLOCK);
	T_EQ(ri.owner_uid, member.uid);
	T_EQ(ri.backing, RAMPOOL_RES_SHMEM);
	T_EQ(ri.state, RAMPOOL_RES_STATE_READY);
	T_EQ(ri.page_size, 4096);
	T_EQ(ri.size, MB1);
}

static void part_member(struct rampool_pool *pool)
{
	struct rampool_reservation_info ri = { .sz = sizeof(ri) };
	struct kid k = kid_start(&member, kid_member);
	char buf[64], name[80];

	/* the row goes when the block is freed */
	expect(&k, "made", buf, sizeof(buf));
	check_block_row(pool, k.pid);
	say(k.to, "free");
	expect(&k, "freed", buf, sizeof(buf));
	T_EQ(rows(pool, k.pid, &ri, name, sizeof(name)), NR_RES);
	T_EQ(ri.pid, 0);
	say(k.to, "bye");
	kid_end(&k, 0);

	/* and when its process dies without freeing it */
	k = kid_start(&member, kid_member);
	expect(&k, "made", buf, sizeof(buf));
	check_block_row(pool, k.pid);
	T_EQ(kill(k.pid, SIGKILL), 0);
	kid_end(&k, SIGKILL);
	T_EQ(rows(pool, k.pid, &ri, name, sizeof(name)), NR_RES);
	T_EQ(ri.pid, 0);
}

/* Outsider: no ledger at all; its hugetlb block is foreign. */
static int kid_outsider(struct rampool_pool *pool, int to, int from)
{
	struct rampool_reservation_opts o = res_opts(MB1, RAMPOOL_RES_SHMEM);
	struct rampool_block_opts bo = {
		.sz = sizeof(bo), .size = MB2, .page_size = MB2,
		.backing = RAMPOOL_BACKING_MEMFD_HUGETLB,
		.flags = RAMPOOL_BLOCK_PREALLOC,
	};
	struct rampool_block *blk;
	struct rampool_res_list *l;
	char buf[64];
	int node = -1;

	C_EQ(rampool_reservation_list(pool, NULL, &l), -EACCES);
	C_EQ(rampool_reservation_new(pool, "o1", &o), -EACCES);
	C_EQ(rampool_block_new(pool, &bo, &blk), 0);
	for (int k = 0; k < t_nr_nodes(); k++)
		if (t_pages_on_node(rampool_block_addr(blk), MB2, MB2, k) == 1)
			node = k;
	C_EQ(node >= 0, 1);
	snprintf(buf, sizeof(buf), "made %d", node);
	say(to, buf);
	hear(from, buf, sizeof(buf));
	rampool_block_free(blk);
	say(to, "freed");
	hear(from, buf, sizeof(buf));
	rampool_pool_free(pool);
	return 0;
}

static void part_outsider(struct rampool_pool *pool)
{
	struct rampool_reservation_info ri = { .sz = sizeof(ri) };
	uint64_t now[SLOTS];
	char buf[64], name[80];
	struct kid k;
	int node;

	k = kid_start(&outsider, kid_outsider);
	expect(&k, "made ", buf, sizeof(buf));
	node = atoi(buf + 5);
	T_ASSERT(node >= 0 && node < SLOTS - 1);
	/* no row; audit sees its page, host-wide and on its node */
	T_EQ(rows(pool, k.pid, &ri, name, sizeof(name)), NR_RES);
	T_EQ(ri.pid, 0);
	foreign(pool, now);
	for (int s = 0; s < SLOTS; s++)
		T_EQ(now[s], s == 0 || s == node + 1 ? MB2 : 0);
	say(k.to, "free");
	expect(&k, "freed", buf, sizeof(buf));
	foreign(pool, now);
	for (int s = 0; s < SLOTS; s++)
		T_EQ(now[s], 0);	/* no drift at all */
	say(k.to, "bye");
	kid_end(&k, 0);
}

/* The owner without ledger access opens its reservation by the file. */
static int kid_owner(struct rampool_pool *pool, int to, int from)
{
	struct rampool_block *blk;
	volatile char *p;

	(void)from;
	C_EQ(rampool_reservation_open(pool, "owned", &blk), 0);
	C_EQ(rampool_block_size(blk), 2 * MB2);
	C_EQ(rampool_block_page_size(blk), MB2);
	p = rampool_block_addr(blk);
	p[0] = 1;
	p[2 * MB2 - 1] = 2;
	C_EQ(p[0] + p[2 * MB2 - 1], 3);
	rampool_block_free(blk);
	/* a shmem one the same way: the file's size, 4K pages */
	C_EQ(rampool_reservation_open(pool, "owned-shm", &blk), 0);
	C_EQ(rampool_block_size(blk), MB1);
	C_EQ(rampool_block_page_size(blk), 4096);
	rampool_block_free(blk);
	/* changing it goes through the ledger, which it cannot write */
	C_EQ(rampool_reservation_grow(pool, "owned", MB2), -EACCES);
	C_EQ(rampool_reservation_release(pool, "owned"), -EACCES);
	say(to, "done");
	rampool_pool_free(pool);
	return 0;
}

/* Another user (a member: it reads the ledger) may not touch it. */
static int kid_other(struct rampool_pool *pool, int to, int from)
{
	struct rampool_block *blk = NULL;
	int fd;

	(void)from;
	C_EQ(rampool_reservation_open(pool, "owned", &blk), -EPERM);
	C_EQ(blk == NULL, 1);
	fd = open(owned_path, O_RDONLY | O_CLOEXEC);
	C_EQ(fd, -1);
	C_EQ(errno, EACCES);
	C_EQ(rampool_reservation_release(pool, "owned"), -EPERM);
	C_EQ(rampool_reservation_grow(pool, "owned", MB2), -EPERM);
	/* shmem: the file itself (0600, the owner's) keeps it out */
	C_EQ(rampool_reservation_open(pool, "owned-shm", &blk), -EPERM);
	fd = open(shm_path, O_RDONLY | O_CLOEXEC);
	C_EQ(fd, -1);
	C_EQ(errno, EACCES);
	C_EQ(rampool_reservation_release(pool, "owned-shm"), -EPERM);
	say(to, "done");
	rampool_pool_free(pool);
	return 0;
}

static void part_owner(struct rampool_pool *pool)
{
	struct rampool_reservation_info ri = { .sz = sizeof(ri) };
	struct rampool_res_list *l;
	char buf[64];
	struct stat st;
	struct kid k;

	T_EQ(lstat(owned_path, &st), 0);
	T_EQ(st.st_uid, outsider.uid);
	T_EQ(st.st_mode & 07777, 0600);
	T_EQ(lstat(shm_path, &st), 0);
	T_EQ(st.st_uid, outsider.uid);
	T_EQ(st.st_mode & 07777, 0600);
	T_EQ(st.st_size, MB1);
	k = kid_start(&outsider, kid_owner);
	expect(&k, "done", buf, sizeof(buf));
	kid_end(&k, 0);
	k = kid_start(&member, kid_other);
	expect(&k, "done", buf, sizeof(buf));
	kid_end(&k, 0);
	/* nothing changed */
	T_EQ(rampool_reservation_list(pool, "owned", &l), 0);
	T_EQ(rampool_res_list_get(l, 0, &ri), 0);
	T_EQ(ri.size, 2 * MB2);
	T_EQ(ri.page_size, MB2);
	T_EQ(ri.owner_uid, outsider.uid);
	T_EQ(ri.state, RAMPOOL_RES_STATE_READY);
	rampool_res_list_free(l);
}

int main(void)
{
	struct rampool_reservation_opts o = res_opts(2 * MB2,
						     RAMPOOL_RES_HUGETLB);
	struct rampool_reservation_opts so = res_opts(MB1, RAMPOOL_RES_SHMEM);
	uint64_t base[SLOTS], now[SLOTS];
	struct t_hcount before, after;
	struct rampool_pool *pool;

	main_pid = getpid();
	if (geteuid())
		t_skip("needs root: it adds users and a group, and "
		       "reservations mount");
	t_require_hugetlb(MB2);
	/* the reservation's 2 pages and the outsider's 1 */
	t_hugepages_ensure_free(MB2, 3);
	/* at exit or on a fatal signal, before t_util's restore */
	t_atcleanup(cleanup);
	make_users();
	make_state(state, sizeof(state));
	pool = pool_for(state, grp_name);
	T_ASSERT(pool != NULL);
	t_hcount(MB2, -1, &before);

	/* root makes the ledger: the service group may read and write it */
	o.owner_uid = outsider.uid;
	T_EQ(rampool_reservation_new(pool, "owned", &o), 0);
	check_mode(state, 0660, 0, grp_gid);
	so.owner_uid = outsider.uid;
	T_EQ(rampool_reservation_new(pool, "owned-shm", &so), 0);
	T_EQ(rampool_reservation_path(pool, "owned-shm", shm_path,
				      sizeof(shm_path)), 0);
	T_EQ(rampool_reservation_path(pool, "owned", owned_path,
				      sizeof(owned_path)), 0);
	part_no_group();
	/* a clean start: the ledger explains every hugepage in use */
	foreign(pool, base);
	for (int s = 0; s < SLOTS; s++)
		T_EQ(base[s], 0);

	part_member(pool);
	part_outsider(pool);
	part_owner(pool);

	T_EQ(rampool_reservation_release(pool, "owned"), 0);
	T_EQ(rampool_reservation_release(pool, "owned-shm"), 0);
	t_hcount(MB2, -1, &after);
	T_HCOUNT_EQ(after, before);
	foreign(pool, now);
	for (int s = 0; s < SLOTS; s++)
		T_EQ(now[s], base[s]);
	rampool_pool_free(pool);
	printf("res_users: root, member, outsider and owner behave as "
	       "documented\n");
	return 0;
}
