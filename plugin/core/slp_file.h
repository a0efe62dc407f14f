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

#ifdef __cplusplus
extern "C" {
#endif

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
 * Creates DIR/Game_YYYYMMDDTHHMMSS.slp (local time of `start`), or DIR/NAME.slp when name is not NULL or "",
 * never replacing an existing file: a taken name gets a suffix (`Game_..._2.slp`, `NAME_2.slp`, ...). Writes the
 * 15-byte header. Holds an exclusive flock(2) on the file until slp_file_close, so `andross repair` leaves a file
 * being written alone. Returns 0 or -1 with w->error.
 */
int slp_file_open(struct slp_file_writer *w, const char *dir, const char *name, const struct timespec *start,
		  const char *console_nick);
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

/*
 * What a file's bytes hold, read the way a Slippi reader must accept them and without trusting the raw length:
 * the longest prefix of events from offset 15 that the splitter and slp_game accept (one game: a second Event
 * Payloads, or a relay's keepalive filler, ends it), and whether a metadata footer follows those events. Both
 * repair and inspect decide from it.
 */
enum slp_scan_stop {
	SLP_SCAN_END_OF_FILE, /* the file ends right after the last valid event */
	SLP_SCAN_PARTIAL,     /* the file ends inside an event */
	SLP_SCAN_INVALID,     /* bytes that are not a valid event follow (a footer, damage, garbage) */
};

struct slp_file_scan {
	uint32_t raw_length;   /* as stored at offset 11 */
	uint64_t valid_bytes;  /* stream bytes of the valid prefix; the events end at file byte 15 + valid_bytes */
	uint64_t valid_events; /* wire events in it */
	bool has_game_start;
	enum slp_scan_stop stop;
	char stop_reason[192]; /* SLP_SCAN_INVALID: why the next bytes are not an event */
	bool second_game;      /* what stopped it is the Event Payloads of another game */
	/* The raw length ends a valid event and the file's metadata (or the bare closing brace) follows it. */
	bool stored_complete;
	bool stored_has_metadata;      /* rather than the bare brace */
	uint64_t events_in_raw_length; /* when stored_complete */
	uint64_t trailing_bytes;       /* when stored_complete: bytes after the closing brace */
	/* A metadata footer follows the valid events, whatever the raw length says. */
	bool footer_after_events;
	bool footer_closed; /* the file's closing brace follows the metadata */
	size_t metadata_offset, metadata_size;
};

/*
 * Scans a whole file (sans-I/O). When meta is not NULL, it is fed every valid event. Returns 0, or -1 with err
 * when the bytes do not start with the .slp header.
 */
int slp_file_scan(const uint8_t *file, size_t size, struct slp_meta *meta, struct slp_file_scan *out, char *err,
		  size_t err_size);

struct slp_repair_result {
	bool already_complete;
	uint32_t raw_length_before; /* as the file stored it */
	uint64_t events_kept;
	uint64_t bytes_kept;     /* event bytes */
	uint64_t bytes_dropped;  /* a trailing partial event, or the bytes from the first invalid one on */
	uint64_t trailing_bytes; /* already complete: bytes after the closing brace, left where they are */
	bool metadata_kept;      /* the file's own metadata was kept: only its raw length (or final brace) was wrong */
	char stream_error[192];  /* why the events stop being valid, when they do before the end of the file */
};

/*
 * The repair decision over a file's bytes (sans-I/O), in this order:
 * - the raw length ends a valid event and metadata follows: the file needs nothing; returns 0, out untouched;
 * - no complete Game Start among the valid events, or a second game after them: refuses;
 * - a metadata footer follows the valid events: the raw length (or the final brace) alone was wrong; out is the
 *   file with the length patched, every other byte kept;
 * - the raw length and a footer after it say the game is finished, yet the events stop being valid before that
 *   end: a finished replay damaged inside, which repair would cut short; refuses;
 * - otherwise (cut off by a crash, damaged tail): out holds the valid events and metadata rebuilt from them,
 *   with `start` as its startAt; what follows them is dropped.
 * Whatever goes to out has been read back: a finished container whose events are all valid, with metadata.
 * Returns 1 with out (an initialised buffer) filled, 0 when already complete, -1 when it refuses (err says why).
 */
int slp_file_repair_buffer(const uint8_t *file, size_t size, const struct timespec *start, struct bytes *out,
			   struct slp_repair_result *result, char *err, size_t err_size);
/*
 * Repairs the file at path (a symlink: its target) by slp_file_repair_buffer. Refuses a file another process is
 * writing (its writer holds a lock, see slp_file_open) and holds that lock itself meanwhile. Writes a temporary
 * file beside the target and renames it over the target, so a crash during repair loses nothing. A file that
 * needs nothing is left alone. Returns 0, or -1 with err.
 */
int slp_file_repair(const char *path, struct slp_repair_result *result, char *err, size_t err_size);
/* mkdir -p. Returns 0, or -1 with errno. */
int slp_file_make_dirs(const char *path);
/*
 * A name from elsewhere (a console's nickname off the network, a connection's name) as one safe folder or file
 * name: whole UTF-8 characters only, no path separators, control characters or characters Windows refuses
 * (each becomes '_'), no leading dot or space, no trailing dot or space, at most dst_size - 1 bytes. An empty
 * result takes `fallback`.
 */
void slp_file_safe_name(char *dst, size_t dst_size, const char *name, const char *fallback);
/* Reads a whole regular file into memory (at most max_bytes); anything else (a FIFO, a device) is an error at
 * once, never a blocking open. Returns 0, or -1 with err naming the path. */
int slp_read_whole_file(const char *path, size_t max_bytes, struct bytes *out, char *err, size_t err_size);

#ifdef __cplusplus
}
#endif
