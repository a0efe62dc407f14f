/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The overlay template engine (plugin/core/overlay_text.c) on the state real replays leave in the game mailbox:
 * every placeholder against expected.json (slippi-js's facts), port order and pins, the timer as the game counts it,
 * names decoded from Shift-JIS with full-width characters, and templates that are wrong, huge or cut short.
 */
#include "game_mailbox.h"
#include "melee_names.h"
#include "overlay_text.h"
#include "slp_game.h"
#include "slp_splitter.h"
#include "test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STOCKS_LOST 64

/* A replay played through slp_game into a mailbox, the snapshot kept at each stock_lost and at the end. */
struct played {
	struct slp_game game;
	struct game_mailbox *m;
	struct game_snapshot at_stock[MAX_STOCKS_LOST];
	struct slp_game_event stock_ev[MAX_STOCKS_LOST];
	size_t n_stock;
	struct game_snapshot before_zero; /* the last frame before the timer starts */
	struct game_snapshot final;
	/* a Game Start rewritten before slp_game reads it: display name of player 0 */
	const uint8_t *patch_name;
	size_t patch_len;
};

static void on_game_event(void *ud, const struct slp_game_event *ev)
{
	struct played *p = ud;
	assert_true(game_mailbox_publish(p->m, ev, "{}", 2));
	if (ev->type == SLP_GAME_EVENT_STOCK_LOST && p->n_stock < MAX_STOCKS_LOST) {
		game_mailbox_latest_wait(p->m, &p->at_stock[p->n_stock]);
		p->stock_ev[p->n_stock++] = *ev;
	}
	if (ev->type == SLP_GAME_EVENT_FRAME && ev->frame == -1)
		game_mailbox_latest_wait(p->m, &p->before_zero);
}

static int on_event(void *ud, const struct slp_event *ev)
{
	struct played *p = ud;
	if (ev->code == 0x36 && p->patch_name) {
		/* Game Start: player 0's display name is 31 bytes at 0x1A5 (docs: slp-format.md) */
		uint8_t *copy = malloc(ev->size);
		assert_non_null(copy);
		memcpy(copy, ev->data, ev->size);
		assert_true(ev->size >= 0x1A5 + 0x1F);
		memset(copy + 0x1A5, 0, 0x1F);
		memcpy(copy + 0x1A5, p->patch_name, p->patch_len);
		struct slp_event e = *ev;
		e.data = copy;
		slp_game_handle(&p->game, &e);
		free(copy);
		return 0;
	}
	slp_game_handle(&p->game, ev);
	return 0;
}

static struct played *play(const char *replay, const uint8_t *patch_name, size_t patch_len)
{
	struct played *p = calloc(1, sizeof(*p));
	assert_non_null(p);
	p->patch_name = patch_name;
	p->patch_len = patch_len;
	p->m = game_mailbox_create(0, NULL, NULL);
	struct bytes file;
	assert_true(tu_read_replay(replay, &file));
	const uint8_t *events;
	size_t events_len;
	assert_true(tu_events(&file, &events, &events_len));
	slp_game_init(&p->game, on_game_event, p);
	struct slp_splitter s;
	slp_splitter_init(&s);
	assert_int_equal(slp_splitter_feed(&s, events, events_len, on_event, p), 0);
	slp_splitter_free(&s);
	slp_game_finish(&p->game);
	game_mailbox_latest_wait(p->m, &p->final);
	bytes_free(&file);
	return p;
}

static void unplay(struct played *p)
{
	game_mailbox_destroy(p->m);
	free(p);
}

static const char *render(const char *tmpl, const struct overlay_text_input *in)
{
	static char out[4096];
	size_t n = overlay_text_render(tmpl, in, out, sizeof(out));
	assert_int_equal(n, strlen(out));
	return out;
}

/* Every placeholder at the end of real games, against expected.json. */
static void check_final(const char *replay)
{
	struct played *p = play(replay, NULL, 0);
	const struct jm_value *e = tu_expected_file(replay);
	const struct jm_value *final = jm_get(e, "finalPlayerState");
	struct overlay_text_input in;
	overlay_text_input_init(&in);
	in.game = &p->final;
	const struct jm_value *players = jm_get(e, "players");
	for (size_t n = 1; n <= players->count; n++) {
		const struct jm_value *ep = jm_at(players, n - 1); /* listed in port order */
		unsigned port = (unsigned)jm_get_int(ep, "port", 0);
		char key[8], t[256], want[1024];
		TU_EXPECT(overlay_text_port_of(&in, (unsigned)n) == port, "%s: p%zu is port %u", replay, n, port);
		snprintf(key, sizeof(key), "%u", port - 1);
		const struct jm_value *fs = jm_get(final, key);
		const char *name = jm_get_str(ep, "displayName")[0]   ? jm_get_str(ep, "displayName")
				   : jm_get_str(ep, "nametag")[0]     ? jm_get_str(ep, "nametag")
				   : jm_get_str(ep, "connectCode")[0] ? jm_get_str(ep, "connectCode")
								      : jm_get_str(ep, "characterName");
		snprintf(t, sizeof(t),
			 "{p%zu.name}|{p%zu.code}|{p%zu.character}|{p%zu.stocks}|{p%zu.percent}|{p%zu.port}", n, n, n,
			 n, n, n);
		snprintf(want, sizeof(want), "%s|%s|%s|%lld|%lld|%u", name, jm_get_str(ep, "connectCode"),
			 jm_get_str(ep, "characterName"), (long long)jm_get_int(fs, "stocksRemaining", -1),
			 (long long)jm_get(fs, "percent")->num, port);
		const char *got = render(t, &in);
		TU_EXPECT(!strcmp(got, want), "%s p%zu: '%s' != '%s'", replay, n, got, want);
	}
	const char *stage = render("{stage}", &in);
	TU_EXPECT(!strcmp(stage, jm_get_str(e, "stageName")), "%s: stage '%s'", replay, stage);
	/* the timer at the last frame: the limit minus the frames since frame 0, whole seconds */
	long long left =
		jm_get_int(e, "startingTimerSeconds", 0) * 60 - jm_get_int(jm_get(e, "frames"), "lastInStream", 0);
	char want[32];
	snprintf(want, sizeof(want), "%lld:%02lld", left / 60 / 60, left / 60 % 60);
	const char *timer = render("{timer}", &in);
	TU_EXPECT(!strcmp(timer, want), "%s: timer '%s' != '%s'", replay, timer, want);
	unplay(p);
}

static void test_every_placeholder_at_the_end_of_real_games(void **state)
{
	(void)state;
	check_final("v3.14.0.slp");                    /* display names and codes, ports 1-2 */
	check_final("200306_2258_Falco_v_Fox_PS.slp"); /* ports 2 and 4, a nametag, no name: the character */
	check_final("doubles.slp");                    /* four players */
	check_final("sheik_vs_ics_yoshis.slp");        /* Sheik from a Zelda Game Start */
	check_final("unranked_game1.slp");
	TU_EXPECT_NO_FAILURES();
}

/* At each stock lost the text shows the player's new stock count and 0% (the new stock), the other's as they are. */
static void test_after_each_stock_lost(void **state)
{
	(void)state;
	struct played *p = play("v3.14.0.slp", NULL, 0);
	assert_int_equal(p->n_stock, 7); /* 4 + 3: expected.json's final stocks 1 and 0 */
	for (size_t k = 0; k < p->n_stock; k++) {
		struct overlay_text_input in;
		overlay_text_input_init(&in);
		in.game = &p->at_stock[k];
		const struct slp_game_event *ev = &p->stock_ev[k];
		char t[32], want[32];
		snprintf(t, sizeof(t), "{p%d.stocks} {p%d.percent}", ev->player_index + 1, ev->player_index + 1);
		snprintf(want, sizeof(want), "%u %d", ev->stocks_remaining,
			 (int)p->at_stock[k].players[ev->player_index].percent);
		assert_string_equal(render(t, &in), want);
		/* the timer of that frame */
		long long left = 480 * 60 - ev->frame;
		snprintf(want, sizeof(want), "%lld:%02lld", left / 3600, left / 60 % 60);
		assert_string_equal(render("{timer}", &in), want);
	}
	unplay(p);
}

static void test_timer_counts_like_the_game(void **state)
{
	(void)state;
	struct played *p = play("v3.14.0.slp", NULL, 0);
	struct overlay_text_input in;
	overlay_text_input_init(&in);
	in.game = &p->before_zero;
	assert_string_equal(render("{timer}", &in), "8:00"); /* frames before 0: the timer has not started */
	struct game_snapshot g = p->final;
	in.game = &g;
	g.timer_remaining_frames = 480 * 60 - 1; /* one frame in: the game shows 7:59.98 */
	assert_string_equal(render("{timer}", &in), "7:59");
	g.timer_remaining_frames = 61;
	assert_string_equal(render("{timer}", &in), "0:01");
	g.timer_remaining_frames = 59;
	assert_string_equal(render("{timer}", &in), "0:00");
	g.timer_seconds = 0; /* no time limit: it counts up */
	g.frame = 3 * 3600 + 5 * 60 + 59;
	assert_string_equal(render("{timer}", &in), "3:05");
	g.frame = 600 * 60;
	assert_string_equal(render("{timer}", &in), "10:00");
	unplay(p);
}

static void test_ports_and_pins(void **state)
{
	(void)state;
	struct played *p = play("200306_2258_Falco_v_Fox_PS.slp", NULL, 0); /* ports 2 and 4 */
	struct overlay_text_input in;
	overlay_text_input_init(&in);
	in.game = &p->final;
	const char *t = "{p1.port}:{p1.character} {p2.port}:{p2.character} [{p3.port}{p3.name}{p4.stocks}]";
	assert_string_equal(render(t, &in), "2:Falco 4:Fox []");
	in.pins[0] = 4; /* p1 pinned to port 4: p2 takes the lowest other port */
	assert_string_equal(render(t, &in), "4:Fox 2:Falco []");
	in.pins[0] = 0;
	in.pins[1] = 2; /* p2 pinned to port 2: p1 takes port 4 */
	assert_string_equal(render(t, &in), "4:Fox 2:Falco []");
	in.pins[1] = 1; /* pinned to an empty port: nothing, and p1 still the lowest */
	assert_string_equal(render(t, &in), "2:Falco : [4Fox]");
	assert_int_equal(overlay_text_port_of(&in, 2), 0);
	assert_int_equal(overlay_text_port_of(&in, 5), 0);
	unplay(p);
}

static void test_name_falls_back_to_code_then_character(void **state)
{
	(void)state;
	struct played *p = play("unranked_game1.slp", NULL, 0);
	struct overlay_text_input in;
	overlay_text_input_init(&in);
	struct game_snapshot g = p->final;
	in.game = &g;
	assert_string_equal(render("{p1.name}/{p2.name}", &in), "Nikki Dev1/Nikki Dev2");
	g.players[0].display_name[0] = 0;
	assert_string_equal(render("{p1.name}", &in), "NIKK#513");
	snprintf(g.players[0].nametag, sizeof(g.players[0].nametag), "TAG");
	assert_string_equal(render("{p1.name}", &in), "TAG"); /* the name tag comes before the code */
	g.players[0].nametag[0] = 0;
	g.players[0].connect_code[0] = 0;
	assert_string_equal(render("{p1.name}|{p1.code}", &in), "Falco|");
	unplay(p);
}

static void test_score_game_console(void **state)
{
	(void)state;
	struct played *p = play("v3.14.0.slp", NULL, 0);
	struct overlay_text_input in;
	overlay_text_input_init(&in);
	in.game = &p->final;
	const char *t = "{p1.score}-{p2.score} game {game} on {console}";
	assert_string_equal(render(t, &in), "- game  on ");
	in.scores[0] = 2;
	in.scores[1] = 1;
	in.game_number = 4;
	in.console = "Setup 1";
	assert_string_equal(render(t, &in), "2-1 game 4 on Setup 1");
	in.game = NULL; /* no game: game placeholders are empty, {game} and {console} stay */
	assert_string_equal(render("[{p1.name}{stage}{timer}{p1.score}] {game} {console}", &in), "[] 4 Setup 1");
	unplay(p);
}

static void test_shift_jis_names_with_full_width_characters(void **state)
{
	(void)state;
	/* マリオ＃１ in Shift-JIS (katakana and a full-width hash and digit), as Melee stores a display name */
	const uint8_t sjis[] = {0x83, 0x7D, 0x83, 0x8A, 0x83, 0x49, 0x81, 0x94, 0x82, 0x50};
	struct played *p = play("unranked_game1.slp", sjis, sizeof(sjis));
	struct overlay_text_input in;
	overlay_text_input_init(&in);
	in.game = &p->final;
	/* katakana stay full-width; the full-width ASCII forms become ASCII, as the Slippi tools show them */
	const char *want = "\xE3\x83\x9E\xE3\x83\xAA\xE3\x82\xAA#1";
	assert_string_equal(render("{p1.name}", &in), want);
	/* the real connect code is stored with a full-width hash: ASCII here */
	assert_string_equal(render("{p1.code}", &in), "NIKK#513");
	/* an output too small for the whole name is cut before the character that does not fit, never inside it */
	char out[8];
	assert_int_equal(overlay_text_render("{p1.name}", &in, out, sizeof(out)), 6);
	assert_string_equal(out, "\xE3\x83\x9E\xE3\x83\xAA");
	assert_int_equal(overlay_text_render("ab{p1.name}", &in, out, 6), 5);
	assert_string_equal(out, "ab\xE3\x83\x9E");
	assert_int_equal(overlay_text_render("{p1.name}", &in, out, 3), 0);
	assert_string_equal(out, "");
	/* a literal full-width text in the template is cut the same way */
	assert_int_equal(overlay_text_render("\xEF\xBC\xA1\xEF\xBC\xA1", &in, out, 6), 3);
	assert_string_equal(out, "\xEF\xBC\xA1");
	unplay(p);
}

static void test_bad_templates_stay_as_typed(void **state)
{
	(void)state;
	struct played *p = play("v3.14.0.slp", NULL, 0);
	struct overlay_text_input in;
	overlay_text_input_init(&in);
	in.game = &p->final;
	assert_string_equal(render("", &in), "");
	assert_string_equal(render("plain text", &in), "plain text");
	assert_string_equal(render("{p1.name", &in), "{p1.name"); /* unclosed */
	assert_string_equal(render("{", &in), "{");
	assert_string_equal(render("}{", &in), "}{");
	assert_string_equal(render("{}", &in), "{}");
	assert_string_equal(render("{p5.name} {p0.port} {p1.nope} {P1.name} {p1.name }", &in),
			    "{p5.name} {p0.port} {p1.nope} {P1.name} {p1.name }"); /* unknown: as typed */
	assert_string_equal(render("{{p1.port}}", &in), "{1}");                    /* a brace before a placeholder */
	assert_string_equal(render("{p1.port{p2.port}", &in), "{p1.port2");
	assert_string_equal(render("{stage}{stage", &in), "Dream Land N64{stage");
	/* a name longer than any placeholder is text, however it ends */
	char longname[64];
	memset(longname, 'x', sizeof(longname));
	longname[0] = '{';
	longname[40] = '}';
	longname[41] = 0;
	assert_string_equal(render(longname, &in), longname);
	assert_string_equal(render(NULL, &in), "");
	unplay(p);
}

static void test_huge_templates_are_bounded(void **state)
{
	(void)state;
	struct played *p = play("v3.14.0.slp", NULL, 0);
	struct overlay_text_input in;
	overlay_text_input_init(&in);
	in.game = &p->final;
	/* 1 MiB of placeholders: only the first OVERLAY_TEXT_MAX_TEMPLATE bytes are read, the output fits its buffer */
	size_t big = 1u << 20;
	char *t = malloc(big + 1);
	assert_non_null(t);
	for (size_t i = 0; i < big; i += 11)
		memcpy(t + i, "{p1.name}  ", big - i < 11 ? big - i : 11);
	t[big] = 0;
	char *out = malloc(big);
	assert_non_null(out);
	size_t n = overlay_text_render(t, &in, out, big);
	/* 8192 / 11 = 744 whole placeholders of "abcdefghijklmno  " (17 bytes), then 8 bytes of an unclosed one */
	assert_int_equal(n, 744 * 17 + 8);
	assert_int_equal(strlen(out), n);
	/* an unclosed brace followed by a megabyte of text: bounded work, the text as typed up to the limit */
	memset(t, 'y', big);
	t[0] = '{';
	t[big] = 0;
	n = overlay_text_render(t, &in, out, big);
	assert_int_equal(n, OVERLAY_TEXT_MAX_TEMPLATE);
	/* a small buffer: cut, terminated */
	char small[5];
	assert_int_equal(overlay_text_render("{stage}", &in, small, sizeof(small)), 4);
	assert_string_equal(small, "Drea");
	assert_int_equal(overlay_text_render("{stage}", &in, small, 1), 0);
	assert_string_equal(small, "");
	free(out);
	free(t);
	unplay(p);
}

static void test_name_tables(void **state)
{
	(void)state;
	/* every character and stage of expected.json, as slippi-js names them */
	const char *names[TU_MAX_REPLAYS];
	size_t n = tu_replay_names(names);
	for (size_t i = 0; i < n; i++) {
		const struct jm_value *e = tu_expected_file(names[i]);
		const char *stage = jm_get_str(e, "stageName");
		const char *ours = melee_stage_name((unsigned)jm_get_int(e, "stageId", 0));
		TU_EXPECT(stage && ours && !strcmp(stage, ours), "%s: stage %s / %s", names[i], stage, ours);
		const struct jm_value *players = jm_get(e, "players");
		for (size_t k = 0; players && k < players->count; k++) {
			const struct jm_value *pl = jm_at(players, k);
			const char *c = melee_character_name((unsigned)jm_get_int(pl, "characterId", 99));
			TU_EXPECT(c && !strcmp(c, jm_get_str(pl, "characterName")), "%s: character %s / %s", names[i],
				  c, jm_get_str(pl, "characterName"));
		}
	}
	TU_EXPECT_NO_FAILURES();
	assert_string_equal(melee_character_name(0), "Captain Falcon");
	assert_string_equal(melee_character_name(32), "Popo");
	assert_null(melee_character_name(33));
	assert_null(melee_stage_name(0));
	assert_null(melee_stage_name(21));
	assert_string_equal(melee_stage_name(84), "Home-Run Contest");
	assert_null(melee_stage_name(85));
	assert_null(melee_stage_name(65535));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_placeholder_at_the_end_of_real_games),
		cmocka_unit_test(test_after_each_stock_lost),
		cmocka_unit_test(test_timer_counts_like_the_game),
		cmocka_unit_test(test_ports_and_pins),
		cmocka_unit_test(test_name_falls_back_to_code_then_character),
		cmocka_unit_test(test_score_game_console),
		cmocka_unit_test(test_shift_jis_names_with_full_width_characters),
		cmocka_unit_test(test_bad_templates_stay_as_typed),
		cmocka_unit_test(test_huge_templates_are_bounded),
		cmocka_unit_test(test_name_tables),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
