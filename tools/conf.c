// SPDX-License-Identifier: LGPL-2.1-or-later
/* conf.c: the strict parser of rampool.conf(5): git-config style sections, keys and values into a struct conf. */
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "parse.h"

enum kind { K_NONE, K_PAGES, K_WARM, K_RES };

#define VAL_MAX 256	/* a longer value is refused */

/* The parser's position and the section being filled. */
struct cx {
	const char *file;
	unsigned int line;
	char *err;
	size_t errlen;
	struct conf c;
	enum kind kind;
	char sub[VAL_MAX];		/* the section's quoted name */
	unsigned int key_line[16];	/* where each key was given, 0: not */
};

__attribute__((format(printf, 2, 3)))
static int fail(struct cx *x, const char *fmt, ...)
{
	size_t n;
	va_list ap;

	n = (size_t)snprintf(x->err, x->errlen, "%s:%u: ", x->file, x->line);
	if (n < x->errlen) {
		va_start(ap, fmt);
		vsnprintf(x->err + n, x->errlen - n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

static bool comment(char ch)
{
	return ch == '#' || ch == ';';
}

/* Nothing but blanks and a comment left on the line. */
static bool rest_empty(const char *p, const char *end)
{
	while (p < end && blank(*p))
		p++;
	return p == end || comment(*p);
}

/*
 * A double-quoted string at *p (on '"'): \" and \\ are the only escapes.
 * Into buf; *p past the closing quote. 0 or fail.
 */
static int quoted_str(struct cx *x, const char **p, const char *end,
		      char *buf, size_t len, const char *what)
{
	const char *s = *p + 1;
	size_t o = 0;

	for (; s < end && *s != '"'; s++) {
		if (*s == '\\') {
			if (++s == end || (*s != '"' && *s != '\\'))
				return fail(x, "%s: bad escape in a quoted "
					    "string (only \\\" and \\\\)", what);
		}
		if (o + 1 >= len)
			return fail(x, "%s: longer than %zu characters", what,
				    len - 1);
		buf[o++] = *s;
	}
	if (s == end)
		return fail(x, "%s: no closing '\"'", what);
	buf[o] = '\0';
	*p = s + 1;
	return 0;
}

/* A section's name and kind must be known and its subsection given. */
static int section_kind(struct cx *x, const char *name, size_t n)
{
	static const char *const kinds[] = { "pages", "warm", "reservation" };

	for (unsigned int i = 0; i < 3; i++)
		if (strlen(kinds[i]) == n && !strncmp(name, kinds[i], n))
			return (int)i + K_PAGES;
	return fail(x, "unknown section '%.*s' (pages, warm, reservation)",
		    (int)(n > 40 ? 40 : n), name);
}

static const char *kind_name(enum kind k)
{
	return k == K_PAGES ? "pages" : k == K_WARM ? "warm" : "reservation";
}

static int conf_section_open(struct cx *x, enum kind k);

/* "[kind "sub"]" */
static int section(struct cx *x, const char *p, const char *end)
{
	const char *name;
	int k;

	p++;
	while (p < end && blank(*p))
		p++;
	name = p;
	while (p < end && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
		p++;
	k = section_kind(x, name, (size_t)(p - name));
	if (k < 0)
		return k;
	while (p < end && blank(*p))
		p++;
	if (p == end || *p != '"')
		return fail(x, "[%s]: want [%s \"NAME\"]", kind_name(k),
			    kind_name(k));
	if (quoted_str(x, &p, end, x->sub, sizeof(x->sub), "section name"))
		return -EINVAL;
	while (p < end && blank(*p))
		p++;
	if (p == end || *p != ']')
		return fail(x, "[%s \"%s\": no closing ']'", kind_name(k),
			    x->sub);
	if (!rest_empty(p + 1, end))
		return fail(x, "[%s \"%s\"]: text after ']'", kind_name(k),
			    x->sub);
	return conf_section_open(x, (enum kind)k);
}

static int conf_key(struct cx *x, const char *key, const char *val);

/* "key = value", the value bare or quoted, then a comment at most. */
static int key_line(struct cx *x, const char *p, const char *end)
{
	char key[32], val[VAL_MAX];
	const char *k = p, *v;
	size_t n;

	while (p < end && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			   (*p >= '0' && *p <= '9') || (p > k && *p == '-')))
		p++;
	n = (size_t)(p - k);
	if (!n || n >= sizeof(key))
		return fail(x, "want KEY = VALUE, [SECTION \"NAME\"] or a "
			    "comment, not '%.*s'", (int)((end - k) > 40 ? 40 :
							 (end - k)), k);
	for (size_t i = 0; i < n; i++)	/* keys ignore case, as git's */
		key[i] = (char)(k[i] >= 'A' && k[i] <= 'Z' ? k[i] + 32 : k[i]);
	key[n] = '\0';
	while (p < end && blank(*p))
		p++;
	if (p == end || *p != '=')
		return fail(x, "%s: want '%s = VALUE'", key, key);
	p++;
	while (p < end && blank(*p))
		p++;
	if (p < end && *p == '"') {
		if (quoted_str(x, &p, end, val, sizeof(val), key))
			return -EINVAL;
		if (!rest_empty(p, end))
			return fail(x, "%s: text after the closing '\"'", key);
	} else {
		v = p;
		while (p < end && !comment(*p))
			p++;
		while (p > v && blank(p[-1]))
			p--;
		n = (size_t)(p - v);
		if (n >= sizeof(val))
			return fail(x, "%s: value longer than %zu characters",
				    key, sizeof(val) - 1);
		memcpy(val, v, n);
		val[n] = '\0';
		if (strpbrk(val, "\"\\"))
			return fail(x, "%s '%s': a quote or backslash in a bare "
				    "value (quote the whole value)", key, val);
	}
	if (!val[0])
		return fail(x, "%s: empty value", key);
	if (x->kind == K_NONE)
		return fail(x, "%s: a key before any [section]", key);
	return conf_key(x, key, val);
}

/* ---- sections and keys --------------------------------------------------- */

static int grow(struct cx *x, void **arr, unsigned int nr, size_t elem)
{
	void *p;

	if (nr >= CONF_MAX_SECTIONS)
		return fail(x, "more than %u [%s] sections", CONF_MAX_SECTIONS,
			    kind_name(x->kind));
	p = realloc(*arr, (nr + 1) * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	memset((char *)p + nr * elem, 0, elem);
	return 0;
}

static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > RAMPOOL_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
			  (ch >= '0' && ch <= '9') ||
			  (i && (ch == '.' || ch == '_' || ch == '-'));

		if (!ok)
			return false;
	}
	return true;
}

static int page_size_val(struct cx *x, const char *what, const char *s,
			 uint64_t *out)
{
	const char *why = NULL;
	uint64_t v;

	if (size_parse(s, &v, &why))
		return fail(x, "%s '%s': %s", what, s, why);
	if (v < 4096 || (v & (v - 1)))
		return fail(x, "%s '%s': not a page size (4K, 2M, 1G, ...)",
			    what, s);
	*out = v;
	return 0;
}

static int conf_section_open(struct cx *x, enum kind k)
{
	struct conf *c = &x->c;
	uint64_t ps;
	int ret;

	x->kind = k;
	memset(x->key_line, 0, sizeof(x->key_line));
	if (k == K_PAGES) {
		if (page_size_val(x, "[pages] page size", x->sub, &ps))
			return -EINVAL;
		if (ps == 4096)
			return fail(x, "[pages \"%s\"]: 4K pages are not a "
				    "hugepage pool", x->sub);
		for (unsigned int i = 0; i < c->nr_pages; i++)
			if (c->pages[i].page_size == ps)
				return fail(x, "[pages \"%s\"] twice (first on "
					    "line %u)", x->sub,
					    c->pages[i].line);
		if ((ret = grow(x, (void **)&c->pages, c->nr_pages,
				sizeof(*c->pages))))
			return ret;
		c->pages[c->nr_pages] = (struct conf_pages){ .line = x->line,
							     .page_size = ps };
		c->nr_pages++;
		return 0;
	}
	if (!name_ok(x->sub))
		return fail(x, "[%s \"%s\"]: a name is 1 to %d letters, digits, "
			    "'.', '_' or '-', starting with a letter or digit",
			    kind_name(k), x->sub, RAMPOOL_NAME_MAX);
	if (k == K_WARM) {
		for (unsigned int i = 0; i < c->nr_warm; i++)
			if (!strcmp(c->warm[i].label, x->sub))
				return fail(x, "[warm \"%s\"] twice (first on "
					    "line %u)", x->sub, c->warm[i].line);
		if ((ret = grow(x, (void **)&c->warm, c->nr_warm,
				sizeof(*c->warm))))
			return ret;
		c->warm[c->nr_warm].line = x->line;
		c->warm[c->nr_warm].node = -1;
		strcpy(c->warm[c->nr_warm++].label, x->sub);
		return 0;
	}
	for (unsigned int i = 0; i < c->nr_res; i++)
		if (!strcmp(c->res[i].name, x->sub))
			return fail(x, "[reservation \"%s\"] twice (first on "
				    "line %u)", x->sub, c->res[i].line);
	if ((ret = grow(x, (void **)&c->res, c->nr_res, sizeof(*c->res))))
		return ret;
	c->res[c->nr_res].line = x->line;
	c->res[c->nr_res].owner_uid = -1;
	strcpy(c->res[c->nr_res++].name, x->sub);
	return 0;
}

/* A decimal number in [0, max], digits only. */
static int uint_val(struct cx *x, const char *key, const char *s, uint64_t max,
		    uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return fail(x, "%s: empty value", key);
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return fail(x, "%s '%s': not a number", key, s);
		if (v > (max - (uint64_t)(*p - '0')) / 10)
			return fail(x, "%s '%s': more than %llu", key, s,
				    (unsigned long long)max);
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*out = v;
	return 0;
}

static int size_val(struct cx *x, const char *key, const char *s, bool zero_ok,
		    uint64_t *out)
{
	const char *why = NULL;
	uint64_t v;

	if (size_parse(s, &v, &why))
		return fail(x, "%s '%s': %s", key, s, why);
	if (!v && !zero_ok)
		return fail(x, "%s '%s': must be more than 0", key, s);
	*out = v;
	return 0;
}

static int backing_val(struct cx *x, const char *s,
		       enum rampool_res_backing *out)
{
	if (!strcmp(s, "hugetlb"))
		*out = RAMPOOL_RES_HUGETLB;
	else if (!strcmp(s, "shmem"))
		*out = RAMPOOL_RES_SHMEM;
	else
		return fail(x, "backing '%s': hugetlb or shmem", s);
	return 0;
}

static int bool_val(struct cx *x, const char *key, const char *s, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (unsigned int i = 0; i < 4; i++) {
		if (!strcmp(s, yes[i]) || !strcmp(s, no[i])) {
			*out = !strcmp(s, yes[i]);
			return 0;
		}
	}
	return fail(x, "%s '%s': yes or no", key, s);
}

static int owner_val(struct cx *x, const char *s, long long *out)
{
	struct passwd *pw;
	uint64_t v;

	if (s[0] >= '0' && s[0] <= '9') {
		if (uint_val(x, "owner", s, 0xfffffffeULL, &v))
			return -EINVAL;
		*out = (long long)v;
		return 0;
	}
	if (!name_ok(s) || !(pw = getpwnam(s)))
		return fail(x, "owner '%s': no such user", s);
	*out = pw->pw_uid;
	return 0;
}

/* "0:32G,1:32G": each node once, each size more than 0. */
static int nodes_val(struct cx *x, const char *s, struct conf_res *r)
{
	char buf[VAL_MAX], *save = NULL, *tok, *colon;
	uint64_t node;

	snprintf(buf, sizeof(buf), "%s", s);
	r->size = 0;
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		struct rampool_res_node *n = &r->nodes[r->nr_nodes];

		colon = strchr(tok, ':');
		if (!colon)
			return fail(x, "nodes '%s': want NODE:SIZE[,...]", s);
		*colon = '\0';
		if (uint_val(x, "nodes: node", tok, CONF_MAX_NODE, &node) ||
		    size_val(x, "nodes: size", colon + 1, false, &n->size))
			return -EINVAL;
		for (unsigned int i = 0; i < r->nr_nodes; i++)
			if (r->nodes[i].node == (int)node)
				return fail(x, "nodes '%s': node %llu twice", s,
					    (unsigned long long)node);
		if (r->nr_nodes == CONF_MAX_NODES - 1 ||
		    r->size + n->size < r->size)
			return fail(x, "nodes '%s': too many or too large", s);
		n->node = (int)node;
		r->size += n->size;
		r->nr_nodes++;
	}
	if (!r->nr_nodes || s[strlen(s) - 1] == ',' || s[0] == ',' ||
	    strstr(s, ",,"))
		return fail(x, "nodes '%s': want NODE:SIZE[,...]", s);
	return 0;
}

/* Index of key among keys[], marking it given: -1 unknown, fail twice. */
static int key_index(struct cx *x, const char *const *keys, unsigned int n,
		     const char *key)
{
	for (unsigned int i = 0; i < n; i++) {
		if (strcmp(keys[i], key))
			continue;
		if (x->key_line[i])
			return fail(x, "%s given twice in [%s \"%s\"] (first "
				    "on line %u)", key, kind_name(x->kind),
				    x->sub, x->key_line[i]);
		x->key_line[i] = x->line;
		return (int)i;
	}
	return fail(x, "unknown key '%s' in [%s \"%s\"]", key,
		    kind_name(x->kind), x->sub);
}

static int pages_key(struct cx *x, const char *key, const char *val)
{
	struct conf_pages *p = &x->c.pages[x->c.nr_pages - 1];
	uint64_t node, count;

	if (strncmp(key, "node", 4) || key[4] < '0' || key[4] > '9')
		return fail(x, "unknown key '%s' in [pages \"%s\"] (nodeN = "
			    "COUNT)", key, x->sub);
	if (key[4] == '0' && key[5])
		return fail(x, "%s: node number with a leading 0", key);
	if (uint_val(x, key, key + 4, CONF_MAX_NODE, &node))
		return -EINVAL;
	if (uint_val(x, key, val, 1ULL << 40, &count))
		return -EINVAL;
	for (unsigned int i = 0; i < p->nr; i++)
		if (p->n[i].node == (int)node)
			return fail(x, "%s given twice in [pages \"%s\"]", key,
				    x->sub);
	if (p->nr == CONF_MAX_NODES)
		return fail(x, "more than %d nodes in [pages \"%s\"]",
			    CONF_MAX_NODES, x->sub);
	p->n[p->nr++] = (struct conf_count){ .node = (int)node,
					     .count = count };
	return 0;
}

static int warm_key(struct cx *x, const char *key, const char *val)
{
	static const char *const keys[] = { "node", "size", "count",
					    "page-size", "backing" };
	struct conf_warm *w = &x->c.warm[x->c.nr_warm - 1];
	uint64_t v;
	int i = key_index(x, keys, 5, key);

	switch (i) {
	case 0:
		if (uint_val(x, key, val, CONF_MAX_NODE, &v))
			return -EINVAL;
		w->node = (int)v;
		return 0;
	case 1: return size_val(x, key, val, false, &w->size);
	case 2:
		if (uint_val(x, key, val, 65535, &v))
			return -EINVAL;
		w->count = (unsigned int)v;
		return 0;
	case 3: return page_size_val(x, key, val, &w->page_size);
	case 4: return backing_val(x, val, &w->backing);
	}
	return i;
}

static int res_key(struct cx *x, const char *key, const char *val)
{
	static const char *const keys[] = { "size", "page-size", "node",
					    "nodes", "backing", "prealloc",
					    "owner", "extra" };
	struct conf_res *r = &x->c.res[x->c.nr_res - 1];
	uint64_t v, sum;
	int i = key_index(x, keys, 8, key);

	if ((i == 2 && x->key_line[3]) || (i == 3 && x->key_line[2]))
		return fail(x, "%s: node and nodes in one [reservation \"%s\"]",
			    key, x->sub);
	switch (i) {
	case 0:
		if (size_val(x, key, val, false, &v))
			return -EINVAL;
		if (x->key_line[3] && v != r->size)
			return fail(x, "size '%s': not the sum of nodes", val);
		r->size = v;
		return 0;
	case 1: return page_size_val(x, key, val, &r->page_size);
	case 2:
		if (uint_val(x, key, val, CONF_MAX_NODE, &v))
			return -EINVAL;
		r->nodes[0] = (struct rampool_res_node){ .node = (int)v };
		r->nr_nodes = 1;
		return 0;
	case 3:
		sum = r->size;
		if (nodes_val(x, val, r))
			return -EINVAL;
		if (x->key_line[0] && sum != r->size)
			return fail(x, "nodes '%s': their sum is not size", val);
		return 0;
	case 4: return backing_val(x, val, &r->backing);
	case 5: return bool_val(x, key, val, &r->prealloc);
	case 6: return owner_val(x, val, &r->owner_uid);
	case 7: return size_val(x, key, val, true, &r->extra);
	}
	return i;
}

static int conf_key(struct cx *x, const char *key, const char *val)
{
	if (x->kind == K_PAGES)
		return pages_key(x, key, val);
	if (x->kind == K_WARM)
		return warm_key(x, key, val);
	return res_key(x, key, val);
}

/* ---- a section's checks once all its keys are read ----------------------- */

static int close_warm(struct cx *x)
{
	struct conf_warm *w = &x->c.warm[x->c.nr_warm - 1];
	static const char *const need[] = { "node", "size", "count" };

	for (unsigned int i = 0; i < 3; i++)
		if (!x->key_line[i])
			return fail(x, "[warm \"%s\"]: no %s", w->label, need[i]);
	if (w->backing == RAMPOOL_RES_SHMEM && w->page_size &&
	    w->page_size != 4096)
		return fail(x, "[warm \"%s\"]: shmem has 4K pages only",
			    w->label);
	if (w->page_size && w->size % w->page_size)
		return fail(x, "[warm \"%s\"]: size is not a whole number of "
			    "pages", w->label);
	for (unsigned int i = 0; i + 1 < x->c.nr_warm; i++) {
		struct conf_warm *o = &x->c.warm[i];

		if (o->node == w->node && o->backing == w->backing &&
		    o->page_size == w->page_size && o->size == w->size)
			return fail(x, "[warm \"%s\"]: the same slots as [warm "
				    "\"%s\"] (line %u)", w->label, o->label,
				    o->line);
	}
	return 0;
}

static int close_res(struct cx *x)
{
	struct conf_res *r = &x->c.res[x->c.nr_res - 1];

	if (!x->key_line[0] && !x->key_line[3])
		return fail(x, "[reservation \"%s\"]: no size (or nodes)",
			    r->name);
	if (r->backing == RAMPOOL_RES_SHMEM && r->page_size &&
	    r->page_size != 4096)
		return fail(x, "[reservation \"%s\"]: shmem has 4K pages only",
			    r->name);
	if (r->page_size && (r->size % r->page_size ||
			     r->extra % r->page_size))
		return fail(x, "[reservation \"%s\"]: size or extra is not a "
			    "whole number of pages", r->name);
	if (r->nr_nodes == 1 && !r->nodes[0].size)
		r->nodes[0].size = r->size;
	return 0;
}

static int section_close(struct cx *x)
{
	unsigned int line = x->line;
	int ret = 0;

	if (x->kind == K_PAGES) {
		x->line = x->c.pages[x->c.nr_pages - 1].line;
		if (!x->c.pages[x->c.nr_pages - 1].nr)
			ret = fail(x, "[pages \"%s\"]: no nodeN = COUNT",
				   x->sub);
	} else if (x->kind == K_WARM) {
		x->line = x->c.warm[x->c.nr_warm - 1].line;
		ret = close_warm(x);
	} else if (x->kind == K_RES) {
		x->line = x->c.res[x->c.nr_res - 1].line;
		ret = close_res(x);
	}
	x->line = line;
	x->kind = K_NONE;
	return ret;
}

void conf_free(struct conf *c)
{
	if (!c)
		return;
	free(c->pages);
	free(c->warm);
	free(c->res);
	memset(c, 0, sizeof(*c));
}

static int one_line(struct cx *x, const char *p, const char *end)
{
	while (p < end && blank(*p))
		p++;
	if (p == end || comment(*p))
		return 0;
	if (*p == '[') {
		if (x->kind != K_NONE && section_close(x))
			return -EINVAL;
		return section(x, p, end);
	}
	return key_line(x, p, end);
}

int conf_parse(const char *text, size_t len, const char *file,
	       struct conf *out, char *err, size_t errlen)
{
	struct cx x = { .file = file, .line = 1, .err = err, .errlen = errlen };
	const char *p = text, *end = text + len, *eol;
	int ret = 0;

	if (len > CONF_MAX_BYTES)
		ret = fail(&x, "larger than %u bytes", CONF_MAX_BYTES);
	else if (memchr(text, '\0', len))
		ret = fail(&x, "a NUL byte: not a text file");
	for (; !ret && p < end; p = eol + 1, x.line++) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		ret = one_line(&x, p, eol);
	}
	if (!ret && x.kind != K_NONE)
		ret = section_close(&x);
	if (ret) {
		conf_free(&x.c);
		return ret;
	}
	*out = x.c;
	return 0;
}
