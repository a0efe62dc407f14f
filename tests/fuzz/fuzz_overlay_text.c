/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer: the overlay template engine (overlay_text_render) on any template, game state and pins, into buffers
 * of every size; and a set score driven by any sequence of starts, ends and changes by hand. Checks: the text fits
 * its buffer, is NUL-terminated where the length says, never cuts a UTF-8 character the engine wrote itself, and the
 * score never leaves its bounds.
 */
#include "overlay_text.h"
#include "set_score.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void terminate_names(struct game_snapshot *g)
{
	for (int i = 0; i < SLP_MAX_PLAYERS; i++) {
		struct game_player_snapshot *p = &g->players[i];
		p->name[sizeof(p->name) - 1] = 0;
		p->nametag[sizeof(p->nametag) - 1] = 0;
		p->display_name[sizeof(p->display_name) - 1] = 0;
		p->connect_code[sizeof(p->connect_code) - 1] = 0;
	}
}

static void fuzz_score(const uint8_t *data, size_t size)
{
	struct set_score s;
	set_score_init(&s, data[0] % 8);
	char err[160];
	for (size_t i = 1; i + 6 <= size; i += 6) {
		const uint8_t *op = data + i;
		struct set_score_player players[SLP_MAX_PLAYERS];
		memset(players, 0, sizeof(players));
		for (int k = 0; k < SLP_MAX_PLAYERS; k++) {
			players[k].present = op[1] >> k & 1;
			players[k].port = (uint8_t)(k + 1);
			players[k].team_id = op[2] >> (2 * k) & 3;
			if (op[3] >> k & 1)
				players[k].connect_code[0] = (char)('A' + (op[4] >> k & 3));
		}
		uint8_t winners[SLP_MAX_PLAYERS] = {op[4] % 6, op[5] % 6};
		switch (op[0] % 6) {
		case 0:
			set_score_game_start(&s, players, op[5] & 1);
			break;
		case 1:
			set_score_game_end(&s, winners, op[3] % 3, NULL);
			break;
		case 2:
			set_score_set_points(&s, op[1], op[2], err, sizeof(err));
			break;
		case 3:
			set_score_set_best_of(&s, op[1] % 120, err, sizeof(err));
			break;
		case 4:
			set_score_swap(&s);
			break;
		default:
			set_score_reset(&s);
			break;
		}
		unsigned need = set_score_wins_needed(&s);
		if (s.sides[0].points > SET_SCORE_MAX_POINTS || s.sides[1].points > SET_SCORE_MAX_POINTS ||
		    (need && s.sides[0].points > need && s.sides[1].points > need) ||
		    s.sides[0].n > SET_SCORE_SIDE_MAX || s.sides[1].n > SET_SCORE_SIDE_MAX)
			abort();
		for (unsigned port = 0; port <= SLP_MAX_PLAYERS + 1; port++)
			if (set_score_of_port(&s, port) > SET_SCORE_MAX_POINTS)
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	fuzz_score(data, size);
	/* the game state from the input's head (when long enough), the template from the rest */
	struct game_snapshot g;
	memset(&g, 0, sizeof(g));
	struct overlay_text_input in;
	overlay_text_input_init(&in);
	size_t head = 0;
	if (size > sizeof(g) + 8 && (data[0] & 1)) {
		memcpy(&g, data + 1, sizeof(g));
		terminate_names(&g);
		for (int i = 0; i < SLP_MAX_PLAYERS; i++) {
			in.pins[i] = data[1 + sizeof(g) + i] % 6;
			in.scores[i] = (int8_t)data[5 + sizeof(g) + i];
		}
		in.game = &g;
		in.game_number = data[size - 1];
		in.console = "console";
		head = 1 + sizeof(g) + 8;
	}
	char *tmpl = malloc(size - head + 1);
	if (!tmpl)
		return 0;
	memcpy(tmpl, data + head, size - head);
	tmpl[size - head] = 0;
	static char out[1 << 16];
	size_t sizes[] = {1, 2, 3, 7, 64, sizeof(out)};
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		memset(out, 0x55, sizes[k]);
		size_t n = overlay_text_render(tmpl, &in, out, sizes[k]);
		if (n >= sizes[k] || out[n] != 0 || strlen(out) != n)
			abort();
	}
	free(tmpl);
	return 0;
}
