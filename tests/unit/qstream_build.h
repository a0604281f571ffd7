// SPDX-License-Identifier: LGPL-2.1-or-later
/* qstream_build.h: builds QEMU migration streams byte by byte for the unit tests (after cmocka.h). */
#ifndef QSTREAM_BUILD_H
#define QSTREAM_BUILD_H

#include <stdint.h>
#include <string.h>

#define MB(x) ((uint64_t)(x) << 20)
#define GB(x) ((uint64_t)(x) << 30)

struct sb {
	uint8_t b[16384];
	size_t n;
};

static inline void put(struct sb *s, uint64_t v, size_t bytes)
{
	assert_true(s->n + bytes <= sizeof(s->b));
	for (size_t i = 0; i < bytes; i++)
		s->b[s->n++] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
}

static inline void put_str(struct sb *s, const char *str)
{
	size_t len = strlen(str);

	put(s, len, 1);
	assert_true(s->n + len <= sizeof(s->b));
	memcpy(s->b + s->n, str, len);
	s->n += len;
}

static inline void header(struct sb *s, uint32_t version)
{
	s->n = 0;
	put(s, 0x5145564d, 4);
	put(s, version, 4);
}

/* CONFIGURATION: machine name, the capabilities subsection (caps) */
static inline void config(struct sb *s, const char *machine, const char *cap)
{
	put(s, 0x07, 1);
	put(s, strlen(machine), 4);
	memcpy(s->b + s->n, machine, strlen(machine));
	s->n += strlen(machine);
	if (cap) {
		put(s, 0x05, 1);
		put_str(s, "configuration/capabilities");
		put(s, 1, 4);
		put(s, 1, 4);
		put_str(s, cap);
	}
}

static inline void command(struct sb *s, uint16_t cmd, uint16_t len,
			   const uint8_t *data)
{
	put(s, 0x08, 1);
	put(s, cmd, 2);
	put(s, len, 2);
	for (uint16_t i = 0; i < len; i++)
		put(s, data ? data[i] : 0, 1);
}

static inline void advise16(struct sb *s, uint64_t summary)
{
	uint8_t d[16];

	for (int i = 0; i < 8; i++) {
		d[i] = (uint8_t)(summary >> (56 - 8 * i));
		d[8 + i] = (uint8_t)(4096ull >> (56 - 8 * i));
	}
	command(s, 3, 16, d);
}

static inline void section(struct sb *s, uint8_t type, uint32_t sid,
			   const char *idstr, uint32_t version)
{
	put(s, type, 1);
	put(s, sid, 4);
	put_str(s, idstr);
	put(s, 0, 4);
	put(s, version, 4);
}

static inline void footer(struct sb *s, uint32_t sid)
{
	put(s, 0x7e, 1);
	put(s, sid, 4);
}

static inline void ram_start(struct sb *s, uint64_t total)
{
	section(s, 0x01, 2, "ram", 4);
	put(s, total | 0x04, 8);
}

static inline void ram_block(struct sb *s, const char *id, uint64_t len,
			     uint64_t page_size)
{
	put_str(s, id);
	put(s, len, 8);
	if (page_size)
		put(s, page_size, 8);
}

static inline void ram_end(struct sb *s)
{
	put(s, 0x10, 8);
	footer(s, 2);
}

/* Seed 001's "tmp" bytes: addr 0x140000000, 30 GiB region, 2 MiB blocks,
 * node 0; set_words: plugged blocks in 64s (8: 1 GiB of 15360 blocks). */
static inline void seed001(struct sb *s, uint32_t sid, uint64_t plugged,
			   unsigned int set_words)
{
	static const uint8_t seed001_tmp[28] = {
		0x00, 0x00, 0x00, 0x01, 0x40, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x07, 0x80, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00,
	};

	section(s, 0x04, sid, "0000:00:03.0/virtio-mem-device-early", 1);
	memcpy(s->b + s->n, seed001_tmp, sizeof(seed001_tmp));
	s->n += sizeof(seed001_tmp);
	put(s, plugged, 8);
	for (unsigned int w = 0; w < 15360 / 64; w++)
		put(s, w < set_words ? ~0ull : 0, 8);
	footer(s, sid);
}

/* The full valid stream: configuration, commands, RAM, seed 001, PART. */
static inline void full_stream(struct sb *s)
{
	uint8_t ping[4] = { 0, 0, 0, 1 };

	header(s, 3);
	config(s, "pc-q35-8.0", "x-ignore-shared");
	command(s, 1, 0, NULL);
	command(s, 2, 4, ping);
	advise16(s, 0x201000);
	command(s, 0x99, 3, (const uint8_t *)"abc");
	ram_start(s, MB(64) + GB(30) + MB(4) + 0x40000);
	ram_block(s, "pc.ram", MB(64), 0);
	put(s, 0, 8);		/* gpa */
	ram_block(s, "0000:00:03.0/mem0", GB(30), MB(2));
	put(s, 0x140000000ull, 8);
	ram_block(s, "pc.bios", 0x40000, 0);
	put(s, 0xfffc0000ull, 8);
	ram_block(s, "mem1", MB(4), MB(2));
	put(s, 0x180000000ull, 8);
	ram_end(s);
	seed001(s, 51, GB(1), 8);
	put(s, 0x02, 1);	/* SECTION_PART: page data */
}

#endif
