/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Ingest latency: the time from a simulated console writing a frame's events to its socket to the console://
 * source handing the frame's last byte to its data callback, over loopback.
 *
 * One process, one clock (CLOCK_MONOTONIC through net_now_us): a minimal Nintendont server (console_server.h,
 * console_proto.h) runs on its own thread and net_loop, plays a replay at 60 frames a second (one REPLAY write
 * per frame, stamped just before the write), and the real console:// source (source_console.c) runs on the main
 * thread's loop; its data callback stamps the arrival of each frame, matched by cumulative byte offset.
 *
 * With --serve-only the server runs alone for another client (bench/ingest/slippi_js_ingest.mjs): it prints
 * `frames N bytes B`, then `listening on 127.0.0.1:PORT`, serves one client, and writes one line per frame,
 * `INDEX END_OFFSET WRITE_US`, to the --stamps file when the client has gone.
 *
 *   bench_ingest --replay FILE.slp [--frames N] [--serve-only --stamps FILE]
 */
#include "console_proto.h"
#include "console_server.h"
#include "net/loop.h"
#include "net/sock.h"
#include "slp_file.h"
#include "slp_reader.h"
#include "slp_frames.h"
#include "slp_splitter.h"
#include "source.h"

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FRAME_US (1000000.0 / 60.0)
#define SERVE_ONLY_GRACE_MS 10000 /* after the last frame, wait this long for the client to leave */

/* --- the replay, cut into frames as the simulator cuts it --- */

struct replay {
	struct bytes file;
	const uint8_t *events;
	struct slp_frame_cuts frames; /* frame i spans frames.offsets[i] .. frames.offsets[i + 1] */
	size_t n_frames;
};

static int replay_load(struct replay *r, const char *path, size_t max_frames)
{
	char err[512];
	memset(r, 0, sizeof(*r));
	if (slp_read_whole_file(path, (size_t)1 << 30, &r->file, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_ingest: %s\n", err);
		return -1;
	}
	struct slp_container c;
	if (slp_container_parse(r->file.data, r->file.len, &c, err, sizeof(err)) < 0 && c.events_offset == 0) {
		fprintf(stderr, "bench_ingest: %s: %s\n", path, err);
		return -1;
	}
	r->events = r->file.data + c.events_offset;
	if (slp_frame_cuts_build(r->events, c.events_size, &r->frames) < 0) {
		fprintf(stderr, "bench_ingest: out of memory\n");
		return -1;
	}
	r->n_frames = r->frames.count - 1;
	if (max_frames && r->n_frames > max_frames)
		r->n_frames = max_frames;
	return 0;
}

/* --- the console side: one client, one REPLAY write per frame at 60 fps --- */

struct server {
	struct net_loop *loop;
	const struct replay *replay;
	struct console_server console;
	struct console_session session;
	int listen_fd, fd;
	uint16_t port;
	uint8_t hs[4 + CONSOLE_HANDSHAKE_MAX_BODY_BYTES];
	size_t hs_len;
	bool handshaken, watching_write, client_gone;
	struct bytes tx;
	uint64_t t0_us;
	size_t next_frame;
	uint64_t *write_us; /* per frame; 0 = not written */
	uint64_t timer;
	bool serve_only;
	struct net_loop *client_loop; /* stopped too when the server fails (set before the thread starts) */
	char error[256];
};

static void server_fail(struct server *sv, const char *why)
{
	if (!sv->error[0])
		snprintf(sv->error, sizeof(sv->error), "%s", why);
	net_loop_stop(sv->loop);
	if (sv->client_loop)
		net_loop_stop(sv->client_loop);
}

static void on_client(void *ud, int fd, unsigned events);

static void flush(struct server *sv)
{
	while (sv->tx.len) {
		ssize_t n = net_write(sv->fd, sv->tx.data, sv->tx.len);
		if (n < 0) {
			server_fail(sv, "the client went away during the game");
			return;
		}
		if (n == 0)
			break;
		bytes_consume(&sv->tx, (size_t)n);
	}
	bool want = sv->tx.len > 0;
	if (want != sv->watching_write) {
		net_loop_watch(sv->loop, sv->fd, want ? NET_READ | NET_WRITE : NET_READ, on_client, sv);
		sv->watching_write = want;
	}
}

static void on_grace_over(void *ud)
{
	net_loop_stop(((struct server *)ud)->loop);
}

static void on_frame_timer(void *ud)
{
	struct server *sv = ud;
	sv->timer = 0;
	uint64_t now = net_now_us();
	const struct replay *r = sv->replay;
	while (sv->next_frame < r->n_frames && now >= sv->t0_us + (uint64_t)((double)sv->next_frame * FRAME_US)) {
		size_t i = sv->next_frame++;
		size_t from = r->frames.offsets[i];
		struct console_log *log = console_server_log(&sv->console);
		if (console_log_append(log, r->events + from, r->frames.offsets[i + 1] - from) < 0) {
			server_fail(sv, console_log_error(log));
			return;
		}
		while (console_server_next(&sv->console, &sv->session, &sv->tx) == CONSOLE_NEXT_REPLAY) {
		}
		sv->write_us[i] = net_now_us();
		flush(sv);
		if (sv->error[0])
			return;
	}
	if (sv->next_frame == r->n_frames) {
		if (sv->serve_only)
			net_loop_timer(sv->loop, SERVE_ONLY_GRACE_MS, on_grace_over, sv);
		return;
	}
	uint64_t due = sv->t0_us + (uint64_t)((double)sv->next_frame * FRAME_US);
	now = net_now_us();
	sv->timer = net_loop_timer(sv->loop, due > now ? (due - now + 999) / 1000 : 0, on_frame_timer, sv);
}

static void handshake_in(struct server *sv)
{
	for (;;) {
		size_t want = sv->hs_len < 4 ? 4 - sv->hs_len : 4 + rd_u32be(sv->hs) - sv->hs_len;
		if (want == 0)
			break;
		bool closed = false;
		ssize_t n = net_read(sv->fd, sv->hs + sv->hs_len, want, &closed);
		if (n == 0)
			return;
		if (n < 0) {
			server_fail(sv, "the client left before its handshake");
			return;
		}
		sv->hs_len += (size_t)n;
		if (sv->hs_len == 4 && rd_u32be(sv->hs) > CONSOLE_HANDSHAKE_MAX_BODY_BYTES) {
			server_fail(sv, "handshake too long");
			return;
		}
	}
	struct console_hello hello;
	char err[200];
	if (console_hello_decode(sv->hs + 4, sv->hs_len - 4, &hello, err, sizeof(err)) < 0) {
		server_fail(sv, err);
		return;
	}
	console_server_handshake(&sv->console, &hello, &sv->session);
	/* as Nintendont: Nagle off only for a realtime client */
	net_set_nodelay(sv->fd, hello.realtime);
	sv->handshaken = true;
	console_server_reply(&sv->console, &sv->session, "bench", "1.9.0", &sv->tx);
	flush(sv);
	sv->t0_us = net_now_us();
	sv->timer = net_loop_timer(sv->loop, 0, on_frame_timer, sv);
}

static void on_client(void *ud, int fd, unsigned events)
{
	struct server *sv = ud;
	(void)fd;
	if (!sv->handshaken) {
		handshake_in(sv);
		return;
	}
	if (events & (NET_READ | NET_ERROR)) {
		uint8_t junk[4096];
		bool closed = false;
		if (net_read(sv->fd, junk, sizeof(junk), &closed) < 0) {
			sv->client_gone = true;
			if (sv->next_frame < sv->replay->n_frames)
				server_fail(sv, "the client left during the game");
			else
				net_loop_stop(sv->loop);
			return;
		}
	}
	if (events & NET_WRITE)
		flush(sv);
}

static void on_listen(void *ud, int fd, unsigned events)
{
	struct server *sv = ud;
	(void)events;
	char peer[NET_ADDR_MAX + 8];
	sv->fd = net_tcp_accept(fd, peer, sizeof(peer));
	if (sv->fd < 0)
		return;
	net_loop_unwatch(sv->loop, sv->listen_fd);
	net_loop_watch(sv->loop, sv->fd, NET_READ, on_client, sv);
}

static int server_init(struct server *sv, const struct replay *r, bool serve_only)
{
	memset(sv, 0, sizeof(*sv));
	sv->replay = r;
	sv->fd = -1;
	sv->serve_only = serve_only;
	bytes_init(&sv->tx, 0);
	char err[256];
	sv->loop = net_loop_create();
	sv->write_us = calloc(r->n_frames ? r->n_frames : 1, sizeof(*sv->write_us));
	if (!sv->loop || !sv->write_us || console_server_init(&sv->console, 0, 1) < 0) {
		fprintf(stderr, "bench_ingest: out of memory\n");
		return -1;
	}
	sv->listen_fd = net_tcp_listen("127.0.0.1", 0, 1, &sv->port, err, sizeof(err));
	if (sv->listen_fd < 0) {
		fprintf(stderr, "bench_ingest: %s\n", err);
		return -1;
	}
	net_loop_watch(sv->loop, sv->listen_fd, NET_READ, on_listen, sv);
	return 0;
}

static void server_free(struct server *sv)
{
	if (sv->fd >= 0) {
		net_loop_unwatch(sv->loop, sv->fd);
		net_close(sv->fd);
	}
	if (sv->listen_fd >= 0) {
		net_loop_unwatch(sv->loop, sv->listen_fd);
		net_close(sv->listen_fd);
	}
	console_server_free(&sv->console);
	bytes_free(&sv->tx);
	free(sv->write_us);
	net_loop_destroy(sv->loop);
}

static void *server_thread(void *ud)
{
	struct server *sv = ud;
	net_loop_run(sv->loop);
	return NULL;
}

/* --- the console:// source on the main thread --- */

struct client {
	struct net_loop *loop;
	const struct replay *replay;
	uint64_t received;
	size_t next_frame;
	uint64_t *arrive_us;
	unsigned disconnects;
};

static void on_data(void *ud, const uint8_t *bytes, size_t len)
{
	struct client *c = ud;
	(void)bytes;
	uint64_t now = net_now_us();
	c->received += len;
	const struct replay *r = c->replay;
	while (c->next_frame < r->n_frames && c->received >= r->frames.offsets[c->next_frame + 1])
		c->arrive_us[c->next_frame++] = now;
	if (c->next_frame == r->n_frames)
		net_loop_stop(c->loop);
}

static void on_state(void *ud, enum source_state state, const char *reason)
{
	struct client *c = ud;
	if (state == SOURCE_DISCONNECTED) {
		c->disconnects++;
		fprintf(stderr, "bench_ingest: the source disconnected: %s\n", reason);
	}
}

static void on_timeout(void *ud)
{
	fprintf(stderr, "bench_ingest: timed out before the last frame arrived\n");
	net_loop_stop(ud);
}

/* --- statistics --- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Nearest rank. */
static uint64_t percentile(const uint64_t *sorted, size_t n, double q)
{
	size_t k = (size_t)(q * (double)n + 0.999999);
	return sorted[k ? k - 1 : 0];
}

static void usage(void)
{
	fputs("usage: bench_ingest --replay FILE.slp [--frames N] [--serve-only --stamps FILE]\n", stderr);
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	const char *path = NULL, *stamps = NULL;
	size_t max_frames = 0;
	bool serve_only = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--serve-only")) {
			serve_only = true;
		} else if (i + 1 < argc && !strcmp(argv[i], "--replay")) {
			path = argv[++i];
		} else if (i + 1 < argc && !strcmp(argv[i], "--stamps")) {
			stamps = argv[++i];
		} else if (i + 1 < argc && !strcmp(argv[i], "--frames")) {
			max_frames = (size_t)strtoull(argv[++i], NULL, 10);
		} else {
			usage();
			return 2;
		}
	}
	if (!path || (serve_only && !stamps)) {
		usage();
		return 2;
	}
	struct replay r;
	if (replay_load(&r, path, max_frames) < 0)
		return 1;
	if (!r.n_frames) {
		fprintf(stderr, "bench_ingest: %s holds no frame\n", path);
		return 1;
	}
	uint64_t total = r.frames.offsets[r.n_frames];
	struct server sv;
	if (server_init(&sv, &r, serve_only) < 0)
		return 1;

	if (serve_only) {
		printf("frames %zu bytes %" PRIu64 "\nlistening on 127.0.0.1:%u\n", r.n_frames, total, sv.port);
		fflush(stdout);
		net_loop_run(sv.loop);
		if (sv.error[0])
			fprintf(stderr, "bench_ingest: %s\n", sv.error);
		FILE *f = fopen(stamps, "w");
		if (!f) {
			fprintf(stderr, "bench_ingest: cannot write %s\n", stamps);
			return 1;
		}
		for (size_t i = 0; i < r.n_frames; i++)
			fprintf(f, "%zu %zu %" PRIu64 "\n", i, r.frames.offsets[i + 1], sv.write_us[i]);
		fclose(f);
		server_free(&sv);
		return 0;
	}

	struct client c = {.replay = &r};
	c.loop = net_loop_create();
	c.arrive_us = calloc(r.n_frames, sizeof(*c.arrive_us));
	if (!c.loop || !c.arrive_us) {
		fprintf(stderr, "bench_ingest: out of memory\n");
		return 1;
	}
	char url[128], err[512];
	snprintf(url, sizeof(url), "console://127.0.0.1:%u", sv.port);
	struct source_callbacks cb = {.data = on_data, .state = on_state, .ud = &c};
	struct source_options opts = {.speed = 1};
	struct source *src = source_create(c.loop, url, &opts, &cb, err, sizeof(err));
	if (!src) {
		fprintf(stderr, "bench_ingest: %s\n", err);
		return 1;
	}
	sv.client_loop = c.loop;
	pthread_t th;
	if (pthread_create(&th, NULL, server_thread, &sv)) {
		fprintf(stderr, "bench_ingest: cannot start the server thread\n");
		return 1;
	}
	uint64_t game_ms = (uint64_t)((double)r.n_frames * FRAME_US / 1000.0);
	net_loop_timer(c.loop, game_ms + 30000, on_timeout, c.loop);
	net_loop_run(c.loop);
	source_destroy(src);
	net_loop_stop(sv.loop);
	pthread_join(th, NULL);
	if (sv.error[0])
		fprintf(stderr, "bench_ingest: server: %s\n", sv.error);

	uint64_t *lat = calloc(r.n_frames, sizeof(*lat));
	size_t n = 0;
	for (size_t i = 0; i < r.n_frames && lat; i++) {
		if (sv.write_us[i] && c.arrive_us[i])
			lat[n++] = c.arrive_us[i] >= sv.write_us[i] ? c.arrive_us[i] - sv.write_us[i] : 0;
	}
	printf("command:");
	for (int i = 0; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\nandross console:// source <- Nintendont-like server, one process, two threads, loopback\n");
	printf("replay %s: %zu frames, %" PRIu64 " event bytes, 60 fps\n", path, r.n_frames, total);
	if (!n) {
		printf("no frame arrived\n");
		return 0;
	}
	qsort(lat, n, sizeof(*lat), cmp_u64);
	uint64_t p50 = percentile(lat, n, 0.50), p99 = percentile(lat, n, 0.99), max = lat[n - 1];
	printf("write -> data callback: %zu of %zu frames, p50 %" PRIu64 " us, p99 %" PRIu64 " us, max %" PRIu64
	       " us%s\n",
	       n, r.n_frames, p50, p99, max, c.disconnects ? " (the source disconnected: see stderr)" : "");
	printf("RESULT andross frames=%zu p50_us=%" PRIu64 " p99_us=%" PRIu64 " max_us=%" PRIu64 "\n", n, p50, p99,
	       max);
	free(lat);
	free(c.arrive_us);
	net_loop_destroy(c.loop);
	server_free(&sv);
	bytes_free(&r.file);
	slp_frame_cuts_free(&r.frames);
	return 0;
}
