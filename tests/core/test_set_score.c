/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Set scores (plugin/core/set_score.c) from real games: the players of a replay's Game Start and the winners of its
 * end (docs/events.md's rules), singles and doubles, the same players again, another pair, a best-of that ends the
 * set, and the manual changes (reset, swap, set, best-of) with their bad values.
 */
#include "bytes.h"
#include "json_writer.h"
#include "set_score.h"
#include "slp_game.h"
#include "slp_splitter.h"
#include "test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

/* What the score sees of a game: its players and winners. */
struct game {
	struct set_score_player players[SLP_MAX_PLAYERS];
	bool is_teams;
	uint8_t winners[SLP_MAX_PLAYERS];
	size_t n_winners;
};

static void on_game_event(void *ud, const struct slp_game_event *ev)
{
	(void)ud;
	(void)ev;
}

static int on_event(void *ud, const struct slp_event *ev)
{
	slp_game_handle(ud, ev);
	return 0;
}

static struct game game_of(const char *replay)
{
	struct bytes file;
	assert_true(tu_read_replay(replay, &file));
	const uint8_t *events;
	size_t events_len;
	assert_true(tu_events(&file, &events, &events_len));
	static struct slp_game g;
	slp_game_init(&g, on_game_event, NULL);
	struct slp_splitter s;
	slp_splitter_init(&s);
	assert_int_equal(slp_splitter_feed(&s, events, events_len, on_event, &g), 0);
	slp_splitter_free(&s);
	slp_game_finish(&g);
	bytes_free(&file);
	struct game out;
	memset(&out, 0, sizeof(out));
	out.is_teams = g.is_teams;
	for (int i = 0; i < SLP_MAX_PLAYERS; i++) {
		out.players[i].present = g.players[i].present;
		out.players[i].port = (uint8_t)(i + 1);
		out.players[i].team_id = g.players[i].team_id;
		snprintf(out.players[i].connect_code, sizeof(out.players[i].connect_code), "%s",
			 g.players[i].connect_code);
	}
	int w[SLP_MAX_PLAYERS];
	int n = slp_game_winners(&g, w);
	for (int i = 0; i < n; i++)
		out.winners[out.n_winners++] = (uint8_t)(w[i] + 1);
	return out;
}

/* Plays g into s; returns the side that scored. */
static int score(struct set_score *s, const struct game *g, enum set_score_start want_start, bool *ended)
{
	assert_int_equal(set_score_game_start(s, g->players, g->is_teams), want_start);
	return set_score_game_end(s, g->winners, g->n_winners, ended);
}

static void test_three_games_same_players(void **state)
{
	(void)state;
	struct game g = game_of("v3.14.0.slp"); /* ABCD#123 (port 1) beats EFGH#456 */
	assert_int_equal(g.n_winners, 1);
	assert_int_equal(g.winners[0], 1);
	struct set_score s;
	set_score_init(&s, 0);
	assert_int_equal(set_score_game_number(&s), 0);
	assert_int_equal(set_score_of_port(&s, 1), -1);
	bool ended = true;
	assert_int_equal(score(&s, &g, SET_SCORE_NEW_SET, &ended), 0);
	assert_false(ended);
	assert_int_equal(set_score_of_port(&s, 1), 1);
	assert_int_equal(set_score_of_port(&s, 2), 0);
	assert_int_equal(set_score_game_number(&s), 2); /* between games: the next one */
	assert_int_equal(set_score_game_start(&s, g.players, g.is_teams), SET_SCORE_SAME_SET);
	assert_int_equal(set_score_game_number(&s), 2); /* while it is played */
	assert_int_equal(set_score_game_end(&s, g.winners, g.n_winners, &ended), 0);
	assert_int_equal(score(&s, &g, SET_SCORE_SAME_SET, &ended), 0);
	assert_int_equal(set_score_of_port(&s, 1), 3);
	assert_int_equal(set_score_of_port(&s, 2), 0);
	assert_int_equal(set_score_game_number(&s), 4);
	assert_string_equal(s.sides[0].keys[0], "ABCD#123");
	assert_string_equal(s.sides[1].keys[0], "EFGH#456");

	/* the same players on each other's ports: the same set, each keeps their score */
	struct game swapped = g;
	swapped.players[0] = g.players[1];
	swapped.players[1] = g.players[0];
	swapped.players[0].port = 1;
	swapped.players[1].port = 2;
	swapped.winners[0] = 2; /* ABCD#123, now on port 2, wins again */
	assert_int_equal(score(&s, &swapped, SET_SCORE_SAME_SET, &ended), 0);
	assert_int_equal(set_score_of_port(&s, 2), 4);
	assert_int_equal(set_score_of_port(&s, 1), 0);

	/* another pair: a new set */
	struct game other = game_of("unranked_game1.slp"); /* LRAS by NIKK#513: NIKK#142 (port 2) wins */
	assert_int_equal(other.n_winners, 1);
	assert_int_equal(score(&s, &other, SET_SCORE_NEW_SET, &ended), 1);
	assert_int_equal(set_score_of_port(&s, 1), 0);
	assert_int_equal(set_score_of_port(&s, 2), 1);
}

static void test_best_of_three_ends_the_set(void **state)
{
	(void)state;
	struct game g = game_of("v3.14.0.slp");
	struct set_score s;
	set_score_init(&s, 3);
	assert_int_equal(set_score_wins_needed(&s), 2);
	bool ended = true;
	score(&s, &g, SET_SCORE_NEW_SET, &ended);
	assert_false(ended);
	score(&s, &g, SET_SCORE_SAME_SET, &ended);
	assert_true(ended);
	assert_true(s.ended);
	assert_int_equal(set_score_game_number(&s), 2); /* the set is over: its last game */
	/* the same players again: the next set, 1-0 after it */
	assert_int_equal(score(&s, &g, SET_SCORE_NEW_SET, &ended), 0);
	assert_false(ended);
	assert_int_equal(set_score_of_port(&s, 1), 1);
}

static void test_doubles_sides_are_teams(void **state)
{
	(void)state;
	struct game g = game_of("doubles.slp"); /* ports 1, 2 blue against 3, 4 red; Ganondorf (port 2) survives */
	assert_true(g.is_teams);
	assert_int_equal(g.n_winners, 2);
	struct set_score s;
	set_score_init(&s, 0);
	assert_int_equal(score(&s, &g, SET_SCORE_NEW_SET, NULL), 0);
	assert_int_equal(s.sides[0].n, 2);
	assert_string_equal(s.sides[0].keys[0], "port 1");
	assert_string_equal(s.sides[0].keys[1], "port 2");
	assert_string_equal(s.sides[1].keys[0], "port 3");
	for (unsigned port = 1; port <= 4; port++)
		assert_int_equal(set_score_of_port(&s, port), port <= 2 ? 1 : 0);
	/* teammates trade ports within the team: the same sides */
	struct game t = g;
	t.players[0] = g.players[1];
	t.players[1] = g.players[0];
	t.players[0].port = 1;
	t.players[1].port = 2;
	assert_int_equal(score(&s, &t, SET_SCORE_SAME_SET, NULL), 0);
	assert_int_equal(set_score_of_port(&s, 3), 0);
	assert_int_equal(set_score_of_port(&s, 1), 2);

	/* a free-for-all of three is not scored and leaves the set as it was */
	struct game ffa = g;
	ffa.is_teams = false;
	ffa.players[3].present = false;
	assert_int_equal(set_score_game_start(&s, ffa.players, ffa.is_teams), SET_SCORE_NOT_SCORED);
	assert_int_equal(set_score_game_end(&s, ffa.winners, ffa.n_winners, NULL), -1);
	assert_int_equal(set_score_of_port(&s, 1), -1);
	assert_int_equal(s.sides[0].points, 2);
	assert_int_equal(score(&s, &g, SET_SCORE_SAME_SET, NULL), 0);
	assert_int_equal(s.sides[0].points, 3);
}

static void test_games_without_a_winner_give_no_point(void **state)
{
	(void)state;
	struct game g = game_of("incomplete.slp"); /* no Game End: no winner */
	assert_int_equal(g.n_winners, 0);
	struct set_score s;
	set_score_init(&s, 0);
	assert_int_equal(score(&s, &g, SET_SCORE_NEW_SET, NULL), -1);
	assert_int_equal(set_score_of_port(&s, 1), 0);
	assert_int_equal(set_score_game_number(&s), 1); /* the game is played again */
	/* an end without a start, a winner from nowhere */
	assert_int_equal(set_score_game_end(&s, (const uint8_t[]){1}, 1, NULL), -1);
	set_score_game_start(&s, g.players, g.is_teams);
	assert_int_equal(set_score_game_end(&s, (const uint8_t[]){3}, 1, NULL), -1);
	set_score_game_start(&s, g.players, g.is_teams);
	assert_int_equal(set_score_game_end(&s, (const uint8_t[]){1, 2}, 2, NULL), -1); /* both sides */
	assert_int_equal(s.sides[0].points + s.sides[1].points, 0);
}

static void test_reset_swap_set(void **state)
{
	(void)state;
	struct game g = game_of("200306_2258_Falco_v_Fox_PS.slp"); /* ports 2 and 4, no codes: by port */
	struct set_score s;
	set_score_init(&s, 5);
	score(&s, &g, SET_SCORE_NEW_SET, NULL);
	assert_string_equal(s.sides[0].keys[0], "port 2");
	assert_int_equal(set_score_of_port(&s, 2), 1);
	set_score_swap(&s);
	assert_string_equal(s.sides[0].keys[0], "port 4");
	assert_int_equal(s.sides[1].points, 1);
	assert_int_equal(set_score_of_port(&s, 2), 1); /* a port keeps its score */
	/* the swapped order stays for the next game of the set */
	assert_int_equal(score(&s, &g, SET_SCORE_SAME_SET, NULL), 1);
	assert_int_equal(s.sides[1].points, 2);
	char err[160];
	assert_int_equal(set_score_set_points(&s, 2, 1, err, sizeof(err)), 0);
	assert_int_equal(set_score_of_port(&s, 4), 2);
	assert_int_equal(set_score_game_number(&s), 4);
	assert_int_equal(set_score_set_points(&s, 4, 0, err, sizeof(err)), -1); /* a best of 5 ends at 3 */
	assert_non_null(strstr(err, "3"));
	assert_int_equal(set_score_of_port(&s, 4), 2);
	assert_int_equal(set_score_set_points(&s, 3, 3, err, sizeof(err)), -1);
	assert_int_equal(set_score_set_points(&s, 3, 1, err, sizeof(err)), 0);
	assert_true(s.ended);
	assert_int_equal(set_score_game_number(&s), 4);
	set_score_reset(&s);
	assert_false(s.ended);
	assert_int_equal(s.sides[0].points + s.sides[1].points, 0);
	assert_string_equal(s.sides[0].keys[0], "port 4"); /* the players stay */
	assert_int_equal(set_score_game_number(&s), 1);
	/* best-of: 0 or odd up to 99 */
	assert_int_equal(set_score_set_best_of(&s, 4, err, sizeof(err)), -1);
	assert_int_equal(set_score_set_best_of(&s, 101, err, sizeof(err)), -1);
	assert_int_equal(s.best_of, 5);
	assert_int_equal(set_score_set_best_of(&s, 0, err, sizeof(err)), 0);
	assert_int_equal(set_score_set_points(&s, 999, 7, err, sizeof(err)), 0);
	assert_int_equal(set_score_set_points(&s, 1000, 7, err, sizeof(err)), -1);
	assert_int_equal(set_score_set_best_of(&s, 3, err, sizeof(err)), -1); /* 999-7 fits no best of 3 */
	assert_int_equal(set_score_set_points(&s, 1, 0, err, sizeof(err)), 0);
	assert_int_equal(set_score_set_best_of(&s, 1, err, sizeof(err)), 0);
	assert_true(s.ended);
}

static void test_points_set_before_any_game_carry_over(void **state)
{
	(void)state;
	struct game g = game_of("v3.14.0.slp");
	struct set_score s;
	set_score_init(&s, 5);
	char err[160];
	assert_int_equal(set_score_set_points(&s, 1, 2, err, sizeof(err)), 0); /* OBS restarted mid-set */
	assert_int_equal(set_score_game_number(&s), 0);
	assert_int_equal(score(&s, &g, SET_SCORE_SAME_SET, NULL), 0);
	assert_int_equal(set_score_of_port(&s, 1), 2);
	assert_int_equal(set_score_of_port(&s, 2), 2);
	/* once the players are known, another pair starts a new set as always */
	struct game other = game_of("unranked_game1.slp");
	assert_int_equal(score(&s, &other, SET_SCORE_NEW_SET, NULL), 1);
	assert_int_equal(set_score_of_port(&s, 2), 1);
}

static void test_json(void **state)
{
	(void)state;
	struct game g = game_of("v3.14.0.slp");
	struct set_score s;
	set_score_init(&s, 3);
	score(&s, &g, SET_SCORE_NEW_SET, NULL);
	struct bytes b;
	bytes_init(&b, 0);
	struct json_writer jw;
	jw_init(&jw, &b);
	jw_object_begin(&jw, NULL);
	set_score_json(&jw, &s);
	jw_object_end(&jw);
	assert_true(jw.ok);
	assert_true(bytes_append_byte(&b, 0));
	assert_string_equal((const char *)b.data,
			    "{\"bestOf\":3,\"winsNeeded\":2,\"game\":2,\"inGame\":false,\"ended\":false,\"sides\":["
			    "{\"score\":1,\"players\":[{\"port\":1,\"key\":\"ABCD#123\"}]},"
			    "{\"score\":0,\"players\":[{\"port\":2,\"key\":\"EFGH#456\"}]}]}");
	bytes_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_three_games_same_players),
		cmocka_unit_test(test_best_of_three_ends_the_set),
		cmocka_unit_test(test_doubles_sides_are_teams),
		cmocka_unit_test(test_games_without_a_winner_give_no_point),
		cmocka_unit_test(test_reset_swap_set),
		cmocka_unit_test(test_points_set_before_any_game_carry_over),
		cmocka_unit_test(test_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
