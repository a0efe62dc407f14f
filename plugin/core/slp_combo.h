/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Combos on the live game, as slippi-js 9.1.2 defines them (`getStats().combos`): in a game of exactly two players,
 * a combo on a player starts on a frame where they are damaged, grabbed or command-grabbed, counts the attacker's
 * moves (a new move when the attacker's animation changed since the last hit), and ends when the player loses a stock
 * (didKill) or spends more than SLP_COMBO_RESET_FRAMES frames in a row neither damaged, grabbed, teching, down nor
 * dying. docs/events.md lists the rules and where andross deviates.
 *
 * Frames count only once final: the detector keeps the last SLP_COMBO_RING frames of the players' Post-Frame
 * Updates (a re-sent frame overwrites its copy) and steps the rules over a frame when slp_game says it can no longer
 * change, as slippi-js's parser finalizes frames. Sans-I/O, no allocation: a combo holds at most
 * SLP_COMBO_MAX_MOVES moves (its `hits` still counts them all).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SLP_COMBO_PLAYERS 4
#define SLP_COMBO_MAX_MOVES 64
/* frames in a row out of hitstun, grabs, techs, knockdowns and death before a combo ends (slippi-js's
 * Timers.COMBO_STRING_RESET_FRAMES) */
#define SLP_COMBO_RESET_FRAMES 45
/* frames kept before they are final: slippi-js finalizes 7 frames back (more than a rollback reaches) */
#define SLP_COMBO_RING 32

/* The fields of one leader Post-Frame Update the rules read. */
struct slp_combo_post {
	float percent;
	float action_counter; /* the action-state frame counter (0x22, since 0.2.0) */
	uint16_t action_state;
	uint8_t last_attack_landed;
	uint8_t stocks;
	bool has_action_counter;
};

struct slp_combo_move {
	int32_t frame;
	uint8_t move_id; /* the attacker's last attack landed */
	uint32_t hit_count;
	double damage;
};

struct slp_combo {
	int victim;   /* slippi-js playerIndex: the player being comboed */
	int attacker; /* slippi-js lastHitBy, and each move's playerIndex */
	int32_t start_frame;
	bool ended; /* false: the game ended first; end_frame and end_percent are unset (undefined in slippi-js) */
	int32_t end_frame;
	float start_percent;
	float current_percent;
	float end_percent;
	bool did_kill;
	uint32_t hits;    /* moves, all of them */
	uint32_t n_moves; /* moves stored: min(hits, SLP_COMBO_MAX_MOVES) */
	struct slp_combo_move moves[SLP_COMBO_MAX_MOVES];
};

/* One attacker on one victim (slippi-js's player permutation). */
struct slp_combo_pair {
	bool active;
	int move; /* the move being hit with: an index into combo.moves, -1 none, SLP_COMBO_MAX_MOVES not stored */
	uint32_t reset_counter;
	bool has_last_hit_animation;
	uint16_t last_hit_animation;
	struct slp_combo combo;
};

struct slp_combo_slot {
	int32_t frame;
	uint8_t have; /* bit i: player i's Post-Frame Update arrived */
	struct slp_combo_post post[SLP_COMBO_PLAYERS];
};

typedef void (*slp_combo_fn)(void *ud, const struct slp_combo *combo);

struct slp_combo_detector {
	bool enabled; /* exactly two players */
	int players[2];
	struct slp_combo_pair pairs[2]; /* players[0] on players[1], then players[1] on players[0] */
	bool has_seen;
	int32_t highest_seen;   /* the highest frame with a Post-Frame Update */
	int64_t last_finalized; /* frames up to here were stepped over (or skipped) */
	bool has_prev;
	int32_t prev_frame; /* the last frame stepped over: its updates are still in the ring */
	struct slp_combo_slot ring[SLP_COMBO_RING];
	uint64_t frames_stepped;
	uint64_t frames_skipped; /* final frames that were missing or lacked a player's update */
};

/* present[i]: player i is in the game. The detector runs only when exactly two are. */
void slp_combo_init(struct slp_combo_detector *d, const bool present[SLP_COMBO_PLAYERS]);
/* A leader Post-Frame Update (the newest copy of a frame replaces the older one). */
void slp_combo_post(struct slp_combo_detector *d, int32_t frame, int player, const struct slp_combo_post *p);
/* Frames up to `frame` are final: steps the rules over each (never past the highest frame received), in order;
 * emit gets every combo that ends. */
void slp_combo_finalize(struct slp_combo_detector *d, int64_t frame, slp_combo_fn emit, void *ud);
/* The game ended: emit gets every combo still open (ended false); the detector then stops. */
void slp_combo_finish(struct slp_combo_detector *d, slp_combo_fn emit, void *ud);
/* The combo's damage: its end percent (its current one while open) minus its start percent. */
double slp_combo_damage(const struct slp_combo *c);

#ifdef __cplusplus
}
#endif
