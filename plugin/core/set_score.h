/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The running score of a set between the two sides of a singles or doubles game, from the games' starts and ends:
 * a side is its players, each known by connect code (else by port), so the same players on the same console make
 * the same set whichever ports and order they take; a game with a winner gives its side a point; a game between
 * another pair of sides starts a new set; with a best-of, the side that reaches the wins it needs ends the set.
 * Sans-I/O, no allocation, no locking: the caller owns one per connection.
 */
#pragma once

#include "slp_game.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SET_SCORE_KEY_MAX 48 /* a connect code ("ABCD#123", UTF-8) or "port N" */
#define SET_SCORE_SIDE_MAX 2 /* players on a side: doubles */
#define SET_SCORE_MAX_POINTS 999
#define SET_SCORE_MAX_BEST_OF 99

/* A player of a game as game_start tells it. */
struct set_score_player {
	bool present;
	uint8_t port; /* 1-4 */
	uint8_t team_id;
	char connect_code[SET_SCORE_KEY_MAX];
};

struct set_score_side {
	size_t n;                                         /* players */
	char keys[SET_SCORE_SIDE_MAX][SET_SCORE_KEY_MAX]; /* sorted */
	uint8_t ports[SET_SCORE_SIDE_MAX];                /* in the latest game, same order as keys */
	unsigned points;
};

struct set_score {
	unsigned best_of; /* 0: no limit; else the set ends at best_of / 2 + 1 wins */
	bool has_pair;    /* a singles or doubles game started since the reset */
	struct set_score_side sides[2];
	bool in_game; /* the latest game_start was scored and its end has not come */
	bool ended;   /* a side reached the wins the best-of needs; the next game starts a new set */
	bool adopt;   /* points were set before any game: the first game's sides take them */
	int8_t side_of_port[SLP_MAX_PLAYERS]; /* by port - 1: the side (0, 1) in the latest scored game, -1 none */
};

enum set_score_start {
	SET_SCORE_NOT_SCORED = 0, /* not two sides (a free-for-all, one player): the score stays as it was */
	SET_SCORE_SAME_SET,       /* the same two sides: the set goes on */
	SET_SCORE_NEW_SET,        /* another pair, or the set had ended: 0-0 */
};

void set_score_init(struct set_score *s, unsigned best_of);
/* A game starts with these players (by player index; absent ones ignored). */
enum set_score_start set_score_game_start(struct set_score *s, const struct set_score_player players[SLP_MAX_PLAYERS],
					  bool is_teams);
/* The game ended with these winners (ports). Returns the side that scored (0, 1), or -1 (no winner, winners on both
 * sides or none in the game, or the game was not scored). *set_ended (may be NULL) tells whether that point ended
 * the set. */
int set_score_game_end(struct set_score *s, const uint8_t *winner_ports, size_t n_winners, bool *set_ended);
/* Both sides to 0, the set open again; the players stay. */
void set_score_reset(struct set_score *s);
/* The sides trade places (and points): side 0 is the one shown first. */
void set_score_swap(struct set_score *s);
/* Sets the points (before any game: the first game's sides take them, side 0 the one with the lowest port).
 * Returns 0, or -1 with err when a value is out of range (more than the best-of allows, or above
 * SET_SCORE_MAX_POINTS); nothing changes then. The set is over when a side has the wins it needs. */
int set_score_set_points(struct set_score *s, unsigned side0, unsigned side1, char *err, size_t err_size);
/* Sets the best-of (0 or odd, 1-SET_SCORE_MAX_BEST_OF). Returns 0, or -1 with err. The points stay; the set is over
 * when a side has the wins the new best-of needs. */
int set_score_set_best_of(struct set_score *s, unsigned best_of, char *err, size_t err_size);
/* The wins that end the set; 0 without a best-of. */
unsigned set_score_wins_needed(const struct set_score *s);
/* The points of the side of port (1-4) in the latest scored game, or -1. */
int set_score_of_port(const struct set_score *s, unsigned port);
/* The game's number in the set: the one being played, or between games the next one (the last one once the set is
 * over); 0 before any scored game. */
unsigned set_score_game_number(const struct set_score *s);

struct json_writer;
/* {bestOf, winsNeeded, game, inGame, ended, sides: [{score, players: [{port, key}]}]} as members of the object the
 * caller has open. */
void set_score_json(struct json_writer *jw, const struct set_score *s);

#ifdef __cplusplus
}
#endif
