/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "base64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encode(const uint8_t *in, size_t n, char *out)
{
	size_t o = 0, i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8) | in[i + 2];
		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		out[o++] = alphabet[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8);
		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		out[o++] = '=';
	}
	return o;
}

bool base64_append(struct bytes *b, const uint8_t *in, size_t n)
{
	if (n > (SIZE_MAX - 2) / 4 * 3)
		return false;
	size_t need = base64_encoded_size(n);
	if (!bytes_reserve(b, need))
		return false;
	b->len += base64_encode(in, n, (char *)b->data + b->len);
	return true;
}

static int value_of(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

ptrdiff_t base64_decode(const char *in, size_t n, uint8_t *out, size_t out_size, size_t *bad_offset)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0;
	*bad_offset = 0;
	if (n % 4) {
		/* name the first bad character if there is one, else the length */
		for (size_t i = 0; i < n; i++) {
			if (value_of(s[i]) < 0 && s[i] != '=') {
				*bad_offset = i;
				return -1;
			}
		}
		*bad_offset = n;
		return -1;
	}
	for (size_t i = 0; i < n; i += 4) {
		int v[4];
		int pad = 0;
		bool last = i + 4 == n;
		for (int k = 0; k < 4; k++) {
			v[k] = value_of(s[i + k]);
			if (v[k] >= 0) {
				if (pad) {
					*bad_offset = i + k; /* data after padding */
					return -1;
				}
				continue;
			}
			/* '=' is allowed only in the last two places of the last group */
			if (s[i + k] != '=' || !last || k < 2) {
				*bad_offset = i + k;
				return -1;
			}
			pad++;
			v[k] = 0;
		}
		uint32_t bits = ((uint32_t)v[0] << 18) | ((uint32_t)v[1] << 12) | ((uint32_t)v[2] << 6) |
				(uint32_t)v[3];
		size_t produce = 3 - (size_t)pad;
		if ((pad == 1 && (bits & 0xFF)) || (pad == 2 && (bits & 0xFFFF))) {
			*bad_offset = i + 3 - (size_t)pad; /* the last data character carries bits that are not zero */
			return -1;
		}
		if (out_size - o < produce) {
			*bad_offset = i;
			return -1;
		}
		out[o++] = (uint8_t)(bits >> 16);
		if (produce > 1)
			out[o++] = (uint8_t)(bits >> 8);
		if (produce > 2)
			out[o++] = (uint8_t)bits;
	}
	return (ptrdiff_t)o;
}
