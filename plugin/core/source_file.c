/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A replay file played as a source: frame by frame at 60 x speed frames a second, or as fast as possible. */
#include "source.h"
#include "slp_file.h"
#include "slp_reader.h"
#include "slp_frames.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FILE_SOURCE_MAX_BYTES ((size_t)1 << 30)
#define FILE_SOURCE_BATCH_BYTES (64u * 1024u) /* at full speed, yield to the loop between batches */

struct file_source {
	struct source base;
	struct net_loop *loop;
	struct source_callbacks cb;
	double speed;
	struct bytes file;
	const uint8_t *events;
	size_t events_size;
	struct slp_frame_cuts frames;
	size_t next_cut; /* the next frame to hand over */
	uint64_t t0_us;
	uint64_t timer;
	bool ended;
};

static void finish(struct file_source *fs, const char *reason)
{
	if (fs->ended)
		return;
	fs->ended = true;
	if (fs->cb.state)
		fs->cb.state(fs->cb.ud, SOURCE_DISCONNECTED, reason);
	if (fs->cb.ended)
		fs->cb.ended(fs->cb.ud, reason);
}

static void on_tick(void *ud)
{
	struct file_source *fs = ud;
	fs->timer = 0;
	size_t fed = 0;
	while (fs->next_cut + 1 < fs->frames.count) {
		size_t from = fs->frames.offsets[fs->next_cut], to = fs->frames.offsets[fs->next_cut + 1];
		if (fs->speed > 0) {
			uint64_t due = fs->t0_us + (uint64_t)((double)fs->next_cut * 1e6 / (60.0 * fs->speed));
			uint64_t now = net_now_us();
			if (due > now) {
				fs->timer = net_loop_timer(fs->loop, (due - now + 999) / 1000, on_tick, fs);
				return;
			}
		}
		fs->next_cut++;
		if (fs->cb.data)
			fs->cb.data(fs->cb.ud, fs->events + from, to - from);
		fed += to - from;
		if (fs->speed <= 0 && fed >= FILE_SOURCE_BATCH_BYTES) {
			fs->timer = net_loop_timer(fs->loop, 0, on_tick, fs);
			return;
		}
	}
	/* bytes past the whole events go too: the recorder names what is wrong with them */
	if (fs->frames.whole_bytes < fs->events_size && fs->cb.data)
		fs->cb.data(fs->cb.ud, fs->events + fs->frames.whole_bytes, fs->events_size - fs->frames.whole_bytes);
	fs->frames.whole_bytes = fs->events_size;
	finish(fs, "end of file");
}

static void file_destroy(struct source *src)
{
	struct file_source *fs = (struct file_source *)src;
	if (fs->timer)
		net_loop_cancel(fs->loop, fs->timer);
	bytes_free(&fs->file);
	slp_frame_cuts_free(&fs->frames);
	free(fs);
}

static struct source *file_create(struct net_loop *loop, const char *path, const struct source_options *opts,
				  const struct source_callbacks *cb, char *err, size_t err_size)
{
	struct file_source *fs = calloc(1, sizeof(*fs));
	if (!fs) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	fs->base.kind = &source_kind_file;
	fs->loop = loop;
	fs->cb = *cb;
	fs->speed = opts ? opts->speed : 0;
	char cerr[512];
	if (slp_read_whole_file(path, FILE_SOURCE_MAX_BYTES, &fs->file, err, err_size) < 0) {
		free(fs);
		return NULL;
	}
	struct slp_container c;
	if (slp_container_parse(fs->file.data, fs->file.len, &c, cerr, sizeof(cerr)) < 0 && c.events_offset == 0) {
		snprintf(err, err_size, "%s: %s", path, cerr);
		file_destroy(&fs->base);
		return NULL;
	}
	fs->events = fs->file.data + c.events_offset;
	fs->events_size = c.events_size;
	if (slp_frame_cuts_build(fs->events, fs->events_size, &fs->frames) < 0) {
		snprintf(err, err_size, "out of memory");
		file_destroy(&fs->base);
		return NULL;
	}
	if (fs->cb.state)
		fs->cb.state(fs->cb.ud, SOURCE_CONNECTED, path);
	fs->t0_us = net_now_us();
	fs->timer = net_loop_timer(loop, 0, on_tick, fs);
	return &fs->base;
}

const struct source_kind source_kind_file = {
	.scheme = NULL,
	.default_port = 0,
	.create = file_create,
	.destroy = file_destroy,
};
