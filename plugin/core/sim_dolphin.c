/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A simulated Slippi Dolphin spectator server on the event loop: ENet, JSON messages, Dolphin's cursor rules. */
#include "sim_dolphin.h"

#include "dolphin_proto.h"
#include "net/sock.h"
#include "slp_frames.h"
#include "slp_splitter.h"

#include <enet/enet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIM_TICK_MS 2
#define SIM_PEER_QUEUE_COMMANDS 256 /* ENet commands queued per peer before the sim waits */
#define SIM_MAX_BACKLOG_MESSAGES 64 /* at max speed, how far the game may run ahead of the slowest spectator */
#define SIM_MESSAGES_PER_TICK 512
#define SIM_MENU_EVENT_MS 100
#define SIM_EVENTS_PER_SERVICE 4096
/* Ending: how long the spectators may take to get what is queued, then to acknowledge the disconnect. At the end
 * of the games it waits longer than at sim_dolphin_close, which a user is waiting on (a signal, OBS stopping). */
#define SIM_END_DRAIN_MS 2000
#define SIM_END_DISCONNECT_MS 1300
#define SIM_CLOSE_DRAIN_MS 1000
#define SIM_CLOSE_DISCONNECT_MS 300

struct sim_cut {
	size_t end;     /* the message spans the previous cut's end .. end */
	uint32_t frame; /* frames opened up to the end of this message: paces it */
};

struct sim_game {
	struct sim_replay_data replay;
	struct sim_cut *cuts;
	size_t n_cuts, cap_cuts;
};

struct sim_msg {
	uint8_t *data;
	size_t len;
};

struct sim_peer {
	ENetPeer *peer;
	bool shook_hands;
	size_t next;        /* index into the history of the next message to send */
	uint64_t menu_seen; /* menu_counter of the last menu_event sent */
};

enum sim_phase {
	PHASE_WAIT_CLIENT,
	PHASE_GAME,
	PHASE_DRAIN, /* the game was queued: wait for every spectator to take it */
	PHASE_MENU,
	PHASE_CLOSING,       /* end_game with dolphin_closed queued: wait for the spectators to take it */
	PHASE_DISCONNECTING, /* wait for the spectators to acknowledge the disconnect */
	PHASE_DONE,
};

struct sim_dolphin {
	struct net_loop *loop;
	struct sim_dolphin_callbacks cb;
	ENetHost *host;
	int fd;
	uint16_t port;
	char *nick;
	double speed; /* 0: max */
	bool loop_games;
	size_t wait_spectators;
	uint64_t menu_ms;
	int64_t drop_after;
	bool dropped;
	struct sim_game *games;
	size_t n_games;
	size_t game;    /* playing */
	size_t cut;     /* next message of the game */
	uint64_t t0_us; /* the game's start, for pacing */
	enum sim_phase phase;
	uint64_t phase_until_ms;
	/* Dolphin's state */
	struct sim_msg *history;
	size_t n_history, cap_history;
	uint32_t cursor_offset;
	bool in_game;
	struct bytes menu_event;
	uint64_t menu_counter;
	uint64_t next_menu_ms;
	struct sim_peer peers[SIM_DOLPHIN_PEERS];
	struct bytes scratch;
	uint64_t timer;
	uint64_t drain_deadline_ms;
	uint64_t disconnect_ms;
	uint64_t disconnect_deadline_ms;
	int status;
	uint64_t finish_timer;
};

static void sim_log(struct sim_dolphin *sim, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sim_log(struct sim_dolphin *sim, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sim_log_line(sim->cb.log, sim->cb.ud, fmt, ap);
	va_end(ap);
}

/* ---- cutting a replay into Dolphin's messages ---- */

struct scan {
	struct sim_game *g;
	bool bookends;
	struct slp_frame_tracker tracker;
	uint32_t frames;
	bool oom;
};

static bool add_cut(struct sim_game *g, size_t end, uint32_t frame)
{
	if (g->n_cuts && g->cuts[g->n_cuts - 1].end == end)
		return true;
	if (g->n_cuts == g->cap_cuts) {
		size_t cap = g->cap_cuts ? g->cap_cuts * 2 : 1024;
		struct sim_cut *c = realloc(g->cuts, cap * sizeof(*c));
		if (!c)
			return false;
		g->cuts = c;
		g->cap_cuts = cap;
	}
	g->cuts[g->n_cuts].end = end;
	g->cuts[g->n_cuts].frame = frame;
	g->n_cuts++;
	return true;
}

static int has_bookend(void *ud, const struct slp_event *ev)
{
	if (!ev->reassembled && ev->code == SLP_CMD_FRAME_BOOKEND) {
		*(bool *)ud = true;
		return 1;
	}
	return 0;
}

/* Dolphin flushes after Game Start, Frame Bookend, Game End and each Message Splitter chunk. Replays from before
 * Frame Bookend existed are cut where a new frame opens, as the file source does. */
static int scan_event(void *ud, const struct slp_event *ev)
{
	struct scan *sc = ud;
	if (ev->reassembled)
		return 0;
	if (slp_frame_tracker_opens(&sc->tracker, ev)) {
		if (!sc->bookends && sc->frames && !add_cut(sc->g, (size_t)ev->offset, sc->frames))
			goto oom;
		sc->frames++;
	}
	switch (ev->code) {
	case SLP_CMD_GAME_START:
	case SLP_CMD_FRAME_BOOKEND:
	case SLP_CMD_GAME_END:
	case SLP_CMD_MESSAGE_SPLITTER:
		if (!add_cut(sc->g, (size_t)(ev->offset + ev->size), sc->frames))
			goto oom;
		break;
	default:
		break;
	}
	return 0;
oom:
	sc->oom = true;
	return 1;
}

static int cut_game(struct sim_dolphin *sim, struct sim_game *g, char *err, size_t err_size)
{
	const struct sim_replay_data *r = &g->replay;
	struct scan sc = {.g = g};
	struct slp_splitter s;
	slp_splitter_init(&s);
	slp_splitter_feed(&s, r->events, r->events_size, has_bookend, &sc.bookends);
	slp_splitter_free(&s);
	slp_splitter_init(&s);
	int rc = slp_splitter_feed(&s, r->events, r->events_size, scan_event, &sc);
	if (rc < 0)
		sim_log(sim, "andross: dolphin-sim: %s: %s; the rest is sent as one message", r->name, s.error);
	slp_splitter_free(&s);
	if (sc.oom || !add_cut(g, r->events_size, sc.frames)) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	if (g->n_cuts && g->cuts[0].end == 0)
		memmove(g->cuts, g->cuts + 1, --g->n_cuts * sizeof(*g->cuts));
	return 0;
}

/* ---- Dolphin's message history ---- */

static bool push_history(struct sim_dolphin *sim, const struct bytes *msg)
{
	if (sim->n_history == sim->cap_history) {
		size_t cap = sim->cap_history ? sim->cap_history * 2 : 4096;
		struct sim_msg *h = realloc(sim->history, cap * sizeof(*h));
		if (!h)
			return false;
		sim->history = h;
		sim->cap_history = cap;
	}
	uint8_t *copy = malloc(msg->len);
	if (!copy)
		return false;
	memcpy(copy, msg->data, msg->len);
	sim->history[sim->n_history].data = copy;
	sim->history[sim->n_history].len = msg->len;
	sim->n_history++;
	return true;
}

static void clear_history(struct sim_dolphin *sim)
{
	for (size_t i = 0; i < sim->n_history; i++)
		free(sim->history[i].data);
	sim->n_history = 0;
}

static uint32_t next_cursor(const struct sim_dolphin *sim)
{
	return (uint32_t)(sim->n_history + sim->cursor_offset);
}

static bool queue_message(struct sim_dolphin *sim, struct dolphin_msg *msg)
{
	bytes_clear(&sim->scratch);
	return dolphin_msg_encode(msg, &sim->scratch) && push_history(sim, &sim->scratch);
}

static bool queue_start_game(struct sim_dolphin *sim)
{
	clear_history(sim);
	/* spectators caught up with the last game start this one from its first message */
	for (int i = 0; i < SIM_DOLPHIN_PEERS; i++)
		sim->peers[i].next = 0;
	sim->in_game = true;
	struct dolphin_msg m = {.type = DOLPHIN_MSG_START_GAME, .cursor = next_cursor(sim)};
	m.next_cursor = m.cursor + 1;
	return queue_message(sim, &m);
}

static bool queue_game_event(struct sim_dolphin *sim, const uint8_t *payload, size_t len)
{
	struct dolphin_msg m = {.type = DOLPHIN_MSG_GAME_EVENT, .cursor = next_cursor(sim)};
	m.next_cursor = m.cursor + 1;
	m.payload = payload;
	m.payload_len = len;
	return queue_message(sim, &m);
}

static bool queue_end_game(struct sim_dolphin *sim, bool dolphin_closed)
{
	struct dolphin_msg m = {.type = DOLPHIN_MSG_END_GAME, .cursor = next_cursor(sim)};
	m.next_cursor = m.cursor + 1;
	m.dolphin_closed = dolphin_closed;
	if (!queue_message(sim, &m))
		return false;
	sim->cursor_offset += (uint32_t)sim->n_history;
	sim->in_game = false;
	sim->menu_counter = 0;
	bytes_clear(&sim->menu_event);
	return true;
}

static void make_menu_event(struct sim_dolphin *sim)
{
	/* a stand-in for Dolphin's menu bytes: they are not part of any game's stream */
	uint8_t payload[8] = {0x3E, 0, 0, 0, 0, 0, 0, 0};
	wr_u32be(payload + 1, (uint32_t)sim->menu_counter);
	struct dolphin_msg m = {.type = DOLPHIN_MSG_MENU_EVENT, .payload = payload, .payload_len = sizeof(payload)};
	bytes_clear(&sim->menu_event);
	if (dolphin_msg_encode(&m, &sim->menu_event))
		sim->menu_counter++;
}

/* ---- spectators ---- */

static void send_packet(ENetPeer *peer, const uint8_t *data, size_t len)
{
	ENetPacket *p = enet_packet_create(data, len, ENET_PACKET_FLAG_RELIABLE);
	if (p && enet_peer_send(peer, 0, p) < 0)
		enet_packet_destroy(p);
}

static void on_request(struct sim_dolphin *sim, struct sim_peer *sp, const uint8_t *data, size_t len)
{
	struct dolphin_msg req;
	struct bytes payload;
	char err[256];
	bytes_init(&payload, 64);
	int rc = dolphin_msg_decode(data, len, &req, &payload, err, sizeof(err));
	bytes_free(&payload);
	if (rc < 0 || req.type != DOLPHIN_MSG_CONNECT_REQUEST) {
		sim_log(sim, "andross: dolphin-sim: ignored a message from a spectator: %s",
			rc < 0 ? err : "not a connect_request");
		return;
	}
	uint32_t requested = req.cursor;
	size_t start = 0;
	if (requested >= sim->cursor_offset && requested <= sim->cursor_offset + sim->n_history)
		start = requested - sim->cursor_offset;
	uint32_t sent = (uint32_t)start + sim->cursor_offset;
	/* a spectator joining in the menu is not caught up: it gets the next game */
	sp->next = sim->in_game ? start : sim->n_history;
	struct dolphin_msg reply = {.type = DOLPHIN_MSG_CONNECT_REPLY, .cursor = sent};
	snprintf(reply.nick, sizeof(reply.nick), "%s", sim->nick);
	snprintf(reply.version, sizeof(reply.version), "%s", SIM_DOLPHIN_VERSION);
	bytes_clear(&sim->scratch);
	if (dolphin_msg_encode(&reply, &sim->scratch))
		send_packet(sp->peer, sim->scratch.data, sim->scratch.len);
	sp->shook_hands = true;
	sp->menu_seen = 0;
	sim_log(sim, "dolphin-sim: spectator asked for cursor %u, resumes at %u", requested, sent);
}

static bool peer_busy(const ENetPeer *peer)
{
	return enet_list_size((ENetList *)&peer->outgoingCommands) >= SIM_PEER_QUEUE_COMMANDS;
}

static bool peer_idle(ENetPeer *peer)
{
	return enet_list_empty(&peer->outgoingCommands) && enet_list_empty(&peer->sentReliableCommands);
}

static void drop_every_spectator(struct sim_dolphin *sim)
{
	/* the disconnect follows what was already queued, so spectators have every message up to here */
	for (int k = 0; k < SIM_DOLPHIN_PEERS; k++) {
		if (sim->peers[k].peer) {
			enet_peer_disconnect_later(sim->peers[k].peer, 0);
			memset(&sim->peers[k], 0, sizeof(sim->peers[k]));
		}
	}
}

static void write_events(struct sim_dolphin *sim)
{
	for (int i = 0; i < SIM_DOLPHIN_PEERS; i++) {
		struct sim_peer *sp = &sim->peers[i];
		if (!sp->peer || !sp->shook_hands)
			continue;
		if (!sim->in_game && sim->menu_event.len && sp->menu_seen != sim->menu_counter) {
			send_packet(sp->peer, sim->menu_event.data, sim->menu_event.len);
			sp->menu_seen = sim->menu_counter;
		}
		if (sp->next > sim->n_history)
			sp->next = 0;
		while (sp->next < sim->n_history && !peer_busy(sp->peer)) {
			send_packet(sp->peer, sim->history[sp->next].data, sim->history[sp->next].len);
			sp->next++;
			if (sim->drop_after >= 0 && !sim->dropped &&
			    (int64_t)(sim->cursor_offset + sp->next - 1) == sim->drop_after) {
				sim->dropped = true;
				sim_log(sim, "dolphin-sim: dropping every spectator after message %lld",
					(long long)sim->drop_after);
				drop_every_spectator(sim);
				return;
			}
		}
	}
}

static size_t spectators(const struct sim_dolphin *sim)
{
	size_t n = 0;
	for (int i = 0; i < SIM_DOLPHIN_PEERS; i++)
		n += sim->peers[i].peer && sim->peers[i].shook_hands;
	return n;
}

/* The largest number of history messages a spectator still has to get, and whether all ENet queues are empty. */
static size_t backlog(struct sim_dolphin *sim, bool *all_idle)
{
	size_t most = 0;
	*all_idle = true;
	for (int i = 0; i < SIM_DOLPHIN_PEERS; i++) {
		struct sim_peer *sp = &sim->peers[i];
		if (!sp->peer || !sp->shook_hands)
			continue;
		size_t left = sp->next <= sim->n_history ? sim->n_history - sp->next : sim->n_history;
		if (left > most)
			most = left;
		if (!peer_idle(sp->peer))
			*all_idle = false;
	}
	return most;
}

static void service(struct sim_dolphin *sim)
{
	ENetEvent ev;
	int n = 0;
	while (n++ < SIM_EVENTS_PER_SERVICE && enet_host_service(sim->host, &ev, 0) > 0) {
		struct sim_peer *sp = ev.peer ? &sim->peers[ev.peer->incomingPeerID % SIM_DOLPHIN_PEERS] : NULL;
		switch (ev.type) {
		case ENET_EVENT_TYPE_CONNECT:
			memset(sp, 0, sizeof(*sp));
			sp->peer = ev.peer;
			sim_log(sim, "dolphin-sim: spectator connected");
			break;
		case ENET_EVENT_TYPE_RECEIVE:
			if (sp->peer == ev.peer)
				on_request(sim, sp, ev.packet->data, ev.packet->dataLength);
			enet_packet_destroy(ev.packet);
			break;
		case ENET_EVENT_TYPE_DISCONNECT:
			if (sp->peer == ev.peer)
				memset(sp, 0, sizeof(*sp));
			sim_log(sim, "dolphin-sim: spectator disconnected");
			break;
		default:
			break;
		}
	}
}

/* ---- playback ---- */

static void on_finish_timer(void *ud)
{
	struct sim_dolphin *sim = ud;
	sim->finish_timer = 0;
	if (sim->cb.finished)
		sim->cb.finished(sim->cb.ud, sim->status); /* may destroy sim: nothing after this */
}

static void start_close(struct sim_dolphin *sim, uint64_t drain_ms, uint64_t disconnect_ms)
{
	if (sim->phase >= PHASE_CLOSING)
		return;
	sim->phase = PHASE_CLOSING;
	if (!queue_end_game(sim, true))
		sim->status = 1;
	sim->drain_deadline_ms = net_now_ms() + drain_ms;
	sim->disconnect_ms = disconnect_ms;
}

static void begin_game(struct sim_dolphin *sim)
{
	sim->phase = PHASE_GAME;
	sim->cut = 0;
	sim->t0_us = net_now_us();
	if (!queue_start_game(sim))
		sim->status = 1;
	sim_log(sim, "dolphin-sim: game %zu: %s", sim->game + 1, sim->games[sim->game].replay.name);
}

static void produce(struct sim_dolphin *sim)
{
	struct sim_game *g = &sim->games[sim->game];
	bool idle;
	for (int n = 0; n < SIM_MESSAGES_PER_TICK && sim->cut < g->n_cuts; n++) {
		if (sim->speed > 0) {
			uint32_t frame = g->cuts[sim->cut].frame;
			uint64_t due =
				sim->t0_us + (uint64_t)((double)(frame ? frame - 1 : 0) * 1e6 / (60.0 * sim->speed));
			if (due > net_now_us())
				return;
		} else if (backlog(sim, &idle) >= SIM_MAX_BACKLOG_MESSAGES) {
			return;
		}
		size_t from = sim->cut ? g->cuts[sim->cut - 1].end : 0;
		size_t to = g->cuts[sim->cut].end;
		sim->cut++;
		if (!queue_game_event(sim, g->replay.events + from, to - from)) {
			sim->status = 1;
			start_close(sim, SIM_END_DRAIN_MS, SIM_END_DISCONNECT_MS);
			return;
		}
	}
	if (sim->cut >= g->n_cuts) {
		if (!queue_end_game(sim, false))
			sim->status = 1;
		sim->phase = PHASE_DRAIN;
	}
}

static void tick(struct sim_dolphin *sim)
{
	uint64_t now = net_now_ms();
	bool idle = true;
	switch (sim->phase) {
	case PHASE_WAIT_CLIENT:
		if (spectators(sim) >= sim->wait_spectators)
			begin_game(sim);
		break;
	case PHASE_GAME:
		produce(sim);
		break;
	case PHASE_DRAIN:
		/* the next game waits until every spectator has the whole game (bounded history, no lost tail) */
		if (backlog(sim, &idle) == 0 && idle) {
			sim->phase = PHASE_MENU;
			sim->phase_until_ms = now + sim->menu_ms;
			sim->next_menu_ms = now;
		}
		break;
	case PHASE_MENU:
		if (now >= sim->next_menu_ms) {
			make_menu_event(sim);
			sim->next_menu_ms = now + SIM_MENU_EVENT_MS;
		}
		if (now < sim->phase_until_ms)
			break;
		if (sim->game + 1 < sim->n_games || sim->loop_games) {
			sim->game = (sim->game + 1) % sim->n_games;
			begin_game(sim);
		} else {
			start_close(sim, SIM_END_DRAIN_MS, SIM_END_DISCONNECT_MS);
		}
		break;
	case PHASE_CLOSING:
	case PHASE_DISCONNECTING:
	case PHASE_DONE:
		break;
	}
	write_events(sim);
	enet_host_flush(sim->host);
	if (sim->phase == PHASE_CLOSING && ((backlog(sim, &idle) == 0 && idle) || now >= sim->drain_deadline_ms)) {
		for (int i = 0; i < SIM_DOLPHIN_PEERS; i++)
			if (sim->peers[i].peer)
				enet_peer_disconnect_later(sim->peers[i].peer, 0);
		enet_host_flush(sim->host);
		sim->phase = PHASE_DISCONNECTING;
		sim->disconnect_deadline_ms = now + sim->disconnect_ms;
	}
	if (sim->phase == PHASE_DISCONNECTING && (!spectators(sim) || now >= sim->disconnect_deadline_ms)) {
		sim->phase = PHASE_DONE;
		sim->finish_timer = net_loop_timer(sim->loop, 0, on_finish_timer, sim);
	}
}

static void on_timer(void *ud)
{
	struct sim_dolphin *sim = ud;
	sim->timer = 0;
	service(sim);
	tick(sim);
	service(sim);
	/* once ended there is nothing left to pace: the socket's watch answers whatever still arrives */
	if (sim->phase != PHASE_DONE)
		sim->timer = net_loop_timer(sim->loop, SIM_TICK_MS, on_timer, sim);
}

static void on_readable(void *ud, int fd, unsigned events)
{
	(void)fd;
	(void)events;
	struct sim_dolphin *sim = ud;
	service(sim);
	write_events(sim);
	enet_host_flush(sim->host);
}

/* ---- the object ---- */

void sim_dolphin_options_init(struct sim_dolphin_options *o)
{
	memset(o, 0, sizeof(*o));
	o->host = "127.0.0.1";
	o->speed = 1;
	o->nick = SIM_DOLPHIN_NICK_DEFAULT;
	o->menu_ms = SIM_DOLPHIN_MENU_MS_DEFAULT;
	o->drop_after = -1;
}

static int load_games(struct sim_dolphin *sim, const struct sim_dolphin_options *o, char *err, size_t err_size)
{
	sim->games = calloc(o->n_replays, sizeof(*sim->games));
	if (!sim->games) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < o->n_replays; i++) {
		sim->n_games = i + 1;
		if (sim_replay_load(&o->replays[i], i, &sim->games[i].replay, err, err_size) < 0 ||
		    cut_game(sim, &sim->games[i], err, err_size) < 0)
			return -1;
	}
	return 0;
}

struct sim_dolphin *sim_dolphin_create(struct net_loop *loop, const struct sim_dolphin_options *o,
				       const struct sim_dolphin_callbacks *cb, char *err, size_t err_size)
{
	if (!o->replays || !o->n_replays) {
		snprintf(err, err_size, "no replay to play");
		return NULL;
	}
	if (!(o->speed >= 0) || o->speed > 1e6) {
		snprintf(err, err_size, "speed %g: use 0 (max), 1 or a number above 0", o->speed);
		return NULL;
	}
	const char *nick = o->nick ? o->nick : SIM_DOLPHIN_NICK_DEFAULT;
	if (strlen(nick) >= DOLPHIN_TEXT_MAX) {
		snprintf(err, err_size, "nick is longer than %d bytes", DOLPHIN_TEXT_MAX - 1);
		return NULL;
	}
	if (o->wait_spectators > SIM_DOLPHIN_PEERS) {
		snprintf(err, err_size, "cannot wait for %zu spectators: Dolphin serves %d", o->wait_spectators,
			 SIM_DOLPHIN_PEERS);
		return NULL;
	}
	struct sim_dolphin *sim = calloc(1, sizeof(*sim));
	if (!sim) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	sim->loop = loop;
	if (cb)
		sim->cb = *cb;
	sim->fd = -1;
	sim->speed = o->speed;
	sim->loop_games = o->loop;
	sim->wait_spectators = o->wait_spectators;
	sim->menu_ms = o->menu_ms;
	sim->drop_after = o->drop_after;
	bytes_init(&sim->scratch, 0);
	bytes_init(&sim->menu_event, 0);
	sim->nick = strdup(nick);
	if (!sim->nick) {
		snprintf(err, err_size, "out of memory");
		sim_dolphin_destroy(sim);
		return NULL;
	}
	if (load_games(sim, o, err, err_size) < 0) {
		sim_dolphin_destroy(sim);
		return NULL;
	}
	if (enet_initialize() != 0) {
		snprintf(err, err_size, "cannot initialise ENet");
		sim_dolphin_destroy(sim);
		return NULL;
	}
	const char *host = o->host ? o->host : "127.0.0.1";
	ENetAddress addr = {0};
	if (enet_address_set_host_ip(&addr, host) != 0 && enet_address_set_host(&addr, host) != 0) {
		snprintf(err, err_size, "cannot resolve '%s'", host);
		enet_deinitialize();
		sim_dolphin_destroy(sim);
		return NULL;
	}
	addr.port = o->port;
	sim->host = enet_host_create(&addr, SIM_DOLPHIN_PEERS, 2, 0, 0);
	if (!sim->host) {
		snprintf(err, err_size, "cannot listen on %s:%u (UDP port taken?)", host, o->port);
		enet_deinitialize();
		sim_dolphin_destroy(sim);
		return NULL;
	}
	ENetAddress bound;
	sim->port = o->port;
	if (enet_socket_get_address(sim->host->socket, &bound) == 0)
		sim->port = bound.port;
	sim->fd = (int)sim->host->socket;
	if (net_loop_watch(loop, sim->fd, NET_READ, on_readable, sim) < 0) {
		snprintf(err, err_size, "out of memory");
		sim->fd = -1;
		sim_dolphin_destroy(sim);
		return NULL;
	}
	if (sim->wait_spectators)
		sim->phase = PHASE_WAIT_CLIENT;
	else
		begin_game(sim);
	sim->timer = net_loop_timer(loop, 0, on_timer, sim);
	if (!sim->timer) {
		snprintf(err, err_size, "out of memory");
		sim_dolphin_destroy(sim);
		return NULL;
	}
	return sim;
}

void sim_dolphin_close(struct sim_dolphin *sim)
{
	start_close(sim, SIM_CLOSE_DRAIN_MS, SIM_CLOSE_DISCONNECT_MS);
}

void sim_dolphin_destroy(struct sim_dolphin *sim)
{
	if (!sim)
		return;
	if (sim->timer)
		net_loop_cancel(sim->loop, sim->timer);
	if (sim->finish_timer)
		net_loop_cancel(sim->loop, sim->finish_timer);
	if (sim->fd >= 0)
		net_loop_unwatch(sim->loop, sim->fd);
	if (sim->host) {
		/* every peer ENet still knows, including those dropped by drop_after and not gone yet */
		for (size_t i = 0; i < sim->host->peerCount; i++) {
			ENetPeer *p = &sim->host->peers[i];
			if (p->state != ENET_PEER_STATE_DISCONNECTED)
				enet_peer_disconnect_now(p, 0);
		}
		enet_host_destroy(sim->host);
		enet_deinitialize();
	}
	clear_history(sim);
	free(sim->history);
	for (size_t i = 0; i < sim->n_games; i++) {
		sim_replay_data_free(&sim->games[i].replay);
		free(sim->games[i].cuts);
	}
	free(sim->games);
	bytes_free(&sim->scratch);
	bytes_free(&sim->menu_event);
	free(sim->nick);
	free(sim);
}

uint16_t sim_dolphin_port(const struct sim_dolphin *sim)
{
	return sim->port;
}
