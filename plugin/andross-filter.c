/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * "Slippi: show during games" (andross_game_filter), a filter for a game capture: the source is drawn while a
 * game is played on the connection it follows and nothing is drawn otherwise, with the timings of the Slippi
 * Launcher's autoswitcher, and no websocket:
 * - shown from the game's frame -60 on (each frame keeps it shown for 200 ms more: a cut cable hides it 200 ms
 *   after the last frame arrived);
 * - a Game End that is not a quit-out keeps it 700 ms after the Game End arrived, so GAME! can finish;
 * - a quit-out (L+R+A+Start, Game End method 7) hides it at once.
 * It is a filter on the source, so it acts in every scene the source is in.
 *
 * Threads: video_tick and video_render run on OBS's graphics thread and never wait: the game state comes from the
 * session's mailbox with a trylock (game_mailbox_latest), the connection table with a trylock; only when the
 * followed connection's session changes (a connect or disconnect) is the engine's table lock taken, for a lookup.
 * `update` runs on the UI thread; the settings reach the tick through `settings_lock` (tried, never waited on).
 * The state the tick decided is published under `pub_lock` (tried by the tick) for the `get_state` proc and the
 * GetFilterState vendor request, which run on any thread.
 */
#include "andross-obs.h"

#include "net/loop.h"

#include <obs-module.h>
#include <util/dstr.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define GF_ID "andross_game_filter"
#define GF_SHOW_FROM_FRAME -60 /* the Launcher shows the game from this frame on */
#define GF_STALL_MS 200        /* hidden this long after the last frame */
#define GF_GAME_END_MS 700     /* kept this long after a Game End, for GAME! */
#define GF_HISTORY 32
#define GF_FADE_MAX_MS 5000

#define S_CONNECTION "connection"
#define S_FADE_MS "fade_ms"

enum gf_reason {
	GF_REASON_GAME = 0,  /* shown: a frame from -60 on */
	GF_REASON_STALL,     /* hidden: no frame for 200 ms (a cut cable, a pause, a game without a Game End) */
	GF_REASON_GAME_END,  /* hidden: 700 ms after a Game End */
	GF_REASON_QUIT_OUT,  /* hidden: a quit-out's Game End */
	GF_REASON_NO_SOURCE, /* hidden: the connection is gone or not connected */
};

static const char *const gf_reason_names[] = {"game", "stall", "game_end", "quit_out", "no_connection"};

struct gf_change {
	bool visible;
	enum gf_reason reason;
	int64_t at_ms;  /* net_now_ms's clock (the mailbox's), when the tick decided it */
	int64_t due_ms; /* when the rule said it was due (the frame or Game End time plus the delay) */
	int32_t frame;  /* the game's latest frame then */
	uint64_t game;  /* the connection's game count then */
};

/* What the tick decided, for readers on other threads. */
struct gf_public {
	bool visible;
	float opacity;
	uint32_t connection_id; /* 0: none */
	bool connected;
	uint64_t games;
	bool in_game;
	int32_t frame;
	int64_t frame_time_ms;
	int64_t end_time_ms;
	int end_method;
	uint64_t changes; /* visibility changes since the filter was made */
	size_t n_history; /* the last GF_HISTORY changes, oldest first */
	struct gf_change history[GF_HISTORY];
};

struct game_filter {
	obs_source_t *self;

	pthread_mutex_t settings_lock;
	char connection[ENGINE_NAME_MAX]; /* the name of the connection to follow; "": the first one */
	int fade_ms;

	/* graphics thread only */
	char t_connection[ENGINE_NAME_MAX];
	int t_fade_ms;
	uint32_t conn_id;
	uint32_t session;
	struct game_mailbox *mailbox; /* retained, of `session` */
	struct game_snapshot snap;
	uint64_t seen_game;    /* snap.games whose Game End was handled (end_handled) */
	bool end_handled;      /* the game_end of game seen_game was taken into account */
	int64_t last_frame_ms; /* the frame_time_ms already taken */
	bool visible;
	enum gf_reason hide_reason; /* what hides it when due_ms passes */
	int64_t due_ms;
	float opacity;
	gs_effect_t *fade;
	gs_eparam_t *fade_opacity;
	struct gf_public t_pub; /* the tick's copy, published when pub_lock is free */
	bool pub_dirty;

	pthread_mutex_t pub_lock;
	struct gf_public pub;
};

static const char *gf_get_name(void *type_data)
{
	(void)type_data;
	return obs_module_text("Filter.Name");
}

static void gf_update(void *data, obs_data_t *settings)
{
	struct game_filter *f = data;
	pthread_mutex_lock(&f->settings_lock);
	snprintf(f->connection, sizeof(f->connection), "%s", obs_data_get_string(settings, S_CONNECTION));
	long long fade = obs_data_get_int(settings, S_FADE_MS);
	f->fade_ms = fade < 0 ? 0 : fade > GF_FADE_MAX_MS ? GF_FADE_MAX_MS : (int)fade;
	pthread_mutex_unlock(&f->settings_lock);
}

static void gf_defaults(obs_data_t *settings)
{
	obs_data_set_default_string(settings, S_CONNECTION, "");
	obs_data_set_default_int(settings, S_FADE_MS, 0);
}

static obs_properties_t *gf_properties(void *data)
{
	(void)data;
	obs_properties_t *props = obs_properties_create();
	obs_property_t *list = obs_properties_add_list(props, S_CONNECTION, obs_module_text("Filter.Connection"),
						       OBS_COMBO_TYPE_LIST, OBS_COMBO_FORMAT_STRING);
	obs_property_list_add_string(list, obs_module_text("Filter.FirstConnection"), "");
	uint32_t ids[ANDROSS_MAX_CONNECTIONS];
	size_t n = andross ? andross_connection_ids(ids, ANDROSS_MAX_CONNECTIONS) : 0;
	for (size_t i = 0; i < n; i++) {
		struct andross_connection c;
		if (andross_connection_get(ids[i], &c))
			obs_property_list_add_string(list, c.name, c.name);
	}
	obs_property_t *fade =
		obs_properties_add_int_slider(props, S_FADE_MS, obs_module_text("Filter.Fade"), 0, GF_FADE_MAX_MS, 50);
	obs_property_int_set_suffix(fade, " ms");
	obs_property_set_long_description(fade, obs_module_text("Filter.Fade.Description"));
	obs_properties_add_text(props, "timings", obs_module_text("Filter.Timings"), OBS_TEXT_INFO);
	return props;
}

static void gf_load_effect(struct game_filter *f)
{
	char *path = obs_module_file("effects/game-filter-fade.effect");
	if (!path) {
		blog(LOG_WARNING, "[andross] %s: effects/game-filter-fade.effect is missing: no fade, a cut instead",
		     obs_source_get_name(f->self));
		return;
	}
	char *err = NULL;
	obs_enter_graphics();
	f->fade = gs_effect_create_from_file(path, &err);
	if (f->fade)
		f->fade_opacity = gs_effect_get_param_by_name(f->fade, "opacity");
	obs_leave_graphics();
	if (!f->fade)
		blog(LOG_WARNING, "[andross] %s: the fade effect does not compile (%s): no fade, a cut instead", path,
		     err ? err : "no reason given");
	bfree(err);
	bfree(path);
}

static void gf_get_state_proc(void *data, calldata_t *cd);

static void *gf_create(obs_data_t *settings, obs_source_t *source)
{
	struct game_filter *f = bzalloc(sizeof(*f));
	f->self = source;
	pthread_mutex_init(&f->settings_lock, NULL);
	pthread_mutex_init(&f->pub_lock, NULL);
	f->snap.end_method = -1;
	f->t_pub.end_method = -1;
	f->pub.end_method = -1;
	gf_update(f, settings);
	gf_load_effect(f);
	proc_handler_add(obs_source_get_proc_handler(source), "void get_state(out string json, out bool visible)",
			 gf_get_state_proc, f);
	return f;
}

static void gf_destroy(void *data)
{
	struct game_filter *f = data;
	if (f->mailbox)
		game_mailbox_release(f->mailbox);
	if (f->fade) {
		obs_enter_graphics();
		gs_effect_destroy(f->fade);
		obs_leave_graphics();
	}
	pthread_mutex_destroy(&f->settings_lock);
	pthread_mutex_destroy(&f->pub_lock);
	bfree(f);
}

/* ---- the decision, on the graphics thread ---- */

static void gf_set_visible(struct game_filter *f, bool visible, enum gf_reason reason, int64_t now, int64_t due)
{
	if (f->visible == visible)
		return;
	f->visible = visible;
	struct gf_public *p = &f->t_pub;
	if (p->n_history == GF_HISTORY) {
		memmove(p->history, p->history + 1, (GF_HISTORY - 1) * sizeof(p->history[0]));
		p->n_history--;
	}
	p->history[p->n_history++] = (struct gf_change){
		.visible = visible,
		.reason = reason,
		.at_ms = now,
		.due_ms = due,
		.frame = f->snap.frame,
		.game = f->snap.games,
	};
	p->changes++;
}

/* Follows the connection named in the settings (the first one for ""): its id and session, with a trylock of the
 * connection table (a busy table: the previous answer stays for this frame). */
static void gf_follow(struct game_filter *f)
{
	if (pthread_mutex_trylock(&f->settings_lock) == 0) {
		memcpy(f->t_connection, f->connection, sizeof(f->t_connection));
		f->t_fade_ms = f->fade_ms;
		pthread_mutex_unlock(&f->settings_lock);
	}
	if (!andross || !andross->engine || atomic_load(&andross->shutting_down)) {
		f->conn_id = 0;
		f->session = 0;
	} else if (pthread_mutex_trylock(&andross->lock) == 0) {
		const struct andross_connection *found = NULL;
		for (size_t i = 0; i < andross->n_conns && !found; i++)
			if (!f->t_connection[0] || !strcmp(andross->conns[i].name, f->t_connection))
				found = &andross->conns[i];
		f->conn_id = found ? found->id : 0;
		uint32_t session = found ? found->session : 0;
		pthread_mutex_unlock(&andross->lock);
		if (session == f->session)
			return;
		f->session = session;
	} else {
		return;
	}
	if (f->mailbox) {
		game_mailbox_release(f->mailbox);
		f->mailbox = NULL;
	}
	if (f->session && andross && andross->engine)
		f->mailbox = engine_mailbox(andross->engine, f->session); /* the engine's table lock, for a lookup */
	memset(&f->snap, 0, sizeof(f->snap));                             /* a new mailbox counts from seq 0 */
	f->snap.end_method = -1;
	f->last_frame_ms = 0;
	f->end_handled = false;
	f->seen_game = 0;
}

static void gf_decide(struct game_filter *f, int64_t now)
{
	gf_follow(f);
	if (!f->mailbox) {
		gf_set_visible(f, false, GF_REASON_NO_SOURCE, now, now);
		return;
	}
	const struct game_snapshot *s = &f->snap;
	if (game_mailbox_latest(f->mailbox, &f->snap)) {
		if (s->games != f->seen_game) {
			f->seen_game = s->games;
			f->end_handled = false;
		}
		/* every new frame from -60 on keeps the game shown for 200 ms more (the Launcher's rule) */
		if (s->has_frame && s->frame_time_ms != f->last_frame_ms) {
			f->last_frame_ms = s->frame_time_ms;
			if (s->frame >= GF_SHOW_FROM_FRAME && !f->end_handled) {
				int64_t due = s->frame_time_ms + GF_STALL_MS;
				if (due > now)
					gf_set_visible(f, true, GF_REASON_GAME, now, s->frame_time_ms);
				if (f->visible) {
					f->due_ms = due;
					f->hide_reason = GF_REASON_STALL;
				}
			}
		}
		if (s->has_game && !s->in_game && s->end_time_ms && !f->end_handled) {
			f->end_handled = true;
			if (s->ended_complete && s->end_method == SLP_END_NO_CONTEST) {
				gf_set_visible(f, false, GF_REASON_QUIT_OUT, now, s->end_time_ms);
			} else if (s->ended_complete && f->visible) {
				f->due_ms = s->end_time_ms + GF_GAME_END_MS;
				f->hide_reason = GF_REASON_GAME_END;
			}
			/* no Game End (the source ended, the next game began): the last frame's 200 ms stand */
		}
	}
	if (f->visible && now >= f->due_ms)
		gf_set_visible(f, false, f->hide_reason, now, f->due_ms);
}

static void gf_tick(void *data, float seconds)
{
	struct game_filter *f = data;
	int64_t now = (int64_t)net_now_ms();
	gf_decide(f, now);

	float target = f->visible ? 1.0f : 0.0f;
	if (f->t_fade_ms <= 0) {
		f->opacity = target;
	} else {
		float step = seconds * 1000.0f / (float)f->t_fade_ms;
		f->opacity = f->opacity < target ? fminf(target, f->opacity + step) : fmaxf(target, f->opacity - step);
	}

	struct gf_public *p = &f->t_pub;
	bool changed = p->visible != f->visible || p->opacity != f->opacity || p->frame != f->snap.frame ||
		       p->games != f->snap.games || p->in_game != f->snap.in_game || p->connection_id != f->conn_id ||
		       p->connected != (f->mailbox != NULL) || p->end_time_ms != f->snap.end_time_ms;
	p->visible = f->visible;
	p->opacity = f->opacity;
	p->connection_id = f->conn_id;
	p->connected = f->mailbox != NULL;
	p->games = f->snap.games;
	p->in_game = f->snap.in_game;
	p->frame = f->snap.frame;
	p->frame_time_ms = f->snap.frame_time_ms;
	p->end_time_ms = f->snap.end_time_ms;
	p->end_method = f->snap.end_method;
	if (changed || f->pub_dirty) {
		if (pthread_mutex_trylock(&f->pub_lock) == 0) {
			f->pub = *p;
			pthread_mutex_unlock(&f->pub_lock);
			f->pub_dirty = false;
		} else {
			f->pub_dirty = true; /* a reader has it: the next frame publishes */
		}
	}
}

static void gf_render(void *data, gs_effect_t *effect)
{
	(void)effect;
	struct game_filter *f = data;
	if (f->opacity <= 0.0f)
		return; /* hidden: nothing is drawn */
	if (f->opacity >= 1.0f || !f->fade) {
		obs_source_skip_video_filter(f->self);
		return;
	}
	if (!obs_source_process_filter_begin(f->self, GS_RGBA, OBS_ALLOW_DIRECT_RENDERING))
		return;
	gs_effect_set_float(f->fade_opacity, f->opacity);
	obs_source_process_filter_end(f->self, f->fade, 0, 0);
}

/* ---- the state for tests and scripts, on any thread ---- */

/* The filter's state as JSON (docs/obs-sources.md), owned by the caller (bfree). */
static char *gf_state_json(struct game_filter *f, bool *visible)
{
	struct gf_public *p = bmalloc(sizeof(*p));
	pthread_mutex_lock(&f->pub_lock);
	*p = f->pub;
	pthread_mutex_unlock(&f->pub_lock);
	*visible = p->visible;

	obs_data_t *d = obs_data_create();
	obs_data_set_bool(d, "visible", p->visible);
	obs_data_set_double(d, "opacity", p->opacity);
	obs_data_set_int(d, "connectionId", p->connection_id);
	obs_data_set_bool(d, "connected", p->connected);
	obs_data_set_int(d, "games", (long long)p->games);
	obs_data_set_bool(d, "inGame", p->in_game);
	obs_data_set_int(d, "frame", p->frame);
	obs_data_set_int(d, "frameTimeMs", p->frame_time_ms);
	obs_data_set_int(d, "endTimeMs", p->end_time_ms);
	obs_data_set_int(d, "gameEndMethod", p->end_method);
	obs_data_set_int(d, "nowMs", (long long)net_now_ms());
	obs_data_set_int(d, "changeCount", (long long)p->changes);
	obs_data_array_t *arr = obs_data_array_create();
	for (size_t i = 0; i < p->n_history; i++) {
		const struct gf_change *c = &p->history[i];
		obs_data_t *e = obs_data_create();
		obs_data_set_bool(e, "visible", c->visible);
		obs_data_set_string(e, "reason", gf_reason_names[c->reason]);
		obs_data_set_int(e, "atMs", c->at_ms);
		obs_data_set_int(e, "dueMs", c->due_ms);
		obs_data_set_int(e, "frame", c->frame);
		obs_data_set_int(e, "game", (long long)c->game);
		obs_data_array_push_back(arr, e);
		obs_data_release(e);
	}
	obs_data_set_array(d, "changes", arr);
	obs_data_array_release(arr);
	char *json = bstrdup(obs_data_get_json(d));
	obs_data_release(d);
	bfree(p);
	return json;
}

static void gf_get_state_proc(void *data, calldata_t *cd)
{
	bool visible;
	char *json = gf_state_json(data, &visible);
	calldata_set_string(cd, "json", json);
	calldata_set_bool(cd, "visible", visible);
	bfree(json);
}

void andross_filter_request_state(obs_data_t *req, obs_data_t *resp, void *priv)
{
	(void)priv;
	const char *source_name = obs_data_get_string(req, "sourceName");
	const char *filter_name = obs_data_get_string(req, "filterName");
	if (!*source_name || !*filter_name) {
		obs_data_set_string(resp, "error", "sourceName and filterName are required (strings)");
		return;
	}
	obs_source_t *source = obs_get_source_by_name(source_name);
	obs_source_t *filter = source ? obs_source_get_filter_by_name(source, filter_name) : NULL;
	struct dstr msg = {0};
	if (!source)
		dstr_printf(&msg, "no source named \"%s\"", source_name);
	else if (!filter)
		dstr_printf(&msg, "source \"%s\" has no filter named \"%s\"", source_name, filter_name);
	else if (strcmp(obs_source_get_unversioned_id(filter), GF_ID) != 0)
		dstr_printf(&msg, "filter \"%s\" of \"%s\" is not an %s", filter_name, source_name, GF_ID);
	if (msg.len) {
		obs_data_set_string(resp, "error", msg.array);
		dstr_free(&msg);
	} else {
		calldata_t cd = {0};
		proc_handler_call(obs_source_get_proc_handler(filter), "get_state", &cd);
		const char *json = calldata_string(&cd, "json");
		obs_data_t *d = json ? obs_data_create_from_json(json) : NULL;
		if (d)
			obs_data_apply(resp, d);
		else
			obs_data_set_string(resp, "error", "the filter gave no state");
		obs_data_release(d);
		calldata_free(&cd);
	}
	obs_source_release(filter);
	obs_source_release(source);
}

void andross_filter_register(void)
{
	struct obs_source_info info = {
		.id = GF_ID,
		.type = OBS_SOURCE_TYPE_FILTER,
		.output_flags = OBS_SOURCE_VIDEO,
		.get_name = gf_get_name,
		.create = gf_create,
		.destroy = gf_destroy,
		.update = gf_update,
		.get_defaults = gf_defaults,
		.get_properties = gf_properties,
		.video_tick = gf_tick,
		.video_render = gf_render,
	};
	obs_register_source(&info);
}
