/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The relay's logic in one process: a relay on a loop, raw and console clients on loopback sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bytes.h"
#include "console_proto.h"
#include "net/loop.h"
#include "net/sock.h"
#include "relay.h"
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

struct fixture {
	struct net_loop *loop;
	struct relay *relay;
	struct bytes file;
	const uint8_t *events;
	size_t events_len;
	/* what the callbacks saw */
	int connected[3], disconnected[3], skipped;
	char last_reason[256];
	char skip_reason[256];
	int warnings;
	char last_warning[320];
};

static void on_client(void *ud, enum relay_client_event ev, const struct relay_client_info *info, const char *reason)
{
	struct fixture *f = ud;
	if (ev == RELAY_CLIENT_CONNECTED)
		f->connected[info->mode]++;
	else if (ev == RELAY_CLIENT_DISCONNECTED)
		f->disconnected[info->mode]++;
	else
		f->skipped++;
	if (ev == RELAY_CLIENT_SKIPPED)
		snprintf(f->skip_reason, sizeof(f->skip_reason), "%s", reason);
	snprintf(f->last_reason, sizeof(f->last_reason), "%s", reason);
}

static void on_warning(void *ud, const char *message)
{
	struct fixture *f = ud;
	f->warnings++;
	snprintf(f->last_warning, sizeof(f->last_warning), "%s", message);
}

/* The test options: a free port, max_clients, nick "test-nick", a fixed seed. */
static void test_options(struct relay_options *o, size_t max_clients)
{
	relay_options_init(o);
	o->port = 0;
	o->max_clients = max_clients;
	o->nick = "test-nick";
	o->seed = 42;
}

static struct fixture *setup_opts(const char *replay, const struct relay_options *o)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	assert_true(tu_read_replay(replay, &f->file));
	assert_true(tu_events(&f->file, &f->events, &f->events_len));
	f->loop = net_loop_create();
	struct relay_callbacks cb = {.client = on_client, .warning = on_warning, .ud = f};
	char err[256];
	f->relay = relay_create(f->loop, o, &cb, err, sizeof(err));
	assert_non_null(f->relay);
	return f;
}

static struct fixture *setup_with(const char *replay, size_t max_clients)
{
	struct relay_options o;
	test_options(&o, max_clients);
	return setup_opts(replay, &o);
}

static void teardown_fixture(struct fixture *f)
{
	relay_destroy(f->relay);
	net_loop_destroy(f->loop);
	bytes_free(&f->file);
	free(f);
}

static int connect_client(struct fixture *f)
{
	char err[128];
	int fd = net_tcp_connect_start("127.0.0.1", relay_port(f->relay), err, sizeof(err));
	assert_true(fd >= 0);
	return fd;
}

/* Runs the loop for ms, reading whatever fd receives into got (when not NULL). */
static void run_for(struct fixture *f, int ms, int fd, struct bytes *got)
{
	uint64_t until = net_now_ms() + (uint64_t)ms;
	while (net_now_ms() < until) {
		net_loop_run_once(f->loop, 5);
		if (fd < 0 || !got)
			continue;
		uint8_t buf[65536];
		for (;;) {
			ssize_t n = net_read(fd, buf, sizeof(buf), NULL);
			if (n <= 0)
				break;
			assert_true(bytes_append(got, buf, (size_t)n));
		}
	}
}

/* Reads until got holds at least want bytes (or timeout). */
static void run_until(struct fixture *f, int fd, struct bytes *got, size_t want, int timeout_ms)
{
	uint64_t until = net_now_ms() + (uint64_t)timeout_ms;
	while (got->len < want && net_now_ms() < until)
		run_for(f, 5, fd, got);
}

/* An event boundary near the middle of the replay: after a frame's bytes, found by feeding whole frames. */
static size_t boundary_near(const struct fixture *f, size_t at)
{
	/* walk events with the 0x35 size table */
	const uint8_t *p = f->events;
	uint16_t sizes[256] = {0};
	size_t n = (size_t)p[1];
	for (size_t i = 2; i + 3 <= n + 1; i += 3)
		sizes[p[i]] = rd_u16be(p + i + 1);
	size_t pos = 1 + n;
	while (pos < at && pos < f->events_len)
		pos += 1u + sizes[p[pos]];
	return pos;
}

static void test_relay_raw_late_joiner_starts_at_game_start(void **state)
{
	(void)state;
	struct fixture *f = setup_with("realtimeTest.slp", 8);
	size_t half = boundary_near(f, f->events_len / 2);
	assert_int_equal(relay_feed(f->relay, f->events, half - 7), 0); /* ends inside an event */
	int fd = connect_client(f);
	struct bytes got;
	bytes_init(&got, 0);
	run_for(f, RELAY_RAW_AFTER_MS + 150, fd, &got);
	assert_int_equal(f->connected[RELAY_MODE_RAW], 1);
	assert_true(got.len > 0);
	assert_int_equal(got.data[0], 0x35);
	assert_true(got.len < half);
	assert_memory_equal(got.data, f->events, got.len);
	assert_int_equal(relay_feed(f->relay, f->events + half - 7, f->events_len - (half - 7)), 0);
	run_until(f, fd, &got, f->events_len, 3000);
	assert_int_equal(got.len, f->events_len);
	assert_memory_equal(got.data, f->events, f->events_len);
	assert_int_equal(relay_backlog_bytes(f->relay), 0);
	bytes_free(&got);
	net_close(fd);
	teardown_fixture(f);
}

static void test_relay_between_games_starts_with_next_game(void **state)
{
	(void)state;
	struct fixture *f = setup_with("v3.13.slp", 8);
	assert_int_equal(relay_feed(f->relay, f->events, f->events_len), 0); /* a whole game, Game End included */
	int fd = connect_client(f);
	struct bytes got;
	bytes_init(&got, 0);
	run_for(f, RELAY_RAW_AFTER_MS + 100, fd, &got);
	assert_int_equal(got.len, 0);
	assert_int_equal(relay_feed(f->relay, f->events, f->events_len), 0); /* the next game */
	run_until(f, fd, &got, f->events_len, 3000);
	assert_int_equal(got.len, f->events_len);
	assert_memory_equal(got.data, f->events, f->events_len);
	bytes_free(&got);
	net_close(fd);
	teardown_fixture(f);
}

struct frames {
	struct console_framer framer;
	struct console_msg msgs[4096];
	uint8_t *bodies[4096];
	size_t n;
};

static int on_frame(void *ud, const uint8_t *body, size_t len)
{
	struct frames *fr = ud;
	if (fr->n == 4096)
		return 1;
	uint8_t *copy = malloc(len);
	memcpy(copy, body, len);
	char err[128];
	assert_int_equal(console_msg_decode(copy, len, &fr->msgs[fr->n], err, sizeof(err)), 0);
	fr->bodies[fr->n++] = copy;
	return 0;
}

static void frames_free(struct frames *fr)
{
	for (size_t i = 0; i < fr->n; i++)
		free(fr->bodies[i]);
	console_framer_free(&fr->framer);
}

/* A console client session: sends the handshake, collects decoded messages. */
static void console_session(struct fixture *f, uint64_t cursor, uint32_t token, int ms, struct frames *fr, int *fd_out)
{
	int fd = connect_client(f);
	uint8_t hs[CONSOLE_HANDSHAKE_BYTES];
	console_handshake_encode(hs, cursor, token, true);
	run_for(f, 20, -1, NULL);
	assert_int_equal(net_write(fd, hs, sizeof(hs)), (ssize_t)sizeof(hs));
	struct bytes got;
	bytes_init(&got, 0);
	run_for(f, ms, fd, &got);
	console_framer_init(&fr->framer, 0);
	fr->n = 0;
	assert_int_equal(console_framer_feed(&fr->framer, got.data, got.len, on_frame, fr), 0);
	bytes_free(&got);
	*fd_out = fd;
}

static void test_relay_console_client_resumes_with_token_and_cursor(void **state)
{
	(void)state;
	struct fixture *f = setup_with("realtimeTest.slp", 8);
	size_t a = boundary_near(f, f->events_len / 3), b = boundary_near(f, 2 * f->events_len / 3);
	relay_feed(f->relay, f->events, a);
	struct frames *fr = calloc(1, sizeof(*fr));
	int fd;
	console_session(f, 0, 0, 200, fr, &fd);
	assert_true(fr->n >= 2);
	assert_int_equal(fr->msgs[0].type, CONSOLE_MSG_HANDSHAKE);
	assert_int_equal(fr->msgs[0].nick_len, strlen("test-nick"));
	assert_memory_equal(fr->msgs[0].nick, "test-nick", fr->msgs[0].nick_len);
	assert_int_equal(fr->msgs[0].pos, 0);
	uint32_t token = fr->msgs[0].token;
	assert_int_not_equal(token, 0);
	uint64_t rng = 42; /* test_options' seed: the relay's first token is the shared generator's first */
	assert_int_equal(token, console_token_next(&rng));
	/* REPLAYs are contiguous, whole events, 0x35 starts the first */
	uint64_t cursor = 0;
	for (size_t i = 1; i < fr->n; i++) {
		assert_int_equal(fr->msgs[i].type, CONSOLE_MSG_REPLAY);
		assert_int_equal(fr->msgs[i].pos, cursor);
		assert_false(fr->msgs[i].force_pos);
		assert_memory_equal(fr->msgs[i].data, f->events + cursor, fr->msgs[i].data_len);
		cursor = fr->msgs[i].next_pos;
	}
	assert_int_equal(cursor, a);
	assert_int_equal(fr->msgs[1].data[0], 0x35);
	/* it goes away mid-game; more arrives; it comes back with its token and cursor */
	uint64_t resume_at = fr->msgs[fr->n / 2].pos;
	frames_free(fr);
	net_close(fd);
	run_for(f, 20, -1, NULL);
	relay_feed(f->relay, f->events + a, b - a);
	console_session(f, resume_at, token, 200, fr, &fd);
	assert_int_equal(fr->msgs[0].type, CONSOLE_MSG_HANDSHAKE);
	assert_int_equal(fr->msgs[0].token, token);
	assert_int_equal(fr->msgs[0].pos, resume_at);
	cursor = resume_at;
	for (size_t i = 1; i < fr->n; i++) {
		assert_int_equal(fr->msgs[i].pos, cursor);
		assert_memory_equal(fr->msgs[i].data, f->events + cursor, fr->msgs[i].data_len);
		cursor = fr->msgs[i].next_pos;
	}
	assert_int_equal(cursor, b);
	frames_free(fr);
	net_close(fd);
	free(fr);
	teardown_fixture(f);
}

static void test_relay_bogus_token_gets_fresh_token_at_game_start(void **state)
{
	(void)state;
	struct fixture *f = setup_with("realtimeTest.slp", 8);
	size_t a = boundary_near(f, f->events_len / 2);
	relay_feed(f->relay, f->events, a);
	struct frames *fr = calloc(1, sizeof(*fr));
	int fd;
	console_session(f, 12345, 0xdeadbeef, 200, fr, &fd);
	assert_int_equal(fr->msgs[0].type, CONSOLE_MSG_HANDSHAKE);
	assert_int_not_equal(fr->msgs[0].token, 0xdeadbeef);
	assert_int_equal(fr->msgs[0].pos, 0);
	assert_int_equal(fr->msgs[1].pos, 0);
	assert_int_equal(fr->msgs[1].data[0], 0x35);
	frames_free(fr);
	net_close(fd);
	/* a known token with a cursor it was never sent: same token, back to the game start */
	uint32_t token = fr->msgs[0].token;
	run_for(f, 20, -1, NULL);
	console_session(f, a + 1000, token, 200, fr, &fd);
	assert_int_equal(fr->msgs[0].token, token);
	assert_int_equal(fr->msgs[0].pos, 0);
	frames_free(fr);
	net_close(fd);
	free(fr);
	teardown_fixture(f);
}

static void test_relay_full_refuses_extra_clients(void **state)
{
	(void)state;
	struct fixture *f = setup_with("v3.13.slp", 2);
	int fds[3];
	for (int i = 0; i < 3; i++) {
		fds[i] = connect_client(f);
		run_for(f, 20, -1, NULL);
	}
	assert_int_equal(relay_client_count(f->relay), 2);
	assert_int_equal(f->disconnected[RELAY_MODE_NONE], 1);
	assert_non_null(strstr(f->last_reason, "full"));
	uint8_t buf[16];
	bool closed = false;
	assert_int_equal(net_read(fds[2], buf, sizeof(buf), &closed), -1);
	assert_true(closed);
	for (int i = 0; i < 3; i++)
		net_close(fds[i]);
	teardown_fixture(f);
}

/*
 * Out of file descriptors: the relay cannot accept the waiting clients. It must not spin on its readable listening
 * socket, must report it once, and must take the clients once descriptors are free again.
 */
/* Waits (running the loop) until fd is closed by the relay. Returns true for a clean close (FIN), false for a reset
 * or a timeout. */
static bool closed_cleanly(struct fixture *f, int fd, int timeout_ms)
{
	uint64_t until = net_now_ms() + (uint64_t)timeout_ms;
	while (net_now_ms() < until) {
		net_loop_run_once(f->loop, 5);
		uint8_t buf[4096];
		bool closed = false;
		ssize_t n = net_read(fd, buf, sizeof(buf), &closed);
		if (n < 0)
			return closed;
	}
	return false;
}

/*
 * A full relay refuses a burst of connections: each is closed cleanly (a FIN after the handshake it already sent,
 * not a reset), and the reason is reported once for the address, the rest of the burst summed up in one line.
 */
static void test_relay_refusals_close_cleanly_and_log_once_per_burst(void **state)
{
	(void)state;
	struct fixture *f = setup_with("v3.13.slp", 2);
	int fds[2];
	for (int i = 0; i < 2; i++) {
		fds[i] = connect_client(f);
		run_for(f, 20, -1, NULL);
	}
	assert_int_equal(relay_client_count(f->relay), 2);
	enum { EXTRA = 10 };
	int extra[EXTRA];
	for (int i = 0; i < EXTRA; i++)
		extra[i] = connect_client(f); /* queued: the loop does not run */
	usleep(50 * 1000);
	uint8_t hs[CONSOLE_HANDSHAKE_BYTES];
	console_handshake_encode(hs, 0, 0, true);
	for (int i = 0; i < EXTRA; i++)
		assert_int_equal(net_write(extra[i], hs, sizeof(hs)), (ssize_t)sizeof(hs));
	for (int i = 0; i < EXTRA; i++)
		assert_true(closed_cleanly(f, extra[i], 2000));
	assert_int_equal(relay_client_count(f->relay), 2);
	assert_int_equal(f->disconnected[RELAY_MODE_NONE], 1);
	assert_non_null(strstr(f->last_reason, "refused: the relay is full (2 clients)"));
	assert_int_equal(f->warnings, 0);
	relay_destroy(f->relay); /* the burst is summed up at the latest when the relay stops */
	f->relay = NULL;
	assert_int_equal(f->warnings, 1);
	assert_non_null(strstr(f->last_warning, "refused 9 more connections from 127.0.0.1"));
	for (int i = 0; i < EXTRA; i++)
		net_close(extra[i]);
	for (int i = 0; i < 2; i++)
		net_close(fds[i]);
	teardown_fixture(f);
}

/* max_clients_per_address: one address gets that many slots, the next connection from it is refused with the
 * reason; a slot it gives up is its again. */
static void test_relay_per_address_limit(void **state)
{
	(void)state;
	struct relay_options o;
	test_options(&o, 8);
	o.max_clients_per_address = 2;
	struct fixture *f = setup_opts("v3.13.slp", &o);
	int fds[3];
	for (int i = 0; i < 3; i++) {
		fds[i] = connect_client(f);
		run_for(f, 20, -1, NULL);
	}
	assert_int_equal(relay_client_count(f->relay), 2);
	assert_int_equal(f->disconnected[RELAY_MODE_NONE], 1);
	assert_string_equal(f->last_reason, "refused: 127.0.0.1 is at the limit of 2 clients per address");
	assert_true(closed_cleanly(f, fds[2], 2000));
	net_close(fds[0]);
	run_for(f, 50, -1, NULL);
	assert_int_equal(relay_client_count(f->relay), 1);
	fds[0] = connect_client(f);
	run_for(f, 20, -1, NULL);
	assert_int_equal(relay_client_count(f->relay), 2);
	for (int i = 0; i < 3; i++)
		net_close(fds[i]);
	teardown_fixture(f);
}

/* By default the per-address limit spares loopback: every local tool connects from 127.0.0.1. */
static void test_relay_default_limit_spares_loopback(void **state)
{
	(void)state;
	struct fixture *f = setup_with("v3.13.slp", 4); /* a remote address would get 2 of the 4 */
	int fds[4];
	for (int i = 0; i < 4; i++) {
		fds[i] = connect_client(f);
		run_for(f, 20, -1, NULL);
	}
	assert_int_equal(relay_client_count(f->relay), 4);
	assert_int_equal(f->disconnected[RELAY_MODE_NONE], 0);
	for (int i = 0; i < 4; i++)
		net_close(fds[i]);
	teardown_fixture(f);
}

/* A client socket that holds little: a client that does not read shows up as lag at once. */
static void small_receive_buffer(int fd)
{
	int v = 4096;
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)), 0);
}

/* Feeds the rest of the replay from `from` in 16 KiB pieces, running the loop a little between them. */
static void feed_slowly(struct fixture *f, size_t from, size_t to, int fd, size_t read_per_piece)
{
	for (size_t at = from; at < to;) {
		size_t n = to - at < 16384 ? to - at : 16384;
		assert_int_equal(relay_feed(f->relay, f->events + at, n), 0);
		at += n;
		net_loop_run_once(f->loop, 1);
		uint8_t buf[4096];
		for (size_t got = 0; fd >= 0 && got < read_per_piece;) {
			ssize_t r = net_read(
				fd, buf, read_per_piece - got < sizeof(buf) ? read_per_piece - got : sizeof(buf), NULL);
			if (r <= 0)
				break;
			got += (size_t)r;
		}
	}
}

/*
 * A console client that cannot keep up is moved forward once (forcePos, as a Wii does on overflow); when it falls
 * past the lag cap again it is dropped, which frees its slot. Before, it was moved forward again and again and kept
 * its slot for good.
 */
static void test_relay_console_client_moved_forward_once_then_dropped(void **state)
{
	(void)state;
	struct relay_options o;
	test_options(&o, 8);
	o.lag_cap_bytes = 64 * 1024;
	o.send_buffer_bytes = 4096;
	struct fixture *f = setup_opts("200306_2258_Falco_v_Fox_PS.slp", &o);
	size_t start = boundary_near(f, 2000);
	assert_int_equal(relay_feed(f->relay, f->events, start), 0);
	struct frames *fr = calloc(1, sizeof(*fr));
	int fd;
	console_session(f, 0, 0, 100, fr, &fd);
	frames_free(fr);
	free(fr);
	assert_int_equal(f->connected[RELAY_MODE_CONSOLE], 1);
	small_receive_buffer(fd);
	/* it reads 1 KiB for every 16 KiB the source delivers */
	feed_slowly(f, start, f->events_len, fd, 1024);
	run_for(f, 300, -1, NULL);
	assert_int_equal(f->skipped, 1);
	assert_non_null(strstr(f->skip_reason, "moved forward"));
	assert_int_equal(f->disconnected[RELAY_MODE_CONSOLE], 1);
	assert_non_null(strstr(f->last_reason, "after it was already moved forward"));
	assert_int_equal(relay_client_count(f->relay), 0);
	net_close(fd);
	teardown_fixture(f);
}

/*
 * A client that joined with a backlog may stay behind by that backlog, but only for lag_timeout_ms: one that never
 * works it off (it reads, but slower than it would need to) is dropped then, and does not hold its slot for good.
 */
static void test_relay_client_that_never_catches_up_is_dropped(void **state)
{
	(void)state;
	struct relay_options o;
	test_options(&o, 8);
	o.lag_cap_bytes = 64 * 1024;
	o.lag_timeout_ms = 500;
	o.send_buffer_bytes = 4096;
	struct fixture *f = setup_opts("200306_2258_Falco_v_Fox_PS.slp", &o);
	size_t half = boundary_near(f, f->events_len / 2);
	assert_int_equal(relay_feed(f->relay, f->events, half), 0); /* a joiner's backlog: over 1 MB */
	int fd = connect_client(f);
	run_for(f, 20, -1, NULL);
	small_receive_buffer(fd);
	uint64_t until = net_now_ms() + 3000;
	uint64_t got = 0;
	while (net_now_ms() < until && !f->disconnected[RELAY_MODE_RAW]) {
		run_for(f, 50, -1, NULL);
		uint8_t buf[2048];
		ssize_t n =
			net_read(fd, buf, sizeof(buf), NULL); /* 2 KiB every 50 ms: it takes, but never catches up */
		if (n > 0)
			got += (uint64_t)n;
	}
	assert_int_equal(f->connected[RELAY_MODE_RAW], 1);
	assert_true(got > 0);
	assert_int_equal(f->disconnected[RELAY_MODE_RAW], 1);
	assert_non_null(strstr(f->last_reason, "too slow: still"));
	net_close(fd);
	teardown_fixture(f);
}

/*
 * 256 clients connect at once, before the relay gets to run: the kernel's queue must hold them all (a backlog of 64
 * made the rest retry their SYN after 1 s and more), and the relay takes them all in its first passes.
 */
static void test_relay_accepts_a_burst_of_256_at_once(void **state)
{
	(void)state;
	enum { N = 256 };
	struct fixture *f = setup_with("v3.13.slp", 300);
	int *fds = calloc(N, sizeof(*fds));
	for (int i = 0; i < N; i++)
		fds[i] = connect_client(f);
	/* well under the 1 s of a first SYN retry */
	uint64_t until = net_now_ms() + 700;
	while (net_now_ms() < until && relay_client_count(f->relay) < N)
		net_loop_run_once(f->loop, 5);
	assert_int_equal(relay_client_count(f->relay), N);
	for (int i = 0; i < N; i++)
		net_close(fds[i]);
	free(fds);
	teardown_fixture(f);
}

static long vm_rss_kb(void)
{
	FILE *fp = fopen("/proc/self/status", "r");
	assert_non_null(fp);
	char line[256];
	long kb = -1;
	while (fgets(line, sizeof(line), fp))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(fp);
	return kb;
}

/*
 * Bursts of clients that join mid-game and do not read, each burst closing while the next one is served: the
 * memory they cost must go back once they are gone (glibc kept the freed per-client buffers: about 2 MB more per
 * burst, for good).
 */
static void test_relay_memory_returns_after_bursts(void **state)
{
	(void)state;
#if defined(__SANITIZE_ADDRESS__)
	skip(); /* ASan's allocator keeps freed memory in quarantine: RSS says nothing about the relay here */
#endif
	enum { BURSTS = 5, PER_BURST = 300 };
	struct rlimit nofile;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &nofile), 0);
	if (nofile.rlim_cur < 4 * PER_BURST + 64 && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		assert_int_equal(setrlimit(RLIMIT_NOFILE, &nofile), 0);
	}
	struct relay_options o;
	test_options(&o, 2 * PER_BURST + 8);
	o.history_bytes = 4u * 1024u * 1024u;
	struct fixture *f = setup_opts("200306_2258_Falco_v_Fox_PS.slp", &o);
	size_t half = boundary_near(f, f->events_len / 2);
	assert_int_equal(relay_feed(f->relay, f->events, half), 0);
	run_for(f, 150, -1, NULL);
	long base_kb = vm_rss_kb(), peak_kb = base_kb;
	int prev[PER_BURST], cur[PER_BURST];
	bool have_prev = false;
	uint8_t hs[CONSOLE_HANDSHAKE_BYTES];
	console_handshake_encode(hs, 0, 0, true);
	for (int b = 0; b < BURSTS; b++) {
		for (int i = 0; i < PER_BURST; i++)
			cur[i] = connect_client(f);
		run_for(f, 30, -1, NULL);
		for (int i = 0; i < PER_BURST; i += 2) /* half console clients, half raw */
			assert_int_equal(net_write(cur[i], hs, sizeof(hs)), (ssize_t)sizeof(hs));
		run_for(f, RELAY_RAW_AFTER_MS + 150, -1, NULL);
		long kb = vm_rss_kb();
		peak_kb = kb > peak_kb ? kb : peak_kb;
		if (have_prev)
			for (int i = 0; i < PER_BURST; i++)
				net_close(prev[i]);
		memcpy(prev, cur, sizeof(prev));
		have_prev = true;
		run_for(f, 50, -1, NULL);
	}
	for (int i = 0; i < PER_BURST; i++)
		net_close(prev[i]);
	uint64_t until = net_now_ms() + 5000;
	while (relay_client_count(f->relay) && net_now_ms() < until)
		run_for(f, 50, -1, NULL);
	assert_int_equal(relay_client_count(f->relay), 0);
	run_for(f, 300, -1, NULL); /* a tick or two after the last client went */
	long after_kb = vm_rss_kb();
	print_message("relay memory: VmRSS %ld KiB before %d bursts of %d clients, %ld KiB at peak, %ld KiB after\n",
		      base_kb, BURSTS, PER_BURST, peak_kb, after_kb);
	assert_true(after_kb - base_kb < 8 * 1024);
	teardown_fixture(f);
}

static void test_relay_pauses_accepting_when_out_of_descriptors(void **state)
{
	(void)state;
	struct fixture *f = setup_with("v3.13.slp", 8);
	int fds[3];
	for (int i = 0; i < 3; i++)
		fds[i] = connect_client(f); /* queued in the backlog: the loop has not run */
	/* no new descriptor can be made: every number below the limit is taken */
	struct rlimit old;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	int lowest_free = dup(0);
	assert_true(lowest_free >= 0);
	close(lowest_free);
	struct rlimit tight = {.rlim_cur = (rlim_t)lowest_free, .rlim_max = old.rlim_max};
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &tight), 0);
	int passes = 0;
	uint64_t until = net_now_ms() + 300;
	while (net_now_ms() < until) {
		net_loop_run_once(f->loop, 5);
		passes++;
	}
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	/* an idle loop wakes every 5 ms here (60 passes), a spinning one thousands of times */
	assert_true(passes < 150);
	assert_int_equal(relay_client_count(f->relay), 0);
	assert_int_equal(f->warnings, 1);
	run_for(f, 600, -1, NULL);
	assert_int_equal(relay_client_count(f->relay), 3);
	assert_int_equal(f->warnings, 2); /* "accepting clients again" */
	for (int i = 0; i < 3; i++)
		net_close(fds[i]);
	teardown_fixture(f);
}

static void test_relay_keepalives_when_idle(void **state)
{
	(void)state;
	struct fixture *f = setup_with("v3.13.slp", 8);
	int raw = connect_client(f);
	struct frames *fr = calloc(1, sizeof(*fr));
	int console;
	console_session(f, 0, 0, 50, fr, &console);
	frames_free(fr);
	struct bytes got_raw, got_console;
	bytes_init(&got_raw, 0);
	bytes_init(&got_console, 0);
	uint64_t until = net_now_ms() + RELAY_RAW_AFTER_MS + RELAY_KEEPALIVE_MS + 250;
	while (net_now_ms() < until) {
		run_for(f, 5, raw, &got_raw);
		run_for(f, 5, console, &got_console);
	}
	assert_true(got_raw.len >= 5);
	assert_memory_equal(got_raw.data, "HELO\0", 5);
	assert_true(got_console.len >= CONSOLE_KEEPALIVE_BYTES);
	struct bytes ka;
	bytes_init(&ka, 0);
	console_keepalive_encode(&ka);
	assert_memory_equal(got_console.data, ka.data, ka.len);
	bytes_free(&ka);
	bytes_free(&got_raw);
	bytes_free(&got_console);
	net_close(raw);
	net_close(console);
	free(fr);
	teardown_fixture(f);
}

static void test_relay_stream_error_waits_for_restart(void **state)
{
	(void)state;
	struct fixture *f = setup_with("v3.13.slp", 8);
	static const uint8_t junk[] = {0x36, 1, 2, 3};
	assert_int_equal(relay_feed(f->relay, junk, sizeof(junk)), -1);
	assert_int_equal(f->warnings, 1);
	assert_int_equal(relay_feed(f->relay, f->events, f->events_len), -1);
	relay_source_restart(f->relay);
	assert_int_equal(relay_feed(f->relay, f->events, f->events_len), 0);
	assert_int_equal(relay_write_cursor(f->relay), f->events_len);
	teardown_fixture(f);
}

static void test_relay_client_event_json(void **state)
{
	(void)state;
	struct relay_client_info info = {.id = 3, .address = "127.0.0.1:5000", .mode = RELAY_MODE_RAW, .sent_bytes = 9};
	struct bytes out;
	bytes_init(&out, 0);
	assert_true(relay_client_event_json(&out, "127.0.0.1:53742", RELAY_CLIENT_DISCONNECTED, &info, "bye \"x\""));
	assert_true(bytes_append_byte(&out, 0));
	assert_string_equal(
		(const char *)out.data,
		"{\"type\":\"relay_client\",\"relay\":\"127.0.0.1:53742\",\"event\":\"disconnected\",\"client\":3,"
		"\"address\":\"127.0.0.1:5000\",\"mode\":\"raw\",\"sentBytes\":9,\"reason\":\"bye \\\"x\\\"\"}");
	bytes_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relay_raw_late_joiner_starts_at_game_start),
		cmocka_unit_test(test_relay_between_games_starts_with_next_game),
		cmocka_unit_test(test_relay_console_client_resumes_with_token_and_cursor),
		cmocka_unit_test(test_relay_bogus_token_gets_fresh_token_at_game_start),
		cmocka_unit_test(test_relay_full_refuses_extra_clients),
		cmocka_unit_test(test_relay_pauses_accepting_when_out_of_descriptors),
		cmocka_unit_test(test_relay_keepalives_when_idle),
		cmocka_unit_test(test_relay_stream_error_waits_for_restart),
		cmocka_unit_test(test_relay_client_event_json),
		cmocka_unit_test(test_relay_refusals_close_cleanly_and_log_once_per_burst),
		cmocka_unit_test(test_relay_per_address_limit),
		cmocka_unit_test(test_relay_default_limit_spares_loopback),
		cmocka_unit_test(test_relay_console_client_moved_forward_once_then_dropped),
		cmocka_unit_test(test_relay_client_that_never_catches_up_is_dropped),
		cmocka_unit_test(test_relay_accepts_a_burst_of_256_at_once),
		cmocka_unit_test(test_relay_memory_returns_after_bursts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
