/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Damaged replays through the whole read path (container, splitter, game state, metadata): every replay cut at
 * many offsets and with random bytes flipped. Each case must end in an error naming an offset or in a partial
 * result, never in a crash; run under ASan/UBSan this also guards every read against the buffer bounds.
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
#include "ubjson.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct outcome {
	int container_rc;
	bool fed;
	int splitter_rc;
	size_t pending;
	int game_errors;
	int starts, ends, frames, bad_json;
	bool started;
	bool metadata_json_ok;
};

struct run {
	struct slp_game game;
	struct outcome *out;
	struct bytes json;
	const char *label;
};

/* Whether an error message names where it happened. */
static bool names_place(const char *err)
{
	if (!strstr(err, "byte") && !strstr(err, "offset"))
		return false;
	for (const char *p = err; *p; p++)
		if (*p >= '0' && *p <= '9')
			return true;
	return false;
}

static void on_game_event(void *ud, const struct slp_game_event *ev)
{
	struct run *r = ud;
	switch (ev->type) {
	case SLP_GAME_EVENT_GAME_START:
		r->out->starts++;
		break;
	case SLP_GAME_EVENT_GAME_END:
		r->out->ends++;
		break;
	case SLP_GAME_EVENT_FRAME:
		/* the JSON of every frame would dominate the run time: sample them */
		if (r->out->frames++ % 127 != 0)
			return;
		break;
	default:
		break;
	}
	bytes_clear(&r->json);
	if (!slp_game_event_to_json(ev, &r->json) || !jm_valid((const char *)r->json.data, r->json.len)) {
		if (r->out->bad_json++ == 0)
			fprintf(stderr, "%s: invalid JSON: %.*s\n", r->label, (int)r->json.len,
				(const char *)r->json.data);
	}
}

static int feed_game(void *ud, const struct slp_event *ev)
{
	struct run *r = ud;
	if (slp_game_handle(&r->game, ev) < 0) {
		if (!names_place(r->game.error))
			TU_EXPECT(false, "%s: game error names no offset: %s", r->label, r->game.error);
		r->out->game_errors++;
	}
	return 0;
}

/* The whole read path over one (possibly damaged) file. */
static void read_path(const uint8_t *file, size_t size, const char *label, struct outcome *out)
{
	memset(out, 0, sizeof(*out));
	struct slp_container c;
	char err[256];
	memset(err, 0x55, sizeof(err));
	out->container_rc = slp_container_parse(file, size, &c, err, sizeof(err));
	TU_EXPECT(memchr(err, 0, sizeof(err)) != NULL, "%s: error not terminated", label);
	if (out->container_rc < 0)
		TU_EXPECT(names_place(err), "%s: container error names no offset: %s", label, err);
	else
		TU_EXPECT(out->container_rc == 0, "%s: container rc %d", label, out->container_rc);
	bool range_ok = c.events_offset >= SLP_HEADER_SIZE && c.events_offset <= size &&
			c.events_size <= size - c.events_offset;
	if (out->container_rc == 0)
		TU_EXPECT(range_ok, "%s: events at %zu+%zu outside a %zu-byte file", label, c.events_offset,
			  c.events_size, size);
	if (out->container_rc == 0 && c.has_metadata) {
		bool inside = c.metadata_offset >= c.events_offset + c.events_size && c.metadata_offset <= size &&
			      c.metadata_size <= size - c.metadata_offset && c.metadata_size >= 2;
		TU_EXPECT(inside, "%s: metadata at %zu+%zu outside a %zu-byte file", label, c.metadata_offset,
			  c.metadata_size, size);
		if (inside) {
			struct bytes json;
			bytes_init(&json, 1 << 24);
			char jerr[160] = "";
			int rc = ubj_to_json(file + c.metadata_offset, c.metadata_size, &json, jerr, sizeof(jerr));
			if (rc == 0) {
				out->metadata_json_ok = jm_valid((const char *)json.data, json.len);
				TU_EXPECT(out->metadata_json_ok, "%s: metadata JSON invalid: %.*s", label,
					  (int)json.len, (const char *)json.data);
			} else {
				TU_EXPECT(names_place(jerr), "%s: metadata error names no offset: %s", label, jerr);
			}
			bytes_free(&json);
		}
	}
	/* a tolerant reader feeds what events there are, even when the container is damaged */
	if (!range_ok || c.events_size == 0)
		return;
	struct run *r = malloc(sizeof(*r));
	assert_non_null(r);
	r->out = out;
	r->label = label;
	bytes_init(&r->json, 0);
	slp_game_init(&r->game, on_game_event, r);
	struct slp_splitter s;
	slp_splitter_init(&s);
	out->fed = true;
	out->splitter_rc = slp_splitter_feed(&s, file + c.events_offset, c.events_size, feed_game, r);
	out->pending = slp_splitter_pending_bytes(&s);
	if (out->splitter_rc < 0)
		TU_EXPECT(names_place(s.error), "%s: splitter error names no offset: %s", label, s.error);
	TU_EXPECT(out->splitter_rc == 0 || out->splitter_rc == -1, "%s: splitter rc %d", label, out->splitter_rc);
	slp_splitter_free(&s);
	slp_game_finish(&r->game);
	out->started = r->game.started;
	TU_EXPECT(out->ends <= out->starts + (int)r->game.games, "%s: %d ends for %d starts", label, out->ends,
		  out->starts);
	if (r->game.games <= 1)
		TU_EXPECT(out->starts == (r->game.started ? 1 : 0) && out->ends == out->starts,
			  "%s: %d game_start, %d game_end (started %d)", label, out->starts, out->ends,
			  r->game.started);
	TU_EXPECT(out->bad_json == 0, "%s: %d invalid JSON forms", label, out->bad_json);
	bytes_free(&r->json);
	free(r);
}

static uint8_t *copy_of(const uint8_t *data, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);
	assert_non_null(p);
	memcpy(p, data, len);
	return p;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

static void test_bad_input_truncated_everywhere(void **state)
{
	(void)state;
	const char *names[TU_MAX_REPLAYS];
	size_t n = tu_replay_names(names);
	for (size_t i = 0; i < n; i++) {
		struct bytes file;
		assert_true(tu_read_replay(names[i], &file));
		const uint8_t *ev;
		size_t ev_len;
		assert_true(tu_events(&file, &ev, &ev_len));
		size_t footer = tu_footer_offset(&file);

		size_t cuts[400];
		size_t nc = 0;
		uint64_t seed = 1000 + i;
		for (size_t k = 0; k <= 40 && k < file.len; k++) /* the header and the first events */
			cuts[nc++] = k;
		for (int k = 0; k < 80; k++) /* Event Payloads, Game Start, Gecko list */
			cuts[nc++] = 15 + (size_t)(tu_rand(&seed) % (file.len < 80000 ? file.len - 15 : 80000));
		for (int k = 1; k <= 60; k++) /* across the whole file */
			cuts[nc++] = (size_t)((uint64_t)file.len * (uint64_t)k / 61);
		if (footer) { /* inside the footer */
			size_t flen = file.len - footer;
			for (size_t k = 0; k < 60; k++)
				cuts[nc++] = footer + k * flen / 60;
			cuts[nc++] = footer - 1;
			cuts[nc++] = file.len - 1;
		}
		for (int k = 0; k < 40; k++) /* the last events */
			cuts[nc++] =
				file.len - 1 - (size_t)(tu_rand(&seed) % (file.len < 20000 ? file.len - 1 : 20000));
		assert_true(nc >= 200 && nc <= sizeof(cuts) / sizeof(cuts[0]));
		qsort(cuts, nc, sizeof(cuts[0]), cmp_size);

		for (size_t k = 0; k < nc; k++) {
			size_t cut = cuts[k];
			char label[128];
			snprintf(label, sizeof(label), "%s cut at %zu", names[i], cut);
			uint8_t *copy = copy_of(file.data, cut);
			struct outcome out;
			read_path(copy, cut, label, &out);
			/* a finished file cut short cannot hold its raw length */
			if (cut < SLP_HEADER_SIZE || (footer && cut < footer))
				TU_EXPECT(out.container_rc == -1, "%s: accepted", label);

			/* the same cut as an in-progress file: a stream cut short is a partial result, never an error */
			if (cut > SLP_HEADER_SIZE && cut <= 15 + ev_len) {
				memset(copy + 11, 0, 4);
				read_path(copy, cut, label, &out);
				TU_EXPECT(out.container_rc == 0 && out.fed && out.splitter_rc == 0 &&
						  out.game_errors == 0,
					  "%s (in progress): container %d splitter %d game errors %d", label,
					  out.container_rc, out.splitter_rc, out.game_errors);
			}
			free(copy);
		}
		bytes_free(&file);
	}
	TU_EXPECT_NO_FAILURES();
}

static void flip(uint8_t *data, size_t len, size_t region_start, size_t region_len, uint64_t *seed)
{
	if (!region_len)
		return;
	size_t at = region_start + (size_t)(tu_rand(seed) % region_len);
	if (at >= len)
		return;
	uint64_t r = tu_rand(seed);
	switch (r % 4) {
	case 0:
		data[at] ^= (uint8_t)(1u << ((r >> 8) % 8));
		break;
	case 1:
		data[at] = (uint8_t)(r >> 16);
		break;
	case 2:
		data[at] = 0xFF;
		break;
	default:
		data[at] = 0x00;
		break;
	}
}

/* Random byte changes, with fixed seeds: the header, the first events, the footer and anywhere. */
static void test_bad_input_random_flips(void **state)
{
	(void)state;
	const char *names[TU_MAX_REPLAYS];
	size_t n = tu_replay_names(names);
	unsigned trials = 0;
	for (size_t i = 0; i < n; i++) {
		struct bytes file;
		assert_true(tu_read_replay(names[i], &file));
		size_t footer = tu_footer_offset(&file);
		/* big files: mostly flip a 96 KiB in-progress prefix, which holds every kind of event, and a few whole */
		bool big = file.len > 400000;
		size_t prefix = big ? 96 * 1024 : file.len;
		int prefix_trials = 400, whole_trials = big ? 12 : 0;
		uint64_t seed = 0xF11D + i;
		for (int t = 0; t < prefix_trials + whole_trials; t++) {
			bool whole = t >= prefix_trials;
			size_t len = whole ? file.len : prefix;
			uint8_t *copy = copy_of(file.data, len);
			if (!whole && big)
				memset(copy + 11, 0, 4);
			int flips = 1 + (int)(tu_rand(&seed) % 8);
			for (int f = 0; f < flips; f++) {
				uint64_t where = tu_rand(&seed) % 10;
				if (where < 2)
					flip(copy, len, 0, 20, &seed);
				else if (where < 5)
					flip(copy, len, 15, len < 1500 ? len - 15 : 1500, &seed);
				else if (where < 6 && footer && !(!whole && big))
					flip(copy, len, footer, file.len - footer, &seed);
				else
					flip(copy, len, 0, len, &seed);
			}
			/* sometimes also cut it */
			if (tu_rand(&seed) % 4 == 0)
				len -= (size_t)(tu_rand(&seed) % (len / 8 + 1));
			char label[128];
			snprintf(label, sizeof(label), "%s flip trial %d", names[i], t);
			struct outcome out;
			read_path(copy, len, label, &out);
			free(copy);
			trials++;
		}
		bytes_free(&file);
	}
	assert_true(trials >= 4000);
	TU_EXPECT_NO_FAILURES();
}

/* corrupt.slp: in progress, 54 whole splitter events then 289 bytes of a 517-byte one. */
static void test_bad_input_corrupt_gives_partial_result(void **state)
{
	(void)state;
	struct bytes file;
	assert_true(tu_read_replay("corrupt.slp", &file));
	struct slp_container c;
	char err[256] = "";
	assert_int_equal(slp_container_parse(file.data, file.len, &c, err, sizeof(err)), 0);
	assert_true(c.in_progress);
	assert_int_equal(c.raw_length, 0);
	assert_int_equal(c.events_offset, 15);
	assert_int_equal(c.events_size, file.len - 15);
	assert_false(c.has_metadata);

	struct outcome out;
	read_path(file.data, file.len, "corrupt.slp", &out);
	assert_int_equal(out.splitter_rc, 0);
	assert_int_equal(out.pending, 289);
	assert_int_equal(out.game_errors, 0);
	assert_true(out.started);
	assert_int_equal(out.starts, 1);
	assert_int_equal(out.ends, 1);
	assert_int_equal(out.frames, 0);
	TU_EXPECT_NO_FAILURES();
	bytes_free(&file);
}

/* The container variants Slippi writers produce: finished, in progress, no metadata key, empty metadata. */
static void test_bad_input_container_variants(void **state)
{
	(void)state;
	const char *names[TU_MAX_REPLAYS];
	size_t n = tu_replay_names(names);
	for (size_t i = 0; i < n; i++) {
		struct bytes file;
		assert_true(tu_read_replay(names[i], &file));
		const struct jm_value *container = jm_get(tu_expected_file(names[i]), "container");
		struct slp_container c;
		char err[256] = "";
		int rc = slp_container_parse(file.data, file.len, &c, err, sizeof(err));
		TU_EXPECT(rc == 0, "%s: %s", names[i], err);
		TU_EXPECT(c.raw_length == (uint32_t)jm_get_int(container, "rawLength", -1), "%s: raw length %u",
			  names[i], c.raw_length);
		TU_EXPECT(c.events_offset + c.events_size == (size_t)jm_get_int(container, "rawEndOffset", -1),
			  "%s: events end at %zu", names[i], c.events_offset + c.events_size);
		const struct jm_value *has = jm_get(container, "hasMetadata");
		TU_EXPECT(has && c.has_metadata == has->b, "%s: has_metadata %d (%s)", names[i], c.has_metadata, err);
		size_t footer = tu_footer_offset(&file);
		if (footer)
			TU_EXPECT(c.metadata_offset == footer + 10, "%s: metadata at %zu", names[i], c.metadata_offset);
		if (!footer) {
			bytes_free(&file);
			continue;
		}
		/* no metadata key: the events, then the closing brace */
		struct bytes v;
		bytes_init(&v, 0);
		assert_true(bytes_append(&v, file.data, footer));
		assert_true(bytes_append_byte(&v, '}'));
		err[0] = 0;
		rc = slp_container_parse(v.data, v.len, &c, err, sizeof(err));
		TU_EXPECT(rc == 0 && !c.has_metadata && c.events_size == footer - 15, "%s without metadata: %d %s",
			  names[i], rc, err);
		/* an empty metadata object */
		bytes_clear(&v);
		assert_true(bytes_append(&v, file.data, footer));
		assert_true(bytes_append(&v, "U\x08metadata{}}", 13));
		err[0] = 0;
		rc = slp_container_parse(v.data, v.len, &c, err, sizeof(err));
		TU_EXPECT(rc == 0 && c.has_metadata && c.metadata_size == 2, "%s with empty metadata: %d %s", names[i],
			  rc, err);
		bytes_free(&v);
		bytes_free(&file);
	}
	/* not a .slp file */
	struct slp_container c;
	char err[256] = "";
	assert_int_equal(slp_container_parse((const uint8_t *)"{U\x03rax[$U#l\0\0\0\0", 15, &c, err, sizeof(err)), -1);
	assert_true(names_place(err));
	TU_EXPECT_NO_FAILURES();
}

/* slp_read_whole_file honours its bound exactly: a file of exactly max_bytes is read, one byte more is refused. */
static void test_bad_input_read_whole_file_bound(void **state)
{
	(void)state;
	static const char *const names[] = {"corrupt.slp", "v3.13.slp"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", ANDROSS_REPLAY_DIR, names[i]);
		struct bytes want;
		assert_true(tu_read_file(path, &want));
		struct bytes got;
		char err[512] = "";
		int rc = slp_read_whole_file(path, want.len, &got, err, sizeof(err));
		TU_EXPECT(rc == 0, "%s: max_bytes = its size (%zu): %s", names[i], want.len, err);
		if (rc == 0) {
			TU_EXPECT(got.len == want.len && memcmp(got.data, want.data, want.len) == 0, "%s: content",
				  names[i]);
			bytes_free(&got);
		}
		rc = slp_read_whole_file(path, want.len - 1, &got, err, sizeof(err));
		TU_EXPECT(rc == -1, "%s: read past max_bytes", names[i]);
		if (rc == 0)
			bytes_free(&got);
		rc = slp_read_whole_file(path, (size_t)1 << 30, &got, err, sizeof(err));
		TU_EXPECT(rc == 0 && got.len == want.len, "%s: generous bound: %s", names[i], err);
		if (rc == 0)
			bytes_free(&got);
		bytes_free(&want);
	}
	struct bytes got;
	char err[512] = "";
	assert_int_equal(slp_read_whole_file(ANDROSS_REPLAY_DIR "/no-such-file.slp", 1 << 20, &got, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "no-such-file.slp"));
	TU_EXPECT_NO_FAILURES();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_input_container_variants),
		cmocka_unit_test(test_bad_input_corrupt_gives_partial_result),
		cmocka_unit_test(test_bad_input_truncated_everywhere),
		cmocka_unit_test(test_bad_input_random_flips),
		cmocka_unit_test(test_bad_input_read_whole_file_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
