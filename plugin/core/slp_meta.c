/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "slp_meta.h"
#include "slp_game.h"
#include "ubjson.h"
#include "utf8.h"

#include <stdio.h>
#include <string.h>

/* Names (a console nickname given on the command line, for one) may not fit: cut between characters, so the
 * metadata's strings stay valid UTF-8. */
static void copy_str(char *dst, size_t cap, const char *src)
{
	utf8_truncate(dst, cap, src);
}

void slp_meta_init(struct slp_meta *m, const struct timespec *start_time, const char *console_nick,
		   const char *played_on)
{
	memset(m, 0, sizeof(*m));
	if (start_time)
		m->start_time = *start_time;
	m->last_frame = -124; /* no frame yet: lastFrame + 124 frames were played */
	copy_str(m->console_nick, sizeof(m->console_nick), console_nick && *console_nick ? console_nick : "unknown");
	copy_str(m->played_on, sizeof(m->played_on), played_on && *played_on ? played_on : "network");
}

void slp_meta_handle(struct slp_meta *m, const struct slp_event *ev)
{
	if (ev->reassembled)
		return;
	if (ev->code == SLP_CMD_GAME_START) {
		for (int i = 0; i < 4; i++) {
			struct slp_player_info info;
			if (!slp_game_start_player(ev, i, &info))
				return;
			struct slp_meta_player *p = &m->players[i];
			memset(p, 0, sizeof(*p));
			p->present = info.present;
			copy_str(p->display_name, sizeof(p->display_name), info.display_name);
			copy_str(p->connect_code, sizeof(p->connect_code), info.connect_code);
		}
		return;
	}
	if (ev->code != SLP_CMD_POST_FRAME || ev->size < 8)
		return;
	uint8_t index = ev->data[5];
	if (index >= 4 || ev->data[6])
		return; /* followers (Nana) do not count */
	m->last_frame = rd_i32be(ev->data + 1);
	uint8_t character = ev->data[7];
	if (m->players[index].present && character < SLP_META_MAX_CHARACTERS)
		m->players[index].character_frames[character]++;
}

static void format_start_at(const struct timespec *ts, char *out, size_t cap)
{
	struct tm tm;
	time_t secs = ts->tv_sec;
	gmtime_r(&secs, &tm);
	snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, (long)(ts->tv_nsec / 1000000));
}

bool slp_meta_encode_footer(const struct slp_meta *m, struct bytes *out)
{
	struct ubj_writer w;
	char buf[64];
	ubj_writer_init(&w, out, true);
	ubj_w_key(&w, "metadata");
	ubj_w_object_begin(&w);
	format_start_at(&m->start_time, buf, sizeof(buf));
	ubj_w_key(&w, "startAt");
	ubj_w_string(&w, buf, strlen(buf));
	ubj_w_key(&w, "lastFrame");
	ubj_w_int32(&w, m->last_frame);
	ubj_w_key(&w, "consoleNick");
	ubj_w_string(&w, m->console_nick, strlen(m->console_nick));
	ubj_w_key(&w, "players");
	ubj_w_object_begin(&w);
	for (int i = 0; i < 4; i++) {
		const struct slp_meta_player *p = &m->players[i];
		if (!p->present)
			continue;
		snprintf(buf, sizeof(buf), "%d", i);
		ubj_w_key(&w, buf);
		ubj_w_object_begin(&w);
		ubj_w_key(&w, "characters");
		ubj_w_object_begin(&w);
		for (int c = 0; c < SLP_META_MAX_CHARACTERS; c++) {
			if (!p->character_frames[c])
				continue;
			snprintf(buf, sizeof(buf), "%d", c);
			ubj_w_key(&w, buf);
			ubj_w_int32(&w, (int32_t)p->character_frames[c]);
		}
		ubj_w_object_end(&w);
		ubj_w_key(&w, "names");
		ubj_w_object_begin(&w);
		ubj_w_key(&w, "netplay");
		ubj_w_string(&w, p->display_name, strlen(p->display_name));
		ubj_w_key(&w, "code");
		ubj_w_string(&w, p->connect_code, strlen(p->connect_code));
		ubj_w_object_end(&w);
		ubj_w_object_end(&w);
	}
	ubj_w_object_end(&w);
	ubj_w_key(&w, "playedOn");
	ubj_w_string(&w, m->played_on, strlen(m->played_on));
	ubj_w_object_end(&w); /* metadata */
	ubj_w_object_end(&w); /* the file's top-level object */
	return w.ok;
}
