// SPDX-License-Identifier: LGPL-2.1-or-later
/* cli_drive.h: runs one input through a poolctl parser (tools/parse.c) and checks its promises. */
#ifndef CLI_DRIVE_H
#define CLI_DRIVE_H

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* relative to this file, so it builds with -I. (unit) and -Iinclude (fuzz) */
#include "../../tools/parse.h"

/* test_cli_parse turns a broken promise into a cmocka failure; the fuzzer aborts */
#ifndef CD_CHECK
#define CD_CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(cd_saved ? cd_saved : stderr,		\
				"%s:%d: broken: %s\n", __FILE__,	\
				__LINE__, #cond);			\
			abort();					\
		}							\
	} while (0)
#endif

/*
 * An input is a selector byte, a parameter byte and the text (up to its
 * first NUL). The selectors are letters so corpus files stay readable; any
 * other byte picks a parser by its value.
 */
#define CD_SIZE		'z'	/* size_parse, and size_str of what it accepts */
#define CD_OPT_SIZE	'o'	/* opt_size; param bit 0: zero_ok */
#define CD_UINT		'u'	/* opt_uint; param picks [min, max] */
#define CD_NAME		'n'	/* check_name */
#define CD_NODES	'N'	/* parse_nodes with sizes; param picks max */
#define CD_INTERLEAVE	'I'	/* parse_nodes without sizes */
#define CD_OWNER	'w'	/* parse_owner */
#define CD_PAGE		'p'	/* parse_page_size */
#define CD_QUOTED	'q'	/* quoted into 1 + param % 128 bytes */
#define CD_SIZE_STR	's'	/* size_str of the text's first 8 bytes */
#define CD_BACKING	'b'	/* parse_backing */

#define CD_MAX_NODES	1024	/* poolctl's array (cmd_res.c) */
#define CD_CANARY	0x5a5a5a5a5a5a5a5aULL

static FILE *cd_saved;		/* the real stderr while one is captured */
static char cd_err[4096];	/* what the parser printed on stderr */
static unsigned int cd_refusals;	/* inputs refused so far */

static inline char cd_selector(uint8_t b)
{
	static const char all[] = { CD_SIZE, CD_OPT_SIZE, CD_UINT, CD_NAME,
				    CD_NODES, CD_INTERLEAVE, CD_OWNER,
				    CD_PAGE, CD_QUOTED, CD_SIZE_STR,
				    CD_BACKING };

	for (size_t i = 0; i < sizeof(all); i++)
		if (b == (uint8_t)all[i])
			return all[i];
	return all[b % sizeof(all)];
}

/* The parser's stderr goes to cd_err (glibc's stderr is assignable). */
static inline void cd_capture(void)
{
	fflush(stderr);
	cd_saved = stderr;
	memset(cd_err, 0, sizeof(cd_err));
	stderr = fmemopen(cd_err, sizeof(cd_err) - 1, "w");
	if (!stderr) {
		stderr = cd_saved;
		cd_saved = NULL;
		CD_CHECK(!"fmemopen");
	}
}

static inline void cd_release(void)
{
	fclose(stderr);
	stderr = cd_saved;
	cd_saved = NULL;
}

/* Accepted: nothing printed. */
static inline void cd_silent(void)
{
	CD_CHECK(cd_err[0] == '\0');
}

/* Refused: exactly one line of printable ASCII, "poolctl: ", naming what. */
static inline void cd_one_line(const char *what)
{
	size_t len = strlen(cd_err);

	cd_refusals++;
	CD_CHECK(len > 10 && !strncmp(cd_err, "poolctl: ", 9));
	CD_CHECK(cd_err[len - 1] == '\n');
	for (size_t i = 0; i + 1 < len; i++)
		CD_CHECK(cd_err[i] >= 0x20 && cd_err[i] < 0x7f);
	CD_CHECK(strstr(cd_err, what) != NULL);
}

/* "OPT 'VALUE'" as the parsers name a value. */
static inline const char *cd_named(const char *opt, const char *s,
				   char *buf, size_t len)
{
	char q[96];

	snprintf(buf, len, "%s '%s'", opt, quoted(s, q, sizeof(q)));
	return buf;
}

static inline bool cd_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A run of digits as a number, UINT64_MAX + 1 (saturated) when larger. */
static inline unsigned __int128 cd_digits(const char *s, size_t n)
{
	const unsigned __int128 cap = (unsigned __int128)UINT64_MAX + 1;
	unsigned __int128 v = 0;

	for (size_t i = 0; i < n; i++) {
		v = v * 10 + (unsigned)(s[i] - '0');
		if (v > cap)
			v = cap;
	}
	return v;
}

static inline int cd_unit_shift(char u)
{
	const char *units = "BbKkMmGgTt";
	const char *at = u ? strchr(units, u) : NULL;

	return at ? (int)((at - units) / 2) * 10 : -1;
}

/*
 * What size_parse must answer, found another way: the text as a whole
 * (digits, an optional ".D", an optional unit) in 128-bit arithmetic.
 * A bad text is -EINVAL, or -ERANGE when its leading digits alone
 * overflow (size_parse reads them first).
 */
static inline int cd_ref_size(const char *s, uint64_t *out)
{
	const unsigned __int128 max = UINT64_MAX;
	size_t nd = strspn(s, "0123456789");
	const char *p = s + nd;
	unsigned __int128 whole = cd_digits(s, nd), tenths;
	int frac = 0, shift = 0;

	if (nd && whole > max)
		return -ERANGE;
	if (*p == '.' && cd_digit(p[1])) {
		frac = p[1] - '0';
		p += 2;
	}
	if (*p)
		shift = cd_unit_shift(*p++);
	if (!nd || shift < 0 || *p)
		return -EINVAL;
	if ((whole << shift) > max)
		return -ERANGE;
	tenths = ((whole * 10 + (unsigned)frac) << shift);
	if (tenths % 10)
		return -EINVAL;
	if (tenths / 10 > max)
		return -ERANGE;
	*out = (uint64_t)(tenths / 10);
	return 0;
}

/* opt_uint's answer: digits only, from min to max. */
static inline bool cd_ref_uint(const char *s, unsigned long min,
			       unsigned long max, unsigned long *out)
{
	size_t nd = strspn(s, "0123456789");
	unsigned __int128 v = cd_digits(s, nd);

	if (!nd || s[nd] || v < min || v > max)
		return false;
	*out = (unsigned long)v;
	return true;
}

/* [A-Za-z0-9][A-Za-z0-9._-]{0,63} */
static inline bool cd_ref_name(const char *s)
{
	static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "abcdefghijklmnopqrstuvwxyz0123456789";
	size_t len = strlen(s);

	if (!len || len > 64 || !strchr(alnum, s[0]))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!strchr(alnum, s[i]) && !strchr("._-", s[i]))
			return false;
	return true;
}

/*
 * parse_nodes's answer: NODE[:SIZE] tokens between commas, none empty or
 * of 64 bytes or more (poolctl's token buffer), nodes 0..MAX_NODE once
 * each, sizes as size_parse and not 0, at most max of them.
 */
static inline bool cd_ref_nodes(const char *arg, bool sizes, unsigned int max,
				struct rampool_res_node *nodes,
				unsigned int *nr)
{
	const char *p = arg;
	unsigned int n = 0;

	for (;;) {
		size_t len = strcspn(p, ","), nd = strspn(p, "0123456789");
		unsigned __int128 node = cd_digits(p, nd);
		char tok[64];

		if (!len || len >= sizeof(tok) || n == max || !nd ||
		    nd > len || node > MAX_NODE)
			return false;
		memcpy(tok, p, len);
		tok[len] = '\0';
		nodes[n].node = (int)node;
		nodes[n].size = 0;
		if (sizes ? tok[nd] != ':' ||
			    cd_ref_size(tok + nd + 1, &nodes[n].size) ||
			    !nodes[n].size
			  : tok[nd] != '\0')
			return false;
		for (unsigned int k = 0; k < n; k++)
			if (nodes[k].node == nodes[n].node)
				return false;
		n++;
		p += len;
		if (!*p)
			break;
		p++;
	}
	*nr = n;
	return true;
}

/*
 * size_str's human form of v: "W[.D]U" within half a tenth of the unit U
 * of v; where it is a whole number of bytes in B to T, size_parse reads
 * it back to that number (1.1M, 1153433.6 bytes, is shown but is not a
 * size; P and E are shown, from 1023.95T up, but not parsed).
 */
static inline void cd_human(const char *buf, uint64_t v)
{
	size_t nd = strspn(buf, "0123456789"), len = strlen(buf);
	unsigned __int128 tenths = cd_digits(buf, nd) * 10, unit, diff;
	const char *why = NULL, *units = "BKMGTPE", *u = NULL;
	uint64_t back = 0;

	CD_CHECK(nd >= 1 && len >= 2 && len <= 7);
	if (buf[nd] == '.') {
		CD_CHECK(cd_digit(buf[nd + 1]) && buf[nd + 1] != '0');
		tenths += (unsigned)(buf[nd + 1] - '0');
		nd += 2;
	}
	u = strchr(units, buf[nd]);
	CD_CHECK(nd + 1 == len && u && *u);
	if (!u)
		return;
	unit = (unsigned __int128)1 << (10 * (u - units));
	diff = tenths * unit > (unsigned __int128)v * 10 ?
	       tenths * unit - (unsigned __int128)v * 10 :
	       (unsigned __int128)v * 10 - tenths * unit;
	CD_CHECK(diff * 2 <= unit);
	if (unit <= (1ULL << 40) && !(tenths * unit % 10)) {
		CD_CHECK(!size_parse(buf, &back, &why));
		CD_CHECK(back == (uint64_t)(tenths * unit / 10));
	}
}

/* size_parse; what it accepts printed by size_str parses back. */
static inline void cd_size(const char *s)
{
	const char *why = NULL;
	uint64_t v = CD_CANARY, want = CD_CANARY, back = 0;
	int ret = size_parse(s, &v, &why), ref = cd_ref_size(s, &want);
	char buf[32];

	CD_CHECK(ret == ref);
	if (ret) {
		cd_refusals++;
		CD_CHECK(v == CD_CANARY);
		CD_CHECK(why && why[0]);
		return;
	}
	CD_CHECK(v == want);
	/* -b prints bytes: exact */
	size_str(buf, sizeof(buf), v, true);
	CD_CHECK(!size_parse(buf, &back, &why) && back == v);
	cd_human(size_str(buf, sizeof(buf), v, false), v);
}

static inline void cd_opt_size(const char *s, bool zero_ok)
{
	uint64_t v = CD_CANARY, want = CD_CANARY;
	bool ok = !cd_ref_size(s, &want) && (want || zero_ok);
	char named[160];
	int ret;

	cd_capture();
	ret = opt_size("--size", s, zero_ok, &v);
	cd_release();
	if (ok) {
		CD_CHECK(ret == 0 && v == want);
		cd_silent();
	} else {
		CD_CHECK(ret == EXIT_USAGE && v == CD_CANARY);
		cd_one_line(cd_named("--size", s, named, sizeof(named)));
	}
}

static inline void cd_uint(const char *s, uint8_t param)
{
	static const unsigned long range[][2] = {
		{ 0, MAX_NODE }, { 1, 256 }, { 0, UINT_MAX - 1 },
		{ 0, ULONG_MAX }, { 1, ULONG_MAX - 1 }, { 7, 7 }, { 0, 0 },
		{ ULONG_MAX / 10, ULONG_MAX / 10 + 1 },
	};
	unsigned long min = range[param % 8][0], max = range[param % 8][1];
	unsigned long v = 12345, want = 12345;
	bool ok = cd_ref_uint(s, min, max, &want);
	char named[160];
	int ret;

	cd_capture();
	ret = opt_uint("--n", s, min, max, &v);
	cd_release();
	if (ok) {
		CD_CHECK(ret == 0 && v == want);
		cd_silent();
	} else {
		CD_CHECK(ret == EXIT_USAGE && v == 12345);
		cd_one_line(cd_named("--n", s, named, sizeof(named)));
	}
}

static inline void cd_name(const char *s)
{
	char q[96], named[160];
	int ret;

	cd_capture();
	ret = check_name(s);
	cd_release();
	if (cd_ref_name(s)) {
		CD_CHECK(ret == 0);
		cd_silent();
	} else {
		CD_CHECK(ret == EXIT_USAGE);
		snprintf(named, sizeof(named), "reservation name '%s'",
			 quoted(s, q, sizeof(q)));
		cd_one_line(named);
	}
}

static inline void cd_nodes(const char *s, bool sizes, uint8_t param)
{
	static struct rampool_res_node got[CD_MAX_NODES + 1],
				       want[CD_MAX_NODES];
	unsigned int max = param & 0x80 ? CD_MAX_NODES : param % 8 + 1;
	unsigned int nr = 77777, want_nr = 0;
	const char *opt = sizes ? "--nodes" : "--interleave";
	bool ok = cd_ref_nodes(s, sizes, max, want, &want_nr);
	char named[160];
	int ret;

	for (unsigned int i = 0; i <= CD_MAX_NODES; i++)
		got[i] = (struct rampool_res_node){ -7, CD_CANARY };
	cd_capture();
	ret = parse_nodes(opt, s, sizes, got, max, &nr);
	cd_release();
	/* nothing written past max */
	for (unsigned int i = max; i <= CD_MAX_NODES; i++)
		CD_CHECK(got[i].node == -7 && got[i].size == CD_CANARY);
	if (!ok) {
		CD_CHECK(ret == EXIT_USAGE && nr == 77777);
		cd_one_line(cd_named(opt, s, named, sizeof(named)));
		return;
	}
	CD_CHECK(ret == 0 && nr == want_nr);
	cd_silent();
	for (unsigned int i = 0; i < nr; i++) {
		CD_CHECK(got[i].node == want[i].node);
		CD_CHECK(got[i].size == want[i].size);
	}
}

static inline void cd_owner(const char *s)
{
	long long v = -5, want = -5;
	unsigned long uid;
	struct passwd *pw;
	char named[160];
	int ret;

	if (cd_digit(s[0])) {
		if (cd_ref_uint(s, 0, UINT_MAX - 1, &uid))
			want = (long long)uid;
	} else if ((pw = getpwnam(s))) {
		want = pw->pw_uid;
	}
	cd_capture();
	ret = parse_owner(s, &v);
	cd_release();
	if (want >= 0) {
		CD_CHECK(ret == 0 && v == want);
		cd_silent();
	} else {
		CD_CHECK(ret == EXIT_USAGE && v == -5);
		cd_one_line(cd_named("--owner", s, named, sizeof(named)));
	}
}

static inline void cd_page(const char *s)
{
	uint64_t v = CD_CANARY, want = 0;
	bool ok = !cd_ref_size(s, &want) && want >= 4096 &&
		  !(want & (want - 1));
	char named[160];
	int ret;

	cd_capture();
	ret = parse_page_size(s, &v);
	cd_release();
	if (ok) {
		CD_CHECK(ret == 0 && v == want);
		cd_silent();
	} else {
		CD_CHECK(ret == EXIT_USAGE && v == CD_CANARY);
		cd_one_line(cd_named("--page-size", s, named, sizeof(named)));
	}
}

/* hugetlb and shmem, exactly; anything else one line naming it. */
static inline void cd_backing(const char *s)
{
	enum rampool_res_backing v = (enum rampool_res_backing)77;
	bool ok = !strcmp(s, "hugetlb") || !strcmp(s, "shmem");
	char named[160];
	int ret;

	cd_capture();
	ret = parse_backing(s, &v);
	cd_release();
	if (ok) {
		CD_CHECK(ret == 0 && v == (s[0] == 'h' ? RAMPOOL_RES_HUGETLB
						      : RAMPOOL_RES_SHMEM));
		cd_silent();
	} else {
		CD_CHECK(ret == EXIT_USAGE && (int)v == 77);
		cd_one_line(cd_named("--backing", s, named, sizeof(named)));
	}
}

/* Printable ASCII that decodes to a prefix of s (all of s when it fits). */
static inline void cd_quoted(const char *s, uint8_t param)
{
	size_t len = 1 + param % 128, n = 0, out_len;
	char *buf = malloc(len);
	const char *p;

	CD_CHECK(buf != NULL);
	p = quoted(s, buf, len);
	CD_CHECK(p == buf);
	out_len = strlen(buf);
	CD_CHECK(out_len < len);
	for (size_t i = 0; i < out_len; i++) {
		unsigned int byte;

		CD_CHECK(buf[i] >= 0x20 && buf[i] < 0x7f);
		if (!strcmp(buf + i, "...") && strcmp(s + n, "..."))
			break;		/* the mark of a cut */
		if (buf[i] == '\\') {
			CD_CHECK(sscanf(buf + i, "\\x%2x", &byte) == 1);
			CD_CHECK((unsigned char)s[n] == byte);
			i += 3;
		} else {
			CD_CHECK(s[n] == buf[i]);
		}
		n++;
	}
	/* 4 bytes per input byte at most, and room for the NUL */
	if (strlen(s) * 4 + 5 <= len)
		CD_CHECK(s[n] == '\0');
	free(buf);
}

/* size_str of any value: bytes exact; the human form fits and parses. */
static inline void cd_size_str(const char *data, size_t size)
{
	uint64_t v = 0;
	char buf[32], want[24];

	memcpy(&v, data, size < 8 ? size : 8);
	snprintf(want, sizeof(want), "%" PRIu64, v);
	CD_CHECK(!strcmp(size_str(buf, sizeof(buf), v, true), want));
	cd_human(size_str(buf, sizeof(buf), v, false), v);
}

/*
 * One input: sel, param, then text (a heap copy, NUL-terminated at len).
 * Returns 0 when the parser accepted it, -1 when it refused it (quoted
 * and size_str accept everything).
 */
static inline int cd_run(uint8_t sel, uint8_t param, const char *text,
			 size_t len)
{
	unsigned int refusals = cd_refusals;
	char *s = malloc(len + 1);

	CD_CHECK(s != NULL);
	memcpy(s, text, len);
	s[len] = '\0';
	switch (cd_selector(sel)) {
	case CD_SIZE:		cd_size(s); break;
	case CD_OPT_SIZE:	cd_opt_size(s, param & 1); break;
	case CD_UINT:		cd_uint(s, param); break;
	case CD_NAME:		cd_name(s); break;
	case CD_NODES:		cd_nodes(s, true, param); break;
	case CD_INTERLEAVE:	cd_nodes(s, false, param); break;
	case CD_OWNER:		cd_owner(s); break;
	case CD_PAGE:		cd_page(s); break;
	case CD_QUOTED:		cd_quoted(s, param); break;
	case CD_SIZE_STR:	cd_size_str(text, len); break;
	case CD_BACKING:	cd_backing(s); break;
	}
	free(s);
	return cd_refusals == refusals ? 0 : -1;
}

#endif /* CLI_DRIVE_H */
