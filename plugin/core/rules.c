/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Automation rules: JSON in and out, and which rules a game note makes due (rules.h). */
#include "rules.h"

#include "json_reader.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const event_names[RULE_EVENT_COUNT] = {
	[RULE_EVENT_GAME_START] = "game_start",
	[RULE_EVENT_GAME_END] = "game_end",
	[RULE_EVENT_STOCK_LOST] = "stock_lost",
	[RULE_EVENT_LAST_STOCK] = "last_stock",
	[RULE_EVENT_COMBO] = "combo",
	[RULE_EVENT_SET_END] = "set_end",
	[RULE_EVENT_CONNECTION_LOST] = "connection_lost",
	[RULE_EVENT_CONNECTION_BACK] = "connection_back",
	[RULE_EVENT_MENUS] = "menus",
};

static const char *const action_names[RULE_ACTION_COUNT] = {
	[RULE_ACTION_SWITCH_SCENE] = "switch_scene",
	[RULE_ACTION_SHOW_SOURCE] = "show_source",
	[RULE_ACTION_HIDE_SOURCE] = "hide_source",
	[RULE_ACTION_START_RECORDING] = "start_recording",
	[RULE_ACTION_STOP_RECORDING] = "stop_recording",
	[RULE_ACTION_PAUSE_RECORDING] = "pause_recording",
	[RULE_ACTION_UNPAUSE_RECORDING] = "unpause_recording",
	[RULE_ACTION_START_REPLAY_BUFFER] = "start_replay_buffer",
	[RULE_ACTION_STOP_REPLAY_BUFFER] = "stop_replay_buffer",
	[RULE_ACTION_SAVE_REPLAY_BUFFER] = "save_replay_buffer",
	[RULE_ACTION_SET_TEXT_TEMPLATE] = "set_text_template",
};

static const struct {
	const char *name;
	unsigned bit;
} end_method_names[] = {
	{"game", RULE_END_GAME},   {"time", RULE_END_TIME},
	{"quit", RULE_END_QUIT},   {"incomplete", RULE_END_INCOMPLETE},
	{"other", RULE_END_OTHER},
};
#define N_END_METHODS (sizeof(end_method_names) / sizeof(end_method_names[0]))

const char *rule_event_name(enum rule_event e)
{
	return e > RULE_EVENT_NONE && e < RULE_EVENT_COUNT ? event_names[e] : "none";
}

const char *rule_action_name(enum rule_action a)
{
	return a > RULE_ACTION_NONE && a < RULE_ACTION_COUNT ? action_names[a] : "none";
}

bool rule_action_uses_scene(enum rule_action a)
{
	return a == RULE_ACTION_SWITCH_SCENE || a == RULE_ACTION_SHOW_SOURCE || a == RULE_ACTION_HIDE_SOURCE;
}

bool rule_action_uses_source(enum rule_action a)
{
	return a == RULE_ACTION_SHOW_SOURCE || a == RULE_ACTION_HIDE_SOURCE || a == RULE_ACTION_SET_TEXT_TEMPLATE;
}

/* Conditions on the player only make sense for events about players. */
static bool event_has_players(enum rule_event e)
{
	return e == RULE_EVENT_GAME_START || e == RULE_EVENT_GAME_END || e == RULE_EVENT_STOCK_LOST ||
	       e == RULE_EVENT_LAST_STOCK || e == RULE_EVENT_COMBO;
}

static void rule_init(struct rule *r)
{
	memset(r, 0, sizeof(*r));
	r->enabled = true;
	r->character = -1;
	r->min_damage = -1;
}

void rules_set_init(struct rules_set *s)
{
	memset(s, 0, sizeof(*s));
	s->record_stop_ms = 5000;
}

void rules_set_free(struct rules_set *s)
{
	free(s->rules);
	rules_set_init(s);
}

bool rules_set_copy(struct rules_set *dst, const struct rules_set *src)
{
	struct rule *copy = NULL;
	if (src->n) {
		copy = malloc(src->n * sizeof(*copy));
		if (!copy) {
			rules_set_free(dst);
			return false;
		}
		memcpy(copy, src->rules, src->n * sizeof(*copy));
	}
	free(dst->rules);
	*dst = *src;
	dst->rules = copy;
	return true;
}

bool rules_set_defaults(struct rules_set *s)
{
	struct rule *r = calloc(2, sizeof(*r));
	if (!r)
		return false;
	rule_init(&r[0]);
	r[0].optional = true;
	r[0].event = RULE_EVENT_GAME_START;
	r[0].action = RULE_ACTION_SWITCH_SCENE;
	snprintf(r[0].scene, sizeof(r[0].scene), "Game");
	rule_init(&r[1]);
	r[1].optional = true;
	r[1].event = RULE_EVENT_GAME_END;
	r[1].end_methods = RULE_END_GAME | RULE_END_TIME; /* a quit-out is a restart, not the end of a game */
	r[1].action = RULE_ACTION_SWITCH_SCENE;
	snprintf(r[1].scene, sizeof(r[1].scene), "Between games");
	r[1].delay_ms = 3000;
	rules_set_free(s);
	s->rules = r;
	s->n = 2;
	return true;
}

/* ---- reading ---- */

struct reader {
	const struct json_doc *doc;
	char *err;
	size_t err_size;
	size_t index; /* the rule being read */
};

static int fail(struct reader *rd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct reader *rd, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(rd->err, rd->err_size, "rules[%zu]: %s", rd->index, msg);
	return -1;
}

/* A string member into out (size bytes with its NUL): no NUL inside, and it must fit. */
static int read_string(struct reader *rd, const struct json_node *v, const char *key, char *out, size_t size)
{
	if (v->type != JSON_STRING)
		return fail(rd, "%s must be a string", key);
	if (memchr(v->str, 0, v->str_len))
		return fail(rd, "%s must not hold a NUL character", key);
	if (v->str_len >= size)
		return fail(rd, "%s is longer than %zu bytes", key, size - 1);
	memcpy(out, v->str, v->str_len + 1);
	return 0;
}

static int read_bool(struct reader *rd, const struct json_node *v, const char *key, bool *out)
{
	if (v->type != JSON_BOOL)
		return fail(rd, "%s must be true or false", key);
	*out = v->b;
	return 0;
}

/* A whole number from lo to hi. */
static int read_uint(struct reader *rd, const struct json_node *v, const char *key, int64_t lo, int64_t hi,
		     int64_t *out)
{
	double d = v->type == JSON_INT ? (double)v->i : v->type == JSON_DOUBLE ? v->d : NAN;
	if (v->type != JSON_INT && !(v->type == JSON_DOUBLE && d == floor(d)))
		return fail(rd, "%s must be a whole number", key);
	if (d < (double)lo || d > (double)hi)
		return fail(rd, "%s must be from %lld to %lld", key, (long long)lo, (long long)hi);
	*out = v->type == JSON_INT ? v->i : (int64_t)d;
	return 0;
}

/* "game,time": a comma-separated list (a string, as obs_data, and so obs-websocket, cannot carry an array of
 * strings). */
static int read_end_methods(struct reader *rd, const struct json_node *v, unsigned *out)
{
	static const char usage[] = "endMethods takes a comma-separated list of game, time, quit, incomplete, other";
	if (v->type != JSON_STRING)
		return fail(rd, "%s (a string)", usage);
	unsigned bits = 0;
	const char *p = v->str, *end = v->str + v->str_len;
	while (p < end) {
		while (p < end && (*p == ' ' || *p == ','))
			p++;
		const char *w = p;
		while (p < end && *p != ',' && *p != ' ')
			p++;
		if (p == w)
			break;
		size_t k = 0;
		while (k < N_END_METHODS && !((size_t)(p - w) == strlen(end_method_names[k].name) &&
					      !memcmp(w, end_method_names[k].name, (size_t)(p - w))))
			k++;
		if (k == N_END_METHODS)
			return fail(rd, "%s, not '%.*s'", usage, (int)(p - w > 20 ? 20 : p - w), w);
		bits |= end_method_names[k].bit;
	}
	if (!bits)
		return fail(rd, "endMethods must not be empty (leave it out for any method)");
	*out = bits;
	return 0;
}

static enum rule_event event_by_name(const char *s)
{
	for (int e = RULE_EVENT_NONE + 1; e < RULE_EVENT_COUNT; e++)
		if (!strcmp(s, event_names[e]))
			return (enum rule_event)e;
	return RULE_EVENT_NONE;
}

static enum rule_action action_by_name(const char *s)
{
	for (int a = RULE_ACTION_NONE + 1; a < RULE_ACTION_COUNT; a++)
		if (!strcmp(s, action_names[a]))
			return (enum rule_action)a;
	return RULE_ACTION_NONE;
}

/* Which fields a rule had, to check what belongs to its event and action once all are read. */
struct seen {
	bool seconds, port, connect_code, character, min_damage, kill, end_methods, scene, source, template_text,
		to_preview;
};

static int read_member(struct reader *rd, const struct json_node *v, struct rule *r, struct seen *seen)
{
	const char *k = v->key;
	char name[32];
	if (strlen(k) != v->key_len)
		return fail(rd, "unknown field with a NUL in its name");
	int64_t n;
	if (!strcmp(k, "event")) {
		if (v->type != JSON_STRING || v->str_len >= sizeof(name) || (r->event = event_by_name(v->str)) == 0)
			return fail(rd, "event must be one of game_start, game_end, stock_lost, last_stock, combo, "
					"set_end, connection_lost, connection_back, menus");
	} else if (!strcmp(k, "action")) {
		if (v->type != JSON_STRING || v->str_len >= sizeof(name) || (r->action = action_by_name(v->str)) == 0)
			return fail(rd,
				    "action must be one of switch_scene, show_source, hide_source, start_recording, "
				    "stop_recording, pause_recording, unpause_recording, start_replay_buffer, "
				    "stop_replay_buffer, save_replay_buffer, set_text_template");
	} else if (!strcmp(k, "enabled")) {
		return read_bool(rd, v, k, &r->enabled);
	} else if (!strcmp(k, "optional")) {
		return read_bool(rd, v, k, &r->optional);
	} else if (!strcmp(k, "delayMs")) {
		if (read_uint(rd, v, k, 0, RULES_DELAY_MAX_MS, &n) < 0)
			return -1;
		r->delay_ms = (uint32_t)n;
	} else if (!strcmp(k, "seconds")) {
		if (read_uint(rd, v, k, 1, RULES_MENUS_MAX_SECONDS, &n) < 0)
			return -1;
		r->seconds = (uint32_t)n;
		seen->seconds = true;
	} else if (!strcmp(k, "port")) {
		if (read_uint(rd, v, k, 1, 4, &n) < 0)
			return -1;
		r->port = (int)n;
		seen->port = true;
	} else if (!strcmp(k, "character")) {
		if (read_uint(rd, v, k, 0, 32, &n) < 0)
			return -1;
		r->character = (int)n;
		seen->character = true;
	} else if (!strcmp(k, "connectCode")) {
		seen->connect_code = true;
		if (read_string(rd, v, k, r->connect_code, sizeof(r->connect_code)) < 0)
			return -1;
		if (!r->connect_code[0])
			return fail(rd, "connectCode must not be empty (leave it out for anyone)");
	} else if (!strcmp(k, "minDamage")) {
		if ((v->type != JSON_INT && v->type != JSON_DOUBLE) || !(v->d >= 0 && v->d <= 10000))
			return fail(rd, "minDamage must be a number from 0 to 10000");
		r->min_damage = v->d;
		seen->min_damage = true;
	} else if (!strcmp(k, "kill")) {
		seen->kill = true;
		return read_bool(rd, v, k, &r->kill);
	} else if (!strcmp(k, "endMethods")) {
		seen->end_methods = true;
		return read_end_methods(rd, v, &r->end_methods);
	} else if (!strcmp(k, "scene")) {
		seen->scene = true;
		return read_string(rd, v, k, r->scene, sizeof(r->scene));
	} else if (!strcmp(k, "source")) {
		seen->source = true;
		return read_string(rd, v, k, r->source, sizeof(r->source));
	} else if (!strcmp(k, "template")) {
		seen->template_text = true;
		return read_string(rd, v, k, r->template_text, sizeof(r->template_text));
	} else if (!strcmp(k, "toPreview")) {
		seen->to_preview = true;
		return read_bool(rd, v, k, &r->to_preview);
	} else {
		return fail(rd, "unknown field '%.40s'", k);
	}
	return 0;
}

/* What must and must not be there for the rule's event and action. */
static int check_rule(struct reader *rd, const struct rule *r, const struct seen *seen)
{
	if (!r->event)
		return fail(rd, "event is required");
	if (!r->action)
		return fail(rd, "action is required");
	const char *ev = rule_event_name(r->event);
	if (r->event == RULE_EVENT_MENUS && !seen->seconds)
		return fail(rd, "seconds is required for menus");
	if (r->event != RULE_EVENT_MENUS && seen->seconds)
		return fail(rd, "seconds is for menus only, not %s", ev);
	if (!event_has_players(r->event) && (seen->port || seen->connect_code || seen->character))
		return fail(rd, "port, connectCode and character are not conditions of %s", ev);
	if (r->event != RULE_EVENT_COMBO && (seen->min_damage || seen->kill))
		return fail(rd, "minDamage and kill are conditions of combo only, not %s", ev);
	if (r->event != RULE_EVENT_GAME_END && seen->end_methods)
		return fail(rd, "endMethods is a condition of game_end only, not %s", ev);
	const char *act = rule_action_name(r->action);
	bool scene = rule_action_uses_scene(r->action), source = rule_action_uses_source(r->action);
	if (scene && !r->scene[0])
		return fail(rd, "scene is required for %s", act);
	if (!scene && seen->scene)
		return fail(rd, "%s takes no scene", act);
	if (source && !r->source[0])
		return fail(rd, "source is required for %s", act);
	if (!source && seen->source)
		return fail(rd, "%s takes no source", act);
	if (r->action == RULE_ACTION_SET_TEXT_TEMPLATE && !seen->template_text)
		return fail(rd, "template is required for set_text_template");
	if (r->action != RULE_ACTION_SET_TEXT_TEMPLATE && seen->template_text)
		return fail(rd, "%s takes no template", act);
	if (r->action != RULE_ACTION_SWITCH_SCENE && seen->to_preview)
		return fail(rd, "toPreview is for switch_scene only");
	return 0;
}

static int read_record_games(struct reader *rd, const struct json_node *v, struct rules_set *s)
{
	if (v->type != JSON_OBJECT) {
		snprintf(rd->err, rd->err_size, "recordGames must be an object {enabled, stopAfterMs}");
		return -1;
	}
	for (const struct json_node *m = json_first(rd->doc, v); m; m = json_next(rd->doc, m)) {
		if (!strcmp(m->key, "enabled") && m->type == JSON_BOOL) {
			s->record_games = m->b;
		} else if (!strcmp(m->key, "stopAfterMs") && m->type == JSON_INT && m->i >= 0 &&
			   m->i <= RULES_DELAY_MAX_MS) {
			s->record_stop_ms = (uint32_t)m->i;
		} else {
			snprintf(rd->err, rd->err_size,
				 "recordGames takes enabled (true or false) and stopAfterMs (0 to %u), not '%.40s' as "
				 "given",
				 RULES_DELAY_MAX_MS, m->key);
			return -1;
		}
	}
	return 0;
}

int rules_parse(struct rules_set *out, const char *json, size_t len, char *err, size_t err_size)
{
	struct json_limits lim = json_limits_default;
	lim.max_input_bytes = RULES_INPUT_MAX_BYTES;
	lim.max_nodes = RULES_MAX * 32 + 64;
	lim.max_depth = 8;
	lim.max_string_bytes = RULES_TEMPLATE_MAX * 4;
	struct json_doc doc;
	if (json_parse(&doc, json, len, &lim) < 0) {
		snprintf(err, err_size, "not JSON: %s at byte %zu", doc.error, doc.error_offset);
		json_doc_free(&doc);
		return -1;
	}
	struct reader rd = {.doc = &doc, .err = err, .err_size = err_size};
	const struct json_node *root = json_root(&doc);
	const struct json_node *list = json_get(&doc, root, "rules");
	struct rules_set s;
	rules_set_init(&s);
	int rc = -1;
	if (!list || list->type != JSON_ARRAY) {
		snprintf(err, err_size, "rules is required: an array of rules");
		goto out;
	}
	if (list->count > RULES_MAX) {
		snprintf(err, err_size, "at most %d rules, not %u", RULES_MAX, list->count);
		goto out;
	}
	if (list->count) {
		s.rules = calloc(list->count, sizeof(*s.rules));
		if (!s.rules) {
			snprintf(err, err_size, "out of memory");
			goto out;
		}
	}
	for (const struct json_node *v = json_first(&doc, list); v; v = json_next(&doc, v)) {
		rd.index = s.n;
		struct rule *r = &s.rules[s.n];
		rule_init(r);
		if (v->type != JSON_OBJECT) {
			fail(&rd, "must be an object");
			goto out;
		}
		struct seen seen = {0};
		for (const struct json_node *m = json_first(&doc, v); m; m = json_next(&doc, m))
			if (read_member(&rd, m, r, &seen) < 0)
				goto out;
		if (check_rule(&rd, r, &seen) < 0)
			goto out;
		s.n++;
	}
	const struct json_node *rg = json_get(&doc, root, "recordGames");
	if (rg && read_record_games(&rd, rg, &s) < 0)
		goto out;
	free(out->rules);
	*out = s;
	s.rules = NULL;
	rc = 0;
out:
	free(s.rules);
	json_doc_free(&doc);
	return rc;
}

/* ---- writing ---- */

void rules_write_rule(const struct rule *r, struct json_writer *jw, const char *key)
{
	jw_object_begin(jw, key);
	jw_string(jw, "event", rule_event_name(r->event));
	if (r->event == RULE_EVENT_MENUS)
		jw_int(jw, "seconds", r->seconds);
	if (r->port)
		jw_int(jw, "port", r->port);
	if (r->connect_code[0])
		jw_string(jw, "connectCode", r->connect_code);
	if (r->character >= 0)
		jw_int(jw, "character", r->character);
	if (r->min_damage >= 0)
		jw_double(jw, "minDamage", r->min_damage, 4);
	if (r->event == RULE_EVENT_COMBO && r->kill)
		jw_bool(jw, "kill", true);
	if (r->end_methods) {
		char list[64] = "";
		size_t used = 0;
		for (size_t k = 0; k < N_END_METHODS; k++)
			if (r->end_methods & end_method_names[k].bit)
				used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", used ? "," : "",
							 end_method_names[k].name);
		jw_string(jw, "endMethods", list);
	}
	jw_string(jw, "action", rule_action_name(r->action));
	if (rule_action_uses_scene(r->action))
		jw_string(jw, "scene", r->scene);
	if (rule_action_uses_source(r->action))
		jw_string(jw, "source", r->source);
	if (r->action == RULE_ACTION_SET_TEXT_TEMPLATE)
		jw_string(jw, "template", r->template_text);
	if (r->action == RULE_ACTION_SWITCH_SCENE && r->to_preview)
		jw_bool(jw, "toPreview", true);
	jw_int(jw, "delayMs", r->delay_ms);
	jw_bool(jw, "enabled", r->enabled);
	jw_bool(jw, "optional", r->optional);
	jw_object_end(jw);
}

void rules_write(const struct rules_set *s, struct json_writer *jw)
{
	jw_array_begin(jw, "rules");
	for (size_t i = 0; i < s->n; i++)
		rules_write_rule(&s->rules[i], jw, NULL);
	jw_array_end(jw);
	jw_object_begin(jw, "recordGames");
	jw_bool(jw, "enabled", s->record_games);
	jw_int(jw, "stopAfterMs", s->record_stop_ms);
	jw_object_end(jw);
}

/* ---- matching ---- */

void rules_context_init(struct rules_context *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
}

void rules_trigger_simple(struct rules_trigger *t, enum rule_event e)
{
	memset(t, 0, sizeof(*t));
	t->events = 1u << e;
}

static int64_t member_int(const struct json_doc *doc, const struct json_node *obj, const char *key, int64_t def)
{
	const struct json_node *v = json_get(doc, obj, key);
	return v && v->type == JSON_INT ? v->i : def;
}

static double member_number(const struct json_doc *doc, const struct json_node *obj, const char *key)
{
	const struct json_node *v = json_get(doc, obj, key);
	return v && (v->type == JSON_INT || v->type == JSON_DOUBLE) ? v->d : 0;
}

/* The player at playerIndex i as the context knows it from game_start (its port at least). */
static void add_subject(const struct rules_context *ctx, struct rules_trigger *t, int64_t index)
{
	if (index < 0 || index > 3 || t->n_subjects == 4)
		return;
	struct rules_subject *s = &t->subjects[t->n_subjects++];
	*s = ctx->players[index];
	s->port = (int)index + 1;
	if (!ctx->players[index].port)
		s->character = -1;
}

static unsigned end_method_of(const struct json_doc *doc, const struct json_node *root)
{
	const struct json_node *c = json_get(doc, root, "complete");
	const struct json_node *m = json_get(doc, root, "gameEndMethod");
	if (!c || c->type != JSON_BOOL || !c->b || !m || m->type != JSON_INT)
		return RULE_END_INCOMPLETE;
	switch (m->i) {
	case 1:
		return RULE_END_TIME;
	case 2:
	case 3:
		return RULE_END_GAME;
	case 7:
		return RULE_END_QUIT;
	default:
		return RULE_END_OTHER;
	}
}

static void read_players(struct rules_context *ctx, const struct json_doc *doc, const struct json_node *root)
{
	memset(ctx->players, 0, sizeof(ctx->players));
	const struct json_node *players = json_get(doc, root, "players");
	for (const struct json_node *p = json_first(doc, players); p; p = json_next(doc, p)) {
		int64_t i = member_int(doc, p, "playerIndex", -1);
		if (i < 0 || i > 3)
			continue;
		struct rules_subject *s = &ctx->players[i];
		s->port = (int)i + 1;
		s->character = (int)member_int(doc, p, "characterId", -1);
		const struct json_node *code = json_get(doc, p, "connectCode");
		if (code && code->type == JSON_STRING && code->str_len < sizeof(s->connect_code))
			memcpy(s->connect_code, code->str, code->str_len + 1);
	}
}

bool rules_trigger_from_note(struct rules_context *ctx, const char *type, const char *json, size_t len,
			     struct rules_trigger *t)
{
	memset(t, 0, sizeof(*t));
	struct json_doc doc;
	if (json_parse(&doc, json, len, NULL) < 0 || json_root(&doc)->type != JSON_OBJECT) {
		json_doc_free(&doc);
		return false;
	}
	const struct json_node *root = json_root(&doc);
	if (!strcmp(type, "game_start")) {
		read_players(ctx, &doc, root);
		t->events = 1u << RULE_EVENT_GAME_START;
		for (int i = 0; i < 4; i++)
			if (ctx->players[i].port)
				add_subject(ctx, t, i);
	} else if (!strcmp(type, "game_end")) {
		t->events = 1u << RULE_EVENT_GAME_END;
		t->end_method = end_method_of(&doc, root);
		const struct json_node *winners = json_get(&doc, root, "winners");
		for (const struct json_node *w = json_first(&doc, winners); w; w = json_next(&doc, w))
			add_subject(ctx, t, member_int(&doc, w, "playerIndex", -1));
	} else if (!strcmp(type, "stock_lost")) {
		t->events = 1u << RULE_EVENT_STOCK_LOST;
		if (member_int(&doc, root, "stocksRemaining", -1) == 1)
			t->events |= 1u << RULE_EVENT_LAST_STOCK;
		add_subject(ctx, t, member_int(&doc, root, "playerIndex", -1));
	} else if (!strcmp(type, "combo")) {
		/* about the attacker: who did it */
		t->events = 1u << RULE_EVENT_COMBO;
		const struct json_node *attacker = json_get(&doc, root, "attacker");
		add_subject(ctx, t, member_int(&doc, attacker, "playerIndex", -1));
		t->damage = member_number(&doc, root, "damage");
		const struct json_node *k = json_get(&doc, root, "didKill");
		t->did_kill = k && k->type == JSON_BOOL && k->b;
		t->victim_port = (int)member_int(&doc, root, "port", 0);
		t->start_frame = (int32_t)member_int(&doc, root, "startFrame", 0);
	} else if (!strcmp(type, "connection")) {
		const struct json_node *st = json_get(&doc, root, "state");
		bool now = st && st->type == JSON_STRING && !strcmp(st->str, "connected");
		if (st && st->type == JSON_STRING) {
			if (ctx->connected && !now) {
				t->events = 1u << RULE_EVENT_CONNECTION_LOST;
				ctx->lost = true;
			} else if (!ctx->connected && now && ctx->lost) {
				t->events = 1u << RULE_EVENT_CONNECTION_BACK;
				ctx->lost = false;
			}
			ctx->connected = now;
		}
	}
	json_doc_free(&doc);
	return t->events != 0;
}

static bool subject_matches(const struct rule *r, const struct rules_subject *s)
{
	if (r->port && r->port != s->port)
		return false;
	if (r->character >= 0 && r->character != s->character)
		return false;
	if (r->connect_code[0] && strcasecmp(r->connect_code, s->connect_code))
		return false;
	return true;
}

bool rules_match_one(const struct rule *r, const struct rules_trigger *t)
{
	if (!r->enabled || !r->event || !(t->events & (1u << r->event)))
		return false;
	if (r->port || r->character >= 0 || r->connect_code[0]) {
		bool any = false;
		for (size_t i = 0; i < t->n_subjects && !any; i++)
			any = subject_matches(r, &t->subjects[i]);
		if (!any)
			return false;
	}
	if (r->event == RULE_EVENT_COMBO) {
		bool has_damage = r->min_damage >= 0;
		bool damage_ok = has_damage && t->damage >= r->min_damage;
		/* "at least X% or a kill": either one, when both are asked */
		if (has_damage && r->kill && !damage_ok && !t->did_kill)
			return false;
		if (has_damage && !r->kill && !damage_ok)
			return false;
		if (!has_damage && r->kill && !t->did_kill)
			return false;
	}
	if (r->event == RULE_EVENT_GAME_END && r->end_methods && !(r->end_methods & t->end_method))
		return false;
	return true;
}

size_t rules_match(const struct rules_set *s, const struct rules_trigger *t, size_t *due, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n && n < max; i++)
		if (rules_match_one(&s->rules[i], t))
			due[n++] = i;
	return n;
}
