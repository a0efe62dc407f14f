/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The event loop (plugin/core/net/loop.c) on real sockets: readiness, write interest, unwatch and fd reuse during
 * a dispatch, timers and a stop from another thread. Built twice: with the platform's back end (epoll on Linux)
 * and with ANDROSS_NET_POLL (the portable poll back end).
 */
#define _GNU_SOURCE /* SCHED_BATCH */
#include "net/loop.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct hit {
	int calls;
	int fd;
	unsigned events;
	/* what the callback does */
	struct net_loop *loop;
	int unwatch_fd;       /* >= 0: unwatch this fd */
	bool close_and_reuse; /* close unwatch_fd, make a new pair, watch its end with `reuse_hit` */
	struct hit *reuse_hit;
	int reuse_pair[2];
	bool drain;
};

static void on_io(void *ud, int fd, unsigned events)
{
	struct hit *h = ud;
	h->calls++;
	h->fd = fd;
	h->events = events;
	if (h->drain) {
		char buf[256];
		while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0) {
		}
	}
	if (h->unwatch_fd >= 0) {
		net_loop_unwatch(h->loop, h->unwatch_fd);
		if (h->close_and_reuse) {
			close(h->unwatch_fd);
			assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, h->reuse_pair), 0);
			net_loop_watch(h->loop, h->reuse_pair[0], NET_READ, on_io, h->reuse_hit);
		}
		h->unwatch_fd = -1;
	}
}

static void pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
}

static void test_read_and_write_interest(void **state)
{
	(void)state;
	struct net_loop *loop = net_loop_create();
	assert_non_null(loop);
	int a[2];
	pair(a);
	struct hit h = {.unwatch_fd = -1, .drain = true};
	assert_int_equal(net_loop_watch(loop, a[0], NET_READ, on_io, &h), 0);
	/* nothing to read: the wait times out, no call */
	assert_int_equal(net_loop_run_once(loop, 20), 0);
	assert_int_equal(h.calls, 0);
	assert_int_equal(write(a[1], "x", 1), 1);
	assert_int_equal(net_loop_run_once(loop, 1000), 0);
	assert_int_equal(h.calls, 1);
	assert_int_equal(h.fd, a[0]);
	assert_true(h.events & NET_READ);
	assert_false(h.events & NET_WRITE); /* writable, but not asked */
	/* asking for write: reported at once */
	assert_int_equal(net_loop_watch(loop, a[0], NET_READ | NET_WRITE, on_io, &h), 0);
	assert_int_equal(net_loop_run_once(loop, 1000), 0);
	assert_int_equal(h.calls, 2);
	assert_true(h.events & NET_WRITE);
	assert_false(h.events & NET_READ);
	/* back to read only: no call */
	assert_int_equal(net_loop_watch(loop, a[0], NET_READ, on_io, &h), 0);
	assert_int_equal(net_loop_run_once(loop, 20), 0);
	assert_int_equal(h.calls, 2);
	/* the peer hangs up: reported as readable (a read then sees the end) */
	close(a[1]);
	assert_int_equal(net_loop_run_once(loop, 1000), 0);
	assert_int_equal(h.calls, 3);
	assert_true(h.events & NET_READ);
	net_loop_unwatch(loop, a[0]);
	close(a[0]);
	net_loop_destroy(loop);
}

static void test_only_ready_fds_are_dispatched(void **state)
{
	(void)state;
	enum { N = 300 };
	struct net_loop *loop = net_loop_create();
	int(*pairs)[2] = calloc(N, sizeof(*pairs));
	struct hit *hits = calloc(N, sizeof(*hits));
	for (int i = 0; i < N; i++) {
		pair(pairs[i]);
		hits[i] = (struct hit){.unwatch_fd = -1, .drain = true};
		assert_int_equal(net_loop_watch(loop, pairs[i][0], NET_READ, on_io, &hits[i]), 0);
	}
	for (int round = 0; round < 5; round++) {
		int k = (round * 97 + 13) % N;
		assert_int_equal(write(pairs[k][1], "y", 1), 1);
		assert_int_equal(net_loop_run_once(loop, 1000), 0);
		for (int i = 0; i < N; i++)
			assert_int_equal(hits[i].calls, i == k ? 1 : 0);
		hits[k].calls = 0;
	}
	for (int i = 0; i < N; i++) {
		net_loop_unwatch(loop, pairs[i][0]);
		close(pairs[i][0]);
		close(pairs[i][1]);
	}
	free(pairs);
	free(hits);
	net_loop_destroy(loop);
}

/* Makes both a[0] and b[0] readable and runs one pass. Each one's callback unwatches the other's fd, so only the
 * first to run may be called. */
static void dispatch_two_readable(struct net_loop *loop, int a[2], int b[2], struct hit *ha, struct hit *hb)
{
	net_loop_watch(loop, a[0], NET_READ, on_io, ha);
	net_loop_watch(loop, b[0], NET_READ, on_io, hb);
	assert_int_equal(write(a[1], "1", 1), 1);
	assert_int_equal(write(b[1], "2", 1), 1);
	assert_int_equal(net_loop_run_once(loop, 1000), 0);
	assert_int_equal(ha->calls + hb->calls, 1);
}

/* Two readable fds; the first callback to run unwatches the other, which then must not be called. */
static void test_unwatch_during_dispatch(void **state)
{
	(void)state;
	struct net_loop *loop = net_loop_create();
	int a[2], b[2];
	pair(a);
	pair(b);
	struct hit ha = {.loop = loop, .unwatch_fd = b[0], .drain = true};
	struct hit hb = {.loop = loop, .unwatch_fd = a[0], .drain = true};
	dispatch_two_readable(loop, a, b, &ha, &hb);
	/* the one still watched is still served */
	struct hit *alive = ha.calls ? &ha : &hb;
	int alive_fd = ha.calls ? a[1] : b[1];
	assert_int_equal(write(alive_fd, "3", 1), 1);
	assert_int_equal(net_loop_run_once(loop, 1000), 0);
	assert_int_equal(alive->calls, 2);
	net_loop_unwatch(loop, a[0]);
	net_loop_unwatch(loop, b[0]);
	close(a[0]), close(a[1]), close(b[0]), close(b[1]);
	net_loop_destroy(loop);
}

/*
 * The first callback closes the other readable fd and opens a new socket, which gets the same number, and watches
 * it. The event already collected for the old fd must not reach the new watch (its socket has nothing to read).
 */
static void test_fd_reused_during_dispatch(void **state)
{
	(void)state;
	struct net_loop *loop = net_loop_create();
	int a[2], b[2];
	pair(a);
	pair(b);
	struct hit fresh = {.unwatch_fd = -1};
	struct hit ha = {.loop = loop, .unwatch_fd = b[0], .close_and_reuse = true, .reuse_hit = &fresh, .drain = true};
	struct hit hb = {.loop = loop, .unwatch_fd = a[0], .close_and_reuse = true, .reuse_hit = &fresh, .drain = true};
	dispatch_two_readable(loop, a, b, &ha, &hb);
	struct hit *first = ha.calls ? &ha : &hb;
	int closed = ha.calls ? b[0] : a[0];
	assert_int_equal(first->reuse_pair[0], closed); /* the lowest free number was reused */
	assert_int_equal(fresh.calls, 0);
	/* the new socket is served once it has data */
	assert_int_equal(write(first->reuse_pair[1], "z", 1), 1);
	fresh.drain = true;
	assert_int_equal(net_loop_run_once(loop, 1000), 0);
	assert_int_equal(fresh.calls, 1);
	assert_int_equal(fresh.fd, first->reuse_pair[0]);
	int survivor = ha.calls ? a[0] : b[0];
	net_loop_unwatch(loop, survivor);
	net_loop_unwatch(loop, first->reuse_pair[0]);
	close(survivor);
	close(first->reuse_pair[0]);
	close(first->reuse_pair[1]);
	close(a[1]);
	close(b[1]);
	net_loop_destroy(loop);
}

/* A descriptor closed without an unwatch, whose number is then reused and watched again, is served. */
static void test_closed_without_unwatch(void **state)
{
	(void)state;
	struct net_loop *loop = net_loop_create();
	int a[2], b[2];
	pair(a);
	struct hit h = {.unwatch_fd = -1, .drain = true};
	net_loop_watch(loop, a[0], NET_READ, on_io, &h);
	int old = a[0];
	close(a[0]);
	close(a[1]);
	pair(b);
	assert_int_equal(b[0], old);
	assert_int_equal(net_loop_watch(loop, b[0], NET_READ, on_io, &h), 0);
	assert_int_equal(write(b[1], "q", 1), 1);
	assert_int_equal(net_loop_run_once(loop, 1000), 0);
	assert_int_equal(h.calls, 1);
	net_loop_unwatch(loop, b[0]);
	close(b[0]);
	close(b[1]);
	net_loop_destroy(loop);
}

static int order[8], n_order;

static void on_timer(void *ud)
{
	order[n_order++] = (int)(intptr_t)ud;
}

static void test_timers(void **state)
{
	(void)state;
	struct net_loop *loop = net_loop_create();
	n_order = 0;
	uint64_t t0 = net_now_ms();
	net_loop_timer(loop, 30, on_timer, (void *)(intptr_t)3);
	net_loop_timer(loop, 10, on_timer, (void *)(intptr_t)1);
	uint64_t cancelled = net_loop_timer(loop, 5, on_timer, (void *)(intptr_t)9);
	net_loop_timer(loop, 20, on_timer, (void *)(intptr_t)2);
	net_loop_cancel(loop, cancelled);
	while (n_order < 3 && net_now_ms() - t0 < 2000)
		assert_int_equal(net_loop_run_once(loop, -1), 0);
	assert_int_equal(n_order, 3);
	assert_int_equal(order[0], 1);
	assert_int_equal(order[1], 2);
	assert_int_equal(order[2], 3);
	assert_true(net_now_ms() - t0 >= 30);
	net_loop_destroy(loop);
}

static void *stop_later(void *arg)
{
	struct timespec ts = {0, 50 * 1000 * 1000};
	nanosleep(&ts, NULL);
	net_loop_stop(arg);
	return NULL;
}

static void test_stop_from_another_thread(void **state)
{
	(void)state;
	struct net_loop *loop = net_loop_create();
	pthread_t t;
	uint64_t t0 = net_now_ms();
	pthread_create(&t, NULL, stop_later, loop);
	assert_int_equal(net_loop_run(loop), 0); /* nothing watched, no timer: only the stop ends it */
	pthread_join(t, NULL);
	assert_true(net_loop_stopping(loop));
	assert_true(net_now_ms() - t0 < 5000);
	net_loop_destroy(loop);
}

static void test_bad_watch(void **state)
{
	(void)state;
	struct net_loop *loop = net_loop_create();
	struct hit h = {.unwatch_fd = -1};
	assert_int_equal(net_loop_watch(loop, -1, NET_READ, on_io, &h), -1);
	assert_int_equal(net_loop_watch(loop, 0, 0, on_io, &h), -1);
	net_loop_unwatch(loop, -1);
	net_loop_unwatch(loop, 100000); /* never watched */
	net_loop_destroy(loop);
}

/* ---- net_loop_post: functions from other threads run on the loop's thread, in order ---- */

#define POSTS_PER_THREAD 2000
#define POSTING_THREADS 3

struct post_log {
	struct net_loop *loop;
	pthread_t loop_thread;
	int ran;
	int wrong_thread;
	int last_seen[POSTING_THREADS]; /* per poster: the last sequence number run, to check the order */
	int out_of_order;
	int reposts_left; /* a posted function posts again this many times */
};

struct post_item {
	struct post_log *log;
	int poster;
	int seq;
};

static void on_posted(void *ud)
{
	struct post_item *it = ud;
	struct post_log *log = it->log;
	if (!pthread_equal(pthread_self(), log->loop_thread))
		log->wrong_thread++;
	if (it->seq != log->last_seen[it->poster] + 1)
		log->out_of_order++;
	log->last_seen[it->poster] = it->seq;
	log->ran++;
	free(it);
	if (log->ran == POSTS_PER_THREAD * POSTING_THREADS)
		net_loop_stop(log->loop);
}

struct poster {
	struct post_log *log;
	int index;
};

static void *post_many(void *arg)
{
	struct poster *p = arg;
	for (int i = 1; i <= POSTS_PER_THREAD; i++) {
		struct post_item *it = malloc(sizeof(*it));
		*it = (struct post_item){.log = p->log, .poster = p->index, .seq = i};
		if (net_loop_post(p->log->loop, on_posted, it) < 0)
			free(it);
	}
	return NULL;
}

static void test_post_from_other_threads_runs_in_order_on_the_loop(void **state)
{
	(void)state;
	struct post_log log = {.loop = net_loop_create(), .loop_thread = pthread_self()};
	struct poster posters[POSTING_THREADS];
	pthread_t threads[POSTING_THREADS];
	for (int i = 0; i < POSTING_THREADS; i++) {
		posters[i] = (struct poster){.log = &log, .index = i};
		pthread_create(&threads[i], NULL, post_many, &posters[i]);
	}
	/* the loop waits with nothing watched and no timer: only the posts' wake-ups move it */
	assert_int_equal(net_loop_run(log.loop), 0);
	for (int i = 0; i < POSTING_THREADS; i++)
		pthread_join(threads[i], NULL);
	assert_int_equal(log.ran, POSTS_PER_THREAD * POSTING_THREADS);
	assert_int_equal(log.wrong_thread, 0);
	assert_int_equal(log.out_of_order, 0);
	net_loop_destroy(log.loop);
}

static void repost(void *ud)
{
	struct post_log *log = ud;
	log->ran++;
	if (log->reposts_left-- > 0)
		net_loop_post(log->loop, repost, log);
}

static void test_post_from_a_posted_function_waits_for_the_next_pass(void **state)
{
	(void)state;
	struct post_log log = {.loop = net_loop_create(), .reposts_left = 3};
	net_loop_post(log.loop, repost, &log);
	assert_int_equal(net_loop_run_once(log.loop, 1000), 0);
	assert_int_equal(log.ran, 1); /* the one it posted runs at the next pass, not in this one */
	assert_int_equal(net_loop_run_once(log.loop, 1000), 0);
	assert_int_equal(log.ran, 2);
	/* destroy runs what is left, including what those post in turn: nothing posted is lost */
	net_loop_destroy(log.loop);
	assert_int_equal(log.ran, 4);
	assert_int_equal(log.reposts_left, -1);
}

static void count_run(void *ud)
{
	(*(int *)ud)++;
}

static void test_post_wakes_a_waiting_loop(void **state)
{
	(void)state;
	struct net_loop *loop = net_loop_create();
	int ran = 0;
	net_loop_post(loop, count_run, &ran);
	uint64_t t0 = net_now_ms();
	assert_int_equal(net_loop_run_once(loop, 10000), 0); /* would wait 10 s without the wake-up */
	assert_int_equal(ran, 1);
	assert_true(net_now_ms() - t0 < 5000);
	net_loop_destroy(loop);
}

/* The slice a thread asked for, from /proc/thread-self/sched (Linux 6.12+ shows `se.slice`); -1 when not shown. */
static long long thread_slice_ns(void)
{
	FILE *f = fopen("/proc/thread-self/sched", "r");
	if (!f)
		return -1;
	char line[256];
	long long ns = -1;
	while (fgets(line, sizeof(line), f)) {
		const char *colon = strchr(line, ':');
		if (!strncmp(line, "se.slice", 8) && colon)
			ns = strtoll(colon + 1, NULL, 10);
	}
	fclose(f);
	return ns;
}

static void *prefer_latency_main(void *arg)
{
	long long *out = arg;
	out[0] = thread_slice_ns();
	out[1] = net_thread_prefer_latency();
	out[2] = thread_slice_ns();
	return NULL;
}

/* A recorder's thread asks for a short slice: where the kernel shows it, it is 0.1 ms after and the default before;
 * the other threads keep theirs. */
static void test_prefer_latency_shortens_the_slice_of_the_calling_thread_only(void **state)
{
	(void)state;
	long long r[3];
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, prefer_latency_main, r), 0);
	pthread_join(t, NULL);
	if (r[0] < 0) {
		fprintf(stderr, "this kernel shows no se.slice: only the call is checked (rc %lld)\n", r[1]);
		return;
	}
	fprintf(stderr, "slice before %lld ns, after %lld ns (rc %lld)\n", r[0], r[2], r[1]);
	assert_int_equal(r[1], 0);
	assert_int_equal(r[2], 100000);
	assert_int_not_equal(r[0], 100000);
	assert_int_equal(thread_slice_ns(), r[0]); /* this thread kept the default */
}

static void *prefer_throughput_main(void *arg)
{
	int *out = arg;
	out[0] = sched_getscheduler(0);
	out[1] = net_thread_prefer_throughput();
	out[2] = sched_getscheduler(0);
	return NULL;
}

/* The vendor-events thread runs as a batch thread (it never preempts another when it wakes); the other threads keep
 * their policy. */
static void test_prefer_throughput_makes_the_calling_thread_a_batch_thread_only(void **state)
{
	(void)state;
	int r[3];
	pthread_t t;
	int before = sched_getscheduler(0);
	assert_int_equal(pthread_create(&t, NULL, prefer_throughput_main, r), 0);
	pthread_join(t, NULL);
	assert_int_equal(r[0], SCHED_OTHER);
	assert_int_equal(r[1], 0);
	assert_int_equal(r[2], SCHED_BATCH);
	assert_int_equal(sched_getscheduler(0), before);
	assert_int_equal(before, SCHED_OTHER);
}

struct realtime_try {
	int priority;
	int rc, err;
	int policy_before, policy, rt_priority;
	int policy_left; /* after net_thread_leave_realtime */
};

static void *prefer_realtime_main(void *arg)
{
	struct realtime_try *t = arg;
	t->policy_before = sched_getscheduler(0);
	errno = 0;
	t->rc = net_thread_prefer_realtime(t->priority);
	t->err = errno;
	struct sched_param p;
	t->policy = sched_getscheduler(0);
	t->rt_priority = sched_getparam(0, &p) == 0 ? p.sched_priority : -1;
	t->policy_left = net_thread_leave_realtime() == 0 ? sched_getscheduler(0) : -1;
	return NULL;
}

static struct realtime_try try_realtime(int priority)
{
	struct realtime_try t = {.priority = priority};
	pthread_t th;
	if (pthread_create(&th, NULL, prefer_realtime_main, &t) != 0)
		t.rc = -2;
	else
		pthread_join(th, NULL);
	return t;
}

/* Without CAP_SYS_NICE in the effective set (a streamer's OBS): RLIMIT_RTPRIO alone decides. */
static bool drop_sys_nice(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) != 0)
		return false;
	d[CAP_SYS_NICE / 32].effective &= ~(1u << (CAP_SYS_NICE % 32));
	return syscall(SYS_capset, &h, d) == 0;
}

/* In a child process, so the limits and capabilities it changes stay there. Returns 0, or 1 (the failed check is
 * printed). */
static int realtime_as_a_user_gets_it(void)
{
#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c)) {                                                    \
			fprintf(stderr, "line %d failed: %s\n", __LINE__, #c); \
			return 1;                                              \
		}                                                              \
	} while (0)
	CHECK(drop_sys_nice());
	struct rlimit lim;
	CHECK(getrlimit(RLIMIT_RTPRIO, &lim) == 0);
	lim.rlim_cur = 0;
	if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < 2) {
		struct rlimit raised = {.rlim_cur = 0, .rlim_max = 2}; /* as root (CAP_SYS_RESOURCE) */
		if (setrlimit(RLIMIT_RTPRIO, &raised) == 0)
			lim = raised;
	}
	CHECK(setrlimit(RLIMIT_RTPRIO, &lim) == 0);
	struct realtime_try t = try_realtime(1); /* no rtprio: refused, the thread as it was */
	CHECK(t.rc == -1 && t.err == EPERM && t.policy == SCHED_OTHER && t.policy_before == SCHED_OTHER);
	if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < 2) {
		fprintf(stderr, "the hard RLIMIT_RTPRIO is %llu: the grant by rtprio is not checked\n",
			(unsigned long long)lim.rlim_max);
		return 0;
	}
	lim.rlim_cur = 1; /* limits.conf's `@audio - rtprio 1` */
	CHECK(setrlimit(RLIMIT_RTPRIO, &lim) == 0);
	t = try_realtime(1);
	CHECK(t.rc == 0 && t.policy == SCHED_FIFO && t.rt_priority == 1);
	t = try_realtime(2); /* above the limit */
	CHECK(t.rc == -1 && t.err == EPERM && t.policy == SCHED_OTHER);
	return 0;
#undef CHECK
}

/* A recorder or the events thread asks for realtime scheduling: where the system grants it (here: with
 * CAP_SYS_NICE, as root, or with an rtprio limit) the calling thread alone runs SCHED_FIFO at the priority asked;
 * where it does not, the call says so and changes nothing; a priority out of range is refused. */
static void test_prefer_realtime_is_granted_by_rtprio_or_cap_sys_nice_and_touches_the_calling_thread_only(void **state)
{
	(void)state;
	struct realtime_try t = try_realtime(0);
	assert_int_equal(t.rc, -1);
	assert_int_equal(t.err, EINVAL);
	t = try_realtime(100);
	assert_int_equal(t.rc, -1);
	assert_int_equal(t.err, EINVAL);
	assert_int_equal(t.policy, SCHED_OTHER);

	t = try_realtime(2);
	if (t.rc == 0) {
		assert_int_equal(t.policy, SCHED_FIFO);
		assert_int_equal(t.rt_priority, 2);
		assert_int_equal(t.policy_left, SCHED_OTHER); /* and back to normal scheduling */
	} else {
		fprintf(stderr, "realtime not granted to this test (errno %d): checked as refused\n", t.err);
		assert_int_equal(t.err, EPERM);
		assert_int_equal(t.policy, SCHED_OTHER);
	}
	assert_int_equal(sched_getscheduler(0), SCHED_OTHER); /* the calling thread kept its policy */

	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(realtime_as_a_user_gets_it());
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_and_write_interest),
		cmocka_unit_test(test_only_ready_fds_are_dispatched),
		cmocka_unit_test(test_unwatch_during_dispatch),
		cmocka_unit_test(test_fd_reused_during_dispatch),
		cmocka_unit_test(test_closed_without_unwatch),
		cmocka_unit_test(test_timers),
		cmocka_unit_test(test_stop_from_another_thread),
		cmocka_unit_test(test_bad_watch),
		cmocka_unit_test(test_post_from_other_threads_runs_in_order_on_the_loop),
		cmocka_unit_test(test_post_from_a_posted_function_waits_for_the_next_pass),
		cmocka_unit_test(test_post_wakes_a_waiting_loop),
		cmocka_unit_test(test_prefer_latency_shortens_the_slice_of_the_calling_thread_only),
		cmocka_unit_test(test_prefer_throughput_makes_the_calling_thread_a_batch_thread_only),
		cmocka_unit_test(
			test_prefer_realtime_is_granted_by_rtprio_or_cap_sys_nice_and_touches_the_calling_thread_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
