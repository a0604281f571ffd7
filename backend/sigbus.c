// SPDX-License-Identifier: LGPL-2.1-or-later
/* sigbus.c: the process-wide SIGBUS handler that lets touching pages fail with an errno. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "prealloc.h"

#ifndef BUS_MCEERR_AR
#define BUS_MCEERR_AR 4
#endif
#ifndef BUS_MCEERR_AO
#define BUS_MCEERR_AO 5
#endif

/* Check for cancellation after this many bytes of touching. */
#define TOUCH_CANCEL_STRIDE (1u << 20)

static pthread_mutex_t sigbus_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned int sigbus_users;
/* Written under sigbus_lock before our handler is installed; read by it. */
static struct sigaction sigbus_prev;

/*
 * Set while this thread touches pages, NULL otherwise. initial-exec so
 * the handler reaches it without __tls_get_addr (which may allocate).
 */
static __thread sigjmp_buf *volatile touch_jmp
	__attribute__((tls_model("initial-exec")));

static void sigbus_handler(int sig, siginfo_t *info, void *uc);

static bool prev_is_function(const struct sigaction *sa)
{
	if (sa->sa_flags & SA_SIGINFO)
		return sa->sa_sigaction != NULL;
	return sa->sa_handler != SIG_DFL && sa->sa_handler != SIG_IGN;
}

static void call_prev(int sig, siginfo_t *info, void *uc)
{
	if (sigbus_prev.sa_flags & SA_SIGINFO)
		sigbus_prev.sa_sigaction(sig, info, uc);
	else
		sigbus_prev.sa_handler(sig);
}

/*
 * The previous disposition is the default: die of this very signal, with
 * its siginfo (si_code, si_addr) intact for a core dump or a parent that
 * reads it. A fault (kernel si_code, other than the asynchronous
 * BUS_MCEERR_AO) needs only the default back: returning runs the faulting
 * instruction again and the kernel raises the same SIGBUS. Anything else
 * is queued to this thread again with its siginfo; it stays pending while
 * SIGBUS is blocked in this handler and is taken on return.
 */
static void die_by_default(int sig, siginfo_t *info)
{
	struct sigaction dfl;
	int saved = errno;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigaction(sig, &dfl, NULL);
	if (info->si_code <= 0 || info->si_code == BUS_MCEERR_AO) {
		if (syscall(SYS_rt_tgsigqueueinfo, getpid(),
			    (pid_t)syscall(SYS_gettid), sig, info) < 0)
			raise(sig);
	}
	errno = saved;
}

/* What the kernel would have done with the signal had we not been here. */
static void forward(int sig, siginfo_t *info, void *uc)
{
	if (prev_is_function(&sigbus_prev)) {
		call_prev(sig, info, uc);
		return;
	}
	/*
	 * SIG_IGN ignores what is sent and the asynchronous machine check;
	 * for a fault the kernel resets an ignored SIGBUS to the default.
	 */
	if (sigbus_prev.sa_handler == SIG_IGN &&
	    (info->si_code <= 0 || info->si_code == BUS_MCEERR_AO))
		return;
	die_by_default(sig, info);
}

/* Async-signal-safe: no locks, no allocation, only TLS and syscalls. */
static void sigbus_handler(int sig, siginfo_t *info, void *uc)
{
	sigjmp_buf *jb = touch_jmp;

	/*
	 * Only a fault of this thread's own touch is ours: a SIGBUS sent by
	 * kill/tgkill/sigqueue (si_code <= 0) goes where it was meant to.
	 */
	if (!jb || info->si_code <= 0) {
		forward(sig, info, uc);
		return;
	}
	touch_jmp = NULL;
	if (info->si_code == BUS_MCEERR_AR || info->si_code == BUS_MCEERR_AO) {
		/* let the VMM learn of the poisoned page first */
		if (prev_is_function(&sigbus_prev))
			call_prev(sig, info, uc);
		siglongjmp(*jb, EHWPOISON);
	}
	siglongjmp(*jb, ENOMEM);
}

int prealloc_sigbus_get(void)
{
	struct sigaction sa;
	int ret = 0;

	pthread_mutex_lock(&sigbus_lock);
	if (sigbus_users++)
		goto out;
	if (sigaction(SIGBUS, NULL, &sigbus_prev) < 0) {
		ret = -errno;
		goto out_undo;
	}
	/* a stale copy of ours (cannot happen, but must never recurse) */
	if ((sigbus_prev.sa_flags & SA_SIGINFO) &&
	    sigbus_prev.sa_sigaction == sigbus_handler) {
		memset(&sigbus_prev, 0, sizeof(sigbus_prev));
		sigbus_prev.sa_handler = SIG_DFL;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sigbus_handler;
	/* no SA_ONSTACK: siglongjmp from an alternate stack upsets ASan */
	sa.sa_flags = SA_SIGINFO | (sigbus_prev.sa_flags & SA_RESTART);
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL) < 0) {
		ret = -errno;
		goto out_undo;
	}
	goto out;
out_undo:
	sigbus_users--;
out:
	pthread_mutex_unlock(&sigbus_lock);
	return ret;
}

void prealloc_sigbus_put(void)
{
	struct sigaction cur;

	pthread_mutex_lock(&sigbus_lock);
	if (!sigbus_users || --sigbus_users)
		goto out;
	/*
	 * Put the previous handler back, unless someone replaced ours in
	 * the meantime: theirs stays.
	 */
	if (sigaction(SIGBUS, NULL, &cur) == 0 &&
	    (cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == sigbus_handler)
		sigaction(SIGBUS, &sigbus_prev, NULL);
out:
	pthread_mutex_unlock(&sigbus_lock);
}

/*
 * The loop lives apart from prealloc_touch so that nothing of it is kept
 * in registers across sigsetjmp: the position is a volatile in memory.
 */
static int touch_loop(volatile char *p, uint64_t len, uint64_t page_size,
		      atomic_bool *cancel, volatile uint64_t *pos)
{
	uint64_t since = 0;

	for (; *pos < len; *pos += page_size) {
		volatile char *c = p + *pos;

		if (since >= TOUCH_CANCEL_STRIDE) {
			since = 0;
			if (cancel && atomic_load(cancel))
				return -ECANCELED;
		}
		/* the same byte back: data already in a file survives */
		*c = *c;
		since += page_size;
	}
	return 0;
}

int prealloc_touch(void *addr, uint64_t len, uint64_t page_size,
		   atomic_bool *cancel, uint64_t *touched)
{
	volatile uint64_t pos = 0;
	sigjmp_buf jb;
	int ret;

	ret = sigsetjmp(jb, 1);
	if (ret) {
		/* the handler cleared touch_jmp; the page at pos failed */
		*touched = pos;
		return -ret;
	}
	touch_jmp = &jb;
	atomic_signal_fence(memory_order_seq_cst);
	ret = touch_loop(addr, len, page_size, cancel, &pos);
	atomic_signal_fence(memory_order_seq_cst);
	touch_jmp = NULL;
	*touched = pos;
	return ret;
}
