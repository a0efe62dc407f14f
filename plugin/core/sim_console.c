/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A simulated Wii running Slippi Nintendont on the event loop: one TCP client, paced replays, discovery. */
#include "sim_console.h"

#include "console_server.h"
#include "discovery.h"
#include "net/sock.h"
#include "slp_frames.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SIM_KEEPALIVE_MS 500
#define SIM_HANDSHAKE_TIMEOUT_MS 5000
#define SIM_OVERFLOW_PAUSE_MS 1000.0 /* Nintendont pauses this long after a client overflowed the history */
#define SIM_BROADCAST_MS 1000.0
#define SIM_AT_MAX_PERIOD_US 100000u /* overflow pause and broadcast period at max speed */
#define SIM_MAX_BATCH_BYTES (64u * 1024u)
#define SIM_MAX_OVERRUN_FRAMES_PER_MS 10 /* max speed: production while the client does not drain */

struct game {
	struct sim_replay_data replay;
	struct slp_frame_cuts frames; /* only whole events are played */
	size_t start_end;             /* for frame_written: the offset just past its Game Start (or its first bytes) */
};

struct sim_console {
	struct net_loop *loop;
	struct sim_console_callbacks cb;
	struct game *games;
	size_t n_games;
	double speed; /* 0 = max */
	bool loop_games;
	char *nick;
	uint64_t menu_us;
	char bcast_host[NET_ADDR_MAX];
	uint16_t bcast_port;
	int bcast_fd;
	uint64_t next_bcast_us;

	struct console_server server;
	uint64_t produced_bytes; /* the history's write cursor: every append is whole events */
	int listen_fd;
	uint16_t port;

	/* the client */
	int fd;
	char peer[NET_ADDR_MAX + 8];
	bool handshaken;
	uint8_t hs[4 + CONSOLE_HANDSHAKE_MAX_BODY_BYTES];
	size_t hs_len;
	uint64_t accepted_ms;
	struct console_session session;
	struct bytes tx;
	bool tx_replay; /* tx holds a REPLAY message: the history's bytes tx_from .. tx_to */
	uint64_t tx_from, tx_to;
	uint64_t last_send_ms;
	uint64_t pause_until_us;
	bool watching_write;

	/* production */
	bool started;
	size_t game_i, frame_i;
	uint64_t game_t0_us;
	uint64_t menu_until_us;
	uint64_t last_produce_us;
	bool produced_all;
	bool failed;
	uint64_t games_played;
	uint64_t games_begun;
	uint64_t timer;

	/* for `frame_written` only: the frames produced and not yet written, oldest first (pend_head ..) */
	struct sim_console_frame *pend;
	size_t pend_head, pend_len, pend_cap;
	bool pend_oom_logged;

	/* the end, reported once from its own timer callback so that `finished` may destroy the simulator */
	bool finish_reported;
	int status;
	uint64_t finish_timer;
};

static void sim_log(struct sim_console *sim, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sim_log(struct sim_console *sim, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sim_log_line(sim->cb.log, sim->cb.ud, fmt, ap);
	va_end(ap);
}

static void on_finish_timer(void *ud)
{
	struct sim_console *sim = ud;
	sim->finish_timer = 0;
	if (sim->cb.finished)
		sim->cb.finished(sim->cb.ud, sim->status); /* may destroy sim: nothing after this */
}

static void finish(struct sim_console *sim, int status)
{
	if (sim->finish_reported)
		return;
	sim->finish_reported = true;
	sim->status = status;
	sim->finish_timer = net_loop_timer(sim->loop, 0, on_finish_timer, sim);
}

static uint64_t scaled_us(const struct sim_console *sim, double ms)
{
	if (sim->speed <= 0)
		return 0;
	return (uint64_t)(ms * 1000.0 / sim->speed);
}

static void schedule(struct sim_console *sim, uint64_t delay_ms);

static void drop_client(struct sim_console *sim, const char *why)
{
	if (sim->fd < 0)
		return;
	sim_log(sim, "console-sim: client %s dropped: %s", sim->peer, why);
	net_loop_unwatch(sim->loop, sim->fd);
	net_close(sim->fd);
	sim->fd = -1;
	if (sim->handshaken)
		console_server_drop(&sim->server, &sim->session);
	sim->handshaken = false;
	bytes_clear(&sim->tx);
	sim->tx_replay = false;
	sim->watching_write = false;
	sim->next_bcast_us = net_now_us();
}

static void on_listen(void *ud, int fd, unsigned events);
static void on_client(void *ud, int fd, unsigned events);

static void client_gone(struct sim_console *sim, const char *why)
{
	drop_client(sim, why);
	net_loop_watch(sim->loop, sim->listen_fd, NET_READ, on_listen, sim);
	schedule(sim, 0);
}

/* The REPLAY message in tx is written: reports the frames whose last byte it held. Frames that end before it began
 * were skipped (an overflow, a client that started later) and are forgotten. */
static void frames_written(struct sim_console *sim, uint64_t write_ns)
{
	while (sim->pend_head < sim->pend_len) {
		struct sim_console_frame *f = &sim->pend[sim->pend_head];
		if (f->stream_end > sim->tx_to)
			break;
		sim->pend_head++;
		if (f->stream_end <= sim->tx_from)
			continue;
		f->write_ns = write_ns;
		sim->cb.frame_written(sim->cb.ud, f);
	}
	if (sim->pend_head == sim->pend_len)
		sim->pend_head = sim->pend_len = 0;
}

/* Remembers a frame just appended to the history until it is written (only when someone wants to know). */
static void frame_produced(struct sim_console *sim, const struct game *g, size_t i, uint64_t stream_end)
{
	/* frames that fell out of the history can no longer be written to anyone */
	uint64_t oldest = console_log_start(console_server_log(&sim->server));
	while (sim->pend_head < sim->pend_len && sim->pend[sim->pend_head].stream_end <= oldest)
		sim->pend_head++;
	if (sim->pend_len == sim->pend_cap && sim->pend_head > 0) {
		sim->pend_len -= sim->pend_head;
		memmove(sim->pend, sim->pend + sim->pend_head, sim->pend_len * sizeof(*sim->pend));
		sim->pend_head = 0;
	}
	if (sim->pend_len == sim->pend_cap) {
		size_t cap = sim->pend_cap ? sim->pend_cap * 2 : 256;
		struct sim_console_frame *p = realloc(sim->pend, cap * sizeof(*p));
		if (!p) {
			if (!sim->pend_oom_logged)
				sim_log(sim, "andross: console-sim: out of memory: frames go unreported");
			sim->pend_oom_logged = true;
			return;
		}
		sim->pend = p;
		sim->pend_cap = cap;
	}
	/* a frame's bytes begin with the event that opened it; a game's first bytes are its Event Payloads */
	const uint8_t *ev = g->replay.events + g->frames.offsets[i];
	size_t len = g->frames.offsets[i + 1] - g->frames.offsets[i];
	struct sim_console_frame *f = &sim->pend[sim->pend_len++];
	memset(f, 0, sizeof(*f));
	f->game = sim->games_begun;
	f->has_frame = len >= 5 && (ev[0] == SLP_CMD_FRAME_START || ev[0] == SLP_CMD_PRE_FRAME);
	f->frame = f->has_frame ? rd_i32be(ev + 1) : 0;
	f->stream_end = stream_end;
	/* the bytes before the first frame count as written once their Game Start is: the Gecko codes after it fill
	 * several messages, and a client knows the game has started before it has them */
	if (!f->has_frame && i == 0)
		f->stream_end -= len - g->start_end;
}

struct start_finder {
	size_t end;
};

static int find_game_start(void *ud, const struct slp_event *ev)
{
	struct start_finder *sf = ud;
	if (ev->code != SLP_CMD_GAME_START || ev->reassembled)
		return 0;
	sf->end = (size_t)ev->offset + ev->size;
	return 1;
}

/* Where a game's Game Start ends, in its bytes before the first frame (their end when it has none). */
static size_t game_start_end(const struct game *g)
{
	size_t first = g->frames.count > 1 ? g->frames.offsets[1] : g->frames.whole_bytes;
	struct start_finder sf = {.end = first};
	struct slp_splitter sp;
	slp_splitter_init(&sp);
	slp_splitter_feed(&sp, g->replay.events, first, find_game_start, &sf);
	slp_splitter_free(&sp);
	return sf.end <= first ? sf.end : first;
}

/* Writes what tx holds; false when the client is gone. */
static bool flush(struct sim_console *sim)
{
	while (sim->tx.len) {
		uint64_t write_ns = sim->tx_replay && sim->cb.frame_written ? net_now_ns() : 0;
		ssize_t n = net_write(sim->fd, sim->tx.data, sim->tx.len);
		if (n < 0) {
			client_gone(sim, "send failed");
			return false;
		}
		if (n == 0)
			break;
		bytes_consume(&sim->tx, (size_t)n);
		sim->last_send_ms = net_now_ms();
		if (!sim->tx.len && sim->tx_replay) {
			sim->tx_replay = false;
			if (sim->cb.frame_written)
				frames_written(sim, write_ns);
		}
	}
	bool want_write = sim->tx.len > 0;
	if (want_write != sim->watching_write) {
		net_loop_watch(sim->loop, sim->fd, want_write ? NET_READ | NET_WRITE : NET_READ, on_client, sim);
		sim->watching_write = want_write;
	}
	return true;
}

static bool client_caught_up(const struct sim_console *sim)
{
	return sim->fd >= 0 && sim->handshaken && sim->tx.len == 0 && sim->session.cursor == sim->produced_bytes;
}

static void produce_frame(struct sim_console *sim)
{
	struct game *g = &sim->games[sim->game_i];
	size_t from = g->frames.offsets[sim->frame_i], to = g->frames.offsets[sim->frame_i + 1];
	struct console_log *log = console_server_log(&sim->server);
	if (console_log_append(log, g->replay.events + from, to - from) < 0) {
		sim_log(sim, "andross: console-sim: %s", console_log_error(log));
		sim->failed = true;
		finish(sim, 1);
		return;
	}
	sim->produced_bytes += to - from;
	if (sim->frame_i == 0)
		sim->games_begun++;
	if (sim->cb.frame_written)
		frame_produced(sim, g, sim->frame_i, sim->produced_bytes);
	sim->frame_i++;
	if (sim->frame_i + 1 >= g->frames.count) {
		sim->games_played++;
		sim_log(sim, "console-sim: game %" PRIu64 " played (%zu bytes)", sim->games_played, to);
		sim->frame_i = 0;
		sim->game_i++;
		if (sim->game_i == sim->n_games) {
			sim->game_i = 0;
			if (!sim->loop_games)
				sim->produced_all = true;
		}
		sim->menu_until_us = net_now_us() + sim->menu_us;
		sim->game_t0_us = 0;
	}
}

/* Appends the frames that are due to the history. */
static void produce(struct sim_console *sim)
{
	uint64_t now = net_now_us();
	if (!sim->started || sim->produced_all || sim->failed)
		return;
	if (sim->speed > 0) {
		if (now < sim->menu_until_us)
			return;
		for (int guard = 0; guard < 100000 && !sim->produced_all && !sim->failed && now >= sim->menu_until_us;
		     guard++) {
			if (!sim->game_t0_us)
				sim->game_t0_us = now;
			uint64_t due = sim->game_t0_us + (uint64_t)((double)sim->frame_i * 1e6 / (60.0 * sim->speed));
			if (due > now)
				break;
			produce_frame(sim);
		}
		return;
	}
	/*
	 * max: as fast as the client drains. While it does not drain, the game goes on at a high fixed rate (so a
	 * stalled client overflows the history as on a real console), but the next game starts only once the client
	 * has the last one: a console client that reconnects after a new game began loses the old game's tail.
	 */
	if (sim->frame_i == 0 && (!client_caught_up(sim) || now < sim->menu_until_us)) {
		if (client_caught_up(sim))
			return;
		/* the menu lasts until the client has been caught up for the whole menu time */
		sim->menu_until_us = now + sim->menu_us;
		return;
	}
	if (sim->fd < 0 || !sim->handshaken)
		return;
	uint64_t frames = UINT64_MAX;
	if (!client_caught_up(sim)) {
		uint64_t elapsed_ms = (now - sim->last_produce_us) / 1000;
		if (!elapsed_ms)
			return;
		frames = elapsed_ms * SIM_MAX_OVERRUN_FRAMES_PER_MS;
	}
	uint64_t before = sim->produced_bytes;
	for (uint64_t i = 0;
	     i < frames && !sim->produced_all && !sim->failed && sim->produced_bytes - before < SIM_MAX_BATCH_BYTES;
	     i++) {
		produce_frame(sim);
		if (sim->frame_i == 0)
			break; /* the game ended: menu time */
	}
	sim->last_produce_us = now;
}

/* Sends what the client may get: REPLAY messages while the socket takes them, else a keepalive when idle. */
static void serve(struct sim_console *sim)
{
	if (sim->fd < 0 || !sim->handshaken)
		return;
	if (!flush(sim))
		return;
	uint64_t now_us = net_now_us();
	while (sim->tx.len == 0 && now_us >= sim->pause_until_us) {
		uint64_t from = sim->session.cursor;
		enum console_next r = console_server_next(&sim->server, &sim->session, &sim->tx);
		if (r == CONSOLE_NEXT_OVERFLOW) {
			sim_log(sim, "console-sim: client %s overflowed the history; jumping to byte %" PRIu64,
				sim->peer, sim->session.cursor);
			uint64_t pause = sim->speed > 0 ? scaled_us(sim, SIM_OVERFLOW_PAUSE_MS) : SIM_AT_MAX_PERIOD_US;
			sim->pause_until_us = now_us + pause;
			return;
		}
		if (r != CONSOLE_NEXT_REPLAY)
			break;
		sim->tx_replay = true;
		sim->tx_from = from;
		sim->tx_to = sim->session.cursor;
		if (!flush(sim))
			return;
	}
	if (sim->tx.len == 0 && net_now_ms() - sim->last_send_ms >= SIM_KEEPALIVE_MS) {
		console_keepalive_encode(&sim->tx);
		flush(sim);
	}
}

static void broadcast(struct sim_console *sim)
{
	if (sim->bcast_fd < 0 || sim->fd >= 0)
		return;
	uint64_t now = net_now_us();
	if (now < sim->next_bcast_us)
		return;
	uint8_t dgram[DISCOVERY_DATAGRAM_BYTES];
	static const uint8_t mac[6] = {0x00, 0x17, 0xAB, 0x5A, 0x11, 0x01};
	discovery_encode(dgram, mac, sim->nick);
	net_udp_send_to(sim->bcast_fd, sim->bcast_host, sim->bcast_port, dgram, sizeof(dgram));
	uint64_t period = sim->speed > 0 ? scaled_us(sim, SIM_BROADCAST_MS) : SIM_AT_MAX_PERIOD_US;
	sim->next_bcast_us = now + (period ? period : 1000);
}

static void pump(struct sim_console *sim)
{
	produce(sim);
	serve(sim);
	broadcast(sim);
	if (!sim->finish_reported && sim->produced_all && client_caught_up(sim)) {
		sim_log(sim, "console-sim: all %" PRIu64 " games sent", sim->games_played);
		finish(sim, 0);
	}
}

static void on_tick(void *ud)
{
	struct sim_console *sim = ud;
	sim->timer = 0;
	pump(sim);
	if (sim->fd >= 0 && !sim->handshaken && net_now_ms() - sim->accepted_ms >= SIM_HANDSHAKE_TIMEOUT_MS)
		client_gone(sim, "no handshake within 5 s");
	/* next wake-up: 1 ms while frames are due or a client lags at max speed, else a keepalive/broadcast check */
	uint64_t delay = 100;
	if (sim->started && !sim->produced_all && !sim->failed) {
		if (sim->speed > 0) {
			uint64_t now = net_now_us();
			uint64_t due =
				sim->menu_until_us > now ? sim->menu_until_us
				: sim->game_t0_us
					? sim->game_t0_us + (uint64_t)((double)sim->frame_i * 1e6 / (60.0 * sim->speed))
					: now;
			uint64_t d = due > now ? (due - now + 999) / 1000 : 0;
			if (d < delay)
				delay = d;
		} else if (sim->fd >= 0) {
			delay = 1;
		}
	}
	if (sim->fd >= 0 && sim->handshaken && delay > 50)
		delay = 50;
	schedule(sim, delay);
}

static void schedule(struct sim_console *sim, uint64_t delay_ms)
{
	if (sim->timer)
		net_loop_cancel(sim->loop, sim->timer);
	sim->timer = net_loop_timer(sim->loop, delay_ms, on_tick, sim);
}

static void handshake_in(struct sim_console *sim)
{
	for (;;) {
		/* Nintendont reads the 4 length bytes, then the body */
		size_t want = sim->hs_len < 4 ? 4 - sim->hs_len : 4 + rd_u32be(sim->hs) - sim->hs_len;
		if (want == 0)
			break;
		bool closed = false;
		ssize_t n = net_read(sim->fd, sim->hs + sim->hs_len, want, &closed);
		if (n == 0)
			return;
		if (n < 0) {
			client_gone(sim, closed ? "closed before its handshake" : "read failed");
			return;
		}
		sim->hs_len += (size_t)n;
		if (sim->hs_len == 4 && rd_u32be(sim->hs) > CONSOLE_HANDSHAKE_MAX_BODY_BYTES) {
			client_gone(sim, "handshake length above 1024");
			return;
		}
	}
	struct console_hello hello;
	char err[200];
	if (console_hello_decode(sim->hs + 4, sim->hs_len - 4, &hello, err, sizeof(err)) < 0) {
		client_gone(sim, err);
		return;
	}
	console_server_handshake(&sim->server, &hello, &sim->session);
	net_set_nodelay(sim->fd, hello.realtime);
	sim->handshaken = true;
	sim_log(sim, "console-sim: client %s: token %08x cursor %" PRIu64 " -> %s, token %08x, start at %" PRIu64,
		sim->peer, hello.token, hello.cursor, sim->session.returning ? "returning" : "fresh",
		sim->session.token, sim->session.cursor);
	console_server_reply(&sim->server, &sim->session, sim->nick, "1.9.0", &sim->tx);
	if (!sim->started) {
		sim->started = true;
		sim->menu_until_us = 0;
	}
	sim->last_produce_us = net_now_us();
	if (flush(sim))
		pump(sim);
	schedule(sim, 0);
}

static void on_client(void *ud, int fd, unsigned events)
{
	struct sim_console *sim = ud;
	(void)fd;
	if (!sim->handshaken) {
		handshake_in(sim);
		return;
	}
	if (events & (NET_READ | NET_ERROR)) {
		/* the console never reads after the handshake; this only notices a client that went away */
		uint8_t junk[4096];
		bool closed = false;
		ssize_t n = net_read(sim->fd, junk, sizeof(junk), &closed);
		if (n < 0) {
			client_gone(sim, closed ? "closed the connection" : "connection lost");
			return;
		}
	}
	pump(sim);
}

static void on_listen(void *ud, int fd, unsigned events)
{
	struct sim_console *sim = ud;
	(void)events;
	if (sim->fd >= 0)
		return;
	sim->fd = net_tcp_accept(fd, sim->peer, sizeof(sim->peer));
	if (sim->fd < 0)
		return;
	/* a console has small socket buffers; a large one would let the cursor run far ahead of the client */
	net_set_send_buffer(sim->fd, 64 * 1024);
	/* one client at a time: later connects wait in the backlog */
	net_loop_unwatch(sim->loop, sim->listen_fd);
	sim->handshaken = false;
	sim->hs_len = 0;
	sim->accepted_ms = net_now_ms();
	sim->last_send_ms = net_now_ms();
	sim->watching_write = false;
	sim->pause_until_us = 0;
	sim_log(sim, "console-sim: client %s connected", sim->peer);
	net_loop_watch(sim->loop, sim->fd, NET_READ, on_client, sim);
	schedule(sim, 0);
}

void sim_console_options_init(struct sim_console_options *o)
{
	memset(o, 0, sizeof(*o));
	o->host = "127.0.0.1";
	o->speed = 1;
	o->nick = SIM_CONSOLE_NICK_DEFAULT;
	o->broadcast_host = SIM_CONSOLE_BROADCAST_HOST_DEFAULT;
	o->broadcast_port = DISCOVERY_PORT;
	o->menu_ms = SIM_CONSOLE_MENU_MS_DEFAULT;
}

static int load_games(struct sim_console *sim, const struct sim_console_options *o, char *err, size_t err_size)
{
	sim->games = calloc(o->n_replays, sizeof(*sim->games));
	if (!sim->games) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < o->n_replays; i++) {
		struct game *g = &sim->games[i];
		sim->n_games = i + 1;
		if (sim_replay_load(&o->replays[i], i, &g->replay, err, err_size) < 0)
			return -1;
		/* only whole events are played: a stream error or a cut-off last event ends the game there */
		if (slp_frame_cuts_build(g->replay.events, g->replay.events_size, &g->frames) < 0) {
			snprintf(err, err_size, "out of memory");
			return -1;
		}
		if (!g->frames.whole_bytes) {
			snprintf(err, err_size, "%s: %s; no whole event to play", g->replay.name, g->frames.error);
			return -1;
		}
		if (g->frames.error[0])
			sim_log(sim, "andross: console-sim: %s: %s; playing the events before it", g->replay.name,
				g->frames.error);
		if (sim->cb.frame_written)
			g->start_end = game_start_end(g);
	}
	return 0;
}

struct sim_console *sim_console_create(struct net_loop *loop, const struct sim_console_options *o,
				       const struct sim_console_callbacks *cb, char *err, size_t err_size)
{
	if (!o->replays || !o->n_replays) {
		snprintf(err, err_size, "no replay to play");
		return NULL;
	}
	if (!(o->speed >= 0) || o->speed > 1e6) {
		snprintf(err, err_size, "speed %g: use 0 (max), 1 or a number above 0", o->speed);
		return NULL;
	}
	if (o->broadcast_host && strlen(o->broadcast_host) >= NET_ADDR_MAX) {
		snprintf(err, err_size, "broadcast host '%s' is too long", o->broadcast_host);
		return NULL;
	}
	struct sim_console *sim = calloc(1, sizeof(*sim));
	if (!sim) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	sim->loop = loop;
	if (cb)
		sim->cb = *cb;
	sim->fd = -1;
	sim->listen_fd = -1;
	sim->bcast_fd = -1;
	sim->speed = o->speed;
	sim->loop_games = o->loop;
	sim->menu_us = o->menu_ms * 1000u;
	bytes_init(&sim->tx, 0);
	sim->nick = strdup(o->nick ? o->nick : SIM_CONSOLE_NICK_DEFAULT);
	uint64_t seed = o->seed ? o->seed : net_now_us() ^ (uint64_t)getpid() ^ (uint64_t)(uintptr_t)sim;
	if (!sim->nick || console_server_init(&sim->server, 0, seed) < 0) {
		snprintf(err, err_size, "out of memory");
		sim_console_destroy(sim);
		return NULL;
	}
	if (load_games(sim, o, err, err_size) < 0) {
		sim_console_destroy(sim);
		return NULL;
	}
	if (o->broadcast_host) {
		snprintf(sim->bcast_host, sizeof(sim->bcast_host), "%s", o->broadcast_host);
		sim->bcast_port = o->broadcast_port ? o->broadcast_port : DISCOVERY_PORT;
		char berr[256];
		sim->bcast_fd =
			net_udp_bind(strchr(sim->bcast_host, ':') ? "::" : "0.0.0.0", 0, true, berr, sizeof(berr));
		if (sim->bcast_fd < 0)
			sim_log(sim, "andross: console-sim: no discovery broadcasts: %s", berr);
	}
	const char *host = o->host ? o->host : "127.0.0.1";
	sim->listen_fd = net_tcp_listen(host, o->port, 1, &sim->port, err, err_size);
	if (sim->listen_fd < 0) {
		sim_console_destroy(sim);
		return NULL;
	}
	sim->timer = net_loop_timer(loop, 0, on_tick, sim);
	if (net_loop_watch(loop, sim->listen_fd, NET_READ, on_listen, sim) < 0 || !sim->timer) {
		snprintf(err, err_size, "out of memory");
		sim_console_destroy(sim);
		return NULL;
	}
	return sim;
}

void sim_console_destroy(struct sim_console *sim)
{
	if (!sim)
		return;
	if (sim->fd >= 0)
		drop_client(sim, "the simulator stops");
	if (sim->listen_fd >= 0) {
		net_loop_unwatch(sim->loop, sim->listen_fd);
		net_close(sim->listen_fd);
	}
	if (sim->timer)
		net_loop_cancel(sim->loop, sim->timer);
	if (sim->finish_timer)
		net_loop_cancel(sim->loop, sim->finish_timer);
	if (sim->bcast_fd >= 0)
		net_close(sim->bcast_fd);
	console_server_free(&sim->server);
	bytes_free(&sim->tx);
	for (size_t i = 0; i < sim->n_games; i++) {
		sim_replay_data_free(&sim->games[i].replay);
		slp_frame_cuts_free(&sim->games[i].frames);
	}
	free(sim->games);
	free(sim->pend);
	free(sim->nick);
	free(sim);
}

uint16_t sim_console_port(const struct sim_console *sim)
{
	return sim->port;
}

uint64_t sim_console_games_played(const struct sim_console *sim)
{
	return sim->games_played;
}
