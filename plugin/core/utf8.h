/* SPDX-License-Identifier: GPL-2.0-or-later */
/* UTF-8 checks, encoding and cutting, shared by the JSON reader and writer, the Shift-JIS decoder and the places that
 * copy a name into a fixed buffer. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Length of the valid UTF-8 sequence at s (at most len bytes, len >= 1): 1-4, or 0 when it is not valid
 * (overlong forms, surrogates and code points above U+10FFFF are not). */
size_t utf8_sequence_length(const uint8_t *s, size_t len);
/* Writes code point cp (at most U+10FFFF) as UTF-8 into out. Returns the bytes written, 1-4. */
size_t utf8_encode(uint32_t cp, char out[4]);
/*
 * Copies the string src into dst (dst_size bytes, at least 1; always NUL-terminated), whole characters only: it
 * stops before the first character that does not fit, so a sequence is never split. Bytes of src that are not valid
 * UTF-8 are left out, so dst is always valid UTF-8. Returns the bytes written, the NUL not counted.
 */
size_t utf8_truncate(char *dst, size_t dst_size, const char *src);

#ifdef __cplusplus
}
#endif
