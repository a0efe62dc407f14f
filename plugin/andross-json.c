/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The JSON answers of the obs-websocket requests and the andross_get_state proc (docs/obs-websocket.md). */
#include "andross-obs.h"

#include "json_writer.h"

#include <stdlib.h>

static void json_game(struct json_writer *jw, const char *key, uint32_t id, const struct game_snapshot *g)
{
	jw_object_begin(jw, key);
	jw_int(jw, "id", id);
	jw_int(jw, "seq", (int64_t)g->seq);
	jw_bool(jw, "inGame", g->in_game);
	jw_int(jw, "games", (int64_t)g->games);
	if (g->has_game) {
		jw_int(jw, "stageId", g->stage_id);
		jw_bool(jw, "isTeams", g->is_teams);
		jw_int(jw, "timerSeconds", g->timer_seconds);
		jw_int(jw, "timerRemainingFrames", g->timer_remaining_frames);
	} else {
		jw_null(jw, "stageId");
		jw_null(jw, "isTeams");
		jw_null(jw, "timerSeconds");
		jw_null(jw, "timerRemainingFrames");
	}
	if (g->has_frame)
		jw_int(jw, "frame", g->frame);
	else
		jw_null(jw, "frame");
	jw_array_begin(jw, "players");
	for (int i = 0; i < SLP_MAX_PLAYERS && g->has_game; i++) {
		const struct game_player_snapshot *p = &g->players[i];
		if (!p->present)
			continue;
		jw_object_begin(jw, NULL);
		jw_int(jw, "port", p->port);
		jw_int(jw, "characterId", p->character_id);
		jw_int(jw, "costume", p->costume);
		jw_int(jw, "teamId", p->team_id);
		jw_string(jw, "name", p->name);
		jw_string(jw, "nametag", p->nametag);
		jw_string(jw, "displayName", p->display_name);
		jw_string(jw, "connectCode", p->connect_code);
		jw_int(jw, "stocks", p->stocks_remaining);
		jw_double(jw, "percent", p->percent, 2);
		jw_object_end(jw);
	}
	jw_array_end(jw);
	if (!g->in_game && g->has_game) {
		jw_array_begin(jw, "winners"); /* objects: obs_data cannot carry an array of numbers */
		for (int i = 0; i < g->n_winners; i++) {
			jw_object_begin(jw, NULL);
			jw_int(jw, "playerIndex", g->winners[i]);
			jw_int(jw, "port", g->winners[i] + 1);
			jw_object_end(jw);
		}
		jw_array_end(jw);
	}
	jw_object_end(jw);
}

bool andross_json_game_state(struct bytes *out, uint32_t id, const struct game_snapshot *g)
{
	struct json_writer jw;
	jw_init(&jw, out);
	json_game(&jw, NULL, id, g);
	return jw.ok;
}

bool andross_json_connection(struct bytes *out, const struct andross_connection *c)
{
	/* big: on the heap, not on an obs-websocket worker's stack */
	struct engine_session_status *st = c->session ? malloc(sizeof(*st)) : NULL;
	bool running = st && engine_status(andross->engine, c->session, st);
	struct json_writer jw;
	jw_init(&jw, out);
	jw_object_begin(&jw, NULL);
	jw_int(&jw, "id", c->id);
	jw_string(&jw, "name", c->name);
	jw_string(&jw, "url", c->url);
	jw_object_begin(&jw, "relay");
	jw_bool(&jw, "enabled", c->relay_enabled);
	jw_string(&jw, "listen", c->relay_listen);
	if (running && st->relay_on) {
		jw_string(&jw, "address", st->relay_address);
		jw_array_begin(&jw, "clients");
		for (size_t i = 0; i < st->relay_clients_listed; i++) {
			const struct relay_client_status *cl = &st->clients[i];
			jw_object_begin(&jw, NULL);
			jw_int(&jw, "id", (int64_t)cl->id);
			jw_string(&jw, "address", cl->address);
			jw_string(&jw, "mode", cl->waiting_for_name ? "console" : relay_client_mode_name(cl->mode));
			jw_int(&jw, "behindBytes", (int64_t)cl->behind_bytes);
			jw_object_end(&jw);
		}
		jw_array_end(&jw);
		jw_int(&jw, "clientCount", (int64_t)st->relay_clients);
	} else {
		jw_null(&jw, "address");
		jw_array_begin(&jw, "clients");
		jw_array_end(&jw);
		jw_int(&jw, "clientCount", 0);
	}
	jw_object_end(&jw);
	jw_string(&jw, "folder", c->folder);
	jw_bool(&jw, "autoConnect", c->auto_connect);
	if (running) {
		jw_string(&jw, "state", source_state_name(st->state));
		jw_string(&jw, "reason", st->reason);
		jw_string(&jw, "consoleNick", st->console_nick);
		if (st->reconnect_in_ms >= 0)
			jw_int(&jw, "reconnectInMs", st->reconnect_in_ms);
		else
			jw_null(&jw, "reconnectInMs");
		jw_int(&jw, "bytes", (int64_t)st->bytes);
		jw_int(&jw, "gaps", (int64_t)st->gaps);
		jw_int(&jw, "lostBytes", (int64_t)st->lost_bytes);
		jw_int(&jw, "gamesRecorded", (int64_t)st->games_recorded);
		jw_int(&jw, "gamesFailed", (int64_t)st->games_failed);
		if (st->last_file[0])
			jw_string(&jw, "lastReplay", st->last_file);
		else
			jw_null(&jw, "lastReplay");
		if (st->current_file[0])
			jw_string(&jw, "currentReplay", st->current_file);
		else
			jw_null(&jw, "currentReplay");
		json_game(&jw, "game", c->id, &st->game);
	} else {
		jw_string(&jw, "state", "disconnected");
		jw_string(&jw, "reason", "not connected");
		jw_string(&jw, "consoleNick", "");
		jw_null(&jw, "reconnectInMs");
		jw_int(&jw, "bytes", 0);
		jw_int(&jw, "gaps", 0);
		jw_int(&jw, "lostBytes", 0);
		jw_int(&jw, "gamesRecorded", 0);
		jw_int(&jw, "gamesFailed", 0);
		jw_null(&jw, "lastReplay");
		jw_null(&jw, "currentReplay");
		jw_null(&jw, "game");
	}
	jw_object_end(&jw);
	free(st);
	return jw.ok;
}
