/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "bytes.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void bytes_init(struct bytes *b, size_t limit_bytes)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->limit_bytes = limit_bytes ? limit_bytes : SIZE_MAX;
}

void bytes_free(struct bytes *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

bool bytes_reserve(struct bytes *b, size_t extra)
{
	if (extra > b->limit_bytes - b->len)
		return false;
	size_t need = b->len + extra;
	if (need <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > b->limit_bytes)
		cap = b->limit_bytes;
	uint8_t *p = realloc(b->data, cap);
	if (!p)
		return false;
	b->data = p;
	b->cap = cap;
	return true;
}

bool bytes_append(struct bytes *b, const void *data, size_t len)
{
	if (!len)
		return true;
	if (!bytes_reserve(b, len))
		return false;
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return true;
}

bool bytes_append_byte(struct bytes *b, uint8_t v)
{
	return bytes_append(b, &v, 1);
}

bool bytes_append_u16be(struct bytes *b, uint16_t v)
{
	uint8_t p[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	return bytes_append(b, p, 2);
}

bool bytes_append_u32be(struct bytes *b, uint32_t v)
{
	uint8_t p[4];
	wr_u32be(p, v);
	return bytes_append(b, p, 4);
}

bool bytes_append_u64be(struct bytes *b, uint64_t v)
{
	uint8_t p[8];
	wr_u64be(p, v);
	return bytes_append(b, p, 8);
}

bool bytes_append_str(struct bytes *b, const char *s)
{
	return bytes_append(b, s, strlen(s));
}

bool bytes_appendf(struct bytes *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return false;
	if ((size_t)n < sizeof(small))
		return bytes_append(b, small, (size_t)n);
	if (!bytes_reserve(b, (size_t)n + 1))
		return false;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return true;
}

void bytes_consume(struct bytes *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}
