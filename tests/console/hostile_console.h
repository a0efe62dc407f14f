/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A lying console for the hostile-peer tests (the honest one is `andross console-sim`): it serves a real replay's
 * event stream over the Nintendont protocol, or raw as a relay does, and each session follows a plan that says
 * how it lies. It runs on its own thread, one client at a time like a Wii, on 127.0.0.1 only, and counts the
 * connections it accepted and when.
 */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HC_MAX_SESSIONS 1024

enum hc_act {
	HC_HONEST,             /* whole-event REPLAYs from the client's cursor to `at` (0: the end), held `hold_ms` */
	HC_UNALIGNED_THEN_BAD, /* `count` REPLAYs of `chunk` bytes cut inside events, then a bad REPLAY: the rest of
				  the cut event and an undeclared command (or, with bad_pos, a REPLAY at a wrong pos) */
	HC_BACKWARD_FORCEPOS,  /* honest to `at`, a forcePos REPLAY of bytes back_to..at, then honest from `at` */
	HC_REPLY_BEHIND,       /* the reply's pos is `back_to` whatever the cursor asked, then honest from there */
	HC_REPLY_HANGUP,       /* the handshake reply, then hang up at once */
	HC_JUNK,               /* bytes that are neither a reply nor events, then hang up */
	HC_RAW,                /* raw event bytes from the start of the stream to `at` (a relay), then hang up */
};

struct hc_plan {
	enum hc_act act;
	size_t at;      /* a stream offset (event-aligned where it matters) */
	size_t back_to; /* a stream offset before `at` */
	size_t chunk;
	unsigned count;
	bool bad_pos;
	unsigned hold_ms; /* HC_HONEST: 0 keeps the session (with keepalives) until the client goes */
};

/* Fills the plan of session number `session` (0 first). */
typedef void (*hc_plan_fn)(void *ud, unsigned session, struct hc_plan *plan);

struct hostile_console {
	/* set before hc_start */
	const uint8_t *stream; /* event bytes of one or more games, starting with an Event Payloads */
	size_t stream_len;
	uint64_t base; /* the console cursor of stream[0] */
	hc_plan_fn plan;
	void *plan_ud;
	bool raw; /* a relay: the client's handshake is not read */

	uint16_t port;
	/* the connections accepted so far, and when (net_now_ms) */
	atomic_uint sessions;
	uint64_t accept_ms[HC_MAX_SESSIONS];

	pthread_t thread;
	int listen_fd;
	atomic_bool stopping;
	size_t *starts; /* offsets of the events in the stream, then stream_len */
	size_t n_starts;
};

/* Indexes the stream's events (so that plans can be computed before the console runs). Returns 0, or -1. */
int hc_index(struct hostile_console *hc);
/* Indexes the stream if not done yet, listens on 127.0.0.1 (a free port, in hc->port) and starts serving on a
 * thread. Returns 0, or -1. */
int hc_start(struct hostile_console *hc);
void hc_stop(struct hostile_console *hc);
/* Whether an event starts at this stream offset (or it is the end of the stream). */
bool hc_is_boundary(const struct hostile_console *hc, size_t offset);
/* The last event boundary at or before offset. */
size_t hc_boundary_before(const struct hostile_console *hc, size_t offset);
/* Connections accepted from from_ms (inclusive) to to_ms (exclusive), in net_now_ms time. */
unsigned hc_sessions_between(struct hostile_console *hc, uint64_t from_ms, uint64_t to_ms);
