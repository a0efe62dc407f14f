/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What `record` and `relay` share: a source on the event loop feeding, in this order, an optional relay and a
 * recorder on its own thread (so clients never wait on the disk), with every event printed as JSON Lines.
 */
#pragma once

#include "relay.h"
#include "source.h"

struct pipeline_options {
	const char *command; /* "record" or "relay", for messages */
	const char *source_url;
	struct source_options source;
	const char *out_dir;               /* NULL: no .slp files */
	const char *events_path;           /* "-" for stdout; NULL: no events */
	const char *nick;                  /* NULL: the source's own name, once it has one */
	long games;                        /* stop after this many games; 0: when the source ends */
	long frame_every;                  /* frame events: 0 none, 1 all, N every Nth */
	const struct relay_options *relay; /* NULL: no relay */
};

/* Takes one of the options every pipeline command shares: --source, --out, --events, --nick, --games, --frames,
 * --speed. Returns 1 when it was one (and valid), 0 when it is not one of them, -1 when its value is wrong (the
 * error is printed). */
int pipeline_parse_option(struct pipeline_options *o, const char *option, const char *value);

/* Runs until the games are done (and relay clients have them, for a bounded time), the source ends, or SIGINT /
 * SIGTERM. Returns the command's exit status. */
int pipeline_run(const struct pipeline_options *o);
