/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * andross OBS module entry points and its connections: the engine's lifetime, the saved connections
 * (connections.json in the module's config folder), and the operations the dock and obs-websocket share.
 */
#include "andross-obs.h"

#include "net/sock.h"
#include "slp_file.h"

#include <obs-frontend-api.h>
#include <util/dstr.h>
#include <util/platform.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#ifdef ANDROSS_HAVE_DOCK
/* ui/obs_dock.cpp: the Slippi dock (UI thread) */
void andross_dock_create(void);
void andross_dock_destroy(void);
#endif

#ifndef ANDROSS_VERSION
#error "ANDROSS_VERSION must come from the build (plugin/CMakeLists.txt passes the CMake project version)"
#endif

OBS_DECLARE_MODULE()
OBS_MODULE_USE_DEFAULT_LOCALE("andross", "en-US")

struct andross_obs *andross;

MODULE_EXPORT const char *obs_module_name(void)
{
	return "andross";
}

MODULE_EXPORT const char *obs_module_description(void)
{
	return obs_module_text("Andross.Description");
}

/* ---- engine callbacks (engine threads: no frontend call, no `ops`) ---- */

static void on_engine_log(void *ud, uint32_t session, int level, const char *message)
{
	(void)ud;
	struct andross_connection c;
	bool known = andross_connection_of_session(session, &c);
	blog(level == ENGINE_LOG_WARNING ? LOG_WARNING : LOG_INFO, "[andross] %s%s%s", known ? c.name : "",
	     known ? ": " : "", message);
}

static void on_engine_event(void *ud, uint32_t session, const char *type, const char *json, size_t len)
{
	(void)ud;
	if (!strcmp(type, "frame"))
		andross_events_frame(session, json, len);
}

static void on_engine_notify(void *ud, uint32_t session)
{
	(void)ud;
	andross_events_notify(session);
}

/* ---- files, on the disk thread ---- */

struct file_write {
	char *path;
	char *text;
	size_t len;
	bool keep_backup;
	char what[64];
};

static void write_task(void *param)
{
	struct file_write *w = param;
	if (os_quick_write_utf8_file_safe(w->path, w->text, w->len, false, "tmp", w->keep_backup ? "bak" : NULL))
		blog(LOG_INFO, "[andross] %s written: %s", w->what, w->path);
	else
		blog(LOG_WARNING, "[andross] cannot write %s %s", w->what, w->path);
	bfree(w->path);
	bfree(w->text);
	bfree(w);
}

void andross_write_file(const char *path, const char *text, size_t len, bool keep_backup, const char *what)
{
	struct file_write *w = bzalloc(sizeof(*w));
	w->path = bstrdup(path);
	w->text = bmemdup(text, len + 1);
	w->text[len] = 0;
	w->len = len;
	w->keep_backup = keep_backup;
	snprintf(w->what, sizeof(w->what), "%s", what);
	if (!andross || !andross->disk || !os_task_queue_queue_task(andross->disk, write_task, w))
		write_task(w); /* no disk thread (it could not start): here, rather than not at all */
}

/* ---- settings ---- */

/* The folder replays go to when none is set: OBS's recording folder, else the home folder. */
static void default_folder(char *out, size_t size)
{
	char *rec = obs_frontend_get_current_record_output_path();
	const char *home = getenv("HOME");
	snprintf(out, size, "%s", rec && *rec ? rec : home && *home ? home : ".");
	bfree(rec);
}

/* 127.0.0.1 and the first port from 53742 that no other connection listens on. */
static void default_listen(char *out, size_t size, uint32_t except_id)
{
	for (unsigned port = ANDROSS_RELAY_PORT_FIRST; port < 65535; port++) {
		bool taken = false;
		for (size_t i = 0; i < andross->n_conns && !taken; i++) {
			const struct andross_connection *c = &andross->conns[i];
			char host[NET_ADDR_MAX];
			uint16_t p = 0;
			taken = c->id != except_id &&
				net_parse_host_port(c->relay_listen, ANDROSS_RELAY_PORT_FIRST, host, sizeof(host),
						    &p) == 0 &&
				p == port;
		}
		if (!taken) {
			snprintf(out, size, "127.0.0.1:%u", port);
			return;
		}
	}
	snprintf(out, size, "127.0.0.1:0");
}

static void save_settings(void)
{
	if (!andross->config_path[0])
		return;
	obs_data_t *root = obs_data_create();
	obs_data_array_t *arr = obs_data_array_create();
	pthread_mutex_lock(&andross->lock);
	for (size_t i = 0; i < andross->n_conns; i++) {
		const struct andross_connection *c = &andross->conns[i];
		obs_data_t *d = obs_data_create();
		obs_data_set_int(d, "id", c->id); /* kept across restarts: scripts and scene collections name it */
		obs_data_set_string(d, "name", c->name);
		obs_data_set_string(d, "url", c->url);
		obs_data_t *relay = obs_data_create();
		obs_data_set_bool(relay, "enabled", c->relay_enabled);
		obs_data_set_string(relay, "listen", c->relay_listen);
		obs_data_set_obj(d, "relay", relay);
		obs_data_release(relay);
		obs_data_set_string(d, "folder", c->folder);
		obs_data_set_bool(d, "autoConnect", c->auto_connect);
		andross_rules_save(c->id, d);
		obs_data_array_push_back(arr, d);
		obs_data_release(d);
	}
	pthread_mutex_unlock(&andross->lock);
	obs_data_set_int(root, "version", 1);
	obs_data_set_array(root, "connections", arr);
	const char *json = obs_data_get_json(root);
	if (json)
		andross_write_file(andross->config_path, json, strlen(json), true, "connections");
	obs_data_array_release(arr);
	obs_data_release(root);
}

void andross_settings_save(void)
{
	pthread_mutex_lock(&andross->ops);
	save_settings();
	pthread_mutex_unlock(&andross->ops);
}

/* ---- the engine side of a connection (under `ops`) ---- */

static size_t running_sessions(void)
{
	size_t n = 0;
	for (size_t i = 0; i < andross->n_conns; i++)
		n += andross->conns[i].session != 0;
	return n;
}

/* The engine's options for connection c, under `ops`: while OBS records, its replays go beside the video, named
 * after it (and after the connection when several run). */
static void session_options(const struct andross_connection *c, struct engine_session_options *o)
{
	engine_session_options_init(o);
	o->tag = c->id;
	snprintf(o->name, sizeof(o->name), "%s", c->name);
	snprintf(o->url, sizeof(o->url), "%s", c->url);
	snprintf(o->out_dir, sizeof(o->out_dir), "%s", c->folder);
	o->frame_events = atomic_load(&andross->frame_events); /* a frame's JSON only while a client wants it */
	o->frame_events_min_ms = 1000u / (uint32_t)atomic_load(&andross->frames_per_second); /* and only when due */
	o->keep_history = true; /* switching the relay on mid-game serves the game from its start */
	o->relay.enabled = c->relay_enabled;
	o->relay.options.history_bytes = 32u * 1024u * 1024u;
	o->relay.options.max_clients = 64; /* overlays, bots, a second PC, a tournament's tools */
	if (andross->redirect_dir[0]) {
		char name[ENGINE_NAME_MAX];
		slp_file_safe_name(name, sizeof(name), c->name, "connection");
		snprintf(o->out_dir, sizeof(o->out_dir), "%s", andross->redirect_dir);
		if (running_sessions() > 1 || (running_sessions() == 1 && !c->session))
			snprintf(o->file_name, sizeof(o->file_name), "%.180s - %.60s", andross->redirect_base, name);
		else
			snprintf(o->file_name, sizeof(o->file_name), "%s", andross->redirect_base);
	}
	char host[NET_ADDR_MAX];
	uint16_t port = ANDROSS_RELAY_PORT_FIRST;
	if (net_parse_host_port(c->relay_listen, ANDROSS_RELAY_PORT_FIRST, host, sizeof(host), &port) == 0) {
		snprintf(o->relay.host, sizeof(o->relay.host), "%s", host);
		o->relay.port = port;
	}
}

static int start_session(struct andross_connection *c, char *err, size_t err_size)
{
	struct engine_session_options o;
	session_options(c, &o);
	uint32_t session = engine_add(andross->engine, &o, err, err_size);
	if (!session)
		return -1;
	pthread_mutex_lock(&andross->lock);
	c->session = session;
	pthread_mutex_unlock(&andross->lock);
	return 0;
}

static struct andross_connection *find(uint32_t id)
{
	for (size_t i = 0; i < andross->n_conns; i++)
		if (andross->conns[i].id == id)
			return &andross->conns[i];
	return NULL;
}

/* Under `ops`: connection id, or NULL with err saying there is none. */
static struct andross_connection *find_or_err(uint32_t id, char *err, size_t err_size)
{
	struct andross_connection *c = find(id);
	if (!c)
		snprintf(err, err_size, "no connection %u", id);
	return c;
}

/* Under `ops`: gives every running session its options again (after a change that applies to all of them). */
static void update_running(const char *what)
{
	for (size_t i = 0; i < andross->n_conns; i++) {
		struct andross_connection *c = &andross->conns[i];
		if (!c->session)
			continue;
		struct engine_session_options o;
		session_options(c, &o);
		char err[256];
		if (engine_update(andross->engine, c->session, &o, err, sizeof(err)) < 0)
			blog(LOG_WARNING, "[andross] %s: cannot %s: %s", c->name, what, err);
	}
}

/* The fields of r that are wrong on their own (before the engine tries them). */
static int check_request(const struct andross_connection_request *r, char *err, size_t err_size)
{
	if (r->has_url && !r->c.url[0]) {
		snprintf(err, err_size, "url must not be empty");
		return -1;
	}
	char host[NET_ADDR_MAX];
	uint16_t port;
	if (r->has_relay_listen &&
	    net_parse_host_port(r->c.relay_listen, ANDROSS_RELAY_PORT_FIRST, host, sizeof(host), &port) < 0) {
		snprintf(err, err_size, "relay.listen takes HOST:PORT, not '%s'", r->c.relay_listen);
		return -1;
	}
	return 0;
}

/* Applies the fields r gives onto c. */
static void apply_request(struct andross_connection *c, const struct andross_connection_request *r)
{
	if (r->has_name)
		snprintf(c->name, sizeof(c->name), "%s", r->c.name);
	if (r->has_url)
		snprintf(c->url, sizeof(c->url), "%s", r->c.url);
	if (r->has_relay_enabled)
		c->relay_enabled = r->c.relay_enabled;
	if (r->has_relay_listen)
		snprintf(c->relay_listen, sizeof(c->relay_listen), "%s", r->c.relay_listen);
	if (r->has_folder)
		snprintf(c->folder, sizeof(c->folder), "%s", r->c.folder);
	if (r->has_auto_connect)
		c->auto_connect = r->c.auto_connect;
}

uint32_t andross_connection_add(const struct andross_connection_request *r, char *err, size_t err_size)
{
	if (!r->has_name || !r->has_url) {
		snprintf(err, err_size, "%s is required", !r->has_name ? "name" : "url");
		return 0;
	}
	if (check_request(r, err, err_size) < 0)
		return 0;
	pthread_mutex_lock(&andross->ops);
	uint32_t id = 0;
	if (andross->n_conns == ANDROSS_MAX_CONNECTIONS) {
		snprintf(err, err_size, "too many connections (at most %d)", ANDROSS_MAX_CONNECTIONS);
		goto out;
	}
	struct andross_connection c = {.auto_connect = true};
	apply_request(&c, r);
	if (!r->has_folder || !c.folder[0])
		default_folder(c.folder, sizeof(c.folder));
	if (!r->has_relay_listen || !c.relay_listen[0])
		default_listen(c.relay_listen, sizeof(c.relay_listen), 0);
	c.id = andross->next_id;
	/* in the table before its session starts: its first events find it (by the session's tag) */
	pthread_mutex_lock(&andross->lock);
	struct andross_connection *slot = &andross->conns[andross->n_conns++];
	*slot = c;
	pthread_mutex_unlock(&andross->lock);
	/* connected at once, auto-connect or not: it is being set up now */
	if (start_session(slot, err, err_size) < 0) {
		pthread_mutex_lock(&andross->lock);
		andross->n_conns--;
		pthread_mutex_unlock(&andross->lock);
		goto out;
	}
	andross->next_id++;
	id = c.id;
	blog(LOG_INFO, "[andross] connection %u \"%s\" added: %s", id, c.name, c.url);
	save_settings();
out:
	pthread_mutex_unlock(&andross->ops);
	return id;
}

int andross_connection_update(uint32_t id, const struct andross_connection_request *r, char *err, size_t err_size)
{
	if (check_request(r, err, err_size) < 0)
		return -1;
	pthread_mutex_lock(&andross->ops);
	int rc = -1;
	struct andross_connection *c = find_or_err(id, err, err_size);
	if (!c)
		goto out;
	struct andross_connection next = *c;
	apply_request(&next, r);
	if (c->session) {
		struct engine_session_options o;
		session_options(&next, &o);
		if (engine_update(andross->engine, c->session, &o, err, err_size) < 0)
			goto out;
	}
	pthread_mutex_lock(&andross->lock);
	*c = next;
	pthread_mutex_unlock(&andross->lock);
	rc = 0;
	save_settings();
out:
	pthread_mutex_unlock(&andross->ops);
	return rc;
}

int andross_connection_remove(uint32_t id, char *err, size_t err_size)
{
	pthread_mutex_lock(&andross->ops);
	int rc = -1;
	struct andross_connection *c = find_or_err(id, err, err_size);
	if (!c)
		goto out;
	if (c->session)
		engine_remove(andross->engine, c->session);
	pthread_mutex_lock(&andross->lock);
	blog(LOG_INFO, "[andross] connection %u \"%s\" removed", c->id, c->name);
	*c = andross->conns[--andross->n_conns];
	pthread_mutex_unlock(&andross->lock);
	andross_rules_forget(id);
	rc = 0;
	save_settings();
out:
	pthread_mutex_unlock(&andross->ops);
	return rc;
}

int andross_connection_set_relay(uint32_t id, bool enabled, const char *listen, char *bound, size_t bound_size,
				 char *err, size_t err_size)
{
	char host[NET_ADDR_MAX] = "";
	uint16_t port = 0;
	if (listen && net_parse_host_port(listen, ANDROSS_RELAY_PORT_FIRST, host, sizeof(host), &port) < 0) {
		snprintf(err, err_size, "listen takes HOST:PORT, not '%s'", listen);
		return -1;
	}
	pthread_mutex_lock(&andross->ops);
	int rc = -1;
	struct andross_connection *c = find_or_err(id, err, err_size);
	if (!c)
		goto out;
	char want[ENGINE_ADDRESS_MAX];
	snprintf(want, sizeof(want), "%s", listen ? listen : c->relay_listen);
	if (!listen && net_parse_host_port(c->relay_listen, ANDROSS_RELAY_PORT_FIRST, host, sizeof(host), &port) < 0)
		port = 0;
	if (c->session && engine_set_relay(andross->engine, c->session, enabled, host[0] ? host : NULL, port, bound,
					   bound_size, err, err_size) < 0)
		goto out;
	if (!c->session && bound && bound_size)
		snprintf(bound, bound_size, "%s", enabled ? want : "");
	pthread_mutex_lock(&andross->lock);
	c->relay_enabled = enabled;
	snprintf(c->relay_listen, sizeof(c->relay_listen), "%s", want);
	pthread_mutex_unlock(&andross->lock);
	rc = 0;
	save_settings();
out:
	pthread_mutex_unlock(&andross->ops);
	return rc;
}

bool andross_connection_get(uint32_t id, struct andross_connection *out)
{
	pthread_mutex_lock(&andross->lock);
	struct andross_connection *c = find(id);
	if (c)
		*out = *c;
	pthread_mutex_unlock(&andross->lock);
	return c != NULL;
}

size_t andross_connection_ids(uint32_t *ids, size_t max)
{
	pthread_mutex_lock(&andross->lock);
	size_t n = 0;
	for (size_t i = 0; i < andross->n_conns && n < max; i++)
		ids[n++] = andross->conns[i].id;
	pthread_mutex_unlock(&andross->lock);
	return n;
}

int andross_connection_set_connected(uint32_t id, bool connected, char *err, size_t err_size)
{
	pthread_mutex_lock(&andross->ops);
	int rc = -1;
	struct andross_connection *c = find_or_err(id, err, err_size);
	if (!c)
		goto out;
	rc = 0;
	if (connected && !c->session) {
		rc = start_session(c, err, err_size);
		if (rc == 0)
			blog(LOG_INFO, "[andross] connection %u \"%s\" connected: %s", c->id, c->name, c->url);
	} else if (!connected && c->session) {
		engine_remove(andross->engine, c->session); /* its recorder finishes the replay on the reaper thread */
		pthread_mutex_lock(&andross->lock);
		c->session = 0;
		pthread_mutex_unlock(&andross->lock);
		blog(LOG_INFO, "[andross] connection %u \"%s\" disconnected", c->id, c->name);
	}
out:
	pthread_mutex_unlock(&andross->ops);
	return rc;
}

bool andross_connection_status(uint32_t id, struct andross_connection_status *out)
{
	memset(out, 0, sizeof(*out));
	if (!andross_connection_get(id, &out->c))
		return false;
	out->running = out->c.session && andross->engine && engine_status(andross->engine, out->c.session, &out->s);
	return true;
}

void andross_connections_frame_events(bool enabled, int per_second)
{
	pthread_mutex_lock(&andross->ops);
	bool changed = atomic_exchange(&andross->frame_events, enabled) != enabled;
	changed = atomic_exchange(&andross->frames_per_second, per_second) != per_second || changed;
	if (changed)
		update_running("switch frame events");
	pthread_mutex_unlock(&andross->ops);
}

bool andross_connection_of_session(uint32_t session, struct andross_connection *out)
{
	uint64_t tag;
	if (!andross || !andross->engine || !session || !engine_session_tag(andross->engine, session, &tag))
		return false;
	return andross_connection_get((uint32_t)tag, out);
}

void andross_connections_redirect(const char *dir, const char *video_base)
{
	pthread_mutex_lock(&andross->ops);
	snprintf(andross->redirect_dir, sizeof(andross->redirect_dir), "%s", dir ? dir : "");
	snprintf(andross->redirect_base, sizeof(andross->redirect_base), "%s", dir && video_base ? video_base : "");
	update_running(dir ? "point its replays at the recording's folder" : "point its replays back at its folder");
	pthread_mutex_unlock(&andross->ops);
}

/* ---- loading the saved connections ---- */

/* Keeps a damaged settings file beside it, as connections.json.damaged-<time>. */
static void keep_damaged(const char *path)
{
	char stamp[32], to[ENGINE_PATH_MAX + 64];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	snprintf(to, sizeof(to), "%s.damaged-%s", path, stamp);
	if (os_rename(path, to) == 0)
		blog(LOG_WARNING,
		     "[andross] %s cannot be read as andross's connections: starting with none; the file is "
		     "kept as %s",
		     path, to);
	else
		blog(LOG_WARNING, "[andross] %s cannot be read as andross's connections: starting with none", path);
}

/* A field of a saved connection is used when it has the right type; a wrong one is noted (absent is fine). */
static bool saved_field(obs_data_t *d, const char *key, enum obs_data_type want, struct dstr *wrong)
{
	obs_data_item_t *it = obs_data_item_byname(d, key);
	enum obs_data_type t = it ? obs_data_item_gettype(it) : OBS_DATA_NULL;
	obs_data_item_release(&it);
	if (t != want && t != OBS_DATA_NULL)
		dstr_catf(wrong, "%s%s", wrong->len ? ", " : "", key);
	return t == want;
}

static const char *saved_string(obs_data_t *d, const char *key, const char *def, struct dstr *wrong)
{
	return saved_field(d, key, OBS_DATA_STRING, wrong) ? obs_data_get_string(d, key) : def;
}

static bool saved_bool(obs_data_t *d, const char *key, bool def, struct dstr *wrong)
{
	return saved_field(d, key, OBS_DATA_BOOLEAN, wrong) ? obs_data_get_bool(d, key) : def;
}

static void load_settings(void)
{
	if (!andross->config_path[0] || !os_file_exists(andross->config_path))
		return;
	char *text = os_quick_read_utf8_file(andross->config_path);
	obs_data_t *root = text ? obs_data_create_from_json(text) : NULL;
	bfree(text);
	obs_data_array_t *arr = root ? obs_data_get_array(root, "connections") : NULL;
	if (!arr) {
		obs_data_release(root);
		keep_damaged(andross->config_path);
		return;
	}
	struct dstr wrong = {0};
	size_t count = obs_data_array_count(arr);
	for (size_t i = 0; i < count && andross->n_conns < ANDROSS_MAX_CONNECTIONS; i++) {
		obs_data_t *d = obs_data_array_item(arr, i);
		struct andross_connection c = {0};
		/* the saved id when it is a good one and not taken; else one after the highest (below) */
		long long id = obs_data_has_user_value(d, "id") ? obs_data_get_int(d, "id") : 0;
		if (id >= 1 && id < (long long)UINT32_MAX && !find((uint32_t)id))
			c.id = (uint32_t)id;
		else if (obs_data_has_user_value(d, "id"))
			dstr_catf(&wrong, "%sid %lld (a new one given)", wrong.len ? ", " : "", id);
		const char *url = saved_string(d, "url", "", &wrong);
		snprintf(c.url, sizeof(c.url), "%s", url);
		snprintf(c.name, sizeof(c.name), "%s", saved_string(d, "name", c.url, &wrong));
		obs_data_t *relay = obs_data_get_obj(d, "relay");
		if (relay) {
			c.relay_enabled = saved_bool(relay, "enabled", false, &wrong);
			snprintf(c.relay_listen, sizeof(c.relay_listen), "%s",
				 saved_string(relay, "listen", "", &wrong));
			obs_data_release(relay);
		}
		snprintf(c.folder, sizeof(c.folder), "%s", saved_string(d, "folder", "", &wrong));
		c.auto_connect = saved_bool(d, "autoConnect", true, &wrong);
		if (c.url[0] && !andross_rules_load(c.id, d))
			dstr_catf(&wrong, "%srules", wrong.len ? ", " : "");
		obs_data_release(d);
		if (!c.url[0]) {
			dstr_catf(&wrong, "%sa connection without a url (left out)", wrong.len ? ", " : "");
			continue;
		}
		if (!c.folder[0])
			default_folder(c.folder, sizeof(c.folder));
		if (!c.relay_listen[0])
			default_listen(c.relay_listen, sizeof(c.relay_listen), 0);
		andross->conns[andross->n_conns++] = c;
		if (c.id >= andross->next_id)
			andross->next_id = c.id + 1;
	}
	for (size_t i = 0; i < andross->n_conns; i++)
		if (!andross->conns[i].id)
			andross->conns[i].id = andross->next_id++;
	obs_data_array_release(arr);
	obs_data_release(root);
	if (wrong.len) {
		blog(LOG_WARNING, "[andross] %s: wrong values took their defaults (%s)", andross->config_path,
		     wrong.array);
		/* the file as it was stays beside the one saved with the defaults */
		char copy[ENGINE_PATH_MAX + 64];
		snprintf(copy, sizeof(copy), "%s.damaged-%ld", andross->config_path, (long)time(NULL));
		os_copyfile(andross->config_path, copy);
		save_settings();
	}
	dstr_free(&wrong);
}

/* Connects the saved connections that connect at start-up. */
static void start_saved(void)
{
	pthread_mutex_lock(&andross->ops);
	for (size_t i = 0; i < andross->n_conns; i++) {
		struct andross_connection *c = &andross->conns[i];
		char err[256];
		if (c->auto_connect && start_session(c, err, sizeof(err)) < 0)
			blog(LOG_WARNING, "[andross] %s: cannot start: %s", c->name, err);
	}
	pthread_mutex_unlock(&andross->ops);
}

/* ---- module lifetime ---- */

/* ANDROSS_REALTIME: unset, 1, on, yes or true: realtime scheduling where granted; 0, off, no or false: none. */
static bool realtime_wanted(const char *v)
{
	if (!v || !*v)
		return true;
	static const char *const off[] = {"0", "off", "no", "false"}, *const on[] = {"1", "on", "yes", "true"};
	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(v, off[i])) {
			blog(LOG_INFO, "[andross] realtime scheduling: off (ANDROSS_REALTIME=%s)", v);
			return false;
		}
		if (!strcasecmp(v, on[i]))
			return true;
	}
	blog(LOG_WARNING,
	     "[andross] ANDROSS_REALTIME=%s is none of 0, 1, on, off, yes, no, true, false: realtime "
	     "scheduling stays on",
	     v);
	return true;
}

bool obs_module_load(void)
{
	blog(LOG_INFO, "[andross] module loaded (version %s, libobs %s)", ANDROSS_VERSION, obs_get_version_string());
	andross = bzalloc(sizeof(*andross));
	pthread_mutex_init(&andross->ops, NULL);
	pthread_mutex_init(&andross->lock, NULL);
	andross->next_id = 1;
	atomic_init(&andross->frames_per_second, 10);
	andross->disk = os_task_queue_create();
	char *config = obs_module_config_path("connections.json");
	if (config) {
		char *dir = obs_module_config_path("");
		if (dir)
			os_mkdirs(dir);
		bfree(dir);
		snprintf(andross->config_path, sizeof(andross->config_path), "%s", config);
		bfree(config);
	}
	/* the recorders at realtime priority 1 and the events thread at 2 where the system grants it (the README's
	 * "Realtime scheduling"); ANDROSS_REALTIME=0 keeps them at normal scheduling */
	int realtime = realtime_wanted(getenv("ANDROSS_REALTIME")) ? 1 : 0;
	struct engine_options eo = {.recorder_realtime_priority = realtime};
	char *demo = obs_module_file("demo");
	if (demo)
		snprintf(eo.demo_dir, sizeof(eo.demo_dir), "%s", demo);
	bfree(demo);
	struct engine_callbacks cb = {.event = on_engine_event,
				      .notify = on_engine_notify,
				      .log = on_engine_log,
				      .ud = NULL};
	char err[256];
	andross->engine = engine_create(&eo, &cb, err, sizeof(err));
	if (!andross->engine || engine_start(andross->engine, err, sizeof(err)) < 0) {
		blog(LOG_ERROR, "[andross] cannot start: %s", err);
		engine_destroy(andross->engine);
		os_task_queue_destroy(andross->disk);
		pthread_mutex_destroy(&andross->ops);
		pthread_mutex_destroy(&andross->lock);
		bfree(andross);
		andross = NULL;
		return false;
	}
	/* without it no signal or vendor event goes out; the rest works */
	andross_events_start(realtime ? realtime + 1 : 0);
	andross_recording_register();
	andross_rules_start(); /* before the saved connections: they load their rules */
	load_settings();
	start_saved();
	andross_filter_register();
	andross_hotkeys_start();
	andross_score_register(); /* after the saved connections: a reset hotkey each */
	andross_text_register();
	blog(LOG_INFO, "[andross] engine started: %zu connection%s", andross->n_conns,
	     andross->n_conns == 1 ? "" : "s");
	return true;
}

void obs_module_post_load(void)
{
	if (andross)
		andross_vendor_register();
#ifdef ANDROSS_HAVE_DOCK
	if (andross)
		andross_dock_create();
#endif
}

void obs_module_unload(void)
{
	if (!andross) {
		blog(LOG_INFO, "[andross] module unloaded");
		return;
	}
#ifdef ANDROSS_HAVE_DOCK
	andross_dock_destroy(); /* before shutting_down: the dock stops reading status first */
#endif
	atomic_store(&andross->shutting_down, true);
	andross_hotkeys_stop();
	andross_events_stop();
	andross_rules_stop();
	andross_recording_unregister();
	andross_score_unregister();
	andross_vendor_unregister();
	uint64_t t0 = os_gettime_ns();
	engine_destroy(andross->engine); /* closes sources and relays, finishes every replay, joins every thread */
	andross->engine = NULL;
	blog(LOG_INFO, "[andross] engine stopped in %llu ms: every thread joined, every replay finished",
	     (unsigned long long)((os_gettime_ns() - t0) / 1000000));
	os_task_queue_destroy(andross->disk); /* writes what is queued (settings, a last sidecar), then joins */
	andross->disk = NULL;
	pthread_mutex_destroy(&andross->ops);
	pthread_mutex_destroy(&andross->lock);
	struct andross_obs *a = andross;
	andross = NULL;
	bfree(a);
	blog(LOG_INFO, "[andross] module unloaded");
}
