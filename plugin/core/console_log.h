/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The history of a console's replay byte stream, sans-I/O (protocols.md §1.7): append-only, event-aligned, addressed
 * by absolute cursors (bytes since the stream began), holding the last history_bytes in a ring. It knows each game's
 * size table while the game is in the history, so it can cut the stream into whole events anywhere, and it tracks
 * the current game's Event Payloads, where a fresh client starts. Shared by the Wii simulator (console_server, one
 * client at a time) and the relay (many clients, each a cursor into one log).
 *
 * Not thread-safe: one thread owns a log (the relay's and the simulator's: their loop thread).
 */
#pragma once

#include "bytes.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CONSOLE_HISTORY_BYTES (3u * 1024u * 1024u) /* Nintendont's SLIPMEM_SIZE */
#define CONSOLE_LOG_MAX_GAMES 256                  /* size tables held for games still in the history */

struct console_game_table;

/*
 * Visible only so that an owner can embed it: every field is private to console_log.c. Read a log through the
 * functions below, which keep the invariants (event alignment, the ring's wrap, the size tables) in one place.
 */
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
 * than the history) with console_log_error set; the log then refuses more bytes until console_log_restart.
 */
int console_log_append(struct console_log *log, const uint8_t *data, size_t len);
/* The stream restarts at an event boundary (a source reconnect or gap): drops a partial event, clears a failure. */
void console_log_restart(struct console_log *log);

/* The oldest cursor still held (0 until the history first wraps). */
uint64_t console_log_start(const struct console_log *log);
/* The write cursor: the end of the whole events appended so far (a partial event is not counted). */
uint64_t console_log_end(const struct console_log *log);
/* The cursor of the current game's Event Payloads, or of the last game's after its Game End; 0 before any game.
 * It may have left the history: check console_log_readable before serving from it. */
uint64_t console_log_game_start(const struct console_log *log);
/* True between a game's Event Payloads and its Game End. */
bool console_log_in_game(const struct console_log *log);
/* Why the last append failed ("" when it did not, or after console_log_restart). */
const char *console_log_error(const struct console_log *log);

/* True when cursor is held in the history and starts an event (or equals the write cursor). */
bool console_log_readable(const struct console_log *log, uint64_t cursor);
/*
 * Zero-copy access for a byte stream: points *p at the history's bytes from cursor on and returns how many are
 * contiguous, up to the ring's wrap or the write cursor (the rest, if any, is the next span). cursor need not start
 * an event. Returns 0 (and *p NULL) when cursor is at or past the write cursor or no longer held. The bytes stay
 * valid until the next append.
 */
size_t console_log_span(const struct console_log *log, uint64_t cursor, const uint8_t **p);
/*
 * The first game start at or after cursor, walking whole events: the cursor of an Event Payloads that is held, or
 * the write cursor when no game starts before it (or cursor cannot be read). A cursor at or past the write cursor
 * is returned as it is.
 */
uint64_t console_log_next_game(const struct console_log *log, uint64_t cursor);
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

#ifdef __cplusplus
}
#endif
