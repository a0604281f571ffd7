// SPDX-License-Identifier: LGPL-2.1-or-later
/* parse.c: strict, bounds-checked parsers for proc and sysfs text. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bitmap.h"
#include "parse.h"

static int fail(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return -EINVAL;
}

/* Digits at s[*pos..len) into *out; at least one digit, no overflow. */
static int take_u64(const char *s, size_t len, size_t *pos, uint64_t *out,
		    const char **why)
{
	uint64_t v = 0;
	size_t i = *pos;

	if (i >= len || s[i] < '0' || s[i] > '9')
		return fail(why, "expected a number");
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		unsigned int d = (unsigned int)(s[i] - '0');

		if (v > (UINT64_MAX - d) / 10)
			return fail(why, "number overflows 64 bits");
		v = v * 10 + d;
	}
	*pos = i;
	*out = v;
	return 0;
}

int parse_u64_line(const char *s, size_t len, uint64_t *out, const char **why)
{
	size_t pos = 0;
	uint64_t v;
	int ret;

	if (len == 0)
		return fail(why, "empty (truncated?)");
	ret = take_u64(s, len, &pos, &v, why);
	if (ret)
		return ret;
	if (pos == len)
		return fail(why, "no newline after the number (truncated?)");
	if (s[pos] != '\n' || pos + 1 != len)
		return fail(why, "trailing garbage after the number");
	*out = v;
	return 0;
}

int parse_list(const char *s, size_t len, uint64_t *bits, unsigned int nbits,
	       unsigned int *count, const char **why)
{
	size_t pos = 0;
	unsigned int n = 0;
	int ret;

	memset(bits, 0, BITMAP_WORDS(nbits) * sizeof(*bits));
	if (len == 0)
		return fail(why, "empty (truncated?)");
	if (s[len - 1] != '\n')
		return fail(why, "no newline at the end (truncated?)");
	len--;
	while (pos < len) {
		uint64_t lo, hi;

		ret = take_u64(s, len, &pos, &lo, why);
		if (ret)
			return ret;
		hi = lo;
		if (pos < len && s[pos] == '-') {
			pos++;
			ret = take_u64(s, len, &pos, &hi, why);
			if (ret)
				return ret;
			if (hi < lo)
				return fail(why, "range ends before it starts");
		}
		if (hi >= nbits)
			return fail(why, "number beyond the supported maximum");
		n += (unsigned int)(hi - lo + 1 -
				    bitmap_count(bits, lo, hi - lo + 1));
		bitmap_set(bits, lo, hi - lo + 1);
		if (pos < len) {
			if (s[pos] != ',' || pos + 1 == len)
				return fail(why, "expected ',' between ranges");
			pos++;
		}
	}
	if (count)
		*count = n;
	return 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

int parse_meminfo(const char *s, size_t len, const char *prefix,
		  const char *const *keys, unsigned int nkeys,
		  uint64_t *values, const bool *optional, bool *found_out,
		  const char **why)
{
	size_t plen = strlen(prefix);
	bool found[64] = { false };
	size_t pos = 0;
	int ret;

	if (nkeys > 64)
		return fail(why, "too many keys");
	if (len == 0)
		return fail(why, "empty (truncated?)");
	if (s[len - 1] != '\n')
		return fail(why, "no newline at the end (truncated?)");
	while (pos < len) {
		const char *line = s + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t llen = (size_t)(nl - line), kpos, klen, vpos;
		uint64_t v;
		unsigned int k;

		pos += llen + 1;
		if (llen < plen || memcmp(line, prefix, plen))
			return fail(why, "a line lacks the expected prefix");
		kpos = plen;
		for (klen = 0; kpos + klen < llen && line[kpos + klen] != ':';
		     klen++)
			;
		if (kpos + klen == llen || klen == 0)
			return fail(why, "a line has no 'Key:'");
		for (k = 0; k < nkeys; k++)
			if (strlen(keys[k]) == klen &&
			    !memcmp(line + kpos, keys[k], klen))
				break;
		if (k == nkeys)
			continue;
		if (found[k])
			return fail(why, "a key appears twice");
		vpos = kpos + klen + 1;
		while (vpos < llen && is_space(line[vpos]))
			vpos++;
		ret = take_u64(line, llen, &vpos, &v, why);
		if (ret)
			return ret;
		if (vpos == llen) {
			/* a plain count such as HugePages_Total */
		} else if (llen - vpos == 3 && !memcmp(line + vpos, " kB", 3)) {
			if (v > UINT64_MAX / 1024)
				return fail(why, "number overflows 64 bits");
			v *= 1024;
		} else {
			return fail(why, "garbage after a value");
		}
		values[k] = v;
		found[k] = true;
	}
	for (unsigned int k = 0; k < nkeys; k++) {
		if (!found[k]) {
			if (!optional || !optional[k])
				return fail(why, "a required key is missing");
			values[k] = 0;
		}
		if (found_out)
			found_out[k] = found[k];
	}
	return 0;
}

static int apply_suffix(char c, uint64_t *v, const char **why)
{
	unsigned int shift;

	switch (c) {
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	case 't': case 'T': shift = 40; break;
	default: return fail(why, "unknown size suffix");
	}
	if (*v > (UINT64_MAX >> shift))
		return fail(why, "size overflows 64 bits");
	*v <<= shift;
	return 0;
}

int parse_size_suffix(const char *s, size_t len, uint64_t *out,
		      const char **why)
{
	size_t pos = 0;
	uint64_t v;
	int ret;

	ret = take_u64(s, len, &pos, &v, why);
	if (ret)
		return ret;
	if (pos < len) {
		ret = apply_suffix(s[pos], &v, why);
		if (ret)
			return ret;
		pos++;
		if (pos < len && (s[pos] == 'B' || s[pos] == 'b'))
			pos++;
	}
	if (pos != len)
		return fail(why, "garbage after the size");
	*out = v;
	return 0;
}

int parse_hugepages_dirname(const char *name, uint64_t *page_size,
			    const char **why)
{
	static const char pfx[] = "hugepages-";
	size_t len = strlen(name), pos = sizeof(pfx) - 1;
	uint64_t v;
	int ret;

	if (len <= pos || memcmp(name, pfx, pos))
		return fail(why, "not a hugepages-<size>kB name");
	ret = take_u64(name, len, &pos, &v, why);
	if (ret)
		return ret;
	if (strcmp(name + pos, "kB"))
		return fail(why, "not a hugepages-<size>kB name");
	if (v == 0 || v > UINT64_MAX / 1024 || (v & (v - 1)))
		return fail(why, "page size is not a power of two");
	*page_size = v * 1024;
	return 0;
}

/* Copies a mounts field, turning \ooo escapes back into bytes. */
static int unescape(const char *f, size_t flen, char *dst, const char **why)
{
	size_t o = 0;

	for (size_t i = 0; i < flen; i++) {
		if (f[i] != '\\') {
			dst[o++] = f[i];
			continue;
		}
		if (i + 3 >= flen)
			return fail(why, "bad escape in a path");
		if (f[i + 1] < '0' || f[i + 1] > '3' ||
		    f[i + 2] < '0' || f[i + 2] > '7' ||
		    f[i + 3] < '0' || f[i + 3] > '7')
			return fail(why, "bad escape in a path");
		dst[o++] = (char)((f[i + 1] - '0') << 6 |
				  (f[i + 2] - '0') << 3 | (f[i + 3] - '0'));
		i += 3;
	}
	dst[o] = '\0';
	if (o == 0 || memchr(dst, '\0', o))
		return fail(why, "empty path or NUL in a path");
	return 0;
}

/* Splits a line into up to n space-separated fields. */
static unsigned int split(const char *line, size_t llen, const char **f,
			  size_t *flen, unsigned int n)
{
	unsigned int k = 0;
	size_t i = 0;

	while (i < llen && k < n) {
		while (i < llen && line[i] == ' ')
			i++;
		if (i == llen)
			break;
		f[k] = line + i;
		while (i < llen && line[i] != ' ')
			i++;
		flen[k] = (size_t)(line + i - f[k]);
		k++;
	}
	return k;
}

static int hugetlbfs_pagesize(const char *opt, size_t olen, uint64_t *ps,
			      const char **why)
{
	static const char key[] = "pagesize=";
	size_t i = 0;

	*ps = 0;
	while (i < olen) {
		size_t j = i;

		while (j < olen && opt[j] != ',')
			j++;
		if (j - i >= sizeof(key) - 1 &&
		    !memcmp(opt + i, key, sizeof(key) - 1)) {
			int ret = parse_size_suffix(opt + i + sizeof(key) - 1,
						    j - i - (sizeof(key) - 1),
						    ps, why);
			if (ret)
				return ret;
			if (*ps == 0 || (*ps & (*ps - 1)))
				return fail(why, "pagesize= is not a power of two");
		}
		i = j + 1;
	}
	return 0;
}

int parse_mounts(const char *s, size_t len,
		 int (*fn)(void *ctx, const struct mount_entry *m), void *ctx,
		 const char **why)
{
	size_t pos = 0;
	int ret = 0;

	/* the kernel always lists the root file system */
	if (len == 0)
		return fail(why, "empty (truncated?)");
	if (s[len - 1] != '\n')
		return fail(why, "no newline at the end (truncated?)");
	while (pos < len) {
		const char *line = s + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t llen = (size_t)(nl - line), flen[4];
		const char *f[4];
		struct mount_entry m = { 0 };
		char *path;

		pos += llen + 1;
		if (split(line, llen, f, flen, 4) < 4)
			return fail(why, "a line has fewer than 4 fields");
		if (flen[2] != 9 || memcmp(f[2], "hugetlbfs", 9))
			continue;
		memcpy(m.fstype, "hugetlbfs", 10);
		ret = hugetlbfs_pagesize(f[3], flen[3], &m.page_size, why);
		if (ret)
			return ret;
		path = malloc(flen[1] + 1);
		if (!path)
			return -ENOMEM;
		ret = unescape(f[1], flen[1], path, why);
		if (!ret) {
			m.path = path;
			ret = fn(ctx, &m);
		}
		free(path);
		if (ret)
			return ret;
	}
	return 0;
}
