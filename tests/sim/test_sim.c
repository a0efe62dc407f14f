/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The simulators as objects (plugin/core/sim_console.c, sim_dolphin.c), in process: each runs on a loop in a
 * thread of the test and plays real replays at max speed to the project's real clients on the same loop (the
 * console:// and dolphin:// sources), whose bytes must equal the replays' events. Two of each kind on one loop,
 * replays given as bytes in memory, `loop`, destroy from `finished` and mid-game with a client connected (the
 * client sees the disconnect; LeakSanitizer checks the rest under ASan), bad replays named in the error, a port
 * taken, and the console's discovery datagrams.
 *
 * cmocka's assertions must run on the test's own thread: the loop thread only records what happened, and the
 * test checks it after joining.
 */
#include "discovery.h"
#include "dolphin_proto.h"
#include "net/loop.h"
#include "net/sock.h"
#include "sim_console.h"
#include "sim_dolphin.h"
#include "source.h"
#include "test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define WATCHDOG_MS 30000 /* generous: the machine is shared; every scenario ends by itself in about a second */
#define CHECK_MS 5
#define MAX_SIMS 4
#define MAX_REPLAYS 4
#define LOG_MAX (64 * 1024)

enum sim_kind { KIND_CONSOLE, KIND_DOLPHIN };

/* A replay as the test expects it: the event bytes, read independently of the simulator's loader. */
struct expected {
	struct bytes file;
	const uint8_t *events;
	size_t len;
};

static void expected_load(struct expected *e, const char *name)
{
	assert_true(tu_read_replay(name, &e->file));
	assert_true(tu_events(&e->file, &e->events, &e->len));
}

/* One simulator and the client that reads it. */
struct slot {
	enum sim_kind kind;
	const char *replays[MAX_REPLAYS];
	size_t n_replays;
	bool in_memory[MAX_REPLAYS]; /* give this replay as bytes instead of a path */
	double speed;
	bool loop;
	bool destroy_mid_game; /* destroy the simulator once the client has destroy_after_bytes */
	size_t destroy_after_bytes;
	bool destroy_in_finished;
	bool record_frames; /* console: take its frame_written reports */

	/* on the loop thread */
	struct sim_console *console;
	struct sim_dolphin *dolphin;
	struct source *client;
	char create_err[512];
	bool created;
	uint16_t port;
	bool finished;
	int finished_status;
	uint64_t games_played; /* console: when finished */
	bool destroyed;
	struct bytes got;
	size_t got_at_destroy;
	uint64_t destroyed_ms, disconnect_ms;
	bool connected;
	int disconnects_after_destroy;
	char disconnect_reason[512];
	char log[LOG_MAX];
	size_t log_len;
	struct sim_console_frame *frames;
	size_t n_frames, frames_cap;
};

struct scenario {
	struct slot slots[MAX_SIMS];
	size_t n_slots;
	size_t want_bytes_per_slot[MAX_SIMS]; /* done when each client has this many (and finished, unless loop) */
	struct net_loop *loop;
	uint64_t deadline_ms;
	bool timed_out;
};

static void on_log(void *ud, const char *line)
{
	struct slot *s = ud;
	int n = snprintf(s->log + s->log_len, sizeof(s->log) - s->log_len, "%s\n", line);
	if (n > 0 && (size_t)n < sizeof(s->log) - s->log_len)
		s->log_len += (size_t)n;
}

static void destroy_sim(struct slot *s)
{
	if (s->console)
		sim_console_destroy(s->console);
	if (s->dolphin)
		sim_dolphin_destroy(s->dolphin);
	s->console = NULL;
	s->dolphin = NULL;
	s->destroyed = true;
	s->destroyed_ms = net_now_ms();
	s->got_at_destroy = s->got.len;
}

static void on_finished(void *ud, int status)
{
	struct slot *s = ud;
	s->finished = true;
	s->finished_status = status;
	if (s->console)
		s->games_played = sim_console_games_played(s->console);
	if (s->destroy_in_finished)
		destroy_sim(s);
}

static void on_frame_written(void *ud, const struct sim_console_frame *f)
{
	struct slot *s = ud;
	if (s->n_frames == s->frames_cap) {
		size_t cap = s->frames_cap ? s->frames_cap * 2 : 512;
		struct sim_console_frame *p = realloc(s->frames, cap * sizeof(*p));
		if (!p)
			return; /* the count check fails */
		s->frames = p;
		s->frames_cap = cap;
	}
	s->frames[s->n_frames++] = *f;
}

static void on_data(void *ud, const uint8_t *bytes, size_t len)
{
	struct slot *s = ud;
	bytes_append(&s->got, bytes, len);
}

static void on_state(void *ud, enum source_state state, const char *reason)
{
	struct slot *s = ud;
	if (state == SOURCE_CONNECTED)
		s->connected = true;
	if ((state == SOURCE_DISCONNECTED || state == SOURCE_WAITING) && s->destroyed &&
	    !s->disconnects_after_destroy++) {
		s->disconnect_ms = net_now_ms();
		snprintf(s->disconnect_reason, sizeof(s->disconnect_reason), "%s", reason);
	}
}

static void start_slot(struct scenario *sc, struct slot *s)
{
	bytes_init(&s->got, 0);
	struct sim_replay replays[MAX_REPLAYS] = {0};
	struct bytes memory[MAX_REPLAYS] = {0};
	char paths[MAX_REPLAYS][1024];
	for (size_t i = 0; i < s->n_replays; i++) {
		if (s->in_memory[i]) {
			if (!tu_read_replay(s->replays[i], &memory[i]))
				return;
			replays[i].data = memory[i].data;
			replays[i].len = memory[i].len;
		} else {
			snprintf(paths[i], sizeof(paths[i]), "%s/%s", ANDROSS_REPLAY_DIR, s->replays[i]);
			replays[i].path = paths[i];
		}
	}
	char url[128];
	if (s->kind == KIND_CONSOLE) {
		struct sim_console_options o;
		sim_console_options_init(&o);
		o.replays = replays;
		o.n_replays = s->n_replays;
		o.speed = s->speed;
		o.loop = s->loop;
		o.broadcast_host = NULL; /* no datagrams to the discovery port other tests listen on */
		o.menu_ms = 50;
		struct sim_console_callbacks cb = {.log = on_log, .finished = on_finished, .ud = s};
		if (s->record_frames)
			cb.frame_written = on_frame_written;
		s->console = sim_console_create(sc->loop, &o, &cb, s->create_err, sizeof(s->create_err));
		if (s->console) {
			s->port = sim_console_port(s->console);
			snprintf(url, sizeof(url), "console://127.0.0.1:%u", s->port);
		}
	} else {
		struct sim_dolphin_options o;
		sim_dolphin_options_init(&o);
		o.replays = replays;
		o.n_replays = s->n_replays;
		o.speed = s->speed;
		o.loop = s->loop;
		o.menu_ms = 50;
		o.wait_spectators = 1; /* at max speed a game would otherwise be over before the client asks for it */
		struct sim_dolphin_callbacks cb = {.log = on_log, .finished = on_finished, .ud = s};
		s->dolphin = sim_dolphin_create(sc->loop, &o, &cb, s->create_err, sizeof(s->create_err));
		if (s->dolphin) {
			s->port = sim_dolphin_port(s->dolphin);
			snprintf(url, sizeof(url), "dolphin://127.0.0.1:%u", s->port);
		}
	}
	/* the simulator copied the bytes: they are gone before it plays them */
	for (size_t i = 0; i < s->n_replays; i++)
		bytes_free(&memory[i]);
	s->created = s->console || s->dolphin;
	if (!s->created)
		return;
	struct source_options so = {0};
	struct source_callbacks cb = {.data = on_data, .state = on_state, .ud = s};
	char err[256];
	s->client = source_create(sc->loop, url, &so, &cb, err, sizeof(err));
}

static bool slot_done(struct scenario *sc, size_t i)
{
	struct slot *s = &sc->slots[i];
	if (!s->created || !s->client)
		return true;
	if (s->destroy_mid_game)
		return s->destroyed && s->disconnects_after_destroy > 0;
	if (s->got.len < sc->want_bytes_per_slot[i])
		return false;
	return s->loop || s->finished;
}

static void on_check(void *ud)
{
	struct scenario *sc = ud;
	bool all = true;
	for (size_t i = 0; i < sc->n_slots; i++) {
		struct slot *s = &sc->slots[i];
		if (s->destroy_mid_game && !s->destroyed && s->got.len >= s->destroy_after_bytes)
			destroy_sim(s);
		all = all && slot_done(sc, i);
	}
	if (all) {
		net_loop_stop(sc->loop);
		return;
	}
	if (net_now_ms() >= sc->deadline_ms) {
		sc->timed_out = true;
		net_loop_stop(sc->loop);
		return;
	}
	net_loop_timer(sc->loop, CHECK_MS, on_check, sc);
}

static void *loop_thread(void *ud)
{
	struct scenario *sc = ud;
	sc->loop = net_loop_create();
	if (!sc->loop)
		return NULL;
	for (size_t i = 0; i < sc->n_slots; i++)
		start_slot(sc, &sc->slots[i]);
	sc->deadline_ms = net_now_ms() + WATCHDOG_MS;
	net_loop_timer(sc->loop, CHECK_MS, on_check, sc);
	net_loop_run(sc->loop);
	for (size_t i = 0; i < sc->n_slots; i++) {
		struct slot *s = &sc->slots[i];
		if (s->client)
			source_destroy(s->client);
		s->client = NULL;
		if (!s->destroyed)
			destroy_sim(s);
	}
	net_loop_destroy(sc->loop);
	sc->loop = NULL;
	return NULL;
}

static void run_scenario(struct scenario *sc)
{
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, loop_thread, sc), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	for (size_t i = 0; i < sc->n_slots; i++) {
		struct slot *s = &sc->slots[i];
		if (!s->created)
			fprintf(stderr, "slot %zu: create failed: %s\n", i, s->create_err);
		assert_true(s->created);
		if (sc->timed_out)
			fprintf(stderr, "slot %zu: timed out with %zu bytes; log:\n%s\n", i, s->got.len, s->log);
	}
	assert_false(sc->timed_out);
}

/* The concatenated events of a slot's replays, `times` times over. */
static void expected_stream(const struct slot *s, size_t times, struct bytes *out)
{
	bytes_init(out, 0);
	for (size_t t = 0; t < times; t++) {
		for (size_t i = 0; i < s->n_replays; i++) {
			struct expected e;
			expected_load(&e, s->replays[i]);
			assert_true(bytes_append(out, e.events, e.len));
			bytes_free(&e.file);
		}
	}
}

static void assert_same_bytes(const struct bytes *got, const struct bytes *want, const char *what)
{
	size_t n = got->len < want->len ? got->len : want->len;
	size_t diff = 0;
	while (diff < n && got->data[diff] == want->data[diff])
		diff++;
	if (got->len != want->len || diff != n)
		fprintf(stderr, "%s: got %zu bytes, want %zu; first difference at byte %zu\n", what, got->len,
			want->len, diff);
	assert_int_equal(diff, n);
	assert_int_equal(got->len, want->len);
}

static void free_scenario(struct scenario *sc)
{
	for (size_t i = 0; i < sc->n_slots; i++) {
		bytes_free(&sc->slots[i].got);
		free(sc->slots[i].frames);
	}
}

/* Sets up a slot that plays its replays once at max speed to the end. */
static void full_play(struct scenario *sc, size_t i, enum sim_kind kind, const char *a, const char *b)
{
	struct slot *s = &sc->slots[i];
	s->kind = kind;
	s->replays[0] = a;
	s->replays[1] = b;
	s->n_replays = b ? 2 : 1;
	s->speed = 0;
	struct bytes want;
	expected_stream(s, 1, &want);
	sc->want_bytes_per_slot[i] = want.len;
	bytes_free(&want);
	if (i + 1 > sc->n_slots)
		sc->n_slots = i + 1;
}

static void check_full_play(struct scenario *sc, size_t i)
{
	struct slot *s = &sc->slots[i];
	struct bytes want;
	expected_stream(s, 1, &want);
	char what[64];
	snprintf(what, sizeof(what), "slot %zu (%s)", i, s->kind == KIND_CONSOLE ? "console" : "dolphin");
	assert_same_bytes(&s->got, &want, what);
	bytes_free(&want);
	assert_true(s->finished);
	assert_int_equal(s->finished_status, 0);
}

static void test_console_sim_plays_every_game_to_a_console_client(void **state)
{
	(void)state;
	struct scenario *sc = calloc(1, sizeof(*sc));
	full_play(sc, 0, KIND_CONSOLE, "unranked_game1.slp", "v3.13.slp");
	run_scenario(sc);
	check_full_play(sc, 0);
	assert_int_equal(sc->slots[0].games_played, 2);
	assert_non_null(strstr(sc->slots[0].log, "console-sim: all 2 games sent\n"));
	assert_non_null(strstr(sc->slots[0].log, "console-sim: game 2 played"));
	free_scenario(sc);
	free(sc);
}

/* frame_written at max speed, where one REPLAY message holds many frames: every frame of both games once, in
 * order, with the replays' frame numbers (-123..24 and -123..45, no rollback) and stream positions up to the end. */
static void test_console_sim_reports_every_frame_written(void **state)
{
	(void)state;
	struct scenario *sc = calloc(1, sizeof(*sc));
	full_play(sc, 0, KIND_CONSOLE, "v3.13.slp", "unranked_game1.slp");
	struct slot *s = &sc->slots[0];
	s->record_frames = true;
	run_scenario(sc);
	check_full_play(sc, 0);
	static const int32_t last_frame[2] = {24, 45};
	assert_int_equal(s->n_frames, (1 + 123 + 24 + 1) + (1 + 123 + 45 + 1));
	size_t k = 0;
	uint64_t prev_end = 0, prev_ns = 0;
	for (uint64_t game = 1; game <= 2; game++) {
		for (int32_t frame = -124; frame <= last_frame[game - 1]; frame++, k++) {
			const struct sim_console_frame *f = &s->frames[k];
			assert_int_equal(f->game, game);
			assert_int_equal(f->has_frame, frame != -124); /* -124: the bytes before the first frame */
			if (f->has_frame)
				assert_int_equal(f->frame, frame);
			assert_true(f->stream_end > prev_end);
			assert_true(f->write_ns >= prev_ns && f->write_ns > 0);
			prev_end = f->stream_end;
			prev_ns = f->write_ns;
		}
	}
	assert_int_equal(prev_end, s->got.len);
	/* a game's start ends with its Game Start (at bytes 29 to 731 in v3.13.slp, 29 to 790 in unranked_game1.slp),
	 * before the Gecko codes; the second game's stream positions follow the first game's bytes */
	struct expected first;
	expected_load(&first, "v3.13.slp");
	assert_int_equal(s->frames[0].stream_end, 731);
	assert_int_equal(s->frames[1 + 123 + 24 + 1].stream_end, first.len + 790);
	bytes_free(&first.file);
	free_scenario(sc);
	free(sc);
}

static void test_dolphin_sim_plays_every_game_to_a_dolphin_client(void **state)
{
	(void)state;
	struct scenario *sc = calloc(1, sizeof(*sc));
	full_play(sc, 0, KIND_DOLPHIN, "geckoCodes.slp", "unranked_game1.slp");
	run_scenario(sc);
	check_full_play(sc, 0);
	struct slot *s = &sc->slots[0];
	char line[1200];
	snprintf(line, sizeof(line), "dolphin-sim: game 2: %s/unranked_game1.slp\n", ANDROSS_REPLAY_DIR);
	assert_non_null(strstr(s->log, line));
	assert_non_null(strstr(s->log, "dolphin-sim: spectator asked for cursor 0, resumes at 0\n"));
	free_scenario(sc);
	free(sc);
}

/* `finished` may destroy the simulator that calls it. */
static void test_sims_may_be_destroyed_from_finished(void **state)
{
	(void)state;
	struct scenario *sc = calloc(1, sizeof(*sc));
	full_play(sc, 0, KIND_CONSOLE, "v3.13.slp", NULL);
	full_play(sc, 1, KIND_DOLPHIN, "v3.13.slp", NULL);
	sc->slots[0].destroy_in_finished = true;
	sc->slots[1].destroy_in_finished = true;
	run_scenario(sc);
	for (size_t i = 0; i < 2; i++) {
		check_full_play(sc, i);
		assert_true(sc->slots[i].destroyed);
	}
	free_scenario(sc);
	free(sc);
}

static void test_two_sims_of_each_kind_on_one_loop(void **state)
{
	(void)state;
	struct scenario *sc = calloc(1, sizeof(*sc));
	full_play(sc, 0, KIND_CONSOLE, "unranked_game1.slp", "geckoCodes.slp");
	full_play(sc, 1, KIND_CONSOLE, "v3.13.slp", "realtimeTest.slp");
	full_play(sc, 2, KIND_DOLPHIN, "realtimeTest.slp", "v3.13.slp");
	full_play(sc, 3, KIND_DOLPHIN, "geckoCodes.slp", "unranked_game1.slp");
	run_scenario(sc);
	for (size_t i = 0; i < 4; i++)
		check_full_play(sc, i);
	/* four listeners, each on its own free port */
	for (size_t i = 0; i < 4; i++)
		for (size_t j = i + 1; j < 4; j++)
			assert_true(sc->slots[i].kind != sc->slots[j].kind || sc->slots[i].port != sc->slots[j].port);
	free_scenario(sc);
	free(sc);
}

static void test_replays_in_memory(void **state)
{
	(void)state;
	struct scenario *sc = calloc(1, sizeof(*sc));
	full_play(sc, 0, KIND_CONSOLE, "v3.13.slp", "unranked_game1.slp");
	full_play(sc, 1, KIND_DOLPHIN, "unranked_game1.slp", "v3.13.slp");
	for (size_t i = 0; i < 2; i++) {
		sc->slots[i].in_memory[0] = true;
		sc->slots[i].in_memory[1] = true;
	}
	run_scenario(sc);
	check_full_play(sc, 0);
	check_full_play(sc, 1);
	assert_non_null(strstr(sc->slots[1].log, "dolphin-sim: game 2: replay 2 (in memory)\n"));
	free_scenario(sc);
	free(sc);
}

static void test_console_sim_loop_plays_the_games_again(void **state)
{
	(void)state;
	struct scenario *sc = calloc(1, sizeof(*sc));
	full_play(sc, 0, KIND_CONSOLE, "v3.13.slp", NULL);
	struct slot *s = &sc->slots[0];
	s->loop = true;
	struct bytes twice;
	expected_stream(s, 2, &twice);
	sc->want_bytes_per_slot[0] = twice.len;
	run_scenario(sc);
	assert_true(s->got.len >= twice.len);
	s->got.len = twice.len; /* a third round may have begun */
	assert_same_bytes(&s->got, &twice, "console loop");
	assert_false(s->finished);
	bytes_free(&twice);
	free_scenario(sc);
	free(sc);
}

static void destroy_mid_game(enum sim_kind kind)
{
	struct scenario *sc = calloc(1, sizeof(*sc));
	struct slot *s = &sc->slots[0];
	sc->n_slots = 1;
	s->kind = kind;
	s->replays[0] = "ics2.slp"; /* about 4 MB: minutes of play at real time */
	s->n_replays = 1;
	s->speed = 1;
	s->destroy_mid_game = true;
	s->destroy_after_bytes = 20000;
	run_scenario(sc);
	struct bytes want;
	expected_stream(s, 1, &want);
	assert_true(s->connected);
	assert_true(s->destroyed);
	/* mid-game: some of the game, exactly as it starts, and far from all of it */
	assert_true(s->got_at_destroy >= s->destroy_after_bytes);
	assert_true(s->got.len < want.len / 2);
	assert_memory_equal(s->got.data, want.data, s->got.len);
	assert_true(s->disconnects_after_destroy > 0);
	/* told at once, not by a timeout (ENet's is 4 s at least; a TCP client would wait for its idle timeout) */
	assert_true(s->disconnect_ms - s->destroyed_ms < 3000);
	fprintf(stderr, "%s client after destroy: %s\n", kind == KIND_CONSOLE ? "console" : "dolphin",
		s->disconnect_reason);
	if (kind == KIND_CONSOLE) {
		assert_non_null(strstr(s->log, "dropped: the simulator stops\n"));
		assert_non_null(strstr(s->disconnect_reason, "closed"));
	} else {
		assert_non_null(strstr(s->disconnect_reason, "dropped the connection"));
	}
	bytes_free(&want);
	free_scenario(sc);
	free(sc);
}

static void test_console_sim_destroyed_mid_game_with_a_client(void **state)
{
	(void)state;
	destroy_mid_game(KIND_CONSOLE);
}

static void test_dolphin_sim_destroyed_mid_game_with_a_client(void **state)
{
	(void)state;
	destroy_mid_game(KIND_DOLPHIN);
}

/* create fails with a message naming the replay; nothing is left listening or allocated. */
static void expect_create_error(struct net_loop *loop, const struct sim_replay *r, const char *needle1,
				const char *needle2)
{
	char err[512] = "";
	struct sim_console_options co;
	sim_console_options_init(&co);
	co.replays = r;
	co.n_replays = 1;
	co.broadcast_host = NULL;
	assert_null(sim_console_create(loop, &co, NULL, err, sizeof(err)));
	fprintf(stderr, "console: %s\n", err);
	assert_non_null(strstr(err, needle1));
	assert_non_null(strstr(err, needle2));
	err[0] = 0;
	struct sim_dolphin_options dopt;
	sim_dolphin_options_init(&dopt);
	dopt.replays = r;
	dopt.n_replays = 1;
	assert_null(sim_dolphin_create(loop, &dopt, NULL, err, sizeof(err)));
	fprintf(stderr, "dolphin: %s\n", err);
	assert_non_null(strstr(err, needle1));
	assert_non_null(strstr(err, needle2));
}

static void test_bad_replays_are_named_in_the_error(void **state)
{
	(void)state;
	struct net_loop *loop = net_loop_create();
	assert_non_null(loop);
	struct sim_replay missing = {.path = "/nonexistent/andross/no-such-replay.slp"};
	expect_create_error(loop, &missing, missing.path, "No such file");
	char manifest[1024];
	snprintf(manifest, sizeof(manifest), "%s/MANIFEST.md", ANDROSS_REPLAY_DIR);
	struct sim_replay not_slp = {.path = manifest};
	expect_create_error(loop, &not_slp, manifest, "not a .slp file");
	static const uint8_t junk[] = "this is not a replay at all";
	struct sim_replay mem = {.data = junk, .len = sizeof(junk)};
	expect_create_error(loop, &mem, "replay 1 (in memory)", "not a .slp file");
	struct sim_replay named = {.data = junk, .len = 7, .name = "bundled demo"};
	expect_create_error(loop, &named, "bundled demo", "15-byte header");
	/* a header and no events */
	struct bytes file;
	assert_true(tu_read_replay("v3.13.slp", &file));
	uint8_t header[15];
	memcpy(header, file.data, sizeof(header));
	memset(header + 11, 0, 4); /* raw length 0: in progress, events up to the end of the file */
	bytes_free(&file);
	struct sim_replay empty = {.data = header, .len = sizeof(header), .name = "empty.slp"};
	expect_create_error(loop, &empty, "empty.slp", "no events");
	net_loop_destroy(loop);
}

/* Port taken: the error says so, and the first simulator is untouched. */
static void test_listen_errors(void **state)
{
	(void)state;
	struct net_loop *loop = net_loop_create();
	assert_non_null(loop);
	char path[1024], err[512] = "";
	snprintf(path, sizeof(path), "%s/v3.13.slp", ANDROSS_REPLAY_DIR);
	struct sim_replay r = {.path = path};

	struct sim_console_options co;
	sim_console_options_init(&co);
	co.replays = &r;
	co.n_replays = 1;
	co.broadcast_host = NULL;
	struct sim_console *a = sim_console_create(loop, &co, NULL, err, sizeof(err));
	assert_non_null(a);
	assert_int_not_equal(sim_console_port(a), 0);
	co.port = sim_console_port(a);
	assert_null(sim_console_create(loop, &co, NULL, err, sizeof(err)));
	fprintf(stderr, "console: %s\n", err);
	assert_true(err[0] != 0);
	sim_console_destroy(a);

	struct sim_dolphin_options dopt;
	sim_dolphin_options_init(&dopt);
	dopt.replays = &r;
	dopt.n_replays = 1;
	struct sim_dolphin *d = sim_dolphin_create(loop, &dopt, NULL, err, sizeof(err));
	assert_non_null(d);
	assert_int_not_equal(sim_dolphin_port(d), 0);
	dopt.port = sim_dolphin_port(d);
	assert_null(sim_dolphin_create(loop, &dopt, NULL, err, sizeof(err)));
	fprintf(stderr, "dolphin: %s\n", err);
	assert_non_null(strstr(err, "cannot listen"));
	sim_dolphin_destroy(d);

	dopt.port = 0;
	char long_nick[DOLPHIN_TEXT_MAX + 1];
	memset(long_nick, 'n', sizeof(long_nick) - 1);
	long_nick[sizeof(long_nick) - 1] = 0;
	dopt.nick = long_nick;
	assert_null(sim_dolphin_create(loop, &dopt, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "nick"));
	net_loop_destroy(loop);
}

/* --- discovery datagrams --- */

struct bcast {
	struct net_loop *loop;
	int udp;
	uint16_t udp_port;
	struct sim_console *sim;
	struct source *client;
	char create_err[512];
	int phase; /* 0: no client, 1: client connecting, 2: client connected */
	size_t before_client, bad, after_connect;
	char nick[40];
	bool connected;
	uint64_t connected_ms, deadline_ms;
	bool timed_out;
};

static void bcast_on_udp(void *ud, int fd, unsigned events)
{
	(void)events;
	struct bcast *b = ud;
	uint8_t dgram[512];
	ssize_t n;
	while ((n = net_udp_recv(fd, dgram, sizeof(dgram), NULL, 0)) > 0) {
		struct discovery_announce a;
		if (discovery_parse(dgram, (size_t)n, &a) < 0) {
			b->bad++;
			continue;
		}
		if (b->phase == 0) {
			b->before_client++;
			snprintf(b->nick, sizeof(b->nick), "%s", a.nick);
		} else if (b->phase == 2) {
			b->after_connect++;
		}
	}
}

static void bcast_on_state(void *ud, enum source_state state, const char *reason)
{
	(void)reason;
	struct bcast *b = ud;
	if (state == SOURCE_CONNECTED)
		b->connected = true;
}

static void bcast_check(void *ud)
{
	struct bcast *b = ud;
	uint64_t now = net_now_ms();
	if (b->phase == 0 && b->before_client >= 3) {
		char url[64], err[256];
		snprintf(url, sizeof(url), "console://127.0.0.1:%u", sim_console_port(b->sim));
		struct source_options so = {0};
		struct source_callbacks cb = {.state = bcast_on_state, .ud = b};
		b->client = source_create(b->loop, url, &so, &cb, err, sizeof(err));
		b->phase = 1;
	} else if (b->phase == 1 && b->connected) {
		/* a datagram sent before the accept may still wait in the socket: drop it */
		bcast_on_udp(b, b->udp, NET_READ);
		b->phase = 2;
		b->connected_ms = now;
	} else if (b->phase == 2 && now - b->connected_ms >= 500) {
		net_loop_stop(b->loop);
		return;
	}
	if (now >= b->deadline_ms) {
		b->timed_out = true;
		net_loop_stop(b->loop);
		return;
	}
	net_loop_timer(b->loop, CHECK_MS, bcast_check, b);
}

static void *bcast_thread(void *ud)
{
	struct bcast *b = ud;
	b->loop = net_loop_create();
	char err[256];
	b->udp = net_udp_bind("127.0.0.1", 0, false, err, sizeof(err));
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	if (!b->loop || b->udp < 0 || getsockname(b->udp, (struct sockaddr *)&sa, &sl) < 0)
		return NULL;
	b->udp_port = ntohs(sa.sin_port);
	net_loop_watch(b->loop, b->udp, NET_READ, bcast_on_udp, b);
	char path[1024];
	snprintf(path, sizeof(path), "%s/ics2.slp", ANDROSS_REPLAY_DIR);
	struct sim_replay r = {.path = path};
	struct sim_console_options o;
	sim_console_options_init(&o);
	o.replays = &r;
	o.n_replays = 1;
	o.speed = 10; /* a datagram every 100 ms */
	o.nick = "demo setup 2";
	o.broadcast_host = "127.0.0.1";
	o.broadcast_port = b->udp_port;
	b->sim = sim_console_create(b->loop, &o, NULL, b->create_err, sizeof(b->create_err));
	if (b->sim) {
		b->deadline_ms = net_now_ms() + WATCHDOG_MS;
		net_loop_timer(b->loop, CHECK_MS, bcast_check, b);
		net_loop_run(b->loop);
	}
	if (b->client)
		source_destroy(b->client);
	sim_console_destroy(b->sim);
	net_loop_unwatch(b->loop, b->udp);
	net_close(b->udp);
	net_loop_destroy(b->loop);
	return NULL;
}

/* SLIP_READY datagrams carry the nickname to the broadcast address while no client is connected, and stop once
 * one is. */
static void test_console_sim_broadcasts_until_a_client_connects(void **state)
{
	(void)state;
	struct bcast b = {.udp = -1};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, bcast_thread, &b), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	if (!b.sim)
		fprintf(stderr, "create: %s\n", b.create_err);
	assert_non_null(b.sim);
	assert_false(b.timed_out);
	assert_true(b.before_client >= 3);
	assert_int_equal(b.bad, 0);
	assert_string_equal(b.nick, "demo setup 2");
	assert_true(b.connected);
	assert_int_equal(b.after_connect, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_console_sim_plays_every_game_to_a_console_client),
		cmocka_unit_test(test_console_sim_reports_every_frame_written),
		cmocka_unit_test(test_dolphin_sim_plays_every_game_to_a_dolphin_client),
		cmocka_unit_test(test_sims_may_be_destroyed_from_finished),
		cmocka_unit_test(test_two_sims_of_each_kind_on_one_loop),
		cmocka_unit_test(test_replays_in_memory),
		cmocka_unit_test(test_console_sim_loop_plays_the_games_again),
		cmocka_unit_test(test_console_sim_destroyed_mid_game_with_a_client),
		cmocka_unit_test(test_dolphin_sim_destroyed_mid_game_with_a_client),
		cmocka_unit_test(test_bad_replays_are_named_in_the_error),
		cmocka_unit_test(test_listen_errors),
		cmocka_unit_test(test_console_sim_broadcasts_until_a_client_connects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
