/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Replays beside the recordings. While OBS records, each connection's games go into the video's folder, named
 * after the video file; when the recording stops or splits into a new file, `<video base>.andross.json` lists every
 * game that overlapped that file, with its offsets in the video (pauses taken out). Everything here runs on OBS's
 * UI thread (frontend events, the mailbox drain, and the output's file_changed signal passed on to it).
 */
#include "andross-obs.h"

#include "json_writer.h"
#include "net/loop.h"

#include <obs-frontend-api.h>
#include <util/platform.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_GAMES 256 /* games remembered for the video being recorded */

#define MAX_COMBOS 128 /* combos remembered per game */

struct combo_entry {
	int32_t start_frame, end_frame;
	char *json;
};

struct game_entry {
	uint32_t connection;
	char connection_name[ENGINE_NAME_MAX];
	int64_t start_ms, end_ms; /* monotonic; end 0 while it goes on */
	char *start_json, *end_json;
	char file[ENGINE_PATH_MAX];
	struct combo_entry *combos;
	size_t n_combos;
};

struct pause {
	int64_t from_ms, to_ms; /* to 0 while paused */
};

static struct {
	bool recording;
	char path[ENGINE_PATH_MAX]; /* the video file being written */
	int64_t start_ms;
	struct pause pauses[64];
	size_t n_pauses;
	struct game_entry games[MAX_GAMES];
	size_t n_games;
	obs_output_t *output; /* held while connected to its file_changed signal */
} rec;

/* Milliseconds of video at monotonic time t: the time since the start, minus the pauses before it. */
static int64_t video_ms(int64_t t)
{
	int64_t ms = t - rec.start_ms;
	for (size_t i = 0; i < rec.n_pauses; i++) {
		const struct pause *p = &rec.pauses[i];
		int64_t to = p->to_ms ? p->to_ms : t;
		if (t <= p->from_ms)
			continue;
		ms -= (t < to ? t : to) - p->from_ms;
	}
	return ms;
}

static void free_game(struct game_entry *g)
{
	free(g->start_json);
	free(g->end_json);
	for (size_t i = 0; i < g->n_combos; i++)
		free(g->combos[i].json);
	free(g->combos);
	memset(g, 0, sizeof(*g));
}

static char *dup_json(const char *json)
{
	size_t n = strlen(json);
	char *c = malloc(n + 1);
	if (c)
		memcpy(c, json, n + 1);
	return c;
}

/* The game of connection id that is going on, or NULL. */
static struct game_entry *current_game(uint32_t id)
{
	for (size_t i = rec.n_games; i-- > 0;)
		if (rec.games[i].connection == id && !rec.games[i].end_ms)
			return &rec.games[i];
	return NULL;
}

void andross_recording_note(const struct andross_connection *c, const struct game_note *n)
{
	if (!strcmp(n->type, "game_start")) {
		struct game_entry *old = current_game(c->id);
		if (old)
			old->end_ms = n->time_ms; /* a game that never said it ended */
		if (rec.n_games == MAX_GAMES) {
			free_game(&rec.games[0]);
			memmove(&rec.games[0], &rec.games[1], (MAX_GAMES - 1) * sizeof(rec.games[0]));
			memset(&rec.games[MAX_GAMES - 1], 0, sizeof(rec.games[0]));
			rec.n_games--;
		}
		struct game_entry *g = &rec.games[rec.n_games++];
		g->connection = c->id;
		snprintf(g->connection_name, sizeof(g->connection_name), "%s", c->name);
		g->start_ms = n->time_ms;
		g->start_json = dup_json(n->json);
		/* the file the recorder opened for it, known once its first events are written */
		return;
	}
	if (!strcmp(n->type, "game_end")) {
		struct game_entry *g = current_game(c->id);
		if (g) {
			g->end_ms = n->time_ms;
			g->end_json = dup_json(n->json);
		}
		return;
	}
	if (!strcmp(n->type, "combo")) {
		/* the game it belongs to: the one going on, else this connection's last (a combo that ended the game
		 * can come after the game_end) */
		struct game_entry *g = current_game(c->id);
		for (size_t i = rec.n_games; !g && i-- > 0;)
			if (rec.games[i].connection == c->id)
				g = &rec.games[i];
		obs_data_t *d = obs_data_create_from_json(n->json);
		if (g && d && g->n_combos < MAX_COMBOS) {
			if (!g->combos)
				g->combos = calloc(MAX_COMBOS, sizeof(*g->combos));
			char *json = g->combos ? dup_json(n->json) : NULL;
			if (json)
				g->combos[g->n_combos++] = (struct combo_entry){
					.start_frame = (int32_t)obs_data_get_int(d, "startFrame"),
					/* endFrame, or the game's last frame for a combo the game ended */
					.end_frame = (int32_t)obs_data_get_int(d, "frame"),
					.json = json,
				};
		}
		obs_data_release(d);
		return;
	}
	if (!strcmp(n->type, "replay_saved")) {
		obs_data_t *d = obs_data_create_from_json(n->json);
		const char *path = d ? obs_data_get_string(d, "path") : "";
		/* the newest game of this connection without a file */
		for (size_t i = rec.n_games; i-- > 0;) {
			struct game_entry *g = &rec.games[i];
			if (g->connection == c->id && !g->file[0]) {
				snprintf(g->file, sizeof(g->file), "%s", path);
				break;
			}
		}
		obs_data_release(d);
	}
}

/* "dir/base.ext" gives dir and base. */
static void split_path(const char *path, char *dir, size_t dir_size, char *base, size_t base_size)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	snprintf(dir, dir_size, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
	const char *dot = strrchr(name, '.');
	snprintf(base, base_size, "%.*s", dot && dot != name ? (int)(dot - name) : (int)strlen(name), name);
}

/* The file of a game still going on: the engine's current one. */
static void file_of_running_game(struct game_entry *g)
{
	struct andross_connection c;
	if (g->file[0] || !andross_connection_get(g->connection, &c) || !c.session)
		return;
	struct engine_session_status *st = malloc(sizeof(*st));
	if (st && engine_status(andross->engine, c.session, st) && st->current_file[0])
		snprintf(g->file, sizeof(g->file), "%s", st->current_file);
	free(st);
}

static void write_raw_object(struct json_writer *jw, const char *key, const char *json)
{
	jw_key_n(jw, key, strlen(key));
	if (json)
		jw_raw(jw, json);
	else
		jw_raw(jw, "null");
}

/* Writes <video base>.andross.json for the video that ends at end_ms. */
static void write_sidecar(int64_t end_ms)
{
	char dir[ENGINE_PATH_MAX], base[ENGINE_PATH_MAX];
	split_path(rec.path, dir, sizeof(dir), base, sizeof(base));
	struct bytes out;
	bytes_init(&out, 0);
	struct json_writer jw;
	jw_init(&jw, &out);
	jw_object_begin(&jw, NULL);
	const char *video = strrchr(rec.path, '/');
	jw_string(&jw, "video", video ? video + 1 : rec.path);
	jw_int(&jw, "durationMs", video_ms(end_ms));
	jw_array_begin(&jw, "games");
	size_t listed = 0;
	for (size_t i = 0; i < rec.n_games; i++) {
		struct game_entry *g = &rec.games[i];
		/* every game that overlapped this file */
		if (g->end_ms && g->end_ms < rec.start_ms)
			continue;
		if (g->start_ms > end_ms)
			continue;
		file_of_running_game(g);
		size_t dir_len = strlen(dir);
		bool beside = g->file[0] && !strncmp(g->file, dir, dir_len) && g->file[dir_len] == '/';
		jw_object_begin(&jw, NULL);
		if (g->file[0])
			jw_string(&jw, "file", beside ? g->file + dir_len + 1 : g->file);
		else
			jw_null(&jw, "file");
		jw_int(&jw, "startMs", video_ms(g->start_ms));
		if (g->end_ms)
			jw_int(&jw, "endMs", video_ms(g->end_ms));
		else
			jw_null(&jw, "endMs");
		jw_object_begin(&jw, "connection");
		jw_int(&jw, "id", g->connection);
		jw_string(&jw, "name", g->connection_name);
		jw_object_end(&jw);
		write_raw_object(&jw, "gameStart", g->start_json);
		write_raw_object(&jw, "gameEnd", g->end_json);
		/* each combo where it is in the video: the game's frames run at 60 a second from its game_start,
		 * which came with its first frame, -123 */
		jw_array_begin(&jw, "combos");
		for (size_t k = 0; k < g->n_combos; k++) {
			const struct combo_entry *e = &g->combos[k];
			jw_object_begin(&jw, NULL);
			jw_int(&jw, "startMs", video_ms(g->start_ms + ((int64_t)e->start_frame + 123) * 1000 / 60));
			jw_int(&jw, "endMs", video_ms(g->start_ms + ((int64_t)e->end_frame + 123) * 1000 / 60));
			write_raw_object(&jw, "combo", e->json);
			jw_object_end(&jw);
		}
		jw_array_end(&jw);
		jw_object_end(&jw);
		listed++;
	}
	jw_array_end(&jw);
	jw_object_end(&jw);
	char path[ENGINE_PATH_MAX * 2 + 32];
	snprintf(path, sizeof(path), "%s/%s.andross.json", dir, base);
	char what[64];
	snprintf(what, sizeof(what), "sidecar of %zu game%s", listed, listed == 1 ? "" : "s");
	if (jw.ok)
		andross_write_file(path, (const char *)out.data, out.len, false, what); /* not on the UI thread */
	else
		blog(LOG_WARNING, "[andross] out of memory for %s", path);
	bytes_free(&out);
}

/* Games that ended before the new file began are done with. */
static void forget_old_games(void)
{
	size_t kept = 0;
	for (size_t i = 0; i < rec.n_games; i++) {
		if (rec.games[i].end_ms && rec.games[i].end_ms < rec.start_ms)
			free_game(&rec.games[i]);
		else
			rec.games[kept++] = rec.games[i];
	}
	for (size_t i = kept; i < rec.n_games; i++)
		memset(&rec.games[i], 0, sizeof(rec.games[i]));
	rec.n_games = kept;
}

static void start_file(const char *path)
{
	snprintf(rec.path, sizeof(rec.path), "%s", path);
	rec.start_ms = (int64_t)net_now_ms();
	rec.n_pauses = 0;
	forget_old_games();
	char dir[ENGINE_PATH_MAX], base[ENGINE_PATH_MAX];
	split_path(path, dir, sizeof(dir), base, sizeof(base));
	andross_connections_redirect(dir, base);
	blog(LOG_INFO, "[andross] recording %s: replays go beside it", path);
}

static void on_file_changed_ui(void *param)
{
	char *next = param;
	if (andross && rec.recording) {
		int64_t now = (int64_t)net_now_ms();
		write_sidecar(now);
		start_file(next);
	}
	bfree(next);
}

/* The recording output's thread: passed on to the UI thread. */
static void on_file_changed(void *data, calldata_t *cd)
{
	(void)data;
	const char *next = calldata_string(cd, "next_file");
	if (next && *next)
		obs_queue_task(OBS_TASK_UI, on_file_changed_ui, bstrdup(next), false);
}

static void recording_started(void)
{
	char *path = obs_frontend_get_last_recording();
	if (!path || !*path) {
		blog(LOG_WARNING, "[andross] recording started, but OBS does not say its file: replays stay put");
		bfree(path);
		return;
	}
	rec.recording = true;
	start_file(path);
	bfree(path);
	rec.output = obs_frontend_get_recording_output();
	if (rec.output)
		signal_handler_connect(obs_output_get_signal_handler(rec.output), "file_changed", on_file_changed,
				       NULL);
}

static void recording_stopped(void)
{
	if (!rec.recording)
		return;
	rec.recording = false;
	if (rec.output) {
		signal_handler_disconnect(obs_output_get_signal_handler(rec.output), "file_changed", on_file_changed,
					  NULL);
		obs_output_release(rec.output);
		rec.output = NULL;
	}
	write_sidecar((int64_t)net_now_ms());
	andross_connections_redirect(NULL, NULL);
}

static void on_frontend_event(enum obs_frontend_event event, void *data)
{
	(void)data;
	if (!andross)
		return;
	int64_t now = (int64_t)net_now_ms();
	switch (event) {
	case OBS_FRONTEND_EVENT_RECORDING_STARTED:
		recording_started();
		break;
	case OBS_FRONTEND_EVENT_RECORDING_STOPPED:
		recording_stopped();
		break;
	case OBS_FRONTEND_EVENT_RECORDING_PAUSED:
		if (rec.recording && rec.n_pauses < sizeof(rec.pauses) / sizeof(rec.pauses[0]))
			rec.pauses[rec.n_pauses++] = (struct pause){.from_ms = now};
		break;
	case OBS_FRONTEND_EVENT_RECORDING_UNPAUSED:
		if (rec.n_pauses && !rec.pauses[rec.n_pauses - 1].to_ms)
			rec.pauses[rec.n_pauses - 1].to_ms = now;
		break;
	case OBS_FRONTEND_EVENT_EXIT:
		/* a recording still running when OBS exits still gets its sidecar */
		recording_stopped();
		break;
	default:
		break;
	}
}

void andross_recording_register(void)
{
	obs_frontend_add_event_callback(on_frontend_event, NULL);
}

void andross_recording_unregister(void)
{
	obs_frontend_remove_event_callback(on_frontend_event, NULL);
	if (rec.output) {
		signal_handler_disconnect(obs_output_get_signal_handler(rec.output), "file_changed", on_file_changed,
					  NULL);
		obs_output_release(rec.output);
		rec.output = NULL;
	}
	for (size_t i = 0; i < rec.n_games; i++)
		free_game(&rec.games[i]);
	rec.n_games = 0;
	rec.recording = false;
}
