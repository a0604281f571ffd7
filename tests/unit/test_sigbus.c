// SPDX-License-Identifier: LGPL-2.1-or-later
/* test_sigbus.c: real SIGBUS on a real kernel: touching fails cleanly and the process's own handler keeps working. */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

#include "backend/prealloc.h"

#define PS 4096ull

/*
 * The test's own SIGBUS handler, standing for a VMM's: it counts, keeps
 * what it saw, and jumps out when the main thread armed t_jmp around a
 * touch of its own.
 */
static volatile sig_atomic_t t_hits;
static volatile int t_code;
static void *volatile t_addr;
static sigjmp_buf *volatile t_jmp;
static struct sigaction t_orig;

static void t_handler(int sig, siginfo_t *si, void *uc)
{
	sigjmp_buf *jb = t_jmp;

	(void)sig;
	(void)uc;
	t_hits++;
	t_code = si->si_code;
	t_addr = si->si_addr;
	if (jb) {
		t_jmp = NULL;
		siglongjmp(*jb, 1);
	}
}

static volatile sig_atomic_t t_plain_hits;

static void t_plain(int sig)
{
	(void)sig;
	t_plain_hits++;
}

/*
 * cmocka swaps its own SIGBUS handler in around each test and fixture, so
 * each test installs the test's handler itself, first thing.
 */
static void t_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = t_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGBUS, &sa, NULL), 0);
	assert_int_equal(sigaction(SIGBUS, NULL, &t_orig), 0);
	t_hits = 0;
	t_code = 0;
	t_addr = NULL;
}

/* The handler installed is the test's, with its flags and mask. */
static void t_assert_ours(void)
{
	struct sigaction cur;

	assert_int_equal(sigaction(SIGBUS, NULL, &cur), 0);
	assert_true(cur.sa_flags & SA_SIGINFO);
	assert_ptr_equal(cur.sa_sigaction, t_handler);
	assert_int_equal(cur.sa_flags, t_orig.sa_flags);
	/* the kernel fills only its own (64-signal) part of the mask */
	for (int i = 1; i < 65; i++)
		assert_int_equal(sigismember(&cur.sa_mask, i),
				 sigismember(&t_orig.sa_mask, i));
}

/* A memfd of file_pages mapped over map_pages: past EOF is SIGBUS. */
static char *t_short_map(uint64_t file_pages, uint64_t map_pages, int *fdp)
{
	int fd = memfd_create("t_sigbus", MFD_CLOEXEC);
	char *p;

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)(file_pages * PS)), 0);
	p = mmap(NULL, map_pages * PS, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 0);
	assert_true(p != MAP_FAILED);
	*fdp = fd;
	return p;
}

static struct prealloc_req t_touch_req(void *p, uint64_t pages,
				       unsigned int threads)
{
	return (struct prealloc_req){
		.addr = p, .len = pages * PS, .page_size = PS, .fd = -1,
		.method = PREALLOC_TOUCH, .threads = threads, .mpol_mode = -1,
	};
}

/* Touches p under the test's own handler; true if it got SIGBUS. */
static bool t_touch_self(volatile char *p)
{
	sigjmp_buf jb;

	if (sigsetjmp(jb, 1))
		return true;
	t_jmp = &jb;
	*p = 1;
	t_jmp = NULL;
	return false;
}

static void test_touch_past_eof(void **state)
{
	struct prealloc_req r;
	uint64_t done = 0;
	unsigned int threads;
	char *p;
	int fd;

	(void)state;
	t_install();
	p = t_short_map(1, 4, &fd);
	/* the kernel really says SIGBUS there */
	assert_true(t_touch_self(p + 2 * PS));
	assert_int_equal(t_hits, 1);
	assert_int_equal(t_code, BUS_ADRERR);
	t_hits = 0;
	for (threads = 1; threads <= 2; threads++) {
		r = t_touch_req(p, 4, threads);
		assert_int_equal(prealloc_run(&r, NULL, NULL, &done), -ENOMEM);
		/* two threads: the second may fail first, the first stop */
		if (threads == 1)
			assert_int_equal(done, PS);
		else
			assert_true(done <= PS);
		assert_int_equal(t_hits, 0);
		t_assert_ours();
	}
	munmap(p, 4 * PS);
	close(fd);
}

static void *t_racer(void *arg)
{
	pthread_barrier_t *b = arg;
	long bad = 0;
	int i;

	pthread_barrier_wait(b);
	for (i = 0; i < 30; i++) {
		struct prealloc_req r;
		uint64_t done = 0;
		char *p;
		int fd, ret;

		p = t_short_map(1, 4, &fd);
		r = t_touch_req(p, 4, 1 + i % 2);
		ret = prealloc_run(&r, NULL, NULL, &done);
		/*
		 * One thread: page 0 done. Two: the one that faults first
		 * wins, and the other may stop before its first page.
		 */
		bad += ret != -ENOMEM || done > PS || (i % 2 == 0 && done != PS);
		munmap(p, 4 * PS);
		close(fd);
	}
	return (void *)bad;
}

/* Two threads of the process at once, each its own short memfd. */
static void test_two_threads(void **state)
{
	pthread_barrier_t b;
	pthread_t t[2];
	void *bad[2];
	char *p;
	int fd, i;

	(void)state;
	t_install();
	assert_int_equal(pthread_barrier_init(&b, NULL, 2), 0);
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, t_racer, &b), 0);
	/* join both before any assert can leave the test */
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_join(t[i], &bad[i]), 0);
	assert_null(bad[0]);
	assert_null(bad[1]);
	pthread_barrier_destroy(&b);
	assert_int_equal(t_hits, 0);
	t_assert_ours();

	/* SIGBUS outside prefaulting reaches the test's handler */
	p = t_short_map(1, 4, &fd);
	assert_true(t_touch_self(p + 3 * PS));
	assert_int_equal(t_hits, 1);
	assert_ptr_equal(t_addr, p + 3 * PS);
	assert_int_equal(raise(SIGBUS), 0);
	assert_int_equal(t_hits, 2);
	assert_int_equal(t_code, SI_TKILL);
	munmap(p, 4 * PS);
	close(fd);
}

/*
 * valgrind takes a SIGBUS with a kernel si_code for a fault of its own and
 * dies ("impossible happened"): no queued machine checks under it.
 */
static bool t_valgrind(void)
{
	const char *pre = getenv("LD_PRELOAD");

	return RUNNING_ON_VALGRIND || (pre && strstr(pre, "vgpreload"));
}

static int t_sigqueue_self(int code, void *addr)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	si.si_signo = SIGBUS;
	si.si_code = code;
	si.si_addr = addr;
	return (int)syscall(SYS_rt_tgsigqueueinfo, getpid(),
			    (pid_t)syscall(SYS_gettid), SIGBUS, &si);
}

/* While rampool's handler is in, a thread that is not touching is
 * handled exactly as before. */
static void test_forward(void **state)
{
	struct sigaction cur, plain;
	char *p;
	int fd;

	(void)state;
	t_install();
	p = t_short_map(1, 4, &fd);
	assert_int_equal(prealloc_sigbus_get(), 0);
	assert_int_equal(sigaction(SIGBUS, NULL, &cur), 0);
	assert_ptr_not_equal(cur.sa_sigaction, t_handler);

	/* a real fault */
	assert_true(t_touch_self(p + PS));
	assert_int_equal(t_hits, 1);
	assert_int_equal(t_code, BUS_ADRERR);
	assert_ptr_equal(t_addr, p + PS);
	/* a sent one; valgrind cannot take a queued SIGBUS, only raise */
	if (t_valgrind()) {
		assert_int_equal(raise(SIGBUS), 0);
		assert_int_equal(t_hits, 2);
		assert_int_equal(t_code, SI_TKILL);
	} else {
		assert_int_equal(t_sigqueue_self(SI_QUEUE, (void *)0x5678000),
				 0);
		assert_int_equal(t_hits, 2);
		assert_int_equal(t_code, SI_QUEUE);
		assert_ptr_equal(t_addr, (void *)0x5678000);
		/* a queued machine check: the same si_code and si_addr */
		assert_int_equal(t_sigqueue_self(BUS_MCEERR_AR, p + 2 * PS),
				 0);
		assert_int_equal(t_hits, 3);
		assert_int_equal(t_code, BUS_MCEERR_AR);
		assert_ptr_equal(t_addr, p + 2 * PS);
		assert_int_equal(t_sigqueue_self(BUS_MCEERR_AO,
						 (void *)0x1234000), 0);
		assert_int_equal(t_hits, 4);
		assert_int_equal(t_code, BUS_MCEERR_AO);
		assert_ptr_equal(t_addr, (void *)0x1234000);
	}
	/* nested users: the second put restores */
	assert_int_equal(prealloc_sigbus_get(), 0);
	prealloc_sigbus_put();
	assert_int_equal(sigaction(SIGBUS, NULL, &cur), 0);
	assert_ptr_not_equal(cur.sa_sigaction, t_handler);
	prealloc_sigbus_put();
	t_assert_ours();

	/* a plain (non-SA_SIGINFO) previous handler */
	memset(&plain, 0, sizeof(plain));
	plain.sa_handler = t_plain;
	sigemptyset(&plain.sa_mask);
	assert_int_equal(sigaction(SIGBUS, &plain, NULL), 0);
	t_plain_hits = 0;
	assert_int_equal(prealloc_sigbus_get(), 0);
	assert_int_equal(raise(SIGBUS), 0);
	assert_int_equal(t_plain_hits, 1);
	prealloc_sigbus_put();
	assert_int_equal(sigaction(SIGBUS, NULL, &cur), 0);
	assert_ptr_equal(cur.sa_handler, t_plain);

	/* replaced while in use: the last put leaves the new one */
	assert_int_equal(prealloc_sigbus_get(), 0);
	assert_int_equal(sigaction(SIGBUS, &t_orig, NULL), 0);
	prealloc_sigbus_put();
	t_assert_ours();
	munmap(p, 4 * PS);
	close(fd);
}

/* In a child: old disposition, rampool's handler in, then a SIGBUS. */
static int t_child(void (*disp)(int), bool fault)
{
	int status, fd;
	pid_t pid;

	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		struct sigaction sa;
		char *p;

		alarm(5);	/* a handler that loops fails, not hangs */
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = disp;
		sigaction(SIGBUS, &sa, NULL);
		if (prealloc_sigbus_get())
			_exit(3);
		p = t_short_map(1, 2, &fd);
		if (fault)
			*(volatile char *)(p + PS) = 1;
		else if (t_valgrind())
			raise(SIGBUS);
		else
			t_sigqueue_self(SI_QUEUE, NULL);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void test_forward_default(void **state)
{
	int st;

	(void)state;
	t_install();
	/* SIG_DFL before: the process dies of SIGBUS as it would have */
	st = t_child(SIG_DFL, true);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGBUS);
	st = t_child(SIG_DFL, false);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGBUS);
	/* SIG_IGN: a sent SIGBUS is ignored, a fault still kills */
	st = t_child(SIG_IGN, false);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	st = t_child(SIG_IGN, true);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGBUS);
}

static void test_data_survives(void **state)
{
	const uint64_t len = 16 * PS;
	struct prealloc_req r;
	unsigned char *buf;
	uint64_t done = 0, i;
	char *p;
	int fd;

	(void)state;
	t_install();
	buf = malloc(len);
	assert_non_null(buf);
	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)(i * 7 + i / PS);
	p = t_short_map(16, 16, &fd);
	assert_int_equal(pwrite(fd, buf, len, 0), (ssize_t)len);
	r = t_touch_req(p, 16, 3);
	assert_int_equal(prealloc_run(&r, NULL, NULL, &done), 0);
	assert_int_equal(done, len);
	assert_memory_equal(p, buf, len);
	munmap(p, len);
	memset(buf, 0, len);
	assert_int_equal(pread(fd, buf, len, 0), (ssize_t)len);
	for (i = 0; i < len; i++)
		assert_int_equal(buf[i], (unsigned char)(i * 7 + i / PS));
	free(buf);
	close(fd);
	t_assert_ours();
}

/* MADV_POPULATE_WRITE past EOF: EFAULT, no signal (kernel fact 6). */
static void test_populate_past_eof(void **state)
{
	struct prealloc_req r;
	uint64_t done = 0;
	char *p;
	int fd;

	(void)state;
	t_install();
	p = t_short_map(1, 4, &fd);
	r = t_touch_req(p, 4, 1);
	r.method = PREALLOC_POPULATE;
	r.chunk = PS;
	assert_int_equal(prealloc_run(&r, NULL, NULL, &done), -ENOMEM);
	assert_int_equal(done, PS);
	assert_int_equal(t_hits, 0);
	munmap(p, 4 * PS);
	close(fd);
}

static void test_touch_cancel(void **state)
{
	const uint64_t len = 4ull << 20;
	atomic_bool cancel = true;
	uint64_t touched = 0;
	char *p;

	(void)state;
	t_install();
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(p != MAP_FAILED);
	assert_int_equal(prealloc_sigbus_get(), 0);
	/* checked every MiB, not per sub-chunk only */
	assert_int_equal(prealloc_touch(p, len, PS, &cancel, &touched),
			 -ECANCELED);
	assert_int_equal(touched, 1ull << 20);
	atomic_store(&cancel, false);
	assert_int_equal(prealloc_touch(p, len, PS, &cancel, &touched), 0);
	assert_int_equal(touched, len);
	prealloc_sigbus_put();
	munmap(p, len);
	t_assert_ours();
}

/*
 * A machine check in the middle of a touch. userfaultfd holds the touching
 * thread in its fault on page 2; we learn its tid from the fault message.
 * The kernel lets a thread queue a kernel-style si_code only to itself, so
 * we send it SIGUSR1, whose handler (running in the touching thread, in
 * the middle of the touch) queues it the SIGBUS with BUS_MCEERR_AR.
 */
static void *volatile t_poison_addr;

static void t_usr1(int sig)
{
	(void)sig;
	t_sigqueue_self(BUS_MCEERR_AR, t_poison_addr);
}

struct t_run {
	struct prealloc_req r;
	uint64_t done;
	int ret;
};

static void *t_run_main(void *arg)
{
	struct t_run *run = arg;

	run->ret = prealloc_run(&run->r, NULL, NULL, &run->done);
	return NULL;
}

static void test_touch_hwpoison(void **state)
{
	const uint64_t len = 8 * PS;
	struct uffdio_api api = { .api = UFFD_API,
				  .features = UFFD_FEATURE_THREAD_ID };
	struct uffdio_register reg;
	struct sigaction usr1 = { .sa_handler = t_usr1 }, old_usr1;
	struct uffd_msg msg;
	struct pollfd pfd;
	struct t_run run;
	pthread_t t;
	pid_t tid;
	char *p;
	int uffd;

	(void)state;
	t_install();
	if (t_valgrind()) {
		print_message("skip: a queued BUS_MCEERR_AR kills valgrind\n");
		skip();
	}
	uffd = (int)syscall(SYS_userfaultfd,
			    O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (uffd < 0) {
		print_message("skip: userfaultfd: %s\n", strerror(errno));
		skip();
	}
	if (ioctl(uffd, UFFDIO_API, &api)) {
		close(uffd);
		print_message("skip: UFFDIO_API: %s\n", strerror(errno));
		skip();
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(p != MAP_FAILED);
	p[0] = 'a';
	p[PS] = 'b';
	reg = (struct uffdio_register){
		.range = { .start = (uintptr_t)p, .len = len },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	assert_int_equal(ioctl(uffd, UFFDIO_REGISTER, &reg), 0);

	run = (struct t_run){ .r = t_touch_req(p, 8, 1) };
	run.r.chunk = PS;
	assert_int_equal(pthread_create(&t, NULL, t_run_main, &run), 0);
	pfd = (struct pollfd){ .fd = uffd, .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 10000), 1);
	assert_int_equal(read(uffd, &msg, sizeof(msg)), (ssize_t)sizeof(msg));
	assert_int_equal(msg.event, UFFD_EVENT_PAGEFAULT);
	assert_int_equal(msg.arg.pagefault.address, (uintptr_t)p + 2 * PS);
	tid = msg.arg.pagefault.feat.ptid;

	/*
	 * A SIGBUS sent to the touching thread is not a fault of the touch:
	 * it goes to the previous handler and the touch goes on (the thread
	 * faults on page 2 again).
	 */
	assert_int_equal(syscall(SYS_tgkill, getpid(), tid, SIGBUS), 0);
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_int_equal(read(uffd, &msg, sizeof(msg)), (ssize_t)sizeof(msg));
	assert_int_equal(msg.arg.pagefault.address, (uintptr_t)p + 2 * PS);
	assert_int_equal(msg.arg.pagefault.feat.ptid, tid);
	assert_int_equal(t_hits, 1);
	assert_int_equal(t_code, SI_TKILL);

	t_poison_addr = p + 2 * PS;
	sigemptyset(&usr1.sa_mask);
	assert_int_equal(sigaction(SIGUSR1, &usr1, &old_usr1), 0);
	assert_int_equal(syscall(SYS_tgkill, getpid(), tid, SIGUSR1), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	sigaction(SIGUSR1, &old_usr1, NULL);

	assert_int_equal(run.ret, -EHWPOISON);
	assert_int_equal(run.done, 2 * PS);
	/* the VMM's handler saw it first, as it was */
	assert_int_equal(t_hits, 2);
	assert_int_equal(t_code, BUS_MCEERR_AR);
	assert_ptr_equal(t_addr, p + 2 * PS);
	t_assert_ours();
	close(uffd);
	munmap(p, len);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_touch_past_eof),
		cmocka_unit_test(test_two_threads),
		cmocka_unit_test(test_forward),
		cmocka_unit_test(test_forward_default),
		cmocka_unit_test(test_data_survives),
		cmocka_unit_test(test_populate_past_eof),
		cmocka_unit_test(test_touch_cancel),
		cmocka_unit_test(test_touch_hwpoison),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
