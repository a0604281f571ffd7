/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qstream.h: reads the start of a QEMU migration stream (header, configuration, RAM block list, virtio-mem early sections) from an fd or a buffer, never past its first page data. */
#ifndef RP_QSTREAM_H
#define RP_QSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define QS_ID_MAX 255		/* an idstr's length is a u8 */
#define QS_MAX_BLOCKS 8192	/* more RAM blocks than any VM has: corrupt */
#define QS_MAX_VMEM 256		/* virtio-mem devices */

/* One entry of the RAM section's block list. */
struct qs_block {
	char id[QS_ID_MAX + 1];
	uint64_t used_length;
	/* 0: the stream does not say (it does only with postcopy-ram, for
	 * a block whose page size is not the host's base page) */
	uint64_t page_size;
	uint64_t offset;	/* of its id length byte */
};

/* One "<qdev>/virtio-mem-device-early" section. */
struct qs_vmem {
	char qdev[QS_ID_MAX + 1];	/* "<qdev path>/": the shared prefix */
	uint64_t addr, region_size, block_size;
	uint64_t plugged;		/* bytes: popcount(bitmap) * block_size */
	uint32_t node;			/* the guest's NUMA node */
	uint64_t offset;		/* of its section record */
};

/* Why the reader stopped (successfully). */
enum qs_stop {
	QS_STOP_EOF = 1,	/* an EOF record */
	QS_STOP_PART,		/* a SECTION_PART or SECTION_END: page data */
	QS_STOP_SECTION,	/* a START/FULL section it does not read */
	QS_STOP_PACKAGED,	/* a PACKAGED command: a nested stream */
};

struct qs_stream {
	char machine[QS_ID_MAX + 1];	/* "" without a configuration */
	bool has_config;
	uint64_t target_page_size;	/* target-page-bits, else 4096 */
	bool ignore_shared;		/* x-ignore-shared: a gpa per block */
	int advise_len;			/* POSTCOPY_ADVISE: -1 none, 0, 16 */
	uint64_t pagesize_summary;	/* ADVISE's OR of block page sizes */
	bool has_ram;
	uint64_t ram_total;		/* the RAM section's total */
	struct qs_block *blocks;
	unsigned int nr_blocks;
	struct qs_vmem *vmem;
	unsigned int nr_vmem;
	enum qs_stop stop;
	char stop_id[QS_ID_MAX + 1];	/* QS_STOP_SECTION: its idstr */
	bool stop_start;		/* ... and it is a SECTION_START */
	uint64_t end;			/* bytes consumed */
	/* on failure: where and why (one line, no newline) */
	uint64_t err_off;
	char err[160];
};

/*
 * The source of the bytes: fills buf with up to n bytes, returns how many
 * (0: the end) or -errno. Called only for bytes the parser needs.
 */
typedef ssize_t (*qs_read_fn)(void *ctx, void *buf, size_t n);

/*
 * Parses a stream from read/ctx into *s (zeroed first; qs_free it, also
 * after a failure). 0; -EINVAL truncated, corrupt or unsupported (the
 * byte offset in s->err_off, the reason in s->err); -EPROTO the
 * obsolete version 2; -ENOMEM; a read error's -errno.
 */
int qs_parse(qs_read_fn read, void *ctx, struct qs_stream *s);
/* The same over len bytes at buf (never read past buf + len). */
int qs_parse_mem(const void *buf, size_t len, struct qs_stream *s);
/* The same from fd (a file or a pipe), read as needed, no seeking: fd is
 * left just past the last byte parsed. */
int qs_parse_fd(int fd, struct qs_stream *s);
void qs_free(struct qs_stream *s);

#endif
