// SPDX-License-Identifier: LGPL-2.1-or-later
/* pool.c: the pool handle: options, sysroot, state directory, logging. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pool.h"

#define STR_(x) #x
#define STR(x) STR_(x)

const char *rampool_version(void)
{
	return STR(RAMPOOL_VERSION_MAJOR) "." STR(RAMPOOL_VERSION_MINOR) "."
		STR(RAMPOOL_VERSION_PATCH);
}

int opts_check(const void *opts, size_t sz, size_t min_sz, size_t known_sz)
{
	const unsigned char *p = opts;

	if (sz < min_sz)
		return -EINVAL;
	for (size_t i = known_sz; i < sz; i++)
		if (p[i])
			return -EINVAL;
	return 0;
}

int info_copy(void *dst, size_t dst_sz, const void *src, size_t src_sz,
	      size_t min_sz)
{
	if (dst_sz < min_sz)
		return -EINVAL;
	memcpy(dst, src, dst_sz < src_sz ? dst_sz : src_sz);
	if (dst_sz > src_sz)
		memset((char *)dst + src_sz, 0, dst_sz - src_sz);
	*(size_t *)dst = dst_sz;
	return 0;
}

static int check_dir(const struct rp_log *log, const char *what,
		     const char *path)
{
	struct stat st;

	if (!*path || path[0] != '/') {
		rp_err(log, "%s '%s' is not an absolute path", what, path);
		return -EINVAL;
	}
	if (stat(path, &st)) {
		int err = errno;

		rp_err(log, "%s %s: %s", what, path, strerror(err));
		return -err;
	}
	if (!S_ISDIR(st.st_mode)) {
		rp_err(log, "%s %s: not a directory", what, path);
		return -ENOTDIR;
	}
	return 0;
}

/* The caller's options, only as far as its sz reaches (pool/opts.h). */
static int read_opts(const struct rampool_pool_opts *opts,
		     struct rampool_pool_opts *o)
{
	int ret;

	*o = (struct rampool_pool_opts){ .sz = sizeof(*o) };
	if (!opts)
		return 0;
	ret = OPTS_VALID(opts, struct rampool_pool_opts, log_level);
	if (ret)
		return ret;
	o->sysroot = OPTS_GET(opts, sysroot, NULL);
	o->state_dir = OPTS_GET(opts, state_dir, NULL);
	o->log_fn = OPTS_GET(opts, log_fn, NULL);
	o->log_data = OPTS_GET(opts, log_data, NULL);
	o->log_level = OPTS_GET(opts, log_level, 0);
	o->group = OPTS_GET(opts, group, NULL);
	return 0;
}

/*
 * The option, else the environment variable when set and not empty (an
 * empty option is the caller's mistake, checked later), else dflt.
 * secure_getenv: a set-user-ID or file-capability program (poolctl may be
 * one) must not take the ledger's place, its group or the kernel's view
 * from whoever runs it.
 */
static const char *opt_or_env(const char *opt, const char *var,
			      const char *dflt)
{
	const char *v;

	if (opt)
		return opt;
	v = secure_getenv(var);
	return v && *v ? v : dflt;
}

int rampool_pool_new(const struct rampool_pool_opts *opts,
		     struct rampool_pool **out)
{
	struct rampool_pool_opts o;
	const char *root, *state, *group;
	struct rampool_pool *p;
	int ret;

	if (!out)
		return -EINVAL;
	ret = read_opts(opts, &o);
	if (ret)
		return ret;
	if (o.log_level < 0 || o.log_level > RAMPOOL_LOG_DEBUG)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->log.fn = o.log_fn;
	p->log.data = o.log_data;
	p->log.level = o.log_level ? o.log_level : RAMPOOL_LOG_WARN;

	root = opt_or_env(o.sysroot, "RAMPOOL_SYSROOT", "/");
	state = opt_or_env(o.state_dir, "RAMPOOL_STATE_DIR",
			   RAMPOOL_DEFAULT_STATE_DIR);
	group = opt_or_env(o.group, "RAMPOOL_GROUP", NULL);
	ret = check_dir(&p->log, "sysroot", root);
	if (ret)
		goto out_free;
	if (state[0] != '/') {	/* it need not exist yet */
		rp_err(&p->log, "state directory '%s' is not an absolute path",
		       state);
		ret = -EINVAL;
		goto out_free;
	}
	ret = -ENOMEM;
	p->sysroot = strdup(root);
	p->state_dir = strdup(state);
	if (!p->sysroot || !p->state_dir)
		goto out_free;
	if (group && !(p->group = strdup(group)))
		goto out_free;
	*out = p;
	return 0;
out_free:
	rampool_pool_free(p);
	return ret;
}

void rampool_pool_free(struct rampool_pool *pool)
{
	if (!pool)
		return;
	free(pool->sysroot);
	free(pool->state_dir);
	free(pool->group);
	free(pool->shortfall);
	free(pool);
}

const char *rampool_pool_sysroot(const struct rampool_pool *pool)
{
	return pool->sysroot;
}

const char *rampool_pool_state_dir(const struct rampool_pool *pool)
{
	return pool->state_dir;
}
