/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Slippi event-stream splitter: fed byte chunks of any size (down to one byte), it yields whole events,
 * using the Event Payloads (0x35) size table. Sans-I/O: no sockets, threads or files.
 *
 * - Event Payloads (0x35) at an event boundary starts a new game and installs a new size table.
 * - Message Splitter (0x10) chunks are yielded as they are, and once the last chunk arrives the carried message
 *   is also yielded whole (reassembled = true), whatever size the table declared for the carried command.
 * - `HELO\0` fillers (keepalives from relays) at event boundaries are skipped.
 * - A command the table does not declare is an error, never a one-byte skip.
 * Memory is bounded: one partial event (at most 64 KiB) and one reassembled message (SLP_MESSAGE_MAX_BYTES).
 */
#pragma once

#include "bytes.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum slp_command {
	SLP_CMD_MESSAGE_SPLITTER = 0x10,
	SLP_CMD_EVENT_PAYLOADS = 0x35,
	SLP_CMD_GAME_START = 0x36,
	SLP_CMD_PRE_FRAME = 0x37,
	SLP_CMD_POST_FRAME = 0x38,
	SLP_CMD_GAME_END = 0x39,
	SLP_CMD_FRAME_START = 0x3A,
	SLP_CMD_ITEM_UPDATE = 0x3B,
	SLP_CMD_FRAME_BOOKEND = 0x3C,
	SLP_CMD_GECKO_LIST = 0x3D,
};

#define SLP_MESSAGE_MAX_BYTES (4u * 1024u * 1024u)
#define SLP_FILLER "HELO\0"
#define SLP_FILLER_LEN 5

struct slp_event {
	uint8_t code;        /* the command byte; for a reassembled message, the carried command */
	const uint8_t *data; /* the command byte followed by the payload; valid only during the callback */
	size_t size;         /* 1 + payload size */
	uint64_t offset;     /* stream offset of the command byte (of the first chunk for a reassembled message) */
	bool reassembled;    /* true for a message put back together from Message Splitter chunks */
};

/* Return 0 to go on; anything else stops the feed, which then returns that value. */
typedef int (*slp_event_fn)(void *ud, const struct slp_event *ev);

struct slp_splitter {
	bool have_table;
	bool declared[256];
	uint16_t payload_size[256];
	struct bytes pending; /* a partial event (or filler) carried over between chunks */
	struct bytes message; /* Message Splitter reassembly */
	uint64_t message_offset;
	uint64_t offset; /* stream bytes consumed so far, fillers included */
	uint64_t events;
	uint64_t fillers;
	bool failed;
	char error[192];
};

void slp_splitter_init(struct slp_splitter *s);
void slp_splitter_free(struct slp_splitter *s);
/* Forgets the size table and any partial event: the next byte must start a new stream. */
void slp_splitter_reset(struct slp_splitter *s);
/*
 * Feeds a chunk. Returns 0 when every byte was taken (a trailing partial event is kept for the next chunk),
 * -1 on a stream error (s->error names it and its stream offset; the splitter stays failed until reset), or the
 * callback's nonzero return value.
 */
int slp_splitter_feed(struct slp_splitter *s, const uint8_t *data, size_t len, slp_event_fn fn, void *ud);
/* The stream restarts at an event boundary (a reconnect, a forced jump): drops a partial event and clears a
 * failure, keeping the size table. Returns the bytes dropped. */
size_t slp_splitter_restart_at_boundary(struct slp_splitter *s);
/* Bytes of a partial event held back, waiting for the rest. */
static inline size_t slp_splitter_pending_bytes(const struct slp_splitter *s)
{
	return s->pending.len;
}
/* Parses an Event Payloads event (command byte included) into a size table. Returns 0, or -1 with a message. */
int slp_parse_event_payloads(const uint8_t *ev, size_t size, bool declared[256], uint16_t payload_size[256], char *err,
			     size_t err_size);

#ifdef __cplusplus
}
#endif
