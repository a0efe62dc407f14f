/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Hotkeys per connection, in OBS's hotkey settings: connect, disconnect, relay on, relay off. Four single hotkeys
 * rather than two pairs: each does one thing whatever the state (a Stream Deck or a script that presses "connect"
 * twice gets a connected console), and obs-websocket's TriggerHotkeyByName, which sends a press and no release,
 * works with them; libobs's pairs ignore the second half of a pair until the first is released.
 *
 * Names: andross.connection.<id>.connect / .disconnect / .relay_on / .relay_off, <id> being the connection's id
 * (GetConnections). They follow the connections list: the graphics thread's tick looks at the table (a trylock,
 * a hash of ids and names) and, when it changed, queues the UI thread, which registers the hotkeys of new
 * connections, renames those of renamed ones and unregisters those of removed ones.
 *
 * Bindings are saved in hotkeys.json in the module's config folder, beside connections.json, keyed by each
 * connection's name and URL: connections are the module's, not a scene collection's, so their keys must not change
 * with the scene collection (OBS's save callback would tie them to one); and ids are numbered in load order, so a
 * removed connection would hand its keys to the next one. Saved when bindings change (libobs's
 * hotkey_bindings_changed signal) and when the list changes; read once at load.
 *
 * Threads: the table below is the UI thread's. The callbacks run where libobs calls them (the UI thread for keys,
 * an obs-websocket worker for TriggerHotkeyByName), never on an engine thread, and change the connection through
 * the module's functions.
 */
#include "andross-obs.h"

#include <obs-module.h>
#include <util/dstr.h>
#include <util/platform.h>

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum hk_action { HK_CONNECT = 0, HK_DISCONNECT, HK_RELAY_ON, HK_RELAY_OFF, HK_ACTIONS };

static const char *const hk_suffix[HK_ACTIONS] = {"connect", "disconnect", "relay_on", "relay_off"};
static const char *const hk_key[HK_ACTIONS] = {"connect", "disconnect", "relayOn", "relayOff"}; /* hotkeys.json */
static const char *const hk_text[HK_ACTIONS] = {"Hotkey.Connect", "Hotkey.Disconnect", "Hotkey.RelayOn",
						"Hotkey.RelayOff"};

struct hk_conn {
	uint32_t id;
	char name[ENGINE_NAME_MAX];
	char url[ENGINE_URL_MAX];
	obs_hotkey_id keys[HK_ACTIONS];
};

static struct {
	struct hk_conn conns[ANDROSS_MAX_CONNECTIONS]; /* UI thread */
	size_t n;
	obs_data_t *saved; /* hotkeys.json as last read or written: {version, connections: [{name, url, connect, ...}]} */
	char path[ENGINE_PATH_MAX];
	bool started;
	atomic_bool running;
	atomic_bool sync_queued;
	atomic_bool save_queued;
	uint64_t seen_hash; /* graphics thread: the table's hash the last sync was asked for */
} hk;

/* ---- the callbacks (a UI thread, an obs-websocket worker) ---- */

static void hk_pressed(void *data, obs_hotkey_id id, obs_hotkey_t *hotkey, bool pressed)
{
	(void)id;
	(void)hotkey;
	if (!pressed || !atomic_load(&hk.running) || !andross)
		return;
	uintptr_t v = (uintptr_t)data;
	uint32_t conn = (uint32_t)(v / HK_ACTIONS);
	enum hk_action action = (enum hk_action)(v % HK_ACTIONS);
	char err[256] = "";
	int rc;
	if (action == HK_CONNECT || action == HK_DISCONNECT)
		rc = andross_connection_set_connected(conn, action == HK_CONNECT, err, sizeof(err));
	else
		rc = andross_connection_set_relay(conn, action == HK_RELAY_ON, NULL, NULL, 0, err, sizeof(err));
	if (rc < 0)
		blog(LOG_WARNING, "[andross] hotkey %s of connection %u: %s", hk_suffix[action], conn, err);
	else
		blog(LOG_INFO, "[andross] hotkey %s of connection %u", hk_suffix[action], conn);
}

/* ---- saving and loading (UI thread) ---- */

static void hk_save(void)
{
	if (!hk.path[0])
		return;
	obs_data_t *root = obs_data_create();
	obs_data_array_t *arr = obs_data_array_create();
	for (size_t i = 0; i < hk.n; i++) {
		const struct hk_conn *c = &hk.conns[i];
		obs_data_t *d = obs_data_create();
		obs_data_set_string(d, "name", c->name);
		obs_data_set_string(d, "url", c->url);
		for (int a = 0; a < HK_ACTIONS; a++) {
			obs_data_array_t *b = obs_hotkey_save(c->keys[a]);
			obs_data_set_array(d, hk_key[a], b);
			obs_data_array_release(b);
		}
		obs_data_array_push_back(arr, d);
		obs_data_release(d);
	}
	obs_data_set_int(root, "version", 1);
	obs_data_set_array(root, "connections", arr);
	obs_data_array_release(arr);
	const char *json = obs_data_get_json(root);
	if (json && (!hk.saved || strcmp(json, obs_data_get_json(hk.saved)) != 0))
		andross_write_file(hk.path, json, strlen(json), true, "hotkeys");
	obs_data_release(hk.saved);
	hk.saved = root;
}

/* The saved bindings of a connection: the entry with its name and URL, else the first with its name. */
static obs_data_t *hk_saved_entry(const struct hk_conn *c)
{
	obs_data_array_t *arr = hk.saved ? obs_data_get_array(hk.saved, "connections") : NULL;
	obs_data_t *by_name = NULL, *found = NULL;
	size_t n = arr ? obs_data_array_count(arr) : 0;
	for (size_t i = 0; i < n && !found; i++) {
		obs_data_t *d = obs_data_array_item(arr, i);
		if (strcmp(obs_data_get_string(d, "name"), c->name) != 0) {
			obs_data_release(d);
		} else if (!strcmp(obs_data_get_string(d, "url"), c->url)) {
			found = d;
		} else if (!by_name) {
			by_name = d;
		} else {
			obs_data_release(d);
		}
	}
	obs_data_array_release(arr);
	if (found) {
		obs_data_release(by_name);
		return found;
	}
	return by_name;
}

/* A hotkeys.json: {connections: [...]}, or NULL. */
static obs_data_t *hk_parse(const char *path)
{
	obs_data_t *d = os_file_exists(path) ? obs_data_create_from_json_file(path) : NULL;
	obs_data_array_t *arr = d ? obs_data_get_array(d, "connections") : NULL;
	if (!arr) {
		obs_data_release(d);
		return NULL;
	}
	obs_data_array_release(arr);
	return d;
}

/* Reads hotkeys.json; a damaged one is kept aside as hotkeys.json.damaged-<time> and the backup of the last save
 * (hotkeys.json.bak) is used instead, else nothing is bound. */
static void hk_read_file(void)
{
	if (!hk.path[0] || !os_file_exists(hk.path))
		return;
	hk.saved = hk_parse(hk.path);
	if (hk.saved)
		return;
	char stamp[32], aside[ENGINE_PATH_MAX + 64], bak[ENGINE_PATH_MAX + 8];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	snprintf(aside, sizeof(aside), "%s.damaged-%s", hk.path, stamp);
	snprintf(bak, sizeof(bak), "%s.bak", hk.path);
	bool kept = os_rename(hk.path, aside) == 0;
	hk.saved = hk_parse(bak);
	blog(LOG_WARNING, "[andross] %s cannot be read as andross's hotkeys%s%s; %s", hk.path, kept ? ": kept as " : "",
	     kept ? aside : "", hk.saved ? "using the backup of the last save" : "no hotkey is bound");
}

static void hk_save_task(void *param)
{
	(void)param;
	atomic_store(&hk.save_queued, false);
	if (atomic_load(&hk.running))
		hk_save();
}

static void hk_bindings_changed(void *data, calldata_t *cd)
{
	(void)data;
	obs_hotkey_t *key = calldata_ptr(cd, "hotkey");
	const char *name = key ? obs_hotkey_get_name(key) : NULL;
	if (!name || strncmp(name, "andross.connection.", 19) != 0 || !atomic_load(&hk.running))
		return;
	if (!atomic_exchange(&hk.save_queued, true))
		obs_queue_task(OBS_TASK_UI, hk_save_task, NULL, false);
}

/* ---- following the connections (UI thread) ---- */

static void hk_describe(const struct hk_conn *c, enum hk_action a, struct dstr *out)
{
	dstr_printf(out, obs_module_text(hk_text[a]), c->name);
}

static void hk_register(struct hk_conn *c)
{
	obs_data_t *saved = hk_saved_entry(c);
	for (int a = 0; a < HK_ACTIONS; a++) {
		char name[96];
		snprintf(name, sizeof(name), "andross.connection.%u.%s", c->id, hk_suffix[a]);
		struct dstr desc = {0};
		hk_describe(c, (enum hk_action)a, &desc);
		void *data = (void *)(uintptr_t)((uintptr_t)c->id * HK_ACTIONS + (uintptr_t)a);
		c->keys[a] = obs_hotkey_register_frontend(name, desc.array, hk_pressed, data);
		dstr_free(&desc);
		obs_data_array_t *b = saved ? obs_data_get_array(saved, hk_key[a]) : NULL;
		if (b && c->keys[a] != OBS_INVALID_HOTKEY_ID)
			obs_hotkey_load(c->keys[a], b);
		obs_data_array_release(b);
	}
	obs_data_release(saved);
}

static void hk_unregister(struct hk_conn *c)
{
	for (int a = 0; a < HK_ACTIONS; a++)
		if (c->keys[a] != OBS_INVALID_HOTKEY_ID)
			obs_hotkey_unregister(c->keys[a]);
}

static void hk_sync(void)
{
	uint32_t ids[ANDROSS_MAX_CONNECTIONS];
	size_t n = andross ? andross_connection_ids(ids, ANDROSS_MAX_CONNECTIONS) : 0;
	bool changed = false;
	/* removed ones go */
	for (size_t i = 0; i < hk.n;) {
		bool present = false;
		for (size_t j = 0; j < n && !present; j++)
			present = ids[j] == hk.conns[i].id;
		if (present) {
			i++;
			continue;
		}
		blog(LOG_INFO, "[andross] hotkeys of connection %u \"%s\" unregistered", hk.conns[i].id,
		     hk.conns[i].name);
		hk_unregister(&hk.conns[i]);
		memmove(&hk.conns[i], &hk.conns[i + 1], (hk.n - i - 1) * sizeof(hk.conns[0]));
		hk.n--;
		changed = true;
	}
	/* new ones come, renamed ones get new descriptions */
	for (size_t j = 0; j < n; j++) {
		struct andross_connection c;
		if (!andross_connection_get(ids[j], &c))
			continue;
		struct hk_conn *h = NULL;
		for (size_t i = 0; i < hk.n && !h; i++)
			if (hk.conns[i].id == c.id)
				h = &hk.conns[i];
		if (h) {
			if (!strcmp(h->name, c.name) && !strcmp(h->url, c.url))
				continue;
			snprintf(h->name, sizeof(h->name), "%s", c.name);
			snprintf(h->url, sizeof(h->url), "%s", c.url);
			for (int a = 0; a < HK_ACTIONS; a++) {
				struct dstr desc = {0};
				hk_describe(h, (enum hk_action)a, &desc);
				obs_hotkey_set_description(h->keys[a], desc.array);
				dstr_free(&desc);
			}
			changed = true;
			continue;
		}
		if (hk.n == ANDROSS_MAX_CONNECTIONS)
			continue;
		h = &hk.conns[hk.n++];
		memset(h, 0, sizeof(*h));
		h->id = c.id;
		snprintf(h->name, sizeof(h->name), "%s", c.name);
		snprintf(h->url, sizeof(h->url), "%s", c.url);
		hk_register(h);
		blog(LOG_INFO, "[andross] hotkeys of connection %u \"%s\" registered (andross.connection.%u.*)", h->id,
		     h->name, h->id);
		changed = true;
	}
	if (changed)
		hk_save();
}

static void hk_sync_task(void *param)
{
	(void)param;
	atomic_store(&hk.sync_queued, false);
	if (atomic_load(&hk.running))
		hk_sync();
}

/* FNV-1a over the connections' ids, names and URLs: what the hotkeys show or are keyed by. */
static uint64_t hk_hash_table(void)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < andross->n_conns; i++) {
		const struct andross_connection *c = &andross->conns[i];
		const unsigned char *parts[3] = {(const unsigned char *)&c->id, (const unsigned char *)c->name,
						 (const unsigned char *)c->url};
		size_t lens[3] = {sizeof(c->id), strlen(c->name) + 1, strlen(c->url) + 1};
		for (int p = 0; p < 3; p++)
			for (size_t k = 0; k < lens[p]; k++)
				h = (h ^ parts[p][k]) * 1099511628211ull;
	}
	return h;
}

/* Graphics thread, every frame: never waits (a busy table is looked at next frame). */
static void hk_tick(void *param, float seconds)
{
	(void)param;
	(void)seconds;
	if (!atomic_load(&hk.running) || !andross || pthread_mutex_trylock(&andross->lock) != 0)
		return;
	uint64_t h = hk_hash_table();
	pthread_mutex_unlock(&andross->lock);
	if (h == hk.seen_hash)
		return;
	hk.seen_hash = h;
	if (!atomic_exchange(&hk.sync_queued, true))
		obs_queue_task(OBS_TASK_UI, hk_sync_task, NULL, false);
}

void andross_hotkeys_start(void)
{
	char *path = obs_module_config_path("hotkeys.json");
	if (path)
		snprintf(hk.path, sizeof(hk.path), "%s", path);
	bfree(path);
	hk_read_file();
	atomic_store(&hk.running, true);
	/* the connections loaded at start-up are registered here, on the thread that loads modules (the UI thread) */
	hk_sync();
	pthread_mutex_lock(&andross->lock);
	hk.seen_hash = hk_hash_table();
	pthread_mutex_unlock(&andross->lock);
	signal_handler_connect(obs_get_signal_handler(), "hotkey_bindings_changed", hk_bindings_changed, NULL);
	obs_add_tick_callback(hk_tick, NULL);
	hk.started = true;
}

void andross_hotkeys_stop(void)
{
	if (!hk.started)
		return;
	atomic_store(&hk.running, false); /* a task still queued does nothing */
	obs_remove_tick_callback(hk_tick, NULL);
	signal_handler_disconnect(obs_get_signal_handler(), "hotkey_bindings_changed", hk_bindings_changed, NULL);
	for (size_t i = 0; i < hk.n; i++)
		hk_unregister(&hk.conns[i]);
	hk.n = 0;
	obs_data_release(hk.saved);
	hk.saved = NULL;
	hk.started = false;
}
