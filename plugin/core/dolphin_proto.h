/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Slippi Dolphin's spectator messages (docs/protocols.md §2): one JSON document per ENet packet. Sans-I/O encode
 * and decode. Encoding writes the keys in alphabetical order, as Dolphin's nlohmann::json does, so a message
 * encoded here is byte-identical to Dolphin's. Decoding is strict about types and bounded in size.
 */
#pragma once

#include "bytes.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DOLPHIN_DEFAULT_PORT 51441
/* Largest decoded game_event/menu_event payload accepted (Dolphin sends one frame, a few KiB, per message). */
#define DOLPHIN_PAYLOAD_MAX_BYTES (1u << 20)
/* Largest message accepted: the base64 of the largest payload plus room for the other keys. */
#define DOLPHIN_MESSAGE_MAX_BYTES (DOLPHIN_PAYLOAD_MAX_BYTES / 3 * 4 + 8 + 4096)
#define DOLPHIN_TEXT_MAX 128 /* nick and version, terminator included */

enum dolphin_msg_type {
	DOLPHIN_MSG_UNKNOWN = 0, /* a type this code does not know (type_name tells), or none with dolphin_closed */
	DOLPHIN_MSG_CONNECT_REQUEST,
	DOLPHIN_MSG_CONNECT_REPLY,
	DOLPHIN_MSG_START_GAME,
	DOLPHIN_MSG_GAME_EVENT,
	DOLPHIN_MSG_END_GAME,
	DOLPHIN_MSG_MENU_EVENT,
};

struct dolphin_msg {
	enum dolphin_msg_type type;
	char type_name[32];             /* decode: the type string as received (cut to fit) */
	uint32_t cursor;                /* connect_request, connect_reply, start_game, game_event, end_game */
	uint32_t next_cursor;           /* start_game, game_event, end_game */
	bool dolphin_closed;            /* end_game; any message may carry it */
	char nick[DOLPHIN_TEXT_MAX];    /* connect_reply */
	char version[DOLPHIN_TEXT_MAX]; /* connect_reply */
	/* game_event, menu_event: raw event bytes. Encode reads them; decode points them at the payload buffer. */
	const uint8_t *payload;
	size_t payload_len;
};

const char *dolphin_msg_type_name(enum dolphin_msg_type type);
/* Appends msg as JSON (keys in alphabetical order) to out. Returns false when out's cap or memory runs out, or
 * for DOLPHIN_MSG_UNKNOWN. */
bool dolphin_msg_encode(const struct dolphin_msg *msg, struct bytes *out);
/*
 * Decodes one packet. The payload (base64) is decoded into `payload` (cleared first) and msg->payload points into
 * it. Returns 0, or -1 with err naming what was wrong: not JSON, not an object, a missing or mistyped key, a cursor
 * out of range, invalid base64 (with its offset), a payload or message over the limits. An unknown type is not an
 * error: msg->type is DOLPHIN_MSG_UNKNOWN and type_name tells which.
 */
int dolphin_msg_decode(const uint8_t *packet, size_t len, struct dolphin_msg *msg, struct bytes *payload, char *err,
		       size_t err_size);

#ifdef __cplusplus
}
#endif
