/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "source.h"
#include "json_writer.h"

#include <stdio.h>
#include <string.h>

/* The registry of source kinds; each lives in its own source_*.c file. */
static const struct source_kind *const kinds[] = {
	&source_kind_file,
	&source_kind_console,
	&source_kind_relay,
	&source_kind_dolphin,
};

struct source *source_create(struct net_loop *loop, const char *url, const struct source_options *opts,
			     const struct source_callbacks *cb, char *err, size_t err_size)
{
	const char *sep = strstr(url, "://");
	if (!sep) {
		return source_kind_file.create(loop, url, opts, cb, err, err_size);
	}
	size_t scheme_len = (size_t)(sep - url);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		const char *s = kinds[i]->scheme;
		if (s && strlen(s) == scheme_len && !strncmp(s, url, scheme_len))
			return kinds[i]->create(loop, sep + 3, opts, cb, err, err_size);
	}
	snprintf(
		err, err_size,
		"unknown source '%.*s://': use a .slp file, console://HOST[:PORT], dolphin://HOST[:PORT] or relay://HOST:PORT",
		(int)scheme_len, url);
	return NULL;
}

void source_destroy(struct source *src)
{
	if (src)
		src->kind->destroy(src);
}

const char *source_nick(const struct source *src)
{
	const char *nick = src && src->kind->nick ? src->kind->nick(src) : NULL;
	return nick ? nick : "";
}

uint64_t source_retry_at_ms(const struct source *src)
{
	return src && src->kind->retry_at_ms ? src->kind->retry_at_ms(src) : 0;
}

const char *source_state_name(enum source_state state)
{
	switch (state) {
	case SOURCE_CONNECTING:
		return "connecting";
	case SOURCE_CONNECTED:
		return "connected";
	case SOURCE_WAITING:
		return "waiting";
	default:
		return "disconnected";
	}
}

bool source_state_event_json(struct bytes *out, const char *url, enum source_state state, const char *reason)
{
	struct json_writer jw;
	jw_init(&jw, out);
	jw_object_begin(&jw, NULL);
	jw_string(&jw, "type", "connection");
	jw_string(&jw, "source", url);
	jw_string(&jw, "state", source_state_name(state));
	if (reason && *reason)
		jw_string(&jw, "reason", reason);
	else
		jw_null(&jw, "reason");
	jw_object_end(&jw);
	return jw.ok;
}

bool source_gap_event_json(struct bytes *out, const char *url, uint64_t from_byte, uint64_t to_byte, const char *reason)
{
	struct json_writer jw;
	jw_init(&jw, out);
	jw_object_begin(&jw, NULL);
	jw_string(&jw, "type", "gap");
	jw_string(&jw, "source", url);
	jw_int(&jw, "fromByte", (int64_t)from_byte);
	jw_int(&jw, "toByte", (int64_t)to_byte);
	jw_int(&jw, "lostBytes", (int64_t)(to_byte - from_byte));
	jw_string(&jw, "reason", reason ? reason : "");
	jw_object_end(&jw);
	return jw.ok;
}
