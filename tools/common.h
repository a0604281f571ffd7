/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* common.h: what every poolctl command shares: the context, errors, the pool (parsers: parse.h). */
#ifndef POOLCTL_COMMON_H
#define POOLCTL_COMMON_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse.h"
#include "rampool.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct ctl {
	const char *sysroot;
	const char *state_dir;
	int verbose;
	char last_err[512];	/* the library's last ERR message */
	bool warnings;		/* print the library's warnings (check) */
};

/*
 * One command: bpftool's shape, a name, its function, one line of help and
 * the long options it parses. The pattern for a command's options: at file
 * scope in its cmd_*.c, `const struct option NAME_options[] = { ..., { 0 } };`
 * (declared in cmds.h), passed to getopt_long by the command itself and
 * named by its row of the table in poolctl.c, e.g.
 *	{ "warm", cmd_warm, "pre-zeroed slots ...", warm_options },
 * `poolctl __complete` prints the table for the bash completion
 * (completion/poolctl), so completion lists exactly what is parsed;
 * tests/cli/check-completion compares it with each command's --help.
 */
struct cmd {
	const char *name;
	int (*fn)(struct ctl *c, int argc, char **argv);
	const char *summary;
	const struct option *opts;	/* ends with { 0 } */
};

/* getopt_long returned ':' or '?' for cmd: name the option; EXIT_USAGE. */
int opt_error(const char *cmd, int opt, char **argv);
/*
 * One line naming what failed: the library's own words when it logged an
 * error during the call, else strerror(-err). Returns status.
 */
int sys_error(struct ctl *c, const char *what, int err, int status);
/* Forget the library's last error message (before a new call). */
void ctl_clear_error(struct ctl *c);

/* Flushes stdout; a write error is a system error, named. */
int finish_output(void);

/* Opens the pool with the global options; prints why not (EXIT_*). */
int open_pool(struct ctl *c, struct rampool_pool **pool);

#endif /* POOLCTL_COMMON_H */
