/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "game_mailbox.h"

#include "net/loop.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct game_mailbox {
	/* the latest state: held only for a copy, so a consumer's trylock rarely misses */
	pthread_mutex_t state_lock;
	struct game_snapshot state;

	pthread_mutex_t queue_lock;
	struct game_note *ring;
	size_t capacity, head, count;
	uint64_t next_seq;
	uint64_t dropped;
	bool notified; /* the consumer was told and has not emptied the queue since */
	game_mailbox_notify_fn notify;
	void *ud;

	atomic_uint refs;
};

struct game_mailbox *game_mailbox_create(size_t capacity, game_mailbox_notify_fn notify, void *ud)
{
	struct game_mailbox *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->capacity = capacity ? capacity : GAME_MAILBOX_DEFAULT_CAPACITY;
	m->ring = calloc(m->capacity, sizeof(*m->ring));
	if (!m->ring) {
		free(m);
		return NULL;
	}
	pthread_mutex_init(&m->state_lock, NULL);
	pthread_mutex_init(&m->queue_lock, NULL);
	m->state.end_method = -1;
	m->state.lras_initiator = -1;
	m->next_seq = 1;
	atomic_init(&m->refs, 1);
	m->notify = notify;
	m->ud = ud;
	return m;
}

void game_note_free(struct game_note *n)
{
	free(n->json);
	n->json = NULL;
	n->json_len = 0;
}

struct game_mailbox *game_mailbox_retain(struct game_mailbox *m)
{
	if (m)
		atomic_fetch_add(&m->refs, 1);
	return m;
}

void game_mailbox_destroy(struct game_mailbox *m)
{
	game_mailbox_release(m);
}

void game_mailbox_release(struct game_mailbox *m)
{
	if (!m || atomic_fetch_sub(&m->refs, 1) != 1)
		return;
	for (size_t i = 0; i < m->count; i++)
		game_note_free(&m->ring[(m->head + i) % m->capacity]);
	free(m->ring);
	pthread_mutex_destroy(&m->state_lock);
	pthread_mutex_destroy(&m->queue_lock);
	free(m);
}

static void copy_players(struct game_snapshot *s, const struct slp_game *g)
{
	for (int i = 0; i < SLP_MAX_PLAYERS; i++) {
		const struct slp_player_info *info = &g->players[i];
		const struct slp_player_state *st = &g->state[i];
		struct game_player_snapshot *p = &s->players[i];
		memset(p, 0, sizeof(*p));
		p->present = info->present;
		p->port = (uint8_t)(i + 1);
		if (!info->present)
			continue;
		p->character_id = info->character_id;
		p->has_internal_character = st->has_frame;
		p->internal_character_id = st->internal_character_id;
		p->costume = info->costume;
		p->team_id = info->team_id;
		p->start_stocks = info->start_stocks;
		p->stocks_remaining = st->has_frame ? st->stocks_remaining : info->start_stocks;
		p->percent = st->has_frame ? st->percent : 0.0f;
		memcpy(p->nametag, info->nametag, sizeof(p->nametag));
		memcpy(p->display_name, info->display_name, sizeof(p->display_name));
		memcpy(p->connect_code, info->connect_code, sizeof(p->connect_code));
		const char *name = info->display_name[0] ? info->display_name : info->nametag;
		snprintf(p->name, sizeof(p->name), "%s", name);
	}
}

static void update_state(struct game_mailbox *m, const struct slp_game_event *ev)
{
	const struct slp_game *g = ev->game;
	struct game_snapshot next;
	pthread_mutex_lock(&m->state_lock);
	next = m->state;
	pthread_mutex_unlock(&m->state_lock);

	switch (ev->type) {
	case SLP_GAME_EVENT_GAME_START:
		next.in_game = true;
		next.has_game = true;
		next.has_frame = false;
		next.games++;
		next.frame = 0;
		next.ended_complete = false;
		next.n_winners = 0;
		next.end_method = -1;
		next.lras_initiator = -1;
		next.end_frame = 0;
		next.end_time_ms = 0;
		next.frame_time_ms = (int64_t)net_now_ms();
		break;
	case SLP_GAME_EVENT_FRAME:
	case SLP_GAME_EVENT_STOCK_LOST:
		next.has_frame = true;
		next.frame = ev->frame;
		next.frame_time_ms = (int64_t)net_now_ms();
		break;
	case SLP_GAME_EVENT_GAME_END:
		next.in_game = false;
		next.ended_complete = g->end.present;
		next.end_method = g->end.present ? g->end.method : -1;
		next.lras_initiator = g->end.present && g->end.has_lras ? g->end.lras_initiator : -1;
		next.end_frame = g->end.present ? g->end.frame : 0;
		next.end_time_ms = (int64_t)net_now_ms();
		next.n_winners = slp_game_winners(g, next.winners);
		if (g->has_frames) {
			next.has_frame = true;
			next.frame = g->last_frame;
		}
		break;
	default:
		return;
	}
	next.stage_id = g->stage_id;
	next.is_teams = g->is_teams;
	next.timer_seconds = g->timer_seconds;
	int64_t played = next.has_frame && next.frame > 0 ? next.frame : 0;
	int64_t left = (int64_t)g->timer_seconds * 60 - played;
	next.timer_remaining_frames = left > 0 ? (int32_t)left : 0;
	copy_players(&next, g);

	pthread_mutex_lock(&m->state_lock);
	next.seq = m->state.seq + 1;
	m->state = next;
	pthread_mutex_unlock(&m->state_lock);
}

bool game_mailbox_publish(struct game_mailbox *m, const struct slp_game_event *ev, const char *json, size_t json_len)
{
	update_state(m, ev);
	if (ev->type == SLP_GAME_EVENT_FRAME)
		return true;
	return game_mailbox_push(m, slp_game_event_name(ev->type), json, json_len);
}

bool game_mailbox_push(struct game_mailbox *m, const char *type, const char *json, size_t json_len)
{
	/* allocate before the lock: the consumer's take never waits on malloc */
	char *copy = malloc(json_len + 1);
	if (!copy)
		return false;
	memcpy(copy, json, json_len);
	copy[json_len] = 0;

	struct game_note dropped = {0};
	pthread_mutex_lock(&m->queue_lock);
	if (m->count == m->capacity) {
		dropped = m->ring[m->head];
		m->head = (m->head + 1) % m->capacity;
		m->count--;
		m->dropped++;
	}
	struct game_note *n = &m->ring[(m->head + m->count) % m->capacity];
	memset(n, 0, sizeof(*n));
	snprintf(n->type, sizeof(n->type), "%s", type);
	n->seq = m->next_seq++;
	n->time_ms = (int64_t)net_now_ms();
	n->json = copy;
	n->json_len = json_len;
	m->count++;
	bool tell = !m->notified;
	m->notified = true;
	pthread_mutex_unlock(&m->queue_lock);

	game_note_free(&dropped);
	if (tell && m->notify)
		m->notify(m->ud);
	return true;
}

bool game_mailbox_latest(struct game_mailbox *m, struct game_snapshot *out)
{
	if (pthread_mutex_trylock(&m->state_lock) != 0)
		return false;
	bool changed = m->state.seq != out->seq;
	if (changed)
		*out = m->state;
	pthread_mutex_unlock(&m->state_lock);
	return changed;
}

void game_mailbox_latest_wait(struct game_mailbox *m, struct game_snapshot *out)
{
	pthread_mutex_lock(&m->state_lock);
	*out = m->state;
	pthread_mutex_unlock(&m->state_lock);
}

size_t game_mailbox_take(struct game_mailbox *m, struct game_note *out, size_t max)
{
	pthread_mutex_lock(&m->queue_lock);
	size_t n = m->count < max ? m->count : max;
	for (size_t i = 0; i < n; i++) {
		out[i] = m->ring[m->head];
		memset(&m->ring[m->head], 0, sizeof(m->ring[m->head]));
		m->head = (m->head + 1) % m->capacity;
	}
	m->count -= n;
	if (n == 0)
		m->notified = false; /* emptied: the next note tells the consumer again */
	pthread_mutex_unlock(&m->queue_lock);
	return n;
}

uint64_t game_mailbox_dropped(struct game_mailbox *m)
{
	pthread_mutex_lock(&m->queue_lock);
	uint64_t d = m->dropped;
	pthread_mutex_unlock(&m->queue_lock);
	return d;
}
