/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* manifest.h: inside pool/: one reading of a manifest, and the JSON value readers that name the path of what they refuse. */
#ifndef RP_MANIFEST_H
#define RP_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rampool.h"
#include "../backend/log.h"

#define MF_BASE_PAGE	4096ull		/* shmem: the plan is host-independent */
#define MF_NODE_MAX	1023
#define MF_TEXT_MAX	(64u << 20)	/* bytes of text: ~600k blocks */
#define MF_PATH_LEN	256
#define MF_ECHO_LEN	64		/* bytes of a value quoted in a message */
#define MF_ECHO_BUF	(MF_ECHO_LEN + 4)

struct json_object;
struct lh_table;
struct map_ent;

/* One reading: where it is in the text, and what it knows already. */
struct mf {
	const struct rp_log *log;
	struct map_ent *map;		/* opts->map, parsed */
	unsigned int nmap;
	uint64_t dflt_ps;		/* never 0 */
	struct rampool_plan *plan;
	struct lh_table *ids;		/* id -> its index in blocks */
	char path[MF_PATH_LEN];		/* "$.blocks[2].size" */
	size_t plen;			/* 0: "$" */
};

/* Logs "manifest: <path>: <message>" as an error; returns -EINVAL. */
__attribute__((format(printf, 2, 3)))
int mf_err(struct mf *m, const char *fmt, ...);
/*
 * Up to MF_ECHO_LEN bytes of s for a message, control bytes as '?', cut
 * on a UTF-8 character boundary, "..." when cut; buf: MF_ECHO_BUF bytes.
 */
const char *mf_echo(const char *s, size_t len, char *buf);
/* "2M", "1G", "4K", else the bytes: exact. */
const char *mf_sz_str(uint64_t v, char *buf, size_t len);
/* "a string", "an array", "null", ... */
const char *mf_type(struct json_object *o);

/* Appends ".key" (["key"] when not a plain name) or "[i]" to the path;
 * each returns the length mf_path_back goes back to. */
size_t mf_path_key(struct mf *m, const char *key);
size_t mf_path_idx(struct mf *m, size_t i);
void mf_path_back(struct mf *m, size_t len);
/* Warns about each key of the object o not in known (NULL-terminated). */
void mf_warn_unknown(struct mf *m, struct json_object *o,
		     const char *const *known);

/*
 * The value readers: o is the value at the current path (NULL: JSON
 * null). Each returns 0, or -EINVAL with one error line naming the path.
 */
/* A JSON integer >= 0 that fits in 64 bits. */
int mf_uint(struct mf *m, struct json_object *o, uint64_t *out);
/* A JSON integer or a string such as "8G" (parse_size_suffix). */
int mf_size(struct mf *m, struct json_object *o, uint64_t *out);
/* A size that is a power of two, at least 4K. */
int mf_page_size(struct mf *m, struct json_object *o, uint64_t *out);
/* 0 to MF_NODE_MAX, or "any": RAMPOOL_NODE_ANY. */
int mf_node(struct mf *m, struct json_object *o, int *out);
/* "hugetlb" or "shmem". */
int mf_backing(struct mf *m, struct json_object *o,
	       enum rampool_res_backing *out);
/* 1 to PLAN_ID_MAX bytes, no control byte, not "headroom"; *out: o's. */
int mf_id(struct mf *m, struct json_object *o, const char **out);

/*
 * The text as one JSON value (*root; NULL for "null"), or -EINVAL with
 * the line and column of the problem; -ENOMEM.
 */
int mf_parse_text(struct mf *m, const char *text, size_t len,
		  struct json_object **root);

#endif
