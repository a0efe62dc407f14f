/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "obs_glue.h"

#include "andross-obs.h"

#include <stdio.h>
#include <string.h>

bool dock_glue_ready(void)
{
	return andross && andross->engine && !atomic_load(&andross->shutting_down);
}

size_t dock_glue_ids(uint32_t *ids, size_t max)
{
	return dock_glue_ready() ? andross_connection_ids(ids, max) : 0;
}

bool dock_glue_get_status(uint32_t id, struct dock_glue_status *out)
{
	if (!dock_glue_ready())
		return false;
	struct andross_connection_status *st = bzalloc(sizeof(*st));
	bool ok = andross_connection_status(id, st);
	if (ok) {
		struct dock_glue_settings *c = &out->c;
		snprintf(c->name, sizeof(c->name), "%s", st->c.name);
		snprintf(c->url, sizeof(c->url), "%s", st->c.url);
		c->relay_enabled = st->c.relay_enabled;
		snprintf(c->relay_listen, sizeof(c->relay_listen), "%s", st->c.relay_listen);
		snprintf(c->folder, sizeof(c->folder), "%s", st->c.folder);
		c->auto_connect = st->c.auto_connect;
		out->running = st->running;
		out->s = st->s;
	}
	bfree(st);
	return ok;
}

static void request_of(const struct dock_glue_settings *s, struct andross_connection_request *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->c.name, sizeof(r->c.name), "%s", s->name);
	snprintf(r->c.url, sizeof(r->c.url), "%s", s->url);
	r->c.relay_enabled = s->relay_enabled;
	snprintf(r->c.relay_listen, sizeof(r->c.relay_listen), "%s", s->relay_listen);
	snprintf(r->c.folder, sizeof(r->c.folder), "%s", s->folder);
	r->c.auto_connect = s->auto_connect;
	r->has_name = r->has_url = r->has_relay_enabled = r->has_auto_connect = true;
	r->has_relay_listen = s->relay_listen[0] != 0; /* "" keeps (or picks) the module's address */
	r->has_folder = s->folder[0] != 0;
}

static bool not_ready(char *err, size_t err_size)
{
	if (dock_glue_ready())
		return false;
	snprintf(err, err_size, "andross is not running");
	return true;
}

uint32_t dock_glue_add(const struct dock_glue_settings *s, char *err, size_t err_size)
{
	if (not_ready(err, err_size))
		return 0;
	struct andross_connection_request r;
	request_of(s, &r);
	return andross_connection_add(&r, err, err_size);
}

int dock_glue_update(uint32_t id, const struct dock_glue_settings *s, char *err, size_t err_size)
{
	if (not_ready(err, err_size))
		return -1;
	struct andross_connection_request r;
	request_of(s, &r);
	return andross_connection_update(id, &r, err, err_size);
}

int dock_glue_remove(uint32_t id, char *err, size_t err_size)
{
	return not_ready(err, err_size) ? -1 : andross_connection_remove(id, err, err_size);
}

int dock_glue_set_relay(uint32_t id, bool on, char *err, size_t err_size)
{
	char bound[ENGINE_ADDRESS_MAX];
	return not_ready(err, err_size)
		       ? -1
		       : andross_connection_set_relay(id, on, NULL, bound, sizeof(bound), err, err_size);
}

int dock_glue_set_connected(uint32_t id, bool on, char *err, size_t err_size)
{
	return not_ready(err, err_size) ? -1 : andross_connection_set_connected(id, on, err, err_size);
}

int dock_glue_discovery_start(char *err, size_t err_size)
{
	return not_ready(err, err_size) ? -1 : engine_discovery_start(andross->engine, NULL, 0, err, err_size);
}

void dock_glue_discovery_stop(void)
{
	if (andross && andross->engine)
		engine_discovery_stop(andross->engine);
}

size_t dock_glue_discovered(struct discovery_console *out, size_t max)
{
	return dock_glue_ready() ? engine_discovery_list(andross->engine, out, max) : 0;
}

const char *dock_glue_text(const char *key)
{
	return obs_module_text(key);
}

char *dock_glue_rules(uint32_t id)
{
	return dock_glue_ready() ? andross_rules_get_json(id) : NULL;
}

int dock_glue_set_rules(uint32_t id, const char *json, char *err, size_t err_size)
{
	return not_ready(err, err_size) ? -1 : andross_rules_set_json(id, json, false, err, err_size);
}

void dock_glue_free(void *p)
{
	bfree(p);
}

char *dock_glue_score(uint32_t id, enum dock_glue_score_op op, char *err, size_t err_size)
{
	if (not_ready(err, err_size))
		return NULL;
	obs_data_t *req = obs_data_create();
	obs_data_t *resp = obs_data_create();
	obs_data_set_int(req, "id", id);
	if (op == DOCK_GLUE_SCORE_RESET)
		andross_req_reset_score(req, resp, NULL);
	else if (op == DOCK_GLUE_SCORE_SWAP)
		andross_req_swap_score(req, resp, NULL);
	else
		andross_req_get_score(req, resp, NULL);
	const char *e = obs_data_get_string(resp, "error");
	const char *json = *e ? NULL : obs_data_get_json(resp);
	char *out = json ? bstrdup(json) : NULL;
	if (!out)
		snprintf(err, err_size, "%s", *e ? e : "out of memory");
	obs_data_release(req);
	obs_data_release(resp);
	return out;
}

/* ---- GetDock ---- */

static pthread_mutex_t dump_lock = PTHREAD_MUTEX_INITIALIZER;
static char *dump_json; /* under dump_lock */
static proc_handler_t *websocket_ph;
static bool registered;
static atomic_bool reset_asked;

bool dock_glue_take_reset(void)
{
	return atomic_exchange(&reset_asked, false);
}

void dock_glue_set_dump(const char *json)
{
	char *copy = bstrdup(json);
	pthread_mutex_lock(&dump_lock);
	char *old = dump_json;
	dump_json = copy;
	pthread_mutex_unlock(&dump_lock);
	bfree(old);
}

/* obs-websocket's worker thread: never touches Qt, only the copy. */
static void get_dock(obs_data_t *request, obs_data_t *response, void *priv)
{
	(void)priv;
	if (obs_data_get_bool(request, "resetHeartbeat"))
		atomic_store(&reset_asked, true); /* the UI thread starts again at its next dump, within 100 ms */
	pthread_mutex_lock(&dump_lock);
	obs_data_t *d = dump_json ? obs_data_create_from_json(dump_json) : NULL;
	pthread_mutex_unlock(&dump_lock);
	if (!d) {
		obs_data_set_string(response, "error", "the dock is not there (OBS without its frontend?)");
		return;
	}
	obs_data_set_obj(response, "dock", d);
	obs_data_release(d);
}

struct vendor_callback {
	void (*callback)(obs_data_t *request, obs_data_t *response, void *priv);
	void *priv;
};

static bool vendor_call(const char *proc, calldata_t *cd)
{
	void *vendor = andross ? atomic_load(&andross->vendor) : NULL;
	if (!websocket_ph || !vendor)
		return false;
	calldata_set_ptr(cd, "vendor", vendor);
	proc_handler_call(websocket_ph, proc, cd);
	return calldata_bool(cd, "success");
}

void dock_glue_vendor_register(void)
{
	if (registered || !andross || !atomic_load(&andross->vendor))
		return;
	calldata_t cd = {0};
	if (proc_handler_call(obs_get_proc_handler(), "obs_websocket_api_get_ph", &cd))
		websocket_ph = calldata_ptr(&cd, "ph");
	calldata_free(&cd);
	struct vendor_callback cb = {.callback = get_dock, .priv = NULL};
	calldata_t rcd = {0};
	calldata_set_string(&rcd, "type", "GetDock");
	calldata_set_ptr(&rcd, "callback", &cb);
	registered = vendor_call("vendor_request_register", &rcd);
	calldata_free(&rcd);
	if (!registered)
		blog(LOG_WARNING, "[andross] the dock's GetDock request is not registered");
}

void dock_glue_vendor_unregister(void)
{
	if (registered && obs_get_module("obs-websocket")) {
		calldata_t cd = {0};
		calldata_set_string(&cd, "type", "GetDock");
		vendor_call("vendor_request_unregister", &cd);
		calldata_free(&cd);
	}
	registered = false;
	pthread_mutex_lock(&dump_lock);
	bfree(dump_json);
	dump_json = NULL;
	pthread_mutex_unlock(&dump_lock);
}
