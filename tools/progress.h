/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* progress.h: the --prealloc progress bar and the Ctrl-C that cancels a populate. */
#ifndef POOLCTL_PROGRESS_H
#define POOLCTL_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "rampool.h"

struct progress {
	double t0, last;	/* seconds: start, last drawn */
	bool drawn;
};

/* Draws on stderr (the caller checks it is a terminal). */
void progress_start(struct progress *p);
/* A rampool_progress_fn; data is the struct progress. */
void progress_cb(void *data, uint64_t done, uint64_t total);
/* Ends the line if anything was drawn. */
void progress_end(struct progress *p);

/*
 * Until release_signals: SIGINT and SIGTERM call rampool_pool_cancel(pool)
 * (async-signal-safe), once; a second one has its default effect (the
 * next poolctl command undoes what a killed one left); one that was
 * ignored stays ignored. release_signals says whether one came.
 */
void catch_signals(struct rampool_pool *pool);
bool release_signals(void);

#endif /* POOLCTL_PROGRESS_H */
