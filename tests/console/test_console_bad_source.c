/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Hostile or broken peers for the console source: a fake console (on the loop, in a thread of this test) that
 * answers each connection with one kind of bad input, and a fake raw relay that cuts a game and re-sends it from its
 * Event Payloads. `andross record` must log a reason, reconnect, stay small, and leave readable files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "console_proto.h"
#include "live_util.h"
#include "net/loop.h"
#include "net/sock.h"
#include "slp_splitter.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *tool;

typedef void (*serve_fn)(void *ud, unsigned session, int fd, const struct console_hello *hello);

struct fake {
	struct net_loop *loop;
	pthread_t thread;
	int listen_fd;
	uint16_t port;
	serve_fn serve;
	void *ud;
	unsigned sessions;
	bool raw; /* do not wait for the client's handshake */
};

/* Blocking-ish write of everything (loopback, small amounts). */
static void send_all(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;
	for (int spins = 0; len && spins < 100000; spins++) {
		ssize_t n = net_write(fd, p, len);
		if (n < 0)
			return;
		p += n;
		len -= (size_t)n;
		if (n == 0) {
			struct timespec ts = {0, 100000};
			nanosleep(&ts, NULL);
		}
	}
}

static void on_accept(void *ud, int fd, unsigned events)
{
	struct fake *f = ud;
	(void)events;
	int c = net_tcp_accept(fd, NULL, 0);
	if (c < 0)
		return;
	struct console_hello h = {0};
	if (!f->raw) {
		uint8_t hs[CONSOLE_HANDSHAKE_BYTES];
		size_t got = 0;
		for (int spins = 0; got < sizeof(hs) && spins < 20000; spins++) {
			ssize_t n = net_read(c, hs + got, sizeof(hs) - got, NULL);
			if (n < 0)
				break;
			got += (size_t)n;
			if (n == 0) {
				struct timespec ts = {0, 100000};
				nanosleep(&ts, NULL);
			}
		}
		char err[128];
		if (got != sizeof(hs) || console_hello_decode(hs + 4, 79, &h, err, sizeof(err)) < 0) {
			net_close(c);
			return;
		}
	}
	f->serve(f->ud, f->sessions++, c, &h);
	net_close(c);
}

static void *fake_run(void *arg)
{
	struct fake *f = arg;
	net_loop_run(f->loop);
	return NULL;
}

static void fake_start(struct fake *f)
{
	char err[256];
	f->loop = net_loop_create();
	f->listen_fd = net_tcp_listen("127.0.0.1", 0, 4, &f->port, err, sizeof(err));
	assert_true(f->listen_fd >= 0);
	net_loop_watch(f->loop, f->listen_fd, NET_READ, on_accept, f);
	assert_int_equal(pthread_create(&f->thread, NULL, fake_run, f), 0);
}

static void fake_stop(struct fake *f)
{
	net_loop_stop(f->loop);
	pthread_join(f->thread, NULL);
	net_close(f->listen_fd);
	net_loop_destroy(f->loop);
}

static void msleep(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* --- the bad console --- */

struct bad_console {
	const uint8_t *events;
	size_t events_len;
	size_t first_part; /* event-aligned */
};

static void frame_raw(struct bytes *b, const void *body, size_t len)
{
	bytes_append_u32be(b, (uint32_t)len);
	bytes_append(b, body, len);
}

static void bad_serve(void *ud, unsigned session, int fd, const struct console_hello *h)
{
	struct bad_console *bc = ud;
	struct bytes b;
	bytes_init(&b, 0);
	uint64_t cur = h->cursor;
	if (session != 6) /* session 6 sends raw junk before anything */
		console_reply_encode(&b, "BadWii", "1.9.0", 0x1234, cur);
	switch (session) {
	case 0: /* a good start: the first part of a game, in messages */
		for (size_t i = 0; i < bc->first_part;) {
			size_t n = 0;
			/* whole events: the first part was cut at an event boundary; chunks follow event sizes below */
			n = bc->first_part - i;
			console_replay_encode(&b, cur + i, false, bc->events + i, n);
			i += n;
		}
		break;
	case 1: /* a length prefix of 0xFFFFFFFF */
		bytes_append(&b, "\xff\xff\xff\xff", 4);
		break;
	case 2: /* invalid UBJSON */
		frame_raw(&b, "{\x69\x04type\x55\x02\x69\x07payload{\x69\x03pos[$U#\x69\x7f", 30);
		break;
	case 3: /* a REPLAY with a mistyped field */
		frame_raw(&b, "{\x69\x04typeS\x69\x01x}", 12);
		break;
	case 4: /* a cursor mismatch without forcePos */
		console_replay_encode(&b, cur + 1000, false, (const uint8_t *)"\x39\x02\x00", 3);
		break;
	case 5: /* an event code the size table does not declare */
		console_replay_encode(&b, cur, false, (const uint8_t *)"\xee\x01\x02", 3);
		break;
	case 6: /* bytes before the handshake reply that are not a reply: raw junk */
		bytes_append(&b, "garbage that is not a reply at all", 34);
		break;
	case 7: /* a corrupt size table */
		console_replay_encode(&b, cur, false, (const uint8_t *)"\x35\x05\x36\x00\x10\x00", 6);
		break;
	case 8: /* a REPLAY message first: not a reply, so a raw stream (§1.11) of junk that never starts a game */
		bytes_clear(&b);
		console_replay_encode(&b, cur, false, (const uint8_t *)"\x39\x02\x00", 3);
		break;
	case 9: /* a handshake reply without its token */
		bytes_clear(&b);
		frame_raw(&b, "{\x69\x04type\x55\x01\x69\x07payload{\x69\x03pos[$U#\x69\x08\0\0\0\0\0\0\0\0}}", 40);
		break;
	default:
		break;
	}
	send_all(fd, b.data, b.len);
	msleep(30);
	bytes_free(&b);
}

static size_t boundary_before(const uint8_t *ev, size_t len, size_t limit)
{
	struct slp_splitter s;
	slp_splitter_init(&s);
	size_t best = 0;
	for (size_t i = 0; i < len && i < limit;) {
		size_t n = 1;
		slp_splitter_feed(&s, ev + i, n, NULL, NULL);
		i += n;
		if (!slp_splitter_pending_bytes(&s))
			best = i;
	}
	slp_splitter_free(&s);
	return best;
}

static void test_bad_console_input_reconnects_and_keeps_a_readable_file(void **state)
{
	(void)state;
	struct bytes file;
	const uint8_t *ev;
	size_t len;
	assert_true(lu_replay_events("geckoCodes.slp", &file, &ev, &len));
	struct bad_console bc = {.events = ev, .events_len = len, .first_part = boundary_before(ev, len, 20000)};
	assert_true(bc.first_part > 1000);
	struct fake f = {.serve = bad_serve, .ud = &bc};
	fake_start(&f);
	char dir[1024], out[1100], events[1100], log[1100], url[128];
	lu_temp_dir("bad", dir, sizeof(dir));
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(events, sizeof(events), "%s/events.jsonl", dir);
	snprintf(log, sizeof(log), "%s/record.log", dir);
	snprintf(url, sizeof(url), "console://127.0.0.1:%u?retry_ms=5&idle_ms=1000", f.port);
	char *argv[] = {(char *)tool, "record", "--source", url, "--out", out, "--events", events, NULL};
	struct child rec;
	assert_true(lu_spawn(&rec, argv, false, log));
	for (int i = 0; i < 400 && f.sessions < 11; i++)
		msleep(10);
	msleep(100);
	lu_signal(&rec, SIGTERM);
	assert_int_equal(lu_wait(&rec, 10000), 0);
	fake_stop(&f);
	printf("fake console served %u sessions; record max RSS %ld KiB\n", f.sessions, rec.max_rss_kb);
	assert_true(f.sessions >= 11);
	static const char *const reasons[] = {
		"frame length 4294967295 is above the limit",
		"bad message from the console: UBJSON",
		"type is not an integer",
		"but the cursor is at",
		"undeclared",
		"raw event stream",
		"Event Payloads declares an invalid size",
		"handshake reply without clientToken",
	};
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		if (!lu_count_lines(events, reasons[i])) {
			fprintf(stderr, "no connection event mentions '%s' (see %s)\n", reasons[i], events);
			fail();
		}
	}
	assert_true(rec.max_rss_kb < 64 * 1024);
	/* the game begun in session 0 was finalised on exit and reads back */
	char files[4][1024];
	size_t nf = lu_wrote_files(log, files, 4);
	assert_int_equal(nf, 1);
	assert_true(lu_inspect_ok(tool, files[0]));
	struct bytes got;
	const uint8_t *gev;
	size_t glen;
	assert_true(lu_slp_events(files[0], &got, &gev, &glen));
	assert_int_equal(glen, bc.first_part);
	assert_memory_equal(gev, ev, glen);
	bytes_free(&got);
	bytes_free(&file);
}

/* --- a raw relay that re-sends the game in progress from its Event Payloads (§3.1) --- */

struct raw_relay {
	const uint8_t *tail; /* the previous game's last events */
	size_t tail_len;
	const uint8_t *game;
	size_t game_len;
	size_t cut; /* session 0 stops here (inside an event) */
};

static void raw_serve(void *ud, unsigned session, int fd, const struct console_hello *h)
{
	struct raw_relay *rr = ud;
	(void)h;
	send_all(fd, rr->tail, rr->tail_len);
	send_all(fd, "HELO\0HELO\0", 10);
	if (session == 0)
		send_all(fd, rr->game, rr->cut);
	else if (session <= 2)
		send_all(fd, rr->game, rr->game_len); /* 2: the same game again after it ended */
	msleep(50);
}

static void test_raw_relay_resending_the_game_does_not_corrupt_the_recording(void **state)
{
	(void)state;
	struct bytes f1, f2;
	const uint8_t *e1, *e2;
	size_t l1, l2;
	assert_true(lu_replay_events("unranked_game1.slp", &f1, &e1, &l1));
	assert_true(lu_replay_events("geckoCodes.slp", &f2, &e2, &l2));
	size_t tail_at = boundary_before(e1, l1, l1 - 3000);
	struct raw_relay rr = {.tail = e1 + tail_at,
			       .tail_len = l1 - tail_at,
			       .game = e2,
			       .game_len = l2,
			       .cut = boundary_before(e2, l2, l2 / 2) + 7};
	struct fake f = {.serve = raw_serve, .ud = &rr, .raw = true};
	fake_start(&f);
	char dir[1024], out[1100], events[1100], log[1100], url[128];
	lu_temp_dir("raw", dir, sizeof(dir));
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(events, sizeof(events), "%s/events.jsonl", dir);
	snprintf(log, sizeof(log), "%s/record.log", dir);
	snprintf(url, sizeof(url), "relay://127.0.0.1:%u?retry_ms=5", f.port);
	char *argv[] = {(char *)tool, "record", "--source", url, "--out", out, "--events", events, NULL};
	struct child rec;
	assert_true(lu_spawn(&rec, argv, false, log));
	for (int i = 0; i < 400 && f.sessions < 4; i++)
		msleep(10);
	msleep(100);
	lu_signal(&rec, SIGTERM);
	assert_int_equal(lu_wait(&rec, 10000), 0);
	fake_stop(&f);
	/* exactly one file: the whole game, once */
	char files[4][1024];
	size_t nf = lu_wrote_files(log, files, 4);
	const char *const want[] = {"geckoCodes.slp"};
	if (!lu_files_match_replays(files, nf, want, 1)) {
		fprintf(stderr, "see %s and %s\n", log, events);
		fail();
	}
	assert_true(lu_count_lines(events, "re-sent; skipping") >= 2);
	bytes_free(&f1);
	bytes_free(&f2);
}

int main(int argc, char **argv)
{
	tool = argc > 1 ? argv[1] : ANDROSS_TOOL;
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_console_input_reconnects_and_keeps_a_readable_file),
		cmocka_unit_test(test_raw_relay_resending_the_game_does_not_corrupt_the_recording),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
