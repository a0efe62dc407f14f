/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The "Slippi Text" source (andross_text): a template (plugin/core/overlay_text.h) filled from a connection's live
 * game, drawn by a private OBS text source inside it (text_ft2_source_v2 on Linux), so fonts, colours, outline and
 * the rest are OBS's own. docs/obs-sources.md.
 *
 * Threads: OBS calls create/destroy/properties on the UI thread and update, the tick callback and video_render on the
 * graphics thread. The tick never waits: the game comes from the mailbox's try (game_mailbox_latest), the connection's
 * session from a try of the module's table lock, the score from andross_score_try; a busy one is tried again at the
 * next frame. Taking a new session's mailbox (engine_mailbox waits on the engine's lock) and the console's name is
 * done on the UI thread and handed over through `swap`. The text is made again only when the game, the score or the
 * settings changed, and the inner source is updated only when the text did.
 */
#include "andross-obs.h"

#include "overlay_text.h"

#include <util/platform.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_ID "andross_text"
#define INNER_ID "text_ft2_source_v2"
#define TEXT_MAX 16384 /* the longest text made: a long template full of long names */

#define S_TEMPLATE "template"
#define S_CONNECTION "connection"
#define S_EMPTY "empty_text"
#define S_PIN "p%d_port"

struct text_source {
	obs_source_t *self;
	obs_source_t *inner;

	/* graphics thread only (update runs there too, but for the first call in create) */
	char *tmpl;
	char *empty;
	uint32_t conn; /* 0: the first connection */
	uint8_t pins[SLP_MAX_PLAYERS];
	bool dirty; /* the settings changed: make the text again */
	struct game_mailbox *mbox;
	uint32_t bound_session;
	uint32_t bound_conn;
	uint64_t bound_games;
	struct game_snapshot snap;
	struct andross_score_view score; /* the last copied */
	bool have_score;
	char console[ENGINE_NICK_MAX];
	char *cur;         /* the text the inner source shows */
	bool publish;      /* cur is not yet in `text` */
	uint64_t set_ns;   /* when cur went to the inner source */
	int32_t cur_frame; /* the game frame and mailbox seq cur was made from */
	uint64_t cur_seq;
	bool show_pending;

	/* the UI thread's answer to a rebind: a mailbox (retained) and the console's name */
	pthread_mutex_t swap_lock;
	bool swap_ready;
	struct game_mailbox *swap_mbox;
	uint32_t swap_session;
	char swap_console[ENGINE_NICK_MAX];
	atomic_bool rebind_queued;

	/* what get_text answers; the graphics thread only tries the lock */
	pthread_mutex_t text_lock;
	char *text;
	uint64_t changed_ns; /* when the inner source was given the text (graphics thread, video_tick) */
	uint64_t shown_ns;   /* the first render after that */
	int32_t frame;       /* the game frame the text was made from */
	uint64_t seq;
};

/* ---- the connection's session, without waiting ---- */

/* The session and id of connection `conn` (0: the first one). False when the table is busy right now. */
static bool try_session(uint32_t conn, uint32_t *session, uint32_t *id)
{
	if (!andross || pthread_mutex_trylock(&andross->lock) != 0)
		return false;
	*session = 0;
	*id = 0;
	for (size_t i = 0; i < andross->n_conns; i++) {
		if (conn == 0 ? i == 0 : andross->conns[i].id == conn) {
			*session = andross->conns[i].session;
			*id = andross->conns[i].id;
			break;
		}
	}
	pthread_mutex_unlock(&andross->lock);
	return true;
}

struct rebind {
	obs_weak_source_t *weak;
	uint32_t conn;
	uint32_t session;
};

/* UI thread: the session's mailbox and the console's name, handed to the graphics thread. */
static void rebind_task(void *param)
{
	struct rebind *r = param;
	obs_source_t *src = obs_weak_source_get_source(r->weak);
	obs_weak_source_release(r->weak);
	if (!src) {
		bfree(r);
		return;
	}
	struct text_source *ts = obs_obj_get_data(src);
	struct game_mailbox *m = NULL;
	char console[ENGINE_NICK_MAX] = "";
	if (andross && andross->engine && !atomic_load(&andross->shutting_down)) {
		m = r->session ? engine_mailbox(andross->engine, r->session) : NULL;
		struct andross_connection_status *st = bzalloc(sizeof(*st));
		if (andross_connection_status(r->conn, st))
			snprintf(console, sizeof(console), "%s",
				 st->running && st->s.console_nick[0] ? st->s.console_nick : st->c.name);
		bfree(st);
	}
	pthread_mutex_lock(&ts->swap_lock);
	struct game_mailbox *old = ts->swap_ready ? ts->swap_mbox : NULL;
	ts->swap_mbox = m;
	ts->swap_session = r->session;
	snprintf(ts->swap_console, sizeof(ts->swap_console), "%s", console);
	ts->swap_ready = true;
	pthread_mutex_unlock(&ts->swap_lock);
	if (old)
		game_mailbox_release(old);
	obs_source_release(src);
	bfree(r);
}

static void queue_rebind(struct text_source *ts, uint32_t conn, uint32_t session)
{
	if (atomic_exchange(&ts->rebind_queued, true))
		return;
	struct rebind *r = bzalloc(sizeof(*r));
	r->weak = obs_source_get_weak_source(ts->self);
	r->conn = conn;
	r->session = session;
	obs_queue_task(OBS_TASK_UI, rebind_task, r, false);
}

/* Takes the UI thread's answer, when there is one and the lock is free. */
static void take_swap(struct text_source *ts)
{
	if (pthread_mutex_trylock(&ts->swap_lock) != 0)
		return;
	struct game_mailbox *old = NULL;
	if (ts->swap_ready) {
		old = ts->mbox;
		ts->mbox = ts->swap_mbox;
		ts->bound_session = ts->swap_session;
		snprintf(ts->console, sizeof(ts->console), "%s", ts->swap_console);
		ts->swap_mbox = NULL;
		ts->swap_ready = false;
		memset(&ts->snap, 0, sizeof(ts->snap)); /* a new mailbox: its seq starts again */
		ts->dirty = true;
		atomic_store(&ts->rebind_queued, false);
	}
	pthread_mutex_unlock(&ts->swap_lock);
	if (old)
		game_mailbox_release(old);
}

/* ---- the text ---- */

static void set_inner_text(struct text_source *ts, const char *text)
{
	obs_data_t *d = obs_data_create();
	obs_data_set_string(d, "text", text);
	/* applied at the inner source's tick, which comes after this (a tick callback) in the same frame */
	obs_source_update(ts->inner, d);
	obs_data_release(d);
}

static void publish(struct text_source *ts)
{
	if (pthread_mutex_trylock(&ts->text_lock) != 0)
		return; /* get_text is copying it: next frame */
	snprintf(ts->text, TEXT_MAX, "%s", ts->cur);
	ts->changed_ns = ts->set_ns;
	ts->frame = ts->cur_frame;
	ts->seq = ts->cur_seq;
	pthread_mutex_unlock(&ts->text_lock);
	ts->publish = false;
}

/* A tick callback (obs_add_tick_callback), not the source's video_tick: OBS runs those before it ticks any source,
 * so the inner source takes its new text in the same frame, whatever order OBS ticks the sources in. */
static void text_tick(void *data, float seconds)
{
	(void)seconds;
	struct text_source *ts = data;
	uint32_t session, id;
	if (try_session(ts->conn, &session, &id)) {
		if (id != ts->bound_conn) {
			ts->bound_conn = id;
			ts->have_score = false; /* another connection's score */
			ts->dirty = true;
		}
		if (session != ts->bound_session)
			queue_rebind(ts, id, session);
	}
	take_swap(ts);
	bool changed = ts->dirty;
	if (ts->mbox && game_mailbox_latest(ts->mbox, &ts->snap)) {
		changed = true;
		if (ts->snap.games != ts->bound_games) {
			ts->bound_games = ts->snap.games; /* a new game: the console's name may be known by now */
			queue_rebind(ts, ts->bound_conn, ts->bound_session);
		}
	}
	/* a busy score keeps the last one copied: the text never loses its score for a frame */
	struct andross_score_view score;
	if (ts->bound_conn && andross_score_try(ts->bound_conn, &score) &&
	    (!ts->have_score || score.version != ts->score.version)) {
		ts->score = score;
		ts->have_score = true;
		changed = true;
	}
	if (changed) {
		ts->dirty = false;
		static char next[TEXT_MAX]; /* the graphics thread is the only one here */
		if (!ts->mbox || !ts->snap.has_game) {
			snprintf(next, sizeof(next), "%s", ts->empty);
		} else {
			struct overlay_text_input in;
			overlay_text_input_init(&in);
			in.game = &ts->snap;
			memcpy(in.pins, ts->pins, sizeof(in.pins));
			if (ts->have_score) {
				memcpy(in.scores, ts->score.scores, sizeof(in.scores));
				in.game_number = ts->score.game;
			}
			in.console = ts->console;
			overlay_text_render(ts->tmpl, &in, next, sizeof(next));
		}
		if (strcmp(next, ts->cur)) {
			snprintf(ts->cur, TEXT_MAX, "%s", next);
			set_inner_text(ts, ts->cur);
			ts->publish = true;
			ts->show_pending = true;
			ts->set_ns = os_gettime_ns();
			ts->cur_frame = ts->snap.frame;
			ts->cur_seq = ts->snap.seq;
		}
	}
	if (ts->publish)
		publish(ts);
}

static void text_render(void *data, gs_effect_t *effect)
{
	(void)effect;
	struct text_source *ts = data;
	obs_source_video_render(ts->inner);
	if (ts->show_pending && pthread_mutex_trylock(&ts->text_lock) == 0) {
		ts->shown_ns = os_gettime_ns();
		ts->show_pending = false;
		pthread_mutex_unlock(&ts->text_lock);
	}
}

/* proc get_text: the text shown now, when the inner source got it and first drew it (os_gettime_ns), and the game
 * frame and mailbox seq it was made from. Any thread. */
static void proc_get_text(void *data, calldata_t *cd)
{
	struct text_source *ts = data;
	pthread_mutex_lock(&ts->text_lock);
	calldata_set_string(cd, "text", ts->text);
	calldata_set_int(cd, "changed_ns", (long long)ts->changed_ns);
	calldata_set_int(cd, "shown_ns", (long long)ts->shown_ns);
	calldata_set_int(cd, "frame", ts->frame);
	calldata_set_int(cd, "seq", (long long)ts->seq);
	pthread_mutex_unlock(&ts->text_lock);
}

/* ---- settings ---- */

static void text_update(void *data, obs_data_t *settings)
{
	struct text_source *ts = data;
	bfree(ts->tmpl);
	bfree(ts->empty);
	/* at most OVERLAY_TEXT_MAX_TEMPLATE bytes are read of the template: a pasted book costs no more */
	ts->tmpl = bstrdup_n(obs_data_get_string(settings, S_TEMPLATE),
			     strnlen(obs_data_get_string(settings, S_TEMPLATE), OVERLAY_TEXT_MAX_TEMPLATE));
	ts->empty = bstrdup_n(obs_data_get_string(settings, S_EMPTY),
			      strnlen(obs_data_get_string(settings, S_EMPTY), TEXT_MAX - 1));
	long long conn = obs_data_get_int(settings, S_CONNECTION);
	ts->conn = conn > 0 && conn <= UINT32_MAX ? (uint32_t)conn : 0;
	for (int i = 0; i < SLP_MAX_PLAYERS; i++) {
		char key[16];
		snprintf(key, sizeof(key), S_PIN, i + 1);
		long long pin = obs_data_get_int(settings, key);
		ts->pins[i] = pin >= 1 && pin <= SLP_MAX_PLAYERS ? (uint8_t)pin : 0;
	}
	ts->dirty = true;
	/* the text settings (font, colours, ...) go to the inner source, with the text it shows */
	obs_data_t *inner = obs_data_create();
	obs_data_apply(inner, settings);
	obs_data_erase(inner, S_TEMPLATE);
	obs_data_erase(inner, S_EMPTY);
	obs_data_set_string(inner, "text", ts->cur);
	obs_data_set_bool(inner, "from_file", false);
	obs_data_set_bool(inner, "log_mode", false);
	obs_source_update(ts->inner, inner);
	obs_data_release(inner);
}

static void copy_default(obs_data_t *to, obs_data_t *from)
{
	for (obs_data_item_t *it = obs_data_first(from); it; obs_data_item_next(&it)) {
		const char *name = obs_data_item_get_name(it);
		switch (obs_data_item_gettype(it)) {
		case OBS_DATA_STRING:
			obs_data_set_default_string(to, name, obs_data_item_get_string(it));
			break;
		case OBS_DATA_NUMBER:
			if (obs_data_item_numtype(it) == OBS_DATA_NUM_INT)
				obs_data_set_default_int(to, name, obs_data_item_get_int(it));
			else
				obs_data_set_default_double(to, name, obs_data_item_get_double(it));
			break;
		case OBS_DATA_BOOLEAN:
			obs_data_set_default_bool(to, name, obs_data_item_get_bool(it));
			break;
		case OBS_DATA_OBJECT: {
			obs_data_t *o = obs_data_item_get_obj(it);
			obs_data_set_default_obj(to, name, o);
			obs_data_release(o);
			break;
		}
		default:
			break;
		}
	}
}

static void text_defaults(obs_data_t *settings)
{
	obs_data_t *inner = obs_get_source_defaults(INNER_ID);
	if (inner)
		copy_default(settings, inner);
	obs_data_release(inner);
	obs_data_set_default_string(settings, S_TEMPLATE, "{p1.name} {p1.score} - {p2.score} {p2.name}");
	obs_data_set_default_string(settings, S_EMPTY, "");
	obs_data_set_default_int(settings, S_CONNECTION, 0);
	for (int i = 0; i < SLP_MAX_PLAYERS; i++) {
		char key[16];
		snprintf(key, sizeof(key), S_PIN, i + 1);
		obs_data_set_default_int(settings, key, 0);
	}
}

static obs_properties_t *text_properties(void *data)
{
	(void)data;
	obs_properties_t *props = obs_properties_create();
	obs_properties_add_text(props, S_TEMPLATE, obs_module_text("Text.Template"), OBS_TEXT_MULTILINE);
	obs_properties_add_text(props, "placeholders", obs_module_text("Text.Placeholders"), OBS_TEXT_INFO);
	obs_property_t *list = obs_properties_add_list(props, S_CONNECTION, obs_module_text("Text.Connection"),
						       OBS_COMBO_TYPE_LIST, OBS_COMBO_FORMAT_INT);
	obs_property_list_add_int(list, obs_module_text("Text.FirstConnection"), 0);
	uint32_t ids[ANDROSS_MAX_CONNECTIONS];
	size_t n = andross ? andross_connection_ids(ids, ANDROSS_MAX_CONNECTIONS) : 0;
	for (size_t i = 0; i < n; i++) {
		struct andross_connection c;
		if (andross_connection_get(ids[i], &c))
			obs_property_list_add_int(list, c.name, c.id);
	}
	obs_properties_add_text(props, S_EMPTY, obs_module_text("Text.EmptyText"), OBS_TEXT_MULTILINE);
	for (int i = 0; i < SLP_MAX_PLAYERS; i++) {
		char key[16], label[64];
		snprintf(key, sizeof(key), S_PIN, i + 1);
		snprintf(label, sizeof(label), "p%d: %s", i + 1, obs_module_text("Text.Pin"));
		obs_property_t *p =
			obs_properties_add_list(props, key, label, OBS_COMBO_TYPE_LIST, OBS_COMBO_FORMAT_INT);
		obs_property_list_add_int(p, obs_module_text("Text.PinAuto"), 0);
		for (int port = 1; port <= SLP_MAX_PLAYERS; port++) {
			char name[32];
			snprintf(name, sizeof(name), "%s %d", obs_module_text("Text.Port"), port);
			obs_property_list_add_int(p, name, port);
		}
	}
	/* the inner text source's own settings, as OBS's text source shows them, without its text */
	obs_properties_t *inner = obs_get_source_properties(INNER_ID);
	if (inner) {
		static const char *const own[] = {"text",     "from_file", "text_file",
						  "log_mode", "log_lines", "chatlog_mode"};
		for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
			obs_properties_remove_by_name(inner, own[i]);
		obs_properties_add_group(props, "style", obs_module_text("Text.Style"), OBS_GROUP_NORMAL, inner);
	}
	return props;
}

/* ---- lifetime ---- */

static const char *text_name(void *type_data)
{
	(void)type_data;
	return obs_module_text("Text.Name");
}

static void text_destroy(void *data)
{
	struct text_source *ts = data;
	obs_remove_tick_callback(text_tick, ts); /* waits for a tick running now: none comes after */
	obs_source_release(ts->inner);
	if (ts->mbox)
		game_mailbox_release(ts->mbox);
	if (ts->swap_mbox)
		game_mailbox_release(ts->swap_mbox);
	pthread_mutex_destroy(&ts->swap_lock);
	pthread_mutex_destroy(&ts->text_lock);
	bfree(ts->tmpl);
	bfree(ts->empty);
	bfree(ts->cur);
	bfree(ts->text);
	bfree(ts);
}

static void *text_create(obs_data_t *settings, obs_source_t *source)
{
	struct text_source *ts = bzalloc(sizeof(*ts));
	ts->self = source;
	pthread_mutex_init(&ts->swap_lock, NULL);
	pthread_mutex_init(&ts->text_lock, NULL);
	ts->cur = bzalloc(TEXT_MAX);
	ts->text = bzalloc(TEXT_MAX);
	atomic_init(&ts->rebind_queued, false);
	ts->inner = obs_source_create_private(INNER_ID, "andross text (inner)", NULL);
	if (!ts->inner) {
		blog(LOG_WARNING, "[andross] Slippi Text: OBS has no %s source to draw with", INNER_ID);
		text_destroy(ts);
		return NULL;
	}
	text_update(ts, settings);
	proc_handler_add(
		obs_source_get_proc_handler(source),
		"void get_text(out string text, out int changed_ns, out int shown_ns, out int frame, out int seq)",
		proc_get_text, ts);
	obs_add_tick_callback(text_tick, ts);
	return ts;
}

static uint32_t text_width(void *data)
{
	struct text_source *ts = data;
	return obs_source_get_width(ts->inner);
}

static uint32_t text_height(void *data)
{
	struct text_source *ts = data;
	return obs_source_get_height(ts->inner);
}

static void text_enum_sources(void *data, obs_source_enum_proc_t cb, void *param)
{
	struct text_source *ts = data;
	cb(ts->self, ts->inner, param);
}

void andross_text_register(void)
{
	struct obs_source_info info = {
		.id = TEXT_ID,
		.type = OBS_SOURCE_TYPE_INPUT,
		.output_flags = OBS_SOURCE_VIDEO | OBS_SOURCE_CUSTOM_DRAW | OBS_SOURCE_SRGB,
		.get_name = text_name,
		.create = text_create,
		.destroy = text_destroy,
		.update = text_update,
		.get_defaults = text_defaults,
		.get_properties = text_properties,
		.get_width = text_width,
		.get_height = text_height,
		.video_render = text_render,
		.enum_active_sources = text_enum_sources,
		.icon_type = OBS_ICON_TYPE_TEXT,
	};
	obs_register_source(&info);
}

/* ---- GetText {sourceName} ---- */

void andross_req_get_text(obs_data_t *req, obs_data_t *resp, void *priv)
{
	(void)priv;
	obs_data_item_t *it = req ? obs_data_item_byname(req, "sourceName") : NULL;
	bool is_string = it && obs_data_item_gettype(it) == OBS_DATA_STRING;
	obs_data_item_release(&it);
	if (!is_string) {
		obs_data_set_string(resp, "error", "sourceName is required and must be a string");
		return;
	}
	const char *name = obs_data_get_string(req, "sourceName");
	obs_source_t *src = obs_get_source_by_name(name);
	if (!src || strcmp(obs_source_get_unversioned_id(src), TEXT_ID)) {
		char msg[320];
		snprintf(msg, sizeof(msg), "no Slippi Text source named '%.256s'", name);
		obs_data_set_string(resp, "error", msg);
		obs_source_release(src);
		return;
	}
	calldata_t cd = {0};
	proc_handler_call(obs_source_get_proc_handler(src), "get_text", &cd);
	obs_data_set_string(resp, "sourceName", name);
	obs_data_set_string(resp, "text", calldata_string(&cd, "text"));
	obs_data_set_int(resp, "changedNs", calldata_int(&cd, "changed_ns"));
	obs_data_set_int(resp, "shownNs", calldata_int(&cd, "shown_ns"));
	obs_data_set_int(resp, "frame", calldata_int(&cd, "frame"));
	obs_data_set_int(resp, "seq", calldata_int(&cd, "seq"));
	calldata_free(&cd);
	obs_source_release(src);
}
