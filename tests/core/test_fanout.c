/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * net/fanout on real sockets: every job of every batch is sent exactly once and its result reported, whether the
 * batch is small (the caller alone) or large (the caller and the helper), batch after batch with the job array
 * moved between batches, and with failing sockets among the jobs.
 */
#include "net/fanout.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_threads.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { N_SOCKETS = 70, BATCHES = 3000 };

static void test_every_job_once(void **state)
{
	(void)state;
	int pairs[N_SOCKETS][2];
	for (int i = 0; i < N_SOCKETS; i++) {
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pairs[i]), 0);
		int big = 1 << 20;
		setsockopt(pairs[i][0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	}
	struct net_fanout *f = net_fanout_create();
	assert_non_null(f);
	uint32_t *expect = calloc(N_SOCKETS, sizeof(*expect)); /* next value each reader should see */
	uint32_t *values = calloc(N_SOCKETS, sizeof(*values));
	struct net_fanout_job *jobs = NULL;
	srand(7);
	for (int b = 0; b < BATCHES; b++) {
		/* sizes below, at and above NET_FANOUT_MIN_JOBS; a fresh array each time (as a realloc may give) */
		size_t n = (size_t)(rand() % N_SOCKETS) + 1;
		free(jobs);
		jobs = calloc(n, sizeof(*jobs));
		int first = rand() % N_SOCKETS;
		for (size_t k = 0; k < n; k++) {
			int s = (first + (int)k) % N_SOCKETS;
			values[s] = (uint32_t)b;
			jobs[k] = (struct net_fanout_job){.fd = pairs[s][0],
							  .data = (const uint8_t *)&values[s],
							  .len = sizeof(uint32_t),
							  .result = -2};
		}
		net_fanout_send(f, jobs, n);
		for (size_t k = 0; k < n; k++)
			assert_int_equal(jobs[k].result, sizeof(uint32_t));
		/* each socket that was in the batch holds exactly this batch's value */
		for (size_t k = 0; k < n; k++) {
			int s = (first + (int)k) % N_SOCKETS;
			uint32_t got[2];
			ssize_t r = recv(pairs[s][1], got, sizeof(got), MSG_DONTWAIT);
			assert_int_equal(r, sizeof(uint32_t));
			assert_int_equal(got[0], (uint32_t)b);
			expect[s]++;
		}
	}
	/* nothing sent twice */
	for (int i = 0; i < N_SOCKETS; i++) {
		uint32_t junk;
		assert_int_equal(recv(pairs[i][1], &junk, sizeof(junk), MSG_DONTWAIT), -1);
	}
	free(jobs);
	free(expect);
	free(values);
	net_fanout_destroy(f);
	for (int i = 0; i < N_SOCKETS; i++) {
		close(pairs[i][0]);
		close(pairs[i][1]);
	}
}

static void test_failures_are_reported(void **state)
{
	(void)state;
	enum { N = 40 };
	int pairs[N][2];
	struct net_fanout_job jobs[N];
	static const uint8_t msg[] = "frame";
	for (int i = 0; i < N; i++) {
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pairs[i]), 0);
		if (i % 3 == 0)
			close(pairs[i][1]); /* the peer is gone: the send fails */
		jobs[i] = (struct net_fanout_job){.fd = pairs[i][0], .data = msg, .len = sizeof(msg)};
	}
	struct net_fanout *f = net_fanout_create();
	net_fanout_send(f, jobs, N);
	for (int i = 0; i < N; i++) {
		if (i % 3 == 0)
			assert_int_equal(jobs[i].result, -1);
		else
			assert_int_equal(jobs[i].result, sizeof(msg));
	}
	net_fanout_destroy(f);
	/* without a helper (NULL), the same batch is made on the calling thread */
	for (int i = 0; i < N; i++)
		jobs[i].result = -2;
	net_fanout_send(NULL, jobs, N);
	for (int i = 0; i < N; i++)
		assert_int_equal(jobs[i].result, i % 3 == 0 ? -1 : (ssize_t)sizeof(msg));
	for (int i = 0; i < N; i++) {
		close(pairs[i][0]);
		if (i % 3)
			close(pairs[i][1]);
	}
}

static void test_helper_thread_is_named_and_joined(void **state)
{
	(void)state;
	struct net_fanout *f = net_fanout_create();
	assert_non_null(f);
	for (int i = 0; i < 200 && tu_threads_named("andross: fanout") == 0; i++)
		usleep(5000); /* the helper names itself when it starts */
	assert_int_equal(tu_threads_named("andross: fanout"), 1);
	net_fanout_destroy(f);
	assert_int_equal(tu_threads_named_after_join("andross: fanout"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_job_once),
		cmocka_unit_test(test_failures_are_reported),
		cmocka_unit_test(test_helper_thread_is_named_and_joined),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
