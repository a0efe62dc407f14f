/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The OBS module's shared state and the functions its files give each other. The Slippi work is the engine's
 * (plugin/core/engine.h), on threads of its own; these files only translate between it and OBS.
 *
 * Threads and locks:
 * - `ops` serializes what changes connections (the UI thread, obs-websocket's workers). It is held while the
 *   engine is called (the engine answers within one pass of its loop) and never taken by an engine thread.
 * - `lock` guards the connection table for short reads and writes. Engine threads may take it (to name a
 *   connection in an event); nobody calls the engine or OBS's frontend while holding it.
 * - Frontend calls happen on the UI thread only, with neither lock held.
 */
#pragma once

#include "engine.h"

#include <obs-module.h>
#include <util/task.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define ANDROSS_MAX_CONNECTIONS ENGINE_MAX_SESSIONS
#define ANDROSS_RELAY_PORT_FIRST RELAY_PORT_DEFAULT

struct andross_connection {
	uint32_t id;      /* the module's number for it (obs-websocket's `id`), from 1 */
	uint32_t session; /* the engine's session while it runs; 0 when it does not */
	char name[ENGINE_NAME_MAX];
	char url[ENGINE_URL_MAX];
	bool relay_enabled;
	char relay_listen[ENGINE_ADDRESS_MAX]; /* HOST:PORT */
	char folder[ENGINE_PATH_MAX];
	bool auto_connect;
};

struct andross_obs {
	struct engine *engine;
	pthread_mutex_t ops;
	pthread_mutex_t lock;
	struct andross_connection conns[ANDROSS_MAX_CONNECTIONS];
	size_t n_conns;
	uint32_t next_id;
	char config_path[ENGINE_PATH_MAX]; /* "" : nowhere to save (a libobs without a module config folder) */
	/* while OBS records (under `ops`): replays go to redirect_dir, named after redirect_base */
	char redirect_dir[ENGINE_PATH_MAX];
	char redirect_base[ENGINE_PATH_MAX];
	atomic_bool frame_events;
	atomic_int frames_per_second;
	atomic_bool shutting_down;
	void *_Atomic vendor;  /* obs-websocket's vendor handle, once registered */
	os_task_queue_t *disk; /* writes files, so no OBS thread waits on the disk */
};

extern struct andross_obs *andross;

/* Writes text to path (safely: a temporary file renamed over it, the old one kept as .bak when keep_backup) on
 * the module's disk thread, in the order asked; `what` names it in the log. Any thread. */
void andross_write_file(const char *path, const char *text, size_t len, bool keep_backup, const char *what);

/* ---- connections (andross-module.c) ---- */

/* Saves the connections (connections.json, on the disk thread) after a change made elsewhere (their rules). Any
 * thread that holds neither lock. */
void andross_settings_save(void);

/* The settings of a connection to add or update; `present` says which fields a request gave. */
struct andross_connection_request {
	struct andross_connection c;
	bool has_name, has_url, has_relay_enabled, has_relay_listen, has_folder, has_auto_connect;
};

/* Each returns the connection's id (or 0 / -1) with err set on failure, and saves the settings on success. */
uint32_t andross_connection_add(const struct andross_connection_request *r, char *err, size_t err_size);
int andross_connection_update(uint32_t id, const struct andross_connection_request *r, char *err, size_t err_size);
int andross_connection_remove(uint32_t id, char *err, size_t err_size);
int andross_connection_set_relay(uint32_t id, bool enabled, const char *listen, char *bound, size_t bound_size,
				 char *err, size_t err_size);
/* A copy of connection id (false: none). Any thread. */
bool andross_connection_get(uint32_t id, struct andross_connection *out);
/* The ids of every connection, in the order they were added. Returns how many (at most max). Any thread. */
size_t andross_connection_ids(uint32_t *ids, size_t max);
/* Connects (starts its session) or disconnects (stops it, finishing the replay being written) connection id, for
 * this run of OBS only: whether it connects at start-up is its auto_connect setting. Connecting one that runs, or
 * disconnecting one that does not, does nothing. Returns 0, or -1 with err. Any thread but an engine thread. */
int andross_connection_set_connected(uint32_t id, bool connected, char *err, size_t err_size);

/* What the dock, the sources and the hotkeys show of a connection: its settings and a copy of its session's status
 * (as the engine last published it: never waits on the network). Large (relay clients, the game): allocate it. */
struct andross_connection_status {
	struct andross_connection c;
	bool running;                   /* connected or trying to: it has a session */
	struct engine_session_status s; /* valid when running */
};
/* Fills out for connection id. Returns false when there is no such connection. Any thread. */
bool andross_connection_status(uint32_t id, struct andross_connection_status *out);
/* The connection whose engine session this is (false: none); for engine threads too. */
bool andross_connection_of_session(uint32_t session, struct andross_connection *out);
/* Points every running connection's replays at dir/name (recording) or back at its own folder (dir NULL). */
void andross_connections_redirect(const char *dir, const char *video_base);

/* ---- JSON (andross-json.c) ---- */

/* The GetConnections entry of one connection, its GetGameState answer. Return false when out of memory. */
bool andross_json_connection(struct bytes *out, const struct andross_connection *c);
bool andross_json_game_state(struct bytes *out, uint32_t id, const struct game_snapshot *g);

/* ---- events out of OBS (andross-events.c) ---- */

/* At load: the signals, the proc, and the events thread ("andross: events") that drains the sessions' mailboxes
 * into the signals and vendor events, then hands each note to the UI thread (andross_events_ui_note). With
 * realtime_priority 1-99 the events thread asks for realtime scheduling at it (or the highest below it that is
 * granted) and logs whether it got it; 0: normal scheduling. */
int andross_events_start(int realtime_priority);
/* At unload, before the engine stops: no event goes out after it; the notes not handed over are freed. */
void andross_events_stop(void);
/* Stops a module thread that waits on cond for *stop: sets *stop (and clears *running) under mutex, wakes it and
 * joins it if it was running. */
void andross_thread_stop(pthread_mutex_t *mutex, pthread_cond_t *cond, bool *running, bool *stop, pthread_t thread);
void andross_events_notify(uint32_t session); /* the engine's notify (a recorder thread): wakes the events thread */
/* An event the module makes itself (set_end, ...): its global signal andross_<type> (when type is one of the
 * registered ones) and its vendor event, on the calling thread. json: one object as docs/events.md says. */
void andross_events_emit(const struct andross_connection *c, const char *type, const char *json);
void andross_events_frame(uint32_t session, const char *json, size_t len); /* engine thread: frame events */
void andross_vendor_register(void); /* obs-websocket's vendor and requests, at post-load */

/* For the vendor requests' handlers (obs-websocket's workers), one way to read a request and answer it: */
/* answers {"error": "..."} */
void andross_answer_error(obs_data_t *resp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* applies a JSON object made with json_writer (not NUL-terminated) to the response; "out of memory" when it cannot */
void andross_answer_json(obs_data_t *resp, struct bytes *json);
/* the type of field key of d (OBS_DATA_NULL when absent) */
enum obs_data_type andross_field_type(obs_data_t *d, const char *key);
/* reads `id`, a whole number from 1 (false: the error answered) */
bool andross_request_id(obs_data_t *req, obs_data_t *resp, uint32_t *id);
/* reads `id` and copies that connection (false: the error answered, "no connection N" among them) */
bool andross_request_connection(obs_data_t *req, obs_data_t *resp, struct andross_connection *out);
void andross_vendor_unregister(void);

/* Frame events on or off for every running session (SetFrameEvents): the recorders make a frame's JSON only while
 * a client asked for it. */
/* SetFrameEvents: frame events on or off, at most per_second a second per connection (1-10). */
void andross_connections_frame_events(bool enabled, int per_second);

/* ---- recordings (andross-recording.c) ---- */

void andross_recording_register(void);
void andross_recording_unregister(void);
/* A note drained on the UI thread, for the sidecar of the video being recorded. */
void andross_recording_note(const struct andross_connection *c, const struct game_note *n);

/* ---- the "Slippi: show during games" filter (andross-filter.c) and connection hotkeys (andross-hotkeys.c) ---- */

void andross_filter_register(void); /* the filter andross_game_filter, at load */
/* GetFilterState {sourceName, filterName}: the filter's visibility and its last changes (an obs-websocket worker) */
void andross_filter_request_state(obs_data_t *request, obs_data_t *response, void *priv);
/* At load (after the saved connections): hotkeys per connection, following the connections list on the UI thread;
 * at unload: every one unregistered. */
void andross_hotkeys_start(void);
void andross_hotkeys_stop(void);

/* ---- rules (andross-rules.c, docs/automation.md) ---- */

/* At load: the rules' timer thread ("andross: rules"), the frontend callback and the andross_set_end handler. At
 * unload, after andross_events_stop: the timer is joined and whatever waits is dropped. */
int andross_rules_start(void);
void andross_rules_stop(void);
/* A note drained on the UI thread: the connection's rules run (or wait for their delay). */
void andross_rules_note(const struct andross_connection *c, const struct game_note *n);
/* Connection id's rules into / from its saved object ("rules", "recordGames"). load returns false when they are
 * there but cannot be read (the defaults are taken). save is called under andross->lock. */
void andross_rules_save(uint32_t id, obs_data_t *conn);
bool andross_rules_load(uint32_t id, obs_data_t *conn);
/* A connection removed: its rules and what waits for it go. */
void andross_rules_forget(uint32_t id);
/* What GetRules answers ({id, rules, recordGames, broken}), as JSON to bfree; NULL: no such connection, or out of
 * memory. And what SetRules does with {rules, recordGames?} (keep_record_games: recordGames was left out): 0, or -1
 * with err and nothing changed. The dock calls these on the UI thread. */
char *andross_rules_get_json(uint32_t id);
int andross_rules_set_json(uint32_t id, const char *json, bool keep_record_games, char *err, size_t err_size);
/* The vendor requests GetRules and SetRules. */
void andross_rules_req_get(obs_data_t *req, obs_data_t *resp, void *priv);
void andross_rules_req_set(obs_data_t *req, obs_data_t *resp, void *priv);

/* ---- set scores (andross-score.c) and the "Slippi Text" source (andross-text.c): docs/obs-sources.md ---- */

/* At load, after the saved connections: scores.json, a reset hotkey per connection; at unload. */
void andross_score_register(void);
void andross_score_unregister(void);
/* A note on the UI thread: game_start and game_end move the score; a set decided goes out as set_end. */
void andross_score_note(const struct andross_connection *c, const struct game_note *n);
/* What the text sources show of a connection's score. */
struct andross_score_view {
	int scores[SLP_MAX_PLAYERS]; /* by port - 1: the score of the port's side, -1 unknown */
	unsigned game;               /* the game's number in the set, 0 unknown */
	uint64_t version;            /* grows with every change of any score */
};
/* Copies connection id's score without waiting (the graphics thread). False when busy: try at the next frame. */
bool andross_score_try(uint32_t id, struct andross_score_view *out);
uint64_t andross_score_version(void);
/* Vendor requests GetScore, SetScore, ResetScore, SwapScore {id, ...}. */
void andross_req_get_score(obs_data_t *req, obs_data_t *resp, void *priv);
void andross_req_set_score(obs_data_t *req, obs_data_t *resp, void *priv);
void andross_req_reset_score(obs_data_t *req, obs_data_t *resp, void *priv);
void andross_req_swap_score(obs_data_t *req, obs_data_t *resp, void *priv);

/* The source andross_text, at load. */
void andross_text_register(void);
/* Vendor request GetText {sourceName}: the text an andross_text source shows now (its proc get_text). */
void andross_req_get_text(obs_data_t *req, obs_data_t *resp, void *priv);
