/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small JSON reader (RFC 8259) for messages from the network: parses a whole document into a tree of nodes.
 * Sans-I/O, and bounded: the input size, the node count, the nesting depth and each decoded string's length are
 * limited, and memory is at most one copy of the input plus the nodes. Strings must be valid UTF-8 (escapes
 * included: a lone surrogate is an error); numbers without fraction or exponent that fit are int64 (JSON_INT),
 * other numbers are doubles. Duplicate keys are kept; json_get finds the first.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum json_type {
	JSON_NULL = 0,
	JSON_BOOL,
	JSON_INT,
	JSON_DOUBLE,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

struct json_node {
	enum json_type type;
	uint32_t first_child; /* index of the first element or member; 0 when empty (node 0 is the root) */
	uint32_t next;        /* index of the next sibling; 0 for the last one */
	uint32_t count;       /* elements or members */
	const char *key;      /* the member's key (decoded, NUL-terminated) inside an object, else NULL */
	size_t key_len;
	const char *str; /* JSON_STRING: decoded, NUL-terminated (may hold NULs from \u0000) */
	size_t str_len;
	int64_t i;
	double d; /* JSON_DOUBLE, and JSON_INT as a double */
	bool b;
};

struct json_limits {
	size_t max_input_bytes;
	uint32_t max_nodes;
	uint32_t max_depth; /* at most JSON_MAX_DEPTH */
	size_t max_string_bytes;
};

#define JSON_MAX_DEPTH 256
/* Defaults: 4 MiB of input, 4096 nodes, depth 32, 2 MiB strings. */
extern const struct json_limits json_limits_default;

struct json_doc {
	struct json_node *nodes;
	uint32_t n_nodes;
	uint32_t cap_nodes;
	char *strings; /* decoded strings, one allocation the size of the input */
	size_t strings_len;
	size_t error_offset; /* byte offset of the error in the input */
	char error[160];
};

/*
 * Parses text[0..len) as one JSON value (whitespace around it allowed). limits may be NULL for the defaults.
 * Returns 0, or -1 with doc->error naming the problem and doc->error_offset where it is. Either way the doc must be
 * released with json_doc_free.
 */
int json_parse(struct json_doc *doc, const char *text, size_t len, const struct json_limits *limits);
void json_doc_free(struct json_doc *doc);

static inline const struct json_node *json_root(const struct json_doc *doc)
{
	return doc->n_nodes ? &doc->nodes[0] : NULL;
}
/* The first child of an array or object, and the next sibling; NULL at the end. */
const struct json_node *json_first(const struct json_doc *doc, const struct json_node *n);
const struct json_node *json_next(const struct json_doc *doc, const struct json_node *n);
/* The first member of object `obj` named key; NULL when obj is not an object or has no such member. */
const struct json_node *json_get(const struct json_doc *doc, const struct json_node *obj, const char *key);
const char *json_type_name(enum json_type type);

#ifdef __cplusplus
}
#endif
