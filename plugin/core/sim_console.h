/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A simulated Wii running Slippi Nintendont, on a caller's event loop: `andross console-sim`, and the OBS module's
 * built-in demo console.
 *
 * It listens on TCP and serves one client at a time (listen backlog 1) with the console protocol (protocols.md
 * §1): the handshake, Nintendont's tokens and cursors over a 3 MiB history (a client that falls out of it jumps
 * ahead with forcePos, after a pause), REPLAY messages of whole events up to 25,000 bytes, keepalives every 500 ms
 * when idle. It plays the replays as games one after another, with menu time between them; the first game starts
 * when the first client has shaken hands. While no client is connected it sends SLIP_READY discovery datagrams.
 *
 * It never prints and never stops the loop: each line worth logging goes to `log`, and `finished` says when it is
 * done. Every function runs on the loop's thread (create the simulator from a function posted to the loop when
 * the loop runs on another thread).
 */
#pragma once

#include "net/loop.h"
#include "sim_replay.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIM_CONSOLE_NICK_DEFAULT "andross-sim"
#define SIM_CONSOLE_MENU_MS_DEFAULT 1000
#define SIM_CONSOLE_BROADCAST_HOST_DEFAULT "127.0.0.1"

struct sim_console_options {
	const char *host; /* address to listen on (default 127.0.0.1) */
	uint16_t port;    /* 0 (the default) picks a free port: sim_console_port tells which */
	/* The games, played in order (at least one). Each is read whole at create; see sim_replay.h. */
	const struct sim_replay *replays;
	size_t n_replays;
	/*
	 * 1 = real time (60 frames a second, the default), N = N times faster. 0 = as fast as the client drains:
	 * while it does not drain, the game still advances (10 frames a millisecond, so a stalled client overflows
	 * the history as on a real console), but the next game waits until the client has the last one.
	 */
	double speed;
	bool loop;        /* play the replays again and again (then `finished` only reports a fatal error) */
	const char *nick; /* the console's nickname, in handshake replies and discovery datagrams */
	/* Where the SLIP_READY datagrams go, once a second (scaled by speed; 10 a second at max) while no client is
	 * connected. NULL: none. Default 127.0.0.1:20582. */
	const char *broadcast_host;
	uint16_t broadcast_port;
	/* Menu time between games, in milliseconds of wall time (default 1000; `andross console-sim` passes 1000 /
	 * speed, and 300 at max). At max speed the menu lasts until the client has been caught up this long. */
	uint64_t menu_ms;
	uint64_t seed; /* the token generator's seed; 0: from the clock */
};

/* A frame the simulator wrote to its client: for timing what a client does with it (bench/obs). */
struct sim_console_frame {
	uint64_t game;  /* the game it belongs to: 1, 2, ... in the order played (counting on with `loop`) */
	bool has_frame; /* false for the game's start: its Event Payloads and Game Start */
	int32_t frame;  /* the replay's frame number (its Frame Start, or the leader's Pre-Frame Update) */
	/* The stream position just past its last byte (the console protocol's cursor). For the game's start, past
	 * its Game Start: the rest of the bytes before the first frame (Gecko codes) belong to no report. */
	uint64_t stream_end;
	uint64_t write_ns; /* net_now_ns() just before the write that handed its last byte to the kernel */
};

struct sim_console_callbacks {
	/* One line of what the simulator does (a client connected, its handshake, a game played, an overflow, a
	 * replay that ends early), without a newline, as `andross console-sim` prints it. May be NULL. Must not
	 * destroy the simulator. */
	void (*log)(void *ud, const char *line);
	/*
	 * Every game was sent and the client has it all (never with `loop`), status 0; or a fatal error (already
	 * logged), status 1. Fires once, from its own loop callback: it may destroy the simulator. The simulator
	 * keeps serving until destroyed. May be NULL.
	 */
	void (*finished)(void *ud, int status);
	/*
	 * A frame's last byte was written to the client (frames are cut as slp_frames.h cuts them; a game's start,
	 * up to its Game Start, is one more). Each frame is reported once, in stream order, when a client first gets
	 * it; frames no client got (skipped on an overflow, or older than where a fresh client starts) never are.
	 * May be NULL: the simulator then keeps no record of its frames. Must not destroy the simulator.
	 */
	void (*frame_written)(void *ud, const struct sim_console_frame *f);
	void *ud;
};

/* The defaults: 127.0.0.1, a free port, speed 1, no replays, nick "andross-sim", broadcasts to 127.0.0.1:20582,
 * 1 s of menu time. */
void sim_console_options_init(struct sim_console_options *o);

struct sim_console;

/*
 * Loads every replay (a replay whose last events are cut off or invalid is played up to them, with a log line),
 * listens, and starts broadcasting. Returns NULL with err: a replay that cannot be played (the message names its
 * path or name), bad options, cannot listen, out of memory. A broadcast socket that cannot be opened is only
 * logged.
 */
struct sim_console *sim_console_create(struct net_loop *loop, const struct sim_console_options *o,
				       const struct sim_console_callbacks *cb, char *err, size_t err_size);
/* Closes the client (logged as dropped) and the listener, and frees everything. Any time, but not from `log`. */
void sim_console_destroy(struct sim_console *sim);
/* The TCP port it listens on. */
uint16_t sim_console_port(const struct sim_console *sim);
/* Games played to their end so far. */
uint64_t sim_console_games_played(const struct sim_console *sim);

#ifdef __cplusplus
}
#endif
