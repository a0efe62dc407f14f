/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Who touches what:
 * - the loop thread owns the session table's contents (sources, relays, recorders' feeding side) and is the only
 *   one that adds or removes sessions; e->lock guards the table and every session's status copy, so other threads
 *   read them without going through the loop;
 * - a session's recorder thread runs the recorder callbacks: game events into the mailbox and the `event`
 *   callback, file names into the status;
 * - the reaper thread finishes removed sessions' recorders (their last write and fsync) and frees the sessions,
 *   so a removal never makes the loop wait on the disk.
 * Calls from other threads run on the loop through net_loop_post and wait for it (engine_call); while no loop runs
 * they run on the caller's thread, one at a time.
 */
#include "engine.h"

#include "json_writer.h"
#include "net/loop.h"
#include "slp_file.h"
#include "sim_console.h"
#include "slp_recorder_thread.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct session {
	struct engine *e;
	uint32_t id;
	struct engine_session_options o; /* loop thread */
	struct source *src;
	struct sim_console *demo; /* demo://: the simulated Wii the source reads */
	struct relay *relay;
	struct slp_recorder_thread *rec;
	struct game_mailbox *mailbox;
	struct bytes line;     /* JSON made on the loop thread */
	struct bytes rec_line; /* JSON made on the recorder thread */
	atomic_uint_fast64_t bytes;
	atomic_uint_fast64_t games_ended;
	atomic_bool source_ended;
	atomic_bool frame_events;        /* o.frame_events, for the recorder thread (o belongs to the loop) */
	atomic_uint frame_min_ms;        /* o.frame_events_min_ms, likewise */
	uint64_t last_frame_ms;          /* the recorder thread's: when it last gave a frame event */
	bool source_connected;           /* loop thread: the source has reported SOURCE_CONNECTED once */
	struct engine_session_status st; /* under e->lock */
	uint64_t retry_at_ms;            /* under e->lock: SOURCE_WAITING's next attempt, 0 otherwise */
	struct session *reap_next;
};

struct engine {
	struct engine_options o;
	struct engine_callbacks cb;
	struct net_loop *loop;

	pthread_mutex_t lock; /* the table and the status copies */
	struct session *sessions[ENGINE_MAX_SESSIONS];
	size_t n_sessions;
	uint32_t next_id;

	uint64_t status_timer;
	uint64_t drain_deadline_ms;
	atomic_bool done;

	pthread_mutex_t call_lock; /* running, loop_thread, and the calls' done flags */
	pthread_cond_t call_done;
	bool running;
	pthread_t loop_thread;
	bool own_thread; /* engine_start made loop_thread; destroy joins it */

	pthread_t reaper;
	bool reaper_started;
	pthread_mutex_t reap_lock;
	pthread_cond_t reap_cond;
	struct session *reap_head;
	bool reap_quit;

	/* discovery: the listener and its users belong to the loop; the copy of its list is under `lock` */
	struct discovery_listener *discovery;
	unsigned discovery_users;
	struct discovery_console discovered[DISCOVERY_MAX_CONSOLES];
	size_t n_discovered;
};

void engine_session_options_init(struct engine_session_options *o)
{
	memset(o, 0, sizeof(*o));
	o->speed = 1;
	snprintf(o->relay.host, sizeof(o->relay.host), "%s", RELAY_HOST_DEFAULT);
	o->relay.port = RELAY_PORT_DEFAULT;
	relay_options_init(&o->relay.options);
	o->relay.options.host = NULL;
	o->relay.options.nick = NULL;
}

static void logf_session(struct session *s, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void logf_session(struct session *s, int level, const char *fmt, ...)
{
	struct engine *e = s->e;
	if (!e->cb.log)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	e->cb.log(e->cb.ud, s->id, level, msg);
}

/* Ends a JSON text with a 0 after its length, so the `event` callback may also take it as a C string (the OBS module
 * hands it to obs_data). False when out of memory. */
static bool json_terminate(struct bytes *json)
{
	if (!bytes_reserve(json, 1))
		return false;
	json->data[json->len] = 0;
	return true;
}

/* An event as it is made: the `event` callback, and a note in the mailbox unless it is a frame. */
static void emit_note(struct session *s, const char *type, struct bytes *json)
{
	struct engine *e = s->e;
	if (e->cb.event && json_terminate(json))
		e->cb.event(e->cb.ud, s->id, type, (const char *)json->data, json->len);
	if (!game_mailbox_push(s->mailbox, type, (const char *)json->data, json->len))
		logf_session(s, ENGINE_LOG_WARNING, "out of memory for a %s event", type);
}

/* out_dir/<the console's name, made safe> (console_subfolder). */
static void console_folder(const struct session *s, const char *nick, char *out, size_t out_size)
{
	char fallback[32], name[ENGINE_NICK_MAX];
	snprintf(fallback, sizeof(fallback), "console-%u", s->id);
	slp_file_safe_name(name, sizeof(name), nick && *nick ? nick : s->o.name, fallback);
	snprintf(out, out_size, "%s/%s", s->o.out_dir, name);
}

/* ---- the reaper ---- */

static void session_free(struct session *s)
{
	if (s->rec)
		slp_recorder_thread_destroy(s->rec); /* writes what is queued, finishes the file, joins */
	game_mailbox_release(s->mailbox);
	bytes_free(&s->line);
	bytes_free(&s->rec_line);
	free(s);
}

static void *reaper_main(void *arg)
{
	struct engine *e = arg;
	net_thread_name("andross: reaper");
	pthread_mutex_lock(&e->reap_lock);
	for (;;) {
		while (!e->reap_head && !e->reap_quit)
			pthread_cond_wait(&e->reap_cond, &e->reap_lock);
		struct session *s = e->reap_head;
		if (!s)
			break; /* quit, and nothing left */
		e->reap_head = s->reap_next;
		pthread_mutex_unlock(&e->reap_lock);
		session_free(s);
		pthread_mutex_lock(&e->reap_lock);
	}
	pthread_mutex_unlock(&e->reap_lock);
	return NULL;
}

/* Hands a session whose source and relay are gone to the reaper (or frees it here when there is none). */
static void reap(struct engine *e, struct session *s)
{
	if (!e->reaper_started) {
		session_free(s);
		return;
	}
	pthread_mutex_lock(&e->reap_lock);
	s->reap_next = NULL;
	struct session **tail = &e->reap_head;
	while (*tail)
		tail = &(*tail)->reap_next;
	*tail = s;
	pthread_cond_signal(&e->reap_cond);
	pthread_mutex_unlock(&e->reap_lock);
}

/* ---- recorder thread ---- */

static void on_game_event(void *ud, const struct slp_game_event *ev)
{
	struct session *s = ud;
	struct engine *e = s->e;
	if (ev->type == SLP_GAME_EVENT_GAME_END)
		atomic_fetch_add(&s->games_ended, 1);
	bool is_frame = ev->type == SLP_GAME_EVENT_FRAME;
	bool want_json = !is_frame || (atomic_load(&s->frame_events) && e->cb.event);
	if (is_frame && want_json) {
		/* a frame event only when one is due: the JSON of the others is never made */
		uint32_t min_ms = atomic_load(&s->frame_min_ms);
		uint64_t now = min_ms ? net_now_ms() : 0;
		want_json = !min_ms || !s->last_frame_ms || now - s->last_frame_ms >= min_ms;
		if (want_json)
			s->last_frame_ms = now;
	}
	bytes_clear(&s->rec_line);
	if (want_json && (!slp_game_event_to_json(ev, &s->rec_line) || !json_terminate(&s->rec_line))) {
		logf_session(s, ENGINE_LOG_WARNING, "out of memory for a %s event", slp_game_event_name(ev->type));
		want_json = false;
	}
	game_mailbox_publish(s->mailbox, ev, want_json ? (const char *)s->rec_line.data : "{}",
			     want_json ? s->rec_line.len : 2);
	if (want_json && e->cb.event)
		e->cb.event(e->cb.ud, s->id, slp_game_event_name(ev->type), (const char *)s->rec_line.data,
			    s->rec_line.len);
}

static void on_file(void *ud, const char *path, bool finished)
{
	struct session *s = ud;
	struct engine *e = s->e;
	pthread_mutex_lock(&e->lock);
	if (finished) {
		snprintf(s->st.last_file, sizeof(s->st.last_file), "%s", path);
		s->st.current_file[0] = 0;
		s->st.games_recorded++;
	} else {
		snprintf(s->st.current_file, sizeof(s->st.current_file), "%s", path);
	}
	pthread_mutex_unlock(&e->lock);
	logf_session(s, ENGINE_LOG_INFO, "%s %s", finished ? "wrote" : "writing", path);
	if (!finished)
		return;
	bytes_clear(&s->rec_line);
	struct json_writer jw;
	jw_init(&jw, &s->rec_line);
	jw_object_begin(&jw, NULL);
	jw_string(&jw, "type", "replay_saved");
	jw_string(&jw, "path", path);
	jw_object_end(&jw);
	if (jw.ok)
		emit_note(s, "replay_saved", &s->rec_line);
}

static void on_file_failed(void *ud, const char *path, bool kept)
{
	struct session *s = ud;
	pthread_mutex_lock(&s->e->lock);
	s->st.games_failed++;
	s->st.current_file[0] = 0;
	pthread_mutex_unlock(&s->e->lock);
	bytes_clear(&s->rec_line);
	struct json_writer jw;
	jw_init(&jw, &s->rec_line);
	jw_object_begin(&jw, NULL);
	jw_string(&jw, "type", "replay_failed");
	jw_string(&jw, "path", path);
	jw_bool(&jw, "kept", kept);
	jw_object_end(&jw);
	if (jw.ok)
		emit_note(s, "replay_failed", &s->rec_line);
}

/* also on the loop thread: the relay's warnings and a full recorder queue */
static void on_warning(void *ud, const char *message)
{
	logf_session(ud, ENGINE_LOG_WARNING, "%s", message);
}

static void on_mailbox_notify(void *ud)
{
	struct session *s = ud;
	if (s->e->cb.notify)
		s->e->cb.notify(s->e->cb.ud, s->id);
}

/* ---- loop thread: the source, the relay ---- */

static void on_relay_client(void *ud, enum relay_client_event ev, const struct relay_client_info *info,
			    const char *reason)
{
	struct session *s = ud;
	static const char *const names[] = {"connected", "disconnected", "skipped"};
	logf_session(s, ENGINE_LOG_INFO, "relay: client %llu %s %s (%s): %s", (unsigned long long)info->id,
		     info->address, names[ev], relay_client_mode_name(info->mode), reason);
	if (!s->relay)
		return;
	bytes_clear(&s->line);
	if (relay_client_event_json(&s->line, relay_address(s->relay), ev, info, reason))
		emit_note(s, "relay_client", &s->line);
}

/*
 * The recorder's queue first (a copy and a wake-up: microseconds), then the relay: the recorder thread makes the
 * game's events on the other core while this thread sends the chunk to every client, so the events do not wait for
 * the fan-out and the clients wait only for the copy.
 */
static void on_source_data(void *ud, const uint8_t *bytes, size_t len)
{
	struct session *s = ud;
	atomic_fetch_add(&s->bytes, len);
	slp_recorder_thread_feed(s->rec, bytes, len);
	if (s->relay)
		relay_feed(s->relay, bytes, len);
}

static void on_source_state(void *ud, enum source_state state, const char *reason)
{
	struct session *s = ud;
	struct engine *e = s->e;
	const char *nick = s->src ? source_nick(s->src) : "";
	if (state == SOURCE_CONNECTED) {
		s->source_connected = true;
		if (s->relay && !*nick)
			relay_release_replies(s->relay); /* a source with no name of its own: the default one */
	}
	if (state == SOURCE_CONNECTED && !s->o.nick[0] && *nick) {
		if (s->relay)
			relay_set_nick(s->relay, nick);
		slp_recorder_thread_set_console_nick(s->rec, nick);
		if (s->o.out_dir[0] && s->o.console_subfolder) {
			char dir[ENGINE_PATH_MAX + ENGINE_NICK_MAX + 2];
			console_folder(s, nick, dir, sizeof(dir));
			slp_recorder_thread_set_out_dir(s->rec, dir); /* the recorder makes it, off this thread */
		}
	}
	uint64_t retry_at = state == SOURCE_WAITING && s->src ? source_retry_at_ms(s->src) : 0;
	pthread_mutex_lock(&e->lock);
	s->st.state = state;
	s->retry_at_ms = retry_at;
	snprintf(s->st.reason, sizeof(s->st.reason), "%s", reason ? reason : "");
	if (*nick)
		snprintf(s->st.console_nick, sizeof(s->st.console_nick), "%s", nick);
	pthread_mutex_unlock(&e->lock);
	if (state == SOURCE_CONNECTED)
		logf_session(s, ENGINE_LOG_DEBUG, "connected%s%s%s%s%s", *nick ? " to \"" : "", nick, *nick ? "\"" : "",
			     reason && *reason ? ": " : "", reason ? reason : "");
	bytes_clear(&s->line);
	if (source_state_event_json(&s->line, s->o.url, state, reason))
		emit_note(s, "connection", &s->line);
}

static void on_source_gap(void *ud, uint64_t from_byte, uint64_t to_byte, const char *reason)
{
	struct session *s = ud;
	if (s->relay)
		relay_source_restart(s->relay);
	slp_recorder_thread_restart_at_boundary(s->rec);
	pthread_mutex_lock(&s->e->lock);
	s->st.gaps++;
	if (to_byte > from_byte)
		s->st.lost_bytes += to_byte - from_byte;
	pthread_mutex_unlock(&s->e->lock);
	if (to_byte > from_byte)
		logf_session(s, ENGINE_LOG_WARNING, "lost bytes %llu..%llu of the source: %s",
			     (unsigned long long)from_byte, (unsigned long long)to_byte, reason);
	else
		logf_session(s, ENGINE_LOG_WARNING, "the source's stream restarted (bytes may be lost): %s", reason);
	bytes_clear(&s->line);
	if (source_gap_event_json(&s->line, s->o.url, from_byte, to_byte, reason))
		emit_note(s, "gap", &s->line);
}

static void on_source_ended(void *ud, const char *reason)
{
	struct session *s = ud;
	atomic_store(&s->source_ended, true);
	/* the last game's file is finished now, not when the session goes */
	slp_recorder_thread_end(s->rec);
	pthread_mutex_lock(&s->e->lock);
	s->st.source_ended = true;
	pthread_mutex_unlock(&s->e->lock);
	logf_session(s, ENGINE_LOG_DEBUG, "the source ended: %s", reason ? reason : "");
}

static struct relay *make_relay(struct session *s, const struct engine_relay_settings *rs, char *err, size_t err_size)
{
	struct relay_options ro = rs->options;
	ro.host = rs->host[0] ? rs->host : RELAY_HOST_DEFAULT;
	ro.port = rs->port;
	ro.nick = NULL;
	ro.seed = s->e->o.seed;
	ro.no_listen = !rs->enabled; /* a history kept while the relay is off (keep_history) */
	const char *nick = s->o.nick[0] ? s->o.nick : s->src ? source_nick(s->src) : "";
	if (*nick)
		ro.nick = nick;
	/* a console client keeps the name it is told first: until the source has said it, replies wait */
	ro.hold_replies = !*nick && !s->source_connected;
	struct relay_callbacks rcb = {.client = on_relay_client, .warning = on_warning, .ud = s};
	return relay_create(s->e->loop, &ro, &rcb, err, err_size);
}

static bool is_demo(const char *url)
{
	return !strncmp(url, "demo://", 7);
}

static int demo_name_order(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_replay_name(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return n > 4 && !strcmp(d->d_name + n - 4, ".slp");
}

/* The simulated Wii of demo://, on the loop, playing every replay of the engine's demo folder. */
static struct sim_console *make_demo(struct session *s, char *err, size_t err_size)
{
	const char *dir = s->e->o.demo_dir;
	struct dirent **names = NULL;
	int n = dir[0] ? scandir(dir, &names, is_replay_name, demo_name_order) : -1;
	if (n <= 0) {
		snprintf(err, err_size, "demo://: no replays to play in '%s'", dir);
		free(names);
		return NULL;
	}
	struct sim_replay *replays = calloc((size_t)n, sizeof(*replays));
	char(*paths)[ENGINE_PATH_MAX + 256] = calloc((size_t)n, sizeof(*paths));
	struct sim_console *sim = NULL;
	if (replays && paths) {
		for (int i = 0; i < n; i++) {
			snprintf(paths[i], sizeof(paths[i]), "%s/%s", dir, names[i]->d_name);
			replays[i].path = paths[i];
		}
		struct sim_console_options so;
		sim_console_options_init(&so);
		so.replays = replays;
		so.n_replays = (size_t)n;
		so.loop = true;
		so.nick = "andross demo";
		so.broadcast_host = NULL; /* not a console on the network: nothing to discover */
		so.seed = s->e->o.seed;
		sim = sim_console_create(s->e->loop, &so, NULL, err, err_size);
	} else {
		snprintf(err, err_size, "out of memory");
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(replays);
	free(paths);
	return sim;
}

static struct source *make_source(struct session *s, const struct engine_session_options *o, char *err, size_t err_size)
{
	struct source_options so = {.speed = o->speed, .nick = o->nick[0] ? o->nick : NULL};
	struct source_callbacks scb = {.data = on_source_data,
				       .state = on_source_state,
				       .gap = on_source_gap,
				       .ended = on_source_ended,
				       .ud = s};
	if (!is_demo(o->url))
		return source_create(s->e->loop, o->url, &so, &scb, err, err_size);
	if (!s->demo && !(s->demo = make_demo(s, err, err_size)))
		return NULL;
	char url[64];
	snprintf(url, sizeof(url), "console://127.0.0.1:%u", sim_console_port(s->demo));
	return source_create(s->e->loop, url, &so, &scb, err, err_size);
}

/* The status fields that follow the relay (loop thread). */
static void status_relay(struct session *s)
{
	struct engine *e = s->e;
	struct relay_client_status clients[ENGINE_STATUS_CLIENTS_MAX];
	size_t listed = s->relay ? relay_clients(s->relay, clients, ENGINE_STATUS_CLIENTS_MAX) : 0;
	pthread_mutex_lock(&e->lock);
	s->st.relay_on = s->relay && relay_listening(s->relay);
	if (s->relay) {
		snprintf(s->st.relay_address, sizeof(s->st.relay_address), "%s", relay_address(s->relay));
		s->st.relay_clients = relay_client_count(s->relay);
		s->st.relay_backlog_bytes = relay_backlog_bytes(s->relay);
	} else {
		s->st.relay_address[0] = 0;
		s->st.relay_clients = 0;
		s->st.relay_backlog_bytes = 0;
	}
	s->st.relay_clients_listed = listed;
	for (size_t i = 0; i < listed; i++)
		s->st.clients[i] = clients[i];
	s->st.options = s->o;
	pthread_mutex_unlock(&e->lock);
}

/* ---- calls from any thread, run on the loop ---- */

typedef void (*call_fn)(struct engine *e, void *arg);

struct call {
	struct engine *e;
	call_fn fn;
	void *arg;
	bool done;
};

static void call_trampoline(void *ud)
{
	struct call *c = ud;
	c->fn(c->e, c->arg);
	pthread_mutex_lock(&c->e->call_lock);
	c->done = true;
	pthread_cond_broadcast(&c->e->call_done);
	pthread_mutex_unlock(&c->e->call_lock);
}

/* Runs fn on the loop thread and waits for it; runs it here when no loop runs, or when this is the loop. */
static int engine_call(struct engine *e, call_fn fn, void *arg)
{
	pthread_mutex_lock(&e->call_lock);
	if (e->running && pthread_equal(pthread_self(), e->loop_thread)) {
		pthread_mutex_unlock(&e->call_lock);
		fn(e, arg);
		return 0;
	}
	if (!e->running) {
		fn(e, arg); /* under call_lock: two such calls never run at once */
		pthread_mutex_unlock(&e->call_lock);
		return 0;
	}
	struct call c = {.e = e, .fn = fn, .arg = arg};
	if (net_loop_post(e->loop, call_trampoline, &c) < 0) {
		pthread_mutex_unlock(&e->call_lock);
		return -1;
	}
	while (!c.done)
		pthread_cond_wait(&e->call_done, &e->call_lock);
	pthread_mutex_unlock(&e->call_lock);
	return 0;
}

static struct session *find_session(struct engine *e, uint32_t id, size_t *index)
{
	for (size_t i = 0; i < e->n_sessions; i++) {
		if (e->sessions[i]->id == id) {
			if (index)
				*index = i;
			return e->sessions[i];
		}
	}
	return NULL;
}

struct add_call {
	const struct engine_session_options *o;
	uint32_t id;
	char *err;
	size_t err_size;
};

static void session_destroy_now(struct session *s)
{
	source_destroy(s->src);
	s->src = NULL;
	sim_console_destroy(s->demo);
	s->demo = NULL;
	relay_destroy(s->relay);
	s->relay = NULL;
}

static void do_add(struct engine *e, void *arg)
{
	struct add_call *a = arg;
	if (e->n_sessions == ENGINE_MAX_SESSIONS) {
		snprintf(a->err, a->err_size, "too many connections (at most %d)", ENGINE_MAX_SESSIONS);
		return;
	}
	if (!a->o->url[0]) {
		snprintf(a->err, a->err_size, "no source URL");
		return;
	}
	struct session *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(a->err, a->err_size, "out of memory");
		return;
	}
	s->e = e;
	s->id = e->next_id;
	s->o = *a->o;
	atomic_init(&s->frame_events, s->o.frame_events);
	atomic_init(&s->frame_min_ms, s->o.frame_events_min_ms);
	bytes_init(&s->line, 0);
	bytes_init(&s->rec_line, 0);
	atomic_init(&s->bytes, 0);
	atomic_init(&s->games_ended, 0);
	atomic_init(&s->source_ended, false);
	s->st.id = s->id;
	s->st.reconnect_in_ms = -1;
	s->mailbox = game_mailbox_create(e->o.mailbox_capacity, on_mailbox_notify, s);
	struct slp_recorder_options ro = {.out_dir = s->o.out_dir[0] ? s->o.out_dir : NULL,
					  .console_nick = s->o.nick[0] ? s->o.nick : NULL,
					  .max_games = s->o.max_games};
	struct slp_recorder_callbacks rcb = {.game_event = on_game_event,
					     .file = on_file,
					     .warning = on_warning,
					     .file_failed = on_file_failed,
					     .ud = s};
	char thread_name[16];
	snprintf(thread_name, sizeof(thread_name), "andross: rec %u", s->id);
	char dir[ENGINE_PATH_MAX + ENGINE_NICK_MAX + 2];
	if (s->o.out_dir[0] && s->o.console_subfolder) {
		console_folder(s, s->o.nick, dir, sizeof(dir));
		ro.out_dir = dir;
	}
	s->rec = s->mailbox ? slp_recorder_thread_create(&ro, &rcb, 0, thread_name, s->e->o.recorder_realtime_priority)
			    : NULL;
	if (!s->rec) {
		snprintf(a->err, a->err_size, "out of memory (or threads) for the recorder");
		session_free(s);
		return;
	}
	if (ro.out_dir == dir)
		slp_recorder_thread_set_out_dir(s->rec, dir); /* made on the recorder thread, before the first game */
	if (s->o.file_name[0])
		slp_recorder_thread_set_file_name(s->rec, s->o.file_name);
	if ((s->o.relay.enabled || s->o.keep_history) &&
	    !(s->relay = make_relay(s, &s->o.relay, a->err, a->err_size))) {
		session_free(s);
		return;
	}
	/* the table holds the session before the source starts: a file source may report at once */
	pthread_mutex_lock(&e->lock);
	e->sessions[e->n_sessions++] = s;
	pthread_mutex_unlock(&e->lock);
	status_relay(s);
	s->src = make_source(s, &s->o, a->err, a->err_size);
	if (!s->src) {
		pthread_mutex_lock(&e->lock);
		e->sessions[--e->n_sessions] = NULL;
		pthread_mutex_unlock(&e->lock);
		session_destroy_now(s);
		session_free(s);
		return;
	}
	e->next_id++;
	a->id = s->id;
	bool listening = s->relay && relay_listening(s->relay);
	logf_session(s, ENGINE_LOG_DEBUG, "added %s%s%s", s->o.url, listening ? ", relay on " : "",
		     listening ? relay_address(s->relay) : "");
}

uint32_t engine_add(struct engine *e, const struct engine_session_options *o, char *err, size_t err_size)
{
	char local[8];
	if (!err || !err_size) {
		err = local;
		err_size = sizeof(local);
	}
	err[0] = 0;
	struct add_call a = {.o = o, .err = err, .err_size = err_size};
	if (engine_call(e, do_add, &a) < 0)
		snprintf(err, err_size, "out of memory");
	return a.id;
}

struct remove_call {
	uint32_t id;
	int rc;
};

static void do_remove(struct engine *e, void *arg)
{
	struct remove_call *r = arg;
	size_t i;
	struct session *s = find_session(e, r->id, &i);
	if (!s) {
		r->rc = -1;
		return;
	}
	pthread_mutex_lock(&e->lock);
	memmove(&e->sessions[i], &e->sessions[i + 1], (e->n_sessions - i - 1) * sizeof(e->sessions[0]));
	e->sessions[--e->n_sessions] = NULL;
	pthread_mutex_unlock(&e->lock);
	logf_session(s, ENGINE_LOG_DEBUG, "removed");
	session_destroy_now(s);
	reap(e, s);
	r->rc = 0;
}

int engine_remove(struct engine *e, uint32_t id)
{
	struct remove_call r = {.id = id, .rc = -1};
	engine_call(e, do_remove, &r);
	return r.rc;
}

struct relay_call {
	uint32_t id;
	bool enabled;
	const char *host;
	uint16_t port;
	char *bound;
	size_t bound_size;
	char *err;
	size_t err_size;
	int rc;
};

/* The relay options that matter (the engine sets host, port, nick and seed itself). */
static bool same_relay_options(const struct relay_options *a, const struct relay_options *b)
{
	struct relay_options x = *a, y = *b;
	x.host = y.host = NULL;
	x.nick = y.nick = NULL;
	x.port = y.port = 0;
	x.seed = y.seed = 0;
	return !memcmp(&x, &y, sizeof(x));
}

/* Switches s's relay to rs (on, off, moved). On error nothing changed. */
/* A relay listens on an address, never a name: a name's lookup would block the loop thread. */
static bool numeric_host(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];
	return !*host || inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static int apply_relay(struct session *s, const struct engine_relay_settings *rs, char *err, size_t err_size)
{
	bool keep = s->o.keep_history;
	if (rs->enabled && !numeric_host(rs->host)) {
		snprintf(err, err_size, "the relay listens on an IP address (such as 127.0.0.1 or 0.0.0.0), not '%s'",
			 rs->host);
		return -1;
	}
	if (!rs->enabled) {
		if (s->relay && relay_listening(s->relay))
			logf_session(s, ENGINE_LOG_DEBUG, "relay on %s switched off", relay_address(s->relay));
		if (s->relay && keep && same_relay_options(&rs->options, &s->o.relay.options)) {
			relay_unlisten(s->relay, "the relay was switched off"); /* the history stays */
		} else {
			relay_destroy(s->relay);
			s->relay = keep ? make_relay(s, rs, err, err_size) : NULL;
		}
		s->o.relay = *rs;
		status_relay(s);
		return 0;
	}
	if (s->relay && !same_relay_options(&rs->options, &s->o.relay.options)) {
		/* a relay's limits are set when it is made: a new one, whose history starts now */
		struct relay *r = make_relay(s, rs, err, err_size);
		if (!r)
			return -1;
		relay_destroy(s->relay);
		s->relay = r;
	} else if (!s->relay) {
		if (!(s->relay = make_relay(s, rs, err, err_size)))
			return -1;
	} else if (!relay_listening(s->relay) || strcmp(rs->host, s->o.relay.host) ||
		   (rs->port && rs->port != relay_port(s->relay))) {
		/* moved, or switched on again: the clients being served and the history stay */
		if (relay_listen(s->relay, rs->host, rs->port, err, err_size) < 0)
			return -1;
	} else {
		s->o.relay = *rs;
		return 0; /* already so */
	}
	s->o.relay = *rs;
	logf_session(s, ENGINE_LOG_DEBUG, "relay listening on %s", relay_address(s->relay));
	status_relay(s);
	return 0;
}

static void do_set_relay(struct engine *e, void *arg)
{
	struct relay_call *c = arg;
	struct session *s = find_session(e, c->id, NULL);
	if (!s) {
		snprintf(c->err, c->err_size, "no connection %u", c->id);
		return;
	}
	struct engine_relay_settings rs = s->o.relay;
	rs.enabled = c->enabled;
	if (c->host && *c->host)
		snprintf(rs.host, sizeof(rs.host), "%s", c->host);
	if (c->port)
		rs.port = c->port;
	if (apply_relay(s, &rs, c->err, c->err_size) < 0)
		return;
	if (c->bound && c->bound_size)
		snprintf(c->bound, c->bound_size, "%s", s->relay ? relay_address(s->relay) : "");
	c->rc = 0;
}

int engine_set_relay(struct engine *e, uint32_t id, bool enabled, const char *host, uint16_t port, char *bound,
		     size_t bound_size, char *err, size_t err_size)
{
	char local[8];
	if (!err || !err_size) {
		err = local;
		err_size = sizeof(local);
	}
	err[0] = 0;
	struct relay_call c = {.id = id,
			       .enabled = enabled,
			       .host = host,
			       .port = port,
			       .bound = bound,
			       .bound_size = bound_size,
			       .err = err,
			       .err_size = err_size,
			       .rc = -1};
	if (engine_call(e, do_set_relay, &c) < 0)
		snprintf(err, err_size, "out of memory");
	return c.rc;
}

struct update_call {
	uint32_t id;
	const struct engine_session_options *o;
	char *err;
	size_t err_size;
	int rc;
};

static void do_update(struct engine *e, void *arg)
{
	struct update_call *c = arg;
	struct session *s = find_session(e, c->id, NULL);
	if (!s) {
		snprintf(c->err, c->err_size, "no connection %u", c->id);
		return;
	}
	const struct engine_session_options *o = c->o;
	if (!o->url[0]) {
		snprintf(c->err, c->err_size, "no source URL");
		return;
	}
	bool new_source = strcmp(o->url, s->o.url) || strcmp(o->nick, s->o.nick) || o->speed != s->o.speed;
	struct source *src = NULL;
	if (new_source) {
		/* made before the old one goes: a URL no source takes changes nothing */
		src = make_source(s, o, c->err, c->err_size);
		if (!src)
			return;
	}
	if (apply_relay(s, &o->relay, c->err, c->err_size) < 0) {
		source_destroy(src);
		return;
	}
	if (strcmp(o->file_name, s->o.file_name))
		slp_recorder_thread_set_file_name(s->rec, o->file_name);
	if (strcmp(o->out_dir, s->o.out_dir) || o->console_subfolder != s->o.console_subfolder) {
		char dir[ENGINE_PATH_MAX + ENGINE_NICK_MAX + 2];
		snprintf(dir, sizeof(dir), "%s", o->out_dir);
		if (o->out_dir[0] && o->console_subfolder) {
			struct session probe = *s;
			probe.o = *o;
			console_folder(&probe, s->st.console_nick, dir, sizeof(dir));
		}
		slp_recorder_thread_set_out_dir(s->rec, dir[0] ? dir : NULL);
	}
	if (new_source) {
		source_destroy(s->src);
		if (!is_demo(o->url)) {
			sim_console_destroy(s->demo);
			s->demo = NULL;
		}
		/* the old source's stream is over: its game is finished, and the new one starts at a boundary */
		slp_recorder_thread_end(s->rec);
		if (s->relay)
			relay_source_restart(s->relay);
		slp_recorder_thread_set_console_nick(s->rec, o->nick);
		if (s->relay && o->nick[0])
			relay_set_nick(s->relay, o->nick);
		s->src = src;
		atomic_store(&s->source_ended, false);
		pthread_mutex_lock(&e->lock);
		s->st.source_ended = false;
		s->st.console_nick[0] = 0;
		pthread_mutex_unlock(&e->lock);
	}
	struct engine_relay_settings rs = s->o.relay;
	uint64_t max_games = s->o.max_games;
	s->o = *o;
	atomic_store(&s->frame_events, o->frame_events);
	atomic_store(&s->frame_min_ms, o->frame_events_min_ms);
	s->o.relay = rs;            /* as apply_relay left it */
	s->o.max_games = max_games; /* the recorder keeps the limit it was made with */
	status_relay(s);
	if (new_source)
		logf_session(s, ENGINE_LOG_DEBUG, "now reading %s", o->url);
	c->rc = 0;
}

int engine_update(struct engine *e, uint32_t id, const struct engine_session_options *o, char *err, size_t err_size)
{
	char local[8];
	if (!err || !err_size) {
		err = local;
		err_size = sizeof(local);
	}
	err[0] = 0;
	struct update_call c = {.id = id, .o = o, .err = err, .err_size = err_size, .rc = -1};
	if (engine_call(e, do_update, &c) < 0)
		snprintf(err, err_size, "out of memory");
	return c.rc;
}

/* ---- status ---- */

static bool session_done(struct session *s)
{
	if (atomic_load(&s->source_ended))
		return true;
	return s->o.max_games && atomic_load(&s->games_ended) >= s->o.max_games;
}

static void on_status_timer(void *ud)
{
	struct engine *e = ud;
	e->status_timer = net_loop_timer(e->loop, ENGINE_STATUS_REFRESH_MS, on_status_timer, e);
	bool all_done = e->n_sessions > 0;
	uint64_t backlog = 0;
	for (size_t i = 0; i < e->n_sessions; i++) {
		struct session *s = e->sessions[i];
		status_relay(s);
		pthread_mutex_lock(&e->lock);
		s->st.bytes = atomic_load(&s->bytes);
		s->st.games_ended = atomic_load(&s->games_ended);
		backlog += s->st.relay_backlog_bytes;
		pthread_mutex_unlock(&e->lock);
		all_done = all_done && session_done(s);
	}
	if (!e->o.exit_when_done || !all_done)
		return;
	uint64_t now = net_now_ms();
	if (!e->drain_deadline_ms)
		e->drain_deadline_ms = now + ENGINE_DRAIN_TIMEOUT_MS;
	if (backlog == 0 || now >= e->drain_deadline_ms) {
		atomic_store(&e->done, true);
		net_loop_stop(e->loop);
	}
}

bool engine_status(struct engine *e, uint32_t id, struct engine_session_status *out)
{
	pthread_mutex_lock(&e->lock);
	struct session *s = find_session(e, id, NULL);
	if (s) {
		*out = s->st;
		uint64_t now = net_now_ms();
		out->reconnect_in_ms = !s->retry_at_ms        ? -1
				       : s->retry_at_ms > now ? (int64_t)(s->retry_at_ms - now)
							      : 0;
	}
	struct game_mailbox *m = s ? game_mailbox_retain(s->mailbox) : NULL;
	pthread_mutex_unlock(&e->lock);
	if (!m)
		return false;
	game_mailbox_latest_wait(m, &out->game);
	game_mailbox_release(m);
	return true;
}

size_t engine_sessions(struct engine *e, uint32_t *ids, size_t max)
{
	pthread_mutex_lock(&e->lock);
	size_t n = e->n_sessions < max ? e->n_sessions : max;
	for (size_t i = 0; i < n; i++)
		ids[i] = e->sessions[i]->id;
	pthread_mutex_unlock(&e->lock);
	return n;
}

bool engine_session_tag(struct engine *e, uint32_t id, uint64_t *tag)
{
	pthread_mutex_lock(&e->lock);
	struct session *s = find_session(e, id, NULL);
	if (s)
		*tag = s->st.options.tag;
	pthread_mutex_unlock(&e->lock);
	return s != NULL;
}

struct game_mailbox *engine_mailbox(struct engine *e, uint32_t id)
{
	pthread_mutex_lock(&e->lock);
	struct session *s = find_session(e, id, NULL);
	struct game_mailbox *m = s ? game_mailbox_retain(s->mailbox) : NULL;
	pthread_mutex_unlock(&e->lock);
	return m;
}

/* ---- discovery, for a window listing the consoles that announce themselves ---- */

/* Loop thread: the listener's list changed; the copy other threads read follows it. */
static void on_discovery(void *ud, const struct discovery_console *console, enum discovery_change change)
{
	struct engine *e = ud;
	(void)console;
	(void)change;
	const struct discovery_list *l = discovery_listener_list(e->discovery);
	pthread_mutex_lock(&e->lock);
	e->n_discovered = l->n;
	memcpy(e->discovered, l->consoles, l->n * sizeof(l->consoles[0]));
	pthread_mutex_unlock(&e->lock);
}

struct discovery_call {
	const char *host;
	uint16_t port;
	bool start;
	char *err;
	size_t err_size;
	int rc;
};

static void do_discovery(struct engine *e, void *arg)
{
	struct discovery_call *d = arg;
	d->rc = 0;
	if (!d->start) {
		if (e->discovery_users && --e->discovery_users == 0) {
			discovery_listener_destroy(e->discovery);
			e->discovery = NULL;
			pthread_mutex_lock(&e->lock);
			e->n_discovered = 0;
			pthread_mutex_unlock(&e->lock);
		}
		return;
	}
	if (!e->discovery) {
		struct discovery_listener_options o = {.host = d->host, .port = d->port, .fn = on_discovery, .ud = e};
		e->discovery = discovery_listener_create(e->loop, &o, d->err, d->err_size);
		if (!e->discovery) {
			d->rc = -1;
			return;
		}
	}
	e->discovery_users++;
}

int engine_discovery_start(struct engine *e, const char *host, uint16_t port, char *err, size_t err_size)
{
	struct discovery_call d =
		{.host = host, .port = port, .start = true, .err = err, .err_size = err_size, .rc = -1};
	if (engine_call(e, do_discovery, &d) < 0) {
		snprintf(err, err_size, "the engine is stopping");
		return -1;
	}
	return d.rc;
}

void engine_discovery_stop(struct engine *e)
{
	struct discovery_call d = {.start = false};
	engine_call(e, do_discovery, &d);
}

size_t engine_discovery_list(struct engine *e, struct discovery_console *out, size_t max)
{
	pthread_mutex_lock(&e->lock);
	size_t n = e->n_discovered < max ? e->n_discovered : max;
	memcpy(out, e->discovered, n * sizeof(out[0]));
	pthread_mutex_unlock(&e->lock);
	return n;
}

/* ---- lifetime ---- */

struct engine *engine_create(const struct engine_options *o, const struct engine_callbacks *cb, char *err,
			     size_t err_size)
{
	struct engine *e = calloc(1, sizeof(*e));
	if (!e) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	if (o)
		e->o = *o;
	if (cb)
		e->cb = *cb;
	e->next_id = 1;
	atomic_init(&e->done, false);
	pthread_mutex_init(&e->lock, NULL);
	pthread_mutex_init(&e->call_lock, NULL);
	pthread_cond_init(&e->call_done, NULL);
	pthread_mutex_init(&e->reap_lock, NULL);
	pthread_cond_init(&e->reap_cond, NULL);
	e->loop = net_loop_create();
	if (!e->loop) {
		snprintf(err, err_size, "out of memory for the event loop");
		engine_destroy(e);
		return NULL;
	}
	if (pthread_create(&e->reaper, NULL, reaper_main, e) != 0) {
		snprintf(err, err_size, "cannot start a thread");
		engine_destroy(e);
		return NULL;
	}
	e->reaper_started = true;
	return e;
}

/* The loop, on whichever thread runs it. */
static int loop_body(struct engine *e)
{
	e->status_timer = net_loop_timer(e->loop, ENGINE_STATUS_REFRESH_MS, on_status_timer, e);
	int rc = net_loop_run(e->loop);
	net_loop_cancel(e->loop, e->status_timer);
	e->status_timer = 0;
	pthread_mutex_lock(&e->call_lock);
	e->running = false;
	pthread_mutex_unlock(&e->call_lock);
	/* calls posted before `running` went false wait for this */
	net_loop_run_posted(e->loop);
	return rc;
}

int engine_run(struct engine *e)
{
	pthread_mutex_lock(&e->call_lock);
	if (e->running) {
		pthread_mutex_unlock(&e->call_lock);
		return -1;
	}
	e->running = true;
	e->loop_thread = pthread_self();
	pthread_mutex_unlock(&e->call_lock);
	return loop_body(e);
}

static void *loop_main(void *arg)
{
	struct engine *e = arg;
	net_thread_name("andross: loop");
	/* a console's bytes are read, and handed on, the moment they come; never realtime, even where the recorders
	 * are: a realtime loop is woken on another, often idle, CPU rather than where the bytes came in, and would hold
	 * its CPU through the relay's sends ahead of the recorders (docs/architecture.md) */
	net_thread_prefer_latency();
	loop_body(e);
	return NULL;
}

int engine_start(struct engine *e, char *err, size_t err_size)
{
	pthread_mutex_lock(&e->call_lock);
	if (e->running || e->own_thread) {
		pthread_mutex_unlock(&e->call_lock);
		snprintf(err, err_size, "the engine runs already");
		return -1;
	}
	e->running = true;
	if (pthread_create(&e->loop_thread, NULL, loop_main, e) != 0) {
		e->running = false;
		pthread_mutex_unlock(&e->call_lock);
		snprintf(err, err_size, "cannot start the engine's thread");
		return -1;
	}
	e->own_thread = true;
	pthread_mutex_unlock(&e->call_lock);
	return 0;
}

void engine_stop(struct engine *e)
{
	net_loop_stop(e->loop);
}

bool engine_done(struct engine *e)
{
	return atomic_load(&e->done) || net_loop_stopping(e->loop);
}

void engine_destroy(struct engine *e)
{
	if (!e)
		return;
	if (e->loop) {
		net_loop_stop(e->loop);
		if (e->own_thread)
			pthread_join(e->loop_thread, NULL);
		e->own_thread = false;
		/* no loop runs now: this thread owns everything */
		while (e->n_sessions) {
			struct session *s = e->sessions[e->n_sessions - 1];
			pthread_mutex_lock(&e->lock);
			e->sessions[--e->n_sessions] = NULL;
			pthread_mutex_unlock(&e->lock);
			session_destroy_now(s);
			reap(e, s);
		}
		discovery_listener_destroy(e->discovery); /* a window still open at the end */
		e->discovery = NULL;
	}
	if (e->reaper_started) {
		pthread_mutex_lock(&e->reap_lock);
		e->reap_quit = true;
		pthread_cond_signal(&e->reap_cond);
		pthread_mutex_unlock(&e->reap_lock);
		pthread_join(e->reaper, NULL); /* it finishes every recorder handed to it first */
	}
	if (e->loop)
		net_loop_destroy(e->loop);
	pthread_mutex_destroy(&e->lock);
	pthread_mutex_destroy(&e->call_lock);
	pthread_cond_destroy(&e->call_done);
	pthread_mutex_destroy(&e->reap_lock);
	pthread_cond_destroy(&e->reap_cond);
	free(e);
}
