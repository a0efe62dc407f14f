/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Two back ends behind one API: epoll on Linux, where a wait costs the same whatever the number of idle sockets
 * (a relay with 64 clients wakes for one readable source socket per frame), and POSIX poll elsewhere (the model
 * for a WSAPoll port). Define ANDROSS_NET_POLL to use poll on Linux too; the tests build both.
 *
 * Watches live in a table indexed by file descriptor. Each watch of a descriptor gets a new generation number, so
 * an event reported for a descriptor that was unwatched (and maybe reused) during the same dispatch is skipped.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include "loop.h"
#include "resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#endif

#if defined(__linux__) && !defined(ANDROSS_NET_POLL)
#define LOOP_EPOLL 1
#include <sys/epoll.h>
#else
#define LOOP_EPOLL 0
#include <poll.h>
#endif

struct watch {
	unsigned events; /* 0: not watched */
	uint32_t gen;
	net_io_fn fn;
	void *ud;
};

struct timer {
	uint64_t id;
	uint64_t due_ms;
	net_timer_fn fn;
	void *ud;
};

/* what one wait reported for one descriptor */
struct ready {
	int fd;
	uint32_t gen;
	unsigned events;
};

struct net_loop {
	struct watch *watches; /* indexed by fd */
	size_t cap_watches;
	uint32_t next_gen;
	struct timer *timers;
	size_t n_timers, cap_timers;
	uint64_t next_timer_id;
	struct ready *ready;
	size_t cap_ready;
#if LOOP_EPOLL
	int epfd;
	struct epoll_event *evs;
	size_t cap_evs;
	size_t n_watched; /* sizes evs */
#else
	struct pollfd *pfds;
	size_t cap_pfds;
#endif
	int wake[2];
	atomic_int stop;           /* lock-free, so both thread-safe and async-signal-safe */
	pthread_mutex_t post_lock; /* guards the posted list only; never held while a function runs */
	struct net_post *posted_head, *posted_tail;
	struct net_resolver *resolver; /* net/resolve.c's state; its worker thread starts at the first name */
};

void net_thread_name(const char *name)
{
	char cut[16];
	snprintf(cut, sizeof(cut), "%s", name);
#if defined(__APPLE__)
	pthread_setname_np(cut);
#elif defined(__linux__) || defined(__FreeBSD__)
	pthread_setname_np(pthread_self(), cut);
#endif
}

int net_thread_prefer_latency(void)
{
#if defined(__linux__) && defined(SYS_sched_setattr)
	/* struct sched_attr (linux/sched/types.h; glibc has no wrapper): SCHED_OTHER at the thread's nice value, with
	 * sched_runtime as the slice it asks for */
	struct {
		uint32_t size;
		uint32_t sched_policy;
		uint64_t sched_flags;
		int32_t sched_nice;
		uint32_t sched_priority;
		uint64_t sched_runtime;
		uint64_t sched_deadline;
		uint64_t sched_period;
	} attr = {.size = sizeof(attr), .sched_policy = 0 /* SCHED_OTHER */, .sched_runtime = 100 * 1000 /* ns */};
	errno = 0;
	int nice = getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid));
	if (errno == 0)
		attr.sched_nice = nice;
	return syscall(SYS_sched_setattr, 0, &attr, 0) == 0 ? 0 : -1;
#else
	return -1;
#endif
}

#if defined(__linux__)
/* The calling thread's scheduling policy. Returns 0, or -1 with errno (EPERM: not allowed). */
static int set_policy(int policy, int priority)
{
	struct sched_param param = {.sched_priority = priority};
	int rc = pthread_setschedparam(pthread_self(), policy, &param);
	errno = rc;
	return rc ? -1 : 0;
}
#endif

int net_thread_prefer_realtime(int priority)
{
#if defined(__linux__)
	if (priority < 1 || priority > 99) {
		errno = EINVAL;
		return -1;
	}
	return set_policy(SCHED_FIFO, priority); /* EPERM: neither RLIMIT_RTPRIO nor CAP_SYS_NICE allows it */
#else
	(void)priority;
	errno = ENOTSUP;
	return -1;
#endif
}

int net_thread_leave_realtime(void)
{
#if defined(__linux__)
	return set_policy(SCHED_OTHER, 0);
#else
	return -1;
#endif
}

int net_thread_prefer_throughput(void)
{
#if defined(__linux__)
	return set_policy(SCHED_BATCH, 0);
#else
	return -1;
#endif
}

uint64_t net_now_ms(void)
{
	return net_now_us() / 1000;
}

uint64_t net_now_us(void)
{
	return net_now_ns() / 1000u;
}

uint64_t net_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#define WAKE_FD_TAG UINT64_MAX

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
#if LOOP_EPOLL
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = WAKE_FD_TAG};
	if (loop->epfd < 0 || epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->wake[0], &ev) < 0) {
		if (loop->epfd >= 0)
			close(loop->epfd);
		close(loop->wake[0]);
		close(loop->wake[1]);
		free(loop);
		return NULL;
	}
#endif
	pthread_mutex_init(&loop->post_lock, NULL);
	loop->next_timer_id = 1;
	loop->next_gen = 1;
	loop->resolver = net_resolver_create(loop);
	if (!loop->resolver) {
		net_loop_destroy(loop);
		return NULL;
	}
	return loop;
}

struct net_resolver *net_loop_resolver(struct net_loop *loop)
{
	return loop->resolver;
}

/* Runs what was posted before this call; what those functions post waits for the next pass. Returns false when
 * nothing was posted. */
static bool run_posted(struct net_loop *loop)
{
	pthread_mutex_lock(&loop->post_lock);
	struct net_post *p = loop->posted_head;
	loop->posted_head = loop->posted_tail = NULL;
	pthread_mutex_unlock(&loop->post_lock);
	if (!p)
		return false;
	while (p) {
		/* a caller's node may be freed by its function: read it first */
		struct net_post *next = p->next;
		bool loop_owned = p->loop_owned;
		p->fn(p->ud);
		if (loop_owned)
			free(p);
		p = next;
	}
	return true;
}

void net_loop_run_posted(struct net_loop *loop)
{
	while (run_posted(loop)) {
	}
}

static void post(struct net_loop *loop, struct net_post *p)
{
	pthread_mutex_lock(&loop->post_lock);
	if (loop->posted_tail)
		loop->posted_tail->next = p;
	else
		loop->posted_head = p;
	loop->posted_tail = p;
	pthread_mutex_unlock(&loop->post_lock);
	char c = 1;
	ssize_t n = write(loop->wake[1], &c, 1); /* a full pipe already wakes the loop */
	(void)n;
}

int net_loop_post(struct net_loop *loop, net_timer_fn fn, void *ud)
{
	struct net_post *p = malloc(sizeof(*p));
	if (!p)
		return -1;
	*p = (struct net_post){.fn = fn, .ud = ud, .loop_owned = true};
	post(loop, p);
	return 0;
}

void net_loop_post_node(struct net_loop *loop, struct net_post *node, net_timer_fn fn, void *ud)
{
	*node = (struct net_post){.fn = fn, .ud = ud, .loop_owned = false};
	post(loop, node);
}

void net_loop_destroy(struct net_loop *loop)
{
	if (!loop)
		return;
	/* no lookup answer may come after this: the resolver's thread is joined and its requests are dropped (their
	 * answers already posted free themselves, below) */
	net_resolver_close(loop->resolver);
	/* posted functions own what they were given: run them (until none is left: one may post another) */
	net_loop_run_posted(loop);
	net_resolver_free(loop->resolver);
	pthread_mutex_destroy(&loop->post_lock);
#if LOOP_EPOLL
	close(loop->epfd);
	free(loop->evs);
#else
	free(loop->pfds);
#endif
	close(loop->wake[0]);
	close(loop->wake[1]);
	free(loop->watches);
	free(loop->timers);
	free(loop->ready);
	free(loop);
}

static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return true;
	size_t c = *cap ? *cap : 16;
	while (c < need)
		c *= 2;
	void *q = realloc(*p, c * elem);
	if (!q)
		return false;
	memset((char *)q + *cap * elem, 0, (c - *cap) * elem);
	*p = q;
	*cap = c;
	return true;
}

#if LOOP_EPOLL
static uint32_t epoll_mask(unsigned events)
{
	return ((events & NET_READ) ? EPOLLIN : 0) | ((events & NET_WRITE) ? EPOLLOUT : 0);
}

static int epoll_set(struct net_loop *loop, int fd, const struct watch *w, bool is_new)
{
	struct epoll_event ev = {.events = epoll_mask(w->events), .data.u64 = ((uint64_t)w->gen << 32) | (uint32_t)fd};
	if (epoll_ctl(loop->epfd, is_new ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev) == 0)
		return 0;
	/* the descriptor was closed (and reused) without an unwatch, or added by a watch we forgot: try the other op */
	if (errno == ENOENT || errno == EEXIST)
		return epoll_ctl(loop->epfd, errno == ENOENT ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev);
	return -1;
}
#endif

int net_loop_watch(struct net_loop *loop, int fd, unsigned events, net_io_fn fn, void *ud)
{
	if (fd < 0 || !(events & (NET_READ | NET_WRITE)))
		return -1;
	if (!grow((void **)&loop->watches, &loop->cap_watches, (size_t)fd + 1, sizeof(struct watch)))
		return -1;
	struct watch *w = &loop->watches[fd];
	bool is_new = w->events == 0;
	struct watch nw = {.events = events & (NET_READ | NET_WRITE),
			   .gen = is_new ? loop->next_gen++ : w->gen,
			   .fn = fn,
			   .ud = ud};
	if (!nw.gen)
		nw.gen = loop->next_gen++; /* 0 never names a live watch */
#if LOOP_EPOLL
	/* always told to the kernel: the fd may have been closed and reused without an unwatch */
	if (epoll_set(loop, fd, &nw, is_new) < 0)
		return -1;
	if (is_new)
		loop->n_watched++;
#endif
	*w = nw;
	return 0;
}

void net_loop_unwatch(struct net_loop *loop, int fd)
{
	if (fd < 0 || (size_t)fd >= loop->cap_watches || !loop->watches[fd].events)
		return;
#if LOOP_EPOLL
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL); /* fails harmlessly if fd was already closed */
	loop->n_watched--;
#endif
	memset(&loop->watches[fd], 0, sizeof(loop->watches[fd]));
}

uint64_t net_loop_timer(struct net_loop *loop, uint64_t delay_ms, net_timer_fn fn, void *ud)
{
	if (loop->n_timers == loop->cap_timers &&
	    !grow((void **)&loop->timers, &loop->cap_timers, loop->n_timers + 1, sizeof(struct timer)))
		return 0;
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
	atomic_store(&loop->stop, 1);
	char c = 1;
	ssize_t n = write(loop->wake[1], &c, 1);
	(void)n;
}

bool net_loop_stopping(const struct net_loop *loop)
{
	return atomic_load(&loop->stop) != 0;
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
		if (atomic_load(&loop->stop))
			return;
	}
}

static void drain_wake(struct net_loop *loop)
{
	char buf[64];
	while (read(loop->wake[0], buf, sizeof(buf)) > 0) {
	}
}

/* Waits and fills loop->ready. Returns the number of ready descriptors, or -1. */
static int wait_ready(struct net_loop *loop, int timeout_ms)
{
#if LOOP_EPOLL
	size_t want = loop->n_watched + 1;
	if (!grow((void **)&loop->evs, &loop->cap_evs, want, sizeof(struct epoll_event)) ||
	    !grow((void **)&loop->ready, &loop->cap_ready, want, sizeof(struct ready)))
		return -1;
	int rc = epoll_wait(loop->epfd, loop->evs, (int)want, timeout_ms);
	if (rc < 0)
		return errno == EINTR ? 0 : -1;
	int n = 0;
	for (int i = 0; i < rc; i++) {
		const struct epoll_event *e = &loop->evs[i];
		if (e->data.u64 == WAKE_FD_TAG) {
			drain_wake(loop);
			continue;
		}
		unsigned ev = 0;
		if (e->events & (EPOLLIN | EPOLLHUP))
			ev |= NET_READ;
		if (e->events & EPOLLOUT)
			ev |= NET_WRITE;
		if (e->events & (EPOLLERR | EPOLLHUP))
			ev |= NET_ERROR;
		loop->ready[n++] = (struct ready){.fd = (int)(uint32_t)e->data.u64,
						  .gen = (uint32_t)(e->data.u64 >> 32),
						  .events = ev};
	}
	return n;
#else
	size_t n_fds = 1;
	for (size_t fd = 0; fd < loop->cap_watches; fd++)
		n_fds += loop->watches[fd].events != 0;
	if (!grow((void **)&loop->pfds, &loop->cap_pfds, n_fds, sizeof(struct pollfd)) ||
	    !grow((void **)&loop->ready, &loop->cap_ready, n_fds, sizeof(struct ready)))
		return -1;
	loop->pfds[0] = (struct pollfd){.fd = loop->wake[0], .events = POLLIN};
	size_t k = 1;
	for (size_t fd = 0; fd < loop->cap_watches; fd++) {
		const struct watch *w = &loop->watches[fd];
		if (!w->events)
			continue;
		loop->pfds[k] = (struct pollfd){.fd = (int)fd,
						.events = (short)(((w->events & NET_READ) ? POLLIN : 0) |
								  ((w->events & NET_WRITE) ? POLLOUT : 0))};
		k++;
	}
	int rc = poll(loop->pfds, (nfds_t)k, timeout_ms);
	if (rc < 0)
		return errno == EINTR ? 0 : -1;
	if (rc > 0 && loop->pfds[0].revents)
		drain_wake(loop);
	int n = 0;
	for (size_t i = 1; rc > 0 && i < k; i++) {
		short re = loop->pfds[i].revents;
		if (!re)
			continue;
		unsigned ev = 0;
		if (re & (POLLIN | POLLHUP))
			ev |= NET_READ;
		if (re & POLLOUT)
			ev |= NET_WRITE;
		if (re & (POLLERR | POLLHUP | POLLNVAL))
			ev |= NET_ERROR;
		/* no callback has run since the poll, so the watch is the one polled */
		int fd = loop->pfds[i].fd;
		loop->ready[n++] = (struct ready){.fd = fd, .gen = loop->watches[fd].gen, .events = ev};
	}
	return n;
#endif
}

int net_loop_run_once(struct net_loop *loop, int timeout_ms)
{
	uint64_t now = net_now_ms();
	for (size_t i = 0; i < loop->n_timers; i++) {
		int64_t wait = (int64_t)loop->timers[i].due_ms - (int64_t)now;
		if (wait < 0)
			wait = 0;
		if (timeout_ms < 0 || wait < timeout_ms)
			timeout_ms = (int)wait;
	}
	int n = wait_ready(loop, timeout_ms);
	if (n < 0)
		return -1;
	run_posted(loop);
	for (int i = 0; i < n && !atomic_load(&loop->stop); i++) {
		const struct ready *r = &loop->ready[i];
		if ((size_t)r->fd >= loop->cap_watches)
			continue;
		const struct watch *w = &loop->watches[r->fd];
		/* unwatched, or watched anew, by an earlier callback of this pass */
		if (!w->events || w->gen != r->gen)
			continue;
		unsigned ev = r->events;
		if (!(w->events & NET_WRITE))
			ev &= ~NET_WRITE;
		if (ev)
			w->fn(w->ud, r->fd, ev);
	}
	if (!atomic_load(&loop->stop))
		run_due_timers(loop);
	return 0;
}

int net_loop_run(struct net_loop *loop)
{
	while (!atomic_load(&loop->stop)) {
		if (net_loop_run_once(loop, -1) < 0)
			return -1;
	}
	return 0;
}
