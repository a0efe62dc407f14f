/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The text of an overlay from a template and the latest game state: `{p1.name}`, `{stage}`, ... (docs/obs-sources.md)
 * are replaced by their values; anything else, an unknown placeholder and an unclosed brace included, stays as typed.
 * Bounded: a template longer than OVERLAY_TEXT_MAX_TEMPLATE bytes is cut, the output never exceeds the caller's
 * buffer and is cut at a whole UTF-8 character. Sans-I/O, no allocation: cheap enough for every OBS frame.
 */
#pragma once

#include "game_mailbox.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OVERLAY_TEXT_MAX_TEMPLATE 8192
#define OVERLAY_TEXT_MAX_PLACEHOLDER 32 /* the longest name between braces that can be a placeholder */

struct overlay_text_input {
	const struct game_snapshot *game; /* NULL: no game (every game placeholder is "") */
	/* pN's port for N = 1-4: 1-4 pins it, 0 takes the lowest port in the game that no pin takes */
	uint8_t pins[SLP_MAX_PLAYERS];
	/* the set score of the side of each port (by port - 1), -1 when not known: {pN.score} is then "" */
	int scores[SLP_MAX_PLAYERS];
	unsigned game_number; /* {game}; 0: "" */
	const char *console;  /* {console}; NULL: "" */
};

/* Sets every field to "unknown": no game, no pins, no scores. */
void overlay_text_input_init(struct overlay_text_input *in);
/* The port pN (1-4) shows, or 0 when pN has no player in the game. */
unsigned overlay_text_port_of(const struct overlay_text_input *in, unsigned n);
/* Writes the text of tmpl into out (NUL-terminated; out_size >= 1). Returns its length. */
size_t overlay_text_render(const char *tmpl, const struct overlay_text_input *in, char *out, size_t out_size);
/* The in-game timer as the game shows it, m:ss (minutes not padded): counting down from the game's time limit, from
 * frame 0; counting up when the game has none. */
void overlay_text_timer(const struct game_snapshot *g, char *out, size_t out_size);

#ifdef __cplusplus
}
#endif
