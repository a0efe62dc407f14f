/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The engine (plugin/core/engine.c) in process, on its own loop thread, driven from the test's threads: two
 * sessions at once (the Wii simulator and a replay file), each file equal to its source's events; the relay
 * switched off, on and moved mid-game from another thread while raw and console clients read, each client's bytes
 * checked against the source; a session removed mid-game leaves a finished file; destroy during a reconnect
 * backoff is quick; 1,000 add/remove cycles from a second thread leave no leak (LeakSanitizer) and no growth.
 * Built twice: as is, and with the whole core under ThreadSanitizer (test_engine_tsan).
 */
#include "engine.h"
#include "net/loop.h"
#include "net/sock.h"
#include "sim_console.h"
#include "slp_file.h"
#include "slp_reader.h"
#include "slp_splitter.h"
#include "test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 60000 /* generous: the machine is shared; each wait below ends by itself far sooner */

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static void temp_dir(const char *tag, char *out, size_t size)
{
	snprintf(out, size, "%s/engine-%s-%d", ANDROSS_TEST_TMP, tag, (int)getpid());
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", out);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(mkdir(out, 0755), 0);
}

/* The .slp files in dir, sorted by name. Returns how many. */
static size_t list_slp(const char *dir, char names[][1024], size_t max)
{
	size_t n = 0;
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d)) && n < max) {
		size_t len = strlen(e->d_name);
		if (len > 4 && !strcmp(e->d_name + len - 4, ".slp"))
			snprintf(names[n++], 1024, "%s/%s", dir, e->d_name);
	}
	closedir(d);
	qsort(names, n, 1024, (int (*)(const void *, const void *))strcmp);
	return n;
}

/* A finished file (raw length patched, metadata present) whose events equal the replay's. */
static void assert_file_is_replay(const char *path, const char *replay)
{
	struct bytes file, want;
	char err[256];
	assert_int_equal(slp_read_whole_file(path, (size_t)1 << 30, &file, err, sizeof(err)), 0);
	struct slp_container c;
	assert_int_equal(slp_container_parse(file.data, file.len, &c, err, sizeof(err)), 0);
	assert_false(c.in_progress);
	assert_true(c.has_metadata);
	assert_true(tu_read_replay(replay, &want));
	const uint8_t *events;
	size_t len;
	assert_true(tu_events(&want, &events, &len));
	assert_int_equal(c.events_size, len);
	assert_memory_equal(file.data + c.events_offset, events, len);
	bytes_free(&file);
	bytes_free(&want);
}

/* ---- what the callbacks saw, per session ---- */

#define MAX_SEEN 8

struct seen {
	pthread_mutex_t lock;
	struct {
		uint32_t id;
		int game_start, game_end, stock_lost, frames, connection, replay_saved, relay_client;
		char last_type[32];
	} s[MAX_SEEN];
	int notifies;
	int warnings;
	int unterminated; /* events whose json is not a C string of json_len bytes */
};

static struct seen seen = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void seen_reset(void)
{
	pthread_mutex_lock(&seen.lock);
	memset(seen.s, 0, sizeof(seen.s));
	seen.notifies = 0;
	seen.warnings = 0;
	seen.unterminated = 0;
	pthread_mutex_unlock(&seen.lock);
}

static void on_event(void *ud, uint32_t id, const char *type, const char *json, size_t len)
{
	(void)ud;
	/* every event is one JSON object of its type */
	char head[48];
	snprintf(head, sizeof(head), "{\"type\":\"%s\"", type);
	bool well_formed = len > strlen(head) && !memcmp(json, head, strlen(head)) && json[len - 1] == '}';
	bool terminated = !memchr(json, 0, len) && json[len] == 0;
	pthread_mutex_lock(&seen.lock);
	if (!terminated)
		seen.unterminated++;
	for (int i = 0; i < MAX_SEEN; i++) {
		if (seen.s[i].id != id && seen.s[i].id)
			continue;
		seen.s[i].id = id;
		if (!well_formed)
			snprintf(seen.s[i].last_type, sizeof(seen.s[i].last_type), "BAD %s", type);
		else
			snprintf(seen.s[i].last_type, sizeof(seen.s[i].last_type), "%s", type);
		if (!strcmp(type, "game_start"))
			seen.s[i].game_start++;
		else if (!strcmp(type, "game_end"))
			seen.s[i].game_end++;
		else if (!strcmp(type, "stock_lost"))
			seen.s[i].stock_lost++;
		else if (!strcmp(type, "frame"))
			seen.s[i].frames++;
		else if (!strcmp(type, "connection"))
			seen.s[i].connection++;
		else if (!strcmp(type, "replay_saved"))
			seen.s[i].replay_saved++;
		else if (!strcmp(type, "relay_client"))
			seen.s[i].relay_client++;
		break;
	}
	pthread_mutex_unlock(&seen.lock);
}

static void on_notify(void *ud, uint32_t id)
{
	(void)ud;
	(void)id;
	pthread_mutex_lock(&seen.lock);
	seen.notifies++;
	pthread_mutex_unlock(&seen.lock);
}

static void on_log(void *ud, uint32_t id, int level, const char *message)
{
	(void)ud;
	if (getenv("ANDROSS_TEST_VERBOSE"))
		fprintf(stderr, "[%u] %d %s\n", id, level, message);
	if (level == ENGINE_LOG_WARNING) {
		pthread_mutex_lock(&seen.lock);
		seen.warnings++;
		pthread_mutex_unlock(&seen.lock);
	}
}

static const struct engine_callbacks callbacks = {.event = on_event, .notify = on_notify, .log = on_log, .ud = NULL};

static struct engine *start_engine(void)
{
	seen_reset();
	char err[256];
	struct engine_options o = {0};
	struct engine *e = engine_create(&o, &callbacks, err, sizeof(err));
	assert_non_null(e);
	assert_int_equal(engine_start(e, err, sizeof(err)), 0);
	return e;
}

/* Options for a session that reads one of the test replays at `speed` (0: as fast as it goes) into out_dir (NULL:
 * no files). */
static void replay_options(struct engine_session_options *o, const char *replay, double speed, const char *out_dir)
{
	engine_session_options_init(o);
	snprintf(o->url, sizeof(o->url), "%s/%s", ANDROSS_REPLAY_DIR, replay);
	o->speed = speed;
	if (out_dir)
		snprintf(o->out_dir, sizeof(o->out_dir), "%s", out_dir);
}

typedef bool (*status_pred)(const struct engine_session_status *st, void *arg);

/* Polls a session's status until pred holds. */
static void wait_status(struct engine *e, uint32_t id, status_pred pred, void *arg, const char *what)
{
	static struct engine_session_status st;
	for (int waited = 0; waited < WAIT_MS; waited += 10) {
		assert_true(engine_status(e, id, &st));
		if (pred(&st, arg))
			return;
		sleep_ms(10);
	}
	fail_msg("session %u: waited %d ms for %s (state %d: %s)", id, WAIT_MS, what, st.state, st.reason);
}

static bool games_recorded_at_least(const struct engine_session_status *st, void *arg)
{
	return st->games_recorded >= *(uint64_t *)arg;
}

static bool writing_with_bytes(const struct engine_session_status *st, void *arg)
{
	return st->current_file[0] && st->bytes >= *(uint64_t *)arg;
}

static bool waiting_to_reconnect(const struct engine_session_status *st, void *arg)
{
	(void)arg;
	return st->state == SOURCE_WAITING;
}

/* ---- the Wii simulator on a loop thread of the test's ---- */

struct sim_thread {
	struct net_loop *loop;
	pthread_t thread;
	struct sim_console *sim;
	const char *replay;
	const char *nick; /* NULL: the simulator's default */
	double speed;
	uint16_t port;
	char err[256];
	atomic_bool ready;
};

static void sim_create(void *ud)
{
	struct sim_thread *t = ud;
	struct sim_console_options o;
	sim_console_options_init(&o);
	struct sim_replay r = {.path = NULL};
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", ANDROSS_REPLAY_DIR, t->replay);
	r.path = path;
	o.replays = &r;
	o.n_replays = 1;
	o.speed = t->speed;
	o.broadcast_host = NULL;
	if (t->nick)
		o.nick = t->nick;
	t->sim = sim_console_create(t->loop, &o, NULL, t->err, sizeof(t->err));
	if (t->sim)
		t->port = sim_console_port(t->sim);
	atomic_store(&t->ready, true);
}

static void *sim_main(void *arg)
{
	struct sim_thread *t = arg;
	net_loop_run(t->loop);
	return NULL;
}

static void sim_start_named(struct sim_thread *t, const char *replay, double speed, const char *nick)
{
	memset(t, 0, sizeof(*t));
	t->nick = nick;
	t->replay = replay;
	t->speed = speed;
	atomic_init(&t->ready, false);
	t->loop = net_loop_create();
	assert_non_null(t->loop);
	net_loop_post(t->loop, sim_create, t);
	assert_int_equal(pthread_create(&t->thread, NULL, sim_main, t), 0);
	while (!atomic_load(&t->ready))
		sleep_ms(1);
	assert_non_null(t->sim);
}

static void sim_start(struct sim_thread *t, const char *replay, double speed)
{
	sim_start_named(t, replay, speed, NULL);
}

static void sim_destroy_on_loop(void *ud)
{
	struct sim_thread *t = ud;
	sim_console_destroy(t->sim);
	net_loop_stop(t->loop);
}

static void sim_stop(struct sim_thread *t)
{
	net_loop_post(t->loop, sim_destroy_on_loop, t);
	pthread_join(t->thread, NULL);
	net_loop_destroy(t->loop);
}

/* ---- the tests ---- */

static void test_two_sessions_a_simulator_and_a_file(void **state)
{
	(void)state;
	struct sim_thread sim;
	sim_start(&sim, "v3.13.slp", 0);
	char dir_a[512], dir_b[512], err[256];
	temp_dir("file", dir_a, sizeof(dir_a));
	temp_dir("wii", dir_b, sizeof(dir_b));
	struct engine *e = start_engine();

	struct engine_session_options o;
	replay_options(&o, "v3.14.0.slp", 0, dir_a);
	snprintf(o.name, sizeof(o.name), "replay");
	uint32_t a = engine_add(e, &o, err, sizeof(err));
	assert_int_not_equal(a, 0);

	snprintf(o.name, sizeof(o.name), "wii");
	snprintf(o.url, sizeof(o.url), "console://127.0.0.1:%u", sim.port);
	snprintf(o.out_dir, sizeof(o.out_dir), "%s", dir_b);
	uint32_t b = engine_add(e, &o, err, sizeof(err));
	assert_int_not_equal(b, 0);
	assert_int_not_equal(a, b);

	uint32_t ids[4];
	assert_int_equal(engine_sessions(e, ids, 4), 2);
	assert_int_equal(ids[0], a);
	assert_int_equal(ids[1], b);

	uint64_t one = 1;
	wait_status(e, a, games_recorded_at_least, &one, "the replay's game");
	wait_status(e, b, games_recorded_at_least, &one, "the simulator's game");
	static struct engine_session_status st;
	assert_true(engine_status(e, b, &st));
	assert_int_equal(st.state, SOURCE_CONNECTED);
	assert_string_equal(st.console_nick, SIM_CONSOLE_NICK_DEFAULT);
	assert_string_equal(st.options.name, "wii");
	assert_true(st.game.has_game);
	assert_false(st.game.in_game);
	assert_int_equal(st.gaps, 0);

	/* the mailbox holds the game's notes, in order, with one wake-up per burst at most */
	struct game_mailbox *m = engine_mailbox(e, a);
	assert_non_null(m);
	struct game_note notes[64];
	size_t n;
	bool saw_start = false, saw_end = false;
	/* in batches: a game's notes (its combos among them) can be more than one batch */
	while ((n = game_mailbox_take(m, notes, 64)) > 0) {
		for (size_t i = 0; i < n; i++) {
			saw_start |= !strcmp(notes[i].type, "game_start");
			saw_end |= saw_start && !strcmp(notes[i].type, "game_end");
			game_note_free(&notes[i]);
		}
	}
	assert_true(saw_start && saw_end);
	game_mailbox_release(m);

	engine_destroy(e);
	sim_stop(&sim);

	char files[4][1024];
	assert_int_equal(list_slp(dir_a, files, 4), 1);
	assert_file_is_replay(files[0], "v3.14.0.slp");
	assert_int_equal(list_slp(dir_b, files, 4), 1);
	assert_file_is_replay(files[0], "v3.13.slp");

	pthread_mutex_lock(&seen.lock);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(seen.s[i].game_start, 1);
		assert_int_equal(seen.s[i].game_end, 1);
		assert_int_equal(seen.s[i].replay_saved, 1);
		assert_int_equal(seen.s[i].frames, 0); /* frame events are off by default */
		assert_true(seen.s[i].connection >= 1);
		assert_true(strncmp(seen.s[i].last_type, "BAD", 3));
	}
	assert_true(seen.notifies >= 2);
	pthread_mutex_unlock(&seen.lock);
}

/* Plays v3.13.slp as fast as it goes with frame events on (at most one per min_ms; 0: every frame) until its game
 * is recorded, then stops the engine: seen.s[0] holds what the `event` callback got. */
static void play_with_frame_events(const char *tag, uint32_t min_ms)
{
	char dir[512], err[256];
	temp_dir(tag, dir, sizeof(dir));
	struct engine *e = start_engine();
	struct engine_session_options o;
	replay_options(&o, "v3.13.slp", 0, dir);
	snprintf(o.name, sizeof(o.name), "frames");
	o.frame_events = true;
	o.frame_events_min_ms = min_ms;
	uint32_t id = engine_add(e, &o, err, sizeof(err));
	assert_int_not_equal(id, 0);
	uint64_t one = 1;
	wait_status(e, id, games_recorded_at_least, &one, "the replay's game");
	engine_destroy(e);
}

/* With frame events on, every event's JSON reaches the `event` callback as a C string too: the OBS module hands it to
 * obs_data, and a frame made in the buffer a longer game_start had used once carried that event's tail. */
static void test_event_json_is_a_c_string(void **state)
{
	(void)state;
	play_with_frame_events("cstr", 0);
	pthread_mutex_lock(&seen.lock);
	int starts = seen.s[0].game_start, frames = seen.s[0].frames, unterminated = seen.unterminated;
	pthread_mutex_unlock(&seen.lock);
	assert_int_equal(starts, 1);
	assert_int_equal(frames, 123 + 24 + 1); /* v3.13.slp: frames -123 to 24 */
	assert_int_equal(unterminated, 0);
}

/* frame_events_min_ms: a frame event only when one is due, the others' JSON never made. A file read as fast as it
 * goes (the whole game in milliseconds) with one a second gives its first frame event and no other. */
static void test_frame_events_come_at_most_once_per_min_ms(void **state)
{
	(void)state;
	play_with_frame_events("frame-rate", 1000);
	pthread_mutex_lock(&seen.lock);
	int starts = seen.s[0].game_start, ends = seen.s[0].game_end, frames = seen.s[0].frames;
	pthread_mutex_unlock(&seen.lock);
	assert_int_equal(starts, 1);
	assert_int_equal(ends, 1);
	assert_int_equal(frames, 1);
}

static bool connected(const struct engine_session_status *st, void *arg)
{
	(void)arg;
	return st->state == SOURCE_CONNECTED && st->console_nick[0];
}

/* The console's name field holds 32 bytes: a name whose last character straddles them arrives cut in the middle of
 * it. The source keeps whole characters only, so status, relay handshakes and replays carry valid UTF-8. */
static void test_a_wii_name_cut_mid_character_is_kept_whole_characters_only(void **state)
{
	(void)state;
	const char *nick = "0123456789012345678901234567890\xc3\xa9"; /* 31 ASCII bytes, then "é" across byte 32 */
	struct sim_thread sim;
	sim_start_named(&sim, "v3.13.slp", 1, nick);
	struct engine *e = start_engine();
	struct engine_session_options o;
	engine_session_options_init(&o);
	snprintf(o.url, sizeof(o.url), "console://127.0.0.1:%u", sim.port);
	char err[256];
	uint32_t id = engine_add(e, &o, err, sizeof(err));
	assert_int_not_equal(id, 0);
	wait_status(e, id, connected, NULL, "the console's name");
	static struct engine_session_status st;
	assert_true(engine_status(e, id, &st));
	assert_string_equal(st.console_nick, "0123456789012345678901234567890");
	engine_destroy(e);
	sim_stop(&sim);
}

static void test_bad_sessions_are_refused_with_a_reason(void **state)
{
	(void)state;
	struct engine *e = start_engine();
	struct engine_session_options o;
	engine_session_options_init(&o);
	char err[256];
	snprintf(o.url, sizeof(o.url), "ftp://example");
	assert_int_equal(engine_add(e, &o, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "unknown source"));
	snprintf(o.url, sizeof(o.url), "%s/no-such-replay.slp", ANDROSS_TEST_TMP);
	assert_int_equal(engine_add(e, &o, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "no-such-replay.slp"));

	/* a relay port in use */
	uint16_t taken = 0;
	int fd = net_tcp_listen("127.0.0.1", 0, 4, &taken, err, sizeof(err));
	assert_true(fd >= 0);
	snprintf(o.url, sizeof(o.url), "%s/v3.13.slp", ANDROSS_REPLAY_DIR);
	o.relay.enabled = true;
	o.relay.port = taken;
	assert_int_equal(engine_add(e, &o, err, sizeof(err)), 0);
	assert_true(err[0] != 0);
	net_close(fd);

	uint32_t ids[4];
	assert_int_equal(engine_sessions(e, ids, 4), 0); /* nothing half-made is left */
	assert_int_equal(engine_remove(e, 12345), -1);
	static struct engine_session_status st;
	assert_false(engine_status(e, 12345, &st));
	assert_null(engine_mailbox(e, 12345));
	assert_int_equal(engine_set_relay(e, 12345, true, NULL, 0, NULL, 0, err, sizeof(err)), -1);
	engine_destroy(e);
}

static void test_removed_mid_game_leaves_a_finished_file(void **state)
{
	(void)state;
	char dir[512], err[256];
	temp_dir("remove", dir, sizeof(dir));
	struct engine *e = start_engine();
	struct engine_session_options o;
	replay_options(&o, "v3.14.0.slp", 10, dir); /* about 14 s for the whole game: removed well before its end */
	uint32_t id = engine_add(e, &o, err, sizeof(err));
	assert_int_not_equal(id, 0);
	uint64_t some = 200000;
	wait_status(e, id, writing_with_bytes, &some, "a file and 200,000 bytes");
	assert_int_equal(engine_remove(e, id), 0);
	assert_int_equal(engine_remove(e, id), -1);
	engine_destroy(e); /* the reaper finishes the file before this returns */

	char files[4][1024];
	assert_int_equal(list_slp(dir, files, 4), 1);
	struct slp_repair_result res;
	assert_int_equal(slp_file_repair(files[0], &res, err, sizeof(err)), 0);
	assert_true(res.already_complete); /* nothing for repair to do */
	struct bytes file;
	assert_int_equal(slp_read_whole_file(files[0], (size_t)1 << 30, &file, err, sizeof(err)), 0);
	struct slp_container c;
	assert_int_equal(slp_container_parse(file.data, file.len, &c, err, sizeof(err)), 0);
	assert_false(c.in_progress);
	assert_true(c.has_metadata);
	assert_true(c.events_size >= some);
	/* a prefix of the replay's events, whole events only */
	struct bytes want;
	assert_true(tu_read_replay("v3.14.0.slp", &want));
	const uint8_t *events;
	size_t len;
	assert_true(tu_events(&want, &events, &len));
	assert_true(c.events_size < len);
	assert_memory_equal(file.data + c.events_offset, events, c.events_size);
	bytes_free(&file);
	bytes_free(&want);
}

static void test_destroy_during_reconnect_backoff_is_quick(void **state)
{
	(void)state;
	/* a port where nothing listens: the console source waits to retry */
	char err[256];
	uint16_t port = 0;
	int fd = net_tcp_listen("127.0.0.1", 0, 1, &port, err, sizeof(err));
	assert_true(fd >= 0);
	net_close(fd);
	struct engine *e = start_engine();
	struct engine_session_options o;
	engine_session_options_init(&o);
	snprintf(o.url, sizeof(o.url), "console://127.0.0.1:%u", port);
	o.relay.enabled = true;
	o.relay.port = 0;
	uint32_t id = engine_add(e, &o, err, sizeof(err));
	assert_int_not_equal(id, 0);
	wait_status(e, id, waiting_to_reconnect, NULL, "a reconnect backoff");
	static struct engine_session_status st;
	assert_true(engine_status(e, id, &st));
	if (st.state == SOURCE_WAITING) /* the countdown to the next attempt, below the longest backoff */
		assert_true(st.reconnect_in_ms >= 0 && st.reconnect_in_ms <= 60000);
	uint64_t t0 = net_now_us();
	engine_destroy(e);
	uint64_t took_us = net_now_us() - t0;
	fprintf(stderr, "engine_destroy during a backoff took %llu us\n", (unsigned long long)took_us);
	assert_true(took_us <
		    1000000); /* the bound for OBS's exit; a loaded machine under TSan takes ~0.25 s */
}

/* 1,000 add/remove cycles from a second thread while a third reads the status: no leak, no growth. */
struct churn {
	struct engine *e;
	atomic_bool done;
	int failures;
	char last_err[256];
};

static void *churn_main(void *arg)
{
	struct churn *c = arg;
	struct engine_session_options o;
	replay_options(&o, "v3.13.slp", 1, NULL);
	for (int i = 0; i < 1000; i++) {
		o.relay.enabled = i % 3 == 0; /* every third with a relay on a free port */
		o.relay.port = 0;
		uint32_t id = engine_add(c->e, &o, c->last_err, sizeof(c->last_err));
		if (!id || engine_remove(c->e, id) != 0)
			c->failures++;
	}
	atomic_store(&c->done, true);
	return NULL;
}

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "VmRSS:", 6))
			kb = strtol(line + 6, NULL, 10);
	}
	if (f)
		fclose(f);
	return kb;
}

static void test_add_remove_cycles_from_another_thread(void **state)
{
	(void)state;
	struct engine *e = start_engine();
	struct churn c = {.e = e};
	atomic_init(&c.done, false);
	/* a warm-up round first, so the allocator's pools are made before the measure */
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, churn_main, &c), 0);
	pthread_join(t, NULL);
	assert_int_equal(c.failures, 0);
	long before = rss_kb();
	atomic_store(&c.done, false);
	assert_int_equal(pthread_create(&t, NULL, churn_main, &c), 0);
	static struct engine_session_status st;
	while (!atomic_load(&c.done)) {
		uint32_t ids[ENGINE_MAX_SESSIONS];
		size_t n = engine_sessions(e, ids, ENGINE_MAX_SESSIONS);
		for (size_t i = 0; i < n; i++)
			engine_status(e, ids[i], &st); /* may be gone already: false is fine */
	}
	pthread_join(t, NULL);
	assert_int_equal(c.failures, 0);
	uint32_t ids[4];
	assert_int_equal(engine_sessions(e, ids, 4), 0);
	/* removed sessions' recorders finish on the reaper thread, later on a loaded machine: give it 10 s */
	long after = rss_kb();
	for (int i = 0; i < 100 && after - before >= 8 * 1024; i++) {
		usleep(100 * 1000);
		after = rss_kb();
	}
	fprintf(stderr, "RSS before 1,000 add/remove cycles %ld KiB, after %ld KiB\n", before, after);
	assert_true(after - before < 8 * 1024);
	engine_destroy(e);
}

/* demo:// plays the replays of the engine's demo folder in real time, read as a Wii would be. */
static void test_demo_plays_the_demo_folder_in_real_time(void **state)
{
	(void)state;
	char demo[512], out[512], err[256], cmd[1200];
	temp_dir("demo-replays", demo, sizeof(demo));
	temp_dir("demo-out", out, sizeof(out));
	snprintf(cmd, sizeof(cmd), "cp '%s/v3.13.slp' '%s/'", ANDROSS_REPLAY_DIR, demo);
	assert_int_equal(system(cmd), 0);

	seen_reset();
	struct engine_options eo = {0};
	snprintf(eo.demo_dir, sizeof(eo.demo_dir), "%s", demo);
	struct engine *e = engine_create(&eo, &callbacks, err, sizeof(err));
	assert_non_null(e);
	assert_int_equal(engine_start(e, err, sizeof(err)), 0);
	struct engine_session_options o;
	engine_session_options_init(&o);
	snprintf(o.url, sizeof(o.url), "demo://");
	snprintf(o.out_dir, sizeof(o.out_dir), "%s", out);
	snprintf(o.file_name, sizeof(o.file_name), "2026-11-28 10-00-00 - Demo"); /* named after a video */
	uint32_t id = engine_add(e, &o, err, sizeof(err));
	assert_int_not_equal(id, 0);
	uint64_t t0 = net_now_ms();
	uint64_t one = 1;
	wait_status(e, id, games_recorded_at_least, &one, "the demo's first game");
	uint64_t took = net_now_ms() - t0;
	static struct engine_session_status st;
	assert_true(engine_status(e, id, &st));
	assert_string_equal(st.options.url, "demo://");
	assert_string_equal(st.console_nick, "andross demo");
	assert_int_equal(st.state, SOURCE_CONNECTED);
	/* real time: the game's 148 frames take about 2.5 s */
	fprintf(stderr, "the demo's first game took %llu ms\n", (unsigned long long)took);
	assert_true(took >= 2000);
	assert_file_is_replay(st.last_file, "v3.13.slp");
	char want[1024];
	snprintf(want, sizeof(want), "%s/2026-11-28 10-00-00 - Demo.slp", out);
	assert_string_equal(st.last_file, want);
	engine_destroy(e);

	/* no demo folder: a clear error */
	e = start_engine();
	assert_int_equal(engine_add(e, &o, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "demo://"));
	engine_destroy(e);
}

/* ---- relay clients: a raw reader thread, and a console:// source on a loop thread of the test's ---- */

struct raw_reader {
	uint16_t port;
	pthread_t thread;
	struct bytes events; /* the event bytes it got, fillers left out */
	size_t received;
	bool connected;
	pthread_mutex_t lock;
};

static int collect_event(void *ud, const struct slp_event *ev)
{
	struct bytes *out = ud;
	if (!ev->reassembled)
		assert_true(bytes_append(out, ev->data, ev->size));
	return 0;
}

static void *raw_main(void *arg)
{
	struct raw_reader *r = arg;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(r->port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return NULL;
	}
	struct slp_splitter sp;
	slp_splitter_init(&sp);
	pthread_mutex_lock(&r->lock);
	r->connected = true;
	pthread_mutex_unlock(&r->lock);
	uint8_t buf[65536];
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			break;
		pthread_mutex_lock(&r->lock);
		r->received += (size_t)n;
		slp_splitter_feed(&sp, buf, (size_t)n, collect_event, &r->events);
		pthread_mutex_unlock(&r->lock);
	}
	slp_splitter_free(&sp);
	close(fd);
	return NULL;
}

static void raw_start(struct raw_reader *r, uint16_t port)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	bytes_init(&r->events, 0);
	r->port = port;
	assert_int_equal(pthread_create(&r->thread, NULL, raw_main, r), 0);
}

static size_t raw_received(struct raw_reader *r)
{
	pthread_mutex_lock(&r->lock);
	size_t n = r->events.len;
	pthread_mutex_unlock(&r->lock);
	return n;
}

struct console_reader {
	struct net_loop *loop;
	pthread_t thread;
	struct source *src;
	uint16_t port;
	pthread_mutex_t lock;
	struct bytes got;
	int gaps;
	char nick[64];
};

static void cr_data(void *ud, const uint8_t *bytes, size_t len)
{
	struct console_reader *c = ud;
	pthread_mutex_lock(&c->lock);
	bytes_append(&c->got, bytes, len);
	pthread_mutex_unlock(&c->lock);
}

static void cr_state(void *ud, enum source_state state, const char *reason)
{
	struct console_reader *c = ud;
	(void)reason;
	if (state == SOURCE_CONNECTED) {
		pthread_mutex_lock(&c->lock);
		snprintf(c->nick, sizeof(c->nick), "%s", source_nick(c->src));
		pthread_mutex_unlock(&c->lock);
	}
}

static void cr_gap(void *ud, uint64_t from, uint64_t to, const char *reason)
{
	struct console_reader *c = ud;
	(void)from;
	(void)to;
	(void)reason;
	pthread_mutex_lock(&c->lock);
	c->gaps++;
	pthread_mutex_unlock(&c->lock);
}

static void cr_create(void *ud)
{
	struct console_reader *c = ud;
	char url[64], err[256];
	snprintf(url, sizeof(url), "console://127.0.0.1:%u", c->port);
	struct source_options so = {0};
	struct source_callbacks cb = {.data = cr_data, .state = cr_state, .gap = cr_gap, .ud = c};
	c->src = source_create(c->loop, url, &so, &cb, err, sizeof(err));
}

static void *cr_main(void *arg)
{
	struct console_reader *c = arg;
	net_loop_run(c->loop);
	return NULL;
}

static void cr_start(struct console_reader *c, uint16_t port)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	bytes_init(&c->got, 0);
	c->port = port;
	c->loop = net_loop_create();
	net_loop_post(c->loop, cr_create, c);
	assert_int_equal(pthread_create(&c->thread, NULL, cr_main, c), 0);
}

static void cr_stop_on_loop(void *ud)
{
	struct console_reader *c = ud;
	source_destroy(c->src);
	net_loop_stop(c->loop);
}

static void cr_stop(struct console_reader *c)
{
	net_loop_post(c->loop, cr_stop_on_loop, c);
	pthread_join(c->thread, NULL);
	net_loop_destroy(c->loop);
}

static size_t cr_received(struct console_reader *c)
{
	pthread_mutex_lock(&c->lock);
	size_t n = c->got.len;
	pthread_mutex_unlock(&c->lock);
	return n;
}

static uint16_t free_port(void)
{
	char err[128];
	uint16_t port = 0;
	int fd = net_tcp_listen("127.0.0.1", 0, 1, &port, err, sizeof(err));
	assert_true(fd >= 0);
	net_close(fd);
	return port;
}

static bool port_accepts(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bool ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

static void wait_for(bool (*pred)(void *), void *arg, const char *what)
{
	for (int waited = 0; waited < WAIT_MS; waited += 5) {
		if (pred(arg))
			return;
		sleep_ms(5);
	}
	fail_msg("waited %d ms for %s", WAIT_MS, what);
}

struct progress {
	struct engine *e;
	uint32_t id;
	struct raw_reader *raw;
	struct console_reader *con;
	size_t at_least;
};

static bool readers_have(void *arg)
{
	struct progress *p = arg;
	return (!p->raw || raw_received(p->raw) >= p->at_least) && (!p->con || cr_received(p->con) >= p->at_least);
}

static bool session_done_and_drained(void *arg)
{
	struct progress *p = arg;
	static struct engine_session_status st;
	return engine_status(p->e, p->id, &st) && st.source_ended && st.relay_backlog_bytes == 0 &&
	       st.relay_clients > 0;
}

/* The relay switched off, on and moved mid-game from this thread while a raw and a console client read. */
static void test_relay_moved_and_switched_mid_game_while_clients_read(void **state)
{
	(void)state;
	struct bytes replay;
	assert_true(tu_read_replay("v3.14.0.slp", &replay));
	const uint8_t *events;
	size_t events_len;
	assert_true(tu_events(&replay, &events, &events_len));

	struct engine *e = start_engine();
	struct engine_session_options o;
	replay_options(&o, "v3.14.0.slp", 12, NULL); /* about 17 s for the game */
	o.keep_history = true;
	o.relay.enabled = true;
	o.relay.port = free_port();
	char err[256], bound[ENGINE_ADDRESS_MAX];
	uint32_t id = engine_add(e, &o, err, sizeof(err));
	assert_int_not_equal(id, 0);
	uint16_t p1 = o.relay.port;

	struct raw_reader raw;
	struct console_reader con;
	raw_start(&raw, p1);
	cr_start(&con, p1);
	struct progress pr = {.e = e, .id = id, .raw = &raw, .con = &con, .at_least = 100000};
	wait_for(readers_have, &pr, "both clients reading");

	/* moved: the clients being served stay, the old port closes, the new one accepts */
	uint16_t p2 = free_port();
	assert_int_equal(engine_set_relay(e, id, true, "127.0.0.1", p2, bound, sizeof(bound), err, sizeof(err)), 0);
	char want[64];
	snprintf(want, sizeof(want), "127.0.0.1:%u", p2);
	assert_string_equal(bound, want);
	assert_false(port_accepts(p1));
	size_t raw_at_move = raw_received(&raw), con_at_move = cr_received(&con);
	pr.at_least = (raw_at_move > con_at_move ? raw_at_move : con_at_move) + 200000;
	wait_for(readers_have, &pr, "both clients reading on after the move");

	/* a port in use is refused, and nothing changes */
	uint16_t taken = 0;
	int fd = net_tcp_listen("127.0.0.1", 0, 1, &taken, err, sizeof(err));
	assert_int_equal(engine_set_relay(e, id, true, "127.0.0.1", taken, bound, sizeof(bound), err, sizeof(err)), -1);
	assert_true(err[0] != 0);
	net_close(fd);
	assert_true(port_accepts(p2));

	/* switched off: the port closes, the clients are closed, the source goes on */
	assert_int_equal(engine_set_relay(e, id, false, NULL, 0, NULL, 0, err, sizeof(err)), 0);
	pthread_join(raw.thread, NULL); /* the raw client saw the relay close */
	assert_false(port_accepts(p2));
	cr_stop(&con);
	static struct engine_session_status st;
	assert_true(engine_status(e, id, &st));
	assert_false(st.relay_on);
	assert_false(st.source_ended);
	uint64_t bytes_when_off = st.bytes;

	/* each client's bytes are the source's, from the game's start, with nothing lost or doubled */
	assert_true(raw.events.len > raw_at_move);
	assert_true(raw.events.len <= events_len);
	assert_memory_equal(raw.events.data, events, raw.events.len);
	assert_true(con.got.len > con_at_move);
	assert_true(con.got.len <= events_len);
	assert_memory_equal(con.got.data, events, con.got.len);
	assert_string_equal(con.nick, RELAY_NICK_DEFAULT); /* a file has no console name: the relay's own */

	/* on again, elsewhere: a new client gets the current game from its start (keep_history), then the rest */
	uint16_t p3 = free_port();
	assert_int_equal(engine_set_relay(e, id, true, "127.0.0.1", p3, bound, sizeof(bound), err, sizeof(err)), 0);
	struct raw_reader late;
	raw_start(&late, p3);
	pr.raw = &late;
	pr.con = NULL;
	wait_for(session_done_and_drained, &pr, "the source's end, every byte sent");
	assert_true(bytes_when_off < events_len);
	engine_destroy(e);
	pthread_join(late.thread, NULL);
	assert_int_equal(late.events.len, events_len);
	assert_memory_equal(late.events.data, events, events_len);

	bytes_free(&raw.events);
	bytes_free(&late.events);
	bytes_free(&con.got);
	bytes_free(&replay);
}

/* A console client that connects before the relay's console has said its name is told the name, not a default. */
static void test_early_console_client_gets_the_console_name(void **state)
{
	(void)state;
	uint16_t sim_port = free_port();
	struct engine *e = start_engine();
	struct engine_session_options o;
	engine_session_options_init(&o);
	snprintf(o.url, sizeof(o.url), "console://127.0.0.1:%u", sim_port);
	o.relay.enabled = true;
	o.relay.port = free_port();
	char err[256];
	uint32_t id = engine_add(e, &o, err, sizeof(err));
	assert_int_not_equal(id, 0);
	/* the client connects while nothing listens at the console's address */
	struct console_reader con;
	cr_start(&con, o.relay.port);
	sleep_ms(500);
	struct sim_thread sim;
	sim_start_named(&sim, "v3.13.slp", 0, "Stage Left");
	/* the simulator's port is a new one: point the session at it */
	snprintf(o.url, sizeof(o.url), "console://127.0.0.1:%u", sim.port);
	assert_int_equal(engine_update(e, id, &o, err, sizeof(err)), 0);
	struct progress pr = {.e = e, .id = id, .con = &con, .at_least = 117226};
	wait_for(readers_have, &pr, "the whole game at the console client");
	pthread_mutex_lock(&con.lock);
	assert_string_equal(con.nick, "Stage Left");
	pthread_mutex_unlock(&con.lock);
	cr_stop(&con);
	engine_destroy(e);
	sim_stop(&sim);
	bytes_free(&con.got);
}

/* A free UDP port on 127.0.0.1 (bound and closed). */
static uint16_t free_udp_port(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	socklen_t len = sizeof(a);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static void announce(uint16_t port, const char *nick)
{
	static const uint8_t mac[6] = {0x00, 0x17, 0xab, 0x5a, 0x11, 0x01};
	uint8_t d[DISCOVERY_DATAGRAM_BYTES];
	discovery_encode(d, mac, nick);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(sendto(fd, d, sizeof(d), 0, (struct sockaddr *)&a, sizeof(a)), (ssize_t)sizeof(d));
	close(fd);
}

/* Waits until the engine's discovery list holds n consoles; the first one goes to *first. */
static bool wait_discovered(struct engine *e, size_t n, struct discovery_console *first)
{
	struct discovery_console list[DISCOVERY_MAX_CONSOLES];
	for (int waited = 0; waited < WAIT_MS; waited += 10) {
		size_t got = engine_discovery_list(e, list, DISCOVERY_MAX_CONSOLES);
		if (got == n) {
			if (n && first)
				*first = list[0];
			return true;
		}
		sleep_ms(10);
	}
	return false;
}

/* The dock's add dialog lists the consoles announcing themselves while it is open: discovery runs on the loop from
 * the first start to the last stop (a reference each), the list is copied out without the loop, an address that
 * cannot be bound is an error and leaves nothing listening. */
static void test_discovery_runs_while_someone_wants_it(void **state)
{
	(void)state;
	struct engine *e = start_engine();
	char err[256] = "";
	struct discovery_console list[4];
	assert_int_equal(engine_discovery_list(e, list, 4), 0);
	uint16_t port = free_udp_port();
	assert_int_equal(engine_discovery_start(e, "127.0.0.1", port, err, sizeof(err)), 0);
	assert_int_equal(engine_discovery_start(e, NULL, 1, err, sizeof(err)), 0); /* joins the one listening */

	announce(port, "Station 1");
	struct discovery_console c;
	assert_true(wait_discovered(e, 1, &c));
	assert_string_equal(c.ip, "127.0.0.1");
	assert_string_equal(c.nick, "Station 1");
	assert_int_equal(c.mac[2], 0xab);
	assert_int_equal(engine_discovery_list(e, list, 0), 0); /* max 0 copies nothing */

	/* an address this machine does not have: an error, and it listens nowhere (the port is shared: SO_REUSEADDR) */
	struct engine *other = start_engine();
	err[0] = 0;
	assert_int_equal(engine_discovery_start(other, "192.0.2.1", port, err, sizeof(err)), -1);
	assert_true(err[0] != 0);
	assert_int_equal(engine_discovery_list(other, list, 4), 0);
	engine_discovery_stop(other); /* without a reference: nothing happens */
	engine_destroy(other);

	engine_discovery_stop(e); /* one user left: still listening, the list kept */
	assert_int_equal(engine_discovery_list(e, list, 4), 1);
	engine_discovery_stop(e); /* the last: the port closes, the list empties */
	assert_int_equal(engine_discovery_list(e, list, 4), 0);
	announce(port, "Station 1"); /* nobody listens: it stays empty */
	sleep_ms(200);
	assert_int_equal(engine_discovery_list(e, list, 4), 0);

	/* started again, and left open: engine_destroy closes it */
	assert_int_equal(engine_discovery_start(e, "127.0.0.1", port, err, sizeof(err)), 0);
	announce(port, "Station 2");
	assert_true(wait_discovered(e, 1, &c));
	assert_string_equal(c.nick, "Station 2");
	engine_destroy(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_sessions_a_simulator_and_a_file),
		cmocka_unit_test(test_event_json_is_a_c_string),
		cmocka_unit_test(test_frame_events_come_at_most_once_per_min_ms),
		cmocka_unit_test(test_bad_sessions_are_refused_with_a_reason),
		cmocka_unit_test(test_demo_plays_the_demo_folder_in_real_time),
		cmocka_unit_test(test_a_wii_name_cut_mid_character_is_kept_whole_characters_only),
		cmocka_unit_test(test_removed_mid_game_leaves_a_finished_file),
		cmocka_unit_test(test_destroy_during_reconnect_backoff_is_quick),
		cmocka_unit_test(test_add_remove_cycles_from_another_thread),
		cmocka_unit_test(test_relay_moved_and_switched_mid_game_while_clients_read),
		cmocka_unit_test(test_early_console_client_gets_the_console_name),
		cmocka_unit_test(test_discovery_runs_while_someone_wants_it),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
