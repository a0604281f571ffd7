// SPDX-License-Identifier: LGPL-2.1-or-later
/* parse.c: poolctl's input parsers and their one-line errors, callable without a pool (fuzzed, unit-tested). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

const char *prog = "poolctl";

/*
 * One line, whatever the values in it: a word the user typed (an unknown
 * option, an extra argument) may hold a newline or other control bytes,
 * which are written as \xNN like quoted() does.
 */
static void vline(const char *fmt, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(stderr, "%s: ", prog);
	for (const char *p = line; *p; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch < 0x20 || ch == 0x7f)
			fprintf(stderr, "\\x%02x", ch);
		else
			fputc(ch, stderr);
	}
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

/*
 * s with every byte that is not printable ASCII written as \xNN, and the
 * backslash too (\x5c), so that what is printed names one value only.
 */
const char *quoted(const char *s, char *buf, size_t len)
{
	size_t n = 0;

	for (; *s && n + 5 < len; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch >= 0x20 && ch < 0x7f && ch != '\\')
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
	unsigned long v = 0, d;
	bool over = false;
	const char *p = s;
	char q[96];

	/* past max (or ULONG_MAX) the digits are only read, never added */
	for (; digit(*p); p++) {
		d = (unsigned long)(*p - '0');
		if (over || d > max || v > (max - d) / 10)
			over = true;
		else
			v = v * 10 + d;
	}
	if (p == s || *p || over || v < min)
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

/* ---- nodes, owners, page sizes ------------------------------------------ */

/* A node number, quietly: 0, or -1 when s is not one. */
static int parse_node(const char *s, unsigned long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return *end || errno || *out > MAX_NODE ? -1 : 0;
}

int parse_nodes(const char *opt, const char *arg, bool sizes,
		struct rampool_res_node *nodes, unsigned int max,
		unsigned int *nr)
{
	const char *p = arg, *want = sizes ? "NODE:SIZE,..., e.g. 0:4G,1:4G"
					   : "NODE,..., e.g. 0,1";
	const char *why = NULL;
	char tok[64], q[96], qt[96];
	unsigned int count = 0;

	do {
		size_t len = strcspn(p, ",");
		char *colon;
		unsigned long node;
		struct rampool_res_node *n = &nodes[count];

		if (!len || len >= sizeof(tok) || count == max)
			return input_error("%s '%s': want %s", opt,
					   quoted(arg, q, sizeof(q)), want);
		memcpy(tok, p, len);
		tok[len] = '\0';
		colon = strchr(tok, ':');
		if (!!colon != sizes)
			return input_error("%s '%s': want %s", opt,
					   quoted(arg, q, sizeof(q)), want);
		if (colon)
			*colon = '\0';
		if (parse_node(tok, &node))
			return input_error("%s '%s': node '%s' is not a number "
					   "from 0 to %d", opt,
					   quoted(arg, q, sizeof(q)),
					   quoted(tok, qt, sizeof(qt)),
					   MAX_NODE);
		n->size = 0;
		if (colon && (size_parse(colon + 1, &n->size, &why) ||
			      (!n->size && (why = "must be greater than 0"))))
			return input_error("%s '%s': node %lu's size: %s", opt,
					   quoted(arg, q, sizeof(q)), node,
					   why);
		n->node = (int)node;
		for (unsigned int k = 0; k < count; k++)
			if (nodes[k].node == n->node)
				return input_error("%s '%s': node %d given twice",
						   opt, quoted(arg, q, sizeof(q)),
						   n->node);
		count++;
		p += len;
	} while (*p++ == ',');
	*nr = count;
	return 0;
}

int parse_owner(const char *s, long long *out)
{
	struct passwd *pw;
	unsigned long uid;
	char q[96];

	if (s[0] >= '0' && s[0] <= '9') {
		if (opt_uint("--owner", s, 0, UINT_MAX - 1, &uid))
			return EXIT_USAGE;
		*out = (long long)uid;
		return 0;
	}
	pw = getpwnam(s);
	if (!pw)
		return input_error("--owner '%s': no such user",
				   quoted(s, q, sizeof(q)));
	*out = pw->pw_uid;
	return 0;
}

int parse_page_size(const char *s, uint64_t *out)
{
	uint64_t v;
	char q[96];

	if (opt_size("--page-size", s, false, &v))
		return EXIT_USAGE;
	if (v < 4096 || (v & (v - 1)))
		return input_error("--page-size '%s': not a page size (4K, 2M, "
				   "1G, ...)", quoted(s, q, sizeof(q)));
	*out = v;
	return 0;
}

int parse_backing(const char *s, enum rampool_res_backing *out)
{
	char q[96];

	if (!strcmp(s, "hugetlb"))
		*out = RAMPOOL_RES_HUGETLB;
	else if (!strcmp(s, "shmem"))
		*out = RAMPOOL_RES_SHMEM;
	else
		return input_error("--backing '%s': want hugetlb or shmem",
				   quoted(s, q, sizeof(q)));
	return 0;
}
