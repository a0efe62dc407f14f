/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "overlay_text.h"

#include "melee_names.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void overlay_text_input_init(struct overlay_text_input *in)
{
	memset(in, 0, sizeof(*in));
	for (int i = 0; i < SLP_MAX_PLAYERS; i++)
		in->scores[i] = -1;
}

/* ports[n - 1]: the port pN shows, 0 for none. Pins first, then the other slots in port order. */
static void map_ports(const struct overlay_text_input *in, unsigned ports[SLP_MAX_PLAYERS])
{
	memset(ports, 0, SLP_MAX_PLAYERS * sizeof(ports[0]));
	const struct game_snapshot *g = in->game;
	if (!g)
		return;
	bool pinned[SLP_MAX_PLAYERS + 1] = {false};
	for (int n = 0; n < SLP_MAX_PLAYERS; n++) {
		unsigned pin = in->pins[n];
		if (pin >= 1 && pin <= SLP_MAX_PLAYERS) {
			pinned[pin] = true;
			ports[n] = g->players[pin - 1].present ? pin : 0;
		}
	}
	unsigned next = 1;
	for (int n = 0; n < SLP_MAX_PLAYERS; n++) {
		if (in->pins[n] >= 1 && in->pins[n] <= SLP_MAX_PLAYERS)
			continue;
		while (next <= SLP_MAX_PLAYERS && (pinned[next] || !g->players[next - 1].present))
			next++;
		if (next <= SLP_MAX_PLAYERS)
			ports[n] = next++;
	}
}

unsigned overlay_text_port_of(const struct overlay_text_input *in, unsigned n)
{
	unsigned ports[SLP_MAX_PLAYERS];
	if (n < 1 || n > SLP_MAX_PLAYERS)
		return 0;
	map_ports(in, ports);
	return ports[n - 1];
}

void overlay_text_timer(const struct game_snapshot *g, char *out, size_t out_size)
{
	int64_t frames;
	if (g->timer_seconds)
		frames =
			g->timer_remaining_frames; /* the game shows 7:59.98 one frame in: whole seconds cut, not rounded */
	else
		frames = g->has_frame && g->frame > 0 ? g->frame : 0;
	int64_t seconds = frames / 60;
	snprintf(out, out_size, "%lld:%02lld", (long long)(seconds / 60), (long long)(seconds % 60));
}

struct writer {
	char *buf;
	size_t cap; /* bytes for text: out_size - 1 */
	size_t len;
};

/* Appends s[0..n), cut before the first UTF-8 character that does not fit. */
static void put_n(struct writer *w, const char *s, size_t n)
{
	size_t room = w->cap - w->len;
	if (n > room) {
		n = room;
		/* back off to the start of the character that was cut (continuation bytes are 10xxxxxx) */
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static void put(struct writer *w, const char *s)
{
	if (s)
		put_n(w, s, strlen(s));
}

static void put_uint(struct writer *w, unsigned long long v)
{
	char num[24];
	snprintf(num, sizeof(num), "%llu", v);
	put(w, num);
}

/* A player's field; false when `field` is none. */
static bool put_player(struct writer *w, const struct overlay_text_input *in, const struct game_player_snapshot *p,
		       const char *field)
{
	const char *character = p ? melee_character_name(p->character_id) : NULL;
	if (!strcmp(field, "name")) {
		if (p)
			put(w, p->display_name[0]   ? p->display_name
			       : p->nametag[0]      ? p->nametag
			       : p->connect_code[0] ? p->connect_code
						    : character);
	} else if (!strcmp(field, "code")) {
		if (p)
			put(w, p->connect_code);
	} else if (!strcmp(field, "character")) {
		put(w, character);
	} else if (!strcmp(field, "stocks")) {
		if (p)
			put_uint(w, p->stocks_remaining);
	} else if (!strcmp(field, "percent")) {
		/* the game shows whole percent, cut: 57.9% shows as 57% */
		if (p)
			put_uint(w,
				 isfinite(p->percent) && p->percent > 0 ? (unsigned long long)floorf(p->percent) : 0);
	} else if (!strcmp(field, "port")) {
		if (p)
			put_uint(w, p->port);
	} else if (!strcmp(field, "score")) {
		if (p && in->scores[p->port - 1] >= 0)
			put_uint(w, (unsigned)in->scores[p->port - 1]);
	} else {
		return false;
	}
	return true;
}

/* Writes the value of placeholder name (NUL-terminated); false when it is not one. */
static bool put_placeholder(struct writer *w, const struct overlay_text_input *in, const unsigned ports[],
			    const char *name)
{
	const struct game_snapshot *g = in->game;
	if (name[0] == 'p' && name[1] >= '1' && name[1] <= '4' && name[2] == '.') {
		unsigned port = ports[name[1] - '1'];
		const struct game_player_snapshot *p = g && port ? &g->players[port - 1] : NULL;
		return put_player(w, in, p, name + 3);
	}
	if (!strcmp(name, "stage")) {
		if (g)
			put(w, melee_stage_name(g->stage_id));
	} else if (!strcmp(name, "timer")) {
		if (g) {
			char t[32];
			overlay_text_timer(g, t, sizeof(t));
			put(w, t);
		}
	} else if (!strcmp(name, "game")) {
		if (in->game_number)
			put_uint(w, in->game_number);
	} else if (!strcmp(name, "console")) {
		put(w, in->console);
	} else {
		return false;
	}
	return true;
}

size_t overlay_text_render(const char *tmpl, const struct overlay_text_input *in, char *out, size_t out_size)
{
	if (!out_size)
		return 0;
	struct writer w = {.buf = out, .cap = out_size - 1, .len = 0};
	unsigned ports[SLP_MAX_PLAYERS];
	map_ports(in, ports);
	size_t n = tmpl ? strnlen(tmpl, OVERLAY_TEXT_MAX_TEMPLATE) : 0;
	size_t i = 0;
	while (i < n && w.len < w.cap) {
		const char *brace = memchr(tmpl + i, '{', n - i);
		size_t lit = brace ? (size_t)(brace - tmpl) - i : n - i;
		put_n(&w, tmpl + i, lit);
		i += lit;
		if (!brace)
			break;
		/* a placeholder is {name} with no brace inside and a short name; anything else is text */
		size_t j = i + 1;
		while (j < n && j - i - 1 <= OVERLAY_TEXT_MAX_PLACEHOLDER && tmpl[j] != '}' && tmpl[j] != '{')
			j++;
		if (j < n && tmpl[j] == '}' && j - i - 1 <= OVERLAY_TEXT_MAX_PLACEHOLDER) {
			char name[OVERLAY_TEXT_MAX_PLACEHOLDER + 1];
			memcpy(name, tmpl + i + 1, j - i - 1);
			name[j - i - 1] = 0;
			if (put_placeholder(&w, in, ports, name)) {
				i = j + 1;
				continue;
			}
		}
		put_n(&w, "{", 1);
		i++;
	}
	out[w.len] = 0;
	return w.len;
}
