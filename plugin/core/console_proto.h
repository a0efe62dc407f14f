/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Slippi Nintendont TCP protocol (docs protocols.md §1), sans-I/O: the client handshake, the framer
 * (`u32 BE length` + one UBJSON object), message decoding, and the console's side of the encoding. No sockets,
 * no threads; the framer's memory is bounded by its frame limit.
 */
#pragma once

#include "bytes.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CONSOLE_PORT_DEFAULT 51441
#define CONSOLE_DISCOVERY_PORT 20582
#define CONSOLE_HANDSHAKE_BYTES 83
#define CONSOLE_KEEPALIVE_BYTES 14
/* Frames above this are an error, never an allocation (the largest real one is a 25,000-byte REPLAY). */
#define CONSOLE_FRAME_MAX_BYTES (1024u * 1024u)
#define CONSOLE_REPLAY_MAX_DATA_BYTES 25000u
/* The console hangs up on a client handshake longer than this. */
#define CONSOLE_HANDSHAKE_MAX_BODY_BYTES 1024u
#define CONSOLE_NICK_MAX 32

enum console_msg_type {
	CONSOLE_MSG_HANDSHAKE = 1,
	CONSOLE_MSG_REPLAY = 2,
	CONSOLE_MSG_KEEP_ALIVE = 3,
};

/* The exact 83 bytes slippi-js sends (length prefix included). */
void console_handshake_encode(uint8_t out[CONSOLE_HANDSHAKE_BYTES], uint64_t cursor, uint32_t token, bool realtime);

/* What the console reads from a client handshake: fixed offsets of the body, as Nintendont does. */
struct console_hello {
	uint8_t type;
	uint64_t cursor;
	uint32_t token;
	bool realtime;
};
/* body is the frame after the length prefix. Returns 0, or -1 with err (too short, too long, not type 1). */
int console_hello_decode(const uint8_t *body, size_t len, struct console_hello *out, char *err, size_t err_size);

/* A decoded console message. Pointers point into the frame body passed to console_msg_decode. */
struct console_msg {
	int64_t type;
	/* handshake reply */
	const char *nick;
	size_t nick_len;
	const char *version;
	size_t version_len;
	uint32_t token;
	/* handshake reply (pos) and REPLAY (pos, next_pos, force_pos, data) */
	uint64_t pos;
	uint64_t next_pos;
	bool force_pos;
	const uint8_t *data;
	size_t data_len;
};
/*
 * Decodes one frame body. Returns 0 with m->type set (an unknown type decodes with no fields), or -1 with err
 * naming the problem: invalid UBJSON, a missing or mistyped field, a blob of the wrong size, or a REPLAY whose
 * nextPos - pos differs from the data length.
 */
int console_msg_decode(const uint8_t *body, size_t len, struct console_msg *m, char *err, size_t err_size);

/* The framer: fed chunks of any size, yields whole frame bodies. */
typedef int (*console_frame_fn)(void *ud, const uint8_t *body, size_t len);
struct console_framer {
	struct bytes buf; /* a partial frame, at most 4 + max_frame_bytes */
	size_t max_frame_bytes;
	uint64_t frames;
	bool failed;
	char error[128];
};
void console_framer_init(struct console_framer *f, size_t max_frame_bytes);
void console_framer_free(struct console_framer *f);
/* Drops a partial frame and clears a failure: call it on every new TCP session. */
void console_framer_reset(struct console_framer *f);
/*
 * Feeds a chunk; calls fn for each whole frame. Returns 0, -1 on a bad length (f->error; the framer stays failed
 * until reset), or fn's nonzero return value (the rest of the chunk is not consumed).
 */
int console_framer_feed(struct console_framer *f, const uint8_t *data, size_t len, console_frame_fn fn, void *ud);
static inline size_t console_framer_pending_bytes(const struct console_framer *f)
{
	return f->buf.len;
}

/* The console's side. Each appends a whole frame (length prefix included) to out; false when out is full. */
bool console_reply_encode(struct bytes *out, const char *nick, const char *version, uint32_t token, uint64_t pos);
bool console_replay_encode(struct bytes *out, uint64_t pos, bool force_pos, const uint8_t *data, size_t len);
/* The same with the len data bytes left for the caller to fill at out->data + *data_offset. */
bool console_replay_encode_reserve(struct bytes *out, uint64_t pos, bool force_pos, size_t len, size_t *data_offset);
bool console_keepalive_encode(struct bytes *out);

/*
 * The one session-token generator of the console's side (the simulator's console_server and the relay): the next
 * token from *rng, an xorshift64* state that the caller seeds (any value; 0 is taken as a fixed non-zero seed, since
 * the generator would stay at 0). Never returns 0, which on the wire means "no token" (a first-time client).
 * Callers loop while a token is taken by one of their clients.
 */
uint32_t console_token_next(uint64_t *rng);

/* slippi-js's NORMAL/LEGACY decision (§1.11) on the first bytes of a session. */
enum console_mode {
	CONSOLE_MODE_UNKNOWN = 0, /* fewer than 13 bytes so far, all consistent with a handshake reply */
	CONSOLE_MODE_NORMAL,      /* bytes 4..12 are `{ i4 "type" U 1` */
	CONSOLE_MODE_RAW,         /* anything else: raw event bytes (legacy console or a Launcher relay) */
};
enum console_mode console_detect_mode(const uint8_t *first, size_t len);

#ifdef __cplusplus
}
#endif
