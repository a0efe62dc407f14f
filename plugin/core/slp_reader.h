/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The .slp container: `{ "raw": [$U#l <len> <events>], "metadata": {...} }`. Sans-I/O: works on a buffer the
 * caller read. Accepts finished files, in-progress or crashed files (raw length 0: events run to the end, the
 * last one may be partial), an empty metadata object and a missing metadata key.
 */
#pragma once

#include "bytes.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SLP_HEADER_SIZE 15
#define SLP_RAW_LENGTH_OFFSET 11
extern const uint8_t slp_header_signature[11];

struct slp_container {
	uint32_t raw_length; /* as stored at offset 11; 0 while in progress */
	bool in_progress;    /* raw length 0 */
	size_t events_offset;
	size_t events_size; /* the event bytes: raw_length, or up to the end of the file while in progress */
	bool has_metadata;
	size_t metadata_offset; /* of the metadata value's `{` */
	size_t metadata_size;
};

/*
 * Parses the container of a whole file. Returns 0, or -1 with a message naming what was wrong and its byte
 * offset. A finished file whose metadata is damaged still yields its events (has_metadata false, err set, 0
 * returned only if the events are intact); a raw length past the end of the file is an error.
 */
int slp_container_parse(const uint8_t *file, size_t size, struct slp_container *out, char *err, size_t err_size);
/*
 * Parses a footer at file offset `off`, wherever the events really end: the `metadata` key, its object value and
 * the file's closing `}`. Returns 0 with the value's offset and size; *closed is false when the file ends right
 * after the value, without its brace. Returns -1 with a message when it is no such footer, or when anything but
 * the brace follows the value.
 */
int slp_container_parse_footer(const uint8_t *file, size_t size, size_t off, size_t *value_offset, size_t *value_size,
			       bool *closed, char *err, size_t err_size);

#ifdef __cplusplus
}
#endif
