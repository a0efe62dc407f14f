/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "slp_combo.h"

#include <math.h>
#include <string.h>

/* Action-state ranges (Melee's ids, as slippi-js groups them) */
#define AS_DYING_LAST 0x00A
#define AS_DAMAGE_FALL 0x026
#define AS_DAMAGE_FIRST 0x04B
#define AS_DAMAGE_LAST 0x05B
#define AS_DOWN_FIRST 0x0B7
#define AS_JAB_RESET_UP 0x0B9
#define AS_JAB_RESET_DOWN 0x0C1
#define AS_DOWN_LAST 0x0C6
#define AS_TECH_FIRST 0x0C7
#define AS_TECH_LAST 0x0CC
#define AS_CAPTURE_FIRST 0x0DF
#define AS_CAPTURE_LAST 0x0E8
#define AS_COMMAND_GRAB1_FIRST 0x10A
#define AS_BARREL_WAIT 0x125
#define AS_COMMAND_GRAB1_LAST 0x130
#define AS_COMMAND_GRAB2_FIRST 0x147
#define AS_COMMAND_GRAB2_LAST 0x152

#define MOVE_NONE (-1)
#define MOVE_NOT_STORED SLP_COMBO_MAX_MOVES

static bool in_range(uint16_t s, uint16_t first, uint16_t last)
{
	return s >= first && s <= last;
}

/* in hitstun or tumble, or jab-reset on the ground */
static bool is_damaged(uint16_t s)
{
	return in_range(s, AS_DAMAGE_FIRST, AS_DAMAGE_LAST) || s == AS_DAMAGE_FALL || s == AS_JAB_RESET_UP ||
	       s == AS_JAB_RESET_DOWN;
}

static bool is_grabbed(uint16_t s)
{
	return in_range(s, AS_CAPTURE_FIRST, AS_CAPTURE_LAST);
}

/* held by a character's special grab (Bowser, DK, Kirby, Yoshi's egg, ...); the barrel is not one */
static bool is_command_grabbed(uint16_t s)
{
	return (in_range(s, AS_COMMAND_GRAB1_FIRST, AS_COMMAND_GRAB1_LAST) ||
		in_range(s, AS_COMMAND_GRAB2_FIRST, AS_COMMAND_GRAB2_LAST)) &&
	       s != AS_BARREL_WAIT;
}

static bool is_teching(uint16_t s)
{
	return in_range(s, AS_TECH_FIRST, AS_TECH_LAST);
}

static bool is_down(uint16_t s)
{
	return in_range(s, AS_DOWN_FIRST, AS_DOWN_LAST);
}

static bool is_dying(uint16_t s)
{
	return s <= AS_DYING_LAST;
}

void slp_combo_init(struct slp_combo_detector *d, const bool present[SLP_COMBO_PLAYERS])
{
	memset(d, 0, sizeof(*d));
	int n = 0;
	for (int i = 0; i < SLP_COMBO_PLAYERS; i++) {
		if (!present[i])
			continue;
		if (n < 2)
			d->players[n] = i;
		n++;
	}
	d->enabled = n == 2;
	/* the first frame is -123: everything before it counts as final already */
	d->last_finalized = -124;
	for (int k = 0; k < 2; k++) {
		d->pairs[k].move = MOVE_NONE;
		d->pairs[k].combo.attacker = d->players[k];
		d->pairs[k].combo.victim = d->players[1 - k];
	}
	for (int i = 0; i < SLP_COMBO_RING; i++)
		d->ring[i].frame = INT32_MIN;
}

static struct slp_combo_slot *slot_of(struct slp_combo_detector *d, int64_t frame)
{
	return &d->ring[(uint64_t)frame % SLP_COMBO_RING];
}

void slp_combo_post(struct slp_combo_detector *d, int32_t frame, int player, const struct slp_combo_post *p)
{
	if (!d->enabled || player < 0 || player >= SLP_COMBO_PLAYERS)
		return;
	/* a copy of a frame already final (a rollback reaches 7 frames back) changes nothing any more */
	if ((int64_t)frame <= d->last_finalized)
		return;
	struct slp_combo_slot *s = slot_of(d, frame);
	if (s->frame != frame) {
		if (s->frame != INT32_MIN && s->frame > frame)
			return; /* older than the ring: the slot belongs to a newer frame */
		s->frame = frame;
		s->have = 0;
	}
	s->post[player] = *p;
	s->have |= (uint8_t)(1u << player);
	if (!d->has_seen || frame > d->highest_seen) {
		d->has_seen = true;
		d->highest_seen = frame;
	}
}

static void start_move(struct slp_combo_pair *pr, int32_t frame, uint8_t move_id)
{
	struct slp_combo *c = &pr->combo;
	c->hits++;
	if (c->n_moves == SLP_COMBO_MAX_MOVES) {
		pr->move = MOVE_NOT_STORED;
		return;
	}
	pr->move = (int)c->n_moves++;
	c->moves[pr->move] = (struct slp_combo_move){.frame = frame, .move_id = move_id};
}

static void start_combo(struct slp_combo_pair *pr, int32_t frame, float start_percent, float percent)
{
	struct slp_combo *c = &pr->combo;
	int attacker = c->attacker, victim = c->victim;
	memset(c, 0, sizeof(*c));
	c->attacker = attacker;
	c->victim = victim;
	c->start_frame = frame;
	c->start_percent = start_percent;
	c->current_percent = percent;
	pr->active = true;
	pr->move = MOVE_NONE;
}

/* The attacker's animation counter went back: the same animation started again (a second jab, say). */
static bool counter_restarted(const struct slp_combo_post *cur, const struct slp_combo_post *prev)
{
	if (!cur->has_action_counter)
		return false;
	if (!prev)
		return cur->action_counter < 0.0f; /* slippi-js compares with 0 before the first frame */
	return prev->has_action_counter && cur->action_counter < prev->action_counter;
}

/*
 * One final frame for one attacker/victim pair. cur and prev are the frame's and the frame before's updates (prev
 * NULL when that frame is not known); returns true when the pair's combo ended on this frame.
 */
static bool step(struct slp_combo_pair *pr, int32_t frame, const struct slp_combo_post *cur,
		 const struct slp_combo_post *prev)
{
	int a = pr->combo.attacker, v = pr->combo.victim;
	const struct slp_combo_post *att = &cur[a], *vic = &cur[v];
	const struct slp_combo_post *prev_att = prev ? &prev[a] : NULL, *prev_vic = prev ? &prev[v] : NULL;
	uint16_t vs = vic->action_state;
	bool hit_state = is_damaged(vs) || is_grabbed(vs) || is_command_grabbed(vs);

	/* a hit after the attacker's animation changed (or restarted) is a new move; hits of one animation (a drill)
	 * are one move */
	if (pr->has_last_hit_animation &&
	    (att->action_state != pr->last_hit_animation || counter_restarted(att, prev_att)))
		pr->has_last_hit_animation = false;

	if (hit_state) {
		/* in double, as slippi-js subtracts the two float32 percents */
		double damage = prev_vic ? (double)vic->percent - (double)prev_vic->percent : 0.0;
		if (!pr->active)
			start_combo(pr, frame, prev_vic ? prev_vic->percent : 0.0f, vic->percent);
		if (damage != 0.0 && !isnan(damage)) {
			if (!pr->has_last_hit_animation)
				start_move(pr, frame, att->last_attack_landed);
			if (pr->move >= 0 && pr->move < SLP_COMBO_MAX_MOVES) {
				pr->combo.moves[pr->move].hit_count++;
				pr->combo.moves[pr->move].damage += damage;
			}
			/* the frame before the hit shows the move that connected, even in a trade */
			pr->has_last_hit_animation = prev_att != NULL;
			pr->last_hit_animation = prev_att ? prev_att->action_state : 0;
		}
	}
	if (!pr->active)
		return false;

	struct slp_combo *c = &pr->combo;
	bool lost_stock = prev_vic && (int)prev_vic->stocks - (int)vic->stocks > 0;
	if (!lost_stock)
		c->current_percent = vic->percent;
	if (hit_state || is_teching(vs) || is_down(vs) || is_dying(vs))
		pr->reset_counter = 0;
	else
		pr->reset_counter++;
	bool end = false;
	if (lost_stock) {
		c->did_kill = true;
		end = true;
	}
	if (pr->reset_counter > SLP_COMBO_RESET_FRAMES)
		end = true;
	if (!end)
		return false;
	c->ended = true;
	c->end_frame = frame;
	c->end_percent = prev_vic ? prev_vic->percent : 0.0f;
	pr->active = false;
	pr->move = MOVE_NONE;
	return true;
}

static void step_frame(struct slp_combo_detector *d, const struct slp_combo_slot *s, slp_combo_fn emit, void *ud)
{
	/* the frame before, when it was stepped and its slot still holds it (a frame 32 newer reuses the slot: only a
	 * stream finalizing that far behind loses it) */
	const struct slp_combo_post *prev = NULL;
	if (d->has_prev && (int64_t)d->prev_frame == (int64_t)s->frame - 1) {
		const struct slp_combo_slot *p = slot_of(d, d->prev_frame);
		if (p->frame == d->prev_frame)
			prev = p->post;
	}
	for (int k = 0; k < 2; k++) {
		if (step(&d->pairs[k], s->frame, s->post, prev) && emit)
			emit(ud, &d->pairs[k].combo);
	}
	d->prev_frame = s->frame;
	d->has_prev = true;
	d->frames_stepped++;
}

void slp_combo_finalize(struct slp_combo_detector *d, int64_t frame, slp_combo_fn emit, void *ud)
{
	if (!d->enabled || !d->has_seen)
		return;
	/* never past what arrived: a frame not received yet is not final, whatever a stream claims */
	if (frame > d->highest_seen)
		frame = d->highest_seen;
	if (frame <= d->last_finalized)
		return;
	int64_t from = d->last_finalized + 1;
	if (frame - from >= SLP_COMBO_RING) {
		d->frames_skipped += (uint64_t)(frame - SLP_COMBO_RING + 1 - from);
		from = frame - SLP_COMBO_RING + 1; /* older frames are gone from the ring */
	}
	uint8_t need = (uint8_t)((1u << d->players[0]) | (1u << d->players[1]));
	for (int64_t f = from; f <= frame; f++) {
		const struct slp_combo_slot *s = slot_of(d, f);
		if ((int64_t)s->frame == f && (s->have & need) == need)
			step_frame(d, s, emit, ud);
		else
			d->frames_skipped++;
	}
	d->last_finalized = frame;
}

void slp_combo_finish(struct slp_combo_detector *d, slp_combo_fn emit, void *ud)
{
	if (!d->enabled)
		return;
	d->enabled = false; /* frames after the game's end start nothing */
	for (int k = 0; k < 2; k++) {
		struct slp_combo_pair *pr = &d->pairs[k];
		if (!pr->active)
			continue;
		pr->active = false;
		pr->move = MOVE_NONE;
		if (emit)
			emit(ud, &pr->combo);
	}
}

double slp_combo_damage(const struct slp_combo *c)
{
	float end = c->ended ? c->end_percent : c->current_percent;
	return (double)end - (double)c->start_percent;
}
