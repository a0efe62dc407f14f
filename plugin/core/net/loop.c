/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct watch {
	int fd;
	unsigned events;
	net_io_fn fn;
	void *ud;
	bool removed;
};

struct timer {
	uint64_t id;
	uint64_t due_ms;
	net_timer_fn fn;
	void *ud;
};

struct net_loop {
	struct watch *watches;
	size_t n_watches, cap_watches;
	struct timer *timers;
	size_t n_timers, cap_timers;
	uint64_t next_timer_id;
	struct pollfd *pfds;
	size_t cap_pfds;
	int wake[2];
	volatile sig_atomic_t stop;
};

uint64_t net_now_ms(void)
{
	return net_now_us() / 1000;
}

uint64_t net_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

struct net_loop *net_loop_create(void)
{
	struct net_loop *loop = calloc(1, sizeof(*loop));
	if (!loop)
		return NULL;
	if (pipe(loop->wake) < 0) {
		free(loop);
		return NULL;
	}
	for (int i = 0; i < 2; i++) {
		fcntl(loop->wake[i], F_SETFL, fcntl(loop->wake[i], F_GETFL) | O_NONBLOCK);
		fcntl(loop->wake[i], F_SETFD, FD_CLOEXEC);
	}
	loop->next_timer_id = 1;
	return loop;
}

void net_loop_destroy(struct net_loop *loop)
{
	if (!loop)
		return;
	close(loop->wake[0]);
	close(loop->wake[1]);
	free(loop->watches);
	free(loop->timers);
	free(loop->pfds);
	free(loop);
}

static struct watch *find_watch(struct net_loop *loop, int fd)
{
	for (size_t i = 0; i < loop->n_watches; i++)
		if (loop->watches[i].fd == fd && !loop->watches[i].removed)
			return &loop->watches[i];
	return NULL;
}

int net_loop_watch(struct net_loop *loop, int fd, unsigned events, net_io_fn fn, void *ud)
{
	struct watch *w = find_watch(loop, fd);
	if (!w) {
		if (loop->n_watches == loop->cap_watches) {
			size_t cap = loop->cap_watches ? loop->cap_watches * 2 : 16;
			struct watch *p = realloc(loop->watches, cap * sizeof(*p));
			if (!p)
				return -1;
			loop->watches = p;
			loop->cap_watches = cap;
		}
		w = &loop->watches[loop->n_watches++];
	}
	w->fd = fd;
	w->events = events;
	w->fn = fn;
	w->ud = ud;
	w->removed = false;
	return 0;
}

void net_loop_unwatch(struct net_loop *loop, int fd)
{
	struct watch *w = find_watch(loop, fd);
	if (w)
		w->removed = true; /* compacted after dispatch, so a callback may unwatch safely */
}

uint64_t net_loop_timer(struct net_loop *loop, uint64_t delay_ms, net_timer_fn fn, void *ud)
{
	if (loop->n_timers == loop->cap_timers) {
		size_t cap = loop->cap_timers ? loop->cap_timers * 2 : 16;
		struct timer *p = realloc(loop->timers, cap * sizeof(*p));
		if (!p)
			return 0;
		loop->timers = p;
		loop->cap_timers = cap;
	}
	struct timer *t = &loop->timers[loop->n_timers++];
	t->id = loop->next_timer_id++;
	t->due_ms = net_now_ms() + delay_ms;
	t->fn = fn;
	t->ud = ud;
	return t->id;
}

void net_loop_cancel(struct net_loop *loop, uint64_t timer_id)
{
	for (size_t i = 0; i < loop->n_timers; i++) {
		if (loop->timers[i].id == timer_id) {
			loop->timers[i] = loop->timers[--loop->n_timers];
			return;
		}
	}
}

void net_loop_stop(struct net_loop *loop)
{
	loop->stop = 1;
	char c = 1;
	ssize_t n = write(loop->wake[1], &c, 1);
	(void)n;
}

bool net_loop_stopping(const struct net_loop *loop)
{
	return loop->stop != 0;
}

static void compact_watches(struct net_loop *loop)
{
	size_t j = 0;
	for (size_t i = 0; i < loop->n_watches; i++)
		if (!loop->watches[i].removed)
			loop->watches[j++] = loop->watches[i];
	loop->n_watches = j;
}

static void run_due_timers(struct net_loop *loop)
{
	uint64_t now = net_now_ms();
	/* run only timers due now; timers added by callbacks wait for the next pass */
	for (;;) {
		size_t best = SIZE_MAX;
		for (size_t i = 0; i < loop->n_timers; i++)
			if (loop->timers[i].due_ms <= now &&
			    (best == SIZE_MAX || loop->timers[i].id < loop->timers[best].id))
				best = i;
		if (best == SIZE_MAX)
			return;
		struct timer t = loop->timers[best];
		loop->timers[best] = loop->timers[--loop->n_timers];
		t.fn(t.ud);
		if (loop->stop)
			return;
	}
}

int net_loop_run_once(struct net_loop *loop, int timeout_ms)
{
	compact_watches(loop);
	size_t n = loop->n_watches + 1;
	if (n > loop->cap_pfds) {
		struct pollfd *p = realloc(loop->pfds, n * sizeof(*p));
		if (!p)
			return -1;
		loop->pfds = p;
		loop->cap_pfds = n;
	}
	loop->pfds[0].fd = loop->wake[0];
	loop->pfds[0].events = POLLIN;
	loop->pfds[0].revents = 0;
	for (size_t i = 0; i < loop->n_watches; i++) {
		struct pollfd *p = &loop->pfds[i + 1];
		p->fd = loop->watches[i].fd;
		p->events = (short)(((loop->watches[i].events & NET_READ) ? POLLIN : 0) |
				    ((loop->watches[i].events & NET_WRITE) ? POLLOUT : 0));
		p->revents = 0;
	}
	uint64_t now = net_now_ms();
	for (size_t i = 0; i < loop->n_timers; i++) {
		int64_t wait = (int64_t)loop->timers[i].due_ms - (int64_t)now;
		if (wait < 0)
			wait = 0;
		if (timeout_ms < 0 || wait < timeout_ms)
			timeout_ms = (int)wait;
	}
	int rc = poll(loop->pfds, (nfds_t)n, timeout_ms);
	if (rc < 0 && errno != EINTR)
		return -1;
	if (rc > 0 && loop->pfds[0].revents) {
		char buf[64];
		while (read(loop->wake[0], buf, sizeof(buf)) > 0) {
		}
	}
	size_t watched = loop->n_watches;
	for (size_t i = 0; rc > 0 && i < watched && !loop->stop; i++) {
		short re = loop->pfds[i + 1].revents;
		if (!re)
			continue;
		struct watch *w = &loop->watches[i];
		if (w->removed || w->fd != loop->pfds[i + 1].fd)
			continue;
		unsigned ev = 0;
		if (re & (POLLIN | POLLHUP))
			ev |= NET_READ;
		if (re & POLLOUT)
			ev |= NET_WRITE;
		if (re & (POLLERR | POLLHUP | POLLNVAL))
			ev |= NET_ERROR;
		w->fn(w->ud, w->fd, ev);
	}
	if (!loop->stop)
		run_due_timers(loop);
	return 0;
}

int net_loop_run(struct net_loop *loop)
{
	while (!loop->stop) {
		if (net_loop_run_once(loop, -1) < 0)
			return -1;
	}
	return 0;
}
