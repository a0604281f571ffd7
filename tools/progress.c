// SPDX-License-Identifier: LGPL-2.1-or-later
/* progress.c: the --prealloc progress bar (bytes, GiB/s, ETA) and cancelling on SIGINT/SIGTERM. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "progress.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void progress_start(struct progress *p)
{
	p->t0 = now();
	p->last = 0;
	p->drawn = false;
}

static void eta_str(char *buf, size_t len, double secs)
{
	unsigned long s = secs > 359999 ? 359999 : (unsigned long)(secs + 0.5);

	if (s >= 3600)
		snprintf(buf, len, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60,
			 s % 60);
	else
		snprintf(buf, len, "%lu:%02lu", s / 60, s % 60);
}

/* Called by the library's populating threads, one at a time. */
void progress_cb(void *data, uint64_t done, uint64_t total)
{
	enum { W = 24 };
	struct progress *p = data;
	double t = now() - p->t0, rate;
	char bar[W + 1], d[16], tot[16], eta[32];
	unsigned int fill;

	if (!total || (done < total && t - p->last < 0.1))
		return;
	p->last = t;
	rate = t > 0 ? (double)done / t : 0;
	fill = (unsigned int)(done * W / total);
	memset(bar, '#', fill);
	memset(bar + fill, '.', W - fill);
	bar[W] = '\0';
	if (rate > 0)
		eta_str(eta, sizeof(eta), (double)(total - done) / rate);
	else
		snprintf(eta, sizeof(eta), "-");
	/* \033[K: a shorter line must not leave the end of a longer one */
	fprintf(stderr, "\r[%s] %s / %s  %.2f GiB/s  ETA %s\033[K", bar,
		size_str(d, sizeof(d), done, false),
		size_str(tot, sizeof(tot), total, false),
		rate / (1024.0 * 1024 * 1024), eta);
	p->drawn = true;
}

void progress_end(struct progress *p)
{
	if (p->drawn)
		fputc('\n', stderr);
}

static struct rampool_pool *volatile sig_pool;
static volatile sig_atomic_t sig_caught;
static struct sigaction old_int, old_term;

static void on_signal(int sig)
{
	(void)sig;
	sig_caught = 1;
	if (sig_pool)
		rampool_pool_cancel(sig_pool);
}

void catch_signals(struct rampool_pool *pool)
{
	struct sigaction sa = {
		.sa_handler = on_signal,
		.sa_flags = SA_RESETHAND,
	};

	sigemptyset(&sa.sa_mask);
	sig_caught = 0;
	sig_pool = pool;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	/* a signal ignored when poolctl started (nohup, a background job)
	 * stays ignored */
	if (old_int.sa_handler == SIG_IGN)
		sigaction(SIGINT, &old_int, NULL);
	if (old_term.sa_handler == SIG_IGN)
		sigaction(SIGTERM, &old_term, NULL);
}

bool release_signals(void)
{
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sig_pool = NULL;
	return sig_caught;
}
