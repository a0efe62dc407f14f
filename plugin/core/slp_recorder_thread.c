/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "slp_recorder_thread.h"
#include "net/loop.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum item_kind {
	ITEM_DATA,
	ITEM_RESTART,
	ITEM_NICK,      /* data: the nickname, NUL-terminated */
	ITEM_OUT_DIR,   /* data: the folder, NUL-terminated */
	ITEM_FILE_NAME, /* data: the file name, NUL-terminated */
	ITEM_END,
	ITEM_QUIT,
};

struct item {
	struct item *next;
	enum item_kind kind;
	size_t len;
	uint8_t data[];
};

struct slp_recorder_thread {
	struct slp_recorder *rec;
	struct item *quit; /* made at create, so destroy can always stop the thread */
	char name[16];
	int realtime_priority;
	struct slp_recorder_callbacks user_cb;
	pthread_t thread;
	pthread_mutex_t mutex;
	pthread_cond_t cond;
	struct item *head, *tail;
	size_t queued_bytes;
	size_t limit_bytes;
	bool overflowing; /* a full queue was reported; cleared once there is room again */
	uint64_t dropped_bytes;
};

/*
 * Queues it; the caller holds the mutex. Returns whether the queue was empty: the recorder thread waits only on
 * an empty queue, so only then does it need a signal (given after the unlock, by wake()).
 */
static bool push(struct slp_recorder_thread *t, struct item *it)
{
	it->next = NULL;
	bool was_empty = !t->head;
	if (t->tail)
		t->tail->next = it;
	else
		t->head = it;
	t->tail = it;
	return was_empty;
}

static void wake(struct slp_recorder_thread *t, bool needed)
{
	if (needed)
		pthread_cond_signal(&t->cond);
}

static void push_item(struct slp_recorder_thread *t, struct item *it)
{
	pthread_mutex_lock(&t->mutex);
	bool was_empty = push(t, it);
	pthread_mutex_unlock(&t->mutex);
	wake(t, was_empty);
}

static void push_control(struct slp_recorder_thread *t, enum item_kind kind)
{
	struct item *it = calloc(1, sizeof(*it));
	if (!it)
		return;
	it->kind = kind;
	push_item(t, it);
}

static void *run(void *arg)
{
	struct slp_recorder_thread *t = arg;
	net_thread_name(t->name);
	/* game events the moment the bytes come, even while the relay sends: realtime where it is granted, but a
	 * backlog is worked through at normal scheduling, so catching up never holds a CPU from OBS's threads */
	bool granted = t->realtime_priority && net_thread_prefer_realtime(t->realtime_priority) == 0;
	bool realtime = granted;
	if (!realtime)
		net_thread_prefer_latency();
	for (;;) {
		pthread_mutex_lock(&t->mutex);
		while (!t->head)
			pthread_cond_wait(&t->cond, &t->mutex);
		struct item *it = t->head;
		t->head = it->next;
		if (!t->head)
			t->tail = NULL;
		bool report_drop = false;
		uint64_t dropped = 0;
		size_t backlog = t->queued_bytes; /* this item's bytes included */
		if (it->kind == ITEM_DATA) {
			t->queued_bytes -= it->len;
			if (t->overflowing && t->queued_bytes < t->limit_bytes / 2) {
				t->overflowing = false;
				report_drop = true;
				dropped = t->dropped_bytes;
			}
		}
		pthread_mutex_unlock(&t->mutex);
		if (granted && realtime != (backlog <= SLP_RECORDER_REALTIME_BACKLOG_BYTES)) {
			if (realtime) {
				net_thread_leave_realtime();
				net_thread_prefer_latency();
				realtime = false;
			} else {
				realtime = net_thread_prefer_realtime(t->realtime_priority) == 0;
				granted = realtime; /* a limit lowered meanwhile: stay normal */
			}
		}
		enum item_kind kind = it->kind;
		switch (kind) {
		case ITEM_DATA:
			slp_recorder_feed(t->rec, it->data, it->len);
			break;
		case ITEM_RESTART:
			slp_recorder_restart_at_boundary(t->rec);
			break;
		case ITEM_NICK:
			slp_recorder_set_console_nick(t->rec, (const char *)it->data);
			break;
		case ITEM_OUT_DIR:
			slp_recorder_set_out_dir(t->rec, (const char *)it->data);
			break;
		case ITEM_FILE_NAME:
			slp_recorder_set_file_name(t->rec, (const char *)it->data);
			break;
		case ITEM_END:
		case ITEM_QUIT:
			slp_recorder_end(t->rec);
			break;
		}
		free(it);
		if (report_drop && t->user_cb.warning) {
			char msg[160];
			snprintf(msg, sizeof(msg), "the recorder caught up again after dropping %llu bytes",
				 (unsigned long long)dropped);
			t->user_cb.warning(t->user_cb.ud, msg);
		}
		if (kind == ITEM_QUIT)
			return NULL;
	}
}

struct slp_recorder_thread *slp_recorder_thread_create(const struct slp_recorder_options *opts,
						       const struct slp_recorder_callbacks *cb,
						       size_t queue_limit_bytes, const char *thread_name,
						       int realtime_priority)
{
	struct slp_recorder_thread *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	if (cb)
		t->user_cb = *cb;
	snprintf(t->name, sizeof(t->name), "%s", thread_name ? thread_name : "andross: rec");
	t->realtime_priority = realtime_priority;
	t->limit_bytes = queue_limit_bytes ? queue_limit_bytes : SLP_RECORDER_QUEUE_DEFAULT_BYTES;
	t->quit = calloc(1, sizeof(*t->quit));
	t->rec = t->quit ? slp_recorder_create(opts, cb) : NULL;
	if (!t->rec) {
		free(t->quit);
		free(t);
		return NULL;
	}
	t->quit->kind = ITEM_QUIT;
	pthread_mutex_init(&t->mutex, NULL);
	pthread_cond_init(&t->cond, NULL);
	if (pthread_create(&t->thread, NULL, run, t) != 0) {
		free(t->quit);
		slp_recorder_destroy(t->rec);
		pthread_mutex_destroy(&t->mutex);
		pthread_cond_destroy(&t->cond);
		free(t);
		return NULL;
	}
	return t;
}

int slp_recorder_thread_feed(struct slp_recorder_thread *t, const uint8_t *data, size_t len)
{
	if (!len)
		return 0;
	/* copied before the lock, so the recorder thread never waits on this copy */
	struct item *it = malloc(sizeof(*it) + len);
	if (it) {
		it->kind = ITEM_DATA;
		it->len = len;
		memcpy(it->data, data, len);
	}
	pthread_mutex_lock(&t->mutex);
	bool room = it && len <= t->limit_bytes - t->queued_bytes;
	bool first_overflow = false, was_empty = false;
	if (!room) {
		first_overflow = it && !t->overflowing; /* out of memory is not reported as a stalled disk */
		t->overflowing = t->overflowing || it;
		t->dropped_bytes += len;
	} else {
		t->queued_bytes += len;
		was_empty = push(t, it);
	}
	pthread_mutex_unlock(&t->mutex);
	if (!room) {
		free(it);
		/* reported from this thread: the recorder thread is the one that is stuck */
		if (first_overflow && t->user_cb.warning)
			t->user_cb.warning(t->user_cb.ud, "the recorder's queue is full (the disk has stalled); bytes "
							  "are being dropped from the recording, the relay goes on");
		return -1;
	}
	wake(t, was_empty);
	return 0;
}

void slp_recorder_thread_restart_at_boundary(struct slp_recorder_thread *t)
{
	push_control(t, ITEM_RESTART);
}

/* Queues a control item that carries a string. */
static void push_text(struct slp_recorder_thread *t, enum item_kind kind, const char *text)
{
	size_t len = strlen(text ? text : "");
	struct item *it = calloc(1, sizeof(*it) + len + 1);
	if (!it)
		return;
	it->kind = kind;
	memcpy(it->data, text ? text : "", len);
	push_item(t, it);
}

void slp_recorder_thread_set_console_nick(struct slp_recorder_thread *t, const char *nick)
{
	push_text(t, ITEM_NICK, nick);
}

void slp_recorder_thread_set_out_dir(struct slp_recorder_thread *t, const char *out_dir)
{
	push_text(t, ITEM_OUT_DIR, out_dir);
}

void slp_recorder_thread_set_file_name(struct slp_recorder_thread *t, const char *name)
{
	push_text(t, ITEM_FILE_NAME, name);
}

void slp_recorder_thread_end(struct slp_recorder_thread *t)
{
	push_control(t, ITEM_END);
}

size_t slp_recorder_thread_queued_bytes(struct slp_recorder_thread *t)
{
	pthread_mutex_lock(&t->mutex);
	size_t n = t->queued_bytes;
	pthread_mutex_unlock(&t->mutex);
	return n;
}

void slp_recorder_thread_destroy(struct slp_recorder_thread *t)
{
	if (!t)
		return;
	push_item(t, t->quit); /* the thread frees it */
	pthread_join(t->thread, NULL);
	while (t->head) {
		struct item *it = t->head;
		t->head = it->next;
		free(it);
	}
	slp_recorder_destroy(t->rec);
	pthread_mutex_destroy(&t->mutex);
	pthread_cond_destroy(&t->cond);
	free(t);
}
