/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: the UBJSON pull reader (a full walk, with ubj_skip on some containers) and ubj_to_json. */
#include "ubjson.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ubj_reader r;
	struct ubj_value v;
	ubj_reader_init(&r, data, size);
	/* bounded: every call either consumes a byte or ends a container, except typed zero-size elements */
	for (unsigned steps = 0; steps < 4u * 1024 * 1024; steps++) {
		int rc = ubj_next(&r, &v);
		if (rc < 0) {
			if (!memchr(r.error, 0, sizeof(r.error)) || !strstr(r.error, "byte"))
				abort();
			break;
		}
		if (r.pos > size || r.depth < 0 || r.depth > UBJ_MAX_DEPTH)
			abort();
		if (rc == 1 && (v.type == UBJ_STRING || v.type == UBJ_BLOB) &&
		    (v.str < data || v.str_len > (size_t)(data + size - v.str)))
			abort();
		if (rc == 1 && v.key && (v.key_len > size || (const uint8_t *)v.key < data))
			abort();
		/* skip every third container instead of walking it */
		if (rc == 1 && (v.type == UBJ_ARRAY || v.type == UBJ_OBJECT) && (v.offset % 3 == 0)) {
			if (ubj_skip(&r) < 0)
				break;
		}
		if (rc == 0 && r.depth == 0)
			break;
		if (r.depth == 0 && r.pos == size)
			break;
	}

	struct bytes out;
	char err[160];
	bytes_init(&out, 64u * 1024 * 1024);
	if (ubj_to_json(data, size, &out, err, sizeof(err)) < 0 && !strstr(err, "byte") && !strstr(err, "memory"))
		abort();
	bytes_free(&out);
	return 0;
}
