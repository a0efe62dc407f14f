/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A replay the simulators (sim_console, sim_dolphin) play: a .slp file given by path or as bytes in memory (so the
 * OBS module can play the replays it bundles without touching the disk at play time). Loaded whole at the
 * simulator's create, into memory it owns: the caller's path and bytes are not used afterwards. Any thread, no
 * shared state.
 */
#pragma once

#include "bytes.h"

#include <stdarg.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIM_REPLAY_MAX_BYTES ((size_t)1 << 30)

struct sim_replay {
	const char *path;    /* a .slp file, read whole at create; NULL to give data instead */
	const uint8_t *data; /* the bytes of a .slp file (copied at create), when path is NULL */
	size_t len;
	const char *name; /* how log lines and errors name it; NULL: the path, or "replay N (in memory)" */
};

/* A loaded replay: its bytes and where its events are. */
struct sim_replay_data {
	struct bytes file;
	const uint8_t *events; /* inside file */
	size_t events_size;
	char *name;
};

/*
 * Reads the replay (index counts from 0, for the default name) and finds its events. Returns 0, or -1 with err
 * naming the replay (the path, or its name): unreadable, not a .slp container, no event bytes, out of memory.
 * out needs sim_replay_data_free either way.
 */
int sim_replay_load(const struct sim_replay *r, size_t index, struct sim_replay_data *out, char *err, size_t err_size);
void sim_replay_data_free(struct sim_replay_data *d);
/* Formats one line for a simulator's `log` callback (nothing when log is NULL). */
void sim_log_line(void (*log)(void *ud, const char *line), void *ud, const char *fmt, va_list ap);

#ifdef __cplusplus
}
#endif
