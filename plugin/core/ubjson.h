/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * UBJSON (Draft 12) for the subset Slippi uses: objects, arrays (plain, counted and typed), strings, integers,
 * floats, booleans and null. The reader is a pull parser over a complete buffer: it never allocates, never
 * reads past `len`, and bounds nesting depth and every length before use. The writer appends to a `bytes`.
 */
#pragma once

#include "bytes.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UBJ_MAX_DEPTH 32

enum ubj_type {
	UBJ_INVALID = 0,
	UBJ_NULL,
	UBJ_BOOL,
	UBJ_INT,
	UBJ_FLOAT,
	UBJ_STRING, /* `S` or `C`; bytes in str/str_len (not NUL-terminated) */
	UBJ_BLOB,   /* a typed uint8 array `[$U#n`: bytes in str/str_len */
	UBJ_ARRAY,  /* container start: iterate with ubj_next until it returns 0, or ubj_skip */
	UBJ_OBJECT,
};

struct ubj_value {
	enum ubj_type type;
	const char *key; /* set inside objects; not NUL-terminated */
	size_t key_len;
	bool b;
	int64_t i;
	double f;
	const uint8_t *str;
	size_t str_len;
	size_t offset; /* byte offset of the value's marker */
};

struct ubj_frame {
	bool is_object;
	bool counted;
	uint8_t elem_type; /* 0 when the container is not typed */
	uint64_t remaining;
};

struct ubj_reader {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	int depth;
	struct ubj_frame stack[UBJ_MAX_DEPTH];
	char error[128];
};

void ubj_reader_init(struct ubj_reader *r, const uint8_t *buf, size_t len);
/*
 * Reads the next value of the current container (or the top-level value at depth 0).
 * Returns 1 and fills *v; 0 when the current container ended (its end is consumed); -1 on error, with
 * r->error naming what was wrong and at which byte offset. After a container start (UBJ_ARRAY/UBJ_OBJECT) the
 * following calls read that container's members.
 */
int ubj_next(struct ubj_reader *r, struct ubj_value *v);
/* Skips the rest of the container that the last ubj_next opened. Returns 0, or -1 on error. */
int ubj_skip(struct ubj_reader *r);
bool ubj_key_is(const struct ubj_value *v, const char *key);

/* Converts one UBJSON value to JSON text. Returns 0, or -1 with a message in err. */
int ubj_to_json(const uint8_t *buf, size_t len, struct bytes *out, char *err, size_t err_size);

/* Writer. Lengths (keys, strings, counts) use the smallest integer marker (i, U, I, l), as Slippi Nintendont
 * and slippi-js do, unless lengths_as_u8 is set, which writes `U` for lengths under 256 as the .slp footer does. */
struct ubj_writer {
	struct bytes *out;
	bool lengths_as_u8;
	bool ok;
};

void ubj_writer_init(struct ubj_writer *w, struct bytes *out, bool lengths_as_u8);
void ubj_w_object_begin(struct ubj_writer *w);
void ubj_w_object_end(struct ubj_writer *w);
void ubj_w_key(struct ubj_writer *w, const char *key);
void ubj_w_string(struct ubj_writer *w, const char *s, size_t len);
/* An integer in the smallest marker that holds it. */
void ubj_w_int(struct ubj_writer *w, int64_t v);
void ubj_w_uint8(struct ubj_writer *w, uint8_t v);
void ubj_w_int32(struct ubj_writer *w, int32_t v);
void ubj_w_bool(struct ubj_writer *w, bool v);
/* `[$U#<count>` followed by the raw bytes (no closing `]`). */
void ubj_w_blob(struct ubj_writer *w, const uint8_t *data, size_t len);
/* The same with the len bytes left for the caller to fill (zeroed here): returns their offset in the output, or
 * SIZE_MAX when the writer failed. */
size_t ubj_w_blob_reserve(struct ubj_writer *w, size_t len);

#ifdef __cplusplus
}
#endif
