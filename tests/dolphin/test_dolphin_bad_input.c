/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A fake Slippi Dolphin (libenet, same process, same event loop) serves a real replay to the dolphin:// source and
 * lies: invalid JSON, invalid base64, a wrong cursor (ahead, or an old message sent again), a next_cursor that does
 * not follow the cursor (backwards or far ahead), an unknown type, a payload over the limit, a hang-up right after
 * connect_reply. Each time the source must name the problem, reconnect at the cursor it expects and resume, so the
 * .slp it records is byte-for-byte the replay: nothing lost, nothing duplicated. A Dolphin that answers and hangs up
 * at once, again and again, must meet a growing backoff; one that answers a reconnect mid-game with an earlier
 * cursor than asked for must cost a reported gap, never events recorded twice.
 */
#include "base64.h"
#include "dolphin_proto.h"
#include "net/loop.h"
#include "slp_file.h"
#include "slp_reader.h"
#include "slp_recorder.h"
#include "slp_splitter.h"
#include "source.h"

#include <dirent.h>
#include <enet/enet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#define MAX_MSGS 4096

enum bad_kind {
	BAD_NONE,
	BAD_JSON,
	BAD_BASE64,
	BAD_CURSOR,       /* message i with cursor i + 3 */
	BAD_CURSOR_BACK,  /* message i - 2 again, in place of message i */
	BAD_NEXT_BACK,    /* message i with next_cursor i - 3 */
	BAD_NEXT_FORWARD, /* message i with next_cursor i + 40 */
	BAD_TYPE,
	BAD_GIANT,
	BAD_HANGUP, /* the fake hangs up in place of sending message i (right after connect_reply when it resumes at i) */
	BAD_REPLY_BACK, /* asked to resume at i, the fake answers i - 10 and streams from there */
};

struct bad_at {
	size_t index;
	enum bad_kind kind;
	const char *reason; /* what the source's state reason must contain */
	bool done;
};

struct fake {
	ENetHost *host;
	ENetPeer *peer;
	uint16_t port;
	bool shook;
	size_t next;
	/* the replay cut like Dolphin does */
	struct bytes file;
	const uint8_t *events;
	size_t events_size;
	size_t cuts[MAX_MSGS];
	size_t n_cuts;
	size_t n_msgs; /* start_game + game_events + end_game */
	struct bad_at *bad;
	size_t n_bad;
	uint32_t requests[64];
	size_t n_requests;
	/* until then, each connect_request gets connect_reply and a hang-up at once */
	uint64_t hangup_until_ms;
	size_t hangups;
	bool hangup_pending; /* hang up as soon as the source acknowledged everything sent */
	bool lied;           /* a forged cursor went out in this session: the next lie waits for the next session */
	bool finished;
};

struct client {
	struct slp_recorder *rec;
	char reasons[64][512];
	size_t n_reasons;
	size_t connected;
	size_t gaps;
	bool file_finished;
	char path[4096];
	char paths[8][4096]; /* every file opened */
	size_t n_files;
};

static int cut_event(void *ud, const struct slp_event *ev)
{
	struct fake *f = ud;
	if (ev->reassembled)
		return 0;
	if (ev->code == SLP_CMD_GAME_START || ev->code == SLP_CMD_FRAME_BOOKEND || ev->code == SLP_CMD_GAME_END ||
	    ev->code == SLP_CMD_MESSAGE_SPLITTER) {
		assert_true(f->n_cuts < MAX_MSGS);
		f->cuts[f->n_cuts++] = (size_t)(ev->offset + ev->size);
	}
	return 0;
}

static void load(struct fake *f, const char *name)
{
	char path[4096], err[256];
	snprintf(path, sizeof(path), "%s/%s", ANDROSS_REPLAY_DIR, name);
	bytes_init(&f->file, 0);
	assert_int_equal(slp_read_whole_file(path, (size_t)64 << 20, &f->file, err, sizeof(err)), 0);
	struct slp_container c;
	assert_int_equal(slp_container_parse(f->file.data, f->file.len, &c, err, sizeof(err)), 0);
	f->events = f->file.data + c.events_offset;
	f->events_size = c.events_size;
	struct slp_splitter s;
	slp_splitter_init(&s);
	assert_int_equal(slp_splitter_feed(&s, f->events, f->events_size, cut_event, f), 0);
	slp_splitter_free(&s);
	assert_int_equal(f->cuts[f->n_cuts - 1], f->events_size);
	f->n_msgs = f->n_cuts + 2;
}

static void send_text(ENetPeer *peer, const void *data, size_t len)
{
	ENetPacket *p = enet_packet_create(data, len, ENET_PACKET_FLAG_RELIABLE);
	assert_non_null(p);
	assert_int_equal(enet_peer_send(peer, 0, p), 0);
}

/* Message i of the stream, as Dolphin would send it (cursor = i, next_cursor = i + 1), unless told otherwise. */
static void encode_msg(struct fake *f, size_t i, struct bytes *out, uint32_t cursor, uint32_t next_cursor)
{
	struct dolphin_msg m = {.cursor = cursor, .next_cursor = next_cursor};
	if (i == 0) {
		m.type = DOLPHIN_MSG_START_GAME;
	} else if (i == f->n_msgs - 1) {
		m.type = DOLPHIN_MSG_END_GAME;
	} else {
		size_t from = i == 1 ? 0 : f->cuts[i - 2];
		m.type = DOLPHIN_MSG_GAME_EVENT;
		m.payload = f->events + from;
		m.payload_len = f->cuts[i - 1] - from;
	}
	assert_true(dolphin_msg_encode(&m, out));
}

static void send_bad(struct fake *f, size_t i, enum bad_kind kind)
{
	struct bytes b;
	bytes_init(&b, 0);
	switch (kind) {
	case BAD_JSON:
		bytes_appendf(&b, "{\"cursor\":%zu,\"next_cursor\":%zu,\"payload\":\"NTY=\",\"type\":\"game_ev", i,
			      i + 1);
		break;
	case BAD_BASE64:
		bytes_appendf(&b, "{\"cursor\":%zu,\"next_cursor\":%zu,\"payload\":\"NT*=\",\"type\":\"game_event\"}",
			      i, i + 1);
		break;
	case BAD_CURSOR:
		encode_msg(f, i, &b, (uint32_t)i + 3, (uint32_t)i + 4);
		break;
	case BAD_CURSOR_BACK:
		encode_msg(f, i - 2, &b, (uint32_t)i - 2, (uint32_t)i - 1);
		break;
	case BAD_NEXT_BACK:
		encode_msg(f, i, &b, (uint32_t)i, (uint32_t)i - 3);
		break;
	case BAD_NEXT_FORWARD:
		encode_msg(f, i, &b, (uint32_t)i, (uint32_t)i + 40);
		break;
	case BAD_HANGUP:
		/* once the source has what was sent (connect_reply at least) */
		f->hangup_pending = true;
		bytes_free(&b);
		return;
	case BAD_TYPE:
		bytes_appendf(&b, "{\"cursor\":%zu,\"next_cursor\":%zu,\"type\":\"frame_event\"}", i, i + 1);
		break;
	case BAD_GIANT: {
		size_t n = DOLPHIN_PAYLOAD_MAX_BYTES + DOLPHIN_PAYLOAD_MAX_BYTES / 2;
		uint8_t *raw = calloc(1, n);
		assert_non_null(raw);
		struct dolphin_msg m = {.type = DOLPHIN_MSG_GAME_EVENT,
					.cursor = (uint32_t)i,
					.next_cursor = (uint32_t)i + 1,
					.payload = raw,
					.payload_len = n};
		assert_true(dolphin_msg_encode(&m, &b));
		free(raw);
		break;
	}
	default:
		break;
	}
	send_text(f->peer, b.data, b.len);
	bytes_free(&b);
}

static void fake_service(struct fake *f)
{
	ENetEvent ev;
	while (enet_host_service(f->host, &ev, 0) > 0) {
		switch (ev.type) {
		case ENET_EVENT_TYPE_CONNECT:
			f->peer = ev.peer;
			f->shook = false;
			f->hangup_pending = false;
			f->lied = false;
			break;
		case ENET_EVENT_TYPE_RECEIVE: {
			struct dolphin_msg m;
			struct bytes payload;
			char err[256];
			bytes_init(&payload, 0);
			assert_int_equal(dolphin_msg_decode(ev.packet->data, ev.packet->dataLength, &m, &payload, err,
							    sizeof(err)),
					 0);
			bytes_free(&payload);
			enet_packet_destroy(ev.packet);
			assert_int_equal(m.type, DOLPHIN_MSG_CONNECT_REQUEST);
			assert_true(f->n_requests < 64);
			f->requests[f->n_requests++] = m.cursor;
			f->next = m.cursor < f->n_msgs ? m.cursor : 0;
			for (size_t k = 0; k < f->n_bad; k++) {
				if (!f->bad[k].done && f->bad[k].kind == BAD_REPLY_BACK && f->bad[k].index == f->next) {
					f->bad[k].done = true;
					f->next -= 10;
					break;
				}
			}
			struct dolphin_msg reply = {.type = DOLPHIN_MSG_CONNECT_REPLY, .cursor = (uint32_t)f->next};
			strcpy(reply.nick, "Fake Dolphin");
			strcpy(reply.version, "3.4.0");
			struct bytes b;
			bytes_init(&b, 0);
			assert_true(dolphin_msg_encode(&reply, &b));
			send_text(f->peer, b.data, b.len);
			bytes_free(&b);
			/* sent now, so that until the source acknowledges it the reply is among the peer's sent commands */
			enet_host_flush(f->host);
			f->shook = true;
			if (net_now_ms() < f->hangup_until_ms) {
				f->hangup_pending = true;
				f->shook = false;
				f->hangups++;
			}
			break;
		}
		case ENET_EVENT_TYPE_DISCONNECT:
			if (ev.peer == f->peer) {
				f->peer = NULL;
				f->shook = false;
			}
			break;
		default:
			break;
		}
	}
	/* a hang-up right after the source got connect_reply (and what else was sent): ENet would drop packets still
	 * unacknowledged at the disconnect, and the source would never see the reply */
	if (f->peer && f->hangup_pending && enet_list_empty(&f->peer->sentReliableCommands) &&
	    enet_list_empty(&f->peer->outgoingCommands)) {
		enet_peer_disconnect_now(f->peer, 0);
		f->peer = NULL;
		f->shook = false;
		f->hangup_pending = false;
	}
	/* stream a few messages per pass */
	for (int n = 0; n < 16 && f->peer && f->shook && f->next < f->n_msgs; n++) {
		bool injected = false;
		for (size_t k = 0; k < f->n_bad; k++) {
			if (!f->bad[k].done && f->bad[k].kind != BAD_REPLY_BACK && f->bad[k].index == f->next) {
				if (f->lied) {
					f->shook = false;
					injected = true;
					break;
				}
				f->bad[k].done = true;
				send_bad(f, f->next, f->bad[k].kind);
				/* a forged cursor goes on as if it was the message; otherwise the source drops the link (or
				 * the fake hangs up): stop until it comes back */
				if (f->bad[k].kind == BAD_NEXT_BACK || f->bad[k].kind == BAD_NEXT_FORWARD ||
				    f->bad[k].kind == BAD_CURSOR_BACK) {
					f->lied = true;
					f->next++;
					break;
				}
				f->shook = false;
				injected = true;
				break;
			}
		}
		if (injected)
			break;
		if (!f->peer || f->next >= f->n_msgs)
			break;
		struct bytes b;
		bytes_init(&b, 0);
		encode_msg(f, f->next, &b, (uint32_t)f->next, (uint32_t)f->next + 1);
		send_text(f->peer, b.data, b.len);
		bytes_free(&b);
		f->next++;
	}
	if (f->next == f->n_msgs)
		f->finished = true;
	enet_host_flush(f->host);
}

static void on_data(void *ud, const uint8_t *bytes, size_t len)
{
	struct client *c = ud;
	slp_recorder_feed(c->rec, bytes, len);
}

static void on_state(void *ud, enum source_state state, const char *reason)
{
	struct client *c = ud;
	if (state == SOURCE_CONNECTED)
		c->connected++;
	if (c->n_reasons < 64)
		snprintf(c->reasons[c->n_reasons++], sizeof(c->reasons[0]), "%s: %s", source_state_name(state),
			 reason ? reason : "");
}

static void on_gap(void *ud, uint64_t from, uint64_t to, const char *reason)
{
	struct client *c = ud;
	(void)from;
	(void)to;
	(void)reason;
	c->gaps++;
	slp_recorder_restart_at_boundary(c->rec);
}

static void on_file(void *ud, const char *path, bool finished)
{
	struct client *c = ud;
	snprintf(c->path, sizeof(c->path), "%s", path);
	if (!finished && c->n_files < 8)
		snprintf(c->paths[c->n_files++], sizeof(c->paths[0]), "%s", path);
	if (finished)
		c->file_finished = true;
}

static void make_dir(const char *path)
{
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", path, path);
	assert_int_equal(system(cmd), 0);
}

/* The fake Dolphin and the dolphin:// source (into a recorder) on one loop, until the game's file is finished or the
 * fake sent its last message and half a second went by. The fake and client stay for the test to check. */
static void run_fake(struct fake *f, struct client *c, const char *dir_name)
{
	load(f, "v3.13.slp");
	ENetAddress addr = {0};
	enet_address_set_host_ip(&addr, "127.0.0.1");
	addr.port = 0;
	f->host = enet_host_create(&addr, 4, 2, 0, 0);
	assert_non_null(f->host);
	ENetAddress bound;
	assert_int_equal(enet_socket_get_address(f->host->socket, &bound), 0);
	f->port = bound.port;

	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/%s", ANDROSS_TEST_TMP, dir_name);
	make_dir(dir);
	struct slp_recorder_options ropts = {.out_dir = dir, .console_nick = NULL};
	struct slp_recorder_callbacks rcb = {.file = on_file, .ud = c};
	c->rec = slp_recorder_create(&ropts, &rcb);
	assert_non_null(c->rec);

	struct net_loop *loop = net_loop_create();
	assert_non_null(loop);
	char url[64], err[256];
	snprintf(url, sizeof(url), "dolphin://127.0.0.1:%u", f->port);
	struct source_callbacks cb = {.data = on_data, .state = on_state, .gap = on_gap, .ud = c};
	struct source *src = source_create(loop, url, NULL, &cb, err, sizeof(err));
	assert_non_null(src);
	uint64_t deadline = net_now_ms() + 30000;
	uint64_t finished_at = 0;
	while (!c->file_finished && net_now_ms() < deadline && (!finished_at || net_now_ms() < finished_at + 500)) {
		net_loop_run_once(loop, 2);
		fake_service(f);
		if (f->finished && !finished_at)
			finished_at = net_now_ms();
	}
	source_destroy(src);
	slp_recorder_end(c->rec);
	slp_recorder_destroy(c->rec);
	net_loop_destroy(loop);
	enet_host_destroy(f->host);
	f->host = NULL;
	for (size_t i = 0; i < c->n_reasons; i++)
		fprintf(stderr, "  state %s\n", c->reasons[i]);
}

/* events (or the file's whole events when len is 0) are what file holds, and `andross inspect` reads it */
static void expect_file_holds(const char *path, const uint8_t *events, size_t len)
{
	char err[256];
	struct bytes out;
	bytes_init(&out, 0);
	assert_int_equal(slp_read_whole_file(path, (size_t)64 << 20, &out, err, sizeof(err)), 0);
	struct slp_container ct;
	assert_int_equal(slp_container_parse(out.data, out.len, &ct, err, sizeof(err)), 0);
	assert_false(ct.in_progress);
	if (ct.events_size != len)
		fprintf(stderr, "%s holds %zu event bytes where %zu were expected\n", path, (size_t)ct.events_size,
			len);
	assert_int_equal(ct.events_size, len);
	assert_memory_equal(out.data + ct.events_offset, events, len);
	bytes_free(&out);
#ifdef ANDROSS_TOOL
	char cmd[8400];
	snprintf(cmd, sizeof(cmd), "'%s' inspect '%s' > /dev/null", ANDROSS_TOOL, path);
	assert_int_equal(system(cmd), 0);
#endif
}

static bool reason_names(const struct client *c, const char *state, const char *what)
{
	for (size_t i = 0; i < c->n_reasons; i++)
		if (!strncmp(c->reasons[i], state, strlen(state)) && strstr(c->reasons[i], what))
			return true;
	fprintf(stderr, "no %s state reason names '%s'\n", state, what);
	return false;
}

static void run_scenario(struct bad_at *bad, size_t n_bad, const char *dir_name)
{
	assert_int_equal(enet_initialize(), 0);
	struct fake *f = calloc(1, sizeof(*f));
	struct client *c = calloc(1, sizeof(*c));
	assert_true(f && c);
	f->bad = bad;
	f->n_bad = n_bad;
	run_fake(f, c, dir_name);

	assert_true(c->file_finished);
	assert_int_equal(c->gaps, 0);
	/* each bad message: named in a state reason, then a reconnect at the cursor of the message it replaced */
	assert_int_equal(c->connected, 1 + n_bad);
	assert_int_equal(f->n_requests, 1 + n_bad);
	assert_int_equal(f->requests[0], 0);
	for (size_t k = 0; k < n_bad; k++) {
		assert_true(bad[k].done);
		assert_int_equal(f->requests[k + 1], bad[k].index);
		assert_true(reason_names(c, "waiting: ", bad[k].reason));
	}
	/* the recorded game is the replay, byte for byte */
	expect_file_holds(c->path, f->events, f->events_size);
	bytes_free(&f->file);
	free(f);
	free(c);
	enet_deinitialize();
}

static void test_dolphin_source_reconnects_after_each_bad_message(void **state)
{
	(void)state;
	struct bad_at bad[] = {
		{0, BAD_JSON, "invalid JSON", false}, /* before the game's first message */
		{5, BAD_JSON, "invalid JSON", false},
		{15, BAD_BASE64, "not valid base64", false},
		{25, BAD_CURSOR, "has cursor 28 where 25 was expected", false},
		{35, BAD_TYPE, "unknown message type 'frame_event'", false},
		{45, BAD_GIANT, "limit", false},
	};
	run_scenario(bad, sizeof(bad) / sizeof(bad[0]), "bad_input");
}

/* Forged cursors and hang-ups: refused or survived without a byte lost or doubled. */
static void test_dolphin_source_survives_a_lying_dolphin(void **state)
{
	(void)state;
	struct bad_at bad[] = {
		{0, BAD_HANGUP, "dropped the connection", false}, /* right after the first connect_reply */
		{3, BAD_NEXT_BACK, "game_event 3 has next_cursor 0", false},
		{10, BAD_NEXT_FORWARD, "game_event 10 has next_cursor 50", false},
		{20, BAD_CURSOR_BACK, "has cursor 18 where 20 was expected", false},
		{20, BAD_HANGUP, "dropped the connection", false}, /* right after connect_reply at 20 */
		{30, BAD_HANGUP, "dropped the connection", false}, /* mid-stream */
	};
	run_scenario(bad, sizeof(bad) / sizeof(bad[0]), "lying");
}

/* A Dolphin that answers every connect_request and hangs up at once: each attempt waits longer (the backoff is not
 * reset by a session that delivered nothing), and once it streams honestly the game is recorded whole. */
static void test_dolphin_source_backs_off_from_a_dolphin_that_hangs_up(void **state)
{
	(void)state;
	assert_int_equal(enet_initialize(), 0);
	struct fake *f = calloc(1, sizeof(*f));
	struct client *c = calloc(1, sizeof(*c));
	assert_true(f && c);
	f->hangup_until_ms = net_now_ms() + 6000;
	run_fake(f, c, "hangups");
	fprintf(stderr, "  %zu hang-ups in 6 s\n", f->hangups);
	/* backoff 250, 500, 1000, 2000, 4000 ms: 5 attempts in 6 s (with no backoff: one every 250 ms, about 20) */
	assert_true(f->hangups >= 2);
	assert_true(f->hangups <= 7);
	assert_true(reason_names(c, "waiting: ", "dropped the connection"));
	for (size_t i = 0; i < f->n_requests; i++)
		assert_int_equal(f->requests[i], 0);
	assert_true(c->file_finished);
	assert_int_equal(c->gaps, 0);
	expect_file_holds(c->path, f->events, f->events_size);
	bytes_free(&f->file);
	free(f);
	free(c);
	enet_deinitialize();
}

/* Asked to resume mid-game at message 30, the fake answers 20 and sends 20.. again. The source reports a gap and
 * records nothing more of that game: the file holds messages 0..29 once (the game's start, cut), never 20..29
 * twice. */
static void test_dolphin_source_never_doubles_events_after_an_earlier_reply(void **state)
{
	(void)state;
	assert_int_equal(enet_initialize(), 0);
	struct fake *f = calloc(1, sizeof(*f));
	struct client *c = calloc(1, sizeof(*c));
	assert_true(f && c);
	struct bad_at bad[] = {
		{30, BAD_CURSOR, "has cursor 33 where 30 was expected", false},
		{30, BAD_REPLY_BACK, "", false},
	};
	f->bad = bad;
	f->n_bad = 2;
	run_fake(f, c, "reply_back");
	assert_true(bad[0].done && bad[1].done);
	assert_int_equal(f->n_requests, 2);
	assert_int_equal(f->requests[1], 30);
	assert_int_equal(c->gaps, 1);
	assert_true(reason_names(c, "connected: ", "from message 20"));
	assert_int_equal(c->n_files, 1);
	/* message 30 is game_event 29: the events before it are cuts[0..28) */
	expect_file_holds(c->paths[0], f->events, f->cuts[28]);
	bytes_free(&f->file);
	free(f);
	free(c);
	enet_deinitialize();
}

static void test_dolphin_source_plain_game(void **state)
{
	(void)state;
	run_scenario(NULL, 0, "plain");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dolphin_source_plain_game),
		cmocka_unit_test(test_dolphin_source_reconnects_after_each_bad_message),
		cmocka_unit_test(test_dolphin_source_survives_a_lying_dolphin),
		cmocka_unit_test(test_dolphin_source_backs_off_from_a_dolphin_that_hangs_up),
		cmocka_unit_test(test_dolphin_source_never_doubles_events_after_an_earlier_reply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
