/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A source of Slippi stream bytes driven by the event loop: a replay file, a Wii console, Slippi Dolphin or a
 * relay. Each kind registers a `struct source_kind` under its URL scheme (`console://`, `dolphin://`, `relay://`;
 * a plain path is a file). Every source hands over event-aligned bytes in order, and reports its connection
 * state, gaps (bytes it knows it lost) and its end.
 */
#pragma once

#include "bytes.h"
#include "net/loop.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum source_state {
	SOURCE_DISCONNECTED = 0,
	SOURCE_CONNECTING,
	SOURCE_CONNECTED,
	SOURCE_WAITING, /* waiting to reconnect */
};

struct source_callbacks {
	/* Stream bytes, in order; whole events across calls (a call may end inside an event). */
	void (*data)(void *ud, const uint8_t *bytes, size_t len);
	void (*state)(void *ud, enum source_state state, const char *reason);
	/* The stream restarts at an event boundary: any partial event from before is void (for example a reconnect
	 * that could not resume, or a forced jump). from/to are the source's byte positions; equal when unknown. */
	void (*gap)(void *ud, uint64_t from_byte, uint64_t to_byte, const char *reason);
	/* Nothing more will come (a file played to its end, or the source gave up). */
	void (*ended)(void *ud, const char *reason);
	void *ud;
};

struct source_options {
	double speed; /* file sources: 0 = as fast as possible, 1 = real time, N = N times faster */
	const char *nick;
};

struct source;

struct source_kind {
	const char *scheme; /* "console", "dolphin", "relay"; NULL for plain file paths */
	uint16_t default_port;
	/* address is what follows "scheme://" (or the path). Returns NULL with err on failure. */
	struct source *(*create)(struct net_loop *loop, const char *address, const struct source_options *opts,
				 const struct source_callbacks *cb, char *err, size_t err_size);
	void (*destroy)(struct source *src);
	/* The name the other end gave itself (a Wii's nickname), or NULL/"" when it has none. Optional. */
	const char *(*nick)(const struct source *src);
	/* While SOURCE_WAITING: when the next attempt is due (net_now_ms's clock); 0 otherwise. Optional. */
	uint64_t (*retry_at_ms)(const struct source *src);
};

/* Creates the source a URL names. Returns NULL with err (an unknown scheme, a bad address, an unreadable file). */
struct source *source_create(struct net_loop *loop, const char *url, const struct source_options *opts,
			     const struct source_callbacks *cb, char *err, size_t err_size);
void source_destroy(struct source *src);
/* The source's own name for itself once connected (a Wii's nickname, Dolphin's nick); "" when unknown. */
const char *source_nick(const struct source *src);
/* While it waits to reconnect: when the next attempt is due (net_now_ms's clock), set before `state` reports
 * SOURCE_WAITING; 0 when no attempt is waiting. */
uint64_t source_retry_at_ms(const struct source *src);

/* Every source struct starts with this header so source_destroy can find its kind. */
struct source {
	const struct source_kind *kind;
};

const char *source_state_name(enum source_state state);
/* JSON forms of connection events (docs/events.md), without a trailing newline. */
bool source_state_event_json(struct bytes *out, const char *url, enum source_state state, const char *reason);
bool source_gap_event_json(struct bytes *out, const char *url, uint64_t from_byte, uint64_t to_byte,
			   const char *reason);

extern const struct source_kind source_kind_file;
extern const struct source_kind source_kind_console, source_kind_relay;
extern const struct source_kind source_kind_dolphin;

#ifdef __cplusplus
}
#endif
