// SPDX-License-Identifier: LGPL-2.1-or-later
/* log.c: formats a message into a stack buffer and hands it to the callback. */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

void rp_log(const struct rp_log *log, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!log || !log->fn || level > log->level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log->fn(log->data, (enum rampool_log_level)level, msg);
}
