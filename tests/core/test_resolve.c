/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Host-name resolution off the loop's thread (plugin/core/net/resolve.c), and what it is for: a console given by a
 * name whose lookup hangs must not stall the loop that runs every other source and relay.
 *
 * The system's getaddrinfo is interposed (defined below: the test binary's definition wins over libc's, and every
 * other name is passed on to the real one), so the core runs unchanged and the test sees which thread looks each
 * name up. Names under the reserved .test domain (RFC 6761) are the test's own and never reach a DNS server:
 *   N.order.test  answered at once with 127.0.N/256.N%256
 *   X.lo.test     answered at once with 127.0.0.1
 *   v6only.test   answered at once with ::1 only
 *   X.slow.test   answered with 127.0.0.1 after slow_ms (2 s by default): a lookup that hangs
 * The other names are real lookups that need no network: "localhost" (/etc/hosts), and "bad!name.invalid", which
 * glibc refuses without a query ('!' is not allowed in a host name; .invalid is reserved besides).
 * Built twice: as is, and with the whole core under ThreadSanitizer (test_resolve_tsan).
 */
#define _GNU_SOURCE /* dlsym's RTLD_NEXT, pthread_getname_np */
#include "engine.h"
#include "net/loop.h"
#include "net/resolve.h"
#include "net/sock.h"
#include "sim_console.h"
#include "sim_dolphin.h"
#include "source.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_threads.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <dlfcn.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 60000 /* generous: the machine is shared; each wait below ends by itself far sooner */
#define SLOW_MS_DEFAULT 2000

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* ---- the interposed getaddrinfo ---- */

typedef int (*getaddrinfo_fn)(const char *, const char *, const struct addrinfo *, struct addrinfo **);

static struct fake {
	pthread_mutex_t lock;
	getaddrinfo_fn real;
	int slow_ms;
	int slow_started, slow_finished; /* lookups of X.slow.test */
	uint64_t slow_started_ms, slow_finished_ms;
	int calls; /* of every name the test watches (.test names and "localhost") */
	char last_thread[16];
	char slow_thread[16];
} fake = {.lock = PTHREAD_MUTEX_INITIALIZER, .slow_ms = SLOW_MS_DEFAULT};

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);
	return n >= t && !strcmp(s + n - t, tail);
}

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res)
{
	pthread_mutex_lock(&fake.lock);
	if (!fake.real)
		fake.real = (getaddrinfo_fn)dlsym(RTLD_NEXT, "getaddrinfo");
	getaddrinfo_fn real = fake.real;
	pthread_mutex_unlock(&fake.lock);
	if (!real)
		return EAI_SYSTEM;
	if (!node || (!ends_with(node, ".test") && strcmp(node, "localhost")))
		return real(node, service, hints, res);
	char thread[16] = "?";
	pthread_getname_np(pthread_self(), thread, sizeof(thread));
	char numeric[64];
	bool slow = ends_with(node, ".slow.test");
	int slow_ms = 0;
	pthread_mutex_lock(&fake.lock);
	fake.calls++;
	snprintf(fake.last_thread, sizeof(fake.last_thread), "%s", thread);
	if (slow) {
		fake.slow_started++;
		fake.slow_started_ms = net_now_ms();
		snprintf(fake.slow_thread, sizeof(fake.slow_thread), "%s", thread);
		slow_ms = fake.slow_ms;
	}
	pthread_mutex_unlock(&fake.lock);
	unsigned n = 0;
	if (slow || ends_with(node, ".lo.test"))
		snprintf(numeric, sizeof(numeric), "127.0.0.1");
	else if (!strcmp(node, "v6only.test"))
		snprintf(numeric, sizeof(numeric), "::1");
	else if (ends_with(node, ".order.test") && sscanf(node, "%u.", &n) == 1 && n < 65536)
		snprintf(numeric, sizeof(numeric), "127.0.%u.%u", n / 256, n % 256);
	else if (!strcmp(node, "localhost"))
		snprintf(numeric, sizeof(numeric), "localhost");
	else
		return EAI_NONAME;
	if (slow_ms)
		sleep_ms(slow_ms);
	int rc = real(numeric, service, hints, res);
	if (slow) {
		pthread_mutex_lock(&fake.lock);
		fake.slow_finished++;
		fake.slow_finished_ms = net_now_ms();
		pthread_mutex_unlock(&fake.lock);
	}
	return rc;
}

static void fake_reset(int slow_ms)
{
	pthread_mutex_lock(&fake.lock);
	fake.slow_ms = slow_ms;
	fake.slow_started = fake.slow_finished = 0;
	fake.slow_started_ms = fake.slow_finished_ms = 0;
	fake.calls = 0;
	fake.last_thread[0] = fake.slow_thread[0] = 0;
	pthread_mutex_unlock(&fake.lock);
}

static int fake_get(const int *field)
{
	pthread_mutex_lock(&fake.lock);
	int v = *field;
	pthread_mutex_unlock(&fake.lock);
	return v;
}

/* ---- answers, as the loop's thread saw them ---- */

struct got {
	int calls;
	int order; /* the position of this answer among all answers of a test */
	bool had_addr;
	struct sockaddr_storage addr;
	char error[400];
	bool other_family_only;
	pthread_t thread;
};

static int answers_so_far;

static void on_answer(void *ud, const struct net_resolve_answer *a)
{
	struct got *g = ud;
	g->calls++;
	g->order = answers_so_far++;
	g->thread = pthread_self();
	g->had_addr = a->addr != NULL;
	g->other_family_only = a->other_family_only;
	if (a->addr) {
		assert_true(a->addr_len <= sizeof(g->addr));
		memcpy(&g->addr, a->addr, a->addr_len);
		assert_null(a->error);
	} else {
		assert_non_null(a->error);
		snprintf(g->error, sizeof(g->error), "%s", a->error);
	}
}

static void addr_name(const struct got *g, char *out, size_t size)
{
	net_sockaddr_name((const struct sockaddr *)&g->addr, out, size);
}

/* Runs the loop on this thread until every one of `gots` was answered. */
static void run_until_answered(struct net_loop *loop, struct got *gots, size_t n)
{
	uint64_t end = net_now_ms() + WAIT_MS;
	for (;;) {
		size_t done = 0;
		for (size_t i = 0; i < n; i++)
			done += gots[i].calls > 0;
		if (done == n)
			return;
		assert_true(net_now_ms() < end);
		assert_int_equal(net_loop_run_once(loop, 50), 0);
	}
}

/* ---- the resolver on a loop ---- */

static void test_numeric_answered_without_a_thread(void **state)
{
	(void)state;
	fake_reset(SLOW_MS_DEFAULT);
	answers_so_far = 0;
	struct net_loop *loop = net_loop_create();
	assert_non_null(loop);
	struct got g[4] = {{0}};
	assert_int_not_equal(net_loop_resolve(loop, "127.0.0.1", 51441, AF_UNSPEC, on_answer, &g[0]), 0);
	assert_int_not_equal(net_loop_resolve(loop, "::1", 53742, AF_UNSPEC, on_answer, &g[1]), 0);
	assert_int_not_equal(net_loop_resolve(loop, "::1", 1, AF_INET, on_answer, &g[2]), 0);
	assert_int_not_equal(net_loop_resolve(loop, "192.0.2.7", 2, AF_INET, on_answer, &g[3]), 0);
	/* never inside the call */
	for (int i = 0; i < 4; i++)
		assert_int_equal(g[i].calls, 0);
	run_until_answered(loop, g, 4);
	char name[64];
	assert_true(g[0].had_addr);
	addr_name(&g[0], name, sizeof(name));
	assert_string_equal(name, "127.0.0.1:51441");
	assert_true(g[1].had_addr);
	addr_name(&g[1], name, sizeof(name));
	assert_string_equal(name, "[::1]:53742");
	assert_false(g[2].had_addr);
	assert_true(g[2].other_family_only);
	assert_non_null(strstr(g[2].error, "::1 is an IPv6 address"));
	assert_true(g[3].had_addr);
	addr_name(&g[3], name, sizeof(name));
	assert_string_equal(name, "192.0.2.7:2");
	for (int i = 0; i < 4; i++) {
		assert_int_equal(g[i].calls, 1);
		assert_true(pthread_equal(g[i].thread, pthread_self()));
	}
	/* no lookup and no thread for any of them */
	assert_int_equal(tu_threads_named(NET_RESOLVE_THREAD_NAME), 0);
	assert_int_equal(fake_get(&fake.calls), 0);
	net_loop_destroy(loop);
}

static void test_names_resolved_by_the_worker(void **state)
{
	(void)state;
	fake_reset(SLOW_MS_DEFAULT);
	answers_so_far = 0;
	struct net_loop *loop = net_loop_create();
	assert_non_null(loop);
	struct got g[3] = {{0}};
	assert_int_not_equal(net_loop_resolve(loop, "localhost", 51441, AF_UNSPEC, on_answer, &g[0]), 0);
	assert_int_not_equal(net_loop_resolve(loop, "bad!name.invalid", 51441, AF_UNSPEC, on_answer, &g[1]), 0);
	assert_int_not_equal(net_loop_resolve(loop, "v6only.test", 51441, AF_INET, on_answer, &g[2]), 0);
	assert_int_equal(g[0].calls, 0);
	run_until_answered(loop, g, 3);
	/* localhost: a loopback address, by the worker */
	assert_true(g[0].had_addr);
	char name[64];
	addr_name(&g[0], name, sizeof(name));
	assert_true(!strcmp(name, "127.0.0.1:51441") || !strcmp(name, "[::1]:51441"));
	assert_int_equal(fake_get(&fake.calls), 2); /* localhost and v6only.test, looked up on the worker */
	pthread_mutex_lock(&fake.lock);
	assert_string_equal(fake.last_thread, NET_RESOLVE_THREAD_NAME);
	pthread_mutex_unlock(&fake.lock);
	/* a name the system cannot resolve: an error naming it */
	assert_false(g[1].had_addr);
	assert_false(g[1].other_family_only);
	assert_non_null(strstr(g[1].error, "cannot resolve bad!name.invalid: "));
	/* IPv6 only where IPv4 is asked */
	assert_false(g[2].had_addr);
	assert_true(g[2].other_family_only);
	assert_non_null(strstr(g[2].error, "cannot resolve v6only.test to an IPv4 address"));
	/* answers come on the loop's thread, in the order asked */
	for (int i = 0; i < 3; i++) {
		assert_true(pthread_equal(g[i].thread, pthread_self()));
		assert_int_equal(g[i].order, i);
	}
	/* the loop owns its one worker: there while it lives, joined by destroy */
	assert_int_equal(tu_threads_named(NET_RESOLVE_THREAD_NAME), 1);
	net_loop_destroy(loop);
	assert_int_equal(tu_threads_named_after_join(NET_RESOLVE_THREAD_NAME), 0);
}

static void test_many_requests_in_order(void **state)
{
	(void)state;
	enum { N = 300 };
	fake_reset(SLOW_MS_DEFAULT);
	answers_so_far = 0;
	struct net_loop *loop = net_loop_create();
	assert_non_null(loop);
	static struct got g[N], num[N];
	memset(g, 0, sizeof(g));
	memset(num, 0, sizeof(num));
	for (unsigned i = 0; i < N; i++) {
		char host[64];
		snprintf(host, sizeof(host), "%u.order.test", i);
		assert_int_not_equal(net_loop_resolve(loop, host, (uint16_t)(1000 + i), AF_UNSPEC, on_answer, &g[i]),
				     0);
	}
	run_until_answered(loop, g, N);
	for (unsigned i = 0; i < N; i++) {
		char want[64], name[64];
		snprintf(want, sizeof(want), "127.0.%u.%u:%u", i / 256, i % 256, 1000 + i);
		assert_int_equal(g[i].calls, 1);
		assert_true(g[i].had_addr);
		addr_name(&g[i], name, sizeof(name));
		assert_string_equal(name, want);
		assert_int_equal(g[i].order, (int)i);
	}
	/* numeric addresses, in order too */
	answers_so_far = 0;
	for (unsigned i = 0; i < N; i++) {
		char host[64];
		snprintf(host, sizeof(host), "10.0.%u.%u", i / 256, i % 256);
		assert_int_not_equal(net_loop_resolve(loop, host, 9, AF_INET, on_answer, &num[i]), 0);
	}
	run_until_answered(loop, num, N);
	for (unsigned i = 0; i < N; i++) {
		char want[64], name[64];
		snprintf(want, sizeof(want), "10.0.%u.%u:9", i / 256, i % 256);
		addr_name(&num[i], name, sizeof(name));
		assert_string_equal(name, want);
		assert_int_equal(num[i].order, (int)i);
	}
	net_loop_destroy(loop);
}

static void test_cancel_before_the_answer(void **state)
{
	(void)state;
	fake_reset(300);
	answers_so_far = 0;
	struct net_loop *loop = net_loop_create();
	assert_non_null(loop);
	struct got numeric = {0}, slow = {0}, queued = {0}, kept = {0};
	/* a numeric answer already posted */
	uint64_t a = net_loop_resolve(loop, "127.0.0.1", 1, AF_UNSPEC, on_answer, &numeric);
	/* a lookup in progress, and one queued behind it */
	uint64_t b = net_loop_resolve(loop, "cancel.slow.test", 1, AF_UNSPEC, on_answer, &slow);
	uint64_t c = net_loop_resolve(loop, "2.order.test", 1, AF_UNSPEC, on_answer, &queued);
	uint64_t d = net_loop_resolve(loop, "3.order.test", 1, AF_UNSPEC, on_answer, &kept);
	assert_true(a && b && c && d);
	uint64_t end = net_now_ms() + WAIT_MS;
	while (!fake_get(&fake.slow_started)) {
		assert_true(net_now_ms() < end);
		sleep_ms(5);
	}
	net_loop_resolve_cancel(loop, a);
	net_loop_resolve_cancel(loop, b);
	net_loop_resolve_cancel(loop, c);
	net_loop_resolve_cancel(loop, 0);      /* ignored */
	net_loop_resolve_cancel(loop, d + 99); /* unknown: ignored */
	/* the request asked after them is answered once the slow lookup is over, so theirs are too (in order) */
	run_until_answered(loop, &kept, 1);
	assert_true(kept.had_addr);
	assert_int_equal(fake_get(&fake.slow_finished), 1);
	assert_int_equal(numeric.calls, 0);
	assert_int_equal(slow.calls, 0);
	assert_int_equal(queued.calls, 0);
	/* a cancelled request still queued is not looked up: the worker saw the slow name and 3.order.test only */
	assert_int_equal(fake_get(&fake.calls), 2);
	/* cancelling an id already answered does nothing */
	net_loop_resolve_cancel(loop, d);
	for (int i = 0; i < 5; i++)
		assert_int_equal(net_loop_run_once(loop, 10), 0);
	assert_int_equal(kept.calls, 1);
	net_loop_destroy(loop);
}

static void test_destroy_with_requests_pending(void **state)
{
	(void)state;
	fake_reset(300);
	answers_so_far = 0;
	struct net_loop *loop = net_loop_create();
	assert_non_null(loop);
	struct got g[6] = {{0}};
	assert_int_not_equal(net_loop_resolve(loop, "first.slow.test", 1, AF_UNSPEC, on_answer, &g[0]), 0);
	for (int i = 1; i < 5; i++)
		assert_int_not_equal(net_loop_resolve(loop, "more.slow.test", 1, AF_UNSPEC, on_answer, &g[i]), 0);
	assert_int_not_equal(net_loop_resolve(loop, "127.0.0.1", 1, AF_UNSPEC, on_answer, &g[5]), 0);
	uint64_t end = net_now_ms() + WAIT_MS;
	while (!fake_get(&fake.slow_started)) {
		assert_true(net_now_ms() < end);
		sleep_ms(5);
	}
	assert_int_equal(tu_threads_named(NET_RESOLVE_THREAD_NAME), 1);
	/* waits for the lookup in progress, drops the rest (LeakSanitizer checks nothing is left) */
	net_loop_destroy(loop);
	assert_int_equal(fake_get(&fake.slow_started), 1);
	assert_int_equal(fake_get(&fake.slow_finished), 1);
	for (int i = 0; i < 6; i++)
		assert_int_equal(g[i].calls, 0);
	assert_int_equal(tu_threads_named_after_join(NET_RESOLVE_THREAD_NAME), 0);
}

/* ---- a lookup that hangs does not stall the loop ---- */

struct ticker {
	struct net_loop *loop;
	int ticks;
	uint64_t last_ms, longest_gap_ms;
};

static void on_tick(void *ud)
{
	struct ticker *t = ud;
	uint64_t now = net_now_ms();
	if (t->ticks++ && now - t->last_ms > t->longest_gap_ms)
		t->longest_gap_ms = now - t->last_ms;
	t->last_ms = now;
	net_loop_timer(t->loop, 10, on_tick, t);
}

static void test_slow_lookup_does_not_stall_the_loop(void **state)
{
	(void)state;
	fake_reset(SLOW_MS_DEFAULT);
	answers_so_far = 0;
	struct net_loop *loop = net_loop_create();
	assert_non_null(loop);
	struct ticker t = {.loop = loop};
	net_loop_timer(loop, 10, on_tick, &t);
	struct got slow = {0}, numeric = {0};
	assert_int_not_equal(net_loop_resolve(loop, "hang.slow.test", 51441, AF_UNSPEC, on_answer, &slow), 0);
	/* a numeric address asked after the name does not wait for it */
	assert_int_not_equal(net_loop_resolve(loop, "127.0.0.1", 51441, AF_UNSPEC, on_answer, &numeric), 0);
	run_until_answered(loop, &numeric, 1);
	assert_int_equal(slow.calls, 0);
	int ticks_before = t.ticks;
	run_until_answered(loop, &slow, 1);
	assert_true(slow.had_addr);
	pthread_mutex_lock(&fake.lock);
	assert_string_equal(fake.slow_thread, NET_RESOLVE_THREAD_NAME);
	uint64_t lookup_ms = fake.slow_finished_ms - fake.slow_started_ms;
	pthread_mutex_unlock(&fake.lock);
	/* 2 s of lookup at a tick every 10 ms is about 200 ticks; a loop stalled by it would tick once */
	int ticks = t.ticks - ticks_before;
	fprintf(stderr, "lookup %llu ms: %d ticks of 10 ms meanwhile, the longest gap between two %llu ms\n",
		(unsigned long long)lookup_ms, ticks, (unsigned long long)t.longest_gap_ms);
	assert_true(lookup_ms >= SLOW_MS_DEFAULT);
	assert_true(ticks >= 40);
	assert_true(t.longest_gap_ms < SLOW_MS_DEFAULT / 2);
	net_loop_destroy(loop);
}

/* ---- sources given by name ---- */

struct source_seen {
	int states[4];
	char last_reason[512];
	char disconnected_reason[512];
	char waiting_reason[512];
};

static void on_source_state(void *ud, enum source_state st, const char *reason)
{
	struct source_seen *s = ud;
	s->states[st]++;
	snprintf(s->last_reason, sizeof(s->last_reason), "%s", reason);
	if (st == SOURCE_DISCONNECTED)
		snprintf(s->disconnected_reason, sizeof(s->disconnected_reason), "%s", reason);
	if (st == SOURCE_WAITING)
		snprintf(s->waiting_reason, sizeof(s->waiting_reason), "%s", reason);
}

static void run_until(struct net_loop *loop, const int *counter, int at_least)
{
	uint64_t end = net_now_ms() + WAIT_MS;
	while (*counter < at_least) {
		assert_true(net_now_ms() < end);
		assert_int_equal(net_loop_run_once(loop, 20), 0);
	}
}

static void test_console_source_by_name(void **state)
{
	(void)state;
	fake_reset(SLOW_MS_DEFAULT);
	struct net_loop *loop = net_loop_create();
	assert_non_null(loop);
	char err[256], url[128];
	/* a name that cannot be resolved: a failed attempt, with the reason, then the usual backoff */
	struct source_seen bad = {0};
	struct source_callbacks cb = {.state = on_source_state, .ud = &bad};
	struct source *src = source_create(loop, "console://bad!name.invalid?retry_ms=50", NULL, &cb, err, sizeof(err));
	assert_non_null(src);
	assert_int_equal(bad.states[SOURCE_CONNECTING], 0); /* nothing inside create */
	run_until(loop, &bad.states[SOURCE_WAITING], 2);
	assert_non_null(strstr(bad.disconnected_reason, "cannot resolve bad!name.invalid: "));
	assert_non_null(strstr(bad.waiting_reason, "reconnecting to bad!name.invalid:51441 in 100 ms"));
	assert_true(source_retry_at_ms(src) > 0);
	source_destroy(src);

	/* a name that resolves: the connect reaches the listener at the address it names */
	int lfd = net_tcp_listen("127.0.0.1", 0, 1, NULL, err, sizeof(err));
	assert_true(lfd >= 0);
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &sl), 0);
	uint16_t port = ntohs(sin.sin_port);
	struct source_seen ok = {0};
	cb.ud = &ok;
	snprintf(url, sizeof(url), "console://wii.lo.test:%u", port);
	src = source_create(loop, url, NULL, &cb, err, sizeof(err));
	assert_non_null(src);
	/* the connect reaches the listener: accept it */
	uint64_t end = net_now_ms() + WAIT_MS;
	int cfd = -1;
	while (cfd < 0) {
		assert_true(net_now_ms() < end);
		assert_int_equal(net_loop_run_once(loop, 20), 0);
		cfd = net_tcp_accept(lfd, NULL, 0);
	}
	assert_int_equal(ok.states[SOURCE_CONNECTING], 1);
	assert_int_equal(ok.states[SOURCE_WAITING], 0);
	net_close(cfd);
	net_close(lfd);

	/* destroyed while its lookup hangs: the answer is dropped */
	fake_reset(300);
	struct source_seen slow = {0};
	cb.ud = &slow;
	struct source *src2 = source_create(loop, "console://gone.slow.test", NULL, &cb, err, sizeof(err));
	assert_non_null(src2);
	end = net_now_ms() + WAIT_MS;
	while (!fake_get(&fake.slow_started)) {
		assert_true(net_now_ms() < end);
		assert_int_equal(net_loop_run_once(loop, 20), 0);
	}
	source_destroy(src2);
	while (!fake_get(&fake.slow_finished)) {
		assert_true(net_now_ms() < end);
		assert_int_equal(net_loop_run_once(loop, 20), 0);
	}
	for (int i = 0; i < 10; i++)
		assert_int_equal(net_loop_run_once(loop, 10), 0);
	assert_int_equal(slow.states[SOURCE_CONNECTING], 1);
	assert_int_equal(slow.states[SOURCE_WAITING] + slow.states[SOURCE_CONNECTED], 0);
	source_destroy(src);
	net_loop_destroy(loop);
}

static void test_dolphin_source_by_name(void **state)
{
	(void)state;
	fake_reset(SLOW_MS_DEFAULT);
	struct net_loop *loop = net_loop_create();
	assert_non_null(loop);
	char err[256], url[128], path[1024];
	snprintf(path, sizeof(path), "%s/v3.13.slp", ANDROSS_REPLAY_DIR);
	struct sim_replay r = {.path = path};
	struct sim_dolphin_options o;
	sim_dolphin_options_init(&o);
	o.replays = &r;
	o.n_replays = 1;
	o.loop = true;
	struct sim_dolphin *sim = sim_dolphin_create(loop, &o, NULL, err, sizeof(err));
	assert_non_null(sim);

	/* a name: resolved off the loop, then dialled */
	struct source_seen ok = {0};
	struct source_callbacks cb = {.state = on_source_state, .ud = &ok};
	snprintf(url, sizeof(url), "dolphin://dolphin.lo.test:%u", sim_dolphin_port(sim));
	struct source *src = source_create(loop, url, NULL, &cb, err, sizeof(err));
	assert_non_null(src);
	run_until(loop, &ok.states[SOURCE_CONNECTED], 1);
	assert_non_null(strstr(ok.last_reason, "Dolphin \"andross-sim\""));
	source_destroy(src);

	/* IPv6 only: ENet 1.3 cannot reach it, and the reason says so */
	struct source_seen v6 = {0};
	cb.ud = &v6;
	snprintf(url, sizeof(url), "dolphin://v6only.test:%u", sim_dolphin_port(sim));
	src = source_create(loop, url, NULL, &cb, err, sizeof(err));
	assert_non_null(src);
	run_until(loop, &v6.states[SOURCE_WAITING], 1);
	assert_non_null(strstr(v6.waiting_reason, "cannot resolve v6only.test to an IPv4 address"));
	assert_non_null(strstr(v6.waiting_reason, "ENet 1.3, which takes IPv4 only"));
	assert_int_equal(v6.states[SOURCE_CONNECTED], 0);
	source_destroy(src);
	sim_dolphin_destroy(sim);
	net_loop_destroy(loop);
}

/* ---- the engine: a console given by a name that hangs does not delay another session ---- */

struct sim_thread {
	struct net_loop *loop;
	pthread_t thread;
	struct sim_console *sim;
	uint16_t port;
	char err[256];
	atomic_bool ready;
};

static void sim_create_on_loop(void *ud)
{
	struct sim_thread *t = ud;
	char path[1024];
	snprintf(path, sizeof(path), "%s/v3.13.slp", ANDROSS_REPLAY_DIR);
	struct sim_replay r = {.path = path};
	struct sim_console_options o;
	sim_console_options_init(&o);
	o.replays = &r;
	o.n_replays = 1;
	o.speed = 1; /* real time: a frame every 16.7 ms, all through the test */
	o.loop = true;
	o.broadcast_host = NULL;
	t->sim = sim_console_create(t->loop, &o, NULL, t->err, sizeof(t->err));
	if (t->sim)
		t->port = sim_console_port(t->sim);
	atomic_store(&t->ready, true);
}

static void *sim_main(void *arg)
{
	struct sim_thread *t = arg;
	net_loop_run(t->loop);
	return NULL;
}

static void sim_destroy_on_loop(void *ud)
{
	struct sim_thread *t = ud;
	sim_console_destroy(t->sim);
	net_loop_stop(t->loop);
}

static struct engine_seen {
	pthread_mutex_t lock;
	uint32_t wii, named;
	int frames;                   /* frame events of the Wii's session */
	uint64_t frame_ms[4096];      /* when each came, while counting */
	char named_disconnected[512]; /* the last reason it disconnected */
} es = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void on_engine_event(void *ud, uint32_t id, const char *type, const char *json, size_t len)
{
	(void)ud;
	pthread_mutex_lock(&es.lock);
	if (id == es.wii && !strcmp(type, "frame")) {
		if (es.frames < (int)(sizeof(es.frame_ms) / sizeof(es.frame_ms[0])))
			es.frame_ms[es.frames] = net_now_ms();
		es.frames++;
	} else if (id == es.named && !strcmp(type, "connection")) {
		/* json is not NUL-terminated */
		char copy[512];
		size_t n = len < sizeof(copy) - 1 ? len : sizeof(copy) - 1;
		memcpy(copy, json, n);
		copy[n] = 0;
		if (strstr(copy, "\"disconnected\""))
			snprintf(es.named_disconnected, sizeof(es.named_disconnected), "%s", copy);
	}
	pthread_mutex_unlock(&es.lock);
}

static void test_engine_named_console_does_not_delay_another(void **state)
{
	(void)state;
	fake_reset(SLOW_MS_DEFAULT);
	struct sim_thread sim = {0};
	atomic_init(&sim.ready, false);
	sim.loop = net_loop_create();
	assert_non_null(sim.loop);
	net_loop_post(sim.loop, sim_create_on_loop, &sim);
	assert_int_equal(pthread_create(&sim.thread, NULL, sim_main, &sim), 0);
	while (!atomic_load(&sim.ready))
		sleep_ms(1);
	assert_non_null(sim.sim);

	char err[256];
	struct engine_options eo = {0};
	struct engine_callbacks cb = {.event = on_engine_event};
	struct engine *e = engine_create(&eo, &cb, err, sizeof(err));
	assert_non_null(e);
	assert_int_equal(engine_start(e, err, sizeof(err)), 0);

	/* the Wii at a numeric address, its frames counted */
	struct engine_session_options o;
	engine_session_options_init(&o);
	snprintf(o.name, sizeof(o.name), "wii");
	snprintf(o.url, sizeof(o.url), "console://127.0.0.1:%u", sim.port);
	o.frame_events = true;
	pthread_mutex_lock(&es.lock);
	es.frames = 0;
	pthread_mutex_unlock(&es.lock);
	uint32_t wii = engine_add(e, &o, err, sizeof(err));
	assert_int_not_equal(wii, 0);
	pthread_mutex_lock(&es.lock);
	es.wii = wii;
	pthread_mutex_unlock(&es.lock);
	uint64_t end = net_now_ms() + WAIT_MS;
	for (;;) {
		pthread_mutex_lock(&es.lock);
		int frames = es.frames;
		pthread_mutex_unlock(&es.lock);
		if (frames >= 30)
			break;
		assert_true(net_now_ms() < end);
		sleep_ms(10);
	}

	/* a second console, given by a name whose lookup hangs for 2 s (then 127.0.0.1, where nothing listens on
	 * port 1: refused) */
	engine_session_options_init(&o);
	snprintf(o.name, sizeof(o.name), "named");
	snprintf(o.url, sizeof(o.url), "console://wii2.slow.test:1?retry_ms=3000");
	uint32_t named = engine_add(e, &o, err, sizeof(err));
	assert_int_not_equal(named, 0);
	pthread_mutex_lock(&es.lock);
	es.named = named;
	pthread_mutex_unlock(&es.lock);
	while (!fake_get(&fake.slow_finished)) {
		assert_true(net_now_ms() < end);
		sleep_ms(10);
	}
	/* its attempt failed at the connect, with the name in the reason */
	for (;;) {
		pthread_mutex_lock(&es.lock);
		bool failed = es.named_disconnected[0] != 0;
		pthread_mutex_unlock(&es.lock);
		if (failed)
			break;
		assert_true(net_now_ms() < end);
		sleep_ms(10);
	}
	engine_remove(e, named);

	/* the Wii's frames kept coming while the lookup hung */
	pthread_mutex_lock(&fake.lock);
	uint64_t from = fake.slow_started_ms, to = fake.slow_finished_ms;
	char slow_thread[16];
	snprintf(slow_thread, sizeof(slow_thread), "%s", fake.slow_thread);
	pthread_mutex_unlock(&fake.lock);
	pthread_mutex_lock(&es.lock);
	int during = 0;
	uint64_t longest_gap = 0, prev = from;
	int max = (int)(sizeof(es.frame_ms) / sizeof(es.frame_ms[0]));
	int n = es.frames < max ? es.frames : max;
	for (int i = 0; i < n; i++) {
		if (es.frame_ms[i] < from || es.frame_ms[i] > to)
			continue;
		/* counted in the first half only: a stalled loop delivers the frames it missed in a burst at the end */
		during += es.frame_ms[i] < from + (to - from) / 2;
		if (es.frame_ms[i] - prev > longest_gap)
			longest_gap = es.frame_ms[i] - prev;
		prev = es.frame_ms[i];
	}
	if (to - prev > longest_gap)
		longest_gap = to - prev;
	char disconnected[512];
	snprintf(disconnected, sizeof(disconnected), "%s", es.named_disconnected);
	pthread_mutex_unlock(&es.lock);
	fprintf(stderr,
		"named console's lookup took %llu ms on thread \"%s\"; the Wii's session had %d frame events in "
		"its first half, and waited at most %llu ms for one\n",
		(unsigned long long)(to - from), slow_thread, during, (unsigned long long)longest_gap);
	/* 1 s at 60 frames a second is 60; a loop stalled by the lookup delivers none */
	assert_true(during >= 15);
	assert_true(longest_gap < SLOW_MS_DEFAULT / 2);
	assert_string_equal(slow_thread, NET_RESOLVE_THREAD_NAME);
	assert_non_null(strstr(disconnected, "cannot connect to wii2.slow.test:1"));

	engine_destroy(e);
	net_loop_post(sim.loop, sim_destroy_on_loop, &sim);
	pthread_join(sim.thread, NULL);
	net_loop_destroy(sim.loop);
	assert_int_equal(tu_threads_named_after_join(NET_RESOLVE_THREAD_NAME), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numeric_answered_without_a_thread),
		cmocka_unit_test(test_names_resolved_by_the_worker),
		cmocka_unit_test(test_many_requests_in_order),
		cmocka_unit_test(test_cancel_before_the_answer),
		cmocka_unit_test(test_destroy_with_requests_pending),
		cmocka_unit_test(test_slow_lookup_does_not_stall_the_loop),
		cmocka_unit_test(test_console_source_by_name),
		cmocka_unit_test(test_dolphin_source_by_name),
		cmocka_unit_test(test_engine_named_console_does_not_delay_another),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
