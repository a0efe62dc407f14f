/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "slp_reader.h"
#include "ubjson.h"

#include <stdio.h>
#include <string.h>

const uint8_t slp_header_signature[11] = {0x7B, 0x55, 0x03, 0x72, 0x61, 0x77, 0x5B, 0x24, 0x55, 0x23, 0x6C};

static const char metadata_key[] = "metadata";

/* Parses `<length><"metadata">{...}` at off. Returns the value's size in *value_size, or -1. */
static int parse_metadata(const uint8_t *file, size_t size, size_t off, size_t *value_off, size_t *value_size,
			  char *err, size_t err_size)
{
	struct ubj_reader r;
	/* read the key as the single member of an object-like context: wrap by reading the length manually */
	ubj_reader_init(&r, file + off, size - off);
	r.stack[0].is_object = true;
	r.depth = 1;
	struct ubj_value v;
	int rc = ubj_next(&r, &v);
	if (rc <= 0) {
		snprintf(err, err_size, "metadata: %s", rc < 0 ? r.error : "missing value");
		return -1;
	}
	if (!ubj_key_is(&v, metadata_key)) {
		snprintf(err, err_size, "metadata: unexpected key at byte %zu", off);
		return -1;
	}
	if (v.type != UBJ_OBJECT) {
		snprintf(err, err_size, "metadata: value at byte %zu is not an object", off + v.offset);
		return -1;
	}
	if (ubj_skip(&r) < 0) {
		/* errors in r.error are relative to off */
		snprintf(err, err_size, "metadata (starting at byte %zu): %s", off, r.error);
		return -1;
	}
	*value_off = off + v.offset;
	*value_size = r.pos - v.offset;
	return 0;
}

int slp_container_parse(const uint8_t *file, size_t size, struct slp_container *out, char *err, size_t err_size)
{
	memset(out, 0, sizeof(*out));
	if (err_size)
		err[0] = 0;
	if (size < SLP_HEADER_SIZE) {
		snprintf(err, err_size, "file is %zu bytes; a .slp file starts with a 15-byte header", size);
		return -1;
	}
	for (size_t i = 0; i < sizeof(slp_header_signature); i++) {
		if (file[i] != slp_header_signature[i]) {
			snprintf(err, err_size, "not a .slp file: unexpected byte 0x%02x at offset %zu", file[i], i);
			return -1;
		}
	}
	out->raw_length = rd_u32be(file + SLP_RAW_LENGTH_OFFSET);
	out->events_offset = SLP_HEADER_SIZE;
	if (out->raw_length == 0) {
		out->in_progress = true;
		out->events_size = size - SLP_HEADER_SIZE;
		return 0;
	}
	if ((size_t)out->raw_length > size - SLP_HEADER_SIZE) {
		out->events_size = size - SLP_HEADER_SIZE;
		snprintf(err, err_size, "raw length %u at offset 11 runs past the end of the file (%zu bytes)",
			 out->raw_length, size);
		return -1;
	}
	out->events_size = out->raw_length;
	size_t off = SLP_HEADER_SIZE + out->raw_length;
	if (off < size && file[off] == '}')
		return 0; /* no metadata key: accepted */
	if (off >= size) {
		snprintf(err, err_size, "file ends at byte %zu, right after the events, without metadata", size);
		return 0;
	}
	if (parse_metadata(file, size, off, &out->metadata_offset, &out->metadata_size, err, err_size) < 0)
		return 0; /* events intact, metadata damaged: err says why */
	out->has_metadata = true;
	return 0;
}

int slp_container_parse_footer(const uint8_t *file, size_t size, size_t off, size_t *value_offset, size_t *value_size,
			       bool *closed, char *err, size_t err_size)
{
	if (err_size)
		err[0] = 0;
	if (off >= size) {
		snprintf(err, err_size, "no metadata: the file ends at byte %zu", size);
		return -1;
	}
	if (parse_metadata(file, size, off, value_offset, value_size, err, err_size) < 0)
		return -1;
	size_t end = *value_offset + *value_size;
	*closed = end < size;
	if (end < size && file[end] != '}') {
		snprintf(err, err_size, "byte 0x%02x at byte %zu follows the metadata, not the closing brace",
			 file[end], end);
		return -1;
	}
	return 0;
}
