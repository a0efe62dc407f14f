/* SPDX-License-Identifier: GPL-2.0-or-later */
/* andross inspect: what a replay holds, as text or as one JSON object per file. */
#include "cli.h"

#include "json_writer.h"
#include "slp_file.h"
#include "slp_game.h"
#include "slp_reader.h"
#include "slp_splitter.h"
#include "ubjson.h"

#include <inttypes.h>
#include <string.h>

#define INSPECT_MAX_FILE_BYTES ((size_t)1 << 30)

static const char help[] =
	"usage: andross inspect FILE.slp... [--json]\n"
	"\n"
	"Reads each replay (finished, in progress or cut off) and prints its version, stage, players,\n"
	"frame range, game end, final stocks and percent, and winners.\n"
	"  --json   one JSON object per file per line (fields in docs/cli.md)\n";

struct inspection {
	const char *path;
	bool readable; /* a .slp container could be read */
	char error[512];
	struct bytes file;
	struct slp_container container;
	struct slp_game game;
	uint64_t events;
	uint64_t truncated_bytes;
	uint64_t event_bytes_offset; /* file offset of the events */
	/* the game's game_start and game_end events in their JSON form, as `record --events` prints them */
	struct bytes start_json;
	struct bytes end_json;
};

/*
 * --json nests the game's own events rather than describing the game a second way: what the game emitted, when it
 * emitted it (a game_end is not changed by anything after the Game End).
 */
static void on_game_event(void *ud, const struct slp_game_event *ev)
{
	struct inspection *in = ud;
	struct bytes *keep;
	if (ev->type == SLP_GAME_EVENT_GAME_START) {
		keep = &in->start_json;
		bytes_clear(&in->end_json); /* a later game in the file: the earlier one's end is not this game's */
	} else if (ev->type == SLP_GAME_EVENT_GAME_END) {
		keep = &in->end_json;
	} else {
		return;
	}
	bytes_clear(keep);
	if (!slp_game_event_to_json(ev, keep)) {
		bytes_clear(keep);
		if (!in->error[0])
			snprintf(in->error, sizeof(in->error), "out of memory for the %s event",
				 slp_game_event_name(ev->type));
	}
}

static int on_event(void *ud, const struct slp_event *ev)
{
	struct inspection *in = ud;
	if (!ev->reassembled)
		in->events++;
	if (slp_game_handle(&in->game, ev) < 0 && !in->error[0])
		snprintf(in->error, sizeof(in->error), "%s", in->game.error);
	return 0;
}

/*
 * A raw length that disagrees with the events is wrong, not the events: read the game to where its valid events
 * really end (and its metadata from there), and say so, rather than read a part of it.
 */
static void follow_the_events(struct inspection *in)
{
	struct slp_file_scan scan;
	char err[256];
	struct slp_container *c = &in->container;
	if (slp_file_scan(in->file.data, in->file.len, NULL, &scan, err, sizeof(err)) < 0 || scan.stored_complete ||
	    scan.valid_bytes == scan.raw_length)
		return;
	size_t end = SLP_HEADER_SIZE + (size_t)scan.valid_bytes;
	if (!scan.raw_length) {
		/* in progress, unless the writer stopped between writing the metadata and patching the length */
		if (!scan.footer_after_events)
			return;
		c->events_size = (size_t)scan.valid_bytes;
		c->has_metadata = true;
		c->metadata_offset = scan.metadata_offset;
		c->metadata_size = scan.metadata_size;
		snprintf(in->error, sizeof(in->error),
			 "raw length 0 at offset 11, yet the events end at file byte %zu, where the metadata begins: "
			 "the writer stopped before patching the length (andross repair patches it)",
			 end);
		return;
	}
	if (scan.footer_after_events) {
		c->events_size = (size_t)scan.valid_bytes;
		c->has_metadata = true;
		c->metadata_offset = scan.metadata_offset;
		c->metadata_size = scan.metadata_size;
		snprintf(in->error, sizeof(in->error),
			 "raw length %u at offset 11 is wrong: the events end at file byte %zu, where the metadata "
			 "begins (andross repair patches the length)",
			 scan.raw_length, end);
	} else if (scan.valid_bytes > scan.raw_length) {
		c->events_size = in->file.len - SLP_HEADER_SIZE;
		c->has_metadata = false;
		snprintf(in->error, sizeof(in->error),
			 "raw length %u at offset 11 is wrong: valid events run on past it to file byte %zu, with no "
			 "metadata after them",
			 scan.raw_length, end);
	}
}

static void inspect_file(struct inspection *in)
{
	char err[512];
	slp_game_init(&in->game, on_game_event, in);
	if (slp_read_whole_file(in->path, INSPECT_MAX_FILE_BYTES, &in->file, err, sizeof(err)) < 0) {
		snprintf(in->error, sizeof(in->error), "%s", err);
		return;
	}
	int rc = slp_container_parse(in->file.data, in->file.len, &in->container, err, sizeof(err));
	if (rc < 0 && in->container.events_offset == 0) {
		snprintf(in->error, sizeof(in->error), "%s", err);
		return;
	}
	in->readable = true;
	if (err[0])
		snprintf(in->error, sizeof(in->error), "%s", err);
	follow_the_events(in);
	in->event_bytes_offset = in->container.events_offset;
	struct slp_splitter s;
	slp_splitter_init(&s);
	if (slp_splitter_feed(&s, in->file.data + in->container.events_offset, in->container.events_size, on_event,
			      in) < 0) {
		/* stream offsets are relative to the events; name the file offset, and keep an earlier problem */
		size_t used = strlen(in->error);
		snprintf(in->error + used, sizeof(in->error) - used, "%s%s (events start at file byte %zu)",
			 used ? "; then " : "", s.error, in->container.events_offset);
	}
	in->truncated_bytes = slp_splitter_pending_bytes(&s);
	if (in->truncated_bytes && !in->error[0])
		snprintf(in->error, sizeof(in->error),
			 "the events end inside an event: its %" PRIu64 " bytes at file byte %zu are incomplete",
			 in->truncated_bytes,
			 in->container.events_offset + in->container.events_size - (size_t)in->truncated_bytes);
	slp_splitter_free(&s);
	slp_game_finish(&in->game);
}

/* A captured event, or null when the game has none (no Game Start, or an earlier game's). */
static void json_event(struct json_writer *jw, const char *key, const struct slp_game *g, const struct bytes *json)
{
	jw_key_n(jw, key, strlen(key));
	if (g->started && json->len)
		jw_raw_n(jw, (const char *)json->data, json->len);
	else
		jw_raw(jw, "null");
}

static void json_inspection(struct json_writer *jw, const struct inspection *in)
{
	const struct slp_game *g = &in->game;
	jw_object_begin(jw, NULL);
	jw_string(jw, "file", in->path);
	if (in->error[0])
		jw_string(jw, "error", in->error);
	else
		jw_null(jw, "error");
	if (!in->readable) {
		jw_object_end(jw);
		return;
	}
	jw_object_begin(jw, "container");
	jw_int(jw, "rawLength", in->container.raw_length);
	jw_bool(jw, "inProgress", in->container.in_progress);
	jw_bool(jw, "hasMetadata", in->container.has_metadata);
	jw_object_end(jw);
	json_event(jw, "gameStart", g, &in->start_json);
	jw_object_begin(jw, "frames");
	if (g->has_frames) {
		jw_int(jw, "first", g->first_frame);
		jw_int(jw, "lastInStream", g->last_frame);
	} else {
		jw_null(jw, "first");
		jw_null(jw, "lastInStream");
	}
	jw_int(jw, "openings", g->frame_openings);
	jw_object_end(jw);
	slp_game_json_players(jw, "finalPlayers", g, SLP_GAME_JSON_LAST_FRAME | SLP_GAME_JSON_CHARACTER);
	json_event(jw, "gameEnd", g, &in->end_json);
	jw_int(jw, "gameEndEventCount", g->game_end_events);
	jw_object_begin(jw, "stream");
	jw_int(jw, "events", (int64_t)in->events);
	jw_int(jw, "truncatedBytes", (int64_t)in->truncated_bytes);
	jw_int(jw, "itemUpdates", (int64_t)g->item_updates);
	jw_object_end(jw);
	if (in->container.has_metadata) {
		struct bytes meta;
		bytes_init(&meta, 16u << 20);
		char err[256];
		jw_key_n(jw, "metadata", 8);
		if (ubj_to_json(in->file.data + in->container.metadata_offset, in->container.metadata_size, &meta, err,
				sizeof(err)) == 0)
			jw_raw_n(jw, (const char *)meta.data, meta.len);
		else
			jw_raw(jw, "null");
		bytes_free(&meta);
	} else {
		jw_null(jw, "metadata");
	}
	jw_object_end(jw);
}

static void text_inspection(const struct inspection *in)
{
	const struct slp_game *g = &in->game;
	printf("%s\n", in->path);
	if (in->error[0])
		printf("  problem: %s\n", in->error);
	if (!in->readable)
		return;
	printf("  container: %s, %zu event bytes, %s\n",
	       in->container.in_progress ? "in progress (raw length 0)" : "finished", in->container.events_size,
	       in->container.has_metadata ? "with metadata" : "no metadata");
	if (!g->started) {
		printf("  no Game Start\n");
		return;
	}
	char version[32];
	slp_game_version_string(g, version, sizeof(version));
	printf("  version %s, stage %u%s\n", version, g->stage_id, g->is_teams ? ", teams" : "");
	for (int i = 0; i < SLP_MAX_PLAYERS; i++) {
		const struct slp_player_info *p = &g->players[i];
		if (!p->present)
			continue;
		const struct slp_player_state *s = &g->state[i];
		printf("  port %d: character %u", i + 1, p->character_id);
		if (p->display_name[0] || p->connect_code[0])
			printf(" \"%s\" %s", p->display_name, p->connect_code);
		if (p->nametag[0])
			printf(" tag \"%s\"", p->nametag);
		if (s->has_frame)
			printf(", %u stocks, %d%% at frame %d", s->stocks_remaining, (int)s->percent, s->frame);
		printf("\n");
	}
	if (g->has_frames)
		printf("  frames %d..%d\n", g->first_frame, g->last_frame);
	if (g->end.present) {
		int winners[SLP_MAX_PLAYERS];
		int n = slp_game_winners(g, winners);
		printf("  game end: method %u", g->end.method);
		if (g->end.has_lras && g->end.lras_initiator >= 0)
			printf(", quit by port %d", g->end.lras_initiator + 1);
		printf("; winner%s:", n == 1 ? "" : "s");
		for (int i = 0; i < n; i++)
			printf(" port %d", winners[i] + 1);
		printf(n ? "\n" : " none\n");
	} else {
		printf("  no Game End\n");
	}
}

int cmd_inspect(int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(help, stdout);
		return 0;
	}
	bool json = false;
	int files = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (argv[i][0] == '-' && argv[i][1]) {
			cli_error("inspect: unknown option %s", argv[i]);
			fputs(help, stderr);
			return 2;
		} else
			files++;
	}
	if (!files) {
		fputs(help, stderr);
		return 2;
	}
	int status = 0;
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-' && argv[i][1])
			continue;
		struct inspection in;
		memset(&in, 0, sizeof(in));
		in.path = argv[i];
		bytes_init(&in.start_json, 0);
		bytes_init(&in.end_json, 0);
		inspect_file(&in);
		if (!in.readable)
			status = 1;
		if (json) {
			struct bytes out;
			struct json_writer jw;
			bytes_init(&out, 0);
			jw_init(&jw, &out);
			json_inspection(&jw, &in);
			bytes_append_byte(&out, '\n');
			fwrite(out.data, 1, out.len, stdout);
			bytes_free(&out);
		} else {
			text_inspection(&in);
		}
		bytes_free(&in.file);
		bytes_free(&in.start_json);
		bytes_free(&in.end_json);
	}
	return status;
}
