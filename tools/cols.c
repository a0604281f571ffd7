// SPDX-License-Identifier: LGPL-2.1-or-later
/* cols.c: tables described by their columns, printed aligned, raw or as JSON. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "cols.h"

#define CELL 64

static struct cell *cell_at(const struct table *t, int r, unsigned int c)
{
	return &t->cells[(size_t)r * t->ncols + c];
}

const struct cell *table_cell(const struct table *t, int r, unsigned int c)
{
	return cell_at(t, r, c);
}

int table_row(struct table *t)
{
	if (t->nrows == t->cap) {
		unsigned int cap = t->cap ? t->cap * 2 : 16;
		struct cell *n = realloc(t->cells, (size_t)cap * t->ncols *
						   sizeof(*n));

		if (!n)
			return -ENOMEM;
		t->cells = n;
		t->cap = cap;
	}
	memset(cell_at(t, (int)t->nrows, 0), 0, t->ncols * sizeof(*t->cells));
	return (int)t->nrows++;
}

int table_str(struct table *t, int r, unsigned int c, const char *s)
{
	struct cell *x = cell_at(t, r, c);
	char *d = strdup(s);

	if (!d)
		return -ENOMEM;
	free(x->s);
	x->s = d;
	x->set = true;
	return 0;
}

void table_u64(struct table *t, int r, unsigned int c, uint64_t v)
{
	struct cell *x = cell_at(t, r, c);

	x->u = v;
	x->set = true;
}

void table_int(struct table *t, int r, unsigned int c, int64_t v)
{
	struct cell *x = cell_at(t, r, c);

	x->i = v;
	x->set = true;
}

int table_nested(struct table *t, int r, unsigned int c, const char *text,
		 json_object *j)
{
	struct cell *x = cell_at(t, r, c);

	if (!j || table_str(t, r, c, text)) {
		json_object_put(j);
		return -ENOMEM;
	}
	json_object_put(x->j);
	x->j = j;
	return 0;
}

/* The cell as the table shows it, in buf or a string it points to. */
static const char *cell_text(const struct table *t, int r, unsigned int c,
			     bool bytes, char *buf, size_t len)
{
	const struct cell *x = cell_at(t, r, c);
	time_t when;
	struct tm tm;

	if (!x->set)
		return "-";
	switch (t->cols[c].type) {
	case COL_STR:
	case COL_NESTED:
		return x->s;
	case COL_BYTES:
		return size_str(buf, len, x->u, bytes);
	case COL_COUNT:
		snprintf(buf, len, "%" PRIu64, x->u);
		return buf;
	case COL_INT:
		snprintf(buf, len, "%" PRId64, x->i);
		return buf;
	case COL_TIME:
		when = (time_t)x->i;
		if (!localtime_r(&when, &tm) ||
		    !strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm))
			snprintf(buf, len, "%" PRId64, x->i);
		return buf;
	case COL_BOOL:
		return x->u ? "yes" : "no";
	}
	return "-";
}

void table_print(const struct table *t, const struct out_opts *o)
{
	size_t w[32] = { 0 };
	char buf[CELL];
	bool heads = !o->noheadings;

	for (unsigned int c = 0; c < t->ncols && c < ARRAY_SIZE(w); c++) {
		w[c] = heads ? strlen(t->cols[c].name) : 0;
		for (unsigned int r = 0; r < t->nrows; r++) {
			size_t l = strlen(cell_text(t, (int)r, c, o->bytes,
						    buf, sizeof(buf)));

			if (l > w[c])
				w[c] = l;
		}
	}
	for (int r = heads ? -1 : 0; r < (int)t->nrows; r++) {
		for (unsigned int c = 0; c < t->ncols && c < ARRAY_SIZE(w);
		     c++) {
			const char *s = r < 0 ? t->cols[c].name :
				cell_text(t, r, c, o->bytes, buf, sizeof(buf));
			bool last = c + 1 == t->ncols;

			if (o->raw)
				printf("%s%s", s, last ? "" : " ");
			else if (t->cols[c].flags & COL_LEFT)
				printf("%-*s%s", last ? 0 : (int)w[c], s,
				       last ? "" : "  ");
			else
				printf("%*s%s", (int)w[c], s, last ? "" : "  ");
		}
		putchar('\n');
	}
}

void table_print_row(const struct table *t, int r, const struct out_opts *o)
{
	size_t w = 0;
	char buf[CELL];

	for (unsigned int c = 0; c < t->ncols; c++)
		if (strlen(t->cols[c].name) > w)
			w = strlen(t->cols[c].name);
	for (unsigned int c = 0; c < t->ncols; c++) {
		const char *s = cell_text(t, r, c, o->bytes, buf, sizeof(buf));

		if (o->raw)
			printf("%s %s\n", t->cols[c].name, s);
		else
			printf("%-*s  %s\n", (int)w + 1, t->cols[c].name, s);
	}
}

static json_object *cell_json(const struct table *t, int r, unsigned int c)
{
	const struct cell *x = cell_at(t, r, c);

	if (!x->set)
		return NULL;
	switch (t->cols[c].type) {
	case COL_STR:
		return json_object_new_string(x->s);
	case COL_BYTES:
	case COL_COUNT:
		return json_object_new_uint64(x->u);
	case COL_INT:
	case COL_TIME:
		return json_object_new_int64(x->i);
	case COL_BOOL:
		return json_object_new_boolean(x->u != 0);
	case COL_NESTED:
		return json_object_get(x->j);
	}
	return NULL;
}

json_object *table_json_row(const struct table *t, int r)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	for (unsigned int c = 0; c < t->ncols; c++) {
		json_object *v = cell_json(t, r, c);

		/* json_object_object_add puts v even when it fails */
		if ((!v && cell_at(t, r, c)->set) ||
		    json_object_object_add(o, t->cols[c].key, v)) {
			json_object_put(o);
			return NULL;
		}
	}
	return o;
}

json_object *table_json(const struct table *t)
{
	json_object *a = json_object_new_array();

	for (unsigned int r = 0; a && r < t->nrows; r++) {
		json_object *o = table_json_row(t, (int)r);

		if (!o || json_object_array_add(a, o)) {
			json_object_put(o);
			json_object_put(a);
			return NULL;
		}
	}
	return a;
}

void json_print(json_object *root)
{
	printf("%s\n", json_object_to_json_string_ext(
			       root, JSON_C_TO_STRING_PRETTY |
					     JSON_C_TO_STRING_SPACED |
					     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
}

void table_help(const struct col *cols, unsigned int ncols)
{
	for (unsigned int c = 0; c < ncols; c++)
		if (cols[c].help)
			printf("  %-10s %s\n", cols[c].name, cols[c].help);
}

void table_free(struct table *t)
{
	for (unsigned int r = 0; r < t->nrows; r++)
		for (unsigned int c = 0; c < t->ncols; c++) {
			free(cell_at(t, (int)r, c)->s);
			json_object_put(cell_at(t, (int)r, c)->j);
		}
	free(t->cells);
	t->cells = NULL;
	t->nrows = t->cap = 0;
}
