/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The console's side of the Nintendont protocol, sans-I/O (protocols.md §1.7, §1.8): Nintendont's token rules and
 * start-cursor choice, and REPLAY messages of whole events (at most 25,000 bytes, a 0x35 always starts one and a
 * 0x39 always ends one) read from a `console_log` (console_log.h) of the last CONSOLE_HISTORY_BYTES. Used by the
 * simulator and the benchmarks' simulated Wii, one client at a time, each a `console_session` (a position in the
 * log). The relay serves many clients from its own console_log with its own token table.
 */
#pragma once

#include "bytes.h"
#include "console_log.h"
#include "console_proto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct console_server {
	struct console_log log;
	uint32_t prev_token; /* the token of the last client dropped (Nintendont's client_prev); 0: none */
	uint64_t rng;        /* console_token_next's state */
};

/* One connected client: its token and read cursor. */
struct console_session {
	uint32_t token;
	uint64_t cursor;
	bool force_next; /* the next REPLAY carries forcePos (the cursor jumped) */
	bool returning;  /* the handshake's token matched */
};

/* history_bytes 0 means CONSOLE_HISTORY_BYTES; seed is the token generator's (console_token_next: 0 is a fixed one).
 * Returns 0, or -1 when out of memory. */
int console_server_init(struct console_server *s, size_t history_bytes, uint64_t seed);
void console_server_free(struct console_server *s);
/* The server's history: append the console's stream to it (console_log_append, console_log_restart). */
struct console_log *console_server_log(struct console_server *s);
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

#ifdef __cplusplus
}
#endif
