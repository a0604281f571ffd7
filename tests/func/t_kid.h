/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* t_kid.h: child processes of the functional tests on a pipe each way, and the page thief (a process taking every free hugepage it can). */
#ifndef T_KID_H
#define T_KID_H

#include <stdint.h>
#include <sys/types.h>

struct t_kid {
	pid_t pid;
	int from;	/* what the child tells */
	int to;		/* closed (EOF) or a byte: the child goes on */
};

/*
 * Forks a child running fn(tell, wait_fd, arg); fn must not return (it
 * ends with _exit). The child dies with the test (PR_SET_PDEATHSIG), so a
 * failing test never leaves it holding pages.
 */
struct t_kid t_kid_spawn(void (*fn)(int tell, int wait_fd, void *arg),
			 void *arg);
/* Lets the child go on: one byte, then the pipe closes. */
void t_kid_go(struct t_kid *k, const char *who);
/* Waits for it; fails the test unless it exited 0. */
void t_kid_reap(struct t_kid *k, const char *who);

/*
 * A VMM faulting n pages of page_size at p back in: MADV_POPULATE_WRITE,
 * or, where the kernel lacks it, a touch of each page under a SIGBUS
 * handler. Returns the pages reached; *err: 0, the errno, or SIGBUS.
 * *nonzero (if not NULL) counts reached pages whose byte 4096 is not 0.
 */
int t_fault_pages(char *p, uint64_t page_size, int n, int *err,
		  int *nonzero);

/*
 * The page thief: maps a hugetlb memfd of page_size pages, as many of
 * try_pages as the kernel lets it reserve, and populates them — with
 * node >= 0 under MPOL_PREFERRED (bind false: it empties that node, then
 * spills) or MPOL_BIND (bind true: that node only). *got: the pages it
 * holds, until t_thief_stop. Fails the test if it dies first.
 */
struct t_kid t_thief_start(uint64_t page_size, uint64_t try_pages, int node,
			   int bind, uint64_t *got);
/* Lets the pages go; exit status 0 required. */
void t_thief_stop(struct t_kid *k);

#endif
