/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Automation rules, "when EVENT [and CONDITION] then ACTION [after DELAY]", as values (docs/automation.md): read from
 * and written to JSON, and matched against the game's notes (the event JSON of docs/events.md). Pure: what an
 * action does (a scene switch, a recording) and when a delay ends is the caller's; this only says which rules are
 * due for a note. Nothing here blocks or allocates without a bound (RULES_MAX rules of fixed-size fields).
 */
#pragma once

#include "json_writer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RULES_MAX 64
#define RULES_NAME_MAX 256      /* a scene's or source's name, with its NUL */
#define RULES_TEMPLATE_MAX 2048 /* a Slippi Text template, with its NUL */
#define RULES_CODE_MAX 32       /* a connect code, with its NUL */
#define RULES_DELAY_MAX_MS (3600u * 1000u)
#define RULES_MENUS_MAX_SECONDS 3600u
#define RULES_INPUT_MAX_BYTES (1u << 20)

enum rule_event {
	RULE_EVENT_NONE = 0,
	RULE_EVENT_GAME_START,
	RULE_EVENT_GAME_END,
	RULE_EVENT_STOCK_LOST,
	RULE_EVENT_LAST_STOCK, /* a player lost a stock and has one left */
	RULE_EVENT_COMBO,
	RULE_EVENT_SET_END,
	RULE_EVENT_CONNECTION_LOST, /* connected before, and not any more */
	RULE_EVENT_CONNECTION_BACK, /* connected again after it was lost */
	RULE_EVENT_MENUS,           /* no game has started for `seconds` after a game ended */
	RULE_EVENT_COUNT,
};

enum rule_action {
	RULE_ACTION_NONE = 0,
	RULE_ACTION_SWITCH_SCENE,
	RULE_ACTION_SHOW_SOURCE,
	RULE_ACTION_HIDE_SOURCE,
	RULE_ACTION_START_RECORDING,
	RULE_ACTION_STOP_RECORDING,
	RULE_ACTION_PAUSE_RECORDING,
	RULE_ACTION_UNPAUSE_RECORDING,
	RULE_ACTION_START_REPLAY_BUFFER,
	RULE_ACTION_STOP_REPLAY_BUFFER,
	RULE_ACTION_SAVE_REPLAY_BUFFER,
	RULE_ACTION_SET_TEXT_TEMPLATE,
	RULE_ACTION_COUNT,
};

/* How a game ended, as a bit each (a rule's `endMethods`). */
enum rule_end_method {
	RULE_END_GAME = 1u << 0,       /* GAME! (gameEndMethod 2, or 3 RESOLVED before 2.0) */
	RULE_END_TIME = 1u << 1,       /* the timer ran out (1) */
	RULE_END_QUIT = 1u << 2,       /* a quit-out, L+R+A+Start (7, NO_CONTEST) */
	RULE_END_INCOMPLETE = 1u << 3, /* the stream had no Game End (complete: false) */
	RULE_END_OTHER = 1u << 4,      /* any other method (0 unresolved, 6 targets, 9 home-run, ...) */
};

struct rule {
	bool enabled;
	bool optional; /* a scene or source that does not exist is skipped quietly, not reported as broken */
	enum rule_event event;
	uint32_t seconds; /* RULE_EVENT_MENUS */
	/* conditions: 0 / "" / -1 / false: any */
	int port; /* 1-4: the player the event is about (see docs/automation.md) */
	char connect_code[RULES_CODE_MAX];
	int character;        /* external character id, -1 any */
	double min_damage;    /* combo: at least this much damage (< 0: no damage condition) */
	bool kill;            /* combo: it killed (with min_damage: either one) */
	unsigned end_methods; /* game_end: rule_end_method bits, 0 any */
	enum rule_action action;
	char scene[RULES_NAME_MAX];
	char source[RULES_NAME_MAX];
	char template_text[RULES_TEMPLATE_MAX];
	bool to_preview; /* switch_scene in studio mode: into the preview, not the program */
	uint32_t delay_ms;
};

struct rules_set {
	struct rule *rules; /* owned */
	size_t n;
	bool record_games; /* start recording at game start, stop record_stop_ms after its end */
	uint32_t record_stop_ms;
};

void rules_set_init(struct rules_set *s);
void rules_set_free(struct rules_set *s);
/* A deep copy into *dst (freed first). Returns false (dst empty) when out of memory. */
bool rules_set_copy(struct rules_set *dst, const struct rules_set *src);
/* The defaults a streamer can take as they are: game start -> scene "Game", game end (GAME! or time, not a
 * quit-out) -> scene "Between games" after 3 s; both optional (nothing happens when the scene does not exist).
 * Returns false when out of memory. */
bool rules_set_defaults(struct rules_set *s);

/*
 * Reads `{"rules": [...], "recordGames": {"enabled", "stopAfterMs"}}` (other members of the object are ignored;
 * recordGames may be left out: off). Every rule is checked: an unknown or misplaced field, a wrong type or value,
 * a missing scene or source is an error. Returns 0 with *out replaced, or -1 with err naming the rule and field and
 * *out untouched.
 */
int rules_parse(struct rules_set *out, const char *json, size_t len, char *err, size_t err_size);
/* Writes the members "rules" and "recordGames" into the object jw has open (the form rules_parse reads). */
void rules_write(const struct rules_set *s, struct json_writer *jw);
/* One rule as a JSON object (an array element when key is NULL). */
void rules_write_rule(const struct rule *r, struct json_writer *jw, const char *key);

const char *rule_event_name(enum rule_event e);
const char *rule_action_name(enum rule_action a);
/* Whether the action names a scene (switch, show, hide) or a source (show, hide, set_text_template). */
bool rule_action_uses_scene(enum rule_action a);
bool rule_action_uses_source(enum rule_action a);

/* ---- matching ---- */

/* A player an event is about (several for game_start: any of them; game_end: the winners). */
struct rules_subject {
	int port; /* 1-4 */
	int character;
	char connect_code[RULES_CODE_MAX];
};

/* What happened, from one note. */
struct rules_trigger {
	unsigned events; /* 1u << rule_event, one or two (a stock_lost to the last stock is both) */
	struct rules_subject subjects[4];
	size_t n_subjects;
	unsigned end_method; /* game_end: one rule_end_method bit */
	double damage;       /* combo */
	bool did_kill;       /* combo */
	int victim_port;     /* combo: the player comboed */
	int32_t start_frame; /* combo: its first frame (the game timer starts at frame 0) */
};

/* What the matcher remembers of a connection between notes: the players of its game, and its link's state. */
struct rules_context {
	struct rules_subject players[4]; /* by playerIndex; port 0: empty */
	bool connected;                  /* its source is connected now */
	bool lost;                       /* it was connected, then lost */
};

void rules_context_init(struct rules_context *ctx);
/*
 * Reads a note (type and its JSON object) into *t, updating ctx (the players at game_start, the link's state at
 * connection). Returns false when the note triggers nothing (t->events 0): a frame, a gap, a malformed note.
 */
bool rules_trigger_from_note(struct rules_context *ctx, const char *type, const char *json, size_t len,
			     struct rules_trigger *t);
/* A trigger for an event without a note: set_end, menus. */
void rules_trigger_simple(struct rules_trigger *t, enum rule_event e);
/* Whether rule r is due for t (enabled, its event, every condition). */
bool rules_match_one(const struct rule *r, const struct rules_trigger *t);
/* The indexes (into s->rules) of the rules due for t, in order, at most max. Returns how many. */
size_t rules_match(const struct rules_set *s, const struct rules_trigger *t, size_t *due, size_t max);

#ifdef __cplusplus
}
#endif
