// SPDX-License-Identifier: LGPL-2.1-or-later
/* qstream_drive.h: runs one input through the migration stream reader and checks its promises. */
#ifndef QSTREAM_DRIVE_H
#define QSTREAM_DRIVE_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* relative to this file, so it builds with -I. (unit) and -Iinclude (fuzz) */
#include "../../backend/qstream.h"

/* test_qstream turns a broken promise into a cmocka failure; the fuzzer aborts */
#include "t_drive.h"
#ifndef QD_CHECK
#define QD_CHECK(cond) T_DRIVE_CHECK(cond)
#endif

/* Parses a heap copy of exactly len bytes (ASan sees any read past it). */
static inline int qd_parse(const uint8_t *data, size_t len,
			   struct qs_stream *s)
{
	uint8_t *copy = malloc(len ? len : 1);
	int ret;

	QD_CHECK(copy);
	if (len)
		memcpy(copy, data, len);
	ret = qs_parse_mem(copy, len, s);
	free(copy);
	return ret;
}

static inline int qd_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* What an accepted stream promises about itself. */
static inline void qd_check_ok(const struct qs_stream *s, size_t len)
{
	uint64_t sum = 0;

	QD_CHECK(s->end >= 8 && s->end <= len);
	QD_CHECK(s->stop >= QS_STOP_EOF && s->stop <= QS_STOP_PACKAGED);
	QD_CHECK(s->has_ram || !s->nr_blocks);
	QD_CHECK(s->nr_blocks <= QS_MAX_BLOCKS && s->nr_vmem <= QS_MAX_VMEM);
	for (unsigned int i = 0; i < s->nr_blocks; i++) {
		const struct qs_block *b = &s->blocks[i];

		QD_CHECK(b->id[0] && strlen(b->id) <= QS_ID_MAX);
		QD_CHECK(b->used_length > 0 && b->offset < s->end);
		QD_CHECK(!b->page_size || (qd_pow2(b->page_size) &&
			 b->page_size > s->target_page_size));
		QD_CHECK(!b->page_size || s->advise_len == 16);
		sum += b->used_length;
	}
	QD_CHECK(sum == s->ram_total);
	for (unsigned int i = 0; i < s->nr_vmem; i++) {
		const struct qs_vmem *v = &s->vmem[i];
		size_t ql = strlen(v->qdev);

		QD_CHECK(ql >= 1 && v->qdev[ql - 1] == '/');
		QD_CHECK(qd_pow2(v->block_size));
		QD_CHECK(v->region_size && v->region_size % v->block_size == 0);
		QD_CHECK(v->plugged <= v->region_size);
		QD_CHECK(v->plugged % v->block_size == 0);
	}
}

/*
 * One input: returns the parser's result. Beyond ASan/UBSan: a failure
 * is -EINVAL or -EPROTO with a reason and an offset inside the input; a
 * success consumed end bytes of it, and exactly those: the prefix of end
 * bytes is accepted alike, one byte less is "truncated" at end - 1.
 */
static inline int qd_run(const uint8_t *data, size_t len)
{
	struct qs_stream s, t;
	int ret = qd_parse(data, len, &s), ret2;

	if (ret) {
		QD_CHECK(ret == -EINVAL || ret == -EPROTO);
		QD_CHECK(s.err[0] && s.err_off <= len);
		QD_CHECK(s.end <= len);
		qs_free(&s);
		return ret;
	}
	qd_check_ok(&s, len);
	ret2 = qd_parse(data, (size_t)s.end, &t);
	QD_CHECK(ret2 == 0 && t.end == s.end && t.nr_blocks == s.nr_blocks &&
		 t.nr_vmem == s.nr_vmem && t.stop == s.stop);
	qs_free(&t);
	ret2 = qd_parse(data, (size_t)s.end - 1, &t);
	QD_CHECK(ret2 == -EINVAL && t.err_off == s.end - 1 &&
		 strstr(t.err, "truncated"));
	qs_free(&t);
	qs_free(&s);
	return 0;
}

#endif
