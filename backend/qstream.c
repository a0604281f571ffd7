// SPDX-License-Identifier: LGPL-2.1-or-later
/* qstream.c: reads the start of a QEMU migration stream (header, configuration, RAM block list, virtio-mem early sections) from an fd or a buffer, never past its first page data. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qstream.h"

/* The layout: ../shared/reference/qemu-migration-stream.md (big-endian). */
#define QEVM_MAGIC	0x5145564du
#define REC_EOF		0x00
#define REC_START	0x01
#define REC_PART	0x02
#define REC_END		0x03
#define REC_FULL	0x04
#define REC_SUB		0x05
#define REC_VMDESC	0x06
#define REC_CONFIG	0x07
#define REC_COMMAND	0x08
#define REC_FOOTER	0x7e

#define CMD_OPEN_RP	1
#define CMD_PING	2
#define CMD_ADVISE	3
#define CMD_LISTEN	4
#define CMD_RUN		5
#define CMD_PACKAGED	7
#define CMD_COLO	8
#define CMD_RESUME	9
#define CMD_SWITCHOVER	11

#define RAM_MEM_SIZE	0x04	/* RAM_SAVE_FLAG_MEM_SIZE */
#define RAM_EOS		0x10
#define RAM_MF_FLUSH	0x200	/* multifd flush, before EOS */

#define EARLY_SUFFIX	"virtio-mem-device-early"
#define MAX_CAPS	64
#define MAX_BITMAP_BITS	(1ull << 32)

/* The parser's view of its source: bytes consumed, up to 8 peeked. */
struct qr {
	qs_read_fn read;
	void *ctx;
	uint64_t off;		/* bytes consumed by the parser */
	uint8_t pb[8];		/* peeked, not consumed yet */
	size_t npb;
	struct qs_stream *s;
};

__attribute__((format(printf, 3, 4)))
static int fail(struct qr *r, uint64_t off, const char *fmt, ...)
{
	va_list ap;

	r->s->err_off = off;
	va_start(ap, fmt);
	vsnprintf(r->s->err, sizeof(r->s->err), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Fills r->pb up to want bytes (<= 8). */
static int fill(struct qr *r, size_t want, const char *what)
{
	while (r->npb < want) {
		ssize_t n = r->read(r->ctx, r->pb + r->npb, want - r->npb);

		if (n < 0) {
			r->s->err_off = r->off + r->npb;
			snprintf(r->s->err, sizeof(r->s->err),
				 "read error in %s: %s", what, strerror((int)-n));
			return (int)n;
		}
		if (n == 0)
			return fail(r, r->off + r->npb,
				    "truncated: the stream ends in %s", what);
		r->npb += (size_t)n;
	}
	return 0;
}

/* Exactly n bytes into buf (NULL: dropped), what names them in errors. */
static int get(struct qr *r, void *buf, size_t n, const char *what)
{
	uint8_t *p = buf, sink[512];
	size_t take = n < r->npb ? n : r->npb;
	int ret;

	if (p)
		memcpy(p, r->pb, take);
	memmove(r->pb, r->pb + take, r->npb - take);
	r->npb -= take;
	r->off += take;
	for (size_t done = take; done < n;) {
		size_t want = n - done;

		if (!p && want > sizeof(sink))
			want = sizeof(sink);
		ret = (int)r->read(r->ctx, p ? p + done : sink, want);
		if (ret < 0) {
			r->s->err_off = r->off;
			snprintf(r->s->err, sizeof(r->s->err),
				 "read error in %s: %s", what, strerror(-ret));
			return ret;
		}
		if (ret == 0)
			return fail(r, r->off, "truncated: the stream ends in %s",
				    what);
		done += (size_t)ret;
		r->off += (uint64_t)ret;
	}
	return 0;
}

static int peek(struct qr *r, void *buf, size_t n, const char *what)
{
	int ret = fill(r, n, what);

	if (!ret)
		memcpy(buf, r->pb, n);
	return ret;
}

static uint64_t be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static int get_be(struct qr *r, size_t n, uint64_t *v, const char *what)
{
	uint8_t b[8];
	int ret = get(r, b, n, what);

	if (!ret)
		*v = be(b, n);
	return ret;
}

#define GET(r, n, v, what)					\
	do {							\
		int ret_ = get_be((r), (n), (v), (what));	\
		if (ret_)					\
			return ret_;				\
	} while (0)

/* A u8 length and that many bytes into str (NUL-terminated). */
static int get_str(struct qr *r, char *str, const char *what)
{
	uint64_t len;
	int ret;

	GET(r, 1, &len, what);
	ret = get(r, str, (size_t)len, what);
	if (!ret)
		str[len] = '\0';
	return ret;
}

/* ---- configuration ----------------------------------------------------- */

static int config_caps(struct qr *r)
{
	uint64_t count, off = r->off;
	char name[QS_ID_MAX + 1];
	int ret;

	GET(r, 4, &count, "the capability count");
	if (count > MAX_CAPS)
		return fail(r, off, "%llu capabilities in the configuration",
			    (unsigned long long)count);
	for (uint64_t i = 0; i < count; i++) {
		off = r->off;
		ret = get_str(r, name, "a capability name");
		if (ret)
			return ret;
		if (!strcmp(name, "x-ignore-shared"))
			r->s->ignore_shared = true;
		/* its block list points into a file it seeks in */
		if (!strcmp(name, "mapped-ram"))
			return fail(r, off, "a mapped-ram stream is not "
				    "supported (it is not sequential)");
	}
	return 0;
}

static int config_sub(struct qr *r)
{
	char name[QS_ID_MAX + 1];
	uint64_t off = r->off, v;
	uint8_t uuid[16];
	int ret;

	ret = get_str(r, name, "a configuration subsection name");
	if (ret)
		return ret;
	GET(r, 4, &v, "a subsection version");
	if (!strcmp(name, "configuration/target-page-bits")) {
		off = r->off;
		GET(r, 4, &v, "the target page bits");
		if (v < 10 || v > 30)
			return fail(r, off, "target page bits %llu",
				    (unsigned long long)v);
		r->s->target_page_size = 1ull << v;
		return 0;
	}
	if (!strcmp(name, "configuration/capabilities"))
		return config_caps(r);
	if (!strcmp(name, "configuration/uuid"))
		return get(r, uuid, sizeof(uuid), "the uuid");
	/* a subsection has no length: one not known cannot be skipped */
	return fail(r, off, "unknown configuration subsection '%s'", name);
}

static int parse_config(struct qr *r)
{
	uint64_t len, off = r->off;
	uint8_t t;
	int ret;

	GET(r, 4, &len, "the machine name length");
	if (len > QS_ID_MAX)
		return fail(r, off, "a machine name of %llu bytes",
			    (unsigned long long)len);
	ret = get(r, r->s->machine, (size_t)len, "the machine name");
	if (ret)
		return ret;
	r->s->machine[len] = '\0';
	r->s->has_config = true;
	for (;;) {
		ret = peek(r, &t, 1, "the record after the configuration");
		if (ret || t != REC_SUB)
			return ret;
		ret = get(r, NULL, 1, "a subsection");
		if (!ret)
			ret = config_sub(r);
		if (ret)
			return ret;
	}
}

/* ---- commands ---------------------------------------------------------- */

/* The length a command must have, -1: any. */
static int cmd_fixed_len(uint64_t cmd)
{
	switch (cmd) {
	case CMD_OPEN_RP: case CMD_LISTEN: case CMD_RUN: case CMD_COLO:
	case CMD_RESUME: case CMD_SWITCHOVER:
		return 0;
	case CMD_PING: case CMD_PACKAGED:
		return 4;
	default:
		return -1;
	}
}

/* 1: a PACKAGED command (a nested stream follows: stop), 0 skipped. */
static int parse_command(struct qr *r)
{
	uint64_t cmd, len, off = r->off;
	int fixed;

	GET(r, 2, &cmd, "a command id");
	GET(r, 2, &len, "a command length");
	fixed = cmd_fixed_len(cmd);
	if (fixed >= 0 && len != (uint64_t)fixed)
		return fail(r, off, "command %llu of length %llu (not %d)",
			    (unsigned long long)cmd, (unsigned long long)len,
			    fixed);
	if (cmd == CMD_ADVISE) {
		if (len != 0 && len != 16)
			return fail(r, off, "postcopy advise of length %llu "
				    "(not 0 or 16)", (unsigned long long)len);
		/* QEMU takes one: its page sizes decide how RAM reads */
		if (r->s->advise_len >= 0)
			return fail(r, off, "a second postcopy advise");
		r->s->advise_len = (int)len;
		if (len) {
			GET(r, 8, &r->s->pagesize_summary,
			    "the postcopy advise");
			return get(r, NULL, 8, "the postcopy advise");
		}
		return 0;
	}
	if (cmd == CMD_PACKAGED) {
		int ret = get(r, NULL, 4, "the package length");

		return ret ? ret : 1;
	}
	return get(r, NULL, (size_t)len, "a command's data");
}

/* ---- the RAM section --------------------------------------------------- */

/*
 * The stream holds a block's page size only when the source had
 * postcopy-ram (an advise of 16 bytes) and the block's page size is not
 * the host's base page. Nothing marks it: it is told from what comes
 * next (the next block's id length, never 0, or the EOS flags) by being
 * a power of two above the target page that the advise's page-size
 * summary (the OR of all block page sizes) contains.
 */
static bool is_page_size(const struct qs_stream *s, uint64_t v)
{
	return v && !(v & (v - 1)) && v > s->target_page_size &&
	       (v & s->pagesize_summary);
}

static int add_block(struct qr *r, const struct qs_block *b)
{
	struct qs_stream *s = r->s;
	struct qs_block *nb;

	if (s->nr_blocks == QS_MAX_BLOCKS)
		return fail(r, b->offset, "more than %d RAM blocks",
			    QS_MAX_BLOCKS);
	/* capacity: 8, then doubled whenever it is full */
	if (!s->nr_blocks ||
	    (s->nr_blocks >= 8 && !(s->nr_blocks & (s->nr_blocks - 1)))) {
		size_t cap = s->nr_blocks ? (size_t)s->nr_blocks * 2 : 8;

		nb = realloc(s->blocks, cap * sizeof(*nb));
		if (!nb)
			return -ENOMEM;
		s->blocks = nb;
	}
	s->blocks[s->nr_blocks++] = *b;
	return 0;
}

static int parse_ram_block(struct qr *r, uint64_t *remaining)
{
	struct qs_block b = { .offset = r->off };
	uint64_t off, v;
	uint8_t pb[8];
	int ret;

	ret = get_str(r, b.id, "a RAM block id");
	if (ret)
		return ret;
	if (!b.id[0])
		return fail(r, b.offset, "a RAM block with an empty id");
	off = r->off;
	GET(r, 8, &b.used_length, "a RAM block's length");
	if (!b.used_length || b.used_length > *remaining)
		return fail(r, off, "RAM block '%s' of %llu bytes (%llu of the "
			    "section's total left)", b.id,
			    (unsigned long long)b.used_length,
			    (unsigned long long)*remaining);
	if (r->s->advise_len == 16) {
		ret = peek(r, pb, 8, "a RAM block's page size");
		if (ret)
			return ret;
		if (is_page_size(r->s, be(pb, 8))) {
			b.page_size = be(pb, 8);
			get(r, NULL, 8, "");	/* peeked: cannot fail */
		}
	}
	if (r->s->ignore_shared)
		GET(r, 8, &v, "a RAM block's address");
	*remaining -= b.used_length;
	return add_block(r, &b);
}

static int parse_ram(struct qr *r)
{
	uint64_t v, off = r->off, mask = r->s->target_page_size - 1;
	uint64_t remaining;
	int ret;

	GET(r, 8, &v, "the RAM section's total");
	if ((v & mask) != RAM_MEM_SIZE)
		return fail(r, off, "the RAM section starts with flags 0x%llx, "
			    "not its total size", (unsigned long long)(v & mask));
	r->s->ram_total = remaining = v & ~mask;
	r->s->has_ram = true;
	while (remaining) {
		ret = parse_ram_block(r, &remaining);
		if (ret)
			return ret;
	}
	do {
		off = r->off;
		GET(r, 8, &v, "the RAM section's end");
	} while (v == RAM_MF_FLUSH);
	if (v != RAM_EOS)
		return fail(r, off, "0x%llx where the RAM section's end (EOS) "
			    "belongs", (unsigned long long)v);
	return 0;
}

/* ---- virtio-mem early sections ----------------------------------------- */

/* Counts the set bits of an nbits bitmap of be64 words. */
static int vmem_bitmap(struct qr *r, uint64_t nbits, uint64_t *count)
{
	uint64_t words = (nbits + 63) / 64, w, off;
	uint8_t buf[512];
	int ret;

	*count = 0;
	for (uint64_t i = 0; i < words;) {
		size_t n = words - i > 64 ? 64 : (size_t)(words - i);

		off = r->off;
		ret = get(r, buf, n * 8, "the virtio-mem bitmap");
		if (ret)
			return ret;
		for (size_t k = 0; k < n; k++, i++) {
			w = be(buf + k * 8, 8);
			if (i == words - 1 && nbits % 64 &&
			    w >> (nbits % 64))
				return fail(r, off + k * 8, "the virtio-mem "
					    "bitmap has bits past its %llu "
					    "blocks", (unsigned long long)nbits);
			*count += (uint64_t)__builtin_popcountll(w);
		}
	}
	return 0;
}

static int vmem_add(struct qr *r, const struct qs_vmem *v)
{
	struct qs_stream *s = r->s;
	struct qs_vmem *nv;

	for (unsigned int i = 0; i < s->nr_vmem; i++)
		if (!strcmp(s->vmem[i].qdev, v->qdev))
			return fail(r, v->offset, "a second virtio-mem early "
				    "section of '%s'", v->qdev);
	if (s->nr_vmem == QS_MAX_VMEM)
		return fail(r, v->offset, "more than %d virtio-mem devices",
			    QS_MAX_VMEM);
	nv = realloc(s->vmem, (s->nr_vmem + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	s->vmem = nv;
	s->vmem[s->nr_vmem++] = *v;
	return 0;
}

static int parse_early(struct qr *r, const char *idstr, uint64_t sec_off)
{
	struct qs_vmem v = { .offset = sec_off };
	uint64_t rs_off, bs_off, sz_off, node, nbits, count, need;
	int ret;

	memcpy(v.qdev, idstr, strlen(idstr) - strlen(EARLY_SUFFIX));
	GET(r, 8, &v.addr, "the virtio-mem address");
	rs_off = r->off;
	GET(r, 8, &v.region_size, "the virtio-mem region size");
	bs_off = r->off;
	GET(r, 8, &v.block_size, "the virtio-mem block size");
	GET(r, 4, &node, "the virtio-mem node");
	v.node = (uint32_t)node;
	if (!v.block_size || (v.block_size & (v.block_size - 1)))
		return fail(r, bs_off, "virtio-mem block size %llu",
			    (unsigned long long)v.block_size);
	nbits = v.region_size / v.block_size;
	if (!v.region_size || v.region_size % v.block_size ||
	    nbits > MAX_BITMAP_BITS)
		return fail(r, rs_off, "virtio-mem region of %llu bytes in "
			    "blocks of %llu", (unsigned long long)v.region_size,
			    (unsigned long long)v.block_size);
	sz_off = r->off;
	GET(r, 8, &v.plugged, "the virtio-mem plugged size");
	ret = vmem_bitmap(r, nbits, &count);
	if (ret)
		return ret;
	/* count <= nbits: count * block_size <= region_size, no overflow */
	need = count * v.block_size;
	if (v.plugged != need)
		return fail(r, sz_off, "virtio-mem plugged size %llu, but its "
			    "bitmap has %llu blocks of %llu",
			    (unsigned long long)v.plugged,
			    (unsigned long long)count,
			    (unsigned long long)v.block_size);
	return vmem_add(r, &v);
}

/* ---- sections ---------------------------------------------------------- */

static int parse_footer(struct qr *r, uint64_t section_id)
{
	uint64_t off = r->off, id;
	uint8_t t;
	int ret;

	/* machine types without a configuration (<= 2.3) send no footers */
	if (!r->s->has_config) {
		ret = peek(r, &t, 1, "the record after a section");
		if (ret || t != REC_FOOTER)
			return ret;
	}
	GET(r, 1, &id, "a section footer");
	if (id != REC_FOOTER)
		return fail(r, off, "0x%02llx where the section footer belongs",
			    (unsigned long long)id);
	off = r->off;
	GET(r, 4, &id, "a section footer");
	if (id != section_id)
		return fail(r, off, "the footer of section %llu ends section "
			    "%llu", (unsigned long long)id,
			    (unsigned long long)section_id);
	return 0;
}

static bool is_early(const char *idstr)
{
	size_t n = strlen(idstr), k = strlen(EARLY_SUFFIX);

	return n > k && idstr[n - k - 1] == '/' &&
	       !strcmp(idstr + n - k, EARLY_SUFFIX);
}

/* 1: a section it does not read (stop before it), 0: read. */
static int parse_section(struct qr *r, uint8_t type, uint64_t sec_off)
{
	char idstr[QS_ID_MAX + 1];
	uint64_t sid, inst, ver, off;
	int ret;

	GET(r, 4, &sid, "a section header");
	off = r->off;
	ret = get_str(r, idstr, "a section name");
	if (ret)
		return ret;
	if (!idstr[0])
		return fail(r, off, "a section without a name");
	GET(r, 4, &inst, "a section header");
	off = r->off;
	GET(r, 4, &ver, "a section header");
	if (!strcmp(idstr, "ram")) {
		if (type != REC_START || r->s->has_ram)
			return fail(r, sec_off, "a second or full RAM section");
		if (ver != 4)
			return fail(r, off, "RAM section version %llu (not 4)",
				    (unsigned long long)ver);
		ret = parse_ram(r);
	} else if (type == REC_FULL && is_early(idstr)) {
		if (ver != 1)
			return fail(r, off, "virtio-mem early section version "
				    "%llu (not 1)", (unsigned long long)ver);
		ret = parse_early(r, idstr, sec_off);
	} else {
		memcpy(r->s->stop_id, idstr, sizeof(idstr));
		r->s->stop_start = type == REC_START;
		return 1;
	}
	return ret ? ret : parse_footer(r, sid);
}

/* ---- the stream -------------------------------------------------------- */

static int parse_header(struct qr *r)
{
	uint64_t magic, ver;

	GET(r, 4, &magic, "the header");
	if (magic != QEVM_MAGIC)
		return fail(r, 0, "not a QEMU migration stream (magic 0x%08llx)",
			    (unsigned long long)magic);
	GET(r, 4, &ver, "the header");
	if (ver == 2) {
		fail(r, 4, "stream version 2: an obsolete format (QEMU writes "
		     "version 3)");
		return -EPROTO;
	}
	if (ver != 3)
		return fail(r, 4, "stream version %llu (only 3 is known)",
			    (unsigned long long)ver);
	return 0;
}

/* One record: 1 stop (s->stop says why), 0 go on, < 0 failed. */
static int parse_record(struct qr *r, bool first)
{
	uint64_t off = r->off, t;
	int ret;

	GET(r, 1, &t, "a record type");
	switch (t) {
	case REC_EOF:
		r->s->stop = QS_STOP_EOF;
		return 1;
	case REC_PART: case REC_END:
		r->s->stop = QS_STOP_PART;
		return 1;
	case REC_CONFIG:
		if (!first)
			return fail(r, off, "a configuration record not right "
				    "after the header");
		return parse_config(r);
	case REC_COMMAND:
		ret = parse_command(r);
		if (ret == 1)
			r->s->stop = QS_STOP_PACKAGED;
		return ret;
	case REC_START: case REC_FULL:
		ret = parse_section(r, (uint8_t)t, off);
		if (ret == 1)
			r->s->stop = QS_STOP_SECTION;
		return ret;
	default:
		return fail(r, off, "record type 0x%02llx%s",
			    (unsigned long long)t,
			    t == REC_SUB || t == REC_VMDESC || t == REC_FOOTER ?
			    " out of place" : " unknown");
	}
}

int qs_parse(qs_read_fn read, void *ctx, struct qs_stream *s)
{
	struct qr r = { .read = read, .ctx = ctx, .s = s };
	int ret;

	memset(s, 0, sizeof(*s));
	s->target_page_size = 4096;
	s->advise_len = -1;
	ret = parse_header(&r);
	for (bool first = true; !ret; first = false)
		ret = parse_record(&r, first);
	s->end = r.off;
	return ret < 0 ? ret : 0;
}

struct mem_src {
	const uint8_t *p;
	size_t left;
};

static ssize_t mem_read(void *ctx, void *buf, size_t n)
{
	struct mem_src *m = ctx;

	if (n > m->left)
		n = m->left;
	if (!n)
		return 0;
	memcpy(buf, m->p, n);
	m->p += n;
	m->left -= n;
	return (ssize_t)n;
}

int qs_parse_mem(const void *buf, size_t len, struct qs_stream *s)
{
	struct mem_src m = { .p = buf, .left = len };

	return qs_parse(mem_read, &m, s);
}

static ssize_t fd_read(void *ctx, void *buf, size_t n)
{
	ssize_t got;

	do
		got = read(*(int *)ctx, buf, n);
	while (got < 0 && errno == EINTR);
	return got < 0 ? -errno : got;
}

int qs_parse_fd(int fd, struct qs_stream *s)
{
	return qs_parse(fd_read, &fd, s);
}

void qs_free(struct qs_stream *s)
{
	free(s->blocks);
	free(s->vmem);
	s->blocks = NULL;
	s->vmem = NULL;
	s->nr_blocks = s->nr_vmem = 0;
}
