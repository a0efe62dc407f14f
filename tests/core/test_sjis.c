/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shift-JIS names to UTF-8, as Melee stores them in Game Start. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sjis.h"
#include "test_util.h"

#include <string.h>

static const char *decode(const void *in, size_t in_len, size_t out_cap, bool halfwidth, size_t *n)
{
	static char out[512];
	assert_true(out_cap <= sizeof(out));
	memset(out, 0x55, sizeof(out));
	*n = sjis_to_utf8(in, in_len, out, out_cap, halfwidth);
	return out;
}

static void expect(const void *in, size_t in_len, bool halfwidth, const char *want)
{
	size_t n;
	const char *got = decode(in, in_len, 256, halfwidth, &n);
	assert_string_equal(got, want);
	assert_int_equal(n, strlen(want));
}

static void test_sjis_ascii_passes_through(void **state)
{
	(void)state;
	expect("WOO!", 4, true, "WOO!");
	expect("WOO!", 4, false, "WOO!");
	expect("a b~{}", 6, true, "a b~{}");
	expect("", 0, true, "");
}

static void test_sjis_fullwidth_becomes_halfwidth(void **state)
{
	(void)state;
	/* ＡＢＣ＃１２３ with the connect-code hash 81 94 */
	const uint8_t code[] = {0x82, 0x60, 0x82, 0x61, 0x82, 0x62, 0x81, 0x94, 0x82, 0x50, 0x82, 0x51, 0x82, 0x52};
	expect(code, sizeof(code), true, "ABC#123");
	expect(code, sizeof(code), false,
	       "\xEF\xBC\xA1\xEF\xBC\xA2\xEF\xBC\xA3\xEF\xBC\x83\xEF\xBC\x91\xEF\xBC\x92"
	       "\xEF\xBC\x93");
	/* ideographic space, full-width lower case, Melee's curly quotes */
	const uint8_t misc[] = {0x81, 0x40, 0x82, 0x81, 0x81, 0x66, 0x81, 0x68};
	expect(misc, sizeof(misc), true, " a'\"");
	/* a NUL-padded 10-byte connect-code field mixing half- and full-width */
	const uint8_t field[10] = {'N', 'I', 'K', 'K', 0x81, 0x94, '5', '1', '3', 0};
	expect(field, sizeof(field), true, "NIKK#513");
}

static void test_sjis_katakana_and_kana(void **state)
{
	(void)state;
	/* full-width katakana ア (83 41) and hiragana あ (82 A0) stay as they are, even with halfwidth */
	const uint8_t full[] = {0x83, 0x41, 0x82, 0xA0};
	expect(full, sizeof(full), true, "\xE3\x82\xA2\xE3\x81\x82");
	/* half-width katakana ｱ (B1) and the half-width prolonged sound mark (B0) */
	const uint8_t half[] = {0xB1, 0xB0};
	expect(half, sizeof(half), true, "\xEF\xBD\xB1\xEF\xBD\xB0");
	/* a kanji: 漢 is 8A BF */
	const uint8_t kanji[] = {0x8A, 0xBF};
	expect(kanji, sizeof(kanji), false, "\xE6\xBC\xA2");
}

static void test_sjis_invalid_bytes_become_replacement(void **state)
{
	(void)state;
	const char *fffd = "\xEF\xBF\xBD";
	char want[64];
	/* bytes that are never valid */
	const uint8_t lone[] = {0x80, 'A', 0xA0, 0xFD, 0xFF};
	snprintf(want, sizeof(want), "%sA%s%s%s", fffd, fffd, fffd, fffd);
	expect(lone, sizeof(lone), true, want);
	/* a lead byte followed by something that is not a trail byte: the next byte still decodes */
	const uint8_t bad_trail[] = {0x82, 0x20, 'B'};
	snprintf(want, sizeof(want), "%s B", fffd);
	expect(bad_trail, sizeof(bad_trail), true, want);
	/* a lead byte at the end of the field */
	const uint8_t cut[] = {'C', 0x82};
	snprintf(want, sizeof(want), "C%s", fffd);
	expect(cut, sizeof(cut), true, want);
	/* a lead byte whose pair the field does not include, even though the byte after the field would complete it */
	const uint8_t cut2[] = {'C', 0x82, 0x60};
	expect(cut2, 2, true, want);
	/* a well-formed pair that code page 932 leaves unmapped (85 40) */
	const uint8_t unmapped[] = {0x85, 0x40, 'D'};
	snprintf(want, sizeof(want), "%sD", fffd);
	expect(unmapped, sizeof(unmapped), true, want);
}

static void test_sjis_stops_at_nul(void **state)
{
	(void)state;
	const uint8_t s[] = {'A', 'B', 0, 'C', 'D'};
	expect(s, sizeof(s), true, "AB");
	const uint8_t t[] = {0x82, 0x60, 0, 0x82, 0x61};
	expect(t, sizeof(t), true, "A");
	/* a NUL as the would-be trail byte ends the string too */
	const uint8_t u[] = {'X', 0x82, 0, 'Y'};
	size_t n;
	const char *got = decode(u, sizeof(u), 64, true, &n);
	assert_int_equal(strncmp(got, "X", 1), 0);
	assert_null(strchr(got, 'Y'));
}

static bool valid_utf8(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t len = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c >= 0xE0 && c <= 0xEF) ? 3 : 0;
		if (!len || i + len > n)
			return false;
		for (size_t k = 1; k < len; k++)
			if (((unsigned char)s[i + k] & 0xC0) != 0x80)
				return false;
		i += len;
	}
	return true;
}

/* The output is cut at whole characters: never a split UTF-8 sequence, always NUL-terminated. */
static void test_sjis_truncation_never_splits_a_character(void **state)
{
	(void)state;
	const uint8_t kana[] = {0x83, 0x41, 0x83, 0x41, 'Z'}; /* アアZ: 3 + 3 + 1 bytes */
	static const struct {
		size_t cap, len;
	} cases[] = {{1, 0}, {2, 0}, {3, 0}, {4, 3}, {5, 3}, {6, 3}, {7, 6}, {8, 7}, {64, 7}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n;
		const char *got = decode(kana, sizeof(kana), cases[i].cap, true, &n);
		assert_int_equal(n, cases[i].len);
		assert_int_equal(got[n], 0);
		assert_int_equal((unsigned char)got[cases[i].cap], 0x55); /* nothing written past the capacity */
	}
	/* a zero capacity writes nothing */
	size_t n;
	const char *got = decode(kana, sizeof(kana), 0, true, &n);
	assert_int_equal(n, 0);
	assert_int_equal((unsigned char)got[0], 0x55);

	/* random bytes, random capacities */
	uint64_t seed = 12345;
	for (int trial = 0; trial < 20000; trial++) {
		uint8_t in[40];
		size_t in_len = 1 + tu_rand(&seed) % sizeof(in);
		for (size_t k = 0; k < in_len; k++)
			in[k] = (uint8_t)tu_rand(&seed);
		size_t cap = tu_rand(&seed) % 130;
		got = decode(in, in_len, cap, trial & 1, &n);
		if (cap == 0) {
			assert_int_equal(n, 0);
			continue;
		}
		assert_true(n < cap);
		assert_int_equal(got[n], 0);
		assert_int_equal(strlen(got), n);
		assert_true(valid_utf8(got, n));
		assert_int_equal((unsigned char)got[cap], 0x55);
	}
}

/* The real connect codes and names in unranked_game1.slp's Game Start. */
static void test_sjis_real_connect_codes(void **state)
{
	(void)state;
	struct bytes file;
	assert_true(tu_read_replay("unranked_game1.slp", &file));
	const uint8_t *gs = file.data + 15 + file.data[16] + 1; /* the Game Start after Event Payloads */
	assert_int_equal(gs[0], 0x36);
	const struct jm_value *players = jm_get(tu_expected_file("unranked_game1.slp"), "players");
	assert_non_null(players);
	for (const struct jm_value *p = players->child; p; p = p->next) {
		int64_t i = jm_get_int(p, "playerIndex", -1);
		assert_true(i >= 0 && i < 4);
		size_t n;
		const char *got = decode(gs + 0x221 + 0xA * i, 0xA, 64, true, &n);
		assert_string_equal(got, jm_get_str(p, "connectCode"));
		got = decode(gs + 0x1A5 + 0x1F * i, 0x1F, 128, true, &n);
		assert_string_equal(got, jm_get_str(p, "displayName"));
	}
	bytes_free(&file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sjis_ascii_passes_through),
		cmocka_unit_test(test_sjis_fullwidth_becomes_halfwidth),
		cmocka_unit_test(test_sjis_katakana_and_kana),
		cmocka_unit_test(test_sjis_invalid_bytes_become_replacement),
		cmocka_unit_test(test_sjis_stops_at_nul),
		cmocka_unit_test(test_sjis_truncation_never_splits_a_character),
		cmocka_unit_test(test_sjis_real_connect_codes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
