/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Growable byte buffer with a hard cap, and big-endian field readers. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

struct bytes {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t limit_bytes; /* appends past this fail; 0 means SIZE_MAX */
};

void bytes_init(struct bytes *b, size_t limit_bytes);
void bytes_free(struct bytes *b);
static inline void bytes_clear(struct bytes *b)
{
	b->len = 0;
}
/* Returns false (and leaves the buffer unchanged) when the cap or memory runs out. */
bool bytes_reserve(struct bytes *b, size_t extra);
bool bytes_append(struct bytes *b, const void *data, size_t len);
bool bytes_append_byte(struct bytes *b, uint8_t v);
bool bytes_append_u16be(struct bytes *b, uint16_t v);
bool bytes_append_u32be(struct bytes *b, uint32_t v);
bool bytes_append_u64be(struct bytes *b, uint64_t v);
bool bytes_append_str(struct bytes *b, const char *s);
bool bytes_appendf(struct bytes *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drops the first n bytes. */
void bytes_consume(struct bytes *b, size_t n);

static inline uint16_t rd_u16be(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t rd_u32be(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline int32_t rd_i32be(const uint8_t *p)
{
	return (int32_t)rd_u32be(p);
}
static inline uint64_t rd_u64be(const uint8_t *p)
{
	return ((uint64_t)rd_u32be(p) << 32) | rd_u32be(p + 4);
}
static inline float rd_f32be(const uint8_t *p)
{
	uint32_t u = rd_u32be(p);
	float f;
	memcpy(&f, &u, sizeof(f));
	return f;
}
static inline void wr_u32be(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}
static inline void wr_u64be(uint8_t *p, uint64_t v)
{
	wr_u32be(p, (uint32_t)(v >> 32));
	wr_u32be(p + 4, (uint32_t)v);
}

#ifdef __cplusplus
}
#endif
