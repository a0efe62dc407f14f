/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What `record` and `relay` share: their options, and an engine (plugin/core/engine.h) with a session per
 * --source, run on the main thread, its events printed as JSON Lines and its log on stderr.
 */
#pragma once

#include "relay.h"
#include "source.h"

#define PIPELINE_MAX_SOURCES 16

struct pipeline_options {
	const char *command; /* "record" or "relay", for messages */
	const char *source_urls[PIPELINE_MAX_SOURCES];
	size_t n_sources;
	struct source_options source;
	const char *out_dir;               /* NULL: no .slp files */
	const char *events_path;           /* "-" for stdout; NULL: no events */
	const char *nick;                  /* NULL: the source's own name, once it has one */
	long games;                        /* stop after this many games per source; 0: when the sources end */
	long frame_every;                  /* frame events: 0 none, 1 all, N every Nth */
	const struct relay_options *relay; /* NULL: no relay; with several sources, source i listens on port + i */
};

/* Takes one of the options every pipeline command shares: --source (repeatable), --out, --events, --nick, --games,
 * --frames, --speed. Returns 1 when it was one (and valid), 0 when it is not one of them, -1 when its value is wrong
 * (the error is printed). */
int pipeline_parse_option(struct pipeline_options *o, const char *option, const char *value);

/* Runs until the games are done (and relay clients have them, for a bounded time), the sources end, or SIGINT /
 * SIGTERM. Returns the command's exit status. */
int pipeline_run(const struct pipeline_options *o);
