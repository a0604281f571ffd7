// SPDX-License-Identifier: LGPL-2.1-or-later
/* postcopy_keep.c: a postcopy destination in keep-pages mode and its source over a local socket: faults served on demand, the rest pushed in the background, every page received and checked. */
/*
 * Build: cc -std=gnu11 postcopy_keep.c -o postcopy_keep -lrampool -lpthread
 * Run:   ./postcopy_keep [--hugetlb] [MiB]      (default 64 MiB of 4K shmem)
 *
 * The destination (this process) makes a preallocated block, as a VMM
 * does for guest RAM, and prepares it with RAMPOOL_POSTCOPY_KEEP_PAGES:
 * its pages stay in the file (held, on their node) and every access
 * faults until the page's migrated content is placed. The source (a
 * forked child) owns the "guest RAM" being migrated and answers over a
 * socketpair:
 *
 *   destination -> source   a request: the offset of a page a vCPU wants
 *   source -> destination   a page: its offset, then its bytes
 *
 * The source pushes every page in order and answers requests first. On
 * the destination three threads work at once:
 *   - serve:    rampool_block_serve reads the faults; for each page not
 *               yet received it calls fetch(), which sends a request and
 *               returns RAMPOOL_FETCH_ASYNC (the page comes later);
 *   - receiver: reads pages off the socket and places them with
 *               rampool_block_place (a page that came twice, pushed and
 *               requested, is -EEXIST: fine);
 *   - vcpu:     reads the pages from the end, as a guest would, faulting.
 * When every page is received, serve returns 0; the data is checked.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rampool.h>

struct dest {
	struct rampool_block *blk;
	int sock;
	uint64_t page_size, pages;
	pthread_mutex_t send_lock;	/* fetch may run beside nothing else,
					 * but keep requests whole */
	int recv_ret;
	unsigned long vcpu_sum;
};

/* The content the source migrates: page i is i's byte, its index first. */
static void page_content(unsigned char *buf, uint64_t ps, uint64_t i)
{
	memset(buf, (int)(i * 31 + 7) & 0xff, ps);
	memcpy(buf, &i, sizeof(i));
}

static int full_io(int fd, void *buf, size_t n, int writing)
{
	char *p = buf;

	while (n) {
		/* MSG_NOSIGNAL: a peer gone is EPIPE, not SIGPIPE */
		ssize_t r = writing ? send(fd, p, n, MSG_NOSIGNAL)
				    : read(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r ? -errno : -EPIPE;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* ---- the source ---------------------------------------------------------- */

static int send_page(int sock, unsigned char *buf, uint64_t ps, uint64_t i)
{
	uint64_t off = i * ps;

	page_content(buf, ps, i);
	if (full_io(sock, &off, sizeof(off), 1))
		return -1;
	return full_io(sock, buf, ps, 1);
}

static int source(int sock, uint64_t ps, uint64_t pages)
{
	unsigned char *buf = malloc(ps);
	struct pollfd p = { .fd = sock, .events = POLLIN };
	uint64_t next = 0, off;

	if (!buf)
		return 1;
	while (next < pages) {
		/* requested pages first: a vCPU is waiting for them */
		while (poll(&p, 1, 0) == 1 && p.revents & POLLIN) {
			if (full_io(sock, &off, sizeof(off), 0) ||
			    send_page(sock, buf, ps, off / ps))
				return 1;
		}
		if (send_page(sock, buf, ps, next++))
			return 1;
	}
	free(buf);
	return 0;	/* closing the socket tells the receiver: no more */
}

/* ---- the destination ----------------------------------------------------- */

/* rampool_block_serve's callback: ask the source, the page comes later. */
static int fetch(void *data, uint64_t offset, void *buf, uint64_t len,
		 int timeout_ms)
{
	struct dest *d = data;
	int ret;

	(void)buf;
	(void)len;
	(void)timeout_ms;
	pthread_mutex_lock(&d->send_lock);
	ret = full_io(d->sock, &offset, sizeof(offset), 1);
	pthread_mutex_unlock(&d->send_lock);
	/* a source gone before it sent everything: serve's time limit ends
	 * the wait with -ETIMEDOUT */
	return ret && ret != -EPIPE ? ret : RAMPOOL_FETCH_ASYNC;
}

static void *receiver(void *arg)
{
	struct dest *d = arg;
	unsigned char *buf = malloc(d->page_size);
	uint64_t off;
	int ret = buf ? 0 : -ENOMEM;

	while (!ret && !full_io(d->sock, &off, sizeof(off), 0)) {
		ret = full_io(d->sock, buf, d->page_size, 0);
		if (!ret)
			ret = rampool_block_place(d->blk, off, buf,
						  d->page_size);
		if (ret == -EEXIST)	/* pushed and requested: both came */
			ret = 0;
	}
	d->recv_ret = ret;
	free(buf);
	return NULL;
}

static void *vcpu(void *arg)
{
	struct dest *d = arg;
	volatile unsigned char *a = rampool_block_addr(d->blk);

	for (uint64_t i = d->pages; i-- > 0;)
		d->vcpu_sum += a[i * d->page_size + d->page_size - 1];
	return NULL;
}

static int check(struct dest *d)
{
	unsigned char *a = rampool_block_addr(d->blk);
	unsigned char *want = malloc(d->page_size);
	uint64_t bad = 0;

	if (!want)
		return -1;
	for (uint64_t i = 0; i < d->pages; i++) {
		page_content(want, d->page_size, i);
		bad += memcmp(a + i * d->page_size, want, d->page_size) != 0;
	}
	free(want);
	return bad ? -1 : 0;
}

static int destination(struct dest *d)
{
	struct rampool_serve_opts so = {
		.sz = sizeof(so), .fetch = fetch, .data = d,
		.timeout_ms = 10000,
	};
	struct rampool_postcopy_stats st = { .sz = sizeof(st) };
	pthread_t rx, cpu;
	int ret, bad;

	pthread_create(&rx, NULL, receiver, d);
	pthread_create(&cpu, NULL, vcpu, d);
	ret = rampool_block_serve(d->blk, &so);	/* 0: all received */
	/*
	 * After a failure the vCPU may wait in a fault nobody serves: end
	 * postcopy first, its access is then an ordinary one. (After
	 * success the receiver still takes the pushes of pages a request
	 * brought first, -EEXIST, until the source closes the socket.)
	 */
	if (ret)
		rampool_block_postcopy_end(d->blk);
	pthread_join(cpu, NULL);
	pthread_join(rx, NULL);
	rampool_block_postcopy_stats(d->blk, &st);
	rampool_block_postcopy_end(d->blk);
	if (ret || d->recv_ret) {
		fprintf(stderr, "serve: %s, receiver: %s\n", strerror(-ret),
			strerror(-d->recv_ret));
		return 1;
	}
	bad = check(d);
	printf("postcopy_keep: %llu of %llu pages received (%llu faults "
	       "served), %s\n", (unsigned long long)(st.received / d->page_size),
	       (unsigned long long)d->pages, (unsigned long long)st.faults,
	       bad ? "DATA WRONG" : "data checked");
	return bad || st.received != d->pages * d->page_size;
}

int main(int argc, char **argv)
{
	int hugetlb = argc > 1 && !strcmp(argv[1], "--hugetlb");
	uint64_t mib = argc > 1 + hugetlb ? strtoull(argv[1 + hugetlb], NULL,
						     0) : 64;
	struct rampool_block_opts o = {
		.sz = sizeof(o),
		.size = mib << 20,
		.backing = hugetlb ? RAMPOOL_BACKING_MEMFD_HUGETLB
				   : RAMPOOL_BACKING_MEMFD,
		.flags = RAMPOOL_BLOCK_PREALLOC,
	};
	struct dest d = { .send_lock = PTHREAD_MUTEX_INITIALIZER };
	struct rampool_pool *pool;
	int sv[2], uffd, ret, st;
	pid_t pid;

	if (!mib || rampool_pool_new(NULL, &pool))
		return 1;
	ret = rampool_block_new(pool, &o, &d.blk);
	if (ret) {
		fprintf(stderr, "block: %s\n", strerror(-ret));
		return 1;
	}
	d.page_size = rampool_block_page_size(d.blk);
	d.pages = rampool_block_size(d.blk) / d.page_size;
	ret = rampool_block_prepare_postcopy(d.blk, RAMPOOL_POSTCOPY_KEEP_PAGES,
					     &uffd);
	if (ret == -EOPNOTSUPP) {
		/* an older kernel: discard mode (issue 6) works the same */
		ret = rampool_block_prepare_postcopy(d.blk, 0, &uffd);
		printf("postcopy_keep: no minor faults here: discard mode\n");
	}
	if (ret || socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return 1;
	pid = fork();
	if (pid < 0)
		return 1;
	if (!pid) {
		close(sv[0]);
		_exit(source(sv[1], d.page_size, d.pages));
	}
	close(sv[1]);
	d.sock = sv[0];
	ret = destination(&d);
	close(d.sock);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		ret = 1;
	rampool_block_free(d.blk);
	rampool_pool_free(pool);
	return ret;
}
