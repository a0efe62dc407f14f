/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Combos (slp_combo.c through slp_game.c) on the real replays: the combos slippi-js 9.1.2's getStats().combos
 * gives for them (counts and known combos, taken from slippi-js; tests/node/combos_slippi_js.test.mjs compares every
 * field of every combo), combos still open when a game ends, frames not yet final when a stream stops, a gap in the
 * stream, and the detector's own bounds (the move cap, a re-sent frame).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "slp_combo.h"
#include "slp_game.h"
#include "test_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COMBOS 128

struct combo_log {
	struct slp_game game;
	struct slp_combo combos[MAX_COMBOS];
	char *json[MAX_COMBOS];
	int n;
	int32_t event_frame[MAX_COMBOS];
	char order[1024]; /* S start, K stock_lost, C combo, E game_end */
	size_t n_order;
	int handle_errors;
	/* what reaches the game: events of frames above cut_after are held back, those in [gap_from, gap_to] dropped */
	bool has_cut;
	int32_t cut_after;
	bool has_gap;
	int32_t gap_from, gap_to;
};

static void on_game_event(void *ud, const struct slp_game_event *ev)
{
	struct combo_log *log = ud;
	char mark = 0;
	switch (ev->type) {
	case SLP_GAME_EVENT_GAME_START:
		mark = 'S';
		break;
	case SLP_GAME_EVENT_STOCK_LOST:
		mark = 'K';
		break;
	case SLP_GAME_EVENT_GAME_END:
		mark = 'E';
		break;
	case SLP_GAME_EVENT_COMBO: {
		mark = 'C';
		assert_non_null(ev->combo);
		assert_int_equal(ev->player_index, ev->combo->victim);
		assert_true(log->n < MAX_COMBOS);
		log->combos[log->n] = *ev->combo;
		log->event_frame[log->n] = ev->frame;
		struct bytes json;
		bytes_init(&json, 0);
		assert_true(slp_game_event_to_json(ev, &json));
		log->json[log->n] = calloc(1, json.len + 1);
		assert_non_null(log->json[log->n]);
		memcpy(log->json[log->n], json.data, json.len);
		bytes_free(&json);
		log->n++;
		break;
	}
	default:
		return;
	}
	if (log->n_order + 1 < sizeof(log->order))
		log->order[log->n_order++] = mark;
}

static bool frame_of(const struct slp_event *ev, int32_t *frame)
{
	switch (ev->code) {
	case SLP_CMD_PRE_FRAME:
	case SLP_CMD_POST_FRAME:
	case SLP_CMD_FRAME_START:
	case SLP_CMD_ITEM_UPDATE:
	case SLP_CMD_FRAME_BOOKEND:
		if (ev->size < 5)
			return false;
		*frame = rd_i32be(ev->data + 1);
		return true;
	default:
		return false;
	}
}

static int feed(void *ud, const struct slp_event *ev)
{
	struct combo_log *log = ud;
	int32_t frame;
	if (frame_of(ev, &frame)) {
		if (log->has_cut && frame > log->cut_after)
			return 1; /* stop the feed: the stream ends here */
		if (log->has_gap && frame >= log->gap_from && frame <= log->gap_to)
			return 0;
	}
	if (slp_game_handle(&log->game, ev) < 0)
		log->handle_errors++;
	return 0;
}

static void log_init(struct combo_log *log)
{
	memset(log, 0, sizeof(*log));
	slp_game_init(&log->game, on_game_event, log);
}

static void log_free(struct combo_log *log)
{
	for (int i = 0; i < log->n; i++)
		free(log->json[i]);
}

/* Plays a replay into log: whole, cut (then a Game End when game_end is set), or with a gap; then finishes. */
static void play(struct combo_log *log, const char *name, bool game_end)
{
	struct bytes file;
	assert_true(tu_read_replay(name, &file));
	const uint8_t *events;
	size_t len;
	assert_true(tu_events(&file, &events, &len));
	struct slp_splitter s;
	slp_splitter_init(&s);
	int rc = slp_splitter_feed(&s, events, len, feed, log);
	assert_true(rc == 0 || (rc == 1 && log->has_cut));
	slp_splitter_free(&s);
	if (game_end) {
		/* a NO_CONTEST Game End as 3.13 writes it: method, LRAS initiator, placements */
		uint8_t end[7] = {SLP_CMD_GAME_END, 7, 0xff, 0xff, 0xff, 0xff, 0xff};
		struct slp_event ev = {.code = SLP_CMD_GAME_END, .data = end, .size = sizeof(end)};
		assert_int_equal(slp_game_handle(&log->game, &ev), 0);
	}
	slp_game_finish(&log->game);
	assert_int_equal(log->handle_errors, 0);
	bytes_free(&file);
}

static const struct slp_combo *find(const struct combo_log *log, int victim, int32_t start_frame, int *index)
{
	for (int i = 0; i < log->n; i++) {
		if (log->combos[i].victim == victim && log->combos[i].start_frame == start_frame) {
			if (index)
				*index = i;
			return &log->combos[i];
		}
	}
	return NULL;
}

static void assert_near(double got, double want)
{
	if (fabs(got - want) > 1e-4)
		fail_msg("%.6f, expected %.6f", got, want);
}

/* Every combo event sits inside its game and in frame order. */
static void check_order(const struct combo_log *log)
{
	const char *o = log->order;
	assert_true(log->n_order >= 2);
	assert_int_equal(o[0], 'S');
	assert_int_equal(o[log->n_order - 1], 'E');
	for (int i = 1; i < log->n; i++)
		assert_true(log->event_frame[i] >= log->event_frame[i - 1]);
}

/* Combos per replay, from slippi-js 9.1.2's getStats().combos (none in doubles: it computes singles only). */
static const struct {
	const char *name;
	int combos;
} known_counts[] = {
	{"200306_2258_Falco_v_Fox_PS.slp", 46},
	{"doubles.slp", 0},
	{"geckoCodes.slp", 0},
	{"ics2.slp", 41},
	{"incomplete.slp", 35},
	{"items.slp", 31},
	{"realtimeTest.slp", 2},
	{"sheik_vs_ics_yoshis.slp", 20},
	{"unranked_game1.slp", 0},
	{"v3.13.slp", 0},
	{"v3.14.0.slp", 56},
};

static void test_counts_on_every_replay(void **state)
{
	(void)state;
	for (size_t r = 0; r < sizeof(known_counts) / sizeof(known_counts[0]); r++) {
		struct combo_log *log = malloc(sizeof(*log));
		assert_non_null(log);
		log_init(log);
		play(log, known_counts[r].name, false);
		TU_EXPECT(log->n == known_counts[r].combos, "%s: %d combos, slippi-js has %d", known_counts[r].name,
			  log->n, known_counts[r].combos);
		check_order(log);
		for (int i = 0; i < log->n; i++) {
			const struct slp_combo *c = &log->combos[i];
			/* every one ended: none of these games ends inside a combo */
			TU_EXPECT(c->ended && c->end_frame >= c->start_frame && log->event_frame[i] == c->end_frame,
				  "%s: combo %d: ended %d, frames %d..%d", known_counts[r].name, i, c->ended,
				  c->start_frame, c->end_frame);
			TU_EXPECT(c->hits == c->n_moves, "%s: combo %d: %u hits, %u moves", known_counts[r].name, i,
				  c->hits, c->n_moves);
		}
		log_free(log);
		free(log);
	}
	TU_EXPECT_NO_FAILURES();
}

/* A known online kill combo: Sheik (port 2) on Falco (port 1) from frame 1391 to the KO at 1658 (3.14, finalized
 * frames, rollback). The stock_lost of docs/events.md's example is its last frame. */
static void test_known_kill_combo(void **state)
{
	(void)state;
	struct combo_log *log = malloc(sizeof(*log));
	assert_non_null(log);
	log_init(log);
	play(log, "v3.14.0.slp", false);
	int at = -1;
	const struct slp_combo *c = find(log, 0, 1391, &at);
	assert_non_null(c);
	assert_int_equal(c->attacker, 1);
	assert_true(c->ended);
	assert_int_equal(c->end_frame, 1658);
	assert_true(c->did_kill);
	assert_near(c->start_percent, 47.12000274658203);
	assert_near(c->end_percent, 85.14000701904297);
	assert_near(c->current_percent, 85.14000701904297);
	assert_int_equal(c->hits, 4);
	assert_int_equal(c->n_moves, 4);
	const int32_t frames[] = {1391, 1457, 1539, 1582};
	const uint8_t ids[] = {9, 6, 6, 14};
	const double damage[] = {8, 9.300003051757812, 8.5, 12.220001220703125};
	for (int i = 0; i < 4; i++) {
		assert_int_equal(c->moves[i].frame, frames[i]);
		assert_int_equal(c->moves[i].move_id, ids[i]);
		assert_int_equal(c->moves[i].hit_count, 1);
		assert_near(c->moves[i].damage, damage[i]);
	}
	/* the JSON, whole: the docs/events.md example */
	static const char want[] = "{\"type\":\"combo\",\"frame\":1658,\"playerIndex\":0,\"port\":1,"
				   "\"attacker\":{\"playerIndex\":1,\"port\":2},\"startFrame\":1391,"
				   "\"endFrame\":1658,\"startPercent\":47.12,\"endPercent\":85.14,"
				   "\"currentPercent\":85.14,\"damage\":38.02,\"didKill\":true,\"hits\":4,"
				   "\"moves\":[{\"frame\":1391,\"moveId\":9,\"hitCount\":1,\"damage\":8},"
				   "{\"frame\":1457,\"moveId\":6,\"hitCount\":1,\"damage\":9.3},"
				   "{\"frame\":1539,\"moveId\":6,\"hitCount\":1,\"damage\":8.5},"
				   "{\"frame\":1582,\"moveId\":14,\"hitCount\":1,\"damage\":12.22}]}";
	assert_string_equal(log->json[at], want);
	/* the KO's stock_lost comes first (at the frame's update), the combo once the frame is final */
	const char *k = strchr(log->order, 'K');
	assert_non_null(k);
	assert_int_equal(k[1], 'C');
	log_free(log);
	free(log);
}

/* The oldest format (0.1.0: no Frame Bookend, frames final at the next frame's first update): the first combo, with a
 * move of two hits. */
static void test_known_combo_before_bookends(void **state)
{
	(void)state;
	struct combo_log *log = malloc(sizeof(*log));
	assert_non_null(log);
	log_init(log);
	play(log, "sheik_vs_ics_yoshis.slp", false);
	const struct slp_combo *c = find(log, 1, 186, NULL);
	assert_non_null(c);
	assert_int_equal(c->attacker, 0);
	assert_int_equal(c->end_frame, 541);
	assert_true(c->did_kill);
	assert_near(c->start_percent, 0);
	assert_near(c->end_percent, 72.06999969482422);
	assert_int_equal(c->hits, 7);
	assert_int_equal(c->moves[3].frame, 322);
	assert_int_equal(c->moves[3].move_id, 8);
	assert_int_equal(c->moves[3].hit_count, 2);
	assert_near(c->moves[3].damage, 11.64000129699707);
	log_free(log);
	free(log);
}

/*
 * The game ends inside the kill combo (cut two frames after its second move, 1457): with a Game End every frame is
 * final and the combo is announced open, before game_end, with no end (slippi-js leaves endFrame undefined).
 */
static void test_open_combo_at_game_end(void **state)
{
	(void)state;
	struct combo_log *log = malloc(sizeof(*log));
	assert_non_null(log);
	log_init(log);
	log->has_cut = true;
	log->cut_after = 1459;
	play(log, "v3.14.0.slp", true);
	int at = -1;
	const struct slp_combo *c = find(log, 0, 1391, &at);
	assert_non_null(c);
	assert_false(c->ended);
	assert_false(c->did_kill);
	assert_int_equal(c->hits, 2);
	assert_int_equal(c->moves[1].frame, 1457);
	assert_int_equal(log->event_frame[at], 1459);
	assert_non_null(strstr(log->json[at], "\"frame\":1459,"));
	assert_non_null(strstr(log->json[at], "\"endFrame\":null,"));
	assert_non_null(strstr(log->json[at], "\"endPercent\":null,"));
	assert_int_equal(log->order[log->n_order - 1], 'E');
	assert_int_equal(log->order[log->n_order - 2], 'C');
	check_order(log);
	log_free(log);
	free(log);
}

/*
 * Offline 3.3 (no finalized-frame number: frames are final 7 frames later). Cut at 3290, inside a combo whose second
 * move lands at 3288: with a Game End the move counts; when the stream just stops it does not (3284..3290 were never
 * final), as in slippi-js.
 */
static void test_unfinished_frames_without_game_end(void **state)
{
	(void)state;
	for (int with_end = 0; with_end < 2; with_end++) {
		struct combo_log *log = malloc(sizeof(*log));
		assert_non_null(log);
		log_init(log);
		log->has_cut = true;
		log->cut_after = 3290;
		play(log, "200306_2258_Falco_v_Fox_PS.slp", with_end);
		const struct slp_combo *c = find(log, 3, 3269, NULL);
		assert_non_null(c);
		assert_false(c->ended);
		assert_int_equal(c->hits, with_end ? 2 : 1);
		assert_near(c->current_percent, with_end ? 30 : 22);
		assert_int_equal(log->game.combos.last_finalized, with_end ? 3290 : 3283);
		log_free(log);
		free(log);
	}
}

/* 100 frames lost from the stream: the detector skips them, and the combos before and after are the full game's. */
static void test_gap_in_the_stream(void **state)
{
	(void)state;
	struct combo_log *full = malloc(sizeof(*full)), *gap = malloc(sizeof(*gap));
	assert_non_null(full);
	assert_non_null(gap);
	log_init(full);
	play(full, "v3.14.0.slp", false);
	log_init(gap);
	gap->has_gap = true;
	gap->gap_from = 5000;
	gap->gap_to = 5099;
	play(gap, "v3.14.0.slp", false);
	assert_true(gap->game.combos.frames_skipped >= 100);
	int before = 0, after = 0;
	for (int i = 0; i < full->n; i++) {
		const struct slp_combo *c = &full->combos[i];
		bool clear = c->end_frame < 5000 || c->start_frame > 5099 + SLP_COMBO_RESET_FRAMES + 1;
		if (!clear)
			continue;
		int at = -1;
		const struct slp_combo *g = find(gap, c->victim, c->start_frame, &at);
		assert_non_null(g);
		assert_string_equal(gap->json[at], full->json[i]);
		if (c->end_frame < 5000)
			before++;
		else
			after++;
	}
	assert_true(before > 10);
	assert_true(after > 10);
	log_free(full);
	log_free(gap);
	free(full);
	free(gap);
}

/* The detector alone: posts of two players (0 attacks 2) made frame by frame. */
struct drive {
	struct slp_combo_detector d;
	struct slp_combo ended[4];
	int n_ended;
};

static void on_combo(void *ud, const struct slp_combo *c)
{
	struct drive *dr = ud;
	assert_true(dr->n_ended < 4);
	dr->ended[dr->n_ended++] = *c;
}

static void post_pair(struct drive *dr, int32_t frame, uint16_t victim_state, float victim_percent,
		      float attacker_counter)
{
	struct slp_combo_post att = {.action_state = 0x41, /* an aerial */
				     .action_counter = attacker_counter,
				     .has_action_counter = true,
				     .last_attack_landed = 13,
				     .stocks = 4};
	struct slp_combo_post vic = {.action_state = victim_state, .percent = victim_percent, .stocks = 4};
	slp_combo_post(&dr->d, frame, 0, &att);
	slp_combo_post(&dr->d, frame, 2, &vic);
}

#define AS_DAMAGE_HI 0x5B
#define AS_WAIT 0x0E

/* A hit every frame with the attacker's animation restarting each time: a new move each frame, past the cap. */
static void test_move_cap(void **state)
{
	(void)state;
	struct drive *dr = calloc(1, sizeof(*dr));
	assert_non_null(dr);
	const bool present[SLP_COMBO_PLAYERS] = {true, false, true, false};
	slp_combo_init(&dr->d, present);
	int32_t f = -123;
	post_pair(dr, f, AS_WAIT, 0, 5);
	slp_combo_finalize(&dr->d, f, on_combo, dr);
	const int hits = 100;
	for (int i = 1; i <= hits; i++) {
		f++;
		/* the counter goes back each frame: the animation started again */
		post_pair(dr, f, AS_DAMAGE_HI, (float)i, (float)(1000 - i));
		slp_combo_finalize(&dr->d, f, on_combo, dr);
	}
	int32_t last_hit = f;
	for (int i = 0; i <= SLP_COMBO_RESET_FRAMES; i++) {
		f++;
		post_pair(dr, f, AS_WAIT, (float)hits, 5);
		slp_combo_finalize(&dr->d, f, on_combo, dr);
	}
	assert_int_equal(dr->n_ended, 1);
	const struct slp_combo *c = &dr->ended[0];
	assert_int_equal(c->victim, 2);
	assert_int_equal(c->attacker, 0);
	assert_int_equal(c->start_frame, -122);
	/* ends on the 46th frame out of hitstun */
	assert_int_equal(c->end_frame, last_hit + SLP_COMBO_RESET_FRAMES + 1);
	assert_true(c->ended);
	assert_int_equal(c->hits, hits);
	assert_int_equal(c->n_moves, SLP_COMBO_MAX_MOVES);
	assert_int_equal(c->moves[SLP_COMBO_MAX_MOVES - 1].frame, -122 + SLP_COMBO_MAX_MOVES - 1);
	assert_int_equal(c->moves[0].hit_count, 1);
	assert_near(slp_combo_damage(c), hits);
	free(dr);
}

/* A frame re-sent before it is final replaces the first copy: a hit that rollback took back never counts. */
static void test_resent_frame(void **state)
{
	(void)state;
	struct drive *dr = calloc(1, sizeof(*dr));
	assert_non_null(dr);
	const bool present[SLP_COMBO_PLAYERS] = {true, false, true, false};
	slp_combo_init(&dr->d, present);
	post_pair(dr, -123, AS_WAIT, 0, 1);
	post_pair(dr, -122, AS_DAMAGE_HI, 12, 2); /* predicted: a hit */
	post_pair(dr, -122, AS_WAIT, 0, 2);       /* the truth: none */
	slp_combo_finalize(&dr->d, -122, on_combo, dr);
	assert_false(dr->d.pairs[0].active);
	assert_false(dr->d.pairs[1].active);
	/* a copy of a frame already final changes nothing */
	post_pair(dr, -122, AS_DAMAGE_HI, 12, 2);
	post_pair(dr, -121, AS_WAIT, 0, 3);
	slp_combo_finalize(&dr->d, -121, on_combo, dr);
	assert_false(dr->d.pairs[0].active);
	/* and a frame number far beyond what arrived is not final */
	slp_combo_finalize(&dr->d, INT32_MAX, on_combo, dr);
	assert_int_equal(dr->d.last_finalized, -121);
	/* a combo open at the game's end is announced once, and frames after the end start nothing */
	post_pair(dr, -120, AS_DAMAGE_HI, 10, 4);
	slp_combo_finalize(&dr->d, -120, on_combo, dr);
	assert_true(dr->d.pairs[0].active);
	slp_combo_finish(&dr->d, on_combo, dr);
	assert_int_equal(dr->n_ended, 1);
	assert_false(dr->ended[0].ended);
	assert_int_equal(dr->ended[0].start_frame, -120);
	assert_int_equal(dr->ended[0].hits, 1);
	assert_near(slp_combo_damage(&dr->ended[0]), 10);
	post_pair(dr, -119, AS_DAMAGE_HI, 20, 5);
	slp_combo_finalize(&dr->d, -119, on_combo, dr);
	slp_combo_finish(&dr->d, on_combo, dr);
	assert_int_equal(dr->n_ended, 1);
	free(dr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_on_every_replay),
		cmocka_unit_test(test_known_kill_combo),
		cmocka_unit_test(test_known_combo_before_bookends),
		cmocka_unit_test(test_open_combo_at_game_end),
		cmocka_unit_test(test_unfinished_frames_without_game_end),
		cmocka_unit_test(test_gap_in_the_stream),
		cmocka_unit_test(test_move_cap),
		cmocka_unit_test(test_resent_frame),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
