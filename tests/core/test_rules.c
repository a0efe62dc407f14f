/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Automation rules: their JSON (round trip, every kind of bad input) and which rules the real replays' events make
 * due, with the default rules and with each condition. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rules.h"
#include "slp_game.h"
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the notes of a replay, as the engine makes them ---- */

#define MAX_NOTES 256

struct note {
	char type[24];
	char *json;
};

struct notes {
	struct slp_game game;
	struct note n[MAX_NOTES];
	size_t count;
};

static void on_event(void *ud, const struct slp_game_event *ev)
{
	struct notes *ns = ud;
	if (ev->type == SLP_GAME_EVENT_FRAME || ns->count == MAX_NOTES)
		return;
	struct bytes b;
	bytes_init(&b, 0);
	assert_true(slp_game_event_to_json(ev, &b));
	assert_true(bytes_append_byte(&b, 0));
	struct note *n = &ns->n[ns->count++];
	snprintf(n->type, sizeof(n->type), "%s", slp_game_event_name(ev->type));
	n->json = strdup((const char *)b.data);
	bytes_free(&b);
}

static int feed(void *ud, const struct slp_event *ev)
{
	struct notes *ns = ud;
	slp_game_handle(&ns->game, ev);
	return 0;
}

static void notes_of(const char *replay, struct notes *ns)
{
	memset(ns, 0, sizeof(*ns));
	struct bytes file;
	assert_true(tu_read_replay(replay, &file));
	const uint8_t *ev;
	size_t len;
	assert_true(tu_events(&file, &ev, &len));
	slp_game_init(&ns->game, on_event, ns);
	struct slp_splitter s;
	slp_splitter_init(&s);
	slp_splitter_feed(&s, ev, len, feed, ns);
	slp_splitter_free(&s);
	slp_game_finish(&ns->game);
	bytes_free(&file);
	assert_true(ns->count >= 2);
}

static void notes_free(struct notes *ns)
{
	for (size_t i = 0; i < ns->count; i++)
		free(ns->n[i].json);
}

/* How many times each rule of s is due over the notes (counts[i] for rule i), through one context. */
static void run_rules(const struct rules_set *s, const struct notes *ns, size_t *counts)
{
	struct rules_context ctx;
	rules_context_init(&ctx);
	memset(counts, 0, s->n * sizeof(*counts));
	for (size_t i = 0; i < ns->count; i++) {
		struct rules_trigger t;
		if (!rules_trigger_from_note(&ctx, ns->n[i].type, ns->n[i].json, strlen(ns->n[i].json), &t))
			continue;
		size_t due[RULES_MAX];
		size_t n = rules_match(s, &t, due, RULES_MAX);
		for (size_t k = 0; k < n; k++)
			counts[due[k]]++;
	}
}

static size_t count_type(const struct notes *ns, const char *type, const char *needle)
{
	size_t n = 0;
	for (size_t i = 0; i < ns->count; i++)
		n += !strcmp(ns->n[i].type, type) && (!needle || strstr(ns->n[i].json, needle));
	return n;
}

static void parse_ok(struct rules_set *s, const char *json)
{
	char err[256] = "";
	int rc = rules_parse(s, json, strlen(json), err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, "rules_parse(%s): %s\n", json, err);
	assert_int_equal(rc, 0);
}

static char *write_json(const struct rules_set *s)
{
	struct bytes b;
	bytes_init(&b, 0);
	struct json_writer jw;
	jw_init(&jw, &b);
	jw_object_begin(&jw, NULL);
	rules_write(s, &jw);
	jw_object_end(&jw);
	assert_true(jw.ok);
	assert_true(bytes_append_byte(&b, 0));
	char *text = strdup((const char *)b.data);
	bytes_free(&b);
	return text;
}

/* ---- JSON ---- */

static void test_rules_defaults_round_trip(void **state)
{
	(void)state;
	struct rules_set s, back;
	rules_set_init(&s);
	rules_set_init(&back);
	assert_true(rules_set_defaults(&s));
	assert_int_equal(s.n, 2);
	char *text = write_json(&s);
	assert_string_equal(text,
			    "{\"rules\":[{\"event\":\"game_start\",\"action\":\"switch_scene\",\"scene\":\"Game\","
			    "\"delayMs\":0,\"enabled\":true,\"optional\":true},{\"event\":\"game_end\","
			    "\"endMethods\":\"game,time\",\"action\":\"switch_scene\",\"scene\":"
			    "\"Between games\",\"delayMs\":3000,\"enabled\":true,\"optional\":true}],"
			    "\"recordGames\":{\"enabled\":false,\"stopAfterMs\":5000}}");
	parse_ok(&back, text);
	char *again = write_json(&back);
	assert_string_equal(text, again);
	free(text);
	free(again);
	rules_set_free(&s);
	rules_set_free(&back);
}

static void test_rules_every_field_round_trips(void **state)
{
	(void)state;
	const char *in =
		"{\"id\":3,\"rules\":["
		"{\"event\":\"combo\",\"port\":2,\"connectCode\":\"ABC#123\",\"character\":20,\"minDamage\":40.5,"
		"\"kill\":true,\"action\":\"save_replay_buffer\",\"delayMs\":1500,\"enabled\":false},"
		"{\"event\":\"menus\",\"seconds\":30,\"action\":\"set_text_template\",\"source\":\"Score\","
		"\"template\":\"{p1.name} \\u00e9 {p2.name}\"},"
		"{\"event\":\"last_stock\",\"action\":\"show_source\",\"scene\":\"Game\",\"source\":\"Cam\"},"
		"{\"event\":\"connection_lost\",\"action\":\"switch_scene\",\"scene\":\"BRB\",\"toPreview\":true},"
		"{\"event\":\"set_end\",\"action\":\"stop_recording\"}],"
		"\"recordGames\":{\"enabled\":true,\"stopAfterMs\":2000}}";
	struct rules_set s, back;
	rules_set_init(&s);
	rules_set_init(&back);
	parse_ok(&s, in);
	assert_int_equal(s.n, 5);
	assert_true(s.record_games);
	assert_int_equal(s.record_stop_ms, 2000);
	assert_int_equal(s.rules[0].event, RULE_EVENT_COMBO);
	assert_int_equal(s.rules[0].port, 2);
	assert_string_equal(s.rules[0].connect_code, "ABC#123");
	assert_int_equal(s.rules[0].character, 20);
	assert_true(s.rules[0].min_damage > 40.4 && s.rules[0].min_damage < 40.6);
	assert_true(s.rules[0].kill);
	assert_false(s.rules[0].enabled);
	assert_int_equal(s.rules[0].delay_ms, 1500);
	assert_string_equal(s.rules[1].template_text, "{p1.name} \xc3\xa9 {p2.name}");
	assert_int_equal(s.rules[1].seconds, 30);
	assert_true(s.rules[3].to_preview);
	char *text = write_json(&s);
	parse_ok(&back, text);
	char *again = write_json(&back);
	assert_string_equal(text, again);
	assert_int_equal(memcmp(s.rules, back.rules, s.n * sizeof(*s.rules)), 0);
	free(text);
	free(again);
	rules_set_free(&s);
	rules_set_free(&back);
}

static void test_rules_bad_input_is_refused_with_a_reason(void **state)
{
	(void)state;
	static const struct {
		const char *json;
		const char *error;
	} cases[] = {
		{"", "not JSON"},
		{"[1,2]", "rules is required"},
		{"{\"rules\":{}}", "rules is required"},
		{"{\"rules\":[1]}", "rules[0]: must be an object"},
		{"{\"rules\":[{}]}", "rules[0]: event is required"},
		{"{\"rules\":[{\"event\":\"game_start\"}]}", "action is required"},
		{"{\"rules\":[{\"event\":\"gamestart\",\"action\":\"stop_recording\"}]}", "event must be one of"},
		{"{\"rules\":[{\"event\":\"game_start\",\"action\":\"explode\"}]}", "action must be one of"},
		{"{\"rules\":[{\"event\":\"game_start\",\"action\":\"switch_scene\"}]}", "scene is required"},
		{"{\"rules\":[{\"event\":\"game_start\",\"action\":\"switch_scene\",\"scene\":\"\"}]}",
		 "scene is required"},
		{"{\"rules\":[{\"event\":\"game_start\",\"action\":\"show_source\",\"scene\":\"A\"}]}",
		 "source is required"},
		{"{\"rules\":[{\"event\":\"game_start\",\"action\":\"set_text_template\",\"source\":\"T\"}]}",
		 "template is required"},
		{"{\"rules\":[{\"event\":\"game_start\",\"action\":\"stop_recording\",\"scene\":\"A\"}]}",
		 "takes no scene"},
		{"{\"rules\":[{\"event\":\"game_start\",\"action\":\"stop_recording\",\"colour\":1}]}",
		 "rules[0]: unknown field 'colour'"},
		{"{\"rules\":[{\"event\":\"game_start\",\"action\":\"stop_recording\",\"delayMs\":-1}]}",
		 "delayMs must be from 0"},
		{"{\"rules\":[{\"event\":\"game_start\",\"action\":\"stop_recording\",\"delayMs\":1.5}]}",
		 "delayMs must be a whole number"},
		{"{\"rules\":[{\"event\":\"game_start\",\"action\":\"stop_recording\",\"delayMs\":\"3\"}]}",
		 "delayMs must be a whole number"},
		{"{\"rules\":[{\"event\":\"game_start\",\"action\":\"stop_recording\",\"delayMs\":3600001}]}",
		 "delayMs must be from 0 to 3600000"},
		{"{\"rules\":[{\"event\":\"game_start\",\"action\":\"stop_recording\",\"port\":5}]}",
		 "port must be from 1"},
		{"{\"rules\":[{\"event\":\"set_end\",\"action\":\"stop_recording\",\"port\":1}]}",
		 "not conditions of set_end"},
		{"{\"rules\":[{\"event\":\"game_end\",\"action\":\"stop_recording\",\"minDamage\":10}]}",
		 "conditions of combo only"},
		{"{\"rules\":[{\"event\":\"combo\",\"action\":\"stop_recording\",\"minDamage\":-1}]}",
		 "minDamage must be a number"},
		{"{\"rules\":[{\"event\":\"combo\",\"action\":\"stop_recording\",\"endMethods\":\"game\"}]}",
		 "endMethods is a condition of game_end only"},
		{"{\"rules\":[{\"event\":\"game_end\",\"action\":\"stop_recording\",\"endMethods\":\"game,lras\"}]}",
		 "endMethods takes a comma-separated list of game, time, quit, incomplete, other, not 'lras'"},
		{"{\"rules\":[{\"event\":\"game_end\",\"action\":\"stop_recording\",\"endMethods\":\" , \"}]}",
		 "must not be empty"},
		{"{\"rules\":[{\"event\":\"menus\",\"action\":\"stop_recording\"}]}", "seconds is required for menus"},
		{"{\"rules\":[{\"event\":\"menus\",\"seconds\":0,\"action\":\"stop_recording\"}]}",
		 "seconds must be from 1"},
		{"{\"rules\":[{\"event\":\"game_start\",\"seconds\":5,\"action\":\"stop_recording\"}]}",
		 "seconds is for menus only"},
		{"{\"rules\":[{\"event\":\"game_start\",\"action\":\"switch_scene\",\"scene\":\"a\\u0000b\"}]}",
		 "must not hold a NUL"},
		{"{\"rules\":[{\"event\":\"game_start\",\"action\":\"stop_recording\",\"toPreview\":true}]}",
		 "toPreview is for switch_scene only"},
		{"{\"rules\":[{\"event\":\"game_start\",\"action\":\"stop_recording\",\"enabled\":1}]}",
		 "enabled must be true or false"},
		{"{\"rules\":[],\"recordGames\":true}", "recordGames must be an object"},
		{"{\"rules\":[],\"recordGames\":{\"stopAfterMs\":-5}}", "recordGames takes"},
		{"{\"rules\":[{\"event\":\"game_start\",\"action\":\"stop_recording\"},{\"event\":\"combo\"}]}",
		 "rules[1]: action is required"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rules_set s;
		rules_set_init(&s);
		assert_true(rules_set_defaults(&s));
		char err[256] = "";
		int rc = rules_parse(&s, cases[i].json, strlen(cases[i].json), err, sizeof(err));
		if (rc == 0 || !strstr(err, cases[i].error))
			fprintf(stderr, "case %zu %s: rc %d, error '%s', want '%s'\n", i, cases[i].json, rc, err,
				cases[i].error);
		assert_int_equal(rc, -1);
		assert_non_null(strstr(err, cases[i].error));
		assert_int_equal(s.n, 2); /* untouched */
		assert_string_equal(s.rules[1].scene, "Between games");
		rules_set_free(&s);
	}

	/* a long name, and too many rules */
	char big[RULES_NAME_MAX + 100];
	int n = snprintf(big, sizeof(big),
			 "{\"rules\":[{\"event\":\"game_start\",\"action\":\"switch_scene\",\"scene\":\"");
	memset(big + n, 'x', RULES_NAME_MAX);
	snprintf(big + n + RULES_NAME_MAX, sizeof(big) - (size_t)n - RULES_NAME_MAX, "\"}]}");
	struct rules_set s;
	rules_set_init(&s);
	char err[256];
	assert_int_equal(rules_parse(&s, big, strlen(big), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "scene is longer than 255 bytes"));
	size_t cap = 64 + (RULES_MAX + 1) * 64;
	char *many = malloc(cap);
	size_t len = (size_t)snprintf(many, cap, "{\"rules\":[");
	for (int i = 0; i <= RULES_MAX; i++)
		len += (size_t)snprintf(many + len, cap - len, "%s{\"event\":\"combo\",\"action\":\"stop_recording\"}",
					i ? "," : "");
	len += (size_t)snprintf(many + len, cap - len, "]}");
	assert_int_equal(rules_parse(&s, many, len, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "at most 64 rules"));
	free(many);
	rules_set_free(&s);
}

/* ---- matching on the real replays ---- */

/* The default rules: game start -> "Game" once a game; game end -> "Between games" for GAME!, not a quit-out. */
static void test_rules_defaults_on_real_games(void **state)
{
	(void)state;
	static const struct {
		const char *replay;
		size_t between; /* how many times the game_end rule is due */
	} cases[] = {
		{"v3.13.slp", 1},          /* GAME! */
		{"v3.14.0.slp", 1},        /* GAME! */
		{"doubles.slp", 1},        /* RESOLVED (before 2.0): a game that ended */
		{"unranked_game1.slp", 0}, /* L+R+A+Start: a quit-out */
		{"realtimeTest.slp", 0},   /* a quit-out */
		{"incomplete.slp", 0},     /* no Game End */
	};
	struct rules_set s;
	rules_set_init(&s);
	assert_true(rules_set_defaults(&s));
	/* and a third rule for quit-outs only */
	struct rules_set quit;
	rules_set_init(&quit);
	parse_ok(&quit, "{\"rules\":[{\"event\":\"game_end\",\"endMethods\":\"quit\",\"action\":\"stop_recording\"}]}");
	struct rule *all = realloc(s.rules, 3 * sizeof(*all));
	assert_non_null(all);
	s.rules = all;
	s.rules[s.n++] = quit.rules[0];
	rules_set_free(&quit);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct notes ns;
		notes_of(cases[i].replay, &ns);
		size_t counts[3];
		run_rules(&s, &ns, counts);
		bool quits = !cases[i].between && strcmp(cases[i].replay, "incomplete.slp");
		if (counts[0] != 1 || counts[1] != cases[i].between || counts[2] != quits)
			fprintf(stderr, "%s: game rule %zu, between rule %zu, quit rule %zu\n", cases[i].replay,
				counts[0], counts[1], counts[2]);
		assert_int_equal(counts[0], 1);
		assert_int_equal(counts[1], cases[i].between);
		assert_int_equal(counts[2], quits);
		notes_free(&ns);
	}
	rules_set_free(&s);
}

/* Each condition against what the replay's own events say. */
static void test_rules_conditions_on_real_events(void **state)
{
	(void)state;
	struct notes ns;
	notes_of("v3.14.0.slp", &ns);
	/* who played: from the game_start note */
	struct rules_context ctx;
	rules_context_init(&ctx);
	struct rules_trigger t;
	assert_true(rules_trigger_from_note(&ctx, "game_start", ns.n[0].json, strlen(ns.n[0].json), &t));
	assert_int_equal(t.n_subjects, 2);
	const struct rules_subject p1 = t.subjects[0], p2 = t.subjects[1];
	assert_true(p1.connect_code[0] && p2.connect_code[0]);
	assert_true(p1.character != p2.character);

	char rules[4096];
	snprintf(rules, sizeof(rules),
		 "{\"rules\":["
		 "{\"event\":\"stock_lost\",\"port\":%d,\"action\":\"stop_recording\"},"
		 "{\"event\":\"stock_lost\",\"port\":%d,\"action\":\"stop_recording\"},"
		 "{\"event\":\"last_stock\",\"action\":\"stop_recording\"},"
		 "{\"event\":\"game_start\",\"character\":%d,\"action\":\"stop_recording\"},"
		 "{\"event\":\"game_start\",\"character\":%d,\"connectCode\":\"%s\",\"action\":\"stop_recording\"},"
		 "{\"event\":\"stock_lost\",\"connectCode\":\"%s\",\"action\":\"stop_recording\"},"
		 "{\"event\":\"game_end\",\"endMethods\":\"quit, time\",\"action\":\"stop_recording\"},"
		 "{\"event\":\"game_end\",\"action\":\"stop_recording\"},"
		 "{\"event\":\"stock_lost\",\"action\":\"stop_recording\",\"enabled\":false}]}",
		 p1.port, p2.port, p1.character, p1.character, p2.connect_code, p2.connect_code);
	struct rules_set s;
	rules_set_init(&s);
	parse_ok(&s, rules);
	size_t counts[9];
	run_rules(&s, &ns, counts);
	char port1[32], port2[32];
	snprintf(port1, sizeof(port1), "\"port\":%d,", p1.port);
	snprintf(port2, sizeof(port2), "\"port\":%d,", p2.port);
	size_t lost1 = count_type(&ns, "stock_lost", port1), lost2 = count_type(&ns, "stock_lost", port2);
	fprintf(stderr, "v3.14.0: P%d %s lost %zu, P%d %s lost %zu, last stocks %zu\n", p1.port, p1.connect_code, lost1,
		p2.port, p2.connect_code, lost2, counts[2]);
	assert_true(lost1 + lost2 > 0);
	assert_int_equal(counts[0], lost1);
	assert_int_equal(counts[1], lost2);
	assert_int_equal(counts[2], count_type(&ns, "stock_lost", "\"stocksRemaining\":1,"));
	assert_int_equal(counts[3], 1); /* p1's character played */
	assert_int_equal(counts[4], 0); /* p1's character, but p2's code: nobody is both */
	assert_int_equal(counts[5], lost2);
	assert_int_equal(counts[6], 0); /* it ended with GAME!, neither a quit-out nor time */
	assert_int_equal(counts[7], 1);
	assert_int_equal(counts[8], 0);
	rules_set_free(&s);
	notes_free(&ns);
}

/* Combos in the form of docs/events.md: at least X%, a kill, or either. */
static void test_rules_combo_damage_or_kill(void **state)
{
	(void)state;
	struct rules_set s;
	rules_set_init(&s);
	parse_ok(&s, "{\"rules\":["
		     "{\"event\":\"combo\",\"minDamage\":40,\"kill\":true,\"action\":\"save_replay_buffer\"},"
		     "{\"event\":\"combo\",\"minDamage\":40,\"action\":\"save_replay_buffer\"},"
		     "{\"event\":\"combo\",\"kill\":true,\"action\":\"save_replay_buffer\"},"
		     "{\"event\":\"combo\",\"port\":1,\"action\":\"save_replay_buffer\"}]}");
	static const struct {
		const char *json;
		bool due[4];
	} cases[] = {
		{"{\"type\":\"combo\",\"frame\":900,\"playerIndex\":1,\"port\":2,\"attacker\":{\"playerIndex\":0,\"port\":1},"
		 "\"damage\":52.3,\"hits\":6,\"didKill\":false}",
		 {true, true, false, true}},
		{"{\"type\":\"combo\",\"frame\":900,\"playerIndex\":0,\"port\":1,\"attacker\":{\"playerIndex\":1,\"port\":2},"
		 "\"damage\":12,\"hits\":2,\"didKill\":true}",
		 {true, false, true, false}},
		{"{\"type\":\"combo\",\"frame\":900,\"playerIndex\":0,\"port\":1,\"attacker\":{\"playerIndex\":1,\"port\":2},"
		 "\"damage\":39.9,\"hits\":4,\"didKill\":false}",
		 {false, false, false, false}},
	};
	struct rules_context ctx;
	rules_context_init(&ctx);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rules_trigger t;
		assert_true(rules_trigger_from_note(&ctx, "combo", cases[i].json, strlen(cases[i].json), &t));
		for (size_t r = 0; r < 4; r++)
			assert_int_equal(rules_match_one(&s.rules[r], &t), cases[i].due[r]);
	}
	rules_set_free(&s);
}

/* The combo events of a real game: the rule "at least 40% or a kill" is due for exactly the combos that say so, the
 * attacker's port condition for that player's combos. */
static void test_rules_combo_rule_on_real_combos(void **state)
{
	(void)state;
	struct notes ns;
	notes_of("sheik_vs_ics_yoshis.slp", &ns);
	size_t combos = 0, qualifying = 0, by_p1 = 0;
	for (size_t i = 0; i < ns.count; i++) {
		if (strcmp(ns.n[i].type, "combo"))
			continue;
		char err[128];
		struct jm_value *doc = jm_parse(ns.n[i].json, strlen(ns.n[i].json), err, sizeof(err));
		assert_non_null(doc);
		const struct jm_value *damage = jm_get(doc, "damage"), *kill = jm_get(doc, "didKill");
		const struct jm_value *attacker = jm_get(doc, "attacker");
		assert_non_null(damage);
		assert_non_null(kill);
		combos++;
		qualifying += damage->num >= 40 || kill->b;
		by_p1 += jm_get_int(attacker, "port", 0) == 1;
		jm_free(doc);
	}
	fprintf(stderr, "sheik_vs_ics_yoshis: %zu combos, %zu of 40%% or a kill, %zu by port 1\n", combos, qualifying,
		by_p1);
	assert_true(combos > 0 && qualifying > 0 && qualifying < combos);
	struct rules_set s;
	rules_set_init(&s);
	parse_ok(&s,
		 "{\"rules\":[{\"event\":\"combo\",\"minDamage\":40,\"kill\":true,\"action\":\"save_replay_buffer\"},"
		 "{\"event\":\"combo\",\"port\":1,\"action\":\"save_replay_buffer\"}]}");
	size_t counts[2];
	run_rules(&s, &ns, counts);
	assert_int_equal(counts[0], qualifying);
	assert_int_equal(counts[1], by_p1);
	rules_set_free(&s);
	notes_free(&ns);
}

/* The link: lost once it was connected, back when it connects again; the first connect is neither. */
static void test_rules_connection_lost_and_back(void **state)
{
	(void)state;
	struct rules_set s;
	rules_set_init(&s);
	parse_ok(&s, "{\"rules\":[{\"event\":\"connection_lost\",\"action\":\"stop_recording\"},"
		     "{\"event\":\"connection_back\",\"action\":\"start_recording\"}]}");
	static const char *const states[] = {"connecting", "connected", "waiting",   "connecting",
					     "waiting",    "connected", "connected", "disconnected"};
	static const int want[] = {-1, -1, 0, -1, -1, 1, -1, 0}; /* the rule due, -1 none */
	struct rules_context ctx;
	rules_context_init(&ctx);
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		char json[128];
		snprintf(json, sizeof(json), "{\"type\":\"connection\",\"source\":\"console://x\",\"state\":\"%s\"}",
			 states[i]);
		struct rules_trigger t;
		bool any = rules_trigger_from_note(&ctx, "connection", json, strlen(json), &t);
		size_t due[2];
		size_t n = any ? rules_match(&s, &t, due, 2) : 0;
		assert_int_equal(n, want[i] >= 0 ? 1 : 0);
		if (n)
			assert_int_equal(due[0], (size_t)want[i]);
	}
	/* notes that trigger nothing */
	struct rules_trigger t;
	assert_false(rules_trigger_from_note(&ctx, "gap", "{\"type\":\"gap\"}", 15, &t));
	assert_false(rules_trigger_from_note(&ctx, "game_start", "{\"type\":", 8, &t));
	rules_set_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules_defaults_round_trip),
		cmocka_unit_test(test_rules_every_field_round_trips),
		cmocka_unit_test(test_rules_bad_input_is_refused_with_a_reason),
		cmocka_unit_test(test_rules_defaults_on_real_games),
		cmocka_unit_test(test_rules_conditions_on_real_events),
		cmocka_unit_test(test_rules_combo_damage_or_kill),
		cmocka_unit_test(test_rules_combo_rule_on_real_combos),
		cmocka_unit_test(test_rules_connection_lost_and_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
