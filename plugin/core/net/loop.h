/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A single-threaded, non-blocking event loop: file-descriptor watchers and one-shot timers. Every socket that
 * sources, simulators and the relay use goes through this loop and net/sock.h, the only platform-specific code
 * (epoll on Linux, POSIX poll elsewhere; a Windows port replaces loop.c and sock.c). Not thread-safe, except
 * net_loop_post, net_loop_post_node and net_loop_stop. Host names are resolved off the loop's thread by
 * net/resolve.h, whose worker thread the loop owns.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NET_READ 1u
#define NET_WRITE 2u
#define NET_ERROR 4u /* reported, never requested: hang-up or socket error */

struct net_loop;
typedef void (*net_io_fn)(void *ud, int fd, unsigned events);
typedef void (*net_timer_fn)(void *ud);

struct net_loop *net_loop_create(void);
/* Drops every pending host-name lookup and joins the resolver's thread (which can wait for a lookup in progress:
 * see net/resolve.h), then runs what is still posted, then frees the loop. */
void net_loop_destroy(struct net_loop *loop);
/* Watches fd for `events` (NET_READ | NET_WRITE), replacing an earlier watch of the same fd. Returns 0 or -1. */
int net_loop_watch(struct net_loop *loop, int fd, unsigned events, net_io_fn fn, void *ud);
void net_loop_unwatch(struct net_loop *loop, int fd);
/* Calls fn once after delay_ms. Returns a non-zero id for net_loop_cancel, or 0 when out of memory. */
uint64_t net_loop_timer(struct net_loop *loop, uint64_t delay_ms, net_timer_fn fn, void *ud);
void net_loop_cancel(struct net_loop *loop, uint64_t timer_id);
/* Runs until net_loop_stop. Returns 0, or -1 if the wait fails. */
int net_loop_run(struct net_loop *loop);
/* Waits at most timeout_ms (-1: until something happens) and dispatches what is ready. */
int net_loop_run_once(struct net_loop *loop, int timeout_ms);
/*
 * Safe from any thread (not from signal handlers): runs fn(ud) on the loop's thread, in the order posted, at the
 * loop's next pass; wakes a loop that waits. Returns 0, or -1 when out of memory (fn will not run). Functions still
 * posted when the loop is destroyed run in net_loop_destroy, on its caller's thread, so whatever they own is freed.
 */
int net_loop_post(struct net_loop *loop, net_timer_fn fn, void *ud);
/* The same with memory the caller provides, so it cannot fail: for a thread that must be able to hand every result
 * to the loop (net/resolve.c). The node's fields are the loop's; it must stay valid until fn(ud) has run, and fn may
 * free it. */
struct net_post {
	net_timer_fn fn;
	void *ud;
	struct net_post *next;
	bool loop_owned; /* made by net_loop_post: freed after fn ran */
};
void net_loop_post_node(struct net_loop *loop, struct net_post *node, net_timer_fn fn, void *ud);
/* Runs, on the calling thread, the functions posted so far: for the owner of a loop that no longer runs. */
void net_loop_run_posted(struct net_loop *loop);
/* Safe from any thread and from signal handlers. */
void net_loop_stop(struct net_loop *loop);
bool net_loop_stopping(const struct net_loop *loop);
/* Names the calling thread as ps, top -H, gdb and OBS's crash logs show it, cut to 15 bytes ("andross: loop"). */
void net_thread_name(const char *name);
/* Asks the scheduler to run the calling thread soon after it wakes, at the cost of shorter turns on the CPU: for
 * threads that sleep most of the time and whose work is late when it waits (a recorder making game events, the
 * thread that fires them). On Linux 6.12 and later (EEVDF) a short slice gives an earlier deadline, so a woken
 * thread preempts a busy one (the relay's sends) instead of waiting for its turn; elsewhere it does nothing.
 * Never needs a privilege; returns 0, or -1 when the system did not take it. */
int net_thread_prefer_latency(void);
/* Realtime scheduling for the calling thread, where the system grants it: SCHED_FIFO at `priority` (1-99) on Linux,
 * so the thread runs the moment it wakes, ahead of every normal thread (OBS's renderer, the encoder, the relay's
 * sends), until it sleeps again. For threads that do a little work per wake-up and are late when they wait (a
 * recorder making game events, the thread that fires them); keep the priorities low (1, 2), so that audio threads
 * (PipeWire, JACK: 20 and up) still come first. Granted with CAP_SYS_NICE or an RLIMIT_RTPRIO of at least
 * `priority` (limits.conf's `rtprio`, as for JACK); the kernel keeps 5% of each second for normal threads
 * (sched_rt_runtime_us). Returns 0, or -1 with errno (EPERM: not granted; EINVAL: a priority out of range) and
 * the thread unchanged. */
int net_thread_prefer_realtime(int priority);
/* Back to normal scheduling (SCHED_OTHER) from net_thread_prefer_realtime; always allowed. Returns 0 or -1. */
int net_thread_leave_realtime(void);
/* The other way round, for threads whose work can wait a little (obs-websocket's vendor events): SCHED_BATCH on
 * Linux, so that the thread never preempts another when it wakes and takes the CPU at its turn; it keeps its full
 * share. Never needs a privilege; returns 0, or -1 when the system did not take it. */
int net_thread_prefer_throughput(void);
/* Monotonic milliseconds, microseconds and nanoseconds (CLOCK_MONOTONIC on Linux: the clock of OBS's
 * os_gettime_ns and node's process.hrtime, so other processes' stamps compare with these). */
uint64_t net_now_ms(void);
uint64_t net_now_us(void);
uint64_t net_now_ns(void);

#ifdef __cplusplus
}
#endif
