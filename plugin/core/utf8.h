/* SPDX-License-Identifier: GPL-2.0-or-later */
/* UTF-8 checks and encoding shared by the JSON reader, the JSON writer and the Shift-JIS decoder. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Length of the valid UTF-8 sequence at s (at most len bytes, len >= 1): 1-4, or 0 when it is not valid
 * (overlong forms, surrogates and code points above U+10FFFF are not). */
size_t utf8_sequence_length(const uint8_t *s, size_t len);
/* Writes code point cp (at most U+10FFFF) as UTF-8 into out. Returns the bytes written, 1-4. */
size_t utf8_encode(uint32_t cp, char out[4]);
