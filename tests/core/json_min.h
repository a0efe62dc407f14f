/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A compact, strict JSON reader for the tests: parses a whole text into a tree (RFC 8259 grammar, UTF-8 checked,
 * nesting bounded), so tests can read expected.json and check that the JSON the core writes is valid.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum jm_type {
	JM_NULL,
	JM_BOOL,
	JM_NUMBER,
	JM_STRING,
	JM_ARRAY,
	JM_OBJECT,
};

struct jm_value {
	enum jm_type type;
	bool b;
	double num;
	char *str;    /* JM_STRING: decoded, NUL-terminated (an embedded \u0000 ends it early) */
	char *key;    /* set on object members */
	size_t count; /* members of an array or object */
	struct jm_value *child;
	struct jm_value *next;
};

#define JM_MAX_DEPTH 64

/* Parses exactly one JSON value (surrounding whitespace allowed). Returns a tree to free with jm_free, or NULL with
 * a message naming the byte offset in err. */
struct jm_value *jm_parse(const char *text, size_t len, char *err, size_t err_size);
void jm_free(struct jm_value *v);

/* Lookups return NULL when v is NULL, of the wrong type, or has no such member. */
const struct jm_value *jm_get(const struct jm_value *obj, const char *key);
const struct jm_value *jm_at(const struct jm_value *arr, size_t index);
bool jm_is_null(const struct jm_value *v);
/* The number as an integer (v must be a number). */
int64_t jm_int(const struct jm_value *v);
/* Member `key` of obj as an integer; `fallback` when it is missing or not a number. */
int64_t jm_get_int(const struct jm_value *obj, const char *key, int64_t fallback);
const char *jm_get_str(const struct jm_value *obj, const char *key);
/* Whether `text` is exactly one valid JSON value. */
bool jm_valid(const char *text, size_t len);
