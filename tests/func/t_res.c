// SPDX-License-Identifier: LGPL-2.1-or-later
/* t_res.c: a private state directory for reservation tests, poolctl runs, JSON access, audit. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rampool.h"
#include "t_res.h"

#define MAX_ARGS 32

static char base[64];
static char state[96];

/* Mount points under base, deepest (longest) first. */
static void umount_all(void)
{
	char line[1024], dev[256], mnt[512];
	size_t blen = strlen(base);
	int again = 1;

	/* a stacked or nested mount shows up again after its parent went */
	for (int round = 0; round < 8 && again; round++) {
		FILE *f = fopen("/proc/mounts", "r");

		again = 0;
		if (!f)
			return;
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "%255s %511s", dev, mnt) != 2)
				continue;
			if (strncmp(mnt, base, blen) || mnt[blen] != '/')
				continue;
			if (!umount2(mnt, MNT_DETACH))
				again = 1;
		}
		fclose(f);
	}
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void res_cleanup(void)
{
	if (!base[0])
		return;
	umount_all();
	nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	base[0] = '\0';
}

const char *t_res_dir(void)
{
	if (state[0])
		return state;
	snprintf(base, sizeof(base), "/run/rampool-test.XXXXXX");
	if (!mkdtemp(base))
		T_FAIL("mkdtemp %s: %s", base, strerror(errno));
	t_atcleanup(res_cleanup);
	if (chmod(base, 0755))
		T_FAIL("chmod %s: %s", base, strerror(errno));
	snprintf(state, sizeof(state), "%s/state", base);
	return state;
}

/* Copies src to dst (mode 0755); the test fails if it cannot. */
static void copy_file(const char *src, const char *dst)
{
	char buf[65536];
	ssize_t n;
	int in = open(src, O_RDONLY | O_CLOEXEC);
	int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);

	if (in < 0 || out < 0)
		T_FAIL("copy %s to %s: %s", src, dst, strerror(errno));
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			T_FAIL("write %s: %s", dst, strerror(errno));
	if (n < 0 || fchmod(out, 0755))
		T_FAIL("copy %s: %s", src, strerror(errno));
	close(in);
	close(out);
}

/*
 * poolctl for another uid: the build tree may lie where that uid cannot
 * reach it (a clone under root's 0700 home), so poolctl and the library
 * it finds beside itself ($ORIGIN) are copied once into the test's own
 * 0755 directory under /run.
 */
static const char *poolctl_for(long long uid)
{
	static char prog[128];
	char dir[96], lib[128];

	if (uid < 0)
		return t_build_path("poolctl");
	if (prog[0])
		return prog;
	t_res_dir();
	snprintf(dir, sizeof(dir), "%s/bin", base);
	if (mkdir(dir, 0755) && errno != EEXIST)
		T_FAIL("mkdir %s: %s", dir, strerror(errno));
	snprintf(lib, sizeof(lib), "%s/librampool.so.0", dir);
	copy_file(t_build_path("librampool.so.0"), lib);
	snprintf(prog, sizeof(prog), "%s/poolctl", dir);
	copy_file(t_build_path("poolctl"), prog);
	return prog;
}

static int vpoolctl(long long uid, char **out, char **err, va_list ap)
{
	char *argv[MAX_ARGS], prog[PATH_MAX + 64];
	const char *a;
	int n = 0;

	snprintf(prog, sizeof(prog), "%s", poolctl_for(uid));
	argv[n++] = prog;
	argv[n++] = "--state-dir";
	argv[n++] = (char *)t_res_dir();
	while ((a = va_arg(ap, const char *))) {
		if (n == MAX_ARGS - 1)
			T_FAIL("too many poolctl arguments");
		argv[n++] = (char *)a;
	}
	argv[n] = NULL;
	return t_run_as(uid, argv, out, err);
}

int t_poolctl(char **out, char **err, ...)
{
	va_list ap;
	int rc;

	va_start(ap, err);
	rc = vpoolctl(-1, out, err, ap);
	va_end(ap);
	return rc;
}

int t_poolctl_as(long long uid, char **out, char **err, ...)
{
	va_list ap;
	int rc;

	va_start(ap, err);
	rc = vpoolctl(uid, out, err, ap);
	va_end(ap);
	return rc;
}

void t_poolctl_ok(int want, ...)
{
	char *out = NULL, *err = NULL, cmd[512] = "";
	const char *a;
	size_t len = 0;
	va_list ap;
	int rc;

	va_start(ap, want);
	rc = vpoolctl(-1, &out, &err, ap);
	va_end(ap);
	if (rc != want) {
		va_start(ap, want);
		while ((a = va_arg(ap, const char *)) && len < sizeof(cmd))
			len += (size_t)snprintf(cmd + len, sizeof(cmd) - len,
						" %s", a);
		va_end(ap);
		T_FAIL("poolctl%s: exit %d, want %d\nstdout: %s\nstderr: %s",
		       cmd, rc, want, out, err);
	}
	free(out);
	free(err);
}

json_object *t_json(const char *text)
{
	json_object *o = json_tokener_parse(text);

	if (!o)
		T_FAIL("not JSON: '%s'", text);
	return o;
}

json_object *t_jget(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		T_FAIL("JSON has no \"%s\" in %s", key,
		       json_object_to_json_string(o));
	return v;
}

uint64_t t_jget_u64(json_object *o, const char *key)
{
	json_object *v = t_jget(o, key);

	if (!json_object_is_type(v, json_type_int))
		T_FAIL("\"%s\" is not an integer in %s", key,
		       json_object_to_json_string(o));
	return json_object_get_uint64(v);
}

const char *t_jget_str(json_object *o, const char *key)
{
	json_object *v = t_jget(o, key);

	if (!json_object_is_type(v, json_type_string))
		T_FAIL("\"%s\" is not a string in %s", key,
		       json_object_to_json_string(o));
	return json_object_get_string(v);
}

static json_object *run_json(const char *what, const char *a1,
			     const char *a2, const char *a3)
{
	char *out = NULL, *err = NULL;
	json_object *o;
	int rc;

	rc = t_poolctl(&out, &err, a1, a2, a3, NULL);
	if (rc)
		T_FAIL("poolctl %s: exit %d: %s", what, rc, err);
	o = t_json(out);
	free(out);
	free(err);
	return o;
}

json_object *t_res_show(const char *name)
{
	return run_json(name, "show", name, "-J");
}

json_object *t_res_list(void)
{
	return run_json("list -J", "list", "-J", NULL);
}

static char manifest[] = "/tmp/rampool-manifest.XXXXXX";
static bool manifest_made;

static void rm_manifest(void)
{
	unlink(manifest);
}

const char *t_manifest(const char *text)
{
	FILE *f;
	int fd;

	/* made once (mkstemp's random name may itself end in an X) */
	if (!manifest_made) {
		manifest_made = true;
		fd = mkstemp(manifest);
		if (fd < 0)
			T_FAIL("mkstemp: %s", strerror(errno));
		close(fd);
		t_atcleanup(rm_manifest);
	}
	f = fopen(manifest, "w");
	if (!f || fputs(text, f) < 0 || fclose(f))
		T_FAIL("%s: %s", manifest, strerror(errno));
	return manifest;
}

json_object *t_status_usage(uint64_t page_size, int node, json_object **doc)
{
	json_object *usage, *u, *n, *hit = NULL;
	int seen = 0;

	*doc = run_json("status -J", "status", "-J", NULL);
	usage = t_jget(*doc, "usage");
	for (size_t i = 0; i < json_object_array_length(usage); i++) {
		int un;

		u = json_object_array_get_idx(usage, i);
		if (t_jget_u64(u, "page_size") != page_size)
			continue;
		/* null (or absent): on no node */
		un = json_object_object_get_ex(u, "node", &n) && n ?
			     json_object_get_int(n) : RAMPOOL_NODE_ANY;
		if (un == node) {
			hit = u;
			seen++;
		}
	}
	if (seen != 1)
		T_FAIL("status -J: %d usage entries of page size %" PRIu64
		       " on node %d", seen, page_size, node);
	return hit;
}

json_object *t_res_rows(json_object *list)
{
	json_object *rows = t_jget(list, "reservations");

	if (!json_object_is_type(rows, json_type_array))
		T_FAIL("\"reservations\" is not an array");
	return rows;
}

json_object *t_res_row(json_object *list, const char *name)
{
	json_object *rows = t_res_rows(list);

	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		json_object *r = json_object_array_get_idx(rows, i);

		if (!strcmp(t_jget_str(r, "name"), name))
			return r;
	}
	return NULL;
}

char *t_res_path(const char *name)
{
	char *out = NULL, *err = NULL;
	size_t n;
	int rc;

	rc = t_poolctl(&out, &err, "path", name, NULL);
	if (rc)
		T_FAIL("poolctl path %s: exit %d: %s", name, rc, err);
	free(err);
	n = strlen(out);
	if (n == 0 || out[n - 1] != '\n' || strchr(out, '\n') != out + n - 1)
		T_FAIL("poolctl path %s printed '%s', not one line", name, out);
	out[n - 1] = '\0';
	return out;
}

static unsigned int count_mounts(const char *prefix, int exact)
{
	char line[1024], dev[256], mnt[512];
	size_t plen = strlen(prefix);
	unsigned int n = 0;
	FILE *f = fopen("/proc/mounts", "r");

	if (!f)
		T_FAIL("/proc/mounts: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%255s %511s", dev, mnt) != 2)
			continue;
		if (exact)
			n += !strcmp(mnt, prefix);
		else
			n += !strncmp(mnt, prefix, plen) && mnt[plen] == '/';
	}
	fclose(f);
	return n;
}

unsigned int t_res_mounts(void)
{
	t_res_dir();
	return count_mounts(base, 0);
}

int t_is_mount(const char *path)
{
	return count_mounts(path, 1) > 0;
}

static json_object *orphan_list;
static const char *orphan_bad;

/* Is mnt/NAME[/mem] or shm/NAME the pool's for a ready row of the list? */
static int explained(const char *rel)
{
	char name[128];
	const char *rest;
	int shm;
	json_object *row;

	if (!strcmp(rel, "mnt") || !strcmp(rel, "shm"))
		return 1;
	shm = !strncmp(rel, "shm/", 4);
	if (!shm && strncmp(rel, "mnt/", 4))
		return 1;	/* the ledger and what else sits beside it */
	snprintf(name, sizeof(name), "%s", rel + 4);
	rest = strchr(rel + 4, '/');
	if (rest) {
		name[rest - (rel + 4)] = '\0';
		if (shm || strcmp(rest, "/mem"))
			return 0;
	}
	row = t_res_row(orphan_list, name);
	if (!row || strcmp(t_jget_str(row, "state"), "ready"))
		return 0;
	/* hugetlb rows have a mount, shmem rows a file in shm/ */
	return shm == (t_jget_u64(row, "page_size") == 4096);
}

static int orphan_one(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	size_t slen = strlen(state);

	(void)st;
	(void)flag;
	(void)ftw;
	if (strlen(path) <= slen)
		return 0;
	if (!explained(path + slen + 1)) {
		orphan_bad = strdup(path);
		return 1;
	}
	return 0;
}

void t_res_no_orphans(json_object *list)
{
	json_object *rows = t_res_rows(list);
	char line[1024], dev[256], mnt[512];
	size_t slen = strlen(state);
	FILE *f;

	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		json_object *r = json_object_array_get_idx(rows, i);

		if (strcmp(t_jget_str(r, "state"), "ready"))
			T_FAIL("row %s is %s", t_jget_str(r, "name"),
			       t_jget_str(r, "state"));
	}
	orphan_list = list;
	orphan_bad = NULL;
	if (access(state, F_OK) == 0 &&
	    nftw(state, orphan_one, 16, FTW_PHYS) != 0)
		T_FAIL("orphan in the state directory: %s",
		       orphan_bad ? orphan_bad : strerror(errno));
	f = fopen("/proc/mounts", "r");
	if (!f)
		T_FAIL("/proc/mounts: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%255s %511s", dev, mnt) != 2 ||
		    strncmp(mnt, base, strlen(base)))
			continue;
		if (strncmp(mnt, state, slen) || mnt[slen] != '/' ||
		    !explained(mnt + slen + 1) ||
		    !strcmp(mnt + slen + 1, "mnt"))
			T_FAIL("orphan mount: %s", line);
	}
	fclose(f);
}

void t_res_audit_clean(void)
{
	char *out = NULL, *err = NULL;
	int rc;

	rc = t_poolctl(&out, &err, "audit", NULL);
	if (rc)
		T_FAIL("poolctl audit: exit %d, want 0 (no drift)\n%s%s", rc,
		       out, err);
	free(out);
	free(err);
}

static uint64_t pool_u64(uint64_t ps, const char *file)
{
	char path[160];

	snprintf(path, sizeof(path),
		 "/sys/kernel/mm/hugepages/hugepages-%" PRIu64 "kB/%s",
		 ps >> 10, file);
	return t_read_u64(path);
}

uint64_t t_res_unclaimed(uint64_t ps)
{
	return pool_u64(ps, "free_hugepages") - pool_u64(ps, "resv_hugepages");
}

void t_res_pool_unclaimed(uint64_t ps, uint64_t n)
{
	uint64_t total;

	t_require_hugetlb(ps);
	/* the kernel never shrinks the pool below what is used or reserved */
	total = pool_u64(ps, "nr_hugepages") - t_res_unclaimed(ps) + n;
	t_hugepages_set(ps, total);
	if (t_res_unclaimed(ps) != n)
		t_skip_hugetlb("pool of %" PRIu64 " pages left %" PRIu64
			       " unclaimed, not %" PRIu64 " (surplus pages?)",
			       total, t_res_unclaimed(ps), n);
}

uint64_t t_res_through(long long uid, const char *path, uint64_t size, int pat)
{
	uint64_t bad = 0;
	int p[2], st;
	pid_t pid;

	if (pipe(p))
		T_FAIL("pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		T_FAIL("fork: %s", strerror(errno));
	if (pid == 0) {
		unsigned char *m;
		int fd;

		t_become(uid);
		fd = open(path, O_RDWR | O_NOFOLLOW);
		if (fd < 0)
			_exit(121);
		m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED)
			_exit(122);
		if (pat >= 0)
			memset(m, pat, size);
		else
			for (uint64_t off = 0; off < size; off += 4096)
				for (uint64_t i = 0; i < 4096; i++)
					if (m[off + i]) {
						bad++;
						break;
					}
		if (write(p[1], &bad, sizeof(bad)) != sizeof(bad))
			_exit(123);
		/*
		 * Ends by exec, not exit: under valgrind a forked child's exit
		 * runs a leak check of the parent's heap, which reported a
		 * buffer the parent still held (only in a register) as lost.
		 */
		execl("/bin/true", "true", (char *)NULL);
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &bad, sizeof(bad)) != sizeof(bad))
		bad = UINT64_MAX;
	close(p[0]);
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		T_FAIL("%s as uid %lld: status 0x%x", path, uid, st);
	return bad;
}

/* `warm -J`'s entry of one shape: target, clean, dirty, filling. */
struct t_warm t_warm_counts(uint64_t page_size, uint64_t slot)
{
	struct t_warm c = { 0 };
	json_object *doc, *a;
	char *out = NULL;
	size_t n;

	T_EQ(t_poolctl(&out, NULL, "warm", "-J", NULL), 0);
	doc = t_json(out);
	a = t_jget(doc, "warm");
	n = json_object_array_length(a);
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(a, i);

		if (t_jget_u64(e, "page_size") != page_size ||
		    t_jget_u64(e, "slot_size") != slot)
			continue;
		c.target = t_jget_u64(e, "target");
		c.clean = t_jget_u64(e, "clean");
		c.dirty = t_jget_u64(e, "dirty");
		c.filling = t_jget_u64(e, "filling");
	}
	json_object_put(doc);
	free(out);
	return c;
}

/* The one slot file there is: state/warm/X/mem, or state/shm/@X. */
void t_warm_slot(bool shm, char *buf, size_t len)
{
	char dir[4096];
	struct dirent *d;
	int found = 0;
	DIR *dp;

	snprintf(dir, sizeof(dir), "%s/%s", t_res_dir(), shm ? "shm" : "warm");
	dp = opendir(dir);
	if (!dp)
		T_FAIL("opendir %s: %s", dir, strerror(errno));
	while ((d = readdir(dp))) {
		if (d->d_name[0] == '.' || (shm && d->d_name[0] != '@'))
			continue;
		if ((size_t)snprintf(buf, len, "%s/%s%s", dir, d->d_name,
				     shm ? "" : "/mem") >= len)
			T_FAIL("path too long");
		found++;
	}
	closedir(dp);
	T_EQ(found, 1);
}

void t_res_node_free(int node, uint64_t n)
{
	struct t_hcount h;

	t_hcount(T_MB2, node, &h);
	t_hugepages_set_node(T_MB2, node, h.total - h.free + n);
	t_hcount(T_MB2, node, &h);
	if (h.free != n)
		t_skip_hugetlb("node %d: %llu free 2M pages, not the %llu "
			       "asked", node, (unsigned long long)h.free,
			       (unsigned long long)n);
}
