/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer: repair's decision, slp_file_repair_buffer, on a whole (damaged) .slp file. Whatever it decides:
 * - a repaired file must read back cleanly (a finished container with metadata, every event accepted by the
 *   splitter and slp_game, one game, a Game Start, nothing left over), its events must be the input's own bytes,
 *   and it must hold at least as many valid events as the input has;
 * - a file left alone as complete must itself read back cleanly;
 * - a refusal must say why, and a file cut off while recording (raw length 0, or a raw length that ends before its
 *   valid events do) whose valid events hold a Game Start and one game is never refused.
 * "Valid events" are counted here independently of the code under test: from file byte 15, whatever the raw
 * length says, the longest run of wire events the splitter and slp_game accept, a Message Splitter chunk no
 * larger than 512 bytes, up to a relay filler or a second Event Payloads.
 */
#include "slp_file.h"
#include "slp_game.h"
#include "slp_reader.h"
#include "slp_splitter.h"
#include "ubjson.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct count {
	struct slp_game game;
	const struct slp_splitter *splitter;
	uint64_t events;
	uint64_t payload_tables;
	uint64_t message_bytes;
	uint64_t valid_bytes;
	bool bad; /* an event was refused: the count stops */
	bool game_start;
	bool second_game;
};

static int count_event(void *ud, const struct slp_event *ev)
{
	struct count *c = ud;
	if (ev->reassembled) {
		c->message_bytes = 0;
		return 0;
	}
	if (ev->code == SLP_CMD_EVENT_PAYLOADS && c->payload_tables)
		c->second_game = true;
	if (c->splitter->fillers || c->second_game || slp_game_handle(&c->game, ev) < 0) {
		c->bad = true;
		return 1;
	}
	if (ev->code == SLP_CMD_MESSAGE_SPLITTER && ev->size > 0x204) {
		uint16_t valid = rd_u16be(ev->data + 0x201);
		c->message_bytes += valid;
		if (valid > 512 || c->message_bytes > SLP_MESSAGE_MAX_BYTES) {
			c->bad = true;
			return 1;
		}
	}
	if (ev->code == SLP_CMD_EVENT_PAYLOADS)
		c->payload_tables++;
	if (ev->code == SLP_CMD_GAME_START)
		c->game_start = true;
	c->events++;
	c->valid_bytes = ev->offset + ev->size;
	return 0;
}

struct valid {
	uint64_t events;
	uint64_t bytes;
	bool clean; /* every byte of the stream is a valid event */
	bool game_start;
	bool second_game;
};

static void count_valid(const uint8_t *events, size_t len, struct valid *v)
{
	struct count *c = calloc(1, sizeof(*c));
	if (!c)
		abort();
	slp_game_init(&c->game, NULL, NULL);
	struct slp_splitter s;
	slp_splitter_init(&s);
	c->splitter = &s;
	int rc = slp_splitter_feed(&s, events, len, count_event, c);
	v->clean = rc == 0 && !c->bad && !s.fillers && slp_splitter_pending_bytes(&s) == 0;
	v->events = c->events;
	v->bytes = c->valid_bytes;
	v->game_start = c->game_start;
	v->second_game = c->second_game;
	slp_splitter_free(&s);
	free(c);
}

/* A finished file that reads back cleanly. Returns its events, or aborts. */
static uint64_t check_finished(const uint8_t *file, size_t size, bool need_metadata)
{
	struct slp_container c;
	char err[256];
	if (slp_container_parse(file, size, &c, err, sizeof(err)) < 0 || c.in_progress)
		abort();
	if (need_metadata && !c.has_metadata)
		abort();
	if (c.has_metadata) {
		struct bytes json;
		bytes_init(&json, 0);
		if (ubj_to_json(file + c.metadata_offset, c.metadata_size, &json, err, sizeof(err)) < 0)
			abort();
		bytes_free(&json);
	}
	struct valid v;
	count_valid(file + c.events_offset, c.events_size, &v);
	if (!v.clean || (need_metadata && !v.game_start))
		abort();
	return v.events;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct timespec start = {.tv_sec = 1700000000, .tv_nsec = 0};
	struct bytes out;
	bytes_init(&out, 0);
	struct slp_repair_result res;
	char err[384];
	err[0] = 0;
	int rc = slp_file_repair_buffer(data, size, &start, &out, &res, err, sizeof(err));
	struct valid in = {0};
	bool cut_off = false;
	if (size >= SLP_HEADER_SIZE && !memcmp(data, slp_header_signature, sizeof(slp_header_signature))) {
		count_valid(data + SLP_HEADER_SIZE, size - SLP_HEADER_SIZE, &in);
		uint32_t raw = rd_u32be(data + SLP_RAW_LENGTH_OFFSET);
		cut_off = in.game_start && !in.second_game && (raw == 0 || raw < in.bytes);
	}
	uint64_t input_events = in.events;
	if (rc < 0) {
		if (!err[0] || out.len || cut_off)
			abort();
	} else if (rc == 0) {
		if (!res.already_complete || out.len)
			abort();
		if (check_finished(data, size, false) != res.events_kept)
			abort();
	} else {
		if (res.already_complete || out.len < SLP_HEADER_SIZE)
			abort();
		uint64_t kept = check_finished(out.data, out.len, true);
		uint32_t raw = rd_u32be(out.data + SLP_RAW_LENGTH_OFFSET);
		if (kept != res.events_kept || kept < input_events || raw != res.bytes_kept)
			abort();
		/* the events are the input's own bytes, never invented */
		if ((uint64_t)raw > size - SLP_HEADER_SIZE ||
		    memcmp(out.data + SLP_HEADER_SIZE, data + SLP_HEADER_SIZE, raw) != 0)
			abort();
	}
	bytes_free(&out);
	return 0;
}
