/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers for the live console tests: child processes, recorded files, replay event bytes. */
#pragma once

#include "bytes.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct child {
	pid_t pid;
	int out_fd; /* the child's stdout, when piped */
	long max_rss_kb;
	int status;
};

/* Starts argv[0] (a path) with stdout piped (when pipe_out) and stderr to stderr_path (NULL: inherited). */
bool lu_spawn(struct child *c, char *const argv[], bool pipe_out, const char *stderr_path);
/* Reads `listening on HOST:PORT` (or `relay listening on HOST:PORT`) from the child's stdout. Returns the port, or 0 after timeout_ms. */
uint16_t lu_read_listen_port(struct child *c, int timeout_ms);
/* Waits for the child; kills it (SIGKILL) after timeout_ms. Returns its exit code, or -1 when killed/signalled. */
int lu_wait(struct child *c, int timeout_ms);
void lu_signal(struct child *c, int sig);
/* The paths of the `wrote PATH` lines in a record's stderr log, in order. Returns how many (at most max). */
size_t lu_wrote_files(const char *log_path, char paths[][1024], size_t max);
/* The event bytes of a .slp file. */
bool lu_slp_events(const char *path, struct bytes *file, const uint8_t **events, size_t *len);
bool lu_replay_events(const char *name, struct bytes *file, const uint8_t **events, size_t *len);
/* Counts lines of a file holding needle. */
size_t lu_count_lines(const char *path, const char *needle);
/* A fresh directory ANDROSS_TEST_TMP/console-<tag>-<pid>. */
void lu_temp_dir(const char *tag, char *out, size_t out_size);
/* Checks each written file's events against the replays, in order; prints what differs. */
bool lu_files_match_replays(char paths[][1024], size_t n_files, const char *const *replays, size_t n_replays);
/* `andross inspect FILE` exits 0. */
bool lu_inspect_ok(const char *tool, const char *path);
