/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The recorder (splitter -> game state -> .slp writer) in-process, on the real replays: a file only once an event
 * follows a game's Event Payloads, Game Start and Gecko list, byte-exact files in any chunking, a disk error said once per game
 * and never an empty file, and a long console nickname cut between UTF-8 characters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "slp_file.h"
#include "slp_reader.h"
#include "net/loop.h"
#include "slp_recorder.h"
#include "slp_recorder_thread.h"
#include "test_util.h"
#include "ubjson.h"
#include "utf8.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_WARNINGS 256

/* What the recorder reported through its callbacks. */
struct rec_log {
	unsigned opened, finished, failed, failed_kept;
	char last_path[4096];
	char warnings[MAX_WARNINGS][512];
	unsigned n_warnings;
};

static void on_file(void *ud, const char *path, bool finished)
{
	struct rec_log *l = ud;
	if (finished)
		l->finished++;
	else
		l->opened++;
	snprintf(l->last_path, sizeof(l->last_path), "%s", path);
}

static void on_warning(void *ud, const char *message)
{
	struct rec_log *l = ud;
	if (l->n_warnings < MAX_WARNINGS)
		snprintf(l->warnings[l->n_warnings], sizeof(l->warnings[0]), "%s", message);
	l->n_warnings++;
}

static void on_file_failed(void *ud, const char *path, bool kept)
{
	struct rec_log *l = ud;
	(void)path;
	l->failed++;
	if (kept)
		l->failed_kept++;
}

static struct slp_recorder *make_recorder(const char *dir, const char *nick, struct rec_log *log)
{
	memset(log, 0, sizeof(*log));
	struct slp_recorder_options opts = {.out_dir = dir, .console_nick = nick};
	struct slp_recorder_callbacks cb = {.file = on_file,
					    .warning = on_warning,
					    .file_failed = on_file_failed,
					    .ud = log};
	struct slp_recorder *r = slp_recorder_create(&opts, &cb);
	assert_non_null(r);
	return r;
}

static unsigned count_warnings(const struct rec_log *l, const char *needle)
{
	unsigned n = 0;
	for (unsigned i = 0; i < l->n_warnings && i < MAX_WARNINGS; i++)
		if (strstr(l->warnings[i], needle))
			n++;
	return n;
}

static void print_warnings(const struct rec_log *l)
{
	for (unsigned i = 0; i < l->n_warnings && i < MAX_WARNINGS; i++)
		fprintf(stderr, "  warning: %s\n", l->warnings[i]);
}

/* A fresh, empty ANDROSS_TEST_TMP/recorder-<tag>-<pid>. */
static void temp_dir(const char *tag, char *out, size_t out_size)
{
	mkdir(ANDROSS_TEST_TMP, 0755);
	snprintf(out, out_size, "%s/recorder-%s-%d", ANDROSS_TEST_TMP, tag, (int)getpid());
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", out);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(mkdir(out, 0755), 0);
}

/* The regular files in dir (names into names[], at most max); counts the empty ones too. */
static size_t list_files(const char *dir, char names[][4200], size_t max, size_t *empty)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	size_t n = 0;
	*empty = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[4200];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		struct stat st;
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (st.st_size == 0)
			(*empty)++;
		if (n < max)
			snprintf(names[n], sizeof(names[0]), "%s", path);
		n++;
	}
	closedir(d);
	return n;
}

/* The replay's event bytes (a copy that outlives the file buffer). */
static void replay_events(const char *name, struct bytes *out)
{
	struct bytes file;
	assert_true(tu_read_replay(name, &file));
	const uint8_t *ev;
	size_t len;
	assert_true(tu_events(&file, &ev, &len));
	bytes_init(out, 0);
	assert_true(bytes_append(out, ev, len));
	bytes_free(&file);
}

/* The bytes of the stream's whole events: a trailing partial event is not written to any file. */
static size_t whole_event_bytes(const uint8_t *ev, size_t len)
{
	struct tu_recording rec;
	tu_recording_init(&rec);
	size_t pending = 0;
	char err[256];
	tu_split(ev, len, 0, 0, &rec, &pending, NULL, err, sizeof(err));
	size_t whole = rec.n ? (size_t)(rec.ev[rec.n - 1].offset + rec.ev[rec.n - 1].size) : 0;
	tu_recording_free(&rec);
	return whole;
}

/* Feeds in random chunks of 1..max_chunk bytes (seeded). */
static void feed_chunks(struct slp_recorder *r, const uint8_t *data, size_t len, size_t max_chunk, uint64_t seed)
{
	uint64_t s = seed;
	for (size_t i = 0; i < len;) {
		size_t n = max_chunk <= 1 ? 1 : 1 + (size_t)(tu_rand(&s) % max_chunk);
		if (n > len - i)
			n = len - i;
		slp_recorder_feed(r, data + i, n);
		i += n;
	}
}

static size_t event_payloads_size(const uint8_t *events)
{
	assert_int_equal(events[0], SLP_CMD_EVENT_PAYLOADS);
	return 1 + (size_t)events[1];
}

/* --- item 7: no file before a game's first events (Event Payloads, Game Start, Gecko list) are followed --- */

/* Where the first event after a game's Event Payloads, Game Start and Gecko list chunks begins. */
static size_t first_frame_offset(const uint8_t *ev, size_t len)
{
	struct tu_recording rec;
	tu_recording_init(&rec);
	size_t pending = 0;
	char err[256];
	tu_split(ev, len, 0, 0, &rec, &pending, NULL, err, sizeof(err));
	size_t at = 0;
	for (size_t i = 0; i < rec.n; i++) {
		uint8_t c = rec.ev[i].code;
		if (rec.ev[i].reassembled)
			continue;
		if (c != SLP_CMD_EVENT_PAYLOADS && c != SLP_CMD_GAME_START && c != SLP_CMD_MESSAGE_SPLITTER) {
			at = (size_t)rec.ev[i].offset;
			break;
		}
	}
	tu_recording_free(&rec);
	return at;
}

static void test_a_game_that_never_gets_past_its_first_events_leaves_no_file(void **state)
{
	(void)state;
	/* 3.13: Event Payloads, Game Start, a Gecko list in 138 Message Splitter chunks, then the frames */
	struct bytes game;
	replay_events("geckoCodes.slp", &game);
	const uint8_t *ev = game.data;
	size_t ep = event_payloads_size(ev);
	bool declared[256];
	uint16_t payload[256];
	char err[256];
	assert_int_equal(slp_parse_event_payloads(ev, ep, declared, payload, err, sizeof(err)), 0);
	assert_true(declared[0x37] && !declared[0xFF]);
	assert_int_equal(ev[ep], SLP_CMD_GAME_START);
	size_t gs = 1 + (size_t)payload[SLP_CMD_GAME_START];
	size_t chunk = 1 + (size_t)payload[SLP_CMD_MESSAGE_SPLITTER];
	size_t frames_at = first_frame_offset(ev, game.len);
	assert_true(frames_at > ep + gs + 100 * chunk);
	uint8_t *start = malloc(gs); /* a Game Start that differs each session: a new game each time */
	assert_non_null(start);

	char dir[1024];
	temp_dir("junk", dir, sizeof(dir));
	struct rec_log log;
	struct slp_recorder *r = make_recorder(dir, NULL, &log);
	/* a hostile peer: each session sends a valid table, maybe a Game Start and a Gecko list, then junk or nothing */
	uint8_t junk[600];
	uint64_t seed = 7;
	unsigned sessions = 0, failed_feeds = 0;
	for (int i = 0; i < 60; i++, sessions++) {
		memcpy(start, ev + ep, gs);
		start[gs - 1] ^= (uint8_t)(i + 1);
		memset(junk, 0xFF, sizeof(junk));
		feed_chunks(r, ev, ep, 1 + (size_t)(i % 5) * 64, seed + (uint64_t)i);
		switch (i % 10) {
		case 0: /* an undeclared command */
			failed_feeds += slp_recorder_feed(r, junk, sizeof(junk)) < 0;
			break;
		case 1: /* random bytes that are not a Game Start */
			for (size_t k = 0; k < sizeof(junk); k++)
				junk[k] = (uint8_t)tu_rand(&seed);
			if (junk[0] == SLP_CMD_GAME_START || junk[0] == SLP_CMD_EVENT_PAYLOADS)
				junk[0] = 0xFF;
			failed_feeds += slp_recorder_feed(r, junk, sizeof(junk)) < 0;
			break;
		case 2: /* a whole declared event that is not the Game Start */
			memset(junk, 0, sizeof(junk));
			junk[0] = 0x37;
			assert_true(1u + payload[0x37] <= sizeof(junk));
			failed_feeds += slp_recorder_feed(r, junk, 1u + payload[0x37]) < 0;
			break;
		case 3: /* the Game Start begun, then the peer goes */
			slp_recorder_feed(r, start, gs / 2);
			break;
		case 4: /* the Game Start but one byte */
			slp_recorder_feed(r, start, gs - 1);
			break;
		case 5: /* a whole Game Start, then junk */
			slp_recorder_feed(r, start, gs);
			failed_feeds += slp_recorder_feed(r, junk, sizeof(junk)) < 0;
			break;
		case 6: /* a whole Game Start, then the peer goes */
			feed_chunks(r, start, gs, 97, seed + (uint64_t)i);
			break;
		case 7: /* a Game Start and part of the Gecko list, then junk */
			slp_recorder_feed(r, start, gs);
			feed_chunks(r, ev + ep + gs, 40 * chunk + 3, 2000, seed + (uint64_t)i);
			failed_feeds += slp_recorder_feed(r, junk, sizeof(junk)) < 0;
			break;
		case 8: /* a Game Start and the whole Gecko list, then the peer goes */
			slp_recorder_feed(r, start, gs);
			feed_chunks(r, ev + ep + gs, frames_at - ep - gs, 5000, seed + (uint64_t)i);
			break;
		default: /* nothing after the table */
			break;
		}
		/* the source reconnects (a gap), or ends and starts again; an end keeps a whole Game Start, below */
		if (i % 2 || i % 10 == 6 || i % 10 == 8)
			slp_recorder_restart_at_boundary(r);
		else
			slp_recorder_end(r);
	}
	slp_recorder_end(r); /* after a session with a table only */
	free(start);
	size_t empty;
	char names[8][4200];
	size_t files = list_files(dir, names, 8, &empty);
	if (files || log.opened)
		print_warnings(&log);
	assert_int_equal(files, 0);
	assert_int_equal(log.opened, 0);
	assert_int_equal(log.failed, 0);
	assert_true(failed_feeds >= 24); /* the junk was seen as such (cases 0, 5 and 7 at least) */
	assert_true(count_warnings(&log, "instead of a Game Start") >= 6);

	/*
	 * The same recorder then records, byte for byte: a real game whole; one cut just after its first frame event;
	 * one whose source ended inside its Gecko list (as corrupt.slp was cut), kept since the source ended there.
	 */
	size_t first_frame_end = frames_at + 1 + payload[ev[frames_at]];
	size_t in_gecko = ep + gs + 54 * chunk;
	const size_t want[3] = {game.len, first_frame_end, in_gecko};
	feed_chunks(r, ev, game.len, 4096, 99);
	slp_recorder_end(r);
	feed_chunks(r, ev, first_frame_end, 4096, 98);
	slp_recorder_restart_at_boundary(r); /* a reconnect after the first frame event: the file goes on */
	slp_recorder_end(r);
	feed_chunks(r, ev, in_gecko + 289, 4096, 97);
	slp_recorder_end(r);
	slp_recorder_destroy(r);
	files = list_files(dir, names, 8, &empty);
	assert_int_equal(files, 3);
	assert_int_equal(log.opened, 3);
	assert_int_equal(log.finished, 3);
	bool seen[3] = {false, false, false};
	for (size_t f = 0; f < files; f++) {
		struct bytes out;
		assert_true(tu_read_file(names[f], &out));
		const uint8_t *oev;
		size_t olen;
		assert_true(tu_events(&out, &oev, &olen));
		for (int k = 0; k < 3; k++)
			seen[k] = seen[k] || olen == want[k];
		assert_memory_equal(oev, ev, olen);
		bytes_free(&out);
	}
	assert_true(seen[0] && seen[1] && seen[2]);
	bytes_free(&game);
	printf("%u hostile sessions: %u junk feeds rejected, no file; then 3 files of %zu, %zu and %zu event bytes\n",
	       sessions, failed_feeds, want[0], want[1], want[2]);
}

/* Every replay, fed in random chunks (one byte at a time for a small one): one file, the same event bytes. */
static void test_every_replay_is_recorded_byte_exact_in_any_chunks(void **state)
{
	(void)state;
	const char *names[TU_MAX_REPLAYS];
	size_t n = tu_replay_names(names);
	assert_true(n >= 10);
	for (size_t i = 0; i < n; i++) {
		struct bytes game;
		replay_events(names[i], &game);
		size_t want = whole_event_bytes(game.data, game.len);
		char dir[1024];
		temp_dir("exact", dir, sizeof(dir));
		struct rec_log log;
		struct slp_recorder *r = make_recorder(dir, NULL, &log);
		size_t max_chunk = !strcmp(names[i], "v3.13.slp") ? 1 : 1 + (size_t)(i * 977 % 9000);
		feed_chunks(r, game.data, game.len, max_chunk, 1000 + i);
		slp_recorder_end(r);
		slp_recorder_destroy(r);
		size_t empty;
		char files[4][4200];
		TU_EXPECT(list_files(dir, files, 4, &empty) == 1, "%s: not one file", names[i]);
		TU_EXPECT(log.opened == 1 && log.finished == 1 && log.failed == 0,
			  "%s: opened %u finished %u failed %u", names[i], log.opened, log.finished, log.failed);
		struct bytes out;
		if (tu_read_file(files[0], &out)) {
			struct slp_container c;
			char err[256];
			bool parsed = slp_container_parse(out.data, out.len, &c, err, sizeof(err)) == 0;
			TU_EXPECT(parsed && !c.in_progress && c.has_metadata, "%s: %s", names[i], parsed ? "" : err);
			TU_EXPECT(parsed && c.events_size == want &&
					  !memcmp(out.data + c.events_offset, game.data, want),
				  "%s: the written events differ (%zu bytes, want %zu)", names[i],
				  parsed ? c.events_size : 0, want);
			bytes_free(&out);
		}
		bytes_free(&game);
	}
	TU_EXPECT_NO_FAILURES();
}

/* --- item 10: disk errors --- */

/* Three real games, one after another, as one stream. */
static const char *const three_games[] = {"v3.13.slp", "unranked_game1.slp", "geckoCodes.slp"};

static void game_stream(const char *const *games, size_t n, struct bytes *stream)
{
	bytes_init(stream, 0);
	for (size_t i = 0; i < n; i++) {
		struct bytes g;
		replay_events(games[i], &g);
		assert_true(bytes_append(stream, g.data, g.len));
		bytes_free(&g);
	}
}

/* A game's Event Payloads and Game Start: what a kept file holds at least. */
static size_t first_events_size(const uint8_t *events)
{
	size_t ep = event_payloads_size(events);
	bool declared[256];
	uint16_t payload[256];
	char err[256];
	assert_int_equal(slp_parse_event_payloads(events, ep, declared, payload, err, sizeof(err)), 0);
	assert_int_equal(events[ep], SLP_CMD_GAME_START);
	return ep + 1 + payload[SLP_CMD_GAME_START];
}

static void test_a_folder_that_is_gone_fails_each_game_once(void **state)
{
	(void)state;
	struct bytes stream;
	game_stream(three_games, 3, &stream);
	char dir[1024], gone[1100];
	temp_dir("gone", dir, sizeof(dir));
	snprintf(gone, sizeof(gone), "%s/not-there", dir);
	struct rec_log log;
	struct slp_recorder *r = make_recorder(gone, NULL, &log);
	feed_chunks(r, stream.data, stream.len, 3000, 5);
	slp_recorder_end(r);
	assert_int_equal(slp_recorder_games_failed(r), 3);
	assert_int_equal(slp_recorder_games_written(r), 0);
	slp_recorder_destroy(r);
	print_warnings(&log);
	assert_int_equal(log.failed, 3);
	assert_int_equal(log.failed_kept, 0);
	assert_int_equal(log.opened, 0);
	/* once per game, naming the path and the cause */
	assert_int_equal(log.n_warnings, 3);
	assert_int_equal(count_warnings(&log, gone), 3);
	assert_int_equal(count_warnings(&log, strerror(ENOENT)), 3);
	bytes_free(&stream);
}

struct limit_run {
	struct rec_log log;
	uint64_t written, failed;
	size_t files, empty;
	char names[8][4200];
};

/*
 * Records the three games while the process may not write a file past limit bytes (RLIMIT_FSIZE; SIGXFSZ
 * ignored, so a write past it fails with EFBIG as on a full disk). The limit is lifted again before any check.
 */
static void record_with_file_limit(const char *tag, const char *const *games, size_t n_games, rlim_t limit,
				   struct limit_run *out)
{
	struct bytes stream;
	game_stream(games, n_games, &stream);
	char dir[1024];
	temp_dir(tag, dir, sizeof(dir));
	struct sigaction ign = {.sa_handler = SIG_IGN}, old_sa;
	sigaction(SIGXFSZ, &ign, &old_sa);
	struct rlimit old_rl, rl;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old_rl), 0);
	rl = old_rl;
	rl.rlim_cur = limit;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
	struct slp_recorder *r = make_recorder(dir, NULL, &out->log);
	feed_chunks(r, stream.data, stream.len, 2000, 11);
	slp_recorder_end(r);
	out->written = slp_recorder_games_written(r);
	out->failed = slp_recorder_games_failed(r);
	slp_recorder_destroy(r);
	int restored = setrlimit(RLIMIT_FSIZE, &old_rl);
	sigaction(SIGXFSZ, &old_sa, NULL);
	assert_int_equal(restored, 0);
	bytes_free(&stream);
	out->files = list_files(dir, out->names, 8, &out->empty);
	print_warnings(&out->log);
}

/* A kept file holds a prefix of the game's events (the table and Game Start at least), and repair finishes it. */
static void check_partial_file(const char *path, const char *replay, size_t max_bytes)
{
	struct bytes game, file;
	replay_events(replay, &game);
	assert_true(tu_read_file(path, &file));
	assert_true(file.len <= max_bytes);
	struct slp_container c;
	char err[256];
	assert_int_equal(slp_container_parse(file.data, file.len, &c, err, sizeof(err)), 0);
	assert_true(c.in_progress);
	assert_true(c.events_size >= first_events_size(game.data));
	assert_true(c.events_size <= game.len);
	size_t whole = whole_event_bytes(file.data + c.events_offset, c.events_size);
	assert_memory_equal(file.data + c.events_offset, game.data, whole);
	bytes_free(&file);

	struct slp_repair_result res;
	assert_int_equal(slp_file_repair(path, &res, err, sizeof(err)), 0);
	assert_true(tu_read_file(path, &file));
	assert_int_equal(slp_container_parse(file.data, file.len, &c, err, sizeof(err)), 0);
	assert_false(c.in_progress);
	assert_true(c.has_metadata);
	assert_int_equal(c.events_size, whole);
	assert_memory_equal(file.data + c.events_offset, game.data, whole);
	bytes_free(&file);
	bytes_free(&game);
}

static void test_no_room_for_a_header_leaves_no_file(void **state)
{
	(void)state;
	struct limit_run run;
	record_with_file_limit("limit10", three_games, 3, 10, &run);
	assert_int_equal(run.failed, 3);
	assert_int_equal(run.written, 0);
	assert_int_equal(run.log.failed, 3);
	assert_int_equal(run.log.failed_kept, 0);
	assert_int_equal(run.files, 0); /* each was created, could not take its header, and was removed */
	assert_int_equal(run.log.n_warnings, 3);
	assert_int_equal(count_warnings(&run.log, "cannot write the header"), 3);
	assert_int_equal(count_warnings(&run.log, strerror(EFBIG)), 3);
	assert_int_equal(count_warnings(&run.log, "removed"), 3);

	/* room for the header and part of the Game Start: the same */
	struct bytes g;
	replay_events(three_games[0], &g);
	rlim_t limit = SLP_HEADER_SIZE + event_payloads_size(g.data) + 100;
	bytes_free(&g);
	record_with_file_limit("limitgs", three_games, 3, limit, &run);
	assert_int_equal(run.failed, 3);
	assert_int_equal(run.log.failed_kept, 0);
	assert_int_equal(run.files, 0);
	assert_int_equal(run.log.n_warnings, 3);
	assert_int_equal(count_warnings(&run.log, "cannot write events"), 3);
	assert_int_equal(count_warnings(&run.log, "removed"), 3);
}

static void test_a_game_past_the_limit_keeps_a_repairable_file(void **state)
{
	(void)state;
	/* the first two games (about 117 and 111 KB) fit; the third (166 KB) does not */
	const size_t limit = 150000;
	struct limit_run run;
	record_with_file_limit("limit150k", three_games, 3, limit, &run);
	assert_int_equal(run.written, 2);
	assert_int_equal(run.failed, 1);
	assert_int_equal(run.log.failed_kept, 1);
	assert_int_equal(run.files, 3);
	assert_int_equal(run.empty, 0);
	/* one warning for the game, however many chunks came after the error */
	assert_int_equal(run.log.n_warnings, 1);
	assert_int_equal(count_warnings(&run.log, strerror(EFBIG)), 1);
	assert_int_equal(count_warnings(&run.log, "andross repair"), 1);
	/* the failed game is the last one written: the newest name */
	char *last = NULL;
	for (size_t i = 0; i < run.files; i++)
		if (strstr(run.log.warnings[0], run.names[i]))
			last = run.names[i];
	assert_non_null(last);
	check_partial_file(last, "geckoCodes.slp", limit);
}

static void test_no_room_for_the_metadata_keeps_a_repairable_file(void **state)
{
	(void)state;
	/* every event of the game fits, its metadata footer does not: the finish fails */
	const char *const game[] = {"v3.13.slp"};
	struct bytes g;
	replay_events(game[0], &g);
	size_t limit = SLP_HEADER_SIZE + g.len + 8;
	bytes_free(&g);
	struct limit_run run;
	record_with_file_limit("limitmeta", game, 1, limit, &run);
	assert_int_equal(run.written, 0);
	assert_int_equal(run.failed, 1);
	assert_int_equal(run.log.failed_kept, 1);
	assert_int_equal(run.files, 1);
	assert_int_equal(run.empty, 0);
	assert_int_equal(run.log.n_warnings, 1);
	assert_int_equal(count_warnings(&run.log, "cannot write the metadata"), 1);
	assert_int_equal(count_warnings(&run.log, strerror(EFBIG)), 1);
	assert_int_equal(count_warnings(&run.log, "keeps the game's events"), 1);
	check_partial_file(run.names[0], game[0], limit);
}

/* --- item 13: a long console nickname --- */

/* The metadata's consoleNick, raw, from a written file. */
static bool read_console_nick(const char *path, char *out, size_t out_size)
{
	struct bytes file;
	if (!tu_read_file(path, &file))
		return false;
	struct slp_container c;
	char err[256];
	bool found = false;
	if (slp_container_parse(file.data, file.len, &c, err, sizeof(err)) == 0 && c.has_metadata) {
		struct ubj_reader rd;
		struct ubj_value v;
		ubj_reader_init(&rd, file.data + c.metadata_offset, c.metadata_size);
		if (ubj_next(&rd, &v) == 1 && v.type == UBJ_OBJECT) {
			while (ubj_next(&rd, &v) == 1) {
				if (ubj_key_is(&v, "consoleNick") && v.type == UBJ_STRING && v.str_len < out_size) {
					memcpy(out, v.str, v.str_len);
					out[v.str_len] = 0;
					found = true;
					break;
				}
				if ((v.type == UBJ_OBJECT || v.type == UBJ_ARRAY) && ubj_skip(&rd) < 0)
					break;
			}
		}
	}
	bytes_free(&file);
	return found;
}

static bool valid_utf8(const char *s)
{
	size_t len = strlen(s);
	for (size_t i = 0; i < len;) {
		size_t k = utf8_sequence_length((const uint8_t *)s + i, len - i);
		if (!k)
			return false;
		i += k;
	}
	return true;
}

static void test_utf8_truncate_never_splits_a_character(void **state)
{
	(void)state;
	char buf[8];
	assert_int_equal(utf8_truncate(buf, sizeof(buf), "abcdef\xC3\xA9"), 6); /* é would need bytes 7 and 8 */
	assert_string_equal(buf, "abcdef");
	assert_int_equal(utf8_truncate(buf, sizeof(buf), "abcde\xC3\xA9"), 7);
	assert_string_equal(buf, "abcde\xC3\xA9");
	assert_int_equal(utf8_truncate(buf, sizeof(buf), "abcd\xF0\x9F\x8E\xAE"), 4); /* a 4-byte emoji */
	assert_string_equal(buf, "abcd");
	assert_int_equal(utf8_truncate(buf, sizeof(buf), "abc\xF0\x9F\x8E\xAE"), 7);
	assert_string_equal(buf, "abc\xF0\x9F\x8E\xAE");
	assert_int_equal(utf8_truncate(buf, sizeof(buf),
				       "a\xFF"
				       "b\xC3"
				       "c"),
			 3); /* not UTF-8: left out */
	assert_string_equal(buf, "abc");
	assert_int_equal(utf8_truncate(buf, sizeof(buf), NULL), 0);
	assert_string_equal(buf, "");
	assert_int_equal(utf8_truncate(buf, 1, "abc"), 0);
	assert_string_equal(buf, "");
	/* every cut of a mixed string is valid UTF-8 and a prefix of it */
	const char *mixed = "N\xC3\xA9o \xE3\x83\x8D\xF0\x9F\x8E\xAE z";
	char big[32];
	for (size_t cap = 1; cap < sizeof(big); cap++) {
		size_t n = utf8_truncate(big, cap, mixed);
		assert_true(n < cap);
		assert_true(valid_utf8(big));
		assert_memory_equal(big, mixed, n);
	}
}

static void test_a_long_nick_is_cut_between_characters(void **state)
{
	(void)state;
	struct bytes game;
	replay_events("v3.13.slp", &game);
	char a62[63], a60[61], a59[60];
	memset(a62, 'a', 62);
	a62[62] = 0;
	memcpy(a60, a62, 60);
	a60[60] = 0;
	memcpy(a59, a62, 59);
	a59[59] = 0;
	char nick[4][80], want[4][80];
	snprintf(nick[0], sizeof(nick[0]), "%s\xC3\xA9", a62); /* é across the 63-byte boundary */
	snprintf(want[0], sizeof(want[0]), "%s", a62);
	snprintf(nick[1], sizeof(nick[1]), "%s\xF0\x9F\x8E\xAE", a60); /* an emoji across it */
	snprintf(want[1], sizeof(want[1]), "%s", a60);
	snprintf(nick[2], sizeof(nick[2]), "%s\xF0\x9F\x8E\xAE", a59); /* an emoji that just fits */
	snprintf(want[2], sizeof(want[2]), "%s", nick[2]);
	snprintf(nick[3], sizeof(nick[3]), "%s\xC3\xA9\xC3\xA9", a60); /* set once connected (the source's name) */
	snprintf(want[3], sizeof(want[3]), "%s\xC3\xA9", a60);
	for (int i = 0; i < 4; i++) {
		char dir[1024];
		temp_dir("nick", dir, sizeof(dir));
		struct rec_log log;
		struct slp_recorder *r = make_recorder(dir, i == 3 ? NULL : nick[i], &log);
		if (i == 3)
			slp_recorder_set_console_nick(r, nick[i]);
		slp_recorder_feed(r, game.data, game.len);
		slp_recorder_end(r);
		slp_recorder_destroy(r);
		assert_int_equal(log.finished, 1);
		char got[128];
		assert_true(read_console_nick(log.last_path, got, sizeof(got)));
		if (!valid_utf8(got) || strcmp(got, want[i])) {
			fprintf(stderr, "nick %d: consoleNick is %zu bytes, want %zu\n", i, strlen(got),
				strlen(want[i]));
			fail();
		}
	}
	bytes_free(&game);
}

/* The scheduling a recorder thread's game events were made under, per game. */
struct policy_log {
	pthread_mutex_t mutex;
	int game;              /* 1, 2: the games in the order they started */
	unsigned events[3][2]; /* [game][1: SCHED_FIFO, 0: any other] */
	bool ended[3];
};

static void on_policy_event(void *ud, const struct slp_game_event *ev)
{
	struct policy_log *l = ud;
	int fifo = sched_getscheduler(0) == SCHED_FIFO;
	pthread_mutex_lock(&l->mutex);
	if (ev->type == SLP_GAME_EVENT_GAME_START && l->game < 2)
		l->game++;
	l->events[l->game][fifo]++;
	if (ev->type == SLP_GAME_EVENT_GAME_END)
		l->ended[l->game] = true;
	pthread_mutex_unlock(&l->mutex);
}

static void *realtime_probe(void *arg)
{
	*(int *)arg = net_thread_prefer_realtime(1);
	return NULL;
}

/* A realtime recorder thread (OBS's) makes a live game's events at SCHED_FIFO, but works through a backlog (here a
 * whole 4 MB game queued at once, as a relay's history of a long game comes) at normal scheduling, so catching up
 * never holds a CPU from OBS; once caught up, the next game's events are realtime again. Where realtime is not
 * granted, every event is made at normal scheduling. */
static void test_a_realtime_recorder_catches_up_at_normal_scheduling(void **state)
{
	(void)state;
	int probe = -1;
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, realtime_probe, &probe), 0);
	pthread_join(th, NULL);
	bool granted = probe == 0;

	struct bytes backlog, live;
	const uint8_t *bev, *lev;
	size_t blen, llen;
	assert_true(tu_read_replay("ics2.slp", &backlog));
	assert_true(tu_read_replay("v3.13.slp", &live));
	assert_true(tu_events(&backlog, &bev, &blen));
	assert_true(tu_events(&live, &lev, &llen));
	assert_true(blen > SLP_RECORDER_REALTIME_BACKLOG_BYTES);
	assert_true(llen < SLP_RECORDER_REALTIME_BACKLOG_BYTES);

	struct policy_log l = {.mutex = PTHREAD_MUTEX_INITIALIZER};
	struct slp_recorder_callbacks cb = {.game_event = on_policy_event, .ud = &l};
	struct slp_recorder_options o = {.out_dir = NULL};
	struct slp_recorder_thread *t = slp_recorder_thread_create(&o, &cb, 0, "test: rec", 1);
	assert_non_null(t);
	assert_int_equal(slp_recorder_thread_feed(t, bev, blen), 0);
	bool first_done = false;
	for (int i = 0; i < 1000 && !first_done; i++) {
		pthread_mutex_lock(&l.mutex);
		first_done = l.ended[1];
		pthread_mutex_unlock(&l.mutex);
		if (!first_done)
			usleep(10 * 1000);
	}
	assert_true(first_done);
	assert_int_equal(slp_recorder_thread_feed(t, lev, llen), 0);
	slp_recorder_thread_destroy(t);

	fprintf(stderr, "realtime %s; backlog game: %u events at SCHED_FIFO, %u not; live game: %u and %u\n",
		granted ? "granted" : "not granted", l.events[1][1], l.events[1][0], l.events[2][1], l.events[2][0]);
	assert_true(l.ended[2]);
	assert_int_equal(l.events[1][1], 0);
	assert_true(l.events[1][0] > 0);
	if (granted) {
		assert_true(l.events[2][1] > 0);
		assert_int_equal(l.events[2][0], 0);
	} else {
		assert_int_equal(l.events[2][1], 0);
	}
	bytes_free(&backlog);
	bytes_free(&live);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_game_that_never_gets_past_its_first_events_leaves_no_file),
		cmocka_unit_test(test_every_replay_is_recorded_byte_exact_in_any_chunks),
		cmocka_unit_test(test_a_folder_that_is_gone_fails_each_game_once),
		cmocka_unit_test(test_no_room_for_a_header_leaves_no_file),
		cmocka_unit_test(test_a_game_past_the_limit_keeps_a_repairable_file),
		cmocka_unit_test(test_no_room_for_the_metadata_keeps_a_repairable_file),
		cmocka_unit_test(test_utf8_truncate_never_splits_a_character),
		cmocka_unit_test(test_a_long_nick_is_cut_between_characters),
		cmocka_unit_test(test_a_realtime_recorder_catches_up_at_normal_scheduling),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
