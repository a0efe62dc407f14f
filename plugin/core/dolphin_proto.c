/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "dolphin_proto.h"
#include "base64.h"
#include "json_reader.h"
#include "json_writer.h"

#include <stdio.h>
#include <string.h>

static const char *const type_names[] = {
	[DOLPHIN_MSG_UNKNOWN] = "unknown",
	[DOLPHIN_MSG_CONNECT_REQUEST] = "connect_request",
	[DOLPHIN_MSG_CONNECT_REPLY] = "connect_reply",
	[DOLPHIN_MSG_START_GAME] = "start_game",
	[DOLPHIN_MSG_GAME_EVENT] = "game_event",
	[DOLPHIN_MSG_END_GAME] = "end_game",
	[DOLPHIN_MSG_MENU_EVENT] = "menu_event",
};

const char *dolphin_msg_type_name(enum dolphin_msg_type type)
{
	if ((unsigned)type < sizeof(type_names) / sizeof(type_names[0]))
		return type_names[type];
	return "unknown";
}

static void payload_value(struct json_writer *jw, const struct dolphin_msg *msg)
{
	jw_key_n(jw, "payload", 7);
	jw_raw_n(jw, "\"", 1);
	if (jw->ok && !base64_append(jw->out, msg->payload, msg->payload_len))
		jw->ok = false;
	jw_raw_n(jw, "\"", 1);
}

bool dolphin_msg_encode(const struct dolphin_msg *msg, struct bytes *out)
{
	struct json_writer jw;
	jw_init(&jw, out);
	size_t start = out->len;
	jw_object_begin(&jw, NULL);
	switch (msg->type) {
	case DOLPHIN_MSG_CONNECT_REQUEST:
		jw_int(&jw, "cursor", msg->cursor);
		jw_string(&jw, "type", "connect_request");
		break;
	case DOLPHIN_MSG_CONNECT_REPLY:
		jw_int(&jw, "cursor", msg->cursor);
		jw_string(&jw, "nick", msg->nick);
		jw_string(&jw, "type", "connect_reply");
		jw_string(&jw, "version", msg->version);
		break;
	case DOLPHIN_MSG_START_GAME:
		jw_int(&jw, "cursor", msg->cursor);
		jw_int(&jw, "next_cursor", msg->next_cursor);
		jw_string(&jw, "type", "start_game");
		break;
	case DOLPHIN_MSG_GAME_EVENT:
		jw_int(&jw, "cursor", msg->cursor);
		jw_int(&jw, "next_cursor", msg->next_cursor);
		payload_value(&jw, msg);
		jw_string(&jw, "type", "game_event");
		break;
	case DOLPHIN_MSG_END_GAME:
		jw_int(&jw, "cursor", msg->cursor);
		jw_bool(&jw, "dolphin_closed", msg->dolphin_closed);
		jw_int(&jw, "next_cursor", msg->next_cursor);
		jw_string(&jw, "type", "end_game");
		break;
	case DOLPHIN_MSG_MENU_EVENT:
		payload_value(&jw, msg);
		jw_string(&jw, "type", "menu_event");
		break;
	default:
		jw.ok = false;
	}
	jw_object_end(&jw);
	if (!jw.ok)
		out->len = start;
	return jw.ok;
}

static int need_cursor(const struct json_doc *doc, const struct json_node *root, const char *key, uint32_t *out,
		       const char *type, char *err, size_t err_size)
{
	const struct json_node *n = json_get(doc, root, key);
	if (!n) {
		snprintf(err, err_size, "%s without '%s'", type, key);
		return -1;
	}
	if (n->type != JSON_INT || n->i < 0 || n->i > UINT32_MAX) {
		snprintf(err, err_size, "%s '%s' is not an integer in 0..%u", type, key, UINT32_MAX);
		return -1;
	}
	*out = (uint32_t)n->i;
	return 0;
}

static int need_text(const struct json_doc *doc, const struct json_node *root, const char *key, char *out,
		     size_t out_size, const char *type, char *err, size_t err_size)
{
	const struct json_node *n = json_get(doc, root, key);
	if (!n) {
		snprintf(err, err_size, "%s without '%s'", type, key);
		return -1;
	}
	if (n->type != JSON_STRING || n->str_len >= out_size || memchr(n->str, 0, n->str_len)) {
		snprintf(err, err_size, "%s '%s' is not a string of at most %zu bytes", type, key, out_size - 1);
		return -1;
	}
	memcpy(out, n->str, n->str_len + 1);
	return 0;
}

static int need_payload(const struct json_doc *doc, const struct json_node *root, struct dolphin_msg *msg,
			struct bytes *payload, const char *type, char *err, size_t err_size)
{
	const struct json_node *n = json_get(doc, root, "payload");
	if (!n || n->type != JSON_STRING) {
		snprintf(err, err_size, "%s %s", type, n ? "'payload' is not a string" : "without 'payload'");
		return -1;
	}
	size_t max = base64_decoded_max(n->str_len);
	if (max > DOLPHIN_PAYLOAD_MAX_BYTES) {
		snprintf(err, err_size, "%s payload of about %zu bytes is over the %u-byte limit", type, max,
			 DOLPHIN_PAYLOAD_MAX_BYTES);
		return -1;
	}
	bytes_clear(payload);
	if (!bytes_reserve(payload, max + 1)) {
		snprintf(err, err_size, "out of memory for a %zu-byte payload", max);
		return -1;
	}
	size_t bad = 0;
	ptrdiff_t got = base64_decode(n->str, n->str_len, payload->data, max, &bad);
	if (got < 0) {
		snprintf(err, err_size, "%s payload is not valid base64 (at character %zu of %zu)", type, bad,
			 n->str_len);
		return -1;
	}
	payload->len = (size_t)got;
	msg->payload = payload->data;
	msg->payload_len = payload->len;
	return 0;
}

int dolphin_msg_decode(const uint8_t *packet, size_t len, struct dolphin_msg *msg, struct bytes *payload, char *err,
		       size_t err_size)
{
	memset(msg, 0, sizeof(*msg));
	if (len > DOLPHIN_MESSAGE_MAX_BYTES) {
		snprintf(err, err_size, "message of %zu bytes is over the %u-byte limit", len,
			 DOLPHIN_MESSAGE_MAX_BYTES);
		return -1;
	}
	struct json_limits lim = {
		.max_input_bytes = DOLPHIN_MESSAGE_MAX_BYTES,
		.max_nodes = 64,
		.max_depth = 8,
		.max_string_bytes = DOLPHIN_MESSAGE_MAX_BYTES,
	};
	struct json_doc doc;
	int rc = -1;
	if (json_parse(&doc, (const char *)packet, len, &lim) < 0) {
		snprintf(err, err_size, "invalid JSON: %s", doc.error);
		goto out;
	}
	const struct json_node *root = json_root(&doc);
	if (root->type != JSON_OBJECT) {
		snprintf(err, err_size, "message is a JSON %s, not an object", json_type_name(root->type));
		goto out;
	}
	const struct json_node *closed = json_get(&doc, root, "dolphin_closed");
	if (closed) {
		if (closed->type != JSON_BOOL) {
			snprintf(err, err_size, "'dolphin_closed' is not a boolean");
			goto out;
		}
		msg->dolphin_closed = closed->b;
	}
	const struct json_node *type = json_get(&doc, root, "type");
	if (!type) {
		if (msg->dolphin_closed) {
			/* the old close notice, a bare {"dolphin_closed":true} */
			rc = 0;
			goto out;
		}
		snprintf(err, err_size, "message without 'type'");
		goto out;
	}
	if (type->type != JSON_STRING) {
		snprintf(err, err_size, "'type' is not a string");
		goto out;
	}
	snprintf(msg->type_name, sizeof(msg->type_name), "%.*s", (int)strnlen(type->str, type->str_len), type->str);
	for (unsigned t = DOLPHIN_MSG_CONNECT_REQUEST; t <= DOLPHIN_MSG_MENU_EVENT; t++)
		if (strlen(type_names[t]) == type->str_len && !memcmp(type_names[t], type->str, type->str_len))
			msg->type = (enum dolphin_msg_type)t;
	const char *tn = dolphin_msg_type_name(msg->type);
	switch (msg->type) {
	case DOLPHIN_MSG_UNKNOWN:
		rc = 0;
		break;
	case DOLPHIN_MSG_CONNECT_REQUEST:
		rc = need_cursor(&doc, root, "cursor", &msg->cursor, tn, err, err_size);
		break;
	case DOLPHIN_MSG_CONNECT_REPLY:
		if (need_cursor(&doc, root, "cursor", &msg->cursor, tn, err, err_size) < 0 ||
		    need_text(&doc, root, "nick", msg->nick, sizeof(msg->nick), tn, err, err_size) < 0 ||
		    need_text(&doc, root, "version", msg->version, sizeof(msg->version), tn, err, err_size) < 0)
			break;
		rc = 0;
		break;
	case DOLPHIN_MSG_START_GAME:
	case DOLPHIN_MSG_END_GAME:
	case DOLPHIN_MSG_GAME_EVENT:
		if (need_cursor(&doc, root, "cursor", &msg->cursor, tn, err, err_size) < 0 ||
		    need_cursor(&doc, root, "next_cursor", &msg->next_cursor, tn, err, err_size) < 0)
			break;
		if (msg->type == DOLPHIN_MSG_GAME_EVENT &&
		    need_payload(&doc, root, msg, payload, tn, err, err_size) < 0)
			break;
		rc = 0;
		break;
	case DOLPHIN_MSG_MENU_EVENT:
		rc = need_payload(&doc, root, msg, payload, tn, err, err_size);
		break;
	}
out:
	json_doc_free(&doc);
	return rc;
}
