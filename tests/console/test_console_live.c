/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The console source against the simulator, end to end: `andross record --source console://` against
 * `andross console-sim` serving real replays; the same through a proxy that cuts and stalls the connection
 * (ANDROSS_CHAOS_SEED overrides the seed); a history overflow. Usage: test_console_live [PATH/TO/andross]
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "chaos_proxy.h"
#include "live_util.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *tool;

struct run {
	char dir[1024];
	char out[1200], events[1200], rec_log[1200], sim_log[1200];
	struct child sim, rec;
	uint16_t sim_port;
};

static void start_sim(struct run *r, const char *tag, const char *const *replays, size_t n, const char *speed,
		      bool loop)
{
	lu_temp_dir(tag, r->dir, sizeof(r->dir));
	snprintf(r->out, sizeof(r->out), "%s/out", r->dir);
	snprintf(r->events, sizeof(r->events), "%s/events.jsonl", r->dir);
	snprintf(r->rec_log, sizeof(r->rec_log), "%s/record.log", r->dir);
	snprintf(r->sim_log, sizeof(r->sim_log), "%s/sim.log", r->dir);
	char *argv[64];
	char paths[16][1024];
	size_t k = 0;
	argv[k++] = (char *)tool;
	argv[k++] = "console-sim";
	for (size_t i = 0; i < n; i++) {
		snprintf(paths[i], sizeof(paths[i]), "%s/%s", ANDROSS_REPLAY_DIR, replays[i]);
		argv[k++] = "--replay";
		argv[k++] = paths[i];
	}
	argv[k++] = "--listen";
	argv[k++] = "127.0.0.1:0";
	argv[k++] = "--speed";
	argv[k++] = (char *)speed;
	argv[k++] = "--broadcast";
	argv[k++] = "off";
	if (loop)
		argv[k++] = "--loop";
	argv[k] = NULL;
	assert_true(lu_spawn(&r->sim, argv, true, r->sim_log));
	r->sim_port = lu_read_listen_port(&r->sim, 10000);
	assert_int_not_equal(r->sim_port, 0);
}

static void start_record(struct run *r, uint16_t port, const char *opts, size_t games)
{
	char url[256], g[16];
	snprintf(url, sizeof(url), "console://127.0.0.1:%u%s", port, opts ? opts : "");
	snprintf(g, sizeof(g), "%zu", games);
	char *argv[] = {(char *)tool, "record",  "--source", url, "--out", r->out,
			"--events",   r->events, "--games",  g,   NULL};
	assert_true(lu_spawn(&r->rec, argv, false, r->rec_log));
}

static void check_files(struct run *r, const char *const *replays, size_t n, bool looped)
{
	char files[16][1024];
	size_t nf = lu_wrote_files(r->rec_log, files, 16);
	/* with --loop, the next game may have begun (and been cut off) before record stopped */
	if (looped && nf == n + 1)
		nf = n;
	if (!lu_files_match_replays(files, nf, replays, n)) {
		fprintf(stderr, "see %s, %s and %s\n", r->rec_log, r->sim_log, r->events);
		fail();
	}
}

static void run_direct(const char *tag, const char *const *replays, size_t n, const char *speed, int timeout_ms)
{
	struct run r;
	start_sim(&r, tag, replays, n, speed, false);
	start_record(&r, r.sim_port, NULL, n);
	assert_int_equal(lu_wait(&r.rec, timeout_ms), 0);
	assert_int_equal(lu_wait(&r.sim, 10000), 0);
	check_files(&r, replays, n, false);
	assert_int_equal(lu_count_lines(r.events, "\"type\":\"gap\""), 0);
	assert_true(lu_count_lines(r.events, "\"state\":\"connected\"") >= 1);
}

static void test_record_from_sim_at_max_speed_is_byte_exact(void **state)
{
	(void)state;
	const char *const replays[] = {"200306_2258_Falco_v_Fox_PS.slp", "doubles.slp", "geckoCodes.slp", "ics2.slp",
				       "v3.14.0.slp"};
	run_direct("max", replays, 5, "max", 60000);
}

static void test_record_from_sim_at_speed_10_is_byte_exact(void **state)
{
	(void)state;
	const char *const replays[] = {"geckoCodes.slp", "unranked_game1.slp", "v3.13.slp"};
	run_direct("speed10", replays, 3, "10", 30000);
}

static uint64_t chaos_seed(void)
{
	const char *s = getenv("ANDROSS_CHAOS_SEED");
	if (s && *s)
		return strtoull(s, NULL, 0);
	return 0xA11D055ull;
}

static void test_reconnects_lose_nothing_through_a_chaos_proxy(void **state)
{
	(void)state;
	const char *const replays[] = {"200306_2258_Falco_v_Fox_PS.slp", "doubles.slp", "geckoCodes.slp"};
	uint64_t seed = chaos_seed();
	printf("chaos seed 0x%" PRIx64 " (set ANDROSS_CHAOS_SEED to replay it)\n", seed);
	struct run r;
	start_sim(&r, "chaos", replays, 3, "max", true);
	struct chaos_proxy p = {.max_cut_bytes = 40000, .max_stall_ms = 120};
	assert_int_equal(chaos_proxy_start(&p, r.sim_port, seed), 0);
	assert_int_equal(chaos_proxy_run_thread(&p), 0);
	start_record(&r, p.port, "?retry_ms=2&idle_ms=3000", 3);
	int rc = lu_wait(&r.rec, 60000);
	chaos_proxy_stop(&p);
	lu_signal(&r.sim, SIGTERM);
	lu_wait(&r.sim, 10000);
	printf("chaos: %" PRIu64 " connections, %" PRIu64 " cuts, %" PRIu64 " stalls; record max RSS %ld KiB\n",
	       p.connections, p.cuts, p.stalls, r.rec.max_rss_kb);
	assert_int_equal(rc, 0);
	check_files(&r, replays, 3, true);
	size_t gaps = lu_count_lines(r.events, "\"type\":\"gap\"");
	if (gaps)
		fprintf(stderr, "unexpected gaps: see %s\n", r.events);
	assert_int_equal(gaps, 0);
	assert_true(p.cuts + p.stalls >= 100);
	assert_true(r.rec.max_rss_kb < 200 * 1024);
}

/* One stall of 2.5 s at max speed, 50 KB into a 4.2 MB game: the simulator runs more than 3 MiB ahead, the console jumps. */
static void overflow_plan(void *ud, uint64_t i, uint64_t *cut_down_at, uint64_t *cut_up_at, uint64_t *stall_at,
			  uint64_t *stall_ms)
{
	(void)ud;
	(void)cut_down_at;
	(void)cut_up_at;
	if (i == 0) {
		*stall_at = 50000;
		*stall_ms = 2500;
	}
}

static void test_history_overflow_reports_a_gap_and_keeps_a_valid_file(void **state)
{
	(void)state;
	const char *const replays[] = {"ics2.slp", "v3.14.0.slp"};
	struct run r;
	start_sim(&r, "overflow", replays, 2, "max", false);
	struct chaos_proxy p = {.plan_fn = overflow_plan};
	assert_int_equal(chaos_proxy_start(&p, r.sim_port, 1), 0);
	assert_int_equal(chaos_proxy_run_thread(&p), 0);
	start_record(&r, p.port, "?retry_ms=2", 2);
	/* game 1 loses bytes and its end; game 2 comes whole */
	assert_int_equal(lu_wait(&r.rec, 60000), 0);
	assert_int_equal(lu_wait(&r.sim, 20000), 0);
	chaos_proxy_stop(&p);
	assert_true(lu_count_lines(r.events, "\"type\":\"gap\"") >= 1);
	assert_true(lu_count_lines(r.events, "overflowed") >= 1);
	char files[16][1024];
	size_t nf = lu_wrote_files(r.rec_log, files, 16);
	assert_int_equal(nf, 2);
	for (size_t i = 0; i < nf; i++)
		assert_true(lu_inspect_ok(tool, files[i]));
	const char *const second[] = {"v3.14.0.slp"};
	assert_true(lu_files_match_replays(files + 1, 1, second, 1));
}

int main(int argc, char **argv)
{
	tool = argc > 1 ? argv[1] : ANDROSS_TOOL;
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_from_sim_at_max_speed_is_byte_exact),
		cmocka_unit_test(test_record_from_sim_at_speed_10_is_byte_exact),
		cmocka_unit_test(test_reconnects_lose_nothing_through_a_chaos_proxy),
		cmocka_unit_test(test_history_overflow_reports_a_gap_and_keeps_a_valid_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
