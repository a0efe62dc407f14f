/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Game events as owned values, from the thread that makes them (a recorder thread) to consumers on any other
 * thread (OBS's UI thread, its graphics thread, an obs-websocket worker), which never wait on the producer:
 *
 * - the latest state of the game (frame, timer, each player's character, name, stocks and percent), overwritten
 *   at every frame with a sequence number; a consumer copies it with a non-blocking try, so a render callback
 *   never waits. Every frame carries the whole state, so a consumer that skips frames misses nothing it needs.
 * - a bounded queue of discrete events (game_start, stock_lost, combo, game_end, and whatever the owner adds:
 *   connection, gap, relay_client, replay_saved), each with its one JSON form (docs/events.md). When the queue is
 *   full the oldest note is dropped and counted. The owner's `notify` runs once per burst: when a note arrives
 *   and the consumer has not been told since it last emptied the queue.
 */
#pragma once

#include "slp_game.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GAME_MAILBOX_DEFAULT_CAPACITY 256

struct game_player_snapshot {
	bool present;
	uint8_t port; /* 1-4 */
	uint8_t character_id;
	bool has_internal_character;
	uint8_t internal_character_id;
	uint8_t costume;
	uint8_t team_id;
	uint8_t start_stocks;
	uint8_t stocks_remaining;
	float percent;
	char name[128]; /* what an overlay shows: the Slippi display name, else the name tag, else "" */
	char nametag[64];
	char display_name[128];
	char connect_code[48];
};

struct game_snapshot {
	uint64_t seq;  /* 0: nothing published yet; grows with every change */
	bool in_game;  /* between game_start and game_end */
	bool has_game; /* a game has started since the mailbox was made (in_game false: it ended, state kept) */
	bool has_frame;
	uint64_t games;
	uint16_t stage_id;
	bool is_teams;
	int32_t frame; /* the latest completed frame; the timer starts at frame 0 */
	uint32_t timer_seconds;
	int32_t timer_remaining_frames; /* timer_seconds * 60 minus the frames played since frame 0 */
	struct game_player_snapshot players[SLP_MAX_PLAYERS];
	bool ended_complete; /* after game_end: the stream had a Game End */
	int winners[SLP_MAX_PLAYERS];
	int n_winners;
};

struct game_note {
	char type[24];   /* the JSON `type`: "game_start", "connection", ... */
	uint64_t seq;    /* 1, 2, ... in the order the notes were added */
	int64_t time_ms; /* monotonic milliseconds (net_now_ms's clock) when it was added */
	char *json;      /* one JSON object, NUL-terminated, owned: free with game_note_free */
	size_t json_len;
};

struct game_mailbox;
typedef void (*game_mailbox_notify_fn)(void *ud);

/* capacity 0 takes GAME_MAILBOX_DEFAULT_CAPACITY. notify may be NULL. Returns NULL when out of memory. The
 * mailbox starts with one reference, the creator's. */
struct game_mailbox *game_mailbox_create(size_t capacity, game_mailbox_notify_fn notify, void *ud);
/* Another reference (any thread), for a consumer that may outlive the producer's session. */
struct game_mailbox *game_mailbox_retain(struct game_mailbox *m);
/* Drops a reference (any thread); the last one frees the mailbox and the notes not taken. */
void game_mailbox_release(struct game_mailbox *m);
/* game_mailbox_release, for a mailbox the caller alone holds. */
void game_mailbox_destroy(struct game_mailbox *m);

/* Producer side: publish from one thread (the recorder's); push from any. */
/* Takes a game event: every event updates the latest state; all but `frame` are also queued as notes, with json,
 * its JSON form (slp_game_event_to_json; the caller made it already, for its own use too). Returns false when a
 * note could not be made (out of memory); the state is updated anyway. */
bool game_mailbox_publish(struct game_mailbox *m, const struct slp_game_event *ev, const char *json, size_t json_len);
/* Queues a note made elsewhere (connection, gap, relay_client, replay_saved); json is copied. */
bool game_mailbox_push(struct game_mailbox *m, const char *type, const char *json, size_t json_len);

/* Consumer side (any thread). */
/* Copies the latest state without waiting. Returns false, leaving out as it was, when the producer holds the
 * mailbox right now (try again at the next frame) or nothing was published since *out's seq. */
bool game_mailbox_latest(struct game_mailbox *m, struct game_snapshot *out);
/* Copies the latest state, waiting for the producer's short copy if needed (for requests, never for renders). */
void game_mailbox_latest_wait(struct game_mailbox *m, struct game_snapshot *out);
/* Moves up to max notes, oldest first, into out. Returns how many. Call until it returns 0 to empty the queue:
 * the next note then calls notify again. */
size_t game_mailbox_take(struct game_mailbox *m, struct game_note *out, size_t max);
/* Notes dropped because the queue was full, since the mailbox was made. */
uint64_t game_mailbox_dropped(struct game_mailbox *m);
void game_note_free(struct game_note *n);

#ifdef __cplusplus
}
#endif
