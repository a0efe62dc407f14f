/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The pipeline every source feeds: splitter -> game state -> .slp writer, plus game events to a consumer.
 * Feed it the source's bytes as they arrive; it writes one .slp per game, and finishes a cut-off game when the
 * source ends. A game's first events (Event Payloads, Game Start, the Gecko list's Message Splitter chunks) are
 * held until an event after them arrives whole, then written first, byte for byte, into a new file; when the
 * source ends after a whole Game Start they are written too. A stream that stops before a whole Game Start, or
 * that fails or starts another game before an event follows the first ones, leaves no file. The file is finished
 * at Game End, at the next Event Payloads, or when the source ends.
 */
#pragma once

#include "slp_file.h"
#include "slp_game.h"
#include "slp_splitter.h"

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

struct slp_recorder;

struct slp_recorder_callbacks {
	void (*game_event)(void *ud, const struct slp_game_event *ev);
	/* A .slp file was opened (finished = false) or finished (true). */
	void (*file)(void *ud, const char *path, bool finished);
	/* Something went wrong that the user should know of (a stream error, a disk error); the recorder goes on. */
	void (*warning)(void *ud, const char *message);
	/*
	 * A game's file could not be written whole: a disk error at its creation, at any write or at its finish.
	 * Called once per such game, right after `warning` said why (the path and the system's error text). kept:
	 * the file stays with what it holds (repairable); otherwise there is no file (it could not be created, or
	 * it was removed because it did not hold the game's first events). The rest of that game is not recorded.
	 */
	void (*file_failed)(void *ud, const char *path, bool kept);
	void *ud;
};

struct slp_recorder_options {
	const char *out_dir;      /* NULL: write no files */
	const char *console_nick; /* at most 63 bytes are kept, cut between UTF-8 characters */
	/* After this many games have ended, the next game is not started: its bytes are ignored. 0: no limit. */
	uint64_t max_games;
};

struct slp_recorder *slp_recorder_create(const struct slp_recorder_options *opts,
					 const struct slp_recorder_callbacks *cb);
void slp_recorder_destroy(struct slp_recorder *r);
/* Feeds source bytes. Returns 0, or -1 on a stream error: it is reported through `warning`, the current game and
 * file are finished with what they hold, and further bytes are ignored until slp_recorder_end (the source is
 * expected to reconnect and start again at an event boundary). */
int slp_recorder_feed(struct slp_recorder *r, const uint8_t *data, size_t len);
/* The source's stream restarts at an event boundary (see source.h `gap`): a partial event is dropped and a
 * stream failure cleared; the current game and file go on. */
void slp_recorder_restart_at_boundary(struct slp_recorder *r);
/* The source ended (or is being replaced): finishes the current game and file. */
void slp_recorder_end(struct slp_recorder *r);
/* The folder of the next game's file (the current file stays where it is), made with that file if missing; NULL
 * or "": write no more files. */
void slp_recorder_set_out_dir(struct slp_recorder *r, const char *out_dir);
/* The name of the next games' files: NAME.slp, then NAME_2.slp, ... in the folder; NULL or "": Game_<time>.slp. */
void slp_recorder_set_file_name(struct slp_recorder *r, const char *name);
/* The console's name for the metadata of the current (if not yet finished) and later files; "" keeps "unknown". */
void slp_recorder_set_console_nick(struct slp_recorder *r, const char *nick);
const struct slp_game *slp_recorder_game(const struct slp_recorder *r);
/* Games whose file was finished, and games whose file could not be written whole (see file_failed). */
uint64_t slp_recorder_games_written(const struct slp_recorder *r);
uint64_t slp_recorder_games_failed(const struct slp_recorder *r);

#ifdef __cplusplus
}
#endif
