/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Console discovery (protocols.md §1.2): the 48-byte `SLIP_READY` UDP datagram a Wii broadcasts to port 20582
 * while no client is connected, and a list of the consoles seen, each expiring 35 s after its last datagram.
 * The list is sans-I/O (fed datagrams and the time); discovery_listener binds the UDP port on the loop.
 */
#pragma once

#include "net/loop.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DISCOVERY_PORT 20582
#define DISCOVERY_DATAGRAM_BYTES 48
#define DISCOVERY_EXPIRY_MS 35000u
#define DISCOVERY_MAX_CONSOLES 64

struct discovery_announce {
	uint8_t mac[6];
	char nick[33]; /* NUL-terminated; up to 32 bytes from the datagram */
};

/* Returns 0, or -1 when the datagram is not a SLIP_READY announce (wrong size or signature). */
int discovery_parse(const uint8_t *dgram, size_t len, struct discovery_announce *out);
/* Writes the 48 bytes (the nickname NUL-padded, cut at 32 bytes). */
void discovery_encode(uint8_t out[DISCOVERY_DATAGRAM_BYTES], const uint8_t mac[6], const char *nick);

struct discovery_console {
	char ip[64];
	uint8_t mac[6];
	char nick[33];
	uint64_t first_seen_ms;
	uint64_t last_seen_ms;
};

struct discovery_list {
	struct discovery_console consoles[DISCOVERY_MAX_CONSOLES];
	size_t n;
	uint64_t expiry_ms; /* 0 means DISCOVERY_EXPIRY_MS */
};

void discovery_list_init(struct discovery_list *l);
/* Feeds a datagram from ip (as text). Returns 1 when it added a console, 0 when it refreshed one, -1 when the
 * datagram was not an announce or came from 0.0.0.0 (ignored, as the Launcher does). Expires first. */
int discovery_list_feed(struct discovery_list *l, const char *ip, const uint8_t *dgram, size_t len, uint64_t now_ms);
/* Drops consoles not heard from for expiry_ms. Returns how many were dropped. */
size_t discovery_list_expire(struct discovery_list *l, uint64_t now_ms);

/*
 * A UDP listener on the loop that keeps a discovery_list, expires it on a timer, and reports each console when it
 * is found, when its nickname or MAC changes, and when it is lost (no datagram for expiry_ms). Loop thread only.
 */
enum discovery_change {
	DISCOVERY_FOUND,
	DISCOVERY_CHANGED,
	DISCOVERY_LOST,
};
typedef void (*discovery_fn)(void *ud, const struct discovery_console *console, enum discovery_change change);

struct discovery_listener_options {
	const char *host;   /* NULL: 0.0.0.0 */
	uint16_t port;      /* 0: 20582 */
	uint64_t expiry_ms; /* 0: DISCOVERY_EXPIRY_MS */
	discovery_fn fn;    /* may be NULL */
	void *ud;
};

struct discovery_listener;
/* Returns NULL with err (the port is taken, out of memory). */
struct discovery_listener *discovery_listener_create(struct net_loop *loop, const struct discovery_listener_options *o,
						     char *err, size_t err_size);
void discovery_listener_destroy(struct discovery_listener *dl);
const struct discovery_list *discovery_listener_list(const struct discovery_listener *dl);
/* The port it listens on. */
uint16_t discovery_listener_port(const struct discovery_listener *dl);
const char *discovery_change_name(enum discovery_change change);

#ifdef __cplusplus
}
#endif
