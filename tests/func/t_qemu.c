// SPDX-License-Identifier: LGPL-2.1-or-later
/* t_qemu.c: a real QEMU for the functional tests, started with the common arguments, driven over QMP and killed at exit. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "t_qemu.h"
#include "t_res.h"

#define MAX_QEMUS 8
#define CMD(cmd) ((cmd) ? (cmd) : "greeting")

/* every QEMU started, for the exit hook */
static struct t_qemu *started[MAX_QEMUS];
static int nr_started;

static void kill_all(void)
{
	for (int i = 0; i < nr_started; i++) {
		t_qemu_kill(started[i]);
		unlink(started[i]->sock);
		unlink(started[i]->log);
	}
	nr_started = 0;
}

static void remember(struct t_qemu *q)
{
	for (int i = 0; i < nr_started; i++)
		if (started[i] == q)
			return;
	if (nr_started == MAX_QEMUS)
		T_FAIL("more than %d QEMUs", MAX_QEMUS);
	if (!nr_started)
		t_atcleanup(kill_all);
	started[nr_started++] = q;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void t_qemu_require(void)
{
	if (access(T_QEMU, X_OK))
		t_skip("%s not installed (scripts/deps installs "
		       "qemu-system-x86)", T_QEMU);
}

const char *t_qemu_backend(char *buf, size_t len, const char *id,
			   const char *path, const char *size)
{
	int n = snprintf(buf, len, "memory-backend-file,id=%s,mem-path=%s,"
			 "share=on,size=%s,prealloc=on", id, path, size);

	if (n < 0 || (size_t)n >= len)
		T_FAIL("memory backend %s: %s too long", id, path);
	return buf;
}

/* T_QEMU, the common arguments, extra, NULL; to free. */
static char **qemu_argv(const char *qmp, const char *const extra[])
{
	static const char *const common[] = {
		T_QEMU, "-accel", "tcg", "-display", "none", "-nodefaults",
		"-qmp",
	};
	size_t nc = sizeof(common) / sizeof(common[0]), ne = 0;
	char **argv;

	while (extra && extra[ne])
		ne++;
	argv = calloc(nc + 2 + ne, sizeof(*argv));
	if (!argv)
		T_FAIL("calloc: %s", strerror(errno));
	memcpy(argv, common, sizeof(common));
	argv[nc] = (char *)qmp;
	for (size_t i = 0; i < ne; i++)
		argv[nc + 1 + i] = (char *)extra[i];
	return argv;
}

/* In the child: output to the log, die with the test, become QEMU. */
static void exec_qemu(const char *log, pid_t parent, char **argv)
{
	int fd;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		_exit(125);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		_exit(126);
	dup2(fd, 1);
	dup2(fd, 2);
	execv(T_QEMU, argv);
	_exit(127);
}

void t_qemu_start(struct t_qemu *q, const char *dir, const char *name,
		  const char *const extra[])
{
	char qmp[160];
	pid_t parent = getpid();
	char **argv;
	int n;

	if (q->pid > 0)
		T_FAIL("QEMU %s is already running", q->name);
	t_qemu_close(q);
	memset(q, 0, sizeof(*q));
	snprintf(q->name, sizeof(q->name), "%s", name);
	n = snprintf(q->sock, sizeof(q->sock), "%s/%s.qmp", dir, name);
	if (n < 0 || (size_t)n >= sizeof(q->sock))
		T_FAIL("QMP socket path %s/%s.qmp too long", dir, name);
	snprintf(q->log, sizeof(q->log), "%s/%s.log", dir, name);
	snprintf(qmp, sizeof(qmp), "unix:%s,server=on,wait=off", q->sock);
	argv = qemu_argv(qmp, extra);
	remember(q);
	fflush(NULL);
	q->pid = fork();
	if (q->pid < 0)
		T_FAIL("fork: %s", strerror(errno));
	if (q->pid == 0)
		exec_qemu(q->log, parent, argv);
	free(argv);
}

void t_qemu_show_log(const struct t_qemu *q)
{
	char buf[2048] = "";
	int fd = open(q->log, O_RDONLY);

	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);

		buf[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	printf("%s QEMU's output: %s\n", q->name, buf[0] ? buf : "(none)");
}

/* One attempt; 0 when connected. */
static int try_connect(struct t_qemu *q)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", q->sock);
	q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (q->fd < 0)
		T_FAIL("socket: %s", strerror(errno));
	if (!connect(q->fd, (struct sockaddr *)&sa, sizeof(sa)))
		return 0;
	close(q->fd);
	q->fd = -1;
	return -1;
}

/* Waits for the socket; QEMU listens once it has preallocated. */
static void wait_socket(struct t_qemu *q, int timeout_s)
{
	double end = now_s() + timeout_s;
	int st;

	while (try_connect(q)) {
		if (t_qemu_wait(q, 0, &st)) {
			t_qemu_show_log(q);
			T_FAIL("%s QEMU exited (status 0x%x) before its QMP "
			       "socket was up", q->name, st);
		}
		if (now_s() >= end) {
			t_qemu_show_log(q);
			T_FAIL("no %s QMP socket at %s after %d s", q->name,
			       q->sock, timeout_s);
		}
		usleep(100 * 1000);
	}
}

void t_qemu_connect(struct t_qemu *q, int timeout_s)
{
	struct timeval tv = { .tv_sec = T_QMP_REPLY_S };
	json_object *o;
	int fd;

	t_qemu_close(q);
	wait_socket(q, timeout_s);
	/* a QEMU that stops answering fails the test, not the run */
	setsockopt(q->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	fd = fcntl(q->fd, F_DUPFD_CLOEXEC, 0);
	q->in = fd < 0 ? NULL : fdopen(fd, "r");
	if (!q->in)
		T_FAIL("fdopen: %s", strerror(errno));
	o = t_qmp_try(q, NULL);
	if (!o) {
		t_qemu_show_log(q);
		T_FAIL("%s QMP greeting: connection closed", q->name);
	}
	json_object_put(o);
	t_qmp_ok(q, "{\"execute\":\"qmp_capabilities\"}");
}

json_object *t_qmp_try(struct t_qemu *q, const char *cmd)
{
	char *line = NULL;
	size_t cap = 0, len;

	if (!q->in)
		T_FAIL("%s QMP %s: not connected", q->name, CMD(cmd));
	errno = 0;
	if (cmd) {
		len = strlen(cmd);
		if (send(q->fd, cmd, len, MSG_NOSIGNAL) != (ssize_t)len ||
		    send(q->fd, "\n", 1, MSG_NOSIGNAL) != 1)
			return NULL;
	}
	while (getline(&line, &cap, q->in) > 0) {
		json_object *o = t_json(line), *v;

		if (json_object_object_get_ex(o, "return", &v) ||
		    json_object_object_get_ex(o, "error", &v) ||
		    json_object_object_get_ex(o, "QMP", &v)) {
			free(line);
			return o;
		}
		json_object_put(o);
	}
	free(line);
	if (errno == EAGAIN) {
		t_qemu_show_log(q);
		T_FAIL("%s QMP %s: no answer within %d s", q->name, CMD(cmd),
		       T_QMP_REPLY_S);
	}
	return NULL;
}

json_object *t_qmp_at(const char *file, int line, struct t_qemu *q,
		      const char *cmd)
{
	json_object *o = t_qmp_try(q, cmd), *v;

	if (!o) {
		t_qemu_show_log(q);
		t_fail_at(file, line, "%s QMP %s: connection closed", q->name,
			  CMD(cmd));
	}
	if (!json_object_object_get_ex(o, "return", &v)) {
		t_qemu_show_log(q);
		t_fail_at(file, line, "%s QMP %s: %s", q->name, CMD(cmd),
			  json_object_to_json_string(o));
	}
	json_object_get(v);
	json_object_put(o);
	return v;
}

void t_qemu_close(struct t_qemu *q)
{
	if (!q->in)
		return;
	fclose(q->in);
	close(q->fd);
	q->in = NULL;
	q->fd = -1;
}

int t_qemu_wait(struct t_qemu *q, int timeout_ms, int *status)
{
	double end = now_s() + timeout_ms / 1000.0;
	int st;

	if (q->pid <= 0)
		T_FAIL("%s QEMU is not running", q->name);
	for (;;) {
		pid_t r = waitpid(q->pid, &st, timeout_ms < 0 ? 0 : WNOHANG);

		if (r < 0 && errno != EINTR)
			T_FAIL("waitpid %s QEMU: %s", q->name,
			       strerror(errno));
		if (r == q->pid)
			break;
		if (timeout_ms >= 0 && now_s() >= end)
			return 0;
		if (timeout_ms >= 0)
			usleep(10 * 1000);
	}
	q->pid = 0;
	if (status)
		*status = st;
	return 1;
}

void t_qemu_kill(struct t_qemu *q)
{
	t_qemu_close(q);
	if (q->pid > 0) {
		kill(q->pid, SIGKILL);
		waitpid(q->pid, NULL, 0);
		q->pid = 0;
	}
}
