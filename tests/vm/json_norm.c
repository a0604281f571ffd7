// SPDX-License-Identifier: LGPL-2.1-or-later
/* Turns `poolctl status -J` output into plain lines the VM suite can diff. */

/*
 * json_norm status FILE
 *	One line per node and per pool, in the order poolctl printed them:
 *	  node N
 *	  pool N PAGE_SIZE TOTAL FREE SURPLUS
 *	  global PAGE_SIZE TOTAL FREE RESV SURPLUS OVERCOMMIT
 *	A missing key or a value that is not an integer prints as "?", so a
 *	diff against what the shell read from sysfs shows it.
 *
 * json_norm flat FILE
 *	Every scalar as "path=value" (path like nodes[0].pools[1].free_pages),
 *	in document order, for comparing two whole documents key by key.
 *
 * Exit status: 0, or 1 when FILE is not a JSON object (message on stderr).
 */

#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

static void put_int(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_int)) {
		fputs(" ?", stdout);
		return;
	}
	printf(" %lld", (long long)json_object_get_int64(v));
}

static struct json_object *get_array(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (!obj || !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

static int norm_status(struct json_object *root)
{
	struct json_object *nodes, *global, *pools;
	size_t i, j;

	nodes = get_array(root, "nodes");
	if (!nodes) {
		puts("nodes ?");
	} else {
		for (i = 0; i < json_object_array_length(nodes); i++) {
			struct json_object *n = json_object_array_get_idx(nodes, i);
			struct json_object *id;
			long long node = -1;

			if (json_object_object_get_ex(n, "node", &id) &&
			    json_object_is_type(id, json_type_int)) {
				node = json_object_get_int64(id);
				printf("node %lld\n", node);
			} else {
				puts("node ?");
			}
			pools = get_array(n, "pools");
			if (!pools) {
				printf("pools %lld ?\n", node);
				continue;
			}
			for (j = 0; j < json_object_array_length(pools); j++) {
				struct json_object *p;

				p = json_object_array_get_idx(pools, j);
				printf("pool %lld", node);
				put_int(p, "page_size");
				put_int(p, "total_pages");
				put_int(p, "free_pages");
				put_int(p, "surplus_pages");
				putchar('\n');
			}
		}
	}

	if (!json_object_object_get_ex(root, "global", &global) ||
	    !(pools = get_array(global, "pools"))) {
		puts("global ?");
		return 0;
	}
	for (j = 0; j < json_object_array_length(pools); j++) {
		struct json_object *p = json_object_array_get_idx(pools, j);

		fputs("global", stdout);
		put_int(p, "page_size");
		put_int(p, "total_pages");
		put_int(p, "free_pages");
		put_int(p, "resv_pages");
		put_int(p, "surplus_pages");
		put_int(p, "overcommit_pages");
		putchar('\n');
	}
	return 0;
}

static void flatten(struct json_object *v, char *path, size_t len, size_t cap)
{
	size_t i;

	switch (json_object_get_type(v)) {
	case json_type_object: {
		json_object_object_foreach(v, key, child) {
			snprintf(path + len, cap - len, "%s%s",
				 len ? "." : "", key);
			flatten(child, path, strlen(path), cap);
		}
		if (json_object_object_length(v) == 0)
			printf("%s={}\n", path);
		break;
	}
	case json_type_array:
		for (i = 0; i < json_object_array_length(v); i++) {
			snprintf(path + len, cap - len, "[%zu]", i);
			flatten(json_object_array_get_idx(v, i), path,
				strlen(path), cap);
		}
		if (json_object_array_length(v) == 0)
			printf("%s=[]\n", path);
		break;
	default:
		path[len] = '\0';
		printf("%s=%s\n", path,
		       json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
		break;
	}
	path[len] = '\0';
}

/* Parse all of FILE; anything but whitespace after the object is an error. */
static struct json_object *parse_file(const char *name)
{
	static char buf[1 << 20];
	struct json_tokener *tok;
	struct json_object *obj;
	size_t len, end;
	FILE *f;

	f = fopen(name, "r");
	if (!f) {
		perror(name);
		return NULL;
	}
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	tok = json_tokener_new();
	if (!tok)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	end = json_tokener_get_parse_end(tok);
	if (!obj) {
		enum json_tokener_error err = json_tokener_get_error(tok);

		fprintf(stderr, "json_norm: %s: %s at offset %zu\n", name,
			err == json_tokener_continue ? "empty or truncated" :
			json_tokener_error_desc(err), end);
	} else if (strspn(buf + end, " \t\r\n") != len - end) {
		fprintf(stderr, "json_norm: %s: trailing data at offset %zu\n",
			name, end);
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

int main(int argc, char **argv)
{
	struct json_object *root;
	char path[4096] = "";

	if (argc != 3 || (strcmp(argv[1], "status") && strcmp(argv[1], "flat"))) {
		fprintf(stderr, "usage: json_norm status|flat FILE\n");
		return 2;
	}
	root = parse_file(argv[2]);
	if (!root)
		return 1;
	if (!json_object_is_type(root, json_type_object)) {
		fprintf(stderr, "json_norm: %s: not a JSON object\n", argv[2]);
		json_object_put(root);
		return 1;
	}
	if (!strcmp(argv[1], "status"))
		norm_status(root);
	else
		flatten(root, path, 0, sizeof(path));
	json_object_put(root);
	return 0;
}
