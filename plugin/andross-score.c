/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Set scores per connection (plugin/core/set_score.h): kept from the game_start and game_end notes on the UI thread,
 * read by the text sources on the graphics thread without waiting, changed by vendor requests (obs-websocket's
 * workers) and by two frontend hotkeys per connection ("andross.score.reset.<id>", "andross.score.swap.<id>", on
 * OBS's hotkey thread). A set decided by the best-of goes out as a set_end event. The best-of and the hotkeys' keys
 * are saved per connection name in scores.json in the module's config folder (docs/obs-sources.md).
 */
#include "andross-obs.h"

#include "json_reader.h"
#include "json_writer.h"
#include "set_score.h"

#include <obs-frontend-api.h>
#include <util/platform.h>

#include <stdio.h>
#include <string.h>

struct score_entry {
	bool used;
	uint32_t id;
	char name[ENGINE_NAME_MAX];
	struct set_score s;
	obs_hotkey_id hotkeys[2]; /* HOTKEY_RESET, HOTKEY_SWAP */
};

/* The frontend hotkeys of each connection: andross.score.<name>.<id>, their keys saved as <key>. */
enum { HOTKEY_RESET, HOTKEY_SWAP, N_HOTKEYS };
static const struct {
	const char *name;
	const char *text;
	const char *key;
} hotkey_kinds[N_HOTKEYS] = {
	{"reset", "Score.HotkeyReset", "resetHotkey"},
	{"swap", "Score.HotkeySwap", "swapHotkey"},
};

static struct {
	pthread_mutex_t mutex; /* the table; the graphics thread only tries it */
	struct score_entry e[ANDROSS_MAX_CONNECTIONS];
	atomic_uint_fast64_t version; /* grows with every change of any score */
	obs_data_t *saved;            /* scores.json as loaded: {connections: [{name, bestOf, resetHotkey}]} */
	char path[ENGINE_PATH_MAX];
	atomic_bool registered;
} sc = {.mutex = PTHREAD_MUTEX_INITIALIZER};

static struct score_entry *find_entry(uint32_t id)
{
	for (size_t i = 0; i < ANDROSS_MAX_CONNECTIONS; i++)
		if (sc.e[i].used && sc.e[i].id == id)
			return &sc.e[i];
	return NULL;
}

/* The saved object of a connection name (not retained), or NULL. */
static obs_data_t *saved_of(const char *name)
{
	obs_data_array_t *arr = sc.saved ? obs_data_get_array(sc.saved, "connections") : NULL;
	obs_data_t *found = NULL;
	for (size_t i = 0; arr && i < obs_data_array_count(arr) && !found; i++) {
		obs_data_t *d = obs_data_array_item(arr, i);
		if (!strcmp(obs_data_get_string(d, "name"), name))
			found = d;
		obs_data_release(d); /* the array holds it */
	}
	obs_data_array_release(arr);
	return found;
}

/* A hotkey's action, on the UI thread: OBS runs hotkey callbacks holding its hotkeys' lock, which entry_of takes
 * (through obs_hotkey_register_frontend) with sc.mutex held, so the callback itself takes no lock of ours. param:
 * the connection's id * N_HOTKEYS + the kind. */
static void hotkey_task(void *param)
{
	uint32_t conn = (uint32_t)((uintptr_t)param / N_HOTKEYS);
	int kind = (int)((uintptr_t)param % N_HOTKEYS);
	if (!sc.registered)
		return;
	pthread_mutex_lock(&sc.mutex);
	struct score_entry *e = find_entry(conn);
	if (e) {
		if (kind == HOTKEY_RESET)
			set_score_reset(&e->s);
		else
			set_score_swap(&e->s);
		atomic_fetch_add(&sc.version, 1);
	}
	pthread_mutex_unlock(&sc.mutex);
	if (e)
		blog(LOG_INFO, "[andross] connection %u: score %s by its hotkey", conn,
		     kind == HOTKEY_RESET ? "reset" : "swapped");
}

static void on_hotkey(void *data, obs_hotkey_id id, obs_hotkey_t *hotkey, bool pressed)
{
	(void)id;
	(void)hotkey;
	if (pressed)
		obs_queue_task(OBS_TASK_UI, hotkey_task, data, false);
}

/* The entry of connection c, made (with its hotkeys and saved best-of) when it has none. Under sc.mutex. */
static struct score_entry *entry_of(const struct andross_connection *c)
{
	struct score_entry *e = find_entry(c->id);
	if (e) {
		snprintf(e->name, sizeof(e->name), "%s", c->name);
		return e;
	}
	for (size_t i = 0; i < ANDROSS_MAX_CONNECTIONS && !e; i++)
		if (!sc.e[i].used)
			e = &sc.e[i];
	if (!e)
		return NULL;
	memset(e, 0, sizeof(*e));
	e->used = true;
	e->id = c->id;
	snprintf(e->name, sizeof(e->name), "%s", c->name);
	obs_data_t *saved = saved_of(c->name);
	long long best_of = saved ? obs_data_get_int(saved, "bestOf") : 0;
	char err[160];
	set_score_init(&e->s, 0);
	if (best_of > 0 && set_score_set_best_of(&e->s, (unsigned)best_of, err, sizeof(err)) < 0)
		blog(LOG_WARNING, "[andross] %s: saved bestOf %lld ignored: %s", c->name, best_of, err);
	for (int k = 0; k < N_HOTKEYS; k++) {
		char name[64], desc[160];
		snprintf(name, sizeof(name), "andross.score.%s.%u", hotkey_kinds[k].name, c->id);
		snprintf(desc, sizeof(desc), "%s %s", obs_module_text(hotkey_kinds[k].text), c->name);
		e->hotkeys[k] = obs_hotkey_register_frontend(name, desc, on_hotkey,
							     (void *)((uintptr_t)c->id * N_HOTKEYS + (uintptr_t)k));
		obs_data_array_t *keys = saved ? obs_data_get_array(saved, hotkey_kinds[k].key) : NULL;
		if (keys && e->hotkeys[k] != OBS_INVALID_HOTKEY_ID)
			obs_hotkey_load(e->hotkeys[k], keys);
		obs_data_array_release(keys);
	}
	return e;
}

/* Drops the entries of connections that are gone (and their hotkeys). UI thread. */
static void sweep(void)
{
	uint32_t ids[ANDROSS_MAX_CONNECTIONS];
	size_t n = andross_connection_ids(ids, ANDROSS_MAX_CONNECTIONS);
	obs_hotkey_id gone[ANDROSS_MAX_CONNECTIONS * N_HOTKEYS];
	size_t n_gone = 0;
	pthread_mutex_lock(&sc.mutex);
	for (size_t i = 0; i < ANDROSS_MAX_CONNECTIONS; i++) {
		if (!sc.e[i].used)
			continue;
		bool live = false;
		for (size_t k = 0; k < n && !live; k++)
			live = ids[k] == sc.e[i].id;
		if (!live) {
			for (int k = 0; k < N_HOTKEYS; k++)
				gone[n_gone++] = sc.e[i].hotkeys[k];
			sc.e[i].used = false;
		}
	}
	pthread_mutex_unlock(&sc.mutex);
	for (size_t i = 0; i < n_gone; i++) /* no lock of ours held (OBS's hotkeys' lock) */
		if (gone[i] != OBS_INVALID_HOTKEY_ID)
			obs_hotkey_unregister(gone[i]);
}

/* Makes the entries (and hotkeys) of every connection. UI thread. */
static void ensure_all(void)
{
	uint32_t ids[ANDROSS_MAX_CONNECTIONS];
	size_t n = andross_connection_ids(ids, ANDROSS_MAX_CONNECTIONS);
	for (size_t i = 0; i < n; i++) {
		struct andross_connection c;
		if (!andross_connection_get(ids[i], &c))
			continue;
		pthread_mutex_lock(&sc.mutex);
		entry_of(&c);
		pthread_mutex_unlock(&sc.mutex);
	}
}

/* ---- saving ---- */

static void save(void)
{
	if (!sc.path[0])
		return;
	struct {
		char name[ENGINE_NAME_MAX];
		unsigned best_of;
		obs_hotkey_id hotkeys[N_HOTKEYS];
	} rows[ANDROSS_MAX_CONNECTIONS];
	size_t n = 0;
	pthread_mutex_lock(&sc.mutex);
	for (size_t i = 0; i < ANDROSS_MAX_CONNECTIONS; i++) {
		if (!sc.e[i].used)
			continue;
		snprintf(rows[n].name, sizeof(rows[n].name), "%s", sc.e[i].name);
		rows[n].best_of = sc.e[i].s.best_of;
		memcpy(rows[n++].hotkeys, sc.e[i].hotkeys, sizeof(rows[0].hotkeys));
	}
	pthread_mutex_unlock(&sc.mutex);
	obs_data_t *root = obs_data_create();
	obs_data_array_t *arr = obs_data_array_create();
	for (size_t i = 0; i < n; i++) {
		obs_data_t *d = obs_data_create();
		obs_data_set_string(d, "name", rows[i].name);
		obs_data_set_int(d, "bestOf", rows[i].best_of);
		/* outside sc.mutex: obs_hotkey_save takes OBS's hotkeys' lock */
		for (int k = 0; k < N_HOTKEYS; k++) {
			obs_data_array_t *keys = rows[i].hotkeys[k] != OBS_INVALID_HOTKEY_ID
							 ? obs_hotkey_save(rows[i].hotkeys[k])
							 : NULL;
			if (keys)
				obs_data_set_array(d, hotkey_kinds[k].key, keys);
			obs_data_array_release(keys);
		}
		obs_data_array_push_back(arr, d);
		obs_data_release(d);
	}
	obs_data_set_int(root, "version", 1);
	obs_data_set_array(root, "connections", arr);
	const char *json = obs_data_get_json(root);
	if (json)
		andross_write_file(sc.path, json, strlen(json), true, "scores");
	obs_data_array_release(arr);
	/* what is saved is what a connection made later starts from */
	pthread_mutex_lock(&sc.mutex);
	obs_data_t *old = sc.saved;
	sc.saved = root;
	pthread_mutex_unlock(&sc.mutex);
	obs_data_release(old);
}

static void on_frontend_save(obs_data_t *save_data, bool saving, void *priv)
{
	(void)save_data;
	(void)priv;
	if (saving)
		save(); /* OBS saves at exit and whenever its scene collection is saved: the hotkeys' keys with it */
}

static void on_frontend_event(enum obs_frontend_event event, void *priv)
{
	(void)priv;
	if (event == OBS_FRONTEND_EVENT_FINISHED_LOADING)
		ensure_all();
}

void andross_score_register(void)
{
	char *path = obs_module_config_path("scores.json");
	if (path) {
		snprintf(sc.path, sizeof(sc.path), "%s", path);
		bfree(path);
	}
	if (sc.path[0] && os_file_exists(sc.path)) {
		sc.saved = obs_data_create_from_json_file_safe(sc.path, "bak");
		if (!sc.saved)
			blog(LOG_WARNING, "[andross] %s cannot be read: scores start without a best-of", sc.path);
	}
	ensure_all();
	obs_frontend_add_save_callback(on_frontend_save, NULL);
	obs_frontend_add_event_callback(on_frontend_event, NULL);
	sc.registered = true;
}

void andross_score_unregister(void)
{
	if (!sc.registered)
		return;
	sc.registered = false;
	obs_frontend_remove_save_callback(on_frontend_save, NULL);
	obs_frontend_remove_event_callback(on_frontend_event, NULL);
	pthread_mutex_lock(&sc.mutex);
	obs_hotkey_id keys[ANDROSS_MAX_CONNECTIONS * N_HOTKEYS];
	size_t n = 0;
	for (size_t i = 0; i < ANDROSS_MAX_CONNECTIONS; i++) {
		for (int k = 0; k < N_HOTKEYS && sc.e[i].used; k++)
			if (sc.e[i].hotkeys[k] != OBS_INVALID_HOTKEY_ID)
				keys[n++] = sc.e[i].hotkeys[k];
		sc.e[i].used = false;
	}
	pthread_mutex_unlock(&sc.mutex);
	for (size_t i = 0; i < n; i++)
		obs_hotkey_unregister(keys[i]);
	obs_data_release(sc.saved);
	sc.saved = NULL;
}

/* ---- the game's notes (UI thread) ---- */

static bool read_start(const char *json, struct set_score_player players[SLP_MAX_PLAYERS], bool *is_teams)
{
	struct json_doc doc;
	memset(players, 0, SLP_MAX_PLAYERS * sizeof(players[0]));
	bool ok = json_parse(&doc, json, strlen(json), NULL) == 0;
	const struct json_node *root = ok ? json_root(&doc) : NULL;
	const struct json_node *teams = root ? json_get(&doc, root, "isTeams") : NULL;
	*is_teams = teams && teams->type == JSON_BOOL && teams->b;
	const struct json_node *arr = root ? json_get(&doc, root, "players") : NULL;
	for (const struct json_node *p = arr ? json_first(&doc, arr) : NULL; p; p = json_next(&doc, p)) {
		const struct json_node *port = json_get(&doc, p, "port");
		const struct json_node *team = json_get(&doc, p, "teamId");
		const struct json_node *code = json_get(&doc, p, "connectCode");
		if (!port || port->type != JSON_INT || port->i < 1 || port->i > SLP_MAX_PLAYERS)
			continue;
		struct set_score_player *sp = &players[port->i - 1];
		sp->present = true;
		sp->port = (uint8_t)port->i;
		sp->team_id = team && team->type == JSON_INT ? (uint8_t)team->i : 0;
		if (code && code->type == JSON_STRING)
			snprintf(sp->connect_code, sizeof(sp->connect_code), "%s", code->str);
	}
	json_doc_free(&doc);
	return ok;
}

static size_t read_winners(const char *json, uint8_t ports[SLP_MAX_PLAYERS])
{
	struct json_doc doc;
	size_t n = 0;
	if (json_parse(&doc, json, strlen(json), NULL) == 0) {
		const struct json_node *arr = json_get(&doc, json_root(&doc), "winners");
		for (const struct json_node *w = arr ? json_first(&doc, arr) : NULL; w && n < SLP_MAX_PLAYERS;
		     w = json_next(&doc, w)) {
			const struct json_node *port = json_get(&doc, w, "port");
			if (port && port->type == JSON_INT && port->i >= 1 && port->i <= SLP_MAX_PLAYERS)
				ports[n++] = (uint8_t)port->i;
		}
	}
	json_doc_free(&doc);
	return n;
}

/* The set_end event of docs/events.md. */
static bool set_end_json(struct bytes *out, const struct set_score *s, int winner)
{
	struct json_writer jw;
	jw_init(&jw, out);
	jw_object_begin(&jw, NULL);
	jw_string(&jw, "type", "set_end");
	jw_int(&jw, "winnerSide", winner);
	set_score_json(&jw, s);
	jw_object_end(&jw);
	return jw.ok && bytes_append_byte(out, 0);
}

void andross_score_note(const struct andross_connection *c, const struct game_note *n)
{
	bool start = !strcmp(n->type, "game_start"), end = !strcmp(n->type, "game_end");
	if (!strcmp(n->type, "connection"))
		sweep(); /* connections come and go with these */
	struct set_score_player players[SLP_MAX_PLAYERS];
	uint8_t winners[SLP_MAX_PLAYERS];
	bool is_teams = false;
	size_t n_winners = 0;
	if (start && !read_start(n->json, players, &is_teams))
		return;
	if (end)
		n_winners = read_winners(n->json, winners);
	bool ended = false;
	int side = -1;
	struct set_score copy;
	pthread_mutex_lock(&sc.mutex);
	struct score_entry *e = entry_of(c);
	if (e && start)
		set_score_game_start(&e->s, players, is_teams);
	if (e && end)
		side = set_score_game_end(&e->s, winners, n_winners, &ended);
	if (e && (start || end))
		atomic_fetch_add(&sc.version, 1);
	if (e)
		copy = e->s;
	pthread_mutex_unlock(&sc.mutex);
	if (!ended)
		return;
	struct bytes json;
	bytes_init(&json, 0);
	if (set_end_json(&json, &copy, side)) {
		blog(LOG_INFO, "[andross] %s: set over, %u-%u (best of %u)", c->name, copy.sides[0].points,
		     copy.sides[1].points, copy.best_of);
		andross_events_emit(c, "set_end", (const char *)json.data);
	}
	bytes_free(&json);
}

bool andross_score_try(uint32_t id, struct andross_score_view *out)
{
	if (pthread_mutex_trylock(&sc.mutex) != 0)
		return false;
	out->version = atomic_load(&sc.version);
	struct score_entry *e = find_entry(id);
	for (unsigned port = 1; port <= SLP_MAX_PLAYERS; port++)
		out->scores[port - 1] = e ? set_score_of_port(&e->s, port) : -1;
	out->game = e ? set_score_game_number(&e->s) : 0;
	pthread_mutex_unlock(&sc.mutex);
	return true;
}

uint64_t andross_score_version(void)
{
	return atomic_load(&sc.version);
}

/* ---- vendor requests (obs-websocket's workers) ---- */

static void answer_error(obs_data_t *resp, const char *msg)
{
	obs_data_set_string(resp, "error", msg);
}

static enum obs_data_type field_type(obs_data_t *d, const char *key)
{
	obs_data_item_t *it = d ? obs_data_item_byname(d, key) : NULL;
	enum obs_data_type t = it ? obs_data_item_gettype(it) : OBS_DATA_NULL;
	obs_data_item_release(&it);
	return t;
}

/* A whole number field in [min, max]: absent (false), read (true), or wrong (false, error answered, *bad). */
static bool request_uint(obs_data_t *req, const char *key, unsigned min, unsigned max, unsigned *out, obs_data_t *resp,
			 bool *bad)
{
	enum obs_data_type t = field_type(req, key);
	if (t == OBS_DATA_NULL)
		return false;
	double v = t == OBS_DATA_NUMBER ? obs_data_get_double(req, key) : -1;
	if (t != OBS_DATA_NUMBER || v < min || v > max || v != (double)(unsigned)v) {
		char msg[160];
		snprintf(msg, sizeof(msg), "%s must be a whole number from %u to %u", key, min, max);
		answer_error(resp, msg);
		*bad = true;
		return false;
	}
	*out = (unsigned)v;
	return true;
}

/* The connection a request names with `id`, its entry made if needed; with sc.mutex held on success. */
static struct score_entry *request_entry(obs_data_t *req, obs_data_t *resp)
{
	bool bad = false;
	unsigned id = 0;
	if (!request_uint(req, "id", 1, UINT32_MAX, &id, resp, &bad)) {
		if (!bad)
			answer_error(resp, "id is required and must be a number");
		return NULL;
	}
	struct andross_connection c;
	if (!andross_connection_get(id, &c)) {
		char msg[64];
		snprintf(msg, sizeof(msg), "no connection %u", id);
		answer_error(resp, msg);
		return NULL;
	}
	pthread_mutex_lock(&sc.mutex);
	struct score_entry *e = entry_of(&c);
	if (!e) {
		pthread_mutex_unlock(&sc.mutex);
		answer_error(resp, "out of memory");
	}
	return e;
}

/* Answers the entry's score (GetScore's form) and releases sc.mutex. */
static void answer_score(obs_data_t *resp, struct score_entry *e)
{
	struct set_score copy = e->s;
	uint32_t id = e->id;
	pthread_mutex_unlock(&sc.mutex);
	struct bytes out;
	bytes_init(&out, 0);
	struct json_writer jw;
	jw_init(&jw, &out);
	jw_object_begin(&jw, NULL);
	jw_int(&jw, "id", id);
	set_score_json(&jw, &copy);
	jw_object_end(&jw);
	obs_data_t *d = jw.ok && bytes_append_byte(&out, 0) ? obs_data_create_from_json((const char *)out.data) : NULL;
	if (d)
		obs_data_apply(resp, d);
	else
		answer_error(resp, "out of memory");
	obs_data_release(d);
	bytes_free(&out);
}

void andross_req_get_score(obs_data_t *req, obs_data_t *resp, void *priv)
{
	(void)priv;
	struct score_entry *e = request_entry(req, resp);
	if (e)
		answer_score(resp, e);
}

void andross_req_set_score(obs_data_t *req, obs_data_t *resp, void *priv)
{
	(void)priv;
	bool bad = false;
	unsigned s1 = 0, s2 = 0, best_of = 0;
	bool has1 = request_uint(req, "score1", 0, SET_SCORE_MAX_POINTS, &s1, resp, &bad);
	bool has2 = !bad && request_uint(req, "score2", 0, SET_SCORE_MAX_POINTS, &s2, resp, &bad);
	bool has_best_of = !bad && request_uint(req, "bestOf", 0, SET_SCORE_MAX_BEST_OF, &best_of, resp, &bad);
	if (bad)
		return;
	if (!has1 && !has2 && !has_best_of) {
		answer_error(resp, "give score1, score2 and/or bestOf");
		return;
	}
	struct score_entry *e = request_entry(req, resp);
	if (!e)
		return;
	/* checked on a copy: a request that cannot be done changes nothing */
	struct set_score next = e->s;
	char err[160];
	int rc = 0;
	if (has_best_of)
		rc = set_score_set_best_of(&next, best_of, err, sizeof(err));
	if (rc == 0 && (has1 || has2))
		rc = set_score_set_points(&next, has1 ? s1 : next.sides[0].points, has2 ? s2 : next.sides[1].points,
					  err, sizeof(err));
	if (rc < 0) {
		pthread_mutex_unlock(&sc.mutex);
		answer_error(resp, err);
		return;
	}
	bool best_of_changed = e->s.best_of != next.best_of;
	e->s = next;
	atomic_fetch_add(&sc.version, 1);
	answer_score(resp, e);
	if (best_of_changed)
		save();
}

void andross_req_reset_score(obs_data_t *req, obs_data_t *resp, void *priv)
{
	(void)priv;
	struct score_entry *e = request_entry(req, resp);
	if (!e)
		return;
	set_score_reset(&e->s);
	atomic_fetch_add(&sc.version, 1);
	answer_score(resp, e);
}

void andross_req_swap_score(obs_data_t *req, obs_data_t *resp, void *priv)
{
	(void)priv;
	struct score_entry *e = request_entry(req, resp);
	if (!e)
		return;
	set_score_swap(&e->s);
	atomic_fetch_add(&sc.version, 1);
	answer_score(resp, e);
}
