/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A simulated Slippi Dolphin spectator server, on a caller's event loop: `andross dolphin-sim`, and a demo source
 * for the OBS module. It serves replays the way Dolphin does (protocols.md §2, docs/sources-dolphin.md): an ENet
 * host (UDP) with 4 peers and 2 channels, JSON messages on channel 0, reliable.
 *
 * Cursor rules follow Dolphin's: the cursor is the message index, continuing across games; the history is the
 * current game (cleared at start_game, kept through the menu after end_game); a connect_request below the current
 * game or beyond the history restarts the spectator at the current game's start; one inside the history resumes
 * there; a spectator that joins in the menu is not caught up and gets the next start_game. Menu time between games
 * carries menu_event messages (10 a second). The next game starts only once every spectator has the last one.
 * After the last game (without `loop`), it ends as Dolphin does when it closes: end_game with dolphin_closed: true,
 * then it disconnects the spectators and reports `finished`.
 *
 * It never prints and never stops the loop: each line worth logging goes to `log`. Every function runs on the
 * loop's thread.
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

#define SIM_DOLPHIN_NICK_DEFAULT "andross-sim"
#define SIM_DOLPHIN_VERSION "3.4.0" /* the Slippi version in connect_reply */
#define SIM_DOLPHIN_MENU_MS_DEFAULT 1000
#define SIM_DOLPHIN_PEERS 4

struct sim_dolphin_options {
	/* UDP address to serve on (default 127.0.0.1; a name is resolved on the calling thread, which may block) */
	const char *host;
	uint16_t port; /* 0 (the default) picks a free port: sim_dolphin_port tells which */
	/* The games, played in order (at least one). Each is read whole at create; see sim_replay.h. */
	const struct sim_replay *replays;
	size_t n_replays;
	/* 1 = real time (60 frames a second, the default), N = N times faster, 0 = as fast as the spectators take it
	 * (at most 64 messages ahead of the slowest). */
	double speed;
	bool loop;        /* play the replays again and again: the simulator ends only by sim_dolphin_close */
	const char *nick; /* the nick in connect_reply (at most 127 bytes) */
	/* Menu time between games, in milliseconds of wall time (default 1000; `andross dolphin-sim` passes 1000 /
	 * speed, and 100 at max). */
	uint64_t menu_ms;
	size_t wait_spectators; /* start the first game only once this many spectators have connected (0: at once) */
	int64_t drop_after; /* testing: drop every spectator once, right after sending message N; -1 (default) never */
};

struct sim_dolphin_callbacks {
	/* One line of what the simulator does (spectators, cursors, games), without a newline, as `andross
	 * dolphin-sim` prints it. May be NULL. Must not destroy the simulator. */
	void (*log)(void *ud, const char *line);
	/*
	 * The simulator has ended (every game delivered, or sim_dolphin_close) and its spectators are disconnected:
	 * status 0, or 1 after an error (out of memory, already logged). Fires once, from its own loop callback: it
	 * may destroy the simulator. May be NULL.
	 */
	void (*finished)(void *ud, int status);
	void *ud;
};

/* The defaults: 127.0.0.1, a free port, speed 1, no replays, nick "andross-sim", 1 s of menu time, no wait, no
 * drop. */
void sim_dolphin_options_init(struct sim_dolphin_options *o);

struct sim_dolphin;

/*
 * Loads every replay and cuts it into Dolphin's messages (a replay whose events break off is sent up to there,
 * the rest as one message, with a log line), and serves. With wait_spectators 0 the first game starts at once.
 * Returns NULL with err: a replay that cannot be played (the message names its path or name), bad options, cannot
 * listen, out of memory.
 */
struct sim_dolphin *sim_dolphin_create(struct net_loop *loop, const struct sim_dolphin_options *o,
				       const struct sim_dolphin_callbacks *cb, char *err, size_t err_size);
/*
 * Ends as Dolphin does when it shuts down: end_game with dolphin_closed: true to every spectator; once they have
 * it (at most 1 s), disconnects them (at most 300 ms more) and reports `finished`. Nothing when already ending.
 */
void sim_dolphin_close(struct sim_dolphin *sim);
/* Frees everything at once; spectators still connected get ENet's disconnect notice. Any time, but not from
 * `log`. */
void sim_dolphin_destroy(struct sim_dolphin *sim);
/* The UDP port it serves on. */
uint16_t sim_dolphin_port(const struct sim_dolphin *sim);

#ifdef __cplusplus
}
#endif
