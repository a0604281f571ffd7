/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* log.h: the logging sink every layer writes to (a callback, never stdio). */
#ifndef RP_LOG_H
#define RP_LOG_H

#include "rampool.h"

struct rp_log {
	rampool_log_fn fn;
	void *data;
	int level;
};

__attribute__((format(printf, 3, 4)))
void rp_log(const struct rp_log *log, int level, const char *fmt, ...);

#define rp_err(l, ...) rp_log((l), RAMPOOL_LOG_ERR, __VA_ARGS__)
#define rp_warn(l, ...) rp_log((l), RAMPOOL_LOG_WARN, __VA_ARGS__)
#define rp_info(l, ...) rp_log((l), RAMPOOL_LOG_INFO, __VA_ARGS__)
#define rp_dbg(l, ...) rp_log((l), RAMPOOL_LOG_DEBUG, __VA_ARGS__)

#endif
