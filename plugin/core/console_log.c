/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The history ring of a console's stream (console_log.h). */
#include "console_log.h"
#include "console_proto.h"
#include "slp_splitter.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EVENT_BYTES (1u + 65535u)
#define APPEND_PIECE_BYTES (64u * 1024u)

struct console_game_table {
	uint64_t base; /* cursor of the game's Event Payloads */
	bool declared[256];
	uint16_t payload_size[256];
};

int console_log_init(struct console_log *log, size_t history_bytes)
{
	memset(log, 0, sizeof(*log));
	log->history_bytes = history_bytes ? history_bytes : CONSOLE_HISTORY_BYTES;
	log->ring = malloc(log->history_bytes);
	log->starts = calloc((log->history_bytes + 7) / 8, 1);
	log->games = calloc(CONSOLE_LOG_MAX_GAMES, sizeof(*log->games));
	bytes_init(&log->partial, MAX_EVENT_BYTES + APPEND_PIECE_BYTES);
	if (!log->ring || !log->starts || !log->games) {
		console_log_free(log);
		return -1;
	}
	return 0;
}

void console_log_free(struct console_log *log)
{
	free(log->ring);
	free(log->starts);
	free(log->games);
	bytes_free(&log->partial);
	log->ring = log->starts = NULL;
	log->games = NULL;
}

static inline size_t ring_at(const struct console_log *log, uint64_t cursor)
{
	return (size_t)(cursor % log->history_bytes);
}

static inline bool start_bit(const struct console_log *log, uint64_t cursor)
{
	size_t i = ring_at(log, cursor);
	return log->starts[i / 8] & (1u << (i % 8));
}

static void commit(struct console_log *log, const uint8_t *ev, size_t size)
{
	size_t at = ring_at(log, log->write);
	for (size_t done = 0; done < size;) {
		size_t n = size - done;
		if (n > log->history_bytes - at)
			n = log->history_bytes - at;
		memcpy(log->ring + at, ev + done, n);
		for (size_t i = at; i < at + n; i++)
			log->starts[i / 8] &= (uint8_t)~(1u << (i % 8));
		done += n;
		at = (at + n) % log->history_bytes;
	}
	size_t first = ring_at(log, log->write);
	log->starts[first / 8] |= (uint8_t)(1u << (first % 8));
	log->write += size;
	if (log->write - log->start > log->history_bytes)
		log->start = log->write - log->history_bytes;
	/* forget size tables of games wholly out of the history */
	size_t drop = 0;
	while (drop + 1 < log->n_games && log->games[drop + 1].base <= log->start)
		drop++;
	if (drop) {
		memmove(log->games, log->games + drop, (log->n_games - drop) * sizeof(*log->games));
		log->n_games -= drop;
	}
}

static int log_fail(struct console_log *log, const char *what, uint64_t at)
{
	snprintf(log->error, sizeof(log->error), "%s at stream byte %" PRIu64, what, at);
	log->failed = true;
	return -1;
}

static const struct console_game_table *game_at(const struct console_log *log, uint64_t cursor)
{
	for (size_t i = log->n_games; i-- > 0;) {
		if (log->games[i].base <= cursor)
			return &log->games[i];
	}
	return NULL;
}

static int append_piece(struct console_log *log, const uint8_t *data, size_t len);

int console_log_append(struct console_log *log, const uint8_t *data, size_t len)
{
	/* in pieces, so the carried partial event plus one piece stays within its bound */
	for (size_t done = 0; done < len;) {
		size_t n = len - done < APPEND_PIECE_BYTES ? len - done : APPEND_PIECE_BYTES;
		if (append_piece(log, data + done, n) < 0)
			return -1;
		done += n;
	}
	return log->failed ? -1 : 0;
}

static int append_piece(struct console_log *log, const uint8_t *data, size_t len)
{
	if (log->failed)
		return -1;
	if (!bytes_append(&log->partial, data, len))
		return log_fail(log, "out of memory for a partial event", log->write);
	size_t pos = 0;
	const uint8_t *p = log->partial.data;
	size_t avail = log->partial.len;
	while (pos < avail) {
		uint8_t code = p[pos];
		const struct console_game_table *t = log->n_games ? &log->games[log->n_games - 1] : NULL;
		size_t size;
		if (code == 'H' && !(t && t->declared['H'])) {
			size_t n = avail - pos < SLP_FILLER_LEN ? avail - pos : SLP_FILLER_LEN;
			if (!memcmp(p + pos, SLP_FILLER, n)) {
				if (n < SLP_FILLER_LEN)
					break;
				pos += SLP_FILLER_LEN;
				continue;
			}
		}
		if (code == SLP_CMD_EVENT_PAYLOADS) {
			if (avail - pos < 2)
				break;
			size = 1u + p[pos + 1];
		} else if (!t) {
			return log_fail(log, "an event before any Event Payloads", log->write);
		} else if (!t->declared[code]) {
			char what[64];
			snprintf(what, sizeof(what), "undeclared command 0x%02x", code);
			return log_fail(log, what, log->write);
		} else {
			size = 1u + t->payload_size[code];
		}
		if (size > log->history_bytes)
			return log_fail(log, "an event larger than the history", log->write);
		if (avail - pos < size)
			break;
		if (code == SLP_CMD_EVENT_PAYLOADS) {
			struct console_game_table g = {.base = log->write};
			char err[128];
			if (slp_parse_event_payloads(p + pos, size, g.declared, g.payload_size, err, sizeof(err)) < 0)
				return log_fail(log, err, log->write);
			if (log->n_games == CONSOLE_LOG_MAX_GAMES) {
				memmove(log->games, log->games + 1, (log->n_games - 1) * sizeof(*log->games));
				log->n_games--;
			}
			log->games[log->n_games++] = g;
			log->base_cursor = log->write;
			log->in_game = true;
		} else if (code == SLP_CMD_GAME_END) {
			log->in_game = false;
		}
		commit(log, p + pos, size);
		pos += size;
	}
	bytes_consume(&log->partial, pos);
	return 0;
}

void console_log_restart(struct console_log *log)
{
	bytes_clear(&log->partial);
	log->failed = false;
	log->error[0] = 0;
}

uint64_t console_log_start(const struct console_log *log)
{
	return log->start;
}

uint64_t console_log_end(const struct console_log *log)
{
	return log->write;
}

uint64_t console_log_game_start(const struct console_log *log)
{
	return log->base_cursor;
}

bool console_log_in_game(const struct console_log *log)
{
	return log->in_game;
}

const char *console_log_error(const struct console_log *log)
{
	return log->error;
}

bool console_log_readable(const struct console_log *log, uint64_t cursor)
{
	if (cursor == log->write)
		return true;
	if (cursor > log->write || cursor < log->start || log->write - cursor >= log->history_bytes)
		return false;
	if (!log->n_games || cursor < log->games[0].base)
		return false;
	return start_bit(log, cursor);
}

static void ring_copy(const struct console_log *log, uint64_t cursor, uint8_t *out, size_t n)
{
	size_t at = ring_at(log, cursor);
	size_t first = n < log->history_bytes - at ? n : log->history_bytes - at;
	memcpy(out, log->ring + at, first);
	if (first < n)
		memcpy(out + first, log->ring, n - first);
}

size_t console_log_span(const struct console_log *log, uint64_t cursor, const uint8_t **p)
{
	*p = NULL;
	if (cursor >= log->write || cursor < log->start)
		return 0;
	size_t at = ring_at(log, cursor);
	uint64_t n = log->write - cursor;
	if (n > log->history_bytes - at)
		n = log->history_bytes - at; /* the rest starts the ring over: the next span */
	*p = log->ring + at;
	return (size_t)n;
}

uint64_t console_log_next_game(const struct console_log *log, uint64_t cursor)
{
	uint64_t c = cursor;
	while (c < log->write) {
		if (log->ring[ring_at(log, c)] == SLP_CMD_EVENT_PAYLOADS && console_log_readable(log, c))
			return c;
		/* the whole events up to the next Event Payloads or past a Game End, counted, not copied */
		size_t n = console_log_read(log, c, NULL, 0, SIZE_MAX);
		c = n ? c + n : log->write;
	}
	return c;
}

size_t console_log_read(const struct console_log *log, uint64_t cursor, uint8_t *out, size_t out_size, size_t max_bytes)
{
	if (!console_log_readable(log, cursor))
		return 0;
	size_t n = 0;
	uint64_t c = cursor;
	while (c < log->write) {
		uint8_t code = log->ring[ring_at(log, c)];
		size_t size;
		if (code == SLP_CMD_EVENT_PAYLOADS) {
			size = 1u + log->ring[ring_at(log, c + 1)];
		} else {
			const struct console_game_table *t = game_at(log, c);
			size = t ? 1u + t->payload_size[code] : 1u;
		}
		if (code == SLP_CMD_EVENT_PAYLOADS && n > 0)
			break;
		if (n + size > max_bytes && n > 0)
			break;
		if (out && n + size > out_size)
			break;
		if (out)
			ring_copy(log, c, out + n, size);
		n += size;
		c += size;
		if (code == SLP_CMD_GAME_END)
			break;
	}
	return n;
}

size_t console_log_encode_replay(const struct console_log *log, uint64_t cursor, bool force_pos, size_t max_bytes,
				 struct bytes *out)
{
	size_t n = console_log_read(log, cursor, NULL, 0, max_bytes);
	if (n == 0)
		return 0;
	size_t before = out->len;
	size_t data_offset;
	if (!console_replay_encode_reserve(out, cursor, force_pos, n, &data_offset))
		return SIZE_MAX;
	if (console_log_read(log, cursor, out->data + data_offset, n, max_bytes) != n) {
		out->len = before; /* cannot happen: the log did not change in between */
		return SIZE_MAX;
	}
	return n;
}
