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
};

static struct seen seen = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void seen_reset(void)
{
	pthread_mutex_lock(&seen.lock);
	memset(seen.s, 0, sizeof(seen.s));
	seen.notifies = 0;
	seen.warnings = 0;
	pthread_mutex_unlock(&seen.lock);
}

static void on_event(void *ud, uint32_t id, const char *type, const char *json, size_t len)
{
	(void)ud;
	/* every event is one JSON object of its type */
	char head[48];
	snprintf(head, sizeof(head), "{\"type\":\"%s\"", type);
	bool well_formed = len > strlen(head) && !memcmp(json, head, strlen(head)) && json[len - 1] == '}';
	pthread_mutex_lock(&seen.lock);
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
	engine_session_options_init(&o);
	snprintf(o.name, sizeof(o.name), "replay");
	snprintf(o.url, sizeof(o.url), "%s/v3.14.0.slp", ANDROSS_REPLAY_DIR);
	o.speed = 0;
	snprintf(o.out_dir, sizeof(o.out_dir), "%s", dir_a);
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
	size_t n = game_mailbox_take(m, notes, 64);
	bool saw_start = false, saw_end = false;
	for (size_t i = 0; i < n; i++) {
		saw_start |= !strcmp(notes[i].type, "game_start");
		saw_end |= saw_start && !strcmp(notes[i].type, "game_end");
		game_note_free(&notes[i]);
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
	engine_session_options_init(&o);
	snprintf(o.url, sizeof(o.url), "%s/v3.14.0.slp", ANDROSS_REPLAY_DIR);
	o.speed = 10; /* about 14 s for the whole game: it is removed well before its end */
	snprintf(o.out_dir, sizeof(o.out_dir), "%s", dir);
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
	assert_true(took_us < 200000);
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
	engine_session_options_init(&o);
	snprintf(o.url, sizeof(o.url), "%s/v3.13.slp", ANDROSS_REPLAY_DIR);
	o.speed = 1;
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
	long after = rss_kb();
	fprintf(stderr, "RSS before 1,000 add/remove cycles %ld KiB, after %ld KiB\n", before, after);
	assert_true(after - before < 8 * 1024);
	engine_destroy(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_sessions_a_simulator_and_a_file),
		cmocka_unit_test(test_bad_sessions_are_refused_with_a_reason),
		cmocka_unit_test(test_a_wii_name_cut_mid_character_is_kept_whole_characters_only),
		cmocka_unit_test(test_removed_mid_game_leaves_a_finished_file),
		cmocka_unit_test(test_destroy_during_reconnect_backoff_is_quick),
		cmocka_unit_test(test_add_remove_cycles_from_another_thread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
