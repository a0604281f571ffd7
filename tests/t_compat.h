/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* t_compat.h: what unit and functional tests share: a log callback that keeps the last messages, and MADV_* values older headers lack. */
#ifndef T_COMPAT_H
#define T_COMPAT_H

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "rampool.h"

/* Linux 5.14; glibc headers before 2.35 lack them */
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* ---- a log callback that keeps what it was told ------------------------- */

#define T_LOG_KEEP 32

/*
 * Pass t_log_fn as the log callback and a struct t_log as its data
 * (rampool_pool_opts.log_data, or rp_log.data in backend tests). Thread
 * safe: populating threads log too.
 */
struct t_log {
	pthread_mutex_t lock;
	unsigned int n;			/* messages at any level */
	unsigned int n_err;		/* at RAMPOOL_LOG_ERR */
	char last[1024];		/* the last message */
	char last_err[1024];		/* the last ERR message */
	/* the last T_LOG_KEEP messages, oldest first from (n % KEEP) */
	int level[T_LOG_KEEP];
	char msg[T_LOG_KEEP][512];
};

#define T_LOG_INIT { .lock = PTHREAD_MUTEX_INITIALIZER }

static inline void t_log_fn(void *data, enum rampool_log_level level,
			    const char *msg)
{
	struct t_log *l = data;
	unsigned int k;

	pthread_mutex_lock(&l->lock);
	k = l->n++ % T_LOG_KEEP;
	l->level[k] = (int)level;
	snprintf(l->msg[k], sizeof(l->msg[0]), "%s", msg);
	snprintf(l->last, sizeof(l->last), "%s", msg);
	if (level == RAMPOOL_LOG_ERR) {
		l->n_err++;
		snprintf(l->last_err, sizeof(l->last_err), "%s", msg);
	}
	pthread_mutex_unlock(&l->lock);
}

/* Forgets every message. */
static inline void t_log_reset(struct t_log *l)
{
	pthread_mutex_lock(&l->lock);
	l->n = l->n_err = 0;
	l->last[0] = l->last_err[0] = '\0';
	pthread_mutex_unlock(&l->lock);
}

/* Kept messages at level (-1: any) that contain needle. */
static inline unsigned int t_logged(struct t_log *l, int level,
				    const char *needle)
{
	unsigned int kept, c = 0;

	pthread_mutex_lock(&l->lock);
	kept = l->n < T_LOG_KEEP ? l->n : T_LOG_KEEP;
	for (unsigned int i = 0; i < kept; i++)
		c += (level < 0 || l->level[i] == level) &&
		     strstr(l->msg[i], needle);
	pthread_mutex_unlock(&l->lock);
	return c;
}

#endif
