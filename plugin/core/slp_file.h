/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writing .slp files: one file per game, byte-compatible with Slippi Launcher's. Events are written with one
 * write(2) per flush, so a killed process leaves a file that holds every event handed over before the kill,
 * with raw length 0; `slp_file_repair` finalises such a file.
 */
#pragma once

#include "slp_meta.h"
#include "slp_splitter.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct slp_file_writer {
	int fd;
	char path[4096];
	uint64_t raw_bytes;
	struct bytes buffer; /* events not yet written */
	struct slp_meta meta;
	bool finished; /* footer written and length patched; more events reopen the game */
	bool failed;
	char error[256];
};

/*
 * Creates DIR/Game_YYYYMMDDTHHMMSS.slp (local time of `start`), never replacing an existing file: a taken name
 * gets a suffix (`Game_..._2.slp`, ...). Writes the 15-byte header. Holds an exclusive flock(2) on the file until
 * slp_file_close, so `andross repair` leaves a file being written alone. Returns 0 or -1 with w->error.
 */
int slp_file_open(struct slp_file_writer *w, const char *dir, const struct timespec *start, const char *console_nick);
/* Appends one wire event (never a reassembled message). Buffered until slp_file_flush. An event after
 * slp_file_finish (a repeated Game End) drops the footer again; finish once more to restore it. */
int slp_file_write_event(struct slp_file_writer *w, const struct slp_event *ev);
/* Hands buffered events to the kernel in one write. */
int slp_file_flush(struct slp_file_writer *w);
/* Writes the metadata footer, patches the raw length at offset 11 and syncs. The file stays open. */
int slp_file_finish(struct slp_file_writer *w);
/* Closes the file; one that was not finished stays in progress (raw length 0), repairable. */
void slp_file_close(struct slp_file_writer *w);
static inline bool slp_file_is_open(const struct slp_file_writer *w)
{
	return w->fd >= 0;
}

struct slp_repair_result {
	bool already_complete;
	uint64_t events_kept;
	uint64_t bytes_kept;    /* event bytes */
	uint64_t bytes_dropped; /* a trailing partial event, or bytes after a stream error */
	char stream_error[192]; /* why the scan stopped early, if it did */
};
/*
 * Finalises a .slp file cut off by a crash: keeps every complete event, drops a trailing partial one, rebuilds
 * the metadata from the events and patches the raw length. Writes a temporary file beside it and renames it
 * over the original, so a crash during repair loses nothing. A file that is already complete is left alone.
 * Returns 0, or -1 with err.
 */
int slp_file_repair(const char *path, struct slp_repair_result *result, char *err, size_t err_size);
/* Reads a whole regular file into memory (at most max_bytes); anything else (a FIFO, a device) is an error at
 * once, never a blocking open. Returns 0, or -1 with err naming the path. */
int slp_read_whole_file(const char *path, size_t max_bytes, struct bytes *out, char *err, size_t err_size);
