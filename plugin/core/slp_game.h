/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Live game state, fed events from the splitter, and the game events derived from it (game_start, frame,
 * stock_lost, combo, game_end). Sans-I/O. Correct under rollback (re-sent frames), Ice Climbers' Nana (follower events
 * are ignored for player state), players whose events stop, and a missing or repeated Game End.
 */
#pragma once

#include "bytes.h"
#include "slp_combo.h"
#include "slp_splitter.h"

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SLP_MAX_PLAYERS 4
#define SLP_PLAYER_TYPE_EMPTY 3

enum slp_game_end_method {
	SLP_END_UNRESOLVED = 0, /* before 2.0 */
	SLP_END_TIME = 1,
	SLP_END_GAME = 2,
	SLP_END_RESOLVED = 3, /* before 2.0 */
	SLP_END_NO_CONTEST = 7,
};

struct slp_player_info {
	bool present; /* in the game (type != 3) */
	uint8_t type;
	uint8_t character_id;            /* external (character-select) id, Zelda/Sheik fix applied */
	uint8_t game_start_character_id; /* the raw Game Start byte */
	uint8_t start_stocks;
	uint8_t costume;
	uint8_t team_id;
	char nametag[64];
	char display_name[128];
	char connect_code[48];
};

struct slp_player_state {
	bool has_frame;
	int32_t frame; /* last frame this player has leader data for */
	uint8_t stocks_remaining;
	float percent;
	uint8_t internal_character_id;
	uint8_t lowest_stocks; /* lowest stock count reported so far: a re-sent frame never re-reports a loss */
	bool seen_first_post_frame;
	uint8_t first_internal_character_id;
	/* the rest of the latest leader Post-Frame Update (docs: slp-format.md 3.6) */
	uint16_t action_state;
	uint8_t last_attack_landed;
	uint8_t combo_count;
	uint8_t last_hit_by;
	bool has_action_counter; /* 0.2.0+ */
	float action_counter;    /* frames into the current action state */
};

struct slp_game_end_info {
	bool present;
	uint8_t method;
	bool has_lras;
	int8_t lras_initiator;
	bool has_placements;
	int8_t placements[SLP_MAX_PLAYERS];
	int32_t frame; /* the last frame when the Game End arrived */
};

enum slp_game_event_type {
	SLP_GAME_EVENT_INVALID = 0,
	SLP_GAME_EVENT_GAME_START,
	SLP_GAME_EVENT_FRAME,
	SLP_GAME_EVENT_STOCK_LOST,
	SLP_GAME_EVENT_GAME_END,
	SLP_GAME_EVENT_COMBO,
};

struct slp_game;

struct slp_game_event {
	enum slp_game_event_type type;
	const struct slp_game *game; /* the full state at the time of the event */
	int32_t frame;
	int player_index; /* stock_lost */
	uint8_t stocks_remaining;
	float percent;                 /* stock_lost: the percent the player had on the frame before */
	const struct slp_combo *combo; /* combo: the combo that ended (player_index is its victim) */
};

typedef void (*slp_game_event_fn)(void *ud, const struct slp_game_event *ev);

struct slp_game {
	/* settings, from Game Start */
	bool started;
	uint8_t version[4];
	uint16_t stage_id;
	bool is_teams;
	bool has_pal;
	bool is_pal;
	bool has_major_scene;
	uint8_t major_scene;
	uint8_t game_bitfield;
	uint32_t timer_seconds;
	struct slp_player_info players[SLP_MAX_PLAYERS];

	/* frames */
	bool has_frames;
	int32_t first_frame;
	int32_t last_frame;   /* highest frame number seen */
	int32_t latest_frame; /* the frame most recently opened (lower than last_frame during a rollback) */
	bool has_finalized_frame;
	int32_t finalized_frame;
	bool frame_open;
	int32_t open_frame;
	bool saw_frame_start;
	uint32_t frame_openings; /* frame_openings - distinct frames = re-sent frames */
	uint64_t item_updates;

	struct slp_player_state state[SLP_MAX_PLAYERS];
	struct slp_game_end_info end;
	/* combos (slp_combo.h), fed the frames as slippi-js's parser finalizes them */
	struct slp_combo_detector combos;
	bool finalize_each_update; /* 2.2.0 and older: a frame is final at the next frame's first update */
	bool has_update_frame;
	int32_t update_frame; /* the frame of the latest Pre- or Post-Frame Update (slippi-js's latestFrameIndex) */
	uint32_t game_end_events;

	bool start_pending; /* game_start waits for the first frame when the Zelda/Sheik fix needs it */
	bool start_emitted;
	bool end_emitted;
	uint32_t games; /* Event Payloads seen */

	slp_game_event_fn on_event;
	void *ud;
	char error[160];
};

/* Reads player slot i (0-3) of a Game Start event. Returns false when the event is not a usable Game Start. */
bool slp_game_start_player(const struct slp_event *ev, int index, struct slp_player_info *out);
void slp_game_init(struct slp_game *g, slp_game_event_fn on_event, void *ud);
/* Takes one event from the splitter. Returns 0, or -1 when the event is malformed (g->error says why). */
int slp_game_handle(struct slp_game *g, const struct slp_event *ev);
/* The source ended: completes the open frame and, if the game has no Game End, emits game_end (incomplete). */
void slp_game_finish(struct slp_game *g);
/* Winners (player indexes) by the rules in docs/events.md. Returns how many were written to out. */
int slp_game_winners(const struct slp_game *g, int out[SLP_MAX_PLAYERS]);
bool slp_game_version_at_least(const struct slp_game *g, int major, int minor, int build);
void slp_game_version_string(const struct slp_game *g, char *out, size_t out_size);
/*
 * The one JSON form of a game event (docs/events.md; no trailing newline). Returns false when out of memory.
 * `andross inspect --json` nests the game_start and game_end objects it makes, so a replay's inspection and its
 * events say the same in the same bytes.
 */
bool slp_game_event_to_json(const struct slp_game_event *ev, struct bytes *out);

struct json_writer;

/* What slp_game_json_players writes for each player besides playerIndex, port, stocksRemaining and percent. */
enum slp_game_json_player_fields {
	SLP_GAME_JSON_CHARACTER = 1u << 0,  /* internalCharacterId, null before the player's first frame */
	SLP_GAME_JSON_LAST_FRAME = 1u << 1, /* frame: the last frame with the player's data, null before the first */
};
/*
 * The players' state now, as the array `key` (NULL: an array element or the top level) of one object per player in
 * the game: the `players` of the frame (SLP_GAME_JSON_CHARACTER) and game_end (0) events, and inspect's
 * `finalPlayers` (both fields). The one writer of a player's state.
 */
void slp_game_json_players(struct json_writer *jw, const char *key, const struct slp_game *g, unsigned fields);
const char *slp_game_event_name(enum slp_game_event_type type);

#ifdef __cplusplus
}
#endif
