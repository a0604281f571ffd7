// SPDX-License-Identifier: LGPL-2.1-or-later
/* common.c: poolctl's shared helpers: errors of the library and the system, the pool. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

static void log_cb(void *data, enum rampool_log_level level, const char *msg)
{
	struct ctl *c = data;

	if (level <= RAMPOOL_LOG_ERR)
		snprintf(c->last_err, sizeof(c->last_err), "%s", msg);
	if (c->verbose && level > RAMPOOL_LOG_ERR)
		fprintf(stderr, "%s: %s\n", prog, msg);
	else if (c->warnings && level == RAMPOOL_LOG_WARN)
		fprintf(stderr, "%s: warning: %s\n", prog, msg);
}

/* getopt leaves the offending word in argv; name it whole. */
int opt_error(const char *cmd, int opt, char **argv)
{
	extern int optind;

	if (opt == ':')
		return usage_error("%s%soption '%s' needs an argument",
				   cmd ? cmd : "", cmd ? ": " : "",
				   argv[optind - 1]);
	return usage_error("unknown option '%s'", argv[optind - 1]);
}

int sys_error(struct ctl *c, const char *what, int err, int status)
{
	if (c->last_err[0])
		fprintf(stderr, "%s: %s: %s\n", prog, what, c->last_err);
	else
		fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(-err));
	return status;
}

void ctl_clear_error(struct ctl *c)
{
	c->last_err[0] = '\0';
}

int finish_output(void)
{
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "%s: write error: %s\n", prog, strerror(errno));
		return EXIT_SYSTEM;
	}
	return EXIT_OK;
}

/* The library takes absolute paths; a user may give one relative to here. */
static const char *absolute(const char *path, char *buf, size_t len)
{
	char cwd[PATH_MAX];

	if (!path || path[0] == '/' || !path[0] || !getcwd(cwd, sizeof(cwd)))
		return path;
	if ((size_t)snprintf(buf, len, "%s/%s", cwd, path) >= len)
		return path;
	return buf;
}

int open_pool(struct ctl *c, struct rampool_pool **pool)
{
	char root[PATH_MAX], state[PATH_MAX];
	struct rampool_pool_opts o = {
		.sz = sizeof(o),
		.sysroot = absolute(c->sysroot, root, sizeof(root)),
		.state_dir = absolute(c->state_dir, state, sizeof(state)),
		.log_fn = log_cb,
		.log_data = c,
		.log_level = c->verbose ? RAMPOOL_LOG_DEBUG : RAMPOOL_LOG_WARN,
	};
	int ret = rampool_pool_new(&o, pool);

	if (ret) {
		/* the only inputs are the paths the user gave */
		return sys_error(c, "cannot open the pool",
				 ret, ret == -ENOMEM ? EXIT_SYSTEM : EXIT_USAGE);
	}
	return EXIT_OK;
}
