/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A strict JSON reader for the tests: it reads expected.json and checks every JSON text the core writes. It shares
 * no code with the core on purpose (not even plugin/core/utf8.c), so a bug in the core's UTF-8 or escaping cannot
 * hide from the tests that check it.
 */
#include "json_min.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jm_parser {
	const char *s;
	size_t len;
	size_t pos;
	int depth;
	char *err;
	size_t err_size;
	bool failed;
};

static void *fail(struct jm_parser *p, const char *what)
{
	if (!p->failed && p->err && p->err_size)
		snprintf(p->err, p->err_size, "JSON: %s at byte %zu", what, p->pos);
	p->failed = true;
	return NULL;
}

static void skip_ws(struct jm_parser *p)
{
	while (p->pos < p->len &&
	       (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
		p->pos++;
}

static bool literal(struct jm_parser *p, const char *word)
{
	size_t n = strlen(word);
	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
		return false;
	p->pos += n;
	return true;
}

static int hex4(struct jm_parser *p)
{
	if (p->len - p->pos < 4)
		return -1;
	int v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p->s[p->pos + i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	p->pos += 4;
	return v;
}

static size_t put_utf8(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Length of a valid UTF-8 sequence at s (n bytes available), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
		cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		cp = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

static char *parse_string(struct jm_parser *p)
{
	/* the opening quote is at p->pos */
	p->pos++;
	char *out = malloc(p->len - p->pos + 1);
	if (!out)
		return fail(p, "out of memory");
	size_t n = 0;
	while (p->pos < p->len) {
		unsigned char c = (unsigned char)p->s[p->pos];
		if (c == '"') {
			p->pos++;
			out[n] = 0;
			return out;
		}
		if (c < 0x20) {
			free(out);
			return fail(p, "control character in a string");
		}
		if (c == '\\') {
			if (p->pos + 1 >= p->len)
				break;
			char e = p->s[p->pos + 1];
			p->pos += 2;
			switch (e) {
			case '"':
			case '\\':
			case '/':
				out[n++] = e;
				break;
			case 'b':
				out[n++] = '\b';
				break;
			case 'f':
				out[n++] = '\f';
				break;
			case 'n':
				out[n++] = '\n';
				break;
			case 'r':
				out[n++] = '\r';
				break;
			case 't':
				out[n++] = '\t';
				break;
			case 'u': {
				int hi = hex4(p);
				if (hi < 0) {
					free(out);
					return fail(p, "bad \\u escape");
				}
				uint32_t cp = (uint32_t)hi;
				if (hi >= 0xD800 && hi <= 0xDBFF) {
					if (!literal(p, "\\u")) {
						free(out);
						return fail(p, "lone high surrogate");
					}
					int lo = hex4(p);
					if (lo < 0xDC00 || lo > 0xDFFF) {
						free(out);
						return fail(p, "bad low surrogate");
					}
					cp = 0x10000 + (((uint32_t)hi - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
				} else if (hi >= 0xDC00 && hi <= 0xDFFF) {
					free(out);
					return fail(p, "lone low surrogate");
				}
				/* an escape of n bytes never decodes to more than n bytes (a \u escape is 6 bytes and gives at most 3) */
				n += put_utf8(out + n, cp);
				break;
			}
			default:
				free(out);
				return fail(p, "bad escape");
			}
			continue;
		}
		size_t l = utf8_seq((const unsigned char *)p->s + p->pos, p->len - p->pos);
		if (!l) {
			free(out);
			return fail(p, "invalid UTF-8");
		}
		memcpy(out + n, p->s + p->pos, l);
		n += l;
		p->pos += l;
	}
	free(out);
	return fail(p, "unterminated string");
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool parse_number(struct jm_parser *p, double *out)
{
	size_t start = p->pos;
	if (p->pos < p->len && p->s[p->pos] == '-')
		p->pos++;
	if (p->pos >= p->len)
		return false;
	if (p->s[p->pos] == '0') {
		p->pos++;
	} else if (is_digit(p->s[p->pos])) {
		while (p->pos < p->len && is_digit(p->s[p->pos]))
			p->pos++;
	} else {
		return false;
	}
	if (p->pos < p->len && p->s[p->pos] == '.') {
		p->pos++;
		if (p->pos >= p->len || !is_digit(p->s[p->pos]))
			return false;
		while (p->pos < p->len && is_digit(p->s[p->pos]))
			p->pos++;
	}
	if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
		p->pos++;
		if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
			p->pos++;
		if (p->pos >= p->len || !is_digit(p->s[p->pos]))
			return false;
		while (p->pos < p->len && is_digit(p->s[p->pos]))
			p->pos++;
	}
	char buf[64];
	size_t n = p->pos - start;
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memcpy(buf, p->s + start, n);
	buf[n] = 0;
	*out = strtod(buf, NULL);
	return true;
}

static struct jm_value *parse_value(struct jm_parser *p);

static struct jm_value *parse_container(struct jm_parser *p, struct jm_value *v, bool is_object)
{
	char close = is_object ? '}' : ']';
	struct jm_value **tail = &v->child;
	p->pos++;
	if (++p->depth > JM_MAX_DEPTH)
		return fail(p, "nesting too deep");
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
		p->depth--;
		return v;
	}
	for (;;) {
		char *key = NULL;
		skip_ws(p);
		if (is_object) {
			if (p->pos >= p->len || p->s[p->pos] != '"')
				return fail(p, "expected a key");
			key = parse_string(p);
			if (!key)
				return NULL;
			skip_ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':') {
				free(key);
				return fail(p, "expected ':'");
			}
			p->pos++;
		}
		struct jm_value *child = parse_value(p);
		if (!child) {
			free(key);
			return NULL;
		}
		child->key = key;
		*tail = child;
		tail = &child->next;
		v->count++;
		skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == close) {
			p->pos++;
			p->depth--;
			return v;
		}
		return fail(p, is_object ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static struct jm_value *parse_value(struct jm_parser *p)
{
	skip_ws(p);
	if (p->pos >= p->len)
		return fail(p, "unexpected end");
	struct jm_value *v = calloc(1, sizeof(*v));
	if (!v)
		return fail(p, "out of memory");
	struct jm_value *r = v;
	char c = p->s[p->pos];
	if (c == '{' || c == '[') {
		v->type = c == '{' ? JM_OBJECT : JM_ARRAY;
		r = parse_container(p, v, c == '{');
	} else if (c == '"') {
		v->type = JM_STRING;
		v->str = parse_string(p);
		if (!v->str)
			r = NULL;
	} else if (literal(p, "true")) {
		v->type = JM_BOOL;
		v->b = true;
	} else if (literal(p, "false")) {
		v->type = JM_BOOL;
	} else if (literal(p, "null")) {
		v->type = JM_NULL;
	} else {
		v->type = JM_NUMBER;
		if (!parse_number(p, &v->num))
			r = fail(p, "bad value");
	}
	if (!r) {
		jm_free(v);
		return NULL;
	}
	return v;
}

struct jm_value *jm_parse(const char *text, size_t len, char *err, size_t err_size)
{
	struct jm_parser p = {.s = text, .len = len, .err = err, .err_size = err_size};
	if (err && err_size)
		err[0] = 0;
	struct jm_value *v = parse_value(&p);
	if (!v)
		return NULL;
	skip_ws(&p);
	if (p.pos != p.len) {
		jm_free(v);
		return fail(&p, "trailing data");
	}
	return v;
}

void jm_free(struct jm_value *v)
{
	while (v) {
		struct jm_value *next = v->next;
		jm_free(v->child);
		free(v->str);
		free(v->key);
		free(v);
		v = next;
	}
}

const struct jm_value *jm_get(const struct jm_value *obj, const char *key)
{
	if (!obj || obj->type != JM_OBJECT)
		return NULL;
	for (const struct jm_value *c = obj->child; c; c = c->next)
		if (c->key && strcmp(c->key, key) == 0)
			return c;
	return NULL;
}

const struct jm_value *jm_at(const struct jm_value *arr, size_t index)
{
	if (!arr || (arr->type != JM_ARRAY && arr->type != JM_OBJECT))
		return NULL;
	const struct jm_value *c = arr->child;
	while (c && index--)
		c = c->next;
	return c;
}

bool jm_is_null(const struct jm_value *v)
{
	return v && v->type == JM_NULL;
}

int64_t jm_int(const struct jm_value *v)
{
	return v && v->type == JM_NUMBER ? (int64_t)llround(v->num) : 0;
}

int64_t jm_get_int(const struct jm_value *obj, const char *key, int64_t fallback)
{
	const struct jm_value *v = jm_get(obj, key);
	return v && v->type == JM_NUMBER ? jm_int(v) : fallback;
}

const char *jm_get_str(const struct jm_value *obj, const char *key)
{
	const struct jm_value *v = jm_get(obj, key);
	return v && v->type == JM_STRING ? v->str : NULL;
}

bool jm_valid(const char *text, size_t len)
{
	struct jm_value *v = jm_parse(text, len, NULL, 0);
	jm_free(v);
	return v != NULL;
}
