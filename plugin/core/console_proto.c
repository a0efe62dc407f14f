/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "console_proto.h"
#include "ubjson.h"

#include <stdio.h>
#include <string.h>

/* slippi-js genHandshakeOut through @shelacek/ubjson: 4-byte length, then 79 bytes of UBJSON (§1.6). */
static const uint8_t handshake_template[CONSOLE_HANDSHAKE_BYTES] = {
	0x00, 0x00, 0x00, 0x4F, '{', 'i', 0x04, 't',  'y', 'p', 'e', 'i', 0x01, 'i', 0x07, 'p', 'a',
	'y',  'l',  'o',  'a',  'd', '{', 'i',  0x06, 'c', 'u', 'r', 's', 'o',  'r', '[',  '$', 'U',
	'#',  'i',  0x08, 0,    0,   0,   0,    0,    0,   0,   0,   'i', 0x0B, 'c', 'l',  'i', 'e',
	'n',  't',  'T',  'o',  'k', 'e', 'n',  '[',  '$', 'U', '#', 'i', 0x04, 0,   0,    0,   0,
	'i',  0x0A, 'i',  's',  'R', 'e', 'a',  'l',  't', 'i', 'm', 'e', 'F',  '}', '}',
};
#define HS_CURSOR_AT 37
#define HS_TOKEN_AT 64
#define HS_REALTIME_AT 80

void console_handshake_encode(uint8_t out[CONSOLE_HANDSHAKE_BYTES], uint64_t cursor, uint32_t token, bool realtime)
{
	memcpy(out, handshake_template, CONSOLE_HANDSHAKE_BYTES);
	wr_u64be(out + HS_CURSOR_AT, cursor);
	wr_u32be(out + HS_TOKEN_AT, token);
	out[HS_REALTIME_AT] = realtime ? 'T' : 'F';
}

int console_hello_decode(const uint8_t *body, size_t len, struct console_hello *out, char *err, size_t err_size)
{
	memset(out, 0, sizeof(*out));
	/* Nintendont's checks (getClientMessage): body > 8 bytes, <= 1024, body[8] == 1; then fixed offsets */
	if (len > CONSOLE_HANDSHAKE_MAX_BODY_BYTES) {
		snprintf(err, err_size, "client handshake of %zu bytes is above %u", len,
			 CONSOLE_HANDSHAKE_MAX_BODY_BYTES);
		return -1;
	}
	if (len < CONSOLE_HANDSHAKE_BYTES - 4) {
		snprintf(err, err_size, "client handshake of %zu bytes is shorter than 79", len);
		return -1;
	}
	out->type = body[8];
	if (out->type != CONSOLE_MSG_HANDSHAKE) {
		snprintf(err, err_size, "client message type %u is not a handshake", out->type);
		return -1;
	}
	out->cursor = rd_u64be(body + HS_CURSOR_AT - 4);
	out->token = rd_u32be(body + HS_TOKEN_AT - 4);
	out->realtime = body[HS_REALTIME_AT - 4] == 'T';
	return 0;
}

/* --- framer --- */

void console_framer_init(struct console_framer *f, size_t max_frame_bytes)
{
	memset(f, 0, sizeof(*f));
	f->max_frame_bytes = max_frame_bytes ? max_frame_bytes : CONSOLE_FRAME_MAX_BYTES;
	bytes_init(&f->buf, f->max_frame_bytes + 4);
}

void console_framer_free(struct console_framer *f)
{
	bytes_free(&f->buf);
}

void console_framer_reset(struct console_framer *f)
{
	bytes_clear(&f->buf);
	f->failed = false;
	f->error[0] = 0;
}

static int check_length(struct console_framer *f, uint32_t n)
{
	if (n > f->max_frame_bytes) {
		snprintf(f->error, sizeof(f->error), "frame length %u is above the limit of %zu bytes", n,
			 f->max_frame_bytes);
		f->failed = true;
		return -1;
	}
	return 0;
}

int console_framer_feed(struct console_framer *f, const uint8_t *data, size_t len, console_frame_fn fn, void *ud)
{
	if (f->failed)
		return -1;
	/* first complete a frame carried over from an earlier chunk */
	while (f->buf.len && len) {
		size_t want;
		if (f->buf.len < 4) {
			want = 4 - f->buf.len;
		} else {
			if (check_length(f, rd_u32be(f->buf.data)) < 0)
				return -1;
			want = 4 + (size_t)rd_u32be(f->buf.data) - f->buf.len;
		}
		size_t take = want < len ? want : len;
		if (!bytes_append(&f->buf, data, take)) {
			snprintf(f->error, sizeof(f->error), "out of memory for a frame");
			f->failed = true;
			return -1;
		}
		data += take;
		len -= take;
		if (f->buf.len < 4)
			return 0;
		uint32_t n = rd_u32be(f->buf.data);
		if (check_length(f, n) < 0)
			return -1;
		if (f->buf.len == 4 + (size_t)n) {
			f->frames++;
			bytes_clear(&f->buf);
			/* the buffer is not touched again before fn returns */
			int rc = fn ? fn(ud, f->buf.data + 4, n) : 0;
			if (rc)
				return rc;
		}
	}
	/* whole frames straight from the chunk */
	while (len >= 4) {
		uint32_t n = rd_u32be(data);
		if (check_length(f, n) < 0)
			return -1;
		if (len - 4 < n)
			break;
		f->frames++;
		int rc = fn ? fn(ud, data + 4, n) : 0;
		data += 4 + (size_t)n;
		len -= 4 + (size_t)n;
		if (rc)
			return rc;
	}
	if (len && !bytes_append(&f->buf, data, len)) {
		snprintf(f->error, sizeof(f->error), "out of memory for a frame");
		f->failed = true;
		return -1;
	}
	return 0;
}

/* --- message decoding --- */

struct fields {
	bool have_type, have_nick, have_version, have_token, have_pos, have_next, have_force, have_data;
};

static int blob_field(const struct ubj_value *v, size_t want, const char *name, char *err, size_t err_size)
{
	if (v->type != UBJ_BLOB || (want && v->str_len != want)) {
		snprintf(err, err_size, "%s is not a %zu-byte array (at byte %zu)", name, want, v->offset);
		return -1;
	}
	return 0;
}

static int decode_payload(struct ubj_reader *r, struct console_msg *m, struct fields *f, char *err, size_t err_size)
{
	struct ubj_value v;
	int rc;
	while ((rc = ubj_next(r, &v)) > 0) {
		if (ubj_key_is(&v, "nick") || ubj_key_is(&v, "nintendontVersion")) {
			bool nick = ubj_key_is(&v, "nick");
			if (v.type != UBJ_STRING) {
				snprintf(err, err_size, "%s is not a string (at byte %zu)",
					 nick ? "nick" : "nintendontVersion", v.offset);
				return -1;
			}
			if (nick) {
				m->nick = (const char *)v.str;
				m->nick_len = v.str_len;
				f->have_nick = true;
			} else {
				m->version = (const char *)v.str;
				m->version_len = v.str_len;
				f->have_version = true;
			}
		} else if (ubj_key_is(&v, "clientToken")) {
			if (blob_field(&v, 4, "clientToken", err, err_size) < 0)
				return -1;
			m->token = rd_u32be(v.str);
			f->have_token = true;
		} else if (ubj_key_is(&v, "pos") || ubj_key_is(&v, "nextPos")) {
			bool pos = ubj_key_is(&v, "pos");
			if (blob_field(&v, 8, pos ? "pos" : "nextPos", err, err_size) < 0)
				return -1;
			if (pos) {
				m->pos = rd_u64be(v.str);
				f->have_pos = true;
			} else {
				m->next_pos = rd_u64be(v.str);
				f->have_next = true;
			}
		} else if (ubj_key_is(&v, "forcePos")) {
			if (v.type != UBJ_BOOL) {
				snprintf(err, err_size, "forcePos is not a boolean (at byte %zu)", v.offset);
				return -1;
			}
			m->force_pos = v.b;
			f->have_force = true;
		} else if (ubj_key_is(&v, "data")) {
			if (blob_field(&v, 0, "data", err, err_size) < 0)
				return -1;
			m->data = v.str;
			m->data_len = v.str_len;
			f->have_data = true;
		} else if (v.type == UBJ_ARRAY || v.type == UBJ_OBJECT) {
			if (ubj_skip(r) < 0)
				break;
		}
	}
	if (rc < 0) {
		snprintf(err, err_size, "%s", r->error);
		return -1;
	}
	return 0;
}

int console_msg_decode(const uint8_t *body, size_t len, struct console_msg *m, char *err, size_t err_size)
{
	memset(m, 0, sizeof(*m));
	struct fields f = {0};
	struct ubj_reader r;
	struct ubj_value v;
	ubj_reader_init(&r, body, len);
	int rc = ubj_next(&r, &v);
	if (rc <= 0 || v.type != UBJ_OBJECT) {
		snprintf(err, err_size, "%s", rc < 0 ? r.error : "message is not a UBJSON object");
		return -1;
	}
	while ((rc = ubj_next(&r, &v)) > 0) {
		if (ubj_key_is(&v, "type")) {
			if (v.type != UBJ_INT) {
				snprintf(err, err_size, "type is not an integer (at byte %zu)", v.offset);
				return -1;
			}
			m->type = v.i;
			f.have_type = true;
		} else if (ubj_key_is(&v, "payload")) {
			if (v.type == UBJ_OBJECT) {
				if (decode_payload(&r, m, &f, err, err_size) < 0)
					return -1;
			} else if (v.type == UBJ_ARRAY && ubj_skip(&r) < 0) {
				break;
			}
		} else if (v.type == UBJ_ARRAY || v.type == UBJ_OBJECT) {
			if (ubj_skip(&r) < 0)
				break;
		}
	}
	if (rc < 0) {
		snprintf(err, err_size, "%s", r.error);
		return -1;
	}
	if (r.pos != len) {
		snprintf(err, err_size, "%zu bytes after the message object", len - r.pos);
		return -1;
	}
	if (!f.have_type) {
		snprintf(err, err_size, "message has no type");
		return -1;
	}
	if (m->type == CONSOLE_MSG_HANDSHAKE) {
		if (!f.have_token || !f.have_pos) {
			snprintf(err, err_size, "handshake reply without %s", f.have_token ? "pos" : "clientToken");
			return -1;
		}
	} else if (m->type == CONSOLE_MSG_REPLAY) {
		if (!f.have_pos || !f.have_next || !f.have_data) {
			snprintf(err, err_size, "REPLAY message without %s",
				 !f.have_pos    ? "pos"
				 : !f.have_next ? "nextPos"
						: "data");
			return -1;
		}
		if (m->next_pos - m->pos != m->data_len || m->next_pos < m->pos) {
			snprintf(err, err_size, "REPLAY nextPos - pos = %llu differs from its %zu data bytes",
				 (unsigned long long)(m->next_pos - m->pos), m->data_len);
			return -1;
		}
	}
	return 0;
}

/* --- the console's side --- */

static bool frame_begin(struct bytes *out, size_t *at)
{
	*at = out->len;
	return bytes_append_u32be(out, 0);
}

static bool frame_end(struct bytes *out, size_t at, bool ok)
{
	if (!ok) {
		out->len = at;
		return false;
	}
	wr_u32be(out->data + at, (uint32_t)(out->len - at - 4));
	return true;
}

bool console_reply_encode(struct bytes *out, const char *nick, const char *version, uint32_t token, uint64_t pos)
{
	size_t at;
	if (!frame_begin(out, &at))
		return false;
	uint8_t tok[4], cur[8];
	wr_u32be(tok, token);
	wr_u64be(cur, pos);
	struct ubj_writer w;
	ubj_writer_init(&w, out, false);
	ubj_w_object_begin(&w);
	ubj_w_key(&w, "type");
	ubj_w_uint8(&w, CONSOLE_MSG_HANDSHAKE); /* `U 01`: slippi-js's NORMAL-mode test needs U, not i */
	ubj_w_key(&w, "payload");
	ubj_w_object_begin(&w);
	ubj_w_key(&w, "nick");
	size_t nick_len = strnlen(nick ? nick : "", CONSOLE_NICK_MAX);
	ubj_w_string(&w, nick ? nick : "", nick_len);
	ubj_w_key(&w, "nintendontVersion");
	ubj_w_string(&w, version ? version : "", strnlen(version ? version : "", 100));
	ubj_w_key(&w, "clientToken");
	ubj_w_blob(&w, tok, 4);
	ubj_w_key(&w, "pos");
	ubj_w_blob(&w, cur, 8);
	ubj_w_object_end(&w);
	ubj_w_object_end(&w);
	return frame_end(out, at, w.ok);
}

bool console_replay_encode_reserve(struct bytes *out, uint64_t pos, bool force_pos, size_t len, size_t *data_offset)
{
	size_t at;
	if (!frame_begin(out, &at))
		return false;
	uint8_t p[8], n[8];
	wr_u64be(p, pos);
	wr_u64be(n, pos + len);
	struct ubj_writer w;
	ubj_writer_init(&w, out, false);
	ubj_w_object_begin(&w);
	ubj_w_key(&w, "type");
	ubj_w_uint8(&w, CONSOLE_MSG_REPLAY);
	ubj_w_key(&w, "payload");
	ubj_w_object_begin(&w);
	ubj_w_key(&w, "pos");
	ubj_w_blob(&w, p, 8);
	ubj_w_key(&w, "nextPos");
	ubj_w_blob(&w, n, 8);
	ubj_w_key(&w, "forcePos");
	ubj_w_bool(&w, force_pos);
	ubj_w_key(&w, "data");
	*data_offset = ubj_w_blob_reserve(&w, len);
	ubj_w_object_end(&w);
	ubj_w_object_end(&w);
	return frame_end(out, at, w.ok);
}

bool console_replay_encode(struct bytes *out, uint64_t pos, bool force_pos, const uint8_t *data, size_t len)
{
	size_t data_offset;
	if (!console_replay_encode_reserve(out, pos, force_pos, len, &data_offset))
		return false;
	if (len)
		memcpy(out->data + data_offset, data, len);
	return true;
}

static const uint8_t keepalive_bytes[CONSOLE_KEEPALIVE_BYTES] = {0x00, 0x00, 0x00, 0x0A, 0x7B, 0x69, 0x04,
								 0x74, 0x79, 0x70, 0x65, 0x55, 0x03, 0x7D};

bool console_keepalive_encode(struct bytes *out)
{
	return bytes_append(out, keepalive_bytes, sizeof(keepalive_bytes));
}

static const uint8_t reply_signature[9] = {0x7B, 0x69, 0x04, 't', 'y', 'p', 'e', 0x55, 0x01};

enum console_mode console_detect_mode(const uint8_t *first, size_t len)
{
	for (size_t i = 4; i < len && i < 13; i++) {
		if (first[i] != reply_signature[i - 4])
			return CONSOLE_MODE_RAW;
	}
	/* a frame length starts with 0x00 (frames are far below 16 MiB); raw events never start with it */
	if (len && first[0] != 0x00)
		return CONSOLE_MODE_RAW;
	return len >= 13 ? CONSOLE_MODE_NORMAL : CONSOLE_MODE_UNKNOWN;
}

/* The state a seed of 0 stands for (any non-zero value would do; this one is 2^64 over the golden ratio). */
#define TOKEN_SEED_FOR_ZERO 0x9E3779B97F4A7C15ull

uint32_t console_token_next(uint64_t *rng)
{
	if (!*rng)
		*rng = TOKEN_SEED_FOR_ZERO; /* xorshift maps 0 to 0: it would never yield a token */
	uint32_t t;
	do {
		*rng ^= *rng >> 12;
		*rng ^= *rng << 25;
		*rng ^= *rng >> 27;
		t = (uint32_t)((*rng * 0x2545F4914F6CDD1Dull) >> 32);
	} while (t == 0); /* 0 means "no token" to the protocol */
	return t;
}
