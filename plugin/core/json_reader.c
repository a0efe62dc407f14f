/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "json_reader.h"
#include "utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct json_limits json_limits_default = {
	.max_input_bytes = 4u << 20,
	.max_nodes = 4096,
	.max_depth = 32,
	.max_string_bytes = 2u << 20,
};

struct parser {
	struct json_doc *doc;
	const unsigned char *s;
	size_t len;
	size_t pos;
	struct json_limits lim;
};

static int fail(struct parser *p, size_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(struct parser *p, size_t at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->doc->error, sizeof(p->doc->error), fmt, ap);
	va_end(ap);
	p->doc->error_offset = at;
	size_t n = strlen(p->doc->error);
	snprintf(p->doc->error + n, sizeof(p->doc->error) - n, " at byte %zu", at);
	return -1;
}

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len) {
		unsigned char c = p->s[p->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			return;
		p->pos++;
	}
}

/* Appends a node; returns its index or -1. */
static int64_t new_node(struct parser *p, enum json_type type)
{
	struct json_doc *doc = p->doc;
	if (doc->n_nodes >= p->lim.max_nodes)
		return fail(p, p->pos, "more than %u values", p->lim.max_nodes);
	if (doc->n_nodes == doc->cap_nodes) {
		uint32_t cap = doc->cap_nodes ? doc->cap_nodes * 2 : 16;
		if (cap > p->lim.max_nodes)
			cap = p->lim.max_nodes;
		struct json_node *n = realloc(doc->nodes, (size_t)cap * sizeof(*n));
		if (!n)
			return fail(p, p->pos, "out of memory");
		doc->nodes = n;
		doc->cap_nodes = cap;
	}
	struct json_node *n = &doc->nodes[doc->n_nodes];
	memset(n, 0, sizeof(*n));
	n->type = type;
	return doc->n_nodes++;
}

static int hex4(const unsigned char *s, uint32_t *out)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned char c = s[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* Decodes the string at p->pos (on its opening quote) into doc->strings. The decoded form is never longer than
 * the source, so the buffer (input length + 1) always has room, NUL terminator included. */
static int parse_string(struct parser *p, const char **out, size_t *out_len)
{
	struct json_doc *doc = p->doc;
	size_t start = p->pos;
	char *dst = doc->strings + doc->strings_len;
	size_t n = 0;
	p->pos++;
	for (;;) {
		if (p->pos >= p->len)
			return fail(p, start, "unterminated string");
		if (n > p->lim.max_string_bytes)
			return fail(p, start, "string longer than %zu bytes", p->lim.max_string_bytes);
		unsigned char c = p->s[p->pos];
		if (c == '"') {
			p->pos++;
			break;
		}
		if (c < 0x20)
			return fail(p, p->pos, "control character 0x%02x in a string", c);
		if (c >= 0x80) {
			size_t k = utf8_sequence_length((const uint8_t *)p->s + p->pos, p->len - p->pos);
			if (!k)
				return fail(p, p->pos, "invalid UTF-8 in a string");
			memcpy(dst + n, p->s + p->pos, k);
			n += k;
			p->pos += k;
			continue;
		}
		if (c != '\\') {
			dst[n++] = (char)c;
			p->pos++;
			continue;
		}
		size_t esc = p->pos;
		if (p->pos + 1 >= p->len)
			return fail(p, esc, "unterminated escape");
		c = p->s[p->pos + 1];
		p->pos += 2;
		switch (c) {
		case '"':
		case '\\':
		case '/':
			dst[n++] = (char)c;
			break;
		case 'b':
			dst[n++] = '\b';
			break;
		case 'f':
			dst[n++] = '\f';
			break;
		case 'n':
			dst[n++] = '\n';
			break;
		case 'r':
			dst[n++] = '\r';
			break;
		case 't':
			dst[n++] = '\t';
			break;
		case 'u': {
			uint32_t cp, lo;
			if (p->pos + 4 > p->len || hex4(p->s + p->pos, &cp) < 0)
				return fail(p, esc, "bad \\u escape");
			p->pos += 4;
			if (cp >= 0xDC00 && cp <= 0xDFFF)
				return fail(p, esc, "lone low surrogate \\u%04x", cp);
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				if (p->pos + 6 > p->len || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u' ||
				    hex4(p->s + p->pos + 2, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
					return fail(p, esc, "lone high surrogate \\u%04x", cp);
				p->pos += 6;
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			}
			n += utf8_encode(cp, dst + n);
			break;
		}
		default:
			return fail(p, esc, "bad escape \\%c", c >= 0x20 && c < 0x7F ? c : '?');
		}
	}
	if (n > p->lim.max_string_bytes)
		return fail(p, start, "string longer than %zu bytes", p->lim.max_string_bytes);
	dst[n] = 0;
	doc->strings_len += n + 1;
	*out = dst;
	*out_len = n;
	return 0;
}

static int parse_number(struct parser *p, struct json_node *node)
{
	size_t start = p->pos;
	const unsigned char *s = p->s;
	size_t i = p->pos;
	bool neg = false, integral = true;
	if (i < p->len && s[i] == '-') {
		neg = true;
		i++;
	}
	if (i >= p->len || s[i] < '0' || s[i] > '9')
		return fail(p, start, "bad number");
	if (s[i] == '0') {
		i++;
		if (i < p->len && s[i] >= '0' && s[i] <= '9')
			return fail(p, start, "number with a leading zero");
	} else {
		while (i < p->len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < p->len && s[i] == '.') {
		integral = false;
		i++;
		if (i >= p->len || s[i] < '0' || s[i] > '9')
			return fail(p, start, "bad number: no digit after '.'");
		while (i < p->len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
		integral = false;
		i++;
		if (i < p->len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= p->len || s[i] < '0' || s[i] > '9')
			return fail(p, start, "bad number: no digit in the exponent");
		while (i < p->len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	size_t n = i - start;
	if (n > 64)
		return fail(p, start, "number longer than 64 characters");
	p->pos = i;
	if (integral) {
		/* accumulate as a negative value so INT64_MIN fits */
		int64_t v = 0;
		bool overflow = false;
		for (size_t k = start + (neg ? 1 : 0); k < i; k++) {
			int d = s[k] - '0';
			if (v < (INT64_MIN + d) / 10) {
				overflow = true;
				break;
			}
			v = v * 10 - d;
		}
		if (!neg && v == INT64_MIN)
			overflow = true;
		if (!overflow) {
			node->type = JSON_INT;
			node->i = neg ? v : -v;
			node->d = (double)node->i;
			return 0;
		}
	}
	/* strtod needs a terminated copy; JSON numbers never use the locale's decimal comma */
	char buf[72];
	memcpy(buf, s + start, n);
	buf[n] = 0;
	node->type = JSON_DOUBLE;
	node->d = strtod(buf, NULL);
	return 0;
}

static int parse_value(struct parser *p, uint32_t depth, int64_t *out_index);

static int parse_container(struct parser *p, uint32_t index, uint32_t depth, bool object)
{
	char close = object ? '}' : ']';
	size_t open = p->pos;
	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == (unsigned char)close) {
		p->pos++;
		return 0;
	}
	uint32_t last = 0;
	for (;;) {
		const char *key = NULL;
		size_t key_len = 0;
		skip_ws(p);
		if (object) {
			if (p->pos >= p->len || p->s[p->pos] != '"')
				return fail(p, p->pos, "expected a key string");
			if (parse_string(p, &key, &key_len) < 0)
				return -1;
			skip_ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':')
				return fail(p, p->pos, "expected ':'");
			p->pos++;
		}
		int64_t child;
		if (parse_value(p, depth + 1, &child) < 0)
			return -1;
		struct json_node *nodes = p->doc->nodes;
		nodes[child].key = key;
		nodes[child].key_len = key_len;
		if (last)
			nodes[last].next = (uint32_t)child;
		else
			nodes[index].first_child = (uint32_t)child;
		nodes[index].count++;
		last = (uint32_t)child;
		skip_ws(p);
		if (p->pos >= p->len)
			return fail(p, open, "unterminated %s", object ? "object" : "array");
		unsigned char c = p->s[p->pos];
		p->pos++;
		if (c == (unsigned char)close)
			return 0;
		if (c != ',')
			return fail(p, p->pos - 1, "expected ',' or '%c'", close);
	}
}

static int literal(struct parser *p, const char *word)
{
	size_t n = strlen(word);
	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n))
		return fail(p, p->pos, "unexpected character");
	p->pos += n;
	return 0;
}

static int parse_value(struct parser *p, uint32_t depth, int64_t *out_index)
{
	if (depth > p->lim.max_depth)
		return fail(p, p->pos, "nested deeper than %u", p->lim.max_depth);
	skip_ws(p);
	if (p->pos >= p->len)
		return fail(p, p->pos, "unexpected end of input");
	unsigned char c = p->s[p->pos];
	int64_t index = new_node(p, JSON_NULL);
	if (index < 0)
		return -1;
	*out_index = index;
	struct json_node *node = &p->doc->nodes[index];
	switch (c) {
	case '{':
	case '[':
		node->type = c == '{' ? JSON_OBJECT : JSON_ARRAY;
		return parse_container(p, (uint32_t)index, depth, c == '{');
	case '"':
		node->type = JSON_STRING;
		return parse_string(p, &node->str, &node->str_len);
	case 't':
		node->type = JSON_BOOL;
		node->b = true;
		return literal(p, "true");
	case 'f':
		node->type = JSON_BOOL;
		return literal(p, "false");
	case 'n':
		return literal(p, "null");
	default:
		if (c == '-' || (c >= '0' && c <= '9'))
			return parse_number(p, node);
		return fail(p, p->pos, "unexpected character 0x%02x", c);
	}
}

int json_parse(struct json_doc *doc, const char *text, size_t len, const struct json_limits *limits)
{
	memset(doc, 0, sizeof(*doc));
	struct parser p = {.doc = doc, .s = (const unsigned char *)text, .len = len};
	p.lim = limits ? *limits : json_limits_default;
	if (p.lim.max_depth > JSON_MAX_DEPTH)
		p.lim.max_depth = JSON_MAX_DEPTH;
	if (p.lim.max_nodes < 1)
		p.lim.max_nodes = 1;
	if (len > p.lim.max_input_bytes)
		return fail(&p, 0, "document of %zu bytes is larger than %zu", len, p.lim.max_input_bytes);
	doc->strings = malloc(len + 1);
	if (!doc->strings)
		return fail(&p, 0, "out of memory");
	int64_t root;
	if (parse_value(&p, 1, &root) < 0)
		return -1;
	skip_ws(&p);
	if (p.pos != len)
		return fail(&p, p.pos, "trailing characters after the value");
	return 0;
}

void json_doc_free(struct json_doc *doc)
{
	free(doc->nodes);
	free(doc->strings);
	doc->nodes = NULL;
	doc->strings = NULL;
	doc->n_nodes = doc->cap_nodes = 0;
}

const struct json_node *json_first(const struct json_doc *doc, const struct json_node *n)
{
	if (!n || (n->type != JSON_ARRAY && n->type != JSON_OBJECT) || !n->first_child)
		return NULL;
	return &doc->nodes[n->first_child];
}

const struct json_node *json_next(const struct json_doc *doc, const struct json_node *n)
{
	return n && n->next ? &doc->nodes[n->next] : NULL;
}

const struct json_node *json_get(const struct json_doc *doc, const struct json_node *obj, const char *key)
{
	if (!obj || obj->type != JSON_OBJECT)
		return NULL;
	size_t len = strlen(key);
	for (const struct json_node *m = json_first(doc, obj); m; m = json_next(doc, m))
		if (m->key_len == len && !memcmp(m->key, key, len))
			return m;
	return NULL;
}

const char *json_type_name(enum json_type type)
{
	switch (type) {
	case JSON_NULL:
		return "null";
	case JSON_BOOL:
		return "boolean";
	case JSON_INT:
		return "integer";
	case JSON_DOUBLE:
		return "number";
	case JSON_STRING:
		return "string";
	case JSON_ARRAY:
		return "array";
	case JSON_OBJECT:
		return "object";
	}
	return "?";
}
