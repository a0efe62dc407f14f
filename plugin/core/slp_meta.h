/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The metadata footer of a .slp file, built from the events the way Slippi Launcher's writer builds it:
 * startAt, lastFrame (last leader post-frame), consoleNick, players (characters by frames played and names),
 * playedOn. The same builder serves the live writer and `andross repair`.
 */
#pragma once

#include "bytes.h"
#include "slp_splitter.h"

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SLP_META_MAX_CHARACTERS 32

struct slp_meta_player {
	bool present;
	char display_name[128];
	char connect_code[48];
	uint32_t character_frames[SLP_META_MAX_CHARACTERS]; /* by internal character id */
};

struct slp_meta {
	struct timespec start_time; /* UTC */
	int32_t last_frame;
	char console_nick[64];
	char played_on[32];
	struct slp_meta_player players[4];
};

void slp_meta_init(struct slp_meta *m, const struct timespec *start_time, const char *console_nick,
		   const char *played_on);
/* Takes one event (Game Start and leader post-frames matter). */
void slp_meta_handle(struct slp_meta *m, const struct slp_event *ev);
/* Appends `U\x08metadata{...}}`: the metadata key and value, then the closing brace of the file. */
bool slp_meta_encode_footer(const struct slp_meta *m, struct bytes *out);

#ifdef __cplusplus
}
#endif
