/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "slp_frames.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool slp_frame_tracker_opens(struct slp_frame_tracker *t, const struct slp_event *ev)
{
	if (ev->reassembled)
		return false;
	if (ev->code == SLP_CMD_EVENT_PAYLOADS) {
		t->have_frame = false;
		return false;
	}
	bool marker = (ev->code == SLP_CMD_FRAME_START && ev->size >= 5) ||
		      (ev->code == SLP_CMD_PRE_FRAME && ev->size >= 7 && !ev->data[6]);
	if (!marker)
		return false;
	int32_t frame = rd_i32be(ev->data + 1);
	bool opens = !t->have_frame || frame != t->frame;
	t->have_frame = true;
	t->frame = frame;
	return opens;
}

struct builder {
	struct slp_frame_cuts *cuts;
	size_t cap;
	struct slp_frame_tracker tracker;
};

static bool add(struct builder *b, size_t at)
{
	struct slp_frame_cuts *c = b->cuts;
	if (c->count && c->offsets[c->count - 1] == at)
		return true;
	if (c->count == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 1024;
		size_t *p = realloc(c->offsets, cap * sizeof(*p));
		if (!p)
			return false;
		c->offsets = p;
		b->cap = cap;
	}
	c->offsets[c->count++] = at;
	return true;
}

static int on_event(void *ud, const struct slp_event *ev)
{
	struct builder *b = ud;
	if (slp_frame_tracker_opens(&b->tracker, ev) && !add(b, (size_t)ev->offset))
		return 1;
	return 0;
}

int slp_frame_cuts_build(const uint8_t *events, size_t size, struct slp_frame_cuts *out)
{
	memset(out, 0, sizeof(*out));
	struct builder b = {.cuts = out};
	struct slp_splitter s;
	slp_splitter_init(&s);
	int rc = add(&b, 0) ? slp_splitter_feed(&s, events, size, on_event, &b) : 1;
	out->whole_bytes = size - slp_splitter_pending_bytes(&s);
	if (rc < 0) {
		out->whole_bytes = (size_t)s.offset - slp_splitter_pending_bytes(&s);
		snprintf(out->error, sizeof(out->error), "%s", s.error);
	} else if (slp_splitter_pending_bytes(&s)) {
		snprintf(out->error, sizeof(out->error), "the last event is cut off after %zu of its bytes",
			 slp_splitter_pending_bytes(&s));
	}
	slp_splitter_free(&s);
	if (rc > 0) {
		slp_frame_cuts_free(out);
		return -1;
	}
	/* frames that start past the end of the whole events are dropped */
	while (out->count > 1 && out->offsets[out->count - 1] >= out->whole_bytes)
		out->count--;
	if (!add(&b, out->whole_bytes)) {
		slp_frame_cuts_free(out);
		return -1;
	}
	return 0;
}

void slp_frame_cuts_free(struct slp_frame_cuts *cuts)
{
	free(cuts->offsets);
	cuts->offsets = NULL;
	cuts->count = 0;
}
