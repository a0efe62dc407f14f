/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Game state and game events, driven by the splitter over every replay, checked against expected.json. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "slp_game.h"
#include "test_util.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MARKS 64

/* What a game emitted, in order. */
struct game_log {
	struct slp_game game;
	int starts, ends, frames, stock_losses;
	int stock_losses_by_player[SLP_MAX_PLAYERS];
	int frames_before_start;
	int frames_after_end;
	int bad_json;
	int handle_errors;
	char first_error[160];
	/* game_start / game_end in order: 'S' or 'E' (complete) or 'e' (incomplete) */
	char marks[MAX_MARKS + 1];
	int n_marks;
	int32_t stock_frames[MAX_MARKS];
	int stock_players[MAX_MARKS];
	/* per game: what game_end reported */
	uint16_t stage_at_start[MAX_MARKS];
	bool in_game;
	struct bytes json;
};

static void check_json(struct game_log *log, const struct slp_game_event *ev)
{
	bytes_clear(&log->json);
	if (!slp_game_event_to_json(ev, &log->json)) {
		log->bad_json++;
		return;
	}
	char err[128] = "";
	struct jm_value *doc = jm_parse((const char *)log->json.data, log->json.len, err, sizeof(err));
	if (!doc) {
		if (log->bad_json++ == 0)
			fprintf(stderr, "invalid JSON (%s): %.*s\n", err, (int)log->json.len,
				(const char *)log->json.data);
		return;
	}
	const char *type = jm_get_str(doc, "type");
	bool ok = type && strcmp(type, slp_game_event_name(ev->type)) == 0;
	const struct slp_game *g = ev->game;
	switch (ev->type) {
	case SLP_GAME_EVENT_GAME_START:
		ok = ok && jm_get_int(doc, "stageId", -1) == g->stage_id && jm_get(doc, "players") &&
		     jm_get(doc, "slpVersion");
		break;
	case SLP_GAME_EVENT_FRAME:
		ok = ok && jm_get_int(doc, "frame", INT64_MIN) == ev->frame && jm_get(doc, "players");
		break;
	case SLP_GAME_EVENT_STOCK_LOST:
		ok = ok && jm_get_int(doc, "playerIndex", -1) == ev->player_index &&
		     jm_get_int(doc, "stocksRemaining", -1) == ev->stocks_remaining;
		break;
	case SLP_GAME_EVENT_GAME_END: {
		const struct jm_value *complete = jm_get(doc, "complete");
		ok = ok && complete && complete->type == JM_BOOL && complete->b == g->end.present &&
		     jm_get(doc, "winners");
		break;
	}
	case SLP_GAME_EVENT_COMBO:
		ok = ok && ev->combo && jm_get_int(doc, "playerIndex", -1) == ev->player_index &&
		     jm_get_int(doc, "startFrame", INT64_MIN) == ev->combo->start_frame && jm_get(doc, "moves");
		break;
	default:
		ok = false;
	}
	if (!ok && log->bad_json++ == 0)
		fprintf(stderr, "unexpected JSON: %.*s\n", (int)log->json.len, (const char *)log->json.data);
	jm_free(doc);
}

static void on_game_event(void *ud, const struct slp_game_event *ev)
{
	struct game_log *log = ud;
	switch (ev->type) {
	case SLP_GAME_EVENT_GAME_START:
		log->starts++;
		log->in_game = true;
		if (log->n_marks < MAX_MARKS) {
			log->stage_at_start[log->n_marks] = ev->game->stage_id;
			log->marks[log->n_marks++] = 'S';
		}
		break;
	case SLP_GAME_EVENT_FRAME:
		log->frames++;
		if (!log->in_game)
			log->frames_before_start += log->ends == 0;
		if (!log->in_game && log->ends > 0)
			log->frames_after_end++;
		break;
	case SLP_GAME_EVENT_STOCK_LOST:
		if (log->stock_losses < MAX_MARKS) {
			log->stock_frames[log->stock_losses] = ev->frame;
			log->stock_players[log->stock_losses] = ev->player_index;
		}
		log->stock_losses++;
		if (ev->player_index >= 0 && ev->player_index < SLP_MAX_PLAYERS)
			log->stock_losses_by_player[ev->player_index]++;
		break;
	case SLP_GAME_EVENT_GAME_END:
		log->ends++;
		log->in_game = false;
		if (log->n_marks < MAX_MARKS)
			log->marks[log->n_marks++] = ev->game->end.present ? 'E' : 'e';
		break;
	default:
		break;
	}
	check_json(log, ev);
}

static int feed_game(void *ud, const struct slp_event *ev)
{
	struct game_log *log = ud;
	if (slp_game_handle(&log->game, ev) < 0 && log->handle_errors++ == 0)
		snprintf(log->first_error, sizeof(log->first_error), "%s", log->game.error);
	return 0;
}

static void log_init(struct game_log *log)
{
	memset(log, 0, sizeof(*log));
	bytes_init(&log->json, 0);
	slp_game_init(&log->game, on_game_event, log);
}

static void log_free(struct game_log *log)
{
	bytes_free(&log->json);
}

/* Runs a stream through splitter and game; chunk as in tu_split (0: whole). Returns the splitter's result. */
static int run_game(struct game_log *log, const uint8_t *data, size_t len, int chunk, uint64_t seed, bool finish)
{
	struct slp_splitter s;
	slp_splitter_init(&s);
	int rc = 0;
	if (chunk <= 0) {
		rc = slp_splitter_feed(&s, data, len, feed_game, log);
	} else {
		for (size_t i = 0; i < len && rc == 0;) {
			size_t n = 1 + (size_t)(tu_rand(&seed) % (uint64_t)chunk);
			if (n > len - i)
				n = len - i;
			rc = slp_splitter_feed(&s, data + i, n, feed_game, log);
			i += n;
		}
	}
	slp_splitter_free(&s);
	if (finish)
		slp_game_finish(&log->game);
	return rc;
}

static void load(const char *name, struct bytes *file, const uint8_t **ev, size_t *ev_len)
{
	if (!tu_read_replay(name, file))
		fail_msg("cannot read replay %s", name);
	if (!tu_events(file, ev, ev_len))
		fail_msg("%s: bad header", name);
}

static bool percent_equal(float got, const struct jm_value *want)
{
	if (!want || want->type != JM_NUMBER)
		return false;
	return fabs(round((double)got * 10000.0) / 10000.0 - want->num) < 1e-6;
}

/* Set while a test knowingly repeats the Game End event. */
static bool ignore_game_end_count;

static void check_against_expected(const char *name, const struct game_log *log)
{
	const struct slp_game *g = &log->game;
	const struct jm_value *exp = tu_expected_file(name);
	char version[32];
	slp_game_version_string(g, version, sizeof(version));
	TU_EXPECT(log->handle_errors == 0, "%s: %d events rejected, first: %s", name, log->handle_errors,
		  log->first_error);
	TU_EXPECT(strcmp(version, jm_get_str(exp, "slpVersion")) == 0, "%s: version %s", name, version);
	TU_EXPECT(g->stage_id == jm_get_int(exp, "stageId", -1), "%s: stage %u", name, g->stage_id);
	const struct jm_value *teams = jm_get(exp, "isTeams");
	TU_EXPECT(teams && g->is_teams == teams->b, "%s: isTeams %d", name, g->is_teams);

	/* players: exactly the expected indexes are present, with their settings */
	bool listed[SLP_MAX_PLAYERS] = {false};
	const struct jm_value *players = jm_get(exp, "players");
	for (const struct jm_value *p = players ? players->child : NULL; p; p = p->next) {
		int64_t i = jm_get_int(p, "playerIndex", -1);
		if (i < 0 || i >= SLP_MAX_PLAYERS)
			continue;
		listed[i] = true;
		const struct slp_player_info *pl = &g->players[i];
		TU_EXPECT(pl->present, "%s: player %" PRId64 " missing", name, i);
		TU_EXPECT(pl->character_id == jm_get_int(p, "characterId", -1),
			  "%s: player %" PRId64 " character %u, expected %" PRId64, name, i, pl->character_id,
			  jm_get_int(p, "characterId", -1));
		TU_EXPECT(pl->game_start_character_id == jm_get_int(p, "gameStartCharacterId", -1),
			  "%s: player %" PRId64 " Game Start character %u", name, i, pl->game_start_character_id);
		TU_EXPECT(pl->team_id == jm_get_int(p, "teamId", -1), "%s: player %" PRId64 " team %u", name, i,
			  pl->team_id);
		TU_EXPECT(pl->start_stocks == jm_get_int(p, "startStocks", -1), "%s: player %" PRId64 " stocks", name,
			  i);
		TU_EXPECT(pl->type == jm_get_int(p, "type", -1), "%s: player %" PRId64 " type", name, i);
		TU_EXPECT(pl->costume == jm_get_int(p, "costume", -1), "%s: player %" PRId64 " costume", name, i);
		TU_EXPECT(strcmp(pl->display_name, jm_get_str(p, "displayName")) == 0,
			  "%s: player %" PRId64 " display name \"%s\"", name, i, pl->display_name);
		TU_EXPECT(strcmp(pl->connect_code, jm_get_str(p, "connectCode")) == 0,
			  "%s: player %" PRId64 " connect code \"%s\"", name, i, pl->connect_code);
		TU_EXPECT(strcmp(pl->nametag, jm_get_str(p, "nametag")) == 0, "%s: player %" PRId64 " nametag \"%s\"",
			  name, i, pl->nametag);
	}
	for (int i = 0; i < SLP_MAX_PLAYERS; i++)
		TU_EXPECT(listed[i] == g->players[i].present, "%s: player %d present %d", name, i,
			  g->players[i].present);

	/* frames */
	const struct jm_value *frames = jm_get(exp, "frames");
	const struct jm_value *first = jm_get(frames, "first");
	if (jm_is_null(first)) {
		TU_EXPECT(!g->has_frames, "%s: frames seen", name);
		TU_EXPECT(log->frames == 0, "%s: %d frame events", name, log->frames);
	} else {
		TU_EXPECT(g->has_frames && g->first_frame == jm_int(first), "%s: first frame %d", name, g->first_frame);
		TU_EXPECT(g->last_frame == jm_get_int(frames, "lastInStream", INT64_MIN), "%s: last frame %d", name,
			  g->last_frame);
		TU_EXPECT(log->frames == (int)g->frame_openings, "%s: %d frame events for %u openings", name,
			  log->frames, g->frame_openings);
	}
	const struct jm_value *openings = jm_get(frames, "frameStartEventsTotal");
	if (openings && !jm_is_null(openings))
		TU_EXPECT(g->frame_openings == (uint32_t)jm_int(openings), "%s: %u frame openings, expected %" PRId64,
			  name, g->frame_openings, jm_int(openings));
	const struct jm_value *items = jm_get(jm_get(jm_get(exp, "stream"), "eventCounts"), "0x3b");
	TU_EXPECT(g->item_updates == (uint64_t)(items ? jm_int(items) : 0), "%s: %" PRIu64 " item updates", name,
		  g->item_updates);

	/* Game End */
	const struct jm_value *end = jm_get(exp, "gameEnd");
	TU_EXPECT(g->end.present == !jm_is_null(end), "%s: Game End present %d", name, g->end.present);
	TU_EXPECT(ignore_game_end_count || g->game_end_events == (uint32_t)jm_get_int(exp, "gameEndEventCount", -1),
		  "%s: %u Game End events", name, g->game_end_events);
	if (end && !jm_is_null(end) && g->end.present) {
		TU_EXPECT(g->end.method == jm_get_int(end, "gameEndMethod", -1), "%s: end method %u", name,
			  g->end.method);
		const struct jm_value *lras = jm_get(end, "lrasInitiatorIndex");
		if (jm_is_null(lras))
			TU_EXPECT(!g->end.has_lras, "%s: LRAS byte read before 2.0", name);
		else
			TU_EXPECT(g->end.has_lras && g->end.lras_initiator == jm_int(lras), "%s: LRAS %d", name,
				  g->end.lras_initiator);
		const struct jm_value *placements = jm_get(end, "placements");
		for (const struct jm_value *p = placements ? placements->child : NULL; p; p = p->next) {
			int64_t i = jm_get_int(p, "playerIndex", -1);
			const struct jm_value *pos = jm_get(p, "position");
			if (i < 0 || i >= SLP_MAX_PLAYERS)
				continue;
			if (jm_is_null(pos))
				TU_EXPECT(!g->end.has_placements, "%s: placements read before 3.13", name);
			else
				TU_EXPECT(g->end.has_placements && g->end.placements[i] == jm_int(pos),
					  "%s: placement of %" PRId64 " is %d", name, i, g->end.placements[i]);
		}
	}

	/* final state of each player */
	const struct jm_value *final = jm_get(exp, "finalPlayerState");
	for (const struct jm_value *f = final ? final->child : NULL; f; f = f->next) {
		int i = atoi(f->key);
		if (i < 0 || i >= SLP_MAX_PLAYERS)
			continue;
		const struct slp_player_state *s = &g->state[i];
		TU_EXPECT(s->has_frame && s->frame == jm_get_int(f, "frame", INT64_MIN), "%s: player %d last frame %d",
			  name, i, s->frame);
		TU_EXPECT(s->stocks_remaining == jm_get_int(f, "stocksRemaining", -1), "%s: player %d stocks %u", name,
			  i, s->stocks_remaining);
		TU_EXPECT(percent_equal(s->percent, jm_get(f, "percent")), "%s: player %d percent %.4f", name, i,
			  (double)s->percent);
		TU_EXPECT(s->internal_character_id == jm_get_int(f, "internalCharacterId", -1),
			  "%s: player %d internal character %u", name, i, s->internal_character_id);
		/* one stock_lost per stock gone */
		int lost = g->players[i].start_stocks - s->stocks_remaining;
		TU_EXPECT(log->stock_losses_by_player[i] == lost, "%s: player %d: %d stock_lost events, %d stocks gone",
			  name, i, log->stock_losses_by_player[i], lost);
	}

	/* slippi-js stock stats: meaningful for 1v1 games that ended */
	const struct jm_value *lost = jm_get(jm_get(exp, "stats"), "stocksLostByPlayerIndex");
	if (players && players->count == 2 && g->end.present) {
		for (const struct jm_value *l = lost ? lost->child : NULL; l; l = l->next) {
			int i = atoi(l->key);
			if (i >= 0 && i < SLP_MAX_PLAYERS)
				TU_EXPECT(log->stock_losses_by_player[i] == jm_int(l),
					  "%s: player %d lost %d stocks, slippi-js says %" PRId64, name, i,
					  log->stock_losses_by_player[i], jm_int(l));
		}
	}

	/* winners */
	int winners[SLP_MAX_PLAYERS];
	int n = slp_game_winners(g, winners);
	const struct jm_value *want = jm_get(exp, "winnersExpected");
	bool same = want && (size_t)n == want->count;
	for (int k = 0; same && k < n; k++)
		same = jm_int(jm_at(want, (size_t)k)) == winners[k];
	TU_EXPECT(same, "%s: %d winners (first %d), expected %zu", name, n, n ? winners[0] : -1,
		  want ? want->count : 0);

	/* game events */
	TU_EXPECT(log->starts == 1, "%s: %d game_start", name, log->starts);
	TU_EXPECT(log->ends == 1, "%s: %d game_end", name, log->ends);
	TU_EXPECT(log->n_marks == 2 && log->marks[0] == 'S' && log->marks[1] == (g->end.present ? 'E' : 'e'),
		  "%s: game events in order \"%.*s\"", name, log->n_marks, log->marks);
	TU_EXPECT(log->frames_before_start == 0, "%s: %d frames before game_start", name, log->frames_before_start);
	TU_EXPECT(log->bad_json == 0, "%s: %d bad JSON forms", name, log->bad_json);
}

static void test_game_every_replay_matches_expected(void **state)
{
	(void)state;
	const char *names[TU_MAX_REPLAYS];
	size_t n = tu_replay_names(names);
	assert_true(n >= 12);
	for (size_t i = 0; i < n; i++) {
		struct bytes file;
		const uint8_t *ev;
		size_t ev_len;
		load(names[i], &file, &ev, &ev_len);
		struct game_log *log = malloc(sizeof(*log));
		assert_non_null(log);
		/* whole, then in random chunks: the same result */
		for (int chunk = 0; chunk <= 5000; chunk += 5000) {
			log_init(log);
			int rc = run_game(log, ev, ev_len, chunk, 99 + i, true);
			TU_EXPECT(rc == 0, "%s: splitter returned %d", names[i], rc);
			check_against_expected(names[i], log);
			log_free(log);
		}
		free(log);
		bytes_free(&file);
	}
	TU_EXPECT_NO_FAILURES();
}

/* Before slp_game_finish, a game without Game End has emitted no game_end; finish emits exactly one, once. */
static void test_game_finish_ends_unterminated_games_once(void **state)
{
	(void)state;
	const char *names[TU_MAX_REPLAYS];
	size_t n = tu_replay_names(names);
	for (size_t i = 0; i < n; i++) {
		struct bytes file;
		const uint8_t *ev;
		size_t ev_len;
		load(names[i], &file, &ev, &ev_len);
		struct game_log *log = malloc(sizeof(*log));
		assert_non_null(log);
		log_init(log);
		run_game(log, ev, ev_len, 0, 0, false);
		bool has_end = log->game.end.present;
		TU_EXPECT(log->ends == (has_end ? 1 : 0), "%s: %d game_end before finish", names[i], log->ends);
		slp_game_finish(&log->game);
		slp_game_finish(&log->game);
		TU_EXPECT(log->ends == 1, "%s: %d game_end after finish", names[i], log->ends);
		TU_EXPECT(log->n_marks == 2 && log->marks[1] == (has_end ? 'E' : 'e'), "%s: marks %.*s", names[i],
			  log->n_marks, log->marks);
		log_free(log);
		free(log);
		bytes_free(&file);
	}
	TU_EXPECT_NO_FAILURES();
}

/* The wire events of a stream, as (offset, size, code). */
struct wire {
	uint64_t offset;
	uint32_t size;
	uint8_t code;
};

static size_t wire_events(const uint8_t *ev, size_t len, struct wire **out)
{
	struct tu_recording rec;
	tu_recording_init(&rec);
	tu_split(ev, len, 0, 0, &rec, NULL, NULL, NULL, 0);
	struct wire *w = calloc(rec.n + 1, sizeof(*w));
	assert_non_null(w);
	size_t n = 0;
	for (size_t k = 0; k < rec.n; k++) {
		if (rec.ev[k].reassembled)
			continue;
		w[n].offset = rec.ev[k].offset;
		w[n].size = rec.ev[k].size;
		w[n].code = rec.ev[k].code;
		n++;
	}
	tu_recording_free(&rec);
	*out = w;
	return n;
}

static void test_game_repeated_game_end_uses_first(void **state)
{
	(void)state;
	static const char *const names[] = {"v3.13.slp", "unranked_game1.slp", "realtimeTest.slp",
					    "sheik_vs_ics_yoshis.slp"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct bytes file, edited;
		const uint8_t *ev;
		size_t ev_len;
		load(names[i], &file, &ev, &ev_len);
		struct wire *w;
		size_t n = wire_events(ev, ev_len, &w);
		assert_true(n > 0 && w[n - 1].code == SLP_CMD_GAME_END);
		const struct wire *end = &w[n - 1];
		bytes_init(&edited, 0);
		assert_true(bytes_append(&edited, ev, ev_len));
		/* the repeat says something else: it must be ignored */
		size_t copy_at = edited.len;
		assert_true(bytes_append(&edited, ev + end->offset, end->size));
		edited.data[copy_at + 1] = edited.data[copy_at + 1] == SLP_END_NO_CONTEST ? SLP_END_TIME
											  : SLP_END_NO_CONTEST;

		struct game_log *log = malloc(sizeof(*log));
		log_init(log);
		run_game(log, edited.data, edited.len, 0, 0, true);
		TU_EXPECT(log->ends == 1, "%s + Game End: %d game_end", names[i], log->ends);
		TU_EXPECT(log->game.game_end_events == 2, "%s: %u Game End events", names[i],
			  log->game.game_end_events);
		TU_EXPECT(log->game.end.method == ev[end->offset + 1], "%s: end method %u, the first said %u", names[i],
			  log->game.end.method, ev[end->offset + 1]);
		ignore_game_end_count = true; /* everything else is as in the file */
		check_against_expected(names[i], log);
		log_free(log);
		free(log);
		free(w);
		bytes_free(&edited);
		bytes_free(&file);
	}
	ignore_game_end_count = false;
	TU_EXPECT_NO_FAILURES();
}

static void test_game_missing_game_end_is_incomplete(void **state)
{
	(void)state;
	static const char *const names[] = {"v3.13.slp", "unranked_game1.slp", "realtimeTest.slp", "items.slp"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct bytes file;
		const uint8_t *ev;
		size_t ev_len;
		load(names[i], &file, &ev, &ev_len);
		struct wire *w;
		size_t n = wire_events(ev, ev_len, &w);
		assert_true(n > 0 && w[n - 1].code == SLP_CMD_GAME_END);
		struct game_log *log = malloc(sizeof(*log));
		log_init(log);
		run_game(log, ev, (size_t)w[n - 1].offset, 0, 0, false);
		TU_EXPECT(log->ends == 0, "%s without Game End: %d game_end before finish", names[i], log->ends);
		slp_game_finish(&log->game);
		TU_EXPECT(log->ends == 1 && !log->game.end.present, "%s: %d game_end, complete %d", names[i], log->ends,
			  log->game.end.present);
		TU_EXPECT(log->n_marks == 2 && log->marks[1] == 'e', "%s: marks %.*s", names[i], log->n_marks,
			  log->marks);
		int winners[SLP_MAX_PLAYERS];
		TU_EXPECT(slp_game_winners(&log->game, winners) == 0, "%s: winners without a Game End", names[i]);
		/* the JSON form says incomplete */
		struct slp_game_event e = {.type = SLP_GAME_EVENT_GAME_END, .game = &log->game};
		bytes_clear(&log->json);
		assert_true(slp_game_event_to_json(&e, &log->json));
		struct jm_value *doc = jm_parse((const char *)log->json.data, log->json.len, NULL, 0);
		assert_non_null(doc);
		const struct jm_value *complete = jm_get(doc, "complete");
		TU_EXPECT(complete && complete->type == JM_BOOL && !complete->b, "%s: complete is not false", names[i]);
		TU_EXPECT(jm_is_null(jm_get(doc, "gameEndMethod")), "%s: gameEndMethod is not null", names[i]);
		jm_free(doc);
		log_free(log);
		free(log);
		free(w);
		bytes_free(&file);
	}
	TU_EXPECT_NO_FAILURES();
}

static void test_game_concatenated_games_reset_between(void **state)
{
	(void)state;
	static const struct {
		const char *a, *b;
	} pairs[] = {
		{"v3.13.slp", "unranked_game1.slp"},
		{"geckoCodes.slp", "v3.13.slp"}, /* A has no Game End: it ends when B's Event Payloads arrives */
		{"sheik_vs_ics_yoshis.slp", "realtimeTest.slp"},
		{"doubles.slp", "v3.13.slp"},
	};
	for (size_t p = 0; p < sizeof(pairs) / sizeof(pairs[0]); p++) {
		struct bytes fa, fb, both;
		const uint8_t *ea, *eb;
		size_t la, lb;
		load(pairs[p].a, &fa, &ea, &la);
		load(pairs[p].b, &fb, &eb, &lb);
		bytes_init(&both, 0);
		assert_true(bytes_append(&both, ea, la));
		assert_true(bytes_append(&both, eb, lb));

		struct game_log *solo = malloc(sizeof(*solo));
		log_init(solo);
		run_game(solo, ea, la, 0, 0, true);
		char a_end = solo->marks[1];
		int a_frames = solo->frames;
		log_free(solo);
		free(solo);

		struct game_log *log = malloc(sizeof(*log));
		log_init(log);
		run_game(log, both.data, both.len, 300, p, true);
		char want[5] = {'S', a_end, 'S', 0, 0};
		want[3] = log->game.end.present ? 'E' : 'e';
		TU_EXPECT(log->n_marks == 4 && memcmp(log->marks, want, 4) == 0,
			  "%s + %s: game events \"%.*s\", want %s", pairs[p].a, pairs[p].b, log->n_marks, log->marks,
			  want);
		TU_EXPECT(log->stage_at_start[0] == jm_get_int(tu_expected_file(pairs[p].a), "stageId", -1) &&
				  log->stage_at_start[2] == jm_get_int(tu_expected_file(pairs[p].b), "stageId", -1),
			  "%s + %s: stages at game_start %u, %u", pairs[p].a, pairs[p].b, log->stage_at_start[0],
			  log->stage_at_start[2]);
		TU_EXPECT(log->game.games == 2, "%s + %s: %u games", pairs[p].a, pairs[p].b, log->game.games);
		/* the state after B is B's alone: reuse the whole-file check on it, with B's own counts */
		int starts = log->starts, ends = log->ends, frames = log->frames;
		log->starts = 1;
		log->ends = 1;
		log->marks[0] = log->marks[2];
		log->marks[1] = log->marks[3];
		log->n_marks = 2;
		log->frames = (int)log->game.frame_openings;
		struct game_log *b = malloc(sizeof(*b));
		log_init(b);
		run_game(b, eb, lb, 0, 0, true);
		for (int i = 0; i < SLP_MAX_PLAYERS; i++)
			log->stock_losses_by_player[i] = b->stock_losses_by_player[i];
		TU_EXPECT(frames == a_frames + b->frames, "%s + %s: %d frame events, %d + %d alone", pairs[p].a,
			  pairs[p].b, frames, a_frames, b->frames);
		check_against_expected(pairs[p].b, log);
		TU_EXPECT(starts == 2 && ends == 2, "%s + %s: %d starts, %d ends", pairs[p].a, pairs[p].b, starts,
			  ends);
		log_free(b);
		free(b);
		log_free(log);
		free(log);
		bytes_free(&both);
		bytes_free(&fa);
		bytes_free(&fb);
	}
	TU_EXPECT_NO_FAILURES();
}

/*
 * A rollback: re-send the events of a few frames around a stock loss after they were first sent, as an online
 * game does. No stock is lost twice, and the final state is what it was.
 */
static void test_game_rollback_resend_changes_nothing(void **state)
{
	(void)state;
	static const char *const names[] = {"ics2.slp", "v3.14.0.slp"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct bytes file;
		const uint8_t *ev;
		size_t ev_len;
		load(names[i], &file, &ev, &ev_len);
		struct game_log *base = malloc(sizeof(*base));
		log_init(base);
		run_game(base, ev, ev_len, 0, 0, true);
		assert_true(base->stock_losses >= 2);
		struct wire *w;
		size_t n = wire_events(ev, ev_len, &w);

		for (int which = 0; which < 2 && which < base->stock_losses; which++) {
			/* frames [loss - 2, loss + 1], re-sent right after frame loss + 1's bookend */
			int32_t loss = base->stock_frames[which];
			size_t from = SIZE_MAX, to = SIZE_MAX;
			for (size_t k = 0; k < n; k++) {
				if (w[k].code == SLP_CMD_FRAME_START && from == SIZE_MAX &&
				    rd_i32be(ev + w[k].offset + 1) == loss - 2)
					from = k;
				if (w[k].code == SLP_CMD_FRAME_BOOKEND && rd_i32be(ev + w[k].offset + 1) == loss + 1)
					to = k;
			}
			assert_true(from != SIZE_MAX && to != SIZE_MAX && from < to);
			size_t cut = (size_t)(w[to].offset + w[to].size);
			struct bytes edited;
			bytes_init(&edited, 0);
			assert_true(bytes_append(&edited, ev, cut));
			assert_true(bytes_append(&edited, ev + w[from].offset, cut - (size_t)w[from].offset));
			assert_true(bytes_append(&edited, ev + cut, ev_len - cut));

			struct game_log *log = malloc(sizeof(*log));
			log_init(log);
			run_game(log, edited.data, edited.len, 4096, 5, true);
			const struct slp_game *g = &log->game, *b = &base->game;
			TU_EXPECT(log->stock_losses == base->stock_losses,
				  "%s rollback at %d: %d stock_lost, expected %d", names[i], loss, log->stock_losses,
				  base->stock_losses);
			TU_EXPECT(g->frame_openings == b->frame_openings + 4, "%s: %u openings, base %u", names[i],
				  g->frame_openings, b->frame_openings);
			TU_EXPECT(g->last_frame == b->last_frame && g->first_frame == b->first_frame, "%s: frames",
				  names[i]);
			for (int p = 0; p < SLP_MAX_PLAYERS; p++) {
				TU_EXPECT(g->state[p].stocks_remaining == b->state[p].stocks_remaining &&
						  g->state[p].percent == b->state[p].percent &&
						  g->state[p].frame == b->state[p].frame,
					  "%s: player %d final state differs", names[i], p);
			}
			TU_EXPECT(g->end.present == b->end.present && g->end.method == b->end.method, "%s: end",
				  names[i]);
			TU_EXPECT(log->starts == 1 && log->ends == 1 && log->bad_json == 0, "%s: %d starts %d ends",
				  names[i], log->starts, log->ends);
			/* the loss is reported once, at its frame */
			TU_EXPECT(log->stock_frames[which] == loss, "%s: stock_lost at %d", names[i],
				  log->stock_frames[which]);
			log_free(log);
			free(log);
			bytes_free(&edited);
		}
		free(w);
		log_free(base);
		free(base);
		bytes_free(&file);
	}
	TU_EXPECT_NO_FAILURES();
}

/* game_start waits for the first frame only when the pre-1.6 Zelda/Sheik fix needs it, and comes first. */
static void test_game_start_comes_before_frames(void **state)
{
	(void)state;
	struct bytes file;
	const uint8_t *ev;
	size_t ev_len;
	load("sheik_vs_ics_yoshis.slp", &file, &ev, &ev_len);
	struct game_log *log = malloc(sizeof(*log));
	log_init(log);
	run_game(log, ev, ev_len, 1, 0, false);
	assert_int_equal(log->starts, 1);
	assert_int_equal(log->frames_before_start, 0);
	assert_int_equal(log->game.players[0].character_id, 19);
	assert_int_equal(log->game.players[0].game_start_character_id, 18);
	log_free(log);
	free(log);
	bytes_free(&file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_game_every_replay_matches_expected),
		cmocka_unit_test(test_game_finish_ends_unterminated_games_once),
		cmocka_unit_test(test_game_repeated_game_end_uses_first),
		cmocka_unit_test(test_game_missing_game_end_is_incomplete),
		cmocka_unit_test(test_game_concatenated_games_reset_between),
		cmocka_unit_test(test_game_rollback_resend_changes_nothing),
		cmocka_unit_test(test_game_start_comes_before_frames),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
