/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dolphin://HOST[:PORT]: Slippi Dolphin's spectator server (ENet over UDP, docs/protocols.md §2), as a source.
 *
 * Each connection attempt has its own ENet host (one peer slot, the one it dials), made when the attempt starts and
 * destroyed when it ends; see "Strangers" below. While it exists its socket is watched for NET_READ, and a 5 ms
 * timer runs for ENet's resends, acknowledgements and pings. Every pass calls enet_host_service(host, &ev, 0) until
 * it returns 0. Runs on the loop's thread only.
 *
 * Strangers: this source only dials out, but an ENet host takes any CONNECT that reaches its UDP port into a free
 * peer slot, and a stranger that took the only slot while the source waited to retry (bare CONNECT datagrams do,
 * from a forged sender) made every later enet_host_connect fail for good. Two defences, each enough on its own:
 * - an intercept drops every datagram sent to the unassigned peer id (0xFFF) before ENet reads it. Those are the
 *   connection requests, the only datagrams ENet takes from an address it has no peer for; Dolphin addresses all
 *   of ours to the peer id we gave it, so nothing our link needs is lost. The drops are counted and reported.
 * - a host per attempt: no port is open while the source waits, the port changes with each attempt (an attacker
 *   must find it again), and nothing an earlier host went through can make the next attempt fail.
 * More peer slots with incoming peers reset on their CONNECT event would still let strangers fill every slot
 * between two attempts (ENet reports an incoming peer only once its handshake completes, which a forged sender
 * never does), so that was not chosen.
 *
 * Cursor: the source keeps the cursor of the next message it expects across reconnects and asks Dolphin for it, so a
 * reconnect resumes exactly where the stream stopped while Dolphin still holds that message (its history is the
 * current game). A message whose cursor is not the expected one makes the source drop the connection and reconnect
 * at the expected cursor. When Dolphin answers a connect_request with another cursor during a game, the messages in
 * between are lost: the source reports a `gap` (byte positions unknown, so from == to) and the stream restarts at an
 * event boundary, which is the start of a game: until a game starts, the messages that follow such a reply are
 * not delivered, so a Dolphin that answers with an earlier cursor of the same game cannot make events arrive twice.
 * Invalid messages (JSON, base64, sizes, unknown types, messages out of order, a next_cursor other than cursor + 1)
 * are reported with the reason through `state` (waiting) and the source reconnects with backoff; it never gives
 * up. The backoff starts again only after a session that delivered a game message, so a Dolphin that answers and
 * hangs up at once, or lies at once, is retried less and less often.
 *
 * Each attempt resolves HOST off the loop's thread (net/resolve.h) before it makes its ENet host and dials: a name
 * whose lookup hangs delays this source only. ENet 1.3 speaks IPv4 only, so the lookup asks for an IPv4 address,
 * and a name with IPv6 addresses only (or an IPv6 address) fails the attempt with a reason that says so.
 */
#include "source.h"
#include "utf8.h"
#include "dolphin_proto.h"
#include "net/resolve.h"
#include "net/sock.h"
#include "slp_splitter.h"

#include <enet/enet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DOLPHIN_SERVICE_INTERVAL_MS 5
#define DOLPHIN_CONNECT_TIMEOUT_MS 3000
#define DOLPHIN_HANDSHAKE_TIMEOUT_MS 5000
/* ENet declares a peer dead when a reliable packet stays unacknowledged this long (min with retries, max always). */
#define DOLPHIN_PEER_TIMEOUT_MIN_MS 4000
#define DOLPHIN_PEER_TIMEOUT_MAX_MS 15000
/* Larger packets are dropped by ENet itself (the connection then times out); smaller ones that are still too big
 * for dolphin_msg_decode are rejected with a reason. Either way memory stays bounded. */
#define DOLPHIN_ENET_MAX_PACKET_BYTES (2u * DOLPHIN_MESSAGE_MAX_BYTES)
#define DOLPHIN_EVENTS_PER_PASS 4096

static const uint32_t retry_delays_ms[] = {250, 500, 1000, 2000, 4000, 5000};

enum link {
	LINK_IDLE,       /* no peer: waiting to retry, or closed */
	LINK_CONNECTING, /* ENet connect sent */
	LINK_HANDSHAKE,  /* connect_request sent, waiting for connect_reply */
	LINK_STREAMING,
};

struct dolphin_source {
	struct source base;
	struct net_loop *loop;
	struct source_callbacks cb;
	char host[NET_ADDR_MAX];
	uint16_t port;
	bool enet_ready; /* enet_initialize succeeded */
	ENetHost *enet;  /* the current attempt's, or NULL between attempts */
	ENetPeer *peer;
	int fd;
	/* connection requests dropped by the intercept during the current attempt, and the last one's sender */
	uint64_t refused;
	ENetAddress refused_from;
	enum link link;
	uint64_t link_deadline_ms;
	uint64_t service_timer;
	uint64_t retry_timer;
	uint64_t retry_at_ms; /* while a retry is scheduled */
	uint64_t resolve_id;  /* the lookup in progress */
	unsigned failures;    /* in a row, for the backoff */
	bool have_cursor;
	uint32_t cursor; /* the next message expected */
	bool in_game;    /* between start_game and end_game */
	bool await_game; /* after a reply that could not resume the game: deliver nothing until a game starts */
	uint64_t bytes_delivered;
	uint64_t menu_events;
	struct bytes payload;
	char nick[DOLPHIN_TEXT_MAX];
	char version[DOLPHIN_TEXT_MAX];
	bool in_service;
	bool destroy_pending;
};

static void service(struct dolphin_source *ds);

static void set_state(struct dolphin_source *ds, enum source_state state, const char *reason)
{
	if (ds->cb.state)
		ds->cb.state(ds->cb.ud, state, reason);
}

static void on_service_timer(void *ud)
{
	struct dolphin_source *ds = ud;
	ds->service_timer = 0;
	service(ds);
}

static void arm_service_timer(struct dolphin_source *ds, uint64_t delay_ms)
{
	if (!ds->service_timer && ds->peer)
		ds->service_timer = net_loop_timer(ds->loop, delay_ms, on_service_timer, ds);
}

static void start_connect(struct dolphin_source *ds);

static void on_retry_timer(void *ud)
{
	struct dolphin_source *ds = ud;
	ds->retry_timer = 0;
	ds->retry_at_ms = 0;
	start_connect(ds);
}

static void on_readable(void *ud, int fd, unsigned events);

/* Datagrams for the unassigned peer id are connection requests: this source never takes one (see the top). */
static int ENET_CALLBACK drop_connection_requests(ENetHost *host, ENetEvent *event)
{
	(void)event;
	if (host->receivedDataLength < 2)
		return 0; /* ENet ignores it */
	uint16_t peer_id = (uint16_t)(rd_u16be(host->receivedData) &
				      ~(ENET_PROTOCOL_HEADER_FLAG_MASK | ENET_PROTOCOL_HEADER_SESSION_MASK));
	if (peer_id != ENET_PROTOCOL_MAXIMUM_PEER_ID)
		return 0;
	struct dolphin_source *ds = host->peers[0].data;
	if (ds) {
		ds->refused++;
		ds->refused_from = host->receivedAddress;
	}
	return 1;
}

static bool open_host(struct dolphin_source *ds)
{
	ds->enet = enet_host_create(NULL, 1, 2, 0, 0);
	if (!ds->enet)
		return false;
	ds->enet->maximumPacketSize = DOLPHIN_ENET_MAX_PACKET_BYTES;
	ds->enet->intercept = drop_connection_requests;
	ds->enet->peers[0].data = ds; /* application data: ENet only clears it when it makes the host */
	ds->fd = (int)ds->enet->socket;
	ds->refused = 0;
	if (net_loop_watch(ds->loop, ds->fd, NET_READ, on_readable, ds) < 0) {
		enet_host_destroy(ds->enet);
		ds->enet = NULL;
		ds->fd = -1;
		return false;
	}
	return true;
}

/* Destroys the attempt's host; during a service pass, service() does it when the pass ends. */
static void close_host(struct dolphin_source *ds)
{
	if (!ds->enet || ds->in_service)
		return;
	net_loop_unwatch(ds->loop, ds->fd);
	enet_host_destroy(ds->enet);
	ds->enet = NULL;
	ds->fd = -1;
}

static void drop_peer(struct dolphin_source *ds)
{
	if (ds->peer) {
		/* tells Dolphin right away (one unreliable notice), so it frees the slot */
		enet_peer_disconnect_now(ds->peer, 0);
		ds->peer = NULL;
	}
	ds->link = LINK_IDLE;
	if (ds->service_timer) {
		net_loop_cancel(ds->loop, ds->service_timer);
		ds->service_timer = 0;
	}
	close_host(ds);
}

/* "; ignored N ENet connection requests (the last from A:P)" when the attempt refused any, else "". */
static void describe_refused(const struct dolphin_source *ds, char *out, size_t size)
{
	out[0] = 0;
	if (!ds->refused)
		return;
	char ip[64] = "?";
	enet_address_get_host_ip(&ds->refused_from, ip, sizeof(ip));
	snprintf(out, size,
		 "; ignored %llu ENet connection request%s (the last from %s:%u): this source only dials out",
		 (unsigned long long)ds->refused, ds->refused == 1 ? "" : "s", ip, ds->refused_from.port);
}

/* Drops the connection and schedules the next attempt. state is WAITING, or DISCONNECTED when Dolphin closed. */
static void retry_later(struct dolphin_source *ds, enum source_state state, const char *why)
{
	drop_peer(ds);
	size_t n = sizeof(retry_delays_ms) / sizeof(retry_delays_ms[0]);
	uint32_t delay_ms = retry_delays_ms[ds->failures < n ? ds->failures : n - 1];
	ds->failures++;
	char refused[160];
	describe_refused(ds, refused, sizeof(refused));
	char reason[768];
	snprintf(reason, sizeof(reason), "%s%s; retrying in %u ms", why, refused, delay_ms);
	if (!ds->retry_timer) {
		ds->retry_timer = net_loop_timer(ds->loop, delay_ms, on_retry_timer, ds);
		ds->retry_at_ms = net_now_ms() + delay_ms;
	}
	set_state(ds, state, reason);
}

static void on_resolved(void *ud, const struct net_resolve_answer *a)
{
	struct dolphin_source *ds = ud;
	char reason[512];
	ds->resolve_id = 0;
	if (!a->addr) {
		snprintf(reason, sizeof(reason), "%s%s", a->error,
			 a->other_family_only ? " (Slippi Dolphin is reached over ENet 1.3, which takes IPv4 only)"
					      : "");
		retry_later(ds, SOURCE_WAITING, reason);
		return;
	}
	ENetAddress addr = {0};
	addr.host = ((const struct sockaddr_in *)a->addr)->sin_addr.s_addr; /* both in network byte order */
	addr.port = ds->port;
	if (!ds->enet && !open_host(ds)) {
		retry_later(ds, SOURCE_WAITING, "cannot create an ENet host (UDP socket)");
		return;
	}
	ds->peer = enet_host_connect(ds->enet, &addr, 2, 0);
	if (!ds->peer) {
		retry_later(ds, SOURCE_WAITING, "ENet could not start a connection");
		return;
	}
	enet_peer_timeout(ds->peer, 0, DOLPHIN_PEER_TIMEOUT_MIN_MS, DOLPHIN_PEER_TIMEOUT_MAX_MS);
	ds->link = LINK_CONNECTING;
	ds->link_deadline_ms = net_now_ms() + DOLPHIN_CONNECT_TIMEOUT_MS;
	service(ds);
}

static void start_connect(struct dolphin_source *ds)
{
	char reason[256];
	snprintf(reason, sizeof(reason), "connecting to Dolphin at %s:%u", ds->host, ds->port);
	set_state(ds, SOURCE_CONNECTING, reason);
	ds->resolve_id = net_loop_resolve(ds->loop, ds->host, ds->port, AF_INET, on_resolved, ds);
	if (!ds->resolve_id) {
		snprintf(reason, sizeof(reason), "cannot resolve %s: out of memory", ds->host);
		retry_later(ds, SOURCE_WAITING, reason);
	}
}

static bool send_message(struct dolphin_source *ds, const struct dolphin_msg *msg)
{
	uint8_t buf[128];
	struct bytes out = {.data = buf, .cap = sizeof(buf), .limit_bytes = sizeof(buf)};
	if (!dolphin_msg_encode(msg, &out))
		return false;
	ENetPacket *packet = enet_packet_create(out.data, out.len, ENET_PACKET_FLAG_RELIABLE);
	if (!packet)
		return false;
	if (enet_peer_send(ds->peer, 0, packet) < 0) {
		enet_packet_destroy(packet);
		return false;
	}
	return true;
}

static void protocol_error(struct dolphin_source *ds, const char *what)
{
	char reason[512];
	snprintf(reason, sizeof(reason), "bad message from Dolphin at %s:%u: %s", ds->host, ds->port, what);
	retry_later(ds, SOURCE_WAITING, reason);
}

static void on_connect_reply(struct dolphin_source *ds, const struct dolphin_msg *msg)
{
	char reason[768];
	if (ds->have_cursor && msg->cursor != ds->cursor && ds->in_game) {
		snprintf(
			reason, sizeof(reason),
			"Dolphin no longer has message %u of the game; it resumes at message %u (the start of its current "
			"game, or the next game)",
			ds->cursor, msg->cursor);
		ds->in_game = false;
		/* an honest Dolphin resumes at a game's start; anything else of this game would be events twice */
		ds->await_game = true;
		if (ds->cb.gap)
			ds->cb.gap(ds->cb.ud, ds->bytes_delivered, ds->bytes_delivered, reason);
	}
	ds->cursor = msg->cursor;
	ds->have_cursor = true;
	/* the backoff is not reset here: a Dolphin that answers and hangs up at once must not be redialled 4 times a
	 * second; it is reset by the first game message delivered */
	ds->link = LINK_STREAMING;
	utf8_truncate(ds->nick, sizeof(ds->nick), msg->nick); /* off the network: whole characters only */
	snprintf(ds->version, sizeof(ds->version), "%s", msg->version);
	char refused[160];
	describe_refused(ds, refused, sizeof(refused));
	snprintf(reason, sizeof(reason), "Dolphin \"%s\" (Slippi %s) at %s:%u, from message %u%s", ds->nick,
		 ds->version, ds->host, ds->port, ds->cursor, refused);
	set_state(ds, SOURCE_CONNECTED, reason);
}

static void on_dolphin_closed(struct dolphin_source *ds)
{
	if (ds->in_game && ds->cb.gap)
		ds->cb.gap(ds->cb.ud, ds->bytes_delivered, ds->bytes_delivered, "Dolphin closed during a game");
	ds->in_game = false;
	char reason[256];
	snprintf(reason, sizeof(reason), "Dolphin at %s:%u closed", ds->host, ds->port);
	retry_later(ds, SOURCE_DISCONNECTED, reason);
}

/* Returns false when the connection was dropped. */
static bool on_packet(struct dolphin_source *ds, const uint8_t *data, size_t len)
{
	struct dolphin_msg msg;
	char err[256];
	char what[512];
	if (dolphin_msg_decode(data, len, &msg, &ds->payload, err, sizeof(err)) < 0) {
		protocol_error(ds, err);
		return false;
	}
	if (msg.dolphin_closed) {
		on_dolphin_closed(ds);
		return false;
	}
	if (msg.type == DOLPHIN_MSG_UNKNOWN) {
		snprintf(what, sizeof(what), "unknown message type '%s'", msg.type_name);
		protocol_error(ds, what);
		return false;
	}
	if (ds->link != LINK_STREAMING && msg.type != DOLPHIN_MSG_CONNECT_REPLY) {
		snprintf(what, sizeof(what), "%s before connect_reply", dolphin_msg_type_name(msg.type));
		protocol_error(ds, what);
		return false;
	}
	switch (msg.type) {
	case DOLPHIN_MSG_CONNECT_REPLY:
		if (ds->link != LINK_HANDSHAKE) {
			protocol_error(ds, "a second connect_reply");
			return false;
		}
		on_connect_reply(ds, &msg);
		return true;
	case DOLPHIN_MSG_MENU_EVENT:
		/* menu frames are not part of a game's stream; validated (decoded) and counted only */
		ds->menu_events++;
		return true;
	case DOLPHIN_MSG_START_GAME:
	case DOLPHIN_MSG_GAME_EVENT:
	case DOLPHIN_MSG_END_GAME:
		break;
	default:
		snprintf(what, sizeof(what), "unexpected %s", dolphin_msg_type_name(msg.type));
		protocol_error(ds, what);
		return false;
	}
	if (msg.cursor != ds->cursor) {
		/* reconnecting at the expected cursor resumes without a loss while Dolphin still has it */
		snprintf(what, sizeof(what), "%s has cursor %u where %u was expected", dolphin_msg_type_name(msg.type),
			 msg.cursor, ds->cursor);
		protocol_error(ds, what);
		return false;
	}
	if (msg.next_cursor != (uint32_t)(msg.cursor + 1u)) {
		/* Dolphin numbers its messages one by one; believing another next_cursor would make the source ask for
		 * messages it already has (events twice) or skip some (events lost) at the next reconnect */
		snprintf(what, sizeof(what), "%s %u has next_cursor %u", dolphin_msg_type_name(msg.type), msg.cursor,
			 msg.next_cursor);
		protocol_error(ds, what);
		return false;
	}
	ds->cursor = msg.next_cursor;
	ds->failures = 0; /* a session that delivers the game is a good one: the backoff starts again */
	if (ds->await_game &&
	    (msg.type == DOLPHIN_MSG_START_GAME || (msg.payload_len && msg.payload[0] == SLP_CMD_EVENT_PAYLOADS)))
		ds->await_game = false;
	if (msg.type == DOLPHIN_MSG_START_GAME) {
		ds->in_game = true;
	} else if (msg.type == DOLPHIN_MSG_END_GAME) {
		ds->in_game = false;
	} else if (msg.payload_len && !ds->await_game) {
		ds->bytes_delivered += msg.payload_len;
		if (ds->cb.data)
			ds->cb.data(ds->cb.ud, msg.payload, msg.payload_len);
	}
	return true;
}

static void on_enet_event(struct dolphin_source *ds, ENetEvent *ev)
{
	char reason[256];
	switch (ev->type) {
	case ENET_EVENT_TYPE_CONNECT: {
		if (ev->peer != ds->peer) {
			/* not the peer we dialled (the intercept makes this impossible): never kept */
			enet_peer_reset(ev->peer);
			break;
		}
		struct dolphin_msg req = {.type = DOLPHIN_MSG_CONNECT_REQUEST,
					  .cursor = ds->have_cursor ? ds->cursor : 0};
		if (!send_message(ds, &req)) {
			retry_later(ds, SOURCE_WAITING, "could not send connect_request");
			break;
		}
		ds->link = LINK_HANDSHAKE;
		ds->link_deadline_ms = net_now_ms() + DOLPHIN_HANDSHAKE_TIMEOUT_MS;
		break;
	}
	case ENET_EVENT_TYPE_RECEIVE:
		if (ev->peer == ds->peer && ds->link != LINK_IDLE)
			on_packet(ds, ev->packet->data, ev->packet->dataLength);
		enet_packet_destroy(ev->packet);
		break;
	case ENET_EVENT_TYPE_DISCONNECT:
		if (ev->peer != ds->peer)
			break;
		ds->peer = NULL; /* ENet already reset it */
		if (ds->link == LINK_CONNECTING)
			snprintf(reason, sizeof(reason), "no answer from Dolphin at %s:%u", ds->host, ds->port);
		else
			snprintf(reason, sizeof(reason), "Dolphin at %s:%u dropped the connection", ds->host, ds->port);
		retry_later(ds, SOURCE_WAITING, reason);
		break;
	default:
		break;
	}
}

static void service(struct dolphin_source *ds)
{
	if (ds->in_service || !ds->enet)
		return;
	ds->in_service = true;
	ENetEvent ev;
	int rc = 0;
	int n = 0;
	/* a consumer that stopped the loop (enough games) gets nothing more in this pass; once the attempt ended
	 * (ds->peer is NULL), nothing more is wanted from its host */
	while (!ds->destroy_pending && !net_loop_stopping(ds->loop) && ds->peer && n < DOLPHIN_EVENTS_PER_PASS &&
	       (rc = enet_host_service(ds->enet, &ev, 0)) > 0) {
		on_enet_event(ds, &ev);
		n++;
	}
	ds->in_service = false;
	if (ds->destroy_pending) {
		source_kind_dolphin.destroy(&ds->base);
		return;
	}
	if (!ds->peer) {
		close_host(ds); /* the attempt ended during the pass */
		return;
	}
	if (rc < 0) {
		retry_later(ds, SOURCE_WAITING, "ENet socket error");
		return;
	}
	if (ds->peer && (ds->link == LINK_CONNECTING || ds->link == LINK_HANDSHAKE) &&
	    net_now_ms() >= ds->link_deadline_ms) {
		char reason[256];
		snprintf(reason, sizeof(reason), "%s from Dolphin at %s:%u",
			 ds->link == LINK_CONNECTING ? "no answer" : "no connect_reply", ds->host, ds->port);
		retry_later(ds, SOURCE_WAITING, reason);
		return;
	}
	/* more events may be waiting when the pass was cut short */
	arm_service_timer(ds, n >= DOLPHIN_EVENTS_PER_PASS ? 0 : DOLPHIN_SERVICE_INTERVAL_MS);
}

static void on_readable(void *ud, int fd, unsigned events)
{
	(void)fd;
	(void)events;
	service(ud);
}

static void dolphin_destroy(struct source *src)
{
	struct dolphin_source *ds = (struct dolphin_source *)src;
	if (ds->in_service) {
		/* called from one of our callbacks: finish the pass first */
		ds->destroy_pending = true;
		return;
	}
	if (ds->retry_timer)
		net_loop_cancel(ds->loop, ds->retry_timer);
	if (ds->service_timer)
		net_loop_cancel(ds->loop, ds->service_timer);
	net_loop_resolve_cancel(ds->loop, ds->resolve_id);
	if (ds->peer) {
		enet_peer_disconnect_now(ds->peer, 0);
		ds->peer = NULL;
	}
	close_host(ds);
	if (ds->enet_ready)
		enet_deinitialize();
	bytes_free(&ds->payload);
	free(ds);
}

static struct source *dolphin_create(struct net_loop *loop, const char *address, const struct source_options *opts,
				     const struct source_callbacks *cb, char *err, size_t err_size)
{
	(void)opts;
	struct dolphin_source *ds = calloc(1, sizeof(*ds));
	if (!ds) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	ds->base.kind = &source_kind_dolphin;
	ds->loop = loop;
	ds->cb = *cb;
	ds->fd = -1;
	bytes_init(&ds->payload, DOLPHIN_PAYLOAD_MAX_BYTES + 16);
	if (net_parse_host_port(address, DOLPHIN_DEFAULT_PORT, ds->host, sizeof(ds->host), &ds->port) < 0 ||
	    !ds->host[0] || ds->port == 0) {
		snprintf(err, err_size, "bad Dolphin address '%s': use dolphin://HOST[:PORT]", address);
		free(ds);
		return NULL;
	}
	if (enet_initialize() != 0) {
		snprintf(err, err_size, "cannot initialise ENet");
		free(ds);
		return NULL;
	}
	ds->enet_ready = true;
	/* the first attempt's host: a source that cannot make a UDP socket at all fails here, not in a retry loop */
	if (!open_host(ds)) {
		snprintf(err, err_size, "cannot create an ENet host (UDP socket)");
		dolphin_destroy(&ds->base);
		return NULL;
	}
	start_connect(ds);
	return &ds->base;
}

static uint64_t dolphin_retry_at_ms(const struct source *src)
{
	return ((const struct dolphin_source *)src)->retry_at_ms;
}

static const char *dolphin_nick(const struct source *src)
{
	return ((const struct dolphin_source *)src)->nick;
}

const struct source_kind source_kind_dolphin = {
	.scheme = "dolphin",
	.default_port = DOLPHIN_DEFAULT_PORT,
	.create = dolphin_create,
	.destroy = dolphin_destroy,
	.nick = dolphin_nick,
	.retry_at_ms = dolphin_retry_at_ms,
};
