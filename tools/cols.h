/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cols.h: one column table per output table, driving the table, -r, -b, -n and -J. */
#ifndef POOLCTL_COLS_H
#define POOLCTL_COLS_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

enum col_type {
	COL_STR,	/* text; JSON string */
	COL_BYTES,	/* 2M, 1.5G (bytes with -b); JSON integer bytes */
	COL_COUNT,	/* an unsigned count; JSON integer */
	COL_INT,	/* a signed number; JSON integer */
	COL_TIME,	/* seconds since the epoch: local time; JSON integer */
	COL_BOOL,	/* yes / no; JSON boolean */
	COL_NESTED,	/* text in the table; a JSON value (array, object) */
};

/* Column flags */
#define COL_LEFT	(1u << 0)	/* align left (text); else right */

/*
 * A column, written once: the heading, the JSON key, the type and the
 * alignment. A cell never set prints "-" in the table and null in JSON.
 */
struct col {
	const char *name;
	const char *key;
	enum col_type type;
	unsigned int flags;
	const char *help;	/* one line for --help (NULL: not listed) */
};

struct cell {
	bool set;
	uint64_t u;		/* BYTES, COUNT, BOOL */
	int64_t i;		/* INT, TIME */
	char *s;		/* STR, NESTED's text */
	json_object *j;		/* NESTED */
};

struct table {
	const struct col *cols;
	unsigned int ncols, nrows, cap;
	struct cell *cells;	/* nrows * ncols */
};

/* How to print: the global table options of every listing command. */
struct out_opts {
	bool bytes, json, noheadings, raw;
};

#define TABLE_INIT(c) { .cols = (c), .ncols = sizeof(c) / sizeof((c)[0]) }

/* A new empty row; its index, or -ENOMEM. */
int table_row(struct table *t);
/* Setters on row r, column c; the string ones copy (-ENOMEM). The nested
 * one takes the reference to j (also on failure). */
int table_str(struct table *t, int r, unsigned int c, const char *s);
void table_u64(struct table *t, int r, unsigned int c, uint64_t v);
void table_int(struct table *t, int r, unsigned int c, int64_t v);
int table_nested(struct table *t, int r, unsigned int c, const char *text,
		 json_object *j);

/* The cell at row r, column c (for finding a row again). */
const struct cell *table_cell(const struct table *t, int r, unsigned int c);

/* Prints the rows as aligned columns (or raw); o->json is ignored. */
void table_print(const struct table *t, const struct out_opts *o);
/* Prints row r as "HEADING:  value" lines (show). */
void table_print_row(const struct table *t, int r, const struct out_opts *o);
/* Row r as a JSON object, or all rows as an array; NULL on ENOMEM. */
json_object *table_json_row(const struct table *t, int r);
json_object *table_json(const struct table *t);
/* Prints a JSON document the way every command does, and frees it. */
void json_print(json_object *root);
/* The columns' help lines, for a command's --help. */
void table_help(const struct col *cols, unsigned int ncols);
void table_free(struct table *t);

#endif /* POOLCTL_COLS_H */
