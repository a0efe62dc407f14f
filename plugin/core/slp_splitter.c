/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "slp_splitter.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Message Splitter payload layout, offsets from the command byte. */
#define SPLIT_DATA 0x1
#define SPLIT_DATA_MAX 512
#define SPLIT_VALID_LEN 0x201
#define SPLIT_COMMAND 0x203
#define SPLIT_LAST 0x204

void slp_splitter_init(struct slp_splitter *s)
{
	memset(s, 0, sizeof(*s));
	bytes_init(&s->pending, 65536 + 1);
	bytes_init(&s->message, SLP_MESSAGE_MAX_BYTES + 1);
}

void slp_splitter_free(struct slp_splitter *s)
{
	bytes_free(&s->pending);
	bytes_free(&s->message);
}

void slp_splitter_reset(struct slp_splitter *s)
{
	s->have_table = false;
	memset(s->declared, 0, sizeof(s->declared));
	memset(s->payload_size, 0, sizeof(s->payload_size));
	bytes_clear(&s->pending);
	bytes_clear(&s->message);
	s->failed = false;
	s->error[0] = 0;
}

size_t slp_splitter_restart_at_boundary(struct slp_splitter *s)
{
	size_t dropped = s->pending.len;
	bytes_clear(&s->pending);
	s->failed = false;
	s->error[0] = 0;
	return dropped;
}

static int fail(struct slp_splitter *s, uint64_t offset, const char *fmt, int arg)
{
	char what[128];
	snprintf(what, sizeof(what), fmt, arg);
	snprintf(s->error, sizeof(s->error), "%s at stream byte %" PRIu64, what, offset);
	s->failed = true;
	return -1;
}

int slp_parse_event_payloads(const uint8_t *ev, size_t size, bool declared[256], uint16_t payload_size[256], char *err,
			     size_t err_size)
{
	if (size < 2 || ev[0] != SLP_CMD_EVENT_PAYLOADS) {
		snprintf(err, err_size, "not an Event Payloads event");
		return -1;
	}
	uint8_t n = ev[1];
	if (n % 3 != 1 || size != (size_t)n + 1) {
		snprintf(err, err_size, "Event Payloads declares an invalid size %u", n);
		return -1;
	}
	memset(declared, 0, 256 * sizeof(bool));
	memset(payload_size, 0, 256 * sizeof(uint16_t));
	for (size_t i = 2; i + 3 <= size; i += 3) {
		uint8_t code = ev[i];
		if (code == SLP_CMD_EVENT_PAYLOADS) {
			snprintf(err, err_size, "Event Payloads redeclares itself");
			return -1;
		}
		declared[code] = true;
		payload_size[code] = rd_u16be(ev + i + 1);
	}
	return 0;
}

enum boundary { NEED_MORE, IS_EVENT, IS_FILLER, IS_ERROR };

/* What starts at p (avail bytes): an event of *total bytes, a filler, or not enough bytes yet to tell. */
static enum boundary classify(struct slp_splitter *s, const uint8_t *p, size_t avail, uint64_t offset, size_t *total)
{
	uint8_t code = p[0];
	if (code == 'H' && !(s->have_table && s->declared['H'])) {
		size_t n = avail < SLP_FILLER_LEN ? avail : SLP_FILLER_LEN;
		if (memcmp(p, SLP_FILLER, n) == 0) {
			if (n < SLP_FILLER_LEN)
				return NEED_MORE;
			*total = SLP_FILLER_LEN;
			return IS_FILLER;
		}
	}
	if (code == SLP_CMD_EVENT_PAYLOADS) {
		if (avail < 2)
			return NEED_MORE;
		if (p[1] % 3 != 1) {
			fail(s, offset, "Event Payloads declares an invalid size %d", p[1]);
			return IS_ERROR;
		}
		*total = (size_t)p[1] + 1;
		return IS_EVENT;
	}
	if (!s->have_table) {
		fail(s, offset, "stream does not start with Event Payloads (found command 0x%02x)", code);
		return IS_ERROR;
	}
	if (!s->declared[code]) {
		fail(s, offset, "undeclared command 0x%02x", code);
		return IS_ERROR;
	}
	*total = (size_t)s->payload_size[code] + 1;
	return IS_EVENT;
}

static int handle_splitter_chunk(struct slp_splitter *s, const struct slp_event *ev, slp_event_fn fn, void *ud)
{
	if (ev->size <= SPLIT_LAST)
		return 0; /* too small to carry a message: passed on as an opaque event */
	uint16_t valid = rd_u16be(ev->data + SPLIT_VALID_LEN);
	if (valid > SPLIT_DATA_MAX)
		return fail(s, ev->offset, "Message Splitter chunk claims %d valid bytes (at most 512)", valid);
	if (s->message.len == 0)
		s->message_offset = ev->offset;
	if (s->message.len == 0 && !bytes_append_byte(&s->message, ev->data[SPLIT_COMMAND]))
		return fail(s, ev->offset, "out of memory for a split message%.0d", 0);
	if (!bytes_append(&s->message, ev->data + SPLIT_DATA, valid))
		return fail(s, ev->offset, "split message exceeds %d bytes", (int)SLP_MESSAGE_MAX_BYTES);
	if (!ev->data[SPLIT_LAST])
		return 0;
	struct slp_event whole = {
		.code = s->message.data[0],
		.data = s->message.data,
		.size = s->message.len,
		.offset = s->message_offset,
		.reassembled = true,
	};
	int rc = fn ? fn(ud, &whole) : 0;
	bytes_clear(&s->message);
	return rc;
}

static int emit(struct slp_splitter *s, const uint8_t *p, size_t total, uint64_t offset, slp_event_fn fn, void *ud)
{
	if (p[0] == SLP_CMD_EVENT_PAYLOADS) {
		char err[128];
		bool declared[256];
		uint16_t sizes[256];
		if (slp_parse_event_payloads(p, total, declared, sizes, err, sizeof(err)) < 0) {
			snprintf(s->error, sizeof(s->error), "%s at stream byte %" PRIu64, err, offset);
			s->failed = true;
			return -1;
		}
		memcpy(s->declared, declared, sizeof(declared));
		memcpy(s->payload_size, sizes, sizeof(sizes));
		s->have_table = true;
		bytes_clear(&s->message);
	}
	s->events++;
	struct slp_event ev = {.code = p[0], .data = p, .size = total, .offset = offset, .reassembled = false};
	int rc = fn ? fn(ud, &ev) : 0;
	if (rc)
		return rc;
	if (p[0] == SLP_CMD_MESSAGE_SPLITTER)
		return handle_splitter_chunk(s, &ev, fn, ud);
	return 0;
}

int slp_splitter_feed(struct slp_splitter *s, const uint8_t *data, size_t len, slp_event_fn fn, void *ud)
{
	if (s->failed)
		return -1;
	size_t i = 0;
	/* finish a partial event (or filler) first; it may complete exactly at the end of this chunk */
	while (s->pending.len > 0) {
		size_t total = 0;
		uint64_t start = s->offset - s->pending.len;
		enum boundary b = classify(s, s->pending.data, s->pending.len, start, &total);
		if (b == IS_ERROR)
			return -1;
		if (b == NEED_MORE) {
			if (i == len)
				return 0;
			if (!bytes_append_byte(&s->pending, data[i++]))
				return fail(s, start, "out of memory for a partial event%.0d", 0);
			s->offset++;
			continue;
		}
		if (s->pending.len < total) {
			size_t take = total - s->pending.len;
			if (take > len - i)
				take = len - i;
			if (!bytes_append(&s->pending, data + i, take))
				return fail(s, start, "out of memory for a partial event%.0d", 0);
			i += take;
			s->offset += take;
		}
		if (s->pending.len < total)
			return 0;
		if (b == IS_FILLER) {
			s->fillers++;
			bytes_clear(&s->pending);
			continue;
		}
		int rc = emit(s, s->pending.data, total, start, fn, ud);
		bytes_clear(&s->pending);
		if (rc)
			return rc;
	}
	/* whole events straight from the caller's buffer */
	while (i < len) {
		size_t total = 0;
		enum boundary b = classify(s, data + i, len - i, s->offset, &total);
		if (b == IS_ERROR)
			return -1;
		if (b == NEED_MORE || total > len - i) {
			if (!bytes_append(&s->pending, data + i, len - i))
				return fail(s, s->offset, "out of memory for a partial event%.0d", 0);
			s->offset += len - i;
			return 0;
		}
		uint64_t at = s->offset;
		s->offset += total;
		i += total;
		if (b == IS_FILLER) {
			s->fillers++;
			continue;
		}
		int rc = emit(s, data + i - total, total, at, fn, ud);
		if (rc)
			return rc;
	}
	return 0;
}
