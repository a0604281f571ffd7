// SPDX-License-Identifier: LGPL-2.1-or-later
/* parse_drive.h: runs one input through a parser and checks its promises. */
#ifndef PARSE_DRIVE_H
#define PARSE_DRIVE_H

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* relative to this file, so it builds with -I. (unit) and -Iinclude (fuzz) */
#include "../../backend/bitmap.h"
#include "../../backend/parse.h"

/* test_parse turns a broken promise into a cmocka failure; the fuzzer aborts */
#include "t_drive.h"
#ifndef PD_CHECK
#define PD_CHECK(cond) T_DRIVE_CHECK(cond)
#endif

/*
 * An input is one selector byte and the text. The selectors are letters so
 * corpus files stay readable; any other byte picks a parser by its value.
 */
#define PD_U64		'u'	/* parse_u64_line */
#define PD_LIST		'l'	/* parse_list, 200 bits */
#define PD_MEMINFO	'm'	/* parse_meminfo, prefix "" */
#define PD_NODEINFO	'n'	/* parse_meminfo, prefix "Node 0 " */
#define PD_DIRNAME	'd'	/* parse_hugepages_dirname */
#define PD_SIZE		's'	/* parse_size_suffix */
#define PD_MOUNTS	'o'	/* parse_mounts */

#define PD_LIST_BITS	200u	/* not a multiple of 64 on purpose */
#define PD_CANARY	0x5a5a5a5a5a5a5a5aULL

static inline char pd_selector(uint8_t b)
{
	static const char all[] = { PD_U64, PD_LIST, PD_MEMINFO, PD_NODEINFO,
				    PD_DIRNAME, PD_SIZE, PD_MOUNTS };

	for (size_t i = 0; i < sizeof(all); i++)
		if (b == (uint8_t)all[i])
			return all[i];
	return all[b % sizeof(all)];
}

static inline bool pd_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* A failure must be exactly -EINVAL with a reason. */
static inline int pd_check_fail(int ret, const char *why)
{
	PD_CHECK(ret == -EINVAL);
	PD_CHECK(why != NULL && why[0] != '\0');
	return ret;
}

/* On success the text was digits and one newline and means the value. */
static inline int pd_u64(const char *s, size_t len)
{
	const char *why = NULL;
	char want[24];
	uint64_t v = 0;
	size_t i = 0;
	int ret;

	ret = parse_u64_line(s, len, &v, &why);
	if (ret)
		return pd_check_fail(ret, why);
	PD_CHECK(len >= 2 && s[len - 1] == '\n');
	while (i + 2 < len && s[i] == '0')	/* leading zeros mean nothing */
		i++;
	snprintf(want, sizeof(want), "%" PRIu64 "\n", v);
	PD_CHECK(strlen(want) == len - i && !memcmp(want, s + i, len - i));
	return 0;
}

static inline int pd_list(const char *s, size_t len)
{
	uint64_t bits[(PD_LIST_BITS + 63) / 64 + 1];
	const size_t words = (PD_LIST_BITS + 63) / 64;
	const char *why = NULL;
	unsigned int count = ~0u, pop = 0;
	int ret;

	memset(bits, 0xff, sizeof(bits));
	bits[words] = PD_CANARY;
	ret = parse_list(s, len, bits, PD_LIST_BITS, &count, &why);
	PD_CHECK(bits[words] == PD_CANARY);
	if (ret)
		return pd_check_fail(ret, why);
	for (unsigned int i = 0; i < words * 64; i++) {
		if (!bitmap_test(bits, i))
			continue;
		PD_CHECK(i < PD_LIST_BITS);
		pop++;
	}
	PD_CHECK(count == pop);
	PD_CHECK(len >= 1 && s[len - 1] == '\n');
	return 0;
}

static inline int pd_meminfo(const char *s, size_t len, const char *prefix)
{
	static const char *const keys[] = {
		"MemTotal", "MemFree", "Shmem", "Hugepagesize",
		"HugePages_Total",
	};
	static const bool opt[] = { false, false, true, true, true };
	const unsigned int n = sizeof(keys) / sizeof(keys[0]);
	uint64_t vals[sizeof(keys) / sizeof(keys[0])];
	bool found[sizeof(keys) / sizeof(keys[0])];
	const char *why = NULL;
	int ret;

	memset(vals, 0xee, sizeof(vals));
	memset(found, 0, sizeof(found));
	ret = parse_meminfo(s, len, prefix, keys, n, vals, opt, found, &why);
	if (ret)
		return pd_check_fail(ret, why);
	for (unsigned int k = 0; k < n; k++) {
		PD_CHECK(found[k] || opt[k]);
		if (!found[k])
			PD_CHECK(vals[k] == 0);
	}
	return 0;
}

static inline int pd_dirname(const char *s, size_t len)
{
	const char *why = NULL;
	uint64_t ps = 0;
	char *z;
	int ret;

	/* the only parser that takes a C string: exactly len + 1 bytes */
	z = malloc(len + 1);
	PD_CHECK(z != NULL);
	memcpy(z, s, len);
	z[len] = '\0';
	ret = parse_hugepages_dirname(z, &ps, &why);
	if (ret) {
		pd_check_fail(ret, why);
	} else {
		size_t zl = strlen(z);	/* a NUL in the text ends the name */

		PD_CHECK(pd_pow2(ps) && ps >= 1024);
		PD_CHECK(!strncmp(z, "hugepages-", 10));
		PD_CHECK(zl > 12 && !strcmp(z + zl - 2, "kB"));
	}
	free(z);
	return ret;
}

static inline int pd_size(const char *s, size_t len)
{
	const char *why = NULL;
	uint64_t v = 0;
	int ret;

	ret = parse_size_suffix(s, len, &v, &why);
	if (ret)
		return pd_check_fail(ret, why);
	PD_CHECK(len >= 1 && s[0] >= '0' && s[0] <= '9');
	return 0;
}

static inline int pd_mount_cb(void *ctx, const struct mount_entry *m)
{
	unsigned int *calls = ctx;

	PD_CHECK(m->path != NULL && m->path[0] != '\0');
	PD_CHECK(!strcmp(m->fstype, "hugetlbfs"));
	PD_CHECK(m->page_size == 0 || pd_pow2(m->page_size));
	(*calls)++;
	return 0;
}

static inline int pd_mounts(const char *s, size_t len)
{
	const char *why = NULL;
	unsigned int calls = 0;
	int ret;

	ret = parse_mounts(s, len, pd_mount_cb, &calls, &why);
	if (ret)
		return pd_check_fail(ret, why);
	return 0;
}

/*
 * Runs text[0..len) through the parser sel picks, from a heap copy of
 * exactly len bytes so that ASan and valgrind see a read past the end.
 * Returns the parser's verdict: 0 accepted, -EINVAL rejected.
 */
static inline int pd_run(uint8_t sel, const char *text, size_t len)
{
	char *s = malloc(len ? len : 1);
	int ret = -EINVAL;

	PD_CHECK(s != NULL);
	memcpy(s, text, len);
	switch (pd_selector(sel)) {
	case PD_U64:
		ret = pd_u64(s, len);
		break;
	case PD_LIST:
		ret = pd_list(s, len);
		break;
	case PD_MEMINFO:
		ret = pd_meminfo(s, len, "");
		break;
	case PD_NODEINFO:
		ret = pd_meminfo(s, len, "Node 0 ");
		break;
	case PD_DIRNAME:
		ret = pd_dirname(s, len);
		break;
	case PD_SIZE:
		ret = pd_size(s, len);
		break;
	case PD_MOUNTS:
		ret = pd_mounts(s, len);
		break;
	}
	free(s);
	return ret;
}

#endif
