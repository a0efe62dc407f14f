/* SPDX-License-Identifier: GPL-2.0-or-later */
/* UBJSON reader and writer, on the real metadata footers of the replays and on hand-made edge cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_util.h"
#include "ubjson.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FOOTER_KEY_LEN 10 /* U 0x08 "metadata" */

/* Whether an error message names a byte offset no larger than `max_offset`. */
static bool names_offset(const char *err, size_t max_offset)
{
	const char *at = strstr(err, "byte ");
	if (!at)
		return false;
	char *end = NULL;
	unsigned long long off = strtoull(at + 5, &end, 10);
	return end != at + 5 && off <= max_offset;
}

static bool json_equal(const struct jm_value *a, const struct jm_value *b)
{
	if (!a || !b || a->type != b->type)
		return false;
	switch (a->type) {
	case JM_NULL:
		return true;
	case JM_BOOL:
		return a->b == b->b;
	case JM_NUMBER:
		return fabs(a->num - b->num) <= 1e-6 * fmax(1.0, fabs(a->num));
	case JM_STRING:
		return strcmp(a->str, b->str) == 0;
	case JM_ARRAY:
		if (a->count != b->count)
			return false;
		for (const struct jm_value *x = a->child, *y = b->child; x && y; x = x->next, y = y->next)
			if (!json_equal(x, y))
				return false;
		return true;
	case JM_OBJECT:
		if (a->count != b->count)
			return false;
		for (const struct jm_value *x = a->child; x; x = x->next)
			if (!json_equal(x, jm_get(b, x->key)))
				return false;
		return true;
	}
	return false;
}

/* Walks every value under the reader's current position until depth returns to `depth`; returns values seen. */
static long walk(struct ubj_reader *r, int depth)
{
	struct ubj_value v;
	long n = 0;
	int rc;
	while (r->depth > depth) {
		rc = ubj_next(r, &v);
		if (rc < 0)
			return -1;
		n += rc;
	}
	return n;
}

/* Where the file's top-level UBJSON object ends (a file may carry trailing bytes), or 0. */
static size_t file_end(const struct bytes *file)
{
	struct ubj_reader r;
	struct ubj_value v;
	ubj_reader_init(&r, file->data, file->len);
	if (ubj_next(&r, &v) != 1 || v.type != UBJ_OBJECT || walk(&r, 0) < 0)
		return 0;
	return r.pos;
}

static void test_ubjson_real_footers_read_and_convert(void **state)
{
	(void)state;
	const char *names[TU_MAX_REPLAYS];
	size_t n = tu_replay_names(names);
	int footers = 0;
	for (size_t i = 0; i < n; i++) {
		struct bytes file;
		assert_true(tu_read_replay(names[i], &file));
		const struct jm_value *exp = tu_expected_file(names[i]);
		const struct jm_value *meta_exp = jm_get(exp, "metadata");
		size_t at = tu_footer_offset(&file);
		TU_EXPECT((at != 0) == (meta_exp && !jm_is_null(meta_exp)), "%s: footer at %zu", names[i], at);
		if (!at) {
			bytes_free(&file);
			continue;
		}
		footers++;
		const uint8_t *val = file.data + at + FOOTER_KEY_LEN;
		size_t end = file_end(&file);
		TU_EXPECT(end > at && file.data[end - 1] == '}', "%s: the top-level object ends at %zu", names[i], end);
		size_t val_len = end - at - FOOTER_KEY_LEN - 1; /* without the file's closing brace */

		/* pull-parse the value: one object that ends exactly before the final brace */
		struct ubj_reader r;
		struct ubj_value v;
		ubj_reader_init(&r, val, val_len);
		TU_EXPECT(ubj_next(&r, &v) == 1 && v.type == UBJ_OBJECT, "%s: metadata is not an object", names[i]);
		long values = walk(&r, 0);
		TU_EXPECT(values > 0, "%s: walking the metadata failed: %s", names[i], r.error);
		TU_EXPECT(r.pos == val_len, "%s: metadata ends at %zu of %zu", names[i], r.pos, val_len);

		/* the whole file as one UBJSON object: raw as a blob of rawLength bytes, then metadata */
		ubj_reader_init(&r, file.data, file.len);
		TU_EXPECT(ubj_next(&r, &v) == 1 && v.type == UBJ_OBJECT, "%s: file is not an object", names[i]);
		TU_EXPECT(ubj_next(&r, &v) == 1 && ubj_key_is(&v, "raw") && v.type == UBJ_BLOB, "%s: no raw blob",
			  names[i]);
		int64_t raw_len = jm_get_int(jm_get(exp, "container"), "rawLength", -1);
		TU_EXPECT((int64_t)v.str_len == raw_len && v.str == file.data + 15, "%s: raw blob %zu bytes", names[i],
			  v.str_len);
		TU_EXPECT(ubj_next(&r, &v) == 1 && ubj_key_is(&v, "metadata") && v.type == UBJ_OBJECT,
			  "%s: no metadata", names[i]);
		TU_EXPECT(ubj_skip(&r) == 0, "%s: skip failed: %s", names[i], r.error);
		TU_EXPECT(ubj_next(&r, &v) == 0 && r.depth == 0 && r.pos == end, "%s: file does not end after metadata",
			  names[i]);
		/* v3.14.0.slp ends with a newline after the closing brace; nothing else may follow */
		for (size_t k = end; k < file.len; k++)
			TU_EXPECT(file.data[k] == '\n', "%s: byte %zu after the file's object", names[i], k);

		/* ubj_to_json gives valid JSON equal to what slippi-js decoded */
		struct bytes json;
		bytes_init(&json, 0);
		char err[160] = "";
		TU_EXPECT(ubj_to_json(val, val_len, &json, err, sizeof(err)) == 0, "%s: ubj_to_json: %s", names[i],
			  err);
		char jerr[128] = "";
		struct jm_value *got = jm_parse((const char *)json.data, json.len, jerr, sizeof(jerr));
		TU_EXPECT(got != NULL, "%s: ubj_to_json wrote invalid JSON (%s): %.*s", names[i], jerr, (int)json.len,
			  (const char *)json.data);
		TU_EXPECT(json_equal(got, meta_exp), "%s: metadata differs from expected.json: %.*s", names[i],
			  (int)json.len, (const char *)json.data);
		jm_free(got);
		bytes_free(&json);
		bytes_free(&file);
	}
	assert_true(footers >= 8);
	TU_EXPECT_NO_FAILURES();
}

/* Every cut of a real footer is an error naming a byte offset, never a crash or an over-read. */
static void test_ubjson_truncated_footer_fails_at_every_offset(void **state)
{
	(void)state;
	const char *names[TU_MAX_REPLAYS];
	size_t n = tu_replay_names(names);
	for (size_t i = 0; i < n; i++) {
		struct bytes file;
		assert_true(tu_read_replay(names[i], &file));
		size_t at = tu_footer_offset(&file);
		if (!at) {
			bytes_free(&file);
			continue;
		}
		size_t val_len = file_end(&file) - at - FOOTER_KEY_LEN - 1;
		for (size_t cut = 0; cut < val_len; cut++) {
			/* a heap copy of exactly `cut` bytes, so ASan sees any over-read */
			uint8_t *copy = malloc(cut ? cut : 1);
			assert_non_null(copy);
			memcpy(copy, file.data + at + FOOTER_KEY_LEN, cut);
			struct bytes json;
			bytes_init(&json, 0);
			char err[160] = "";
			int rc = ubj_to_json(copy, cut, &json, err, sizeof(err));
			TU_EXPECT(rc == -1, "%s: footer cut at %zu converted", names[i], cut);
			TU_EXPECT(names_offset(err, cut), "%s: footer cut at %zu: error \"%s\" names no offset <= %zu",
				  names[i], cut, err, cut);
			struct ubj_reader r;
			struct ubj_value v;
			ubj_reader_init(&r, copy, cut);
			rc = ubj_next(&r, &v);
			if (rc > 0 && (v.type == UBJ_OBJECT || v.type == UBJ_ARRAY))
				rc = walk(&r, 0) < 0 ? -1 : 0;
			TU_EXPECT(rc == -1, "%s: walking the footer cut at %zu succeeded", names[i], cut);
			TU_EXPECT(names_offset(r.error, cut), "%s: cut at %zu: \"%s\"", names[i], cut, r.error);
			bytes_free(&json);
			free(copy);
		}
		/* and the whole file cut inside its footer */
		for (size_t cut = at; cut < at + FOOTER_KEY_LEN + val_len + 1; cut += 1 + val_len / 97) {
			uint8_t *copy = malloc(cut);
			memcpy(copy, file.data, cut);
			struct ubj_reader r;
			struct ubj_value v;
			ubj_reader_init(&r, copy, cut);
			int rc = ubj_next(&r, &v) == 1 ? (int)walk(&r, 0) : -1;
			TU_EXPECT(rc == -1 && names_offset(r.error, cut), "%s: file cut at %zu: rc %d \"%s\"", names[i],
				  cut, rc, r.error);
			free(copy);
		}
		bytes_free(&file);
	}
	TU_EXPECT_NO_FAILURES();
}

static void expect_json(const void *ubj, size_t len, const char *want);
#define EJ(lit, want) expect_json(lit, sizeof(lit) - 1, want)
#define R1(lit) read_one(lit, sizeof(lit) - 1, &r, &v)

static int read_one(const void *buf, size_t len, struct ubj_reader *r, struct ubj_value *v)
{
	ubj_reader_init(r, buf, len);
	return ubj_next(r, v);
}

/* Any integer marker (i U I l L) is a valid length for keys, strings and counts. */
static void test_ubjson_every_integer_marker_is_a_length(void **state)
{
	(void)state;
	static const struct {
		const char *len;
		size_t n;
	} lens[] = {
		{"i\x02", 2},
		{"U\x02", 2},
		{"I\x00\x02", 3},
		{"l\x00\x00\x00\x02", 5},
		{"L\x00\x00\x00\x00\x00\x00\x00\x02", 9},
	};
	for (size_t k = 0; k < 5; k++) {
		for (size_t s = 0; s < 5; s++) {
			uint8_t buf[64];
			size_t n = 0;
			buf[n++] = '{';
			memcpy(buf + n, lens[k].len, lens[k].n);
			n += lens[k].n;
			memcpy(buf + n, "ab", 2);
			n += 2;
			buf[n++] = 'S';
			memcpy(buf + n, lens[s].len, lens[s].n);
			n += lens[s].n;
			memcpy(buf + n, "xy", 2);
			n += 2;
			buf[n++] = '}';
			struct bytes json;
			bytes_init(&json, 0);
			char err[160] = "";
			assert_int_equal(ubj_to_json(buf, n, &json, err, sizeof(err)), 0);
			assert_int_equal(json.len, strlen("{\"ab\":\"xy\"}"));
			assert_memory_equal(json.data, "{\"ab\":\"xy\"}", json.len);
			bytes_free(&json);
			/* the same length as a container count */
			n = 0;
			buf[n++] = '[';
			buf[n++] = '#';
			memcpy(buf + n, lens[k].len, lens[k].n);
			n += lens[k].n;
			buf[n++] = 'T';
			buf[n++] = 'F';
			bytes_init(&json, 0);
			assert_int_equal(ubj_to_json(buf, n, &json, err, sizeof(err)), 0);
			assert_memory_equal(json.data, "[true,false]", json.len);
			bytes_free(&json);
		}
	}
	/* a negative length, a float as a length, a length past the end */
	struct ubj_reader r;
	struct ubj_value v;
	assert_int_equal(R1("Si\xfexy"), -1);
	assert_true(names_offset(r.error, 1));
	assert_int_equal(R1("Sd\x00\x00\x00\x00"), -1);
	assert_true(names_offset(r.error, 1));
	assert_int_equal(R1("SU\x05xy"), -1);
	assert_true(names_offset(r.error, 1));
	assert_int_equal(R1("SL\x7f\xff\xff\xff\xff\xff\xff\xffxy"), -1);
	assert_int_equal(R1("SL\xff\xff\xff\xff\xff\xff\xff\xffxy"), -1);
}

static void test_ubjson_depth_is_limited(void **state)
{
	(void)state;
	uint8_t buf[2 * (UBJ_MAX_DEPTH + 1)];
	for (int depth = UBJ_MAX_DEPTH; depth <= UBJ_MAX_DEPTH + 1; depth++) {
		memset(buf, '[', (size_t)depth);
		memset(buf + depth, ']', (size_t)depth);
		struct bytes json;
		bytes_init(&json, 0);
		char err[160] = "";
		int rc = ubj_to_json(buf, 2 * (size_t)depth, &json, err, sizeof(err));
		if (depth <= UBJ_MAX_DEPTH) {
			assert_int_equal(rc, 0);
			assert_int_equal(json.len, 2 * (size_t)depth);
		} else {
			assert_int_equal(rc, -1);
			assert_non_null(strstr(err, "deep"));
			assert_true(names_offset(err, UBJ_MAX_DEPTH));
		}
		bytes_free(&json);
	}
	/* objects count too; and a huge nest is refused quickly */
	uint8_t deep[100000];
	for (size_t i = 0; i < sizeof(deep); i += 4)
		memcpy(deep + i, "{U\x01k", 4);
	struct bytes json;
	bytes_init(&json, 0);
	char err[160] = "";
	assert_int_equal(ubj_to_json(deep, sizeof(deep), &json, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "deep"));
	bytes_free(&json);
}

static void expect_json(const void *ubj, size_t len, const char *want)
{
	struct bytes json;
	bytes_init(&json, 0);
	char err[160] = "";
	int rc = ubj_to_json(ubj, len, &json, err, sizeof(err));
	if (rc != 0)
		fail_msg("ubj_to_json failed: %s (want %s)", err, want);
	assert_true(bytes_append_byte(&json, 0));
	assert_string_equal((const char *)json.data, want);
	assert_true(jm_valid(want, strlen(want)));
	bytes_free(&json);
}

static void test_ubjson_typed_and_counted_containers(void **state)
{
	(void)state;
	EJ("[#U\x03i\x01i\x02i\x03", "[1,2,3]");
	EJ("[$i#U\x03\x01\x02\xff", "[1,2,-1]");
	EJ("[$U#U\x03\x01\x02\xff", "[1,2,255]");   /* a blob */
	EJ("[i\x01[$U#U\x01\x05]", "[1,[5]]");      /* a blob as an array element */
	EJ("{U\x01k[$U#U\x01\x05}", "{\"k\":[5]}"); /* and as a member */
	EJ("[$I#U\x02\x01\x00\xff\xfe", "[256,-2]");
	EJ("[$S#U\x02U\x01xU\x02yz", "[\"x\",\"yz\"]");
	EJ("[$Z#U\x03", "[null,null,null]");
	EJ("[$T#i\x02", "[true,true]");
	EJ("{#U\x02U\x01"
	   "aTU\x01"
	   "bF",
	   "{\"a\":true,\"b\":false}");
	EJ("{$l#U\x01U\x01"
	   "a\x00\x01\x00\x00",
	   "{\"a\":65536}");
	EJ("[#U\x00", "[]");
	EJ("{#U\x00", "{}");
	EJ("[$U#U\x00", "[]");
	/* a counted container inside a plain one, then more members */
	EJ("[[#U\x01ZU\x07]", "[[null],7]");
	/* no-op markers between members of plain containers */
	EJ("[NNi\x01NNi\x02]", "[1,2]");

	struct ubj_reader r;
	struct ubj_value v;
	/* a typed container without a count is an error */
	assert_int_equal(R1("[$iU"), -1);
	assert_true(names_offset(r.error, 3));
	/* an unknown element type */
	assert_int_equal(R1("[$[#U\x01"), -1);
	/* a count larger than the data */
	assert_int_equal(R1("[#U\x09i\x01"), -1);
	assert_true(names_offset(r.error, 6));
	/* a huge zero-size element count is refused */
	assert_int_equal(R1("[$Z#l\x7f\xff\xff\xff"), -1);

	/* ubj_skip leaves the reader after the container */
	const char doc[] = "{U\x01"
			   "a[#U\x02{U\x01xZ}[$i#U\x02\x01\x02U\x01"
			   "bU\x09}";
	ubj_reader_init(&r, (const uint8_t *)doc, sizeof(doc) - 1);
	assert_int_equal(ubj_next(&r, &v), 1);
	assert_int_equal(ubj_next(&r, &v), 1);
	assert_true(ubj_key_is(&v, "a"));
	assert_int_equal(v.type, UBJ_ARRAY);
	assert_int_equal(ubj_skip(&r), 0);
	assert_int_equal(ubj_next(&r, &v), 1);
	assert_true(ubj_key_is(&v, "b"));
	assert_int_equal(v.type, UBJ_INT);
	assert_int_equal(v.i, 9);
	assert_int_equal(ubj_next(&r, &v), 0);
	assert_int_equal(r.depth, 0);
	assert_int_equal(r.pos, sizeof(doc) - 1);
}

static void test_ubjson_to_json_values(void **state)
{
	(void)state;
	EJ("Z", "null");
	EJ("T", "true");
	EJ("i\x80", "-128");
	EJ("L\x80\x00\x00\x00\x00\x00\x00\x00", "-9223372036854775808");
	EJ("d\x3f\xc0\x00\x00", "1.5");
	EJ("D\x40\x09\x21\xfb\x54\x44\x2d\x18", "3.141593");
	EJ("d\x7f\xc0\x00\x00", "null"); /* NaN has no JSON form */
	EJ("CA", "\"A\"");
	EJ("SU\x06q\"b\\\n\x01", "\"q\\\"b\\\\\\n\\u0001\"");
	EJ("SU\x03\xe3\x82\xa2", "\"\xe3\x82\xa2\"");
	EJ("{U\x07startAtSU\x14"
	   "2018-06-22T07:52:59ZU\x09lastFramel\x00\x00\x12\x34}",
	   "{\"startAt\":\"2018-06-22T07:52:59Z\",\"lastFrame\":4660}");
	/* an object key that needs escaping */
	EJ("{U\x02\"\\Z}", "{\"\\\"\\\\\":null}");

	struct bytes json;
	char err[160];
	/* an empty buffer and an unknown marker */
	bytes_init(&json, 0);
	assert_int_equal(ubj_to_json((const uint8_t *)"", 0, &json, err, sizeof(err)), -1);
	assert_true(names_offset(err, 0));
	assert_int_equal(ubj_to_json((const uint8_t *)"[i\x01?]", 5, &json, err, sizeof(err)), -1);
	assert_true(names_offset(err, 3));
	bytes_free(&json);
}

static void test_ubjson_writer_round_trip(void **state)
{
	(void)state;
	static const int64_t ints[] = {0,         1,         -1,        127,
				       -128,      128,       255,       256,
				       -129,      32767,     -32768,    32768,
				       65535,     INT32_MAX, INT32_MIN, (int64_t)INT32_MAX + 1,
				       INT64_MAX, INT64_MIN, -40000};
	static const char markers[] = {'i', 'i', 'i', 'i', 'i', 'U', 'U', 'I', 'I', 'I',
				       'I', 'l', 'l', 'l', 'l', 'L', 'L', 'L', 'l'};
	char long_str[300];
	memset(long_str, 'x', sizeof(long_str));
	uint8_t blob[1000];
	for (size_t i = 0; i < sizeof(blob); i++)
		blob[i] = (uint8_t)(i * 7);
	for (int as_u8 = 0; as_u8 <= 1; as_u8++) {
		struct bytes out;
		bytes_init(&out, 0);
		struct ubj_writer w;
		ubj_writer_init(&w, &out, as_u8);
		ubj_w_object_begin(&w);
		for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
			char key[16];
			snprintf(key, sizeof(key), "n%zu", i);
			ubj_w_key(&w, key);
			size_t marker_at = out.len;
			ubj_w_int(&w, ints[i]);
			assert_int_equal(out.data[marker_at], markers[i]);
		}
		ubj_w_key(&w, "s");
		ubj_w_string(&w, "h\xc3\xa9", 3);
		ubj_w_key(&w, "long");
		ubj_w_string(&w, long_str, sizeof(long_str));
		ubj_w_key(&w, "empty");
		ubj_w_string(&w, "", 0);
		ubj_w_key(&w, "u8");
		ubj_w_uint8(&w, 200);
		ubj_w_key(&w, "i32");
		ubj_w_int32(&w, 5);
		ubj_w_key(&w, "t");
		ubj_w_bool(&w, true);
		ubj_w_key(&w, "f");
		ubj_w_bool(&w, false);
		ubj_w_key(&w, "blob");
		ubj_w_blob(&w, blob, sizeof(blob));
		ubj_w_key(&w, "none");
		ubj_w_blob(&w, NULL, 0);
		ubj_w_key(&w, "obj");
		ubj_w_object_begin(&w);
		ubj_w_object_end(&w);
		ubj_w_object_end(&w);
		assert_true(w.ok);
		/* key lengths: `U` in .slp footer style, the smallest marker otherwise */
		assert_int_equal(out.data[1], as_u8 ? 'U' : 'i');

		struct ubj_reader r;
		struct ubj_value v;
		ubj_reader_init(&r, out.data, out.len);
		assert_int_equal(ubj_next(&r, &v), 1);
		assert_int_equal(v.type, UBJ_OBJECT);
		for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
			assert_int_equal(ubj_next(&r, &v), 1);
			assert_int_equal(v.type, UBJ_INT);
			assert_true(v.i == ints[i]);
		}
		assert_int_equal(ubj_next(&r, &v), 1);
		assert_true(ubj_key_is(&v, "s"));
		assert_int_equal(v.str_len, 3);
		assert_memory_equal(v.str, "h\xc3\xa9", 3);
		assert_int_equal(ubj_next(&r, &v), 1);
		assert_true(ubj_key_is(&v, "long"));
		assert_int_equal(v.type, UBJ_STRING);
		assert_int_equal(v.str_len, sizeof(long_str));
		assert_int_equal(ubj_next(&r, &v), 1);
		assert_int_equal(v.str_len, 0);
		assert_int_equal(ubj_next(&r, &v), 1);
		assert_int_equal(v.i, 200);
		assert_int_equal(ubj_next(&r, &v), 1);
		assert_int_equal(v.i, 5);
		assert_int_equal(ubj_next(&r, &v), 1);
		assert_true(v.type == UBJ_BOOL && v.b);
		assert_int_equal(ubj_next(&r, &v), 1);
		assert_true(v.type == UBJ_BOOL && !v.b);
		assert_int_equal(ubj_next(&r, &v), 1);
		assert_true(ubj_key_is(&v, "blob"));
		assert_int_equal(v.type, UBJ_BLOB);
		assert_int_equal(v.str_len, sizeof(blob));
		assert_memory_equal(v.str, blob, sizeof(blob));
		assert_int_equal(ubj_next(&r, &v), 1);
		assert_int_equal(v.type, UBJ_BLOB);
		assert_int_equal(v.str_len, 0);
		assert_int_equal(ubj_next(&r, &v), 1);
		assert_int_equal(v.type, UBJ_OBJECT);
		assert_int_equal(ubj_next(&r, &v), 0);
		assert_int_equal(ubj_next(&r, &v), 0);
		assert_int_equal(r.depth, 0);
		assert_int_equal(r.pos, out.len);

		/* and the same document as JSON */
		struct bytes json;
		bytes_init(&json, 0);
		char err[160] = "";
		assert_int_equal(ubj_to_json(out.data, out.len, &json, err, sizeof(err)), 0);
		char jerr[128] = "";
		struct jm_value *doc = jm_parse((const char *)json.data, json.len, jerr, sizeof(jerr));
		if (!doc)
			fail_msg("%s", jerr);
		assert_true(jm_get_int(doc, "n13", 0) == INT32_MAX);
		assert_string_equal(jm_get_str(doc, "s"), "h\xc3\xa9");
		assert_int_equal(jm_get(doc, "blob")->count, sizeof(blob));
		jm_free(doc);
		bytes_free(&json);
		bytes_free(&out);
	}

	/* a writer whose buffer is capped reports failure instead of writing a partial document silently */
	struct bytes small;
	bytes_init(&small, 8);
	struct ubj_writer w;
	ubj_writer_init(&w, &small, true);
	ubj_w_string(&w, long_str, sizeof(long_str));
	assert_false(w.ok);
	bytes_free(&small);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ubjson_real_footers_read_and_convert),
		cmocka_unit_test(test_ubjson_truncated_footer_fails_at_every_offset),
		cmocka_unit_test(test_ubjson_every_integer_marker_is_a_length),
		cmocka_unit_test(test_ubjson_depth_is_limited),
		cmocka_unit_test(test_ubjson_typed_and_counted_containers),
		cmocka_unit_test(test_ubjson_to_json_values),
		cmocka_unit_test(test_ubjson_writer_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
