/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "slp_game.h"
#include "json_writer.h"
#include "sjis.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Game Start offsets from the command byte */
#define GS_VERSION 0x1
#define GS_BITFIELD 0x5
#define GS_IS_TEAMS 0xD
#define GS_STAGE 0x13
#define GS_TIMER 0x15
#define GS_PLAYER_BASE 0x65
#define GS_PLAYER_STRIDE 0x24
#define GS_NAMETAG 0x161
#define GS_PAL 0x1A1
#define GS_MAJOR_SCENE 0x1A4
#define GS_DISPLAY_NAME 0x1A5
#define GS_CONNECT_CODE 0x221
#define GS_MIN_SIZE (GS_PLAYER_BASE + GS_PLAYER_STRIDE * SLP_MAX_PLAYERS)

/* Post-Frame Update offsets from the command byte */
#define POST_ACTION_STATE 0x8
#define POST_PERCENT 0x16
#define POST_LAST_ATTACK 0x1E
#define POST_COMBO_COUNT 0x1F
#define POST_LAST_HIT_BY 0x20
#define POST_STOCKS 0x21
#define POST_ACTION_COUNTER 0x22

/* slippi-js's parser (SlpParser) finalizes frames this far behind the newest without a finalized-frame number */
#define FINALIZE_LAG 7
#define MAJOR_SCENE_ONLINE 8
#define FIRST_FRAME (-123)

#define CHAR_EXT_ZELDA 18
#define CHAR_EXT_SHEIK 19
#define CHAR_INT_SHEIK 7

static bool has(const struct slp_event *ev, size_t offset, size_t width)
{
	return offset + width <= ev->size;
}

static void emit(struct slp_game *g, enum slp_game_event_type type, int32_t frame, int player_index)
{
	if (!g->on_event)
		return;
	struct slp_game_event ev = {.type = type, .game = g, .frame = frame, .player_index = player_index};
	if (player_index >= 0 && player_index < SLP_MAX_PLAYERS) {
		ev.stocks_remaining = g->state[player_index].stocks_remaining;
	}
	g->on_event(g->ud, &ev);
}

static void reset(struct slp_game *g)
{
	slp_game_event_fn fn = g->on_event;
	void *ud = g->ud;
	uint32_t games = g->games;
	memset(g, 0, sizeof(*g));
	g->on_event = fn;
	g->ud = ud;
	g->games = games;
}

void slp_game_init(struct slp_game *g, slp_game_event_fn on_event, void *ud)
{
	memset(g, 0, sizeof(*g));
	g->on_event = on_event;
	g->ud = ud;
}

bool slp_game_version_at_least(const struct slp_game *g, int major, int minor, int build)
{
	if (g->version[0] != major)
		return g->version[0] > major;
	if (g->version[1] != minor)
		return g->version[1] > minor;
	return g->version[2] >= build;
}

void slp_game_version_string(const struct slp_game *g, char *out, size_t out_size)
{
	snprintf(out, out_size, "%u.%u.%u", g->version[0], g->version[1], g->version[2]);
}

static int error(struct slp_game *g, const struct slp_event *ev, const char *what)
{
	snprintf(g->error, sizeof(g->error), "%s (command 0x%02x at stream byte %llu)", what, ev->code,
		 (unsigned long long)ev->offset);
	return -1;
}

/* Applies the pre-1.6 Zelda/Sheik fix, then announces the game. */
static void emit_start(struct slp_game *g)
{
	if (g->start_emitted)
		return;
	if (!slp_game_version_at_least(g, 1, 6, 0)) {
		for (int i = 0; i < SLP_MAX_PLAYERS; i++) {
			struct slp_player_info *p = &g->players[i];
			const struct slp_player_state *s = &g->state[i];
			if (p->present && p->game_start_character_id == CHAR_EXT_ZELDA && s->seen_first_post_frame &&
			    s->first_internal_character_id == CHAR_INT_SHEIK)
				p->character_id = CHAR_EXT_SHEIK;
		}
	}
	g->start_pending = false;
	g->start_emitted = true;
	emit(g, SLP_GAME_EVENT_GAME_START, g->has_frames ? g->latest_frame : 0, -1);
}

static void complete_frame(struct slp_game *g)
{
	if (!g->frame_open)
		return;
	g->frame_open = false;
	if (g->start_pending)
		emit_start(g);
	emit(g, SLP_GAME_EVENT_FRAME, g->open_frame, -1);
}

static void open_frame(struct slp_game *g, int32_t frame)
{
	complete_frame(g);
	g->frame_open = true;
	g->open_frame = frame;
	g->latest_frame = frame;
	g->frame_openings++;
	if (!g->has_frames) {
		g->has_frames = true;
		g->first_frame = frame;
		g->last_frame = frame;
	} else {
		if (frame < g->first_frame)
			g->first_frame = frame;
		if (frame > g->last_frame)
			g->last_frame = frame;
	}
}

static void emit_combo(void *ud, const struct slp_combo *c)
{
	struct slp_game *g = ud;
	if (g->start_pending)
		emit_start(g);
	if (!g->on_event)
		return;
	/* a combo still open when the game ended is about the game's last frame */
	int32_t frame = c->ended ? c->end_frame : (g->has_frames ? g->last_frame : 0);
	struct slp_game_event ev = {.type = SLP_GAME_EVENT_COMBO,
				    .game = g,
				    .frame = frame,
				    .player_index = c->victim,
				    .combo = c};
	ev.stocks_remaining = g->state[c->victim].stocks_remaining;
	g->on_event(g->ud, &ev);
}

static void finalize_frames(struct slp_game *g, int64_t frame)
{
	if (g->combos.enabled)
		slp_combo_finalize(&g->combos, frame, emit_combo, g);
}

/*
 * A Pre- or Post-Frame Update (Nana's too) for `frame`. Before Frame Bookend existed (up to 2.2.0), slippi-js takes
 * the frame before as final at each of them.
 */
static void frame_update(struct slp_game *g, int32_t frame)
{
	g->has_update_frame = true;
	g->update_frame = frame;
	if (g->finalize_each_update)
		finalize_frames(g, (int64_t)frame - 1);
}

static void end_game(struct slp_game *g)
{
	if (!g->started || g->end_emitted)
		return;
	complete_frame(g);
	if (g->start_pending)
		emit_start(g);
	/*
	 * At a Game End every frame is final. Without one (the source ended, or the next game began) the frames
	 * slippi-js would not have finalized yet stay out, as they do of its stats: online, they may never have
	 * happened. Then the combos still open are announced, without an end.
	 */
	if (g->end.present && g->has_update_frame)
		finalize_frames(g, g->update_frame);
	slp_combo_finish(&g->combos, emit_combo, g);
	g->end_emitted = true;
	emit(g, SLP_GAME_EVENT_GAME_END, g->has_frames ? g->latest_frame : 0, -1);
}

static void decode_name(const uint8_t *src, size_t len, char *out, size_t out_size)
{
	sjis_to_utf8(src, len, out, out_size, true);
}

bool slp_game_start_player(const struct slp_event *ev, int i, struct slp_player_info *pl)
{
	memset(pl, 0, sizeof(*pl));
	if (ev->code != SLP_CMD_GAME_START || ev->size < GS_MIN_SIZE || i < 0 || i >= SLP_MAX_PLAYERS)
		return false;
	const uint8_t *p = ev->data;
	const uint8_t *slot = p + GS_PLAYER_BASE + GS_PLAYER_STRIDE * i;
	pl->type = slot[1];
	pl->present = pl->type != SLP_PLAYER_TYPE_EMPTY;
	pl->game_start_character_id = slot[0];
	pl->character_id = slot[0];
	pl->start_stocks = slot[2];
	pl->costume = slot[3];
	pl->team_id = slot[9];
	if (has(ev, GS_NAMETAG + 0x10 * i, 0x10))
		decode_name(p + GS_NAMETAG + 0x10 * i, 0x10, pl->nametag, sizeof(pl->nametag));
	if (has(ev, GS_DISPLAY_NAME + 0x1F * i, 0x1F))
		decode_name(p + GS_DISPLAY_NAME + 0x1F * i, 0x1F, pl->display_name, sizeof(pl->display_name));
	if (has(ev, GS_CONNECT_CODE + 0xA * i, 0xA))
		decode_name(p + GS_CONNECT_CODE + 0xA * i, 0xA, pl->connect_code, sizeof(pl->connect_code));
	return true;
}

static int handle_game_start(struct slp_game *g, const struct slp_event *ev)
{
	if (ev->size < GS_MIN_SIZE)
		return error(g, ev, "Game Start is too short");
	if (g->started)
		return 0; /* a repeated Game Start in one game: keep the first */
	const uint8_t *p = ev->data;
	memcpy(g->version, p + GS_VERSION, 4);
	g->game_bitfield = p[GS_BITFIELD];
	g->is_teams = p[GS_IS_TEAMS] != 0;
	g->stage_id = rd_u16be(p + GS_STAGE);
	g->timer_seconds = rd_u32be(p + GS_TIMER);
	g->has_pal = has(ev, GS_PAL, 1);
	g->is_pal = g->has_pal && p[GS_PAL];
	g->has_major_scene = has(ev, GS_MAJOR_SCENE, 1);
	g->major_scene = g->has_major_scene ? p[GS_MAJOR_SCENE] : 0;
	bool needs_fix = false;
	bool present[SLP_MAX_PLAYERS];
	for (int i = 0; i < SLP_MAX_PLAYERS; i++) {
		struct slp_player_info *pl = &g->players[i];
		slp_game_start_player(ev, i, pl);
		g->state[i].stocks_remaining = pl->start_stocks;
		g->state[i].lowest_stocks = pl->start_stocks;
		present[i] = pl->present;
		if (pl->present && pl->character_id == CHAR_EXT_ZELDA)
			needs_fix = true;
	}
	slp_combo_init(&g->combos, present);
	g->finalize_each_update = !slp_game_version_at_least(g, 2, 2, 1);
	g->started = true;
	if (needs_fix && !slp_game_version_at_least(g, 1, 6, 0))
		g->start_pending = true;
	else
		emit_start(g);
	return 0;
}

static int handle_post_frame(struct slp_game *g, const struct slp_event *ev)
{
	if (!has(ev, 0x21, 1))
		return error(g, ev, "Post-Frame Update is too short");
	int32_t frame = rd_i32be(ev->data + 1);
	uint8_t index = ev->data[5];
	if (index >= SLP_MAX_PLAYERS)
		return error(g, ev, "Post-Frame Update names a player index above 3");
	if (!g->frame_open)
		open_frame(g, frame);
	if (ev->data[6]) {
		frame_update(g, frame);
		return 0; /* Nana: player state follows the leader only */
	}
	const uint8_t *p = ev->data;
	struct slp_player_state *s = &g->state[index];
	float previous_percent = s->percent;
	if (!s->seen_first_post_frame) {
		s->seen_first_post_frame = true;
		s->first_internal_character_id = p[7];
		s->lowest_stocks = p[POST_STOCKS];
	}
	s->has_frame = true;
	s->frame = frame;
	s->internal_character_id = p[7];
	s->action_state = rd_u16be(p + POST_ACTION_STATE);
	s->percent = rd_f32be(p + POST_PERCENT);
	s->last_attack_landed = p[POST_LAST_ATTACK];
	s->combo_count = p[POST_COMBO_COUNT];
	s->last_hit_by = p[POST_LAST_HIT_BY];
	s->stocks_remaining = p[POST_STOCKS];
	s->has_action_counter = has(ev, POST_ACTION_COUNTER, 4);
	s->action_counter = s->has_action_counter ? rd_f32be(p + POST_ACTION_COUNTER) : 0.0f;
	if (g->combos.enabled) {
		struct slp_combo_post cp = {.percent = s->percent,
					    .action_counter = s->action_counter,
					    .action_state = s->action_state,
					    .last_attack_landed = s->last_attack_landed,
					    .stocks = s->stocks_remaining,
					    .has_action_counter = s->has_action_counter};
		slp_combo_post(&g->combos, frame, index, &cp);
	}
	frame_update(g, frame);
	if (s->stocks_remaining < s->lowest_stocks) {
		s->lowest_stocks = s->stocks_remaining;
		if (g->start_pending)
			emit_start(g);
		if (g->on_event) {
			struct slp_game_event e = {.type = SLP_GAME_EVENT_STOCK_LOST,
						   .game = g,
						   .frame = frame,
						   .player_index = index,
						   .stocks_remaining = s->stocks_remaining,
						   .percent = previous_percent};
			g->on_event(g->ud, &e);
		}
	}
	return 0;
}

static int handle_game_end(struct slp_game *g, const struct slp_event *ev)
{
	g->game_end_events++;
	if (g->end.present)
		return 0; /* a repeated Game End: the first one counts */
	if (!has(ev, 1, 1))
		return error(g, ev, "Game End is too short");
	g->end.present = true;
	g->end.method = ev->data[1];
	g->end.has_lras = has(ev, 2, 1);
	g->end.lras_initiator = g->end.has_lras ? (int8_t)ev->data[2] : -1;
	g->end.has_placements = has(ev, 3, SLP_MAX_PLAYERS);
	for (int i = 0; i < SLP_MAX_PLAYERS; i++)
		g->end.placements[i] = g->end.has_placements ? (int8_t)ev->data[3 + i] : -1;
	g->end.frame = g->has_frames ? g->latest_frame : 0;
	end_game(g);
	return 0;
}

int slp_game_handle(struct slp_game *g, const struct slp_event *ev)
{
	if (ev->reassembled)
		return 0;
	switch (ev->code) {
	case SLP_CMD_EVENT_PAYLOADS:
		end_game(g);
		reset(g);
		g->games++;
		return 0;
	case SLP_CMD_GAME_START:
		return handle_game_start(g, ev);
	default:
		break;
	}
	if (!g->started)
		return 0; /* frame data before Game Start carries nothing we can place */
	switch (ev->code) {
	case SLP_CMD_FRAME_START:
		if (!has(ev, 1, 4))
			return error(g, ev, "Frame Start is too short");
		g->saw_frame_start = true;
		open_frame(g, rd_i32be(ev->data + 1));
		return 0;
	case SLP_CMD_PRE_FRAME: {
		if (!has(ev, 6, 1))
			return error(g, ev, "Pre-Frame Update is too short");
		int32_t frame = rd_i32be(ev->data + 1);
		if (ev->data[5] >= SLP_MAX_PLAYERS)
			return error(g, ev, "Pre-Frame Update names a player index above 3");
		/* before Frame Start existed, a new leader frame number opens the next frame */
		if (!g->saw_frame_start && !ev->data[6] && (!g->frame_open || frame != g->open_frame))
			open_frame(g, frame);
		frame_update(g, frame);
		return 0;
	}
	case SLP_CMD_POST_FRAME:
		return handle_post_frame(g, ev);
	case SLP_CMD_ITEM_UPDATE:
		g->item_updates++;
		return 0;
	case SLP_CMD_FRAME_BOOKEND: {
		if (!has(ev, 1, 4))
			return error(g, ev, "Frame Bookend is too short");
		int32_t frame = rd_i32be(ev->data + 1);
		bool has_final = has(ev, 5, 4);
		if (has_final) {
			g->has_finalized_frame = true;
			g->finalized_frame = rd_i32be(ev->data + 5);
		}
		if (!g->frame_open)
			open_frame(g, frame);
		complete_frame(g);
		/* online, the stream says which frames rollback can no longer change; elsewhere slippi-js waits 7 */
		if (g->has_major_scene && g->major_scene == MAJOR_SCENE_ONLINE && has_final &&
		    g->finalized_frame >= FIRST_FRAME)
			finalize_frames(g, g->finalized_frame);
		else
			finalize_frames(g, (int64_t)frame - FINALIZE_LAG);
		return 0;
	}
	case SLP_CMD_GAME_END:
		return handle_game_end(g, ev);
	default:
		return 0;
	}
}

void slp_game_finish(struct slp_game *g)
{
	end_game(g);
}

static int add_with_teammates(const struct slp_game *g, bool chosen[SLP_MAX_PLAYERS], int out[SLP_MAX_PLAYERS])
{
	bool win[SLP_MAX_PLAYERS] = {false};
	for (int i = 0; i < SLP_MAX_PLAYERS; i++) {
		if (!chosen[i] || !g->players[i].present)
			continue;
		win[i] = true;
		if (!g->is_teams)
			continue;
		for (int j = 0; j < SLP_MAX_PLAYERS; j++)
			if (g->players[j].present && g->players[j].team_id == g->players[i].team_id)
				win[j] = true;
	}
	int n = 0;
	for (int i = 0; i < SLP_MAX_PLAYERS; i++)
		if (win[i])
			out[n++] = i;
	return n;
}

/* The players (or teams) still holding stocks, when exactly one side is left. */
static int last_side_standing(const struct slp_game *g, int out[SLP_MAX_PLAYERS])
{
	bool alive[SLP_MAX_PLAYERS] = {false};
	int sides = 0;
	int side_key[SLP_MAX_PLAYERS];
	for (int i = 0; i < SLP_MAX_PLAYERS; i++) {
		if (!g->players[i].present || g->state[i].stocks_remaining == 0)
			continue;
		alive[i] = true;
		int key = g->is_teams ? g->players[i].team_id : i;
		bool known = false;
		for (int k = 0; k < sides; k++)
			known |= side_key[k] == key;
		if (!known)
			side_key[sides++] = key;
	}
	if (sides != 1)
		return 0;
	return add_with_teammates(g, alive, out);
}

static int by_placement(const struct slp_game *g, int out[SLP_MAX_PLAYERS])
{
	if (!g->end.has_placements)
		return 0;
	bool first[SLP_MAX_PLAYERS] = {false};
	for (int i = 0; i < SLP_MAX_PLAYERS; i++)
		first[i] = g->players[i].present && g->end.placements[i] == 0;
	return add_with_teammates(g, first, out);
}

/* Whole percent, as the winner rule compares it. The float comes from the stream: NaN and values past any real
 * percent (a converted out-of-range float is undefined behaviour) count as the highest. */
static int whole_percent(float percent)
{
	if (!(percent > -1e6f && percent < 1e6f))
		return 1000000;
	return (int)percent;
}

static int by_stocks_then_percent(const struct slp_game *g, int out[SLP_MAX_PLAYERS])
{
	int best = -1;
	bool tie = false;
	for (int i = 0; i < SLP_MAX_PLAYERS; i++) {
		if (!g->players[i].present)
			continue;
		if (best < 0) {
			best = i;
			continue;
		}
		const struct slp_player_state *a = &g->state[i], *b = &g->state[best];
		int pa = whole_percent(a->percent), pb = whole_percent(b->percent);
		if (a->stocks_remaining > b->stocks_remaining ||
		    (a->stocks_remaining == b->stocks_remaining && pa < pb)) {
			best = i;
			tie = false;
		} else if (a->stocks_remaining == b->stocks_remaining && pa == pb) {
			tie = true;
		}
	}
	if (best < 0 || tie)
		return 0;
	bool chosen[SLP_MAX_PLAYERS] = {false};
	chosen[best] = true;
	return add_with_teammates(g, chosen, out);
}

int slp_game_winners(const struct slp_game *g, int out[SLP_MAX_PLAYERS])
{
	if (!g->end.present)
		return 0;
	int present = 0;
	for (int i = 0; i < SLP_MAX_PLAYERS; i++)
		present += g->players[i].present;
	switch (g->end.method) {
	case SLP_END_GAME:
	case SLP_END_RESOLVED:
		return last_side_standing(g, out);
	case SLP_END_TIME: {
		int n = by_placement(g, out);
		return n ? n : by_stocks_then_percent(g, out);
	}
	case SLP_END_NO_CONTEST: {
		int quitter = g->end.lras_initiator;
		if (present != 2 || !g->end.has_lras || quitter < 0 || quitter >= SLP_MAX_PLAYERS)
			return 0;
		int n = 0;
		for (int i = 0; i < SLP_MAX_PLAYERS; i++)
			if (g->players[i].present && i != quitter)
				out[n++] = i;
		return n;
	}
	default:
		return by_placement(g, out);
	}
}

const char *slp_game_event_name(enum slp_game_event_type type)
{
	switch (type) {
	case SLP_GAME_EVENT_GAME_START:
		return "game_start";
	case SLP_GAME_EVENT_FRAME:
		return "frame";
	case SLP_GAME_EVENT_STOCK_LOST:
		return "stock_lost";
	case SLP_GAME_EVENT_GAME_END:
		return "game_end";
	case SLP_GAME_EVENT_COMBO:
		return "combo";
	default:
		return "invalid";
	}
}

/*
 * The JSON forms of docs/events.md. Each kind of object has one writer here, and everything that prints a game's
 * start, its players' state or its end goes through it: the events (`record --events`, the engine, the OBS
 * module) and `inspect --json`, so the forms cannot drift apart.
 */

static void json_player_ids(struct json_writer *jw, int i)
{
	jw_int(jw, "playerIndex", i);
	jw_int(jw, "port", i + 1);
}

void slp_game_json_players(struct json_writer *jw, const char *key, const struct slp_game *g, unsigned fields)
{
	jw_array_begin(jw, key);
	for (int i = 0; i < SLP_MAX_PLAYERS && g->started; i++) {
		if (!g->players[i].present)
			continue;
		const struct slp_player_state *s = &g->state[i];
		jw_object_begin(jw, NULL);
		json_player_ids(jw, i);
		if (fields & SLP_GAME_JSON_LAST_FRAME) {
			if (s->has_frame)
				jw_int(jw, "frame", s->frame);
			else
				jw_null(jw, "frame");
		}
		if (fields & SLP_GAME_JSON_CHARACTER) {
			if (s->has_frame)
				jw_int(jw, "internalCharacterId", s->internal_character_id);
			else
				jw_null(jw, "internalCharacterId");
		}
		jw_int(jw, "stocksRemaining", s->stocks_remaining);
		jw_double(jw, "percent", s->percent, 4);
		jw_object_end(jw);
	}
	jw_array_end(jw);
}

/* The settings and the players as Game Start set them (the Zelda/Sheik fix applied). */
static void json_game_start(struct json_writer *jw, const struct slp_game *g)
{
	char version[32];
	slp_game_version_string(g, version, sizeof(version));
	jw_string(jw, "slpVersion", version);
	jw_int(jw, "stageId", g->stage_id);
	jw_bool(jw, "isTeams", g->is_teams);
	if (g->has_pal)
		jw_bool(jw, "isPAL", g->is_pal);
	else
		jw_null(jw, "isPAL");
	if (g->has_major_scene)
		jw_int(jw, "majorScene", g->major_scene);
	else
		jw_null(jw, "majorScene");
	jw_int(jw, "startingTimerSeconds", g->timer_seconds);
	jw_array_begin(jw, "players");
	for (int i = 0; i < SLP_MAX_PLAYERS; i++) {
		const struct slp_player_info *p = &g->players[i];
		if (!p->present)
			continue;
		jw_object_begin(jw, NULL);
		json_player_ids(jw, i);
		jw_int(jw, "characterId", p->character_id);
		jw_int(jw, "type", p->type);
		jw_int(jw, "startStocks", p->start_stocks);
		jw_int(jw, "costume", p->costume);
		jw_int(jw, "teamId", p->team_id);
		jw_string(jw, "nametag", p->nametag);
		jw_string(jw, "displayName", p->display_name);
		jw_string(jw, "connectCode", p->connect_code);
		jw_object_end(jw);
	}
	jw_array_end(jw);
}

/* How the game ended, its winners, and each player's final stocks and percent. */
static void json_game_end(struct json_writer *jw, const struct slp_game *g)
{
	const struct slp_game_end_info *e = &g->end;
	jw_bool(jw, "complete", e->present);
	if (e->present)
		jw_int(jw, "gameEndMethod", e->method);
	else
		jw_null(jw, "gameEndMethod");
	if (e->present && e->has_lras)
		jw_int(jw, "lrasInitiatorIndex", e->lras_initiator);
	else
		jw_null(jw, "lrasInitiatorIndex");
	if (e->present && e->has_placements) {
		jw_array_begin(jw, "placements");
		for (int i = 0; i < SLP_MAX_PLAYERS; i++) {
			jw_object_begin(jw, NULL);
			jw_int(jw, "playerIndex", i);
			jw_int(jw, "position", e->placements[i]);
			jw_object_end(jw);
		}
		jw_array_end(jw);
	} else {
		jw_null(jw, "placements");
	}
	if (g->has_frames)
		jw_int(jw, "lastFrame", g->last_frame);
	else
		jw_null(jw, "lastFrame");
	int winners[SLP_MAX_PLAYERS];
	int n = slp_game_winners(g, winners);
	/* objects, as placements are: obs-websocket's data objects cannot carry an array of numbers */
	jw_array_begin(jw, "winners");
	for (int i = 0; i < n; i++) {
		jw_object_begin(jw, NULL);
		json_player_ids(jw, winners[i]);
		jw_object_end(jw);
	}
	jw_array_end(jw);
	slp_game_json_players(jw, "players", g, 0);
}

/* A combo that ended (or was still open when the game ended): who, when, how much, and its moves. */
static void json_combo(struct json_writer *jw, const struct slp_game_event *ev)
{
	const struct slp_combo *c = ev->combo;
	jw_int(jw, "frame", ev->frame);
	json_player_ids(jw, c->victim);
	jw_object_begin(jw, "attacker");
	json_player_ids(jw, c->attacker);
	jw_object_end(jw);
	jw_int(jw, "startFrame", c->start_frame);
	if (c->ended)
		jw_int(jw, "endFrame", c->end_frame);
	else
		jw_null(jw, "endFrame");
	jw_double(jw, "startPercent", c->start_percent, 4);
	if (c->ended)
		jw_double(jw, "endPercent", c->end_percent, 4);
	else
		jw_null(jw, "endPercent");
	jw_double(jw, "currentPercent", c->current_percent, 4);
	jw_double(jw, "damage", slp_combo_damage(c), 4);
	jw_bool(jw, "didKill", c->did_kill);
	jw_int(jw, "hits", c->hits);
	jw_array_begin(jw, "moves");
	for (uint32_t i = 0; i < c->n_moves; i++) {
		const struct slp_combo_move *m = &c->moves[i];
		jw_object_begin(jw, NULL);
		jw_int(jw, "frame", m->frame);
		jw_int(jw, "moveId", m->move_id);
		jw_int(jw, "hitCount", m->hit_count);
		jw_double(jw, "damage", m->damage, 4);
		jw_object_end(jw);
	}
	jw_array_end(jw);
}

static void json_event(struct json_writer *jw, const struct slp_game_event *ev)
{
	const struct slp_game *g = ev->game;
	jw_object_begin(jw, NULL);
	jw_string(jw, "type", slp_game_event_name(ev->type));
	switch (ev->type) {
	case SLP_GAME_EVENT_GAME_START:
		json_game_start(jw, g);
		break;
	case SLP_GAME_EVENT_FRAME:
		jw_int(jw, "frame", ev->frame);
		if (g->has_finalized_frame)
			jw_int(jw, "finalizedFrame", g->finalized_frame);
		else
			jw_null(jw, "finalizedFrame");
		slp_game_json_players(jw, "players", g, SLP_GAME_JSON_CHARACTER);
		break;
	case SLP_GAME_EVENT_STOCK_LOST:
		jw_int(jw, "frame", ev->frame);
		json_player_ids(jw, ev->player_index);
		jw_int(jw, "stocksRemaining", ev->stocks_remaining);
		jw_double(jw, "percent", ev->percent, 4);
		break;
	case SLP_GAME_EVENT_GAME_END:
		json_game_end(jw, g);
		break;
	case SLP_GAME_EVENT_COMBO:
		if (ev->combo)
			json_combo(jw, ev);
		break;
	default:
		break;
	}
	jw_object_end(jw);
}

bool slp_game_event_to_json(const struct slp_game_event *ev, struct bytes *out)
{
	struct json_writer jw;
	jw_init(&jw, out);
	json_event(&jw, ev);
	return jw.ok;
}
