/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Base64 (RFC 4648, standard alphabet, padded). Decoding is strict: no whitespace, padding only at the end, the
 * length a multiple of 4, and unused bits zero, so every input has exactly one meaning. */
#pragma once

#include "bytes.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Characters base64_encode writes for n bytes (no terminator). */
static inline size_t base64_encoded_size(size_t n)
{
	return (n + 2) / 3 * 4;
}
/* An upper bound of the bytes base64_decode writes for n characters. */
static inline size_t base64_decoded_max(size_t n)
{
	return n / 4 * 3;
}
/* Writes base64_encoded_size(n) characters to out (no terminator). Returns that count. */
size_t base64_encode(const uint8_t *in, size_t n, char *out);
/* Appends the encoding of in to b. Returns false when b's cap or memory runs out (b unchanged). */
bool base64_append(struct bytes *b, const uint8_t *in, size_t n);
/*
 * Decodes n characters into out (room for out_size bytes). Returns the decoded length, or -1 when the input is
 * not valid base64 (*bad_offset = offset of the first bad character, or n when the length is wrong) or does not fit
 * (*bad_offset = the offset of the group that overflowed).
 */
ptrdiff_t base64_decode(const char *in, size_t n, uint8_t *out, size_t out_size, size_t *bad_offset);

#ifdef __cplusplus
}
#endif
