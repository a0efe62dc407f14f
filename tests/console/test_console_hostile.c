/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `andross record` with a console:// or relay:// source against a lying console (hostile_console.h) that serves a
 * real replay: REPLAYs cut inside events followed by a bad one, a forcePos that jumps back, a reply that restarts
 * behind the cursor, a peer that answers and hangs up, raw junk. The recorded events must be the replay's (no
 * duplicate, nothing lost that the console offered), the gap and disconnect messages must name the right bytes,
 * and the reconnect delay must grow against a peer that never gives a healthy session.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hostile_console.h"
#include "live_util.h"
#include "net/loop.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BASE 100000u /* the console cursor of the stream's first byte: the console has been on a while */

static const char *tool;

static void msleep(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

struct run {
	char dir[1024], out[1100], events[1100], log[1100];
	struct child rec;
};

static void start_record(struct run *r, const char *tag, const char *scheme, uint16_t port, const char *opts)
{
	char url[160];
	lu_temp_dir(tag, r->dir, sizeof(r->dir));
	snprintf(r->out, sizeof(r->out), "%s/out", r->dir);
	snprintf(r->events, sizeof(r->events), "%s/events.jsonl", r->dir);
	snprintf(r->log, sizeof(r->log), "%s/record.log", r->dir);
	snprintf(url, sizeof(url), "%s://127.0.0.1:%u%s", scheme, port, opts);
	char *argv[] = {(char *)tool, "record",  "--source", url,    "--out", r->out,
			"--events",   r->events, "--frames", "none", NULL};
	assert_true(lu_spawn(&r->rec, argv, false, r->log));
}

static void stop_record(struct run *r)
{
	lu_signal(&r->rec, SIGTERM);
	assert_int_equal(lu_wait(&r->rec, 10000), 0);
}

/* Waits until the record log names n finished files (or timeout_ms). Returns how many it names. */
static size_t wait_files(struct run *r, char files[][1024], size_t n, int timeout_ms)
{
	size_t got = 0;
	for (int waited = 0; (got = lu_wrote_files(r->log, files, n)) < n && waited < timeout_ms; waited += 20)
		msleep(20);
	return got;
}

static void wait_sessions(struct hostile_console *hc, unsigned n, int timeout_ms)
{
	for (int waited = 0; atomic_load(&hc->sessions) < n && waited < timeout_ms; waited += 20)
		msleep(20);
}

/* The delays of the `reconnecting to HOST:PORT in N ms` events, in order. */
static size_t read_delays(const char *events, uint64_t *out, size_t max)
{
	FILE *f = fopen(events, "r");
	if (!f)
		return 0;
	static char line[1 << 16];
	size_t n = 0;
	while (n < max && fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "reconnecting to ");
		p = p ? strstr(p, " in ") : NULL;
		if (p && sscanf(p, " in %" SCNu64 " ms", &out[n]) == 1)
			n++;
	}
	fclose(f);
	return n;
}

struct gap {
	uint64_t from, to;
	char line[1024];
};

static size_t read_gaps(const char *events, struct gap *out, size_t max)
{
	FILE *f = fopen(events, "r");
	if (!f)
		return 0;
	static char line[1 << 16];
	size_t n = 0;
	while (n < max && fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "\"type\":\"gap\"") ? strstr(line, "\"fromByte\":") : NULL;
		if (p && sscanf(p, "\"fromByte\":%" SCNu64 ",\"toByte\":%" SCNu64, &out[n].from, &out[n].to) == 2) {
			snprintf(out[n].line, sizeof(out[n].line), "%s", line);
			n++;
		}
	}
	fclose(f);
	return n;
}

/* Each announced delay is the first one doubled once per earlier failed session since the last reset, capped at
 * 16 times; `resets_after` is the number of delays announced before a healthy session reset the count (0: none). */
static void assert_delays_back_off(const uint64_t *d, size_t n, uint64_t first, size_t resets_after)
{
	for (size_t i = 0; i < n; i++) {
		size_t k = resets_after && i >= resets_after ? i - resets_after : i;
		uint64_t want = first << (k < 4 ? k : 4);
		if (d[i] != want) {
			fprintf(stderr, "reconnect delay %zu is %" PRIu64 " ms, expected %" PRIu64 " ms\n", i, d[i],
				want);
			fail();
		}
	}
}

static bool file_events_equal(const char *path, const uint8_t *want, size_t want_len)
{
	struct bytes f;
	const uint8_t *ev;
	size_t len;
	bool ok = lu_slp_events(path, &f, &ev, &len) && len == want_len && !memcmp(ev, want, len);
	if (!ok)
		fprintf(stderr, "%s: %zu event bytes, expected %zu\n", path, len, want_len);
	bytes_free(&f);
	return ok;
}

static void load_game(const char *name, struct bytes *file, struct hostile_console *hc)
{
	const uint8_t *ev;
	size_t len;
	assert_true(lu_replay_events(name, file, &ev, &len));
	hc->stream = ev;
	hc->stream_len = len;
	hc->base = BASE;
}

/* --- item 4: REPLAYs cut inside events, then a bad one --- */

static void plan_unaligned_once(void *ud, unsigned session, struct hc_plan *pl)
{
	(void)ud;
	if (session == 0)
		*pl = (struct hc_plan){.act = HC_UNALIGNED_THEN_BAD, .chunk = 1000, .count = 5};
	else
		*pl = (struct hc_plan){.act = HC_HONEST};
}

static void test_unaligned_replays_then_a_bad_one_resume_at_an_event_boundary(void **state)
{
	(void)state;
	struct bytes game;
	struct hostile_console hc = {.plan = plan_unaligned_once};
	load_game("unranked_game1.slp", &game, &hc);
	assert_int_equal(hc_start(&hc), 0);
	assert_false(hc_is_boundary(&hc, 5000)); /* the last unaligned REPLAY really ends inside an event */
	uint64_t resume = BASE + hc_boundary_before(&hc, 5000);
	struct run r;
	start_record(&r, "hostile-unaligned", "console", hc.port, "?retry_ms=20&idle_ms=2000");
	char files[4][1024];
	size_t nf = wait_files(&r, files, 1, 20000);
	stop_record(&r);
	hc_stop(&hc);
	printf("lying console served %u sessions; record max RSS %ld KiB\n", atomic_load(&hc.sessions),
	       r.rec.max_rss_kb);
	assert_int_equal(nf, 1);
	const char *const want[] = {"unranked_game1.slp"};
	if (!lu_files_match_replays(files, nf, want, 1)) {
		fprintf(stderr, "see %s and %s\n", r.log, r.events);
		fail();
	}
	/* the second session resumed at the last whole event before the partial tail, and that was enough */
	char needle[96];
	snprintf(needle, sizeof(needle), ", resuming at byte %" PRIu64 "\"", resume);
	assert_int_equal(lu_count_lines(r.events, needle), 1);
	assert_int_equal(lu_count_lines(r.events, "undeclared command 0xee"), 1);
	assert_int_equal(lu_count_lines(r.events, "\"type\":\"gap\""), 0);
	assert_true(atomic_load(&hc.sessions) <= 3);
	bytes_free(&game);
}

static void plan_unaligned_always(void *ud, unsigned session, struct hc_plan *pl)
{
	(void)ud;
	*pl = (struct hc_plan){.act = HC_UNALIGNED_THEN_BAD, .chunk = 7001, .count = 3, .bad_pos = session % 2};
}

static void test_a_console_that_lies_in_every_session_is_recorded_whole_and_backed_off(void **state)
{
	(void)state;
	struct bytes game;
	struct hostile_console hc = {.plan = plan_unaligned_always};
	load_game("unranked_game1.slp", &game, &hc);
	assert_int_equal(hc_start(&hc), 0);
	struct run r;
	start_record(&r, "hostile-always", "console", hc.port, "?retry_ms=10&idle_ms=2000");
	char files[4][1024];
	size_t nf = wait_files(&r, files, 1, 30000);
	wait_sessions(&hc, 12, 20000);
	stop_record(&r);
	hc_stop(&hc);
	unsigned sessions = atomic_load(&hc.sessions);
	printf("lying console served %u sessions\n", sessions);
	/* every session ended with a bad message, yet each one moved the cursor to its last whole event */
	assert_int_equal(nf, 1);
	const char *const want[] = {"unranked_game1.slp"};
	if (!lu_files_match_replays(files, nf, want, 1)) {
		fprintf(stderr, "see %s and %s\n", r.log, r.events);
		fail();
	}
	uint64_t d[64];
	size_t nd = read_delays(r.events, d, 64);
	assert_true(nd >= 11);
	assert_delays_back_off(d, nd, 10, 0);
	bytes_free(&game);
}

/* --- item 6: a forcePos that jumps back, a reply behind the cursor --- */

struct back_plan {
	size_t at, back_to;
	enum hc_act first;
};

static void plan_back_once(void *ud, unsigned session, struct hc_plan *pl)
{
	struct back_plan *bp = ud;
	if (session == 0 && bp->first == HC_BACKWARD_FORCEPOS)
		*pl = (struct hc_plan){.act = HC_BACKWARD_FORCEPOS, .at = bp->at, .back_to = bp->back_to};
	else if (session == 0)
		*pl = (struct hc_plan){.act = HC_HONEST, .at = bp->at, .hold_ms = 1};
	else if (session == 1 && bp->first == HC_REPLY_BEHIND)
		*pl = (struct hc_plan){.act = HC_REPLY_BEHIND, .back_to = bp->back_to};
	else
		*pl = (struct hc_plan){.act = HC_HONEST};
}

static void test_a_forcepos_back_is_rejected_and_nothing_is_recorded_twice(void **state)
{
	(void)state;
	struct bytes game;
	struct back_plan bp = {.first = HC_BACKWARD_FORCEPOS};
	struct hostile_console hc = {.plan = plan_back_once, .plan_ud = &bp};
	load_game("unranked_game1.slp", &game, &hc);
	assert_int_equal(hc_index(&hc), 0);
	bp.at = hc_boundary_before(&hc, 40000);
	bp.back_to = hc_boundary_before(&hc, bp.at - 1017);
	assert_int_equal(hc_start(&hc), 0);
	struct run r;
	start_record(&r, "hostile-back", "console", hc.port, "?retry_ms=20&idle_ms=2000");
	char files[4][1024];
	size_t nf = wait_files(&r, files, 1, 20000);
	stop_record(&r);
	hc_stop(&hc);
	assert_int_equal(nf, 1);
	const char *const want[] = {"unranked_game1.slp"};
	if (!lu_files_match_replays(files, nf, want, 1)) {
		fprintf(stderr, "see %s and %s\n", r.log, r.events);
		fail();
	}
	char needle[160];
	snprintf(needle, sizeof(needle), "jumps back from byte %" PRIu64 " to byte %" PRIu64, (uint64_t)(BASE + bp.at),
		 (uint64_t)(BASE + bp.back_to));
	assert_int_equal(lu_count_lines(r.events, needle), 1);
	snprintf(needle, sizeof(needle), ", resuming at byte %" PRIu64 "\"", (uint64_t)(BASE + bp.at));
	assert_int_equal(lu_count_lines(r.events, needle), 1);
	/* nothing was lost, so no gap claims a lost range */
	assert_int_equal(lu_count_lines(r.events, "\"type\":\"gap\""), 0);
	bytes_free(&game);
}

static void test_a_reply_behind_the_cursor_ends_the_game_without_duplicates(void **state)
{
	(void)state;
	struct bytes g1, g2, both;
	const uint8_t *e1, *e2;
	size_t l1, l2;
	assert_true(lu_replay_events("unranked_game1.slp", &g1, &e1, &l1));
	assert_true(lu_replay_events("v3.13.slp", &g2, &e2, &l2)); /* a game with a Game End */
	bytes_init(&both, 0);
	assert_true(bytes_append(&both, e1, l1) && bytes_append(&both, e2, l2));
	struct back_plan bp = {.first = HC_REPLY_BEHIND};
	struct hostile_console hc = {.stream = both.data,
				     .stream_len = both.len,
				     .base = BASE,
				     .plan = plan_back_once,
				     .plan_ud = &bp};
	assert_int_equal(hc_index(&hc), 0);
	bp.at = hc_boundary_before(&hc, 60000);
	bp.back_to = hc_boundary_before(&hc, bp.at - 5000);
	assert_int_equal(hc_start(&hc), 0);
	struct run r;
	start_record(&r, "hostile-behind", "console", hc.port, "?retry_ms=20&idle_ms=2000");
	char files[4][1024];
	size_t nf = wait_files(&r, files, 2, 20000);
	stop_record(&r);
	hc_stop(&hc);
	if (nf != 2 || !file_events_equal(files[0], e1, bp.at) || !file_events_equal(files[1], e2, l2)) {
		fprintf(stderr, "%zu files; see %s and %s\n", nf, r.log, r.events);
		fail();
	}
	/* the restart is reported where it happened, then the re-sent rest of game 1 as skipped */
	struct gap g[8];
	size_t ng = read_gaps(r.events, g, 8);
	assert_int_equal(ng, 2);
	assert_int_equal(g[0].from, BASE + bp.at);
	assert_int_equal(g[0].to, BASE + bp.at);
	char needle[160];
	snprintf(needle, sizeof(needle), "restarts at byte %" PRIu64 ", behind the cursor at byte %" PRIu64,
		 (uint64_t)(BASE + bp.back_to), (uint64_t)(BASE + bp.at));
	if (!strstr(g[0].line, needle)) {
		fprintf(stderr, "gap says: %s", g[0].line);
		fail();
	}
	assert_int_equal(g[1].from, BASE + bp.back_to);
	assert_int_equal(g[1].to, BASE + l1);
	bytes_free(&both);
	bytes_free(&g1);
	bytes_free(&g2);
}

/* --- item 7: peers that answer and hang up --- */

static void plan_hangup_or_junk(void *ud, unsigned session, struct hc_plan *pl)
{
	(void)ud;
	*pl = (struct hc_plan){.act = session % 2 ? HC_JUNK : HC_REPLY_HANGUP};
}

/* The relay session delivers whole events (Event Payloads, Game Start, some frames), then hangs up. */
static void plan_relay_game_head_or_junk(void *ud, unsigned session, struct hc_plan *pl)
{
	struct hostile_console *hc = ud;
	*pl = (struct hc_plan){.act = session % 2 ? HC_JUNK : HC_RAW, .at = hc_boundary_before(hc, 3000)};
}

#define WINDOW_MS 5000
#define RETRY_MS 40

/* A window of WINDOW_MS: 40, 80, 160, 320 then 640 ms apart gives about 11 connections (about 125 without). */
static void run_hangup_window(const char *tag, const char *scheme, struct hostile_console *hc)
{
	assert_int_equal(hc_start(hc), 0);
	struct run r;
	char opts[64];
	snprintf(opts, sizeof(opts), "?retry_ms=%d&idle_ms=2000", RETRY_MS);
	uint64_t t0 = net_now_ms();
	start_record(&r, tag, scheme, hc->port, opts);
	msleep(WINDOW_MS);
	stop_record(&r);
	hc_stop(hc);
	unsigned n = hc_sessions_between(hc, t0, t0 + WINDOW_MS);
	unsigned total = atomic_load(&hc->sessions);
	printf("%s: %u connections in %d ms\n", tag, n, WINDOW_MS);
	assert_true(n >= 3);
	assert_true(n <= 25);
	/* the last delays are the capped 640 ms: timers never fire early, however loaded the machine */
	assert_true(total >= 7 && total <= HC_MAX_SESSIONS);
	assert_true(hc->accept_ms[total - 1] - hc->accept_ms[total - 2] >= 600);
	uint64_t d[64];
	size_t nd = read_delays(r.events, d, 64);
	assert_true(nd >= total - 1);
	assert_delays_back_off(d, nd, RETRY_MS, 0);
}

static void test_a_console_that_answers_and_hangs_up_is_retried_ever_more_slowly(void **state)
{
	(void)state;
	struct bytes game;
	struct hostile_console hc = {.plan = plan_hangup_or_junk};
	load_game("unranked_game1.slp", &game, &hc);
	run_hangup_window("hostile-hangup", "console", &hc);
	bytes_free(&game);
}

static void test_a_relay_that_sends_a_game_head_or_junk_and_hangs_up_is_retried_ever_more_slowly(void **state)
{
	(void)state;
	struct bytes game;
	struct hostile_console hc = {.plan = plan_relay_game_head_or_junk, .raw = true};
	hc.plan_ud = &hc;
	load_game("unranked_game1.slp", &game, &hc);
	run_hangup_window("hostile-relay", "relay", &hc);
	bytes_free(&game);
}

static void plan_healthy_fifth(void *ud, unsigned session, struct hc_plan *pl)
{
	struct hostile_console *hc = ud;
	if (session == 4)
		*pl = (struct hc_plan){.act = HC_HONEST, .at = hc_boundary_before(hc, 20000), .hold_ms = 2600};
	else
		*pl = (struct hc_plan){.act = HC_REPLY_HANGUP};
}

static void test_a_healthy_session_resets_the_reconnect_delay(void **state)
{
	(void)state;
	struct bytes game;
	struct hostile_console hc = {.plan = plan_healthy_fifth};
	hc.plan_ud = &hc;
	load_game("unranked_game1.slp", &game, &hc);
	assert_int_equal(hc_start(&hc), 0);
	struct run r;
	start_record(&r, "hostile-healthy", "console", hc.port, "?retry_ms=40&idle_ms=2000");
	wait_sessions(&hc, 9, 20000);
	stop_record(&r);
	hc_stop(&hc);
	/* 40, 80, 160, 320; session 4 was up 2.6 s with whole events: 40, 80, 160, ... again */
	uint64_t d[64];
	size_t nd = read_delays(r.events, d, 64);
	assert_true(nd >= 8);
	assert_delays_back_off(d, nd, 40, 4);
	bytes_free(&game);
}

int main(int argc, char **argv)
{
	tool = argc > 1 ? argv[1] : ANDROSS_TOOL;
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unaligned_replays_then_a_bad_one_resume_at_an_event_boundary),
		cmocka_unit_test(test_a_console_that_lies_in_every_session_is_recorded_whole_and_backed_off),
		cmocka_unit_test(test_a_forcepos_back_is_rejected_and_nothing_is_recorded_twice),
		cmocka_unit_test(test_a_reply_behind_the_cursor_ends_the_game_without_duplicates),
		cmocka_unit_test(test_a_console_that_answers_and_hangs_up_is_retried_ever_more_slowly),
		cmocka_unit_test(test_a_relay_that_sends_a_game_head_or_junk_and_hangs_up_is_retried_ever_more_slowly),
		cmocka_unit_test(test_a_healthy_session_resets_the_reconnect_delay),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
