/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ubjson.h"
#include "json_writer.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void ubj_reader_init(struct ubj_reader *r, const uint8_t *buf, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->buf = buf;
	r->len = len;
}

static int fail(struct ubj_reader *r, size_t offset, const char *what)
{
	snprintf(r->error, sizeof(r->error), "UBJSON: %s at byte %zu", what, offset);
	return -1;
}

static bool have(struct ubj_reader *r, size_t n)
{
	return n <= r->len - r->pos;
}

/* Reads an integer payload of the given marker; the marker itself is already consumed. */
static int read_int_payload(struct ubj_reader *r, uint8_t marker, int64_t *out)
{
	const uint8_t *p = r->buf + r->pos;
	size_t at = r->pos;
	switch (marker) {
	case 'i':
		if (!have(r, 1))
			return fail(r, at, "truncated int8");
		*out = (int8_t)p[0];
		r->pos += 1;
		return 0;
	case 'U':
		if (!have(r, 1))
			return fail(r, at, "truncated uint8");
		*out = p[0];
		r->pos += 1;
		return 0;
	case 'I':
		if (!have(r, 2))
			return fail(r, at, "truncated int16");
		*out = (int16_t)rd_u16be(p);
		r->pos += 2;
		return 0;
	case 'l':
		if (!have(r, 4))
			return fail(r, at, "truncated int32");
		*out = rd_i32be(p);
		r->pos += 4;
		return 0;
	case 'L':
		if (!have(r, 8))
			return fail(r, at, "truncated int64");
		*out = (int64_t)rd_u64be(p);
		r->pos += 8;
		return 0;
	default:
		return fail(r, at ? at - 1 : 0, "expected an integer marker");
	}
}

/* A length: any integer marker, non-negative, and no larger than what is left of the buffer times `unit`. */
static int read_length(struct ubj_reader *r, size_t unit, uint64_t *out)
{
	if (!have(r, 1))
		return fail(r, r->pos, "truncated length");
	size_t at = r->pos;
	uint8_t m = r->buf[r->pos++];
	int64_t v = 0;
	if (read_int_payload(r, m, &v) < 0)
		return -1;
	if (v < 0)
		return fail(r, at, "negative length");
	if (unit && (uint64_t)v > (r->len - r->pos) / unit)
		return fail(r, at, "length runs past the end of the data");
	*out = (uint64_t)v;
	return 0;
}

static size_t fixed_size(uint8_t marker)
{
	switch (marker) {
	case 'Z':
	case 'N':
	case 'T':
	case 'F':
		return 0;
	case 'i':
	case 'U':
	case 'C':
		return 1;
	case 'I':
		return 2;
	case 'l':
	case 'd':
		return 4;
	case 'L':
	case 'D':
		return 8;
	default:
		return 0;
	}
}

static int push(struct ubj_reader *r, bool is_object, size_t at)
{
	if (r->depth >= UBJ_MAX_DEPTH)
		return fail(r, at, "nesting too deep");
	struct ubj_frame *f = &r->stack[r->depth];
	memset(f, 0, sizeof(*f));
	f->is_object = is_object;
	/* optional $type and #count */
	if (have(r, 1) && r->buf[r->pos] == '$') {
		r->pos++;
		if (!have(r, 1))
			return fail(r, r->pos, "truncated container type");
		f->elem_type = r->buf[r->pos++];
		if (!strchr("ZNTFiUCIlLdDS", f->elem_type) || f->elem_type == 0)
			return fail(r, r->pos - 1, "unsupported container element type");
		if (!have(r, 1) || r->buf[r->pos] != '#')
			return fail(r, r->pos, "typed container without a count");
	}
	if (have(r, 1) && r->buf[r->pos] == '#') {
		r->pos++;
		uint64_t count = 0;
		/* every element takes at least one byte unless typed as a zero-size constant */
		size_t unit = 1;
		if (f->elem_type && fixed_size(f->elem_type) == 0 && f->elem_type != 'S')
			unit = is_object ? 1 : 0;
		if (read_length(r, unit, &count) < 0)
			return -1;
		if (!unit && count > (1u << 20))
			return fail(r, at, "container count too large");
		f->counted = true;
		f->remaining = count;
	}
	r->depth++;
	return 0;
}

static int read_value_body(struct ubj_reader *r, uint8_t m, size_t at, struct ubj_value *v)
{
	v->offset = at;
	switch (m) {
	case 'Z':
		v->type = UBJ_NULL;
		return 1;
	case 'T':
	case 'F':
		v->type = UBJ_BOOL;
		v->b = m == 'T';
		return 1;
	case 'i':
	case 'U':
	case 'I':
	case 'l':
	case 'L':
		v->type = UBJ_INT;
		if (read_int_payload(r, m, &v->i) < 0)
			return -1;
		v->f = (double)v->i;
		return 1;
	case 'd': {
		if (!have(r, 4))
			return fail(r, at, "truncated float32");
		v->type = UBJ_FLOAT;
		v->f = rd_f32be(r->buf + r->pos);
		r->pos += 4;
		return 1;
	}
	case 'D': {
		if (!have(r, 8))
			return fail(r, at, "truncated float64");
		uint64_t u = rd_u64be(r->buf + r->pos);
		double d;
		memcpy(&d, &u, sizeof(d));
		v->type = UBJ_FLOAT;
		v->f = d;
		r->pos += 8;
		return 1;
	}
	case 'C':
		if (!have(r, 1))
			return fail(r, at, "truncated char");
		v->type = UBJ_STRING;
		v->str = r->buf + r->pos;
		v->str_len = 1;
		r->pos += 1;
		return 1;
	case 'S':
	case 'H': {
		uint64_t n = 0;
		if (read_length(r, 1, &n) < 0)
			return -1;
		v->type = UBJ_STRING;
		v->str = r->buf + r->pos;
		v->str_len = (size_t)n;
		r->pos += (size_t)n;
		return 1;
	}
	case '[':
		/* a typed uint8 array is returned whole, as a blob */
		if (have(r, 2) && r->buf[r->pos] == '$' && r->buf[r->pos + 1] == 'U') {
			size_t save = r->pos;
			r->pos += 2;
			if (have(r, 1) && r->buf[r->pos] == '#') {
				r->pos++;
				uint64_t n = 0;
				if (read_length(r, 1, &n) < 0)
					return -1;
				v->type = UBJ_BLOB;
				v->str = r->buf + r->pos;
				v->str_len = (size_t)n;
				r->pos += (size_t)n;
				return 1;
			}
			r->pos = save;
		}
		v->type = UBJ_ARRAY;
		return push(r, false, at) < 0 ? -1 : 1;
	case '{':
		v->type = UBJ_OBJECT;
		return push(r, true, at) < 0 ? -1 : 1;
	default:
		return fail(r, at, "unknown marker");
	}
}

int ubj_next(struct ubj_reader *r, struct ubj_value *v)
{
	memset(v, 0, sizeof(*v));
	struct ubj_frame *f = r->depth ? &r->stack[r->depth - 1] : NULL;
	if (f && f->counted && f->remaining == 0) {
		r->depth--;
		return 0;
	}
	/* skip no-ops between members */
	while (have(r, 1) && r->buf[r->pos] == 'N' && !(f && f->elem_type))
		r->pos++;
	/* members of a typed array of constants (`[$Z#3`) take no bytes at all */
	if (!(f && f->elem_type && !f->is_object) && !have(r, 1))
		return fail(r, r->pos, "unexpected end of data");
	if (f && !f->counted) {
		uint8_t end = f->is_object ? '}' : ']';
		if (r->buf[r->pos] == end) {
			r->pos++;
			r->depth--;
			return 0;
		}
	}
	if (f && f->is_object) {
		uint64_t n = 0;
		size_t at = r->pos;
		if (read_length(r, 1, &n) < 0)
			return fail(r, at, "bad object key");
		v->key = (const char *)(r->buf + r->pos);
		v->key_len = (size_t)n;
		r->pos += (size_t)n;
	}
	if (f && f->counted)
		f->remaining--;
	size_t at = r->pos;
	uint8_t m;
	if (f && f->elem_type) {
		m = f->elem_type;
	} else {
		if (!have(r, 1))
			return fail(r, r->pos, "missing value");
		m = r->buf[r->pos++];
	}
	return read_value_body(r, m, at, v);
}

int ubj_skip(struct ubj_reader *r)
{
	int target = r->depth - 1;
	struct ubj_value v;
	while (r->depth > target) {
		if (ubj_next(r, &v) < 0)
			return -1;
	}
	return 0;
}

bool ubj_key_is(const struct ubj_value *v, const char *key)
{
	size_t n = strlen(key);
	return v->key && v->key_len == n && memcmp(v->key, key, n) == 0;
}

static int to_json_value(struct ubj_reader *r, struct json_writer *jw, const struct ubj_value *v, const char *key,
			 size_t key_len)
{
	switch (v->type) {
	case UBJ_NULL:
		jw_key_n(jw, key, key_len);
		jw_raw(jw, "null");
		return 0;
	case UBJ_BOOL:
		jw_key_n(jw, key, key_len);
		jw_raw(jw, v->b ? "true" : "false");
		return 0;
	case UBJ_INT:
		jw_key_n(jw, key, key_len);
		jw_int_value(jw, v->i);
		return 0;
	case UBJ_FLOAT:
		jw_key_n(jw, key, key_len);
		jw_double_value(jw, v->f, 6);
		return 0;
	case UBJ_STRING:
		jw_key_n(jw, key, key_len);
		jw_string_value(jw, (const char *)v->str, v->str_len);
		return 0;
	case UBJ_BLOB:
		if (key)
			jw_key_n(jw, key, key_len); /* without a key, the array's begin writes the comma */
		jw_array_begin(jw, NULL);
		for (size_t i = 0; i < v->str_len; i++)
			jw_int(jw, NULL, v->str[i]);
		jw_array_end(jw);
		return 0;
	case UBJ_ARRAY:
	case UBJ_OBJECT: {
		bool obj = v->type == UBJ_OBJECT;
		if (key)
			jw_key_n(jw, key, key_len); /* without a key, the container's begin writes the comma */
		if (obj)
			jw_object_begin(jw, NULL);
		else
			jw_array_begin(jw, NULL);
		struct ubj_value child;
		int rc;
		while ((rc = ubj_next(r, &child)) > 0) {
			if (to_json_value(r, jw, &child, child.key, child.key_len) < 0)
				return -1;
		}
		if (rc < 0)
			return -1;
		if (obj)
			jw_object_end(jw);
		else
			jw_array_end(jw);
		return 0;
	}
	default:
		return -1;
	}
}

int ubj_to_json(const uint8_t *buf, size_t len, struct bytes *out, char *err, size_t err_size)
{
	struct ubj_reader r;
	struct ubj_value v;
	struct json_writer jw;
	ubj_reader_init(&r, buf, len);
	jw_init(&jw, out);
	int rc = ubj_next(&r, &v);
	if (rc > 0)
		rc = to_json_value(&r, &jw, &v, NULL, 0);
	else if (rc == 0)
		rc = -1;
	if (rc < 0 && err && err_size)
		snprintf(err, err_size, "%s", r.error[0] ? r.error : "UBJSON: empty value");
	if (rc == 0 && !jw.ok) {
		if (err && err_size)
			snprintf(err, err_size, "out of memory converting UBJSON to JSON");
		rc = -1;
	}
	return rc < 0 ? -1 : 0;
}

/* ---- writer ---- */

void ubj_writer_init(struct ubj_writer *w, struct bytes *out, bool lengths_as_u8)
{
	w->out = out;
	w->lengths_as_u8 = lengths_as_u8;
	w->ok = true;
}

static void put(struct ubj_writer *w, const void *data, size_t len)
{
	if (w->ok && !bytes_append(w->out, data, len))
		w->ok = false;
}

static void put_byte(struct ubj_writer *w, uint8_t b)
{
	put(w, &b, 1);
}

void ubj_w_int(struct ubj_writer *w, int64_t v)
{
	uint8_t p[9];
	if (v >= -128 && v <= 127) {
		p[0] = 'i';
		p[1] = (uint8_t)(int8_t)v;
		put(w, p, 2);
	} else if (v >= 0 && v <= 255) {
		p[0] = 'U';
		p[1] = (uint8_t)v;
		put(w, p, 2);
	} else if (v >= -32768 && v <= 32767) {
		p[0] = 'I';
		p[1] = (uint8_t)((uint16_t)v >> 8);
		p[2] = (uint8_t)v;
		put(w, p, 3);
	} else if (v >= INT32_MIN && v <= INT32_MAX) {
		p[0] = 'l';
		wr_u32be(p + 1, (uint32_t)(int32_t)v);
		put(w, p, 5);
	} else {
		p[0] = 'L';
		wr_u64be(p + 1, (uint64_t)v);
		put(w, p, 9);
	}
}

static void put_length(struct ubj_writer *w, size_t n)
{
	if (w->lengths_as_u8 && n < 256) {
		uint8_t p[2] = {'U', (uint8_t)n};
		put(w, p, 2);
		return;
	}
	ubj_w_int(w, (int64_t)n);
}

void ubj_w_object_begin(struct ubj_writer *w)
{
	put_byte(w, '{');
}

void ubj_w_object_end(struct ubj_writer *w)
{
	put_byte(w, '}');
}

void ubj_w_key(struct ubj_writer *w, const char *key)
{
	size_t n = strlen(key);
	put_length(w, n);
	put(w, key, n);
}

void ubj_w_string(struct ubj_writer *w, const char *s, size_t len)
{
	put_byte(w, 'S');
	put_length(w, len);
	put(w, s, len);
}

void ubj_w_uint8(struct ubj_writer *w, uint8_t v)
{
	uint8_t p[2] = {'U', v};
	put(w, p, 2);
}

void ubj_w_int32(struct ubj_writer *w, int32_t v)
{
	uint8_t p[5] = {'l'};
	wr_u32be(p + 1, (uint32_t)v);
	put(w, p, 5);
}

void ubj_w_bool(struct ubj_writer *w, bool v)
{
	put_byte(w, v ? 'T' : 'F');
}

size_t ubj_w_blob_reserve(struct ubj_writer *w, size_t len)
{
	put(w, "[$U#", 4);
	put_length(w, len);
	if (w->ok && !bytes_reserve(w->out, len))
		w->ok = false;
	if (!w->ok)
		return SIZE_MAX;
	size_t at = w->out->len;
	memset(w->out->data + at, 0, len);
	w->out->len += len;
	return at;
}

void ubj_w_blob(struct ubj_writer *w, const uint8_t *data, size_t len)
{
	size_t at = ubj_w_blob_reserve(w, len);
	if (at != SIZE_MAX && len)
		memcpy(w->out->data + at, data, len);
}
