/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: the console protocol's decoders on hostile bytes. The input is fed to the framer in chunks
 * whose sizes come from the first byte; every frame is decoded as a console message and as a client handshake
 * (what the console server reads), and the framer's memory must stay within its bound.
 */
#include "console_proto.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_FRAME_MAX (64u * 1024u)

static int on_frame(void *ud, const uint8_t *body, size_t len)
{
	(void)ud;
	struct console_msg m;
	struct console_hello h;
	char err[192];
	if (console_msg_decode(body, len, &m, err, sizeof(err)) == 0) {
		if (m.type == CONSOLE_MSG_REPLAY && (m.next_pos - m.pos != m.data_len || (m.data_len && !m.data)))
			abort();
		if (m.nick_len && !m.nick)
			abort();
	}
	console_hello_decode(body, len, &h, err, sizeof(err));
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t chunk = 1 + data[0] % 64;
	data++;
	size--;
	struct console_framer f;
	console_framer_init(&f, FUZZ_FRAME_MAX);
	console_detect_mode(data, size);
	for (size_t i = 0; i < size; i += chunk) {
		size_t n = size - i < chunk ? size - i : chunk;
		if (console_framer_feed(&f, data + i, n, on_frame, NULL) < 0)
			console_framer_reset(&f);
		if (f.buf.cap > 2 * (FUZZ_FRAME_MAX + 4) + 64)
			abort();
	}
	console_framer_free(&f);
	/* a whole input as one message body */
	on_frame(NULL, data, size);
	return 0;
}
