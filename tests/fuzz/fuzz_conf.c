// SPDX-License-Identifier: LGPL-2.1-or-later
/* fuzz_conf.c: libFuzzer harness feeding any text to rampool.conf(5)'s parser (tools/conf.c). */

/*
 * Input: the file's text. Beyond ASan/UBSan, a run aborts when the parser
 * breaks a promise: a failure that is not -EINVAL (or -ENOMEM) with one
 * line "f:LINE: ..." naming a line of the text, or that leaves sections
 * behind; a success with more sections than the limit, a reservation
 * whose nodes do not add up to its size, a count or node out of range.
 *
 * Build and run: make fuzz [FUZZ_SECONDS=180]
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../tools/conf.h"

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned int lines(const uint8_t *data, size_t size)
{
	unsigned int n = 1;

	for (size_t i = 0; i < size; i++)
		n += data[i] == '\n';
	return n;
}

static void check_ok(const struct conf *c)
{
	CHECK(c->nr_pages <= CONF_MAX_SECTIONS && c->nr_warm <=
	      CONF_MAX_SECTIONS && c->nr_res <= CONF_MAX_SECTIONS);
	for (unsigned int i = 0; i < c->nr_pages; i++) {
		CHECK(c->pages[i].nr > 0 && c->pages[i].nr <= CONF_MAX_NODES);
		CHECK(c->pages[i].page_size > 4096 &&
		      !(c->pages[i].page_size & (c->pages[i].page_size - 1)));
		for (unsigned int k = 0; k < c->pages[i].nr; k++)
			CHECK(c->pages[i].n[k].node <= CONF_MAX_NODE &&
			      c->pages[i].n[k].count <= (1ULL << 40));
	}
	for (unsigned int i = 0; i < c->nr_warm; i++)
		CHECK(c->warm[i].node >= 0 && c->warm[i].size > 0 &&
		      strlen(c->warm[i].label) > 0);
	for (unsigned int i = 0; i < c->nr_res; i++) {
		const struct conf_res *r = &c->res[i];
		uint64_t sum = 0;

		CHECK(r->size > 0 && r->nr_nodes < CONF_MAX_NODES);
		for (unsigned int k = 0; k < r->nr_nodes; k++)
			sum += r->nodes[k].size;
		CHECK(!r->nr_nodes || sum == r->size);
		CHECK(!r->page_size || !(r->size % r->page_size));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf c = { 0 };
	char err[512];
	unsigned long line;
	char *end;
	int ret;

	err[0] = '\0';
	ret = conf_parse((const char *)data, size, "f", &c, err, sizeof(err));
	if (!ret) {
		check_ok(&c);
		conf_free(&c);
		return 0;
	}
	CHECK(ret == -EINVAL || ret == -ENOMEM);
	CHECK(!c.pages && !c.warm && !c.res);
	if (ret == -EINVAL) {
		CHECK(!strncmp(err, "f:", 2));
		line = strtoul(err + 2, &end, 10);
		CHECK(line >= 1 && line <= lines(data, size) && *end == ':');
		CHECK(!strchr(err, '\n'));
	}
	return 0;
}
