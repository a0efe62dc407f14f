/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shift-JIS (code page 932) to UTF-8, for the names Melee stores in Game Start. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

extern const uint16_t sjis_double_byte_table[60][188];

/*
 * Decodes `in` up to its first NUL (or in_len bytes) into NUL-terminated UTF-8 in `out`.
 * With `halfwidth`, full-width ASCII forms, the ideographic space and Melee's curly quotes become plain ASCII,
 * as the Slippi tools show them. Bytes that do not decode become U+FFFD. Returns the UTF-8 length written.
 */
size_t sjis_to_utf8(const uint8_t *in, size_t in_len, char *out, size_t out_cap, bool halfwidth);

#ifdef __cplusplus
}
#endif
