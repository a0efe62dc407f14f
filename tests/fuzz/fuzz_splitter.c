/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer: the event-stream splitter fed in two chunks split at a point taken from the data, with the game state
 * behind it and the JSON form of every game event. The same stream fed whole must give the same events.
 */
#include "slp_game.h"
#include "slp_splitter.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct sink {
	struct slp_game game;
	struct bytes json;
	uint64_t events;
	uint64_t hash;
};

static void on_game_event(void *ud, const struct slp_game_event *ev)
{
	struct sink *s = ud;
	bytes_clear(&s->json);
	if (!slp_game_event_to_json(ev, &s->json))
		abort(); /* unbounded buffer: only a real out-of-memory could fail */
	if (s->json.len < 2 || s->json.data[0] != '{' || s->json.data[s->json.len - 1] != '}')
		abort();
}

static int on_event(void *ud, const struct slp_event *ev)
{
	struct sink *s = ud;
	if (!ev->size || ev->data[0] != ev->code)
		abort();
	s->events++;
	s->hash = (s->hash ^ ev->code ^ (ev->size << 8) ^ (ev->offset << 24) ^ ev->reassembled) * 0x100000001b3ull;
	slp_game_handle(&s->game, ev);
	return 0;
}

static int run(const uint8_t *data, size_t size, size_t split, struct sink *s, size_t *pending)
{
	struct slp_splitter sp;
	slp_splitter_init(&sp);
	memset(s, 0, sizeof(*s));
	bytes_init(&s->json, 0);
	slp_game_init(&s->game, on_game_event, s);
	int rc = slp_splitter_feed(&sp, data, split, on_event, s);
	if (rc == 0)
		rc = slp_splitter_feed(&sp, data + split, size - split, on_event, s);
	if (rc < 0 && !strstr(sp.error, "stream byte"))
		abort();
	*pending = slp_splitter_pending_bytes(&sp);
	slp_splitter_free(&sp);
	slp_game_finish(&s->game);
	bytes_free(&s->json);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	/* the first two bytes choose the split point; the rest is the stream */
	size_t split_seed = ((size_t)data[0] << 8) | data[1];
	data += 2;
	size -= 2;
	size_t split = size ? split_seed % (size + 1) : 0;
	struct sink *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	size_t pa, pb;
	int ra = run(data, size, split, a, &pa);
	int rb = run(data, size, size, b, &pb);
	/* chunking is invisible (what is held back after an error does not matter) */
	if (ra != rb || a->events != b->events || a->hash != b->hash || (ra == 0 && pa != pb))
		abort();
	free(a);
	free(b);
	return 0;
}
