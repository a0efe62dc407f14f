/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "json_writer.h"
#include "utf8.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

void jw_init(struct json_writer *jw, struct bytes *out)
{
	memset(jw, 0, sizeof(*jw));
	jw->out = out;
	jw->ok = true;
}

static void put(struct json_writer *jw, const char *s, size_t n)
{
	jw->after_key = false;
	if (jw->ok && !bytes_append(jw->out, s, n))
		jw->ok = false;
}

/* A JSON string; bytes that are not valid UTF-8 become U+FFFD, so the output is always valid JSON. */
static void put_escaped(struct json_writer *jw, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	put(jw, "\"", 1);
	size_t start = 0;
	size_t i = 0;
	while (i < len) {
		unsigned char c = u[i];
		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0x80) {
			size_t n = utf8_sequence_length(u + i, len - i);
			if (n) {
				i += n;
				continue;
			}
		}
		put(jw, s + start, i - start);
		char esc[8];
		switch (c) {
		case '"':
			put(jw, "\\\"", 2);
			break;
		case '\\':
			put(jw, "\\\\", 2);
			break;
		case '\n':
			put(jw, "\\n", 2);
			break;
		case '\r':
			put(jw, "\\r", 2);
			break;
		case '\t':
			put(jw, "\\t", 2);
			break;
		default:
			if (c >= 0x80) {
				put(jw, "\\ufffd", 6);
			} else {
				snprintf(esc, sizeof(esc), "\\u%04x", c);
				put(jw, esc, 6);
			}
		}
		i++;
		start = i;
	}
	put(jw, s + start, len - start);
	put(jw, "\"", 1);
}

void jw_key_n(struct json_writer *jw, const char *key, size_t key_len)
{
	if (jw->after_key) {
		/* the value of a key written just before */
		jw->after_key = false;
		if (!key)
			return;
	}
	if (jw->need_comma[jw->depth])
		put(jw, ",", 1);
	jw->need_comma[jw->depth] = true;
	if (key) {
		put_escaped(jw, key, key_len);
		put(jw, ":", 1);
		jw->after_key = true;
	}
}

/* Starts a value: its comma and key, if any. */
static void key(struct json_writer *jw, const char *k)
{
	jw_key_n(jw, k, k ? strlen(k) : 0);
	jw->after_key = false;
}

static void open(struct json_writer *jw, const char *k, const char *brace)
{
	key(jw, k);
	put(jw, brace, 1);
	if (jw->depth >= JW_MAX_DEPTH) {
		jw->ok = false;
		return;
	}
	jw->depth++;
	jw->need_comma[jw->depth] = false;
}

static void close_(struct json_writer *jw, const char *brace)
{
	put(jw, brace, 1);
	if (jw->depth > 0)
		jw->depth--;
}

void jw_object_begin(struct json_writer *jw, const char *k)
{
	open(jw, k, "{");
}

void jw_object_end(struct json_writer *jw)
{
	close_(jw, "}");
}

void jw_array_begin(struct json_writer *jw, const char *k)
{
	open(jw, k, "[");
}

void jw_array_end(struct json_writer *jw)
{
	close_(jw, "]");
}

void jw_raw(struct json_writer *jw, const char *text)
{
	put(jw, text, strlen(text));
}

void jw_raw_n(struct json_writer *jw, const char *text, size_t len)
{
	put(jw, text, len);
}

void jw_string_value(struct json_writer *jw, const char *s, size_t len)
{
	put_escaped(jw, s, len);
}

void jw_int_value(struct json_writer *jw, int64_t v)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%" PRId64, v);
	put(jw, buf, (size_t)n);
}

void jw_double_value(struct json_writer *jw, double v, int decimals)
{
	if (!isfinite(v)) {
		put(jw, "null", 4);
		return;
	}
	if (decimals < 0)
		decimals = 0;
	if (decimals > 12)
		decimals = 12;
	char buf[64];
	int n = snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	if (n <= 0 || (size_t)n >= sizeof(buf)) {
		n = snprintf(buf, sizeof(buf), "%g", v);
	} else if (strchr(buf, '.')) {
		while (n > 0 && buf[n - 1] == '0')
			n--;
		if (n > 0 && buf[n - 1] == '.')
			n--;
		buf[n] = 0;
	}
	if (strcmp(buf, "-0") == 0) {
		buf[0] = '0';
		buf[1] = 0;
		n = 1;
	}
	put(jw, buf, (size_t)n);
}

void jw_string(struct json_writer *jw, const char *k, const char *s)
{
	key(jw, k);
	put_escaped(jw, s, strlen(s));
}

void jw_int(struct json_writer *jw, const char *k, int64_t v)
{
	key(jw, k);
	jw_int_value(jw, v);
}

void jw_bool(struct json_writer *jw, const char *k, bool v)
{
	key(jw, k);
	jw_raw(jw, v ? "true" : "false");
}

void jw_null(struct json_writer *jw, const char *k)
{
	key(jw, k);
	jw_raw(jw, "null");
}

void jw_double(struct json_writer *jw, const char *k, double v, int decimals)
{
	key(jw, k);
	jw_double_value(jw, v, decimals);
}
