/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* t_qemu.h: a real QEMU for the functional tests, started with the common arguments, driven over QMP and killed at exit. */
#ifndef T_QEMU_H
#define T_QEMU_H

#include <stdio.h>
#include <sys/types.h>

#include <json-c/json.h>

#define T_QEMU "/usr/bin/qemu-system-x86_64"
/* seconds a QMP command may take before the test fails */
#define T_QMP_REPLY_S 15

/*
 * One QEMU. The caller owns it and it must outlive the process (static
 * storage): the exit hook finds every QEMU ever started through it.
 */
struct t_qemu {
	pid_t pid;		/* 0: not running (killed or reaped) */
	char name[16];		/* "src", "dst": in messages and file names */
	char sock[108];		/* DIR/NAME.qmp, QMP's unix socket */
	char log[256];		/* DIR/NAME.log, QEMU's stdout and stderr */
	int fd;			/* the QMP connection, when in != NULL */
	FILE *in;
};

/* Skips the test (77) unless T_QEMU is installed. */
void t_qemu_require(void);

/*
 * "memory-backend-file,id=ID,mem-path=PATH,share=on,size=SIZE,prealloc=on"
 * into buf (fails the test when it does not fit); returns buf.
 */
const char *t_qemu_backend(char *buf, size_t len, const char *id,
			   const char *path, const char *size);

/*
 * Starts T_QEMU with -accel tcg -display none -nodefaults, QMP listening
 * on DIR/NAME.qmp, then extra (NULL-terminated: machine, memory, -S,
 * -incoming ...); its output goes to DIR/NAME.log. It dies with the test:
 * killed at exit (t_atcleanup), also on a fatal signal, or when the test
 * is SIGKILLed (PR_SET_PDEATHSIG); its socket and log are removed then.
 */
void t_qemu_start(struct t_qemu *q, const char *dir, const char *name,
		  const char *const extra[]);

/*
 * Connects to QMP once QEMU listens (after any prealloc), within
 * timeout_s, reads the greeting and negotiates capabilities. If QEMU
 * exits first, or the time runs out, shows its log and fails the test.
 * Each later reply must come within T_QMP_REPLY_S.
 */
void t_qemu_connect(struct t_qemu *q, int timeout_s);

/*
 * Sends cmd (one JSON object); returns the reply ("return" or "error";
 * events are skipped) to json_object_put, or NULL when the connection is
 * gone. No reply within T_QMP_REPLY_S fails the test.
 */
json_object *t_qmp_try(struct t_qemu *q, const char *cmd);

/*
 * The same, but the reply must be a "return": returns that object (to
 * json_object_put); an error or a closed connection shows the log and
 * fails the test at the caller's line.
 */
#define t_qmp(q, cmd) t_qmp_at(__FILE__, __LINE__, (q), (cmd))
json_object *t_qmp_at(const char *file, int line, struct t_qemu *q,
		      const char *cmd);
/* t_qmp, its "return" dropped. */
#define t_qmp_ok(q, cmd) json_object_put(t_qmp((q), (cmd)))

/* Prints "NAME QEMU's output: ..." (the log's start) on stdout. */
void t_qemu_show_log(const struct t_qemu *q);

/* Closes the QMP connection (nothing when none is open). */
void t_qemu_close(struct t_qemu *q);

/*
 * Reaps QEMU once it exits, waiting up to timeout_ms (< 0: for ever).
 * Returns 1 with its wait status in *status (may be NULL) and pid 0, or 0
 * when it still runs.
 */
int t_qemu_wait(struct t_qemu *q, int timeout_ms, int *status);

/* SIGKILLs and reaps it (when running) and closes QMP. */
void t_qemu_kill(struct t_qemu *q);

#endif
