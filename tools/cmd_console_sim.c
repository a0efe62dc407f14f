/* SPDX-License-Identifier: GPL-2.0-or-later */
/* andross console-sim: a Slippi Nintendont console on TCP, playing replay files as live games. */
#include "cli.h"

#include "console_server.h"
#include "discovery.h"
#include "net/loop.h"
#include "net/sock.h"
#include "slp_file.h"
#include "slp_reader.h"
#include "slp_frames.h"
#include "slp_splitter.h"

#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char help[] =
	"usage: andross console-sim --replay FILE [--replay FILE...] --listen HOST:PORT [--speed 1|N|max] [--loop]\n"
	"                           [--nick NAME] [--broadcast HOST:PORT|off]\n"
	"\n"
	"Behaves like a Wii running Slippi Nintendont: serves one client at a time (listen backlog 1) with the\n"
	"console protocol (handshake, tokens and cursors, 3 MiB history with forcePos on overflow, keepalives every\n"
	"500 ms when idle, REPLAY messages of whole events up to 25,000 bytes), and plays the replays as games one\n"
	"after another, with menu time between them. Games start when the first client connects.\n"
	"  --replay FILE        a .slp replay to play (repeat for more games)\n"
	"  --listen HOST:PORT   where to listen; port 0 picks a free one. Prints `listening on HOST:PORT` when ready\n"
	"  --speed 1|N|max      1 = real time (60 frames a second, the default), N = N times faster, max = as fast as\n"
	"                       the client drains (a stalled client still sees the game advance and the history\n"
	"                       overflow; the next game waits for the client). Menu time: 1 s / N, 0.3 s at max\n"
	"  --loop               play the replays again and again (otherwise exit once the client has everything)\n"
	"  --nick NAME          the console's nickname (default: andross-sim)\n"
	"  --broadcast ADDR     where the SLIP_READY discovery datagrams go while no client is connected\n"
	"                       (default 127.0.0.1:20582; off: none)\n"
	"Stops on SIGINT/SIGTERM.\n";

#define MENU_MS 1000.0
#define MENU_MS_AT_MAX 300
#define KEEPALIVE_MS 500
#define HANDSHAKE_TIMEOUT_MS 5000
#define OVERFLOW_PAUSE_MS 1000.0
#define BROADCAST_MS 1000.0
#define MAX_BATCH_BYTES (64u * 1024u)
#define MAX_OVERRUN_FRAMES_PER_MS 10 /* --speed max: production while the client does not drain */

struct game {
	struct bytes file;
	const uint8_t *events;
	struct slp_frame_cuts frames; /* only whole events are played */
};

struct sim {
	struct net_loop *loop;
	struct game *games;
	size_t n_games;
	double speed; /* 0 = max */
	bool loop_games;
	const char *nick;
	char bcast_host[NET_ADDR_MAX];
	uint16_t bcast_port;
	int bcast_fd;
	uint64_t next_bcast_us;

	struct console_server server;
	int listen_fd;
	char listen_text[NET_ADDR_MAX + 8];

	/* the client */
	int fd;
	char peer[NET_ADDR_MAX + 8];
	bool handshaken;
	uint8_t hs[4 + CONSOLE_HANDSHAKE_MAX_BODY_BYTES];
	size_t hs_len;
	uint64_t accepted_ms;
	struct console_session session;
	struct bytes tx;
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
	uint64_t games_played;
	uint64_t timer;
	int status;
};

static int load_game(struct game *g, const char *path)
{
	char err[512];
	if (slp_read_whole_file(path, (size_t)1 << 30, &g->file, err, sizeof(err)) < 0) {
		cli_error("console-sim: %s", err);
		return -1;
	}
	struct slp_container c;
	if (slp_container_parse(g->file.data, g->file.len, &c, err, sizeof(err)) < 0 && c.events_offset == 0) {
		cli_error("console-sim: %s: %s", path, err);
		return -1;
	}
	g->events = g->file.data + c.events_offset;
	/* only whole events are played: a stream error or a cut-off last event ends the game there */
	if (slp_frame_cuts_build(g->events, c.events_size, &g->frames) < 0) {
		cli_error("console-sim: out of memory");
		return -1;
	}
	if (g->frames.error[0])
		fprintf(stderr, "andross: console-sim: %s: %s; playing the events before it\n", path, g->frames.error);
	return 0;
}

static uint64_t scaled_us(const struct sim *sim, double ms)
{
	if (sim->speed <= 0)
		return 0;
	return (uint64_t)(ms * 1000.0 / sim->speed);
}

static void schedule(struct sim *sim, uint64_t delay_ms);

static void drop_client(struct sim *sim, const char *why)
{
	if (sim->fd < 0)
		return;
	fprintf(stderr, "console-sim: client %s dropped: %s\n", sim->peer, why);
	net_loop_unwatch(sim->loop, sim->fd);
	net_close(sim->fd);
	sim->fd = -1;
	if (sim->handshaken)
		console_server_drop(&sim->server, &sim->session);
	sim->handshaken = false;
	bytes_clear(&sim->tx);
	sim->watching_write = false;
	sim->next_bcast_us = net_now_us();
}

static void on_listen(void *ud, int fd, unsigned events);
static void on_client(void *ud, int fd, unsigned events);

static void client_gone(struct sim *sim, const char *why)
{
	drop_client(sim, why);
	net_loop_watch(sim->loop, sim->listen_fd, NET_READ, on_listen, sim);
	schedule(sim, 0);
}

/* Writes what tx holds; false when the client is gone. */
static bool flush(struct sim *sim)
{
	while (sim->tx.len) {
		ssize_t n = net_write(sim->fd, sim->tx.data, sim->tx.len);
		if (n < 0) {
			client_gone(sim, "send failed");
			return false;
		}
		if (n == 0)
			break;
		bytes_consume(&sim->tx, (size_t)n);
		sim->last_send_ms = net_now_ms();
	}
	bool want_write = sim->tx.len > 0;
	if (want_write != sim->watching_write) {
		net_loop_watch(sim->loop, sim->fd, want_write ? NET_READ | NET_WRITE : NET_READ, on_client, sim);
		sim->watching_write = want_write;
	}
	return true;
}

static bool client_caught_up(const struct sim *sim)
{
	return sim->fd >= 0 && sim->handshaken && sim->tx.len == 0 && sim->session.cursor == sim->server.log.write;
}

static void produce_frame(struct sim *sim)
{
	struct game *g = &sim->games[sim->game_i];
	size_t from = g->frames.offsets[sim->frame_i], to = g->frames.offsets[sim->frame_i + 1];
	if (console_log_append(&sim->server.log, g->events + from, to - from) < 0) {
		fprintf(stderr, "andross: console-sim: %s\n", sim->server.log.error);
		sim->status = 1;
		net_loop_stop(sim->loop);
	}
	sim->frame_i++;
	if (sim->frame_i + 1 >= g->frames.count) {
		sim->games_played++;
		fprintf(stderr, "console-sim: game %" PRIu64 " played (%zu bytes)\n", sim->games_played, to);
		sim->frame_i = 0;
		sim->game_i++;
		if (sim->game_i == sim->n_games) {
			sim->game_i = 0;
			if (!sim->loop_games)
				sim->produced_all = true;
		}
		sim->menu_until_us = net_now_us() + (sim->speed > 0 ? scaled_us(sim, MENU_MS) : MENU_MS_AT_MAX * 1000u);
		sim->game_t0_us = 0;
	}
}

/* Appends the frames that are due to the history. */
static void produce(struct sim *sim)
{
	uint64_t now = net_now_us();
	if (!sim->started || sim->produced_all)
		return;
	if (sim->speed > 0) {
		if (now < sim->menu_until_us)
			return;
		for (int guard = 0; guard < 100000 && !sim->produced_all && now >= sim->menu_until_us; guard++) {
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
		sim->menu_until_us = now + MENU_MS_AT_MAX * 1000u;
		return;
	}
	if (sim->fd < 0 || !sim->handshaken)
		return;
	uint64_t frames = UINT64_MAX;
	if (!client_caught_up(sim)) {
		uint64_t elapsed_ms = (now - sim->last_produce_us) / 1000;
		if (!elapsed_ms)
			return;
		frames = elapsed_ms * MAX_OVERRUN_FRAMES_PER_MS;
	}
	uint64_t before = sim->server.log.write;
	for (uint64_t i = 0; i < frames && !sim->produced_all && sim->server.log.write - before < MAX_BATCH_BYTES;
	     i++) {
		produce_frame(sim);
		if (sim->frame_i == 0)
			break; /* the game ended: menu time */
	}
	sim->last_produce_us = now;
}

/* Sends what the client may get: REPLAY messages while the socket takes them, else a keepalive when idle. */
static void serve(struct sim *sim)
{
	if (sim->fd < 0 || !sim->handshaken)
		return;
	if (!flush(sim))
		return;
	uint64_t now_us = net_now_us();
	while (sim->tx.len == 0 && now_us >= sim->pause_until_us) {
		enum console_next r = console_server_next(&sim->server, &sim->session, &sim->tx);
		if (r == CONSOLE_NEXT_OVERFLOW) {
			fprintf(stderr, "console-sim: client %s overflowed the history; jumping to byte %" PRIu64 "\n",
				sim->peer, sim->session.cursor);
			uint64_t pause = sim->speed > 0 ? scaled_us(sim, OVERFLOW_PAUSE_MS) : 100000;
			sim->pause_until_us = now_us + pause;
			return;
		}
		if (r != CONSOLE_NEXT_REPLAY)
			break;
		if (!flush(sim))
			return;
	}
	if (sim->tx.len == 0 && net_now_ms() - sim->last_send_ms >= KEEPALIVE_MS) {
		console_keepalive_encode(&sim->tx);
		flush(sim);
	}
}

static void broadcast(struct sim *sim)
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
	uint64_t period = sim->speed > 0 ? scaled_us(sim, BROADCAST_MS) : 100000;
	sim->next_bcast_us = now + (period ? period : 1000);
}

static bool finished(const struct sim *sim)
{
	return sim->produced_all && client_caught_up(sim);
}

static void pump(struct sim *sim)
{
	produce(sim);
	serve(sim);
	broadcast(sim);
	if (finished(sim)) {
		fprintf(stderr, "console-sim: all %" PRIu64 " games sent\n", sim->games_played);
		net_loop_stop(sim->loop);
	}
}

static void on_tick(void *ud)
{
	struct sim *sim = ud;
	sim->timer = 0;
	pump(sim);
	if (sim->fd >= 0 && !sim->handshaken && net_now_ms() - sim->accepted_ms >= HANDSHAKE_TIMEOUT_MS)
		client_gone(sim, "no handshake within 5 s");
	/* next wake-up: 1 ms while frames are due or a client lags at max speed, else a keepalive/broadcast check */
	uint64_t delay = 100;
	if (sim->started && !sim->produced_all) {
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

static void schedule(struct sim *sim, uint64_t delay_ms)
{
	if (sim->timer)
		net_loop_cancel(sim->loop, sim->timer);
	sim->timer = net_loop_timer(sim->loop, delay_ms, on_tick, sim);
}

static void handshake_in(struct sim *sim)
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
	fprintf(stderr,
		"console-sim: client %s: token %08x cursor %" PRIu64 " -> %s, token %08x, start at %" PRIu64 "\n",
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
	struct sim *sim = ud;
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
	struct sim *sim = ud;
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
	fprintf(stderr, "console-sim: client %s connected\n", sim->peer);
	net_loop_watch(sim->loop, sim->fd, NET_READ, on_client, sim);
	schedule(sim, 0);
}

int cmd_console_sim(int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		fputs(help, stdout);
		return 0;
	}
	const char **replays = calloc((size_t)argc, sizeof(*replays));
	size_t n_replays = 0;
	const char *listen = NULL, *nick = "andross-sim", *bcast = "127.0.0.1:20582";
	struct sim sim = {.fd = -1, .listen_fd = -1, .bcast_fd = -1, .speed = 1};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--loop")) {
			sim.loop_games = true;
			continue;
		}
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v) {
			cli_error("console-sim: %s needs a value", a);
			return 2;
		}
		i++;
		if (!strcmp(a, "--replay")) {
			replays[n_replays++] = v;
		} else if (!strcmp(a, "--listen")) {
			listen = v;
		} else if (!strcmp(a, "--nick")) {
			nick = v;
		} else if (!strcmp(a, "--broadcast")) {
			bcast = v;
		} else if (!strcmp(a, "--speed")) {
			if (!cli_parse_speed(v, &sim.speed)) {
				cli_error("console-sim: --speed takes max, 1 or a number above 0, not '%s'", v);
				return 2;
			}
		} else {
			cli_error("console-sim: unknown option %s", a);
			fputs(help, stderr);
			return 2;
		}
	}
	if (!n_replays || !listen) {
		cli_error("console-sim: --replay and --listen are required");
		fputs(help, stderr);
		return 2;
	}
	sim.nick = nick;
	sim.games = calloc(n_replays, sizeof(*sim.games));
	sim.n_games = n_replays;
	for (size_t i = 0; i < n_replays; i++) {
		if (load_game(&sim.games[i], replays[i]) < 0)
			return 1;
	}
	free(replays);
	char host[NET_ADDR_MAX], err[512] = "";
	uint16_t port;
	if (net_parse_host_port(listen, 0, host, sizeof(host), &port) < 0) {
		cli_error("console-sim: --listen takes HOST:PORT, not '%s'", listen);
		return 2;
	}
	if (strcmp(bcast, "off")) {
		if (net_parse_host_port(bcast, 20582, sim.bcast_host, sizeof(sim.bcast_host), &sim.bcast_port) < 0) {
			cli_error("console-sim: --broadcast takes HOST:PORT or off, not '%s'", bcast);
			return 2;
		}
		sim.bcast_fd = net_udp_bind(strchr(sim.bcast_host, ':') ? "::" : "0.0.0.0", 0, true, err, sizeof(err));
		if (sim.bcast_fd < 0)
			fprintf(stderr, "andross: console-sim: no discovery broadcasts: %s\n", err);
	}
	sim.loop = net_loop_create();
	bytes_init(&sim.tx, 0);
	if (!sim.loop || console_server_init(&sim.server, 0, net_now_us() ^ (uint64_t)getpid()) < 0) {
		cli_error("console-sim: out of memory");
		return 1;
	}
	uint16_t bound = 0;
	sim.listen_fd = net_tcp_listen(host, port, 1, &bound, err, sizeof(err));
	if (sim.listen_fd < 0) {
		cli_error("console-sim: %s", err);
		return 1;
	}
	snprintf(sim.listen_text, sizeof(sim.listen_text), strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, bound);
	net_loop_watch(sim.loop, sim.listen_fd, NET_READ, on_listen, &sim);
	cli_stop_loop_on_signals(sim.loop);
	printf("listening on %s\n", sim.listen_text);
	fflush(stdout);
	schedule(&sim, 0);
	net_loop_run(sim.loop);

	if (sim.fd >= 0)
		drop_client(&sim, "the simulator stops");
	cli_stop_loop_on_signals(NULL);
	net_close(sim.listen_fd);
	net_close(sim.bcast_fd);
	console_server_free(&sim.server);
	bytes_free(&sim.tx);
	for (size_t i = 0; i < sim.n_games; i++) {
		bytes_free(&sim.games[i].file);
		slp_frame_cuts_free(&sim.games[i].frames);
	}
	free(sim.games);
	net_loop_destroy(sim.loop);
	return sim.status;
}
