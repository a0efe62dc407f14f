/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "set_score.h"

#include "json_writer.h"

#include <stdio.h>
#include <string.h>

void set_score_init(struct set_score *s, unsigned best_of)
{
	memset(s, 0, sizeof(*s));
	s->best_of = best_of;
	memset(s->side_of_port, -1, sizeof(s->side_of_port));
}

static void player_key(const struct set_score_player *p, char out[SET_SCORE_KEY_MAX])
{
	if (p->connect_code[0])
		snprintf(out, SET_SCORE_KEY_MAX, "%s", p->connect_code);
	else
		snprintf(out, SET_SCORE_KEY_MAX, "port %u", p->port);
}

/* Adds a player to a side, keeping its keys sorted (so a side compares equal whatever ports its players took). */
static bool side_add(struct set_score_side *side, const struct set_score_player *p)
{
	if (side->n == SET_SCORE_SIDE_MAX)
		return false;
	char key[SET_SCORE_KEY_MAX];
	player_key(p, key);
	size_t at = side->n;
	while (at > 0 && strcmp(side->keys[at - 1], key) > 0) {
		memcpy(side->keys[at], side->keys[at - 1], SET_SCORE_KEY_MAX);
		side->ports[at] = side->ports[at - 1];
		at--;
	}
	memcpy(side->keys[at], key, SET_SCORE_KEY_MAX);
	side->ports[at] = p->port;
	side->n++;
	return true;
}

static bool same_players(const struct set_score_side *a, const struct set_score_side *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->keys[i], b->keys[i]))
			return false;
	return true;
}

/* The two sides of a game, side 0 holding the lowest port. False when the game is not one side against another. */
static bool game_sides(const struct set_score_player players[SLP_MAX_PLAYERS], bool is_teams,
		       struct set_score_side out[2])
{
	memset(out, 0, 2 * sizeof(out[0]));
	int team_of_side[2] = {-1, -1};
	size_t n = 0;
	for (int i = 0; i < SLP_MAX_PLAYERS; i++) {
		const struct set_score_player *p = &players[i];
		if (!p->present || p->port < 1 || p->port > SLP_MAX_PLAYERS)
			continue;
		int side;
		if (!is_teams) {
			if (n == 2)
				return false; /* a free-for-all */
			side = (int)n;
		} else if (team_of_side[0] < 0 || team_of_side[0] == p->team_id) {
			side = 0;
		} else if (team_of_side[1] < 0 || team_of_side[1] == p->team_id) {
			side = 1;
		} else {
			return false; /* three teams */
		}
		team_of_side[side] = p->team_id;
		if (!side_add(&out[side], p))
			return false;
		n++;
	}
	return out[0].n > 0 && out[1].n > 0;
}

static uint8_t lowest_port(const struct set_score_side *side)
{
	uint8_t low = 255;
	for (size_t i = 0; i < side->n; i++)
		if (side->ports[i] < low)
			low = side->ports[i];
	return low;
}

enum set_score_start set_score_game_start(struct set_score *s, const struct set_score_player players[SLP_MAX_PLAYERS],
					  bool is_teams)
{
	struct set_score_side sides[2];
	s->in_game = false;
	if (!game_sides(players, is_teams, sides)) {
		memset(s->side_of_port, -1, sizeof(s->side_of_port));
		return SET_SCORE_NOT_SCORED;
	}
	enum set_score_start result = SET_SCORE_SAME_SET;
	if (s->has_pair && same_players(&s->sides[1], &sides[0]) && same_players(&s->sides[0], &sides[1])) {
		struct set_score_side t = sides[0]; /* the sides keep the places they had in the set */
		sides[0] = sides[1];
		sides[1] = t;
	} else if (!s->has_pair && s->adopt) {
		/* points set by hand before any game (OBS restarted mid-set): this game's sides take them */
		if (lowest_port(&sides[1]) < lowest_port(&sides[0])) {
			struct set_score_side t = sides[0];
			sides[0] = sides[1];
			sides[1] = t;
		}
	} else if (!s->has_pair || !same_players(&s->sides[0], &sides[0]) || !same_players(&s->sides[1], &sides[1])) {
		result = SET_SCORE_NEW_SET;
		if (lowest_port(&sides[1]) < lowest_port(&sides[0])) {
			struct set_score_side t = sides[0];
			sides[0] = sides[1];
			sides[1] = t;
		}
	}
	if (result == SET_SCORE_SAME_SET && s->ended)
		result = SET_SCORE_NEW_SET; /* the same players again after the set was decided: the next set */
	for (int k = 0; k < 2; k++) {
		unsigned points = result == SET_SCORE_NEW_SET ? 0 : s->sides[k].points;
		s->sides[k] = sides[k];
		s->sides[k].points = points;
	}
	s->has_pair = true;
	s->adopt = false;
	s->ended = false;
	s->in_game = true;
	memset(s->side_of_port, -1, sizeof(s->side_of_port));
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < s->sides[k].n; i++)
			s->side_of_port[s->sides[k].ports[i] - 1] = (int8_t)k;
	return result;
}

int set_score_game_end(struct set_score *s, const uint8_t *winner_ports, size_t n_winners, bool *set_ended)
{
	if (set_ended)
		*set_ended = false;
	if (!s->in_game)
		return -1;
	s->in_game = false;
	int side = -1;
	for (size_t i = 0; i < n_winners; i++) {
		unsigned port = winner_ports[i];
		int k = port >= 1 && port <= SLP_MAX_PLAYERS ? s->side_of_port[port - 1] : -1;
		if (k < 0 || (side >= 0 && k != side))
			return -1;
		side = k;
	}
	if (side < 0)
		return -1;
	if (s->sides[side].points < SET_SCORE_MAX_POINTS)
		s->sides[side].points++;
	unsigned need = set_score_wins_needed(s);
	if (need && s->sides[side].points >= need) {
		s->ended = true;
		if (set_ended)
			*set_ended = true;
	}
	return side;
}

void set_score_reset(struct set_score *s)
{
	s->sides[0].points = 0;
	s->sides[1].points = 0;
	s->ended = false;
}

void set_score_swap(struct set_score *s)
{
	struct set_score_side t = s->sides[0];
	s->sides[0] = s->sides[1];
	s->sides[1] = t;
	for (int i = 0; i < SLP_MAX_PLAYERS; i++)
		if (s->side_of_port[i] >= 0)
			s->side_of_port[i] = (int8_t)(1 - s->side_of_port[i]);
}

unsigned set_score_wins_needed(const struct set_score *s)
{
	return s->best_of ? s->best_of / 2 + 1 : 0;
}

static void update_ended(struct set_score *s)
{
	unsigned need = set_score_wins_needed(s);
	s->ended = need && (s->sides[0].points >= need || s->sides[1].points >= need);
}

int set_score_set_points(struct set_score *s, unsigned side0, unsigned side1, char *err, size_t err_size)
{
	unsigned need = set_score_wins_needed(s);
	unsigned max = need ? need : SET_SCORE_MAX_POINTS;
	if (side0 > max || side1 > max) {
		if (need)
			snprintf(err, err_size, "a best of %u ends at %u wins: scores go from 0 to %u", s->best_of,
				 need, need);
		else
			snprintf(err, err_size, "scores go from 0 to %u", SET_SCORE_MAX_POINTS);
		return -1;
	}
	if (need && side0 == need && side1 == need) {
		snprintf(err, err_size, "only one side can have the %u wins of a best of %u", need, s->best_of);
		return -1;
	}
	s->sides[0].points = side0;
	s->sides[1].points = side1;
	s->adopt = !s->has_pair;
	update_ended(s);
	return 0;
}

int set_score_set_best_of(struct set_score *s, unsigned best_of, char *err, size_t err_size)
{
	if (best_of > SET_SCORE_MAX_BEST_OF || (best_of && best_of % 2 == 0)) {
		snprintf(err, err_size, "bestOf must be 0 (no limit) or an odd number from 1 to %u",
			 SET_SCORE_MAX_BEST_OF);
		return -1;
	}
	unsigned need = best_of ? best_of / 2 + 1 : 0;
	if (need && s->sides[0].points >= need && s->sides[1].points >= need) {
		snprintf(err, err_size, "a score of %u-%u does not fit a best of %u", s->sides[0].points,
			 s->sides[1].points, best_of);
		return -1;
	}
	s->best_of = best_of;
	update_ended(s);
	return 0;
}

int set_score_of_port(const struct set_score *s, unsigned port)
{
	if (!s->has_pair || port < 1 || port > SLP_MAX_PLAYERS || s->side_of_port[port - 1] < 0)
		return -1;
	return (int)s->sides[s->side_of_port[port - 1]].points;
}

unsigned set_score_game_number(const struct set_score *s)
{
	if (!s->has_pair)
		return 0;
	unsigned played = s->sides[0].points + s->sides[1].points;
	return s->ended ? played : played + 1;
}

void set_score_json(struct json_writer *jw, const struct set_score *s)
{
	jw_int(jw, "bestOf", s->best_of);
	jw_int(jw, "winsNeeded", set_score_wins_needed(s));
	jw_int(jw, "game", set_score_game_number(s));
	jw_bool(jw, "inGame", s->in_game);
	jw_bool(jw, "ended", s->ended);
	jw_array_begin(jw, "sides");
	for (int k = 0; s->has_pair && k < 2; k++) {
		jw_object_begin(jw, NULL);
		jw_int(jw, "score", s->sides[k].points);
		jw_array_begin(jw, "players");
		for (size_t i = 0; i < s->sides[k].n; i++) {
			jw_object_begin(jw, NULL);
			jw_int(jw, "port", s->sides[k].ports[i]);
			jw_string(jw, "key", s->sides[k].keys[i]);
			jw_object_end(jw);
		}
		jw_array_end(jw);
		jw_object_end(jw);
	}
	jw_array_end(jw);
}
