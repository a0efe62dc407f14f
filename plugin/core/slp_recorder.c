/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "slp_recorder.h"
#include "slp_reader.h"
#include "utf8.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct slp_recorder {
	struct slp_recorder_options opts;
	struct slp_recorder_callbacks cb;
	char out_dir[4096];
	bool make_out_dir;   /* set_out_dir's folder is made when its first file is */
	char file_name[256]; /* "": Game_<time>.slp */
	char console_nick[64];
	struct slp_splitter splitter;
	struct slp_game game;
	struct slp_file_writer file;
	bool file_reported_finished;
	bool stream_failed;
	/*
	 * A new game's first events, held byte for byte: its Event Payloads, its Game Start and the Message Splitter
	 * chunks that carry its Gecko list. The file is created (and these written first) once an event after them
	 * arrives whole, or when the source ends after a whole Game Start. A stream that fails, or moves on to
	 * another game, before then leaves no file: a peer that sends a table and a Game Start, then junk, and
	 * reconnects, makes no file per session. head_sizes holds each held event's size (uint32_t).
	 */
	struct bytes head;
	struct bytes head_sizes;
	bool head_has_start;
	uint64_t head_offset;
	size_t first_events_bytes; /* the current file's Event Payloads and Game Start */
	uint64_t games_written;
	uint64_t games_failed;
	uint64_t games_ended;
	bool done; /* max_games reached: the rest of the stream is ignored */
};

/* Room for the largest Gecko list the splitter reassembles, twice; past that the file is opened anyway. */
#define HEAD_LIMIT_BYTES (2u * SLP_MESSAGE_MAX_BYTES)

static void warn(struct slp_recorder *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct slp_recorder *r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (r->cb.warning)
		r->cb.warning(r->cb.ud, msg);
}

static void on_game_event(void *ud, const struct slp_game_event *ev)
{
	struct slp_recorder *r = ud;
	if (ev->type == SLP_GAME_EVENT_GAME_END)
		r->games_ended++;
	if (r->cb.game_event)
		r->cb.game_event(r->cb.ud, ev);
}

/*
 * The current game's file hit a disk error (at its creation, a write, or its finish): says why, once for the game,
 * and gives the file up. A file that does not hold the game's first events whole (its header, Event Payloads and
 * Game Start) is removed, never left empty or as a header; a longer one keeps what it holds, which `andross
 * repair` can finish. The rest of the game goes unrecorded (its later bytes would follow a hole).
 */
static void fail_file(struct slp_recorder *r, bool at_finish)
{
	struct slp_file_writer *f = &r->file;
	bool created = f->fd >= 0;
	struct stat st;
	bool kept = created && fstat(f->fd, &st) == 0 &&
		    (uint64_t)st.st_size >= SLP_HEADER_SIZE + (uint64_t)r->first_events_bytes;
	slp_file_close(f);
	const char *what;
	if (kept && at_finish) {
		what = "the file keeps the game's events, unfinished (`andross repair` finishes it)";
	} else if (kept) {
		what = "the game is not recorded past this point; the file keeps what it holds (`andross repair` "
		       "finishes it)";
	} else if (created && unlink(f->path) == 0) {
		what = "the file was removed: it did not hold the game's first events";
	} else if (created) {
		what = "the file could not be removed either; it does not hold the game's first events";
	} else {
		what = "this game is not recorded";
	}
	r->games_failed++;
	warn(r, "%s; %s", f->error, what);
	if (r->cb.file_failed)
		r->cb.file_failed(r->cb.ud, f->path, kept);
}

static void finish_file(struct slp_recorder *r)
{
	if (!slp_file_is_open(&r->file) || r->file.finished)
		return;
	if (slp_file_finish(&r->file) < 0) {
		/* every event reached the file (the buffer is empty) and the metadata did not fit: cut off what of it
		 * was written, so the file is exactly an unfinished game, which repair finishes */
		int cut = !r->file.buffer.len ? ftruncate(r->file.fd, (off_t)(SLP_HEADER_SIZE + r->file.raw_bytes)) : 0;
		(void)cut; /* not cut: the partial metadata follows the events, and repair stops at it */
		fail_file(r, !r->file.buffer.len);
		return;
	}
	if (!r->file_reported_finished) {
		r->file_reported_finished = true;
		r->games_written++;
		if (r->cb.file)
			r->cb.file(r->cb.ud, r->file.path, true);
	}
}

static void close_file(struct slp_recorder *r)
{
	if (!slp_file_is_open(&r->file))
		return;
	finish_file(r);
	slp_file_close(&r->file);
}

static void drop_head(struct slp_recorder *r)
{
	bytes_free(&r->head); /* a Gecko list can make it large: give it back */
	bytes_clear(&r->head_sizes);
	r->head_has_start = false;
}

/* Holds one of the game's first events. Returns false when there is no room. */
static bool hold(struct slp_recorder *r, const struct slp_event *ev)
{
	uint32_t size = (uint32_t)ev->size;
	if (!r->head.len)
		r->head_offset = ev->offset;
	if (!bytes_reserve(&r->head_sizes, sizeof(size)) || !bytes_append(&r->head, ev->data, ev->size))
		return false;
	bytes_append(&r->head_sizes, &size, sizeof(size));
	return true;
}

/* Creates the game's file and writes the held events into it, in order. */
static void open_file(struct slp_recorder *r)
{
	/* the Event Payloads and the Game Start: a file that holds them tells what the game was, and repair keeps it */
	r->first_events_bytes = 0;
	for (size_t i = 0; i < 2 && (i + 1) * sizeof(uint32_t) <= r->head_sizes.len; i++) {
		uint32_t size;
		memcpy(&size, r->head_sizes.data + i * sizeof(uint32_t), sizeof(size));
		r->first_events_bytes += size;
	}
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	r->file_reported_finished = false;
	if (r->make_out_dir && slp_file_make_dirs(r->out_dir) == 0)
		r->make_out_dir = false; /* a failure shows as the file's own below */
	if (slp_file_open(&r->file, r->out_dir, r->file_name, &now, r->console_nick) < 0) {
		fail_file(r, false);
		drop_head(r);
		return;
	}
	if (r->cb.file)
		r->cb.file(r->cb.ud, r->file.path, false);
	size_t pos = 0;
	for (size_t i = 0; i + sizeof(uint32_t) <= r->head_sizes.len; i += sizeof(uint32_t)) {
		uint32_t size;
		memcpy(&size, r->head_sizes.data + i, sizeof(size));
		struct slp_event ev = {.code = r->head.data[pos],
				       .data = r->head.data + pos,
				       .size = size,
				       .offset = r->head_offset + pos};
		if (slp_file_write_event(&r->file, &ev) < 0) {
			fail_file(r, false);
			break;
		}
		pos += size;
	}
	drop_head(r);
}

/* An Event Payloads at an event boundary: the previous game ends here, whether or not it had a Game End. Returns
 * false once max_games is reached (the rest of the stream is ignored). */
static bool begin_game(struct slp_recorder *r, const struct slp_event *ev)
{
	slp_game_finish(&r->game);
	close_file(r);
	drop_head(r);
	if (r->opts.max_games && r->games_ended >= r->opts.max_games) {
		r->done = true;
		return false;
	}
	if (r->out_dir[0] && !hold(r, ev)) {
		warn(r, "out of memory for the Event Payloads at stream byte %llu; this game is not recorded",
		     (unsigned long long)ev->offset);
		drop_head(r);
	}
	return true;
}

/* A wire event while the game's first events are held: holds it, or creates the file and writes it there. */
static void held_or_written(struct slp_recorder *r, const struct slp_event *ev)
{
	if (!r->head_has_start) {
		/* Event Payloads, then Game Start: nothing comes between */
		if (ev->code == SLP_CMD_GAME_START && hold(r, ev)) {
			r->head_has_start = true;
			return;
		}
		if (ev->code == SLP_CMD_GAME_START)
			warn(r, "out of memory for the Game Start at stream byte %llu; this game is not recorded",
			     (unsigned long long)ev->offset);
		else
			warn(r,
			     "command 0x%02x at stream byte %llu follows the Event Payloads at %llu instead of a Game "
			     "Start; this game is not recorded",
			     ev->code, (unsigned long long)ev->offset, (unsigned long long)r->head_offset);
		drop_head(r);
		return;
	}
	if (ev->code == SLP_CMD_MESSAGE_SPLITTER && r->head.len + ev->size <= HEAD_LIMIT_BYTES && hold(r, ev))
		return;
	open_file(r);
	if (slp_file_is_open(&r->file) && slp_file_write_event(&r->file, ev) < 0)
		fail_file(r, false);
}

static int on_event(void *ud, const struct slp_event *ev)
{
	struct slp_recorder *r = ud;
	if (r->done)
		return 0;
	if (!ev->reassembled) {
		if (ev->code == SLP_CMD_EVENT_PAYLOADS) {
			if (!begin_game(r, ev))
				return 0;
		} else if (r->head.len) {
			held_or_written(r, ev);
		} else if (slp_file_is_open(&r->file) && slp_file_write_event(&r->file, ev) < 0) {
			fail_file(r, false);
		}
	}
	if (slp_game_handle(&r->game, ev) < 0)
		warn(r, "%s", r->game.error);
	if (!ev->reassembled && ev->code == SLP_CMD_GAME_END && r->game.end.present)
		finish_file(r);
	return 0;
}

struct slp_recorder *slp_recorder_create(const struct slp_recorder_options *opts,
					 const struct slp_recorder_callbacks *cb)
{
	struct slp_recorder *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	if (opts) {
		r->opts = *opts;
		snprintf(r->out_dir, sizeof(r->out_dir), "%s", opts->out_dir ? opts->out_dir : "");
		utf8_truncate(r->console_nick, sizeof(r->console_nick), opts->console_nick);
	}
	if (cb)
		r->cb = *cb;
	r->file.fd = -1;
	bytes_init(&r->head, HEAD_LIMIT_BYTES);
	bytes_init(&r->head_sizes, 0);
	slp_splitter_init(&r->splitter);
	slp_game_init(&r->game, on_game_event, r);
	return r;
}

void slp_recorder_destroy(struct slp_recorder *r)
{
	if (!r)
		return;
	if (r->head_has_start)
		open_file(r); /* as slp_recorder_end does */
	close_file(r);
	bytes_free(&r->head);
	bytes_free(&r->head_sizes);
	slp_splitter_free(&r->splitter);
	free(r);
}

int slp_recorder_feed(struct slp_recorder *r, const uint8_t *data, size_t len)
{
	if (r->stream_failed)
		return -1;
	int rc = slp_splitter_feed(&r->splitter, data, len, on_event, r);
	if (slp_file_is_open(&r->file) && slp_file_flush(&r->file) < 0)
		fail_file(r, false);
	if (rc < 0) {
		r->stream_failed = true;
		warn(r, "%s", r->splitter.error);
		slp_game_finish(&r->game);
		close_file(r);
		drop_head(r); /* a game whose first events never got followed leaves no file */
		return -1;
	}
	return 0;
}

void slp_recorder_restart_at_boundary(struct slp_recorder *r)
{
	size_t dropped = slp_splitter_restart_at_boundary(&r->splitter);
	if (dropped)
		warn(r, "the stream restarted; %zu bytes of a partial event were dropped", dropped);
	r->stream_failed = false;
}

void slp_recorder_end(struct slp_recorder *r)
{
	size_t pending = slp_splitter_pending_bytes(&r->splitter);
	if (pending)
		warn(r, "the source ended inside an event; its last %zu bytes were dropped", pending);
	/* a game that got no further than its first events, Game Start included, is kept when the source ends: it
	 * is all there is of it (a file cut off early); a source that goes on to something else drops it */
	if (r->head_has_start)
		open_file(r);
	slp_game_finish(&r->game);
	close_file(r);
	drop_head(r);
	slp_splitter_reset(&r->splitter);
	r->stream_failed = false;
}

void slp_recorder_set_out_dir(struct slp_recorder *r, const char *out_dir)
{
	snprintf(r->out_dir, sizeof(r->out_dir), "%s", out_dir ? out_dir : "");
	r->make_out_dir = r->out_dir[0] != 0;
}

void slp_recorder_set_file_name(struct slp_recorder *r, const char *name)
{
	utf8_truncate(r->file_name, sizeof(r->file_name), name);
}

void slp_recorder_set_console_nick(struct slp_recorder *r, const char *nick)
{
	utf8_truncate(r->console_nick, sizeof(r->console_nick), nick);
	if (slp_file_is_open(&r->file) && !r->file.finished && nick && *nick)
		utf8_truncate(r->file.meta.console_nick, sizeof(r->file.meta.console_nick), nick);
}

const struct slp_game *slp_recorder_game(const struct slp_recorder *r)
{
	return &r->game;
}

uint64_t slp_recorder_games_written(const struct slp_recorder *r)
{
	return r->games_written;
}

uint64_t slp_recorder_games_failed(const struct slp_recorder *r)
{
	return r->games_failed;
}
