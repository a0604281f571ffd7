// SPDX-License-Identifier: LGPL-2.1-or-later
/* manifest_json.c: a manifest's JSON text and values (sizes, nodes, ids) read strictly, each refusal naming its JSON path. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "../backend/parse.h"
#include "manifest.h"
#include "plan.h"

/* ---- messages ----------------------------------------------------------- */

int mf_err(struct mf *m, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rp_err(m->log, "manifest: %s: %s", m->plen ? m->path : "$", msg);
	return -EINVAL;
}

/*
 * Up to MF_ECHO_LEN bytes of s, control bytes as '?', cut on a UTF-8
 * character boundary, "..." when cut: into buf (MF_ECHO_BUF bytes).
 */
const char *mf_echo(const char *s, size_t len, char *buf)
{
	size_t n = len > MF_ECHO_LEN ? MF_ECHO_LEN : len, i;

	if (n < len)
		while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	for (i = 0; i < n; i++)
		buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?'
								      : s[i];
	strcpy(buf + i, n < len ? "..." : "");
	return buf;
}

/* "2M", "1G", "4K", or the bytes: exact, for page and block sizes. */
const char *mf_sz_str(uint64_t v, char *buf, size_t len)
{
	static const char sfx[] = "TGMK";

	for (unsigned int i = 0; i < 4; i++) {
		unsigned int shift = 40 - 10 * i;

		if (v && !(v & ((1ull << shift) - 1))) {
			snprintf(buf, len, "%llu%c",
				 (unsigned long long)(v >> shift), sfx[i]);
			return buf;
		}
	}
	snprintf(buf, len, "%llu", (unsigned long long)v);
	return buf;
}

const char *mf_type(struct json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_null: return "null";
	case json_type_boolean: return "a boolean";
	case json_type_double: case json_type_int: return "a number";
	case json_type_string: return "a string";
	case json_type_array: return "an array";
	case json_type_object: return "an object";
	}
	return "a value";
}

/* ---- the JSON path of the field being read ------------------------------- */

static bool plain_key(const char *k)
{
	if (!*k || (*k >= '0' && *k <= '9'))
		return false;
	for (; *k; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
		      (*k >= '0' && *k <= '9') || *k == '_'))
			return false;
	return true;
}

/* Appends ".key" (or ["key"]) to the path; returns the length to go back to. */
size_t mf_path_key(struct mf *m, const char *key)
{
	size_t old = m->plen, room = sizeof(m->path) - m->plen;
	char e[MF_ECHO_BUF];
	int n;

	if (!old)
		m->plen = (size_t)snprintf(m->path, sizeof(m->path), "$");
	room = sizeof(m->path) - m->plen;
	if (plain_key(key))
		n = snprintf(m->path + m->plen, room, ".%s", key);
	else
		n = snprintf(m->path + m->plen, room, "[\"%s\"]",
			     mf_echo(key, strlen(key), e));
	m->plen = n < 0 || (size_t)n >= room ? sizeof(m->path) - 1
					     : m->plen + (size_t)n;
	return old;
}

size_t mf_path_idx(struct mf *m, size_t i)
{
	size_t old = m->plen, room = sizeof(m->path) - m->plen;
	int n = snprintf(m->path + m->plen, room, "[%zu]", i);

	m->plen = n < 0 || (size_t)n >= room ? sizeof(m->path) - 1
					     : m->plen + (size_t)n;
	return old;
}

void mf_path_back(struct mf *m, size_t len)
{
	m->plen = len;
	m->path[len] = '\0';
}

/* Warns about each key of o not in known (NULL-terminated). */
void mf_warn_unknown(struct mf *m, struct json_object *o,
		     const char *const *known)
{
	json_object_object_foreach(o, key, val) {
		const char *const *k = known;
		size_t back;

		(void)val;
		while (*k && strcmp(*k, key))
			k++;
		if (*k)
			continue;
		back = mf_path_key(m, key);
		rp_warn(m->log, "manifest: %s: unknown key, ignored", m->path);
		mf_path_back(m, back);
	}
}

/* ---- values --------------------------------------------------------------- */

/* A whole number >= 0 that fits in 64 bits (JSON number). */
int mf_uint(struct mf *m, struct json_object *o, uint64_t *out)
{
	char e[MF_ECHO_BUF];
	const char *s = json_object_get_string(o);
	int64_t i;

	if (json_object_is_type(o, json_type_double))
		return mf_err(m, "%s is not an integer", mf_echo(s, strlen(s), e));
	i = json_object_get_int64(o);
	/* json-c clamps what does not fit to these */
	if (i == INT64_MIN || json_object_get_uint64(o) == UINT64_MAX)
		return mf_err(m, "the number is out of range");
	if (i < 0)
		return mf_err(m, "%lld is negative", (long long)i);
	*out = json_object_get_uint64(o);
	return 0;
}

/* A size: a JSON integer, or a string such as "8G" (K/M/G/T: binary). */
int mf_size(struct mf *m, struct json_object *o, uint64_t *out)
{
	char e[MF_ECHO_BUF];
	const char *s, *why = NULL;
	size_t len;

	switch (json_object_get_type(o)) {
	case json_type_int:
	case json_type_double:
		return mf_uint(m, o, out);
	case json_type_string:
		s = json_object_get_string(o);
		len = (size_t)json_object_get_string_len(o);
		if (len && s[0] == '-')
			return mf_err(m, "\"%s\" is negative", mf_echo(s, len, e));
		if (parse_size_suffix(s, len, out, &why))
			return mf_err(m, "\"%s\" is not a size: %s",
				      mf_echo(s, len, e), why);
		return 0;
	default:
		return mf_err(m, "%s, not a size (a number of bytes or a "
			      "string such as \"8G\")", mf_type(o));
	}
}

int mf_page_size(struct mf *m, struct json_object *o, uint64_t *out)
{
	char b[32];
	int ret = mf_size(m, o, out);

	if (ret)
		return ret;
	if (*out < MF_BASE_PAGE || (*out & (*out - 1)))
		return mf_err(m, "%s is not a page size (a power of two, at "
			      "least 4K)", mf_sz_str(*out, b, sizeof(b)));
	return 0;
}

int mf_node(struct mf *m, struct json_object *o, int *out)
{
	const char *s = json_object_get_string(o);
	char e[MF_ECHO_BUF];
	uint64_t v;
	int ret;

	if (json_object_is_type(o, json_type_string)) {
		if (!strcmp(s, "any") && strlen(s) ==
		    (size_t)json_object_get_string_len(o)) {
			*out = RAMPOOL_NODE_ANY;
			return 0;
		}
		return mf_err(m, "\"%s\" is not a node (0 to %d, or \"any\")",
			      mf_echo(s, (size_t)json_object_get_string_len(o), e),
			      MF_NODE_MAX);
	}
	if (!json_object_is_type(o, json_type_int) &&
	    !json_object_is_type(o, json_type_double))
		return mf_err(m, "%s, not a node (0 to %d, or \"any\")",
			      mf_type(o), MF_NODE_MAX);
	ret = mf_uint(m, o, &v);
	if (ret)
		return ret;
	if (v > MF_NODE_MAX)
		return mf_err(m, "%llu is not a node (0 to %d, or \"any\")",
			      (unsigned long long)v, MF_NODE_MAX);
	*out = (int)v;
	return 0;
}

int mf_backing(struct mf *m, struct json_object *o,
	       enum rampool_res_backing *out)
{
	char e[MF_ECHO_BUF];
	const char *s = json_object_get_string(o);
	size_t len = (size_t)json_object_get_string_len(o);

	if (!json_object_is_type(o, json_type_string))
		return mf_err(m, "%s, not \"hugetlb\" or \"shmem\"",
			      mf_type(o));
	if (len == 7 && !strcmp(s, "hugetlb"))
		*out = RAMPOOL_RES_HUGETLB;
	else if (len == 5 && !strcmp(s, "shmem"))
		*out = RAMPOOL_RES_SHMEM;
	else
		return mf_err(m, "\"%s\" is not \"hugetlb\" or \"shmem\"",
			      mf_echo(s, len, e));
	return 0;
}

int mf_id(struct mf *m, struct json_object *o, const char **out)
{
	char e[MF_ECHO_BUF];
	const char *s = json_object_get_string(o);
	size_t len = (size_t)json_object_get_string_len(o);

	if (!json_object_is_type(o, json_type_string))
		return mf_err(m, "%s, not a string", mf_type(o));
	if (!len)
		return mf_err(m, "empty");
	if (len > PLAN_ID_MAX)
		return mf_err(m, "%zu bytes, more than %d", len, PLAN_ID_MAX);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return mf_err(m, "\"%s\" has a control character "
				      "(byte %zu)", mf_echo(s, len, e), i);
	if (!strcmp(s, "headroom"))
		return mf_err(m, "\"headroom\" is the manifest's headroom; "
			      "name the block otherwise");
	*out = s;
	return 0;
}

__attribute__((format(printf, 4, 5)))
static int text_err(struct mf *m, const char *text, size_t off,
		    const char *fmt, ...)
{
	size_t line = 1, col = 1;
	char msg[256];
	va_list ap;

	for (size_t i = 0; i < off; i++, col++)
		if (text[i] == '\n') {
			line++;
			col = 0;
		}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rp_err(m->log, "manifest: line %zu, column %zu: %s", line, col, msg);
	return -EINVAL;
}

/* The first byte at or after i that is not JSON white space (len: none). */
static size_t ws_end(const char *text, size_t i, size_t len)
{
	while (i < len && (text[i] == ' ' || text[i] == '\t' ||
			   text[i] == '\r' || text[i] == '\n'))
		i++;
	return i;
}

int mf_parse_text(struct mf *m, const char *text, size_t len,
		  struct json_object **root)
{
	const char *nul = memchr(text, '\0', len);
	enum json_tokener_error e;
	struct json_tokener *tok;
	struct json_object *o;
	size_t end;

	if (len > MF_TEXT_MAX) {
		rp_err(m->log, "manifest: %zu bytes, more than the %u MiB a "
		       "manifest may have", len, MF_TEXT_MAX >> 20);
		return -EINVAL;
	}
	if (nul)
		return text_err(m, text, (size_t)(nul - text), "a NUL byte");
	if (ws_end(text, 0, len) == len)
		return text_err(m, text, len, "empty: no JSON value");
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
			       JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, text, (int)len);
	e = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (e == json_tokener_continue) {
		/* the end of the text ends a value at the top ("123") too */
		o = json_tokener_parse_ex(tok, "", 1);
		e = json_tokener_get_error(tok);
		end = len;
	}
	json_tokener_free(tok);
	if (e == json_tokener_continue)
		e = json_tokener_error_parse_eof;
	/* strict: text after the value is an error of the tokener's */
	if (e != json_tokener_success)
		return text_err(m, text, end, "%s", json_tokener_error_desc(e));
	*root = o;
	return 0;
}

