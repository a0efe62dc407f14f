/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A recorder on its own thread, so the thread that reads sources and serves relay clients never waits on the
 * disk or on game-event consumers. The loop thread hands over byte chunks (copied into a bounded queue, never
 * blocking); the recorder thread runs splitter -> game state -> .slp writer and calls the callbacks. Every
 * callback runs on the recorder thread, except the one `warning` that says the queue is full, which runs on the
 * thread that called slp_recorder_thread_feed.
 */
#pragma once

#include "slp_recorder.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SLP_RECORDER_QUEUE_DEFAULT_BYTES (256u * 1024u * 1024u)
/* A realtime recorder works through a backlog larger than this (a relay's history of a long game, bytes queued
 * while the disk was slow) at normal scheduling, and is realtime again once it has caught up. */
#define SLP_RECORDER_REALTIME_BACKLOG_BYTES (1024u * 1024u)

struct slp_recorder_thread;

/* queue_limit_bytes 0 means SLP_RECORDER_QUEUE_DEFAULT_BYTES. thread_name (at most 15 bytes; NULL: "andross: rec")
 * is what ps and gdb show. realtime_priority 1-99: the thread asks for realtime scheduling at that priority
 * (net_thread_prefer_realtime) while its backlog is at most SLP_RECORDER_REALTIME_BACKLOG_BYTES, and where it is
 * not granted, or with 0, for short slices (net_thread_prefer_latency). Returns NULL when out of memory or threads. */
struct slp_recorder_thread *slp_recorder_thread_create(const struct slp_recorder_options *opts,
						       const struct slp_recorder_callbacks *cb,
						       size_t queue_limit_bytes, const char *thread_name,
						       int realtime_priority);
/* Queues source bytes. Never blocks. Returns 0, or -1 when the queue is full (the bytes are not taken and a
 * warning is reported once per episode: the disk has stalled for longer than the queue holds). */
int slp_recorder_thread_feed(struct slp_recorder_thread *t, const uint8_t *data, size_t len);
/* Queues a restart at an event boundary (see slp_recorder_restart_at_boundary). */
void slp_recorder_thread_restart_at_boundary(struct slp_recorder_thread *t);
/* Queues a new console nickname (see slp_recorder_set_console_nick). */
void slp_recorder_thread_set_console_nick(struct slp_recorder_thread *t, const char *nick);
/* Queues a new folder for the next game's file (see slp_recorder_set_out_dir). */
void slp_recorder_thread_set_out_dir(struct slp_recorder_thread *t, const char *out_dir);
/* Queues a name for the next games' files (see slp_recorder_set_file_name). */
void slp_recorder_thread_set_file_name(struct slp_recorder_thread *t, const char *name);
/* Queues the end of the source (see slp_recorder_end). */
void slp_recorder_thread_end(struct slp_recorder_thread *t);
/* Bytes queued and not yet handled. */
size_t slp_recorder_thread_queued_bytes(struct slp_recorder_thread *t);
/* Handles everything queued, ends the source, joins the thread and frees it. */
void slp_recorder_thread_destroy(struct slp_recorder_thread *t);

#ifdef __cplusplus
}
#endif
