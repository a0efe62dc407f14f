/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The rules of each connection (plugin/core/rules.h, docs/automation.md) carried out in OBS: on OBS's UI thread,
 * in the order of the game's notes (andross_rules_note, called from the events' UI drain), with no andross lock
 * held while the frontend is called. Delays, "menus for N seconds" and the per-game recording's stop wait on a
 * timer thread of this file's ("andross: rules"), which hands what is due back to the UI thread; a connection's
 * next game_start cancels what it still has waiting. Also the vendor requests GetRules and SetRules (obs-websocket's
 * workers), and the names of the replay buffer's clips.
 */
#include "andross-obs.h"

#include "json_writer.h"
#include "net/loop.h"
#include "rules.h"
#include "slp_file.h"

#include <obs-frontend-api.h>
#include <util/dstr.h>
#include <util/platform.h>
#include <util/threading.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TEXT_SOURCE_ID "andross_text"
#define MAX_CLIP_LABELS 16
#define LABEL_MAX 200

/* A connection's rules and what the UI thread remembers of its games. */
struct conn_rules {
	uint32_t id;
	struct rules_set set;
	struct rules_context ctx;
	uint64_t game;        /* its game_start count: what waits from an older game is cancelled */
	bool recording_games; /* the per-game recording running now is this connection's */
};

enum pending_kind {
	PENDING_RULE,         /* a rule's delayed action, or a menus rule */
	PENDING_RECORD_STOP,  /* the per-game recording's stop, after the game */
	PENDING_RECORD_START, /* the next game's recording, once OBS takes a start again */
};

/* Something waiting on the timer. */
struct pending {
	struct pending *next;
	uint64_t due_ms;
	uint32_t conn;
	uint64_t game;
	enum pending_kind kind;
	int attempts; /* PENDING_RECORD_START */
	struct rule rule;
	struct rules_trigger trigger;
	int64_t event_ms;
};

static struct {
	pthread_mutex_t lock; /* everything below; never held across a frontend call or andross->lock */
	pthread_cond_t cond;
	struct conn_rules *conns[ANDROSS_MAX_CONNECTIONS];
	size_t n_conns;
	struct pending *waiting; /* by due time */
	struct pending *ready;   /* due, for the UI thread, in order */
	struct pending **ready_tail;
	bool ui_queued;
	pthread_t thread;
	bool running, stop;
	/* what the clips saved by rules are about, oldest first, for their names */
	char labels[MAX_CLIP_LABELS][LABEL_MAX];
	size_t n_labels;
	/* a per-game recording to start again once the previous one has stopped */
	uint32_t restart_for;
	bool exiting;       /* OBS is closing: no more actions */
	uint64_t switch_ns; /* when a rule last asked OBS for a program scene, until OBS says it changed (UI thread) */
} R = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* ---- the table (under R.lock) ---- */

static struct conn_rules *find_locked(uint32_t id)
{
	for (size_t i = 0; i < R.n_conns; i++)
		if (R.conns[i]->id == id)
			return R.conns[i];
	return NULL;
}

/* A connection's entry; one it has not had yet starts with the default rules. NULL when out of memory or full. */
static struct conn_rules *get_locked(uint32_t id)
{
	struct conn_rules *cr = find_locked(id);
	if (cr || R.n_conns == ANDROSS_MAX_CONNECTIONS)
		return cr;
	cr = calloc(1, sizeof(*cr));
	if (!cr)
		return NULL;
	cr->id = id;
	rules_set_init(&cr->set);
	rules_context_init(&cr->ctx);
	if (!rules_set_defaults(&cr->set)) {
		free(cr);
		return NULL;
	}
	R.conns[R.n_conns++] = cr;
	return cr;
}

/* Cancels what connection id has waiting. */
static void cancel_locked(uint32_t id)
{
	for (struct pending **p = &R.waiting; *p;) {
		if ((*p)->conn == id) {
			struct pending *gone = *p;
			*p = gone->next;
			free(gone);
		} else {
			p = &(*p)->next;
		}
	}
}

void andross_rules_forget(uint32_t id)
{
	pthread_mutex_lock(&R.lock);
	cancel_locked(id);
	for (size_t i = 0; i < R.n_conns; i++) {
		if (R.conns[i]->id != id)
			continue;
		rules_set_free(&R.conns[i]->set);
		free(R.conns[i]);
		R.conns[i] = R.conns[--R.n_conns];
		break;
	}
	pthread_mutex_unlock(&R.lock);
}

/* ---- what a rule names, and whether it is there ---- */

/* Why rule r cannot run as things are in OBS now ("" when it can). Any thread. */
static bool rule_broken(const struct rule *r, char *why, size_t size)
{
	why[0] = 0;
	if (rule_action_uses_scene(r->action)) {
		obs_source_t *scene = obs_get_source_by_name(r->scene);
		if (scene && obs_source_removed(scene)) {
			/* removed, and still held by someone for a moment */
			obs_source_release(scene);
			scene = NULL;
		}
		obs_scene_t *s = scene ? obs_scene_from_source(scene) : NULL;
		if (!scene)
			snprintf(why, size, "no scene named \"%s\"", r->scene);
		else if (!s)
			snprintf(why, size, "\"%s\" is not a scene", r->scene);
		else if (rule_action_uses_source(r->action) && !obs_scene_find_source_recursive(s, r->source))
			snprintf(why, size, "scene \"%s\" has no source \"%s\"", r->scene, r->source);
		obs_source_release(scene);
	} else if (r->action == RULE_ACTION_SET_TEXT_TEMPLATE) {
		obs_source_t *src = obs_get_source_by_name(r->source);
		if (src && obs_source_removed(src)) {
			obs_source_release(src);
			src = NULL;
		}
		if (!src)
			snprintf(why, size, "no source named \"%s\"", r->source);
		else if (strcmp(obs_source_get_unversioned_id(src), TEXT_SOURCE_ID))
			snprintf(why, size, "\"%s\" is not a Slippi Text source", r->source);
		obs_source_release(src);
	}
	return why[0] != 0;
}

/* ---- clips ---- */

/* What a saved clip is about, for its file name: who and when. */
static void clip_label(const struct andross_connection *c, const struct rules_trigger *t, char *out, size_t size)
{
	if (t->events & (1u << RULE_EVENT_COMBO) && t->n_subjects) {
		const struct rules_subject *s = &t->subjects[0];
		int32_t at = t->start_frame > 0 ? t->start_frame / 60 : 0;
		snprintf(out, size, "%s P%d%s%s %d%% combo%s at %dm%02ds", c->name, s->port,
			 s->connect_code[0] ? " " : "", s->connect_code, (int)(t->damage + 0.5),
			 t->did_kill ? " kill" : "", at / 60, at % 60);
		return;
	}
	unsigned e = 0;
	while (e < RULE_EVENT_COUNT && !(t->events & (1u << e)))
		e++;
	snprintf(out, size, "%s %s", c->name, rule_event_name((enum rule_event)e));
}

struct clip_rename {
	char *from, *to;
	struct andross_connection c;
};

/* On the disk thread: the clip takes its name, and clients hear of it. */
static void rename_task(void *param)
{
	struct clip_rename *cr = param;
	bool ok = os_rename(cr->from, cr->to) == 0;
	if (ok)
		blog(LOG_INFO, "[andross] clip saved as %s", cr->to);
	else
		blog(LOG_WARNING, "[andross] cannot name the clip %s %s: %s", cr->from, cr->to, strerror(errno));
	struct bytes out;
	bytes_init(&out, 0);
	struct json_writer jw;
	jw_init(&jw, &out);
	jw_object_begin(&jw, NULL);
	jw_string(&jw, "type", "clip_saved");
	jw_string(&jw, "path", ok ? cr->to : cr->from);
	jw_object_end(&jw);
	if (jw.ok && bytes_append_byte(&out, 0))
		andross_events_emit(&cr->c, "clip_saved", (const char *)out.data);
	bytes_free(&out);
	bfree(cr->from);
	bfree(cr->to);
	bfree(cr);
}

/* The replay buffer saved a clip: if a rule asked for it, it is named after what it is about. UI thread. */
static void clip_saved(void)
{
	char label[LABEL_MAX] = "";
	pthread_mutex_lock(&R.lock);
	if (R.n_labels) {
		snprintf(label, sizeof(label), "%s", R.labels[0]);
		memmove(R.labels[0], R.labels[1], (R.n_labels - 1) * sizeof(R.labels[0]));
		R.n_labels--;
	}
	pthread_mutex_unlock(&R.lock);
	char *path = obs_frontend_get_last_replay();
	if (!label[0] || !path || !*path) {
		bfree(path);
		return;
	}
	/* the label is "<connection id>\t<text>" */
	char *tab = strchr(label, '\t');
	struct andross_connection c = {0};
	if (!tab || !andross_connection_get((uint32_t)strtoul(label, NULL, 10), &c)) {
		bfree(path);
		return;
	}
	char safe[LABEL_MAX];
	slp_file_safe_name(safe, sizeof(safe), tab + 1, "clip");
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(path, '.');
	if (!dot || (slash && dot < slash))
		dot = path + strlen(path);
	struct dstr to = {0};
	dstr_printf(&to, "%.*s - %s%s", (int)(dot - path), path, safe, dot);
	struct clip_rename *cr = bzalloc(sizeof(*cr));
	cr->from = path;
	cr->to = to.array;
	cr->c = c;
	if (!andross || !andross->disk || !os_task_queue_queue_task(andross->disk, rename_task, cr))
		rename_task(cr);
}

/* ---- actions, on the UI thread ---- */

static void log_broken(const struct andross_connection *c, size_t index, const struct rule *r, const char *why)
{
	blog(LOG_WARNING, "[andross] %s: rule %zu (%s -> %s) is broken: %s", c->name, index + 1,
	     rule_event_name(r->event), rule_action_name(r->action), why);
}

/* event_ms: when the note was made (net_now_ms's clock), for the log; 0 when there was none. */
static void run_action(const struct andross_connection *c, const struct rule *r, const struct rules_trigger *t,
		       int64_t event_ms)
{
	char why[512];
	if (rule_broken(r, why, sizeof(why))) {
		if (!r->optional)
			blog(LOG_WARNING, "[andross] %s: %s -> %s not done: %s", c->name, rule_event_name(r->event),
			     rule_action_name(r->action), why);
		return;
	}
	if (event_ms > 0)
		blog(LOG_INFO, "[andross] %s: %s -> %s%s%s (%lld ms after the event)", c->name,
		     rule_event_name(r->event), rule_action_name(r->action), r->scene[0] ? " " : "", r->scene,
		     (long long)((int64_t)net_now_ms() - event_ms));
	else
		blog(LOG_INFO, "[andross] %s: %s -> %s%s%s", c->name, rule_event_name(r->event),
		     rule_action_name(r->action), r->scene[0] ? " " : "", r->scene);
	switch (r->action) {
	case RULE_ACTION_SWITCH_SCENE: {
		obs_source_t *scene = obs_get_source_by_name(r->scene);
		/* in studio mode OBS transitions the program to it, unless the rule puts it into the preview for the
		 * operator to take; a scene already there is left alone (studio mode would transition to it again) */
		bool preview = r->to_preview && obs_frontend_preview_program_mode_active();
		obs_source_t *now = preview ? obs_frontend_get_current_preview_scene()
					    : obs_frontend_get_current_scene();
		if (now != scene && preview)
			obs_frontend_set_current_preview_scene(scene);
		else if (now != scene) {
			R.switch_ns = os_gettime_ns();
			obs_frontend_set_current_scene(scene);
		}
		obs_source_release(now);
		obs_source_release(scene);
		break;
	}
	case RULE_ACTION_SHOW_SOURCE:
	case RULE_ACTION_HIDE_SOURCE: {
		obs_source_t *scene = obs_get_source_by_name(r->scene);
		obs_sceneitem_t *item = obs_scene_find_source_recursive(obs_scene_from_source(scene), r->source);
		if (item)
			obs_sceneitem_set_visible(item, r->action == RULE_ACTION_SHOW_SOURCE);
		obs_source_release(scene);
		break;
	}
	case RULE_ACTION_START_RECORDING:
		if (!obs_frontend_recording_active())
			obs_frontend_recording_start();
		break;
	case RULE_ACTION_STOP_RECORDING:
		if (obs_frontend_recording_active())
			obs_frontend_recording_stop();
		break;
	case RULE_ACTION_PAUSE_RECORDING:
	case RULE_ACTION_UNPAUSE_RECORDING: {
		bool pause = r->action == RULE_ACTION_PAUSE_RECORDING;
		if (obs_frontend_recording_active() && obs_frontend_recording_paused() != pause)
			obs_frontend_recording_pause(pause);
		break;
	}
	case RULE_ACTION_START_REPLAY_BUFFER:
		if (!obs_frontend_replay_buffer_active())
			obs_frontend_replay_buffer_start();
		break;
	case RULE_ACTION_STOP_REPLAY_BUFFER:
		if (obs_frontend_replay_buffer_active())
			obs_frontend_replay_buffer_stop();
		break;
	case RULE_ACTION_SAVE_REPLAY_BUFFER: {
		if (!obs_frontend_replay_buffer_active()) {
			blog(LOG_WARNING, "[andross] %s: %s -> save_replay_buffer: the replay buffer is not running",
			     c->name, rule_event_name(r->event));
			break;
		}
		char text[LABEL_MAX - 16];
		clip_label(c, t, text, sizeof(text));
		pthread_mutex_lock(&R.lock);
		if (R.n_labels == MAX_CLIP_LABELS) {
			memmove(R.labels[0], R.labels[1], (MAX_CLIP_LABELS - 1) * sizeof(R.labels[0]));
			R.n_labels--;
		}
		snprintf(R.labels[R.n_labels++], LABEL_MAX, "%u\t%s", c->id, text);
		pthread_mutex_unlock(&R.lock);
		obs_frontend_replay_buffer_save();
		break;
	}
	case RULE_ACTION_SET_TEXT_TEMPLATE: {
		obs_source_t *src = obs_get_source_by_name(r->source);
		obs_data_t *s = obs_data_create();
		obs_data_set_string(s, "template", r->template_text);
		obs_source_update(src, s);
		obs_data_release(s);
		obs_source_release(src);
		break;
	}
	default:
		break;
	}
}

/* ---- per-game recordings ---- */

static void record_game_start(struct conn_rules *copy, const struct andross_connection *c)
{
	if (!copy->set.record_games)
		return;
	bool mine = copy->recording_games;
	if (obs_frontend_recording_active()) {
		if (!mine) {
			blog(LOG_INFO, "[andross] %s: a game starts while OBS records already: no recording of its own",
			     c->name);
			return;
		}
		/* the last game's recording has not stopped yet: stop it now, and start this game's once it has */
		pthread_mutex_lock(&R.lock);
		R.restart_for = c->id;
		pthread_mutex_unlock(&R.lock);
		obs_frontend_recording_stop();
		return;
	}
	pthread_mutex_lock(&R.lock);
	for (size_t i = 0; i < R.n_conns; i++)
		R.conns[i]->recording_games = R.conns[i]->id == c->id;
	pthread_mutex_unlock(&R.lock);
	blog(LOG_INFO, "[andross] %s: game start: recording the game", c->name);
	obs_frontend_recording_start();
}

static void schedule(uint32_t conn, uint64_t game, uint64_t delay_ms, enum pending_kind kind, int attempts,
		     const struct rule *r, const struct rules_trigger *t, int64_t event_ms);

static void recording_stopped(void)
{
	pthread_mutex_lock(&R.lock);
	uint32_t id = R.restart_for;
	R.restart_for = 0;
	struct conn_rules *cr = id ? find_locked(id) : NULL;
	uint64_t game = cr ? cr->game : 0;
	if (!cr)
		for (size_t i = 0; i < R.n_conns; i++)
			R.conns[i]->recording_games = false;
	pthread_mutex_unlock(&R.lock);
	/* OBS refuses a start made from its own "stopped" event (the output is not quite done), so the start is
	 * tried from the timer until OBS says it records */
	if (cr)
		schedule(id, game, 100, PENDING_RECORD_START, 0, NULL, NULL, 0);
}

/* The next game's recording: started, or tried again in a while (at most 30 times, 15 s). UI thread. */
static void record_start_again(const struct andross_connection *c, const struct pending *p)
{
	if (obs_frontend_recording_active())
		return;
	if (p->attempts >= 30) {
		blog(LOG_WARNING, "[andross] %s: OBS does not start recording the game", c->name);
		return;
	}
	if (p->attempts == 0)
		blog(LOG_INFO, "[andross] %s: the next game's recording starts", c->name);
	obs_frontend_recording_start();
	schedule(c->id, p->game, 500, PENDING_RECORD_START, p->attempts + 1, NULL, NULL, 0);
}

/* ---- the timer ---- */

static void run_ready(void *param);

static void schedule_locked(struct pending *p)
{
	struct pending **at = &R.waiting;
	while (*at && (*at)->due_ms <= p->due_ms)
		at = &(*at)->next;
	p->next = *at;
	*at = p;
	pthread_cond_signal(&R.cond);
}

static void schedule(uint32_t conn, uint64_t game, uint64_t delay_ms, enum pending_kind kind, int attempts,
		     const struct rule *r, const struct rules_trigger *t, int64_t event_ms)
{
	struct pending *p = calloc(1, sizeof(*p));
	if (!p) {
		blog(LOG_WARNING, "[andross] out of memory for a delayed rule");
		return;
	}
	p->due_ms = net_now_ms() + delay_ms;
	p->conn = conn;
	p->game = game;
	p->event_ms = event_ms;
	p->kind = kind;
	p->attempts = attempts;
	if (r)
		p->rule = *r;
	if (t)
		p->trigger = *t;
	pthread_mutex_lock(&R.lock);
	if (R.running)
		schedule_locked(p);
	else
		free(p);
	pthread_mutex_unlock(&R.lock);
}

static void *timer_thread(void *arg)
{
	(void)arg;
	os_set_thread_name("andross: rules");
	pthread_mutex_lock(&R.lock);
	while (!R.stop) {
		uint64_t now = net_now_ms();
		bool moved = false;
		while (R.waiting && R.waiting->due_ms <= now) {
			struct pending *p = R.waiting;
			R.waiting = p->next;
			p->next = NULL;
			*R.ready_tail = p;
			R.ready_tail = &p->next;
			moved = true;
		}
		if (moved && !R.ui_queued) {
			R.ui_queued = true;
			pthread_mutex_unlock(&R.lock);
			obs_queue_task(OBS_TASK_UI, run_ready, NULL, false);
			pthread_mutex_lock(&R.lock);
			continue;
		}
		if (!R.waiting) {
			pthread_cond_wait(&R.cond, &R.lock);
			continue;
		}
		uint64_t due = R.waiting->due_ms;
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t wait_ms = due > now ? due - now : 0;
		ts.tv_sec += (time_t)(wait_ms / 1000);
		ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&R.cond, &R.lock, &ts);
	}
	pthread_mutex_unlock(&R.lock);
	return NULL;
}

/* UI thread: what the timer found due, unless the connection's next game started since. */
static void run_ready(void *param)
{
	(void)param;
	pthread_mutex_lock(&R.lock);
	struct pending *list = R.ready;
	R.ready = NULL;
	R.ready_tail = &R.ready;
	R.ui_queued = false;
	pthread_mutex_unlock(&R.lock);
	while (list) {
		struct pending *p = list;
		list = p->next;
		pthread_mutex_lock(&R.lock);
		struct conn_rules *cr = find_locked(p->conn);
		bool current = cr && cr->game == p->game && !R.exiting;
		bool mine = cr && cr->recording_games;
		pthread_mutex_unlock(&R.lock);
		struct andross_connection c;
		if (current && andross && !atomic_load(&andross->shutting_down) &&
		    andross_connection_get(p->conn, &c)) {
			if (p->kind == PENDING_RULE) {
				run_action(&c, &p->rule, &p->trigger, p->event_ms);
			} else if (p->kind == PENDING_RECORD_START) {
				record_start_again(&c, p);
			} else if (mine && obs_frontend_recording_active()) {
				blog(LOG_INFO, "[andross] %s: the game's recording stops", c.name);
				obs_frontend_recording_stop();
			}
		}
		free(p);
	}
}

/* ---- the game's notes, on the UI thread ---- */

/* Runs (or schedules) the rules of connection c that trigger t makes due. */
static void apply(const struct andross_connection *c, const struct rules_trigger *t, bool game_start, bool game_end,
		  const struct game_note *n)
{
	const char *type = n ? n->type : NULL;
	int64_t event_ms = n ? n->time_ms : 0;
	struct conn_rules copy = {0};
	rules_set_init(&copy.set);
	struct rules_trigger trig = {0};
	bool any;
	pthread_mutex_lock(&R.lock);
	struct conn_rules *cr = R.exiting ? NULL : get_locked(c->id);
	if (!cr) {
		pthread_mutex_unlock(&R.lock);
		return;
	}
	if (type)
		any = rules_trigger_from_note(&cr->ctx, type, n->json, n->json_len, &trig);
	else
		any = (trig = *t, true);
	if (game_start) {
		cr->game++; /* what waits from the last game is cancelled: this one started first */
		cancel_locked(c->id);
	}
	bool ok = rules_set_copy(&copy.set, &cr->set);
	copy.game = cr->game;
	copy.recording_games = cr->recording_games;
	pthread_mutex_unlock(&R.lock);
	if (!ok) {
		blog(LOG_WARNING, "[andross] %s: out of memory for its rules", c->name);
		return;
	}
	if (game_start)
		record_game_start(&copy, c);
	if (any) {
		for (size_t i = 0; i < copy.set.n; i++) {
			const struct rule *r = &copy.set.rules[i];
			if (!rules_match_one(r, &trig))
				continue;
			if (r->delay_ms)
				schedule(c->id, copy.game, r->delay_ms, PENDING_RULE, 0, r, &trig, event_ms);
			else
				run_action(c, r, &trig, event_ms);
		}
	}
	if (game_end) {
		/* "menus for N seconds": from the end of this game, unless the next one starts first */
		struct rules_trigger menus;
		rules_trigger_simple(&menus, RULE_EVENT_MENUS);
		for (size_t i = 0; i < copy.set.n; i++) {
			const struct rule *r = &copy.set.rules[i];
			if (r->enabled && r->event == RULE_EVENT_MENUS)
				schedule(c->id, copy.game, (uint64_t)r->seconds * 1000u + r->delay_ms, PENDING_RULE, 0,
					 r, &menus, event_ms);
		}
		if (copy.set.record_games && copy.recording_games)
			schedule(c->id, copy.game, copy.set.record_stop_ms, PENDING_RECORD_STOP, 0, NULL, NULL,
				 event_ms);
	}
	rules_set_free(&copy.set);
}

void andross_rules_note(const struct andross_connection *c, const struct game_note *n)
{
	bool start = !strcmp(n->type, "game_start"), end = !strcmp(n->type, "game_end");
	apply(c, NULL, start, end, n);
}

/* set_end comes as a signal from whoever decides the set is over (the scores); its rules run on the UI thread. */
static void set_end_ui(void *param)
{
	struct andross_connection c;
	if (!andross || atomic_load(&andross->shutting_down) || !andross_connection_get((uint32_t)(uintptr_t)param, &c))
		return;
	struct rules_trigger t;
	rules_trigger_simple(&t, RULE_EVENT_SET_END);
	apply(&c, &t, false, false, NULL);
}

static void on_set_end(void *data, calldata_t *cd)
{
	(void)data;
	long long id = calldata_int(cd, "connection");
	if (id > 0 && id <= UINT32_MAX)
		obs_queue_task(OBS_TASK_UI, set_end_ui, (void *)(uintptr_t)id, false);
}

/* ---- broken rules, in the log ---- */

static void log_all_broken(uint32_t only)
{
	uint32_t ids[ANDROSS_MAX_CONNECTIONS];
	size_t n = andross_connection_ids(ids, ANDROSS_MAX_CONNECTIONS);
	for (size_t k = 0; k < n; k++) {
		if (only && ids[k] != only)
			continue;
		struct andross_connection c;
		if (!andross_connection_get(ids[k], &c))
			continue;
		struct rules_set s;
		rules_set_init(&s);
		pthread_mutex_lock(&R.lock);
		struct conn_rules *cr = get_locked(ids[k]);
		bool ok = cr && rules_set_copy(&s, &cr->set);
		pthread_mutex_unlock(&R.lock);
		char why[512];
		for (size_t i = 0; ok && i < s.n; i++)
			if (!s.rules[i].optional && rule_broken(&s.rules[i], why, sizeof(why)))
				log_broken(&c, i, &s.rules[i], why);
		rules_set_free(&s);
	}
}

static void on_frontend_event(enum obs_frontend_event event, void *data)
{
	(void)data;
	if (!andross || atomic_load(&andross->shutting_down))
		return;
	switch (event) {
	case OBS_FRONTEND_EVENT_FINISHED_LOADING:
		log_all_broken(0); /* the scenes exist from here on */
		break;
	case OBS_FRONTEND_EVENT_RECORDING_STOPPED:
		recording_stopped();
		break;
	case OBS_FRONTEND_EVENT_SCENE_CHANGED:
		/* how long OBS takes to make a rule's scene the program's (a transition, the next frame) */
		if (R.switch_ns) {
			blog(LOG_INFO, "[andross] OBS changed the program scene %.1f ms after the rule asked",
			     (double)(os_gettime_ns() - R.switch_ns) / 1e6);
			R.switch_ns = 0;
		}
		break;
	case OBS_FRONTEND_EVENT_REPLAY_BUFFER_SAVED:
		clip_saved();
		break;
	case OBS_FRONTEND_EVENT_EXIT: {
		/* what still waits would start or stop outputs while OBS tears them down */
		pthread_mutex_lock(&R.lock);
		R.exiting = true;
		for (size_t i = 0; i < R.n_conns; i++)
			cancel_locked(R.conns[i]->id);
		R.restart_for = 0;
		pthread_mutex_unlock(&R.lock);
		break;
	}
	default:
		break;
	}
}

/* ---- settings ---- */

void andross_rules_save(uint32_t id, obs_data_t *conn)
{
	struct bytes out;
	bytes_init(&out, 0);
	struct json_writer jw;
	jw_init(&jw, &out);
	jw_object_begin(&jw, NULL);
	pthread_mutex_lock(&R.lock);
	struct conn_rules *cr = get_locked(id);
	if (cr)
		rules_write(&cr->set, &jw);
	pthread_mutex_unlock(&R.lock);
	jw_object_end(&jw);
	obs_data_t *d = cr && jw.ok && bytes_append_byte(&out, 0) ? obs_data_create_from_json((const char *)out.data)
								  : NULL;
	bytes_free(&out);
	if (!d)
		return;
	obs_data_array_t *rules = obs_data_get_array(d, "rules");
	obs_data_t *record = obs_data_get_obj(d, "recordGames");
	obs_data_set_array(conn, "rules", rules);
	obs_data_set_obj(conn, "recordGames", record);
	obs_data_array_release(rules);
	obs_data_release(record);
	obs_data_release(d);
}

bool andross_rules_load(uint32_t id, obs_data_t *conn)
{
	obs_data_item_t *it = obs_data_item_byname(conn, "rules");
	bool has = it != NULL;
	obs_data_item_release(&it);
	if (!has) {
		/* a connection saved before rules existed: the defaults */
		pthread_mutex_lock(&R.lock);
		get_locked(id);
		pthread_mutex_unlock(&R.lock);
		return true;
	}
	obs_data_t *d = obs_data_create();
	obs_data_array_t *rules = obs_data_get_array(conn, "rules");
	obs_data_t *record = obs_data_get_obj(conn, "recordGames");
	if (rules)
		obs_data_set_array(d, "rules", rules);
	if (record)
		obs_data_set_obj(d, "recordGames", record);
	obs_data_array_release(rules);
	obs_data_release(record);
	const char *json = obs_data_get_json(d);
	struct rules_set s;
	rules_set_init(&s);
	char err[256];
	int rc = json ? rules_parse(&s, json, strlen(json), err, sizeof(err)) : -1;
	obs_data_release(d);
	pthread_mutex_lock(&R.lock);
	struct conn_rules *cr = get_locked(id); /* with the defaults, kept when the saved rules cannot be read */
	if (cr && rc == 0) {
		rules_set_free(&cr->set);
		cr->set = s;
		s.rules = NULL;
	}
	pthread_mutex_unlock(&R.lock);
	rules_set_free(&s);
	if (rc < 0)
		blog(LOG_WARNING, "[andross] connection %u: its saved rules cannot be read (%s): the default rules", id,
		     json ? err : "not an array");
	return rc == 0;
}

/* ---- vendor requests (obs-websocket's workers) ---- */

/* The connection a request names: its id, or false with the error answered. */
static bool request_conn(obs_data_t *req, obs_data_t *resp, uint32_t *id)
{
	struct andross_connection c;
	if (!andross_request_connection(req, resp, &c))
		return false;
	*id = c.id;
	return true;
}

/* {id, rules, recordGames, broken: [{index, reason, optional}]}: what GetRules answers and the dock shows. */
char *andross_rules_get_json(uint32_t id)
{
	struct andross_connection c;
	if (!andross_connection_get(id, &c))
		return NULL;
	struct rules_set s;
	rules_set_init(&s);
	pthread_mutex_lock(&R.lock);
	struct conn_rules *cr = get_locked(id);
	bool ok = cr && rules_set_copy(&s, &cr->set);
	pthread_mutex_unlock(&R.lock);
	struct bytes out;
	bytes_init(&out, 0);
	struct json_writer jw;
	jw_init(&jw, &out);
	jw_object_begin(&jw, NULL);
	jw_int(&jw, "id", id);
	rules_write(&s, &jw);
	jw_array_begin(&jw, "broken");
	char why[512];
	for (size_t i = 0; ok && i < s.n; i++) {
		if (!rule_broken(&s.rules[i], why, sizeof(why)))
			continue;
		jw_object_begin(&jw, NULL);
		jw_int(&jw, "index", (int64_t)i);
		jw_string(&jw, "reason", why);
		jw_bool(&jw, "optional", s.rules[i].optional);
		jw_object_end(&jw);
	}
	jw_array_end(&jw);
	jw_object_end(&jw);
	rules_set_free(&s);
	char *json = ok && jw.ok && bytes_append_byte(&out, 0) ? bstrdup((const char *)out.data) : NULL;
	bytes_free(&out);
	return json;
}

int andross_rules_set_json(uint32_t id, const char *json, bool keep_record_games, char *err, size_t err_size)
{
	struct andross_connection c;
	if (!andross_connection_get(id, &c)) {
		snprintf(err, err_size, "no connection %u", id);
		return -1;
	}
	struct rules_set s;
	rules_set_init(&s);
	if (rules_parse(&s, json, strlen(json), err, err_size) < 0)
		return -1;
	pthread_mutex_lock(&R.lock);
	struct conn_rules *cr = get_locked(id);
	if (cr) {
		if (keep_record_games) {
			s.record_games = cr->set.record_games;
			s.record_stop_ms = cr->set.record_stop_ms;
		}
		rules_set_free(&cr->set);
		cr->set = s;
		s.rules = NULL;
	}
	pthread_mutex_unlock(&R.lock);
	rules_set_free(&s);
	if (!cr) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	blog(LOG_INFO, "[andross] connection %u: rules set", id);
	andross_settings_save();
	log_all_broken(id);
	return 0;
}

static void answer_rules(uint32_t id, obs_data_t *resp)
{
	char *json = andross_rules_get_json(id);
	obs_data_t *d = json ? obs_data_create_from_json(json) : NULL;
	bfree(json);
	if (d)
		obs_data_apply(resp, d);
	else
		andross_answer_error(resp, "out of memory");
	obs_data_release(d);
}

void andross_rules_req_get(obs_data_t *req, obs_data_t *resp, void *priv)
{
	(void)priv;
	uint32_t id;
	if (request_conn(req, resp, &id))
		answer_rules(id, resp);
}

void andross_rules_req_set(obs_data_t *req, obs_data_t *resp, void *priv)
{
	(void)priv;
	uint32_t id;
	if (!request_conn(req, resp, &id))
		return;
	const char *json = obs_data_get_json(req);
	obs_data_item_t *it = obs_data_item_byname(req, "recordGames");
	bool has_record = it != NULL;
	obs_data_item_release(&it);
	char err[256];
	if (!json || andross_rules_set_json(id, json, !has_record, err, sizeof(err)) < 0) {
		andross_answer_error(resp, "%s", json ? err : "out of memory");
		return;
	}
	answer_rules(id, resp);
}

/* ---- lifetime ---- */

int andross_rules_start(void)
{
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&R.cond, &attr);
	pthread_condattr_destroy(&attr);
	pthread_mutex_lock(&R.lock);
	R.stop = false;
	R.ready = NULL;
	R.ready_tail = &R.ready;
	R.running = pthread_create(&R.thread, NULL, timer_thread, NULL) == 0;
	bool ok = R.running;
	pthread_mutex_unlock(&R.lock);
	if (!ok)
		blog(LOG_ERROR, "[andross] cannot start the rules' timer: no delayed rules");
	obs_frontend_add_event_callback(on_frontend_event, NULL);
	signal_handler_connect(obs_get_signal_handler(), "andross_set_end", on_set_end, NULL);
	return ok ? 0 : -1;
}

void andross_rules_stop(void)
{
	signal_handler_disconnect(obs_get_signal_handler(), "andross_set_end", on_set_end, NULL);
	obs_frontend_remove_event_callback(on_frontend_event, NULL);
	andross_thread_stop(&R.lock, &R.cond, &R.running, &R.stop, R.thread);
	pthread_mutex_lock(&R.lock);
	struct pending *lists[2] = {R.waiting, R.ready};
	R.waiting = R.ready = NULL;
	R.ready_tail = &R.ready; /* a UI task still queued finds nothing */
	for (size_t i = 0; i < R.n_conns; i++) {
		rules_set_free(&R.conns[i]->set);
		free(R.conns[i]);
	}
	R.n_conns = 0;
	R.n_labels = 0;
	R.restart_for = 0;
	R.exiting = false;
	pthread_mutex_unlock(&R.lock);
	for (int k = 0; k < 2; k++)
		while (lists[k]) {
			struct pending *p = lists[k];
			lists[k] = p->next;
			free(p);
		}
	pthread_cond_destroy(&R.cond);
}
