/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The engine: one event-loop thread and any number of sessions. A session is one source (a Wii, Slippi Dolphin,
 * a relay or a replay file) wired, in this order, to an optional relay and to a recorder on its own thread, with
 * its game events in a mailbox (game_mailbox.h) and in the `event` callback. The tool runs an engine on its own
 * thread; the OBS module starts one on a thread of the engine's.
 *
 * Threads:
 * - "andross: loop": every source, relay and timer (plus the relay's fan-out helper). Never touches the disk.
 * - "andross: rec N": one per session: splitter -> game state -> .slp writer -> mailbox.
 * - "andross: reaper": finishes the recorders of removed sessions, so the loop never waits on the disk.
 * - "andross: dns": host-name lookups of sources (net/resolve.h), so a hanging lookup stalls nothing else.
 * Every public function below is safe from any thread unless it says otherwise, and none waits on the network:
 * changes are posted to the loop thread (net_loop_post), and the few calls that return the loop's answer (an
 * address bound, an error) wait only for the loop to run them, which never blocks.
 */
#pragma once

#include "discovery.h"
#include "game_mailbox.h"
#include "relay.h"
#include "source.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ENGINE_NAME_MAX 64
#define ENGINE_URL_MAX 512
#define ENGINE_PATH_MAX 4096
#define ENGINE_NICK_MAX 64
#define ENGINE_HOST_MAX 256
#define ENGINE_ADDRESS_MAX 300
#define ENGINE_MAX_SESSIONS 64
#define ENGINE_STATUS_CLIENTS_MAX 64 /* relay clients listed in a status copy (relay_clients counts them all) */
#define ENGINE_DRAIN_TIMEOUT_MS 5000 /* exit_when_done: how long relay clients get to take what they lack */

struct engine_relay_settings {
	bool enabled;
	char host[ENGINE_HOST_MAX]; /* "" : 127.0.0.1 */
	uint16_t port;              /* 0: any free port */
	/* Everything else about the relay (clients, history, lag cap, ...), from relay_options_init; its host, port,
	 * nick and seed are ignored: the fields above, the session's nickname and the engine's seed decide them. */
	struct relay_options options;
};

struct engine_session_options {
	char name[ENGINE_NAME_MAX];    /* for logs and status; "" : the URL */
	char url[ENGINE_URL_MAX];      /* console://, dolphin://, relay://, or a replay file's path */
	double speed;                  /* file sources: 0 as fast as possible, 1 real time, N times faster */
	char nick[ENGINE_NICK_MAX];    /* the console's name for replays and relay clients; "" : the source's own */
	char out_dir[ENGINE_PATH_MAX]; /* where each game's .slp goes; "" : no files */
	char file_name[256];           /* the games' files are file_name.slp, file_name_2.slp, ...; "": Game_<time> */
	uint64_t max_games;            /* the recorder takes no game after this many; 0: no limit */
	bool frame_events;             /* frame events reach the `event` callback (the mailbox always has the state) */
	uint32_t frame_events_min_ms; /* at most one frame event per this many ms (the others' JSON is not made); 0: all */
	bool keep_history;            /* keep a relay history while the relay is off, so switching it on serves the
					  current game from its start */
	/* Files go to out_dir/<the console's name>: its nickname once known (made safe for a folder name), else the
	 * session's name, else "console-<id>". For several consoles sharing one out_dir. */
	bool console_subfolder;
	struct engine_relay_settings relay;
	uint64_t tag; /* the caller's own number for the session (engine_session_tag), known from its first event */
};

/* name "", speed 1, no files, no relay (127.0.0.1:53742 with the relay's defaults when switched on), frame events
 * off. */
void engine_session_options_init(struct engine_session_options *o);

enum engine_log_level {
	ENGINE_LOG_DEBUG = 0,   /* lifecycle steps: added, connected, relay switched, removed */
	ENGINE_LOG_INFO = 1,    /* what a user follows: replay files written, relay clients */
	ENGINE_LOG_WARNING = 2, /* something went wrong: lost bytes, a disk error, a stream error */
};

struct engine_callbacks {
	/* Every event in its one JSON form (docs/events.md) as soon as it is made, on the thread that made it: the loop
	 * thread for connection, gap and relay_client, the session's recorder thread for game events, replay_saved
	 * and replay_failed. json[json_len] is 0: json is also a C string. Must not block. */
	void (*event)(void *ud, uint32_t session, const char *type, const char *json, size_t json_len);
	/* A session's mailbox has new notes (once per burst, until the consumer empties it), on the thread that
	 * added them. Must not block: schedule a drain. */
	void (*notify)(void *ud, uint32_t session);
	/* A line for a log (enum engine_log_level), on any thread. */
	void (*log)(void *ud, uint32_t session, int level, const char *message);
	void *ud;
};

struct engine_options {
	/* engine_run returns (and a started engine's loop stops) once every session is done: its source ended or its
	 * recorder took max_games, and relay clients have what they lack (or ENGINE_DRAIN_TIMEOUT_MS passed). The
	 * tool's record and relay commands use this; OBS does not. */
	bool exit_when_done;
	size_t mailbox_capacity; /* notes per session; 0: GAME_MAILBOX_DEFAULT_CAPACITY */
	uint64_t seed;           /* relay token seed; 0: from the clock */
	/* demo://: a simulated Wii on the engine's loop plays every .slp in this folder, in name order, in real time,
	 * again and again, with a menu pause between games; the session reads it as console://. "": no demo. */
	char demo_dir[ENGINE_PATH_MAX];
	/* 1-99: each session's recorder thread asks for realtime scheduling at this priority where the system grants it
	 * (net_thread_prefer_realtime; OBS: 1); 0, or not granted: normal scheduling with short slices. */
	int recorder_realtime_priority;
};

struct engine;

struct engine *engine_create(const struct engine_options *o, const struct engine_callbacks *cb, char *err,
			     size_t err_size);
/* Stops the loop, closes every source and relay, finishes every recorder's file, joins every thread. */
void engine_destroy(struct engine *e);
/* Runs the loop on the calling thread until engine_stop (or, with exit_when_done, until every session is done).
 * Returns 0, or -1 when the loop failed or runs already. engine_destroy comes after it returned. */
int engine_run(struct engine *e);
/* Runs the loop on a thread of its own ("andross: loop"). Returns 0, or -1 with err. */
int engine_start(struct engine *e, char *err, size_t err_size);
/* Any thread, and signal handlers. */
void engine_stop(struct engine *e);
/* True once exit_when_done saw every session done (or engine_stop was called). */
bool engine_done(struct engine *e);

/* Adds a session and starts it. Returns its id, or 0 with err: a URL no source takes, a relay port that cannot be
 * bound, too many sessions. Ids count 1, 2, ... in the order sessions were added (a failed add takes none) and are
 * never reused, so a caller that adds before the engine runs knows an id before its first event. */
uint32_t engine_add(struct engine *e, const struct engine_session_options *o, char *err, size_t err_size);
/* Applies new options: a new URL, nickname or speed replaces the source (the current file is finished), a new
 * folder takes effect at the next game, relay settings move or switch the relay without touching the source; the
 * game limit stays as the session was made. On error (err set) nothing changed. Returns 0 or -1. */
int engine_update(struct engine *e, uint32_t id, const struct engine_session_options *o, char *err, size_t err_size);
/* Switches a session's relay on (at host:port; host NULL or port 0 keep the current ones) or off. Moving it keeps
 * the clients it serves; switching it off closes them and the port (with keep_history, the history stays and is
 * served from the current game's start when it is switched on again). On success *bound (when not NULL)
 * receives "HOST:PORT" actually bound. Returns 0, or -1 with err (nothing changed). */
int engine_set_relay(struct engine *e, uint32_t id, bool enabled, const char *host, uint16_t port, char *bound,
		     size_t bound_size, char *err, size_t err_size);
/* Stops a session: its source and relay close at once, its recorder finishes the file on the reaper thread.
 * Returns 0, or -1 for an unknown id. */
int engine_remove(struct engine *e, uint32_t id);

struct engine_session_status {
	uint32_t id;
	struct engine_session_options options;
	enum source_state state;
	char reason[256]; /* why, in words, for the state */
	char console_nick[ENGINE_NICK_MAX];
	uint64_t bytes; /* stream bytes received from the source */
	uint64_t gaps;
	uint64_t lost_bytes;     /* bytes the source knows it lost */
	int64_t reconnect_in_ms; /* SOURCE_WAITING: when the next attempt is due; -1 otherwise */
	bool source_ended;
	bool relay_on;
	char relay_address[ENGINE_ADDRESS_MAX]; /* "HOST:PORT" while on */
	size_t relay_clients;
	size_t relay_clients_listed;
	struct relay_client_status clients[ENGINE_STATUS_CLIENTS_MAX];
	uint64_t relay_backlog_bytes;
	char current_file[ENGINE_PATH_MAX]; /* the .slp being written; "" between games */
	char last_file[ENGINE_PATH_MAX];    /* the last .slp finished */
	uint64_t games_recorded;
	uint64_t games_failed; /* games whose file could not be written whole (a full disk, a folder it may not write) */
	uint64_t games_ended;
	struct game_snapshot game; /* the latest game state (see game_mailbox.h) */
};

/* Copies a session's status, as of the loop's last change (at most ENGINE_STATUS_REFRESH_MS old for counters).
 * Never waits on the loop. Returns false for an unknown id. */
bool engine_status(struct engine *e, uint32_t id, struct engine_session_status *out);
#define ENGINE_STATUS_REFRESH_MS 100
/* The ids of the sessions, in the order they were added. Returns how many (at most max). */
size_t engine_sessions(struct engine *e, uint32_t *ids, size_t max);
/* The tag the session was added with. Returns false for an unknown id. Never waits on the loop. */
bool engine_session_tag(struct engine *e, uint32_t id, uint64_t *tag);
/* A session's mailbox, retained: game_mailbox_release it when done. NULL for an unknown id. */
struct game_mailbox *engine_mailbox(struct engine *e, uint32_t id);

/* Console discovery (discovery.h) on the loop, for a window that lists the consoles announcing themselves while it
 * is open. Each engine_discovery_start takes one reference: the first binds the UDP port (host NULL: 0.0.0.0, port
 * 0: 20582), the last engine_discovery_stop closes it; one started while it listens joins it (its host and port are
 * ignored). Returns 0, or -1 with err (the port is taken: nothing listens, no reference taken). */
int engine_discovery_start(struct engine *e, const char *host, uint16_t port, char *err, size_t err_size);
void engine_discovery_stop(struct engine *e);
/* Copies the consoles heard from (each dropped DISCOVERY_EXPIRY_MS after its last datagram), oldest first. Returns
 * how many (at most max; 0 while nothing listens). Never waits on the loop. */
size_t engine_discovery_list(struct engine *e, struct discovery_console *out, size_t max);

#ifdef __cplusplus
}
#endif
