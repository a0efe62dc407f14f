/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Frame boundaries in a stream of event bytes: what a source or a simulator needs to play a replay at game speed. */
#pragma once

#include "slp_splitter.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct slp_frame_tracker {
	bool have_frame;
	int32_t frame;
};

/* True when ev opens a new frame: a Frame Start, or a leader Pre-Frame Update (the only marker before Frame Start
 * existed), whose frame number differs from the previous one. An Event Payloads forgets the previous frame. */
bool slp_frame_tracker_opens(struct slp_frame_tracker *t, const struct slp_event *ev);

struct slp_frame_cuts {
	size_t *offsets; /* frame i spans offsets[i] .. offsets[i + 1]; offsets[0] is 0 (what precedes the first frame
			       goes with it) and the last offset is whole_bytes */
	size_t count;    /* offsets held: frames + 1 */
	size_t whole_bytes; /* bytes of whole, valid events: a stream error or a cut-off last event ends them early */
	char error[192];    /* why whole_bytes stops before the end, if it does ("" otherwise) */
};

/* Finds the frames of a stream of event bytes. Returns 0, or -1 when out of memory. */
int slp_frame_cuts_build(const uint8_t *events, size_t size, struct slp_frame_cuts *out);
void slp_frame_cuts_free(struct slp_frame_cuts *cuts);

#ifdef __cplusplus
}
#endif
