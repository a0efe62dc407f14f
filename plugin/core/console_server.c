/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Nintendont's side of a client session (console_server.h), served from a console_log. */
#include "console_server.h"

#include <string.h>

int console_server_init(struct console_server *s, size_t history_bytes, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	s->rng = seed;
	return console_log_init(&s->log, history_bytes) < 0 ? -1 : 0;
}

void console_server_free(struct console_server *s)
{
	console_log_free(&s->log);
}

struct console_log *console_server_log(struct console_server *s)
{
	return &s->log;
}

/* A fresh client's token: never the one the last client left with, which would make that client a stranger. */
static uint32_t new_token(struct console_server *s)
{
	uint32_t t;
	do
		t = console_token_next(&s->rng);
	while (t == s->prev_token);
	return t;
}

void console_server_handshake(struct console_server *s, const struct console_hello *hello,
			      struct console_session *session)
{
	const struct console_log *log = &s->log;
	uint64_t base = console_log_game_start(log), write = console_log_end(log);
	memset(session, 0, sizeof(*session));
	session->returning = hello->token != 0 && hello->token == s->prev_token;
	uint64_t c = hello->cursor;
	if (!session->returning) {
		/* fresh client: a new token; the whole current game, or only future data */
		session->token = new_token(s);
		session->cursor = console_log_in_game(log) ? base : write;
	} else {
		session->token = hello->token;
		if (console_log_in_game(log))
			session->cursor = (c >= base && c <= write) ? c : base;
		else
			session->cursor = c >= base ? (c < write ? c : write) : write;
	}
}

void console_server_drop(struct console_server *s, const struct console_session *session)
{
	s->prev_token = session->token;
}

enum console_next console_server_next(struct console_server *s, struct console_session *session, struct bytes *out)
{
	struct console_log *log = &s->log;
	if (!console_log_readable(log, session->cursor)) {
		session->cursor = console_log_end(log);
		session->force_next = true;
		return CONSOLE_NEXT_OVERFLOW;
	}
	size_t n = console_log_encode_replay(log, session->cursor, session->force_next, CONSOLE_REPLAY_MAX_DATA_BYTES,
					     out);
	if (n == 0)
		return CONSOLE_NEXT_NONE;
	if (n == SIZE_MAX)
		return CONSOLE_NEXT_ERROR;
	session->cursor += n;
	session->force_next = false;
	return CONSOLE_NEXT_REPLAY;
}

bool console_server_reply(const struct console_server *s, const struct console_session *session, const char *nick,
			  const char *version, struct bytes *out)
{
	(void)s;
	return console_reply_encode(out, nick, version, session->token, session->cursor);
}
