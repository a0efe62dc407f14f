/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A small JSON text builder on top of `bytes`: commas and escaping are handled, nesting is bounded. */
#pragma once

#include "bytes.h"

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define JW_MAX_DEPTH 32

struct json_writer {
	struct bytes *out;
	int depth;
	bool need_comma[JW_MAX_DEPTH + 1];
	bool after_key; /* a key was written; the next value belongs to it */
	bool ok;
};

void jw_init(struct json_writer *jw, struct bytes *out);
/* `key` is NULL for array elements and the top-level value. */
void jw_object_begin(struct json_writer *jw, const char *key);
void jw_object_end(struct json_writer *jw);
void jw_array_begin(struct json_writer *jw, const char *key);
void jw_array_end(struct json_writer *jw);
void jw_string(struct json_writer *jw, const char *key, const char *s);
void jw_int(struct json_writer *jw, const char *key, int64_t v);
void jw_bool(struct json_writer *jw, const char *key, bool v);
void jw_null(struct json_writer *jw, const char *key);
/* A number rounded to at most `decimals` places, written without trailing zeros. */
void jw_double(struct json_writer *jw, const char *key, double v, int decimals);

/* Lower-level pieces: a key (with its comma), then one value. */
void jw_key_n(struct json_writer *jw, const char *key, size_t key_len);
void jw_raw(struct json_writer *jw, const char *text);
void jw_raw_n(struct json_writer *jw, const char *text, size_t len);
void jw_string_value(struct json_writer *jw, const char *s, size_t len);
void jw_int_value(struct json_writer *jw, int64_t v);
void jw_double_value(struct json_writer *jw, double v, int decimals);

#ifdef __cplusplus
}
#endif
