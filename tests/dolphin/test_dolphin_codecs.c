/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The sans-I/O pieces of the Dolphin source: json_reader, base64, dolphin_proto. */
#include "base64.h"
#include "dolphin_proto.h"
#include "json_reader.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static int parse(struct json_doc *doc, const char *text, const struct json_limits *lim)
{
	return json_parse(doc, text, strlen(text), lim);
}

static void test_json_reader_reads_values(void **state)
{
	(void)state;
	struct json_doc doc;
	const char *text = " {\"a\": [1, -2, 3.5, 1e3, true, false, null], \"s\": \"x\\u00e9\\ud83d\\ude00\\n\\/\", "
			   "\"big\": 9223372036854775807, \"min\": -9223372036854775808, \"over\": 9223372036854775808,"
			   " \"e\": {}, \"z\": [] } ";
	assert_int_equal(parse(&doc, text, NULL), 0);
	const struct json_node *root = json_root(&doc);
	assert_int_equal(root->type, JSON_OBJECT);
	assert_int_equal(root->count, 7);
	const struct json_node *a = json_get(&doc, root, "a");
	assert_non_null(a);
	assert_int_equal(a->count, 7);
	const struct json_node *n = json_first(&doc, a);
	assert_int_equal(n->type, JSON_INT);
	assert_int_equal(n->i, 1);
	n = json_next(&doc, n);
	assert_int_equal(n->i, -2);
	n = json_next(&doc, n);
	assert_int_equal(n->type, JSON_DOUBLE);
	assert_true(n->d == 3.5);
	n = json_next(&doc, n);
	assert_int_equal(n->type, JSON_DOUBLE);
	assert_true(n->d == 1000.0);
	n = json_next(&doc, n);
	assert_true(n->type == JSON_BOOL && n->b);
	n = json_next(&doc, n);
	assert_true(n->type == JSON_BOOL && !n->b);
	n = json_next(&doc, n);
	assert_int_equal(n->type, JSON_NULL);
	assert_null(json_next(&doc, n));
	const struct json_node *s = json_get(&doc, root, "s");
	assert_int_equal(s->type, JSON_STRING);
	assert_int_equal(s->str_len, 1 + 2 + 4 + 1 + 1);
	assert_memory_equal(s->str, "x\xc3\xa9\xf0\x9f\x98\x80\n/", s->str_len);
	assert_int_equal(json_get(&doc, root, "big")->i, INT64_MAX);
	assert_int_equal(json_get(&doc, root, "min")->i, INT64_MIN);
	assert_int_equal(json_get(&doc, root, "over")->type, JSON_DOUBLE);
	assert_int_equal(json_get(&doc, root, "e")->count, 0);
	assert_null(json_first(&doc, json_get(&doc, root, "z")));
	assert_null(json_get(&doc, root, "missing"));
	json_doc_free(&doc);
}

static void test_json_reader_rejects_invalid(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"",
		"   ",
		"{",
		"{\"a\" 1}",
		"{\"a\":1,}",
		"[1,]",
		"[1 2]",
		"{a:1}",
		"'x'",
		"01",
		"-",
		"1.",
		".5",
		"1e",
		"+1",
		"tru",
		"nul",
		"\"abc",
		"\"a\\x\"",
		"\"\\u12G4\"",
		"\"\\ud800\"",
		"\"\\udc00\"",
		"\"\\ud800\\u0041\"",
		"\"tab\there\"",
		"\"\xc3\"",
		"\"\xc0\xaf\"",         /* overlong */
		"\"\xed\xa0\x80\"",     /* a surrogate in UTF-8 */
		"\"\xf4\x90\x80\x80\"", /* above U+10FFFF */
		"\"\xff\"",
		"{} {}",
		"[] x",
		"nan",
		"1234567890123456789012345678901234567890123456789012345678901234567890",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct json_doc doc;
		int rc = parse(&doc, bad[i], NULL);
		if (rc == 0)
			fprintf(stderr, "accepted: %s\n", bad[i]);
		assert_int_equal(rc, -1);
		assert_true(doc.error[0] != 0);
		assert_true(doc.error_offset <= strlen(bad[i]));
		json_doc_free(&doc);
	}
	/* an error names where */
	struct json_doc doc;
	assert_int_equal(parse(&doc, "[1, 2, x]", NULL), -1);
	assert_int_equal(doc.error_offset, 7);
	assert_non_null(strstr(doc.error, "at byte 7"));
	json_doc_free(&doc);
	/* NUL inside the input is not whitespace */
	assert_int_equal(json_parse(&doc, "1\0", 2, NULL), -1);
	json_doc_free(&doc);
}

static void test_json_reader_limits(void **state)
{
	(void)state;
	struct json_limits lim = {.max_input_bytes = 64, .max_nodes = 4, .max_depth = 3, .max_string_bytes = 5};
	struct json_doc doc;
	assert_int_equal(parse(&doc, "[[1]]", &lim), 0);
	json_doc_free(&doc);
	assert_int_equal(parse(&doc, "[[[1]]]", &lim), -1);
	assert_non_null(strstr(doc.error, "deeper"));
	json_doc_free(&doc);
	assert_int_equal(parse(&doc, "[1,2,3]", &lim), 0);
	json_doc_free(&doc);
	assert_int_equal(parse(&doc, "[1,2,3,4]", &lim), -1);
	assert_non_null(strstr(doc.error, "values"));
	json_doc_free(&doc);
	assert_int_equal(parse(&doc, "\"12345\"", &lim), 0);
	json_doc_free(&doc);
	assert_int_equal(parse(&doc, "\"123456\"", &lim), -1);
	json_doc_free(&doc);
	char big[100];
	memset(big, ' ', sizeof(big));
	big[0] = '1';
	assert_int_equal(json_parse(&doc, big, sizeof(big), &lim), -1);
	assert_non_null(strstr(doc.error, "larger"));
	json_doc_free(&doc);
	/* deep nesting with the defaults fails cleanly (no stack overflow) */
	size_t depth = 100000;
	char *deep = malloc(depth * 2);
	memset(deep, '[', depth);
	memset(deep + depth, ']', depth);
	assert_int_equal(json_parse(&doc, deep, depth * 2, NULL), -1);
	json_doc_free(&doc);
	free(deep);
}

static void test_base64_vectors(void **state)
{
	(void)state;
	/* RFC 4648 §10 */
	static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *const coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	for (size_t i = 0; i < 7; i++) {
		char out[16];
		size_t n = base64_encode((const uint8_t *)plain[i], strlen(plain[i]), out);
		assert_int_equal(n, strlen(coded[i]));
		assert_int_equal(n, base64_encoded_size(strlen(plain[i])));
		assert_memory_equal(out, coded[i], n);
		uint8_t dec[16];
		size_t bad = 99;
		ptrdiff_t got = base64_decode(coded[i], strlen(coded[i]), dec, sizeof(dec), &bad);
		assert_int_equal(got, (ptrdiff_t)strlen(plain[i]));
		assert_memory_equal(dec, plain[i], (size_t)got);
	}
	/* every byte value, through bytes */
	uint8_t all[256];
	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	struct bytes b;
	bytes_init(&b, 0);
	assert_true(base64_append(&b, all, sizeof(all)));
	uint8_t back[256];
	size_t bad;
	assert_int_equal(base64_decode((const char *)b.data, b.len, back, sizeof(back), &bad), 256);
	assert_memory_equal(back, all, 256);
	/* a full cap leaves the buffer unchanged */
	struct bytes small;
	bytes_init(&small, 8);
	assert_false(base64_append(&small, all, 9));
	assert_int_equal(small.len, 0);
	bytes_free(&small);
	bytes_free(&b);
}

static void test_base64_rejects_invalid(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		size_t offset;
	} bad[] = {
		{"Zg=", 3},                         /* length */
		{"Zg", 2},                          /* no padding */
		{"Z@==", 1},                        /* bad character */
		{"Zm9v\nZg==", 4},                  /* whitespace */
		{"Zh==", 1},                        /* unused bits set */
		{"Zm9=", 2},                        /* unused bits set */
		{"Z===", 1},                        /* too much padding */
		{"Zg==Zg==", 2},                    /* padding before the end */
		{"Zg=a", 3},                        /* data after padding */
		{"=AAA", 0},       {"Zm9v-_==", 4}, /* URL alphabet */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t out[16];
		size_t off = 999;
		ptrdiff_t got = base64_decode(bad[i].in, strlen(bad[i].in), out, sizeof(out), &off);
		if (got >= 0 || off != bad[i].offset)
			fprintf(stderr, "%s: got %td at %zu\n", bad[i].in, got, off);
		assert_int_equal(got, -1);
		assert_int_equal(off, bad[i].offset);
	}
	/* too small an output */
	uint8_t out[2];
	size_t off;
	assert_int_equal(base64_decode("Zm9v", 4, out, sizeof(out), &off), -1);
}

static void encode_expect(const struct dolphin_msg *m, const char *want)
{
	struct bytes b;
	bytes_init(&b, 0);
	assert_true(dolphin_msg_encode(m, &b));
	if (b.len != strlen(want) || memcmp(b.data, want, b.len))
		fprintf(stderr, "got  %.*s\nwant %s\n", (int)b.len, (const char *)b.data, want);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.data, want, b.len);
	/* and back */
	struct dolphin_msg d;
	struct bytes payload;
	bytes_init(&payload, 0);
	char err[256];
	assert_int_equal(dolphin_msg_decode(b.data, b.len, &d, &payload, err, sizeof(err)), 0);
	assert_int_equal(d.type, m->type);
	assert_int_equal(d.cursor, m->cursor);
	assert_int_equal(d.next_cursor, m->next_cursor);
	assert_int_equal(d.dolphin_closed, m->dolphin_closed);
	assert_string_equal(d.nick, m->nick);
	assert_string_equal(d.version, m->version);
	assert_int_equal(d.payload_len, m->payload_len);
	if (m->payload_len)
		assert_memory_equal(d.payload, m->payload, m->payload_len);
	bytes_free(&payload);
	bytes_free(&b);
}

static void test_dolphin_proto_exact_key_order(void **state)
{
	(void)state;
	/* byte for byte what nlohmann::json::dump() gives in Slippi Dolphin (keys sorted) */
	struct dolphin_msg m = {.type = DOLPHIN_MSG_CONNECT_REQUEST, .cursor = 0};
	encode_expect(&m, "{\"cursor\":0,\"type\":\"connect_request\"}");
	m = (struct dolphin_msg){.type = DOLPHIN_MSG_CONNECT_REPLY, .cursor = 4294967295u};
	strcpy(m.nick, "Slippi Online");
	strcpy(m.version, "3.4.0");
	encode_expect(
		&m,
		"{\"cursor\":4294967295,\"nick\":\"Slippi Online\",\"type\":\"connect_reply\",\"version\":\"3.4.0\"}");
	m = (struct dolphin_msg){.type = DOLPHIN_MSG_START_GAME, .cursor = 7, .next_cursor = 8};
	encode_expect(&m, "{\"cursor\":7,\"next_cursor\":8,\"type\":\"start_game\"}");
	static const uint8_t ev[] = {0x3C, 0xFF, 0xFF, 0xFF, 0x85};
	m = (struct dolphin_msg){.type = DOLPHIN_MSG_GAME_EVENT,
				 .cursor = 8,
				 .next_cursor = 9,
				 .payload = ev,
				 .payload_len = sizeof(ev)};
	encode_expect(&m, "{\"cursor\":8,\"next_cursor\":9,\"payload\":\"PP///4U=\",\"type\":\"game_event\"}");
	m = (struct dolphin_msg){.type = DOLPHIN_MSG_END_GAME, .cursor = 9, .next_cursor = 10};
	encode_expect(&m, "{\"cursor\":9,\"dolphin_closed\":false,\"next_cursor\":10,\"type\":\"end_game\"}");
	m.dolphin_closed = true;
	encode_expect(&m, "{\"cursor\":9,\"dolphin_closed\":true,\"next_cursor\":10,\"type\":\"end_game\"}");
	m = (struct dolphin_msg){.type = DOLPHIN_MSG_MENU_EVENT, .payload = ev, .payload_len = 2};
	encode_expect(&m, "{\"payload\":\"PP8=\",\"type\":\"menu_event\"}");
	m = (struct dolphin_msg){.type = DOLPHIN_MSG_UNKNOWN};
	struct bytes b;
	bytes_init(&b, 0);
	assert_false(dolphin_msg_encode(&m, &b));
	bytes_free(&b);
}

static int decode(const char *text, struct dolphin_msg *m, char *err)
{
	struct bytes payload;
	bytes_init(&payload, 0);
	int rc = dolphin_msg_decode((const uint8_t *)text, strlen(text), m, &payload, err, 256);
	bytes_free(&payload);
	return rc;
}

static void test_dolphin_proto_decode(void **state)
{
	(void)state;
	struct dolphin_msg m;
	char err[256];
	/* any key order, extra keys ignored */
	assert_int_equal(decode("{\"type\":\"connect_request\",\"cursor\":5,\"x\":[1]}", &m, err), 0);
	assert_int_equal(m.type, DOLPHIN_MSG_CONNECT_REQUEST);
	assert_int_equal(m.cursor, 5);
	/* the old bare close notice */
	assert_int_equal(decode("{\"dolphin_closed\":true}", &m, err), 0);
	assert_true(m.dolphin_closed);
	assert_int_equal(m.type, DOLPHIN_MSG_UNKNOWN);
	/* an unknown type is reported, not an error */
	assert_int_equal(decode("{\"type\":\"future_thing\"}", &m, err), 0);
	assert_int_equal(m.type, DOLPHIN_MSG_UNKNOWN);
	assert_string_equal(m.type_name, "future_thing");

	static const struct {
		const char *text;
		const char *why;
	} bad[] = {
		{"{\"type\":\"game_event\",", "invalid JSON"},
		{"[1]", "not an object"},
		{"{}", "without 'type'"},
		{"{\"type\":1}", "'type' is not a string"},
		{"{\"type\":\"start_game\",\"cursor\":1}", "without 'next_cursor'"},
		{"{\"type\":\"start_game\",\"cursor\":-1,\"next_cursor\":0}", "not an integer"},
		{"{\"type\":\"start_game\",\"cursor\":4294967296,\"next_cursor\":0}", "not an integer"},
		{"{\"type\":\"start_game\",\"cursor\":1.5,\"next_cursor\":2}", "not an integer"},
		{"{\"type\":\"game_event\",\"cursor\":1,\"next_cursor\":2}", "without 'payload'"},
		{"{\"type\":\"game_event\",\"cursor\":1,\"next_cursor\":2,\"payload\":5}", "not a string"},
		{"{\"type\":\"game_event\",\"cursor\":1,\"next_cursor\":2,\"payload\":\"Zg=\"}", "base64"},
		{"{\"type\":\"menu_event\",\"payload\":\"Z@==\"}", "at character 1"},
		{"{\"type\":\"connect_reply\",\"cursor\":1,\"nick\":7,\"version\":\"1\"}", "'nick'"},
		{"{\"type\":\"connect_reply\",\"cursor\":1,\"nick\":\"a\\u0000b\",\"version\":\"1\"}", "'nick'"},
		{"{\"type\":\"end_game\",\"cursor\":1,\"next_cursor\":2,\"dolphin_closed\":1}", "boolean"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		int rc = decode(bad[i].text, &m, err);
		if (rc == 0 || !strstr(err, bad[i].why))
			fprintf(stderr, "%s -> %d '%s' (want '%s')\n", bad[i].text, rc, err, bad[i].why);
		assert_int_equal(rc, -1);
		assert_non_null(strstr(err, bad[i].why));
	}
}

static void test_dolphin_proto_size_limits(void **state)
{
	(void)state;
	struct bytes msg, payload;
	bytes_init(&msg, 0);
	bytes_init(&payload, 0);
	/* the largest payload passes, one group more fails */
	size_t n = DOLPHIN_PAYLOAD_MAX_BYTES / 3 * 3;
	uint8_t *raw = calloc(1, n + 3);
	struct dolphin_msg m = {.type = DOLPHIN_MSG_GAME_EVENT,
				.cursor = 1,
				.next_cursor = 2,
				.payload = raw,
				.payload_len = n};
	assert_true(dolphin_msg_encode(&m, &msg));
	struct dolphin_msg d;
	char err[256];
	assert_int_equal(dolphin_msg_decode(msg.data, msg.len, &d, &payload, err, sizeof(err)), 0);
	assert_int_equal(d.payload_len, n);
	bytes_clear(&msg);
	m.payload_len = n + 3;
	assert_true(dolphin_msg_encode(&m, &msg));
	assert_int_equal(dolphin_msg_decode(msg.data, msg.len, &d, &payload, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "limit"));
	/* a message over the limit is refused before parsing */
	bytes_clear(&msg);
	assert_true(bytes_reserve(&msg, DOLPHIN_MESSAGE_MAX_BYTES + 1));
	memset(msg.data, ' ', DOLPHIN_MESSAGE_MAX_BYTES + 1);
	msg.len = DOLPHIN_MESSAGE_MAX_BYTES + 1;
	assert_int_equal(dolphin_msg_decode(msg.data, msg.len, &d, &payload, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "limit"));
	free(raw);
	bytes_free(&msg);
	bytes_free(&payload);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_reader_reads_values), cmocka_unit_test(test_json_reader_rejects_invalid),
		cmocka_unit_test(test_json_reader_limits),       cmocka_unit_test(test_base64_vectors),
		cmocka_unit_test(test_base64_rejects_invalid),   cmocka_unit_test(test_dolphin_proto_exact_key_order),
		cmocka_unit_test(test_dolphin_proto_decode),     cmocka_unit_test(test_dolphin_proto_size_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
