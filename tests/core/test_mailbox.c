/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The game mailbox (plugin/core/game_mailbox.c): game events from real replays become owned notes whose JSON is
 * the one form of docs/events.md, the latest state follows the game to its last frame, a full queue drops the
 * oldest and counts it, `notify` runs once per burst, and a consumer thread reading while a producer publishes
 * sees every note in order (run under TSan as test_mailbox_tsan).
 */
#include "game_mailbox.h"
#include "slp_game.h"
#include "slp_splitter.h"
#include "test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Non-frame events of one replay kept for reference: v3.14.0.slp has 56 combos besides its starts, ends and stocks. */
#define REF_MAX 128

/* What a replay's game events are, straight from slp_game: the reference the mailbox must reproduce. */
struct reference {
	struct bytes json[REF_MAX]; /* non-frame events, in order */
	size_t n;
	int frames;
};

struct feed {
	struct slp_game game;
	struct game_mailbox *mailbox;
	struct reference *ref;
};

static void on_game_event(void *ud, const struct slp_game_event *ev)
{
	struct feed *f = ud;
	if (f->mailbox) {
		struct bytes json;
		bytes_init(&json, 1u << 20);
		assert_true(slp_game_event_to_json(ev, &json));
		assert_true(game_mailbox_publish(f->mailbox, ev, (const char *)json.data, json.len));
		bytes_free(&json);
	}
	if (!f->ref)
		return;
	if (ev->type == SLP_GAME_EVENT_FRAME) {
		f->ref->frames++;
		return;
	}
	assert_true(f->ref->n < REF_MAX);
	struct bytes *b = &f->ref->json[f->ref->n++];
	bytes_init(b, 1u << 20);
	assert_true(slp_game_event_to_json(ev, b));
}

static int on_event(void *ud, const struct slp_event *ev)
{
	struct feed *f = ud;
	slp_game_handle(&f->game, ev);
	return 0;
}

static void play(const char *replay, struct game_mailbox *m, struct reference *ref, struct slp_game *final)
{
	struct bytes file;
	assert_true(tu_read_replay(replay, &file));
	const uint8_t *events;
	size_t events_len;
	assert_true(tu_events(&file, &events, &events_len));
	struct feed f = {.mailbox = m, .ref = ref};
	slp_game_init(&f.game, on_game_event, &f);
	struct slp_splitter s;
	slp_splitter_init(&s);
	assert_int_equal(slp_splitter_feed(&s, events, events_len, on_event, &f), 0);
	slp_splitter_free(&s);
	slp_game_finish(&f.game);
	if (final)
		*final = f.game;
	bytes_free(&file);
}

static void free_reference(struct reference *ref)
{
	for (size_t i = 0; i < ref->n; i++)
		bytes_free(&ref->json[i]);
}

static int notifications;
static void count_notify(void *ud)
{
	(void)ud;
	notifications++;
}

static void test_notes_and_state_follow_a_real_game(void **state)
{
	(void)state;
	const char *replays[] = {"v3.14.0.slp", "doubles.slp", "200306_2258_Falco_v_Fox_PS.slp", "incomplete.slp"};
	for (size_t r = 0; r < sizeof(replays) / sizeof(replays[0]); r++) {
		notifications = 0;
		struct game_mailbox *m = game_mailbox_create(0, count_notify, NULL);
		assert_non_null(m);
		struct reference ref = {0};
		struct slp_game g;
		play(replays[r], m, &ref, &g);

		/* one note per non-frame event, the same JSON, in order; one wake-up for the whole burst */
		struct game_note notes[REF_MAX];
		size_t n = game_mailbox_take(m, notes, REF_MAX);
		assert_int_equal(n, ref.n);
		assert_int_equal(game_mailbox_take(m, notes + n, REF_MAX - n), 0);
		assert_int_equal(notifications, 1);
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(notes[i].seq, i + 1);
			assert_int_equal(notes[i].json_len, ref.json[i].len);
			assert_memory_equal(notes[i].json, ref.json[i].data, ref.json[i].len);
			assert_int_equal(notes[i].json[notes[i].json_len], 0);
			char want_type[40];
			snprintf(want_type, sizeof(want_type), "{\"type\":\"%s\"", notes[i].type);
			assert_memory_equal(notes[i].json, want_type, strlen(want_type));
			game_note_free(&notes[i]);
		}
		assert_string_equal(notes[0].type, "game_start");
		assert_string_equal(notes[n - 1].type, "game_end");

		/* the latest state is the game's final state */
		struct game_snapshot snap = {0};
		assert_true(game_mailbox_latest(m, &snap));
		assert_false(game_mailbox_latest(m, &snap)); /* nothing new since */
		assert_false(snap.in_game);
		assert_true(snap.has_game);
		assert_int_equal(snap.games, 1);
		assert_int_equal(snap.stage_id, g.stage_id);
		assert_int_equal(snap.frame, g.last_frame);
		assert_int_equal(snap.ended_complete, g.end.present);
		int winners[SLP_MAX_PLAYERS];
		assert_int_equal(snap.n_winners, slp_game_winners(&g, winners));
		for (int i = 0; i < SLP_MAX_PLAYERS; i++) {
			assert_int_equal(snap.players[i].present, g.players[i].present);
			if (!g.players[i].present)
				continue;
			assert_int_equal(snap.players[i].port, i + 1);
			assert_int_equal(snap.players[i].character_id, g.players[i].character_id);
			assert_int_equal(snap.players[i].stocks_remaining, g.state[i].stocks_remaining);
			assert_true(snap.players[i].percent == g.state[i].percent);
			assert_string_equal(snap.players[i].connect_code, g.players[i].connect_code);
		}
		int64_t left = (int64_t)g.timer_seconds * 60 - (g.last_frame > 0 ? g.last_frame : 0);
		assert_int_equal(snap.timer_remaining_frames, left > 0 ? left : 0);
		free_reference(&ref);
		game_mailbox_destroy(m);
	}
}

static void test_full_queue_drops_the_oldest_and_counts(void **state)
{
	(void)state;
	notifications = 0;
	struct game_mailbox *m = game_mailbox_create(4, count_notify, NULL);
	char json[64];
	for (int i = 1; i <= 10; i++) {
		int len = snprintf(json, sizeof(json), "{\"type\":\"gap\",\"n\":%d}", i);
		assert_true(game_mailbox_push(m, "gap", json, (size_t)len));
	}
	assert_int_equal(notifications, 1); /* one burst, one wake-up */
	assert_int_equal(game_mailbox_dropped(m), 6);
	struct game_note notes[8];
	assert_int_equal(game_mailbox_take(m, notes, 8), 4);
	for (int i = 0; i < 4; i++) {
		char want[64];
		snprintf(want, sizeof(want), "{\"type\":\"gap\",\"n\":%d}", 7 + i);
		assert_string_equal(notes[i].json, want);
		assert_int_equal(notes[i].seq, 7 + i);
		game_note_free(&notes[i]);
	}
	/* the queue was emptied, but the consumer has not seen it empty yet: still told */
	assert_true(game_mailbox_push(m, "gap", "{}", 2));
	assert_int_equal(notifications, 1);
	assert_int_equal(game_mailbox_take(m, notes, 8), 1);
	game_note_free(&notes[0]);
	assert_int_equal(game_mailbox_take(m, notes, 8), 0);
	/* seen empty: the next note is a new burst */
	assert_true(game_mailbox_push(m, "gap", "{}", 2));
	assert_int_equal(notifications, 2);
	game_mailbox_destroy(m); /* frees the note not taken */
}

/* A producer thread publishes two whole games while a consumer thread reads the state with trylock and takes the
 * notes whenever it is notified: every note arrives once, in order, and the state's seq never goes back. */
struct threaded {
	struct game_mailbox *m;
	atomic_int pending_wakeups;
	atomic_bool producer_done;
	size_t notes_taken;
	uint64_t last_seq;
	int out_of_order;
	int states_seen;
	int seq_went_back;
};

static void wake(void *ud)
{
	struct threaded *t = ud;
	atomic_fetch_add(&t->pending_wakeups, 1);
}

static void *producer(void *arg)
{
	struct threaded *t = arg;
	play("v3.14.0.slp", t->m, NULL, NULL);
	play("doubles.slp", t->m, NULL, NULL);
	atomic_store(&t->producer_done, true);
	return NULL;
}

static void drain(struct threaded *t)
{
	struct game_note notes[16];
	size_t n;
	while ((n = game_mailbox_take(t->m, notes, 16)) > 0) {
		for (size_t i = 0; i < n; i++) {
			if (notes[i].seq != t->last_seq + 1)
				t->out_of_order++;
			t->last_seq = notes[i].seq;
			game_note_free(&notes[i]);
		}
		t->notes_taken += n;
	}
}

static void test_consumer_thread_reads_while_producer_publishes(void **state)
{
	(void)state;
	struct threaded t = {0};
	t.m = game_mailbox_create(1024, wake, &t);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, producer, &t), 0);
	struct game_snapshot snap = {0};
	uint64_t prev_seq = 0;
	while (!atomic_load(&t.producer_done)) {
		if (game_mailbox_latest(t.m, &snap)) {
			t.states_seen++;
			if (snap.seq < prev_seq)
				t.seq_went_back++;
			prev_seq = snap.seq;
		}
		if (atomic_exchange(&t.pending_wakeups, 0) > 0)
			drain(&t);
	}
	pthread_join(th, NULL);
	drain(&t);

	struct reference ref = {0};
	play("v3.14.0.slp", NULL, &ref, NULL);
	size_t want = ref.n;
	free_reference(&ref);
	memset(&ref, 0, sizeof(ref));
	play("doubles.slp", NULL, &ref, NULL);
	want += ref.n;
	free_reference(&ref);

	assert_int_equal(t.notes_taken, want);
	assert_int_equal(t.out_of_order, 0);
	assert_int_equal(t.seq_went_back, 0);
	assert_int_equal(game_mailbox_dropped(t.m), 0);
	assert_true(t.states_seen > 0);
	game_mailbox_latest_wait(t.m, &snap);
	assert_int_equal(snap.games, 2);
	assert_false(snap.in_game);
	game_mailbox_destroy(t.m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notes_and_state_follow_a_real_game),
		cmocka_unit_test(test_full_queue_drops_the_oldest_and_counts),
		cmocka_unit_test(test_consumer_thread_reads_while_producer_publishes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
