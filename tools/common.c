// SPDX-License-Identifier: LGPL-2.1-or-later
/* common.c: poolctl's shared helpers: errors, the pool, parsing and printing sizes. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

const char *prog = "poolctl";

static void log_cb(void *data, enum rampool_log_level level, const char *msg)
{
	struct ctl *c = data;

	if (level <= RAMPOOL_LOG_ERR)
		snprintf(c->last_err, sizeof(c->last_err), "%s", msg);
	if (c->verbose && level > RAMPOOL_LOG_ERR)
		fprintf(stderr, "%s: %s\n", prog, msg);
}

static void vline(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline(fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help' for more information.\n", prog);
	return EXIT_USAGE;
}

int input_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline(fmt, ap);
	va_end(ap);
	return EXIT_USAGE;
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

/* ---- sizes -------------------------------------------------------------- */

static int unit_shift(char u)
{
	switch (u) {
	case '\0': case 'B': case 'b': return 0;
	case 'K': case 'k': return 10;
	case 'M': case 'm': return 20;
	case 'G': case 'g': return 30;
	case 'T': case 't': return 40;
	}
	return -1;
}

static bool digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

int size_parse(const char *s, uint64_t *out, const char **why)
{
	uint64_t whole = 0, part;
	int frac = -1, shift;
	const char *p = s;

	if (!digit(*p)) {
		*why = "not a size (digits, then K, M, G or T)";
		return -EINVAL;
	}
	for (; digit(*p); p++) {
		if (whole > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			goto range;
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		if (!digit(p[1]) || digit(p[2])) {
			*why = "at most one decimal, e.g. 1.5G";
			return -EINVAL;
		}
		frac = p[1] - '0';
		p += 2;
	}
	shift = unit_shift(*p);
	if (shift < 0) {
		*why = "unknown unit (use K, M, G or T)";
		return -EINVAL;
	}
	if (*p && p[1]) {
		*why = "unexpected characters after the unit";
		return -EINVAL;
	}
	if (whole > (UINT64_MAX >> shift))
		goto range;
	whole <<= shift;
	if (frac > 0) {
		part = (uint64_t)frac << shift;
		if (part % 10) {
			*why = "not a whole number of bytes";
			return -EINVAL;
		}
		if (whole > UINT64_MAX - part / 10)
			goto range;
		whole += part / 10;
	}
	*out = whole;
	return 0;
range:
	*why = "too large (more than 16 EiB)";
	return -ERANGE;
}

/* s with every byte that is not printable ASCII written as \xNN. */
const char *quoted(const char *s, char *buf, size_t len)
{
	size_t n = 0;

	for (; *s && n + 5 < len; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch >= 0x20 && ch < 0x7f)
			buf[n++] = (char)ch;
		else
			n += (size_t)snprintf(buf + n, len - n, "\\x%02x", ch);
	}
	if (*s && n + 4 < len) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

int opt_size(const char *opt, const char *s, bool zero_ok, uint64_t *out)
{
	const char *why = NULL;
	char q[96];
	uint64_t v;

	if (size_parse(s, &v, &why))
		return input_error("%s '%s': %s", opt,
				   quoted(s, q, sizeof(q)), why);
	if (!v && !zero_ok)
		return input_error("%s '%s': must be greater than 0", opt,
				   quoted(s, q, sizeof(q)));
	*out = v;
	return 0;
}

int opt_uint(const char *opt, const char *s, unsigned long min,
	     unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	const char *p = s;
	char q[96];

	for (; digit(*p) && v <= max; p++)
		v = v * 10 + (unsigned long)(*p - '0');
	if (p == s || *p || v < min || v > max)
		return input_error("%s '%s': want a number from %lu to %lu",
				   opt, quoted(s, q, sizeof(q)), min, max);
	*out = v;
	return 0;
}

/* 2M, 1.5G, 512K, 0B: one decimal at most, as util-linux prints them. */
const char *size_str(char *buf, size_t len, uint64_t v, bool bytes)
{
	static const char units[] = "BKMGTPE";
	unsigned int e = 0;
	uint64_t whole, frac;

	if (bytes) {
		snprintf(buf, len, "%" PRIu64, v);
		return buf;
	}
	while (e < 6 && v >= (1ULL << (10 * (e + 1))))
		e++;
	whole = v >> (10 * e);
	frac = e ? v & ((1ULL << (10 * e)) - 1) : 0;
	/* round the remainder to one decimal */
	frac = e ? (frac * 10 + (1ULL << (10 * e - 1))) >> (10 * e) : 0;
	if (e && frac == 10) {
		whole++;
		frac = 0;
	}
	/* 1023.96G rounds to 1024G: say 1T */
	if (whole == 1024 && e < 6) {
		whole = 1;
		e++;
	}
	if (frac)
		snprintf(buf, len, "%" PRIu64 ".%" PRIu64 "%c", whole, frac,
			 units[e]);
	else
		snprintf(buf, len, "%" PRIu64 "%c", whole, units[e]);
	return buf;
}

/* ---- names -------------------------------------------------------------- */

static bool name_char(char ch, bool first)
{
	if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || digit(ch))
		return true;
	return !first && (ch == '.' || ch == '_' || ch == '-');
}

/* [A-Za-z0-9][A-Za-z0-9._-]{0,63}, the library's rule, checked first here
 * so that a bad name is refused before anything is opened. */
int check_name(const char *name)
{
	size_t len = strlen(name);
	char q[96];

	if (!len)
		return input_error("reservation name '': empty");
	if (len > RAMPOOL_NAME_MAX)
		return input_error("reservation name '%s': %zu characters, "
				   "at most %d", quoted(name, q, sizeof(q)),
				   len, RAMPOOL_NAME_MAX);
	for (size_t i = 0; i < len; i++)
		if (!name_char(name[i], i == 0))
			return input_error(
				"reservation name '%s': %s", quoted(name, q,
								    sizeof(q)),
				i ? "only letters, digits, '.', '_' and '-'"
				  : "must start with a letter or digit");
	return 0;
}
