/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The event-stream splitter on every real replay: chunking is invisible, fillers are skipped, errors name offsets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hex_code(const char *key, const char *prefix)
{
	size_t n = strlen(prefix);
	if (strncmp(key, prefix, n) != 0)
		return -1;
	char *end = NULL;
	long v = strtol(key + n, &end, 16);
	if (!end || *end || v < 0 || v > 255)
		return -1;
	return (int)v;
}

/* Checks one whole-stream recording against expected.json stream.* for that file. */
static void check_counts(const char *name, const struct tu_recording *rec, size_t pending, int rc, const char *err)
{
	const struct jm_value *stream = jm_get(tu_expected_file(name), "stream");
	const struct jm_value *counts = jm_get(stream, "eventCounts");
	TU_EXPECT(counts != NULL, "%s: no stream.eventCounts in expected.json", name);
	TU_EXPECT(rc == 0, "%s: feed returned %d (%s)", name, rc, err);
	uint64_t expected_total = 0, seen_total = 0;
	for (const struct jm_value *c = counts ? counts->child : NULL; c; c = c->next) {
		int code = hex_code(c->key, "0x");
		int carried = hex_code(c->key, "reassembled_0x");
		TU_EXPECT(code >= 0 || carried >= 0, "%s: unknown eventCounts key %s", name, c->key);
		if (code >= 0) {
			TU_EXPECT(rec->counts[code] == (uint64_t)jm_int(c),
				  "%s: %s events: expected %" PRId64 ", got %" PRIu64, name, c->key, jm_int(c),
				  rec->counts[code]);
			expected_total += (uint64_t)jm_int(c);
		} else if (carried >= 0) {
			TU_EXPECT(rec->reassembled[carried] == (uint64_t)jm_int(c),
				  "%s: %s: expected %" PRId64 ", got %" PRIu64, name, c->key, jm_int(c),
				  rec->reassembled[carried]);
			expected_total += (uint64_t)jm_int(c);
		}
	}
	for (int i = 0; i < 256; i++)
		seen_total += rec->counts[i] + rec->reassembled[i];
	TU_EXPECT(seen_total == expected_total, "%s: %" PRIu64 " events in all, expected %" PRIu64, name, seen_total,
		  expected_total);
	TU_EXPECT(rec->byte_mismatches == 0, "%s: %" PRIu64 " events whose bytes differ from the stream", name,
		  rec->byte_mismatches);

	const struct jm_value *gecko = jm_get(stream, "geckoListBytes");
	if (gecko && !jm_is_null(gecko))
		TU_EXPECT(rec->reassembled_payload_bytes[0x3d] == (uint64_t)jm_int(gecko),
			  "%s: Gecko list payload %" PRIu64 " bytes, expected %" PRId64, name,
			  rec->reassembled_payload_bytes[0x3d], jm_int(gecko));

	const struct jm_value *truncated = jm_get(stream, "truncatedLastEvent");
	bool expect_partial = truncated && truncated->type == JM_BOOL && truncated->b;
	TU_EXPECT(expect_partial == (pending > 0), "%s: %zu bytes pending, expected a partial event: %d", name, pending,
		  expect_partial);
}

static void load(const char *name, struct bytes *file, const uint8_t **ev, size_t *ev_len)
{
	if (!tu_read_replay(name, file))
		fail_msg("cannot read replay %s", name);
	if (!tu_events(file, ev, ev_len))
		fail_msg("%s: bad header", name);
}

static void test_splitter_every_replay_counts_match_expected(void **state)
{
	(void)state;
	const char *names[TU_MAX_REPLAYS];
	size_t n = tu_replay_names(names);
	assert_true(n >= 12);
	for (size_t i = 0; i < n; i++) {
		struct bytes file;
		const uint8_t *ev;
		size_t ev_len, pending = 0;
		char err[256] = "";
		load(names[i], &file, &ev, &ev_len);
		struct tu_recording rec;
		tu_recording_init(&rec);
		rec.stream = ev;
		rec.stream_len = ev_len;
		int rc = tu_split(ev, ev_len, 0, 0, &rec, &pending, NULL, err, sizeof(err));
		check_counts(names[i], &rec, pending, rc, err);
		/* events tile the stream: each wire event starts where the previous one ended */
		uint64_t at = 0;
		for (size_t k = 0; k < rec.n; k++) {
			if (rec.ev[k].reassembled)
				continue;
			TU_EXPECT(rec.ev[k].offset == at, "%s: event %zu at %" PRIu64 ", expected %" PRIu64, names[i],
				  k, rec.ev[k].offset, at);
			at = rec.ev[k].offset + rec.ev[k].size;
		}
		TU_EXPECT(at + pending == ev_len, "%s: events end at %" PRIu64 " + %zu pending, stream is %zu",
			  names[i], at, pending, ev_len);
		tu_recording_free(&rec);
		bytes_free(&file);
	}
	TU_EXPECT_NO_FAILURES();
}

static void test_splitter_chunking_is_invisible(void **state)
{
	(void)state;
	const char *names[TU_MAX_REPLAYS];
	size_t n = tu_replay_names(names);
	for (size_t i = 0; i < n; i++) {
		struct bytes file;
		const uint8_t *ev;
		size_t ev_len, pending_whole = 0;
		load(names[i], &file, &ev, &ev_len);
		struct tu_recording whole;
		tu_recording_init(&whole);
		int rc_whole = tu_split(ev, ev_len, 0, 0, &whole, &pending_whole, NULL, NULL, 0);

		static const struct {
			int chunk;
			uint64_t seed;
		} runs[] = {{1, 0}, {7, 1}, {600, 2}, {4096, 3}, {70000, 4}, {3, 5}};
		for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++) {
			struct tu_recording rec;
			tu_recording_init(&rec);
			rec.stream = ev;
			rec.stream_len = ev_len;
			size_t pending = 0;
			char err[256] = "";
			int rc = tu_split(ev, ev_len, runs[r].chunk, runs[r].seed, &rec, &pending, NULL, err,
					  sizeof(err));
			size_t d = tu_recording_diff(&whole, &rec);
			TU_EXPECT(d == SIZE_MAX,
				  "%s: chunks up to %d (seed %" PRIu64 ") differ at event %zu of %zu/%zu", names[i],
				  runs[r].chunk, runs[r].seed, d, whole.n, rec.n);
			TU_EXPECT(rc == rc_whole, "%s: chunked feed returned %d, whole %d (%s)", names[i], rc, rc_whole,
				  err);
			TU_EXPECT(pending == pending_whole, "%s: %zu bytes pending, whole feed %zu", names[i], pending,
				  pending_whole);
			TU_EXPECT(rec.byte_mismatches == 0, "%s: event bytes differ from the stream", names[i]);
			tu_recording_free(&rec);
		}
		tu_recording_free(&whole);
		bytes_free(&file);
	}
	TU_EXPECT_NO_FAILURES();
}

/* Inserts `HELO\0` fillers at event boundaries, fed in small random chunks so fillers straddle chunks. */
static void test_splitter_fillers_are_skipped_and_counted(void **state)
{
	(void)state;
	const char *names[TU_MAX_REPLAYS];
	size_t n = tu_replay_names(names);
	for (size_t i = 0; i < n; i++) {
		struct bytes file;
		const uint8_t *ev;
		size_t ev_len;
		load(names[i], &file, &ev, &ev_len);
		struct tu_recording whole;
		tu_recording_init(&whole);
		tu_split(ev, ev_len, 0, 0, &whole, NULL, NULL, NULL, 0);

		/* boundaries: every wire event start, plus the end of the last whole event */
		struct bytes with;
		bytes_init(&with, 0);
		uint64_t *shift = calloc(whole.n + 1, sizeof(*shift)); /* fillers before event k */
		assert_non_null(shift);
		uint64_t seed = 0x5eed + i, inserted = 0;
		size_t copied = 0;
		for (size_t k = 0; k < whole.n; k++) {
			const struct tu_event *e = &whole.ev[k];
			if (!e->reassembled) {
				uint64_t r = tu_rand(&seed);
				int count = k == 0 ? 2 : (r % 23 == 0) ? 1 + (int)((r >> 8) % 3) : 0;
				assert_true(bytes_append(&with, ev + copied, e->offset - copied));
				copied = e->offset;
				for (int f = 0; f < count; f++)
					assert_true(bytes_append(&with, SLP_FILLER, SLP_FILLER_LEN));
				inserted += (uint64_t)count;
			}
			shift[k] = inserted;
			/* a reassembled message carries the offset of its first chunk */
			for (size_t j = k; e->reassembled && j-- > 0;) {
				if (!whole.ev[j].reassembled && whole.ev[j].offset == e->offset) {
					shift[k] = shift[j];
					break;
				}
			}
		}
		/* a filler after the last whole event, before any trailing partial one */
		size_t tail_at = whole.n ? (size_t)(whole.ev[whole.n - 1].offset + whole.ev[whole.n - 1].size) : 0;
		for (size_t k = whole.n; k-- > 0;) {
			if (!whole.ev[k].reassembled) {
				tail_at = (size_t)(whole.ev[k].offset + whole.ev[k].size);
				break;
			}
		}
		assert_true(bytes_append(&with, ev + copied, tail_at - copied));
		assert_true(bytes_append(&with, SLP_FILLER, SLP_FILLER_LEN));
		inserted++;
		assert_true(bytes_append(&with, ev + tail_at, ev_len - tail_at));

		for (uint64_t seed2 = 11; seed2 < 13; seed2++) {
			struct tu_recording rec;
			tu_recording_init(&rec);
			uint64_t fillers = 0;
			size_t pending = 0;
			char err[256] = "";
			int rc = tu_split(with.data, with.len, 9, seed2, &rec, &pending, &fillers, err, sizeof(err));
			TU_EXPECT(rc == 0, "%s with fillers: feed returned %d (%s)", names[i], rc, err);
			TU_EXPECT(fillers == inserted, "%s: %" PRIu64 " fillers counted, %" PRIu64 " inserted",
				  names[i], fillers, inserted);
			TU_EXPECT(rec.n == whole.n, "%s with fillers: %zu events, expected %zu", names[i], rec.n,
				  whole.n);
			size_t bad = 0;
			for (size_t k = 0; k < rec.n && k < whole.n; k++) {
				const struct tu_event *a = &whole.ev[k], *b = &rec.ev[k];
				if (a->code != b->code || a->size != b->size || a->hash != b->hash ||
				    b->offset != a->offset + SLP_FILLER_LEN * shift[k])
					bad++;
			}
			TU_EXPECT(bad == 0, "%s with fillers: %zu events differ (offsets count fillers)", names[i],
				  bad);
			tu_recording_free(&rec);
		}
		free(shift);
		bytes_free(&with);
		tu_recording_free(&whole);
		bytes_free(&file);
	}
	TU_EXPECT_NO_FAILURES();
}

static void test_splitter_undeclared_command_fails_naming_offset(void **state)
{
	(void)state;
	const char *names[TU_MAX_REPLAYS];
	size_t n = tu_replay_names(names);
	for (size_t i = 0; i < n; i++) {
		struct bytes file;
		const uint8_t *ev;
		size_t ev_len;
		load(names[i], &file, &ev, &ev_len);
		struct tu_recording whole;
		tu_recording_init(&whole);
		tu_split(ev, ev_len, 0, 0, &whole, NULL, NULL, NULL, 0);
		bool declared[256];
		uint16_t sizes[256];
		char err[256];
		assert_int_equal(slp_parse_event_payloads(ev, (size_t)ev[1] + 1, declared, sizes, err, sizeof(err)), 0);
		int bad_code = -1;
		for (int c = 0xFF; c > 0 && bad_code < 0; c--)
			if (!declared[c] && c != 'H' && c != SLP_CMD_EVENT_PAYLOADS)
				bad_code = c;
		assert_true(bad_code > 0);

		/* corrupt the command byte of the wire event nearest the middle */
		size_t k = whole.n / 2;
		while (k < whole.n && whole.ev[k].reassembled)
			k++;
		assert_true(k < whole.n);
		uint64_t at = whole.ev[k].offset;
		size_t wire_before = 0;
		for (size_t j = 0; j < k; j++)
			wire_before += !whole.ev[j].reassembled;
		uint8_t *copy = malloc(ev_len);
		assert_non_null(copy);
		memcpy(copy, ev, ev_len);
		copy[at] = (uint8_t)bad_code;
		char want[64];
		snprintf(want, sizeof(want), "stream byte %" PRIu64, at);
		for (int chunk = 0; chunk <= 1; chunk++) {
			struct tu_recording rec;
			tu_recording_init(&rec);
			int rc = tu_split(copy, ev_len, chunk, 0, &rec, NULL, NULL, err, sizeof(err));
			TU_EXPECT(rc == -1, "%s: undeclared 0x%02x at %" PRIu64 ": feed returned %d", names[i],
				  bad_code, at, rc);
			TU_EXPECT(strstr(err, want) != NULL, "%s: error \"%s\" does not name \"%s\"", names[i], err,
				  want);
			size_t wire = 0;
			for (size_t j = 0; j < rec.n; j++) {
				wire += !rec.ev[j].reassembled;
				TU_EXPECT(rec.ev[j].offset < at, "%s: an event at %" PRIu64 " after the error",
					  names[i], rec.ev[j].offset);
			}
			TU_EXPECT(wire == wire_before, "%s: %zu events before the error, expected %zu", names[i], wire,
				  wire_before);
			tu_recording_free(&rec);
		}

		/* the splitter stays failed until reset; after reset a whole stream parses again */
		struct slp_splitter s;
		slp_splitter_init(&s);
		assert_int_equal(slp_splitter_feed(&s, copy, ev_len, NULL, NULL), -1);
		assert_int_equal(slp_splitter_feed(&s, ev, 1, NULL, NULL), -1);
		slp_splitter_reset(&s);
		struct tu_recording again;
		tu_recording_init(&again);
		assert_int_equal(slp_splitter_feed(&s, ev, ev_len, tu_record_event, &again), 0);
		assert_int_equal(again.n, whole.n);
		tu_recording_free(&again);
		slp_splitter_free(&s);
		free(copy);
		tu_recording_free(&whole);
		bytes_free(&file);
	}
	TU_EXPECT_NO_FAILURES();
}

static void test_splitter_requires_event_payloads_first(void **state)
{
	(void)state;
	struct bytes file;
	const uint8_t *ev;
	size_t ev_len;
	load("v3.13.slp", &file, &ev, &ev_len);
	size_t first = (size_t)ev[1] + 1;
	char err[256];
	/* the stream starting at Game Start: no size table yet */
	int rc = tu_split(ev + first, ev_len - first, 0, 0, NULL, NULL, NULL, err, sizeof(err));
	assert_int_equal(rc, -1);
	assert_non_null(strstr(err, "stream byte 0"));
	/* an Event Payloads whose size is not 3k+1 */
	uint8_t bad[] = {SLP_CMD_EVENT_PAYLOADS, 5, 0x36, 0x01, 0x40, 0x39};
	rc = tu_split(bad, sizeof(bad), 0, 0, NULL, NULL, NULL, err, sizeof(err));
	assert_int_equal(rc, -1);
	assert_non_null(strstr(err, "stream byte 0"));
	/* an Event Payloads that redeclares itself */
	uint8_t self[] = {SLP_CMD_EVENT_PAYLOADS, 4, SLP_CMD_EVENT_PAYLOADS, 0x00, 0x04};
	rc = tu_split(self, sizeof(self), 0, 0, NULL, NULL, NULL, err, sizeof(err));
	assert_int_equal(rc, -1);
	bytes_free(&file);
}

static void append_recording(struct tu_recording *dst, const struct tu_recording *src, uint64_t shift)
{
	for (size_t k = 0; k < src->n; k++) {
		struct slp_event fake = {0};
		(void)fake;
		if (dst->n == dst->cap) {
			dst->cap = dst->cap ? dst->cap * 2 : 4096;
			dst->ev = realloc(dst->ev, dst->cap * sizeof(*dst->ev));
			assert_non_null(dst->ev);
		}
		dst->ev[dst->n] = src->ev[k];
		dst->ev[dst->n].offset += shift;
		dst->n++;
	}
}

/* A new Event Payloads mid-stream installs the new table and drops a half-reassembled message. */
static void test_splitter_new_event_payloads_resets(void **state)
{
	(void)state;
	static const struct {
		const char *a, *b;
	} pairs[] = {
		{"corrupt.slp", "unranked_game1.slp"},    /* A ends inside a Gecko list: B's list must be whole */
		{"sheik_vs_ics_yoshis.slp", "v3.13.slp"}, /* a 0.1 table, then a 3.13 one */
		{"v3.13.slp", "realtimeTest.slp"},        /* and back to an older, smaller table */
		{"geckoCodes.slp", "geckoCodes.slp"},
	};
	for (size_t p = 0; p < sizeof(pairs) / sizeof(pairs[0]); p++) {
		struct bytes fa, fb;
		const uint8_t *ea, *eb;
		size_t la, lb, pending_a = 0;
		load(pairs[p].a, &fa, &ea, &la);
		load(pairs[p].b, &fb, &eb, &lb);
		struct tu_recording ra, rb, want;
		tu_recording_init(&ra);
		tu_recording_init(&rb);
		tu_recording_init(&want);
		tu_split(ea, la, 0, 0, &ra, &pending_a, NULL, NULL, 0);
		la -= pending_a; /* only A's whole events */
		tu_split(eb, lb, 0, 0, &rb, NULL, NULL, NULL, 0);
		append_recording(&want, &ra, 0);
		append_recording(&want, &rb, la);

		struct bytes both;
		bytes_init(&both, 0);
		assert_true(bytes_append(&both, ea, la));
		assert_true(bytes_append(&both, eb, lb));
		for (int chunk = 0; chunk <= 600; chunk += 300) {
			struct tu_recording rec;
			tu_recording_init(&rec);
			char err[256] = "";
			int rc = tu_split(both.data, both.len, chunk, 77, &rec, NULL, NULL, err, sizeof(err));
			TU_EXPECT(rc == 0, "%s + %s: feed returned %d (%s)", pairs[p].a, pairs[p].b, rc, err);
			size_t d = tu_recording_diff(&want, &rec);
			TU_EXPECT(d == SIZE_MAX, "%s + %s (chunks %d): differs at event %zu of %zu/%zu", pairs[p].a,
				  pairs[p].b, chunk, d, want.n, rec.n);
			TU_EXPECT(rec.reassembled_payload_bytes[0x3d] ==
					  ra.reassembled_payload_bytes[0x3d] + rb.reassembled_payload_bytes[0x3d],
				  "%s + %s: reassembled Gecko bytes %" PRIu64, pairs[p].a, pairs[p].b,
				  rec.reassembled_payload_bytes[0x3d]);
			tu_recording_free(&rec);
		}
		bytes_free(&both);
		tu_recording_free(&ra);
		tu_recording_free(&rb);
		tu_recording_free(&want);
		bytes_free(&fa);
		bytes_free(&fb);
	}
	TU_EXPECT_NO_FAILURES();
}

/* corrupt.slp stops 289 bytes into a 517-byte splitter event: held back, never emitted. */
static void test_splitter_corrupt_partial_event_is_held(void **state)
{
	(void)state;
	struct bytes file;
	const uint8_t *ev;
	size_t ev_len;
	load("corrupt.slp", &file, &ev, &ev_len);
	const char *reason = jm_get_str(jm_get(tu_expected_file("corrupt.slp"), "stream"), "stopReason");
	assert_non_null(reason);
	unsigned code = 0;
	size_t file_offset = 0;
	assert_int_equal(sscanf(reason, "truncated 0x%x at %zu", &code, &file_offset), 2);
	size_t stream_offset = file_offset - 15;
	for (int chunk = 0; chunk <= 1; chunk++) {
		struct tu_recording rec;
		tu_recording_init(&rec);
		size_t pending = 0;
		int rc = tu_split(ev, ev_len, chunk, 0, &rec, &pending, NULL, NULL, 0);
		assert_int_equal(rc, 0);
		assert_int_equal(pending, ev_len - stream_offset);
		assert_true(rec.n > 0);
		const struct tu_event *last = &rec.ev[rec.n - 1];
		assert_int_equal(last->offset + last->size, stream_offset);
		assert_int_equal(rec.reassembled[0x3d], 0);
		for (size_t k = 0; k < rec.n; k++)
			assert_true(rec.ev[k].offset < stream_offset);
		tu_recording_free(&rec);
	}
	/* the held bytes are the start of a 0x10 event */
	assert_int_equal(ev[stream_offset], code);
	bytes_free(&file);
}

struct big_message {
	uint64_t chunks;
	uint64_t reassembled;
	size_t reassembled_size;
};

static int count_big(void *ud, const struct slp_event *ev)
{
	struct big_message *m = ud;
	if (ev->reassembled) {
		m->reassembled++;
		m->reassembled_size = ev->size;
	} else if (ev->code == SLP_CMD_MESSAGE_SPLITTER) {
		m->chunks++;
	}
	return 0;
}

static void splitter_chunk(uint8_t ev[517], uint16_t valid, bool last)
{
	memset(ev, 0, 517);
	ev[0] = SLP_CMD_MESSAGE_SPLITTER;
	for (int i = 0; i < 512; i++)
		ev[1 + i] = (uint8_t)i;
	ev[0x201] = (uint8_t)(valid >> 8);
	ev[0x202] = (uint8_t)valid;
	ev[0x203] = SLP_CMD_GECKO_LIST;
	ev[0x204] = last;
}

/* A Message Splitter stream longer than SLP_MESSAGE_MAX_BYTES fails cleanly; one exactly at the bound works. */
static void test_splitter_huge_message_is_bounded(void **state)
{
	(void)state;
	struct bytes file;
	const uint8_t *ev;
	size_t ev_len;
	load("ics2.slp", &file, &ev, &ev_len);
	size_t table_len = (size_t)ev[1] + 1;
	uint8_t chunk[517];
	const uint64_t full = SLP_MESSAGE_MAX_BYTES / 512;

	for (int exact = 1; exact >= 0; exact--) {
		struct slp_splitter s;
		struct big_message m = {0};
		slp_splitter_init(&s);
		assert_int_equal(slp_splitter_feed(&s, ev, table_len, count_big, &m), 0);
		int rc = 0;
		uint64_t fed = 0;
		uint64_t total = exact ? full : full + 50;
		for (; fed < total && rc == 0; fed++) {
			splitter_chunk(chunk, 512, exact && fed + 1 == total);
			rc = slp_splitter_feed(&s, chunk, sizeof(chunk), count_big, &m);
		}
		if (exact) {
			assert_int_equal(rc, 0);
			assert_int_equal(m.reassembled, 1);
			assert_int_equal(m.reassembled_size, 1 + (size_t)SLP_MESSAGE_MAX_BYTES);
		} else {
			assert_int_equal(rc, -1);
			assert_int_equal(m.reassembled, 0);
			assert_int_equal(fed, full + 1);
			assert_non_null(strstr(s.error, "stream byte"));
			assert_true(s.message.cap <= SLP_MESSAGE_MAX_BYTES + 1);
		}
		slp_splitter_free(&s);
	}

	/* a chunk claiming more than 512 valid bytes */
	struct slp_splitter s;
	slp_splitter_init(&s);
	assert_int_equal(slp_splitter_feed(&s, ev, table_len, NULL, NULL), 0);
	splitter_chunk(chunk, 513, true);
	assert_int_equal(slp_splitter_feed(&s, chunk, sizeof(chunk), NULL, NULL), -1);
	char want[64];
	snprintf(want, sizeof(want), "stream byte %zu", table_len);
	assert_non_null(strstr(s.error, want));
	slp_splitter_free(&s);
	bytes_free(&file);
}

static int stop_at_ten(void *ud, const struct slp_event *ev)
{
	(void)ev;
	int *n = ud;
	return ++*n == 10 ? 42 : 0;
}

static void test_splitter_callback_stops_feed(void **state)
{
	(void)state;
	struct bytes file;
	const uint8_t *ev;
	size_t ev_len;
	load("v3.13.slp", &file, &ev, &ev_len);
	struct slp_splitter s;
	slp_splitter_init(&s);
	int n = 0;
	assert_int_equal(slp_splitter_feed(&s, ev, ev_len, stop_at_ten, &n), 42);
	assert_int_equal(n, 10);
	slp_splitter_free(&s);
	/* same through 1-byte chunks */
	slp_splitter_init(&s);
	n = 0;
	int rc = 0;
	for (size_t i = 0; i < ev_len && rc == 0; i++)
		rc = slp_splitter_feed(&s, ev + i, 1, stop_at_ten, &n);
	assert_int_equal(rc, 42);
	assert_int_equal(n, 10);
	slp_splitter_free(&s);
	bytes_free(&file);
}

/* A filler whose last bytes arrive one by one ends exactly at the end of a chunk: it is counted, not held. */
static void test_splitter_filler_completed_at_chunk_end(void **state)
{
	(void)state;
	const uint8_t table[] = {SLP_CMD_EVENT_PAYLOADS, 4, SLP_CMD_GAME_END, 0x00, 0x02};
	struct slp_splitter s;
	slp_splitter_init(&s);
	assert_int_equal(slp_splitter_feed(&s, table, sizeof(table), NULL, NULL), 0);
	assert_int_equal(slp_splitter_feed(&s, (const uint8_t *)"HEL", 3, NULL, NULL), 0);
	assert_int_equal(slp_splitter_feed(&s, (const uint8_t *)"O\0", 2, NULL, NULL), 0);
	assert_int_equal(s.fillers, 1);
	assert_int_equal(slp_splitter_pending_bytes(&s), 0);
	slp_splitter_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_splitter_every_replay_counts_match_expected),
		cmocka_unit_test(test_splitter_chunking_is_invisible),
		cmocka_unit_test(test_splitter_fillers_are_skipped_and_counted),
		cmocka_unit_test(test_splitter_undeclared_command_fails_naming_offset),
		cmocka_unit_test(test_splitter_requires_event_payloads_first),
		cmocka_unit_test(test_splitter_new_event_payloads_resets),
		cmocka_unit_test(test_splitter_corrupt_partial_event_is_held),
		cmocka_unit_test(test_splitter_huge_message_is_bounded),
		cmocka_unit_test(test_splitter_callback_stops_feed),
		cmocka_unit_test(test_splitter_filler_completed_at_chunk_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
