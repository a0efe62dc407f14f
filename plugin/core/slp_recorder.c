/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "slp_recorder.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct slp_recorder {
	struct slp_recorder_options opts;
	struct slp_recorder_callbacks cb;
	char out_dir[4096];
	char console_nick[64];
	struct slp_splitter splitter;
	struct slp_game game;
	struct slp_file_writer file;
	bool file_reported_finished;
	bool stream_failed;
	uint64_t games_written;
	uint64_t games_ended;
	bool done; /* max_games reached: the rest of the stream is ignored */
};

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

static void finish_file(struct slp_recorder *r)
{
	if (!slp_file_is_open(&r->file) || r->file.finished)
		return;
	if (slp_file_finish(&r->file) < 0) {
		warn(r, "%s", r->file.error);
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

static void open_file(struct slp_recorder *r)
{
	if (!r->out_dir[0])
		return;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	r->file_reported_finished = false;
	if (slp_file_open(&r->file, r->out_dir, &now, r->console_nick) < 0) {
		warn(r, "%s", r->file.error);
		slp_file_close(&r->file);
		return;
	}
	if (r->cb.file)
		r->cb.file(r->cb.ud, r->file.path, false);
}

static int on_event(void *ud, const struct slp_event *ev)
{
	struct slp_recorder *r = ud;
	if (r->done)
		return 0;
	if (!ev->reassembled && ev->code == SLP_CMD_EVENT_PAYLOADS) {
		/* a new game: the previous one ends here, whether or not it had a Game End */
		slp_game_finish(&r->game);
		close_file(r);
		if (r->opts.max_games && r->games_ended >= r->opts.max_games) {
			r->done = true;
			return 0;
		}
		open_file(r);
	}
	if (!ev->reassembled && slp_file_is_open(&r->file) && !r->file.failed) {
		if (slp_file_write_event(&r->file, ev) < 0)
			warn(r, "%s", r->file.error);
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
		snprintf(r->console_nick, sizeof(r->console_nick), "%s", opts->console_nick ? opts->console_nick : "");
	}
	if (cb)
		r->cb = *cb;
	r->file.fd = -1;
	slp_splitter_init(&r->splitter);
	slp_game_init(&r->game, on_game_event, r);
	return r;
}

void slp_recorder_destroy(struct slp_recorder *r)
{
	if (!r)
		return;
	close_file(r);
	slp_splitter_free(&r->splitter);
	free(r);
}

int slp_recorder_feed(struct slp_recorder *r, const uint8_t *data, size_t len)
{
	if (r->stream_failed)
		return -1;
	int rc = slp_splitter_feed(&r->splitter, data, len, on_event, r);
	if (slp_file_is_open(&r->file) && !r->file.failed && slp_file_flush(&r->file) < 0)
		warn(r, "%s", r->file.error);
	if (rc < 0) {
		r->stream_failed = true;
		warn(r, "%s", r->splitter.error);
		slp_game_finish(&r->game);
		close_file(r);
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
	slp_game_finish(&r->game);
	close_file(r);
	slp_splitter_reset(&r->splitter);
	r->stream_failed = false;
}

void slp_recorder_set_out_dir(struct slp_recorder *r, const char *out_dir)
{
	snprintf(r->out_dir, sizeof(r->out_dir), "%s", out_dir ? out_dir : "");
}

void slp_recorder_set_console_nick(struct slp_recorder *r, const char *nick)
{
	snprintf(r->console_nick, sizeof(r->console_nick), "%s", nick ? nick : "");
	if (slp_file_is_open(&r->file) && !r->file.finished && nick && *nick)
		snprintf(r->file.meta.console_nick, sizeof(r->file.meta.console_nick), "%s", nick);
}

const struct slp_game *slp_recorder_game(const struct slp_recorder *r)
{
	return &r->game;
}

uint64_t slp_recorder_games_written(const struct slp_recorder *r)
{
	return r->games_written;
}
