/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared helpers for the core tests: the replays, expected.json, and recording what the splitter yields. */
#pragma once

#include "bytes.h"
#include "json_min.h"
#include "slp_splitter.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TU_MAX_REPLAYS 32

/* Reads a whole file. Returns false on any error. */
bool tu_read_file(const char *path, struct bytes *out);
/* Reads ANDROSS_REPLAY_DIR/name. */
bool tu_read_replay(const char *name, struct bytes *out);
/* expected.json, parsed once and cached for the process. */
const struct jm_value *tu_expected(void);
/* expected.json "files" object, and one file's entry. */
const struct jm_value *tu_expected_files(void);
const struct jm_value *tu_expected_file(const char *name);
/* Names of the replays listed in expected.json; returns how many. */
size_t tu_replay_names(const char *names[TU_MAX_REPLAYS]);

/* The event bytes of a replay, found from the header alone (raw length, or up to the end while in progress). */
bool tu_events(const struct bytes *file, const uint8_t **events, size_t *events_len);
/* Offset of the metadata footer (`U\x08metadata`) of a finished replay, or 0 when there is none. */
size_t tu_footer_offset(const struct bytes *file);

uint64_t tu_hash(const void *data, size_t len);
/* xorshift64*: deterministic, seedable. */
uint64_t tu_rand(uint64_t *state);

/* One splitter event as recorded. */
struct tu_event {
	uint8_t code;
	bool reassembled;
	uint32_t size;
	uint64_t offset;
	uint64_t hash;
};

struct tu_recording {
	struct tu_event *ev;
	size_t n;
	size_t cap;
	uint64_t counts[256];      /* wire events by command */
	uint64_t reassembled[256]; /* reassembled messages by carried command */
	uint64_t reassembled_payload_bytes[256];
	/* when set, every wire event's bytes are checked against this stream at its offset */
	const uint8_t *stream;
	size_t stream_len;
	uint64_t byte_mismatches;
};

void tu_recording_init(struct tu_recording *r);
void tu_recording_free(struct tu_recording *r);
/* An slp_event_fn that appends to a tu_recording. */
int tu_record_event(void *ud, const struct slp_event *ev);
/* Index of the first difference, or SIZE_MAX when both recordings hold the same events. */
size_t tu_recording_diff(const struct tu_recording *a, const struct tu_recording *b);

/* Feeds `data` to a fresh splitter in chunks: chunk <= 0 means whole; otherwise random sizes 1..chunk (seeded), or
 * exactly 1 byte when chunk == 1. Returns the last feed result; *pending receives the bytes held back. */
int tu_split(const uint8_t *data, size_t len, int chunk, uint64_t seed, struct tu_recording *rec, size_t *pending,
	     uint64_t *fillers, char *err, size_t err_size);

/*
 * Soft checks: print what differs and count it, so one run lists every mismatch across all replays. A test ends
 * with TU_EXPECT_NO_FAILURES(), which fails it when any soft check failed.
 */
extern unsigned tu_failures;
#define TU_EXPECT(cond, ...)                                                              \
	do {                                                                              \
		if (!(cond)) {                                                            \
			tu_failures++;                                                    \
			fprintf(stderr, "%s:%d: FAILED %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                     \
			fputc('\n', stderr);                                              \
		}                                                                         \
	} while (0)
#define TU_EXPECT_NO_FAILURES()            \
	do {                               \
		unsigned f_ = tu_failures; \
		tu_failures = 0;           \
		assert_int_equal(f_, 0);   \
	} while (0)
