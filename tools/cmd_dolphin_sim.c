/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * andross dolphin-sim: plays replays as Slippi Dolphin's spectator server does (docs/protocols.md §2,
 * docs/sources-dolphin.md): an ENet host with 4 peers and 2 channels, JSON messages on channel 0, reliable.
 *
 * Cursor rules follow Dolphin's: the cursor is the message index, continuing across games; the history is the
 * current game (cleared at start_game, kept through the menu after end_game); a connect_request below the current
 * game or beyond the history restarts the spectator at the current game's start; one inside the history resumes
 * there; a spectator that joins in the menu is not caught up and gets the next start_game.
 */
#include "cli.h"

#include "dolphin_proto.h"
#include "net/loop.h"
#include "net/sock.h"
#include "slp_file.h"
#include "slp_reader.h"
#include "slp_frames.h"
#include "slp_splitter.h"

#include <enet/enet.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
	"usage: andross dolphin-sim --replay FILE [--replay FILE...] --listen HOST:PORT [--speed 1|N|max] [--loop]\n"
	"                           [--nick NAME] [--wait N] [--menu-ms MS] [--drop-after CURSOR]\n"
	"\n"
	"Serves replays the way Slippi Dolphin's spectator server does (ENet over UDP, JSON messages), for clients such\n"
	"as `andross record --source dolphin://HOST:PORT` or slippi-js DolphinConnection.\n"
	"  --replay FILE        a game to play; repeat for several games, played in order\n"
	"  --listen HOST:PORT   UDP address to serve on (port 0 picks a free one); prints `listening on HOST:PORT`\n"
	"  --speed 1|N|max      1 = real time (60 frames a second, the default), N = N times faster, max = as fast as\n"
	"                       the spectators take it\n"
	"  --loop               play the replays again and again (otherwise exit once the last game was delivered)\n"
	"  --nick NAME          the nick in connect_reply (default: Slippi Online)\n"
	"  --wait N             start the first game only once N spectators have connected\n"
	"  --menu-ms MS         menu time between games (default: 1000 / speed, 100 at max)\n"
	"  --drop-after CURSOR  (testing) drop every spectator once, right after sending message CURSOR\n"
	"Stops at SIGINT/SIGTERM, sending end_game with dolphin_closed: true.\n";

#define SIM_PEERS 4
#define SIM_MAX_REPLAYS 64
#define SIM_TICK_MS 2
#define SIM_PEER_QUEUE_COMMANDS 256 /* ENet commands queued per peer before the sim waits */
#define SIM_MAX_BACKLOG_MESSAGES 64 /* at max speed, how far the game may run ahead of the slowest spectator */
#define SIM_MESSAGES_PER_TICK 512
#define SIM_MENU_EVENT_MS 100

struct sim_cut {
	size_t end;     /* the message spans the previous cut's end .. end */
	uint32_t frame; /* frames opened up to the end of this message: paces it */
};

struct sim_replay {
	const char *path;
	struct bytes file;
	const uint8_t *events;
	size_t events_size;
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
	PHASE_CLOSING,
};

struct sim {
	struct net_loop *loop;
	ENetHost *host;
	const char *nick;
	const char *version;
	double speed; /* 0: max */
	bool loop_replays;
	size_t wait_spectators;
	uint64_t menu_ms;
	int64_t drop_after;
	bool dropped;
	struct sim_replay replays[SIM_MAX_REPLAYS];
	size_t n_replays;
	size_t replay;  /* playing */
	size_t cut;     /* next message of the replay */
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
	struct sim_peer peers[SIM_PEERS];
	struct bytes scratch;
	uint64_t timer;
	bool quit_requested;
	uint64_t close_deadline_ms;
	int status;
};

/* ---- cutting a replay into Dolphin's messages ---- */

struct scan {
	struct sim_replay *r;
	bool bookends;
	struct slp_frame_tracker tracker;
	uint32_t frames;
	bool oom;
};

static bool add_cut(struct sim_replay *r, size_t end, uint32_t frame)
{
	if (r->n_cuts && r->cuts[r->n_cuts - 1].end == end)
		return true;
	if (r->n_cuts == r->cap_cuts) {
		size_t cap = r->cap_cuts ? r->cap_cuts * 2 : 1024;
		struct sim_cut *c = realloc(r->cuts, cap * sizeof(*c));
		if (!c)
			return false;
		r->cuts = c;
		r->cap_cuts = cap;
	}
	r->cuts[r->n_cuts].end = end;
	r->cuts[r->n_cuts].frame = frame;
	r->n_cuts++;
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
		if (!sc->bookends && sc->frames && !add_cut(sc->r, (size_t)ev->offset, sc->frames))
			goto oom;
		sc->frames++;
	}
	switch (ev->code) {
	case SLP_CMD_GAME_START:
	case SLP_CMD_FRAME_BOOKEND:
	case SLP_CMD_GAME_END:
	case SLP_CMD_MESSAGE_SPLITTER:
		if (!add_cut(sc->r, (size_t)(ev->offset + ev->size), sc->frames))
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

static int load_replay(struct sim_replay *r, const char *path)
{
	char err[512];
	r->path = path;
	bytes_init(&r->file, 0);
	if (slp_read_whole_file(path, (size_t)1 << 30, &r->file, err, sizeof(err)) < 0) {
		cli_error("dolphin-sim: %s", err);
		return -1;
	}
	struct slp_container c;
	if (slp_container_parse(r->file.data, r->file.len, &c, err, sizeof(err)) < 0 && c.events_offset == 0) {
		cli_error("dolphin-sim: %s: %s", path, err);
		return -1;
	}
	r->events = r->file.data + c.events_offset;
	r->events_size = c.events_size;
	struct scan sc = {.r = r};
	struct slp_splitter s;
	slp_splitter_init(&s);
	slp_splitter_feed(&s, r->events, r->events_size, has_bookend, &sc.bookends);
	slp_splitter_free(&s);
	slp_splitter_init(&s);
	int rc = slp_splitter_feed(&s, r->events, r->events_size, scan_event, &sc);
	if (rc < 0)
		fprintf(stderr, "andross: dolphin-sim: %s: %s; the rest is sent as one message\n", path, s.error);
	slp_splitter_free(&s);
	if (sc.oom || !add_cut(r, r->events_size, sc.frames)) {
		cli_error("dolphin-sim: out of memory");
		return -1;
	}
	if (r->n_cuts && r->cuts[0].end == 0)
		memmove(r->cuts, r->cuts + 1, --r->n_cuts * sizeof(*r->cuts));
	return 0;
}

/* ---- Dolphin's message history ---- */

static bool push_history(struct sim *sim, const struct bytes *msg)
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

static void clear_history(struct sim *sim)
{
	for (size_t i = 0; i < sim->n_history; i++)
		free(sim->history[i].data);
	sim->n_history = 0;
}

static uint32_t next_cursor(const struct sim *sim)
{
	return (uint32_t)(sim->n_history + sim->cursor_offset);
}

static bool queue_message(struct sim *sim, struct dolphin_msg *msg)
{
	bytes_clear(&sim->scratch);
	return dolphin_msg_encode(msg, &sim->scratch) && push_history(sim, &sim->scratch);
}

static bool queue_start_game(struct sim *sim)
{
	clear_history(sim);
	/* spectators caught up with the last game start this one from its first message */
	for (int i = 0; i < SIM_PEERS; i++)
		sim->peers[i].next = 0;
	sim->in_game = true;
	struct dolphin_msg m = {.type = DOLPHIN_MSG_START_GAME, .cursor = next_cursor(sim)};
	m.next_cursor = m.cursor + 1;
	return queue_message(sim, &m);
}

static bool queue_game_event(struct sim *sim, const uint8_t *payload, size_t len)
{
	struct dolphin_msg m = {.type = DOLPHIN_MSG_GAME_EVENT, .cursor = next_cursor(sim)};
	m.next_cursor = m.cursor + 1;
	m.payload = payload;
	m.payload_len = len;
	return queue_message(sim, &m);
}

static bool queue_end_game(struct sim *sim, bool dolphin_closed)
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

static void make_menu_event(struct sim *sim)
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

static void on_request(struct sim *sim, struct sim_peer *sp, const uint8_t *data, size_t len)
{
	struct dolphin_msg req;
	struct bytes payload;
	char err[256];
	bytes_init(&payload, 64);
	int rc = dolphin_msg_decode(data, len, &req, &payload, err, sizeof(err));
	bytes_free(&payload);
	if (rc < 0 || req.type != DOLPHIN_MSG_CONNECT_REQUEST) {
		fprintf(stderr, "andross: dolphin-sim: ignored a message from a spectator: %s\n",
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
	snprintf(reply.version, sizeof(reply.version), "%s", sim->version);
	bytes_clear(&sim->scratch);
	if (dolphin_msg_encode(&reply, &sim->scratch))
		send_packet(sp->peer, sim->scratch.data, sim->scratch.len);
	sp->shook_hands = true;
	sp->menu_seen = 0;
	fprintf(stderr, "dolphin-sim: spectator asked for cursor %u, resumes at %u\n", requested, sent);
}

static bool peer_busy(const ENetPeer *peer)
{
	return enet_list_size((ENetList *)&peer->outgoingCommands) >= SIM_PEER_QUEUE_COMMANDS;
}

static bool peer_idle(ENetPeer *peer)
{
	return enet_list_empty(&peer->outgoingCommands) && enet_list_empty(&peer->sentReliableCommands);
}

static void write_events(struct sim *sim)
{
	for (int i = 0; i < SIM_PEERS; i++) {
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
				fprintf(stderr, "dolphin-sim: dropping every spectator after message %lld\n",
					(long long)sim->drop_after);
				/* the disconnect follows what was already queued, so spectators have every message up to
				 * CURSOR and resume right after it */
				for (int k = 0; k < SIM_PEERS; k++) {
					if (sim->peers[k].peer) {
						enet_peer_disconnect_later(sim->peers[k].peer, 0);
						memset(&sim->peers[k], 0, sizeof(sim->peers[k]));
					}
				}
				return;
			}
		}
	}
}

static size_t spectators(const struct sim *sim)
{
	size_t n = 0;
	for (int i = 0; i < SIM_PEERS; i++)
		n += sim->peers[i].peer && sim->peers[i].shook_hands;
	return n;
}

/* The largest number of history messages a spectator still has to get, and whether all ENet queues are empty. */
static size_t backlog(struct sim *sim, bool *all_idle)
{
	size_t most = 0;
	*all_idle = true;
	for (int i = 0; i < SIM_PEERS; i++) {
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

static void service(struct sim *sim)
{
	ENetEvent ev;
	int n = 0;
	while (n++ < 4096 && enet_host_service(sim->host, &ev, 0) > 0) {
		struct sim_peer *sp = ev.peer ? &sim->peers[ev.peer->incomingPeerID % SIM_PEERS] : NULL;
		switch (ev.type) {
		case ENET_EVENT_TYPE_CONNECT:
			memset(sp, 0, sizeof(*sp));
			sp->peer = ev.peer;
			fprintf(stderr, "dolphin-sim: spectator connected\n");
			break;
		case ENET_EVENT_TYPE_RECEIVE:
			if (sp->peer == ev.peer)
				on_request(sim, sp, ev.packet->data, ev.packet->dataLength);
			enet_packet_destroy(ev.packet);
			break;
		case ENET_EVENT_TYPE_DISCONNECT:
			if (sp->peer == ev.peer)
				memset(sp, 0, sizeof(*sp));
			fprintf(stderr, "dolphin-sim: spectator disconnected\n");
			break;
		default:
			break;
		}
	}
}

/* ---- playback ---- */

static void start_close(struct sim *sim)
{
	if (sim->phase == PHASE_CLOSING)
		return;
	sim->phase = PHASE_CLOSING;
	if (!queue_end_game(sim, true))
		sim->status = 1;
	sim->close_deadline_ms = net_now_ms() + 2000;
}

static void begin_game(struct sim *sim)
{
	sim->phase = PHASE_GAME;
	sim->cut = 0;
	sim->t0_us = net_now_us();
	if (!queue_start_game(sim))
		sim->status = 1;
	fprintf(stderr, "dolphin-sim: game %zu: %s\n", sim->replay + 1, sim->replays[sim->replay].path);
}

static void produce(struct sim *sim)
{
	struct sim_replay *r = &sim->replays[sim->replay];
	bool idle;
	for (int n = 0; n < SIM_MESSAGES_PER_TICK && sim->cut < r->n_cuts; n++) {
		if (sim->speed > 0) {
			uint32_t frame = r->cuts[sim->cut].frame;
			uint64_t due =
				sim->t0_us + (uint64_t)((double)(frame ? frame - 1 : 0) * 1e6 / (60.0 * sim->speed));
			if (due > net_now_us())
				return;
		} else if (backlog(sim, &idle) >= SIM_MAX_BACKLOG_MESSAGES) {
			return;
		}
		size_t from = sim->cut ? r->cuts[sim->cut - 1].end : 0;
		size_t to = r->cuts[sim->cut].end;
		sim->cut++;
		if (!queue_game_event(sim, r->events + from, to - from)) {
			sim->status = 1;
			start_close(sim);
			return;
		}
	}
	if (sim->cut >= r->n_cuts) {
		if (!queue_end_game(sim, false))
			sim->status = 1;
		sim->phase = PHASE_DRAIN;
	}
}

static void tick(struct sim *sim)
{
	uint64_t now = net_now_ms();
	bool idle = true;
	if (cli_signalled() || sim->quit_requested)
		start_close(sim);
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
		if (sim->replay + 1 < sim->n_replays || sim->loop_replays) {
			sim->replay = (sim->replay + 1) % sim->n_replays;
			begin_game(sim);
		} else {
			start_close(sim);
		}
		break;
	case PHASE_CLOSING:
		break;
	}
	write_events(sim);
	enet_host_flush(sim->host);
	if (sim->phase == PHASE_CLOSING) {
		if ((backlog(sim, &idle) == 0 && idle) || now >= sim->close_deadline_ms) {
			for (int i = 0; i < SIM_PEERS; i++)
				if (sim->peers[i].peer)
					enet_peer_disconnect_later(sim->peers[i].peer, 0);
			net_loop_stop(sim->loop);
		}
	}
}

static void on_timer(void *ud)
{
	struct sim *sim = ud;
	service(sim);
	tick(sim);
	service(sim);
	sim->timer = net_loop_timer(sim->loop, SIM_TICK_MS, on_timer, sim);
}

static void on_readable(void *ud, int fd, unsigned events)
{
	(void)fd;
	(void)events;
	struct sim *sim = ud;
	service(sim);
	write_events(sim);
	enet_host_flush(sim->host);
}

int cmd_dolphin_sim(int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(help, stdout);
		return 0;
	}
	static struct sim sim;
	memset(&sim, 0, sizeof(sim));
	sim.nick = "Slippi Online";
	sim.version = "3.4.0";
	sim.speed = 1;
	sim.drop_after = -1;
	const char *listen = NULL;
	int64_t menu_ms = -1;
	long long wait = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--loop")) {
			sim.loop_replays = true;
			continue;
		}
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v) {
			cli_error("dolphin-sim: %s needs a value", a);
			return 2;
		}
		i++;
		char *end = NULL;
		if (!strcmp(a, "--replay")) {
			if (sim.n_replays == SIM_MAX_REPLAYS) {
				cli_error("dolphin-sim: at most %d replays", SIM_MAX_REPLAYS);
				return 2;
			}
			sim.replays[sim.n_replays++].path = v;
		} else if (!strcmp(a, "--listen")) {
			listen = v;
		} else if (!strcmp(a, "--nick")) {
			sim.nick = v;
		} else if (!strcmp(a, "--speed")) {
			if (!cli_parse_speed(v, &sim.speed)) {
				cli_error("dolphin-sim: --speed takes max, 1 or a number above 0, not '%s'", v);
				return 2;
			}
		} else if (!strcmp(a, "--menu-ms") || !strcmp(a, "--drop-after") || !strcmp(a, "--wait")) {
			long long x = strtoll(v, &end, 10);
			if (!end || *end || x < 0 || x > UINT32_MAX) {
				cli_error("dolphin-sim: %s takes a whole number, not '%s'", a, v);
				return 2;
			}
			if (a[2] == 'm')
				menu_ms = x;
			else if (a[2] == 'w')
				wait = x;
			else
				sim.drop_after = x;
		} else {
			cli_error("dolphin-sim: unknown option %s", a);
			fputs(help, stderr);
			return 2;
		}
	}
	if (!sim.n_replays || !listen) {
		cli_error("dolphin-sim: --replay and --listen are required");
		fputs(help, stderr);
		return 2;
	}
	if (strlen(sim.nick) >= DOLPHIN_TEXT_MAX) {
		cli_error("dolphin-sim: --nick is longer than %d bytes", DOLPHIN_TEXT_MAX - 1);
		return 2;
	}
	sim.menu_ms = menu_ms >= 0 ? (uint64_t)menu_ms : sim.speed > 0 ? (uint64_t)(1000 / sim.speed) : 100;
	char host[NET_ADDR_MAX];
	uint16_t port;
	if (net_parse_host_port(listen, 0xFFFF, host, sizeof(host), &port) < 0 || !strchr(listen, ':')) {
		cli_error("dolphin-sim: --listen takes HOST:PORT, not '%s'", listen);
		return 2;
	}
	for (size_t i = 0; i < sim.n_replays; i++)
		if (load_replay(&sim.replays[i], sim.replays[i].path) < 0)
			return 1;
	if (enet_initialize() != 0) {
		cli_error("dolphin-sim: cannot initialise ENet");
		return 1;
	}
	ENetAddress addr = {0};
	if (enet_address_set_host_ip(&addr, host) != 0 && enet_address_set_host(&addr, host) != 0) {
		cli_error("dolphin-sim: cannot resolve '%s'", host);
		return 1;
	}
	addr.port = port;
	sim.host = enet_host_create(&addr, SIM_PEERS, 2, 0, 0);
	if (!sim.host) {
		cli_error("dolphin-sim: cannot listen on %s (UDP port taken?)", listen);
		return 1;
	}
	ENetAddress bound;
	if (enet_socket_get_address(sim.host->socket, &bound) == 0)
		port = bound.port;
	bytes_init(&sim.scratch, 0);
	bytes_init(&sim.menu_event, 0);
	sim.loop = net_loop_create();
	if (!sim.loop || net_loop_watch(sim.loop, (int)sim.host->socket, NET_READ, on_readable, &sim) < 0) {
		cli_error("dolphin-sim: out of memory");
		return 1;
	}
	cli_stop_loop_on_signals(sim.loop);
	sim.wait_spectators = (size_t)wait;
	if (wait)
		sim.phase = PHASE_WAIT_CLIENT;
	else
		begin_game(&sim);
	printf("listening on %s:%u\n", host, port);
	fflush(stdout);
	sim.timer = net_loop_timer(sim.loop, 0, on_timer, &sim);
	net_loop_run(sim.loop);
	if (cli_signalled())
		start_close(&sim); /* stopped by a signal: say goodbye like Dolphin does when it shuts down */
	if (sim.phase == PHASE_CLOSING) {
		uint64_t deadline = net_now_ms() + 1000;
		bool idle = false;
		while (net_now_ms() < deadline && !(backlog(&sim, &idle) == 0 && idle)) {
			service(&sim);
			write_events(&sim);
			enet_host_flush(sim.host);
			net_loop_run_once(sim.loop, 2);
		}
	}
	/* let the disconnects go out */
	for (int i = 0; i < SIM_PEERS; i++)
		if (sim.peers[i].peer)
			enet_peer_disconnect_later(sim.peers[i].peer, 0);
	uint64_t deadline = net_now_ms() + 300;
	while (net_now_ms() < deadline && spectators(&sim)) {
		ENetEvent ev;
		int rc = enet_host_service(sim.host, &ev, 10);
		if (rc > 0 && ev.type == ENET_EVENT_TYPE_DISCONNECT)
			memset(&sim.peers[ev.peer->incomingPeerID % SIM_PEERS], 0, sizeof(sim.peers[0]));
		else if (rc > 0 && ev.type == ENET_EVENT_TYPE_RECEIVE)
			enet_packet_destroy(ev.packet);
	}
	if (sim.timer)
		net_loop_cancel(sim.loop, sim.timer);
	cli_stop_loop_on_signals(NULL);
	net_loop_destroy(sim.loop);
	enet_host_destroy(sim.host);
	enet_deinitialize();
	clear_history(&sim);
	free(sim.history);
	for (size_t i = 0; i < sim.n_replays; i++) {
		bytes_free(&sim.replays[i].file);
		free(sim.replays[i].cuts);
	}
	bytes_free(&sim.scratch);
	bytes_free(&sim.menu_event);
	return sim.status;
}
