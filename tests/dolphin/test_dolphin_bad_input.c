/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A fake Slippi Dolphin (libenet, same process, same event loop) serves a real replay to the dolphin:// source and
 * slips bad messages into the stream: invalid JSON, invalid base64, a wrong cursor, an unknown type, a payload over
 * the limit. Each time the source must name the problem, reconnect at the cursor it expects and resume, so the .slp
 * it records is byte-for-byte the replay: nothing lost, nothing duplicated.
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

enum bad_kind { BAD_NONE, BAD_JSON, BAD_BASE64, BAD_CURSOR, BAD_TYPE, BAD_GIANT };

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

/* Message i of the stream, as Dolphin would send it (cursor = i). */
static void encode_msg(struct fake *f, size_t i, struct bytes *out, uint32_t cursor)
{
	struct dolphin_msg m = {.cursor = cursor, .next_cursor = cursor + 1};
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
		encode_msg(f, i, &b, (uint32_t)i + 3);
		break;
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
			struct dolphin_msg reply = {.type = DOLPHIN_MSG_CONNECT_REPLY, .cursor = (uint32_t)f->next};
			strcpy(reply.nick, "Fake Dolphin");
			strcpy(reply.version, "3.4.0");
			struct bytes b;
			bytes_init(&b, 0);
			assert_true(dolphin_msg_encode(&reply, &b));
			send_text(f->peer, b.data, b.len);
			bytes_free(&b);
			f->shook = true;
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
	/* stream a few messages per pass */
	for (int n = 0; n < 16 && f->peer && f->shook && f->next < f->n_msgs; n++) {
		bool injected = false;
		for (size_t k = 0; k < f->n_bad; k++) {
			if (!f->bad[k].done && f->bad[k].index == f->next) {
				f->bad[k].done = true;
				send_bad(f, f->next, f->bad[k].kind);
				/* the source drops the link; stop until it comes back */
				f->shook = false;
				injected = true;
				break;
			}
		}
		if (injected)
			break;
		struct bytes b;
		bytes_init(&b, 0);
		encode_msg(f, f->next, &b, (uint32_t)f->next);
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
	if (finished)
		c->file_finished = true;
}

static void make_dir(const char *path)
{
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", path, path);
	assert_int_equal(system(cmd), 0);
}

static void run_scenario(struct bad_at *bad, size_t n_bad, const char *dir_name)
{
	assert_int_equal(enet_initialize(), 0);
	struct fake f = {.bad = bad, .n_bad = n_bad};
	load(&f, "v3.13.slp");
	ENetAddress addr = {0};
	enet_address_set_host_ip(&addr, "127.0.0.1");
	addr.port = 0;
	f.host = enet_host_create(&addr, 4, 2, 0, 0);
	assert_non_null(f.host);
	ENetAddress bound;
	assert_int_equal(enet_socket_get_address(f.host->socket, &bound), 0);
	f.port = bound.port;

	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/%s", ANDROSS_TEST_TMP, dir_name);
	make_dir(dir);
	struct client c = {0};
	struct slp_recorder_options ropts = {.out_dir = dir, .console_nick = NULL};
	struct slp_recorder_callbacks rcb = {.file = on_file, .ud = &c};
	c.rec = slp_recorder_create(&ropts, &rcb);
	assert_non_null(c.rec);

	struct net_loop *loop = net_loop_create();
	assert_non_null(loop);
	char url[64], err[256];
	snprintf(url, sizeof(url), "dolphin://127.0.0.1:%u", f.port);
	struct source_callbacks cb = {.data = on_data, .state = on_state, .gap = on_gap, .ud = &c};
	struct source *src = source_create(loop, url, NULL, &cb, err, sizeof(err));
	assert_non_null(src);
	uint64_t deadline = net_now_ms() + 30000;
	while (!c.file_finished && net_now_ms() < deadline) {
		net_loop_run_once(loop, 2);
		fake_service(&f);
	}
	source_destroy(src);
	slp_recorder_end(c.rec);
	slp_recorder_destroy(c.rec);
	net_loop_destroy(loop);

	for (size_t i = 0; i < c.n_reasons; i++)
		fprintf(stderr, "  state %s\n", c.reasons[i]);
	assert_true(c.file_finished);
	assert_int_equal(c.gaps, 0);
	/* each bad message: named in a state reason, then a reconnect at the cursor of the message it replaced */
	assert_int_equal(c.connected, 1 + n_bad);
	assert_int_equal(f.n_requests, 1 + n_bad);
	assert_int_equal(f.requests[0], 0);
	for (size_t k = 0; k < n_bad; k++) {
		assert_true(bad[k].done);
		assert_int_equal(f.requests[k + 1], bad[k].index);
		bool named = false;
		for (size_t i = 0; i < c.n_reasons; i++)
			if (!strncmp(c.reasons[i], "waiting: ", 9) && strstr(c.reasons[i], bad[k].reason))
				named = true;
		if (!named)
			fprintf(stderr, "no state reason names '%s'\n", bad[k].reason);
		assert_true(named);
	}
	/* the recorded game is the replay, byte for byte */
	struct bytes out;
	bytes_init(&out, 0);
	assert_int_equal(slp_read_whole_file(c.path, (size_t)64 << 20, &out, err, sizeof(err)), 0);
	struct slp_container ct;
	assert_int_equal(slp_container_parse(out.data, out.len, &ct, err, sizeof(err)), 0);
	assert_false(ct.in_progress);
	assert_int_equal(ct.events_size, f.events_size);
	assert_memory_equal(out.data + ct.events_offset, f.events, f.events_size);
	bytes_free(&out);
#ifdef ANDROSS_TOOL
	char cmd[8400];
	snprintf(cmd, sizeof(cmd), "'%s' inspect '%s' > /dev/null", ANDROSS_TOOL, c.path);
	assert_int_equal(system(cmd), 0);
#endif
	enet_host_destroy(f.host);
	bytes_free(&f.file);
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
