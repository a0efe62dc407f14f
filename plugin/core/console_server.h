/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The console's side of the Nintendont protocol, sans-I/O (protocols.md §1.7, §1.8): an append-only,
 * event-aligned history of the replay byte stream addressed by absolute cursors (bytes since start), holding the
 * last CONSOLE_HISTORY_BYTES; Nintendont's token rules and start-cursor choice; and REPLAY messages of whole
 * events (at most 25,000 bytes, a 0x35 always starts one and a 0x39 always ends one). Used by the simulator for
 * one client at a time and, later, by a relay for many clients, each a `console_session` (a position in the log).
 */
#pragma once

#include "bytes.h"
#include "console_proto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONSOLE_HISTORY_BYTES (3u * 1024u * 1024u) /* Nintendont's SLIPMEM_SIZE */
#define CONSOLE_LOG_MAX_GAMES 256                  /* size tables held for games still in the history */

struct console_game_table {
	uint64_t base; /* cursor of the game's Event Payloads */
	bool declared[256];
	uint16_t payload_size[256];
};

struct console_log {
	uint8_t *ring;   /* history_bytes bytes; absolute cursor c lives at ring[c % history_bytes] */
	uint8_t *starts; /* one bit per ring byte: an event starts there */
	size_t history_bytes;
	uint64_t start;       /* oldest cursor still held */
	uint64_t write;       /* end of the whole events appended so far */
	uint64_t base_cursor; /* the current (or last) game's Event Payloads */
	bool in_game;         /* between an Event Payloads and its Game End */
	struct console_game_table *games;
	size_t n_games;
	struct bytes partial; /* a partial event waiting for its end */
	bool failed;
	char error[192];
};

/* history_bytes 0 means CONSOLE_HISTORY_BYTES. Returns 0, or -1 when out of memory. */
int console_log_init(struct console_log *log, size_t history_bytes);
void console_log_free(struct console_log *log);
/*
 * Appends stream bytes (any chunking; `HELO\0` fillers are dropped). Events are committed whole. Returns 0, or -1
 * on a stream error (an event before any Event Payloads, an undeclared command, a bad size table, an event larger
 * than the history) with log->error; the log then refuses more bytes.
 */
int console_log_append(struct console_log *log, const uint8_t *data, size_t len);
/* The stream restarts at an event boundary (a source reconnect or gap): drops a partial event, clears a failure. */
void console_log_restart(struct console_log *log);
/* True when cursor is held in the history and starts an event (or equals the write cursor). */
bool console_log_readable(const struct console_log *log, uint64_t cursor);
/*
 * Copies whole events from cursor into out (at most max_bytes, except that a single larger event is copied
 * alone when out_size allows): stops before an Event Payloads once bytes were read and right after a Game End.
 * Returns the bytes copied (0 when there is nothing to read, or cursor is not readable). With out NULL it copies
 * nothing and returns how many bytes it would copy (out_size is then ignored).
 */
size_t console_log_read(const struct console_log *log, uint64_t cursor, uint8_t *out, size_t out_size,
			size_t max_bytes);

/* Appends one REPLAY message of the whole events at cursor (at most max_bytes, as console_log_read), reading them
 * from the log straight into the message. Returns the event bytes sent in it: 0 when there is nothing to send,
 * SIZE_MAX when out is full. */
size_t console_log_encode_replay(const struct console_log *log, uint64_t cursor, bool force_pos, size_t max_bytes,
				 struct bytes *out);

struct console_server {
	struct console_log log;
	uint32_t prev_token; /* the token of the last client dropped (Nintendont's client_prev); 0: none */
	uint64_t rng;
};

/* One connected client: its token and read cursor. */
struct console_session {
	uint32_t token;
	uint64_t cursor;
	bool force_next; /* the next REPLAY carries forcePos (the cursor jumped) */
	bool returning;  /* the handshake's token matched */
};

int console_server_init(struct console_server *s, size_t history_bytes, uint64_t seed);
void console_server_free(struct console_server *s);
/* A client's handshake: applies the token rules and picks the start cursor. Fills *session. */
void console_server_handshake(struct console_server *s, const struct console_hello *hello,
			      struct console_session *session);
/* The client went away: its token is remembered, so its next handshake resumes. */
void console_server_drop(struct console_server *s, const struct console_session *session);

enum console_next {
	CONSOLE_NEXT_NONE = 0, /* nothing new for this client */
	CONSOLE_NEXT_REPLAY,   /* a REPLAY frame was appended to out; the session's cursor advanced */
	CONSOLE_NEXT_OVERFLOW, /* the client fell out of the history: its cursor jumped to the write cursor and the
				  next REPLAY carries forcePos (Nintendont also pauses 1000 ms here) */
	CONSOLE_NEXT_ERROR,    /* out is full */
};
enum console_next console_server_next(struct console_server *s, struct console_session *session, struct bytes *out);
/* Appends the handshake reply for a session. */
bool console_server_reply(const struct console_server *s, const struct console_session *session, const char *nick,
			  const char *version, struct bytes *out);
