/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The relay: one source's Slippi stream fanned out to many TCP clients on the event loop (docs/relay.md).
 *
 * The stream is one shared, append-only, event-aligned history (a `console_log`, 64 MiB by default; the oldest
 * games drop out past that). Each client is only a position in it plus the one message being sent, so a slow
 * client costs nothing but its cursor, and nothing here ever waits: a client whose socket is full is resumed when
 * it becomes writable.
 *
 * Raw clients are sent the history's bytes straight from it; a console client holds only the REPLAY messages being
 * sent (a small buffer, given back once it is sent).
 *
 * Two modes, chosen per client:
 * - console: the client sent the 83-byte console handshake within 250 ms of connecting (every slippi-js
 *   ConsoleConnection does). It is served the Nintendont protocol: handshake reply (nick, token, start cursor),
 *   REPLAY messages of whole events, keepalives every 500 ms when idle. A reconnect with a token the relay handed
 *   out recently and a cursor it can still serve continues exactly there.
 * - raw: the client sent no complete handshake frame within 250 ms. It gets the Slippi Launcher relay stream: the
 *   event bytes, and `HELO\0` every 500 ms when idle.
 * A new client starts at the current game's Event Payloads (0x35), or, between games, with the next game.
 *
 * Not thread-safe: every function runs on the loop's thread.
 */
#pragma once

#include "bytes.h"
#include "net/loop.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RELAY_PORT_DEFAULT 53742 /* Slippi Launcher's first relay port (53741 + connection id 1) */
#define RELAY_HOST_DEFAULT "127.0.0.1"
#define RELAY_MAX_CLIENTS_DEFAULT 32
#define RELAY_HISTORY_BYTES_DEFAULT ((size_t)64 * 1024 * 1024)
#define RELAY_LAG_CAP_BYTES_DEFAULT ((size_t)4 * 1024 * 1024)
#define RELAY_LAG_CAP_BYTES_MIN ((size_t)64 * 1024) /* below this a console client's message in flight counts as lag */
#define RELAY_LAG_TIMEOUT_MS_DEFAULT 60000          /* how long a client may stay more than the lag cap behind */
#define RELAY_PER_ADDRESS_AUTO_MAX 8                /* the default per-address limit: half the slots, at most this */
#define RELAY_REFUSAL_QUIET_MS 10000         /* refusals from one address closer together than this are one burst */
#define RELAY_STALL_TIMEOUT_MS_DEFAULT 20000 /* slippi-js's own idle timeout */
#define RELAY_SEND_BUFFER_BYTES_DEFAULT (256 * 1024) /* kernel send buffer per client: a stalled client shows as lag */
#define RELAY_RAW_AFTER_MS 250                       /* no complete handshake by then: raw mode */
#define RELAY_KEEPALIVE_MS 500                       /* keepalive / HELO filler after this long without a send */
#define RELAY_CLIENT_INPUT_MAX_BYTES (64u * 1024u)   /* a client that sends more is dropped */
#define RELAY_CONSOLE_VERSION "1.9.0"                /* the Nintendont protocol version the relay speaks */
#define RELAY_NICK_DEFAULT "andross"                 /* the console name served when none is known */

enum relay_client_mode {
	RELAY_MODE_NONE = 0, /* not decided yet */
	RELAY_MODE_CONSOLE,
	RELAY_MODE_RAW,
};

enum relay_client_event {
	RELAY_CLIENT_CONNECTED,    /* its mode is decided and it is being served */
	RELAY_CLIENT_DISCONNECTED, /* it left, was dropped or was refused (reason says which; mode none when refused) */
	RELAY_CLIENT_SKIPPED,      /* a console client fell past the lag cap and was moved forward (forcePos); once */
};

struct relay_client_info {
	uint64_t id;         /* 1, 2, ... in accept order */
	const char *address; /* "ip:port" */
	enum relay_client_mode mode;
	uint32_t token;     /* console mode */
	uint64_t cursor;    /* where its stream stands (start cursor when connected) */
	uint64_t from_byte; /* SKIPPED: the bytes it did not get */
	uint64_t to_byte;
	uint64_t sent_bytes; /* DISCONNECTED: everything written to it */
};

struct relay_callbacks {
	/* Client lifecycle, for a log line or a JSON event (relay_client_event_json). */
	void (*client)(void *ud, enum relay_client_event ev, const struct relay_client_info *info, const char *reason);
	/* Something about the relay itself the user should know (a stream error in the source's bytes). */
	void (*warning)(void *ud, const char *message);
	void *ud;
};

struct relay_options {
	const char *host;   /* address to listen on; "0.0.0.0" exposes the relay to the LAN */
	uint16_t port;      /* 0 picks a free port (relay_port tells which) */
	size_t max_clients; /* more connections are accepted and closed at once */
	/*
	 * At most this many clients from one IP address. 0: the default, half of max_clients and at most
	 * RELAY_PER_ADDRESS_AUTO_MAX, for remote addresses only (every local tool connects from the loopback
	 * address, and a local process could stop the relay anyway). A number given here applies to every
	 * address, loopback included.
	 */
	size_t max_clients_per_address;
	size_t history_bytes; /* the shared history; old games drop out past it */
	/*
	 * How far behind a client may fall, beyond the backlog it joined with (at least RELAY_LAG_CAP_BYTES_MIN).
	 * Past it a raw client is dropped; a console client is moved forward once (forcePos) and dropped the second
	 * time.
	 */
	size_t lag_cap_bytes;
	uint64_t lag_timeout_ms;   /* a client more than lag_cap_bytes behind for this long is dropped */
	uint64_t stall_timeout_ms; /* a client that takes no byte for this long is dropped */
	int send_buffer_bytes;     /* SO_SNDBUF of client sockets; -1: the system's autotuning */
	const char *nick;          /* the console nickname in console-mode handshake replies */
	uint64_t seed;             /* token generator seed; 0: from the clock */
	/* Console clients' handshake replies wait until relay_set_nick (or relay_release_replies): for a relay
	 * started before its source knows the console's name, whose clients keep the name they are first told. */
	bool hold_replies;
	bool no_listen; /* start with the history alone; relay_listen opens it to clients */
};

/* The defaults: 127.0.0.1:53742, 32 clients (8 per remote address), 64 MiB history, 4 MiB lag cap (60 s to get
 * back under it), nick "andross". */
void relay_options_init(struct relay_options *o);

struct relay;

/* Listens and serves on loop. Returns NULL with err (cannot listen, out of memory). */
struct relay *relay_create(struct net_loop *loop, const struct relay_options *opts, const struct relay_callbacks *cb,
			   char *err, size_t err_size);
/* Closes every client (each reported as disconnected) and the listener. */
void relay_destroy(struct relay *r);
/* Listens at host:port (NULL host: 127.0.0.1; port 0: a free one), in place of the current listener if any: the
 * clients already served stay. Returns 0, or -1 with err (the address is taken, ...) and nothing changed. */
int relay_listen(struct relay *r, const char *host, uint16_t port, char *err, size_t err_size);
/* Closes the listener and every client (each reported as disconnected with reason); the history stays and is
 * still fed, so relay_listen later serves the current game from its start. */
void relay_unlisten(struct relay *r, const char *reason);
bool relay_listening(const struct relay *r);
/* Answers the console clients held by hold_replies, with the current nickname. relay_set_nick does it too. */
void relay_release_replies(struct relay *r);

/*
 * Appends the source's bytes (any chunking; `HELO\0` fillers dropped) to the history and sends what is new to
 * every client that can take it. Returns 0, or -1 on a stream error (reported through `warning` once): the
 * relay then ignores the source's bytes until relay_source_restart.
 */
int relay_feed(struct relay *r, const uint8_t *data, size_t len);
/* The source's stream restarts at an event boundary (a reconnect, a gap): a partial event is dropped. */
void relay_source_restart(struct relay *r);
/* The nickname later handshake replies carry (for example once a console source told its own); releases the
 * replies held by hold_replies. */
void relay_set_nick(struct relay *r, const char *nick);

uint16_t relay_port(const struct relay *r);
/* "HOST:PORT" it listens on; "" while it does not listen. */
const char *relay_address(const struct relay *r);
size_t relay_client_count(const struct relay *r);
/* The most that any client still has to receive (0: everyone has everything). */
uint64_t relay_backlog_bytes(const struct relay *r);
/* The end of the history: bytes of whole events appended so far. */
uint64_t relay_write_cursor(const struct relay *r);

struct relay_client_status {
	uint64_t id;
	char address[64];
	enum relay_client_mode mode; /* RELAY_MODE_NONE: its mode is not decided yet */
	bool waiting_for_name;       /* its handshake reply waits for the console's name (hold_replies) */
	uint64_t behind_bytes;       /* what it still has to receive */
	uint64_t sent_bytes;
};
/* The clients being served, in accept order (at most max). Returns how many were written. */
size_t relay_clients(const struct relay *r, struct relay_client_status *out, size_t max);

const char *relay_client_mode_name(enum relay_client_mode mode);
/* The JSON form of a client event (docs/events.md), without a trailing newline. */
bool relay_client_event_json(struct bytes *out, const char *relay_address, enum relay_client_event ev,
			     const struct relay_client_info *info, const char *reason);

#ifdef __cplusplus
}
#endif
