/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cmds.h: the commands poolctl dispatches to, one family per cmd_*.c file. */
#ifndef POOLCTL_CMDS_H
#define POOLCTL_CMDS_H

#include "common.h"

/* Each takes argv[0] = the command's name; returns an EXIT_* status. */
int cmd_status(struct ctl *c, int argc, char **argv);

#endif /* POOLCTL_CMDS_H */
