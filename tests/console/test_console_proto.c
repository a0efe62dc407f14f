/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The console protocol codec, the console's server logic and discovery, against the vectors of protocols.md §1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "console_proto.h"
#include "console_server.h"
#include "discovery.h"
#include "slp_file.h"
#include "slp_reader.h"
#include "slp_splitter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIT(s) (const uint8_t *)(s), sizeof(s) - 1

static void test_handshake_is_the_exact_83_bytes(void **state)
{
	(void)state;
	static const uint8_t want[83] = {
		0x00, 0x00, 0x00, 0x4F, 0x7B, 0x69, 0x04, 't',  'y',  'p',  'e',  0x69, 0x01, 0x69, 0x07, 'p',  'a',
		'y',  'l',  'o',  'a',  'd',  0x7B, 0x69, 0x06, 'c',  'u',  'r',  's',  'o',  'r',  0x5B, 0x24, 0x55,
		0x23, 0x69, 0x08, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x69, 0x0B, 'c',  'l',  'i',  'e',
		'n',  't',  'T',  'o',  'k',  'e',  'n',  0x5B, 0x24, 0x55, 0x23, 0x69, 0x04, 0xAA, 0xBB, 0xCC, 0xDD,
		0x69, 0x0A, 'i',  's',  'R',  'e',  'a',  'l',  't',  'i',  'm',  'e',  0x54, 0x7D, 0x7D,
	};
	uint8_t hs[83];
	console_handshake_encode(hs, 0x0102030405060708ull, 0xAABBCCDDu, true);
	assert_memory_equal(hs, want, 83);
	console_handshake_encode(hs, 0, 0, false);
	assert_int_equal(hs[80], 'F');

	/* the console's fixed offsets: body[8] type, body[33..40] cursor, body[60..63] token, body[76] realtime */
	console_handshake_encode(hs, 0x0102030405060708ull, 0xAABBCCDDu, true);
	struct console_hello h;
	char err[128];
	assert_int_equal(console_hello_decode(hs + 4, 79, &h, err, sizeof(err)), 0);
	assert_int_equal(h.type, 1);
	assert_true(h.cursor == 0x0102030405060708ull);
	assert_int_equal(h.token, 0xAABBCCDDu);
	assert_true(h.realtime);
	/* and it is a valid UBJSON message too */
	struct console_msg m;
	assert_int_equal(console_msg_decode(hs + 4, 79, &m, err, sizeof(err)), -1); /* no clientToken/pos payload */
}

static void test_hello_rejects_what_nintendont_rejects(void **state)
{
	(void)state;
	uint8_t hs[83];
	struct console_hello h;
	char err[128];
	console_handshake_encode(hs, 0, 0, true);
	hs[12] = 2;
	assert_int_equal(console_hello_decode(hs + 4, 79, &h, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a handshake"));
	assert_int_equal(console_hello_decode(hs + 4, 8, &h, err, sizeof(err)), -1);
	uint8_t big[1100] = {0};
	assert_int_equal(console_hello_decode(big, sizeof(big), &h, err, sizeof(err)), -1);
}

static void test_keepalive_is_the_exact_14_bytes(void **state)
{
	(void)state;
	static const uint8_t want[14] = {0x00, 0x00, 0x00, 0x0A, 0x7B, 0x69, 0x04,
					 0x74, 0x79, 0x70, 0x65, 0x55, 0x03, 0x7D};
	struct bytes b;
	bytes_init(&b, 0);
	assert_true(console_keepalive_encode(&b));
	assert_int_equal(b.len, 14);
	assert_memory_equal(b.data, want, 14);
	struct console_msg m;
	char err[128];
	assert_int_equal(console_msg_decode(b.data + 4, 10, &m, err, sizeof(err)), 0);
	assert_int_equal(m.type, CONSOLE_MSG_KEEP_ALIVE);
	bytes_free(&b);
}

static void test_reply_matches_the_protocol_example(void **state)
{
	(void)state;
	struct bytes want;
	bytes_init(&want, 0);
	bytes_append(&want, LIT("\x7b\x69\x04type\x55\x01\x69\x07payload\x7b\x69\x04nick\x53\x69\x03Wii"));
	bytes_append(&want, LIT("\x69\x11nintendontVersion\x53\x69\x05"
				"1.9.0"));
	bytes_append(&want, LIT("\x69\x0b"
				"clientToken\x5b\x24\x55\x23\x69\x04\xde\xad\xbe\xef"));
	bytes_append(&want, LIT("\x69\x03pos\x5b\x24\x55\x23\x69\x08\x00\x00\x00\x00\x00\x01\x02\x03\x7d\x7d"));
	assert_int_equal(want.len, 102); /* 94 + len("Wii") + len("1.9.0") */
	struct bytes b;
	bytes_init(&b, 0);
	assert_true(console_reply_encode(&b, "Wii", "1.9.0", 0xDEADBEEFu, 0x10203));
	assert_int_equal(b.len, 4 + 102);
	assert_int_equal(rd_u32be(b.data), 102);
	assert_memory_equal(b.data + 4, want.data, 102);
	assert_int_equal(console_detect_mode(b.data, b.len), CONSOLE_MODE_NORMAL);

	struct console_msg m;
	char err[128];
	assert_int_equal(console_msg_decode(b.data + 4, 102, &m, err, sizeof(err)), 0);
	assert_int_equal(m.type, CONSOLE_MSG_HANDSHAKE);
	assert_int_equal(m.nick_len, 3);
	assert_memory_equal(m.nick, "Wii", 3);
	assert_int_equal(m.version_len, 5);
	assert_int_equal(m.token, 0xDEADBEEFu);
	assert_true(m.pos == 0x10203);
	bytes_free(&b);
	bytes_free(&want);
}

static void test_replay_matches_the_protocol_example(void **state)
{
	(void)state;
	struct bytes b;
	bytes_init(&b, 0);
	const uint8_t data[3] = {0x39, 0x02, 0x00};
	assert_true(console_replay_encode(&b, 1000, false, data, 3));
	static const uint8_t head[] = {0x7b, 0x69, 0x04, 't',  'y', 'p',  'e',  0x55, 0x02, 0x69, 0x07, 'p',  'a',
				       'y',  'l',  'o',  'a',  'd', 0x7b, 0x69, 0x03, 'p',  'o',  's',  0x5b, 0x24,
				       0x55, 0x23, 0x69, 0x08, 0,   0,    0,    0,    0,    0,    0x03, 0xe8};
	assert_int_equal(b.len, 4 + 86 + 3);
	assert_memory_equal(b.data + 4, head, sizeof(head));
	static const uint8_t tail[] = {0x69, 0x08, 'f',  'o',  'r',  'c',  'e',  'P',  'o',  's',
				       0x46, 0x69, 0x04, 'd',  'a',  't',  'a',  0x5b, 0x24, 0x55,
				       0x23, 0x69, 0x03, 0x39, 0x02, 0x00, 0x7d, 0x7d};
	assert_memory_equal(b.data + b.len - sizeof(tail), tail, sizeof(tail));
	struct console_msg m;
	char err[128];
	assert_int_equal(console_msg_decode(b.data + 4, b.len - 4, &m, err, sizeof(err)), 0);
	assert_int_equal(m.type, CONSOLE_MSG_REPLAY);
	assert_true(m.pos == 1000 && m.next_pos == 1003 && !m.force_pos);
	assert_int_equal(m.data_len, 3);
	assert_memory_equal(m.data, data, 3);

	/* sizes: 86 + N below 256, 87 + N up to 25000 */
	static uint8_t big[25000];
	size_t sizes[] = {255, 256, 25000};
	for (size_t i = 0; i < 3; i++) {
		bytes_clear(&b);
		assert_true(console_replay_encode(&b, 0, true, big, sizes[i]));
		assert_int_equal(b.len - 4, (sizes[i] < 256 ? 86 : 87) + sizes[i]);
		assert_int_equal(console_msg_decode(b.data + 4, b.len - 4, &m, err, sizeof(err)), 0);
		assert_true(m.force_pos);
		assert_int_equal(m.data_len, sizes[i]);
	}
	bytes_free(&b);
}

struct frames {
	size_t n;
	size_t total;
	uint64_t types[8];
};

static int count_frame(void *ud, const uint8_t *body, size_t len)
{
	struct frames *f = ud;
	struct console_msg m;
	char err[128];
	assert_int_equal(console_msg_decode(body, len, &m, err, sizeof(err)), 0);
	f->n++;
	f->total += len;
	f->types[m.type & 7]++;
	return 0;
}

static void test_framer_takes_one_byte_chunks(void **state)
{
	(void)state;
	struct bytes s;
	bytes_init(&s, 0);
	console_reply_encode(&s, "nick", "1.9.0", 7, 0);
	static uint8_t data[3000];
	for (int i = 0; i < 5; i++) {
		console_replay_encode(&s, (uint64_t)i * 3000, false, data, sizeof(data));
		console_keepalive_encode(&s);
	}
	struct console_framer f;
	console_framer_init(&f, 0);
	struct frames fr = {0};
	for (size_t i = 0; i < s.len; i++)
		assert_int_equal(console_framer_feed(&f, s.data + i, 1, count_frame, &fr), 0);
	assert_int_equal(fr.n, 11);
	assert_int_equal(fr.types[1], 1);
	assert_int_equal(fr.types[2], 5);
	assert_int_equal(fr.types[3], 5);
	assert_int_equal(console_framer_pending_bytes(&f), 0);
	/* and in one piece, and in random pieces */
	struct frames whole = {0};
	assert_int_equal(console_framer_feed(&f, s.data, s.len, count_frame, &whole), 0);
	assert_int_equal(whole.n, 11);
	uint64_t seed = 12345;
	struct frames rnd = {0};
	for (size_t i = 0; i < s.len;) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		size_t n = 1 + (size_t)((seed >> 33) % 5000);
		if (n > s.len - i)
			n = s.len - i;
		assert_int_equal(console_framer_feed(&f, s.data + i, n, count_frame, &rnd), 0);
		i += n;
	}
	assert_int_equal(rnd.n, 11);
	console_framer_free(&f);
	bytes_free(&s);
}

static void test_framer_rejects_huge_lengths_without_allocating(void **state)
{
	(void)state;
	struct console_framer f;
	console_framer_init(&f, 0);
	const uint8_t huge[4] = {0xFF, 0xFF, 0xFF, 0xFF};
	assert_int_equal(console_framer_feed(&f, huge, 4, NULL, NULL), -1);
	assert_true(f.failed);
	assert_non_null(strstr(f.error, "above the limit"));
	assert_true(f.buf.cap <= 4096);
	/* stays failed until reset, then works */
	assert_int_equal(console_framer_feed(&f, huge, 1, NULL, NULL), -1);
	console_framer_reset(&f);
	/* byte by byte: the error comes with the fourth byte */
	assert_int_equal(console_framer_feed(&f, huge, 1, NULL, NULL), 0);
	assert_int_equal(console_framer_feed(&f, huge + 1, 1, NULL, NULL), 0);
	assert_int_equal(console_framer_feed(&f, huge + 2, 1, NULL, NULL), 0);
	assert_int_equal(console_framer_feed(&f, huge + 3, 1, NULL, NULL), -1);
	assert_true(f.buf.cap <= 4096);
	console_framer_reset(&f);
	const uint8_t just_above[4] = {0x00, 0x10, 0x00, 0x01};
	assert_int_equal(console_framer_feed(&f, just_above, 4, NULL, NULL), -1);
	console_framer_free(&f);
}

static void expect_bad(const void *body, size_t len, const char *needle)
{
	struct console_msg m;
	char err[192] = "";
	assert_int_equal(console_msg_decode(body, len, &m, err, sizeof(err)), -1);
	if (needle && !strstr(err, needle)) {
		fprintf(stderr, "error '%s' lacks '%s'\n", err, needle);
		fail();
	}
}

static void test_bad_messages_are_errors(void **state)
{
	(void)state;
	expect_bad(LIT(""), NULL);
	expect_bad(LIT("\xff\xff"), NULL);
	expect_bad(LIT("[]"), "not a UBJSON object");
	expect_bad(LIT("{}"), "no type");
	expect_bad(LIT("{\x69\x04typeSi\x01x}"), "type is not an integer");
	expect_bad(LIT("{\x69\x04type\x55\x01}"), "handshake reply without");
	expect_bad(LIT("{\x69\x04type\x55\x02}"), "REPLAY message without pos");
	expect_bad(LIT("{\x69\x04type\x55\x03"), NULL); /* truncated */
	expect_bad(LIT("{\x69\x04type\x55\x03}}"), "after the message");
	struct bytes b;
	bytes_init(&b, 0);
	uint8_t data[10] = {0};
	console_replay_encode(&b, 5, false, data, 10);
	/* a 7-byte pos */
	struct bytes c;
	bytes_init(&c, 0);
	bytes_append(&c, LIT("{\x69\x04type\x55\x02\x69\x07payload{\x69\x03pos[$U#\x69\x07"));
	bytes_append(&c, LIT("\0\0\0\0\0\0\0}}"));
	expect_bad(c.data, c.len, "pos is not a 8-byte array");
	/* nextPos - pos differs from the data */
	b.data[4 + 9 + 9 + 14 + 14] ^= 1; /* inside nextPos */
	expect_bad(b.data + 4, b.len - 4, NULL);
	/* every truncation of a valid REPLAY is an error */
	bytes_clear(&b);
	console_replay_encode(&b, 5, true, data, 10);
	for (size_t n = 0; n < b.len - 4; n++)
		expect_bad(b.data + 4, n, NULL);
	/* forcePos not a boolean */
	bytes_clear(&c);
	bytes_append(&c, LIT("{\x69\x04type\x55\x02\x69\x07payload{\x69\x08"
			     "forcePos\x55\x01}}"));
	expect_bad(c.data, c.len, "forcePos is not a boolean");
	/* unknown types decode with no fields */
	struct console_msg m;
	char err[128];
	assert_int_equal(console_msg_decode(LIT("{\x69\x04type\x55\x09}"), &m, err, sizeof(err)), 0);
	assert_int_equal(m.type, 9);
	bytes_free(&b);
	bytes_free(&c);
}

static void test_mode_detection_like_slippi_js(void **state)
{
	(void)state;
	struct bytes b;
	bytes_init(&b, 0);
	console_reply_encode(&b, "Wii", "1.9.0", 1, 0);
	for (size_t n = 0; n < 13; n++)
		assert_int_equal(console_detect_mode(b.data, n), CONSOLE_MODE_UNKNOWN);
	assert_int_equal(console_detect_mode(b.data, 13), CONSOLE_MODE_NORMAL);
	assert_int_equal(console_detect_mode((const uint8_t *)"HELO\0", 5), CONSOLE_MODE_RAW);
	assert_int_equal(console_detect_mode((const uint8_t *)"\x35\x0e", 2), CONSOLE_MODE_RAW);
	/* type as `i 01` is not a reply for slippi-js */
	b.data[11] = 'i';
	assert_int_equal(console_detect_mode(b.data, 13), CONSOLE_MODE_RAW);
	bytes_free(&b);
}

/* --- console_server --- */

static bool read_replay_events(const char *name, struct bytes *file, const uint8_t **ev, size_t *len)
{
	char path[1024], err[256];
	snprintf(path, sizeof(path), "%s/%s", ANDROSS_REPLAY_DIR, name);
	bytes_init(file, 0);
	if (slp_read_whole_file(path, (size_t)1 << 30, file, err, sizeof(err)) < 0)
		return false;
	struct slp_container c;
	if (slp_container_parse(file->data, file->len, &c, err, sizeof(err)) < 0)
		return false;
	*ev = file->data + c.events_offset;
	*len = c.events_size;
	return true;
}

struct msg_check {
	struct slp_splitter sp;
	size_t events_in_msg;
	uint8_t first, last;
	bool bad;
};

static int check_event(void *ud, const struct slp_event *ev)
{
	struct msg_check *mc = ud;
	if (ev->reassembled)
		return 0;
	if (ev->code == SLP_CMD_EVENT_PAYLOADS && mc->events_in_msg)
		mc->bad = true; /* 0x35 not at the start of a message */
	if (mc->last == SLP_CMD_GAME_END && mc->events_in_msg)
		mc->bad = true; /* something after 0x39 in one message */
	if (!mc->events_in_msg)
		mc->first = ev->code;
	mc->last = ev->code;
	mc->events_in_msg++;
	return 0;
}

/* Drains a session into out (event bytes) and checks every message's rules. Returns the message count. */
static size_t drain(struct console_server *s, struct console_session *se, struct bytes *out, bool *saw_force)
{
	struct bytes tx;
	bytes_init(&tx, 0);
	struct msg_check mc;
	memset(&mc, 0, sizeof(mc));
	slp_splitter_init(&mc.sp);
	size_t n = 0;
	for (;;) {
		bytes_clear(&tx);
		enum console_next r = console_server_next(s, se, &tx);
		if (r == CONSOLE_NEXT_OVERFLOW) {
			if (saw_force)
				*saw_force = true;
			continue;
		}
		if (r != CONSOLE_NEXT_REPLAY)
			break;
		struct console_msg m;
		char err[128];
		assert_int_equal(console_msg_decode(tx.data + 4, tx.len - 4, &m, err, sizeof(err)), 0);
		assert_true(m.data_len <= CONSOLE_REPLAY_MAX_DATA_BYTES);
		if (m.force_pos) {
			slp_splitter_restart_at_boundary(&mc.sp);
			if (saw_force)
				*saw_force = true;
		}
		mc.events_in_msg = 0;
		mc.last = 0;
		assert_int_equal(slp_splitter_feed(&mc.sp, m.data, m.data_len, check_event, &mc), 0);
		assert_int_equal(slp_splitter_pending_bytes(&mc.sp), 0); /* whole events */
		assert_false(mc.bad);
		bytes_append(out, m.data, m.data_len);
		n++;
	}
	slp_splitter_free(&mc.sp);
	bytes_free(&tx);
	return n;
}

static void test_server_messages_are_whole_events_with_game_boundaries(void **state)
{
	(void)state;
	struct bytes f1, f2;
	const uint8_t *e1, *e2;
	size_t l1, l2;
	assert_true(read_replay_events("200306_2258_Falco_v_Fox_PS.slp", &f1, &e1, &l1));
	assert_true(read_replay_events("geckoCodes.slp", &f2, &e2, &l2));
	struct console_server s;
	assert_int_equal(console_server_init(&s, 16u * 1024u * 1024u, 1), 0);
	struct console_hello h = {.type = 1};
	struct console_session se;
	console_server_handshake(&s, &h, &se);
	assert_int_not_equal(se.token, 0);
	assert_true(se.cursor == 0);
	struct bytes got;
	bytes_init(&got, 0);
	/* appended in odd chunks: only whole events are served */
	for (size_t i = 0; i < l1; i += 777)
		assert_int_equal(console_log_append(console_server_log(&s), e1 + i, i + 777 < l1 ? 777 : l1 - i), 0);
	assert_false(console_log_in_game(console_server_log(&s)));
	assert_int_equal(console_log_append(console_server_log(&s), e2, l2), 0);
	size_t msgs = drain(&s, &se, &got, NULL);
	assert_true(msgs > 10);
	assert_int_equal(got.len, l1 + l2);
	assert_memory_equal(got.data, e1, l1);
	assert_memory_equal(got.data + l1, e2, l2);
	assert_true(console_log_game_start(console_server_log(&s)) == l1);
	console_server_free(&s);
	bytes_free(&got);
	bytes_free(&f1);
	bytes_free(&f2);
}

static void test_server_token_and_start_cursor_rules(void **state)
{
	(void)state;
	struct bytes f1;
	const uint8_t *e1;
	size_t l1;
	assert_true(read_replay_events("200306_2258_Falco_v_Fox_PS.slp", &f1, &e1, &l1));
	struct console_server s;
	assert_int_equal(console_server_init(&s, 0, 7), 0);
	/* not in game, nothing yet: a fresh client starts at the write cursor */
	struct console_hello fresh = {.type = 1};
	struct console_session a, b;
	console_server_handshake(&s, &fresh, &a);
	assert_true(a.cursor == 0 && !a.returning);
	/* mid-game: a fresh client gets the whole game from its 0x35 */
	size_t half = 200000;
	struct slp_splitter sp;
	slp_splitter_init(&sp);
	/* find an event boundary near half */
	struct bytes tmp;
	bytes_init(&tmp, 0);
	assert_int_equal(console_log_append(console_server_log(&s), e1, 1), 0); /* a partial 0x35 */
	assert_true(console_log_end(console_server_log(&s)) == 0);
	assert_int_equal(console_log_append(console_server_log(&s), e1 + 1, half - 1), 0);
	assert_true(console_log_in_game(console_server_log(&s)));
	uint64_t w = console_log_end(console_server_log(&s));
	assert_true(w <= half && w > half - 1000);
	console_server_handshake(&s, &fresh, &b);
	assert_true(b.cursor == 0 && b.token != 0 && b.token != a.token);
	/* read some, drop: the same token resumes where it was */
	bytes_clear(&tmp);
	assert_int_equal(console_server_next(&s, &b, &tmp), CONSOLE_NEXT_REPLAY);
	uint64_t at = b.cursor;
	console_server_drop(&s, &b);
	struct console_hello back = {.type = 1, .cursor = at, .token = b.token};
	struct console_session c;
	console_server_handshake(&s, &back, &c);
	assert_true(c.returning && c.token == b.token && c.cursor == at);
	/* a cursor outside [base, write] falls back to base */
	back.cursor = w + 5;
	console_server_handshake(&s, &back, &c);
	assert_true(c.cursor == 0);
	/* a stranger token is fresh: new token, game start */
	struct console_hello stranger = {.type = 1, .cursor = at, .token = 0x1234};
	console_server_handshake(&s, &stranger, &c);
	assert_true(!c.returning && c.token != 0x1234 && c.cursor == 0);
	/* after the game: returning within the last game finishes its tail; fresh gets only future data */
	assert_int_equal(console_log_append(console_server_log(&s), e1 + half, l1 - half), 0);
	assert_false(console_log_in_game(console_server_log(&s)));
	back.cursor = at;
	console_server_handshake(&s, &back, &c);
	assert_true(c.returning && c.cursor == at);
	back.cursor = l1 + 100;
	console_server_handshake(&s, &back, &c);
	assert_true(c.cursor == l1);
	console_server_handshake(&s, &fresh, &c);
	assert_true(c.cursor == l1);
	/* the reply carries the token and the chosen cursor, `U`-typed */
	bytes_clear(&tmp);
	assert_true(console_server_reply(&s, &c, "Wii", "1.9.0", &tmp));
	assert_int_equal(console_detect_mode(tmp.data, tmp.len), CONSOLE_MODE_NORMAL);
	slp_splitter_free(&sp);
	bytes_free(&tmp);
	console_server_free(&s);
	bytes_free(&f1);
}

static void test_server_overflow_jumps_with_force_pos(void **state)
{
	(void)state;
	struct bytes f1;
	const uint8_t *e1;
	size_t l1;
	assert_true(read_replay_events("ics2.slp", &f1, &e1, &l1));
	struct console_server s;
	assert_int_equal(console_server_init(&s, 0, 3), 0);
	struct console_hello fresh = {.type = 1};
	struct console_session se;
	console_server_handshake(&s, &fresh, &se);
	struct bytes tx;
	bytes_init(&tx, 0);
	assert_int_equal(console_log_append(console_server_log(&s), e1, 100000), 0);
	assert_int_equal(console_server_next(&s, &se, &tx), CONSOLE_NEXT_REPLAY);
	uint64_t before = se.cursor;
	/* more than the 3 MiB history goes by */
	assert_true(l1 > CONSOLE_HISTORY_BYTES + 100000);
	assert_int_equal(console_log_append(console_server_log(&s), e1 + 100000, l1 - 100000), 0);
	assert_false(console_log_readable(console_server_log(&s), before));
	assert_int_equal(console_server_next(&s, &se, &tx), CONSOLE_NEXT_OVERFLOW);
	assert_true(se.cursor == console_log_end(console_server_log(&s)) && se.force_next);
	/* the next REPLAY (once there is data) carries forcePos and the new pos */
	assert_int_equal(console_server_next(&s, &se, &tx), CONSOLE_NEXT_NONE);
	const uint8_t *e2;
	size_t l2;
	struct bytes f2;
	assert_true(read_replay_events("geckoCodes.slp", &f2, &e2, &l2));
	assert_int_equal(console_log_append(console_server_log(&s), e2, l2), 0);
	bytes_clear(&tx);
	assert_int_equal(console_server_next(&s, &se, &tx), CONSOLE_NEXT_REPLAY);
	struct console_msg m;
	char err[128];
	assert_int_equal(console_msg_decode(tx.data + 4, tx.len - 4, &m, err, sizeof(err)), 0);
	assert_true(m.force_pos && m.pos == l1);
	assert_int_equal(m.data[0], SLP_CMD_EVENT_PAYLOADS);
	bytes_clear(&tx);
	assert_int_equal(console_server_next(&s, &se, &tx), CONSOLE_NEXT_REPLAY);
	assert_int_equal(console_msg_decode(tx.data + 4, tx.len - 4, &m, err, sizeof(err)), 0);
	assert_false(m.force_pos);
	/* a misaligned cursor is never served */
	assert_false(console_log_readable(console_server_log(&s), l1 + 1));
	console_server_free(&s);
	bytes_free(&tx);
	bytes_free(&f1);
	bytes_free(&f2);
}

static void test_server_log_rejects_bad_streams(void **state)
{
	(void)state;
	struct console_log log;
	assert_int_equal(console_log_init(&log, 0), 0);
	assert_int_equal(console_log_append(&log, (const uint8_t *)"\x36\x00", 2), -1);
	assert_non_null(strstr(console_log_error(&log), "before any Event Payloads"));
	console_log_free(&log);
	assert_int_equal(console_log_init(&log, 0), 0);
	/* Event Payloads declaring 0x36 with 2 bytes, then an undeclared 0x40 */
	assert_int_equal(console_log_append(&log, (const uint8_t *)"\x35\x04\x36\x00\x02", 5), 0);
	assert_int_equal(console_log_append(&log, (const uint8_t *)"HELO\0\x36\x01\x02", 8), 0);
	assert_true(console_log_end(&log) == 8);
	assert_int_equal(console_log_append(&log, (const uint8_t *)"\x40", 1), -1);
	assert_non_null(strstr(console_log_error(&log), "undeclared command 0x40"));
	console_log_free(&log);
	assert_int_equal(console_log_init(&log, 0), 0);
	assert_int_equal(console_log_append(&log, (const uint8_t *)"\x35\x05\x36\x00\x02\x00", 6), -1);
	console_log_free(&log);
}

/* --- discovery --- */

static void test_discovery_datagram_and_expiry(void **state)
{
	(void)state;
	const uint8_t mac[6] = {0x00, 0x17, 0xAB, 1, 2, 3};
	uint8_t d[48];
	discovery_encode(d, mac, "Wii Upstairs");
	assert_memory_equal(d, "SLIP_READY", 10);
	assert_memory_equal(d + 10, mac, 6);
	assert_string_equal((const char *)d + 16, "Wii Upstairs");
	assert_int_equal(d[47], 0);
	struct discovery_announce a;
	assert_int_equal(discovery_parse(d, 48, &a), 0);
	assert_string_equal(a.nick, "Wii Upstairs");
	assert_memory_equal(a.mac, mac, 6);
	assert_int_equal(discovery_parse(d, 47, &a), -1);
	d[0] = 'X';
	assert_int_equal(discovery_parse(d, 48, &a), -1);
	/* a 32-byte nickname has no NUL */
	discovery_encode(d, mac, "0123456789abcdef0123456789abcdefTOO-LONG");
	assert_int_equal(discovery_parse(d, 48, &a), 0);
	assert_string_equal(a.nick, "0123456789abcdef0123456789abcdef");

	struct discovery_list l;
	discovery_list_init(&l);
	discovery_encode(d, mac, "A");
	assert_int_equal(discovery_list_feed(&l, "192.168.1.5", d, 48, 1000), 1);
	assert_int_equal(discovery_list_feed(&l, "192.168.1.5", d, 48, 2000), 0);
	assert_int_equal(discovery_list_feed(&l, "0.0.0.0", d, 48, 2000), -1);
	assert_int_equal(discovery_list_feed(&l, "192.168.1.6", d, 40, 2000), -1);
	assert_int_equal(discovery_list_feed(&l, "192.168.1.7", d, 48, 10000), 1);
	assert_int_equal(l.n, 2);
	assert_int_equal(discovery_list_expire(&l, 2000 + 34999), 0);
	assert_int_equal(discovery_list_expire(&l, 2000 + 35000), 1);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.consoles[0].ip, "192.168.1.7");
	assert_int_equal(discovery_list_expire(&l, 10000 + 35000), 1);
	assert_int_equal(l.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_is_the_exact_83_bytes),
		cmocka_unit_test(test_hello_rejects_what_nintendont_rejects),
		cmocka_unit_test(test_keepalive_is_the_exact_14_bytes),
		cmocka_unit_test(test_reply_matches_the_protocol_example),
		cmocka_unit_test(test_replay_matches_the_protocol_example),
		cmocka_unit_test(test_framer_takes_one_byte_chunks),
		cmocka_unit_test(test_framer_rejects_huge_lengths_without_allocating),
		cmocka_unit_test(test_bad_messages_are_errors),
		cmocka_unit_test(test_mode_detection_like_slippi_js),
		cmocka_unit_test(test_server_messages_are_whole_events_with_game_boundaries),
		cmocka_unit_test(test_server_token_and_start_cursor_rules),
		cmocka_unit_test(test_server_overflow_jumps_with_force_pos),
		cmocka_unit_test(test_server_log_rejects_bad_streams),
		cmocka_unit_test(test_discovery_datagram_and_expiry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
