/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer: a whole .slp file: slp_container_parse, the events through splitter and game state, the metadata
 * builder fed the same events and its footer encoded, then read back with the UBJSON reader.
 */
#include "slp_game.h"
#include "slp_meta.h"
#include "slp_reader.h"
#include "slp_splitter.h"
#include "ubjson.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct sink {
	struct slp_game game;
	struct slp_meta meta;
	struct bytes json;
};

static void on_game_event(void *ud, const struct slp_game_event *ev)
{
	struct sink *s = ud;
	bytes_clear(&s->json);
	if (!slp_game_event_to_json(ev, &s->json))
		abort();
}

static int on_event(void *ud, const struct slp_event *ev)
{
	struct sink *s = ud;
	slp_game_handle(&s->game, ev);
	slp_meta_handle(&s->meta, ev);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct slp_container c;
	char err[256];
	int rc = slp_container_parse(data, size, &c, err, sizeof(err));
	if (rc < 0 && !strstr(err, "byte") && !strstr(err, "offset"))
		abort();
	if (c.events_offset > size || c.events_size > size - c.events_offset)
		abort();
	if (rc == 0 && c.has_metadata) {
		if (c.metadata_offset > size || c.metadata_size > size - c.metadata_offset)
			abort();
		struct bytes json;
		bytes_init(&json, 0);
		char jerr[160];
		ubj_to_json(data + c.metadata_offset, c.metadata_size, &json, jerr, sizeof(jerr));
		bytes_free(&json);
	}
	if (c.events_size == 0)
		return 0;

	struct sink *s = malloc(sizeof(*s));
	struct timespec start = {.tv_sec = 1700000000, .tv_nsec = 123000000};
	slp_meta_init(&s->meta, &start, "fuzz", "network");
	slp_game_init(&s->game, on_game_event, s);
	bytes_init(&s->json, 0);
	struct slp_splitter sp;
	slp_splitter_init(&sp);
	slp_splitter_feed(&sp, data + c.events_offset, c.events_size, on_event, s);
	slp_splitter_free(&sp);
	slp_game_finish(&s->game);

	/* the footer the writer would append must be valid UBJSON: `U\x08metadata` {...} `}` */
	struct bytes footer;
	bytes_init(&footer, 0);
	if (!slp_meta_encode_footer(&s->meta, &footer))
		abort();
	if (footer.len < 12 || memcmp(footer.data, "U\x08metadata", 10) != 0 || footer.data[footer.len - 1] != '}')
		abort();
	struct bytes json;
	bytes_init(&json, 0);
	char jerr[160];
	if (ubj_to_json(footer.data + 10, footer.len - 11, &json, jerr, sizeof(jerr)) < 0)
		abort();
	bytes_free(&json);
	bytes_free(&footer);
	bytes_free(&s->json);
	free(s);
	return 0;
}
