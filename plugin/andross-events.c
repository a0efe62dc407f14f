/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Events out of OBS (docs/obs-websocket.md): the sessions' mailboxes are drained on the module's events thread
 * into global OBS signals, then into obs-websocket vendor events on the vendor thread and into notes for OBS's UI
 * thread; frame events go from the recorder thread to the vendor thread, at most N a second per connection, when a
 * client asked for them. And the vendor's requests, on obs-websocket's
 * worker threads. The vendor API is reached through obs-websocket's procs (it works without obs-websocket).
 */
#include "andross-obs.h"

#include "json_writer.h"
#include "net/loop.h"

#include <obs.h>
#include <util/platform.h>
#include <util/threading.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static const char *const event_types[] = {"connection",   "gap",          "game_start",    "stock_lost", "game_end",
					  "relay_client", "replay_saved", "replay_failed", "combo",      "set_end"};
#define N_EVENT_TYPES (sizeof(event_types) / sizeof(event_types[0]))

/* ---- obs-websocket's vendor procs ---- */

static proc_handler_t *websocket_ph;

typedef void (*vendor_request_fn)(obs_data_t *request, obs_data_t *response, void *priv);

struct vendor_callback {
	vendor_request_fn callback;
	void *priv;
};

static bool vendor_proc(const char *proc, calldata_t *cd)
{
	void *vendor = atomic_load(&andross->vendor);
	if (!websocket_ph || !vendor)
		return false;
	calldata_set_ptr(cd, "vendor", vendor);
	proc_handler_call(websocket_ph, proc, cd);
	return calldata_bool(cd, "success");
}

/* An event to obs-websocket's clients: the event object plus connection {id, name}. */
static void vendor_emit(const struct andross_connection *c, const char *type, const char *json)
{
	if (!atomic_load(&andross->vendor) || atomic_load(&andross->shutting_down))
		return;
	obs_data_t *data = obs_data_create_from_json(json);
	if (!data)
		return;
	obs_data_t *conn = obs_data_create();
	obs_data_set_int(conn, "id", c->id);
	obs_data_set_string(conn, "name", c->name);
	obs_data_set_obj(data, "connection", conn);
	obs_data_release(conn);
	calldata_t cd = {0};
	calldata_set_string(&cd, "type", type);
	calldata_set_ptr(&cd, "data", data);
	vendor_proc("vendor_event_emit", &cd);
	calldata_free(&cd);
	obs_data_release(data); /* obs-websocket made its JSON during the call */
}

/* ---- the events thread: the signals first, then the vendor thread and the UI thread ---- */

static void fire_signal(const struct andross_connection *c, const char *type, const char *json)
{
	for (size_t i = 0; i < N_EVENT_TYPES; i++) {
		if (strcmp(type, event_types[i]))
			continue;
		char name[48];
		snprintf(name, sizeof(name), "andross_%s", type);
		calldata_t cd = {0};
		calldata_set_int(&cd, "connection", c->id);
		calldata_set_string(&cd, "json", json);
		signal_handler_signal(obs_get_signal_handler(), name, &cd);
		calldata_free(&cd);
		return;
	}
}

/* A note with the connection it came from, on its way to the vendor thread or the UI thread. */
struct out_note {
	struct out_note *next;
	struct andross_connection c;
	struct game_note n;
};

struct out_list {
	struct out_note *head, **tail;
	size_t count;
};

static void out_list_init(struct out_list *l)
{
	l->head = NULL;
	l->tail = &l->head;
	l->count = 0;
}

static void out_list_append(struct out_list *l, struct out_note *o)
{
	o->next = NULL;
	*l->tail = o;
	l->tail = &o->next;
	l->count++;
}

static void out_list_free(struct out_list *l)
{
	while (l->head) {
		struct out_note *next = l->head->next;
		game_note_free(&l->head->n);
		bfree(l->head);
		l->head = next;
	}
	out_list_init(l);
}

static struct out_note *out_note_copy(const struct andross_connection *c, const char *type, const char *json)
{
	struct out_note *o = bzalloc(sizeof(*o));
	o->c = *c;
	snprintf(o->n.type, sizeof(o->n.type), "%s", type);
	o->n.json_len = strlen(json);
	o->n.json = malloc(o->n.json_len + 1); /* game_note_free's */
	if (!o->n.json) {
		bfree(o);
		return NULL;
	}
	memcpy(o->n.json, json, o->n.json_len + 1);
	return o;
}

/*
 * Three threads, so that no one of them waits on the next:
 * - the events thread ("andross: events") drains the sessions' mailboxes and fires the global signals the moment
 *   a recorder has made the events: it wakes nothing else until every signal of the burst has gone out;
 * - the vendor thread ("andross: vendor") gives obs-websocket its vendor events (a call that can take milliseconds
 *   while it wakes its own threads), and the frame events, so that neither a signal nor a recorder waits on it;
 * - OBS's UI thread gets the notes, in order, for what must run there (the recording's sidecar, the set scores,
 *   the rules), one task per burst.
 * The vendor queue is bounded: past VENDOR_QUEUE_MAX notes (obs-websocket stuck) new ones are dropped and counted.
 */
#define VENDOR_QUEUE_MAX 4096

static struct {
	pthread_mutex_t mutex;
	pthread_cond_t cond;
	pthread_t thread;
	bool running; /* the thread was started and not told to stop */
	bool stop;
	uint32_t pending[2 * ENGINE_MAX_SESSIONS];
	size_t n_pending;
	struct out_list ui; /* under mutex */
	bool ui_queued;     /* a UI task will take the list */
	/* the vendor thread */
	pthread_mutex_t vendor_mutex;
	pthread_cond_t vendor_cond;
	pthread_t vendor_thread;
	bool vendor_running, vendor_stop;
	struct out_list vendor; /* under vendor_mutex */
	uint64_t vendor_dropped;
	int realtime_priority; /* the events thread's; 0: normal scheduling */
} ev = {.mutex = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
	.vendor_mutex = PTHREAD_MUTEX_INITIALIZER,
	.vendor_cond = PTHREAD_COND_INITIALIZER};

/* Everything on the UI thread that follows the game's events, in the order they happened. */
static void ui_dispatch(const struct andross_connection *c, const struct game_note *n)
{
	andross_recording_note(c, n);
	andross_score_note(c, n); /* before the rules: a set_end they follow comes from it */
	andross_rules_note(c, n);
}

static void ui_drain(void *param)
{
	(void)param;
	pthread_mutex_lock(&ev.mutex);
	struct out_list list = ev.ui;
	out_list_init(&ev.ui);
	ev.ui_queued = false;
	pthread_mutex_unlock(&ev.mutex);
	for (struct out_note *o = list.head; o; o = o->next)
		if (andross && !atomic_load(&andross->shutting_down))
			ui_dispatch(&o->c, &o->n);
	out_list_free(&list);
}

/* Hands notes (moved in) to the UI thread. */
static void to_ui(struct out_list *l)
{
	if (!l->head)
		return;
	pthread_mutex_lock(&ev.mutex);
	*ev.ui.tail = l->head;
	ev.ui.tail = l->tail;
	ev.ui.count += l->count;
	bool queue = !ev.ui_queued;
	ev.ui_queued = true;
	pthread_mutex_unlock(&ev.mutex);
	out_list_init(l);
	if (queue)
		obs_queue_task(OBS_TASK_UI, ui_drain, NULL, false);
}

/* Hands notes (moved in) to the vendor thread; those past its bound are freed. */
static void to_vendor(struct out_list *l)
{
	if (!l->head)
		return;
	pthread_mutex_lock(&ev.vendor_mutex);
	bool wake = !ev.vendor.head;
	bool report = false;
	while (l->head) {
		struct out_note *o = l->head;
		l->head = o->next;
		if (ev.vendor_running && ev.vendor.count < VENDOR_QUEUE_MAX) {
			out_list_append(&ev.vendor, o);
			continue;
		}
		if (ev.vendor_running && !ev.vendor_dropped++)
			report = true; /* once: the log is not flooded */
		game_note_free(&o->n);
		bfree(o);
	}
	pthread_mutex_unlock(&ev.vendor_mutex);
	out_list_init(l);
	if (report)
		blog(LOG_WARNING,
		     "[andross] obs-websocket is not taking vendor events; %d are queued, new ones are dropped",
		     VENDOR_QUEUE_MAX);
	if (wake)
		pthread_cond_signal(&ev.vendor_cond);
}

static void *vendor_thread(void *arg)
{
	(void)arg;
	os_set_thread_name("andross: vendor");
	net_thread_prefer_throughput(); /* it never preempts the recorders or the events thread when it wakes */
	pthread_mutex_lock(&ev.vendor_mutex);
	for (;;) {
		while (!ev.vendor_stop && !ev.vendor.head)
			pthread_cond_wait(&ev.vendor_cond, &ev.vendor_mutex);
		if (ev.vendor_stop)
			break;
		struct out_list list = ev.vendor;
		out_list_init(&ev.vendor);
		pthread_mutex_unlock(&ev.vendor_mutex);
		for (struct out_note *o = list.head; o; o = o->next)
			vendor_emit(&o->c, o->n.type, o->n.json);
		out_list_free(&list);
		pthread_mutex_lock(&ev.vendor_mutex);
	}
	pthread_mutex_unlock(&ev.vendor_mutex);
	return NULL;
}

/* Fires the signals of a session's waiting notes, then hands the notes on: copies to the vendor thread, the notes
 * themselves to the UI thread. */
static void drain_session(uint32_t session)
{
	struct game_mailbox *m = engine_mailbox(andross->engine, session);
	if (!m)
		return; /* removed since */
	struct andross_connection c;
	bool known = andross_connection_of_session(session, &c);
	struct game_note notes[32];
	size_t n;
	while ((n = game_mailbox_take(m, notes, 32)) > 0) {
		bool live = known && !atomic_load(&andross->shutting_down);
		for (size_t i = 0; i < n && live; i++)
			fire_signal(&c, notes[i].type, notes[i].json);
		struct out_list vendor, ui;
		out_list_init(&vendor);
		out_list_init(&ui);
		for (size_t i = 0; i < n; i++) {
			if (!live) {
				game_note_free(&notes[i]);
				continue;
			}
			struct out_note *copy =
				atomic_load(&andross->vendor) ? out_note_copy(&c, notes[i].type, notes[i].json) : NULL;
			if (copy)
				out_list_append(&vendor, copy);
			struct out_note *o = bzalloc(sizeof(*o));
			o->c = c;
			o->n = notes[i]; /* moved */
			out_list_append(&ui, o);
		}
		to_vendor(&vendor);
		to_ui(&ui);
	}
	game_mailbox_release(m);
}

static void log_realtime_refused(void)
{
	struct rlimit lim = {0};
	getrlimit(RLIMIT_RTPRIO, &lim);
	blog(LOG_INFO,
	     "[andross] realtime scheduling: not granted (RLIMIT_RTPRIO %llu, no CAP_SYS_NICE); the events and recorder "
	     "threads run with normal scheduling (the README's \"Realtime scheduling\" tells how to grant it)",
	     lim.rlim_cur == RLIM_INFINITY ? 99ull : (unsigned long long)lim.rlim_cur);
}

static void *events_thread(void *arg)
{
	(void)arg;
	os_set_thread_name("andross: events");
	/* the signals the moment a recorder made the event: realtime above the recorders where it is granted */
	int prio = ev.realtime_priority;
	while (prio > 0 && net_thread_prefer_realtime(prio) < 0)
		prio = errno == EPERM ? prio - 1 : 0;
	if (prio > 0) {
		blog(LOG_INFO,
		     "[andross] realtime scheduling: granted (the events thread at SCHED_FIFO %d, the recorders "
		     "at %d)",
		     prio, prio > 1 ? prio - 1 : 1);
	} else {
		net_thread_prefer_latency();
		if (ev.realtime_priority > 0)
			log_realtime_refused();
	}
	pthread_mutex_lock(&ev.mutex);
	for (;;) {
		while (!ev.stop && !ev.n_pending)
			pthread_cond_wait(&ev.cond, &ev.mutex);
		if (ev.stop)
			break;
		uint32_t sessions[2 * ENGINE_MAX_SESSIONS];
		size_t n = ev.n_pending;
		memcpy(sessions, ev.pending, n * sizeof(sessions[0]));
		ev.n_pending = 0;
		pthread_mutex_unlock(&ev.mutex);
		for (size_t i = 0; i < n; i++)
			drain_session(sessions[i]);
		pthread_mutex_lock(&ev.mutex);
	}
	pthread_mutex_unlock(&ev.mutex);
	return NULL;
}

void andross_events_emit(const struct andross_connection *c, const char *type, const char *json)
{
	if (!andross || atomic_load(&andross->shutting_down))
		return;
	fire_signal(c, type, json);
	if (!atomic_load(&andross->vendor))
		return;
	struct out_note *copy = out_note_copy(c, type, json);
	struct out_list l;
	out_list_init(&l);
	if (copy)
		out_list_append(&l, copy);
	to_vendor(&l);
}

void andross_events_notify(uint32_t session)
{
	pthread_mutex_lock(&ev.mutex);
	bool known = false;
	for (size_t i = 0; i < ev.n_pending && !known; i++)
		known = ev.pending[i] == session;
	/* a live session notifies once per burst, so the list holds at most one entry per session; removed sessions'
	 * entries go at the next pass */
	if (ev.running && !known && ev.n_pending < sizeof(ev.pending) / sizeof(ev.pending[0]))
		ev.pending[ev.n_pending++] = session;
	pthread_cond_signal(&ev.cond);
	pthread_mutex_unlock(&ev.mutex);
}

static void register_signals(void);

int andross_events_start(int realtime_priority)
{
	register_signals();
	ev.realtime_priority = realtime_priority;
	pthread_mutex_lock(&ev.vendor_mutex);
	ev.vendor_stop = false;
	ev.vendor_dropped = 0;
	out_list_init(&ev.vendor);
	ev.vendor_running = pthread_create(&ev.vendor_thread, NULL, vendor_thread, NULL) == 0;
	bool vendor_ok = ev.vendor_running;
	pthread_mutex_unlock(&ev.vendor_mutex);
	pthread_mutex_lock(&ev.mutex);
	ev.stop = false;
	ev.n_pending = 0;
	out_list_init(&ev.ui);
	ev.ui_queued = false;
	ev.running = pthread_create(&ev.thread, NULL, events_thread, NULL) == 0;
	bool ok = ev.running;
	pthread_mutex_unlock(&ev.mutex);
	if (!ok || !vendor_ok)
		blog(LOG_ERROR, "[andross] cannot start the %s thread", !ok ? "events" : "vendor events");
	return ok && vendor_ok ? 0 : -1;
}

void andross_thread_stop(pthread_mutex_t *mutex, pthread_cond_t *cond, bool *running, bool *stop, pthread_t thread)
{
	pthread_mutex_lock(mutex);
	bool was_running = *running;
	*running = false;
	*stop = true;
	pthread_cond_signal(cond);
	pthread_mutex_unlock(mutex);
	if (was_running)
		pthread_join(thread, NULL);
}

void andross_events_stop(void)
{
	andross_thread_stop(&ev.mutex, &ev.cond, &ev.running, &ev.stop, ev.thread);
	/* after the events thread: it hands the vendor thread notes */
	andross_thread_stop(&ev.vendor_mutex, &ev.vendor_cond, &ev.vendor_running, &ev.vendor_stop, ev.vendor_thread);
	pthread_mutex_lock(&ev.vendor_mutex);
	out_list_free(&ev.vendor);
	pthread_mutex_unlock(&ev.vendor_mutex);
	pthread_mutex_lock(&ev.mutex);
	out_list_free(&ev.ui); /* a UI task still queued finds the list empty */
	ev.n_pending = 0;
	pthread_mutex_unlock(&ev.mutex);
}

/* ---- frame events, on a recorder thread ---- */

/* The engine makes a frame's JSON only while frame events are on and one is due (frame_events_min_ms, from
 * SetFrameEvents' perSecond): the recorder only copies it to the vendor thread. */
void andross_events_frame(uint32_t session, const char *json, size_t len)
{
	(void)len;
	if (!atomic_load(&andross->frame_events) || !atomic_load(&andross->vendor))
		return;
	struct andross_connection c;
	if (!andross_connection_of_session(session, &c))
		return;
	struct out_note *copy = out_note_copy(&c, "frame", json);
	struct out_list l;
	out_list_init(&l);
	if (copy)
		out_list_append(&l, copy);
	to_vendor(&l);
}

/* ---- signals and the proc ---- */

static void proc_get_state(void *data, calldata_t *cd)
{
	(void)data;
	struct andross_connection c;
	long long id = calldata_int(cd, "connection");
	if (!andross || !andross->engine || id <= 0 || !andross_connection_get((uint32_t)id, &c) || !c.session) {
		calldata_set_string(cd, "json", "null");
		return;
	}
	struct game_mailbox *m = engine_mailbox(andross->engine, c.session);
	struct game_snapshot g = {0};
	if (m) {
		game_mailbox_latest_wait(m, &g);
		game_mailbox_release(m);
	}
	struct bytes out;
	bytes_init(&out, 0);
	if (andross_json_game_state(&out, c.id, &g) && bytes_append_byte(&out, 0))
		calldata_set_string(cd, "json", (const char *)out.data);
	bytes_free(&out);
}

static void register_signals(void)
{
	signal_handler_t *sh = obs_get_signal_handler();
	for (size_t i = 0; i < N_EVENT_TYPES; i++) {
		char decl[96];
		snprintf(decl, sizeof(decl), "void andross_%s(int connection, string json)", event_types[i]);
		signal_handler_add(sh, decl);
	}
	proc_handler_add(obs_get_proc_handler(), "void andross_get_state(in int connection, out string json)",
			 proc_get_state, NULL);
}

/* ---- vendor requests, on obs-websocket's workers ---- */

void andross_answer_error(obs_data_t *resp, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	obs_data_set_string(resp, "error", msg);
}

void andross_answer_json(obs_data_t *resp, struct bytes *json)
{
	if (!bytes_append_byte(json, 0)) {
		andross_answer_error(resp, "out of memory");
		return;
	}
	obs_data_t *d = obs_data_create_from_json((const char *)json->data);
	if (d)
		obs_data_apply(resp, d);
	else
		andross_answer_error(resp, "out of memory");
	obs_data_release(d);
}

enum obs_data_type andross_field_type(obs_data_t *d, const char *key)
{
	obs_data_item_t *it = d ? obs_data_item_byname(d, key) : NULL;
	enum obs_data_type t = it ? obs_data_item_gettype(it) : OBS_DATA_NULL;
	obs_data_item_release(&it);
	return t;
}

bool andross_request_id(obs_data_t *req, obs_data_t *resp, uint32_t *id)
{
	if (andross_field_type(req, "id") != OBS_DATA_NUMBER) {
		andross_answer_error(resp, "id is required and must be a number");
		return false;
	}
	double v = obs_data_get_double(req, "id");
	if (v < 1 || v > UINT32_MAX || v != (double)(uint32_t)v) {
		andross_answer_error(resp, "id must be a whole number from 1");
		return false;
	}
	*id = (uint32_t)v;
	return true;
}

bool andross_request_connection(obs_data_t *req, obs_data_t *resp, struct andross_connection *out)
{
	uint32_t id;
	if (!andross_request_id(req, resp, &id))
		return false;
	if (!andross_connection_get(id, out)) {
		andross_answer_error(resp, "no connection %u", id);
		return false;
	}
	return true;
}

/* A string field: absent (false, no error), a string (true), or wrong (false, error answered, *bad set). */
static bool request_string(obs_data_t *req, const char *key, char *out, size_t size, obs_data_t *resp, bool *bad)
{
	enum obs_data_type t = andross_field_type(req, key);
	if (t == OBS_DATA_NULL)
		return false;
	if (t != OBS_DATA_STRING) {
		andross_answer_error(resp, "%s must be a string", key);
		*bad = true;
		return false;
	}
	snprintf(out, size, "%s", obs_data_get_string(req, key));
	return true;
}

static bool request_bool(obs_data_t *req, const char *key, bool *out, obs_data_t *resp, bool *bad)
{
	enum obs_data_type t = andross_field_type(req, key);
	if (t == OBS_DATA_NULL)
		return false;
	if (t != OBS_DATA_BOOLEAN) {
		andross_answer_error(resp, "%s must be true or false", key);
		*bad = true;
		return false;
	}
	*out = obs_data_get_bool(req, key);
	return true;
}

/* The fields of AddConnection / UpdateConnection. Returns false with the error answered. */
static bool read_connection(obs_data_t *req, obs_data_t *resp, struct andross_connection_request *r)
{
	memset(r, 0, sizeof(*r));
	bool bad = false;
	r->has_name = request_string(req, "name", r->c.name, sizeof(r->c.name), resp, &bad);
	if (!bad)
		r->has_url = request_string(req, "url", r->c.url, sizeof(r->c.url), resp, &bad);
	if (!bad)
		r->has_folder = request_string(req, "folder", r->c.folder, sizeof(r->c.folder), resp, &bad);
	if (!bad)
		r->has_auto_connect = request_bool(req, "autoConnect", &r->c.auto_connect, resp, &bad);
	if (bad)
		return false;
	enum obs_data_type t = andross_field_type(req, "relay");
	if (t == OBS_DATA_NULL)
		return true;
	if (t != OBS_DATA_OBJECT) {
		andross_answer_error(resp, "relay must be an object {enabled, listen}");
		return false;
	}
	obs_data_t *relay = obs_data_get_obj(req, "relay");
	r->has_relay_enabled = request_bool(relay, "enabled", &r->c.relay_enabled, resp, &bad);
	if (!bad)
		r->has_relay_listen =
			request_string(relay, "listen", r->c.relay_listen, sizeof(r->c.relay_listen), resp, &bad);
	obs_data_release(relay);
	return !bad;
}

static void req_get_version(obs_data_t *req, obs_data_t *resp, void *priv)
{
	(void)req;
	(void)priv;
	obs_data_set_string(resp, "version", ANDROSS_VERSION);
	obs_data_set_string(resp, "obsVersion", obs_get_version_string());
	pthread_mutex_lock(&andross->lock);
	obs_data_set_int(resp, "connections", (long long)andross->n_conns);
	pthread_mutex_unlock(&andross->lock);
}

static void req_get_connections(obs_data_t *req, obs_data_t *resp, void *priv)
{
	(void)req;
	(void)priv;
	struct andross_connection *copy = malloc(sizeof(andross->conns));
	if (!copy) {
		andross_answer_error(resp, "out of memory");
		return;
	}
	pthread_mutex_lock(&andross->lock);
	size_t n = andross->n_conns;
	memcpy(copy, andross->conns, n * sizeof(*copy));
	pthread_mutex_unlock(&andross->lock);
	struct bytes out;
	bytes_init(&out, 0);
	bool ok = bytes_append(&out, (const uint8_t *)"{\"connections\":[", 16);
	for (size_t i = 0; i < n && ok; i++)
		ok = (!i || bytes_append_byte(&out, ',')) && andross_json_connection(&out, &copy[i]);
	ok = ok && bytes_append(&out, (const uint8_t *)"]}", 2);
	free(copy);
	if (ok)
		andross_answer_json(resp, &out);
	else
		andross_answer_error(resp, "out of memory");
	bytes_free(&out);
}

static void req_add_connection(obs_data_t *req, obs_data_t *resp, void *priv)
{
	(void)priv;
	struct andross_connection_request r;
	if (!read_connection(req, resp, &r))
		return;
	char err[512];
	uint32_t id = andross_connection_add(&r, err, sizeof(err));
	if (!id)
		andross_answer_error(resp, "%s", err);
	else
		obs_data_set_int(resp, "id", id);
}

static void req_update_connection(obs_data_t *req, obs_data_t *resp, void *priv)
{
	(void)priv;
	uint32_t id;
	struct andross_connection_request r;
	if (!andross_request_id(req, resp, &id) || !read_connection(req, resp, &r))
		return;
	char err[512];
	if (andross_connection_update(id, &r, err, sizeof(err)) < 0)
		andross_answer_error(resp, "%s", err);
	else
		obs_data_set_int(resp, "id", id);
}

static void req_remove_connection(obs_data_t *req, obs_data_t *resp, void *priv)
{
	(void)priv;
	uint32_t id;
	if (!andross_request_id(req, resp, &id))
		return;
	char err[512];
	if (andross_connection_remove(id, err, sizeof(err)) < 0)
		andross_answer_error(resp, "%s", err);
	else
		obs_data_set_int(resp, "id", id);
}

static void req_set_relay(obs_data_t *req, obs_data_t *resp, void *priv)
{
	(void)priv;
	uint32_t id;
	if (!andross_request_id(req, resp, &id))
		return;
	bool bad = false, enabled = false;
	if (!request_bool(req, "enabled", &enabled, resp, &bad)) {
		if (!bad)
			andross_answer_error(resp, "enabled is required");
		return;
	}
	char listen[ENGINE_ADDRESS_MAX];
	bool has_listen = request_string(req, "listen", listen, sizeof(listen), resp, &bad);
	if (bad)
		return;
	char bound[ENGINE_ADDRESS_MAX] = "", err[512];
	if (andross_connection_set_relay(id, enabled, has_listen ? listen : NULL, bound, sizeof(bound), err,
					 sizeof(err)) < 0) {
		andross_answer_error(resp, "%s", err);
		return;
	}
	obs_data_set_int(resp, "id", id);
	obs_data_set_bool(resp, "enabled", enabled);
	obs_data_set_string(resp, "address", bound);
}

static void req_get_game_state(obs_data_t *req, obs_data_t *resp, void *priv)
{
	(void)priv;
	uint32_t id;
	if (!andross_request_id(req, resp, &id))
		return;
	struct andross_connection c;
	if (!andross_connection_get(id, &c)) {
		andross_answer_error(resp, "no connection %u", id);
		return;
	}
	struct game_snapshot g = {0};
	struct game_mailbox *m = c.session ? engine_mailbox(andross->engine, c.session) : NULL;
	if (m) {
		game_mailbox_latest_wait(m, &g);
		game_mailbox_release(m);
	}
	struct bytes out;
	bytes_init(&out, 0);
	if (andross_json_game_state(&out, id, &g))
		andross_answer_json(resp, &out);
	else
		andross_answer_error(resp, "out of memory");
	bytes_free(&out);
}

static void req_set_frame_events(obs_data_t *req, obs_data_t *resp, void *priv)
{
	(void)priv;
	bool bad = false, enabled = false;
	if (!request_bool(req, "enabled", &enabled, resp, &bad)) {
		if (!bad)
			andross_answer_error(resp, "enabled is required");
		return;
	}
	int per_second = atomic_load(&andross->frames_per_second);
	enum obs_data_type t = andross_field_type(req, "perSecond");
	if (t != OBS_DATA_NULL) {
		double v = t == OBS_DATA_NUMBER ? obs_data_get_double(req, "perSecond") : 0;
		if (t != OBS_DATA_NUMBER || v < 1 || v > 10 || v != (double)(int)v) {
			andross_answer_error(resp, "perSecond must be a whole number from 1 to 10");
			return;
		}
		per_second = (int)v;
	}
	andross_connections_frame_events(enabled, per_second);
	obs_data_set_bool(resp, "enabled", enabled);
	obs_data_set_int(resp, "perSecond", per_second);
}

static const struct {
	const char *type;
	vendor_request_fn fn;
} requests[] = {
	{"GetVersion", req_get_version},
	{"GetConnections", req_get_connections},
	{"AddConnection", req_add_connection},
	{"UpdateConnection", req_update_connection},
	{"RemoveConnection", req_remove_connection},
	{"SetRelay", req_set_relay},
	{"GetGameState", req_get_game_state},
	{"SetFrameEvents", req_set_frame_events},
	{"GetFilterState", andross_filter_request_state},
	{"GetRules", andross_rules_req_get},
	{"SetRules", andross_rules_req_set},
	{"GetScore", andross_req_get_score},
	{"SetScore", andross_req_set_score},
	{"ResetScore", andross_req_reset_score},
	{"SwapScore", andross_req_swap_score},
	{"GetText", andross_req_get_text},
};

void andross_vendor_register(void)
{
	calldata_t cd = {0};
	if (!proc_handler_call(obs_get_proc_handler(), "obs_websocket_api_get_ph", &cd)) {
		calldata_free(&cd);
		blog(LOG_INFO, "[andross] obs-websocket is not there: no vendor requests or events");
		return;
	}
	websocket_ph = calldata_ptr(&cd, "ph");
	calldata_free(&cd);
	if (!websocket_ph)
		return;
	calldata_t reg = {0}; /* calldata_free leaves the struct pointing at freed memory: a fresh one */
	calldata_set_string(&reg, "name", "andross");
	proc_handler_call(websocket_ph, "vendor_register", &reg);
	void *vendor = calldata_ptr(&reg, "vendor");
	calldata_free(&reg);
	if (!vendor) {
		blog(LOG_WARNING, "[andross] obs-websocket did not take the vendor \"andross\"");
		return;
	}
	atomic_store(&andross->vendor, vendor);
	size_t registered = 0;
	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
		struct vendor_callback cb = {.callback = requests[i].fn, .priv = NULL};
		calldata_t rcd = {0};
		calldata_set_string(&rcd, "type", requests[i].type);
		calldata_set_ptr(&rcd, "callback", &cb);
		registered += vendor_proc("vendor_request_register", &rcd);
		calldata_free(&rcd);
	}
	blog(LOG_INFO, "[andross] obs-websocket vendor \"andross\": %zu requests", registered);
}

void andross_vendor_unregister(void)
{
	/* obs-websocket may be gone already at shutdown: only a loaded one is told */
	if (!atomic_load(&andross->vendor) || !obs_get_module("obs-websocket")) {
		atomic_store(&andross->vendor, NULL);
		return;
	}
	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
		calldata_t cd = {0};
		calldata_set_string(&cd, "type", requests[i].type);
		vendor_proc("vendor_request_unregister", &cd);
		calldata_free(&cd);
	}
	atomic_store(&andross->vendor, NULL);
}
