/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "sjis.h"
#include "utf8.h"

static int lead_index(uint8_t b)
{
	if (b >= 0x81 && b <= 0x9F)
		return b - 0x81;
	if (b >= 0xE0 && b <= 0xFC)
		return b - 0xE0 + 31;
	return -1;
}

static int trail_index(uint8_t b)
{
	if (b >= 0x40 && b <= 0x7E)
		return b - 0x40;
	if (b >= 0x80 && b <= 0xFC)
		return b - 0x80 + 63;
	return -1;
}

static uint32_t to_halfwidth(uint32_t cp)
{
	if (cp > 0xFF00 && cp < 0xFF5F)
		return 0x20 + (cp - 0xFF00);
	if (cp == 0x3000)
		return 0x20;
	if (cp == 0x2019)
		return 0x27;
	if (cp == 0x201D)
		return 0x22;
	return cp;
}

static size_t put_utf8(char *out, size_t out_cap, size_t n, uint32_t cp)
{
	char tmp[4];
	size_t len = utf8_encode(cp, tmp);
	if (n + len + 1 > out_cap)
		return 0;
	for (size_t i = 0; i < len; i++)
		out[n + i] = tmp[i];
	return len;
}

size_t sjis_to_utf8(const uint8_t *in, size_t in_len, char *out, size_t out_cap, bool halfwidth)
{
	size_t n = 0;
	if (!out_cap)
		return 0;
	for (size_t i = 0; i < in_len && in[i]; i++) {
		uint8_t b = in[i];
		uint32_t cp;
		if (b < 0x80) {
			cp = b;
		} else if (b >= 0xA1 && b <= 0xDF) {
			cp = 0xFF61 + (b - 0xA1);
		} else {
			int li = lead_index(b);
			int ti = (li >= 0 && i + 1 < in_len) ? trail_index(in[i + 1]) : -1;
			if (li >= 0 && ti >= 0) {
				cp = sjis_double_byte_table[li][ti];
				i++;
				if (!cp)
					cp = 0xFFFD;
			} else {
				cp = 0xFFFD;
			}
		}
		if (halfwidth)
			cp = to_halfwidth(cp);
		size_t w = put_utf8(out, out_cap, n, cp);
		if (!w)
			break;
		n += w;
	}
	out[n] = 0;
	return n;
}
