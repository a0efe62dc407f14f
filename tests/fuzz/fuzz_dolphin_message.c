/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer: one ENet packet from Dolphin through json_reader, base64 and dolphin_proto decode; a decoded message
 * must encode and decode back to the same fields. */
#include "base64.h"
#include "dolphin_proto.h"
#include "json_reader.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_doc doc;
	struct json_limits lim = {.max_input_bytes = 1 << 20,
				  .max_nodes = 256,
				  .max_depth = 16,
				  .max_string_bytes = 4096};
	json_parse(&doc, (const char *)data, size, &lim);
	json_doc_free(&doc);

	/* base64 both ways */
	uint8_t *out = malloc(base64_decoded_max(size) + 1);
	size_t bad;
	ptrdiff_t n = base64_decode((const char *)data, size, out, base64_decoded_max(size), &bad);
	if (n >= 0) {
		char *again = malloc(base64_encoded_size((size_t)n) + 1);
		size_t m = base64_encode(out, (size_t)n, again);
		if (m != size || memcmp(again, data, size))
			abort(); /* strict decoding means one spelling per byte string */
		free(again);
	} else if (bad > size) {
		abort();
	}
	free(out);

	struct dolphin_msg msg, back;
	struct bytes payload, payload2, enc;
	char err[256];
	bytes_init(&payload, 0);
	bytes_init(&payload2, 0);
	bytes_init(&enc, 0);
	if (dolphin_msg_decode(data, size, &msg, &payload, err, sizeof(err)) == 0 && msg.type != DOLPHIN_MSG_UNKNOWN) {
		if (!dolphin_msg_encode(&msg, &enc))
			abort();
		if (dolphin_msg_decode(enc.data, enc.len, &back, &payload2, err, sizeof(err)) != 0)
			abort();
		if (back.type != msg.type || back.cursor != msg.cursor || back.payload_len != msg.payload_len ||
		    strcmp(back.nick, msg.nick) || strcmp(back.version, msg.version) ||
		    (msg.payload_len && memcmp(back.payload, msg.payload, msg.payload_len)))
			abort();
	}
	bytes_free(&payload);
	bytes_free(&payload2);
	bytes_free(&enc);
	return 0;
}
