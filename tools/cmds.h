/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmds.h: the commands poolctl dispatches to, one family per cmd_*.c file. */
#ifndef POOLCTL_CMDS_H
#define POOLCTL_CMDS_H

#include "cols.h"
#include "common.h"

/* Each takes argv[0] = the command's name; returns an EXIT_* status. */
int cmd_status(struct ctl *c, int argc, char **argv);
int cmd_reserve(struct ctl *c, int argc, char **argv);
int cmd_release(struct ctl *c, int argc, char **argv);
int cmd_grow(struct ctl *c, int argc, char **argv);
int cmd_path(struct ctl *c, int argc, char **argv);
int cmd_list(struct ctl *c, int argc, char **argv);
int cmd_show(struct ctl *c, int argc, char **argv);
int cmd_audit(struct ctl *c, int argc, char **argv);

/* Prints reservation name as show does (cmd_list.c); EXIT_*. */
int res_show(struct ctl *c, struct rampool_pool *pool, const char *name,
	     const struct out_opts *o);
/* One line for a failed reservation call, and its exit status: 2 bad
 * input or no such name, 1 refused, 3 system error (cmd_list.c). */
int res_error(struct ctl *c, const char *what, int err);

int cmd_discard(struct ctl *c, int argc, char **argv);
int cmd_check(struct ctl *c, int argc, char **argv);
int cmd_warm(struct ctl *c, int argc, char **argv);
int cmd_metrics(struct ctl *c, int argc, char **argv);
int cmd_pages(struct ctl *c, int argc, char **argv);
int cmd_apply(struct ctl *c, int argc, char **argv);
/* "warning: WHAT: N owed[ on node K]: ..." on stderr when owed > 0
 * (cmd_discard.c): owed bytes are never shown as held. */
void warn_owed(const char *what, int node, uint64_t owed);

/* Each command's long options, named by the table (see struct cmd). */
extern const struct option status_options[];
extern const struct option reserve_options[];
extern const struct option release_options[];
extern const struct option grow_options[];
extern const struct option path_options[];
extern const struct option list_options[];	/* list and show */
extern const struct option audit_options[];
extern const struct option discard_options[];
extern const struct option check_options[];
extern const struct option warm_options[];
extern const struct option metrics_options[];
extern const struct option pages_options[];
extern const struct option apply_options[];

#endif /* POOLCTL_CMDS_H */
