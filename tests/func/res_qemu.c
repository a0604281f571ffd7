// SPDX-License-Identifier: LGPL-2.1-or-later
/* res_qemu.c: a real QEMU runs on `poolctl path` with prealloc=on and takes no hugepage beyond the reservation; release gives every page back (issue 7). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "t_res.h"

#define PAGES 32		/* --size 64M */
#define SPARE 8			/* unclaimed pages QEMU must leave alone */
#define QEMU "/usr/bin/qemu-system-x86_64"

static pid_t qemu_pid;

static void kill_qemu(void)
{
	if (qemu_pid > 0) {
		kill(qemu_pid, SIGKILL);
		waitpid(qemu_pid, NULL, 0);
		qemu_pid = 0;
	}
}

static void start_qemu(const char *path, const char *sock, const char *log)
{
	char backend[512], qmp[160];
	int fd;

	snprintf(backend, sizeof(backend),
		 "memory-backend-file,id=m0,mem-path=%s,share=on,size=64M,"
		 "prealloc=on", path);
	snprintf(qmp, sizeof(qmp), "unix:%s,server=on,wait=off", sock);
	fflush(NULL);
	qemu_pid = fork();
	if (qemu_pid < 0)
		T_FAIL("fork: %s", strerror(errno));
	if (qemu_pid == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0)
			_exit(126);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(QEMU, QEMU, "-accel", "tcg", "-machine",
		      "q35,memory-backend=m0", "-m", "64M", "-S", "-display",
		      "none", "-nodefaults", "-object", backend, "-qmp", qmp,
		      (char *)NULL);
		_exit(127);
	}
}

static void show_log(const char *log)
{
	char buf[2048] = "";
	int fd = open(log, O_RDONLY);

	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);

		buf[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	fprintf(stderr, "QEMU's output:\n%s\n", buf);
}

/* Connects once QEMU listens (it has preallocated by then). */
static FILE *qmp_connect(const char *sock, const char *log)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	for (int i = 0; i < 300; i++) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			T_FAIL("socket: %s", strerror(errno));
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			return fdopen(fd, "r+");
		close(fd);
		if (waitpid(qemu_pid, NULL, WNOHANG) == qemu_pid) {
			qemu_pid = 0;
			show_log(log);
			T_FAIL("QEMU exited before its QMP socket was up");
		}
		usleep(100 * 1000);
	}
	show_log(log);
	T_FAIL("no QMP socket at %s after 30 s", sock);
}

/* Sends cmd, returns the "return" reply line (events are skipped). */
static json_object *qmp(FILE *f, const char *cmd)
{
	char line[4096];

	if (cmd && (fputs(cmd, f) == EOF || fputs("\n", f) == EOF ||
		    fflush(f)))
		T_FAIL("QMP write: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		json_object *o = t_json(line), *v;

		if (json_object_object_get_ex(o, "return", &v) ||
		    json_object_object_get_ex(o, "QMP", &v))
			return o;
		if (json_object_object_get_ex(o, "error", &v))
			T_FAIL("QMP %s: %s", cmd, line);
		json_object_put(o);
	}
	T_FAIL("QMP %s: connection closed", cmd ? cmd : "greeting");
}

static int maps_file(pid_t pid, const char *path)
{
	char maps[64], line[1024];
	int found = 0;
	FILE *f;

	snprintf(maps, sizeof(maps), "/proc/%d/maps", (int)pid);
	f = fopen(maps, "r");
	if (!f)
		T_FAIL("%s: %s", maps, strerror(errno));
	while (fgets(line, sizeof(line), f))
		found |= strstr(line, path) != NULL;
	fclose(f);
	return found;
}

static void wait_exit(void)
{
	int st;

	for (int i = 0; i < 100; i++) {
		if (waitpid(qemu_pid, &st, WNOHANG) == qemu_pid) {
			qemu_pid = 0;
			if (!WIFEXITED(st) || WEXITSTATUS(st))
				T_FAIL("QEMU's exit status 0x%x", st);
			return;
		}
		usleep(100 * 1000);
	}
	T_FAIL("QEMU did not quit within 10 s");
}

static void expect_counts(const struct t_hcount *before, uint64_t used,
			  const char *when)
{
	struct t_hcount now;

	t_hcount(T_MB2, -1, &now);
	printf("%s: total %" PRIu64 " free %" PRIu64 " resv %" PRIu64
	       " surplus %" PRIu64 "\n", when, now.total, now.free, now.resv,
	       now.surplus);
	T_EQ(now.total, before->total);
	T_EQ(now.free, before->free - used);
	T_EQ(now.resv, before->resv);
	T_EQ(now.surplus, before->surplus);
	T_EQ(t_res_unclaimed(T_MB2), before->free - before->resv - used);
}

int main(void)
{
	char sock[96], log[256];
	struct t_hcount before;
	json_object *o;
	const char *tmp;
	char *path;
	FILE *q;

	t_require_hugetlb(T_MB2);
	if (access(QEMU, X_OK))
		t_skip("%s not installed (scripts/deps installs "
		       "qemu-system-x86)", QEMU);
	t_res_dir();
	t_atcleanup(kill_qemu);
	tmp = t_tmpdir("/tmp");
	snprintf(sock, sizeof(sock), "%s/qmp.sock", tmp);
	snprintf(log, sizeof(log), "%s/qemu.log", tmp);
	t_res_pool_unclaimed(T_MB2, PAGES + SPARE);
	t_hcount(T_MB2, -1, &before);

	t_poolctl_ok(0, "reserve", "vm1", "--size", "64M", "--prealloc", NULL);
	expect_counts(&before, PAGES, "reserved");
	o = t_res_show("vm1");
	T_EQ(t_jget_u64(o, "populated"), PAGES * T_MB2);
	T_EQ(t_jget_u64(o, "held"), PAGES * T_MB2);
	json_object_put(o);
	path = t_res_path("vm1");

	start_qemu(path, sock, log);
	q = qmp_connect(sock, log);
	json_object_put(qmp(q, NULL));
	json_object_put(qmp(q, "{\"execute\":\"qmp_capabilities\"}"));
	o = qmp(q, "{\"execute\":\"query-status\"}");
	T_ASSERT(!json_object_get_boolean(t_jget(t_jget(o, "return"),
						 "running")));
	json_object_put(o);
	T_ASSERT(maps_file(qemu_pid, path));
	/* QEMU's prealloc found every page there: not one more taken */
	expect_counts(&before, PAGES, "QEMU running");

	json_object_put(qmp(q, "{\"execute\":\"quit\"}"));
	fclose(q);
	wait_exit();
	/* the file keeps its pages until the reservation goes */
	expect_counts(&before, PAGES, "QEMU gone");
	t_poolctl_ok(0, "release", "vm1", NULL);
	expect_counts(&before, 0, "released");
	T_EQ(t_res_mounts(), 0);
	unlink(log);
	unlink(sock);
	free(path);
	t_res_audit_clean();
	return 0;
}
