/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `slp_file_repair` on damaged copies of the real replays: a wrong raw length, files cut anywhere (inside the
 * first event too), events inspect rejects, appended garbage, a file still being written by another process, a
 * symlink and a FIFO. Each repaired file is read back with the project's own reader (container, splitter,
 * slp_game): finished, every event valid, metadata present, and never fewer events than the input held.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "slp_file.h"
#include "slp_game.h"
#include "slp_reader.h"
#include "test_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- files ---- */

static void make_dir(char *out, size_t out_size, const char *tag)
{
	mkdir(ANDROSS_TEST_TMP, 0755);
	snprintf(out, out_size, "%s/repair-%s-XXXXXX", ANDROSS_TEST_TMP, tag);
	assert_non_null(mkdtemp(out));
}

/* Removes a directory this test made, with the files in it (one level of subdirectories). */
static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		struct stat st;
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			remove_dir(p);
		else
			unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

/* Names in dir other than . and .., for checking that no temporary file is left behind. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void write_file(const char *path, const uint8_t *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);
		assert_true(n > 0);
		done += (size_t)n;
	}
	close(fd);
}

static bool file_equals(const char *path, const uint8_t *data, size_t len)
{
	struct bytes b;
	bool same = tu_read_file(path, &b) && b.len == len && memcmp(b.data, data, len) == 0;
	bytes_free(&b);
	return same;
}

/* ---- what the project's reader makes of a file ---- */

struct readback {
	int container_rc;
	struct slp_container c;
	int splitter_rc;
	size_t pending;
	uint64_t fillers;
	uint64_t events;
	uint64_t payload_tables;
	int game_errors;
	bool started;
	char error[256];
};

struct readback_run {
	struct slp_game game;
	struct readback *rb;
};

static int readback_event(void *ud, const struct slp_event *ev)
{
	struct readback_run *r = ud;
	if (ev->reassembled)
		return 0;
	r->rb->events++;
	if (ev->code == SLP_CMD_EVENT_PAYLOADS)
		r->rb->payload_tables++;
	if (slp_game_handle(&r->game, ev) < 0 && r->rb->game_errors++ == 0)
		snprintf(r->rb->error, sizeof(r->rb->error), "%s", r->game.error);
	return 0;
}

static void read_back(const uint8_t *file, size_t len, struct readback *rb)
{
	memset(rb, 0, sizeof(*rb));
	rb->container_rc = slp_container_parse(file, len, &rb->c, rb->error, sizeof(rb->error));
	if (rb->container_rc < 0)
		return;
	struct readback_run *r = malloc(sizeof(*r));
	assert_non_null(r);
	r->rb = rb;
	slp_game_init(&r->game, NULL, NULL);
	struct slp_splitter s;
	slp_splitter_init(&s);
	rb->splitter_rc = slp_splitter_feed(&s, file + rb->c.events_offset, rb->c.events_size, readback_event, r);
	rb->pending = slp_splitter_pending_bytes(&s);
	rb->fillers = s.fillers;
	if (rb->splitter_rc && !rb->error[0])
		snprintf(rb->error, sizeof(rb->error), "%s", s.error);
	slp_splitter_free(&s);
	rb->started = r->game.started;
	free(r);
}

/* A finished replay inspect and slippi-js read without error: what repair must write. */
static bool reads_as_finished(const struct readback *rb)
{
	return rb->container_rc == 0 && !rb->c.in_progress && rb->c.has_metadata && rb->splitter_rc == 0 &&
	       rb->pending == 0 && rb->fillers == 0 && rb->game_errors == 0 && rb->started && rb->payload_tables == 1;
}

static bool path_reads_as_finished(const char *path, struct readback *rb)
{
	struct bytes b;
	assert_true(tu_read_file(path, &b));
	read_back(b.data, b.len, rb);
	bytes_free(&b);
	return reads_as_finished(rb);
}

/* ---- a replay and its event boundaries ---- */

struct replay {
	const char *name;
	struct bytes file;
	const uint8_t *events; /* the stream: the raw bytes of a finished file */
	size_t events_len;
	struct tu_recording rec; /* wire and reassembled events, with offsets */
	uint64_t *ends;          /* stream offset just past each wire event */
	size_t n;
	size_t footer; /* file offset of `U\x08metadata`, 0 when none */
};

static void load(struct replay *r, const char *name)
{
	memset(r, 0, sizeof(*r));
	r->name = name;
	assert_true(tu_read_replay(name, &r->file));
	assert_true(tu_events(&r->file, &r->events, &r->events_len));
	r->footer = tu_footer_offset(&r->file);
	tu_recording_init(&r->rec);
	size_t pending = 0;
	char err[192];
	tu_split(r->events, r->events_len, 0, 0, &r->rec, &pending, NULL, err, sizeof(err));
	r->ends = calloc(r->rec.n + 1, sizeof(*r->ends));
	assert_non_null(r->ends);
	for (size_t i = 0; i < r->rec.n; i++)
		if (!r->rec.ev[i].reassembled)
			r->ends[r->n++] = r->rec.ev[i].offset + r->rec.ev[i].size;
}

static void unload(struct replay *r)
{
	free(r->ends);
	tu_recording_free(&r->rec);
	bytes_free(&r->file);
}

/* The complete wire events within the first `len` stream bytes: how many, and the bytes they span. */
static size_t complete_events(const struct replay *r, uint64_t len, uint64_t *bytes)
{
	size_t k = 0;
	while (k < r->n && r->ends[k] <= len)
		k++;
	*bytes = k ? r->ends[k - 1] : 0;
	return k;
}

/* Index of the first wire event with this command (SIZE_MAX when none). */
static size_t first_event(const struct replay *r, uint8_t code, size_t from)
{
	for (size_t i = from; i < r->n; i++) {
		uint64_t start = i ? r->ends[i - 1] : 0;
		if (r->events[start] == code)
			return i;
	}
	return SIZE_MAX;
}

static uint64_t event_start(const struct replay *r, size_t i)
{
	return i ? r->ends[i - 1] : 0;
}

/* An in-progress file (raw length 0) holding the first `len` stream bytes, then `extra`. */
static void in_progress_copy(const struct replay *r, size_t len, const void *extra, size_t extra_len, struct bytes *out)
{
	bytes_init(out, 0);
	assert_true(bytes_append(out, r->file.data, SLP_HEADER_SIZE));
	wr_u32be(out->data + SLP_RAW_LENGTH_OFFSET, 0);
	assert_true(bytes_append(out, r->events, len));
	if (extra_len)
		assert_true(bytes_append(out, extra, extra_len));
}

/*
 * Repairs `content` written at path and checks the result: either a refusal that leaves the file as it was, or a
 * finished file holding exactly the first `want_events` events of the source stream (want_events 0: a refusal).
 */
static void expect_repair(const char *path, const struct replay *r, const uint8_t *content, size_t len,
			  size_t want_events, const char *label)
{
	write_file(path, content, len);
	struct slp_repair_result res;
	char err[768] = "";
	int rc = slp_file_repair(path, &res, err, sizeof(err));
	if (want_events == 0) {
		TU_EXPECT(rc == -1 && err[0], "%s: repaired (rc %d) a file with no complete Game Start", label, rc);
		TU_EXPECT(file_equals(path, content, len), "%s: a refused file was changed", label);
		return;
	}
	TU_EXPECT(rc == 0 && !res.already_complete, "%s: rc %d, already complete %d: %s", label, rc,
		  res.already_complete, err);
	struct readback rb;
	bool finished = path_reads_as_finished(path, &rb);
	TU_EXPECT(finished, "%s: the repaired file does not read as a finished replay: %s", label, rb.error);
	uint64_t want_bytes = r->ends[want_events - 1];
	TU_EXPECT(rb.events == want_events && rb.c.raw_length == want_bytes,
		  "%s: repaired file holds %" PRIu64 " events in %u bytes, want %zu in %" PRIu64, label, rb.events,
		  rb.c.raw_length, want_events, want_bytes);
	TU_EXPECT(res.events_kept == rb.events, "%s: reported %" PRIu64 " events kept, the file holds %" PRIu64, label,
		  res.events_kept, rb.events);
	struct bytes out;
	assert_true(tu_read_file(path, &out));
	TU_EXPECT(out.len >= SLP_HEADER_SIZE + want_bytes &&
			  memcmp(out.data + SLP_HEADER_SIZE, r->events, (size_t)want_bytes) == 0,
		  "%s: the kept events are not the source's bytes", label);
	bytes_free(&out);
}

/* ---- the tests ---- */

/*
 * Every single-bit flip of the raw length of a finished replay, and the values 0, 1 and 0xFFFFFFFF: the events
 * and the metadata that follows them decide, so the repaired file is the original, byte for byte.
 */
static void test_repair_wrong_raw_length_keeps_the_whole_game(void **state)
{
	(void)state;
	static const char *const names[] = {"v3.14.0.slp", "200306_2258_Falco_v_Fox_PS.slp", "v3.13.slp",
					    "geckoCodes.slp", "sheik_vs_ics_yoshis.slp"};
	char dir[PATH_MAX], path[PATH_MAX + 32];
	make_dir(dir, sizeof(dir), "length");
	snprintf(path, sizeof(path), "%s/Game_20200306T225800.slp", dir);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct replay r;
		load(&r, names[i]);
		uint32_t raw = rd_u32be(r.file.data + SLP_RAW_LENGTH_OFFSET);
		assert_true(raw != 0 && r.footer);
		uint8_t *copy = malloc(r.file.len);
		assert_non_null(copy);
		unsigned kept_all = 0, tried = 0;
		for (int v = 0; v < 35; v++) {
			uint32_t bad = v < 32 ? raw ^ (1u << v) : v == 32 ? 0 : v == 33 ? 1 : UINT32_MAX;
			memcpy(copy, r.file.data, r.file.len);
			wr_u32be(copy + SLP_RAW_LENGTH_OFFSET, bad);
			write_file(path, copy, r.file.len);
			struct slp_repair_result res;
			char err[768] = "";
			int rc = slp_file_repair(path, &res, err, sizeof(err));
			tried++;
			TU_EXPECT(rc == 0 && !res.already_complete, "%s, raw length %u: rc %d: %s", names[i], bad, rc,
				  err);
			struct readback rb;
			bool finished = path_reads_as_finished(path, &rb);
			bool same = file_equals(path, r.file.data, r.file.len);
			TU_EXPECT(finished && same && rb.events == r.n,
				  "%s, raw length %u: repaired file holds %" PRIu64
				  " of %zu events (%s), %s the original",
				  names[i], bad, rb.events, r.n, rb.error, same ? "same as" : "differs from");
			TU_EXPECT(res.metadata_kept && res.events_kept == r.n && res.raw_length_before == bad,
				  "%s, raw length %u: result: metadata kept %d, %" PRIu64 " events, length before %u",
				  names[i], bad, res.metadata_kept, res.events_kept, res.raw_length_before);
			if (finished && same)
				kept_all++;
		}
		printf("%s: %u of %u damaged raw lengths repaired back to the original (%zu events)\n", names[i],
		       kept_all, tried, r.n);
		free(copy);
		unload(&r);
	}
	remove_dir(dir);
	TU_EXPECT_NO_FAILURES();
}

/* A finished replay needs nothing: left alone (same inode, same bytes), also with bytes appended after it. */
static void test_repair_leaves_finished_files_alone(void **state)
{
	(void)state;
	const char *names[TU_MAX_REPLAYS];
	size_t n = tu_replay_names(names);
	char dir[PATH_MAX], path[PATH_MAX + 32];
	make_dir(dir, sizeof(dir), "alone");
	snprintf(path, sizeof(path), "%s/game.slp", dir);
	unsigned finished = 0;
	for (size_t i = 0; i < n; i++) {
		struct replay r;
		load(&r, names[i]);
		if (rd_u32be(r.file.data + SLP_RAW_LENGTH_OFFSET) == 0) {
			unload(&r);
			continue;
		}
		finished++;
		static const uint8_t garbage[] = "garbage after the end\n";
		uint64_t own_trailing = 0; /* v3.14.0.slp ends in a newline after its closing brace */
		for (int variant = 0; variant < 3; variant++) {
			struct bytes content;
			bytes_init(&content, 0);
			assert_true(bytes_append(&content, r.file.data, r.file.len));
			size_t extra = variant == 1 ? sizeof(garbage) : variant == 2 ? 4096 : 0;
			if (variant == 1)
				assert_true(bytes_append(&content, garbage, sizeof(garbage)));
			for (size_t k = 0; variant == 2 && k < extra; k++)
				assert_true(bytes_append_byte(&content, 0));
			write_file(path, content.data, content.len);
			struct stat before, after;
			assert_int_equal(stat(path, &before), 0);
			struct slp_repair_result res;
			char err[768] = "";
			int rc = slp_file_repair(path, &res, err, sizeof(err));
			assert_int_equal(stat(path, &after), 0);
			if (variant == 0)
				own_trailing = res.trailing_bytes;
			TU_EXPECT(own_trailing <= 1 && rc == 0 && res.already_complete &&
					  res.trailing_bytes == own_trailing + extra && res.events_kept == r.n,
				  "%s (+%zu bytes): rc %d, already complete %d, trailing %" PRIu64 ", events %" PRIu64
				  ": %s",
				  names[i], extra, rc, res.already_complete, res.trailing_bytes, res.events_kept, err);
			TU_EXPECT(before.st_ino == after.st_ino && file_equals(path, content.data, content.len),
				  "%s (+%zu bytes): the file was rewritten", names[i], extra);
			bytes_free(&content);
		}
		unload(&r);
	}
	assert_true(finished >= 8);
	assert_int_equal(count_entries(dir), 1);
	remove_dir(dir);
	TU_EXPECT_NO_FAILURES();
}

/*
 * Files cut anywhere: every byte of the Event Payloads table and Game Start, inside a Message Splitter chunk,
 * across the whole game and inside the footer; as in-progress files (raw length 0) and as finished files whose
 * raw length now runs past the end. Repair keeps exactly the complete events, or refuses (writing nothing) when
 * there is no complete Game Start.
 */
static void test_repair_cut_files_keep_every_complete_event(void **state)
{
	(void)state;
	static const char *const names[] = {"v3.14.0.slp", "200306_2258_Falco_v_Fox_PS.slp", "sheik_vs_ics_yoshis.slp",
					    "geckoCodes.slp"};
	char dir[PATH_MAX], path[PATH_MAX + 32];
	make_dir(dir, sizeof(dir), "cut");
	snprintf(path, sizeof(path), "%s/Game_20230101T120000.slp", dir);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct replay r;
		load(&r, names[i]);
		size_t game_start_end = (size_t)r.ends[1];
		size_t cuts[1400];
		size_t nc = 0;
		for (size_t k = 0; k <= game_start_end + 2 && nc < 1000; k++) /* the first two events, byte by byte */
			cuts[nc++] = k;
		size_t chunk = first_event(&r, SLP_CMD_MESSAGE_SPLITTER, 0);
		if (chunk != SIZE_MAX)
			for (size_t k = 0; k < 6; k++)
				cuts[nc++] = (size_t)event_start(&r, chunk) + k * 100;
		for (size_t k = 1; k <= 24; k++) /* across the game, off and on boundaries */
			cuts[nc++] = (size_t)((uint64_t)r.events_len * k / 25) + (k % 2);
		cuts[nc++] = r.events_len - 1;
		cuts[nc++] = r.events_len;
		for (size_t k = 0; k < nc; k++) {
			size_t cut = cuts[k];
			uint64_t bytes;
			size_t want = complete_events(&r, cut, &bytes);
			if (want < 2)
				want = 0; /* no complete Game Start: refused */
			char label[192];
			snprintf(label, sizeof(label), "%s cut at stream byte %zu (in progress)", names[i], cut);
			struct bytes content;
			in_progress_copy(&r, cut, NULL, 0, &content);
			expect_repair(path, &r, content.data, content.len, want, label);
			/* the same cut of the finished file: its raw length now runs past the end */
			if (cut % 3 == 0 || k + 2 >= nc) {
				memcpy(content.data + SLP_RAW_LENGTH_OFFSET, r.file.data + SLP_RAW_LENGTH_OFFSET, 4);
				snprintf(label, sizeof(label), "%s cut at stream byte %zu (finished)", names[i], cut);
				expect_repair(path, &r, content.data, content.len, want, label);
			}
			bytes_free(&content);
		}
		/* cut inside the footer: every event kept; just the final brace missing keeps the metadata too */
		for (size_t k = 0; r.footer && k < 8; k++) {
			size_t cut = r.footer + (r.file.len - r.footer) * k / 8;
			char label[192];
			snprintf(label, sizeof(label), "%s cut at file byte %zu, in the footer", names[i], cut);
			expect_repair(path, &r, r.file.data, cut, r.n, label);
		}
		if (r.footer) {
			struct slp_container c;
			char err[768] = "";
			assert_int_equal(slp_container_parse(r.file.data, r.file.len, &c, err, sizeof(err)), 0);
			size_t brace = c.metadata_offset + c.metadata_size;
			assert_int_equal(r.file.data[brace], '}');
			write_file(path, r.file.data, brace);
			struct slp_repair_result res;
			TU_EXPECT(slp_file_repair(path, &res, err, sizeof(err)) == 0 && res.metadata_kept &&
					  file_equals(path, r.file.data, brace + 1),
				  "%s without its final brace: not restored to the original: %s", names[i], err);
		}
		unload(&r);
	}
	assert_int_equal(count_entries(dir), 1);
	remove_dir(dir);
	TU_EXPECT_NO_FAILURES();
}

/*
 * Events that inspect rejects are not kept: a Message Splitter chunk claiming more than 512 bytes, a player
 * index above 3, a too-short Game Start, a relay filler, garbage, a second game. Repair keeps the valid events
 * before them (so the file reads back clean), or refuses when that leaves no Game Start or would cut a game.
 */
static void test_repair_keeps_only_events_inspect_accepts(void **state)
{
	(void)state;
	struct replay r;
	load(&r, "v3.14.0.slp");
	char dir[PATH_MAX], path[PATH_MAX + 32];
	make_dir(dir, sizeof(dir), "invalid");
	snprintf(path, sizeof(path), "%s/game.slp", dir);
	/* an in-progress file of the first ~300 KB of the game, ending inside an event */
	uint64_t prefix_bytes;
	size_t prefix_events = complete_events(&r, 300000, &prefix_bytes);
	size_t len = (size_t)prefix_bytes + 7;
	struct bytes content;

	/* a chunk claiming 600 valid bytes */
	size_t chunk = first_event(&r, SLP_CMD_MESSAGE_SPLITTER, 0);
	assert_true(chunk != SIZE_MAX && chunk < prefix_events);
	in_progress_copy(&r, len, NULL, 0, &content);
	uint8_t *ev = content.data + SLP_HEADER_SIZE + event_start(&r, chunk + 3);
	assert_int_equal(ev[0], SLP_CMD_MESSAGE_SPLITTER);
	ev[0x201] = 0x02;
	ev[0x202] = 0x58;
	expect_repair(path, &r, content.data, content.len, chunk + 3, "a Message Splitter chunk of 600 bytes");
	bytes_free(&content);

	/* a post-frame and a pre-frame naming player 7 */
	static const uint8_t codes[] = {SLP_CMD_POST_FRAME, SLP_CMD_PRE_FRAME};
	for (size_t c = 0; c < sizeof(codes); c++) {
		size_t at = first_event(&r, codes[c], prefix_events / 2);
		assert_true(at < prefix_events);
		in_progress_copy(&r, len, NULL, 0, &content);
		content.data[SLP_HEADER_SIZE + event_start(&r, at) + 5] = 7;
		expect_repair(path, &r, content.data, content.len, at,
			      c ? "a pre-frame with player index 7" : "a post-frame with player index 7");
		bytes_free(&content);
	}

	/* garbage (zeros, as a crash can leave at the end of a file) after the complete events */
	static const uint8_t zeros[4096];
	in_progress_copy(&r, (size_t)prefix_bytes, zeros, sizeof(zeros), &content);
	expect_repair(path, &r, content.data, content.len, prefix_events, "zeros after the events");
	bytes_free(&content);

	/* a relay's keepalive filler between two events: no replay holds one */
	in_progress_copy(&r, (size_t)event_start(&r, 100), SLP_FILLER, SLP_FILLER_LEN, &content);
	assert_true(bytes_append(&content, r.events + event_start(&r, 100), 5000));
	expect_repair(path, &r, content.data, content.len, 100, "a HELO filler after 100 events");
	bytes_free(&content);

	/* a second game in one file: refused, the file left as it is */
	in_progress_copy(&r, (size_t)prefix_bytes, r.events, (size_t)prefix_bytes, &content);
	expect_repair(path, &r, content.data, content.len, 0, "two games in one file");
	bytes_free(&content);

	/* a Game Start declared 4 bytes long: too short, so no Game Start at all: refused */
	in_progress_copy(&r, len, NULL, 0, &content);
	uint8_t *table = content.data + SLP_HEADER_SIZE;
	bool patched = false;
	for (size_t k = 2; k + 3 <= (size_t)table[1] + 1; k += 3) {
		if (table[k] == SLP_CMD_GAME_START) {
			table[k + 1] = 0;
			table[k + 2] = 4;
			patched = true;
		}
	}
	assert_true(patched);
	expect_repair(path, &r, content.data, content.len, 0, "a 5-byte Game Start");
	bytes_free(&content);

	assert_int_equal(count_entries(dir), 1);
	remove_dir(dir);
	unload(&r);
	TU_EXPECT_NO_FAILURES();
}

/* A finished replay damaged inside (an undeclared command, a bad player index) would lose the rest of its game
 * to a repair: refused, the file left as it is. */
static void test_repair_refuses_a_finished_replay_damaged_inside(void **state)
{
	(void)state;
	struct replay r;
	load(&r, "v3.13.slp");
	char dir[PATH_MAX], path[PATH_MAX + 32];
	make_dir(dir, sizeof(dir), "inside");
	snprintf(path, sizeof(path), "%s/game.slp", dir);
	for (int variant = 0; variant < 2; variant++) {
		struct bytes content;
		bytes_init(&content, 0);
		assert_true(bytes_append(&content, r.file.data, r.file.len));
		size_t at = first_event(&r, SLP_CMD_POST_FRAME, r.n / 2);
		uint8_t *ev = content.data + SLP_HEADER_SIZE + event_start(&r, at);
		if (variant == 0)
			ev[0] = 0x00;
		else
			ev[5] = 9;
		write_file(path, content.data, content.len);
		struct slp_repair_result res;
		char err[768] = "";
		int rc = slp_file_repair(path, &res, err, sizeof(err));
		TU_EXPECT(rc == -1 && strstr(err, "finished replay") && strstr(err, "game.slp"),
			  "variant %d: rc %d: %s", variant, rc, err);
		TU_EXPECT(file_equals(path, content.data, content.len), "variant %d: the file was changed", variant);
		bytes_free(&content);
	}
	remove_dir(dir);
	unload(&r);
	TU_EXPECT_NO_FAILURES();
}

struct writer_feed {
	struct slp_file_writer *w;
	int rc;
};

static int write_event(void *ud, const struct slp_event *ev)
{
	struct writer_feed *f = ud;
	if (slp_file_write_event(f->w, ev) < 0)
		f->rc = -1;
	return 0;
}

/* The writer, in a child process: half the game, a signal, a wait, the rest, finish. */
static void child_writer(const struct replay *r, const char *dir, int ready_fd, int go_fd)
{
	struct slp_file_writer *w = malloc(sizeof(*w));
	struct timespec start = {.tv_sec = 1700000000};
	if (!w || slp_file_open(w, dir, NULL, &start, "test") < 0)
		_exit(10);
	struct slp_splitter s;
	slp_splitter_init(&s);
	struct writer_feed f = {.w = w};
	size_t half = r->events_len / 2;
	slp_splitter_feed(&s, r->events, half, write_event, &f);
	if (f.rc < 0 || slp_file_flush(w) < 0)
		_exit(11);
	char c = 'r';
	if (write(ready_fd, &c, 1) != 1 || read(go_fd, &c, 1) != 1)
		_exit(12);
	slp_splitter_feed(&s, r->events + half, r->events_len - half, write_event, &f);
	if (f.rc < 0 || slp_file_finish(w) < 0)
		_exit(13);
	slp_file_close(w);
	_exit(0);
}

/*
 * A file another process is still writing is refused ("being written by another process") and left alone, and
 * every byte the writer writes afterwards reaches the name on disk.
 */
static void test_repair_refuses_a_file_being_written(void **state)
{
	(void)state;
	struct replay r;
	load(&r, "v3.13.slp");
	char dir[PATH_MAX];
	make_dir(dir, sizeof(dir), "live");
	int ready[2], go[2];
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(ready[0]);
		close(go[1]);
		child_writer(&r, dir, ready[1], go[0]);
	}
	close(ready[1]);
	close(go[0]);
	char c;
	assert_int_equal(read(ready[0], &c, 1), 1);

	DIR *d = opendir(dir);
	assert_non_null(d);
	char path[PATH_MAX + 300] = "";
	struct dirent *e;
	while ((e = readdir(d)))
		if (strstr(e->d_name, ".slp"))
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
	closedir(d);
	assert_true(path[0]);
	struct bytes before;
	assert_true(tu_read_file(path, &before));
	struct stat st_before, st_after;
	assert_int_equal(stat(path, &st_before), 0);

	struct slp_repair_result res;
	char err[768] = "";
	int rc = slp_file_repair(path, &res, err, sizeof(err));
	TU_EXPECT(rc == -1 && strstr(err, "being written by another process"), "repair of a live file: rc %d: %s", rc,
		  err);
	assert_int_equal(stat(path, &st_after), 0);
	TU_EXPECT(st_before.st_ino == st_after.st_ino && file_equals(path, before.data, before.len),
		  "the live file was replaced or changed");
	bytes_free(&before);

	assert_int_equal(write(go[1], "g", 1), 1);
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	TU_EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer exit status %d", status);
	close(ready[0]);
	close(go[1]);

	/* the whole game reached the name on disk */
	struct readback rb;
	TU_EXPECT(path_reads_as_finished(path, &rb) && rb.events == r.n && rb.c.raw_length == r.events_len,
		  "after the writer finished, the file holds %" PRIu64 " of %zu events (%s)", rb.events, r.n, rb.error);
	struct bytes after;
	assert_true(tu_read_file(path, &after));
	TU_EXPECT(after.len >= SLP_HEADER_SIZE + r.events_len &&
			  memcmp(after.data + SLP_HEADER_SIZE, r.events, r.events_len) == 0,
		  "the recorded events differ from the source");
	bytes_free(&after);
	/* the writer is gone: now the finished file needs nothing */
	rc = slp_file_repair(path, &res, err, sizeof(err));
	TU_EXPECT(rc == 0 && res.already_complete, "repair after the writer closed: rc %d: %s", rc, err);
	remove_dir(dir);
	unload(&r);
	TU_EXPECT_NO_FAILURES();
}

/* Repairing through a symlink repairs its target; the link stays a link and no temporary file is left. */
static void test_repair_through_a_symlink_repairs_the_target(void **state)
{
	(void)state;
	struct replay r;
	load(&r, "v3.13.slp");
	char dir[PATH_MAX];
	make_dir(dir, sizeof(dir), "link");
	char target_dir[PATH_MAX + 16], link_dir[PATH_MAX + 16], target[PATH_MAX + 48], link[PATH_MAX + 48];
	snprintf(target_dir, sizeof(target_dir), "%s/games", dir);
	snprintf(link_dir, sizeof(link_dir), "%s/links", dir);
	assert_int_equal(mkdir(target_dir, 0755), 0);
	assert_int_equal(mkdir(link_dir, 0755), 0);
	snprintf(target, sizeof(target), "%s/Game_20230101T120000.slp", target_dir);
	snprintf(link, sizeof(link), "%s/latest.slp", link_dir);
	uint64_t bytes;
	size_t want = complete_events(&r, r.events_len - 100, &bytes);
	struct bytes content;
	in_progress_copy(&r, r.events_len - 100, NULL, 0, &content);
	write_file(target, content.data, content.len);
	assert_int_equal(symlink("../games/Game_20230101T120000.slp", link), 0);

	struct slp_repair_result res;
	char err[768] = "";
	int rc = slp_file_repair(link, &res, err, sizeof(err));
	TU_EXPECT(rc == 0 && res.events_kept == want, "rc %d, %" PRIu64 " events kept: %s", rc, res.events_kept, err);
	struct stat st;
	assert_int_equal(lstat(link, &st), 0);
	TU_EXPECT(S_ISLNK(st.st_mode), "the link was replaced by a regular file");
	char dest[PATH_MAX];
	ssize_t n = readlink(link, dest, sizeof(dest) - 1);
	dest[n > 0 ? n : 0] = 0;
	TU_EXPECT(!strcmp(dest, "../games/Game_20230101T120000.slp"), "the link now points to %s", dest);
	struct readback rb;
	TU_EXPECT(path_reads_as_finished(target, &rb) && rb.events == want,
		  "the target holds %" PRIu64 " of %zu events, finished %d (%s)", rb.events, want,
		  reads_as_finished(&rb), rb.error);
	TU_EXPECT(count_entries(target_dir) == 1 && count_entries(link_dir) == 1,
		  "files left: %d in games, %d in links", count_entries(target_dir), count_entries(link_dir));
	bytes_free(&content);
	remove_dir(dir);
	unload(&r);
	TU_EXPECT_NO_FAILURES();
}

/* A FIFO is an error at once, naming the path, never a blocking open (an alarm fails the test if it blocks). */
static void test_repair_fifo_is_an_error_at_once(void **state)
{
	(void)state;
	char dir[PATH_MAX], fifo[PATH_MAX + 32];
	make_dir(dir, sizeof(dir), "fifo");
	snprintf(fifo, sizeof(fifo), "%s/pipe.slp", dir);
	assert_int_equal(mkfifo(fifo, 0644), 0);
	alarm(20);
	struct bytes b;
	char err[768] = "";
	int rc = slp_read_whole_file(fifo, 1 << 20, &b, err, sizeof(err));
	TU_EXPECT(rc == -1 && strstr(err, fifo) && strstr(err, "FIFO"), "read of a FIFO: rc %d: %s", rc, err);
	struct slp_repair_result res;
	err[0] = 0;
	rc = slp_file_repair(fifo, &res, err, sizeof(err));
	TU_EXPECT(rc == -1 && strstr(err, fifo) && strstr(err, "FIFO"), "repair of a FIFO: rc %d: %s", rc, err);
	alarm(0);
	struct stat st;
	TU_EXPECT(lstat(fifo, &st) == 0 && S_ISFIFO(st.st_mode), "the FIFO was replaced");
	remove_dir(dir);
	TU_EXPECT_NO_FAILURES();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_repair_wrong_raw_length_keeps_the_whole_game),
		cmocka_unit_test(test_repair_leaves_finished_files_alone),
		cmocka_unit_test(test_repair_cut_files_keep_every_complete_event),
		cmocka_unit_test(test_repair_keeps_only_events_inspect_accepts),
		cmocka_unit_test(test_repair_refuses_a_finished_replay_damaged_inside),
		cmocka_unit_test(test_repair_refuses_a_file_being_written),
		cmocka_unit_test(test_repair_through_a_symlink_repairs_the_target),
		cmocka_unit_test(test_repair_fifo_is_an_error_at_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
