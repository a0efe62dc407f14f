/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The console's history ring (console_log.h) read through its functions, on real replays: zero-copy spans across
 * the ring's wrap, the game start across games, the seek to the next game; and the one session-token generator
 * (console_token_next) that the simulator's console_server and the relay share.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "console_log.h"
#include "console_proto.h"
#include "console_server.h"
#include "test_util.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

struct replay {
	struct bytes file;
	const uint8_t *ev;
	size_t len;
};

static void load(struct replay *r, const char *name)
{
	assert_true(tu_read_replay(name, &r->file));
	assert_true(tu_events(&r->file, &r->ev, &r->len));
	assert_true(r->len > 1000);
}

/* Appends in chunks of `chunk` bytes; every chunk must be taken. */
static void append_chunked(struct console_log *log, const uint8_t *data, size_t len, size_t chunk)
{
	for (size_t i = 0; i < len; i += chunk)
		assert_int_equal(console_log_append(log, data + i, i + chunk < len ? chunk : len - i), 0);
}

/* Like a raw relay client: after every append, everything new is read through spans and checked against the
 * stream. A 100,000-byte ring (not a power of two) is wrapped about 24 times by the 2.3 MB game. */
static void test_span_reads_the_stream_across_the_wrap(void **state)
{
	(void)state;
	struct replay g;
	load(&g, "200306_2258_Falco_v_Fox_PS.slp");
	const size_t history = 100000;
	struct console_log log;
	assert_int_equal(console_log_init(&log, history), 0);
	const uint8_t *p = (const uint8_t *)"x";
	assert_int_equal(console_log_span(&log, 0, &p), 0); /* nothing yet */
	assert_null(p);

	uint64_t reader = 0;
	size_t spans = 0, cut_by_wrap = 0;
	for (size_t i = 0; i < g.len; i += 7919) {
		size_t n = i + 7919 < g.len ? 7919 : g.len - i;
		assert_int_equal(console_log_append(&log, g.ev + i, n), 0);
		uint64_t end = console_log_end(&log);
		assert_true(end <= i + n && end + 70000 > i + n); /* whole events only: at most one held back */
		if (end > history)
			assert_true(console_log_start(&log) == end - history);
		else
			assert_true(console_log_start(&log) == 0);
		while (reader < end) {
			size_t got = console_log_span(&log, reader, &p);
			assert_true(got > 0 && got <= end - reader);
			assert_non_null(p);
			assert_memory_equal(p, g.ev + reader, got);
			if (got < end - reader) {
				cut_by_wrap++; /* stopped at the ring's end: the next span starts the ring over */
				assert_true((reader + got) % history == 0);
			}
			reader += got;
			spans++;
		}
		assert_int_equal(console_log_span(&log, end, &p), 0); /* at the write cursor: nothing */
		assert_null(p);
	}
	assert_true(reader == g.len);
	assert_true(cut_by_wrap >= g.len / history - 1);
	assert_true(spans > cut_by_wrap);
	/* a cursor that left the history gives nothing (the relay overtakes such a client); the oldest held does */
	uint64_t start = console_log_start(&log);
	assert_int_equal(console_log_span(&log, start - 1, &p), 0);
	assert_null(p);
	size_t got = console_log_span(&log, start, &p);
	assert_true(got > 0);
	assert_memory_equal(p, g.ev + start, got);
	console_log_free(&log);
	bytes_free(&g.file);
}

/* The current game's Event Payloads through three games in a 200,000-byte history, which holds one game whole but
 * not two: the first game's start leaves it. The second game never ends (its replay has no Game End). */
static void test_game_start_follows_the_games(void **state)
{
	(void)state;
	struct replay a, b;
	load(&a, "unranked_game1.slp");
	load(&b, "geckoCodes.slp");
	const size_t history = 200000;
	assert_true(a.len < history && b.len < history && a.len + b.len > history);
	struct console_log log;
	assert_int_equal(console_log_init(&log, history), 0);
	assert_true(console_log_start(&log) == 0 && console_log_end(&log) == 0);
	assert_true(console_log_game_start(&log) == 0);
	assert_false(console_log_in_game(&log));
	assert_string_equal(console_log_error(&log), "");

	/* game 1: in game from its Event Payloads to its Game End */
	append_chunked(&log, a.ev, 4096, 4096);
	assert_true(console_log_in_game(&log));
	assert_true(console_log_game_start(&log) == 0);
	append_chunked(&log, a.ev + 4096, a.len - 4096, 4096);
	assert_false(console_log_in_game(&log));
	assert_true(console_log_end(&log) == a.len);
	assert_true(console_log_game_start(&log) == 0); /* the last game's, after its end */

	/* game 2 starts where game 1 ended, even when its first bytes come one at a time */
	for (size_t i = 0; i < 600; i++)
		assert_int_equal(console_log_append(&log, b.ev + i, 1), 0);
	assert_true(console_log_in_game(&log));
	assert_true(console_log_game_start(&log) == a.len);
	assert_true(console_log_readable(&log, console_log_game_start(&log)));
	append_chunked(&log, b.ev + 600, b.len - 600, 3000);
	assert_true(console_log_in_game(&log)); /* geckoCodes.slp has no Game End: in game until the next game starts */
	assert_true(console_log_game_start(&log) == a.len);
	assert_true(console_log_end(&log) == a.len + b.len);
	assert_true(console_log_start(&log) == a.len + b.len - history);
	assert_false(console_log_readable(&log, 0)); /* game 1's start is gone */
	assert_true(console_log_readable(&log, a.len));

	/* game 3 replaces it */
	append_chunked(&log, a.ev, 2000, 2000);
	assert_true(console_log_in_game(&log));
	assert_true(console_log_game_start(&log) == a.len + b.len);
	assert_true(console_log_readable(&log, console_log_game_start(&log)));

	/* a broken stream (after a restart dropped the partial event: a command game 3 did not declare) names the
	 * byte; a restart clears it */
	uint64_t end = console_log_end(&log);
	console_log_restart(&log);
	assert_int_equal(console_log_append(&log, (const uint8_t *)"\x40", 1), -1);
	char want[96];
	snprintf(want, sizeof(want), "undeclared command 0x40 at stream byte %" PRIu64, end);
	assert_string_equal(console_log_error(&log), want);
	assert_true(console_log_end(&log) == end);
	assert_int_equal(console_log_append(&log, a.ev + 2000, 10), -1); /* refused until the restart */
	console_log_restart(&log);
	assert_string_equal(console_log_error(&log), "");
	console_log_free(&log);
	bytes_free(&a.file);
	bytes_free(&b.file);
}

/* The seek a client waiting for a game start makes: whole events up to the next held Event Payloads. */
static void test_next_game_walks_whole_events(void **state)
{
	(void)state;
	struct replay a, b;
	load(&a, "unranked_game1.slp");
	load(&b, "geckoCodes.slp");
	struct console_log log;
	assert_int_equal(console_log_init(&log, 0), 0);
	assert_true(console_log_next_game(&log, 0) == 0); /* empty: the write cursor */
	append_chunked(&log, a.ev, a.len, 65536);
	append_chunked(&log, b.ev, 5000, 5000);
	uint64_t end = console_log_end(&log);
	uint64_t second_event = 1u + a.ev[1]; /* after game 1's Event Payloads: its Game Start */
	assert_true(console_log_next_game(&log, 0) == 0);
	assert_true(console_log_next_game(&log, second_event) == a.len);
	assert_true(console_log_next_game(&log, a.len) == a.len);
	/* inside game 2, whose successor has not started: the write cursor */
	assert_true(console_log_next_game(&log, a.len + 1u + b.ev[1]) == end);
	/* not an event boundary: cannot be walked, so the write cursor */
	assert_true(console_log_next_game(&log, second_event + 1) == end);
	assert_true(console_log_next_game(&log, end) == end);
	console_log_free(&log);

	/* a cursor that left a small history cannot be walked either */
	assert_int_equal(console_log_init(&log, 100000), 0);
	append_chunked(&log, a.ev, a.len, 65536);
	assert_true(console_log_start(&log) > second_event);
	assert_true(console_log_next_game(&log, second_event) == console_log_end(&log));
	console_log_free(&log);
	bytes_free(&a.file);
	bytes_free(&b.file);
}

/* --- tokens --- */

#define XS_MUL 0x2545F4914F6CDD1Dull

static uint64_t xs_step(uint64_t s)
{
	s ^= s >> 12;
	s ^= s << 25;
	s ^= s >> 27;
	return s;
}

static uint64_t undo_right(uint64_t y, unsigned k)
{
	uint64_t x = y;
	for (unsigned sh = k; sh < 64; sh += k)
		x ^= y >> sh;
	return x;
}

static uint64_t undo_left(uint64_t y, unsigned k)
{
	uint64_t x = y;
	for (unsigned sh = k; sh < 64; sh += k)
		x ^= y << sh;
	return x;
}

/* The state whose next xorshift64* output has 0 as its high 32 bits: the token the generator must skip. */
static uint64_t state_before_a_zero(void)
{
	uint64_t inv = XS_MUL; /* Newton's iteration for the inverse of an odd number modulo 2^64 */
	for (int i = 0; i < 6; i++)
		inv *= 2 - XS_MUL * inv;
	uint64_t after = 0x1234u * inv; /* after * XS_MUL == 0x1234: high half 0 */
	uint64_t before = undo_right(undo_left(undo_right(after, 27), 25), 12);
	assert_true(xs_step(before) == after);
	assert_true((uint32_t)((xs_step(before) * XS_MUL) >> 32) == 0);
	return before;
}

static void test_token_is_never_zero(void **state)
{
	(void)state;
	uint64_t rng = state_before_a_zero();
	assert_true(rng != 0);
	uint64_t after_zero = xs_step(xs_step(rng));
	uint32_t t = console_token_next(&rng);
	assert_int_not_equal(t, 0);
	assert_true(rng == after_zero); /* the zero was drawn and skipped, the next one taken */
	assert_int_equal(t, (uint32_t)((after_zero * XS_MUL) >> 32));

	/* a state of 0 would stay 0 for ever: it stands for a fixed seed instead */
	rng = 0;
	uint64_t fixed = 0x9E3779B97F4A7C15ull;
	for (int i = 0; i < 1000; i++) {
		uint32_t z = console_token_next(&rng);
		assert_int_not_equal(z, 0);
		assert_int_equal(z, console_token_next(&fixed));
		assert_true(rng != 0);
	}
}

/* The simulator's server draws its tokens from the same generator, with the same seed, skipping the last client's. */
static void test_console_server_tokens_come_from_the_generator(void **state)
{
	(void)state;
	for (uint64_t seed = 0; seed < 4; seed++) {
		uint64_t rng = seed;
		struct console_server s;
		assert_int_equal(console_server_init(&s, 0, seed), 0);
		struct console_hello fresh = {.type = 1};
		struct console_session se;
		for (int i = 0; i < 5; i++) {
			console_server_handshake(&s, &fresh, &se);
			uint32_t want;
			do
				want = console_token_next(&rng);
			while (want == s.prev_token);
			assert_int_equal(se.token, want);
			console_server_drop(&s, &se);
		}
		console_server_free(&s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_span_reads_the_stream_across_the_wrap),
		cmocka_unit_test(test_game_start_follows_the_games),
		cmocka_unit_test(test_next_game_walks_whole_events),
		cmocka_unit_test(test_token_is_never_zero),
		cmocka_unit_test(test_console_server_tokens_come_from_the_generator),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
